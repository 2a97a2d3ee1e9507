/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-session.c — one remote session's GStreamer pipeline, built element by
 * element in C (never gst_parse_launch on anything a user typed).
 *
 *   input i ─► [encode for test://, v4l2] ─► parse ─► gate ─► queue ─► rec.video_i
 *          └─► audio (test://av: opusenc; rtsp/srt/file: the source's AAC or
 *              Opus, depayloaded and parsed) ─► gate ─► queue ─► rec.audio_i
 *   with --composite, raw (or decoded) video of every input also goes to
 *   compositor (grid) ─► medstamp ─► x264enc ─► h264parse ─► gate ─► tee
 *        ├─► queue ─► composite recorder (dir/composite)
 *        ├─► queue ─► hlssink2 (dir/hls/live.m3u8)
 *        └─► queue ─► appsink ═► appsrc of an RTSP mount (rtsp_port)
 *   and test://av audio to audiomixer ─► opusenc ─► gate ─► composite recorder.
 *   A remote input (rtsp/srt/file) is decoded for the composite past its
 *   gates (a tee after each parser: its recorder gets the same bytes), its
 *   audio into the mix once its pad appears; a live silence keeps the mix
 *   going. Only with --composite.
 *
 * Every input's encoded stream reaches its recorder untouched (test and
 * v4l2 inputs are encoded once, as a camera would). The recording branches
 * (the inputs' recorder with the session's row, the composite's) are
 * med-rec.c's, as the WebRTC call's are: their gates drop everything while
 * the session is paused (a private caucus: nothing reaches a recorder or
 * the live stream) and, after resume, video until the next keyframe, so
 * the recording stays decodable. Events pass, so stop while paused still
 * ends the recording. What the session adds at each gate (a filter): the
 * dynamic inputs' streams must all be known first, and a remote input is
 * re-timed across its restarts.
 *
 * The bus watch runs on the caller's main context. The session ends when
 * both recorders are done (closed, finished off the pipeline, sealed: the
 * row sealed with the manifest's head hash and duration). A bus ERROR
 * marks this session's recording failed with the explanation and stops only
 * this pipeline. An input element (rtspsrc, srtsrc) that errors after the
 * session started is a gap: logged, and the input is restarted with
 * back-off (1, 2, 4 … 30 s) while the other inputs go on. A remote input's
 * gates hold back its EOS unless the session stops (splitmuxsink would
 * otherwise end the stream and refuse its return) and its media while its
 * picture size differs from the recorded one. */
#define G_LOG_DOMAIN "medsched-media"

#include <medsched/med-media.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>

#include "gstmedmanifest.h"
#include "med-media-private.h"
#include "med-rec.h"

/* the recording rows this module keeps as it records */
#include <med-store-write.h>

/* clang-format off */
G_DEFINE_QUARK (med-media-error-quark, med_media_error)
/* clang-format on */

typedef struct _Gate Gate;

/* The appsrc of each prepared mount media; refcounted (g_atomic_rc_box)
 * because a media may be unprepared after its session was freed. */
typedef struct
{
  GMutex lock;
  GPtrArray *srcs; /* GstElement* appsrc, owned refs */
} RtspFeed;

static RtspFeed *
feed_new (void)
{
  RtspFeed *f = g_atomic_rc_box_new0 (RtspFeed);

  g_mutex_init (&f->lock);
  f->srcs = g_ptr_array_new_with_free_func (gst_object_unref);
  return f;
}

static void
feed_clear (RtspFeed *f)
{
  g_ptr_array_unref (f->srcs);
  g_mutex_clear (&f->lock);
}

static void
feed_release (gpointer f, GClosure *closure)
{
  g_atomic_rc_box_release_full (f, (GDestroyNotify) feed_clear);
}

/* How long dynamic inputs may take to announce their streams. */
#define PADS_WAIT_S 10
/* How long an input's video may wait for its audio to start. */
#define AV_WAIT (2 * GST_SECOND)
/* Audio buffers an audio gate keeps while its video has not started (about
 * AV_WAIT of 20 ms Opus frames). */
#define EARLY_AUDIO_MAX 128

static gboolean pads_timeout_cb (gpointer user_data);

/* What the composite's grid allows a remote input (rtspsrc's 200 ms jitter
 * buffer, network, decoder) before its frame is late. */
#define REMOTE_GRID_LATENCY ((guint64) 500 * GST_MSECOND)
/* How long a remote input's cell keeps its last picture when no new one
 * comes (the camera dropped), before it goes black. */
#define REMOTE_CELL_HOLD ((guint64) GST_SECOND)

struct _MedSession
{
  MedStore *store; /* not owned */
  char *actor;
  char *dir;
  char *playlist;
  gint64 booking_id;
  GstElement *pipeline;
  MedRec *rec; /* the inputs' recorder, with the session's row */
  MedRec *composite; /* the composite's recorder (no row of its own), or NULL */
  GstElement *mix; /* the composite's audiomixer, or NULL */
  GstElement *silence; /* its live silent source (remote inputs), or NULL */
  guint bus_watch;
  GPtrArray *gates; /* Gate*, owned */
  GPtrArray *inputs; /* MedInput*, owned */
  gboolean paused; /* a private caucus */
  gint eos_ok; /* atomic: stopping, so an EOS from a remote input passes */
  /* Dynamic inputs whose streams are not all known yet (atomic): until
   * none is left every gate drops, so that every recorder pad is
   * requested before data flows (matroskamux writes its headers once). */
  gint pending_pads;
  guint pads_timeout;
  /* A file input's gates wait (rather than drop) for the others: under
   * lock, broadcast when pending_pads reaches 0 or the pipeline closes. */
  GCond pads_cond;
  gboolean closing;
  GMutex lock; /* adding to gates after start */
  gboolean started, stopping, finished;
  /* The session ends when each recorder is done (sealed, or failed), not
   * on the pipeline's EOS, which GStreamer 1.22's GstBin can lose when an
   * async preroll finishes on a streaming thread while the application
   * sets PLAYING (tests/plugin test-medrecorder, MED_TEST_EOS_RACE=1). */
  gboolean done_main, done_composite;
  /* The composite's RTSP mount, or NULL: the server runs on the caller's
   * main context; each prepared (shared) media has an appsrc that the
   * composite's appsink feeds from its streaming thread. */
  GstRTSPServer *rtsp;
  guint rtsp_source;
  char *rtsp_url;
  RtspFeed *feed; /* shared with the media's signal handlers */
  MedSessionFinishedFunc finished_func;
  gpointer finished_data;
};

/* What the session adds to a recorded stream's gate (med-rec.h): a
 * dynamic input's streams must all be known first, a file's media waits
 * for that, a remote input is re-timed across its restarts and held back
 * while its format differs from the recorded one. */
struct _Gate
{
  MedSession *session;
  MedRecTrack *track;
  gboolean is_video;
  GstPad *pad; /* the gated pad (ref) */
  MedInput *input; /* the input it belongs to, or NULL (composite) */
  /* Remote inputs restart with fresh timestamps: shift them so running
   * time goes on (the gate's streaming thread only). */
  MedInput *remote; /* the input, for a remote input's gates */
  GstClockTimeDiff shift;
  GstClockTime last_rt;
  /* The caps the recorder took (a remote gate's streaming thread): a
   * camera that changes its picture size cannot go on in the same Matroska
   * track, so it is held back (a logged gap) until it returns to them. */
  GstCaps *caps;
  gint held; /* atomic: caps differ, buffers dropped */
  /* For an input split for the composite: the tee's pad to the recorder's
   * queue (ref), where a format change is held back (the composite's
   * decoder takes any size), or NULL: held at pad. */
  GstPad *hold_pad;
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
buffer_running_time (GstPad *pad, GstBuffer *buf)
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
  return gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts);
}

/* The session's look at a buffer before the recording branch's gate
 * (streaming thread). */
static gboolean
gate_filter_cb (GstPad *pad, GstBuffer **bufp, gpointer user_data)
{
  Gate *g = user_data;
  MedSession *s = g->session;
  GstBuffer *buf = *bufp;

  if (g_atomic_int_get (&s->pending_pads) > 0 && g->input && g->input->dynamic
      && !g->input->live_remote) {
    /* A file is read at its own pace: hold it until the recorder has
     * every stream. */
    g_mutex_lock (&s->lock);
    while (g_atomic_int_get (&s->pending_pads) > 0 && !s->closing)
      g_cond_wait (&s->pads_cond, &s->lock);
    g_mutex_unlock (&s->lock);
  }
  if (g_atomic_int_get (&s->pending_pads) > 0
      || (g->hold_pad == NULL && g_atomic_int_get (&g->held)))
    return FALSE;
  if (g->remote) {
    /* Muxers die on a DTS that goes back or is missing: keep a remote
     * input's timeline monotonic across its restarts. */
    GstClockTime rt = buffer_running_time (pad, buf);
    GstClockTimeDiff out;
    gint *resync = g->is_video ? &g->remote->resync : &g->remote->audio_resync;
    gboolean restarted;

    if (!GST_CLOCK_TIME_IS_VALID (rt))
      return FALSE;
    restarted = g_atomic_int_compare_and_exchange (resync, 1, 0);

    if (restarted && g->is_video)
      gst_element_post_message (s->pipeline,
          gst_message_new_application (GST_OBJECT (s->pipeline),
              gst_structure_new ("med-input-back", "input", G_TYPE_UINT,
                  g->remote->index, NULL)));
    if (restarted
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
      med_rec_track_want_keyframe (g->track);
    }
    out = (GstClockTimeDiff) rt + g->shift;
    if (out < 0
        || (GST_CLOCK_TIME_IS_VALID (g->last_rt)
            && out <= (GstClockTimeDiff) g->last_rt))
      return FALSE;
    if (g->shift != 0) {
      buf = gst_buffer_make_writable (buf);
      if (GST_BUFFER_PTS_IS_VALID (buf))
        GST_BUFFER_PTS (buf)
            = MAX (0, (GstClockTimeDiff) GST_BUFFER_PTS (buf) + g->shift);
      if (GST_BUFFER_DTS_IS_VALID (buf))
        GST_BUFFER_DTS (buf)
            = MAX (0, (GstClockTimeDiff) GST_BUFFER_DTS (buf) + g->shift);
      *bufp = buf;
    }
    g->last_rt = out;
  }
  return TRUE;
}

/* The fields a Matroska track cannot change. */
static gboolean
same_format (GstCaps *a, GstCaps *b)
{
  static const char *const fields[]
      = { "width", "height", "rate", "channels", NULL };
  const GstStructure *sa = gst_caps_get_structure (a, 0);
  const GstStructure *sb = gst_caps_get_structure (b, 0);

  if (!gst_structure_has_name (sb, gst_structure_get_name (sa)))
    return FALSE;
  for (guint i = 0; fields[i]; i++) {
    const GValue *va = gst_structure_get_value (sa, fields[i]);
    const GValue *vb = gst_structure_get_value (sb, fields[i]);

    if ((va == NULL) != (vb == NULL)
        || (va && gst_value_compare (va, vb) != GST_VALUE_EQUAL))
      return FALSE;
  }
  return TRUE;
}

static void
post_input_note (Gate *g, const char *name, const char *detail)
{
  MedSession *s = g->session;

  gst_element_post_message (s->pipeline,
      gst_message_new_application (GST_OBJECT (s->pipeline),
          gst_structure_new (name, "input", G_TYPE_UINT, g->remote->index,
              "detail", G_TYPE_STRING, detail, NULL)));
}

static GstPadProbeReturn
gate_caps (Gate *g, GstEvent *ev)
{
  GstCaps *caps;

  gst_event_parse_caps (ev, &caps);
  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return GST_PAD_PROBE_OK;
  if (g->caps == NULL) {
    g->caps = gst_caps_ref (caps);
    return GST_PAD_PROBE_OK;
  }
  if (same_format (g->caps, caps)) {
    if (g_atomic_int_compare_and_exchange (&g->held, 1, 0)) {
      med_rec_track_want_keyframe (g->track);
      post_input_note (g, "med-input-note", "format back as recorded");
    }
    return GST_PAD_PROBE_OK;
  }
  if (g_atomic_int_compare_and_exchange (&g->held, 0, 1)) {
    const GstStructure *was = gst_caps_get_structure (g->caps, 0);
    const GstStructure *now = gst_caps_get_structure (caps, 0);
    gint w0 = 0, h0 = 0, w1 = 0, h1 = 0;
    g_autofree char *detail = NULL;

    gst_structure_get_int (was, "width", &w0);
    gst_structure_get_int (was, "height", &h0);
    gst_structure_get_int (now, "width", &w1);
    gst_structure_get_int (now, "height", &h1);
    detail = g->is_video
        ? g_strdup_printf ("picture size changed from %d×%d to %d×%d; "
                           "not recorded until it is back",
            w0, h0, w1, h1)
        : g_strdup ("audio format changed; not recorded until it is back");
    post_input_note (g, "med-input-note", detail);
  }
  return GST_PAD_PROBE_DROP;
}

/* A remote input's EOS (the camera went away, or said goodbye) must not
 * reach the recorder unless the session is stopping: splitmuxsink would
 * end that stream, or, for its reference stream, close the recording and
 * then refuse the camera's return ("Queued GOP time is negative"). The EOS
 * is dropped and reported as a drop; the input is restarted. */
static GstPadProbeReturn
gate_event_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Gate *g = user_data;
  MedSession *s = g->session;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS)
    return g->hold_pad == NULL ? gate_caps (g, ev) : GST_PAD_PROBE_OK;
  if (GST_EVENT_TYPE (ev) != GST_EVENT_EOS || g_atomic_int_get (&s->eos_ok))
    return GST_PAD_PROBE_OK;
  if (g->is_video)
    gst_element_post_message (s->pipeline,
        gst_message_new_application (GST_OBJECT (s->pipeline),
            gst_structure_new ("med-input-eos", "input", G_TYPE_UINT,
                g->remote->index, NULL)));
  return GST_PAD_PROBE_DROP;
}

