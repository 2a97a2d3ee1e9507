/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-server.c — the SoupServer of `medsched serve`: listening,
 * request limits, timeouts, the access log, routing, static files, the
 * read caches and the graceful stop. Connections themselves are accepted,
 * watched while idle and closed by med-http-conn.c.
 *
 * Limits are enforced before libsoup reads a body (it sets none of its
 * own): from the `got-headers` signal a request whose headers are too big,
 * whose Content-Length is over the limit or whose framing is ambiguous or
 * chunked is answered 431/413/400/411 on the stolen connection, which is
 * then closed after a short, bounded drain. Every request has a deadline
 * for arriving whole, counted from its first byte: a client that trickles
 * bytes is cut off.
 *
 * Everything runs on the main thread with one MedStore: SQLite work per
 * request is short, and a busy database answers 503. The read caches hold
 * while the store's data version stays; on PostgreSQL the version moves
 * with every node's commits, read from the store's socket as they arrive. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

#include "med-http-resources.h"

#ifdef MEDSCHED_HAVE_MEDIA
#include <medsched/med-media.h>
#endif

#include <string.h>

#include <glib-unix.h>

/* clang-format off */
G_DEFINE_QUARK (med-http-error-quark, med_http_error)
/* clang-format on */

#define STATE_KEY "med-http-state"

/* Per message: timing, limits, what the access log says. */
typedef struct
{
  MedHttpServer *srv;
  SoupServerMessage *msg; /* whose data this is (no ref) */
  gint64 started_us; /* headers received; 0 before */
  gint64 due_us; /* when the request must have arrived whole */
  GList link; /* in srv->requests while it has a deadline */
  gboolean counted; /* in srv->in_flight */
  gint64 user_id;
  MedRole role;
  gboolean has_user;
} MsgState;

void
med_http_config_init (MedHttpConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->listen = g_strdup ("127.0.0.1:8080");
  cfg->centre_id = 1;
  cfg->max_body_bytes = 1024 * 1024;
  cfg->max_header_bytes = 16 * 1024;
  cfg->request_timeout = 30;
  cfg->keepalive_timeout = 75;
  cfg->max_connections = 1024;
  cfg->shutdown_grace = 10;
  cfg->access_log = g_strdup ("-");
  cfg->session_hours = 12;
  cfg->login_burst = 10;
  cfg->login_refill = 6;
}

void
med_http_config_clear (MedHttpConfig *cfg)
{
  g_clear_pointer (&cfg->listen, g_free);
  g_clear_pointer (&cfg->db, g_free);
  g_clear_pointer (&cfg->access_log, g_free);
  g_clear_pointer (&cfg->public_url, g_free);
  g_clear_pointer (&cfg->media_dir, g_free);
  g_clear_pointer (&cfg->stun_server, g_free);
  g_clear_pointer (&cfg->turn_server, g_free);
  g_clear_pointer (&cfg->media_rooms, g_ptr_array_unref);
}

static gboolean
config_uint (GKeyFile *kf, const char *key, guint64 min, guint64 max,
    guint64 *out, GError **error)
{
  g_autofree char *s = g_key_file_get_value (kf, "server", key, NULL);
  guint64 v;

  if (s == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (g_strstrip (s), 10, min, max, &v, NULL)) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "[server] %s: an integer %" G_GUINT64_FORMAT "–%" G_GUINT64_FORMAT
        " is expected",
        key, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
config_bool (GKeyFile *kf, const char *key, gboolean *out, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean v;

  if (!g_key_file_has_key (kf, "server", key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, "server", key, &local);
  if (local != NULL) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "[server] %s: true or false is expected", key);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
config_string (GKeyFile *kf, const char *key, char **out, GError **error)
{
  g_autofree char *s = g_key_file_get_string (kf, "server", key, NULL);

  if (s == NULL)
    return TRUE;
  if (!med_validate_text (s, 1024, FALSE, FALSE, key, error))
    return FALSE;
  g_free (*out);
  *out = g_steal_pointer (&s);
  return TRUE;
}

static void
room_inputs_free (MedHttpRoomInputs *ri)
{
  g_strfreev (ri->inputs);
  g_free (ri);
}

/* [media]: room-<id> = URI[;URI…] and composite = true|false. */
static gboolean
config_media (GKeyFile *kf, const char *path, MedHttpConfig *cfg,
    GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, "media", NULL, NULL);
  g_autoptr (GPtrArray) rooms
      = g_ptr_array_new_with_free_func ((GDestroyNotify) room_inputs_free);

  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *value = g_key_file_get_value (kf, "media", keys[i], NULL);
    g_auto (GStrv) parts = NULL;
    g_autoptr (GPtrArray) uris = NULL;
    MedHttpRoomInputs *ri;
    guint64 id;

    if (strcmp (keys[i], "composite") == 0) {
      g_autoptr (GError) local = NULL;

      cfg->media_composite
          = g_key_file_get_boolean (kf, "media", "composite", &local);
      if (local != NULL) {
        g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
            "%s: [media] composite: true or false is expected", path);
        return FALSE;
      }
      continue;
    }
    if (!g_str_has_prefix (keys[i], "room-")
        || !g_ascii_string_to_unsigned (keys[i] + 5, 10, 1, G_MAXINT64, &id,
            NULL)) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
          "%s: unknown key %s in [media] (room-<room id>, composite)", path,
          keys[i]);
      return FALSE;
    }
    for (guint j = 0; j < rooms->len; j++) {
      if (((MedHttpRoomInputs *) rooms->pdata[j])->room_id == (gint64) id) {
        g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
            "%s: [media] room %" G_GUINT64_FORMAT " is given twice", path, id);
        return FALSE;
      }
    }
    parts = g_strsplit (value ? value : "", ";", 17);
    uris = g_ptr_array_new_with_free_func (g_free);
    for (guint j = 0; parts[j]; j++) {
      g_autoptr (GError) local = NULL;
      char *uri = g_strstrip (parts[j]);

      if (*uri == '\0')
        continue;
      if (uris->len == 16) {
        g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
            "%s: [media] %s: at most 16 inputs", path, keys[i]);
        return FALSE;
      }
