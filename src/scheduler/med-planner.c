/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-planner.c — the day planner: places as many of a day's cases as the
 * day can hold, urgent cases first, then improves the soft preferences.
 * Pure like the rest of the scheduler: no SQLite, no clock, no network.
 *
 * The day is cut into the start grid of the centre (every slot_minutes
 * from local midnight, inside the working windows). Each case gets, once,
 * a bit set of the starts it may take (windows, earliest start, deadline,
 * its parties' other commitments) and one per room and per mediator unit
 * (mediator plus the interpreter the parties need) it may use, with the
 * bookings already made taken out. The sessions the plan places are kept
 * per resource; testing whether a case fits is then a few word-wide
 * operations per room and unit.
 *
 * The search:
 *   1. the greedy plan — every case in queue order (urgency, deadline,
 *      intake, id) at its earliest feasible start, a room of the preferred
 *      kind before a fallback room: exactly what the one-pass planner did;
 *   2. an upper bound — no plan places more cases than fit through the
 *      rooms, or through the mediators, or through the interpreters, each
 *      a bipartite flow whose capacities pack the shortest sessions into
 *      each resource's free time; nor more than leaves out the cases that
 *      can only use a group of resources (one room, the family rooms, the
 *      rooms with a terminal, one mediator, …) beyond what fits into that
 *      group's free minutes; a plan that reaches it is optimal;
 *   3. a large-neighbourhood search ("ruin and recreate"): take a few
 *      sessions out (those standing in the way of an unplaced case, or
 *      random ones, or ones near each other in time), put the freed cases
 *      back in a new order and place, and keep the result unless it places
 *      fewer urgent cases or fewer cases. Among plans that place as many,
 *      each case left out carries a weight that grows while it stays out,
 *      and a step that leaves heavier cases out is mostly undone: the
 *      search keeps turning to the cases it has not yet fitted. The best
 *      plan seen is kept. The search spends a work budget (counted in
 *      resource tests, not in seconds) so that the same input gives the
 *      same plan;
 *   4. polishing the soft preferences case by case, and for each case
 *      still unplaced, the trade that placing it would take: which cases
 *      would lose their place (and if none would, the trade is made).
 * Last, every placed slot is checked again by med_scheduler_check_slot's
 * code and reserved in the scheduler, and every unplaced case gets the
 * single-slot search's explanation plus the trade. */
#define G_LOG_DOMAIN "medsched-scheduler"

#include "med-scheduler-private.h"

#include <medsched/med-i18n.h>

#include <string.h>

/* Soft preferences, in minutes of later start: a fallback room costs as
 * much as starting ten hours later (more than any day), losing the
 * follow-up mediator two hours; each extra session on a mediator's day
 * costs W_BALANCE × (2 × sessions already that day + 1). */
#define W_FALLBACK  600
#define W_FOLLOW_UP 120
#define W_BALANCE   15

#define DEFAULT_SEED  0x6d656473u
#define TRADE_OPTIONS 4
#define POLISH_PASSES 4
/* The search's mix, found by measurement (BENCHMARKS.md): of ten steps,
 * five make room for an unplaced case, three take out sessions around
 * one moment, two random sessions; one make-room step in ten ignores how
 * many sessions are in the way; a step that keeps the count but leaves
 * heavier cases out is kept one time in twenty. */
#define EJECT_SHARE    5
#define MOMENT_END     8
#define ANY_OPTION     10
#define ACCEPT_HEAVIER 5

/* ---- bit sets over the day's start grid ---- */

static inline void
bits_clear (guint64 *b, guint w)
{
  memset (b, 0, w * sizeof (guint64));
}

static inline gboolean
bits_any (const guint64 *b, guint w)
{
  for (guint i = 0; i < w; i++)
    if (b[i])
      return TRUE;
  return FALSE;
}

static inline gboolean
bits_test (const guint64 *b, gint k)
{
  return (b[k >> 6] >> (k & 63)) & 1;
}

static inline gint
bits_first (const guint64 *b, guint w)
{
  for (guint i = 0; i < w; i++)
    if (b[i])
      return (gint) (i * 64 + __builtin_ctzll (b[i]));
  return -1;
}

static inline guint
bits_count (const guint64 *b, guint w)
{
  guint n = 0;

  for (guint i = 0; i < w; i++)
    n += (guint) __builtin_popcountll (b[i]);
  return n;
}

/* The n-th set bit (n from 0), -1 if fewer are set. */
static gint
bits_nth (const guint64 *b, guint w, guint n)
{
  for (guint i = 0; i < w; i++) {
    guint64 x = b[i];
    guint c = (guint) __builtin_popcountll (x);

    if (n >= c) {
      n -= c;
      continue;
    }
    while (n-- > 0)
      x &= x - 1;
    return (gint) (i * 64 + __builtin_ctzll (x));
  }
  return -1;
}

static void
bits_set_range (guint64 *b, gint K, gint lo, gint hi)
{
  gint wlo, whi;

  if (lo < 0)
    lo = 0;
  if (hi > K - 1)
    hi = K - 1;
  if (lo > hi)
    return;
  wlo = lo >> 6;
  whi = hi >> 6;
  if (wlo == whi) {
    b[wlo] |= (~G_GUINT64_CONSTANT (0) >> (63 - (hi - lo))) << (lo & 63);
    return;
  }
  b[wlo] |= ~G_GUINT64_CONSTANT (0) << (lo & 63);
  for (gint w = wlo + 1; w < whi; w++)
    b[w] = ~G_GUINT64_CONSTANT (0);
  b[whi] |= ~G_GUINT64_CONSTANT (0) >> (63 - (hi & 63));
}

static MedTime
floor_div (MedTime x, MedTime y)
{
  MedTime q = x / y;

  return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
}

/* ---- the planner's state ---- */

typedef struct
{
  guint room; /* index into the scheduler's rooms */
  gboolean fallback;
} CRoom;

typedef struct
{
  const MedQueueEntry *q;
  MedSlotRequest req;
  SchedProfile prof;
  gboolean valid; /* prof was built */
  char *invalid; /* why not */
  gboolean urgent;
  MedTime dur;
  guint64 *starts; /* W words */
  guint n_rooms;
  CRoom *rooms;
  guint64 *room_mask; /* n_rooms × W: starts minus the room's bookings */
  guint n_units;
  Unit *units;
  guint64 *unit_mask; /* n_units × W */
  guint n_groups;
  guint *groups; /* contact groups shared with other cases of the day */
  gint follow_up; /* preferred mediator's index, -1 = none */
  gboolean possible; /* some option exists before anything is planned */
  guint flex; /* how many (start, room, unit) options, roughly */
  /* the trade for an unplaced case */
  GArray *trade; /* guint case indexes */
  gint trade_k;
  guint trade_r, trade_u;
} PCase;

typedef struct
{
  MedTime a, b;
  guint c;
} Iv;

typedef struct
{
  gint k; /* start index, -1 = unplaced */
  guint r; /* index into the case's rooms */
  guint u; /* index into the case's units */
} Asg;

typedef struct
{
  guint c;
  Asg old;
} Undo;

typedef struct
{
  guint ver;
  MedTime dur;
} CacheKey;

#define CACHE_WAYS 4

typedef enum
{
  POLICY_GREEDY, /* preferred kind, earliest, smallest room, lightest day */
  POLICY_RANDOM, /* preferred kind, an early start, any free room/unit */
  POLICY_ANY_ROOM, /* like random, fallback rooms on a par */
} Policy;

typedef struct
{
  MedScheduler *s;
  const DayWindows *day;
  MedTime grid0, step, first_open;
  gint K;
  guint W;
  guint n;
  PCase *pc;
  guint n_rooms, n_meds, n_ints, n_groups;
  /* planned sessions (Iv) per resource: rooms, mediators, interpreters,
   * contact groups, in one array (res) that the four point into */
  guint n_res;
  GArray **iv;
  GArray **room_iv, **med_iv, **int_iv, **grp_iv;
  /* per resource: a version bumped at every change, and the conflict
   * masks last computed for a few session lengths */
  guint *ver;
  CacheKey *ckey;
  guint8 *cnext;
  guint64 *cbits;
  guint64 *zero;
  GArray **room_users, **med_users, **int_users, **grp_users; /* guint */
  guint *med_base; /* sessions already booked that day */
  guint *med_count; /* sessions planned */
  Asg *asg;
  guint placed, urgent_placed;
  gint64 soft;
  guint *weight; /* per case: grows while it stays unplaced */
  guint64 wsum; /* weights of the unplaced cases that could be placed */
  /* undo log of the current step */
  GArray *undo;
  gboolean *touched;
  gboolean recording;
  /* candidate collection */
  guint *stamp;
  guint gen;
  GRand *rng;
  guint64 work, work_limit;
  MedPlanStopFunc stop;
  gpointer stop_data;
  guint64 *scratch;
} Planner;

#define ROOM(P, ri)   (&g_array_index ((P)->s->rooms, RoomRes, (ri)))
#define MED(P, mi)    (&g_array_index ((P)->s->mediators, MediatorRes, (mi)))
#define INTERP(P, ii) (&g_array_index ((P)->s->interps, InterpRes, (ii)))

static inline MedTime
start_of (const Planner *P, gint k)
{
  return P->grid0 + (MedTime) k * P->step;
}

/* Sets the starts k at which a session [t - pre, t + dur + post) would
 * overlap [a, b). */
static inline void
mark_conflict (const Planner *P, guint64 *bits, MedTime a, MedTime b,
    MedTime dur, MedTime pre, MedTime post)
{
  MedTime lo = floor_div (a - dur - post - P->grid0, P->step) + 1;
  MedTime hi = -floor_div (-(b + pre - P->grid0), P->step) - 1;

  if (hi < 0 || lo > P->K - 1 || lo > hi)
    return;
  bits_set_range (bits, P->K, (gint) lo, (gint) hi);
}

/* Marks the conflicts with the intervals of a sorted timeline that reach
 * the day. */
static void
mark_timeline (const Planner *P, guint64 *bits, const Timeline *t, MedTime dur,
    MedTime pre, MedTime post)
{
  MedTime from = P->grid0 - pre;
  MedTime to = start_of (P, P->K) + dur + post;

  if (t == NULL)
    return;
  for (guint i = sched_timeline_first_ending_after (t, from); i < t->len; i++) {
    const MedInterval *iv = &g_array_index (t, MedInterval, i);

    if (iv->start >= to)
      break;
    mark_conflict (P, bits, iv->start, iv->end, dur, pre, post);
  }
}

static void
mark_planned (const Planner *P, guint64 *bits, const GArray *ivs, MedTime dur,
    MedTime pre, MedTime post)
{
  for (guint i = 0; i < ivs->len; i++) {
    const Iv *iv = &g_array_index (ivs, Iv, i);

    mark_conflict (P, bits, iv->a, iv->b, dur, pre, post);
  }
}

static inline MedTime
room_setup (const Planner *P, guint ri)
{
  return (MedTime) ROOM (P, ri)->room->setup_minutes * 60;
}

static inline MedTime
room_cleanup (const Planner *P, guint ri)
{
  return (MedTime) ROOM (P, ri)->room->cleanup_minutes * 60;
}

static inline gboolean
med_full (const Planner *P, guint m)
{
  return P->med_base[m] + P->med_count[m]
      >= (guint) MAX (MED (P, m)->mediator->daily_cap, 0);
}

/* ---- placing and taking out ---- */

static void
record (Planner *P, guint c)
{
  Undo u = { c, P->asg[c] };

  if (!P->recording || P->touched[c])
    return;
  P->touched[c] = TRUE;
  g_array_append_val (P->undo, u);
}

/* The resources of a session changed: their cached masks are stale. */
static void
touch_resources (Planner *P, const PCase *pc, guint ri, guint m, gint i)
{
  P->ver[ri]++;
  P->ver[P->n_rooms + m]++;
  if (i >= 0)
    P->ver[P->n_rooms + P->n_meds + (guint) i]++;
  for (guint g = 0; g < pc->n_groups; g++)
    P->ver[P->n_rooms + P->n_meds + P->n_ints + pc->groups[g]]++;
}

/* The starts at which a session of length dur (with pre and post kept
 * free around it: a room's setup and cleanup) would overlap a session
 * planned on resource res. The mask stays valid until the next call for
 * the same resource. */
static const guint64 *
blocked (Planner *P, guint res, MedTime dur, MedTime pre, MedTime post)
{
  CacheKey *key = &P->ckey[(gsize) res * CACHE_WAYS];
  guint64 *bits;
  guint w;

  if (P->iv[res]->len == 0)
    return P->zero;
  for (w = 0; w < CACHE_WAYS; w++)
    if (key[w].ver == P->ver[res] && key[w].dur == dur)
      return P->cbits + ((gsize) res * CACHE_WAYS + w) * P->W;
  w = P->cnext[res]++ % CACHE_WAYS;
  bits = P->cbits + ((gsize) res * CACHE_WAYS + w) * P->W;
  bits_clear (bits, P->W);
  mark_planned (P, bits, P->iv[res], dur, pre, post);
  key[w].ver = P->ver[res];
  key[w].dur = dur;
  return bits;
}

static gint64
case_cost (const Planner *P, guint c, const Asg *a)
{
  const PCase *pc = &P->pc[c];
  gint64 cost = (start_of (P, a->k) - P->first_open) / 60;

  if (pc->rooms[a->r].fallback)
    cost += W_FALLBACK;
  if (pc->follow_up >= 0 && (gint) pc->units[a->u].m != pc->follow_up)
    cost += W_FOLLOW_UP;
  return cost;
}

static void
iv_remove (GArray *ivs, guint c)
{
  for (guint i = 0; i < ivs->len; i++) {
    if (g_array_index (ivs, Iv, i).c == c) {
      g_array_remove_index_fast (ivs, i);
      return;
    }
  }
  g_assert_not_reached ();
}

static void
place (Planner *P, guint c, const Asg *a)
{
  PCase *pc = &P->pc[c];
  MedTime t = start_of (P, a->k);
  guint ri = pc->rooms[a->r].room;
  guint m = pc->units[a->u].m;
  gint i = pc->units[a->u].i;
  Iv riv = { t - room_setup (P, ri), t + pc->dur + room_cleanup (P, ri), c };
  Iv iv = { t, t + pc->dur, c };
  guint load = P->med_base[m] + P->med_count[m];

  g_assert (P->asg[c].k < 0);
  record (P, c);
  P->asg[c] = *a;
  g_array_append_val (P->room_iv[ri], riv);
  g_array_append_val (P->med_iv[m], iv);
  if (i >= 0)
    g_array_append_val (P->int_iv[i], iv);
  for (guint g = 0; g < pc->n_groups; g++)
    g_array_append_val (P->grp_iv[pc->groups[g]], iv);
  touch_resources (P, pc, ri, m, i);
  P->soft += case_cost (P, c, a) + W_BALANCE * (2 * (gint64) load + 1);
  P->wsum -= P->weight[c];
  P->med_count[m]++;
  P->placed++;
  P->urgent_placed += pc->urgent;
}

static void
unplace (Planner *P, guint c)
{
  PCase *pc = &P->pc[c];
  Asg a = P->asg[c];
  guint ri = pc->rooms[a.r].room;
  guint m = pc->units[a.u].m;
  gint i = pc->units[a.u].i;
  guint load;

  g_assert (a.k >= 0);
  record (P, c);
  iv_remove (P->room_iv[ri], c);
  iv_remove (P->med_iv[m], c);
  if (i >= 0)
    iv_remove (P->int_iv[i], c);
  for (guint g = 0; g < pc->n_groups; g++)
    iv_remove (P->grp_iv[pc->groups[g]], c);
  touch_resources (P, pc, ri, m, i);
  P->med_count[m]--;
  load = P->med_base[m] + P->med_count[m];
  P->soft -= case_cost (P, c, &a) + W_BALANCE * (2 * (gint64) load + 1);
  P->wsum += P->weight[c];
  P->placed--;
  P->urgent_placed -= pc->urgent;
  P->asg[c].k = -1;
}

static void
step_begin (Planner *P)
{
  P->recording = TRUE;
}

static void
step_commit (Planner *P)
{
  for (guint x = 0; x < P->undo->len; x++)
    P->touched[g_array_index (P->undo, Undo, x).c] = FALSE;
  g_array_set_size (P->undo, 0);
  P->recording = FALSE;
}

static void
step_revert (Planner *P)
{
  P->recording = FALSE;
  for (guint x = 0; x < P->undo->len; x++) {
    guint c = g_array_index (P->undo, Undo, x).c;

    if (P->asg[c].k >= 0)
      unplace (P, c);
  }
  for (guint x = 0; x < P->undo->len; x++) {
    Undo *u = &g_array_index (P->undo, Undo, x);

    if (u->old.k >= 0)
      place (P, u->c, &u->old);
  }
  P->recording = TRUE;
  step_commit (P);
}

/* ---- finding a place ---- */

/* Lighter choices first, as the single-slot search orders them. */
static gboolean
unit_before (const Planner *P, const PCase *pc, guint a, guint b)
{
  const Unit *ua = &pc->units[a], *ub = &pc->units[b];
  const MediatorRes *ma = MED (P, ua->m), *mb = MED (P, ub->m);
  gboolean pa = (gint) ua->m == pc->follow_up;
  gboolean pb = (gint) ub->m == pc->follow_up;
  guint da = P->med_base[ua->m] + P->med_count[ua->m];
  guint db = P->med_base[ub->m] + P->med_count[ub->m];

  if (pa != pb)
    return pa;
  if (da != db)
    return da < db;
  if (ma->total + P->med_count[ua->m] != mb->total + P->med_count[ub->m])
    return ma->total + P->med_count[ua->m] < mb->total + P->med_count[ub->m];
  if (ma->mediator->id != mb->mediator->id)
    return ma->mediator->id < mb->mediator->id;
  return (ua->i < 0) || (ub->i >= 0 && ua->i < ub->i);
}

static gboolean
room_before (const Planner *P, const PCase *pc, guint a, guint b)
{
  const MedRoom *ra = ROOM (P, pc->rooms[a].room)->room;
  const MedRoom *rb = ROOM (P, pc->rooms[b].room)->room;

  if (pc->rooms[a].fallback != pc->rooms[b].fallback)
    return !pc->rooms[a].fallback;
  if (ra->capacity != rb->capacity)
    return ra->capacity < rb->capacity;
  return ra->id < rb->id;
}

/* Where case c fits in the current plan, chosen by policy. Rooms are
 * tested first (a case has few), then the units, whose mediator's planned
 * sessions are marked once for all the interpreters paired with it. */
static gboolean
find_insertion (Planner *P, guint c, Policy pol, Asg *out)
{
  PCase *pc = &P->pc[c];
  guint W = P->W;
  guint64 *avail = P->scratch, *pref = avail + W;
  guint64 *fb = pref + W, *units = fb + W;
  guint64 *umask = units + W;
  const guint64 *mb, *ib;
  guint64 *rmask = umask + (gsize) pc->n_units * W;
  guint64 *pick;
  gint k = -1, best_r = -1, best_u = -1;
  guint n_r = 0, n_u = 0;
  gboolean any_room = FALSE, any_unit = FALSE;

  if (!pc->possible)
    return FALSE;
  memcpy (avail, pc->starts, W * sizeof (guint64));
  for (guint g = 0; g < pc->n_groups; g++) {
    const guint64 *bl = blocked (P,
        P->n_rooms + P->n_meds + P->n_ints + pc->groups[g], pc->dur, 0, 0);

    for (guint w = 0; w < W; w++)
      avail[w] &= ~bl[w];
    P->work++;
  }
  bits_clear (pref, W);
  bits_clear (fb, W);
  for (guint r = 0; r < pc->n_rooms; r++) {
    guint64 *rm = rmask + (gsize) r * W;
    guint ri = pc->rooms[r].room;
    gboolean any = FALSE;

    P->work++;
    for (guint w = 0; w < W; w++)
      any |= (rm[w] = pc->room_mask[(gsize) r * W + w] & avail[w]) != 0;
    if (!any)
      continue;
    mb = blocked (P, ri, pc->dur, room_setup (P, ri), room_cleanup (P, ri));
    for (guint w = 0; w < W; w++) {
      rm[w] &= ~mb[w];
      (pc->rooms[r].fallback ? fb : pref)[w] |= rm[w];
      any_room |= rm[w] != 0;
    }
  }
  if (!any_room)
    return FALSE;
  for (guint w = 0; w < W; w++)
    avail[w] &= pref[w] | fb[w];
  bits_clear (units, W);
  for (guint u = 0; u < pc->n_units; u++) {
    guint64 *um = umask + (gsize) u * W;
    const Unit *un = &pc->units[u];
    gboolean any = FALSE;

    P->work++;
    if (med_full (P, un->m)) {
      bits_clear (um, W);
      continue;
    }
    for (guint w = 0; w < W; w++)
      any |= (um[w] = pc->unit_mask[(gsize) u * W + w] & avail[w]) != 0;
    if (!any)
      continue;
    mb = blocked (P, P->n_rooms + un->m, pc->dur, 0, 0);
    ib = un->i >= 0
        ? blocked (P, P->n_rooms + P->n_meds + (guint) un->i, pc->dur, 0, 0)
        : P->zero;
    for (guint w = 0; w < W; w++) {
      um[w] &= ~(mb[w] | ib[w]);
      units[w] |= um[w];
      any_unit |= um[w] != 0;
    }
  }
  if (!any_unit)
    return FALSE;
  for (guint w = 0; w < W; w++) {
    pref[w] &= units[w];
    fb[w] &= units[w];
  }
  if (pol == POLICY_ANY_ROOM) {
    for (guint w = 0; w < W; w++)
      pref[w] |= fb[w];
    pick = pref;
  } else {
    pick = bits_any (pref, W) ? pref : fb;
  }
  if (!bits_any (pick, W))
    return FALSE;

  if (pol == POLICY_GREEDY || g_rand_int_range (P->rng, 0, 10) < 6) {
    k = bits_first (pick, W);
  } else {
    guint n = bits_count (pick, W);

    k = bits_nth (pick, W, (guint) g_rand_int_range (P->rng, 0, MIN (n, 4)));
  }
  for (guint r = 0; r < pc->n_rooms; r++) {
    if (!bits_test (rmask + (gsize) r * W, k))
      continue;
    /* the class picked: preferred rooms, or fallback rooms when no
     * preferred room is free (POLICY_ANY_ROOM: both) */
    if (pol != POLICY_ANY_ROOM && pc->rooms[r].fallback != (pick == fb))
      continue;
    if (pol == POLICY_GREEDY) {
      if (best_r < 0 || room_before (P, pc, r, (guint) best_r))
        best_r = (gint) r;
    } else if (g_rand_int_range (P->rng, 0, (gint) ++n_r) == 0) {
      best_r = (gint) r;
    }
  }
  for (guint u = 0; u < pc->n_units; u++) {
    if (!bits_test (umask + (gsize) u * W, k))
      continue;
    if (pol == POLICY_GREEDY) {
      if (best_u < 0 || unit_before (P, pc, u, (guint) best_u))
        best_u = (gint) u;
    } else if (g_rand_int_range (P->rng, 0, (gint) ++n_u) == 0) {
      best_u = (gint) u;
    }
  }
  g_assert (best_r >= 0 && best_u >= 0);
  out->k = k;
  out->r = (guint) best_r;
  out->u = (guint) best_u;
  return TRUE;
}

static gboolean
try_place (Planner *P, guint c, Policy pol)
{
  Asg a;

  if (P->asg[c].k >= 0 || !find_insertion (P, c, pol, &a))
    return FALSE;
  place (P, c, &a);
  return TRUE;
}

/* ---- what stands in the way ---- */

static guint
count_overlaps (const GArray *ivs, MedTime a, MedTime b)
{
  guint n = 0;

  for (guint i = 0; i < ivs->len; i++) {
    const Iv *iv = &g_array_index (ivs, Iv, i);

    n += iv->a < b && a < iv->b;
  }
  return n;
}

static void
add_overlaps (Planner *P, const GArray *ivs, MedTime a, MedTime b, GArray *out)
{
  for (guint i = 0; i < ivs->len; i++) {
    const Iv *iv = &g_array_index (ivs, Iv, i);

    if (iv->a < b && a < iv->b && P->stamp[iv->c] != P->gen) {
      P->stamp[iv->c] = P->gen;
      g_array_append_val (out, iv->c);
    }
  }
}

/* How many planned sessions stand in the way of unit u of case c at
 * start t: its mediator's and interpreter's overlapping sessions, plus
 * one if the mediator's daily cap is still reached without them. */
static guint
unit_blockers (Planner *P, const PCase *pc, guint u, MedTime t)
{
  const Unit *un = &pc->units[u];
  guint nm = count_overlaps (P->med_iv[un->m], t, t + pc->dur);
  guint n = nm;

  if (un->i >= 0)
    n += count_overlaps (P->int_iv[un->i], t, t + pc->dur);
  if (P->med_base[un->m] + P->med_count[un->m] - nm
      >= (guint) MED (P, un->m)->mediator->daily_cap)
    n++;
  return n;
}

static guint
room_blockers (Planner *P, const PCase *pc, guint r, MedTime t)
{
  guint ri = pc->rooms[r].room;

  return count_overlaps (P->room_iv[ri], t - room_setup (P, ri),
      t + pc->dur + room_cleanup (P, ri));
}

/* Whether case c fits at option a in the current plan. */
static gboolean
fits_at (Planner *P, guint c, const Asg *a)
{
  const PCase *pc = &P->pc[c];
  const Unit *un = &pc->units[a->u];
  MedTime t = start_of (P, a->k);

  if (!bits_test (pc->room_mask + (gsize) a->r * P->W, a->k)
      || !bits_test (pc->unit_mask + (gsize) a->u * P->W, a->k)
      || med_full (P, un->m) || room_blockers (P, pc, a->r, t) > 0
      || count_overlaps (P->med_iv[un->m], t, t + pc->dur) > 0
      || (un->i >= 0 && count_overlaps (P->int_iv[un->i], t, t + pc->dur) > 0))
    return FALSE;
  for (guint g = 0; g < pc->n_groups; g++)
    if (count_overlaps (P->grp_iv[pc->groups[g]], t, t + pc->dur) > 0)
      return FALSE;
  return TRUE;
}

/* The cases to take out so that case c fits at option a (deduplicated,
 * in a stable order). */
static void
collect_blockers (Planner *P, guint c, const Asg *a, GArray *out)
{
  const PCase *pc = &P->pc[c];
  MedTime t = start_of (P, a->k);
  guint ri = pc->rooms[a->r].room;
  const Unit *un = &pc->units[a->u];
  guint first = out->len, on_med = 0;

  P->gen++;
  add_overlaps (P, P->room_iv[ri], t - room_setup (P, ri),
      t + pc->dur + room_cleanup (P, ri), out);
  add_overlaps (P, P->med_iv[un->m], t, t + pc->dur, out);
  if (un->i >= 0)
    add_overlaps (P, P->int_iv[un->i], t, t + pc->dur, out);
  for (guint g = 0; g < pc->n_groups; g++)
    add_overlaps (P, P->grp_iv[pc->groups[g]], t, t + pc->dur, out);
  for (guint x = first; x < out->len; x++) {
    guint b = g_array_index (out, guint, x);

    on_med += P->pc[b].units[P->asg[b].u].m == un->m;
  }
  if (P->med_base[un->m] + P->med_count[un->m] - on_med
      >= (guint) MED (P, un->m)->mediator->daily_cap) {
    /* the cap: the mediator's latest other session goes */
    gint pick = -1;
    MedTime latest = G_MININT64;

    for (guint i = 0; i < P->med_iv[un->m]->len; i++) {
      const Iv *iv = &g_array_index (P->med_iv[un->m], Iv, i);

      if (P->stamp[iv->c] == P->gen)
        continue;
      if (iv->a > latest || (iv->a == latest && (gint) iv->c > pick)) {
        latest = iv->a;
        pick = (gint) iv->c;
      }
    }
    if (pick >= 0) {
      P->stamp[pick] = P->gen;
      g_array_append_val (out, pick);
    }
  }
}

typedef struct
{
  Asg a;
  guint cost; /* sessions in the way (room, mediator, interpreter, party,
               * and one more when the mediator's cap is reached) */
} Option;

static int
compare_option (gconstpointer x, gconstpointer y)
{
  const Option *a = x, *b = y;

  if (a->cost != b->cost)
    return a->cost < b->cost ? -1 : 1;
  if (a->a.k != b->a.k)
    return a->a.k < b->a.k ? -1 : 1;
  if (a->a.r != b->a.r)
    return a->a.r < b->a.r ? -1 : 1;
  return (a->a.u > b->a.u) - (a->a.u < b->a.u);
}

/* For each start where case c could go if the plan made room, the room
 * and the unit with the fewest sessions in the way; appended to out. */
static void
ejection_options (Planner *P, guint c, GArray *out)
{
  PCase *pc = &P->pc[c];

  for (gint k = 0; k < P->K; k++) {
    MedTime t = start_of (P, k);
    guint best_rn = G_MAXUINT, best_un = G_MAXUINT, cb = 0;
    gint br = -1, bu = -1;
    Option o;

    if (!bits_test (pc->starts, k))
      continue;
    for (guint r = 0; r < pc->n_rooms; r++) {
      guint n;

      if (!bits_test (pc->room_mask + (gsize) r * P->W, k))
        continue;
      P->work++;
      n = room_blockers (P, pc, r, t) * 2 + pc->rooms[r].fallback;
      if (n < best_rn) {
        best_rn = n;
        br = (gint) r;
      }
    }
    if (br < 0)
      continue;
    for (guint u = 0; u < pc->n_units; u++) {
      guint n;

      if (!bits_test (pc->unit_mask + (gsize) u * P->W, k))
        continue;
      P->work++;
      n = unit_blockers (P, pc, u, t);
      if (n < best_un) {
        best_un = n;
        bu = (gint) u;
      }
    }
    if (bu < 0)
      continue;
    for (guint g = 0; g < pc->n_groups; g++)
      cb += count_overlaps (P->grp_iv[pc->groups[g]], t, t + pc->dur);
    o.a.k = k;
    o.a.r = (guint) br;
    o.a.u = (guint) bu;
    o.cost = cb + best_rn / 2 + best_un;
    g_array_append_val (out, o);
  }
}

/* ---- gathering the cases to put back ---- */

static void
add_candidate (Planner *P, GArray *cand, guint c)
{
  if (P->stamp[c] == P->gen)
    return;
  P->stamp[c] = P->gen;
  g_array_append_val (cand, c);
}

/* Unplaced cases that may use a resource of case c's session. */
static void
add_users_of (Planner *P, GArray *cand, guint c)
{
  const PCase *pc = &P->pc[c];
  const Asg *a = &P->asg[c];
  const Unit *un = &pc->units[a->u];
  GArray *lists[4 + 16];
  guint n = 0;

  lists[n++] = P->room_users[pc->rooms[a->r].room];
  lists[n++] = P->med_users[un->m];
  if (un->i >= 0)
    lists[n++] = P->int_users[un->i];
  for (guint g = 0; g < pc->n_groups && n < G_N_ELEMENTS (lists); g++)
    lists[n++] = P->grp_users[pc->groups[g]];
  for (guint l = 0; l < n; l++) {
    for (guint x = 0; x < lists[l]->len; x++) {
      guint u = g_array_index (lists[l], guint, x);

      if (P->asg[u].k < 0)
        add_candidate (P, cand, u);
    }
  }
}

/* Takes the cases in out of the plan, and collects them with the unplaced
 * cases that could use what they free. */
static void
ruin (Planner *P, GArray *out, GArray *cand)
{
  for (guint x = 0; x < out->len; x++) {
    guint c = g_array_index (out, guint, x);

    add_users_of (P, cand, c);
    add_candidate (P, cand, c);
    unplace (P, c);
  }
}

typedef struct
{
  guint c;
  guint key;
} Keyed;

static int
compare_keyed (gconstpointer x, gconstpointer y)
{
  const Keyed *a = x, *b = y;

  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  return (a->c > b->c) - (a->c < b->c);
}

/* Puts the candidates back: urgent ones first, then in an order drawn at
 * random (in queue order, at random, or the least flexible first). */
static void
recreate (Planner *P, GArray *cand, Policy pol)
{
  g_autoptr (GArray) order
      = g_array_sized_new (FALSE, FALSE, sizeof (Keyed), cand->len);
  gint how = g_rand_int_range (P->rng, 0, 3);

  for (guint x = 0; x < cand->len; x++) {
    guint c = g_array_index (cand, guint, x);
    Keyed k = { c, 0 };

    if (how == 0)
      k.key = c;
    else if (how == 1)
      k.key = (guint) g_rand_int_range (P->rng, 0, 1 << 20);
    else
      k.key = MIN (P->pc[c].flex, 1u << 12)
          * (guint) g_rand_int_range (P->rng, 64, 192);
    k.key = (k.key >> 1) | (P->pc[c].urgent ? 0 : 1u << 31);
    g_array_append_val (order, k);
  }
  g_array_sort (order, compare_keyed);
  for (guint x = 0; x < order->len; x++) {
    guint c = g_array_index (order, Keyed, x).c;

    try_place (P, c, pol);
  }
}

/* ---- upper bounds ---- */

typedef struct
{
  guint to;
  gint cap;
  gint next;
} FEdge;

typedef struct
{
  GArray *e; /* FEdge; edge i and i ^ 1 are each other's reverse */
  gint *head;
  gint *level;
  gint *cur;
  guint n;
} Flow;

static void
flow_init (Flow *f, guint n)
{
  f->n = n;
  f->e = g_array_new (FALSE, FALSE, sizeof (FEdge));
  f->head = g_new (gint, n);
  f->level = g_new (gint, n);
  f->cur = g_new (gint, n);
  for (guint i = 0; i < n; i++)
    f->head[i] = -1;
}

static void
flow_clear (Flow *f)
{
  g_array_unref (f->e);
  g_free (f->head);
  g_free (f->level);
  g_free (f->cur);
}

static void
flow_add (Flow *f, guint u, guint v, gint cap)
{
  FEdge a = { v, cap, f->head[u] }, b = { u, 0, f->head[v] };

  f->head[u] = (gint) f->e->len;
  g_array_append_val (f->e, a);
  f->head[v] = (gint) f->e->len;
  g_array_append_val (f->e, b);
}

static gint
flow_push (Flow *f, guint u, guint t, gint pushed)
{
  if (u == t)
    return pushed;
  for (; f->cur[u] >= 0;
       f->cur[u] = g_array_index (f->e, FEdge, f->cur[u]).next) {
    FEdge *e = &g_array_index (f->e, FEdge, f->cur[u]);

    if (e->cap > 0 && f->level[e->to] == f->level[u] + 1) {
      gint d = flow_push (f, e->to, t, MIN (pushed, e->cap));

      if (d > 0) {
        e = &g_array_index (f->e, FEdge, f->cur[u]);
        e->cap -= d;
        g_array_index (f->e, FEdge, f->cur[u] ^ 1).cap += d;
        return d;
      }
    }
  }
  return 0;
}

/* Dinic's maximum flow; the graphs here are four layers deep. */
static guint
flow_max (Flow *f, guint s, guint t)
{
  g_autofree guint *queue = g_new (guint, f->n);
  guint total = 0;

  for (;;) {
    guint qh = 0, qt = 0;

    for (guint i = 0; i < f->n; i++)
      f->level[i] = -1;
    f->level[s] = 0;
    queue[qt++] = s;
    while (qh < qt) {
      guint u = queue[qh++];

      for (gint x = f->head[u]; x >= 0;
           x = g_array_index (f->e, FEdge, x).next) {
        FEdge *e = &g_array_index (f->e, FEdge, x);

        if (e->cap > 0 && f->level[e->to] < 0) {
          f->level[e->to] = f->level[u] + 1;
          queue[qt++] = e->to;
        }
      }
    }
    if (f->level[t] < 0)
      return total;
    memcpy (f->cur, f->head, f->n * sizeof (gint));
    for (gint d; (d = flow_push (f, s, t, G_MAXINT)) > 0;)
      total += (guint) d;
  }
}

static int
compare_mtime (gconstpointer a, gconstpointer b)
{
  MedTime x = *(const MedTime *) a, y = *(const MedTime *) b;

  return (x > y) - (x < y);
}

/* How many sessions of the given lengths (sorted ascending, each already
 * plus gap) fit into a stretch of length len: sessions are separated by
 * gap, so k of them need their lengths' sum minus one gap. */
static guint
fit_count (const GArray *lens, MedTime len, MedTime gap)
{
  MedTime sum = 0;
  guint k = 0;

  while (k < lens->len && sum + g_array_index (lens, MedTime, k) <= len + gap)
    sum += g_array_index (lens, MedTime, k++);
  return k;
}

/* The free stretches of a resource's working day from `from` on, its
 * bookings (busy; a session [t, t + d) must stay out of [start - lo,
 * end + hi) of each) taken out: their lengths, appended to out. */
static void
free_stretches (const Planner *P, const Timeline *busy, MedTime lo, MedTime hi,
    MedTime from, GArray *out)
{
  for (guint w = 0; w < P->day->n; w++) {
    MedTime a = MAX (P->day->iv[w].start, from), end = P->day->iv[w].end;
    guint i = busy ? sched_timeline_first_ending_after (busy, a - hi) : 0;

    while (a < end) {
      MedTime b = end, next = end;

      if (busy && i < busy->len) {
        const MedInterval *iv = &g_array_index (busy, MedInterval, i);

        if (iv->start - lo < end) {
          b = MAX (a, iv->start - lo);
          next = iv->end + hi;
          i++;
        }
      }
      if (b > a) {
        MedTime len = b - a;

        g_array_append_val (out, len);
      }
      a = next;
    }
  }
}

/* How many of those sessions fit into the free stretches, each packed on
 * its own. The start grid is ignored, so this is an upper bound. */
static guint
pack_count (const Planner *P, const GArray *lens, MedTime gap,
    const Timeline *busy, MedTime lo, MedTime hi, MedTime from)
{
  g_autoptr (GArray) free = g_array_new (FALSE, FALSE, sizeof (MedTime));
  guint total = 0;

  free_stretches (P, busy, lo, hi, from, free);
  for (guint x = 0; x < free->len; x++)
    total += fit_count (lens, g_array_index (free, MedTime, x), gap);
  return total;
}

/* Marks in seen (one byte per resource of the kind: 0 rooms, 1 mediators,
 * 2 interpreters) the resources case c may use; returns TRUE when the case
 * needs no resource of that kind (an interpreter, when a mediator shares
 * the parties' languages). */
static gboolean
case_resources (Planner *P, guint c, guint kind, guint8 *seen)
{
  const PCase *pc = &P->pc[c];
  guint n_res = kind == 0 ? P->n_rooms : kind == 1 ? P->n_meds : P->n_ints;
  gboolean bypass = FALSE;

  if (n_res > 0) /* seen is NULL when the day has none of the kind */
    memset (seen, 0, n_res);
  if (kind == 0) {
    for (guint r = 0; r < pc->n_rooms; r++)
      if (bits_any (pc->room_mask + (gsize) r * P->W, P->W))
        seen[pc->rooms[r].room] = 1;
    return FALSE;
  }
  for (guint u = 0; u < pc->n_units; u++) {
    if (!bits_any (pc->unit_mask + (gsize) u * P->W, P->W))
      continue;
    if (kind == 1)
      seen[pc->units[u].m] = 1;
    else if (pc->units[u].i < 0)
      bypass = TRUE;
    else
      seen[pc->units[u].i] = 1;
  }
  return bypass;
}

/* The free working time of a resource (as in pack_count), each free
 * stretch counted with one gap more: k sessions in a stretch of length L
 * need their lengths plus k gaps within L + gap. */
static MedTime
free_time (const Planner *P, MedTime gap, const Timeline *busy, MedTime lo,
    MedTime hi, MedTime from)
{
  g_autoptr (GArray) free = g_array_new (FALSE, FALSE, sizeof (MedTime));
  MedTime total = 0;

  free_stretches (P, busy, lo, hi, from, free);
  for (guint x = 0; x < free->len; x++)
    total += g_array_index (free, MedTime, x) + gap;
  return total;
}

/* Groups of resources of one kind, each resource in at most one group
 * (group_of[r] = G_MAXUINT: none). The cases that can use no resource
 * outside one group must share that group's free time (and, for
 * mediators, their daily caps); returns how many of them at least stay
 * unplaced, summed over the groups. */
static guint
group_shortfall (Planner *P, gboolean urgent_only, guint kind,
    const guint *group_of, guint n_groups, MedTime from)
{
  guint n_res = kind == 0 ? P->n_rooms : kind == 1 ? P->n_meds : P->n_ints;
  g_autofree guint8 *seen = g_new0 (guint8, MAX (n_res, 1));
  g_autofree MedTime *gap = g_new (MedTime, MAX (n_groups, 1));
  g_autofree MedTime *cap_time = g_new0 (MedTime, MAX (n_groups, 1));
  g_autofree guint *cap_count = g_new0 (guint, MAX (n_groups, 1));
  GArray **lens = g_new0 (GArray *, MAX (n_groups, 1));
  guint shortfall = 0;

  for (guint g = 0; g < n_groups; g++)
    gap[g] = G_MAXINT64;
  for (guint r = 0; r < n_res; r++) {
    guint g = group_of[r];

    if (g == G_MAXUINT)
      continue;
    if (kind == 0) {
      MedTime rg = room_setup (P, r) + room_cleanup (P, r);

      gap[g] = MIN (gap[g], rg);
      cap_time[g] += free_time (P, rg, ROOM (P, r)->busy, room_cleanup (P, r),
          room_setup (P, r), from);
    } else if (kind == 1) {
      gint left = MED (P, r)->mediator->daily_cap - (gint) P->med_base[r];

      gap[g] = 0;
      cap_time[g] += free_time (P, 0, MED (P, r)->busy, 0, 0, from);
      cap_count[g] += (guint) MAX (left, 0);
    } else {
      gap[g] = 0;
      cap_time[g] += free_time (P, 0, INTERP (P, r)->busy, 0, 0, from);
    }
  }
  for (guint c = 0; c < P->n; c++) {
    const PCase *pc = &P->pc[c];
    guint g = G_MAXUINT;
    gboolean one = TRUE;
    MedTime len;

    if (!pc->possible || (urgent_only && !pc->urgent))
      continue;
    if (case_resources (P, c, kind, seen))
      continue;
    for (guint r = 0; r < n_res && one; r++) {
      if (!seen[r])
        continue;
      if (group_of[r] == G_MAXUINT || (g != G_MAXUINT && group_of[r] != g))
        one = FALSE;
      g = group_of[r];
    }
    if (!one || g == G_MAXUINT)
      continue;
    if (lens[g] == NULL)
      lens[g] = g_array_new (FALSE, FALSE, sizeof (MedTime));
    len = pc->dur + gap[g];
    g_array_append_val (lens[g], len);
  }
  for (guint g = 0; g < n_groups; g++) {
    guint k;

    if (lens[g] == NULL)
      continue;
    g_array_sort (lens[g], compare_mtime);
    k = fit_count (lens[g], cap_time[g], 0);
    if (kind == 1)
      k = MIN (k, cap_count[g]);
    if (lens[g]->len > k)
      shortfall += lens[g]->len - k;
    P->work += lens[g]->len;
    g_array_unref (lens[g]);
  }
  g_free (lens);
  return shortfall;
}

/* The largest shortfall over a few natural ways of grouping each kind of
 * resource: one resource each, rooms by kind, rooms with and without a
 * video terminal, all of a kind together. */
static guint
best_shortfall (Planner *P, gboolean urgent_only, MedTime from)
{
  guint best = 0;

  for (guint kind = 0; kind < 3; kind++) {
    guint n_res = kind == 0 ? P->n_rooms : kind == 1 ? P->n_meds : P->n_ints;
    g_autofree guint *group_of = g_new (guint, MAX (n_res, 1));

    for (guint way = 0; way < (kind == 0 ? 4u : 2u); way++) {
      for (guint r = 0; r < n_res; r++) {
        const MedRoom *room = kind == 0 ? ROOM (P, r)->room : NULL;

        if (way == 0)
          group_of[r] = r;
        else if (way == 1)
          group_of[r] = 0;
        else if (way == 2)
          group_of[r] = (guint) room->kind;
        else
          group_of[r] = room->kind == MED_ROOM_KIND_REMOTE
              || (room->features & MED_ROOM_FEATURE_VIDEO);
      }
      best = MAX (best,
          group_shortfall (P, urgent_only, kind, group_of,
              way == 0       ? n_res
                  : way == 2 ? MED_ROOM_KIND_N
                             : 2,
              from));
    }
  }
  return best;
}

/* Three relaxations, each an assignment of cases to one kind of resource
 * with the resource's packing capacity; the smallest maximum flow bounds
 * every plan. urgent_only counts urgent cases only. */
static guint
upper_bound (Planner *P, gboolean urgent_only)
{
  guint n = P->n, best = 0;
  MedTime from = G_MAXINT64;

  for (guint c = 0; c < n; c++) {
    if (P->pc[c].possible && (!urgent_only || P->pc[c].urgent)) {
      best++;
      from = MIN (from, P->pc[c].req.not_before);
    }
  }
  if (best == 0)
    return 0;

  for (guint kind = 0; kind < 3; kind++) {
    guint n_res = kind == 0 ? P->n_rooms : kind == 1 ? P->n_meds : P->n_ints;
    guint src = n + n_res + 1, sink = n + n_res + 2, free_node = n + n_res;
    Flow f;
    g_autofree GArray **lens = g_new0 (GArray *, n_res);
    g_autofree guint8 *seen = g_new0 (guint8, n_res);
    guint value;

    flow_init (&f, n + n_res + 3);
    for (guint c = 0; c < n; c++) {
      PCase *pc = &P->pc[c];
      gboolean bypass = FALSE;

      if (!pc->possible || (urgent_only && !pc->urgent))
        continue;
      flow_add (&f, src, c, 1);
      bypass = case_resources (P, c, kind, seen);
      if (bypass) {
        flow_add (&f, c, free_node, 1);
        continue;
      }
      for (guint r = 0; r < n_res; r++) {
        MedTime len = pc->dur;

        if (!seen[r])
          continue;
        flow_add (&f, c, n + r, 1);
        if (lens[r] == NULL)
          lens[r] = g_array_new (FALSE, FALSE, sizeof (MedTime));
        if (kind == 0)
          len += room_setup (P, r) + room_cleanup (P, r);
        g_array_append_val (lens[r], len);
      }
    }
    flow_add (&f, free_node, sink, (gint) n);
    for (guint r = 0; r < n_res; r++) {
      guint cap;

      if (lens[r] == NULL)
        continue;
      g_array_sort (lens[r], compare_mtime);
      if (kind == 0) {
        cap = pack_count (P, lens[r], room_setup (P, r) + room_cleanup (P, r),
            ROOM (P, r)->busy, room_cleanup (P, r), room_setup (P, r), from);
      } else if (kind == 1) {
        gint left = MED (P, r)->mediator->daily_cap - (gint) P->med_base[r];

        cap = pack_count (P, lens[r], 0, MED (P, r)->busy, 0, 0, from);
        cap = MIN (cap, (guint) MAX (left, 0));
      } else {
        cap = pack_count (P, lens[r], 0, INTERP (P, r)->busy, 0, 0, from);
      }
      P->work += lens[r]->len;
      flow_add (&f, n + r, sink, (gint) cap);
      g_array_unref (lens[r]);
    }
    value = flow_max (&f, src, sink);
    flow_clear (&f);
    best = MIN (best, value);
  }
  {
    guint possible = 0, lost = best_shortfall (P, urgent_only, from);

    for (guint c = 0; c < n; c++)
      possible += P->pc[c].possible && (!urgent_only || P->pc[c].urgent);
    best = MIN (best, possible - MIN (lost, possible));
  }
  return best;
}

/* ---- setting up ---- */

static void
pcase_clear (PCase *pc)
{
  if (pc->valid)
    sched_profile_clear (&pc->prof);
  g_free (pc->invalid);
  g_free (pc->starts);
  g_free (pc->rooms);
  g_free (pc->room_mask);
  g_free (pc->units);
  g_free (pc->unit_mask);
  g_free (pc->groups);
  if (pc->trade)
    g_array_unref (pc->trade);
}

static void
free_lists (GArray **l, guint n)
{
  for (guint i = 0; i < n; i++)
    g_array_unref (l[i]);
  g_free (l);
}

static GArray **
new_lists (guint n, gsize elt)
{
  GArray **l = g_new (GArray *, n);

  for (guint i = 0; i < n; i++)
    l[i] = g_array_new (FALSE, FALSE, (guint) elt);
  return l;
}

static void
planner_clear (Planner *P)
{
  for (guint c = 0; c < P->n; c++)
    pcase_clear (&P->pc[c]);
  g_free (P->pc);
  free_lists (P->iv, P->n_res);
  g_free (P->ver);
  g_free (P->ckey);
  g_free (P->cnext);
  g_free (P->cbits);
  g_free (P->zero);
  free_lists (P->room_users, P->n_rooms);
  free_lists (P->med_users, P->n_meds);
  free_lists (P->int_users, P->n_ints);
  free_lists (P->grp_users, P->n_groups);
  g_free (P->med_base);
  g_free (P->med_count);
  g_free (P->asg);
  g_array_unref (P->undo);
  g_free (P->touched);
  g_free (P->weight);
  g_free (P->stamp);
  g_rand_free (P->rng);
  g_free (P->scratch);
}

/* Builds case c's bit sets from its profile. */
static void
prepare_case (Planner *P, guint c)
{
  PCase *pc = &P->pc[c];
  const SchedProfile *pf = &pc->prof;
  guint W = P->W;
  g_autofree guint64 *busy = g_new0 (guint64, W);
  g_autofree guint64 *ru = g_new0 (guint64, W);
  g_autofree guint64 *uu = g_new0 (guint64, W);
  guint n_u = 0;

  pc->dur = pf->duration;
  pc->starts = g_new0 (guint64, W);
  for (gint k = 0; k < P->K; k++) {
    MedTime t = start_of (P, k);
    gboolean in = FALSE;

    if (t < pf->not_before || t + pc->dur > pf->horizon_end)
      continue;
    for (guint w = 0; w < P->day->n; w++)
      in |= t >= P->day->iv[w].start && t + pc->dur <= P->day->iv[w].end;
    if (in)
      pc->starts[k >> 6] |= G_GUINT64_CONSTANT (1) << (k & 63);
  }
  mark_timeline (P, busy, pf->party_busy, pc->dur, 0, 0);
  for (guint w = 0; w < W; w++)
    pc->starts[w] &= ~busy[w];

  pc->n_rooms = pf->rooms->len;
  pc->rooms = g_new (CRoom, MAX (pc->n_rooms, 1));
  pc->room_mask = g_new0 (guint64, (gsize) MAX (pc->n_rooms, 1) * W);
  for (guint r = 0; r < pc->n_rooms; r++) {
    guint ri = g_array_index (pf->rooms, guint, r);
    guint64 *m = pc->room_mask + (gsize) r * W;

    pc->rooms[r].room = ri;
    pc->rooms[r].fallback = r >= pf->n_preferred;
    bits_clear (busy, W);
    mark_timeline (P, busy, ROOM (P, ri)->busy, pc->dur, room_setup (P, ri),
        room_cleanup (P, ri));
    for (guint w = 0; w < W; w++) {
      m[w] = pc->starts[w] & ~busy[w];
      ru[w] |= m[w];
    }
  }

  pc->units = g_new (Unit, MAX (pf->units->len, 1));
  pc->unit_mask = g_new0 (guint64, (gsize) MAX (pf->units->len, 1) * W);
  for (guint u = 0; u < pf->units->len; u++) {
    const Unit *un = &g_array_index (pf->units, Unit, u);
    guint64 *m = pc->unit_mask + (gsize) n_u * W;

    if (sched_mediator_away (P->s, un->m, P->day)
        || P->med_base[un->m] >= (guint) MED (P, un->m)->mediator->daily_cap)
      continue;
    bits_clear (busy, W);
    mark_timeline (P, busy, MED (P, un->m)->busy, pc->dur, 0, 0);
    if (un->i >= 0)
      mark_timeline (P, busy, INTERP (P, un->i)->busy, pc->dur, 0, 0);
    for (guint w = 0; w < W; w++) {
      m[w] = pc->starts[w] & ~busy[w];
      uu[w] |= m[w];
    }
    pc->units[n_u++] = *un;
  }
  pc->n_units = n_u;
  pc->follow_up = -1;
  if (pc->q->preferred_mediator_id != 0) {
    for (guint m = 0; m < P->n_meds; m++)
      if (MED (P, m)->mediator->id == pc->q->preferred_mediator_id)
        pc->follow_up = (gint) m;
  }
  for (guint w = 0; w < W; w++)
    pc->possible |= (ru[w] & uu[w]) != 0;
  if (pc->possible) {
    for (gint k = 0; k < P->K; k++) {
      guint nr = 0, nu = 0;

      if (!bits_test (ru, k) || !bits_test (uu, k))
        continue;
      for (guint r = 0; r < pc->n_rooms; r++)
        nr += bits_test (pc->room_mask + (gsize) r * W, k);
      for (guint u = 0; u < pc->n_units; u++)
        nu += bits_test (pc->unit_mask + (gsize) u * W, k);
      pc->flex += nr * nu;
    }
  }
}

/* Contacts shared by two or more cases of the batch become groups. */
static void
prepare_groups (Planner *P)
{
  g_autoptr (GHashTable) seen
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, NULL);
  g_autoptr (GHashTable) group = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  /* first pass: count cases per contact */
  for (guint c = 0; c < P->n; c++) {
    GPtrArray *ps = P->pc[c].q->parties;
    g_autoptr (GHashTable) mine = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint p = 0; ps && p < ps->len; p++) {
      MedParty *party = g_ptr_array_index (ps, p);
      guint n;

      if (party->contact == NULL || *party->contact == '\0'
          || !g_hash_table_add (mine, party->contact))
        continue;
      n = GPOINTER_TO_UINT (g_hash_table_lookup (seen, party->contact));
      g_hash_table_insert (seen, party->contact, GUINT_TO_POINTER (n + 1));
      if (n + 1 == 2) {
        g_hash_table_insert (group, party->contact,
            GUINT_TO_POINTER (names->len + 1));
        g_ptr_array_add (names, party->contact);
      }
    }
  }
  P->n_groups = names->len;
  P->n_res = P->n_rooms + P->n_meds + P->n_ints + P->n_groups;
  P->iv = new_lists (P->n_res, sizeof (Iv));
  P->room_iv = P->iv;
  P->med_iv = P->room_iv + P->n_rooms;
  P->int_iv = P->med_iv + P->n_meds;
  P->grp_iv = P->int_iv + P->n_ints;
  P->ver = g_new (guint, MAX (P->n_res, 1));
  for (guint r = 0; r < P->n_res; r++)
    P->ver[r] = 1;
  P->ckey = g_new0 (CacheKey, (gsize) MAX (P->n_res, 1) * CACHE_WAYS);
  P->cnext = g_new0 (guint8, MAX (P->n_res, 1));
  P->grp_users = new_lists (P->n_groups, sizeof (guint));
  for (guint c = 0; c < P->n; c++) {
    PCase *pc = &P->pc[c];
    GPtrArray *ps = pc->q->parties;

    pc->groups = g_new (guint, ps ? MAX (ps->len, 1) : 1);
    for (guint p = 0; ps && p < ps->len; p++) {
      MedParty *party = g_ptr_array_index (ps, p);
      guint g = party->contact
          ? GPOINTER_TO_UINT (g_hash_table_lookup (group, party->contact))
          : 0;
      gboolean dup = FALSE;

      if (g == 0)
        continue;
      for (guint x = 0; x < pc->n_groups; x++)
        dup |= pc->groups[x] == g - 1;
      if (!dup)
        pc->groups[pc->n_groups++] = g - 1;
    }
  }
}

