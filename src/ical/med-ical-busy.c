/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-busy.c — the busy time of an external calendar (a mediator's
 * or interpreter's own calendar, exported from Outlook, Google, a phone):
 * merged UTC intervals over [from, to) that the scheduler treats as taken.
 *
 * The file is hostile until proven otherwise. The raw text is checked
 * first (size, UTF-8, structure, nesting; med-ical-lint.c), libical
 * parses it and any X-LIC-ERROR fails the import. Then:
 *
 * Zones. Every TZID must resolve, to a VTIMEZONE in the file or to an IANA
 * name libical and GLib know; anything else fails, naming the zone.
 * "Lying" zones — a VTIMEZONE whose TZID is a known IANA name but whose
 * rules differ — are resolved in favour of the IANA database: the TZID is
 * what the author picked in their client (wall-clock time in that place),
 * while an embedded definition is often stale or hand-made. Only
 * VTIMEZONEs with names outside the IANA database ("China Standard
 * Time") are used as written, and only if they look like time zones
 * (observances with DTSTART and offsets, yearly rules). Every zone is a
 * private copy owned by this call, so expansion never touches libical's
 * shared built-in cache and is safe on any thread.
 *
 * Times. UTC times are taken as they are, TZID times in their zone,
 * floating times in default_zone, and DATE values (all-day events) as
 * whole local days in default_zone.
 *
 * Recurrence. Masters are expanded with libical's icalrecur_iterator over
 * the window only: rules without COUNT are fast-forwarded with
 * icalrecur_iterator_set_start(), and every rule's UNTIL is clamped to the
 * end of the window, because libical otherwise walks a rule that never
 * matches (FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30) up to the year 2582 — over
 * ten seconds for one line. What remains is bounded by an estimate of the
 * iterator's steps (window length over the rule's period) and a count of
 * the steps taken, across the whole file; beyond either, or beyond
 * MED_ICAL_MAX_OCCURRENCES busy intervals in range, the import fails
 * rather than truncates. DTSTART always counts as an occurrence; RDATE
 * (dates, date-times and periods) adds occurrences, EXDATE removes them
 * (a DATE EXDATE removes that local day's occurrences). EXRULE is ignored,
 * which errs on the busy side.
 *
 * Overrides. A component with RECURRENCE-ID replaces the occurrence it
 * names: the original time is free, the override's own time is busy
 * (unless the override is cancelled or transparent); an override missing
 * DTEND and DURATION keeps the master's duration. RANGE=THISANDFUTURE
 * also moves every later occurrence by the same offset, gives it the
 * override's duration and takes the override's status and transparency.
 * An override whose master is absent is read as a single event.
 *
 * TRANSP:TRANSPARENT and STATUS:CANCELLED components are free. VFREEBUSY
 * components are read too: their FREEBUSY periods are busy unless
 * FBTYPE=FREE. */
#define G_LOG_DOMAIN "medsched-ical"

#include "med-ical-private.h"

#include <string.h>

#define MAX_OBSERVANCES 256 /* STANDARD/DAYLIGHT in the file's VTIMEZONEs */
#define MAX_STEPS       500000 /* iterator steps, estimated and taken */
#define MIN_YEAR        1600
#define MAX_YEAR        9999
#define DAY             86400

static const MedIcalScanLimits busy_limits = {
  .max_depth = 4, /* VCALENDAR > VEVENT > VALARM, > VTIMEZONE > STANDARD */
  .max_components = 100000,
  .max_line_bytes = 65536,
};

typedef struct
{
  MedTime rid; /* the occurrence's original start */
  MedTime start;
  MedTime end;
  gboolean busy;
} Instance;

/* A duration the way RFC 5545 means it: whole days are nominal (local
 * days), the rest exact seconds. */
typedef struct
{
  gint64 days;
  gint64 seconds;
} Dur;

typedef struct
{
  MedTime from, to;
  icalcomponent *cal;
  GHashTable *zones; /* TZID → icaltimezone* (owned) */
  icaltimezone *default_tz; /* owned */
  GHashTable *overrides; /* UID → GPtrArray of icalcomponent* */
  GHashTable *master_dur; /* UID → Dur* of the master */
  GArray *busy; /* MedInterval, the result */
  guint64 steps; /* iterator steps, estimated and taken */
  GError **error;
} Busy;

static void
free_zone (gpointer z)
{
  icaltimezone_free (z, 1);
}

/* "event “uid”" for messages. (transfer full) */
static char *
new_label (icalcomponent *comp)
{
  const char *uid = icalcomponent_get_uid (comp);
  g_autofree char *what = med_ical_describe (uid != NULL ? uid : "", -1);

  return g_strdup_printf ("%s “%s”",
      icalcomponent_isa (comp) == ICAL_VFREEBUSY_COMPONENT ? "free/busy"
                                                           : "event",
      what);
}

G_GNUC_PRINTF (4, 5)
static gboolean
fail (Busy *b, MedIcalError code, icalcomponent *comp, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (comp != NULL) {
    g_autofree char *label = new_label (comp);

    g_set_error (b->error, MED_ICAL_ERROR, code, "%s: %s", label, msg);
  } else {
    g_set_error_literal (b->error, MED_ICAL_ERROR, code, msg);
  }
  return FALSE;
}

/* ---- zones ------------------------------------------------------------ */

static icaltimezone *
new_zone_from (icalcomponent *vtz)
{
  icaltimezone *z;

  if (vtz == NULL)
    return NULL;
  z = icaltimezone_new ();
  if (!icaltimezone_set_component (z, vtz)) {
    icalcomponent_free (vtz);
    icaltimezone_free (z, 1);
    return NULL;
  }
  return z;
}

/* A VTIMEZONE from the file that medsched will use as written: it must
 * look like a zone. */
static gboolean
check_vtimezone (Busy *b, icalcomponent *vtz, const char *tzid,
    guint *n_observances)
{
  g_autofree char *what = med_ical_describe (tzid, -1);
  guint n = 0;

  for (icalcomponent *o
       = icalcomponent_get_first_component (vtz, ICAL_ANY_COMPONENT);
       o != NULL;
       o = icalcomponent_get_next_component (vtz, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind k = icalcomponent_isa (o);
    icalproperty *p;

    if (k != ICAL_XSTANDARD_COMPONENT && k != ICAL_XDAYLIGHT_COMPONENT)
      continue;
    n++;
    if (++*n_observances > MAX_OBSERVANCES)
      return fail (b, MED_ICAL_ERROR_INVALID, NULL,
          "the file's time zones have more than %d observances",
          MAX_OBSERVANCES);
    p = icalcomponent_get_first_property (o, ICAL_DTSTART_PROPERTY);
    if (p == NULL
        || icalcomponent_get_first_property (o, ICAL_TZOFFSETTO_PROPERTY)
            == NULL
        || icalcomponent_get_first_property (o, ICAL_TZOFFSETFROM_PROPERTY)
            == NULL)
      return fail (b, MED_ICAL_ERROR_INVALID, NULL,
          "VTIMEZONE “%s”: an observance lacks DTSTART, TZOFFSETFROM or "
          "TZOFFSETTO",
          what);
    {
      struct icaltimetype t = icalproperty_get_dtstart (p);

      if (t.year < MIN_YEAR || t.year > MAX_YEAR)
        return fail (b, MED_ICAL_ERROR_INVALID, NULL,
            "VTIMEZONE “%s”: an observance starts in the year %d", what,
            t.year);
    }
    for (p = icalcomponent_get_first_property (o, ICAL_RRULE_PROPERTY);
         p != NULL;
         p = icalcomponent_get_next_property (o, ICAL_RRULE_PROPERTY)) {
      if (icalproperty_get_rrule (p).freq != ICAL_YEARLY_RECURRENCE)
        return fail (b, MED_ICAL_ERROR_INVALID, NULL,
            "VTIMEZONE “%s”: time zone rules repeat yearly", what);
    }
  }
  if (n == 0)
    return fail (b, MED_ICAL_ERROR_INVALID, NULL,
        "VTIMEZONE “%s” has no STANDARD or DAYLIGHT observance", what);
  return TRUE;
}

/* Resolves tzid: known IANA names from the zone database (even when the
 * file defines them: see the top of the file), others from the file. */
static gboolean
add_zone (Busy *b, const char *tzid, icalcomponent *file_vtz,
    guint *n_observances, icalcomponent *user)
{
  icaltimezone *z = NULL;

  if (g_hash_table_contains (b->zones, tzid))
    return TRUE;
  if (med_ical_zone_is_known (tzid)) {
    icalcomponent *vtz = med_ical_new_full_vtimezone (tzid, tzid);

    if (vtz != NULL)
      z = new_zone_from (vtz);
  } else if (file_vtz != NULL) {
    if (!check_vtimezone (b, file_vtz, tzid, n_observances))
      return FALSE;
    z = new_zone_from (icalcomponent_new_clone (file_vtz));
  }
  if (z == NULL) {
    g_autofree char *what = med_ical_describe (tzid, -1);

    return fail (b, MED_ICAL_ERROR_INVALID, user,
        "unknown time zone “%s”: the file has no VTIMEZONE for it and it "
        "is not an IANA zone name",
        what);
  }
  g_hash_table_insert (b->zones, g_strdup (tzid), z);
  return TRUE;
}

static gboolean
load_zones (Busy *b)
{
  guint n_observances = 0;

  for (icalcomponent *c
       = icalcomponent_get_first_component (b->cal, ICAL_VTIMEZONE_COMPONENT);
       c != NULL; c
       = icalcomponent_get_next_component (b->cal, ICAL_VTIMEZONE_COMPONENT)) {
    icalproperty *p = icalcomponent_get_first_property (c, ICAL_TZID_PROPERTY);
    const char *tzid = p != NULL ? icalproperty_get_tzid (p) : NULL;

    if (tzid == NULL || tzid[0] == '\0')
      return fail (b, MED_ICAL_ERROR_INVALID, NULL, "a VTIMEZONE without TZID");
    if (!add_zone (b, tzid, c, &n_observances, NULL))
      return FALSE;
  }
  /* TZIDs used without a VTIMEZONE */
  for (icalcomponent *c
       = icalcomponent_get_first_component (b->cal, ICAL_ANY_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (b->cal, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind k = icalcomponent_isa (c);

    if (k != ICAL_VEVENT_COMPONENT && k != ICAL_VFREEBUSY_COMPONENT)
      continue;
    for (icalproperty *p
         = icalcomponent_get_first_property (c, ICAL_ANY_PROPERTY);
         p != NULL;
         p = icalcomponent_get_next_property (c, ICAL_ANY_PROPERTY)) {
      icalparameter *tz
          = icalproperty_get_first_parameter (p, ICAL_TZID_PARAMETER);
      const char *tzid = tz != NULL ? icalparameter_get_tzid (tz) : NULL;

      if (tzid != NULL && !add_zone (b, tzid, NULL, &n_observances, c))
        return FALSE;
    }
  }
  return TRUE;
}

/* ---- times ------------------------------------------------------------ */

static gboolean
is_sane_time (struct icaltimetype t)
{
  if (t.year < MIN_YEAR || t.year > MAX_YEAR || t.month < 1 || t.month > 12
      || t.day < 1 || t.day > icaltime_days_in_month (t.month, t.year))
    return FALSE;
  if (t.is_date)
    return TRUE;
  return t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59
      && t.second >= 0 && t.second <= 60;
}

/* The zone a property's local time is read in: its TZID, else floating
 * (the given fallback, default_zone unless said otherwise). */
static icaltimezone *
zone_of (Busy *b, icalproperty *p, icaltimezone *floating)
{
  icalparameter *tz = icalproperty_get_first_parameter (p, ICAL_TZID_PARAMETER);
  const char *tzid = tz != NULL ? icalparameter_get_tzid (tz) : NULL;
  icaltimezone *z = tzid != NULL ? g_hash_table_lookup (b->zones, tzid) : NULL;

  return z != NULL ? z : floating;
}

/* t read in zone z (ignored for UTC and DATE values: a DATE is local
 * midnight in default_zone). */
static MedTime
to_utc (Busy *b, struct icaltimetype t, icaltimezone *z)
{
  if (t.is_date) {
    t.is_date = 0;
    t.hour = t.minute = t.second = 0;
    z = b->default_tz;
  }
  if (icaltime_is_utc (t))
    z = icaltimezone_get_utc_timezone ();
  t.zone = NULL;
  return (MedTime) icaltime_as_timet_with_zone (t, z);
}

/* start + d, days added in local time of z (DATE values: default_zone). */
static MedTime
add_dur (Busy *b, struct icaltimetype local_start, icaltimezone *z, Dur d)
{
  if (d.days != 0) {
    icaltime_adjust (&local_start, (int) d.days, 0, 0, 0);
  }
  return to_utc (b, local_start, z) + d.seconds;
}

static gboolean
read_time (Busy *b, icalcomponent *comp, icalproperty *p, const char *name,
    struct icaltimetype t, MedTime *out)
{
  if (!is_sane_time (t))
    return fail (b, MED_ICAL_ERROR_INVALID, comp,
        "%s is not a date between %d and %d", name, MIN_YEAR, MAX_YEAR);
  *out = to_utc (b, t, zone_of (b, p, b->default_tz));
  return TRUE;
}

static Dur
dur_from_icaldur (struct icaldurationtype d)
{
  Dur r = { (gint64) d.weeks * 7 + d.days,
    (gint64) d.hours * 3600 + (gint64) d.minutes * 60 + d.seconds };

  if (d.is_neg) {
    r.days = -r.days;
    r.seconds = -r.seconds;
  }
  return r;
}

static gboolean
is_free (icalcomponent *comp)
{
  icalproperty *p;

  p = icalcomponent_get_first_property (comp, ICAL_TRANSP_PROPERTY);
  if (p != NULL) {
    icalproperty_transp t = icalproperty_get_transp (p);

    if (t == ICAL_TRANSP_TRANSPARENT || t == ICAL_TRANSP_TRANSPARENTNOCONFLICT)
      return TRUE;
  }
  p = icalcomponent_get_first_property (comp, ICAL_STATUS_PROPERTY);
  return p != NULL && icalproperty_get_status (p) == ICAL_STATUS_CANCELLED;
}

/* Start (as read, and in UTC), its zone, and the duration of an event. */
typedef struct
{
  struct icaltimetype local; /* DTSTART as written (zone field unused) */
  icaltimezone *zone; /* zone local is read in (NULL for UTC) */
  MedTime start;
  Dur dur;
  gboolean has_dur; /* DTEND or DURATION present */
} Start;

static gboolean
read_start (Busy *b, icalcomponent *ev, Start *s)
{
  icalproperty *p
      = icalcomponent_get_first_property (ev, ICAL_DTSTART_PROPERTY);
  icalproperty *pe = icalcomponent_get_first_property (ev, ICAL_DTEND_PROPERTY);
  icalproperty *pd
      = icalcomponent_get_first_property (ev, ICAL_DURATION_PROPERTY);

  memset (s, 0, sizeof *s);
  if (p == NULL)
    return fail (b, MED_ICAL_ERROR_INVALID, ev, "no DTSTART");
  s->local = icalproperty_get_dtstart (p);
  if (!read_time (b, ev, p, "DTSTART", s->local, &s->start))
    return FALSE;
  s->zone = s->local.is_date       ? b->default_tz
      : icaltime_is_utc (s->local) ? NULL
                                   : zone_of (b, p, b->default_tz);
  if (pe != NULL && pd != NULL)
    return fail (b, MED_ICAL_ERROR_INVALID, ev, "both DTEND and DURATION");
  if (pe != NULL) {
    struct icaltimetype e = icalproperty_get_dtend (pe);
    MedTime end;

    if (!read_time (b, ev, pe, "DTEND", e, &end))
      return FALSE;
    if (end < s->start)
      return fail (b, MED_ICAL_ERROR_INVALID, ev, "DTEND before DTSTART");
    if (s->local.is_date && e.is_date) {
      s->dur.days = (end - s->start + DAY / 2) / DAY;
    } else {
      s->dur.seconds = end - s->start;
    }
    s->has_dur = TRUE;
  } else if (pd != NULL) {
    s->dur = dur_from_icaldur (icalproperty_get_duration (pd));
    if (s->dur.days < 0 || s->dur.seconds < 0)
      return fail (b, MED_ICAL_ERROR_INVALID, ev, "negative DURATION");
    if (s->dur.days > 100000 || s->dur.seconds > 100000LL * DAY)
      return fail (b, MED_ICAL_ERROR_INVALID, ev, "DURATION too long");
    s->has_dur = TRUE;
  } else if (s->local.is_date) {
    s->dur.days = 1; /* RFC 5545: an all-day event without end is one day */
  }
  return TRUE;
}

static MedTime
end_of (Busy *b, const Start *s, struct icaltimetype local, MedTime start)
{
  if (s->dur.days == 0)
    return start + s->dur.seconds;
  if (s->zone == NULL) /* UTC: a day is 86,400 s */
    return start + s->dur.days * DAY + s->dur.seconds;
  return add_dur (b, local, s->zone, s->dur);
}

/* Adds [start, end) ∩ [from, to) to the result. */
static gboolean
add_busy (Busy *b, icalcomponent *comp, MedTime start, MedTime end)
{
  MedInterval iv = { MAX (start, b->from), MIN (end, b->to) };

  if (iv.start >= iv.end)
    return TRUE;
  if (b->busy->len >= MED_ICAL_MAX_OCCURRENCES)
    return fail (b, MED_ICAL_ERROR_TOO_LARGE, comp,
        "more than %d busy occurrences in the range", MED_ICAL_MAX_OCCURRENCES);
  g_array_append_val (b->busy, iv);
  return TRUE;
}

/* ---- recurrence ------------------------------------------------------- */

static gint64
period_seconds (icalrecurrencetype_frequency f)
{
  switch (f) {
    case ICAL_SECONDLY_RECURRENCE:
      return 1;
    case ICAL_MINUTELY_RECURRENCE:
      return 60;
    case ICAL_HOURLY_RECURRENCE:
      return 3600;
    case ICAL_DAILY_RECURRENCE:
      return DAY;
    case ICAL_WEEKLY_RECURRENCE:
      return 7 * DAY;
    case ICAL_MONTHLY_RECURRENCE:
      return 28 * DAY;
    case ICAL_YEARLY_RECURRENCE:
      return 365 * DAY;
    default:
      return 0;
  }
}

typedef struct
{
  MedTime rid;
  MedTime shift; /* new start - rid */
  Dur dur; /* the override's duration */
  gboolean busy;
} Future;

static int
compare_futures (gconstpointer a, gconstpointer b)
{
  const Future *fa = a, *fb = b;

  return fa->rid < fb->rid ? -1 : fa->rid > fb->rid;
}

static int
compare_instances (gconstpointer a, gconstpointer b)
{
  const Instance *ia = a, *ib = b;

  return ia->rid < ib->rid ? -1 : ia->rid > ib->rid;
}

static void
add_instance (GArray *instances, GHashTable *seen, MedTime rid, MedTime end)
{
  Instance in = { rid, rid, end, TRUE };

  if (g_hash_table_add (seen, g_memdup2 (&rid, sizeof rid)))
    g_array_append_val (instances, in);
}

/* The occurrences of one RRULE with start in [lo, hi). */
static gboolean
expand_rule (Busy *b, icalcomponent *ev, const Start *s,
    struct icalrecurrencetype rule, MedTime lo, MedTime hi, GArray *instances,
    GHashTable *seen)
{
  gint64 period = period_seconds (rule.freq);
  gint interval = MAX (rule.interval, 1);
  MedTime begin = rule.count > 0 ? s->start : MAX (lo, s->start);
  struct icaltimetype dtstart = s->local;
  icalrecur_iterator *it;
  gboolean ok = TRUE;

  if (period == 0)
    return fail (b, MED_ICAL_ERROR_INVALID, ev, "RRULE without a FREQ");
  if (hi <= begin)
    return TRUE;
  /* libical takes a step per period even when nothing matches */
  b->steps += (guint64) ((hi - begin) / (period * interval)) + 1;
  if (b->steps > MAX_STEPS)
    return fail (b, MED_ICAL_ERROR_TOO_LARGE, ev,
        "its RRULE is too dense to expand over the range (at most %d steps "
        "per file)",
        MAX_STEPS);

  if (s->zone != NULL)
    dtstart.zone = s->zone; /* UTC keeps libical's UTC zone */
  {
    /* Stop where the window stops, whatever the rule says: a day of
     * margin covers floating and date comparisons. */
    struct icaltimetype limit = s->local.is_date
        ? icaltime_from_timet_with_zone (hi + DAY, 1, NULL)
        : med_ical_utc_time (hi + DAY);

    if (icaltime_is_null_time (rule.until)
        || icaltime_compare (rule.until, limit) > 0)
      rule.until = limit;
  }
  it = icalrecur_iterator_new (rule, dtstart);
  if (it == NULL)
    return fail (b, MED_ICAL_ERROR_INVALID, ev,
        "its RRULE cannot be expanded (contradictory or unsupported parts)");
  if (rule.count == 0 && lo > s->start) {
    struct icaltimetype from_local = icaltime_from_timet_with_zone ((time_t) lo,
        s->local.is_date, s->zone);

    from_local.zone = s->zone;
    if (!icalrecur_iterator_set_start (it, from_local)) {
      icalrecur_iterator_free (it);
      return fail (b, MED_ICAL_ERROR_INVALID, ev,
          "its RRULE cannot be expanded from the start of the range");
    }
  }
  for (;;) {
    struct icaltimetype t = icalrecur_iterator_next (it);
    MedTime start;

    if (icaltime_is_null_time (t))
      break;
    if (++b->steps > MAX_STEPS) {
      ok = fail (b, MED_ICAL_ERROR_TOO_LARGE, ev,
          "its RRULE has too many occurrences to expand (at most %d steps "
          "per file)",
          MAX_STEPS);
      break;
    }
    if (!is_sane_time (t))
      break;
    start = to_utc (b, t, s->zone);
    if (start >= hi)
      break;
    if (start < lo)
      continue;
    if (instances->len >= 2 * MED_ICAL_MAX_OCCURRENCES) {
      ok = fail (b, MED_ICAL_ERROR_TOO_LARGE, ev,
          "more than %d occurrences in the range", MED_ICAL_MAX_OCCURRENCES);
      break;
    }
    t.zone = NULL;
    add_instance (instances, seen, start, end_of (b, s, t, start));
  }
  icalrecur_iterator_free (it);
  return ok;
}

/* Does an EXDATE exclude the occurrence at rid (local start lt)? */
typedef struct
{
  GHashTable *times; /* MedTime set */
  GHashTable *days; /* "YYYYMMDD" of DATE EXDATEs on a timed master */
} Exclusions;

static gboolean
read_exclusions (Busy *b, icalcomponent *ev, const Start *s, Exclusions *x)
{
  for (icalproperty *p
       = icalcomponent_get_first_property (ev, ICAL_EXDATE_PROPERTY);
       p != NULL;
       p = icalcomponent_get_next_property (ev, ICAL_EXDATE_PROPERTY)) {
    struct icaltimetype t = icalproperty_get_exdate (p);
    MedTime u;

    if (!is_sane_time (t))
      return fail (b, MED_ICAL_ERROR_INVALID, ev,
          "EXDATE is not a date between %d and %d", MIN_YEAR, MAX_YEAR);
    if (t.is_date && !s->local.is_date) {
      g_hash_table_add (x->days,
          g_strdup_printf ("%04d%02d%02d", t.year, t.month, t.day));
      continue;
    }
    /* a floating EXDATE on a zoned master is read in the master's zone */
    u = to_utc (b, t,
        zone_of (b, p, s->zone != NULL ? s->zone : b->default_tz));
    g_hash_table_add (x->times, g_memdup2 (&u, sizeof u));
  }
  return TRUE;
}

static gboolean
is_excluded (Busy *b, const Start *s, const Exclusions *x, MedTime rid)
{
  if (g_hash_table_contains (x->times, &rid))
    return TRUE;
  if (g_hash_table_size (x->days) > 0) {
    struct icaltimetype lt
        = icaltime_from_timet_with_zone ((time_t) rid, 0, s->zone);
    char key[16];

    g_snprintf (key, sizeof key, "%04d%02d%02d", lt.year, lt.month, lt.day);
    return g_hash_table_contains (x->days, key);
  }
  return FALSE;
}

static guint
hash_time (gconstpointer p)
{
  return g_int64_hash (p);
}

static gboolean
equal_time (gconstpointer a, gconstpointer b)
{
  return g_int64_equal (a, b);
}

/* The RECURRENCE-ID of an override, in UTC; its zone defaults to the
 * master's. */
static gboolean
read_rid (Busy *b, icalcomponent *ov, const Start *master, MedTime *out,
    gboolean *future)
{
  icalproperty *p
      = icalcomponent_get_first_property (ov, ICAL_RECURRENCEID_PROPERTY);
  icalparameter *range
      = icalproperty_get_first_parameter (p, ICAL_RANGE_PARAMETER);
  struct icaltimetype t = icalproperty_get_recurrenceid (p);

  if (!is_sane_time (t))
    return fail (b, MED_ICAL_ERROR_INVALID, ov,
        "RECURRENCE-ID is not a date between %d and %d", MIN_YEAR, MAX_YEAR);
  *out = to_utc (b, t,
      zone_of (b, p,
          master != NULL && master->zone != NULL ? master->zone
                                                 : b->default_tz));
  *future = range != NULL
      && icalparameter_get_range (range) == ICAL_RANGE_THISANDFUTURE;
  return TRUE;
}

static gboolean
expand_master (Busy *b, icalcomponent *ev)
{
  const char *uid = icalcomponent_get_uid (ev);
  GPtrArray *ovs = uid != NULL ? g_hash_table_lookup (b->overrides, uid) : NULL;
  g_autoptr (GArray) instances = g_array_new (FALSE, FALSE, sizeof (Instance));
  g_autoptr (GArray) futures = g_array_new (FALSE, FALSE, sizeof (Future));
  g_autoptr (GHashTable) seen = NULL, replaced = NULL;
  Exclusions x = { 0 };
  gboolean busy = !is_free (ev), ok = FALSE;
  gboolean recurs;
  MedTime lo, hi, max_shift = 0;
  gint64 max_dur;
  Start s;

  if (!read_start (b, ev, &s))
    return FALSE;
  if (uid != NULL && !g_hash_table_contains (b->master_dur, uid)) {
    Dur *d = g_new (Dur, 1);

    *d = s.dur;
    g_hash_table_insert (b->master_dur, g_strdup (uid), d);
  }
  recurs = icalcomponent_get_first_property (ev, ICAL_RRULE_PROPERTY) != NULL
      || icalcomponent_get_first_property (ev, ICAL_RDATE_PROPERTY) != NULL;
  if (!recurs) {
    if (!busy)
      return TRUE;
    return add_busy (b, ev, s.start, end_of (b, &s, s.local, s.start));
  }

  seen = g_hash_table_new_full (hash_time, equal_time, g_free, NULL);
  replaced = g_hash_table_new_full (hash_time, equal_time, g_free, NULL);
  x.times = g_hash_table_new_full (hash_time, equal_time, g_free, NULL);
  x.days = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* overrides of this series: which occurrences they replace, and how the
   * THISANDFUTURE ones move the rest */
  max_dur = s.dur.days * DAY + s.dur.seconds + 2 * 3600;
  for (guint i = 0; ovs != NULL && i < ovs->len; i++) {
    icalcomponent *ov = g_ptr_array_index (ovs, i);
    MedTime rid = 0;
    gboolean future = FALSE;

    if (!read_rid (b, ov, &s, &rid, &future))
      goto out;
    g_hash_table_add (replaced, g_memdup2 (&rid, sizeof rid));
    if (future) {
      Start os;
      Future f;

      if (!read_start (b, ov, &os))
        goto out;
      f.rid = rid;
      f.shift = os.start - rid;
      f.dur = os.has_dur ? os.dur : s.dur;
      f.busy = !is_free (ov);
      g_array_append_val (futures, f);
      max_shift = MAX (max_shift, ABS (f.shift));
      max_dur = MAX (max_dur, f.dur.days * DAY + f.dur.seconds + 2 * 3600);
    }
  }
  g_array_sort (futures, compare_futures);
  if (max_shift > 50LL * 366 * DAY || max_dur > 50LL * 366 * DAY) {
    fail (b, MED_ICAL_ERROR_INVALID, ev,
        "an override moves or stretches the series by decades");
    goto out;
  }
  lo = b->from - max_dur - max_shift;
  hi = b->to + max_shift;

  if (!read_exclusions (b, ev, &s, &x))
    goto out;

  /* DTSTART is always an occurrence */
  if (s.start >= lo && s.start < hi)
    add_instance (instances, seen, s.start, end_of (b, &s, s.local, s.start));
  for (icalproperty *p
       = icalcomponent_get_first_property (ev, ICAL_RRULE_PROPERTY);
       p != NULL;
       p = icalcomponent_get_next_property (ev, ICAL_RRULE_PROPERTY)) {
    if (s.local.year < 1900) {
      fail (b, MED_ICAL_ERROR_INVALID, ev,
          "a repeating event starting before 1900");
      goto out;
    }
    if (!expand_rule (b, ev, &s, icalproperty_get_rrule (p), lo, hi, instances,
            seen))
      goto out;
  }
  for (icalproperty *p
       = icalcomponent_get_first_property (ev, ICAL_RDATE_PROPERTY);
       p != NULL;
       p = icalcomponent_get_next_property (ev, ICAL_RDATE_PROPERTY)) {
    struct icaldatetimeperiodtype r = icalproperty_get_rdate (p);
    icaltimezone *z = zone_of (b, p, s.zone != NULL ? s.zone : b->default_tz);
    MedTime start, end;

    if (!icaltime_is_null_time (r.period.start)) {
      if (!is_sane_time (r.period.start)) {
        fail (b, MED_ICAL_ERROR_INVALID, ev, "RDATE period out of range");
        goto out;
      }
      start = to_utc (b, r.period.start, z);
      if (!icaltime_is_null_time (r.period.end)) {
        if (!is_sane_time (r.period.end)) {
          fail (b, MED_ICAL_ERROR_INVALID, ev, "RDATE period out of range");
          goto out;
        }
        end = to_utc (b, r.period.end, z);
      } else {
        Dur d = dur_from_icaldur (r.period.duration);

        end = start + d.days * DAY + d.seconds;
      }
      if (end < start) {
        fail (b, MED_ICAL_ERROR_INVALID, ev, "RDATE period ends first");
        goto out;
      }
    } else {
      if (!is_sane_time (r.time)) {
        fail (b, MED_ICAL_ERROR_INVALID, ev, "RDATE out of range");
        goto out;
      }
      start = to_utc (b, r.time, z);
      {
        struct icaltimetype lt = r.time;

        lt.zone = NULL;
        end = end_of (b, &s, lt, start);
      }
    }
    if (start < lo || start >= hi)
      continue;
    if (instances->len >= 2 * MED_ICAL_MAX_OCCURRENCES) {
      fail (b, MED_ICAL_ERROR_TOO_LARGE, ev,
          "more than %d occurrences in the range", MED_ICAL_MAX_OCCURRENCES);
      goto out;
    }
    add_instance (instances, seen, start, end);
  }

  g_array_sort (instances, compare_instances);
  for (guint i = 0; i < instances->len; i++) {
    Instance *in = &g_array_index (instances, Instance, i);
    const Future *f = NULL;

    if (g_hash_table_contains (replaced, &in->rid)
        || is_excluded (b, &s, &x, in->rid))
      continue;
    for (guint k = 0; k < futures->len; k++) {
      const Future *fk = &g_array_index (futures, Future, k);

      if (fk->rid <= in->rid)
        f = fk;
    }
    if (f != NULL) {
      struct icaltimetype lt;

      in->start = in->rid + f->shift;
      lt = icaltime_from_timet_with_zone ((time_t) in->start, 0, s.zone);
      lt.zone = NULL;
      in->end = f->dur.days == 0 || s.zone == NULL
          ? in->start + f->dur.days * DAY + f->dur.seconds
          : add_dur (b, lt, s.zone, f->dur);
      in->busy = f->busy;
    } else {
      in->busy = busy;
    }
    if (in->busy && !add_busy (b, ev, in->start, in->end))
      goto out;
  }
  ok = TRUE;

out:
  g_hash_table_unref (x.times);
  g_hash_table_unref (x.days);
  return ok;
}

/* An override (RECURRENCE-ID) as the single event it is. */
static gboolean
add_override (Busy *b, icalcomponent *ov)
{
  const char *uid = icalcomponent_get_uid (ov);
  const Dur *master
      = uid != NULL ? g_hash_table_lookup (b->master_dur, uid) : NULL;
  Start s;

  if (is_free (ov))
    return TRUE;
  if (!read_start (b, ov, &s))
    return FALSE;
  if (!s.has_dur && master != NULL)
    s.dur = *master;
  return add_busy (b, ov, s.start, end_of (b, &s, s.local, s.start));
}

static gboolean
add_freebusy (Busy *b, icalcomponent *fb)
{
  for (icalproperty *p
       = icalcomponent_get_first_property (fb, ICAL_FREEBUSY_PROPERTY);
       p != NULL;
       p = icalcomponent_get_next_property (fb, ICAL_FREEBUSY_PROPERTY)) {
    icalparameter *t
        = icalproperty_get_first_parameter (p, ICAL_FBTYPE_PARAMETER);
    struct icalperiodtype period = icalproperty_get_freebusy (p);
    MedTime start, end;

    if (t != NULL && icalparameter_get_fbtype (t) == ICAL_FBTYPE_FREE)
      continue;
    if (!is_sane_time (period.start)
        || (!icaltime_is_null_time (period.end) && !is_sane_time (period.end)))
      return fail (b, MED_ICAL_ERROR_INVALID, fb, "FREEBUSY out of range");
    start = to_utc (b, period.start, b->default_tz);
    if (!icaltime_is_null_time (period.end)) {
      end = to_utc (b, period.end, b->default_tz);
    } else {
      Dur d = dur_from_icaldur (period.duration);

      end = start + d.days * DAY + d.seconds;
    }
    if (end < start)
      return fail (b, MED_ICAL_ERROR_INVALID, fb, "FREEBUSY ends first");
    if (!add_busy (b, fb, start, end))
      return FALSE;
  }
  return TRUE;
}

static int
compare_intervals (gconstpointer a, gconstpointer b)
{
  const MedInterval *ia = a, *ib = b;

  if (ia->start != ib->start)
    return ia->start < ib->start ? -1 : 1;
  return ia->end < ib->end ? -1 : ia->end > ib->end;
}

static void
merge (GArray *a)
{
  guint w = 0;

  g_array_sort (a, compare_intervals);
  for (guint i = 0; i < a->len; i++) {
    MedInterval iv = g_array_index (a, MedInterval, i);
    MedInterval *last = w > 0 ? &g_array_index (a, MedInterval, w - 1) : NULL;

    if (last != NULL && iv.start <= last->end)
      last->end = MAX (last->end, iv.end);
    else
      g_array_index (a, MedInterval, w++) = iv;
  }
  g_array_set_size (a, w);
}

static gboolean
read_calendar (Busy *b)
{
  g_autoptr (GPtrArray) masters = g_ptr_array_new ();
  g_autoptr (GPtrArray) all_overrides = g_ptr_array_new ();

  if (!load_zones (b))
    return FALSE;
  for (icalcomponent *c
       = icalcomponent_get_first_component (b->cal, ICAL_ANY_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (b->cal, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind k = icalcomponent_isa (c);

    if (k == ICAL_VFREEBUSY_COMPONENT) {
      if (!add_freebusy (b, c))
        return FALSE;
      continue;
    }
    if (k != ICAL_VEVENT_COMPONENT)
      continue;
    if (icalcomponent_get_first_property (c, ICAL_RECURRENCEID_PROPERTY)
        != NULL) {
      const char *uid = icalcomponent_get_uid (c);
      GPtrArray *list;

      g_ptr_array_add (all_overrides, c);
      if (uid == NULL)
        continue;
      list = g_hash_table_lookup (b->overrides, uid);
      if (list == NULL) {
        list = g_ptr_array_new ();
        g_hash_table_insert (b->overrides, g_strdup (uid), list);
      }
      g_ptr_array_add (list, c);
    } else {
      g_ptr_array_add (masters, c);
    }
  }
  for (guint i = 0; i < masters->len; i++) {
    if (!expand_master (b, g_ptr_array_index (masters, i)))
      return FALSE;
  }
  for (guint i = 0; i < all_overrides->len; i++) {
    if (!add_override (b, g_ptr_array_index (all_overrides, i)))
      return FALSE;
  }
  merge (b->busy);
  return TRUE;
}

GArray *
med_ical_parse_busy (const char *data, gsize len, MedTime from, MedTime to,
    const char *default_zone, GError **error)
{
  g_autofree char *text = NULL;
  Busy b = { 0 };
  GArray *result = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* 1601-01-01 … 9999-12-31: keeps the window arithmetic far from
   * overflow */
  if (from >= to || from < G_GINT64_CONSTANT (-11644473600)
      || to > G_GINT64_CONSTANT (253402300799)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "the busy range is empty or outside the years 1601–9999");
    return NULL;
  }
  if (!med_ical_zone_is_known (default_zone)) {
    g_autofree char *what = med_ical_describe (default_zone, -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "unknown default time zone “%s”", what);
    return NULL;
  }
  med_ical_ensure_init ();
  text = med_ical_new_checked_text (data, len, &busy_limits, error);
  if (text == NULL)
    return NULL;
  b.cal = med_ical_new_parsed (text, error);
  if (b.cal == NULL)
    return NULL;

  b.from = from;
  b.to = to;
  b.error = error;
  b.zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_zone);
  b.default_tz = new_zone_from (
      med_ical_new_full_vtimezone (default_zone, "X-MED-DEFAULT-ZONE"));
  b.overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_ptr_array_unref);
  b.master_dur
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  b.busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));

  if (b.default_tz == NULL)
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "no zone data for the default time zone");
  else if (read_calendar (&b))
    result = g_array_ref (b.busy);

  g_array_unref (b.busy);
  g_hash_table_unref (b.master_dur);
  g_hash_table_unref (b.overrides);
  if (b.default_tz != NULL)
    icaltimezone_free (b.default_tz, 1);
  g_hash_table_unref (b.zones);
  icalcomponent_free (b.cal);
  return result;
}
