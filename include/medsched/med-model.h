/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-model.h — plain types and enums of medsched, their text forms and
 * validation. No I/O: everything here works on memory only.
 *
 * Instants are UTC seconds since the epoch (MedTime). Local (centre) time is
 * only used by workcal and for display. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gint64 MedTime;

#define MED_MODEL_ERROR (med_model_error_quark ())
GQuark med_model_error_quark (void);

typedef enum
{
  MED_MODEL_ERROR_INVALID, /* malformed or out-of-range value */
  MED_MODEL_ERROR_UNKNOWN_ENUM, /* a word that is not one of the known values */
  MED_MODEL_ERROR_TOO_LONG,
  MED_MODEL_ERROR_ENCODING, /* invalid UTF-8 or control characters */
  MED_MODEL_ERROR_TRANSITION, /* case state change not allowed */
} MedModelError;

/* Limits applied to every text field that comes from outside. */
#define MED_MAX_NAME_BYTES   256
#define MED_MAX_TEXT_BYTES   4096
#define MED_MAX_PARTIES      64
#define MED_MAX_IMPORT_BYTES (16 * 1024 * 1024)

typedef enum
{
  MED_ROOM_KIND_WARM, /* 温馨调解室 */
  MED_ROOM_KIND_FAMILY, /* 家事调解室 */
  MED_ROOM_KIND_REMOTE, /* 远程调解室 */
  MED_ROOM_KIND_N
} MedRoomKind;

/* Room features, a bit set. */
typedef enum
{
  MED_ROOM_FEATURE_VIDEO = 1 << 0, /* video terminal */
  MED_ROOM_FEATURE_CHILD_FRIENDLY = 1 << 1,
  MED_ROOM_FEATURE_ACCESSIBLE = 1 << 2, /* step-free access */
  MED_ROOM_FEATURE_RECORDING = 1 << 3,
} MedRoomFeature;

typedef enum
{
  MED_CASE_KIND_WAGES, /* unpaid wages 欠薪 */
  MED_CASE_KIND_NEIGHBOUR, /* 邻里纠纷 */
  MED_CASE_KIND_CONTRACT,
  MED_CASE_KIND_LAND,
  MED_CASE_KIND_TRAFFIC,
  MED_CASE_KIND_CONSUMER,
  MED_CASE_KIND_DIVORCE,
  MED_CASE_KIND_CUSTODY,
  MED_CASE_KIND_SUPPORT, /* 赡养 / 抚养费 */
  MED_CASE_KIND_INHERITANCE,
  MED_CASE_KIND_OTHER,
  MED_CASE_KIND_N
} MedCaseKind;

typedef enum
{
  MED_CASE_STATUS_INTAKE,
  MED_CASE_STATUS_DISPATCHED,
  MED_CASE_STATUS_SCHEDULED,
  MED_CASE_STATUS_IN_SESSION,
  MED_CASE_STATUS_SETTLED,
  MED_CASE_STATUS_NOT_SETTLED,
  MED_CASE_STATUS_REFERRED,
  MED_CASE_STATUS_WITHDRAWN,
  MED_CASE_STATUS_N
} MedCaseStatus;

typedef enum
{
  MED_DEPARTMENT_NONE,
  MED_DEPARTMENT_COURT_MEDIATION, /* 法院调解 */
  MED_DEPARTMENT_LABOUR_INSPECTION, /* 劳动监察 */
  MED_DEPARTMENT_LEGAL_AID, /* 法律援助 */
  MED_DEPARTMENT_POLICE, /* 派出所 */
  MED_DEPARTMENT_CIVIL_AFFAIRS, /* 民政 */
  MED_DEPARTMENT_N
} MedDepartment;

typedef enum
{
  MED_PARTY_ROLE_APPLICANT,
  MED_PARTY_ROLE_RESPONDENT,
  MED_PARTY_ROLE_THIRD_PARTY,
  MED_PARTY_ROLE_AGENT,
  MED_PARTY_ROLE_N
} MedPartyRole;

typedef enum
{
  MED_ATTENDANCE_IN_PERSON,
  MED_ATTENDANCE_REMOTE,
  MED_ATTENDANCE_N
} MedAttendance;

typedef enum
{
  MED_BOOKING_MODE_IN_PERSON,
  MED_BOOKING_MODE_REMOTE,
  MED_BOOKING_MODE_HYBRID,
  MED_BOOKING_MODE_N
} MedBookingMode;

typedef enum
{
  MED_BOOKING_STATUS_CONFIRMED,
  MED_BOOKING_STATUS_CANCELLED,
  MED_BOOKING_STATUS_N
} MedBookingStatus;

/* Text forms ("warm", "family", …). to_string returns a static string;
 * from_string fails with MED_MODEL_ERROR_UNKNOWN_ENUM naming the field and
 * the accepted words. */
const char *med_room_kind_to_string (MedRoomKind v);
gboolean med_room_kind_from_string (const char *s, MedRoomKind *out,
    GError **error);