/* The recorder's side of a split input: caps that differ from the
 * recorded ones, and the buffers after them, stop here. */
static GstPadProbeReturn
hold_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Gate *g = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return g_atomic_int_get (&g->held) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_CAPS)
    return gate_caps (g, GST_PAD_PROBE_INFO_EVENT (info));
  return GST_PAD_PROBE_OK;
}

static void
gate_free (Gate *g)
{
  gst_clear_object (&g->pad);
  gst_clear_object (&g->hold_pad);
  gst_clear_caps (&g->caps);
  g_free (g);
}

/* Makes g a remote input's gate: re-timed across restarts, EOS held. */
static void
watch_remote (Gate *g, MedInput *in)
{
  g->remote = in;
  g->last_rt = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (g->pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, gate_event_cb,
      g, NULL);
  if (g->hold_pad != NULL)
    gst_pad_add_probe (g->hold_pad,
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        hold_probe_cb, g, NULL);
}

/* gated ─► … from ─► queue ─► a pad of rec, gated at gated's src; from
 * (NULL: gated) is where the queue links: a tee gated feeds (its request
 * pad) or an element further down. video: for an audio stream, the video
 * gate of the same input, or NULL. */
static Gate *
attach_recorded (MedSession *s, MedRec *rec, GstElement *gated,
    GstElement *from, gboolean is_video, Gate *video, GError **error)
{
  Gate *g = g_new0 (Gate, 1);
  g_autoptr (GstPad) link = NULL;

  g->session = s;
  g->is_video = is_video;
  g->last_rt = GST_CLOCK_TIME_NONE;
  g->pad = gst_element_get_static_pad (gated, "src");
  if (from == NULL)
    link = gst_object_ref (g->pad);
  else if ((link = gst_element_get_static_pad (from, "src")) == NULL)
    link = gst_element_request_pad_simple (from, "src_%u");
  g->track = med_rec_add_track (rec, g->pad, link, is_video,
      video ? video->track : NULL, error);
  if (g->track == NULL) {
    gate_free (g);
    return NULL;
  }
  if (from != NULL)
    g->hold_pad = gst_object_ref (link);
  med_rec_track_set_filter (g->track, gate_filter_cb, g);
  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->gates, g);
  g_mutex_unlock (&s->lock);
  return g;
}


