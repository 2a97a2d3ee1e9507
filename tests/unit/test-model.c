/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-model.c — enum text forms, the case state machine (every pair of
 * states), text validation, opening hours and local time parsing. */
#include <medsched/med-model.h>

#include <string.h>

static void
test_enum_round_trip (void)
{
  for (int k = 0; k < MED_ROOM_KIND_N; k++) {
    MedRoomKind out;

    g_assert_true (
        med_room_kind_from_string (med_room_kind_to_string (k), &out, NULL));
    g_assert_cmpint (out, ==, k);
  }
  for (int k = 0; k < MED_CASE_KIND_N; k++) {
    MedCaseKind out;

    g_assert_true (
        med_case_kind_from_string (med_case_kind_to_string (k), &out, NULL));
    g_assert_cmpint (out, ==, k);
  }
  for (int k = 0; k < MED_CASE_STATUS_N; k++) {
    MedCaseStatus out;

    g_assert_true (med_case_status_from_string (med_case_status_to_string (k),
        &out, NULL));
    g_assert_cmpint (out, ==, k);
  }
  g_assert_cmpstr (med_room_kind_label_zh (MED_ROOM_KIND_FAMILY), ==,
      "家事调解室");
}

static void
test_enum_unknown (void)
{
  g_autoptr (GError) error = NULL;
  MedRoomKind k;
  MedAttendance a;

  g_assert_false (med_room_kind_from_string ("ballroom", &k, &error));
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_UNKNOWN_ENUM);
  g_assert_nonnull (strstr (error->message, "warm, family, remote"));
  g_clear_error (&error);
  g_assert_false (med_room_kind_from_string ("\xff\xfe", &k, &error));
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_UNKNOWN_ENUM);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);
  g_assert_false (med_attendance_from_string (NULL, &a, &error));
  g_clear_error (&error);
  g_assert_false (med_room_kind_from_string ("WARM", &k, &error));
}

static void
test_bits (void)
{
  guint bits = 0;
  g_autofree char *s = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (
      med_room_features_from_string ("video, child-friendly", &bits, NULL));
  g_assert_cmpuint (bits, ==,
      MED_ROOM_FEATURE_VIDEO | MED_ROOM_FEATURE_CHILD_FRIENDLY);
  s = med_room_features_to_string (bits);
  g_assert_cmpstr (s, ==, "video,child-friendly");
  g_assert_false (
      med_specialties_from_string ("wages,astrology", &bits, &error));
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_UNKNOWN_ENUM);
  g_assert_true (med_specialties_from_string ("wages,land", &bits, NULL));
  g_assert_cmpuint (bits, ==,
      (1u << MED_CASE_KIND_WAGES) | (1u << MED_CASE_KIND_LAND));
}

/* Every pair of states: exactly the documented transitions are allowed. */
static void
test_transitions (void)
{
  static const struct
  {
    MedCaseStatus from, to;
  } allowed[] = {
    { MED_CASE_STATUS_INTAKE, MED_CASE_STATUS_DISPATCHED },
    { MED_CASE_STATUS_DISPATCHED, MED_CASE_STATUS_SCHEDULED },
    { MED_CASE_STATUS_SCHEDULED, MED_CASE_STATUS_IN_SESSION },
    { MED_CASE_STATUS_SCHEDULED, MED_CASE_STATUS_DISPATCHED },
    { MED_CASE_STATUS_IN_SESSION, MED_CASE_STATUS_SETTLED },
    { MED_CASE_STATUS_IN_SESSION, MED_CASE_STATUS_NOT_SETTLED },
    { MED_CASE_STATUS_NOT_SETTLED, MED_CASE_STATUS_SCHEDULED },
  };
  guint n_allowed = 0;

  for (int from = 0; from < MED_CASE_STATUS_N; from++) {
    for (int to = 0; to < MED_CASE_STATUS_N; to++) {
      gboolean expect = FALSE;
      g_autoptr (GError) error = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
        expect |= allowed[i].from == (MedCaseStatus) from
            && allowed[i].to == (MedCaseStatus) to;
      /* referral and withdrawal end any open case */
      if ((to == MED_CASE_STATUS_REFERRED || to == MED_CASE_STATUS_WITHDRAWN)
          && !med_case_status_is_closed (from) && from != to)
        expect = TRUE;
      g_assert_cmpint (med_case_status_can_transition (from, to), ==, expect);
      g_assert_cmpint (med_case_status_check_transition (from, to, &error), ==,
          expect);
      if (!expect) {
        g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TRANSITION);
      } else {
        n_allowed++;
      }
    }
  }
  /* 7 listed + referred/withdrawn from 5 open states */
  g_assert_cmpuint (n_allowed, ==, 7 + 2 * 5);
}

