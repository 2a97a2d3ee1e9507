/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-sms.c — parties told by SMS: the texts of a booking, a
 * move, a cancellation, the day-before reminder and a link sent by hand,
 * in each party's language, queued in the outbox's sms channel inside the
 * change's transaction; sending or re-issuing a party's link; and the SMS
 * transport, which hands messages to gammu-smsd through its spool.
 *
 * Why the spool ("files" service) and not gammu-smsd's SQL service: the
 * hand-over is a rename into a directory both programs share, its outcome
 * is where gammu-smsd moves the file (sent/ or error/), and nothing else
 * is needed — no database driver, no second schema versioned by another
 * program, one directory to allow in the service's sandbox. What it does
 * not give is delivery reports tied to a message (docs/sms.md).
 *
 * Numbers and texts are personal data: they are in the store, in the spool
 * for as long as gammu-smsd needs them (medsched removes the file once it
 * has read the outcome), and nowhere else. Failure reasons say what went
 * wrong with the spool or the gateway, never which number. */
#define G_LOG_DOMAIN "medsched-service"

#include "med-service-private.h"

#include <medsched/med-i18n.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* how often the transport looks whether gammu-smsd has moved a file */
#define POLL_MS 200

static const char *const purpose_words[] = {
  [MED_SMS_BOOKED] = "booked",
  [MED_SMS_MOVED] = "moved",
  [MED_SMS_CANCELLED] = "cancelled",
  [MED_SMS_REMINDER] = "reminder",
  [MED_SMS_LINK] = "link",
};

const char *
med_sms_purpose_to_string (MedSmsPurpose p)
{
  return (guint) p < G_N_ELEMENTS (purpose_words) ? purpose_words[p]
                                                  : "unknown";
}

/* ---- the texts --------------------------------------------------------- */

/* Everything the texts of one booking are made of. */
typedef struct
{
  MedCentre *centre;
  char *phone; /* the centre's, "" when none */
  MedBooking *booking;
  MedCase *kase;
  GPtrArray *rooms;
  MedRoom *room; /* (transfer none), in rooms */
  GPtrArray *parties;
} SmsCtx;

