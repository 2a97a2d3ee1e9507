/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-zone.c — the time zones medsched writes and reads.
 *
 * Exported calendars name the centre's zone by its bare IANA name
 * (TZID=Asia/Shanghai) and carry one VTIMEZONE of that name, truncated to
 * the years the calendar uses. libical's own zone ids carry a
 * "/freeassociation.sourceforge.net/" prefix that clients do not know, and
 * the full-history VTIMEZONE of Asia/Shanghai crashes python3-icalendar
 * 4.0.3, so each component is cloned from libical's built-in zone,
 * truncated with icaltimezone_truncate_vtimezone() and renamed. The
 * truncated components are cached per (zone, first year, last year) and
 * handed out as clones.
 *
 * libical's built-in zone cache is not thread-safe in 3.0.16: every access
 * to it from this module goes through zone_lock, and med_ical_init() loads
 * the zone list and the centre's zone on the main thread before threads
 * start. Local times are computed with GLib (GTimeZone is thread-safe and
 * reads the same tzdata as libical on Debian), so writing a calendar never
 * touches libical's zone state outside the lock. */
#define G_LOG_DOMAIN "medsched-ical"

#include "med-ical-private.h"

#include <string.h>

#define DEFAULT_ZONE        "Asia/Shanghai"
#define MAX_ZONE_NAME_BYTES 64
#define MAX_CACHED          256 /* truncated components kept */

static GMutex zone_lock;
static GHashTable *truncated; /* "zone first last" → icalcomponent* */

/* IANA names are ASCII letters, digits and "/_+-"; anything else (a path,
 * "..", a Windows zone name with spaces) is not one. */
static gboolean
is_zone_name (const char *zone)
{
  gsize n;

  if (zone == NULL)
    return FALSE;
  n = strlen (zone);
  if (n == 0 || n > MAX_ZONE_NAME_BYTES || zone[0] == '/'
      || strstr (zone, "..") != NULL)
    return FALSE;
  for (const char *p = zone; *p; p++) {
    if (!g_ascii_isalnum (*p) && strchr ("/_+-", *p) == NULL)
      return FALSE;
  }
  return TRUE;
}

/* The built-in zone with its VTIMEZONE loaded, or NULL. Caller holds
 * zone_lock. */
static icaltimezone *
get_builtin_locked (const char *zone)
{
  icaltimezone *z;

  if (!is_zone_name (zone))
    return NULL;
  z = icaltimezone_get_builtin_timezone (zone);
  if (z == NULL || icaltimezone_get_component (z) == NULL)
    return NULL;
  return z;
}

void
med_ical_init (const char *zone)
{
  g_mutex_lock (&zone_lock);
  (void) icaltimezone_get_utc_timezone ();
  (void) icaltimezone_get_builtin_timezones ();
  (void) get_builtin_locked (DEFAULT_ZONE);
  if (zone != NULL && get_builtin_locked (zone) == NULL)
    g_warning ("time zone “%s” is not known to libical", zone);
  if (truncated == NULL)
    truncated = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) icalcomponent_free);
  g_mutex_unlock (&zone_lock);
}

static gpointer
init_once (gpointer data)
{
  med_ical_init (NULL);
  return NULL;
}

void
med_ical_ensure_init (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, init_once, NULL);
}

gboolean
med_ical_zone_is_known (const char *zone)
{
  g_autoptr (GTimeZone) tz = NULL;
  gboolean known;

  if (!is_zone_name (zone))
    return FALSE;
  med_ical_ensure_init ();
  tz = g_time_zone_new_identifier (zone);
  if (tz == NULL)
    return FALSE;
  g_mutex_lock (&zone_lock);
  known = get_builtin_locked (zone) != NULL;
  g_mutex_unlock (&zone_lock);
  return known;
}

GTimeZone *
med_ical_new_gzone (const char *zone, GError **error)
{
  GTimeZone *tz;

  med_ical_ensure_init ();
  tz = is_zone_name (zone) ? g_time_zone_new_identifier (zone) : NULL;
  if (tz == NULL) {
    g_autofree char *what = med_ical_describe (zone, -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "unknown time zone “%s” (expected an IANA name such as "
        "Asia/Shanghai)",
        what);
  }
  return tz;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * civil_from_days). */
static void
civil_from_days (gint64 z, int *y, int *m, int *d)
{
  gint64 era, doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int) (doy - (153 * mp + 2) / 5 + 1);
  *m = (int) (mp < 10 ? mp + 3 : mp - 9);
  *y = (int) (yoe + era * 400 + (*m <= 2));
}

static struct icaltimetype
time_from_seconds (gint64 s)
{
  struct icaltimetype tt = icaltime_null_time ();
  gint64 days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  gint64 rem = s - days * 86400;

  civil_from_days (days, &tt.year, &tt.month, &tt.day);
  tt.hour = (int) (rem / 3600);
  tt.minute = (int) (rem % 3600 / 60);
  tt.second = (int) (rem % 60);
  return tt;
}

static gint64
local_seconds (GTimeZone *tz, MedTime t)
{
  gint interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, t);

  return t + (interval >= 0 ? g_time_zone_get_offset (tz, interval) : 0);
}

struct icaltimetype
med_ical_local_time (GTimeZone *tz, MedTime t)
{
  return time_from_seconds (local_seconds (tz, t));
}

struct icaltimetype
med_ical_utc_time (MedTime t)
{
  struct icaltimetype tt = time_from_seconds (t);

  tt.zone = icaltimezone_get_utc_timezone ();
  return tt;
}

gint
med_ical_local_year (GTimeZone *tz, MedTime t)
{
  return med_ical_local_time (tz, t).year;
}

