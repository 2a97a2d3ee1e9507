/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-scheduler.c — the scheduler's hard constraints one by one, its soft
 * preferences, fallback, urgency, explanations, hand-picked slot checks
 * and batch planning. Each test builds a small world in memory. */
#include "test-util.h"

#include <medsched/med-i18n.h>

#include <string.h>

typedef struct
{
  World w;
  MedCase *kase;
  GPtrArray *parties;
  GArray *party_busy;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  world_init (&f->w);
  g_ptr_array_add (f->w.rooms,
      mk_room (1, "温馨调解室一", MED_ROOM_KIND_WARM, 6));
  g_ptr_array_add (f->w.rooms,
      mk_room (2, "家事调解室", MED_ROOM_KIND_FAMILY, 6));
  g_ptr_array_add (f->w.rooms,
      mk_room (3, "远程调解室", MED_ROOM_KIND_REMOTE, 4));
  g_ptr_array_add (f->w.mediators,
      mk_mediator (10, "扎西次仁", "zh,bo", "wages,neighbour,divorce,custody",
          4));
  f->kase = mk_case (100, MED_CASE_KIND_WAGES);
  f->parties = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_ptr_array_add (f->parties,
      mk_party ("zh", MED_ATTENDANCE_IN_PERSON, "13800000001"));
  g_ptr_array_add (f->parties,
      mk_party ("zh", MED_ATTENDANCE_IN_PERSON, "13800000002"));
  f->party_busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  world_clear (&f->w);
  med_case_free (f->kase);
  g_ptr_array_unref (f->parties);
  g_array_unref (f->party_busy);
}

/* Earliest slot for the fixture's case at now; NULL + error when none. */
static MedSlot *
first_slot (Fixture *f, const char *now, guint *blocks, GError **error)
{
  g_autoptr (MedScheduler) s = med_scheduler_new (world_snapshot (&f->w), NULL);
  g_autoptr (GPtrArray) slots = NULL;
  MedSlotRequest req = { 0 };

  g_assert_nonnull (s);
  req.kase = f->kase;
  req.parties = f->parties;
  req.party_busy = f->party_busy;
  req.now = t_local (now);
  slots = med_scheduler_find_slots (s, &req, blocks, error);
  if (slots == NULL)
    return NULL;
  g_assert_cmpuint (slots->len, >=, 1);
  return g_ptr_array_steal_index (slots, 0);
}

static void
assert_slot (MedSlot *slot, const char *start, gint64 room, gint64 mediator)
{
  g_autofree char *got = NULL;

  g_assert_nonnull (slot);
  got = t_text (slot->start);
  g_assert_cmpstr (got, ==, start);
  if (room)
    g_assert_cmpint (slot->room_id, ==, room);
  if (mediator)
    g_assert_cmpint (slot->mediator_id, ==, mediator);
}

/* --- room kind policy --- */

static void
test_kind_warm (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2026-12-07T08:00", NULL, NULL);

  /* min notice 60 min from 08:00 → 09:00, opening time */
  assert_slot (s, "2026-12-07T09:00", 1, 10);
  g_assert_false (s->fallback);
  g_assert_nonnull (strstr (s->explanation, "general civil"));
}

static void
test_kind_family (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  f->kase->kind = MED_CASE_KIND_DIVORCE;
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 2, 10);
  g_assert_nonnull (strstr (s->explanation, "family-affairs"));
}

static void
test_kind_minors (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  f->kase->minors = TRUE; /* a wages case that involves minors */
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 2, 10);
  g_assert_nonnull (strstr (s->explanation, "minors"));
}

static void
test_kind_remote (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedParty *p = g_ptr_array_index (f->parties, 1);

  p->attendance = MED_ATTENDANCE_REMOTE;
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 3, 10);
  g_assert_cmpint (s->mode, ==, MED_BOOKING_MODE_HYBRID);
}

/* --- fallback --- */

static void
fill_room_until (Fixture *f, gint64 room, const char *deadline_date)
{
  /* Book the room solid every working day from 12-07 to the deadline. */
  GDate d;
  g_autoptr (GError) error = NULL;

  g_date_clear (&d, 1);
  g_date_set_dmy (&d, 7, 12, 2026);
  for (int i = 0; i < 40; i++, g_date_add_days (&d, 1)) {
    char a[32], b[32], c[32], e[32];

    g_snprintf (a, sizeof a, "%04d-%02d-%02dT09:00", g_date_get_year (&d),
        g_date_get_month (&d), g_date_get_day (&d));
    g_snprintf (b, sizeof b, "%04d-%02d-%02dT12:00", g_date_get_year (&d),
        g_date_get_month (&d), g_date_get_day (&d));
    g_snprintf (c, sizeof c, "%04d-%02d-%02dT14:30", g_date_get_year (&d),
        g_date_get_month (&d), g_date_get_day (&d));
    g_snprintf (e, sizeof e, "%04d-%02d-%02dT18:00", g_date_get_year (&d),
        g_date_get_month (&d), g_date_get_day (&d));
    world_book (&f->w, 900 + i, room, 0, 0, a, b);
    world_book (&f->w, 900 + i, room, 0, 0, c, e);
  }
  (void) deadline_date;
}

static void
test_fallback_family_to_warm (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  f->kase->kind = MED_CASE_KIND_INHERITANCE;
  g_ptr_array_remove_index (f->w.mediators, 0);
  g_ptr_array_add (f->w.mediators,
      mk_mediator (10, "扎西次仁", "zh,bo", "inheritance", 8));
  f->kase->deadline = t_local ("2026-12-20");
  fill_room_until (f, 2, "2026-12-20");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 1, 10);
  g_assert_true (s->fallback);
  g_assert_nonnull (strstr (s->explanation, "fallback"));
}

static void
test_fallback_never_for_minors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) s = NULL;
  guint blocks = 0;

  f->kase->kind = MED_CASE_KIND_CUSTODY;
  f->kase->minors = TRUE;
  f->kase->deadline = t_local ("2026-12-20");
  fill_room_until (f, 2, "2026-12-20");
  s = first_slot (f, "2026-12-07T08:00", &blocks, &error);
  g_assert_null (s);
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_NO_SLOT);
  g_assert_true (blocks & MED_BLOCK_BUSY);
  g_assert_true (blocks & MED_BLOCK_DEADLINE);
  g_assert_nonnull (strstr (error->message, "deadline"));
}

static void
test_fallback_disabled (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) s = NULL;

  f->kase->kind = MED_CASE_KIND_DIVORCE;
  f->kase->deadline = t_local ("2026-12-20");
  f->w.centre->allow_fallback = FALSE;
  fill_room_until (f, 2, "2026-12-20");
  s = first_slot (f, "2026-12-07T08:00", NULL, &error);
  g_assert_null (s);
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_NO_SLOT);
}

/* --- capacity --- */

