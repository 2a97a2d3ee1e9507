/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-audit.c — the store's audit log: one row per change, chained by
 * SHA-256 so that editing, removing or reordering a row breaks the chain
 * from that row on, and the check that walks the chain.
 *
 * The table refuses UPDATE and DELETE by trigger; the chain catches what
 * gets past the triggers (someone dropping them with the sqlite3 shell),
 * except the newest rows removed from the end: the chain left behind is
 * whole. An anchor (the head's id and hash, kept outside the table: with
 * each backup, in serve's log) catches that too.
 *
 * Canonical form of a row, hashed with SHA-256 and stored as lowercase
 * hex in audit.hash:
 *
 *   prev_hash US id US at US actor US action US entity US entity_id US detail
 *
 * where US is the byte 0x1F, integers are in decimal ASCII, text is the
 * stored UTF-8, and prev_hash is the previous row's hash (64 zeros for the
 * first row). detail is a small JSON object of ids, states and times: it
 * never holds party names or contacts. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <string.h>

#define ZERO_HASH                                                              \
  "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- detail JSON ------------------------------------------------------- */

static void
detail_key (GString *json, const char *key)
{
  if (json->len > 1)
    g_string_append_c (json, ',');
  g_string_append_printf (json, "\"%s\":", key);
}

void
store_detail_int (GString *json, const char *key, gint64 value)
{
  detail_key (json, key);
  g_string_append_printf (json, "%" G_GINT64_FORMAT, value);
}

void
store_detail_str (GString *json, const char *key, const char *value)
{
  detail_key (json, key);
  g_string_append_c (json, '"');
  for (const char *p = value ? value : ""; *p; p++) {
    guchar c = (guchar) *p;

    if (c == '"' || c == '\\')
      g_string_append_printf (json, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (json, "\\u%04x", c);
    else
      g_string_append_c (json, c);
  }
  g_string_append_c (json, '"');
}

char *
store_detail_end (GString *json)
{
  g_string_append_c (json, '}');
  return g_string_free (json, FALSE);
}

/* ---- the chain --------------------------------------------------------- */

static char *
hash_row (const char *prev_hash, gint64 id, MedTime at, const char *actor,
    const char *action, const char *entity, gint64 entity_id,
    const char *detail)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  const char *texts[] = { actor, action, entity };
  char num[32];

  g_checksum_update (sum, (const guchar *) prev_hash, -1);
  g_snprintf (num, sizeof num, "\x1f%" G_GINT64_FORMAT "\x1f%" G_GINT64_FORMAT,
      id, at);
  g_checksum_update (sum, (const guchar *) num, -1);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
    g_checksum_update (sum, (const guchar *) "\x1f", 1);
    g_checksum_update (sum, (const guchar *) texts[i], -1);
  }
  g_snprintf (num, sizeof num, "\x1f%" G_GINT64_FORMAT "\x1f", entity_id);
  g_checksum_update (sum, (const guchar *) num, -1);
  g_checksum_update (sum, (const guchar *) detail, -1);
  return g_strdup (g_checksum_get_string (sum));
}