static void
index_users (Planner *P)
{
  for (guint c = 0; c < P->n; c++) {
    PCase *pc = &P->pc[c];
    guint last = G_MAXUINT;

    if (!pc->possible)
      continue;
    for (guint r = 0; r < pc->n_rooms; r++)
      if (bits_any (pc->room_mask + (gsize) r * P->W, P->W))
        g_array_append_val (P->room_users[pc->rooms[r].room], c);
    for (guint u = 0; u < pc->n_units; u++) {
      if (!bits_any (pc->unit_mask + (gsize) u * P->W, P->W))
        continue;
      if (pc->units[u].m != last)
        g_array_append_val (P->med_users[pc->units[u].m], c);
      last = pc->units[u].m;
      if (pc->units[u].i >= 0) {
        GArray *l = P->int_users[pc->units[u].i];

        if (l->len == 0 || g_array_index (l, guint, l->len - 1) != c)
          g_array_append_val (l, c);
      }
    }
    for (guint g = 0; g < pc->n_groups; g++)
      g_array_append_val (P->grp_users[pc->groups[g]], c);
  }
}

/* ---- the search ---- */

static gboolean
better_counts (guint u1, guint p1, guint u2, guint p2)
{
  return u1 != u2 ? u1 > u2 : p1 > p2;
}

