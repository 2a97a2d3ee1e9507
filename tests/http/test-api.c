/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-api.c — the HTTP server driven through a real libsoup client.
 *
 * Each test gets a fresh store — a file in a temporary directory, or
 * under tests/pg/pgserver.py a fresh PostgreSQL database — (a centre on the
 * shipped national and Lhasa calendars, three rooms, two mediators, an
 * interpreter, users of every role with their bearer tokens) and a real
 * MedHttpServer on a free loopback port in this process, on the default
 * main context; the client is a SoupSession on the same context, so every
 * request is sent asynchronously and the loop runs until it is answered.
 * Raw-socket clients (bodies over the limit, slow clients) run in a
 * thread while the main loop serves them.
 *
 * Hostile input checks that the answer has the right status and that the
 * store did not change (its audit row count). */
#include <medsched/med-http.h>
#include <medsched/med-i18n.h>
#include <medsched/med-ical.h>
#include <medsched/med-store.h>
#include <med-store-write.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#ifdef MEDSCHED_HAVE_MEDIA
#include "gstmedmanifest.h"
#endif

#include "../test-db.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#define NOW_TEXT "2026-12-07T08:00"

typedef struct
{
  char *dir;
  char *db;
  MedHttpServer *srv;
  SoupSession *session;
  guint16 port;
  char *tok_admin, *tok_clerk, *tok_med1, *tok_med2;
  MedTime now;
} Fixture;

typedef struct
{
  guint status;
  char *body;
  gsize len;
  SoupMessageHeaders *headers; /* response */
  JsonNode *json;
} Resp;

static void
resp_free (Resp *r)
{
  if (r == NULL)
    return;
  g_free (r->body);
  if (r->headers)
    soup_message_headers_unref (r->headers);
  if (r->json)
    json_node_unref (r->json);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Resp, resp_free)

static Fixture *F; /* the running fixture, for helpers */

/* ---- setup ---- */

static MedTime
t_local (const char *s)
{
  MedTime t = 0;

  g_assert_true (med_time_parse_local (s, "Asia/Shanghai", &t, NULL));
  return t;
}

static void
import_calendar (MedStore *store, const char *file)
{
  g_autofree char *path
      = g_build_filename (g_getenv ("MEDSCHED_CALENDARS"), file, NULL);
  g_autofree char *data = NULL;
  g_autoptr (MedNotice) n = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  n = med_ical_parse_notice (data, len, &error);
  g_assert_no_error (error);
  g_assert_true (med_store_import_notice (store, n, "test", &error));
  g_assert_no_error (error);
}

static char *
add_user (MedStore *store, const char *name, MedRole role, gint64 mediator)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pw = med_http_password_hash ("secret-password", 1000);
  char *secret = med_http_new_secret ();
  g_autofree char *hash = med_http_hash_secret (secret);
  MedUser u = { 0 };
  gint64 id;

  u.name = (char *) name;
  u.centre_id = 1;
  u.role = role;
  u.mediator_id = mediator;
  u.password = pw;
  id = med_store_add_user (store, &u, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpint (med_store_add_token (store, id, hash, 0, "test", &error), >,
      0);
  g_assert_no_error (error);
  return secret;
}

static void
seed (Fixture *f)
{
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = med_centre_new_default ();
  g_autoptr (GError) error = NULL;
  static const char doc[]
      = "{\"rooms\":[{\"name\":\"温馨调解室一\",\"kind\":\"warm\","
        "\"capacity\":8},"
        "{\"name\":\"家事调解室\",\"kind\":\"family\",\"capacity\":6,"
        "\"features\":[\"child-friendly\"]},"
        "{\"name\":\"远程调解室\",\"kind\":\"remote\",\"capacity\":6}],"
        "\"mediators\":[{\"name\":\"扎西次仁\",\"languages\":[\"zh\",\"bo\"],"
        "\"specialties\":[\"wages\",\"neighbour\",\"contract\",\"land\"],"
        "\"daily_cap\":8},"
        "{\"name\":\"王芳\",\"languages\":[\"zh\"],\"specialties\":[\"wages\","
        "\"neighbour\",\"contract\",\"divorce\",\"custody\"],\"daily_cap\":8}],"
        "\"interpreters\":[{\"name\":\"格桑\",\"pairs\":[\"zh:bo\"]}]}";
  g_autoptr (MedImportDoc) d = NULL;

  store = med_store_open (f->db, &error);
  g_assert_no_error (error);
  med_store_set_now (store, f->now);
  g_free (c->layers);
  c->layers = g_strdup ("CN,CN-XZ-LS");
  g_assert_cmpint (med_store_add_centre (store, c, "test", &error), ==, 1);
  import_calendar (store, "cn-national-2026.ics");
  import_calendar (store, "cn-xz-lhasa-2026.ics");
  d = med_import_doc_parse (doc, strlen (doc), "Asia/Shanghai", &error);
  g_assert_no_error (error);
  g_assert_true (med_store_import_doc (store, 1, d, "test", NULL, NULL, NULL,
      NULL, &error));
  g_assert_no_error (error);
  f->tok_admin = add_user (store, "admin", MED_ROLE_ADMIN, 0);
  f->tok_clerk = add_user (store, "clerk", MED_ROLE_CLERK, 0);
  f->tok_med1 = add_user (store, "tashi", MED_ROLE_MEDIATOR, 1);
  f->tok_med2 = add_user (store, "wang", MED_ROLE_MEDIATOR, 2);
}

/* The fixture's server with these throttles (and public URL, or none). */
static void
start_server (Fixture *f, guint burst, guint refill, const char *public_url)
{
  MedHttpConfig cfg;
  g_autoptr (GError) error = NULL;

  med_http_config_init (&cfg);
  g_free (cfg.listen);
  cfg.listen = g_strdup ("127.0.0.1:0");
  cfg.db = g_strdup (f->db);
  g_free (cfg.access_log);
  cfg.access_log = g_build_filename (f->dir, "access.log", NULL);
  cfg.fixed_now = f->now;
  cfg.max_body_bytes = 64 * 1024;
  cfg.request_timeout = 2;
  cfg.login_burst = burst;
  cfg.login_refill = refill;
  cfg.public_url = g_strdup (public_url);
  /* X-Real-IP from loopback names the client: tests play other addresses */
  cfg.trust_proxy = TRUE;
  f->srv = med_http_server_new (&cfg, &error);
  med_http_config_clear (&cfg);
  g_assert_no_error (error);
  g_assert_true (med_http_server_listen (f->srv, &error));
  g_assert_no_error (error);
  f->port = med_http_server_get_port (f->srv);
}

/* Replaces the fixture's server by one with other settings. */
static void
restart_server (Fixture *f, guint burst, guint refill, const char *public_url)
{
  med_http_server_free (f->srv);
  start_server (f, burst, refill, public_url);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  F = f;
  f->dir = g_dir_make_tmp ("medsched-http-XXXXXX", &error);
  g_assert_no_error (error);
  f->db = test_db_new (f->dir, "test");
  f->now = t_local (NOW_TEXT);
  seed (f);
  start_server (f, 5, 60, NULL);
  f->session = soup_session_new_with_options ("max-conns", 64,
      "max-conns-per-host", 64, NULL);
}

/* Keeps the test's access log in MEDSCHED_TEST_LOGS/test-api/ (when set)
 * for tests/privacy/check-logs.py. */
static void
keep_log (Fixture *f)
{
  const char *root = g_getenv ("MEDSCHED_TEST_LOGS");
  g_autofree char *src = g_build_filename (f->dir, "access.log", NULL);
  g_autofree char *name = NULL, *dir = NULL, *dest = NULL, *data = NULL;
  gsize len = 0;

  if (root == NULL || !g_file_get_contents (src, &data, &len, NULL))
    return;
  name = g_strdelimit (g_strdup (g_test_get_path ()), "/", '-');
  dir = g_build_filename (root, test_db_pg () ? "test-api-pg" : "test-api",
      NULL);
  dest = g_strdup_printf ("%s/%s.access.log", dir, name);
  if (g_mkdir_with_parents (dir, 0755) != 0
      || !g_file_set_contents (dest, data, (gssize) len, NULL))
    g_test_message ("could not keep the access log in %s", dir);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_object_unref (f->session);
  med_http_server_free (f->srv);
  keep_log (f);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  {
    g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name (d)) != NULL) {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);

      g_unlink (p);
    }
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->db);
  g_free (f->tok_admin);
  g_free (f->tok_clerk);
  g_free (f->tok_med1);
  g_free (f->tok_med2);
  F = NULL;
}

/* ---- client ---- */

typedef struct
{
  gboolean done;
  GBytes *body;
  GError *error;
} Pending;

static void
sent_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  Pending *p = data;

  p->body = soup_session_send_and_read_finish (SOUP_SESSION (source), res,
      &p->error);
  p->done = TRUE;
}

/* Sends a request; extra headers as "Name: value" strings, NULL-ended. */
static Resp *
fetch_full (const char *method, const char *path, const char *token,
    const char *ctype, const char *body, gssize len, const char *const *extra)
{
  g_autofree char *url
      = g_strdup_printf ("http://127.0.0.1:%u%s", F->port, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  Pending p = { 0 };
  Resp *r = g_new0 (Resp, 1);
  SoupMessageHeaders *h;

  g_assert_nonnull (msg);
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  h = soup_message_get_request_headers (msg);
  if (token != NULL) {
    g_autofree char *a = g_strconcat ("Bearer ", token, NULL);

    soup_message_headers_replace (h, "Authorization", a);
  }
  for (guint i = 0; extra && extra[i]; i++) {
    g_auto (GStrv) kv = g_strsplit (extra[i], ": ", 2);

    soup_message_headers_append (h, kv[0], kv[1]);
  }
  if (body != NULL) {
    g_autoptr (GBytes) b
        = g_bytes_new (body, len < 0 ? strlen (body) : (gsize) len);

    soup_message_set_request_body_from_bytes (msg, ctype, b);
  }
  soup_session_send_and_read_async (F->session, msg, G_PRIORITY_DEFAULT, NULL,
      sent_cb, &p);
  while (!p.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (p.error);
  r->status = soup_message_get_status (msg);
  /* binary bodies (recordings) too: copied whole, NUL added */
  r->len = g_bytes_get_size (p.body);
  r->body = g_malloc (r->len + 1);
  if (r->len)
    memcpy (r->body, g_bytes_get_data (p.body, NULL), r->len);
  r->body[r->len] = '\0';
  r->headers
      = soup_message_headers_ref (soup_message_get_response_headers (msg));
  g_bytes_unref (p.body);
  {
    const char *ct = soup_message_headers_get_content_type (r->headers, NULL);

    if (ct && strcmp (ct, "application/json") == 0 && r->len > 0) {
      g_autoptr (JsonParser) parser = json_parser_new ();

      g_assert_true (
          json_parser_load_from_data (parser, r->body, r->len, NULL));
      r->json = json_node_ref (json_parser_get_root (parser));
    }
  }
  return r;
}

static Resp *
fetch (const char *method, const char *path, const char *token,
    const char *json_body)
{
  return fetch_full (method, path, token, "application/json", json_body, -1,
      NULL);
}

static JsonObject *
obj (Resp *r)
{
  g_assert_nonnull (r->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (r->json));
  return json_node_get_object (r->json);
}

static const char *
error_code (Resp *r)
{
  JsonObject *e = json_object_get_object_member (obj (r), "error");

  g_assert_nonnull (e);
  return json_object_get_string_member (e, "code");
}

#define assert_status(r, want)                                                 \
  G_STMT_START                                                                 \
  {                                                                            \
    if ((r)->status != (want))                                                 \
      g_error ("%s:%d: status %u, expected %u: %s", __FILE__, __LINE__,        \
          (r)->status, (guint) (want), (r)->body);                             \
  }                                                                            \
  G_STMT_END

static gint64
audit_rows (void)
{
  g_autoptr (MedStore) store = med_store_open_existing (F->db, NULL);
  g_autoptr (GPtrArray) rows = NULL;

  g_assert_nonnull (store);
  rows = med_store_list_audit (store, NULL, 0, NULL);
  g_assert_nonnull (rows);
  return rows->len;
}

/* Intake + dispatch of one case; returns its id. */
static gint64
new_case (const char *number, const char *kind, const char *party_lang)
{
  g_autofree char *body = g_strdup_printf (
      "{\"number\":\"%s\",\"kind\":\"%s\",\"summary\":\"欠薪\","
      "\"parties\":[{\"name\":\"张三\",\"role\":\"applicant\","
      "\"language\":\"%s\",\"contact\":\"13800000001\"},"
      "{\"name\":\"某公司\",\"role\":\"respondent\",\"language\":\"zh\"}]}",
      number, kind, party_lang);
  g_autoptr (Resp) r = fetch ("POST", "/api/v1/cases", F->tok_clerk, body);
  g_autoptr (Resp) d = NULL;
  g_autofree char *path = NULL;
  gint64 id;

  assert_status (r, 201);
  id = json_object_get_int_member (json_object_get_object_member (obj (r),
                                       "case"),
      "id");
  path = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT "/dispatch", id);
  d = fetch ("POST", path, F->tok_clerk,
      "{\"department\":\"court-mediation\"}");
  assert_status (d, 200);
  return id;
}

static gint64
book_at (gint64 case_id, const char *start, gint64 room, gint64 mediator,
    guint want_status)
{
  g_autofree char *body
      = g_strdup_printf ("{\"case_id\":%" G_GINT64_FORMAT
                         ",\"start\":\"%s\",\"room_id\":%" G_GINT64_FORMAT
                         ",\"mediator_id\":%" G_GINT64_FORMAT "}",
          case_id, start, room, mediator);
  g_autoptr (Resp) r = fetch ("POST", "/api/v1/bookings", F->tok_clerk, body);

  assert_status (r, want_status);
  if (want_status != 201)
    return 0;
  return json_object_get_int_member (json_object_get_object_member (obj (r),
                                         "booking"),
      "id");
}

/* ---- basics ---- */

static void
test_health (Fixture *f, gconstpointer data)
{
  g_autoptr (Resp) r = fetch ("GET", "/healthz", NULL, NULL);
  g_autofree char *log = NULL;
  g_autofree char *logpath = g_build_filename (f->dir, "access.log", NULL);

  assert_status (r, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (r), "status"), ==, "ok");
  g_assert_nonnull (
      soup_message_headers_get_one (r->headers, "X-Content-Type-Options"));
  /* the access log: one JSON line per request, the feed token redacted */
  resp_free (fetch ("GET", "/feeds/SECRETSECRETSECRETSECRET.ics", NULL, NULL));
  resp_free (fetch ("GET", "/api/v1/rooms", f->tok_clerk, NULL));
  g_assert_true (g_file_get_contents (logpath, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "\"path\":\"/healthz\",\"status\":200"));
  g_assert_null (strstr (log, "SECRETSECRET"));
  g_assert_nonnull (strstr (log, "\"path\":\"/feeds/….ics\""));
  g_assert_nonnull (strstr (log, "\"role\":\"clerk\""));
  g_assert_null (strstr (log, f->tok_clerk));
}

static void
test_auth_tokens (Fixture *f, gconstpointer data)
{
  g_autoptr (Resp) none = fetch ("GET", "/api/v1/rooms", NULL, NULL);
  g_autoptr (Resp) forged = NULL, bad_scheme = NULL, ok = NULL, gone = NULL;
  g_autofree char *fake = med_http_new_secret ();
  const char *const basic[] = { "Authorization: Basic YWRtaW46cGFzcw==", NULL };

  assert_status (none, 401);
  g_assert_cmpstr (error_code (none), ==, "unauthorized");
  forged = fetch ("GET", "/api/v1/rooms", fake, NULL);
  assert_status (forged, 401);
  g_assert_nonnull (
      soup_message_headers_get_one (forged->headers, "WWW-Authenticate"));
  bad_scheme = fetch_full ("GET", "/api/v1/rooms", NULL, NULL, NULL, 0, basic);
  assert_status (bad_scheme, 401);
  ok = fetch ("GET", "/api/v1/rooms", f->tok_admin, NULL);
  assert_status (ok, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (ok->json)), ==,
      3);
  /* revoked tokens stop working */
  {
    g_autoptr (MedStore) store = med_store_open_existing (f->db, NULL);
    g_autoptr (MedUser) u = med_store_find_user (store, "admin", NULL);

    g_assert_true (med_store_revoke_tokens (store, u->id, "test", NULL));
  }
  gone = fetch ("GET", "/api/v1/rooms", f->tok_admin, NULL);
  assert_status (gone, 401);
}

