/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-board.c — the board (templates/board.html): rooms × times of
 * one day, or rooms × days of a week; holidays and make-up working days
 * marked; sessions coloured by mediator or by status with a legend (and a
 * pattern and the words, never colour alone); finished sessions neither
 * dragged nor moved.
 *
 * Pick a case from the queue (or find one) and every start where it fits
 * is marked with its room, mediator and interpreter; one click books it
 * (board.js; without scripts the click opens the preview, book.html, and
 * a second one books), and the booking can be undone for a few minutes.
 * Every other cell says why not, in the scheduler's words
 * (med_service_day_fit). Moving a session works the same way: the board
 * marks where it can go. The week view counts, per day, the starts where
 * the picked case fits. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

#include <medsched/med-workcal.h>

/* Mediator colours in the stylesheet: m0 … m7, each with its pattern. */
#define N_MEDIATOR_COLOURS 8

typedef struct
{
  MedReq *r;
  MedCentre *c; /* (transfer none) */
  gint y, m, d;
  char *date;
  gboolean week;
  gboolean by_status;
  gint64 case_id; /* the picked case, 0 = none */
  gint64 move_id; /* the session being moved, 0 = none */
  GPtrArray *rooms, *meds, *interps, *cases;
  MedWorkcal *wc;
  gint step; /* minutes between columns */
} Board;

static void
board_clear (Board *bd)
{
  g_clear_pointer (&bd->date, g_free);
  g_clear_pointer (&bd->rooms, g_ptr_array_unref);
  g_clear_pointer (&bd->meds, g_ptr_array_unref);
  g_clear_pointer (&bd->interps, g_ptr_array_unref);
  g_clear_pointer (&bd->cases, g_ptr_array_unref);
  g_clear_pointer (&bd->wc, med_workcal_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Board, board_clear)

/* /board with these settings (date NULL = the board's). (transfer full) */
static char *
board_href (Board *bd, const char *date, gboolean week, gboolean by_status,
    gint64 case_id, gint64 move_id)
{
  GString *s = g_string_new ("/board?date=");

  g_string_append (s, date ? date : bd->date);
  if (week)
    g_string_append (s, "&view=week");
  if (by_status)
    g_string_append (s, "&colour=status");
  if (case_id)
    g_string_append_printf (s, "&case=%" G_GINT64_FORMAT, case_id);
  if (move_id)
    g_string_append_printf (s, "&move=%" G_GINT64_FORMAT, move_id);
  return g_string_free (s, FALSE);
}

static char *
shift_date (gint y, gint m, gint d, gint days)
{
  GDate g;

  g_date_clear (&g, 1);
  g_date_set_dmy (&g, d, m, y);
  if (days >= 0)
    g_date_add_days (&g, days);
  else
    g_date_subtract_days (&g, -days);
  return g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (&g),
      g_date_get_month (&g), g_date_get_day (&g));
}

static void
add_day_banner (MedReq *r, JsonBuilder *b, Board *bd)
{
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  if (!med_workcal_day_info (bd->wc, bd->c->layers, bd->y, bd->m, bd->d, &info,
          &error))
    med_json_str (b, "day_unpublished", error->message);
  else if (info.holiday)
    med_json_str (b, "day_holiday", info.name ? info.name : "");
  else if (info.makeup)
    med_json_str (b, "day_makeup", info.name ? info.name : "");
  else if (!info.working)
    med_json_bool (b, "day_weekend", TRUE);
}

/* ---- colours ---- */

static const char *
status_class (const MedCase *k, const MedBooking *bk, MedTime now)
{
  if (bk->end <= now)
    return "s-done";
  switch (k ? k->status : MED_CASE_STATUS_N) {
    case MED_CASE_STATUS_SCHEDULED:
      return "s-scheduled";
    case MED_CASE_STATUS_IN_SESSION:
      return "s-in-session";
    case MED_CASE_STATUS_NOT_SETTLED:
      return "s-not-settled";
    case MED_CASE_STATUS_SETTLED:
      return "s-settled";
    default:
      return "s-other";
  }
}

