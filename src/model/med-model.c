/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-model.c — the plain types of medsched: constructors and destructors,
 * the text form of every enum, the case state machine, and validation of
 * text that comes from outside. Nothing here does I/O. */
#define G_LOG_DOMAIN "medsched-model"

#include <medsched/med-model.h>
#include <medsched/med-i18n.h>

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK (med-model-error-quark, med_model_error)
/* clang-format on */

/* One table per enum: index = value. */
static const char *const room_kind_words[] = { "warm", "family", "remote" };
static const char *const case_kind_words[]
    = { "wages", "neighbour", "contract", "land", "traffic", "consumer",
        "divorce", "custody", "support", "inheritance", "other" };
static const char *const case_status_words[]
    = { "intake", "dispatched", "scheduled", "in-session", "settled",
        "not-settled", "referred", "withdrawn" };
static const char *const department_words[] = { "none", "court-mediation",
  "labour-inspection", "legal-aid", "police", "civil-affairs" };
static const char *const party_role_words[]
    = { "applicant", "respondent", "third-party", "agent" };
static const char *const attendance_words[] = { "in-person", "remote" };
static const char *const booking_mode_words[]
    = { "in-person", "remote", "hybrid" };
static const char *const booking_status_words[] = { "confirmed", "cancelled" };
static const char *const feature_words[]
    = { "video", "child-friendly", "accessible", "recording" };

G_STATIC_ASSERT (G_N_ELEMENTS (room_kind_words) == MED_ROOM_KIND_N);
G_STATIC_ASSERT (G_N_ELEMENTS (case_kind_words) == MED_CASE_KIND_N);
G_STATIC_ASSERT (G_N_ELEMENTS (case_status_words) == MED_CASE_STATUS_N);
G_STATIC_ASSERT (G_N_ELEMENTS (department_words) == MED_DEPARTMENT_N);
G_STATIC_ASSERT (G_N_ELEMENTS (party_role_words) == MED_PARTY_ROLE_N);
G_STATIC_ASSERT (G_N_ELEMENTS (attendance_words) == MED_ATTENDANCE_N);
G_STATIC_ASSERT (G_N_ELEMENTS (booking_mode_words) == MED_BOOKING_MODE_N);
G_STATIC_ASSERT (G_N_ELEMENTS (booking_status_words) == MED_BOOKING_STATUS_N);

static const char *
word_of (const char *const *words, guint n, int v)
{
  if (v < 0 || (guint) v >= n)
    return "invalid";
  return words[v];
}

static gboolean
lookup_word (const char *const *words, guint n, const char *what, const char *s,
    int *out, GError **error)
{
  g_autoptr (GString) accepted = NULL;

  if (s != NULL) {
    for (guint i = 0; i < n; i++) {
      if (strcmp (words[i], s) == 0) {
        *out = (int) i;
        return TRUE;
      }
    }
  }
  accepted = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (accepted, "%s%s", i ? ", " : "", words[i]);
  if (s != NULL && g_utf8_validate (s, -1, NULL) && strlen (s) <= 64)
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_UNKNOWN_ENUM,
        "unknown %s “%s” (expected one of: %s)", what, s, accepted->str);
  else
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_UNKNOWN_ENUM,
        "invalid %s (expected one of: %s)", what, accepted->str);
  return FALSE;
}

#define DEFINE_ENUM_TEXT(Type, prefix, words, what)                            \
  const char *prefix##_to_string (Type v)                                      \
  {                                                                            \
    return word_of (words, G_N_ELEMENTS (words), (int) v);                     \
  }                                                                            \
  gboolean prefix##_from_string (const char *s, Type *out, GError **error)     \
  {                                                                            \
    int v = 0;                                                                 \
    if (!lookup_word (words, G_N_ELEMENTS (words), what, s, &v, error))        \
      return FALSE;                                                            \
    *out = (Type) v;                                                           \
    return TRUE;                                                               \
  }

