/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-workcal.c — the working calendar: every holiday and make-up working
 * day of the shipped notices, layering, unpublished years, and the UTC
 * working windows of a day.
 *
 * The expected days are written out here again from the notices' texts,
 * so a mistake in the shipped .ics files and a mistake in the code cannot
 * cancel out: every date of 2025 and 2026 is checked against this table. */
#define G_LOG_DOMAIN "medsched-test"

#include <medsched/med-ical.h>
#include <medsched/med-workcal.h>

#include <string.h>

typedef struct
{
  gint year, month, day; /* first day */
  gint n_days;
  MedDayKind kind;
} Span;

#define HOL MED_DAY_KIND_HOLIDAY
#define WRK MED_DAY_KIND_WORKDAY

/* 国办发明电〔2024〕12号 */
static const Span national_2025[] = {
  { 2025, 1, 1, 1, HOL }, /* 元旦 */
  { 2025, 1, 28, 8, HOL }, /* 春节 1/28–2/4 */
  { 2025, 1, 26, 1, WRK }, /* Sun */
  { 2025, 2, 8, 1, WRK }, /* Sat */
  { 2025, 4, 4, 3, HOL }, /* 清明节 */
  { 2025, 5, 1, 5, HOL }, /* 劳动节 */
  { 2025, 4, 27, 1, WRK }, /* Sun */
  { 2025, 5, 31, 3, HOL }, /* 端午节 5/31–6/2 */
  { 2025, 10, 1, 8, HOL }, /* 国庆节、中秋节 */
  { 2025, 9, 28, 1, WRK }, /* Sun */
  { 2025, 10, 11, 1, WRK }, /* Sat */
};

/* 国办发明电〔2025〕7号 */
static const Span national_2026[] = {
  { 2026, 1, 1, 3, HOL }, /* 元旦 */
  { 2026, 1, 4, 1, WRK }, /* Sun */
  { 2026, 2, 15, 9, HOL }, /* 春节 2/15–2/23 */
  { 2026, 2, 14, 1, WRK }, /* Sat */
  { 2026, 2, 28, 1, WRK }, /* Sat */
  { 2026, 4, 4, 3, HOL }, /* 清明节 */
  { 2026, 5, 1, 5, HOL }, /* 劳动节 */
  { 2026, 5, 9, 1, WRK }, /* Sat */
  { 2026, 6, 19, 3, HOL }, /* 端午节 */
  { 2026, 9, 25, 3, HOL }, /* 中秋节 */
  { 2026, 10, 1, 7, HOL }, /* 国庆节 */
  { 2026, 9, 20, 1, WRK }, /* Sun */
  { 2026, 10, 10, 1, WRK }, /* Sat */
};

/* 拉萨市人民政府办公室: 藏历新年 2025; 春节、藏历新年 2026 */
static const Span lhasa[] = {
  { 2025, 2, 27, 6, HOL },
  { 2026, 2, 15, 12, HOL },
  { 2026, 2, 14, 1, WRK },
  { 2026, 2, 28, 1, WRK },
};

/* 0 = nothing declared, else 1 + kind. */
static gint
expected_kind (const Span *spans, guint n, gint y, gint m, gint d)
{
  g_autoptr (GDate) day = g_date_new_dmy (d, m, y);
  gint kind = 0;

  for (guint i = 0; i < n; i++) {
    g_autoptr (GDate) first
        = g_date_new_dmy (spans[i].day, spans[i].month, spans[i].year);
    gint off = g_date_days_between (first, day);

    if (off >= 0 && off < spans[i].n_days)
      kind = 1 + spans[i].kind;
  }
  return kind;
}

static char *
calendars_dir (void)
{
  const char *env = g_getenv ("MEDSCHED_CALENDARS");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  return g_test_build_filename (G_TEST_DIST, "..", "calendars", NULL);
}

static MedNotice *
load_notice (const char *file)
{
  g_autofree char *dir = calendars_dir ();
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  MedNotice *n;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  n = med_ical_parse_notice (data, len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (n);
  return n;
}

static MedWorkcal *
shipped_workcal (void)
{
  static const char *const files[] = { "cn-national-2025.ics",
    "cn-national-2026.ics", "cn-xz-lhasa-2025.ics", "cn-xz-lhasa-2026.ics" };
  MedWorkcal *wc = med_workcal_new ();

  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autoptr (MedNotice) n = load_notice (files[i]);
    g_autoptr (GError) error = NULL;

    g_assert_true (med_workcal_add_notice (wc, n, &error));
    g_assert_no_error (error);
  }
  return wc;
}

