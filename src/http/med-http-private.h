/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-private.h — what the files of src/http share: the server
 * struct, the per-request context handed to every handler, the response
 * helpers (JSON, HTML, errors mapped once from GError to a status), the
 * JSON request decoders (also used by the fuzz target) and the auth
 * helpers. Nothing outside src/http and its tests includes it. */
#pragma once

#include <medsched/med-http.h>
#include <medsched/med-i18n.h>
#include <medsched/med-scheduler.h>
#include <medsched/med-service.h>
#include <medsched/med-store.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>

G_BEGIN_DECLS

/* Nesting allowed in request bodies (objects and arrays). */
#define MED_HTTP_MAX_DEPTH 16

struct _MedHttpServer
{
  MedHttpConfig cfg;
  MedStore *store;
  SoupServer *soup;
  GSocket *listener; /* ours; libsoup listens on it */
  guint16 port;
  FILE *log; /* access log, NULL when off */
  GString *log_line; /* reused for each line */
  gint64 log_second; /* of log_stamp */
  char log_stamp[32]; /* "2026-12-07T08:00:01" */
  gboolean log_owned;
  guint in_flight; /* requests read and not yet answered */
  gboolean stopping; /* shutdown asked for */
  gboolean stopped; /* shutdown under way: connections being closed */
  guint stop_idle;
  GSourceFunc done_cb;
  gpointer done_data;
  guint grace_id;
  GHashTable *buckets; /* rate limits: char *key → Bucket* */
  /* read caches, valid while the store's data version stays the same;
   * the version is asked once per turn of the main loop (turn) */
  gint64 cache_version;
  guint64 turn;
  GSource *turn_source;
  GHashTable *cache; /* char *key → MedCached* */
  GHashTable *lasting; /* the same, never dropped (med_http_lasting_put) */
  MedCentre *centre; /* cached with the same version */
  GHashTable *users; /* "<token hash>:<minute>" → MedUser* (same version) */
  GHashTable *links; /* "<feed hash>:<minute>" → MedFeedLink* */
  GHashTable *access; /* "<user id>:<case id>": the access rule said yes */
  /* PostgreSQL: other nodes' commits arrive on this socket (watched) */
  int notify_fd;
  guint notify_watch;
  guint notify_rearm_id; /* once a second: the socket after a reconnection */
  /* client connections (med-http-conn.c): remote GSocketAddress* (the
   * object libsoup's messages return) → Conn* */
  GHashTable *conns;
  GQueue idle; /* idle keep-alive Conn*, oldest first */
  GQueue requests; /* MsgState* with a deadline, the earliest first */
  guint sweep_id; /* once a second: idle and request time limits */
  GSource *accept_source; /* NULL while not accepting */
  guint accept_retry_id;
  gboolean at_capacity;
  guint64 accepted; /* connections accepted */
  guint64 idle_closed; /* idle keep-alive connections we closed */
  struct _MedHttpMedia *media; /* sessions at booking times, or NULL */
  gpointer signal; /* WebRTC calls and their sockets (med-http-signal.c) */
  /* day plans searched in a worker thread (med-http-api.c): at most one
   * at a time; cancelled when the server is freed, so that a plan that
   * ends later books nothing into a closed store */
  GCancellable *plans;
  gboolean planning;
};

/* A cached response body with its strong validator. */
typedef struct
{
  GBytes *body;
  char *etag; /* "\"<sha256 hex>\"" */
  const char *content_type; /* static */
} MedCached;

/* Who is asking. user NULL = anonymous. */
typedef struct
{
  MedHttpServer *srv;
  SoupServerMessage *msg;
  const char *method; /* interned by libsoup: compare with == */
  const char *path;
  GHashTable *query; /* may be NULL */
  char **seg; /* path split on '/', without the empty first one */
  guint n_seg;
  MedUser *user;
  gboolean via_session; /* cookie, not bearer token: CSRF applies */
  char *csrf; /* the session's CSRF token */
  char *session_hash; /* the credential's hash: the session cookie's
                      * (via_session) or the bearer token's */
  char *client; /* client address (proxy-aware) */
  MedTime now;
  char *actor; /* "clerk:wang", "anonymous" */
  gboolean api; /* errors as JSON (API, feeds) rather than HTML */
  gboolean paused; /* answered later (soup_server_message_pause) */
  gint lang; /* MedLang + 1 once chosen (med_http_lang), 0 before */
  gint party_lang; /* MedLang + 1 of the party a page is for, 0 = none */
} MedReq;

