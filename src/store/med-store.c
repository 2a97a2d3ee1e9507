/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store.c — the store of medsched, whatever the database: choosing
 * the driver from the database URL, the prepared-statement cache,
 * transactions, the one place where driver errors become
 * MED_STORE_ERROR_*, and the plain entities (centre, rooms, mediators and
 * their leave, interpreters, cases with parties, holiday notices, import
 * documents, the same-day report, the check).
 *
 * Bookings live in med-store-booking.c, the audit chain in
 * med-store-audit.c; opening, schema and migrations in the drivers
 * (med-store-sqlite.c, med-store-pg.c). Values never enter SQL text: every
 * statement is prepared once with parameters and cached per MedStore. A
 * MedStore is used by one thread at a time; threads open their own. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <glib/gstdio.h>

#include <string.h>

/* MED_STORE_ERROR is an extended error domain (GLib 2.68): a CONFLICT may
 * carry what clashed (med_store_error_get_conflict), copied and freed with
 * the GError. Registered once with g_once rather than
 * G_DEFINE_EXTENDED_ERROR, whose first call is not thread-safe. */
typedef struct
{
  MedStoreConflict *conflict; /* NULL unless set by store_set_conflict */
} StoreErrorPrivate;

/* Where GLib keeps an extended error's private data: just before the
 * GError, aligned as gerror.c aligns it (and G_DEFINE_EXTENDED_ERROR). */
static StoreErrorPrivate *
error_private (const GError *error)
{
  const gsize sa = 2 * sizeof (gsize);
  const gsize as = (sizeof (StoreErrorPrivate) + (sa - 1)) & -sa;

  return (StoreErrorPrivate *) (((guint8 *) error) - as);
}

static MedStoreConflict *
conflict_copy (const MedStoreConflict *c)
{
  MedStoreConflict *out = g_memdup2 (c, sizeof *c);

  out->name = g_strdup (c->name);
  return out;
}

static void
conflict_free (MedStoreConflict *c)
{
  if (c == NULL)
    return;
  g_free (c->name);
  g_free (c);
}

static void
error_private_init (GError *error)
{
  error_private (error)->conflict = NULL;
}

static void
error_private_copy (const GError *src, GError *dest)
{
  const MedStoreConflict *c = error_private (src)->conflict;

  error_private (dest)->conflict = c != NULL ? conflict_copy (c) : NULL;
}

static void
error_private_clear (GError *error)
{
  g_clear_pointer (&error_private (error)->conflict, conflict_free);
}

GQuark
med_store_error_quark (void)
{
  static gsize quark = 0;

  if (g_once_init_enter (&quark)) {
    GQuark q = g_error_domain_register_static ("med-store-error-quark",
        sizeof (StoreErrorPrivate), error_private_init, error_private_copy,
        error_private_clear);

    g_once_init_leave (&quark, q);
  }
  return (GQuark) quark;
}

const MedStoreConflict *
med_store_error_get_conflict (const GError *error)
{
  if (!g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT))
    return NULL;
  return error_private (error)->conflict;
}

void
store_set_conflict (GError **error, const MedStoreConflict *c,
    const char *format, ...)
{
  va_list ap;
  GError *e;

  if (error == NULL)
    return;
  va_start (ap, format);
  e = g_error_new_valist (MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT, format,
      ap);
  va_end (ap);
  error_private (e)->conflict = conflict_copy (c);
  g_propagate_error (error, e);
}

static const char *const conflict_kinds[MED_CONFLICT_N] = {
  "room",
  "mediator",
  "interpreter",
  "case",
  "party",
  "leave",
  "daily-cap",
};

const char *
med_conflict_kind_to_string (MedConflictKind k)
{
  return (guint) k < MED_CONFLICT_N ? conflict_kinds[k] : "unknown";
}

/* ---- opening ----------------------------------------------------------- */

/* postgresql://… or postgres://… (libpq's URIs) are PostgreSQL;
 * sqlite:FILE and a plain path are SQLite files. */
static gboolean
is_pg_url (const char *url)
{
  return g_str_has_prefix (url, "postgresql://")
      || g_str_has_prefix (url, "postgres://");
}

/* The file of a SQLite URL: "sqlite:FILE" → FILE, anything else as is. */
static const char *
sqlite_file (const char *url)
{
  if (g_str_has_prefix (url, "sqlite:"))
    return url + strlen ("sqlite:");
  return url;
}

static MedStore *
open_url (const char *url, gboolean create, GError **error)
{
  g_return_val_if_fail (url != NULL, NULL);

  if (is_pg_url (url))
    return store_pg_open (url, create, error);
  return store_sqlite_open (sqlite_file (url), create, error);
}

MedStore *
med_store_open (const char *url, GError **error)
{
  return open_url (url, TRUE, error);
}

MedStore *
med_store_open_existing (const char *url, GError **error)
{
  return open_url (url, FALSE, error);
}

gboolean
med_store_url_is_file (const char *url)
{
  return url != NULL && !is_pg_url (url);
}

const char *
med_store_kind (MedStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->drv->name;
}

MedStore *
store_new (const StoreDriver *drv, const char *path)
{
  MedStore *store = g_new0 (MedStore, 1);

  store->drv = drv;
  store->path = g_strdup (path);
  store->stmts = g_hash_table_new (g_str_hash, g_str_equal);
  return store;
}

void
med_store_close (MedStore *store)
{
  GHashTableIter it;
  gpointer stmt;

  if (store == NULL)
    return;
  g_hash_table_iter_init (&it, store->stmts);
  while (g_hash_table_iter_next (&it, NULL, &stmt))
    store->drv->finalize (stmt);
  g_hash_table_destroy (store->stmts);
  /* Closing rolls back anything still open (a forgotten med_store_begin). */
  if (store->conn != NULL)
    store->drv->close (store);
  g_free (store->path);
  g_free (store->err_msg);
  g_free (store);
}

/* ---- statements, errors, transactions ---------------------------------- */

gboolean
store_is_pg (MedStore *store)
{
  return store->drv == &store_pg_driver;
}

void
store_stmt_release (StoreStmt *stmt)
{
  stmt->store->drv->reset (stmt);
}

StoreStmt *
store_stmt (MedStore *store, const char *sql, GError **error)
{
  StoreStmt *stmt = g_hash_table_lookup (store->stmts, sql);

  if (stmt != NULL) {
    store->drv->reset (stmt);
    return stmt;
  }
  stmt = store->drv->prepare (store, sql);
  if (stmt == NULL) {
    store_set_error (store, "preparing a statement", error);
    return NULL;
  }
  g_hash_table_insert (store->stmts, (gpointer) sql, stmt);
  return stmt;
}

StoreStmt *
store_stmt_dialect (MedStore *store, const char *sql_lite, const char *sql_pg,
    GError **error)
{
  return store_stmt (store, store_is_pg (store) ? sql_pg : sql_lite, error);
}

void
store_set_driver_error (MedStore *store, StoreErrKind kind, const char *message)
{
  store->err_kind = kind;
  g_free (store->err_msg);
  store->err_msg = g_strdup (message ? message : "unknown error");
}

static MedStoreError
map_error (StoreErrKind kind)
{
  switch (kind) {
    case STORE_ERR_BUSY:
      return MED_STORE_ERROR_BUSY;
    case STORE_ERR_UNIQUE:
    case STORE_ERR_REFUSED:
      return MED_STORE_ERROR_CONFLICT;
    case STORE_ERR_CONSTRAINT:
      return MED_STORE_ERROR_INVALID;
    case STORE_ERR_NOTADB:
    case STORE_ERR_CANTOPEN:
      return MED_STORE_ERROR_OPEN;
    case STORE_ERR_CORRUPT:
      return MED_STORE_ERROR_CORRUPT;
    case STORE_ERR_LOST:
      return MED_STORE_ERROR_UNAVAILABLE;
    case STORE_ERR_UNCERTAIN:
      return MED_STORE_ERROR_UNCERTAIN;
    default:
      return MED_STORE_ERROR_FAILED;
  }
}