static void
check_day (const MedWorkcal *wc, const char *layers, gint y, gint m, gint d,
    gboolean working)
{
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  g_assert_true (med_workcal_day_info (wc, layers, y, m, d, &info, &error));
  g_assert_no_error (error);
  if (info.working != working)
    g_error ("%04d-%02d-%02d under %s: expected %s", y, m, d, layers,
        working ? "working" : "not working");
}

/* Every day of 2025 and 2026 under the national layer alone and under
 * national + Lhasa. */
static void
test_every_day (void)
{
  g_autoptr (MedWorkcal) wc = shipped_workcal ();
  guint n_holiday = 0, n_makeup = 0;

  for (gint y = 2025; y <= 2026; y++) {
    const Span *nat = y == 2025 ? national_2025 : national_2026;
    guint n_nat = y == 2025 ? G_N_ELEMENTS (national_2025)
                            : G_N_ELEMENTS (national_2026);

    for (gint m = 1; m <= 12; m++) {
      for (gint d = 1; d <= g_date_get_days_in_month (m, y); d++) {
        g_autoptr (GDate) date = g_date_new_dmy (d, m, y);
        gboolean weekend = g_date_get_weekday (date) >= G_DATE_SATURDAY;
        gint k_nat = expected_kind (nat, n_nat, y, m, d);
        gint k_ls = expected_kind (lhasa, G_N_ELEMENTS (lhasa), y, m, d);
        gint k_both = k_ls != 0 ? k_ls : k_nat;
        g_autoptr (GError) error = NULL;
        MedDayInfo info;

        g_assert_true (med_workcal_day_info (wc, "CN", y, m, d, &info, &error));
        g_assert_no_error (error);
        g_assert_cmpint (info.weekend, ==, weekend);
        if (k_nat == 0) {
          g_assert_cmpint (info.working, ==, !weekend);
          g_assert_false (info.holiday);
          g_assert_false (info.makeup);
          g_assert_null (info.name);
          g_assert_null (info.jurisdiction);
        } else {
          g_assert_cmpint (info.working, ==, k_nat == 1 + WRK);
          g_assert_cmpint (info.holiday, ==, k_nat == 1 + HOL);
          g_assert_cmpint (info.makeup, ==, k_nat == 1 + WRK);
          g_assert_nonnull (info.name);
          g_assert_cmpstr (info.jurisdiction, ==, "CN");
          if (k_nat == 1 + HOL)
            n_holiday++;
          else
            n_makeup++;
        }
        /* Make-up days all fall on weekends, holidays' days vary. */
        if (k_nat == 1 + WRK)
          g_assert_true (weekend);

        check_day (wc, "CN,CN-XZ-LS", y, m, d,
            k_both == 0 ? !weekend : k_both == 1 + WRK);
        g_assert_true (
            med_workcal_day_info (wc, "CN,CN-XZ-LS", y, m, d, &info, &error));
        if (k_ls != 0)
          g_assert_cmpstr (info.jurisdiction, ==, "CN-XZ-LS");
      }
    }
  }
  /* 2025: 28 holiday days, 5 make-up; 2026: 33 and 6. */
  g_assert_cmpuint (n_holiday, ==, 28 + 33);
  g_assert_cmpuint (n_makeup, ==, 5 + 6);
}