static void
test_capacity (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  g_autoptr (GError) error = NULL;
  guint blocks = 0;

  for (int i = 0; i < 6; i++)
    g_ptr_array_add (f->parties,
        mk_party ("zh", MED_ATTENDANCE_IN_PERSON, NULL));
  /* 8 parties + mediator = 9 > 6 seats in every warm room */
  f->w.centre->allow_fallback = FALSE;
  s = first_slot (f, "2026-12-07T08:00", &blocks, &error);
  g_assert_null (s);
  g_assert_true (blocks & MED_BLOCK_CAPACITY);
  g_assert_nonnull (strstr (error->message, "seats 9"));
  g_clear_error (&error);
  g_ptr_array_add (f->w.rooms, mk_room (4, "大调解室", MED_ROOM_KIND_WARM, 12));
  s = first_slot (f, "2026-12-07T08:00", NULL, &error);
  g_assert_no_error (error);
  assert_slot (s, "2026-12-07T09:00", 4, 10);
}

static void
test_capacity_prefers_smallest (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  g_ptr_array_add (f->w.rooms, mk_room (4, "小调解室", MED_ROOM_KIND_WARM, 3));
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 4, 10);
}

/* --- specialty --- */

static void
test_specialty (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) s = NULL;
  guint blocks = 0;

  f->kase->kind = MED_CASE_KIND_LAND;
  s = first_slot (f, "2026-12-07T08:00", &blocks, &error);
  g_assert_null (s);
  g_assert_true (blocks & MED_BLOCK_SPECIALTY);
  g_assert_nonnull (strstr (error->message, "land"));
  g_clear_error (&error);
  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "land", 4));
  s = first_slot (f, "2026-12-07T08:00", NULL, &error);
  assert_slot (s, "2026-12-07T09:00", 1, 11);
}

/* --- language and interpreter --- */

static void
test_language_interpreter (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) s = NULL;
  guint blocks = 0;

  /* Only a Mandarin mediator; one party speaks Tibetan only. */
  g_ptr_array_remove_index (f->w.mediators, 0);
  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  g_free (((MedParty *) g_ptr_array_index (f->parties, 1))->language);
  ((MedParty *) g_ptr_array_index (f->parties, 1))->language = g_strdup ("bo");
  s = first_slot (f, "2026-12-07T08:00", &blocks, &error);
  g_assert_null (s);
  g_assert_true (blocks & MED_BLOCK_LANGUAGE);
  g_clear_error (&error);

  g_ptr_array_add (f->w.interpreters, mk_interpreter (50, "次仁", "en:bo"));
  s = first_slot (f, "2026-12-07T08:00", &blocks, &error);
  g_assert_null (s); /* wrong pair */
  g_clear_error (&error);

  g_ptr_array_add (f->w.interpreters, mk_interpreter (51, "卓玛", "bo:zh"));
  s = first_slot (f, "2026-12-07T08:00", NULL, &error);
  g_assert_no_error (error);
  assert_slot (s, "2026-12-07T09:00", 1, 11);
  g_assert_cmpint (s->interpreter_id, ==, 51);
  g_assert_nonnull (strstr (s->explanation, "interpreter 卓玛"));
}

static void
test_language_shared_needs_no_interpreter (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  g_free (((MedParty *) g_ptr_array_index (f->parties, 1))->language);
  ((MedParty *) g_ptr_array_index (f->parties, 1))->language = g_strdup ("bo");
  g_ptr_array_add (f->w.interpreters, mk_interpreter (51, "卓玛", "bo:zh"));
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 1, 10);
  g_assert_cmpint (s->interpreter_id, ==, 0);
}

static void
test_interpreter_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  g_ptr_array_remove_index (f->w.mediators, 0);
  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  g_free (((MedParty *) g_ptr_array_index (f->parties, 1))->language);
  ((MedParty *) g_ptr_array_index (f->parties, 1))->language = g_strdup ("bo");
  g_ptr_array_add (f->w.interpreters, mk_interpreter (51, "卓玛", "bo:zh"));
  world_book (&f->w, 7, 0, 0, 51, "2026-12-07T09:00", "2026-12-07T11:00");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T11:00", 1, 11);
}

/* --- daily cap and leave --- */

static void
test_daily_cap (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  ((MedMediator *) g_ptr_array_index (f->w.mediators, 0))->daily_cap = 2;
  world_book (&f->w, 7, 2, 10, 0, "2026-12-07T09:00", "2026-12-07T10:00");
  world_book (&f->w, 8, 2, 10, 0, "2026-12-07T10:00", "2026-12-07T11:00");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  /* free at 11:00 but at the cap: next working day */
  assert_slot (s, "2026-12-08T09:00", 1, 10);
}

static void
test_leave (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedMediator *m = g_ptr_array_index (f->w.mediators, 0);
  MedInterval iv = { t_local ("2026-12-07"), t_local ("2026-12-09") };

  m->leave = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  g_array_append_val (m->leave, iv);
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-09T09:00", 1, 10);
}

static void
test_leave_partial (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedMediator *m = g_ptr_array_index (f->w.mediators, 0);
  MedInterval iv
      = { t_local ("2026-12-07T00:00"), t_local ("2026-12-07T15:00") };

  m->leave = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  g_array_append_val (m->leave, iv);
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T15:00", 1, 10);
}

/* --- existing bookings: room, buffers, mediator, parties, own case --- */

static void
test_external_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  g_autoptr (GArray) ext = g_array_new (FALSE, TRUE, sizeof (MedBusy));
  MedBusy b = { t_local ("2026-12-07T08:30"), t_local ("2026-12-07T10:45"), 0,
    0, 0, 10, 0 };

  /* an imported outside commitment blocks the mediator, not the cap */
  g_array_append_val (ext, b);
  ((MedMediator *) g_ptr_array_index (f->w.mediators, 0))->daily_cap = 1;
  world_snapshot (&f->w)->external_busy = ext;
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T10:45", 1, 10);
  f->w.snap.external_busy = NULL;
}

static void
test_room_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  world_book (&f->w, 7, 1, 11, 0, "2026-12-07T09:00", "2026-12-07T10:00");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T10:00", 1, 10);
}

static void
test_room_buffers (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedRoom *r = g_ptr_array_index (f->w.rooms, 0);

  r->setup_minutes = 15;
  r->cleanup_minutes = 10;
  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  world_book (&f->w, 7, 1, 11, 0, "2026-12-07T09:00", "2026-12-07T10:00");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  /* cleanup until 10:10, setup 15 → 10:25, aligned to 15 min → 10:30 */
  assert_slot (s, "2026-12-07T10:30", 1, 10);
}

static void
test_mediator_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  world_book (&f->w, 7, 2, 10, 0, "2026-12-07T09:00", "2026-12-07T10:30");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T10:30", 1, 10);
}

static void
test_party_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedInterval iv
      = { t_local ("2026-12-07T09:00"), t_local ("2026-12-07T11:30") };

  g_array_append_val (f->party_busy, iv);
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  /* 11:30 + 60 min passes lunch at 12:00 → 14:30 */
  assert_slot (s, "2026-12-07T14:30", 1, 10);
}

static void
test_own_case_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  g_ptr_array_add (f->w.rooms,
      mk_room (4, "温馨调解室二", MED_ROOM_KIND_WARM, 6));
  world_book (&f->w, 100, 4, 11, 0, "2026-12-07T09:00", "2026-12-07T10:00");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T10:00", 0, 0);
}

/* --- working time --- */

static void
test_lunch_break (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  f->kase->duration_minutes = 120;
  s = first_slot (f, "2026-12-07T09:30", NULL, NULL);
  /* 10:30 + 120 min would run into lunch → 14:30 */
  assert_slot (s, "2026-12-07T14:30", 1, 10);
  g_assert_cmpint (s->end - s->start, ==, 7200);
}

