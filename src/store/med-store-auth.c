/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-auth.c — who may use the server, kept in the store: users with
 * a role (admin, clerk, mediator) and a centre (a token or session finds
 * its user only for that centre's server), their API tokens, web sessions with
 * their CSRF token, calendar-feed capability links and revoked party join
 * links (and the audit row of a link sent by hand); plus the facts the access rule of src/service needs (how many
 * live bookings of a case name a mediator) and the data version the HTTP
 * caches key on.
 *
 * Secrets never reach this file: callers pass the lowercase hex SHA-256 of
 * a token (med_http_hash_secret), and a password only as its PBKDF2 string.
 * Every lookup by hash is one indexed query whatever the outcome, so that a
 * miss and a revoked entry cost the same. Schema: store_migration_auth,
 * appended to the migrations of med-store.c. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <string.h>

/* Migration 3: users, API tokens, web sessions, capability links. Hashes
 * are 64 hex digits; a mediator user names its mediator and nobody else
 * does. A party link is the HMAC join token of migration 2 (derived, not
 * stored); revoking one records its booking and party here. */
const char store_migration_auth[]
    = "CREATE TABLE app_user ("
      "  id INTEGER PRIMARY KEY,"
      "  name TEXT NOT NULL UNIQUE"
      "    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 64),"
      "  role TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'mediator')),"
      "  mediator_id INTEGER REFERENCES mediator (id),"
      "  password TEXT NOT NULL"
      "    CHECK (length(CAST(password AS BLOB)) BETWEEN 1 AND 512),"
      "  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
      "  created_at INTEGER NOT NULL,"
      "  CHECK ((role = 'mediator') = (mediator_id IS NOT NULL)));"

      "CREATE TABLE api_token ("
      "  id INTEGER PRIMARY KEY,"
      "  user_id INTEGER NOT NULL REFERENCES app_user (id),"
      "  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),"
      "  created_at INTEGER NOT NULL,"
      "  expires_at INTEGER NOT NULL DEFAULT 0,"
      "  revoked_at INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX api_token_user ON api_token (user_id);"

      "CREATE TABLE web_session ("
      "  hash TEXT PRIMARY KEY CHECK (length(hash) = 64),"
      "  user_id INTEGER NOT NULL REFERENCES app_user (id),"
      "  csrf TEXT NOT NULL CHECK (length(csrf) BETWEEN 16 AND 128),"
      "  created_at INTEGER NOT NULL,"
      "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE INDEX web_session_expiry ON web_session (expires_at);"

      "CREATE TABLE capability ("
      "  id INTEGER PRIMARY KEY,"
      "  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),"
      "  kind TEXT NOT NULL CHECK (kind IN ('room', 'mediator', 'case',"
      "    'centre')),"
      "  ref_id INTEGER NOT NULL,"
      "  created_at INTEGER NOT NULL,"
      "  expires_at INTEGER NOT NULL DEFAULT 0,"
      "  revoked_at INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX capability_ref ON capability (kind, ref_id);"

      "CREATE TABLE join_revoked ("
      "  booking_id INTEGER NOT NULL REFERENCES booking (id),"
      "  party_id INTEGER NOT NULL REFERENCES party (id),"
      "  revoked_at INTEGER NOT NULL,"
      "  PRIMARY KEY (booking_id, party_id)) WITHOUT ROWID;";

/* A trigger's body: a user without a centre, or a mediator user of
 * another centre's mediator, is refused (SQLite has no INSERT OR UPDATE
 * trigger: both below run it). */
#define USER_CENTRE_GUARD                                                      \
  "  SELECT RAISE (ABORT, 'a user belongs to a centre')"                       \
  "    WHERE NEW.centre_id IS NULL;"                                           \
  "  SELECT RAISE (ABORT, 'a mediator user works in their mediator''s "        \
  "centre')"                                                                   \
  "    WHERE NEW.mediator_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"        \
  "    mediator m WHERE m.id = NEW.mediator_id"                                \
  "    AND m.centre_id = NEW.centre_id);"

/* Migration 7: a province in one database — every user belongs to one
 * centre and signs in to that centre's `serve` only. Existing users go to
 * their mediator's centre, the others to the store's first centre (a store
 * of one centre changes nothing). SQLite cannot add a NOT NULL column that
 * references another table, so triggers refuse a user without a centre,
 * and a mediator user whose mediator works in another centre. Feed links
 * need no column: theirs is the centre of what they show. */
const char store_migration_province[]
    = "ALTER TABLE app_user ADD COLUMN centre_id INTEGER"
      "  REFERENCES centre (id);"
      "UPDATE app_user SET centre_id = coalesce ("
      "  (SELECT m.centre_id FROM mediator m"
      "    WHERE m.id = app_user.mediator_id),"
      "  (SELECT min (id) FROM centre));"
      "CREATE INDEX app_user_centre ON app_user (centre_id);"
      /* clang-format off */
      "CREATE TRIGGER app_user_centre_insert BEFORE INSERT ON app_user BEGIN"
      USER_CENTRE_GUARD "END;"
      "CREATE TRIGGER app_user_centre_update"
      "  BEFORE UPDATE OF centre_id, mediator_id ON app_user BEGIN"
      USER_CENTRE_GUARD "END;";
/* clang-format on */

/* Migration 8: the language a feed link's texts are in (a code, "zh",
 * "bo" or "en", of the user who made it; '' for the centre's default). */
const char store_migration_feed_language[]
    = "ALTER TABLE capability ADD COLUMN language TEXT NOT NULL DEFAULT ''"
      "  CHECK (language IN ('', 'zh', 'bo', 'en'));";

static const char *const role_words[MED_ROLE_N] = {
  "admin",
  "clerk",
  "mediator",
};

const char *
med_role_to_string (MedRole r)
{
  g_return_val_if_fail (r < MED_ROLE_N, "?");
  return role_words[r];
}

gboolean
med_role_from_string (const char *s, MedRole *out, GError **error)
{
  for (guint i = 0; s != NULL && i < MED_ROLE_N; i++) {
    if (strcmp (s, role_words[i]) == 0) {
      *out = i;
      return TRUE;
    }
  }
  g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_UNKNOWN_ENUM,
      "role: expected admin, clerk or mediator");
  return FALSE;
}