static void
test_auth_expired (Fixture *f, gconstpointer data)
{
  g_autoptr (MedStore) store = med_store_open_existing (f->db, NULL);
  g_autoptr (MedUser) u = med_store_find_user (store, "clerk", NULL);
  g_autofree char *secret = med_http_new_secret ();
  g_autofree char *hash = med_http_hash_secret (secret);
  g_autoptr (Resp) r = NULL;

  /* expired one minute before the server's clock */
  g_assert_cmpint (med_store_add_token (store, u->id, hash, f->now - 60, "test",
                       NULL),
      >, 0);
  r = fetch ("GET", "/api/v1/centre", secret, NULL);
  assert_status (r, 401);
}

static void
test_auth_rate_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (Resp) last = NULL;
  guint n401 = 0;

  /* burst 5 in this fixture: the misses use it up, then 429 */
  for (guint i = 0; i < 8; i++) {
    g_autofree char *fake = med_http_new_secret ();
    Resp *r = fetch ("GET", "/api/v1/rooms", fake, NULL);

    if (r->status == 401)
      n401++;
    else
      g_assert_cmpuint (r->status, ==, 429);
    resp_free (last);
    last = r;
  }
  g_assert_cmpuint (n401, <=, 5);
  g_assert_cmpuint (last->status, ==, 429);
  g_assert_nonnull (
      soup_message_headers_get_one (last->headers, "Retry-After"));
  /* a good token from the same address (a court behind one NAT) still
   * works: only the misses wait */
  resp_free (g_steal_pointer (&last));
  last = fetch ("GET", "/api/v1/rooms", f->tok_clerk, NULL);
  assert_status (last, 200);
  resp_free (g_steal_pointer (&last));
  {
    g_autofree char *fake = med_http_new_secret ();

    last = fetch ("GET", "/api/v1/rooms", fake, NULL);
    assert_status (last, 429);
  }
  /* another address is not slowed by this one's misses */
  resp_free (g_steal_pointer (&last));
  {
    g_autofree char *fake = med_http_new_secret ();
    const char *other[] = { "X-Real-IP: 10.0.0.7", NULL };

    last = fetch_full ("GET", "/api/v1/rooms", fake, NULL, NULL, 0, other);
    assert_status (last, 401);
  }
}

/* ---- resources and roles ---- */

static void
test_resources (Fixture *f, gconstpointer data)
{
  g_autoptr (Resp) centre = fetch ("GET", "/api/v1/centre", f->tok_med1, NULL);
  g_autoptr (Resp) room = NULL, med = NULL, interp = NULL, list = NULL;
  g_autoptr (Resp) refused = NULL, bad = NULL;

  assert_status (centre, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (centre), "zone"), ==,
      "Asia/Shanghai");
  room = fetch ("POST", "/api/v1/rooms", f->tok_clerk,
      "{\"name\":\"温馨调解室二\",\"kind\":\"warm\",\"capacity\":4}");
  assert_status (room, 201);
  g_assert_cmpint (json_object_get_int_member (obj (room), "id"), ==, 4);
  med = fetch ("POST", "/api/v1/mediators", f->tok_admin,
      "{\"name\":\"次仁\",\"languages\":[\"bo\"],\"specialties\":[\"land\"]}");
  assert_status (med, 201);
  interp = fetch ("POST", "/api/v1/interpreters", f->tok_admin,
      "{\"name\":\"卓玛\",\"pairs\":[\"zh:bo\",\"zh:en\"]}");
  assert_status (interp, 201);
  list = fetch ("GET", "/api/v1/interpreters", f->tok_med2, NULL);
  assert_status (list, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list->json)),
      ==, 2);
  refused = fetch ("POST", "/api/v1/rooms", f->tok_med1,
      "{\"name\":\"x\",\"kind\":\"warm\"}");
  assert_status (refused, 403);
  bad = fetch ("POST", "/api/v1/rooms", f->tok_clerk,
      "{\"name\":\"x\",\"kind\":\"kitchen\"}");
  assert_status (bad, 422);
  g_assert_nonnull (strstr (bad->body, "kind"));
}

static void
test_cases_and_roles (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调1号", "wages", "bo");
  gint64 c2 = new_case ("(2026)藏0102调2号", "contract", "zh");
  g_autofree char *p1 = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT, c1);
  g_autofree char *p2 = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT, c2);
  g_autoptr (Resp) r = NULL;

  /* a mediator may not take intake or dispatch */
  r = fetch ("POST", "/api/v1/cases", f->tok_med1,
      "{\"number\":\"x\",\"kind\":\"wages\",\"parties\":[{\"name\":\"a\","
      "\"role\":\"applicant\",\"language\":\"zh\"}]}");
  assert_status (r, 403);
  g_clear_pointer (&r, resp_free);
  /* book case 1 with mediator 1, case 2 with mediator 2 */
  book_at (c1, "2026-12-07T10:00", 1, 1, 201);
  book_at (c2, "2026-12-07T11:00", 1, 2, 201);
  /* mediator 1 sees case 1, not case 2 */
  r = fetch ("GET", p1, f->tok_med1, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (
                        json_object_get_array_member (obj (r), "parties")),
      ==, 2);
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", p2, f->tok_med1, NULL);
  assert_status (r, 403);
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", "/api/v1/cases", f->tok_med1, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==,
      1);
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", "/api/v1/cases?status=scheduled", f->tok_clerk, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==,
      2);
  g_clear_pointer (&r, resp_free);
  /* the agenda of a mediator has only their sessions */
  r = fetch ("GET", "/api/v1/agenda?from=2026-12-07&to=2026-12-07", f->tok_med2,
      NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==,
      1);
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", "/api/v1/agenda?from=2026-12-07", f->tok_clerk, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==,
      2);
  g_clear_pointer (&r, resp_free);
  /* status changes: the mediator of the case may, the other may not */
  {
    g_autofree char *s2 = g_strconcat (p2, "/status", NULL);
    g_autofree char *s1 = g_strconcat (p1, "/status", NULL);

    r = fetch ("POST", s2, f->tok_med1, "{\"status\":\"in-session\"}");
    assert_status (r, 403);
    g_clear_pointer (&r, resp_free);
    r = fetch ("POST", s1, f->tok_med1, "{\"status\":\"in-session\"}");
    assert_status (r, 200);
    g_assert_cmpstr (json_object_get_string_member (obj (r), "status"), ==,
        "in-session");
    g_clear_pointer (&r, resp_free);
    r = fetch ("POST", s1, f->tok_med1, "{\"status\":\"intake\"}");
    assert_status (r, 422);
    g_clear_pointer (&r, resp_free);
    r = fetch ("POST", s1, f->tok_med1, "{\"status\":\"settled\"}");
    assert_status (r, 200);
    g_clear_pointer (&r, resp_free);
    r = fetch ("POST", s1, f->tok_med1, "{\"status\":\"in-session\"}");
    assert_status (r, 422);
  }
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", "/api/v1/cases/999", f->tok_clerk, NULL);
  assert_status (r, 404);
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", "/api/v1/cases/0x1", f->tok_clerk, NULL);
  assert_status (r, 404);
}

static void
test_booking_flow (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调3号", "wages", "bo");
  gint64 c2 = new_case ("(2026)藏0102调4号", "wages", "zh");
  g_autofree char *slots
      = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT "/slots?count=3",
          c1);
  g_autoptr (Resp) r = NULL;
  g_autofree char *path = NULL;
  gint64 b1, b2;
  JsonObject *bk;

  r = fetch ("GET", slots, f->tok_clerk, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==,
      3);
  g_assert_nonnull (json_object_get_string_member (
      json_array_get_object_element (json_node_get_array (r->json), 0),
      "explanation"));
  /* beside the English, the reasons as codes with their parameters */
  {
    JsonObject *first
        = json_array_get_object_element (json_node_get_array (r->json), 0);
    JsonArray *why = json_object_get_array_member (first, "reasons");
    JsonObject *room = json_array_get_object_element (why, 0);
    JsonObject *cap = json_array_get_object_element (why, 1);

    g_assert_cmpuint (json_array_get_length (why), >=, 4);
    g_assert_cmpstr (json_object_get_string_member (room, "code"), ==, "room");
    g_assert_cmpstr (json_object_get_string_member (room, "room_kind"), ==,
        "warm");
    g_assert_cmpstr (json_object_get_string_member (room, "cause"), ==,
        "why_general");
    g_assert_nonnull (strstr (json_object_get_string_member (room, "message"),
        "because it is a general civil case"));
    g_assert_cmpstr (json_object_get_string_member (cap, "code"), ==,
        "capacity");
    g_assert_cmpint (json_object_get_int_member (cap, "in_person"), >, 0);
  }
  g_clear_pointer (&r, resp_free);
  /* the same question again is answered from the cache, same bytes */
  {
    g_autoptr (Resp) again = fetch ("GET", slots, f->tok_clerk, NULL);

    assert_status (again, 200);
  }
  /* earliest booking */
  {
    g_autofree char *body
        = g_strdup_printf ("{\"case_id\":%" G_GINT64_FORMAT "}", c1);

    r = fetch ("POST", "/api/v1/bookings", f->tok_clerk, body);
  }
  assert_status (r, 201);
  bk = json_object_get_object_member (obj (r), "booking");
  b1 = json_object_get_int_member (bk, "id");
  g_assert_cmpstr (json_object_get_string_member (bk, "start"), ==,
      "2026-12-07T09:00");
  g_assert_nonnull (json_object_get_string_member (obj (r), "explanation"));
  g_clear_pointer (&r, resp_free);
  /* the same room, mediator and time for another case: 409 */
  {
    gint64 room = 0, med = 0;
    g_autofree char *bp
        = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT, b1);

    r = fetch ("GET", bp, f->tok_clerk, NULL);
    assert_status (r, 200);
    bk = json_object_get_object_member (obj (r), "booking");
    room = json_object_get_int_member (bk, "room_id");
    med = json_object_get_int_member (bk, "mediator_id");
    g_clear_pointer (&r, resp_free);
    {
      gint64 before = audit_rows ();

      book_at (c2, "2026-12-07T09:00", room, med, 409);
      g_assert_cmpint (audit_rows (), ==, before);
    }
  }
  b2 = book_at (c2, "2026-12-07T14:30", 1, 2, 201);
  /* reschedule by hand, then to the next earliest */
  path = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/reschedule",
      b2);
  r = fetch ("POST", path, f->tok_clerk, "{\"start\":\"2026-12-07T15:30\"}");
  assert_status (r, 200);
  bk = json_object_get_object_member (obj (r), "booking");
  g_assert_cmpstr (json_object_get_string_member (bk, "start"), ==,
      "2026-12-07T15:30");
  g_assert_cmpint (json_object_get_int_member (bk, "sequence"), ==, 1);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", path, f->tok_clerk, "{}");
  assert_status (r, 200);
  g_clear_pointer (&r, resp_free);
  /* a mediator of another case cannot move it */
  r = fetch ("POST", path, f->tok_med1, "{}");
  assert_status (r, 403);
  g_clear_pointer (&r, resp_free);
  /* its own mediator can cancel it */
  g_free (path);
  path = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/cancel", b2);
  r = fetch ("POST", path, f->tok_med2, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (obj (r), "booking"),
                       "status"),
      ==, "cancelled");
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", path, f->tok_clerk, NULL);
  g_assert_cmpuint (r->status, >=, 409);
  g_clear_pointer (&r, resp_free);
  /* not a bookable case: intake only */
  {
    g_autoptr (Resp) k = fetch ("POST", "/api/v1/cases", f->tok_clerk,
        "{\"number\":\"N-5\",\"kind\":\"land\",\"parties\":[{\"name\":\"a\","
        "\"role\":\"applicant\",\"language\":\"zh\"}]}");
    g_autofree char *body = NULL;

    assert_status (k, 201);
    body = g_strdup_printf ("{\"case_id\":%" G_GINT64_FORMAT "}",
        json_object_get_int_member (json_object_get_object_member (obj (k),
                                        "case"),
            "id"));
    r = fetch ("POST", "/api/v1/bookings", f->tok_clerk, body);
    assert_status (r, 422);
    g_assert_cmpstr (error_code (r), ==, "case_state");
  }
  g_clear_pointer (&r, resp_free);
  /* audit */
  r = fetch ("GET", "/api/v1/audit/verify", f->tok_admin, NULL);
  assert_status (r, 200);
  g_assert_true (json_object_get_boolean_member (obj (r), "intact"));
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", "/api/v1/audit/verify", f->tok_med1, NULL);
  assert_status (r, 403);
}


/* ---- the board's endpoints: where a case fits, undo, parties, search,
 * why a call cannot start ---- */

static JsonObject *
find_cell (JsonArray *cells, gint64 room, const char *start)
{
  for (guint i = 0; i < json_array_get_length (cells); i++) {
    JsonObject *c = json_array_get_object_element (cells, i);

    if (json_object_get_int_member (c, "room_id") == room
        && g_strcmp0 (json_object_get_string_member (c, "start"), start) == 0)
      return c;
  }
  return NULL;
}

