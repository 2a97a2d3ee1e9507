/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-outbox.c — what the store keeps for invites and feeds (schema
 * version 2) and for telling parties by SMS (version 5): e-mail addresses
 * of mediators and interpreters, the centre's public URL and telephone,
 * the parties' join tokens (an HMAC of the booking UID, the party id and
 * the link's generation under a secret that never leaves the store), the
 * attendees' replies, the outbox of both channels (iMIP e-mail, SMS) with
 * its retry schedule and the append-only ledger of what the MTA or the SMS
 * gateway accepted, and busy time imported from external calendars.
 *
 * No iCalendar here: messages arrive finished (built by the ical module
 * in the layer above) and are stored, leased, marked and counted. Every
 * change is one transaction with its audit row; audit details name
 * attendees by kind and id, never by address. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <string.h>

#define JOIN_TOKEN_CHARS 22
#define MAX_ERROR_BYTES  1000
/* an SMS text: ten concatenated parts of 70 UCS-2 characters need at most
 * about 2 KB of UTF-8; more is a mistake, not a message */
#define MAX_SMS_BYTES 2048

/* Migration 5: parties told by SMS, links issued again, the centre's
 * telephone. The outbox gets a channel (mail or sms) and a purpose (what
 * the message says: an iMIP invite, or the SMS of a booking, a move, a
 * cancellation, the day-before reminder, a link sent by hand); the claim
 * and the due index go by channel, so each transport takes only its own.
 * The ledger notes the channel. join_generation counts how often a party's
 * link to a booking was issued again: the token of generation g > 0 is the
 * HMAC of "join:" UID ":" party ":" g, so an old link stays dead. */
const char store_migration_sms[]
    = "ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'mail'"
      "  CHECK (channel IN ('mail', 'sms'));"
      "ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'invite'"
      "  CHECK (purpose IN ('invite', 'booked', 'moved', 'cancelled',"
      "    'reminder', 'link'));"
      "DROP INDEX outbox_due;"
      "CREATE INDEX outbox_due ON outbox (channel, next_attempt_at)"
      "  WHERE state = 'pending';"
      "ALTER TABLE outbox_ledger ADD COLUMN channel TEXT NOT NULL"
      "  DEFAULT 'mail' CHECK (channel IN ('mail', 'sms'));"
      "ALTER TABLE centre ADD COLUMN phone TEXT NOT NULL DEFAULT ''"
      "  CHECK (length(CAST(phone AS BLOB)) <= 64);"
      "CREATE TABLE join_generation ("
      "  booking_id INTEGER NOT NULL REFERENCES booking (id),"
      "  party_id INTEGER NOT NULL REFERENCES party (id),"
      "  generation INTEGER NOT NULL CHECK (generation >= 1),"
      "  issued_at INTEGER NOT NULL,"
      "  PRIMARY KEY (booking_id, party_id)) WITHOUT ROWID;";

/* ---- small helpers ----------------------------------------------------- */

static const char *
person_table (MedStorePerson who)
{
  return who == MED_STORE_PERSON_INTERPRETER ? "interpreter" : "mediator";
}

static gboolean
check_person (MedStorePerson who, GError **error)
{
  if (who == MED_STORE_PERSON_MEDIATOR || who == MED_STORE_PERSON_INTERPRETER)
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "unknown kind of person");
  return FALSE;
}

/* Runs a one-parameter "SELECT 1 … WHERE id = ?1"; NOT_FOUND names what. */
static gboolean
require_id (MedStore *store, const char *sql, const char *what, gint64 id,
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
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no %s %" G_GINT64_FORMAT, what, id);
  else
    store_set_error (store, "reading the store", error);
  return FALSE;
}

static gboolean
require_person (MedStore *store, MedStorePerson who, gint64 id, GError **error)
{
  return require_id (store,
      who == MED_STORE_PERSON_INTERPRETER
          ? "SELECT 1 FROM interpreter WHERE id = ?1"
          : "SELECT 1 FROM mediator WHERE id = ?1",
      person_table (who), id, error);
}

