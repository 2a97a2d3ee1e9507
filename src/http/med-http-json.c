/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-json.c — JSON in and out of the HTTP server, and the one place
 * where a GError becomes an HTTP status.
 *
 * Request bodies are checked before json-glib sees them (size, UTF-8, no
 * NUL byte, nesting at most MED_HTTP_MAX_DEPTH) and every member's node
 * type is checked before it is read: json-glib 1.6 prints a CRITICAL for a
 * string getter on an object, and silently returns 0 for an integer
 * getter on a string. Entities (rooms, mediators, interpreters, cases with
 * parties) are read by the model's import-document parser, so the API and
 * `medsched import` accept exactly the same values. Errors are
 * {"error":{"code":…,"message":…}}, a conflict with what clashed
 * ({"conflict":{"resource":"room",…}}); a page says the same in the
 * reader's language. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

#include <medsched/med-ical.h>
#include <medsched/med-workcal.h>

#include <math.h>
#include <string.h>

/* ---- responses ---- */

void
med_http_reply_bytes (MedReq *r, guint status, const char *content_type,
    GBytes *body)
{
  SoupMessageBody *out = soup_server_message_get_response_body (r->msg);

  /* the answer shares the bytes (a cached body is not copied) */
  soup_server_message_set_status (r->msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Content-Type", content_type);
  soup_message_body_truncate (out);
  soup_message_body_append_bytes (out, body);
}

void
med_http_reply_text (MedReq *r, guint status, const char *content_type,
    const char *text, gssize len)
{
  soup_server_message_set_status (r->msg, status, NULL);
  soup_server_message_set_response (r->msg, content_type, SOUP_MEMORY_COPY,
      text, len < 0 ? strlen (text) : (gsize) len);
}

void
med_http_reply_json (MedReq *r, guint status, JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  gsize len = 0;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  json_node_unref (node);
  soup_server_message_set_status (r->msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  soup_server_message_set_response (r->msg, "application/json",
      SOUP_MEMORY_TAKE, g_steal_pointer (&text), len);
}

/* The centre's zone for times in errors. */
static const char *
error_zone (MedReq *r)
{
  MedCentre *c = med_http_centre (r->srv, NULL);

  return c != NULL ? c->zone : "Asia/Shanghai";
}

/* The members of a conflict in an API error: what clashed and when, in
 * the API's centre-local times. */
static void
add_conflict (MedReq *r, JsonBuilder *b, const MedStoreConflict *c)
{
  const char *zone = error_zone (r);
  g_autofree char *start
      = med_time_format_local (c->start, zone, "%Y-%m-%dT%H:%M");
  g_autofree char *end = med_time_format_local (c->end, zone, "%Y-%m-%dT%H:%M");

  json_builder_set_member_name (b, "conflict");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resource");
  json_builder_add_string_value (b, med_conflict_kind_to_string (c->kind));
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, c->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, c->name ? c->name : "");
  json_builder_set_member_name (b, "booking_id");
  if (c->booking_id != 0)
    json_builder_add_int_value (b, c->booking_id);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "start");
  json_builder_add_string_value (b, start);
  json_builder_set_member_name (b, "end");
  json_builder_add_string_value (b, end);
  if (c->kind == MED_CONFLICT_ROOM) {
    json_builder_set_member_name (b, "buffer");
    json_builder_add_boolean_value (b, c->buffer);
  }
  if (c->kind == MED_CONFLICT_DAILY_CAP) {
    json_builder_set_member_name (b, "count");
    json_builder_add_int_value (b, c->count);
    json_builder_set_member_name (b, "cap");
    json_builder_add_int_value (b, c->cap);
  }
  json_builder_end_object (b);
}

/* The conflict as a sentence in the reader's language: "温馨调解室一 is
 * taken 2026-12-08 09:00–10:00." (transfer full) */