static void
test_board_fit (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调51号", "wages", "bo");
  gint64 c2 = new_case ("(2026)藏0102调52号", "wages", "zh");
  g_autofree char *fit = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT
                                          "/fit?date=2026-12-08",
      c2);
  g_autoptr (Resp) r = NULL;
  JsonArray *cells;
  JsonObject *cell, *slot, *needs;
  gint64 b1;

  b1 = book_at (c1, "2026-12-08T10:00", 1, 1, 201);
  r = fetch ("GET", fit, f->tok_clerk, NULL);
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "duration_minutes"), ==,
      60);
  needs = json_object_get_object_member (obj (r), "needs");
  g_assert_cmpstr (json_object_get_string_member (needs, "room_kind"), ==,
      "warm");
  cells = json_object_get_array_member (obj (r), "cells");
  /* the warm room is taken 10:00–11:00: blocked, saying by what */
  cell = find_cell (cells, 1, "2026-12-08T10:30");
  g_assert_nonnull (cell);
  g_assert_cmpstr (json_object_get_string_member (cell, "state"), ==,
      "blocked");
  /* (the applicant, same phone, is in case 1's session too) */
  {
    JsonArray *blocks = json_object_get_array_member (cell, "blocks");
    gboolean room = FALSE, party = FALSE;

    for (guint i = 0; i < json_array_get_length (blocks); i++) {
      room |= g_strcmp0 (json_array_get_string_element (blocks, i), "room_busy")
          == 0;
      party
          |= g_strcmp0 (json_array_get_string_element (blocks, i), "party_busy")
          == 0;
    }
    g_assert_true (party);
    g_assert_false (room); /* the search stopped at the first reason */
  }
  g_assert_nonnull (
      strstr (json_object_get_string_member (cell, "why"), "another session"));
  {
    JsonArray *why = json_object_get_array_member (cell, "reasons");

    g_assert_cmpstr (json_object_get_string_member (
                         json_array_get_object_element (why, 0), "code"),
        ==, "party_busy");
  }
  /* 11:00 fits, with a mediator named */
  cell = find_cell (cells, 1, "2026-12-08T11:00");
  g_assert_cmpstr (json_object_get_string_member (cell, "state"), ==, "fits");
  slot = json_object_get_object_member (cell, "slot");
  g_assert_cmpstr (json_object_get_string_member (slot, "room"), ==,
      "温馨调解室一");
  g_assert_cmpstr (json_object_get_string_member (slot, "end"), ==,
      "2026-12-08T12:00");
  g_assert_cmpint (strlen (json_object_get_string_member (slot, "mediator")), >,
      0);
  /* one click books the cell's slot as it is */
  {
    g_autofree char *body
        = g_strdup_printf ("{\"case_id\":%" G_GINT64_FORMAT
                           ",\"start\":\"%s\",\"room_id\":%" G_GINT64_FORMAT
                           ",\"mediator_id\":%" G_GINT64_FORMAT "}",
            c2, json_object_get_string_member (slot, "start"),
            json_object_get_int_member (slot, "room_id"),
            json_object_get_int_member (slot, "mediator_id"));
    g_autoptr (Resp) bk
        = fetch ("POST", "/api/v1/bookings", f->tok_clerk, body);

    assert_status (bk, 201);
  }
  g_clear_pointer (&r, resp_free);
  /* moving b1: it does not block itself (09:00–10:00 overlaps it) */
  {
    g_autofree char *mv
        = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT
                           "/fit?date=2026-12-08&booking=%" G_GINT64_FORMAT,
            c1, b1);

    r = fetch ("GET", mv, f->tok_clerk, NULL);
    assert_status (r, 200);
    cell = find_cell (json_object_get_array_member (obj (r), "cells"), 1,
        "2026-12-08T09:30");
    g_assert_cmpstr (json_object_get_string_member (cell, "state"), ==, "fits");
    g_clear_pointer (&r, resp_free);
    /* its mediator may ask; the other mediator may not */
    r = fetch ("GET", mv, f->tok_med1, NULL);
    assert_status (r, 200);
    g_clear_pointer (&r, resp_free);
    r = fetch ("GET", mv, f->tok_med2, NULL);
    assert_status (r, 403);
    g_clear_pointer (&r, resp_free);
  }
  /* hostile or wrong queries */
  {
    static const char *const bad[] = { "", "?date=2026-02-30",
      "?date=2026-12-8", "?date=20261208", "?date=2026-12-08&step=0",
      "?date=2026-12-08&step=abc", "?date=2026-12-08&step=99999999999999999999",
      "?date=2026-12-08&booking=0", "?date=2026-12-08&booking=-1",
      "?date=2026-12-08&booking=999", "?date=%00", "?date=2026-12-08%27--" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autofree char *p
          = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT "/fit%s", c2,
              bad[i]);

      r = fetch ("GET", p, f->tok_clerk, NULL);
      if (r->status != 422 && r->status != 400)
        g_error ("%s: status %u: %s", p, r->status, r->body);
      g_clear_pointer (&r, resp_free);
    }
    /* another case's booking */
    {
      g_autofree char *p
          = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT
                             "/fit?date=2026-12-08&booking=%" G_GINT64_FORMAT,
              c2, b1);

      r = fetch ("GET", p, f->tok_clerk, NULL);
      assert_status (r, 422);
      g_clear_pointer (&r, resp_free);
    }
  }
  r = fetch ("GET", fit, NULL, NULL);
  assert_status (r, 401);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", fit, f->tok_clerk, "{}");
  assert_status (r, 405);
  g_clear_pointer (&r, resp_free);
  /* a case at intake is not on the board */
  {
    g_autoptr (Resp) k = fetch ("POST", "/api/v1/cases", f->tok_clerk,
        "{\"number\":\"N-51\",\"kind\":\"land\",\"parties\":[{\"name\":\"a\","
        "\"role\":\"applicant\",\"language\":\"zh\"}]}");
    g_autofree char *p = NULL;

    assert_status (k, 201);
    p = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT
                         "/fit?date=2026-12-08",
        json_object_get_int_member (json_object_get_object_member (obj (k),
                                        "case"),
            "id"));
    r = fetch ("GET", p, f->tok_clerk, NULL);
    assert_status (r, 422);
    g_assert_cmpstr (error_code (r), ==, "case_state");
  }
}

static void
test_board_undo (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调53号", "wages", "zh");
  gint64 c2 = new_case ("(2026)藏0102调54号", "wages", "zh");
  gint64 b1 = book_at (c1, "2026-12-08T10:00", 1, 1, 201);
  g_autofree char *undo
      = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/undo", b1);
  g_autoptr (Resp) r = NULL;
  gint64 before;

  /* the double booking names what clashed */
  {
    g_autofree char *body = g_strdup_printf ("{\"case_id\":%" G_GINT64_FORMAT
                                             ",\"start\":\"2026-12-08T10:30\","
                                             "\"room_id\":1,\"mediator_id\":2}",
        c2);

    r = fetch ("POST", "/api/v1/bookings", f->tok_clerk, body);
  }
  assert_status (r, 409);
  g_assert_nonnull (strstr (r->body, "room 温馨调解室一"));
  g_clear_pointer (&r, resp_free);
  /* only whoever booked undoes it: not the admin, not a mediator */
  before = audit_rows ();
  r = fetch ("POST", undo, f->tok_admin, NULL);
  assert_status (r, 422);
  g_assert_cmpstr (error_code (r), ==, "case_state");
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", undo, f->tok_med2, NULL);
  assert_status (r, 403);
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", undo, f->tok_clerk, NULL);
  assert_status (r, 405);
  g_clear_pointer (&r, resp_free);
  g_assert_cmpint (audit_rows (), ==, before);
  r = fetch ("POST", undo, f->tok_clerk, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (obj (r), "booking"),
                       "status"),
      ==, "cancelled");
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", undo, f->tok_clerk, NULL);
  assert_status (r, 422);
  g_clear_pointer (&r, resp_free);
  /* why a call cannot start: a cancelled session says so */
  {
    g_autofree char *call
        = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/call", b1);
    gint64 b2 = book_at (c2, "2026-12-08T10:00", 1, 2, 201);
    g_autofree char *call2
        = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/call", b2);

    r = fetch ("GET", call, f->tok_clerk, NULL);
    assert_status (r, 200);
    g_assert_false (json_object_get_boolean_member (obj (r), "ready"));
    g_assert_cmpstr (json_object_get_string_member (obj (r), "reason"), ==,
        "cancelled");
    g_clear_pointer (&r, resp_free);
    r = fetch ("GET", call2, f->tok_med2, NULL);
    assert_status (r, 200);
#ifdef MEDSCHED_HAVE_MEDIA
    g_assert_true (json_object_get_boolean_member (obj (r), "ready"));
#else
    g_assert_cmpstr (json_object_get_string_member (obj (r), "reason"), ==,
        "no_calls");
#endif
    g_clear_pointer (&r, resp_free);
    r = fetch ("GET", call2, f->tok_med1, NULL);
    assert_status (r, 403);
    g_clear_pointer (&r, resp_free);
    r = fetch ("GET", call2, NULL, NULL);
    assert_status (r, 401);
  }
}

static void
test_board_parties (Fixture *f, gconstpointer data)
{
  gint64 c = new_case ("(2026)藏0102调55号", "wages", "zh");
  g_autofree char *base
      = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT "/parties", c);
  g_autoptr (Resp) r = NULL;
  g_autofree char *one = NULL;
  gint64 pid, before;

  r = fetch ("POST", base, f->tok_clerk,
      "{\"name\":\"次仁\",\"role\":\"third-party\",\"language\":\"bo\","
      "\"attendance\":\"remote\",\"contact\":\"139 0000 0055\"}");
  assert_status (r, 201);
  pid = json_object_get_int_member (json_object_get_object_member (obj (r),
                                        "party"),
      "id");
  g_clear_pointer (&r, resp_free);
  one = g_strdup_printf ("%s/%" G_GINT64_FORMAT, base, pid);
  r = fetch ("GET", base, f->tok_clerk, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==,
      3);
  g_clear_pointer (&r, resp_free);
  /* hostile bodies change nothing */
  before = audit_rows ();
  {
    static const char *const bad[] = { "", "[]", "null", "{",
      "{\"name\":\"a\"}", "{\"name\":1,\"role\":\"agent\",\"language\":\"zh\"}",
      "{\"name\":\"a\",\"role\":\"king\",\"language\":\"zh\"}",
      "{\"name\":\"a\",\"role\":\"agent\",\"language\":\"ZH\"}",
      "{\"name\":\"a\",\"role\":\"agent\",\"language\":\"zh\",\"x\":1}",
      "{\"name\":{\"a\":1},\"role\":\"agent\",\"language\":\"zh\"}",
      "{\"name\":\"a\\u0000b\",\"role\":\"agent\",\"language\":\"zh\"}",
      "{\"name\":\"\",\"role\":\"agent\",\"language\":\"zh\"}",
      "{\"name\":\"a\",\"role\":\"agent\",\"language\":\"zh\","
      "\"attendance\":\"teleport\"}",
      "{\"name\":\"a\",\"role\":\"agent\",\"language\":\"zh\",\"contact\":[]}",
      "{\"name\":\"'); DROP TABLE party;--\",\"role\":\"agent\","
      "\"language\":\"zh'--\"}" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      r = fetch ("POST", base, f->tok_clerk, bad[i]);
      if (r->status < 400 || r->status >= 500)
        g_error ("%s: status %u: %s", bad[i], r->status, r->body);
      g_clear_pointer (&r, resp_free);
      r = fetch ("PUT", one, f->tok_clerk, bad[i]);
      if (r->status < 400 || r->status >= 500)
        g_error ("PUT %s: status %u: %s", bad[i], r->status, r->body);
      g_clear_pointer (&r, resp_free);
    }
    {
      g_autofree char *huge = g_strnfill (300, 'x');
      g_autofree char *body = g_strdup_printf (
          "{\"name\":\"%s\",\"role\":\"agent\",\"language\":\"zh\"}", huge);

      r = fetch ("POST", base, f->tok_clerk, body);
      assert_status (r, 422);
      g_clear_pointer (&r, resp_free);
    }
    r = fetch_full ("POST", base, f->tok_clerk, "text/plain",
        "{\"name\":\"a\",\"role\":\"agent\",\"language\":\"zh\"}", -1, NULL);
    assert_status (r, 415);
    g_clear_pointer (&r, resp_free);
  }
  /* roles: a mediator neither adds nor removes */
  r = fetch ("POST", base, f->tok_med1,
      "{\"name\":\"a\",\"role\":\"agent\",\"language\":\"zh\"}");
  assert_status (r, 403);
  g_clear_pointer (&r, resp_free);
  r = fetch ("DELETE", one, f->tok_med1, NULL);
  assert_status (r, 403);
  g_clear_pointer (&r, resp_free);
  g_assert_cmpint (audit_rows (), ==, before);
  /* correct, remove */
  r = fetch ("PUT", one, f->tok_clerk,
      "{\"name\":\"次仁多吉\",\"role\":\"third-party\",\"language\":\"bo\","
      "\"attendance\":\"in-person\"}");
  assert_status (r, 200);
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (obj (r), "party"),
                       "attendance"),
      ==, "in-person");
  g_clear_pointer (&r, resp_free);
  r = fetch ("DELETE", one, f->tok_clerk, NULL);
  assert_status (r, 204);
  g_clear_pointer (&r, resp_free);
  r = fetch ("DELETE", one, f->tok_clerk, NULL);
  assert_status (r, 404);
  g_clear_pointer (&r, resp_free);
  r = fetch ("PUT", one, f->tok_clerk,
      "{\"name\":\"x\",\"role\":\"agent\",\"language\":\"zh\"}");
  assert_status (r, 404);
  g_clear_pointer (&r, resp_free);
  {
    g_autofree char *p = g_strdup_printf ("%s/abc", base);
    g_autofree char *deep = g_strdup_printf ("%s/1/2", base);

    r = fetch ("DELETE", p, f->tok_clerk, NULL);
    assert_status (r, 404);
    g_clear_pointer (&r, resp_free);
    r = fetch ("DELETE", deep, f->tok_clerk, NULL);
    assert_status (r, 404);
    g_clear_pointer (&r, resp_free);
  }
  /* the audit trail names fields, never values */
  {
    g_autofree char *p = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT, c);

    r = fetch ("GET", p, f->tok_clerk, NULL);
  }
  assert_status (r, 200);
  g_assert_nonnull (strstr (r->body, "party.update"));
  g_assert_nonnull (strstr (r->body, "party.remove"));
  g_assert_null (strstr (r->body, "\\\"name\\\":\\\"次仁"));
  g_clear_pointer (&r, resp_free);
  /* a closed case's parties do not change */
  {
    g_autofree char *st
        = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT "/status", c);

    r = fetch ("POST", st, f->tok_clerk, "{\"status\":\"withdrawn\"}");
    assert_status (r, 200);
    g_clear_pointer (&r, resp_free);
    r = fetch ("POST", base, f->tok_clerk,
        "{\"name\":\"a\",\"role\":\"agent\",\"language\":\"zh\"}");
    assert_status (r, 422);
    g_assert_cmpstr (error_code (r), ==, "case_state");
  }
}

static void
test_board_search (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调56号", "wages", "zh");
  gint64 c2 = new_case ("(2026)藏0102调57号", "contract", "zh");
  g_autoptr (Resp) r = NULL;

  (void) c2;
  book_at (c1, "2026-12-08T10:00", 1, 1, 201);
  r = fetch ("POST", "/api/v1/cases/search", f->tok_clerk,
      "{\"q\":\"138 0000 0001\"}");
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "total"), ==, 2);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", "/api/v1/cases/search", f->tok_clerk,
      "{\"q\":\"调56\",\"page\":1,\"per_page\":1}");
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "total"), ==, 1);
  {
    JsonObject *hit
        = json_array_get_object_element (json_object_get_array_member (obj (r),
                                             "cases"),
            0);

    g_assert_cmpint (json_object_get_int_member (
                         json_object_get_object_member (hit, "case"), "id"),
        ==, c1);
    g_assert_cmpuint (json_array_get_length (
                          json_object_get_array_member (hit, "parties")),
        ==, 2);
  }
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", "/api/v1/cases/search", f->tok_clerk,
      "{\"date\":\"2026-12-08\",\"mediator_id\":1,\"status\":\"scheduled\"}");
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "total"), ==, 1);
  g_clear_pointer (&r, resp_free);
  /* a mediator finds only their cases */
  r = fetch ("POST", "/api/v1/cases/search", f->tok_med2, "{}");
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "total"), ==, 0);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", "/api/v1/cases/search", f->tok_med1, "{}");
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "total"), ==, 1);
  g_clear_pointer (&r, resp_free);
  {
    static const char *const bad[] = { "{\"q\":5}", "{\"page\":0}",
      "{\"per_page\":101}", "{\"status\":\"bogus\"}", "{\"date\":\"tomorrow\"}",
      "{\"mediator_id\":\"1\"}", "{\"x\":1}", "[]", "{\"q\":\"\\u0001\"}" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      r = fetch ("POST", "/api/v1/cases/search", f->tok_clerk, bad[i]);
      if (r->status < 400 || r->status >= 500)
        g_error ("%s: status %u: %s", bad[i], r->status, r->body);
      g_clear_pointer (&r, resp_free);
    }
  }
  r = fetch ("GET", "/api/v1/cases/search", f->tok_clerk, NULL);
  assert_status (r, 405);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", "/api/v1/cases/search", NULL, "{}");
  assert_status (r, 401);
}

static void
test_schedule_day (Fixture *f, gconstpointer data)
{
  g_autoptr (Resp) r = NULL;

  for (guint i = 0; i < 4; i++) {
    g_autofree char *n = g_strdup_printf ("S-%u", i);

    new_case (n, i % 2 ? "contract" : "wages", "zh");
  }
  r = fetch ("POST", "/api/v1/schedule", f->tok_clerk,
      "{\"date\":\"2026-12-08\",\"dry_run\":true}");
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "placed"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (obj (r), "booked"), ==, 0);
  /* every case placed: nothing can beat that */
  g_assert_true (json_object_get_boolean_member (obj (r), "optimal"));
  g_assert_cmpint (json_object_get_int_member (obj (r), "bound"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (obj (r), "stopped_by"), ==,
      "proved");
  g_clear_pointer (&r, resp_free);
  /* the search's time limit: seconds, a number in (0, 10] */
  r = fetch ("POST", "/api/v1/schedule", f->tok_clerk,
      "{\"date\":\"2026-12-08\",\"dry_run\":true,\"time_limit\":0.25}");
  assert_status (r, 200);
  g_assert_cmpint (json_object_get_int_member (obj (r), "placed"), ==, 4);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", "/api/v1/schedule", f->tok_clerk,
      "{\"date\":\"2026-12-08\",\"dry_run\":true,\"time_limit\":1}");
  assert_status (r, 200);
  g_clear_pointer (&r, resp_free);
  {
    static const char *const bad[]
        = { "\"1\"", "0", "-1", "11", "1e300", "true", "[1]", "{\"s\":1}" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autofree char *body
          = g_strdup_printf ("{\"date\":\"2026-12-08\",\"time_limit\":%s}",
              bad[i]);

      r = fetch ("POST", "/api/v1/schedule", f->tok_clerk, body);
      assert_status (r, 422);
      g_clear_pointer (&r, resp_free);
    }
  }
  r = fetch ("POST", "/api/v1/schedule", f->tok_clerk,
      "{\"date\":\"2026-12-08\"}");
  assert_status (r, 201);
  g_assert_cmpint (json_object_get_int_member (obj (r), "booked"), ==, 4);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", "/api/v1/schedule", f->tok_med1,
      "{\"date\":\"2026-12-09\"}");
  assert_status (r, 403);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", "/api/v1/schedule", f->tok_clerk,
      "{\"date\":\"2026-02-30\"}");
  assert_status (r, 422);
}