static void
test_validate_text (void)
{
  g_autoptr (GError) error = NULL;
  char big[300];

  g_assert_true (
      med_validate_text ("བཀྲ་ཤིས་བདེ་ལེགས", 256, FALSE, FALSE, "name", NULL));
  g_assert_true (
      med_validate_text ("温馨调解室一", 256, FALSE, FALSE, "name", NULL));
  g_assert_false (med_validate_text ("", 256, FALSE, FALSE, "name", &error));
  g_clear_error (&error);
  g_assert_true (med_validate_text ("", 256, FALSE, TRUE, "name", NULL));
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  g_assert_false (med_validate_text (big, 256, FALSE, FALSE, "name", &error));
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TOO_LONG);
  g_clear_error (&error);
  g_assert_false (
      med_validate_text ("abc\xc3", 256, FALSE, FALSE, "name", &error));
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING);
  g_clear_error (&error);
  g_assert_false (
      med_validate_text ("a\x1b[31mred", 256, FALSE, FALSE, "name", &error));
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING);
  g_clear_error (&error);
  g_assert_false (
      med_validate_text ("two\nlines", 256, FALSE, FALSE, "name", &error));
  g_clear_error (&error);
  g_assert_true (
      med_validate_text ("two\nlines", 256, TRUE, FALSE, "text", NULL));
  /* SQL-shaped text is just text */
  g_assert_true (med_validate_text ("'); DROP TABLE booking;--", 256, FALSE,
      FALSE, "name", NULL));
}

static void
test_language (void)
{
  g_assert_true (med_validate_language ("zh", NULL));
  g_assert_true (med_validate_language ("bo", NULL));
  g_assert_false (med_validate_language ("ZH", NULL));
  g_assert_false (med_validate_language ("z", NULL));
  g_assert_false (med_validate_language ("zh-CN", NULL));
  g_assert_false (med_validate_language (NULL, NULL));
}

static void
test_hours (void)
{
  MedDayHours h;
  g_autofree char *s = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (med_day_hours_parse ("08:30-12:00,14:30-18:00", &h, NULL));
  g_assert_cmpint (h.open_min, ==, 510);
  g_assert_cmpint (h.lunch_start_min, ==, 720);
  g_assert_cmpint (h.lunch_end_min, ==, 870);
  g_assert_cmpint (h.close_min, ==, 1080);
  s = med_day_hours_to_string (&h);
  g_assert_cmpstr (s, ==, "08:30-12:00,14:30-18:00");
  g_assert_true (med_day_hours_parse ("closed", &h, NULL));
  g_assert_cmpint (h.open_min, ==, h.close_min);
  g_assert_true (med_day_hours_parse ("09:00-17:00", &h, NULL));
  g_assert_cmpint (h.lunch_start_min, ==, 0);
  g_assert_false (med_day_hours_parse ("18:00-09:00", &h, &error));
  g_clear_error (&error);
  g_assert_false (med_day_hours_parse ("09:00-12:00,11:00-17:00", &h, &error));
  g_clear_error (&error);
  g_assert_false (med_day_hours_parse ("9-5", &h, &error));
  g_clear_error (&error);
  g_assert_false (med_day_hours_parse ("09:60-12:00", &h, &error));
  g_clear_error (&error);
  g_assert_false (
      med_day_hours_parse ("09:00-12:00,13:00-14:00,15:00-16:00", &h, &error));
}

