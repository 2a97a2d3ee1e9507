/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ical-notice.c — reading holiday notices from iCalendar: the shipped
 * calendars, and hostile files (cut short at every byte, oversized, wrong
 * encoding, timed events, unknown zones, missing properties, days outside
 * the year, contradictions, absurd nesting, not iCalendar at all). Every
 * bad file must give a GError: no crash, no CRITICAL (the suite runs with
 * G_DEBUG=fatal-criticals). */
#define G_LOG_DOMAIN "medsched-test"

#include <medsched/med-ical.h>
#include <medsched/med-workcal.h>

#include <string.h>

static char *
calendars_dir (void)
{
  const char *env = g_getenv ("MEDSCHED_CALENDARS");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  return g_test_build_filename (G_TEST_DIST, "..", "calendars", NULL);
}

static char *
read_calendar (const char *file, gsize *len)
{
  g_autofree char *dir = calendars_dir ();
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_file_get_contents (path, &data, len, &error);
  g_assert_no_error (error);
  return data;
}

static guint
count_kind (const MedNotice *n, MedDayKind kind)
{
  guint c = 0;

  for (guint i = 0; i < n->days->len; i++) {
    if (g_array_index (n->days, MedNoticeDay, i).kind == kind)
      c++;
  }
  return c;
}

/* Every .ics in the calendars directory parses and validates. */
static void
test_shipped_all (void)
{
  g_autofree char *dir = calendars_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  const char *name;
  guint n_files = 0;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *data = NULL;
    g_autoptr (MedNotice) n = NULL;
    gsize len;

    if (!g_str_has_suffix (name, ".ics"))
      continue;
    data = read_calendar (name, &len);
    n = med_ical_parse_notice (data, len, &error);
    g_assert_no_error (error);
    g_assert_nonnull (n);
    g_assert_true (med_notice_validate (n, &error));
    g_assert_no_error (error);
    g_assert_nonnull (n->id);
    g_assert_nonnull (n->title);
    g_assert_nonnull (n->source);
    g_assert_nonnull (n->published);
    g_assert_cmpuint (n->days->len, >, 0);
    /* CRLF, folded at 75 octets. */
    for (const char *p = data; p < data + len;) {
      const char *nl = memchr (p, '\n', data + len - p);

      g_assert_nonnull (nl);
      g_assert_true (nl > p && nl[-1] == '\r');
      g_assert_cmpint (nl - 1 - p, <=, 75);
      p = nl + 1;
    }
    n_files++;
  }
  g_assert_cmpuint (n_files, >=, 4);
}

