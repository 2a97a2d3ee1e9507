/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-case.c — a case's life beside its sessions: intake (下单)
 * with its dispatch (派单) in one transaction, dispatching later, the state
 * changes made by hand (in session, settled, not settled, referred,
 * withdrawn; scheduling moves a case through bookings, never through a
 * state change), finding cases (with the access rule applied), and adding,
 * correcting and removing their parties.
 *
 * A party change is one transaction: the store writes it with its audit
 * row, then every session of the case still to come is checked again by
 * the scheduler against the changed parties (a party now attending by
 * video needs a room with a terminal; a new language may need an
 * interpreter; a new party may be busy elsewhere then), and the change is
 * rolled back when one no longer suits, with a message naming the
 * session and why. A party added to or removed from a case with sessions
 * to come is told, in the same transaction (service_tell_party: the
 * booking's SMS and reminder or the invite; the cancellation). */
#define G_LOG_DOMAIN "medsched-service"

#include "med-service-private.h"

gboolean
med_service_may_edit_parties (const MedCase *k, GError **error)
{
  g_return_val_if_fail (k != NULL, FALSE);

  if (k->status == MED_CASE_STATUS_IN_SESSION
      || med_case_status_is_closed (k->status)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "case %s is %s: its parties cannot be changed %s", k->number,
        med_case_status_to_string (k->status),
        k->status == MED_CASE_STATUS_IN_SESSION ? "during a session"
                                                : "once it is closed");
    return FALSE;
  }
  return TRUE;
}

/* Every session of the case still to come, checked against the parties
 * as they now are in the open transaction. */
static gboolean
recheck_sessions (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    GError **error)
{
  g_autoptr (GPtrArray) bookings
      = med_store_list_case_bookings (store, case_id, error);

  if (bookings == NULL)
    return FALSE;
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);
    g_auto (CaseContext) cc = { 0 };
    g_autoptr (GError) local = NULL;
    MedSlot slot = { 0 };
    gboolean ok;

    if (bk->status != MED_BOOKING_STATUS_CONFIRMED || bk->start <= ctx->now)
      continue;
    slot.start = bk->start;
    slot.end = bk->end;
    slot.room_id = bk->room_id;
    slot.mediator_id = bk->mediator_id;
    slot.interpreter_id = bk->interpreter_id;
    ok = med_service_load_case (store, ctx, case_id, bk->id, &cc, &local)
        && med_service_check_manual (&cc, &slot, &local);
    g_free (slot.explanation);
    g_clear_pointer (&slot.reasons, g_ptr_array_unref);
    if (!ok) {
      g_autofree char *when = med_time_format_local (bk->start,
          cc.centre ? cc.centre->zone : "Asia/Shanghai", "%Y-%m-%d %H:%M");

      g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
          "the change does not suit session %" G_GINT64_FORMAT " (%s): %s; "
          "move or cancel that session first",
          bk->id, when, local->message);
      return FALSE;
    }
  }
  return TRUE;
}

/* Loads the case and checks that its parties may change. */
static MedCase *
editable_case (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    GError **error)
{
  g_autoptr (MedCase) k = NULL;

  if (!med_store_in_centre (store, MED_STORE_OF_CASE, case_id, ctx->centre_id,
          error)
      || (k = med_store_get_case (store, case_id, error)) == NULL)
    return NULL;
  if (!med_service_may_edit_parties (k, error))
    return NULL;
  return g_steal_pointer (&k);
}

/* Commits a written party change that still suits every session to come,
 * with what the party added or removed (tell, may be NULL) is told. */
static gboolean
finish_edit (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    gboolean written, const MedParty *tell, gboolean added, GError **error)
{
  if (!written || !recheck_sessions (store, ctx, case_id, error)
      || (tell != NULL
          && !service_tell_party (store, ctx, case_id, tell, added, error))
      || !med_store_commit (store, error)) {
    med_store_rollback (store);
    return FALSE;
  }
  return TRUE;
}

gint64
med_service_add_party (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, const MedParty *p, GError **error)
{
  g_autoptr (MedCase) k = NULL;
  g_autoptr (MedParty) added = NULL;
  gint64 id = 0;

  g_return_val_if_fail (store != NULL && ctx != NULL && p != NULL, 0);
  if ((k = editable_case (store, ctx, case_id, error)) == NULL
      || !med_store_begin (store, error))
    return 0;
  id = med_store_add_party (store, case_id, p, ctx->actor, error);
  if (id != 0
      && (added = med_store_get_party (store, case_id, id, error)) == NULL)
    id = 0;
  return finish_edit (store, ctx, case_id, id != 0, added, TRUE, error) ? id
                                                                        : 0;
}

