/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-booking.c — a session's pages and actions: the Move form
 * (what the case needs, where the session is, a cell chosen on the board
 * prefilled; a finished session refused), the mediator's console of a
 * remote session (templates/move.html, console.html), and move, cancel,
 * undo and revoke-link posted from pages. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

/* Seconds a party may wait before the waiting room and the console say
 * so (MEDSCHED_WAIT_ALERT_SECONDS overrides it for tests). */
guint
med_page_wait_alert_seconds (void)
{
  const char *v = g_getenv ("MEDSCHED_WAIT_ALERT_SECONDS");
  guint64 n = 600;

  if (v != NULL && !g_ascii_string_to_unsigned (v, 10, 1, 86400, &n, NULL))
    n = 600;
  return (guint) n;
}

void
med_page_move_get (MedReq *r, MedBooking *bk)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL, meds = NULL, interps = NULL;
  g_autoptr (MedCase) k = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  const char *zone = med_page_zone (r);
  const char *q_start
      = r->query ? g_hash_table_lookup (r->query, "start") : NULL;
  const char *q_room = r->query ? g_hash_table_lookup (r->query, "room") : NULL;
  const char *q_med
      = r->query ? g_hash_table_lookup (r->query, "mediator") : NULL;
  const char *q_int
      = r->query ? g_hash_table_lookup (r->query, "interpreter") : NULL;
  g_autofree char *start = NULL, *now_when = NULL, *date = NULL;
  g_autofree char *board = NULL;
  gint64 room = bk->room_id, med = bk->mediator_id, interp = bk->interpreter_id;
  MedTime t;
  JsonBuilder *b;

  if (!med_service_may_move (bk, &ctx, &error)) {
    r->api = FALSE;
    med_http_page_problem (r, 409, T ("This session cannot be moved"),
        bk->status == MED_BOOKING_STATUS_CONFIRMED
            ? T ("It has taken place: a finished session stays where it "
                 "was.")
            : T ("It has been cancelled."),
        NULL, error->message);
    return;
  }
  if ((rooms
          = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id, &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (interps = med_store_list_interpreters (r->srv->store,
              r->srv->cfg.centre_id, &error))
          == NULL
      || (k = med_store_get_case (r->srv->store, bk->case_id, &error))
          == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  /* a cell chosen on the board comes prefilled */
  if (q_start != NULL && med_time_parse_local (q_start, zone, &t, NULL))
    start = med_time_format_local (t, zone, "%Y-%m-%dT%H:%M");
  else
    start = med_time_format_local (bk->start, zone, "%Y-%m-%dT%H:%M");
  if (q_room != NULL)
    med_http_parse_id (q_room, &room);
  if (q_med != NULL)
    med_http_parse_id (q_med, &med);
  if (q_int != NULL && !med_http_parse_id (q_int, &interp))
    interp = 0;
  now_when = med_time_format_local (bk->start, zone, "%Y-%m-%d %H:%M");
  date = med_time_format_local (bk->start, zone, "%Y-%m-%d");
  board
      = g_strdup_printf ("/board?date=%s&move=%" G_GINT64_FORMAT, date, bk->id);
  b = med_http_page_begin (r, T ("Move a session"));
  med_json_int (b, "booking", bk->id);
  med_json_int (b, "case_id", k->id);
  med_json_str (b, "number", k->number);
  med_json_str (b, "kind", T (med_case_kind_label (k->kind)));
  med_json_str (b, "start", start);
  med_json_str (b, "now_when", now_when);
  med_json_str (b, "board_href", board);
  med_json_bool (b, "office", r->user->role != MED_ROLE_MEDIATOR);
  {
    MedRoom *x = med_page_find_id (rooms, bk->room_id);
    MedMediator *m = med_page_find_id (meds, bk->mediator_id);
    MedInterpreter *in = med_page_find_id (interps, bk->interpreter_id);

    med_json_str (b, "now_room", x ? x->name : "?");
    med_json_text (r, b, "now_mediator", m ? m->name : "?");
    med_json_str (b, "now_interpreter", in ? in->name : NULL);
  }
  med_page_add_needs (r, b, k->id);
  json_builder_set_member_name (b, "rooms");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms->len; i++) {
    MedRoom *x = g_ptr_array_index (rooms, i);
    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, x->id);
    g_autofree char *label = g_strdup_printf ("%s (%s)", x->name,
        T (med_room_kind_label (x->kind)));

    med_page_option (b, id, label, x->id == room);
  }
  json_builder_end_array (b);
  med_page_id_options (b, "mediators", meds,
      G_STRUCT_OFFSET (MedMediator, name), med);
  med_page_id_options (b, "interpreters", interps,
      G_STRUCT_OFFSET (MedInterpreter, name), interp);
  med_http_page_send (r, b, "move", 200);
}

/* The mediator's console of a remote session: own camera, who waits
 * (admit, remove), who is in, recording with the consent state, caucus,
 * end. console.js talks to /ws/console/<id> (docs/webrtc.md). Mediators
 * see only their own sessions; clerks and admins every one. */
