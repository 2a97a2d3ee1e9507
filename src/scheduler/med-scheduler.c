/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-scheduler.c — finds the earliest feasible slot for a case and plans a
 * day's queue, over an in-memory snapshot. Pure: no SQLite, no clock, no
 * network.
 *
 * Each resource (room, mediator, interpreter) has a sorted, merged array of
 * busy intervals; rooms' intervals include their setup/cleanup buffers.
 * The search walks the working windows of each local day. At a candidate
 * start t it asks which rooms, which mediator units (a mediator, plus an
 * interpreter when the parties need one) and whether the parties are free
 * for the whole session; if any category has no free member it jumps t to
 * the earliest moment a member of that category becomes free. Every jump
 * is a lower bound, so no feasible start is skipped, and each iteration
 * costs O((rooms + units) log bookings). */
#define G_LOG_DOMAIN "medsched-scheduler"

#include "med-scheduler-private.h"

#include <medsched/med-i18n.h>

#include <string.h>

/* ---- reasons ---- */

static const char *const reason_words[MED_REASON_N] = {
  [MED_REASON_WHY_MINORS] = "why_minors",
  [MED_REASON_WHY_FAMILY] = "why_family",
  [MED_REASON_WHY_REMOTE] = "why_remote",
  [MED_REASON_WHY_GENERAL] = "why_general",
  [MED_REASON_ROOM] = "room",
  [MED_REASON_FALLBACK_FULL] = "fallback_full",
  [MED_REASON_FALLBACK_URGENT] = "fallback_urgent",
  [MED_REASON_FALLBACK_BY_HAND] = "fallback_by_hand",
  [MED_REASON_FALLBACK_PLAN] = "fallback_plan",
  [MED_REASON_CAPACITY] = "capacity",
  [MED_REASON_MEDIATOR] = "mediator",
  [MED_REASON_SAME_MEDIATOR] = "same_mediator",
  [MED_REASON_INTERPRETER] = "interpreter",
  [MED_REASON_EARLIEST] = "earliest",
  [MED_REASON_PLAN_START] = "plan_start",
  [MED_REASON_NO_ROOM_KIND] = "no_room_kind",
  [MED_REASON_NO_CAPACITY] = "no_capacity",
  [MED_REASON_NO_SPECIALTY] = "no_specialty",
  [MED_REASON_NO_LANGUAGE] = "no_language",
  [MED_REASON_LEAVE] = "leave",
  [MED_REASON_DAILY_CAP] = "daily_cap",
  [MED_REASON_DURATION] = "duration",
  [MED_REASON_ROOM_BUSY] = "room_busy",
  [MED_REASON_MINORS_WAIT] = "minors_wait",
  [MED_REASON_MEDIATOR_BUSY] = "mediator_busy",
  [MED_REASON_PARTY_BUSY] = "party_busy",
  [MED_REASON_CLOSED] = "closed",
  [MED_REASON_NOTHING_ON_DAY] = "nothing_on_day",
  [MED_REASON_NOTHING_BEFORE_DEADLINE] = "nothing_before_deadline",
  [MED_REASON_NOTHING_BEFORE] = "nothing_before",
  [MED_REASON_ROOM_UNSUITED] = "room_unsuited",
  [MED_REASON_MINORS_STAY] = "minors_stay",
  [MED_REASON_MEDIATOR_UNSUITED] = "mediator_unsuited",
  [MED_REASON_OUTSIDE_HOURS] = "outside_hours",
  [MED_REASON_AFTER_DEADLINE] = "after_deadline",
  [MED_REASON_CAP_REACHED] = "cap_reached",
  [MED_REASON_ON_LEAVE] = "on_leave",
  [MED_REASON_TAKEN] = "taken",
  [MED_REASON_WOULD_UNPLACE] = "would_unplace",
  [MED_REASON_OTHER] = "other",
};

const char *
med_reason_code_to_string (MedReasonCode code)
{
  return (guint) code < MED_REASON_N && reason_words[code] ? reason_words[code]
                                                           : "other";
}

MedReason *
med_reason_new (MedReasonCode code)
{
  MedReason *r = g_new0 (MedReason, 1);

  r->code = code;
  return r;
}

MedReason *
med_reason_new_other (const char *words)
{
  MedReason *r = med_reason_new (MED_REASON_OTHER);

  r->words = g_strdup (words);
  return r;
}

void
med_reason_free (MedReason *r)
{
  if (r == NULL)
    return;
  g_free (r->name);
  g_free (r->name2);
  g_free (r->words);
  g_strfreev (r->list);
  if (r->case_ids)
    g_array_unref (r->case_ids);
  if (r->sub)
    g_ptr_array_unref (r->sub);
  g_free (r);
}

MedReason *
med_reason_copy (const MedReason *r)
{
  MedReason *c = g_memdup2 (r, sizeof *r);

  c->name = g_strdup (r->name);
  c->name2 = g_strdup (r->name2);
  c->words = g_strdup (r->words);
  c->list = g_strdupv (r->list);
  c->case_ids = r->case_ids ? g_array_copy (r->case_ids) : NULL;
  c->sub = med_reasons_copy (r->sub);
  return c;
}

GPtrArray *
med_reasons_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) med_reason_free);
}

static gpointer
reason_copy_cb (gconstpointer r, gpointer data)
{
  return med_reason_copy (r);
}

GPtrArray *
med_reasons_copy (GPtrArray *reasons)
{
  /* the copy frees its reasons as the original does */
  return reasons != NULL ? g_ptr_array_copy (reasons, reason_copy_cb, NULL)
                         : NULL;
}

/* Adds a reason of code to list and returns it to be filled. */
static MedReason *
add_reason (GPtrArray *list, MedReasonCode code)
{
  MedReason *r = med_reason_new (code);

  g_ptr_array_add (list, r);
  return r;
}

/* MED_SCHEDULER_ERROR is an extended error domain (GLib 2.68): NO_SLOT and
 * CONFLICT may carry their reasons, copied and freed with the GError.
 * Registered once with g_once, as med-store.c does. */
typedef struct
{
  GPtrArray *reasons;
} SchedErrorPrivate;

static SchedErrorPrivate *
error_private (const GError *error)
{
  const gsize sa = 2 * sizeof (gsize);
  const gsize as = (sizeof (SchedErrorPrivate) + (sa - 1)) & -sa;

  return (SchedErrorPrivate *) (((guint8 *) error) - as);
}

static void
error_private_init (GError *error)
{
  error_private (error)->reasons = NULL;
}

static void
error_private_copy (const GError *src, GError *dest)
{
  error_private (dest)->reasons
      = med_reasons_copy (error_private (src)->reasons);
}

static void
error_private_clear (GError *error)
{
  g_clear_pointer (&error_private (error)->reasons, g_ptr_array_unref);
}

GQuark
med_scheduler_error_quark (void)
{
  static gsize quark = 0;

  if (g_once_init_enter (&quark)) {
    GQuark q = g_error_domain_register_static ("med-scheduler-error-quark",
        sizeof (SchedErrorPrivate), error_private_init, error_private_copy,
        error_private_clear);

    g_once_init_leave (&quark, q);
  }
  return (GQuark) quark;
}

GPtrArray *
med_scheduler_error_get_reasons (const GError *error)
{
  if (error == NULL || error->domain != MED_SCHEDULER_ERROR)
    return NULL;
  return error_private (error)->reasons;
}

