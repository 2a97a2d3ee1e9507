/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical.h — iCalendar on libical: holiday notices, invites (iTIP
 * REQUEST/CANCEL), iMIP messages, feeds, free/busy, replies, external busy
 * calendars and a linter. The only module that includes libical/ical.h.
 *
 * Everything written here is CRLF, folded at 75 octets on UTF-8
 * boundaries, with TZID=<centre zone> and one VTIMEZONE named by the bare
 * IANA name, truncated to the years in use; no libical restriction check
 * runs on the export path. Load zones on the main thread before starting
 * threads (med_ical_init). */
#pragma once

#include <medsched/med-model.h>
#include <medsched/med-workcal.h>

G_BEGIN_DECLS

#define MED_ICAL_ERROR (med_ical_error_quark ())
GQuark med_ical_error_quark (void);

typedef enum
{
  MED_ICAL_ERROR_PARSE, /* not iCalendar, truncated, mis-folded */
  MED_ICAL_ERROR_TOO_LARGE, /* over MED_ICAL_MAX_BYTES */
  MED_ICAL_ERROR_ENCODING, /* not UTF-8 */
  MED_ICAL_ERROR_INVALID, /* parses, but is not what it claims to be */
} MedIcalError;

#define MED_ICAL_MAX_BYTES (4 * 1024 * 1024)

/* Reads a holiday notice calendar (format: calendars/README.md). Each
 * all-day VEVENT names one or more days as holiday or make-up working day;
 * calendar properties X-MED-JURISDICTION, X-MED-LAYER, X-MED-YEAR,
 * X-MED-SOURCE, X-MED-PUBLISHED and NAME (or X-WR-CALNAME) describe the
 * notice. A timed event, an unknown zone, a day outside X-MED-YEAR or a
 * missing property fails with a message saying which. (transfer full) */
MedNotice *med_ical_parse_notice (const char *data, gsize len, GError **error);

/* Loads the time zones medsched uses into libical's cache; call once on the
 * main thread before any thread touches libical (its zone cache is not
 * thread-safe in 3.0.16). Safe to call again. */
void med_ical_init (const char *zone);

typedef enum
{
  MED_ATTENDEE_MEDIATOR,
  MED_ATTENDEE_PARTY,
  MED_ATTENDEE_INTERPRETER,
} MedAttendeeKind;

typedef enum
{
  MED_PARTSTAT_NEEDS_ACTION,
  MED_PARTSTAT_ACCEPTED,
  MED_PARTSTAT_DECLINED,
  MED_PARTSTAT_TENTATIVE,
  MED_PARTSTAT_DELEGATED,
  MED_PARTSTAT_N
} MedPartstat;

const char *med_partstat_to_string (MedPartstat p); /* "ACCEPTED", … */
gboolean med_partstat_from_string (const char *s, MedPartstat *out,
    GError **error);

typedef struct
{
  MedAttendeeKind kind;
  gint64 ref_id; /* mediator, party or interpreter id */
  const char *name; /* CN, Chinese or Tibetan script */
  const char *email; /* mailto: address; NULL = no e-mail known (the
                         * ATTENDEE is then urn:uuid:<stable id>) */
  const char *language; /* second language of SUMMARY/DESCRIPTION for this
                         * attendee: "bo" or "en"; NULL/"zh" = Chinese only */
  MedPartstat partstat;
  gboolean required; /* ROLE=REQ-PARTICIPANT, else OPT-PARTICIPANT */
  const char *join_url; /* a remote party's own join link, else NULL */
} MedInviteAttendee;

typedef struct
{
  const MedCentre *centre; /* zone, name, address, mailbox (ORGANIZER) */
  const MedBooking *booking; /* uid, sequence, start, end, mode, status */
  const MedCase *kase;
  const MedRoom *room;
  const char *note; /* free text added to DESCRIPTION (a text-only
                              * edit: SEQUENCE unchanged), may be NULL */
  GArray *attendees; /* MedInviteAttendee */
  MedTime dtstamp; /* when this version was made (UTC) */
  MedTime created;
} MedInvite;

/* The iTIP message of one booking: METHOD:REQUEST while confirmed,
 * METHOD:CANCEL (STATUS:CANCELLED) once cancelled. recipient is an index
 * into attendees: that attendee's copy carries only their own join link
 * (CONFERENCE with FEATURE=VIDEO and LABEL, URL, and the link repeated in
 * DESCRIPTION) and their second language; -1 gives the organiser's copy
 * without any join link. VALARMs the day before and one hour before.
 * (transfer full) */
