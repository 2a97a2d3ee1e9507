/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-ical.c — how fast medsched writes calendars: a staff feed of
 * 10,000 realistic events (a year of a busy centre: 30 rooms, 40
 * mediators, Chinese case numbers, rooms, names and descriptions), built
 * and serialised by med_ical_feed_to_string(). Reports events per second
 * (median of several runs, one core) and milliseconds per 10,000-event
 * feed, checks the feed with the linter, then has Debian's
 * python3-icalendar build the same feed (same events and properties, the
 * same VTIMEZONE) with tests/bench/bench-ical-peer.py and reports its rate
 * and the ratio. Prints TAP plus "# key value" lines; registered with
 * benchmark(), so only `meson test --benchmark` runs it.
 *
 * Targets from the issue: at least 50,000 events/s per core, at most
 * 200 ms for a 10,000-event feed. BENCH_ICAL_DUMP=FILE keeps the feed. */
#define G_LOG_DOMAIN "medsched-bench"

#include <medsched/med-ical.h>
#include <medsched/med-model.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_EVENTS 10000
#define N_RUNS   9

typedef struct
{
  MedCentre *centre;
  GPtrArray *rooms; /* MedRoom* */
  GPtrArray *cases; /* MedCase* */
  GPtrArray *bookings; /* MedBooking* */
  GPtrArray *events; /* MedFeedEvent* */
  GPtrArray *names; /* char*, owned */
  MedFeed feed;
} Bench;

static const char *const surnames[] = { "扎西", "卓玛", "次仁", "拉姆", "格桑",
  "央金", "王", "李", "张", "刘", "陈", "杨" };
static const char *const given[]
    = { "", "多吉", "曲珍", "平措", "德吉", "明", "芳", "伟", "静" };

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
bench_init (Bench *b)
{
  GRand *r = g_rand_new_with_seed (20261207);
  static const int starts[] = { 9 * 60, 10 * 60 + 30, 14 * 60 + 30, 16 * 60 };
  GDate d;
  guint made = 0;

  b->centre = med_centre_new_default ();
  g_free (b->centre->name);
  b->centre->name = g_strdup ("城关区一站式矛盾纠纷调处中心");
  g_free (b->centre->address);
  b->centre->address
      = g_strdup ("西藏自治区拉萨市城关区江苏路12号 诉讼服务中心二楼");
  b->rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  b->cases = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  b->bookings
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_booking_free);
  b->events = g_ptr_array_new_with_free_func (g_free);
  b->names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 30; i++) {
    MedRoom *room = med_room_new ();

    room->id = i + 1;
    room->kind = i % 10 < 6 ? MED_ROOM_KIND_WARM
        : i % 10 < 9        ? MED_ROOM_KIND_FAMILY
                            : MED_ROOM_KIND_REMOTE;
    room->name = g_strdup_printf ("%s（%u）",
        med_room_kind_label_zh (room->kind), i + 1);
    g_ptr_array_add (b->rooms, room);
  }
  for (guint i = 0; i < 40 + 10; i++)
    g_ptr_array_add (b->names,
        g_strconcat (surnames[g_rand_int_range (r, 0, G_N_ELEMENTS (surnames))],
            given[g_rand_int_range (r, 0, G_N_ELEMENTS (given))], NULL));

  g_date_clear (&d, 1);
  g_date_set_dmy (&d, 5, 1, 2026);
  while (made < N_EVENTS) {
    if (g_date_get_weekday (&d) <= G_DATE_FRIDAY) {
      for (guint room = 0; room < 30 && made < N_EVENTS; room++) {
        for (guint s = 0; s < G_N_ELEMENTS (starts) && made < N_EVENTS; s++) {
          MedCase *c;
          MedBooking *bk;
          MedFeedEvent *e;
          char text[32];
          MedTime start;

          if (g_rand_double (r) > 0.35)
            continue;
          c = med_case_new ();
          c->id = made + 1;
          c->number = g_strdup_printf ("(2026)藏0102民调%u号", made + 1);
          c->kind = g_rand_int_range (r, 0, MED_CASE_KIND_N);
          g_ptr_array_add (b->cases, c);

          g_snprintf (text, sizeof text, "%04d-%02d-%02dT%02d:%02d",
              g_date_get_year (&d), g_date_get_month (&d), g_date_get_day (&d),
              starts[s] / 60, starts[s] % 60);
          g_assert_true (
              med_time_parse_local (text, "Asia/Shanghai", &start, NULL));
          bk = med_booking_new ();
          bk->id = made + 1;
          bk->uid = g_strdup_printf ("booking-%u@tiaojie.court.example.cn",
              made + 1);
          bk->start = start;
          bk->end = start + 60 * (60 + 30 * g_rand_int_range (r, 0, 3));
          bk->mode = g_rand_int_range (r, 0, MED_BOOKING_MODE_N);
          bk->status = g_rand_double (r) < 0.05 ? MED_BOOKING_STATUS_CANCELLED
                                                : MED_BOOKING_STATUS_CONFIRMED;
          bk->sequence = g_rand_int_range (r, 0, 3);
          g_ptr_array_add (b->bookings, bk);

          e = g_new0 (MedFeedEvent, 1);
          e->booking = bk;
          e->kase = c;
          e->room = g_ptr_array_index (b->rooms, room);
          e->mediator_name
              = g_ptr_array_index (b->names, g_rand_int_range (r, 0, 40));
          e->interpreter_name = g_rand_double (r) < 0.3
              ? g_ptr_array_index (b->names, 40 + g_rand_int_range (r, 0, 10))
              : NULL;
          g_ptr_array_add (b->events, e);
          made++;
        }
      }
    }
    g_date_add_days (&d, 1);
  }
  /* the feed takes any order */
  for (guint i = b->events->len - 1; i > 0; i--) {
    guint j = g_rand_int_range (r, 0, i + 1);
    gpointer t = b->events->pdata[i];

    b->events->pdata[i] = b->events->pdata[j];
    b->events->pdata[j] = t;
  }

  b->feed.centre = b->centre;
  b->feed.name = "调解日程（工作人员）";
  b->feed.description = NULL;
  b->feed.audience = MED_FEED_STAFF;
  b->feed.events = b->events;
  g_assert_true (med_time_parse_local ("2026-11-28T09:00", "Asia/Shanghai",
      &b->feed.last_change, NULL));
  b->feed.refresh_minutes = 60;
  g_rand_free (r);
}