static const char *const cap_words[MED_FEED_LINK_N] = {
  "room",
  "mediator",
  "case",
  "centre",
};

const char *
med_feed_link_kind_to_string (MedFeedLinkKind k)
{
  g_return_val_if_fail (k < MED_FEED_LINK_N, "?");
  return cap_words[k];
}

gboolean
med_feed_link_kind_from_string (const char *s, MedFeedLinkKind *out,
    GError **error)
{
  for (guint i = 0; s != NULL && i < MED_FEED_LINK_N; i++) {
    if (strcmp (s, cap_words[i]) == 0) {
      *out = i;
      return TRUE;
    }
  }
  g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_UNKNOWN_ENUM,
      "feed kind: expected room, mediator, case or centre");
  return FALSE;
}

void
med_user_free (MedUser *u)
{
  if (u == NULL)
    return;
  g_free (u->name);
  g_free (u->password);
  g_free (u);
}

void
med_feed_link_free (MedFeedLink *l)
{
  g_free (l);
}

static gboolean
check_hash (const char *hash, GError **error)
{
  gsize n = hash ? strlen (hash) : 0;

  if (n == 64) {
    for (gsize i = 0; i < n; i++) {
      if (!g_ascii_isxdigit (hash[i]) || g_ascii_isupper (hash[i]))
        goto bad;
    }
    return TRUE;
  }
bad:
  g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "a secret's hash must be 64 lowercase hex digits");
  return FALSE;
}

/* ---- users ------------------------------------------------------------- */

#define USER_COLUMNS                                                           \
  "u.id, u.name, u.role, u.mediator_id, u.password, u.disabled, "              \
  "u.created_at, u.centre_id"

static MedUser *
read_user (StoreStmt *st, GError **error)
{
  g_autoptr (MedUser) u = g_new0 (MedUser, 1);
  GError *local = NULL;

  u->id = store_column_int64 (st, 0);
  u->name = store_column_text (st, 1);
  if (!med_role_from_string (store_column_str (st, 2), &u->role, &local)) {
    store_corrupt_enum (error, local);
    return NULL;
  }
  u->mediator_id = store_column_int64 (st, 3);
  u->password = store_column_text (st, 4);
  u->disabled = store_column_int (st, 5) != 0;
  u->created_at = store_column_int64 (st, 6);
  u->centre_id = store_column_int64 (st, 7);
  return g_steal_pointer (&u);
}

