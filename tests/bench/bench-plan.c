/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-plan.c — medsched's side of the day-planner benchmark: reads days
 * written by tests/bench/plan-gen.py (the centre, the import document,
 * the bookings already made, the date and "now"), builds the scheduler's
 * snapshot from them (resources and cases through med_import_doc_parse,
 * the shipped holiday calendars), plans the day with
 * med_scheduler_plan_day and prints one JSON line per day:
 *
 *   {"day":…, "cases":n, "placed":p, "urgent":u, "greedy":g,
 *    "greedy_urgent":…, "bound":b, "optimal":…, "stop":…, "ms":t,
 *    "work":w, "iterations":i}
 *
 * --plans DIR also writes DIR/NAME.plan.json (every placed session by
 * the day's own indexes) for the independent check in plan-peer.py.
 * Usage: bench-plan [--time-limit S] [--work-limit N] [--seed N]
 *                   [--repeat N] [--plans DIR] DAY.json… */
#include "../unit/test-util.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct
{
  World w;
  char *name;
  MedImportDoc *doc;
  GArray *queue; /* MedQueueEntry */
  MedTime now;
  gint y, m, d;
} Day;

static void
day_clear (Day *day)
{
  /* the world's arrays own the resources taken from the document */
  world_clear (&day->w);
  g_free (day->name);
  if (day->doc) {
    g_ptr_array_set_free_func (day->doc->rooms, NULL);
    g_ptr_array_set_free_func (day->doc->mediators, NULL);
    g_ptr_array_set_free_func (day->doc->interpreters, NULL);
    med_import_doc_free (day->doc);
  }
  if (day->queue)
    g_array_unref (day->queue);
}

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    g_error ("day file: %s must be a string", name);
  return json_node_get_string (n);
}

static gint64
member_int (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    g_error ("day file: %s must be a number", name);
  return json_node_get_int (n);
}

static MedTime
local_time (const char *text)
{
  MedTime t = 0;
  g_autoptr (GError) error = NULL;

  if (!med_time_parse_local (text, "Asia/Shanghai", &t, &error))
    g_error ("day file: %s", error->message);
  return t;
}

