/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-service.c — the shared use cases over a real store file: booking
 * the earliest slot, a hand-picked slot and its conflicts, rescheduling
 * (same UID, SEQUENCE + 1), cancelling, scheduling a day, the state rule,
 * and the windowed search giving the same answers as one search over the
 * whole horizon on random centres (a new one each run, its seed printed;
 * seeds that once failed pinned); and a province: a second centre by
 * med_service_add_centre, the same time booked in both, one person not in
 * both at once, and every use case refusing the other centre's rows. A
 * SQLite file, or a fresh PostgreSQL database under tests/pg/pgserver.py
 * (test-db.h). */
#include "test-util.h"
#include "../test-db.h"

#include <medsched/med-service.h>
#include <medsched/med-store.h>
#include <med-store-write.h>

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  char *dir;
  MedStore *store;
  MedServiceCtx ctx;
  gint64 rooms[4];
  gint64 mediators[4];
} Fixture;

static gint64
add_room (Fixture *f, const char *name, MedRoomKind kind, gint cap)
{
  g_autoptr (MedRoom) r = mk_room (0, name, kind, cap);
  g_autoptr (GError) error = NULL;
  gint64 id;

  r->centre_id = f->ctx.centre_id;
  id = med_store_add_room (f->store, r, "test", &error);
  g_assert_no_error (error);
  return id;
}

static gint64
add_mediator (Fixture *f, const char *name, const char *spec, gint cap)
{
  g_autoptr (MedMediator) m = mk_mediator (0, name, "zh,bo", spec, cap);
  g_autoptr (GError) error = NULL;
  gint64 id;

  m->centre_id = f->ctx.centre_id;
  id = med_store_add_mediator (f->store, m, "test", &error);
  g_assert_no_error (error);
  return id;
}

static gint64
add_case_deadline (Fixture *f, const char *number, MedCaseKind kind,
    const char *contact, MedTime deadline)
{
  g_autoptr (MedCase) c = mk_case (0, kind);
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_autoptr (GError) error = NULL;
  gint64 id;

  g_free (c->number);
  c->number = g_strdup (number);
  c->centre_id = f->ctx.centre_id;
  c->intake_at = f->ctx.now;
  c->deadline = deadline;
  c->status = MED_CASE_STATUS_INTAKE;
  c->department = MED_DEPARTMENT_NONE;
  g_ptr_array_add (parties, mk_party ("zh", MED_ATTENDANCE_IN_PERSON, contact));
  id = med_store_add_case (f->store, c, parties, "test", &error);
  g_assert_no_error (error);
  return id;
}

static gint64
add_case (Fixture *f, const char *number, MedCaseKind kind, const char *contact)
{
  return add_case_deadline (f, number, kind, contact, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) c = med_centre_new_default ();
  g_autofree char *path = NULL;

  f->dir = g_dir_make_tmp ("medsched-service-XXXXXX", &error);
  g_assert_no_error (error);
  path = test_db_new (f->dir, "s");
  f->store = med_store_open (path, &error);
  g_assert_no_error (error);
  f->ctx.now = t_local ("2026-12-07T08:00");
  f->ctx.actor = "test";
  med_store_set_now (f->store, f->ctx.now);
  f->ctx.centre_id = med_store_add_centre (f->store, c, "test", &error);
  g_assert_no_error (error);
  import_calendars (f->store);
  f->rooms[0] = add_room (f, "温馨调解室一", MED_ROOM_KIND_WARM, 6);
  f->rooms[1] = add_room (f, "家事调解室", MED_ROOM_KIND_FAMILY, 6);
  f->mediators[0] = add_mediator (f, "扎西次仁", "wages,divorce", 4);
  f->mediators[1] = add_mediator (f, "王芳", "wages", 4);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  med_store_close (f->store);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
}

static void
test_book_earliest (Fixture *f, gconstpointer data)
{
  gint64 k = add_case (f, "A1", MED_CASE_KIND_WAGES, "13800000001");
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) slot = NULL;
  g_autoptr (MedBooking) b = NULL;
  g_autoptr (MedCase) c = NULL;
  g_autofree char *start = NULL;
  gint64 id;

  /* intake is not dispatched: refused */
  id = med_service_book (f->store, &f->ctx, k, NULL, 0, NULL, &error);
  g_assert_cmpint (id, ==, 0);
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  g_assert_true (
      med_store_set_case_status (f->store, k, MED_CASE_STATUS_DISPATCHED,
          MED_DEPARTMENT_COURT_MEDIATION, "test", &error));
  id = med_service_book (f->store, &f->ctx, k, NULL, 0, &slot, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_nonnull (slot->explanation);
  b = med_store_get_booking (f->store, id, &error);
  start = t_text (b->start);
  g_assert_cmpstr (start, ==, "2026-12-07T09:00");
  g_assert_cmpint (b->sequence, ==, 0);
  c = med_store_get_case (f->store, k, &error);
  g_assert_cmpint (c->status, ==, MED_CASE_STATUS_SCHEDULED);
}

