/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-pg.c — the PostgreSQL driver of the store (libpq): a province's
 * centres in one database, any number of medsched processes on it.
 *
 * Connecting: the URL is libpq's (postgresql://…, hosts may be a list);
 * unless it says otherwise, target_session_attrs=read-write picks the
 * primary among the hosts, so that after a failover a reconnection finds
 * the new one. Notices go to the debug log, never to stderr.
 *
 * Statements: the shared ?N queries become $N, are prepared on the server
 * on first use (again after a reconnection) and run with text parameters;
 * a result is read whole, then stepped through like SQLite's.
 *
 * Transactions and locks: READ COMMITTED. A writing transaction takes one
 * transaction-scoped advisory lock, the writers' lock, right after BEGIN:
 * writers follow each other as with SQLite's BEGIN IMMEDIATE, so the
 * booking's re-checks and its insert see the same database, and the audit
 * chain, appended under the same lock, never forks however many nodes
 * write. Readers never wait for it. The outbox claim runs without it and
 * takes its row with FOR UPDATE SKIP LOCKED. The schema's exclusion
 * constraints refuse an overlapping session whatever writes it.
 *
 * Connection loss: before a transaction (or a statement outside one) a
 * dead connection is reset; a read outside a transaction that loses its
 * connection is run once more on a fresh one. Inside a transaction the
 * loss fails the statement with STORE_ERR_LOST (nothing was written: the
 * server rolls back), during COMMIT with STORE_ERR_UNCERTAIN; med_store_run
 * retries the first once and never the second.
 *
 * Cache invalidation across nodes: every transaction that wrote raises
 * the data_version row and sends NOTIFY medsched_data with its COMMIT.
 * med_store_data_version reads the row (one small query: another node's
 * commit is seen as soon as it returned, which a notification does not
 * promise) and drains the notifications; med_store_notify_fd gives the
 * socket they arrive on, for a main loop that wants to hear of commits as
 * they happen. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <libpq-fe.h>
#include <string.h>

/* pg_advisory_xact_lock key of the writers' lock: "medsched". */
#define WRITERS_LOCK "7882825952909665636"
/* What a writing transaction does before its COMMIT. */
#define MARK_WRITTEN                                                           \
  "UPDATE data_version SET n = n + 1 WHERE id = 1; NOTIFY medsched_data"
/* How long a writer waits for the lock or a row before BUSY. */
#define LOCK_TIMEOUT "10s"

extern const char *const store_pg_migrations[];
extern const guint store_pg_n_migrations;

typedef struct
{
  PGconn *conn;
  guint generation; /* bumped by every (re)connection */
  guint next_name;
  gint64 changes;
  gint64 writes; /* rows written on this connection, ever */
  gboolean dirty; /* the open transaction wrote */
  gboolean listening;
} Pg;

#define PG(store) ((Pg *) (store)->conn)

typedef struct
{
  StoreStmt base;
  char *text; /* the SQL with $N */
  char name[16];
  int n_params;
  char **params;
  guint prepared_generation; /* 0: not prepared on this connection */
  gboolean writes;
  PGresult *res;
  int row;
} PgStmt;

#define PGST(stmt) ((PgStmt *) (stmt))

/* ---- errors ------------------------------------------------------------ */

static StoreErrKind
classify_state (const char *state)
{
  if (state == NULL)
    return STORE_ERR_LOST; /* no SQLSTATE: libpq lost the server */
  if (strcmp (state, "23505") == 0)
    return STORE_ERR_UNIQUE;
  if (strcmp (state, "23P01") == 0 || strcmp (state, "P0001") == 0)
    return STORE_ERR_REFUSED; /* exclusion constraint, our triggers */
  if (g_str_has_prefix (state, "23") || g_str_has_prefix (state, "22"))
    return STORE_ERR_CONSTRAINT;
  if (strcmp (state, "40001") == 0 || strcmp (state, "40P01") == 0
      || strcmp (state, "55P03") == 0 || strcmp (state, "57014") == 0)
    return STORE_ERR_BUSY;
  /* connection exceptions, shutdowns, a standby that refuses writes */
  if (g_str_has_prefix (state, "08") || strcmp (state, "57P01") == 0
      || strcmp (state, "57P02") == 0 || strcmp (state, "57P03") == 0
      || strcmp (state, "25006") == 0)
    return STORE_ERR_LOST;
  return STORE_ERR_OTHER;
}