gboolean
med_store_is_email (const char *s)
{
  const char *at;

  if (s == NULL || strlen (s) < 3 || strlen (s) > 254)
    return FALSE;
  at = strchr (s, '@');
  if (at == NULL || at == s || strchr (at + 1, '@') != NULL || at[1] == '\0'
      || strchr (at + 1, '.') == NULL || at[strlen (at) - 1] == '.'
      || at[1] == '.')
    return FALSE;
  for (const char *p = s; *p; p++) {
    guchar c = (guchar) *p;

    /* printable ASCII without what would break a header or an address
     * list; e-mail addresses outside ASCII (RFC 6531) are not taken */
    if (c <= 0x20 || c >= 0x7f || strchr ("<>()[]\\,;:\"", c) != NULL)
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_email (const char *email, gboolean allow_empty, GError **error)
{
  if ((email == NULL || *email == '\0') && allow_empty)
    return TRUE;
  if (med_store_is_email (email))
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "not an e-mail address (local@domain, ASCII, no spaces)");
  return FALSE;
}

char *
med_store_sms_number (const char *contact)
{
  GString *out;
  guint digits = 0;

  if (contact == NULL || strlen (contact) > 64)
    return NULL;
  out = g_string_new (NULL);
  for (const char *p = contact; *p; p++) {
    if (g_ascii_isdigit (*p)) {
      g_string_append_c (out, *p);
      digits++;
    } else if (*p == '+' && out->len == 0) {
      g_string_append_c (out, '+');
    } else if (strchr (" -.()", *p) == NULL) {
      g_string_free (out, TRUE);
      return NULL;
    }
  }
  if (digits < 5 || digits > 20) {
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

/* The form med_store_sms_number gives, already normalised. */
static gboolean
check_sms_number (const char *s, GError **error)
{
  g_autofree char *n = med_store_sms_number (s);

  if (n != NULL && strcmp (n, s) == 0)
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "not an SMS number (an optional + and 5–20 digits)");
  return FALSE;
}

/* ---- e-mail addresses and the public URL -------------------------------- */

gboolean
med_store_set_email (MedStore *store, MedStorePerson who, gint64 id,
    const char *email, const char *actor, GError **error)
{
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (store != NULL, FALSE);

  if (email == NULL)
    email = "";
  if (!store_check_actor (actor, error) || !check_person (who, error)
      || !check_email (email, TRUE, error)
      || !store_txn_begin (store, &txn, error)
      || !require_person (store, who, id, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        who == MED_STORE_PERSON_INTERPRETER
            ? "UPDATE interpreter SET email = ?2 WHERE id = ?1"
            : "UPDATE mediator SET email = ?2 WHERE id = ?1",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, id);
    store_bind_text (st, 2, email);
    if (!store_step_done (store, st, "setting the e-mail address", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "set", *email != '\0');
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor,
           who == MED_STORE_PERSON_INTERPRETER ? "interpreter.email"
                                               : "mediator.email",
           person_table (who), id, detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

char *
med_store_get_email (MedStore *store, MedStorePerson who, gint64 id,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  if (!check_person (who, error))
    return NULL;
  st = store_stmt (store,
      who == MED_STORE_PERSON_INTERPRETER
          ? "SELECT email FROM interpreter WHERE id = ?1"
          : "SELECT email FROM mediator WHERE id = ?1",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return store_column_text (st, 0);
  if (rc == STORE_DONE)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no %s %" G_GINT64_FORMAT, person_table (who), id);
  else
    store_set_error (store, "reading the e-mail address", error);
  return NULL;
}

/* http(s)://host[:port][/path] without query, fragment, spaces or
 * control characters; a trailing slash is dropped. (transfer full) */
static char *
normalize_url (const char *url, GError **error)
{
  g_autofree char *u = NULL;
  gsize len;

  if (!store_check_text (url, MED_MAX_NAME_BYTES, FALSE, FALSE, "public URL",
          error))
    return NULL;
  u = g_strdup (url);
  len = strlen (u);
  while (len > 0 && u[len - 1] == '/')
    u[--len] = '\0';
  if (!(g_str_has_prefix (u, "https://") || g_str_has_prefix (u, "http://"))
      || strchr (u, '?') != NULL || strchr (u, '#') != NULL
      || strchr (u, '@') != NULL || strlen (strstr (u, "://") + 3) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "public URL must look like https://host[/path] (no query, no "
        "fragment, no user)");
    return NULL;
  }
  for (const char *p = u; *p; p++) {
    if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7f) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "public URL must be ASCII without spaces (use punycode and "
          "percent-encoding)");
      return NULL;
    }
  }
  return g_steal_pointer (&u);
}

/* Sets one text column of the centre (sql: "UPDATE centre SET col = ?2
 * WHERE id = ?1") with its audit row (action, detail_key: the value, which
 * is never personal data). */
static gboolean
set_centre_text (MedStore *store, gint64 centre_id, const char *sql,
    const char *value, const char *action, const char *detail_key,
    const char *actor, GError **error)
{
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;

  if (!store_txn_begin (store, &txn, error)
      || !require_id (store, "SELECT 1 FROM centre WHERE id = ?1", "centre",
          centre_id, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store, sql, error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, centre_id);
    store_bind_text (st, 2, value);
    if (!store_step_done (store, st, "changing the centre", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_str (detail, detail_key, value);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, action, "centre", centre_id, detail_s,
           error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* Reads one text column of the centre (sql: "SELECT col FROM centre WHERE
 * id = ?1"). (transfer full) */
static char *
get_centre_text (MedStore *store, gint64 centre_id, const char *sql,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return store_column_text (st, 0);
  if (rc == STORE_DONE)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no centre %" G_GINT64_FORMAT, centre_id);
  else
    store_set_error (store, "reading the centre", error);
  return NULL;
}

gboolean
med_store_set_public_url (MedStore *store, gint64 centre_id, const char *url,
    const char *actor, GError **error)
{
  g_autofree char *u = NULL;

  g_return_val_if_fail (store != NULL, FALSE);

  return store_check_actor (actor, error)
      && (u = normalize_url (url, error)) != NULL
      && set_centre_text (store, centre_id,
          "UPDATE centre SET public_url = ?2 WHERE id = ?1", u,
          "centre.public_url", "public_url", actor, error);
}

char *
med_store_get_public_url (MedStore *store, gint64 centre_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);

  return get_centre_text (store, centre_id,
      "SELECT public_url FROM centre WHERE id = ?1", error);
}

/* ---- the centre's telephone -------------------------------------------- */

static gboolean
check_centre_phone (const char *phone, GError **error)
{
  guint digits = 0;

  for (const char *p = phone; *p; p++) {
    if (g_ascii_isdigit (*p))
      digits++;
    else if (strchr (" +-()/", *p) == NULL)
      digits = 100; /* not a telephone number */
  }
  if (*phone == '\0' || (strlen (phone) <= 32 && digits >= 3 && digits <= 20))
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "a telephone number has 3–20 digits and only spaces, +, -, (, ) or / "
      "besides (at most 32 characters)");
  return FALSE;
}

gboolean
med_store_set_centre_phone (MedStore *store, gint64 centre_id,
    const char *phone, const char *actor, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);

  if (phone == NULL)
    phone = "";
  return store_check_actor (actor, error) && check_centre_phone (phone, error)
      && set_centre_text (store, centre_id,
          "UPDATE centre SET phone = ?2 WHERE id = ?1", phone, "centre.phone",
          "phone", actor, error);
}

char *
med_store_get_centre_phone (MedStore *store, gint64 centre_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);

  return get_centre_text (store, centre_id,
      "SELECT phone FROM centre WHERE id = ?1", error);
}

/* ---- join tokens ------------------------------------------------------- */

/* The 32-byte secret of migration 2, decoded from its hex form. */
static GBytes *
load_join_secret (MedStore *store, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT value FROM medsched_meta "
      "WHERE key = 'join_secret'",
      error);
  const char *hex;
  guint8 key[32];
  int rc;

  if (st == NULL)
    return NULL;
  rc = store_step (st);
  if (rc != STORE_ROW) {
    if (rc == STORE_DONE)
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "the store has no join secret");
    else
      store_set_error (store, "reading the join secret", error);
    return NULL;
  }
  hex = store_column_str (st, 0);
  if (hex == NULL || strlen (hex) != 2 * sizeof key) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
        "the store's join secret is damaged");
    return NULL;
  }
  for (guint i = 0; i < sizeof key; i++) {
    int hi = g_ascii_xdigit_value (hex[2 * i]);
    int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

    if (hi < 0 || lo < 0) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "the store's join secret is damaged");
      return NULL;
    }
    key[i] = (guint8) (hi << 4 | lo);
  }
  return g_bytes_new (key, sizeof key);
}

/* base64url (no padding) of HMAC-SHA256 (secret, "join:" uid ":" party),
 * or of "join:" uid ":" party ":" generation once the link was issued
 * again, cut to JOIN_TOKEN_CHARS. (transfer full) */
