/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-party.c — a case's parties after intake (added, corrected,
 * removed) and finding cases (by number, a party's name or phone, status,
 * day, mediator; paged), plus an audit row written by the service for
 * what it decides itself (an undone booking).
 *
 * A removed party is kept, marked removed: its consent to a recording and
 * the links revoked for it stay on record, and its id is never given to
 * another party (SQLite reuses the highest rowid once it is deleted, and a
 * party's join link is derived from its id: a deleted party's old link
 * would open the session for whoever got the id next). Every query that
 * reads parties leaves removed ones out. Audit rows name the party by id
 * and the fields that changed, never their values. The rules (which case
 * states allow edits, a case keeps at least one party) are the service's. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <string.h>

/* Migration 5. */
const char store_migration_party[]
    = "ALTER TABLE party ADD COLUMN removed_at INTEGER NOT NULL DEFAULT 0;";

#define PARTY_COLUMNS "id, case_id, name, role, language, attendance, contact"

static gboolean
require_case (MedStore *store, gint64 case_id, GError **error)
{
  MedCaseStatus status;
  gint64 centre;

  return store_case_state (store, case_id, &status, &centre, error);
}

MedParty *
med_store_get_party (MedStore *store, gint64 case_id, gint64 party_id,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  MedParty *p = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT " PARTY_COLUMNS " FROM party WHERE id = ?1 AND case_id = ?2 "
      "AND removed_at = 0",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, party_id);
  store_bind_int64 (st, 2, case_id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    store_read_party (st, &p, error);
  else if (rc == STORE_DONE)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "case %" G_GINT64_FORMAT " has no party %" G_GINT64_FORMAT, case_id,
        party_id);
  else
    store_set_error (store, "reading a party", error);
  return p;
}

static gint
count_parties (MedStore *store, gint64 case_id, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT count(*) FROM party WHERE case_id = ?1 AND removed_at = 0",
      error);
  int rc;

  if (st == NULL)
    return -1;
  store_bind_int64 (st, 1, case_id);
  rc = store_step (st);
  if (rc != STORE_ROW) {
    store_set_error (store, "counting parties", error);
    return -1;
  }
  return store_column_int (st, 0);
}

/* Binds name, role, language, attendance and contact from ?first on. */
static void
bind_party (StoreStmt *st, int first, const MedParty *p)
{
  store_bind_text (st, first, p->name);
  store_bind_text (st, first + 1, med_party_role_to_string (p->role));
  store_bind_text (st, first + 2, p->language);
  store_bind_text (st, first + 3, med_attendance_to_string (p->attendance));
  store_bind_text (st, first + 4, p->contact ? p->contact : "");
}