DEFINE_ENUM_TEXT (MedRoomKind, med_room_kind, room_kind_words, "room kind")
DEFINE_ENUM_TEXT (MedCaseKind, med_case_kind, case_kind_words, "case kind")
DEFINE_ENUM_TEXT (MedCaseStatus, med_case_status, case_status_words,
    "case status")
DEFINE_ENUM_TEXT (MedDepartment, med_department, department_words, "department")
DEFINE_ENUM_TEXT (MedPartyRole, med_party_role, party_role_words, "party role")
DEFINE_ENUM_TEXT (MedAttendance, med_attendance, attendance_words, "attendance")
DEFINE_ENUM_TEXT (MedBookingMode, med_booking_mode, booking_mode_words,
    "booking mode")
DEFINE_ENUM_TEXT (MedBookingStatus, med_booking_status, booking_status_words,
    "booking status")

/* ---- labels: what a person reads for each value ----
 *
 * One label per value, here and nowhere else, as an English message id;
 * po/ translates each once (med-i18n.h). */

static const char *const room_kind_labels[] = { N_ ("Warm mediation room"),
  N_ ("Family mediation room"), N_ ("Remote mediation room") };
G_STATIC_ASSERT (G_N_ELEMENTS (room_kind_labels) == MED_ROOM_KIND_N);
static const char *const case_kind_labels[] = { N_ ("Unpaid wages"),
  N_ ("Neighbour dispute"), N_ ("Contract dispute"), N_ ("Land dispute"),
  N_ ("Traffic accident"), N_ ("Consumer dispute"), N_ ("Divorce dispute"),
  N_ ("Custody dispute"), N_ ("Support and maintenance"),
  N_ ("Inheritance dispute"), N_ ("Other dispute") };
G_STATIC_ASSERT (G_N_ELEMENTS (case_kind_labels) == MED_CASE_KIND_N);
static const char *const case_status_labels[] = { N_ ("Taken at intake"),
  N_ ("Dispatched"), N_ ("Scheduled"), N_ ("In mediation"), N_ ("Settled"),
  N_ ("Not settled"), N_ ("Referred"), N_ ("Withdrawn") };
G_STATIC_ASSERT (G_N_ELEMENTS (case_status_labels) == MED_CASE_STATUS_N);
static const char *const department_labels[]
    = { N_ ("Not dispatched"), N_ ("Court mediation"), N_ ("Labour inspection"),
        N_ ("Legal aid"), N_ ("Police station"), N_ ("Civil affairs") };
G_STATIC_ASSERT (G_N_ELEMENTS (department_labels) == MED_DEPARTMENT_N);
static const char *const party_role_labels[]
    = { N_ ("Applicant"), N_ ("Respondent"), N_ ("Third party"), N_ ("Agent") };
G_STATIC_ASSERT (G_N_ELEMENTS (party_role_labels) == MED_PARTY_ROLE_N);
static const char *const attendance_labels[]
    = { N_ ("In person"), N_ ("By video") };
G_STATIC_ASSERT (G_N_ELEMENTS (attendance_labels) == MED_ATTENDANCE_N);
static const char *const booking_mode_labels[] = { N_ ("In-person mediation"),
  N_ ("Remote video mediation"), N_ ("In person and by video") };
G_STATIC_ASSERT (G_N_ELEMENTS (booking_mode_labels) == MED_BOOKING_MODE_N);
static const char *const booking_status_labels[]
    = { N_ ("Confirmed"), N_ ("Cancelled") };
G_STATIC_ASSERT (G_N_ELEMENTS (booking_status_labels) == MED_BOOKING_STATUS_N);
/* who takes part in a call or signs in: the words of med_role_to_string
 * and of the call's participants */
static const struct
{
  const char *word, *label;
} person_role_labels[] = {
  { "admin", N_ ("Administrator") },
  { "clerk", N_ ("Clerk") },
  { "mediator", N_ ("Mediator") },
  { "party", N_ ("Party") },
  { "room", N_ ("Mediation room terminal") },
  { "interpreter", N_ ("Interpreter") },
};

