/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-private.h — helpers shared by the files of the ical module and
 * by nothing else: the bare-name VTIMEZONE cache and local times
 * (med-ical-zone.c), the pieces every exported calendar is made of
 * (med-ical-invite.c), and the raw-text checks every reader runs before
 * libical sees a byte (med-ical-lint.c).
 *
 * Ownership follows libical helper habits: new_ returns a component or
 * string the caller owns, take_ hands one over to the callee, add_ leaves
 * the caller's argument alone. */
#pragma once

#include <medsched/med-i18n.h>
#include <medsched/med-ical.h>

#include <libical/ical.h>

G_BEGIN_DECLS

#define MED_ICAL_PRODID "-//medsched//medsched 0.1//ZH"

/* ---- zones (med-ical-zone.c) ----------------------------------------- */

/* med_ical_init (NULL) once, whoever calls first: libical initialises its
 * zone list lazily and unlocked on first use, which a cold start with
 * several threads must not race. Every public entry point calls this. */
void med_ical_ensure_init (void);

/* TRUE if zone names an IANA zone that both GLib and libical know. Loads
 * it into libical's cache under the module's zone lock. */
gboolean med_ical_zone_is_known (const char *zone);

/* A VTIMEZONE for zone named by the bare IANA name (TZID:Asia/Shanghai),
 * truncated to local years [first_year, last_year]. Served from a cache of
 * truncated components; thread-safe. (transfer full) */
icalcomponent *med_ical_new_vtimezone (const char *zone, gint first_year,
    gint last_year, GError **error);

/* The zone's whole history as a VTIMEZONE whose TZID is tzid (which may
 * differ from zone, e.g. "/freeassociation…/Asia/Shanghai" read from a
 * file). NULL if the zone is unknown. Thread-safe. (transfer full) */
icalcomponent *med_ical_new_full_vtimezone (const char *zone, const char *tzid);

/* The GLib zone for an IANA name, or NULL with MED_ICAL_ERROR_INVALID.
 * (transfer full) */
GTimeZone *med_ical_new_gzone (const char *zone, GError **error);

/* t as a local (floating) libical time in tz, to the second. */
struct icaltimetype med_ical_local_time (GTimeZone *tz, MedTime t);

/* t as a UTC libical time. */
struct icaltimetype med_ical_utc_time (MedTime t);

/* The local calendar year of t in tz. */
gint med_ical_local_year (GTimeZone *tz, MedTime t);

/* ---- export pieces (med-ical-invite.c) -------------------------------- */

/* A VCALENDAR with PRODID, VERSION 2.0, CALSCALE GREGORIAN and, unless
 * method is ICAL_METHOD_NONE, METHOD. (transfer full) */
icalcomponent *med_ical_new_vcalendar (icalproperty_method method);

/* Adds prop (DTSTART, DTEND, …) at t in the local time of tz, with a
 * TZID=tzid parameter. */
void med_ical_add_local_time (icalcomponent *comp, icalproperty_kind kind,
    GTimeZone *tz, const char *tzid, MedTime t);

/* Adds an X- property with a text value. libical escapes '\\' and
 * newlines in X- values but not ',' and ';', and clients (ical.js keeps
 * unknown values verbatim) read them that way: X-WR-CALNAME:A, B. */
void med_ical_add_x_text (icalcomponent *comp, const char *name,
    const char *value);

/* Sets *out to s with control characters other than '\n' (when
 * multiline) turned into spaces and '\r' dropped, or to NULL if s is NULL.
 * Fails if s is not UTF-8. *out is (transfer full). */
gboolean med_ical_clean_text (const char *s, gboolean multiline,
    const char *field, char **out, GError **error);

/* A mailbox address plausible enough to put after mailto: (one '@',
 * printable ASCII, none of the characters that would need escaping). */
gboolean med_ical_check_address (const char *addr, const char *field,
    GError **error);

/* The component as text (CRLF, folded by libical). (transfer full) */
char *med_ical_new_string (icalcomponent *comp);

/* A DESCRIPTION line "label: value" in lang (label a message id). */
void med_ical_append_field (GString *s, MedLang lang, const char *label,
    const char *value);

/* "2026-12-07 (Monday) 09:30–11:00" in tz and lang, the end date repeated
 * only when it differs. (transfer full) */
char *med_ical_new_when (GTimeZone *tz, MedTime start, MedTime end,
    MedLang lang);

/* room name and centre address: the LOCATION of every event.
 * (transfer full) */
char *med_ical_new_location (const MedCentre *centre, const MedRoom *room);

/* ---- reading raw text (med-ical-lint.c) ------------------------------- */

typedef struct
{
  guint max_depth; /* components nested at most this deep */
  guint max_components; /* BEGIN lines in one file */
  guint max_line_bytes; /* one unfolded content line */
} MedIcalScanLimits;

/* Everything a reader checks before libical parses: size (at most
 * MED_ICAL_MAX_BYTES), not empty, UTF-8 without NUL, an optional byte order
 * mark, and a line scan (BEGIN/END pairs match, nesting and counts within
 * limits, exactly one VCALENDAR, nothing outside it, not cut short).
 * Returns the text as a NUL-terminated copy without the byte order mark.
 * (transfer full) */
char *med_ical_new_checked_text (const char *data, gsize len,
    const MedIcalScanLimits *limits, GError **error);

/* Calls fn on each unfolded content line of text (NUL-terminated, as
 * returned by med_ical_new_checked_text) with its first physical line
 * number; stops and returns FALSE when fn does. */
typedef gboolean (*MedIcalLineFunc) (const char *line, gsize len, guint lineno,
    gpointer data);
gboolean med_ical_foreach_line (const char *text, MedIcalLineFunc fn,
    gpointer data);

/* libical turns what it cannot parse into X-LIC-ERROR properties: the
 * first one in comp or its children, or NULL. (transfer none) */
const char *med_ical_find_lic_error (icalcomponent *comp);

/* libical's parse of checked text, failing with MED_ICAL_ERROR_PARSE on
 * anything but one clean VCALENDAR. (transfer full) */
icalcomponent *med_ical_new_parsed (const char *text, GError **error);

/* A short printable rendering of outside text for messages: at most 40
 * characters of its valid UTF-8 prefix, control characters replaced.
 * len < 0: NUL-terminated. (transfer full) */
char *med_ical_describe (const char *s, gssize len);

G_END_DECLS
