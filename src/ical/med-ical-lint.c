/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-lint.c — reading iCalendar as raw text, before and without
 * libical.
 *
 * Two users. The readers (replies, busy calendars) call
 * med_ical_new_checked_text() first: it refuses oversized, empty, non-UTF-8
 * or control-character-laden input and scans the BEGIN/END structure, so
 * that a cut file (libical silently closes what was left open), absurd
 * nesting (libical recurses) or a second VCALENDAR fail with a clear
 * message before libical parses anything. Then med_ical_new_parsed() runs
 * libical and turns its X-LIC-ERROR properties into errors.
 *
 * med_ical_lint() checks what lenient parsers accept silently and what
 * medsched promises about everything it writes: CRLF line ends, physical
 * lines of at most 75 octets folded on UTF-8 character boundaries, a
 * VTIMEZONE for every TZID, DTSTAMP in UTC, at least one ATTENDEE in each
 * VEVENT of a REQUEST, no METHOD in a feed (and one in an invite), and a
 * single unquoted FEATURE value. It reports, never fails: one "line N: …"
 * string per problem, N the physical line (1-based). */
#define G_LOG_DOMAIN "medsched-ical"

#include "med-ical-private.h"

#include <string.h>

#define MAX_LINE_OCTETS 75
#define MAX_PROBLEMS    200 /* listed */
#define MAX_COLLECTED   5000 /* kept in memory, the rest only counted */

char *
med_ical_describe (const char *s, gssize len)
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

    if (n == 40) {
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

/* ---- the structure scan of the readers -------------------------------- */

typedef struct
{
  const MedIcalScanLimits *limits;
  GPtrArray *stack; /* open component names */
  guint n_components;
  gboolean seen_calendar;
} ScanState;

static gboolean
scan_logical (ScanState *st, const char *line, gsize len, guint lineno,
    GError **error)
{
  gsize name_len = 0;
  gboolean begin, end;
  const char *value;
  gsize value_len;

  if (len == 0)
    return TRUE;
  while (name_len < len && line[name_len] != ':' && line[name_len] != ';')
    name_len++;
  begin = name_len == 5 && g_ascii_strncasecmp (line, "BEGIN", 5) == 0;
  end = name_len == 3 && g_ascii_strncasecmp (line, "END", 3) == 0;

  if (!begin && !end) {
    if (st->stack->len == 0) {
      g_autofree char *what = med_ical_describe (line, MIN (len, 60));

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
            "line %u: a second VCALENDAR (one per file)", lineno);
        return FALSE;
      }
      if (value_len != 9 || g_ascii_strncasecmp (value, "VCALENDAR", 9)) {
        g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
            "line %u: the file must start with BEGIN:VCALENDAR", lineno);
        return FALSE;
      }
      st->seen_calendar = TRUE;
    } else if (value_len == 9
        && g_ascii_strncasecmp (value, "VCALENDAR", 9) == 0) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: a VCALENDAR inside a VCALENDAR", lineno);
      return FALSE;
    }
    if (st->stack->len >= st->limits->max_depth) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: components nested more than %u deep", lineno,
          st->limits->max_depth);
      return FALSE;
    }
    if (++st->n_components > st->limits->max_components) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: more than %u components in one file", lineno,
          st->limits->max_components);
      return FALSE;
    }
    g_ptr_array_add (st->stack, g_strndup (value, value_len));
    return TRUE;
  }

  if (st->stack->len == 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "line %u: END without a matching BEGIN", lineno);
    return FALSE;
  }
  {
    const char *open = g_ptr_array_index (st->stack, st->stack->len - 1);

    if (strlen (open) != value_len
        || g_ascii_strncasecmp (open, value, value_len) != 0) {
      g_autofree char *got = med_ical_describe (value, value_len);
      g_autofree char *want = med_ical_describe (open, -1);

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

/* Splits text into content lines the way libical does ('\n' ends a line,
 * a trailing '\r' is dropped, a line starting with space or tab continues
 * the previous one) and checks them. */
static gboolean
scan_structure (const char *data, gsize len, const MedIcalScanLimits *limits,
    GError **error)
{
  ScanState st = { limits, g_ptr_array_new_with_free_func (g_free), 0, FALSE };
  g_autoptr (GString) logical = g_string_new (NULL);
  guint lineno = 0, logical_lineno = 0;
  gboolean have_logical = FALSE, ok = TRUE;
  const char *p = data, *end = data + len;

  while (ok && p < end) {
    const char *nl = memchr (p, '\n', end - p);
    const char *line_end = nl != NULL ? nl : end;
    gsize n = line_end - p;

    lineno++;
    if (n > 0 && p[n - 1] == '\r')
      n--;
    for (gsize i = 0; i < n; i++) {
      if ((guchar) p[i] < 0x20 && p[i] != '\t') {
        g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
            "line %u: a control character (0x%02x) inside a line", lineno,
            (guint) (guchar) p[i]);
        ok = FALSE;
        break;
      }
    }
    if (!ok)
      break;
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
        ok = scan_logical (&st, logical->str, logical->len, logical_lineno,
            error);
      g_string_truncate (logical, 0);
      g_string_append_len (logical, p, n);
      have_logical = TRUE;
      logical_lineno = lineno;
    }
    if (ok && logical->len > limits->max_line_bytes) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u is longer than %u bytes", logical_lineno,
          limits->max_line_bytes);
      ok = FALSE;
    }
    p = nl != NULL ? nl + 1 : end;
  }
  if (ok && have_logical)
    ok = scan_logical (&st, logical->str, logical->len, logical_lineno, error);
  if (ok && !st.seen_calendar) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "not an iCalendar file (no BEGIN:VCALENDAR)");
    ok = FALSE;
  }
  if (ok && st.stack->len > 0) {
    g_autofree char *open
        = med_ical_describe (g_ptr_array_index (st.stack, st.stack->len - 1),
            -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "the file ends inside BEGIN:%s without its END (truncated?)", open);
    ok = FALSE;
  }
  g_ptr_array_unref (st.stack);
  return ok;
}

