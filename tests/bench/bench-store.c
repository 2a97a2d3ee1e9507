/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-store.c — durability and cold-start figures of the store and CLI.
 *
 *  1. committed bookings per second, each med_store_book its own
 *     transaction with WAL + synchronous=FULL (one fsync per commit), and
 *     side by side, in the same run and on the same disk, the peer: a bare
 *     SQLite INSERT of a row of the same width per transaction under the
 *     same pragmas — the ratio is the cost of medsched's re-checks,
 *     triggers and audit row;
 *  2. two centres written through the store (9 rooms / 40 mediators /
 *     ~10,000 bookings and 120 rooms / 400 mediators / ~100,000 bookings);
 *  3. the CLI's cold start to a printed slot (`medsched slots CASE`,
 *     wall time over repeated runs) and its peak memory (ru_maxrss) on
 *     both centres.
 * Prints TAP plus "# key value" lines quoted in BENCHMARKS.md. */
#include <medsched/med-ical.h>
#include <medsched/med-store.h>
#include <med-store-write.h>

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static MedTime
at (const char *local)
{
  MedTime t = 0;

  g_assert_true (med_time_parse_local (local, "Asia/Shanghai", &t, NULL));
  return t;
}

static int
compare_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static gint64
pct (GArray *v, double p)
{
  guint i = (guint) (p * (v->len - 1) + 0.5);

  return g_array_index (v, gint64, MIN (i, v->len - 1));
}

typedef struct
{
  gint64 centre;
  GArray *rooms; /* gint64 */
  GArray *mediators; /* gint64 */
  guint cases;
} Centre;

static void
add_resources (MedStore *store, Centre *c, guint n_rooms, guint n_med)
{
  g_autoptr (MedCentre) centre = med_centre_new_default ();
  g_autoptr (GError) error = NULL;

  g_free (centre->layers);
  centre->layers = g_strdup ("CN");
  c->centre = med_store_add_centre (store, centre, "bench", &error);
  g_assert_no_error (error);
  c->rooms = g_array_new (FALSE, FALSE, sizeof (gint64));
  c->mediators = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < n_rooms; i++) {
    g_autoptr (MedRoom) r = med_room_new ();
    gint64 id;

    r->centre_id = c->centre;
    r->name = g_strdup_printf ("温馨调解室%u", i + 1);
    r->kind = MED_ROOM_KIND_WARM;
    r->capacity = 8;
    id = med_store_add_room (store, r, "bench", &error);
    g_assert_no_error (error);
    g_array_append_val (c->rooms, id);
  }
  for (guint i = 0; i < n_med; i++) {
    g_autoptr (MedMediator) m = med_mediator_new ();
    gint64 id;

    m->centre_id = c->centre;
    m->name = g_strdup_printf ("调解员%u", i + 1);
    m->languages = g_strsplit ("zh,bo", ",", -1);
    m->specialties = 1u << MED_CASE_KIND_WAGES | 1u << MED_CASE_KIND_LAND;
    m->daily_cap = 8;
    id = med_store_add_mediator (store, m, "bench", &error);
    g_assert_no_error (error);
    g_array_append_val (c->mediators, id);
  }
}

static gint64
add_case (MedStore *store, Centre *c)
{
  g_autoptr (MedCase) k = med_case_new ();
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_autoptr (GError) error = NULL;
  MedParty *p = med_party_new ();
  gint64 id;

  c->cases++;
  k->centre_id = c->centre;
  k->number = g_strdup_printf ("(2026)藏0102调%u号", c->cases);
  k->kind = MED_CASE_KIND_WAGES;
  k->status = MED_CASE_STATUS_DISPATCHED;
  k->department = MED_DEPARTMENT_COURT_MEDIATION;
  k->intake_at = at ("2026-01-02T08:00");
  p->name = g_strdup ("申请人");
  p->language = g_strdup ("zh");
  p->contact = g_strdup_printf ("139%08u", c->cases);
  g_ptr_array_add (parties, p);
  id = med_store_add_case (store, k, parties, "bench", &error);
  g_assert_no_error (error);
  return id;
}

static gboolean
book (MedStore *store, gint64 case_id, gint64 room, gint64 med, MedTime s,
    GError **error)
{
  MedBooking b = { 0 };

  b.case_id = case_id;
  b.room_id = room;
  b.mediator_id = med;
  b.start = s;
  b.end = s + 3600;
  b.mode = MED_BOOKING_MODE_IN_PERSON;
  b.status = MED_BOOKING_STATUS_CONFIRMED;
  return med_store_book (store, &b, "bench", error) != 0;
}

