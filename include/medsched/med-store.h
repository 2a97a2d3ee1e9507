/* med-store.h — the store: schema migrations, the atomic booking, the
 * hash-chained audit log, over one of two databases chosen by the URL
 * (SQLite, the embedded default; PostgreSQL for many nodes). The only
 * module that includes sqlite3.h or libpq-fe.h; no database type or code
 * leaves it (errors are MED_STORE_ERROR_*).
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
  MED_STORE_ERROR_STALE, /* a reply older than what the store knows */
  MED_STORE_ERROR_UNAVAILABLE, /* the database could not be reached, or the
                                * connection went before COMMIT: nothing
                                * was written (safe to try again) */
  MED_STORE_ERROR_UNCERTAIN, /* the connection went during COMMIT: the
                              * change may or may not have been written */
} MedStoreError;

typedef struct _MedStore MedStore;

/* Opens (creating if missing) and migrates the store named by url, with
 * the driver the URL names:
 *   postgresql://… or postgres://…  a PostgreSQL database (libpq's URI,
 *       hosts may be a list: host1:5432,host2:5432; unless the URL says
 *       otherwise, target_session_attrs=read-write finds the primary);
 *   sqlite:FILE or FILE              a SQLite file (the embedded default).
 * A file written by a newer medsched fails with MED_STORE_ERROR_TOO_NEW;
 * a SQLite file that has tables but is not ours fails with
 * MED_STORE_ERROR_FOREIGN (a PostgreSQL database with tables but no
 * medsched schema too); a file that is not SQLite fails with
 * MED_STORE_ERROR_OPEN or _CORRUPT; a database that cannot be reached with
 * MED_STORE_ERROR_UNAVAILABLE. SQLite: WAL, foreign keys on,
 * synchronous=FULL. A MedStore is used by one thread at a time: each
 * thread (or process) opens its own; the database serialises their
 * writes. (transfer full) */
MedStore *med_store_open (const char *url, GError **error);
/* Opens without creating or migrating (fails if the file or the schema is
 * missing). */
MedStore *med_store_open_existing (const char *url, GError **error);
/* TRUE when url names a SQLite file (a path or sqlite:FILE), FALSE for a
 * PostgreSQL URL. */
gboolean med_store_url_is_file (const char *url);
/* "sqlite" or "postgresql". (transfer none) */
const char *med_store_kind (MedStore *store);
void med_store_close (MedStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedStore, med_store_close)

/* A fixed clock for the store's own timestamps (audit at, created/updated,
 * status_at, settled_at): tests and replays pass an instant, 0 goes back
 * to the real clock. */
void med_store_set_now (MedStore *store, MedTime now);

/* Schema version this build writes. */
gint med_store_schema_version (void);

/* Explicit transactions spanning several calls (one CLI command = one
 * transaction). begin opens a writing transaction (SQLite: BEGIN
 * IMMEDIATE; PostgreSQL: BEGIN and the writers' lock). Calls inside join
 * it. A commit that fails with MED_STORE_ERROR_UNCERTAIN lost the
 * connection while committing: the change may be in the database. */
gboolean med_store_begin (MedStore *store, GError **error);
gboolean med_store_commit (MedStore *store, GError **error);
void med_store_rollback (MedStore *store);

/* One transaction around func: begin, func, commit. When the connection
 * to the database goes before COMMIT (MED_STORE_ERROR_UNAVAILABLE:
 * nothing was written) it runs once more on a fresh connection (after a
 * failover, the new primary); func must do nothing but store calls, so
 * that running it again is safe. A loss during COMMIT
 * (MED_STORE_ERROR_UNCERTAIN) is never retried: the caller says so. */
typedef gboolean (*MedStoreTxnFunc) (MedStore *store, gpointer data,
    GError **error);
gboolean med_store_run (MedStore *store, MedStoreTxnFunc func, gpointer data,
    GError **error);

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
/* Each mediator's confirmed bookings among those med_store_load_snapshot
 * would read for [from, to), leaving out exclude_booking_id (0 = none): the
 * load a windowed search hands the scheduler (MedSnapshot.mediator_load).
 * (transfer full) array of MedMediatorLoad */