static void
bench_clear (Bench *b)
{
  g_ptr_array_unref (b->events);
  g_ptr_array_unref (b->bookings);
  g_ptr_array_unref (b->cases);
  g_ptr_array_unref (b->rooms);
  g_ptr_array_unref (b->names);
  med_centre_free (b->centre);
}

/* The events as tab-separated lines for the peer: the inputs, not our
 * output. */
static char *
write_events (Bench *b, const char *dir)
{
  g_autoptr (GString) s = g_string_new (NULL);
  char *path = g_build_filename (dir, "events.tsv", NULL);

  for (guint i = 0; i < b->events->len; i++) {
    const MedFeedEvent *e = g_ptr_array_index (b->events, i);
    const MedBooking *bk = e->booking;

    g_string_append_printf (s,
        "%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%d\t%d\t%s\t%s\t%s\t"
        "%s\t%s\t%s\n",
        bk->uid, bk->start, bk->end, bk->sequence,
        bk->status == MED_BOOKING_STATUS_CANCELLED, e->kase->number,
        med_case_kind_to_string (e->kase->kind), e->room->name,
        e->mediator_name, e->interpreter_name ? e->interpreter_name : "",
        med_booking_mode_to_string (bk->mode));
  }
  g_assert_true (g_file_set_contents (path, s->str, s->len, NULL));
  return path;
}