/* An error of code whose message is prefix (may be NULL) and the reasons
 * in English, carrying the reasons. Takes reasons. */
static void
set_reasons_error (GError **error, gint code, const char *prefix,
    GPtrArray *reasons)
{
  g_autofree char *text = NULL;
  GError *e;

  if (error == NULL) {
    g_ptr_array_unref (reasons);
    return;
  }
  text = med_i18n_reasons (MED_LANG_EN, reasons);
  e = g_error_new (MED_SCHEDULER_ERROR, code, "%s%s", prefix ? prefix : "",
      text);
  error_private (e)->reasons = reasons;
  g_propagate_error (error, e);
}

/* One reason as an error (its English the message). */
static void
set_reason_error (GError **error, gint code, MedReason *r)
{
  GPtrArray *list = med_reasons_new ();

  g_ptr_array_add (list, r);
  set_reasons_error (error, code, NULL, list);
}

#define MAX_SEARCH_DAYS 800

/* ---- timelines ---- */

static int
compare_interval (gconstpointer a, gconstpointer b)
{
  const MedInterval *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

static Timeline *
timeline_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (MedInterval));
}

/* Sorts and merges overlapping or touching intervals in place. */
static void
timeline_normalise (Timeline *t)
{
  guint w = 0;

  if (t->len < 2)
    return;
  g_array_sort (t, compare_interval);
  for (guint r = 1; r < t->len; r++) {
    MedInterval *cur = &g_array_index (t, MedInterval, w);
    MedInterval *next = &g_array_index (t, MedInterval, r);

    if (next->start <= cur->end) {
      if (next->end > cur->end)
        cur->end = next->end;
    } else {
      g_array_index (t, MedInterval, ++w) = *next;
    }
  }
  g_array_set_size (t, w + 1);
}

/* Index of the first interval whose end is after t (intervals are disjoint
 * and sorted, so ends are sorted too). */
guint
sched_timeline_first_ending_after (const Timeline *t, MedTime x)
{
  guint lo = 0, hi = t->len;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;

    if (g_array_index (t, MedInterval, mid).end <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* If [a, b) overlaps the timeline, returns TRUE and the end of the
 * overlapping interval (the earliest moment to try again). */
static gboolean
timeline_conflict (const Timeline *t, MedTime a, MedTime b, MedTime *until)
{
  guint i;

  if (t == NULL || t->len == 0)
    return FALSE;
  i = sched_timeline_first_ending_after (t, a);
  if (i < t->len && g_array_index (t, MedInterval, i).start < b) {
    *until = g_array_index (t, MedInterval, i).end;
    return TRUE;
  }
  return FALSE;
}

static void
timeline_insert (Timeline *t, MedTime a, MedTime b)
{
  MedInterval iv = { a, b };

  g_array_append_val (t, iv);
  timeline_normalise (t);
}

/* True if [a, b) lies wholly inside one interval. */
static gboolean
timeline_covers (const Timeline *t, MedTime a, MedTime b)
{
  guint i;

  if (t == NULL || t->len == 0)
    return FALSE;
  i = sched_timeline_first_ending_after (t, a);
  return i < t->len && g_array_index (t, MedInterval, i).start <= a
      && g_array_index (t, MedInterval, i).end >= b;
}

guint
sched_count_starts (const GArray *starts, MedTime a, MedTime b)
{
  guint lo = 0, hi = starts->len, first;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;

    if (g_array_index (starts, MedTime, mid) < a)
      lo = mid + 1;
    else
      hi = mid;
  }
  first = lo;
  hi = starts->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;

    if (g_array_index (starts, MedTime, mid) < b)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo - first;
}

static void
insert_start (GArray *starts, MedTime t)
{
  guint i = 0;

  while (i < starts->len && g_array_index (starts, MedTime, i) <= t)
    i++;
  g_array_insert_val (starts, i, t);
}

static int
compare_time (gconstpointer a, gconstpointer b)
{
  MedTime x = *(const MedTime *) a, y = *(const MedTime *) b;

  return (x > y) - (x < y);
}

/* ---- building ---- */

static void
room_res_clear (gpointer p)
{
  RoomRes *r = p;

  g_array_unref (r->busy);
}

static void
mediator_res_clear (gpointer p)
{
  MediatorRes *m = p;

  g_array_unref (m->busy);
  g_array_unref (m->leave);
  g_array_unref (m->starts);
}

static void
interp_res_clear (gpointer p)
{
  InterpRes *i = p;

  g_array_unref (i->busy);
}

static void
day_windows_free (gpointer p)
{
  DayWindows *d = p;

  g_clear_error (&d->error);
  g_free (d);
}

void
med_scheduler_free (MedScheduler *s)
{
  if (s == NULL)
    return;
  g_array_unref (s->rooms);
  g_array_unref (s->mediators);
  g_array_unref (s->interps);
  g_hash_table_unref (s->room_by_id);
  g_hash_table_unref (s->med_by_id);
  g_hash_table_unref (s->interp_by_id);
  g_array_unref (s->case_sessions);
  g_hash_table_unref (s->day_cache);
  g_free (s);
}

static guint
index_of (GHashTable *h, gint64 id)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (h, &id));
}

static void
index_add (GHashTable *h, gint64 *id, guint idx)
{
  g_hash_table_insert (h, id, GUINT_TO_POINTER (idx + 1));
}

static int
compare_case_session (gconstpointer a, gconstpointer b)
{
  const CaseSession *x = a, *y = b;

  if (x->case_id != y->case_id)
    return x->case_id < y->case_id ? -1 : 1;
  return (x->start > y->start) - (x->start < y->start);
}

/* sorted = keep the array sorted now (reservations); building appends and
 * sorts once. */