static void
test_longer_than_any_window (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) s = NULL;
  guint blocks = 0;

  f->kase->duration_minutes = 240;
  f->kase->deadline = t_local ("2026-12-20");
  s = first_slot (f, "2026-12-07T08:00", &blocks, &error);
  g_assert_null (s);
  g_assert_true (blocks & MED_BLOCK_DURATION);
}

static void
test_after_hours (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2026-12-07T17:30", NULL, NULL);

  assert_slot (s, "2026-12-08T09:00", 1, 10);
}

static void
test_weekend (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2026-12-04T17:30", NULL, NULL);

  /* Friday evening → Monday */
  assert_slot (s, "2026-12-07T09:00", 1, 10);
}

static void
test_weekend_hours (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedDayHours sat = { 9 * 60, 12 * 60, 0, 0 };

  /* a centre that opens on Saturday mornings, except on holidays */
  f->w.centre->hours[5] = sat;
  s = first_slot (f, "2026-12-04T17:30", NULL, NULL);
  assert_slot (s, "2026-12-05T09:00", 1, 10);
  g_clear_pointer (&s, med_slot_free);
  s = first_slot (f, "2026-10-02T17:30", NULL, NULL);
  /* 10-03 is a Saturday inside the National Day holiday; 10-08 next */
  assert_slot (s, "2026-10-08T09:00", 1, 10);
}

static void
test_national_day_holiday (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2026-09-30T17:30", NULL, NULL);

  /* 10-01..10-07 holiday, 10-08 Thursday working */
  assert_slot (s, "2026-10-08T09:00", 1, 10);
}

static void
test_makeup_day (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2026-10-09T17:30", NULL, NULL);

  /* Saturday 2026-10-10 is a make-up working day (Monday hours) */
  assert_slot (s, "2026-10-10T09:00", 1, 10);
}

static void
test_spring_festival_2025 (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2025-01-25T10:00", NULL, NULL);

  /* Saturday 01-25: Sunday 01-26 is a make-up working day */
  assert_slot (s, "2025-01-26T09:00", 1, 10);
  g_clear_pointer (&s, med_slot_free);
  s = first_slot (f, "2025-01-27T17:30", NULL, NULL);
  /* 01-28..02-04 Spring Festival, 02-05 Wednesday */
  assert_slot (s, "2025-02-05T09:00", 1, 10);
}

static void
test_lhasa_losar_2026 (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  s = first_slot (f, "2026-02-23T17:30", NULL, NULL);
  /* nationally 02-24 is a working Tuesday */
  assert_slot (s, "2026-02-24T09:00", 1, 10);
  g_clear_pointer (&s, med_slot_free);
  g_free (f->w.centre->layers);
  f->w.centre->layers = g_strdup ("CN,CN-XZ-LS");
  s = first_slot (f, "2026-02-23T17:30", NULL, NULL);
  /* Lhasa merged Spring Festival and Losar: holiday to 02-26 */
  assert_slot (s, "2026-02-27T09:00", 1, 10);
}

static void
test_unpublished_year (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) s = first_slot (f, "2026-12-31T17:30", NULL, &error);

  g_assert_null (s);
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_UNPUBLISHED);
  g_assert_nonnull (strstr (error->message, "CN"));
  g_assert_nonnull (strstr (error->message, "2027"));
}

static void
test_min_notice_and_urgent (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2026-12-07T09:05", NULL, NULL);

  /* 60 min notice: 10:05, aligned to the 15-minute grid */
  assert_slot (s, "2026-12-07T10:15", 1, 10);
  g_clear_pointer (&s, med_slot_free);
  s = first_slot (f, "2026-12-07T10:05", NULL, NULL);
  /* 11:15 + 60 min would run into lunch */
  assert_slot (s, "2026-12-07T14:30", 1, 10);
  g_clear_pointer (&s, med_slot_free);
  f->kase->urgent = TRUE;
  s = first_slot (f, "2026-12-07T10:05", NULL, NULL);
  assert_slot (s, "2026-12-07T10:15", 1, 10);
}

static void
test_urgent_same_day_fallback (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  f->kase->urgent = TRUE;
  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  /* The only warm room is full today; the family room is free. */
  world_book (&f->w, 7, 1, 11, 0, "2026-12-07T09:00", "2026-12-07T12:00");
  world_book (&f->w, 8, 1, 11, 0, "2026-12-07T14:30", "2026-12-07T18:00");
  s = first_slot (f, "2026-12-07T10:00", NULL, NULL);
  assert_slot (s, "2026-12-07T10:00", 2, 10);
  g_assert_true (s->fallback);
  g_assert_nonnull (strstr (s->explanation, "urgent"));
}

static void
test_deadline (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) s = NULL;
  guint blocks = 0;

  f->kase->deadline = t_local ("2026-12-07T09:30");
  s = first_slot (f, "2026-12-07T08:00", &blocks, &error);
  g_assert_null (s);
  g_assert_true (blocks & MED_BLOCK_DEADLINE);
  g_clear_error (&error);
  f->kase->deadline = t_local ("2026-12-07T10:00");
  s = first_slot (f, "2026-12-07T08:00", NULL, &error);
  assert_slot (s, "2026-12-07T09:00", 1, 10);
}

/* --- soft preferences --- */

static void
test_balanced_load (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;

  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  world_book (&f->w, 7, 2, 10, 0, "2026-12-07T14:30", "2026-12-07T15:30");
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  /* both free at 09:00; 10 already has a session today */
  assert_slot (s, "2026-12-07T09:00", 1, 11);
}

static void
test_follow_up_same_mediator (Fixture *f, gconstpointer data)
{
  g_autoptr (MedScheduler) s = NULL;
  g_autoptr (GPtrArray) slots = NULL;
  MedSlotRequest req = { 0 };

  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  world_book (&f->w, 7, 2, 11, 0, "2026-12-07T14:30", "2026-12-07T15:30");
  s = med_scheduler_new (world_snapshot (&f->w), NULL);
  req.kase = f->kase;
  req.parties = f->parties;
  req.now = t_local ("2026-12-07T08:00");
  req.preferred_mediator_id = 11;
  slots = med_scheduler_find_slots (s, &req, NULL, NULL);
  g_assert_nonnull (slots);
  assert_slot (g_ptr_array_index (slots, 0), "2026-12-07T09:00", 1, 11);
  g_assert_nonnull (
      strstr (((MedSlot *) g_ptr_array_index (slots, 0))->explanation,
          "same mediator"));
}

static void
test_alternatives (Fixture *f, gconstpointer data)
{
  g_autoptr (MedScheduler) s = med_scheduler_new (world_snapshot (&f->w), NULL);
  g_autoptr (GPtrArray) slots = NULL;
  MedSlotRequest req = { 0 };

  req.kase = f->kase;
  req.parties = f->parties;
  req.now = t_local ("2026-12-07T08:00");
  req.max_results = 5;
  slots = med_scheduler_find_slots (s, &req, NULL, NULL);
  g_assert_nonnull (slots);
  g_assert_cmpuint (slots->len, ==, 5);
  assert_slot (g_ptr_array_index (slots, 0), "2026-12-07T09:00", 0, 0);
  assert_slot (g_ptr_array_index (slots, 1), "2026-12-07T10:00", 0, 0);
  assert_slot (g_ptr_array_index (slots, 2), "2026-12-07T11:00", 0, 0);
  assert_slot (g_ptr_array_index (slots, 3), "2026-12-07T14:30", 0, 0);
  assert_slot (g_ptr_array_index (slots, 4), "2026-12-07T15:30", 0, 0);
}