static void
sms_ctx_clear (SmsCtx *c)
{
  g_clear_pointer (&c->centre, med_centre_free);
  g_clear_pointer (&c->phone, g_free);
  g_clear_pointer (&c->booking, med_booking_free);
  g_clear_pointer (&c->kase, med_case_free);
  g_clear_pointer (&c->rooms, g_ptr_array_unref);
  g_clear_pointer (&c->parties, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SmsCtx, sms_ctx_clear)

static gboolean
load_sms (MedStore *store, gint64 centre_id, gint64 booking_id, SmsCtx *c,
    GError **error)
{
  if ((c->booking = med_store_get_booking (store, booking_id, error)) == NULL
      || (c->centre = med_store_get_centre (store, centre_id, error)) == NULL
      || (c->phone = med_store_get_centre_phone (store, centre_id, error))
          == NULL
      || (c->rooms = med_store_list_rooms (store, centre_id, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < c->rooms->len; i++) {
    MedRoom *r = c->rooms->pdata[i];

    if (r->id == c->booking->room_id)
      c->room = r;
  }
  if (c->room == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "booking %" G_GINT64_FORMAT " is not in centre %" G_GINT64_FORMAT,
        booking_id, centre_id);
    return FALSE;
  }
  return (c->kase = med_store_get_case (store, c->booking->case_id, error))
      != NULL
      && (c->parties = med_store_list_parties (store, c->kase->id, error))
      != NULL;
}

static MedParty *
find_party (SmsCtx *c, gint64 party_id)
{
  for (guint i = 0; i < c->parties->len; i++) {
    MedParty *p = c->parties->pdata[i];

    if (p->id == party_id)
      return p;
  }
  return NULL;
}

/* The party's language; Chinese when medsched has no catalogue of it. */
static MedLang
party_lang (const MedParty *p)
{
  return med_lang_from_code_or (p->language, MED_LANG_ZH);
}

/* "2026-12-08 09:00–10:00" in the centre's zone, the date as the
 * language writes it. (transfer full) */
static char *
format_when (SmsCtx *c, MedLang lang)
{
  const MedBooking *b = c->booking;
  /* xgettext:no-c-format */
  g_autofree char *day = med_time_format_local (b->start, c->centre->zone,
      med_i18n_gettext (lang, N_ ("%Y-%m-%d")));
  g_autofree char *from
      = med_time_format_local (b->start, c->centre->zone, "%H:%M");
  g_autofree char *to
      = med_time_format_local (b->end, c->centre->zone, "%H:%M");

  return g_strdup_printf ("%s %s–%s", day, from, to);
}

/* The text of one party's SMS. (transfer full) */
static char *
build_text (MedStore *store, SmsCtx *c, const MedParty *p,
    MedSmsPurpose purpose, GError **error)
{
  MedLang lang = party_lang (p);
  gboolean remote = service_party_remote (c->booking, p);
  g_autofree char *when = format_when (c, lang);
  g_autofree char *url = NULL;
  g_autofree char *place = NULL;
  g_autofree char *text = NULL;
  const char *centre = c->centre->name;
  const char *number = c->kase->number;

  if (purpose != MED_SMS_CANCELLED && (remote || purpose == MED_SMS_LINK)
      && (url = med_store_join_url (store, c->booking->id, p->id, error))
          == NULL)
    return NULL;
  place = c->centre->address != NULL && *c->centre->address != '\0'
      ? g_strdup_printf ("%s, %s", c->room->name, c->centre->address)
      : g_strdup (c->room->name);

  switch (purpose) {
    case MED_SMS_BOOKED:
      text = remote
          ? med_i18n_printf (lang,
              N_ ("%1$s: your mediation session for case %2$s is on %3$s. "
                  "Join by video with your own link (do not share it): "
                  "%4$s"),
              centre, number, when, url)
          : med_i18n_printf (lang,
              N_ ("%1$s: your mediation session for case %2$s is on %3$s "
                  "at %4$s. Please arrive on time."),
              centre, number, when, place);
      break;
    case MED_SMS_MOVED:
      text = remote
          ? med_i18n_printf (lang,
              N_ ("%1$s: your mediation session for case %2$s has been "
                  "moved to %3$s. Join by video with your own link (do not "
                  "share it): %4$s"),
              centre, number, when, url)
          : med_i18n_printf (lang,
              N_ ("%1$s: your mediation session for case %2$s has been "
                  "moved to %3$s at %4$s."),
              centre, number, when, place);
      break;
    case MED_SMS_CANCELLED:
      text = med_i18n_printf (lang,
          N_ ("%1$s: your mediation session for case %2$s on %3$s has been "
              "cancelled."),
          centre, number, when);
      break;
    case MED_SMS_REMINDER:
      text = remote
          ? med_i18n_printf (lang,
              N_ ("%1$s: reminder: your mediation session for case %2$s is "
                  "tomorrow, %3$s. Join by video with your own link (do not "
                  "share it): %4$s"),
              centre, number, when, url)
          : med_i18n_printf (lang,
              N_ ("%1$s: reminder: your mediation session for case %2$s is "
                  "tomorrow, %3$s, at %4$s."),
              centre, number, when, place);
      break;
    case MED_SMS_LINK:
    default:
      text = med_i18n_printf (lang,
          N_ ("%1$s: your own link to your mediation session for case %2$s "
              "on %3$s (do not share it): %4$s"),
          centre, number, when, url);
      break;
  }
  if (*c->phone != '\0' && purpose != MED_SMS_LINK) {
    g_autofree char *ask
        = med_i18n_printf (lang, N_ ("Questions: %s"), c->phone);

    return g_strconcat (text, " ", ask, NULL);
  }
  return g_steal_pointer (&text);
}

/* Queues purpose's SMS to party p (who has a number). due 0 = now;
 * only_p: a cancellation for p alone (med_store_outbox_add's
 * recipient_only). The outbox id, 0 on error. */
static gint64
queue_one (MedStore *store, SmsCtx *c, const MedParty *p, const char *number,
    MedSmsPurpose purpose, MedTime due, gboolean only_p, const char *actor,
    GError **error)
{
  g_autofree char *text = build_text (store, c, p, purpose, error);
  g_autofree char *subject = NULL;
  MedOutboxMessage m = { 0 };

  if (text == NULL)
    return 0;
  subject = g_strdup_printf ("SMS %s: case %s", purpose_words[purpose],
      c->kase->number);
  m.booking_id = c->booking->id;
  m.recipient_name = p->name;
  m.recipient_addr = (char *) number;
  m.method = (char *) (purpose == MED_SMS_CANCELLED ? "CANCEL" : "REQUEST");
  m.sequence = c->booking->sequence;
  m.subject = subject;
  m.message = text;
  m.channel = (char *) MED_OUTBOX_SMS;
  m.purpose = (char *) purpose_words[purpose];
  m.due_at = due;
  m.recipient_only = only_p;
  return med_store_outbox_add (store, &m, actor, error);
}

/* The reminder of p, unless its time has passed: TRUE when queued or not
 * needed, *n counted. */
static gboolean
queue_reminder (MedStore *store, SmsCtx *c, const MedParty *p,
    const char *number, const char *actor, guint *n, GError **error)
{
  MedTime due = c->booking->start - (MedTime) MED_SMS_REMINDER_HOURS * 3600;

  if (c->booking->status != MED_BOOKING_STATUS_CONFIRMED
      || due <= med_store_now (store))
    return TRUE;
  if (queue_one (store, c, p, number, MED_SMS_REMINDER, due, FALSE, actor,
          error)
      == 0)
    return FALSE;
  (*n)++;
  return TRUE;
}

gboolean
med_service_queue_sms (MedStore *store, gint64 centre_id, gint64 booking_id,
    MedSmsPurpose purpose, const char *actor, guint *n_queued, GError **error)
{
  g_auto (SmsCtx) c = { 0 };
  guint n = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  if (purpose != MED_SMS_BOOKED && purpose != MED_SMS_MOVED
      && purpose != MED_SMS_CANCELLED) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "a change is booked, moved or cancelled");
    return FALSE;
  }
  if (!load_sms (store, centre_id, booking_id, &c, error))
    return FALSE;
  /* every change first, then the reminders: a move's text supersedes the
   * booking's pending reminders, not the new ones (med_store_outbox_add) */
  for (guint pass = 0; pass < 2; pass++) {
    if (pass == 1 && purpose == MED_SMS_CANCELLED)
      break;
    for (guint i = 0; i < c.parties->len; i++) {
      MedParty *p = c.parties->pdata[i];
      g_autofree char *number = med_store_sms_number (p->contact);

      if (number == NULL)
        continue;
      if (pass == 1) {
        if (!queue_reminder (store, &c, p, number, actor, &n, error))
          return FALSE;
        continue;
      }
      if (queue_one (store, &c, p, number, purpose, 0, FALSE, actor, error)
          == 0)
        return FALSE;
      n++;
    }
  }
  if (n_queued != NULL)
    *n_queued = n;
  return TRUE;
}