static char *
make_token (GBytes *secret, const char *uid, gint64 party_id, gint generation)
{
  g_autoptr (GHmac) hmac = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *b64 = NULL;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  gsize key_len = 0;
  const guint8 *key = g_bytes_get_data (secret, &key_len);

  hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  msg = generation > 0
      ? g_strdup_printf ("join:%s:%" G_GINT64_FORMAT ":%d", uid, party_id,
          generation)
      : g_strdup_printf ("join:%s:%" G_GINT64_FORMAT, uid, party_id);
  g_hmac_update (hmac, (const guchar *) msg, -1);
  g_hmac_get_digest (hmac, digest, &digest_len);
  b64 = g_base64_encode (digest, digest_len);
  for (char *p = b64; *p; p++) {
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
  }
  b64[JOIN_TOKEN_CHARS] = '\0';
  return g_steal_pointer (&b64);
}

char *
med_store_join_token (MedStore *store, gint64 booking_id, gint64 party_id,
    GError **error)
{
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT b.uid, coalesce (g.generation, 0) FROM "
      "booking b JOIN party p ON p.case_id = b.case_id LEFT JOIN "
      "join_generation g ON g.booking_id = b.id AND g.party_id = p.id "
      "WHERE b.id = ?1 AND p.id = ?2 AND p.removed_at = 0",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, booking_id);
  store_bind_int64 (st, 2, party_id);
  rc = store_step (st);
  if (rc == STORE_DONE) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no party %" G_GINT64_FORMAT " in booking %" G_GINT64_FORMAT, party_id,
        booking_id);
    return NULL;
  }
  if (rc != STORE_ROW) {
    store_set_error (store, "reading booking", error);
    return NULL;
  }
  {
    g_autofree char *uid = store_column_text (st, 0);
    gint generation = store_column_int (st, 1);

    secret = load_join_secret (store, error);
    if (secret == NULL)
      return NULL;
    return make_token (secret, uid, party_id, generation);
  }
}

char *
med_store_join_url (MedStore *store, gint64 booking_id, gint64 party_id,
    GError **error)
{
  g_autofree char *token = NULL;
  g_autofree char *base = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  token = med_store_join_token (store, booking_id, party_id, error);
  if (token == NULL)
    return NULL;
  st = store_stmt (store,
      "SELECT c.public_url FROM booking b JOIN room r "
      "ON r.id = b.room_id JOIN centre c ON c.id = r.centre_id "
      "WHERE b.id = ?1",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, booking_id);
  rc = store_step (st);
  if (rc != STORE_ROW) {
    store_set_error (store, "reading the public URL", error);
    return NULL;
  }
  base = store_column_text (st, 0);
  return g_strconcat (base, "/join/", token, NULL);
}

/* Compares two strings of the same length without stopping early. */
static gboolean
equal_constant_time (const char *a, const char *b, gsize len)
{
  guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= (guint8) (a[i] ^ b[i]);
  return diff == 0;
}

static gboolean
check_token_shape (const char *token, GError **error)
{
  if (token != NULL && strlen (token) == JOIN_TOKEN_CHARS
      && strspn (token,
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
             "0123456789-_")
          == JOIN_TOKEN_CHARS)
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
      "not a join token");
  return FALSE;
}

/* Runs sql (?1 from, ?2 to, ?3 the centre; rows: booking id, UID, party
 * id, current generation) and compares token with each row's current token, or with
 * every earlier generation's when earlier. Every candidate is computed and
 * compared: the time taken does not depend on where (or whether) the
 * token matches. NOT_FOUND (saying missing) when none does. */
static gboolean
scan_tokens (MedStore *store, const char *sql, gboolean earlier,
    gint64 centre_id, const char *token, MedTime from, MedTime to,
    gint64 *booking_id, gint64 *party_id, const char *missing, GError **error)
{
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (StoreStmt) st = NULL;
  gboolean found = FALSE;
  int rc;

  if (!check_token_shape (token, error)
      || (secret = load_join_secret (store, error)) == NULL
      || (st = store_stmt (store, sql, error)) == NULL)
    return FALSE;
  store_bind_int64 (st, 1, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 2, to != 0 ? to : STORE_TIME_MAX);
  store_bind_int64 (st, 3, centre_id);
  while ((rc = store_step (st)) == STORE_ROW) {
    gint current = store_column_int (st, 3);
    gint first = earlier ? 0 : current;
    gint last = earlier ? current - 1 : current;

    for (gint g = first; g <= last; g++) {
      g_autofree char *t = make_token (secret, store_column_str (st, 1),
          store_column_int64 (st, 2), g);

      if (equal_constant_time (t, token, JOIN_TOKEN_CHARS) && !found) {
        found = TRUE;
        if (booking_id)
          *booking_id = store_column_int64 (st, 0);
        if (party_id)
          *party_id = store_column_int64 (st, 2);
      }
    }
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "looking up a join token", error);
    return FALSE;
  }
  if (!found)
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        missing);
  return found;
}

gboolean
med_store_join_lookup (MedStore *store, gint64 centre_id, const char *token,
    MedTime from, MedTime to, gint64 *booking_id, gint64 *party_id,
    GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);

  return scan_tokens (store,
      "SELECT b.id, b.uid, p.id, coalesce (g.generation, 0) FROM booking b "
      "JOIN mcase c ON c.id = b.case_id "
      "JOIN party p ON p.case_id = b.case_id LEFT JOIN join_generation g ON "
      "g.booking_id = b.id AND g.party_id = p.id WHERE c.centre_id = ?3 AND "
      "b.status = 'confirmed' AND p.removed_at = 0 AND b.end_at > ?1 AND "
      "b.start_at < ?2 ORDER BY b.id, p.id",
      FALSE, centre_id, token, from, to, booking_id, party_id,
      "no session in that time window has this join token", error);
}

gboolean
med_store_join_lookup_replaced (MedStore *store, gint64 centre_id,
    const char *token, MedTime from, MedTime to, gint64 *booking_id,
    gint64 *party_id, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);

  /* only links issued again have earlier generations: few rows */
  return scan_tokens (store,
      "SELECT b.id, b.uid, g.party_id, g.generation FROM "
      "join_generation g JOIN booking b ON b.id = g.booking_id JOIN mcase c "
      "ON c.id = b.case_id JOIN party p "
      "ON p.id = g.party_id WHERE c.centre_id = ?3 AND "
      "b.status = 'confirmed' AND "
      "p.removed_at = 0 AND b.end_at > ?1 AND b.start_at < ?2 "
      "ORDER BY b.id, g.party_id",
      TRUE, centre_id, token, from, to, booking_id, party_id,
      "no link issued again has this join token", error);
}