/* --- hand-picked slots --- */

static gboolean
check (Fixture *f, const char *now, const char *start, const char *end,
    gint64 room, gint64 mediator, gint64 interp, GError **error)
{
  g_autoptr (MedScheduler) s = med_scheduler_new (world_snapshot (&f->w), NULL);
  MedSlotRequest req = { 0 };
  MedSlot slot = { 0 };
  gboolean ok;

  req.kase = f->kase;
  req.parties = f->parties;
  req.party_busy = f->party_busy;
  req.now = t_local (now);
  slot.start = t_local (start);
  slot.end = t_local (end);
  slot.room_id = room;
  slot.mediator_id = mediator;
  slot.interpreter_id = interp;
  ok = med_scheduler_check_slot (s, &req, &slot, error);
  g_free (slot.explanation);
  g_clear_pointer (&slot.reasons, g_ptr_array_unref);
  return ok;
}

static void
test_check_slot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (check (f, "2026-12-07T08:00", "2026-12-07T10:00",
      "2026-12-07T11:00", 1, 10, 0, &error));
  g_assert_no_error (error);
  /* lunch */
  g_assert_false (check (f, "2026-12-07T08:00", "2026-12-07T11:30",
      "2026-12-07T12:30", 1, 10, 0, &error));
  g_assert_nonnull (strstr (error->message, "working time"));
  g_clear_error (&error);
  /* holiday */
  g_assert_false (check (f, "2026-09-30T08:00", "2026-10-02T10:00",
      "2026-10-02T11:00", 1, 10, 0, &error));
  g_assert_nonnull (strstr (error->message, "国庆"));
  g_clear_error (&error);
  /* remote room for an in-person wages case: warm preferred, fallback is
   * the family room, never the remote room */
  g_assert_false (check (f, "2026-12-07T08:00", "2026-12-07T10:00",
      "2026-12-07T11:00", 3, 10, 0, &error));
  g_assert_nonnull (strstr (error->message, "does not suit"));
  g_clear_error (&error);
  /* ends before it starts */
  g_assert_false (check (f, "2026-12-07T08:00", "2026-12-07T10:00",
      "2026-12-07T09:00", 1, 10, 0, &error));
  g_clear_error (&error);
  /* unknown room */
  g_assert_false (check (f, "2026-12-07T08:00", "2026-12-07T10:00",
      "2026-12-07T11:00", 99, 10, 0, &error));
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID);
  g_clear_error (&error);
  /* booked */
  world_book (&f->w, 7, 1, 0, 0, "2026-12-07T10:30", "2026-12-07T11:30");
  g_assert_false (check (f, "2026-12-07T08:00", "2026-12-07T10:00",
      "2026-12-07T11:00", 1, 10, 0, &error));
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "already booked"));
}

/* --- batch --- */

static MedPlan *
plan (Fixture *f, GPtrArray *cases, GPtrArray *parties)
{
  g_autoptr (MedScheduler) s = med_scheduler_new (world_snapshot (&f->w), NULL);
  g_autoptr (GArray) q = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
  g_autoptr (GError) error = NULL;
  MedPlan *p;

  for (guint i = 0; i < cases->len; i++) {
    MedQueueEntry e = { g_ptr_array_index (cases, i),
      g_ptr_array_index (parties, i), NULL, 0 };

    g_array_append_val (q, e);
  }
  p = med_scheduler_plan_day (s, q, 2026, 12, 7, t_local ("2026-12-07T08:00"),
      NULL, &error);
  g_assert_no_error (error);
  return p;
}

static void
test_batch (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) cases
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr (MedPlan) p1 = NULL;
  g_autoptr (MedPlan) p2 = NULL;

  for (int i = 0; i < 12; i++) {
    MedCase *c = mk_case (200 + i,
        i % 3 == 0 ? MED_CASE_KIND_DIVORCE : MED_CASE_KIND_WAGES);
    GPtrArray *ps
        = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);

    c->intake_at = t_local ("2026-12-07T08:00") + i * 60;
    c->urgent = i == 11;
    g_ptr_array_add (ps,
        mk_party ("zh", MED_ATTENDANCE_IN_PERSON,
            i == 5 || i == 6 ? "shared" : NULL));
    g_ptr_array_add (cases, c);
    g_ptr_array_add (parties, ps);
  }
  p1 = plan (f, cases, parties);
  p2 = plan (f, cases, parties);
  g_assert_cmpuint (p1->items->len, ==, 12);
  /* one mediator with a cap of 4 sessions */
  g_assert_cmpuint (p1->placed, ==, 4);
  g_assert_cmpuint (p1->unplaced, ==, 8);
  /* the urgent case goes first */
  g_assert_cmpint (((MedPlanItem *) g_ptr_array_index (p1->items, 0))->case_id,
      ==, 211);
  for (guint i = 0; i < p1->items->len; i++) {
    MedPlanItem *a = g_ptr_array_index (p1->items, i);
    MedPlanItem *b = g_ptr_array_index (p2->items, i);

    g_assert_cmpint (a->case_id, ==, b->case_id);
    g_assert_true ((a->slot == NULL) == (b->slot == NULL));
    if (a->slot) {
      g_assert_cmpint (a->slot->start, ==, b->slot->start);
      g_assert_cmpint (a->slot->room_id, ==, b->slot->room_id);
    } else {
      g_assert_cmpstr (a->reason, ==, b->reason);
      g_assert_true (a->blocks & MED_BLOCK_DAILY_CAP);
    }
  }
}

static void
test_batch_unpublished (Fixture *f, gconstpointer data)
{
  g_autoptr (MedScheduler) s = med_scheduler_new (world_snapshot (&f->w), NULL);
  g_autoptr (GArray) q = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
  g_autoptr (GError) error = NULL;
  g_autoptr (MedPlan) p = med_scheduler_plan_day (s, q, 2027, 1, 4,
      t_local ("2026-12-31T08:00"), NULL, &error);

  g_assert_null (p);
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_UNPUBLISHED);
}

/* --- the day planner: days where the one-pass greedy plan loses --- */

typedef struct
{
  GPtrArray *cases;
  GPtrArray *parties;
} Queue;

static void
queue_init (Queue *q)
{
  q->cases = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  q->parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
}

static void
queue_clear (Queue *q)
{
  g_ptr_array_unref (q->cases);
  g_ptr_array_unref (q->parties);
}