/* A request sent without waiting; its answer, when it comes, is noted in
 * order. */
typedef struct
{
  const char *name;
  GPtrArray *order; /* const char *: names, in the order answered */
  SoupMessage *msg;
  GBytes *body;
  gboolean done;
} Sent;

static void
sent_in_order_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  Sent *s = data;
  g_autoptr (GError) error = NULL;

  s->body
      = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  g_assert_no_error (error);
  s->done = TRUE;
  g_ptr_array_add (s->order, (gpointer) s->name);
}

static void
send_in_order (Sent *s, const char *method, const char *path, const char *token,
    const char *json_body)
{
  g_autofree char *url
      = g_strdup_printf ("http://127.0.0.1:%u%s", F->port, path);

  s->msg = soup_message_new (method, url);
  if (token != NULL) {
    g_autofree char *a = g_strconcat ("Bearer ", token, NULL);

    soup_message_headers_replace (soup_message_get_request_headers (s->msg),
        "Authorization", a);
  }
  if (json_body != NULL) {
    g_autoptr (GBytes) b = g_bytes_new (json_body, strlen (json_body));

    soup_message_set_request_body_from_bytes (s->msg, "application/json", b);
  }
  soup_session_send_and_read_async (F->session, s->msg, G_PRIORITY_DEFAULT,
      NULL, sent_in_order_cb, s);
}

static void
sent_clear (Sent *s)
{
  g_clear_object (&s->msg);
  g_clear_pointer (&s->body, g_bytes_unref);
}

static JsonObject *
sent_object (Sent *s, JsonParser *parser)
{
  g_assert_true (
      json_parser_load_from_data (parser, g_bytes_get_data (s->body, NULL),
          (gssize) g_bytes_get_size (s->body), NULL));
  return json_node_get_object (json_parser_get_root (parser));
}

static gboolean
send_healthz_cb (gpointer data)
{
  send_in_order (data, "GET", "/healthz", NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* The day plan runs in a worker thread: while a long plan is searched
 * (a day the planner cannot prove optimal, five seconds of budget), the
 * server answers other requests, and refuses a second plan. Order of
 * answers only, no durations: on a server whose main loop plans, the
 * health check waits for the plan and is answered after it. */
static void
test_schedule_off_main_loop (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  g_autoptr (JsonParser) p1 = json_parser_new ();
  g_autoptr (JsonParser) p2 = json_parser_new ();
  Sent plan = { "plan", order }, health = { "healthz", order };
  Sent second = { "second plan", order };
  JsonObject *o;

  /* every case shares a party (new_case's contact): a person is in one
   * session at a time, which the planner's bound does not see, so the
   * search runs its whole budget */
  for (guint i = 0; i < 20; i++) {
    g_autofree char *n = g_strdup_printf ("L-%u", i);

    new_case (n, i % 2 ? "contract" : "wages", "zh");
  }
  send_in_order (&plan, "POST", "/api/v1/schedule", f->tok_clerk,
      "{\"date\":\"2026-12-08\",\"time_limit\":5}");
  /* once the plan request has reached the server's loop */
  g_timeout_add (100, send_healthz_cb, &health);
  while (!health.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (plan.done);
  g_assert_cmpuint (soup_message_get_status (health.msg), ==, 200);

  send_in_order (&second, "POST", "/api/v1/schedule", f->tok_clerk,
      "{\"date\":\"2026-12-08\",\"dry_run\":true}");
  while (!second.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (plan.done);
  g_assert_cmpuint (soup_message_get_status (second.msg), ==, 503);
  o = json_object_get_object_member (sent_object (&second, p2), "error");
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "busy");

  while (!plan.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (g_ptr_array_index (order, 0), ==, "healthz");
  g_assert_cmpstr (g_ptr_array_index (order, 2), ==, "plan");
  g_assert_cmpuint (soup_message_get_status (plan.msg), ==, 201);
  o = sent_object (&plan, p1);
  g_assert_cmpint (json_object_get_int_member (o, "booked"), >, 0);
  g_assert_cmpint (json_object_get_int_member (o, "booked"), ==,
      json_object_get_int_member (o, "placed"));
  g_assert_false (json_object_get_boolean_member (o, "optimal"));
  g_assert_cmpstr (json_object_get_string_member (o, "stopped_by"), !=,
      "proved");
  sent_clear (&plan);
  sent_clear (&health);
  sent_clear (&second);
}

static void
test_calendars (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (g_getenv ("MEDSCHED_CALENDARS"),
      "cn-national-2025.ics", NULL);
  g_autofree char *ics = NULL;
  g_autoptr (Resp) r = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &ics, &len, NULL));
  r = fetch_full ("POST", "/api/v1/calendars", f->tok_clerk, "text/calendar",
      ics, len, NULL);
  assert_status (r, 201);
  g_assert_cmpint (json_object_get_int_member (obj (r), "year"), ==, 2025);
  g_clear_pointer (&r, resp_free);
  r = fetch_full ("POST", "/api/v1/calendars", f->tok_clerk, "application/json",
      ics, len, NULL);
  assert_status (r, 415);
  g_clear_pointer (&r, resp_free);
  r = fetch_full ("POST", "/api/v1/calendars", f->tok_clerk, "text/calendar",
      "BEGIN:VCALENDAR\r\nEND:", -1, NULL);
  assert_status (r, 422);
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", "/api/v1/calendars", f->tok_med1, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), >=,
      3);
}

/* ---- hostile input ---- */

typedef struct _RawJob RawJob;

/* Raw socket clients, run in a thread while the main loop serves. */
struct _RawJob
{
  guint16 port;
  const char *request; /* sent at once */
  gsize request_len;
  guint trickle_ms; /* > 0: send one byte every trickle_ms, then give up */
  char reply[4096];
  gssize reply_len;
  double seconds; /* until the server closed */
  double first_byte; /* until the answer began */
  gboolean close_after; /* shut down writing after the request */
  gboolean closed; /* the server closed (rather than the 10 s timeout) */
  gboolean done;
};

static gpointer
raw_thread (gpointer data)
{
  RawJob *j = data;
  struct sockaddr_in a = { 0 };
  struct timeval tv = { 10, 0 };
  gint64 t0 = g_get_monotonic_time ();
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gssize n;

  a.sin_family = AF_INET;
  a.sin_port = htons (j->port);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &a, sizeof a), ==, 0);
  if (j->trickle_ms == 0) {
    g_assert_cmpint (send (fd, j->request, j->request_len, MSG_NOSIGNAL), ==,
        (gssize) j->request_len);
  } else {
    for (gsize i = 0; i < j->request_len; i++) {
      if (send (fd, j->request + i, 1, MSG_NOSIGNAL) != 1)
        break;
      g_usleep (j->trickle_ms * 1000);
    }
  }
  if (j->close_after)
    shutdown (fd, SHUT_WR);
  j->reply_len = 0;
  while ((n = recv (fd, j->reply + j->reply_len,
              sizeof j->reply - 1 - j->reply_len, 0))
      > 0) {
    if (j->reply_len == 0)
      j->first_byte = (g_get_monotonic_time () - t0) / 1e6;
    j->reply_len += n;
  }
  j->closed = n == 0;
  j->reply[j->reply_len] = '\0';
  j->seconds = (g_get_monotonic_time () - t0) / 1e6;
  close (fd);
  g_atomic_int_set (&j->done, TRUE);
  return NULL;
}

static void
run_raw (RawJob *j)
{
  GThread *t;

  j->port = F->port;
  t = g_thread_new ("raw", raw_thread, j);
  while (!g_atomic_int_get (&j->done))
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  g_thread_join (t);
}


static void
test_hostile_json (Fixture *f, gconstpointer data)
{
  /* every member of an intake with a value of every wrong type */
  static const char *const members[] = { "number", "kind", "minors", "urgent",
    "deadline", "duration_minutes", "summary", "department", "parties", NULL };
  static const char *const wrong[] = { "{}", "[]", "\"x\"", "1", "1.5", "true",
    "99999999999999999999999", "-1", NULL };
  gint64 before = audit_rows ();
  guint n = 0;

  for (guint m = 0; members[m]; m++) {
    for (guint w = 0; wrong[w]; w++) {
      g_autoptr (GString) body = g_string_new ("{");
      g_autoptr (Resp) r = NULL;

      /* the required members, unless they are the one under test */
      if (strcmp (members[m], "number") != 0)
        g_string_append_printf (body, "\"number\":\"H-%u-%u\",", m, w);
      if (strcmp (members[m], "kind") != 0)
        g_string_append (body, "\"kind\":\"wages\",");
      if (strcmp (members[m], "parties") != 0)
        g_string_append (body,
            "\"parties\":[{\"name\":\"a\",\"role\":"
            "\"applicant\",\"language\":\"zh\"}],");
      g_string_append_printf (body, "\"%s\":%s}", members[m], wrong[w]);

      /* some values are right for some members: skip those */
      if ((strcmp (members[m], "minors") == 0
              || strcmp (members[m], "urgent") == 0)
          && strcmp (wrong[w], "true") == 0)
        continue;
      if ((strcmp (members[m], "summary") == 0
              || strcmp (members[m], "number") == 0)
          && strcmp (wrong[w], "\"x\"") == 0)
        continue;
      r = fetch ("POST", "/api/v1/cases", f->tok_clerk, body->str);
      if (r->status != 422 && r->status != 400)
        g_error ("%s = %s: status %u %s", members[m], wrong[w], r->status,
            r->body);
      n++;
    }
  }
  g_assert_cmpuint (n, >, 60);
  /* an escaped NUL would cut a name short without a word ("a\u0000b"
   * stored as "a"): refused; an escaped backslash before "u0000" is text */
  g_assert_cmpint (audit_rows (), ==, before);
  {
    g_autoptr (Resp) r = fetch ("POST", "/api/v1/cases", f->tok_clerk,
        "{\"number\":\"NUL-1\",\"kind\":\"wages\",\"parties\":[{\"name\":"
        "\"a\\u0000b\",\"role\":\"applicant\",\"language\":\"zh\"}]}");
    g_autoptr (Resp) ok = fetch ("POST", "/api/v1/cases", f->tok_clerk,
        "{\"number\":\"NUL-2\",\"kind\":\"wages\",\"parties\":[{\"name\":"
        "\"a\\\\u0000b\",\"role\":\"applicant\",\"language\":\"zh\"}]}");

    assert_status (r, 400);
    assert_status (ok, 201);
    before = audit_rows ();
  }
  /* booking members */
  {
    static const char *const bodies[] = {
      "{\"case_id\":\"1\"}",
      "{\"case_id\":1.0}",
      "{\"case_id\":[1]}",
      "{\"case_id\":{}}",
      "{\"case_id\":-5}",
      "{\"case_id\":99999999999999999999}",
      "{\"case_id\":1,\"start\":5}",
      "{\"case_id\":1,\"start\":\"2026-13-01T09:00\",\"room_id\":1,"
      "\"mediator_id\":1}",
      "{\"case_id\":1,\"start\":\"2026-12-07T09:00\"}",
      "{\"case_id\":1,\"room_id\":1}",
      "{\"case_id\":1,\"duration_minutes\":100000}",
      "{\"case_id\":1,\"surprise\":true}",
      "{\"case_id\":1,\"start\":null,\"room_id\":{\"a\":1}}",
      "[1,2,3]",
      "\"string\"",
      "{\"case_id\":1",
      "{\"case_id\":1}{}",
      "",
      NULL,
    };

    for (guint i = 0; bodies[i]; i++) {
      g_autoptr (Resp) r
          = fetch ("POST", "/api/v1/bookings", f->tok_clerk, bodies[i]);

      if (r->status != 422 && r->status != 400)
        g_error ("booking %s: status %u %s", bodies[i], r->status, r->body);
    }
  }
  /* deep nesting, invalid UTF-8, NUL, huge number, wrong content type */
  {
    g_autoptr (GString) deep = g_string_new ("{\"a\":");
    g_autoptr (Resp) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL;
    static const char bad_utf8[]
        = "{\"number\":\"\xff\xfe\",\"kind\":\"wages\"}";
    static const char with_nul[] = "{\"number\":\"a\0b\"}";

    for (guint i = 0; i < 5000; i++)
      g_string_append (deep, "[");
    r1 = fetch ("POST", "/api/v1/cases", f->tok_clerk, deep->str);
    assert_status (r1, 400);
    r2 = fetch_full ("POST", "/api/v1/cases", f->tok_clerk, "application/json",
        bad_utf8, sizeof bad_utf8 - 1, NULL);
    assert_status (r2, 400);
    r3 = fetch_full ("POST", "/api/v1/cases", f->tok_clerk, "application/json",
        with_nul, sizeof with_nul - 1, NULL);
    assert_status (r3, 400);
    r4 = fetch_full ("POST", "/api/v1/cases", f->tok_clerk, "text/plain", "{}",
        -1, NULL);
    assert_status (r4, 415);
    r5 = fetch ("POST", "/api/v1/rooms", f->tok_clerk,
        "{\"name\":\"r\",\"kind\":\"warm\",\"capacity\":1e400}");
    g_assert_true (r5->status == 400 || r5->status == 422);
  }
  /* injection-shaped strings are data, not code */
  {
    g_autoptr (Resp) r = fetch ("POST", "/api/v1/rooms", f->tok_clerk,
        "{\"name\":\"x'); DROP TABLE room; --<script>\",\"kind\":\"warm\"}");

    assert_status (r, 201);
    before++;
  }
  g_assert_cmpint (audit_rows (), ==, before);
}

static void
test_hostile_paths (Fixture *f, gconstpointer data)
{
  static const char *const paths[] = {
    "/static/../../etc/passwd",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2fmedsched.css",
    "/static/medsched.css/..",
    "/static/",
    "/static/nope.css",
    "/static/medsched.css%00.png",
    "//etc/passwd",
    NULL,
  };

  for (guint i = 0; paths[i]; i++) {
    g_autoptr (Resp) r = fetch ("GET", paths[i], f->tok_clerk, NULL);

    if (r->status != 404 && r->status != 400 && r->status != 401)
      g_error ("%s: status %u", paths[i], r->status);
    g_assert_null (strstr (r->body, "root:"));
  }
  /* the same, unnormalised, over a raw socket */
  {
    static const char *const raw[] = {
      "GET /static/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /static/..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /static/\\..\\medsched.css HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET ../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
      NULL,
    };

    for (guint i = 0; raw[i]; i++) {
      RawJob j = { 0 };

      j.request = raw[i];
      j.request_len = strlen (raw[i]);
      j.close_after = TRUE;
      run_raw (&j);
      if (!g_str_has_prefix (j.reply, "HTTP/1.1 4")
          && !g_str_has_prefix (j.reply, "HTTP/1.1 303"))
        g_error ("%s: %.40s", raw[i], j.reply);
      g_assert_null (strstr (j.reply, "root:"));
    }
  }
  {
    g_autoptr (Resp) css = fetch ("GET", "/static/medsched.css", NULL, NULL);

    assert_status (css, 200);
    g_assert_nonnull (soup_message_headers_get_one (css->headers, "ETag"));
  }
}

