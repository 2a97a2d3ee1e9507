/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gen-corpus.c — writes the interoperability corpus of
 * tests/integration/test-interop.py and checks it with libical.
 *
 * From random bookings (a fixed seed: the same corpus every run) medsched's
 * own ical module writes invites (the organiser's copy or one attendee's,
 * REQUEST or CANCEL, 1–30 attendees, long notes), subscription feeds
 * (0–60 events, every audience), free/busy, and this program writes
 * external busy calendars (RRULE, EXDATE, RECURRENCE-ID overrides,
 * transparent and cancelled events, UTC or TZID times with their
 * VTIMEZONE, Asia/Shanghai and Europe/Berlin for daylight saving). Names,
 * notes and summaries mix Chinese, Tibetan, English, emoji and the
 * characters iCalendar must escape or quote.
 *
 * manifest.json says what each file must yield in any parser: the UTC
 * instants of every DTSTART/DTEND (and FREEBUSY period), the METHOD, the
 * number of ATTENDEEs, and for busy calendars the expanded busy intervals
 * as medsched's med_ical_parse_busy reads them. Before writing it, every
 * file is parsed back with libical: no floating time, the same instants,
 * and med_ical_lint finds nothing. Exit status 1 with the problems on
 * stderr otherwise.
 *
 * Usage: gen-corpus OUTDIR [N_INVITES [SEED]] */
#define G_LOG_DOMAIN "medsched-interop"

#include <medsched/med-ical.h>

#include <json-glib/json-glib.h>
#include <libical/ical.h>

#include <glib/gstdio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_FEEDS    150
#define N_FREEBUSY 50
#define N_BUSY     120
#define BUSY_FROM  1767225600 /* 2026-01-01T00:00:00Z */
#define BUSY_TO    1830297600 /* 2028-01-01T00:00:00Z */

static const char *const zh_words[]
    = { "调解", "欠薪", "邻里纠纷", "拉萨市", "城关区", "北京中路",
        "请带身份证原件", "第二次调解", "合同", "土地承包", "赡养费",
        "人民调解委员会", "（补充材料）", "【重要】", "一站式", "最多跑一次" };
static const char *const bo_words[] = { "བཀྲ་ཤིས་བདེ་ལེགས།", "བསོད་ནམས་རྡོ་རྗེ", "ལྷ་ས།",
  "བར་འདུམ།", "ཚེ་རིང་དབང་མོ", "གྲོང་ཁྱེར།", "ཁྲིམས་ཁང་།", "སྐལ་བཟང་།" };
static const char *const en_words[]
    = { "mediation", "please bring the contract", "room 3, 2nd floor",
        "a; b; c", "key: value", "back\\slash", "\"quoted\"", "100% & <done>",
        "🙂", "naïve café", "tab\there" };
static const char *const names[] = { "扎西次仁 བཀྲ་ཤིས་ཚེ་རིང", "李秀英",
  "王, 建华", "Dr. Smith; Jr.", "卓玛: Dolma", "བསོད་ནམས་རྡོ་རྗེ", "张伟",
  "拉萨某建筑劳务有限公司（第三人）", "格桑 སྐལ་བཟང", "O'Brien, Mary-Ann",
  "欧阳·娜娜", "ཚེ་རིང་དབང་མོ (Tsering Wangmo)" };
static const char *const langs[] = { "zh", "bo", "en", "ug", NULL };
static const char *const zones[]
    = { "Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Europe/Berlin" };

typedef struct
{
  GRand *rand;
  char *dir;
  JsonBuilder *manifest;
  GPtrArray *problems;
  guint n_files;
} Gen;

static const char *
pick (Gen *g, const char *const *list, guint n)
{
  return list[g_rand_int_range (g->rand, 0, (gint32) n)];
}

#define PICK(g, arr) pick ((g), (arr), G_N_ELEMENTS (arr))

/* Mixed-script text of about max_bytes (0 allowed), with newlines when
 * multiline. (transfer full) */
static char *
new_text (Gen *g, gsize max_bytes, gboolean multiline)
{
  GString *s = g_string_new (NULL);
  gsize target = max_bytes
      ? (gsize) g_rand_int_range (g->rand, 1, (gint32) max_bytes + 1)
      : 0;

  while (s->len < target) {
    switch (g_rand_int_range (g->rand, 0, 6)) {
      case 0:
      case 1:
        g_string_append (s, PICK (g, zh_words));
        break;
      case 2:
        g_string_append (s, PICK (g, bo_words));
        break;
      case 3:
        g_string_append (s, PICK (g, en_words));
        break;
      case 4:
        g_string_append (s, multiline ? "\n" : "，");
        break;
      default:
        g_string_append_c (s, ' ');
        break;
    }
  }
  if (!multiline)
    g_strdelimit (s->str, "\t", ' ');
  return g_string_free (s, FALSE);
}

