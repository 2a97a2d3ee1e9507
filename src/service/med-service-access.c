/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-access.c — the one rule of who may see and act on a case or
 * a booking; every front end asks it (API, pages, the console's
 * WebSocket, recordings, join links and their revocation, case status
 * changes) instead of comparing ids itself.
 *
 * Every user belongs to one centre, and a province's centres share one
 * database, ids included: a case or booking of another centre is
 * MED_STORE_ERROR_NOT_FOUND, the answer for one that does not exist, so
 * that another centre's ids reveal nothing. Within their centre, admins
 * and clerks reach every case and booking. A mediator reaches a
 * booking while it is theirs and not cancelled, a past session included
 * (its recordings, its record); and a case while they hold such a booking
 * of it. A cancelled booking, or one moved to another mediator, opens
 * nothing: not the parties' names and phones, not the join links of the
 * case's other sessions. The store gives only the facts (how many live
 * bookings of a case name the mediator); the rule is here. */
#define G_LOG_DOMAIN "medsched-service"

#include <medsched/med-service.h>

static gboolean
refuse (GError **error, const char *what)
{
  g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_FORBIDDEN,
      "%s has no session with you as its mediator", what);
  return FALSE;
}

gboolean
med_service_may_access_case (MedStore *store, const MedUser *user,
    gint64 case_id, GError **error)
{
  gint n;

  g_return_val_if_fail (store != NULL && user != NULL, FALSE);

  if (!med_store_in_centre (store, MED_STORE_OF_CASE, case_id, user->centre_id,
          error))
    return FALSE;
  if (user->role != MED_ROLE_MEDIATOR)
    return TRUE;
  n = med_store_count_mediator_bookings (store, user->mediator_id, case_id,
      FALSE, error);
  if (n < 0)
    return FALSE;
  return n > 0 || refuse (error, "this case");
}

gboolean
med_service_may_access_booking (MedStore *store, const MedUser *user,
    const MedBooking *bk, GError **error)
{
  g_return_val_if_fail (store != NULL && user != NULL && bk != NULL, FALSE);

  if (!med_store_in_centre (store, MED_STORE_OF_BOOKING, bk->id,
          user->centre_id, error))
    return FALSE;
  if (user->role != MED_ROLE_MEDIATOR)
    return TRUE;
  if (bk->mediator_id == user->mediator_id
      && bk->status != MED_BOOKING_STATUS_CANCELLED)
    return TRUE;
  return refuse (error, "this session");
}

GPtrArray *
med_service_list_cases (MedStore *store, const MedUser *user, gint status,
    GError **error)
{
  g_autoptr (GPtrArray) cases = NULL;

  g_return_val_if_fail (store != NULL && user != NULL, NULL);

  cases = med_store_list_cases (store, user->centre_id, status, error);
  if (cases == NULL || user->role != MED_ROLE_MEDIATOR)
    return g_steal_pointer (&cases);
  for (guint i = cases->len; i > 0; i--) {
    MedCase *k = g_ptr_array_index (cases, i - 1);
    gint n = med_store_count_mediator_bookings (store, user->mediator_id, k->id,
        FALSE, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      g_ptr_array_remove_index (cases, i - 1);
  }
  return g_steal_pointer (&cases);
}
