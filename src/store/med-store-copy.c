/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-copy.c — moving a centre between databases: every row of one
 * store into an empty other, whichever drivers they use (a SQLite file into
 * a province's PostgreSQL database, or back into a file).
 *
 * The copy is exact: ids, the audit chain (ids, times, hashes), users'
 * password strings and token hashes, the join secret (so that parties'
 * links keep working), the outbox with its ledger, recording rows. The
 * source must pass med_store_check and its audit chain; the destination is
 * written in one transaction (under the writers' lock) and checked before
 * the commit: its own integrity and overlap check, its audit chain, whose
 * head must be the source's. Anything else refuses the copy and leaves the
 * destination as it was (a new SQLite file is removed again).
 *
 * Lossless or not at all: every table of the source must be one this file
 * knows (a migration that adds a table must add it here), and every column
 * of a source table must exist in the destination, else nothing is
 * copied. Tables are copied parents first; rows in key order. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <glib/gstdio.h>
#include <string.h>

/* The tables in an order that satisfies their foreign keys, each with the
 * order its rows are read in (the primary key; notices in the order they
 * were imported) and whether its id numbers new rows (an identity column
 * in PostgreSQL, which goes on after the copied ids). */
static const struct
{
  const char *name;
  const char *order_lite;
  const char *order_pg;
  gboolean numbered;
} tables[] = {
  { "centre", "id", "id", TRUE },
  { "room", "id", "id", TRUE },
  { "mediator", "id", "id", TRUE },
  { "mediator_leave", "id", "id", TRUE },
  { "interpreter", "id", "id", TRUE },
  { "mcase", "id", "id", TRUE },
  { "party", "id", "id", TRUE },
  { "booking", "id", "id", TRUE },
  { "calendar_notice", "rowid", "ord", FALSE },
  { "calendar_day", "id", "id", TRUE },
  { "audit", "id", "id", FALSE },
  { "attendee_status", "booking_uid, email", "booking_uid, email", FALSE },
  { "outbox", "id", "id", TRUE },
  { "outbox_ledger", "id", "id", TRUE },
  { "external_busy", "id", "id", TRUE },
  { "app_user", "id", "id", TRUE },
  { "api_token", "id", "id", TRUE },
  { "web_session", "hash", "hash", FALSE },
  { "capability", "id", "id", TRUE },
  { "join_revoked", "booking_id, party_id", "booking_id, party_id", FALSE },
  { "join_generation", "booking_id, party_id", "booking_id, party_id", FALSE },
  { "recording", "id", "id", TRUE },
  { "recording_segment", "recording_id, idx", "recording_id, idx", FALSE },
  { "consent", "booking_id, party_id", "booking_id, party_id", FALSE },
  { "recording_event", "id", "id", TRUE },
  { "retention", "case_kind", "case_kind", FALSE },
};

/* Tables a copy leaves alone: the schema's own bookkeeping (copied key by
 * key below), and what PostgreSQL derives from other rows by trigger. */
static const char *const not_copied[]
    = { "medsched_meta", "booking_party", "data_version" };

/* Columns a driver makes itself (PostgreSQL's notice numbering). */
static gboolean
derived_column (const char *table, const char *column)
{
  return strcmp (table, "calendar_notice") == 0 && strcmp (column, "ord") == 0;
}

/* Tables the destination fills with defaults when it is created: replaced
 * by the source's rows. */
static gboolean
replaced_table (const char *table)
{
  return strcmp (table, "retention") == 0;
}

/* A statement of dynamic text (table and column names of this file, never
 * data), not cached. */
static StoreStmt *
stmt_new (MedStore *store, const char *sql, GError **error)
{
  StoreStmt *st = store->drv->prepare (store, sql);

  if (st == NULL)
    store_set_error (store, "preparing a copy", error);
  return st;
}

static void
stmt_free (StoreStmt *st)
{
  if (st != NULL)
    st->store->drv->finalize (st);
}

/* The tables of a store's schema. (transfer full) */
static GPtrArray *
list_tables (MedStore *store, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (StoreStmt) st = store_stmt_dialect (store,
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
      "LIKE 'sqlite_%' ORDER BY name",
      "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
      "ORDER BY tablename",
      error);
  int rc;

  if (st == NULL)
    return NULL;
  while ((rc = store_step (st)) == STORE_ROW)
    g_ptr_array_add (names, store_column_text (st, 0));
  if (rc != STORE_DONE) {
    store_set_error (store, "listing tables", error);
    return NULL;
  }
  return g_steal_pointer (&names);
}

/* The columns of a table, in the table's order. (transfer full) */
static GPtrArray *
list_columns (MedStore *store, const char *table, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT * FROM %s LIMIT 0", table);
  g_autoptr (GPtrArray) cols = g_ptr_array_new_with_free_func (g_free);
  StoreStmt *st = stmt_new (store, sql, error);
  int n;

  if (st == NULL)
    return NULL;
  if (store_step (st) == STORE_ERROR) {
    store_set_error (store, "reading a table's columns", error);
    stmt_free (st);
    return NULL;
  }
  n = store->drv->column_count (st);
  for (int i = 0; i < n; i++)
    g_ptr_array_add (cols, g_strdup (store->drv->column_name (st, i)));
  stmt_free (st);
  return g_steal_pointer (&cols);
}

static gboolean
contains (GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++) {
    if (strcmp (g_ptr_array_index (names, i), name) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Every source table is known: a table this file does not copy would be
 * lost. */
static gboolean
check_known_tables (MedStore *src, GError **error)
{
  g_autoptr (GPtrArray) names = list_tables (src, error);

  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index (names, i);
    gboolean known = FALSE;

    for (guint k = 0; k < G_N_ELEMENTS (tables) && !known; k++)
      known = strcmp (tables[k].name, name) == 0;
    for (guint k = 0; k < G_N_ELEMENTS (not_copied) && !known; k++)
      known = strcmp (not_copied[k], name) == 0;
    if (!known) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "the source has a table %s that store copy does not know; nothing "
          "was copied",
          name);
      return FALSE;
    }
  }
  return TRUE;
}

static gint64
count_rows (MedStore *store, const char *table, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s", table);
  StoreStmt *st = stmt_new (store, sql, error);
  gint64 n = -1;

  if (st == NULL)
    return -1;
  if (store_step (st) == STORE_ROW)
    n = store_column_int64 (st, 0);
  else
    store_set_error (store, "counting rows", error);
  stmt_free (st);
  return n;
}

/* A destination may hold the defaults of a new store, nothing else. */
static gboolean
check_empty (MedStore *dst, GError **error)
{
  for (guint k = 0; k < G_N_ELEMENTS (tables); k++) {
    gint64 n;

    if (replaced_table (tables[k].name))
      continue;
    n = count_rows (dst, tables[k].name, error);
    if (n < 0)
      return FALSE;
    if (n > 0) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "the destination %s is not empty (table %s has %" G_GINT64_FORMAT
          " rows); store copy fills only a new, empty store",
          dst->path, tables[k].name, n);
      return FALSE;
    }
  }
  return TRUE;
}

