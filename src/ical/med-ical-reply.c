/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-reply.c — reads an attendee's iTIP REPLY (RFC 5546 3.2.3): the
 * answer a party, interpreter or mediator's calendar client sends back to
 * an invite.
 *
 * A reply comes from outside, usually by mail, so it is read as hostile:
 * the raw text is checked first (size, UTF-8, structure, nesting; see
 * med-ical-lint.c), libical parses it and any X-LIC-ERROR it leaves fails
 * the reply, and then the reply must be exactly what iTIP says: METHOD
 * REPLY, one VEVENT (VTIMEZONEs may come along, nothing else), a UID, a
 * non-negative SEQUENCE (absent means 0), a UTC DTSTAMP and exactly one
 * ATTENDEE, a mailto: address with a PARTSTAT medsched knows. Matching
 * the UID, SEQUENCE and address to a booking is the caller's business. */
#define G_LOG_DOMAIN "medsched-ical"

#include "med-ical-private.h"

#include <string.h>

#define MAX_UID_BYTES     255
#define MAX_COMMENT_BYTES 4096

static const MedIcalScanLimits reply_limits = {
  .max_depth = 4, /* VCALENDAR > VTIMEZONE > STANDARD, VEVENT > VALARM */
  .max_components = 64,
  .max_line_bytes = 65536,
};

void
med_reply_free (MedReply *r)
{
  if (r == NULL)
    return;
  g_free (r->uid);
  g_free (r->attendee);
  g_free (r->comment);
  g_free (r);
}

G_GNUC_PRINTF (2, 3)
static gboolean
fail (GError **error, const char *format, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, format);
  *error
      = g_error_new_valist (MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID, format, ap);
  va_end (ap);
  return FALSE;
}

/* The single property of kind in comp: NULL if absent, error if twice. */
static gboolean
get_single (icalcomponent *comp, icalproperty_kind kind, const char *name,
    icalproperty **out, GError **error)
{
  *out = icalcomponent_get_first_property (comp, kind);
  if (*out != NULL && icalcomponent_get_next_property (comp, kind) != NULL)
    return fail (error, "the reply has %s more than once", name);
  return TRUE;
}

static gboolean
read_attendee (icalproperty *att, MedReply *r, GError **error)
{
  icalparameter *ps;
  const char *value = icalproperty_get_attendee (att);
  const char *addr;
  icalparameter_partstat partstat;

  if (value == NULL || g_ascii_strncasecmp (value, "mailto:", 7) != 0)
    return fail (error, "the ATTENDEE of a reply must be a mailto: address");
  addr = value + 7;
  if (!med_ical_check_address (addr, "ATTENDEE", error))
    return FALSE;
  ps = icalproperty_get_first_parameter (att, ICAL_PARTSTAT_PARAMETER);
  if (ps == NULL)
    return fail (error, "the ATTENDEE of a reply has no PARTSTAT");
  if (icalproperty_get_next_parameter (att, ICAL_PARTSTAT_PARAMETER) != NULL)
    return fail (error, "the ATTENDEE of a reply has PARTSTAT twice");
  partstat = icalparameter_get_partstat (ps);
  switch (partstat) {
    case ICAL_PARTSTAT_NEEDSACTION:
      r->partstat = MED_PARTSTAT_NEEDS_ACTION;
      break;
    case ICAL_PARTSTAT_ACCEPTED:
      r->partstat = MED_PARTSTAT_ACCEPTED;
      break;
    case ICAL_PARTSTAT_DECLINED:
      r->partstat = MED_PARTSTAT_DECLINED;
      break;
    case ICAL_PARTSTAT_TENTATIVE:
      r->partstat = MED_PARTSTAT_TENTATIVE;
      break;
    case ICAL_PARTSTAT_DELEGATED:
      r->partstat = MED_PARTSTAT_DELEGATED;
      break;
    default:
      return fail (error,
          "the ATTENDEE's PARTSTAT is not one of NEEDS-ACTION, ACCEPTED, "
          "DECLINED, TENTATIVE, DELEGATED");
  }
  r->attendee = g_strdup (addr);
  return TRUE;
}

