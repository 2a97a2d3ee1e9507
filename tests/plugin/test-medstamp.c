/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-medstamp.c — medstamp through GstHarness: the stamp is burned into
 * the pixels where it is placed and nowhere else, carries the case id, room
 * and the time of the frame's reference timestamp (Unix or NTP) in the
 * configured zone, falls back to the pipeline clock, and survives hostile
 * labels and zones. */
#define G_LOG_DOMAIN "medsched-test"

#include <stdlib.h>
#include <string.h>

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#define WIDTH           640
#define HEIGHT          360
#define CAPS            "video/x-raw, format=I420, width=640, height=360, framerate=25/1"
#define LUMA            60
#define CASE_ID         "(2026)藏0102调7号"
#define ROOM            "远程调解室"
#define NTP_UNIX_OFFSET (G_GUINT64_CONSTANT (2208988800) * GST_SECOND)

/* 2026-12-07 09:30:05.250 in Asia/Shanghai. */
static GstClockTime
hearing_time_unix_ns (void)
{
  g_autoptr (GDateTime) t = g_date_time_new_utc (2026, 12, 7, 1, 30, 5);

  return g_date_time_to_unix (t) * GST_SECOND + 250 * GST_MSECOND;
}

static GstBuffer *
make_frame (GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, WIDTH * HEIGHT * 3 / 2, NULL);

  gst_buffer_memset (buf, 0, LUMA, WIDTH * HEIGHT);
  gst_buffer_memset (buf, WIDTH * HEIGHT, 128, WIDTH * HEIGHT / 2);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  return buf;
}

static void
add_reference (GstBuffer *buf, const gchar *reference, GstClockTime ts)
{
  g_autoptr (GstCaps) caps = gst_caps_new_empty_simple (reference);

  gst_buffer_add_reference_timestamp_meta (buf, caps, ts, GST_CLOCK_TIME_NONE);
}

static GstHarness *
new_harness (GstElement **stamp_out)
{
  GstElement *stamp = gst_element_factory_make ("medstamp", NULL);
  GstHarness *h;

  g_assert_nonnull (stamp);
  h = gst_harness_new_with_element (stamp, "sink", "src");
  gst_harness_set_src_caps_str (h, CAPS);
  *stamp_out = stamp;
  return h;
}

static gchar *
get_text (GstElement *stamp)
{
  gchar *text = NULL;

  g_object_get (stamp, "last-text", &text, NULL);
  return text;
}

/* Counts luma bytes of @out that differ from the flat input in the given
 * rectangle. */
static guint
count_changed (GstBuffer *out, guint x0, guint y0, guint x1, guint y1)
{
  GstMapInfo map;
  guint changed = 0;

  g_assert_true (gst_buffer_map (out, &map, GST_MAP_READ));
  g_assert_cmpuint (map.size, >=, WIDTH * HEIGHT * 3 / 2);
  for (guint y = y0; y < y1; y++)
    for (guint x = x0; x < x1; x++)
      if (map.data[y * WIDTH + x] != LUMA)
        changed++;
  gst_buffer_unmap (out, &map);
  return changed;
}