/* Local midnight of 1 January of year in tz, as a UTC libical time. */
static struct icaltimetype
new_year_utc (GTimeZone *tz, gint year)
{
  g_autoptr (GDateTime) dt = g_date_time_new (tz, year, 1, 1, 0, 0, 0);

  return med_ical_utc_time (dt != NULL ? g_date_time_to_unix (dt) : 0);
}

static void
rename_vtimezone (icalcomponent *vtz, const char *tzid)
{
  icalproperty *p = icalcomponent_get_first_property (vtz, ICAL_TZID_PROPERTY);

  if (p != NULL)
    icalproperty_set_tzid (p, tzid);
  else
    icalcomponent_add_property (vtz, icalproperty_new_tzid (tzid));
}

#define OPEN_RULE_MARK "X-MED-OPEN-RULE"

/* Marks the rules still running at end (no UNTIL, no COUNT, or an UNTIL
 * after it; libical's zones from tzdata end rules in 2037 and restart
 * them): the ones truncation will cut. */
static void
mark_open_rules (icalcomponent *vtz, struct icaltimetype end)
{
  for (icalcomponent *o
       = icalcomponent_get_first_component (vtz, ICAL_ANY_COMPONENT);
       o != NULL;
       o = icalcomponent_get_next_component (vtz, ICAL_ANY_COMPONENT)) {
    for (icalproperty *p
         = icalcomponent_get_first_property (o, ICAL_RRULE_PROPERTY);
         p != NULL;
         p = icalcomponent_get_next_property (o, ICAL_RRULE_PROPERTY)) {
      struct icalrecurrencetype r = icalproperty_get_rrule (p);

      if (r.count == 0
          && (icaltime_is_null_time (r.until)
              || icaltime_compare (r.until, end) >= 0)) {
        icalparameter *mark = icalparameter_new_x ("1");

        icalparameter_set_xname (mark, OPEN_RULE_MARK);
        icalproperty_add_parameter (p, mark);
      }
    }
  }
}

/* Truncation ends an open rule with UNTIL at its last onset in range.
 * python3-vobject 0.9.6 drops an onset equal to UNTIL, which puts a
 * daylight-saving zone an hour off for its whole last year; an UNTIL at
 * the end of the range means the same (no onset lies between) and reads
 * right everywhere. Rules that ended by themselves keep their UNTIL. */
static void
end_open_rules (icalcomponent *vtz, struct icaltimetype end)
{
  for (icalcomponent *o
       = icalcomponent_get_first_component (vtz, ICAL_ANY_COMPONENT);
       o != NULL;
       o = icalcomponent_get_next_component (vtz, ICAL_ANY_COMPONENT)) {
    for (icalproperty *p
         = icalcomponent_get_first_property (o, ICAL_RRULE_PROPERTY);
         p != NULL;
         p = icalcomponent_get_next_property (o, ICAL_RRULE_PROPERTY)) {
      struct icalrecurrencetype r;

      if (icalproperty_get_parameter_as_string (p, OPEN_RULE_MARK) == NULL)
        continue;
      icalproperty_remove_parameter_by_name (p, OPEN_RULE_MARK);
      r = icalproperty_get_rrule (p);
      if (!icaltime_is_null_time (r.until)
          && icaltime_compare (r.until, end) < 0) {
        r.until = end;
        icalproperty_set_rrule (p, r);
      }
    }
  }
}

icalcomponent *
med_ical_new_vtimezone (const char *zone, gint first_year, gint last_year,
    GError **error)
{
  g_autoptr (GTimeZone) tz = med_ical_new_gzone (zone, error);
  g_autofree char *key = NULL;
  icalcomponent *cached, *copy = NULL;

  if (tz == NULL)
    return NULL;
  first_year = CLAMP (first_year, 1970, 2200);
  last_year = CLAMP (last_year, first_year, 2200);
  key = g_strdup_printf ("%s %d %d", zone, first_year, last_year);

  g_mutex_lock (&zone_lock);
  if (truncated == NULL)
    truncated = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) icalcomponent_free);
  cached = g_hash_table_lookup (truncated, key);
  if (cached == NULL) {
    icaltimezone *builtin = get_builtin_locked (zone);

    if (builtin != NULL) {
      struct icaltimetype end = new_year_utc (tz, last_year + 1);

      cached = icalcomponent_new_clone (icaltimezone_get_component (builtin));
      mark_open_rules (cached, end);
      /* ms_compatible keeps the RRULE form of current rules instead of
       * listing transitions as RDATEs in UTC. */
      icaltimezone_truncate_vtimezone (cached, new_year_utc (tz, first_year),
          end, 1);
      end_open_rules (cached, end);
      rename_vtimezone (cached, zone);
      if (g_hash_table_size (truncated) >= MAX_CACHED)
        g_hash_table_remove_all (truncated);
      g_hash_table_insert (truncated, g_steal_pointer (&key), cached);
    }
  }
  if (cached != NULL)
    copy = icalcomponent_new_clone (cached);
  g_mutex_unlock (&zone_lock);

  if (copy == NULL) {
    g_autofree char *what = med_ical_describe (zone, -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "time zone “%s” has no VTIMEZONE in libical's zone data", what);
  }
  return copy;
}

icalcomponent *
med_ical_new_full_vtimezone (const char *zone, const char *tzid)
{
  icaltimezone *builtin;
  icalcomponent *copy = NULL;

  g_mutex_lock (&zone_lock);
  builtin = get_builtin_locked (zone);
  if (builtin != NULL)
    copy = icalcomponent_new_clone (icaltimezone_get_component (builtin));
  g_mutex_unlock (&zone_lock);
  if (copy != NULL)
    rename_vtimezone (copy, tzid);
  return copy;
}