/* Adds case id (intake in id order) with parties "lang:attendance,…". */
static MedCase *
queue_add (Queue *q, gint64 id, MedCaseKind kind, gint minutes,
    const char *parties)
{
  MedCase *c = mk_case (id, kind);
  GPtrArray *ps
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_auto (GStrv) each = g_strsplit (parties, ",", -1);

  c->duration_minutes = minutes;
  c->intake_at = t_local ("2026-12-01T09:00") + id * 60;
  for (guint i = 0; each[i]; i++) {
    char contact[32];

    g_snprintf (contact, sizeof contact, "139%04" G_GINT64_FORMAT "%02u", id,
        i);
    g_ptr_array_add (ps,
        mk_party (each[i][0] == 'b' ? "bo" : "zh",
            strstr (each[i], ":remote") ? MED_ATTENDANCE_REMOTE
                                        : MED_ATTENDANCE_IN_PERSON,
            contact));
  }
  g_ptr_array_add (q->cases, c);
  g_ptr_array_add (q->parties, ps);
  return c;
}

static MedPlan *
plan_queue (Fixture *f, Queue *q, const char *now, const MedPlanOptions *o,
    GArray *external)
{
  MedSnapshot *snap = world_snapshot (&f->w);
  g_autoptr (MedScheduler) s = NULL;
  g_autoptr (GArray) entries
      = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
  g_autoptr (GError) error = NULL;
  MedPlan *p;

  snap->external_busy = external;
  s = med_scheduler_new (snap, NULL);
  snap->external_busy = NULL;
  for (guint i = 0; i < q->cases->len; i++) {
    MedQueueEntry e = { g_ptr_array_index (q->cases, i),
      g_ptr_array_index (q->parties, i), NULL, 0 };

    g_array_append_val (entries, e);
  }
  p = med_scheduler_plan_day (s, entries, 2026, 12, 7, t_local (now), o,
      &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

static MedPlanItem *
plan_item (MedPlan *p, gint64 case_id)
{
  for (guint i = 0; i < p->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (p->items, i);

    if (it->case_id == case_id)
      return it;
  }
  g_assert_not_reached ();
  return NULL;
}

static void
assert_placed (MedPlan *p, gint64 case_id, const char *start, gint64 room,
    gint64 mediator)
{
  MedPlanItem *it = plan_item (p, case_id);

  g_assert_nonnull (it->slot);
  assert_slot (it->slot, start, room, mediator);
}

/* Two wages cases, two mediators with a cap of one session each: the
 * first case in the queue takes the mediator the second one needs (both
 * are free, the lower id wins), the second is left out. The plan gives
 * the first case the other mediator. */
static void
test_plan_mediator_taken_early (Fixture *f, gconstpointer data)
{
  Queue q;
  g_autoptr (MedPlan) p = NULL;

  ((MedMediator *) g_ptr_array_index (f->w.mediators, 0))->daily_cap = 1;
  g_ptr_array_add (f->w.mediators,
      mk_mediator (11, "王芳", "zh", "wages,neighbour", 1));
  g_ptr_array_add (f->w.rooms,
      mk_room (4, "温馨调解室二", MED_ROOM_KIND_WARM, 6));
  queue_init (&q);
  queue_add (&q, 201, MED_CASE_KIND_WAGES, 60, "zh,zh");
  /* a Tibetan-speaking party: only 扎西次仁 (10) speaks Tibetan */
  queue_add (&q, 202, MED_CASE_KIND_WAGES, 60, "bo,zh");
  p = plan_queue (f, &q, "2026-12-06T17:00", NULL, NULL);
  g_assert_cmpuint (p->greedy_placed, ==, 1);
  g_assert_cmpuint (p->placed, ==, 2);
  g_assert_cmpuint (p->bound, ==, 2);
  g_assert_true (p->optimal);
  g_assert_cmpint (p->stop, ==, MED_PLAN_STOP_PROVED);
  assert_placed (p, 201, "2026-12-07T09:00", 0, 11);
  assert_placed (p, 202, "2026-12-07T09:00", 0, 10);
  queue_clear (&q);
}

/* The only family room: an adults' divorce (which may use a warm room),
 * then two custody cases with minors (which may not). The greedy plan
 * puts the divorce in the family room for the morning, one custody case
 * in the afternoon and leaves the other out; the plan seats the divorce
 * in the warm room as a fallback and hears all three. */
static void
test_plan_long_session_in_family_room (Fixture *f, gconstpointer data)
{
  Queue q;
  g_autoptr (MedPlan) p = NULL;
  MedPlanItem *it;

  g_ptr_array_add (f->w.mediators,
      mk_mediator (11, "卓玛", "zh,bo", "divorce,custody", 4));
  queue_init (&q);
  queue_add (&q, 301, MED_CASE_KIND_DIVORCE, 180, "zh,zh");
  queue_add (&q, 302, MED_CASE_KIND_CUSTODY, 180, "zh,zh")->minors = TRUE;
  queue_add (&q, 303, MED_CASE_KIND_CUSTODY, 210, "bo,zh")->minors = TRUE;
  p = plan_queue (f, &q, "2026-12-06T17:00", NULL, NULL);
  g_assert_cmpuint (p->greedy_placed, ==, 2);
  g_assert_cmpuint (p->placed, ==, 3);
  g_assert_true (p->optimal);
  it = plan_item (p, 301);
  g_assert_nonnull (it->slot);
  g_assert_cmpint (it->slot->room_id, ==, 1);
  g_assert_true (it->slot->fallback);
  g_assert_nonnull (strstr (it->slot->explanation, "fallback"));
  g_assert_nonnull (strstr (it->slot->explanation, "day plan"));
  assert_placed (p, 302, "2026-12-07T09:00", 2, 0);
  assert_placed (p, 303, "2026-12-07T14:30", 2, 0);
  queue_clear (&q);
}

/* The interpreter works mornings only. The first case in the queue (two
 * hours) takes the interpreter at 09:00 and blocks the two 90-minute
 * cases behind it; the plan hears those two and says that placing the
 * first would unplace both. */
static GArray *
interpreter_mornings_only (Fixture *f)
{
  GArray *ext = g_array_new (FALSE, TRUE, sizeof (MedBusy));
  MedBusy b = { 0 };

  g_ptr_array_add (f->w.interpreters, mk_interpreter (50, "格桑", "zh:bo"));
  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  /* 扎西次仁 speaks Tibetan: on leave today */
  g_strfreev (
      ((MedMediator *) g_ptr_array_index (f->w.mediators, 0))->languages);
  ((MedMediator *) g_ptr_array_index (f->w.mediators, 0))->languages
      = g_strsplit ("zh", ",", -1);
  b.start = t_local ("2026-12-07T13:00");
  b.end = t_local ("2026-12-07T19:00");
  b.interpreter_id = 50;
  g_array_append_val (ext, b);
  return ext;
}

/* The i-th reason (asserted to be there). */
static MedReason *
reason_at (GPtrArray *reasons, guint i)
{
  g_assert_nonnull (reasons);
  g_assert_cmpuint (i, <, reasons->len);
  return reasons->pdata[i];
}

static void
test_plan_interpreter_taken_early (Fixture *f, gconstpointer data)
{
  Queue q;
  g_autoptr (MedPlan) p = NULL;
  g_autoptr (GArray) ext = interpreter_mornings_only (f);
  g_autofree char *zh = NULL;
  MedPlanItem *it;
  MedReason *t;

  queue_init (&q);
  queue_add (&q, 401, MED_CASE_KIND_WAGES, 120, "bo,zh");
  queue_add (&q, 402, MED_CASE_KIND_WAGES, 90, "bo,zh");
  queue_add (&q, 403, MED_CASE_KIND_WAGES, 90, "zh,bo");
  p = plan_queue (f, &q, "2026-12-06T17:00", NULL, ext);
  g_assert_cmpuint (p->greedy_placed, ==, 1);
  g_assert_cmpuint (p->placed, ==, 2);
  g_assert_cmpuint (p->bound, ==, 2);
  g_assert_true (p->optimal);
  /* back to back in the morning, in either order */
  g_assert_nonnull (plan_item (p, 402)->slot);
  g_assert_nonnull (plan_item (p, 403)->slot);
  g_assert_cmpint (plan_item (p, 402)->slot->start
          + plan_item (p, 403)->slot->start,
      ==, t_local ("2026-12-07T09:00") + t_local ("2026-12-07T10:30"));
  g_assert_cmpint (plan_item (p, 402)->slot->interpreter_id, ==, 50);
  g_assert_cmpint (plan_item (p, 403)->slot->interpreter_id, ==, 50);
  /* the trade, in the reason and as data */
  it = plan_item (p, 401);
  g_assert_null (it->slot);
  g_assert_nonnull (it->would_unplace);
  g_assert_cmpuint (it->would_unplace->len, ==, 2);
  g_assert_cmpint (g_array_index (it->would_unplace, gint64, 0), ==, 402);
  g_assert_cmpint (g_array_index (it->would_unplace, gint64, 1), ==, 403);
  g_assert_nonnull (strstr (it->reason,
      "would unplace (2026)藏0102调402号 and (2026)藏0102调403号"));
  g_assert_nonnull (strstr (it->reason, "placing it (at 09:00"));
  /* the trade as a reason, the last, rendered in Chinese */
  t = reason_at (it->reasons, it->reasons->len - 1);
  g_assert_cmpint (t->code, ==, MED_REASON_WOULD_UNPLACE);
  g_assert_cmpuint (t->case_ids->len, ==, 2);
  g_assert_cmpint (g_array_index (t->case_ids, gint64, 0), ==, 402);
  g_assert_cmpint (g_array_index (t->case_ids, gint64, 1), ==, 403);
  g_assert_cmpstr (t->list[0], ==, "(2026)藏0102调402号");
  g_assert_cmpstr (t->words, ==, "09:00");
  zh = med_i18n_reason (MED_LANG_ZH, t);
  g_assert_nonnull (strstr (zh, "(2026)藏0102调402号和(2026)藏0102调403号"));
  queue_clear (&q);
}

/* Urgent first, even when it costs two other cases: with the same
 * morning-only interpreter an urgent two-hour case goes in, and the two
 * 90-minute cases that would fit instead stay out, each naming the urgent
 * case as the price. */
static void
test_plan_urgent_first (Fixture *f, gconstpointer data)
{
  Queue q;
  g_autoptr (MedPlan) p = NULL;
  g_autoptr (GArray) ext = interpreter_mornings_only (f);
  MedPlanItem *it;

  queue_init (&q);
  queue_add (&q, 402, MED_CASE_KIND_WAGES, 90, "bo,zh");
  queue_add (&q, 403, MED_CASE_KIND_WAGES, 90, "zh,bo");
  queue_add (&q, 404, MED_CASE_KIND_WAGES, 120, "bo,zh")->urgent = TRUE;
  p = plan_queue (f, &q, "2026-12-06T17:00", NULL, ext);
  g_assert_cmpuint (p->placed, ==, 1);
  g_assert_cmpuint (p->urgent_placed, ==, 1);
  /* the bounds are separate: at most one urgent case, at most two in
   * all; that two need the urgent case out is beyond them, so the plan
   * is not proved optimal */
  g_assert_cmpuint (p->urgent_bound, ==, 1);
  g_assert_cmpuint (p->bound, ==, 2);
  g_assert_false (p->optimal);
  /* the urgent case comes first in the plan's items */
  g_assert_cmpint (((MedPlanItem *) g_ptr_array_index (p->items, 0))->case_id,
      ==, 404);
  assert_placed (p, 404, "2026-12-07T09:00", 1, 0);
  it = plan_item (p, 402);
  g_assert_null (it->slot);
  g_assert_nonnull (strstr (it->reason, "would unplace (2026)藏0102调404号"));
  queue_clear (&q);
}

/* Same state, same options, same plan; a stop function that says stop at
 * once still gives a valid plan (the greedy one) and says why it ended. */
static gboolean
stop_now_cb (gpointer data)
{
  (*(guint *) data)++;
  return TRUE;
}

static void
test_plan_deterministic (Fixture *f, gconstpointer data)
{
  Queue q;
  g_autoptr (MedPlan) p1 = NULL;
  g_autoptr (MedPlan) p2 = NULL;
  g_autoptr (MedPlan) p3 = NULL;
  g_autoptr (GArray) ext = interpreter_mornings_only (f);
  MedPlanOptions o = { 0 };
  guint asked = 0;

  g_ptr_array_add (f->w.mediators,
      mk_mediator (12, "次旦", "zh,bo", "wages,neighbour,divorce", 3));
  queue_init (&q);
  for (gint i = 0; i < 14; i++)
    queue_add (&q, 500 + i,
        i % 4 == 0 ? MED_CASE_KIND_DIVORCE : MED_CASE_KIND_WAGES,
        30 * (1 + i % 5), i % 3 ? "zh,bo" : "zh,zh:remote");
  o.time_limit = 0.05;
  o.seed = 7;
  p1 = plan_queue (f, &q, "2026-12-06T17:00", &o, ext);
  p2 = plan_queue (f, &q, "2026-12-06T17:00", &o, ext);
  g_assert_cmpuint (p1->placed, ==, p2->placed);
  g_assert_cmpuint (p1->work, ==, p2->work);
  g_assert_cmpuint (p1->iterations, ==, p2->iterations);
  for (guint i = 0; i < p1->items->len; i++) {
    MedPlanItem *a = g_ptr_array_index (p1->items, i);
    MedPlanItem *b = g_ptr_array_index (p2->items, i);

    g_assert_cmpint (a->case_id, ==, b->case_id);
    g_assert_true ((a->slot == NULL) == (b->slot == NULL));
    if (a->slot) {
      g_assert_cmpint (a->slot->start, ==, b->slot->start);
      g_assert_cmpint (a->slot->room_id, ==, b->slot->room_id);
      g_assert_cmpint (a->slot->mediator_id, ==, b->slot->mediator_id);
      g_assert_cmpint (a->slot->interpreter_id, ==, b->slot->interpreter_id);
    } else {
      g_assert_cmpstr (a->reason, ==, b->reason);
    }
  }
  g_assert_cmpuint (p1->placed, >=, p1->greedy_placed);

  o.stop = stop_now_cb;
  o.stop_data = &asked;
  p3 = plan_queue (f, &q, "2026-12-06T17:00", &o, ext);
  g_assert_cmpuint (asked, >, 0);
  g_assert_true (p3->optimal || p3->stop == MED_PLAN_STOP_CLOCK);
  g_assert_cmpuint (p3->placed, >=, p3->greedy_placed);
  queue_clear (&q);
}

/* A time limit beyond the most a caller may ask for is refused. */
static void
test_plan_bad_time_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (MedScheduler) s = med_scheduler_new (world_snapshot (&f->w), NULL);
  g_autoptr (GArray) q = g_array_new (FALSE, TRUE, sizeof (MedQueueEntry));
  g_autoptr (GError) error = NULL;
  MedPlanOptions o = { 0 };
  MedPlan *p;

  o.time_limit = MED_PLAN_MAX_TIME_LIMIT + 1;
  p = med_scheduler_plan_day (s, q, 2026, 12, 7, t_local ("2026-12-06T17:00"),
      &o, &error);
  g_assert_null (p);
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID);
}

