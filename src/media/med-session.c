/* med-session.c — one remote session's GStreamer pipeline, built element by
 * element in C (never gst_parse_launch on anything a user typed).
 *
 *   input i ─► [encode for test://, v4l2] ─► parse ─► gate ─► queue ─► rec.video_i
 *          └─► (audio for test://av) opusenc ─► gate ─► queue ─► rec.audio_i
 *   with --composite, raw (or decoded) video of every input also goes to
 *   compositor (grid) ─► medstamp ─► x264enc ─► h264parse ─► gate ─► tee
 *        ├─► queue ─► composite recorder (dir/composite)
 *        └─► queue ─► hlssink2 (dir/hls/live.m3u8)
 *   and test://av audio to audiomixer ─► opusenc ─► gate ─► composite recorder.
 *
 * Every input's encoded stream reaches its recorder untouched (test and
 * v4l2 inputs are encoded once, as a camera would). A "gate" is a pad probe
 * that drops buffers while the session is paused (a private caucus: nothing
 * reaches a recorder or the live stream) and, after resume, drops video
 * until the next keyframe (asked for upstream) so the recording stays
 * decodable. Events pass, so stop while paused still ends the recording.
 *
 * The bus watch runs on the caller's main context. medrecorder holds EOS
 * until it has remuxed and sealed, so EOS on the bus means sealed: the row
 * becomes sealed with the manifest's head hash and duration. A bus ERROR
 * marks this session's recording failed with the explanation and stops only
 * this pipeline. An input element (rtspsrc, srtsrc) that errors after the
 * session started is a gap: logged, and the input is restarted with
 * back-off (1, 2, 4 … 30 s) while the other inputs go on. */
#define G_LOG_DOMAIN "medsched-media"

#include <medsched/med-media.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "gstmedmanifest.h"
#include "med-media-private.h"

/* clang-format off */
G_DEFINE_QUARK (med-media-error-quark, med_media_error)
/* clang-format on */

typedef struct _Gate Gate;

struct _MedSession
{
  MedStore *store; /* not owned */
  char *actor;
  char *dir;
  char *playlist;
  gint64 recording_id;
  gint64 booking_id;
  GstElement *pipeline;
  GstElement *recorder;
  GstElement *composite_recorder; /* or NULL */
  guint bus_watch;
  GPtrArray *gates; /* Gate*, owned */
  GPtrArray *inputs; /* MedInput*, owned */
  guint n_segments;
  gint paused; /* atomic: gates drop */
  GMutex lock; /* Gate.first_rt */
  gboolean started, stopping, finished;
  MedSessionFinishedFunc finished_func;
  gpointer finished_data;
};

struct _Gate
{
  MedSession *session;
  gboolean is_video;
  gint want_keyframe; /* atomic */
  GstPad *pad; /* the probed pad (ref) */
  /* Audio and video of one input start together: an audio gate drops what
   * ends before its input's first video (running time, under lock). */
  Gate *video; /* for an audio gate: its input's video gate, or NULL */
  GstClockTime first_rt; /* for a video gate: first buffer passed */
  /* Remote inputs restart with fresh timestamps: shift them so running
   * time goes on (the gate's streaming thread only). */
  MedInput *remote; /* the input, for a remote input's video gate */
  GstClockTimeDiff shift;
  GstClockTime last_rt;
};

/* ---- small helpers ------------------------------------------------------ */

static GstElement *
make (const char *factory, const char *name, GError **error)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e == NULL)
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_MISSING,
        "GStreamer element %s is not installed", factory);
  return e;
}

/* Adds and links a chain of freshly made elements; returns the last. */
static gboolean
add_chain (GstBin *bin, GstElement **chain, guint n, GError **error)
{
  for (guint i = 0; i < n; i++) {
    gst_bin_add (bin, chain[i]);
    if (i > 0 && !gst_element_link (chain[i - 1], chain[i])) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link %s to %s", GST_ELEMENT_NAME (chain[i - 1]),
          GST_ELEMENT_NAME (chain[i]));
      return FALSE;
    }
  }
  return TRUE;
}