static void
add_case_session (MedScheduler *s, gint64 case_id, MedTime a, MedTime b,
    gboolean sorted)
{
  CaseSession cs = { case_id, a, b };
  guint i;

  if (case_id == 0)
    return;
  if (!sorted) {
    g_array_append_val (s->case_sessions, cs);
    return;
  }
  {
    guint lo = 0, hi = s->case_sessions->len;

    while (lo < hi) {
      guint mid = lo + (hi - lo) / 2;

      if (compare_case_session (&g_array_index (s->case_sessions, CaseSession,
                                    mid),
              &cs)
          <= 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    i = lo;
  }
  g_array_insert_val (s->case_sessions, i, cs);
}

/* Appends the sessions of case_id to t. */
static void
append_case_sessions (MedScheduler *s, gint64 case_id, Timeline *t)
{
  GArray *a = s->case_sessions;
  guint lo = 0, hi = a->len;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;

    if (g_array_index (a, CaseSession, mid).case_id < case_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < a->len && g_array_index (a, CaseSession, lo).case_id == case_id;
       lo++) {
    MedInterval iv = { g_array_index (a, CaseSession, lo).start,
      g_array_index (a, CaseSession, lo).end };

    g_array_append_val (t, iv);
  }
}

/* Records one booking in every resource it occupies. sort = FALSE while
 * building (timelines are normalised once at the end). */
static void
occupy (MedScheduler *s, const MedBusy *b, gboolean sort)
{
  guint ri = index_of (s->room_by_id, b->room_id);
  guint mi = index_of (s->med_by_id, b->mediator_id);
  guint ii
      = b->interpreter_id ? index_of (s->interp_by_id, b->interpreter_id) : 0;

  if (ri) {
    RoomRes *r = &g_array_index (s->rooms, RoomRes, ri - 1);
    MedInterval iv = { b->start - r->room->setup_minutes * 60,
      b->end + r->room->cleanup_minutes * 60 };

    if (sort)
      timeline_insert (r->busy, iv.start, iv.end);
    else
      g_array_append_val (r->busy, iv);
  }
  if (mi) {
    MediatorRes *m = &g_array_index (s->mediators, MediatorRes, mi - 1);

    if (sort) {
      timeline_insert (m->busy, b->start, b->end);
      insert_start (m->starts, b->start);
    } else {
      g_array_append_vals (m->busy, &(MedInterval){ b->start, b->end }, 1);
      g_array_append_val (m->starts, b->start);
    }
    m->total++;
  }
  if (ii) {
    InterpRes *in = &g_array_index (s->interps, InterpRes, ii - 1);

    if (sort)
      timeline_insert (in->busy, b->start, b->end);
    else
      g_array_append_vals (in->busy, &(MedInterval){ b->start, b->end }, 1);
  }
  add_case_session (s, b->case_id, b->start, b->end, sort);
}

MedScheduler *
med_scheduler_new (const MedSnapshot *snap, GError **error)
{
  g_autoptr (MedScheduler) s = NULL;
  g_return_val_if_fail (snap != NULL && snap->centre != NULL, NULL);
  g_return_val_if_fail (snap->workcal != NULL, NULL);

  if (snap->centre->zone == NULL
      || !med_workcal_local_date (snap->centre->zone, 0, NULL, NULL, NULL,
          error))
    return NULL;

  s = g_new0 (MedScheduler, 1);
  s->snap = *snap;
  s->rooms = g_array_new (FALSE, TRUE, sizeof (RoomRes));
  g_array_set_clear_func (s->rooms, room_res_clear);
  s->mediators = g_array_new (FALSE, TRUE, sizeof (MediatorRes));
  g_array_set_clear_func (s->mediators, mediator_res_clear);
  s->interps = g_array_new (FALSE, TRUE, sizeof (InterpRes));
  g_array_set_clear_func (s->interps, interp_res_clear);
  s->room_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  s->med_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  s->interp_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  s->case_sessions = g_array_new (FALSE, FALSE, sizeof (CaseSession));
  s->day_cache = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      day_windows_free);

  for (guint i = 0; snap->rooms && i < snap->rooms->len; i++) {
    MedRoom *r = g_ptr_array_index (snap->rooms, i);
    RoomRes rr = { r, timeline_new () };

    g_array_append_val (s->rooms, rr);
    index_add (s->room_by_id, &r->id, i);
  }
  for (guint i = 0; snap->mediators && i < snap->mediators->len; i++) {
    MedMediator *m = g_ptr_array_index (snap->mediators, i);
    MediatorRes mr = { m, timeline_new (), timeline_new (),
      g_array_new (FALSE, FALSE, sizeof (MedTime)), 0 };

    if (m->leave != NULL) {
      g_array_append_vals (mr.leave, m->leave->data, m->leave->len);
      g_array_append_vals (mr.busy, m->leave->data, m->leave->len);
    }
    g_array_append_val (s->mediators, mr);
    index_add (s->med_by_id, &m->id, i);
  }
  for (guint i = 0; snap->interpreters && i < snap->interpreters->len; i++) {
    MedInterpreter *in = g_ptr_array_index (snap->interpreters, i);
    InterpRes ir = { in, timeline_new () };

    g_array_append_val (s->interps, ir);
    index_add (s->interp_by_id, &in->id, i);
  }
  for (guint i = 0; snap->bookings && i < snap->bookings->len; i++)
    occupy (s, &g_array_index (snap->bookings, MedBusy, i), FALSE);
  for (guint i = 0; snap->mediator_load && i < s->mediators->len; i++)
    g_array_index (s->mediators, MediatorRes, i).total = 0;
  for (guint i = 0; snap->mediator_load && i < snap->mediator_load->len; i++) {
    const MedMediatorLoad *l
        = &g_array_index (snap->mediator_load, MedMediatorLoad, i);
    guint mi = index_of (s->med_by_id, l->mediator_id);

    if (mi)
      g_array_index (s->mediators, MediatorRes, mi - 1).total = l->bookings;
  }
  for (guint i = 0; snap->external_busy && i < snap->external_busy->len; i++) {
    const MedBusy *b = &g_array_index (snap->external_busy, MedBusy, i);
    guint mi = b->mediator_id ? index_of (s->med_by_id, b->mediator_id) : 0;
    guint ii
        = b->interpreter_id ? index_of (s->interp_by_id, b->interpreter_id) : 0;
    MedInterval iv = { b->start, b->end };

    if (mi)
      g_array_append_val (g_array_index (s->mediators, MediatorRes, mi - 1)
                              .busy,
          iv);
    if (ii)
      g_array_append_val (g_array_index (s->interps, InterpRes, ii - 1).busy,
          iv);
  }

  for (guint i = 0; i < s->rooms->len; i++)
    timeline_normalise (g_array_index (s->rooms, RoomRes, i).busy);
  for (guint i = 0; i < s->mediators->len; i++) {
    MediatorRes *m = &g_array_index (s->mediators, MediatorRes, i);

    timeline_normalise (m->busy);
    timeline_normalise (m->leave);
    g_array_sort (m->starts, compare_time);
  }
  for (guint i = 0; i < s->interps->len; i++)
    timeline_normalise (g_array_index (s->interps, InterpRes, i).busy);
  g_array_sort (s->case_sessions, compare_case_session);

  return g_steal_pointer (&s);
}

/* ---- days ---- */

const DayWindows *
sched_get_day (MedScheduler *s, const GDate *date)
{
  guint key = g_date_get_julian (date);
  DayWindows *d = g_hash_table_lookup (s->day_cache, GUINT_TO_POINTER (key));
  const MedCentre *c = s->snap.centre;
  gint y = g_date_get_year (date), m = g_date_get_month (date);
  gint dd = g_date_get_day (date);
  GDate next = *date;

  if (d != NULL)
    return d;
  d = g_new0 (DayWindows, 1);
  g_date_add_days (&next, 1);
  if (med_workcal_day_windows (s->snap.workcal, c, y, m, dd, d->iv, &d->n,
          &d->error)
      && med_workcal_day_info (s->snap.workcal, c->layers, y, m, dd, &d->info,
          &d->error)
      && med_workcal_local_to_utc (c->zone, y, m, dd, 0, &d->midnight,
          &d->error))
    med_workcal_local_to_utc (c->zone, g_date_get_year (&next),
        g_date_get_month (&next), g_date_get_day (&next), 0, &d->day_end,
        &d->error);
  g_hash_table_insert (s->day_cache, GUINT_TO_POINTER (key), d);
  return d;
}

static MedTime
align_up (MedTime t, MedTime origin, gint step_minutes)
{
  MedTime step = (MedTime) MAX (step_minutes, 1) * 60;
  MedTime off = t - origin;

  if (off <= 0)
    return t - off - ((-off) / step) * step;
  return origin + ((off + step - 1) / step) * step;
}

/* ---- the request ---- */

typedef struct
{
  MedScheduler *s;
  const MedSlotRequest *req;
  const MedCase *kase;
  MedTime duration;
  MedTime not_before;
  MedTime horizon_end;
  gboolean deadline_limits;
  guint in_person;
  gboolean needs_video;
  GArray *rooms; /* guint indexes of candidate rooms */
  GArray *units; /* Unit */
  Timeline *party_busy; /* parties' commitments + the case's own sessions */
  gint64 preferred_mediator;
  guint blocks;
  guint days_checked;
  guint days_closed;
  MedReasonCode kind_why;
  gboolean minors_wait; /* the minors rule refused the fallback rooms */
} Search;

MedRoomKind
med_scheduler_preferred_kind (const MedCase *kase, GPtrArray *parties,
    MedReasonCode *why)
{
  gboolean remote = FALSE;

  for (guint i = 0; parties && i < parties->len; i++) {
    MedParty *p = g_ptr_array_index (parties, i);

    if (p->attendance == MED_ATTENDANCE_REMOTE)
      remote = TRUE;
  }
  if (kase->minors) {
    if (why)
      *why = MED_REASON_WHY_MINORS;
    return MED_ROOM_KIND_FAMILY;
  }
  if (med_case_kind_is_family (kase->kind)) {
    if (why)
      *why = MED_REASON_WHY_FAMILY;
    return MED_ROOM_KIND_FAMILY;
  }
  if (remote) {
    if (why)
      *why = MED_REASON_WHY_REMOTE;
    return MED_ROOM_KIND_REMOTE;
  }
  if (why)
    *why = MED_REASON_WHY_GENERAL;
  return MED_ROOM_KIND_WARM;
}

/* Which room kind may stand in when the preferred kind has no slot
 * (docs/scheduling.md, "Room kinds"). A party attending remotely needs a
 * video terminal, so the remote room is the fallback of a family case with
 * a remote party. A case with minors never goes to a warm room, and goes
 * to the remote room only when the centre has no family room that could
 * hold it (with a terminal, seating everyone present): where such a room
 * exists, the case waits for it. preferred_rooms is how many rooms of the
 * preferred kind suit the session. */
static gboolean
fallback_kind (const MedCase *kase, MedRoomKind preferred, gboolean needs_video,
    guint preferred_rooms, MedRoomKind *out)
{
  switch (preferred) {
    case MED_ROOM_KIND_FAMILY:
      if (kase->minors && (!needs_video || preferred_rooms > 0))
        return FALSE;
      *out = needs_video ? MED_ROOM_KIND_REMOTE : MED_ROOM_KIND_WARM;
      return TRUE;
    case MED_ROOM_KIND_WARM:
      *out = MED_ROOM_KIND_FAMILY;
      return TRUE;
    case MED_ROOM_KIND_REMOTE:
      /* any other room with a video terminal */
      *out = MED_ROOM_KIND_WARM;
      return TRUE;
    default:
      return FALSE;
  }
}

static gboolean
parties_need_language (GPtrArray *parties, const MedMediator *m,
    const char **missing, guint *n_missing)
{
  *n_missing = 0;
  for (guint i = 0; parties && i < parties->len; i++) {
    MedParty *p = g_ptr_array_index (parties, i);
    gboolean seen = FALSE;

    if (med_mediator_speaks (m, p->language))
      continue;
    for (guint k = 0; k < *n_missing; k++)
      seen |= strcmp (missing[k], p->language) == 0;
    if (!seen && *n_missing < MED_MAX_PARTIES)
      missing[(*n_missing)++] = p->language;
  }
  return *n_missing > 0;
}

/* Can interpreter i bridge the mediator to every missing language? */
static gboolean
interpreter_bridges (const MedInterpreter *in, const MedMediator *m,
    const char **missing, guint n_missing)
{
  for (guint k = 0; k < n_missing; k++) {
    gboolean ok = FALSE;

    for (guint l = 0; m->languages && m->languages[l] && !ok; l++)
      ok = med_interpreter_covers (in, m->languages[l], missing[k]);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static void
select_rooms (Search *se, MedRoomKind kind, gboolean any_video_room)
{
  MedScheduler *s = se->s;
  gboolean kind_seen = FALSE;

  g_array_set_size (se->rooms, 0);
  for (guint i = 0; i < s->rooms->len; i++) {
    const MedRoom *r = g_array_index (s->rooms, RoomRes, i).room;
    gboolean video = r->kind == MED_ROOM_KIND_REMOTE
        || (r->features & MED_ROOM_FEATURE_VIDEO);

    if (any_video_room) {
      /* the remote room was preferred and is full: any other room with a
       * terminal */
      if (!video || r->kind == MED_ROOM_KIND_REMOTE)
        continue;
    } else if (r->kind != kind) {
      continue;
    }
    if (se->needs_video && !video)
      continue;
    kind_seen = TRUE;
    if ((guint) r->capacity < se->in_person) {
      continue;
    }
    g_array_append_val (se->rooms, i);
  }
  if (!kind_seen)
    se->blocks |= MED_BLOCK_ROOM_KIND;
  else if (se->rooms->len == 0)
    se->blocks |= MED_BLOCK_CAPACITY;
}

static void
select_units (Search *se)
{
  MedScheduler *s = se->s;
  GPtrArray *parties = se->req->parties;
  gboolean specialist = FALSE;
  const char *missing[MED_MAX_PARTIES];

  g_array_set_size (se->units, 0);
  for (guint m = 0; m < s->mediators->len; m++) {
    const MedMediator *med
        = g_array_index (s->mediators, MediatorRes, m).mediator;
    guint n_missing = 0;

    if (!(med->specialties & (1u << se->kase->kind)))
      continue;
    specialist = TRUE;
    if (!parties_need_language (parties, med, missing, &n_missing)) {
      Unit u = { m, -1 };

      g_array_append_val (se->units, u);
      continue;
    }
    for (guint i = 0; i < s->interps->len; i++) {
      const MedInterpreter *in
          = g_array_index (s->interps, InterpRes, i).interpreter;

      if (interpreter_bridges (in, med, missing, n_missing)) {
        Unit u = { m, (gint) i };

        g_array_append_val (se->units, u);
      }
    }
  }
  if (!specialist)
    se->blocks |= MED_BLOCK_SPECIALTY;
  else if (se->units->len == 0)
    se->blocks |= MED_BLOCK_LANGUAGE;
}

static gboolean
unit_free (Search *se, const Unit *u, MedTime t, MedTime *until)
{
  MedScheduler *s = se->s;
  MediatorRes *m = &g_array_index (s->mediators, MediatorRes, u->m);
  MedTime e = t + se->duration, a = 0, b = 0;
  gboolean busy_m = timeline_conflict (m->busy, t, e, &a);
  gboolean busy_i = u->i >= 0
      && timeline_conflict (g_array_index (s->interps, InterpRes, u->i).busy, t,
          e, &b);

  if (!busy_m && !busy_i)
    return TRUE;
  *until = MAX (busy_m ? a : t, busy_i ? b : t);
  return FALSE;
}

static gboolean
room_free (Search *se, guint ri, MedTime t, MedTime *until)
{
  RoomRes *r = &g_array_index (se->s->rooms, RoomRes, ri);
  MedTime setup = (MedTime) r->room->setup_minutes * 60;
  MedTime cleanup = (MedTime) r->room->cleanup_minutes * 60;
  MedTime end = 0;

  if (!timeline_conflict (r->busy, t - setup, t + se->duration + cleanup, &end))
    return TRUE;
  *until = end + setup;
  return FALSE;
}

typedef struct
{
  MedTime start;
  guint room;
  Unit unit;
} Found;

/* Soft preferences between units free at the same time: the follow-up
 * mediator first, then the lighter day, then the lighter snapshot load,
 * then the lower id. */
static gboolean
unit_better (Search *se, const Unit *a, const Unit *b, MedTime day_start,
    MedTime day_end)
{
  MediatorRes *ma = &g_array_index (se->s->mediators, MediatorRes, a->m);
  MediatorRes *mb = &g_array_index (se->s->mediators, MediatorRes, b->m);
  gboolean pa = ma->mediator->id == se->preferred_mediator;
  gboolean pb = mb->mediator->id == se->preferred_mediator;
  guint da, db;

  if (pa != pb)
    return pa;
  da = sched_count_starts (ma->starts, day_start, day_end);
  db = sched_count_starts (mb->starts, day_start, day_end);
  if (da != db)
    return da < db;
  if (ma->total != mb->total)
    return ma->total < mb->total;
  if (ma->mediator->id != mb->mediator->id)
    return ma->mediator->id < mb->mediator->id;
  return (a->i < 0) || (b->i >= 0 && a->i < b->i);
}

/* The smallest room that fits keeps larger rooms for larger sessions. */
static gboolean
room_better (Search *se, guint a, guint b)
{
  const MedRoom *ra = g_array_index (se->s->rooms, RoomRes, a).room;
  const MedRoom *rb = g_array_index (se->s->rooms, RoomRes, b).room;

  if (ra->capacity != rb->capacity)
    return ra->capacity < rb->capacity;
  return ra->id < rb->id;
}

/* Earliest start in one working window at or after t0, or FALSE. The caps
 * bit set says which units may still take a session this day. */
static gboolean
search_window (Search *se, const MedInterval *w, const DayWindows *day,
    MedTime t0, const gboolean *unit_ok, Found *found)
{
  const MedCentre *c = se->s->snap.centre;
  MedTime t = align_up (MAX (t0, w->start), day->midnight, c->slot_minutes);
  MedTime end_limit = w->end;

  if (se->horizon_end < end_limit)
    end_limit = se->horizon_end;

  while (t + se->duration <= end_limit) {
    MedTime next = t, until = 0, room_next = G_MAXINT64, unit_next = G_MAXINT64;
    gint best_room = -1, best_unit = -1;

    if (timeline_conflict (se->party_busy, t, t + se->duration, &until)) {
      se->blocks |= MED_BLOCK_PARTY_BUSY;
      t = align_up (until, day->midnight, c->slot_minutes);
      continue;
    }
    for (guint k = 0; k < se->rooms->len; k++) {
      guint ri = g_array_index (se->rooms, guint, k);

      if (room_free (se, ri, t, &until)) {
        if (best_room < 0 || room_better (se, ri, (guint) best_room))
          best_room = (gint) ri;
      } else if (until < room_next) {
        room_next = until;
      }
    }
    if (best_room >= 0) {
      for (guint k = 0; k < se->units->len; k++) {
        const Unit *u = &g_array_index (se->units, Unit, k);

        if (!unit_ok[k])
          continue;
        if (unit_free (se, u, t, &until)) {
          if (best_unit < 0
              || unit_better (se, u,
                  &g_array_index (se->units, Unit, best_unit), day->midnight,
                  day->day_end))
            best_unit = (gint) k;
        } else if (until < unit_next) {
          unit_next = until;
        }
      }
    }
    if (best_room >= 0 && best_unit >= 0) {
      found->start = t;
      found->room = (guint) best_room;
      found->unit = g_array_index (se->units, Unit, best_unit);
      return TRUE;
    }
    if (best_room < 0) {
      se->blocks |= MED_BLOCK_ROOM_BUSY;
      next = room_next;
    } else {
      se->blocks |= MED_BLOCK_MEDIATOR_BUSY;
      next = unit_next;
    }
    if (next == G_MAXINT64 || next <= t)
      break;
    t = align_up (next, day->midnight, c->slot_minutes);
  }
  return FALSE;
}

/* Why this room, mediator, interpreter and start: the slot's reasons and
 * their English. fallback_why (when fallback) says why another kind of
 * room; how how the start was chosen (MED_REASON_EARLIEST: the earliest
 * free one). */
static void
describe (Search *se, const Found *f, gboolean fallback,
    const MedReason *fallback_why, MedReasonCode how, MedSlot *slot)
{
  MedScheduler *s = se->s;
  const MedRoom *r = g_array_index (s->rooms, RoomRes, f->room).room;
  const MedMediator *m
      = g_array_index (s->mediators, MediatorRes, f->unit.m).mediator;
  GPtrArray *why = med_reasons_new ();
  MedReason *x;

  x = add_reason (why, MED_REASON_ROOM);
  x->name = g_strdup (r->name);
  x->kind = r->kind;
  x->cause = se->kind_why;
  if (fallback && fallback_why != NULL)
    g_ptr_array_add (why, med_reason_copy (fallback_why));
  x = add_reason (why, MED_REASON_CAPACITY);
  x->a = r->capacity;
  x->b = (gint) se->in_person;
  x = add_reason (why, MED_REASON_MEDIATOR);
  x->name = g_strdup (m->name);
  x->case_kind = se->kase->kind;
  x->words = m->languages ? g_strjoinv (",", m->languages) : g_strdup ("");
  if (m->id == se->preferred_mediator)
    add_reason (why, MED_REASON_SAME_MEDIATOR);
  if (f->unit.i >= 0) {
    const MedInterpreter *in
        = g_array_index (s->interps, InterpRes, f->unit.i).interpreter;

    x = add_reason (why, MED_REASON_INTERPRETER);
    x->name = g_strdup (in->name);
    x->words = g_strjoinv (",", in->pairs);
  }
  x = add_reason (why, how);
  x->a = f->unit.i >= 0;
  if (slot->reasons != NULL)
    g_ptr_array_unref (slot->reasons);
  slot->reasons = why;
  g_free (slot->explanation);
  slot->explanation = med_i18n_reasons (MED_LANG_EN, why);
}

/* Walks the days from not_before, collecting up to want slots. Returns
 * FALSE only on an error that must stop the search (unpublished year with
 * nothing found yet); *results may be empty. */
static gboolean
search_days (Search *se, gboolean fallback, const MedReason *fallback_why,
    guint want, GPtrArray *results, GError **error)
{
  MedScheduler *s = se->s;
  const MedCentre *c = s->snap.centre;
  g_autofree gboolean *unit_ok = g_new0 (gboolean, MAX (se->units->len, 1));
  gint y, mo, d;
  GDate date;
  MedTime cursor = se->not_before;

  if (!med_workcal_local_date (c->zone, se->not_before, &y, &mo, &d, error))
    return FALSE;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, d, mo, y);

  for (guint n = 0; n < MAX_SEARCH_DAYS && results->len < want; n++) {
    const DayWindows *day = sched_get_day (s, &date);
    gboolean any_unit = FALSE, any_present = FALSE;

    if (day->error != NULL) {
      if (results->len > 0)
        return TRUE;
      if (g_error_matches (day->error, MED_WORKCAL_ERROR,
              MED_WORKCAL_ERROR_UNPUBLISHED))
        g_set_error (error, MED_SCHEDULER_ERROR,
            MED_SCHEDULER_ERROR_UNPUBLISHED, "%s", day->error->message);
      else
        g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
            "%s", day->error->message);
      return FALSE;
    }
    if (day->midnight >= se->horizon_end)
      break;
    se->days_checked++;
    if (day->n == 0) {
      se->days_closed++;
      se->blocks |= MED_BLOCK_CLOSED;
    } else {
      /* Daily caps and whole-day leave decide which units may work. */
      for (guint k = 0; k < se->units->len; k++) {
        const Unit *u = &g_array_index (se->units, Unit, k);
        MediatorRes *m = &g_array_index (s->mediators, MediatorRes, u->m);
        guint today
            = sched_count_starts (m->starts, day->midnight, day->day_end);

        unit_ok[k] = TRUE;
        if (timeline_covers (m->leave, day->iv[0].start,
                day->iv[day->n - 1].end)) {
          unit_ok[k] = FALSE;
          continue;
        }
        any_present = TRUE;
        if (today >= (guint) m->mediator->daily_cap) {
          unit_ok[k] = FALSE;
          continue;
        }
        any_unit = TRUE;
      }
      if (!any_present && se->units->len > 0)
        se->blocks |= MED_BLOCK_LEAVE;
      else if (!any_unit && se->units->len > 0)
        se->blocks |= MED_BLOCK_DAILY_CAP;

      for (guint w = 0; any_unit && w < day->n && results->len < want; w++) {
        Found f;

        if (se->duration > day->iv[w].end - day->iv[w].start) {
          gboolean fits_somewhere = FALSE;

          for (guint x = 0; x < day->n; x++)
            fits_somewhere |= se->duration <= day->iv[x].end - day->iv[x].start;
          if (!fits_somewhere)
            se->blocks |= MED_BLOCK_DURATION;
          continue;
        }
        while (results->len < want
            && search_window (se, &day->iv[w], day, cursor, unit_ok, &f)) {
          MedSlot *slot = g_new0 (MedSlot, 1);
          const MedRoom *r = g_array_index (s->rooms, RoomRes, f.room).room;

          slot->start = f.start;
          slot->end = f.start + se->duration;
          slot->room_id = r->id;
          slot->room_kind = r->kind;
          slot->mediator_id
              = g_array_index (s->mediators, MediatorRes, f.unit.m)
                    .mediator->id;
          slot->interpreter_id = f.unit.i >= 0
              ? g_array_index (s->interps, InterpRes, f.unit.i).interpreter->id
              : 0;
          slot->mode = se->needs_video
              ? (se->in_person > 1 ? MED_BOOKING_MODE_HYBRID
                                   : MED_BOOKING_MODE_REMOTE)
              : MED_BOOKING_MODE_IN_PERSON;
          slot->fallback = fallback;
          describe (se, &f, fallback, fallback_why, MED_REASON_EARLIEST, slot);
          g_ptr_array_add (results, slot);
          /* Alternatives start after this one ends. */
          cursor = slot->end;
        }
      }
    }
    if (se->req->single_day)
      break;
    g_date_add_days (&date, 1);
  }
  return TRUE;
}

/* What blocked the search, then its limit. (transfer full) */
static GPtrArray *
explain_blocks (Search *se, MedRoomKind kind)
{
  const MedCentre *c = se->s->snap.centre;
  GPtrArray *e = med_reasons_new ();
  guint b = se->blocks;
  MedReason *x;

  if (b & MED_BLOCK_ROOM_KIND) {
    x = add_reason (e, MED_REASON_NO_ROOM_KIND);
    x->kind = kind;
    x->a = se->needs_video;
  }
  if (b & MED_BLOCK_CAPACITY) {
    x = add_reason (e, MED_REASON_NO_CAPACITY);
    x->kind = kind;
    x->a = (gint) se->in_person;
  }
  if (b & MED_BLOCK_SPECIALTY)
    add_reason (e, MED_REASON_NO_SPECIALTY)->case_kind = se->kase->kind;
  if (b & MED_BLOCK_LANGUAGE)
    add_reason (e, MED_REASON_NO_LANGUAGE);
  if (b & MED_BLOCK_LEAVE)
    add_reason (e, MED_REASON_LEAVE);
  if (b & MED_BLOCK_DAILY_CAP)
    add_reason (e, MED_REASON_DAILY_CAP);
  if (b & MED_BLOCK_DURATION)
    add_reason (e, MED_REASON_DURATION);
  if (b & MED_BLOCK_ROOM_BUSY)
    add_reason (e, MED_REASON_ROOM_BUSY);
  if ((b & (MED_BLOCK_ROOM_BUSY | MED_BLOCK_ROOM_KIND | MED_BLOCK_CAPACITY))
      && se->minors_wait)
    add_reason (e, MED_REASON_MINORS_WAIT);
  if (b & MED_BLOCK_MEDIATOR_BUSY)
    add_reason (e, MED_REASON_MEDIATOR_BUSY);
  if (b & MED_BLOCK_PARTY_BUSY)
    add_reason (e, MED_REASON_PARTY_BUSY);
  if (b & MED_BLOCK_CLOSED) {
    x = add_reason (e, MED_REASON_CLOSED);
    x->a = (gint) se->days_closed;
    x->b = (gint) se->days_checked;
  }
  if (se->req->single_day) {
    x = add_reason (e, MED_REASON_NOTHING_ON_DAY);
    x->words = med_time_format_local (se->not_before, c->zone, "%Y-%m-%d");
  } else if (se->deadline_limits) {
    se->blocks |= MED_BLOCK_DEADLINE;
    x = add_reason (e, MED_REASON_NOTHING_BEFORE_DEADLINE);
    x->words
        = med_time_format_local (se->kase->deadline, c->zone, "%Y-%m-%d %H:%M");
  } else {
    se->blocks |= MED_BLOCK_HORIZON;
    x = add_reason (e, MED_REASON_NOTHING_BEFORE);
    x->words = med_time_format_local (se->horizon_end, c->zone, "%Y-%m-%d");
  }
  return e;
}

void
med_slot_free (MedSlot *s)
{
  if (s == NULL)
    return;
  if (s->reasons != NULL)
    g_ptr_array_unref (s->reasons);
  g_free (s->explanation);
  g_free (s);
}

static gboolean
prepare_search (MedScheduler *s, const MedSlotRequest *req, Search *se,
    GError **error)
{
  const MedCentre *c = s->snap.centre;
  const MedCase *k = req->kase;
  gint minutes = req->duration_minutes ? req->duration_minutes
      : k->duration_minutes            ? k->duration_minutes
                                       : c->default_duration_minutes;

  if (minutes <= 0 || minutes > 24 * 60) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
        "session duration must be between 1 minute and 24 hours");
    return FALSE;
  }
  if (req->parties == NULL || req->parties->len == 0) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
        "case %s has no parties", k->number ? k->number : "?");
    return FALSE;
  }
  se->s = s;
  se->req = req;
  se->kase = k;
  se->duration = (MedTime) minutes * 60;
  se->preferred_mediator = req->preferred_mediator_id;
  if (req->not_before != 0)
    se->not_before = req->not_before;
  else
    se->not_before
        = req->now + (k->urgent ? 0 : (MedTime) c->min_notice_minutes * 60);
  if (se->not_before < req->now)
    se->not_before = req->now;
  se->horizon_end = req->horizon_end
      ? req->horizon_end
      : se->not_before + (MedTime) MED_SCHEDULER_DEFAULT_HORIZON_DAYS * 86400;
  if (k->deadline != 0 && k->deadline < se->horizon_end) {
    se->horizon_end = k->deadline;
    se->deadline_limits = TRUE;
  }
  se->in_person = 1; /* the mediator */
  for (guint i = 0; i < req->parties->len; i++) {
    MedParty *p = g_ptr_array_index (req->parties, i);

    if (p->attendance == MED_ATTENDANCE_REMOTE)
      se->needs_video = TRUE;
    else
      se->in_person++;
  }
  se->rooms = g_array_new (FALSE, FALSE, sizeof (guint));
  se->units = g_array_new (FALSE, FALSE, sizeof (Unit));
  se->party_busy = timeline_new ();
  if (req->party_busy != NULL)
    g_array_append_vals (se->party_busy, req->party_busy->data,
        req->party_busy->len);
  append_case_sessions (s, k->id, se->party_busy);
  timeline_normalise (se->party_busy);
  return TRUE;
}

