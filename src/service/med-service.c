/* med-service.c — the use cases shared by the CLI and the HTTP server:
 * slots for a case, book, reschedule, cancel, schedule a day.
 *
 * A slot search reads bookings in growing windows (14 days, 8 weeks, the
 * whole default horizon) instead of the whole horizon at once: most
 * earliest slots are found within days, and a cold start should not read a
 * year of bookings to find one. A window only ends the search when it
 * holds every slot asked for in the preferred room kind, so the answer is
 * the one a search over the whole horizon gives (a fallback room kind is
 * only right when the preferred kind has nothing before the deadline).
 * Mediators free at the same time are ranked by their load; every window
 * gets the load of the whole horizon (one aggregate query), so a narrow
 * window ranks them as the whole horizon does. */
#define G_LOG_DOMAIN "medsched-service"

#include "med-service-private.h"

#include <med-store-write.h>

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK (med-service-error-quark, med_service_error)
/* clang-format on */

void
med_service_case_context_clear (CaseContext *cc)
{
  g_clear_pointer (&cc->sched, med_scheduler_free);
  g_clear_pointer (&cc->snap, med_store_snapshot_free);
  g_clear_pointer (&cc->centre, med_centre_free);
  g_clear_pointer (&cc->kase, med_case_free);
  g_clear_pointer (&cc->parties, g_ptr_array_unref);
  g_clear_pointer (&cc->party_busy, g_array_unref);
}

static gboolean
check_schedulable (const MedCase *k, GError **error)
{
  if (k->status == MED_CASE_STATUS_DISPATCHED
      || k->status == MED_CASE_STATUS_SCHEDULED
      || k->status == MED_CASE_STATUS_NOT_SETTLED) {
    if (k->department == MED_DEPARTMENT_COURT_MEDIATION)
      return TRUE;
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "case %s is dispatched to %s, not to court mediation", k->number,
        med_department_to_string (k->department));
    return FALSE;
  }
  g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
      "case %s is %s; dispatch it to court-mediation before scheduling",
      k->number, med_case_status_to_string (k->status));
  return FALSE;
}

gboolean
med_service_load_case (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, gint64 exclude_booking, CaseContext *cc, GError **error)
{
  cc->store = store;
  cc->ctx = ctx;
  cc->exclude_booking = exclude_booking;
  if ((cc->centre = med_store_get_centre (store, ctx->centre_id, error)) == NULL
      || !med_store_in_centre (store, MED_STORE_OF_CASE, case_id,
          ctx->centre_id, error)
      || (cc->kase = med_store_get_case (store, case_id, error)) == NULL
      || !check_schedulable (cc->kase, error)
      || (cc->parties = med_store_list_parties (store, case_id, error)) == NULL
      || (cc->party_busy
             = med_store_party_busy (store, case_id, exclude_booking, error))
          == NULL)
    return FALSE;
  cc->last_mediator = med_store_case_last_mediator (store, case_id, error);
  return error == NULL || *error == NULL;
}

gboolean
med_service_load_window (CaseContext *cc, MedTime from, MedTime to,
    GArray *load, GError **error)
{
  g_clear_pointer (&cc->sched, med_scheduler_free);
  g_clear_pointer (&cc->snap, med_store_snapshot_free);
  cc->snap = med_store_load_snapshot (cc->store, cc->ctx->centre_id,
      from - 86400, to + 86400, error);
  if (cc->snap == NULL)
    return FALSE;
  if (load != NULL)
    cc->snap->snap.mediator_load = g_array_ref (load);
  if (cc->exclude_booking != 0) {
    GArray *bk = cc->snap->snap.bookings;

    for (guint i = bk->len; i > 0; i--) {
      if (g_array_index (bk, MedBusy, i - 1).booking_id == cc->exclude_booking)
        g_array_remove_index (bk, i - 1);
    }
  }
  cc->sched = med_scheduler_new (&cc->snap->snap, error);
  return cc->sched != NULL;
}

void
med_service_fill_request (CaseContext *cc, MedSlotRequest *req)
{
  memset (req, 0, sizeof *req);
  req->kase = cc->kase;
  req->parties = cc->parties;
  req->party_busy = cc->party_busy;
  req->now = cc->ctx->now;
  req->preferred_mediator_id = cc->last_mediator;
}

