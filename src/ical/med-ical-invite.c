/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-invite.c — iTIP invitations (RFC 5546) for one booking, and the
 * pieces every calendar medsched writes is built from.
 *
 * An invite is METHOD:REQUEST while the booking is confirmed (sent on
 * creation and on every significant change; the store bumps SEQUENCE only
 * for time, room, mode and cancellation) and METHOD:CANCEL with
 * STATUS:CANCELLED once it is cancelled. Each recipient gets their own
 * copy: SUMMARY, DESCRIPTION and alarm texts in the recipient's language
 * (po/; Chinese for staff and the organiser's copy), and for a remote party
 * their own join link as CONFERENCE (RFC 7986, one unquoted FEATURE value),
 * URL and a line of DESCRIPTION. Nobody sees another person's link, and a
 * CANCEL carries no link at all (the session it opened is gone).
 *
 * The calendar is built with libical and serialised by it (CRLF, folded
 * at 75 octets on UTF-8 boundaries, parameter values quoted where they
 * hold ':' ';' ','). Times are written as local times with TZID=<centre
 * zone> next to a truncated VTIMEZONE of that bare name
 * (med-ical-zone.c). No libical restriction check runs here: it costs far
 * more than building the event and misses what matters (tests lint every
 * output instead).
 *
 * The Tibetan texts await a native speaker's review: po/REVIEW-bo.md. */
#define G_LOG_DOMAIN "medsched-ical"

#include "med-ical-private.h"

#include <medsched/med-i18n.h>

#include <string.h>

/* ---- PARTSTAT --------------------------------------------------------- */

static const char *const partstat_words[]
    = { "NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED" };
G_STATIC_ASSERT (G_N_ELEMENTS (partstat_words) == MED_PARTSTAT_N);

static const icalparameter_partstat partstat_ical[] = {
  ICAL_PARTSTAT_NEEDSACTION,
  ICAL_PARTSTAT_ACCEPTED,
  ICAL_PARTSTAT_DECLINED,
  ICAL_PARTSTAT_TENTATIVE,
  ICAL_PARTSTAT_DELEGATED,
};
G_STATIC_ASSERT (G_N_ELEMENTS (partstat_ical) == MED_PARTSTAT_N);

const char *
med_partstat_to_string (MedPartstat p)
{
  if ((guint) p >= MED_PARTSTAT_N)
    return "invalid";
  return partstat_words[p];
}

gboolean
med_partstat_from_string (const char *s, MedPartstat *out, GError **error)
{
  for (guint i = 0; s != NULL && i < MED_PARTSTAT_N; i++) {
    if (g_ascii_strcasecmp (s, partstat_words[i]) == 0) {
      *out = (MedPartstat) i;
      return TRUE;
    }
  }
  if (s != NULL && g_utf8_validate (s, -1, NULL) && strlen (s) <= 64) {
    g_autofree char *what = med_ical_describe (s, -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "unknown PARTSTAT “%s” (expected one of: NEEDS-ACTION, ACCEPTED, "
        "DECLINED, TENTATIVE, DELEGATED)",
        what);
  } else {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "invalid PARTSTAT (expected one of: NEEDS-ACTION, ACCEPTED, "
        "DECLINED, TENTATIVE, DELEGATED)");
  }
  return FALSE;
}

/* ---- languages -------------------------------------------------------- */

/* Each recipient reads their copy in their own language (a party's
 * recorded language; Chinese for staff, the organiser's copy and any
 * language medsched has no catalogue of). The texts are po/'s. */

static const char *const weekdays[7]
    = { N_ ("Monday"), N_ ("Tuesday"), N_ ("Wednesday"), N_ ("Thursday"),
        N_ ("Friday"), N_ ("Saturday"), N_ ("Sunday") };


void
med_ical_append_field (GString *s, MedLang lang, const char *label,
    const char *value)
{
  g_autofree char *line = NULL;

  if (s->len > 0)
    g_string_append_c (s, '\n');
  /* TRANSLATORS: a label and its value, one line of an invitation */
  line = med_i18n_printf (lang, N_ ("%s: %s"), med_i18n_gettext (lang, label),
      value);
  g_string_append (s, line);
}

