/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-booking.c — the atomic booking. Booking, rescheduling and
 * cancelling a session each run in one write transaction (BEGIN IMMEDIATE,
 * or a savepoint inside med_store_begin) that re-reads every resource it
 * takes and refuses any overlap with a CONFLICT naming the resource: the
 * room with its setup/cleanup buffers (block_start/block_end), the
 * mediator, the interpreter, the case's other sessions, the sessions of
 * other cases that share a party (by contact), the mediator's leave and
 * daily cap. The schema's triggers refuse the same overlaps again for any
 * writer. Also here: reading bookings, the booking note (a text-only
 * edit that leaves SEQUENCE alone), the scheduler's snapshot, the parties'
 * busy times and the store-wide overlap scan. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <string.h>

/* Everything one booking takes, read inside the transaction. */
typedef struct
{
  gint64 exclude_id; /* the booking being moved, or 0 */
  gint64 case_id;
  gint64 centre_id;
  MedCaseStatus case_status;
  char *case_number;
  char *zone;
  gint64 room_id;
  char *room_name;
  gint setup_minutes;
  gint cleanup_minutes;
  gint64 mediator_id;
  char *mediator_name;
  gint daily_cap;
  gint64 interpreter_id;
  char *interpreter_name;
  MedTime start;
  MedTime end;
  MedTime block_start;
  MedTime block_end;
} Plan;

static void
plan_clear (Plan *p)
{
  g_free (p->case_number);
  g_free (p->zone);
  g_free (p->room_name);
  g_free (p->mediator_name);
  g_free (p->interpreter_name);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Plan, plan_clear)

#define BOOKING_COLUMNS                                                        \
  "id, case_id, room_id, mediator_id, interpreter_id, start_at, end_at, "      \
  "mode, status, uid, sequence, updated_at"

static gboolean
read_booking (StoreStmt *st, MedBooking **out, GError **error)
{
  g_autoptr (MedBooking) b = med_booking_new ();

  b->id = store_column_int64 (st, 0);
  b->case_id = store_column_int64 (st, 1);
  b->room_id = store_column_int64 (st, 2);
  b->mediator_id = store_column_int64 (st, 3);
  b->interpreter_id = store_column_int64 (st, 4); /* NULL reads as 0 */
  b->start = store_column_int64 (st, 5);
  b->end = store_column_int64 (st, 6);
  STORE_READ_ENUM (med_booking_mode_from_string, st, 7, &b->mode, error);
  STORE_READ_ENUM (med_booking_status_from_string, st, 8, &b->status, error);
  b->uid = store_column_text (st, 9);
  b->sequence = store_column_int (st, 10);
  b->updated_at = store_column_int64 (st, 11);
  *out = g_steal_pointer (&b);
  return TRUE;
}

/* Reads a booking list from a prepared, bound statement. */
static GPtrArray *
read_bookings (MedStore *store, StoreStmt *st, GError **error)
{
  g_autoptr (GPtrArray) list
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_booking_free);
  int rc;

  while ((rc = store_step (st)) == STORE_ROW) {
    MedBooking *b = NULL;

    if (!read_booking (st, &b, error))
      return NULL;
    g_ptr_array_add (list, b);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing bookings", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

MedBooking *
med_store_get_booking (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  MedBooking *b = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT " BOOKING_COLUMNS " FROM booking WHERE "
      "id = ?1",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    read_booking (st, &b, error);
  else if (rc == STORE_DONE)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no booking %" G_GINT64_FORMAT, id);
  else
    store_set_error (store, "reading booking", error);
  return b;
}

GPtrArray *
med_store_list_bookings (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, gboolean include_cancelled, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT " BOOKING_COLUMNS " FROM booking WHERE "
      "room_id IN (SELECT id FROM room WHERE centre_id = ?1) AND "
      "end_at > ?2 AND start_at < ?3 AND (?4 OR status = 'confirmed') "
      "ORDER BY start_at, id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  store_bind_int64 (st, 2, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 3, to != 0 ? to : STORE_TIME_MAX);
  store_bind_int (st, 4, include_cancelled ? 1 : 0);
  return read_bookings (store, st, error);
}

GPtrArray *
med_store_list_case_bookings (MedStore *store, gint64 case_id, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT " BOOKING_COLUMNS " FROM booking WHERE "
      "case_id = ?1 ORDER BY start_at, id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, case_id);
  return read_bookings (store, st, error);
}

MedBooking *
med_store_find_booking_uid (MedStore *store, const char *uid, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  MedBooking *b = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && uid != NULL, NULL);

  if (!store_check_text (uid, 255, FALSE, FALSE, "booking UID", error))
    return NULL;
  st = store_stmt (store,
      "SELECT " BOOKING_COLUMNS " FROM booking WHERE "
      "uid = ?1",
      error);
  if (st == NULL)
    return NULL;
  store_bind_text (st, 1, uid);
  rc = store_step (st);
  if (rc == STORE_ROW)
    read_booking (st, &b, error);
  else if (rc == STORE_DONE)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no booking with UID %s", uid);
  else
    store_set_error (store, "reading booking", error);
  return b;
}