static char *
conflict_sentence (MedReq *r, const MedStoreConflict *c)
{
  const char *zone = error_zone (r);
  g_autofree char *a = med_time_format_local (c->start, zone, "%Y-%m-%d %H:%M");
  g_autofree char *a_day = med_time_format_local (c->start, zone, "%Y-%m-%d");
  g_autofree char *b_day = med_time_format_local (c->end, zone, "%Y-%m-%d");
  g_autofree char *b = med_time_format_local (c->end, zone,
      g_strcmp0 (a_day, b_day) == 0 ? "%H:%M" : "%Y-%m-%d %H:%M");
  g_autofree char *span = g_strdup_printf ("%s–%s", a, b);
  const char *name = c->name ? c->name : "";

  switch (c->kind) {
    case MED_CONFLICT_ROOM:
      return c->buffer
          ? med_http_tf (r,
              N_ ("%1$s is taken %2$s, and the room needs its setup and "
                  "cleanup time around each session."),
              name, span)
          : med_http_tf (r, N_ ("%1$s is taken %2$s."), name, span);
    case MED_CONFLICT_MEDIATOR:
      return med_http_tf (r, N_ ("Mediator %1$s is in another session %2$s."),
          name, span);
    case MED_CONFLICT_INTERPRETER:
      return med_http_tf (r,
          N_ ("Interpreter %1$s is in another session %2$s."), name, span);
    case MED_CONFLICT_CASE:
      return med_http_tf (r, N_ ("Case %1$s already has a session %2$s."), name,
          span);
    case MED_CONFLICT_PARTY:
      return med_http_tf (r,
          N_ ("A party of case %1$s has a session in another case %2$s."), name,
          span);
    case MED_CONFLICT_LEAVE:
      return med_http_tf (r, N_ ("Mediator %1$s is on leave %2$s."), name,
          span);
    case MED_CONFLICT_DAILY_CAP:
    default:
      return med_http_tf (r,
          N_ ("Mediator %1$s already has %2$d sessions on %3$s (at most %4$d "
              "a day)."),
          name, c->count, a_day, c->cap);
  }
}

/* reasons (may be NULL): a scheduler's refusal, as codes in the API and
 * in the reader's language on a page. */
static void
reply_error_full (MedReq *r, guint status, const char *code,
    const char *message, const MedStoreConflict *conflict, GPtrArray *reasons)
{
  if (r->api) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "error");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "code");
    json_builder_add_string_value (b, code);
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, message);
    if (conflict != NULL)
      add_conflict (r, b, conflict);
    if (reasons != NULL)
      med_http_json_add_reasons (b, "reasons", reasons);
    json_builder_end_object (b);
    json_builder_end_object (b);
    med_http_reply_json (r, status, json_builder_get_root (b));
  } else {
    /* a page in the reader's language: what happened (a conflict says
     * what clashed and when), what to do, and the server's own words as
     * the detail */
    g_autofree char *what = conflict != NULL ? conflict_sentence (r, conflict)
        : reasons != NULL ? med_i18n_reasons (med_http_lang (r), reasons)
                          : NULL;

    med_http_page_problem (r, status, NULL, what, NULL, message);
  }
}

static void
reply_error_text (MedReq *r, guint status, const char *code,
    const char *message)
{
  reply_error_full (r, status, code, message, NULL, NULL);
}

void
med_http_reply_error (MedReq *r, guint status, const char *code,
    const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (!g_utf8_validate (msg, -1, NULL)) {
    g_free (msg);
    msg = g_strdup ("invalid request");
  }
  reply_error_text (r, status, code, msg);
}