char *
med_service_sms_text (MedStore *store, gint64 centre_id, gint64 booking_id,
    gint64 party_id, MedSmsPurpose purpose, GError **error)
{
  g_auto (SmsCtx) c = { 0 };
  MedParty *p;

  g_return_val_if_fail (store != NULL, NULL);
  if ((guint) purpose >= G_N_ELEMENTS (purpose_words)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "unknown kind of SMS");
    return NULL;
  }
  if (!load_sms (store, centre_id, booking_id, &c, error))
    return NULL;
  if ((p = find_party (&c, party_id)) == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "booking %" G_GINT64_FORMAT " has no party %" G_GINT64_FORMAT,
        booking_id, party_id);
    return NULL;
  }
  return build_text (store, &c, p, purpose, error);
}

/* ---- links sent by hand, revoked, issued again -------------------------- */

/* The party's pending texts of the booking that carry url (its link as
 * it was before a revocation or a re-issue) go no more: a link that no
 * longer works is never sent. */
static gboolean
supersede_link (MedStore *store, const MedServiceCtx *ctx, gint64 booking_id,
    const char *url, GError **error)
{
  return med_store_outbox_supersede_holding (store, booking_id, MED_OUTBOX_SMS,
      url, ctx->actor, NULL, error);
}

/* Sends the party's current link (and, after a re-issue, their reminder
 * again), inside the caller's transaction, with its audit row. */
