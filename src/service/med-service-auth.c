/* med-service-auth.c — who may use the server, changed: users, their API
 * tokens, web sessions at login and logout, calendar-feed capability links
 * and the revocation of a party's join link. Secrets arrive hashed
 * (med_http_hash_secret); passwords as their PBKDF2 string. */
#define G_LOG_DOMAIN "medsched-service"

#include <medsched/med-i18n.h>
#include <medsched/med-service.h>

#include <med-store-write.h>

gint64
med_service_add_user (MedStore *store, const MedServiceCtx *ctx,
    const MedUser *user, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL && user != NULL, 0);

  return med_store_add_user (store, user, ctx->actor, error);
}

gint64
med_service_add_token (MedStore *store, const MedServiceCtx *ctx,
    gint64 user_id, const char *hash, MedTime expires_at, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, 0);

  return med_store_add_token (store, user_id, hash, expires_at, ctx->actor,
      error);
}

gboolean
med_service_revoke_tokens (MedStore *store, const MedServiceCtx *ctx,
    gint64 user_id, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return med_store_revoke_tokens (store, user_id, ctx->actor, error);
}

gboolean
med_service_start_session (MedStore *store, const MedServiceCtx *ctx,
    const char *hash, gint64 user_id, const char *csrf, MedTime expires_at,
    GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return med_store_add_session (store, hash, user_id, csrf, expires_at, error);
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
  MedLang lang;

  g_return_val_if_fail (store != NULL && ctx != NULL, 0);

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

  return med_store_revoke_feed_link (store, link_id, ctx->actor, error);
}
