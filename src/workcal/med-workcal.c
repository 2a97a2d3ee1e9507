/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-workcal.c — the working calendar: which local dates a centre works
 * on, and the opening windows of each such date in UTC.
 *
 * Holiday notices are stored per jurisdiction, and within a jurisdiction
 * per year as a table of 366 day slots (day of year → holiday, make-up
 * working day or nothing). Looking a date up is one hash lookup for the
 * jurisdiction, a scan of its few years and an array index, so the
 * scheduler can ask about every day of a long search cheaply. A layer list
 * such as "CN,CN-XZ-LS,centre-1?" is walked left to right and the last
 * layer that names the date decides; a layer without a notice for the
 * year makes the date unknown (never guessed) unless it is marked
 * optional with a trailing '?'.
 *
 * A MedWorkcal is filled once and then only read: concurrent readers are
 * safe, adding a notice while others read is not. Time zones are looked up
 * through a small process-wide cache guarded by a mutex. */
#define G_LOG_DOMAIN "medsched-workcal"

#include <medsched/med-workcal.h>

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK (med-workcal-error-quark, med_workcal_error)
/* clang-format on */

/* Jurisdiction ids and notice ids: short ASCII words. */
#define MAX_ID_BYTES        64
#define MAX_NOTICE_ID_BYTES 128
/* Years a notice may describe. */
#define MIN_YEAR 1970
#define MAX_YEAR 2199
/* Zone cache: zone names come from configuration, so a handful at most. */
#define MAX_CACHED_ZONES 64

static const char *const layer_words[]
    = { "national", "region", "city", "centre" };
G_STATIC_ASSERT (G_N_ELEMENTS (layer_words) == MED_LAYER_N);

/* One day slot of a jurisdiction-year. name points into the year's string
 * chunk. */
typedef struct
{
  gboolean set;
  MedDayKind kind;
  const char *name;
} DaySlot;

typedef struct
{
  gint year;
  const char *jurisdiction; /* the owning Jurisdiction's name */
  GStringChunk *names;
  DaySlot days[366];
} YearTable;

typedef struct
{
  char *name;
  GPtrArray *years; /* of YearTable*, few entries */
} Jurisdiction;

struct _MedWorkcal
{
  GHashTable *jurisdictions; /* name → Jurisdiction* */
};

/* ---- layers ---------------------------------------------------------- */

const char *
med_layer_to_string (MedLayer l)
{
  if ((guint) l >= MED_LAYER_N)
    return "unknown";
  return layer_words[l];
}

gboolean
med_layer_from_string (const char *s, MedLayer *out, GError **error)
{
  for (guint i = 0; s != NULL && i < MED_LAYER_N; i++) {
    if (strcmp (s, layer_words[i]) == 0) {
      *out = (MedLayer) i;
      return TRUE;
    }
  }
  g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
      "unknown layer “%s” (expected national, region, city or centre)",
      s != NULL && g_utf8_validate (s, -1, NULL) && strlen (s) <= 32 ? s : "?");
  return FALSE;
}

/* ---- dates ----------------------------------------------------------- */

static gboolean
is_leap (gint y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static gint
days_in_month (gint y, gint m)
{
  static const gint8 n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  return m == 2 && is_leap (y) ? 29 : n[m - 1];
}

static gboolean
check_date (gint y, gint m, gint d)
{
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1
      && d <= days_in_month (y, m);
}

/* 0-based day of the year; the date must be valid. */
static gint
day_of_year (gint y, gint m, gint d)
{
  static const gint16 before[]
      = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };

  return before[m - 1] + (m > 2 && is_leap (y) ? 1 : 0) + d - 1;
}

