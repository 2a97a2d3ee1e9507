/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-ical.c — what invites, feeds and free/busy show: gathering
 * a booking's people with their e-mail addresses, languages, join links
 * and answers so far; queueing the iMIP messages of a change inside its
 * transaction; choosing a feed's sessions and audience. The ical module
 * writes every calendar, the store keeps the outbox; the CLI and the HTTP
 * server only present the text. Addresses and names never go to logs. */
#define G_LOG_DOMAIN "medsched-service"

#include "med-service-private.h"

#include <medsched/med-i18n.h>

#include <med-store-write.h>

#include <string.h>

/* A feed shows sessions from this many days back (whole local days). */
#define FEED_DAYS_BACK       90
#define FEED_REFRESH_MINUTES 15

static gboolean
parse_id (const char *s, gint64 *out)
{
  char *end = NULL;
  gint64 v;

  if (s == NULL || !g_ascii_isdigit (*s))
    return FALSE;
  v = g_ascii_strtoll (s, &end, 10);
  if (*end != '\0' || v <= 0 || v == G_MAXINT64)
    return FALSE;
  *out = v;
  return TRUE;
}

/* The part of an e-mail address after '@' ("medsched.invalid" if none). */
static const char *
mail_domain (const char *addr)
{
  const char *at = addr != NULL ? strrchr (addr, '@') : NULL;

  return at != NULL && at[1] != '\0' ? at + 1 : "medsched.invalid";
}

static MedRoom *
find_room (GPtrArray *rooms, gint64 id)
{
  for (guint i = 0; rooms != NULL && i < rooms->len; i++) {
    MedRoom *r = rooms->pdata[i];

    if (r->id == id)
      return r;
  }
  return NULL;
}

static MedMediator *
find_mediator (GPtrArray *list, gint64 id)
{
  for (guint i = 0; list != NULL && i < list->len; i++) {
    MedMediator *m = list->pdata[i];

    if (m->id == id)
      return m;
  }
  return NULL;
}

static MedInterpreter *
find_interpreter (GPtrArray *list, gint64 id)
{
  for (guint i = 0; id != 0 && list != NULL && i < list->len; i++) {
    MedInterpreter *in = list->pdata[i];

    if (in->id == id)
      return in;
  }
  return NULL;
}

static MedCase *
find_case_in (GPtrArray *list, gint64 id)
{
  for (guint i = 0; list != NULL && i < list->len; i++) {
    MedCase *c = list->pdata[i];

    if (c->id == id)
      return c;
  }
  return NULL;
}

/* When the centre was created: its first audit row (0 if none). The
 * stable last-change time of a feed without sessions. */
static MedTime
centre_created_at (MedStore *store, gint64 centre_id)
{
  g_autoptr (GPtrArray) audit
      = med_store_list_audit (store, "centre", centre_id, NULL);

  return audit != NULL && audit->len > 0
      ? ((MedAuditEntry *) audit->pdata[0])->at
      : 0;
}

/* ---- who is invited --------------------------------------------------- */

/* The second language of staff: Tibetan when they read it, English for
 * another language besides Chinese, none for Chinese only. */
static const char *
staff_language (char **langs)
{
  const char *second = NULL;

  for (guint i = 0; langs != NULL && langs[i] != NULL; i++) {
    if (strcmp (langs[i], "bo") == 0)
      return "bo";
    if (strcmp (langs[i], "zh") != 0)
      second = "en";
  }
  return second;
}

/* An interpreter's languages from pairs "zh:bo". (transfer full) */
static char **
pair_languages (char **pairs)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; pairs != NULL && pairs[i] != NULL; i++) {
    g_auto (GStrv) ab = g_strsplit (pairs[i], ":", 2);

    for (guint k = 0; ab[k] != NULL; k++)
      g_strv_builder_add (b, ab[k]);
  }
  return g_strv_builder_end (b);
}

/* A party's second language: none for Chinese, Tibetan for Tibetan,
 * English for anything else. */
static const char *
party_language (const char *lang)
{
  if (lang == NULL || *lang == '\0' || strcmp (lang, "zh") == 0)
    return NULL;
  return strcmp (lang, "bo") == 0 ? "bo" : "en";
}

/* Everything one booking's invites are made of. The attendees point into
 * the lists and into strings. */
