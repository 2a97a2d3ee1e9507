/* SPDX-License-Identifier: GPL-3.0-or-later */
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

/* ---- planning a day ----
 *
 * Three steps: the input (the centre's snapshot around the day and the
 * dispatched queue) is read from the store on the caller's thread; the
 * plan is searched (med_scheduler_plan_day: pure, so any thread may run
 * it); the plan is booked on the caller's thread in one transaction. The
 * synchronous use case runs the three in a row; the asynchronous one runs
 * the search in a worker thread, so that `serve` answers other requests
 * meanwhile.
 *
 * Between the read and the booking the store may change (a clerk books
 * by hand while the plan is searched, another node plans too). The
 * booking transaction checks each session again, as every booking does;
 * a session whose room, mediator, interpreter or parties were taken
 * meanwhile, or whose case is no longer waiting to be dispatched, is not
 * booked: its case is reported unplaced with the clash named, and every
 * other session is booked. The plan is not searched again: the clerk sees
 * what was lost and may plan the day once more (the lost cases are still
 * waiting then). */

typedef struct
{
  gint64 deadline; /* g_get_monotonic_time () units */
  GCancellable *cancel; /* may be NULL */
} PlanClock;

/* The plan's wall-clock safety net: the scheduler spends a work budget
 * derived from the time limit and asks here between steps. */
static gboolean
plan_deadline_passed_cb (gpointer data)
{
  const PlanClock *clock = data;

  return g_get_monotonic_time () >= clock->deadline
      || g_cancellable_is_cancelled (clock->cancel);
}

/* Everything a plan needs, read on the caller's thread; owned by the
 * worker while it searches. */
typedef struct
{
  MedServiceCtx ctx; /* actor: owned copy */
  gint year, month, day;
  gboolean dry_run;
  MedPlanOptions opts;
  PlanClock clock;
  MedCentre *centre;
  MedStoreSnapshot *snap;
  Queue q;
  MedPlan *plan; /* the result */
} PlanJob;

static void
plan_job_free (PlanJob *job)
{
  g_free ((char *) job->ctx.actor);
  g_clear_pointer (&job->plan, med_plan_free);
  queue_clear (&job->q);
  g_clear_pointer (&job->snap, med_store_snapshot_free);
  g_clear_pointer (&job->centre, med_centre_free);
  g_clear_object (&job->clock.cancel);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlanJob, plan_job_free)

/* Checks the request and reads the plan's input from the store. */
static PlanJob *
plan_job_load (MedStore *store, const MedServiceCtx *ctx, gint year, gint month,
    gint day, gboolean dry_run, const MedPlanOptions *options,
    GCancellable *cancel, GError **error)
{
  g_autoptr (PlanJob) job = g_new0 (PlanJob, 1);
  MedTime day_start;

  job->clock.deadline = g_get_monotonic_time ();
  job->ctx = *ctx;
  job->ctx.actor = g_strdup (ctx->actor);
  job->year = year;
  job->month = month;
  job->day = day;
  job->dry_run = dry_run;
  if (cancel != NULL)
    job->clock.cancel = g_object_ref (cancel);
  if (!g_date_valid_dmy (day, month, year)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "invalid date");
    return NULL;
  }
  if (options != NULL)
    job->opts = *options;
  if (!(job->opts.time_limit >= 0
          && job->opts.time_limit <= MED_PLAN_MAX_TIME_LIMIT)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "the time limit must be between 0 and %g seconds",
        MED_PLAN_MAX_TIME_LIMIT);
    return NULL;
  }
  if (job->opts.stop == NULL) {
    job->clock.deadline
        += (gint64) ((job->opts.time_limit > 0 ? job->opts.time_limit
                                               : MED_PLAN_DEFAULT_TIME_LIMIT)
            * G_USEC_PER_SEC);
    job->opts.stop = plan_deadline_passed_cb;
    job->opts.stop_data = &job->clock;
  }
  if ((job->centre = med_store_get_centre (store, ctx->centre_id, error))
          == NULL
      || !med_workcal_local_to_utc (job->centre->zone, year, month, day, 0,
          &day_start, error)
      || (job->snap = med_store_load_snapshot (store, ctx->centre_id,
              day_start - 86400, day_start + 2 * 86400, error))
          == NULL
      || !load_queue (store, &job->ctx, &job->q, error))
    return NULL;
  return g_steal_pointer (&job);
}

