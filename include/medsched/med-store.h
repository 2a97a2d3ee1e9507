/* med-store.h — the SQLite store: schema migrations, the atomic booking,
 * the hash-chained audit log. The only module that includes sqlite3.h; no
 * SQLite type or code leaves it (errors are MED_STORE_ERROR_*).
 *
 * Every public function that changes data runs in one transaction (or joins
 * the one opened with med_store_begin) and writes one audit row per change.
 * actor names who did it ("cli", "clerk:wang", …); it never holds personal
 * data of parties. */
#pragma once

#include <medsched/med-model.h>
#include <medsched/med-workcal.h>
#include <medsched/med-scheduler.h>

G_BEGIN_DECLS

#define MED_STORE_ERROR (med_store_error_quark ())
GQuark med_store_error_quark (void);

typedef enum
{
  MED_STORE_ERROR_FAILED, /* any other SQLite failure */
  MED_STORE_ERROR_OPEN, /* cannot open / not a database */
  MED_STORE_ERROR_CORRUPT, /* integrity check failed, malformed file */
  MED_STORE_ERROR_FOREIGN, /* a SQLite file that is not a medsched store */
  MED_STORE_ERROR_TOO_NEW, /* schema newer than this program knows */
  MED_STORE_ERROR_BUSY, /* database locked by another writer */
  MED_STORE_ERROR_NOT_FOUND,
  MED_STORE_ERROR_CONFLICT, /* booking overlap, duplicate number, … */
  MED_STORE_ERROR_INVALID, /* constraint or validation failure */
  MED_STORE_ERROR_AUDIT, /* audit chain broken */
} MedStoreError;

typedef struct _MedStore MedStore;

/* Opens (creating if missing) and migrates the store. A file written by a
 * newer medsched fails with MED_STORE_ERROR_TOO_NEW; a SQLite file that has
 * tables but is not ours fails with MED_STORE_ERROR_FOREIGN; a file that is
 * not SQLite fails with MED_STORE_ERROR_OPEN or _CORRUPT. WAL, foreign keys
 * on, synchronous=FULL. A MedStore is used by one thread at a time: each
 * thread (or process) opens its own; SQLite serialises their writes.
 * (transfer full) */
MedStore *med_store_open (const char *path, GError **error);
/* Opens without creating or migrating (fails if the file is missing). */
MedStore *med_store_open_existing (const char *path, GError **error);
void med_store_close (MedStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedStore, med_store_close)

/* A fixed clock for the store's own timestamps (audit at, created/updated,
 * status_at, settled_at): tests and replays pass an instant, 0 goes back
 * to the real clock. */
void med_store_set_now (MedStore *store, MedTime now);

/* Schema version this build writes. */
gint med_store_schema_version (void);

/* Explicit transactions spanning several calls (one CLI command = one
 * transaction). begin is BEGIN IMMEDIATE. Calls inside join it. */
gboolean med_store_begin (MedStore *store, GError **error);
gboolean med_store_commit (MedStore *store, GError **error);
void med_store_rollback (MedStore *store);

/* Centre. A new store has no centre; init adds one. */
gint64 med_store_add_centre (MedStore *store, const MedCentre *c,
    const char *actor, GError **error);
gboolean med_store_update_centre (MedStore *store, const MedCentre *c,
    const char *actor, GError **error);
/* (transfer full) */
MedCentre *med_store_get_centre (MedStore *store, gint64 id, GError **error);

/* Resources. add returns the new id (> 0) or 0 on error. list returns
 * (transfer full) arrays with free functions set, ordered by id. */
gint64 med_store_add_room (MedStore *store, const MedRoom *r, const char *actor,
    GError **error);
GPtrArray *med_store_list_rooms (MedStore *store, gint64 centre_id,
    GError **error);
/* m->leave, when set, is stored too. daily_cap must be 1–24. */
gint64 med_store_add_mediator (MedStore *store, const MedMediator *m,
    const char *actor, GError **error);
GPtrArray *med_store_list_mediators (MedStore *store, gint64 centre_id,
    GError **error);
MedMediator *med_store_get_mediator (MedStore *store, gint64 id,
    GError **error);
gboolean med_store_add_leave (MedStore *store, gint64 mediator_id,
    MedTime start, MedTime end, const char *actor, GError **error);
gint64 med_store_add_interpreter (MedStore *store, const MedInterpreter *i,
    const char *actor, GError **error);
GPtrArray *med_store_list_interpreters (MedStore *store, gint64 centre_id,
    GError **error);

/* Cases and parties. add_case validates and inserts the case and its
 * parties (MedParty*) together; status starts at intake unless the case
 * says otherwise and the path to it is valid. */
gint64 med_store_add_case (MedStore *store, const MedCase *c,
    GPtrArray *parties, const char *actor, GError **error);
MedCase *med_store_get_case (MedStore *store, gint64 id, GError **error);
MedCase *med_store_find_case (MedStore *store, const char *number,
    GError **error);
/* status < 0 means any; from/to filter on intake time when non-zero. */
GPtrArray *med_store_list_cases (MedStore *store, gint64 centre_id, gint status,
    GError **error);