static void problem (Gen *g, const char *file, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static void
problem (Gen *g, const char *file, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_ptr_array_add (g->problems, g_strdup_printf ("%s: %s", file, msg));
}

/* A random local working time in 2026–2027 as UTC, in zone. */
static MedTime
random_start (Gen *g, const char *zone)
{
  MedTime t = 0;
  GDate d;
  gint minute = g_rand_int_range (g->rand, 8 * 12, 17 * 12) * 5;

  g_date_clear (&d, 1);
  g_date_set_dmy (&d, 5, G_DATE_JANUARY, 2026);
  g_date_add_days (&d, (guint) g_rand_int_range (g->rand, 0, 720));
  if (!med_workcal_local_to_utc (zone, g_date_get_year (&d),
          g_date_get_month (&d), g_date_get_day (&d), minute, &t, NULL))
    g_error ("cannot convert a local time in %s", zone);
  return t;
}

/* ---- the libical check ------------------------------------------------- */

/* The UTC instant of a DTSTART/DTEND-like property; FALSE (and a problem)
 * when it is floating or its zone is unknown. */
static gboolean
utc_of (Gen *g, const char *file, icalcomponent *root, icalproperty *p,
    struct icaltimetype t, gint64 *out)
{
  icalparameter *tzp
      = icalproperty_get_first_parameter (p, ICAL_TZID_PARAMETER);
  icaltimezone *zone = NULL;

  if (tzp != NULL) {
    zone = icalcomponent_get_timezone (root, icalparameter_get_tzid (tzp));
    if (zone == NULL) {
      problem (g, file, "libical: no VTIMEZONE for TZID %s",
          icalparameter_get_tzid (tzp));
      return FALSE;
    }
  } else if (icaltime_is_utc (t)) {
    zone = icaltimezone_get_utc_timezone ();
  } else {
    problem (g, file, "libical: a floating time (%s)",
        icalproperty_get_property_name (p));
    return FALSE;
  }
  *out = (gint64) icaltime_as_timet_with_zone (t, zone);
  return TRUE;
}

typedef struct
{
  gint64 start;
  gint64 end;
} Span;

static gint
compare_spans (gconstpointer a, gconstpointer b)
{
  const Span *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

/* Parses text with libical and compares the VEVENTs' DTSTART/DTEND (or the
 * VFREEBUSY periods) with expect (sorted), the METHOD and the number of
 * ATTENDEEs of the first VEVENT (n_attendees < 0: not checked). */
static void
check_libical (Gen *g, const char *file, const char *text, GArray *expect,
    const char *method, gint n_attendees, gboolean freebusy)
{
  icalcomponent *root = icalparser_parse_string (text);
  g_autoptr (GArray) got = g_array_new (FALSE, FALSE, sizeof (Span));
  icalcomponent *c;
  icalproperty *mp;
  gboolean first = TRUE;

  if (root == NULL) {
    problem (g, file, "libical does not parse it");
    return;
  }
  mp = icalcomponent_get_first_property (root, ICAL_METHOD_PROPERTY);
  if (g_strcmp0 (mp ? icalproperty_get_value_as_string (mp) : NULL, method)
      != 0)
    problem (g, file, "libical: METHOD %s, want %s",
        mp ? icalproperty_get_value_as_string (mp) : "(none)",
        method ? method : "(none)");
  for (c = icalcomponent_get_first_component (root,
           freebusy ? ICAL_VFREEBUSY_COMPONENT : ICAL_VEVENT_COMPONENT);
       c != NULL;
       c = icalcomponent_get_next_component (root,
           freebusy ? ICAL_VFREEBUSY_COMPONENT : ICAL_VEVENT_COMPONENT)) {
    if (freebusy) {
      for (icalproperty *p
           = icalcomponent_get_first_property (c, ICAL_FREEBUSY_PROPERTY);
           p != NULL;
           p = icalcomponent_get_next_property (c, ICAL_FREEBUSY_PROPERTY)) {
        struct icalperiodtype per = icalproperty_get_freebusy (p);
        Span s;

        if (!icaltime_is_utc (per.start)) {
          problem (g, file, "libical: a FREEBUSY period not in UTC");
          continue;
        }
        s.start = icaltime_as_timet_with_zone (per.start,
            icaltimezone_get_utc_timezone ());
        s.end = icaltime_is_null_time (per.end)
            ? s.start + icaldurationtype_as_int (per.duration)
            : (gint64) icaltime_as_timet_with_zone (per.end,
                icaltimezone_get_utc_timezone ());
        g_array_append_val (got, s);
      }
      continue;
    }
    {
      icalproperty *ps
          = icalcomponent_get_first_property (c, ICAL_DTSTART_PROPERTY);
      icalproperty *pe
          = icalcomponent_get_first_property (c, ICAL_DTEND_PROPERTY);
      Span s;

      if (ps == NULL || pe == NULL) {
        problem (g, file, "libical: a VEVENT without DTSTART or DTEND");
        continue;
      }
      if (!utc_of (g, file, root, ps, icalproperty_get_dtstart (ps), &s.start)
          || !utc_of (g, file, root, pe, icalproperty_get_dtend (pe), &s.end))
        continue;
      g_array_append_val (got, s);
      if (first && n_attendees >= 0) {
        gint n = icalcomponent_count_properties (c, ICAL_ATTENDEE_PROPERTY);

        if (n != n_attendees)
          problem (g, file, "libical: %d ATTENDEEs, want %d", n, n_attendees);
      }
      first = FALSE;
    }
  }
  g_array_sort (got, compare_spans);
  if (got->len != expect->len
      || memcmp (got->data, expect->data, got->len * sizeof (Span)) != 0)
    problem (g, file, "libical: %u instants differ from the %u expected",
        got->len, expect->len);
  icalcomponent_free (root);
}

/* ---- writing and the manifest ------------------------------------------ */

static void
add_spans (JsonBuilder *b, const char *member, GArray *spans)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < spans->len; i++) {
    const Span *s = &g_array_index (spans, Span, i);

    json_builder_begin_array (b);
    json_builder_add_int_value (b, s->start);
    json_builder_add_int_value (b, s->end);
    json_builder_end_array (b);
  }
  json_builder_end_array (b);
}