char *
med_ical_new_when (GTimeZone *tz, MedTime start, MedTime end, MedLang lang)
{
  struct icaltimetype a = med_ical_local_time (tz, start);
  struct icaltimetype b = med_ical_local_time (tz, end);
  int dow = icaltime_day_of_week (a); /* 1 = Sunday */
  int wd = (dow + 5) % 7; /* 0 = Monday */
  g_autofree char *date
      = g_strdup_printf ("%04d-%02d-%02d", a.year, a.month, a.day);
  g_autoptr (GString) times = g_string_new (NULL);

  g_string_append_printf (times, "%02d:%02d–", a.hour, a.minute);
  if (a.year != b.year || a.month != b.month || a.day != b.day)
    g_string_append_printf (times, "%04d-%02d-%02d ", b.year, b.month, b.day);
  g_string_append_printf (times, "%02d:%02d", b.hour, b.minute);
  /* TRANSLATORS: date (weekday) times of a session */
  return med_i18n_printf (lang, N_ ("%s (%s) %s"), date,
      med_i18n_gettext (lang, weekdays[wd]), times->str);
}

char *
med_ical_new_location (const MedCentre *centre, const MedRoom *room)
{
  const char *room_name = room != NULL && room->name != NULL ? room->name : "";

  if (centre->address == NULL || centre->address[0] == '\0')
    return g_strdup (room_name);
  return g_strconcat (room_name, "，", centre->address, NULL);
}

/* ---- building blocks -------------------------------------------------- */

icalcomponent *
med_ical_new_vcalendar (icalproperty_method method)
{
  icalcomponent *cal = icalcomponent_new_vcalendar ();

  icalcomponent_add_property (cal, icalproperty_new_prodid (MED_ICAL_PRODID));
  icalcomponent_add_property (cal, icalproperty_new_version ("2.0"));
  icalcomponent_add_property (cal, icalproperty_new_calscale ("GREGORIAN"));
  if (method != ICAL_METHOD_NONE)
    icalcomponent_add_property (cal, icalproperty_new_method (method));
  return cal;
}

void
med_ical_add_local_time (icalcomponent *comp, icalproperty_kind kind,
    GTimeZone *tz, const char *tzid, MedTime t)
{
  struct icaltimetype tt = med_ical_local_time (tz, t);
  icalproperty *p = icalproperty_new (kind);

  icalproperty_set_value (p, icalvalue_new_datetime (tt));
  icalproperty_add_parameter (p, icalparameter_new_tzid (tzid));
  icalcomponent_add_property (comp, p);
}

void
med_ical_add_x_text (icalcomponent *comp, const char *name, const char *value)
{
  icalproperty *p = icalproperty_new_x (value);

  icalproperty_set_x_name (p, name);
  icalcomponent_add_property (comp, p);
}

gboolean
med_ical_clean_text (const char *s, gboolean multiline, const char *field,
    char **out, GError **error)
{
  GString *r;

  *out = NULL;
  if (s == NULL)
    return TRUE;
  if (!g_utf8_validate (s, -1, NULL)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_ENCODING,
        "%s is not valid UTF-8", field);
    return FALSE;
  }
  r = g_string_sized_new (strlen (s));
  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (c == '\r')
      continue;
    if (c == '\n' && multiline)
      g_string_append_c (r, '\n');
    else if (c == '\t' || c == '\n' || g_unichar_iscntrl (c) || c == 0x2028
        || c == 0x2029)
      g_string_append_c (r, ' ');
    else
      g_string_append_unichar (r, c);
  }
  *out = g_string_free (r, FALSE);
  return TRUE;
}

gboolean
med_ical_check_address (const char *addr, const char *field, GError **error)
{
  const char *at;
  gsize n = addr != NULL ? strlen (addr) : 0;
  gboolean ok = n >= 3 && n <= 254;

  for (gsize i = 0; ok && i < n; i++) {
    guchar c = (guchar) addr[i];

    if (c <= 0x20 || c >= 0x7f || strchr ("\"(),:;<>[]\\", c) != NULL)
      ok = FALSE;
  }
  at = ok ? strchr (addr, '@') : NULL;
  if (at == NULL || at == addr || at[1] == '\0' || strchr (at + 1, '@'))
    ok = FALSE;
  if (!ok) {
    g_autofree char *what = med_ical_describe (addr, -1);

    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s: “%s” is not an e-mail address", field, what);
  }
  return ok;
}

