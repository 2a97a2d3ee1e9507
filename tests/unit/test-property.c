/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-property.c — randomized workloads for the scheduler. For thousands
 * of random centres (rooms, mediators, interpreters, existing bookings)
 * and random queues, plans a day and checks the invariants:
 *   - no two sessions overlap in a room (with its buffers), for a mediator,
 *     an interpreter, a case or a shared party;
 *   - every session lies inside one working window of a working day;
 *   - every family or minors case sits in a family room, or carries the
 *     fallback flag with an explanation; a minors case leaves the family
 *     rooms only for the remote room, when a party joins by video and no
 *     family room with a terminal seats the session (docs/scheduling.md);
 *   - every hard constraint holds (capacity, specialty, language, cap);
 *   - the day planner never does worse than the greedy plan it starts
 *     from (urgent cases first, then all), never claims a bound below
 *     what it placed, and says optimal when it placed everything;
 *   - every trade named in a reason ("would unplace …") names cases the
 *     plan placed;
 *   - the same input and options give the same plan.
 * Seeds come from GTest (reproduce a failure with --seed). */
#include "test-util.h"

#include <string.h>

static const char *const langs[] = { "zh", "bo", "en" };

typedef struct
{
  World w;
  GPtrArray *cases;
  GPtrArray *parties;
  gint year, month, day;
} Work;

static void
work_clear (Work *k)
{
  world_clear (&k->w);
  g_ptr_array_unref (k->cases);
  g_ptr_array_unref (k->parties);
}

static MedWorkcal *shared_wc;

