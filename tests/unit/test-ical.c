/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ical.c — the iCalendar that medsched writes and reads, beyond
 * holiday notices: invites (golden files for create, reschedule, a
 * text-only edit, cancel and per-recipient copies), feeds for each
 * audience, free/busy, iMIP messages parsed back with GMime, attendee
 * replies (good and hostile), busy time from external calendars
 * (recurrence, exceptions, overrides, all-day and floating times, zones,
 * limits) and the linter, which every generated calendar must pass.
 *
 * Golden files live in tests/data/golden/; run with
 * MEDSCHED_UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then
 * read the diff. */
#define G_LOG_DOMAIN "medsched-test"

#include <medsched/med-i18n.h>
#include <medsched/med-ical.h>
#include <medsched/med-model.h>

#include <gmime/gmime.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)

/* ---- helpers ---------------------------------------------------------- */

static MedTime
utc (const char *iso)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, NULL);

  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt);
}

static MedTime
local (const char *text)
{
  MedTime t = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (med_time_parse_local (text, "Asia/Shanghai", &t, &error));
  g_assert_no_error (error);
  return t;
}

/* Every calendar medsched writes passes the linter. */
static void
assert_lint_clean (const char *ics, MedIcalKind kind)
{
  g_autoptr (GPtrArray) problems = med_ical_lint (ics, strlen (ics), kind);

  for (guint i = 0; i < problems->len; i++)
    g_test_message ("lint: %s", (char *) g_ptr_array_index (problems, i));
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_null (strstr (ics, "freeassociation"));
}

/* Content lines with folding undone. (transfer full) */
static char *
unfold (const char *ics)
{
  GString *s = g_string_new (NULL);

  for (const char *p = ics; *p; p++) {
    if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
      p += 2;
      continue;
    }
    g_string_append_c (s, *p);
  }
  return g_string_free (s, FALSE);
}

static gboolean
has_line (const char *ics, const char *line)
{
  g_autofree char *u = unfold (ics);
  g_autofree char *needle = g_strconcat ("\r\n", line, "\r\n", NULL);

  return strstr (u, needle) != NULL;
}