/* libical 3.0.16 appends CRLF to a property before folding it, so when
 * the last piece of a line is 73 or 74 octets long the fold lands inside
 * the line end: "x\r" "\r\n " "\n" (a bare CR, then a bare LF), or
 * "x" "\r\n " "\r\n" (an empty continuation line). Both are undone in
 * place; neither can occur otherwise in what medsched writes, whose texts
 * hold no CR. */
static void
repair_folds (char *s)
{
  char *w = s;

  for (const char *r = s; *r;) {
    if (r[0] == '\r' && r[1] == '\r' && r[2] == '\n' && r[3] == ' '
        && r[4] == '\n') {
      memcpy (w, "\r\n", 2);
      w += 2;
      r += 5;
    } else if (r[0] == '\r' && r[1] == '\n' && r[2] == ' ' && r[3] == '\r'
        && r[4] == '\n') {
      r += 3; /* keep the second CRLF */
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
}

char *
med_ical_new_string (icalcomponent *comp)
{
  /* libical allocates with malloc, which is what g_free releases. */
  char *s = icalcomponent_as_ical_string_r (comp);

  repair_folds (s);
  return s;
}

/* A join link must be a plain http(s) URL: it goes unescaped into URI
 * values and into text. */
static gboolean
check_url (const char *url, GError **error)
{
  gsize n = url != NULL ? strlen (url) : 0;
  gboolean ok = n > 8 && n <= 2048
      && (g_str_has_prefix (url, "https://")
          || g_str_has_prefix (url, "http://"));

  for (gsize i = 0; ok && i < n; i++) {
    guchar c = (guchar) url[i];

    if (c <= 0x20 || c >= 0x7f || strchr ("\"<>\\^`{|}", c) != NULL)
      ok = FALSE;
  }
  if (!ok)
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "a join link must be an http(s) URL without spaces or quotes");
  return ok;
}

/* A name-based (version 5) UUID: the same name always gives the same id. */
static char *
new_stable_uuid (const char *name)
{
  static const guint8 ns[16] = { 0x6f, 0x1c, 0x2a, 0x4e, 0x3b, 0x9d, 0x4e, 0x7f,
    0x9a, 0x21, 0x4c, 0x8d, 0x0e, 0x6b, 0x7f, 0x13 };
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 d[20];
  gsize n = sizeof d;

  g_checksum_update (sum, ns, sizeof ns);
  g_checksum_update (sum, (const guchar *) name, -1);
  g_checksum_get_digest (sum, d, &n);
  d[6] = (d[6] & 0x0f) | 0x50;
  d[8] = (d[8] & 0x3f) | 0x80;
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x",
      d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11],
      d[12], d[13], d[14], d[15]);
}

/* ---- the invite ------------------------------------------------------- */

static const char *const attendee_kind_words[]
    = { "mediator", "party", "interpreter" };

typedef struct
{
  const MedInvite *inv;
  gboolean cancel;
  MedLang lang; /* the recipient's language */
  const MedInviteAttendee *recipient; /* NULL: the organiser's copy */
  GTimeZone *tz;
  const char *zone;
  char *note; /* cleaned */
  char *link; /* the recipient's own join link, or NULL */
} Build;

static char *
new_summary (Build *b, const char *case_no)
{
  if (b->cancel)
    return med_i18n_printf (b->lang, N_ ("Cancelled: mediation session %s"),
        case_no);
  return med_i18n_printf (b->lang, N_ ("Mediation session: %s"), case_no);
}

/* An alarm text: phrase and case number. */
static char *
new_alarm_text (Build *b, gboolean tomorrow, const char *case_no)
{
  return med_i18n_printf (b->lang,
      tomorrow ? N_ ("Mediation session tomorrow: %s")
               : N_ ("Mediation session in one hour: %s"),
      case_no);
}

