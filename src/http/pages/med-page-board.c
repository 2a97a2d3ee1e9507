/* med-page-board.c — the day board (rooms × times of one day, holidays
 * and make-up working days marked; a free slot opens the booking form,
 * a booked one links its case and its Move form; board.js adds drag and
 * drop) and the booking form of a free slot (templates/board.html,
 * book.html). */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

#include <medsched/med-workcal.h>

static void
add_day_banner (MedReq *r, JsonBuilder *b, MedCentre *c, gint y, gint m, gint d)
{
  g_autoptr (MedWorkcal) wc = NULL;
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  if ((wc = med_store_load_workcal (r->srv->store, &error)) == NULL)
    return;
  if (!med_workcal_day_info (wc, c->layers, y, m, d, &info, &error))
    med_json_str (b, "day_unpublished", error->message);
  else if (info.holiday)
    med_json_str (b, "day_holiday", info.name ? info.name : "");
  else if (info.makeup)
    med_json_str (b, "day_makeup", info.name ? info.name : "");
  else if (!info.working)
    med_json_bool (b, "day_weekend", TRUE);
}

static void
add_cell_booked (MedReq *r, JsonBuilder *b, MedCentre *c, MedBooking *here,
    GPtrArray *cases, GPtrArray *meds, guint span)
{
  MedCase *k = med_page_find_id (cases, here->case_id);
  MedMediator *md = med_page_find_id (meds, here->mediator_id);
  g_autofree char *s = med_time_format_local (here->start, c->zone, "%H:%M");
  g_autofree char *e = med_time_format_local (here->end, c->zone, "%H:%M");

  json_builder_set_member_name (b, "booked");
  json_builder_begin_object (b);
  med_json_int (b, "span", span);
  med_json_int (b, "booking", here->id);
  med_json_int (b, "case_id", here->case_id);
  med_json_str (b, "number", k ? k->number : "?");
  med_json_str (b, "start", s);
  med_json_str (b, "end", e);
  med_json_text (r, b, "mediator", md ? md->name : "");
  json_builder_end_object (b);
}

void
med_page_board (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL, bookings = NULL, cases = NULL;
  g_autoptr (GPtrArray) meds = NULL;
  g_autoptr (MedWorkcal) wc = NULL;
  g_autofree char *today = NULL, *prev = NULL, *next = NULL, *date_s = NULL;
  g_autofree char *caption = NULL;
  const char *date = r->query ? g_hash_table_lookup (r->query, "date") : NULL;
  MedCentre *c = med_http_centre (r->srv, &error);
  MedInterval win[2];
  guint n_win = 0;
  gint y, m, d, step;
  MedTime day0, open_t, close_t;
  GDate g;
  JsonBuilder *b;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if (c == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  today = med_time_format_local (r->now, c->zone, "%Y-%m-%d");
  if (date == NULL || !med_http_parse_date (date, &y, &m, &d)) {
    date = today;
    med_http_parse_date (date, &y, &m, &d);
  }
  g_date_clear (&g, 1);
  g_date_set_dmy (&g, d, m, y);
  g_date_subtract_days (&g, 1);
  prev = g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (&g),
      g_date_get_month (&g), g_date_get_day (&g));
  g_date_add_days (&g, 2);
  next = g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (&g),
      g_date_get_month (&g), g_date_get_day (&g));
  if (!med_workcal_local_to_utc (c->zone, y, m, d, 0, &day0, &error)
      || (rooms = med_store_list_rooms (r->srv->store, c->id, &error)) == NULL
      || (meds = med_store_list_mediators (r->srv->store, c->id, &error))
          == NULL
      || (cases = med_store_list_cases (r->srv->store, c->id, -1, &error))
          == NULL
      || (bookings = med_store_list_bookings (r->srv->store, c->id, day0,
              day0 + 86400, FALSE, &error))
          == NULL
      || (wc = med_store_load_workcal (r->srv->store, &error)) == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  /* the day's working windows; a closed day still shows the usual hours */
  if (!med_workcal_day_windows (wc, c, y, m, d, win, &n_win, NULL))
    n_win = 0;
  step = c->slot_minutes > 0 ? c->slot_minutes : 15;
  if (step < 15)
    step = 15;
  {
    const MedDayHours *h = &c->hours[0];

    open_t = day0
        + (MedTime) (n_win ? (win[0].start - day0) / 60 : h->open_min) * 60;
    close_t = n_win ? win[n_win - 1].end : day0 + (MedTime) h->close_min * 60;
    if (close_t <= open_t)
      close_t = open_t + 9 * 3600;
  }

  date_s = g_strdup_printf ("%04d-%02d-%02d", y, m, d);
  b = med_http_page_begin (r, T ("Day board"));
  json_builder_set_member_name (b, "scripts");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "board.js");
  json_builder_end_array (b);
  med_json_str (b, "prev", prev);
  med_json_str (b, "next", next);
  med_json_str (b, "date", date_s);
  caption = med_http_tf (r, N_ ("%s: rooms by time"), date_s);
  med_json_str (b, "caption", caption);
  add_day_banner (r, b, c, y, m, d);
  json_builder_set_member_name (b, "times");
  json_builder_begin_array (b);
  for (MedTime t = open_t; t < close_t; t += step * 60) {
    g_autofree char *hm = med_time_format_local (t, c->zone, "%H:%M");

    json_builder_begin_object (b);
    med_json_bool (b, "hour", (t - open_t) % 3600 == 0);
    med_json_str (b, "label", hm);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "rooms");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms->len; i++) {
    MedRoom *room = g_ptr_array_index (rooms, i);

    json_builder_begin_object (b);
    med_json_str (b, "name", room->name);
    med_json_str (b, "kind", T (med_room_kind_label (room->kind)));
    json_builder_set_member_name (b, "cells");
    json_builder_begin_array (b);
    for (MedTime t = open_t; t < close_t;) {
      MedBooking *here = NULL;
      gboolean open = FALSE;

      for (guint k = 0; k < bookings->len; k++) {
        MedBooking *bk = g_ptr_array_index (bookings, k);

        if (bk->room_id == room->id && bk->start <= t && bk->end > t) {
          here = bk;
          break;
        }
      }
      for (guint w = 0; w < n_win; w++)
        open |= t >= win[w].start && t + step * 60 <= win[w].end;
      json_builder_begin_object (b);
      if (here != NULL) {
        MedTime end = MIN (here->end, close_t);
        guint span = MAX (1, (guint) ((end - t + step * 60 - 1) / (step * 60)));

        add_cell_booked (r, b, c, here, cases, meds, span);
        t += (MedTime) span * step * 60;
      } else if (open && t >= r->now) {
        g_autofree char *iso
            = med_time_format_local (t, c->zone, "%Y-%m-%dT%H:%M");
        g_autofree char *hm = med_time_format_local (t, c->zone, "%H:%M");
        g_autofree char *label
            = med_http_tf (r, N_ ("%s %s free: book"), room->name, hm);

        json_builder_set_member_name (b, "free");
        json_builder_begin_object (b);
        med_json_int (b, "room_id", room->id);
        med_json_str (b, "iso", iso);
        med_json_str (b, "label", label);
        json_builder_end_object (b);
        t += step * 60;
      } else {
        med_json_str (b, "other", open ? "past" : "closed");
        t += step * 60;
      }
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "board", 200);
}

