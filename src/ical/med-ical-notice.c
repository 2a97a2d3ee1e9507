/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-notice.c — reads a holiday notice (放假通知) written as an
 * iCalendar file into a MedNotice (format: calendars/README.md).
 *
 * The file comes from outside (a clerk imports it), so it is checked in
 * three passes before anything is believed. First the raw bytes: size,
 * UTF-8, and a line scan that checks BEGIN/END pairs match, nesting stays
 * shallow and there is exactly one VCALENDAR; this catches truncated files
 * (libical silently closes what a cut file left open) and keeps libical's
 * recursive code away from absurd nesting. Then libical parses the text;
 * it reports problems as X-LIC-ERROR properties instead of failing, and
 * any such property fails the import. Last, the calendar and its events
 * are read strictly: whole days only, every day inside the notice's year,
 * known day kinds, no day both a holiday and a working day.
 *
 * Nothing here touches libical's built-in time zone cache: a TZID is only
 * compared with the VTIMEZONEs the file itself carries. */
#define G_LOG_DOMAIN "medsched-ical"

#include <medsched/med-ical.h>

#include <libical/ical.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK (med-ical-error-quark, med_ical_error)
/* clang-format on */

#define MAX_EVENTS     400 /* a national notice has about 15 */
#define MAX_RANGE_DAYS 31 /* longest single event */
#define MAX_DEPTH      4 /* VCALENDAR > VTIMEZONE > STANDARD > … */
#define MAX_COMPONENTS 4096 /* BEGIN lines in one file */
#define MAX_UID_BYTES  255
#define MAX_LINE_BYTES 65536 /* one unfolded content line */

/* A short printable rendering of text from the file for messages: at most
 * max_chars characters of its valid UTF-8 prefix, control characters
 * replaced. len < 0: NUL-terminated. (transfer full) */
static char *
describe_n (const char *s, gssize len, guint max_chars)
{
  GString *out = g_string_new (NULL);
  const char *end;
  guint n = 0;

  if (s == NULL)
    return g_string_free (out, FALSE);
  end = len < 0 ? s + strlen (s) : s + len;
  g_utf8_validate_len (s, end - s, &end);
  for (const char *p = s; p < end; p = g_utf8_next_char (p), n++) {
    gunichar c = g_utf8_get_char (p);

    if (n == max_chars) {
      g_string_append (out, "…");
      break;
    }
    if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
      g_string_append_c (out, '?');
    else
      g_string_append_unichar (out, c);
  }
  return g_string_free (out, FALSE);
}

static char *
describe (const char *s, gssize len)
{
  return describe_n (s, len, 40);
}

/* ---- pass 1: lines --------------------------------------------------- */

typedef struct
{
  GPtrArray *stack; /* open component names */
  guint n_components;
  gboolean seen_calendar;
} ScanState;