gboolean
store_audit_append (MedStore *store, const char *actor, const char *action,
    const char *entity, gint64 entity_id, const char *detail, GError **error)
{
  g_autofree char *prev = NULL;
  g_autofree char *hash = NULL;
  gint64 id = 1;
  MedTime at = store_now (store);
  int rc;

  /* the chain's head is read and extended under the writers' lock: a
   * transaction without it (a shared one) would fork the chain */
  g_return_val_if_fail (store->writer, FALSE);
  if (detail == NULL)
    detail = "{}";
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT id, hash FROM audit "
        "ORDER BY id DESC LIMIT 1",
        error);

    if (st == NULL)
      return FALSE;
    rc = store_step (st);
    if (rc == STORE_ROW) {
      id = store_column_int64 (st, 0) + 1;
      prev = store_column_text (st, 1);
    } else if (rc == STORE_DONE) {
      prev = g_strdup (ZERO_HASH);
    } else {
      store_set_error (store, "reading the audit log", error);
      return FALSE;
    }
  }
  hash = hash_row (prev, id, at, actor, action, entity, entity_id, detail);
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO audit (id, at, "
        "actor, action, entity, entity_id, detail, prev_hash, hash) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        error);

    if (st == NULL)
      return FALSE;
    store_bind_int64 (st, 1, id);
    store_bind_int64 (st, 2, at);
    store_bind_text (st, 3, actor);
    store_bind_text (st, 4, action);
    store_bind_text (st, 5, entity);
    store_bind_int64 (st, 6, entity_id);
    store_bind_text (st, 7, detail);
    store_bind_text (st, 8, prev);
    store_bind_text (st, 9, hash);
    return store_step_done (store, st, "writing the audit log", error);
  }
}

gboolean
med_store_audit_verify (MedStore *store, gint64 *n_rows, gint64 *bad_id,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *expected_prev = g_strdup (ZERO_HASH);
  gint64 rows = 0;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);

  if (bad_id)
    *bad_id = 0;
  st = store_stmt (store,
      "SELECT id, at, actor, action, entity, entity_id, "
      "detail, prev_hash, hash FROM audit ORDER BY id",
      error);
  if (st == NULL)
    return FALSE;
  while ((rc = store_step (st)) == STORE_ROW) {
    gint64 id = store_column_int64 (st, 0);
    const char *prev = store_column_str (st, 7);
    const char *stored = store_column_str (st, 8);
    g_autofree char *hash = NULL;

    rows++;
    hash = hash_row (prev ? prev : "", id, store_column_int64 (st, 1),
        store_column_str (st, 2), store_column_str (st, 3),
        store_column_str (st, 4), store_column_int64 (st, 5),
        store_column_str (st, 6));
    if (g_strcmp0 (prev, expected_prev) != 0 || g_strcmp0 (hash, stored) != 0) {
      if (bad_id)
        *bad_id = id;
      if (n_rows)
        *n_rows = rows;
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT,
          "audit chain broken at row %" G_GINT64_FORMAT " (%s)", id,
          g_strcmp0 (prev, expected_prev) != 0
              ? "does not follow the previous row"
              : "row content does not match its hash");
      return FALSE;
    }
    g_free (expected_prev);
    expected_prev = g_strdup (stored);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading the audit log", error);
    return FALSE;
  }
  if (n_rows)
    *n_rows = rows;
  return TRUE;
}

/* ---- anchors ----------------------------------------------------------- */

gboolean
med_store_audit_head (MedStore *store, MedAuditAnchor *anchor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && anchor != NULL, FALSE);

  anchor->id = 0;
  g_strlcpy (anchor->hash, ZERO_HASH, sizeof anchor->hash);
  st = store_stmt (store, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
      error);
  if (st == NULL)
    return FALSE;
  rc = store_step (st);
  if (rc == STORE_DONE)
    return TRUE;
  if (rc != STORE_ROW) {
    store_set_error (store, "reading the audit log", error);
    return FALSE;
  }
  anchor->id = store_column_int64 (st, 0);
  g_strlcpy (anchor->hash,
      store_column_str (st, 1) ? store_column_str (st, 1) : "",
      sizeof anchor->hash);
  return TRUE;
}

char *
med_audit_anchor_to_string (const MedAuditAnchor *anchor)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%s", anchor->id, anchor->hash);
}

char *
med_audit_anchor_file_text (const MedAuditAnchor *anchor, const char *what)
{
  g_autofree char *line = med_audit_anchor_to_string (anchor);

  return g_strdup_printf ("# medsched audit anchor: the audit log's last row "
                          "(id:sha256)%s%s\n"
                          "# check a database against it with\n"
                          "#   medsched --db DB audit verify --anchor FILE\n"
                          "%s\n",
      what ? " " : "", what ? what : "", line);
}