static gboolean
send_link (MedStore *store, const MedServiceCtx *ctx, gint64 booking_id,
    gint64 party_id, gboolean reissued, const char **channel, GError **error)
{
  g_auto (SmsCtx) c = { 0 };
  g_autofree char *number = NULL;
  const char *via;
  MedParty *p;
  gint64 id;
  guint n = 0;

  if (!load_sms (store, ctx->centre_id, booking_id, &c, error))
    return FALSE;
  if (c.booking->status != MED_BOOKING_STATUS_CONFIRMED) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "booking %" G_GINT64_FORMAT " is cancelled", booking_id);
    return FALSE;
  }
  if ((p = find_party (&c, party_id)) == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "booking %" G_GINT64_FORMAT " has no party %" G_GINT64_FORMAT,
        booking_id, party_id);
    return FALSE;
  }
  if ((number = med_store_sms_number (p->contact)) != NULL) {
    via = MED_OUTBOX_SMS;
    id = queue_one (store, &c, p, number, MED_SMS_LINK, 0, FALSE, ctx->actor,
        error);
    /* the pending reminder carries the old link: queue it again */
    if (id != 0 && reissued
        && !queue_reminder (store, &c, p, number, ctx->actor, &n, error))
      return FALSE;
  } else if (med_store_is_email (p->contact)) {
    via = MED_OUTBOX_MAIL;
    id = service_queue_party_invite (store, ctx->centre_id, booking_id,
        party_id, ctx->actor, error);
  } else if (reissued) {
    /* a new link nobody can be sent: the case page shows it */
    if (channel != NULL)
      *channel = NULL;
    return TRUE;
  } else {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "this party has no phone number or e-mail address to send the link "
        "to");
    return FALSE;
  }
  if (id == 0
      || !med_store_join_sent (store, booking_id, party_id, via, id, ctx->actor,
          error))
    return FALSE;
  if (channel != NULL)
    *channel = via;
  return TRUE;
}

/* Ends the transaction that med_store_begin opened: commit when the work
 * went well, else roll back. */
static gboolean
end_transaction (MedStore *store, gboolean ok_so_far, GError **error)
{
  if (ok_so_far && med_store_commit (store, error))
    return TRUE;
  med_store_rollback (store);
  return FALSE;
}

/* Opens the transaction of a change to one of ctx's centre's bookings:
 * NOT_FOUND for another centre's. */
static gboolean
begin_for_booking (MedStore *store, const MedServiceCtx *ctx, gint64 booking_id,
    GError **error)
{
  return med_store_in_centre (store, MED_STORE_OF_BOOKING, booking_id,
             ctx->centre_id, error)
      && med_store_begin (store, error);
}

gboolean
med_service_send_link (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, const char **channel, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);
  if (!begin_for_booking (store, ctx, booking_id, error))
    return FALSE;
  return end_transaction (store,
      send_link (store, ctx, booking_id, party_id, FALSE, channel, error),
      error);
}

gboolean
med_service_reissue_link (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, const char **channel, GError **error)
{
  g_autofree char *old = NULL;

  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);
  if (!begin_for_booking (store, ctx, booking_id, error))
    return FALSE;
  /* the texts with the old link (a reminder already due, say) go no more;
   * send_link queues the new link and the reminder again */
  return end_transaction (store,
      (old = med_store_join_url (store, booking_id, party_id, error)) != NULL
          && med_store_join_reissue (store, booking_id, party_id, ctx->actor,
              NULL, error)
          && supersede_link (store, ctx, booking_id, old, error)
          && send_link (store, ctx, booking_id, party_id, TRUE, channel, error),
      error);
}

gboolean
med_service_revoke_join (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, GError **error)
{
  g_autofree char *url = NULL;

  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);
  if (!begin_for_booking (store, ctx, booking_id, error))
    return FALSE;
  /* revoked with the texts that carry the link, or not at all */
  return end_transaction (store,
      (url = med_store_join_url (store, booking_id, party_id, error)) != NULL
          && med_store_revoke_join (store, booking_id, party_id, ctx->actor,
              error)
          && supersede_link (store, ctx, booking_id, url, error),
      error);
}

/* ---- parties added to or removed from a case with sessions to come ----- */