static void
test_limits (Fixture *f, gconstpointer data)
{
  g_autofree char *big_cl = g_strdup_printf (
      "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
      "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
      f->tok_clerk);
  g_autofree char *chunked = NULL;
  g_autoptr (GString) big_headers = g_string_new ("GET /healthz HTTP/1.1\r\n"
                                                  "Host: x\r\n");
  RawJob j1 = { 0 }, j2 = { 0 }, j3 = { 0 }, j4 = { 0 };
  gint64 before = audit_rows ();

  /* Content-Length over the limit, no body sent: answered at once */
  j1.request = big_cl;
  j1.request_len = strlen (big_cl);
  run_raw (&j1);
  g_assert_true (g_str_has_prefix (j1.reply, "HTTP/1.1 413"));
  g_assert_cmpfloat (j1.first_byte, <, 1.0);

  /* a chunked body that grows over the limit */
  {
    g_autoptr (GString) s = g_string_new (NULL);

    g_string_append_printf (s,
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        "%s\r\nContent-Type: application/json\r\nTransfer-Encoding: "
        "chunked\r\n\r\n",
        f->tok_clerk);
    for (guint i = 0; i < 20; i++) {
      g_string_append (s, "1000\r\n");
      for (guint k = 0; k < 0x1000; k++)
        g_string_append_c (s, ' ');
      g_string_append (s, "\r\n");
    }
    chunked = g_string_free (g_steal_pointer (&s), FALSE);
  }
  j2.request = chunked;
  j2.request_len = strlen (chunked);
  run_raw (&j2);
  /* a chunked body is not read at all: 411, and the connection closed */
  g_assert_true (g_str_has_prefix (j2.reply, "HTTP/1.1 411"));

  /* ambiguous framing: 400 before the body, the connection closed (the
   * raw client reads until the server closes), nothing changed. libsoup
   * 3.2 on its own waits for ever on the first, takes the second, and
   * reads the third's trailers as a second request. */
  {
    static const char *const framing[][2] = {
      { "Content-Length: 2\r\nContent-Length: 40\r\n", "400" },
      { "Content-Length: 2\r\nContent-Length: 2\r\n", "400" },
      { "Content-Length: +2\r\n", "400" },
      { "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", "400" },
      { "Transfer-Encoding: identity\r\nContent-Length: 2\r\n", "400" },
      { "Transfer-Encoding: chunked\r\n", "411" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (framing); i++) {
      g_autofree char *req = g_strdup_printf (
          "POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
          "%s\r\nContent-Type: application/json\r\n%s\r\n"
          "2\r\n{}\r\n0\r\nX-Trailer-1: a\r\nX-Trailer-2: b\r\n\r\n",
          f->tok_clerk, framing[i][0]);
      g_autofree char *want = g_strconcat ("HTTP/1.1 ", framing[i][1], NULL);
      RawJob j = { 0 };

      j.request = req;
      j.request_len = strlen (req);
      run_raw (&j);
      if (!g_str_has_prefix (j.reply, want))
        g_error ("%s: %.60s", framing[i][0], j.reply);
      /* one answer, then the server closed: nothing parsed as a second
       * request */
      g_assert_null (strstr (j.reply + 1, "HTTP/1.1 "));
      g_assert_true (j.closed);
    }
  }

  /* headers over 16 KiB */
  for (guint i = 0; i < 40; i++)
    g_string_append_printf (big_headers, "X-Pad-%u: %0500d\r\n", i, 0);
  g_string_append (big_headers, "\r\n");
  j3.request = big_headers->str;
  j3.request_len = big_headers->len;
  run_raw (&j3);
  g_assert_true (g_str_has_prefix (j3.reply, "HTTP/1.1 431")
      || g_str_has_prefix (j3.reply, "HTTP/1.1 400"));

  /* slowloris: one byte every 300 ms; the 2 s request deadline cuts it */
  j4.request
      = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  j4.request_len = strlen (j4.request);
  j4.trickle_ms = 300;
  run_raw (&j4);
  g_assert_cmpfloat (j4.seconds, <, 8.0);
  g_assert_false (g_str_has_prefix (j4.reply, "HTTP/1.1 200"));

  g_assert_cmpint (audit_rows (), ==, before);
  {
    g_autoptr (Resp) h = fetch ("GET", "/healthz", NULL, NULL);

    assert_status (h, 200);
  }
}

/* ---- login, sessions, CSRF ---- */

static char *
header_cookie (SoupMessageHeaders *h, const char *name)
{
  SoupMessageHeadersIter it;
  const char *n, *v;

  soup_message_headers_iter_init (&it, h);
  while (soup_message_headers_iter_next (&it, &n, &v)) {
    if (g_ascii_strcasecmp (n, "Set-Cookie") == 0 && g_str_has_prefix (v, name)
        && v[strlen (name)] == '=') {
      const char *s = v + strlen (name) + 1;

      return g_strndup (s, strcspn (s, ";"));
    }
  }
  return NULL;
}

/* A sign-in from address (NULL: the loopback peer itself); want 0 takes
 * 401 or 429, *status (optional) gets the answer's status and *retry its
 * Retry-After. Returns the session cookie. */
static char *
login_from (const char *address, const char *user, const char *password,
    guint want, guint *status, guint *retry)
{
  g_autoptr (Resp) page = fetch ("GET", "/login", NULL, NULL);
  g_autofree char *pre = header_cookie (page->headers, "medsched_login");
  g_autofree char *form = NULL, *cookie = NULL, *real = NULL;
  g_autoptr (Resp) r = NULL;
  const char *extra[3] = { NULL, NULL, NULL };

  assert_status (page, 200);
  g_assert_nonnull (pre);
  g_assert_nonnull (strstr (page->body, pre));
  form = soup_form_encode ("username", user, "password", password, "csrf", pre,
      "next", "/api/v1/me", NULL);
  cookie = g_strconcat ("Cookie: medsched_login=", pre, NULL);
  extra[0] = cookie;
  if (address != NULL)
    extra[1] = real = g_strconcat ("X-Real-IP: ", address, NULL);
  r = fetch_full ("POST", "/login", NULL, "application/x-www-form-urlencoded",
      form, -1, extra);
  if (status != NULL)
    *status = r->status;
  if (retry != NULL) {
    const char *ra = soup_message_headers_get_one (r->headers, "Retry-After");

    *retry = ra ? (guint) g_ascii_strtoull (ra, NULL, 10) : 0;
  }
  if (want == 0 && (r->status == 401 || r->status == 429))
    return NULL;
  if (r->status != want)
    g_error ("login: status %u, expected %u", r->status, want);
  return header_cookie (r->headers, "medsched_session");
}

static char *
login (const char *user, const char *password, guint want)
{
  return login_from (NULL, user, password, want, NULL, NULL);
}

static void
test_login_session_csrf (Fixture *f, gconstpointer data)
{
  g_autofree char *sid = NULL, *bad = NULL, *cookie = NULL, *csrf_h = NULL;
  g_autoptr (Resp) me = NULL, nocsrf = NULL, withcsrf = NULL, out = NULL;
  g_autoptr (Resp) after = NULL;
  const char *extra[3];

  /* PBKDF2-HMAC-SHA256 against the published test vector (P =
   * "passwordPASSWORDpassword", S = "saltSALTsaltSALTsaltSALTsaltSALTsalt",
   * c = 4096, first 32 bytes 348c89db…) */
  g_assert_true (med_http_password_verify ("passwordPASSWORDpassword",
      "pbkdf2-sha256$4096$c2FsdFNBTFRzYWx0U0FMVHNhbHRTQUxUc2FsdFNBTFRzYWx0$"
      "NIyJ28vTKy8y2BS4EW6EzysXNH68GAAYHE4qH7jdU+E="));
  g_assert_false (med_http_password_verify ("passwordPASSWORDpassworD",
      "pbkdf2-sha256$4096$c2FsdFNBTFRzYWx0U0FMVHNhbHRTQUxUc2FsdFNBTFRzYWx0$"
      "NIyJ28vTKy8y2BS4EW6EzysXNH68GAAYHE4qH7jdU+E="));
  g_assert_false (med_http_password_verify ("x", "pbkdf2-sha256$1$AAAA$AAAA"));
  g_assert_false (med_http_password_verify ("x", "plain"));
  {
    g_autofree char *h = med_http_password_hash ("secret-password", 0);

    g_assert_true (g_str_has_prefix (h, "pbkdf2-sha256$200000$"));
    g_assert_true (med_http_password_verify ("secret-password", h));
  }
  bad = login ("clerk", "wrong-password", 401);
  g_assert_null (bad);
  sid = login ("clerk", "secret-password", 303);
  g_assert_nonnull (sid);
  cookie = g_strconcat ("Cookie: medsched_session=", sid, NULL);
  extra[0] = cookie;
  extra[1] = NULL;
  me = fetch_full ("GET", "/api/v1/me", NULL, NULL, NULL, 0, extra);
  assert_status (me, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (me), "role"), ==,
      "clerk");
  /* a state change with the cookie but without the CSRF token: 403 */
  nocsrf = fetch_full ("POST", "/api/v1/rooms", NULL, "application/json",
      "{\"name\":\"c\",\"kind\":\"warm\"}", -1, extra);
  assert_status (nocsrf, 403);
  g_assert_cmpstr (error_code (nocsrf), ==, "csrf");
  csrf_h = g_strconcat ("X-CSRF-Token: ",
      json_object_get_string_member (obj (me), "csrf"), NULL);
  extra[1] = csrf_h;
  extra[2] = NULL;
  withcsrf = fetch_full ("POST", "/api/v1/rooms", NULL, "application/json",
      "{\"name\":\"c\",\"kind\":\"warm\"}", -1, extra);
  assert_status (withcsrf, 201);
  /* logout ends the session */
  {
    g_autofree char *form = soup_form_encode ("csrf",
        json_object_get_string_member (obj (me), "csrf"), NULL);

    extra[1] = NULL;
    out = fetch_full ("POST", "/logout", NULL,
        "application/x-www-form-urlencoded", form, -1, extra);
    assert_status (out, 303);
  }
  after = fetch_full ("GET", "/api/v1/me", NULL, NULL, NULL, 0, extra);
  assert_status (after, 401);
  /* a login form without its cookie is refused */
  {
    g_autofree char *form = soup_form_encode ("username", "clerk", "password",
        "secret-password", "csrf", "forged-forged-forged", NULL);
    g_autoptr (Resp) r = fetch_full ("POST", "/login", NULL,
        "application/x-www-form-urlencoded", form, -1, NULL);

    assert_status (r, 403);
  }
}

static void
test_login_rate_limit (Fixture *f, gconstpointer data)
{
  guint limited = 0;

  for (guint i = 0; i < 7; i++) {
    g_autofree char *s = login ("admin", "guess-guess", 0);

    (void) s;
  }
  /* the right password is refused while the name is locked */
  {
    g_autoptr (Resp) page = fetch ("GET", "/login", NULL, NULL);
    g_autofree char *pre = header_cookie (page->headers, "medsched_login");
    g_autofree char *form = soup_form_encode ("username", "admin", "password",
        "secret-password", "csrf", pre, NULL);
    g_autofree char *cookie
        = g_strconcat ("Cookie: medsched_login=", pre, NULL);
    const char *extra[] = { cookie, NULL };
    g_autoptr (Resp) r = fetch_full ("POST", "/login", NULL,
        "application/x-www-form-urlencoded", form, -1, extra);

    if (r->status == 429) {
      limited++;
      g_assert_nonnull (
          soup_message_headers_get_one (r->headers, "Retry-After"));
    }
  }
  g_assert_cmpuint (limited, ==, 1);
  /* the owner, elsewhere, still signs in while the guesser waits: no
   * lockout an attacker controls */
  {
    g_autofree char *sid
        = login_from ("10.0.0.7", "admin", "secret-password", 303, NULL, NULL);

    g_assert_nonnull (sid);
  }
}

/* The log's messages while a test keeps them (structured logging: one
 * writer for the process, set in main). */
static GString *kept_log;

static GLogWriterOutput
keep_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n,
    gpointer data)
{
  for (gsize i = 0; kept_log != NULL && (level & G_LOG_LEVEL_MESSAGE) && i < n;
       i++) {
    if (strcmp (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      g_string_append_printf (kept_log, "%s\n", (const char *) fields[i].value);
  }
  return g_log_writer_default (level, fields, n, data);
}

/* Redirects never come from the Host header: relative without a
 * configured public URL, built from it with one. */
static void
test_redirect_host (Fixture *f, gconstpointer data)
{
  const char *forged[] = { "Host: evil.example:666", NULL };
  g_autoptr (Resp) page
      = fetch_full ("GET", "/board", NULL, NULL, NULL, 0, forged);
  g_autoptr (Resp) again = NULL, out = NULL;
  const char *loc = soup_message_headers_get_one (page->headers, "Location");

  assert_status (page, 303);
  g_assert_cmpstr (loc, ==, "/login?next=/board");
  restart_server (f, 5, 60, "https://mediation.example.org:8443/");
  again = fetch_full ("GET", "/board", NULL, NULL, NULL, 0, forged);
  assert_status (again, 303);
  g_assert_cmpstr (soup_message_headers_get_one (again->headers, "Location"),
      ==, "https://mediation.example.org:8443/login?next=/board");
  /* a page's own redirect after a form (sign-out without a session) */
  out = fetch_full ("POST", "/logout", NULL,
      "application/x-www-form-urlencoded", "csrf=x", -1, forged);
  assert_status (out, 303);
  g_assert_cmpstr (soup_message_headers_get_one (out->headers, "Location"), ==,
      "https://mediation.example.org:8443/login");
}

/* Growing delays per (name, address), logged without secrets. */
static void
test_login_growing_delay (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) log = g_string_new (NULL);
  guint waits[2], st = 0, ra = 0;

  kept_log = log;
  restart_server (f, 3, 1, NULL);
  for (guint i = 0; i < 3; i++) {
    g_free (login_from ("10.0.0.66", "admin", "guess-guess", 401, NULL, NULL));
  }
  /* then 1 s, 2 s (4 s, …): each wait is refused, then one more guess */
  for (guint round = 0; round < 2; round++) {
    g_free (
        login_from ("10.0.0.66", "admin", "secret-password", 429, &st, &ra));
    waits[round] = ra;
    g_usleep ((gulong) ra * G_USEC_PER_SEC + 100000);
    g_free (login_from ("10.0.0.66", "admin", "guess-guess", 401, NULL, NULL));
  }
  g_assert_cmpuint (waits[0], ==, 1);
  g_assert_cmpuint (waits[1], ==, 2);
  /* a wrong name from there is its own key, and so is the owner elsewhere */
  g_free (login_from ("10.0.0.66", "clerk", "guess-guess", 401, NULL, NULL));
  g_free (login_from ("10.0.0.8", "admin", "secret-password", 303, NULL, NULL));
  g_free (
      login_from ("10.0.0.66", "admin", "secret-password", 429, NULL, NULL));
  /* bad bearer tokens: logged too */
  for (guint i = 0; i < 4; i++) {
    g_autofree char *fake = med_http_new_secret ();

    resp_free (fetch ("GET", "/api/v1/rooms", fake, NULL));
  }
  /* unknown names are throttled alike, and not logged */
  for (guint i = 0; i < 4; i++)
    g_free (
        login_from ("10.0.0.66", "13800000001", "guess-guess", 0, NULL, NULL));
  kept_log = NULL;
  g_test_message ("throttle log:\n%s", log->str);
  g_assert_nonnull (strstr (log->str,
      "sign-in as admin from 10.0.0.66: 3 failed attempts, throttled: next "
      "attempt in 1 s"));
  g_assert_nonnull (strstr (log->str, "next attempt in 4 s"));
  g_assert_nonnull (
      strstr (log->str, "bearer tokens from 127.0.0.1: 3 failed"));
  g_assert_nonnull (strstr (log->str, "sign-in with an unknown name from"));
  g_assert_null (strstr (log->str, "guess-guess"));
  g_assert_null (strstr (log->str, "secret-password"));
  g_assert_null (strstr (log->str, "13800000001"));
}

typedef struct
{
  guint done;
  guint status[64];
} Parallel;

static void
parallel_sent_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SoupMessage *msg
      = soup_session_get_async_result_message (SOUP_SESSION (source), res);
  Parallel *p = data;
  g_autoptr (GBytes) body
      = soup_session_send_and_read_finish (SOUP_SESSION (source), res, NULL);

  p->status[p->done++] = soup_message_get_status (msg);
}