void
med_booking_extra_free (MedBookingExtra *x)
{
  if (x == NULL)
    return;
  g_free (x->note);
  g_free (x);
}

MedBookingExtra *
med_store_get_booking_extra (MedStore *store, gint64 booking_id, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  MedBookingExtra *x;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT created_at, note FROM booking WHERE "
      "id = ?1",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, booking_id);
  rc = store_step (st);
  if (rc == STORE_DONE) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no booking %" G_GINT64_FORMAT, booking_id);
    return NULL;
  }
  if (rc != STORE_ROW) {
    store_set_error (store, "reading booking", error);
    return NULL;
  }
  x = g_new0 (MedBookingExtra, 1);
  x->booking_id = booking_id;
  x->created_at = store_column_int64 (st, 0);
  x->note = store_column_text (st, 1);
  return x;
}

gboolean
med_store_set_booking_note (MedStore *store, gint64 booking_id,
    const char *note, const char *actor, GError **error)
{
  g_autoptr (MedBooking) cur = NULL;
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (store != NULL, FALSE);

  if (note == NULL)
    note = "";
  if (!store_check_actor (actor, error)
      || !store_check_text (note, MED_MAX_TEXT_BYTES, TRUE, TRUE,
          "booking note", error)
      || !store_txn_begin (store, &txn, error))
    goto out;
  cur = med_store_get_booking (store, booking_id, error);
  if (cur == NULL)
    goto out;
  if (cur->status != MED_BOOKING_STATUS_CONFIRMED) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "booking %" G_GINT64_FORMAT " is cancelled", booking_id);
    goto out;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE booking SET "
        "note = ?2, updated_at = ?3 WHERE id = ?1",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, booking_id);
    store_bind_text (st, 2, note);
    store_bind_int64 (st, 3, store_now (store));
    if (!store_step_done (store, st, "changing the note", error))
      goto out;
  }
  /* The note is free text: the audit row says only how long it is. */
  detail = g_string_new ("{");
  store_detail_int (detail, "case", cur->case_id);
  store_detail_int (detail, "note_bytes", (gint64) strlen (note));
  store_detail_int (detail, "sequence", cur->sequence);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "booking.note", "booking", booking_id,
           detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* ---- loading what a booking takes -------------------------------------- */

/* Reads "centre_id, name, a, b" of one resource and checks it belongs to
 * the case's centre. */
static gboolean
load_resource (MedStore *store, const char *sql, const char *what, gint64 id,
    gint64 centre_id, char **name, gint *a, gint *b, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  int rc;

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_DONE) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no %s %" G_GINT64_FORMAT, what, id);
    return FALSE;
  }
  if (rc != STORE_ROW) {
    store_set_error (store, "reading the store", error);
    return FALSE;
  }
  *name = store_column_text (st, 1);
  if (store_column_int64 (st, 0) != centre_id) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "%s %s belongs to another centre than the case", what, *name);
    return FALSE;
  }
  if (a != NULL)
    *a = store_column_int (st, 2);
  if (b != NULL)
    *b = store_column_int (st, 3);
  return TRUE;
}

static gboolean
check_times (MedTime start, MedTime end, GError **error)
{
  if (start <= 0 || end <= start
      || end - start > MED_STORE_MAX_SESSION_SECONDS) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a session must end after it starts and last at most 24 hours");
    return FALSE;
  }
  return TRUE;
}

/* Fills the plan from ids and times already set in it. */
static gboolean
load_plan (MedStore *store, Plan *p, GError **error)
{
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT centre_id, status, "
        "number FROM mcase WHERE id = ?1",
        error);
    int rc;

    if (st == NULL)
      return FALSE;
    store_bind_int64 (st, 1, p->case_id);
    rc = store_step (st);
    if (rc == STORE_DONE) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
          "no case %" G_GINT64_FORMAT, p->case_id);
      return FALSE;
    }
    if (rc != STORE_ROW) {
      store_set_error (store, "reading case", error);
      return FALSE;
    }
    p->centre_id = store_column_int64 (st, 0);
    STORE_READ_ENUM (med_case_status_from_string, st, 1, &p->case_status,
        error);
    p->case_number = store_column_text (st, 2);
  }
  p->zone = store_centre_zone (store, p->centre_id, error);
  if (p->zone == NULL
      || !load_resource (store,
          "SELECT centre_id, name, setup_minutes, "
          "cleanup_minutes FROM room WHERE id = ?1",
          "room", p->room_id, p->centre_id, &p->room_name, &p->setup_minutes,
          &p->cleanup_minutes, error)
      || !load_resource (store,
          "SELECT centre_id, name, daily_cap, 0 FROM "
          "mediator WHERE id = ?1",
          "mediator", p->mediator_id, p->centre_id, &p->mediator_name,
          &p->daily_cap, NULL, error))
    return FALSE;
  if (p->interpreter_id != 0
      && !load_resource (store,
          "SELECT centre_id, name, 0, 0 FROM interpreter "
          "WHERE id = ?1",
          "interpreter", p->interpreter_id, p->centre_id, &p->interpreter_name,
          NULL, NULL, error))
    return FALSE;
  p->block_start = p->start - (MedTime) p->setup_minutes * 60;
  p->block_end = p->end + (MedTime) p->cleanup_minutes * 60;
  return TRUE;
}

