/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-feed.c — subscription feeds (webcal) and published free/busy.
 *
 * A feed is a calendar without METHOD (RFC 5545 publication, not iTIP):
 * NAME and X-WR-CALNAME, X-WR-TIMEZONE, REFRESH-INTERVAL (RFC 7986) with
 * its older twin X-PUBLISHED-TTL, one VTIMEZONE truncated to the years
 * its events use, and the events sorted by (start, UID). Every event's
 * DTSTAMP is the feed's last_change, so the same state always gives the
 * same bytes and clients and caches can compare them.
 *
 * What an event says depends on the audience. PUBLIC (a room board):
 * "Reserved", CLASS:CONFIDENTIAL, the room, no case number, names or
 * attendees. STAFF: case number and kind, room, mediator, interpreter and
 * mode, never a party's contact data. PARTY: the party-facing summary of
 * the events the caller passes (the caller filters to the party's own
 * case); no join links (a feed is fetched again and again and may be
 * shared, a link is a capability). Every text is in the feed's language
 * (MedFeed.language, through po/: the invites' words), one language a
 * feed: the caller decides whose (docs/ical.md).
 *
 * Cancelled bookings the caller passes stay in the feed with
 * STATUS:CANCELLED, TRANSP:TRANSPARENT and their bumped SEQUENCE: a client
 * that already has the event then drops or strikes it, where an event that
 * merely vanished is kept by some clients until their cache expires. The
 * caller decides how long cancelled bookings are listed.
 *
 * Events are built with libical and serialised one at a time into one
 * buffer, so a 10,000-event feed never holds 10,000 components. */
#define G_LOG_DOMAIN "medsched-ical"

#include "med-ical-private.h"

#include <medsched/med-i18n.h>

#include <stdlib.h>
#include <string.h>

static int
compare_events (gconstpointer a, gconstpointer b)
{
  const MedFeedEvent *ea = *(const MedFeedEvent *const *) a;
  const MedFeedEvent *eb = *(const MedFeedEvent *const *) b;

  if (ea->booking->start != eb->booking->start)
    return ea->booking->start < eb->booking->start ? -1 : 1;
  return strcmp (ea->booking->uid, eb->booking->uid);
}

static gboolean
check_event (const MedFeedEvent *fe, guint index, GError **error)
{
  if (fe == NULL || fe->booking == NULL || fe->kase == NULL
      || fe->room == NULL) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "feed event #%u lacks its booking, case or room", index + 1);
    return FALSE;
  }
  if (fe->booking->uid == NULL || fe->booking->uid[0] == '\0'
      || strlen (fe->booking->uid) > 255
      || !g_utf8_validate (fe->booking->uid, -1, NULL)
      || fe->booking->end <= fe->booking->start || fe->booking->sequence < 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "booking %" G_GINT64_FORMAT " has no usable UID or times",
        fe->booking->id);
    return FALSE;
  }
  return TRUE;
}

/* A DESCRIPTION line, left out when there is nothing to say. */
static void
append_line (GString *s, MedLang lang, const char *label, const char *value)
{
  if (value != NULL && value[0] != '\0')
    med_ical_append_field (s, lang, label, value);
}