void
store_set_error (MedStore *store, const char *what, GError **error)
{
  MedStoreError code = map_error (store->err_kind);
  const char *msg = store->err_msg ? store->err_msg : "unknown error";

  switch (code) {
    case MED_STORE_ERROR_BUSY:
      g_set_error (error, MED_STORE_ERROR, code,
          "%s: the store is busy (another program is writing to it): %s", what,
          msg);
      break;
    case MED_STORE_ERROR_OPEN:
      if (store->err_kind == STORE_ERR_NOTADB)
        g_set_error (error, MED_STORE_ERROR, code,
            "%s: %s is not a SQLite database, so not a medsched store (%s)",
            what, store->path, msg);
      else
        g_set_error (error, MED_STORE_ERROR, code, "%s: cannot open %s (%s)",
            what, store->path, msg);
      break;
    case MED_STORE_ERROR_CORRUPT:
      g_set_error (error, MED_STORE_ERROR, code,
          "%s: the store %s is damaged: %s", what, store->path, msg);
      break;
    case MED_STORE_ERROR_UNAVAILABLE:
      g_set_error (error, MED_STORE_ERROR, code,
          "%s: the database connection was lost (%s); nothing was written",
          what, msg);
      break;
    case MED_STORE_ERROR_UNCERTAIN:
      g_set_error (error, MED_STORE_ERROR, code,
          "%s: the database connection was lost while committing (%s); the "
          "change may or may not have been written",
          what, msg);
      break;
    default:
      g_set_error (error, MED_STORE_ERROR, code, "%s: %s", what, msg);
      break;
  }
}

gboolean
store_query_int (MedStore *store, const char *sql, gint64 *out, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  int rc;

  if (st == NULL)
    return FALSE;
  rc = store_step (st);
  *out = rc == STORE_ROW ? store_column_int64 (st, 0) : 0;
  if (rc == STORE_ROW || rc == STORE_DONE)
    return TRUE;
  store_set_error (store, "reading the store", error);
  return FALSE;
}

gboolean
store_check_not_newer (gint64 version, gint64 known, GError **error)
{
  if (version <= known)
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_TOO_NEW,
      "database schema version %" G_GINT64_FORMAT " is newer than this "
      "medsched (knows %" G_GINT64_FORMAT "); upgrade medsched",
      version, known);
  return FALSE;
}

void
store_remove_db_files (const char *path)
{
  static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++) {
    g_autofree char *p = g_strconcat (path, suffixes[i], NULL);

    g_unlink (p);
  }
}

gboolean
store_step_done (MedStore *store, StoreStmt *stmt, const char *what,
    GError **error)
{
  int rc = store_step (stmt);

  if (rc == STORE_DONE || rc == STORE_ROW)
    return TRUE;
  store_set_error (store, what, error);
  return FALSE;
}

gboolean
store_step_id (MedStore *store, StoreStmt *stmt, const char *what, gint64 *id,
    GError **error)
{
  int rc = store_step (stmt);

  *id = 0;
  if (rc == STORE_ROW) {
    *id = store_column_int64 (stmt, 0);
    rc = store_step (stmt); /* to its end: nothing pending at COMMIT */
  }
  if (rc == STORE_DONE)
    return TRUE;
  *id = 0;
  store_set_error (store, what, error);
  return FALSE;
}

/* Runs parameterless SQL (BEGIN, COMMIT, …). */
static gboolean
exec_sql (MedStore *store, const char *sql, const char *what, GError **error)
{
  if (store->drv->exec (store, sql))
    return TRUE;
  store_set_error (store, what, error);
  return FALSE;
}

gboolean
store_propagate_invalid (GError **error, GError *from)
{
  g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      from ? from->message : "invalid value");
  g_clear_error (&from);
  return FALSE;
}

MedTime
store_now (MedStore *store)
{
  if (store->fixed_now != 0)
    return store->fixed_now;
  return g_get_real_time () / G_USEC_PER_SEC;
}

MedTime
med_store_now (MedStore *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store_now (store);
}

void
med_store_set_now (MedStore *store, MedTime now)
{
  g_return_if_fail (store != NULL);
  store->fixed_now = now;
}

static gboolean
txn_begin (MedStore *store, StoreTxn *txn, gboolean shared, GError **error)
{
  txn->store = store;
  /* Inside med_store_begin or another store call's transaction. */
  txn->savepoint = store->drv->in_txn (store);
  if (txn->savepoint)
    txn->open
        = exec_sql (store, "SAVEPOINT med_op", "starting a transaction", error);
  else if (!(txn->open = store->drv->begin (store, shared)))
    store_set_error (store, "starting a transaction", error);
  else
    store->writer = !shared;
  return txn->open;
}

gboolean
store_txn_begin (MedStore *store, StoreTxn *txn, GError **error)
{
  return txn_begin (store, txn, FALSE, error);
}

gboolean
store_txn_begin_shared (MedStore *store, StoreTxn *txn, GError **error)
{
  return txn_begin (store, txn, TRUE, error);
}

gboolean
store_txn_commit (StoreTxn *txn, GError **error)
{
  MedStore *store = txn->store;

  if (txn->savepoint) {
    if (!exec_sql (store, "RELEASE med_op", "committing", error))
      return FALSE;
  } else {
    store->writer = FALSE;
    if (!store->drv->commit (store)) {
      store_set_error (store, "committing", error);
      return FALSE;
    }
  }
  txn->open = FALSE;
  return TRUE;
}

void
store_txn_end (StoreTxn *txn)
{
  MedStore *store = txn->store;

  if (!txn->open)
    return;
  txn->open = FALSE;
  if (!txn->savepoint)
    store->writer = FALSE;
  if (!store->drv->in_txn (store))
    return; /* the database already rolled the whole transaction back */
  if (txn->savepoint) {
    store->drv->exec (store, "ROLLBACK TO med_op");
    store->drv->exec (store, "RELEASE med_op");
  } else {
    store->drv->rollback (store);
  }
}

gboolean
store_check_text (const char *s, gsize max_bytes, gboolean multiline,
    gboolean allow_empty, const char *field, GError **error)
{
  GError *local = NULL;

  if (med_validate_text (s, max_bytes, multiline, allow_empty, field, &local))
    return TRUE;
  return store_propagate_invalid (error, local);
}

gboolean
store_check_actor (const char *actor, GError **error)
{
  return store_check_text (actor, MED_MAX_NAME_BYTES, FALSE, FALSE, "actor",
      error);
}

char *
store_column_text (StoreStmt *stmt, int col)
{
  const char *s = store_column_str (stmt, col);

  return g_strdup (s ? s : "");
}

gboolean
store_corrupt_enum (GError **error, GError *from)
{
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
      "the store holds an unknown value: %s", from->message);
  g_clear_error (&from);
  return FALSE;
}

/* ---- explicit transactions --------------------------------------------- */

gboolean
med_store_begin (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (!store->in_txn, FALSE);

  if (!store->drv->begin (store, FALSE)) {
    store_set_error (store, "starting a transaction", error);
    return FALSE;
  }
  store->in_txn = TRUE;
  store->writer = TRUE;
  return TRUE;
}

gboolean
med_store_commit (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (store->in_txn, FALSE);

  store->writer = FALSE;
  if (store->drv->commit (store)) {
    store->in_txn = FALSE;
    return TRUE;
  }
  store_set_error (store, "committing", error);
  /* A failed commit writes nothing and closes the transaction. */
  med_store_rollback (store);
  return FALSE;
}

void
med_store_rollback (MedStore *store)
{
  g_return_if_fail (store != NULL);

  if (!store->in_txn)
    return;
  store->in_txn = FALSE;
  store->writer = FALSE;
  if (store->drv->in_txn (store))
    store->drv->rollback (store);
}