/* ---- the re-checks ----------------------------------------------------- */

/* "2026-12-07 09:00–10:00" in the centre's zone. (transfer full) */
static char *
format_span (const char *zone, MedTime start, MedTime end)
{
  g_autofree char *a = med_time_format_local (start, zone, "%Y-%m-%d %H:%M");
  g_autofree char *a_day = med_time_format_local (start, zone, "%Y-%m-%d");
  g_autofree char *b_day = med_time_format_local (end, zone, "%Y-%m-%d");
  g_autofree char *b = med_time_format_local (end, zone,
      g_strcmp0 (a_day, b_day) == 0 ? "%H:%M" : "%Y-%m-%d %H:%M");

  return g_strdup_printf ("%s–%s", a, b);
}

typedef struct
{
  gint64 id;
  MedTime start;
  MedTime end;
} Clash;

/* Runs one overlap query. Every such query takes ?1 = resource id,
 * ?2 = booking to ignore, ?3 = end of the interval and, when it has them,
 * ?4 = its start and ?5 = a lower bound on the other row's start; it
 * selects id, start_at, end_at and the end that counts for the overlap
 * (block_end for rooms) of one candidate, which clashes when that end is
 * after start. */
static gboolean
find_clash (MedStore *store, const char *sql, gint64 resource_id,
    gint64 exclude_id, MedTime start, MedTime end, Clash *clash,
    gboolean *found, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  int rc;

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, resource_id);
  store_bind_int64 (st, 2, exclude_id);
  store_bind_int64 (st, 3, end);
  if (store_param_count (st) >= 5) {
    store_bind_int64 (st, 4, start);
    store_bind_int64 (st, 5, start - MED_STORE_MAX_BLOCK_SECONDS);
  }
  rc = store_step (st);
  *found = rc == STORE_ROW && store_column_int64 (st, 3) > start;
  if (*found) {
    clash->id = store_column_int64 (st, 0);
    clash->start = store_column_int64 (st, 1);
    clash->end = store_column_int64 (st, 2);
    return TRUE;
  }
  if (rc == STORE_ROW || rc == STORE_DONE)
    return TRUE;
  store_set_error (store, "checking for overlaps", error);
  return FALSE;
}

/* A clash with booking c of what conflict names (kind, id, name): the
 * English message and the structured conflict. */
static void
set_conflict (GError **error, const Plan *p, MedStoreConflict *conflict,
    const char *subject, const Clash *c, const char *tail)
{
  g_autofree char *span = format_span (p->zone, c->start, c->end);

  conflict->booking_id = c->id;
  conflict->start = c->start;
  conflict->end = c->end;
  store_set_conflict (error, conflict,
      "%s is already booked %s (booking %" G_GINT64_FORMAT ")%s", subject, span,
      c->id, tail ? tail : "");
}

static gboolean
check_day_cap (MedStore *store, const Plan *p, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GError *local = NULL;
  MedTime day_start, day_end;
  gint y, m, d;
  gint64 n;
  int rc;

  if (!med_workcal_local_date (p->zone, p->start, &y, &m, &d, &local)
      || !med_workcal_local_to_utc (p->zone, y, m, d, 0, &day_start, &local)
      || !med_workcal_local_to_utc (p->zone, y, m, d, 24 * 60, &day_end,
          &local))
    return store_propagate_invalid (error, local);
  st = store_stmt (store,
      "SELECT count(*) FROM booking WHERE "
      "mediator_id = ?1 AND status = 'confirmed' AND id <> ?2 AND "
      "start_at >= ?3 AND start_at < ?4",
      error);
  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, p->mediator_id);
  store_bind_int64 (st, 2, p->exclude_id);
  store_bind_int64 (st, 3, day_start);
  store_bind_int64 (st, 4, day_end);
  rc = store_step (st);
  if (rc != STORE_ROW) {
    store_set_error (store, "counting sessions", error);
    return FALSE;
  }
  n = store_column_int64 (st, 0);
  if (n >= p->daily_cap) {
    MedStoreConflict c
        = { MED_CONFLICT_DAILY_CAP, p->mediator_id, p->mediator_name, 0,
            day_start, day_end, FALSE, (gint) MIN (n, G_MAXINT), p->daily_cap };

    store_set_conflict (error, &c,
        "mediator %s already has %" G_GINT64_FORMAT " sessions on "
        "%04d-%02d-%02d (daily cap %d)",
        p->mediator_name, n, y, m, d, p->daily_cap);
    return FALSE;
  }
  return TRUE;
}