static void
load_day (Day *day, const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *imp = NULL;
  JsonObject *root, *centre;
  JsonArray *bookings;
  MedDayHours h;

  memset (day, 0, sizeof *day);
  if (!json_parser_load_from_file (parser, path, &error))
    g_error ("%s: %s", path, error->message);
  root = json_node_get_object (json_parser_get_root (parser));
  day->name = g_strdup (member_string (root, "name"));
  centre = json_object_get_object_member (root, "centre");
  bookings = json_object_get_array_member (root, "bookings");
  imp = json_to_string (json_object_get_member (root, "import"), FALSE);
  day->doc = med_import_doc_parse (imp, strlen (imp), "Asia/Shanghai", &error);
  if (day->doc == NULL)
    g_error ("%s: %s", path, error->message);

  world_init (&day->w);
  if (!med_day_hours_parse (member_string (centre, "hours"), &h, &error))
    g_error ("%s: %s", path, error->message);
  for (guint i = 0; i < 5; i++)
    day->w.centre->hours[i] = h;
  day->w.centre->min_notice_minutes
      = (gint) member_int (centre, "min_notice_minutes");
  day->w.centre->slot_minutes = (gint) member_int (centre, "slot_minutes");
  day->w.centre->default_duration_minutes
      = (gint) member_int (centre, "default_duration_minutes");
  day->w.centre->allow_fallback
      = json_object_get_boolean_member (centre, "allow_fallback");

  /* ids: rooms 1…, mediators 1001…, interpreters 5001…, cases 1… */
  for (guint i = 0; i < day->doc->rooms->len; i++) {
    MedRoom *r = g_ptr_array_index (day->doc->rooms, i);

    r->id = i + 1;
    g_ptr_array_add (day->w.rooms, r);
  }
  for (guint i = 0; i < day->doc->mediators->len; i++) {
    MedMediator *m = g_ptr_array_index (day->doc->mediators, i);

    m->id = 1001 + i;
    g_ptr_array_add (day->w.mediators, m);
  }
  for (guint i = 0; i < day->doc->interpreters->len; i++) {
    MedInterpreter *in = g_ptr_array_index (day->doc->interpreters, i);

    in->id = 5001 + i;
    g_ptr_array_add (day->w.interpreters, in);
  }
  for (guint i = 0; i < json_array_get_length (bookings); i++) {
    JsonObject *b = json_array_get_object_element (bookings, i);
    JsonNode *in = json_object_get_member (b, "interpreter");
    MedBusy busy = { 0 };

    busy.start = local_time (member_string (b, "start"));
    busy.end = local_time (member_string (b, "end"));
    busy.booking_id = i + 1;
    busy.case_id = 900000 + i;
    busy.room_id = member_int (b, "room") + 1;
    busy.mediator_id = member_int (b, "mediator") + 1001;
    busy.interpreter_id
        = in && !JSON_NODE_HOLDS_NULL (in) ? json_node_get_int (in) + 5001 : 0;
    g_array_append_val (day->w.bookings, busy);
  }
  day->queue = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
  for (guint i = 0; i < day->doc->cases->len; i++) {
    MedCase *k = g_ptr_array_index (day->doc->cases, i);
    MedQueueEntry e
        = { k, g_ptr_array_index (day->doc->case_parties, i), NULL, 0 };

    k->id = i + 1;
    g_array_append_val (day->queue, e);
  }
  day->now = local_time (member_string (root, "now"));
  if (sscanf (member_string (root, "date"), "%d-%d-%d", &day->y, &day->m,
          &day->d)
      != 3)
    g_error ("%s: bad date", path);
}

static gint64
index_of_id (GPtrArray *a, gint64 id, gsize offset)
{
  for (guint i = 0; i < a->len; i++)
    if (*(gint64 *) ((char *) g_ptr_array_index (a, i) + offset) == id)
      return i;
  return -1;
}

static void
write_plan (const Day *day, const MedPlan *p, const char *dir)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < p->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (p->items, i);
    g_autofree char *st = NULL, *en = NULL;
    gint64 in;

    if (it->slot == NULL)
      continue;
    st = t_text (it->slot->start);
    en = t_text (it->slot->end);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "case");
    json_builder_add_int_value (b, it->case_id - 1);
    json_builder_set_member_name (b, "start");
    json_builder_add_string_value (b, st);
    json_builder_set_member_name (b, "end");
    json_builder_add_string_value (b, en);
    json_builder_set_member_name (b, "room");
    json_builder_add_int_value (b,
        index_of_id (day->w.rooms, it->slot->room_id,
            G_STRUCT_OFFSET (MedRoom, id)));
    json_builder_set_member_name (b, "mediator");
    json_builder_add_int_value (b,
        index_of_id (day->w.mediators, it->slot->mediator_id,
            G_STRUCT_OFFSET (MedMediator, id)));
    json_builder_set_member_name (b, "interpreter");
    in = it->slot->interpreter_id ? index_of_id (day->w.interpreters,
             it->slot->interpreter_id, G_STRUCT_OFFSET (MedInterpreter, id))
                                  : -1;
    if (in >= 0)
      json_builder_add_int_value (b, in);
    else
      json_builder_add_null_value (b);
    json_builder_set_member_name (b, "fallback");
    json_builder_add_boolean_value (b, it->slot->fallback);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "unplaced");
  json_builder_begin_array (b);
  for (guint i = 0; i < p->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (p->items, i);

    if (it->slot != NULL)
      continue;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "case");
    json_builder_add_int_value (b, it->case_id - 1);
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, it->reason);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  path = g_strdup_printf ("%s/%s.plan.json", dir, day->name);
  if (!json_generator_to_file (gen, path, &error))
    g_error ("%s: %s", path, error->message);
}