typedef struct
{
  MedCentre *centre;
  MedBooking *booking;
  MedBookingExtra *extra;
  MedCase *kase;
  GPtrArray *rooms;
  MedRoom *room; /* (transfer none), in rooms */
  MedMediator *mediator;
  GPtrArray *interpreters;
  GPtrArray *parties;
  GPtrArray *status; /* MedAttendeeStatus of the current SEQUENCE */
  GPtrArray *strings; /* e-mail addresses and links the attendees use */
  GArray *attendees; /* MedInviteAttendee */
} InviteCtx;

static void
invite_ctx_clear (InviteCtx *c)
{
  g_clear_pointer (&c->centre, med_centre_free);
  g_clear_pointer (&c->booking, med_booking_free);
  g_clear_pointer (&c->extra, med_booking_extra_free);
  g_clear_pointer (&c->kase, med_case_free);
  g_clear_pointer (&c->rooms, g_ptr_array_unref);
  g_clear_pointer (&c->mediator, med_mediator_free);
  g_clear_pointer (&c->interpreters, g_ptr_array_unref);
  g_clear_pointer (&c->parties, g_ptr_array_unref);
  g_clear_pointer (&c->status, g_ptr_array_unref);
  g_clear_pointer (&c->strings, g_ptr_array_unref);
  g_clear_pointer (&c->attendees, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (InviteCtx, invite_ctx_clear)

/* Keeps s alive as long as the context. (transfer none) */
static const char *
keep (InviteCtx *c, char *s)
{
  g_ptr_array_add (c->strings, s);
  return s;
}

static MedPartstat
answer_of (InviteCtx *c, const char *email)
{
  MedPartstat p = MED_PARTSTAT_NEEDS_ACTION;

  for (guint i = 0; email != NULL && i < c->status->len; i++) {
    MedAttendeeStatus *s = c->status->pdata[i];

    if (g_ascii_strcasecmp (s->email, email) == 0
        && !med_partstat_from_string (s->partstat, &p, NULL))
      p = MED_PARTSTAT_NEEDS_ACTION;
  }
  return p;
}

/* The parties themselves are required; agents and others optional. */
static gboolean
party_required (const MedParty *p)
{
  return p->role == MED_PARTY_ROLE_APPLICANT
      || p->role == MED_PARTY_ROLE_RESPONDENT;
}

static void
add_attendee (InviteCtx *c, MedAttendeeKind kind, gint64 id, const char *name,
    const char *email, const char *language, gboolean required,
    const char *join_url)
{
  MedInviteAttendee a = { 0 };

  a.kind = kind;
  a.ref_id = id;
  a.name = name;
  a.email = email != NULL && *email != '\0' ? email : NULL;
  a.language = language;
  a.partstat = answer_of (c, a.email);
  a.required = required;
  a.join_url = join_url;
  g_array_append_val (c->attendees, a);
}

gboolean
service_party_remote (const MedBooking *b, const MedParty *p)
{
  return b->status == MED_BOOKING_STATUS_CONFIRMED
      && (b->mode == MED_BOOKING_MODE_REMOTE
          || (b->mode == MED_BOOKING_MODE_HYBRID
              && p->attendance == MED_ATTENDANCE_REMOTE));
}

/* Loads a booking of centre_id with its case, room, people, their e-mail
 * addresses, join links and answers; the attendees are the mediator, the
 * interpreter (if any), then the parties by id. */
static gboolean
load_invite (MedStore *store, gint64 centre_id, gint64 booking_id, InviteCtx *c,
    GError **error)
{
  MedInterpreter *in;

  c->strings = g_ptr_array_new_with_free_func (g_free);
  c->attendees = g_array_new (FALSE, TRUE, sizeof (MedInviteAttendee));
  if ((c->booking = med_store_get_booking (store, booking_id, error)) == NULL
      || (c->centre = med_store_get_centre (store, centre_id, error)) == NULL
      || (c->rooms = med_store_list_rooms (store, centre_id, error)) == NULL)
    return FALSE;
  c->room = find_room (c->rooms, c->booking->room_id);
  if (c->room == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "booking %" G_GINT64_FORMAT " is not in centre %" G_GINT64_FORMAT,
        booking_id, centre_id);
    return FALSE;
  }
  if ((c->extra = med_store_get_booking_extra (store, booking_id, error))
          == NULL
      || (c->kase = med_store_get_case (store, c->booking->case_id, error))
          == NULL
      || (c->mediator
             = med_store_get_mediator (store, c->booking->mediator_id, error))
          == NULL
      || (c->interpreters
             = med_store_list_interpreters (store, centre_id, error))
          == NULL
      || (c->parties = med_store_list_parties (store, c->kase->id, error))
          == NULL
      || (c->status = med_store_list_attendee_status (store, booking_id, error))
          == NULL)
    return FALSE;

  {
    char *email = med_store_get_email (store, MED_STORE_PERSON_MEDIATOR,
        c->mediator->id, error);

    if (email == NULL)
      return FALSE;
    add_attendee (c, MED_ATTENDEE_MEDIATOR, c->mediator->id, c->mediator->name,
        keep (c, email), staff_language (c->mediator->languages), TRUE, NULL);
  }
  in = find_interpreter (c->interpreters, c->booking->interpreter_id);
  if (in != NULL) {
    g_auto (GStrv) langs = pair_languages (in->pairs);
    char *email = med_store_get_email (store, MED_STORE_PERSON_INTERPRETER,
        in->id, error);

    if (email == NULL)
      return FALSE;
    add_attendee (c, MED_ATTENDEE_INTERPRETER, in->id, in->name,
        keep (c, email), staff_language (langs), TRUE, NULL);
  }
  for (guint i = 0; i < c->parties->len; i++) {
    MedParty *p = c->parties->pdata[i];
    const char *url = NULL;

    if (service_party_remote (c->booking, p)) {
      char *u = med_store_join_url (store, booking_id, p->id, error);

      if (u == NULL)
        return FALSE;
      url = keep (c, u);
    }
    add_attendee (c, MED_ATTENDEE_PARTY, p->id, p->name,
        med_store_is_email (p->contact) ? p->contact : NULL,
        party_language (p->language), party_required (p), url);
  }
  return TRUE;
}

static void
fill_invite (InviteCtx *c, MedInvite *inv)
{
  memset (inv, 0, sizeof *inv);
  inv->centre = c->centre;
  inv->booking = c->booking;
  inv->kase = c->kase;
  inv->room = c->room;
  inv->note = c->extra->note[0] != '\0' ? c->extra->note : NULL;
  inv->attendees = c->attendees;
  /* this version of the booking was made when it was last changed */
  inv->dtstamp = c->booking->updated_at;
  inv->created = c->extra->created_at;
}

/* ---- iMIP messages ---------------------------------------------------- */

/* The unescaped text of the first property name of the VEVENT (outside
 * its alarms) in iCalendar text: folded lines joined, "\n", "\,", "\;"
 * and "\\" undone. NULL when missing. (transfer full) */
static char *
event_text (const char *ics, const char *name)
{
  const char *p = strstr (ics, "BEGIN:VEVENT\r\n");
  gsize name_len = strlen (name);
  GString *raw;
  GString *out;
  const char *v;

  if (p == NULL)
    return NULL;
  for (;;) {
    p = strstr (p, "\r\n");
    if (p == NULL)
      return NULL;
    p += 2;
    if (g_str_has_prefix (p, "BEGIN:VALARM") || g_str_has_prefix (p, "END:"))
      return NULL;
    if (strncmp (p, name, name_len) == 0
        && (p[name_len] == ':' || p[name_len] == ';'))
      break;
  }
  raw = g_string_new (NULL);
  for (;;) {
    const char *eol = strstr (p, "\r\n");

    if (eol == NULL) {
      g_string_append (raw, p);
      break;
    }
    g_string_append_len (raw, p, eol - p);
    if (eol[2] != ' ' && eol[2] != '\t')
      break;
    p = eol + 3;
  }
  /* the value starts after the first ':' outside a quoted parameter */
  v = raw->str;
  for (gboolean quoted = FALSE; *v != '\0'; v++) {
    if (*v == '"')
      quoted = !quoted;
    else if (*v == ':' && !quoted)
      break;
  }
  out = g_string_new (NULL);
  for (v = *v ? v + 1 : v; *v != '\0'; v++) {
    if (*v == '\\' && v[1] != '\0') {
      v++;
      g_string_append_c (out, *v == 'n' || *v == 'N' ? '\n' : *v);
    } else {
      g_string_append_c (out, *v);
    }
  }
  g_string_free (raw, TRUE);
  return g_string_free (out, FALSE);
}

/* The iMIP message of one attendee's copy. The subject is the event's
 * SUMMARY with the local start; the text part is its DESCRIPTION, so both
 * parts say the same in the same two languages. (transfer full) */
static char *
new_imip (InviteCtx *c, const MedInvite *inv, const MedInviteAttendee *a,
    const char *ics, char **subject_out, GError **error)
{
  g_autofree char *summary = event_text (ics, "SUMMARY");
  g_autofree char *description = event_text (ics, "DESCRIPTION");
  g_autofree char *when = med_time_format_local (inv->booking->start,
      c->centre->zone, "%Y-%m-%d %H:%M");
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *message_id = NULL;
  g_autofree char *subject = NULL;
  char *msg;

  subject = g_strdup_printf ("%s (%s)",
      summary != NULL ? summary : c->kase->number, when);
  message_id
      = g_strdup_printf ("<%s@%s>", uuid, mail_domain (c->centre->mailbox));
  msg = med_ical_imip_message (c->centre->name, c->centre->mailbox, a->name,
      a->email, subject, description != NULL ? description : subject, ics,
      message_id, inv->dtstamp, error);
  if (msg != NULL && subject_out != NULL)
    *subject_out = g_steal_pointer (&subject);
  return msg;
}

/* Builds recipient's copy of inv and queues it: the outbox id, or 0. */
static gint64
queue_copy (MedStore *store, InviteCtx *c, const MedInvite *inv, gint recipient,
    const char *actor, GError **error)
{
  const MedInviteAttendee *a
      = &g_array_index (inv->attendees, MedInviteAttendee, recipient);
  g_autofree char *ics = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *subject = NULL;
  MedOutboxMessage out = { 0 };

  ics = med_ical_invite_to_string (inv, recipient, error);
  if (ics == NULL)
    return 0;
  msg = new_imip (c, inv, a, ics, &subject, error);
  if (msg == NULL)
    return 0;
  out.booking_id = inv->booking->id;
  out.recipient_name = (char *) a->name;
  out.recipient_addr = (char *) a->email;
  out.method = (char *) (inv->booking->status == MED_BOOKING_STATUS_CANCELLED
          ? "CANCEL"
          : "REQUEST");
  out.sequence = inv->booking->sequence;
  out.subject = subject;
  out.message = msg;
  return med_store_outbox_add (store, &out, actor, error);
}

/* Queues a CANCEL of the session as a (alone on it) knew it: before, at
 * the booking's current SEQUENCE. The outbox id, or 0. */
static gint64
queue_cancel_to (MedStore *store, InviteCtx *c, const MedBooking *before,
    const MedInviteAttendee *a, const char *actor, GError **error)
{
  g_autoptr (MedBooking) gone = med_booking_copy (before);
  g_autoptr (GArray) one
      = g_array_new (FALSE, TRUE, sizeof (MedInviteAttendee));
  MedInvite inv;
  MedRoom *room;

  g_array_append_val (one, *a);
  gone->status = MED_BOOKING_STATUS_CANCELLED;
  gone->sequence = c->booking->sequence;
  gone->updated_at = c->booking->updated_at;
  room = find_room (c->rooms, before->room_id);
  fill_invite (c, &inv);
  inv.booking = gone;
  inv.room = room != NULL ? room : c->room;
  inv.attendees = one;
  return queue_copy (store, c, &inv, 0, actor, error);
}

/* A mediator or interpreter that a reschedule took off the session gets a
 * CANCEL of the session as they knew it, at the new SEQUENCE. */
static gboolean
queue_removed (MedStore *store, InviteCtx *c, const MedBooking *before,
    MedAttendeeKind kind, gint64 id, const char *actor, guint *n,
    GError **error)
{
  g_autofree char *email = NULL;
  g_autoptr (MedMediator) m = NULL;
  MedInviteAttendee a = { 0 };

  email = med_store_get_email (store,
      kind == MED_ATTENDEE_MEDIATOR ? MED_STORE_PERSON_MEDIATOR
                                    : MED_STORE_PERSON_INTERPRETER,
      id, error);
  if (email == NULL)
    return FALSE;
  if (*email == '\0')
    return TRUE;
  a.kind = kind;
  a.ref_id = id;
  a.email = email;
  a.required = TRUE;
  if (kind == MED_ATTENDEE_MEDIATOR) {
    if ((m = med_store_get_mediator (store, id, error)) == NULL)
      return FALSE;
    a.name = m->name;
    a.language = staff_language (m->languages);
  } else {
    MedInterpreter *in = find_interpreter (c->interpreters, id);

    a.name = in != NULL ? in->name : "";
  }
  if (queue_cancel_to (store, c, before, &a, actor, error) == 0)
    return FALSE;
  (*n)++;
  return TRUE;
}

gboolean
med_service_queue_invites (MedStore *store, gint64 centre_id, gint64 booking_id,
    const MedBooking *before, const char *actor, guint *n_queued,
    GError **error)
{
  g_auto (InviteCtx) c = { 0 };
  MedInvite inv;
  guint n = 0;

  if (!load_invite (store, centre_id, booking_id, &c, error))
    return FALSE;
  med_ical_init (c.centre->zone);
  fill_invite (&c, &inv);
  for (guint i = 0; i < c.attendees->len; i++) {
    if (g_array_index (c.attendees, MedInviteAttendee, i).email == NULL)
      continue;
    if (queue_copy (store, &c, &inv, (gint) i, actor, error) == 0)
      return FALSE;
    n++;
  }
  if (before != NULL && c.booking->status == MED_BOOKING_STATUS_CONFIRMED) {
    if (before->mediator_id != c.booking->mediator_id
        && !queue_removed (store, &c, before, MED_ATTENDEE_MEDIATOR,
            before->mediator_id, actor, &n, error))
      return FALSE;
    if (before->interpreter_id != 0
        && before->interpreter_id != c.booking->interpreter_id
        && !queue_removed (store, &c, before, MED_ATTENDEE_INTERPRETER,
            before->interpreter_id, actor, &n, error))
      return FALSE;
  }
  if (n_queued != NULL)
    *n_queued = n;
  return TRUE;
}

gint64
service_queue_party_invite (MedStore *store, gint64 centre_id,
    gint64 booking_id, gint64 party_id, const char *actor, GError **error)
{
  g_auto (InviteCtx) c = { 0 };
  MedInvite inv;

  if (!load_invite (store, centre_id, booking_id, &c, error))
    return 0;
  for (guint i = 0; i < c.attendees->len; i++) {
    const MedInviteAttendee *a
        = &g_array_index (c.attendees, MedInviteAttendee, i);

    if (a->kind != MED_ATTENDEE_PARTY || a->ref_id != party_id)
      continue;
    if (a->email == NULL)
      break;
    med_ical_init (c.centre->zone);
    fill_invite (&c, &inv);
    return queue_copy (store, &c, &inv, (gint) i, actor, error);
  }
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
      "party %" G_GINT64_FORMAT " of booking %" G_GINT64_FORMAT
      " has no e-mail address",
      party_id, booking_id);
  return 0;
}

