/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-scheduler.c — how fast the scheduler answers, on generated
 * centres of two sizes:
 *   small: 9 rooms, 40 mediators, ~10,000 bookings over a year
 *   large: 120 rooms, 400 mediators, ~100,000 bookings over a year
 * It measures the earliest-slot query for one case (p50/p99 over random
 * cases and dates), building the scheduler's indexes from a snapshot,
 * batch allocation of a day (60 cases small, 1,000 cases large) and the
 * peak memory. Prints TAP plus "# key value" lines that BENCHMARKS.md
 * quotes. Registered with benchmark(), so only `meson test --benchmark`
 * runs it. */
#include "../unit/test-util.h"

#include <stdio.h>
#include <string.h>

typedef struct
{
  const char *name;
  guint rooms;
  guint mediators;
  gdouble fill; /* share of room slots booked */
  guint batch; /* cases in the batch day */
} Size;

static const guint slot_starts[]
    = { 9 * 60, 10 * 60, 11 * 60, 14 * 60 + 30, 15 * 60 + 30, 16 * 60 + 30 };

static void
build_world (World *w, const Size *sz, GRand *r)
{
  GDate d;

  world_init (w);
  for (guint i = 0; i < sz->rooms; i++) {
    MedRoomKind kind = i % 9 < 6 ? MED_ROOM_KIND_WARM
        : i % 9 < 8              ? MED_ROOM_KIND_FAMILY
                                 : MED_ROOM_KIND_REMOTE;
    MedRoom *room = mk_room (i + 1, "调解室", kind, 8);

    room->cleanup_minutes = 0;
    g_ptr_array_add (w->rooms, room);
  }
  for (guint i = 0; i < sz->mediators; i++) {
    MedMediator *m = med_mediator_new ();

    m->id = 1000 + i;
    m->name = g_strdup ("调解员");
    m->languages = g_strsplit (i % 3 == 0 ? "zh,bo" : "zh", ",", -1);
    /* every kind has specialists; each mediator handles about half */
    m->specialties = (g_rand_int (r) | (1u << (i % MED_CASE_KIND_N)))
        & ((1u << MED_CASE_KIND_N) - 1);
    m->daily_cap = 6;
    g_ptr_array_add (w->mediators, m);
  }
  g_ptr_array_add (w->interpreters, mk_interpreter (5000, "译员", "zh:bo"));

  /* Fill the year 2026 slot by slot: a booking per room slot with the
   * given probability, mediators chosen so that none is double-booked. */
  g_date_clear (&d, 1);
  g_date_set_dmy (&d, 1, 1, 2026);
  for (guint day = 0; day < 365; day++, g_date_add_days (&d, 1)) {
    MedInterval win[2];
    guint n_win = 0;

    if (!med_workcal_day_windows (w->wc, w->centre, g_date_get_year (&d),
            g_date_get_month (&d), g_date_get_day (&d), win, &n_win, NULL)
        || n_win == 0)
      continue;
    /* 2026-12-07 stays free for the batch day */
    if (g_date_get_month (&d) == 12 && g_date_get_day (&d) == 7)
      continue;
    for (guint s = 0; s < G_N_ELEMENTS (slot_starts); s++) {
      MedTime start = 0;

      med_workcal_local_to_utc ("Asia/Shanghai", g_date_get_year (&d),
          g_date_get_month (&d), g_date_get_day (&d), slot_starts[s], &start,
          NULL);
      for (guint room = 0; room < sz->rooms; room++) {
        MedBusy b = { 0 };

        if (g_rand_double (r) >= sz->fill)
          continue;
        b.start = start;
        b.end = start + 3600;
        b.booking_id = w->bookings->len + 1;
        b.case_id = 100000 + w->bookings->len;
        b.room_id = room + 1;
        b.mediator_id = 1000 + (room + s * sz->rooms + day) % sz->mediators;
        g_array_append_val (w->bookings, b);
      }
    }
  }
}

static int
compare_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static gint64
percentile (GArray *v, double p)
{
  guint i = (guint) (p * (v->len - 1) + 0.5);

  return g_array_index (v, gint64, MIN (i, v->len - 1));
}

static glong
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  p = strstr (status, "VmHWM:");
  return p ? strtol (p + 6, NULL, 10) : -1;
}

static MedCase *
random_case (GRand *r, gint64 id, GPtrArray **parties)
{
  MedCase *c = mk_case (id, g_rand_int_range (r, 0, MED_CASE_KIND_N));
  guint np = g_rand_int_range (r, 2, 4);

  c->minors = g_rand_int_range (r, 0, 10) == 0;
  c->duration_minutes = 60;
  c->intake_at = id;
  *parties = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  for (guint p = 0; p < np; p++) {
    char contact[16];

    g_snprintf (contact, sizeof contact, "139%08" G_GINT64_FORMAT, id * 4 + p);
    g_ptr_array_add (*parties,
        mk_party (g_rand_int_range (r, 0, 4) == 0 ? "bo" : "zh",
            g_rand_int_range (r, 0, 8) == 0 ? MED_ATTENDANCE_REMOTE
                                            : MED_ATTENDANCE_IN_PERSON,
            contact));
  }
  return c;
}