/* Forty wrong passwords sent at once for one account: at most the limit
 * are checked (answered 401), the others are refused before their check
 * (429). The account's hash has the default 200,000 iterations, so the
 * checks are still running when the other requests arrive. */
static void
test_login_parallel (Fixture *f, gconstpointer data)
{
  g_autoptr (Resp) page = fetch ("GET", "/login", NULL, NULL);
  g_autofree char *pre = header_cookie (page->headers, "medsched_login");
  g_autofree char *form = NULL, *cookie = NULL;
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/login", f->port);
  Parallel p = { 0 };
  guint n401 = 0, n429 = 0;

  {
    g_autoptr (MedStore) store = med_store_open_existing (f->db, NULL);
    g_autofree char *pw = med_http_password_hash ("secret-password", 0);
    MedUser u = { 0 };

    u.name = (char *) "slow";
    u.centre_id = 1;
    u.role = MED_ROLE_CLERK;
    u.password = pw;
    g_assert_cmpint (med_store_add_user (store, &u, "test", NULL), >, 0);
  }
  form = soup_form_encode ("username", "slow", "password", "guess-guess",
      "csrf", pre, NULL);
  cookie = g_strconcat ("medsched_login=", pre, NULL);
  for (guint i = 0; i < 40; i++) {
    g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
    g_autoptr (GBytes) b = g_bytes_new (form, strlen (form));

    soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Cookie", cookie);
    soup_message_set_request_body_from_bytes (msg,
        "application/x-www-form-urlencoded", b);
    soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL,
        parallel_sent_cb, &p);
  }
  while (p.done < 40)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < 40; i++) {
    if (p.status[i] == 401)
      n401++;
    else if (p.status[i] == 429)
      n429++;
  }
  g_test_message ("40 at once: %u checked (401), %u refused (429)", n401, n429);
  g_assert_cmpuint (n401 + n429, ==, 40);
  g_assert_cmpuint (n401, <=, 5);
  g_assert_cmpuint (n401, >=, 1);
}


/* ---- feeds, invites, party links, pages ---- */

static void
test_feeds (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调9号", "wages", "zh");
  gint64 b1 = book_at (c1, "2026-12-07T10:00", 1, 1, 201);
  g_autoptr (Resp) link = NULL, feed = NULL, again = NULL, miss = NULL;
  g_autoptr (Resp) revoked = NULL, bad = NULL, refused = NULL, inv = NULL;
  g_autofree char *fake = med_http_new_secret ();
  g_autofree char *fake_path = g_strdup_printf ("/feeds/%s.ics", fake);
  g_autofree char *etag = NULL, *inm = NULL, *inv_path = NULL;
  g_autofree char *revoke_path = NULL, *feed_path = NULL;
  const char *extra[2] = { NULL, NULL };

  refused = fetch ("POST", "/api/v1/feed-links", f->tok_med1,
      "{\"kind\":\"room\",\"ref_id\":1}");
  assert_status (refused, 403);
  link = fetch ("POST", "/api/v1/feed-links", f->tok_clerk,
      "{\"kind\":\"room\",\"ref_id\":1}");
  assert_status (link, 201);
  feed_path = g_strdup (json_object_get_string_member (obj (link), "path"));
  feed = fetch ("GET", feed_path, NULL, NULL);
  assert_status (feed, 200);
  g_assert_true (g_str_has_prefix (feed->body, "BEGIN:VCALENDAR"));
  /* made without a language: the centre's default, Chinese */
  g_assert_nonnull (
      strstr (feed->body, med_i18n_gettext (MED_LANG_ZH, "Reserved")));
  g_assert_null (strstr (feed->body, "Reserved"));
  g_assert_null (strstr (feed->body, "张三"));
  etag = g_strdup (soup_message_headers_get_one (feed->headers, "ETag"));
  g_assert_nonnull (etag);
  g_assert_cmpuint (strlen (etag), ==, 66);
  inm = g_strconcat ("If-None-Match: ", etag, NULL);
  extra[0] = inm;
  again = fetch_full ("GET", feed_path, NULL, NULL, NULL, 0, extra);
  assert_status (again, 304);
  /* a miss and a revoked link: the same status and body */
  miss = fetch ("GET", fake_path, NULL, NULL);
  assert_status (miss, 404);
  revoke_path
      = g_strdup_printf ("/api/v1/feed-links/%" G_GINT64_FORMAT "/revoke",
          json_object_get_int_member (obj (link), "id"));
  {
    g_autoptr (Resp) rv = fetch ("POST", revoke_path, f->tok_clerk, NULL);

    assert_status (rv, 204);
  }
  revoked = fetch ("GET", feed_path, NULL, NULL);
  assert_status (revoked, 404);
  g_assert_cmpstr (revoked->body, ==, miss->body);
  bad = fetch ("GET", "/feeds/x", NULL, NULL);
  assert_status (bad, 404);
  g_assert_cmpstr (bad->body, ==, miss->body);
  /* a link made by a user reading Tibetan is in Tibetan, whoever fetches
   * it; one made in English, English */
  {
    static const struct
    {
      const char *header;
      MedLang lang;
    } made[] = { { "Accept-Language: bo", MED_LANG_BO },
      { "Accept-Language: en-GB,zh;q=0.5", MED_LANG_EN } };

    for (guint i = 0; i < G_N_ELEMENTS (made); i++) {
      const char *hdr[] = { made[i].header, NULL };
      const char *other[] = { "Accept-Language: zh-CN", NULL };
      g_autoptr (Resp) l = fetch_full ("POST", "/api/v1/feed-links",
          f->tok_clerk, "application/json",
          "{\"kind\":\"mediator\",\"ref_id\":1}", -1, hdr);
      g_autoptr (Resp) fd = NULL;

      assert_status (l, 201);
      fd = fetch_full ("GET", json_object_get_string_member (obj (l), "path"),
          NULL, NULL, NULL, 0, other);
      assert_status (fd, 200);
      {
        /* lines folded at 75 octets, unfolded */
        g_auto (GStrv) parts = g_strsplit (fd->body, "\r\n ", -1);
        g_autofree char *body = g_strjoinv ("", parts);

        g_assert_nonnull (
            strstr (body, med_i18n_gettext (made[i].lang, "Case kind")));
        g_assert_null (
            strstr (body, med_i18n_gettext (MED_LANG_ZH, "Case kind")));
      }
    }
  }
  /* the invite of a booking */
  inv_path
      = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/invite.ics",
          b1);
  inv = fetch ("GET", inv_path, f->tok_clerk, NULL);
  assert_status (inv, 200);
  g_assert_nonnull (strstr (inv->body, "METHOD:REQUEST"));
  {
    g_autoptr (Resp) no = fetch ("GET", inv_path, f->tok_med2, NULL);

    assert_status (no, 403);
  }
}

static void
test_party_links (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调10号", "wages", "bo");
  gint64 b1 = book_at (c1, "2026-12-07T10:00", 1, 1, 201);
  g_autofree char *links_path
      = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/links", b1);
  g_autoptr (Resp) links = fetch ("GET", links_path, f->tok_med1, NULL);
  g_autoptr (Resp) page = NULL, gone = NULL, forged = NULL;
  JsonObject *first;
  g_autofree char *join = NULL, *revoke = NULL;

  assert_status (links, 200);
  first = json_array_get_object_element (json_node_get_array (links->json), 0);
  join = g_strdup (json_object_get_string_member (first, "path"));
  page = fetch ("GET", join, NULL, NULL);
  assert_status (page, 200);
  g_assert_nonnull (strstr (page->body, "温馨调解室一"));
  g_assert_nonnull (strstr (page->body, "lang=\"bo\""));
  /* the same link two days later, from a server whose clock says so: a
   * page saying the session has ended, with no call in it */
  {
    MedHttpConfig cfg;
    g_autoptr (GError) err = NULL;
    g_autoptr (Resp) ended = NULL;
    MedHttpServer *later;
    guint16 port = f->port;

    med_http_config_init (&cfg);
    g_free (cfg.listen);
    cfg.listen = g_strdup ("127.0.0.1:0");
    cfg.db = g_strdup (f->db);
    g_free (cfg.access_log);
    cfg.access_log = g_strdup ("off");
    cfg.fixed_now = f->now + 2 * 86400;
    later = med_http_server_new (&cfg, &err);
    med_http_config_clear (&cfg);
    g_assert_no_error (err);
    g_assert_true (med_http_server_listen (later, &err));
    f->port = med_http_server_get_port (later);
    ended = fetch ("GET", join, NULL, NULL);
    f->port = port;
    med_http_server_free (later);
    assert_status (ended, 410);
    g_assert_nonnull (strstr (ended->body, "<html lang=\"bo\">"));
    g_assert_null (strstr (ended->body, "/ws/join/"));
  }
  forged = fetch ("GET", "/join/AAAAAAAAAAAAAAAAAAAAAA", NULL, NULL);
  assert_status (forged, 404);
  revoke = g_strdup_printf ("%s/%" G_GINT64_FORMAT "/revoke", links_path,
      json_object_get_int_member (first, "party_id"));
  {
    g_autoptr (Resp) no = fetch ("POST", revoke, f->tok_med2, NULL);
    g_autoptr (Resp) yes = fetch ("POST", revoke, f->tok_med1, NULL);

    assert_status (no, 403);
    assert_status (yes, 204);
  }
  /* a revoked link gets a page of its own that says so, in the party's
   * language, and opens no call */
  gone = fetch ("GET", join, NULL, NULL);
  assert_status (gone, 410);
  g_assert_cmpstr (gone->body, !=, forged->body);
  g_assert_nonnull (strstr (gone->body, "<html lang=\"bo\">"));
  g_assert_null (strstr (gone->body, "/ws/join/"));
}

/* One access rule (med_service_may_access_*): the mediator of a cancelled
 * booking loses the case — names and phones, the new booking's join
 * links, revocation, status changes, console, recordings — while the new
 * mediator has them; a mediator who held a past session of a case keeps
 * the case but not the links of someone else's session of it. */
static void
test_cancelled_mediator (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调12号", "wages", "zh");
  gint64 b1 = book_at (c1, "2026-12-08T10:00", 1, 1, 201);
  gint64 b2, party, c2, b3, b4;
  g_autofree char *case_api
      = g_strdup_printf ("/api/v1/cases/%" G_GINT64_FORMAT, c1);
  g_autofree char *case_page = g_strdup_printf ("/cases/%" G_GINT64_FORMAT, c1);
  g_autofree char *status = g_strconcat (case_api, "/status", NULL);
  g_autofree char *links2 = NULL, *revoke2 = NULL, *page_revoke2 = NULL;
  g_autofree char *form = NULL, *tok2 = NULL;
  g_autoptr (Resp) r = NULL;

  /* before the cancel the mediator may see the case: the server keeps that
   * yes while the data stays the same (med_http_may_see_case), so the
   * refusals below also show the cancel drops it */
  r = fetch ("GET", case_api, f->tok_med1, NULL);
  assert_status (r, 200);
  g_clear_pointer (&r, resp_free);
  {
    g_autofree char *slots = g_strconcat (case_api, "/slots", NULL);

    r = fetch ("GET", slots, f->tok_med1, NULL);
    assert_status (r, 200);
    g_clear_pointer (&r, resp_free);
  }
  {
    g_autofree char *cancel
        = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/cancel", b1);

    r = fetch ("POST", cancel, f->tok_clerk, NULL);
    assert_status (r, 200);
    g_clear_pointer (&r, resp_free);
  }
  b2 = book_at (c1, "2026-12-08T10:00", 1, 2, 201);
  links2 = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/links", b2);
  /* the new mediator: the case, its parties and the links */
  r = fetch ("GET", case_api, f->tok_med2, NULL);
  assert_status (r, 200);
  g_assert_nonnull (strstr (r->body, "13800000001"));
  g_clear_pointer (&r, resp_free);
  r = fetch ("GET", links2, f->tok_med2, NULL);
  assert_status (r, 200);
  {
    JsonObject *first
        = json_array_get_object_element (json_node_get_array (r->json), 0);

    party = json_object_get_int_member (first, "party_id");
    tok2 = g_strdup (json_object_get_string_member (first, "path") + 6);
  }
  g_clear_pointer (&r, resp_free);
  revoke2 = g_strdup_printf ("%s/%" G_GINT64_FORMAT "/revoke", links2, party);
  page_revoke2
      = g_strdup_printf ("/bookings/%" G_GINT64_FORMAT "/revoke-link", b2);
  form = g_strdup_printf ("party=%" G_GINT64_FORMAT, party);

  /* the mediator of the cancelled booking: nothing of the case */
  {
    static const char *const gets[]
        = { "case", "case page", "links (new)", "links (cancelled)",
            "console (new)", "console (cancelled)", "recordings (cancelled)",
            "booking (cancelled)", "invite (new)", "slots", NULL };
    char *p[10];

    p[0] = g_strdup (case_api);
    p[1] = g_strdup (case_page);
    p[2] = g_strdup (links2);
    p[3] = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/links", b1);
    p[4] = g_strdup_printf ("/bookings/%" G_GINT64_FORMAT "/console", b2);
    p[5] = g_strdup_printf ("/bookings/%" G_GINT64_FORMAT "/console", b1);
    p[6] = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/recordings",
        b1);
    p[7] = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT, b1);
    p[8] = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/invite.ics",
        b2);
    p[9] = g_strconcat (case_api, "/slots", NULL);
    for (guint i = 0; gets[i]; i++) {
      g_autoptr (Resp) x = fetch ("GET", p[i], f->tok_med1, NULL);

      if (x->status != 403 && x->status != 404)
        g_error ("%s (%s): status %u for the cancelled booking's mediator",
            gets[i], p[i], x->status);
      g_assert_null (strstr (x->body, "13800000001"));
      g_assert_null (strstr (x->body, tok2));
      g_free (p[i]);
    }
  }
#ifdef MEDSCHED_HAVE_MEDIA
  {
    g_autofree char *ws = g_strdup_printf ("/ws/console/%" G_GINT64_FORMAT, b1);
    g_autoptr (Resp) x = fetch ("GET", ws, f->tok_med1, NULL);

    assert_status (x, 403);
  }
#endif
  r = fetch ("GET", "/api/v1/cases", f->tok_med1, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==,
      0);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", status, f->tok_med1, "{\"status\":\"in-session\"}");
  g_assert_cmpuint (r->status, ==, 403);
  g_clear_pointer (&r, resp_free);
  {
    g_autofree char *page_status = g_strconcat (case_page, "/status", NULL);

    r = fetch_full ("POST", page_status, f->tok_med1,
        "application/x-www-form-urlencoded", "status=withdrawn", -1, NULL);
    g_assert_cmpuint (r->status, ==, 403);
    g_clear_pointer (&r, resp_free);
  }
  r = fetch ("POST", revoke2, f->tok_med1, NULL);
  g_assert_cmpuint (r->status, ==, 403);
  g_clear_pointer (&r, resp_free);
  r = fetch_full ("POST", page_revoke2, f->tok_med1,
      "application/x-www-form-urlencoded", form, -1, NULL);
  g_assert_cmpuint (r->status, ==, 403);
  g_clear_pointer (&r, resp_free);
  /* nothing changed: the link still works, the case kept its status */
  {
    g_autofree char *join = g_strconcat ("/join/", tok2, NULL);

    r = fetch ("GET", join, NULL, NULL);
    assert_status (r, 200);
    g_clear_pointer (&r, resp_free);
  }
  r = fetch ("GET", case_api, f->tok_clerk, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (obj (r), "case"),
                       "status"),
      ==, "scheduled");
  g_clear_pointer (&r, resp_free);

  /* the new mediator may do what was refused */
  r = fetch ("POST", status, f->tok_med2, "{\"status\":\"in-session\"}");
  assert_status (r, 200);
  g_clear_pointer (&r, resp_free);
  r = fetch ("POST", revoke2, f->tok_med2, NULL);
  assert_status (r, 204);
  g_clear_pointer (&r, resp_free);

  /* a past session of mediator 1 (held) and a coming one of mediator 2:
   * mediator 1 sees the case, not the links of mediator 2's session */
  c2 = new_case ("(2026)藏0102调13号", "wages", "zh");
  b3 = book_at (c2, "2026-12-07T09:00", 1, 1, 201);
  b4 = book_at (c2, "2026-12-09T10:00", 1, 2, 201);
  {
    g_autofree char *page = g_strdup_printf ("/cases/%" G_GINT64_FORMAT, c2);
    g_autofree char *l3
        = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/links", b3);
    g_autofree char *l4
        = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/links", b4);
    g_autoptr (Resp) own = fetch ("GET", l3, f->tok_med1, NULL);
    g_autoptr (Resp) other = fetch ("GET", l4, f->tok_med1, NULL);
    g_autoptr (Resp) theirs = fetch ("GET", l4, f->tok_med2, NULL);
    g_autoptr (Resp) pg = fetch ("GET", page, f->tok_med1, NULL);
    const char *path4;

    assert_status (own, 200);
    assert_status (other, 403);
    assert_status (theirs, 200);
    path4 = json_object_get_string_member (
        json_array_get_object_element (json_node_get_array (theirs->json), 0),
        "path");
    assert_status (pg, 200);
    g_assert_nonnull (strstr (pg->body,
        json_object_get_string_member (
            json_array_get_object_element (json_node_get_array (own->json), 0),
            "path")));
    g_assert_null (strstr (pg->body, path4));
  }
}

