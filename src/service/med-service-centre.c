/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-centre.c — changing a centre and what it has: creating it
 * with its holiday notices (the first of a store, or another centre of a
 * province's database), importing notices and whole documents, rooms,
 * mediators and interpreters (with their e-mail addresses in the same
 * transaction), leave, imported busy time, and restoring a backup.
 *
 * The front ends parse files and arguments and hand over what they parsed;
 * these functions decide what goes into the store and in which
 * transaction. A row of a centre goes to ctx->centre_id whatever the
 * struct passed says. */
#define G_LOG_DOMAIN "medsched-service"

#include <medsched/med-service.h>

#include <med-store-write.h>

/* A centre with its contact and notices, all or nothing: the store's first
 * (init) or a further one of a province's database (centre add). */
static gint64
add_centre (MedStore *store, const MedServiceCtx *ctx, const MedCentre *centre,
    const char *public_url, const char *phone, GPtrArray *notices,
    gboolean first, GError **error)
{
  g_autoptr (GPtrArray) existing = NULL;
  gint64 id = 0;

  if (!med_store_begin (store, error))
    return 0;
  if ((existing = med_store_list_centres (store, error)) == NULL)
    goto fail;
  if (first && existing->len > 0) {
    MedCentre *c = g_ptr_array_index (existing, 0);

    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "the store already holds centre %" G_GINT64_FORMAT " “%s”; add "
        "another with medsched centre add",
        c->id, c->name);
    goto fail;
  }
  if (!first && existing->len == 0) {
    g_set_error_literal (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "the store holds no centre yet; medsched init makes the first");
    goto fail;
  }
  /* staff tell centres apart by name: two of one name is a mistake */
  for (guint i = 0; i < existing->len; i++) {
    MedCentre *c = g_ptr_array_index (existing, i);

    if (g_strcmp0 (c->name, centre->name) == 0) {
      g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
          "centre %" G_GINT64_FORMAT " is already named “%s”", c->id, c->name);
      goto fail;
    }
  }
  id = med_store_add_centre (store, centre, ctx->actor, error);
  if (id == 0
      || (public_url != NULL
          && !med_store_set_public_url (store, id, public_url, ctx->actor,
              error))
      || (phone != NULL
          && !med_store_set_centre_phone (store, id, phone, ctx->actor, error)))
    goto fail;
  for (guint i = 0; notices != NULL && i < notices->len; i++) {
    MedNotice *n = g_ptr_array_index (notices, i);

    if (!med_store_import_notice (store, n, ctx->actor, error)) {
      g_prefix_error (error, "notice %s: ", n->id);
      goto fail;
    }
  }
  if (med_store_commit (store, error))
    return id;
fail:
  med_store_rollback (store);
  return 0;
}

gint64
med_service_init_centre (MedStore *store, const MedServiceCtx *ctx,
    const MedCentre *centre, const char *public_url, const char *phone,
    GPtrArray *notices, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL && centre != NULL, 0);

  return add_centre (store, ctx, centre, public_url, phone, notices, TRUE,
      error);
}

gint64
med_service_add_centre (MedStore *store, const MedServiceCtx *ctx,
    const MedCentre *centre, const char *public_url, const char *phone,
    GPtrArray *notices, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL && centre != NULL, 0);

  return add_centre (store, ctx, centre, public_url, phone, notices, FALSE,
      error);
}

gboolean
med_service_set_centre_contact (MedStore *store, const MedServiceCtx *ctx,
    const char *phone, const char *public_url, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  if (!med_store_begin (store, error))
    return FALSE;
  if ((phone == NULL
          || med_store_set_centre_phone (store, ctx->centre_id, phone,
              ctx->actor, error))
      && (public_url == NULL
          || med_store_set_public_url (store, ctx->centre_id, public_url,
              ctx->actor, error))
      && med_store_commit (store, error))
    return TRUE;
  med_store_rollback (store);
  return FALSE;
}

gboolean
med_service_import_notices (MedStore *store, const MedServiceCtx *ctx,
    GPtrArray *notices, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL && notices != NULL, FALSE);

  if (!med_store_begin (store, error))
    return FALSE;
  for (guint i = 0; i < notices->len; i++) {
    MedNotice *n = g_ptr_array_index (notices, i);

    if (!med_store_import_notice (store, n, ctx->actor, error)) {
      g_prefix_error (error, "notice %s: ", n->id);
      med_store_rollback (store);
      return FALSE;
    }
  }
  if (med_store_commit (store, error))
    return TRUE;
  med_store_rollback (store);
  return FALSE;
}