/* Looks at one unfolded content line. */
static gboolean
scan_line (ScanState *st, const char *line, gsize len, guint lineno,
    GError **error)
{
  gsize name_len = 0;
  gboolean begin, end;
  const char *value;
  gsize value_len;

  while (name_len < len && line[name_len] != ':' && line[name_len] != ';')
    name_len++;
  begin = name_len == 5 && g_ascii_strncasecmp (line, "BEGIN", 5) == 0;
  end = name_len == 3 && g_ascii_strncasecmp (line, "END", 3) == 0;

  if (len == 0)
    return TRUE;
  if (!begin && !end) {
    if (st->stack->len == 0) {
      g_autofree char *what = describe (line, MIN (len, 60));

      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: “%s” is outside BEGIN:VCALENDAR … END:VCALENDAR "
          "(not an iCalendar file?)",
          lineno, what);
      return FALSE;
    }
    return TRUE;
  }
  if (name_len == len || line[name_len] != ':') {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "line %u: BEGIN and END take a component name and no parameters",
        lineno);
    return FALSE;
  }
  value = line + name_len + 1;
  value_len = len - name_len - 1;

  if (begin) {
    if (value_len == 0 || value_len > 64) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: BEGIN without a component name", lineno);
      return FALSE;
    }
    if (st->stack->len == 0) {
      if (st->seen_calendar) {
        g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
            "line %u: a notice file holds one VCALENDAR, this one has more",
            lineno);
        return FALSE;
      }
      if (value_len != 9 || g_ascii_strncasecmp (value, "VCALENDAR", 9)) {
        g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
            "line %u: the file must start with BEGIN:VCALENDAR", lineno);
        return FALSE;
      }
      st->seen_calendar = TRUE;
    }
    if (st->stack->len >= MAX_DEPTH) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: components nested more than %d deep", lineno, MAX_DEPTH);
      return FALSE;
    }
    if (++st->n_components > MAX_COMPONENTS) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "more than %d components in one file", MAX_COMPONENTS);
      return FALSE;
    }
    g_ptr_array_add (st->stack, g_strndup (value, value_len));
    return TRUE;
  }

  /* END */
  if (st->stack->len == 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "line %u: END without a matching BEGIN", lineno);
    return FALSE;
  }
  {
    const char *open = g_ptr_array_index (st->stack, st->stack->len - 1);

    if (strlen (open) != value_len
        || g_ascii_strncasecmp (open, value, value_len) != 0) {
      g_autofree char *got = describe (value, value_len);
      g_autofree char *want = describe (open, -1);

      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: END:%s does not close BEGIN:%s (the file is cut short "
          "or mis-nested)",
          lineno, got, want);
      return FALSE;
    }
  }
  g_ptr_array_set_size (st->stack, st->stack->len - 1);
  return TRUE;
}

/* Splits data into content lines the way libical does ('\n' ends a line,
 * a trailing '\r' is dropped, a line starting with space or tab continues
 * the previous one) and checks the component structure. */
static gboolean
scan_structure (const char *data, gsize len, GError **error)
{
  ScanState st = { g_ptr_array_new_with_free_func (g_free), 0, FALSE };
  g_autoptr (GString) logical = g_string_new (NULL);
  guint lineno = 0, logical_lineno = 0;
  gboolean have_logical = FALSE;
  gboolean ok = TRUE;
  const char *p = data, *end = data + len;

  while (ok && p < end) {
    const char *nl = memchr (p, '\n', end - p);
    const char *line_end = nl != NULL ? nl : end;
    gsize n = line_end - p;

    lineno++;
    if (n > 0 && p[n - 1] == '\r')
      n--;
    if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
      if (!have_logical) {
        g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
            "line %u: a continuation line with nothing to continue", lineno);
        ok = FALSE;
        break;
      }
      g_string_append_len (logical, p + 1, n - 1);
    } else {
      if (have_logical)
        ok = scan_line (&st, logical->str, logical->len, logical_lineno, error);
      g_string_assign (logical, "");
      g_string_append_len (logical, p, n);
      have_logical = TRUE;
      logical_lineno = lineno;
    }
    if (logical->len > MAX_LINE_BYTES) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u is longer than %d bytes", logical_lineno, MAX_LINE_BYTES);
      ok = FALSE;
    }
    p = nl != NULL ? nl + 1 : end;
  }
  if (ok && have_logical)
    ok = scan_line (&st, logical->str, logical->len, logical_lineno, error);
  if (ok && !st.seen_calendar) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "not an iCalendar file (no BEGIN:VCALENDAR)");
    ok = FALSE;
  }
  if (ok && st.stack->len > 0) {
    g_autofree char *open
        = describe (g_ptr_array_index (st.stack, st.stack->len - 1), -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "the file ends inside BEGIN:%s without its END (truncated?)", open);
    ok = FALSE;
  }
  g_ptr_array_unref (st.stack);
  return ok;
}

/* ---- pass 2: libical ------------------------------------------------- */