static guint
pick_unplaced (Planner *P, GArray *pool)
{
  guint urgent = 0;

  for (guint x = 0; x < pool->len; x++)
    urgent += P->pc[g_array_index (pool, guint, x)].urgent;
  /* pool is in queue order, urgent cases first */
  if (urgent > 0 && g_rand_boolean (P->rng))
    return g_array_index (pool, guint, g_rand_int_range (P->rng, 0, urgent));
  return g_array_index (pool, guint, g_rand_int_range (P->rng, 0, pool->len));
}

/* One step: ruin part of the plan, recreate it. */
/* Makes room for case u: picks one of its options (mostly one where the
 * fewest sessions are in the way, now and then any), takes those sessions
 * out, places u there and adds the freed cases to cand. With
 * spare_touched, options that would take out a case this step already
 * moved are skipped. Returns FALSE when nothing was done. */
static gboolean
eject_for (Planner *P, guint u, gboolean spare_touched, GArray *out,
    GArray *cand)
{
  g_autoptr (GArray) opts = g_array_new (FALSE, FALSE, sizeof (Option));
  guint best = G_MAXUINT;

  ejection_options (P, u, opts);
  if (opts->len == 0)
    return FALSE;
  for (guint x = 0; x < opts->len; x++)
    best = MIN (best, g_array_index (opts, Option, x).cost);
  if (g_rand_int_range (P->rng, 0, 100) < ANY_OPTION)
    best = G_MAXUINT - 1;
  for (guint attempt = 0; attempt < (spare_touched ? 4u : 1u); attempt++) {
    const Option *o = NULL;
    guint n = 0;
    gboolean touched = FALSE;

    for (guint x = 0; x < opts->len; x++) {
      const Option *y = &g_array_index (opts, Option, x);

      if (y->cost <= best + (g_rand_int_range (P->rng, 0, 4) == 0)
          && g_rand_int_range (P->rng, 0, (gint) ++n) == 0)
        o = y;
    }
    if (o == NULL)
      return FALSE;
    g_array_set_size (out, 0);
    collect_blockers (P, u, &o->a, out);
    for (guint y = 0; spare_touched && y < out->len; y++)
      touched |= P->touched[g_array_index (out, guint, y)];
    if (touched) {
      best++;
      continue;
    }
    P->gen++;
    ruin (P, out, cand);
    /* free now; u goes there first, the others after it */
    if (fits_at (P, u, &o->a))
      place (P, u, &o->a);
    else
      add_candidate (P, cand, u);
    return TRUE;
  }
  return FALSE;
}