static gboolean
any_fallback (GPtrArray *slots)
{
  for (guint i = 0; i < slots->len; i++) {
    if (((MedSlot *) g_ptr_array_index (slots, i))->fallback)
      return TRUE;
  }
  return FALSE;
}

static GPtrArray *
search (CaseContext *cc, MedSlotRequest *req, GError **error)
{
  static const int window_days[] = { 14, 56, 0 };
  MedTime from = req->not_before ? req->not_before : req->now;
  MedTime full
      = from + (MedTime) (MED_SCHEDULER_DEFAULT_HORIZON_DAYS + 2) * 86400;
  g_autoptr (GArray) load = NULL;

  /* A narrow window sees only part of each mediator's bookings, and the
   * scheduler breaks ties by load: give it the load of the whole horizon
   * (the last window's range), so that every window ranks alike. */
  load = med_store_mediator_load (cc->store, cc->ctx->centre_id,
      MIN (from, req->now) - 86400, full + 86400, cc->exclude_booking, error);
  if (load == NULL)
    return NULL;

  for (guint w = 0; w < G_N_ELEMENTS (window_days); w++) {
    MedTime to
        = window_days[w] ? from + (MedTime) window_days[w] * 86400 : full;
    GPtrArray *slots;
    g_autoptr (GError) local = NULL;

    if (to > full)
      to = full;
    if (!med_service_load_window (cc, MIN (from, req->now), to, load, error))
      return NULL;
    req->horizon_end = window_days[w] ? to : 0;
    slots = med_scheduler_find_slots (cc->sched, req, NULL, &local);
    if (slots != NULL
        && (window_days[w] == 0
            || (slots->len >= MAX (req->max_results, 1)
                && !any_fallback (slots))))
      return slots;
    /* the last window's answer is final, whatever it is */
    if (slots == NULL
        && (window_days[w] == 0
            || !g_error_matches (local, MED_SCHEDULER_ERROR,
                MED_SCHEDULER_ERROR_NO_SLOT))) {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
    g_clear_pointer (&slots, g_ptr_array_unref);
    /* a deadline inside this window: a wider one cannot help */
    if (cc->kase->deadline != 0 && cc->kase->deadline <= to) {
      req->horizon_end = 0;
      return med_scheduler_find_slots (cc->sched, req, NULL, error);
    }
  }
  g_return_val_if_reached (NULL);
}

GPtrArray *
med_service_find_slots (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, MedTime not_before, gint duration_minutes, guint count,
    GError **error)
{
  g_auto (CaseContext) cc = { 0 };
  MedSlotRequest req;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  if (!med_service_load_case (store, ctx, case_id, 0, &cc, error))
    return NULL;
  med_service_fill_request (&cc, &req);
  req.not_before = not_before;
  req.duration_minutes = duration_minutes;
  req.max_results = count;
  return search (&cc, &req, error);
}

static void
booking_from_slot (const MedSlot *s, gint64 case_id, MedBooking *b)
{
  memset (b, 0, sizeof *b);
  b->case_id = case_id;
  b->room_id = s->room_id;
  b->mediator_id = s->mediator_id;
  b->interpreter_id = s->interpreter_id;
  b->start = s->start;
  b->end = s->end;
  b->mode = s->mode;
  b->status = MED_BOOKING_STATUS_CONFIRMED;
}

/* The writes of a booking use case, run by med_store_run: once more on a
 * fresh connection when the first one was lost before COMMIT (nothing was
 * written then), never twice after. */
typedef struct
{
  const MedServiceCtx *ctx;
  const MedBooking *b;
  gint64 booking_id; /* reschedule, cancel: the booking; book: its new id */
  const MedBooking *before; /* reschedule: as it was */
  gboolean undo; /* cancel: an undo by whoever booked it */
} BookingTxn;

static gboolean
book_txn (MedStore *store, gpointer data, GError **error)
{
  BookingTxn *t = data;

  t->booking_id = med_store_book (store, t->b, t->ctx->actor, error);
  return t->booking_id != 0
      && med_service_queue_invites (store, t->ctx->centre_id, t->booking_id,
          NULL, t->ctx->actor, NULL, error)
      && med_service_queue_sms (store, t->ctx->centre_id, t->booking_id,
          MED_SMS_BOOKED, t->ctx->actor, NULL, error);
}

static gboolean
reschedule_txn (MedStore *store, gpointer data, GError **error)
{
  BookingTxn *t = data;

  return med_store_reschedule (store, t->booking_id, t->b, t->ctx->actor, error)
      && med_service_queue_invites (store, t->ctx->centre_id, t->booking_id,
          t->before, t->ctx->actor, NULL, error)
      && med_service_queue_sms (store, t->ctx->centre_id, t->booking_id,
          MED_SMS_MOVED, t->ctx->actor, NULL, error);
}

static gboolean
cancel_txn (MedStore *store, gpointer data, GError **error)
{
  BookingTxn *t = data;

  g_autofree char *detail
      = g_strdup_printf ("{\"undone\":%" G_GINT64_FORMAT "}", t->booking_id);

  return (!t->undo
             || med_service_undo_until (store, t->ctx, t->booking_id, NULL,
                 error))
      && med_store_cancel (store, t->booking_id, t->ctx->actor, error)
      && (!t->undo
          || med_store_add_audit (store, t->ctx->actor, "booking.undo",
              "booking", t->booking_id, detail, error))
      && med_service_queue_invites (store, t->ctx->centre_id, t->booking_id,
          NULL, t->ctx->actor, NULL, error)
      && med_service_queue_sms (store, t->ctx->centre_id, t->booking_id,
          MED_SMS_CANCELLED, t->ctx->actor, NULL, error);
}

/* Checks a hand-picked slot against the bookings of its own days. A
 * clash the scheduler finds ("something is booked then") is named by the
 * store's own re-check when it can: which room, mediator, interpreter or
 * party, and when (med_store_error_get_conflict), for the pages to say in
 * the reader's language. */
gboolean
med_service_check_manual (CaseContext *cc, MedSlot *slot, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GError) named = NULL;
  MedSlotRequest req;
  MedBooking b;

  if (!med_service_load_window (cc, MIN (slot->start, cc->ctx->now), slot->end,
          NULL, error))
    return FALSE;
  med_service_fill_request (cc, &req);
  if (med_scheduler_check_slot (cc->sched, &req, slot, &local))
    return TRUE;
  if (g_error_matches (local, MED_SCHEDULER_ERROR,
          MED_SCHEDULER_ERROR_CONFLICT)) {
    booking_from_slot (slot, cc->kase->id, &b);
    if (!med_store_check_booking (cc->store, &b, cc->exclude_booking, &named)
        && med_store_error_get_conflict (named) != NULL) {
      g_propagate_error (error, g_steal_pointer (&named));
      return FALSE;
    }
  }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

static MedSlot *
copy_manual (const MedSlot *manual)
{
  MedSlot *s = g_new0 (MedSlot, 1);

  *s = *manual;
  s->reasons = NULL;
  s->explanation = NULL;
  return s;
}

gint64
med_service_book (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    const MedSlot *manual, gint duration_minutes, MedSlot **out_slot,
    GError **error)
{
  g_auto (CaseContext) cc = { 0 };
  g_autoptr (MedSlot) slot = NULL;
  MedBooking b;
  BookingTxn t = { ctx, &b, 0, NULL };

  g_return_val_if_fail (store != NULL && ctx != NULL, 0);
  if (!med_service_load_case (store, ctx, case_id, 0, &cc, error))
    return 0;
  if (manual != NULL) {
    slot = copy_manual (manual);
    if (slot->end <= slot->start) {
      gint minutes = duration_minutes ? duration_minutes
          : cc.kase->duration_minutes ? cc.kase->duration_minutes
                                      : cc.centre->default_duration_minutes;

      slot->end = slot->start + (MedTime) minutes * 60;
    }
    if (!med_service_check_manual (&cc, slot, error))
      return 0;
  } else {
    MedSlotRequest req;
    g_autoptr (GPtrArray) slots = NULL;

    med_service_fill_request (&cc, &req);
    req.duration_minutes = duration_minutes;
    slots = search (&cc, &req, error);
    if (slots == NULL)
      return 0;
    slot = g_ptr_array_steal_index (slots, 0);
  }
  booking_from_slot (slot, case_id, &b);
  if (!med_store_run (store, book_txn, &t, error))
    return 0;
  if (out_slot != NULL)
    *out_slot = g_steal_pointer (&slot);
  return t.booking_id;
}

gboolean
med_service_reschedule (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, const MedSlot *manual, MedSlot **out_slot,
    GError **error)
{
  g_auto (CaseContext) cc = { 0 };
  g_autoptr (MedBooking) old = NULL;
  g_autoptr (MedSlot) slot = NULL;
  MedBooking b;
  BookingTxn t = { ctx, NULL, booking_id, NULL };

  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);
  if (!med_store_in_centre (store, MED_STORE_OF_BOOKING, booking_id,
          ctx->centre_id, error))
    return FALSE;
  old = med_store_get_booking (store, booking_id, error);
  if (old == NULL)
    return FALSE;
  if (!med_service_may_move (old, ctx, error))
    return FALSE;
  if (!med_service_load_case (store, ctx, old->case_id, booking_id, &cc, error))
    return FALSE;
  if (manual != NULL) {
    slot = copy_manual (manual);
    if (slot->room_id == 0)
      slot->room_id = old->room_id;
    if (slot->mediator_id == 0)
      slot->mediator_id = old->mediator_id;
    if (slot->interpreter_id == 0)
      slot->interpreter_id = old->interpreter_id;
    if (slot->end <= slot->start)
      slot->end = slot->start + (old->end - old->start);
    if (!med_service_check_manual (&cc, slot, error))
      return FALSE;
  } else {
    MedSlotRequest req;
    g_autoptr (GPtrArray) slots = NULL;
    guint pick;
    MedSlot *first;

    med_service_fill_request (&cc, &req);
    req.duration_minutes = (gint) ((old->end - old->start) / 60);
    req.max_results = 2;
    slots = search (&cc, &req, error);
    if (slots == NULL)
      return FALSE;
    /* "next earliest": not the very slot it already has */
    first = g_ptr_array_index (slots, 0);
    pick = (first->start == old->start && first->room_id == old->room_id
               && slots->len > 1)
        ? 1
        : 0;
    slot = g_ptr_array_steal_index (slots, pick);
  }
  booking_from_slot (slot, old->case_id, &b);
  t.b = &b;
  t.before = old;
  if (!med_store_run (store, reschedule_txn, &t, error))
    return FALSE;
  if (out_slot != NULL)
    *out_slot = g_steal_pointer (&slot);
  return TRUE;
}