static const char *
find_lic_error (icalcomponent *comp)
{
  icalproperty *p;
  icalcomponent *c;

  p = icalcomponent_get_first_property (comp, ICAL_XLICERROR_PROPERTY);
  if (p != NULL)
    return icalproperty_get_xlicerror (p);
  for (c = icalcomponent_get_first_component (comp, ICAL_ANY_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (comp, ICAL_ANY_COMPONENT)) {
    const char *e = find_lic_error (c);

    if (e != NULL)
      return e;
  }
  return NULL;
}

/* ---- pass 3: the notice ---------------------------------------------- */

/* The text of an X- property: libical 3.0 keeps it as an X value (already
 * unescaped) or, with VALUE=TEXT, as a TEXT value. */
static const char *
get_x_text (icalproperty *p)
{
  icalvalue *v = icalproperty_get_value (p);

  if (v == NULL)
    return NULL;
  switch (icalvalue_isa (v)) {
    case ICAL_X_VALUE:
      return icalvalue_get_x (v);
    case ICAL_TEXT_VALUE:
      return icalvalue_get_text (v);
    default:
      return NULL;
  }
}

/* Finds the single X- property called name on comp. Sets *out to NULL if
 * absent; fails if it is present twice or is not text. */
static gboolean
get_x_prop (icalcomponent *comp, const char *name, const char *where,
    const char **out, GError **error)
{
  icalproperty *p;

  *out = NULL;
  for (p = icalcomponent_get_first_property (comp, ICAL_X_PROPERTY); p != NULL;
       p = icalcomponent_get_next_property (comp, ICAL_X_PROPERTY)) {
    const char *x = icalproperty_get_x_name (p);

    if (x == NULL || g_ascii_strcasecmp (x, name) != 0)
      continue;
    if (*out != NULL) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "%s has %s more than once", where, name);
      return FALSE;
    }
    *out = get_x_text (p);
    if (*out == NULL) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "%s: %s must be plain text", where, name);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_field (const char *value, gsize max_bytes, const char *name,
    const char *where, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (value == NULL) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s has no %s property", where, name);
    return FALSE;
  }
  if (!med_validate_text (value, max_bytes, FALSE, FALSE, name, &local)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID, "%s: %s", where,
        local->message);
    return FALSE;
  }
  return TRUE;
}

typedef struct
{
  MedNotice *notice;
  GHashTable *zones; /* TZIDs of the file's VTIMEZONEs (strings owned by
                       * libical) */
  GHashTable *uids; /* set of UIDs seen */
  guint8 kind[366]; /* 0 none, else 1 + MedDayKind */
  char *by[366]; /* label of the event that declared the day */
} ReadState;

/* Reads a DTSTART or DTEND that must be a whole day. */
static gboolean
get_day (ReadState *rs, icalproperty *p, const char *prop_name,
    const char *label, GDate *out, GError **error)
{
  icalparameter *tz = icalproperty_get_first_parameter (p, ICAL_TZID_PARAMETER);
  icalvalue *v = icalproperty_get_value (p);
  struct icaltimetype t;

  if (tz != NULL) {
    const char *tzid = icalparameter_get_tzid (tz);

    if (tzid == NULL || !g_hash_table_contains (rs->zones, tzid)) {
      g_autofree char *what = describe (tzid, -1);

      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "%s: %s names the time zone “%s”, which this calendar does not "
          "define",
          label, prop_name, what);
      return FALSE;
    }
  }
  if (v == NULL
      || (icalvalue_isa (v) != ICAL_DATE_VALUE
          && icalvalue_isa (v) != ICAL_DATETIME_VALUE)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s: %s is not a date", label, prop_name);
    return FALSE;
  }
  if (icalvalue_isa (v) == ICAL_DATETIME_VALUE) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "a holiday notice lists whole days; %s has a time (write "
        "%s;VALUE=DATE:YYYYMMDD)",
        label, prop_name);
    return FALSE;
  }
  t = icalvalue_get_date (v);
  if (!t.is_date || t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12
      || t.day < 1 || !g_date_valid_dmy (t.day, t.month, t.year)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s: %s is not a real date", label, prop_name);
    return FALSE;
  }
  g_date_clear (out, 1);
  g_date_set_dmy (out, t.day, t.month, t.year);
  return TRUE;
}