#define DEFINE_LABEL(Type, prefix, table)                                      \
  const char *prefix##_label (Type v)                                          \
  {                                                                            \
    return (guint) v < G_N_ELEMENTS (table) ? table[v] : "?";                  \
  }

DEFINE_LABEL (MedRoomKind, med_room_kind, room_kind_labels)
DEFINE_LABEL (MedCaseKind, med_case_kind, case_kind_labels)
DEFINE_LABEL (MedCaseStatus, med_case_status, case_status_labels)
DEFINE_LABEL (MedDepartment, med_department, department_labels)
DEFINE_LABEL (MedPartyRole, med_party_role, party_role_labels)
DEFINE_LABEL (MedAttendance, med_attendance, attendance_labels)
DEFINE_LABEL (MedBookingMode, med_booking_mode, booking_mode_labels)
DEFINE_LABEL (MedBookingStatus, med_booking_status, booking_status_labels)

/* a recording's state and regime, by the words of med-store.h's
 * med_recording_state_to_string and med_recording_regime_to_string */
static const struct
{
  const char *word, *label;
} recording_labels[] = {
  { "idle", N_ ("Not started") },
  { "recording", N_ ("Recording") },
  { "paused", N_ ("Recording paused") },
  { "stopped", N_ ("Stopped without a seal") },
  { "failed", N_ ("Failed") },
  { "sealed", N_ ("Sealed") },
  { "purged", N_ ("Purged") },
  { "hearing", N_ ("Recorded throughout (hearing)") },
  { "mediation", N_ ("Recorded with every party's consent") },
};

const char *
med_recording_label (const char *word)
{
  for (guint i = 0; word && i < G_N_ELEMENTS (recording_labels); i++) {
    if (strcmp (word, recording_labels[i].word) == 0)
      return recording_labels[i].label;
  }
  return word ? word : "";
}

#define FOREACH_LABEL(kind, Type, prefix, n)                                   \
  for (guint i = 0; i < (n); i++)                                              \
    func (kind, prefix##_to_string ((Type) i), prefix##_label ((Type) i), data);

void
med_labels_foreach (MedLabelFunc func, gpointer data)
{
  FOREACH_LABEL ("room-kind", MedRoomKind, med_room_kind, MED_ROOM_KIND_N)
  FOREACH_LABEL ("case-kind", MedCaseKind, med_case_kind, MED_CASE_KIND_N)
  FOREACH_LABEL ("case-status", MedCaseStatus, med_case_status,
      MED_CASE_STATUS_N)
  FOREACH_LABEL ("department", MedDepartment, med_department, MED_DEPARTMENT_N)
  FOREACH_LABEL ("party-role", MedPartyRole, med_party_role, MED_PARTY_ROLE_N)
  FOREACH_LABEL ("attendance", MedAttendance, med_attendance, MED_ATTENDANCE_N)
  FOREACH_LABEL ("booking-mode", MedBookingMode, med_booking_mode,
      MED_BOOKING_MODE_N)
  FOREACH_LABEL ("booking-status", MedBookingStatus, med_booking_status,
      MED_BOOKING_STATUS_N)
  for (guint i = 0; i < G_N_ELEMENTS (person_role_labels); i++)
    func ("person-role", person_role_labels[i].word,
        person_role_labels[i].label, data);
  for (guint i = 0; i < G_N_ELEMENTS (recording_labels); i++)
    func ("recording", recording_labels[i].word, recording_labels[i].label,
        data);
}

const char *
med_person_role_label (const char *word)
{
  for (guint i = 0; word && i < G_N_ELEMENTS (person_role_labels); i++) {
    if (strcmp (word, person_role_labels[i].word) == 0)
      return person_role_labels[i].label;
  }
  return word ? word : "";
}

const char *
med_room_kind_label_zh (MedRoomKind v)
{
  return med_i18n_gettext (MED_LANG_ZH, med_room_kind_label (v));
}

static char *
bits_to_string (const char *const *words, guint n, guint bits)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++) {
    if (bits & (1u << i))
      g_string_append_printf (s, "%s%s", s->len ? "," : "", words[i]);
  }
  return g_string_free (s, FALSE);
}