/* One VEVENT as text, appended to out. */
static gboolean
append_event (GString *out, const MedFeed *feed, const MedFeedEvent *fe,
    GTimeZone *tz, const char *location, GError **error)
{
  const MedBooking *bk = fe->booking;
  gboolean cancelled = bk->status == MED_BOOKING_STATUS_CANCELLED;
  MedLang lang = med_lang_from_code_or (feed->language, MED_LANG_ZH);
  g_autofree char *case_no = NULL, *mediator = NULL, *interpreter = NULL;
  g_autofree char *summary = NULL;
  icalcomponent *ev;
  char *text;

  ev = icalcomponent_new_vevent ();
  icalcomponent_add_property (ev, icalproperty_new_uid (bk->uid));
  icalcomponent_add_property (ev, icalproperty_new_sequence (bk->sequence));
  icalcomponent_add_property (ev,
      icalproperty_new_dtstamp (med_ical_utc_time (feed->last_change)));
  med_ical_add_local_time (ev, ICAL_DTSTART_PROPERTY, tz, feed->centre->zone,
      bk->start);
  med_ical_add_local_time (ev, ICAL_DTEND_PROPERTY, tz, feed->centre->zone,
      bk->end);

  if (feed->audience == MED_FEED_PUBLIC) {
    summary = g_strdup (med_i18n_gettext (lang,
        cancelled ? N_ ("Cancelled") : N_ ("Reserved")));
    icalcomponent_add_property (ev, icalproperty_new_summary (summary));
  } else {
    g_autoptr (GString) d = g_string_new (NULL);
    g_autofree char *when = med_ical_new_when (tz, bk->start, bk->end, lang);
    const char *kind
        = med_i18n_gettext (lang, med_case_kind_label (fe->kase->kind));

    if (!med_ical_clean_text (fe->kase->number, FALSE, "case number", &case_no,
            error)
        || !med_ical_clean_text (fe->mediator_name, FALSE, "mediator name",
            &mediator, error)
        || !med_ical_clean_text (fe->interpreter_name, FALSE,
            "interpreter name", &interpreter, error)) {
      icalcomponent_free (ev);
      return FALSE;
    }
    if (case_no == NULL)
      case_no = g_strdup ("");
    if (feed->audience == MED_FEED_STAFF)
      summary = med_i18n_printf (lang,
          cancelled ? N_ ("Cancelled: mediation session %1$s (%2$s)")
                    : N_ ("Mediation session: %1$s (%2$s)"),
          case_no, kind);
    else
      summary = med_i18n_printf (lang,
          cancelled ? N_ ("Cancelled: mediation session %s")
                    : N_ ("Mediation session: %s"),
          case_no);
    icalcomponent_add_property (ev, icalproperty_new_summary (summary));

    if (cancelled)
      append_line (d, lang, N_ ("Status"),
          med_i18n_gettext (lang, N_ ("Cancelled")));
    append_line (d, lang, N_ ("Case number"), case_no);
    if (feed->audience == MED_FEED_STAFF)
      append_line (d, lang, N_ ("Case kind"), kind);
    append_line (d, lang, N_ ("Time"), when);
    append_line (d, lang, N_ ("Where"), location);
    append_line (d, lang, N_ ("Mediator"), mediator);
    append_line (d, lang, N_ ("Interpreter"), interpreter);
    append_line (d, lang, N_ ("Mode"),
        med_i18n_gettext (lang, med_booking_mode_label (bk->mode)));
    icalcomponent_add_property (ev, icalproperty_new_description (d->str));
  }
  icalcomponent_add_property (ev, icalproperty_new_location (location));
  icalcomponent_add_property (ev,
      icalproperty_new_status (
          cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
  icalcomponent_add_property (ev,
      icalproperty_new_transp (
          cancelled ? ICAL_TRANSP_TRANSPARENT : ICAL_TRANSP_OPAQUE));
  if (feed->audience == MED_FEED_PUBLIC)
    icalcomponent_add_property (ev,
        icalproperty_new_class (ICAL_CLASS_CONFIDENTIAL));

  text = med_ical_new_string (ev);
  g_string_append (out, text);
  g_free (text);
  icalcomponent_free (ev);
  return TRUE;
}

/* The calendar's own properties and its VTIMEZONE, as text without the
 * closing END:VCALENDAR. */
static gboolean
append_head (GString *out, const MedFeed *feed, gint first_year, gint last_year,
    GError **error)
{
  g_autofree char *name = NULL, *description = NULL, *text = NULL;
  g_autofree char *ttl = NULL;
  icalcomponent *cal, *vtz;
  icalproperty *p;
  struct icaldurationtype refresh = icaldurationtype_null_duration ();
  gsize n;

  if (!med_ical_clean_text (feed->name, FALSE, "feed name", &name, error)
      || !med_ical_clean_text (feed->description, TRUE, "feed description",
          &description, error))
    return FALSE;
  vtz = med_ical_new_vtimezone (feed->centre->zone, first_year, last_year,
      error);
  if (vtz == NULL)
    return FALSE;

  cal = med_ical_new_vcalendar (ICAL_METHOD_NONE);
  if (name != NULL && name[0] != '\0') {
    icalcomponent_add_property (cal, icalproperty_new_name (name));
    med_ical_add_x_text (cal, "X-WR-CALNAME", name);
  }
  if (description != NULL && description[0] != '\0') {
    icalcomponent_add_property (cal,
        icalproperty_new_description (description));
    med_ical_add_x_text (cal, "X-WR-CALDESC", description);
  }
  med_ical_add_x_text (cal, "X-WR-TIMEZONE", feed->centre->zone);
  /* Minutes as given (PT60M, not PT1H): libical prints the fields it is
   * handed. */
  refresh.minutes = (unsigned int) CLAMP (feed->refresh_minutes, 1, 10080);
  p = icalproperty_new_refreshinterval (refresh);
  icalproperty_add_parameter (p, icalparameter_new_value (ICAL_VALUE_DURATION));
  icalcomponent_add_property (cal, p);
  ttl = g_strdup_printf ("PT%uM", refresh.minutes);
  p = icalproperty_new_x (ttl);
  icalproperty_set_x_name (p, "X-PUBLISHED-TTL");
  icalcomponent_add_property (cal, p);
  icalcomponent_add_component (cal, vtz);

  text = med_ical_new_string (cal);
  icalcomponent_free (cal);
  n = strlen (text);
  if (n < 15 || strcmp (text + n - 15, "END:VCALENDAR\r\n") != 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "libical wrote an unexpected calendar ending");
    return FALSE;
  }
  g_string_append_len (out, text, n - 15);
  return TRUE;
}

char *
med_ical_feed_to_string (const MedFeed *feed, GError **error)
{
  g_autoptr (GTimeZone) tz = NULL;
  g_autoptr (GPtrArray) sorted = NULL;
  g_autoptr (GHashTable) locations = NULL;
  GString *out;
  gint first_year = G_MAXINT, last_year = G_MININT;
  guint n_events;

  g_return_val_if_fail (feed != NULL && feed->centre != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tz = med_ical_new_gzone (feed->centre->zone, error);
  if (tz == NULL)
    return NULL;
  if ((guint) feed->audience > MED_FEED_PARTY) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "unknown feed audience %d", (int) feed->audience);
    return NULL;
  }
  n_events = feed->events != NULL ? feed->events->len : 0;
  sorted = g_ptr_array_sized_new (n_events);
  for (guint i = 0; i < n_events; i++) {
    const MedFeedEvent *fe = g_ptr_array_index (feed->events, i);

    if (!check_event (fe, i, error))
      return NULL;
    first_year = MIN (first_year, med_ical_local_year (tz, fe->booking->start));
    last_year = MAX (last_year, med_ical_local_year (tz, fe->booking->end));
    g_ptr_array_add (sorted, (gpointer) fe);
  }
  if (n_events == 0)
    first_year = last_year = med_ical_local_year (tz, feed->last_change);
  g_ptr_array_sort (sorted, compare_events);

  out = g_string_sized_new (1024 + (gsize) n_events * 640);
  if (!append_head (out, feed, first_year, last_year, error)) {
    g_string_free (out, TRUE);
    return NULL;
  }
  /* Rooms repeat: clean each room's location once. */
  locations = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  for (guint i = 0; i < sorted->len; i++) {
    const MedFeedEvent *fe = g_ptr_array_index (sorted, i);
    char *location = g_hash_table_lookup (locations, fe->room);

    if (location == NULL) {
      g_autofree char *raw = med_ical_new_location (feed->centre, fe->room);

      if (!med_ical_clean_text (raw, FALSE, "location", &location, error)) {
        g_string_free (out, TRUE);
        return NULL;
      }
      g_hash_table_insert (locations, (gpointer) fe->room, location);
    }
    if (!append_event (out, feed, fe, tz, location, error)) {
      g_string_free (out, TRUE);
      return NULL;
    }
  }
  g_string_append (out, "END:VCALENDAR\r\n");
  return g_string_free (out, FALSE);
}