static void
search_clear (Search *se)
{
  g_clear_pointer (&se->rooms, g_array_unref);
  g_clear_pointer (&se->units, g_array_unref);
  g_clear_pointer (&se->party_busy, g_array_unref);
}

GPtrArray *
med_scheduler_find_slots (MedScheduler *s, const MedSlotRequest *req,
    guint *blocks, GError **error)
{
  g_autoptr (GPtrArray) results
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_slot_free);
  Search se = { 0 };
  MedRoomKind kind, fb;
  guint want;

  g_return_val_if_fail (s != NULL && req != NULL && req->kase != NULL, NULL);

  if (!prepare_search (s, req, &se, error))
    goto out;
  want = req->max_results ? MIN (req->max_results, 100) : 1;
  kind = med_scheduler_preferred_kind (req->kase, req->parties, &se.kind_why);
  select_rooms (&se, kind, FALSE);
  select_units (&se);
  se.minors_wait = req->kase->minors && s->snap.centre->allow_fallback
      && !fallback_kind (req->kase, kind, se.needs_video, se.rooms->len, &fb);

  if (req->kase->urgent && !req->single_day && s->snap.centre->allow_fallback) {
    /* Urgent: today in any allowed room beats tomorrow in the preferred. */
    MedSlotRequest today = *req;
    Search st = se;

    today.single_day = TRUE;
    st.req = &today;
    if (!search_days (&st, FALSE, NULL, want, results, error))
      goto out;
    if (results->len == 0
        && fallback_kind (req->kase, kind, se.needs_video, se.rooms->len,
            &fb)) {
      g_autoptr (MedReason) urgent
          = med_reason_new (MED_REASON_FALLBACK_URGENT);

      select_rooms (&st, fb, kind == MED_ROOM_KIND_REMOTE);
      if (!search_days (&st, TRUE, urgent, want, results, error))
        goto out;
      select_rooms (&se, kind, FALSE);
    }
    se.blocks |= st.blocks;
    if (results->len > 0)
      goto out;
  }

  if (se.rooms->len > 0 && se.units->len > 0) {
    if (!search_days (&se, FALSE, NULL, want, results, error))
      goto out;
  }
  if (results->len == 0 && s->snap.centre->allow_fallback
      && fallback_kind (req->kase, kind, se.needs_video, se.rooms->len, &fb)) {
    g_autoptr (MedReason) why = med_reason_new (MED_REASON_FALLBACK_FULL);
    guint pref_blocks = se.blocks;

    why->kind = kind;
    why->other_kind = fb;
    why->sub = explain_blocks (&se, kind);
    se.blocks = 0;
    select_rooms (&se, fb, kind == MED_ROOM_KIND_REMOTE);
    if (se.rooms->len > 0 && se.units->len > 0) {
      se.days_checked = se.days_closed = 0;
      if (!search_days (&se, TRUE, why, want, results, error))
        goto out;
    }
    /* "no room of kind X" speaks of the preferred kind only */
    se.blocks = pref_blocks
        | (se.blocks & ~(guint) (MED_BLOCK_ROOM_KIND | MED_BLOCK_CAPACITY));
  }
  if (results->len == 0) {
    g_autofree char *prefix = g_strdup_printf ("no slot for case %s: ",
        req->kase->number ? req->kase->number : "?");

    set_reasons_error (error, MED_SCHEDULER_ERROR_NO_SLOT, prefix,
        explain_blocks (&se, kind));
  }