gboolean
med_store_run (MedStore *store, MedStoreTxnFunc func, gpointer data,
    GError **error)
{
  g_return_val_if_fail (store != NULL && func != NULL, FALSE);

  for (guint attempt = 0;; attempt++) {
    GError *local = NULL;

    if (med_store_begin (store, &local) && func (store, data, &local)
        && med_store_commit (store, &local))
      return TRUE;
    med_store_rollback (store);
    /* Lost before COMMIT: nothing was written, so once more on a fresh
     * connection (the driver reconnects at the next begin). Lost during
     * COMMIT (UNCERTAIN) or anything else: not again. */
    if (attempt == 0
        && g_error_matches (local, MED_STORE_ERROR,
            MED_STORE_ERROR_UNAVAILABLE)) {
      g_debug ("connection lost before commit; running the transaction "
               "once more");
      g_clear_error (&local);
      continue;
    }
    g_propagate_error (error, local);
    return FALSE;
  }
}

gint64
med_store_data_version (MedStore *store)
{
  g_return_val_if_fail (store != NULL, -1);
  return store->drv->data_version (store);
}

gint64
med_store_data_version_in (MedStore *store, guint64 epoch)
{
  gint64 writes;

  g_return_val_if_fail (store != NULL, -1);
  writes = store->drv->local_writes (store);
  if (epoch != 0 && epoch == store->dv_epoch && writes == store->dv_writes)
    return store->dv_value;
  store->dv_value = store->drv->data_version (store);
  store->dv_epoch = epoch;
  store->dv_writes = writes;
  return store->dv_value;
}

int
med_store_notify_fd (MedStore *store)
{
  g_return_val_if_fail (store != NULL, -1);
  return store->drv->notify_fd (store);
}
/* ---- centre ------------------------------------------------------------ */

static const char *const weekday_names[] = { "Monday", "Tuesday", "Wednesday",
  "Thursday", "Friday", "Saturday", "Sunday" };

static gboolean
check_zone (const char *zone, GError **error)
{
  GError *local = NULL;
  gint y, m, d;

  if (med_workcal_local_date (zone, 0, &y, &m, &d, &local))
    return TRUE;
  return store_propagate_invalid (error, local);
}

/* Validates a centre and renders its opening hours as text. */
static gboolean
check_centre (const MedCentre *c, char *hours[7], GError **error)
{
  if (!store_check_text (c->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "centre name", error)
      || !check_zone (c->zone, error)
      || !store_check_text (c->layers, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "centre layers", error)
      || !store_check_text (c->address, MED_MAX_TEXT_BYTES, FALSE, TRUE,
          "centre address", error)
      || !store_check_text (c->mailbox, MED_MAX_NAME_BYTES, FALSE, TRUE,
          "centre mailbox", error))
    return FALSE;
  if (c->min_notice_minutes < 0 || c->min_notice_minutes > 525600
      || c->slot_minutes < 1 || c->slot_minutes > 1440
      || c->default_duration_minutes < 1
      || c->default_duration_minutes > 1440) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "centre minimum notice, slot or default duration out of range");
    return FALSE;
  }
  for (int d = 0; d < 7; d++) {
    MedDayHours back;

    hours[d] = med_day_hours_to_string (&c->hours[d]);
    if (!med_day_hours_parse (hours[d], &back, NULL)
        || memcmp (&back, &c->hours[d], sizeof back) != 0) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "invalid opening hours on %s", weekday_names[d]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Binds the centre's columns to ?1 … ?16 in table order. */
static void
bind_centre (StoreStmt *st, const MedCentre *c, char *hours[7])
{
  store_bind_text (st, 1, c->name);
  store_bind_text (st, 2, c->zone);
  store_bind_text (st, 3, c->layers);
  store_bind_text (st, 4, c->address ? c->address : "");
  store_bind_text (st, 5, c->mailbox ? c->mailbox : "");
  for (int d = 0; d < 7; d++)
    store_bind_text (st, 6 + d, hours[d]);
  store_bind_int (st, 13, c->min_notice_minutes);
  store_bind_int (st, 14, c->slot_minutes);
  store_bind_int (st, 15, c->default_duration_minutes);
  store_bind_int (st, 16, c->allow_fallback ? 1 : 0);
}

gint64
med_store_add_centre (MedStore *store, const MedCentre *c, const char *actor,
    GError **error)
{
  char *hours[7] = { NULL };
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id = 0;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && c != NULL, 0);

  if (!store_check_actor (actor, error) || !check_centre (c, hours, error)
      || !store_txn_begin (store, &txn, error))
    goto out;
  st = store_stmt (store,
      "INSERT INTO centre (name, zone, layers, address, "
      "mailbox, hours_mon, hours_tue, hours_wed, hours_thu, hours_fri, "
      "hours_sat, hours_sun, min_notice_minutes, slot_minutes, "
      "default_duration_minutes, allow_fallback) VALUES (?1, ?2, ?3, ?4, ?5, "
      "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) RETURNING id",
      error);
  if (st == NULL)
    goto out;
  bind_centre (st, c, hours);
  if (!store_step_id (store, st, "adding centre", &id, error))
    goto out;
  detail = g_string_new ("{");
  store_detail_str (detail, "zone", c->zone);
  store_detail_str (detail, "layers", c->layers);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "centre.add", "centre", id, detail_s,
          error)
      || !store_txn_commit (&txn, error))
    id = 0;

out:
  store_txn_end (&txn);
  for (int d = 0; d < 7; d++)
    g_free (hours[d]);
  return id;
}

gboolean
med_store_update_centre (MedStore *store, const MedCentre *c, const char *actor,
    GError **error)
{
  char *hours[7] = { NULL };
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && c != NULL, FALSE);

  if (!store_check_actor (actor, error) || !check_centre (c, hours, error)
      || !store_txn_begin (store, &txn, error))
    goto out;
  st = store_stmt (store,
      "UPDATE centre SET name = ?1, zone = ?2, "
      "layers = ?3, address = ?4, mailbox = ?5, hours_mon = ?6, "
      "hours_tue = ?7, hours_wed = ?8, hours_thu = ?9, hours_fri = ?10, "
      "hours_sat = ?11, hours_sun = ?12, min_notice_minutes = ?13, "
      "slot_minutes = ?14, default_duration_minutes = ?15, "
      "allow_fallback = ?16 WHERE id = ?17",
      error);
  if (st == NULL)
    goto out;
  bind_centre (st, c, hours);
  store_bind_int64 (st, 17, c->id);
  if (!store_step_done (store, st, "updating centre", error))
    goto out;
  if (store_changes (store) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no centre %" G_GINT64_FORMAT, c->id);
    goto out;
  }
  detail = g_string_new ("{");
  store_detail_str (detail, "zone", c->zone);
  store_detail_str (detail, "layers", c->layers);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "centre.update", "centre", c->id,
           detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  for (int d = 0; d < 7; d++)
    g_free (hours[d]);
  return ok;
}

static void
not_found (GError **error, const char *what, gint64 id)
{
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
      "no %s %" G_GINT64_FORMAT, what, id);
}

#define CENTRE_COLUMNS                                                         \
  "id, name, zone, layers, address, mailbox, hours_mon, hours_tue, "           \
  "hours_wed, hours_thu, hours_fri, hours_sat, hours_sun, "                    \
  "min_notice_minutes, slot_minutes, default_duration_minutes, "               \
  "allow_fallback"

/* A centre from a row of CENTRE_COLUMNS. (transfer full) */
static MedCentre *
read_centre (StoreStmt *st, GError **error)
{
  g_autoptr (MedCentre) c = g_new0 (MedCentre, 1);

  c->id = store_column_int64 (st, 0);
  c->name = store_column_text (st, 1);
  c->zone = store_column_text (st, 2);
  c->layers = store_column_text (st, 3);
  c->address = store_column_text (st, 4);
  c->mailbox = store_column_text (st, 5);
  for (int d = 0; d < 7; d++) {
    const char *h = store_column_str (st, 6 + d);

    if (!med_day_hours_parse (h ? h : "", &c->hours[d], NULL)) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "centre %" G_GINT64_FORMAT " has unreadable opening hours", c->id);
      return NULL;
    }
  }
  c->min_notice_minutes = store_column_int (st, 13);
  c->slot_minutes = store_column_int (st, 14);
  c->default_duration_minutes = store_column_int (st, 15);
  c->allow_fallback = store_column_int (st, 16) != 0;
  return g_steal_pointer (&c);
}