static void
test_shipped_national (void)
{
  g_autoptr (GError) error = NULL;
  gsize len;
  g_autofree char *d25 = read_calendar ("cn-national-2025.ics", &len);
  g_autoptr (MedNotice) n25 = med_ical_parse_notice (d25, len, &error);
  g_autofree char *d26 = NULL;
  g_autoptr (MedNotice) n26 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (n25->id, ==, "CN-2025");
  g_assert_cmpstr (n25->jurisdiction, ==, "CN");
  g_assert_cmpint (n25->layer, ==, MED_LAYER_NATIONAL);
  g_assert_cmpint (n25->year, ==, 2025);
  g_assert_cmpstr (n25->title, ==,
      "国务院办公厅关于2025年部分节假日安排的通知");
  g_assert_nonnull (strstr (n25->source, "国办发明电〔2024〕12号"));
  g_assert_cmpstr (n25->published, ==, "2024-11-12");
  g_assert_cmpuint (count_kind (n25, MED_DAY_KIND_HOLIDAY), ==, 28);
  g_assert_cmpuint (count_kind (n25, MED_DAY_KIND_WORKDAY), ==, 5);

  d26 = read_calendar ("cn-national-2026.ics", &len);
  n26 = med_ical_parse_notice (d26, len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (n26->id, ==, "CN-2026");
  g_assert_cmpint (n26->year, ==, 2026);
  g_assert_nonnull (strstr (n26->source, "国办发明电〔2025〕7号"));
  g_assert_cmpstr (n26->published, ==, "2025-11-04");
  g_assert_cmpuint (count_kind (n26, MED_DAY_KIND_HOLIDAY), ==, 33);
  g_assert_cmpuint (count_kind (n26, MED_DAY_KIND_WORKDAY), ==, 6);
}

static void
test_shipped_lhasa (void)
{
  g_autoptr (GError) error = NULL;
  gsize len;
  g_autofree char *d25 = read_calendar ("cn-xz-lhasa-2025.ics", &len);
  g_autoptr (MedNotice) n25 = med_ical_parse_notice (d25, len, &error);
  g_autofree char *d26 = NULL;
  g_autoptr (MedNotice) n26 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (n25->jurisdiction, ==, "CN-XZ-LS");
  g_assert_cmpint (n25->layer, ==, MED_LAYER_CITY);
  g_assert_cmpuint (count_kind (n25, MED_DAY_KIND_HOLIDAY), ==, 6);
  g_assert_cmpuint (count_kind (n25, MED_DAY_KIND_WORKDAY), ==, 0);
  g_assert_cmpstr (g_array_index (n25->days, MedNoticeDay, 0).name, ==,
      "藏历新年");

  d26 = read_calendar ("cn-xz-lhasa-2026.ics", &len);
  n26 = med_ical_parse_notice (d26, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n26->year, ==, 2026);
  g_assert_cmpuint (count_kind (n26, MED_DAY_KIND_HOLIDAY), ==, 12);
  g_assert_cmpuint (count_kind (n26, MED_DAY_KIND_WORKDAY), ==, 2);
  g_assert_cmpstr (n26->published, ==, "2026-01-28");
}

/* Bare LF line ends (libical accepts them): same notice as with CRLF. */
static void
test_lf_only (void)
{
  g_autoptr (GError) error = NULL;
  gsize len;
  g_autofree char *crlf = read_calendar ("cn-national-2026.ics", &len);
  g_autoptr (GString) lf = g_string_new (NULL);
  g_autoptr (MedNotice) a = NULL;
  g_autoptr (MedNotice) b = NULL;

  for (gsize i = 0; i < len; i++) {
    if (crlf[i] != '\r')
      g_string_append_c (lf, crlf[i]);
  }
  a = med_ical_parse_notice (crlf, len, &error);
  g_assert_no_error (error);
  b = med_ical_parse_notice (lf->str, lf->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->title, ==, b->title);
  g_assert_cmpstr (a->source, ==, b->source);
  g_assert_cmpuint (a->days->len, ==, b->days->len);
  for (guint i = 0; i < a->days->len; i++) {
    MedNoticeDay *x = &g_array_index (a->days, MedNoticeDay, i);
    MedNoticeDay *y = &g_array_index (b->days, MedNoticeDay, i);

    g_assert_cmpint (x->month, ==, y->month);
    g_assert_cmpint (x->day, ==, y->day);
    g_assert_cmpint (x->kind, ==, y->kind);
    g_assert_cmpstr (x->name, ==, y->name);
  }

  /* A byte order mark is tolerated. */
  {
    g_autofree char *bom = g_strconcat ("\xEF\xBB\xBF", crlf, NULL);
    g_autoptr (MedNotice) c = med_ical_parse_notice (bom, len + 3, &error);

    g_assert_no_error (error);
    g_assert_nonnull (c);
  }
}

/* Cut the file at every byte: only the cuts that keep END:VCALENDAR whole
 * may parse. */
static void
test_truncated (void)
{
  gsize len;
  g_autofree char *data = read_calendar ("cn-xz-lhasa-2026.ics", &len);
  const gsize whole = len - 2; /* without the final CRLF */

  for (gsize cut = 0; cut < len; cut++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedNotice) n = med_ical_parse_notice (data, cut, &error);

    if (cut >= whole) {
      g_assert_no_error (error);
      g_assert_nonnull (n);
    } else {
      g_assert_null (n);
      g_assert_nonnull (error);
      g_assert_true (error->domain == MED_ICAL_ERROR);
    }
  }
}