gint64
med_store_add_party (MedStore *store, gint64 case_id, const MedParty *p,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gint64 id = 0;
  gint n;

  g_return_val_if_fail (store != NULL && p != NULL, 0);

  if (!store_check_actor (actor, error) || !store_check_party (p, 0, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  if (!require_case (store, case_id, error)
      || (n = count_parties (store, case_id, error)) < 0)
    goto out;
  if (n >= MED_MAX_PARTIES) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a case has at most %d parties", MED_MAX_PARTIES);
    goto out;
  }
  st = store_stmt (store,
      "INSERT INTO party (case_id, name, role, language, attendance, "
      "contact) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, case_id);
  bind_party (st, 2, p);
  if (!store_step_id (store, st, "adding a party", &id, error))
    goto out;
  d = g_string_new ("{");
  store_detail_int (d, "party", id);
  store_detail_str (d, "role", med_party_role_to_string (p->role));
  store_detail_str (d, "attendance", med_attendance_to_string (p->attendance));
  detail = store_detail_end (d);
  if (!store_audit_append (store, actor, "party.add", "case", case_id, detail,
          error)
      || !store_txn_commit (&txn, error))
    id = 0;
out:
  store_txn_end (&txn);
  return id;
}

gboolean
med_store_update_party (MedStore *store, const MedParty *p, const char *actor,
    GError **error)
{
  g_autoptr (MedParty) old = NULL;
  g_autoptr (StoreStmt) st = NULL;
  g_autoptr (GString) changed = g_string_new (NULL);
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gboolean ok = FALSE;

  g_return_val_if_fail (store != NULL && p != NULL, FALSE);

  if (!store_check_actor (actor, error) || !store_check_party (p, 0, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  if ((old = med_store_get_party (store, p->case_id, p->id, error)) == NULL)
    goto out;
#define CHANGED(field, a, b)                                                   \
  if (g_strcmp0 (a, b) != 0)                                                   \
  g_string_append (changed, changed->len ? "," field : field)
  CHANGED ("name", old->name, p->name);
  CHANGED ("role", med_party_role_to_string (old->role),
      med_party_role_to_string (p->role));
  CHANGED ("language", old->language, p->language);
  CHANGED ("attendance", med_attendance_to_string (old->attendance),
      med_attendance_to_string (p->attendance));
  CHANGED ("contact", old->contact ? old->contact : "",
      p->contact ? p->contact : "");
#undef CHANGED
  if (changed->len == 0) {
    ok = store_txn_commit (&txn, error);
    goto out;
  }
  st = store_stmt (store,
      "UPDATE party SET name = ?3, role = ?4, language = ?5, "
      "attendance = ?6, contact = ?7 WHERE id = ?1 AND case_id = ?2",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, p->id);
  store_bind_int64 (st, 2, p->case_id);
  bind_party (st, 3, p);
  if (!store_step_done (store, st, "correcting a party", error))
    goto out;
  d = g_string_new ("{");
  store_detail_int (d, "party", p->id);
  store_detail_str (d, "changed", changed->str);
  detail = store_detail_end (d);
  ok = store_audit_append (store, actor, "party.update", "case", p->case_id,
           detail, error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_remove_party (MedStore *store, gint64 case_id, gint64 party_id,
    const char *actor, GError **error)
{
  g_autoptr (MedParty) old = NULL;
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gboolean ok = FALSE;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  if ((old = med_store_get_party (store, case_id, party_id, error)) == NULL)
    goto out;
  st = store_stmt (store,
      "UPDATE party SET removed_at = ?3 WHERE id = ?1 AND case_id = ?2", error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, party_id);
  store_bind_int64 (st, 2, case_id);
  store_bind_int64 (st, 3, MAX (store_now (store), 1));
  if (!store_step_done (store, st, "removing a party", error))
    goto out;
  d = g_string_new ("{");
  store_detail_int (d, "party", party_id);
  detail = store_detail_end (d);
  ok = store_audit_append (store, actor, "party.remove", "case", case_id,
           detail, error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

/* ---- finding cases ----------------------------------------------------- */

/* text as a LIKE pattern matching it anywhere, with % _ and \ taken
 * literally; squeeze drops spaces and dashes (phone numbers are written
 * "138 0000 0001" as often as "13800000001"). (transfer full) */
static char *
like_pattern (const char *text, gboolean squeeze)
{
  GString *s = g_string_new ("%");

  for (const char *p = text; *p; p++) {
    if (squeeze && (*p == ' ' || *p == '-'))
      continue;
    if (*p == '%' || *p == '_' || *p == '\\')
      g_string_append_c (s, '\\');
    g_string_append_c (s, *p);
  }
  g_string_append_c (s, '%');
  return g_string_free (s, FALSE);
}

/* ?1 centre, ?2 status word or NULL, ?3 text pattern or NULL, ?4 the same
 * without spaces and dashes (phone numbers), ?5/?6 [from, to) of a
 * confirmed booking or NULL, ?7 that booking's mediator or NULL. LIKE is
 * SQLite's (ASCII letters in either case); PostgreSQL's ILIKE does the
 * same. */
#define SEARCH_WHERE(LIKE)                                                     \
  "FROM mcase c WHERE c.centre_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "      \
  "c.status = ?2) AND (CAST(?3 AS TEXT) IS NULL OR c.number " LIKE " ?3 "      \
  "ESCAPE '\\' OR EXISTS (SELECT 1 FROM party p WHERE p.case_id = c.id AND "   \
  "p.removed_at = 0 AND (p.name " LIKE " ?3 ESCAPE '\\' OR (p.contact <> '' "  \
  "AND replace(replace(p.contact, ' ', ''), '-', '') " LIKE " ?4 ESCAPE "      \
  "'\\')))) AND ((CAST(?5 AS BIGINT) IS NULL AND CAST(?7 AS BIGINT) IS NULL) " \
  "OR EXISTS (SELECT 1 FROM booking b WHERE b.case_id = c.id AND "             \
  "b.status = 'confirmed' AND (CAST(?5 AS BIGINT) IS NULL OR (b.end_at > ?5 "  \
  "AND b.start_at < ?6)) AND (CAST(?7 AS BIGINT) IS NULL OR "                  \
  "b.mediator_id = ?7))) "

static void
bind_search (StoreStmt *st, gint64 centre_id, const MedCaseQuery *q,
    const char *pattern, const char *squeezed)
{
  store_bind_int64 (st, 1, centre_id);
  if (q->status >= 0 && q->status < MED_CASE_STATUS_N)
    store_bind_text (st, 2, med_case_status_to_string (q->status));
  if (pattern != NULL) {
    store_bind_text (st, 3, pattern);
    store_bind_text (st, 4, squeezed);
  }
  if (q->from != 0 || q->to != 0) {
    store_bind_int64 (st, 5, q->from != 0 ? q->from : STORE_TIME_MIN);
    store_bind_int64 (st, 6, q->to != 0 ? q->to : STORE_TIME_MAX);
  }
  if (q->mediator_id != 0)
    store_bind_int64 (st, 7, q->mediator_id);
}

GPtrArray *
med_store_search_cases (MedStore *store, gint64 centre_id,
    const MedCaseQuery *q, guint offset, guint limit, guint *total,
    GError **error)
{
  g_autoptr (StoreStmt) count = NULL;
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *pattern = NULL, *squeezed = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && q != NULL, NULL);

  if (q->text != NULL && *q->text != '\0') {
    if (!store_check_text (q->text, MED_MAX_NAME_BYTES, FALSE, FALSE,
            "search text", error))
      return NULL;
    pattern = like_pattern (q->text, FALSE);
    squeezed = like_pattern (q->text, TRUE);
  }
  if (q->status >= MED_CASE_STATUS_N) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "unknown case status");
    return NULL;
  }
  if (total != NULL) {
    count = store_stmt_dialect (store, "SELECT count(*) " SEARCH_WHERE ("LIKE"),
        "SELECT count(*) " SEARCH_WHERE ("ILIKE"), error);
    if (count == NULL)
      return NULL;
    bind_search (count, centre_id, q, pattern, squeezed);
    rc = store_step (count);
    if (rc != STORE_ROW) {
      store_set_error (store, "counting cases", error);
      return NULL;
    }
    *total = (guint) store_column_int64 (count, 0);
  }
  st = store_stmt_dialect (store,
      "SELECT c.id, c.centre_id, c.number, c.kind, c.status, c.department, "
      "c.intake_at, c.deadline, c.minors, c.urgent, c.duration_minutes, "
      "c.summary " SEARCH_WHERE (
          "LIKE") "ORDER BY c.intake_at DESC, c.id DESC LIMIT ?8 OFFSET ?9",
      "SELECT c.id, c.centre_id, c.number, c.kind, c.status, c.department, "
      "c.intake_at, c.deadline, c.minors, c.urgent, c.duration_minutes, "
      "c.summary " SEARCH_WHERE (
          "ILIKE") "ORDER BY c.intake_at DESC, c.id DESC LIMIT ?8 OFFSET ?9",
      error);
  if (st == NULL)
    return NULL;
  bind_search (st, centre_id, q, pattern, squeezed);
  store_bind_int64 (st, 8, limit);
  store_bind_int64 (st, 9, offset);
  return store_read_cases (store, st, "finding cases", error);
}

/* ---- audit rows of the service's own decisions ------------------------- */

static gboolean
audit_word_ok (const char *s)
{
  gsize n = s ? strlen (s) : 0;

  if (n == 0 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_islower (s[i]) && !g_ascii_isdigit (s[i]) && s[i] != '.'
        && s[i] != '-' && s[i] != '_')
      return FALSE;
  }
  return TRUE;
}

gboolean
med_store_add_audit (MedStore *store, const char *actor, const char *action,
    const char *entity, gint64 entity_id, const char *detail, GError **error)
{
  StoreTxn txn;
  gboolean ok;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if (!audit_word_ok (action) || !audit_word_ok (entity)
      || (detail != NULL
          && (!store_check_text (detail, MED_MAX_TEXT_BYTES, FALSE, FALSE,
                  "audit detail", NULL)
              || detail[0] != '{'))) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "an audit row needs an action and an entity (lowercase words) and "
        "a JSON object or no detail");
    return FALSE;
  }
  if (!store_txn_begin (store, &txn, error))
    return FALSE;
  ok = store_audit_append (store, actor, action, entity, entity_id, detail,
           error)
      && store_txn_commit (&txn, error);
  store_txn_end (&txn);
  return ok;
}