MedCentre *
med_store_get_centre (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store, "SELECT " CENTRE_COLUMNS " FROM centre WHERE id = ?1",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_DONE) {
    not_found (error, "centre", id);
    return NULL;
  }
  if (rc != STORE_ROW) {
    store_set_error (store, "reading centre", error);
    return NULL;
  }
  return read_centre (st, error);
}

GPtrArray *
med_store_list_centres (MedStore *store, GError **error)
{
  g_autoptr (GPtrArray) list
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_centre_free);
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store, "SELECT " CENTRE_COLUMNS " FROM centre ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  while ((rc = store_step (st)) == STORE_ROW) {
    MedCentre *c = read_centre (st, error);

    if (c == NULL)
      return NULL;
    g_ptr_array_add (list, c);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing centres", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

gboolean
med_store_in_centre (MedStore *store, MedStoreOwned kind, gint64 id,
    gint64 centre_id, GError **error)
{
  static const struct
  {
    const char *what;
    const char *sql;
  } of[] = {
    [MED_STORE_OF_CASE]
    = { "case", "SELECT centre_id FROM mcase WHERE id = ?1" },
    [MED_STORE_OF_BOOKING] = { "booking",
        "SELECT c.centre_id FROM booking b JOIN mcase c ON c.id = b.case_id "
        "WHERE b.id = ?1" },
    [MED_STORE_OF_PARTY] = { "party",
        "SELECT c.centre_id FROM party p JOIN mcase c ON c.id = p.case_id "
        "WHERE p.id = ?1" },
    [MED_STORE_OF_ROOM]
    = { "room", "SELECT centre_id FROM room WHERE id = ?1" },
    [MED_STORE_OF_MEDIATOR]
    = { "mediator", "SELECT centre_id FROM mediator WHERE id = ?1" },
    [MED_STORE_OF_INTERPRETER]
    = { "interpreter", "SELECT centre_id FROM interpreter WHERE id = ?1" },
    [MED_STORE_OF_USER]
    = { "user", "SELECT centre_id FROM app_user WHERE id = ?1" },
    [MED_STORE_OF_RECORDING] = { "recording",
        "SELECT c.centre_id FROM recording r JOIN booking b ON b.id = "
        "r.booking_id JOIN mcase c ON c.id = b.case_id WHERE r.id = ?1" },
    [MED_STORE_OF_FEED_LINK] = { "feed link",
        "SELECT " STORE_FEED_LINK_CENTRE ("l") " FROM capability l "
                                               "WHERE l.id = ?1" },
  };
  g_autoptr (StoreStmt) st = NULL;
  gint64 centre = 0;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (kind < G_N_ELEMENTS (of), FALSE);

  if ((st = store_stmt (store, of[kind].sql, error)) == NULL)
    return FALSE;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    centre = store_column_int64 (st, 0);
  else if (rc != STORE_DONE) {
    store_set_error (store, "reading the store", error);
    return FALSE;
  }
  /* a link to a row that is gone belongs nowhere (NULL reads 0) */
  if (centre > 0 && centre == centre_id)
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
      "no %s %" G_GINT64_FORMAT " in centre %" G_GINT64_FORMAT, of[kind].what,
      id, centre_id);
  return FALSE;
}

char *
store_centre_zone (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (StoreStmt) st
      = store_stmt (store, "SELECT zone FROM centre WHERE id = ?1", error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return store_column_text (st, 0);
  if (rc == STORE_DONE)
    not_found (error, "centre", centre_id);
  else
    store_set_error (store, "reading centre", error);
  return NULL;
}

static gboolean
require_row (MedStore *store, const char *sql, const char *what, gint64 id,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  int rc;

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return TRUE;
  if (rc == STORE_DONE)
    not_found (error, what, id);
  else
    store_set_error (store, "reading the store", error);
  return FALSE;
}

static gboolean
require_centre (MedStore *store, gint64 centre_id, GError **error)
{
  return require_row (store, "SELECT 1 FROM centre WHERE id = ?1", "centre",
      centre_id, error);
}

/* ---- rooms, mediators, leave, interpreters ----------------------------- */

static gint64
insert_room (MedStore *store, const MedRoom *r, gint64 centre_id,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id;

  if (!store_check_text (r->name, MED_MAX_NAME_BYTES, FALSE, FALSE, "room name",
          error))
    return 0;
  if ((guint) r->kind >= MED_ROOM_KIND_N || r->capacity < 1
      || r->capacity > 1000 || r->features > 15 || r->setup_minutes < 0
      || r->setup_minutes > MED_STORE_MAX_BUFFER_MINUTES
      || r->cleanup_minutes < 0
      || r->cleanup_minutes > MED_STORE_MAX_BUFFER_MINUTES) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "room %s: kind, capacity (1–1000), features or setup/cleanup "
        "minutes (0–%d) out of range",
        r->name, MED_STORE_MAX_BUFFER_MINUTES);
    return 0;
  }
  if (!require_centre (store, centre_id, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO room (centre_id, name, kind, "
      "capacity, features, setup_minutes, cleanup_minutes) VALUES (?1, ?2, "
      "?3, ?4, ?5, ?6, ?7) RETURNING id",
      error);
  if (st == NULL)
    return 0;
  store_bind_int64 (st, 1, centre_id);
  store_bind_text (st, 2, r->name);
  store_bind_text (st, 3, med_room_kind_to_string (r->kind));
  store_bind_int (st, 4, r->capacity);
  store_bind_int (st, 5, r->features);
  store_bind_int (st, 6, r->setup_minutes);
  store_bind_int (st, 7, r->cleanup_minutes);
  if (store_step (st) != STORE_ROW) {
    if (store_error_is (store, STORE_ERR_UNIQUE))
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT,
          "a room named %s already exists in centre %" G_GINT64_FORMAT, r->name,
          centre_id);
    else
      store_set_error (store, "adding room", error);
    return 0;
  }
  id = store_column_int64 (st, 0);
  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "kind", med_room_kind_to_string (r->kind));
  store_detail_int (detail, "capacity", r->capacity);
  store_detail_int (detail, "setup", r->setup_minutes);
  store_detail_int (detail, "cleanup", r->cleanup_minutes);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "room.add", "room", id, detail_s,
          error))
    return 0;
  return id;
}

gint64
med_store_add_room (MedStore *store, const MedRoom *r, const char *actor,
    GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && r != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_room (store, r, r->centre_id, actor, error);
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

GPtrArray *
med_store_list_rooms (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (GPtrArray) rooms = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, name, kind, capacity, features, "
      "setup_minutes, cleanup_minutes FROM room WHERE centre_id = ?1 "
      "ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedRoom *r = med_room_new ();
    GError *local = NULL;

    g_ptr_array_add (rooms, r);
    r->id = store_column_int64 (st, 0);
    r->centre_id = centre_id;
    r->name = store_column_text (st, 1);
    if (!med_room_kind_from_string (store_column_str (st, 2), &r->kind,
            &local)) {
      store_corrupt_enum (error, local);
      return NULL;
    }
    r->capacity = store_column_int (st, 3);
    r->features = store_column_int (st, 4);
    r->setup_minutes = store_column_int (st, 5);
    r->cleanup_minutes = store_column_int (st, 6);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing rooms", error);
    return NULL;
  }
  return g_steal_pointer (&rooms);
}

/* Joins validated language codes with commas. (transfer full) */
static char *
join_languages (char **langs, GError **error)
{
  GError *local = NULL;

  if (langs == NULL || langs[0] == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "at least one language is required");
    return NULL;
  }
  for (guint i = 0; langs[i] != NULL; i++) {
    if (i >= 16) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "too many languages (at most 16)");
      return NULL;
    }
    if (!med_validate_language (langs[i], &local)) {
      store_propagate_invalid (error, local);
      return NULL;
    }
  }
  return g_strjoinv (",", langs);
}

