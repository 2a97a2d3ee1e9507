/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-scheduler.h — earliest feasible slots and batch allocation, as pure
 * functions over a snapshot of the centre's resources and bookings.
 *
 * The scheduler never touches SQLite, the clock or the network: the caller
 * passes "now" and everything else it needs. Every answer explains itself:
 * a slot says why this room, mediator and interpreter; an unplaced case says
 * which constraint blocked it; a refused slot says why not. The reasons
 * are data (MedReason: a code and its parameters); their text, in any of
 * medsched's languages, comes from one renderer (med_i18n_reasons,
 * med-i18n.h), which also writes the English kept beside them
 * (MedSlot.explanation, MedPlanItem.reason, the error's message). */
#pragma once

#include <medsched/med-model.h>
#include <medsched/med-workcal.h>

G_BEGIN_DECLS

/* An extended error domain: a NO_SLOT or CONFLICT error carries its
 * reasons (med_scheduler_error_get_reasons). */
#define MED_SCHEDULER_ERROR (med_scheduler_error_quark ())
GQuark med_scheduler_error_quark (void);

typedef enum
{
  MED_SCHEDULER_ERROR_INVALID, /* bad request (duration, ids, …) */
  MED_SCHEDULER_ERROR_NO_SLOT, /* nothing feasible; message says why */
  MED_SCHEDULER_ERROR_UNPUBLISHED, /* the search reached an unpublished year */
  MED_SCHEDULER_ERROR_CONFLICT, /* a hand-picked slot is already taken */
} MedSchedulerError;

/* Why a case could not be placed: a bit set, the first set bit (in this
 * order) is the one reported first. */
typedef enum
{
  MED_BLOCK_ROOM_KIND = 1 << 0, /* no room of the required kind */
  MED_BLOCK_CAPACITY = 1 << 1, /* rooms too small for the attendees */
  MED_BLOCK_SPECIALTY = 1 << 2, /* no mediator for the case kind */
  MED_BLOCK_LANGUAGE = 1 << 3, /* no shared language, no interpreter */
  MED_BLOCK_LEAVE = 1 << 4, /* mediators on leave */
  MED_BLOCK_DAILY_CAP = 1 << 5, /* mediators at their daily cap */
  MED_BLOCK_ROOM_BUSY = 1 << 6, /* the suitable rooms are booked */
  MED_BLOCK_MEDIATOR_BUSY = 1 << 11, /* the suitable mediators (and their
                                      * interpreters) are booked */
  MED_BLOCK_PARTY_BUSY = 1 << 12, /* a party has another session */
  MED_BLOCK_CLOSED = 1 << 7, /* no working time (holidays, hours) */
  MED_BLOCK_DEADLINE = 1 << 8, /* nothing before the case deadline */
  MED_BLOCK_HORIZON = 1 << 9, /* nothing within the search horizon */
  MED_BLOCK_DURATION = 1 << 10, /* session longer than any window */
} MedBlock;

#define MED_BLOCK_BUSY                                                         \
  (MED_BLOCK_ROOM_BUSY | MED_BLOCK_MEDIATOR_BUSY | MED_BLOCK_PARTY_BUSY)

/* ---- reasons ----
 *
 * One clause of an explanation: a code and what it names. Names (rooms,
 * mediators, interpreters, holidays) and case numbers are copied in, so a
 * reason outlives the snapshot; dates and times are written as numbers in
 * the centre's zone ("2026-12-08", "09:00"), the same in every language. */
typedef enum
{
  /* why this room kind (MedReason.cause of MED_REASON_ROOM and of
   * MED_REASON_ROOM_UNSUITED) */
  MED_REASON_WHY_MINORS, /* the case involves minors */
  MED_REASON_WHY_FAMILY, /* a family-affairs case */
  MED_REASON_WHY_REMOTE, /* a party attends by video */
  MED_REASON_WHY_GENERAL, /* a general civil case */
  /* a slot: why this room, mediator, interpreter and start */
  MED_REASON_ROOM, /* name (kind) because cause */
  MED_REASON_FALLBACK_FULL, /* no kind room before the limit (sub: why);
                             * the centre allows other_kind rooms */
  MED_REASON_FALLBACK_URGENT, /* urgent: the same day in another kind */
  MED_REASON_FALLBACK_BY_HAND, /* chosen by hand, a fallback kind */
  MED_REASON_FALLBACK_PLAN, /* the kind rooms are taken by the day's other
                             * cases */
  MED_REASON_CAPACITY, /* a seats for b in person */
  MED_REASON_MEDIATOR, /* name handles case_kind and speaks words */
  MED_REASON_SAME_MEDIATOR, /* as the earlier session */
  MED_REASON_INTERPRETER, /* name (words: language pairs) */
  MED_REASON_EARLIEST, /* earliest free start for room, mediator (an
                        * interpreter when a) and parties */
  MED_REASON_PLAN_START, /* start chosen by the day plan */
  /* nothing fits: what blocked the search (MedBlock), then its limit */
  MED_REASON_NO_ROOM_KIND, /* no kind room (with video when a) */
  MED_REASON_NO_CAPACITY, /* no kind room seats a in person */
  MED_REASON_NO_SPECIALTY, /* no mediator handles case_kind */
  MED_REASON_NO_LANGUAGE, /* no shared language, no interpreter */
  MED_REASON_LEAVE, /* the matching mediators are on leave some days */
  MED_REASON_DAILY_CAP, /* … at their daily cap some days */
  MED_REASON_DURATION, /* longer than any working window */
  MED_REASON_ROOM_BUSY, /* the suitable rooms are booked */
  MED_REASON_MINORS_WAIT, /* minors wait for a family room */
  MED_REASON_MEDIATOR_BUSY, /* the suitable mediators are booked */
  MED_REASON_PARTY_BUSY, /* a party has another session then */
  MED_REASON_CLOSED, /* a of b days checked are not working days */
  MED_REASON_NOTHING_ON_DAY, /* nothing fits on words (a date) */
  MED_REASON_NOTHING_BEFORE_DEADLINE, /* … before the deadline words */
  MED_REASON_NOTHING_BEFORE, /* … before words (the search's horizon) */
  /* a slot chosen by hand, refused */
  MED_REASON_ROOM_UNSUITED, /* room name (kind) needs other_kind (cause),
                             * seating a in person; video when b */
  MED_REASON_MINORS_STAY, /* minors stay in a family room unless … */
  MED_REASON_MEDIATOR_UNSUITED, /* name cannot take it (with that
                                 * interpreter when a): no specialty when
                                 * b, else a language */
  MED_REASON_OUTSIDE_HOURS, /* outside working time (the whole day when a;
                             * name: the holiday, may be NULL) */
  MED_REASON_AFTER_DEADLINE, /* ends after the case deadline */
  MED_REASON_CAP_REACHED, /* name already has a sessions that day */
  MED_REASON_ON_LEAVE, /* name is on leave then */
  MED_REASON_TAKEN, /* room, mediator, interpreter or a party booked */
  /* the day plan */
  MED_REASON_WOULD_UNPLACE, /* placing it (at words in name with mediator
                             * name2) would unplace list (case numbers;
                             * case_ids) */
  MED_REASON_OTHER, /* words: an English text (a bad request) */
  MED_REASON_N
} MedReasonCode;

typedef struct _MedReason MedReason;
struct _MedReason
{
  MedReasonCode code;
  MedReasonCode cause; /* ROOM, ROOM_UNSUITED: why that kind */
  char *name; /* a room, mediator, interpreter or holiday; may be NULL */
  char *name2; /* WOULD_UNPLACE: the mediator */
  char *words; /* languages, language pairs, a date or time, a text */
  MedRoomKind kind;
  MedRoomKind other_kind;
  MedCaseKind case_kind;
  gint a, b; /* numbers and flags, as the code says */
  char **list; /* WOULD_UNPLACE: case numbers */
  GArray *case_ids; /* WOULD_UNPLACE: gint64 ids of those cases */
  GPtrArray *sub; /* FALLBACK_FULL: why the preferred kind had none */
};

/* A new reason of code (the rest zero). (transfer full) */
MedReason *med_reason_new (MedReasonCode code);
/* An OTHER reason: words, an English text. (transfer full) */
MedReason *med_reason_new_other (const char *words);
MedReason *med_reason_copy (const MedReason *r);
void med_reason_free (MedReason *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedReason, med_reason_free)
/* A GPtrArray of MedReason* that frees them. (transfer full) */
GPtrArray *med_reasons_new (void);
/* A deep copy (NULL for NULL). (transfer full) */
GPtrArray *med_reasons_copy (GPtrArray *reasons);
/* The code's word in the API ("room", "no_room_kind", …). (transfer none) */
const char *med_reason_code_to_string (MedReasonCode code);

/* The reasons a NO_SLOT or CONFLICT error of this domain carries, or NULL
 * (another error, or one without). (transfer none: lives as long as the
 * error) */
GPtrArray *med_scheduler_error_get_reasons (const GError *error);

/* A busy interval of one resource, taken from existing bookings (room
 * intervals already include their setup/cleanup buffers: the caller passes
 * booking start/end and the scheduler adds the room's buffers). */
typedef struct
{
  MedTime start;
  MedTime end;
  gint64 booking_id;
  gint64 case_id;
  gint64 room_id;
  gint64 mediator_id;
  gint64 interpreter_id;
} MedBusy;

/* A mediator's confirmed bookings over a whole search horizon. */
typedef struct
{
  gint64 mediator_id;
  guint bookings;
} MedMediatorLoad;

/* Everything the scheduler may look at. The snapshot does not own what it
 * points to; the caller keeps it alive while a MedScheduler uses it. */
/* To reschedule a booking, leave it out of the snapshot's bookings. */
typedef struct
{
  const MedCentre *centre;
  const MedWorkcal *workcal;
  GPtrArray *rooms; /* MedRoom* */
  GPtrArray *mediators; /* MedMediator* (with leave) */
  GPtrArray *interpreters; /* MedInterpreter* */
  GArray *bookings; /* MedBusy: confirmed bookings in the horizon */
  /* MedBusy, may be NULL: time a mediator or an interpreter is busy
   * elsewhere (imported calendars); only start, end, mediator_id and
   * interpreter_id are read; it blocks them but does not count towards the
   * daily cap */
  GArray *external_busy;
  /* MedMediatorLoad, may be NULL: when bookings cover only part of the
   * horizon (a windowed search), each mediator's bookings over the whole
   * horizon, so that load balancing ranks mediators as a snapshot of the
   * whole horizon would; a mediator not listed has none. NULL = count
   * bookings. */
  GArray *mediator_load;
} MedSnapshot;

/* How far ahead a search looks when the request sets no horizon; a
 * caller's snapshot must cover it. */
#define MED_SCHEDULER_DEFAULT_HORIZON_DAYS 120

typedef struct _MedScheduler MedScheduler;

/* Builds the per-resource indexes. (transfer full) */
MedScheduler *med_scheduler_new (const MedSnapshot *snap, GError **error);
void med_scheduler_free (MedScheduler *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedScheduler, med_scheduler_free)

typedef struct
{
  const MedCase *kase;
  GPtrArray *parties; /* MedParty* of the case */
  GArray *party_busy; /* MedInterval: the parties' other
                              * commitments (may be NULL) */
  MedTime now;
  MedTime not_before; /* 0 = now + centre minimum notice */
  MedTime horizon_end; /* 0 = not_before + default horizon */
  gint duration_minutes; /* 0 = case duration or centre default */
  guint max_results; /* 0 = 1 */
  gint64 preferred_mediator_id; /* follow-up session: same mediator */
  gboolean single_day; /* only the local day of not_before */
} MedSlotRequest;

typedef struct
{
  MedTime start;
  MedTime end;
  gint64 room_id;
  gint64 mediator_id;
  gint64 interpreter_id; /* 0 = none */
  MedRoomKind room_kind;
  MedBookingMode mode;
  gboolean fallback; /* not the preferred room kind */
  GPtrArray *reasons; /* MedReason*: why this room, mediator, interpreter
                       * and start */
  char *explanation; /* the reasons in English, one line */
} MedSlot;

void med_slot_free (MedSlot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedSlot, med_slot_free)

/* The preferred room kind of a case: minors or a family kind → family; else
 * any party attending remotely → remote; otherwise warm. Whatever the kind,
 * a case with a remote party needs a room with a video terminal. *why (may
 * be NULL) gets the reason: MED_REASON_WHY_MINORS, _FAMILY, _REMOTE or
 * _GENERAL. */
MedRoomKind med_scheduler_preferred_kind (const MedCase *kase,
    GPtrArray *parties, MedReasonCode *why);

/* Earliest feasible slots, ordered by start, at most max_results with
 * distinct start times. (transfer full) array of MedSlot*, never empty on
 * success. On failure MED_SCHEDULER_ERROR_NO_SLOT with a message naming
 * the blocking constraints, and *blocks (if not NULL) set. */
GPtrArray *med_scheduler_find_slots (MedScheduler *s, const MedSlotRequest *req,
    guint *blocks, GError **error);

/* Checks a slot chosen by hand (a clerk's "book at 10:00 in room 3")
 * against every hard constraint the search uses: room kind policy (or the
 * fallback kind when the centre allows it), capacity, video terminal,
 * specialty, languages and interpreter, working windows, leave, daily cap
 * and every existing booking. slot->end - slot->start is the duration. On
 * success fills slot->room_kind, slot->mode, slot->fallback and
 * slot->explanation. */
gboolean med_scheduler_check_slot (MedScheduler *s, const MedSlotRequest *req,
    MedSlot *slot, GError **error);

/* Marks a slot as taken in the scheduler's own indexes (for batch planning
 * and for tests); does not touch any store. */
void med_scheduler_reserve (MedScheduler *s, const MedSlot *slot,
    gint64 case_id);

/* ---- planning a day ----
 *
 * med_scheduler_plan_day places as many of a day's cases as the day can
 * hold: first as many urgent cases as possible, then as many cases in
 * all, then the soft preferences (fewer fallback rooms, earlier starts,
 * the follow-up mediator kept, mediators' days balanced). It starts from
 * the one-pass greedy plan (each case in queue order at its earliest
 * feasible slot), then improves it by a large-neighbourhood search (take
 * some sessions out, put cases back in another order or place), bounded
 * by a work budget, and reports an upper bound on what any plan could
 * place. The rules and the guarantees are written down in
 * docs/scheduling.md. */

/* Asked between steps of the search; returns TRUE to stop it now. The
 * service passes a wall-clock deadline here, so that a slow machine still
 * answers in time; the scheduler itself never reads a clock. */
typedef gboolean (*MedPlanStopFunc) (gpointer user_data);

/* The search's time budget when the caller gives none, and the most a
 * caller may ask for, in seconds. */
#define MED_PLAN_DEFAULT_TIME_LIMIT 1.0
#define MED_PLAN_MAX_TIME_LIMIT     600.0

/* Work units the search does per second of time limit: calibrated so that
 * the work budget takes about half the time limit on a two-core 2020s
 * server core (BENCHMARKS.md); the stop function is the safety net. */
#define MED_PLAN_WORK_PER_SECOND G_GUINT64_CONSTANT (10000000)

typedef struct
{
  /* seconds of search, 0 = MED_PLAN_DEFAULT_TIME_LIMIT; sets the work
   * budget (time_limit × MED_PLAN_WORK_PER_SECOND) */
  double time_limit;
  guint64 work_limit; /* work units, 0 = from time_limit */
  guint32 seed; /* 0 = the built-in seed */
  MedPlanStopFunc stop; /* may be NULL */
  gpointer stop_data;
} MedPlanOptions;

/* Why the search ended. */
typedef enum
{
  MED_PLAN_STOP_PROVED, /* the plan reaches the upper bound: optimal */
  MED_PLAN_STOP_WORK, /* the work budget is spent */
  MED_PLAN_STOP_CLOCK, /* the caller's stop function said so (the plan
                        * may then differ from one run to the next) */
} MedPlanStop;

/* "proved", "work" or "clock". (transfer none) */
const char *med_plan_stop_to_string (MedPlanStop stop);

typedef struct
{
  gint64 case_id;
  MedSlot *slot; /* NULL when unplaced */
  guint blocks; /* when unplaced */
  GPtrArray *reasons; /* MedReason*, when unplaced: the search's, then the
                       * trade (MED_REASON_WOULD_UNPLACE) */
  char *reason; /* when unplaced: the English of the search's error
                 * message and the trade */
  /* when unplaced: the cases (gint64 ids) that placing this one would
   * leave unplaced in this plan, NULL when no such trade exists (then the
   * case does not fit for reasons of its own, given in reason) */
  GArray *would_unplace;
} MedPlanItem;

typedef struct
{
  GPtrArray *items; /* MedPlanItem*, in queue order (urgency, deadline,
                     * intake time, id) */
  guint placed;
  guint unplaced;
  guint urgent_placed;
  guint urgent_unplaced;
  /* no plan of this day places more than bound cases in all, or more than
   * urgent_bound urgent cases */
  guint bound;
  guint urgent_bound;
  gboolean optimal; /* urgent_placed == urgent_bound and placed == bound */
  guint greedy_placed; /* what the one-pass greedy plan placed */
  guint greedy_urgent_placed;
  MedPlanStop stop;
  guint64 work; /* work units spent */
  guint iterations; /* search steps tried */
} MedPlan;

void med_plan_free (MedPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedPlan, med_plan_free)

/* One entry of a batch queue: the case, its parties and their other
 * commitments. */
typedef struct
{
  const MedCase *kase;
  GPtrArray *parties;
  GArray *party_busy;
  gint64 preferred_mediator_id;
} MedQueueEntry;

/* Plans a day's queue on the local date (year, month, day) as described
 * above; options may be NULL (the defaults). Every placed case satisfies
 * every hard constraint that med_scheduler_check_slot checks (each slot
 * is re-checked by it before the plan is returned), and the placed slots
 * are reserved in s. Every unplaced case has a reason, and where
 * placing it would cost other cases their place, would_unplace names
 * them. Deterministic: the same snapshot, queue, now and options give
 * the same plan, unless options->stop ended the search (plan->stop ==
 * MED_PLAN_STOP_CLOCK). (transfer full) */
MedPlan *med_scheduler_plan_day (MedScheduler *s, GArray *queue, gint year,
    gint month, gint day, MedTime now, const MedPlanOptions *options,
    GError **error);

G_END_DECLS
