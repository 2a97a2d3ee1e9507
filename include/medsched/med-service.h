/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service.h — the use cases that the CLI and the HTTP server share:
 * slots for a case, booking, rescheduling, cancelling and scheduling a
 * day, invites and feeds, and delivering the outbox. Each one loads what
 * it needs from the store, asks the scheduler, writes through the store in
 * one transaction and, with it, queues the invites. Glue between store,
 * scheduler and ical: the business rules stay in those modules; front ends
 * (cli, http) only parse input and present results.
 *
 * Errors pass through from the modules (MED_STORE_ERROR_CONFLICT for a
 * lost race or a taken slot, MED_SCHEDULER_ERROR_NO_SLOT with the reasons,
 * MED_SCHEDULER_ERROR_UNPUBLISHED, MED_STORE_ERROR_NOT_FOUND, …) plus
 * MED_SERVICE_ERROR_STATE when a case is not in a state that can be
 * scheduled. */
#pragma once

#include <medsched/med-ical.h>
#include <medsched/med-model.h>
#include <medsched/med-scheduler.h>
#include <medsched/med-store.h>

#include <gio/gio.h>

G_BEGIN_DECLS

#define MED_SERVICE_ERROR (med_service_error_quark ())
GQuark med_service_error_quark (void);

typedef enum
{
  MED_SERVICE_ERROR_STATE, /* the case cannot be scheduled in its state */
  MED_SERVICE_ERROR_INVALID,
  MED_SERVICE_ERROR_FORBIDDEN, /* the user may not see or act on it */
} MedServiceError;

/* Who acts, when, for which centre, reading which language. */
typedef struct
{
  MedTime now;
  const char *actor; /* "cli", "clerk:wang", … (no party data) */
  gint64 centre_id;
  /* the language code of the person acting (a page's, a feed link's,
   * `--lang`): what a feed link made now is written in, and a staff feed;
   * NULL: the centre's default, Chinese */
  const char *lang;
} MedServiceCtx;

/* The earliest feasible slots for a case (dispatched to court mediation,
 * scheduled, or not settled). not_before 0 = now + minimum notice;
 * duration 0 = the case's. (transfer full) array of MedSlot*. */
GPtrArray *med_service_find_slots (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, MedTime not_before, gint duration_minutes, guint count,
    GError **error);

/* Books a session: the earliest slot when manual is NULL, else the given
 * room/mediator/interpreter/start/end after checking every hard
 * constraint. Invites are queued in the same transaction. Returns the
 * booking id (0 on error); *out_slot (optional) gets the slot with its
 * explanation. */
gint64 med_service_book (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, const MedSlot *manual, gint duration_minutes,
    MedSlot **out_slot, GError **error);

/* Moves a booking to the next earliest slot (manual NULL) or to manual;
 * room, mediator and interpreter ids of 0 in manual keep the booking's.
 * Same UID, SEQUENCE + 1, invites queued. */
gboolean med_service_reschedule (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, const MedSlot *manual, MedSlot **out_slot,
    GError **error);

/* Cancels a booking and queues the CANCEL messages. */
gboolean med_service_cancel (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, GError **error);

/* ---- the day board (med-service-board.c) --------------------------------
 *
 * Where a case fits on a day, asked of the scheduler cell by cell (one
 * room, one start), so that the board, the search and booking by hand
 * answer alike; what a case needs; moving and undoing. */

/* A session may be moved (rescheduled) while it is confirmed and has not
 * ended: MED_SERVICE_ERROR_STATE otherwise. */
gboolean med_service_may_move (const MedBooking *bk, const MedServiceCtx *ctx,
    GError **error);

typedef enum
{
  MED_FIT_FITS, /* slot says with whom */
  MED_FIT_BLOCKED, /* blocks and why say why not */
  MED_FIT_TOO_LONG, /* the session would run past the working window */
  MED_FIT_DEADLINE, /* it would end after the case's deadline */
  MED_FIT_PAST, /* the start has passed */
  MED_FIT_CLOSED, /* not working time */
} MedFitState;

