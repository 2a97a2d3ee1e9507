/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-media.c — what the front ends change about recordings: a
 * party's consent to being recorded (from the call's signalling or the
 * CLI), the audited access to a recording (view, export, verify) and the
 * purge of recordings past their retention. The recording rows themselves
 * are kept by the media module as it records. */
#define G_LOG_DOMAIN "medsched-service"

#include <medsched/med-service.h>

#include <med-store-write.h>

gboolean
med_service_set_consent (MedStore *store, const MedServiceCtx *ctx,
    gint64 booking_id, gint64 party_id, gboolean given, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return med_store_in_centre (store, MED_STORE_OF_BOOKING, booking_id,
             ctx->centre_id, error)
      && med_store_set_consent (store, booking_id, party_id, given, ctx->actor,
          error);
}

gboolean
med_service_recording_access (MedStore *store, const MedServiceCtx *ctx,
    gint64 recording_id, const char *what, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL && what != NULL, FALSE);

  return med_store_in_centre (store, MED_STORE_OF_RECORDING, recording_id,
             ctx->centre_id, error)
      && med_store_recording_access (store, recording_id, what, ctx->actor,
          error);
}

gboolean
med_service_purge_recordings (MedStore *store, const MedServiceCtx *ctx,
    guint *n_purged, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL && n_purged != NULL,
      FALSE);

  return med_store_purge_recordings (store, ctx->actor, n_purged, error);
}