/* CPU time of this process, ms: less sensitive than wall time to the
 * other work on a shared machine. */
static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int
main (int argc, char **argv)
{
  double time_limit = 0;
  gint64 work_limit = 0, seed = 0;
  gint repeat = 1;
  g_autofree char *plans = NULL;
  GOptionEntry entries[]
      = { { "time-limit", 0, 0, G_OPTION_ARG_DOUBLE, &time_limit,
              "Search budget, seconds (sets the work budget)", "S" },
          { "work-limit", 0, 0, G_OPTION_ARG_INT64, &work_limit,
              "Work budget, units", "N" },
          { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed", "N" },
          { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat,
              "Plan each day N times, report the median time", "N" },
          { "plans", 0, 0, G_OPTION_ARG_FILENAME, &plans,
              "Write each plan to DIR/NAME.plan.json", "DIR" },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DAY.json…");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "bench-plan: %s\n", error->message);
    return 2;
  }
  for (int a = 1; a < argc; a++) {
    Day day;
    g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
    g_autoptr (GArray) cpu = g_array_new (FALSE, FALSE, sizeof (double));
    MedPlan *keep = NULL;
    MedPlanOptions o = { 0 };

    load_day (&day, argv[a]);
    o.time_limit = time_limit;
    o.work_limit = (guint64) work_limit;
    o.seed = (guint32) seed;
    for (gint r = 0; r < MAX (repeat, 1); r++) {
      g_autoptr (MedScheduler) s = NULL;
      MedPlan *p;
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_ms ();

      s = med_scheduler_new (world_snapshot (&day.w), &error);
      if (s == NULL)
        g_error ("%s: %s", day.name, error->message);
      p = med_scheduler_plan_day (s, day.queue, day.y, day.m, day.d, day.now,
          &o, &error);
      if (p == NULL)
        g_error ("%s: %s", day.name, error->message);
      g_array_append_val (times,
          (double){ (g_get_monotonic_time () - t0) / 1000.0 });
      g_array_append_val (cpu, (double){ cpu_ms () - c0 });
      if (keep)
        med_plan_free (keep);
      keep = p;
    }
    {
      double med = 0;
      gsize n = times->len;
      double *v = (double *) times->data;

      for (gsize i = 1; i < n; i++)
        for (gsize j = i; j > 0 && v[j - 1] > v[j]; j--) {
          double t = v[j];

          v[j] = v[j - 1];
          v[j - 1] = t;
        }
      med = v[n / 2];
      v = (double *) cpu->data;
      for (gsize i = 1; i < n; i++)
        for (gsize j = i; j > 0 && v[j - 1] > v[j]; j--) {
          double t = v[j];

          v[j] = v[j - 1];
          v[j - 1] = t;
        }
      printf ("{\"day\": \"%s\", \"cases\": %u, \"placed\": %u, "
              "\"urgent\": %u, \"greedy\": %u, \"greedy_urgent\": %u, "
              "\"bound\": %u, \"urgent_bound\": %u, \"optimal\": %s, "
              "\"stop\": \"%s\", \"ms\": %.1f, \"cpu_ms\": %.1f, "
              "\"work\": %" G_GUINT64_FORMAT ", \"iterations\": %u}\n",
          day.name, day.queue->len, keep->placed, keep->urgent_placed,
          keep->greedy_placed, keep->greedy_urgent_placed, keep->bound,
          keep->urgent_bound, keep->optimal ? "true" : "false",
          med_plan_stop_to_string (keep->stop), med, v[n / 2], keep->work,
          keep->iterations);
      fflush (stdout);
    }
    if (plans)
      write_plan (&day, keep, plans);
    med_plan_free (keep);
    day_clear (&day);
  }
  return 0;
}