GArray *med_store_mediator_load (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, gint64 exclude_booking_id, GError **error);

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

/* The chain's head kept outside the table (with each backup, in serve's
 * log once a day): the chain checks every row against the one before it,
 * so it cannot see its newest rows deleted; an anchor can. Written
 * "ID:HASH" (the last row's id and hash; "0:" and 64 zeros for an empty
 * log). */
typedef struct
{
  gint64 id;
  char hash[65]; /* lowercase hex, NUL-terminated */
} MedAuditAnchor;

/* The last row's id and hash. */
gboolean med_store_audit_head (MedStore *store, MedAuditAnchor *anchor,
    GError **error);
/* "ID:HASH". (transfer full) */
char *med_audit_anchor_to_string (const MedAuditAnchor *anchor);
/* Reads "ID:HASH", or the text of an anchor file (the same on one line;
 * blank lines and lines starting with '#' are skipped). On bad text
 * MED_STORE_ERROR_INVALID. */
gboolean med_audit_anchor_parse (const char *text, MedAuditAnchor *anchor,
    GError **error);
/* An anchor file's text: comment lines saying what it is, then ID:HASH.
 * (transfer full) */
char *med_audit_anchor_file_text (const MedAuditAnchor *anchor,
    const char *what);
/* med_store_audit_verify, then the anchor: the log must still hold row
 * anchor->id with that hash. Rows removed from the end (the log ends
 * before the anchor's row) or a rewritten row fail with
 * MED_STORE_ERROR_AUDIT saying which. */
gboolean med_store_audit_verify_anchor (MedStore *store,
    const MedAuditAnchor *anchor, gint64 *n_rows, GError **error);

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

/* ---- backups (med-store-backup.c) -------------------------------------- */

/* Copies the store to dest with SQLite's online backup API: one consistent
 * snapshot taken in a read transaction (other processes keep writing),
 * written beside dest, checked with PRAGMA integrity_check, self-contained
 * (rollback journal, no -wal), fsynced, then linked into place: dest is
 * whole or absent. dest must not exist (INVALID). Writes dest.anchor (the
 * copy's audit head, med_audit_anchor_file_text) and sets *anchor (may be
 * NULL). */
gboolean med_store_backup (MedStore *store, const char *dest,
    MedAuditAnchor *anchor, GError **error);
/* med_store_backup to dir/STEM-YYYYMMDDTHHMMSSZ.db (STEM: the store
 * file's name without .db; now in UTC; -N added when taken), then removes
 * all but the newest keep backups of STEM in dir, with their anchors
 * (keep 0 = remove nothing; other files are never touched). *out_path
 * (transfer full), *anchor and *n_removed may be NULL. */
gboolean med_store_backup_to_dir (MedStore *store, const char *dir, MedTime now,
    guint keep, char **out_path, MedAuditAnchor *anchor, guint *n_removed,
    GError **error);

typedef struct
{
  gint64 audit_rows; /* rows of the restored audit log */
  gboolean anchored; /* checked against an anchor too */
  char *kept; /* the replaced database, kept beside it; NULL if none */
} MedStoreRestore;

/* Puts backup in target's place. The backup is copied beside target and
 * opened as a store (an older schema is migrated); unless the copy passes
 * PRAGMA integrity_check and the overlap check (med_store_check), the
 * audit chain and the anchor (anchor, or else backup.anchor when it
 * exists) nothing changes and the error says why (CORRUPT, CONFLICT,
 * AUDIT, …). An existing target must be a medsched store that nobody has
 * open (BUSY otherwise: stop serve first); it stays beside the new one as
 * target.replaced-YYYYMMDDTHHMMSSZ (now, UTC). The copy is fsynced and
 * renamed over target: the database is the old one or the restored one,
 * never half of each. *out (may be NULL) is filled on success; free
 * out->kept. */
gboolean med_store_restore (const char *backup, const char *target,
    const MedAuditAnchor *anchor, MedTime now, MedStoreRestore *out,
    GError **error);