static guint
mediator_colour (Board *bd, gint64 mediator_id)
{
  for (guint i = 0; i < bd->meds->len; i++) {
    if (((MedMediator *) g_ptr_array_index (bd->meds, i))->id == mediator_id)
      return i % N_MEDIATOR_COLOURS;
  }
  return 0;
}

static void
add_legend (MedReq *r, JsonBuilder *b, Board *bd)
{
  static const struct
  {
    const char *cls, *label;
  } statuses[] = {
    { "s-scheduled", N_ ("Scheduled") },
    { "s-in-session", N_ ("In session") },
    { "s-not-settled", N_ ("Not settled") },
    { "s-settled", N_ ("Settled") },
    { "s-other", N_ ("Other") },
    { "s-done", N_ ("Finished") },
  };

  json_builder_set_member_name (b, "legend");
  json_builder_begin_array (b);
  if (bd->by_status) {
    for (guint i = 0; i < G_N_ELEMENTS (statuses); i++) {
      json_builder_begin_object (b);
      med_json_str (b, "cls", statuses[i].cls);
      med_json_str (b, "label", T (statuses[i].label));
      json_builder_end_object (b);
    }
  } else {
    for (guint i = 0; i < bd->meds->len; i++) {
      MedMediator *md = g_ptr_array_index (bd->meds, i);
      g_autofree char *cls = g_strdup_printf ("m%u", i % N_MEDIATOR_COLOURS);

      json_builder_begin_object (b);
      med_json_str (b, "cls", cls);
      med_json_text (r, b, "label", md->name);
      json_builder_end_object (b);
    }
  }
  json_builder_end_array (b);
}

/* One session as the board shows it (a day's cell or a week's line). */
static void
add_session (MedReq *r, JsonBuilder *b, Board *bd, MedBooking *bk)
{
  MedCase *k = med_page_find_id (bd->cases, bk->case_id);
  MedMediator *md = med_page_find_id (bd->meds, bk->mediator_id);
  gboolean done = bk->end <= r->now;
  g_autofree char *s = med_time_format_local (bk->start, bd->c->zone, "%H:%M");
  g_autofree char *e = med_time_format_local (bk->end, bd->c->zone, "%H:%M");
  g_autofree char *cls = bd->by_status
      ? g_strdup (status_class (k, bk, r->now))
      : g_strdup_printf ("m%u", mediator_colour (bd, bk->mediator_id));

  med_json_int (b, "booking", bk->id);
  med_json_int (b, "case_id", bk->case_id);
  med_json_str (b, "number", k ? k->number : "?");
  med_json_str (b, "start", s);
  med_json_str (b, "end", e);
  med_json_text (r, b, "mediator", md ? md->name : "");
  med_json_str (b, "cls", cls);
  med_json_str (b, "status",
      done ? T ("finished")
           : T (med_case_status_label (k ? k->status : MED_CASE_STATUS_N)));
  med_json_bool (b, "movable", !done);
  med_json_bool (b, "moving", bk->id == bd->move_id);
}

/* ---- the picker: the queue, the picked case, the session moved ---- */

static gboolean
bookable (const MedCase *k)
{
  return k->department == MED_DEPARTMENT_COURT_MEDIATION
      && (k->status == MED_CASE_STATUS_DISPATCHED
          || k->status == MED_CASE_STATUS_NOT_SETTLED);
}

/* The parties' names, for telling cases apart. (transfer full) */
static char *
party_names (MedReq *r, gint64 case_id)
{
  g_autoptr (GPtrArray) parties
      = med_store_list_parties (r->srv->store, case_id, NULL);
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; parties && i < parties->len && i < 3; i++) {
    if (i > 0)
      g_string_append (s, " · ");
    g_string_append (s, ((MedParty *) g_ptr_array_index (parties, i))->name);
  }
  if (parties && parties->len > 3)
    g_string_append (s, " …");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
