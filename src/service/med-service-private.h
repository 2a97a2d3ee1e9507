/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-private.h — what the files of src/service share and nobody
 * else sees: the loaded context of one case (its centre, parties, their
 * other commitments, a snapshot and a scheduler over a window) that the
 * slot search, booking, the board's "where does it fit" and the checks
 * of edited parties all build on (med-service.c); who joins a session by
 * video, and queueing one party's copy of a booking's invite
 * (med-service-ical.c) for a link sent by hand (med-service-sms.c). */
#pragma once

#include <medsched/med-service.h>

#include <med-store-write.h>

G_BEGIN_DECLS

/* A party joins by video (and gets their own link) in a remote session,
 * and in a hybrid one when they attend remotely. */
gboolean service_party_remote (const MedBooking *b, const MedParty *p);

/* Queues the iMIP invite of a booking's current version for one party
 * with an e-mail address, inside the caller's transaction. Returns the
 * outbox id, 0 on error (NOT_FOUND when the party has no address). */
gint64 service_queue_party_invite (MedStore *store, gint64 centre_id,
    gint64 booking_id, gint64 party_id, const char *actor, GError **error);
/* Queues a CANCEL of the booking's current version to a party no longer
 * on it (p as it was, with an e-mail address), in the caller's
 * transaction. The outbox id, 0 on error. */
gint64 service_queue_party_cancel (MedStore *store, gint64 centre_id,
    gint64 booking_id, const MedParty *p, const char *actor, GError **error);

/* A party added to a case (added) or removed from it (p as it was): for
 * each of the case's confirmed sessions still to come, they are told as
 * if booked with it (the booking's SMS and reminder, or the invite) or of
 * its cancellation (the SMS, or a CANCEL; their pending texts and
 * reminders go no more, the other parties' reminders stay), inside the
 * caller's transaction. (med-service-sms.c) */
gboolean service_tell_party (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, const MedParty *p, gboolean added, GError **error);

/* Everything a slot search for one case needs. */
typedef struct
{
  MedStore *store; /* (transfer none) */
  const MedServiceCtx *ctx;
  gint64 exclude_booking; /* rescheduling: the booking being moved */
  MedCentre *centre;
  MedStoreSnapshot *snap;
  MedScheduler *sched;
  MedCase *kase;
  GPtrArray *parties;
  GArray *party_busy;
  gint64 last_mediator;
} CaseContext;

void med_service_case_context_clear (CaseContext *cc);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CaseContext, med_service_case_context_clear)

/* Loads the case (it must be one that can be scheduled:
 * MED_SERVICE_ERROR_STATE otherwise), its parties and their other
 * commitments, leaving out exclude_booking (0 = none). */
gboolean med_service_load_case (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, gint64 exclude_booking, CaseContext *cc, GError **error);
/* (Re)loads the snapshot for [from, to) (plus a day each side for room
 * buffers and local days) and builds the scheduler over it; load (may be
 * NULL) is the mediators' load over the whole horizon. */
gboolean med_service_load_window (CaseContext *cc, MedTime from, MedTime to,
    GArray *load, GError **error);
/* A slot request for the loaded case, now from the context. */
void med_service_fill_request (CaseContext *cc, MedSlotRequest *req);
/* Checks a hand-picked slot against the bookings of its own days; fills
 * its kind, mode, fallback and explanation. */
gboolean med_service_check_manual (CaseContext *cc, MedSlot *slot,
    GError **error);

/* Cancels booking_id and queues its CANCEL messages in one transaction;
 * undo: only while ctx->actor may undo it (med_service_undo_until,
 * checked inside the transaction), with a "booking.undo" audit row. */
gboolean med_service_cancel_txn (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gboolean undo, GError **error);

G_END_DECLS