gint
med_store_join_generation (MedStore *store, gint64 booking_id, gint64 party_id,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT generation FROM join_generation WHERE booking_id = ?1 AND "
      "party_id = ?2",
      error);
  int rc;

  if (st == NULL)
    return -1;
  store_bind_int64 (st, 1, booking_id);
  store_bind_int64 (st, 2, party_id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return store_column_int (st, 0);
  if (rc == STORE_DONE)
    return 0;
  store_set_error (store, "reading a link's generation", error);
  return -1;
}

gboolean
med_store_join_reissue (MedStore *store, gint64 booking_id, gint64 party_id,
    const char *actor, gint *generation, GError **error)
{
  g_autoptr (MedBooking) b = NULL;
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;
  gint gen;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error) || !store_txn_begin (store, &txn, error)
      || (b = med_store_get_booking (store, booking_id, error)) == NULL)
    goto out;
  if (b->status != MED_BOOKING_STATUS_CONFIRMED) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "booking %" G_GINT64_FORMAT " is cancelled: its links stay dead",
        booking_id);
    goto out;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT 1 FROM party WHERE id = ?1 AND case_id = ?2", error);
    int rc;

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, party_id);
    store_bind_int64 (st, 2, b->case_id);
    rc = store_step (st);
    if (rc != STORE_ROW) {
      if (rc == STORE_DONE)
        g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
            "booking %" G_GINT64_FORMAT " has no party %" G_GINT64_FORMAT,
            booking_id, party_id);
      else
        store_set_error (store, "reading parties", error);
      goto out;
    }
  }
  if ((gen = med_store_join_generation (store, booking_id, party_id, error))
      < 0)
    goto out;
  gen++;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO join_generation "
        "(booking_id, party_id, generation, issued_at) VALUES (?1, ?2, ?3, "
        "?4) ON CONFLICT (booking_id, party_id) DO UPDATE SET "
        "generation = excluded.generation, issued_at = excluded.issued_at",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, booking_id);
    store_bind_int64 (st, 2, party_id);
    store_bind_int (st, 3, gen);
    store_bind_int64 (st, 4, store_now (store));
    if (!store_step_done (store, st, "issuing a link again", error))
      goto out;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "DELETE FROM join_revoked WHERE booking_id = ?1 AND party_id = ?2",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, booking_id);
    store_bind_int64 (st, 2, party_id);
    if (!store_step_done (store, st, "lifting a revocation", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "party_id", party_id);
  store_detail_int (detail, "generation", gen);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "join.reissue", "booking", booking_id,
          detail_s, error)
      || !store_txn_commit (&txn, error))
    goto out;
  if (generation != NULL)
    *generation = gen;
  ok = TRUE;

out:
  store_txn_end (&txn);
  return ok;
}

/* ---- replies ----------------------------------------------------------- */

static const char *const partstats[]
    = { "NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED" };

void
med_attendee_status_free (MedAttendeeStatus *s)
{
  if (s == NULL)
    return;
  g_free (s->booking_uid);
  g_free (s->email);
  g_free (s->partstat);
  g_free (s);
}

/* Which attendee of the booking has this address: "mediator:3",
 * "interpreter:1", "party:12"; NULL when none. (transfer full) */
static char *
find_attendee (MedStore *store, gint64 booking_id, const char *email,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT 'mediator', m.id FROM booking b JOIN mediator m ON "
      "m.id = b.mediator_id WHERE b.id = ?1 AND m.email <> '' AND "
      "lower(m.email) = lower(?2) "
      "UNION ALL SELECT 'interpreter', i.id FROM booking b JOIN "
      "interpreter i ON i.id = b.interpreter_id WHERE b.id = ?1 AND "
      "i.email <> '' AND lower(i.email) = lower(?2) "
      "UNION ALL SELECT 'party', p.id FROM booking b JOIN party p ON "
      "p.case_id = b.case_id WHERE b.id = ?1 AND p.removed_at = 0 AND "
      "p.contact <> '' AND lower(p.contact) = lower(?2) LIMIT 1",
      error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, booking_id);
  store_bind_text (st, 2, email);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return g_strdup_printf ("%s:%" G_GINT64_FORMAT, store_column_str (st, 0),
        (gint64) store_column_int64 (st, 1));
  if (rc != STORE_DONE)
    store_set_error (store, "reading attendees", error);
  else
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "the reply's attendee is not invited to booking %" G_GINT64_FORMAT,
        booking_id);
  return NULL;
}

gboolean
med_store_apply_reply (MedStore *store, const char *uid, const char *email,
    const char *partstat, gint sequence, MedTime dtstamp, const char *actor,
    gint64 *booking_id, GError **error)
{
  g_autoptr (MedBooking) b = NULL;
  g_autofree char *who = NULL;
  g_autofree char *addr = NULL;
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE, known = FALSE;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error) || !check_email (email, FALSE, error))
    return FALSE;
  for (guint i = 0; partstat != NULL && i < G_N_ELEMENTS (partstats); i++)
    known |= strcmp (partstat, partstats[i]) == 0;
  if (!known) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "unknown PARTSTAT (NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE or "
        "DELEGATED)");
    return FALSE;
  }
  if (sequence < 0 || dtstamp <= 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a reply needs a SEQUENCE ≥ 0 and a DTSTAMP");
    return FALSE;
  }
  addr = g_ascii_strdown (email, -1);

  if (!store_txn_begin (store, &txn, error))
    goto out;
  b = med_store_find_booking_uid (store, uid, error);
  if (b == NULL)
    goto out;
  if (b->status != MED_BOOKING_STATUS_CONFIRMED) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "booking %" G_GINT64_FORMAT " is cancelled; the reply is ignored",
        b->id);
    goto out;
  }
  if (sequence < b->sequence) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_STALE,
        "stale reply: it answers SEQUENCE %d of booking %" G_GINT64_FORMAT
        ", which is at SEQUENCE %d now; ignored",
        sequence, b->id, b->sequence);
    goto out;
  }
  if (sequence > b->sequence) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "the reply answers SEQUENCE %d of booking %" G_GINT64_FORMAT
        ", but only SEQUENCE %d was ever sent",
        sequence, b->id, b->sequence);
    goto out;
  }
  who = find_attendee (store, b->id, addr, error);
  if (who == NULL)
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT sequence, dtstamp FROM "
        "attendee_status WHERE booking_uid = ?1 AND email = ?2",
        error);
    int rc;

    if (st == NULL)
      goto out;
    store_bind_text (st, 1, b->uid);
    store_bind_text (st, 2, addr);
    rc = store_step (st);
    if (rc == STORE_ROW && store_column_int (st, 0) == sequence
        && store_column_int64 (st, 1) > dtstamp) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_STALE,
          "stale reply: a later answer to SEQUENCE %d of booking "
          "%" G_GINT64_FORMAT " is already recorded; ignored",
          sequence, b->id);
      goto out;
    }
    if (rc != STORE_ROW && rc != STORE_DONE) {
      store_set_error (store, "reading replies", error);
      goto out;
    }
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO attendee_status "
        "(booking_uid, email, partstat, sequence, dtstamp, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (booking_uid, email) "
        "DO UPDATE SET partstat = excluded.partstat, "
        "sequence = excluded.sequence, dtstamp = excluded.dtstamp, "
        "updated_at = excluded.updated_at",
        error);

    if (st == NULL)
      goto out;
    store_bind_text (st, 1, b->uid);
    store_bind_text (st, 2, addr);
    store_bind_text (st, 3, partstat);
    store_bind_int (st, 4, sequence);
    store_bind_int64 (st, 5, dtstamp);
    store_bind_int64 (st, 6, store_now (store));
    if (!store_step_done (store, st, "recording the reply", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_str (detail, "attendee", who);
  store_detail_str (detail, "partstat", partstat);
  store_detail_int (detail, "sequence", sequence);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "booking.reply", "booking", b->id,
          detail_s, error)
      || !store_txn_commit (&txn, error))
    goto out;
  if (booking_id)
    *booking_id = b->id;
  ok = TRUE;