/* Writes one file, checks it, and adds its manifest entry. */
static void
emit (Gen *g, const char *kind, guint n, const char *text, GArray *spans,
    const char *method, gint n_attendees, const char *zone, GArray *occurrences)
{
  g_autofree char *name = g_strdup_printf ("%s-%04u.ics", kind, n);
  g_autofree char *path = g_build_filename (g->dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lint = NULL;
  gboolean freebusy = strcmp (kind, "freebusy") == 0;

  g_array_sort (spans, compare_spans);
  if (!g_file_set_contents (path, text, -1, &error))
    g_error ("%s", error->message);
  g->n_files++;
  lint = med_ical_lint (text, strlen (text), MED_ICAL_KIND_AUTO);
  for (guint i = 0; i < lint->len; i++)
    problem (g, name, "lint: %s", (const char *) lint->pdata[i]);
  check_libical (g, name, text, spans, method, n_attendees, freebusy);

  json_builder_begin_object (g->manifest);
  json_builder_set_member_name (g->manifest, "file");
  json_builder_add_string_value (g->manifest, name);
  json_builder_set_member_name (g->manifest, "kind");
  json_builder_add_string_value (g->manifest, kind);
  json_builder_set_member_name (g->manifest, "method");
  if (method != NULL)
    json_builder_add_string_value (g->manifest, method);
  else
    json_builder_add_null_value (g->manifest);
  json_builder_set_member_name (g->manifest, "attendees");
  json_builder_add_int_value (g->manifest, n_attendees);
  json_builder_set_member_name (g->manifest, "zone");
  json_builder_add_string_value (g->manifest, zone);
  add_spans (g->manifest, freebusy ? "busy" : "events", spans);
  if (occurrences != NULL) {
    json_builder_set_member_name (g->manifest, "window");
    json_builder_begin_array (g->manifest);
    json_builder_add_int_value (g->manifest, BUSY_FROM);
    json_builder_add_int_value (g->manifest, BUSY_TO);
    json_builder_end_array (g->manifest);
    add_spans (g->manifest, "occurrences", occurrences);
  }
  json_builder_end_object (g->manifest);
}

/* ---- invites, feeds, free/busy ------------------------------------------ */

static MedCentre *
new_centre (Gen *g, const char *zone)
{
  MedCentre *c = med_centre_new_default ();

  g_free (c->name);
  c->name = g_strdup_printf ("%s矛盾纠纷调处中心 %s", PICK (g, zh_words),
      PICK (g, bo_words));
  g_free (c->zone);
  c->zone = g_strdup (zone);
  g_free (c->address);
  c->address = new_text (g, 120, FALSE);
  g_free (c->mailbox);
  c->mailbox = g_strdup ("tiaojie@example.cn");
  return c;
}

static MedBooking *
new_booking (Gen *g, const char *zone, guint n)
{
  MedBooking *b = med_booking_new ();

  b->id = n;
  b->case_id = n;
  b->room_id = 1;
  b->mediator_id = 1;
  b->start = random_start (g, zone);
  b->end = b->start + 60 * (MedTime) g_rand_int_range (g->rand, 3, 49) * 5;
  b->mode = (MedBookingMode) g_rand_int_range (g->rand, 0, MED_BOOKING_MODE_N);
  b->status = g_rand_int_range (g->rand, 0, 10) == 0
      ? MED_BOOKING_STATUS_CANCELLED
      : MED_BOOKING_STATUS_CONFIRMED;
  b->uid = g_strdup_printf ("%08x-%04x-4000-8000-%012x@medsched",
      g_rand_int (g->rand), n, g_rand_int (g->rand));
  b->sequence = g_rand_int_range (g->rand, 0, 6);
  b->updated_at = 1764547200 + g_rand_int_range (g->rand, 0, 86400 * 300);
  return b;
}

static MedCase *
new_case (Gen *g, guint n)
{
  MedCase *k = med_case_new ();

  k->id = n;
  k->number = g_strdup_printf ("(2026)藏0102民调%u号", n);
  k->kind = (MedCaseKind) g_rand_int_range (g->rand, 0, MED_CASE_KIND_N);
  k->summary = new_text (g, 400, TRUE);
  return k;
}

static MedRoom *
new_room (Gen *g)
{
  MedRoom *r = med_room_new ();

  r->id = 1;
  r->name
      = g_strdup_printf ("%s调解室 %s", PICK (g, zh_words), PICK (g, bo_words));
  r->kind = (MedRoomKind) g_rand_int_range (g->rand, 0, MED_ROOM_KIND_N);
  return r;
}

static void
gen_invite (Gen *g, guint n)
{
  const char *zone = PICK (g, zones);
  g_autoptr (MedCentre) centre = new_centre (g, zone);
  g_autoptr (MedBooking) b = new_booking (g, zone, n);
  g_autoptr (MedCase) kase = new_case (g, n);
  g_autoptr (MedRoom) room = new_room (g);
  g_autoptr (GArray) attendees
      = g_array_new (FALSE, TRUE, sizeof (MedInviteAttendee));
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) spans = g_array_new (FALSE, FALSE, sizeof (Span));
  g_autoptr (GError) error = NULL;
  g_autofree char *note = NULL, *text = NULL;
  guint n_att = (guint) g_rand_int_range (g->rand, 1, 31);
  gint recipient;
  MedInvite inv = { 0 };
  Span s = { b->start, b->end };

  med_ical_init (zone);
  for (guint i = 0; i < n_att; i++) {
    MedInviteAttendee a = { 0 };
    char *email = g_rand_int_range (g->rand, 0, 10) < 7
        ? g_strdup_printf ("p%u.%u@example.org", n, i)
        : NULL;

    a.kind = i == 0 ? MED_ATTENDEE_MEDIATOR
                    : (MedAttendeeKind) g_rand_int_range (g->rand, 1, 3);
    a.ref_id = i + 1;
    a.name = PICK (g, names);
    a.email = email;
    if (email != NULL)
      g_ptr_array_add (strings, email);
    a.language = langs[g_rand_int_range (g->rand, 0, G_N_ELEMENTS (langs))];
    a.partstat = (MedPartstat) g_rand_int_range (g->rand, 0, MED_PARTSTAT_N);
    a.required = g_rand_boolean (g->rand);
    if (a.kind == MED_ATTENDEE_PARTY && b->mode != MED_BOOKING_MODE_IN_PERSON
        && g_rand_boolean (g->rand)) {
      char *url = g_strdup_printf ("https://tiaojie.example.cn/join/"
                                   "%08x%08x%06x",
          g_rand_int (g->rand), g_rand_int (g->rand), i);

      g_ptr_array_add (strings, url);
      a.join_url = url;
    }
    g_array_append_val (attendees, a);
  }
  note = g_rand_int_range (g->rand, 0, 3) ? new_text (g, 3000, TRUE) : NULL;
  inv.centre = centre;
  inv.booking = b;
  inv.kase = kase;
  inv.room = room;
  inv.note = note;
  inv.attendees = attendees;
  inv.dtstamp = b->updated_at;
  inv.created = b->updated_at - 86400;
  recipient = g_rand_int_range (g->rand, 0, 3) == 0
      ? -1
      : g_rand_int_range (g->rand, 0, (gint32) n_att);
  text = med_ical_invite_to_string (&inv, recipient, &error);
  if (text == NULL) {
    problem (g, "invite", "%u: %s", n, error->message);
    return;
  }
  g_array_append_val (spans, s);
  emit (g, "invite", n, text, spans,
      b->status == MED_BOOKING_STATUS_CANCELLED ? "CANCEL" : "REQUEST",
      (gint) n_att, zone, NULL);
}