static void
test_pages (Fixture *f, gconstpointer data)
{
  static const char *const pages[]
      = { "/board", "/intake", "/agenda", "/cases/1", NULL };
  g_autoptr (Resp) home = fetch ("GET", "/", NULL, NULL);
  g_autoptr (Resp) med_board = NULL;
  gint64 c1 = new_case ("(2026)藏0102调11号", "wages", "zh");

  assert_status (home, 303);
  book_at (c1, "2026-12-07T10:00", 1, 1, 201);
  for (guint i = 0; pages[i]; i++) {
    g_autoptr (Resp) anon = fetch ("GET", pages[i], NULL, NULL);
    g_autoptr (Resp) clerk = fetch ("GET", pages[i], f->tok_clerk, NULL);

    assert_status (anon, 303);
    assert_status (clerk, 200);
    g_assert_nonnull (strstr (clerk->body, "<html lang=\"zh-Hans\">"));
  }
  med_board = fetch ("GET", "/board", f->tok_med1, NULL);
  assert_status (med_board, 403);
  {
    g_autoptr (Resp) own = fetch ("GET", "/cases/1", f->tok_med1, NULL);
    g_autoptr (Resp) other = fetch ("GET", "/cases/1", f->tok_med2, NULL);

    assert_status (own, 200);
    assert_status (other, 403);
  }
  /* a form post with a bearer token needs no CSRF field; a forged session
   * cookie is anonymous */
  {
    const char *extra[]
        = { "Cookie: medsched_session=AAAAAAAAAAAAAAAAAAAA", NULL };
    g_autoptr (Resp) r = fetch_full ("POST", "/intake", NULL,
        "application/x-www-form-urlencoded", "number=x", -1, extra);

    assert_status (r, 303);
  }
}

/* The scripts' catalogue carries the model's label of every code, in the
 * language asked for: what a page shows for a signalling frame's
 * party_role (docs/webrtc.md). */
static void
test_catalogue_labels (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *path;
    MedLang lang;
  } cats[] = { { "/static/i18n/zh.json", MED_LANG_ZH },
    { "/static/i18n/bo.json", MED_LANG_BO },
    { "/static/i18n/en.json", MED_LANG_EN } };

  for (guint i = 0; i < G_N_ELEMENTS (cats); i++) {
    g_autoptr (Resp) r = fetch ("GET", cats[i].path, NULL, NULL);
    JsonObject *o;

    assert_status (r, 200);
    o = obj (r);
    g_assert_cmpstr (json_object_get_string_member (o,
                         "party-role\004respondent"),
        ==,
        med_i18n_gettext (cats[i].lang,
            med_party_role_label (MED_PARTY_ROLE_RESPONDENT)));
    g_assert_cmpstr (json_object_get_string_member (o,
                         "person-role\004mediator"),
        ==,
        med_i18n_gettext (cats[i].lang, med_person_role_label ("mediator")));
    g_assert_cmpstr (json_object_get_string_member (o, "room-kind\004family"),
        ==,
        med_i18n_gettext (cats[i].lang,
            med_room_kind_label (MED_ROOM_KIND_FAMILY)));
  }
  /* the words themselves, not only the server agreeing with itself */
  {
    g_autoptr (Resp) r = fetch ("GET", "/static/i18n/zh.json", NULL, NULL);

    g_assert_cmpstr (json_object_get_string_member (obj (r),
                         "party-role\004respondent"),
        ==, "被申请人");
  }
  /* a party reads them in Tibetan: its own words, not the Chinese
   * fallback */
  g_assert_cmpstr (med_i18n_gettext (MED_LANG_BO,
                       med_party_role_label (MED_PARTY_ROLE_RESPONDENT)),
      !=,
      med_i18n_gettext (MED_LANG_ZH,
          med_party_role_label (MED_PARTY_ROLE_RESPONDENT)));
}

/* The board's pages: who may open them, and what odd addresses and forms
 * get (a page, never a crash or a change). */
static void
test_pages_board (Fixture *f, gconstpointer data)
{
  static const char *const office[] = { "/board?date=2026-12-07&case=1",
    "/board?view=week&date=2026-12-07&case=1",
    "/board?date=2026-12-07&colour=status", "/board?date=2026-12-07&move=1",
    "/board/book?room=1&start=2026-12-07T10:00",
    "/board/book?room=1&start=2026-12-07T10:00&case=1", "/cases",
    "/cases?status=dispatched&mediator=1&date=2026-12-07&page=2",
    "/cases/1/parties", "/cases/1/parties/1", "/feed-links", "/bookings/1/move",
    NULL };
  static const char *const odd[] = { "/board?date=2026-99-99&case=abc",
    "/board?case=999", "/board?move=999", "/board?case=1&move=abc",
    "/board?view=year&colour=%00", "/board?date=2026-12-07&case=1%27--", NULL };
  gint64 c1 = new_case ("(2026)藏0102调71号", "wages", "zh");
  gint64 b1 = book_at (c1, "2026-12-08T10:00", 1, 1, 201);
  gint64 before;

  (void) b1;
  for (guint i = 0; office[i]; i++) {
    g_autoptr (Resp) anon = fetch ("GET", office[i], NULL, NULL);
    g_autoptr (Resp) clerk = fetch ("GET", office[i], f->tok_clerk, NULL);

    assert_status (anon, 303);
    if (clerk->status != 200)
      g_error ("%s: status %u", office[i], clerk->status);
  }
  for (guint i = 0; odd[i]; i++) {
    g_autoptr (Resp) r = fetch ("GET", odd[i], f->tok_clerk, NULL);

    if (r->status != 200)
      g_error ("%s: status %u", odd[i], r->status);
  }
  /* a cell the picked case does not fit says why in the page's language:
   * the warm room is taken at 10:00 on the 8th by case 71's session */
  {
    g_autofree char *path
        = g_strdup_printf ("/board?date=2026-12-08&case=%" G_GINT64_FORMAT, c1);
    const char *en[] = { "Accept-Language: en", NULL };
    const char *zh[] = { "Accept-Language: zh-CN", NULL };
    g_autoptr (Resp) in_en
        = fetch_full ("GET", path, f->tok_clerk, NULL, NULL, 0, en);
    g_autoptr (Resp) in_zh
        = fetch_full ("GET", path, f->tok_clerk, NULL, NULL, 0, zh);

    assert_status (in_en, 200);
    assert_status (in_zh, 200);
    g_assert_nonnull (strstr (in_en->body, "data-detail=\""));
    g_assert_nonnull (strstr (in_zh->body, "data-detail=\""));
    /* the reasons' words: English in one, the catalogue's Chinese in the
     * other */
    g_assert_nonnull (strstr (in_en->body, "nothing fits on 2026-12-08"));
    g_assert_null (strstr (in_zh->body, "nothing fits on"));
    g_assert_nonnull (strstr (in_zh->body,
        med_i18n_gettext (MED_LANG_ZH, "nothing fits on %s") + 3));
  }
  /* mediators: their cases and agenda, not the board, the feed links or
   * the party forms */
  {
    static const char *const refused[] = { "/board", "/feed-links",
      "/cases/1/parties", "/board/book?room=1&start=2026-12-07T10:00", NULL };

    for (guint i = 0; refused[i]; i++) {
      g_autoptr (Resp) r = fetch ("GET", refused[i], f->tok_med1, NULL);

      if (r->status != 403)
        g_error ("%s: status %u", refused[i], r->status);
    }
  }
  {
    g_autoptr (Resp) own = fetch ("GET", "/cases", f->tok_med1, NULL);
    g_autoptr (Resp) none = fetch ("GET", "/cases", f->tok_med2, NULL);

    assert_status (own, 200);
    g_assert_nonnull (strstr (own->body, "调71号"));
    assert_status (none, 200);
    g_assert_null (strstr (none->body, "调71号"));
  }
  /* forms: wrong values get a page and change nothing */
  before = audit_rows ();
  {
    static const struct
    {
      const char *path, *form;
      guint status;
    } bad[] = {
      { "/cases?page=0", NULL, 422 },
      { "/cases?status=bogus", NULL, 422 },
      { "/cases?date=yesterday", NULL, 422 },
      { "/cases?mediator=x", NULL, 422 },
      { "/board/book?room=1&start=2026-12-07T10:00&case=999", NULL, 404 },
      { "/board/book?room=999&start=2026-12-07T10:00", NULL, 422 },
      { "/board/book?room=1&start=soon", NULL, 400 },
      { "/cases/1/parties/999", NULL, 404 },
      { "/cases/1/parties/abc", NULL, 404 },
      { "/feed-links", "kind=case&ref=1", 422 },
      { "/feed-links", "kind=room&ref=999", 422 },
      { "/feed-links", "kind=centre&ref=2", 422 },
      { "/feed-links", "kind=planet&ref=1", 422 },
      { "/feed-links/abc/revoke", "x=1", 404 },
      { "/feed-links/1/erase", "x=1", 404 },
      { "/cases/1/parties", "p-role=agent&p-lang=zh", 422 },
      { "/cases/1/parties", "p-name=a&p-role=king&p-lang=zh", 422 },
      { "/cases/1/parties", "p-name=a&p-role=agent&p-lang=ZH", 422 },
      { "/cases/1/parties/1/erase", "x=1", 404 },
      { "/board/book", "case=1&room=1&mediator=1", 422 },
      { "/agenda/feed", "x=1", 403 },
      { "/intake",
          "number=N-1&kind=wages&p1-name=a&p1-role=agent&p1-lang=zh"
          "&p2-name=b&p2-role=nobody&p2-lang=zh",
          422 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autoptr (Resp) r = bad[i].form
          ? fetch_full ("POST", bad[i].path, f->tok_clerk,
              "application/x-www-form-urlencoded", bad[i].form, -1, NULL)
          : fetch ("GET", bad[i].path, f->tok_clerk, NULL);

      if (r->status != bad[i].status)
        g_error ("%s %s: status %u, expected %u", bad[i].path,
            bad[i].form ? bad[i].form : "", r->status, bad[i].status);
      g_assert_nonnull (strstr (r->body, "<html"));
    }
  }
  g_assert_cmpint (audit_rows (), ==, before);
  /* intake with any number of parties: "add_party" sends the form back
   * with one more, writing nothing; then five parties are taken */
  {
    g_autoptr (GString) form = g_string_new ("number=N-72&kind=wages");
    g_autoptr (Resp) more = NULL, taken = NULL, k = NULL;
    g_autofree char *with_more = NULL, *api_path = NULL;
    const char *loc;

    for (guint i = 1; i <= 4; i++)
      g_string_append_printf (form,
          "&p%u-name=P%u&p%u-role=respondent&p%u-lang=zh", i, i, i, i);
    with_more = g_strconcat (form->str, "&add_party=1", NULL);
    more = fetch_full ("POST", "/intake", f->tok_clerk,
        "application/x-www-form-urlencoded", with_more, -1, NULL);
    assert_status (more, 200);
    g_assert_nonnull (strstr (more->body, "id=\"p5-name\""));
    g_assert_nonnull (strstr (more->body, "value=\"P4\""));
    g_assert_cmpint (audit_rows (), ==, before);
    g_string_append (form, "&p5-name=P5&p5-role=agent&p5-lang=bo");
    taken = fetch_full ("POST", "/intake", f->tok_clerk,
        "application/x-www-form-urlencoded", form->str, -1, NULL);
    assert_status (taken, 303);
    loc = soup_message_headers_get_one (taken->headers, "Location");
    g_assert_nonnull (loc);
    g_assert_nonnull (strstr (loc, "/cases/"));
    /* the Location ends with ?msg=taken: the API ignores the query */
    api_path = g_strdup_printf ("/api/v1%s", strstr (loc, "/cases/"));
    k = fetch ("GET", api_path, f->tok_clerk, NULL);
    assert_status (k, 200);
    g_assert_cmpuint (json_array_get_length (
                          json_object_get_array_member (obj (k), "parties")),
        ==, 5);
  }
  /* a party form that would leave a session unsuitable is refused with a
   * page saying so (the booked warm room has no video terminal) */
  {
    g_autofree char *path
        = g_strdup_printf ("/cases/%" G_GINT64_FORMAT "/parties", c1);
    g_autoptr (Resp) r = fetch_full ("POST", path, f->tok_clerk,
        "application/x-www-form-urlencoded",
        "p-name=V&p-role=agent&p-lang=zh&p-att=remote", -1, NULL);

    assert_status (r, 409);
    g_assert_nonnull (strstr (r->body, "video"));
  }
  /* the undo of a booking made by someone else is refused */
  {
    g_autofree char *path
        = g_strdup_printf ("/bookings/%" G_GINT64_FORMAT "/undo", b1);
    g_autoptr (Resp) r = fetch_full ("POST", path, f->tok_admin,
        "application/x-www-form-urlencoded", "x=1", -1, NULL);

    assert_status (r, 422);
  }
}

#ifdef MEDSCHED_HAVE_MEDIA
/* ---- recordings over HTTP ---- */

/* Audit rows of one recording with this action. */
static guint
recording_audits (gint64 rid, const char *action)
{
  g_autoptr (MedStore) store = med_store_open_existing (F->db, NULL);
  g_autoptr (GPtrArray) rows = NULL;
  guint n = 0;

  g_assert_nonnull (store);
  rows = med_store_list_audit (store, "recording", rid, NULL);
  g_assert_nonnull (rows);
  for (guint i = 0; i < rows->len; i++) {
    MedAuditEntry *e = g_ptr_array_index (rows, i);

    n += strcmp (e->action, action) == 0;
  }
  return n;
}

static void
write_file (const char *path, gsize len, guint seed)
{
  g_autofree char *data = g_malloc (len);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < len; i++)
    data[i] = (char) ((i * 31 + seed) & 0xff);
  g_assert_true (g_file_set_contents (path, data, len, &error));
  g_assert_no_error (error);
}

/* A sealed recording as medrecorder leaves it: one segment, a final file
 * of final_len bytes and a sealed manifest, with its rows in the store.
 * *sha gets the segment's SHA-256. */