/* An urgent case ignores the minimum notice in the day plan too; a
 * normal case planned the same morning starts an hour later. */
static void
test_plan_urgent_notice (Fixture *f, gconstpointer data)
{
  Queue q;
  g_autoptr (MedPlan) p = NULL;

  g_ptr_array_add (f->w.mediators, mk_mediator (11, "王芳", "zh", "wages", 4));
  queue_init (&q);
  queue_add (&q, 601, MED_CASE_KIND_WAGES, 60, "zh,zh");
  queue_add (&q, 602, MED_CASE_KIND_WAGES, 60, "zh,zh")->urgent = TRUE;
  p = plan_queue (f, &q, "2026-12-07T09:05", NULL, NULL);
  assert_placed (p, 602, "2026-12-07T09:15", 1, 0);
  assert_placed (p, 601, "2026-12-07T10:15", 0, 0);
  queue_clear (&q);
}

/* A custody case with minors and a remote parent: the centre has a
 * family room with a video terminal, booked all day. The case waits for
 * it rather than going to the remote room; without such a room it would
 * (test_family_remote_falls_back_to_remote_room). */
static void
test_plan_minors_wait_for_family_video (Fixture *f, gconstpointer data)
{
  Queue q;
  g_autoptr (MedPlan) p = NULL;
  MedPlanItem *it;

  ((MedRoom *) g_ptr_array_index (f->w.rooms, 1))->features
      |= MED_ROOM_FEATURE_VIDEO;
  world_book (&f->w, 7, 2, 0, 0, "2026-12-07T09:00", "2026-12-07T18:00");
  queue_init (&q);
  queue_add (&q, 701, MED_CASE_KIND_CUSTODY, 60, "zh,zh:remote")->minors = TRUE;
  /* an adults' divorce in the same position may use the remote room */
  queue_add (&q, 702, MED_CASE_KIND_DIVORCE, 60, "zh,zh:remote");
  p = plan_queue (f, &q, "2026-12-06T17:00", NULL, NULL);
  it = plan_item (p, 701);
  g_assert_null (it->slot);
  g_assert_nonnull (strstr (it->reason, "waits for a family room"));
  g_assert_null (it->would_unplace);
  it = plan_item (p, 702);
  g_assert_nonnull (it->slot);
  g_assert_cmpint (it->slot->room_id, ==, 3);
  g_assert_true (it->slot->fallback);
  queue_clear (&q);
}