/* ---- invites, feeds and their delivery (schema version 2) ----------------
 *
 * The store keeps what invites and feeds are made from and what happened
 * to them; it never builds iCalendar text itself (that is the ical
 * module's job, called by cli/http, which hand the finished messages to
 * med_store_outbox_add inside the same transaction as the booking change
 * they announce). */

/* Whose e-mail address or external busy time. */
typedef enum
{
  MED_STORE_PERSON_MEDIATOR,
  MED_STORE_PERSON_INTERPRETER,
} MedStorePerson;

/* True when s looks like one e-mail address (local@domain, no spaces, no
 * angle brackets or commas). A party's contact that passes is their
 * e-mail; anything else (a phone number) is not. */
gboolean med_store_is_email (const char *s);

/* Sets (or clears with "" / NULL) the e-mail address of a mediator or an
 * interpreter. Audited without the address. */
gboolean med_store_set_email (MedStore *store, MedStorePerson who, gint64 id,
    const char *email, const char *actor, GError **error);
/* "" when none. (transfer full) */
char *med_store_get_email (MedStore *store, MedStorePerson who, gint64 id,
    GError **error);

/* The centre's public base URL (https://host[/path], no trailing slash),
 * the root of the parties' join links. */
gboolean med_store_set_public_url (MedStore *store, gint64 centre_id,
    const char *url, const char *actor, GError **error);
/* (transfer full) */
char *med_store_get_public_url (MedStore *store, gint64 centre_id,
    GError **error);

/* What a booking has beyond MedBooking. */
typedef struct
{
  gint64 booking_id;
  MedTime created_at;
  char *note; /* "" when none */
} MedBookingExtra;

void med_booking_extra_free (MedBookingExtra *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedBookingExtra, med_booking_extra_free)

/* (transfer full) */
MedBookingExtra *med_store_get_booking_extra (MedStore *store,
    gint64 booking_id, GError **error);
/* A booking by its iCalendar UID. (transfer full) */
MedBooking *med_store_find_booking_uid (MedStore *store, const char *uid,
    GError **error);
/* A text-only edit: sets the note (multi-line, at most 4096 bytes) and
 * updated_at; SEQUENCE stays. A cancelled booking keeps its note. */
gboolean med_store_set_booking_note (MedStore *store, gint64 booking_id,
    const char *note, const char *actor, GError **error);

/* A party's join link capability for one booking: base64url of
 * HMAC-SHA256 (store secret, "join:" UID ":" party id), 22 characters
 * (132 bits). Derived, never stored: the same booking and party always
 * give the same token, another booking or party another one. The party
 * must belong to the booking's case. (transfer full) */
char *med_store_join_token (MedStore *store, gint64 booking_id, gint64 party_id,
    GError **error);
/* public_url + "/join/" + token. (transfer full) */
char *med_store_join_url (MedStore *store, gint64 booking_id, gint64 party_id,
    GError **error);
/* Finds which party of which confirmed booking overlapping [from, to)
 * holds token (compared in constant time). FALSE with NOT_FOUND when
 * none does. */
gboolean med_store_join_lookup (MedStore *store, const char *token,
    MedTime from, MedTime to, gint64 *booking_id, gint64 *party_id,
    GError **error);

/* Attendees' answers (iTIP REPLY). */
typedef struct
{
  char *booking_uid;
  char *email;
  char *partstat; /* "ACCEPTED", … */
  gint sequence;
  MedTime dtstamp;
  MedTime updated_at;
} MedAttendeeStatus;

void med_attendee_status_free (MedAttendeeStatus *s);

/* Records one attendee's PARTSTAT. Applied only when sequence equals the
 * booking's current SEQUENCE (an older one fails with
 * MED_STORE_ERROR_STALE, a newer one with INVALID: no such invite was
 * sent), the booking is confirmed, email (compared case-insensitively) is
 * the mediator's, the interpreter's or a party's of that booking, and no
 * later DTSTAMP is stored for the same SEQUENCE (else STALE). The audit
 * row names the attendee by kind and id, never by address. booking_id
 * (optional) gets the booking. */
