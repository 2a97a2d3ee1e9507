/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-auth.c — who is asking, and may they: bearer tokens, the login
 * page and its session cookie, CSRF tokens, the access rule's answers, and
 * the throttles that slow down password guessing and token probing
 * (growing delays per account and address; never a lockout).
 *
 * A server serves one centre of a database that may hold a province's:
 * only that centre's users sign in, and their tokens and sessions open
 * nothing elsewhere (another centre's user is an unknown name, its token
 * an invalid one); rows named by id in a path are checked against the
 * centre before anything else (med_http_in_centre), with the answer a
 * missing row gets.
 *
 * Secrets are 256 random bits from getrandom(2), handed out once and kept
 * by the store only as SHA-256. Passwords are PBKDF2-HMAC-SHA256 (GLib has
 * no scrypt or argon2) with a 128-bit salt and 200,000 iterations by
 * default; a check takes a noticeable fraction of a second, so it runs in
 * a worker thread while the request is paused, and an unknown user name
 * costs the same work as a wrong password. The attempt is reserved before
 * the check starts, so parallel requests cannot outrun the limit. Every
 * comparison of secrets is constant-time. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define SESSION_COOKIE     "medsched_session"
#define PRELOGIN_COOKIE    "medsched_login"
#define DEFAULT_ITERATIONS 200000
#define MIN_ITERATIONS     1000
#define MAX_ITERATIONS     10000000

/* ---- secrets ---- */

static void
random_bytes (guint8 *buf, gsize len)
{
  gsize got = 0;

  while (got < len) {
    ssize_t n = getrandom (buf + got, len - got, 0);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_error ("getrandom failed: %s", g_strerror (errno));
    }
    got += (gsize) n;
  }
}

static char *
base64url (const guint8 *data, gsize len)
{
  char *s = g_base64_encode (data, len);

  for (char *p = s; *p; p++) {
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
    else if (*p == '=')
      *p = '\0';
  }
  return s;
}

char *
med_http_new_secret (void)
{
  guint8 buf[32];

  random_bytes (buf, sizeof buf);
  return base64url (buf, sizeof buf);
}

char *
med_http_hash_secret (const char *secret)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, secret, -1);
}

/* A secret as handed out: base64url, 16–128 characters. */
static gboolean
secret_syntax_ok (const char *s)
{
  gsize n = 0;

  for (; s && s[n]; n++) {
    if (!g_ascii_isalnum (s[n]) && s[n] != '-' && s[n] != '_')
      return FALSE;
  }
  return n >= 16 && n <= 128;
}

gboolean
med_http_secret_equal (const char *a, const char *b)
{
  gsize la, lb;
  guint8 diff;

  if (a == NULL || b == NULL)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  diff = la != lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guint8) a[i] ^ (guint8) b[i % (lb ? lb : 1)];
  return diff == 0;
}

static void
pbkdf2_sha256 (const char *password, const guint8 *salt, gsize salt_len,
    guint iterations, guint8 out[32])
{
  g_autoptr (GHmac) base = g_hmac_new (G_CHECKSUM_SHA256,
      (const guchar *) password, strlen (password));
  static const guint8 block[4] = { 0, 0, 0, 1 };
  guint8 u[32];
  gsize n = sizeof u;
  GHmac *h = g_hmac_copy (base);

  g_hmac_update (h, salt, salt_len);
  g_hmac_update (h, block, sizeof block);
  g_hmac_get_digest (h, u, &n);
  g_hmac_unref (h);
  memcpy (out, u, 32);
  for (guint i = 1; i < iterations; i++) {
    h = g_hmac_copy (base);
    g_hmac_update (h, u, sizeof u);
    n = sizeof u;
    g_hmac_get_digest (h, u, &n);
    g_hmac_unref (h);
    for (guint j = 0; j < 32; j++)
      out[j] ^= u[j];
  }
}