/* Before the pipeline goes to NULL: no gate may still wait. */
static void
wake_gates (MedSession *s)
{
  g_mutex_lock (&s->lock);
  s->closing = TRUE;
  g_cond_broadcast (&s->pads_cond);
  g_mutex_unlock (&s->lock);
}

static gboolean
teardown_idle_cb (gpointer user_data)
{
  MedSession *s = user_data;

  if (s->pipeline) {
    wake_gates (s);
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
  }
  return G_SOURCE_REMOVE;
}

/* ---- the RTSP mount ------------------------------------------------------ */

/* No user input reaches this description: the mount's media reads the
 * composite's encoded H.264 from an appsrc. */
#define RTSP_LAUNCH                                                            \
  "( appsrc name=composite is-live=true format=time do-timestamp=true ! "      \
  "h264parse config-interval=-1 ! "                                            \
  "rtph264pay name=pay0 pt=96 config-interval=-1 )"

static gboolean
check_rtsp (const MedSessionConfig *c, GError **error)
{
  const char *m = c->rtsp_mount ? c->rtsp_mount : "/live";
  gsize len = strlen (m);

  if (c->rtsp_port == 0)
    return TRUE;
  if (!c->composite) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "the RTSP mount streams the composite: it needs the composite");
    return FALSE;
  }
  if (c->rtsp_port > 65535) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "RTSP port %u is out of range", c->rtsp_port);
    return FALSE;
  }
  if (len < 2 || len > 64 || m[0] != '/' || m[len - 1] == '/'
      || strstr (m, "//") != NULL
      || strspn (m,
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             "0123456789_-/")
          != len) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "bad RTSP mount: it takes /name[/name]… of letters, digits, _ and -, "
        "at most 64 bytes");
    return FALSE;
  }
  if (c->rtsp_address) {
    g_autoptr (GInetAddress) a
        = g_inet_address_new_from_string (c->rtsp_address);

    if (a == NULL) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "bad RTSP address: it takes an IP address");
      return FALSE;
    }
  }
  return TRUE;
}