static GstClockTime
buffer_running_time (GstPad *pad, GstBuffer *buf, gboolean end)
{
  g_autoptr (GstEvent) ev
      = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *seg;
  GstClockTime ts = GST_BUFFER_DTS_IS_VALID (buf) ? GST_BUFFER_DTS (buf)
                                                  : GST_BUFFER_PTS (buf);

  if (ev == NULL || !GST_CLOCK_TIME_IS_VALID (ts))
    return GST_CLOCK_TIME_NONE;
  gst_event_parse_segment (ev, &seg);
  if (seg->format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  if (end && GST_BUFFER_DURATION_IS_VALID (buf))
    ts += GST_BUFFER_DURATION (buf);
  return gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts);
}

static GstPadProbeReturn
gate_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Gate *g = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  MedSession *s = g->session;

  if (g_atomic_int_get (&s->paused))
    return GST_PAD_PROBE_DROP;
  if (g->remote) {
    /* Muxers die on a DTS that goes back or is missing: keep a remote
     * input's timeline monotonic across its restarts. */
    GstClockTime rt = buffer_running_time (pad, buf, FALSE);
    GstClockTimeDiff out;

    if (!GST_CLOCK_TIME_IS_VALID (rt))
      return GST_PAD_PROBE_DROP;
    if (g_atomic_int_compare_and_exchange (&g->remote->resync, 1, 0)
        || (GST_CLOCK_TIME_IS_VALID (g->last_rt)
            && (GstClockTimeDiff) rt + g->shift
                <= (GstClockTimeDiff) g->last_rt)) {
      /* The input came back: continue from now, at a keyframe. */
      GstClockTime now = gst_element_get_current_running_time (s->pipeline);

      if (GST_CLOCK_TIME_IS_VALID (g->last_rt)) {
        g->shift = GST_CLOCK_TIME_IS_VALID (now) && now > g->last_rt
            ? (GstClockTimeDiff) now - (GstClockTimeDiff) rt
            : (GstClockTimeDiff) g->last_rt + GST_MSECOND
                - (GstClockTimeDiff) rt;
      }
      g_atomic_int_set (&g->want_keyframe, 1);
    }
    out = (GstClockTimeDiff) rt + g->shift;
    if (out < 0
        || (GST_CLOCK_TIME_IS_VALID (g->last_rt)
            && out <= (GstClockTimeDiff) g->last_rt))
      return GST_PAD_PROBE_DROP;
    if (g->shift != 0) {
      buf = gst_buffer_make_writable (buf);
      if (GST_BUFFER_PTS_IS_VALID (buf))
        GST_BUFFER_PTS (buf)
            = MAX (0, (GstClockTimeDiff) GST_BUFFER_PTS (buf) + g->shift);
      if (GST_BUFFER_DTS_IS_VALID (buf))
        GST_BUFFER_DTS (buf)
            = MAX (0, (GstClockTimeDiff) GST_BUFFER_DTS (buf) + g->shift);
      GST_PAD_PROBE_INFO_DATA (info) = buf;
    }
    g->last_rt = out;
  }
  if (g->video != NULL) {
    GstClockTime vstart, end = buffer_running_time (pad, buf, TRUE);

    g_mutex_lock (&s->lock);
    vstart = g->video->first_rt;
    g_mutex_unlock (&s->lock);
    if (!GST_CLOCK_TIME_IS_VALID (vstart)
        || (GST_CLOCK_TIME_IS_VALID (end) && end <= vstart))
      return GST_PAD_PROBE_DROP;
    g->video = NULL; /* started: this thread only from now on */
  }
  if (g->is_video && g_atomic_int_get (&g->want_keyframe)) {
    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
      return GST_PAD_PROBE_DROP;
    g_atomic_int_set (&g->want_keyframe, 0);
  }
  if (g->is_video && !GST_CLOCK_TIME_IS_VALID (g->first_rt)) {
    GstClockTime rt = buffer_running_time (pad, buf, FALSE);

    g_mutex_lock (&s->lock);
    g->first_rt = GST_CLOCK_TIME_IS_VALID (rt) ? rt : 0;
    g_mutex_unlock (&s->lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
gate_free (Gate *g)
{
  gst_clear_object (&g->pad);
  g_free (g);
}

/* Gates the src pad of element e. */
static Gate *
add_gate (MedSession *s, GstElement *e, gboolean is_video)
{
  Gate *g = g_new0 (Gate, 1);

  g->session = s;
  g->first_rt = GST_CLOCK_TIME_NONE;
  g->last_rt = GST_CLOCK_TIME_NONE;
  g->is_video = is_video;
  g->pad = gst_element_get_static_pad (e, "src");
  gst_pad_add_probe (g->pad, GST_PAD_PROBE_TYPE_BUFFER, gate_probe_cb, g, NULL);
  g_ptr_array_add (s->gates, g);
  return g;
}

static gboolean
link_to_request (GstElement *src, GstElement *sink, const char *templ,
    GError **error)
{
  g_autoptr (GstPad) srcpad = gst_element_get_static_pad (src, "src");
  g_autoptr (GstPad) sinkpad = gst_element_request_pad_simple (sink, templ);

  if (sinkpad == NULL || gst_pad_link (srcpad, sinkpad) != GST_PAD_LINK_OK) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "cannot link %s to %s", GST_ELEMENT_NAME (src), templ);
    return FALSE;
  }
  return TRUE;
}