gboolean med_store_apply_reply (MedStore *store, const char *uid,
    const char *email, const char *partstat, gint sequence, MedTime dtstamp,
    const char *actor, gint64 *booking_id, GError **error);
/* Answers to the booking's current SEQUENCE, by e-mail. (transfer full)
 * array of MedAttendeeStatus* */
GPtrArray *med_store_list_attendee_status (MedStore *store, gint64 booking_id,
    GError **error);

/* The iMIP outbox. A message is pending until the MTA takes it (sent),
 * it fails max_attempts times (failed), or a newer message for the same
 * booking and recipient replaces it before it went out (superseded).
 * Rows are never deleted. */
typedef enum
{
  MED_OUTBOX_PENDING,
  MED_OUTBOX_SENT,
  MED_OUTBOX_FAILED,
  MED_OUTBOX_SUPERSEDED,
  MED_OUTBOX_STATE_N
} MedOutboxState;

const char *med_outbox_state_to_string (MedOutboxState s);

typedef struct
{
  gint64 id;
  gint64 booking_id;
  char *recipient_name;
  char *recipient_addr;
  char *method; /* "REQUEST" or "CANCEL" */
  gint sequence;
  char *subject;
  char *message; /* the whole RFC 5322 message; NULL in listings */
  MedOutboxState state;
  MedTime created_at;
  gint attempts;
  MedTime next_attempt_at;
  MedTime sent_at; /* 0 until sent */
  char *last_error; /* "" when none */
} MedOutboxMessage;

void med_outbox_message_free (MedOutboxMessage *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedOutboxMessage, med_outbox_message_free)

/* Queues one message (booking_id, recipient_name/addr, method, sequence,
 * subject, message are read), due now. Older pending messages for the
 * same booking and recipient become superseded. Join the booking change's
 * transaction (med_store_begin) so both commit or neither. Returns the id
 * or 0. */
gint64 med_store_outbox_add (MedStore *store, const MedOutboxMessage *m,
    const char *actor, GError **error);
/* Messages, newest last; pending_only leaves the others out. The message
 * text is not loaded. (transfer full) */
GPtrArray *med_store_outbox_list (MedStore *store, gboolean pending_only,
    GError **error);
/* Takes the next pending message due at now (next_attempt_at <= now,
 * oldest first) and leases it: its next attempt moves to now + lease, so
 * a second flusher does not take it too, and a flusher killed while
 * sending retries it after the lease. NULL without error when nothing is
 * due. The message text is loaded. (transfer full) */
MedOutboxMessage *med_store_outbox_claim (MedStore *store, MedTime now,
    gint lease_seconds, GError **error);
/* The MTA accepted it: state sent, sent_at now, and a ledger row with the
 * SHA-256 of the message text. */
gboolean med_store_outbox_mark_sent (MedStore *store, gint64 id, MedTime now,
    const char *actor, GError **error);
/* An attempt failed: attempts + 1, last_error, and the next attempt after
 * med_store_outbox_backoff (attempts); with attempts reaching max_attempts
 * the message is failed (kept, not retried). */
gboolean med_store_outbox_mark_failed (MedStore *store, gint64 id, MedTime now,
    const char *why, gint max_attempts, const char *actor, GError **error);
/* Gives a claimed message back unsent, due at now, without counting an
 * attempt (a delivery stopped before the MTA answered). lease_end is the
 * next_attempt_at the claim returned: a message leased again since then is
 * left alone. */
gboolean med_store_outbox_release (MedStore *store, gint64 id,
    MedTime lease_end, MedTime now, GError **error);
/* When the next pending message is due (its next_attempt_at, leases
 * included): TRUE with *when set, or TRUE with *when 0 when nothing is
 * pending. Reads only. */
gboolean med_store_outbox_next_due (MedStore *store, MedTime *when,
    GError **error);
/* Puts a failed message back in the queue, due now, attempts reset. */
gboolean med_store_outbox_retry (MedStore *store, gint64 id, MedTime now,
    const char *actor, GError **error);
/* Seconds to wait after the n-th failed attempt (n >= 1): 1 min, 5 min,
 * 30 min, 2 h, then 6 h. */