/* The primary message only: PostgreSQL's DETAIL may quote row values. */
static void
record_result_error (MedStore *store, PGresult *res)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg
      = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  StoreErrKind kind = classify_state (state);
  g_autofree char *line = NULL;

  if (PQstatus (PG (store)->conn) == CONNECTION_BAD)
    kind = STORE_ERR_LOST;
  if (msg == NULL)
    msg = PQerrorMessage (PG (store)->conn);
  line = g_strstrip (g_strdup (msg ? msg : "unknown error"));
  store_set_driver_error (store, kind, line);
}

/* ---- the connection ---------------------------------------------------- */

static void
notice_received_cb (void *arg, const char *message)
{
  g_debug ("PostgreSQL: %s", message);
}

static gboolean
run_simple (MedStore *store, const char *sql)
{
  PGresult *res = PQexec (PG (store)->conn, sql);
  ExecStatusType st = PQresultStatus (res);
  gboolean ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

  if (!ok)
    record_result_error (store, res);
  PQclear (res);
  return ok;
}

/* Settings of every session. */
static gboolean
setup_session (MedStore *store)
{
  PQsetNoticeProcessor (PG (store)->conn, notice_received_cb, NULL);
  return run_simple (store,
      "SET client_min_messages = warning; "
      "SET lock_timeout = '" LOCK_TIMEOUT "'; "
      "SET default_transaction_isolation = 'read committed'");
}

/* A new connection after a lost one: statements are prepared again, the
 * LISTEN is repeated on demand, and the data version moves (whatever was
 * notified meanwhile is lost). */
static gboolean
reconnect (MedStore *store)
{
  Pg *pg = PG (store);

  PQreset (pg->conn);
  pg->generation++;
  pg->listening = FALSE;
  if (PQstatus (pg->conn) != CONNECTION_OK) {
    g_autofree char *msg = g_strstrip (g_strdup (PQerrorMessage (pg->conn)));

    store_set_driver_error (store, STORE_ERR_LOST, msg);
    return FALSE;
  }
  g_message ("reconnected to the database");
  return setup_session (store);
}

/* Before a transaction or a statement outside one: a connection that is
 * known to be dead is replaced (nothing is lost by it). */
static gboolean
ensure_connection (MedStore *store)
{
  if (PQstatus (PG (store)->conn) == CONNECTION_OK)
    return TRUE;
  return reconnect (store);
}