/* A small valid notice around a replaceable piece. */
/* clang-format off */
#define HEAD \
  "BEGIN:VCALENDAR\r\n" \
  "PRODID:-//medsched//test//ZH\r\n" \
  "VERSION:2.0\r\n" \
  "CALSCALE:GREGORIAN\r\n" \
  "NAME:测试通知\r\n" \
  "X-MED-JURISDICTION:CN-TEST\r\n" \
  "X-MED-LAYER:centre\r\n" \
  "X-MED-SOURCE:测试\\, 第1号\r\n" \
  "X-MED-PUBLISHED:2025-12-01\r\n"
#define YEAR "X-MED-YEAR:2026\r\n"
#define EVENT(uid, start, end, kind) \
  "BEGIN:VEVENT\r\n" \
  "UID:" uid "\r\n" \
  "DTSTAMP:20251201T000000Z\r\n" \
  "DTSTART;VALUE=DATE:" start "\r\n" \
  "DTEND;VALUE=DATE:" end "\r\n" \
  "SUMMARY:测试\r\n" \
  "X-MED-DAY-KIND:" kind "\r\n" \
  "END:VEVENT\r\n"
#define TAIL "END:VCALENDAR\r\n"
/* clang-format on */

static void
expect_error (const char *data, gssize len, gint code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedNotice) n = NULL;

  n = med_ical_parse_notice (data, len < 0 ? strlen (data) : (gsize) len,
      &error);
  g_assert_null (n);
  g_assert_error (error, MED_ICAL_ERROR, code);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("expected “%s” in “%s”", needle, error->message);
}

static void
test_minimal_valid (void)
{
  /* clang-format off */
  static const char ics[] = HEAD YEAR
      EVENT ("a@test", "20260105", "20260107", "holiday")
      EVENT ("b@test", "20260110", "20260111", "workday")
      "BEGIN:VEVENT\r\n"
      "UID:c@test\r\n"
      "DTSTAMP:20251201T000000Z\r\n"
      "DTSTART;VALUE=DATE:20261231\r\n"
      "SUMMARY:one day\\, no DTEND; DROP TABLE notice;--\r\n"
      "X-MED-DAY-KIND:HOLIDAY\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\n"
      "UID:d@test\r\n"
      "DTSTAMP:20251201T000000Z\r\n"
      "DTSTART;VALUE=DATE:20260301\r\n"
      "DURATION:P2D\r\n"
      "SUMMARY:two days\r\n"
      "X-MED-DAY-KIND:holiday\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\n"
      "UID:e@test\r\n"
      "DTSTAMP:20251201T000000Z\r\n"
      "DTSTART;VALUE=DATE:20260105\r\n"
      "SUMMARY:withdrawn\r\n"
      "STATUS:CANCELLED\r\n"
      "X-MED-DAY-KIND:workday\r\n"
      "END:VEVENT\r\n"
      TAIL;
  /* clang-format on */
  g_autoptr (GError) error = NULL;
  g_autoptr (MedNotice) n = med_ical_parse_notice (ics, strlen (ics), &error);

  g_assert_no_error (error);
  g_assert_cmpstr (n->jurisdiction, ==, "CN-TEST");
  g_assert_cmpint (n->layer, ==, MED_LAYER_CENTRE);
  g_assert_cmpstr (n->source, ==, "测试, 第1号");
  g_assert_cmpstr (n->id, ==, "CN-TEST-2026-20251201");
  g_assert_cmpuint (n->days->len, ==, 2 + 1 + 1 + 2);
  g_assert_cmpuint (count_kind (n, MED_DAY_KIND_WORKDAY), ==, 1);
  g_assert_cmpstr (g_array_index (n->days, MedNoticeDay, 3).name, ==,
      "one day, no DTEND; DROP TABLE notice;--");
}