/* Unix seconds of the "YYYY-MM-DD HH:MM:SS" in a stamp, read in @zone. */
static gint64
stamp_seconds (const gchar *text, const gchar *zone)
{
  g_autoptr (GRegex) re
      = g_regex_new ("(\\d{4})-(\\d\\d)-(\\d\\d) (\\d\\d):(\\d\\d):(\\d\\d)", 0,
          0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (zone);
  g_autoptr (GDateTime) dt = NULL;
  gint v[6];

  g_assert_true (g_regex_match (re, text, 0, &match));
  for (guint i = 0; i < 6; i++) {
    g_autofree gchar *s = g_match_info_fetch (match, i + 1);
    v[i] = atoi (s);
  }
  dt = g_date_time_new (tz, v[0], v[1], v[2], v[3], v[4], v[5]);
  return g_date_time_to_unix (dt);
}

static void
test_burns_reference_time (void)
{
  GstElement *stamp;
  GstHarness *h = new_harness (&stamp);
  GstBuffer *in = make_frame (0), *out;
  g_autofree gchar *text = NULL;
  gint source = -1;

  g_object_set (stamp, "case-id", CASE_ID, "room", ROOM, NULL);
  /* even when downstream offers to take the overlay as a meta, the text is
   * blended into the pixels */
  gst_harness_add_propose_allocation_meta (h,
      GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  add_reference (in, "timestamp/x-unix", hearing_time_unix_ns ());
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  g_assert_nonnull (out);

  text = get_text (stamp);
  g_assert_cmpstr (text, ==,
      CASE_ID " · " ROOM " · 2026-12-07 09:30:05 CST (Asia/Shanghai)");
  g_object_get (stamp, "time-source", &source, NULL);
  g_assert_cmpint (source, ==, 1 /* reference */);

  /* top-left: the stamp; bottom third: untouched */
  g_assert_cmpuint (count_changed (out, 0, 0, WIDTH, 120), >, 2000);
  g_assert_cmpuint (count_changed (out, 0, 240, WIDTH, HEIGHT), ==, 0);
  g_assert_null (gst_buffer_get_video_overlay_composition_meta (out));

  gst_buffer_unref (out);
  gst_harness_teardown (h);
  gst_object_unref (stamp);
}

static void
test_ntp_reference_and_zone (void)
{
  GstElement *stamp;
  GstHarness *h = new_harness (&stamp);
  GstBuffer *in = make_frame (0);
  g_autofree gchar *text = NULL;

  g_object_set (stamp, "case-id", CASE_ID, "zone", "America/New_York", NULL);
  add_reference (in, "timestamp/x-ntp",
      hearing_time_unix_ns () + NTP_UNIX_OFFSET);
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  text = get_text (stamp);
  g_assert_cmpstr (text, ==,
      CASE_ID " · 2026-12-06 20:30:05 EST (America/New_York)");

  /* a zone change shows on the next frame */
  g_clear_pointer (&text, g_free);
  g_object_set (stamp, "zone", "UTC", NULL);
  in = make_frame (40 * GST_MSECOND);
  add_reference (in, "timestamp/x-ntp",
      hearing_time_unix_ns () + NTP_UNIX_OFFSET);
  gst_harness_push (h, in);
  gst_buffer_unref (gst_harness_pull (h));
  text = get_text (stamp);
  g_assert_cmpstr (text, ==, CASE_ID " · 2026-12-07 01:30:05 UTC (UTC)");

  gst_harness_teardown (h);
  gst_object_unref (stamp);
}

/* No reference meta: wall time now at the first frame, then the frames'
 * running time. */
static void
test_clock_fallback (void)
{
  GstElement *stamp;
  GstHarness *h = new_harness (&stamp);
  g_autofree gchar *first = NULL, *second = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 t1, t2;
  gint source = -1;

  gst_harness_push (h, make_frame (0));
  gst_buffer_unref (gst_harness_pull (h));
  first = get_text (stamp);
  g_object_get (stamp, "time-source", &source, NULL);
  g_assert_true (source == 2 /* clock */ || source == 3 /* running-time */);
  t1 = stamp_seconds (first, "Asia/Shanghai");
  g_assert_cmpint (ABS (t1 - now), <=, 5);
  g_assert_true (g_str_has_suffix (first, "CST (Asia/Shanghai)"));

  gst_harness_push (h, make_frame (3 * GST_SECOND));
  gst_buffer_unref (gst_harness_pull (h));
  second = get_text (stamp);
  t2 = stamp_seconds (second, "Asia/Shanghai");
  g_assert_cmpint (t2 - t1, ==, 3);

  gst_harness_teardown (h);
  gst_object_unref (stamp);
}

static void
test_position (void)
{
  GstElement *stamp;
  GstHarness *h = new_harness (&stamp);
  GstBuffer *in = make_frame (0), *out;

  gst_util_set_object_arg (G_OBJECT (stamp), "position", "bottom-right");
  g_object_set (stamp, "case-id", "A1", NULL);
  add_reference (in, "timestamp/x-unix", hearing_time_unix_ns ());
  gst_harness_push (h, in);
  out = gst_harness_pull (h);
  g_assert_cmpuint (count_changed (out, WIDTH / 2, HEIGHT - 100, WIDTH, HEIGHT),
      >, 1000);
  g_assert_cmpuint (count_changed (out, 0, 0, WIDTH, HEIGHT / 2), ==, 0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  gst_object_unref (stamp);
}

static void
test_hostile_labels (void)
{
  GstElement *stamp;
  GstHarness *h = new_harness (&stamp);
  g_autoptr (GstElement) overlay = NULL;
  g_autofree gchar *text = NULL, *markup = NULL, *room = NULL;
  g_autofree gchar *huge = g_strnfill (10000, 'A');
  GstBuffer *in = make_frame (0);

  g_object_set (stamp, "case-id", "<b>A&B</b>\nx\xff", "room", huge, NULL);
  add_reference (in, "timestamp/x-unix", hearing_time_unix_ns ());
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));

  text = get_text (stamp);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_true (g_str_has_prefix (text, "<b>A&B</b> x\xef\xbf\xbd · "));
  g_assert_null (strchr (text, '\n'));
  g_object_get (stamp, "room", &room, NULL);
  g_assert_cmpint (g_utf8_strlen (room, -1), ==, 128);

  /* what textoverlay gets is escaped markup: no bold, no broken entity */
  overlay = gst_bin_get_by_name (GST_BIN (stamp), "overlay");
  g_assert_nonnull (overlay);
  g_object_get (overlay, "text", &markup, NULL);
  g_assert_true (g_str_has_prefix (markup, "&lt;b&gt;A&amp;B&lt;/b&gt;"));

  gst_harness_teardown (h);
  gst_object_unref (stamp);
}

static void
test_bad_zone (void)
{
  GstElement *stamp = gst_element_factory_make ("medstamp", NULL);
  g_autofree gchar *zone = NULL;

  g_object_set (stamp, "zone", "Mars/Olympus_Mons", NULL);
  g_object_set (stamp, "zone", "", NULL);
  g_object_set (stamp, "zone", NULL, NULL);
  g_object_set (stamp, "zone", "../../../etc/passwd", NULL);
  g_object_set (stamp, "zone", "/etc/passwd", NULL);
  g_object_set (stamp, "zone", "leapseconds", NULL); /* not TZif */
  g_object_set (stamp, "zone", "zone1970.tab", NULL);
  g_object_get (stamp, "zone", &zone, NULL);
  g_assert_cmpstr (zone, ==, "Asia/Shanghai");
  g_clear_pointer (&zone, g_free);
  g_object_set (stamp, "zone", "Asia/Urumqi", NULL);
  g_object_get (stamp, "zone", &zone, NULL);
  g_assert_cmpstr (zone, ==, "Asia/Urumqi");
  g_clear_pointer (&zone, g_free);
  g_object_set (stamp, "zone", "+08:00", NULL);
  g_object_get (stamp, "zone", &zone, NULL);
  g_assert_cmpstr (zone, ==, "+08:00");
  gst_object_unref (stamp);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plugin/medstamp/burns-reference-time",
      test_burns_reference_time);
  g_test_add_func ("/plugin/medstamp/ntp-reference-and-zone",
      test_ntp_reference_and_zone);
  g_test_add_func ("/plugin/medstamp/clock-fallback", test_clock_fallback);
  g_test_add_func ("/plugin/medstamp/position", test_position);
  g_test_add_func ("/plugin/medstamp/hostile-labels", test_hostile_labels);
  g_test_add_func ("/plugin/medstamp/bad-zone", test_bad_zone);

  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