typedef struct
{
  gint64 room_id;
  MedTime start;
  MedFitState state;
  MedSlot *slot; /* FITS: room, mediator, interpreter (0 = none), end, mode,
                  * fallback (not the preferred room kind), explanation */
  guint blocks; /* BLOCKED: MedBlock bits the search met */
  GPtrArray *reasons; /* BLOCKED: MedReason*, why not (med_i18n_reasons
                       * writes them in the reader's language) */
  char *why; /* BLOCKED: the scheduler's message (one line, English) */
} MedFitCell;

void med_fit_cell_free (MedFitCell *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedFitCell, med_fit_cell_free)

typedef struct
{
  gint64 case_id;
  gint64 booking_id; /* the session being moved, 0 = a new one */
  gint duration_minutes;
  GPtrArray *cells; /* MedFitCell*: per room (in id order), every start on
                     * the step's grid inside the day's working windows */
  guint n_fits;
} MedDayFit;

void med_day_fit_free (MedDayFit *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedDayFit, med_day_fit_free)

/* Where case_id (a case that can be scheduled) fits on the local date, or
 * where booking_id (a session that may be moved; case_id 0 or its case)
 * can move to that day, keeping its length. step_minutes 0 = the
 * centre's slot granularity. A holiday has no cells. (transfer full) */
MedDayFit *med_service_day_fit (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, gint64 booking_id, gint year, gint month, gint day,
    gint step_minutes, GError **error);
/* The same for one room and start (a preview before booking). (transfer
 * full) */
MedFitCell *med_service_fit_at (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, gint64 booking_id, gint64 room_id, MedTime start,
    GError **error);

/* What a case needs, for the pages. */
typedef struct
{
  gint duration_minutes; /* the case's, or the centre's default */
  MedRoomKind room_kind; /* preferred */
  MedReasonCode room_kind_why; /* why that kind: MED_REASON_WHY_… */
  gboolean minors;
  gboolean urgent;
  guint n_parties;
  guint n_remote; /* parties attending by video */
  char **languages; /* the parties' languages, each once */
  gboolean needs_interpreter; /* no mediator who handles the kind speaks
                               * every party's language */
} MedCaseNeeds;

void med_case_needs_clear (MedCaseNeeds *n);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MedCaseNeeds, med_case_needs_clear)

gboolean med_service_case_needs (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, MedCaseNeeds *out, GError **error);

/* How long a booking can be undone by whoever made it. */
#define MED_SERVICE_UNDO_SECONDS 300

/* Whether ctx->actor may still undo booking_id: they made it, less than
 * MED_SERVICE_UNDO_SECONDS ago, and it has not changed since; *until
 * (may be NULL) gets when that ends. MED_SERVICE_ERROR_STATE otherwise. */
gboolean med_service_undo_until (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, MedTime *until, GError **error);
/* Undoes it: cancelled with its CANCEL messages and a "booking.undo" audit
 * row, in one transaction. */
gboolean med_service_undo_booking (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, GError **error);

/* ---- cases after intake (med-service-case.c) ----------------------------
 *
 * Finding cases and changing their parties. A case's parties may change
 * while it is at intake, dispatched, scheduled or not settled; not while a
 * session is under way (in session) nor once it is closed (settled,
 * referred, withdrawn): MED_SERVICE_ERROR_STATE. A case keeps at least
 * one party. When the case has sessions to come, each must still suit the
 * changed parties (room kind and size, video, languages, the parties'
 * other sessions): the change is refused, naming the session and the
 * scheduler's reason, rather than leave a booking that breaks the rules.
 * A party added is told of each confirmed session to come as if it had
 * been booked with them (SMS with their link and the reminder, or the
 * invite), a party removed of its cancellation (their pending texts go no
 * more), in the change's transaction (docs/sms.md). */

/* Whether k's parties may change now (error says why not). */
gboolean med_service_may_edit_parties (const MedCase *k, GError **error);
/* Returns the new party's id or 0. */
gint64 med_service_add_party (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, const MedParty *p, GError **error);
/* p->id and p->case_id name the party, the rest are its new values. */
gboolean med_service_update_party (MedStore *store, const MedServiceCtx *ctx,
    const MedParty *p, GError **error);