char *
med_ical_new_checked_text (const char *data, gsize len,
    const MedIcalScanLimits *limits, GError **error)
{
  if (len > MED_ICAL_MAX_BYTES) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_TOO_LARGE,
        "the calendar is %" G_GSIZE_FORMAT " bytes; at most %d are accepted",
        len, MED_ICAL_MAX_BYTES);
    return NULL;
  }
  if (len == 0 || data == NULL) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "the calendar is empty");
    return NULL;
  }
  /* A NUL byte fails this check too. */
  if (!g_utf8_validate_len (data, len, NULL)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_ENCODING,
        "the calendar is not valid UTF-8 (iCalendar is UTF-8)");
    return NULL;
  }
  if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0) {
    data += 3;
    len -= 3;
  }
  if (!scan_structure (data, len, limits, error))
    return NULL;
  return g_strndup (data, len);
}

gboolean
med_ical_foreach_line (const char *text, MedIcalLineFunc fn, gpointer data)
{
  g_autoptr (GString) logical = g_string_new (NULL);
  guint lineno = 0, logical_lineno = 0;
  gboolean have = FALSE;

  for (const char *p = text; *p;) {
    const char *nl = strchr (p, '\n');
    gsize n = nl != NULL ? (gsize) (nl - p) : strlen (p);

    lineno++;
    if (n > 0 && p[n - 1] == '\r')
      n--;
    if (have && n > 0 && (p[0] == ' ' || p[0] == '\t')) {
      g_string_append_len (logical, p + 1, n - 1);
    } else {
      if (have && !fn (logical->str, logical->len, logical_lineno, data))
        return FALSE;
      g_string_truncate (logical, 0);
      g_string_append_len (logical, p, n);
      have = TRUE;
      logical_lineno = lineno;
    }
    p = nl != NULL ? nl + 1 : p + strlen (p);
  }
  return !have || fn (logical->str, logical->len, logical_lineno, data);
}