static guint
count (const char *hay, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (hay, needle); p != NULL;
       p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
check_golden (const char *name, const char *actual)
{
  g_autofree char *path
      = g_test_build_filename (G_TEST_DIST, "data", "golden", name, NULL);
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  if (g_strcmp0 (g_getenv ("MEDSCHED_UPDATE_GOLDEN"), "1") == 0) {
    g_autofree char *dir = g_path_get_dirname (path);

    g_mkdir_with_parents (dir, 0755);
    g_assert_true (g_file_set_contents (path, actual, -1, &error));
    g_assert_no_error (error);
    g_test_message ("rewrote %s", path);
    return;
  }
  g_assert_true (g_file_get_contents (path, &expected, &len, &error));
  g_assert_no_error (error);
  if (strcmp (expected, actual) != 0) {
    g_auto (GStrv) a = g_strsplit (expected, "\n", -1);
    g_auto (GStrv) b = g_strsplit (actual, "\n", -1);

    for (guint i = 0; a[i] != NULL || b[i] != NULL; i++) {
      if (a[i] == NULL || b[i] == NULL || strcmp (a[i], b[i]) != 0) {
        g_test_message ("%s differs at line %u:\n  golden: %s\n  actual: %s",
            name, i + 1, a[i] ? a[i] : "(end)", b[i] ? b[i] : "(end)");
        break;
      }
      if (a[i] == NULL || b[i] == NULL)
        break;
    }
    g_test_message ("(MEDSCHED_UPDATE_GOLDEN=1 rewrites the golden files)");
  }
  g_assert_cmpstr (expected, ==, actual);
}

/* ---- a centre, a case, a booking and the people in it ------------------ */

typedef struct
{
  MedCentre *centre;
  MedRoom *room;
  MedCase *kase;
  MedBooking *booking;
  GArray *attendees;
  MedInvite inv;
} World;

enum
{
  MEDIATOR,
  TASHI, /* remote party, Tibetan, a comma in her name */
  LIMING, /* in-person party, English */
  WANGFANG, /* party without e-mail */
  TSERING, /* interpreter */
};

static void
world_init (World *w)
{
  MedInviteAttendee a[] = {
    { MED_ATTENDEE_MEDIATOR, 11, "卓玛", "zhuoma@court.example.cn", "bo",
        MED_PARTSTAT_ACCEPTED, TRUE, NULL },
    { MED_ATTENDEE_PARTY, 21, "扎西, བཀྲ་ཤིས།", "tashi@example.com", "bo",
        MED_PARTSTAT_NEEDS_ACTION, TRUE,
        "https://meet.court.example.cn/s/7?t=tashi-4f2a9c" },
    { MED_ATTENDEE_PARTY, 22, "李明", "liming@example.org", "en",
        MED_PARTSTAT_NEEDS_ACTION, TRUE, NULL },
    { MED_ATTENDEE_PARTY, 23, "王芳", NULL, NULL, MED_PARTSTAT_NEEDS_ACTION,
        FALSE, NULL },
    { MED_ATTENDEE_INTERPRETER, 31, "次仁", "tsering@example.net", "bo",
        MED_PARTSTAT_TENTATIVE, TRUE, NULL },
  };

  w->centre = med_centre_new_default ();
  g_free (w->centre->name);
  w->centre->name = g_strdup ("城关区一站式矛盾纠纷调处中心");
  g_free (w->centre->address);
  w->centre->address
      = g_strdup ("西藏自治区拉萨市城关区江苏路12号 诉讼服务中心二楼");
  g_free (w->centre->mailbox);
  w->centre->mailbox = g_strdup ("tiaojie@court.example.cn");

  w->room = med_room_new ();
  w->room->id = 3;
  w->room->name = g_strdup ("远程调解室（一）");
  w->room->kind = MED_ROOM_KIND_REMOTE;

  w->kase = med_case_new ();
  w->kase->id = 7;
  w->kase->number = g_strdup ("(2026)藏0102民调7号");
  w->kase->kind = MED_CASE_KIND_WAGES;

  w->booking = med_booking_new ();
  w->booking->id = 70;
  w->booking->case_id = 7;
  w->booking->room_id = 3;
  w->booking->uid = g_strdup ("booking-70@tiaojie.court.example.cn");
  w->booking->start = local ("2026-12-07T09:30");
  w->booking->end = local ("2026-12-07T11:00");
  w->booking->mode = MED_BOOKING_MODE_HYBRID;
  w->booking->status = MED_BOOKING_STATUS_CONFIRMED;
  w->booking->sequence = 0;
  w->booking->updated_at = utc ("2026-11-20T02:00:00Z");

  w->attendees = g_array_new (FALSE, TRUE, sizeof (MedInviteAttendee));
  g_array_append_vals (w->attendees, a, G_N_ELEMENTS (a));

  w->inv.centre = w->centre;
  w->inv.booking = w->booking;
  w->inv.kase = w->kase;
  w->inv.room = w->room;
  w->inv.note = NULL;
  w->inv.attendees = w->attendees;
  w->inv.dtstamp = utc ("2026-11-20T02:00:00Z");
  w->inv.created = utc ("2026-11-20T02:00:00Z");
}

static void
world_clear (World *w)
{
  med_centre_free (w->centre);
  med_room_free (w->room);
  med_case_free (w->kase);
  med_booking_free (w->booking);
  g_array_unref (w->attendees);
}

static char *
invite (World *w, gint recipient)
{
  g_autoptr (GError) error = NULL;
  char *ics = med_ical_invite_to_string (&w->inv, recipient, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ics);
  assert_lint_clean (ics, MED_ICAL_KIND_INVITE);
  return ics;
}

/* ---- invites ---------------------------------------------------------- */

static void
test_invite_create (void)
{
  World w;
  g_autofree char *ics = NULL;

  world_init (&w);
  ics = invite (&w, -1);
  check_golden ("invite-create.ics", ics);

  g_assert_true (g_str_has_prefix (ics,
      "BEGIN:VCALENDAR\r\nPRODID:-//medsched//medsched 0.1//ZH\r\n"
      "VERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:REQUEST\r\n"));
  g_assert_true (has_line (ics, "UID:booking-70@tiaojie.court.example.cn"));
  g_assert_true (has_line (ics, "SEQUENCE:0"));
  g_assert_true (has_line (ics, "DTSTAMP:20261120T020000Z"));
  g_assert_true (has_line (ics, "DTSTART;TZID=Asia/Shanghai:20261207T093000"));
  g_assert_true (has_line (ics, "DTEND;TZID=Asia/Shanghai:20261207T110000"));
  g_assert_true (has_line (ics, "TZID:Asia/Shanghai"));
  g_assert_true (has_line (ics, "STATUS:CONFIRMED"));
  g_assert_true (has_line (ics, "TRANSP:OPAQUE"));
  g_assert_true (has_line (ics,
      "ORGANIZER;CN=城关区一站式矛盾纠纷调处中心:mailto:tiaojie@court.example.cn"));
  g_assert_true (has_line (ics,
      "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=CHAIR;PARTSTAT=ACCEPTED;CN=卓玛:"
      "mailto:zhuoma@court.example.cn"));
  g_assert_true (has_line (ics,
      "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
      "RSVP=TRUE;CN=\"扎西, བཀྲ་ཤིས།\":mailto:tashi@example.com"));
  g_assert_true (has_line (ics,
      "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=TENTATIVE;"
      "RSVP=TRUE;CN=次仁:mailto:tsering@example.net"));
  g_assert_true (has_line (ics, "TRIGGER:-P1D"));
  g_assert_true (has_line (ics, "TRIGGER:-PT1H"));
  g_assert_cmpuint (count (ics, "BEGIN:VALARM"), ==, 2);
  g_assert_cmpuint (count (ics, "ACTION:DISPLAY"), ==, 2);
  g_assert_cmpuint (count (ics, "BEGIN:VTIMEZONE"), ==, 1);
  /* the organiser's copy carries nobody's link */
  g_assert_null (strstr (ics, "https://"));
  g_assert_null (strstr (ics, "CONFERENCE"));
  world_clear (&w);
}

static void
test_invite_reschedule (void)
{
  World w;
  g_autofree char *before = NULL, *after = NULL;

  world_init (&w);
  before = invite (&w, -1);
  w.booking->start = local ("2026-12-09T14:30");
  w.booking->end = local ("2026-12-09T16:00");
  w.booking->sequence = 1;
  w.booking->updated_at = utc ("2026-11-25T03:15:00Z");
  w.inv.dtstamp = utc ("2026-11-25T03:15:00Z");
  after = invite (&w, -1);
  check_golden ("invite-reschedule.ics", after);

  g_assert_true (has_line (after, "UID:booking-70@tiaojie.court.example.cn"));
  g_assert_true (has_line (after, "SEQUENCE:1"));
  g_assert_true (has_line (after, "DTSTAMP:20261125T031500Z"));
  g_assert_true (
      has_line (after, "DTSTART;TZID=Asia/Shanghai:20261209T143000"));
  g_assert_true (has_line (after, "CREATED:20261120T020000Z"));
  g_assert_true (has_line (after, "LAST-MODIFIED:20261125T031500Z"));
  g_assert_true (has_line (after, "METHOD:REQUEST"));
  world_clear (&w);
}

static void
test_invite_note (void)
{
  World w;
  g_autofree char *ics = NULL;

  world_init (&w);
  w.booking->sequence = 1; /* after the reschedule */
  w.booking->start = local ("2026-12-09T14:30");
  w.booking->end = local ("2026-12-09T16:00");
  w.booking->updated_at = utc ("2026-11-26T08:00:00Z");
  w.inv.note = "请携带身份证原件和工资条。\nBring your ID card and pay slips.";
  w.inv.dtstamp = utc ("2026-11-26T08:00:00Z");
  ics = invite (&w, -1);
  check_golden ("invite-note.ics", ics);
  g_assert_true (has_line (ics, "SEQUENCE:1"));
  g_assert_true (has_line (ics, "DTSTAMP:20261126T080000Z"));
  g_assert_nonnull (strstr (ics, "工资条"));
  world_clear (&w);
}

static void
test_invite_cancel (void)
{
  World w;
  g_autofree char *ics = NULL, *party = NULL;

  world_init (&w);
  w.booking->start = local ("2026-12-09T14:30");
  w.booking->end = local ("2026-12-09T16:00");
  w.booking->sequence = 2;
  w.booking->status = MED_BOOKING_STATUS_CANCELLED;
  w.booking->updated_at = utc ("2026-11-28T01:00:00Z");
  w.inv.dtstamp = utc ("2026-11-28T01:00:00Z");
  ics = invite (&w, -1);
  check_golden ("invite-cancel.ics", ics);

  g_assert_true (has_line (ics, "METHOD:CANCEL"));
  g_assert_true (has_line (ics, "STATUS:CANCELLED"));
  g_assert_true (has_line (ics, "SEQUENCE:2"));
  g_assert_null (strstr (ics, "RSVP"));
  g_assert_null (strstr (ics, "BEGIN:VALARM"));
  /* the remote party's copy of a cancel has no link either */
  party = invite (&w, TASHI);
  g_assert_null (strstr (party, "https://"));
  g_assert_null (strstr (party, "CONFERENCE"));
  g_assert_nonnull (strstr (party, "རྩིས་མེད།"));
  world_clear (&w);
}

static void
test_invite_recipients (void)
{
  World w;
  g_autofree char *tashi = NULL, *liming = NULL, *tsering = NULL;
  g_autofree char *wang = NULL, *u = NULL;
  const char *link = "https://meet.court.example.cn/s/7?t=tashi-4f2a9c";

  world_init (&w);
  tashi = invite (&w, TASHI);
  check_golden ("invite-party-remote-bo.ics", tashi);
  liming = invite (&w, LIMING);
  check_golden ("invite-party-en.ics", liming);
  tsering = invite (&w, TSERING);
  wang = invite (&w, WANGFANG);

  /* Tashi's own link, in CONFERENCE (one unquoted FEATURE), URL and
   * DESCRIPTION */
  u = unfold (tashi);
  g_assert_nonnull (
      strstr (u, "\r\nCONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL="));
  g_assert_true (
      has_line (tashi, "URL:https://meet.court.example.cn/s/7?t=tashi-4f2a9c"));
  g_assert_cmpuint (count (u, link), ==, 3);
  /* each copy in its recipient's language only (po/) */
  g_assert_nonnull (
      strstr (u, "SUMMARY:བར་འདུམ་ཚོགས་འདུ། (2026)藏0102民调7号\r\n"));
  g_assert_null (strstr (u, "调解："));
  /* nobody else sees it */
  g_assert_null (strstr (liming, "https://"));
  g_assert_null (strstr (tsering, "https://"));
  g_assert_null (strstr (wang, "https://"));
  g_assert_null (strstr (liming, "CONFERENCE"));
  {
    g_autofree char *ul = unfold (liming);
    g_autofree char *uw = unfold (wang);

    g_assert_nonnull (
        strstr (ul, "SUMMARY:Mediation session: (2026)藏0102民调7号\r\n"));
    g_assert_nonnull (strstr (uw, "SUMMARY:调解：(2026)藏0102民调7号\r\n"));
  }
  world_clear (&w);
}

static void
test_invite_urn_uuid (void)
{
  World w;
  g_autofree char *a = NULL, *b = NULL, *ua = NULL;
  const char *p;
  char id[64];

  world_init (&w);
  a = invite (&w, -1);
  w.booking->sequence = 1;
  b = invite (&w, -1);
  ua = unfold (a);
  /* Wang Fang has no e-mail: a stable urn:uuid (version 5) */
  p = strstr (ua, "CN=王芳:urn:uuid:");
  g_assert_nonnull (p);
  p += strlen ("CN=王芳:urn:uuid:");
  g_strlcpy (id, p, 37);
  g_assert_true (g_uuid_string_is_valid (id));
  g_assert_cmpint (id[14], ==, '5');
  {
    g_autofree char *ub = unfold (b);

    g_assert_nonnull (strstr (ub, id));
  }
  /* optional, asked to answer; the mediator (the chair) is not asked */
  g_assert_nonnull (strstr (ua,
      "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
      "RSVP=TRUE;CN=王芳:urn:uuid:"));
  world_clear (&w);
}

static void
test_invite_errors (void)
{
  World w;
  g_autoptr (GError) error = NULL;
  char *ics;
  MedInviteAttendee *a;

  world_init (&w);
  ics = med_ical_invite_to_string (&w.inv, 99, &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_clear_error (&error);

  g_free (w.centre->zone);
  w.centre->zone = g_strdup ("Mars/Olympus_Mons");
  ics = med_ical_invite_to_string (&w.inv, -1, &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Mars/Olympus_Mons"));
  g_clear_error (&error);
  g_free (w.centre->zone);
  w.centre->zone = g_strdup ("Asia/Shanghai");

  a = &g_array_index (w.attendees, MedInviteAttendee, LIMING);
  a->email = "liming@example.org\r\nBcc: evil@example.com";
  ics = med_ical_invite_to_string (&w.inv, -1, &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_clear_error (&error);
  a->email = "liming@example.org";

  a = &g_array_index (w.attendees, MedInviteAttendee, TASHI);
  a->join_url = "javascript:alert(1)";
  ics = med_ical_invite_to_string (&w.inv, TASHI, &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_clear_error (&error);
  a->join_url = NULL;

  a->name = "\xff\xfe";
  ics = med_ical_invite_to_string (&w.inv, -1, &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_ENCODING);
  g_clear_error (&error);
  a->name = "扎西";

  w.booking->end = w.booking->start;
  ics = med_ical_invite_to_string (&w.inv, -1, &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_clear_error (&error);
  w.booking->end = w.booking->start + 3600;

  g_array_set_size (w.attendees, 0);
  ics = med_ical_invite_to_string (&w.inv, -1, &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  world_clear (&w);
}

/* Injection-shaped text stays inside its property. */
static void
test_invite_injection (void)
{
  World w;
  g_autofree char *ics = NULL, *u = NULL;
  MedInviteAttendee *a;

  world_init (&w);
  a = &g_array_index (w.attendees, MedInviteAttendee, LIMING);
  a->name = "Li\"; ROLE=CHAIR:mailto:x@y\r\nATTENDEE:mailto:evil@example.com";
  w.inv.note = "ok\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil";
  ics = invite (&w, -1);
  u = unfold (ics);
  g_assert_cmpuint (count (u, "\r\nBEGIN:VEVENT\r\n"), ==, 1);
  g_assert_cmpuint (count (u, "\r\nATTENDEE"), ==, 5);
  g_assert_null (strstr (u, "\r\nUID:evil"));
  g_assert_null (strstr (u, "mailto:evil@example.com\r\n"));
  world_clear (&w);
}

/* libical 3.0.16 can fold inside the line end it appends; medsched
 * repairs that. Every text length, in ASCII, Chinese and Tibetan, must
 * come out clean. */
static void
test_invite_fold_boundaries (void)
{
  static const char *const units[] = { "a", "调", "བ", "a调" };
  World w;

  world_init (&w);
  for (guint u = 0; u < G_N_ELEMENTS (units); u++) {
    g_autoptr (GString) note = g_string_new (NULL);

    for (guint n = 0; n < 120; n++) {
      g_autofree char *ics = NULL, *plain = NULL;

      w.inv.note = note->str;
      g_free (w.kase->number);
      w.kase->number = g_strdup (note->str);
      ics = invite (&w, TASHI);
      plain = unfold (ics);
      g_assert_null (strstr (plain, "\r\r"));
      g_assert_null (strstr (ics, "\r\n \r\n"));
      g_string_append (note, units[u]);
    }
  }
  world_clear (&w);
}

static void
test_partstat_text (void)
{
  MedPartstat p = MED_PARTSTAT_N;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < MED_PARTSTAT_N; i++) {
    g_assert_true (
        med_partstat_from_string (med_partstat_to_string (i), &p, &error));
    g_assert_no_error (error);
    g_assert_cmpint (p, ==, i);
  }
  g_assert_true (med_partstat_from_string ("accepted", &p, NULL));
  g_assert_cmpint (p, ==, MED_PARTSTAT_ACCEPTED);
  g_assert_false (med_partstat_from_string ("X-MAYBE", &p, &error));
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_assert_cmpstr (med_partstat_to_string (MED_PARTSTAT_N), ==, "invalid");
}

/* ---- zones ------------------------------------------------------------ */

static void
test_zone_truncated (void)
{
  World w;
  g_autofree char *ics = NULL, *u = NULL;

  world_init (&w);
  ics = invite (&w, -1);
  u = unfold (ics);
  g_assert_nonnull (strstr (u, "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"));
  g_assert_null (strstr (u, "19190413")); /* history dropped */
  g_assert_nonnull (strstr (u, "TZOFFSETTO:+0800"));
  g_assert_null (strstr (u, "TZOFFSETTO:+0900"));

  /* a zone with daylight saving keeps its current rules */
  g_free (w.centre->zone);
  w.centre->zone = g_strdup ("Europe/Berlin");
  g_free (ics);
  ics = invite (&w, -1);
  g_assert_true (has_line (ics, "TZID:Europe/Berlin"));
  g_assert_true (has_line (ics, "DTSTART;TZID=Europe/Berlin:20261207T023000"));
  g_assert_nonnull (strstr (ics, "BEGIN:DAYLIGHT"));
  g_assert_nonnull (strstr (ics, "TZOFFSETTO:+0200"));
  /* rules still running end at the end of the range, not at their last
   * onset (python3-vobject drops an onset equal to UNTIL) */
  g_assert_true (has_line (ics,
      "RRULE:FREQ=YEARLY;UNTIL=20261231T230000Z;BYDAY=-1SU;BYMONTH=3"));
  g_assert_true (has_line (ics,
      "RRULE:FREQ=YEARLY;UNTIL=20261231T230000Z;BYDAY=-1SU;BYMONTH=10"));
  g_assert_null (strstr (ics, "X-MED-OPEN-RULE"));
  world_clear (&w);
}

typedef struct
{
  World *w;
  guint failures;
} ThreadData;

static gpointer
invite_thread (gpointer data)
{
  ThreadData *td = data;

  for (int i = 0; i < 200; i++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *ics
        = med_ical_invite_to_string (&td->w->inv, i % 5 - 1, &error);

    if (ics == NULL || strstr (ics, "TZID:Asia/Shanghai") == NULL)
      g_atomic_int_inc (&td->failures);
  }
  /* busy imports resolve zones on any thread too */
  for (int i = 0; i < 50; i++) {
    static const char busy[]
        = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:t\r\n"
          "DTSTART;TZID=America/New_York:20260701T200000\r\n"
          "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n"
          "END:VCALENDAR\r\n";
    g_autoptr (GError) error = NULL;
    g_autoptr (GArray) a = med_ical_parse_busy (busy, strlen (busy),
        utc ("2026-07-01T00:00:00Z"), utc ("2026-08-01T00:00:00Z"),
        i % 2 ? "Asia/Shanghai" : "Europe/Berlin", &error);

    if (a == NULL || a->len != 3
        || g_array_index (a, MedInterval, 0).start
            != utc ("2026-07-02T00:00:00Z"))
      g_atomic_int_inc (&td->failures);
  }
  return NULL;
}

static void
test_zone_threads (void)
{
  World w;
  ThreadData td = { &w, 0 };
  GThread *threads[8];

  world_init (&w);
  med_ical_init ("Asia/Shanghai");
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("invite", invite_thread, &td);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (td.failures, ==, 0);
  world_clear (&w);
}

/* ---- feeds ------------------------------------------------------------ */

typedef struct
{
  World w;
  MedRoom *warm;
  MedCase *kase2;
  GPtrArray *bookings; /* MedBooking* */
  GPtrArray *events; /* MedFeedEvent* */
  MedFeed feed;
} FeedWorld;

static void
feed_add (FeedWorld *f, const char *uid, const char *start, const char *end,
    MedCase *kase, MedRoom *room, const char *interp, gboolean cancelled)
{
  MedBooking *b = med_booking_new ();
  MedFeedEvent *e = g_new0 (MedFeedEvent, 1);

  b->uid = g_strdup (uid);
  b->start = local (start);
  b->end = local (end);
  b->mode = room->kind == MED_ROOM_KIND_REMOTE ? MED_BOOKING_MODE_REMOTE
                                               : MED_BOOKING_MODE_IN_PERSON;
  b->status
      = cancelled ? MED_BOOKING_STATUS_CANCELLED : MED_BOOKING_STATUS_CONFIRMED;
  b->sequence = cancelled ? 1 : 0;
  g_ptr_array_add (f->bookings, b);
  e->booking = b;
  e->kase = kase;
  e->room = room;
  e->mediator_name = "卓玛";
  e->interpreter_name = interp;
  g_ptr_array_add (f->events, e);
}

static void
feed_init (FeedWorld *f, MedFeedAudience audience)
{
  world_init (&f->w);
  f->warm = med_room_new ();
  f->warm->id = 1;
  f->warm->name = g_strdup ("温馨调解室（二）");
  f->warm->kind = MED_ROOM_KIND_WARM;
  f->kase2 = med_case_new ();
  f->kase2->id = 8;
  f->kase2->number = g_strdup ("(2026)藏0102民调8号");
  f->kase2->kind = MED_CASE_KIND_NEIGHBOUR;
  f->bookings
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_booking_free);
  f->events = g_ptr_array_new_with_free_func (g_free);

  /* deliberately out of order; two at the same time differ by UID */
  feed_add (f, "booking-72@tiaojie.court.example.cn", "2026-12-08T14:30",
      "2026-12-08T16:00", f->kase2, f->warm, NULL, FALSE);
  feed_add (f, "booking-70@tiaojie.court.example.cn", "2026-12-07T09:30",
      "2026-12-07T11:00", f->w.kase, f->w.room, "次仁", FALSE);
  feed_add (f, "booking-71@tiaojie.court.example.cn", "2026-12-07T09:30",
      "2026-12-07T10:30", f->kase2, f->warm, NULL, TRUE);
  if (audience == MED_FEED_PARTY) {
    /* the caller filters to the party's case */
    g_ptr_array_remove_index (f->events, 2);
    g_ptr_array_remove_index (f->events, 0);
  }

  memset (&f->feed, 0, sizeof f->feed);
  f->feed.centre = f->w.centre;
  f->feed.name = audience == MED_FEED_PUBLIC ? "调解室预约 Room bookings"
      : audience == MED_FEED_STAFF           ? "调解日程（工作人员）"
                                   : "我的调解 My mediation sessions";
  f->feed.description
      = audience == MED_FEED_STAFF ? "城关区调处中心, 全部调解室" : NULL;
  f->feed.audience = audience;
  f->feed.events = f->events;
  f->feed.last_change = utc ("2026-11-28T01:00:00Z");
  f->feed.refresh_minutes = 60;
}

static void
feed_clear (FeedWorld *f)
{
  g_ptr_array_unref (f->events);
  g_ptr_array_unref (f->bookings);
  med_room_free (f->warm);
  med_case_free (f->kase2);
  world_clear (&f->w);
}

static char *
feed_text (FeedWorld *f)
{
  g_autoptr (GError) error = NULL;
  char *ics = med_ical_feed_to_string (&f->feed, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ics);
  assert_lint_clean (ics, MED_ICAL_KIND_FEED);
  assert_lint_clean (ics, MED_ICAL_KIND_AUTO);
  return ics;
}

static void
test_feed_public (void)
{
  FeedWorld f;
  g_autofree char *ics = NULL;

  feed_init (&f, MED_FEED_PUBLIC);
  ics = feed_text (&f);
  check_golden ("feed-public.ics", ics);
  g_assert_null (strstr (ics, "METHOD"));
  g_assert_null (strstr (ics, "ATTENDEE"));
  g_assert_null (strstr (ics, "民调"));
  g_assert_null (strstr (ics, "卓玛"));
  g_assert_null (strstr (ics, "次仁"));
  g_assert_null (strstr (ics, "DESCRIPTION"));
  g_assert_cmpuint (count (ics, "CLASS:CONFIDENTIAL"), ==, 3);
  /* one language a feed: Chinese when the caller names none */
  g_assert_cmpuint (count (ics, "SUMMARY:已预约\r\n"), ==, 2);
  g_assert_cmpuint (count (ics, "SUMMARY:已取消\r\n"), ==, 1);
  g_assert_null (strstr (ics, "Reserved"));
  g_assert_true (has_line (ics, "REFRESH-INTERVAL;VALUE=DURATION:PT60M"));
  g_assert_true (has_line (ics, "X-PUBLISHED-TTL:PT60M"));
  g_assert_true (has_line (ics, "X-WR-TIMEZONE:Asia/Shanghai"));
  g_assert_true (has_line (ics, "NAME:调解室预约 Room bookings"));
  g_assert_true (has_line (ics, "X-WR-CALNAME:调解室预约 Room bookings"));
  g_assert_cmpuint (count (ics, "DTSTAMP:20261128T010000Z"), ==, 3);
  feed_clear (&f);
}

static void
test_feed_staff (void)
{
  FeedWorld f;
  g_autofree char *ics = NULL;
  const char *a, *b, *c;

  feed_init (&f, MED_FEED_STAFF);
  ics = feed_text (&f);
  check_golden ("feed-staff.ics", ics);
  g_assert_nonnull (strstr (ics, "(2026)藏0102民调7号"));
  g_assert_nonnull (strstr (ics, "欠薪"));
  g_assert_nonnull (strstr (ics, "次仁"));
  g_assert_null (strstr (ics, "ATTENDEE"));
  g_assert_null (strstr (ics, "@example"));
  g_assert_true (has_line (ics, "X-WR-CALDESC:城关区调处中心, 全部调解室"));
  /* sorted by start, then UID */
  a = strstr (ics, "UID:booking-70");
  b = strstr (ics, "UID:booking-71");
  c = strstr (ics, "UID:booking-72");
  g_assert_true (a != NULL && b != NULL && c != NULL && a < b && b < c);
  /* the cancelled one stays, cancelled */
  g_assert_cmpuint (count (ics, "STATUS:CANCELLED"), ==, 1);
  g_assert_cmpuint (count (ics, "TRANSP:TRANSPARENT"), ==, 1);
  feed_clear (&f);
}

static void
test_feed_party (void)
{
  FeedWorld f;
  g_autofree char *ics = NULL;

  feed_init (&f, MED_FEED_PARTY);
  ics = feed_text (&f);
  check_golden ("feed-party.ics", ics);
  g_assert_cmpuint (count (ics, "BEGIN:VEVENT"), ==, 1);
  g_assert_null (strstr (ics, "民调8号"));
  g_assert_null (strstr (ics, "https://"));
  g_assert_null (strstr (ics, "ATTENDEE"));
  feed_clear (&f);
}

/* A feed in its reader's language: the texts from the catalogues, one
 * language, nothing of another (the room and case names are data). */
static void
test_feed_languages (void)
{
  static const struct
  {
    MedFeedAudience audience;
    const char *language;
    MedLang lang;
  } runs[] = {
    { MED_FEED_PARTY, "bo", MED_LANG_BO },
    { MED_FEED_STAFF, "en", MED_LANG_EN },
    { MED_FEED_STAFF, "bo", MED_LANG_BO },
    { MED_FEED_PUBLIC, "en", MED_LANG_EN },
    { MED_FEED_STAFF, "fr", MED_LANG_ZH }, /* no catalogue: Chinese */
  };

  for (guint i = 0; i < G_N_ELEMENTS (runs); i++) {
    FeedWorld f;
    g_autofree char *folded = NULL, *ics = NULL, *summary = NULL;
    g_autofree char *line = NULL;
    const char *L = NULL;

    feed_init (&f, runs[i].audience);
    f.feed.language = runs[i].language;
    folded = feed_text (&f);
    ics = unfold (folded);
    switch (runs[i].audience) {
      case MED_FEED_PUBLIC:
        summary = g_strdup (med_i18n_gettext (runs[i].lang, "Reserved"));
        break;
      case MED_FEED_STAFF:
        summary = med_i18n_printf (runs[i].lang,
            "Mediation session: %1$s (%2$s)", "(2026)藏0102民调7号",
            med_i18n_gettext (runs[i].lang,
                med_case_kind_label (f.w.kase->kind)));
        L = med_i18n_gettext (runs[i].lang, "Case kind");
        break;
      default:
        summary = med_i18n_printf (runs[i].lang, "Mediation session: %s",
            "(2026)藏0102民调7号");
        L = med_i18n_gettext (runs[i].lang, "Mediator");
        break;
    }
    line = g_strdup_printf ("SUMMARY:%s\r\n", summary);
    g_assert_cmpuint (count (ics, line), >=, 1);
    if (L != NULL)
      g_assert_nonnull (strstr (ics, L));
    if (runs[i].lang != MED_LANG_ZH) {
      /* no Chinese word of the old fixed texts */
      g_assert_null (strstr (ics, "已预约"));
      g_assert_null (strstr (ics, "调解员"));
      g_assert_null (strstr (ics, "方式"));
    }
    if (runs[i].lang == MED_LANG_BO)
      g_assert_nonnull (strstr (ics, "བར་འདུམ་"));
    feed_clear (&f);
  }
}

/* Same state in any order: the same bytes. */
static void
test_feed_deterministic (void)
{
  FeedWorld f;
  g_autofree char *a = NULL, *b = NULL;

  feed_init (&f, MED_FEED_STAFF);
  a = feed_text (&f);
  g_ptr_array_add (f.events, g_ptr_array_steal_index (f.events, 0));
  g_ptr_array_add (f.events, g_ptr_array_steal_index (f.events, 0));
  b = feed_text (&f);
  g_assert_cmpstr (a, ==, b);
  g_free (b);
  f.feed.last_change += 1;
  b = feed_text (&f);
  g_assert_cmpstr (a, !=, b);
  feed_clear (&f);
}

static void
test_feed_years (void)
{
  FeedWorld f;
  g_autofree char *ics = NULL;

  feed_init (&f, MED_FEED_PUBLIC);
  feed_add (&f, "booking-99@x", "2027-03-01T09:00", "2027-03-01T10:00", f.kase2,
      f.warm, NULL, FALSE);
  ics = feed_text (&f);
  g_assert_cmpuint (count (ics, "BEGIN:VTIMEZONE"), ==, 1);
  g_assert_nonnull (strstr (ics, "TZUNTIL:20271231T160000Z"));
  g_assert_nonnull (strstr (ics, "DTSTART:20260101T000000"));
  g_free (ics);
  /* an empty feed is still a valid calendar */
  g_ptr_array_set_size (f.events, 0);
  ics = feed_text (&f);
  g_assert_null (strstr (ics, "BEGIN:VEVENT"));
  g_assert_true (g_str_has_suffix (ics, "END:VTIMEZONE\r\nEND:VCALENDAR\r\n"));
  feed_clear (&f);
}

static void
test_freebusy (void)
{
  World w;
  g_autoptr (GArray) busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  g_autoptr (GError) error = NULL;
  g_autofree char *ics = NULL;
  MedInterval iv[] = {
    { local ("2026-12-07T14:30"), local ("2026-12-07T16:00") },
    { local ("2026-12-07T09:30"), local ("2026-12-07T11:00") },
    { local ("2026-12-07T10:30"), local ("2026-12-07T12:00") }, /* overlaps */
    { local ("2026-12-06T09:00"), local ("2026-12-07T08:30") }, /* clipped */
    { local ("2026-12-20T09:00"), local ("2026-12-20T10:00") }, /* outside */
  };

  world_init (&w);
  g_array_append_vals (busy, iv, G_N_ELEMENTS (iv));
  ics = med_ical_freebusy_to_string (w.centre, "卓玛", "mediator-11@tiaojie",
      local ("2026-12-07T00:00"), local ("2026-12-14T00:00"), busy,
      utc ("2026-11-28T01:00:00Z"), &error);
  g_assert_no_error (error);
  assert_lint_clean (ics, MED_ICAL_KIND_FEED);
  check_golden ("freebusy.ics", ics);
  g_assert_true (has_line (ics, "BEGIN:VFREEBUSY"));
  g_assert_true (has_line (ics, "UID:mediator-11@tiaojie"));
  g_assert_true (has_line (ics, "DTSTART:20261206T160000Z"));
  g_assert_true (has_line (ics, "DTEND:20261213T160000Z"));
  g_assert_true (
      has_line (ics, "FREEBUSY;FBTYPE=BUSY:20261206T160000Z/20261207T003000Z"));
  g_assert_true (
      has_line (ics, "FREEBUSY;FBTYPE=BUSY:20261207T013000Z/20261207T040000Z"));
  g_assert_true (
      has_line (ics, "FREEBUSY;FBTYPE=BUSY:20261207T063000Z/20261207T080000Z"));
  g_assert_cmpuint (count (ics, "FREEBUSY;"), ==, 3);
  g_assert_null (strstr (ics, "METHOD"));

  g_clear_pointer (&ics, g_free);
  ics = med_ical_freebusy_to_string (w.centre, "x", "u", 10, 5, busy, 0,
      &error);
  g_assert_null (ics);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  world_clear (&w);
}

/* ---- iMIP ------------------------------------------------------------- */

static void
test_imip_structure (void)
{
  World w;
  g_autofree char *ics = NULL, *msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeParser) parser = NULL;
  g_autoptr (GMimeMessage) parsed = NULL;
  GMimeObject *body, *plain, *cal;
  GMimeDataWrapper *content;
  g_autoptr (GMimeStream) mem = NULL;
  GByteArray *bytes;
  InternetAddressList *from;
  g_autofree char *text = NULL;

  world_init (&w);
  ics = invite (&w, TASHI);
  msg = med_ical_imip_message ("城关区调处中心", "tiaojie@court.example.cn",
      "扎西, བཀྲ་ཤིས།", "tashi@example.com",
      "调解通知：(2026)藏0102民调7号 / བར་འདུམ།",
      "您好，请查看附件中的调解邀请。\nPlease see the invitation.", ics,
      "<booking-70-0-21@tiaojie.court.example.cn>",
      utc ("2026-11-20T02:00:00Z"), &error);
  g_assert_no_error (error);
  g_assert_nonnull (msg);

  /* CRLF everywhere, headers ASCII (RFC 2047) */
  for (const char *p = msg; *p; p++) {
    if (*p == '\n')
      g_assert_true (p > msg && p[-1] == '\r');
  }
  {
    const char *end = strstr (msg, "\r\n\r\n");

    g_assert_nonnull (end);
    for (const char *p = msg; p < end; p++)
      g_assert_cmpuint ((guchar) *p, <, 0x80);
  }
  g_assert_nonnull (strstr (msg, "MIME-Version: 1.0\r\n"));
  g_assert_nonnull (strstr (msg,
      "Message-Id: <booking-70-0-21@tiaojie.court.example.cn>\r\n"));
  g_assert_nonnull (strstr (msg, "Date: Fri, 20 Nov 2026 02:00:00 +0000\r\n"));

  stream = g_mime_stream_mem_new_with_buffer (msg, strlen (msg));
  parser = g_mime_parser_new_with_stream (stream);
  parsed = g_mime_parser_construct_message (parser, NULL);
  g_assert_nonnull (parsed);
  g_assert_cmpstr (g_mime_message_get_subject (parsed), ==,
      "调解通知：(2026)藏0102民调7号 / བར་འདུམ།");
  from = g_mime_message_get_from (parsed);
  g_assert_cmpint (internet_address_list_length (from), ==, 1);
  g_assert_cmpstr (internet_address_get_name (
                       internet_address_list_get_address (from, 0)),
      ==, "城关区调处中心");
  {
    InternetAddressList *to = g_mime_message_get_to (parsed);

    g_assert_cmpstr (internet_address_get_name (
                         internet_address_list_get_address (to, 0)),
        ==, "扎西, བཀྲ་ཤིས།");
  }
  body = g_mime_message_get_mime_part (parsed);
  g_assert_true (GMIME_IS_MULTIPART (body));
  g_assert_true (
      g_mime_content_type_is_type (g_mime_object_get_content_type (body),
          "multipart", "alternative"));
  g_assert_cmpint (g_mime_multipart_get_count (GMIME_MULTIPART (body)), ==, 2);
  plain = g_mime_multipart_get_part (GMIME_MULTIPART (body), 0);
  cal = g_mime_multipart_get_part (GMIME_MULTIPART (body), 1);
  g_assert_true (
      g_mime_content_type_is_type (g_mime_object_get_content_type (plain),
          "text", "plain"));
  g_assert_true (
      g_mime_content_type_is_type (g_mime_object_get_content_type (cal), "text",
          "calendar"));
  g_assert_cmpstr (g_mime_object_get_content_type_parameter (cal, "method"), ==,
      "REQUEST");
  g_assert_cmpint (
      g_ascii_strcasecmp (g_mime_object_get_content_type_parameter (cal,
                              "charset"),
          "UTF-8"),
      ==, 0);
  g_assert_cmpint (
      g_ascii_strcasecmp (g_mime_object_get_content_type_parameter (plain,
                              "charset"),
          "UTF-8"),
      ==, 0);
  text = g_mime_text_part_get_text (GMIME_TEXT_PART (plain));
  g_assert_nonnull (strstr (text, "调解邀请"));

  /* the calendar arrives byte for byte */
  content = g_mime_part_get_content (GMIME_PART (cal));
  mem = g_mime_stream_mem_new ();
  g_mime_data_wrapper_write_to_stream (content, mem);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
  g_assert_cmpmem (bytes->data, bytes->len, ics, strlen (ics));

  /* and the same message twice is the same bytes */
  {
    g_autofree char *again = med_ical_imip_message ("城关区调处中心",
        "tiaojie@court.example.cn", "扎西, བཀྲ་ཤིས།", "tashi@example.com",
        "调解通知：(2026)藏0102民调7号 / བར་འདུམ།",
        "您好，请查看附件中的调解邀请。\nPlease see the invitation.", ics,
        "<booking-70-0-21@tiaojie.court.example.cn>",
        utc ("2026-11-20T02:00:00Z"), &error);

    g_assert_cmpstr (msg, ==, again);
  }
  world_clear (&w);
}

static void
test_imip_cancel_and_errors (void)
{
  World w;
  g_autofree char *ics = NULL, *msg = NULL;
  g_autoptr (GError) error = NULL;

  world_init (&w);
  w.booking->status = MED_BOOKING_STATUS_CANCELLED;
  w.booking->sequence = 1;
  ics = invite (&w, LIMING);
  msg = med_ical_imip_message (NULL, "tiaojie@court.example.cn", "Li Ming",
      "liming@example.org", "Cancelled", "Cancelled.", ics, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (msg, "method=CANCEL"));
  g_assert_nonnull (strstr (msg, "Message-Id: <"));
  g_clear_pointer (&msg, g_free);

  msg = med_ical_imip_message (NULL, "tiaojie@court.example.cn", NULL,
      "liming@example.org", "x", "x",
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", NULL, 0, &error);
  g_assert_null (msg);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_clear_error (&error);

  msg = med_ical_imip_message (NULL, "tiaojie@court.example.cn", NULL,
      "liming@example.org\r\nBcc: x@y", "x", "x", ics, NULL, 0, &error);
  g_assert_null (msg);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  g_clear_error (&error);

  /* a header injection in a name or subject is folded into one header */
  msg = med_ical_imip_message ("A\r\nBcc: evil@example.com",
      "tiaojie@court.example.cn", NULL, "liming@example.org",
      "Hi\r\nBcc: evil@example.com", "x", ics, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (msg, "\r\nBcc:"));
  world_clear (&w);
}

/* ---- replies ---------------------------------------------------------- */

#define REPLY_HEAD                                                             \
  "BEGIN:VCALENDAR\r\nPRODID:-//Example//Mail 1.0//EN\r\nVERSION:2.0\r\n"      \
  "METHOD:REPLY\r\n"
#define REPLY_EVENT_HEAD                                                       \
  "BEGIN:VEVENT\r\nUID:booking-70@tiaojie.court.example.cn\r\n"                \
  "SEQUENCE:1\r\nDTSTAMP:20261121T083000Z\r\n"                                 \
  "DTSTART;TZID=Asia/Shanghai:20261207T093000\r\n"                             \
  "ORGANIZER:mailto:tiaojie@court.example.cn\r\n"

static const char good_reply[] = REPLY_HEAD REPLY_EVENT_HEAD
    "ATTENDEE;PARTSTAT=ACCEPTED;CN=\"扎西, བཀྲ་ཤིས།\":MAILTO:tashi@example.com\r\n"
    "COMMENT:我会准时参加。\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n";

static void
test_reply_good (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedReply) r
      = med_ical_parse_reply (good_reply, strlen (good_reply), &error);
  g_autoptr (MedReply) r2 = NULL;
  g_autofree char *lf = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpstr (r->uid, ==, "booking-70@tiaojie.court.example.cn");
  g_assert_cmpint (r->sequence, ==, 1);
  g_assert_cmpstr (r->attendee, ==, "tashi@example.com");
  g_assert_cmpint (r->partstat, ==, MED_PARTSTAT_ACCEPTED);
  g_assert_cmpint (r->dtstamp, ==, utc ("2026-11-21T08:30:00Z"));
  g_assert_cmpstr (r->comment, ==, "我会准时参加。");

  /* bare LF line ends and a byte order mark are tolerated on input */
  {
    g_auto (GStrv) lines = g_strsplit (good_reply, "\r\n", -1);
    g_autofree char *joined = g_strjoinv ("\n", lines);

    lf = g_strconcat ("\xEF\xBB\xBF", joined, NULL);
  }
  r2 = med_ical_parse_reply (lf, strlen (lf), &error);
  g_assert_no_error (error);
  g_assert_cmpint (r2->partstat, ==, MED_PARTSTAT_ACCEPTED);
}

typedef struct
{
  const char *name;
  const char *text;
  MedIcalError code;
} Hostile;

static void
test_reply_hostile (void)
{
  static const Hostile cases[] = {
    { "empty", "", MED_ICAL_ERROR_PARSE },
    { "garbage", "hello world\r\n", MED_ICAL_ERROR_PARSE },
    { "binary", "BEGIN:VCALENDAR\r\n\xff\xfe\x00\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_ENCODING },
    { "latin1", "BEGIN:VCALENDAR\r\nCOMMENT:caf\xe9\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_ENCODING },
    { "no-method",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "request",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n" REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "two-events",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\nEND:VEVENT\r\n" REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=DECLINED:mailto:a@example.com\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "no-event", REPLY_HEAD "END:VCALENDAR\r\n", MED_ICAL_ERROR_INVALID },
    { "todo",
        REPLY_HEAD "BEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\n"
                   "END:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "two-attendees",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:b@example.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "no-attendee",
        REPLY_HEAD REPLY_EVENT_HEAD "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "no-partstat",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE:mailto:a@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "x-partstat",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=X-MAYBE:mailto:a@example.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "not-mailto",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:http://example.com/a\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "bad-address",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a b@example.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "no-uid",
        REPLY_HEAD "BEGIN:VEVENT\r\nDTSTAMP:20261121T083000Z\r\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "negative-sequence",
        REPLY_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                   "SEQUENCE:-4\r\nDTSTAMP:20261121T083000Z\r\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "bad-sequence",
        REPLY_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                   "SEQUENCE:many\r\nDTSTAMP:20261121T083000Z\r\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_PARSE },
    { "floating-dtstamp",
        REPLY_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                   "DTSTAMP:20261121T083000\r\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "no-dtstamp",
        REPLY_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "bad-date",
        REPLY_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                   "DTSTAMP:2026-11-21\r\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "misfolded",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@exa\r\nmple.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_PARSE },
    { "leading-fold", " BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_PARSE },
    { "mis-nested",
        REPLY_HEAD REPLY_EVENT_HEAD "END:VCALENDAR\r\n"
                                    "END:VEVENT\r\n",
        MED_ICAL_ERROR_PARSE },
    { "two-calendars",
        REPLY_HEAD "END:VCALENDAR\r\n" REPLY_HEAD "END:VCALENDAR\r\n",
        MED_ICAL_ERROR_PARSE },
    { "control-char",
        REPLY_HEAD REPLY_EVENT_HEAD
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
        "COMMENT:bell\x07\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_PARSE },
    { "crlf-in-uid",
        REPLY_HEAD "BEGIN:VEVENT\r\nUID:a\\nb\r\n"
                   "DTSTAMP:20261121T083000Z\r\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n",
        MED_ICAL_ERROR_INVALID },
    { "nested",
        REPLY_HEAD
        "BEGIN:VEVENT\r\nBEGIN:VALARM\r\nBEGIN:X-A\r\n"
        "BEGIN:X-B\r\nEND:X-B\r\nEND:X-A\r\nEND:VALARM\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        MED_ICAL_ERROR_PARSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedReply) r
        = med_ical_parse_reply (cases[i].text, strlen (cases[i].text), &error);

    if (r != NULL || error == NULL || error->code != (gint) cases[i].code)
      g_test_message ("case %s: %s", cases[i].name,
          error != NULL ? error->message : "(accepted)");
    g_assert_null (r);
    g_assert_error (error, MED_ICAL_ERROR, (gint) cases[i].code);
  }
}

/* Every prefix of a good reply fails cleanly (or, for the few that end
 * exactly between lines and still close everything, parses). */
static void
test_reply_truncated (void)
{
  gsize len = strlen (good_reply);

  for (gsize cut = 0; cut < len - 2; cut++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedReply) r = med_ical_parse_reply (good_reply, cut, &error);

    g_assert_null (r);
    g_assert_nonnull (error);
    g_assert_true (error->domain == MED_ICAL_ERROR);
  }
}

static void
test_reply_limits (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedReply) r = NULL;
  gsize big = MED_ICAL_MAX_BYTES + 1;
  g_autofree char *data = g_malloc (big);
  g_autoptr (GString) deep = g_string_new (REPLY_HEAD);

  memset (data, 'A', big);
  r = med_ical_parse_reply (data, big, &error);
  g_assert_null (r);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_TOO_LARGE);
  g_clear_error (&error);

  for (int i = 0; i < 100000; i++)
    g_string_append (deep, "BEGIN:VEVENT\r\n");
  r = med_ical_parse_reply (deep->str, deep->len, &error);
  g_assert_null (r);
  g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_PARSE);
}

/* ---- busy time -------------------------------------------------------- */

#define CAL_HEAD                                                               \
  "BEGIN:VCALENDAR\r\nPRODID:-//Example//Cal//EN\r\nVERSION:2.0\r\n"
#define CAL_TAIL "END:VCALENDAR\r\n"

static GArray *
busy_ok (const char *ics, const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  GArray *a = med_ical_parse_busy (ics, strlen (ics), local (from), local (to),
      "Asia/Shanghai", &error);

  g_assert_no_error (error);
  g_assert_nonnull (a);
  return a;
}

static void
busy_fails (const char *ics, MedIcalError code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  GArray *a
      = med_ical_parse_busy (ics, strlen (ics), local ("2026-01-01T00:00"),
          local ("2027-01-01T00:00"), "Asia/Shanghai", &error);

  if (a != NULL)
    g_array_unref (a);
  g_assert_null (a);
  g_test_message ("expected failure: %s", error ? error->message : "-");
  g_assert_error (error, MED_ICAL_ERROR, (gint) code);
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
}

static void
assert_interval (GArray *a, guint i, const char *start, const char *end)
{
  const MedInterval *iv;

  g_assert_cmpuint (i, <, a->len);
  iv = &g_array_index (a, MedInterval, i);
  if (iv->start != local (start) || iv->end != local (end)) {
    g_autofree char *s
        = med_time_format_local (iv->start, "Asia/Shanghai", NULL);
    g_autofree char *e = med_time_format_local (iv->end, "Asia/Shanghai", NULL);

    g_test_message ("interval %u is %s–%s, expected %s–%s", i, s, e, start,
        end);
  }
  g_assert_cmpint (iv->start, ==, local (start));
  g_assert_cmpint (iv->end, ==, local (end));
}

/* Weekly on Monday 09:00–10:00 Shanghai time from a New York–zoned
 * calendar: one date excluded, one occurrence moved to Wednesday. */
static void
test_busy_weekly (void)
{
  static const char ics[]
      = CAL_HEAD "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\n"
                 "DTSTART;TZID=Asia/Shanghai:20260105T090000\r\n"
                 "DTEND;TZID=Asia/Shanghai:20260105T100000\r\n"
                 "RRULE:FREQ=WEEKLY;BYDAY=MO\r\n"
                 "EXDATE;TZID=Asia/Shanghai:20260112T090000,20260126T090000\r\n"
                 "END:VEVENT\r\n"
                 "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\n"
                 "RECURRENCE-ID;TZID=Asia/Shanghai:20260119T090000\r\n"
                 "DTSTART;TZID=Asia/Shanghai:20260121T150000\r\n"
                 "DTEND;TZID=Asia/Shanghai:20260121T163000\r\n"
                 "END:VEVENT\r\n" CAL_TAIL;
  g_autoptr (GArray) a = busy_ok (ics, "2026-01-08T00:00", "2026-02-03T00:00");

  /* 12 Jan and 26 Jan excluded, 19 Jan moved to 21 Jan afternoon */
  g_assert_cmpuint (a->len, ==, 2);
  assert_interval (a, 0, "2026-01-21T15:00", "2026-01-21T16:30");
  assert_interval (a, 1, "2026-02-02T09:00", "2026-02-02T10:00");
}

static void
test_busy_thisandfuture (void)
{
  static const char ics[]
      = CAL_HEAD "BEGIN:VEVENT\r\nUID:daily\r\nDTSTAMP:20260101T000000Z\r\n"
                 "DTSTART:20260105T010000Z\r\nDURATION:PT1H\r\n"
                 "RRULE:FREQ=DAILY;COUNT=6\r\nEND:VEVENT\r\n"
                 "BEGIN:VEVENT\r\nUID:daily\r\nDTSTAMP:20260101T000000Z\r\n"
                 "RECURRENCE-ID;RANGE=THISANDFUTURE:20260108T010000Z\r\n"
                 "DTSTART:20260108T060000Z\r\nDTEND:20260108T080000Z\r\n"
                 "END:VEVENT\r\n" CAL_TAIL;
  g_autoptr (GArray) a = busy_ok (ics, "2026-01-01T00:00", "2026-02-01T00:00");

  /* 5, 6, 7 Jan at 09:00 local; 8, 9, 10 Jan moved to 14:00–16:00 */
  g_assert_cmpuint (a->len, ==, 6);
  assert_interval (a, 0, "2026-01-05T09:00", "2026-01-05T10:00");
  assert_interval (a, 2, "2026-01-07T09:00", "2026-01-07T10:00");
  assert_interval (a, 3, "2026-01-08T14:00", "2026-01-08T16:00");
  assert_interval (a, 5, "2026-01-10T14:00", "2026-01-10T16:00");
}

static void
test_busy_all_day_floating (void)
{
  static const char ics[] = CAL_HEAD
      "BEGIN:VEVENT\r\nUID:leave\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;VALUE=DATE:20260302\r\nDTEND;VALUE=DATE:20260304\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:one-day\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;VALUE=DATE:20260310\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:floating\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART:20260312T080000\r\nDTEND:20260312T093000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:free\r\nDTSTAMP:20260101T000000Z\r\n"
      "TRANSP:TRANSPARENT\r\n"
      "DTSTART:20260313T080000\r\nDTEND:20260313T093000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:cancelled\r\nDTSTAMP:20260101T000000Z\r\n"
      "STATUS:CANCELLED\r\n"
      "DTSTART:20260314T080000\r\nDTEND:20260314T093000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:instant\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART:20260315T080000Z\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:weekly-all-day\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;VALUE=DATE:20260316\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n"
      "EXDATE;VALUE=DATE:20260316\r\nEND:VEVENT\r\n" CAL_TAIL;
  g_autoptr (GArray) a = busy_ok (ics, "2026-03-01T00:00", "2026-04-01T00:00");

  g_assert_cmpuint (a->len, ==, 4);
  assert_interval (a, 0, "2026-03-02T00:00", "2026-03-04T00:00");
  assert_interval (a, 1, "2026-03-10T00:00", "2026-03-11T00:00");
  assert_interval (a, 2, "2026-03-12T08:00", "2026-03-12T09:30");
  assert_interval (a, 3, "2026-03-23T00:00", "2026-03-24T00:00");
}

static void
test_busy_zones (void)
{
  /* an IANA name without VTIMEZONE; a custom (Outlook-style) zone */
  static const char ics[] = CAL_HEAD
      "BEGIN:VTIMEZONE\r\nTZID:China Standard Time\r\n"
      "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
      "TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nEND:STANDARD\r\n"
      "END:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:ny\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=America/New_York:20260701T200000\r\n"
      "DTEND;TZID=America/New_York:20260701T210000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:outlook\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=China Standard Time:20260703T100000\r\n"
      "DTEND;TZID=China Standard Time:20260703T110000\r\nEND:VEVENT\r\n" CAL_TAIL;
  g_autoptr (GArray) a = busy_ok (ics, "2026-07-01T00:00", "2026-08-01T00:00");

  g_assert_cmpuint (a->len, ==, 2);
  /* 20:00 EDT = 08:00 next day in Shanghai */
  assert_interval (a, 0, "2026-07-02T08:00", "2026-07-02T09:00");
  assert_interval (a, 1, "2026-07-03T10:00", "2026-07-03T11:00");
}

static void
test_busy_unknown_zone (void)
{
  busy_fails (CAL_HEAD
      "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=Mars/Olympus:20260701T200000\r\nDURATION:PT1H\r\n"
      "END:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, "Mars/Olympus");
  busy_fails (CAL_HEAD
      "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=W. Europe Standard Time:20260701T200000\r\n"
      "DURATION:PT1H\r\nEND:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, "W. Europe Standard Time");
  /* a zone that is not a zone */
  busy_fails (CAL_HEAD "BEGIN:VTIMEZONE\r\nTZID:Fake\r\nEND:VTIMEZONE\r\n"
                       "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
                       "DTSTART;TZID=Fake:20260701T200000\r\nDURATION:PT1H\r\n"
                       "END:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, "Fake");
  busy_fails (CAL_HEAD
      "BEGIN:VTIMEZONE\r\nTZID:Fast\r\n"
      "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
      "RRULE:FREQ=SECONDLY\r\n"
      "TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0900\r\nEND:STANDARD\r\n"
      "END:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=Fast:20260701T200000\r\nDURATION:PT1H\r\n"
      "END:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, "yearly");
}

/* A VTIMEZONE called Asia/Shanghai that claims UTC+0: the IANA definition
 * wins (documented in med-ical-busy.c). */
static void
test_busy_lying_zone (void)
{
  static const char ics[] = CAL_HEAD
      "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"
      "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
      "TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\n"
      "END:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=Asia/Shanghai:20260701T090000\r\n"
      "DTEND;TZID=Asia/Shanghai:20260701T100000\r\nEND:VEVENT\r\n" CAL_TAIL;
  g_autoptr (GArray) a = busy_ok (ics, "2026-07-01T00:00", "2026-08-01T00:00");

  g_assert_cmpuint (a->len, ==, 1);
  assert_interval (a, 0, "2026-07-01T09:00", "2026-07-01T10:00");
}

static void
test_busy_limits (void)
{
  GTimer *timer = g_timer_new ();
  g_autoptr (GString) many = g_string_new (CAL_HEAD);

  /* a huge COUNT: only the range is expanded */
  {
    g_autoptr (GArray) a = busy_ok (CAL_HEAD
        "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20260105T010000Z\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=DAILY;COUNT=1000000000\r\nEND:VEVENT\r\n" CAL_TAIL,
        "2026-03-01T00:00", "2026-03-08T00:00");

    g_assert_cmpuint (a->len, ==, 7);
  }
  /* unbounded, started long ago */
  {
    g_autoptr (GArray) a = busy_ok (CAL_HEAD
        "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART;TZID=Asia/Shanghai:19500102T090000\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n" CAL_TAIL,
        "2026-03-01T00:00", "2026-04-01T00:00");

    g_assert_cmpuint (a->len, ==, 5); /* Mondays of March 2026 */
    assert_interval (a, 0, "2026-03-02T09:00", "2026-03-02T10:00");
  }
  /* too many occurrences in the range */
  busy_fails (CAL_HEAD
      "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART:20260105T010000Z\r\nDURATION:PT1M\r\n"
      "RRULE:FREQ=MINUTELY;INTERVAL=2\r\nEND:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_TOO_LARGE, NULL);
  /* a rule that never matches: refused or answered fast, never walked to
   * the year 2582 */
  g_timer_start (timer);
  {
    g_autoptr (GError) error = NULL;
    static const char never[] = CAL_HEAD
        "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20260105T010000Z\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:y\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:19000105T010000Z\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=3\r\nEND:VEVENT\r\n" CAL_TAIL;
    GArray *a = med_ical_parse_busy (never, strlen (never),
        local ("2026-01-01T00:00"), local ("2027-01-01T00:00"), "Asia/Shanghai",
        &error);

    g_assert_no_error (error);
    g_assert_cmpuint (a->len, ==, 1); /* DTSTART always counts */
    g_array_unref (a);
  }
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 5.0);
  /* dense rules over a long range */
  busy_fails (CAL_HEAD
      "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART:19000105T010000Z\r\nDURATION:PT1S\r\n"
      "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5\r\nEND:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_TOO_LARGE, NULL);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 5.0);

  /* many daily events are fine until the step budget runs out */
  for (int i = 0; i < 2000; i++)
    g_string_append_printf (many,
        "BEGIN:VEVENT\r\nUID:e%d\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20200105T010000Z\r\nDURATION:PT1M\r\n"
        "RRULE:FREQ=DAILY\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
        i);
  g_string_append (many, CAL_TAIL);
  busy_fails (many->str, MED_ICAL_ERROR_TOO_LARGE, NULL);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 10.0);
  g_timer_destroy (timer);
}

static void
test_busy_hostile (void)
{
  static const char good[]
      = CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
                 "DTSTART;TZID=Asia/Shanghai:20260105T090000\r\n"
                 "DTEND;TZID=Asia/Shanghai:20260105T100000\r\n"
                 "RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE:20260112T010000Z\r\n"
                 "END:VEVENT\r\n" CAL_TAIL;
  gsize len = strlen (good);
  g_autoptr (GString) deep = g_string_new (CAL_HEAD);

  /* cut short anywhere */
  for (gsize cut = 0; cut < len - 2; cut++) {
    g_autoptr (GError) error = NULL;
    GArray *a = med_ical_parse_busy (good, cut, local ("2026-01-01T00:00"),
        local ("2027-01-01T00:00"), "Asia/Shanghai", &error);

    if (a != NULL)
      g_array_unref (a);
    g_assert_null (a);
    g_assert_nonnull (error);
  }
  for (int i = 0; i < 50000; i++)
    g_string_append (deep, "BEGIN:X\r\n");
  busy_fails (deep->str, MED_ICAL_ERROR_PARSE, "nested");
  busy_fails ("", MED_ICAL_ERROR_PARSE, NULL);
  busy_fails ("\x80\x80", MED_ICAL_ERROR_ENCODING, NULL);
  busy_fails (CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261399T250000\r\n"
                       "END:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, "DTSTART");
  busy_fails (CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\nRRULE:FREQ=FOO\r\n"
                       "DTSTART:20260101T000000Z\r\nEND:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_PARSE, NULL);
  busy_fails (CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, "DTSTART");
  busy_fails (CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                       "DTSTART:20260105T010000Z\r\nDTEND:20260104T010000Z\r\n"
                       "END:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, "DTEND");
  busy_fails (CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                       "DTSTART:00010105T010000Z\r\nDTEND:20260104T010000Z\r\n"
                       "END:VEVENT\r\n" CAL_TAIL,
      MED_ICAL_ERROR_INVALID, NULL);
  {
    g_autoptr (GError) error = NULL;
    GArray *a = med_ical_parse_busy (good, len, 10, 5, "Asia/Shanghai", &error);

    g_assert_null (a);
    g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
    g_clear_error (&error);
    a = med_ical_parse_busy (good, len, 5, 10, "Nowhere/Land", &error);
    g_assert_null (a);
    g_assert_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID);
  }
}

static void
test_busy_rdate_freebusy (void)
{
  static const char ics[]
      = CAL_HEAD "BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20260101T000000Z\r\n"
                 "DTSTART:20260401T010000Z\r\nDTEND:20260401T020000Z\r\n"
                 "RDATE:20260402T010000Z,20260403T010000Z\r\n"
                 "RDATE;VALUE=PERIOD:20260410T010000Z/PT3H\r\n"
                 "EXDATE:20260403T010000Z\r\nEND:VEVENT\r\n"
                 "BEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTAMP:20260101T000000Z\r\n"
                 "FREEBUSY;FBTYPE=BUSY:20260420T010000Z/20260420T020000Z\r\n"
                 "FREEBUSY;FBTYPE=FREE:20260421T010000Z/20260421T020000Z\r\n"
                 "END:VFREEBUSY\r\n" CAL_TAIL;
  g_autoptr (GArray) a = busy_ok (ics, "2026-04-01T00:00", "2026-05-01T00:00");

  g_assert_cmpuint (a->len, ==, 4);
  assert_interval (a, 0, "2026-04-01T09:00", "2026-04-01T10:00");
  assert_interval (a, 1, "2026-04-02T09:00", "2026-04-02T10:00");
  assert_interval (a, 2, "2026-04-10T09:00", "2026-04-10T12:00");
  assert_interval (a, 3, "2026-04-20T09:00", "2026-04-20T10:00");
}

/* Our own free/busy reads back as the busy time it publishes. */
static void
test_busy_roundtrip (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "golden",
      "freebusy.ics", NULL);
  g_autofree char *data = NULL;
  g_autoptr (GArray) a = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  a = busy_ok (data, "2026-12-01T00:00", "2026-12-31T00:00");
  g_assert_cmpuint (a->len, ==, 3);
  assert_interval (a, 1, "2026-12-07T09:30", "2026-12-07T12:00");
}

/* ---- lint ------------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *text;
  MedIcalKind kind;
  const char *expect; /* a substring of the one problem reported */
} LintCase;

#define LINT_EVENT                                                             \
  "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"                      \
  "DTSTART:20260101T000000Z\r\nATTENDEE:mailto:a@example.com\r\n"              \
  "END:VEVENT\r\n"

static void
test_lint_rules (void)
{
  static const LintCase cases[] = {
    { "clean-feed", CAL_HEAD LINT_EVENT CAL_TAIL, MED_ICAL_KIND_FEED, NULL },
    { "bare-lf", "BEGIN:VCALENDAR\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        MED_ICAL_KIND_FEED, "line 1: line ends with a bare LF" },
    { "no-final-crlf", "BEGIN:VCALENDAR\r\nEND:VCALENDAR", MED_ICAL_KIND_FEED,
        "line 2: the last line does not end with CRLF" },
    { "bare-cr", "BEGIN:VCALENDAR\r\nSUMMARY:a\rb\r\nEND:VCALENDAR\r\n",
        MED_ICAL_KIND_FEED, "line 2: a bare CR" },
    { "long-line",
        CAL_HEAD
        "SUMMARY:"
        "0123456789012345678901234567890123456789012345678901234567890123456789"
        "\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 4: 78 octets long" },
    { "split-utf8", CAL_HEAD "SUMMARY:调\xe8\r\n \xb0\x83\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 4: folded inside a UTF-8 character" },
    { "bad-utf8", CAL_HEAD "SUMMARY:\xff\r\n" CAL_TAIL, MED_ICAL_KIND_FEED,
        "line 4: not valid UTF-8" },
    { "no-vtimezone",
        CAL_HEAD
        "BEGIN:VEVENT\r\nUID:x\r\n"
        "DTSTAMP:20260101T000000Z\r\n"
        "DTSTART;TZID=Asia/Shanghai:20260101T090000\r\nEND:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 7: TZID=Asia/Shanghai has no VTIMEZONE" },
    { "prefixed-tzid",
        CAL_HEAD
        "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"
        "END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=\"/freeassociation.sour"
        "\r\n ceforge.net/Asia/Shanghai\":20260101T090000\r\nEND:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 10: TZID=/freeassociation" },
    { "local-dtstamp",
        CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                 "DTSTAMP:20260101T000000\r\nEND:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 6: DTSTAMP must be a UTC date-time" },
    { "request-no-attendee",
        CAL_HEAD "METHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
                 "UID:x\r\nDTSTAMP:20260101T000000Z\r\nEND:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_INVITE,
        "line 5: METHOD:REQUEST but this VEVENT has no ATTENDEE" },
    { "method-in-feed", CAL_HEAD "METHOD:PUBLISH\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 4: METHOD:PUBLISH in a feed" },
    { "invite-without-method", CAL_HEAD LINT_EVENT CAL_TAIL,
        MED_ICAL_KIND_INVITE, "line 1: an invite needs a METHOD" },
    { "quoted-feature",
        CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\n"
                 "DTSTAMP:20260101T000000Z\r\n"
                 "CONFERENCE;VALUE=URI;FEATURE=\"VIDEO\":https://x.example\r\n"
                 "END:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 7: CONFERENCE has FEATURE quoted" },
    { "multi-feature",
        CAL_HEAD
        "BEGIN:VEVENT\r\nUID:x\r\n"
        "DTSTAMP:20260101T000000Z\r\n"
        "CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO:https://x.example\r\n"
        "END:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 7: CONFERENCE has FEATURE quoted" },
    { "repeated-feature",
        CAL_HEAD
        "BEGIN:VEVENT\r\nUID:x\r\n"
        "DTSTAMP:20260101T000000Z\r\n"
        "CONFERENCE;VALUE=URI;FEATURE=AUDIO;FEATURE=VIDEO:https://x.example\r\n"
        "END:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, "line 7: CONFERENCE has FEATURE quoted" },
    { "quoted-colon",
        CAL_HEAD
        "BEGIN:VEVENT\r\nUID:x\r\n"
        "DTSTAMP:20260101T000000Z\r\n"
        "CONFERENCE;LABEL=\"a:b;FEATURE=\\\"X\\\"\";FEATURE=VIDEO:https://x.example\r\n"
        "END:VEVENT\r\n" CAL_TAIL,
        MED_ICAL_KIND_FEED, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GPtrArray) problems
        = med_ical_lint (cases[i].text, strlen (cases[i].text), cases[i].kind);

    for (guint k = 0; k < problems->len; k++)
      g_test_message ("%s: %s", cases[i].name,
          (char *) g_ptr_array_index (problems, k));
    if (cases[i].expect == NULL) {
      g_assert_cmpuint (problems->len, ==, 0);
      continue;
    }
    g_assert_cmpuint (problems->len, ==, 1);
    g_assert_true (
        g_str_has_prefix (g_ptr_array_index (problems, 0), cases[i].expect));
  }
}

static void
test_lint_garbage (void)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_autoptr (GPtrArray) p = NULL, q = NULL;

  for (int i = 0; i < 10000; i++)
    g_string_append (s, "x\n");
  p = med_ical_lint (s->str, s->len, MED_ICAL_KIND_AUTO);
  g_assert_cmpuint (p->len, ==, 201);
  g_assert_nonnull (strstr (g_ptr_array_index (p, 200), "more problems"));
  q = med_ical_lint ("", 0, MED_ICAL_KIND_FEED);
  g_assert_cmpuint (q->len, ==, 0);
}

/* The shipped holiday calendars, written by scripts/gen-calendars.py, are
 * medsched output too. */
static void
test_lint_shipped (void)
{
  const char *dir = g_getenv ("MEDSCHED_CALENDARS");
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (dir == NULL) {
    g_test_skip ("MEDSCHED_CALENDARS not set");
    return;
  }
  d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_autofree char *data = NULL;
    gsize len;

    if (!g_str_has_suffix (name, ".ics"))
      continue;
    g_assert_true (g_file_get_contents (path, &data, &len, NULL));
    assert_lint_clean (data, MED_ICAL_KIND_FEED);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  med_ical_init ("Asia/Shanghai");

  g_test_add_func ("/ical/invite/create", test_invite_create);
  g_test_add_func ("/ical/invite/reschedule", test_invite_reschedule);
  g_test_add_func ("/ical/invite/text-only-edit", test_invite_note);
  g_test_add_func ("/ical/invite/cancel", test_invite_cancel);
  g_test_add_func ("/ical/invite/per-recipient", test_invite_recipients);
  g_test_add_func ("/ical/invite/urn-uuid", test_invite_urn_uuid);
  g_test_add_func ("/ical/invite/errors", test_invite_errors);
  g_test_add_func ("/ical/invite/injection", test_invite_injection);
  g_test_add_func ("/ical/invite/fold-boundaries", test_invite_fold_boundaries);
  g_test_add_func ("/ical/invite/partstat-text", test_partstat_text);
  g_test_add_func ("/ical/zone/truncated", test_zone_truncated);
  g_test_add_func ("/ical/zone/threads", test_zone_threads);
  g_test_add_func ("/ical/feed/public", test_feed_public);
  g_test_add_func ("/ical/feed/staff", test_feed_staff);
  g_test_add_func ("/ical/feed/party", test_feed_party);
  g_test_add_func ("/ical/feed/languages", test_feed_languages);
  g_test_add_func ("/ical/feed/deterministic", test_feed_deterministic);
  g_test_add_func ("/ical/feed/years", test_feed_years);
  g_test_add_func ("/ical/feed/freebusy", test_freebusy);
  g_test_add_func ("/ical/imip/structure", test_imip_structure);
  g_test_add_func ("/ical/imip/cancel-and-errors", test_imip_cancel_and_errors);
  g_test_add_func ("/ical/reply/good", test_reply_good);
  g_test_add_func ("/ical/reply/hostile", test_reply_hostile);
  g_test_add_func ("/ical/reply/truncated", test_reply_truncated);
  g_test_add_func ("/ical/reply/limits", test_reply_limits);
  g_test_add_func ("/ical/busy/weekly-exdate-override", test_busy_weekly);
  g_test_add_func ("/ical/busy/thisandfuture", test_busy_thisandfuture);
  g_test_add_func ("/ical/busy/all-day-floating", test_busy_all_day_floating);
  g_test_add_func ("/ical/busy/zones", test_busy_zones);
  g_test_add_func ("/ical/busy/unknown-zone", test_busy_unknown_zone);
  g_test_add_func ("/ical/busy/lying-zone", test_busy_lying_zone);
  g_test_add_func ("/ical/busy/limits", test_busy_limits);
  g_test_add_func ("/ical/busy/hostile", test_busy_hostile);
  g_test_add_func ("/ical/busy/rdate-freebusy", test_busy_rdate_freebusy);
  g_test_add_func ("/ical/busy/freebusy-roundtrip", test_busy_roundtrip);
  g_test_add_func ("/ical/lint/rules", test_lint_rules);
  g_test_add_func ("/ical/lint/garbage", test_lint_garbage);
  g_test_add_func ("/ical/lint/shipped-calendars", test_lint_shipped);

  return g_test_run ();
}