gboolean med_service_remove_party (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, gint64 party_id, GError **error);
/* The cases of ctx's centre matching q that user may see (a mediator: only
 * cases with a confirmed session of theirs, whatever q->mediator_id
 * says), limit from offset, newest intake first; *total gets how many in
 * all. (transfer full) array of MedCase* */
GPtrArray *med_service_find_cases (MedStore *store, const MedServiceCtx *ctx,
    const MedUser *user, const MedCaseQuery *q, guint offset, guint limit,
    guint *total, GError **error);

/* Plans the dispatched court-mediation queue on a local date
 * (med_scheduler_plan_day: as many cases as the day holds, urgent ones
 * first) and (unless dry_run) books the plan in one transaction with its
 * invites. options may be NULL; its time_limit (seconds, 0 = 1 s, at most
 * MED_PLAN_MAX_TIME_LIMIT) sets the search's work budget, and unless the
 * caller passes its own stop function the service stops the search when
 * that much wall-clock time has passed since the call began. The plan's
 * items are in queue order.
 *
 * The booking re-checks every session, as any booking does: a session
 * whose resources or parties were taken after the day was read (by
 * another writer of the store), or whose case is no longer dispatched,
 * is not booked; its item is then unplaced (slot NULL) with a reason
 * naming the clash, the counts and optimal say so, and every other
 * session is booked. *booked gets the number booked. (transfer full) */
MedPlan *med_service_schedule_day (MedStore *store, const MedServiceCtx *ctx,
    gint year, gint month, gint day, gboolean dry_run,
    const MedPlanOptions *options, guint *booked, GError **error);

/* The same, with the search in a worker thread: the day is read from the
 * store before this returns, the plan is searched in GIO's thread pool
 * (the scheduler is pure), and callback runs on the caller's thread-default
 * main context. Call med_service_schedule_day_finish there, with the
 * store still open: it books the plan as above, on the calling thread.
 * Cancelling stops the search and books nothing (finish then fails with
 * G_IO_ERROR_CANCELLED). ctx is copied. */