guint
med_http_status_for_error (const GError *e, const char **code)
{
  if (e->domain == MED_HTTP_ERROR) {
    static const struct
    {
      guint status;
      const char *code;
    } map[] = {
      [MED_HTTP_ERROR_BAD_REQUEST] = { 400, "bad_request" },
      [MED_HTTP_ERROR_UNAUTHORIZED] = { 401, "unauthorized" },
      [MED_HTTP_ERROR_FORBIDDEN] = { 403, "forbidden" },
      [MED_HTTP_ERROR_NOT_FOUND] = { 404, "not_found" },
      [MED_HTTP_ERROR_METHOD] = { 405, "method" },
      [MED_HTTP_ERROR_TOO_LARGE] = { 413, "too_large" },
      [MED_HTTP_ERROR_MEDIA_TYPE] = { 415, "unsupported_media_type" },
      [MED_HTTP_ERROR_INVALID] = { 422, "invalid" },
      [MED_HTTP_ERROR_RATE] = { 429, "rate_limited" },
      [MED_HTTP_ERROR_CONFIG] = { 500, "internal" },
    };

    if ((guint) e->code < G_N_ELEMENTS (map)) {
      *code = map[e->code].code;
      return map[e->code].status;
    }
  } else if (e->domain == MED_STORE_ERROR) {
    switch (e->code) {
      case MED_STORE_ERROR_NOT_FOUND:
        *code = "not_found";
        return 404;
      case MED_STORE_ERROR_CONFLICT:
        *code = "conflict";
        return 409;
      case MED_STORE_ERROR_BUSY:
        *code = "busy";
        return 503;
      case MED_STORE_ERROR_UNAVAILABLE:
        /* the database is failing over or out of reach: try again */
        *code = "unavailable";
        return 503;
      case MED_STORE_ERROR_UNCERTAIN:
        /* the connection went during COMMIT: it may have happened, so
         * look before trying again */
        *code = "uncertain";
        return 503;
      case MED_STORE_ERROR_INVALID:
        *code = "invalid";
        return 422;
      default:
        break;
    }
  } else if (e->domain == MED_SCHEDULER_ERROR) {
    switch (e->code) {
      case MED_SCHEDULER_ERROR_CONFLICT:
        *code = "conflict";
        return 409;
      case MED_SCHEDULER_ERROR_NO_SLOT:
        *code = "no_slot";
        return 422;
      case MED_SCHEDULER_ERROR_UNPUBLISHED:
        *code = "calendar_unpublished";
        return 422;
      default:
        *code = "invalid";
        return 422;
    }
  } else if (e->domain == MED_SERVICE_ERROR) {
    *code = e->code == MED_SERVICE_ERROR_STATE ? "case_state" : "invalid";
    return 422;
  } else if (e->domain == MED_MODEL_ERROR) {
    *code = e->code == MED_MODEL_ERROR_TRANSITION ? "transition" : "invalid";
    return 422;
  } else if (e->domain == MED_WORKCAL_ERROR) {
    *code = e->code == MED_WORKCAL_ERROR_UNPUBLISHED ? "calendar_unpublished"
                                                     : "invalid";
    return 422;
  } else if (e->domain == MED_ICAL_ERROR) {
    if (e->code == MED_ICAL_ERROR_TOO_LARGE) {
      *code = "too_large";
      return 413;
    }
    *code = "invalid_calendar";
    return 422;
  }
  *code = "internal";
  return 500;
}

void
med_http_reply_gerror (MedReq *r, GError *error)
{
  const char *code = "internal";
  guint status = med_http_status_for_error (error, &code);

  if (status == 503)
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      r->msg),
        "Retry-After", "1");
  if (status >= 500 && status != 503) {
    /* The message may name files or SQL: it goes to the log, not out. */
    g_warning ("%s %s: %s", r->method, r->api ? "api" : "page", error->message);
    reply_error_text (r, status, code, "internal error");
  } else {
    reply_error_full (r, status, code, error->message,
        med_store_error_get_conflict (error),
        med_scheduler_error_get_reasons (error));
  }
  g_error_free (error);
}

static gboolean
etag_matches (const char *header, const char *etag)
{
  g_auto (GStrv) tags = NULL;
  g_autofree char *h = NULL;

  if (header == NULL)
    return FALSE;
  h = g_strdup (header);
  if (strcmp (g_strstrip (h), "*") == 0)
    return TRUE;
  tags = g_strsplit (header, ",", 64);
  for (guint i = 0; tags[i]; i++) {
    if (strcmp (g_strstrip (tags[i]), etag) == 0)
      return TRUE;
  }
  return FALSE;
}