static gboolean
in_txn (MedStore *store)
{
  PGTransactionStatusType t = PQtransactionStatus (PG (store)->conn);

  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* ---- statements -------------------------------------------------------- */

/* ?N → $N, outside quoted text; *n_params gets the largest N. */
static char *
rewrite_params (const char *sql, int *n_params)
{
  GString *out = g_string_sized_new (strlen (sql) + 8);
  char quote = 0;

  *n_params = 0;
  for (const char *p = sql; *p; p++) {
    if (quote) {
      if (*p == quote)
        quote = 0;
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
    } else if (*p == '?' && g_ascii_isdigit (p[1])) {
      int n = (int) g_ascii_strtoll (p + 1, NULL, 10);

      *n_params = MAX (*n_params, n);
      g_string_append_c (out, '$');
      continue;
    }
    g_string_append_c (out, *p);
  }
  return g_string_free (out, FALSE);
}

static StoreStmt *
pg_prepare (MedStore *store, const char *sql)
{
  PgStmt *ps = g_new0 (PgStmt, 1);
  const char *s = sql;

  ps->base.store = store;
  ps->base.sql = sql;
  ps->text = rewrite_params (sql, &ps->n_params);
  g_snprintf (ps->name, sizeof ps->name, "m%u", ++PG (store)->next_name);
  ps->params = g_new0 (char *, ps->n_params + 1);
  while (g_ascii_isspace (*s))
    s++;
  ps->writes = g_ascii_strncasecmp (s, "SELECT", 6) != 0;
  ps->row = -1;
  return &ps->base;
}

static void
clear_params (PgStmt *ps)
{
  for (int i = 0; i < ps->n_params; i++)
    g_clear_pointer (&ps->params[i], g_free);
}

static void
pg_reset (StoreStmt *stmt)
{
  PgStmt *ps = PGST (stmt);

  g_clear_pointer (&ps->res, PQclear);
  ps->row = -1;
  clear_params (ps);
}

static void
pg_finalize (StoreStmt *stmt)
{
  PgStmt *ps = PGST (stmt);

  pg_reset (stmt);
  /* the server's statement goes with the connection */
  g_free (ps->params);
  g_free (ps->text);
  g_free (ps);
}

static void
set_param (StoreStmt *stmt, int i, char *value)
{
  PgStmt *ps = PGST (stmt);

  if (i < 1 || i > ps->n_params) {
    g_free (value);
    return;
  }
  g_free (ps->params[i - 1]);
  ps->params[i - 1] = value;
}

static void
pg_bind_int64 (StoreStmt *stmt, int i, gint64 v)
{
  set_param (stmt, i, g_strdup_printf ("%" G_GINT64_FORMAT, v));
}

static void
pg_bind_text (StoreStmt *stmt, int i, const char *s)
{
  set_param (stmt, i, g_strdup (s));
}

static void
pg_bind_null (StoreStmt *stmt, int i)
{
  set_param (stmt, i, NULL);
}

static int
pg_param_count (StoreStmt *stmt)
{
  return PGST (stmt)->n_params;
}

/* Prepares on this connection if not yet, then runs: the result or NULL
 * with the error recorded. */
static PGresult *
execute (PgStmt *ps)
{
  MedStore *store = ps->base.store;
  Pg *pg = PG (store);
  PGresult *res;
  ExecStatusType st;

  if (ps->prepared_generation != pg->generation) {
    res = PQprepare (pg->conn, ps->name, ps->text, ps->n_params, NULL);
    st = PQresultStatus (res);
    if (st != PGRES_COMMAND_OK) {
      record_result_error (store, res);
      PQclear (res);
      return NULL;
    }
    PQclear (res);
    ps->prepared_generation = pg->generation;
  }
  res = PQexecPrepared (pg->conn, ps->name, ps->n_params,
      (const char *const *) ps->params, NULL, NULL, 0);
  st = PQresultStatus (res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
    return res;
  record_result_error (store, res);
  PQclear (res);
  return NULL;
}

static int
pg_step (StoreStmt *stmt)
{
  PgStmt *ps = PGST (stmt);
  MedStore *store = stmt->store;
  Pg *pg = PG (store);

  if (ps->res == NULL) {
    gboolean outside = !in_txn (store);

    if (outside && !ensure_connection (store))
      return STORE_ERROR;
    ps->res = execute (ps);
    if (ps->res == NULL && outside && store->err_kind == STORE_ERR_LOST) {
      /* a read is run once more on a fresh connection; a write outside
       * a transaction may have committed before the connection went */
      if (ps->writes) {
        store->err_kind = STORE_ERR_UNCERTAIN;
        return STORE_ERROR;
      }
      if (reconnect (store))
        ps->res = execute (ps);
    }
    if (ps->res == NULL)
      return STORE_ERROR;
    pg->changes = g_ascii_strtoll (PQcmdTuples (ps->res), NULL, 10);
    if (ps->writes) {
      pg->writes += MAX (pg->changes, 1);
      if (!outside)
        pg->dirty = TRUE;
      else
        run_simple (store, MARK_WRITTEN);
    }
    ps->row = -1;
  }
  if (ps->row + 1 < PQntuples (ps->res)) {
    ps->row++;
    return STORE_ROW;
  }
  ps->row = PQntuples (ps->res);
  return STORE_DONE;
}

static gboolean
valid_cell (PgStmt *ps, int col)
{
  return ps->res != NULL && ps->row >= 0 && ps->row < PQntuples (ps->res)
      && col >= 0 && col < PQnfields (ps->res);
}

static int
pg_column_count (StoreStmt *stmt)
{
  return PGST (stmt)->res ? PQnfields (PGST (stmt)->res) : 0;
}

/* Type oids of pg_type.h: bool, int8, int2, int4. */
#define BOOLOID 16
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23

static StoreColType
pg_column_type (StoreStmt *stmt, int col)
{
  PgStmt *ps = PGST (stmt);
  Oid t;

  if (!valid_cell (ps, col) || PQgetisnull (ps->res, ps->row, col))
    return STORE_COL_NULL;
  t = PQftype (ps->res, col);
  if (t == INT8OID || t == INT4OID || t == INT2OID || t == BOOLOID)
    return STORE_COL_INT;
  return STORE_COL_TEXT;
}

static gint64
pg_column_int64 (StoreStmt *stmt, int col)
{
  PgStmt *ps = PGST (stmt);
  const char *v;

  if (!valid_cell (ps, col) || PQgetisnull (ps->res, ps->row, col))
    return 0;
  v = PQgetvalue (ps->res, ps->row, col);
  if (v[0] == 't' && v[1] == '\0')
    return 1;
  return g_ascii_strtoll (v, NULL, 10);
}

static const char *
pg_column_str (StoreStmt *stmt, int col)
{
  PgStmt *ps = PGST (stmt);

  if (!valid_cell (ps, col) || PQgetisnull (ps->res, ps->row, col))
    return NULL;
  return PQgetvalue (ps->res, ps->row, col);
}

static const char *
pg_column_name (StoreStmt *stmt, int col)
{
  PgStmt *ps = PGST (stmt);

  return ps->res && col < PQnfields (ps->res) ? PQfname (ps->res, col) : NULL;
}

static gint64
pg_changes (MedStore *store)
{
  return PG (store)->changes;
}

static gboolean
pg_in_txn (MedStore *store)
{
  return in_txn (store);
}

static gboolean
pg_exec (MedStore *store, const char *sql)
{
  if (!in_txn (store) && !ensure_connection (store))
    return FALSE;
  return run_simple (store, sql);
}

/* ---- transactions ------------------------------------------------------ */

static gboolean
pg_begin (MedStore *store, gboolean shared)
{
  const char *sql = shared ? "BEGIN"
                           : "BEGIN; SELECT pg_advisory_xact_lock(" WRITERS_LOCK
                             ")";

  if (!ensure_connection (store))
    return FALSE;
  PG (store)->dirty = FALSE;
  if (run_simple (store, sql))
    return TRUE;
  /* A connection that died while idle is only found out now; nothing was
   * done in it, so once more on a fresh one. */
  if (store->err_kind == STORE_ERR_LOST && !in_txn (store)
      && reconnect (store)) {
    PG (store)->dirty = FALSE;
    if (run_simple (store, sql))
      return TRUE;
  }
  if (in_txn (store))
    run_simple (store, "ROLLBACK");
  return FALSE;
}

static gboolean
pg_commit (MedStore *store)
{
  Pg *pg = PG (store);
  PGresult *res;
  gboolean ok;

  res = PQexec (pg->conn, pg->dirty ? MARK_WRITTEN "; COMMIT" : "COMMIT");
  ok = PQresultStatus (res) == PGRES_COMMAND_OK
      && g_strcmp0 (PQcmdStatus (res), "COMMIT") == 0;
  if (!ok) {
    if (PQresultStatus (res) == PGRES_COMMAND_OK) {
      /* COMMIT of a failed transaction answers ROLLBACK */
      store_set_driver_error (store, STORE_ERR_OTHER,
          "the transaction was rolled back");
    } else {
      record_result_error (store, res);
      if (store->err_kind == STORE_ERR_LOST)
        store->err_kind = STORE_ERR_UNCERTAIN;
    }
  }
  PQclear (res);
  if (pg->dirty)
    pg->writes++; /* the data_version row, raised by this commit */
  pg->dirty = FALSE;
  return ok;
}

static void
pg_rollback (MedStore *store)
{
  PG (store)->dirty = FALSE;
  if (in_txn (store))
    run_simple (store, "ROLLBACK");
}

/* ---- the data version -------------------------------------------------- */

/* The data_version row; -1 when it cannot be read (caches then drop). */
static gint64
read_version (MedStore *store)
{
  PGresult *res
      = PQexec (PG (store)->conn, "SELECT n FROM data_version WHERE id = 1");
  gint64 v = -1;

  if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1)
    v = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return v;
}

static gint64
pg_data_version (MedStore *store)
{
  Pg *pg = PG (store);
  PGnotify *n;
  gint64 v;

  if (!in_txn (store)) {
    if (PQstatus (pg->conn) != CONNECTION_OK)
      reconnect (store);
    if (!pg->listening && PQstatus (pg->conn) == CONNECTION_OK)
      pg->listening = run_simple (store, "LISTEN medsched_data");
  }
  /* what arrived is read (the socket is quiet again); the row says */
  if (PQconsumeInput (pg->conn) != 0) {
    while ((n = PQnotifies (pg->conn)) != NULL)
      PQfreemem (n);
  }
  v = read_version (store);
  if (v < 0 && !in_txn (store) && reconnect (store)) {
    pg->listening = run_simple (store, "LISTEN medsched_data");
    v = read_version (store);
  }
  return v;
}

static gint64
pg_local_writes (MedStore *store)
{
  return PG (store)->writes;
}

static int
pg_notify_fd (MedStore *store)
{
  return PG (store)->listening ? PQsocket (PG (store)->conn) : -1;
}

/* ---- checks ------------------------------------------------------------ */

static gboolean
pg_check (MedStore *store, GError **error)
{
  /* the exclusion constraints must be there and valid: without them
   * only the store's own re-checks guard against overlaps */
  static const char *const wanted[] = { "booking_room_free",
    "booking_mediator_free", "booking_interpreter_free", "booking_case_free",
    "booking_party_free" };
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT conname FROM pg_constraint WHERE contype = 'x' AND "
      "convalidated AND connamespace = current_schema()::regnamespace",
      error);
  guint found = 0;
  int rc;

  if (st == NULL)
    return FALSE;
  while ((rc = store_step (st)) == STORE_ROW) {
    for (guint i = 0; i < G_N_ELEMENTS (wanted); i++) {
      if (g_strcmp0 (store_column_str (st, 0), wanted[i]) == 0)
        found |= 1u << i;
    }
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "checking constraints", error);
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++) {
    if (!(found & (1u << i))) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "the database %s lacks its exclusion constraint %s", store->path,
          wanted[i]);
      return FALSE;
    }
  }
  return TRUE;
}