/* The cases named in the notices, spelt out. */
static void
test_named_days (void)
{
  g_autoptr (MedWorkcal) wc = shipped_workcal ();
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  check_day (wc, "CN", 2026, 2, 14, TRUE); /* Sat, 春节调休上班 */
  check_day (wc, "CN", 2026, 2, 23, FALSE); /* Mon, 春节 */
  check_day (wc, "CN", 2026, 2, 24, TRUE); /* Tue after 春节 */
  check_day (wc, "CN", 2025, 1, 26, TRUE); /* Sun, 调休上班 */
  check_day (wc, "CN", 2026, 10, 10, TRUE); /* Sat, 国庆节调休上班 */
  check_day (wc, "CN", 2026, 3, 7, FALSE); /* an ordinary Saturday */
  check_day (wc, "CN", 2026, 3, 11, TRUE); /* an ordinary Wednesday */
  check_day (wc, "CN", 2025, 1, 1, FALSE); /* 元旦, Wed */
  check_day (wc, "CN", 2025, 1, 2, TRUE); /* no make-up for 元旦 2025 */
  check_day (wc, "CN", 2025, 10, 8, FALSE); /* 国庆节、中秋节 day 8 */
  check_day (wc, "CN", 2025, 10, 9, TRUE);

  /* Lhasa merges 春节 and 藏历新年 in 2026 up to 2/26. */
  for (gint d = 24; d <= 26; d++) {
    check_day (wc, "CN,CN-XZ-LS", 2026, 2, d, FALSE);
    check_day (wc, "CN", 2026, 2, d, TRUE);
  }
  check_day (wc, "CN,CN-XZ-LS", 2026, 2, 27, TRUE);
  check_day (wc, "CN,CN-XZ-LS", 2026, 2, 28, TRUE); /* Sat, 调休上班 */
  check_day (wc, "CN,CN-XZ-LS", 2026, 2, 14, TRUE);

  /* 藏历新年 2025: 2/27–3/4, no make-up days. */
  for (gint d = 27; d <= 28; d++)
    check_day (wc, "CN,CN-XZ-LS", 2025, 2, d, FALSE);
  for (gint d = 1; d <= 4; d++)
    check_day (wc, "CN,CN-XZ-LS", 2025, 3, d, FALSE);
  check_day (wc, "CN", 2025, 3, 3, TRUE); /* Monday, national only */
  check_day (wc, "CN,CN-XZ-LS", 2025, 3, 5, TRUE);

  g_assert_true (
      med_workcal_day_info (wc, "CN,CN-XZ-LS", 2025, 3, 3, &info, &error));
  g_assert_no_error (error);
  g_assert_false (info.working);
  g_assert_true (info.holiday);
  g_assert_false (info.weekend);
  g_assert_cmpstr (info.name, ==, "藏历新年");
  g_assert_cmpstr (info.jurisdiction, ==, "CN-XZ-LS");

  g_assert_true (
      med_workcal_day_info (wc, " CN , CN-XZ-LS ", 2026, 2, 14, &info, &error));
  g_assert_true (info.working);
  g_assert_true (info.makeup);
  g_assert_true (info.weekend);
  g_assert_cmpstr (info.jurisdiction, ==, "CN-XZ-LS");
}