void
med_http_reply_cached (MedReq *r, const MedCached *c)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (r->msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (r->msg);

  soup_message_headers_replace (resp, "ETag", c->etag);
  if (etag_matches (soup_message_headers_get_one (req, "If-None-Match"),
          c->etag)) {
    soup_server_message_set_status (r->msg, 304, NULL);
    return;
  }
  med_http_reply_bytes (r, 200, c->content_type, c->body);
}

/* ---- JSON requests ---- */

/* Size, encoding and nesting, before any parser runs. */
static gboolean
precheck (const char *data, gsize len, GError **error)
{
  gboolean in_string = FALSE, escaped = FALSE, closed = FALSE;
  int depth = 0;

  if (len == 0) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
        "the request body is empty");
    return FALSE;
  }
  if (memchr (data, '\0', len) != NULL
      || !g_utf8_validate_len (data, len, NULL)) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
        "the request body is not valid UTF-8");
    return FALSE;
  }
  for (gsize i = 0; i < len; i++) {
    char c = data[i];

    if (closed) {
      /* one value per body: json-glib would accept "{…}{…}" */
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
            "the request body must be one JSON object");
        return FALSE;
      }
      continue;
    }
    if (in_string) {
      /* RFC 8259: control characters inside strings must be escaped;
       * json-glib 1.6 also leaks the half-built object when it meets one */
      if ((unsigned char) c < 0x20) {
        g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
            "the request body has a raw control character in a string");
        return FALSE;
      }
      /* "\u0000": json-glib keeps the string only up to it, so "a\u0000b"
       * would be stored as "a" without a word */
      if (escaped && c == 'u' && i + 4 < len
          && strncmp (data + i + 1, "0000", 4) == 0) {
        g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
            "the request body has a NUL character (\\u0000) in a string");
        return FALSE;
      }
      if (escaped)
        escaped = FALSE;
      else if (c == '\\')
        escaped = TRUE;
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > MED_HTTP_MAX_DEPTH) {
        g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
            "JSON nested deeper than %d levels", MED_HTTP_MAX_DEPTH);
        return FALSE;
      }
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        closed = TRUE;
    }
  }
  return TRUE;
}

JsonNode *
med_http_json_parse_object (const char *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (!precheck (data, len, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local)) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
        "the request body is not JSON: %s", local->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
        "the request body must be one JSON object");
    return NULL;
  }
  return json_node_ref (root);
}

static gboolean
content_type_is (MedReq *r, const char *want)
{
  const char *ct = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (r->msg), NULL);

  return ct != NULL && g_ascii_strcasecmp (ct, want) == 0;
}

JsonNode *
med_http_request_json (MedReq *r, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (r->msg);
  g_autoptr (GBytes) bytes = NULL;
  gsize len = 0;
  const char *data;

  if (!content_type_is (r, "application/json")) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_MEDIA_TYPE,
        "send the body as application/json");
    return NULL;
  }
  bytes = soup_message_body_flatten (body);
  data = g_bytes_get_data (bytes, &len);
  if (len > r->srv->cfg.max_body_bytes) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_TOO_LARGE,
        "the request body is over the limit");
    return NULL;
  }
  return med_http_json_parse_object (data ? data : "", len, error);
}

GHashTable *
med_http_request_form (MedReq *r)
{
  SoupMessageBody *body = soup_server_message_get_request_body (r->msg);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  const char *data;

  if (!content_type_is (r, "application/x-www-form-urlencoded")) {
    med_http_reply_error (r, 415, "unsupported_media_type",
        "send the form as application/x-www-form-urlencoded");
    return NULL;
  }
  bytes = soup_message_body_flatten (body);
  data = g_bytes_get_data (bytes, &len);
  if (len > r->srv->cfg.max_body_bytes) {
    med_http_reply_error (r, 413, "too_large", "the form is over the limit");
    return NULL;
  }
  text = g_strndup (data ? data : "", len);
  if (strlen (text) != len || !g_utf8_validate (text, -1, NULL)) {
    med_http_reply_error (r, 400, "bad_request", "the form is not UTF-8");
    return NULL;
  }
  return soup_form_decode (text);
}