gboolean
med_service_cancel_txn (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gboolean undo, GError **error)
{
  BookingTxn t = { ctx, NULL, booking_id, NULL, undo };

  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);
  return med_store_in_centre (store, MED_STORE_OF_BOOKING, booking_id,
             ctx->centre_id, error)
      && med_store_run (store, cancel_txn, &t, error);
}

gboolean
med_service_cancel (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, GError **error)
{
  return med_service_cancel_txn (store, ctx, booking_id, FALSE, error);
}

typedef struct
{
  GPtrArray *cases; /* MedCase* */
  GPtrArray *parties; /* GPtrArray* per queued case */
  GPtrArray *busy; /* GArray* per queued case */
  GArray *queue; /* MedQueueEntry */
} Queue;

static void
queue_clear (Queue *q)
{
  g_clear_pointer (&q->cases, g_ptr_array_unref);
  g_clear_pointer (&q->parties, g_ptr_array_unref);
  g_clear_pointer (&q->busy, g_ptr_array_unref);
  g_clear_pointer (&q->queue, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Queue, queue_clear)

/* The dispatched court-mediation cases with their parties. */
static gboolean
load_queue (MedStore *store, const MedServiceCtx *ctx, Queue *q, GError **error)
{
  q->cases = med_store_list_cases (store, ctx->centre_id,
      MED_CASE_STATUS_DISPATCHED, error);
  if (q->cases == NULL)
    return FALSE;
  q->parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  q->busy = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  q->queue = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
  for (guint i = 0; i < q->cases->len; i++) {
    MedCase *k = g_ptr_array_index (q->cases, i);
    MedQueueEntry e = { 0 };
    GPtrArray *parties;
    GArray *busy;

    if (k->department != MED_DEPARTMENT_COURT_MEDIATION)
      continue;
    parties = med_store_list_parties (store, k->id, error);
    if (parties == NULL)
      return FALSE;
    g_ptr_array_add (q->parties, parties);
    busy = med_store_party_busy (store, k->id, 0, error);
    if (busy == NULL)
      return FALSE;
    g_ptr_array_add (q->busy, busy);
    e.kase = k;
    e.parties = parties;
    e.party_busy = busy;
    e.preferred_mediator_id
        = med_store_case_last_mediator (store, k->id, error);
    if (error != NULL && *error != NULL)
      return FALSE;
    g_array_append_val (q->queue, e);
  }
  return TRUE;
}

/* The plan's wall-clock safety net: the scheduler spends a work budget
 * derived from the time limit and asks here between steps. */
typedef struct
{
  gint64 deadline; /* g_get_monotonic_time () units */
} PlanClock;

static gboolean
plan_deadline_passed_cb (gpointer data)
{
  const PlanClock *clock = data;

  return g_get_monotonic_time () >= clock->deadline;
}

typedef struct
{
  const MedServiceCtx *ctx;
  MedPlan *plan;
  guint n;
} PlanTxn;

/* Books every placed item of a plan with its invites. */
static gboolean
plan_txn (MedStore *store, gpointer data, GError **error)
{
  PlanTxn *pt = data;

  pt->n = 0;
  for (guint i = 0; i < pt->plan->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (pt->plan->items, i);
    BookingTxn t = { pt->ctx, NULL, 0, NULL };
    MedBooking b;

    if (it->slot == NULL)
      continue;
    booking_from_slot (it->slot, it->case_id, &b);
    t.b = &b;
    if (!book_txn (store, &t, error))
      return FALSE;
    pt->n++;
  }
  return TRUE;
}

MedPlan *
med_service_schedule_day (MedStore *store, const MedServiceCtx *ctx, gint year,
    gint month, gint day, gboolean dry_run, const MedPlanOptions *options,
    guint *booked, GError **error)
{
  MedPlanOptions opts = { 0 };
  PlanClock clock = { g_get_monotonic_time () };
  g_autoptr (MedCentre) centre = NULL;
  g_autoptr (MedStoreSnapshot) snap = NULL;
  g_autoptr (MedScheduler) sched = NULL;
  g_autoptr (MedPlan) plan = NULL;
  g_auto (Queue) q = { 0 };
  PlanTxn pt = { 0 };
  MedTime day_start;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  if (booked != NULL)
    *booked = 0;
  if (!g_date_valid_dmy (day, month, year)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "invalid date");
    return NULL;
  }
  if (options != NULL)
    opts = *options;
  if (!(opts.time_limit >= 0 && opts.time_limit <= MED_PLAN_MAX_TIME_LIMIT)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "the time limit must be between 0 and %g seconds",
        MED_PLAN_MAX_TIME_LIMIT);
    return NULL;
  }
  if (opts.stop == NULL) {
    clock.deadline
        += (gint64) ((opts.time_limit > 0 ? opts.time_limit
                                          : MED_PLAN_DEFAULT_TIME_LIMIT)
            * G_USEC_PER_SEC);
    opts.stop = plan_deadline_passed_cb;
    opts.stop_data = &clock;
  }
  if ((centre = med_store_get_centre (store, ctx->centre_id, error)) == NULL
      || !med_workcal_local_to_utc (centre->zone, year, month, day, 0,
          &day_start, error)
      || (snap = med_store_load_snapshot (store, ctx->centre_id,
              day_start - 86400, day_start + 2 * 86400, error))
          == NULL
      || (sched = med_scheduler_new (&snap->snap, error)) == NULL
      || !load_queue (store, ctx, &q, error))
    return NULL;
  plan = med_scheduler_plan_day (sched, q.queue, year, month, day, ctx->now,
      &opts, error);
  if (plan == NULL)
    return NULL;
  if (dry_run || plan->placed == 0)
    return g_steal_pointer (&plan);

  pt.ctx = ctx;
  pt.plan = plan;
  if (!med_store_run (store, plan_txn, &pt, error))
    return NULL;
  if (booked != NULL)
    *booked = pt.n;
  return g_steal_pointer (&plan);
}