/* 1. one booking per transaction vs a bare INSERT per transaction */
static void
bench_commits (const char *dir, guint *n)
{
  g_autofree char *path = g_build_filename (dir, "commits.db", NULL);
  g_autofree char *peer_path = g_build_filename (dir, "peer.db", NULL);
  g_autoptr (MedStore) store = med_store_open (path, NULL);
  g_autoptr (GArray) cases = g_array_new (FALSE, FALSE, sizeof (gint64));
  Centre c = { 0 };
  const guint count = 2000;
  gint64 t0, t1, t2, t3;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  double ours, peer;

  add_resources (store, &c, 9, 40);
  for (guint i = 0; i < count; i++) {
    gint64 id = add_case (store, &c);

    g_array_append_val (cases, id);
  }
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < count; i++) {
    g_autoptr (GError) error = NULL;
    /* 9 rooms x 6 slots a day on consecutive days of 2026 */
    MedTime day = at ("2026-01-05T09:00") + (MedTime) (i / 54) * 86400;
    MedTime s = day + (MedTime) ((i % 54) / 9) * 3600;

    g_assert_true (book (store, g_array_index (cases, gint64, i),
        g_array_index (c.rooms, gint64, i % 9),
        g_array_index (c.mediators, gint64, (i % 9) + 9 * ((i / 9) % 4)), s,
        &error));
    g_assert_no_error (error);
  }
  t1 = g_get_monotonic_time ();

  g_assert_cmpint (sqlite3_open (peer_path, &db), ==, SQLITE_OK);
  sqlite3_exec (db,
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE b (id INTEGER PRIMARY KEY, case_id INT, room_id INT,"
      " mediator_id INT, start_at INT, end_at INT, uid TEXT);",
      NULL, NULL, NULL);
  sqlite3_prepare_v2 (db,
      "INSERT INTO b (case_id, room_id, mediator_id, "
      "start_at, end_at, uid) VALUES (?, ?, ?, ?, ?, ?)",
      -1, &st, NULL);
  t2 = g_get_monotonic_time ();
  for (guint i = 0; i < count; i++) {
    char uid[64];

    g_snprintf (uid, sizeof uid, "%u@bench", i);
    sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_bind_int64 (st, 1, i);
    sqlite3_bind_int64 (st, 2, i % 9);
    sqlite3_bind_int64 (st, 3, i % 40);
    sqlite3_bind_int64 (st, 4, i * 3600);
    sqlite3_bind_int64 (st, 5, i * 3600 + 3600);
    sqlite3_bind_text (st, 6, uid, -1, SQLITE_TRANSIENT);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
    sqlite3_reset (st);
    g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==,
        SQLITE_OK);
  }
  t3 = g_get_monotonic_time ();
  sqlite3_finalize (st);
  sqlite3_close (db);

  ours = count / ((t1 - t0) / 1e6);
  peer = count / ((t3 - t2) / 1e6);
  printf ("ok %u - committed bookings, one transaction each\n", ++*n);
  printf ("# commit.bookings %u\n", count);
  printf ("# commit.bookings_per_s %.0f\n", ours);
  printf ("# commit.peer_bare_insert_per_s %.0f\n", peer);
  printf ("# commit.ratio_to_peer %.2f\n", ours / peer);
  g_array_unref (c.rooms);
  g_array_unref (c.mediators);
}

/* 2. a centre with about n_target bookings over 2026 */
static char *
build_centre (const char *dir, const char *name, guint n_rooms, guint n_med,
    guint n_target, guint *n, char **case_out)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (MedStore) store = med_store_open (path, NULL);
  g_autoptr (GError) error = NULL;
  Centre c = { 0 };
  guint made = 0;
  gint64 t0 = g_get_monotonic_time ();
  static const int starts[]
      = { 9 * 60, 10 * 60, 11 * 60, 14 * 60 + 30, 15 * 60 + 30, 16 * 60 + 30 };
  g_autoptr (MedWorkcal) wc = NULL;
  g_autofree char *cal = NULL, *data = NULL;
  gsize len;
  g_autoptr (MedNotice) notice = NULL;
  g_autoptr (GRand) rnd = g_rand_new_with_seed (20261207);
  GDate d;

  add_resources (store, &c, n_rooms, n_med);
  /* the national calendar, so that the CLI can search */
  cal = g_build_filename (g_getenv ("MEDSCHED_CALENDARS"),
      "cn-national-2026.ics", NULL);
  g_assert_true (g_file_get_contents (cal, &data, &len, NULL));
  notice = med_ical_parse_notice (data, len, &error);
  g_assert_no_error (error);
  g_assert_true (med_store_import_notice (store, notice, "bench", &error));
  wc = med_store_load_workcal (store, &error);

  g_date_clear (&d, 1);
  g_date_set_dmy (&d, 5, 1, 2026);
  while (made < n_target && g_date_get_year (&d) == 2026) {
    MedDayInfo info;

    if (med_workcal_day_info (wc, "CN", 2026, g_date_get_month (&d),
            g_date_get_day (&d), &info, NULL)
        && info.working) {
      g_assert_true (med_store_begin (store, &error));
      for (guint s = 0; s < G_N_ELEMENTS (starts) && made < n_target; s++) {
        MedTime start = 0;

        med_workcal_local_to_utc ("Asia/Shanghai", 2026, g_date_get_month (&d),
            g_date_get_day (&d), starts[s], &start, NULL);
        for (guint r = 0; r < n_rooms && made < n_target; r++) {
          gint64 k;

          /* spread n_target over the year's 6 x rooms x ~249 slots */
          if (g_rand_double (rnd) * (n_rooms * 6 * 249.0) >= n_target)
            continue;
          k = add_case (store, &c);

          g_assert_true (book (store, k, g_array_index (c.rooms, gint64, r),
              g_array_index (c.mediators, gint64,
                  (r + s * n_rooms + g_date_get_julian (&d)) % n_med),
              start, &error));
          made++;
        }
      }
      g_assert_true (med_store_commit (store, &error));
    }
    g_date_add_days (&d, 1);
  }
  /* the case the CLI will search a slot for */
  *case_out = g_strdup_printf ("%" G_GINT64_FORMAT, add_case (store, &c));
  printf ("ok %u - %s: %u bookings written\n", ++*n, name, made);
  printf ("# %s.bookings %u\n# %s.write_s %.1f\n", name, made, name,
      (g_get_monotonic_time () - t0) / 1e6);
  g_array_unref (c.rooms);
  g_array_unref (c.mediators);
  return path;
}