static void
gen_feed (Gen *g, guint n)
{
  const char *zone = PICK (g, zones);
  g_autoptr (MedCentre) centre = new_centre (g, zone);
  g_autoptr (GPtrArray) bookings
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_booking_free);
  g_autoptr (GPtrArray) cases
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  g_autoptr (GPtrArray) rooms
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  g_autoptr (GPtrArray) events = g_ptr_array_new ();
  g_autoptr (GArray) spans = g_array_new (FALSE, FALSE, sizeof (Span));
  g_autoptr (GError) error = NULL;
  g_autofree MedFeedEvent *evs = NULL;
  g_autofree char *name = NULL, *desc = NULL, *text = NULL;
  guint n_ev = (guint) g_rand_int_range (g->rand, 0, 61);
  MedFeed feed = { 0 };

  med_ical_init (zone);
  evs = g_new0 (MedFeedEvent, MAX (n_ev, 1));
  for (guint i = 0; i < n_ev; i++) {
    MedBooking *b = new_booking (g, zone, n * 100 + i);
    MedCase *k = new_case (g, n * 100 + i);
    MedRoom *r = new_room (g);
    Span s = { b->start, b->end };

    b->status = MED_BOOKING_STATUS_CONFIRMED;
    g_ptr_array_add (bookings, b);
    g_ptr_array_add (cases, k);
    g_ptr_array_add (rooms, r);
    evs[i].booking = b;
    evs[i].kase = k;
    evs[i].room = r;
    evs[i].mediator_name = PICK (g, names);
    evs[i].interpreter_name = g_rand_boolean (g->rand) ? PICK (g, names) : NULL;
    g_ptr_array_add (events, &evs[i]);
    g_array_append_val (spans, s);
  }
  name = new_text (g, 80, FALSE);
  desc = g_rand_boolean (g->rand) ? new_text (g, 600, TRUE) : NULL;
  feed.centre = centre;
  feed.name = *name ? name : "feed";
  feed.description = desc;
  feed.audience
      = (MedFeedAudience) g_rand_int_range (g->rand, 0, MED_FEED_PARTY + 1);
  feed.events = events;
  feed.last_change = 1764547200 + g_rand_int_range (g->rand, 0, 86400 * 300);
  feed.refresh_minutes = g_rand_int_range (g->rand, 5, 1441);
  text = med_ical_feed_to_string (&feed, &error);
  if (text == NULL) {
    problem (g, "feed", "%u: %s", n, error->message);
    return;
  }
  emit (g, "feed", n, text, spans, NULL, -1, zone, NULL);
}