/* Every resource of the plan, against confirmed bookings other than
 * p->exclude_id. The first clash found fails with CONFLICT.
 *
 * The confirmed bookings of one room (by block), mediator, interpreter or
 * case never overlap each other (the schema's triggers see to it). Of
 * such disjoint intervals, if any overlaps [start, end), so does the one
 * that starts last before end: so each of these checks is one index probe
 * (ORDER BY … DESC LIMIT 1) however many bookings the resource has. */
static gboolean
check_plan (MedStore *store, const Plan *p, GError **error)
{
  g_autofree char *subject = NULL;
  Clash c;
  gboolean found = FALSE;

  /* Room: blocks (session plus setup and cleanup) must not touch. */
  if (!find_clash (store,
          "SELECT id, start_at, end_at, block_end FROM "
          "booking WHERE room_id = ?1 AND status = 'confirmed' AND "
          "id <> ?2 AND block_start < ?3 ORDER BY block_start DESC LIMIT 1",
          p->room_id, p->exclude_id, p->block_start, p->block_end, &c, &found,
          error))
    return FALSE;
  if (found) {
    gboolean buffer_only = !(c.start < p->end && c.end > p->start);
    g_autofree char *tail = buffer_only
        ? g_strdup_printf ("; the room needs %d min setup and %d min cleanup "
                           "around each session",
            p->setup_minutes, p->cleanup_minutes)
        : NULL;

    MedStoreConflict k = { MED_CONFLICT_ROOM, p->room_id, p->room_name };

    k.buffer = buffer_only;
    subject = g_strdup_printf ("room %s", p->room_name);
    set_conflict (error, p, &k, subject, &c, tail);
    return FALSE;
  }

  if (!find_clash (store,
          "SELECT id, start_at, end_at, end_at FROM "
          "booking WHERE mediator_id = ?1 AND status = 'confirmed' AND "
          "id <> ?2 AND start_at < ?3 ORDER BY start_at DESC LIMIT 1",
          p->mediator_id, p->exclude_id, p->start, p->end, &c, &found, error))
    return FALSE;
  if (found) {
    MedStoreConflict k
        = { MED_CONFLICT_MEDIATOR, p->mediator_id, p->mediator_name };

    subject = g_strdup_printf ("mediator %s", p->mediator_name);
    set_conflict (error, p, &k, subject, &c, NULL);
    return FALSE;
  }

  if (p->interpreter_id != 0) {
    if (!find_clash (store,
            "SELECT id, start_at, end_at, end_at FROM "
            "booking WHERE interpreter_id = ?1 AND status = 'confirmed' AND "
            "id <> ?2 AND start_at < ?3 ORDER BY start_at DESC LIMIT 1",
            p->interpreter_id, p->exclude_id, p->start, p->end, &c, &found,
            error))
      return FALSE;
    if (found) {
      MedStoreConflict k = { MED_CONFLICT_INTERPRETER, p->interpreter_id,
        p->interpreter_name };

      subject = g_strdup_printf ("interpreter %s", p->interpreter_name);
      set_conflict (error, p, &k, subject, &c, NULL);
      return FALSE;
    }
  }

  if (!find_clash (store,
          "SELECT id, start_at, end_at, end_at FROM "
          "booking WHERE case_id = ?1 AND status = 'confirmed' AND "
          "id <> ?2 AND start_at < ?3 ORDER BY start_at DESC LIMIT 1",
          p->case_id, p->exclude_id, p->start, p->end, &c, &found, error))
    return FALSE;
  if (found) {
    MedStoreConflict k = { MED_CONFLICT_CASE, p->case_id, p->case_number };

    subject = g_strdup_printf ("case %s", p->case_number);
    set_conflict (error, p, &k, subject, &c, NULL);
    return FALSE;
  }

  /* Parties: the same person (same contact) in another case. These
   * bookings belong to several cases and may overlap each other, so this
   * is a bounded range, not one probe. CROSS JOIN fixes the join order:
   * the case's parties, their namesakes by contact, their bookings.
   * Names and contacts stay out of the message. */
  if (!find_clash (store,
          "SELECT b.id, b.start_at, b.end_at, b.end_at "
          "FROM party p1 CROSS JOIN party p2 CROSS JOIN booking b "
          "WHERE p1.case_id = ?1 AND p1.contact <> '' AND "
          "p1.removed_at = 0 AND p2.removed_at = 0 AND "
          "p2.contact = p1.contact AND p2.contact <> '' AND "
          "p2.case_id <> p1.case_id AND b.case_id = p2.case_id AND "
          "b.status = 'confirmed' AND b.id <> ?2 AND b.start_at < ?3 AND "
          "b.end_at > ?4 AND b.start_at > ?5 LIMIT 1",
          p->case_id, p->exclude_id, p->start, p->end, &c, &found, error))
    return FALSE;
  if (found) {
    MedStoreConflict k = { MED_CONFLICT_PARTY, p->case_id, p->case_number };

    subject = g_strdup_printf ("a party of case %s", p->case_number);
    set_conflict (error, p, &k, subject, &c, " in another case");
    return FALSE;
  }

  /* Leave: any overlap (leave may be long, so no lower bound here). */
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT start_at, end_at "
        "FROM mediator_leave WHERE mediator_id = ?1 AND start_at < ?2 AND "
        "end_at > ?3 ORDER BY start_at LIMIT 1",
        error);
    int rc;

    if (st == NULL)
      return FALSE;
    store_bind_int64 (st, 1, p->mediator_id);
    store_bind_int64 (st, 2, p->end);
    store_bind_int64 (st, 3, p->start);
    rc = store_step (st);
    if (rc == STORE_ROW) {
      g_autofree char *span = format_span (p->zone, store_column_int64 (st, 0),
          store_column_int64 (st, 1));
      MedStoreConflict k
          = { MED_CONFLICT_LEAVE, p->mediator_id, p->mediator_name, 0,
              store_column_int64 (st, 0), store_column_int64 (st, 1) };

      store_set_conflict (error, &k, "mediator %s is on leave %s",
          p->mediator_name, span);
      return FALSE;
    }
    if (rc != STORE_DONE) {
      store_set_error (store, "checking leave", error);
      return FALSE;
    }
  }

  return check_day_cap (store, p, error);
}