static gint64
insert_mediator (MedStore *store, const MedMediator *m, gint64 centre_id,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *langs = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id;

  if (!store_check_text (m->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "mediator name", error)
      || (langs = join_languages (m->languages, error)) == NULL)
    return 0;
  if (m->specialties >= (1u << MED_CASE_KIND_N) || m->daily_cap < 1
      || m->daily_cap > 24) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "mediator %s: specialties or daily cap (1–24) out of range", m->name);
    return 0;
  }
  if (!require_centre (store, centre_id, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO mediator (centre_id, name, languages, "
      "specialties, daily_cap) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
      error);
  if (st == NULL)
    return 0;
  store_bind_int64 (st, 1, centre_id);
  store_bind_text (st, 2, m->name);
  store_bind_text (st, 3, langs);
  store_bind_int (st, 4, m->specialties);
  store_bind_int (st, 5, m->daily_cap);
  if (!store_step_id (store, st, "adding mediator", &id, error))
    return 0;
  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "languages", langs);
  store_detail_int (detail, "specialties", m->specialties);
  store_detail_int (detail, "daily_cap", m->daily_cap);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "mediator.add", "mediator", id,
          detail_s, error))
    return 0;
  return id;
}

gint64
med_store_add_mediator (MedStore *store, const MedMediator *m,
    const char *actor, GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && m != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_mediator (store, m, m->centre_id, actor, error);
  /* Leave carried by the struct is stored too. */
  for (guint i = 0; id > 0 && m->leave != NULL && i < m->leave->len; i++) {
    const MedInterval *iv = &g_array_index (m->leave, MedInterval, i);

    if (!med_store_add_leave (store, id, iv->start, iv->end, actor, error))
      id = 0;
  }
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

/* Fills m->leave with the leave overlapping [from, to) (0 = unbounded). */
static gboolean
load_leave (MedStore *store, MedMediator *m, MedTime from, MedTime to,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT start_at, end_at "
      "FROM mediator_leave WHERE mediator_id = ?1 AND end_at > ?2 AND "
      "start_at < ?3 ORDER BY start_at, id",
      error);
  int rc;

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, m->id);
  store_bind_int64 (st, 2, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 3, to != 0 ? to : STORE_TIME_MAX);
  if (m->leave == NULL)
    m->leave = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  while ((rc = store_step (st)) == STORE_ROW) {
    MedInterval iv = { store_column_int64 (st, 0), store_column_int64 (st, 1) };

    g_array_append_val (m->leave, iv);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading leave", error);
    return FALSE;
  }
  return TRUE;
}

static MedMediator *
read_mediator (StoreStmt *st)
{
  MedMediator *m = med_mediator_new ();
  const char *langs = store_column_str (st, 3);

  m->id = store_column_int64 (st, 0);
  m->centre_id = store_column_int64 (st, 1);
  m->name = store_column_text (st, 2);
  m->languages = g_strsplit (langs ? langs : "", ",", -1);
  m->specialties = store_column_int (st, 4);
  m->daily_cap = store_column_int (st, 5);
  return m;
}

/* Mediators of a centre with their leave overlapping [from, to). Used by
 * the list and by the snapshot. (transfer full) */
GPtrArray *
store_list_mediators (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  int rc;

  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_mediator_free);
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT id, centre_id, "
        "name, languages, specialties, daily_cap FROM mediator WHERE "
        "centre_id = ?1 ORDER BY id",
        error);

    if (st == NULL)
      return NULL;
    store_bind_int64 (st, 1, centre_id);
    while ((rc = store_step (st)) == STORE_ROW)
      g_ptr_array_add (list, read_mediator (st));
    if (rc != STORE_DONE) {
      store_set_error (store, "listing mediators", error);
      return NULL;
    }
  }
  for (guint i = 0; i < list->len; i++) {
    if (!load_leave (store, list->pdata[i], from, to, error))
      return NULL;
  }
  return g_steal_pointer (&list);
}

GPtrArray *
med_store_list_mediators (MedStore *store, gint64 centre_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_list_mediators (store, centre_id, 0, 0, error);
}

MedMediator *
med_store_get_mediator (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (MedMediator) m = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT id, centre_id, "
        "name, languages, specialties, daily_cap FROM mediator WHERE "
        "id = ?1",
        error);
    int rc;

    if (st == NULL)
      return NULL;
    store_bind_int64 (st, 1, id);
    rc = store_step (st);
    if (rc == STORE_DONE) {
      not_found (error, "mediator", id);
      return NULL;
    }
    if (rc != STORE_ROW) {
      store_set_error (store, "reading mediator", error);
      return NULL;
    }
    m = read_mediator (st);
  }
  if (!load_leave (store, m, 0, 0, error))
    return NULL;
  return g_steal_pointer (&m);
}

gboolean
med_store_add_leave (MedStore *store, gint64 mediator_id, MedTime start,
    MedTime end, const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };
  gint64 leave_id = 0;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if (end <= start) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "leave must end after it starts");
    return FALSE;
  }
  if (!store_txn_begin (store, &txn, error)
      || !require_row (store, "SELECT 1 FROM mediator WHERE id = ?1",
          "mediator", mediator_id, error))
    goto out;
  st = store_stmt (store,
      "INSERT INTO mediator_leave (mediator_id, "
      "start_at, end_at) VALUES (?1, ?2, ?3) RETURNING id",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, mediator_id);
  store_bind_int64 (st, 2, start);
  store_bind_int64 (st, 3, end);
  if (!store_step_id (store, st, "adding leave", &leave_id, error))
    goto out;
  detail = g_string_new ("{");
  store_detail_int (detail, "mediator", mediator_id);
  store_detail_int (detail, "start", start);
  store_detail_int (detail, "end", end);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "leave.add", "mediator_leave",
           leave_id, detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* Validates interpreter pairs ("zh:bo") and joins them. (transfer full) */
static char *
join_pairs (char **pairs, GError **error)
{
  if (pairs == NULL || pairs[0] == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "at least one language pair is required");
    return NULL;
  }
  for (guint i = 0; pairs[i] != NULL; i++) {
    g_auto (GStrv) parts = g_strsplit (pairs[i], ":", -1);

    if (i >= 32 || g_strv_length (parts) != 2
        || !med_validate_language (parts[0], NULL)
        || !med_validate_language (parts[1], NULL)) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "language pair must look like zh:bo (at most 32 pairs)");
      return NULL;
    }
  }
  return g_strjoinv (",", pairs);
}

static gint64
insert_interpreter (MedStore *store, const MedInterpreter *in, gint64 centre_id,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *pairs = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id;

  if (!store_check_text (in->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "interpreter name", error)
      || (pairs = join_pairs (in->pairs, error)) == NULL
      || !require_centre (store, centre_id, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO interpreter (centre_id, name, pairs) "
      "VALUES (?1, ?2, ?3) RETURNING id",
      error);
  if (st == NULL)
    return 0;
  store_bind_int64 (st, 1, centre_id);
  store_bind_text (st, 2, in->name);
  store_bind_text (st, 3, pairs);
  if (!store_step_id (store, st, "adding interpreter", &id, error))
    return 0;
  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "pairs", pairs);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "interpreter.add", "interpreter", id,
          detail_s, error))
    return 0;
  return id;
}