static gboolean
bits_from_string (const char *const *words, guint n, const char *what,
    const char *s, guint *out, GError **error)
{
  g_auto (GStrv) parts = NULL;
  guint bits = 0;

  if (s == NULL) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID, "missing %s",
        what);
    return FALSE;
  }
  parts = g_strsplit (s, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    int v = 0;
    const char *w = g_strstrip (parts[i]);

    if (*w == '\0')
      continue;
    if (!lookup_word (words, n, what, w, &v, error))
      return FALSE;
    bits |= 1u << v;
  }
  *out = bits;
  return TRUE;
}

char *
med_room_features_to_string (guint features)
{
  return bits_to_string (feature_words, G_N_ELEMENTS (feature_words), features);
}

gboolean
med_room_features_from_string (const char *s, guint *out, GError **error)
{
  return bits_from_string (feature_words, G_N_ELEMENTS (feature_words),
      "room feature", s, out, error);
}

char *
med_specialties_to_string (guint specialties)
{
  return bits_to_string (case_kind_words, G_N_ELEMENTS (case_kind_words),
      specialties);
}

gboolean
med_specialties_from_string (const char *s, guint *out, GError **error)
{
  return bits_from_string (case_kind_words, G_N_ELEMENTS (case_kind_words),
      "specialty", s, out, error);
}

gboolean
med_case_kind_is_family (MedCaseKind kind)
{
  return kind == MED_CASE_KIND_DIVORCE || kind == MED_CASE_KIND_CUSTODY
      || kind == MED_CASE_KIND_SUPPORT || kind == MED_CASE_KIND_INHERITANCE;
}

gboolean
med_case_status_is_closed (MedCaseStatus s)
{
  return s == MED_CASE_STATUS_SETTLED || s == MED_CASE_STATUS_REFERRED
      || s == MED_CASE_STATUS_WITHDRAWN;
}

gboolean
med_case_status_can_transition (MedCaseStatus from, MedCaseStatus to)
{
  if (from >= MED_CASE_STATUS_N || to >= MED_CASE_STATUS_N || from == to)
    return FALSE;
  if (med_case_status_is_closed (from))
    return FALSE;
  /* Referral and withdrawal end any open case. */
  if (to == MED_CASE_STATUS_REFERRED || to == MED_CASE_STATUS_WITHDRAWN)
    return TRUE;
  switch (from) {
    case MED_CASE_STATUS_INTAKE:
      return to == MED_CASE_STATUS_DISPATCHED;
    case MED_CASE_STATUS_DISPATCHED:
      return to == MED_CASE_STATUS_SCHEDULED;
    case MED_CASE_STATUS_SCHEDULED:
      /* back to dispatched when its sessions are cancelled */
      return to == MED_CASE_STATUS_IN_SESSION
          || to == MED_CASE_STATUS_DISPATCHED;
    case MED_CASE_STATUS_IN_SESSION:
      return to == MED_CASE_STATUS_SETTLED || to == MED_CASE_STATUS_NOT_SETTLED;
    case MED_CASE_STATUS_NOT_SETTLED:
      /* a follow-up session */
      return to == MED_CASE_STATUS_SCHEDULED;
    default:
      return FALSE;
  }
}

gboolean
med_case_status_check_transition (MedCaseStatus from, MedCaseStatus to,
    GError **error)
{
  if (med_case_status_can_transition (from, to))
    return TRUE;
  g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TRANSITION,
      "a case cannot go from %s to %s", med_case_status_to_string (from),
      med_case_status_to_string (to));
  return FALSE;
}