/* ---- book, reschedule, cancel ------------------------------------------ */

static gboolean
check_mode (MedBookingMode mode, GError **error)
{
  if ((guint) mode < MED_BOOKING_MODE_N)
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "unknown booking mode");
  return FALSE;
}

static void
detail_plan (GString *detail, const Plan *p)
{
  store_detail_int (detail, "case", p->case_id);
  store_detail_int (detail, "room", p->room_id);
  store_detail_int (detail, "mediator", p->mediator_id);
  store_detail_int (detail, "interpreter", p->interpreter_id);
  store_detail_int (detail, "start", p->start);
  store_detail_int (detail, "end", p->end);
}

/* Binds ?1 … ?8: case, room, mediator, interpreter, start, end, block. */
static void
bind_plan (StoreStmt *st, const Plan *p)
{
  store_bind_int64 (st, 1, p->case_id);
  store_bind_int64 (st, 2, p->room_id);
  store_bind_int64 (st, 3, p->mediator_id);
  if (p->interpreter_id != 0)
    store_bind_int64 (st, 4, p->interpreter_id);
  else
    store_bind_null (st, 4);
  store_bind_int64 (st, 5, p->start);
  store_bind_int64 (st, 6, p->end);
  store_bind_int64 (st, 7, p->block_start);
  store_bind_int64 (st, 8, p->block_end);
}

/* The ids and times of b, for load_plan. */
static void
plan_from_booking (Plan *p, const MedBooking *b)
{
  p->case_id = b->case_id;
  p->room_id = b->room_id;
  p->mediator_id = b->mediator_id;
  p->interpreter_id = b->interpreter_id;
  p->start = b->start;
  p->end = b->end;
}

gint64
med_store_book (MedStore *store, const MedBooking *b, const char *actor,
    GError **error)
{
  g_auto (Plan) p = { 0 };
  g_autofree char *uid = NULL;
  g_autofree char *detail_s = NULL;
  GString *detail;
  GError *local = NULL;
  StoreTxn txn = { 0 };
  gint64 new_id, id = 0;

  g_return_val_if_fail (store != NULL && b != NULL, 0);

  if (!store_check_actor (actor, error)
      || !check_times (b->start, b->end, error) || !check_mode (b->mode, error))
    return 0;
  if (b->uid != NULL) {
    if (!store_check_text (b->uid, 255, FALSE, FALSE, "booking UID", error))
      return 0;
    uid = g_strdup (b->uid);
  } else {
    g_autofree char *random = g_uuid_string_random ();

    uid = g_strconcat (random, "@medsched", NULL);
  }
  plan_from_booking (&p, b);

  if (!store_txn_begin (store, &txn, error) || !load_plan (store, &p, error))
    goto out;
  if (p.case_status != MED_CASE_STATUS_SCHEDULED
      && !med_case_status_check_transition (p.case_status,
          MED_CASE_STATUS_SCHEDULED, &local)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "case %s cannot be booked: %s", p.case_number, local->message);
    g_clear_error (&local);
    goto out;
  }
  if (!check_plan (store, &p, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO booking "
        "(case_id, room_id, mediator_id, interpreter_id, start_at, end_at, "
        "block_start, block_end, mode, status, uid, sequence, created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "'confirmed', ?10, 0, ?11, ?11) RETURNING id",
        error);

    if (st == NULL)
      goto out;
    bind_plan (st, &p);
    store_bind_text (st, 9, med_booking_mode_to_string (b->mode));
    store_bind_text (st, 10, uid);
    store_bind_int64 (st, 11, store_now (store));
    if (store_step (st) != STORE_ROW) {
      if (store_error_is (store, STORE_ERR_UNIQUE))
        g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT,
            "a booking with UID %s already exists", uid);
      else
        store_set_error (store, "booking", error);
      goto out;
    }
    new_id = store_column_int64 (st, 0);
  }
  if (p.case_status != MED_CASE_STATUS_SCHEDULED
      && !store_write_case_status (store, p.case_id, p.case_status,
          MED_CASE_STATUS_SCHEDULED, MED_DEPARTMENT_NONE, actor, error))
    goto out;
  detail = g_string_new ("{");
  detail_plan (detail, &p);
  store_detail_str (detail, "mode", med_booking_mode_to_string (b->mode));
  store_detail_str (detail, "uid", uid);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "booking.create", "booking", new_id,
          detail_s, error)
      || !store_txn_commit (&txn, error))
    goto out;
  id = new_id;