/* One step: ruin part of the plan, recreate it. */
static void
search_step (Planner *P, GArray *pool, GArray *out, GArray *cand)
{
  gint move = g_rand_int_range (P->rng, 0, 10);
  Policy pol = g_rand_int_range (P->rng, 0, 10) < 6 ? POLICY_GREEDY
      : g_rand_boolean (P->rng)                     ? POLICY_RANDOM
                                                    : POLICY_ANY_ROOM;

  g_array_set_size (out, 0);
  g_array_set_size (cand, 0);
  if (move < EJECT_SHARE && pool->len > 0) {
    if (!eject_for (P, pick_unplaced (P, pool), FALSE, out, cand))
      return;
  } else if (P->placed > 0) {
    guint want = 1
        + (guint) g_rand_int_range (P->rng, 0,
            (gint) MIN (8, P->placed / 4 + 2));

    if (move < MOMENT_END) {
      /* sessions around one moment */
      guint c0 = 0, nth = (guint) g_rand_int_range (P->rng, 0, P->placed);
      MedTime a, b;

      for (guint c = 0; c < P->n; c++)
        if (P->asg[c].k >= 0 && nth-- == 0)
          c0 = c;
      a = start_of (P, P->asg[c0].k);
      b = a + P->pc[c0].dur;
      g_array_append_val (out, c0);
      for (guint c = 0; c < P->n && out->len < want * 2; c++) {
        MedTime s;

        if (c == c0 || P->asg[c].k < 0)
          continue;
        s = start_of (P, P->asg[c].k);
        if (s < b && a < s + P->pc[c].dur && g_rand_boolean (P->rng))
          g_array_append_val (out, c);
      }
    } else {
      /* random sessions */
      for (guint x = 0; x < want; x++) {
        guint nth = (guint) g_rand_int_range (P->rng, 0, P->placed);

        for (guint c = 0; c < P->n; c++) {
          if (P->asg[c].k >= 0 && nth-- == 0) {
            gboolean dup = FALSE;

            for (guint y = 0; y < out->len; y++)
              dup |= g_array_index (out, guint, y) == c;
            if (!dup)
              g_array_append_val (out, c);
            break;
          }
        }
      }
    }
    P->gen++;
    ruin (P, out, cand);
  }
  recreate (P, cand, pol);
}