/* Steps a statement expected to give at most one user row. */
static MedUser *
step_user (MedStore *store, StoreStmt *st, const char *what, GError **error)
{
  int rc = store_step (st);

  if (rc == STORE_ROW)
    return read_user (st, error);
  if (rc == STORE_DONE)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "%s: not found", what);
  else
    store_set_error (store, what, error);
  return NULL;
}

gboolean
med_store_check_user_name (const char *name, GError **error)
{
  GError *local = NULL;

  if (!med_validate_text (name, 64, FALSE, FALSE, "user name", &local))
    return store_propagate_invalid (error, local);
  for (const char *p = name; *p; p++) {
    if (*p == ' ' || *p == ':' || *p == '/' || *p == '\\') {
      g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "user name: no spaces, ':', '/' or '\\'");
      return FALSE;
    }
  }
  return TRUE;
}

gint64
med_store_add_user (MedStore *store, const MedUser *u, const char *actor,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gint64 id = 0;

  g_return_val_if_fail (store != NULL && u != NULL, 0);

  if (!store_check_actor (actor, error)
      || !med_store_check_user_name (u->name, error))
    return 0;
  if (u->role >= MED_ROLE_N
      || (u->role == MED_ROLE_MEDIATOR) != (u->mediator_id > 0)) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a mediator user names its mediator, and only a mediator user does");
    return 0;
  }
  if (u->centre_id <= 0) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a user belongs to a centre");
    return 0;
  }
  if (u->password == NULL || *u->password == '\0'
      || strlen (u->password) > 512) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a user needs a password hash");
    return 0;
  }
  if (!store_txn_begin (store, &txn, error))
    return 0;
  /* a clear answer before the schema's own refusal */
  if (u->mediator_id > 0) {
    if (!med_store_in_centre (store, MED_STORE_OF_MEDIATOR, u->mediator_id,
            u->centre_id, error))
      goto out;
  } else {
    g_autoptr (MedCentre) c = med_store_get_centre (store, u->centre_id, error);

    if (c == NULL)
      goto out;
  }
  st = store_stmt (store,
      "INSERT INTO app_user (name, role, mediator_id, password, disabled, "
      "created_at, centre_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
      "RETURNING id",
      error);
  if (st == NULL)
    goto out;
  store_bind_text (st, 1, u->name);
  store_bind_text (st, 2, role_words[u->role]);
  if (u->mediator_id > 0)
    store_bind_int64 (st, 3, u->mediator_id);
  else
    store_bind_null (st, 3);
  store_bind_text (st, 4, u->password);
  store_bind_int (st, 5, u->disabled ? 1 : 0);
  store_bind_int64 (st, 6, store_now (store));
  store_bind_int64 (st, 7, u->centre_id);
  if (!store_step_id (store, st, "adding user", &id, error))
    goto out;
  d = g_string_new ("{");
  store_detail_int (d, "centre", u->centre_id);
  store_detail_str (d, "role", role_words[u->role]);
  if (u->mediator_id > 0)
    store_detail_int (d, "mediator_id", u->mediator_id);
  detail = store_detail_end (d);
  if (!store_audit_append (store, actor, "user.add", "user", id, detail, error)
      || !store_txn_commit (&txn, error))
    id = 0;
out:
  store_txn_end (&txn);
  return id;
}

MedUser *
med_store_get_user (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT " USER_COLUMNS " FROM app_user u WHERE u.id = ?1", error);

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  return step_user (store, st, "user", error);
}

MedUser *
med_store_find_user (MedStore *store, const char *name, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  if (name == NULL || !g_utf8_validate (name, -1, NULL)) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "user: not found");
    return NULL;
  }
  st = store_stmt (store,
      "SELECT " USER_COLUMNS " FROM app_user u WHERE u.name = ?1", error);
  if (st == NULL)
    return NULL;
  store_bind_text (st, 1, name);
  return step_user (store, st, "user", error);
}

GPtrArray *
med_store_list_users (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (GPtrArray) users
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_user_free);
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT " USER_COLUMNS " FROM app_user u WHERE u.centre_id = ?1 "
      "ORDER BY u.id",
      error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedUser *u = read_user (st, error);

    if (u == NULL)
      return NULL;
    g_ptr_array_add (users, u);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing users", error);
    return NULL;
  }
  return g_steal_pointer (&users);
}