/* ---- server (med-http-server.c) ---- */

MedTime med_http_now (MedHttpServer *srv);
/* The centre, cached per data version. (transfer none) */
MedCentre *med_http_centre (MedHttpServer *srv, GError **error);
/* Drops every cached response when the store changed. */
void med_http_cache_check (MedHttpServer *srv);
MedCached *med_http_cache_get (MedHttpServer *srv, const char *key);
/* Takes body. Returns the entry (transfer none). */
MedCached *med_http_cache_put (MedHttpServer *srv, const char *key,
    GBytes *body, const char *content_type);
/* The same for what cannot change while serve runs (static files, the
 * script catalogues): kept whatever the store's data do. */
MedCached *med_http_lasting_get (MedHttpServer *srv, const char *key);
MedCached *med_http_lasting_put (MedHttpServer *srv, const char *key,
    GBytes *body, const char *content_type);
/* Records the user of a request for the access log. */
void med_http_note_user (SoupServerMessage *msg, const MedUser *u);
/* The message became a WebSocket: no deadline, not in flight any more. */
void med_http_message_upgraded (SoupServerMessage *msg);
/* The client's address (X-Real-IP from a trusted proxy). (transfer full) */
char *med_http_client_address (MedHttpServer *srv, SoupServerMessage *msg);

/* ---- connections (med-http-conn.c) ---- */

void med_http_conns_init (MedHttpServer *srv);
/* Starts accepting on srv->listener (bound and listening). */
gboolean med_http_conns_listen (MedHttpServer *srv, GError **error);
void med_http_conns_stop_accepting (MedHttpServer *srv);
/* Closes every idle keep-alive connection now (graceful stop). */
void med_http_conns_close_idle (MedHttpServer *srv);
void med_http_conns_free (MedHttpServer *srv);
/* A request begins on msg's connection: it is not idle any more. */
void med_http_conn_request_started (MedHttpServer *srv, SoupServerMessage *msg);
/* msg's answer is complete and about to be written: its connection holds
 * back partial segments (TCP_CORK) until med_http_conn_answered(), so the
 * head and the body leave in one segment and wake the client once. */
void med_http_conn_cork (MedHttpServer *srv, SoupServerMessage *msg);
/* msg's answer is finished: once libsoup is done with it, its connection
 * (if kept alive) is watched until the next request, or closed. */
void med_http_conn_answered (MedHttpServer *srv, SoupServerMessage *msg);
/* Client connections open right now. */
guint med_http_conns_open (MedHttpServer *srv);
/* Cuts off the requests whose deadline passed (med-http-server.c; called
 * once a second by med-http-conn.c). */
void med_http_requests_sweep (MedHttpServer *srv, gint64 now_us);

/* ---- responses (med-http-json.c) ---- */

void med_http_reply_bytes (MedReq *r, guint status, const char *content_type,
    GBytes *body);
void med_http_reply_text (MedReq *r, guint status, const char *content_type,
    const char *text, gssize len);
/* Takes the node. */
void med_http_reply_json (MedReq *r, guint status, JsonNode *node);
void med_http_reply_error (MedReq *r, guint status, const char *code,
    const char *fmt, ...) G_GNUC_PRINTF (4, 5);
/* A redirect to a local path (starting with one '/'): Location is the
 * configured public-url followed by path, or path alone (relative) when
 * none is configured — never built from the request's Host header.
 * (med-http-auth.c) */
void med_http_redirect (MedReq *r, guint status, const char *path);
/* The one GError → HTTP status mapping. Takes the error. */
void med_http_reply_gerror (MedReq *r, GError *error);
/* Sends body with its ETag, or 304 when If-None-Match matches. */
void med_http_reply_cached (MedReq *r, const MedCached *c);
guint med_http_status_for_error (const GError *error, const char **code);

/* ---- JSON requests (med-http-json.c) ---- */

/* Checks size, UTF-8, NUL bytes and nesting, parses, and requires one
 * object at the top. MED_HTTP_ERROR_BAD_REQUEST otherwise. (transfer
 * full) */