/* Searches the plan: touches nothing but the job (any thread). */
static gboolean
plan_job_run (PlanJob *job, GError **error)
{
  g_autoptr (MedScheduler) sched = med_scheduler_new (&job->snap->snap, error);

  if (sched == NULL)
    return FALSE;
  job->plan = med_scheduler_plan_day (sched, job->q.queue, job->year,
      job->month, job->day, job->ctx.now, &job->opts, error);
  return job->plan != NULL;
}

typedef struct
{
  const MedServiceCtx *ctx;
  MedPlan *plan;
  guint n;
  GPtrArray *lost; /* GError* per item, NULL = booked or unplaced */
} PlanTxn;

/* The scheduler's block bit for a clash the store found. */
static guint
conflict_block (const GError *error)
{
  const MedStoreConflict *c = med_store_error_get_conflict (error);

  switch (c ? c->kind : MED_CONFLICT_N) {
    case MED_CONFLICT_ROOM:
      return MED_BLOCK_ROOM_BUSY;
    case MED_CONFLICT_MEDIATOR:
    case MED_CONFLICT_INTERPRETER:
      return MED_BLOCK_MEDIATOR_BUSY;
    case MED_CONFLICT_LEAVE:
      return MED_BLOCK_LEAVE;
    case MED_CONFLICT_DAILY_CAP:
      return MED_BLOCK_DAILY_CAP;
    case MED_CONFLICT_CASE:
    case MED_CONFLICT_PARTY:
    default:
      return MED_BLOCK_PARTY_BUSY;
  }
}

/* Books every placed item of a plan with its invites; an item whose slot
 * or case changed since the plan was read is left out (its error kept in
 * pt->lost), the others booked. */
static gboolean
plan_txn (MedStore *store, gpointer data, GError **error)
{
  PlanTxn *pt = data;

  pt->n = 0;
  g_ptr_array_set_size (pt->lost, 0);
  g_ptr_array_set_size (pt->lost, pt->plan->items->len);
  for (guint i = 0; i < pt->plan->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (pt->plan->items, i);
    BookingTxn t = { pt->ctx, NULL, 0, NULL };
    g_autoptr (MedCase) k = NULL;
    GError *local = NULL;
    MedBooking b;

    if (it->slot == NULL)
      continue;
    if ((k = med_store_get_case (store, it->case_id, error)) == NULL)
      return FALSE;
    if (k->status != MED_CASE_STATUS_DISPATCHED
        || k->department != MED_DEPARTMENT_COURT_MEDIATION) {
      g_ptr_array_index (pt->lost, i)
          = g_error_new (MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
              "the case became %s while the day was planned",
              med_case_status_to_string (k->status));
      continue;
    }
    booking_from_slot (it->slot, it->case_id, &b);
    t.b = &b;
    if (!book_txn (store, &t, &local)) {
      /* taken meanwhile: the store's re-check names the clash, and its
       * savepoint undid this booking only */
      if (g_error_matches (local, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT)
          && t.booking_id == 0) {
        g_ptr_array_index (pt->lost, i) = local;
        continue;
      }
      g_propagate_error (error, local);
      return FALSE;
    }
    pt->n++;
  }
  return TRUE;
}

static void
error_free0 (gpointer e)
{
  if (e != NULL)
    g_error_free (e);
}

/* Books the job's plan (unless a dry run) and reports the items whose
 * slot was taken meanwhile as unplaced. */