GPtrArray *med_store_list_parties (MedStore *store, gint64 case_id,
    GError **error);
/* State change with the transition rules of the model; department is set
 * when moving to dispatched (must not be NONE then). */
gboolean med_store_set_case_status (MedStore *store, gint64 case_id,
    MedCaseStatus to, MedDepartment department, const char *actor,
    GError **error);

/* Bookings. book inserts atomically (BEGIN IMMEDIATE unless inside
 * med_store_begin): re-checks room (with setup/cleanup buffers), mediator,
 * interpreter, the case's other bookings and its parties' other bookings,
 * the mediator's leave and daily cap; then inserts, moves the case to
 * scheduled and audits. An overlap fails with MED_STORE_ERROR_CONFLICT
 * naming the resource. b->uid may be NULL (one is generated). Returns the
 * booking id or 0. */
gint64 med_store_book (MedStore *store, const MedBooking *b, const char *actor,
    GError **error);
/* Moves a booking (time, room, mediator, interpreter, mode): SEQUENCE + 1,
 * same UID, the same re-checks as book. to->room_id or to->mediator_id 0
 * keeps the current one; to->interpreter_id 0 means none. The case and the
 * UID of to are ignored. A cancelled booking cannot be moved. */
gboolean med_store_reschedule (MedStore *store, gint64 booking_id,
    const MedBooking *to, const char *actor, GError **error);
/* Cancels: status cancelled, SEQUENCE + 1; the case goes back to
 * dispatched if it has no other confirmed booking. */
gboolean med_store_cancel (MedStore *store, gint64 booking_id,
    const char *actor, GError **error);
MedBooking *med_store_get_booking (MedStore *store, gint64 id, GError **error);
/* Bookings overlapping [from, to) (0 = unbounded), by start then id;
 * include_cancelled adds cancelled ones. */
GPtrArray *med_store_list_bookings (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, gboolean include_cancelled, GError **error);
GPtrArray *med_store_list_case_bookings (MedStore *store, gint64 case_id,
    GError **error);

/* Everything the scheduler needs for a centre, bookings overlapping
 * [from, to). The returned snapshot owns its arrays and centre; the
 * workcal (notices of the centre's layers) is owned too.
 * (transfer full) */
typedef struct
{
  MedSnapshot snap;
  MedCentre *centre;
  MedWorkcal *workcal;
} MedStoreSnapshot;

MedStoreSnapshot *med_store_load_snapshot (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, GError **error);
void med_store_snapshot_free (MedStoreSnapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedStoreSnapshot, med_store_snapshot_free)

/* Other confirmed bookings of any party of case_id (matched by contact,
 * then by the case itself), as MedInterval, excluding exclude_booking_id.
 * (transfer full) */
GArray *med_store_party_busy (MedStore *store, gint64 case_id,
    gint64 exclude_booking_id, GError **error);

/* The mediator of the case's latest booking (confirmed or past), for
 * follow-up sessions; 0 when none. */
gint64 med_store_case_last_mediator (MedStore *store, gint64 case_id,
    GError **error);

/* Holiday notices. import replaces a notice with the same id. list returns
 * MedNotice* without days filled (days = empty array). */
gboolean med_store_import_notice (MedStore *store, const MedNotice *n,
    const char *actor, GError **error);
GPtrArray *med_store_list_notices (MedStore *store, GError **error);
/* A workcal holding every stored notice. (transfer full) */
MedWorkcal *med_store_load_workcal (MedStore *store, GError **error);

/* Imports a whole document in one transaction (rooms, mediators,
 * interpreters, cases with parties). Nothing is written on error.
 * Counts (optional) are set on success. */
gboolean med_store_import_doc (MedStore *store, gint64 centre_id,
    const MedImportDoc *doc, const char *actor, guint *n_rooms,
    guint *n_mediators, guint *n_interpreters, guint *n_cases, GError **error);

/* Audit log: verify recomputes the hash chain; on a mismatch fails with
 * MED_STORE_ERROR_AUDIT and sets *bad_id to the first bad row id. *n_rows
 * gets the number of rows checked. */
gboolean med_store_audit_verify (MedStore *store, gint64 *n_rows,
    gint64 *bad_id, GError **error);

typedef struct
{
  gint64 id;
  MedTime at;
  char *actor;
  char *action; /* "case.add", "booking.create", "case.status", … */
  char *entity; /* "case", "booking", … */
  gint64 entity_id;
  char *detail; /* JSON, ids and states only */
} MedAuditEntry;

void med_audit_entry_free (MedAuditEntry *e);
/* Audit rows for one entity (entity NULL = all), oldest first. */
GPtrArray *med_store_list_audit (MedStore *store, const char *entity,
    gint64 entity_id, GError **error);

/* Share of cases settled on their intake day (centre-local), for cases
 * taken at intake in [from, to). */
gboolean med_store_same_day_report (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, guint *n_cases, guint *n_settled,
    guint *n_same_day, GError **error);

/* Runs PRAGMA integrity_check and a full overlap scan; for tests and the
 * CLI "store check". */
gboolean med_store_check (MedStore *store, GError **error);

G_END_DECLS