/* One session of the case: the party is told it now concerns them, or no
 * longer does. */
static gboolean
tell_party_of (MedStore *store, const MedServiceCtx *ctx, gint64 booking_id,
    const MedParty *p, gboolean added, GError **error)
{
  g_auto (SmsCtx) c = { 0 };
  g_autofree char *number = med_store_sms_number (p->contact);
  guint n = 0;

  if (number == NULL) {
    if (!med_store_is_email (p->contact))
      return TRUE; /* nobody to tell: the case page says so */
    return (added ? service_queue_party_invite (store, ctx->centre_id,
                booking_id, p->id, ctx->actor, error)
                  : service_queue_party_cancel (store, ctx->centre_id,
                      booking_id, p, ctx->actor, error))
        != 0;
  }
  if (!load_sms (store, ctx->centre_id, booking_id, &c, error))
    return FALSE;
  if (added)
    return queue_one (store, &c, p, number, MED_SMS_BOOKED, 0, FALSE,
               ctx->actor, error)
        != 0
        && queue_reminder (store, &c, p, number, ctx->actor, &n, error);
  /* the cancellation supersedes this party's pending texts only: the
   * others keep their reminders (and a revoked link stays unsent) */
  return queue_one (store, &c, p, number, MED_SMS_CANCELLED, 0, TRUE,
             ctx->actor, error)
      != 0;
}

gboolean
service_tell_party (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    const MedParty *p, gboolean added, GError **error)
{
  g_autoptr (GPtrArray) bookings
      = med_store_list_case_bookings (store, case_id, error);

  if (bookings == NULL)
    return FALSE;
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = bookings->pdata[i];

    if (bk->status == MED_BOOKING_STATUS_CONFIRMED && bk->start > ctx->now
        && !tell_party_of (store, ctx, bk->id, p, added, error))
      return FALSE;
  }
  return TRUE;
}

/* ---- the transport: gammu-smsd's spool --------------------------------- */

typedef struct
{
  MedTransport parent;
  char *outbox; /* spool/outbox, … */
  char *sent;
  char *failed; /* spool/error */
  guint timeout_seconds;
} SmsSpool;

/* One hand-over: the GTask's data. Each source holds a reference to the
 * task; answering destroys them all. */
typedef struct
{
  char *name; /* OUT…txt */
  char *out_path;
  char *sent_path;
  char *error_path;
  GSource *poll;
  GSource *deadline;
  GSource *cancelled; /* a GCancellableSource of the caller's cancellable */
  gboolean extended; /* gammu-smsd had the file at the first deadline */
  gboolean answered;
  guint timeout_seconds;
} SpoolRun;

static void
drop_source (GSource **source)
{
  if (*source != NULL) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

static void
spool_run_free (gpointer data)
{
  SpoolRun *run = data;

  drop_source (&run->poll);
  drop_source (&run->deadline);
  drop_source (&run->cancelled);
  g_free (run->name);
  g_free (run->out_path);
  g_free (run->sent_path);
  g_free (run->error_path);
  g_free (run);
}

typedef enum
{
  SPOOL_SENT,
  SPOOL_FAILED,
  SPOOL_CANCELLED, /* taken back before gammu-smsd read it */
} SpoolOutcome;

/* Answers the task once and stops watching. */
static void
answer (GTask *task, SpoolOutcome outcome, const char *why)
{
  SpoolRun *run = g_task_get_task_data (task);

  if (run->answered)
    return;
  run->answered = TRUE;
  drop_source (&run->poll);
  drop_source (&run->deadline);
  drop_source (&run->cancelled);
  if (outcome == SPOOL_SENT)
    g_task_return_boolean (task, TRUE);
  else if (outcome == SPOOL_CANCELLED)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "cancelled");
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", why);
}

/* Whether gammu-smsd has moved the file: then its outcome is read, the
 * file removed and the task answered. */
static gboolean
check_outcome (GTask *task)
{
  SpoolRun *run = g_task_get_task_data (task);

  if (g_file_test (run->sent_path, G_FILE_TEST_EXISTS)) {
    g_unlink (run->sent_path);
    answer (task, SPOOL_SENT, NULL);
    return TRUE;
  }
  if (g_file_test (run->error_path, G_FILE_TEST_EXISTS)) {
    g_unlink (run->error_path);
    answer (task, SPOOL_FAILED,
        "gammu-smsd could not send the message (it moved it to error/; see "
        "gammu-smsd's own messages)");
    return TRUE;
  }
  return FALSE;
}