/* Names of the attendees of one kind, joined with "、". NULL if none. */
static char *
new_names_of (const GArray *attendees, MedAttendeeKind kind)
{
  GString *s = NULL;

  for (guint i = 0; i < attendees->len; i++) {
    const MedInviteAttendee *a
        = &g_array_index (attendees, MedInviteAttendee, i);
    g_autofree char *name = NULL;

    if (a->kind != kind || a->name == NULL || a->name[0] == '\0')
      continue;
    if (!med_ical_clean_text (a->name, FALSE, "name", &name, NULL))
      continue;
    if (s == NULL)
      s = g_string_new (name);
    else
      g_string_append_printf (s, "、%s", name);
  }
  return s != NULL ? g_string_free (s, FALSE) : NULL;
}

static char *
new_description (Build *b, const char *case_no, const char *location)
{
  const MedInvite *inv = b->inv;
  GString *s = g_string_new (NULL);
  g_autofree char *when = NULL;
  g_autofree char *mediators
      = new_names_of (inv->attendees, MED_ATTENDEE_MEDIATOR);
  g_autofree char *interpreters
      = new_names_of (inv->attendees, MED_ATTENDEE_INTERPRETER);

  if (b->cancel)
    g_string_append (s,
        med_i18n_gettext (b->lang,
            N_ ("This mediation session has been cancelled.")));
  med_ical_append_field (s, b->lang, N_ ("Case number"), case_no);
  {
    g_autofree char *w = med_ical_new_when (b->tz, inv->booking->start,
        inv->booking->end, b->lang);

    when = g_strdup_printf ("%s (%s)", w, b->zone);
  }
  med_ical_append_field (s, b->lang, N_ ("Time"), when);
  med_ical_append_field (s, b->lang, N_ ("Where"), location);
  if (mediators != NULL)
    med_ical_append_field (s, b->lang, N_ ("Mediator"), mediators);
  if (interpreters != NULL)
    med_ical_append_field (s, b->lang, N_ ("Interpreter"), interpreters);
  if ((guint) inv->booking->mode < MED_BOOKING_MODE_N)
    med_ical_append_field (s, b->lang, N_ ("Mode"),
        med_i18n_gettext (b->lang,
            med_booking_mode_label (inv->booking->mode)));
  if (b->note != NULL && b->note[0] != '\0')
    med_ical_append_field (s, b->lang, N_ ("Note"), b->note);
  if (b->link != NULL)
    med_ical_append_field (s, b->lang,
        N_ ("Your own video link (personal, do not share)"), b->link);
  return g_string_free (s, FALSE);
}

static gboolean
add_attendee (Build *b, icalcomponent *ev, const MedInviteAttendee *a,
    guint index, GError **error)
{
  const MedInvite *inv = b->inv;
  g_autofree char *uri = NULL, *cn = NULL;
  icalproperty *p;
  icalparameter_role role;

  if ((guint) a->kind > MED_ATTENDEE_INTERPRETER
      || (guint) a->partstat >= MED_PARTSTAT_N) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "attendee #%u: invalid kind or PARTSTAT", index + 1);
    return FALSE;
  }
  if (a->email != NULL) {
    g_autofree char *field = g_strdup_printf ("attendee #%u", index + 1);

    if (!med_ical_check_address (a->email, field, error))
      return FALSE;
    uri = g_strconcat ("mailto:", a->email, NULL);
  } else {
    g_autofree char *name = g_strdup_printf ("%s/%s/%" G_GINT64_FORMAT,
        inv->centre->mailbox, attendee_kind_words[a->kind], a->ref_id);
    g_autofree char *uuid = new_stable_uuid (name);

    uri = g_strconcat ("urn:uuid:", uuid, NULL);
  }
  if (!med_ical_clean_text (a->name, FALSE, "attendee name", &cn, error))
    return FALSE;
  /* libical writes '"' as RFC 6868 ^'; most clients do not decode it */
  for (char *c = cn; c != NULL && *c; c++) {
    if (*c == '"')
      *c = '\'';
  }

  if (a->kind == MED_ATTENDEE_MEDIATOR)
    role = ICAL_ROLE_CHAIR;
  else
    role = a->required ? ICAL_ROLE_REQPARTICIPANT : ICAL_ROLE_OPTPARTICIPANT;

  p = icalproperty_new_attendee (uri);
  icalproperty_add_parameter (p,
      icalparameter_new_cutype (ICAL_CUTYPE_INDIVIDUAL));
  icalproperty_add_parameter (p, icalparameter_new_role (role));
  icalproperty_add_parameter (p,
      icalparameter_new_partstat (partstat_ical[a->partstat]));
  if (!b->cancel && a->kind != MED_ATTENDEE_MEDIATOR)
    icalproperty_add_parameter (p, icalparameter_new_rsvp (ICAL_RSVP_TRUE));
  if (cn != NULL && cn[0] != '\0')
    icalproperty_add_parameter (p, icalparameter_new_cn (cn));
  icalcomponent_add_property (ev, p);
  return TRUE;
}