add_queue (MedReq *r, JsonBuilder *b, Board *bd)
{
  json_builder_set_member_name (b, "queue");
  json_builder_begin_array (b);
  for (guint i = 0; i < bd->cases->len; i++) {
    MedCase *k = g_ptr_array_index (bd->cases, i);
    g_autofree char *href = NULL, *names = NULL;

    if (!bookable (k))
      continue;
    href = board_href (bd, NULL, bd->week, bd->by_status, k->id, 0);
    names = party_names (r, k->id);
    json_builder_begin_object (b);
    med_json_int (b, "id", k->id);
    med_json_str (b, "number", k->number);
    med_json_str (b, "kind", T (med_case_kind_label (k->kind)));
    med_json_bool (b, "urgent", k->urgent);
    med_json_text (r, b, "parties", names);
    med_json_str (b, "href", href);
    med_json_bool (b, "current", k->id == bd->case_id);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* What the picked case needs, as the move form shows it too. */
void
med_page_add_needs (MedReq *r, JsonBuilder *b, gint64 case_id)
{
  g_auto (MedCaseNeeds) n = { 0 };
  MedServiceCtx ctx = med_http_service_ctx (r);
  g_autoptr (GString) langs = g_string_new (NULL);

  if (!med_service_case_needs (r->srv->store, &ctx, case_id, &n, NULL))
    return;
  for (guint i = 0; n.languages && n.languages[i]; i++) {
    MedLang l;

    if (i > 0)
      g_string_append (langs, ", ");
    g_string_append (langs,
        med_lang_from_code (n.languages[i], &l) ? med_lang_name (l)
                                                : n.languages[i]);
  }
  json_builder_set_member_name (b, "needs");
  json_builder_begin_object (b);
  med_json_int (b, "minutes", n.duration_minutes);
  med_json_str (b, "room_kind", T (med_room_kind_label (n.room_kind)));
  med_json_str (b, "room_kind_word", med_room_kind_to_string (n.room_kind));
  med_json_bool (b, "family", n.room_kind == MED_ROOM_KIND_FAMILY);
  med_json_bool (b, "minors", n.minors);
  med_json_bool (b, "urgent", n.urgent);
  med_json_bool (b, "interpreter", n.needs_interpreter);
  med_json_int (b, "remote", n.n_remote);
  med_json_int (b, "parties", n.n_parties);
  med_json_str (b, "languages", langs->str);
  json_builder_end_object (b);
}

/* ---- the cells of a picked case ---- */

char *
med_page_fit_why (MedReq *r, const MedFitCell *c)
{
  g_autoptr (GString) s = g_string_new (NULL);

  switch (c->state) {
    case MED_FIT_TOO_LONG:
      return g_strdup (T ("the session would run past the end of the working "
                          "time or into the break"));
    case MED_FIT_DEADLINE:
      return g_strdup (T ("the session would end after the case's deadline"));
    default:
      break;
  }
  for (guint i = 0; i < med_http_n_block_names; i++) {
    if (!(c->blocks & med_http_block_names[i].bit))
      continue;
    if (s->len > 0)
      g_string_append (s, "; ");
    g_string_append (s, T (med_http_block_names[i].label));
  }
  if (s->len == 0)
    g_string_append (s, T ("nothing fits here"));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static const char *
room_name (Board *bd, gint64 id)
{
  MedRoom *x = med_page_find_id (bd->rooms, id);

  return x ? x->name : "?";
}

static const char *
mediator_name (Board *bd, gint64 id)
{
  MedMediator *x = med_page_find_id (bd->meds, id);

  return x ? x->name : "?";
}

static void
add_fit_cell (MedReq *r, JsonBuilder *b, Board *bd, const MedFitCell *c,
    const char *room_name)
{
  const MedSlot *s = c->slot;
  MedMediator *md = med_page_find_id (bd->meds, s->mediator_id);
  MedInterpreter *in = s->interpreter_id
      ? med_page_find_id (bd->interps, s->interpreter_id)
      : NULL;
  g_autofree char *iso
      = med_time_format_local (s->start, bd->c->zone, "%Y-%m-%dT%H:%M");
  g_autofree char *hs = med_time_format_local (s->start, bd->c->zone, "%H:%M");
  g_autofree char *he = med_time_format_local (s->end, bd->c->zone, "%H:%M");
  g_autofree char *with = NULL, *tip = NULL, *label = NULL, *href = NULL;

  with = in ? med_http_tf (r, N_ ("mediator %s, interpreter %s"),
             md ? md->name : "", in->name)
            : med_http_tf (r, N_ ("mediator %s"), md ? md->name : "");
  tip = med_http_tf (r, N_ ("%s–%s, %s, %s%s"), hs, he, room_name, with,
      s->fallback ? T (" (not the preferred kind of room)") : "");
  label = med_http_tf (r, N_ ("Book here: %s"), tip);
  if (bd->move_id)
    href = g_strdup_printf ("/bookings/%" G_GINT64_FORMAT
                            "/move?start=%s&room=%" G_GINT64_FORMAT
                            "&mediator=%" G_GINT64_FORMAT
                            "&interpreter=%" G_GINT64_FORMAT,
        bd->move_id, iso, s->room_id, s->mediator_id, s->interpreter_id);
  else
    href = g_strdup_printf ("/board/book?case=%" G_GINT64_FORMAT
                            "&room=%" G_GINT64_FORMAT "&start=%s"
                            "&mediator=%" G_GINT64_FORMAT
                            "&interpreter=%" G_GINT64_FORMAT,
        bd->case_id, s->room_id, iso, s->mediator_id, s->interpreter_id);
  json_builder_set_member_name (b, "fit");
  json_builder_begin_object (b);
  med_json_int (b, "room_id", s->room_id);
  med_json_str (b, "iso", iso);
  med_json_int (b, "mediator_id", s->mediator_id);
  med_json_int (b, "interpreter_id", s->interpreter_id);
  med_json_bool (b, "fallback", s->fallback);
  med_json_str (b, "tip", tip);
  med_json_str (b, "label", label);
  med_json_str (b, "href", href);
  json_builder_end_object (b);
}

static void
add_blocked_cell (MedReq *r, JsonBuilder *b, const MedFitCell *c)
{
  g_autofree char *why = med_page_fit_why (r, c);
  g_autofree char *tip = med_http_tf (r, N_ ("Not here: %s"), why);
  /* the scheduler's reasons in the page's language */
  g_autofree char *detail = med_i18n_reasons (med_http_lang (r), c->reasons);

  json_builder_set_member_name (b, "blocked");
  json_builder_begin_object (b);
  med_json_str (b, "tip", tip);
  med_json_str (b, "detail", *detail ? detail : NULL);
  json_builder_end_object (b);
}

/* Opens a room's row: its name and kind, then the array member. */
static void
begin_room_row (MedReq *r, JsonBuilder *b, const MedRoom *room,
    const char *member)
{
  json_builder_begin_object (b);
  med_json_str (b, "name", room->name);
  med_json_str (b, "kind", T (med_room_kind_label (room->kind)));
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
}

/* ---- the day ---- */

static GHashTable *
index_cells (MedDayFit *fit)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; fit && i < fit->cells->len; i++) {
    MedFitCell *c = g_ptr_array_index (fit->cells, i);

    g_hash_table_insert (h,
        g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, c->room_id,
            c->start),
        c);
  }
  return h;
}

