/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-book.c — booking one cell of the board without scripts
 * (templates/book.html): the preview of a case in a room at a start (the
 * mediator and interpreter the scheduler would have take it — only
 * people who can —, for how long, what the case needs, or why it does
 * not fit there), then the booking; from a free cell with no case picked,
 * first the question which case. Board.js books from the board in one
 * click instead and comes back to the same board with the undo. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

static void
add_case_choice (MedReq *r, JsonBuilder *b)
{
  g_autoptr (GPtrArray) cases
      = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id, -1, NULL);
  MedCentre *c = med_http_centre (r->srv, NULL);

  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; cases && i < cases->len; i++) {
    MedCase *k = g_ptr_array_index (cases, i);
    g_autofree char *id = NULL, *label = NULL;

    if (k->department != MED_DEPARTMENT_COURT_MEDIATION
        || (k->status != MED_CASE_STATUS_DISPATCHED
            && k->status != MED_CASE_STATUS_NOT_SETTLED))
      continue;
    id = g_strdup_printf ("%" G_GINT64_FORMAT, k->id);
    label = med_http_tf (r, N_ ("%s — %s, %d minutes"), k->number,
        T (med_case_kind_label (k->kind)),
        k->duration_minutes ? k->duration_minutes
            : c != NULL     ? c->default_duration_minutes
                            : 60);
    med_page_option (b, id, label, FALSE);
  }
  json_builder_end_array (b);
}

/* Who the scheduler would have take it: their names and ids. */
static void
add_people (MedReq *r, JsonBuilder *b, const MedSlot *s)
{
  g_autoptr (MedMediator) md
      = med_store_get_mediator (r->srv->store, s->mediator_id, NULL);
  g_autoptr (GPtrArray) interps = s->interpreter_id
      ? med_store_list_interpreters (r->srv->store, r->srv->cfg.centre_id, NULL)
      : NULL;
  MedInterpreter *in = med_page_find_id (interps, s->interpreter_id);

  med_json_int (b, "mediator_id", s->mediator_id);
  med_json_text (r, b, "mediator", md ? md->name : "?");
  if (in != NULL) {
    med_json_int (b, "interpreter_id", in->id);
    med_json_text (r, b, "interpreter", in->name);
  }
}

void
med_page_board_book_get (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedFitCell) cell = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  const char *room_s = r->query ? g_hash_table_lookup (r->query, "room") : NULL;
  const char *start = r->query ? g_hash_table_lookup (r->query, "start") : NULL;
  const char *case_s = r->query ? g_hash_table_lookup (r->query, "case") : NULL;
  const char *zone = med_page_zone (r);
  MedServiceCtx ctx = med_http_service_ctx (r);
  gint64 room_id = 0, case_id = 0;
  g_autofree char *date = NULL, *back = NULL;
  MedRoom *room;
  MedTime t;
  JsonBuilder *b;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if (!med_http_parse_id (room_s, &room_id) || start == NULL
      || !med_time_parse_local (start, zone, &t, NULL)) {
    r->api = FALSE;
    med_http_page_problem (r, 400, NULL,
        T ("The link to the booking form needs a room and a start time: "
           "choose a free slot on the day board."),
        NULL, NULL);
    return;
  }
  if ((rooms
          = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id, &error))
      == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  if ((room = med_page_find_id (rooms, room_id)) == NULL) {
    med_page_invalid (r, T ("Room: choose one of the list."));
    return;
  }
  date = med_time_format_local (t, zone, "%Y-%m-%d");
  b = med_http_page_begin (r, T ("Book a session"));
  med_json_int (b, "room_id", room_id);
  med_json_str (b, "room", room->name);
  med_json_str (b, "start", start);
  med_json_str (b, "date", date);
  if (case_s == NULL || !med_http_parse_id (case_s, &case_id)) {
    back = g_strdup_printf ("/board?date=%s", date);
    med_json_str (b, "back", back);
    add_case_choice (r, b);
    med_http_page_send (r, b, "book", 200);
    return;
  }
  back = g_strdup_printf ("/board?date=%s&case=%" G_GINT64_FORMAT, date,
      case_id);
  med_json_str (b, "back", back);
  if ((k = med_store_get_case (r->srv->store, case_id, &error)) == NULL
      || (cell = med_service_fit_at (r->srv->store, &ctx, case_id, 0, room_id,
              t, &error))
          == NULL) {
    g_object_unref (b);
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  med_json_int (b, "case_id", k->id);
  med_json_str (b, "number", k->number);
  med_json_str (b, "kind", T (med_case_kind_label (k->kind)));
  med_page_add_needs (r, b, k->id);
  if (cell->state == MED_FIT_FITS) {
    g_autofree char *s
        = med_time_format_local (cell->slot->start, zone, "%Y-%m-%d %H:%M");
    g_autofree char *e = med_time_format_local (cell->slot->end, zone, "%H:%M");
    g_autofree char *iso
        = med_time_format_local (cell->slot->start, zone, "%Y-%m-%dT%H:%M");

    json_builder_set_member_name (b, "fits");
    json_builder_begin_object (b);
    med_json_str (b, "when", s);
    med_json_str (b, "end", e);
    med_json_str (b, "iso", iso);
    med_json_str (b, "mode", T (med_booking_mode_label (cell->slot->mode)));
    med_json_bool (b, "fallback", cell->slot->fallback);
    {
      /* the scheduler's reasons in the page's language */
      g_autofree char *because
          = med_i18n_reasons (med_http_lang (r), cell->slot->reasons);

      med_json_str (b, "explanation", because);
    }
    json_builder_end_object (b);
    add_people (r, b, cell->slot);
  } else {
    g_autofree char *why = med_page_fit_why (r, cell);
    g_autofree char *detail
        = med_i18n_reasons (med_http_lang (r), cell->reasons);

    json_builder_set_member_name (b, "blocked");
    json_builder_begin_object (b);
    med_json_str (b, "why", why);
    med_json_str (b, "detail", *detail ? detail : NULL);
    json_builder_end_object (b);
  }
  med_http_page_send (r, b, "book", 200);
}

void
med_page_board_book_post (MedReq *r)
{
  g_autoptr (GHashTable) form = med_page_form (r, MED_ROLES_OFFICE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) slot = NULL;
  g_autofree char *date = NULL;
  MedServiceCtx ctx;
  MedSlot manual = { 0 };
  gint64 case_id = 0, id;
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
  if ((id = med_service_book (r->srv->store, &ctx, case_id, &manual, 0, &slot,
           &error))
      == 0) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  date = med_time_format_local (manual.start, med_page_zone (r), "%Y-%m-%d");
  med_page_redirect (r, "/board?date=%s&booked=%" G_GINT64_FORMAT "&msg=booked",
      date, id);
}