gboolean
med_validate_text (const char *s, gsize max_bytes, gboolean multiline,
    gboolean allow_empty, const char *field, GError **error)
{
  gsize len;

  if (s == NULL || *s == '\0') {
    if (allow_empty)
      return TRUE;
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
        "%s must not be empty", field);
    return FALSE;
  }
  len = strlen (s);
  if (len > max_bytes) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TOO_LONG,
        "%s is too long (%" G_GSIZE_FORMAT " bytes, at most %" G_GSIZE_FORMAT
        ")",
        field, len, max_bytes);
    return FALSE;
  }
  if (!g_utf8_validate_len (s, len, NULL)) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING,
        "%s is not valid UTF-8", field);
    return FALSE;
  }
  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (multiline && (c == '\n' || c == '\t' || c == '\r'))
      continue;
    if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029) {
      g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING,
          "%s contains a control character (U+%04X)", field, c);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
med_validate_language (const char *s, GError **error)
{
  gsize n = s ? strlen (s) : 0;

  if (n < 2 || n > 3)
    goto bad;
  for (gsize i = 0; i < n; i++) {
    if (s[i] < 'a' || s[i] > 'z')
      goto bad;
  }
  return TRUE;

bad:
  g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
      "invalid language code (expected 2–3 lowercase letters, e.g. zh, bo, "
      "en)");
  return FALSE;
}

/* "HH:MM" → minutes, strictly. */
static gboolean
parse_hhmm (const char *s, gsize len, gint16 *out)
{
  int h, m;

  if (len != 5 || !g_ascii_isdigit (s[0]) || !g_ascii_isdigit (s[1])
      || s[2] != ':' || !g_ascii_isdigit (s[3]) || !g_ascii_isdigit (s[4]))
    return FALSE;
  h = (s[0] - '0') * 10 + (s[1] - '0');
  m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return FALSE;
  *out = (gint16) (h * 60 + m);
  return TRUE;
}

static gboolean
parse_range (const char *s, gint16 *a, gint16 *b)
{
  const char *dash = strchr (s, '-');

  if (dash == NULL)
    return FALSE;
  return parse_hhmm (s, dash - s, a)
      && parse_hhmm (dash + 1, strlen (dash + 1), b) && *a < *b;
}

gboolean
med_day_hours_parse (const char *s, MedDayHours *out, GError **error)
{
  g_auto (GStrv) parts = NULL;
  MedDayHours h = { 0 };
  gint16 a, b, c, d;

  if (s == NULL || strlen (s) > 64)
    goto bad;
  if (strcmp (s, "closed") == 0) {
    *out = h;
    return TRUE;
  }
  parts = g_strsplit (s, ",", 3);
  if (parts[0] == NULL || !parse_range (parts[0], &a, &b))
    goto bad;
  h.open_min = a;
  h.close_min = b;
  if (parts[1] != NULL) {
    if (parts[2] != NULL || !parse_range (parts[1], &c, &d) || c < b)
      goto bad;
    h.lunch_start_min = b;
    h.lunch_end_min = c;
    h.close_min = d;
    if (c == b) {
      /* "08:30-12:00,12:00-17:30" is one block without a break. */
      h.lunch_start_min = h.lunch_end_min = 0;
    }
  }
  *out = h;
  return TRUE;

bad:
  g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
      "invalid opening hours (expected “08:30-12:00,14:30-18:00”, "
      "“09:00-17:00” or “closed”)");
  return FALSE;
}

char *
med_day_hours_to_string (const MedDayHours *h)
{
  if (h->open_min == h->close_min)
    return g_strdup ("closed");
  if (h->lunch_start_min == h->lunch_end_min)
    return g_strdup_printf ("%02d:%02d-%02d:%02d", h->open_min / 60,
        h->open_min % 60, h->close_min / 60, h->close_min % 60);
  return g_strdup_printf ("%02d:%02d-%02d:%02d,%02d:%02d-%02d:%02d",
      h->open_min / 60, h->open_min % 60, h->lunch_start_min / 60,
      h->lunch_start_min % 60, h->lunch_end_min / 60, h->lunch_end_min % 60,
      h->close_min / 60, h->close_min % 60);
}