void
med_page_board_book_get (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL, meds = NULL, interps = NULL;
  const char *room_s = r->query ? g_hash_table_lookup (r->query, "room") : NULL;
  const char *start = r->query ? g_hash_table_lookup (r->query, "start") : NULL;
  const char *case_s = r->query ? g_hash_table_lookup (r->query, "case") : NULL;
  gint64 room_id = 0, pre_case = 0;
  MedTime t;
  JsonBuilder *b;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if (!med_http_parse_id (room_s, &room_id) || start == NULL
      || !med_time_parse_local (start, med_page_zone (r), &t, NULL)) {
    r->api = FALSE;
    med_http_page_problem (r, 400, NULL,
        T ("The link to the booking form needs a room and a start time: "
           "choose a free slot on the day board."),
        NULL, NULL);
    return;
  }
  if (case_s)
    med_http_parse_id (case_s, &pre_case);
  if ((cases = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id, -1,
           &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (interps = med_store_list_interpreters (r->srv->store,
              r->srv->cfg.centre_id, &error))
          == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  b = med_http_page_begin (r, T ("Book a slot"));
  med_json_int (b, "room_id", room_id);
  med_json_str (b, "start", start);
  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < cases->len; i++) {
    MedCase *k = g_ptr_array_index (cases, i);
    g_autofree char *id = NULL, *label = NULL;

    if (k->department != MED_DEPARTMENT_COURT_MEDIATION
        || (k->status != MED_CASE_STATUS_DISPATCHED
            && k->status != MED_CASE_STATUS_NOT_SETTLED))
      continue;
    id = g_strdup_printf ("%" G_GINT64_FORMAT, k->id);
    label = g_strdup_printf ("%s — %s", k->number,
        T (med_case_kind_label (k->kind)));
    med_page_option (b, id, label, k->id == pre_case);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "mediators");
  json_builder_begin_array (b);
  for (guint i = 0; i < meds->len; i++) {
    MedMediator *md = g_ptr_array_index (meds, i);
    g_autofree char *langs = g_strjoinv (",", md->languages);
    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, md->id);
    g_autofree char *label = g_strdup_printf ("%s (%s)", md->name, langs);

    med_page_option (b, id, label, FALSE);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "interpreters");
  json_builder_begin_array (b);
  for (guint i = 0; i < interps->len; i++) {
    MedInterpreter *in = g_ptr_array_index (interps, i);
    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, in->id);

    med_page_option (b, id, in->name, FALSE);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "book", 200);
}

void
med_page_board_book_post (MedReq *r)
{
  g_autoptr (GHashTable) form = med_page_form (r, MED_ROLES_OFFICE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) slot = NULL;
  MedServiceCtx ctx;
  MedSlot manual = { 0 };
  gint64 case_id = 0;
  const char *interp;

  if (form == NULL)
    return;
  interp = med_page_form_get (form, "interpreter");
  if (!med_http_parse_id (med_page_form_get (form, "case"), &case_id)
      || !med_http_parse_id (med_page_form_get (form, "room"), &manual.room_id)
      || !med_http_parse_id (med_page_form_get (form, "mediator"),
          &manual.mediator_id)
      || (interp && !med_http_parse_id (interp, &manual.interpreter_id))
      || med_page_form_get (form, "start") == NULL
      || !med_time_parse_local (med_page_form_get (form, "start"),
          med_page_zone (r), &manual.start, NULL)) {
    med_page_invalid (r, T ("Choose a case, a mediator and a time."));
    return;
  }
  ctx = med_http_service_ctx (r);
  if (med_service_book (r->srv->store, &ctx, case_id, &manual, 0, &slot, &error)
      == 0) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=booked", case_id);
}