static void
add_alarm (icalcomponent *ev, gint days, gint hours, const char *text)
{
  icalcomponent *alarm = icalcomponent_new_valarm ();
  struct icaltriggertype trigger;

  memset (&trigger, 0, sizeof trigger);
  trigger.time = icaltime_null_time ();
  trigger.duration = icaldurationtype_null_duration ();
  trigger.duration.is_neg = 1;
  trigger.duration.days = days;
  trigger.duration.hours = hours;
  icalcomponent_add_property (alarm,
      icalproperty_new_action (ICAL_ACTION_DISPLAY));
  icalcomponent_add_property (alarm, icalproperty_new_trigger (trigger));
  icalcomponent_add_property (alarm, icalproperty_new_description (text));
  icalcomponent_add_component (ev, alarm);
}

static gboolean
check_invite (const MedInvite *inv, gint recipient, GError **error)
{
  const MedBooking *bk = inv->booking;

  if (recipient < -1
      || (recipient >= 0 && (guint) recipient >= inv->attendees->len)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "recipient %d is not one of the %u attendees", recipient,
        inv->attendees->len);
    return FALSE;
  }
  if (inv->attendees->len == 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "an invite needs at least one attendee");
    return FALSE;
  }
  if (bk->uid == NULL || bk->uid[0] == '\0' || strlen (bk->uid) > 255
      || !g_utf8_validate (bk->uid, -1, NULL)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "booking %" G_GINT64_FORMAT " has no usable UID", bk->id);
    return FALSE;
  }
  if (bk->end <= bk->start || bk->sequence < 0) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "booking %" G_GINT64_FORMAT " ends before it starts or has a "
        "negative SEQUENCE",
        bk->id);
    return FALSE;
  }
  if (inv->kase->number == NULL
      || !g_utf8_validate (inv->kase->number, -1, NULL)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "case %" G_GINT64_FORMAT " has no number", inv->kase->id);
    return FALSE;
  }
  return med_ical_check_address (inv->centre->mailbox, "centre mailbox", error);
}