static void
add_day (MedReq *r, JsonBuilder *b, Board *bd, MedDayFit *fit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) bookings = NULL;
  g_autoptr (GHashTable) cells = index_cells (fit);
  g_autofree char *caption = NULL;
  MedInterval win[2];
  guint n_win = 0;
  MedTime day0, open_t, close_t, step = (MedTime) bd->step * 60;

  if (!med_workcal_local_to_utc (bd->c->zone, bd->y, bd->m, bd->d, 0, &day0,
          NULL))
    return;
  bookings = med_store_list_bookings (r->srv->store, bd->c->id, day0,
      day0 + 86400, FALSE, &error);
  if (bookings == NULL)
    return;
  /* the day's working windows; a closed day still shows the usual hours */
  if (!med_workcal_day_windows (bd->wc, bd->c, bd->y, bd->m, bd->d, win, &n_win,
          NULL))
    n_win = 0;
  {
    const MedDayHours *h = &bd->c->hours[0];

    open_t = day0
        + (MedTime) (n_win ? (win[0].start - day0) / 60 : h->open_min) * 60;
    close_t = n_win ? win[n_win - 1].end : day0 + (MedTime) h->close_min * 60;
    if (close_t <= open_t)
      close_t = open_t + 9 * 3600;
  }
  caption = med_http_tf (r, N_ ("%s: rooms by time"), bd->date);
  med_json_str (b, "caption", caption);
  json_builder_set_member_name (b, "times");
  json_builder_begin_array (b);
  for (MedTime t = open_t; t < close_t; t += step) {
    g_autofree char *hm = med_time_format_local (t, bd->c->zone, "%H:%M");

    json_builder_begin_object (b);
    med_json_bool (b, "hour", (t - open_t) % 3600 == 0);
    med_json_str (b, "label", hm);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "rooms");
  json_builder_begin_array (b);
  for (guint i = 0; i < bd->rooms->len; i++) {
    MedRoom *room = g_ptr_array_index (bd->rooms, i);

    begin_room_row (r, b, room, "cells");
    for (MedTime t = open_t; t < close_t;) {
      g_autofree char *key
          = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, room->id,
              t);
      MedFitCell *fc = g_hash_table_lookup (cells, key);
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
        open |= t >= win[w].start && t + step <= win[w].end;
      json_builder_begin_object (b);
      if (here != NULL) {
        MedTime end = MIN (here->end, close_t);
        guint span = MAX (1, (guint) ((end - t + step - 1) / step));

        json_builder_set_member_name (b, "booked");
        json_builder_begin_object (b);
        med_json_int (b, "span", span);
        add_session (r, b, bd, here);
        json_builder_end_object (b);
        t += (MedTime) span * step;
        json_builder_end_object (b);
        continue;
      }
      if (fc != NULL && fc->state == MED_FIT_FITS) {
        add_fit_cell (r, b, bd, fc, room->name);
      } else if (fc != NULL
          && (fc->state == MED_FIT_BLOCKED || fc->state == MED_FIT_TOO_LONG
              || fc->state == MED_FIT_DEADLINE)) {
        add_blocked_cell (r, b, fc);
      } else if (fit == NULL && open && t >= r->now) {
        g_autofree char *iso
            = med_time_format_local (t, bd->c->zone, "%Y-%m-%dT%H:%M");
        g_autofree char *hm = med_time_format_local (t, bd->c->zone, "%H:%M");
        g_autofree char *label
            = med_http_tf (r, N_ ("%s %s free: book"), room->name, hm);

        json_builder_set_member_name (b, "free");
        json_builder_begin_object (b);
        med_json_int (b, "room_id", room->id);
        med_json_str (b, "iso", iso);
        med_json_str (b, "label", label);
        json_builder_end_object (b);
      } else {
        med_json_str (b, "other", open && t < r->now ? "past" : "closed");
      }
      t += step;
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* ---- the week ---- */

static void
add_week (MedReq *r, JsonBuilder *b, Board *bd)
{
  g_autoptr (GPtrArray) bookings = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  GDate monday;
  MedTime t0;
  gint wd;
  char dates[7][11];
  gboolean working[7];

  g_date_clear (&monday, 1);
  g_date_set_dmy (&monday, bd->d, bd->m, bd->y);
  wd = g_date_get_weekday (&monday); /* 1 = Monday */
  g_date_subtract_days (&monday, wd - 1);
  if (!med_workcal_local_to_utc (bd->c->zone, g_date_get_year (&monday),
          g_date_get_month (&monday), g_date_get_day (&monday), 0, &t0, NULL)
      || (bookings = med_store_list_bookings (r->srv->store, bd->c->id, t0,
              t0 + 7 * 86400 + 3600, FALSE, NULL))
          == NULL)
    return;
  json_builder_set_member_name (b, "days");
  json_builder_begin_array (b);
  for (guint i = 0; i < 7; i++) {
    GDate g = monday;
    MedInterval win[2];
    guint n_win = 0;
    g_autofree char *href = NULL, *label = NULL;
    static const char *const names[] = { N_ ("Mon"), N_ ("Tue"), N_ ("Wed"),
      N_ ("Thu"), N_ ("Fri"), N_ ("Sat"), N_ ("Sun") };

    g_date_add_days (&g, i);
    g_snprintf (dates[i], sizeof dates[i], "%04d-%02d-%02d",
        g_date_get_year (&g), g_date_get_month (&g), g_date_get_day (&g));
    working[i]
        = med_workcal_day_windows (bd->wc, bd->c, g_date_get_year (&g),
              g_date_get_month (&g), g_date_get_day (&g), win, &n_win, NULL)
        && n_win > 0;
    href = board_href (bd, dates[i], FALSE, bd->by_status, bd->case_id,
        bd->move_id);
    label = g_strdup_printf ("%s %s", T (names[i]), dates[i] + 5);
    json_builder_begin_object (b);
    med_json_str (b, "date", dates[i]);
    med_json_str (b, "label", label);
    med_json_str (b, "href", href);
    med_json_bool (b, "closed", !working[i]);
    if (working[i] && (bd->case_id || bd->move_id)) {
      g_autoptr (MedDayFit) fit = med_service_day_fit (r->srv->store, &ctx,
          bd->move_id ? 0 : bd->case_id, bd->move_id, g_date_get_year (&g),
          g_date_get_month (&g), g_date_get_day (&g), bd->step, NULL);

      if (fit != NULL) {
        g_autofree char *fits
            = med_http_tf (r, N_ ("fits at %u starts"), fit->n_fits);

        med_json_str (b, "fits", fits);
        med_json_bool (b, "none", fit->n_fits == 0);
      }
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "rooms");
  json_builder_begin_array (b);
  for (guint i = 0; i < bd->rooms->len; i++) {
    MedRoom *room = g_ptr_array_index (bd->rooms, i);

    begin_room_row (r, b, room, "days");
    for (guint d = 0; d < 7; d++) {
      json_builder_begin_object (b);
      med_json_bool (b, "closed", !working[d]);
      med_json_str (b, "date", dates[d]);
      json_builder_set_member_name (b, "sessions");
      json_builder_begin_array (b);
      for (guint k = 0; k < bookings->len; k++) {
        MedBooking *bk = g_ptr_array_index (bookings, k);
        g_autofree char *day
            = med_time_format_local (bk->start, bd->c->zone, "%Y-%m-%d");

        if (bk->room_id != room->id || strcmp (day, dates[d]) != 0)
          continue;
        json_builder_begin_object (b);
        add_session (r, b, bd, bk);
        json_builder_end_object (b);
      }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* ---- the page ---- */

/* The banner of a booking just made, with its undo while it lasts. */
static void
add_undo (MedReq *r, JsonBuilder *b, Board *bd, const char *booked)
{
  MedServiceCtx ctx = med_http_service_ctx (r);
  g_autoptr (MedBooking) bk = NULL;
  gint64 id;
  MedTime until;
  MedCase *k;

  if (!med_http_parse_id (booked, &id)
      || (bk = med_store_get_booking (r->srv->store, id, NULL)) == NULL
      || !med_service_undo_until (r->srv->store, &ctx, id, &until, NULL))
    return;
  k = med_page_find_id (bd->cases, bk->case_id);
  {
    g_autofree char *s
        = med_time_format_local (bk->start, bd->c->zone, "%Y-%m-%d %H:%M");
    g_autofree char *e = med_time_format_local (bk->end, bd->c->zone, "%H:%M");
    g_autofree char *u = med_time_format_local (until, bd->c->zone, "%H:%M");
    g_autofree char *what = med_http_tf (r, N_ ("Booked: %s, %s–%s, %s, %s."),
        k ? k->number : "?", s, e, room_name (bd, bk->room_id),
        mediator_name (bd, bk->mediator_id));
    g_autofree char *until_s
        = med_http_tf (r, N_ ("You can undo it until %s."), u);

    json_builder_set_member_name (b, "undo");
    json_builder_begin_object (b);
    med_json_int (b, "booking", bk->id);
    med_json_int (b, "case_id", bk->case_id);
    med_json_str (b, "what", what);
    med_json_str (b, "until", until_s);
    json_builder_end_object (b);
  }
}

void
med_page_board (MedReq *r)
{
  g_auto (Board) bd = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (MedDayFit) fit = NULL;
  g_autofree char *today = NULL, *prev = NULL, *next = NULL;
  g_autofree char *h_day = NULL, *h_week = NULL, *h_med = NULL, *h_st = NULL;
  g_autofree char *h_clear = NULL;
  const char *date = r->query ? g_hash_table_lookup (r->query, "date") : NULL;
  const char *q_view = r->query ? g_hash_table_lookup (r->query, "view") : NULL;
  const char *q_colour
      = r->query ? g_hash_table_lookup (r->query, "colour") : NULL;
  const char *q_case = r->query ? g_hash_table_lookup (r->query, "case") : NULL;
  const char *q_move = r->query ? g_hash_table_lookup (r->query, "move") : NULL;
  const char *booked
      = r->query ? g_hash_table_lookup (r->query, "booked") : NULL;
  MedServiceCtx ctx;
  JsonBuilder *b;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  bd.r = r;
  if ((bd.c = med_http_centre (r->srv, &error)) == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  ctx = med_http_service_ctx (r);
  today = med_time_format_local (r->now, bd.c->zone, "%Y-%m-%d");
  if (date == NULL || !med_date_parse (date, &bd.y, &bd.m, &bd.d)) {
    date = today;
    med_date_parse (date, &bd.y, &bd.m, &bd.d);
  }
  bd.date = g_strdup_printf ("%04d-%02d-%02d", bd.y, bd.m, bd.d);
  bd.week = g_strcmp0 (q_view, "week") == 0;
  bd.by_status = g_strcmp0 (q_colour, "status") == 0;
  if (q_case != NULL)
    med_http_parse_id (q_case, &bd.case_id);
  if (q_move != NULL)
    med_http_parse_id (q_move, &bd.move_id);
  bd.step = MAX (15, bd.c->slot_minutes);
  if ((bd.rooms = med_store_list_rooms (r->srv->store, bd.c->id, &error))
          == NULL
      || (bd.meds = med_store_list_mediators (r->srv->store, bd.c->id, &error))
          == NULL
      || (bd.interps
             = med_store_list_interpreters (r->srv->store, bd.c->id, &error))
          == NULL
      || (bd.cases = med_store_list_cases (r->srv->store, bd.c->id, -1, &error))
          == NULL
      || (bd.wc = med_store_load_workcal (r->srv->store, &error)) == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }

  b = med_http_page_begin (r, bd.week ? T ("Week board") : T ("Day board"));
  json_builder_set_member_name (b, "scripts");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "board.js");
  json_builder_end_array (b);
  prev = shift_date (bd.y, bd.m, bd.d, bd.week ? -7 : -1);
  next = shift_date (bd.y, bd.m, bd.d, bd.week ? 7 : 1);
  {
    g_autofree char *hp
        = board_href (&bd, prev, bd.week, bd.by_status, bd.case_id, bd.move_id);
    g_autofree char *hn
        = board_href (&bd, next, bd.week, bd.by_status, bd.case_id, bd.move_id);

    med_json_str (b, "prev", prev);
    med_json_str (b, "next", next);
    med_json_str (b, "prev_href", hp);
    med_json_str (b, "next_href", hn);
  }
  med_json_str (b, "date", bd.date);
  med_json_bool (b, "week", bd.week);
  med_json_bool (b, "by_status", bd.by_status);
  h_day = board_href (&bd, NULL, FALSE, bd.by_status, bd.case_id, bd.move_id);
  h_week = board_href (&bd, NULL, TRUE, bd.by_status, bd.case_id, bd.move_id);
  h_med = board_href (&bd, NULL, bd.week, FALSE, bd.case_id, bd.move_id);
  h_st = board_href (&bd, NULL, bd.week, TRUE, bd.case_id, bd.move_id);
  h_clear = board_href (&bd, NULL, bd.week, bd.by_status, 0, 0);
  med_json_str (b, "day_href", h_day);
  med_json_str (b, "week_href", h_week);
  med_json_str (b, "colour_mediator_href", h_med);
  med_json_str (b, "colour_status_href", h_st);
  med_json_str (b, "clear_href", h_clear);
  med_json_int (b, "case_id", bd.case_id);
  med_json_int (b, "move_id", bd.move_id);
  add_day_banner (r, b, &bd);
  add_legend (r, b, &bd);
  add_queue (r, b, &bd);
  if (booked != NULL)
    add_undo (r, b, &bd, booked);

  /* the picked case, or the session being moved */
  if (bd.move_id) {
    g_autoptr (MedBooking) bk
        = med_store_in_centre (r->srv->store, MED_STORE_OF_BOOKING, bd.move_id,
              r->srv->cfg.centre_id, NULL)
        ? med_store_get_booking (r->srv->store, bd.move_id, NULL)
        : NULL;

    if (bk == NULL || !med_service_may_move (bk, &ctx, &error)) {
      med_json_str (b, "pick_error",
          error ? error->message : T ("There is no such session."));
      g_clear_error (&error);
      bd.move_id = 0;
    } else {
      MedCase *k = med_page_find_id (bd.cases, bk->case_id);
      g_autofree char *s
          = med_time_format_local (bk->start, bd.c->zone, "%Y-%m-%d %H:%M");
      g_autofree char *what = med_http_tf (r,
          N_ ("Moving the session of case %s at %s in %s. Choose where it "
              "goes."),
          k ? k->number : "?", s, room_name (&bd, bk->room_id));

      med_json_str (b, "moving", what);
      bd.case_id = bk->case_id;
      med_page_add_needs (r, b, bk->case_id);
    }
  } else if (bd.case_id) {
    MedCase *k = med_page_find_id (bd.cases, bd.case_id);

    if (k == NULL) {
      med_json_str (b, "pick_error", T ("There is no such case."));
      bd.case_id = 0;
    } else {
      g_autofree char *names = party_names (r, k->id);

      json_builder_set_member_name (b, "picked");
      json_builder_begin_object (b);
      med_json_int (b, "id", k->id);
      med_json_str (b, "number", k->number);
      med_json_str (b, "kind", T (med_case_kind_label (k->kind)));
      med_json_text (r, b, "parties", names);
      json_builder_end_object (b);
      med_page_add_needs (r, b, k->id);
    }
  }
  if (!bd.week && (bd.case_id || bd.move_id)) {
    fit = med_service_day_fit (r->srv->store, &ctx, bd.move_id ? 0 : bd.case_id,
        bd.move_id, bd.y, bd.m, bd.d, bd.step, &error);
    if (fit == NULL) {
      med_json_str (b, "pick_error", error->message);
      g_clear_error (&error);
    } else {
      g_autofree char *n = fit->n_fits
          ? med_http_tf (r,
              N_ ("It fits at %u starts on this day: they are marked "
                  "✓. Point at a cell (or move to it with the arrow "
                  "keys) to see with whom, or why not."),
              fit->n_fits)
          : g_strdup (T ("It fits nowhere on this day: point at a cell to "
                         "see why, or try another day (the week view counts "
                         "the starts per day)."));

      med_json_str (b, "fits", n);
      med_json_bool (b, "none", fit->n_fits == 0);
    }
  }
  if (bd.week)
    add_week (r, b, &bd);
  else
    add_day (r, b, &bd, fit);
  med_http_page_send (r, b, "board", 200);
}