static void
rtsp_media_unprepared_cb (GstRTSPMedia *media, gpointer user_data)
{
  RtspFeed *f = user_data;
  g_autoptr (GstElement) bin = gst_rtsp_media_get_element (media);
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (bin), "composite");

  g_mutex_lock (&f->lock);
  if (src)
    g_ptr_array_remove (f->srcs, src);
  g_mutex_unlock (&f->lock);
}

/* A client asked for the mount and the shared media is being built (main
 * context). */
static void
rtsp_media_configure_cb (GstRTSPMediaFactory *factory, GstRTSPMedia *media,
    gpointer user_data)
{
  RtspFeed *f = user_data;
  g_autoptr (GstElement) bin = gst_rtsp_media_get_element (media);
  GstElement *src = gst_bin_get_by_name (GST_BIN (bin), "composite");
  g_autoptr (GstCaps) caps
      = gst_caps_new_simple ("video/x-h264", "stream-format", G_TYPE_STRING,
          "byte-stream", "alignment", G_TYPE_STRING, "au", NULL);

  if (src == NULL)
    return;
  /* At most ~1 s of 2 Mbit/s queued for a slow display; newer data is
   * dropped rather than the session held back. */
  g_object_set (src, "caps", caps, "max-bytes", (guint64) 256 * 1024, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "leaky-type", "upstream");
  g_mutex_lock (&f->lock);
  g_ptr_array_add (f->srcs, src);
  g_mutex_unlock (&f->lock);
  g_signal_connect_data (media, "unprepared",
      G_CALLBACK (rtsp_media_unprepared_cb), g_atomic_rc_box_acquire (f),
      feed_release, 0);
}

/* The composite's appsink (streaming thread): every prepared mount media
 * gets the encoded access unit, re-timed by its own appsrc. */
static GstFlowReturn
rtsp_sample_cb (GstElement *sink, gpointer user_data)
{
  RtspFeed *f = user_data;
  GstSample *sample = NULL;
  GstBuffer *buf;

  g_signal_emit_by_name (sink, "pull-sample", &sample);
  if (sample == NULL)
    return GST_FLOW_EOS;
  buf = gst_sample_get_buffer (sample);
  g_mutex_lock (&f->lock);
  if (buf != NULL && f->srcs->len > 0) {
    GstBuffer *copy = gst_buffer_copy (buf);
    GstFlowReturn ret;

    GST_BUFFER_PTS (copy) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
    for (guint i = 0; i < f->srcs->len; i++)
      g_signal_emit_by_name (f->srcs->pdata[i], "push-buffer", copy, &ret);
    gst_buffer_unref (copy);
  }
  g_mutex_unlock (&f->lock);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static void
end_rtsp_media (MedSession *s)
{
  RtspFeed *f = s->feed;

  if (f == NULL)
    return;
  g_mutex_lock (&f->lock);
  for (guint i = 0; i < f->srcs->len; i++) {
    GstFlowReturn ret;

    g_signal_emit_by_name (f->srcs->pdata[i], "end-of-stream", &ret);
  }
  g_mutex_unlock (&f->lock);
}

static GstRTSPFilterResult
close_client_cb (GstRTSPServer *server, GstRTSPClient *client,
    gpointer user_data)
{
  return GST_RTSP_FILTER_REMOVE;
}

/* Listens on the mount (before start, so a taken port is a clear error). */
static gboolean
start_rtsp (MedSession *s, const MedSessionConfig *c, GError **error)
{
  const char *mount = c->rtsp_mount ? c->rtsp_mount : "/live";
  const char *address = c->rtsp_address ? c->rtsp_address : "127.0.0.1";
  g_autofree char *port = g_strdup_printf ("%u", c->rtsp_port);
  g_autoptr (GstRTSPMountPoints) mounts = NULL;
  GstRTSPMediaFactory *factory;
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (address);

  s->rtsp = gst_rtsp_server_new ();
  g_object_set (s->rtsp, "service", port, "address", address, NULL);
  mounts = gst_rtsp_server_get_mount_points (s->rtsp);
  factory = gst_rtsp_media_factory_new ();
  gst_rtsp_media_factory_set_launch (factory, RTSP_LAUNCH);
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  g_signal_connect_data (factory, "media-configure",
      G_CALLBACK (rtsp_media_configure_cb), g_atomic_rc_box_acquire (s->feed),
      feed_release, 0);
  gst_rtsp_mount_points_add_factory (mounts, mount, factory);
  s->rtsp_source
      = gst_rtsp_server_attach (s->rtsp, g_main_context_get_thread_default ());
  if (s->rtsp_source == 0) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_IO,
        "cannot listen for RTSP on %s port %u", address, c->rtsp_port);
    return FALSE;
  }
  s->rtsp_url
      = g_strdup_printf (g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV6
              ? "rtsp://[%s]:%u%s"
              : "rtsp://%s:%u%s",
          address, c->rtsp_port, mount);
  return TRUE;
}