/* 0 = Monday … 6 = Sunday (Sakamoto's method); the date must be valid. */
static gint
weekday_of (gint y, gint m, gint d)
{
  static const gint8 t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
  gint w;

  if (m < 3)
    y -= 1;
  w = (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7; /* 0 = Sunday */
  return (w + 6) % 7;
}

static gboolean
check_word (const char *s, gsize max_bytes)
{
  gsize n = s != NULL ? strlen (s) : 0;

  if (n == 0 || n > max_bytes)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isalnum (s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_id (const char *s)
{
  return check_word (s, MAX_ID_BYTES);
}

/* Strict "YYYY-MM-DD" naming a real date. */
static gboolean
parse_iso_date (const char *s, gint *year, gint *month, gint *day)
{
  gint v[3] = { 0 };
  static const gint widths[] = { 4, 2, 2 };
  const char *p = s;

  if (s == NULL || strlen (s) != 10)
    return FALSE;
  for (guint i = 0; i < 3; i++) {
    for (gint k = 0; k < widths[i]; k++, p++) {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      v[i] = v[i] * 10 + (*p - '0');
    }
    if (i < 2 && *p++ != '-')
      return FALSE;
  }
  if (!check_date (v[0], v[1], v[2]))
    return FALSE;
  if (year != NULL)
    *year = v[0];
  if (month != NULL)
    *month = v[1];
  if (day != NULL)
    *day = v[2];
  return TRUE;
}

/* ---- notices --------------------------------------------------------- */

static void
clear_notice_day (gpointer p)
{
  MedNoticeDay *d = p;

  g_clear_pointer (&d->name, g_free);
}

MedNotice *
med_notice_new (void)
{
  MedNotice *n = g_new0 (MedNotice, 1);

  n->layer = MED_LAYER_NATIONAL;
  n->days = g_array_new (FALSE, TRUE, sizeof (MedNoticeDay));
  g_array_set_clear_func (n->days, clear_notice_day);
  return n;
}

void
med_notice_free (MedNotice *n)
{
  if (n == NULL)
    return;
  g_free (n->id);
  g_free (n->jurisdiction);
  g_free (n->title);
  g_free (n->source);
  g_free (n->published);
  g_clear_pointer (&n->days, g_array_unref);
  g_free (n);
}

void
med_notice_add_day (MedNotice *n, gint year, gint month, gint day,
    MedDayKind kind, const char *name)
{
  MedNoticeDay d = { year, month, day, kind, g_strdup (name) };

  g_return_if_fail (n != NULL);
  g_array_append_val (n->days, d);
}

static gboolean
check_text (const char *s, gsize max_bytes, gboolean allow_empty,
    const char *field, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (med_validate_text (s, max_bytes, FALSE, allow_empty, field, &local))
    return TRUE;
  g_set_error_literal (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
      local->message);
  return FALSE;
}

gboolean
med_notice_validate (const MedNotice *n, GError **error)
{
  /* Kind seen per day of the year: 0 none, 1 + MedDayKind otherwise. */
  guint8 seen[366] = { 0 };

  g_return_val_if_fail (n != NULL, FALSE);

  if (!check_id (n->jurisdiction)) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "notice jurisdiction must be 1–%d ASCII letters, digits, '-', '_' "
        "or '.' (e.g. CN, CN-XZ-LS)",
        MAX_ID_BYTES);
    return FALSE;
  }
  if (n->id != NULL && !check_word (n->id, MAX_NOTICE_ID_BYTES)) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "notice id must be 1–%d ASCII letters, digits, '-', '_' or '.'",
        MAX_NOTICE_ID_BYTES);
    return FALSE;
  }
  if ((guint) n->layer >= MED_LAYER_N) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "notice for %s has an invalid layer", n->jurisdiction);
    return FALSE;
  }
  if (n->year < MIN_YEAR || n->year > MAX_YEAR) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "notice for %s has year %d (expected %d–%d)", n->jurisdiction, n->year,
        MIN_YEAR, MAX_YEAR);
    return FALSE;
  }
  if (!check_text (n->title, MED_MAX_NAME_BYTES, FALSE, "notice title", error)
      || !check_text (n->source, MED_MAX_TEXT_BYTES, FALSE, "notice source",
          error))
    return FALSE;
  if (!parse_iso_date (n->published, NULL, NULL, NULL)) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "notice for %s %d: publication date must be a real date written "
        "YYYY-MM-DD",
        n->jurisdiction, n->year);
    return FALSE;
  }
  for (guint i = 0; n->days != NULL && i < n->days->len; i++) {
    const MedNoticeDay *d = &g_array_index (n->days, MedNoticeDay, i);
    gint doy;

    if (!check_date (d->year, d->month, d->day)) {
      g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
          "notice for %s %d lists %04d-%02d-%02d, which is not a date",
          n->jurisdiction, n->year, d->year, d->month, d->day);
      return FALSE;
    }
    if (d->year != n->year) {
      g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
          "notice for %s %d lists %04d-%02d-%02d, outside its year",
          n->jurisdiction, n->year, d->year, d->month, d->day);
      return FALSE;
    }
    if (d->kind != MED_DAY_KIND_HOLIDAY && d->kind != MED_DAY_KIND_WORKDAY) {
      g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
          "notice for %s %d: %04d-%02d-%02d has an invalid kind",
          n->jurisdiction, n->year, d->year, d->month, d->day);
      return FALSE;
    }
    if (!check_text (d->name, MED_MAX_NAME_BYTES, TRUE, "day name", error))
      return FALSE;
    doy = day_of_year (d->year, d->month, d->day);
    if (seen[doy] != 0 && seen[doy] != 1 + d->kind) {
      g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
          "notice for %s %d declares %04d-%02d-%02d both a holiday and a "
          "working day",
          n->jurisdiction, n->year, d->year, d->month, d->day);
      return FALSE;
    }
    seen[doy] = 1 + d->kind;
  }
  return TRUE;
}