static void
test_preferred_kind (void)
{
  g_autoptr (MedCase) c = mk_case (1, MED_CASE_KIND_CONTRACT);
  g_autoptr (GPtrArray) ps
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  MedReasonCode why = MED_REASON_N;

  g_ptr_array_add (ps, mk_party ("zh", MED_ATTENDANCE_IN_PERSON, NULL));
  g_assert_cmpint (med_scheduler_preferred_kind (c, ps, &why), ==,
      MED_ROOM_KIND_WARM);
  g_assert_cmpint (why, ==, MED_REASON_WHY_GENERAL);
  g_ptr_array_add (ps, mk_party ("zh", MED_ATTENDANCE_REMOTE, NULL));
  g_assert_cmpint (med_scheduler_preferred_kind (c, ps, &why), ==,
      MED_ROOM_KIND_REMOTE);
  g_assert_cmpint (why, ==, MED_REASON_WHY_REMOTE);
  c->kind = MED_CASE_KIND_SUPPORT;
  g_assert_cmpint (med_scheduler_preferred_kind (c, ps, &why), ==,
      MED_ROOM_KIND_FAMILY);
  g_assert_cmpint (why, ==, MED_REASON_WHY_FAMILY);
  c->kind = MED_CASE_KIND_TRAFFIC;
  c->minors = TRUE;
  g_assert_cmpint (med_scheduler_preferred_kind (c, ps, &why), ==,
      MED_ROOM_KIND_FAMILY);
  g_assert_cmpint (why, ==, MED_REASON_WHY_MINORS);
}

static void
test_family_remote_needs_video (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedParty *p = g_ptr_array_index (f->parties, 1);

  /* A divorce with a remote party prefers the family room when it has a
   * video terminal. */
  f->kase->kind = MED_CASE_KIND_DIVORCE;
  f->kase->deadline = t_local ("2026-12-10");
  p->attendance = MED_ATTENDANCE_REMOTE;
  ((MedRoom *) g_ptr_array_index (f->w.rooms, 1))->features
      |= MED_ROOM_FEATURE_VIDEO;
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 2, 10);
  g_assert_cmpint (s->mode, ==, MED_BOOKING_MODE_HYBRID);
  g_assert_false (s->fallback);
}

static void
test_family_remote_falls_back_to_remote_room (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = NULL;
  MedParty *p = g_ptr_array_index (f->parties, 1);

  /* Without a terminal in the family room the remote room stands in, even
   * with minors: the remote party cannot join otherwise. */
  f->kase->kind = MED_CASE_KIND_CUSTODY;
  f->kase->minors = TRUE;
  f->kase->deadline = t_local ("2026-12-10");
  p->attendance = MED_ATTENDANCE_REMOTE;
  s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  assert_slot (s, "2026-12-07T09:00", 3, 10);
  g_assert_true (s->fallback);
}


/* --- reasons: codes and parameters, their text in each language --- */

/* A slot says why as data; its English explanation is the renderer's
 * English of those reasons, and the Chinese is the same reasons in the
 * catalogue's words (no English left in it but data). */
static void
test_reasons_slot (Fixture *f, gconstpointer data)
{
  g_autoptr (MedSlot) s = first_slot (f, "2026-12-07T08:00", NULL, NULL);
  g_autofree char *en = NULL, *zh = NULL;
  MedReason *r;

  assert_slot (s, "2026-12-07T09:00", 1, 10);
  r = reason_at (s->reasons, 0);
  g_assert_cmpint (r->code, ==, MED_REASON_ROOM);
  g_assert_cmpint (r->cause, ==, MED_REASON_WHY_GENERAL);
  g_assert_cmpint (r->kind, ==, MED_ROOM_KIND_WARM);
  g_assert_nonnull (r->name);
  r = reason_at (s->reasons, 1);
  g_assert_cmpint (r->code, ==, MED_REASON_CAPACITY);
  g_assert_cmpint (r->b, ==, 3); /* two parties and the mediator */
  r = reason_at (s->reasons, 2);
  g_assert_cmpint (r->code, ==, MED_REASON_MEDIATOR);
  g_assert_cmpint (r->case_kind, ==, f->kase->kind);
  g_assert_cmpint (reason_at (s->reasons, s->reasons->len - 1)->code, ==,
      MED_REASON_EARLIEST);
  en = med_i18n_reasons (MED_LANG_EN, s->reasons);
  /* the English says the room's why in words (not the rendering of the
   * very reasons compared with itself) */
  g_assert_nonnull (strstr (s->explanation,
      "because it is a general civil "
      "case"));
  zh = med_i18n_reasons (MED_LANG_ZH, s->reasons);
  g_assert_cmpstr (zh, !=, en);
  g_assert_nonnull (strstr (zh,
      med_i18n_gettext (MED_LANG_ZH,
          med_room_kind_label (MED_ROOM_KIND_WARM))));
  g_assert_null (strstr (zh, "because"));
  g_assert_null (strstr (zh, "capacity"));
  g_assert_null (strstr (zh, "earliest"));
  /* a copy is deep and renders alike */
  {
    g_autoptr (GPtrArray) c = med_reasons_copy (s->reasons);
    g_autofree char *again = med_i18n_reasons (MED_LANG_ZH, c);

    g_assert_cmpstr (again, ==, zh);
  }
}