char *
med_http_password_hash (const char *password, guint iterations)
{
  guint8 salt[16], dk[32];
  g_autofree char *s = NULL, *d = NULL;

  g_return_val_if_fail (password != NULL, NULL);
  if (iterations == 0)
    iterations = DEFAULT_ITERATIONS;
  iterations = CLAMP (iterations, MIN_ITERATIONS, MAX_ITERATIONS);
  random_bytes (salt, sizeof salt);
  pbkdf2_sha256 (password, salt, sizeof salt, iterations, dk);
  s = g_base64_encode (salt, sizeof salt);
  d = g_base64_encode (dk, sizeof dk);
  return g_strdup_printf ("pbkdf2-sha256$%u$%s$%s", iterations, s, d);
}

gboolean
med_http_password_verify (const char *password, const char *stored)
{
  g_auto (GStrv) f = NULL;
  g_autofree guint8 *salt = NULL, *want = NULL;
  gsize salt_len = 0, want_len = 0;
  guint64 iter;
  guint8 dk[32], diff = 0;

  if (password == NULL || stored == NULL)
    return FALSE;
  f = g_strsplit (stored, "$", 5);
  if (g_strv_length (f) != 4 || strcmp (f[0], "pbkdf2-sha256") != 0
      || !g_ascii_string_to_unsigned (f[1], 10, MIN_ITERATIONS, MAX_ITERATIONS,
          &iter, NULL)
      || strlen (f[2]) > 64 || strlen (f[3]) != 44)
    return FALSE;
  salt = g_base64_decode (f[2], &salt_len);
  want = g_base64_decode (f[3], &want_len);
  if (salt_len < 8 || want_len != 32)
    return FALSE;
  pbkdf2_sha256 (password, salt, salt_len, (guint) iter, dk);
  for (guint i = 0; i < 32; i++)
    diff |= dk[i] ^ want[i];
  return diff == 0;
}

/* ---- throttles ---- */

/* Failed attempts under one key ("login:<name>@<address>",
 * "token:<address>", "join:<address>", "feed:<address>"). The first
 * login_burst failures cost nothing; from then on each failure makes the
 * key wait login_refill seconds, doubling with every further failure up to
 * MAX_DELAY_S. A success clears the key; an hour without a failure
 * forgets it. Keys never lock anything but themselves: a guesser at one
 * address slows down only that (account, address) pair, never the
 * account's owner elsewhere (OWASP's authentication cheat sheet: no
 * lockout an attacker controls). Everything runs on the server's main
 * context, so the table needs no lock. */
#define MAX_DELAY_S  900
#define FORGET_S     3600
#define MAX_THROTTLE 65536

typedef struct
{
  guint failures;
  guint pending; /* reserved sign-in attempts being checked */
  gint64 wait_until_us; /* monotonic; no attempt before */
  gint64 last_us; /* the last failure or reservation */
} Throttle;

static gboolean
throttle_idle (const Throttle *t, gint64 now)
{
  return t->pending == 0
      && (t->failures == 0 || now - t->last_us >= (gint64) FORGET_S * 1000000);
}

static Throttle *
throttle_get (MedHttpServer *srv, const char *key)
{
  Throttle *t = g_hash_table_lookup (srv->buckets, key);
  gint64 now = g_get_monotonic_time ();

  if (t != NULL) {
    if (throttle_idle (t, now))
      memset (t, 0, sizeof *t);
    return t;
  }
  if (g_hash_table_size (srv->buckets) >= MAX_THROTTLE) {
    GHashTableIter it;
    gpointer v;

    /* Forget what is forgotten anyway; then, if still full, whatever is
     * not in flight (it starts over, never locked). */
    g_hash_table_iter_init (&it, srv->buckets);
    while (g_hash_table_iter_next (&it, NULL, &v))
      if (throttle_idle (v, now))
        g_hash_table_iter_remove (&it);
    g_hash_table_iter_init (&it, srv->buckets);
    while (g_hash_table_size (srv->buckets) >= MAX_THROTTLE / 2
        && g_hash_table_iter_next (&it, NULL, &v))
      if (((Throttle *) v)->pending == 0)
        g_hash_table_iter_remove (&it);
  }
  t = g_new0 (Throttle, 1);
  g_hash_table_insert (srv->buckets, g_strdup (key), t);
  return t;
}

static guint
seconds_until (gint64 until_us)
{
  gint64 left = until_us - g_get_monotonic_time ();

  return left <= 0 ? 1 : (guint) ((left + 999999) / 1000000);
}