/* ---- the calendar ---------------------------------------------------- */

static void
free_year_table (gpointer p)
{
  YearTable *t = p;

  g_string_chunk_free (t->names);
  g_free (t);
}

static void
free_jurisdiction (gpointer p)
{
  Jurisdiction *j = p;

  g_ptr_array_unref (j->years);
  g_free (j->name);
  g_free (j);
}

MedWorkcal *
med_workcal_new (void)
{
  MedWorkcal *wc = g_new0 (MedWorkcal, 1);

  wc->jurisdictions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      free_jurisdiction);
  return wc;
}

void
med_workcal_free (MedWorkcal *wc)
{
  if (wc == NULL)
    return;
  g_hash_table_unref (wc->jurisdictions);
  g_free (wc);
}

static YearTable *
find_year (const MedWorkcal *wc, const char *jurisdiction, gint year)
{
  Jurisdiction *j = g_hash_table_lookup (wc->jurisdictions, jurisdiction);

  for (guint i = 0; j != NULL && i < j->years->len; i++) {
    YearTable *t = g_ptr_array_index (j->years, i);

    if (t->year == year)
      return t;
  }
  return NULL;
}

static YearTable *
ensure_year (MedWorkcal *wc, const char *jurisdiction, gint year)
{
  Jurisdiction *j = g_hash_table_lookup (wc->jurisdictions, jurisdiction);
  YearTable *t;

  if (j == NULL) {
    j = g_new0 (Jurisdiction, 1);
    j->name = g_strdup (jurisdiction);
    j->years = g_ptr_array_new_with_free_func (free_year_table);
    g_hash_table_insert (wc->jurisdictions, j->name, j);
  }
  t = find_year (wc, jurisdiction, year);
  if (t == NULL) {
    t = g_new0 (YearTable, 1);
    t->year = year;
    t->jurisdiction = j->name;
    t->names = g_string_chunk_new (256);
    g_ptr_array_add (j->years, t);
  }
  return t;
}