static void
run_size (const Size *sz, guint *test_no)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (20261207);
  g_autoptr (GArray) lat = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) build = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (MedScheduler) s = NULL;
  World w;
  guint queries = 2000, found = 0;
  gint64 t0, t1;

  build_world (&w, sz, r);
  for (guint i = 0; i < 5; i++) {
    g_autoptr (MedScheduler) tmp = NULL;

    t0 = g_get_monotonic_time ();
    tmp = med_scheduler_new (world_snapshot (&w), NULL);
    t1 = g_get_monotonic_time ();
    g_array_append_val (build, (gint64){ t1 - t0 });
  }
  g_array_sort (build, compare_i64);
  s = med_scheduler_new (world_snapshot (&w), NULL);

  for (guint i = 0; i < queries; i++) {
    g_autoptr (MedCase) c = NULL;
    g_autoptr (GPtrArray) parties = NULL;
    g_autoptr (GPtrArray) slots = NULL;
    MedSlotRequest req = { 0 };
    MedTime now = 0;
    GDate d;

    c = random_case (r, i + 1, &parties);
    g_date_clear (&d, 1);
    g_date_set_dmy (&d, 1, 1, 2026);
    g_date_add_days (&d, g_rand_int_range (r, 0, 300));
    med_workcal_local_to_utc ("Asia/Shanghai", g_date_get_year (&d),
        g_date_get_month (&d), g_date_get_day (&d),
        g_rand_int_range (r, 7 * 60, 17 * 60), &now, NULL);
    req.kase = c;
    req.parties = parties;
    req.now = now;
    t0 = g_get_monotonic_time ();
    slots = med_scheduler_find_slots (s, &req, NULL, NULL);
    t1 = g_get_monotonic_time ();
    found += slots != NULL;
    g_array_append_val (lat, (gint64){ t1 - t0 });
  }
  g_array_sort (lat, compare_i64);
  printf ("ok %u - %s: earliest-slot query\n", ++*test_no, sz->name);
  printf ("# %s.rooms %u\n# %s.mediators %u\n# %s.bookings %u\n", sz->name,
      sz->rooms, sz->name, sz->mediators, sz->name, w.bookings->len);
  printf ("# %s.query_p50_us %" G_GINT64_FORMAT "\n", sz->name,
      percentile (lat, 0.50));
  printf ("# %s.query_p99_us %" G_GINT64_FORMAT "\n", sz->name,
      percentile (lat, 0.99));
  printf ("# %s.query_max_us %" G_GINT64_FORMAT "\n", sz->name,
      percentile (lat, 1.0));
  printf ("# %s.queries_with_slot %u/%u\n", sz->name, found, queries);
  printf ("# %s.index_build_ms %.1f\n", sz->name,
      percentile (build, 0.5) / 1000.0);

  /* Batch: a day's queue on a working day that already has bookings. */
  {
    g_autoptr (GPtrArray) cases
        = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
    g_autoptr (GPtrArray) party_lists
        = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
    g_autoptr (GArray) q = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
    g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
    guint placed = 0;
    MedTime now = 0;

    /* A fresh, empty day: 2026-12-07 carries only generated bookings. */
    med_workcal_local_to_utc ("Asia/Shanghai", 2026, 12, 7, 7 * 60, &now, NULL);
    for (guint i = 0; i < sz->batch; i++) {
      GPtrArray *ps = NULL;
      MedCase *c = random_case (r, 50000 + i, &ps);
      MedQueueEntry e = { c, ps, NULL, 0 };

      c->urgent = i % 17 == 0;
      g_ptr_array_add (cases, c);
      g_ptr_array_add (party_lists, ps);
      g_array_append_val (q, e);
    }
    for (guint rep = 0; rep < 5; rep++) {
      g_autoptr (MedScheduler) bs
          = med_scheduler_new (world_snapshot (&w), NULL);
      g_autoptr (MedPlan) p = NULL;

      t0 = g_get_monotonic_time ();
      p = med_scheduler_plan_day (bs, q, 2026, 12, 7, now, NULL, NULL);
      t1 = g_get_monotonic_time ();
      g_assert_nonnull (p);
      placed = p->placed;
      g_array_append_val (times, (gint64){ t1 - t0 });
    }
    g_array_sort (times, compare_i64);
    printf ("ok %u - %s: batch of %u cases\n", ++*test_no, sz->name, sz->batch);
    printf ("# %s.batch_cases %u\n# %s.batch_placed %u\n", sz->name, sz->batch,
        sz->name, placed);
    printf ("# %s.batch_ms_median %.1f\n# %s.batch_ms_max %.1f\n", sz->name,
        percentile (times, 0.5) / 1000.0, sz->name,
        percentile (times, 1.0) / 1000.0);
  }
  printf ("# %s.peak_rss_kib %ld\n", sz->name, peak_rss_kib ());
  world_clear (&w);
}

int
main (int argc, char **argv)
{
  static const Size small = { "small", 9, 40, 0.744, 60 };
  static const Size large = { "large", 120, 400, 0.558, 1000 };
  guint n = 0;

  printf ("1..4\n");
  run_size (&small, &n);
  run_size (&large, &n);
  return 0;
}