/* The wait after n failures: nothing within the free burst, then
 * login_refill seconds doubling per failure, at most MAX_DELAY_S. */
static guint
delay_after (MedHttpServer *srv, guint n)
{
  guint burst = MAX (srv->cfg.login_burst, 1);
  guint delay = srv->cfg.login_refill;

  if (n < burst)
    return 0;
  for (guint i = burst; i < n && delay < MAX_DELAY_S; i++)
    delay *= 2;
  return MIN (delay, MAX_DELAY_S);
}

/* Counts a failure and logs the throttling when the wait grew (so at most
 * a dozen lines per key, whatever the number of attempts). what names the
 * key without secrets: a login name is staff data, an address is in the
 * access log anyway; a name that is no account is not logged. */
static void
throttle_fail (MedHttpServer *srv, Throttle *t, const char *what)
{
  guint delay;

  t->failures++;
  t->last_us = g_get_monotonic_time ();
  delay = delay_after (srv, t->failures);
  if (delay == 0)
    return;
  t->wait_until_us = t->last_us + (gint64) delay * 1000000;
  if (delay != delay_after (srv, t->failures - 1))
    g_message ("%s: %u failed attempts, throttled: next attempt in %u s", what,
        t->failures, delay);
}

gboolean
med_http_rate_allow (MedHttpServer *srv, const char *key, guint *retry_after)
{
  Throttle *t = throttle_get (srv, key);

  if (g_get_monotonic_time () >= t->wait_until_us)
    return TRUE;
  *retry_after = seconds_until (t->wait_until_us);
  return FALSE;
}

void
med_http_rate_fail (MedHttpServer *srv, const char *key)
{
  g_auto (GStrv) kv = g_strsplit (key, ":", 2);
  g_autofree char *what
      = g_strdup_printf ("%s links from %s", kv[0], kv[1] ? kv[1] : "?");

  throttle_fail (srv, throttle_get (srv, key), what);
}

/* Reserves a sign-in attempt before its (slow) check, so that parallel
 * requests cannot all pass the limit before the first failure is counted:
 * FALSE while the key waits, or while the free attempts are all in
 * flight. Every TRUE is followed by throttle_release. */
static gboolean
throttle_reserve (MedHttpServer *srv, const char *key, guint *retry_after)
{
  Throttle *t = throttle_get (srv, key);
  guint burst = MAX (srv->cfg.login_burst, 1);

  if (g_get_monotonic_time () < t->wait_until_us) {
    *retry_after = seconds_until (t->wait_until_us);
    return FALSE;
  }
  if (t->pending > 0 && t->failures + t->pending >= burst) {
    *retry_after = 1;
    return FALSE;
  }
  t->pending++;
  t->last_us = g_get_monotonic_time ();
  return TRUE;
}

static void
throttle_release (MedHttpServer *srv, const char *key, gboolean failed,
    const char *what)
{
  Throttle *t = throttle_get (srv, key);

  if (t->pending > 0)
    t->pending--;
  if (failed) {
    throttle_fail (srv, t, what);
  } else {
    t->failures = 0;
    t->wait_until_us = 0;
  }
}

static void
reply_rate_limited (MedReq *r, guint retry_after)
{
  g_autofree char *ra = g_strdup_printf ("%u", retry_after);

  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Retry-After", ra);
  med_http_reply_error (r, 429, "rate_limited",
      "too many failed attempts; try again in %u s", retry_after);
}

/* ---- resolving the caller ---- */

static char *
cookie_value (MedReq *r, const char *name)
{
  const char *h
      = soup_message_headers_get_one (soup_server_message_get_request_headers (
                                          r->msg),
          "Cookie");
  g_auto (GStrv) parts = NULL;
  gsize nl = strlen (name);

  if (h == NULL)
    return NULL;
  parts = g_strsplit (h, ";", 64);
  for (guint i = 0; parts[i]; i++) {
    const char *p = parts[i];

    while (*p == ' ' || *p == '\t')
      p++;
    if (strncmp (p, name, nl) == 0 && p[nl] == '=')
      return g_strstrip (g_strdup (p + nl + 1));
  }
  return NULL;
}