static void
pg_close (MedStore *store)
{
  Pg *pg = PG (store);

  PQfinish (pg->conn);
  g_free (pg);
  store->conn = NULL;
}

const StoreDriver store_pg_driver = {
  .name = "postgresql",
  .prepare = pg_prepare,
  .finalize = pg_finalize,
  .reset = pg_reset,
  .bind_int64 = pg_bind_int64,
  .bind_text = pg_bind_text,
  .bind_null = pg_bind_null,
  .param_count = pg_param_count,
  .step = pg_step,
  .column_count = pg_column_count,
  .column_type = pg_column_type,
  .column_int64 = pg_column_int64,
  .column_str = pg_column_str,
  .column_name = pg_column_name,
  .changes = pg_changes,
  .in_txn = pg_in_txn,
  .exec = pg_exec,
  .begin = pg_begin,
  .commit = pg_commit,
  .rollback = pg_rollback,
  .data_version = pg_data_version,
  .local_writes = pg_local_writes,
  .notify_fd = pg_notify_fd,
  .check = pg_check,
  .close = pg_close,
};

/* ---- opening ----------------------------------------------------------- */

/* The URL for messages: without a password, whether in user:password@
 * or in a password= parameter. (transfer full) */
static char *
url_for_messages (const char *url)
{
  g_autofree char *u = g_strdup (url);
  char *rest = strstr (u, "://");
  char *q;

  if (rest != NULL) {
    char *at = strchr (rest + 3, '@');
    char *slash = strchr (rest + 3, '/');

    if (at != NULL && (slash == NULL || at < slash)) {
      char *colon = memchr (rest + 3, ':', at - (rest + 3));

      if (colon != NULL)
        memmove (colon, at, strlen (at) + 1);
    }
  }
  q = strchr (u, '?');
  if (q != NULL) {
    g_auto (GStrv) params = g_strsplit (q + 1, "&", -1);
    g_autoptr (GString) kept = g_string_new (NULL);

    for (guint i = 0; params[i] != NULL; i++) {
      if (g_str_has_prefix (params[i], "password="))
        continue;
      g_string_append (kept, kept->len ? "&" : "?");
      g_string_append (kept, params[i]);
    }
    *q = '\0';
    return g_strconcat (u, kept->str, NULL);
  }
  return g_steal_pointer (&u);
}