static gboolean
parse_anchor_line (const char *line, MedAuditAnchor *anchor)
{
  const char *colon = strchr (line, ':');
  g_autofree char *num = NULL;
  guint64 id;

  if (colon == NULL || strlen (colon + 1) != 64)
    return FALSE;
  num = g_strndup (line, colon - line);
  if (!g_ascii_string_to_unsigned (num, 10, 0, G_MAXINT64, &id, NULL))
    return FALSE;
  for (const char *p = colon + 1; *p; p++) {
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  }
  anchor->id = (gint64) id;
  g_strlcpy (anchor->hash, colon + 1, sizeof anchor->hash);
  return TRUE;
}

gboolean
med_audit_anchor_parse (const char *text, MedAuditAnchor *anchor,
    GError **error)
{
  g_auto (GStrv) lines = NULL;
  guint found = 0;

  g_return_val_if_fail (anchor != NULL, FALSE);

  if (text == NULL || strlen (text) > 4096 || !g_utf8_validate (text, -1, NULL))
    goto bad;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    char *l = g_strstrip (lines[i]);

    if (*l == '\0' || *l == '#')
      continue;
    if (found++ > 0 || !parse_anchor_line (l, anchor))
      goto bad;
  }
  if (found == 1)
    return TRUE;
bad:
  g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "an audit anchor is ID:HASH (a row id, a colon and 64 lowercase hex "
      "digits)");
  return FALSE;
}

gboolean
med_store_audit_verify_anchor (MedStore *store, const MedAuditAnchor *anchor,
    gint64 *n_rows, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  MedAuditAnchor head;
  int rc;

  g_return_val_if_fail (store != NULL && anchor != NULL, FALSE);

  if (!med_store_audit_verify (store, n_rows, NULL, error)
      || !med_store_audit_head (store, &head, error))
    return FALSE;
  if (head.id < anchor->id) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT,
        "the audit log ends at row %" G_GINT64_FORMAT " but the anchor names "
        "row %" G_GINT64_FORMAT ": the newest rows were removed",
        head.id, anchor->id);
    return FALSE;
  }
  if (anchor->id == 0)
    return TRUE; /* anchored when the log was empty */
  st = store_stmt (store, "SELECT hash FROM audit WHERE id = ?1", error);
  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, anchor->id);
  rc = store_step (st);
  if (rc != STORE_ROW && rc != STORE_DONE) {
    store_set_error (store, "reading the audit log", error);
    return FALSE;
  }
  if (rc == STORE_DONE
      || g_strcmp0 (store_column_str (st, 0), anchor->hash) != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT,
        "audit row %" G_GINT64_FORMAT " is not the row the anchor names: the "
        "log was rewritten from there on",
        anchor->id);
    return FALSE;
  }
  return TRUE;
}

void
med_audit_entry_free (MedAuditEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->actor);
  g_free (e->action);
  g_free (e->entity);
  g_free (e->detail);
  g_free (e);
}

GPtrArray *
med_store_list_audit (MedStore *store, const char *entity, gint64 entity_id,
    GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, at, actor, action, entity, entity_id, "
      "detail FROM audit WHERE CAST(?1 AS TEXT) IS NULL OR (entity = ?1 AND "
      "entity_id = ?2) ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  if (entity != NULL)
    store_bind_text (st, 1, entity);
  store_bind_int64 (st, 2, entity_id);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_audit_entry_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedAuditEntry *e = g_new0 (MedAuditEntry, 1);

    e->id = store_column_int64 (st, 0);
    e->at = store_column_int64 (st, 1);
    e->actor = store_column_text (st, 2);
    e->action = store_column_text (st, 3);
    e->entity = store_column_text (st, 4);
    e->entity_id = store_column_int64 (st, 5);
    e->detail = store_column_text (st, 6);
    g_ptr_array_add (list, e);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing the audit log", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}