/* A bad bearer token: 401, or 429 while its address waits. Only misses
 * are throttled: good tokens from the same address (a court behind one
 * NAT) always pass, since checking one is cheap and guessing a 256-bit
 * secret hopeless; the wait only slows down probing. */
static gboolean
reply_bad_token (MedReq *r, const char *why)
{
  guint retry = 0;
  g_autofree char *key = g_strconcat ("token:", r->client, NULL);
  g_autofree char *what = g_strdup_printf ("bearer tokens from %s", r->client);
  gboolean waiting = !med_http_rate_allow (r->srv, key, &retry);

  throttle_fail (r->srv, throttle_get (r->srv, key), what);
  if (waiting) {
    reply_rate_limited (r, retry);
    return FALSE;
  }
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "WWW-Authenticate", "Bearer error=\"invalid_token\"");
  med_http_reply_error (r, 401, "unauthorized", "%s", why);
  return FALSE;
}

static MedUser *
copy_user (const MedUser *u)
{
  MedUser *c = g_memdup2 (u, sizeof *u);

  c->name = g_strdup (u->name);
  c->password = g_strdup (u->password);
  return c;
}

/* Token → user, cached while the store is unchanged and for at most the
 * current minute (an expiring token stops working within a minute). */
static MedUser *
cached_token_user (MedHttpServer *srv, const char *hash, MedTime now,
    GError **error)
{
  g_autofree char *key
      = g_strdup_printf ("%s:%" G_GINT64_FORMAT, hash, now / 60);
  MedUser *u;

  med_http_cache_check (srv);
  if ((u = g_hash_table_lookup (srv->users, key)) != NULL)
    return copy_user (u);
  if ((u = med_store_user_by_token (srv->store, srv->cfg.centre_id, hash, now,
           error))
      == NULL)
    return NULL;
  if (g_hash_table_size (srv->users) >= 1024)
    g_hash_table_remove_all (srv->users);
  g_hash_table_insert (srv->users, g_steal_pointer (&key), copy_user (u));
  return u;
}

gboolean
med_http_auth_resolve (MedReq *r)
{
  const char *auth
      = soup_message_headers_get_one (soup_server_message_get_request_headers (
                                          r->msg),
          "Authorization");
  g_autoptr (GError) error = NULL;

  if (auth != NULL) {
    g_autofree char *hash = NULL;
    const char *token;

    if (g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
      return reply_bad_token (r, "use Authorization: Bearer TOKEN");
    token = auth + 7;
    while (*token == ' ')
      token++;
    if (!secret_syntax_ok (token))
      return reply_bad_token (r, "invalid or expired token");
    hash = med_http_hash_secret (token);
    r->user = cached_token_user (r->srv, hash, r->now, &error);
    if (r->user == NULL) {
      if (g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND))
        return reply_bad_token (r, "invalid or expired token");
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return FALSE;
    }
    r->session_hash = g_steal_pointer (&hash);
    return TRUE;
  }
  {
    g_autofree char *sid = cookie_value (r, SESSION_COOKIE);
    g_autofree char *hash = NULL;

    if (sid == NULL || !secret_syntax_ok (sid))
      return TRUE;
    hash = med_http_hash_secret (sid);
    r->user = med_store_session_user (r->srv->store, r->srv->cfg.centre_id,
        hash, r->now, &r->csrf, &error);
    if (r->user == NULL) {
      if (!g_error_matches (error, MED_STORE_ERROR,
              MED_STORE_ERROR_NOT_FOUND)) {
        med_http_reply_gerror (r, g_steal_pointer (&error));
        return FALSE;
      }
      return TRUE; /* an expired or ended session: anonymous */
    }
    r->via_session = TRUE;
    r->session_hash = g_steal_pointer (&hash);
  }
  return TRUE;
}

gboolean
med_http_require (MedReq *r, guint roles)
{
  if (r->user == NULL) {
    if (r->api) {
      soup_message_headers_replace (soup_server_message_get_response_headers (
                                        r->msg),
          "WWW-Authenticate", "Bearer");
      med_http_reply_error (r, 401, "unauthorized",
          "sign in or send a bearer token");
    } else {
      g_autofree char *esc = g_uri_escape_string (r->path, "/", FALSE);
      g_autofree char *loc = g_strconcat ("/login?next=", esc, NULL);

      med_http_redirect (r, 303, loc);
    }
    return FALSE;
  }
  if ((roles & (1u << r->user->role)) == 0) {
    med_http_reply_error (r, 403, "forbidden", "a %s may not do this",
        med_role_to_string (r->user->role));
    return FALSE;
  }
  return TRUE;
}