#ifdef MEDSCHED_HAVE_MEDIA
      if (!med_media_check_uri (uri, NULL, &local)) {
#else
      if (!med_validate_text (uri, 1024, FALSE, FALSE, "input", &local)) {
#endif
        g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
            "%s: [media] %s: input %u: %s", path, keys[i], j + 1,
            local->message);
        return FALSE;
      }
      g_ptr_array_add (uris, g_strdup (uri));
    }
    if (uris->len == 0) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
          "%s: [media] %s: at least one input URI is expected", path, keys[i]);
      return FALSE;
    }
    g_ptr_array_add (uris, NULL);
    ri = g_new0 (MedHttpRoomInputs, 1);
    ri->room_id = (gint64) id;
    ri->inputs = (char **) g_ptr_array_free (g_steal_pointer (&uris), FALSE);
    g_ptr_array_add (rooms, ri);
  }
  g_clear_pointer (&cfg->media_rooms, g_ptr_array_unref);
  if (rooms->len > 0)
    cfg->media_rooms = g_steal_pointer (&rooms);
  return TRUE;
}

gboolean
med_http_config_load (MedHttpConfig *cfg, const char *path, GError **error)
{
  static const char *const known[] = { "listen", "database", "centre",
    "max-body-bytes", "max-header-bytes", "request-timeout",
    "keepalive-timeout", "max-connections", "shutdown-grace", "secure-cookies",
    "trust-proxy", "access-log", "public-url", "session-hours", "login-burst",
    "login-refill", "media-dir", "stun-server", "turn-server", NULL };
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) groups = NULL, keys = NULL;
  guint64 v;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++) {
    /* [mail] and [sms] are read by serve's outbox delivery
     * (med-cli-serve.c) */
    if (strcmp (groups[i], "server") != 0 && strcmp (groups[i], "media") != 0
        && strcmp (groups[i], "mail") != 0 && strcmp (groups[i], "sms") != 0) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
          "%s: unknown group [%s] (only [server], [media], [mail] and [sms])",
          path, groups[i]);
      return FALSE;
    }
  }
  keys = g_key_file_get_keys (kf, "server", NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++) {
    if (!g_strv_contains (known, keys[i])) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
          "%s: unknown key %s in [server]", path, keys[i]);
      return FALSE;
    }
  }
#define U(key, field, min, max)                                                \
  G_STMT_START                                                                 \
  {                                                                            \
    v = cfg->field;                                                            \
    if (!config_uint (kf, key, min, max, &v, error))                           \
      return FALSE;                                                            \
    cfg->field = v;                                                            \
  }                                                                            \
  G_STMT_END
  U ("centre", centre_id, 1, G_MAXINT64);
  U ("max-body-bytes", max_body_bytes, 1024, 64 * 1024 * 1024);
  U ("max-header-bytes", max_header_bytes, 1024, 60 * 1024);
  U ("request-timeout", request_timeout, 1, 3600);
  U ("keepalive-timeout", keepalive_timeout, 1, 3600);
  U ("max-connections", max_connections, 1, 1000000);
  U ("shutdown-grace", shutdown_grace, 0, 3600);
  U ("session-hours", session_hours, 1, 24 * 30);
  U ("login-burst", login_burst, 1, 1000);
  U ("login-refill", login_refill, 1, 3600);
#undef U
  if (!config_media (kf, path, cfg, error))
    return FALSE;
  return config_string (kf, "listen", &cfg->listen, error)
      && config_string (kf, "database", &cfg->db, error)
      && config_string (kf, "access-log", &cfg->access_log, error)
      && config_string (kf, "public-url", &cfg->public_url, error)
      && config_string (kf, "media-dir", &cfg->media_dir, error)
      && config_string (kf, "stun-server", &cfg->stun_server, error)
      && config_string (kf, "turn-server", &cfg->turn_server, error)
      && config_bool (kf, "secure-cookies", &cfg->secure_cookies, error)
      && config_bool (kf, "trust-proxy", &cfg->trust_proxy, error);
}

/* ---- clock and caches ---- */

MedTime
med_http_now (MedHttpServer *srv)
{
  if (srv->cfg.fixed_now != 0)
    return srv->cfg.fixed_now;
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
cached_free (MedCached *c)
{
  g_bytes_unref (c->body);
  g_free (c->etag);
  g_free (c);
}

/* Counts the turns of the main loop: prepare runs once per iteration,
 * before the poll. The store's data version is read at most once a turn
 * (and again after this connection's own writes), not before every cached
 * read: under load one turn answers dozens of requests, and each read of
 * SQLite's data version is a read transaction (two locks and a stat). A
 * commit by another process is seen from the next turn on. */
typedef struct
{
  GSource source;
  guint64 *turn;
} TurnSource;

static gboolean
turn_prepare (GSource *source, gint *timeout)
{
  (*((TurnSource *) source)->turn)++;
  *timeout = -1;
  return FALSE;
}

static gboolean
turn_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  return G_SOURCE_CONTINUE; /* never ready */
}

static GSourceFuncs turn_source_funcs = {
  .prepare = turn_prepare,
  .dispatch = turn_dispatch,
};

void
med_http_cache_check (MedHttpServer *srv)
{
  gint64 v = med_store_data_version_in (srv->store, srv->turn);

  if (v == srv->cache_version)
    return;
  srv->cache_version = v;
  g_hash_table_remove_all (srv->cache);
  g_hash_table_remove_all (srv->users);
  g_hash_table_remove_all (srv->links);
  g_hash_table_remove_all (srv->access);
  g_clear_pointer (&srv->centre, med_centre_free);
}