static void
gen_freebusy (Gen *g, guint n)
{
  const char *zone = PICK (g, zones);
  g_autoptr (MedCentre) centre = new_centre (g, zone);
  g_autoptr (GArray) busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  g_autoptr (GArray) spans = g_array_new (FALSE, FALSE, sizeof (Span));
  g_autoptr (GError) error = NULL;
  g_autofree char *who = NULL, *uid = NULL, *text = NULL;
  MedTime from = random_start (g, zone), to, t;

  med_ical_init (zone);
  from -= from % 3600;
  to = from + 86400 * (MedTime) g_rand_int_range (g->rand, 1, 60);
  /* disjoint, separated intervals: the merged list is the list itself */
  for (t = from + 3600; t < to - 7200;
       t += 3600 * (MedTime) g_rand_int_range (g->rand, 3, 30)) {
    MedInterval iv
        = { t, t + 60 * (MedTime) g_rand_int_range (g->rand, 15, 121) };
    Span s = { iv.start, iv.end };

    g_array_append_val (busy, iv);
    g_array_append_val (spans, s);
  }
  who = g_strdup_printf ("%s %s", PICK (g, names), PICK (g, bo_words));
  uid = g_strdup_printf ("medsched-mediator-%u@example.cn", n);
  text = med_ical_freebusy_to_string (centre, who, uid, from, to, busy,
      1764547200, &error);
  if (text == NULL) {
    problem (g, "freebusy", "%u: %s", n, error->message);
    return;
  }
  emit (g, "freebusy", n, text, spans, NULL, -1, zone, NULL);
}