static void
test_hostile_basic (void)
{
  g_autofree char *big = NULL;

  expect_error ("", 0, MED_ICAL_ERROR_PARSE, "empty");
  expect_error ("hello, world\n", -1, MED_ICAL_ERROR_PARSE, NULL);
  expect_error ("{\"notice\": []}", -1, MED_ICAL_ERROR_PARSE, NULL);
  expect_error ("<html><body>404</body></html>\r\n", -1, MED_ICAL_ERROR_PARSE,
      NULL);
  expect_error ("\r\n\r\n\n", -1, MED_ICAL_ERROR_PARSE, NULL);
  expect_error ("BEGIN:VEVENT\r\nEND:VEVENT\r\n", -1, MED_ICAL_ERROR_PARSE,
      "VCALENDAR");
  expect_error ("END:VCALENDAR\r\n", -1, MED_ICAL_ERROR_PARSE, NULL);
  expect_error (" continuation\r\n" HEAD YEAR TAIL, -1, MED_ICAL_ERROR_PARSE,
      NULL);
  expect_error (HEAD YEAR TAIL HEAD YEAR TAIL, -1, MED_ICAL_ERROR_PARSE,
      "one VCALENDAR");
  expect_error (HEAD YEAR TAIL "trailing junk\r\n", -1, MED_ICAL_ERROR_PARSE,
      NULL);
  expect_error (HEAD YEAR "BEGIN:VEVENT\r\nEND:VTODO\r\n" TAIL, -1,
      MED_ICAL_ERROR_PARSE, "does not close");
  expect_error (HEAD YEAR "BEGIN;X=1:VEVENT\r\nEND:VEVENT\r\n" TAIL, -1,
      MED_ICAL_ERROR_PARSE, NULL);
  expect_error ("BEGIN:VCALENDAR\r\n", -1, MED_ICAL_ERROR_PARSE, "truncated");

  /* Oversized: refused before parsing. */
  big = g_malloc (MED_ICAL_MAX_BYTES + 1);
  memset (big, 'A', MED_ICAL_MAX_BYTES + 1);
  expect_error (big, MED_ICAL_MAX_BYTES + 1, MED_ICAL_ERROR_TOO_LARGE, NULL);

  /* One endless line, plain and folded. */
  {
    g_autoptr (GString) s = g_string_new (HEAD YEAR "X-LONG:");

    for (int i = 0; i < 100000; i++)
      g_string_append (s, "0123456789");
    g_string_append (s, "\r\n" TAIL);
    expect_error (s->str, s->len, MED_ICAL_ERROR_PARSE, "longer");
    g_string_assign (s, HEAD YEAR "X-LONG:");
    for (int i = 0; i < 100000; i++)
      g_string_append (s, "0123456789\r\n ");
    g_string_append (s, "\r\n" TAIL);
    expect_error (s->str, s->len, MED_ICAL_ERROR_PARSE, "longer");
  }

  /* Latin-1 (ê as one byte), and an embedded NUL. */
  expect_error (HEAD YEAR EVENT ("a@test", "20260105", "20260106", "holiday")
                    TAIL "X-NOTE:F\xeate\r\n",
      -1, MED_ICAL_ERROR_ENCODING, "UTF-8");
  {
    static const char with_nul[] = HEAD YEAR "X-A:\0b\r\n" TAIL;

    expect_error (with_nul, sizeof with_nul - 1, MED_ICAL_ERROR_ENCODING, NULL);
  }
}