gint med_store_outbox_backoff (gint attempts);

typedef struct
{
  gint64 id;
  gint64 outbox_id;
  char *recipient_addr;
  char *method;
  gint sequence;
  char *sha256; /* lowercase hex of the message text */
  MedTime sent_at;
} MedLedgerEntry;

void med_ledger_entry_free (MedLedgerEntry *e);
/* The ledger, oldest first. (transfer full) */
GPtrArray *med_store_outbox_ledger (MedStore *store, GError **error);

/* Busy time of a mediator or interpreter from an external calendar, as
 * MedInterval. Replaces every interval of the same person and source in
 * one transaction (at most MED_STORE_MAX_EXTERNAL_BUSY). */
#define MED_STORE_MAX_EXTERNAL_BUSY 20000
gboolean med_store_replace_external_busy (MedStore *store, MedStorePerson who,
    gint64 id, const char *source, GArray *busy, const char *actor,
    GError **error);
/* Intervals overlapping [from, to) (0 = unbounded), by start. (transfer
 * full) array of MedInterval */
GArray *med_store_list_external_busy (MedStore *store, MedStorePerson who,
    gint64 id, MedTime from, MedTime to, GError **error);

/* ---- users, tokens, sessions, capability links (med-store-auth.c) ------
 *
 * Who may use the HTTP server. The store never sees a secret: tokens,
 * session ids and feed links are passed as the lowercase hex SHA-256 of
 * the secret (64 characters), passwords as their PBKDF2 string. Lookups
 * by hash fail with MED_STORE_ERROR_NOT_FOUND whether the entry is
 * missing, revoked or expired. */

typedef enum
{
  MED_ROLE_ADMIN,
  MED_ROLE_CLERK,
  MED_ROLE_MEDIATOR, /* sees and changes only their own cases' sessions */
  MED_ROLE_N
} MedRole;

const char *med_role_to_string (MedRole r);
gboolean med_role_from_string (const char *s, MedRole *out, GError **error);

typedef struct
{
  gint64 id;
  char *name; /* login name: 1–64 bytes, no spaces, ':', '/' or '\\' */
  MedRole role;
  gint64 mediator_id; /* > 0 exactly for MED_ROLE_MEDIATOR */
  char *password; /* "pbkdf2-sha256$ITER$SALT$HASH" (never a password) */
  gboolean disabled;
  MedTime created_at;
} MedUser;

void med_user_free (MedUser *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedUser, med_user_free)

gboolean med_store_check_user_name (const char *name, GError **error);
/* Adds a user (name unique: CONFLICT otherwise). Returns the id or 0. */
gint64 med_store_add_user (MedStore *store, const MedUser *u, const char *actor,
    GError **error);
/* (transfer full) */
MedUser *med_store_get_user (MedStore *store, gint64 id, GError **error);
MedUser *med_store_find_user (MedStore *store, const char *name,
    GError **error);
GPtrArray *med_store_list_users (MedStore *store, GError **error);
gboolean med_store_set_user_password (MedStore *store, gint64 user_id,
    const char *password, const char *actor, GError **error);

/* API bearer tokens. expires_at 0 = never. */
gint64 med_store_add_token (MedStore *store, gint64 user_id, const char *hash,
    MedTime expires_at, const char *actor, GError **error);
/* The (enabled) user holding a live token. (transfer full) */
MedUser *med_store_user_by_token (MedStore *store, const char *hash,
    MedTime now, GError **error);
gboolean med_store_revoke_tokens (MedStore *store, gint64 user_id,
    const char *actor, GError **error);

/* Web sessions with their CSRF synchroniser token (not audited; expired
 * sessions are purged when a new one is added). */
gboolean med_store_add_session (MedStore *store, const char *hash,
    gint64 user_id, const char *csrf, MedTime expires_at, GError **error);
/* (transfer full); *csrf (optional) gets the session's CSRF token. */
MedUser *med_store_session_user (MedStore *store, const char *hash, MedTime now,
    char **csrf, GError **error);