static void
stop_rtsp (MedSession *s)
{
  if (s->rtsp_source)
    g_source_remove (s->rtsp_source);
  s->rtsp_source = 0;
  if (s->rtsp)
    gst_rtsp_server_client_filter (s->rtsp, close_client_cb, NULL);
  gst_clear_object (&s->rtsp);
}

static void
finish (MedSession *s, const GError *error)
{
  if (s->finished)
    return;
  s->finished = TRUE;
  end_rtsp_media (s);
  g_idle_add (teardown_idle_cb, s);
  if (s->finished_func)
    s->finished_func (s, error, s->finished_data);
}

/* A recorder is done (sealed, failed or stopped: its row says so). The
 * session ends when both are, or at the first that failed. */
static void
rec_done_cb (MedRec *rec, const GError *error, gpointer user_data)
{
  MedSession *s = user_data;

  if (rec == s->rec)
    s->done_main = TRUE;
  else
    s->done_composite = TRUE;
  if (error != NULL && rec == s->composite)
    g_warning ("recording %" G_GINT64_FORMAT ": the composite: %s",
        med_rec_get_id (s->rec), error->message);
  if (error != NULL && rec == s->rec) {
    if (s->composite)
      med_rec_abort (s->composite, MED_RECORDING_STOPPED, error->message);
    finish (s, error);
    return;
  }
  if (s->done_main && (s->composite == NULL || s->done_composite))
    finish (s, NULL);
}

/* Fails the session (its row failed, with why). */
static void
fail (MedSession *s, const char *why)
{
  g_warning ("recording %" G_GINT64_FORMAT " failed: %s",
      med_rec_get_id (s->rec), why);
  med_rec_abort (s->rec, MED_RECORDING_FAILED, why);
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
    if (in->demux
        && (src == GST_OBJECT (in->demux)
            || gst_object_has_as_ancestor (src, GST_OBJECT (in->demux))))
      return in;
  }
  return NULL;
}