/* parse ─► queue ─► recorder pad, gated at parse's src. */
static gboolean
attach_recorded (MedSession *s, GstElement *parse, GstElement *recorder,
    gboolean is_video, GError **error)
{
  GstElement *q = make ("queue", NULL, error);

  if (q == NULL)
    return FALSE;
  g_object_set (q, "max-size-time", (guint64) 3 * GST_SECOND, "max-size-bytes",
      0, "max-size-buffers", 0, NULL);
  gst_bin_add (GST_BIN (s->pipeline), q);
  if (!gst_element_link (parse, q))
    return FALSE;
  add_gate (s, parse, is_video);
  return link_to_request (q, recorder, is_video ? "video_%u" : "audio_%u",
      error);
}

/* ---- store bookkeeping (main context) ------------------------------------ */

static void
log_event (MedSession *s, MedRecordingEvent kind, const char *detail)
{
  g_autoptr (GError) err = NULL;

  if (!med_store_log_recording (s->store, s->recording_id, kind, detail, &err))
    g_warning ("recording %" G_GINT64_FORMAT ": cannot log %s: %s",
        s->recording_id, med_recording_event_to_string (kind), err->message);
}

static void
set_state (MedSession *s, MedRecordingState state, const char *failure)
{
  g_autoptr (GError) err = NULL;
  gboolean live
      = state == MED_RECORDING_RECORDING || state == MED_RECORDING_PAUSED;

  if (!med_store_set_recording_state (s->store, s->recording_id, state, failure,
          live ? (gint64) getpid () : 0, s->actor, &err))
    g_warning ("recording %" G_GINT64_FORMAT ": cannot set state %s: %s",
        s->recording_id, med_recording_state_to_string (state), err->message);
}

static gboolean
teardown_idle_cb (gpointer user_data)
{
  MedSession *s = user_data;

  if (s->pipeline)
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
  return G_SOURCE_REMOVE;
}

static void
finish (MedSession *s, const GError *error)
{
  if (s->finished)
    return;
  s->finished = TRUE;
  g_idle_add (teardown_idle_cb, s);
  if (s->finished_func)
    s->finished_func (s, error, s->finished_data);
}

static void
seal_done (MedSession *s)
{
  g_autofree char *manifest
      = g_build_filename (s->dir, GST_MED_MANIFEST_NAME, NULL);
  GstMedManifestInfo info = { 0 };
  g_autoptr (GError) err = NULL;
  guint64 bytes = 0;
  GStatBuf st;

  if (!gst_med_manifest_verify_full (manifest,
          GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED
              | GST_MED_MANIFEST_VERIFY_CHAIN_ONLY,
          &info, &err)) {
    g_autoptr (GError) fail = g_error_new (MED_MEDIA_ERROR,
        MED_MEDIA_ERROR_FAILED, "recording did not seal: %s", err->message);

    set_state (s, MED_RECORDING_FAILED, fail->message);
    log_event (s, MED_RECORDING_EVENT_FAILURE, fail->message);
    gst_med_manifest_info_clear (&info);
    finish (s, fail);
    return;
  }
  if (info.final_file && g_stat (info.final_file, &st) == 0)
    bytes = st.st_size;
  if (!med_store_seal_recording (s->store, s->recording_id, manifest,
          info.head_hash, info.duration_ns, bytes, s->actor, &err))
    g_warning ("recording %" G_GINT64_FORMAT ": cannot store the seal: %s",
        s->recording_id, err->message);
  g_info ("recording %" G_GINT64_FORMAT " sealed: %u segments, %.1f s",
      s->recording_id, info.n_segments, info.duration_ns / 1e9);
  gst_med_manifest_info_clear (&info);
  finish (s, NULL);
}

