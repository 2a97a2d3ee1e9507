/* med-service-private.h — what the files of src/service share and nobody
 * else sees: who joins a session by video, and queueing one party's copy
 * of a booking's invite (med-service-ical.c) for a link sent by hand
 * (med-service-sms.c). */
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

G_END_DECLS
