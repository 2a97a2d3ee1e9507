/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http.h — `medsched serve`: the HTTP server of medsched on libsoup 3
 * (JSON API under /api/v1/, web pages, calendar feeds, party join pages),
 * and the secrets it hands out (bearer tokens, sessions, capability
 * links, password hashes).
 *
 * The server runs on the thread that created it, on that thread's default
 * main context, with one MedStore. It listens on loopback unless told
 * otherwise; on a network it belongs behind nginx (deploy/nginx.conf).
 * No business rules live here: requests are parsed, checked against the
 * caller's role and handed to the store, the service and the ical module. */
#pragma once

#include <medsched/med-model.h>
#include <medsched/med-store.h>

#include <gio/gio.h>

G_BEGIN_DECLS

#define MED_HTTP_ERROR (med_http_error_quark ())
GQuark med_http_error_quark (void);

/* Request-level errors; each maps to one HTTP status. */
typedef enum
{
  MED_HTTP_ERROR_BAD_REQUEST, /* 400: not JSON, bad UTF-8, too deep, … */
  MED_HTTP_ERROR_UNAUTHORIZED, /* 401 */
  MED_HTTP_ERROR_FORBIDDEN, /* 403: role or CSRF */
  MED_HTTP_ERROR_NOT_FOUND, /* 404 */
  MED_HTTP_ERROR_METHOD, /* 405 */
  MED_HTTP_ERROR_TOO_LARGE, /* 413 */
  MED_HTTP_ERROR_MEDIA_TYPE, /* 415 */
  MED_HTTP_ERROR_INVALID, /* 422: valid JSON, invalid values */
  MED_HTTP_ERROR_RATE, /* 429 */
  MED_HTTP_ERROR_CONFIG, /* bad configuration (not a request error) */
} MedHttpError;

/* [media] room-<id> = URI[;URI…]: what `serve` records in one room. */
typedef struct
{
  gint64 room_id;
  char **inputs; /* NULL-terminated input URIs (med_media_check_uri) */
} MedHttpRoomInputs;

typedef struct
{
  char *listen; /* "127.0.0.1:8080", "[::1]:8080"; port 0 = any free */
  char *db; /* the store file */
  gint64 centre_id; /* default 1 */
  gsize max_body_bytes; /* request bodies, default 1 MiB */
  gsize max_header_bytes; /* request line + headers, default 16 KiB */
  guint request_timeout; /* seconds for one whole request to arrive,
                          * from its first byte; default 30 */
  guint keepalive_timeout; /* seconds a keep-alive connection may wait
                            * for its next request; default 75 (longer than
                            * nginx's upstream keepalive_timeout, 60) */
  guint shutdown_grace; /* seconds in-flight requests get on stop, 10 */
  guint max_connections; /* client connections open at once (WebSockets
                          * included); more wait in the listen backlog;
                          * default 1024 */
  gboolean secure_cookies; /* Secure cookie attribute (behind TLS) */
  gboolean trust_proxy; /* client address from X-Real-IP when the peer is
                         * loopback (nginx in front) */
  char *access_log; /* "-" = stderr (default), "off", or a file path */
  char *public_url; /* base of links in pages, default from the store */
  guint session_hours; /* web session lifetime, default 12 */
  guint login_burst; /* failed logins / token misses before 429, 10 */
  guint login_refill; /* seconds per regained attempt, default 6 */
  MedTime fixed_now; /* 0 = the real clock (tests, demos) */
  char *media_dir; /* where session recordings go; default: a
                    * "recordings" folder beside the store file */
  char *stun_server; /* "stun://host:port" handed to webrtcbin and browsers,
                      * NULL = none (host candidates only, a LAN) */
  char *turn_server; /* "turn://user:password@host:port", NULL = none */
  /* Sessions recorded at booking times ([media] group, med-http-media.c):
   * MedHttpRoomInputs* per remote room, NULL = none; with media_composite
   * each session also records a stamped composite and streams it (HLS). */
  GPtrArray *media_rooms;
  gboolean media_composite;
} MedHttpConfig;

/* Defaults as documented above. */
void med_http_config_init (MedHttpConfig *cfg);
void med_http_config_clear (MedHttpConfig *cfg);
/* Reads a key file with a [server] group (keys: listen, database, centre,
 * max-body-bytes, max-header-bytes, request-timeout, keepalive-timeout,
 * max-connections, shutdown-grace, secure-cookies, trust-proxy, access-log, public-url,
 * session-hours, login-burst, login-refill, media-dir, stun-server,
 * turn-server) and an optional [media] group (room-<room id> =
 * URI[;URI…], composite = true|false). Unknown groups and keys are
 * errors. */
gboolean med_http_config_load (MedHttpConfig *cfg, const char *path,
    GError **error);

typedef struct _MedHttpServer MedHttpServer;

/* Opens the store (which must exist and hold the centre) and prepares the
 * server; nothing listens yet. (transfer full) */
MedHttpServer *med_http_server_new (const MedHttpConfig *cfg, GError **error);
/* Starts listening on cfg->listen. */
gboolean med_http_server_listen (MedHttpServer *srv, GError **error);
/* The port actually bound (useful with port 0). */
guint16 med_http_server_get_port (MedHttpServer *srv);
/* Graceful stop: closes the listening socket, lets requests in flight
 * finish (at most shutdown_grace seconds), closes idle connections, then
 * calls done on the server's main context. */
void med_http_server_shutdown (MedHttpServer *srv, GSourceFunc done,
    gpointer user_data);
/* Requests being handled right now (read, not yet answered). */
guint med_http_server_in_flight (MedHttpServer *srv);
/* Client connections open right now (idle keep-alive and WebSockets
 * included). */
guint med_http_server_connections (MedHttpServer *srv);
/* Closes every connection and the store. */
void med_http_server_free (MedHttpServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedHttpServer, med_http_server_free)

/* Secrets. new_secret: 256 random bits from getrandom(2) as 43 base64url
 * characters. hash_secret: the lowercase hex SHA-256 the store keeps.
 * (transfer full) */
char *med_http_new_secret (void);
char *med_http_hash_secret (const char *secret);
/* "pbkdf2-sha256$ITERATIONS$SALT$HASH" (base64), 128-bit random salt.
 * iterations 0 = the default (200,000). (transfer full) */
char *med_http_password_hash (const char *password, guint iterations);
/* Constant-time check of a password against a stored string; FALSE for
 * anything malformed. */
gboolean med_http_password_verify (const char *password, const char *stored);

G_END_DECLS