gboolean
med_http_json_check_members (JsonObject *o, const char *const *allowed,
    GError **error)
{
  JsonObjectIter it;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&it, o);
  while (json_object_iter_next (&it, &name, &node)) {
    if (!g_strv_contains (allowed, name)) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
          "%s: unknown member",
          g_utf8_validate (name, -1, NULL) && strlen (name) < 64 ? name
                                                                 : "(name)");
      return FALSE;
    }
  }
  return TRUE;
}

static JsonNode *
member (JsonObject *o, const char *name, gboolean required, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n)) {
    if (required)
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
          "%s: required", name);
    return NULL;
  }
  return n;
}

gboolean
med_http_json_get_int (JsonObject *o, const char *name, gboolean required,
    gint64 min, gint64 max, gint64 *out, GError **error)
{
  JsonNode *n = member (o, name, required, error);
  gint64 v;

  if (n == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        "%s: an integer is expected", name);
    return FALSE;
  }
  v = json_node_get_int (n);
  if (v < min || v > max) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        "%s: out of range (%" G_GINT64_FORMAT "–%" G_GINT64_FORMAT ")", name,
        min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

gboolean
med_http_json_get_string (JsonObject *o, const char *name, gboolean required,
    gsize max_bytes, const char **out, GError **error)
{
  JsonNode *n = member (o, name, required, error);
  const char *s;

  if (n == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        "%s: a string is expected", name);
    return FALSE;
  }
  s = json_node_get_string (n);
  if (!med_validate_text (s, max_bytes, FALSE, FALSE, name, NULL)) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        "%s: empty, too long or holds control characters", name);
    return FALSE;
  }
  *out = s;
  return TRUE;
}

gboolean
med_http_json_get_bool (JsonObject *o, const char *name, gboolean required,
    gboolean *out, GError **error)
{
  JsonNode *n = member (o, name, required, error);

  if (n == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_BOOLEAN) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        "%s: true or false is expected", name);
    return FALSE;
  }
  *out = json_node_get_boolean (n);
  return TRUE;
}

gboolean
med_http_decode_booking (const char *data, gsize len, const char *zone,
    gboolean need_case, MedBookingRequest *out, GError **error)
{
  static const char *const allowed[] = { "case_id", "start", "room_id",
    "mediator_id", "interpreter_id", "duration_minutes", NULL };
  static const char *const allowed_move[]
      = { "start", "room_id", "mediator_id", "interpreter_id", NULL };
  g_autoptr (JsonNode) root = med_http_json_parse_object (data, len, error);
  JsonObject *o;
  const char *start = NULL;
  gint64 duration = 0;
  GError *local = NULL;

  memset (out, 0, sizeof *out);
  if (root == NULL)
    return FALSE;
  o = json_node_get_object (root);
  if (!med_http_json_check_members (o, need_case ? allowed : allowed_move,
          error)
      || (need_case
          && !med_http_json_get_int (o, "case_id", TRUE, 1, G_MAXINT64,
              &out->case_id, error))
      || !med_http_json_get_string (o, "start", FALSE, 64, &start, error)
      || !med_http_json_get_int (o, "room_id", FALSE, 1, G_MAXINT64,
          &out->room_id, error)
      || !med_http_json_get_int (o, "mediator_id", FALSE, 1, G_MAXINT64,
          &out->mediator_id, error)
      || !med_http_json_get_int (o, "interpreter_id", FALSE, 1, G_MAXINT64,
          &out->interpreter_id, error)
      || !med_http_json_get_int (o, "duration_minutes", FALSE, 15, 480,
          &duration, error))
    return FALSE;
  out->duration_minutes = (gint) duration;
  if (start != NULL) {
    if (!med_time_parse_local (start, zone, &out->start, &local)) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID, "start: %s",
          local->message);
      g_error_free (local);
      return FALSE;
    }
    out->has_start = TRUE;
  }
  if (need_case && !out->has_start
      && (out->room_id || out->mediator_id || out->interpreter_id)) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        "room_id, mediator_id and interpreter_id need start");
    return FALSE;
  }
  if (need_case && out->has_start && (!out->room_id || !out->mediator_id)) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        "a booking at a given start needs room_id and mediator_id");
    return FALSE;
  }
  return TRUE;
}