static void
unplaced_pool (Planner *P, GArray *pool)
{
  g_array_set_size (pool, 0);
  for (guint c = 0; c < P->n; c++)
    if (P->asg[c].k < 0 && P->pc[c].possible)
      g_array_append_val (pool, c);
}

static gboolean
time_up (Planner *P, MedPlan *plan)
{
  if (P->work >= P->work_limit) {
    plan->stop = MED_PLAN_STOP_WORK;
    return TRUE;
  }
  if (P->stop != NULL && P->stop (P->stop_data)) {
    plan->stop = MED_PLAN_STOP_CLOCK;
    return TRUE;
  }
  return FALSE;
}

/* Every case left out weighs a little more. */
static void
bump_weights (Planner *P, GArray *pool)
{
  for (guint x = 0; x < pool->len; x++) {
    guint c = g_array_index (pool, guint, x);

    if (P->asg[c].k < 0) {
      P->weight[c]++;
      P->wsum++;
    }
  }
}

static void
load_assignment (Planner *P, const Asg *asg)
{
  for (guint c = 0; c < P->n; c++)
    if (P->asg[c].k >= 0)
      unplace (P, c);
  for (guint c = 0; c < P->n; c++)
    if (asg[c].k >= 0)
      place (P, c, &asg[c]);
}