/* Runs argv to completion with stdout to /dev/null; returns the wall
 * time in microseconds. */
static gint64
run_quiet (char **argv)
{
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status = 0;
  gint64 t0, t1;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (posix_spawn (&pid, argv[0], &fa, NULL, argv, environ), ==,
      0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  t1 = g_get_monotonic_time ();
  posix_spawn_file_actions_destroy (&fa);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return t1 - t0;
}

/* 3. medsched slots CASE: wall time of cold runs, and peak RSS measured
 * by GNU time (a process spawned straight from this one would inherit
 * this process's high-water mark in ru_maxrss). */
static void
bench_cli (const char *dir, const char *db, const char *case_id,
    const char *label, guint *n)
{
  const char *exe = g_getenv ("MEDSCHED");
  g_autoptr (GArray) wall = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *rss_file = g_build_filename (dir, "rss.txt", NULL);
  long max_rss = 0;
  const guint runs = 30;

  g_assert_nonnull (exe);
  for (guint i = 0; i < runs; i++) {
    char *argv[] = { (char *) exe, (char *) "--db", (char *) db,
      (char *) "--now", (char *) "2026-03-02T08:00", (char *) "slots",
      (char *) case_id, NULL };
    gint64 us = run_quiet (argv);

    g_array_append_val (wall, us);
  }
  for (guint i = 0; i < 3; i++) {
    char *argv[] = { (char *) "/usr/bin/time", (char *) "-f", (char *) "%M",
      (char *) "-o", rss_file, (char *) exe, (char *) "--db", (char *) db,
      (char *) "--now", (char *) "2026-03-02T08:00", (char *) "slots",
      (char *) case_id, NULL };
    g_autofree char *text = NULL;

    run_quiet (argv);
    g_assert_true (g_file_get_contents (rss_file, &text, NULL, NULL));
    max_rss = MAX (max_rss, strtol (text, NULL, 10));
  }
  g_array_sort (wall, compare_i64);
  printf ("ok %u - %s: CLI cold start to a printed slot\n", ++*n, label);
  printf ("# %s.cli_p50_ms %.1f\n# %s.cli_max_ms %.1f\n", label,
      pct (wall, 0.5) / 1000.0, label, pct (wall, 1.0) / 1000.0);
  printf ("# %s.cli_max_rss_kib %ld\n", label, max_rss);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("medsched-bench-XXXXXX", &error);
  g_autofree char *small = NULL, *large = NULL;
  g_autofree char *small_case = NULL, *large_case = NULL;
  g_autofree char *rm = NULL;
  guint n = 0;

  g_assert_no_error (error);
  printf ("1..6\n");
  bench_commits (dir, &n);
  small = build_centre (dir, "small.db", 9, 40, 10000, &n, &small_case);
  large = build_centre (dir, "large.db", 120, 400, 100000, &n, &large_case);
  bench_cli (dir, small, small_case, "small", &n);
  bench_cli (dir, large, large_case, "large", &n);
  if (g_getenv ("MEDSCHED_BENCH_KEEP") != NULL) {
    printf ("# kept %s\n", dir);
    return 0;
  }
  rm = g_strdup_printf ("rm -rf '%s'", dir);
  if (system (rm) != 0)
    return 1;
  return 0;
}