static void
make_work (Work *k, GRand *r)
{
  guint n_rooms = g_rand_int_range (r, 1, 7);
  guint n_med = g_rand_int_range (r, 1, 8);
  guint n_int = g_rand_int_range (r, 0, 3);
  guint n_cases = g_rand_int_range (r, 1, 30);
  guint n_busy = g_rand_int_range (r, 0, 15);
  GDate d;

  memset (k, 0, sizeof *k);
  k->w.centre = med_centre_new_default ();
  k->w.centre->min_notice_minutes = g_rand_int_range (r, 0, 120);
  k->w.centre->slot_minutes = g_rand_boolean (r) ? 15 : 10;
  k->w.centre->allow_fallback = g_rand_int_range (r, 0, 4) != 0;
  k->w.wc = NULL;
  k->w.rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  k->w.mediators
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_mediator_free);
  k->w.interpreters
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_interpreter_free);
  k->w.bookings = g_array_new (FALSE, TRUE, sizeof (MedBusy));
  k->cases = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  k->parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  /* A random day in 2025 or 2026, including holidays and weekends. */
  g_date_clear (&d, 1);
  g_date_set_dmy (&d, 1, 1, 2025);
  g_date_add_days (&d, g_rand_int_range (r, 0, 729));
  /* mostly weekdays, so that most workloads place something */
  if (g_date_get_weekday (&d) >= G_DATE_SATURDAY
      && g_rand_int_range (r, 0, 5) != 0)
    g_date_add_days (&d, 2);
  k->year = g_date_get_year (&d);
  k->month = g_date_get_month (&d);
  k->day = g_date_get_day (&d);

  for (guint i = 0; i < n_rooms; i++) {
    MedRoom *room = mk_room (i + 1, "室", g_rand_int_range (r, 0, 3),
        g_rand_int_range (r, 2, 10));

    room->setup_minutes = g_rand_int_range (r, 0, 3) * 10;
    room->cleanup_minutes = g_rand_int_range (r, 0, 3) * 5;
    if (g_rand_int_range (r, 0, 4) == 0)
      room->features |= MED_ROOM_FEATURE_VIDEO;
    g_ptr_array_add (k->w.rooms, room);
  }
  for (guint i = 0; i < n_med; i++) {
    MedMediator *m = med_mediator_new ();
    g_auto (GStrv) l = NULL;
    GStrvBuilder *b = g_strv_builder_new ();

    m->id = 100 + i;
    m->name = g_strdup ("调解员");
    for (guint x = 0; x < G_N_ELEMENTS (langs); x++) {
      if (x == 0 ? g_rand_int_range (r, 0, 5) != 0 : g_rand_boolean (r))
        g_strv_builder_add (b, langs[x]);
    }
    m->languages = g_strv_builder_end (b);
    g_strv_builder_unref (b);
    if (m->languages[0] == NULL) {
      g_strfreev (m->languages);
      m->languages = g_strsplit ("zh", ",", -1);
    }
    m->specialties = g_rand_int (r) & ((1u << MED_CASE_KIND_N) - 1);
    m->daily_cap = g_rand_int_range (r, 1, 6);
    if (g_rand_int_range (r, 0, 5) == 0) {
      MedTime base = 0;
      MedInterval iv;

      med_workcal_local_to_utc ("Asia/Shanghai", k->year, k->month, k->day,
          g_rand_int_range (r, 0, 20) * 60, &base, NULL);
      iv.start = base;
      iv.end = base + g_rand_int_range (r, 1, 30) * 3600;
      m->leave = g_array_new (FALSE, FALSE, sizeof (MedInterval));
      g_array_append_val (m->leave, iv);
    }
    g_ptr_array_add (k->w.mediators, m);
  }
  for (guint i = 0; i < n_int; i++)
    g_ptr_array_add (k->w.interpreters,
        mk_interpreter (500 + i, "译员",
            g_rand_boolean (r) ? "zh:bo" : "zh:en,bo:en"));
  for (guint i = 0; i < n_busy; i++) {
    MedTime base = 0;
    MedBusy b = { 0 };

    med_workcal_local_to_utc ("Asia/Shanghai", k->year, k->month, k->day,
        g_rand_int_range (r, 8 * 4, 18 * 4) * 15, &base, NULL);
    b.start = base;
    b.end = base + g_rand_int_range (r, 1, 8) * 15 * 60;
    b.booking_id = i + 1;
    b.case_id = 9000 + i;
    b.room_id = g_rand_int_range (r, 1, n_rooms + 1);
    b.mediator_id = 100 + g_rand_int_range (r, 0, n_med);
    g_array_append_val (k->w.bookings, b);
  }
  for (guint i = 0; i < n_cases; i++) {
    MedCase *c = mk_case (1000 + i, g_rand_int_range (r, 0, MED_CASE_KIND_N));
    GPtrArray *ps
        = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
    guint np = g_rand_int_range (r, 1, 5);

    c->minors = g_rand_int_range (r, 0, 5) == 0;
    c->urgent = g_rand_int_range (r, 0, 6) == 0;
    c->duration_minutes = g_rand_int_range (r, 2, 9) * 15;
    c->intake_at = g_rand_int_range (r, 0, 1000);
    for (guint p = 0; p < np; p++) {
      char contact[16];

      g_snprintf (contact, sizeof contact, "1380000%04u",
          g_rand_int_range (r, 0, 20));
      g_ptr_array_add (ps,
          mk_party (langs[g_rand_int_range (r, 0, G_N_ELEMENTS (langs))],
              g_rand_int_range (r, 0, 6) == 0 ? MED_ATTENDANCE_REMOTE
                                              : MED_ATTENDANCE_IN_PERSON,
              contact));
    }
    g_ptr_array_add (k->cases, c);
    g_ptr_array_add (k->parties, ps);
  }
}

/* A small work budget: the workloads are small, and a few thousand of
 * them run here. */
#define PLAN_WORK 30000

