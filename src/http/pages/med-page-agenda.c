/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-agenda.c — the agenda: the sessions of the next two weeks, a
 * mediator's own only, each remote one with a link to its console; a
 * mediator makes their own webcal:// calendar link here
 * (templates/agenda.html). */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

void
med_page_agenda (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) bookings = NULL, rooms = NULL, cases = NULL;
  g_autoptr (GPtrArray) meds = NULL;
  const char *zone = med_page_zone (r);
  gint64 mediator = 0;
  g_autofree char *last_day = NULL;
  JsonBuilder *b;

  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  if (r->user->role == MED_ROLE_MEDIATOR)
    mediator = r->user->mediator_id;
  if ((bookings = med_store_list_bookings (r->srv->store, r->srv->cfg.centre_id,
           r->now - 86400, r->now + 14 * 86400, FALSE, &error))
          == NULL
      || (rooms = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (cases = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id,
              -1, &error))
          == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  b = med_http_page_begin (r, mediator ? T ("My agenda") : T ("Agenda"));
  med_json_bool (b, "mine", mediator != 0);
  if (mediator != 0) {
    g_autofree char *url = med_page_webcal (r,
        r->query ? g_hash_table_lookup (r->query, "feed") : NULL);

    med_json_str (b, "feed", url);
  }
  json_builder_set_member_name (b, "days");
  json_builder_begin_array (b);
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);
    g_autofree char *day = med_time_format_local (bk->start, zone, "%Y-%m-%d");
    g_autofree char *s = med_time_format_local (bk->start, zone, "%H:%M");
    g_autofree char *e = med_time_format_local (bk->end, zone, "%H:%M");
    MedCase *k = med_page_find_id (cases, bk->case_id);
    MedRoom *room = med_page_find_id (rooms, bk->room_id);
    MedMediator *md = med_page_find_id (meds, bk->mediator_id);

    if (mediator != 0 && bk->mediator_id != mediator)
      continue;
    if (g_strcmp0 (day, last_day) != 0) {
      if (last_day != NULL) {
        json_builder_end_array (b);
        json_builder_end_object (b);
      }
      json_builder_begin_object (b);
      med_json_str (b, "day", day);
      json_builder_set_member_name (b, "rows");
      json_builder_begin_array (b);
      g_free (last_day);
      last_day = g_strdup (day);
    }
    json_builder_begin_object (b);
    med_json_str (b, "start", s);
    med_json_str (b, "end", e);
    med_json_int (b, "case_id", bk->case_id);
    med_json_str (b, "number", k ? k->number : "?");
    med_json_str (b, "room", room ? room->name : "?");
    med_json_text (r, b, "mediator", md ? md->name : "?");
    med_json_str (b, "mode", T (med_booking_mode_label (bk->mode)));
    med_json_int (b, "booking", bk->id);
    /* the console of a session with parties by video (as the case page) */
    med_json_bool (b, "console",
        (room && room->kind == MED_ROOM_KIND_REMOTE)
            || bk->mode != MED_BOOKING_MODE_IN_PERSON);
    json_builder_end_object (b);
  }
  if (last_day != NULL) {
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "agenda", 200);
}

/* POST /agenda/feed: a mediator's own calendar feed link, shown once. */
void
med_page_agenda_feed (MedReq *r)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = NULL, *hash = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (!IS (r, POST)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if ((form = med_page_form (r, 1u << MED_ROLE_MEDIATOR)) == NULL)
    return;
  secret = med_http_new_secret ();
  hash = med_http_hash_secret (secret);
  if (med_service_add_feed_link (r->srv->store, &ctx, MED_FEED_LINK_MEDIATOR,
          r->user->mediator_id, hash, 0, &error)
      == 0) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  med_page_redirect (r, "/agenda?msg=feed&feed=%s", secret);
}