gboolean
med_http_check_csrf (MedReq *r, GHashTable *form)
{
  const char *given;

  if (!r->via_session)
    return TRUE; /* bearer tokens are not sent by browsers on their own */
  given
      = soup_message_headers_get_one (soup_server_message_get_request_headers (
                                          r->msg),
          "X-CSRF-Token");
  if (given == NULL && form != NULL)
    given = g_hash_table_lookup (form, "csrf");
  if (med_http_secret_equal (given, r->csrf))
    return TRUE;
  med_http_reply_error (r, 403, "csrf",
      "the form is stale or was not sent by this site; reload the page");
  return FALSE;
}

MedUser *
med_http_auth_recheck (MedHttpServer *srv, const char *hash,
    gboolean via_session, GError **error)
{
  MedTime now = med_http_now (srv);

  if (via_session)
    return med_store_session_user (srv->store, srv->cfg.centre_id, hash, now,
        NULL, error);
  return med_store_user_by_token (srv->store, srv->cfg.centre_id, hash, now,
      error);
}

/* Answers a refusal of the access rule (403), or a store failure. */
static gboolean
reply_access (MedReq *r, gboolean ok, GError *error)
{
  if (ok)
    return TRUE;
  if (g_error_matches (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_FORBIDDEN)) {
    med_http_reply_error (r, 403, "forbidden", "%s", error->message);
    g_error_free (error);
  } else {
    med_http_reply_gerror (r, error);
  }
  return FALSE;
}

gboolean
med_http_may_see_case (MedReq *r, gint64 case_id)
{
  MedHttpServer *srv = r->srv;
  GError *error = NULL;
  g_autofree char *key = NULL;
  gboolean ok;

  if (r->user == NULL)
    return FALSE;
  /* the rule's yes holds while the data stays the same (the user, their
   * bookings, the case's centre); a no is asked again */
  key = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, r->user->id,
      case_id);
  med_http_cache_check (srv);
  if (g_hash_table_contains (srv->access, key))
    return TRUE;
  ok = med_service_may_access_case (srv->store, r->user, case_id, &error);
  if (ok) {
    if (g_hash_table_size (srv->access) >= 4096)
      g_hash_table_remove_all (srv->access);
    g_hash_table_add (srv->access, g_steal_pointer (&key));
  }
  return reply_access (r, ok, error);
}

gboolean
med_http_may_see_booking (MedReq *r, const MedBooking *bk)
{
  GError *error = NULL;
  gboolean ok;

  if (r->user == NULL)
    return FALSE;
  ok = med_service_may_access_booking (r->srv->store, r->user, bk, &error);
  return reply_access (r, ok, error);
}

gboolean
med_http_in_centre (MedReq *r, MedStoreOwned kind, gint64 id)
{
  GError *error = NULL;

  if (med_store_in_centre (r->srv->store, kind, id, r->srv->cfg.centre_id,
          &error))
    return TRUE;
  med_http_reply_gerror (r, error);
  return FALSE;
}

/* ---- login and logout ---- */

static void
set_cookie (MedReq *r, const char *name, const char *value, const char *path,
    gint64 max_age)
{
  g_autofree char *c
      = g_strdup_printf ("%s=%s; Path=%s; Max-Age=%" G_GINT64_FORMAT
                         "; HttpOnly; "
                         "SameSite=Strict%s",
          name, value, path, max_age,
          r->srv->cfg.secure_cookies ? "; Secure" : "");

  soup_message_headers_append (soup_server_message_get_response_headers (
                                   r->msg),
      "Set-Cookie", c);
}