static MedPlan *
plan_work (Work *k, MedScheduler **out_sched)
{
  g_autoptr (GArray) q = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
  g_autoptr (GError) error = NULL;
  MedPlanOptions o = { 0 };
  MedScheduler *s;
  MedTime now = 0;
  MedPlan *p;

  k->w.wc = shared_wc;
  s = med_scheduler_new (world_snapshot (&k->w), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < k->cases->len; i++) {
    MedQueueEntry e = { g_ptr_array_index (k->cases, i),
      g_ptr_array_index (k->parties, i), NULL, 0 };

    g_array_append_val (q, e);
  }
  med_workcal_local_to_utc ("Asia/Shanghai", k->year, k->month, k->day, 7 * 60,
      &now, NULL);
  o.work_limit = PLAN_WORK;
  o.seed = k->day;
  p = med_scheduler_plan_day (s, q, k->year, k->month, k->day, now, &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  if (out_sched)
    *out_sched = s;
  else
    med_scheduler_free (s);
  return p;
}

static MedRoom *
find_room (Work *k, gint64 id)
{
  for (guint i = 0; i < k->w.rooms->len; i++) {
    MedRoom *r = g_ptr_array_index (k->w.rooms, i);

    if (r->id == id)
      return r;
  }
  g_assert_not_reached ();
  return NULL;
}

static MedMediator *
find_med (Work *k, gint64 id)
{
  for (guint i = 0; i < k->w.mediators->len; i++) {
    MedMediator *m = g_ptr_array_index (k->w.mediators, i);

    if (m->id == id)
      return m;
  }
  g_assert_not_reached ();
  return NULL;
}

static MedInterpreter *
find_int (Work *k, gint64 id)
{
  for (guint i = 0; i < k->w.interpreters->len; i++) {
    MedInterpreter *m = g_ptr_array_index (k->w.interpreters, i);

    if (m->id == id)
      return m;
  }
  return NULL;
}

static gboolean
overlap (MedTime a, MedTime b, MedTime c, MedTime d)
{
  return a < d && c < b;
}

typedef struct
{
  MedTime start, end, bstart, bend;
  gint64 room, med, interp, case_id;
  GPtrArray *parties;
} Occ;

static void
check_plan (Work *k, MedPlan *p)
{
  g_autoptr (GArray) occ = g_array_new (FALSE, TRUE, sizeof (Occ));
  MedInterval win[2];
  guint n_win = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (med_workcal_day_windows (shared_wc, k->w.centre, k->year,
      k->month, k->day, win, &n_win, &error));
  for (guint i = 0; i < k->w.bookings->len; i++) {
    MedBusy *b = &g_array_index (k->w.bookings, MedBusy, i);
    MedRoom *r = find_room (k, b->room_id);
    Occ o = { b->start, b->end, b->start - r->setup_minutes * 60,
      b->end + r->cleanup_minutes * 60, b->room_id, b->mediator_id, 0,
      b->case_id, NULL };

    g_array_append_val (occ, o);
  }
  g_assert_cmpuint (p->placed + p->unplaced, ==, k->cases->len);
  /* never worse than the greedy plan, urgent cases first */
  g_assert_cmpuint (p->urgent_placed, >=, p->greedy_urgent_placed);
  if (p->urgent_placed == p->greedy_urgent_placed)
    g_assert_cmpuint (p->placed, >=, p->greedy_placed);
  g_assert_cmpuint (p->bound, >=, p->placed);
  g_assert_cmpuint (p->urgent_bound, >=, p->urgent_placed);
  g_assert_cmpuint (p->bound, <=, k->cases->len);
  if (p->unplaced == 0)
    g_assert_true (p->optimal);
  g_assert_true (p->optimal
      == (p->placed == p->bound && p->urgent_placed == p->urgent_bound));
  {
    guint urgent = 0, placed_urgent = 0;

    for (guint i = 0; i < p->items->len; i++) {
      MedPlanItem *it = g_ptr_array_index (p->items, i);

      for (guint x = 0; x < k->cases->len; x++) {
        MedCase *c = g_ptr_array_index (k->cases, x);

        if (c->id == it->case_id && c->urgent) {
          urgent++;
          placed_urgent += it->slot != NULL;
        }
      }
      if (it->would_unplace == NULL)
        continue;
      g_assert_cmpuint (it->would_unplace->len, >, 0);
      g_assert_null (it->slot);
      g_assert_nonnull (strstr (it->reason, "would unplace"));
      for (guint y = 0; y < it->would_unplace->len; y++) {
        gint64 id = g_array_index (it->would_unplace, gint64, y);
        gboolean placed = FALSE;

        for (guint z = 0; z < p->items->len; z++) {
          MedPlanItem *o = g_ptr_array_index (p->items, z);

          placed |= o->case_id == id && o->slot != NULL;
        }
        g_assert_true (placed);
      }
    }
    g_assert_cmpuint (p->urgent_placed, ==, placed_urgent);
    g_assert_cmpuint (p->urgent_placed + p->urgent_unplaced, ==, urgent);
  }
  for (guint i = 0; i < p->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (p->items, i);
    MedCase *c = NULL;
    GPtrArray *parties = NULL;
    MedRoom *r;
    MedMediator *m;
    gboolean in_window = FALSE, video_needed = FALSE;
    guint in_person = 1, same_day = 0;

    for (guint x = 0; x < k->cases->len; x++) {
      if (((MedCase *) g_ptr_array_index (k->cases, x))->id == it->case_id) {
        c = g_ptr_array_index (k->cases, x);
        parties = g_ptr_array_index (k->parties, x);
      }
    }
    g_assert_nonnull (c);
    if (it->slot == NULL) {
      g_assert_nonnull (it->reason);
      g_assert_cmpuint (strlen (it->reason), >, 10);
      continue;
    }
    r = find_room (k, it->slot->room_id);
    m = find_med (k, it->slot->mediator_id);
    /* working window */
    for (guint w = 0; w < n_win; w++)
      in_window
          |= it->slot->start >= win[w].start && it->slot->end <= win[w].end;
    g_assert_true (in_window);
    g_assert_cmpint (it->slot->end - it->slot->start, ==,
        c->duration_minutes * 60);
    /* room policy */
    for (guint x = 0; x < parties->len; x++) {
      MedParty *pa = g_ptr_array_index (parties, x);

      if (pa->attendance == MED_ATTENDANCE_REMOTE)
        video_needed = TRUE;
      else
        in_person++;
    }
    if (video_needed)
      g_assert_true (r->kind == MED_ROOM_KIND_REMOTE
          || (r->features & MED_ROOM_FEATURE_VIDEO));
    if (c->minors || med_case_kind_is_family (c->kind)) {
      if (r->kind != MED_ROOM_KIND_FAMILY) {
        g_assert_true (it->slot->fallback);
        g_assert_nonnull (strstr (it->slot->explanation, "fallback"));
        if (c->minors) {
          g_assert_true (video_needed && r->kind == MED_ROOM_KIND_REMOTE);
          /* … and only when no family room could take it */
          for (guint x = 0; x < k->w.rooms->len; x++) {
            MedRoom *fr = g_ptr_array_index (k->w.rooms, x);

            g_assert_false (fr->kind == MED_ROOM_KIND_FAMILY
                && (fr->features & MED_ROOM_FEATURE_VIDEO)
                && fr->capacity >= (gint) in_person);
          }
        }
      }
    }
    if (!k->w.centre->allow_fallback)
      g_assert_false (it->slot->fallback);
    g_assert_cmpint (r->capacity, >=, in_person);
    /* specialty, language */
    g_assert_true (m->specialties & (1u << c->kind));
    for (guint x = 0; x < parties->len; x++) {
      MedParty *pa = g_ptr_array_index (parties, x);

      if (!med_mediator_speaks (m, pa->language)) {
        MedInterpreter *in = find_int (k, it->slot->interpreter_id);
        gboolean bridged = FALSE;

        g_assert_nonnull (in);
        for (guint l = 0; m->languages[l]; l++)
          bridged |= med_interpreter_covers (in, m->languages[l], pa->language);
        g_assert_true (bridged);
      }
    }
    /* leave */
    for (guint x = 0; m->leave && x < m->leave->len; x++) {
      MedInterval *iv = &g_array_index (m->leave, MedInterval, x);

      g_assert_false (
          overlap (it->slot->start, it->slot->end, iv->start, iv->end));
    }
    /* overlaps with everything seen so far */
    for (guint x = 0; x < occ->len; x++) {
      Occ *o = &g_array_index (occ, Occ, x);

      if (o->room == r->id)
        g_assert_false (overlap (it->slot->start - r->setup_minutes * 60,
            it->slot->end + r->cleanup_minutes * 60, o->bstart, o->bend));
      if (o->med == m->id) {
        g_assert_false (
            overlap (it->slot->start, it->slot->end, o->start, o->end));
        same_day++;
      }
      if (it->slot->interpreter_id && o->interp == it->slot->interpreter_id)
        g_assert_false (
            overlap (it->slot->start, it->slot->end, o->start, o->end));
      if (o->parties != NULL) {
        for (guint a = 0; a < parties->len; a++) {
          for (guint b = 0; b < o->parties->len; b++) {
            MedParty *pa = g_ptr_array_index (parties, a);
            MedParty *pb = g_ptr_array_index (o->parties, b);

            if (g_strcmp0 (pa->contact, pb->contact) == 0)
              g_assert_false (
                  overlap (it->slot->start, it->slot->end, o->start, o->end));
          }
        }
      }
    }
    /* daily cap (all bookings here are on the planned day) */
    g_assert_cmpuint (same_day, <, (guint) m->daily_cap);
    {
      Occ o = { it->slot->start, it->slot->end,
        it->slot->start - r->setup_minutes * 60,
        it->slot->end + r->cleanup_minutes * 60, r->id, m->id,
        it->slot->interpreter_id, c->id, parties };

      g_array_append_val (occ, o);
    }
  }
}

static void
compare_plans (MedPlan *a, MedPlan *b)
{
  g_assert_cmpuint (a->items->len, ==, b->items->len);
  g_assert_cmpuint (a->placed, ==, b->placed);
  for (guint i = 0; i < a->items->len; i++) {
    MedPlanItem *x = g_ptr_array_index (a->items, i);
    MedPlanItem *y = g_ptr_array_index (b->items, i);

    g_assert_cmpint (x->case_id, ==, y->case_id);
    g_assert_true ((x->slot == NULL) == (y->slot == NULL));
    g_assert_true ((x->would_unplace == NULL) == (y->would_unplace == NULL));
    if (x->slot) {
      g_assert_cmpint (x->slot->start, ==, y->slot->start);
      g_assert_cmpint (x->slot->room_id, ==, y->slot->room_id);
      g_assert_cmpint (x->slot->mediator_id, ==, y->slot->mediator_id);
      g_assert_cmpint (x->slot->interpreter_id, ==, y->slot->interpreter_id);
      g_assert_cmpstr (x->slot->explanation, ==, y->slot->explanation);
    } else {
      g_assert_cmpstr (x->reason, ==, y->reason);
    }
  }
}

static void
test_random_workloads (void)
{
  guint n = g_test_thorough () ? 20000 : 5000;
  guint placed = 0, unplaced = 0, fallbacks = 0, greedy = 0, trades = 0;
  guint optimal = 0;
  guint32 seed = g_test_rand_int ();

  g_test_message ("workload seed %" G_GUINT32_FORMAT " (workload i: seed + i)",
      seed);
  for (guint i = 0; i < n; i++) {
    g_autoptr (GRand) r = g_rand_new_with_seed (seed + i);
    Work k;
    g_autoptr (MedPlan) p1 = NULL;
    g_autoptr (MedPlan) p2 = NULL;

    make_work (&k, r);
    p1 = plan_work (&k, NULL);
    check_plan (&k, p1);
    p2 = plan_work (&k, NULL);
    compare_plans (p1, p2);
    placed += p1->placed;
    unplaced += p1->unplaced;
    greedy += p1->greedy_placed;
    optimal += p1->optimal;
    for (guint x = 0; x < p1->items->len; x++) {
      MedPlanItem *it = g_ptr_array_index (p1->items, x);

      fallbacks += it->slot && it->slot->fallback;
      trades += it->would_unplace != NULL;
    }
    k.w.wc = NULL;
    work_clear (&k);
  }
  g_test_message ("seed %u, %u workloads: %u placed (greedy %u), %u "
                  "unplaced, %u fallbacks, %u trades named, %u proved optimal",
      seed, n, placed, greedy, unplaced, fallbacks, trades, optimal);
  /* the generator must exercise both outcomes, the fallback path, trades
   * and the search's gains */
  g_assert_cmpuint (placed, >, 0);
  g_assert_cmpuint (unplaced, >, 0);
  g_assert_cmpuint (fallbacks, >, 0);
  g_assert_cmpuint (trades, >, 0);
  g_assert_cmpuint (placed, >, greedy);
}

/* Single-case searches over random worlds: every slot returned is
 * accepted by med_scheduler_check_slot, and reserving it makes the same
 * search return something else. */
static void
test_find_then_check (void)
{
  guint n = g_test_thorough () ? 5000 : 1000;
  guint32 seed = g_test_rand_int ();
  guint found = 0;

  g_test_message ("world seed %" G_GUINT32_FORMAT, seed);
  for (guint i = 0; i < n; i++) {
    g_autoptr (GRand) r = g_rand_new_with_seed (seed ^ (i * 2654435761u));
    Work k;
    g_autoptr (MedScheduler) s = NULL;
    g_autoptr (GPtrArray) slots = NULL;
    g_autoptr (GError) error = NULL;
    MedSlotRequest req = { 0 };
    MedTime now = 0;

    make_work (&k, r);
    k.w.wc = shared_wc;
    s = med_scheduler_new (world_snapshot (&k.w), NULL);
    med_workcal_local_to_utc ("Asia/Shanghai", k.year, k.month, k.day,
        g_rand_int_range (r, 0, 24 * 4) * 15, &now, NULL);
    req.kase = g_ptr_array_index (k.cases, 0);
    req.parties = g_ptr_array_index (k.parties, 0);
    req.now = now;
    req.horizon_end = now + 10 * 86400;
    slots = med_scheduler_find_slots (s, &req, NULL, &error);
    if (slots != NULL) {
      MedSlot *sl = g_ptr_array_index (slots, 0);
      MedSlot copy = *sl;
      g_autoptr (GError) err2 = NULL;

      copy.explanation = NULL;
      copy.reasons = NULL;
      g_assert_true (med_scheduler_check_slot (s, &req, &copy, &err2));
      g_assert_no_error (err2);
      /* the check explains the same slot with the same kind of reasons */
      g_assert_nonnull (copy.reasons);
      g_assert_cmpint (((MedReason *) copy.reasons->pdata[0])->code, ==,
          MED_REASON_ROOM);
      g_free (copy.explanation);
      g_clear_pointer (&copy.reasons, g_ptr_array_unref);
      g_assert_cmpint (sl->start, >=, now);
      med_scheduler_reserve (s, sl, req.kase->id);
      copy.explanation = NULL;
      g_assert_false (med_scheduler_check_slot (s, &req, &copy, &err2));
      /* refused: the error says why, as reasons */
      g_assert_nonnull (med_scheduler_error_get_reasons (err2));
      g_free (copy.explanation);
      g_clear_pointer (&copy.reasons, g_ptr_array_unref);
      found++;
    } else {
      g_assert_true (g_error_matches (error, MED_SCHEDULER_ERROR,
                         MED_SCHEDULER_ERROR_NO_SLOT)
          || g_error_matches (error, MED_SCHEDULER_ERROR,
              MED_SCHEDULER_ERROR_UNPUBLISHED));
    }
    k.w.wc = NULL;
    work_clear (&k);
  }
  g_assert_cmpuint (found, >, n / 10);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  shared_wc = shipped_workcal ();
  g_test_add_func ("/property/plan-day/invariants", test_random_workloads);
  g_test_add_func ("/property/find-slot/check-agrees", test_find_then_check);
  rc = g_test_run ();
  med_workcal_free (shared_wc);
  return rc;
}