static gboolean
bus_message_received_cb (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  MedSession *s = user_data;

  if (med_rec_handle_message (s->rec, msg)
      || (s->composite && med_rec_handle_message (s->composite, msg)))
    return G_SOURCE_CONTINUE;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_APPLICATION: {
      const GstStructure *st = gst_message_get_structure (msg);
      guint index = G_MAXUINT;
      MedInput *in;

      if (st == NULL || !gst_structure_get_uint (st, "input", &index)
          || index >= s->inputs->len)
        break;
      in = s->inputs->pdata[index];
      if (gst_structure_has_name (st, "med-input-back"))
        med_input_came_back (in);
      else if (gst_structure_has_name (st, "med-input-video"))
        med_input_wait_for_audio (in);
      else if (gst_structure_has_name (st, "med-input-note")) {
        const char *detail = gst_structure_get_string (st, "detail");

        g_message ("input %u: %s", index + 1, detail);
        med_session_input_event (s, in, MED_RECORDING_EVENT_GAP, detail);
      } else if (gst_structure_has_name (st, "med-input-eos") && s->started
          && !s->stopping && !s->finished)
        med_input_schedule_retry (in, "the input ended its stream");
      break;
    }
    case GST_MESSAGE_LATENCY:
      /* A camera joined (or came back) with its own latency: the live
       * composite takes it into account. */
      if (s->composite != NULL)
        gst_bin_recalculate_latency (GST_BIN (s->pipeline));
      break;
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      g_message ("recording %" G_GINT64_FORMAT ": %s: %s",
          med_rec_get_id (s->rec), GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
          err->message);
      break;
    }
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree char *debug = NULL;
      g_autofree char *why = NULL;
      MedInput *in;

      gst_message_parse_error (msg, &err, &debug);
      in = find_input (s, GST_MESSAGE_SRC (msg));
      /* GStreamer's detail may quote a camera's URI with its credentials. */
      if (in == NULL || !in->live_remote)
        g_debug ("recording %" G_GINT64_FORMAT ": %s", med_rec_get_id (s->rec),
            debug ? debug : "");
      if (in != NULL && med_input_can_retry (in) && s->stopping) {
        /* Stopping: its chains already got their EOS below the source. */
        g_message ("recording %" G_GINT64_FORMAT ": input %u: %s while "
                   "stopping",
            med_rec_get_id (s->rec), in->index + 1, err->message);
        break;
      }
      if (in != NULL && med_input_can_retry (in) && s->started && !s->stopping
          && g_atomic_int_get (&in->flowed)) {
        /* A live input dropped after it had delivered: a gap, retried. */
        med_input_schedule_retry (in, err->message);
        break;
      }
      why = g_strdup_printf ("%s%s%s: %s", in ? "input " : "",
          in ? in->redacted : "",
          in ? "" : GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      fail (s, why);
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

/* A recorder in dir (created by the caller). The session's own has the
 * recording row; the composite's (row 0) names the session's in its
 * manifest. (transfer full) */
static MedRec *
make_recorder (MedSession *s, const MedSessionConfig *c, const char *dir,
    const char *name, gboolean with_row, GError **error)
{
  MedRecConfig rc = { 0 };
  MedRec *rec;

  rc.store = with_row ? s->store : NULL;
  rc.booking_id = c->booking_id;
  rc.regime = c->regime;
  rc.actor = s->actor;
  rc.recording_id = s->rec ? med_rec_get_id (s->rec) : 0;
  rc.dir = dir;
  rc.name = name;
  rc.segment_ns = c->segment_ns;
  rc.bin = GST_BIN (s->pipeline);
  rec = med_rec_new (&rc, error);
  if (rec != NULL)
    med_rec_set_done_func (rec, rec_done_cb, s);
  return rec;
}

/* The composite: grid, mix, stamp, one encode, recorded and live. */
static gboolean
build_composite (MedSession *s, const MedSessionConfig *c, GError **error)
{
  g_autofree char *cdir = g_build_filename (s->dir, "composite", NULL);
  g_autofree char *hdir = g_build_filename (s->dir, "hls", NULL);
  g_autofree char *seg = g_build_filename (hdir, "segment%05d.ts", NULL);
  GstElement *comp, *conv, *stamp, *conv2, *enc, *parse, *parse2, *tee, *q2,
      *hls;
  GstElement *mix = NULL, *rtsp_branch = NULL;
  guint n = 0, cols, w, h;
  gboolean any_audio = FALSE, dynamic = FALSE;

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
  s->composite = make_recorder (s, c, cdir, "composite-recorder", FALSE, error);
  if (s->composite == NULL)
    return FALSE;
  comp = make ("compositor", "grid", error);
  conv = comp ? make ("videoconvert", NULL, error) : NULL;
  stamp = conv ? make ("medstamp", "stamp", error) : NULL;
  conv2 = stamp ? make ("videoconvert", NULL, error) : NULL;
  enc = conv2 ? make ("x264enc", "composite-enc", error) : NULL;
  parse = enc ? make ("h264parse", NULL, error) : NULL;
  tee = parse ? make ("tee", NULL, error) : NULL;
  q2 = tee ? make ("queue", NULL, error) : NULL;
  hls = q2 ? make ("hlssink2", "live", error) : NULL;
  if (hls == NULL)
    return FALSE;
  g_object_set (comp, "background", 1 /* black */, NULL);
  for (guint i = 0; i < s->inputs->len; i++)
    dynamic |= ((MedInput *) s->inputs->pdata[i])->dynamic;
  if (dynamic)
    /* A camera's pads (and its latency: jitter buffer, decoder) come once
     * playing: the live grid waits that long for every cell from the start,
     * so a camera's late-reported latency does not make its frames late. */
    g_object_set (comp, "min-upstream-latency", REMOTE_GRID_LATENCY, NULL);
  g_object_set (stamp, "case-id", c->case_number ? c->case_number : "", "room",
      c->room ? c->room : "", NULL);
  if (c->zone)
    g_object_set (stamp, "zone", c->zone, NULL);
  gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
  gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "ultrafast");
  g_object_set (enc, "key-int-max", 30, "bitrate", 2000, NULL);
  g_object_set (q2, "leaky", 2, NULL);
  if (c->rtsp_port > 0) {
    GstElement *q3 = make ("queue", NULL, error);
    GstElement *parse3 = q3 ? make ("h264parse", NULL, error) : NULL;
    GstElement *sink = parse3 ? make ("appsink", "rtsp-feed", error) : NULL;
    g_autoptr (GstCaps) bs
        = gst_caps_new_simple ("video/x-h264", "stream-format", G_TYPE_STRING,
            "byte-stream", "alignment", G_TYPE_STRING, "au", NULL);

    if (sink == NULL)
      return FALSE;
    g_object_set (q3, "leaky", 2, "max-size-time", (guint64) GST_SECOND, NULL);
    g_object_set (parse3, "config-interval", -1, NULL);
    g_object_set (sink, "caps", bs, "sync", FALSE, "async", FALSE,
        "emit-signals", TRUE, "max-buffers", 60, "drop", TRUE, NULL);
    g_signal_connect_data (sink, "new-sample", G_CALLBACK (rtsp_sample_cb),
        g_atomic_rc_box_acquire (s->feed), feed_release, 0);
    gst_bin_add_many (GST_BIN (s->pipeline), q3, parse3, sink, NULL);
    rtsp_branch = q3;
    if (!gst_element_link_many (q3, parse3, sink, NULL)) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link the RTSP feed");
      return FALSE;
    }
  }
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
  gst_bin_add_many (GST_BIN (s->pipeline), parse, q2, parse2, hls, NULL);
  /* the recorder's queue follows its parser (med-rec) */
  if ((rtsp_branch && !gst_element_link (tee, rtsp_branch))
      || !gst_element_link (tee, parse)
      || !gst_element_link_many (tee, q2, parse2, NULL)
      || !attach_recorded (s, s->composite, enc, parse, TRUE, NULL, error)) {
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
    if (in->dynamic)
      /* A camera away shows as an empty (black) cell, not a still picture
       * of the room as it was. */
      g_object_set (sink, "max-last-buffer-repeat", REMOTE_CELL_HOLD, NULL);
    src = gst_element_get_static_pad (scale, "src");
    if (gst_pad_link (src, sink) != GST_PAD_LINK_OK) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link input %u to the grid", i + 1);
      return FALSE;
    }
    k++;
    /* a remote input's audio, if it has any, joins the mix once found */
    any_audio |= in->raw_audio != NULL || in->dynamic;
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
          || !attach_recorded (s, s->composite, aparse, NULL, FALSE, NULL,
              error))
        return FALSE;
    }
    s->mix = mix;
    if (dynamic) {
      /* Cameras' audio comes (and goes) once playing: a live silence
       * keeps the mix going without them. */
      GstElement *src = make ("audiotestsrc", "silence", error);
      GstElement *caps = src ? make ("capsfilter", NULL, error) : NULL;
      g_autoptr (GstCaps) ac = gst_caps_new_simple ("audio/x-raw", "rate",
          G_TYPE_INT, 48000, "channels", G_TYPE_INT, 2, NULL);

      if (caps == NULL)
        return FALSE;
      gst_util_set_object_arg (G_OBJECT (src), "wave", "silence");
      g_object_set (src, "is-live", TRUE, NULL);
      g_object_set (caps, "caps", ac, NULL);
      g_object_set (mix, "min-upstream-latency", REMOTE_GRID_LATENCY, NULL);
      gst_bin_add_many (GST_BIN (s->pipeline), src, caps, NULL);
      if (!gst_element_link_many (src, caps, mix, NULL)) {
        g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
            "cannot link the silence to the mix");
        return FALSE;
      }
      s->silence = src;
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
  if (!check_rtsp (c, error))
    return NULL;
  if (c->dir == NULL || !g_path_is_absolute (c->dir)) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_IO,
        "the recording directory must be an absolute path");
    return NULL;
  }
  if (!med_rec_check_consent (store, c->booking_id, c->regime, error))
    return NULL;
  if (!prepare_dir (c->dir, error))
    return NULL;

  s = g_new0 (MedSession, 1);
  s->store = store;
  s->actor = g_strdup (c->actor ? c->actor : "media");
  s->dir = g_strdup (c->dir);
  s->booking_id = c->booking_id;
  g_mutex_init (&s->lock);
  g_cond_init (&s->pads_cond);
  s->feed = feed_new ();
  s->gates = g_ptr_array_new_with_free_func ((GDestroyNotify) gate_free);
  s->inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) med_input_free);
  s->pipeline = gst_object_ref_sink (gst_pipeline_new ("session"));
  s->rec = make_recorder (s, c, s->dir, "recorder", TRUE, error);
  if (s->rec == NULL)
    return NULL;
  for (guint i = 0; c->inputs[i]; i++) {
    MedInput *in
        = med_input_build (s->pipeline, i, c->inputs[i], c->composite, error);
    Gate *vg, *ag = NULL;

    if (in == NULL)
      goto failed;
    in->session = s;
    g_ptr_array_add (s->inputs, in);
    vg = attach_recorded (s, s->rec, in->video_out, in->video_split, TRUE, NULL,
        error);
    if (vg == NULL
        || (in->audio_out
            && (ag = attach_recorded (s, s->rec, in->audio_out, NULL, FALSE, vg,
                    error))
                == NULL))
      goto failed;
    if (in->dynamic)
      g_atomic_int_inc (&s->pending_pads);
    vg->input = in;
    /* a camera's audio may start a little after its video */
    med_rec_track_wait_for_audio (vg->track, in->dynamic);
    if (in->live_remote)
      watch_remote (vg, in);
    if (ag != NULL) {
      ag->input = in;
      if (in->live_remote)
        watch_remote (ag, in);
    }
  }
  if (c->composite && !build_composite (s, c, error))
    goto failed;
  if (c->rtsp_port > 0 && !start_rtsp (s, c, error))
    goto failed;
  med_rec_attach (s->rec, error);
  if (s->composite)
    med_rec_attach (s->composite, error);
  if (error && *error)
    goto failed;

  bus = gst_element_get_bus (s->pipeline);
  s->bus_watch = gst_bus_add_watch (bus, bus_message_received_cb, s);
  return g_steal_pointer (&s);

