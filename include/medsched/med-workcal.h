/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-workcal.h — the working calendar: which local days are working days
 * for a centre, and the working windows of each day.
 *
 * Holiday notices are held per jurisdiction and year. Jurisdictions are
 * layered in the order a centre lists them (national → region → city →
 * centre, e.g. "CN,CN-XZ,CN-XZ-LS,centre-1"); a later layer overrides an
 * earlier one for the days it names. A year for which a jurisdiction the
 * centre follows has published nothing is *unpublished*: asking about any
 * day in it fails with MED_WORKCAL_ERROR_UNPUBLISHED naming the
 * jurisdiction and year. Jurisdictions marked optional (a trailing '?' in
 * the centre's layer list, e.g. "centre-1?") never make a year unpublished.
 *
 * Pure: no I/O. Notices come from the store or from the ical module. */
#pragma once

#include <medsched/med-model.h>

G_BEGIN_DECLS

#define MED_WORKCAL_ERROR (med_workcal_error_quark ())
GQuark med_workcal_error_quark (void);

typedef enum
{
  MED_WORKCAL_ERROR_UNPUBLISHED, /* no notice for that jurisdiction + year */
  MED_WORKCAL_ERROR_INVALID, /* bad notice or bad layer list */
  MED_WORKCAL_ERROR_ZONE, /* unknown IANA zone */
} MedWorkcalError;

typedef enum
{
  MED_DAY_KIND_HOLIDAY, /* 放假: no work even on a weekday */
  MED_DAY_KIND_WORKDAY, /* 调休上班: a make-up working day (weekend worked) */
} MedDayKind;

typedef enum
{
  MED_LAYER_NATIONAL,
  MED_LAYER_REGION,
  MED_LAYER_CITY,
  MED_LAYER_CENTRE,
  MED_LAYER_N
} MedLayer;

const char *med_layer_to_string (MedLayer l);
gboolean med_layer_from_string (const char *s, MedLayer *out, GError **error);

typedef struct
{
  gint year;
  gint month; /* 1..12 */
  gint day; /* 1..31 */
  MedDayKind kind;
  char *name; /* 春节, 藏历新年, … */
} MedNoticeDay;

/* One published notice: the days it declares for one jurisdiction in one
 * year. Several notices may cover the same jurisdiction and year (a Losar
 * notice and a Shoton notice); together they make that year published. */
typedef struct
{
  char *id; /* stable id, e.g. "CN-2026" (the .ics UID base) */
  char *jurisdiction; /* "CN", "CN-XZ", "CN-XZ-LS", "centre-1" */
  MedLayer layer;
  gint year;
  char *title; /* 国务院办公厅关于2026年部分节假日安排的通知 */
  char *source; /* notice number and/or URL */
  char *published; /* YYYY-MM-DD */
  GArray *days; /* of MedNoticeDay */
} MedNotice;

MedNotice *med_notice_new (void);
void med_notice_free (MedNotice *n);
void med_notice_add_day (MedNotice *n, gint year, gint month, gint day,
    MedDayKind kind, const char *name);
/* Checks every day is a real date in n->year, no day is listed twice with
 * different kinds, jurisdiction/title/source/published are set. */
gboolean med_notice_validate (const MedNotice *n, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedNotice, med_notice_free)

typedef struct _MedWorkcal MedWorkcal;

MedWorkcal *med_workcal_new (void);
void med_workcal_free (MedWorkcal *wc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedWorkcal, med_workcal_free)

/* Adds a copy of the notice's days. A later notice for the same
 * jurisdiction, year and day replaces the earlier entry. */
gboolean med_workcal_add_notice (MedWorkcal *wc, const MedNotice *n,
    GError **error);
gboolean med_workcal_is_published (const MedWorkcal *wc,
    const char *jurisdiction, gint year);

typedef struct
{
  gboolean working;
  gboolean weekend; /* Saturday or Sunday */
  gboolean holiday; /* some layer declared a holiday */
  gboolean makeup; /* some layer declared a make-up working day */
  const char *name; /* holiday / make-up name, or NULL (transfer none) */
  const char *jurisdiction; /* layer that decided, or NULL */
} MedDayInfo;

/* Status of one local date under the layers "CN,CN-XZ-LS" (comma list, a
 * trailing '?' marks an optional layer). */
gboolean med_workcal_day_info (const MedWorkcal *wc, const char *layers,
    gint year, gint month, gint day, MedDayInfo *out, GError **error);

/* Checks the syntax of a layer list ("CN,CN-XZ-LS,centre-1?"): one or more
 * comma-separated jurisdiction ids (ASCII letters, digits, '-', '_', '.',
 * at most 64 bytes), each optionally followed by '?'. Fails with
 * MED_WORKCAL_ERROR_INVALID. Whether the jurisdictions have notices is not
 * checked. */
gboolean med_workcal_check_layers (const char *layers, GError **error);

/* The working windows of one local date for a centre: up to two intervals
 * (before and after lunch), in UTC, in order. Uses the weekday's opening
 * hours; a make-up working day on a weekend uses Monday's hours; an
 * ordinary weekend day uses the centre's own weekend hours (closed by
 * default). A holiday gives *n_out = 0. */
gboolean med_workcal_day_windows (const MedWorkcal *wc, const MedCentre *centre,
    gint year, gint month, gint day, MedInterval out[2], guint *n_out,
    GError **error);

/* The local date (in zone) of an instant, and the UTC instant of a local
 * wall-clock time. zone is an IANA name; unknown zones fail. */
gboolean med_workcal_local_date (const char *zone, MedTime t, gint *year,
    gint *month, gint *day, GError **error);
gboolean med_workcal_local_to_utc (const char *zone, gint year, gint month,
    gint day, gint minute_of_day, MedTime *out, GError **error);

G_END_DECLS