/* ---- free/busy -------------------------------------------------------- */

static int
compare_intervals (gconstpointer a, gconstpointer b)
{
  const MedInterval *ia = a, *ib = b;

  if (ia->start != ib->start)
    return ia->start < ib->start ? -1 : 1;
  return ia->end < ib->end ? -1 : ia->end > ib->end;
}

char *
med_ical_freebusy_to_string (const MedCentre *centre, const char *who_name,
    const char *who_uid, MedTime from, MedTime to, GArray *busy,
    MedTime dtstamp, GError **error)
{
  g_autoptr (GArray) merged = NULL;
  g_autofree char *name = NULL, *centre_name = NULL, *organizer = NULL;
  icalcomponent *cal, *fb;
  icalproperty *p;
  char *out;

  g_return_val_if_fail (centre != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (from >= to) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "free/busy range ends before it starts");
    return NULL;
  }
  if (who_uid == NULL || who_uid[0] == '\0' || strlen (who_uid) > 255
      || !g_utf8_validate (who_uid, -1, NULL)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "free/busy needs a UID");
    return NULL;
  }
  if (!med_ical_clean_text (who_name, FALSE, "name", &name, error)
      || !med_ical_clean_text (centre->name, FALSE, "centre name", &centre_name,
          error)
      || !med_ical_check_address (centre->mailbox, "centre mailbox", error))
    return NULL;

  /* clip to [from, to), sort, merge */
  med_ical_ensure_init ();
  merged = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  for (guint i = 0; busy != NULL && i < busy->len; i++) {
    MedInterval iv = g_array_index (busy, MedInterval, i);

    iv.start = MAX (iv.start, from);
    iv.end = MIN (iv.end, to);
    if (iv.start < iv.end)
      g_array_append_val (merged, iv);
  }
  g_array_sort (merged, compare_intervals);
  {
    guint w = 0;

    for (guint i = 0; i < merged->len; i++) {
      MedInterval iv = g_array_index (merged, MedInterval, i);

      if (w > 0 && iv.start <= g_array_index (merged, MedInterval, w - 1).end) {
        MedInterval *last = &g_array_index (merged, MedInterval, w - 1);

        last->end = MAX (last->end, iv.end);
      } else {
        g_array_index (merged, MedInterval, w++) = iv;
      }
    }
    g_array_set_size (merged, w);
  }

  cal = med_ical_new_vcalendar (ICAL_METHOD_NONE);
  fb = icalcomponent_new_vfreebusy ();
  icalcomponent_add_property (fb, icalproperty_new_uid (who_uid));
  icalcomponent_add_property (fb,
      icalproperty_new_dtstamp (med_ical_utc_time (dtstamp)));
  icalcomponent_add_property (fb,
      icalproperty_new_dtstart (med_ical_utc_time (from)));
  icalcomponent_add_property (fb,
      icalproperty_new_dtend (med_ical_utc_time (to)));
  organizer = g_strconcat ("mailto:", centre->mailbox, NULL);
  p = icalproperty_new_organizer (organizer);
  if (centre_name != NULL && centre_name[0] != '\0')
    icalproperty_add_parameter (p, icalparameter_new_cn (centre_name));
  icalcomponent_add_property (fb, p);
  if (name != NULL && name[0] != '\0')
    icalcomponent_add_property (fb, icalproperty_new_comment (name));
  for (guint i = 0; i < merged->len; i++) {
    const MedInterval *iv = &g_array_index (merged, MedInterval, i);
    struct icalperiodtype period = icalperiodtype_null_period ();

    period.start = med_ical_utc_time (iv->start);
    period.end = med_ical_utc_time (iv->end);
    p = icalproperty_new_freebusy (period);
    icalproperty_add_parameter (p, icalparameter_new_fbtype (ICAL_FBTYPE_BUSY));
    icalcomponent_add_property (fb, p);
  }
  icalcomponent_add_component (cal, fb);
  out = med_ical_new_string (cal);
  icalcomponent_free (cal);
  return out;
}