static gboolean
read_event (ReadState *rs, icalcomponent *ev, guint index, GError **error)
{
  g_autofree char *label = NULL;
  icalproperty *p;
  const char *uid, *summary, *kind_s;
  MedDayKind kind;
  GDate start, end;
  gint n_days;

  p = icalcomponent_get_first_property (ev, ICAL_UID_PROPERTY);
  uid = p != NULL ? icalproperty_get_uid (p) : NULL;
  if (uid == NULL || uid[0] == '\0' || strlen (uid) > MAX_UID_BYTES) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "event #%u has no UID (or one longer than %d bytes)", index + 1,
        MAX_UID_BYTES);
    return FALSE;
  }
  {
    g_autofree char *u = describe (uid, -1);

    label = g_strdup_printf ("event “%s”", u);
  }
  if (!g_hash_table_add (rs->uids, g_strdup (uid))) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s appears twice", label);
    return FALSE;
  }

  p = icalcomponent_get_first_property (ev, ICAL_STATUS_PROPERTY);
  if (p != NULL && icalproperty_get_status (p) == ICAL_STATUS_CANCELLED)
    return TRUE; /* withdrawn by its author: declares nothing */

  if (icalcomponent_get_first_property (ev, ICAL_RRULE_PROPERTY)
      || icalcomponent_get_first_property (ev, ICAL_RDATE_PROPERTY)
      || icalcomponent_get_first_property (ev, ICAL_EXDATE_PROPERTY)
      || icalcomponent_get_first_property (ev, ICAL_EXRULE_PROPERTY)
      || icalcomponent_get_first_property (ev, ICAL_RECURRENCEID_PROPERTY)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s repeats; a holiday notice lists each year's days explicitly",
        label);
    return FALSE;
  }

  p = icalcomponent_get_first_property (ev, ICAL_SUMMARY_PROPERTY);
  summary = p != NULL ? icalproperty_get_summary (p) : NULL;
  if (!check_field (summary, MED_MAX_NAME_BYTES, "SUMMARY", label, error))
    return FALSE;

  if (!get_x_prop (ev, "X-MED-DAY-KIND", label, &kind_s, error))
    return FALSE;
  if (kind_s == NULL) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s has no X-MED-DAY-KIND (holiday or workday)", label);
    return FALSE;
  }
  if (g_ascii_strcasecmp (kind_s, "holiday") == 0) {
    kind = MED_DAY_KIND_HOLIDAY;
  } else if (g_ascii_strcasecmp (kind_s, "workday") == 0) {
    kind = MED_DAY_KIND_WORKDAY;
  } else {
    g_autofree char *what = describe (kind_s, -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s: unknown X-MED-DAY-KIND “%s” (expected holiday or workday)", label,
        what);
    return FALSE;
  }

  p = icalcomponent_get_first_property (ev, ICAL_DTSTART_PROPERTY);
  if (p == NULL) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s has no DTSTART", label);
    return FALSE;
  }
  if (!get_day (rs, p, "DTSTART", label, &start, error))
    return FALSE;

  n_days = 1;
  p = icalcomponent_get_first_property (ev, ICAL_DTEND_PROPERTY);
  if (p != NULL) {
    if (icalcomponent_get_first_property (ev, ICAL_DURATION_PROPERTY)) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "%s has both DTEND and DURATION", label);
      return FALSE;
    }
    if (!get_day (rs, p, "DTEND", label, &end, error))
      return FALSE;
    n_days = g_date_days_between (&start, &end);
  } else if ((p = icalcomponent_get_first_property (ev, ICAL_DURATION_PROPERTY))
      != NULL) {
    struct icaldurationtype d = icalproperty_get_duration (p);

    if (d.is_neg || d.hours || d.minutes || d.seconds
        || d.days + 7 * d.weeks > MAX_RANGE_DAYS) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "%s: DURATION must be whole days, 1 to %d", label, MAX_RANGE_DAYS);
      return FALSE;
    }
    n_days = d.days + 7 * d.weeks;
  }
  if (n_days < 1 || n_days > MAX_RANGE_DAYS) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s covers %d days; DTEND (exclusive) must be 1 to %d days after "
        "DTSTART",
        label, n_days, MAX_RANGE_DAYS);
    return FALSE;
  }

  for (gint i = 0; i < n_days; i++) {
    GDate day = start;
    guint doy;

    if (i > 0)
      g_date_add_days (&day, i);
    if (g_date_get_year (&day) != rs->notice->year) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "%s: %04d-%02d-%02d lies outside the notice's year %d "
          "(X-MED-YEAR)",
          label, g_date_get_year (&day), g_date_get_month (&day),
          g_date_get_day (&day), rs->notice->year);
      return FALSE;
    }
    doy = g_date_get_day_of_year (&day) - 1;
    if (rs->kind[doy] != 0 && rs->kind[doy] != 1 + kind) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "%04d-%02d-%02d is declared a holiday and a working day (%s and "
          "%s)",
          g_date_get_year (&day), g_date_get_month (&day),
          g_date_get_day (&day), rs->by[doy], label);
      return FALSE;
    }
    if (rs->kind[doy] == 0) {
      rs->kind[doy] = 1 + kind;
      rs->by[doy] = g_strdup (label);
    }
    med_notice_add_day (rs->notice, g_date_get_year (&day),
        g_date_get_month (&day), g_date_get_day (&day), kind, summary);
  }
  return TRUE;
}