static gint64
add_sealed_recording (MedStore *store, gint64 booking, const char *dir,
    gsize final_len, char **sha)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *seg = g_build_filename (dir, "segment-00001.mkv", NULL);
  g_autofree char *fin = g_build_filename (dir, "recording.mkv", NULL);
  g_autofree char *man = g_build_filename (dir, "manifest.jsonl", NULL);
  g_autofree char *head = NULL;
  g_autoptr (GstMedManifest) m = NULL;
  guint64 seg_len = 0;
  gint64 rid;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0750), ==, 0);
  write_file (seg, 5000, 1);
  write_file (fin, final_len, 2);
  m = gst_med_manifest_create (man, dir, "1", &error);
  g_assert_no_error (error);
  g_assert_true (
      gst_med_manifest_add_segment (m, seg, 0, 1000000000, TRUE, NULL, &error));
  g_assert_true (
      gst_med_manifest_seal (m, fin, 1000000000, "complete", &head, &error));
  g_assert_no_error (error);
  g_assert_true (gst_med_file_sha256 (seg, FALSE, sha, &seg_len, &error));
  rid = med_store_add_recording (store, booking, MED_RECORDING_REGIME_HEARING,
      dir, "test", &error);
  g_assert_no_error (error);
  g_assert_true (med_store_add_recording_segment (store, rid, 1,
      "segment-00001.mkv", *sha, seg_len, 1000000000, &error));
  g_assert_true (med_store_log_recording (store, rid, MED_RECORDING_EVENT_START,
      "recording", &error));
  g_assert_true (med_store_seal_recording (store, rid, man, head, 1000000000,
      final_len, "test", &error));
  g_assert_no_error (error);
  return rid;
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *p = g_build_filename (dir, name, NULL);

    if (g_file_test (p, G_FILE_TEST_IS_DIR)
        && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
      remove_tree (p);
    else
      g_unlink (p);
  }
  g_rmdir (dir);
}

#define FINAL_LEN 100000

static void
test_recordings (Fixture *f, gconstpointer data)
{
  gint64 c1 = new_case ("(2026)藏0102调20号", "wages", "zh");
  gint64 b1 = book_at (c1, "2026-12-07T10:00", 1, 1, 201);
  g_autofree char *root = g_build_filename (f->dir, "recordings", NULL);
  g_autofree char *d1 = g_build_filename (root, "booking-1-1", NULL);
  g_autofree char *d2 = g_build_filename (root, "booking-1-2", NULL);
  g_autofree char *d3 = g_build_filename (root, "booking-1-3", NULL);
  g_autofree char *d4 = g_build_filename (root, "booking-1-4", NULL);
  g_autofree char *d5 = g_build_filename (root, "booking-1-5", NULL);
  g_autofree char *sha = NULL, *sha4 = NULL, *sha5 = NULL;
  g_autofree char *list = NULL, *one = NULL, *file = NULL, *page = NULL;
  g_autofree char *expect = NULL;
  g_autoptr (GError) error = NULL;
  gint64 rid, failed, purged, evil, linked;
  gsize expect_len = 0;

  {
    g_autoptr (MedStore) store = med_store_open_existing (f->db, &error);
    g_autofree char *secret = g_build_filename (f->dir, "secret.mkv", NULL);
    g_autofree char *fin5 = g_build_filename (d5, "recording.mkv", NULL);
    g_autofree char *man4 = g_build_filename (d4, "manifest.jsonl", NULL);
    g_autofree char *bad = NULL, *text = NULL;

    g_assert_no_error (error);
    med_store_set_now (store, f->now);
    rid = add_sealed_recording (store, b1, d1, FINAL_LEN, &sha);
    failed = med_store_add_recording (store, b1, MED_RECORDING_REGIME_MEDIATION,
        d2, "test", &error);
    g_assert_true (med_store_set_recording_state (store, failed,
        MED_RECORDING_FAILED, "no input", 0, "test", &error));
    purged = add_sealed_recording (store, b1, d3, 1000, &sha4);
    g_assert_true (med_store_set_recording_state (store, purged,
        MED_RECORDING_PURGED, NULL, 0, "test", &error));
    g_assert_no_error (error);
    /* a manifest edited to point outside its directory */
    g_clear_pointer (&sha4, g_free); /* the purged one's, not needed */
    evil = add_sealed_recording (store, b1, d4, 1000, &sha4);
    write_file (secret, 1000, 9);
    g_assert_true (g_file_get_contents (man4, &text, NULL, NULL));
    bad = g_strconcat (text,
        "{\"index\":9,\"kind\":\"seal\",\"file\":\"../../secret.mkv\","
        "\"bytes\":1000}\n",
        NULL);
    g_assert_true (g_file_set_contents (man4, bad, -1, NULL));
    /* a final file replaced by a symbolic link */
    linked = add_sealed_recording (store, b1, d5, 1000, &sha5);
    g_assert_cmpint (g_unlink (fin5), ==, 0);
    g_assert_cmpint (symlink (secret, fin5), ==, 0);
  }
  {
    g_autofree char *fin = g_build_filename (d1, "recording.mkv", NULL);

    g_assert_true (g_file_get_contents (fin, &expect, &expect_len, NULL));
  }
  list = g_strdup_printf ("/api/v1/bookings/%" G_GINT64_FORMAT "/recordings",
      b1);
  one = g_strdup_printf ("/api/v1/recordings/%" G_GINT64_FORMAT, rid);
  file = g_strdup_printf ("/recordings/%" G_GINT64_FORMAT "/file", rid);
  page = g_strdup_printf ("/recordings/%" G_GINT64_FORMAT, rid);

  /* refused: nothing served, nothing audited */
  {
    gint64 before = audit_rows ();
    const char *const tokens[] = { NULL, F->tok_med2 };

    for (guint i = 0; i < G_N_ELEMENTS (tokens); i++) {
      g_autoptr (Resp) l = fetch ("GET", list, tokens[i], NULL);
      g_autoptr (Resp) o = fetch ("GET", one, tokens[i], NULL);
      g_autoptr (Resp) fl = fetch ("GET", file, tokens[i], NULL);
      g_autoptr (Resp) pg = fetch ("GET", page, tokens[i], NULL);

      assert_status (l, i == 0 ? 401 : 403);
      assert_status (o, i == 0 ? 401 : 403);
      assert_status (fl, i == 0 ? 303 : 403);
      assert_status (pg, i == 0 ? 303 : 403);
      g_assert_null (strstr (fl->body, "\x01\x20"));
    }
    g_assert_cmpint (audit_rows (), ==, before);
  }

  /* the rows of the booking, for its mediator, the clerk and the admin */
  {
    const char *const tokens[] = { F->tok_med1, F->tok_clerk, F->tok_admin };

    for (guint i = 0; i < G_N_ELEMENTS (tokens); i++) {
      guint views = recording_audits (rid, "recording.view");
      g_autoptr (Resp) l = fetch ("GET", list, tokens[i], NULL);
      JsonArray *a;
      JsonObject *first;

      assert_status (l, 200);
      a = json_node_get_array (l->json);
      g_assert_cmpuint (json_array_get_length (a), ==, 5);
      first = json_array_get_object_element (a, 0);
      g_assert_cmpint (json_object_get_int_member (first, "id"), ==, rid);
      g_assert_cmpstr (json_object_get_string_member (first, "state"), ==,
          "sealed");
      g_assert_cmpstr (json_object_get_string_member (first, "regime"), ==,
          "hearing");
      g_assert_cmpint (json_object_get_int_member (first, "segments"), ==, 1);
      g_assert_cmpint (json_object_get_int_member (first, "bytes"), ==,
          FINAL_LEN);
      g_assert_cmpuint (strlen (
                            json_object_get_string_member (first, "head_hash")),
          ==, 64);
      g_assert_cmpuint (json_array_get_length (
                            json_object_get_array_member (first, "log")),
          >=, 1);
      g_assert_cmpstr (json_object_get_string_member (
                           json_array_get_object_element (a, 1), "failure"),
          ==, "no input");
      g_assert_cmpuint (recording_audits (rid, "recording.view"), ==,
          views + 1);
    }
  }

  /* one row with its segments and hashes */
  {
    guint views = recording_audits (rid, "recording.view");
    g_autoptr (Resp) o = fetch ("GET", one, F->tok_med1, NULL);
    JsonArray *segs;
    JsonObject *s0;

    assert_status (o, 200);
    segs = json_object_get_array_member (obj (o), "segment_files");
    g_assert_cmpuint (json_array_get_length (segs), ==, 1);
    s0 = json_array_get_object_element (segs, 0);
    g_assert_cmpstr (json_object_get_string_member (s0, "file"), ==,
        "segment-00001.mkv");
    g_assert_cmpstr (json_object_get_string_member (s0, "sha256"), ==, sha);
    g_assert_cmpstr (json_object_get_string_member (
                         json_object_get_object_member (obj (o), "final"),
                         "file"),
        ==, "recording.mkv");
    g_assert_cmpuint (recording_audits (rid, "recording.view"), ==, views + 1);
  }

  /* the file: whole, ranges, download */
  {
    const char *r1[] = { "Range: bytes=100-199", NULL };
    const char *r2[] = { "Range: bytes=99990-", NULL };
    const char *r3[] = { "Range: bytes=200000-300000", NULL };
    const char *r4[] = { "Range: bytes=0-1,10-11", NULL };
    g_autofree char *dl = g_strconcat (file, "?download=1", NULL);
    g_autoptr (Resp) whole = fetch ("GET", file, F->tok_clerk, NULL);
    g_autoptr (Resp) part
        = fetch_full ("GET", file, F->tok_med1, NULL, NULL, 0, r1);
    g_autoptr (Resp) tail
        = fetch_full ("GET", file, F->tok_admin, NULL, NULL, 0, r2);
    g_autoptr (Resp) beyond = NULL, multi = NULL, down = NULL;
    guint plays = recording_audits (rid, "recording.play");
    gint64 before;

    assert_status (whole, 200);
    g_assert_cmpuint (whole->len, ==, FINAL_LEN);
    g_assert_true (memcmp (whole->body, expect, FINAL_LEN) == 0);
    g_assert_cmpstr (soup_message_headers_get_content_type (whole->headers,
                         NULL),
        ==, "video/x-matroska");
    g_assert_cmpstr (soup_message_headers_get_one (whole->headers,
                         "Accept-Ranges"),
        ==, "bytes");
    g_assert_null (
        soup_message_headers_get_one (whole->headers, "Content-Disposition"));
    assert_status (part, 206);
    g_assert_cmpuint (part->len, ==, 100);
    g_assert_true (memcmp (part->body, expect + 100, 100) == 0);
    g_assert_cmpstr (soup_message_headers_get_one (part->headers,
                         "Content-Range"),
        ==, "bytes 100-199/100000");
    assert_status (tail, 206);
    g_assert_cmpuint (tail->len, ==, 10);
    g_assert_true (memcmp (tail->body, expect + 99990, 10) == 0);
    before = audit_rows ();
    beyond = fetch_full ("GET", file, F->tok_clerk, NULL, NULL, 0, r3);
    assert_status (beyond, 416);
    g_assert_cmpuint (beyond->len, ==, 0);
    g_assert_cmpstr (soup_message_headers_get_one (beyond->headers,
                         "Content-Range"),
        ==, "bytes */100000");
    g_assert_cmpint (audit_rows (), ==, before); /* nothing served */
    multi = fetch_full ("GET", file, F->tok_clerk, NULL, NULL, 0, r4);
    assert_status (multi, 200);
    g_assert_cmpuint (multi->len, ==, FINAL_LEN);
    g_assert_cmpuint (recording_audits (rid, "recording.play"), ==, plays + 1);
    g_assert_cmpint (audit_rows (), ==, before + 1);
    down = fetch ("GET", dl, F->tok_clerk, NULL);
    assert_status (down, 200);
    g_assert_nonnull (strstr (soup_message_headers_get_one (down->headers,
                                  "Content-Disposition"),
        "attachment"));
    g_assert_cmpuint (recording_audits (rid, "recording.download"), ==, 1);
  }

  /* nothing to serve: failed, purged, missing; never outside the
   * recording's own directory */
  {
    const gint64 none[] = { failed, purged, evil, linked, 999 };
    const guint want[] = { 404, 404, 500, 404, 404 };

    for (guint i = 0; i < G_N_ELEMENTS (none); i++) {
      g_autofree char *p
          = g_strdup_printf ("/recordings/%" G_GINT64_FORMAT "/file", none[i]);
      g_autoptr (Resp) r = NULL;
      gint64 before = audit_rows ();

      GLogLevelFlags fatal = 0;

      /* the server warns about a tampered manifest (structured logging:
       * g_test_expect_message cannot catch it) */
      if (want[i] == 500)
        fatal
            = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      r = fetch ("GET", p, F->tok_admin, NULL);
      if (want[i] == 500)
        g_log_set_always_fatal (fatal);
      assert_status (r, want[i]);
      g_assert_cmpint (audit_rows (), ==, before);
      g_assert_true (r->len < 1000 || memcmp (r->body, expect, 1000) != 0);
    }
    {
      g_autoptr (Resp) a
          = fetch ("GET", "/recordings/1/../../etc/passwd", F->tok_admin, NULL);
      g_autoptr (Resp) b = fetch ("GET", "/recordings/1/segment-00001.mkv",
          F->tok_admin, NULL);
      g_autoptr (Resp) c
          = fetch ("GET", "/api/v1/recordings/x1", F->tok_admin, NULL);
      g_autoptr (Resp) d = fetch ("POST", one, F->tok_admin, "{}");

      g_assert_cmpuint (a->status, >=, 400);
      assert_status (b, 404);
      assert_status (c, 404);
      assert_status (d, 405);
    }
  }

  /* the playback page and the link from the case page */
  {
    g_autofree char *case_page
        = g_strdup_printf ("/cases/%" G_GINT64_FORMAT, c1);
    g_autoptr (Resp) pg = fetch ("GET", page, F->tok_med1, NULL);
    g_autoptr (Resp) cp = fetch ("GET", case_page, F->tok_clerk, NULL);
    g_autofree char *src = g_strdup_printf ("src=\"%s\"", file);
    g_autofree char *href = g_strdup_printf ("href=\"%s\"", page);

    assert_status (pg, 200);
    g_assert_nonnull (strstr (pg->body, "<video"));
    g_assert_nonnull (strstr (pg->body, src));
    g_assert_nonnull (strstr (pg->body, sha));
    g_assert_nonnull (strstr (pg->body, "中断记录"));
    assert_status (cp, 200);
    g_assert_nonnull (strstr (cp->body, href));
  }
  remove_tree (root);
  {
    g_autofree char *secret = g_build_filename (f->dir, "secret.mkv", NULL);

    g_unlink (secret);
  }
}
#endif

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* GTest prints debug messages as TAP comments: GIO's are noise here */
  g_log_set_debug_enabled (FALSE);
  g_log_set_writer_func (keep_log_writer, NULL, NULL);
  med_ical_init ("Asia/Shanghai");
#define T(path, fn)                                                            \
  g_test_add ("/http/" path, Fixture, NULL, fixture_set_up, fn,                \
      fixture_tear_down)
  T ("health", test_health);
  T ("auth/tokens", test_auth_tokens);
  T ("auth/expired", test_auth_expired);
  T ("auth/rate-limit", test_auth_rate_limit);
  T ("auth/login-session-csrf", test_login_session_csrf);
  T ("auth/login-rate-limit", test_login_rate_limit);
  T ("auth/login-parallel", test_login_parallel);
  T ("auth/login-growing-delay", test_login_growing_delay);
  T ("redirect/host", test_redirect_host);
  T ("api/resources", test_resources);
  T ("api/cases-and-roles", test_cases_and_roles);
  T ("api/booking-flow", test_booking_flow);
  T ("api/schedule-day", test_schedule_day);
  T ("api/schedule-day/off-main-loop", test_schedule_off_main_loop);
  T ("api/board/fit", test_board_fit);
  T ("api/board/undo-and-call", test_board_undo);
  T ("api/board/parties", test_board_parties);
  T ("api/board/search", test_board_search);
  T ("api/calendars", test_calendars);
  T ("api/feeds", test_feeds);
  T ("api/party-links", test_party_links);
  T ("auth/cancelled-mediator", test_cancelled_mediator);
  T ("pages", test_pages);
  T ("pages/catalogue-labels", test_catalogue_labels);
  T ("pages/board", test_pages_board);
#ifdef MEDSCHED_HAVE_MEDIA
  T ("recordings", test_recordings);
#endif
  T ("hostile/json", test_hostile_json);
  T ("hostile/paths", test_hostile_paths);
  T ("hostile/limits", test_limits);
#undef T
  return g_test_run ();
}