static void
search (Planner *P, MedPlan *plan)
{
  g_autoptr (GArray) pool = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) cand = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree Asg *best = g_memdup2 (P->asg, P->n * sizeof (Asg));
  guint best_u = P->urgent_placed, best_p = P->placed;
  gint64 best_soft = P->soft;

  for (;;) {
    guint u0 = P->urgent_placed, p0 = P->placed;
    guint64 w0 = P->wsum;

    if (P->urgent_placed == plan->urgent_bound && P->placed == plan->bound) {
      plan->stop = MED_PLAN_STOP_PROVED;
      break;
    }
    if (time_up (P, plan))
      break;
    unplaced_pool (P, pool);
    step_begin (P);
    search_step (P, pool, out, cand);
    plan->iterations++;
    /* never fewer cases; as many, if the cases left out weigh no more
     * (a case's weight grows while it stays out, so the search turns to
     * the ones it has not tried to fit), now and then even if they do */
    if (better_counts (u0, p0, P->urgent_placed, P->placed)
        || (u0 == P->urgent_placed && p0 == P->placed && P->wsum > w0
            && g_rand_int_range (P->rng, 0, 100) >= ACCEPT_HEAVIER)) {
      step_revert (P);
      bump_weights (P, pool);
      continue;
    }
    bump_weights (P, pool);
    step_commit (P);
    if (better_counts (P->urgent_placed, P->placed, best_u, best_p))
      g_debug ("day plan: %u placed (%u urgent) after %" G_GUINT64_FORMAT
               " work, step %u",
          P->placed, P->urgent_placed, P->work, plan->iterations);
    if (better_counts (P->urgent_placed, P->placed, best_u, best_p)
        || (P->urgent_placed == best_u && P->placed == best_p
            && P->soft < best_soft)) {
      memcpy (best, P->asg, P->n * sizeof (Asg));
      best_u = P->urgent_placed;
      best_p = P->placed;
      best_soft = P->soft;
    }
  }
  load_assignment (P, best);
}