void med_service_schedule_day_async (MedStore *store, const MedServiceCtx *ctx,
    gint year, gint month, gint day, gboolean dry_run,
    const MedPlanOptions *options, GCancellable *cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
MedPlan *med_service_schedule_day_finish (MedStore *store, GAsyncResult *result,
    guint *booked, GError **error);

/* Queues the iMIP messages that announce a booking's current version, one
 * per attendee with an e-mail address (REQUEST, or CANCEL once
 * cancelled). before, the booking as it was before a reschedule, gives a
 * CANCEL to a mediator or interpreter taken off the session. Runs inside
 * the caller's transaction so that a change and its messages commit
 * together. */
gboolean med_service_queue_invites (MedStore *store, gint64 centre_id,
    gint64 booking_id, const MedBooking *before, const char *actor,
    guint *n_queued, GError **error);

/* A booking's invite: the organiser's copy (who NULL, no join links) or
 * one attendee's ("mediator:ID", "interpreter:ID", "party:ID" or an e-mail
 * address) with their language and join link; imip gives the whole e-mail
 * (for an attendee with an address). (transfer full) */
char *med_service_invite (MedStore *store, gint64 centre_id, gint64 booking_id,
    const char *who, gboolean imip, GError **error);

typedef enum
{
  MED_FEED_KIND_ROOM,
  MED_FEED_KIND_MEDIATOR,
  MED_FEED_KIND_CASE,
  MED_FEED_KIND_CENTRE,
} MedFeedKind;

/* The subscription feed of a room, mediator, case or centre (id = its
 * id), sessions from since (0 = 90 days back) on; a party feed
 * (MED_FEED_PARTY) is a case feed for one of its parties. Its name and
 * texts are in one language: a party feed in the party's recorded one,
 * any other in ctx->lang (a feed link's, kept when it was made; NULL:
 * Chinese). The same state gives the same bytes. (transfer full) */
char *med_service_feed (MedStore *store, const MedServiceCtx *ctx,
    MedFeedKind kind, gint64 id, MedFeedAudience audience, gint64 party_id,
    MedTime since, GError **error);

/* VFREEBUSY of a room (sessions with setup and cleanup) or a mediator
 * (sessions, leave, imported busy time) over [from, to). (transfer full) */
char *med_service_freebusy (MedStore *store, const MedServiceCtx *ctx,
    gboolean room, gint64 id, MedTime from, MedTime to, GError **error);

/* ---- parties told by SMS, links sent by hand (med-service-sms.c) -------
 *
 * A party whose contact is a phone number (med_store_sms_number) is told
 * of their session by SMS, in their recorded language (Chinese when
 * medsched has no catalogue of it): when it is booked, moved or cancelled,
 * and the day before. A remote party's text carries their own join link
 * (the centre's public URL + /join/<token>); an in-person party's the time
 * and the place. A party with an e-mail address gets the iMIP invite
 * instead (med_service_queue_invites). The texts are queued in the
 * outbox's sms channel inside the change's transaction. */

typedef enum
{
  MED_SMS_BOOKED,
  MED_SMS_MOVED,
  MED_SMS_CANCELLED,
  MED_SMS_REMINDER, /* the day before: due MED_SMS_REMINDER_HOURS before */
  MED_SMS_LINK, /* a link sent (again) by hand */
} MedSmsPurpose;

#define MED_SMS_REMINDER_HOURS 24

/* "booked", "moved", "cancelled", "reminder", "link" (the outbox's
 * purpose). */
const char *med_sms_purpose_to_string (MedSmsPurpose p);

/* Queues the SMS of a change (BOOKED, MOVED or CANCELLED) to every party
 * of the booking's case with a phone number, inside the caller's
 * transaction; with BOOKED and MOVED also each one's reminder, due
 * MED_SMS_REMINDER_HOURS before the start (none when that has passed).
 * The outbox keeps one reminder per party and booking: a move or a
 * cancellation supersedes a pending one, so it is never sent twice nor
 * for a time that no longer holds. *n_queued (optional) counts the texts
 * queued now, reminders included. */
gboolean med_service_queue_sms (MedStore *store, gint64 centre_id,
    gint64 booking_id, MedSmsPurpose purpose, const char *actor,
    guint *n_queued, GError **error);

/* The text of one party's SMS (what med_service_queue_sms queues).
 * (transfer full) */
char *med_service_sms_text (MedStore *store, gint64 centre_id,
    gint64 booking_id, gint64 party_id, MedSmsPurpose purpose, GError **error);

/* Sends a party of a confirmed booking their link the way their contact
 * allows: an SMS (purpose link) to a phone number, their iMIP invite (it
 * carries the link) to an e-mail address; MED_SERVICE_ERROR_INVALID when
 * they have neither. Audited ("join.send": party id, channel, outbox id;
 * no number or address) in one transaction with the message. *channel
 * (optional) gets MED_OUTBOX_SMS or MED_OUTBOX_MAIL. The caller asks the
 * access rule first. */
gboolean med_service_send_link (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, const char **channel, GError **error);

/* Issues the party's link again (med_store_join_reissue: a new token, the
 * old one dead, a revocation lifted) and sends the new one as
 * med_service_send_link does, in one transaction; the pending SMS that
 * carry the old link are superseded and the reminder is queued again with
 * the new one (when its time has not passed). A party with neither a number nor
 * an address gets the new link issued and *channel NULL. */
gboolean med_service_reissue_link (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, const char **channel, GError **error);

/* ---- who may see and act on what (med-service-access.c) ----
 *
 * The one authorization rule, asked by every front end. Nobody reaches a
 * case or booking of another centre than their own (user->centre_id):
 * MED_STORE_ERROR_NOT_FOUND, as for one that does not exist. Admins and
 * clerks: every case and booking of their centre. A mediator: a booking
 * while it is theirs and not cancelled (past sessions included), a case
 * while they hold such a booking of it. Those refusals fail with
 * MED_SERVICE_ERROR_FORBIDDEN; a store failure passes through. */
gboolean med_service_may_access_case (MedStore *store, const MedUser *user,
    gint64 case_id, GError **error);
gboolean med_service_may_access_booking (MedStore *store, const MedUser *user,
    const MedBooking *bk, GError **error);
/* The cases of user's centre (status < 0: any) that user may see, by id:
 * the access rule over a whole list, with one query for admins and
 * clerks. (transfer full) array of MedCase* */
GPtrArray *med_service_list_cases (MedStore *store, const MedUser *user,
    gint status, GError **error);

/* ---- outbox delivery (med-service-outbox.c) ----------------------------
 *
 * One loop hands queued messages to a transport: claim the oldest due
 * message (a lease, so that another process delivering at the same time
 * skips it), hand it over, then mark it sent (ledger) or failed (back-off,
 * given up after max_attempts) — the store's outbox functions, whatever the
 * transport. `medsched outbox flush` runs one pass and returns; `medsched
 * serve` runs passes on its main loop as messages fall due. Nothing here
 * blocks the main loop but the store calls, which are short transactions.
 *
 * A transport is a table of functions (below). Mail goes through a
 * sendmail-compatible MTA, SMS through gammu-smsd's spool
 * (med_service_sms_spool_new): each message has a channel in the outbox,
 * a loop claims only its transport's channel, and the lease, back-off,
 * ledger and this loop are the same for both. Callers ignore SIGPIPE (an
 * MTA may exit without reading its input). */

/* How a message leaves. The loop owns its transport (free is called once);
 * the transport must not keep m past send_async. */
typedef struct _MedTransport MedTransport;
struct _MedTransport
{
  /* MED_OUTBOX_MAIL or MED_OUTBOX_SMS: the outbox channel the loop
   * claims from, and the transport's name in logs */
  const char *channel;
  /* Starts handing m over without blocking; callback runs on the
   * thread-default main context of the caller, never from inside
   * send_async. Cancelling stops the hand-over (the message was then not
   * delivered). */
  void (*send_async) (MedTransport *t, const MedOutboxMessage *m,
      GCancellable *cancel, GAsyncReadyCallback callback, gpointer user_data);
  /* TRUE when the transport took the message; else FALSE and *why (transfer
   * full, one line, may name the recipient: keep it out of logs).
   * G_IO_ERROR_CANCELLED is reported as FALSE with *why "cancelled". */
  gboolean (*send_finish) (MedTransport *t, GAsyncResult *result, char **why);
  void (*free) (MedTransport *t);
};

void med_transport_free (MedTransport *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedTransport, med_transport_free)

#define MED_SENDMAIL_DEFAULT         "/usr/sbin/sendmail -t -i"
#define MED_SENDMAIL_TIMEOUT_SECONDS 120

/* Mail through a sendmail-compatible MTA: command is split like a shell
 * would (no shell runs), each message goes to its standard input, and it
 * is taken when the MTA exits with status 0 within timeout_seconds (0 =
 * MED_SENDMAIL_TIMEOUT_SECONDS); an MTA still running then is killed.
 * MED_SERVICE_ERROR_INVALID when command does not parse. (transfer full) */
MedTransport *med_service_sendmail_new (const char *command,
    guint timeout_seconds, GError **error);

/* SMS through gammu-smsd's "files" service (gammu-smsd-files(7)): spool
 * is the directory holding its outbox/, sent/ and error/ (NULL =
 * MED_SMS_SPOOL_DEFAULT, Debian's). A message is written as a UTF-16 text
 * file, complete under a hidden name and then renamed into outbox/ (named
 * OUT…_<number>_m<id>a<attempt>.txt, as the service wants); it is taken
 * when gammu-smsd moves it to sent/ (the network accepted it), failed when
 * to error/, and failed when still in outbox/ after timeout_seconds (0 =
 * MED_SMS_TIMEOUT_SECONDS; it is then taken back, so a retry never sends
 * it twice). medsched removes the file from sent/ or error/ once it has
 * read the outcome: the spool keeps no texts or numbers. No delivery
 * reports: this service cannot tie them to a message. A hand-over that
 * gammu-smsd began as the time ran out gets one more timeout. The reason
 * of a failure never names the number. MED_SERVICE_ERROR_INVALID when
 * spool lacks outbox/, sent/ or error/. (transfer full) */
#define MED_SMS_SPOOL_DEFAULT   "/var/spool/gammu"
#define MED_SMS_TIMEOUT_SECONDS 300
MedTransport *med_service_sms_spool_new (const char *spool,
    guint timeout_seconds, GError **error);
/* The lease an SMS delivery loop needs for timeout_seconds (0 = the
 * default): longer than a hand-over given its second timeout. */
guint med_service_sms_lease (guint timeout_seconds);

typedef struct
{
  guint interval_seconds; /* serve: how often to look for due messages
                           * (1–3600, default 5) */
  gint max_attempts; /* failed attempts before giving up (1–100, 6) */
  guint lease_seconds; /* a claim's lease; longer than one hand-over
                        * (default 600) */
  MedTime fixed_now; /* 0 = the real clock (tests, --now) */
  const char *actor; /* audit actor of the outcomes ("serve", "cli") */
} MedDeliveryConfig;

/* The defaults above; actor "serve". */
void med_service_delivery_config_init (MedDeliveryConfig *cfg);
/* MED_SERVICE_ERROR_INVALID naming the value out of range. */
gboolean med_service_delivery_config_check (const MedDeliveryConfig *cfg,
    GError **error);

typedef enum
{
  MED_DELIVERY_SENT, /* taken by the transport; ledger row written */
  MED_DELIVERY_RETRY, /* failed; retried after the back-off */
  MED_DELIVERY_GAVE_UP, /* failed max_attempts times: failed */
  MED_DELIVERY_RELEASED, /* stopped before the transport answered: due
                          * again at once, no attempt counted */
} MedDeliveryOutcome;

/* One message handled: m as claimed (m->attempts before this attempt),
 * why the failure (NULL when sent). */
typedef void (*MedDeliveryReportFunc) (const MedOutboxMessage *m,
    MedDeliveryOutcome outcome, const char *why, gpointer user_data);

typedef struct
{
  guint sent;
  guint retry;
  guint gave_up;
  guint released;
} MedDeliveryCounts;

typedef struct _MedDelivery MedDelivery;

/* A delivery loop over store (transfer none: it must outlive the loop; a
 * connection of its own, not shared with another thread) and transport
 * (transfer full). report may be NULL. Nothing runs until a pass is asked
 * for. Callbacks run on the thread-default main context of the caller.
 * (transfer full) */
MedDelivery *med_service_delivery_new (MedStore *store, MedTransport *transport,
    const MedDeliveryConfig *cfg, MedDeliveryReportFunc report,
    gpointer user_data);
/* One pass: every message due now, one at a time, then callback. A pass
 * already running (from the timer) is joined rather than doubled. */
void med_service_delivery_flush_async (MedDelivery *d,
    GAsyncReadyCallback callback, gpointer user_data);
/* Adds this pass's outcomes to *counts (may be NULL); FALSE with the store
 * error that ended the pass early. */
gboolean med_service_delivery_flush_finish (MedDelivery *d,
    GAsyncResult *result, MedDeliveryCounts *counts, GError **error);
/* Runs a pass whenever a message is due, checking every interval_seconds
 * (serve). */
void med_service_delivery_start (MedDelivery *d);
/* Graceful stop: no new claims; a message with the transport gets
 * grace_seconds to finish, then the hand-over is cancelled and the message
 * released (due again at once). done runs on the main context once nothing
 * is in flight. */
void med_service_delivery_stop (MedDelivery *d, guint grace_seconds,
    GSourceFunc done, gpointer user_data);
/* TRUE while a message is with the transport. */
gboolean med_service_delivery_busy (MedDelivery *d);
/* Frees the loop and its transport; stop it first when a pass may run. */
void med_delivery_free (MedDelivery *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedDelivery, med_delivery_free)

/* `outbox flush`: one pass on a private main context; returns when every
 * due message was handled. FALSE on a store error (the counts so far are
 * still added). */
gboolean med_service_outbox_flush (MedStore *store, MedTransport *transport,
    const MedDeliveryConfig *cfg, MedDeliveryReportFunc report,
    gpointer user_data, MedDeliveryCounts *counts, GError **error);

/* ---- every other change of data (med-service-centre.c, -case.c, -auth.c,
 * -media.c) -----------------------------------------------------------------
 *
 * The front ends change data only through these and the use cases above:
 * the store's write port is not on their include path. Each runs in one
 * transaction (several store writes together where a front end used to
 * make two) with ctx->actor; rows of a centre go to ctx->centre_id
 * whatever the struct passed says. Errors pass through from the store
 * (MED_STORE_ERROR_INVALID, _CONFLICT, _NOT_FOUND, …). */

/* The store's first centre with its public URL and telephone (NULL: the
 * defaults) and the holiday notices (MedNotice*, may be NULL), all or
 * nothing, audited. A store that already holds a centre is refused with
 * MED_SERVICE_ERROR_STATE. Returns the id or 0. */
gint64 med_service_init_centre (MedStore *store, const MedServiceCtx *ctx,
    const MedCentre *centre, const char *public_url, const char *phone,
    GPtrArray *notices, GError **error);
/* Another centre of a province's database, as med_service_init_centre
 * (notices are the whole database's: those given replace the ones with
 * the same id). MED_SERVICE_ERROR_STATE when the store holds no centre
 * yet (init makes the first) or a centre already has this name. */
gint64 med_service_add_centre (MedStore *store, const MedServiceCtx *ctx,
    const MedCentre *centre, const char *public_url, const char *phone,
    GPtrArray *notices, GError **error);
/* The centre's telephone and the base URL of its join links (each NULL:
 * unchanged; phone "": removed), together. */
gboolean med_service_set_centre_contact (MedStore *store,
    const MedServiceCtx *ctx, const char *phone, const char *public_url,
    GError **error);
/* Holiday notices (MedNotice*), each replacing one with the same id, all
 * or none. */
gboolean med_service_import_notices (MedStore *store, const MedServiceCtx *ctx,
    GPtrArray *notices, GError **error);
/* A document of rooms, mediators, interpreters and cases, all or nothing;
 * the counts (optional) are set on success. */
gboolean med_service_import_doc (MedStore *store, const MedServiceCtx *ctx,
    const MedImportDoc *doc, guint *n_rooms, guint *n_mediators,
    guint *n_interpreters, guint *n_cases, GError **error);

/* Resources. add returns the new id or 0; an e-mail address (NULL or ""
 * for none) is stored with the mediator or interpreter. */
gint64 med_service_add_room (MedStore *store, const MedServiceCtx *ctx,
    const MedRoom *room, GError **error);
gint64 med_service_add_mediator (MedStore *store, const MedServiceCtx *ctx,
    const MedMediator *mediator, const char *email, GError **error);
gint64 med_service_add_interpreter (MedStore *store, const MedServiceCtx *ctx,
    const MedInterpreter *interpreter, const char *email, GError **error);
gboolean med_service_add_leave (MedStore *store, const MedServiceCtx *ctx,
    gint64 mediator_id, MedTime start, MedTime end, GError **error);
gboolean med_service_set_email (MedStore *store, const MedServiceCtx *ctx,
    MedStorePerson who, gint64 id, const char *email, GError **error);
/* Busy time of a mediator or interpreter from an external calendar
 * (MedInterval), replacing that source's. */
gboolean med_service_replace_busy (MedStore *store, const MedServiceCtx *ctx,
    MedStorePerson who, gint64 id, const char *source, GArray *busy,
    GError **error);

/* Intake (下单): the case and its parties (MedParty*) and, unless
 * dispatch_to is MED_DEPARTMENT_NONE, its dispatch (派单) in the same
 * transaction. Returns the case id or 0. */
gint64 med_service_intake (MedStore *store, const MedServiceCtx *ctx,
    const MedCase *kase, GPtrArray *parties, MedDepartment dispatch_to,
    GError **error);
/* Dispatches a case to a department (not NONE). */
gboolean med_service_dispatch (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, MedDepartment department, GError **error);
/* A state change by hand: in-session, settled, not-settled, referred,
 * withdrawn. Dispatched, scheduled and intake are refused with
 * MED_MODEL_ERROR_TRANSITION (dispatching names a department, a booking
 * schedules); the transition rules of the model apply. */
gboolean med_service_set_case_status (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, MedCaseStatus to, GError **error);

/* A booking's note (a text-only edit, SEQUENCE kept); with notify the
 * attendees' invites are queued again in the same transaction (*n_queued,
 * optional). */
gboolean med_service_set_note (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, const char *note, gboolean notify, guint *n_queued,
    GError **error);
/* An attendee's iTIP REPLY (med_store_apply_reply's rules); *booking_id
 * (optional) gets the booking. */
gboolean med_service_apply_reply (MedStore *store, const MedServiceCtx *ctx,
    const char *uid, const char *email, const char *partstat, gint sequence,
    MedTime dtstamp, gint64 *booking_id, GError **error);
/* Puts a failed outbox message back in the queue, due at ctx->now. */
gboolean med_service_outbox_retry (MedStore *store, const MedServiceCtx *ctx,
    gint64 message_id, GError **error);

/* Users and their API tokens (hash: med_http_hash_secret of the token). */
gint64 med_service_add_user (MedStore *store, const MedServiceCtx *ctx,
    const MedUser *user, GError **error);
gint64 med_service_add_token (MedStore *store, const MedServiceCtx *ctx,
    gint64 user_id, const char *hash, MedTime expires_at, GError **error);
gboolean med_service_revoke_tokens (MedStore *store, const MedServiceCtx *ctx,
    gint64 user_id, GError **error);
/* Web sessions: a login (hash of the session id, its CSRF token, until
 * expires_at) and a logout. Not audited. */
gboolean med_service_start_session (MedStore *store, const MedServiceCtx *ctx,
    const char *hash, gint64 user_id, const char *csrf, MedTime expires_at,
    GError **error);
gboolean med_service_end_session (MedStore *store, const MedServiceCtx *ctx,
    const char *hash, GError **error);
/* Capability links: a calendar feed's (returns its id or 0; its texts in
 * ctx->lang, kept with the link), revoking one, and revoking a party's
 * join link of a booking (its pending SMS that carry the link are
 * superseded in the same transaction). */
gint64 med_service_add_feed_link (MedStore *store, const MedServiceCtx *ctx,
    MedFeedLinkKind kind, gint64 ref_id, const char *hash, MedTime expires_at,
    GError **error);
gboolean med_service_revoke_feed_link (MedStore *store,
    const MedServiceCtx *ctx, gint64 link_id, GError **error);
gboolean med_service_revoke_join (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, GError **error);

/* Recordings: a party's consent to being recorded, an access to a
 * recording ("view", "export", "verify": audited), the purge of
 * recordings past their retention (*n_purged). */
gboolean med_service_set_consent (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, gboolean given, GError **error);
gboolean med_service_recording_access (MedStore *store,
    const MedServiceCtx *ctx, gint64 recording_id, const char *what,
    GError **error);
gboolean med_service_purge_recordings (MedStore *store,
    const MedServiceCtx *ctx, guint *n_purged, GError **error);

/* Moves a centre's store to another database (med_store_copy's checks and
 * guarantees), e.g. sqlite:FILE to postgresql://… and back. */
gboolean med_service_store_copy (const char *from, const char *to,
    MedStoreCopy *out, GError **error);

/* Puts a backup in place of the SQLite store target (med_store_restore's
 * checks and guarantees). */
gboolean med_service_restore (const char *backup, const char *target,
    const MedAuditAnchor *anchor, MedTime now, MedStoreRestore *out,
    GError **error);

G_END_DECLS