/* A file of nothing but BEGIN lines, and one just deep enough to hurt. */
static void
test_hostile_nesting (void)
{
  g_autoptr (GString) s = g_string_new ("BEGIN:VCALENDAR\r\n");

  while (s->len < MED_ICAL_MAX_BYTES - 64)
    g_string_append (s, "BEGIN:VEVENT\r\n");
  expect_error (s->str, s->len, MED_ICAL_ERROR_PARSE, "nested");

  g_string_assign (s, HEAD YEAR);
  for (int i = 0; i < 6; i++)
    g_string_append (s, "BEGIN:VEVENT\r\n");
  for (int i = 0; i < 6; i++)
    g_string_append (s, "END:VEVENT\r\n");
  g_string_append (s, TAIL);
  expect_error (s->str, s->len, MED_ICAL_ERROR_PARSE, "nested");

  /* Many sibling components. */
  g_string_assign (s, HEAD YEAR);
  for (int i = 0; i < 5000; i++)
    g_string_append (s, "BEGIN:VTODO\r\nEND:VTODO\r\n");
  g_string_append (s, TAIL);
  expect_error (s->str, s->len, MED_ICAL_ERROR_PARSE, "components");
}

static void
test_hostile_events (void)
{
  /* Timed events. */
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:t@test\r\nDTSTART:20260105T090000Z\r\n"
      "SUMMARY:x\r\nX-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "has a time");
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:t@test\r\nDTSTART;VALUE=DATE:20260105\r\n"
      "DTEND:20260106T090000\r\n"
      "SUMMARY:x\r\nX-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "has a time");
  /* A zone nobody defined. */
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:t@test\r\n"
      "DTSTART;TZID=Mars/Olympus:20260105T090000\r\n"
      "SUMMARY:x\r\nX-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "Mars/Olympus");
  /* A zone the file defines, but still a time. */
  expect_error (HEAD YEAR
      "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"
      "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0800\r\n"
      "TZOFFSETTO:+0800\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:t@test\r\n"
      "DTSTART;TZID=Asia/Shanghai:20260105T090000\r\n"
      "SUMMARY:x\r\nX-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "has a time");

  /* Days outside the year, and a range that crosses into the next. */
  expect_error (HEAD YEAR EVENT ("o@test", "20270101", "20270102", "holiday")
                    TAIL,
      -1, MED_ICAL_ERROR_INVALID, "outside");
  expect_error (HEAD YEAR EVENT ("o@test", "20261231", "20270103", "holiday")
                    TAIL,
      -1, MED_ICAL_ERROR_INVALID, "2027-01-01");
  /* Not a date; end before start; too long. */
  expect_error (HEAD YEAR EVENT ("o@test", "20260230", "20260301", "holiday")
                    TAIL,
      -1, MED_ICAL_ERROR_INVALID, "not a real date");
  expect_error (HEAD YEAR EVENT ("o@test", "20260305", "20260301", "holiday")
                    TAIL,
      -1, MED_ICAL_ERROR_INVALID, NULL);
  expect_error (HEAD YEAR EVENT ("o@test", "20260305", "20260305", "holiday")
                    TAIL,
      -1, MED_ICAL_ERROR_INVALID, NULL);
  expect_error (HEAD YEAR EVENT ("o@test", "20260101", "20260301", "holiday")
                    TAIL,
      -1, MED_ICAL_ERROR_INVALID, "days");
  /* Holiday and workday on one day. */
  expect_error (HEAD YEAR EVENT ("h@test", "20260105", "20260108", "holiday")
                    EVENT ("w@test", "20260107", "20260108", "workday") TAIL,
      -1, MED_ICAL_ERROR_INVALID, "2026-01-07");
  /* Unknown or missing day kind, missing pieces. */
  expect_error (HEAD YEAR EVENT ("k@test", "20260105", "20260106", "maybe")
                    TAIL,
      -1, MED_ICAL_ERROR_INVALID, "maybe");
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:k@test\r\nDTSTART;VALUE=DATE:20260105\r\n"
      "SUMMARY:x\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "X-MED-DAY-KIND");
  expect_error (HEAD YEAR "BEGIN:VEVENT\r\nUID:k@test\r\nSUMMARY:x\r\n"
                          "X-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "DTSTART");
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260105\r\nSUMMARY:x\r\n"
      "X-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "UID");
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:k@test\r\nDTSTART;VALUE=DATE:20260105\r\n"
      "X-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "SUMMARY");
  expect_error (HEAD YEAR EVENT ("same@test", "20260105", "20260106", "holiday")
                    EVENT ("same@test", "20260107", "20260108", "holiday") TAIL,
      -1, MED_ICAL_ERROR_INVALID, "twice");
  /* Control characters in a name. */
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:k@test\r\nDTSTART;VALUE=DATE:20260105\r\n"
      "SUMMARY:bad\x01name\r\nX-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, NULL);
  /* Repeating events. */
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:r@test\r\nDTSTART;VALUE=DATE:20260105\r\n"
      "RRULE:FREQ=YEARLY\r\nSUMMARY:x\r\nX-MED-DAY-KIND:holiday\r\n"
      "END:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "repeats");
  /* Other components. */
  expect_error (HEAD YEAR "BEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\n" TAIL, -1,
      MED_ICAL_ERROR_INVALID, "VTODO");
}

static void
test_hostile_calendar (void)
{
  g_autoptr (GString) s = NULL;

  /* Missing X-MED-YEAR, and other missing or bad header properties. */
  expect_error (HEAD EVENT ("a@test", "20260105", "20260106", "holiday") TAIL,
      -1, MED_ICAL_ERROR_INVALID, "X-MED-YEAR");
  expect_error (HEAD "X-MED-YEAR:26\r\n" TAIL, -1, MED_ICAL_ERROR_INVALID,
      "X-MED-YEAR");
  expect_error (HEAD "X-MED-YEAR:1066\r\n" TAIL, -1, MED_ICAL_ERROR_INVALID,
      NULL);
  expect_error (HEAD YEAR "X-MED-YEAR:2027\r\n" TAIL, -1,
      MED_ICAL_ERROR_INVALID, "more than once");
  expect_error ("BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\n"
                "X-MED-JURISDICTION:CN\r\nX-MED-LAYER:national\r\n" YEAR
                "X-MED-SOURCE:x\r\nX-MED-PUBLISHED:2025-12-01\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "NAME");
  expect_error (
      "BEGIN:VCALENDAR\r\nPRODID:x\r\n"
      "NAME:x\r\nX-MED-JURISDICTION:CN\r\nX-MED-LAYER:national\r\n" YEAR
      "X-MED-SOURCE:x\r\nX-MED-PUBLISHED:2025-12-01\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "VERSION");
  expect_error (HEAD YEAR "X-MED-LAYER:galaxy\r\n" TAIL, -1,
      MED_ICAL_ERROR_INVALID, "more than once");
  expect_error ("BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\nNAME:x\r\n"
                "X-MED-JURISDICTION:CN\r\nX-MED-LAYER:galaxy\r\n" YEAR
                "X-MED-SOURCE:x\r\nX-MED-PUBLISHED:2025-12-01\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "galaxy");
  expect_error ("BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\nNAME:x\r\n"
                "X-MED-JURISDICTION:CN XZ\r\nX-MED-LAYER:city\r\n" YEAR
                "X-MED-SOURCE:x\r\nX-MED-PUBLISHED:2025-12-01\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "jurisdiction");
  expect_error ("BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\nNAME:x\r\n"
                "X-MED-JURISDICTION:CN\r\nX-MED-LAYER:city\r\n" YEAR
                "X-MED-SOURCE:x\r\nX-MED-PUBLISHED:2025-02-30\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "publication date");
  expect_error ("BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\nNAME:x\r\n"
                "X-MED-JURISDICTION:CN\r\nX-MED-LAYER:city\r\n" YEAR
                "X-MED-PUBLISHED:2025-02-03\r\n" TAIL,
      -1, MED_ICAL_ERROR_INVALID, "X-MED-SOURCE");

  /* What libical only reports as X-LIC-ERROR. */
  expect_error (HEAD YEAR "FOO:bar\r\n" TAIL, -1, MED_ICAL_ERROR_PARSE, "FOO");
  expect_error (HEAD YEAR
      "BEGIN:VEVENT\r\nUID:k@test\r\nDTSTART;VALUE=DATE:2026\r\n"
      "SUMMARY:x\r\nX-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n" TAIL,
      -1, MED_ICAL_ERROR_PARSE, NULL);

  /* Too many events. */
  s = g_string_new (HEAD YEAR);
  for (int i = 0; i < 401; i++)
    g_string_append_printf (s,
        "BEGIN:VEVENT\r\nUID:%d@test\r\n"
        "DTSTART;VALUE=DATE:20260105\r\nSUMMARY:x\r\n"
        "X-MED-DAY-KIND:holiday\r\nEND:VEVENT\r\n",
        i);
  g_string_append (s, TAIL);
  expect_error (s->str, s->len, MED_ICAL_ERROR_INVALID, "400");
}

/* Random damage to a real notice, with a fixed seed: bytes changed, lines
 * dropped or repeated. Any outcome is fine except a crash, a CRITICAL or
 * an error from another domain. */
static void
test_mutations (void)
{
  static const char *const pieces[]
      = { "\r\n", "\r\n ", ":", ";", "BEGIN:VEVENT\r\n", "END:VEVENT\r\n",
          "END:VCALENDAR\r\n", "TZID=Mars/Olympus", "T090000Z", "\xE8\x97",
          "\\", "\"", "=", "X-MED-DAY-KIND:workday\r\n" };
  gsize len;
  g_autofree char *data = read_calendar ("cn-national-2025.ics", &len);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20260214);

  for (int round = 0; round < 3000; round++) {
    g_autoptr (GString) s = g_string_new_len (data, len);
    g_autoptr (GError) error = NULL;
    g_autoptr (MedNotice) n = NULL;
    int edits = g_rand_int_range (rand, 1, 4);

    for (int e = 0; e < edits && s->len > 0; e++) {
      gsize at = g_rand_int_range (rand, 0, s->len);
      gsize k = g_rand_int_range (rand, 1, 400);

      switch (g_rand_int_range (rand, 0, 4)) {
        case 0:
          s->str[at] = (char) g_rand_int_range (rand, 1, 256);
          break;
        case 1:
          g_string_erase (s, at, MIN (s->len - at, k));
          break;
        case 2:
          g_string_insert (s, at,
              pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
          break;
        default: {
          gsize from = g_rand_int_range (rand, 0, s->len);
          gsize n_copy = MIN (s->len - from, k);
          g_autofree char *copy = g_strndup (s->str + from, n_copy);

          g_string_insert (s, at, copy);
          break;
        }
      }
    }
    n = med_ical_parse_notice (s->str, s->len, &error);
    if (n == NULL) {
      g_assert_nonnull (error);
      g_assert_true (error->domain == MED_ICAL_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    } else {
      g_assert_no_error (error);
      g_assert_true (med_notice_validate (n, NULL));
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ical/notice/shipped/all", test_shipped_all);
  g_test_add_func ("/ical/notice/shipped/national", test_shipped_national);
  g_test_add_func ("/ical/notice/shipped/lhasa", test_shipped_lhasa);
  g_test_add_func ("/ical/notice/line-ends", test_lf_only);
  g_test_add_func ("/ical/notice/minimal", test_minimal_valid);
  g_test_add_func ("/ical/notice/hostile/truncated", test_truncated);
  g_test_add_func ("/ical/notice/hostile/basic", test_hostile_basic);
  g_test_add_func ("/ical/notice/hostile/nesting", test_hostile_nesting);
  g_test_add_func ("/ical/notice/hostile/events", test_hostile_events);
  g_test_add_func ("/ical/notice/hostile/calendar", test_hostile_calendar);
  g_test_add_func ("/ical/notice/hostile/mutations", test_mutations);

  return g_test_run ();
}