void
med_http_redirect (MedReq *r, guint status, const char *path)
{
  const char *base = r->srv->cfg.public_url;
  g_autoptr (GUri) uri
      = base ? g_uri_parse (base, G_URI_FLAGS_NONE, NULL) : NULL;
  g_autofree char *loc = NULL;

  g_return_if_fail (path != NULL && path[0] == '/');
  /* soup_server_message_set_redirect() would resolve path against the
   * request's URI, which libsoup builds from the Host header */
  if (uri != NULL && g_uri_get_host (uri) != NULL
      && (g_strcmp0 (g_uri_get_scheme (uri), "https") == 0
          || g_strcmp0 (g_uri_get_scheme (uri), "http") == 0)) {
    gsize n = strlen (base);

    while (n > 0 && base[n - 1] == '/')
      n--;
    loc = g_strdup_printf ("%.*s%s", (int) n, base, path);
  } else {
    loc = g_strdup (path);
  }
  soup_server_message_set_status (r->msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Location", loc);
}

/* Only a local path: never an open redirect. */
static const char *
safe_next (const char *next)
{
  if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\'
      || strlen (next) > 512 || !g_utf8_validate (next, -1, NULL)
      || strpbrk (next, "\r\n\t ") != NULL)
    return "/";
  return next;
}

static void
render_login (MedReq *r, guint status, const char *next, const char *notice)
{
  g_autofree char *pre = med_http_new_secret ();

  /* Login CSRF: the form carries the value of a cookie only this page
   * set (double submit); a cross-site form cannot read or set it. */
  set_cookie (r, PRELOGIN_COOKIE, pre, "/login", 3600);
  med_http_page_login (r, status, pre, safe_next (next), notice);
}

void
med_http_login_get (MedReq *r)
{
  const char *next = r->query ? g_hash_table_lookup (r->query, "next") : NULL;

  render_login (r, 200, next, NULL);
}

typedef struct
{
  MedHttpServer *srv;
  SoupServerMessage *msg;
  char *username;
  char *password;
  char *stored; /* the user's hash, or a dummy one */
  gint64 user_id; /* 0 = no such user */
  char *client;
  char *key; /* its throttle, reserved */
  char *what; /* the throttle as logged */
  char *next;
  gboolean ok;
} LoginJob;

static void
login_job_free (LoginJob *j)
{
  if (j->password != NULL)
    memset (j->password, 0, strlen (j->password));
  g_free (j->username);
  g_free (j->password);
  g_free (j->stored);
  g_free (j->client);
  g_free (j->key);
  g_free (j->what);
  g_free (j->next);
  g_object_unref (j->msg);
  g_free (j);
}

static void
verify_thread (GTask *task, gpointer source, gpointer data,
    GCancellable *cancel)
{
  LoginJob *j = data;

  j->ok = med_http_password_verify (j->password, j->stored) && j->user_id > 0;
  g_task_return_boolean (task, TRUE);
}

static void
login_verified_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  LoginJob *j = g_task_get_task_data (G_TASK (res));
  MedReq r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (MedUser) u = NULL;

  r.srv = j->srv;
  r.msg = j->msg;
  r.method = SOUP_METHOD_POST;
  r.path = "/login";
  r.now = med_http_now (j->srv);
  r.client = j->client;
  if (j->ok)
    u = med_store_get_user (j->srv->store, j->user_id, &error);
  /* moved to another centre while the password was checked: unknown here */
  if (u != NULL && u->centre_id != j->srv->cfg.centre_id)
    g_clear_pointer (&u, med_user_free);
  /* a store failure is no failed attempt */
  throttle_release (j->srv, j->key, !j->ok || (u != NULL && u->disabled),
      j->what);
  if (u != NULL && !u->disabled) {
    g_autofree char *sid = med_http_new_secret ();
    g_autofree char *hash = med_http_hash_secret (sid);
    g_autofree char *csrf = med_http_new_secret ();
    gint64 ttl = (gint64) j->srv->cfg.session_hours * 3600;
    MedServiceCtx ctx = med_http_service_ctx (&r);

    if (!med_service_start_session (j->srv->store, &ctx, hash, u->id, csrf,
            r.now + ttl, &error)) {
      med_http_reply_gerror (&r, g_steal_pointer (&error));
    } else {
      med_http_note_user (j->msg, u);
      set_cookie (&r, SESSION_COOKIE, sid, "/", ttl);
      set_cookie (&r, PRELOGIN_COOKIE, "", "/login", 0);
      med_http_redirect (&r, 303, safe_next (j->next));
    }
  } else {
    render_login (&r, 401, j->next, N_ ("The user name or password is wrong."));
  }
  soup_server_message_unpause (j->msg);
}