/* Moves each case to its best place given the others while that lowers
 * the soft cost. */
static void
polish (Planner *P)
{
  for (guint pass = 0; pass < POLISH_PASSES; pass++) {
    gboolean changed = FALSE;

    for (guint c = 0; c < P->n; c++) {
      gint64 before = P->soft;

      if (P->asg[c].k < 0)
        continue;
      step_begin (P);
      unplace (P, c);
      if (!try_place (P, c, POLICY_GREEDY) || P->soft >= before) {
        step_revert (P);
        continue;
      }
      step_commit (P);
      changed = TRUE;
    }
    if (!changed)
      break;
  }
}

static int
compare_guint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return (x > y) - (x < y);
}

/* For each case left out, the cheapest trade: take the sessions in the
 * way out, place it, put them back where they fit; those that do not fit
 * are what placing it would cost. A trade that costs nothing (or places
 * more) is made. */
static void
find_trades (Planner *P, MedPlan *plan)
{
  g_autoptr (GArray) opts = g_array_new (FALSE, FALSE, sizeof (Option));
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) cand = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint c = 0; c < P->n; c++) {
    PCase *pc = &P->pc[c];
    guint best_lost = G_MAXUINT;
    gboolean improved = FALSE;

    if (P->asg[c].k >= 0 || !pc->possible)
      continue;
    g_array_set_size (opts, 0);
    ejection_options (P, c, opts);
    g_array_sort (opts, compare_option);
    for (guint x = 0; x < opts->len && x < TRADE_OPTIONS && !improved; x++) {
      const Option *o = &g_array_index (opts, Option, x);
      guint u0 = P->urgent_placed, p0 = P->placed, lost = 0;

      g_array_set_size (out, 0);
      g_array_set_size (cand, 0);
      step_begin (P);
      collect_blockers (P, c, &o->a, out);
      for (guint y = 0; y < out->len; y++)
        unplace (P, g_array_index (out, guint, y));
      if (!fits_at (P, c, &o->a)) {
        step_revert (P);
        continue;
      }
      place (P, c, &o->a);
      for (guint y = 0; y < out->len; y++)
        try_place (P, g_array_index (out, guint, y), POLICY_GREEDY);
      if (better_counts (P->urgent_placed, P->placed, u0, p0)) {
        step_commit (P);
        improved = TRUE;
        break;
      }
      for (guint y = 0; y < out->len; y++) {
        guint b = g_array_index (out, guint, y);

        if (P->asg[b].k < 0)
          lost += P->pc[b].urgent ? P->n + 1 : 1;
      }
      if (lost > 0 && lost < best_lost) {
        best_lost = lost;
        if (pc->trade == NULL)
          pc->trade = g_array_new (FALSE, FALSE, sizeof (guint));
        g_array_set_size (pc->trade, 0);
        for (guint y = 0; y < out->len; y++) {
          guint b = g_array_index (out, guint, y);

          if (P->asg[b].k < 0)
            g_array_append_val (pc->trade, b);
        }
        /* named in queue order */
        g_array_sort (pc->trade, compare_guint);
        pc->trade_k = P->asg[c].k;
        pc->trade_r = P->asg[c].r;
        pc->trade_u = P->asg[c].u;
      }
      step_revert (P);
    }
    if (improved) {
      /* the plan changed: earlier trades may no longer hold */
      for (guint y = 0; y < P->n; y++)
        if (P->pc[y].trade)
          g_array_set_size (P->pc[y].trade, 0);
      plan->iterations++;
      c = G_MAXUINT; /* start over */
    }
  }
}

/* ---- the result ---- */

static void
plan_item_free (gpointer p)
{
  MedPlanItem *it = p;

  med_slot_free (it->slot);
  g_free (it->reason);
  if (it->reasons)
    g_ptr_array_unref (it->reasons);
  if (it->would_unplace)
    g_array_unref (it->would_unplace);
  g_free (it);
}

const char *
med_plan_stop_to_string (MedPlanStop stop)
{
  switch (stop) {
    case MED_PLAN_STOP_PROVED:
      return "proved";
    case MED_PLAN_STOP_WORK:
      return "work";
    case MED_PLAN_STOP_CLOCK:
    default:
      return "clock";
  }
}

void
med_plan_free (MedPlan *p)
{
  if (p == NULL)
    return;
  g_clear_pointer (&p->items, g_ptr_array_unref);
  g_free (p);
}

static int
compare_queue (gconstpointer a, gconstpointer b)
{
  const MedQueueEntry *x = a, *y = b;
  const MedCase *cx = x->kase, *cy = y->kase;
  MedTime dx = cx->deadline ? cx->deadline : G_MAXINT64;
  MedTime dy = cy->deadline ? cy->deadline : G_MAXINT64;

  if (cx->urgent != cy->urgent)
    return cx->urgent ? -1 : 1;
  if (dx != dy)
    return dx < dy ? -1 : 1;
  if (cx->intake_at != cy->intake_at)
    return cx->intake_at < cy->intake_at ? -1 : 1;
  return (cx->id > cy->id) - (cx->id < cy->id);
}

static void
append_contacts (GHashTable *contact_busy, const PCase *pc, GArray *busy)
{
  for (guint p = 0; pc->q->parties && p < pc->q->parties->len; p++) {
    MedParty *party = g_ptr_array_index (pc->q->parties, p);
    GArray *cb = party->contact && *party->contact
        ? g_hash_table_lookup (contact_busy, party->contact)
        : NULL;

    if (cb)
      g_array_append_vals (busy, cb->data, cb->len);
  }
}

static void
note_contacts (GHashTable *contact_busy, const PCase *pc, const MedSlot *slot)
{
  for (guint p = 0; pc->q->parties && p < pc->q->parties->len; p++) {
    MedParty *party = g_ptr_array_index (pc->q->parties, p);
    MedInterval iv = { slot->start, slot->end };
    GArray *cb;

    if (party->contact == NULL || *party->contact == '\0')
      continue;
    cb = g_hash_table_lookup (contact_busy, party->contact);
    if (cb == NULL) {
      cb = g_array_new (FALSE, FALSE, sizeof (MedInterval));
      g_hash_table_insert (contact_busy, party->contact, cb);
    }
    g_array_append_val (cb, iv);
  }
}

/* An item unplaced for a reason of its own, in English words (a bad
 * request, a failure). */
static void
unplaced_because (MedPlanItem *it, const char *text)
{
  it->reasons = med_reasons_new ();
  g_ptr_array_add (it->reasons, med_reason_new_other (text));
  it->reason = g_strdup (text);
}

/* What placing pc would take: its start, room and mediator and the cases
 * it would leave out. (transfer full) */
static MedReason *
trade_reason (Planner *P, const PCase *pc)
{
  const MedCentre *c = P->s->snap.centre;
  const MedRoom *room = ROOM (P, pc->rooms[pc->trade_r].room)->room;
  const MedMediator *m = MED (P, pc->units[pc->trade_u].m)->mediator;
  MedReason *r = med_reason_new (MED_REASON_WOULD_UNPLACE);

  r->words
      = med_time_format_local (start_of (P, pc->trade_k), c->zone, "%H:%M");
  r->name = g_strdup (room->name);
  r->name2 = g_strdup (m->name);
  r->list = g_new0 (char *, pc->trade->len + 1);
  r->case_ids
      = g_array_sized_new (FALSE, FALSE, sizeof (gint64), pc->trade->len);
  for (guint y = 0; y < pc->trade->len; y++) {
    const MedCase *k = P->pc[g_array_index (pc->trade, guint, y)].q->kase;

    r->list[y] = g_strdup (k->number ? k->number : "?");
    g_array_append_val (r->case_ids, k->id);
  }
  return r;
}