/* On PostgreSQL every commit, this node's or another's, is a notification
 * on the store's socket (med_store_notify_fd). Reading them as they come
 * drops the caches at once, and an idle node never leaves them queued on
 * the database. After a lost connection the socket is another one: it is
 * looked for again every second. SQLite has no socket: the check before
 * each cached read (med_http_cache_check) is all. */
static gboolean
notify_readable_cb (gint fd, GIOCondition cond, gpointer data)
{
  MedHttpServer *srv = data;

  med_http_cache_check (srv);
  if ((cond & (G_IO_HUP | G_IO_ERR | G_IO_NVAL)) == 0
      && med_store_notify_fd (srv->store) == fd)
    return G_SOURCE_CONTINUE;
  srv->notify_watch = 0;
  srv->notify_fd = -1;
  return G_SOURCE_REMOVE;
}

static gboolean
watch_notify_cb (gpointer data)
{
  MedHttpServer *srv = data;
  int fd = med_store_notify_fd (srv->store);

  if (srv->notify_watch != 0 && fd == srv->notify_fd)
    return G_SOURCE_CONTINUE;
  if (srv->notify_watch != 0)
    g_source_remove (srv->notify_watch);
  srv->notify_watch = 0;
  srv->notify_fd = fd;
  if (fd >= 0)
    srv->notify_watch = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
        notify_readable_cb, srv);
  return G_SOURCE_CONTINUE;
}

static void
watch_notify (MedHttpServer *srv)
{
  srv->notify_fd = -1;
  if (med_store_notify_fd (srv->store) < 0)
    return; /* SQLite */
  watch_notify_cb (srv);
  srv->notify_rearm_id = g_timeout_add_seconds (1, watch_notify_cb, srv);
}

MedCached *
med_http_cache_get (MedHttpServer *srv, const char *key)
{
  med_http_cache_check (srv);
  return g_hash_table_lookup (srv->cache, key);
}

static MedCached *
cached_new (GBytes *body, const char *content_type)
{
  MedCached *c = g_new0 (MedCached, 1);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (body, &len);
  g_autofree char *hex
      = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);

  c->body = body;
  c->etag = g_strdup_printf ("\"%s\"", hex);
  c->content_type = content_type;
  return c;
}

MedCached *
med_http_cache_put (MedHttpServer *srv, const char *key, GBytes *body,
    const char *content_type)
{
  MedCached *c = cached_new (body, content_type);

  /* A bounded cache: whole-sale reset is fine for reads this cheap. */
  if (g_hash_table_size (srv->cache) >= 4096)
    g_hash_table_remove_all (srv->cache);
  g_hash_table_replace (srv->cache, g_strdup (key), c);
  return c;
}

MedCached *
med_http_lasting_get (MedHttpServer *srv, const char *key)
{
  return g_hash_table_lookup (srv->lasting, key);
}

MedCached *
med_http_lasting_put (MedHttpServer *srv, const char *key, GBytes *body,
    const char *content_type)
{
  MedCached *c = cached_new (body, content_type);

  g_hash_table_replace (srv->lasting, g_strdup (key), c);
  return c;
}

MedCentre *
med_http_centre (MedHttpServer *srv, GError **error)
{
  med_http_cache_check (srv);
  if (srv->centre == NULL)
    srv->centre = med_store_get_centre (srv->store, srv->cfg.centre_id, error);
  return srv->centre;
}

/* ---- access log ---- */

/* The path as logged: capability tokens are replaced by "…". */
static char *
redact_path (const char *path)
{
  static const char *const secret_prefixes[]
      = { "/feeds/", "/join/", "/ws/join/", NULL };

  if (path == NULL || !g_utf8_validate (path, -1, NULL))
    return g_strdup ("?");
  for (guint i = 0; secret_prefixes[i]; i++) {
    if (g_str_has_prefix (path, secret_prefixes[i])) {
      const char *ext = strrchr (path, '.');

      return g_strdup_printf ("%s…%s", secret_prefixes[i],
          ext && strchr (ext, '/') == NULL ? ext : "");
    }
  }
  return g_strdup (path);
}