out:
  store_txn_end (&txn);
  return id;
}

/* Loads a confirmed booking for a change; cancelled ones are final. */
static gboolean
load_confirmed (MedStore *store, gint64 booking_id, MedBooking **out,
    GError **error)
{
  g_autoptr (MedBooking) cur = med_store_get_booking (store, booking_id, error);

  if (cur == NULL)
    return FALSE;
  if (cur->status != MED_BOOKING_STATUS_CONFIRMED) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "booking %" G_GINT64_FORMAT " is cancelled", booking_id);
    return FALSE;
  }
  *out = g_steal_pointer (&cur);
  return TRUE;
}

gboolean
med_store_reschedule (MedStore *store, gint64 booking_id, const MedBooking *to,
    const char *actor, GError **error)
{
  g_autoptr (MedBooking) cur = NULL;
  g_auto (Plan) p = { 0 };
  g_autofree char *detail_s = NULL;
  GString *detail;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (store != NULL && to != NULL, FALSE);

  if (!store_check_actor (actor, error)
      || !check_times (to->start, to->end, error)
      || !check_mode (to->mode, error) || !store_txn_begin (store, &txn, error)
      || !load_confirmed (store, booking_id, &cur, error))
    goto out;
  p.exclude_id = booking_id;
  p.case_id = cur->case_id;
  p.room_id = to->room_id != 0 ? to->room_id : cur->room_id;
  p.mediator_id = to->mediator_id != 0 ? to->mediator_id : cur->mediator_id;
  p.interpreter_id = to->interpreter_id;
  p.start = to->start;
  p.end = to->end;
  if (!load_plan (store, &p, error) || !check_plan (store, &p, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE booking SET "
        "room_id = ?2, mediator_id = ?3, interpreter_id = ?4, start_at = ?5, "
        "end_at = ?6, block_start = ?7, block_end = ?8, mode = ?9, "
        "sequence = sequence + 1, updated_at = ?10 "
        "WHERE id = ?11 AND case_id = ?1",
        error);

    if (st == NULL)
      goto out;
    bind_plan (st, &p);
    store_bind_text (st, 9, med_booking_mode_to_string (to->mode));
    store_bind_int64 (st, 10, store_now (store));
    store_bind_int64 (st, 11, booking_id);
    if (!store_step_done (store, st, "rescheduling", error))
      goto out;
  }
  detail = g_string_new ("{");
  detail_plan (detail, &p);
  store_detail_int (detail, "from_start", cur->start);
  store_detail_int (detail, "from_end", cur->end);
  store_detail_int (detail, "sequence", cur->sequence + 1);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "booking.reschedule", "booking",
           booking_id, detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_check_booking (MedStore *store, const MedBooking *b,
    gint64 exclude_id, GError **error)
{
  g_auto (Plan) p = { 0 };
  g_autoptr (MedBooking) cur = NULL;

  g_return_val_if_fail (store != NULL && b != NULL, FALSE);

  if (!check_times (b->start, b->end, error))
    return FALSE;
  plan_from_booking (&p, b);
  p.exclude_id = exclude_id;
  if (exclude_id != 0) {
    /* as reschedule fills a move: the booking's case, room and mediator
     * unless given */
    if ((cur = med_store_get_booking (store, exclude_id, error)) == NULL)
      return FALSE;
    p.case_id = cur->case_id;
    if (p.room_id == 0)
      p.room_id = cur->room_id;
    if (p.mediator_id == 0)
      p.mediator_id = cur->mediator_id;
  }
  /* reads only, without the write lock: it names what is in the way;
   * book and reschedule check again in their transaction */
  return load_plan (store, &p, error) && check_plan (store, &p, error);
}

gboolean
med_store_cancel (MedStore *store, gint64 booking_id, const char *actor,
    GError **error)
{
  g_autoptr (MedBooking) cur = NULL;
  g_autofree char *detail_s = NULL;
  GString *detail;
  MedCaseStatus status;
  StoreTxn txn = { 0 };
  gboolean ok = FALSE;
  gint64 remaining;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error) || !store_txn_begin (store, &txn, error)
      || !load_confirmed (store, booking_id, &cur, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "UPDATE booking SET "
        "status = 'cancelled', sequence = sequence + 1, updated_at = ?2 "
        "WHERE id = ?1",
        error);

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, booking_id);
    store_bind_int64 (st, 2, store_now (store));
    if (!store_step_done (store, st, "cancelling", error))
      goto out;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT count(*) FROM "
        "booking WHERE case_id = ?1 AND status = 'confirmed'",
        error);
    int rc;

    if (st == NULL)
      goto out;
    store_bind_int64 (st, 1, cur->case_id);
    rc = store_step (st);
    if (rc != STORE_ROW) {
      store_set_error (store, "counting bookings", error);
      goto out;
    }
    remaining = store_column_int64 (st, 0);
  }
  if (!store_case_state (store, cur->case_id, &status, NULL, error))
    goto out;
  if (remaining == 0 && status == MED_CASE_STATUS_SCHEDULED
      && !store_write_case_status (store, cur->case_id, status,
          MED_CASE_STATUS_DISPATCHED, MED_DEPARTMENT_NONE, actor, error))
    goto out;
  detail = g_string_new ("{");
  store_detail_int (detail, "case", cur->case_id);
  store_detail_int (detail, "start", cur->start);
  store_detail_int (detail, "end", cur->end);
  store_detail_int (detail, "sequence", cur->sequence + 1);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "booking.cancel", "booking",
           booking_id, detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* ---- for the scheduler ------------------------------------------------- */