gboolean
med_service_update_party (MedStore *store, const MedServiceCtx *ctx,
    const MedParty *p, GError **error)
{
  g_autoptr (MedCase) k = NULL;

  g_return_val_if_fail (store != NULL && ctx != NULL && p != NULL, FALSE);
  if ((k = editable_case (store, ctx, p->case_id, error)) == NULL
      || !med_store_begin (store, error))
    return FALSE;
  return finish_edit (store, ctx, p->case_id,
      med_store_update_party (store, p, ctx->actor, error), NULL, FALSE, error);
}

gboolean
med_service_remove_party (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, gint64 party_id, GError **error)
{
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) parties = NULL;
  const MedParty *gone = NULL;

  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);
  if ((k = editable_case (store, ctx, case_id, error)) == NULL
      || (parties = med_store_list_parties (store, case_id, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < parties->len; i++) {
    if (((MedParty *) g_ptr_array_index (parties, i))->id == party_id)
      gone = g_ptr_array_index (parties, i);
  }
  if (gone != NULL && parties->len == 1) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE,
        "case %s keeps at least one party: add the right one before "
        "removing this one",
        k->number);
    return FALSE;
  }
  if (!med_store_begin (store, error))
    return FALSE;
  /* the party as it was is told of the sessions it leaves */
  return finish_edit (store, ctx, case_id,
      med_store_remove_party (store, case_id, party_id, ctx->actor, error),
      gone, FALSE, error);
}

GPtrArray *
med_service_find_cases (MedStore *store, const MedServiceCtx *ctx,
    const MedUser *user, const MedCaseQuery *q, guint offset, guint limit,
    guint *total, GError **error)
{
  MedCaseQuery mine;

  g_return_val_if_fail (store != NULL && ctx != NULL && user != NULL
          && q != NULL,
      NULL);
  mine = *q;
  /* the access rule (med-service-access.c): a mediator reaches a case
   * while they hold a confirmed session of it */
  if (user->role == MED_ROLE_MEDIATOR)
    mine.mediator_id = user->mediator_id;
  return med_store_search_cases (store, ctx->centre_id, &mine, offset, limit,
      total, error);
}

typedef struct
{
  const MedServiceCtx *ctx;
  MedCase kase;
  GPtrArray *parties;
  MedDepartment dispatch_to;
  gint64 id;
} Intake;

static gboolean
intake_txn (MedStore *store, gpointer data, GError **error)
{
  Intake *in = data;

  in->id = med_store_add_case (store, &in->kase, in->parties, in->ctx->actor,
      error);
  return in->id != 0
      && (in->dispatch_to == MED_DEPARTMENT_NONE
          || med_store_set_case_status (store, in->id,
              MED_CASE_STATUS_DISPATCHED, in->dispatch_to, in->ctx->actor,
              error));
}

gint64
med_service_intake (MedStore *store, const MedServiceCtx *ctx,
    const MedCase *kase, GPtrArray *parties, MedDepartment dispatch_to,
    GError **error)
{
  Intake in = { ctx, { 0 }, parties, dispatch_to, 0 };

  g_return_val_if_fail (store != NULL && ctx != NULL && kase != NULL, 0);

  in.kase = *kase;
  in.kase.centre_id = ctx->centre_id;
  /* a lost connection before COMMIT: once more on a fresh one */
  return med_store_run (store, intake_txn, &in, error) ? in.id : 0;
}

gboolean
med_service_dispatch (MedStore *store, const MedServiceCtx *ctx, gint64 case_id,
    MedDepartment department, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  if (department == MED_DEPARTMENT_NONE) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "dispatching a case needs a department");
    return FALSE;
  }
  return med_store_in_centre (store, MED_STORE_OF_CASE, case_id, ctx->centre_id,
             error)
      && med_store_set_case_status (store, case_id, MED_CASE_STATUS_DISPATCHED,
          department, ctx->actor, error);
}

gboolean
med_service_set_case_status (MedStore *store, const MedServiceCtx *ctx,
    gint64 case_id, MedCaseStatus to, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  /* Dispatching names a department and scheduling goes through bookings:
   * neither is a plain status change. */
  if (to == MED_CASE_STATUS_DISPATCHED || to == MED_CASE_STATUS_SCHEDULED
      || to == MED_CASE_STATUS_INTAKE) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TRANSITION,
        "status: use dispatch or a booking for %s",
        med_case_status_to_string (to));
    return FALSE;
  }
  return med_store_in_centre (store, MED_STORE_OF_CASE, case_id, ctx->centre_id,
             error)
      && med_store_set_case_status (store, case_id, to, MED_DEPARTMENT_NONE,
          ctx->actor, error);
}