/* The schema version of a medsched database, 0 for an empty one;
 * FOREIGN for one with tables of someone else, TOO_NEW for a newer
 * medsched's. */
static gboolean
check_identity (MedStore *store, gint64 *version, GError **error)
{
  gint64 n_tables = 0, has_meta = 0;
  g_autofree char *app = NULL;

  *version = 0;
  if (!store_query_int (store,
          "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
          &n_tables, error)
      || !store_query_int (store,
          "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
          "AND tablename = 'medsched_meta'",
          &has_meta, error))
    return FALSE;
  if (n_tables == 0)
    return TRUE;
  if (has_meta) {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT (SELECT value FROM medsched_meta WHERE key = 'app'), "
        "(SELECT value FROM medsched_meta WHERE key = 'schema_version')",
        error);

    if (st == NULL)
      return FALSE;
    if (store_step (st) == STORE_ROW) {
      app = g_strdup (store_column_str (st, 0));
      *version
          = g_ascii_strtoll (store_column_str (st, 1) ? store_column_str (st, 1)
                                                      : "0",
              NULL, 10);
    }
  }
  if (g_strcmp0 (app, "medsched") != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN,
        "the database %s has tables but is not a medsched store; it was "
        "left unchanged",
        store->path);
    return FALSE;
  }
  return store_check_not_newer (*version, store_pg_n_migrations, error);
}