gint64
service_queue_party_cancel (MedStore *store, gint64 centre_id,
    gint64 booking_id, const MedParty *p, const char *actor, GError **error)
{
  g_auto (InviteCtx) c = { 0 };
  MedInviteAttendee a = { 0 };

  if (!med_store_is_email (p->contact)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "party %" G_GINT64_FORMAT " has no e-mail address", p->id);
    return 0;
  }
  if (!load_invite (store, centre_id, booking_id, &c, error))
    return 0;
  a.kind = MED_ATTENDEE_PARTY;
  a.ref_id = p->id;
  a.name = p->name;
  a.email = p->contact;
  a.language = party_language (p->language);
  a.required = party_required (p);
  med_ical_init (c.centre->zone);
  return queue_cancel_to (store, &c, c.booking, &a, actor, error);
}

/* ---- invite ----------------------------------------------------------- */

/* The attendee named by who: "mediator:ID", "interpreter:ID", "party:ID"
 * or an e-mail address. -1 with an error when none matches. */
static gint
find_recipient (InviteCtx *c, const char *who, GError **error)
{
  static const struct
  {
    const char *prefix;
    MedAttendeeKind kind;
  } kinds[] = {
    { "mediator:", MED_ATTENDEE_MEDIATOR },
    { "interpreter:", MED_ATTENDEE_INTERPRETER },
    { "party:", MED_ATTENDEE_PARTY },
  };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
    gint64 id;

    if (!g_str_has_prefix (who, kinds[k].prefix))
      continue;
    if (!parse_id (who + strlen (kinds[k].prefix), &id)) {
      g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
          "--for takes mediator:ID, interpreter:ID, party:ID or an e-mail "
          "address");
      return -1;
    }
    for (guint i = 0; i < c->attendees->len; i++) {
      const MedInviteAttendee *a
          = &g_array_index (c->attendees, MedInviteAttendee, i);

      if (a->kind == kinds[k].kind && a->ref_id == id)
        return (gint) i;
    }
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "booking %" G_GINT64_FORMAT " has no attendee %s", c->booking->id, who);
    return -1;
  }
  if (!med_store_is_email (who)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "--for takes mediator:ID, interpreter:ID, party:ID or an e-mail "
        "address");
    return -1;
  }
  for (guint i = 0; i < c->attendees->len; i++) {
    const MedInviteAttendee *a
        = &g_array_index (c->attendees, MedInviteAttendee, i);

    if (a->email != NULL && g_ascii_strcasecmp (a->email, who) == 0)
      return (gint) i;
  }
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
      "booking %" G_GINT64_FORMAT " has no attendee with that address",
      c->booking->id);
  return -1;
}
char *
med_service_invite (MedStore *store, gint64 centre_id, gint64 booking_id,
    const char *who, gboolean imip, GError **error)
{
  g_auto (InviteCtx) c = { 0 };
  g_autofree char *ics = NULL;
  MedInvite inv;
  gint recipient = -1;
  const MedInviteAttendee *a;

  g_return_val_if_fail (store != NULL, NULL);
  if (imip && who == NULL) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "an e-mail copy is for one attendee");
    return NULL;
  }
  if (!load_invite (store, centre_id, booking_id, &c, error))
    return NULL;
  if (who != NULL && (recipient = find_recipient (&c, who, error)) < 0)
    return NULL;
  med_ical_init (c.centre->zone);
  fill_invite (&c, &inv);
  ics = med_ical_invite_to_string (&inv, recipient, error);
  if (ics == NULL || !imip)
    return g_steal_pointer (&ics);
  a = &g_array_index (c.attendees, MedInviteAttendee, recipient);
  if (a->email == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "%s has no e-mail address", who);
    return NULL;
  }
  return new_imip (&c, &inv, a, ics, NULL, error);
}