/* The keys of medsched_meta besides the schema's own (the join secret):
 * replaced in the destination. */
static gboolean
copy_meta (MedStore *src, MedStore *dst, GError **error)
{
  g_autoptr (StoreStmt) get = store_stmt (src,
      "SELECT key, value FROM medsched_meta WHERE key NOT IN ('app', "
      "'schema_version') ORDER BY key",
      error);
  int rc;

  if (get == NULL)
    return FALSE;
  while ((rc = store_step (get)) == STORE_ROW) {
    g_autoptr (StoreStmt) put = store_stmt (dst,
        "INSERT INTO medsched_meta (key, value) VALUES (?1, ?2) ON CONFLICT "
        "(key) DO UPDATE SET value = excluded.value",
        error);

    if (put == NULL)
      return FALSE;
    store_bind_text (put, 1, store_column_str (get, 0));
    store_bind_text (put, 2, store_column_str (get, 1));
    if (!store_step_done (dst, put, "copying medsched_meta", error))
      return FALSE;
  }
  if (rc != STORE_DONE) {
    store_set_error (src, "reading medsched_meta", error);
    return FALSE;
  }
  return TRUE;
}

/* Copies one table's rows; *n_rows gets how many. */
static gboolean
copy_table (MedStore *src, MedStore *dst, guint k, gint64 *n_rows,
    GError **error)
{
  const char *table = tables[k].name;
  g_autoptr (GPtrArray) from = NULL, to = NULL;
  g_autoptr (GString) cols = g_string_new (NULL);
  g_autoptr (GString) marks = g_string_new (NULL);
  g_autofree char *select = NULL, *insert = NULL;
  GArray *take = g_array_new (FALSE, FALSE, sizeof (int));
  StoreStmt *get = NULL, *put = NULL;
  gboolean ok = FALSE;
  int rc;

  *n_rows = 0;
  if ((from = list_columns (src, table, error)) == NULL
      || (to = list_columns (dst, table, error)) == NULL)
    goto out;
  for (guint i = 0; i < from->len; i++) {
    const char *c = g_ptr_array_index (from, i);

    if (derived_column (table, c))
      continue;
    if (!contains (to, c)) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "the destination's table %s has no column %s; nothing was copied",
          table, c);
      goto out;
    }
    g_string_append_printf (cols, "%s%s", take->len ? ", " : "", c);
    g_string_append_printf (marks, "%s?%u", take->len ? ", " : "",
        take->len + 1);
    g_array_append_val (take, i);
  }
  if (replaced_table (table)) {
    g_autofree char *sql = g_strdup_printf ("DELETE FROM %s", table);

    if (!dst->drv->exec (dst, sql)) {
      store_set_error (dst, "copying", error);
      goto out;
    }
  }
  select = g_strdup_printf ("SELECT %s FROM %s ORDER BY %s", cols->str, table,
      store_is_pg (src) ? tables[k].order_pg : tables[k].order_lite);
  insert = g_strdup_printf ("INSERT INTO %s (%s) VALUES (%s)", table, cols->str,
      marks->str);
  if ((get = stmt_new (src, select, error)) == NULL
      || (put = stmt_new (dst, insert, error)) == NULL)
    goto out;
  while ((rc = store_step (get)) == STORE_ROW) {
    dst->drv->reset (put);
    for (guint i = 0; i < take->len; i++) {
      switch (src->drv->column_type (get, i)) {
        case STORE_COL_NULL:
          store_bind_null (put, i + 1);
          break;
        case STORE_COL_INT:
          store_bind_int64 (put, i + 1, store_column_int64 (get, i));
          break;
        default:
          store_bind_text (put, i + 1, store_column_str (get, i));
          break;
      }
    }
    if (store_step (put) == STORE_ERROR) {
      store_set_error (dst, "copying", error);
      g_prefix_error (error, "table %s: ", table);
      goto out;
    }
    (*n_rows)++;
  }
  if (rc != STORE_DONE) {
    store_set_error (src, "reading", error);
    g_prefix_error (error, "table %s: ", table);
    goto out;
  }
  /* PostgreSQL: identity columns go on after the copied ids */
  if (store_is_pg (dst) && tables[k].numbered && *n_rows > 0) {
    g_autofree char *sql = g_strdup_printf (
        "SELECT setval(pg_get_serial_sequence('%s', 'id')::regclass, "
        "max(id)) FROM %s",
        table, table);

    if (!dst->drv->exec (dst, sql)) {
      store_set_error (dst, "setting the next id", error);
      goto out;
    }
  }
  ok = TRUE;