/* Chinese label of a room kind (温馨调解室, …). */
const char *med_room_kind_label_zh (MedRoomKind v);
const char *med_case_kind_to_string (MedCaseKind v);
gboolean med_case_kind_from_string (const char *s, MedCaseKind *out,
    GError **error);
const char *med_case_status_to_string (MedCaseStatus v);
gboolean med_case_status_from_string (const char *s, MedCaseStatus *out,
    GError **error);
const char *med_department_to_string (MedDepartment v);
gboolean med_department_from_string (const char *s, MedDepartment *out,
    GError **error);
const char *med_party_role_to_string (MedPartyRole v);
gboolean med_party_role_from_string (const char *s, MedPartyRole *out,
    GError **error);
const char *med_attendance_to_string (MedAttendance v);
gboolean med_attendance_from_string (const char *s, MedAttendance *out,
    GError **error);
const char *med_booking_mode_to_string (MedBookingMode v);
gboolean med_booking_mode_from_string (const char *s, MedBookingMode *out,
    GError **error);
const char *med_booking_status_to_string (MedBookingStatus v);
gboolean med_booking_status_from_string (const char *s, MedBookingStatus *out,
    GError **error);

/* Labels a person reads: one per value, an English message id to be
 * translated with med_i18n_gettext (med-i18n.h) into the reader's
 * language. Static strings. */
const char *med_room_kind_label (MedRoomKind v);
const char *med_case_kind_label (MedCaseKind v);
const char *med_case_status_label (MedCaseStatus v);
const char *med_department_label (MedDepartment v);
const char *med_party_role_label (MedPartyRole v);
const char *med_attendance_label (MedAttendance v);
const char *med_booking_mode_label (MedBookingMode v);
const char *med_booking_status_label (MedBookingStatus v);
/* A user's role or a call participant's ("admin", "clerk", "mediator",
 * "party", "room", "interpreter"); the word itself when unknown. */
const char *med_person_role_label (const char *word);
/* A recording's state or regime by its word (med-store.h's
 * med_recording_state_to_string, med_recording_regime_to_string). */
const char *med_recording_label (const char *word);

/* Every label above by kind and word, for what reads them by code (the
 * pages' scripts, through /static/i18n/<lang>.json): kind is
 * "room-kind", "case-kind", "case-status", "department", "party-role",
 * "attendance", "booking-mode", "booking-status", "person-role" or
 * "recording"; word the value's text form ("applicant"); label its English
 * message id. */
typedef void (*MedLabelFunc) (const char *kind, const char *word,
    const char *label, gpointer data);
void med_labels_foreach (MedLabelFunc func, gpointer data);

/* Room features as a comma list ("video,child-friendly"). to_string returns
 * (transfer full). */
char *med_room_features_to_string (guint features);
gboolean med_room_features_from_string (const char *s, guint *out,
    GError **error);

/* Specialties are a bit set over MedCaseKind (1 << kind), written as a
 * comma list of case kinds. */
char *med_specialties_to_string (guint specialties);
gboolean med_specialties_from_string (const char *s, guint *out,
    GError **error);

/* Family-affairs kinds: divorce, custody, support, inheritance. */
gboolean med_case_kind_is_family (MedCaseKind kind);

/* The case state machine: intake → dispatched → scheduled → in-session →
 * settled / not-settled; referred and withdrawn from any open state;
 * scheduled → dispatched when its bookings are cancelled; not-settled →
 * scheduled for a follow-up session. */
gboolean med_case_status_can_transition (MedCaseStatus from, MedCaseStatus to);
gboolean med_case_status_check_transition (MedCaseStatus from, MedCaseStatus to,
    GError **error);
gboolean med_case_status_is_closed (MedCaseStatus s);

/* Text validation for anything from outside: valid UTF-8, no control
 * characters other than tab/newline (when multiline), at most max_bytes,
 * non-empty unless allow_empty. field names the value in the message. */
gboolean med_validate_text (const char *s, gsize max_bytes, gboolean multiline,
    gboolean allow_empty, const char *field, GError **error);

/* Language codes: 2–3 lowercase ASCII letters (ISO 639: zh, bo, en, ug). */
gboolean med_validate_language (const char *s, GError **error);

/* Opening hours of one weekday, minutes since local midnight. A closed day
 * has open_min == close_min == 0. A day without a lunch break has
 * lunch_start_min == lunch_end_min == 0. */
typedef struct
{
  gint16 open_min;
  gint16 close_min;
  gint16 lunch_start_min;
  gint16 lunch_end_min;
} MedDayHours;

/* "08:30-12:00,14:30-18:00" or "08:30-17:00" or "closed". */
gboolean med_day_hours_parse (const char *s, MedDayHours *out, GError **error);
char *med_day_hours_to_string (const MedDayHours *h);