gboolean
med_workcal_add_notice (MedWorkcal *wc, const MedNotice *n, GError **error)
{
  YearTable *t;

  g_return_val_if_fail (wc != NULL, FALSE);
  g_return_val_if_fail (n != NULL, FALSE);

  if (!med_notice_validate (n, error))
    return FALSE;
  /* An empty notice still publishes its year: "nothing special". */
  t = ensure_year (wc, n->jurisdiction, n->year);
  for (guint i = 0; i < n->days->len; i++) {
    const MedNoticeDay *d = &g_array_index (n->days, MedNoticeDay, i);
    DaySlot *slot = &t->days[day_of_year (d->year, d->month, d->day)];

    slot->set = TRUE;
    slot->kind = d->kind;
    slot->name = d->name != NULL && d->name[0] != '\0'
        ? g_string_chunk_insert_const (t->names, d->name)
        : NULL;
  }
  return TRUE;
}

gboolean
med_workcal_is_published (const MedWorkcal *wc, const char *jurisdiction,
    gint year)
{
  g_return_val_if_fail (wc != NULL, FALSE);

  return jurisdiction != NULL && find_year (wc, jurisdiction, year) != NULL;
}

/* Walks a layer list token by token without allocating. Returns FALSE at
 * the end; fails on empty or over-long tokens. */
typedef struct
{
  const char *p;
  char name[MAX_ID_BYTES + 1];
  gboolean optional;
} LayerIter;

static gboolean
next_layer (LayerIter *it, gboolean *ok, GError **error)
{
  const char *start, *end, *comma;
  gsize n;

  *ok = TRUE;
  if (it->p == NULL)
    return FALSE;
  comma = strchr (it->p, ',');
  start = it->p;
  end = comma != NULL ? comma : it->p + strlen (it->p);
  it->p = comma != NULL ? comma + 1 : NULL;
  while (start < end && g_ascii_isspace (*start))
    start++;
  while (end > start && g_ascii_isspace (end[-1]))
    end--;
  it->optional = end > start && end[-1] == '?';
  if (it->optional)
    end--;
  n = end - start;
  if (n == 0 || n > MAX_ID_BYTES) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "invalid jurisdiction list (expected e.g. “CN,CN-XZ-LS,centre-1?”)");
    *ok = FALSE;
    return FALSE;
  }
  memcpy (it->name, start, n);
  it->name[n] = '\0';
  if (!check_id (it->name)) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "invalid jurisdiction in list (use ASCII letters, digits, '-', '_' "
        "or '.', e.g. “CN,CN-XZ-LS”)");
    *ok = FALSE;
    return FALSE;
  }
  return TRUE;
}

gboolean
med_workcal_check_layers (const char *layers, GError **error)
{
  LayerIter it = { layers };
  gboolean ok = TRUE;
  guint n_layers = 0;

  while (next_layer (&it, &ok, error))
    n_layers++;
  if (!ok)
    return FALSE;
  if (n_layers == 0) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "the centre follows no jurisdiction (set e.g. “CN”)");
    return FALSE;
  }
  return TRUE;
}

