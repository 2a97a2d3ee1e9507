/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-board.c — what the day board asks: where a case (or a
 * session being moved) fits on a day, room by room and start by start,
 * and why not where it does not; one start in one room (the preview of a
 * click); what a case needs (length, room kind, minors, languages, remote
 * parties); and undoing a booking just made.
 *
 * Where it fits is the scheduler's own answer, asked once per cell: a
 * snapshot holding only that room, a search from that start that may not
 * go past start + length on that day. A slot back means it fits there,
 * with the mediator and interpreter the search would take; no slot means
 * it does not, and the search's block bits and message say why (room
 * kind, mediators booked or on leave, a party busy elsewhere, …). So the
 * board never disagrees with booking by hand (which checks a slot with
 * med_scheduler_check_slot under the same rules) or with the search.
 *
 * Undo is a cancellation through med_service_cancel's path with its
 * CANCEL messages, allowed to the actor who booked, within
 * MED_SERVICE_UNDO_SECONDS of the booking, while the booking is unchanged
 * (never moved); it leaves a "booking.undo" audit row beside the
 * cancellation. */
#define G_LOG_DOMAIN "medsched-service"

#include "med-service-private.h"

#include <medsched/med-workcal.h>

#include <string.h>

void
med_fit_cell_free (MedFitCell *c)
{
  if (c == NULL)
    return;
  med_slot_free (c->slot);
  if (c->reasons != NULL)
    g_ptr_array_unref (c->reasons);
  g_free (c->why);
  g_free (c);
}

void
med_day_fit_free (MedDayFit *f)
{
  if (f == NULL)
    return;
  g_clear_pointer (&f->cells, g_ptr_array_unref);
  g_free (f);
}

/* The case (or the booking's case) loaded for a search that leaves the
 * booking being moved out; *duration gets the session's length. */
static gboolean
load_subject (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    gint64 booking_id, CaseContext *cc, gint *duration, GError **error)
{
  if (booking_id != 0) {
    g_autoptr (MedBooking) bk = NULL;

    if (!med_store_in_centre (store, MED_STORE_OF_BOOKING, booking_id,
            ctx->centre_id, error)
        || (bk = med_store_get_booking (store, booking_id, error)) == NULL)
      return FALSE;
    if (case_id != 0 && bk->case_id != case_id) {
      g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
          "booking %" G_GINT64_FORMAT
          " is not a session of case %" G_GINT64_FORMAT,
          booking_id, case_id);
      return FALSE;
    }
    if (!med_service_may_move (bk, ctx, error))
      return FALSE;
    *duration = (gint) ((bk->end - bk->start) / 60);
    case_id = bk->case_id;
  }
  if (!med_service_load_case (store, ctx, case_id, booking_id, cc, error))
    return FALSE;
  if (booking_id == 0)
    *duration = cc->kase->duration_minutes
        ? cc->kase->duration_minutes
        : cc->centre->default_duration_minutes;
  return TRUE;
}

/* One scheduler per room, each over a snapshot holding that room alone. */
typedef struct
{
  MedSnapshot one;
  GPtrArray *rooms; /* the one room (not owned) */
  MedScheduler *sched;
} RoomProbe;

static void
room_probe_free (gpointer p)
{
  RoomProbe *rp = p;

  med_scheduler_free (rp->sched);
  g_ptr_array_unref (rp->rooms);
  g_free (rp);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomProbe, room_probe_free)

static RoomProbe *
room_probe_new (CaseContext *cc, MedRoom *room, GError **error)
{
  RoomProbe *rp = g_new0 (RoomProbe, 1);

  rp->one = cc->snap->snap;
  rp->rooms = g_ptr_array_new ();
  g_ptr_array_add (rp->rooms, room);
  rp->one.rooms = rp->rooms;
  if ((rp->sched = med_scheduler_new (&rp->one, error)) == NULL) {
    room_probe_free (rp);
    return NULL;
  }
  return rp;
}