static gboolean
parse_year (const char *s, gint *out)
{
  gint v = 0;

  if (s == NULL || strlen (s) != 4)
    return FALSE;
  for (int i = 0; i < 4; i++) {
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return TRUE;
}

static MedNotice *
read_notice (icalcomponent *cal, GError **error)
{
  const char *where = "the notice calendar";
  g_autoptr (MedNotice) n = med_notice_new ();
  g_autoptr (GError) local = NULL;
  const char *jurisdiction, *layer, *year, *source, *published, *id, *title;
  icalproperty *p;
  icalcomponent *c;
  ReadState rs = { 0 };
  guint n_events = 0;
  gboolean ok = FALSE;

  p = icalcomponent_get_first_property (cal, ICAL_VERSION_PROPERTY);
  if (p == NULL || g_strcmp0 (icalproperty_get_version (p), "2.0") != 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s must say VERSION:2.0", where);
    return NULL;
  }
  p = icalcomponent_get_first_property (cal, ICAL_PRODID_PROPERTY);
  if (!check_field (p != NULL ? icalproperty_get_prodid (p) : NULL,
          MED_MAX_TEXT_BYTES, "PRODID", where, error))
    return NULL;
  p = icalcomponent_get_first_property (cal, ICAL_CALSCALE_PROPERTY);
  if (p != NULL
      && g_strcmp0 (icalproperty_get_calscale (p), "GREGORIAN") != 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s uses a calendar scale other than GREGORIAN", where);
    return NULL;
  }

  p = icalcomponent_get_first_property (cal, ICAL_NAME_PROPERTY);
  title = p != NULL ? icalproperty_get_name (p) : NULL;
  if (title == NULL && !get_x_prop (cal, "X-WR-CALNAME", where, &title, error))
    return NULL;
  if (!get_x_prop (cal, "X-MED-JURISDICTION", where, &jurisdiction, error)
      || !get_x_prop (cal, "X-MED-LAYER", where, &layer, error)
      || !get_x_prop (cal, "X-MED-YEAR", where, &year, error)
      || !get_x_prop (cal, "X-MED-SOURCE", where, &source, error)
      || !get_x_prop (cal, "X-MED-PUBLISHED", where, &published, error)
      || !get_x_prop (cal, "X-MED-NOTICE-ID", where, &id, error))
    return NULL;
  if (title == NULL) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s has no NAME (or X-WR-CALNAME): the notice's title", where);
    return NULL;
  }
  if (!check_field (title, MED_MAX_NAME_BYTES, "NAME", where, error)
      || !check_field (jurisdiction, MED_MAX_NAME_BYTES, "X-MED-JURISDICTION",
          where, error)
      || !check_field (layer, MED_MAX_NAME_BYTES, "X-MED-LAYER", where, error)
      || !check_field (year, MED_MAX_NAME_BYTES, "X-MED-YEAR", where, error)
      || !check_field (source, MED_MAX_TEXT_BYTES, "X-MED-SOURCE", where, error)
      || !check_field (published, MED_MAX_NAME_BYTES, "X-MED-PUBLISHED", where,
          error))
    return NULL;
  if (!med_layer_from_string (layer, &n->layer, &local)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "X-MED-LAYER: %s", local->message);
    return NULL;
  }
  if (!parse_year (year, &n->year)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "X-MED-YEAR must be a four-digit year");
    return NULL;
  }
  n->jurisdiction = g_strdup (jurisdiction);
  n->title = g_strdup (title);
  n->source = g_strdup (source);
  n->published = g_strdup (published);
  if (id != NULL) {
    n->id = g_strdup (id);
  } else {
    /* Stable across re-imports of the same notice, distinct for two
     * notices of one jurisdiction-year published on different days. */
    g_autofree char *compact = g_strdup (published);
    char *w = compact;

    for (const char *r = published; *r; r++) {
      if (*r != '-')
        *w++ = *r;
    }
    *w = '\0';
    n->id = g_strdup_printf ("%s-%d-%s", jurisdiction, n->year, compact);
  }
  /* Check the header now so that a bad year or jurisdiction is reported
   * as such, not as events outside the year. */
  if (!med_notice_validate (n, &local)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID, "%s",
        local->message);
    return NULL;
  }

  rs.notice = n;
  rs.uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  rs.zones = g_hash_table_new (g_str_hash, g_str_equal);
  for (c = icalcomponent_get_first_component (cal, ICAL_VTIMEZONE_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (cal, ICAL_VTIMEZONE_COMPONENT)) {
    icalproperty *tzp
        = icalcomponent_get_first_property (c, ICAL_TZID_PROPERTY);
    const char *tzid = tzp != NULL ? icalproperty_get_tzid (tzp) : NULL;

    if (tzid != NULL)
      g_hash_table_add (rs.zones, (gpointer) tzid);
  }
  for (c = icalcomponent_get_first_component (cal, ICAL_ANY_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (cal, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind kind = icalcomponent_isa (c);

    if (kind == ICAL_VTIMEZONE_COMPONENT)
      continue;
    if (kind != ICAL_VEVENT_COMPONENT) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "a holiday notice holds only VEVENT (and VTIMEZONE) components, "
          "not %s",
          icalcomponent_kind_to_string (kind));
      goto out;
    }
    if (++n_events > MAX_EVENTS) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
          "more than %d events in one notice", MAX_EVENTS);
      goto out;
    }
    if (!read_event (&rs, c, n_events - 1, error))
      goto out;
  }
  if (!med_notice_validate (n, &local)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID, "%s",
        local->message);
    goto out;
  }
  ok = TRUE;