gboolean
med_workcal_day_info (const MedWorkcal *wc, const char *layers, gint year,
    gint month, gint day, MedDayInfo *out, GError **error)
{
  LayerIter it = { layers };
  MedDayInfo info = { 0 };
  gboolean ok = TRUE;
  guint n_layers = 0;
  char unpublished[MAX_ID_BYTES + 1] = "";
  gint doy;

  g_return_val_if_fail (wc != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!check_date (year, month, day)) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "%04d-%02d-%02d is not a date", year, month, day);
    return FALSE;
  }
  doy = day_of_year (year, month, day);
  info.weekend = weekday_of (year, month, day) >= 5;
  info.working = !info.weekend;

  /* The whole list is read even past an unpublished layer, so that a
   * malformed list is always reported as such. */
  while (next_layer (&it, &ok, error)) {
    const YearTable *t = find_year (wc, it.name, year);
    const DaySlot *slot;

    n_layers++;
    if (t == NULL) {
      if (!it.optional && unpublished[0] == '\0')
        memcpy (unpublished, it.name, sizeof unpublished);
      continue;
    }
    slot = &t->days[doy];
    if (!slot->set)
      continue;
    /* A later layer overrides an earlier one: it alone decides. */
    info.holiday = slot->kind == MED_DAY_KIND_HOLIDAY;
    info.makeup = slot->kind == MED_DAY_KIND_WORKDAY;
    info.working = info.makeup;
    info.name = slot->name;
    info.jurisdiction = t->jurisdiction;
  }
  if (!ok)
    return FALSE;
  if (n_layers == 0) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "the centre follows no jurisdiction (set e.g. “CN”)");
    return FALSE;
  }
  if (unpublished[0] != '\0') {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_UNPUBLISHED,
        "no holiday calendar published for %s in %d; import the notice "
        "with `medsched calendar import FILE.ics`",
        unpublished, year);
    return FALSE;
  }
  *out = info;
  return TRUE;
}

/* ---- time zones ------------------------------------------------------ */

static GMutex zone_lock;
static GHashTable *zone_cache; /* name → GTimeZone*, guarded by zone_lock */

static gboolean
check_zone_name (const char *zone)
{
  gsize n = zone != NULL ? strlen (zone) : 0;

  /* GLib also reads absolute paths and TZ strings: accept IANA-shaped
   * names only. */
  if (n == 0 || n > MAX_ID_BYTES || zone[0] == '/' || strstr (zone, ".."))
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isalnum (zone[i]) && strchr ("/_+-", zone[i]) == NULL)
      return FALSE;
  }
  return TRUE;
}

/* (transfer full) */
static GTimeZone *
lookup_zone (const char *zone, GError **error)
{
  GTimeZone *tz = NULL;

  if (!check_zone_name (zone)) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_ZONE,
        "invalid time zone name (expected an IANA name such as "
        "Asia/Shanghai)");
    return NULL;
  }
  g_mutex_lock (&zone_lock);
  if (zone_cache == NULL)
    zone_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) g_time_zone_unref);
  tz = g_hash_table_lookup (zone_cache, zone);
  if (tz != NULL) {
    g_time_zone_ref (tz);
  } else {
    tz = g_time_zone_new_identifier (zone);
    if (tz != NULL && g_hash_table_size (zone_cache) < MAX_CACHED_ZONES)
      g_hash_table_insert (zone_cache, g_strdup (zone), g_time_zone_ref (tz));
  }
  g_mutex_unlock (&zone_lock);
  if (tz == NULL)
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_ZONE,
        "unknown time zone “%s”", zone);
  return tz;
}

static gboolean
local_to_utc (GTimeZone *tz, gint year, gint month, gint day,
    gint minute_of_day, MedTime *out, GError **error)
{
  g_autoptr (GDateTime) dt = NULL;

  if (minute_of_day == 24 * 60) {
    /* 24:00 is the next day's midnight. */
    minute_of_day = 0;
    if (++day > days_in_month (year, month)) {
      day = 1;
      if (++month > 12) {
        month = 1;
        year++;
      }
    }
  }
  if (check_date (year, month, day) && minute_of_day >= 0
      && minute_of_day < 24 * 60)
    dt = g_date_time_new (tz, year, month, day, minute_of_day / 60,
        minute_of_day % 60, 0);
  if (dt == NULL) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "%04d-%02d-%02d minute %d is not a local time", year, month, day,
        minute_of_day);
    return FALSE;
  }
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

gboolean
med_workcal_local_to_utc (const char *zone, gint year, gint month, gint day,
    gint minute_of_day, MedTime *out, GError **error)
{
  g_autoptr (GTimeZone) tz = NULL;

  g_return_val_if_fail (out != NULL, FALSE);

  tz = lookup_zone (zone, error);
  if (tz == NULL)
    return FALSE;
  return local_to_utc (tz, year, month, day, minute_of_day, out, error);
}