MedImportDoc *
med_http_decode_entity (const char *data, gsize len, const char *what,
    const char *zone, GError **error)
{
  g_autoptr (JsonNode) root = med_http_json_parse_object (data, len, error);
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (GString) doc = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *prefix = NULL;
  MedImportDoc *d;

  if (root == NULL)
    return NULL;
  /* The body parsed as exactly one object: regenerated, it can only ever
   * be that one array element of the wrapper. */
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  doc = g_string_new ("{\"");
  g_string_append (doc, what);
  g_string_append (doc, "\":[");
  g_string_append (doc, text);
  g_string_append (doc, "]}");
  d = med_import_doc_parse (doc->str, doc->len, zone, &local);
  if (d != NULL)
    return d;
  prefix = g_strdup_printf ("%s[0].", what);
  g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
      g_str_has_prefix (local->message, prefix)
          ? local->message + strlen (prefix)
          : local->message);
  return NULL;
}

/* ---- JSON shapes ---- */

void
med_http_json_add_time (JsonBuilder *b, const char *name, MedTime t,
    const char *zone)
{
  json_builder_set_member_name (b, name);
  if (t == 0) {
    json_builder_add_null_value (b);
  } else {
    g_autofree char *s = med_time_format_local (t, zone, "%Y-%m-%dT%H:%M");

    json_builder_add_string_value (b, s);
  }
}

static void
add_words (JsonBuilder *b, const char *name, char *comma_list)
{
  g_auto (GStrv) v = NULL;

  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  if (comma_list != NULL && *comma_list) {
    v = g_strsplit (comma_list, ",", -1);
    for (guint i = 0; v[i]; i++)
      json_builder_add_string_value (b, v[i]);
  }
  json_builder_end_array (b);
  g_free (comma_list);
}

static void
add_strv (JsonBuilder *b, const char *name, char **v)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; v && v[i]; i++)
    json_builder_add_string_value (b, v[i]);
  json_builder_end_array (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
add_str (JsonBuilder *b, const char *name, const char *v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, v ? v : "");
}

static void
add_id_or_null (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  if (v > 0)
    json_builder_add_int_value (b, v);
  else
    json_builder_add_null_value (b);
}

void
med_http_json_add_room (JsonBuilder *b, const MedRoom *r)
{
  json_builder_begin_object (b);
  add_int (b, "id", r->id);
  add_str (b, "name", r->name);
  add_str (b, "kind", med_room_kind_to_string (r->kind));
  add_int (b, "capacity", r->capacity);
  add_words (b, "features", med_room_features_to_string (r->features));
  add_int (b, "setup_minutes", r->setup_minutes);
  add_int (b, "cleanup_minutes", r->cleanup_minutes);
  json_builder_end_object (b);
}