JsonNode *med_http_json_parse_object (const char *data, gsize len,
    GError **error);
/* The request body as a JSON object: 415 unless application/json. */
JsonNode *med_http_request_json (MedReq *r, GError **error);
/* Members must all be in allowed (NULL-terminated): 422 naming the first
 * other one. */
gboolean med_http_json_check_members (JsonObject *o, const char *const *allowed,
    GError **error);
/* Typed getters: absent or null leaves *out alone and succeeds unless
 * required; a member of another type fails with 422 naming it. */
gboolean med_http_json_get_int (JsonObject *o, const char *name,
    gboolean required, gint64 min, gint64 max, gint64 *out, GError **error);
gboolean med_http_json_get_string (JsonObject *o, const char *name,
    gboolean required, gsize max_bytes, const char **out, GError **error);
gboolean med_http_json_get_bool (JsonObject *o, const char *name,
    gboolean required, gboolean *out, GError **error);

/* The recording regime a booking's note asks for (a line "recording:
 * hearing|mediation|off", also 录制:), mediation when it says nothing;
 * *off gets TRUE for "off". In med-http-media.c, also used by the calls. */
MedRecordingRegime med_http_booking_regime (MedStore *store, gint64 booking_id,
    gboolean *off);

/* POST /api/v1/bookings and /bookings/{id}/reschedule bodies. */
typedef struct
{
  gint64 case_id; /* bookings only */
  gboolean has_start;
  MedTime start;
  gint64 room_id;
  gint64 mediator_id;
  gint64 interpreter_id;
  gint duration_minutes; /* 0 = default */
} MedBookingRequest;

gboolean med_http_decode_booking (const char *data, gsize len, const char *zone,
    gboolean need_case, MedBookingRequest *out, GError **error);
/* One entity of the import format (docs/import-format.md): what is
 * "rooms", "mediators", "interpreters" or "cases"; the body is one
 * object. Errors name the member path without the import prefix.
 * (transfer full) */
MedImportDoc *med_http_decode_entity (const char *data, gsize len,
    const char *what, const char *zone, GError **error);

/* JSON shapes of the model, in the CLI's --json member names. */
void med_http_json_add_room (JsonBuilder *b, const MedRoom *r);
void med_http_json_add_mediator (JsonBuilder *b, const MedMediator *m,
    const char *zone);
void med_http_json_add_interpreter (JsonBuilder *b, const MedInterpreter *i);
void med_http_json_add_case (JsonBuilder *b, const MedCase *c,
    const char *zone);
void med_http_json_add_party (JsonBuilder *b, const MedParty *p);
void med_http_json_add_booking (JsonBuilder *b, const MedBooking *bk,
    const char *zone);
/* The reasons of a slot, a refused cell or an unplaced case as member:
 * [{"code": "room", "message": "<English>", …its parameters}]. */
void med_http_json_add_reasons (JsonBuilder *b, const char *member,
    GPtrArray *reasons);
void med_http_json_add_slot (JsonBuilder *b, const MedSlot *s,
    const char *zone);
void med_http_json_add_time (JsonBuilder *b, const char *name, MedTime t,
    const char *zone);

/* ---- auth (med-http-auth.c) ---- */

/* Fills r->user from a bearer token or the session cookie. FALSE when the
 * request was answered (401 for a bad token, 429 when rate-limited). */
gboolean med_http_auth_resolve (MedReq *r);
/* The user a credential still stands for (hash: r->session_hash of an
 * earlier request): MED_STORE_ERROR_NOT_FOUND once the token was revoked
 * or expired, the session ended or expired, the user disabled, or when
 * the user is not of the server's centre. (transfer full) */
MedUser *med_http_auth_recheck (MedHttpServer *srv, const char *hash,
    gboolean via_session, GError **error);
/* Answers 401 (API) or redirects to /login (pages) when anonymous, 403
 * when the role is not in the mask (1 << MED_ROLE_*). */
gboolean med_http_require (MedReq *r, guint roles);
/* CSRF check for state changes made with the session cookie: the token
 * from the X-CSRF-Token header or the "csrf" form field. Answers 403. */
