/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-util.h — small builders shared by the scheduler tests: a centre,
 * rooms, mediators, cases and a workcal loaded from the shipped holiday
 * notices (calendars/, found through $MEDSCHED_CALENDARS), or those notices
 * imported into a store (the service tests). */
#pragma once

#include <medsched/med-ical.h>
#include <medsched/med-model.h>
#include <medsched/med-scheduler.h>
#include <medsched/med-store.h>
#include <medsched/med-workcal.h>

/* the tests write the store directly */
#include <med-store-write.h>

static inline MedTime
t_local (const char *text)
{
  MedTime t = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (med_time_parse_local (text, "Asia/Shanghai", &t, &error));
  g_assert_no_error (error);
  return t;
}

static inline char *
t_text (MedTime t)
{
  return med_time_format_local (t, "Asia/Shanghai", "%Y-%m-%dT%H:%M");
}

static inline void
load_calendar (MedWorkcal *wc, const char *file)
{
  const char *dir = g_getenv ("MEDSCHED_CALENDARS");
  g_autofree char *path = NULL, *data = NULL;
  g_autoptr (MedNotice) n = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_assert_nonnull (dir);
  path = g_build_filename (dir, file, NULL);
  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  n = med_ical_parse_notice (data, len, &error);
  g_assert_no_error (error);
  g_assert_true (med_workcal_add_notice (wc, n, &error));
  g_assert_no_error (error);
}

/* The shipped national notices of 2025 and 2026, imported into store. */
static inline void
import_calendars (MedStore *store)
{
  static const char *const files[]
      = { "cn-national-2025.ics", "cn-national-2026.ics" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree char *path
        = g_build_filename (g_getenv ("MEDSCHED_CALENDARS"), files[i], NULL);
    g_autofree char *text = NULL;
    g_autoptr (MedNotice) n = NULL;
    g_autoptr (GError) error = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (path, &text, &len, &error));
    n = med_ical_parse_notice (text, len, &error);
    g_assert_no_error (error);
    g_assert_true (med_store_import_notice (store, n, "test", &error));
  }
}

static inline MedWorkcal *
shipped_workcal (void)
{
  MedWorkcal *wc = med_workcal_new ();

  load_calendar (wc, "cn-national-2025.ics");
  load_calendar (wc, "cn-national-2026.ics");
  load_calendar (wc, "cn-xz-lhasa-2025.ics");
  load_calendar (wc, "cn-xz-lhasa-2026.ics");
  return wc;
}

static inline MedRoom *
mk_room (gint64 id, const char *name, MedRoomKind kind, gint capacity)
{
  MedRoom *r = med_room_new ();

  r->id = id;
  r->centre_id = 1;
  r->name = g_strdup (name);
  r->kind = kind;
  r->capacity = capacity;
  if (kind == MED_ROOM_KIND_REMOTE)
    r->features |= MED_ROOM_FEATURE_VIDEO;
  return r;
}

static inline MedMediator *
mk_mediator (gint64 id, const char *name, const char *langs,
    const char *specialties, gint cap)
{
  MedMediator *m = med_mediator_new ();

  m->id = id;
  m->centre_id = 1;
  m->name = g_strdup (name);
  m->languages = g_strsplit (langs, ",", -1);
  g_assert_true (
      med_specialties_from_string (specialties, &m->specialties, NULL));
  m->daily_cap = cap;
  return m;
}

static inline MedInterpreter *
mk_interpreter (gint64 id, const char *name, const char *pairs)
{
  MedInterpreter *i = med_interpreter_new ();

  i->id = id;
  i->centre_id = 1;
  i->name = g_strdup (name);
  i->pairs = g_strsplit (pairs, ",", -1);
  return i;
}

static inline MedCase *
mk_case (gint64 id, MedCaseKind kind)
{
  MedCase *c = med_case_new ();

  c->id = id;
  c->centre_id = 1;
  c->number = g_strdup_printf ("(2026)藏0102调%" G_GINT64_FORMAT "号", id);
  c->kind = kind;
  c->status = MED_CASE_STATUS_DISPATCHED;
  c->department = MED_DEPARTMENT_COURT_MEDIATION;
  return c;
}

static inline MedParty *
mk_party (const char *lang, MedAttendance att, const char *contact)
{
  MedParty *p = med_party_new ();

  p->name = g_strdup ("当事人");
  p->role = MED_PARTY_ROLE_APPLICANT;
  p->language = g_strdup (lang);
  p->attendance = att;
  p->contact = g_strdup (contact);
  return p;
}

/* A whole little world: centre, workcal, resources, bookings. */
typedef struct
{
  MedCentre *centre;
  MedWorkcal *wc;
  GPtrArray *rooms;
  GPtrArray *mediators;
  GPtrArray *interpreters;
  GArray *bookings;
  MedSnapshot snap;
} World;

static inline void
world_init (World *w)
{
  w->centre = med_centre_new_default ();
  w->wc = shipped_workcal ();
  w->rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  w->mediators
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_mediator_free);
  w->interpreters
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_interpreter_free);
  w->bookings = g_array_new (FALSE, TRUE, sizeof (MedBusy));
}

static inline void
world_clear (World *w)
{
  med_centre_free (w->centre);
  med_workcal_free (w->wc);
  g_ptr_array_unref (w->rooms);
  g_ptr_array_unref (w->mediators);
  g_ptr_array_unref (w->interpreters);
  g_array_unref (w->bookings);
}

static inline MedSnapshot *
world_snapshot (World *w)
{
  w->snap.centre = w->centre;
  w->snap.workcal = w->wc;
  w->snap.rooms = w->rooms;
  w->snap.mediators = w->mediators;
  w->snap.interpreters = w->interpreters;
  w->snap.bookings = w->bookings;
  return &w->snap;
}

static inline void
world_book (World *w, gint64 case_id, gint64 room, gint64 mediator,
    gint64 interp, const char *start, const char *end)
{
  MedBusy b = { t_local (start), t_local (end), (gint64) w->bookings->len + 1,
    case_id, room, mediator, interp };

  g_array_append_val (w->bookings, b);
}