static void
append_json_string (GString *s, const char *v)
{
  g_string_append_c (s, '"');
  for (const char *p = v; *p; p++) {
    guchar c = (guchar) *p;

    if (c == '"' || c == '\\')
      g_string_append_printf (s, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (s, "\\u%04x", c);
    else
      g_string_append_c (s, (char) c);
  }
  g_string_append_c (s, '"');
}

/* "2026-12-07T08:00:01.123456Z": the part up to the second is formatted
 * once a second. */
static void
append_timestamp (MedHttpServer *srv, GString *line)
{
  gint64 now = g_get_real_time ();
  gint64 sec = now / G_USEC_PER_SEC;

  if (sec != srv->log_second) {
    g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (sec);
    g_autofree char *s = g_date_time_format (t, "%Y-%m-%dT%H:%M:%S");

    g_strlcpy (srv->log_stamp, s ? s : "", sizeof srv->log_stamp);
    srv->log_second = sec;
  }
  g_string_append (line, srv->log_stamp);
  g_string_append_printf (line, ".%06dZ", (int) (now % G_USEC_PER_SEC));
}

static void
log_access (MedHttpServer *srv, SoupServerMessage *msg, MsgState *st,
    guint status, gsize bytes)
{
  GString *line;
  g_autofree char *path = NULL;
  GUri *uri;
  const char *method, *remote;
  double ms;

  if (srv->log == NULL)
    return;
  uri = soup_server_message_get_uri (msg);
  method = soup_server_message_get_method (msg);
  remote = soup_server_message_get_remote_host (msg);
  ms = st->started_us ? (g_get_monotonic_time () - st->started_us) / 1e3 : 0.0;
  path = redact_path (uri ? g_uri_get_path (uri) : NULL);
  line = srv->log_line;
  g_string_truncate (line, 0);
  g_string_append (line, "{\"t\":\"");
  append_timestamp (srv, line);
  g_string_append (line, "\",\"method\":");
  append_json_string (line,
      method && g_utf8_validate (method, -1, NULL) ? method : "?");
  g_string_append (line, ",\"path\":");
  append_json_string (line, path);
  g_string_append_printf (line,
      ",\"status\":%u,\"bytes\":%" G_GSIZE_FORMAT ",\"ms\":%.3f", status, bytes,
      ms);
  g_string_append (line, ",\"peer\":");
  append_json_string (line, remote ? remote : "");
  if (st->has_user)
    g_string_append_printf (line,
        ",\"user\":%" G_GINT64_FORMAT ",\"role\":\"%s\"", st->user_id,
        med_role_to_string (st->role));
  g_string_append (line, "}\n");
  fwrite (line->str, 1, line->len, srv->log);
}

void
med_http_note_user (SoupServerMessage *msg, const MedUser *u)
{
  MsgState *st = g_object_get_data (G_OBJECT (msg), STATE_KEY);

  if (st == NULL || u == NULL)
    return;
  st->has_user = TRUE;
  st->user_id = u->id;
  st->role = u->role;
}

/* ---- limits and timeouts ---- */

static void finish_shutdown (MedHttpServer *srv);
static void state_uncount (MsgState *st);

/* Requests all get the same time limit, so srv->requests is in deadline
 * order: arming appends, the sweep takes from the head. */
static void
deadline_arm (MsgState *st)
{
  st->due_us = g_get_monotonic_time ()
      + (gint64) st->srv->cfg.request_timeout * G_USEC_PER_SEC;
  st->link.data = st;
  g_queue_push_tail_link (&st->srv->requests, &st->link);
}

static void
deadline_disarm (MsgState *st)
{
  if (st->due_us == 0)
    return;
  st->due_us = 0;
  g_queue_unlink (&st->srv->requests, &st->link);
}

void
med_http_message_upgraded (SoupServerMessage *msg)
{
  MsgState *st = g_object_get_data (G_OBJECT (msg), STATE_KEY);

  if (st == NULL)
    return;
  /* A WebSocket now: no request deadline, not in flight. */
  if (st->started_us != 0)
    log_access (st->srv, msg, st, 101, 0);
  st->started_us = 0;
  deadline_disarm (st);
  state_uncount (st);
}

static void
state_uncount (MsgState *st)
{
  if (!st->counted)
    return;
  st->counted = FALSE;
  st->srv->in_flight--;
  if (st->srv->stopping && st->srv->in_flight == 0)
    finish_shutdown (st->srv);
}

static void
state_free (MsgState *st)
{
  deadline_disarm (st);
  state_uncount (st);
  g_free (st);
}

typedef struct
{
  GIOStream *io;
  GBytes *reply;
  guint8 drain[4096];
  gsize drained;
  GCancellable *cancel;
  guint timeout_id;
} EarlyReply;

static void
early_reply_free (EarlyReply *e)
{
  if (e->timeout_id)
    g_source_remove (e->timeout_id);
  g_io_stream_close_async (e->io, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_object_unref (e->io);
  g_bytes_unref (e->reply);
  g_object_unref (e->cancel);
  g_free (e);
}

static gboolean
drain_timed_out_cb (gpointer data)
{
  EarlyReply *e = data;

  e->timeout_id = 0;
  g_cancellable_cancel (e->cancel);
  return G_SOURCE_REMOVE;
}

/* Lingering close: the client may still be sending the body we refused;
 * closing with unread data would reset the connection before it reads our
 * answer. Read and discard at most 256 KiB or 2 s, then close. */
static void
drained_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  EarlyReply *e = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);

  if (n > 0 && (e->drained += n) < 256 * 1024) {
    g_input_stream_read_async (G_INPUT_STREAM (source), e->drain,
        sizeof e->drain, G_PRIORITY_DEFAULT, e->cancel, drained_cb, e);
    return;
  }
  early_reply_free (e);
}

static void
early_written_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  EarlyReply *e = data;
  GSocket *sock = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL,
          NULL)) {
    early_reply_free (e);
    return;
  }
  if (G_IS_SOCKET_CONNECTION (e->io))
    sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (e->io));
  if (sock != NULL)
    g_socket_shutdown (sock, FALSE, TRUE, NULL);
  e->timeout_id = g_timeout_add_seconds (2, drain_timed_out_cb, e);
  g_input_stream_read_async (g_io_stream_get_input_stream (e->io), e->drain,
      sizeof e->drain, G_PRIORITY_DEFAULT, e->cancel, drained_cb, e);
}

/* Answers on the stolen connection, before libsoup reads the body, and
 * closes it. */
static void
reject_early (MedHttpServer *srv, SoupServerMessage *msg, guint status,
    const char *code, const char *message)
{
  MsgState *st = g_object_get_data (G_OBJECT (msg), STATE_KEY);
  g_autofree char *body
      = g_strdup_printf ("{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
          code, message);
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 %u %s\r\n"
                                           "Content-Type: application/json\r\n"
                                           "Content-Length: %zu\r\n"
                                           "Connection: close\r\n\r\n",
      status, soup_status_get_phrase (status), strlen (body));
  g_autofree char *all = g_strconcat (head, body, NULL);
  EarlyReply *e;
  GIOStream *io;

  if (st != NULL) {
    log_access (srv, msg, st, status, strlen (body));
    deadline_disarm (st);
    state_uncount (st);
  }
  io = soup_server_message_steal_connection (msg);
  if (io == NULL)
    return;
  e = g_new0 (EarlyReply, 1);
  e->io = io;
  e->cancel = g_cancellable_new ();
  e->reply = g_bytes_new_take (g_steal_pointer (&all),
      strlen (head) + strlen (body));
  g_output_stream_write_all_async (g_io_stream_get_output_stream (io),
      g_bytes_get_data (e->reply, NULL), g_bytes_get_size (e->reply),
      G_PRIORITY_DEFAULT, e->cancel, early_written_cb, e);
}