/* Does the case fit in the probe's room at start, for duration minutes?
 * windows: the day's working windows. (transfer full) */
static MedFitCell *
probe_cell (CaseContext *cc, RoomProbe *rp, MedTime start, gint duration,
    const MedInterval *win, guint n_win, GError **error)
{
  g_autoptr (MedFitCell) cell = g_new0 (MedFitCell, 1);
  g_autoptr (GPtrArray) slots = NULL;
  g_autoptr (GError) local = NULL;
  MedTime end = start + (MedTime) duration * 60;
  gboolean in_window = FALSE, starts_inside = FALSE;
  MedSlotRequest req;

  cell->room_id = ((MedRoom *) g_ptr_array_index (rp->rooms, 0))->id;
  cell->start = start;
  for (guint w = 0; w < n_win; w++) {
    starts_inside |= start >= win[w].start && start < win[w].end;
    in_window |= start >= win[w].start && end <= win[w].end;
  }
  if (start < cc->ctx->now) {
    cell->state = MED_FIT_PAST;
    return g_steal_pointer (&cell);
  }
  if (!starts_inside) {
    cell->state = MED_FIT_CLOSED;
    return g_steal_pointer (&cell);
  }
  if (!in_window) {
    cell->state = MED_FIT_TOO_LONG;
    return g_steal_pointer (&cell);
  }
  if (cc->kase->deadline != 0 && end > cc->kase->deadline) {
    cell->state = MED_FIT_DEADLINE;
    return g_steal_pointer (&cell);
  }
  med_service_fill_request (cc, &req);
  req.not_before = start;
  req.horizon_end = end;
  req.single_day = TRUE;
  req.max_results = 1;
  req.duration_minutes = duration;
  slots = med_scheduler_find_slots (rp->sched, &req, &cell->blocks, &local);
  if (slots != NULL && slots->len > 0
      && ((MedSlot *) g_ptr_array_index (slots, 0))->start == start) {
    cell->state = MED_FIT_FITS;
    cell->slot = g_ptr_array_steal_index (slots, 0);
    cell->blocks = 0;
    return g_steal_pointer (&cell);
  }
  if (local != NULL
      && !g_error_matches (local, MED_SCHEDULER_ERROR,
          MED_SCHEDULER_ERROR_NO_SLOT)) {
    g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }
  cell->state = MED_FIT_BLOCKED;
  cell->why = g_strdup (local ? local->message : "");
  cell->reasons = med_reasons_copy (med_scheduler_error_get_reasons (local));
  return g_steal_pointer (&cell);
}

/* The day's working windows and its local midnight. */
static gboolean
day_windows (CaseContext *cc, gint y, gint m, gint d, MedInterval win[2],
    guint *n_win, MedTime *day0, GError **error)
{
  if (!g_date_valid_dmy (d, m, y)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "invalid date");
    return FALSE;
  }
  return med_workcal_local_to_utc (cc->centre->zone, y, m, d, 0, day0, error)
      && med_workcal_day_windows (cc->snap->workcal, cc->centre, y, m, d, win,
          n_win, error);
}

/* Loads the snapshot of the day around [day0, day0 + 1 day) with the
 * mediators' load over the search horizon, as the slot search does. */
static gboolean
load_day (CaseContext *cc, MedTime day0, GError **error)
{
  MedTime from = MIN (day0, cc->ctx->now);
  g_autoptr (GArray) load
      = med_store_mediator_load (cc->store, cc->ctx->centre_id, from - 86400,
          from + (MedTime) (MED_SCHEDULER_DEFAULT_HORIZON_DAYS + 3) * 86400,
          cc->exclude_booking, error);

  return load != NULL
      && med_service_load_window (cc, from, day0 + 86400, load, error);
}