out:
  g_hash_table_unref (rs.uids);
  g_hash_table_unref (rs.zones);
  for (guint i = 0; i < G_N_ELEMENTS (rs.by); i++)
    g_free (rs.by[i]);
  return ok ? g_steal_pointer (&n) : NULL;
}

MedNotice *
med_ical_parse_notice (const char *data, gsize len, GError **error)
{
  g_autofree char *text = NULL;
  icalcomponent *cal;
  MedNotice *n = NULL;
  const char *lic_error;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > MED_ICAL_MAX_BYTES) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_TOO_LARGE,
        "the calendar is %" G_GSIZE_FORMAT " bytes; at most %d are accepted",
        len, MED_ICAL_MAX_BYTES);
    return NULL;
  }
  if (len == 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "the calendar is empty");
    return NULL;
  }
  /* A NUL byte fails this check too. */
  if (!g_utf8_validate_len (data, len, NULL)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_ENCODING,
        "the calendar is not valid UTF-8 (save it as UTF-8)");
    return NULL;
  }
  if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0) {
    data += 3; /* byte order mark */
    len -= 3;
  }
  if (!scan_structure (data, len, error))
    return NULL;

  text = g_strndup (data, len);
  cal = icalparser_parse_string (text);
  if (cal == NULL || icalcomponent_isa (cal) != ICAL_VCALENDAR_COMPONENT) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "not an iCalendar file (no VCALENDAR)");
    goto out;
  }
  if (icalcomponent_count_errors (cal) > 0) {
    g_autofree char *what = NULL;

    lic_error = find_lic_error (cal);
    what
        = describe_n (lic_error != NULL ? lic_error : "unknown error", -1, 160);
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "the calendar is not valid iCalendar: %s", what);
    goto out;
  }
  n = read_notice (cal, error);

out:
  if (cal != NULL)
    icalcomponent_free (cal);
  return n;
}