gboolean
med_store_set_user_password (MedStore *store, gint64 user_id,
    const char *password, const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error))
    return FALSE;
  if (password == NULL || *password == '\0' || strlen (password) > 512) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a user needs a password hash");
    return FALSE;
  }
  if (!store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store, "UPDATE app_user SET password = ?2 WHERE id = ?1",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, user_id);
  store_bind_text (st, 2, password);
  if (!store_step_done (store, st, "setting a password", error))
    goto out;
  if (store_changes (store) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "user %" G_GINT64_FORMAT ": not found", user_id);
    goto out;
  }
  ok = store_audit_append (store, actor, "user.password", "user", user_id, NULL,
           error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

/* ---- API tokens -------------------------------------------------------- */

gint64
med_store_add_token (MedStore *store, gint64 user_id, const char *hash,
    MedTime expires_at, const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gint64 id = 0;

  if (!store_check_actor (actor, error) || !check_hash (hash, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO api_token (user_id, hash, created_at, expires_at) "
      "VALUES (?1, ?2, ?3, ?4) RETURNING id",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, user_id);
  store_bind_text (st, 2, hash);
  store_bind_int64 (st, 3, store_now (store));
  store_bind_int64 (st, 4, MAX (expires_at, 0));
  if (!store_step_id (store, st, "adding a token", &id, error))
    goto out;
  if (!store_audit_append (store, actor, "token.add", "user", user_id, NULL,
          error)
      || !store_txn_commit (&txn, error))
    id = 0;
out:
  store_txn_end (&txn);
  return id;
}

MedUser *
med_store_user_by_token (MedStore *store, gint64 centre_id, const char *hash,
    MedTime now, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  if (!check_hash (hash, NULL)) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "token: not found");
    return NULL;
  }
  st = store_stmt (store,
      "SELECT " USER_COLUMNS " FROM api_token t JOIN app_user u "
      "ON u.id = t.user_id WHERE t.hash = ?1 AND t.revoked_at = 0 "
      "AND (t.expires_at = 0 OR t.expires_at > ?2) AND u.disabled = 0 "
      "AND u.centre_id = ?3",
      error);
  if (st == NULL)
    return NULL;
  store_bind_text (st, 1, hash);
  store_bind_int64 (st, 2, now);
  store_bind_int64 (st, 3, centre_id);
  return step_user (store, st, "token", error);
}

gboolean
med_store_revoke_tokens (MedStore *store, gint64 user_id, const char *actor,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "UPDATE api_token SET revoked_at = ?2 WHERE user_id = ?1 "
      "AND revoked_at = 0",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, user_id);
  store_bind_int64 (st, 2, store_now (store));
  ok = store_step_done (store, st, "revoking tokens", error)
      && store_audit_append (store, actor, "token.revoke", "user", user_id,
          NULL, error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

/* ---- web sessions ------------------------------------------------------ */

gboolean
med_store_add_session (MedStore *store, const char *hash, gint64 user_id,
    const char *csrf, MedTime expires_at, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autoptr (StoreStmt) purge = NULL;
  MedTime now = store_now (store);

  if (!check_hash (hash, error))
    return FALSE;
  if (csrf == NULL || strlen (csrf) < 16 || strlen (csrf) > 128) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a session needs a CSRF token of 16–128 characters");
    return FALSE;
  }
  /* Expired sessions go when new ones come: the table stays small. */
  purge = store_stmt (store, "DELETE FROM web_session WHERE expires_at <= ?1",
      error);
  if (purge == NULL)
    return FALSE;
  store_bind_int64 (purge, 1, now);
  if (!store_step_done (store, purge, "purging sessions", error))
    return FALSE;
  st = store_stmt (store,
      "INSERT INTO web_session (hash, user_id, csrf, created_at, "
      "expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
      error);
  if (st == NULL)
    return FALSE;
  store_bind_text (st, 1, hash);
  store_bind_int64 (st, 2, user_id);
  store_bind_text (st, 3, csrf);
  store_bind_int64 (st, 4, now);
  store_bind_int64 (st, 5, expires_at);
  return store_step_done (store, st, "adding a session", error);
}