static void
test_time (void)
{
  MedTime t = 0;
  g_autofree char *s = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (
      med_time_parse_local ("2026-12-07T09:30", "Asia/Shanghai", &t, NULL));
  g_assert_cmpint (t, ==, 1796607000); /* 2026-12-07T01:30:00Z */
  s = med_time_format_local (t, "Asia/Shanghai", "%Y-%m-%d %H:%M");
  g_assert_cmpstr (s, ==, "2026-12-07 09:30");
  g_assert_true (
      med_time_parse_local ("2026-12-07", "Asia/Shanghai", &t, NULL));
  g_assert_cmpint (t, ==, 1796572800);
  g_assert_false (
      med_time_parse_local ("2026-02-30", "Asia/Shanghai", &t, &error));
  g_clear_error (&error);
  g_assert_false (
      med_time_parse_local ("2026-12-07T25:00", "Asia/Shanghai", &t, &error));
  g_clear_error (&error);
  g_assert_false (
      med_time_parse_local ("2026-12-07T09:30Z", "Asia/Shanghai", &t, &error));
  g_clear_error (&error);
  g_assert_false (
      med_time_parse_local ("2026-12-07", "Mars/Olympus", &t, &error));
  g_assert_nonnull (strstr (error->message, "Mars/Olympus"));
  g_clear_error (&error);
  g_assert_false (
      med_time_parse_local ("tomorrow", "Asia/Shanghai", &t, &error));
}

/* The one date reader of the CLI and the pages: the day exactly. */
static void
test_date_parse (void)
{
  static const char *const bad[]
      = { "2026-02-30", "1969-12-31", "2201-01-01", "2026-1-07", "+026-12-07",
          "2026-12-07T09:30", "2026-12-07 ", "2026/12/07", "", NULL };
  gint y = 0, m = 0, d = 0;

  g_assert_true (med_date_parse ("2028-02-29", &y, &m, &d));
  g_assert_cmpint (y, ==, 2028);
  g_assert_cmpint (m, ==, 2);
  g_assert_cmpint (d, ==, 29);
  for (guint i = 0; bad[i]; i++)
    g_assert_false (med_date_parse (bad[i], &y, &m, &d));
  g_assert_false (med_date_parse (NULL, &y, &m, &d));
}

static void
test_interpreter_covers (void)
{
  g_autoptr (MedInterpreter) i = med_interpreter_new ();

  i->pairs = g_strsplit ("zh:bo,zh:en", ",", -1);
  g_assert_true (med_interpreter_covers (i, "zh", "bo"));
  g_assert_true (med_interpreter_covers (i, "bo", "zh"));
  g_assert_true (med_interpreter_covers (i, "en", "zh"));
  g_assert_false (med_interpreter_covers (i, "bo", "en"));
  g_assert_false (med_interpreter_covers (i, "z", "bo"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/enum/round-trip", test_enum_round_trip);
  g_test_add_func ("/model/enum/unknown", test_enum_unknown);
  g_test_add_func ("/model/enum/bits", test_bits);
  g_test_add_func ("/model/case/transitions", test_transitions);
  g_test_add_func ("/model/text/validate", test_validate_text);
  g_test_add_func ("/model/text/language", test_language);
  g_test_add_func ("/model/hours/parse", test_hours);
  g_test_add_func ("/model/time/parse", test_time);
  g_test_add_func ("/model/date/parse", test_date_parse);
  g_test_add_func ("/model/interpreter/covers", test_interpreter_covers);
  return g_test_run ();
}