gboolean med_http_check_csrf (MedReq *r, GHashTable *form);
/* The access rule of src/service (med_service_may_access_case and
 * _booking) for the caller; answers 403 when it refuses, 404 for a case
 * or booking of another centre. */
gboolean med_http_may_see_case (MedReq *r, gint64 case_id);
gboolean med_http_may_see_booking (MedReq *r, const MedBooking *bk);
/* Whether row id of kind (a path's case, booking, …) is the served
 * centre's; answers 404 as for a missing row when not. */
gboolean med_http_in_centre (MedReq *r, MedStoreOwned kind, gint64 id);
/* Throttles of failed attempts under a key ("join:<address>", …): after
 * login_burst failures each one makes the key wait login_refill seconds,
 * doubling up to 15 minutes; an hour without failures forgets them.
 * rate_allow: TRUE when key may try now, else *retry_after gets the
 * seconds to wait; rate_fail counts (and logs) a failure. */
gboolean med_http_rate_allow (MedHttpServer *srv, const char *key,
    guint *retry_after);
void med_http_rate_fail (MedHttpServer *srv, const char *key);
/* A party's capability link: it works from now until six hours after its
 * session ended, and not at all once revoked; a miss and a revoked link
 * both fail with MED_STORE_ERROR_NOT_FOUND (they must look the same). */
gboolean med_http_join_resolve (MedHttpServer *srv, const char *token,
    MedTime now, gint64 *booking_id, gint64 *party_id, GError **error);
gboolean med_http_secret_equal (const char *a, const char *b);
void med_http_login_get (MedReq *r);
void med_http_login_post (MedReq *r);
void med_http_logout_post (MedReq *r);

#define MED_ROLES_STAFF                                                        \
  ((1u << MED_ROLE_ADMIN) | (1u << MED_ROLE_CLERK) | (1u << MED_ROLE_MEDIATOR))
#define MED_ROLES_OFFICE ((1u << MED_ROLE_ADMIN) | (1u << MED_ROLE_CLERK))
#define MED_ROLES_ADMIN  (1u << MED_ROLE_ADMIN)

/* ---- pages: language, templates, refusals (med-http-render.c) ---- */

/* The language the request's pages are in: ?lang= (kept in a cookie),
 * the cookie, the party's language (med_http_set_party_lang), then
 * Accept-Language, then Chinese. */
MedLang med_http_lang (MedReq *r);
/* The page is for a party whose recorded language is code (Chinese when
 * medsched has no catalogue of it); it shows no staff menu. */
void med_http_set_party_lang (MedReq *r, const char *code);
/* msgid in the request's language. (transfer none) */
const char *med_http_t (MedReq *r, const char *msgid);
/* A translated printf format filled in. (transfer full) */
char *med_http_tf (MedReq *r, const char *msgid, ...);
/* Renders the template name (templates/<name>.html) over ctx in lang. */
gboolean med_http_render (MedLang lang, const char *name, JsonNode *ctx,
    GString *out, GError **error);
/* A page's data with what every page has (language and its switch, title,
 * CSRF token, the signed-in user, the ?msg= notice); add members, then
 * med_http_page_send renders the template name and answers (it frees b).
 * (transfer full) */
JsonBuilder *med_http_page_begin (MedReq *r, const char *title);
void med_http_page_send (MedReq *r, JsonBuilder *b, const char *name,
    guint status);
/* A refusal as a page in the user's language: title and todo NULL take
 * the status's own; what says what happened, detail the server's words. */
void med_http_page_problem (MedReq *r, guint status, const char *title,
    const char *what, const char *todo, const char *detail);
/* JSON members for page data. med_json_text adds <name>_lang too: the
 * language of the value's script ("bo", "zh-Hans") when it is not the
 * page's, for a lang attribute; NULL otherwise. */
void med_json_str (JsonBuilder *b, const char *name, const char *value);
void med_json_int (JsonBuilder *b, const char *name, gint64 value);
void med_json_bool (JsonBuilder *b, const char *name, gboolean value);
void med_json_text (MedReq *r, JsonBuilder *b, const char *name,
    const char *value);
/* GET /static/i18n/<code>.json: the catalogue of one language, msgid →
 * text, for the scripts. */
void med_http_static_catalogue (MedReq *r, const char *file);
/* The login page (med-page-login.c): pre is the login CSRF value, notice
 * an untranslated message id or NULL. */