out:
  store_txn_end (&txn);
  return ok;
}

GPtrArray *
med_store_list_attendee_status (MedStore *store, gint64 booking_id,
    GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  if (!require_id (store, "SELECT 1 FROM booking WHERE id = ?1", "booking",
          booking_id, error))
    return NULL;
  st = store_stmt (store,
      "SELECT a.booking_uid, a.email, a.partstat, "
      "a.sequence, a.dtstamp, a.updated_at FROM booking b JOIN "
      "attendee_status a ON a.booking_uid = b.uid AND "
      "a.sequence = b.sequence WHERE b.id = ?1 ORDER BY a.email",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, booking_id);
  list = g_ptr_array_new_with_free_func (
      (GDestroyNotify) med_attendee_status_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedAttendeeStatus *s = g_new0 (MedAttendeeStatus, 1);

    s->booking_uid = store_column_text (st, 0);
    s->email = store_column_text (st, 1);
    s->partstat = store_column_text (st, 2);
    s->sequence = store_column_int (st, 3);
    s->dtstamp = store_column_int64 (st, 4);
    s->updated_at = store_column_int64 (st, 5);
    g_ptr_array_add (list, s);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing replies", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

/* ---- the outbox -------------------------------------------------------- */

static const char *const outbox_states[]
    = { "pending", "sent", "failed", "superseded" };

const char *
med_outbox_state_to_string (MedOutboxState s)
{
  return (guint) s < MED_OUTBOX_STATE_N ? outbox_states[s] : "unknown";
}

static gboolean
outbox_state_from_string (const char *s, MedOutboxState *out, GError **error)
{
  for (guint i = 0; s != NULL && i < MED_OUTBOX_STATE_N; i++) {
    if (strcmp (s, outbox_states[i]) == 0) {
      *out = i;
      return TRUE;
    }
  }
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
      "the store holds an unknown outbox state");
  return FALSE;
}

void
med_outbox_message_free (MedOutboxMessage *m)
{
  if (m == NULL)
    return;
  g_free (m->recipient_name);
  g_free (m->recipient_addr);
  g_free (m->method);
  g_free (m->subject);
  g_free (m->message);
  g_free (m->last_error);
  g_free (m->channel);
  g_free (m->purpose);
  g_free (m);
}

void
med_ledger_entry_free (MedLedgerEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->recipient_addr);
  g_free (e->method);
  g_free (e->sha256);
  g_free (e->channel);
  g_free (e);
}

gint
med_store_outbox_backoff (gint attempts)
{
  static const gint delays[] = { 60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600 };

  if (attempts < 1)
    attempts = 1;
  return delays[MIN ((guint) attempts, G_N_ELEMENTS (delays)) - 1];
}

static const char *const purposes[]
    = { "invite", "booked", "moved", "cancelled", "reminder", "link", NULL };

