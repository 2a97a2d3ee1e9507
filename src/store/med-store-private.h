/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-private.h — what the store files share and nobody else sees:
 * the MedStore struct, the thin SQL driver the shared queries run on
 * (prepared statements with ?N parameters, bind, step, columns, the
 * statement cache), transactions (BEGIN, or a SAVEPOINT inside
 * med_store_begin), the one driver-error → MED_STORE_ERROR mapping, row
 * readers and the audit writer.
 *
 * Two drivers implement StoreDriver: SQLite (med-store-sqlite.c) and
 * PostgreSQL (med-store-pg.c). The queries of the aggregates (centre,
 * resources, cases, bookings, notices, outbox, auth, links, recordings,
 * audit) are written once in the SQL both accept; where the databases
 * differ (opening, schema and migrations, locking, the data version,
 * integrity checks) each driver has its own code, and the few statements
 * that must differ are given in both dialects (store_stmt_dialect).
 *
 * Only files under src/store include this header; only the two driver
 * files include sqlite3.h or libpq-fe.h (and med-store-backup.c, whose
 * online backup is SQLite's own). */
#pragma once

#include <medsched/med-store.h>

#include <med-store-write.h>

G_BEGIN_DECLS

/* Longest session the schema accepts (CHECK on booking) and longest room
 * block (session plus setup and cleanup). Overlap queries use the block
 * bound to turn "starts before my end" into a bounded index range. */
#define MED_STORE_MAX_SESSION_SECONDS (24 * 3600)
#define MED_STORE_MAX_BUFFER_MINUTES  240
#define MED_STORE_MAX_BLOCK_SECONDS   (2 * 24 * 3600)

/* Unbounded ends of a time range in queries: far enough for any session,
 * near enough that "bound - 48 h" stays inside a 64-bit integer
 * (PostgreSQL refuses an overflow where SQLite would round). */
#define STORE_TIME_MIN (-((gint64) 1 << 62))
#define STORE_TIME_MAX ((gint64) 1 << 62)

/* What went wrong in the driver, before it becomes a MedStoreError. */
typedef enum
{
  STORE_ERR_NONE,
  STORE_ERR_OTHER,
  STORE_ERR_BUSY, /* locked, a serialization failure, a deadlock */
  STORE_ERR_UNIQUE, /* a unique or primary key */
  STORE_ERR_REFUSED, /* a trigger or an exclusion constraint refused it */
  STORE_ERR_CONSTRAINT, /* check, not null, foreign key */
  STORE_ERR_NOTADB, /* not a database of this driver's kind */
  STORE_ERR_CANTOPEN,
  STORE_ERR_CORRUPT,
  STORE_ERR_LOST, /* the connection went before COMMIT: nothing written */
  STORE_ERR_UNCERTAIN, /* it went during COMMIT: written or not */
} StoreErrKind;

typedef struct _StoreDriver StoreDriver;

struct _MedStore
{
  const StoreDriver *drv;
  gpointer conn; /* the driver's connection (sqlite3 *, or its own) */
  char *path; /* file, or the URL without its password (for messages) */
  GHashTable *stmts; /* const char *sql (static) → StoreStmt* */
  gboolean in_txn; /* inside med_store_begin */
  gboolean writer; /* the open transaction holds the writers' lock */
  MedTime fixed_now; /* 0 = the real clock (see med_store_set_now) */
  StoreErrKind err_kind; /* the driver's last error */
  char *err_msg;
  /* med_store_data_version_in: the last answer, its epoch, and this
   * connection's writes (local_writes) when it was read */
  gint64 dv_value;
  guint64 dv_epoch;
  gint64 dv_writes;
};

/* A prepared statement of the cache; each driver extends it. */
typedef struct _StoreStmt StoreStmt;
struct _StoreStmt
{
  MedStore *store;
  const char *sql;
};

#define STORE_DONE  0
#define STORE_ROW   1
#define STORE_ERROR (-1)

/* Kind of a column value, for copying rows between stores. */
typedef enum
{
  STORE_COL_NULL,
  STORE_COL_INT,
  STORE_COL_TEXT,
} StoreColType;

/* A driver. Statements take ?1 … ?N parameters (the SQLite form; the
 * PostgreSQL driver rewrites them). Failures set store->err_kind and
 * err_msg; store_set_error turns them into a GError. */
struct _StoreDriver
{
  const char *name; /* "sqlite" or "postgresql" */
  StoreStmt *(*prepare) (MedStore *store, const char *sql);
  void (*finalize) (StoreStmt *st);
  void (*reset) (StoreStmt *st); /* and clear the bindings */
  void (*bind_int64) (StoreStmt *st, int i, gint64 v);
  void (*bind_text) (StoreStmt *st, int i, const char *s); /* copied */
  void (*bind_null) (StoreStmt *st, int i);
  int (*param_count) (StoreStmt *st);
  int (*step) (StoreStmt *st); /* STORE_ROW, STORE_DONE or STORE_ERROR */
  int (*column_count) (StoreStmt *st);
  StoreColType (*column_type) (StoreStmt *st, int col);
  gint64 (*column_int64) (StoreStmt *st, int col); /* NULL reads 0 */
  const char *(*column_str) (StoreStmt *st, int col); /* NULL for NULL */
  const char *(*column_name) (StoreStmt *st, int col);
  gint64 (*changes) (MedStore *store); /* rows of the last statement */
  gboolean (*in_txn) (MedStore *store);
  /* Runs SQL text without parameters (maybe several statements). */
  gboolean (*exec) (MedStore *store, const char *sql);
  /* Opens a transaction that writes: one writer at a time (SQLite: BEGIN
   * IMMEDIATE; PostgreSQL: BEGIN and the writers' lock, which also keeps
   * the audit chain whole). shared: no writers' lock where the driver
   * can do without (PostgreSQL's SKIP LOCKED outbox claim). */
  gboolean (*begin) (MedStore *store, gboolean shared);
  gboolean (*commit) (MedStore *store);
  void (*rollback) (MedStore *store);
  gint64 (*data_version) (MedStore *store);
  /* Grows with every row this connection wrote (committed or not). */
  gint64 (*local_writes) (MedStore *store);
  int (*notify_fd) (MedStore *store);
  /* The database's own integrity checks (med_store_check). */
  gboolean (*check) (MedStore *store, GError **error);
  void (*close) (MedStore *store);
};

extern const StoreDriver store_sqlite_driver;
extern const StoreDriver store_pg_driver;

/* Opens a store with a driver (med_store_open dispatches on the URL). */
MedStore *store_sqlite_open (const char *path, gboolean create, GError **error);
MedStore *store_pg_open (const char *url, gboolean create, GError **error);
/* The SQLite connection of a SQLite store, NULL for another driver
 * (backups use SQLite's backup API). (transfer none) */
struct sqlite3 *store_sqlite_handle (MedStore *store);

/* Records SQLite result code rc (or the connection's own last error) as
 * the store's driver error. */
void store_sqlite_record_error (MedStore *store, int rc);

/* A new MedStore for a driver, and freeing one (statements, connection). */
MedStore *store_new (const StoreDriver *drv, const char *path);

/* Records a driver error (message copied). */
void store_set_driver_error (MedStore *store, StoreErrKind kind,
    const char *message);

/* The autoptr cleanup resets the statement and clears its bindings; it
 * does not finalize it. */
void store_stmt_release (StoreStmt *stmt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStmt, store_stmt_release)

/* Returns the cached statement for sql (a string literal: it is the cache
 * key and must outlive the store), preparing it on first use. The
 * statement is ready to bind. (transfer none; release with the autoptr) */
StoreStmt *store_stmt (MedStore *store, const char *sql, GError **error);
/* The same for a statement that differs between the databases: sql_lite
 * for SQLite, sql_pg for PostgreSQL (both literals). */
StoreStmt *store_stmt_dialect (MedStore *store, const char *sql_lite,
    const char *sql_pg, GError **error);
/* TRUE for the PostgreSQL driver. */
gboolean store_is_pg (MedStore *store);

static inline void
store_bind_int64 (StoreStmt *st, int i, gint64 v)
{
  st->store->drv->bind_int64 (st, i, v);
}

static inline void
store_bind_int (StoreStmt *st, int i, gint v)
{
  st->store->drv->bind_int64 (st, i, v);
}

static inline void
store_bind_text (StoreStmt *st, int i, const char *s)
{
  st->store->drv->bind_text (st, i, s);
}

static inline void
store_bind_null (StoreStmt *st, int i)
{
  st->store->drv->bind_null (st, i);
}

static inline int
store_param_count (StoreStmt *st)
{
  return st->store->drv->param_count (st);
}

static inline int
store_step (StoreStmt *st)
{
  return st->store->drv->step (st);
}

static inline gint64
store_column_int64 (StoreStmt *st, int col)
{
  return st->store->drv->column_int64 (st, col);
}

static inline gint
store_column_int (StoreStmt *st, int col)
{
  return (gint) st->store->drv->column_int64 (st, col);
}

/* NULL for a NULL column. (transfer none: valid until the next step) */
static inline const char *
store_column_str (StoreStmt *st, int col)
{
  return st->store->drv->column_str (st, col);
}

static inline gboolean
store_column_null (StoreStmt *st, int col)
{
  return st->store->drv->column_type (st, col) == STORE_COL_NULL;
}

/* Rows changed by the last INSERT/UPDATE/DELETE. */
static inline gint64
store_changes (MedStore *store)
{
  return store->drv->changes (store);
}

/* Whether the driver's last error was of kind. */
static inline gboolean
store_error_is (MedStore *store, StoreErrKind kind)
{
  return store->err_kind == kind;
}

/* Sets error from the driver's last error, mapped once: BUSY → BUSY,
 * UNIQUE and REFUSED → CONFLICT, other constraints → INVALID, NOTADB and
 * CANTOPEN → OPEN, CORRUPT → CORRUPT, LOST → UNAVAILABLE, UNCERTAIN →
 * UNCERTAIN, anything else → FAILED. what says what was being done
 * ("adding room"). Driver messages carry table, column and constraint
 * names, never values. */
void store_set_error (MedStore *store, const char *what, GError **error);

/* Sets a MED_STORE_ERROR_CONFLICT with the message format and a copy of c
 * (med_store_error_get_conflict). */
void store_set_conflict (GError **error, const MedStoreConflict *c,
    const char *format, ...) G_GNUC_PRINTF (3, 4);

/* The first column of the first row of a one-row query (0 without a
 * row). */
gboolean store_query_int (MedStore *store, const char *sql, gint64 *out,
    GError **error);
/* TOO_NEW when a database's schema version is above the one this build
 * knows. */
gboolean store_check_not_newer (gint64 version, gint64 known, GError **error);
/* Removes a SQLite file and whatever SQLite may have left beside it. */
void store_remove_db_files (const char *path);

/* Steps a statement expected to finish (INSERT/UPDATE/DELETE). */
gboolean store_step_done (MedStore *store, StoreStmt *stmt, const char *what,
    GError **error);
/* Steps an INSERT … RETURNING id to its end: *id gets the new row's id,
 * or 0 when it inserted nothing (an INSERT … SELECT that matched no
 * row). */
gboolean store_step_id (MedStore *store, StoreStmt *stmt, const char *what,
    gint64 *id, GError **error);

/* Wraps a GError from another module (model, workcal) as
 * MED_STORE_ERROR_INVALID, keeping its message. Always returns FALSE. */
gboolean store_propagate_invalid (GError **error, GError *from);

/* Now, in UTC seconds. */
MedTime store_now (MedStore *store);

/* One unit of work: a writing transaction (the driver's begin) when none
 * is open, else a SAVEPOINT inside the open one (med_store_begin, or
 * another store call that uses a public function), so that a failed call
 * leaves nothing behind either way. */
typedef struct
{
  MedStore *store;
  gboolean savepoint;
  gboolean open;
} StoreTxn;

gboolean store_txn_begin (MedStore *store, StoreTxn *txn, GError **error);
/* The same without the writers' lock where the driver can do without (a
 * transaction that appends no audit row and takes its rows with its own
 * row locks). */
gboolean store_txn_begin_shared (MedStore *store, StoreTxn *txn,
    GError **error);
gboolean store_txn_commit (StoreTxn *txn, GError **error);
/* Rolls back if still open; safe to call after commit. */
void store_txn_end (StoreTxn *txn);

/* Text validation with MED_STORE_ERROR_INVALID. */
gboolean store_check_text (const char *s, gsize max_bytes, gboolean multiline,
    gboolean allow_empty, const char *field, GError **error);
gboolean store_check_actor (const char *actor, GError **error);

/* Column readers: NULL columns become "" for text. (transfer full) */
char *store_column_text (StoreStmt *stmt, int col);

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
    if (!parse (store_column_str (stmt, col), out, &enum_err_))                \
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
gboolean store_read_case (StoreStmt *st, MedCase **out, GError **error);
/* columns: id, case_id, name, role, language, attendance, contact */
gboolean store_read_party (StoreStmt *st, MedParty **out, GError **error);
gboolean store_check_party (const MedParty *p, guint index, GError **error);
/* Steps st to its end, reading a case from each row (STORE_CASE_COLUMNS);
 * what names the query in an error. (transfer full) */
GPtrArray *store_read_cases (MedStore *store, StoreStmt *st, const char *what,
    GError **error);

/* The centre of a feed link (capability row alias l): the centre of the
 * room, mediator or case it shows, or the centre itself. Derived, never
 * stored: a link always belongs where its subject does. */
#define STORE_FEED_LINK_CENTRE(l)                                              \
  "CASE " l ".kind WHEN 'room' THEN (SELECT centre_id FROM room WHERE id = " l \
  ".ref_id) WHEN 'mediator' THEN (SELECT centre_id FROM mediator WHERE "       \
  "id = " l ".ref_id) WHEN 'case' THEN (SELECT centre_id FROM mcase WHERE "    \
  "id = " l ".ref_id) ELSE " l ".ref_id END"

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

/* Appends one audit row in the current transaction, which must hold the
 * writers' lock (store_txn_begin, med_store_begin; not a shared one): the
 * previous row is then stable. detail is JSON or NULL. */
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