/* ---- external busy calendars -------------------------------------------- */

static const char vtz_shanghai[]
    = "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\nBEGIN:STANDARD\r\n"
      "TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nTZNAME:CST\r\n"
      "DTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
static const char vtz_berlin[]
    = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\n"
      "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
      "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
      "END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\n"
      "TZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
      "END:VTIMEZONE\r\n";

/* Appends one content line, folded at 75 octets on UTF-8 boundaries. */
static void
add_line (GString *s, const char *line)
{
  gsize col = 0;

  for (const char *p = line; *p; p = g_utf8_next_char (p)) {
    gsize n = (gsize) (g_utf8_next_char (p) - p);

    if (col + n > 75) {
      g_string_append (s, "\r\n ");
      col = 1;
    }
    g_string_append_len (s, p, (gssize) n);
    col += n;
  }
  g_string_append (s, "\r\n");
}

/* TEXT value escaping (RFC 5545 3.3.11). (transfer full) */
static char *
escape_text (const char *t)
{
  GString *s = g_string_new (NULL);

  for (; *t; t++) {
    if (*t == '\\' || *t == ';' || *t == ',')
      g_string_append_c (s, '\\');
    if (*t == '\n')
      g_string_append (s, "\\n");
    else
      g_string_append_c (s, *t);
  }
  return g_string_free (s, FALSE);
}

/* "20260310T090000" (local in zone, or "…Z" when zone is NULL). */
static char *
format_stamp (MedTime t, const char *zone)
{
  if (zone == NULL)
    return med_time_format_local (t, "UTC", "%Y%m%dT%H%M%SZ");
  return med_time_format_local (t, zone, "%Y%m%dT%H%M%S");
}

static void
add_time (GString *s, const char *prop, MedTime t, const char *zone)
{
  g_autofree char *v = format_stamp (t, zone);
  g_autofree char *line = zone
      ? g_strdup_printf ("%s;TZID=%s:%s", prop, zone, v)
      : g_strdup_printf ("%s:%s", prop, v);

  add_line (s, line);
}

/* One busy calendar: 1–3 recurring events in separate bands of the day
 * (never touching, so the merged busy time is the occurrences themselves),
 * each with EXDATEs and an override moved 30 minutes later, plus a
 * transparent and a cancelled event that must not count. */