gint64
med_store_add_interpreter (MedStore *store, const MedInterpreter *i,
    const char *actor, GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && i != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_interpreter (store, i, i->centre_id, actor, error);
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

GPtrArray *
med_store_list_interpreters (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, name, pairs FROM interpreter WHERE "
      "centre_id = ?1 ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_interpreter_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedInterpreter *in = med_interpreter_new ();
    const char *pairs = store_column_str (st, 2);

    in->id = store_column_int64 (st, 0);
    in->centre_id = centre_id;
    in->name = store_column_text (st, 1);
    in->pairs = g_strsplit (pairs ? pairs : "", ",", -1);
    g_ptr_array_add (list, in);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing interpreters", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

/* ---- cases and parties ------------------------------------------------- */

/* A new case may start in any state reachable from intake that does not
 * need a booking (scheduled and in-session do). */
static gboolean
check_initial_status (MedCaseStatus status, MedDepartment department,
    GError **error)
{
  gboolean reachable[MED_CASE_STATUS_N] = { FALSE };
  gboolean grew = TRUE;

  if ((guint) status >= MED_CASE_STATUS_N)
    goto bad;
  reachable[MED_CASE_STATUS_INTAKE] = TRUE;
  while (grew) {
    grew = FALSE;
    for (int f = 0; f < MED_CASE_STATUS_N; f++) {
      for (int t = 0; reachable[f] && t < MED_CASE_STATUS_N; t++) {
        if (!reachable[t] && med_case_status_can_transition (f, t)) {
          reachable[t] = TRUE;
          grew = TRUE;
        }
      }
    }
  }
  if (!reachable[status] || status == MED_CASE_STATUS_SCHEDULED
      || status == MED_CASE_STATUS_IN_SESSION)
    goto bad;
  if (status != MED_CASE_STATUS_INTAKE && department == MED_DEPARTMENT_NONE
      && status != MED_CASE_STATUS_WITHDRAWN) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a case that is %s must name its department",
        med_case_status_to_string (status));
    return FALSE;
  }
  return TRUE;

bad:
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "a new case cannot start as %s",
      (guint) status < MED_CASE_STATUS_N ? med_case_status_to_string (status)
                                         : "an unknown status");
  return FALSE;
}

gboolean
store_check_party (const MedParty *p, guint index, GError **error)
{
  GError *local = NULL;

  if (!store_check_text (p->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "party name", error)
      || !store_check_text (p->contact, MED_MAX_NAME_BYTES, FALSE, TRUE,
          "party contact", error))
    return FALSE;
  if (!med_validate_language (p->language, &local))
    return store_propagate_invalid (error, local);
  if ((guint) p->role >= MED_PARTY_ROLE_N
      || (guint) p->attendance >= MED_ATTENDANCE_N) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "party %u: role or attendance out of range", index + 1);
    return FALSE;
  }
  return TRUE;
}

static gint64
insert_case (MedStore *store, const MedCase *c, gint64 centre_id,
    GPtrArray *parties, const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  guint n_parties = parties ? parties->len : 0;
  MedTime now = store_now (store);
  gint64 id;

  if (!store_check_text (c->number, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "case number", error)
      || !store_check_text (c->summary, MED_MAX_TEXT_BYTES, TRUE, TRUE,
          "case summary", error)
      || !check_initial_status (c->status, c->department, error))
    return 0;
  if ((guint) c->kind >= MED_CASE_KIND_N
      || (guint) c->department >= MED_DEPARTMENT_N || c->intake_at <= 0
      || c->deadline < 0 || c->duration_minutes < 0
      || c->duration_minutes > 1440 || n_parties > MED_MAX_PARTIES) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "case %s: kind, department, intake time, deadline, duration "
        "(0–1440 min) or number of parties (at most %d) out of range",
        c->number, MED_MAX_PARTIES);
    return 0;
  }
  for (guint i = 0; i < n_parties; i++) {
    if (!store_check_party (parties->pdata[i], i, error))
      return 0;
  }
  if (!require_centre (store, centre_id, error))
    return 0;
  {
    g_autoptr (StoreStmt) dup = store_stmt (store,
        "SELECT 1 FROM mcase "
        "WHERE centre_id = ?1 AND number = ?2",
        error);

    if (dup == NULL)
      return 0;
    store_bind_int64 (dup, 1, centre_id);
    store_bind_text (dup, 2, c->number);
    if (store_step (dup) == STORE_ROW) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT,
          "case number %s already exists", c->number);
      return 0;
    }
  }

  st = store_stmt (store,
      "INSERT INTO mcase (centre_id, number, kind, "
      "status, department, intake_at, deadline, minors, urgent, "
      "duration_minutes, summary, status_at, settled_at) VALUES (?1, ?2, "
      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
      error);
  if (st == NULL)
    return 0;
  store_bind_int64 (st, 1, centre_id);
  store_bind_text (st, 2, c->number);
  store_bind_text (st, 3, med_case_kind_to_string (c->kind));
  store_bind_text (st, 4, med_case_status_to_string (c->status));
  store_bind_text (st, 5, med_department_to_string (c->department));
  store_bind_int64 (st, 6, c->intake_at);
  store_bind_int64 (st, 7, c->deadline);
  store_bind_int (st, 8, c->minors ? 1 : 0);
  store_bind_int (st, 9, c->urgent ? 1 : 0);
  store_bind_int (st, 10, c->duration_minutes);
  store_bind_text (st, 11, c->summary ? c->summary : "");
  store_bind_int64 (st, 12, now);
  if (c->status == MED_CASE_STATUS_SETTLED)
    store_bind_int64 (st, 13, now);
  else
    store_bind_null (st, 13);
  if (!store_step_id (store, st, "adding case", &id, error))
    return 0;

  for (guint i = 0; i < n_parties; i++) {
    const MedParty *p = parties->pdata[i];
    g_autoptr (StoreStmt) ps = store_stmt (store,
        "INSERT INTO party "
        "(case_id, name, role, language, attendance, contact) VALUES (?1, "
        "?2, ?3, ?4, ?5, ?6)",
        error);

    if (ps == NULL)
      return 0;
    store_bind_int64 (ps, 1, id);
    store_bind_text (ps, 2, p->name);
    store_bind_text (ps, 3, med_party_role_to_string (p->role));
    store_bind_text (ps, 4, p->language);
    store_bind_text (ps, 5, med_attendance_to_string (p->attendance));
    store_bind_text (ps, 6, p->contact ? p->contact : "");
    if (!store_step_done (store, ps, "adding party", error))
      return 0;
  }

  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "number", c->number);
  store_detail_str (detail, "kind", med_case_kind_to_string (c->kind));
  store_detail_str (detail, "status", med_case_status_to_string (c->status));
  store_detail_int (detail, "parties", n_parties);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "case.add", "case", id, detail_s,
          error))
    return 0;
  return id;
}

gint64
med_store_add_case (MedStore *store, const MedCase *c, GPtrArray *parties,
    const char *actor, GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && c != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_case (store, c, c->centre_id, parties, actor, error);
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

gboolean
store_read_case (StoreStmt *st, MedCase **out, GError **error)
{
  g_autoptr (MedCase) c = med_case_new ();

  c->id = store_column_int64 (st, 0);
  c->centre_id = store_column_int64 (st, 1);
  c->number = store_column_text (st, 2);
  STORE_READ_ENUM (med_case_kind_from_string, st, 3, &c->kind, error);
  STORE_READ_ENUM (med_case_status_from_string, st, 4, &c->status, error);
  STORE_READ_ENUM (med_department_from_string, st, 5, &c->department, error);
  c->intake_at = store_column_int64 (st, 6);
  c->deadline = store_column_int64 (st, 7);
  c->minors = store_column_int (st, 8) != 0;
  c->urgent = store_column_int (st, 9) != 0;
  c->duration_minutes = store_column_int (st, 10);
  c->summary = store_column_text (st, 11);
  *out = g_steal_pointer (&c);
  return TRUE;
}

/* By id (number NULL), or by number in centre id. */
static MedCase *
get_case_by (MedStore *store, const char *sql, gint64 id, const char *number,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  MedCase *c = NULL;
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  if (number != NULL)
    store_bind_text (st, 2, number);
  rc = store_step (st);
  if (rc == STORE_ROW) {
    store_read_case (st, &c, error);
  } else if (rc == STORE_DONE) {
    if (number != NULL)
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
          "no case numbered %s", number);
    else
      not_found (error, "case", id);
  } else {
    store_set_error (store, "reading case", error);
  }
  return c;
}