gint64
med_store_outbox_add (MedStore *store, const MedOutboxMessage *m,
    const char *actor, GError **error)
{
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gint64 id = 0, new_id;
  gint superseded, replaces;
  const char *channel, *purpose;
  gboolean sms;

  g_return_val_if_fail (store != NULL && m != NULL, 0);

  channel = m->channel != NULL ? m->channel : MED_OUTBOX_MAIL;
  purpose = m->purpose != NULL ? m->purpose : "invite";
  sms = strcmp (channel, MED_OUTBOX_SMS) == 0;
  if (!sms && strcmp (channel, MED_OUTBOX_MAIL) != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "an outbox message goes by mail or sms");
    return 0;
  }
  if (!g_strv_contains (purposes, purpose)
      || (strcmp (purpose, "invite") == 0) == sms) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "an e-mail is an invite; an SMS says booked, moved, cancelled, "
        "reminder or link");
    return 0;
  }
  if (!store_check_actor (actor, error)
      || !(sms ? check_sms_number (m->recipient_addr, error)
               : check_email (m->recipient_addr, FALSE, error))
      || !store_check_text (m->recipient_name ? m->recipient_name : "",
          MED_MAX_NAME_BYTES, FALSE, TRUE, "recipient name", error)
      || !store_check_text (m->subject, 1024, FALSE, FALSE, "subject", error))
    return 0;
  if (g_strcmp0 (m->method, "REQUEST") != 0
      && g_strcmp0 (m->method, "CANCEL") != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "an outbox message is a REQUEST or a CANCEL");
    return 0;
  }
  if (m->message == NULL || *m->message == '\0'
      || strlen (m->message) > (sms ? MAX_SMS_BYTES : 8 * 1024 * 1024)
      || !g_utf8_validate (m->message, -1, NULL) || m->sequence < 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "an outbox message needs UTF-8 text of at most 8 MiB (an SMS at "
        "most %d bytes) and a SEQUENCE ≥ 0",
        MAX_SMS_BYTES);
    return 0;
  }
  /* what it replaces: 0 = the recipient's pending messages but reminders,
   * 1 = the recipient's pending reminder, 2 = all the recipient's and
   * every pending reminder of the booking (a move or a cancellation),
   * 3 = all the recipient's (they alone leave the booking) */
  replaces = strcmp (purpose, "reminder") == 0                  ? 1
      : strcmp (purpose, "cancelled") == 0 && m->recipient_only ? 3
      : (strcmp (purpose, "moved") == 0 || strcmp (purpose, "cancelled") == 0)
      ? 2
      : 0;
  if (!store_txn_begin (store, &txn, error)
      || !require_id (store, "SELECT 1 FROM booking WHERE id = ?1", "booking",
          m->booking_id, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE outbox SET state = "
        "'superseded' WHERE booking_id = ?1 AND channel = ?3 AND "
        "state = 'pending' AND ((lower(recipient_addr) = lower(?2) AND "
        "(?4 >= 2 OR (purpose = 'reminder') = (?4 = 1))) OR (?4 = 2 AND "
        "purpose = 'reminder'))",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, m->booking_id);
    store_bind_text (st, 2, m->recipient_addr);
    store_bind_text (st, 3, channel);
    store_bind_int (st, 4, replaces);
    if (!store_step_done (store, st, "superseding older messages", error))
      goto out;
    superseded = store_changes (store);
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO outbox (booking_id, "
        "recipient_name, recipient_addr, method, sequence, subject, message, "
        "state, created_at, attempts, next_attempt_at, channel, purpose) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, 0, ?9, ?10, ?11) "
        "RETURNING id",
        error);
    MedTime now = store_now (store);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, m->booking_id);
    store_bind_text (st, 2, m->recipient_name ? m->recipient_name : "");
    store_bind_text (st, 3, m->recipient_addr);
    store_bind_text (st, 4, m->method);
    store_bind_int (st, 5, m->sequence);
    store_bind_text (st, 6, m->subject);
    store_bind_text (st, 7, m->message);
    store_bind_int64 (st, 8, now);
    store_bind_int64 (st, 9, m->due_at > now ? m->due_at : now);
    store_bind_text (st, 10, channel);
    store_bind_text (st, 11, purpose);
    if (!store_step_id (store, st, "queueing a message", &new_id, error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "booking", m->booking_id);
  store_detail_str (detail, "method", m->method);
  store_detail_int (detail, "sequence", m->sequence);
  store_detail_int (detail, "superseded", superseded);
  if (sms) {
    store_detail_str (detail, "channel", channel);
    store_detail_str (detail, "purpose", purpose);
    if (m->due_at > store_now (store))
      store_detail_int (detail, "due_at", m->due_at);
  }
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "outbox.add", "outbox", new_id,
          detail_s, error)
      || !store_txn_commit (&txn, error))
    goto out;
  id = new_id;

out:
  store_txn_end (&txn);
  return id;
}

gboolean
med_store_outbox_supersede_holding (MedStore *store, gint64 booking_id,
    const char *channel, const char *needle, const char *actor, guint *n,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *detail = NULL;
  StoreTxn txn = { 0 };
  GString *d;
  gboolean ok = FALSE;
  gint changed;

  g_return_val_if_fail (store != NULL, FALSE);
  if (needle == NULL || strlen (needle) < 8 || channel == NULL) {
    g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "superseding by text needs a channel and a text of 8 bytes or more");
    return FALSE;
  }
  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt_dialect (store,
      "UPDATE outbox SET state = 'superseded' WHERE booking_id = ?1 AND "
      "channel = ?2 AND state = 'pending' AND instr(message, ?3) > 0",
      "UPDATE outbox SET state = 'superseded' WHERE booking_id = ?1 AND "
      "channel = ?2 AND state = 'pending' AND strpos(message, ?3) > 0",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, booking_id);
  store_bind_text (st, 2, channel);
  store_bind_text (st, 3, needle);
  if (!store_step_done (store, st, "superseding messages", error))
    goto out;
  changed = store_changes (store);
  if (changed > 0) {
    d = g_string_new ("{");
    store_detail_str (d, "channel", channel);
    store_detail_int (d, "superseded", changed);
    detail = store_detail_end (d);
    if (!store_audit_append (store, actor, "outbox.supersede", "booking",
            booking_id, detail, error))
      goto out;
  }
  if (!store_txn_commit (&txn, error))
    goto out;
  if (n != NULL)
    *n = (guint) changed;
  ok = TRUE;
out:
  store_txn_end (&txn);
  return ok;
}

#define OUTBOX_COLUMNS                                                         \
  "id, booking_id, recipient_name, recipient_addr, method, sequence, "         \
  "subject, state, created_at, attempts, next_attempt_at, sent_at, "           \
  "last_error, channel, purpose"

static MedOutboxMessage *
read_outbox (StoreStmt *st, gboolean with_message, GError **error)
{
  g_autoptr (MedOutboxMessage) m = g_new0 (MedOutboxMessage, 1);

  m->id = store_column_int64 (st, 0);
  m->booking_id = store_column_int64 (st, 1);
  m->recipient_name = store_column_text (st, 2);
  m->recipient_addr = store_column_text (st, 3);
  m->method = store_column_text (st, 4);
  m->sequence = store_column_int (st, 5);
  m->subject = store_column_text (st, 6);
  if (!outbox_state_from_string (store_column_str (st, 7), &m->state, error))
    return NULL;
  m->created_at = store_column_int64 (st, 8);
  m->attempts = store_column_int (st, 9);
  m->next_attempt_at = store_column_int64 (st, 10);
  m->sent_at = store_column_int64 (st, 11); /* NULL reads as 0 */
  m->last_error = store_column_text (st, 12);
  m->channel = store_column_text (st, 13);
  m->purpose = store_column_text (st, 14);
  if (with_message)
    m->message = store_column_text (st, 15);
  return g_steal_pointer (&m);
}