static void
gen_busy (Gen *g, guint n)
{
  static const char *const day_names[]
      = { "MO", "TU", "WE", "TH", "FR", "SA", "SU" };
  gboolean utc = g_rand_int_range (g->rand, 0, 4) == 0;
  const char *zone = g_rand_int_range (g->rand, 0, 3) == 0 ? "Europe/Berlin"
                                                           : "Asia/Shanghai";
  const char *tz = utc ? NULL : zone;
  g_autoptr (GString) s = g_string_new (NULL);
  g_autoptr (GArray) spans = g_array_new (FALSE, FALSE, sizeof (Span));
  g_autoptr (GArray) busy = NULL;
  g_autoptr (GArray) occ = g_array_new (FALSE, FALSE, sizeof (Span));
  g_autoptr (GError) error = NULL;
  guint n_masters = (guint) g_rand_int_range (g->rand, 1, 4);

  med_ical_init (zone);
  add_line (s, "BEGIN:VCALENDAR");
  add_line (s, "PRODID:-//medsched//interop corpus//ZH");
  add_line (s, "VERSION:2.0");
  if (!utc)
    g_string_append (s,
        strcmp (zone, "Europe/Berlin") == 0 ? vtz_berlin : vtz_shanghai);
  for (guint m = 0; m < n_masters; m++) {
    GDate d;
    MedTime start = 0;
    gint dur = 30 * g_rand_int_range (g->rand, 1, 5); /* ≤ 2 h */
    gint rule = g_rand_int_range (g->rand, 0, 4);
    gint wd;
    gint step; /* days between the occurrences picked for EXDATE etc. */
    g_autofree char *uid = g_strdup_printf ("busy-%u-%u@example.org", n, m);
    g_autofree char *summary = NULL, *desc = NULL, *line = NULL;
    Span sp;

    g_date_clear (&d, 1);
    g_date_set_dmy (&d, 1, G_DATE_FEBRUARY, 2026);
    g_date_add_days (&d, (guint) g_rand_int_range (g->rand, 0, 300));
    /* band m: local 08:00 + 3 h × m, so bands never meet */
    med_workcal_local_to_utc (zone, g_date_get_year (&d), g_date_get_month (&d),
        g_date_get_day (&d), (8 + 3 * (gint) m) * 60, &start, NULL);
    wd = g_date_get_weekday (&d) - 1; /* 0 = Monday */
    add_line (s, "BEGIN:VEVENT");
    line = g_strdup_printf ("UID:%s", uid);
    add_line (s, line);
    add_line (s, "DTSTAMP:20260101T000000Z");
    add_time (s, "DTSTART", start, tz);
    add_time (s, "DTEND", start + dur * 60, tz);
    g_clear_pointer (&line, g_free);
    switch (rule) {
      case 0:
        line = g_strdup_printf ("RRULE:FREQ=DAILY;COUNT=%d",
            g_rand_int_range (g->rand, 5, 60));
        step = 1;
        break;
      case 1:
        line = g_strdup_printf ("RRULE:FREQ=WEEKLY;BYDAY=%s;COUNT=%d",
            day_names[wd], g_rand_int_range (g->rand, 5, 40));
        step = 7;
        break;
      case 2: {
        g_autofree char *until = format_stamp (start + 86400 * 120, NULL);

        line
            = g_strdup_printf ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=%s;UNTIL=%s",
                day_names[wd], until);
        step = 14;
        break;
      }
      default:
        line = g_strdup_printf ("RRULE:FREQ=DAILY;INTERVAL=3;COUNT=%d",
            g_rand_int_range (g->rand, 5, 30));
        step = 3;
        break;
    }
    add_line (s, line);
    /* the 2nd occurrence is excluded, the 3rd moved 30 minutes later */
    {
      MedTime second = 0, third = 0;
      GDate d2 = d, d3 = d;

      /* a UTC rule repeats in UTC, a TZID rule in local time */
      g_date_add_days (&d2, (guint) step);
      g_date_add_days (&d3, (guint) (2 * step));
      med_workcal_local_to_utc (zone, g_date_get_year (&d2),
          g_date_get_month (&d2), g_date_get_day (&d2), (8 + 3 * (gint) m) * 60,
          &second, NULL);
      med_workcal_local_to_utc (zone, g_date_get_year (&d3),
          g_date_get_month (&d3), g_date_get_day (&d3), (8 + 3 * (gint) m) * 60,
          &third, NULL);
      if (utc) {
        second = start + (MedTime) step * 86400;
        third = start + (MedTime) (2 * step) * 86400;
      }
      add_time (s, "EXDATE", second, tz);
      summary
          = g_strdup_printf ("%s %s", PICK (g, zh_words), PICK (g, bo_words));
      desc = new_text (g, 1500, TRUE);
      {
        g_autofree char *es = escape_text (summary);
        g_autofree char *ed = escape_text (desc);
        g_autofree char *l1 = g_strdup_printf ("SUMMARY:%s", es);
        g_autofree char *l2 = g_strdup_printf ("DESCRIPTION:%s", ed);

        add_line (s, l1);
        add_line (s, l2);
      }
      add_line (s, "END:VEVENT");
      sp.start = start;
      sp.end = start + dur * 60;
      g_array_append_val (spans, sp);

      /* the override */
      add_line (s, "BEGIN:VEVENT");
      g_clear_pointer (&line, g_free);
      line = g_strdup_printf ("UID:%s", uid);
      add_line (s, line);
      add_line (s, "DTSTAMP:20260101T000000Z");
      add_time (s, "RECURRENCE-ID", third, tz);
      add_time (s, "DTSTART", third + 1800, tz);
      add_time (s, "DTEND", third + 1800 + dur * 60, tz);
      add_line (s, "SUMMARY:改期 བསྒྱུར་བ།");
      add_line (s, "END:VEVENT");
      sp.start = third + 1800;
      sp.end = third + 1800 + dur * 60;
      g_array_append_val (spans, sp);
    }
  }
  /* free time: transparent, and a cancelled event */
  {
    MedTime t = random_start (g, zone);
    Span sp = { t, t + 3600 };

    add_line (s, "BEGIN:VEVENT");
    add_line (s,
        g_rand_boolean (g->rand) ? "UID:free@example.org"
                                 : "UID:free-2@example.org");
    add_line (s, "DTSTAMP:20260101T000000Z");
    add_time (s, "DTSTART", t, tz);
    add_time (s, "DTEND", t + 3600, tz);
    add_line (s, "TRANSP:TRANSPARENT");
    add_line (s, "SUMMARY:仅供参考 (free)");
    add_line (s, "END:VEVENT");
    g_array_append_val (spans, sp);
    add_line (s, "BEGIN:VEVENT");
    add_line (s, "UID:cancelled@example.org");
    add_line (s, "DTSTAMP:20260101T000000Z");
    add_time (s, "DTSTART", t + 7200, tz);
    add_time (s, "DTEND", t + 10800, tz);
    add_line (s, "STATUS:CANCELLED");
    add_line (s, "SUMMARY:已取消");
    add_line (s, "END:VEVENT");
    sp.start = t + 7200;
    sp.end = t + 10800;
    g_array_append_val (spans, sp);
  }
  add_line (s, "END:VCALENDAR");

  busy = med_ical_parse_busy (s->str, s->len, BUSY_FROM, BUSY_TO,
      "Asia/Shanghai", &error);
  if (busy == NULL) {
    problem (g, "busy", "%u: medsched cannot read it: %s", n, error->message);
    return;
  }
  for (guint i = 0; i < busy->len; i++) {
    const MedInterval *iv = &g_array_index (busy, MedInterval, i);
    Span sp = { iv->start, iv->end };

    g_array_append_val (occ, sp);
  }
  emit (g, "busy", n, s->str, spans, NULL, -1, utc ? "UTC" : zone, occ);
}

