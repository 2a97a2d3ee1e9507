/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-auth.c — who may use the server, changed: users, their API
 * tokens, web sessions at login and logout, calendar-feed capability links
 * and the revocation of a party's join link. Secrets arrive hashed
 * (med_http_hash_secret); passwords as their PBKDF2 string.
 *
 * A user belongs to ctx's centre, and a token, a session, a feed link or
 * a revocation is made only for a user, a room, mediator, case or booking
 * of ctx's centre (MED_STORE_ERROR_NOT_FOUND otherwise): in a province's
 * database one centre's `serve` or `--centre` never reaches another's. */
#define G_LOG_DOMAIN "medsched-service"

#include <medsched/med-i18n.h>
#include <medsched/med-service.h>

#include <med-store-write.h>

gint64
med_service_add_user (MedStore *store, const MedServiceCtx *ctx,
    const MedUser *user, GError **error)
{
  MedUser u;

  g_return_val_if_fail (store != NULL && ctx != NULL && user != NULL, 0);

  u = *user;
  u.centre_id = ctx->centre_id;
  return med_store_add_user (store, &u, ctx->actor, error);
}

/* Whether user_id is one of ctx's centre's users. */
static gboolean
user_here (MedStore *store, const MedServiceCtx *ctx, gint64 user_id,
    GError **error)
{
  return med_store_in_centre (store, MED_STORE_OF_USER, user_id, ctx->centre_id,
      error);
}

gint64
med_service_add_token (MedStore *store, const MedServiceCtx *ctx,
    gint64 user_id, const char *hash, MedTime expires_at, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, 0);

  if (!user_here (store, ctx, user_id, error))
    return 0;
  return med_store_add_token (store, user_id, hash, expires_at, ctx->actor,
      error);
}

gboolean
med_service_revoke_tokens (MedStore *store, const MedServiceCtx *ctx,
    gint64 user_id, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return user_here (store, ctx, user_id, error)
      && med_store_revoke_tokens (store, user_id, ctx->actor, error);
}

gboolean
med_service_start_session (MedStore *store, const MedServiceCtx *ctx,
    const char *hash, gint64 user_id, const char *csrf, MedTime expires_at,
    GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return user_here (store, ctx, user_id, error)
      && med_store_add_session (store, hash, user_id, csrf, expires_at, error);
}

gboolean
med_service_end_session (MedStore *store, const MedServiceCtx *ctx,
    const char *hash, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return med_store_delete_session (store, hash, error);
}

gint64
med_service_add_feed_link (MedStore *store, const MedServiceCtx *ctx,
    MedFeedLinkKind kind, gint64 ref_id, const char *hash, MedTime expires_at,
    GError **error)
{
  static const MedStoreOwned owner[] = {
    [MED_FEED_LINK_ROOM] = MED_STORE_OF_ROOM,
    [MED_FEED_LINK_MEDIATOR] = MED_STORE_OF_MEDIATOR,
    [MED_FEED_LINK_CASE] = MED_STORE_OF_CASE,
  };
  MedLang lang;

  g_return_val_if_fail (store != NULL && ctx != NULL, 0);

  /* a link shows what its centre holds, or the centre itself */
  if (kind == MED_FEED_LINK_CENTRE && ref_id != ctx->centre_id) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no centre %" G_GINT64_FORMAT " here (this is centre %" G_GINT64_FORMAT
        ")",
        ref_id, ctx->centre_id);
    return 0;
  }
  if (kind < G_N_ELEMENTS (owner) && kind != MED_FEED_LINK_CENTRE
      && !med_store_in_centre (store, owner[kind], ref_id, ctx->centre_id,
          error))
    return 0;
  /* the texts in the language of whoever makes it, stored as our code */
  return med_store_add_feed_link (store, kind, ref_id, hash, expires_at,
      ctx->lang != NULL && med_lang_from_code (ctx->lang, &lang)
          ? med_lang_code (lang)
          : "",
      ctx->actor, error);
}

gboolean
med_service_revoke_feed_link (MedStore *store, const MedServiceCtx *ctx,
    gint64 link_id, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return med_store_in_centre (store, MED_STORE_OF_FEED_LINK, link_id,
             ctx->centre_id, error)
      && med_store_revoke_feed_link (store, link_id, ctx->actor, error);
}