out:
  if (blocks)
    *blocks = se.blocks;
  search_clear (&se);
  if (error && *error)
    return NULL;
  return g_steal_pointer (&results);
}

void
med_scheduler_reserve (MedScheduler *s, const MedSlot *slot, gint64 case_id)
{
  MedBusy b = { slot->start, slot->end, 0, case_id, slot->room_id,
    slot->mediator_id, slot->interpreter_id };

  occupy (s, &b, TRUE);
}

/* ---- checking a hand-picked slot ---- */

static gint
find_room_candidate (Search *se, gint64 room_id)
{
  for (guint k = 0; k < se->rooms->len; k++) {
    guint ri = g_array_index (se->rooms, guint, k);

    if (g_array_index (se->s->rooms, RoomRes, ri).room->id == room_id)
      return (gint) ri;
  }
  return -1;
}

gboolean
sched_check_slot (MedScheduler *s, const MedSlotRequest *req, MedSlot *slot,
    const MedReason *fallback_why, MedReasonCode how, GError **error)
{
  const MedCentre *c;
  Search se = { 0 };
  MedSlotRequest r;
  MedRoomKind kind, fb;
  gboolean fallback = FALSE, ok = FALSE, in_window = FALSE;
  guint ri_index = index_of (s->room_by_id, slot->room_id);
  guint mi_index = index_of (s->med_by_id, slot->mediator_id);
  gint ri = -1, unit = -1;
  gint y, mo, d;
  GDate date;
  const DayWindows *day;
  MedTime until = 0;
  Found f;

  g_return_val_if_fail (s != NULL && req != NULL && slot != NULL, FALSE);
  c = s->snap.centre;
  if (slot->end <= slot->start) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
        "the session must end after it starts");
    return FALSE;
  }
  if (ri_index == 0 || mi_index == 0
      || (slot->interpreter_id != 0
          && index_of (s->interp_by_id, slot->interpreter_id) == 0)) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
        "unknown %s",
        ri_index == 0       ? "room"
            : mi_index == 0 ? "mediator"
                            : "interpreter");
    return FALSE;
  }
  r = *req;
  r.duration_minutes = (gint) ((slot->end - slot->start + 59) / 60);
  if (!prepare_search (s, &r, &se, error))
    return FALSE;
  se.duration = slot->end - slot->start;
  if (slot->start < req->now) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
        "the session starts in the past");
    goto out;
  }
  kind = med_scheduler_preferred_kind (req->kase, req->parties, &se.kind_why);
  select_rooms (&se, kind, FALSE);
  ri = find_room_candidate (&se, slot->room_id);
  if (ri < 0 && c->allow_fallback
      && fallback_kind (req->kase, kind, se.needs_video, se.rooms->len, &fb)) {
    select_rooms (&se, fb, kind == MED_ROOM_KIND_REMOTE);
    ri = find_room_candidate (&se, slot->room_id);
    fallback = ri >= 0;
  }
  if (ri < 0) {
    const MedRoom *room = g_array_index (s->rooms, RoomRes, ri_index - 1).room;
    GPtrArray *why = med_reasons_new ();
    MedReason *x = add_reason (why, MED_REASON_ROOM_UNSUITED);

    x->name = g_strdup (room->name);
    x->kind = room->kind;
    x->other_kind = kind;
    x->cause = se.kind_why;
    x->a = (gint) se.in_person;
    x->b = se.needs_video;
    if (req->kase->minors)
      add_reason (why, MED_REASON_MINORS_STAY);
    set_reasons_error (error, MED_SCHEDULER_ERROR_NO_SLOT, NULL, why);
    goto out;
  }
  select_units (&se);
  for (guint k = 0; k < se.units->len; k++) {
    const Unit *u = &g_array_index (se.units, Unit, k);
    gint64 iid = u->i >= 0
        ? g_array_index (s->interps, InterpRes, u->i).interpreter->id
        : 0;

    if (u->m == mi_index - 1 && iid == slot->interpreter_id)
      unit = (gint) k;
  }
  if (unit < 0) {
    MedReason *x = med_reason_new (MED_REASON_MEDIATOR_UNSUITED);

    x->name = g_strdup (
        g_array_index (s->mediators, MediatorRes, mi_index - 1).mediator->name);
    x->a = slot->interpreter_id != 0;
    x->b = (se.blocks & MED_BLOCK_SPECIALTY) != 0;
    set_reason_error (error, MED_SCHEDULER_ERROR_NO_SLOT, x);
    goto out;
  }

  if (!med_workcal_local_date (c->zone, slot->start, &y, &mo, &d, error))
    goto out;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, d, mo, y);
  day = sched_get_day (s, &date);
  if (day->error != NULL) {
    g_set_error (error, MED_SCHEDULER_ERROR,
        g_error_matches (day->error, MED_WORKCAL_ERROR,
            MED_WORKCAL_ERROR_UNPUBLISHED)
            ? MED_SCHEDULER_ERROR_UNPUBLISHED
            : MED_SCHEDULER_ERROR_INVALID,
        "%s", day->error->message);
    goto out;
  }
  for (guint w = 0; w < day->n; w++)
    in_window |= slot->start >= day->iv[w].start && slot->end <= day->iv[w].end;
  if (!in_window) {
    MedReason *x = med_reason_new (MED_REASON_OUTSIDE_HOURS);

    x->a = day->n == 0;
    x->name = g_strdup (day->info.name);
    set_reason_error (error, MED_SCHEDULER_ERROR_NO_SLOT, x);
    goto out;
  }
  if (req->kase->deadline != 0 && slot->end > req->kase->deadline) {
    set_reason_error (error, MED_SCHEDULER_ERROR_NO_SLOT,
        med_reason_new (MED_REASON_AFTER_DEADLINE));
    goto out;
  }
  {
    const Unit *u = &g_array_index (se.units, Unit, unit);
    MediatorRes *m = &g_array_index (s->mediators, MediatorRes, u->m);

    if (sched_count_starts (m->starts, day->midnight, day->day_end)
        >= (guint) m->mediator->daily_cap) {
      MedReason *x = med_reason_new (MED_REASON_CAP_REACHED);

      x->name = g_strdup (m->mediator->name);
      x->a = m->mediator->daily_cap;
      set_reason_error (error, MED_SCHEDULER_ERROR_NO_SLOT, x);
      goto out;
    }
    if (timeline_conflict (m->leave, slot->start, slot->end, &until)) {
      MedReason *x = med_reason_new (MED_REASON_ON_LEAVE);

      x->name = g_strdup (m->mediator->name);
      set_reason_error (error, MED_SCHEDULER_ERROR_NO_SLOT, x);
      goto out;
    }
    if (!room_free (&se, (guint) ri, slot->start, &until)
        || !unit_free (&se, u, slot->start, &until)
        || timeline_conflict (se.party_busy, slot->start, slot->end, &until)) {
      set_reason_error (error, MED_SCHEDULER_ERROR_CONFLICT,
          med_reason_new (MED_REASON_TAKEN));
      goto out;
    }
    f.start = slot->start;
    f.room = (guint) ri;
    f.unit = *u;
  }
  slot->room_kind = g_array_index (s->rooms, RoomRes, ri).room->kind;
  slot->mode = se.needs_video
      ? (se.in_person > 1 ? MED_BOOKING_MODE_HYBRID : MED_BOOKING_MODE_REMOTE)
      : MED_BOOKING_MODE_IN_PERSON;
  slot->fallback = fallback;
  describe (&se, &f, fallback, fallback_why, how, slot);
  ok = TRUE;