void
med_page_console (MedReq *r, MedBooking *bk)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) rooms = NULL, parties = NULL;
  const char *zone = med_page_zone (r);
  g_autofree char *s = NULL, *e = NULL, *consent = NULL;
  MedRoom *room;
  guint missing = 0;
  gboolean complete;
  JsonBuilder *b;

  if ((k = med_store_get_case (r->srv->store, bk->case_id, &error)) == NULL
      || (rooms = med_store_list_rooms (r->srv->store, k->centre_id, &error))
          == NULL
      || (parties = med_store_list_parties (r->srv->store, k->id, &error))
          == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  room = med_page_find_id (rooms, bk->room_id);
  complete = med_store_consent_complete (r->srv->store, bk->id, &missing, NULL)
      && missing == 0;
  s = med_time_format_local (bk->start, zone, "%Y-%m-%d %H:%M");
  e = med_time_format_local (bk->end, zone, "%H:%M");
  if (complete)
    consent = g_strdup (T ("Every party has consented to recording."));
  else
    consent = med_http_tf (r,
        N_ ("Parties who have not consented to recording yet: %u of %u "
            "(recording a mediation needs every party's consent)."),
        missing, parties->len);
  b = med_http_page_begin (r, T ("Video session console"));
  json_builder_set_member_name (b, "scripts");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "call.js");
  json_builder_add_string_value (b, "console.js");
  json_builder_end_array (b);
  med_json_int (b, "case_id", k->id);
  med_json_str (b, "number", k->number);
  med_json_str (b, "start", s);
  med_json_str (b, "end", e);
  med_json_str (b, "room", room ? room->name : "?");
  med_json_bool (b, "cancelled", bk->status != MED_BOOKING_STATUS_CONFIRMED);
  med_json_int (b, "booking", bk->id);
  med_json_int (b, "wait_alert", med_page_wait_alert_seconds ());
  med_json_str (b, "consent", consent);
  med_http_page_send (r, b, "console", 200);
}

void
med_page_booking_action (MedReq *r, MedBooking *bk, const char *action)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (strcmp (action, "console") == 0) {
    if (IS (r, GET) || IS (r, HEAD))
      med_page_console (r, bk);
    else
      med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if (strcmp (action, "move") == 0 && (IS (r, GET) || IS (r, HEAD))) {
    if (med_http_require (r, MED_ROLES_STAFF))
      med_page_move_get (r, bk);
    return;
  }
  if (!IS (r, POST)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if ((form = med_page_form (r, MED_ROLES_STAFF)) == NULL)
    return;
  if (strcmp (action, "move") == 0) {
    MedSlot manual = { 0 };
    gboolean earliest
        = g_strcmp0 (med_page_form_get (form, "how"), "earliest") == 0;

    if (!earliest) {
      if (med_page_form_get (form, "start") == NULL
          || !med_time_parse_local (med_page_form_get (form, "start"),
              med_page_zone (r), &manual.start, NULL)) {
        med_page_invalid (r, T ("New start: give a date and a time."));
        return;
      }
      if (med_page_form_get (form, "room")
          && !med_http_parse_id (med_page_form_get (form, "room"),
              &manual.room_id)) {
        med_page_invalid (r, T ("Room: choose one of the list."));
        return;
      }
      if (med_page_form_get (form, "mediator")
          && !med_http_parse_id (med_page_form_get (form, "mediator"),
              &manual.mediator_id)) {
        med_page_invalid (r, T ("Mediator: choose one of the list."));
        return;
      }
      if (med_page_form_get (form, "interpreter")
          && !med_http_parse_id (med_page_form_get (form, "interpreter"),
              &manual.interpreter_id)) {
        med_page_invalid (r, T ("Interpreter: choose one of the list."));
        return;
      }
      /* a mediator moves their own sessions, and keeps them */
      if (r->user->role == MED_ROLE_MEDIATOR)
        manual.mediator_id = 0;
    }
    if (!med_service_reschedule (r->srv->store, &ctx, bk->id,
            earliest ? NULL : &manual, NULL, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=moved", bk->case_id);
  } else if (strcmp (action, "undo") == 0) {
    g_autofree char *date
        = med_time_format_local (bk->start, med_page_zone (r), "%Y-%m-%d");

    if (!med_service_undo_booking (r->srv->store, &ctx, bk->id, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/board?date=%s&msg=undone", date);
  } else if (strcmp (action, "cancel") == 0) {
    if (!med_service_cancel (r->srv->store, &ctx, bk->id, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=cancelled",
        bk->case_id);
  } else if (strcmp (action, "revoke-link") == 0) {
    gint64 party = 0;

    if (!med_http_parse_id (med_page_form_get (form, "party"), &party)) {
      med_page_invalid (r, T ("Party: choose one of the list."));
      return;
    }
    if (!med_service_revoke_join (r->srv->store, &ctx, bk->id, party, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=revoked",
        bk->case_id);
  } else if (strcmp (action, "send-link") == 0
      || strcmp (action, "reissue-link") == 0) {
    med_page_case_link_action (r, bk, action, form);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such page");
  }
}