failed:
  if (error && *error)
    med_rec_abort (s->rec, MED_RECORDING_FAILED, (*error)->message);
  return NULL;
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
  if (g_atomic_int_get (&s->pending_pads) > 0)
    s->pads_timeout = g_timeout_add_seconds (PADS_WAIT_S, pads_timeout_cb, s);
  med_rec_start (s->rec, NULL, NULL, FALSE);
  if (s->composite)
    med_rec_start (s->composite, NULL, NULL, FALSE);
  if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* The explanation comes as a bus ERROR; if none does, say so here. */
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "the session pipeline could not start");
    return FALSE;
  }
  g_info ("recording %" G_GINT64_FORMAT " started", med_rec_get_id (s->rec));
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
  if (s->paused) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        "the session is already paused");
    return FALSE;
  }
  s->paused = TRUE;
  med_rec_pause (s->rec, "private caucus");
  if (s->composite)
    med_rec_pause (s->composite, NULL);
  return TRUE;
}

gboolean
med_session_resume (MedSession *s, GError **error)
{
  if (!check_live (s, error))
    return FALSE;
  if (!s->paused) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        "the session is not paused");
    return FALSE;
  }
  s->paused = FALSE;
  med_rec_resume (s->rec, "private caucus ended");
  if (s->composite)
    med_rec_resume (s->composite, NULL);
  return TRUE;
}

gboolean
med_session_is_paused (MedSession *s)
{
  return s->paused;
}

void
med_session_stop (MedSession *s)
{
  med_session_stop_because (s, NULL);
}

void
med_session_stop_because (MedSession *s, const char *why)
{
  if (!s->started || s->stopping || s->finished)
    return;
  s->stopping = TRUE;
  g_atomic_int_set (&s->eos_ok, 1);
  med_rec_stop (s->rec, why, FALSE, 0);
  if (s->composite)
    med_rec_stop (s->composite, why, FALSE, 0);
  /* EOS into every source: each branch drains into the recorders, whose
   * live part then closes (med-rec finishes and seals them). */
  for (guint i = 0; i < s->inputs->len; i++)
    med_input_send_eos (s->inputs->pdata[i]);
  if (s->silence)
    gst_element_send_event (s->silence, gst_event_new_eos ());
}

