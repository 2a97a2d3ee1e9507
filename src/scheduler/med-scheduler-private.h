/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-scheduler-private.h — what the scheduler's two halves share: the
 * indexes built from a snapshot (med-scheduler.c) and the day planner that
 * works over them (med-planner.c). Not installed; nothing outside
 * src/scheduler includes it. */
#pragma once

#include <medsched/med-scheduler.h>

G_BEGIN_DECLS

/* A sorted array of disjoint intervals. */
typedef GArray Timeline;

typedef struct
{
  const MedRoom *room;
  Timeline *busy; /* booking blocks widened by setup/cleanup */
} RoomRes;

typedef struct
{
  const MedMediator *mediator;
  Timeline *busy; /* bookings and leave */
  Timeline *leave; /* leave only, for explanations */
  GArray *starts; /* MedTime, sorted: booking starts, for daily caps */
  guint total; /* bookings in the snapshot (or its mediator_load), for
               * load balancing */
} MediatorRes;

typedef struct
{
  const MedInterpreter *interpreter;
  Timeline *busy;
} InterpRes;

typedef struct
{
  gint64 case_id;
  MedTime start;
  MedTime end;
} CaseSession;

/* A mediator together with the interpreter the parties need with them. */
typedef struct
{
  guint m; /* index into mediators */
  gint i; /* index into interpreters, -1 = none */
} Unit;

struct _MedScheduler
{
  MedSnapshot snap;
  GArray *rooms; /* RoomRes */
  GArray *mediators; /* MediatorRes */
  GArray *interps; /* InterpRes */
  GHashTable *room_by_id; /* id → index + 1 */
  GHashTable *med_by_id;
  GHashTable *interp_by_id;
  GArray *case_sessions; /* CaseSession, sorted by case id: every
                             * booking's case, so that a case's other
                             * sessions block it */
  GHashTable *day_cache; /* julian day → DayWindows* */
};

typedef struct
{
  guint n;
  MedInterval iv[2];
  MedTime midnight; /* local midnight as UTC, for start alignment */
  MedTime day_end; /* next local midnight */
  GError *error; /* unpublished year etc. */
  MedDayInfo info;
} DayWindows;

/* A case as the search sees it, computed once: the rooms it may use (the
 * preferred kind first, then the centre's fallback kind), the mediators
 * with the interpreter they need, its earliest start and limit, and the
 * parties' other commitments. */
typedef struct
{
  MedTime duration;
  MedTime not_before;
  MedTime horizon_end; /* the case deadline or the search horizon */
  guint in_person;
  gboolean needs_video;
  MedRoomKind kind; /* preferred */
  MedReasonCode kind_why;
  GArray *rooms; /* guint room indexes */
  guint n_preferred; /* rooms[0 .. n_preferred) are of the preferred kind */
  GArray *units; /* Unit */
  Timeline *party_busy; /* sorted, merged */
  guint blocks; /* MED_BLOCK_ROOM_KIND, _CAPACITY, _SPECIALTY, _LANGUAGE */
} SchedProfile;

G_GNUC_INTERNAL gboolean sched_profile_init (MedScheduler *s,
    const MedSlotRequest *req, SchedProfile *p, GError **error);
G_GNUC_INTERNAL void sched_profile_clear (SchedProfile *p);

/* The working windows of a local date, cached in the scheduler. */
G_GNUC_INTERNAL const DayWindows *sched_get_day (MedScheduler *s,
    const GDate *date);

/* Index of the first interval of t that ends after x. */
G_GNUC_INTERNAL guint sched_timeline_first_ending_after (const Timeline *t,
    MedTime x);

/* Number of times in the sorted array starts that lie in [a, b). */
G_GNUC_INTERNAL guint sched_count_starts (const GArray *starts, MedTime a,
    MedTime b);

/* TRUE if mediator m is on leave for the whole working day. */
G_GNUC_INTERNAL gboolean sched_mediator_away (MedScheduler *s, guint m,
    const DayWindows *day);

/* med_scheduler_check_slot with the reasons a plan gives: fallback_why
 * says why another room kind was taken, how how the start was chosen
 * (MED_REASON_EARLIEST, MED_REASON_PLAN_START). */
G_GNUC_INTERNAL gboolean sched_check_slot (MedScheduler *s,
    const MedSlotRequest *req, MedSlot *slot, const MedReason *fallback_why,
    MedReasonCode how, GError **error);

G_END_DECLS