MedCase *
med_store_get_case (MedStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return get_case_by (store,
      "SELECT " STORE_CASE_COLUMNS " FROM mcase WHERE "
      "id = ?1",
      id, NULL, error);
}

MedCase *
med_store_find_case (MedStore *store, gint64 centre_id, const char *number,
    GError **error)
{
  g_return_val_if_fail (store != NULL && number != NULL, NULL);
  /* numbers are unique within a centre, not across a province */
  return get_case_by (store,
      "SELECT " STORE_CASE_COLUMNS " FROM mcase WHERE "
      "centre_id = ?1 AND number = ?2",
      centre_id, number, error);
}

GPtrArray *
med_store_list_cases (MedStore *store, gint64 centre_id, gint status,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT " STORE_CASE_COLUMNS " FROM mcase WHERE "
      "centre_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR status = ?2) ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  if (status >= 0 && status < MED_CASE_STATUS_N)
    store_bind_text (st, 2, med_case_status_to_string (status));
  else if (status >= MED_CASE_STATUS_N)
    store_bind_text (st, 2, ""); /* matches nothing */
  return store_read_cases (store, st, "listing cases", error);
}

GPtrArray *
store_read_cases (MedStore *store, StoreStmt *st, const char *what,
    GError **error)
{
  g_autoptr (GPtrArray) list
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  int rc;

  while ((rc = store_step (st)) == STORE_ROW) {
    MedCase *c = NULL;

    if (!store_read_case (st, &c, error))
      return NULL;
    g_ptr_array_add (list, c);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, what, error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

gboolean
store_read_party (StoreStmt *st, MedParty **out, GError **error)
{
  g_autoptr (MedParty) p = med_party_new ();

  p->id = store_column_int64 (st, 0);
  p->case_id = store_column_int64 (st, 1);
  p->name = store_column_text (st, 2);
  STORE_READ_ENUM (med_party_role_from_string, st, 3, &p->role, error);
  p->language = store_column_text (st, 4);
  STORE_READ_ENUM (med_attendance_from_string, st, 5, &p->attendance, error);
  p->contact = store_column_text (st, 6);
  *out = g_steal_pointer (&p);
  return TRUE;
}

GPtrArray *
med_store_list_parties (MedStore *store, gint64 case_id, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, case_id, name, role, language, "
      "attendance, contact FROM party WHERE case_id = ?1 AND "
      "removed_at = 0 ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, case_id);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedParty *p = NULL;

    if (!store_read_party (st, &p, error))
      return NULL;
    g_ptr_array_add (list, p);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing parties", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

gboolean
store_case_state (MedStore *store, gint64 case_id, MedCaseStatus *status,
    gint64 *centre_id, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT status, centre_id "
      "FROM mcase WHERE id = ?1",
      error);
  int rc;

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, case_id);
  rc = store_step (st);
  if (rc == STORE_DONE) {
    not_found (error, "case", case_id);
    return FALSE;
  }
  if (rc != STORE_ROW) {
    store_set_error (store, "reading case", error);
    return FALSE;
  }
  STORE_READ_ENUM (med_case_status_from_string, st, 0, status, error);
  if (centre_id != NULL)
    *centre_id = store_column_int64 (st, 1);
  return TRUE;
}

gboolean
store_write_case_status (MedStore *store, gint64 case_id, MedCaseStatus from,
    MedCaseStatus to, MedDepartment department, const char *actor,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  MedTime now = store_now (store);

  st = store_stmt (store,
      "UPDATE mcase SET status = ?2, status_at = ?3, "
      "settled_at = CASE WHEN ?2 = 'settled' THEN ?3 ELSE settled_at END, "
      "department = coalesce (?4, department) WHERE id = ?1",
      error);
  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, case_id);
  store_bind_text (st, 2, med_case_status_to_string (to));
  store_bind_int64 (st, 3, now);
  if (department != MED_DEPARTMENT_NONE)
    store_bind_text (st, 4, med_department_to_string (department));
  if (!store_step_done (store, st, "changing case status", error))
    return FALSE;
  detail = g_string_new ("{");
  store_detail_str (detail, "from", med_case_status_to_string (from));
  store_detail_str (detail, "to", med_case_status_to_string (to));
  if (department != MED_DEPARTMENT_NONE)
    store_detail_str (detail, "department",
        med_department_to_string (department));
  detail_s = store_detail_end (detail);
  return store_audit_append (store, actor, "case.status", "case", case_id,
      detail_s, error);
}