MedCentre *
med_centre_new_default (void)
{
  MedCentre *c = g_new0 (MedCentre, 1);
  /* A common court timetable, Monday to Friday 09:00–12:00 and
   * 14:30–18:00; each centre sets its own with `init --hours`. */
  MedDayHours weekday = { 9 * 60, 18 * 60, 12 * 60, 14 * 60 + 30 };

  c->name = g_strdup ("调解中心");
  c->zone = g_strdup ("Asia/Shanghai");
  c->layers = g_strdup ("CN");
  c->address = g_strdup ("");
  c->mailbox = g_strdup ("mediation@example.invalid");
  for (int i = 0; i < 5; i++)
    c->hours[i] = weekday;
  c->min_notice_minutes = 60;
  c->slot_minutes = 15;
  c->default_duration_minutes = 60;
  c->allow_fallback = TRUE;
  return c;
}

void
med_centre_free (MedCentre *c)
{
  if (c == NULL)
    return;
  g_free (c->name);
  g_free (c->zone);
  g_free (c->layers);
  g_free (c->address);
  g_free (c->mailbox);
  g_free (c);
}

MedRoom *
med_room_new (void)
{
  MedRoom *r = g_new0 (MedRoom, 1);

  r->capacity = 6;
  return r;
}

void
med_room_free (MedRoom *r)
{
  if (r == NULL)
    return;
  g_free (r->name);
  g_free (r);
}

MedMediator *
med_mediator_new (void)
{
  MedMediator *m = g_new0 (MedMediator, 1);

  m->daily_cap = 4;
  return m;
}

void
med_mediator_free (MedMediator *m)
{
  if (m == NULL)
    return;
  g_free (m->name);
  g_strfreev (m->languages);
  if (m->leave)
    g_array_unref (m->leave);
  g_free (m);
}

gboolean
med_mediator_speaks (const MedMediator *m, const char *lang)
{
  return m->languages != NULL && lang != NULL
      && g_strv_contains ((const char *const *) m->languages, lang);
}

MedInterpreter *
med_interpreter_new (void)
{
  return g_new0 (MedInterpreter, 1);
}

void
med_interpreter_free (MedInterpreter *i)
{
  if (i == NULL)
    return;
  g_free (i->name);
  g_strfreev (i->pairs);
  g_free (i);
}

gboolean
med_interpreter_covers (const MedInterpreter *i, const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  for (guint k = 0; i->pairs != NULL && i->pairs[k] != NULL; k++) {
    const char *p = i->pairs[k];
    const char *colon = strchr (p, ':');

    if (colon == NULL)
      continue;
    if ((gsize) (colon - p) == la && strncmp (p, a, la) == 0
        && strcmp (colon + 1, b) == 0)
      return TRUE;
    if ((gsize) (colon - p) == lb && strncmp (p, b, lb) == 0
        && strcmp (colon + 1, a) == 0)
      return TRUE;
  }
  return FALSE;
}

MedCase *
med_case_new (void)
{
  return g_new0 (MedCase, 1);
}

void
med_case_free (MedCase *c)
{
  if (c == NULL)
    return;
  g_free (c->number);
  g_free (c->summary);
  g_free (c);
}

MedParty *
med_party_new (void)
{
  return g_new0 (MedParty, 1);
}

void
med_party_free (MedParty *p)
{
  if (p == NULL)
    return;
  g_free (p->name);
  g_free (p->language);
  g_free (p->contact);
  g_free (p);
}

MedBooking *
med_booking_new (void)
{
  return g_new0 (MedBooking, 1);
}

void
med_booking_free (MedBooking *b)
{
  if (b == NULL)
    return;
  g_free (b->uid);
  g_free (b);
}

MedBooking *
med_booking_copy (const MedBooking *b)
{
  MedBooking *c = g_memdup2 (b, sizeof *b);

  c->uid = g_strdup (b->uid);
  return c;
}