out:
  search_clear (&se);
  return ok;
}

gboolean
med_scheduler_check_slot (MedScheduler *s, const MedSlotRequest *req,
    MedSlot *slot, GError **error)
{
  g_autoptr (MedReason) by_hand = med_reason_new (MED_REASON_FALLBACK_BY_HAND);

  return sched_check_slot (s, req, slot, by_hand, MED_REASON_EARLIEST, error);
}

/* ---- for the day planner ---- */

gboolean
sched_profile_init (MedScheduler *s, const MedSlotRequest *req, SchedProfile *p,
    GError **error)
{
  Search se = { 0 };
  MedRoomKind fb;

  memset (p, 0, sizeof *p);
  if (!prepare_search (s, req, &se, error))
    return FALSE;
  p->kind
      = med_scheduler_preferred_kind (req->kase, req->parties, &p->kind_why);
  se.kind_why = p->kind_why;
  select_rooms (&se, p->kind, FALSE);
  select_units (&se);
  p->blocks = se.blocks;
  p->rooms = g_array_copy (se.rooms);
  p->n_preferred = p->rooms->len;
  if (s->snap.centre->allow_fallback
      && fallback_kind (req->kase, p->kind, se.needs_video, se.rooms->len,
          &fb)) {
    select_rooms (&se, fb, p->kind == MED_ROOM_KIND_REMOTE);
    g_array_append_vals (p->rooms, se.rooms->data, se.rooms->len);
  }
  p->duration = se.duration;
  p->not_before = se.not_before;
  p->horizon_end = se.horizon_end;
  p->in_person = se.in_person;
  p->needs_video = se.needs_video;
  p->units = g_steal_pointer (&se.units);
  p->party_busy = g_steal_pointer (&se.party_busy);
  search_clear (&se);
  return TRUE;
}

void
sched_profile_clear (SchedProfile *p)
{
  g_clear_pointer (&p->rooms, g_array_unref);
  g_clear_pointer (&p->units, g_array_unref);
  g_clear_pointer (&p->party_busy, g_array_unref);
}

gboolean
sched_mediator_away (MedScheduler *s, guint m, const DayWindows *day)
{
  const MediatorRes *mr = &g_array_index (s->mediators, MediatorRes, m);

  return day->n > 0
      && timeline_covers (mr->leave, day->iv[0].start, day->iv[day->n - 1].end);
}