GPtrArray *
med_store_outbox_list (MedStore *store, gboolean pending_only, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE "
      "?1 = 0 OR state = 'pending' ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int (st, 1, pending_only ? 1 : 0);
  list = g_ptr_array_new_with_free_func (
      (GDestroyNotify) med_outbox_message_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedOutboxMessage *m = read_outbox (st, FALSE, error);

    if (m == NULL)
      return NULL;
    g_ptr_array_add (list, m);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing the outbox", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

MedOutboxMessage *
med_store_outbox_claim (MedStore *store, const char *channel, MedTime now,
    gint lease_seconds, GError **error)
{
  g_autoptr (MedOutboxMessage) m = NULL;
  StoreTxn txn = { 0 };
  MedOutboxMessage *out = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && channel != NULL, NULL);
  g_return_val_if_fail (lease_seconds > 0, NULL);

  /* SQLite: BEGIN IMMEDIATE, one claimer at a time. PostgreSQL: no
   * writers' lock (nothing is audited); the row is taken with FOR UPDATE
   * SKIP LOCKED, so claimers on other connections take the next due
   * message instead of waiting, and none takes one twice. */
  if (!store_txn_begin_shared (store, &txn, error))
    goto done;
  {
    g_autoptr (StoreStmt) st = store_stmt_dialect (store,
        "SELECT " OUTBOX_COLUMNS ", message FROM "
        "outbox WHERE state = 'pending' AND channel = ?2 AND "
        "next_attempt_at <= ?1 ORDER BY id LIMIT 1",
        "SELECT " OUTBOX_COLUMNS ", message FROM "
        "outbox WHERE state = 'pending' AND channel = ?2 AND "
        "next_attempt_at <= ?1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        error);

    if (st == NULL)
      goto done;
    store_bind_int64 (st, 1, now);
    store_bind_text (st, 2, channel);
    rc = store_step (st);
    if (rc == STORE_DONE) {
      store_txn_commit (&txn, error);
      goto done;
    }
    if (rc != STORE_ROW) {
      store_set_error (store, "reading the outbox", error);
      goto done;
    }
    m = read_outbox (st, TRUE, error);
    if (m == NULL)
      goto done;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE outbox SET "
        "next_attempt_at = ?2 WHERE id = ?1",
        error);

    if (st == NULL)
      goto done;
    store_bind_int64 (st, 1, m->id);
    store_bind_int64 (st, 2, now + lease_seconds);
    if (!store_step_done (store, st, "leasing a message", error)
        || !store_txn_commit (&txn, error))
      goto done;
  }
  m->next_attempt_at = now + lease_seconds;
  out = g_steal_pointer (&m);

done:
  store_txn_end (&txn);
  return out;
}

/* Loads one message with its text for the outcome of an attempt: it must
 * not be sent or failed yet. (A message superseded while the MTA had it
 * was still sent: the ledger must say so.) */
static MedOutboxMessage *
load_unsent (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT " OUTBOX_COLUMNS ", message FROM "
      "outbox WHERE id = ?1",
      error);
  g_autoptr (MedOutboxMessage) m = NULL;
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_DONE) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no outbox message %" G_GINT64_FORMAT, id);
    return NULL;
  }
  if (rc != STORE_ROW) {
    store_set_error (store, "reading the outbox", error);
    return NULL;
  }
  m = read_outbox (st, TRUE, error);
  if (m != NULL
      && (m->state == MED_OUTBOX_SENT || m->state == MED_OUTBOX_FAILED)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "outbox message %" G_GINT64_FORMAT " is already %s", id,
        med_outbox_state_to_string (m->state));
    return NULL;
  }
  return g_steal_pointer (&m);
}

gboolean
med_store_outbox_mark_sent (MedStore *store, gint64 id, MedTime now,
    const char *actor, GError **error)
{
  g_autoptr (MedOutboxMessage) m = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error) || !store_txn_begin (store, &txn, error)
      || (m = load_unsent (store, id, error)) == NULL)
    goto out;
  sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, m->message, -1);
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE outbox SET state = 'sent', "
        "sent_at = ?2, attempts = attempts + 1, last_error = '' WHERE id = ?1",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, id);
    store_bind_int64 (st, 2, now);
    if (!store_step_done (store, st, "marking a message sent", error))
      goto out;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO outbox_ledger "
        "(outbox_id, recipient_addr, method, sequence, sha256, sent_at, "
        "channel) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, id);
    store_bind_text (st, 2, m->recipient_addr);
    store_bind_text (st, 3, m->method);
    store_bind_int (st, 4, m->sequence);
    store_bind_text (st, 5, sha);
    store_bind_int64 (st, 6, now);
    store_bind_text (st, 7, m->channel);
    if (!store_step_done (store, st, "writing the ledger", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "booking", m->booking_id);
  store_detail_str (detail, "method", m->method);
  store_detail_int (detail, "sequence", m->sequence);
  store_detail_str (detail, "sha256", sha);
  if (g_strcmp0 (m->channel, MED_OUTBOX_MAIL) != 0)
    store_detail_str (detail, "channel", m->channel);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "outbox.sent", "outbox", id, detail_s,
           error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* At most MAX_ERROR_BYTES of valid UTF-8, one line. (transfer full) */
static char *
clean_error_text (const char *why)
{
  g_autofree char *valid = g_utf8_make_valid (why ? why : "", -1);
  GString *s = g_string_new (NULL);

  for (const char *p = valid; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    gsize n = g_utf8_next_char (p) - p;

    if (s->len + n > MAX_ERROR_BYTES)
      break;
    if (c < 0x20 || c == 0x7f)
      g_string_append_c (s, ' ');
    else
      g_string_append_len (s, p, n);
  }
  return g_string_free (s, FALSE);
}

gboolean
med_store_outbox_mark_failed (MedStore *store, gint64 id, MedTime now,
    const char *why, gint max_attempts, const char *actor, GError **error)
{
  g_autoptr (MedOutboxMessage) m = NULL;
  g_autofree char *text = clean_error_text (why);
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE, give_up;
  gint attempts;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if (max_attempts < 1 || max_attempts > 100) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "max attempts must be 1–100");
    return FALSE;
  }
  if (!store_txn_begin (store, &txn, error)
      || (m = load_unsent (store, id, error)) == NULL)
    goto out;
  attempts = m->attempts + 1;
  give_up = attempts >= max_attempts && m->state == MED_OUTBOX_PENDING;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE outbox SET attempts = ?2, "
        "last_error = ?3, next_attempt_at = ?4, state = ?5 WHERE id = ?1",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, id);
    store_bind_int (st, 2, attempts);
    store_bind_text (st, 3, text);
    store_bind_int64 (st, 4,
        give_up ? now : now + med_store_outbox_backoff (attempts));
    /* a superseded message stays superseded: its successor goes instead */
    store_bind_text (st, 5,
        give_up ? "failed" : med_outbox_state_to_string (m->state));
    if (!store_step_done (store, st, "recording a failed attempt", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "booking", m->booking_id);
  store_detail_int (detail, "attempts", attempts);
  if (!give_up)
    store_detail_int (detail, "next_attempt_at",
        now + med_store_outbox_backoff (attempts));
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor,
           give_up ? "outbox.failed" : "outbox.retry", "outbox", id, detail_s,
           error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_outbox_release (MedStore *store, gint64 id, MedTime lease_end,
    MedTime now, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  g_return_val_if_fail (store != NULL, FALSE);

  /* one statement: its own transaction; not audited, like the claim */
  st = store_stmt (store,
      "UPDATE outbox SET next_attempt_at = ?3 WHERE id = ?1 AND "
      "state = 'pending' AND next_attempt_at = ?2",
      error);
  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, id);
  store_bind_int64 (st, 2, lease_end);
  store_bind_int64 (st, 3, now);
  return store_step_done (store, st, "releasing a message", error);
}