void
med_http_login_post (MedReq *r)
{
  g_autoptr (GHashTable) form = med_http_request_form (r);
  g_autofree char *pre = NULL;
  g_autoptr (MedUser) u = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;
  g_autofree char *key = NULL;
  const char *name, *password, *next;
  LoginJob *j;
  guint retry = 0;

  if (form == NULL)
    return;
  name = g_hash_table_lookup (form, "username");
  password = g_hash_table_lookup (form, "password");
  next = g_hash_table_lookup (form, "next");
  pre = cookie_value (r, PRELOGIN_COOKIE);
  if (!med_http_secret_equal (pre, g_hash_table_lookup (form, "csrf"))) {
    render_login (r, 403, next, N_ ("The form expired; please try again."));
    return;
  }
  if (name == NULL || password == NULL || *name == '\0' || strlen (name) > 64
      || strlen (password) > 256) {
    render_login (r, 400, next, N_ ("Enter a user name and a password."));
    return;
  }
  /* Per (name, address): a guesser elsewhere never locks the owner out. */
  key = g_strdup_printf ("login:%s@%s", name, r->client);
  u = med_store_find_user (r->srv->store, name, &error);
  if (u == NULL
      && !g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  /* another centre's user is no account here: the same answer, the same
   * work and the same log line as a name that does not exist */
  if (u != NULL && u->centre_id != r->srv->cfg.centre_id)
    g_clear_pointer (&u, med_user_free);
  if (!throttle_reserve (r->srv, key, &retry)) {
    reply_rate_limited (r, retry);
    return;
  }
  j = g_new0 (LoginJob, 1);
  j->srv = r->srv;
  j->msg = g_object_ref (r->msg);
  j->username = g_strdup (name);
  j->password = g_strdup (password);
  j->client = g_strdup (r->client);
  j->key = g_steal_pointer (&key);
  /* a login name is staff data; a name that is no account is not logged */
  j->what = u != NULL
      ? g_strdup_printf ("sign-in as %s from %s", u->name, r->client)
      : g_strdup_printf ("sign-in with an unknown name from %s", r->client);
  j->next = g_strdup (next);
  if (u != NULL && !u->disabled) {
    j->user_id = u->id;
    j->stored = g_strdup (u->password);
  } else {
    /* The same work for a name that does not exist. */
    static gsize dummy_once;
    static char *dummy;

    if (g_once_init_enter (&dummy_once)) {
      dummy = med_http_password_hash ("medsched-dummy", 0);
      g_once_init_leave (&dummy_once, 1);
    }
    j->stored = g_strdup (dummy);
  }
  soup_server_message_pause (r->msg);
  r->paused = TRUE;
  task = g_task_new (NULL, NULL, login_verified_cb, NULL);
  g_task_set_task_data (task, j, (GDestroyNotify) login_job_free);
  g_task_run_in_thread (task, verify_thread);
}

void
med_http_logout_post (MedReq *r)
{
  g_autoptr (GHashTable) form = med_http_request_form (r);
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (form == NULL)
    return;
  if (r->user == NULL || !r->via_session) {
    med_http_redirect (r, 303, "/login");
    return;
  }
  if (!med_http_check_csrf (r, form))
    return;
  if (!med_service_end_session (r->srv->store, &ctx, r->session_hash, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  set_cookie (r, SESSION_COOKIE, "", "/", 0);
  med_http_redirect (r, 303, "/login");
}

gboolean
med_http_join_resolve (MedHttpServer *srv, const char *token, MedTime now,
    gint64 *booking_id, gint64 *party_id, GError **error)
{
  if (!med_store_join_lookup (srv->store, srv->cfg.centre_id, token,
          now - 6 * 3600, now + 400 * 86400, booking_id, party_id, error))
    return FALSE;
  if (med_store_join_revoked (srv->store, *booking_id, *party_id)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no such link");
    return FALSE;
  }
  return TRUE;
}