/* Nothing fits: the error carries what blocked the search, as codes, and
 * keeps them when copied. */
static void
test_reasons_no_slot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) copy = NULL;
  g_autoptr (MedSlot) s = NULL;
  g_autofree char *zh = NULL;
  GPtrArray *why;

  f->kase->kind = MED_CASE_KIND_LAND;
  s = first_slot (f, "2026-12-07T08:00", NULL, &error);
  g_assert_null (s);
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_NO_SLOT);
  why = med_scheduler_error_get_reasons (error);
  g_assert_cmpint (reason_at (why, 0)->code, ==, MED_REASON_NO_SPECIALTY);
  g_assert_cmpint (reason_at (why, 0)->case_kind, ==, MED_CASE_KIND_LAND);
  g_assert_cmpint (reason_at (why, why->len - 1)->code, ==,
      MED_REASON_NOTHING_BEFORE);
  g_assert_nonnull (reason_at (why, why->len - 1)->words);
  copy = g_error_copy (error);
  g_assert_cmpuint (med_scheduler_error_get_reasons (copy)->len, ==, why->len);
  g_assert_true (med_scheduler_error_get_reasons (copy) != why);
  zh = med_i18n_reasons (MED_LANG_ZH, med_scheduler_error_get_reasons (copy));
  g_assert_nonnull (strstr (zh,
      med_i18n_gettext (MED_LANG_ZH,
          med_case_kind_label (MED_CASE_KIND_LAND))));
  /* an error of another kind carries none */
  {
    g_autoptr (GError) other
        = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_FAILED, "x");

    g_assert_null (med_scheduler_error_get_reasons (other));
  }
  g_assert_null (med_scheduler_error_get_reasons (NULL));
}

/* A slot chosen by hand and refused says why as a code too. */
static void
test_reasons_check (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  /* the remote room for an in-person wages case */
  g_assert_false (check (f, "2026-12-07T08:00", "2026-12-07T10:00",
      "2026-12-07T11:00", 3, 10, 0, &error));
  g_assert_cmpint (reason_at (med_scheduler_error_get_reasons (error), 0)->code,
      ==, MED_REASON_ROOM_UNSUITED);
  g_assert_cmpint (reason_at (med_scheduler_error_get_reasons (error), 0)
                       ->other_kind,
      ==, MED_ROOM_KIND_WARM);
  g_clear_error (&error);
  world_book (&f->w, 7, 1, 0, 0, "2026-12-07T10:30", "2026-12-07T11:30");
  g_assert_false (check (f, "2026-12-07T08:00", "2026-12-07T10:00",
      "2026-12-07T11:00", 1, 10, 0, &error));
  g_assert_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_CONFLICT);
  g_assert_cmpint (reason_at (med_scheduler_error_get_reasons (error), 0)->code,
      ==, MED_REASON_TAKEN);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define T(path, fn)                                                            \
  g_test_add ("/scheduler/" path, Fixture, NULL, fixture_setup, fn,            \
      fixture_teardown)
  T ("kind/warm", test_kind_warm);
  T ("kind/family", test_kind_family);
  T ("kind/minors", test_kind_minors);
  T ("kind/remote", test_kind_remote);
  T ("kind/family-remote-video", test_family_remote_needs_video);
  T ("fallback/family-remote", test_family_remote_falls_back_to_remote_room);
  g_test_add_func ("/scheduler/kind/preferred", test_preferred_kind);
  T ("fallback/family-to-warm", test_fallback_family_to_warm);
  T ("fallback/never-for-minors", test_fallback_never_for_minors);
  T ("fallback/disabled", test_fallback_disabled);
  T ("capacity/too-small", test_capacity);
  T ("capacity/smallest-fitting", test_capacity_prefers_smallest);
  T ("specialty/required", test_specialty);
  T ("language/interpreter", test_language_interpreter);
  T ("language/shared", test_language_shared_needs_no_interpreter);
  T ("language/interpreter-busy", test_interpreter_busy);
  T ("mediator/daily-cap", test_daily_cap);
  T ("mediator/leave", test_leave);
  T ("mediator/leave-partial", test_leave_partial);
  T ("busy/room", test_room_busy);
  T ("busy/external-calendar", test_external_busy);
  T ("busy/room-buffers", test_room_buffers);
  T ("busy/mediator", test_mediator_busy);
  T ("busy/party", test_party_busy);
  T ("busy/own-case", test_own_case_busy);
  T ("time/lunch-break", test_lunch_break);
  T ("time/longer-than-window", test_longer_than_any_window);
  T ("time/after-hours", test_after_hours);
  T ("time/weekend", test_weekend);
  T ("time/weekend-hours", test_weekend_hours);
  T ("holiday/national-day-2026", test_national_day_holiday);
  T ("holiday/makeup-day-2026", test_makeup_day);
  T ("holiday/spring-festival-2025", test_spring_festival_2025);
  T ("holiday/lhasa-losar-2026", test_lhasa_losar_2026);
  T ("holiday/unpublished-year", test_unpublished_year);
  T ("time/min-notice-urgent", test_min_notice_and_urgent);
  T ("urgent/same-day-fallback", test_urgent_same_day_fallback);
  T ("time/deadline", test_deadline);
  T ("soft/balanced-load", test_balanced_load);
  T ("soft/follow-up-mediator", test_follow_up_same_mediator);
  T ("soft/alternatives", test_alternatives);
  T ("check/hand-picked", test_check_slot);
  T ("reasons/slot", test_reasons_slot);
  T ("reasons/no-slot", test_reasons_no_slot);
  T ("reasons/check", test_reasons_check);
  T ("batch/deterministic", test_batch);
  T ("batch/unpublished", test_batch_unpublished);
  T ("plan/mediator-taken-early", test_plan_mediator_taken_early);
  T ("plan/long-session-in-family-room", test_plan_long_session_in_family_room);
  T ("plan/interpreter-taken-early", test_plan_interpreter_taken_early);
  T ("plan/urgent-first", test_plan_urgent_first);
  T ("plan/deterministic", test_plan_deterministic);
  T ("plan/urgent-ignores-notice", test_plan_urgent_notice);
  T ("plan/bad-time-limit", test_plan_bad_time_limit);
  T ("plan/minors-wait-for-family-video",
      test_plan_minors_wait_for_family_video);
#undef T
  return g_test_run ();
}