static void
test_manual_and_conflict (Fixture *f, gconstpointer data)
{
  gint64 k1 = add_case (f, "B1", MED_CASE_KIND_WAGES, "13800000001");
  gint64 k2 = add_case (f, "B2", MED_CASE_KIND_WAGES, "13800000002");
  g_autoptr (GError) error = NULL;
  MedSlot manual = { 0 };

  for (int i = 0; i < 2; i++)
    g_assert_true (med_store_set_case_status (f->store, i ? k2 : k1,
        MED_CASE_STATUS_DISPATCHED, MED_DEPARTMENT_COURT_MEDIATION, "test",
        NULL));
  manual.start = t_local ("2026-12-08T10:00");
  manual.room_id = f->rooms[0];
  manual.mediator_id = f->mediators[1];
  g_assert_cmpint (med_service_book (f->store, &f->ctx, k1, &manual, 0, NULL,
                       &error),
      >, 0);
  g_assert_no_error (error);
  /* the same room at 10:30 with the other mediator: taken, and the
   * refusal names the room and the session in the way (issue 12: pages
   * say which resource clashed, in the reader's language) */
  manual.start = t_local ("2026-12-08T10:30");
  manual.mediator_id = f->mediators[0];
  g_assert_cmpint (med_service_book (f->store, &f->ctx, k2, &manual, 0, NULL,
                       &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  {
    const MedStoreConflict *c = med_store_error_get_conflict (error);
    g_autoptr (GError) copy = g_error_copy (error);

    g_assert_nonnull (c);
    g_assert_cmpint (c->kind, ==, MED_CONFLICT_ROOM);
    g_assert_cmpint (c->id, ==, f->rooms[0]);
    g_assert_cmpint (c->start, ==, t_local ("2026-12-08T10:00"));
    g_assert_cmpint (c->end, ==, t_local ("2026-12-08T11:00"));
    g_assert_cmpint (c->booking_id, >, 0);
    g_assert_false (c->buffer);
    /* it travels with copies of the error */
    g_assert_cmpstr (med_store_error_get_conflict (copy)->name, ==, c->name);
    g_assert_cmpstr (med_conflict_kind_to_string (c->kind), ==, "room");
  }
  /* the message says what clashed too: the room, and with which session */
  g_assert_nonnull (strstr (error->message, "温馨调解室一"));
  g_assert_nonnull (strstr (error->message, "10:00"));
  g_clear_error (&error);
  /* another room, the same mediator: the mediator is named */
  manual.room_id = f->rooms[1];
  manual.mediator_id = f->mediators[1];
  g_assert_cmpint (med_service_book (f->store, &f->ctx, k2, &manual, 0, NULL,
                       &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "mediator 王芳"));
  g_clear_error (&error);
  manual.room_id = f->rooms[0];
  manual.mediator_id = f->mediators[0];
  /* outside working time */
  manual.start = t_local ("2026-12-08T12:30");
  g_assert_cmpint (med_service_book (f->store, &f->ctx, k2, &manual, 0, NULL,
                       &error),
      ==, 0);
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_NO_SLOT);
}

static void
test_reschedule_cancel (Fixture *f, gconstpointer data)
{
  gint64 k = add_case (f, "C1", MED_CASE_KIND_WAGES, "13800000001");
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) before = NULL;
  g_autoptr (MedBooking) after = NULL;
  g_autoptr (MedBooking) cancelled = NULL;
  g_autoptr (MedCase) c = NULL;
  gint64 id;

  med_store_set_case_status (f->store, k, MED_CASE_STATUS_DISPATCHED,
      MED_DEPARTMENT_COURT_MEDIATION, "test", NULL);
  id = med_service_book (f->store, &f->ctx, k, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  before = med_store_get_booking (f->store, id, NULL);
  g_assert_true (
      med_service_reschedule (f->store, &f->ctx, id, NULL, NULL, &error));
  g_assert_no_error (error);
  after = med_store_get_booking (f->store, id, NULL);
  g_assert_cmpstr (after->uid, ==, before->uid);
  g_assert_cmpint (after->sequence, ==, before->sequence + 1);
  g_assert_cmpint (after->start, !=, before->start);
  g_assert_true (med_service_cancel (f->store, &f->ctx, id, &error));
  cancelled = med_store_get_booking (f->store, id, NULL);
  g_assert_cmpint (cancelled->status, ==, MED_BOOKING_STATUS_CANCELLED);
  g_assert_cmpint (cancelled->sequence, ==, before->sequence + 2);
  c = med_store_get_case (f->store, k, NULL);
  g_assert_cmpint (c->status, ==, MED_CASE_STATUS_DISPATCHED);
  /* a cancelled booking cannot be moved */
  g_assert_false (
      med_service_reschedule (f->store, &f->ctx, id, NULL, NULL, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
}

static void
test_schedule_day (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedPlan) plan = NULL;
  g_autoptr (GPtrArray) bookings = NULL;
  guint booked = 0;

  for (int i = 0; i < 12; i++) {
    g_autofree char *num = g_strdup_printf ("D%d", i);
    g_autofree char *contact = g_strdup_printf ("1380000%04d", i);
    gint64 k = add_case (f, num, MED_CASE_KIND_WAGES, contact);

    med_store_set_case_status (f->store, k, MED_CASE_STATUS_DISPATCHED,
        MED_DEPARTMENT_COURT_MEDIATION, "test", NULL);
  }
  plan = med_service_schedule_day (f->store, &f->ctx, 2026, 12, 7, FALSE, NULL,
      &booked, &error);
  g_assert_no_error (error);
  /* two mediators with a cap of 4 each: 8 sessions, six in the warm room
   * (09:00–12:00, 14:30–17:30) and two in the family room as fallback */
  g_assert_cmpuint (plan->placed, ==, booked);
  g_assert_cmpuint (booked, ==, 8);
  {
    guint fallbacks = 0;

    for (guint i = 0; i < plan->items->len; i++) {
      MedPlanItem *it = g_ptr_array_index (plan->items, i);

      fallbacks += it->slot != NULL && it->slot->fallback;
    }
    g_assert_cmpuint (fallbacks, ==, 2);
  }
  bookings = med_store_list_bookings (f->store, f->ctx.centre_id, 0, 0, FALSE,
      &error);
  g_assert_cmpuint (bookings->len, ==, booked);
  g_assert_true (med_store_check (f->store, &error));
}

static void
plan_done_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GAsyncResult **out = data;

  *out = g_object_ref (res);
}

/* A case of this centre, dispatched (contact as given). */
static gint64
dispatched_case (Fixture *f, const char *number, MedCaseKind kind,
    const char *contact)
{
  gint64 k = add_case (f, number, kind, contact);

  g_assert_true (
      med_store_set_case_status (f->store, k, MED_CASE_STATUS_DISPATCHED,
          MED_DEPARTMENT_COURT_MEDIATION, "test", NULL));
  return k;
}

/* The day planned in a worker thread while the store changes: a session
 * taken by hand meanwhile, and a case booked by hand meanwhile, are not
 * booked; they come back unplaced, saying why, and the rest is booked. */
static void
test_schedule_day_async (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedPlan) dry = NULL;
  g_autoptr (MedPlan) plan = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GPtrArray) bookings = NULL;
  MedPlanItem *a = NULL, *b = NULL;
  MedSlot hand = { 0 };
  gint64 other, a_case, b_case;
  guint booked = 0;
  gboolean seen_a = FALSE, seen_b = FALSE;

  for (int i = 0; i < 12; i++) {
    g_autofree char *num = g_strdup_printf ("D%d", i);
    g_autofree char *contact = g_strdup_printf ("1380000%04d", i);

    dispatched_case (f, num, MED_CASE_KIND_WAGES, contact);
  }
  /* the plan the worker will find: the same state gives the same plan
   * (this one is proved optimal, so no clock ends it early) */
  dry = med_service_schedule_day (f->store, &f->ctx, 2026, 12, 7, TRUE, NULL,
      NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dry->placed, ==, 8);
  g_assert_true (dry->optimal);
  for (guint i = 0; i < dry->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (dry->items, i);

    if (it->slot != NULL && a == NULL)
      a = it;
    else if (it->slot != NULL && b == NULL)
      b = it;
  }
  a_case = a->case_id;
  b_case = b->case_id;

  med_service_schedule_day_async (f->store, &f->ctx, 2026, 12, 7, FALSE, NULL,
      NULL, plan_done_cb, &res);
  /* meanwhile, on this thread: a clerk books another case into a's
   * session, and books b's case on another day */
  other = dispatched_case (f, "X1", MED_CASE_KIND_WAGES, "13900000001");
  hand.start = a->slot->start;
  hand.end = a->slot->end;
  hand.room_id = a->slot->room_id;
  hand.mediator_id = a->slot->mediator_id;
  g_assert_cmpint (med_service_book (f->store, &f->ctx, other, &hand, 0, NULL,
                       &error),
      >, 0);
  g_assert_no_error (error);
  hand.start = t_local ("2026-12-08T09:00");
  hand.end = hand.start + (b->slot->end - b->slot->start);
  hand.room_id = f->rooms[0];
  hand.mediator_id = f->mediators[1];
  g_assert_cmpint (med_service_book (f->store, &f->ctx, b_case, &hand, 0, NULL,
                       &error),
      >, 0);
  g_assert_no_error (error);

  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  plan = med_service_schedule_day_finish (f->store, res, &booked, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (booked, ==, 6);
  g_assert_cmpuint (plan->placed, ==, 6);
  g_assert_cmpuint (plan->unplaced, ==, 6);
  g_assert_false (plan->optimal);
  for (guint i = 0; i < plan->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (plan->items, i);

    if (it->case_id == a_case) {
      g_assert_null (it->slot);
      g_assert_nonnull (strstr (it->reason, "taken while the day was planned"));
      g_assert_true (it->blocks & MED_BLOCK_BUSY);
      /* and as data, for every language */
      g_assert_cmpuint (it->reasons->len, ==, 1);
      g_assert_cmpint (((MedReason *) it->reasons->pdata[0])->code, ==,
          MED_REASON_TAKEN);
      seen_a = TRUE;
    } else if (it->case_id == b_case) {
      g_assert_null (it->slot);
      g_assert_nonnull (strstr (it->reason, "became scheduled"));
      g_assert_cmpuint (it->reasons->len, ==, 1);
      seen_b = TRUE;
    }
  }
  g_assert_true (seen_a && seen_b);
  /* six from the plan, two by hand, no overlap */
  bookings = med_store_list_bookings (f->store, f->ctx.centre_id, 0, 0, FALSE,
      &error);
  g_assert_cmpuint (bookings->len, ==, 8);
  g_assert_true (med_store_check (f->store, &error));

  /* cancelled: nothing is booked */
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    g_autoptr (GAsyncResult) res2 = NULL;
    g_autoptr (MedPlan) none = NULL;
    g_autoptr (GPtrArray) after = NULL;

    med_service_schedule_day_async (f->store, &f->ctx, 2026, 12, 7, FALSE, NULL,
        cancel, plan_done_cb, &res2);
    g_cancellable_cancel (cancel);
    while (res2 == NULL)
      g_main_context_iteration (NULL, TRUE);
    none = med_service_schedule_day_finish (f->store, res2, &booked, &error);
    g_assert_null (none);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_cmpuint (booked, ==, 0);
    after = med_store_list_bookings (f->store, f->ctx.centre_id, 0, 0, FALSE,
        &error);
    g_assert_cmpuint (after->len, ==, 8);
  }
  /* bad input: a clear error, through the callback */
  {
    g_autoptr (GAsyncResult) res3 = NULL;
    g_autoptr (MedPlan) none = NULL;

    med_service_schedule_day_async (f->store, &f->ctx, 2026, 2, 30, FALSE, NULL,
        NULL, plan_done_cb, &res3);
    while (res3 == NULL)
      g_main_context_iteration (NULL, TRUE);
    none = med_service_schedule_day_finish (f->store, res3, NULL, &error);
    g_assert_null (none);
    g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID);
  }
}

