/* med-ical.h — iCalendar on libical: reading holiday notices (this file
 * grows with invites, feeds and free/busy). The only module that includes
 * libical/ical.h. */
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

G_END_DECLS