const char *
med_ical_find_lic_error (icalcomponent *comp)
{
  icalproperty *p;

  p = icalcomponent_get_first_property (comp, ICAL_XLICERROR_PROPERTY);
  if (p != NULL) {
    const char *e = icalproperty_get_xlicerror (p);

    return e != NULL ? e : "unknown error";
  }
  for (icalcomponent *c
       = icalcomponent_get_first_component (comp, ICAL_ANY_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (comp, ICAL_ANY_COMPONENT)) {
    const char *e = med_ical_find_lic_error (c);

    if (e != NULL)
      return e;
  }
  return NULL;
}

icalcomponent *
med_ical_new_parsed (const char *text, GError **error)
{
  icalcomponent *cal = icalparser_parse_string (text);
  const char *lic_error;

  if (cal == NULL || icalcomponent_isa (cal) != ICAL_VCALENDAR_COMPONENT) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "not an iCalendar file (no VCALENDAR)");
    if (cal != NULL)
      icalcomponent_free (cal);
    return NULL;
  }
  lic_error = med_ical_find_lic_error (cal);
  if (lic_error != NULL) {
    g_autofree char *what = med_ical_describe (lic_error, -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "the calendar is not valid iCalendar: %s", what);
    icalcomponent_free (cal);
    return NULL;
  }
  return cal;
}

/* ---- the linter ------------------------------------------------------- */

typedef struct
{
  guint line;
  char *message;
} Problem;

typedef struct
{
  GArray *problems; /* Problem */
  guint n_dropped; /* problems beyond MAX_COLLECTED */
  GPtrArray *stack; /* open component names, upper case */
  GHashTable *zones; /* TZIDs defined by VTIMEZONEs */
  GArray *tzid_lines; /* guint line per entry of tzid_names */
  GPtrArray *tzid_names;
  char *method;
  guint method_line;
  guint event_line; /* BEGIN:VEVENT of the open event */
  guint event_attendees;
  GArray *bare_events; /* guint line: VEVENTs without ATTENDEE */
} Lint;

G_GNUC_PRINTF (3, 4)
static void
add_problem (Lint *l, guint line, const char *format, ...)
{
  Problem p = { line, NULL };
  va_list ap;

  if (l->problems->len >= MAX_COLLECTED) {
    l->n_dropped++;
    return;
  }
  va_start (ap, format);
  p.message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_array_append_val (l->problems, p);
}

static const char *
current_component (Lint *l)
{
  return l->stack->len > 0 ? g_ptr_array_index (l->stack, l->stack->len - 1)
                           : "";
}