char *med_ical_invite_to_string (const MedInvite *inv, gint recipient,
    GError **error);

/* An iMIP message (RFC 6047) for one recipient: multipart/alternative with
 * text/plain and text/calendar; method=<METHOD>; charset=UTF-8, the method
 * taken from the calendar text itself. Headers RFC 2047-encoded where
 * needed, CRLF line ends. (transfer full) */
char *med_ical_imip_message (const char *from_name, const char *from_addr,
    const char *to_name, const char *to_addr, const char *subject,
    const char *text_body, const char *ics, const char *message_id,
    MedTime date, GError **error);

typedef enum
{
  MED_FEED_PUBLIC, /* a room board: "Reserved", CLASS:CONFIDENTIAL, no names */
  MED_FEED_STAFF, /* clerks and mediators: case, parties' roles, room */
  MED_FEED_PARTY, /* one party: only their own case's sessions */
} MedFeedAudience;

typedef struct
{
  const MedBooking *booking;
  const MedCase *kase;
  const MedRoom *room;
  const char *mediator_name;
  const char *interpreter_name; /* may be NULL */
} MedFeedEvent;

typedef struct
{
  const MedCentre *centre;
  const char *name; /* NAME and X-WR-CALNAME */
  const char *description; /* may be NULL */
  MedFeedAudience audience;
  GPtrArray *events; /* MedFeedEvent*, any order (output is sorted) */
  MedTime last_change; /* DTSTAMP of every event: output is
                            * byte-identical for identical state */
  gint refresh_minutes; /* REFRESH-INTERVAL and X-PUBLISHED-TTL */
  /* the reader's language code ("bo"): the events' texts are in it;
   * NULL, or a language without a catalogue: Chinese */
  const char *language;
} MedFeed;

/* A subscription feed: no METHOD, one truncated VTIMEZONE covering the
 * events' years. (transfer full) */
char *med_ical_feed_to_string (const MedFeed *feed, GError **error);

/* VFREEBUSY of one room or mediator over [from, to) (busy intervals in
 * UTC, merged), for publication (no METHOD). (transfer full) */
char *med_ical_freebusy_to_string (const MedCentre *centre,
    const char *who_name, const char *who_uid, MedTime from, MedTime to,
    GArray *busy, MedTime dtstamp, GError **error);

typedef struct
{
  char *uid;
  gint sequence;
  char *attendee; /* e-mail address from the ATTENDEE mailto: */
  MedPartstat partstat;
  MedTime dtstamp;
  char *comment; /* may be NULL */
} MedReply;

void med_reply_free (MedReply *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedReply, med_reply_free)

/* Reads an attendee's METHOD:REPLY (exactly one VEVENT, one ATTENDEE with
 * a PARTSTAT). (transfer full) */
MedReply *med_ical_parse_reply (const char *data, gsize len, GError **error);

/* Expands the busy time of an external calendar (VEVENTs with RRULE,
 * RDATE, EXDATE and RECURRENCE-ID overrides; TRANSP:TRANSPARENT and
 * STATUS:CANCELLED events are free) into merged UTC intervals overlapping
 * [from, to). Floating times are read in default_zone. Unknown zones,
 * too many occurrences (MED_ICAL_MAX_OCCURRENCES) and malformed input
 * fail. (transfer full) array of MedInterval */
#define MED_ICAL_MAX_OCCURRENCES 20000
GArray *med_ical_parse_busy (const char *data, gsize len, MedTime from,
    MedTime to, const char *default_zone, GError **error);

typedef enum
{
  MED_ICAL_KIND_AUTO, /* from METHOD: present → invite, absent → feed */
  MED_ICAL_KIND_INVITE,
  MED_ICAL_KIND_FEED,
} MedIcalKind;

/* Checks what lenient parsers accept silently: CRLF line ends, lines of at
 * most 75 octets folded on UTF-8 boundaries, a VTIMEZONE for every TZID,
 * DTSTAMP in UTC, a REQUEST with at least one ATTENDEE, no METHOD in a
 * feed, an unquoted single FEATURE value. Returns the problems, one
 * "line N: …" string each; an empty array means clean. (transfer full) */
GPtrArray *med_ical_lint (const char *data, gsize len, MedIcalKind kind);

G_END_DECLS