gboolean
med_service_import_doc (MedStore *store, const MedServiceCtx *ctx,
    const MedImportDoc *doc, guint *n_rooms, guint *n_mediators,
    guint *n_interpreters, guint *n_cases, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL && doc != NULL, FALSE);

  return med_store_import_doc (store, ctx->centre_id, doc, ctx->actor, n_rooms,
      n_mediators, n_interpreters, n_cases, error);
}

gint64
med_service_add_room (MedStore *store, const MedServiceCtx *ctx,
    const MedRoom *room, GError **error)
{
  MedRoom r;

  g_return_val_if_fail (store != NULL && ctx != NULL && room != NULL, 0);

  r = *room;
  r.centre_id = ctx->centre_id;
  return med_store_add_room (store, &r, ctx->actor, error);
}

/* Adds a person with add (a store function taking the struct), then its
 * address, in one transaction. */
static gint64
add_with_email (MedStore *store, const MedServiceCtx *ctx, MedStorePerson who,
    gint64 (*add) (MedStore *, gconstpointer, const char *, GError **),
    gconstpointer person, const char *email, GError **error)
{
  gint64 id;

  if (!med_store_begin (store, error))
    return 0;
  id = add (store, person, ctx->actor, error);
  if (id != 0
      && (email == NULL || *email == '\0'
          || med_store_set_email (store, who, id, email, ctx->actor, error))
      && med_store_commit (store, error))
    return id;
  med_store_rollback (store);
  return 0;
}

static gint64
add_mediator (MedStore *store, gconstpointer m, const char *actor,
    GError **error)
{
  return med_store_add_mediator (store, m, actor, error);
}

static gint64
add_interpreter (MedStore *store, gconstpointer i, const char *actor,
    GError **error)
{
  return med_store_add_interpreter (store, i, actor, error);
}

gint64
med_service_add_mediator (MedStore *store, const MedServiceCtx *ctx,
    const MedMediator *mediator, const char *email, GError **error)
{
  MedMediator m;

  g_return_val_if_fail (store != NULL && ctx != NULL && mediator != NULL, 0);

  m = *mediator;
  m.centre_id = ctx->centre_id;
  return add_with_email (store, ctx, MED_STORE_PERSON_MEDIATOR, add_mediator,
      &m, email, error);
}

gint64
med_service_add_interpreter (MedStore *store, const MedServiceCtx *ctx,
    const MedInterpreter *interpreter, const char *email, GError **error)
{
  MedInterpreter in;

  g_return_val_if_fail (store != NULL && ctx != NULL && interpreter != NULL, 0);

  in = *interpreter;
  in.centre_id = ctx->centre_id;
  return add_with_email (store, ctx, MED_STORE_PERSON_INTERPRETER,
      add_interpreter, &in, email, error);
}

/* Whether the mediator or interpreter id works in ctx's centre. */
static gboolean
person_here (MedStore *store, const MedServiceCtx *ctx, MedStorePerson who,
    gint64 id, GError **error)
{
  return med_store_in_centre (store,
      who == MED_STORE_PERSON_MEDIATOR ? MED_STORE_OF_MEDIATOR
                                       : MED_STORE_OF_INTERPRETER,
      id, ctx->centre_id, error);
}

gboolean
med_service_add_leave (MedStore *store, const MedServiceCtx *ctx,
    gint64 mediator_id, MedTime start, MedTime end, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return person_here (store, ctx, MED_STORE_PERSON_MEDIATOR, mediator_id, error)
      && med_store_add_leave (store, mediator_id, start, end, ctx->actor,
          error);
}

gboolean
med_service_set_email (MedStore *store, const MedServiceCtx *ctx,
    MedStorePerson who, gint64 id, const char *email, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return person_here (store, ctx, who, id, error)
      && med_store_set_email (store, who, id, email, ctx->actor, error);
}

gboolean
med_service_replace_busy (MedStore *store, const MedServiceCtx *ctx,
    MedStorePerson who, gint64 id, const char *source, GArray *busy,
    GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return person_here (store, ctx, who, id, error)
      && med_store_replace_external_busy (store, who, id, source, busy,
          ctx->actor, error);
}

gboolean
med_service_store_copy (const char *from, const char *to, MedStoreCopy *out,
    GError **error)
{
  return med_store_copy (from, to, out, error);
}

gboolean
med_service_restore (const char *backup, const char *target,
    const MedAuditAnchor *anchor, MedTime now, MedStoreRestore *out,
    GError **error)
{
  /* a backup is a SQLite file and replaces one; into PostgreSQL it goes
   * with store copy */
  if (!med_store_url_is_file (target)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "restore replaces a SQLite file; to put a backup into PostgreSQL, "
        "copy it into an empty database with medsched store copy");
    return FALSE;
  }
  return med_store_restore (backup,
      g_str_has_prefix (target, "sqlite:") ? target + 7 : target, anchor, now,
      out, error);
}