/* A random centre from seed: the windowed search answers what one search
 * over the whole horizon answers. */
static void
windows_match_full_search (Fixture *f, guint32 seed)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);
  guint compared = 0;

  /* fill the family room for five weeks, the warm room partly */
  f->rooms[2] = add_room (f, "温馨调解室二", MED_ROOM_KIND_WARM, 6);
  for (int i = 0; i < 120; i++) {
    g_autofree char *num = g_strdup_printf ("F%d", i);
    g_autofree char *contact = g_strdup_printf ("1390000%04d", i);
    gint64 k = add_case (f, num,
        i % 2 ? MED_CASE_KIND_DIVORCE : MED_CASE_KIND_WAGES, contact);
    MedSlot manual = { 0 };
    GDate d;

    med_store_set_case_status (f->store, k, MED_CASE_STATUS_DISPATCHED,
        MED_DEPARTMENT_COURT_MEDIATION, "test", NULL);
    g_date_clear (&d, 1);
    g_date_set_dmy (&d, 7, 12, 2026);
    g_date_add_days (&d, g_rand_int_range (r, 0, 35));
    if (g_date_get_weekday (&d) >= G_DATE_SATURDAY)
      continue;
    manual.start = 0;
    med_workcal_local_to_utc ("Asia/Shanghai", g_date_get_year (&d),
        g_date_get_month (&d), g_date_get_day (&d),
        g_rand_boolean (r) ? 9 * 60 : 14 * 60 + 30, &manual.start, NULL);
    manual.end = manual.start + (g_rand_boolean (r) ? 3 : 2) * 3600;
    manual.room_id = f->rooms[g_rand_int_range (r, 0, 3)];
    manual.mediator_id = f->mediators[g_rand_int_range (r, 0, 2)];
    med_service_book (f->store, &f->ctx, k, &manual, 0, NULL, NULL);
  }
  for (int i = 0; i < 40; i++) {
    g_autofree char *num = g_strdup_printf ("Q%d", i);
    MedTime deadline = g_rand_boolean (r)
        ? f->ctx.now + g_rand_int_range (r, 3, 60) * 86400
        : 0;
    gint64 k = add_case_deadline (f, num,
        i % 2 ? MED_CASE_KIND_DIVORCE : MED_CASE_KIND_WAGES, NULL, deadline);
    g_autoptr (MedCase) c = NULL;
    g_autoptr (GPtrArray) parties = NULL;
    g_autoptr (GPtrArray) windowed = NULL;
    g_autoptr (GPtrArray) full = NULL;
    g_autoptr (MedStoreSnapshot) snap = NULL;
    g_autoptr (MedScheduler) s = NULL;
    g_autoptr (GError) e1 = NULL;
    g_autoptr (GError) e2 = NULL;
    MedSlotRequest req = { 0 };
    guint count = g_rand_int_range (r, 1, 4);

    med_store_set_case_status (f->store, k, MED_CASE_STATUS_DISPATCHED,
        MED_DEPARTMENT_COURT_MEDIATION, "test", NULL);
    c = med_store_get_case (f->store, k, NULL);
    windowed = med_service_find_slots (f->store, &f->ctx, k, 0, 0, count, &e1);
    parties = med_store_list_parties (f->store, k, NULL);
    snap = med_store_load_snapshot (f->store, f->ctx.centre_id,
        f->ctx.now - 86400, f->ctx.now + 130 * 86400, NULL);
    s = med_scheduler_new (&snap->snap, NULL);
    req.kase = c;
    req.parties = parties;
    req.now = f->ctx.now;
    req.max_results = count;
    full = med_scheduler_find_slots (s, &req, NULL, &e2);
    g_assert_true ((windowed == NULL) == (full == NULL));
    if (full == NULL) {
      g_assert_cmpstr (e1->message, ==, e2->message);
      continue;
    }
    g_assert_cmpuint (windowed->len, ==, full->len);
    for (guint x = 0; x < full->len; x++) {
      MedSlot *a = g_ptr_array_index (windowed, x);
      MedSlot *b = g_ptr_array_index (full, x);

      g_assert_cmpint (a->start, ==, b->start);
      g_assert_cmpint (a->room_id, ==, b->room_id);
      g_assert_cmpint (a->mediator_id, ==, b->mediator_id);
      g_assert_cmpint (a->fallback, ==, b->fallback);
    }
    compared++;
  }
  g_assert_cmpuint (compared, >, 5);
}