/* ---- feeds and free/busy ---------------------------------------------- */

/* Local midnight days_back days before now. */
static gboolean
days_back (const char *zone, MedTime now, gint days, MedTime *out,
    GError **error)
{
  gint y, m, d;

  return med_workcal_local_date (zone, now - (MedTime) days * 86400, &y, &m, &d,
             error)
      && med_workcal_local_to_utc (zone, y, m, d, 0, out, error);
}

/* Whether a booking belongs to the feed of kind/id. */
static gboolean
in_feed (const MedBooking *b, MedFeedKind kind, gint64 id)
{
  switch (kind) {
    case MED_FEED_KIND_ROOM:
      return b->room_id == id;
    case MED_FEED_KIND_MEDIATOR:
      return b->mediator_id == id;
    case MED_FEED_KIND_CASE:
      return b->case_id == id;
    case MED_FEED_KIND_CENTRE:
    default:
      return TRUE;
  }
}
char *
med_service_feed (MedStore *store, const MedServiceCtx *ctx, MedFeedKind kind,
    gint64 id, MedFeedAudience audience, gint64 party_id, MedTime since,
    GError **error)
{
  g_autoptr (MedCentre) centre = NULL;
  g_autoptr (GPtrArray) rooms = NULL, meds = NULL, interps = NULL;
  g_autoptr (GPtrArray) cases = NULL, bookings = NULL, parties = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autofree MedFeedEvent *slots = NULL;
  g_autofree char *name = NULL;
  gint64 centre_id = ctx->centre_id;
  MedFeed feed = { 0 };
  MedTime last = 0;
  MedLang lang; /* of the feed: the reader's */
  guint n = 0;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  if ((audience == MED_FEED_PARTY) != (party_id != 0)
      || (audience == MED_FEED_PARTY && kind != MED_FEED_KIND_CASE)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "a party feed is the case feed of one of its parties");
    return NULL;
  }
  /* the centre feed of the centre served, and no other */
  if (kind == MED_FEED_KIND_CENTRE && id != centre_id) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no centre %" G_GINT64_FORMAT " here (this is centre %" G_GINT64_FORMAT
        ")",
        id, centre_id);
    return NULL;
  }
  /* staff and room boards: whoever made the link; a party: below */
  lang = med_lang_from_code_or (ctx->lang, MED_LANG_ZH);
  if ((centre = med_store_get_centre (store, centre_id, error)) == NULL)
    return NULL;
  if (since == 0
      && !days_back (centre->zone, ctx->now, FEED_DAYS_BACK, &since, error))
    return NULL;
  if ((rooms = med_store_list_rooms (store, centre_id, error)) == NULL
      || (meds = med_store_list_mediators (store, centre_id, error)) == NULL
      || (interps = med_store_list_interpreters (store, centre_id, error))
          == NULL
      || (cases = med_store_list_cases (store, centre_id, -1, error)) == NULL
      || (bookings = med_store_list_bookings (store, centre_id, since, 0, TRUE,
              error))
          == NULL)
    return NULL;

  switch (kind) {
    case MED_FEED_KIND_ROOM: {
      MedRoom *r = find_room (rooms, id);

      if (r == NULL) {
        g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
            "no room %" G_GINT64_FORMAT, id);
        return NULL;
      }
      name = g_strdup_printf ("%s — %s", r->name, centre->name);
      break;
    }
    case MED_FEED_KIND_MEDIATOR: {
      MedMediator *m = find_mediator (meds, id);

      if (m == NULL) {
        g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
            "no mediator %" G_GINT64_FORMAT, id);
        return NULL;
      }
      name = med_i18n_printf (lang, N_ ("Mediator %s — %s"), m->name,
          centre->name);
      break;
    }
    case MED_FEED_KIND_CASE: {
      MedCase *k = find_case_in (cases, id);

      if (k == NULL) {
        g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
            "no case %" G_GINT64_FORMAT " in centre %" G_GINT64_FORMAT, id,
            centre_id);
        return NULL;
      }
      if (party_id != 0) {
        gboolean found = FALSE;

        if ((parties = med_store_list_parties (store, id, error)) == NULL)
          return NULL;
        for (guint i = 0; i < parties->len; i++) {
          MedParty *p = parties->pdata[i];

          /* a party's own feed is named in their language */
          if (p->id == party_id)
            lang = med_lang_from_code_or (p->language, MED_LANG_ZH);
          found |= p->id == party_id;
        }
        if (!found) {
          g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
              "party %" G_GINT64_FORMAT " is not a party of case %s", party_id,
              k->number);
          return NULL;
        }
      }
      name = med_i18n_printf (lang, N_ ("Case %s — %s"), k->number,
          centre->name);
      break;
    }
    case MED_FEED_KIND_CENTRE:
    default:
      name = g_strdup (centre->name);
      break;
  }

  /* Cancelled sessions leave the feed but still count as a change. */
  slots = g_new0 (MedFeedEvent, MAX (bookings->len, 1));
  events = g_ptr_array_new ();
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *b = bookings->pdata[i];
    MedFeedEvent *ev = &slots[n];
    MedMediator *m;
    MedInterpreter *in;

    if (!in_feed (b, kind, id))
      continue;
    last = MAX (last, b->updated_at);
    if (b->status != MED_BOOKING_STATUS_CONFIRMED)
      continue;
    ev->booking = b;
    ev->kase = find_case_in (cases, b->case_id);
    ev->room = find_room (rooms, b->room_id);
    m = find_mediator (meds, b->mediator_id);
    ev->mediator_name = m != NULL ? m->name : "";
    in = find_interpreter (interps, b->interpreter_id);
    ev->interpreter_name = in != NULL ? in->name : NULL;
    if (ev->kase == NULL || ev->room == NULL)
      continue;
    g_ptr_array_add (events, ev);
    n++;
  }
  feed.centre = centre;
  feed.name = name;
  feed.language = med_lang_code (lang);
  feed.audience = audience;
  feed.events = events;
  feed.last_change = last != 0 ? last : centre_created_at (store, centre_id);
  feed.refresh_minutes = FEED_REFRESH_MINUTES;
  med_ical_init (centre->zone);
  return med_ical_feed_to_string (&feed, error);
}

