/* med-service-case.c — a case's life before and beside its sessions:
 * intake (下单) with its dispatch (派单) in one transaction, dispatching
 * later, and the state changes made by hand (in session, settled, not
 * settled, referred, withdrawn). Scheduling moves a case through bookings
 * (med-service.c), never through a state change. */
#define G_LOG_DOMAIN "medsched-service"

#include <medsched/med-service.h>

#include <med-store-write.h>

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
  return med_store_set_case_status (store, case_id, MED_CASE_STATUS_DISPATCHED,
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
  return med_store_set_case_status (store, case_id, to, MED_DEPARTMENT_NONE,
      ctx->actor, error);
}