/* Takes the file back from outbox/: TRUE when taken back (it was never
 * sent), FALSE when gammu-smsd has it. */
static gboolean
withdraw (SpoolRun *run)
{
  return g_unlink (run->out_path) == 0 || errno != ENOENT;
}

static gboolean
poll_cb (gpointer data)
{
  check_outcome (G_TASK (data));
  return G_SOURCE_CONTINUE;
}

static gboolean
deadline_cb (gpointer data)
{
  GTask *task = data;
  SpoolRun *run = g_task_get_task_data (task);
  g_autofree char *why = NULL;

  if (check_outcome (task))
    return G_SOURCE_REMOVE;
  if (withdraw (run)) {
    why = g_strdup_printf ("gammu-smsd did not take the message within %u s "
                           "(is it running, on this spool?); taken back",
        run->timeout_seconds);
    answer (task, SPOOL_FAILED, why);
    return G_SOURCE_REMOVE;
  }
  if (!run->extended) {
    /* it is sending right now: one more timeout */
    run->extended = TRUE;
    return G_SOURCE_CONTINUE;
  }
  why = g_strdup_printf ("gammu-smsd took the message but said nothing within "
                         "%u s more; its outcome is unknown",
      run->timeout_seconds);
  answer (task, SPOOL_FAILED, why);
  return G_SOURCE_REMOVE;
}

static gboolean
cancelled_cb (GCancellable *cancel, gpointer data)
{
  GTask *task = data;
  SpoolRun *run = g_task_get_task_data (task);

  if (check_outcome (task))
    return G_SOURCE_REMOVE;
  /* taken back: released, due again at once; already with gammu-smsd: a
   * failed attempt, since its outcome is unknown */
  if (withdraw (run))
    answer (task, SPOOL_CANCELLED, NULL);
  else
    answer (task, SPOOL_FAILED,
        "stopped while gammu-smsd was sending the message; its outcome is "
        "unknown");
  return G_SOURCE_REMOVE;
}