void
med_http_json_add_mediator (JsonBuilder *b, const MedMediator *m,
    const char *zone)
{
  json_builder_begin_object (b);
  add_int (b, "id", m->id);
  add_str (b, "name", m->name);
  add_strv (b, "languages", m->languages);
  add_words (b, "specialties", med_specialties_to_string (m->specialties));
  add_int (b, "daily_cap", m->daily_cap);
  json_builder_set_member_name (b, "leave");
  json_builder_begin_array (b);
  for (guint i = 0; m->leave && i < m->leave->len; i++) {
    MedInterval *iv = &g_array_index (m->leave, MedInterval, i);

    json_builder_begin_object (b);
    med_http_json_add_time (b, "start", iv->start, zone);
    med_http_json_add_time (b, "end", iv->end, zone);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

void
med_http_json_add_interpreter (JsonBuilder *b, const MedInterpreter *i)
{
  json_builder_begin_object (b);
  add_int (b, "id", i->id);
  add_str (b, "name", i->name);
  add_strv (b, "pairs", i->pairs);
  json_builder_end_object (b);
}

void
med_http_json_add_case (JsonBuilder *b, const MedCase *c, const char *zone)
{
  json_builder_begin_object (b);
  add_int (b, "id", c->id);
  add_str (b, "number", c->number);
  add_str (b, "kind", med_case_kind_to_string (c->kind));
  add_str (b, "status", med_case_status_to_string (c->status));
  add_str (b, "department", med_department_to_string (c->department));
  json_builder_set_member_name (b, "minors");
  json_builder_add_boolean_value (b, c->minors);
  json_builder_set_member_name (b, "urgent");
  json_builder_add_boolean_value (b, c->urgent);
  med_http_json_add_time (b, "intake_at", c->intake_at, zone);
  med_http_json_add_time (b, "deadline", c->deadline, zone);
  add_int (b, "duration_minutes", c->duration_minutes);
  add_str (b, "summary", c->summary);
  json_builder_end_object (b);
}

void
med_http_json_add_party (JsonBuilder *b, const MedParty *p)
{
  json_builder_begin_object (b);
  add_int (b, "id", p->id);
  add_str (b, "name", p->name);
  add_str (b, "role", med_party_role_to_string (p->role));
  add_str (b, "language", p->language);
  add_str (b, "attendance", med_attendance_to_string (p->attendance));
  add_str (b, "contact", p->contact);
  json_builder_end_object (b);
}

void
med_http_json_add_booking (JsonBuilder *b, const MedBooking *bk,
    const char *zone)
{
  json_builder_begin_object (b);
  add_int (b, "id", bk->id);
  add_int (b, "case_id", bk->case_id);
  add_int (b, "room_id", bk->room_id);
  add_int (b, "mediator_id", bk->mediator_id);
  add_id_or_null (b, "interpreter_id", bk->interpreter_id);
  med_http_json_add_time (b, "start", bk->start, zone);
  med_http_json_add_time (b, "end", bk->end, zone);
  add_str (b, "mode", med_booking_mode_to_string (bk->mode));
  add_str (b, "status", med_booking_status_to_string (bk->status));
  add_str (b, "uid", bk->uid);
  add_int (b, "sequence", bk->sequence);
  json_builder_end_object (b);
}

void
med_http_json_add_slot (JsonBuilder *b, const MedSlot *s, const char *zone)
{
  json_builder_begin_object (b);
  med_http_json_add_time (b, "start", s->start, zone);
  med_http_json_add_time (b, "end", s->end, zone);
  add_int (b, "room_id", s->room_id);
  add_str (b, "room_kind", med_room_kind_to_string (s->room_kind));
  add_int (b, "mediator_id", s->mediator_id);
  add_id_or_null (b, "interpreter_id", s->interpreter_id);
  add_str (b, "mode", med_booking_mode_to_string (s->mode));
  json_builder_set_member_name (b, "fallback");
  json_builder_add_boolean_value (b, s->fallback);
  add_str (b, "explanation", s->explanation);
  med_http_json_add_reasons (b, "reasons", s->reasons);
  json_builder_end_object (b);
}

/* A reason's numbers by name, as its code reads them (med-scheduler.h). */
static void
add_reason_numbers (JsonBuilder *b, const MedReason *r)
{
  static const struct
  {
    MedReasonCode code;
    const char *a, *b; /* NULL: not used */
    gboolean a_flag, b_flag;
  } numbers[] = {
    { MED_REASON_CAPACITY, "capacity", "in_person", FALSE, FALSE },
    { MED_REASON_EARLIEST, "interpreter", NULL, TRUE, FALSE },
    { MED_REASON_NO_ROOM_KIND, "video", NULL, TRUE, FALSE },
    { MED_REASON_NO_CAPACITY, "in_person", NULL, FALSE, FALSE },
    { MED_REASON_CLOSED, "closed_days", "checked_days", FALSE, FALSE },
    { MED_REASON_ROOM_UNSUITED, "in_person", "video", FALSE, TRUE },
    { MED_REASON_MEDIATOR_UNSUITED, "with_interpreter", "no_specialty", TRUE,
        TRUE },
    { MED_REASON_OUTSIDE_HOURS, "whole_day", NULL, TRUE, FALSE },
    { MED_REASON_CAP_REACHED, "cap", NULL, FALSE, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++) {
    if (numbers[i].code != r->code)
      continue;
    json_builder_set_member_name (b, numbers[i].a);
    if (numbers[i].a_flag)
      json_builder_add_boolean_value (b, r->a != 0);
    else
      json_builder_add_int_value (b, r->a);
    if (numbers[i].b != NULL) {
      json_builder_set_member_name (b, numbers[i].b);
      if (numbers[i].b_flag)
        json_builder_add_boolean_value (b, r->b != 0);
      else
        json_builder_add_int_value (b, r->b);
    }
  }
}

void
med_http_json_add_reasons (JsonBuilder *b, const char *member,
    GPtrArray *reasons)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; reasons != NULL && i < reasons->len; i++) {
    const MedReason *r = reasons->pdata[i];
    g_autofree char *message = med_i18n_reason (MED_LANG_EN, r);

    json_builder_begin_object (b);
    add_str (b, "code", med_reason_code_to_string (r->code));
    add_str (b, "message", message);
    switch (r->code) {
      case MED_REASON_ROOM:
      case MED_REASON_ROOM_UNSUITED:
        add_str (b, "cause", med_reason_code_to_string (r->cause));
        /* fall through */
      case MED_REASON_FALLBACK_PLAN:
      case MED_REASON_NO_ROOM_KIND:
      case MED_REASON_NO_CAPACITY:
        add_str (b, "room_kind", med_room_kind_to_string (r->kind));
        break;
      case MED_REASON_FALLBACK_FULL:
        add_str (b, "room_kind", med_room_kind_to_string (r->kind));
        add_str (b, "instead", med_room_kind_to_string (r->other_kind));
        break;
      case MED_REASON_MEDIATOR:
      case MED_REASON_NO_SPECIALTY:
        add_str (b, "case_kind", med_case_kind_to_string (r->case_kind));
        break;
      default:
        break;
    }
    if (r->code == MED_REASON_ROOM_UNSUITED)
      add_str (b, "needs", med_room_kind_to_string (r->other_kind));
    if (r->name != NULL)
      add_str (b, "name", r->name);
    if (r->name2 != NULL)
      add_str (b, "mediator", r->name2);
    if (r->words != NULL)
      add_str (b, r->code == MED_REASON_OTHER ? "text" : "value", r->words);
    add_reason_numbers (b, r);
    if (r->list != NULL) {
      json_builder_set_member_name (b, "cases");
      json_builder_begin_array (b);
      for (guint k = 0; r->list[k] != NULL; k++)
        json_builder_add_string_value (b, r->list[k]);
      json_builder_end_array (b);
    }
    if (r->case_ids != NULL) {
      json_builder_set_member_name (b, "case_ids");
      json_builder_begin_array (b);
      for (guint k = 0; k < r->case_ids->len; k++)
        json_builder_add_int_value (b, g_array_index (r->case_ids, gint64, k));
      json_builder_end_array (b);
    }
    if (r->sub != NULL)
      med_http_json_add_reasons (b, "because", r->sub);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}