gboolean
med_store_outbox_next_due (MedStore *store, const char *channel, MedTime *when,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && channel != NULL && when != NULL,
      FALSE);

  *when = 0;
  st = store_stmt (store,
      "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending' AND "
      "channel = ?1",
      error);
  if (st == NULL)
    return FALSE;
  store_bind_text (st, 1, channel);
  rc = store_step (st);
  if (rc != STORE_ROW) {
    store_set_error (store, "reading the outbox", error);
    return FALSE;
  }
  *when = store_column_int64 (st, 0); /* NULL (nothing pending) reads 0 */
  return TRUE;
}

gboolean
med_store_outbox_retry (MedStore *store, gint64 id, MedTime now,
    const char *actor, GError **error)
{
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE outbox SET state = 'pending', "
        "attempts = 0, next_attempt_at = ?2 WHERE id = ?1 AND "
        "state = 'failed'",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, id);
    store_bind_int64 (st, 2, now);
    if (!store_step_done (store, st, "requeueing a message", error))
      goto out;
    if (store_changes (store) == 0) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
          "no failed outbox message %" G_GINT64_FORMAT, id);
      goto out;
    }
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "next_attempt_at", now);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "outbox.requeue", "outbox", id,
           detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

GPtrArray *
med_store_outbox_ledger (MedStore *store, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, outbox_id, recipient_addr, method, "
      "sequence, sha256, sent_at, channel FROM outbox_ledger ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  list
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_ledger_entry_free);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedLedgerEntry *e = g_new0 (MedLedgerEntry, 1);

    e->id = store_column_int64 (st, 0);
    e->outbox_id = store_column_int64 (st, 1);
    e->recipient_addr = store_column_text (st, 2);
    e->method = store_column_text (st, 3);
    e->sequence = store_column_int (st, 4);
    e->sha256 = store_column_text (st, 5);
    e->sent_at = store_column_int64 (st, 6);
    e->channel = store_column_text (st, 7);
    g_ptr_array_add (list, e);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading the ledger", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

/* ---- external busy time ------------------------------------------------ */

gboolean
med_store_replace_external_busy (MedStore *store, MedStorePerson who, gint64 id,
    const char *source, GArray *busy, const char *actor, GError **error)
{
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;
  guint n = busy ? busy->len : 0;
  gint replaced;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error) || !check_person (who, error)
      || !store_check_text (source, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "busy calendar source", error))
    return FALSE;
  if (n > MED_STORE_MAX_EXTERNAL_BUSY) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "%u busy intervals, at most %d", n, MED_STORE_MAX_EXTERNAL_BUSY);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    const MedInterval *iv = &g_array_index (busy, MedInterval, i);

    if (iv->end <= iv->start) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "busy interval %u ends before it starts", i + 1);
      return FALSE;
    }
  }
  if (!store_txn_begin (store, &txn, error)
      || !require_person (store, who, id, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        who == MED_STORE_PERSON_INTERPRETER
            ? "DELETE FROM external_busy WHERE interpreter_id = ?1 AND "
              "source = ?2"
            : "DELETE FROM external_busy WHERE mediator_id = ?1 AND "
              "source = ?2",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, id);
    store_bind_text (st, 2, source);
    if (!store_step_done (store, st, "replacing busy time", error))
      goto out;
    replaced = store_changes (store);
  }
  for (guint i = 0; i < n; i++) {
    const MedInterval *iv = &g_array_index (busy, MedInterval, i);
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO external_busy "
        "(mediator_id, interpreter_id, source, start_at, end_at) VALUES "
        "(?1, ?2, ?3, ?4, ?5)",
        error);

    if (st == NULL)
      goto out;
    if (who == MED_STORE_PERSON_INTERPRETER)
      store_bind_int64 (st, 2, id);
    else
      store_bind_int64 (st, 1, id);
    store_bind_text (st, 3, source);
    store_bind_int64 (st, 4, iv->start);
    store_bind_int64 (st, 5, iv->end);
    if (!store_step_done (store, st, "storing busy time", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_str (detail, "source", source);
  store_detail_int (detail, "intervals", n);
  store_detail_int (detail, "replaced", replaced);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor,
           who == MED_STORE_PERSON_INTERPRETER ? "interpreter.busy"
                                               : "mediator.busy",
           person_table (who), id, detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

GArray *
med_store_list_external_busy (MedStore *store, MedStorePerson who, gint64 id,
    MedTime from, MedTime to, GError **error)
{
  g_autoptr (GArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  if (!check_person (who, error))
    return NULL;
  st = store_stmt (store,
      who == MED_STORE_PERSON_INTERPRETER
          ? "SELECT start_at, end_at FROM external_busy WHERE "
            "interpreter_id = ?1 AND end_at > ?2 AND start_at < ?3 "
            "ORDER BY start_at, id"
          : "SELECT start_at, end_at FROM external_busy WHERE "
            "mediator_id = ?1 AND end_at > ?2 AND start_at < ?3 "
            "ORDER BY start_at, id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  store_bind_int64 (st, 2, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 3, to != 0 ? to : STORE_TIME_MAX);
  list = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  while ((rc = store_step (st)) == STORE_ROW) {
    MedInterval iv = { store_column_int64 (st, 0), store_column_int64 (st, 1) };

    g_array_append_val (list, iv);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading busy time", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

GArray *
store_load_external_busy (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, GError **error)
{
  g_autoptr (GArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  st = store_stmt (store,
      "SELECT coalesce (mediator_id, 0), "
      "coalesce (interpreter_id, 0), start_at, end_at FROM external_busy "
      "WHERE end_at > ?2 AND start_at < ?3 AND (mediator_id IN (SELECT id "
      "FROM mediator WHERE centre_id = ?1) OR interpreter_id IN (SELECT id "
      "FROM interpreter WHERE centre_id = ?1)) ORDER BY start_at, id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  store_bind_int64 (st, 2, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 3, to != 0 ? to : STORE_TIME_MAX);
  list = g_array_new (FALSE, TRUE, sizeof (MedBusy));
  while ((rc = store_step (st)) == STORE_ROW) {
    MedBusy b = {
      .start = store_column_int64 (st, 2),
      .end = store_column_int64 (st, 3),
      .mediator_id = store_column_int64 (st, 0),
      .interpreter_id = store_column_int64 (st, 1),
    };

    g_array_append_val (list, b);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading busy time", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}