/* Time text. A small cache of GTimeZone per name keeps repeated parsing
 * cheap; zones are immutable so sharing them across threads is safe. */
static GMutex zone_lock;
static GHashTable *zone_cache;

static GTimeZone *
lookup_zone (const char *zone, GError **error)
{
  GTimeZone *tz;

  if (zone == NULL || strlen (zone) > 64) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
        "invalid time zone");
    return NULL;
  }
  g_mutex_lock (&zone_lock);
  if (zone_cache == NULL)
    zone_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) g_time_zone_unref);
  tz = g_hash_table_lookup (zone_cache, zone);
  if (tz == NULL) {
    tz = g_time_zone_new_identifier (zone);
    if (tz != NULL)
      g_hash_table_insert (zone_cache, g_strdup (zone), tz);
  }
  if (tz != NULL)
    g_time_zone_ref (tz);
  g_mutex_unlock (&zone_lock);
  if (tz == NULL)
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
        "unknown time zone “%s”",
        g_utf8_validate (zone, -1, NULL) ? zone : "?");
  return tz;
}

static gboolean
take_digits (const char **p, int n, int *out)
{
  int v = 0;

  for (int i = 0; i < n; i++) {
    if (!g_ascii_isdigit ((*p)[i]))
      return FALSE;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return TRUE;
}

/* YYYY-MM-DD at *p (moved past it); the day is checked by the caller. */
static gboolean
take_date (const char **p, int *y, int *mo, int *d)
{
  return take_digits (p, 4, y) && *(*p)++ == '-' && take_digits (p, 2, mo)
      && *(*p)++ == '-' && take_digits (p, 2, d);
}

static gboolean
date_ok (int y, int mo, int d)
{
  return y >= 1970 && y <= 2200 && g_date_valid_dmy (d, mo, y);
}

gboolean
med_date_parse (const char *s, gint *y, gint *m, gint *d)
{
  const char *p = s;
  int yy, mm, dd;

  if (s == NULL || strlen (s) != 10 || !take_date (&p, &yy, &mm, &dd)
      || !date_ok (yy, mm, dd))
    return FALSE;
  *y = yy;
  *m = mm;
  *d = dd;
  return TRUE;
}

gboolean
med_time_parse_local (const char *s, const char *zone, MedTime *out,
    GError **error)
{
  g_autoptr (GTimeZone) tz = NULL;
  g_autoptr (GDateTime) dt = NULL;
  const char *p = s;
  int y, mo, d, h = 0, mi = 0;

  if (s == NULL || strlen (s) > 32 || !take_date (&p, &y, &mo, &d))
    goto bad;
  if (*p == 'T' || *p == ' ') {
    p++;
    if (!take_digits (&p, 2, &h) || *p++ != ':' || !take_digits (&p, 2, &mi))
      goto bad;
    if (*p == ':') {
      int sec;

      p++;
      if (!take_digits (&p, 2, &sec) || sec != 0)
        goto bad;
    }
  }
  if (*p != '\0')
    goto bad;
  if (!date_ok (y, mo, d) || h > 23 || mi > 59)
    goto bad;
  tz = lookup_zone (zone, error);
  if (tz == NULL)
    return FALSE;
  dt = g_date_time_new (tz, y, mo, d, h, mi, 0);
  if (dt == NULL)
    goto bad;
  *out = g_date_time_to_unix (dt);
  return TRUE;

bad:
  g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
      "invalid time “%s” (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, "
      "centre-local)",
      s && g_utf8_validate (s, -1, NULL) && strlen (s) < 40 ? s : "?");
  return FALSE;
}

char *
med_time_format_local (MedTime t, const char *zone, const char *format)
{
  g_autoptr (GTimeZone) tz = lookup_zone (zone, NULL);
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (t);
  g_autoptr (GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("?");
  if (tz == NULL)
    return g_date_time_format (utc, format);
  local = g_date_time_to_timezone (utc, tz);
  return g_date_time_format (local, format ? format : "%Y-%m-%dT%H:%M");
}