static void
segment_closed (MedSession *s, const GstStructure *st)
{
  const char *location = gst_structure_get_string (st, "location");
  guint64 duration = 0;
  g_autoptr (GError) err = NULL;
  g_autofree char *base = NULL;
  GStatBuf sb;

  gst_structure_get_uint64 (st, "duration", &duration);
  if (location == NULL)
    return;
  base = g_path_get_basename (location);
  if (!med_store_add_recording_segment (s->store, s->recording_id,
          ++s->n_segments, location, "",
          g_stat (location, &sb) == 0 ? (guint64) sb.st_size : 0, duration,
          &err))
    g_warning ("recording %" G_GINT64_FORMAT ": segment %s: %s",
        s->recording_id, base, err->message);
}

/* The input an element belongs to, or NULL. */
static MedInput *
find_input (MedSession *s, GstObject *src)
{
  for (guint i = 0; i < s->inputs->len; i++) {
    MedInput *in = s->inputs->pdata[i];

    if (in->source
        && (src == GST_OBJECT (in->source)
            || gst_object_has_as_ancestor (src, GST_OBJECT (in->source))))
      return in;
  }
  return NULL;
}

static gboolean
bus_message_received_cb (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  MedSession *s = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *st = gst_message_get_structure (msg);

      if (st && gst_structure_has_name (st, "medrecorder-segment")
          && GST_MESSAGE_SRC (msg) == GST_OBJECT (s->recorder))
        segment_closed (s, st);
      break;
    }
    case GST_MESSAGE_EOS:
      seal_done (s);
      break;
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      g_message ("recording %" G_GINT64_FORMAT ": %s: %s", s->recording_id,
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      break;
    }
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree char *debug = NULL;
      g_autofree char *why = NULL;
      g_autoptr (GError) fail = NULL;
      MedInput *in;

      gst_message_parse_error (msg, &err, &debug);
      in = find_input (s, GST_MESSAGE_SRC (msg));
      /* GStreamer's detail may quote a camera's URI with its credentials. */
      if (in == NULL || !in->live_remote)
        g_debug ("recording %" G_GINT64_FORMAT ": %s", s->recording_id,
            debug ? debug : "");
      if (in != NULL && med_input_can_retry (in) && s->started && !s->stopping
          && in->flowed) {
        /* A live input dropped after it had delivered: a gap, retried. */
        med_input_schedule_retry (in, err->message);
        break;
      }
      why = g_strdup_printf ("%s%s%s: %s", in ? "input " : "",
          in ? in->redacted : "",
          in ? "" : GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      fail = g_error_new_literal (MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED, why);
      g_warning ("recording %" G_GINT64_FORMAT " failed: %s", s->recording_id,
          why);
      set_state (s, MED_RECORDING_FAILED, why);
      log_event (s, MED_RECORDING_EVENT_FAILURE, why);
      finish (s, fail);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- building ----------------------------------------------------------- */

static gboolean
prepare_dir (const char *dir, GError **error)
{
  g_autofree char *manifest = NULL;

  if (g_mkdir_with_parents (dir, 0750) != 0) {
    int e = errno;

    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_IO,
        "cannot create the recording directory: %s", g_strerror (e));
    return FALSE;
  }
  manifest = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
  if (g_file_test (manifest, G_FILE_TEST_EXISTS)) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_IO,
        "the recording directory already holds a recording");
    return FALSE;
  }
  return TRUE;
}

static GstElement *
make_recorder (MedSession *s, const char *dir, const char *name,
    guint64 segment_ns, GError **error)
{
  GstElement *rec = make ("medrecorder", name, error);
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, s->recording_id);

  if (rec == NULL)
    return NULL;
  g_object_set (rec, "location", dir, "recording-id", id, NULL);
  if (segment_ns > 0)
    g_object_set (rec, "segment-duration", segment_ns, NULL);
  gst_bin_add (GST_BIN (s->pipeline), rec);
  return rec;
}