/* Each migration runs in one transaction under the writers' lock with its
 * version: a second process migrating at the same time waits, then finds
 * the new version and skips it. DDL is transactional in PostgreSQL: a
 * failed migration leaves nothing. */
static gboolean
migrate (MedStore *store, GError **error)
{
  for (;;) {
    g_autofree char *set_version = NULL;
    gint64 version = 0;
    StoreTxn txn;

    if (!store_txn_begin (store, &txn, error))
      return FALSE;
    if (!check_identity (store, &version, error)) {
      store_txn_end (&txn);
      return FALSE;
    }
    if (version >= (gint64) store_pg_n_migrations) {
      store_txn_end (&txn);
      return TRUE;
    }
    /* our own integer, not outside input */
    set_version = g_strdup_printf (
        "INSERT INTO medsched_meta (key, value) VALUES ('schema_version', "
        "'%" G_GINT64_FORMAT "') ON CONFLICT (key) DO UPDATE SET value = "
        "excluded.value",
        version + 1);
    if (!run_simple (store, store_pg_migrations[version])
        || !run_simple (store, set_version)) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FAILED,
          "migrating the database to schema version %" G_GINT64_FORMAT ": %s",
          version + 1, store->err_msg);
      store_txn_end (&txn);
      return FALSE;
    }
    if (!store_txn_commit (&txn, error)) {
      store_txn_end (&txn);
      return FALSE;
    }
    g_debug ("database %s migrated to schema version %" G_GINT64_FORMAT,
        store->path, version + 1);
  }
}

MedStore *
store_pg_open (const char *url, gboolean create, GError **error)
{
  /* ours first: the URL's own settings come after and win */
  const char *keys[] = { "target_session_attrs", "application_name",
    "connect_timeout", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "dbname", NULL };
  /* a host that vanished (no RST) is given up after about 30 s */
  const char *values[]
      = { "read-write", "medsched", "10", "10", "5", "3", "30000", url, NULL };
  g_autofree char *shown = url_for_messages (url);
  g_autoptr (MedStore) store = store_new (&store_pg_driver, shown);
  Pg *pg = g_new0 (Pg, 1);
  gint64 version = 0;

  pg->generation = 1;
  store->conn = pg;
  pg->conn = PQconnectdbParams (keys, values, 1);
  if (pg->conn == NULL || PQstatus (pg->conn) != CONNECTION_OK) {
    g_autofree char *msg = g_strstrip (
        g_strdup (pg->conn ? PQerrorMessage (pg->conn) : "out of memory"));

    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_UNAVAILABLE,
        "cannot connect to the database %s: %s", shown, msg);
    return NULL;
  }
  if (!setup_session (store)) {
    store_set_error (store, "setting up the session", error);
    return NULL;
  }
  if (!check_identity (store, &version, error))
    return NULL;
  if (!create && version < (gint64) store_pg_n_migrations) {
    g_set_error (error, MED_STORE_ERROR,
        version == 0 ? MED_STORE_ERROR_FOREIGN : MED_STORE_ERROR_FAILED,
        version == 0
            ? "the database %s is not a medsched store"
            : "the database %s has an older schema; open it for writing to "
              "migrate it",
        shown);
    return NULL;
  }
  if (create && version < (gint64) store_pg_n_migrations
      && !migrate (store, error))
    return NULL;
  return g_steal_pointer (&store);
}