gboolean
med_workcal_local_date (const char *zone, MedTime t, gint *year, gint *month,
    gint *day, GError **error)
{
  g_autoptr (GTimeZone) tz = NULL;
  g_autoptr (GDateTime) utc = NULL;
  g_autoptr (GDateTime) local = NULL;

  tz = lookup_zone (zone, error);
  if (tz == NULL)
    return FALSE;
  utc = g_date_time_new_from_unix_utc (t);
  if (utc != NULL)
    local = g_date_time_to_timezone (utc, tz);
  if (local == NULL) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "instant %" G_GINT64_FORMAT " is out of range", t);
    return FALSE;
  }
  g_date_time_get_ymd (local, year, month, day);
  return TRUE;
}

/* ---- working windows ------------------------------------------------- */

static gboolean
check_hours (const MedDayHours *h, gint weekday, GError **error)
{
  static const char *const names[] = { "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday", "Sunday" };
  gboolean lunch = h->lunch_start_min != h->lunch_end_min;

  if (h->open_min == h->close_min)
    return TRUE;
  if (h->open_min < 0 || h->open_min >= h->close_min || h->close_min > 24 * 60
      || (lunch
          && (h->lunch_start_min <= h->open_min
              || h->lunch_start_min >= h->lunch_end_min
              || h->lunch_end_min >= h->close_min))) {
    g_set_error (error, MED_WORKCAL_ERROR, MED_WORKCAL_ERROR_INVALID,
        "the centre's opening hours for %s are inconsistent", names[weekday]);
    return FALSE;
  }
  return TRUE;
}

gboolean
med_workcal_day_windows (const MedWorkcal *wc, const MedCentre *centre,
    gint year, gint month, gint day, MedInterval out[2], guint *n_out,
    GError **error)
{
  g_autoptr (GTimeZone) tz = NULL;
  const MedDayHours *h;
  MedDayInfo info;
  gint weekday;
  gint edges[4];
  guint n_edges = 0;
  MedTime t[4];

  g_return_val_if_fail (wc != NULL, FALSE);
  g_return_val_if_fail (centre != NULL, FALSE);
  g_return_val_if_fail (n_out != NULL, FALSE);

  *n_out = 0;
  if (!med_workcal_day_info (wc, centre->layers, year, month, day, &info,
          error))
    return FALSE;
  weekday = weekday_of (year, month, day);
  if (info.working) {
    /* A make-up working day on a weekend keeps a Monday's timetable. */
    if (info.weekend)
      weekday = 0;
  } else if (!info.weekend || info.holiday
      || centre->hours[weekday].open_min == centre->hours[weekday].close_min) {
    return TRUE;
  }
  /* else: an ordinary weekend day of a centre that opens at weekends */
  h = &centre->hours[weekday];
  if (!check_hours (h, weekday, error))
    return FALSE;
  if (h->open_min == h->close_min)
    return TRUE;

  edges[n_edges++] = h->open_min;
  if (h->lunch_start_min != h->lunch_end_min) {
    edges[n_edges++] = h->lunch_start_min;
    edges[n_edges++] = h->lunch_end_min;
  }
  edges[n_edges++] = h->close_min;

  tz = lookup_zone (centre->zone, error);
  if (tz == NULL)
    return FALSE;
  for (guint i = 0; i < n_edges; i++) {
    if (!local_to_utc (tz, year, month, day, edges[i], &t[i], error))
      return FALSE;
  }
  for (guint i = 0; i + 1 < n_edges; i += 2) {
    /* A window swallowed by a DST jump stays out. */
    if (t[i + 1] <= t[i])
      continue;
    out[*n_out].start = t[i];
    out[*n_out].end = t[i + 1];
    (*n_out)++;
  }
  return TRUE;
}