static gboolean
plan_job_book (MedStore *store, PlanJob *job, guint *booked, GError **error)
{
  MedPlan *plan = job->plan;
  g_autoptr (GPtrArray) lost = g_ptr_array_new_with_free_func (error_free0);
  PlanTxn pt = { &job->ctx, plan, 0, lost };

  if (booked != NULL)
    *booked = 0;
  if (job->dry_run || plan->placed == 0)
    return TRUE;
  if (!med_store_run (store, plan_txn, &pt, error))
    return FALSE;
  for (guint i = 0; i < lost->len; i++) {
    MedPlanItem *it = g_ptr_array_index (plan->items, i);
    const GError *e = g_ptr_array_index (lost, i);

    if (e == NULL)
      continue;
    g_debug ("day plan: case %" G_GINT64_FORMAT " not booked: %s", it->case_id,
        e->message);
    g_clear_pointer (&it->slot, med_slot_free);
    it->blocks = e->domain == MED_STORE_ERROR ? conflict_block (e) : 0;
    g_free (it->reason);
    it->reason = g_strdup_printf ("its session was taken while the day was "
                                  "planned (%s); plan the day again",
        e->message);
    /* why it is unplaced, as every unplaced item says it: taken, or the
     * store's words */
    g_clear_pointer (&it->reasons, g_ptr_array_unref);
    it->reasons = med_reasons_new ();
    g_ptr_array_add (it->reasons,
        med_store_error_get_conflict (e) != NULL
            ? med_reason_new (MED_REASON_TAKEN)
            : med_reason_new_other (it->reason));
    plan->placed--;
    plan->unplaced++;
    for (guint c = 0; c < job->q.queue->len; c++) {
      const MedCase *k = g_array_index (job->q.queue, MedQueueEntry, c).kase;

      if (k->id == it->case_id && k->urgent) {
        plan->urgent_placed--;
        plan->urgent_unplaced++;
      }
    }
    plan->optimal = FALSE;
  }
  if (booked != NULL)
    *booked = pt.n;
  return TRUE;
}

MedPlan *
med_service_schedule_day (MedStore *store, const MedServiceCtx *ctx, gint year,
    gint month, gint day, gboolean dry_run, const MedPlanOptions *options,
    guint *booked, GError **error)
{
  g_autoptr (PlanJob) job = NULL;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  if (booked != NULL)
    *booked = 0;
  if ((job = plan_job_load (store, ctx, year, month, day, dry_run, options,
           NULL, error))
          == NULL
      || !plan_job_run (job, error)
      || !plan_job_book (store, job, booked, error))
    return NULL;
  return g_steal_pointer (&job->plan);
}

static void
plan_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  GError *error = NULL;

  if (!plan_job_run (data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
med_service_schedule_day_async (MedStore *store, const MedServiceCtx *ctx,
    gint year, gint month, gint day, gboolean dry_run,
    const MedPlanOptions *options, GCancellable *cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;
  PlanJob *job;

  g_return_if_fail (store != NULL && ctx != NULL);
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, med_service_schedule_day_async);
  job = plan_job_load (store, ctx, year, month, day, dry_run, options,
      cancellable, &error);
  if (job == NULL) {
    g_task_return_error (task, error);
    return;
  }
  g_task_set_task_data (task, job, (GDestroyNotify) plan_job_free);
  g_task_run_in_thread (task, plan_thread);
}

MedPlan *
med_service_schedule_day_finish (MedStore *store, GAsyncResult *result,
    guint *booked, GError **error)
{
  PlanJob *job;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  if (booked != NULL)
    *booked = 0;
  /* a cancelled plan is not booked: the caller may be closing the store */
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  job = g_task_get_task_data (G_TASK (result));
  if (!plan_job_book (store, job, booked, error))
    return NULL;
  return g_steal_pointer (&job->plan);
}