MedDayFit *
med_service_day_fit (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    gint64 booking_id, gint year, gint month, gint day, gint step_minutes,
    GError **error)
{
  g_auto (CaseContext) cc = { 0 };
  g_autoptr (MedDayFit) fit = NULL;
  g_autoptr (GPtrArray) probes = NULL;
  MedInterval win[2];
  guint n_win = 0;
  gint duration = 0;
  MedTime day0, step;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  if (!g_date_valid_dmy (day, month, year)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "invalid date");
    return NULL;
  }
  if (!load_subject (store, ctx, case_id, booking_id, &cc, &duration, error)
      || !med_workcal_local_to_utc (cc.centre->zone, year, month, day, 0, &day0,
          error)
      || !load_day (&cc, day0, error)
      || !day_windows (&cc, year, month, day, win, &n_win, &day0, error))
    return NULL;
  if (step_minutes <= 0)
    step_minutes = cc.centre->slot_minutes > 0 ? cc.centre->slot_minutes : 15;
  step = (MedTime) step_minutes * 60;

  fit = g_new0 (MedDayFit, 1);
  fit->case_id = cc.kase->id;
  fit->booking_id = booking_id;
  fit->duration_minutes = duration;
  fit->cells
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_fit_cell_free);
  probes = g_ptr_array_new_with_free_func (room_probe_free);
  for (guint i = 0; i < cc.snap->snap.rooms->len; i++) {
    RoomProbe *rp = room_probe_new (&cc,
        g_ptr_array_index (cc.snap->snap.rooms, i), error);

    if (rp == NULL)
      return NULL;
    g_ptr_array_add (probes, rp);
  }
  for (guint w = 0; w < n_win; w++) {
    /* starts on the step's grid from local midnight */
    MedTime first = day0 + ((win[w].start - day0 + step - 1) / step) * step;

    for (guint i = 0; i < probes->len; i++) {
      for (MedTime t = first; t < win[w].end; t += step) {
        MedFitCell *cell = probe_cell (&cc, g_ptr_array_index (probes, i), t,
            duration, win, n_win, error);

        if (cell == NULL)
          return NULL;
        if (cell->state == MED_FIT_FITS)
          fit->n_fits++;
        g_ptr_array_add (fit->cells, cell);
      }
    }
  }
  return g_steal_pointer (&fit);
}

MedFitCell *
med_service_fit_at (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    gint64 booking_id, gint64 room_id, MedTime start, GError **error)
{
  g_auto (CaseContext) cc = { 0 };
  g_autoptr (RoomProbe) rp = NULL;
  MedRoom *room = NULL;
  MedInterval win[2];
  guint n_win = 0;
  gint duration = 0, y, m, d;
  MedTime day0;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  if (!load_subject (store, ctx, case_id, booking_id, &cc, &duration, error)
      || !med_workcal_local_date (cc.centre->zone, start, &y, &m, &d, error)
      || !med_workcal_local_to_utc (cc.centre->zone, y, m, d, 0, &day0, error)
      || !load_day (&cc, day0, error)
      || !day_windows (&cc, y, m, d, win, &n_win, &day0, error))
    return NULL;
  for (guint i = 0; i < cc.snap->snap.rooms->len && room == NULL; i++) {
    MedRoom *r = g_ptr_array_index (cc.snap->snap.rooms, i);

    if (r->id == room_id)
      room = r;
  }
  if (room == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no room %" G_GINT64_FORMAT " in this centre", room_id);
    return NULL;
  }
  if ((rp = room_probe_new (&cc, room, error)) == NULL)
    return NULL;
  return probe_cell (&cc, rp, start, duration, win, n_win, error);
}

/* ---- what a case needs ------------------------------------------------- */

void
med_case_needs_clear (MedCaseNeeds *n)
{
  g_clear_pointer (&n->languages, g_strfreev);
}