int
main (int argc, char **argv)
{
  Gen g = { 0 };
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *manifest = NULL;
  guint n_invites = argc > 2 ? (guint) atoi (argv[2]) : 800;
  guint32 seed = argc > 3 ? (guint32) atoi (argv[3]) : 20261207;

  if (argc < 2 || n_invites == 0) {
    fprintf (stderr, "usage: gen-corpus OUTDIR [N_INVITES [SEED]]\n");
    return 2;
  }
  g.dir = argv[1];
  if (g_mkdir_with_parents (g.dir, 0755) != 0) {
    fprintf (stderr, "gen-corpus: cannot create %s\n", g.dir);
    return 1;
  }
  g.rand = g_rand_new_with_seed (seed);
  g.problems = g_ptr_array_new_with_free_func (g_free);
  g.manifest = json_builder_new ();
  /* zones before anything else touches libical */
  for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
    med_ical_init (zones[i]);

  json_builder_begin_object (g.manifest);
  json_builder_set_member_name (g.manifest, "seed");
  json_builder_add_int_value (g.manifest, seed);
  json_builder_set_member_name (g.manifest, "files");
  json_builder_begin_array (g.manifest);
  for (guint i = 1; i <= n_invites; i++)
    gen_invite (&g, i);
  for (guint i = 1; i <= N_FEEDS; i++)
    gen_feed (&g, i);
  for (guint i = 1; i <= N_FREEBUSY; i++)
    gen_freebusy (&g, i);
  for (guint i = 1; i <= N_BUSY; i++)
    gen_busy (&g, i);
  json_builder_end_array (g.manifest);
  json_builder_end_object (g.manifest);

  root = json_builder_get_root (g.manifest);
  json_generator_set_root (gen, root);
  manifest = g_build_filename (g.dir, "manifest.json", NULL);
  if (!json_generator_to_file (gen, manifest, &error)) {
    fprintf (stderr, "gen-corpus: %s\n", error->message);
    return 1;
  }
  printf ("%u files in %s (libical: %u problems)\n", g.n_files, g.dir,
      g.problems->len);
  for (guint i = 0; i < g.problems->len && i < 50; i++)
    fprintf (stderr, "gen-corpus: %s\n", (const char *) g.problems->pdata[i]);
  {
    int rc = g.problems->len > 0 ? 1 : 0;

    g_ptr_array_unref (g.problems);
    g_object_unref (g.manifest);
    g_rand_free (g.rand);
    return rc;
  }
}