MedUser *
med_store_session_user (MedStore *store, gint64 centre_id, const char *hash,
    MedTime now, char **csrf, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  MedUser *u;

  if (!check_hash (hash, NULL)) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "session: not found");
    return NULL;
  }
  st = store_stmt (store,
      "SELECT " USER_COLUMNS ", s.csrf FROM web_session s JOIN app_user u "
      "ON u.id = s.user_id WHERE s.hash = ?1 AND s.expires_at > ?2 "
      "AND u.disabled = 0 AND u.centre_id = ?3",
      error);
  if (st == NULL)
    return NULL;
  store_bind_text (st, 1, hash);
  store_bind_int64 (st, 2, now);
  store_bind_int64 (st, 3, centre_id);
  u = step_user (store, st, "session", error);
  if (u != NULL && csrf != NULL)
    *csrf = store_column_text (st, 8);
  return u;
}

gboolean
med_store_delete_session (MedStore *store, const char *hash, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  if (!check_hash (hash, NULL))
    return TRUE;
  st = store_stmt (store, "DELETE FROM web_session WHERE hash = ?1", error);
  if (st == NULL)
    return FALSE;
  store_bind_text (st, 1, hash);
  return store_step_done (store, st, "ending a session", error);
}

/* ---- feed links -------------------------------------------------------- */

gint64
med_store_add_feed_link (MedStore *store, MedFeedLinkKind kind, gint64 ref_id,
    const char *hash, MedTime expires_at, const char *language,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gint64 id = 0;

  if (kind >= MED_FEED_LINK_N || ref_id <= 0) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a feed link names a room, mediator, case or centre");
    return 0;
  }
  if (language == NULL)
    language = "";
  if (strcmp (language, "") != 0 && strcmp (language, "zh") != 0
      && strcmp (language, "bo") != 0 && strcmp (language, "en") != 0) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a feed link's language is zh, bo or en");
    return 0;
  }
  if (!store_check_actor (actor, error) || !check_hash (hash, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO capability (hash, kind, ref_id, created_at, expires_at, "
      "language) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
      error);
  if (st == NULL)
    goto out;
  store_bind_text (st, 1, hash);
  store_bind_text (st, 2, cap_words[kind]);
  store_bind_int64 (st, 3, ref_id);
  store_bind_int64 (st, 4, store_now (store));
  store_bind_int64 (st, 5, MAX (expires_at, 0));
  store_bind_text (st, 6, language);
  if (!store_step_id (store, st, "adding a feed link", &id, error))
    goto out;
  d = g_string_new ("{");
  store_detail_str (d, "kind", cap_words[kind]);
  store_detail_int (d, "ref_id", ref_id);
  detail = store_detail_end (d);
  if (!store_audit_append (store, actor, "feed.link", "feed_link", id, detail,
          error)
      || !store_txn_commit (&txn, error))
    id = 0;
out:
  store_txn_end (&txn);
  return id;
}

static MedFeedLink *
read_feed_link (StoreStmt *st, GError **error)
{
  g_autoptr (MedFeedLink) l = g_new0 (MedFeedLink, 1);
  GError *local = NULL;

  l->id = store_column_int64 (st, 0);
  if (!med_feed_link_kind_from_string (store_column_str (st, 1), &l->kind,
          &local)) {
    store_corrupt_enum (error, local);
    return NULL;
  }
  l->ref_id = store_column_int64 (st, 2);
  l->created_at = store_column_int64 (st, 3);
  l->expires_at = store_column_int64 (st, 4);
  l->revoked_at = store_column_int64 (st, 5);
  g_strlcpy (l->language,
      store_column_str (st, 6) ? store_column_str (st, 6) : "",
      sizeof l->language);
  return g_steal_pointer (&l);
}

MedFeedLink *
med_store_find_feed_link (MedStore *store, gint64 centre_id, const char *hash,
    MedTime now, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autoptr (MedFeedLink) l = NULL;
  int rc;

  if (!check_hash (hash, NULL)) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "feed: not found");
    return NULL;
  }
  st = store_stmt (store,
      "SELECT l.id, l.kind, l.ref_id, l.created_at, l.expires_at, "
      "l.revoked_at, l.language FROM capability l WHERE l.hash = ?1 "
      "AND " STORE_FEED_LINK_CENTRE ("l") " = ?2",
      error);
  if (st == NULL)
    return NULL;
  store_bind_text (st, 1, hash);
  store_bind_int64 (st, 2, centre_id);
  rc = store_step (st);
  if (rc == STORE_ROW) {
    if ((l = read_feed_link (st, error)) == NULL)
      return NULL;
  } else if (rc != STORE_DONE) {
    store_set_error (store, "reading a feed link", error);
    return NULL;
  }
  /* Missing, revoked and expired are one answer. */
  if (l == NULL || l->revoked_at != 0
      || (l->expires_at != 0 && l->expires_at <= now)) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "feed: not found");
    return NULL;
  }
  return g_steal_pointer (&l);
}