/* A new random centre on every run; the seed is printed so that a failure
 * can be replayed (and pinned below). */
static void
test_windows_match_full_search (Fixture *f, gconstpointer data)
{
  guint32 seed = g_test_rand_int ();

  g_test_message ("centre seed %" G_GUINT32_FORMAT, seed);
  windows_match_full_search (f, seed);
}

/* Centre seeds that failed before the fix: the windowed search answered
 * mediator 1 where the whole horizon answers mediator 2 (the scheduler
 * breaks ties by each mediator's bookings, and a narrow window counted
 * only its own). The first two come from the GTest seeds
 * R02S6d6c28be604e356a3114cad1799c56bd and
 * R02S72dabf40391bd2a82b126f2e713f5661, the others from a sweep of 300
 * random seeds (6 failed). */
static const guint32 pinned_seeds[] = { 4018889976u, 3607847887u, 1247270152u,
  3761302790u, 3192703784u, 1708232408u, 2124312524u, 3315055377u };

static void
test_windows_pinned (Fixture *f, gconstpointer data)
{
  windows_match_full_search (f, *(const guint32 *) data);
}


/* ---- the day board (med-service-board.c) ---- */

static MedFitCell *
cell_at (MedDayFit *fit, gint64 room, const char *start)
{
  MedTime t = t_local (start);

  for (guint i = 0; i < fit->cells->len; i++) {
    MedFitCell *c = g_ptr_array_index (fit->cells, i);

    if (c->room_id == room && c->start == t)
      return c;
  }
  return NULL;
}

/* Every cell the board calls a fit books by hand; every other cell
 * refuses every mediator: the board and booking agree. */
static void
test_board_fit_agrees (Fixture *f, gconstpointer data)
{
  gint64 a = dispatched_case (f, "F1", MED_CASE_KIND_WAGES, "13800000001");
  gint64 b = dispatched_case (f, "F2", MED_CASE_KIND_WAGES, "13800000002");
  g_autoptr (GError) error = NULL;
  g_autoptr (MedDayFit) fit = NULL;
  MedSlot manual = { 0 };
  MedFitCell *c;
  guint fits = 0, blocked = 0;

  /* case A holds the warm room 10:00–11:00 with 王芳 */
  manual.start = t_local ("2026-12-08T10:00");
  manual.room_id = f->rooms[0];
  manual.mediator_id = f->mediators[1];
  g_assert_cmpint (med_service_book (f->store, &f->ctx, a, &manual, 0, NULL,
                       &error),
      >, 0);
  g_assert_no_error (error);

  fit = med_service_day_fit (f->store, &f->ctx, b, 0, 2026, 12, 8, 15, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fit->duration_minutes, ==, 60);
  /* 09:00–12:00 and 14:30–18:00 in 15-minute steps, two rooms */
  g_assert_cmpuint (fit->cells->len, ==, 2 * (12 + 14));
  c = cell_at (fit, f->rooms[0], "2026-12-08T10:30");
  g_assert_nonnull (c);
  g_assert_cmpint (c->state, ==, MED_FIT_BLOCKED);
  g_assert_true (c->blocks & MED_BLOCK_ROOM_BUSY);
  g_assert_nonnull (strstr (c->why, "booked"));
  c = cell_at (fit, f->rooms[0], "2026-12-08T11:00");
  g_assert_cmpint (c->state, ==, MED_FIT_FITS);
  g_assert_cmpint (c->slot->room_id, ==, f->rooms[0]);
  g_assert_false (c->slot->fallback);
  g_assert_nonnull (c->slot->explanation);
  /* 11:15 would run into the lunch break */
  c = cell_at (fit, f->rooms[0], "2026-12-08T11:15");
  g_assert_cmpint (c->state, ==, MED_FIT_TOO_LONG);
  /* the family room is the fallback kind: it fits, marked so */
  c = cell_at (fit, f->rooms[1], "2026-12-08T10:00");
  g_assert_cmpint (c->state, ==, MED_FIT_FITS);
  g_assert_true (c->slot->fallback);
  g_assert_cmpint (c->slot->mediator_id, ==, f->mediators[0]);

  for (guint i = 0; i < fit->cells->len; i++) {
    MedFitCell *cell = g_ptr_array_index (fit->cells, i);

    if (cell->state == MED_FIT_FITS) {
      g_autoptr (MedFitCell) one = NULL;
      gint64 id;

      fits++;
      one = med_service_fit_at (f->store, &f->ctx, b, 0, cell->room_id,
          cell->start, &error);
      g_assert_no_error (error);
      g_assert_cmpint (one->state, ==, MED_FIT_FITS);
      g_assert_cmpint (one->slot->mediator_id, ==, cell->slot->mediator_id);
      id = med_service_book (f->store, &f->ctx, b, cell->slot, 0, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (med_service_cancel (f->store, &f->ctx, id, &error));
    } else {
      blocked++;
      for (guint m = 0; m < 2; m++) {
        MedSlot s = { 0 };

        s.start = cell->start;
        s.room_id = cell->room_id;
        s.mediator_id = f->mediators[m];
        g_assert_cmpint (med_service_book (f->store, &f->ctx, b, &s, 0, NULL,
                             &error),
            ==, 0);
        g_assert_nonnull (error);
        g_clear_error (&error);
      }
    }
  }
  g_assert_cmpuint (fits, ==, fit->n_fits);
  g_assert_cmpuint (fits, >, 10);
  g_assert_cmpuint (blocked, >, 5);
}

/* A family case prefers the family room and may fall back to the warm
 * one; with minors it never leaves the family room. */
static void
test_board_fit_minors (Fixture *f, gconstpointer data)
{
  gint64 k = add_case (f, "M1", MED_CASE_KIND_DIVORCE, "13800000009");
  g_autoptr (MedCase) minors = mk_case (0, MED_CASE_KIND_DIVORCE);
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedDayFit) fit = NULL;
  g_autoptr (MedCase) kase = NULL;
  MedFitCell *c;

  /* an intake case is not on the board */
  fit = med_service_day_fit (f->store, &f->ctx, k, 0, 2026, 12, 8, 15, &error);
  g_assert_null (fit);
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  kase = med_store_get_case (f->store, k, NULL);
  g_assert_true (
      med_store_set_case_status (f->store, k, MED_CASE_STATUS_DISPATCHED,
          MED_DEPARTMENT_COURT_MEDIATION, "test", NULL));
  fit = med_service_day_fit (f->store, &f->ctx, k, 0, 2026, 12, 8, 15, &error);
  g_assert_no_error (error);
  c = cell_at (fit, f->rooms[0], "2026-12-08T09:00");
  /* a divorce prefers the family room; the warm room is its fallback */
  g_assert_cmpint (c->state, ==, MED_FIT_FITS);
  g_assert_true (c->slot->fallback);
  c = cell_at (fit, f->rooms[1], "2026-12-08T09:00");
  g_assert_cmpint (c->state, ==, MED_FIT_FITS);
  g_assert_false (c->slot->fallback);
  /* only 扎西次仁 handles divorces */
  g_assert_cmpint (c->slot->mediator_id, ==, f->mediators[0]);
  /* a divorce with minors: the warm room is refused, saying so */
  g_free (minors->number);
  minors->number = g_strdup ("M2");
  minors->centre_id = f->ctx.centre_id;
  minors->intake_at = f->ctx.now;
  minors->minors = TRUE;
  minors->status = MED_CASE_STATUS_DISPATCHED;
  minors->department = MED_DEPARTMENT_COURT_MEDIATION;
  g_ptr_array_add (parties, mk_party ("zh", MED_ATTENDANCE_IN_PERSON, ""));
  minors->id = med_store_add_case (f->store, minors, parties, "test", &error);
  g_assert_no_error (error);
  g_clear_pointer (&fit, med_day_fit_free);
  fit = med_service_day_fit (f->store, &f->ctx, minors->id, 0, 2026, 12, 8, 15,
      &error);
  g_assert_no_error (error);
  c = cell_at (fit, f->rooms[0], "2026-12-08T09:00");
  g_assert_cmpint (c->state, ==, MED_FIT_BLOCKED);
  g_assert_true (c->blocks & MED_BLOCK_ROOM_KIND);
  g_assert_nonnull (strstr (c->why, "family"));
  c = cell_at (fit, f->rooms[1], "2026-12-08T09:00");
  g_assert_cmpint (c->state, ==, MED_FIT_FITS);
  /* a weekend: no cells; a bad date: refused */
  g_clear_pointer (&fit, med_day_fit_free);
  fit = med_service_day_fit (f->store, &f->ctx, k, 0, 2026, 12, 12, 15, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fit->cells->len, ==, 0);
  g_clear_pointer (&fit, med_day_fit_free);
  fit = med_service_day_fit (f->store, &f->ctx, k, 0, 2026, 2, 30, 15, &error);
  g_assert_null (fit);
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID);
}