/* The composite: grid, mix, stamp, one encode, recorded and live. */
static gboolean
build_composite (MedSession *s, const MedSessionConfig *c, GError **error)
{
  g_autofree char *cdir = g_build_filename (s->dir, "composite", NULL);
  g_autofree char *hdir = g_build_filename (s->dir, "hls", NULL);
  g_autofree char *seg = g_build_filename (hdir, "segment%05d.ts", NULL);
  GstElement *comp, *conv, *stamp, *conv2, *enc, *parse, *parse2, *tee, *q1,
      *q2, *hls;
  GstElement *mix = NULL;
  guint n = 0, cols, w, h;
  gboolean any_audio = FALSE;

  for (guint i = 0; i < s->inputs->len; i++)
    n += ((MedInput *) s->inputs->pdata[i])->raw_video != NULL;
  if (n == 0) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "no input can be composited");
    return FALSE;
  }
  if (g_mkdir_with_parents (cdir, 0750) != 0
      || g_mkdir_with_parents (hdir, 0750) != 0) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_IO,
        "cannot create the composite directories");
    return FALSE;
  }
  s->composite_recorder
      = make_recorder (s, cdir, "composite-recorder", c->segment_ns, error);
  if (s->composite_recorder == NULL)
    return FALSE;
  comp = make ("compositor", "grid", error);
  conv = comp ? make ("videoconvert", NULL, error) : NULL;
  stamp = conv ? make ("medstamp", "stamp", error) : NULL;
  conv2 = stamp ? make ("videoconvert", NULL, error) : NULL;
  enc = conv2 ? make ("x264enc", "composite-enc", error) : NULL;
  parse = enc ? make ("h264parse", NULL, error) : NULL;
  tee = parse ? make ("tee", NULL, error) : NULL;
  q1 = tee ? make ("queue", NULL, error) : NULL;
  q2 = q1 ? make ("queue", NULL, error) : NULL;
  hls = q2 ? make ("hlssink2", "live", error) : NULL;
  if (hls == NULL)
    return FALSE;
  g_object_set (comp, "background", 1 /* black */, NULL);
  g_object_set (stamp, "case-id", c->case_number ? c->case_number : "", "room",
      c->room ? c->room : "", NULL);
  if (c->zone)
    g_object_set (stamp, "zone", c->zone, NULL);
  gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
  gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "ultrafast");
  g_object_set (enc, "key-int-max", 30, "bitrate", 2000, NULL);
  g_object_set (q2, "leaky", 2, NULL);
  s->playlist = g_build_filename (hdir, "live.m3u8", NULL);
  g_object_set (hls, "location", seg, "playlist-location", s->playlist,
      "target-duration", 2, "max-files", 10, NULL);
  {
    GstElement *fmt = make ("capsfilter", NULL, error);
    g_autoptr (GstCaps) i420 = gst_caps_new_simple ("video/x-raw", "format",
        G_TYPE_STRING, "I420", NULL);
    GstElement *chain[] = { comp, conv, stamp, conv2, fmt, enc, tee };

    if (fmt == NULL)
      return FALSE;
    g_object_set (fmt, "caps", i420, NULL);
    if (!add_chain (GST_BIN (s->pipeline), chain, G_N_ELEMENTS (chain), error))
      return FALSE;
  }
  /* One encode, two parsers: the recorder takes avc, HLS byte-stream. */
  parse2 = make ("h264parse", NULL, error);
  if (parse2 == NULL)
    return FALSE;
  add_gate (s, enc, TRUE);
  gst_bin_add_many (GST_BIN (s->pipeline), q1, parse, q2, parse2, hls, NULL);
  if (!gst_element_link_many (tee, q1, parse, NULL)
      || !gst_element_link_many (tee, q2, parse2, NULL)
      || !link_to_request (parse, s->composite_recorder, "video_%u", error)) {
    if (error && !*error)
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link the composite");
    return FALSE;
  }
  {
    g_autoptr (GstPad) src = gst_element_get_static_pad (parse2, "src");
    g_autoptr (GstPad) sink = gst_element_request_pad_simple (hls, "video");

    if (gst_pad_link (src, sink) != GST_PAD_LINK_OK) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link the live stream");
      return FALSE;
    }
  }

  /* A grid of cols × rows cells in 1280×720. */
  cols = n <= 1 ? 1 : n <= 4 ? 2 : 3;
  w = 1280 / cols;
  h = 720 / ((n + cols - 1) / cols);
  for (guint i = 0, k = 0; i < s->inputs->len; i++) {
    MedInput *in = s->inputs->pdata[i];
    g_autoptr (GstPad) sink = NULL;
    g_autoptr (GstPad) src = NULL;
    GstElement *q, *scale;

    if (in->raw_video == NULL)
      continue;
    q = make ("queue", NULL, error);
    scale = q ? make ("videoscale", NULL, error) : NULL;
    if (scale == NULL)
      return FALSE;
    g_object_set (q, "leaky", 2, "max-size-time", (guint64) GST_SECOND, NULL);
    gst_bin_add_many (GST_BIN (s->pipeline), q, scale, NULL);
    if (!gst_element_link (in->raw_video, q) || !gst_element_link (q, scale)) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link input %u to the composite", i + 1);
      return FALSE;
    }
    sink = gst_element_request_pad_simple (comp, "sink_%u");
    g_object_set (sink, "xpos", (gint) ((k % cols) * w), "ypos",
        (gint) ((k / cols) * h), "width", (gint) w, "height", (gint) h, NULL);
    src = gst_element_get_static_pad (scale, "src");
    if (gst_pad_link (src, sink) != GST_PAD_LINK_OK) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link input %u to the grid", i + 1);
      return FALSE;
    }
    k++;
    any_audio |= in->raw_audio != NULL;
  }
  {
    /* The grid's output size. */
    GstElement *caps = make ("capsfilter", NULL, error);
    g_autoptr (GstCaps) cc = gst_caps_new_simple ("video/x-raw", "width",
        G_TYPE_INT, 1280, "height", G_TYPE_INT, 720, "framerate",
        GST_TYPE_FRACTION, 30, 1, NULL);

    if (caps == NULL)
      return FALSE;
    g_object_set (caps, "caps", cc, NULL);
    gst_bin_add (GST_BIN (s->pipeline), caps);
    gst_element_unlink (comp, conv);
    if (!gst_element_link (comp, caps) || !gst_element_link (caps, conv)) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot size the grid");
      return FALSE;
    }
  }
  if (any_audio) {
    GstElement *aconv, *aenc, *aparse;

    mix = make ("audiomixer", "mix", error);
    aconv = mix ? make ("audioconvert", NULL, error) : NULL;
    aenc = aconv ? make ("opusenc", NULL, error) : NULL;
    aparse = aenc ? make ("opusparse", NULL, error) : NULL;
    if (aparse == NULL)
      return FALSE;
    {
      GstElement *chain[] = { mix, aconv, aenc, aparse };

      if (!add_chain (GST_BIN (s->pipeline), chain, G_N_ELEMENTS (chain), error)
          || !attach_recorded (s, aparse, s->composite_recorder, FALSE, error))
        return FALSE;
    }
    for (guint i = 0; i < s->inputs->len; i++) {
      MedInput *in = s->inputs->pdata[i];
      GstElement *q;

      if (in->raw_audio == NULL)
        continue;
      q = make ("queue", NULL, error);
      if (q == NULL)
        return FALSE;
      gst_bin_add (GST_BIN (s->pipeline), q);
      if (!gst_element_link (in->raw_audio, q) || !gst_element_link (q, mix)) {
        g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
            "cannot link input %u to the mix", i + 1);
        return FALSE;
      }
    }
  }
  return TRUE;
}