typedef struct
{
  gint64 id;
  char *name;
  char *zone; /* IANA zone, default Asia/Shanghai */
  char *layers; /* jurisdictions followed, in order: "CN,CN-XZ-LS" */
  char *address;
  char *mailbox; /* organizer address for invites */
  MedDayHours hours[7]; /* index 0 = Monday … 6 = Sunday */
  gint min_notice_minutes;
  gint slot_minutes; /* start-time granularity, default 15 */
  gint default_duration_minutes;
  gboolean allow_fallback; /* use the fallback room kind when needed */
} MedCentre;

typedef struct
{
  gint64 id;
  gint64 centre_id;
  char *name;
  MedRoomKind kind;
  gint capacity;
  guint features;
  gint setup_minutes;
  gint cleanup_minutes;
} MedRoom;

typedef struct
{
  MedTime start;
  MedTime end;
} MedInterval;

typedef struct
{
  gint64 id;
  gint64 centre_id;
  char *name;
  char **languages; /* NULL-terminated, e.g. {"zh","bo",NULL} */
  guint specialties; /* bit set over MedCaseKind */
  gint daily_cap; /* sessions per local day */
  GArray *leave; /* of MedInterval, may be NULL */
} MedMediator;

typedef struct
{
  gint64 id;
  gint64 centre_id;
  char *name;
  char **pairs; /* NULL-terminated "zh:bo" (both directions) */
} MedInterpreter;

typedef struct
{
  gint64 id;
  gint64 centre_id;
  char *number; /* e.g. (2026)藏0102民调123号 or demo numbers */
  MedCaseKind kind;
  MedCaseStatus status;
  MedDepartment department;
  MedTime intake_at;
  MedTime deadline; /* 0 = none */
  gboolean minors;
  gboolean urgent;
  gint duration_minutes; /* 0 = centre default */
  char *summary; /* free text, never logged */
} MedCase;

typedef struct
{
  gint64 id;
  gint64 case_id;
  char *name;
  MedPartyRole role;
  char *language;
  MedAttendance attendance;
  char *contact; /* phone or e-mail; personal data, never logged */
} MedParty;

typedef struct
{
  gint64 id;
  gint64 case_id;
  gint64 room_id;
  gint64 mediator_id;
  gint64 interpreter_id; /* 0 = none */
  MedTime start;
  MedTime end;
  MedBookingMode mode;
  MedBookingStatus status;
  char *uid; /* iCalendar UID */
  gint sequence; /* iCalendar SEQUENCE */
  MedTime updated_at;
} MedBooking;

MedCentre *med_centre_new_default (void);
void med_centre_free (MedCentre *c);
MedRoom *med_room_new (void);
void med_room_free (MedRoom *r);
MedMediator *med_mediator_new (void);
void med_mediator_free (MedMediator *m);
gboolean med_mediator_speaks (const MedMediator *m, const char *lang);
MedInterpreter *med_interpreter_new (void);
void med_interpreter_free (MedInterpreter *i);
gboolean med_interpreter_covers (const MedInterpreter *i, const char *a,
    const char *b);
MedCase *med_case_new (void);
void med_case_free (MedCase *c);
MedParty *med_party_new (void);
void med_party_free (MedParty *p);
MedBooking *med_booking_new (void);
void med_booking_free (MedBooking *b);
MedBooking *med_booking_copy (const MedBooking *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedCentre, med_centre_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedRoom, med_room_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedMediator, med_mediator_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedInterpreter, med_interpreter_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedCase, med_case_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedParty, med_party_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedBooking, med_booking_free)

/* Times as text, in a given IANA zone: "2026-12-07T09:30" (local, minutes)
 * or "2026-12-07" (local midnight). parse_local fails on malformed text,
 * impossible dates and unknown zones. format returns (transfer full). */
gboolean med_time_parse_local (const char *s, const char *zone, MedTime *out,
    GError **error);
char *med_time_format_local (MedTime t, const char *zone, const char *format);
/* A calendar day as text, "2026-12-07" exactly: digits, a real day, a year
 * from 1970 to 2200 (the years the times above accept). */
gboolean med_date_parse (const char *s, gint *y, gint *m, gint *d);

/* An import document (docs/import-format.md): rooms, mediators,
 * interpreters, cases with their parties. Parsed fully and validated before
 * anything is written. */
typedef struct
{
  GPtrArray *rooms; /* MedRoom* */
  GPtrArray *mediators; /* MedMediator* */
  GPtrArray *interpreters; /* MedInterpreter* */
  GPtrArray *cases; /* MedCase* */
  GPtrArray *case_parties; /* GPtrArray* of MedParty*, parallel to cases */
} MedImportDoc;

/* Parses and validates a JSON import document held in memory; data need
 * not be NUL-terminated. zone converts local times in the document.
 * Returns (transfer full) or NULL with error naming the JSON path. */
MedImportDoc *med_import_doc_parse (const char *data, gsize len,
    const char *zone, GError **error);
void med_import_doc_free (MedImportDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedImportDoc, med_import_doc_free)

G_END_DECLS
