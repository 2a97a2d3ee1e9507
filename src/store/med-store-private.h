/* med-store-private.h — what the three store files share and nobody else
 * sees: the MedStore struct, the prepared-statement cache, transactions
 * (BEGIN IMMEDIATE, or a SAVEPOINT inside med_store_begin), the one
 * SQLite → MED_STORE_ERROR mapping, row readers and the audit writer.
 *
 * Only files under src/store include this header (and through it
 * sqlite3.h). */
#pragma once

#include <sqlite3.h>

#include <medsched/med-store.h>

G_BEGIN_DECLS

/* Longest session the schema accepts (CHECK on booking) and longest room
 * block (session plus setup and cleanup). Overlap queries use the block
 * bound to turn "starts before my end" into a bounded index range. */
#define MED_STORE_MAX_SESSION_SECONDS (24 * 3600)
#define MED_STORE_MAX_BUFFER_MINUTES  240
#define MED_STORE_MAX_BLOCK_SECONDS   (2 * 24 * 3600)

struct _MedStore
{
  sqlite3 *db;
  char *path;
  GHashTable *stmts; /* const char *sql (static) → sqlite3_stmt* */
  gboolean in_txn; /* inside med_store_begin */
  MedTime fixed_now; /* 0 = the real clock (see med_store_set_now) */
};

/* A cached prepared statement borrowed from the store. The autoptr cleanup
 * resets it and clears its bindings; it does not finalize it. */
typedef sqlite3_stmt StoreStmt;
void store_stmt_release (StoreStmt *stmt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStmt, store_stmt_release)

/* Returns the cached statement for sql (a string literal: it is the cache
 * key and must outlive the store), preparing it on first use. The
 * statement is ready to bind. (transfer none; release with the autoptr) */
StoreStmt *store_stmt (MedStore *store, const char *sql, GError **error);

/* Sets error from the connection's last SQLite error, mapped once:
 * BUSY/LOCKED → BUSY, UNIQUE/PRIMARY KEY and trigger aborts → CONFLICT,
 * other constraints → INVALID, NOTADB/CANTOPEN → OPEN, CORRUPT → CORRUPT,
 * anything else → FAILED. what says what was being done ("adding room").
 * SQLite messages carry table and column names, never values. */
void store_set_error (MedStore *store, int rc, const char *what,
    GError **error);

/* Sets a MED_STORE_ERROR_CONFLICT with the message format and a copy of c
 * (med_store_error_get_conflict). */
void store_set_conflict (GError **error, const MedStoreConflict *c,
    const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Steps a statement expected to finish (INSERT/UPDATE/DELETE). */
gboolean store_step_done (MedStore *store, StoreStmt *stmt, const char *what,
    GError **error);

/* Wraps a GError from another module (model, workcal) as
 * MED_STORE_ERROR_INVALID, keeping its message. Always returns FALSE. */
gboolean store_propagate_invalid (GError **error, GError *from);

/* Now, in UTC seconds. */
MedTime store_now (MedStore *store);

/* One unit of work: BEGIN IMMEDIATE when no transaction is open, else a
 * SAVEPOINT inside the open one (med_store_begin, or another store call
 * that uses a public function), so that a failed call leaves nothing
 * behind either way. */
typedef struct
{
  MedStore *store;
  gboolean savepoint;
  gboolean open;
} StoreTxn;

gboolean store_txn_begin (MedStore *store, StoreTxn *txn, GError **error);
gboolean store_txn_commit (StoreTxn *txn, GError **error);
/* Rolls back if still open; safe to call after commit. */
void store_txn_end (StoreTxn *txn);

/* Text validation with MED_STORE_ERROR_INVALID. */
gboolean store_check_text (const char *s, gsize max_bytes, gboolean multiline,
    gboolean allow_empty, const char *field, GError **error);
gboolean store_check_actor (const char *actor, GError **error);

/* Column readers: NULL columns become "" for text. (transfer full) */
char *store_column_text (sqlite3_stmt *stmt, int col);

/* A text column that must hold one word of an enum: the schema's CHECK
 * guarantees it, so a bad word means a damaged file (CORRUPT). Always
 * returns FALSE. */
gboolean store_corrupt_enum (GError **error, GError *from);

/* Reads enum column col with parse (med_*_from_string) into out; returns
 * FALSE from the calling function when the word is unknown. */
#define STORE_READ_ENUM(parse, stmt, col, out, error)                          \
  G_STMT_START                                                                 \
  {                                                                            \
    GError *enum_err_ = NULL;                                                  \
    if (!parse ((const char *) sqlite3_column_text (stmt, col), out,           \
            &enum_err_))                                                       \
      return store_corrupt_enum (error, enum_err_);                            \
  }                                                                            \
  G_STMT_END

/* Cases and parties as rows (med-store.c), shared with med-store-party.c:
 * the columns of a case in the order store_read_case reads them, the
 * readers (FALSE on a damaged enum word) and the check of one party
 * (index names it in the message, from 0). */
#define STORE_CASE_COLUMNS                                                     \
  "id, centre_id, number, kind, status, department, intake_at, deadline, "     \
  "minors, urgent, duration_minutes, summary"
gboolean store_read_case (sqlite3_stmt *st, MedCase **out, GError **error);
/* columns: id, case_id, name, role, language, attendance, contact */
gboolean store_read_party (sqlite3_stmt *st, MedParty **out, GError **error);
gboolean store_check_party (const MedParty *p, guint index, GError **error);
/* Steps st to its end, reading a case from each row (STORE_CASE_COLUMNS);
 * what names the query in an error. (transfer full) */
GPtrArray *store_read_cases (MedStore *store, sqlite3_stmt *st,
    const char *what, GError **error);

/* Loads the case's status and centre; NOT_FOUND when missing. */
gboolean store_case_state (MedStore *store, gint64 case_id,
    MedCaseStatus *status, gint64 *centre_id, GError **error);
/* Writes a new case status (status_at, settled_at, department when not
 * NONE) and its "case.status" audit row. The transition must have been
 * checked by the caller. */
gboolean store_write_case_status (MedStore *store, gint64 case_id,
    MedCaseStatus from, MedCaseStatus to, MedDepartment department,
    const char *actor, GError **error);
/* The IANA zone of a centre. (transfer full) */
char *store_centre_zone (MedStore *store, gint64 centre_id, GError **error);

/* Small JSON objects for audit details: ids, states, times. Keys are
 * literals; string values are escaped. */
void store_detail_int (GString *json, const char *key, gint64 value);
void store_detail_str (GString *json, const char *key, const char *value);
/* Closes the object and returns it. (transfer full) */
char *store_detail_end (GString *json);

/* Appends one audit row in the current transaction (the caller holds the
 * write lock, so the previous row is stable). detail is JSON or NULL. */
gboolean store_audit_append (MedStore *store, const char *actor,
    const char *action, const char *entity, gint64 entity_id,
    const char *detail, GError **error);

/* Mediators of a centre with their leave overlapping [from, to)
 * (0 = unbounded). (transfer full) */
GPtrArray *store_list_mediators (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, GError **error);

/* Overlap scan used by med_store_check. */
gboolean store_check_overlaps (MedStore *store, GError **error);

/* Busy time imported from external calendars of the centre's mediators
 * and interpreters overlapping [from, to) (0 = unbounded), as MedBusy
 * (start, end, mediator_id or interpreter_id set), for the snapshot.
 * (transfer full) */
GArray *store_load_external_busy (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, GError **error);

G_END_DECLS