/* Too slow to send one request: the connection is taken from libsoup and
 * closed. */
static void
request_timed_out (MsgState *st)
{
  g_autoptr (SoupServerMessage) msg = g_object_ref (st->msg);
  GIOStream *io;

  deadline_disarm (st);
  if (st->started_us != 0)
    log_access (st->srv, msg, st, 408, 0);
  state_uncount (st);
  io = soup_server_message_steal_connection (msg);
  if (io != NULL) {
    g_io_stream_close (io, NULL, NULL);
    g_object_unref (io);
  }
}

void
med_http_requests_sweep (MedHttpServer *srv, gint64 now_us)
{
  GList *l;

  while ((l = srv->requests.head) != NULL
      && ((MsgState *) l->data)->due_us <= now_us)
    request_timed_out (l->data);
}

static gsize
headers_size (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageHeadersIter it;
  const char *name, *value;
  gsize n = 0;

  soup_message_headers_iter_init (&it, h);
  while (soup_message_headers_iter_next (&it, &name, &value))
    n += strlen (name) + strlen (value) + 4;
  if (uri != NULL) {
    n += strlen (g_uri_get_path (uri));
    if (g_uri_get_query (uri))
      n += strlen (g_uri_get_query (uri)) + 1;
  }
  return n;
}

/* The body's framing must be unambiguous, whatever libsoup would make of
 * it (RFC 9112 §6.3): one Content-Length of digits only, and no
 * Transfer-Encoding at all. libsoup 3.2 waits forever on two different
 * Content-Lengths, takes Content-Length with chunked, and reads a chunked
 * body's trailers only up to their first line, so the rest is parsed as
 * the next request on the connection (a request smuggled past whatever
 * sits in front). nginx sends every body with a Content-Length, and no
 * browser sends chunked requests: a chunked request is answered 411. Each
 * refusal closes the connection. */
/* 1*DIGIT between optional blanks */
static gboolean
digits_only (const char *v)
{
  gsize n;

  v += strspn (v, " \t");
  n = strspn (v, "0123456789");
  return n > 0 && v[n + strspn (v + n, " \t")] == '\0';
}

static gboolean
framing_ok (MedHttpServer *srv, SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupMessageHeadersIter it;
  const char *name, *value;
  guint n_length = 0, n_te = 0;
  gboolean digits = TRUE;

  soup_message_headers_iter_init (&it, h);
  while (soup_message_headers_iter_next (&it, &name, &value)) {
    if (g_ascii_strcasecmp (name, "Content-Length") == 0) {
      n_length++;
      digits = digits && digits_only (value);
    } else if (g_ascii_strcasecmp (name, "Transfer-Encoding") == 0) {
      n_te++;
    }
  }
  if (n_te > 0 && n_length > 0) {
    reject_early (srv, msg, 400, "bad_framing",
        "Content-Length together with Transfer-Encoding");
    return FALSE;
  }
  if (n_length > 1 || !digits) {
    reject_early (srv, msg, 400, "bad_framing",
        "one Content-Length of digits is expected");
    return FALSE;
  }
  if (n_te > 0) {
    reject_early (srv, msg, 411, "length_required",
        "send the body with a Content-Length, not chunked");
    return FALSE;
  }
  return TRUE;
}

static void
got_headers_cb (SoupServerMessage *msg, gpointer data)
{
  MedHttpServer *srv = data;
  MsgState *st = g_object_get_data (G_OBJECT (msg), STATE_KEY);
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  goffset len;

  st->started_us = g_get_monotonic_time ();
  st->counted = TRUE;
  srv->in_flight++;
  if (srv->stopping)
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      msg),
        "Connection", "close");

  if (headers_size (msg) > srv->cfg.max_header_bytes) {
    reject_early (srv, msg, 431, "headers_too_large",
        "request headers are too large");
    return;
  }
  if (!framing_ok (srv, msg))
    return;
  if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CONTENT_LENGTH) {
    len = soup_message_headers_get_content_length (h);
    if (len < 0 || (guint64) len > srv->cfg.max_body_bytes) {
      if (soup_message_headers_get_expectations (h)
          & SOUP_EXPECTATION_CONTINUE) {
        /* The client waits for 100 Continue: a final status instead
         * means libsoup never reads the body. */
        soup_server_message_set_status (msg, 413, NULL);
        soup_message_headers_replace (soup_server_message_get_response_headers (
                                          msg),
            "Connection", "close");
        return;
      }
      reject_early (srv, msg, 413, "too_large",
          "the request body is over the limit");
    }
  }
}

/* The server's request-read: the whole request arrived in time. */
static void
request_read_cb (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
  MsgState *st = g_object_get_data (G_OBJECT (msg), STATE_KEY);

  if (st != NULL)
    deadline_disarm (st);
}

/* The server's request-finished and request-aborted: the answer went out
 * (or could not). */
static void
request_finished_cb (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
  MedHttpServer *srv = data;
  MsgState *st = g_object_get_data (G_OBJECT (msg), STATE_KEY);

  if (st == NULL)
    return;
  if (st->started_us != 0)
    log_access (srv, msg, st, soup_server_message_get_status (msg),
        soup_server_message_get_response_body (msg)->length);
  deadline_disarm (st);
  state_uncount (st);
  med_http_conn_answered (srv, msg);
}

static void
request_started_cb (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
  MedHttpServer *srv = data;
  MsgState *st = g_new0 (MsgState, 1);

  /* A request that does not arrive whole in time is cut off. libsoup
   * emits this at a connection's accept and then with the first byte of
   * each next request; between the two, med-http-conn.c watches the idle
   * connection. */
  med_http_conn_request_started (srv, msg);
  st->srv = srv;
  st->msg = msg;
  deadline_arm (st);
  g_object_set_data_full (G_OBJECT (msg), STATE_KEY, st,
      (GDestroyNotify) state_free);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers_cb), srv);
}