void
med_session_abort (MedSession *s, const char *why)
{
  if (s->finished)
    return;
  wake_gates (s);
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  if (s->composite)
    med_rec_abort (s->composite, MED_RECORDING_STOPPED, why);
  /* the row stopped with why; finish () through rec_done_cb */
  med_rec_abort (s->rec, MED_RECORDING_STOPPED, why);
}

gint64
med_session_get_recording_id (MedSession *s)
{
  return med_rec_get_id (s->rec);
}

const char *
med_session_get_rtsp_url (MedSession *s)
{
  return s->rtsp_url;
}

const char *
med_session_get_playlist (MedSession *s)
{
  return s->playlist;
}

gboolean
med_session_has_media (MedSession *s)
{
  return med_rec_has_media (s->rec);
}

gboolean
med_session_is_finished (MedSession *s)
{
  return s->finished;
}

/* The finished func runs once, on the main context (med_session_new). */
void
med_session_set_finished_func (MedSession *s, MedSessionFinishedFunc func,
    gpointer user_data)
{
  g_return_if_fail (s != NULL && !s->finished);
  s->finished_func = func;
  s->finished_data = user_data;
}

void
med_session_free (MedSession *s)
{
  if (s == NULL)
    return;
  g_idle_remove_by_data (s);
  if (s->bus_watch)
    g_source_remove (s->bus_watch);
  if (s->pads_timeout)
    g_source_remove (s->pads_timeout);
  if (s->pipeline) {
    wake_gates (s);
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
  }
  g_clear_pointer (&s->composite, med_rec_free);
  g_clear_pointer (&s->rec, med_rec_free);
  g_clear_pointer (&s->inputs, g_ptr_array_unref);
  g_clear_pointer (&s->gates, g_ptr_array_unref);
  gst_clear_object (&s->pipeline);
  g_free (s->actor);
  g_free (s->dir);
  g_free (s->playlist);
  stop_rtsp (s);
  g_free (s->rtsp_url);
  if (s->feed)
    g_atomic_rc_box_release_full (s->feed, (GDestroyNotify) feed_clear);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->pads_cond);
  g_free (s);
}

static gboolean
sync_peer_cb (GstElement *e, GstPad *pad, gpointer user_data)
{
  g_autoptr (GstPad) peer = gst_pad_get_peer (pad);
  g_autoptr (GstElement) next = peer ? gst_pad_get_parent_element (peer) : NULL;

  if (next)
    gst_element_sync_state_with_parent (next);
  return TRUE;
}

gboolean
med_session_attach_input_audio (MedSession *s, MedInput *in, GstElement *parse,
    GError **error)
{
  Gate *vg = NULL, *ag;

  g_mutex_lock (&s->lock);
  for (guint i = 0; i < s->gates->len; i++) {
    Gate *g = s->gates->pdata[i];

    if (g->is_video && g->input == in)
      vg = g;
  }
  g_mutex_unlock (&s->lock);
  /* Starts with its video, like a test input's audio. */
  ag = attach_recorded (s, s->rec, parse, in->audio_split, FALSE, vg, error);
  if (ag == NULL)
    return FALSE;
  ag->input = in;
  if (in->live_remote)
    watch_remote (ag, in);
  med_rec_attach (s->rec, error);
  if (in->audio_split != NULL)
    gst_element_foreach_src_pad (in->audio_split, sync_peer_cb, NULL);
  if (s->mix != NULL && in->raw_audio != NULL) {
    GstElement *q = gst_element_factory_make ("queue", NULL);

    g_object_set (q, "leaky", 2, "max-size-time", (guint64) GST_SECOND, NULL);
    gst_bin_add (GST_BIN (s->pipeline), q);
    if (!gst_element_link (in->raw_audio, q) || !gst_element_link (q, s->mix))
      g_warning ("input %u: its audio is left out of the composite: cannot "
                 "link it to the mix",
          in->index + 1);
    gst_element_sync_state_with_parent (q);
  }
  return TRUE;
}

void
med_session_input_pads_known (MedSession *s, MedInput *in)
{
  if (g_atomic_int_compare_and_exchange (&in->pads_done, 0, 1) && in->dynamic
      && g_atomic_int_dec_and_test (&s->pending_pads)) {
    g_mutex_lock (&s->lock);
    g_cond_broadcast (&s->pads_cond);
    g_mutex_unlock (&s->lock);
  }
}

/* Some dynamic input did not announce all its streams in time (a camera
 * still connecting, an SRT listener without caller): record without its
 * audio rather than hold every other input back. */
static gboolean
pads_timeout_cb (gpointer user_data)
{
  MedSession *s = user_data;

  s->pads_timeout = 0;
  for (guint i = 0; i < s->inputs->len; i++) {
    MedInput *in = s->inputs->pdata[i];

    if (in->dynamic && !g_atomic_int_get (&in->pads_done)) {
      g_message ("recording %" G_GINT64_FORMAT ": input %u: streams not "
                 "known after %u s; recording it without audio",
          med_rec_get_id (s->rec), i + 1, PADS_WAIT_S);
      med_session_input_pads_known (s, in);
    }
  }
  return G_SOURCE_REMOVE;
}

/* Called by an input on the main context when it restarted or gave up. */
void
med_session_input_event (MedSession *s, MedInput *in, MedRecordingEvent kind,
    const char *detail)
{
  g_autofree char *d = g_strdup_printf ("input %s: %s", in->redacted, detail);

  med_rec_log (s->rec, kind, d);
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