GArray *
med_store_party_busy (MedStore *store, gint64 case_id,
    gint64 exclude_booking_id, GError **error)
{
  g_autoptr (GArray) busy = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT start_at, end_at FROM booking WHERE "
      "status = 'confirmed' AND id <> ?2 AND (case_id = ?1 OR case_id IN ("
      "SELECT p2.case_id FROM party p1 JOIN party p2 ON "
      "p2.contact = p1.contact WHERE p1.case_id = ?1 AND "
      "p1.contact <> '' AND p2.contact <> '' AND p1.removed_at = 0 AND "
      "p2.removed_at = 0)) ORDER BY start_at, id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, case_id);
  store_bind_int64 (st, 2, exclude_booking_id);
  busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  while ((rc = store_step (st)) == STORE_ROW) {
    MedInterval iv = { store_column_int64 (st, 0), store_column_int64 (st, 1) };

    g_array_append_val (busy, iv);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading party bookings", error);
    return NULL;
  }
  return g_steal_pointer (&busy);
}

gint64
med_store_case_last_mediator (MedStore *store, gint64 case_id, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, 0);

  st = store_stmt (store,
      "SELECT mediator_id FROM booking WHERE "
      "case_id = ?1 AND status = 'confirmed' ORDER BY start_at DESC, "
      "id DESC LIMIT 1",
      error);
  if (st == NULL)
    return 0;
  store_bind_int64 (st, 1, case_id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return store_column_int64 (st, 0);
  if (rc != STORE_DONE)
    store_set_error (store, "reading bookings", error);
  return 0;
}

/* The confirmed bookings of centre ?1 a snapshot of [?2, ?3) holds. Blocks
 * cover sessions, so this keeps every booking whose room buffers reach into
 * [from, to). A block lasts at most 48 hours (a CHECK of the schema), which
 * bounds the index range on block_start. */
#define SNAPSHOT_BOOKINGS                                                      \
  "room_id IN (SELECT id FROM room WHERE centre_id = ?1) AND "                 \
  "status = 'confirmed' AND block_start > CAST(?2 AS BIGINT) - 172800 AND "    \
  "block_start < ?3 AND block_end > ?2"

void
med_store_snapshot_free (MedStoreSnapshot *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->snap.rooms, g_ptr_array_unref);
  g_clear_pointer (&s->snap.mediators, g_ptr_array_unref);
  g_clear_pointer (&s->snap.interpreters, g_ptr_array_unref);
  g_clear_pointer (&s->snap.bookings, g_array_unref);
  g_clear_pointer (&s->snap.external_busy, g_array_unref);
  g_clear_pointer (&s->snap.mediator_load, g_array_unref);
  med_centre_free (s->centre);
  med_workcal_free (s->workcal);
  g_free (s);
}