static GSource *
watch (GSource *source, GSourceFunc func, GTask *task)
{
  g_source_set_callback (source, func, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

/* The text as gammu-smsd reads it: UTF-16 little-endian with its BOM.
 * (transfer full) */
static GBytes *
encode_text (const char *text, GError **error)
{
  g_autofree gunichar2 *u = NULL;
  glong n = 0;
  GByteArray *out;
  static const guint8 bom[] = { 0xff, 0xfe };

  u = g_utf8_to_utf16 (text, -1, NULL, &n, error);
  if (u == NULL)
    return NULL;
  out = g_byte_array_sized_new (2 + 2 * n);
  g_byte_array_append (out, bom, 2);
  for (glong i = 0; i < n; i++) {
    guint8 le[2] = { u[i] & 0xff, u[i] >> 8 };

    g_byte_array_append (out, le, 2);
  }
  return g_byte_array_free_to_bytes (out);
}

/* Writes data to dir/.name.part and renames it to dir/name, so that
 * gammu-smsd never reads half a file (it skips hidden names). Readable
 * by gammu-smsd's group through the spool's 0770 directories. */
static gboolean
write_spool_file (const char *dir, const char *name, GBytes *data,
    GError **error)
{
  g_autofree char *tmp_name = g_strconcat (".", name, ".part", NULL);
  g_autofree char *tmp = g_build_filename (dir, tmp_name, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (data, &len);
  int fd, saved;

  fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    goto fail;
  if (fchmod (fd, 0644) != 0)
    goto fail_fd;
  while (len > 0) {
    gssize w = write (fd, p, len);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      goto fail_fd;
    p += w;
    len -= (gsize) w;
  }
  if (fsync (fd) != 0 || close (fd) != 0) {
    fd = -1;
    goto fail_unlink;
  }
  fd = -1;
  if (g_rename (tmp, path) != 0)
    goto fail_unlink;
  return TRUE;

fail_fd:
  saved = errno;
  close (fd);
  errno = saved;
fail_unlink:
  saved = errno;
  g_unlink (tmp);
  errno = saved;
fail:
  saved = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
      "cannot write to the SMS spool %s: %s", dir, g_strerror (saved));
  return FALSE;
}

static void
sms_send_async (MedTransport *t, const MedOutboxMessage *m,
    GCancellable *cancel, GAsyncReadyCallback callback, gpointer user_data)
{
  SmsSpool *sp = (SmsSpool *) t;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d_%H%M%S");
  g_autofree char *number = med_store_sms_number (m->recipient_addr);
  SpoolRun *run = g_new0 (SpoolRun, 1);

  g_task_set_source_tag (task, sms_send_async);
  g_task_set_task_data (task, run, spool_run_free);
  run->timeout_seconds = sp->timeout_seconds;
  if (number == NULL || strcmp (number, m->recipient_addr) != 0) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "not an SMS number");
    return;
  }
  /* OUT<priority><date>_<time>_<serial>_<number>_<note>.txt: gammu-smsd
   * takes the number from between the third and the fourth '_'; the note
   * names the message and the attempt, so each attempt has its own file */
  run->name = g_strdup_printf ("OUTB%s_00_%s_m%" G_GINT64_FORMAT "a%d.txt",
      stamp, number, m->id, m->attempts + 1);
  run->out_path = g_build_filename (sp->outbox, run->name, NULL);
  run->sent_path = g_build_filename (sp->sent, run->name, NULL);
  run->error_path = g_build_filename (sp->failed, run->name, NULL);
  if ((data = encode_text (m->message, &error)) == NULL
      || !write_spool_file (sp->outbox, run->name, data, &error)) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
        error->message);
    return;
  }
  run->poll = watch (g_timeout_source_new (POLL_MS), poll_cb, task);
  run->deadline = watch (g_timeout_source_new_seconds (sp->timeout_seconds),
      deadline_cb, task);
  if (cancel != NULL)
    run->cancelled = watch (g_cancellable_source_new (cancel),
        (GSourceFunc) (void (*) (void)) cancelled_cb, task);
}

static gboolean
sms_send_finish (MedTransport *t, GAsyncResult *result, char **why)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  ok = g_task_propagate_boolean (G_TASK (result), &error);
  if (!ok)
    *why = g_strdup (error->message);
  return ok;
}

static void
sms_free (MedTransport *t)
{
  SmsSpool *sp = (SmsSpool *) t;

  g_free (sp->outbox);
  g_free (sp->sent);
  g_free (sp->failed);
  g_free (sp);
}

MedTransport *
med_service_sms_spool_new (const char *spool, guint timeout_seconds,
    GError **error)
{
  static const char *const dirs[] = { "outbox", "sent", "error" };
  SmsSpool *sp;

  if (spool == NULL || *spool == '\0')
    spool = MED_SMS_SPOOL_DEFAULT;
  if (!g_path_is_absolute (spool)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "the SMS spool must be an absolute path");
    return NULL;
  }
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree char *d = g_build_filename (spool, dirs[i], NULL);

    if (!g_file_test (d, G_FILE_TEST_IS_DIR)) {
      g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
          "the SMS spool %s has no %s/ directory (gammu-smsd's OutboxPath, "
          "SentSMSPath and ErrorSMSPath)",
          spool, dirs[i]);
      return NULL;
    }
  }
  sp = g_new0 (SmsSpool, 1);
  sp->parent.channel = MED_OUTBOX_SMS;
  sp->parent.send_async = sms_send_async;
  sp->parent.send_finish = sms_send_finish;
  sp->parent.free = sms_free;
  sp->outbox = g_build_filename (spool, "outbox", NULL);
  sp->sent = g_build_filename (spool, "sent", NULL);
  sp->failed = g_build_filename (spool, "error", NULL);
  sp->timeout_seconds
      = timeout_seconds ? timeout_seconds : MED_SMS_TIMEOUT_SECONDS;
  return &sp->parent;
}

guint
med_service_sms_lease (guint timeout_seconds)
{
  guint t = timeout_seconds ? timeout_seconds : MED_SMS_TIMEOUT_SECONDS;

  return CLAMP (2 * t + 60, 600, 86400);
}