gboolean
med_service_case_needs (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, MedCaseNeeds *out, GError **error)
{
  g_autoptr (MedCase) k = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (GPtrArray) parties = NULL, meds = NULL;
  g_autoptr (GPtrArray) langs = g_ptr_array_new ();
  gboolean someone_speaks_all = FALSE;

  g_return_val_if_fail (store != NULL && ctx != NULL && out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  if ((k = med_store_get_case (store, case_id, error)) == NULL
      || (c = med_store_get_centre (store, ctx->centre_id, error)) == NULL
      || (parties = med_store_list_parties (store, case_id, error)) == NULL
      || (meds = med_store_list_mediators (store, ctx->centre_id, error))
          == NULL)
    return FALSE;
  out->duration_minutes
      = k->duration_minutes ? k->duration_minutes : c->default_duration_minutes;
  out->room_kind
      = med_scheduler_preferred_kind (k, parties, &out->room_kind_why);
  out->minors = k->minors;
  out->urgent = k->urgent;
  out->n_parties = parties->len;
  for (guint i = 0; i < parties->len; i++) {
    MedParty *p = g_ptr_array_index (parties, i);
    gboolean seen = FALSE;

    if (p->attendance == MED_ATTENDANCE_REMOTE)
      out->n_remote++;
    for (guint j = 0; j < langs->len && !seen; j++)
      seen = strcmp (g_ptr_array_index (langs, j), p->language) == 0;
    if (!seen)
      g_ptr_array_add (langs, p->language);
  }
  /* an interpreter is needed unless a mediator who handles the kind
   * speaks every party's language */
  for (guint i = 0; i < meds->len && !someone_speaks_all; i++) {
    MedMediator *m = g_ptr_array_index (meds, i);
    gboolean all = (m->specialties & (1u << k->kind)) != 0;

    for (guint j = 0; all && j < langs->len; j++)
      all = med_mediator_speaks (m, g_ptr_array_index (langs, j));
    someone_speaks_all = all;
  }
  out->needs_interpreter = parties->len > 0 && !someone_speaks_all;
  g_ptr_array_add (langs, NULL);
  out->languages = g_strdupv ((char **) langs->pdata);
  return TRUE;
}

/* ---- moving, undoing --------------------------------------------------- */

gboolean
med_service_may_move (const MedBooking *bk, const MedServiceCtx *ctx,
    GError **error)
{
  if (bk->status != MED_BOOKING_STATUS_CONFIRMED) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "booking %" G_GINT64_FORMAT " is cancelled", bk->id);
    return FALSE;
  }
  if (bk->end <= ctx->now) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "booking %" G_GINT64_FORMAT " has taken place: a finished session "
        "is not moved",
        bk->id);
    return FALSE;
  }
  return TRUE;
}

gboolean
med_service_undo_until (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, MedTime *until, GError **error)
{
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedBookingExtra) x = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  MedAuditEntry *first;

  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);
  if (!med_store_in_centre (store, MED_STORE_OF_BOOKING, booking_id,
          ctx->centre_id, error)
      || (bk = med_store_get_booking (store, booking_id, error)) == NULL
      || (x = med_store_get_booking_extra (store, booking_id, error)) == NULL
      || (audit = med_store_list_audit (store, "booking", booking_id, error))
          == NULL)
    return FALSE;
  first = audit->len > 0 ? g_ptr_array_index (audit, 0) : NULL;
  if (bk->status != MED_BOOKING_STATUS_CONFIRMED || bk->sequence != 0
      || first == NULL || g_strcmp0 (first->action, "booking.create") != 0
      || g_strcmp0 (first->actor, ctx->actor) != 0
      || x->created_at + MED_SERVICE_UNDO_SECONDS <= ctx->now
      || x->created_at > ctx->now) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "booking %" G_GINT64_FORMAT " can no longer be undone: a booking is "
        "undone by whoever made it, within %d minutes, before it changes; "
        "cancel it instead",
        booking_id, MED_SERVICE_UNDO_SECONDS / 60);
    return FALSE;
  }
  if (until != NULL)
    *until = x->created_at + MED_SERVICE_UNDO_SECONDS;
  return TRUE;
}

gboolean
med_service_undo_booking (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, GError **error)
{
  return med_service_cancel_txn (store, ctx, booking_id, TRUE, error);
}
