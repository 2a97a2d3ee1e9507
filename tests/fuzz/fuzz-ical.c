/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-ical.c — libFuzzer target for everything medsched reads from
 * outside as iCalendar: attendee replies, external busy calendars, holiday
 * notices, and the linter. Each input goes to all four; none may crash,
 * leak, trip a sanitizer, print a GLib critical or warning (made fatal
 * here) or take long (run-fuzz.sh sets a per-input timeout). Built only
 * with -Dfuzz=true and clang; run with tests/fuzz/run-fuzz.sh. */
#define G_LOG_DOMAIN "medsched-fuzz"

#include <medsched/med-ical.h>

#include <stdint.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static MedTime from, to;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  med_ical_init ("Asia/Shanghai");
  g_assert_true (
      med_time_parse_local ("2026-01-01", "Asia/Shanghai", &from, NULL));
  g_assert_true (
      med_time_parse_local ("2027-01-01", "Asia/Shanghai", &to, NULL));
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  GError *error = NULL;
  MedReply *reply;
  GArray *busy;
  MedNotice *notice;
  GPtrArray *problems;

  reply = med_ical_parse_reply (text, size, &error);
  g_assert ((reply == NULL) == (error != NULL));
  if (reply != NULL) {
    g_assert_true (g_utf8_validate (reply->uid, -1, NULL));
    g_assert_nonnull (reply->attendee);
    med_reply_free (reply);
  }
  g_clear_error (&error);

  busy = med_ical_parse_busy (text, size, from, to, "Asia/Shanghai", &error);
  g_assert ((busy == NULL) == (error != NULL));
  if (busy != NULL) {
    g_assert_cmpuint (busy->len, <=, MED_ICAL_MAX_OCCURRENCES);
    for (guint i = 0; i < busy->len; i++) {
      const MedInterval *iv = &g_array_index (busy, MedInterval, i);

      g_assert_cmpint (iv->start, <, iv->end);
      g_assert_cmpint (iv->start, >=, from);
      g_assert_cmpint (iv->end, <=, to);
      if (i > 0)
        g_assert_cmpint (g_array_index (busy, MedInterval, i - 1).end, <,
            iv->start);
    }
    g_array_unref (busy);
  }
  g_clear_error (&error);

  notice = med_ical_parse_notice (text, size, &error);
  g_assert ((notice == NULL) == (error != NULL));
  if (notice != NULL)
    med_notice_free (notice);
  g_clear_error (&error);

  problems = med_ical_lint (text, size, MED_ICAL_KIND_AUTO);
  for (guint i = 0; i < problems->len; i++)
    g_assert_true (g_str_has_prefix (g_ptr_array_index (problems, i), "line "));
  g_ptr_array_unref (problems);
  return 0;
}
