/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-api.c — the JSON API under /api/v1/ (docs/api.md): centre,
 * rooms, mediators, interpreters, cases with their parties (intake),
 * dispatch and status changes, slots, bookings (book, reschedule, cancel),
 * the batch schedule of a day, the agenda, holiday-calendar import, feed
 * links and the audit check.
 *
 * Each handler parses the request, checks the caller's role (a mediator
 * sees and changes only cases holding one of their sessions), calls the
 * store or the service, and answers JSON in the CLI's --json member
 * names. Errors go through med_http_reply_gerror (one mapping). Reads that
 * are asked for often (slots, agenda) are cached per store data version. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

#include <medsched/med-ical.h>
#include <medsched/med-workcal.h>

#include <string.h>

#define IS(r, m) ((r)->method == SOUP_METHOD_##m)

static const char *
zone_of (MedReq *r)
{
  MedCentre *c = med_http_centre (r->srv, NULL);

  return c ? c->zone : "Asia/Shanghai";
}

static void
reply_builder (MedReq *r, guint status, JsonBuilder *b)
{
  med_http_reply_json (r, status, json_builder_get_root (b));
}

static void
reply_method (MedReq *r)
{
  med_http_reply_error (r, 405, "method", "method not allowed here");
}

/* Members "case" and "parties" of an open object. */
static void
add_case_parties (JsonBuilder *b, const MedCase *k, GPtrArray *parties,
    const char *zone)
{
  json_builder_set_member_name (b, "case");
  med_http_json_add_case (b, k, zone);
  json_builder_set_member_name (b, "parties");
  json_builder_begin_array (b);
  for (guint i = 0; i < parties->len; i++)
    med_http_json_add_party (b, g_ptr_array_index (parties, i));
  json_builder_end_array (b);
}

/* Reads the body as a JSON object or answers the error. */
static JsonNode *
body_object (MedReq *r)
{
  GError *error = NULL;
  JsonNode *n = med_http_request_json (r, &error);

  if (n == NULL)
    med_http_reply_gerror (r, error);
  return n;
}

static gboolean
body_bytes (MedReq *r, const char *content_type, GBytes **out)
{
  const char *ct = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (r->msg), NULL);

  if (ct == NULL || g_ascii_strcasecmp (ct, content_type) != 0) {
    med_http_reply_error (r, 415, "unsupported_media_type",
        "send the body as %s", content_type);
    return FALSE;
  }
  *out = soup_message_body_flatten (
      soup_server_message_get_request_body (r->msg));
  return TRUE;
}

static gboolean
state_change (MedReq *r, guint roles)
{
  return med_http_require (r, roles) && med_http_check_csrf (r, NULL);
}

/* ---- centre, resources ---- */

static void
api_centre (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  MedCentre *c;

  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  if ((c = med_http_centre (r->srv, &error)) == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, c->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, c->name);
  json_builder_set_member_name (b, "zone");
  json_builder_add_string_value (b, c->zone);
  json_builder_set_member_name (b, "layers");
  json_builder_add_string_value (b, c->layers);
  json_builder_set_member_name (b, "address");
  json_builder_add_string_value (b, c->address ? c->address : "");
  json_builder_set_member_name (b, "hours");
  json_builder_begin_array (b);
  for (guint i = 0; i < 7; i++) {
    g_autofree char *h = med_day_hours_to_string (&c->hours[i]);

    json_builder_add_string_value (b, h);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "slot_minutes");
  json_builder_add_int_value (b, c->slot_minutes);
  json_builder_set_member_name (b, "default_duration_minutes");
  json_builder_add_int_value (b, c->default_duration_minutes);
  json_builder_set_member_name (b, "min_notice_minutes");
  json_builder_add_int_value (b, c->min_notice_minutes);
  json_builder_end_object (b);
  reply_builder (r, 200, b);
}