/* ---- helpers shared by the handlers ---- */

gboolean
med_http_parse_id (const char *s, gint64 *out)
{
  guint64 v;

  if (s == NULL || !g_ascii_isdigit (*s) || *s == '0' || strlen (s) > 18)
    return FALSE;
  if (!g_ascii_string_to_unsigned (s, 10, 1, G_MAXINT64, &v, NULL))
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

MedServiceCtx
med_http_service_ctx (MedReq *r)
{
  MedServiceCtx ctx = { 0 };

  ctx.now = r->now;
  ctx.actor = r->actor;
  ctx.centre_id = r->srv->cfg.centre_id;
  /* the reader's language: a feed link made now keeps it */
  ctx.lang = med_lang_code (med_http_lang (r));
  return ctx;
}

char *
med_http_html_escape (const char *s)
{
  return g_markup_escape_text (s ? s : "", -1);
}

/* ---- static files ---- */

static const struct
{
  const char *name;
  const char *type;
} static_files[] = {
  { "medsched.css", "text/css; charset=utf-8" },
  { "medsched.js", "text/javascript; charset=utf-8" },
  { "board.js", "text/javascript; charset=utf-8" },
  { "call.js", "text/javascript; charset=utf-8" },
  { "join.js", "text/javascript; charset=utf-8" },
  { "console.js", "text/javascript; charset=utf-8" },
  { "favicon.svg", "image/svg+xml" },
  { "fonts/noto-serif-tibetan.woff2", "font/woff2" },
};

void
med_http_static (MedReq *r)
{
  g_autofree char *joined
      = r->n_seg == 3 ? g_strconcat (r->seg[1], "/", r->seg[2], NULL) : NULL;
  const char *name = r->n_seg == 2 ? r->seg[1] : joined;
  g_autofree char *key = NULL;
  MedCached *c;

  if (r->method != SOUP_METHOD_GET && r->method != SOUP_METHOD_HEAD) {
    med_http_reply_error (r, 405, "method", "only GET");
    return;
  }
  /* the catalogue of one language for the scripts: /static/i18n/zh.json */
  if (r->n_seg == 3 && strcmp (r->seg[1], "i18n") == 0) {
    med_http_static_catalogue (r, r->seg[2]);
    return;
  }
  /* A fixed list: no path from the request reaches the resource lookup
   * unless it is one of these names. */
  for (guint i = 0; name && i < G_N_ELEMENTS (static_files); i++) {
    if (strcmp (name, static_files[i].name) != 0)
      continue;
    key = g_strconcat ("static:", name, NULL);
    c = med_http_lasting_get (r->srv, key);
    if (c == NULL) {
      g_autofree char *res = g_strconcat ("/org/medsched/http/", name, NULL);
      g_autoptr (GBytes) b
          = g_resources_lookup_data (res, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

      if (b == NULL)
        break;
      c = med_http_lasting_put (r->srv, key, g_bytes_ref (b),
          static_files[i].type);
    }
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      r->msg),
        "Cache-Control", "public, max-age=300");
    med_http_reply_cached (r, c);
    return;
  }
  med_http_reply_error (r, 404, "not_found", "no such file");
}

/* ---- routing ---- */

static gboolean
path_ok (const char *path)
{
  if (path == NULL || path[0] != '/' || !g_utf8_validate (path, -1, NULL))
    return FALSE;
  for (const char *p = path; *p; p++) {
    if ((guchar) *p < 0x20 || *p == '\\' || *p == 0x7f)
      return FALSE;
  }
  return strstr (path, "/../") == NULL && !g_str_has_suffix (path, "/..")
      && strstr (path, "//") == NULL;
}

char *
med_http_client_address (MedHttpServer *srv, SoupServerMessage *msg)
{
  const char *remote = soup_server_message_get_remote_host (msg);

  if (srv->cfg.trust_proxy && remote != NULL
      && (strcmp (remote, "127.0.0.1") == 0 || strcmp (remote, "::1") == 0)) {
    const char *real = soup_message_headers_get_one (
        soup_server_message_get_request_headers (msg), "X-Real-IP");
    GInetAddress *addr = real ? g_inet_address_new_from_string (real) : NULL;

    if (addr != NULL) {
      g_object_unref (addr);
      return g_strdup (real);
    }
  }
  return g_strdup (remote ? remote : "?");
}

static void
security_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  /* a new answer has none of them yet: append, no lookup */
  soup_message_headers_append (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_append (h, "Referrer-Policy", "no-referrer");
  soup_message_headers_append (h, "X-Frame-Options", "DENY");
  soup_message_headers_append (h, "Content-Security-Policy",
      "default-src 'self'; img-src 'self' data:; style-src 'self'; "
      "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
      "base-uri 'none'");
}