void med_http_page_login (MedReq *r, guint status, const char *pre,
    const char *next, const char *notice);

/* ---- handlers ---- */

void med_http_api (MedReq *r); /* /api/v1/… (med-http-api.c) */
void med_http_page (MedReq *r); /* HTML pages (med-http-pages.c) */
void med_http_feed (MedReq *r); /* /feeds/<token>.ics (med-http-feeds.c) */
void med_http_invite (MedReq *r, gint64 booking_id);
void med_http_static (MedReq *r); /* /static/<name> (GResource) */

/* ---- recordings and sessions at booking times (med-http-media.c) ---- */

/* GET /api/v1/bookings/{id}/recordings (bk: a booking the caller may see). */
void med_http_api_booking_recordings (MedReq *r, MedBooking *bk);
/* /api/v1/recordings/{id} */
void med_http_api_recording (MedReq *r);
/* /recordings/{id} (playback page) and /recordings/{id}/file */
void med_http_recording_page (MedReq *r);
/* The booking's recordings for the case page: a member "recordings", a
 * list of {id, label, state} (empty when the user may not see them). */
void med_http_media_case_links (MedReq *r, JsonBuilder *b,
    const MedBooking *bk);
/* A private caucus in the booking's room recording (serve's session):
 * on pauses it, off resumes it; a recording (re)started meanwhile starts
 * paused. FALSE (MED_MEDIA_ERROR_STATE) when none runs or it is so
 * already. */
gboolean med_http_media_caucus (MedHttpServer *srv, gint64 booking_id,
    gboolean on, GError **error);
/* The booking's room recording's id while serve records it, else 0. */
gint64 med_http_media_recording_of (MedHttpServer *srv, gint64 booking_id);
/* Starts the booking-time timer when [media] rooms are configured. */
gboolean med_http_media_start (MedHttpServer *srv, GError **error);
/* Stops the timer and every running session (they seal asynchronously). */
void med_http_media_shutdown (MedHttpServer *srv);
/* TRUE while a session has not finished sealing. */
gboolean med_http_media_busy (MedHttpServer *srv);
/* Aborts what still runs and frees everything (before the store closes). */
void med_http_media_free (MedHttpServer *srv);

/* ---- WebRTC signalling (med-http-signal.c) ---- */

/* Registers /ws/join/<token> and /ws/console/<booking id>. */
void med_http_signal_init (MedHttpServer *srv);
/* Ends every call (recorders seal asynchronously, sockets get bye). */
void med_http_signal_shutdown (MedHttpServer *srv);
/* TRUE while a call has not finished sealing. */
gboolean med_http_signal_busy (MedHttpServer *srv);
/* Frees the calls (before the store closes). */
void med_http_signal_free (MedHttpServer *srv);
/* Why the call of bk cannot start now (the console asks after its
 * WebSocket failed: a refused upgrade shows nothing to a browser's
 * script): NULL when nothing stands in the way, else "no_calls" (built
 * without GStreamer), "stopping", "cancelled", "ended" (an hour after
 * the session's end), "call_failed" (the last attempt to open it failed:
 * the server's log says why). */
const char *med_http_signal_why (MedHttpServer *srv, const MedBooking *bk);

/* ---- the board's answers as JSON (med-http-fit.c) ---- */

/* Every MedBlock bit with its word in JSON ("room_busy", …) and its
 * English message id for the pages, in the scheduler's order. */
typedef struct
{
  guint bit;
  const char *word;
  const char *label;
} MedHttpBlockName;

extern const MedHttpBlockName med_http_block_names[];
extern const guint med_http_n_block_names;
/* "fits", "blocked", "too_long", "deadline", "past", "closed". */
const char *med_http_fit_state_word (MedFitState s);
void med_http_json_add_fit_cell (JsonBuilder *b, const MedFitCell *c,
    const char *zone);

/* Helpers shared by API and pages. */
gboolean med_http_parse_id (const char *s, gint64 *out);
MedServiceCtx med_http_service_ctx (MedReq *r);
char *med_http_html_escape (const char *s);
/* Form fields of an application/x-www-form-urlencoded body (415/413
 * answered). (transfer full) */
GHashTable *med_http_request_form (MedReq *r);

G_END_DECLS