static void
test_unpublished (void)
{
  g_autoptr (MedWorkcal) wc = shipped_workcal ();
  g_autoptr (MedNotice) cn27 = med_notice_new ();
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  g_assert_false (med_workcal_day_info (wc, "CN", 2027, 3, 3, &info, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_UNPUBLISHED);
  g_assert_nonnull (strstr (error->message, "CN in 2027"));
  g_assert_nonnull (strstr (error->message, "medsched calendar import"));
  g_clear_error (&error);

  g_assert_false (med_workcal_is_published (wc, "CN", 2027));
  g_assert_true (med_workcal_is_published (wc, "CN", 2026));
  g_assert_true (med_workcal_is_published (wc, "CN-XZ-LS", 2025));
  g_assert_false (med_workcal_is_published (wc, "CN-XZ", 2026));

  /* National 2027 published with nothing special; Lhasa 2027 not yet. */
  cn27->jurisdiction = g_strdup ("CN");
  cn27->year = 2027;
  cn27->title = g_strdup ("test");
  cn27->source = g_strdup ("test");
  cn27->published = g_strdup ("2026-11-01");
  g_assert_true (med_workcal_add_notice (wc, cn27, &error));
  g_assert_no_error (error);
  g_assert_true (med_workcal_day_info (wc, "CN", 2027, 3, 3, &info, &error));
  g_assert_no_error (error);
  g_assert_true (info.working);
  g_assert_false (
      med_workcal_day_info (wc, "CN,CN-XZ-LS", 2027, 3, 3, &info, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_UNPUBLISHED);
  g_assert_cmpstr (error->message, ==,
      "no holiday calendar published for CN-XZ-LS in 2027; import the "
      "notice with `medsched calendar import FILE.ics`");
  g_clear_error (&error);

  /* Optional layer: missing is fine. */
  g_assert_true (
      med_workcal_day_info (wc, "CN,CN-XZ-LS?", 2027, 3, 3, &info, &error));
  g_assert_no_error (error);
  g_assert_true (info.working);
  /* An optional layer that is published still applies. */
  check_day (wc, "CN,CN-XZ-LS?", 2026, 2, 25, FALSE);
  check_day (wc, "CN,centre-9?", 2026, 2, 25, TRUE);
  /* The day windows fail the same way. */
  {
    g_autoptr (MedCentre) c = med_centre_new_default ();
    MedInterval w[2];
    guint n = 99;

    g_free (c->layers);
    c->layers = g_strdup ("CN,CN-XZ-LS");
    g_assert_false (med_workcal_day_windows (wc, c, 2027, 3, 3, w, &n, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_UNPUBLISHED);
    g_assert_cmpuint (n, ==, 0);
  }
}

static MedNotice *
make_notice (const char *jurisdiction, gint year)
{
  MedNotice *n = med_notice_new ();

  n->id = g_strdup_printf ("%s-%d", jurisdiction, year);
  n->jurisdiction = g_strdup (jurisdiction);
  n->layer = MED_LAYER_CENTRE;
  n->year = year;
  n->title = g_strdup ("测试通知");
  n->source = g_strdup ("test");
  n->published = g_strdup ("2029-12-01");
  return n;
}

static void
test_layers_override (void)
{
  g_autoptr (MedWorkcal) wc = med_workcal_new ();
  g_autoptr (MedNotice) nat = make_notice ("CN", 2030);
  g_autoptr (MedNotice) centre = make_notice ("centre-1", 2030);
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  /* 2030-01-07 is a Monday, 2030-01-05 a Saturday. */
  med_notice_add_day (nat, 2030, 1, 7, HOL, "national holiday");
  med_notice_add_day (nat, 2030, 1, 5, WRK, "national make-up");
  med_notice_add_day (centre, 2030, 1, 7, WRK, "centre open");
  med_notice_add_day (centre, 2030, 1, 5, HOL, "centre closed");
  g_assert_true (med_workcal_add_notice (wc, nat, &error));
  g_assert_true (med_workcal_add_notice (wc, centre, &error));
  g_assert_no_error (error);

  check_day (wc, "CN", 2030, 1, 7, FALSE);
  check_day (wc, "CN", 2030, 1, 5, TRUE);
  check_day (wc, "CN,centre-1", 2030, 1, 7, TRUE);
  check_day (wc, "CN,centre-1", 2030, 1, 5, FALSE);
  /* Order matters: the later layer wins. */
  check_day (wc, "centre-1,CN", 2030, 1, 7, FALSE);

  g_assert_true (
      med_workcal_day_info (wc, "CN,centre-1", 2030, 1, 7, &info, &error));
  g_assert_cmpstr (info.jurisdiction, ==, "centre-1");
  g_assert_cmpstr (info.name, ==, "centre open");
  g_assert_true (info.makeup);
  g_assert_false (info.holiday);
}

/* Several notices for one jurisdiction-year add up; a later declaration of
 * the same day replaces the earlier one. */
static void
test_notices_accumulate (void)
{
  g_autoptr (MedWorkcal) wc = med_workcal_new ();
  g_autoptr (MedNotice) losar = make_notice ("CN-XZ-LS", 2030);
  g_autoptr (MedNotice) shoton = make_notice ("CN-XZ-LS", 2030);
  g_autoptr (MedNotice) fix = make_notice ("CN-XZ-LS", 2030);
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  med_notice_add_day (losar, 2030, 3, 5, HOL, "藏历新年");
  med_notice_add_day (shoton, 2030, 8, 13, HOL, "雪顿节");
  med_notice_add_day (fix, 2030, 3, 5, WRK, "更正");
  g_assert_true (med_workcal_add_notice (wc, losar, &error));
  g_assert_true (med_workcal_add_notice (wc, shoton, &error));
  g_assert_no_error (error);
  check_day (wc, "CN-XZ-LS", 2030, 3, 5, FALSE);
  check_day (wc, "CN-XZ-LS", 2030, 8, 13, FALSE);
  check_day (wc, "CN-XZ-LS", 2030, 8, 14, TRUE);

  g_assert_true (med_workcal_add_notice (wc, fix, &error));
  g_assert_true (
      med_workcal_day_info (wc, "CN-XZ-LS", 2030, 3, 5, &info, &error));
  g_assert_true (info.working);
  g_assert_cmpstr (info.name, ==, "更正");
  check_day (wc, "CN-XZ-LS", 2030, 8, 13, FALSE);
}

static void
test_bad_input (void)
{
  g_autoptr (MedWorkcal) wc = shipped_workcal ();
  static const char *const bad_lists[] = { "", ",", "CN,", ",CN", "CN,,CN", "?",
    "CN XZ", "CN;DROP TABLE", "中国",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
  MedDayInfo info;

  for (guint i = 0; i < G_N_ELEMENTS (bad_lists); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_false (
        med_workcal_day_info (wc, bad_lists[i], 2026, 3, 3, &info, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad_lists); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_false (med_workcal_check_layers (bad_lists[i], &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
  }
  g_assert_true (med_workcal_check_layers ("CN", NULL));
  g_assert_true (med_workcal_check_layers ("CN, CN-XZ-LS ,centre_1.b?", NULL));
  /* A bad list is reported as bad even when an earlier layer is
   * unpublished: the CLI checks lists against an empty calendar. */
  {
    g_autoptr (MedWorkcal) empty = med_workcal_new ();
    g_autoptr (GError) error = NULL;

    g_assert_false (
        med_workcal_day_info (empty, "CN,,X", 2026, 1, 5, &info, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (
        med_workcal_day_info (empty, "CN,X?", 2026, 1, 5, &info, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_UNPUBLISHED);
    g_assert_nonnull (strstr (error->message, "for CN in 2026"));
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (med_workcal_day_info (wc, NULL, 2026, 3, 3, &info, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (
        med_workcal_day_info (wc, "CN", 2026, 2, 29, &info, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (
        med_workcal_day_info (wc, "CN", 2026, 13, 1, &info, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
  }
}

static void
test_notice_validate (void)
{
  g_autoptr (GError) error = NULL;
  MedLayer layer;

  {
    g_autoptr (MedNotice) n = make_notice ("CN", 2030);

    med_notice_add_day (n, 2030, 1, 7, HOL, "a");
    med_notice_add_day (n, 2030, 1, 7, HOL, "again, same kind");
    g_assert_true (med_notice_validate (n, &error));
    g_assert_no_error (error);
    med_notice_add_day (n, 2030, 1, 7, WRK, "b");
    g_assert_false (med_notice_validate (n, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
  }
  {
    g_autoptr (MedNotice) n = make_notice ("CN", 2030);
    g_autoptr (MedWorkcal) wc = med_workcal_new ();

    med_notice_add_day (n, 2031, 1, 7, HOL, "next year");
    g_assert_false (med_notice_validate (n, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (med_workcal_add_notice (wc, n, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (med_workcal_is_published (wc, "CN", 2030));
  }
  {
    g_autoptr (MedNotice) n = make_notice ("CN", 2030);

    med_notice_add_day (n, 2030, 2, 29, HOL, "no such day");
    g_assert_false (med_notice_validate (n, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
  }
  {
    g_autoptr (MedNotice) n = make_notice ("CN", 2030);

    g_clear_pointer (&n->published, g_free);
    n->published = g_strdup ("2030-1-01");
    g_assert_false (med_notice_validate (n, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
  }
  {
    g_autoptr (MedNotice) n = make_notice ("CN", 2030);

    g_clear_pointer (&n->title, g_free);
    g_assert_false (med_notice_validate (n, &error));
    g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
    g_clear_error (&error);
  }

  g_assert_true (med_layer_from_string ("city", &layer, &error));
  g_assert_cmpint (layer, ==, MED_LAYER_CITY);
  g_assert_cmpstr (med_layer_to_string (MED_LAYER_CENTRE), ==, "centre");
  g_assert_false (med_layer_from_string ("planet", &layer, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
}

/* Centre timetable: Monday 09:00–12:00 and 14:30–18:00 (the default),
 * Tuesday 08:30–17:00 without lunch, Wednesday closed. */
static MedCentre *
make_centre (void)
{
  MedCentre *c = med_centre_new_default ();
  MedDayHours tue = { 8 * 60 + 30, 17 * 60, 0, 0 };
  MedDayHours closed = { 0, 0, 0, 0 };

  g_free (c->layers);
  c->layers = g_strdup ("CN,CN-XZ-LS");
  c->hours[1] = tue;
  c->hours[2] = closed;
  return c;
}

static MedTime
utc (gint y, gint mo, gint d, gint h, gint mi)
{
  g_autoptr (GDateTime) dt = g_date_time_new_utc (y, mo, d, h, mi, 0);

  return g_date_time_to_unix (dt);
}

static void
test_day_windows (void)
{
  g_autoptr (MedWorkcal) wc = shipped_workcal ();
  g_autoptr (MedCentre) c = make_centre ();
  g_autoptr (GError) error = NULL;
  MedInterval w[2];
  guint n = 99;

  /* Monday 2026-03-02: 09:00 local = 01:00 UTC. */
  g_assert_true (med_workcal_day_windows (wc, c, 2026, 3, 2, w, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (w[0].start, ==, utc (2026, 3, 2, 1, 0));
  g_assert_cmpint (w[0].end, ==, utc (2026, 3, 2, 4, 0));
  g_assert_cmpint (w[1].start, ==, utc (2026, 3, 2, 6, 30));
  g_assert_cmpint (w[1].end, ==, utc (2026, 3, 2, 10, 0));

  /* Tuesday: one window. */
  g_assert_true (med_workcal_day_windows (wc, c, 2026, 3, 3, w, &n, &error));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (w[0].start, ==, utc (2026, 3, 3, 0, 30));
  g_assert_cmpint (w[0].end, ==, utc (2026, 3, 3, 9, 0));

  /* Wednesday: closed. */
  g_assert_true (med_workcal_day_windows (wc, c, 2026, 3, 4, w, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 0);

  /* An ordinary Saturday, a holiday Monday. */
  g_assert_true (med_workcal_day_windows (wc, c, 2026, 3, 7, w, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_true (med_workcal_day_windows (wc, c, 2026, 2, 23, w, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  /* Lhasa's extra Tuesday off. */
  g_assert_true (med_workcal_day_windows (wc, c, 2026, 2, 24, w, &n, &error));
  g_assert_cmpuint (n, ==, 0);

  /* Make-up Saturday 2026-02-28 keeps Monday's hours. */
  g_assert_true (med_workcal_day_windows (wc, c, 2026, 2, 28, w, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (w[0].start, ==, utc (2026, 2, 28, 1, 0));
  g_assert_cmpint (w[1].end, ==, utc (2026, 2, 28, 10, 0));
  /* Make-up Sunday 2025-01-26 likewise. */
  g_assert_true (med_workcal_day_windows (wc, c, 2025, 1, 26, w, &n, &error));
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (w[0].start, ==, utc (2025, 1, 26, 1, 0));

  /* Unknown zone. */
  g_free (c->zone);
  c->zone = g_strdup ("Mars/Olympus");
  g_assert_false (med_workcal_day_windows (wc, c, 2026, 3, 2, w, &n, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_ZONE);
  g_assert_cmpuint (n, ==, 0);
  g_clear_error (&error);
  g_free (c->zone);
  c->zone = g_strdup ("/etc/passwd");
  g_assert_false (med_workcal_day_windows (wc, c, 2026, 3, 2, w, &n, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_ZONE);
  g_clear_error (&error);

  /* Inconsistent hours are an error, not a guess. */
  g_free (c->zone);
  c->zone = g_strdup ("Asia/Shanghai");
  c->hours[0].lunch_start_min = 19 * 60;
  c->hours[0].lunch_end_min = 20 * 60;
  g_assert_false (med_workcal_day_windows (wc, c, 2026, 3, 2, w, &n, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
}

/* A zone with daylight saving: Europe/Berlin moves from +01:00 to +02:00 on
 * 2026-03-29 (a Sunday) and back on 2026-10-25. */
static void
test_dst_zone (void)
{
  g_autoptr (GError) error = NULL;
  MedTime t;
  gint y, m, d;

  g_assert_true (med_workcal_local_to_utc ("Europe/Berlin", 2026, 3, 27, 9 * 60,
      &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, utc (2026, 3, 27, 8, 0));
  g_assert_true (med_workcal_local_to_utc ("Europe/Berlin", 2026, 3, 30, 9 * 60,
      &t, &error));
  g_assert_cmpint (t, ==, utc (2026, 3, 30, 7, 0));
  g_assert_true (med_workcal_local_to_utc ("Europe/Berlin", 2026, 10, 26,
      9 * 60, &t, &error));
  g_assert_cmpint (t, ==, utc (2026, 10, 26, 8, 0));

  /* Local dates around midnight. */
  g_assert_true (med_workcal_local_date ("Europe/Berlin",
      utc (2026, 6, 30, 22, 30), &y, &m, &d, &error));
  g_assert_cmpint (m, ==, 7);
  g_assert_cmpint (d, ==, 1);
  g_assert_true (med_workcal_local_date ("Asia/Shanghai",
      utc (2026, 2, 13, 16, 30), &y, &m, &d, &error));
  g_assert_cmpint (y, ==, 2026);
  g_assert_cmpint (m, ==, 2);
  g_assert_cmpint (d, ==, 14);
  g_assert_true (med_workcal_local_date ("Asia/Shanghai",
      utc (2026, 2, 13, 15, 59), &y, &m, &d, &error));
  g_assert_cmpint (d, ==, 13);

  /* 24:00 is the next midnight, across a year end. */
  g_assert_true (med_workcal_local_to_utc ("Asia/Shanghai", 2025, 12, 31,
      24 * 60, &t, &error));
  g_assert_cmpint (t, ==, utc (2025, 12, 31, 16, 0));
  g_assert_false (
      med_workcal_local_to_utc ("Asia/Shanghai", 2025, 2, 29, 0, &t, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (
      med_workcal_local_to_utc ("Nowhere/Atlantis", 2025, 2, 1, 0, &t, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_ZONE);
  g_clear_error (&error);
  /* Outputs are optional: callers use this to check a zone name. */
  g_assert_true (
      med_workcal_local_date ("Asia/Shanghai", 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (med_workcal_local_date (NULL, 0, &y, &m, &d, &error));
  g_assert_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_ZONE);
}

/* The scheduler asks for every day of a search; ten years of days from
 * several threads must be quick and agree. */
static gpointer
scan_years_cb (gpointer data)
{
  const MedWorkcal *wc = data;
  g_autoptr (MedCentre) c = make_centre ();
  guint64 total = 0;

  for (gint round = 0; round < 20; round++) {
    for (gint y = 2025; y <= 2026; y++) {
      for (gint doy = 1; doy <= 365; doy++) {
        g_autoptr (GDate) date = g_date_new_dmy (1, 1, y);
        MedInterval w[2];
        guint n;

        g_date_add_days (date, doy - 1);
        if (!med_workcal_day_windows (wc, c, y, g_date_get_month (date),
                g_date_get_day (date), w, &n, NULL))
          return GUINT_TO_POINTER (0);
        total += n;
      }
    }
  }
  return GUINT_TO_POINTER ((guint) total);
}

static void
test_threads (void)
{
  g_autoptr (MedWorkcal) wc = shipped_workcal ();
  GThread *threads[4];
  guint first = 0;

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("scan", scan_years_cb, wc);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++) {
    guint total = GPOINTER_TO_UINT (g_thread_join (threads[i]));

    g_assert_cmpuint (total, >, 0);
    if (i == 0)
      first = total;
    g_assert_cmpuint (total, ==, first);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/workcal/national/every-day", test_every_day);
  g_test_add_func ("/workcal/national/named-days", test_named_days);
  g_test_add_func ("/workcal/layers/unpublished", test_unpublished);
  g_test_add_func ("/workcal/layers/override", test_layers_override);
  g_test_add_func ("/workcal/layers/accumulate", test_notices_accumulate);
  g_test_add_func ("/workcal/layers/bad-input", test_bad_input);
  g_test_add_func ("/workcal/notice/validate", test_notice_validate);
  g_test_add_func ("/workcal/windows/shanghai", test_day_windows);
  g_test_add_func ("/workcal/windows/dst-zone", test_dst_zone);
  g_test_add_func ("/workcal/windows/threads", test_threads);

  return g_test_run ();
}