static void
api_resource_add (MedReq *r, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (MedImportDoc) doc = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  MedServiceCtx ctx = med_http_service_ctx (r);
  const char *zone = zone_of (r);
  gint64 centre = r->srv->cfg.centre_id;
  gint64 id = 0;
  gsize len = 0;
  const char *data;

  if (!state_change (r, MED_ROLES_OFFICE)
      || !body_bytes (r, "application/json", &body))
    return;
  data = g_bytes_get_data (body, &len);
  doc = med_http_decode_entity (data ? data : "", len, what, zone, &error);
  if (doc == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (strcmp (what, "rooms") == 0) {
    MedRoom *x = g_ptr_array_index (doc->rooms, 0);

    x->centre_id = centre;
    if ((id = med_service_add_room (r->srv->store, &ctx, x, &error)) != 0) {
      x->id = id;
      med_http_json_add_room (b, x);
    }
  } else if (strcmp (what, "mediators") == 0) {
    MedMediator *x = g_ptr_array_index (doc->mediators, 0);

    x->centre_id = centre;
    if ((id = med_service_add_mediator (r->srv->store, &ctx, x, NULL, &error))
        != 0) {
      x->id = id;
      med_http_json_add_mediator (b, x, zone);
    }
  } else if (strcmp (what, "interpreters") == 0) {
    MedInterpreter *x = g_ptr_array_index (doc->interpreters, 0);

    x->centre_id = centre;
    if ((id = med_service_add_interpreter (r->srv->store, &ctx, x, NULL,
             &error))
        != 0) {
      x->id = id;
      med_http_json_add_interpreter (b, x);
    }
  } else {
    MedCase *k = g_ptr_array_index (doc->cases, 0);
    GPtrArray *parties = g_ptr_array_index (doc->case_parties, 0);

    k->centre_id = centre;
    if (k->intake_at == 0)
      k->intake_at = r->now;
    if (k->deadline != 0 && k->deadline <= r->now) {
      med_http_reply_error (r, 422, "invalid", "deadline: in the past");
      return;
    }
    if ((id = med_service_intake (r->srv->store, &ctx, k, parties,
             MED_DEPARTMENT_NONE, &error))
        != 0) {
      g_autoptr (MedCase) saved
          = med_store_get_case (r->srv->store, id, &error);
      g_autoptr (GPtrArray) ps
          = saved ? med_store_list_parties (r->srv->store, id, &error) : NULL;

      if (ps == NULL)
        id = 0;
      else {
        json_builder_begin_object (b);
        add_case_parties (b, saved, ps, zone);
        json_builder_end_object (b);
      }
    }
  }
  if (id == 0) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  reply_builder (r, 201, b);
}

static void
api_resources (MedReq *r, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  gint64 centre = r->srv->cfg.centre_id;

  if (IS (r, POST)) {
    api_resource_add (r, what);
    return;
  }
  if (!IS (r, GET)) {
    reply_method (r);
    return;
  }
  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  if (strcmp (what, "rooms") == 0)
    list = med_store_list_rooms (r->srv->store, centre, &error);
  else if (strcmp (what, "mediators") == 0)
    list = med_store_list_mediators (r->srv->store, centre, &error);
  else
    list = med_store_list_interpreters (r->srv->store, centre, &error);
  if (list == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++) {
    gpointer x = g_ptr_array_index (list, i);

    if (strcmp (what, "rooms") == 0)
      med_http_json_add_room (b, x);
    else if (strcmp (what, "mediators") == 0)
      med_http_json_add_mediator (b, x, zone_of (r));
    else
      med_http_json_add_interpreter (b, x);
  }
  json_builder_end_array (b);
  reply_builder (r, 200, b);
}

/* ---- cases ---- */

static void
api_cases (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  const char *status
      = r->query ? g_hash_table_lookup (r->query, "status") : NULL;
  MedCaseStatus st = 0;

  if (IS (r, POST)) {
    api_resource_add (r, "cases");
    return;
  }
  if (!IS (r, GET)) {
    reply_method (r);
    return;
  }
  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  if (status != NULL && !med_case_status_from_string (status, &st, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  list = med_service_list_cases (r->srv->store, r->user,
      status ? (gint) st : -1, &error);
  if (list == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++) {
    MedCase *k = g_ptr_array_index (list, i);

    med_http_json_add_case (b, k, zone_of (r));
  }
  json_builder_end_array (b);
  reply_builder (r, 200, b);
}

/* The id of the path's case, checked against the caller (the error is
 * answered otherwise). */
static gboolean
path_case_id (MedReq *r, const char *id_text, gint64 *id)
{
  if (!med_http_parse_id (id_text, id)) {
    med_http_reply_error (r, 404, "not_found", "no such case");
    return FALSE;
  }
  /* another centre's case answers as a missing one, before it is read */
  return med_http_may_see_case (r, *id);
}

/* The case of the path, checked against the caller. */
static MedCase *
path_case (MedReq *r, const char *id_text)
{
  g_autoptr (GError) error = NULL;
  MedCase *k;
  gint64 id;

  if (!path_case_id (r, id_text, &id))
    return NULL;
  k = med_store_get_case (r->srv->store, id, &error);
  if (k == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return NULL;
  }
  return k;
}

static void
api_case_get (MedReq *r, MedCase *k)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parties = NULL, bookings = NULL, audit = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const char *zone = zone_of (r);

  if ((parties = med_store_list_parties (r->srv->store, k->id, &error)) == NULL
      || (bookings
             = med_store_list_case_bookings (r->srv->store, k->id, &error))
          == NULL
      || (audit = med_store_list_audit (r->srv->store, "case", k->id, &error))
          == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_object (b);
  add_case_parties (b, k, parties, zone);
  json_builder_set_member_name (b, "bookings");
  json_builder_begin_array (b);
  for (guint i = 0; i < bookings->len; i++)
    med_http_json_add_booking (b, g_ptr_array_index (bookings, i), zone);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "audit");
  json_builder_begin_array (b);
  for (guint i = 0; i < audit->len; i++) {
    MedAuditEntry *e = g_ptr_array_index (audit, i);

    json_builder_begin_object (b);
    med_http_json_add_time (b, "at", e->at, zone);
    json_builder_set_member_name (b, "actor");
    json_builder_add_string_value (b, e->actor);
    json_builder_set_member_name (b, "action");
    json_builder_add_string_value (b, e->action);
    json_builder_set_member_name (b, "detail");
    json_builder_add_string_value (b, e->detail ? e->detail : "");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  reply_builder (r, 200, b);
}

static void
reply_case (MedReq *r, gint64 id, guint status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) k = med_store_get_case (r->srv->store, id, &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (k == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  med_http_json_add_case (b, k, zone_of (r));
  reply_builder (r, status, b);
}

static void
api_case_dispatch (MedReq *r, MedCase *k)
{
  static const char *const allowed[] = { "department", NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  const char *dept = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  MedDepartment d;

  if (!state_change (r, MED_ROLES_OFFICE) || (root = body_object (r)) == NULL)
    return;
  if (!med_http_json_check_members (json_node_get_object (root), allowed,
          &error)
      || !med_http_json_get_string (json_node_get_object (root), "department",
          TRUE, 64, &dept, &error)
      || !med_department_from_string (dept, &d, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (d == MED_DEPARTMENT_NONE) {
    med_http_reply_error (r, 422, "invalid", "department: choose one");
    return;
  }
  if (!med_service_dispatch (r->srv->store, &ctx, k->id, d, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  reply_case (r, k->id, 200);
}

static void
api_case_status (MedReq *r, MedCase *k)
{
  static const char *const allowed[] = { "status", NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  const char *word = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  MedCaseStatus to;

  if (!state_change (r, MED_ROLES_STAFF) || (root = body_object (r)) == NULL)
    return;
  if (!med_http_json_check_members (json_node_get_object (root), allowed,
          &error)
      || !med_http_json_get_string (json_node_get_object (root), "status", TRUE,
          64, &word, &error)
      || !med_case_status_from_string (word, &to, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  /* dispatched, scheduled and intake: 422 "transition" from the service */
  if (!med_service_set_case_status (r->srv->store, &ctx, k->id, to, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  reply_case (r, k->id, 200);
}

static gboolean
query_int (MedReq *r, const char *name, gint64 min, gint64 max, gint64 *out)
{
  const char *s = r->query ? g_hash_table_lookup (r->query, name) : NULL;
  gint64 v;

  if (s == NULL)
    return TRUE;
  if (!g_ascii_string_to_signed (s, 10, min, max, &v, NULL)) {
    med_http_reply_error (r, 422, "invalid",
        "%s: an integer %" G_GINT64_FORMAT "–%" G_GINT64_FORMAT " is expected",
        name, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static const char *
name_in (GPtrArray *list, gint64 id, gsize name_offset)
{
  for (guint i = 0; list && i < list->len; i++) {
    gpointer x = g_ptr_array_index (list, i);

    /* every model struct starts with its gint64 id */
    if (*(gint64 *) x == id)
      return *(const char **) ((guint8 *) x + name_offset);
  }
  return "";
}

static void
api_case_slots (MedReq *r, gint64 case_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) slots = NULL, rooms = NULL, meds = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonGenerator) gen = NULL;
  g_autofree char *key = NULL, *text = NULL;
  const char *from = r->query ? g_hash_table_lookup (r->query, "from") : NULL;
  MedServiceCtx ctx;
  gint64 count = 3, duration = 0;
  MedTime not_before = 0;
  MedCached *c;
  gsize len = 0;

  if (!query_int (r, "count", 1, 50, &count)
      || !query_int (r, "duration", 15, 480, &duration))
    return;
  if (from != NULL
      && !med_time_parse_local (from, zone_of (r), &not_before, &error)) {
    g_prefix_error (&error, "from: ");
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  /* The same question at the same second with the same data: the same
   * answer. */
  key = g_strdup_printf ("slots:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                         ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                         ":%" G_GINT64_FORMAT,
      case_id, not_before, count, duration, r->now);
  if ((c = med_http_cache_get (r->srv, key)) != NULL) {
    med_http_reply_cached (r, c);
    return;
  }
  ctx = med_http_service_ctx (r); /* not for a cached answer */
  slots = med_service_find_slots (r->srv->store, &ctx, case_id, not_before,
      (gint) duration, (guint) count, &error);
  if (slots == NULL
      || (rooms = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < slots->len; i++) {
    MedSlot *s = g_ptr_array_index (slots, i);

    med_http_json_add_slot (b, s, zone_of (r));
  }
  json_builder_end_array (b);
  /* names beside the ids */
  {
    JsonNode *root = json_builder_get_root (b);
    JsonArray *arr = json_node_get_array (root);

    for (guint i = 0; i < slots->len; i++) {
      MedSlot *s = g_ptr_array_index (slots, i);
      JsonObject *o = json_array_get_object_element (arr, i);

      json_object_set_string_member (o, "room",
          name_in (rooms, s->room_id, G_STRUCT_OFFSET (MedRoom, name)));
      json_object_set_string_member (o, "mediator",
          name_in (meds, s->mediator_id, G_STRUCT_OFFSET (MedMediator, name)));
    }
    gen = json_generator_new ();
    json_generator_set_root (gen, root);
    text = json_generator_to_data (gen, &len);
    json_node_unref (root);
  }
  c = med_http_cache_put (r->srv, key,
      g_bytes_new_take (g_steal_pointer (&text), len), "application/json");
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  med_http_reply_cached (r, c);
}

/* ---- the board: where a case fits, its parties ---- */

static gboolean read_body (MedReq *r, GBytes **out);

static gboolean
query_date (MedReq *r, const char *name, gint *y, gint *m, gint *d)
{
  const char *s = r->query ? g_hash_table_lookup (r->query, name) : NULL;

  if (med_date_parse (s, y, m, d))
    return TRUE;
  med_http_reply_error (r, 422, "invalid", "%s: a date like 2026-12-07", name);
  return FALSE;
}

/* The slot's rooms, mediator and interpreter by name beside their ids. */
static void
name_slot (JsonObject *o, const MedSlot *s, GPtrArray *rooms, GPtrArray *meds,
    GPtrArray *interps)
{
  json_object_set_string_member (o, "room",
      name_in (rooms, s->room_id, G_STRUCT_OFFSET (MedRoom, name)));
  json_object_set_string_member (o, "mediator",
      name_in (meds, s->mediator_id, G_STRUCT_OFFSET (MedMediator, name)));
  json_object_set_string_member (o, "interpreter",
      name_in (interps, s->interpreter_id,
          G_STRUCT_OFFSET (MedInterpreter, name)));
}

static void
add_needs (JsonBuilder *b, const MedCaseNeeds *n)
{
  json_builder_set_member_name (b, "needs");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "duration_minutes");
  json_builder_add_int_value (b, n->duration_minutes);
  json_builder_set_member_name (b, "room_kind");
  json_builder_add_string_value (b, med_room_kind_to_string (n->room_kind));
  {
    g_autoptr (MedReason) why = med_reason_new (n->room_kind_why);
    g_autofree char *text = med_i18n_reason (MED_LANG_EN, why);

    json_builder_set_member_name (b, "room_kind_why");
    json_builder_add_string_value (b, text);
    json_builder_set_member_name (b, "room_kind_why_code");
    json_builder_add_string_value (b,
        med_reason_code_to_string (n->room_kind_why));
  }
  json_builder_set_member_name (b, "minors");
  json_builder_add_boolean_value (b, n->minors);
  json_builder_set_member_name (b, "urgent");
  json_builder_add_boolean_value (b, n->urgent);
  json_builder_set_member_name (b, "parties");
  json_builder_add_int_value (b, n->n_parties);
  json_builder_set_member_name (b, "remote_parties");
  json_builder_add_int_value (b, n->n_remote);
  json_builder_set_member_name (b, "languages");
  json_builder_begin_array (b);
  for (guint i = 0; n->languages && n->languages[i]; i++)
    json_builder_add_string_value (b, n->languages[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "needs_interpreter");
  json_builder_add_boolean_value (b, n->needs_interpreter);
  json_builder_end_object (b);
}

/* GET /api/v1/cases/{id}/fit?date=D[&booking=ID][&step=M] */
static void
api_case_fit (MedReq *r, MedCase *k)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedDayFit) fit = NULL;
  g_autoptr (GPtrArray) rooms = NULL, meds = NULL, interps = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_auto (MedCaseNeeds) needs = { 0 };
  MedServiceCtx ctx = med_http_service_ctx (r);
  const char *bk_text
      = r->query ? g_hash_table_lookup (r->query, "booking") : NULL;
  const char *zone = zone_of (r);
  gint64 step = 0, booking = 0;
  gint y, m, d;
  JsonArray *cells;

  if (!query_date (r, "date", &y, &m, &d)
      || !query_int (r, "step", 5, 120, &step))
    return;
  if (bk_text != NULL) {
    g_autoptr (MedBooking) bk = NULL;

    if (!med_http_parse_id (bk_text, &booking)
        || (bk = med_store_get_booking (r->srv->store, booking, NULL)) == NULL
        || bk->case_id != k->id) {
      med_http_reply_error (r, 422, "invalid",
          "booking: one of this case's sessions");
      return;
    }
    if (!med_http_may_see_booking (r, bk))
      return;
  }
  fit = med_service_day_fit (r->srv->store, &ctx, booking ? 0 : k->id, booking,
      y, m, d, (gint) step, &error);
  if (fit == NULL
      || !med_service_case_needs (r->srv->store, &ctx, k->id, &needs, &error)
      || (rooms = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (interps = med_store_list_interpreters (r->srv->store,
              r->srv->cfg.centre_id, &error))
          == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "case_id");
  json_builder_add_int_value (b, k->id);
  json_builder_set_member_name (b, "booking_id");
  if (booking != 0)
    json_builder_add_int_value (b, booking);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "date");
  json_builder_add_string_value (b,
      r->query ? g_hash_table_lookup (r->query, "date") : "");
  json_builder_set_member_name (b, "duration_minutes");
  json_builder_add_int_value (b, fit->duration_minutes);
  json_builder_set_member_name (b, "fits");
  json_builder_add_int_value (b, fit->n_fits);
  add_needs (b, &needs);
  json_builder_set_member_name (b, "cells");
  json_builder_begin_array (b);
  for (guint i = 0; i < fit->cells->len; i++)
    med_http_json_add_fit_cell (b, g_ptr_array_index (fit->cells, i), zone);
  json_builder_end_array (b);
  json_builder_end_object (b);
  {
    JsonNode *root = json_builder_get_root (b);

    cells = json_object_get_array_member (json_node_get_object (root), "cells");
    for (guint i = 0; i < fit->cells->len; i++) {
      MedFitCell *c = g_ptr_array_index (fit->cells, i);

      if (c->slot != NULL)
        name_slot (json_object_get_object_member (
                       json_array_get_object_element (cells, i), "slot"),
            c->slot, rooms, meds, interps);
    }
    med_http_reply_json (r, 200, root);
  }
}

/* A party from a JSON body, with the import format's rules and messages
 * (docs/import-format.md): the body is checked as one object, then read
 * as the one party of a case of the import format. (transfer full) */
static MedParty *
decode_party (const char *data, gsize len, GError **error)
{
  static const char prefix[] = "cases[0].parties[0].";
  g_autoptr (JsonNode) root = med_http_json_parse_object (data, len, error);
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (MedImportDoc) doc = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL, *wrapped = NULL;
  GPtrArray *parties;

  if (root == NULL)
    return NULL;
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  wrapped = g_strdup_printf ("{\"cases\":[{\"number\":\"-\",\"kind\":\"other\","
                             "\"parties\":[%s]}]}",
      text);
  doc = med_import_doc_parse (wrapped, strlen (wrapped), "Asia/Shanghai",
      &local);
  if (doc == NULL) {
    g_set_error_literal (error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
        g_str_has_prefix (local->message, prefix)
            ? local->message + strlen (prefix)
            : local->message);
    return NULL;
  }
  parties = g_ptr_array_index (doc->case_parties, 0);
  return g_ptr_array_steal_index (parties, 0);
}

static void
reply_party (MedReq *r, gint64 case_id, gint64 party_id, guint status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedParty) p
      = med_store_get_party (r->srv->store, case_id, party_id, &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (p == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "party");
  med_http_json_add_party (b, p);
  json_builder_end_object (b);
  reply_builder (r, status, b);
}

/* /api/v1/cases/{id}/parties[/{party}]: GET lists them (staff who may see
 * the case); POST adds one, PUT corrects one, DELETE removes one (clerks
 * and admins), through the service's rules. */
static void
api_case_parties (MedReq *r, MedCase *k, const char *party_text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (MedParty) p = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  gint64 party = 0;
  gsize len = 0;
  const char *data;

  if (party_text == NULL && IS (r, GET)) {
    g_autoptr (GPtrArray) list
        = med_store_list_parties (r->srv->store, k->id, &error);
    g_autoptr (JsonBuilder) b = json_builder_new ();

    if (list == NULL) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    json_builder_begin_array (b);
    for (guint i = 0; i < list->len; i++)
      med_http_json_add_party (b, g_ptr_array_index (list, i));
    json_builder_end_array (b);
    reply_builder (r, 200, b);
    return;
  }
  if (party_text != NULL && !med_http_parse_id (party_text, &party)) {
    med_http_reply_error (r, 404, "not_found", "no such party");
    return;
  }
  if ((party_text == NULL && !IS (r, POST))
      || (party_text != NULL && !IS (r, PUT) && !IS (r, DELETE))) {
    reply_method (r);
    return;
  }
  if (!state_change (r, MED_ROLES_OFFICE))
    return;
  if (IS (r, DELETE)) {
    if (!med_service_remove_party (r->srv->store, &ctx, k->id, party, &error)) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    soup_server_message_set_status (r->msg, 204, NULL);
    return;
  }
  if (!read_body (r, &body))
    return;
  data = g_bytes_get_data (body, &len);
  if ((p = decode_party (data ? data : "", len, &error)) == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (IS (r, POST)) {
    party = med_service_add_party (r->srv->store, &ctx, k->id, p, &error);
    if (party == 0) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    reply_party (r, k->id, party, 201);
    return;
  }
  p->id = party;
  p->case_id = k->id;
  if (!med_service_update_party (r->srv->store, &ctx, p, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  reply_party (r, k->id, party, 200);
}

static void
api_case (MedReq *r)
{
  g_autoptr (MedCase) k = NULL;
  const char *action = r->n_seg >= 5 ? r->seg[4] : NULL;
  gint64 id;

  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  if (r->n_seg > 6 || (r->n_seg == 6 && strcmp (r->seg[4], "parties") != 0)) {
    med_http_reply_error (r, 404, "not_found", "no such resource");
    return;
  }
  if (action != NULL && strcmp (action, "slots") == 0) {
    /* the most asked read needs the case's id only, not its row */
    if (!path_case_id (r, r->seg[3], &id))
      return;
    if (IS (r, GET))
      api_case_slots (r, id);
    else
      reply_method (r);
    return;
  }
  if ((k = path_case (r, r->seg[3])) == NULL)
    return;
  if (action != NULL && strcmp (action, "parties") == 0) {
    api_case_parties (r, k, r->n_seg == 6 ? r->seg[5] : NULL);
    return;
  }
  if (action == NULL) {
    if (IS (r, GET))
      api_case_get (r, k);
    else
      reply_method (r);
  } else if (strcmp (action, "dispatch") == 0) {
    if (IS (r, POST))
      api_case_dispatch (r, k);
    else
      reply_method (r);
  } else if (strcmp (action, "status") == 0) {
    if (IS (r, POST))
      api_case_status (r, k);
    else
      reply_method (r);
  } else if (strcmp (action, "fit") == 0) {
    if (IS (r, GET))
      api_case_fit (r, k);
    else
      reply_method (r);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such resource");
  }
}

/* ---- bookings ---- */

static void
reply_booking (MedReq *r, gint64 id, const MedSlot *slot, guint status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = med_store_get_booking (r->srv->store, id, &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (bk == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "booking");
  med_http_json_add_booking (b, bk, zone_of (r));
  if (slot != NULL && slot->explanation != NULL) {
    json_builder_set_member_name (b, "explanation");
    json_builder_add_string_value (b, slot->explanation);
    med_http_json_add_reasons (b, "reasons", slot->reasons);
  }
  json_builder_end_object (b);
  reply_builder (r, status, b);
}

static gboolean
read_body (MedReq *r, GBytes **out)
{
  return body_bytes (r, "application/json", out);
}

static void
api_book (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (MedSlot) slot = NULL;
  g_autoptr (MedCase) k = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  MedBookingRequest req;
  MedSlot manual = { 0 };
  gsize len = 0;
  const char *data;
  gint64 id;

  if (!state_change (r, MED_ROLES_STAFF) || !read_body (r, &body))
    return;
  data = g_bytes_get_data (body, &len);
  if (!med_http_decode_booking (data ? data : "", len, zone_of (r), TRUE, &req,
          &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  {
    g_autofree char *id_text
        = g_strdup_printf ("%" G_GINT64_FORMAT, req.case_id);

    if ((k = path_case (r, id_text)) == NULL)
      return;
  }
  if (req.has_start) {
    manual.start = req.start;
    manual.room_id = req.room_id;
    manual.mediator_id = req.mediator_id;
    manual.interpreter_id = req.interpreter_id;
    if (r->user->role == MED_ROLE_MEDIATOR
        && req.mediator_id != r->user->mediator_id) {
      med_http_reply_error (r, 403, "forbidden",
          "a mediator books sessions for themselves");
      return;
    }
  }
  id = med_service_book (r->srv->store, &ctx, k->id,
      req.has_start ? &manual : NULL, req.duration_minutes, &slot, &error);
  if (id == 0) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  reply_booking (r, id, slot, 201);
}

static MedBooking *
path_booking (MedReq *r, const char *id_text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autofree char *case_text = NULL;
  gint64 id;

  if (!med_http_parse_id (id_text, &id)) {
    med_http_reply_error (r, 404, "not_found", "no such booking");
    return NULL;
  }
  if (!med_http_in_centre (r, MED_STORE_OF_BOOKING, id))
    return NULL;
  if ((bk = med_store_get_booking (r->srv->store, id, &error)) == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return NULL;
  }
  case_text = g_strdup_printf ("%" G_GINT64_FORMAT, bk->case_id);
  if ((k = path_case (r, case_text)) == NULL
      || !med_http_may_see_booking (r, bk))
    return NULL;
  return g_steal_pointer (&bk);
}

static void
api_reschedule (MedReq *r, MedBooking *old)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (MedSlot) slot = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  MedBookingRequest req;
  MedSlot manual = { 0 };
  gboolean by_hand;
  gsize len = 0;
  const char *data;

  if (!state_change (r, MED_ROLES_STAFF) || !read_body (r, &body))
    return;
  data = g_bytes_get_data (body, &len);
  if (!med_http_decode_booking (data ? data : "", len, zone_of (r), FALSE, &req,
          &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  by_hand
      = req.has_start || req.room_id || req.mediator_id || req.interpreter_id;
  if (by_hand) {
    manual.start = req.has_start ? req.start : old->start;
    manual.room_id = req.room_id;
    manual.mediator_id = req.mediator_id;
    manual.interpreter_id = req.interpreter_id;
    if (r->user->role == MED_ROLE_MEDIATOR && req.mediator_id != 0
        && req.mediator_id != r->user->mediator_id) {
      med_http_reply_error (r, 403, "forbidden",
          "a mediator cannot hand a session to another mediator");
      return;
    }
  }
  if (!med_service_reschedule (r->srv->store, &ctx, old->id,
          by_hand ? &manual : NULL, &slot, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  reply_booking (r, old->id, slot, 200);
}

/* POST …/cancel, and …/undo: the booking just made, cancelled by whoever
 * made it within the service's window (med_service_undo_booking). */
static void
api_cancel (MedReq *r, MedBooking *bk, gboolean undo)
{
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (!state_change (r, MED_ROLES_STAFF))
    return;
  if (!(undo ? med_service_undo_booking : med_service_cancel) (r->srv->store,
          &ctx, bk->id, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  reply_booking (r, bk->id, NULL, 200);
}

static void
api_booking_links (MedReq *r, MedBooking *bk)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parties = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if ((parties = med_store_list_parties (r->srv->store, bk->case_id, &error))
      == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_array (b);
  for (guint i = 0; i < parties->len; i++) {
    MedParty *p = g_ptr_array_index (parties, i);
    g_autofree char *tok
        = med_store_join_token (r->srv->store, bk->id, p->id, &error);
    g_autofree char *url = NULL;

    if (tok == NULL) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "party_id");
    json_builder_add_int_value (b, p->id);
    json_builder_set_member_name (b, "role");
    json_builder_add_string_value (b, med_party_role_to_string (p->role));
    json_builder_set_member_name (b, "path");
    url = g_strconcat ("/join/", tok, NULL);
    json_builder_add_string_value (b, url);
    json_builder_set_member_name (b, "revoked");
    json_builder_add_boolean_value (b,
        med_store_join_revoked (r->srv->store, bk->id, p->id));
    json_builder_set_member_name (b, "url");
    g_free (url);
    url = med_store_join_url (r->srv->store, bk->id, p->id, NULL);
    json_builder_add_string_value (b, url ? url : "");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  reply_builder (r, 200, b);
}

/* A change to one party's link: staff with a CSRF token if by session,
 * and a party id in the path. FALSE when the request was answered. */
static gboolean
link_change (MedReq *r, const char *party_text, gint64 *party)
{
  if (!state_change (r, MED_ROLES_STAFF))
    return FALSE;
  if (med_http_parse_id (party_text, party))
    return TRUE;
  med_http_reply_error (r, 404, "not_found", "no such party");
  return FALSE;
}

/* POST …/links/{party}/send and …/reissue: the party's link sent (again)
 * by SMS or e-mail, or issued again and sent (med-service-sms.c). */
static void
api_booking_link_send (MedReq *r, MedBooking *bk, const char *party_text,
    gboolean reissue)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  MedServiceCtx ctx;
  const char *channel = NULL;
  gint64 party;

  if (!link_change (r, party_text, &party))
    return;
  ctx = med_http_service_ctx (r);
  if (!(reissue ? med_service_reissue_link (r->srv->store, &ctx, bk->id, party,
            &channel, &error)
                : med_service_send_link (r->srv->store, &ctx, bk->id, party,
                    &channel, &error))) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "channel");
  if (channel != NULL)
    json_builder_add_string_value (b, channel);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  reply_builder (r, 200, b);
}

static void
api_booking_link_revoke (MedReq *r, MedBooking *bk, const char *party_text)
{
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  gint64 party;

  if (!link_change (r, party_text, &party))
    return;
  if (!med_http_parse_id (party_text, &party)) {
    med_http_reply_error (r, 404, "not_found", "no such party");
    return;
  }
  if (!med_service_revoke_join (r->srv->store, &ctx, bk->id, party, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  soup_server_message_set_status (r->msg, 204, NULL);
}

/* GET /api/v1/bookings/{id}/call: whether its call can start now, and
 * why not (the console asks when its WebSocket would not open). */
static void
api_booking_call (MedReq *r, MedBooking *bk)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const char *why = med_http_signal_why (r->srv, bk);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ready");
  json_builder_add_boolean_value (b, why == NULL);
  json_builder_set_member_name (b, "reason");
  if (why != NULL)
    json_builder_add_string_value (b, why);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  reply_builder (r, 200, b);
}

static void
api_booking (MedReq *r)
{
  g_autoptr (MedBooking) bk = NULL;
  const char *action = r->n_seg >= 5 ? r->seg[4] : NULL;

  if (!med_http_require (r, MED_ROLES_STAFF) || r->n_seg > 7
      || (bk = path_booking (r, r->seg[3])) == NULL)
    return;
  if (action == NULL) {
    if (IS (r, GET))
      reply_booking (r, bk->id, NULL, 200);
    else
      reply_method (r);
  } else if (strcmp (action, "reschedule") == 0 && r->n_seg == 5) {
    if (IS (r, POST))
      api_reschedule (r, bk);
    else
      reply_method (r);
  } else if (strcmp (action, "cancel") == 0 && r->n_seg == 5) {
    if (IS (r, POST))
      api_cancel (r, bk, FALSE);
    else
      reply_method (r);
  } else if (strcmp (action, "invite.ics") == 0 && r->n_seg == 5) {
    if (IS (r, GET))
      med_http_invite (r, bk->id);
    else
      reply_method (r);
  } else if (strcmp (action, "recordings") == 0 && r->n_seg == 5) {
    med_http_api_booking_recordings (r, bk);
  } else if (strcmp (action, "undo") == 0 && r->n_seg == 5) {
    if (IS (r, POST))
      api_cancel (r, bk, TRUE);
    else
      reply_method (r);
  } else if (strcmp (action, "call") == 0 && r->n_seg == 5) {
    if (IS (r, GET))
      api_booking_call (r, bk);
    else
      reply_method (r);
  } else if (strcmp (action, "links") == 0 && r->n_seg == 5) {
    if (IS (r, GET))
      api_booking_links (r, bk);
    else
      reply_method (r);
  } else if (strcmp (action, "links") == 0 && r->n_seg == 7
      && strcmp (r->seg[6], "revoke") == 0) {
    if (IS (r, POST))
      api_booking_link_revoke (r, bk, r->seg[5]);
    else
      reply_method (r);
  } else if (strcmp (action, "links") == 0 && r->n_seg == 7
      && (strcmp (r->seg[6], "send") == 0
          || strcmp (r->seg[6], "reissue") == 0)) {
    if (IS (r, POST))
      api_booking_link_send (r, bk, r->seg[5],
          strcmp (r->seg[6], "reissue") == 0);
    else
      reply_method (r);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such resource");
  }
}

/* ---- schedule, agenda ---- */

/* A day plan under way: the request waits, paused, while a worker thread
 * searches; the main loop serves other requests meanwhile. */
typedef struct
{
  MedHttpServer *srv;
  SoupServerMessage *msg;
  GCancellable *cancel; /* srv->plans: cancelled once srv is gone */
  char *date;
  char *client;
  gboolean dry_run;
} ScheduleJob;

static void
schedule_job_free (ScheduleJob *j)
{
  g_object_unref (j->msg);
  g_object_unref (j->cancel);
  g_free (j->date);
  g_free (j->client);
  g_free (j);
}

static void
reply_plan (MedReq *r, const char *date, MedPlan *plan, guint booked,
    gboolean dry_run)
{
  g_autoptr (JsonBuilder) b = NULL;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "date");
  json_builder_add_string_value (b, date);
  json_builder_set_member_name (b, "placed");
  json_builder_add_int_value (b, plan->placed);
  json_builder_set_member_name (b, "unplaced");
  json_builder_add_int_value (b, plan->unplaced);
  json_builder_set_member_name (b, "booked");
  json_builder_add_int_value (b, booked);
  json_builder_set_member_name (b, "optimal");
  json_builder_add_boolean_value (b, plan->optimal);
  json_builder_set_member_name (b, "bound");
  json_builder_add_int_value (b, plan->bound);
  json_builder_set_member_name (b, "stopped_by");
  json_builder_add_string_value (b, med_plan_stop_to_string (plan->stop));
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (plan->items, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "case_id");
    json_builder_add_int_value (b, it->case_id);
    if (it->slot != NULL) {
      json_builder_set_member_name (b, "slot");
      med_http_json_add_slot (b, it->slot, zone_of (r));
    } else {
      json_builder_set_member_name (b, "unplaced");
      json_builder_add_string_value (b, it->reason ? it->reason : "");
      med_http_json_add_reasons (b, "reasons", it->reasons);
      if (it->would_unplace != NULL) {
        json_builder_set_member_name (b, "would_unplace");
        json_builder_begin_array (b);
        for (guint k = 0; k < it->would_unplace->len; k++)
          json_builder_add_int_value (b,
              g_array_index (it->would_unplace, gint64, k));
        json_builder_end_array (b);
      }
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  reply_builder (r, dry_run ? 200 : 201, b);
}

static void
schedule_planned_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  ScheduleJob *j = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedPlan) plan = NULL;
  MedReq r = { 0 };
  guint booked = 0;

  if (g_cancellable_is_cancelled (j->cancel)) {
    /* the server was freed: nothing to book into, no one to answer */
    schedule_job_free (j);
    return;
  }
  j->srv->planning = FALSE;
  r.srv = j->srv;
  r.msg = j->msg;
  r.method = SOUP_METHOD_POST;
  r.path = "/api/v1/schedule";
  r.now = med_http_now (j->srv);
  r.client = j->client;
  r.api = TRUE;
  plan = med_service_schedule_day_finish (j->srv->store, res, &booked, &error);
  if (plan == NULL)
    med_http_reply_gerror (&r, g_steal_pointer (&error));
  else
    reply_plan (&r, j->date, plan, booked, j->dry_run);
  soup_server_message_unpause (j->msg);
  schedule_job_free (j);
}

static void
api_schedule (MedReq *r)
{
  static const char *const allowed[]
      = { "date", "dry_run", "time_limit", NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  const char *date = NULL;
  gboolean dry_run = FALSE;
  gint y, m, d;
  MedPlanOptions opts = { 0 };
  JsonNode *limit;
  ScheduleJob *j;

  if (!IS (r, POST)) {
    reply_method (r);
    return;
  }
  if (!state_change (r, MED_ROLES_OFFICE) || (root = body_object (r)) == NULL)
    return;
  if (!med_http_json_check_members (json_node_get_object (root), allowed,
          &error)
      || !med_http_json_get_string (json_node_get_object (root), "date", TRUE,
          16, &date, &error)
      || !med_http_json_get_bool (json_node_get_object (root), "dry_run", FALSE,
          &dry_run, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (!med_date_parse (date, &y, &m, &d)) {
    med_http_reply_error (r, 422, "invalid", "date: YYYY-MM-DD expected");
    return;
  }
  /* "time_limit": seconds of search, a number in (0, 10]: the plan is
   * searched in a worker thread, the request waits that long at most */
  limit = json_object_get_member (json_node_get_object (root), "time_limit");
  if (limit != NULL && !JSON_NODE_HOLDS_NULL (limit)) {
    GType t = JSON_NODE_HOLDS_VALUE (limit) ? json_node_get_value_type (limit)
                                            : G_TYPE_INVALID;

    if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
      opts.time_limit = json_node_get_double (limit);
    if ((t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
        || !(opts.time_limit > 0 && opts.time_limit <= 10)) {
      med_http_reply_error (r, 422, "invalid",
          "time_limit: seconds, a number above 0 and at most 10");
      return;
    }
  }
  /* one plan at a time: a plan takes a core for its time limit, and two
   * plans of one centre would only compete for the same slots */
  if (r->srv->planning) {
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      r->msg),
        "Retry-After", "1");
    med_http_reply_error (r, 503, "busy",
        "another day plan is being made; try again when it is done");
    return;
  }
  j = g_new0 (ScheduleJob, 1);
  j->srv = r->srv;
  j->msg = g_object_ref (r->msg);
  j->cancel = g_object_ref (r->srv->plans);
  j->date = g_strdup (date);
  j->client = g_strdup (r->client);
  j->dry_run = dry_run;
  r->srv->planning = TRUE;
  soup_server_message_pause (r->msg);
  r->paused = TRUE;
  /* the day is read here, on the main thread; the search runs in a
   * worker; the booking, with its re-check, back here in the callback */
  med_service_schedule_day_async (r->srv->store, &ctx, y, m, d, dry_run, &opts,
      j->cancel, schedule_planned_cb, j);
}

static void
api_agenda (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) bookings = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonGenerator) gen = NULL;
  g_autofree char *key = NULL, *text = NULL, *today = NULL;
  const char *from = r->query ? g_hash_table_lookup (r->query, "from") : NULL;
  const char *to = r->query ? g_hash_table_lookup (r->query, "to") : NULL;
  const char *cancelled
      = r->query ? g_hash_table_lookup (r->query, "cancelled") : NULL;
  const char *zone = zone_of (r);
  gint64 mediator = 0;
  gint y1, m1, d1, y2, m2, d2;
  MedTime a, z;
  GDate da, db;
  MedCached *c;
  gsize len = 0;

  if (!IS (r, GET)) {
    reply_method (r);
    return;
  }
  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  if (r->user->role == MED_ROLE_MEDIATOR)
    mediator = r->user->mediator_id;
  if (from == NULL)
    from = today = med_time_format_local (r->now, zone, "%Y-%m-%d");
  if (to == NULL)
    to = from;
  if (!med_date_parse (from, &y1, &m1, &d1)
      || !med_date_parse (to, &y2, &m2, &d2)) {
    med_http_reply_error (r, 422, "invalid",
        "from, to: dates look like 2026-12-07");
    return;
  }
  g_date_clear (&da, 1);
  g_date_clear (&db, 1);
  g_date_set_dmy (&da, d1, m1, y1);
  g_date_set_dmy (&db, d2, m2, y2);
  if (g_date_compare (&db, &da) < 0 || g_date_days_between (&da, &db) > 366) {
    med_http_reply_error (r, 422, "invalid",
        "to must be on or after from, within a year");
    return;
  }
  key = g_strdup_printf ("agenda:%s:%s:%s:%" G_GINT64_FORMAT, from, to,
      cancelled ? "c" : "", mediator);
  if ((c = med_http_cache_get (r->srv, key)) != NULL) {
    med_http_reply_cached (r, c);
    return;
  }
  if (!med_workcal_local_to_utc (zone, y1, m1, d1, 0, &a, &error)
      || !med_workcal_local_to_utc (zone, y2, m2, d2, 24 * 60, &z, &error)
      || (bookings = med_store_list_bookings (r->srv->store,
              r->srv->cfg.centre_id, a, z, cancelled != NULL, &error))
          == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);

    if (mediator != 0 && bk->mediator_id != mediator)
      continue;
    med_http_json_add_booking (b, bk, zone);
  }
  json_builder_end_array (b);
  gen = json_generator_new ();
  {
    JsonNode *root = json_builder_get_root (b);

    json_generator_set_root (gen, root);
    text = json_generator_to_data (gen, &len);
    json_node_unref (root);
  }
  c = med_http_cache_put (r->srv, key,
      g_bytes_new_take (g_steal_pointer (&text), len), "application/json");
  med_http_reply_cached (r, c);
}

/* ---- calendars, import, audit, feed links, me ---- */

static void
api_calendars (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (IS (r, GET)) {
    g_autoptr (GPtrArray) list = NULL;

    if (!med_http_require (r, MED_ROLES_STAFF))
      return;
    if ((list = med_store_list_notices (r->srv->store, &error)) == NULL) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    json_builder_begin_array (b);
    for (guint i = 0; i < list->len; i++) {
      MedNotice *n = g_ptr_array_index (list, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, n->id);
      json_builder_set_member_name (b, "jurisdiction");
      json_builder_add_string_value (b, n->jurisdiction);
      json_builder_set_member_name (b, "layer");
      json_builder_add_string_value (b, med_layer_to_string (n->layer));
      json_builder_set_member_name (b, "year");
      json_builder_add_int_value (b, n->year);
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, n->title);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, n->source);
      json_builder_set_member_name (b, "published");
      json_builder_add_string_value (b, n->published);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    reply_builder (r, 200, b);
  } else if (IS (r, POST)) {
    g_autoptr (GBytes) body = NULL;
    g_autoptr (MedNotice) n = NULL;
    g_autoptr (GPtrArray) one = g_ptr_array_new ();
    MedServiceCtx ctx = med_http_service_ctx (r);
    gsize len = 0;
    const char *data;

    if (!state_change (r, MED_ROLES_OFFICE)
        || !body_bytes (r, "text/calendar", &body))
      return;
    data = g_bytes_get_data (body, &len);
    if (len == 0 || (n = med_ical_parse_notice (data, len, &error)) == NULL) {
      if (error == NULL)
        g_set_error_literal (&error, MED_HTTP_ERROR, MED_HTTP_ERROR_BAD_REQUEST,
            "the calendar is empty");
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    g_ptr_array_add (one, n);
    if (!med_service_import_notices (r->srv->store, &ctx, one, &error)) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_string_value (b, n->id);
    json_builder_set_member_name (b, "jurisdiction");
    json_builder_add_string_value (b, n->jurisdiction);
    json_builder_set_member_name (b, "year");
    json_builder_add_int_value (b, n->year);
    json_builder_set_member_name (b, "days");
    json_builder_add_int_value (b, n->days->len);
    json_builder_end_object (b);
    reply_builder (r, 201, b);
  } else {
    reply_method (r);
  }
}

static void
api_import (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (MedImportDoc) doc = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  MedServiceCtx ctx = med_http_service_ctx (r);
  guint nr = 0, nm = 0, ni = 0, nc = 0;
  gsize len = 0;
  const char *data;

  if (!IS (r, POST)) {
    reply_method (r);
    return;
  }
  if (!state_change (r, MED_ROLES_OFFICE)
      || !body_bytes (r, "application/json", &body))
    return;
  data = g_bytes_get_data (body, &len);
  if (len == 0) {
    med_http_reply_error (r, 400, "bad_request", "the request body is empty");
    return;
  }
  doc = med_import_doc_parse (data, len, zone_of (r), &error);
  if (doc == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  for (guint i = 0; i < doc->cases->len; i++) {
    MedCase *k = g_ptr_array_index (doc->cases, i);

    if (k->intake_at == 0)
      k->intake_at = r->now;
  }
  if (!med_service_import_doc (r->srv->store, &ctx, doc, &nr, &nm, &ni, &nc,
          &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "rooms");
  json_builder_add_int_value (b, nr);
  json_builder_set_member_name (b, "mediators");
  json_builder_add_int_value (b, nm);
  json_builder_set_member_name (b, "interpreters");
  json_builder_add_int_value (b, ni);
  json_builder_set_member_name (b, "cases");
  json_builder_add_int_value (b, nc);
  json_builder_end_object (b);
  reply_builder (r, 201, b);
}

static void
api_audit_verify (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gint64 rows = 0, bad = 0;
  gboolean ok;

  if (!IS (r, GET)) {
    reply_method (r);
    return;
  }
  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  ok = med_store_audit_verify (r->srv->store, &rows, &bad, &error);
  if (!ok && !g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "intact");
  json_builder_add_boolean_value (b, ok);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, rows);
  if (!ok) {
    json_builder_set_member_name (b, "first_bad_row");
    json_builder_add_int_value (b, bad);
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, error->message);
  }
  json_builder_end_object (b);
  reply_builder (r, 200, b);
}

static void
add_feed_link (JsonBuilder *b, const MedFeedLink *l, const char *zone)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, l->id);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, med_feed_link_kind_to_string (l->kind));
  json_builder_set_member_name (b, "ref_id");
  json_builder_add_int_value (b, l->ref_id);
  med_http_json_add_time (b, "created_at", l->created_at, zone);
  med_http_json_add_time (b, "expires_at", l->expires_at, zone);
  json_builder_set_member_name (b, "revoked");
  json_builder_add_boolean_value (b, l->revoked_at != 0);
  json_builder_end_object (b);
}

static void
api_feed_links (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if (r->n_seg == 5 && strcmp (r->seg[4], "revoke") == 0) {
    MedServiceCtx ctx = med_http_service_ctx (r);
    gint64 id;

    if (!IS (r, POST)) {
      reply_method (r);
      return;
    }
    if (!med_http_check_csrf (r, NULL))
      return;
    if (!med_http_parse_id (r->seg[3], &id)) {
      med_http_reply_error (r, 404, "not_found", "no such feed link");
      return;
    }
    if (!med_service_revoke_feed_link (r->srv->store, &ctx, id, &error)) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    soup_server_message_set_status (r->msg, 204, NULL);
    return;
  }
  if (r->n_seg != 3) {
    med_http_reply_error (r, 404, "not_found", "no such resource");
    return;
  }
  if (IS (r, GET)) {
    g_autoptr (GPtrArray) list = med_store_list_feed_links (r->srv->store,
        r->srv->cfg.centre_id, &error);

    if (list == NULL) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    json_builder_begin_array (b);
    for (guint i = 0; i < list->len; i++)
      add_feed_link (b, g_ptr_array_index (list, i), zone_of (r));
    json_builder_end_array (b);
    reply_builder (r, 200, b);
  } else if (IS (r, POST)) {
    static const char *const allowed[] = { "kind", "ref_id", NULL };
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *secret = NULL, *hash = NULL, *path = NULL;
    MedServiceCtx ctx = med_http_service_ctx (r);
    const char *kind_word = NULL;
    MedFeedLinkKind kind;
    gint64 ref = 0, id;

    if (!med_http_check_csrf (r, NULL) || (root = body_object (r)) == NULL)
      return;
    if (!med_http_json_check_members (json_node_get_object (root), allowed,
            &error)
        || !med_http_json_get_string (json_node_get_object (root), "kind", TRUE,
            16, &kind_word, &error)
        || !med_feed_link_kind_from_string (kind_word, &kind, &error)
        || !med_http_json_get_int (json_node_get_object (root), "ref_id", TRUE,
            1, G_MAXINT64, &ref, &error)) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    secret = med_http_new_secret ();
    hash = med_http_hash_secret (secret);
    id = med_service_add_feed_link (r->srv->store, &ctx, kind, ref, hash, 0,
        &error);
    if (id == 0) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    path = g_strconcat ("/feeds/", secret, ".ics", NULL);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, id);
    json_builder_set_member_name (b, "path");
    json_builder_add_string_value (b, path);
    json_builder_end_object (b);
    reply_builder (r, 201, b);
  } else {
    reply_method (r);
  }
}

static void
api_me (MedReq *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, r->user->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, r->user->name);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, med_role_to_string (r->user->role));
  json_builder_set_member_name (b, "mediator_id");
  if (r->user->mediator_id > 0)
    json_builder_add_int_value (b, r->user->mediator_id);
  else
    json_builder_add_null_value (b);
  if (r->via_session) {
    json_builder_set_member_name (b, "csrf");
    json_builder_add_string_value (b, r->csrf);
  }
  json_builder_end_object (b);
  reply_builder (r, 200, b);
}

/* ---- finding cases ---- */

/* POST /api/v1/cases/search: by number, a party's name or phone (in the
 * body, never in a URL: they would reach logs), status, day, mediator;
 * paged. */
static void
api_cases_search (MedReq *r)
{
  static const char *const allowed[]
      = { "q", "status", "date", "mediator_id", "page", "per_page", NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  MedCaseQuery q = { 0 };
  const char *status = NULL, *date = NULL, *zone = zone_of (r);
  gint64 page = 1, per_page = 20;
  guint total = 0;
  JsonObject *o;

  if (!IS (r, POST)) {
    reply_method (r);
    return;
  }
  if (!state_change (r, MED_ROLES_STAFF) || (root = body_object (r)) == NULL)
    return;
  o = json_node_get_object (root);
  q.status = -1;
  if (!med_http_json_check_members (o, allowed, &error)
      || !med_http_json_get_string (o, "q", FALSE, MED_MAX_NAME_BYTES, &q.text,
          &error)
      || !med_http_json_get_string (o, "status", FALSE, 32, &status, &error)
      || !med_http_json_get_string (o, "date", FALSE, 16, &date, &error)
      || !med_http_json_get_int (o, "mediator_id", FALSE, 1, G_MAXINT64,
          &q.mediator_id, &error)
      || !med_http_json_get_int (o, "page", FALSE, 1, 100000, &page, &error)
      || !med_http_json_get_int (o, "per_page", FALSE, 1, 100, &per_page,
          &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (status != NULL) {
    MedCaseStatus st;

    if (!med_case_status_from_string (status, &st, &error)) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    q.status = (gint) st;
  }
  if (date != NULL) {
    gint y, m, d;

    if (!med_date_parse (date, &y, &m, &d)
        || !med_workcal_local_to_utc (zone, y, m, d, 0, &q.from, NULL)
        || !med_workcal_local_to_utc (zone, y, m, d, 24 * 60, &q.to, NULL)) {
      med_http_reply_error (r, 422, "invalid", "date: a date like 2026-12-07");
      return;
    }
  }
  if (q.text != NULL && *q.text == '\0')
    q.text = NULL;
  found = med_service_find_cases (r->srv->store, &ctx, r->user, &q,
      (guint) ((page - 1) * per_page), (guint) per_page, &total, &error);
  if (found == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "total");
  json_builder_add_int_value (b, total);
  json_builder_set_member_name (b, "page");
  json_builder_add_int_value (b, page);
  json_builder_set_member_name (b, "per_page");
  json_builder_add_int_value (b, per_page);
  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < found->len; i++) {
    MedCase *k = g_ptr_array_index (found, i);
    g_autoptr (GPtrArray) parties
        = med_store_list_parties (r->srv->store, k->id, &error);

    if (parties == NULL) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    /* the case with its parties, to tell namesakes apart */
    json_builder_begin_object (b);
    add_case_parties (b, k, parties, zone);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  reply_builder (r, 200, b);
}

void
med_http_api (MedReq *r)
{
  const char *what = r->n_seg >= 3 ? r->seg[2] : "";

  if (r->n_seg == 3 && strcmp (what, "centre") == 0) {
    if (IS (r, GET))
      api_centre (r);
    else
      reply_method (r);
  } else if (r->n_seg == 3
      && (strcmp (what, "rooms") == 0 || strcmp (what, "mediators") == 0
          || strcmp (what, "interpreters") == 0)) {
    api_resources (r, what);
  } else if (r->n_seg == 4 && strcmp (what, "cases") == 0
      && strcmp (r->seg[3], "search") == 0) {
    api_cases_search (r);
  } else if (r->n_seg == 3 && strcmp (what, "cases") == 0) {
    api_cases (r);
  } else if (r->n_seg >= 4 && strcmp (what, "cases") == 0) {
    api_case (r);
  } else if (r->n_seg == 3 && strcmp (what, "bookings") == 0) {
    if (IS (r, POST))
      api_book (r);
    else
      reply_method (r);
  } else if (r->n_seg >= 4 && strcmp (what, "bookings") == 0) {
    api_booking (r);
  } else if (r->n_seg == 3 && strcmp (what, "schedule") == 0) {
    api_schedule (r);
  } else if (r->n_seg == 3 && strcmp (what, "agenda") == 0) {
    api_agenda (r);
  } else if (r->n_seg == 3 && strcmp (what, "calendars") == 0) {
    api_calendars (r);
  } else if (r->n_seg == 3 && strcmp (what, "import") == 0) {
    api_import (r);
  } else if (r->n_seg == 4 && strcmp (what, "audit") == 0
      && strcmp (r->seg[3], "verify") == 0) {
    api_audit_verify (r);
  } else if (r->n_seg >= 3 && strcmp (what, "feed-links") == 0) {
    api_feed_links (r);
  } else if (r->n_seg >= 4 && strcmp (what, "recordings") == 0) {
    med_http_api_recording (r);
  } else if (r->n_seg == 3 && strcmp (what, "me") == 0) {
    if (IS (r, GET))
      api_me (r);
    else
      reply_method (r);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such resource");
  }
}