MedStoreSnapshot *
med_store_load_snapshot (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, GError **error)
{
  g_autoptr (MedStoreSnapshot) s = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  s = g_new0 (MedStoreSnapshot, 1);
  s->centre = med_store_get_centre (store, centre_id, error);
  if (s->centre == NULL)
    return NULL;
  s->workcal = med_store_load_workcal (store, error);
  if (s->workcal == NULL)
    return NULL;
  s->snap.centre = s->centre;
  s->snap.workcal = s->workcal;
  s->snap.rooms = med_store_list_rooms (store, centre_id, error);
  if (s->snap.rooms == NULL)
    return NULL;
  s->snap.mediators = store_list_mediators (store, centre_id, from, to, error);
  if (s->snap.mediators == NULL)
    return NULL;
  s->snap.interpreters = med_store_list_interpreters (store, centre_id, error);
  if (s->snap.interpreters == NULL)
    return NULL;

  st = store_stmt (store,
      "SELECT id, case_id, room_id, mediator_id, "
      "interpreter_id, start_at, end_at FROM booking WHERE " SNAPSHOT_BOOKINGS,
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  store_bind_int64 (st, 2, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 3, to != 0 ? to : STORE_TIME_MAX);
  s->snap.bookings = g_array_new (FALSE, TRUE, sizeof (MedBusy));
  while ((rc = store_step (st)) == STORE_ROW) {
    MedBusy busy = {
      .booking_id = store_column_int64 (st, 0),
      .case_id = store_column_int64 (st, 1),
      .room_id = store_column_int64 (st, 2),
      .mediator_id = store_column_int64 (st, 3),
      .interpreter_id = store_column_int64 (st, 4),
      .start = store_column_int64 (st, 5),
      .end = store_column_int64 (st, 6),
    };

    g_array_append_val (s->snap.bookings, busy);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading bookings", error);
    return NULL;
  }
  s->snap.external_busy
      = store_load_external_busy (store, centre_id, from, to, error);
  if (s->snap.external_busy == NULL)
    return NULL;
  return g_steal_pointer (&s);
}

GArray *
med_store_mediator_load (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, gint64 exclude_booking_id, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autoptr (GArray) load = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  /* the rows med_store_load_snapshot reads for [from, to) */
  st = store_stmt (store,
      "SELECT mediator_id, count(*) FROM booking WHERE " SNAPSHOT_BOOKINGS
      " AND id <> ?4 GROUP BY mediator_id",
      error);
  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, centre_id);
  store_bind_int64 (st, 2, from != 0 ? from : STORE_TIME_MIN);
  store_bind_int64 (st, 3, to != 0 ? to : STORE_TIME_MAX);
  store_bind_int64 (st, 4, exclude_booking_id);
  load = g_array_new (FALSE, TRUE, sizeof (MedMediatorLoad));
  while ((rc = store_step (st)) == STORE_ROW) {
    MedMediatorLoad l = {
      .mediator_id = store_column_int64 (st, 0),
      .bookings = (guint) store_column_int64 (st, 1),
    };

    g_array_append_val (load, l);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading bookings", error);
    return NULL;
  }
  return g_steal_pointer (&load);
}

/* ---- the store-wide scan ----------------------------------------------- */

gboolean
store_check_overlaps (MedStore *store, GError **error)
{
  /* Of two overlapping rows, the one starting later (b) starts inside the
   * other (a): each probe is an index range on b's start. */
  static const struct
  {
    const char *what;
    const char *sql;
  } scans[] = {
    { "room",
        "SELECT a.id, b.id FROM booking a JOIN booking b ON "
        "b.room_id = a.room_id AND b.status = 'confirmed' AND b.id <> a.id AND "
        "b.block_start >= a.block_start AND b.block_start < a.block_end "
        "WHERE a.status = 'confirmed' LIMIT 1" },
    { "mediator",
        "SELECT a.id, b.id FROM booking a JOIN booking b ON "
        "b.mediator_id = a.mediator_id AND b.status = 'confirmed' AND "
        "b.id <> a.id AND b.start_at >= a.start_at AND "
        "b.start_at < a.end_at WHERE a.status = 'confirmed' LIMIT 1" },
    { "interpreter",
        "SELECT a.id, b.id FROM booking a JOIN booking b ON "
        "b.interpreter_id = a.interpreter_id AND b.status = 'confirmed' AND "
        "b.id <> a.id AND b.start_at >= a.start_at AND "
        "b.start_at < a.end_at WHERE a.status = 'confirmed' LIMIT 1" },
    { "case",
        "SELECT a.id, b.id FROM booking a JOIN booking b ON "
        "b.case_id = a.case_id AND b.status = 'confirmed' AND "
        "b.id <> a.id AND b.start_at >= a.start_at AND "
        "b.start_at < a.end_at WHERE a.status = 'confirmed' LIMIT 1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (scans); i++) {
    g_autoptr (StoreStmt) st = store_stmt (store, scans[i].sql, error);
    int rc;

    if (st == NULL)
      return FALSE;
    rc = store_step (st);
    if (rc == STORE_ROW) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT,
          "bookings %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " overlap "
          "on the same %s",
          (gint64) store_column_int64 (st, 0),
          (gint64) store_column_int64 (st, 1), scans[i].what);
      return FALSE;
    }
    if (rc != STORE_DONE) {
      store_set_error (store, "scanning for overlaps", error);
      return FALSE;
    }
  }
  return TRUE;
}
