/* med-page-booking.c — a session's pages and actions: the Move form,
 * the mediator's console of a remote session (templates/move.html,
 * console.html), and move, cancel and revoke-link posted from pages. */
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
  g_autoptr (GPtrArray) rooms = NULL;
  g_autofree char *start
      = med_time_format_local (bk->start, med_page_zone (r), "%Y-%m-%dT%H:%M");
  JsonBuilder *b;

  if ((rooms
          = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id, &error))
      == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  b = med_http_page_begin (r, T ("Move a session"));
  med_json_int (b, "booking", bk->id);
  med_json_str (b, "start", start);
  json_builder_set_member_name (b, "rooms");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms->len; i++) {
    MedRoom *room = g_ptr_array_index (rooms, i);
    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, room->id);

    med_page_option (b, id, room->name, room->id == bk->room_id);
  }
  json_builder_end_array (b);
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
    }
    if (!med_service_reschedule (r->srv->store, &ctx, bk->id,
            earliest ? NULL : &manual, NULL, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=moved", bk->case_id);
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