static gboolean
read_event (icalcomponent *ev, MedReply *r, GError **error)
{
  icalproperty *p, *att;
  const char *uid, *comment;
  struct icaltimetype stamp;
  gint seq = 0;

  if (!get_single (ev, ICAL_UID_PROPERTY, "UID", &p, error))
    return FALSE;
  uid = p != NULL ? icalproperty_get_uid (p) : NULL;
  if (uid == NULL || uid[0] == '\0' || strlen (uid) > MAX_UID_BYTES
      || !med_validate_text (uid, MAX_UID_BYTES, FALSE, FALSE, "UID", NULL))
    return fail (error,
        "the reply has no UID (or one that is too long or holds control "
        "characters)");
  r->uid = g_strdup (uid);

  if (!get_single (ev, ICAL_SEQUENCE_PROPERTY, "SEQUENCE", &p, error))
    return FALSE;
  if (p != NULL) {
    seq = icalproperty_get_sequence (p);
    if (seq < 0)
      return fail (error, "the reply's SEQUENCE is negative");
  }
  r->sequence = seq;

  if (!get_single (ev, ICAL_DTSTAMP_PROPERTY, "DTSTAMP", &p, error))
    return FALSE;
  if (p == NULL)
    return fail (error, "the reply has no DTSTAMP");
  stamp = icalproperty_get_dtstamp (p);
  if (icaltime_is_null_time (stamp) || stamp.is_date || !icaltime_is_utc (stamp)
      || !icaltime_is_valid_time (stamp) || stamp.year < 1970
      || stamp.year > 9999)
    return fail (error, "the reply's DTSTAMP is not a UTC date-time");
  r->dtstamp = (MedTime) icaltime_as_timet_with_zone (stamp,
      icaltimezone_get_utc_timezone ());

  att = icalcomponent_get_first_property (ev, ICAL_ATTENDEE_PROPERTY);
  if (att == NULL)
    return fail (error, "the reply has no ATTENDEE");
  if (icalcomponent_get_next_property (ev, ICAL_ATTENDEE_PROPERTY) != NULL)
    return fail (error, "a reply carries exactly one ATTENDEE, this one more");
  if (!read_attendee (att, r, error))
    return FALSE;

  if (!get_single (ev, ICAL_COMMENT_PROPERTY, "COMMENT", &p, error))
    return FALSE;
  comment = p != NULL ? icalproperty_get_comment (p) : NULL;
  if (comment != NULL && comment[0] != '\0') {
    g_autoptr (GError) local = NULL;

    if (!med_validate_text (comment, MAX_COMMENT_BYTES, TRUE, TRUE, "COMMENT",
            &local))
      return fail (error, "the reply's %s", local->message);
    r->comment = g_strdup (comment);
  }
  return TRUE;
}

/* libical reads "SEQUENCE:many" as 0 without complaint: integers are
 * checked on the text. */
static gboolean
check_integer_line (const char *line, gsize len, guint lineno, gpointer data)
{
  GError **error = data;
  gsize i = 9;

  if (len < 9 || g_ascii_strncasecmp (line, "SEQUENCE", 8) != 0
      || (line[8] != ':' && line[8] != ';'))
    return TRUE;
  while (line[8] == ';' && i < len && line[i - 1] != ':')
    i++; /* skip parameters (none are defined; quoted ':' is not expected) */
  if (i < len && line[i] == '-')
    i++;
  if (i == len || len - i > 9) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
        "line %u: SEQUENCE is not a number", lineno);
    return FALSE;
  }
  for (; i < len; i++) {
    if (!g_ascii_isdigit (line[i])) {
      g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE,
          "line %u: SEQUENCE is not a number", lineno);
      return FALSE;
    }
  }
  return TRUE;
}

MedReply *
med_ical_parse_reply (const char *data, gsize len, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (MedReply) r = NULL;
  icalcomponent *cal, *ev = NULL;
  icalproperty *p;
  gboolean ok = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  med_ical_ensure_init ();
  text = med_ical_new_checked_text (data, len, &reply_limits, error);
  if (text == NULL || !med_ical_foreach_line (text, check_integer_line, error))
    return NULL;
  cal = med_ical_new_parsed (text, error);
  if (cal == NULL)
    return NULL;

  if (!get_single (cal, ICAL_METHOD_PROPERTY, "METHOD", &p, error))
    goto out;
  if (p == NULL || icalproperty_get_method (p) != ICAL_METHOD_REPLY) {
    fail (error, "not an iTIP reply (METHOD must be REPLY)");
    goto out;
  }
  for (icalcomponent *c
       = icalcomponent_get_first_component (cal, ICAL_ANY_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (cal, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind kind = icalcomponent_isa (c);

    if (kind == ICAL_VTIMEZONE_COMPONENT)
      continue;
    if (kind != ICAL_VEVENT_COMPONENT) {
      fail (error, "a reply holds one VEVENT, not %s",
          icalcomponent_kind_to_string (kind));
      goto out;
    }
    if (ev != NULL) {
      fail (error, "a reply holds exactly one VEVENT, this one more");
      goto out;
    }
    ev = c;
  }
  if (ev == NULL) {
    fail (error, "the reply holds no VEVENT");
    goto out;
  }
  r = g_new0 (MedReply, 1);
  ok = read_event (ev, r, error);

out:
  icalcomponent_free (cal);
  return ok ? g_steal_pointer (&r) : NULL;
}
