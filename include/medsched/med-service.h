/* med-service.h — the use cases that the CLI and the HTTP server share:
 * slots for a case, booking, rescheduling, cancelling and scheduling a
 * day. Each one loads what it needs from the store, asks the scheduler,
 * writes through the store in one transaction and, with it, queues the
 * invites. Glue between store, scheduler and ical:
 * the business rules stay in those modules; front ends (cli, http) only
 * parse input and present results.
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

G_BEGIN_DECLS

#define MED_SERVICE_ERROR (med_service_error_quark ())
GQuark med_service_error_quark (void);

typedef enum
{
  MED_SERVICE_ERROR_STATE, /* the case cannot be scheduled in its state */
  MED_SERVICE_ERROR_INVALID,
  MED_SERVICE_ERROR_FORBIDDEN, /* the user may not see or act on it */
} MedServiceError;

/* Who acts, when, for which centre. */
typedef struct
{
  MedTime now;
  const char *actor; /* "cli", "clerk:wang", … (no party data) */
  gint64 centre_id;
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

/* Plans the dispatched court-mediation queue on a local date and (unless
 * dry_run) books the plan in one transaction with its invites. The plan's
 * items are in allocation order. (transfer full) */
MedPlan *med_service_schedule_day (MedStore *store, const MedServiceCtx *ctx,
    gint year, gint month, gint day, gboolean dry_run, guint *booked,
    GError **error);

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
 * (MED_FEED_PARTY) is a case feed for one of its parties. The same state
 * gives the same bytes. (transfer full) */
char *med_service_feed (MedStore *store, const MedServiceCtx *ctx,
    MedFeedKind kind, gint64 id, MedFeedAudience audience, gint64 party_id,
    MedTime since, GError **error);

/* VFREEBUSY of a room (sessions with setup and cleanup) or a mediator
 * (sessions, leave, imported busy time) over [from, to). (transfer full) */
char *med_service_freebusy (MedStore *store, const MedServiceCtx *ctx,
    gboolean room, gint64 id, MedTime from, MedTime to, GError **error);

/* ---- who may see and act on what (med-service-access.c) ----
 *
 * The one authorization rule, asked by every front end. Admins and clerks:
 * every case and booking (of their centre: the caller checks the centre).
 * A mediator: a booking while it is theirs and not cancelled (past
 * sessions included), a case while they hold such a booking of it.
 * Refusals fail with MED_SERVICE_ERROR_FORBIDDEN; a store failure passes
 * through. */
gboolean med_service_may_access_case (MedStore *store, const MedUser *user,
    gint64 case_id, GError **error);
gboolean med_service_may_access_booking (const MedUser *user,
    const MedBooking *bk, GError **error);

G_END_DECLS