/* Runs the python3-icalendar peer; returns its events/s or 0. */
static double
run_peer (Bench *b, const char *feed, char **reason)
{
  const char *script = g_getenv ("MEDSCHED_BENCH_ICAL_PEER");
  const char *python = "/usr/bin/python3";
  g_autofree char *dir = NULL, *events = NULL, *feed_path = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  double rate = 0;

  if (script == NULL || !g_file_test (python, G_FILE_TEST_IS_EXECUTABLE)) {
    *reason = g_strdup ("no peer script or /usr/bin/python3");
    return 0;
  }
  dir = g_dir_make_tmp ("bench-ical-XXXXXX", &error);
  g_assert_no_error (error);
  events = write_events (b, dir);
  feed_path = g_build_filename (dir, "feed.ics", NULL);
  g_assert_true (g_file_set_contents (feed_path, feed, -1, NULL));
  {
    const char *argv[] = { python, script, events, feed_path, NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
            &out, &err, &status, &error)
        || !g_spawn_check_wait_status (status, NULL)) {
      *reason = g_strdup_printf ("peer failed: %s",
          error != NULL ? error->message : (err != NULL ? err : "?"));
    }
  }
  if (out != NULL) {
    const char *key = "# peer.events_per_s ";
    const char *p = strstr (out, key);

    fputs (out, stdout);
    if (p != NULL)
      rate = g_ascii_strtod (p + strlen (key), NULL);
  }
  g_unlink (events);
  g_unlink (feed_path);
  g_rmdir (dir);
  if (rate <= 0 && *reason == NULL)
    *reason = g_strdup ("peer printed no rate (python3-icalendar missing?)");
  return rate;
}

int
main (int argc, char **argv)
{
  Bench b = { 0 };
  double ms[N_RUNS], median_ms, rate, peer;
  g_autofree char *feed = NULL, *reason = NULL;
  g_autoptr (GPtrArray) problems = NULL;
  gsize bytes = 0;

  med_ical_init ("Asia/Shanghai");
  bench_init (&b);
  printf ("1..3\n");

  for (int i = 0; i < N_RUNS; i++) {
    g_autoptr (GError) error = NULL;
    gint64 t0 = g_get_monotonic_time ();
    char *text = med_ical_feed_to_string (&b.feed, &error);

    ms[i] = (g_get_monotonic_time () - t0) / 1000.0;
    g_assert_no_error (error);
    bytes = strlen (text);
    if (feed == NULL)
      feed = text;
    else
      g_free (text);
  }
  qsort (ms, N_RUNS, sizeof ms[0], compare_doubles);
  median_ms = ms[N_RUNS / 2];
  rate = N_EVENTS / (median_ms / 1000.0);
  problems = med_ical_lint (feed, strlen (feed), MED_ICAL_KIND_FEED);

  printf ("%s 1 - staff feed: %.0f events/s (target >= 50000)\n",
      rate >= 50000 && problems->len == 0 ? "ok" : "not ok", rate);
  printf ("# feed.events %d\n# feed.bytes %" G_GSIZE_FORMAT "\n", N_EVENTS,
      bytes);
  printf ("# feed.events_per_s %.0f\n", rate);
  printf ("# feed.ms_per_10k_median %.1f\n# feed.ms_per_10k_min %.1f\n"
          "# feed.ms_per_10k_max %.1f\n",
      median_ms * 10000.0 / N_EVENTS, ms[0] * 10000.0 / N_EVENTS,
      ms[N_RUNS - 1] * 10000.0 / N_EVENTS);
  printf ("# feed.lint_problems %u\n", problems->len);
  if (g_getenv ("BENCH_ICAL_DUMP"))
    g_file_set_contents (g_getenv ("BENCH_ICAL_DUMP"), feed, -1, NULL);
  for (guint i = 0; i < MIN (problems->len, 5); i++)
    printf ("# lint: %s\n", (char *) g_ptr_array_index (problems, i));
  printf ("%s 2 - 10,000-event feed in %.1f ms (target <= 200)\n",
      median_ms * 10000.0 / N_EVENTS <= 200 ? "ok" : "not ok",
      median_ms * 10000.0 / N_EVENTS);

  peer = run_peer (&b, feed, &reason);
  if (peer > 0) {
    printf ("ok 3 - python3-icalendar peer: %.0f events/s\n", peer);
    printf ("# ratio.medsched_over_peer %.1f\n", rate / peer);
  } else {
    printf ("ok 3 # SKIP python3-icalendar peer: %s\n", reason);
  }
  bench_clear (&b);
  return 0;
}