gboolean med_store_delete_session (MedStore *store, const char *hash,
    GError **error);

/* Calendar-feed capability links (/feeds/<token>.ics). */
typedef enum
{
  MED_FEED_LINK_ROOM,
  MED_FEED_LINK_MEDIATOR,
  MED_FEED_LINK_CASE,
  MED_FEED_LINK_CENTRE,
  MED_FEED_LINK_N
} MedFeedLinkKind;

const char *med_feed_link_kind_to_string (MedFeedLinkKind k);
gboolean med_feed_link_kind_from_string (const char *s, MedFeedLinkKind *out,
    GError **error);

typedef struct
{
  gint64 id;
  MedFeedLinkKind kind;
  gint64 ref_id; /* room, mediator, case or centre id */
  MedTime created_at;
  MedTime expires_at; /* 0 = never */
  MedTime revoked_at; /* 0 = live */
} MedFeedLink;

void med_feed_link_free (MedFeedLink *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedFeedLink, med_feed_link_free)

gint64 med_store_add_feed_link (MedStore *store, MedFeedLinkKind kind,
    gint64 ref_id, const char *hash, MedTime expires_at, const char *actor,
    GError **error);
/* A live link (missing, revoked, expired: NOT_FOUND alike). */
MedFeedLink *med_store_find_feed_link (MedStore *store, const char *hash,
    MedTime now, GError **error);
GPtrArray *med_store_list_feed_links (MedStore *store, GError **error);
gboolean med_store_revoke_feed_link (MedStore *store, gint64 id,
    const char *actor, GError **error);

/* Party join links (med_store_join_token) are derived, not stored;
 * revoking one records its booking and party. */
gboolean med_store_revoke_join (MedStore *store, gint64 booking_id,
    gint64 party_id, const char *actor, GError **error);
gboolean med_store_join_revoked (MedStore *store, gint64 booking_id,
    gint64 party_id);

/* How many bookings of the case name the mediator, cancelled ones only
 * with include_cancelled; -1 on error. A fact for the access rule
 * (med_service_may_access_case), not the rule. */
gint med_store_count_mediator_bookings (MedStore *store, gint64 mediator_id,
    gint64 case_id, gboolean include_cancelled, GError **error);

/* A number that changes whenever the store's data may have changed (a
 * commit by this connection or any other): the key of read caches.
 * SQLite: PRAGMA data_version and this connection's own changes.
 * PostgreSQL: every writing transaction sends NOTIFY medsched_data with
 * its COMMIT; the first call LISTENs, each call reads what has arrived
 * (without waiting) and the number grows by one per notification and per
 * reconnection (notifications may have been missed meanwhile). */
gint64 med_store_data_version (MedStore *store);
/* The socket notifications arrive on (PostgreSQL, once
 * med_store_data_version was called; it changes after a reconnection),
 * for a main loop that wants to learn of other nodes' commits as they
 * happen: when it is readable, call med_store_data_version. -1 for
 * SQLite. */
int med_store_notify_fd (MedStore *store);

/* ---- recordings of remote sessions (med-store-media.c) -------------------
 *
 * A recording row per recorded session, its segments, the parties'
 * consent, the interruption log and the retention per case kind. The media
 * module writes them from its main loop; nothing here holds personal data. */

typedef enum
{
  MED_RECORDING_IDLE,
  MED_RECORDING_RECORDING,
  MED_RECORDING_PAUSED,
  MED_RECORDING_STOPPED, /* ended without a seal (killed, recovered) */
  MED_RECORDING_FAILED,
  MED_RECORDING_SEALED,
  MED_RECORDING_PURGED,
} MedRecordingState;

typedef enum
{
  MED_RECORDING_REGIME_HEARING, /* records continuously */
  MED_RECORDING_REGIME_MEDIATION, /* only with every party's consent */
} MedRecordingRegime;

typedef enum
{
  MED_RECORDING_EVENT_START,
  MED_RECORDING_EVENT_PAUSE,
  MED_RECORDING_EVENT_RESUME,
  MED_RECORDING_EVENT_STOP,
  MED_RECORDING_EVENT_FAILURE,
  MED_RECORDING_EVENT_GAP,
} MedRecordingEvent;