gboolean
med_store_set_case_status (MedStore *store, gint64 case_id, MedCaseStatus to,
    MedDepartment department, const char *actor, GError **error)
{
  MedCaseStatus from;
  GError *local = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if ((guint) to >= MED_CASE_STATUS_N
      || (guint) department >= MED_DEPARTMENT_N) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "unknown case status or department");
    return FALSE;
  }
  if (to == MED_CASE_STATUS_DISPATCHED && department == MED_DEPARTMENT_NONE) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "dispatching a case needs a department");
    return FALSE;
  }
  if (!store_txn_begin (store, &txn, error)
      || !store_case_state (store, case_id, &from, NULL, error))
    goto out;
  if (!med_case_status_check_transition (from, to, &local)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "case %" G_GINT64_FORMAT ": %s", case_id, local->message);
    g_clear_error (&local);
    goto out;
  }
  ok = store_write_case_status (store, case_id, from, to, department, actor,
           error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* ---- holiday notices --------------------------------------------------- */

static const char *
day_kind_to_string (MedDayKind k)
{
  return k == MED_DAY_KIND_WORKDAY ? "workday" : "holiday";
}

gboolean
med_store_import_notice (MedStore *store, const MedNotice *n, const char *actor,
    GError **error)
{
  GError *local = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE, replaced = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && n != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if (!med_notice_validate (n, &local))
    return store_propagate_invalid (error, local);
  if (!store_check_text (n->id, MED_MAX_NAME_BYTES, FALSE, FALSE, "notice id",
          error)
      || !store_check_text (n->jurisdiction, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "notice jurisdiction", error)
      || !store_check_text (n->title, MED_MAX_TEXT_BYTES, FALSE, TRUE,
          "notice title", error)
      || !store_check_text (n->source, MED_MAX_TEXT_BYTES, FALSE, TRUE,
          "notice source", error)
      || !store_check_text (n->published, 32, FALSE, TRUE, "notice published",
          error))
    return FALSE;
  for (guint i = 0; n->days != NULL && i < n->days->len; i++) {
    if (!store_check_text (g_array_index (n->days, MedNoticeDay, i).name,
            MED_MAX_NAME_BYTES, FALSE, TRUE, "notice day name", error))
      return FALSE;
  }

  if (!store_txn_begin (store, &txn, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "DELETE FROM calendar_day "
        "WHERE notice_id = ?1",
        error);

    if (st == NULL)
      goto out;
    store_bind_text (st, 1, n->id);
    if (!store_step_done (store, st, "replacing notice", error))
      goto out;
    replaced = store_changes (store) > 0;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO "
        "calendar_notice (id, jurisdiction, layer, year, title, source, "
        "published, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (id) DO UPDATE SET jurisdiction = excluded.jurisdiction, "
        "layer = excluded.layer, year = excluded.year, title = excluded.title, "
        "source = excluded.source, published = excluded.published, "
        "imported_at = excluded.imported_at",
        error);

    if (st == NULL)
      goto out;
    store_bind_text (st, 1, n->id);
    store_bind_text (st, 2, n->jurisdiction);
    store_bind_text (st, 3, med_layer_to_string (n->layer));
    store_bind_int (st, 4, n->year);
    store_bind_text (st, 5, n->title ? n->title : "");
    store_bind_text (st, 6, n->source ? n->source : "");
    store_bind_text (st, 7, n->published ? n->published : "");
    store_bind_int64 (st, 8, store_now (store));
    if (!store_step_done (store, st, "importing notice", error))
      goto out;
    replaced = replaced || store_changes (store) == 0;
  }
  for (guint i = 0; n->days != NULL && i < n->days->len; i++) {
    const MedNoticeDay *d = &g_array_index (n->days, MedNoticeDay, i);
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO calendar_day "
        "(notice_id, year, month, day, kind, name) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6)",
        error);

    if (st == NULL)
      goto out;
    store_bind_text (st, 1, n->id);
    store_bind_int (st, 2, d->year);
    store_bind_int (st, 3, d->month);
    store_bind_int (st, 4, d->day);
    store_bind_text (st, 5, day_kind_to_string (d->kind));
    store_bind_text (st, 6, d->name ? d->name : "");
    if (!store_step_done (store, st, "importing notice day", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_str (detail, "id", n->id);
  store_detail_str (detail, "jurisdiction", n->jurisdiction);
  store_detail_int (detail, "year", n->year);
  store_detail_int (detail, "days", n->days ? n->days->len : 0);
  store_detail_int (detail, "replaced", replaced);
  detail_s = store_detail_end (detail);
  /* Notices have text ids; the audit row names it in detail. */
  ok = store_audit_append (store, actor, "notice.import", "calendar_notice", 0,
           detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

static GPtrArray *
list_notices (MedStore *store, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  /* in the order they were first imported (PostgreSQL has no rowid: its
   * schema numbers notices in ord) */
  st = store_stmt_dialect (store,
      "SELECT id, jurisdiction, layer, year, title, "
      "source, published FROM calendar_notice ORDER BY imported_at, rowid",
      "SELECT id, jurisdiction, layer, year, title, "
      "source, published FROM calendar_notice ORDER BY imported_at, ord",
      error);
  if (st == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_notice_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    g_autoptr (MedNotice) n = med_notice_new ();
    GError *local = NULL;

    g_free (n->id);
    n->id = store_column_text (st, 0);
    g_free (n->jurisdiction);
    n->jurisdiction = store_column_text (st, 1);
    if (!med_layer_from_string (store_column_str (st, 2), &n->layer, &local)) {
      store_corrupt_enum (error, local);
      return NULL;
    }
    n->year = store_column_int (st, 3);
    g_free (n->title);
    n->title = store_column_text (st, 4);
    g_free (n->source);
    n->source = store_column_text (st, 5);
    g_free (n->published);
    n->published = store_column_text (st, 6);
    g_ptr_array_add (list, g_steal_pointer (&n));
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing notices", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

GPtrArray *
med_store_list_notices (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return list_notices (store, error);
}

MedWorkcal *
med_store_load_workcal (MedStore *store, GError **error)
{
  g_autoptr (GPtrArray) notices = NULL;
  g_autoptr (MedWorkcal) wc = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  notices = list_notices (store, error);
  if (notices == NULL)
    return NULL;
  wc = med_workcal_new ();
  for (guint i = 0; i < notices->len; i++) {
    MedNotice *n = notices->pdata[i];
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT year, month, day, "
        "kind, name FROM calendar_day WHERE notice_id = ?1 ORDER BY id",
        error);
    GError *local = NULL;
    int rc;

    if (st == NULL)
      return NULL;
    store_bind_text (st, 1, n->id);
    while ((rc = store_step (st)) == STORE_ROW) {
      const char *kind = store_column_str (st, 3);

      med_notice_add_day (n, store_column_int (st, 0), store_column_int (st, 1),
          store_column_int (st, 2),
          g_strcmp0 (kind, "workday") == 0 ? MED_DAY_KIND_WORKDAY
                                           : MED_DAY_KIND_HOLIDAY,
          store_column_str (st, 4));
    }
    if (rc != STORE_DONE) {
      store_set_error (store, "reading notice days", error);
      return NULL;
    }
    if (!med_workcal_add_notice (wc, n, &local)) {
      store_propagate_invalid (error, local);
      return NULL;
    }
  }
  return g_steal_pointer (&wc);
}

/* ---- import documents -------------------------------------------------- */

gboolean
med_store_import_doc (MedStore *store, gint64 centre_id,
    const MedImportDoc *doc, const char *actor, guint *n_rooms,
    guint *n_mediators, guint *n_interpreters, guint *n_cases, GError **error)
{
  guint counts[4] = { 0 };
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && doc != NULL, FALSE);

  if (!store_check_actor (actor, error) || !store_txn_begin (store, &txn, error)
      || !require_centre (store, centre_id, error))
    goto out;
  for (guint i = 0; doc->rooms && i < doc->rooms->len; i++, counts[0]++) {
    if (insert_room (store, doc->rooms->pdata[i], centre_id, actor, error) == 0)
      goto out;
  }
  for (guint i = 0; doc->mediators && i < doc->mediators->len;
       i++, counts[1]++) {
    const MedMediator *m = doc->mediators->pdata[i];
    gint64 id = insert_mediator (store, m, centre_id, actor, error);

    if (id == 0)
      goto out;
    for (guint k = 0; m->leave != NULL && k < m->leave->len; k++) {
      const MedInterval *iv = &g_array_index (m->leave, MedInterval, k);

      if (!med_store_add_leave (store, id, iv->start, iv->end, actor, error))
        goto out;
    }
  }
  for (guint i = 0; doc->interpreters && i < doc->interpreters->len;
       i++, counts[2]++) {
    if (insert_interpreter (store, doc->interpreters->pdata[i], centre_id,
            actor, error)
        == 0)
      goto out;
  }
  for (guint i = 0; doc->cases && i < doc->cases->len; i++, counts[3]++) {
    GPtrArray *parties = doc->case_parties && i < doc->case_parties->len
        ? doc->case_parties->pdata[i]
        : NULL;

    if (insert_case (store, doc->cases->pdata[i], centre_id, parties, actor,
            error)
        == 0)
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "rooms", counts[0]);
  store_detail_int (detail, "mediators", counts[1]);
  store_detail_int (detail, "interpreters", counts[2]);
  store_detail_int (detail, "cases", counts[3]);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "doc.import", "centre", centre_id,
          detail_s, error)
      || !store_txn_commit (&txn, error))
    goto out;
  ok = TRUE;
  if (n_rooms)
    *n_rooms = counts[0];
  if (n_mediators)
    *n_mediators = counts[1];
  if (n_interpreters)
    *n_interpreters = counts[2];
  if (n_cases)
    *n_cases = counts[3];

out:
  store_txn_end (&txn);
  return ok;
}

/* ---- reports and checks ------------------------------------------------ */

gboolean
med_store_same_day_report (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, guint *n_cases, guint *n_settled, guint *n_same_day,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *zone = NULL;
  guint cases = 0, settled = 0, same_day = 0;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);

  zone = store_centre_zone (store, centre_id, error);
  if (zone == NULL)
    return FALSE;
  st = store_stmt (store,
      "SELECT intake_at, settled_at FROM mcase WHERE "
      "centre_id = ?1 AND intake_at >= ?2 AND intake_at < ?3 AND "
      "status <> 'withdrawn'",
      error);
  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, centre_id);
  store_bind_int64 (st, 2, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 3, to != 0 ? to : STORE_TIME_MAX);
  while ((rc = store_step (st)) == STORE_ROW) {
    gint y1, m1, d1, y2, m2, d2;

    cases++;
    if (store_column_null (st, 1))
      continue;
    settled++;
    if (med_workcal_local_date (zone, store_column_int64 (st, 0), &y1, &m1, &d1,
            NULL)
        && med_workcal_local_date (zone, store_column_int64 (st, 1), &y2, &m2,
            &d2, NULL)
        && y1 == y2 && m1 == m2 && d1 == d2)
      same_day++;
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading cases", error);
    return FALSE;
  }
  if (n_cases)
    *n_cases = cases;
  if (n_settled)
    *n_settled = settled;
  if (n_same_day)
    *n_same_day = same_day;
  return TRUE;
}

gboolean
med_store_check (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);

  /* the database's own checks, then the overlap scan the schema's
   * triggers or exclusion constraints should have made pointless */
  return store->drv->check (store, error)
      && store_check_overlaps (store, error);
}