static int
compare_intervals (gconstpointer a, gconstpointer b)
{
  const MedInterval *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

/* --from/--to of freebusy: a date (whole local days, --to inclusive) or a
 * local time. */
char *
med_service_freebusy (MedStore *store, const MedServiceCtx *ctx,
    gboolean is_room, gint64 id, MedTime a, MedTime b, GError **error)
{
  g_autoptr (MedCentre) centre = NULL;
  g_autoptr (GPtrArray) rooms = NULL, bookings = NULL;
  g_autoptr (MedMediator) m = NULL;
  g_autoptr (GArray) busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  g_autoptr (GArray) external = NULL;
  g_autofree char *uid = NULL;
  const char *who = NULL;
  MedRoom *room = NULL;
  MedTime last = 0;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  if (b <= a || b - a > 366 * 86400) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "free/busy covers at most a year, and must end after it starts");
    return NULL;
  }
  if ((centre = med_store_get_centre (store, ctx->centre_id, error)) == NULL
      || (rooms = med_store_list_rooms (store, ctx->centre_id, error)) == NULL
      || (bookings = med_store_list_bookings (store, ctx->centre_id,
              a - 2 * 86400, b + 2 * 86400, TRUE, error))
          == NULL)
    return NULL;
  if (is_room) {
    if ((room = find_room (rooms, id)) == NULL) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
          "no room %" G_GINT64_FORMAT, id);
      return NULL;
    }
    who = room->name;
  } else {
    if ((m = med_store_get_mediator (store, id, error)) == NULL)
      return NULL;
    if (m->centre_id != ctx->centre_id) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
          "mediator %" G_GINT64_FORMAT " is not in centre %" G_GINT64_FORMAT,
          id, ctx->centre_id);
      return NULL;
    }
    who = m->name;
    for (guint i = 0; m->leave != NULL && i < m->leave->len; i++) {
      const MedInterval *iv = &g_array_index (m->leave, MedInterval, i);

      if (iv->end > a && iv->start < b)
        g_array_append_vals (busy, iv, 1);
    }
    external = med_store_list_external_busy (store, MED_STORE_PERSON_MEDIATOR,
        id, a, b, error);
    if (external == NULL)
      return NULL;
    g_array_append_vals (busy, external->data, external->len);
  }
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = bookings->pdata[i];
    MedInterval iv = { bk->start, bk->end };

    if (is_room ? bk->room_id != id : bk->mediator_id != id)
      continue;
    last = MAX (last, bk->updated_at);
    if (bk->status != MED_BOOKING_STATUS_CONFIRMED)
      continue;
    if (is_room) {
      iv.start -= (MedTime) room->setup_minutes * 60;
      iv.end += (MedTime) room->cleanup_minutes * 60;
    }
    if (iv.end > a && iv.start < b)
      g_array_append_val (busy, iv);
  }
  g_array_sort (busy, compare_intervals);
  uid = g_strdup_printf ("medsched-%s-%" G_GINT64_FORMAT "@%s",
      is_room ? "room" : "mediator", id, mail_domain (centre->mailbox));
  med_ical_init (centre->zone);
  return med_ical_freebusy_to_string (centre, who, uid, a, b, busy,
      last != 0 ? last : centre_created_at (store, ctx->centre_id), error);
}

gboolean
med_service_set_note (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, const char *note, gboolean notify, guint *n_queued,
    GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  if (!med_store_in_centre (store, MED_STORE_OF_BOOKING, booking_id,
          ctx->centre_id, error)
      || !med_store_begin (store, error))
    return FALSE;
  if (med_store_set_booking_note (store, booking_id, note, ctx->actor, error)
      && (!notify
          || med_service_queue_invites (store, ctx->centre_id, booking_id, NULL,
              ctx->actor, n_queued, error))
      && med_store_commit (store, error))
    return TRUE;
  med_store_rollback (store);
  return FALSE;
}

gboolean
med_service_apply_reply (MedStore *store, const MedServiceCtx *ctx,
    const char *uid, const char *email, const char *partstat, gint sequence,
    MedTime dtstamp, gint64 *booking_id, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return med_store_apply_reply (store, uid, email, partstat, sequence, dtstamp,
      ctx->actor, booking_id, error);
}