const char *med_recording_state_to_string (MedRecordingState s);
const char *med_recording_regime_to_string (MedRecordingRegime r);
const char *med_recording_event_to_string (MedRecordingEvent e);
gboolean med_recording_regime_from_string (const char *s,
    MedRecordingRegime *out, GError **error);

typedef struct
{
  gint64 id;
  gint64 booking_id;
  MedRecordingRegime regime;
  MedRecordingState state;
  char *dir; /* absolute directory of the recording's files */
  char *manifest; /* "" until sealed */
  char *head_hash; /* "" until sealed */
  guint64 duration_ns;
  guint64 bytes; /* of the final file */
  gint64 pid; /* process recording it while recording/paused, else 0 */
  MedTime created_at;
  MedTime updated_at;
  char *failure; /* "" or why it failed */
} MedRecording;

void med_recording_free (MedRecording *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedRecording, med_recording_free)

typedef struct
{
  MedTime at;
  MedRecordingEvent kind;
  char *detail;
} MedRecordingLog;

void med_recording_log_free (MedRecordingLog *l);

/* A new recording of a booking in state idle. Returns the id or 0. */
gint64 med_store_add_recording (MedStore *store, gint64 booking_id,
    MedRecordingRegime regime, const char *dir, const char *actor,
    GError **error);
/* (transfer full) */
MedRecording *med_store_get_recording (MedStore *store, gint64 id,
    GError **error);
/* booking_id 0 = all; MedRecording*, by id. (transfer full) */
GPtrArray *med_store_list_recordings (MedStore *store, gint64 booking_id,
    GError **error);
/* failure NULL keeps the stored one. Audited. */
gboolean med_store_set_recording_state (MedStore *store, gint64 id,
    MedRecordingState state, const char *failure, gint64 pid, const char *actor,
    GError **error);
/* State sealed with the manifest's head hash (audited, so a truncated
 * manifest can be told apart), duration and final file size. */
gboolean med_store_seal_recording (MedStore *store, gint64 id,
    const char *manifest, const char *head_hash, guint64 duration_ns,
    guint64 bytes, const char *actor, GError **error);
gboolean med_store_add_recording_segment (MedStore *store, gint64 recording_id,
    guint idx, const char *file, const char *sha256, guint64 bytes,
    guint64 duration_ns, GError **error);
guint med_store_count_recording_segments (MedStore *store, gint64 recording_id,
    GError **error);
/* The interruption log (detail: states and explanations, no personal
 * data). list returns MedRecordingLog*, oldest first. */
gboolean med_store_log_recording (MedStore *store, gint64 recording_id,
    MedRecordingEvent kind, const char *detail, GError **error);
GPtrArray *med_store_list_recording_log (MedStore *store, gint64 recording_id,
    GError **error);
/* A party's answer to being recorded (the party must belong to the
 * booking's case). Audited with the party id. */
gboolean med_store_set_consent (MedStore *store, gint64 booking_id,
    gint64 party_id, gboolean given, const char *actor, GError **error);
/* *given: whether the party has given (and not withdrawn) its consent. */
gboolean med_store_get_consent (MedStore *store, gint64 booking_id,
    gint64 party_id, gboolean *given, GError **error);
/* *n_missing: parties of the booking's case without a given consent. */
gboolean med_store_consent_complete (MedStore *store, gint64 booking_id,
    guint *n_missing, GError **error);
/* Audits an access to a recording: what is "view", "export", "verify". */
gboolean med_store_recording_access (MedStore *store, gint64 recording_id,
    const char *what, const char *actor, GError **error);
/* Retention per case kind in days (defaults in the migration). */
gboolean med_store_set_retention (MedStore *store, MedCaseKind kind, gint days,
    const char *actor, GError **error);
/* Marks every ended recording past its case kind's retention purged
 * (audited), then deletes its files; rows stay. */
gboolean med_store_purge_recordings (MedStore *store, const char *actor,
    guint *n_purged, GError **error);

G_END_DECLS