out:
  stmt_free (get);
  stmt_free (put);
  g_array_unref (take);
  return ok;
}

gboolean
med_store_copy (const char *from, const char *to, MedStoreCopy *out,
    GError **error)
{
  g_autoptr (MedStore) src = NULL;
  g_autoptr (MedStore) dst = NULL;
  g_autofree char *new_file = NULL;
  MedAuditAnchor head, arrived;
  gint64 rows = 0, audit_rows = 0;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (from != NULL && to != NULL, FALSE);

  if (strcmp (from, to) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "source and destination are the same store");
    return FALSE;
  }
  /* the source as it is: checked, its chain whole */
  src = med_store_open_existing (from, error);
  if (src == NULL) {
    g_prefix_error (error, "source: ");
    return FALSE;
  }
  if (!med_store_check (src, error)
      || !med_store_audit_verify (src, NULL, NULL, error)
      || !med_store_audit_head (src, &head, error)
      || !check_known_tables (src, error)) {
    g_prefix_error (error, "source %s: ", src->path);
    return FALSE;
  }
  /* a file destination is new (and removed again on failure); a
   * database destination is empty */
  if (med_store_url_is_file (to)) {
    const char *path = g_str_has_prefix (to, "sqlite:") ? to + 7 : to;

    if (g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "%s exists; store copy writes a new file", path);
      return FALSE;
    }
    new_file = g_strdup (path);
  }
  dst = med_store_open (to, error);
  if (dst == NULL) {
    g_prefix_error (error, "destination: ");
    goto out;
  }
  if (!store_txn_begin (dst, &txn, error) || !check_empty (dst, error)
      || !copy_meta (src, dst, error))
    goto out;
  for (guint k = 0; k < G_N_ELEMENTS (tables); k++) {
    gint64 n = 0;

    if (!copy_table (src, dst, k, &n, error))
      goto out;
    rows += n;
    if (strcmp (tables[k].name, "audit") == 0)
      audit_rows = n;
  }
  /* checked on arrival, before anything is committed */
  if (!med_store_check (dst, error)
      || !med_store_audit_verify (dst, NULL, NULL, error)
      || !med_store_audit_head (dst, &arrived, error)) {
    g_prefix_error (error, "the copy fails its checks, nothing was written: ");
    goto out;
  }
  if (arrived.id != head.id || strcmp (arrived.hash, head.hash) != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT,
        "the copy's audit log ends at row %" G_GINT64_FORMAT
        " but the source's at %" G_GINT64_FORMAT "; nothing was written",
        arrived.id, head.id);
    goto out;
  }
  if (!store_txn_commit (&txn, error))
    goto out;
  ok = TRUE;
  if (out != NULL) {
    out->rows = rows;
    out->audit_rows = audit_rows;
    out->head = head;
  }

out:
  store_txn_end (&txn);
  if (!ok && new_file != NULL) {
    g_clear_pointer (&dst, med_store_close);
    store_remove_db_files (new_file);
  }
  return ok;
}