char *
med_ical_invite_to_string (const MedInvite *inv, gint recipient, GError **error)
{
  const MedBooking *bk;
  Build b = { 0 };
  g_autoptr (GTimeZone) tz = NULL;
  g_autofree char *case_no = NULL, *summary = NULL, *description = NULL;
  g_autofree char *location = NULL, *centre_name = NULL, *organizer = NULL;
  icalcomponent *cal = NULL, *ev, *vtz;
  icalproperty *p;
  char *out = NULL;

  g_return_val_if_fail (inv != NULL && inv->centre != NULL
          && inv->booking != NULL && inv->kase != NULL && inv->room != NULL
          && inv->attendees != NULL,
      NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_invite (inv, recipient, error))
    return NULL;
  bk = inv->booking;
  tz = med_ical_new_gzone (inv->centre->zone, error);
  if (tz == NULL)
    return NULL;

  b.inv = inv;
  b.cancel = bk->status == MED_BOOKING_STATUS_CANCELLED;
  b.tz = tz;
  b.zone = inv->centre->zone;
  if (recipient >= 0) {
    b.recipient = &g_array_index (inv->attendees, MedInviteAttendee, recipient);
    b.lang = med_lang_from_code_or (b.recipient->language, MED_LANG_ZH);
    if (b.recipient->join_url != NULL && !b.cancel) {
      if (!check_url (b.recipient->join_url, error))
        return NULL;
      b.link = g_strdup (b.recipient->join_url);
    }
  }
  if (!med_ical_clean_text (inv->note, TRUE, "note", &b.note, error)
      || !med_ical_clean_text (inv->kase->number, FALSE, "case number",
          &case_no, error)
      || !med_ical_clean_text (inv->centre->name, FALSE, "centre name",
          &centre_name, error))
    goto out;
  {
    g_autofree char *raw = med_ical_new_location (inv->centre, inv->room);

    if (!med_ical_clean_text (raw, FALSE, "location", &location, error))
      goto out;
  }

  vtz = med_ical_new_vtimezone (b.zone, med_ical_local_year (tz, bk->start),
      med_ical_local_year (tz, bk->end), error);
  if (vtz == NULL)
    goto out;
  cal = med_ical_new_vcalendar (
      b.cancel ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST);
  icalcomponent_add_component (cal, vtz);

  ev = icalcomponent_new_vevent ();
  icalcomponent_add_property (ev, icalproperty_new_uid (bk->uid));
  icalcomponent_add_property (ev, icalproperty_new_sequence (bk->sequence));
  icalcomponent_add_property (ev,
      icalproperty_new_dtstamp (med_ical_utc_time (inv->dtstamp)));
  icalcomponent_add_property (ev,
      icalproperty_new_created (
          med_ical_utc_time (inv->created != 0 ? inv->created : inv->dtstamp)));
  icalcomponent_add_property (ev,
      icalproperty_new_lastmodified (med_ical_utc_time (bk->updated_at != 0
              ? MAX (bk->updated_at, inv->created)
              : inv->dtstamp)));
  med_ical_add_local_time (ev, ICAL_DTSTART_PROPERTY, tz, b.zone, bk->start);
  med_ical_add_local_time (ev, ICAL_DTEND_PROPERTY, tz, b.zone, bk->end);
  summary = new_summary (&b, case_no);
  icalcomponent_add_property (ev, icalproperty_new_summary (summary));
  description = new_description (&b, case_no, location);
  icalcomponent_add_property (ev, icalproperty_new_description (description));
  icalcomponent_add_property (ev, icalproperty_new_location (location));
  icalcomponent_add_property (ev,
      icalproperty_new_status (
          b.cancel ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
  icalcomponent_add_property (ev,
      icalproperty_new_transp (
          b.cancel ? ICAL_TRANSP_TRANSPARENT : ICAL_TRANSP_OPAQUE));

  organizer = g_strconcat ("mailto:", inv->centre->mailbox, NULL);
  p = icalproperty_new_organizer (organizer);
  if (centre_name != NULL && centre_name[0] != '\0')
    icalproperty_add_parameter (p, icalparameter_new_cn (centre_name));
  icalcomponent_add_property (ev, p);
  for (guint i = 0; i < inv->attendees->len; i++) {
    if (!add_attendee (&b, ev,
            &g_array_index (inv->attendees, MedInviteAttendee, i), i, error)) {
      icalcomponent_add_component (cal, ev);
      goto out;
    }
  }

  if (b.link != NULL) {
    g_autofree char *label = NULL;

    label = g_strdup (med_i18n_gettext (b.lang, N_ ("Join by video")));
    /* One FEATURE value: libical writes it unquoted, as RFC 7986 wants and
     * ical.js needs. */
    p = icalproperty_new_conference (b.link);
    icalproperty_add_parameter (p, icalparameter_new_value (ICAL_VALUE_URI));
    icalproperty_add_parameter (p,
        icalparameter_new_feature (ICAL_FEATURE_VIDEO));
    icalproperty_add_parameter (p, icalparameter_new_label (label));
    icalcomponent_add_property (ev, p);
    icalcomponent_add_property (ev, icalproperty_new_url (b.link));
  }

  if (!b.cancel) {
    g_autofree char *day = new_alarm_text (&b, TRUE, case_no);
    g_autofree char *hour = new_alarm_text (&b, FALSE, case_no);

    add_alarm (ev, 1, 0, day);
    add_alarm (ev, 0, 1, hour);
  }
  icalcomponent_add_component (cal, ev);
  out = med_ical_new_string (cal);

out:
  if (cal != NULL)
    icalcomponent_free (cal);
  g_free (b.note);
  g_free (b.link);
  return out;
}