MedSession *
med_session_new (MedStore *store, const MedSessionConfig *c, GError **error)
{
  g_autoptr (MedSession) s = NULL;
  g_autoptr (GstBus) bus = NULL;
  guint n_missing = 0;

  g_return_val_if_fail (store != NULL && c != NULL, NULL);
  if (!med_media_init (error))
    return NULL;
  if (c->inputs == NULL || c->inputs[0] == NULL) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_URI,
        "a session needs at least one input");
    return NULL;
  }
  if (g_strv_length ((char **) c->inputs) > 9) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_URI,
        "at most 9 inputs per session");
    return NULL;
  }
  for (guint i = 0; c->inputs[i]; i++) {
    if (!med_media_check_uri (c->inputs[i], NULL, error)) {
      g_prefix_error (error, "input %u: ", i + 1);
      return NULL;
    }
  }
  if (c->dir == NULL || !g_path_is_absolute (c->dir)) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_IO,
        "the recording directory must be an absolute path");
    return NULL;
  }
  if (c->regime == MED_RECORDING_REGIME_MEDIATION) {
    g_autoptr (GError) err = NULL;

    if (!med_store_consent_complete (store, c->booking_id, &n_missing, &err)) {
      g_propagate_error (error, g_steal_pointer (&err));
      return NULL;
    }
    if (n_missing > 0) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_CONSENT,
          "mediation sessions are recorded only with every party's consent: "
          "%u part%s of booking %" G_GINT64_FORMAT " did not consent",
          n_missing, n_missing == 1 ? "y" : "ies", c->booking_id);
      return NULL;
    }
  }
  if (!prepare_dir (c->dir, error))
    return NULL;

  s = g_new0 (MedSession, 1);
  s->store = store;
  s->actor = g_strdup (c->actor ? c->actor : "media");
  s->dir = g_strdup (c->dir);
  s->booking_id = c->booking_id;
  g_mutex_init (&s->lock);
  s->gates = g_ptr_array_new_with_free_func ((GDestroyNotify) gate_free);
  s->inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) med_input_free);
  s->recording_id = med_store_add_recording (store, c->booking_id, c->regime,
      c->dir, s->actor, error);
  if (s->recording_id == 0)
    return NULL;

  s->pipeline = gst_object_ref_sink (gst_pipeline_new ("session"));
  s->recorder = make_recorder (s, s->dir, "recorder", c->segment_ns, error);
  if (s->recorder == NULL)
    goto failed;
  for (guint i = 0; c->inputs[i]; i++) {
    MedInput *in
        = med_input_build (s->pipeline, i, c->inputs[i], c->composite, error);

    if (in == NULL)
      goto failed;
    in->session = s;
    g_ptr_array_add (s->inputs, in);
    if (!attach_recorded (s, in->video_out, s->recorder, TRUE, error)
        || (in->audio_out
            && !attach_recorded (s, in->audio_out, s->recorder, FALSE, error)))
      goto failed;
    ((Gate *) s->gates->pdata[s->gates->len - (in->audio_out ? 2 : 1)])->remote
        = in->live_remote ? in : NULL;
    if (in->audio_out) {
      Gate *vg = s->gates->pdata[s->gates->len - 2];
      Gate *ag = s->gates->pdata[s->gates->len - 1];

      ag->video = vg;
    }
  }
  if (c->composite && !build_composite (s, c, error))
    goto failed;

  bus = gst_element_get_bus (s->pipeline);
  s->bus_watch = gst_bus_add_watch (bus, bus_message_received_cb, s);
  return g_steal_pointer (&s);