/* Checks and reserves every placed slot, explains every unplaced case. */
static void
materialise (Planner *P, MedPlan *plan)
{
  MedScheduler *s = P->s;
  g_autoptr (GHashTable) contact_busy = g_hash_table_new_full (g_str_hash,
      g_str_equal, NULL, (GDestroyNotify) g_array_unref);

  for (guint c = 0; c < P->n; c++) {
    PCase *pc = &P->pc[c];
    MedPlanItem *it = g_ptr_array_index (plan->items, c);
    g_autoptr (GArray) busy = NULL;
    g_autoptr (GError) local = NULL;
    g_autoptr (MedReason) why = NULL;
    MedSlotRequest req;
    const Asg *a = &P->asg[c];
    MedSlot *slot;

    if (a->k < 0)
      continue;
    slot = g_new0 (MedSlot, 1);
    slot->start = start_of (P, a->k);
    slot->end = slot->start + pc->dur;
    slot->room_id = ROOM (P, pc->rooms[a->r].room)->room->id;
    slot->mediator_id = MED (P, pc->units[a->u].m)->mediator->id;
    slot->interpreter_id = pc->units[a->u].i >= 0
        ? INTERP (P, pc->units[a->u].i)->interpreter->id
        : 0;
    busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
    if (pc->q->party_busy)
      g_array_append_vals (busy, pc->q->party_busy->data,
          pc->q->party_busy->len);
    append_contacts (contact_busy, pc, busy);
    req = pc->req;
    req.party_busy = busy;
    why = med_reason_new (MED_REASON_FALLBACK_PLAN);
    why->kind = pc->prof.kind;
    if (!sched_check_slot (s, &req, slot, why, MED_REASON_PLAN_START, &local)) {
      /* a bug in the planner: never book what the checker refuses */
      g_critical ("day plan: case %" G_GINT64_FORMAT " failed the check: %s",
          pc->q->kase->id, local->message);
      med_slot_free (slot);
      continue;
    }
    it->slot = slot;
    med_scheduler_reserve (s, slot, pc->q->kase->id);
    note_contacts (contact_busy, pc, slot);
  }

  for (guint c = 0; c < P->n; c++) {
    PCase *pc = &P->pc[c];
    MedPlanItem *it = g_ptr_array_index (plan->items, c);
    g_autoptr (GArray) busy = NULL;
    g_autoptr (GError) local = NULL;
    g_autoptr (GPtrArray) slots = NULL;
    MedSlotRequest req;

    if (it->slot != NULL)
      continue;
    if (!pc->valid) {
      unplaced_because (it, pc->invalid ? pc->invalid : "unknown failure");
      continue;
    }
    busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
    if (pc->q->party_busy)
      g_array_append_vals (busy, pc->q->party_busy->data,
          pc->q->party_busy->len);
    append_contacts (contact_busy, pc, busy);
    req = pc->req;
    req.party_busy = busy;
    slots = med_scheduler_find_slots (s, &req, &it->blocks, &local);
    if (slots != NULL) {
      /* the planner's rules and the search's disagree: take the slot */
      g_critical ("day plan: case %" G_GINT64_FORMAT " fits but was left out",
          pc->q->kase->id);
      it->slot = g_ptr_array_steal_index (slots, 0);
      med_scheduler_reserve (s, it->slot, pc->q->kase->id);
      note_contacts (contact_busy, pc, it->slot);
      continue;
    }
    if (local != NULL && local->domain == MED_SCHEDULER_ERROR
        && (local->code == MED_SCHEDULER_ERROR_INVALID
            || local->code == MED_SCHEDULER_ERROR_UNPUBLISHED
            || local->code == MED_SCHEDULER_ERROR_NO_SLOT)) {
      GPtrArray *found = med_scheduler_error_get_reasons (local);

      it->reasons = found ? med_reasons_copy (found) : med_reasons_new ();
      if (found == NULL) {
        /* an unpublished year or a bad request: its message says it */
        g_ptr_array_add (it->reasons, med_reason_new_other (local->message));
      }
      if (pc->trade != NULL && pc->trade->len > 0) {
        MedReason *t = trade_reason (P, pc);
        g_autofree char *text = med_i18n_reason (MED_LANG_EN, t);

        it->reason = g_strconcat (local->message, "; ", text, NULL);
        it->would_unplace = g_array_copy (t->case_ids);
        g_ptr_array_add (it->reasons, t);
      } else {
        it->reason = g_strdup (local->message);
      }
    } else {
      unplaced_because (it, "unknown failure");
    }
  }

  for (guint c = 0; c < P->n; c++) {
    MedPlanItem *it = g_ptr_array_index (plan->items, c);
    gboolean urgent = P->pc[c].urgent;

    if (it->slot) {
      plan->placed++;
      plan->urgent_placed += urgent;
    } else {
      plan->unplaced++;
      plan->urgent_unplaced += urgent;
    }
  }
}

MedPlan *
med_scheduler_plan_day (MedScheduler *s, GArray *queue, gint year, gint month,
    gint day, MedTime now, const MedPlanOptions *options, GError **error)
{
  static const MedPlanOptions defaults = { 0 };
  const MedPlanOptions *o = options ? options : &defaults;
  g_autoptr (MedPlan) plan = NULL;
  g_autoptr (GArray) order = NULL;
  const MedCentre *c;
  MedTime midnight;
  GDate date;
  const DayWindows *dw;
  Planner P = { 0 };
  double limit;
  guint max_width = 1;

  g_return_val_if_fail (s != NULL && queue != NULL, NULL);
  c = s->snap.centre;
  if (!g_date_valid_dmy (day, month, year)) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
        "invalid date");
    return NULL;
  }
  limit = o->time_limit > 0 ? o->time_limit : MED_PLAN_DEFAULT_TIME_LIMIT;
  if (!(limit <= MED_PLAN_MAX_TIME_LIMIT)) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID,
        "the time limit must be at most %g seconds", MED_PLAN_MAX_TIME_LIMIT);
    return NULL;
  }
  if (!med_workcal_local_to_utc (c->zone, year, month, day, 0, &midnight,
          error))
    return NULL;
  /* An unpublished year fails the whole batch, not each case. */
  {
    MedDayInfo info;

    if (!med_workcal_day_info (s->snap.workcal, c->layers, year, month, day,
            &info, error))
      return NULL;
  }
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, day, month, year);
  dw = sched_get_day (s, &date);
  if (dw->error != NULL) {
    g_set_error (error, MED_SCHEDULER_ERROR, MED_SCHEDULER_ERROR_INVALID, "%s",
        dw->error->message);
    return NULL;
  }

  plan = g_new0 (MedPlan, 1);
  plan->items = g_ptr_array_new_with_free_func (plan_item_free);
  order = g_array_sized_new (FALSE, FALSE, sizeof (MedQueueEntry), queue->len);
  g_array_append_vals (order, queue->data, queue->len);
  g_array_sort (order, compare_queue);

  P.s = s;
  P.day = dw;
  P.step = (MedTime) MAX (c->slot_minutes, 1) * 60;
  if (dw->n > 0) {
    MedTime off = dw->iv[0].start - dw->midnight;

    P.grid0 = dw->midnight + ((off + P.step - 1) / P.step) * P.step;
    P.first_open = dw->iv[0].start;
    while (start_of (&P, P.K) < dw->iv[dw->n - 1].end)
      P.K++;
  }
  P.W = MAX ((guint) (P.K + 63) / 64, 1);
  P.n = order->len;
  P.pc = g_new0 (PCase, MAX (P.n, 1));
  P.n_rooms = s->rooms->len;
  P.n_meds = s->mediators->len;
  P.n_ints = s->interps->len;
  P.room_users = new_lists (P.n_rooms, sizeof (guint));
  P.med_users = new_lists (P.n_meds, sizeof (guint));
  P.int_users = new_lists (P.n_ints, sizeof (guint));
  P.med_base = g_new0 (guint, MAX (P.n_meds, 1));
  P.med_count = g_new0 (guint, MAX (P.n_meds, 1));
  P.asg = g_new (Asg, MAX (P.n, 1));
  P.undo = g_array_new (FALSE, FALSE, sizeof (Undo));
  P.touched = g_new0 (gboolean, MAX (P.n, 1));
  P.weight = g_new (guint, MAX (P.n, 1));
  P.stamp = g_new0 (guint, MAX (P.n, 1));
  P.rng = g_rand_new_with_seed (o->seed ? o->seed : DEFAULT_SEED);
  P.work_limit = o->work_limit ? o->work_limit
                               : (guint64) (limit * MED_PLAN_WORK_PER_SECOND);
  P.stop = o->stop;
  P.stop_data = o->stop_data;
  for (guint m = 0; m < P.n_meds; m++)
    P.med_base[m]
        = sched_count_starts (MED (&P, m)->starts, dw->midnight, dw->day_end);

  for (guint i = 0; i < P.n; i++) {
    PCase *pc = &P.pc[i];
    MedPlanItem *item = g_new0 (MedPlanItem, 1);
    g_autoptr (GError) local = NULL;

    pc->q = &g_array_index (order, MedQueueEntry, i);
    pc->urgent = pc->q->kase->urgent;
    pc->req.kase = pc->q->kase;
    pc->req.parties = pc->q->parties;
    pc->req.party_busy = pc->q->party_busy;
    pc->req.now = now;
    pc->req.not_before = MAX (midnight,
        now + (pc->urgent ? 0 : (MedTime) c->min_notice_minutes * 60));
    pc->req.single_day = TRUE;
    pc->req.max_results = 1;
    pc->req.preferred_mediator_id = pc->q->preferred_mediator_id;
    P.asg[i].k = -1;
    P.weight[i] = 1;
    item->case_id = pc->q->kase->id;
    g_ptr_array_add (plan->items, item);
    if (!sched_profile_init (s, &pc->req, &pc->prof, &local)) {
      pc->invalid = g_strdup (local->message);
      continue;
    }
    pc->valid = TRUE;
    /* the search's own rule: the request's start, never before now */
    pc->req.not_before = pc->prof.not_before;
  }
  prepare_groups (&P);
  for (guint i = 0; i < P.n; i++) {
    PCase *pc = &P.pc[i];

    if (pc->valid && P.K > 0)
      prepare_case (&P, i);
    else
      pc->starts = g_new0 (guint64, P.W);
    max_width = MAX (max_width, pc->n_rooms + pc->n_units);
  }
  for (guint i = 0; i < P.n; i++)
    P.wsum += P.pc[i].possible ? P.weight[i] : 0;
  P.scratch = g_new0 (guint64, (gsize) (max_width + 8) * P.W);
  P.cbits = g_new (guint64, (gsize) MAX (P.n_res, 1) * CACHE_WAYS * P.W);
  P.zero = g_new0 (guint64, P.W);
  index_users (&P);

  /* 1. the greedy plan, in queue order */
  for (guint i = 0; i < P.n; i++)
    try_place (&P, i, POLICY_GREEDY);
  plan->greedy_placed = P.placed;
  plan->greedy_urgent_placed = P.urgent_placed;

  /* 2. the bound, 3. the search, 4. polish and trades */
  plan->bound = upper_bound (&P, FALSE);
  plan->urgent_bound = upper_bound (&P, TRUE);
  search (&P, plan);
  polish (&P);
  find_trades (&P, plan);
  plan->work = P.work;

  materialise (&P, plan);
  if (plan->bound < plan->placed || plan->urgent_bound < plan->urgent_placed) {
    /* a bug in the bound: never claim what is not proved */
    g_critical ("day plan: bound %u/%u below the plan %u/%u", plan->bound,
        plan->urgent_bound, plan->placed, plan->urgent_placed);
    plan->bound = MAX (plan->bound, plan->placed);
    plan->urgent_bound = MAX (plan->urgent_bound, plan->urgent_placed);
  }
  plan->optimal = plan->placed == plan->bound
      && plan->urgent_placed == plan->urgent_bound;
  if (plan->optimal)
    plan->stop = MED_PLAN_STOP_PROVED;
  planner_clear (&P);
  return g_steal_pointer (&plan);
}