static void
handle_cb (SoupServer *soup, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  MedHttpServer *srv = data;
  MedReq r = { 0 };
  g_auto (GStrv) seg = NULL;

  r.srv = srv;
  r.msg = msg;
  r.method = soup_server_message_get_method (msg);
  r.path = path;
  r.query = query;
  r.now = med_http_now (srv);
  r.client = med_http_client_address (srv, msg);
  r.actor = g_strdup ("anonymous");
  if (srv->stopping)
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      msg),
        "Connection", "close");
  r.api = path != NULL
      && (g_str_has_prefix (path, "/api/") || g_str_has_prefix (path, "/feeds/")
          || strcmp (path, "/healthz") == 0);
  security_headers (msg);

  if (!path_ok (path)) {
    med_http_reply_error (&r, 400, "bad_path", "malformed path");
    goto out;
  }
  seg = g_strsplit (path + 1, "/", 12);
  r.seg = seg;
  r.n_seg = g_strv_length (seg);
  if (r.n_seg > 0 && *seg[r.n_seg - 1] == '\0' && r.n_seg > 1)
    r.n_seg--; /* a trailing slash */

  if (strcmp (path, "/healthz") == 0) {
    g_autoptr (GError) error = NULL;

    if (med_http_centre (srv, &error) == NULL) {
      med_http_reply_gerror (&r, g_steal_pointer (&error));
    } else {
      soup_message_headers_replace (soup_server_message_get_response_headers (
                                        msg),
          "Cache-Control", "no-store");
      med_http_reply_text (&r, 200, "application/json",
          srv->stopping ? "{\"status\":\"stopping\"}\n"
                        : "{\"status\":\"ok\"}\n",
          -1);
    }
    goto out;
  }
  if (r.n_seg == 0) {
    /* "/": the pages decide where to go */
  } else if (strcmp (r.seg[0], "static") == 0) {
    med_http_static (&r);
    goto out;
  }
  if (r.n_seg > 0 && strcmp (r.seg[0], "feeds") == 0) {
    med_http_feed (&r);
    goto out;
  }
  if (!med_http_auth_resolve (&r))
    goto out;
  if (r.user != NULL) {
    med_http_note_user (msg, r.user);
    g_free (r.actor);
    r.actor = g_strdup_printf ("%s:%s", med_role_to_string (r.user->role),
        r.user->name);
  }
  if (r.n_seg >= 2 && strcmp (r.seg[0], "api") == 0
      && strcmp (r.seg[1], "v1") == 0)
    med_http_api (&r);
  else
    med_http_page (&r);

out:
  if (!r.paused && soup_server_message_get_status (msg) == 0)
    med_http_reply_error (&r, 500, "internal", "no answer");
  if (!r.paused)
    med_http_conn_cork (srv, msg);
  med_user_free (r.user);
  g_free (r.csrf);
  g_free (r.session_hash);
  g_free (r.client);
  g_free (r.actor);
}

/* ---- listening and stopping ---- */

static gboolean
parse_listen (const char *listen, GSocketAddress **out, GError **error)
{
  g_autofree char *host = NULL;
  const char *colon;
  guint64 port;

  if (listen == NULL)
    goto bad;
  if (listen[0] == '[') {
    const char *end = strchr (listen, ']');

    if (end == NULL || end[1] != ':')
      goto bad;
    host = g_strndup (listen + 1, end - listen - 1);
    colon = end + 1;
  } else {
    colon = strrchr (listen, ':');
    if (colon == NULL)
      goto bad;
    host = g_strndup (listen, colon - listen);
  }
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    goto bad;
  *out = g_inet_socket_address_new_from_string (host, (guint) port);
  if (*out != NULL)
    return TRUE;
bad:
  g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
      "--listen: expected ADDRESS:PORT with a numeric address "
      "(127.0.0.1:8080, [::1]:8080)");
  return FALSE;
}

MedHttpServer *
med_http_server_new (const MedHttpConfig *cfg, GError **error)
{
  g_autoptr (MedHttpServer) srv = g_new0 (MedHttpServer, 1);
  static gsize resources_once;

  if (g_once_init_enter (&resources_once)) {
    med_http_register_resource ();
    g_once_init_leave (&resources_once, 1);
  }
  srv->cfg = *cfg;
  srv->cfg.listen = g_strdup (cfg->listen ? cfg->listen : "127.0.0.1:8080");
  srv->cfg.db = g_strdup (cfg->db);
  srv->cfg.access_log = g_strdup (cfg->access_log ? cfg->access_log : "-");
  srv->cfg.public_url = g_strdup (cfg->public_url);
  srv->cfg.stun_server = g_strdup (cfg->stun_server);
  srv->cfg.turn_server = g_strdup (cfg->turn_server);
  srv->cfg.media_rooms
      = cfg->media_rooms ? g_ptr_array_ref (cfg->media_rooms) : NULL;
  if (cfg->media_dir != NULL) {
    srv->cfg.media_dir = g_strdup (cfg->media_dir);
  } else if (cfg->db != NULL) {
    g_autofree char *parent = g_path_get_dirname (cfg->db);

    srv->cfg.media_dir = g_build_filename (parent, "recordings", NULL);
  }
  srv->buckets
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  srv->plans = g_cancellable_new ();
  srv->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) cached_free);
  srv->cache_version = G_MININT64;
  srv->lasting = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) cached_free);
  srv->turn = 1;
  srv->turn_source = g_source_new (&turn_source_funcs, sizeof (TurnSource));
  ((TurnSource *) srv->turn_source)->turn = &srv->turn;
  g_source_set_static_name (srv->turn_source, "medsched turns");
  /* prepared first: GLib stops preparing at the first ready source of a
   * more urgent priority, and a turn must always count */
  g_source_set_priority (srv->turn_source, G_PRIORITY_HIGH);
  g_source_attach (srv->turn_source, NULL);
  srv->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) med_user_free);
  srv->links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) med_feed_link_free);
  srv->access = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  med_http_conns_init (srv);
  srv->log_line = g_string_sized_new (256);

  if (cfg->db == NULL) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "no database given");
    return NULL;
  }
  if (strcmp (srv->cfg.access_log, "-") == 0) {
    srv->log = stderr;
  } else if (strcmp (srv->cfg.access_log, "off") != 0) {
    srv->log = fopen (srv->cfg.access_log, "a");
    if (srv->log == NULL) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
          "cannot open the access log %s", srv->cfg.access_log);
      return NULL;
    }
    srv->log_owned = TRUE;
    setvbuf (srv->log, NULL, _IOLBF, 0);
  }
  srv->store = med_store_open (cfg->db, error);
  if (srv->store == NULL)
    return NULL;
  if (cfg->fixed_now != 0)
    med_store_set_now (srv->store, cfg->fixed_now);
  if (med_http_centre (srv, error) == NULL)
    return NULL;
  srv->soup = soup_server_new ("server-header", "medsched", NULL);
  soup_server_add_handler (srv->soup, NULL, handle_cb, srv, NULL);
  med_http_signal_init (srv);
  g_signal_connect (srv->soup, "request-started",
      G_CALLBACK (request_started_cb), srv);
  g_signal_connect (srv->soup, "request-read", G_CALLBACK (request_read_cb),
      srv);
  g_signal_connect (srv->soup, "request-finished",
      G_CALLBACK (request_finished_cb), srv);
  g_signal_connect (srv->soup, "request-aborted",
      G_CALLBACK (request_finished_cb), srv);
  return g_steal_pointer (&srv);
}