static gboolean
inside (Lint *l, const char *name)
{
  for (guint i = 0; i < l->stack->len; i++) {
    if (strcmp (g_ptr_array_index (l->stack, i), name) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
is_utc_date_time (const char *v, gsize n)
{
  if (n != 16 || v[8] != 'T' || v[15] != 'Z')
    return FALSE;
  for (gsize i = 0; i < 15; i++) {
    if (i != 8 && !g_ascii_isdigit (v[i]))
      return FALSE;
  }
  return TRUE;
}

/* Looks at one unfolded content line: name, parameters (quoted values may
 * hold ':' ';' ','), value. */
static void
lint_logical (Lint *l, const char *s, gsize len, guint lineno)
{
  g_autofree char *name = NULL;
  const char *p = s, *end = s + len, *value;
  guint n_feature = 0;
  gboolean feature_bad = FALSE;

  while (p < end && *p != ';' && *p != ':')
    p++;
  if (p == s)
    return;
  name = g_ascii_strup (s, p - s);

  /* parameters */
  while (p < end && *p == ';') {
    const char *pname = ++p, *pval;
    gsize pname_len;
    gboolean quoted_any = FALSE;

    while (p < end && *p != '=' && *p != ';' && *p != ':')
      p++;
    pname_len = p - pname;
    if (p >= end || *p != '=')
      continue;
    p++;
    pval = p;
    /* one or more comma-separated values, each maybe quoted */
    for (;;) {
      if (p < end && *p == '"') {
        const char *q = memchr (p + 1, '"', end - p - 1);

        quoted_any = TRUE;
        p = q != NULL ? q + 1 : end;
      } else {
        while (p < end && *p != ',' && *p != ';' && *p != ':')
          p++;
      }
      if (p < end && *p == ',') {
        p++;
        continue;
      }
      break;
    }
    if (pname_len == 4 && g_ascii_strncasecmp (pname, "TZID", 4) == 0
        && !inside (l, "VTIMEZONE")) {
      gsize n = p - pval;

      if (n >= 2 && pval[0] == '"' && pval[n - 1] == '"') {
        pval++;
        n -= 2;
      }
      g_ptr_array_add (l->tzid_names, g_strndup (pval, n));
      g_array_append_val (l->tzid_lines, lineno);
    }
    if (pname_len == 7 && g_ascii_strncasecmp (pname, "FEATURE", 7) == 0) {
      n_feature++;
      if (quoted_any || memchr (pval, ',', p - pval) != NULL)
        feature_bad = TRUE;
    }
  }
  value = p < end ? p + 1 : end;

  if (feature_bad || n_feature > 1)
    add_problem (l, lineno,
        "%s has FEATURE quoted or with several values; write one unquoted "
        "value (FEATURE=VIDEO)",
        name);

  if (strcmp (name, "BEGIN") == 0) {
    g_autofree char *comp = g_ascii_strup (value, end - value);

    if (strcmp (comp, "VEVENT") == 0) {
      l->event_line = lineno;
      l->event_attendees = 0;
    }
    g_ptr_array_add (l->stack, g_steal_pointer (&comp));
  } else if (strcmp (name, "END") == 0) {
    if (l->stack->len > 0) {
      if (strcmp (current_component (l), "VEVENT") == 0
          && l->event_attendees == 0)
        g_array_append_val (l->bare_events, l->event_line);
      g_ptr_array_set_size (l->stack, l->stack->len - 1);
    }
  } else if (strcmp (name, "METHOD") == 0
      && strcmp (current_component (l), "VCALENDAR") == 0) {
    if (l->method == NULL) {
      l->method = g_strndup (value, end - value);
      l->method_line = lineno;
    }
  } else if (strcmp (name, "TZID") == 0
      && strcmp (current_component (l), "VTIMEZONE") == 0) {
    g_hash_table_add (l->zones, g_strndup (value, end - value));
  } else if (strcmp (name, "DTSTAMP") == 0) {
    if (!is_utc_date_time (value, end - value))
      add_problem (l, lineno,
          "DTSTAMP must be a UTC date-time (YYYYMMDDTHHMMSSZ)");
  } else if (strcmp (name, "ATTENDEE") == 0
      && strcmp (current_component (l), "VEVENT") == 0) {
    l->event_attendees++;
  }
}

/* Bytes of an incomplete UTF-8 sequence at the end of s[0..n). */
static gsize
incomplete_tail (const char *s, gsize n)
{
  for (gsize k = 1; k <= 3 && k <= n; k++) {
    guchar c = (guchar) s[n - k];

    if ((c & 0xC0) == 0x80)
      continue; /* continuation byte: look further back */
    if (c < 0xC2 || c > 0xF4)
      return 0; /* not a lead byte */
    /* a lead byte k bytes from the end: incomplete if it needs more */
    return (c < 0xE0 ? 2u : c < 0xF0 ? 3u : 4u) > k ? k : 0;
  }
  return 0;
}

/* Continuation bytes at the start of s[0..n). */
static gsize
orphan_head (const char *s, gsize n)
{
  gsize k = 0;

  while (k < n && k < 3 && ((guchar) s[k] & 0xC0) == 0x80)
    k++;
  return k;
}

static int
compare_problems (gconstpointer a, gconstpointer b)
{
  const Problem *pa = a, *pb = b;

  return pa->line < pb->line ? -1 : pa->line > pb->line;
}

GPtrArray *
med_ical_lint (const char *data, gsize len, MedIcalKind kind)
{
  Lint l = { 0 };
  g_autoptr (GString) logical = g_string_new (NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  const char *p = data, *end = data + len;
  guint lineno = 0, logical_lineno = 0;
  gboolean have_logical = FALSE, split_before = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, out);

  l.problems = g_array_new (FALSE, FALSE, sizeof (Problem));
  l.stack = g_ptr_array_new_with_free_func (g_free);
  l.zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  l.tzid_lines = g_array_new (FALSE, FALSE, sizeof (guint));
  l.tzid_names = g_ptr_array_new_with_free_func (g_free);
  l.bare_events = g_array_new (FALSE, FALSE, sizeof (guint));

  while (p < end) {
    const char *nl = memchr (p, '\n', end - p);
    const char *line_end = nl != NULL ? nl : end;
    gsize n = line_end - p;
    gboolean continuation;
    const char *cr;

    lineno++;
    if (nl == NULL)
      add_problem (&l, lineno, "the last line does not end with CRLF");
    else if (n == 0 || p[n - 1] != '\r')
      add_problem (&l, lineno, "line ends with a bare LF (CRLF required)");
    if (n > 0 && p[n - 1] == '\r' && nl != NULL)
      n--;
    cr = memchr (p, '\r', n);
    if (cr != NULL)
      add_problem (&l, lineno, "a bare CR inside the line");
    if (n > MAX_LINE_OCTETS)
      add_problem (&l, lineno,
          "%" G_GSIZE_FORMAT " octets long; fold lines at 75 octets", n);
    continuation = n > 0 && (p[0] == ' ' || p[0] == '\t');
    {
      /* a fold inside a character leaves a cut sequence at the end of one
       * line and its rest at the start of the next: report it once */
      gsize body = continuation ? 1 : 0;
      gsize head = continuation ? orphan_head (p + 1, n - 1) : 0;
      gsize tail = incomplete_tail (p + body + head, n - body - head);
      gboolean split_end = FALSE;

      if (!g_utf8_validate_len (p, n, NULL)) {
        if (!g_utf8_validate_len (p + body + head, n - body - head - tail,
                NULL))
          add_problem (&l, lineno, "not valid UTF-8");
        else if (tail > 0 || (head > 0 && !split_before))
          add_problem (&l, lineno, "folded inside a UTF-8 character");
        split_end = tail > 0;
      }
      split_before = split_end;
    }
    if (continuation && have_logical) {
      g_string_append_len (logical, p + 1, n - 1);
    } else {
      if (have_logical)
        lint_logical (&l, logical->str, logical->len, logical_lineno);
      g_string_truncate (logical, 0);
      g_string_append_len (logical, p, n);
      have_logical = TRUE;
      logical_lineno = lineno;
    }
    p = nl != NULL ? nl + 1 : end;
  }
  if (have_logical)
    lint_logical (&l, logical->str, logical->len, logical_lineno);

  for (guint i = 0; i < l.tzid_names->len; i++) {
    const char *tzid = g_ptr_array_index (l.tzid_names, i);

    if (!g_hash_table_contains (l.zones, tzid)) {
      g_autofree char *what = med_ical_describe (tzid, -1);

      add_problem (&l, g_array_index (l.tzid_lines, guint, i),
          "TZID=%s has no VTIMEZONE in this calendar", what);
    }
  }
  if (kind == MED_ICAL_KIND_AUTO)
    kind = l.method != NULL ? MED_ICAL_KIND_INVITE : MED_ICAL_KIND_FEED;
  if (kind == MED_ICAL_KIND_FEED && l.method != NULL) {
    g_autofree char *what = med_ical_describe (l.method, -1);

    add_problem (&l, l.method_line,
        "METHOD:%s in a feed (a published calendar has no METHOD)", what);
  }
  if (kind == MED_ICAL_KIND_INVITE && l.method == NULL)
    add_problem (&l, 1, "an invite needs a METHOD (REQUEST, CANCEL, …)");
  if (l.method != NULL && g_ascii_strcasecmp (l.method, "REQUEST") == 0) {
    for (guint i = 0; i < l.bare_events->len; i++)
      add_problem (&l, g_array_index (l.bare_events, guint, i),
          "METHOD:REQUEST but this VEVENT has no ATTENDEE");
  }

  g_array_sort (l.problems, compare_problems);
  for (guint i = 0; i < l.problems->len; i++) {
    Problem *pr = &g_array_index (l.problems, Problem, i);

    if (i == MAX_PROBLEMS) {
      g_ptr_array_add (out,
          g_strdup_printf ("line %u: %u more problems not listed", pr->line,
              l.problems->len - MAX_PROBLEMS + l.n_dropped));
    }
    if (i < MAX_PROBLEMS)
      g_ptr_array_add (out,
          g_strdup_printf ("line %u: %s", pr->line, pr->message));
    g_free (pr->message);
  }

  g_array_unref (l.problems);
  g_ptr_array_unref (l.stack);
  g_hash_table_unref (l.zones);
  g_array_unref (l.tzid_lines);
  g_ptr_array_unref (l.tzid_names);
  g_array_unref (l.bare_events);
  g_free (l.method);
  return out;
}