/* Moving a session: it does not block itself; a finished one stays. */
static void
test_board_move (Fixture *f, gconstpointer data)
{
  gint64 k = dispatched_case (f, "V1", MED_CASE_KIND_WAGES, "13800000003");
  g_autoptr (GError) error = NULL;
  g_autoptr (MedDayFit) fit = NULL;
  MedServiceCtx later = f->ctx;
  MedSlot manual = { 0 };
  MedFitCell *c;
  gint64 id;

  manual.start = t_local ("2026-12-08T10:00");
  manual.room_id = f->rooms[0];
  manual.mediator_id = f->mediators[1];
  id = med_service_book (f->store, &f->ctx, k, &manual, 0, NULL, &error);
  g_assert_no_error (error);
  fit = med_service_day_fit (f->store, &f->ctx, 0, id, 2026, 12, 8, 15, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fit->case_id, ==, k);
  c = cell_at (fit, f->rooms[0], "2026-12-08T10:15");
  g_assert_cmpint (c->state, ==, MED_FIT_FITS);
  /* a new session of the same case would clash with this one */
  g_clear_pointer (&fit, med_day_fit_free);
  g_assert_true (med_store_set_case_status (f->store, k,
      MED_CASE_STATUS_IN_SESSION, MED_DEPARTMENT_NONE, "test", NULL));
  g_assert_true (med_store_set_case_status (f->store, k,
      MED_CASE_STATUS_NOT_SETTLED, MED_DEPARTMENT_NONE, "test", NULL));
  fit = med_service_day_fit (f->store, &f->ctx, k, 0, 2026, 12, 8, 15, &error);
  g_assert_no_error (error);
  c = cell_at (fit, f->rooms[1], "2026-12-08T10:15");
  g_assert_cmpint (c->state, ==, MED_FIT_BLOCKED);
  g_assert_true (c->blocks & MED_BLOCK_PARTY_BUSY);
  /* once it has ended it is not moved */
  later.now = t_local ("2026-12-08T11:30");
  g_assert_false (
      med_service_reschedule (f->store, &later, id, NULL, NULL, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  g_clear_pointer (&fit, med_day_fit_free);
  fit = med_service_day_fit (f->store, &later, 0, id, 2026, 12, 9, 15, &error);
  g_assert_null (fit);
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
}

/* Undo: whoever booked, within the window, while unchanged. */
static void
test_board_undo (Fixture *f, gconstpointer data)
{
  gint64 k = dispatched_case (f, "U1", MED_CASE_KIND_WAGES, "13800000004");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedCase) kase = NULL;
  MedServiceCtx clerk = f->ctx, other = f->ctx, late = f->ctx;
  MedTime until = 0;
  gint64 id, id2;

  clerk.actor = "clerk:li";
  other.actor = "clerk:wang";
  id = med_service_book (f->store, &clerk, k, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (med_service_undo_until (f->store, &clerk, id, &until, &error));
  g_assert_cmpint (until, ==, f->ctx.now + MED_SERVICE_UNDO_SECONDS);
  g_assert_false (med_service_undo_booking (f->store, &other, id, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  late.actor = clerk.actor;
  late.now = f->ctx.now + MED_SERVICE_UNDO_SECONDS;
  g_assert_false (med_service_undo_booking (f->store, &late, id, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  g_assert_true (med_service_undo_booking (f->store, &clerk, id, &error));
  g_assert_no_error (error);
  bk = med_store_get_booking (f->store, id, NULL);
  g_assert_cmpint (bk->status, ==, MED_BOOKING_STATUS_CANCELLED);
  kase = med_store_get_case (f->store, k, NULL);
  g_assert_cmpint (kase->status, ==, MED_CASE_STATUS_DISPATCHED);
  audit = med_store_list_audit (f->store, "booking", id, NULL);
  g_assert_cmpstr (((MedAuditEntry *) g_ptr_array_index (audit, audit->len - 1))
                       ->action,
      ==, "booking.undo");
  /* undone once; a moved booking is not undone either */
  g_assert_false (med_service_undo_booking (f->store, &clerk, id, &error));
  g_clear_error (&error);
  id2 = med_service_book (f->store, &clerk, k, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (
      med_service_reschedule (f->store, &clerk, id2, NULL, NULL, &error));
  g_assert_false (med_service_undo_until (f->store, &clerk, id2, NULL, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
}

/* ---- cases after intake (med-service-case.c) ---- */

static gint64
audit_count (Fixture *f)
{
  g_autoptr (GPtrArray) rows = med_store_list_audit (f->store, NULL, 0, NULL);

  return rows->len;
}

static void
test_case_parties (Fixture *f, gconstpointer data)
{
  gint64 k = dispatched_case (f, "P1", MED_CASE_KIND_WAGES, "13800000005");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parties = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  g_autoptr (MedParty) p
      = mk_party ("bo", MED_ATTENDANCE_IN_PERSON, "139 0000 0006");
  g_autoptr (MedParty) q = NULL;
  g_autoptr (MedCase) kase = NULL;
  g_autofree char *tok = NULL;
  MedSlot manual = { 0 };
  gint64 pid, pid2, first, id, rows;

  pid = med_service_add_party (f->store, &f->ctx, k, p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pid, >, 0);
  parties = med_store_list_parties (f->store, k, NULL);
  g_assert_cmpuint (parties->len, ==, 2);
  first = ((MedParty *) g_ptr_array_index (parties, 0))->id;
  /* correcting: the audit names the field, not the value */
  q = med_store_get_party (f->store, k, pid, &error);
  g_assert_no_error (error);
  g_free (q->contact);
  q->contact = g_strdup ("13900000007");
  g_assert_true (med_service_update_party (f->store, &f->ctx, q, &error));
  g_assert_no_error (error);
  audit = med_store_list_audit (f->store, "case", k, NULL);
  {
    MedAuditEntry *e = g_ptr_array_index (audit, audit->len - 1);

    g_assert_cmpstr (e->action, ==, "party.update");
    g_assert_nonnull (strstr (e->detail, "\"changed\":\"contact\""));
    g_assert_null (strstr (e->detail, "1390000"));
  }
  /* removing: gone from the list, its id never comes back */
  g_assert_true (med_service_remove_party (f->store, &f->ctx, k, pid, &error));
  g_assert_no_error (error);
  g_clear_pointer (&parties, g_ptr_array_unref);
  parties = med_store_list_parties (f->store, k, NULL);
  g_assert_cmpuint (parties->len, ==, 1);
  pid2 = med_service_add_party (f->store, &f->ctx, k, p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pid2, >, pid);
  g_assert_true (med_service_remove_party (f->store, &f->ctx, k, pid2, &error));
  /* the last party stays */
  rows = audit_count (f);
  g_assert_false (
      med_service_remove_party (f->store, &f->ctx, k, first, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  g_assert_cmpint (audit_count (f), ==, rows);
  /* someone else's party, or a removed one: not found */
  g_assert_false (med_service_remove_party (f->store, &f->ctx, k, pid, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* booked in the warm room (no video): a party switching to video is
   * refused, naming the session, and nothing changes */
  manual.start = t_local ("2026-12-08T10:00");
  manual.room_id = f->rooms[0];
  manual.mediator_id = f->mediators[1];
  id = med_service_book (f->store, &f->ctx, k, &manual, 0, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&q, med_party_free);
  q = med_store_get_party (f->store, k, first, &error);
  q->attendance = MED_ATTENDANCE_REMOTE;
  rows = audit_count (f);
  g_assert_false (med_service_update_party (f->store, &f->ctx, q, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "session"));
  g_clear_error (&error);
  g_assert_cmpint (audit_count (f), ==, rows);
  g_clear_pointer (&q, med_party_free);
  q = med_store_get_party (f->store, k, first, &error);
  g_assert_cmpint (q->attendance, ==, MED_ATTENDANCE_IN_PERSON);
  /* a removed party's join link is dead */
  pid = med_service_add_party (f->store, &f->ctx, k, p, &error);
  g_assert_no_error (error);
  tok = med_store_join_token (f->store, id, pid, &error);
  g_assert_no_error (error);
  g_assert_true (med_service_remove_party (f->store, &f->ctx, k, pid, &error));
  g_assert_null (med_store_join_token (f->store, id, pid, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    gint64 b = 0, pp = 0;

    g_assert_false (med_store_join_lookup (f->store, f->ctx.centre_id, tok, 0,
        0, &b, &pp, &error));
    g_clear_error (&error);
  }
  /* a settled case's parties stay as they are */
  g_assert_true (med_store_set_case_status (f->store, k,
      MED_CASE_STATUS_IN_SESSION, MED_DEPARTMENT_NONE, "test", NULL));
  g_assert_cmpint (med_service_add_party (f->store, &f->ctx, k, p, &error), ==,
      0);
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  g_assert_true (med_store_set_case_status (f->store, k,
      MED_CASE_STATUS_SETTLED, MED_DEPARTMENT_NONE, "test", NULL));
  kase = med_store_get_case (f->store, k, NULL);
  g_assert_false (med_service_may_edit_parties (kase, NULL));
}

static void
test_case_find (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = NULL;
  MedUser clerk = { 0 }, mediator = { 0 };
  MedCaseQuery q = { 0 };
  MedSlot manual = { 0 };
  guint total = 0;
  gint64 booked;

  clerk.role = MED_ROLE_CLERK;
  mediator.role = MED_ROLE_MEDIATOR;
  mediator.mediator_id = f->mediators[0];
  for (guint i = 0; i < 25; i++) {
    g_autofree char *num = g_strdup_printf ("(2026)藏0102民调%u号", i);
    g_autofree char *contact = g_strdup_printf ("138 0000 %04u", i);

    add_case (f, num, MED_CASE_KIND_WAGES, contact);
  }
  booked = dispatched_case (f, "X%_1", MED_CASE_KIND_WAGES, "x@example.org");
  manual.start = t_local ("2026-12-08T10:00");
  manual.room_id = f->rooms[0];
  manual.mediator_id = f->mediators[0];
  g_assert_cmpint (med_service_book (f->store, &f->ctx, booked, &manual, 0,
                       NULL, &error),
      >, 0);
  g_assert_no_error (error);

  q.status = -1;
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 10, &total,
      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 10);
  g_assert_cmpuint (total, ==, 26);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 20, 10, &total,
      &error);
  g_assert_cmpuint (found->len, ==, 6);
  g_clear_pointer (&found, g_ptr_array_unref);
  /* a phone written without spaces finds one written with them */
  q.text = "13800000017";
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 10, &total,
      &error);
  g_assert_cmpuint (total, ==, 1);
  g_assert_cmpstr (((MedCase *) g_ptr_array_index (found, 0))->number, ==,
      "(2026)藏0102民调17号");
  g_clear_pointer (&found, g_ptr_array_unref);
  /* the party's name, part of the number */
  q.text = "当事人";
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_cmpuint (total, ==, 26);
  g_clear_pointer (&found, g_ptr_array_unref);
  q.text = "民调1";
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_cmpuint (total, ==, 11); /* 1, 10–19 */
  g_clear_pointer (&found, g_ptr_array_unref);
  /* wildcards are literal */
  q.text = "%_";
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_cmpuint (total, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  q.text = "_";
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_cmpuint (total, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  /* status, day, mediator */
  q.text = NULL;
  q.status = MED_CASE_STATUS_SCHEDULED;
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_cmpuint (total, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  q.status = -1;
  q.from = t_local ("2026-12-09");
  q.to = t_local ("2026-12-10");
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_cmpuint (total, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  q.from = t_local ("2026-12-08");
  q.to = t_local ("2026-12-09");
  q.mediator_id = f->mediators[1];
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_cmpuint (total, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  /* a mediator sees their cases only, whatever they ask */
  found = med_service_find_cases (f->store, &f->ctx, &mediator, &q, 0, 50,
      &total, &error);
  g_assert_cmpuint (total, ==, 1);
  g_assert_cmpint (((MedCase *) g_ptr_array_index (found, 0))->id, ==, booked);
  g_clear_pointer (&found, g_ptr_array_unref);
  /* hostile text: refused, not run */
  q.text = "\x01";
  found = med_service_find_cases (f->store, &f->ctx, &clerk, &q, 0, 50, &total,
      &error);
  g_assert_null (found);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
}

/* ---- a province: two centres in one store ------------------------------ */

static void
assert_not_here (GError **error, gboolean ok)
{
  g_assert_false (ok);
  g_assert_error (*error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr ((*error)->message, "in centre 2"));
  g_clear_error (error);
}

static void
test_province (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) c2 = med_centre_new_default ();
  g_autoptr (GPtrArray) parties = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  g_autoptr (MedUser) got = NULL;
  g_autofree char *pw = g_strdup ("pbkdf2-sha256$1000$salt$hash");
  MedServiceCtx ctx1 = f->ctx, ctx2 = f->ctx;
  MedUser clerk1 = { 0 }, clerk2 = { 0 };
  MedSlot manual = { 0 };
  gint64 case1, case2, same, b1, b2, room2, room2b, med2, med2b, user1, user2;
  gboolean ok;

  /* init makes the first centre only; centre add the next ones */
  g_assert_cmpint (med_service_init_centre (f->store, &f->ctx, c2, NULL, NULL,
                       NULL, &error),
      ==, 0);
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "centre add"));
  g_clear_error (&error);
  g_free (c2->name);
  c2->name = g_strdup ("日喀则市桑珠孜区调解中心");
  ctx2.centre_id = med_service_add_centre (f->store, &f->ctx, c2,
      "https://sangzhuzi.example.cn", "0892-8830000", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ctx2.centre_id, ==, 2);
  g_assert_cmpint (med_service_add_centre (f->store, &f->ctx, c2, NULL, NULL,
                       NULL, &error),
      ==, 0);
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
  g_clear_error (&error);
  audit = med_store_list_audit (f->store, "centre", 2, &error);
  g_assert_cmpuint (audit->len, >=, 1);
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[0])->action, ==,
      "centre.add");

  /* each centre's room, mediator and case */
  case1 = dispatched_case (f, "A-1", MED_CASE_KIND_WAGES, "13800000001");
  f->ctx.centre_id = ctx2.centre_id;
  room2 = add_room (f, "温馨调解室一", MED_ROOM_KIND_WARM, 6);
  room2b = add_room (f, "温馨调解室二", MED_ROOM_KIND_WARM, 6);
  med2 = add_mediator (f, "达瓦", "wages", 4);
  med2b = add_mediator (f, "李娜", "wages", 4);
  case2 = dispatched_case (f, "B-1", MED_CASE_KIND_WAGES, "13900000001");
  same = dispatched_case (f, "B-2", MED_CASE_KIND_WAGES, "13800000001");
  f->ctx.centre_id = ctx1.centre_id;

  /* the same time in both centres' rooms: no conflict */
  manual.start = t_local ("2026-12-08T09:00");
  manual.room_id = f->rooms[0];
  manual.mediator_id = f->mediators[0];
  b1 = med_service_book (f->store, &ctx1, case1, &manual, 60, NULL, &error);
  g_assert_no_error (error);
  manual.room_id = room2;
  manual.mediator_id = med2;
  b2 = med_service_book (f->store, &ctx2, case2, &manual, 60, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b1, >, 0);
  g_assert_cmpint (b2, >, 0);
  /* one person in both centres at once: refused */
  manual.room_id = room2b;
  manual.mediator_id = med2b;
  g_assert_cmpint (med_service_book (f->store, &ctx2, same, &manual, 60, NULL,
                       &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_assert_cmpint (med_store_error_get_conflict (error)->kind, ==,
      MED_CONFLICT_PARTY);
  g_clear_error (&error);
  /* a centre books only its own rooms and mediators */
  manual.start = t_local ("2026-12-08T14:30");
  manual.room_id = f->rooms[0];
  g_assert_cmpint (med_service_book (f->store, &ctx2, case2, &manual, 60, NULL,
                       &error),
      ==, 0);
  g_assert_nonnull (error);
  g_clear_error (&error);
  manual.room_id = room2;
  manual.mediator_id = f->mediators[0];
  g_assert_cmpint (med_service_book (f->store, &ctx2, case2, &manual, 60, NULL,
                       &error),
      ==, 0);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* centre 2 reaches none of centre 1's rows by id */
  manual.mediator_id = med2;
  assert_not_here (&error,
      med_service_book (f->store, &ctx2, case1, &manual, 60, NULL, &error)
          != 0);
  assert_not_here (&error,
      med_service_find_slots (f->store, &ctx2, case1, 0, 0, 1, &error) != NULL);
  assert_not_here (&error,
      med_service_reschedule (f->store, &ctx2, b1, NULL, NULL, &error));
  assert_not_here (&error, med_service_cancel (f->store, &ctx2, b1, &error));
  assert_not_here (&error,
      med_service_undo_booking (f->store, &ctx2, b1, &error));
  assert_not_here (&error,
      med_service_set_note (f->store, &ctx2, b1, "x", FALSE, NULL, &error));
  assert_not_here (&error,
      med_service_day_fit (f->store, &ctx2, 0, b1, 2026, 12, 9, 0, &error)
          != NULL);
  assert_not_here (&error,
      med_service_dispatch (f->store, &ctx2, case1, MED_DEPARTMENT_LEGAL_AID,
          &error));
  assert_not_here (&error,
      med_service_set_case_status (f->store, &ctx2, case1,
          MED_CASE_STATUS_WITHDRAWN, &error));
  parties = med_store_list_parties (f->store, case1, &error);
  assert_not_here (&error,
      med_service_revoke_join (f->store, &ctx2, b1,
          ((MedParty *) parties->pdata[0])->id, &error));
  assert_not_here (&error,
      med_service_set_consent (f->store, &ctx2, b1,
          ((MedParty *) parties->pdata[0])->id, TRUE, &error));
  assert_not_here (&error,
      med_service_send_link (f->store, &ctx2, b1,
          ((MedParty *) parties->pdata[0])->id, NULL, &error));
  assert_not_here (&error,
      med_service_add_leave (f->store, &ctx2, f->mediators[0],
          t_local ("2026-12-10T09:00"), t_local ("2026-12-10T18:00"), &error));
  assert_not_here (&error,
      med_service_set_email (f->store, &ctx2, MED_STORE_PERSON_MEDIATOR,
          f->mediators[0], "x@example.org", &error));
  assert_not_here (&error,
      med_service_add_feed_link (f->store, &ctx2, MED_FEED_LINK_ROOM,
          f->rooms[0],
          "0000000000000000000000000000000000000000000000000000"
          "000000000001",
          0, &error)
          != 0);
  assert_not_here (&error,
      med_service_feed (f->store, &ctx2, MED_FEED_KIND_CASE, case1,
          MED_FEED_STAFF, 0, 0, &error)
          != NULL);
  ok = med_service_feed (f->store, &ctx2, MED_FEED_KIND_CENTRE, ctx1.centre_id,
           MED_FEED_STAFF, 0, 0, &error)
      != NULL;
  g_assert_false (ok);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* nothing of that changed centre 1's booking */
  {
    g_autoptr (MedBooking) b = med_store_get_booking (f->store, b1, &error);

    g_assert_cmpint (b->status, ==, MED_BOOKING_STATUS_CONFIRMED);
    g_assert_cmpint (b->sequence, ==, 0);
  }

  /* users: of ctx's centre whatever the struct says */
  clerk1.name = (char *) "clerk1";
  clerk1.role = MED_ROLE_CLERK;
  clerk1.password = pw;
  clerk1.centre_id = ctx2.centre_id;
  user1 = med_service_add_user (f->store, &ctx1, &clerk1, &error);
  g_assert_no_error (error);
  clerk2 = clerk1;
  clerk2.name = (char *) "clerk2";
  clerk2.centre_id = ctx1.centre_id;
  user2 = med_service_add_user (f->store, &ctx2, &clerk2, &error);
  g_assert_no_error (error);
  got = med_store_get_user (f->store, user1, &error);
  g_assert_cmpint (got->centre_id, ==, ctx1.centre_id);
  g_clear_pointer (&got, med_user_free);
  got = med_store_get_user (f->store, user2, &error);
  g_assert_cmpint (got->centre_id, ==, ctx2.centre_id);
  assert_not_here (&error,
      med_service_add_token (f->store, &ctx2, user1,
          "0000000000000000000000000000000000000000000000000000000000000002", 0,
          &error)
          != 0);
  assert_not_here (&error,
      med_service_revoke_tokens (f->store, &ctx2, user1, &error));
  assert_not_here (&error,
      med_service_start_session (f->store, &ctx2,
          "0000000000000000000000000000000000000000000000000000000000000003",
          user1, "csrf-token-0123456789", t_local ("2026-12-08T09:00"),
          &error));

  /* the access rule: another centre's case or booking is not found, for a
   * clerk as for a mediator */
  g_assert_true (med_service_may_access_case (f->store, got, case2, &error));
  assert_not_here (&error,
      med_service_may_access_case (f->store, got, case1, &error));
  {
    g_autoptr (MedBooking) bk1 = med_store_get_booking (f->store, b1, NULL);
    g_autoptr (MedBooking) bk2 = med_store_get_booking (f->store, b2, NULL);
    MedUser mediator = { 0 };

    g_assert_true (med_service_may_access_booking (f->store, got, bk2, &error));
    assert_not_here (&error,
        med_service_may_access_booking (f->store, got, bk1, &error));
    /* centre 1's mediator with centre 2's mediator id is nobody there */
    mediator.role = MED_ROLE_MEDIATOR;
    mediator.centre_id = ctx1.centre_id;
    mediator.mediator_id = med2;
    g_assert_false (
        med_service_may_access_booking (f->store, &mediator, bk2, &error));
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define T(path, fn)                                                            \
  g_test_add ("/service/" path, Fixture, NULL, fixture_setup, fn,              \
      fixture_teardown)
  T ("book/earliest", test_book_earliest);
  T ("book/manual-conflict", test_manual_and_conflict);
  T ("book/reschedule-cancel", test_reschedule_cancel);
  T ("schedule/day", test_schedule_day);
  T ("schedule/day-async-changed-meanwhile", test_schedule_day_async);
  T ("slots/windows-match-full-search", test_windows_match_full_search);
  T ("board/fit-agrees-with-booking", test_board_fit_agrees);
  T ("board/fit-minors", test_board_fit_minors);
  T ("board/move", test_board_move);
  T ("board/undo", test_board_undo);
  T ("case/parties", test_case_parties);
  T ("case/find", test_case_find);
  T ("province/two-centres", test_province);
#undef T
  for (guint i = 0; i < G_N_ELEMENTS (pinned_seeds); i++) {
    g_autofree char *path = g_strdup_printf (
        "/service/slots/windows-match-full-search/%" G_GUINT32_FORMAT,
        pinned_seeds[i]);

    g_test_add (path, Fixture, &pinned_seeds[i], fixture_setup,
        test_windows_pinned, fixture_teardown);
  }
  return g_test_run ();
}