failed:
  if (error && *error) {
    set_state (s, MED_RECORDING_FAILED, (*error)->message);
    log_event (s, MED_RECORDING_EVENT_FAILURE, (*error)->message);
  }
  return NULL;
}

void
med_session_set_finished_func (MedSession *s, MedSessionFinishedFunc func,
    gpointer user_data)
{
  s->finished_func = func;
  s->finished_data = user_data;
}

gboolean
med_session_start (MedSession *s, GError **error)
{
  if (s->started || s->finished) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        "the session was already started");
    return FALSE;
  }
  s->started = TRUE;
  set_state (s, MED_RECORDING_RECORDING, NULL);
  log_event (s, MED_RECORDING_EVENT_START, NULL);
  if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* The explanation comes as a bus ERROR; if none does, say so here. */
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "the session pipeline could not start");
    return FALSE;
  }
  g_info ("recording %" G_GINT64_FORMAT " started", s->recording_id);
  return TRUE;
}

static gboolean
check_live (MedSession *s, GError **error)
{
  if (!s->started || s->stopping || s->finished) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        "the session is not recording");
    return FALSE;
  }
  return TRUE;
}

gboolean
med_session_pause (MedSession *s, GError **error)
{
  if (!check_live (s, error))
    return FALSE;
  if (g_atomic_int_get (&s->paused)) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        "the session is already paused");
    return FALSE;
  }
  g_atomic_int_set (&s->paused, 1);
  set_state (s, MED_RECORDING_PAUSED, NULL);
  log_event (s, MED_RECORDING_EVENT_PAUSE, "private caucus");
  return TRUE;
}