GPtrArray *
med_store_list_feed_links (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (GPtrArray) list
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_feed_link_free);
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT l.id, l.kind, l.ref_id, l.created_at, l.expires_at, "
      "l.revoked_at, l.language FROM capability l "
      "WHERE " STORE_FEED_LINK_CENTRE ("l") " = ?1 ORDER BY l.id",
      error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedFeedLink *l = read_feed_link (st, error);

    if (l == NULL)
      return NULL;
    g_ptr_array_add (list, l);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing feed links", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

gboolean
med_store_revoke_feed_link (MedStore *store, gint64 id, const char *actor,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "UPDATE capability SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, id);
  store_bind_int64 (st, 2, store_now (store));
  if (!store_step_done (store, st, "revoking a feed link", error))
    goto out;
  if (store_changes (store) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "feed link %" G_GINT64_FORMAT ": not found or already revoked", id);
    goto out;
  }
  ok = store_audit_append (store, actor, "feed.revoke", "feed_link", id, NULL,
           error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

/* ---- party join links -------------------------------------------------- */

gboolean
med_store_revoke_join (MedStore *store, gint64 booking_id, gint64 party_id,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "INSERT INTO join_revoked (booking_id, party_id, revoked_at) "
      "SELECT b.id, p.id, ?3 FROM booking b JOIN party p ON p.case_id = "
      "b.case_id WHERE b.id = ?1 AND p.id = ?2 AND p.removed_at = 0 "
      "ON CONFLICT DO NOTHING",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, booking_id);
  store_bind_int64 (st, 2, party_id);
  store_bind_int64 (st, 3, store_now (store));
  if (!store_step_done (store, st, "revoking a join link", error))
    goto out;
  if (store_changes (store) == 0
      && !med_store_join_revoked (store, booking_id, party_id)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "booking %" G_GINT64_FORMAT " has no party %" G_GINT64_FORMAT,
        booking_id, party_id);
    goto out;
  }
  d = g_string_new ("{");
  store_detail_int (d, "party_id", party_id);
  detail = store_detail_end (d);
  ok = store_audit_append (store, actor, "join.revoke", "booking", booking_id,
           detail, error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_join_sent (MedStore *store, gint64 booking_id, gint64 party_id,
    const char *channel, gint64 outbox_id, const char *actor, GError **error)
{
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  d = g_string_new ("{");
  store_detail_int (d, "party_id", party_id);
  store_detail_str (d, "channel", channel);
  store_detail_int (d, "outbox", outbox_id);
  detail = store_detail_end (d);
  ok = store_audit_append (store, actor, "join.send", "booking", booking_id,
           detail, error)
      && store_txn_commit (&txn, error);
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_join_revoked (MedStore *store, gint64 booking_id, gint64 party_id)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT 1 FROM join_revoked WHERE booking_id = ?1 AND party_id = ?2",
      NULL);

  /* When in doubt, the link is revoked. */
  if (st == NULL)
    return TRUE;
  store_bind_int64 (st, 1, booking_id);
  store_bind_int64 (st, 2, party_id);
  return store_step (st) != STORE_DONE;
}

/* ---- facts for the access rule, and caches ----------------------------- */

gint
med_store_count_mediator_bookings (MedStore *store, gint64 mediator_id,
    gint64 case_id, gboolean include_cancelled, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT count(*) FROM booking WHERE case_id = ?1 AND mediator_id = ?2 "
      "AND (?3 OR status <> 'cancelled')",
      error);

  if (st == NULL)
    return -1;
  store_bind_int64 (st, 1, case_id);
  store_bind_int64 (st, 2, mediator_id);
  store_bind_int (st, 3, include_cancelled ? 1 : 0);
  if (store_step (st) != STORE_ROW) {
    store_set_error (store, "counting a mediator's bookings", error);
    return -1;
  }
  return (gint) MIN (store_column_int64 (st, 0), G_MAXINT);
}