gboolean
med_http_server_listen (MedHttpServer *srv, GError **error)
{
  g_autoptr (GSocketAddress) want = NULL;
  g_autoptr (GSocketAddress) got = NULL;
  g_autoptr (GSocket) sock = NULL;

  g_return_val_if_fail (srv->listener == NULL, FALSE);
  if (!parse_listen (srv->cfg.listen, &want, error))
    return FALSE;
  /* Our own listening socket: we accept its connections ourselves
   * (med-http-conn.c) and close it first on a graceful stop. */
  sock = g_socket_new (g_socket_address_get_family (want), G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return FALSE;
  g_socket_set_listen_backlog (sock, 512);
  if (!g_socket_bind (sock, want, TRUE, error) || !g_socket_listen (sock, error)
      || (got = g_socket_get_local_address (sock, error)) == NULL)
    return FALSE;
  srv->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
  srv->listener = g_steal_pointer (&sock);
  /* we accept, libsoup serves (med-http-conn.c) */
  if (!med_http_conns_listen (srv, error))
    return FALSE;
  watch_notify (srv);
  return med_http_media_start (srv, error);
}

guint16
med_http_server_get_port (MedHttpServer *srv)
{
  return srv->port;
}

guint
med_http_server_in_flight (MedHttpServer *srv)
{
  return srv->in_flight;
}

guint
med_http_server_connections (MedHttpServer *srv)
{
  return med_http_conns_open (srv);
}

/* Runs from the main loop, never from inside a libsoup signal: closing
 * every connection there would pull the message being finished away. */
static gboolean
stop_now_cb (gpointer data)
{
  MedHttpServer *srv = data;

  srv->stop_idle = 0;
  if (med_http_media_busy (srv) || med_http_signal_busy (srv)) {
    /* recorded sessions and calls are sealing: the store stays open until
     * then */
    srv->stop_idle = g_timeout_add (100, stop_now_cb, srv);
    return G_SOURCE_REMOVE;
  }
  if (srv->soup != NULL)
    soup_server_disconnect (srv->soup);
  if (srv->done_cb != NULL)
    srv->done_cb (srv->done_data);
  return G_SOURCE_REMOVE;
}

static void
finish_shutdown (MedHttpServer *srv)
{
  if (srv->stopped)
    return;
  srv->stopped = TRUE;
  if (srv->grace_id) {
    g_source_remove (srv->grace_id);
    srv->grace_id = 0;
  }
  srv->stop_idle = g_idle_add (stop_now_cb, srv);
}

static gboolean
grace_over_cb (gpointer data)
{
  MedHttpServer *srv = data;

  srv->grace_id = 0;
  g_message ("stopping with %u requests still in flight", srv->in_flight);
  finish_shutdown (srv);
  return G_SOURCE_REMOVE;
}

void
med_http_server_shutdown (MedHttpServer *srv, GSourceFunc done,
    gpointer user_data)
{
  if (srv->stopping)
    return;
  srv->stopping = TRUE;
  srv->done_cb = done;
  srv->done_data = user_data;
  med_http_media_shutdown (srv);
  med_http_signal_shutdown (srv);
  /* Stop accepting: requests already under way are served on, idle
   * keep-alive connections are closed. */
  med_http_conns_stop_accepting (srv);
  if (srv->listener != NULL)
    g_socket_close (srv->listener, NULL);
  med_http_conns_close_idle (srv);
  if (srv->in_flight == 0)
    finish_shutdown (srv);
  else
    srv->grace_id = g_timeout_add_seconds (MAX (srv->cfg.shutdown_grace, 1),
        grace_over_cb, srv);
}

void
med_http_server_free (MedHttpServer *srv)
{
  if (srv == NULL)
    return;
  srv->done_cb = NULL;
  srv->stopping = srv->stopped = TRUE;
  if (srv->grace_id)
    g_source_remove (srv->grace_id);
  if (srv->stop_idle)
    g_source_remove (srv->stop_idle);
  if (srv->notify_watch)
    g_source_remove (srv->notify_watch);
  if (srv->notify_rearm_id)
    g_source_remove (srv->notify_rearm_id);
  if (srv->turn_source != NULL) {
    g_source_destroy (srv->turn_source);
    g_clear_pointer (&srv->turn_source, g_source_unref);
  }

  if (srv->plans != NULL) {
    g_cancellable_cancel (srv->plans);
    g_clear_object (&srv->plans);
  }
  med_http_conns_free (srv);
  if (srv->soup != NULL) {
    g_signal_handlers_disconnect_by_data (srv->soup, srv);
    soup_server_disconnect (srv->soup);
    g_object_unref (srv->soup);
  }
  g_clear_object (&srv->listener);
  med_http_signal_free (srv);
  med_http_media_free (srv);
  g_clear_pointer (&srv->centre, med_centre_free);
  g_clear_pointer (&srv->cache, g_hash_table_unref);
  g_clear_pointer (&srv->lasting, g_hash_table_unref);
  g_clear_pointer (&srv->users, g_hash_table_unref);
  g_clear_pointer (&srv->links, g_hash_table_unref);
  g_clear_pointer (&srv->access, g_hash_table_unref);
  g_clear_pointer (&srv->buckets, g_hash_table_unref);
  med_store_close (srv->store);
  if (srv->log_owned)
    fclose (srv->log);
  if (srv->log_line != NULL)
    g_string_free (srv->log_line, TRUE);
  med_http_config_clear (&srv->cfg);
  g_free (srv);
}