gboolean
med_session_resume (MedSession *s, GError **error)
{
  if (!check_live (s, error))
    return FALSE;
  if (!g_atomic_int_get (&s->paused)) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        "the session is not paused");
    return FALSE;
  }
  /* Video restarts at a keyframe: ask upstream for one now. */
  for (guint i = 0; i < s->gates->len; i++) {
    Gate *g = s->gates->pdata[i];

    if (g->is_video) {
      g_atomic_int_set (&g->want_keyframe, 1);
      gst_pad_send_event (g->pad,
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0));
    }
  }
  g_atomic_int_set (&s->paused, 0);
  set_state (s, MED_RECORDING_RECORDING, NULL);
  log_event (s, MED_RECORDING_EVENT_RESUME, NULL);
  return TRUE;
}

void
med_session_stop (MedSession *s)
{
  if (!s->started || s->stopping || s->finished)
    return;
  s->stopping = TRUE;
  log_event (s, MED_RECORDING_EVENT_STOP, NULL);
  /* EOS into every source: each branch drains into the recorders, which
   * seal before EOS reaches the bus. */
  for (guint i = 0; i < s->inputs->len; i++)
    med_input_send_eos (s->inputs->pdata[i]);
}

void
med_session_abort (MedSession *s, const char *why)
{
  g_autoptr (GError) fail = NULL;

  if (s->finished)
    return;
  fail = g_error_new_literal (MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED, why);
  /* NULL without EOS: medrecorder seals its manifest "stopped without EOS",
   * listing every segment, without a final file. */
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  set_state (s, MED_RECORDING_STOPPED, why);
  log_event (s, MED_RECORDING_EVENT_FAILURE, why);
  finish (s, fail);
}

gint64
med_session_get_recording_id (MedSession *s)
{
  return s->recording_id;
}

const char *
med_session_get_playlist (MedSession *s)
{
  return s->playlist;
}

gboolean
med_session_has_media (MedSession *s)
{
  gboolean all = s->gates->len > 0;

  g_mutex_lock (&s->lock);
  for (guint i = 0; i < s->gates->len; i++) {
    Gate *g = s->gates->pdata[i];

    if (g->is_video && !GST_CLOCK_TIME_IS_VALID (g->first_rt))
      all = FALSE;
  }
  g_mutex_unlock (&s->lock);
  return all;
}

gboolean
med_session_is_finished (MedSession *s)
{
  return s->finished;
}

void
med_session_free (MedSession *s)
{
  if (s == NULL)
    return;
  g_idle_remove_by_data (s);
  if (s->bus_watch)
    g_source_remove (s->bus_watch);
  if (s->pipeline)
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
  g_clear_pointer (&s->inputs, g_ptr_array_unref);
  g_clear_pointer (&s->gates, g_ptr_array_unref);
  gst_clear_object (&s->pipeline);
  g_free (s->actor);
  g_free (s->dir);
  g_free (s->playlist);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* Called by an input on the main context when it restarted or gave up. */
void
med_session_input_event (MedSession *s, MedInput *in, MedRecordingEvent kind,
    const char *detail)
{
  g_autofree char *d = g_strdup_printf ("input %s: %s", in->redacted, detail);

  log_event (s, kind, d);
}

gboolean
med_media_recover (MedStore *store, const char *actor, guint *n_recovered,
    GError **error)
{
  g_autoptr (GPtrArray) recs = med_store_list_recordings (store, 0, error);

  *n_recovered = 0;
  if (recs == NULL)
    return FALSE;
  for (guint i = 0; i < recs->len; i++) {
    MedRecording *r = recs->pdata[i];
    g_autofree char *manifest = NULL;
    g_autoptr (GError) err = NULL;

    if (r->state != MED_RECORDING_RECORDING && r->state != MED_RECORDING_PAUSED)
      continue;
    if (r->pid > 0 && r->pid != getpid () && kill ((pid_t) r->pid, 0) == 0)
      continue; /* still running */
    manifest = g_build_filename (r->dir, GST_MED_MANIFEST_NAME, NULL);
    if (g_file_test (manifest, G_FILE_TEST_EXISTS)
        && !gst_med_manifest_recover (manifest, &err)) {
      g_warning ("recording %" G_GINT64_FORMAT ": recovery failed: %s", r->id,
          err->message);
      continue;
    }
    if (!med_store_log_recording (store, r->id, MED_RECORDING_EVENT_FAILURE,
            "recorder process ended without stopping; manifest sealed as "
            "interrupted",
            error)
        || !med_store_set_recording_state (store, r->id, MED_RECORDING_STOPPED,
            "interrupted", 0, actor, error))
      return FALSE;
    (*n_recovered)++;
  }
  return TRUE;
}
