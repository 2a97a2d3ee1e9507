/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-rec.c — one recording branch (see med-rec.h): the recorder element
 * with its store row, the gates and queues of its tracks, stopping, and
 * the offline finish on a worker thread. Used by the session pipeline and
 * by the WebRTC call alike.
 *
 *   gate_pad ══(gate probe)══► … ─► link_pad ─► queue ══(re-time probe)══►
 *       medrecorder (finish=false) ─► "medrecorder-closed"
 *       ─► gst_med_recording_finish on the finish pool ─► row sealed
 *
 * The gate (one probe on gate_pad; other code must not probe buffers
 * there, since held buffers are pushed through that pad again) drops
 * everything while closed, video until a keyframe (asking the source for
 * one at most once a second), audio until its video started (what came
 * early waits and goes in if it ends after that start), and holds any
 * buffer whose time is not known yet (a sender's clock still without its
 * first report). The re-time probe on the queue's sink pad gives the
 * recorder a plain segment and each buffer its recording time: the
 * track's time (running time, or the time function's) minus the
 * recorder's origin (its first buffer), kept strictly increasing per
 * track (decoding time first). */
#define G_LOG_DOMAIN "medsched-media"

#include "med-rec.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/video/video.h>

#include "gstmedfinish.h"
#include "gstmedmanifest.h"

/* the recording rows this module keeps as it records */
#include <med-store-write.h>

/* Buffers a gate may hold (about 5 s of 20 ms audio): beyond that the
 * oldest go (video: all of them, from the next keyframe on). */
#define HELD_MAX 256
/* How long a video track with an audio partner waits for that audio to
 * reach its keyframe (a camera's audio may start after its video). */
#define AV_WAIT (2 * GST_SECOND)

typedef enum
{
  PHASE_IDLE,
  PHASE_LIVE,
  PHASE_ENDING, /* EOS on its way: waiting for medrecorder-closed */
  PHASE_FINISHING, /* the offline part runs */
  PHASE_DONE,
} Phase;

typedef enum
{
  ADMIT_PASS,
  ADMIT_DROP,
  ADMIT_HOLD,
} Admit;

typedef struct _FinishJob FinishJob;

struct _MedRecTrack
{
  MedRec *rec; /* not a reference: the rec owns its tracks */
  gboolean is_video;
  GstPad *gate_pad, *link_pad, *qsink; /* refs */
  GstElement *queue;
  gboolean attached; /* link_pad linked to the queue */
  gulong gate_probe, gate_event_probe, retime_probe;
  /* under rec->lock */
  MedRecTrack *video; /* an audio track's video */
  MedRecTrack *audio; /* a video track's audio */
  gboolean wait_for_audio;
  GstClockTime start; /* video: the first buffer admitted */
  GstClockTime first_key; /* video: the first keyframe that came */
  GstClockTime seen; /* audio: the first buffer that came */
  /* the gate's streaming thread */
  GstSegment gate_seg;
  GMutex hold_lock; /* held and ended: a stop takes what is held */
  GQueue held;
  gboolean ended;
  gboolean replaying;
  gboolean caught_up;
  gboolean logged_start, logged_key; /* MEDSCHED_BENCH_LOG lines */
  gint64 asked_us;
  gint want_keyframe; /* atomic */
  /* the link pad's streaming thread */
  GstSegment link_seg;
  GstClockTime last_out;
  MedRecTimeFunc time_func;
  gpointer time_data;
  GDestroyNotify time_destroy;
  MedRecBacklogFunc backlog_func;
  gpointer backlog_data;
  GDestroyNotify backlog_destroy;
  MedRecFilterFunc filter_func;
  gpointer filter_data;
};

struct _MedRec
{
  gint refs; /* atomic: the owner, each probe, a finish job */
  GMainContext *ctx;
  MedStore *store; /* NULL: no row */
  gint64 id;
  char *actor;
  char *dir;
  char *label;
  gboolean leaky;
  GstBin *bin; /* ref */
  GstElement *recorder;
  GPtrArray *tracks; /* MedRecTrack*, owned; under lock */
  GMutex lock;
  GstClockTime origin; /* under lock */
  gint open; /* atomic */
  gint passed; /* atomic: a buffer reached the recorder */
  gint draining; /* atomic: stopping; a time not known yet is its running
                  * time */
  Phase phase;
  gboolean disposed; /* the owner let go */
  guint n_segments;
  guint timeout_id;
  FinishJob *job; /* while finishing */
  MedRecDoneFunc done_func;
  gpointer done_data;
};

static MedRec *
rec_ref (MedRec *r)
{
  g_atomic_int_inc (&r->refs);
  return r;
}

static void
track_free (MedRecTrack *t)
{
  g_queue_clear_full (&t->held, (GDestroyNotify) gst_buffer_unref);
  g_mutex_clear (&t->hold_lock);
  if (t->time_destroy)
    t->time_destroy (t->time_data);
  if (t->backlog_destroy)
    t->backlog_destroy (t->backlog_data);
  gst_clear_object (&t->gate_pad);
  gst_clear_object (&t->link_pad);
  gst_clear_object (&t->qsink);
  g_free (t);
}

static void
rec_unref (gpointer data)
{
  MedRec *r = data;

  if (!g_atomic_int_dec_and_test (&r->refs))
    return;
  g_ptr_array_unref (r->tracks);
  gst_clear_object (&r->bin);
  g_main_context_unref (r->ctx);
  g_mutex_clear (&r->lock);
  g_free (r->actor);
  g_free (r->dir);
  g_free (r->label);
  g_free (r);
}

/* ---- the row -------------------------------------------------------- */

static void
row_log (MedRec *r, MedRecordingEvent kind, const char *detail)
{
  g_autoptr (GError) err = NULL;

  if (r->store != NULL
      && !med_store_log_recording (r->store, r->id, kind, detail, &err))
    g_warning ("recording %" G_GINT64_FORMAT ": cannot log %s: %s", r->id,
        med_recording_event_to_string (kind), err->message);
}

static void
row_state (MedRec *r, MedRecordingState state, const char *failure)
{
  g_autoptr (GError) err = NULL;
  gboolean live
      = state == MED_RECORDING_RECORDING || state == MED_RECORDING_PAUSED;

  if (r->store != NULL
      && !med_store_set_recording_state (r->store, r->id, state, failure,
          live ? (gint64) getpid () : 0, r->actor, &err))
    g_warning ("recording %" G_GINT64_FORMAT ": cannot set state %s: %s", r->id,
        med_recording_state_to_string (state), err->message);
}

gboolean
med_rec_check_consent (MedStore *store, gint64 booking_id,
    MedRecordingRegime regime, GError **error)
{
  guint missing = 0;

  if (regime != MED_RECORDING_REGIME_MEDIATION)
    return TRUE;
  if (!med_store_consent_complete (store, booking_id, &missing, error))
    return FALSE;
  if (missing > 0) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_CONSENT,
        "mediation sessions are recorded only with every party's consent: "
        "%u part%s of booking %" G_GINT64_FORMAT " did not consent",
        missing, missing == 1 ? "y" : "ies", booking_id);
    return FALSE;
  }
  return TRUE;
}

/* ---- keyframes ------------------------------------------------------ */

static gint keyframe_count; /* atomic */

void
med_media_ask_keyframe (GstPad *pad)
{
  gint count = g_atomic_int_add (&keyframe_count, 1) & 0x3fffffff;
  GstEvent *ev
      = gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          (guint) count);

  g_autoptr (GstElement) owner = NULL;
  g_autoptr (GstPad) sink = NULL;
  GstElementFactory *f;

  if (pad == NULL) {
    gst_event_unref (ev);
    return;
  }
  if (GST_PAD_IS_SINK (pad)) {
    gst_pad_push_event (pad, ev); /* to its peer, upstream */
    return;
  }
  /* A tee's branch pad may carry probes that stop requests coming from
   * downstream (med-call's forwarding): go round them, from the tee's
   * sink pad. Any other element takes it on its src pad (a parser passes
   * it on and knows a keyframe is coming). */
  owner = gst_pad_get_parent_element (pad);
  f = owner ? gst_element_get_factory (owner) : NULL;
  if (f != NULL && g_strcmp0 (GST_OBJECT_NAME (f), "tee") == 0
      && (sink = gst_element_get_static_pad (owner, "sink")) != NULL)
    gst_pad_push_event (sink, ev);
  else
    gst_pad_send_event (pad, ev);
}

/* At most once a second from a gate (a request the source lost is asked
 * again). */
static void
ask_keyframe_limited (MedRecTrack *t, GstPad *pad)
{
  gint64 now = g_get_monotonic_time ();

  if (t->asked_us != 0 && now - t->asked_us < G_USEC_PER_SEC)
    return;
  t->asked_us = now;
  med_media_ask_keyframe (pad);
}

/* MEDSCHED_BENCH_LOG=1: a debug line when a recording's first keyframe is
 * admitted (tests/webrtc/bench measures join time with it). */
static gboolean
bench_log (void)
{
  static gsize once = 0;
  static gboolean on = FALSE;

  if (g_once_init_enter (&once)) {
    on = g_strcmp0 (g_getenv ("MEDSCHED_BENCH_LOG"), "1") == 0;
    g_once_init_leave (&once, 1);
  }
  return on;
}

/* ---- the gate (streaming threads) ----------------------------------- */

typedef enum
{
  TIME_OK,
  TIME_UNKNOWN, /* not yet: hold */
  TIME_NONE, /* never: no timestamp */
} TimeResult;

/* The track's time of ts (a timestamp of buf) in seg. */
static TimeResult
track_time (MedRecTrack *t, GstBuffer *buf, const GstSegment *seg,
    GstClockTime ts, GstClockTime *out)
{
  if (t->time_func != NULL) {
    switch (t->time_func (buf, out, t->time_data)) {
      case MED_REC_TIME_OK:
        return TIME_OK;
      case MED_REC_TIME_WAIT:
        if (!g_atomic_int_get (&t->rec->draining))
          return TIME_UNKNOWN;
        break; /* stopping: what was held goes in as it came */
      case MED_REC_TIME_RUNNING:
        break;
    }
  }
  if (!GST_CLOCK_TIME_IS_VALID (ts) || seg->format != GST_FORMAT_TIME)
    return TIME_NONE;
  *out = gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts);
  return GST_CLOCK_TIME_IS_VALID (*out) ? TIME_OK : TIME_NONE;
}

/* Decisions are taken on the presentation time. */
static GstClockTime
buffer_pts (GstBuffer *buf)
{
  return GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf)
                                       : GST_BUFFER_DTS (buf);
}

static Admit
admit (MedRecTrack *t, GstPad *pad, GstBuffer *buf)
{
  MedRec *r = t->rec;
  GstClockTime ts = GST_CLOCK_TIME_NONE;

  if (t->is_video && g_atomic_int_get (&t->want_keyframe)) {
    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      ask_keyframe_limited (t, pad);
      return ADMIT_DROP;
    }
    g_atomic_int_set (&t->want_keyframe, 0);
    /* the recording starts with this picture (written once its time is
     * known, below) */
    if (!t->logged_start && bench_log () && r->label != NULL) {
      t->logged_start = TRUE;
      g_debug ("bench: %s first-keyframe-recorded us=%" G_GINT64_FORMAT,
          r->label, g_get_real_time ());
    }
  }
  switch (track_time (t, buf, &t->gate_seg, buffer_pts (buf), &ts)) {
    case TIME_NONE:
      return ADMIT_DROP;
    case TIME_UNKNOWN:
      return ADMIT_HOLD;
    case TIME_OK:
      break;
  }
  if (!t->is_video) {
    GstClockTime vstart = GST_CLOCK_TIME_NONE;
    gboolean has_video;

    g_mutex_lock (&r->lock);
    if (!GST_CLOCK_TIME_IS_VALID (t->seen))
      t->seen = ts;
    has_video = t->video != NULL;
    if (has_video)
      vstart = t->video->start;
    g_mutex_unlock (&r->lock);
    if (!has_video)
      return ADMIT_PASS;
    if (!GST_CLOCK_TIME_IS_VALID (vstart))
      return ADMIT_HOLD; /* audio starts with its video */
    if (GST_BUFFER_DURATION_IS_VALID (buf))
      ts += GST_BUFFER_DURATION (buf);
    return ts <= vstart ? ADMIT_DROP : ADMIT_PASS;
  }
  g_mutex_lock (&r->lock);
  if (!GST_CLOCK_TIME_IS_VALID (t->start)) {
    if (!GST_CLOCK_TIME_IS_VALID (t->first_key))
      t->first_key = ts;
    /* A source whose audio may come a little after its video starts at a
     * keyframe its audio has reached, unless that takes over AV_WAIT. */
    if (t->wait_for_audio && t->audio != NULL && ts < t->first_key + AV_WAIT
        && (!GST_CLOCK_TIME_IS_VALID (t->audio->seen) || ts < t->audio->seen)) {
      g_mutex_unlock (&r->lock);
      g_atomic_int_set (&t->want_keyframe, 1);
      t->asked_us = 0; /* ask for the next keyframe now */
      return ADMIT_DROP;
    }
    t->start = ts;
  }
  g_mutex_unlock (&r->lock);
  if (!t->logged_key && bench_log () && r->label != NULL) {
    t->logged_key = TRUE;
    g_debug ("bench: %s first-keyframe-written us=%" G_GINT64_FORMAT, r->label,
        g_get_real_time ());
  }
  return ADMIT_PASS;
}

/* Sends on what the gate held, in order, as far as it may go now. */
static void
flush_held (MedRecTrack *t, GstPad *pad)
{
  GstBuffer *b;

  while ((b = g_queue_peek_head (&t->held)) != NULL) {
    Admit a = admit (t, pad, b);

    if (a == ADMIT_HOLD)
      break;
    g_queue_pop_head (&t->held);
    if (a == ADMIT_DROP) {
      gst_buffer_unref (b);
      continue;
    }
    t->replaying = TRUE;
    gst_pad_push (pad, b);
    t->replaying = FALSE;
  }
  while (t->held.length > HELD_MAX) {
    gst_buffer_unref (g_queue_pop_head (&t->held));
    if (t->is_video) {
      /* what is left starts mid-picture-group */
      g_queue_clear_full (&t->held, (GDestroyNotify) gst_buffer_unref);
      g_atomic_int_set (&t->want_keyframe, 1);
    }
  }
}

static GstPadProbeReturn
gate_decide (MedRecTrack *t, GstPad *pad, GstPadProbeInfo *info)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (t->ended)
    return GST_PAD_PROBE_DROP; /* stopped: what was held is gone in */
  if (!g_atomic_int_get (&t->rec->open)) {
    g_queue_clear_full (&t->held, (GDestroyNotify) gst_buffer_unref);
    return GST_PAD_PROBE_DROP;
  }
  if (t->filter_func != NULL) {
    if (!t->filter_func (pad, &buf, t->filter_data))
      return GST_PAD_PROBE_DROP;
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  if (t->backlog_func != NULL && !t->caught_up) {
    g_autoptr (GPtrArray) old = t->backlog_func (buf, t->backlog_data);

    t->caught_up = TRUE;
    for (guint i = 0; old != NULL && i < old->len; i++)
      g_queue_push_tail (&t->held, gst_buffer_ref (old->pdata[i]));
  }
  if (t->held.length == 0) {
    switch (admit (t, pad, buf)) {
      case ADMIT_PASS:
        return GST_PAD_PROBE_OK;
      case ADMIT_DROP:
        return GST_PAD_PROBE_DROP;
      case ADMIT_HOLD:
        break;
    }
  }
  g_queue_push_tail (&t->held, gst_buffer_ref (buf));
  flush_held (t, pad);
  return GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
gate_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MedRecTrack *t = user_data;
  GstPadProbeReturn ret;

  if (t->replaying)
    return GST_PAD_PROBE_OK; /* held, and admitted */
  g_mutex_lock (&t->hold_lock);
  ret = gate_decide (t, pad, info);
  g_mutex_unlock (&t->hold_lock);
  return ret;
}

static GstPadProbeReturn
gate_event_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MedRecTrack *t = user_data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT)
    gst_event_copy_segment (ev, &t->gate_seg);
  return GST_PAD_PROBE_OK;
}

/* ---- re-timing (the link pad's streaming thread) -------------------- */

static GstClockTime
since_origin (GstClockTime t, GstClockTime origin)
{
  return t > origin ? t - origin : 0;
}

static GstPadProbeReturn
retime_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MedRecTrack *t = user_data;
  MedRec *r = t->rec;
  GstBuffer *buf;
  GstClockTime pts = GST_CLOCK_TIME_NONE, dts = GST_CLOCK_TIME_NONE, origin;
  GstClockTime *last = &t->last_out, order;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    GstSegment plain;
    GstEvent *plain_ev;

    if (GST_EVENT_TYPE (ev) != GST_EVENT_SEGMENT)
      return GST_PAD_PROBE_OK;
    /* The recorder gets recording time from zero: a new segment upstream
     * (a restarted source, rtpbin's lip-sync) cannot move it. */
    gst_event_copy_segment (ev, &t->link_seg);
    gst_segment_init (&plain, GST_FORMAT_TIME);
    plain_ev = gst_event_new_segment (&plain);
    gst_event_set_seqnum (plain_ev, gst_event_get_seqnum (ev));
    gst_event_unref (ev);
    GST_PAD_PROBE_INFO_DATA (info) = plain_ev;
    return GST_PAD_PROBE_OK;
  }
  buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (track_time (t, buf, &t->link_seg, buffer_pts (buf), &pts) != TIME_OK)
    return GST_PAD_PROBE_DROP;
  if (GST_BUFFER_DTS_IS_VALID (buf) && GST_BUFFER_PTS_IS_VALID (buf)) {
    /* the decoding time keeps its distance to the presentation time */
    GstClockTime ahead = GST_BUFFER_PTS (buf) > GST_BUFFER_DTS (buf)
        ? GST_BUFFER_PTS (buf) - GST_BUFFER_DTS (buf)
        : 0;

    dts = pts - MIN (pts, ahead);
  } else if (GST_BUFFER_DTS_IS_VALID (buf)) {
    dts = pts;
  }
  g_mutex_lock (&r->lock);
  if (!GST_CLOCK_TIME_IS_VALID (r->origin))
    r->origin = GST_CLOCK_TIME_IS_VALID (dts) ? MIN (dts, pts) : pts;
  origin = r->origin;
  g_mutex_unlock (&r->lock);

  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = since_origin (pts, origin);
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_IS_VALID (dts)
      ? since_origin (dts, origin)
      : GST_CLOCK_TIME_NONE;
  /* Never backwards (decoding order): a muxer fails the whole recording
   * on a timestamp that goes back. */
  order = GST_BUFFER_DTS_IS_VALID (buf) ? GST_BUFFER_DTS (buf)
                                        : GST_BUFFER_PTS (buf);
  if (GST_CLOCK_TIME_IS_VALID (*last) && order <= *last) {
    GstClockTime step = *last + 1 - order;

    if (step > GST_MSECOND)
      g_debug ("recording %" G_GINT64_FORMAT ": a %s time went back %.1f ms; "
               "kept increasing",
          r->id, t->is_video ? "video" : "audio", (double) step / GST_MSECOND);
    GST_BUFFER_PTS (buf) += step;
    if (GST_BUFFER_DTS_IS_VALID (buf))
      GST_BUFFER_DTS (buf) += step;
    order += step;
  }
  *last = order;
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  g_atomic_int_set (&r->passed, 1);
  return GST_PAD_PROBE_OK;
}

/* ---- building ------------------------------------------------------- */

MedRec *
med_rec_new (const MedRecConfig *c, GError **error)
{
  MedRec *r;
  g_autofree char *rid = NULL;

  r = g_new0 (MedRec, 1);
  r->refs = 1;
  r->ctx = g_main_context_ref_thread_default ();
  r->store = c->store;
  r->actor = g_strdup (c->actor ? c->actor : "media");
  r->dir = g_strdup (c->dir);
  r->label = g_strdup (c->label);
  r->leaky = c->leaky;
  r->bin = gst_object_ref (c->bin);
  r->tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) track_free);
  r->origin = GST_CLOCK_TIME_NONE;
  g_mutex_init (&r->lock);
  r->id = c->recording_id;
  if (c->store != NULL) {
    r->id = med_store_add_recording (c->store, c->booking_id, c->regime, c->dir,
        r->actor, error);
    if (r->id == 0)
      goto failed;
  }
  r->recorder = gst_element_factory_make ("medrecorder", c->name);
  if (r->recorder == NULL) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_MISSING,
        "GStreamer element medrecorder is not installed");
    goto failed;
  }
  rid = g_strdup_printf ("%" G_GINT64_FORMAT, r->id);
  /* The offline part runs here, off the pipeline, once the live part
   * closed (med_rec_handle_message). */
  g_object_set (r->recorder, "location", c->dir, "recording-id", rid, "finish",
      FALSE, NULL);
  if (c->segment_ns > 0)
    g_object_set (r->recorder, "segment-duration", c->segment_ns, NULL);
  gst_bin_add (r->bin, r->recorder);
  return r;

failed:
  if (r->id != 0 && r->store != NULL && error && *error) {
    row_state (r, MED_RECORDING_FAILED, (*error)->message);
    row_log (r, MED_RECORDING_EVENT_FAILURE, (*error)->message);
  }
  r->disposed = TRUE;
  rec_unref (r);
  return NULL;
}

void
med_rec_set_done_func (MedRec *r, MedRecDoneFunc func, gpointer data)
{
  r->done_func = func;
  r->done_data = data;
}

gint64
med_rec_get_id (MedRec *r)
{
  return r->store != NULL ? r->id : 0;
}

GstElement *
med_rec_get_element (MedRec *r)
{
  return r->recorder;
}

MedRecTrack *
med_rec_add_track (MedRec *r, GstPad *gate_pad, GstPad *link_pad,
    gboolean is_video, MedRecTrack *video, GError **error)
{
  MedRecTrack *t = g_new0 (MedRecTrack, 1);
  g_autoptr (GstPad) qsrc = NULL;
  g_autoptr (GstPad) recpad = NULL;
  g_autoptr (GstEvent) seg = NULL;

  t->rec = r;
  t->is_video = is_video;
  t->start = t->first_key = t->seen = t->last_out = GST_CLOCK_TIME_NONE;
  t->want_keyframe = is_video; /* video starts at a keyframe */
  g_queue_init (&t->held);
  g_mutex_init (&t->hold_lock);
  gst_segment_init (&t->gate_seg, GST_FORMAT_TIME);
  gst_segment_init (&t->link_seg, GST_FORMAT_TIME);
  seg = gst_pad_get_sticky_event (gate_pad, GST_EVENT_SEGMENT, 0);
  if (seg != NULL)
    gst_event_copy_segment (seg, &t->gate_seg);
  t->gate_pad = gst_object_ref (gate_pad);
  t->link_pad = gst_object_ref (link_pad);
  {
    static gint n_queues; /* atomic */
    /* a name its streaming thread shows (thread CPU by name) */
    g_autofree char *qname
        = g_strdup_printf ("recq%d", g_atomic_int_add (&n_queues, 1));

    t->queue = gst_element_factory_make ("queue", qname);
  }
  if (t->queue == NULL) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_MISSING,
        "GStreamer element queue is not installed");
    track_free (t);
    return NULL;
  }
  /* Leaky for a call: a stalled recorder loses media (and says so in its
   * segments' timing), it never stalls the call. */
  g_object_set (t->queue, "max-size-time", (guint64) 3 * GST_SECOND,
      "max-size-bytes", 0, "max-size-buffers", 0, "leaky", r->leaky ? 2 : 0,
      NULL);
  gst_bin_add (r->bin, t->queue);
  t->qsink = gst_element_get_static_pad (t->queue, "sink");
  qsrc = gst_element_get_static_pad (t->queue, "src");
  recpad = gst_element_request_pad_simple (r->recorder,
      is_video ? "video_%u" : "audio_%u");
  if (recpad == NULL || gst_pad_link (qsrc, recpad) != GST_PAD_LINK_OK) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
        "cannot link a %s stream to its recorder (it took its streams "
        "already)",
        is_video ? "video" : "audio");
    gst_bin_remove (r->bin, t->queue);
    track_free (t);
    return NULL;
  }
  t->gate_probe = gst_pad_add_probe (gate_pad, GST_PAD_PROBE_TYPE_BUFFER,
      gate_probe_cb, t, rec_unref);
  rec_ref (r);
  t->gate_event_probe = gst_pad_add_probe (gate_pad,
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, gate_event_cb, t, rec_unref);
  rec_ref (r);
  t->retime_probe = gst_pad_add_probe (t->qsink,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      retime_probe_cb, t, rec_unref);
  rec_ref (r);
  g_mutex_lock (&r->lock);
  g_ptr_array_add (r->tracks, t);
  g_mutex_unlock (&r->lock);
  if (video != NULL)
    med_rec_track_set_video (t, video);
  return t;
}

void
med_rec_track_set_video (MedRecTrack *audio, MedRecTrack *video)
{
  MedRec *r = audio->rec;

  g_mutex_lock (&r->lock);
  audio->video = video;
  if (video != NULL)
    video->audio = audio;
  g_mutex_unlock (&r->lock);
}

void
med_rec_track_wait_for_audio (MedRecTrack *video, gboolean wait)
{
  g_mutex_lock (&video->rec->lock);
  video->wait_for_audio = wait;
  g_mutex_unlock (&video->rec->lock);
}

void
med_rec_track_set_time_func (MedRecTrack *t, MedRecTimeFunc func, gpointer data,
    GDestroyNotify destroy)
{
  t->time_func = func;
  t->time_data = data;
  t->time_destroy = destroy;
}

void
med_rec_track_set_backlog_func (MedRecTrack *t, MedRecBacklogFunc func,
    gpointer data, GDestroyNotify destroy)
{
  t->backlog_func = func;
  t->backlog_data = data;
  t->backlog_destroy = destroy;
}

void
med_rec_track_set_filter (MedRecTrack *t, MedRecFilterFunc func, gpointer data)
{
  t->filter_func = func;
  t->filter_data = data;
}

void
med_rec_track_want_keyframe (MedRecTrack *t)
{
  if (t->is_video) {
    g_atomic_int_set (&t->want_keyframe, 1);
    t->asked_us = 0;
  }
}

/* Links every track not linked yet (their queues and the recorder running
 * like their bin first, so nothing is pushed into a stopped pad). */
void
med_rec_attach (MedRec *r, GError **error)
{
  g_autoptr (GPtrArray) unlinked = g_ptr_array_new ();

  gst_element_sync_state_with_parent (r->recorder);
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->tracks->len; i++) {
    MedRecTrack *t = r->tracks->pdata[i];

    if (!t->attached) {
      t->attached = TRUE;
      g_ptr_array_add (unlinked, t);
    }
  }
  g_mutex_unlock (&r->lock);
  for (guint i = 0; i < unlinked->len; i++) {
    MedRecTrack *t = unlinked->pdata[i];

    gst_element_sync_state_with_parent (t->queue);
    if (gst_pad_link (t->link_pad, t->qsink) != GST_PAD_LINK_OK && error != NULL
        && *error == NULL)
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link a stream to its recorder's queue");
  }
}

/* ---- court rules ---------------------------------------------------- */

static void
open_gates (MedRec *r)
{
  g_autoptr (GPtrArray) video = g_ptr_array_new ();

  if (g_atomic_int_get (&r->open))
    return;
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->tracks->len; i++) {
    MedRecTrack *t = r->tracks->pdata[i];

    if (t->is_video)
      g_ptr_array_add (video, t);
  }
  g_mutex_unlock (&r->lock);
  /* Video goes on from a keyframe: ask for one now. */
  for (guint i = 0; i < video->len; i++) {
    MedRecTrack *t = video->pdata[i];

    g_atomic_int_set (&t->want_keyframe, 1);
    med_media_ask_keyframe (t->gate_pad);
  }
  g_atomic_int_set (&r->open, 1);
}

void
med_rec_set_open (MedRec *r, gboolean open)
{
  if (r->phase != PHASE_LIVE && r->phase != PHASE_IDLE)
    return;
  if (open)
    open_gates (r);
  else
    g_atomic_int_set (&r->open, 0);
}

void
med_rec_start (MedRec *r, const char *detail, const char *gap, gboolean paused)
{
  if (r->phase != PHASE_IDLE)
    return;
  r->phase = PHASE_LIVE;
  row_state (r, paused ? MED_RECORDING_PAUSED : MED_RECORDING_RECORDING, NULL);
  row_log (r, MED_RECORDING_EVENT_START, detail);
  if (gap != NULL)
    row_log (r, MED_RECORDING_EVENT_GAP, gap);
  if (paused)
    row_log (r, MED_RECORDING_EVENT_PAUSE, "joined while paused");
  else
    open_gates (r);
}

void
med_rec_log (MedRec *r, MedRecordingEvent kind, const char *detail)
{
  row_log (r, kind, detail);
}

void
med_rec_pause (MedRec *r, const char *detail)
{
  if (r->phase != PHASE_LIVE || !g_atomic_int_get (&r->open))
    return;
  g_atomic_int_set (&r->open, 0);
  row_state (r, MED_RECORDING_PAUSED, NULL);
  row_log (r, MED_RECORDING_EVENT_PAUSE, detail);
}

void
med_rec_resume (MedRec *r, const char *detail)
{
  if (r->phase != PHASE_LIVE || g_atomic_int_get (&r->open))
    return;
  row_state (r, MED_RECORDING_RECORDING, NULL);
  row_log (r, MED_RECORDING_EVENT_RESUME, detail);
  open_gates (r);
}

/* ---- ending --------------------------------------------------------- */

static void
finished (MedRec *r, const GError *error)
{
  if (r->phase == PHASE_DONE)
    return;
  r->phase = PHASE_DONE;
  if (r->timeout_id) {
    g_source_remove (r->timeout_id);
    r->timeout_id = 0;
  }
  if (r->done_func != NULL && !r->disposed)
    r->done_func (r, error, r->done_data);
}

/* The branches leave their link pads; a request pad (a tee's) is
 * released. */
static void
detach (MedRec *r)
{
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->tracks->len; i++) {
    MedRecTrack *t = r->tracks->pdata[i];
    g_autoptr (GstElement) owner = NULL;
    GstPadTemplate *templ;

    if (!t->attached)
      continue;
    t->attached = FALSE;
    gst_pad_unlink (t->link_pad, t->qsink);
    owner = gst_pad_get_parent_element (t->link_pad);
    templ = gst_pad_get_pad_template (t->link_pad);
    if (owner != NULL && templ != NULL
        && GST_PAD_TEMPLATE_PRESENCE (templ) == GST_PAD_REQUEST)
      gst_element_release_request_pad (owner, t->link_pad);
    if (templ != NULL)
      gst_object_unref (templ);
  }
  g_mutex_unlock (&r->lock);
}

/* What a stop sends into one queue: the buffers its gate still held (a
 * sender's first report had not come yet), then EOS. */
typedef struct
{
  GstPad *qsink; /* ref */
  GQueue held;
} Drain;

static void
drain_free (Drain *d)
{
  g_queue_clear_full (&d->held, (GDestroyNotify) gst_buffer_unref);
  gst_object_unref (d->qsink);
  g_free (d);
}

static gpointer
send_eos_thread (gpointer data)
{
  GPtrArray *drains = data;

  for (guint i = 0; i < drains->len; i++) {
    Drain *d = drains->pdata[i];
    GstBuffer *b;

    /* the branch left its link pad: nothing else pushes here now */
    while ((b = g_queue_pop_head (&d->held)) != NULL)
      gst_pad_chain (d->qsink, b);
    gst_pad_send_event (d->qsink, gst_event_new_eos ());
  }
  g_ptr_array_unref (drains);
  return NULL;
}

static gboolean
live_timeout_cb (gpointer data)
{
  MedRec *r = data;
  g_autofree char *why = g_strdup ("the recorder did not close in time");

  r->timeout_id = 0;
  g_warning ("recording %" G_GINT64_FORMAT ": %s", r->id, why);
  med_rec_abort (r, MED_RECORDING_STOPPED, why);
  return G_SOURCE_REMOVE;
}

void
med_rec_stop (MedRec *r, const char *why, gboolean push_eos, guint seal_timeout)
{
  if (r->phase != PHASE_LIVE && r->phase != PHASE_IDLE)
    return;
  row_log (r, MED_RECORDING_EVENT_STOP, why);
  if (push_eos) {
    GPtrArray *drains
        = g_ptr_array_new_with_free_func ((GDestroyNotify) drain_free);
    guint n_held = 0;

    /* What the gates still hold goes in (timed as it came if its time is
     * still unknown), nothing after it. */
    gboolean video_ok = TRUE;

    g_atomic_int_set (&r->draining, 1);
    g_mutex_lock (&r->lock);
    for (guint i = 0; i < r->tracks->len; i++) {
      MedRecTrack *t = r->tracks->pdata[i];
      Drain *d = g_new0 (Drain, 1);

      d->qsink = gst_object_ref (t->qsink);
      g_mutex_lock (&t->hold_lock);
      t->ended = TRUE;
      d->held = t->held;
      g_queue_init (&t->held);
      g_mutex_unlock (&t->hold_lock);
      g_ptr_array_add (drains, d);
      /* held video starts at an admitted keyframe */
      if (t->is_video && !GST_CLOCK_TIME_IS_VALID (t->start)
          && d->held.length == 0)
        video_ok = FALSE;
    }
    /* Audio waits for its video: if that never started nor will with
     * what it held, none goes in (a recording's video may not end before
     * its first picture). */
    for (guint i = 0; i < r->tracks->len; i++) {
      MedRecTrack *t = r->tracks->pdata[i];
      Drain *d = drains->pdata[i];
      guint v;

      if (!t->is_video && t->video != NULL
          && !GST_CLOCK_TIME_IS_VALID (t->video->start)
          && (!g_ptr_array_find (r->tracks, t->video, &v)
              || ((Drain *) drains->pdata[v])->held.length == 0))
        g_queue_clear_full (&d->held, (GDestroyNotify) gst_buffer_unref);
      n_held += d->held.length;
    }
    g_mutex_unlock (&r->lock);
    if (!video_ok)
      n_held = 0;
    g_atomic_int_set (&r->open, 0);
    /* Nothing more can pass the gates: the branches leave their link pads
     * now (the source may go while the recorder drains). */
    detach (r);
    if (!g_atomic_int_get (&r->passed) && n_held == 0) {
      g_autoptr (GError) err
          = g_error_new_literal (MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
              "no media reached the recorder before it stopped");

      /* No file to make: NULL without EOS seals the manifest as stopped. */
      g_ptr_array_unref (drains);
      gst_element_set_state (r->recorder, GST_STATE_NULL);
      row_state (r, MED_RECORDING_STOPPED, err->message);
      finished (r, err);
      return;
    }
    /* EOS goes into the queues from a thread of its own (a pad's stream
     * lock may be held for a while by a streaming thread; the main loop
     * never waits). */
    g_thread_unref (g_thread_new ("med-rec-eos", send_eos_thread, drains));
  }
  r->phase = PHASE_ENDING;
  if (seal_timeout > 0)
    r->timeout_id = g_timeout_add_seconds (seal_timeout, live_timeout_cb, r);
}

/* ---- the offline part ----------------------------------------------- */

struct _FinishJob
{
  MedRec *rec; /* a reference */
  char *manifest;
  gint cancel; /* atomic */
  gboolean ok;
  GstMedManifestInfo info;
  GError *error;
  GError *remux_error;
};

static void
finish_job_free (FinishJob *j)
{
  gst_med_manifest_info_clear (&j->info);
  g_clear_error (&j->error);
  g_clear_error (&j->remux_error);
  g_free (j->manifest);
  rec_unref (j->rec);
  g_free (j);
}

/* Main context: the row is sealed from the manifest as read back. */
static gboolean
finish_done_cb (gpointer data)
{
  FinishJob *j = data;
  MedRec *r = j->rec;
  g_autoptr (GError) err = NULL;

  if (r->job == j)
    r->job = NULL;
  if (r->disposed || r->phase != PHASE_FINISHING)
    return G_SOURCE_REMOVE;
  if (!j->ok) {
    g_autofree char *why
        = g_strdup_printf ("recording did not seal: %s", j->error->message);

    err = g_error_new_literal (MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED, why);
    row_state (r, MED_RECORDING_FAILED, why);
    row_log (r, MED_RECORDING_EVENT_FAILURE, why);
    finished (r, err);
    return G_SOURCE_REMOVE;
  }
  if (j->remux_error != NULL)
    g_warning ("recording %" G_GINT64_FORMAT ": sealed without a final file: "
               "%s",
        r->id, j->remux_error->message);
  if (r->store != NULL) {
    guint64 bytes = 0;
    GStatBuf st;

    if (j->info.final_file && g_stat (j->info.final_file, &st) == 0)
      bytes = st.st_size;
    if (!med_store_seal_recording (r->store, r->id, j->manifest,
            j->info.head_hash, j->info.duration_ns, bytes, r->actor, &err))
      g_warning ("recording %" G_GINT64_FORMAT ": cannot store the seal: %s",
          r->id, err->message);
    g_info ("recording %" G_GINT64_FORMAT " sealed: %u segments, %.1f s", r->id,
        j->info.n_segments, j->info.duration_ns / 1e9);
  }
  finished (r, NULL);
  return G_SOURCE_REMOVE;
}

/* A worker of the finish pool: the remux and the seal. */
static void
finish_run (gpointer data, gpointer user_data)
{
  FinishJob *j = data;
  GSource *s;

  j->ok = gst_med_recording_finish (j->manifest, GST_MED_FINAL_NAME, &j->cancel,
      &j->info, &j->remux_error, &j->error);
  s = g_idle_source_new ();
  g_source_set_callback (s, finish_done_cb, j,
      (GDestroyNotify) finish_job_free);
  g_source_attach (s, j->rec->ctx);
  g_source_unref (s);
}

static GThreadPool *
finish_pool (void)
{
  static gsize once = 0;
  static GThreadPool *pool;

  if (g_once_init_enter (&once)) {
    /* as many at once as there are cores: twenty recordings that end
     * together (a server stopping) are not remuxed by twenty threads, nor
     * one after the other by one (a lower priority starved it on a busy
     * box: the seals of a stopping server took over 30 s) */
    pool = g_thread_pool_new (finish_run, NULL,
        MAX (1, (gint) g_get_num_processors ()), FALSE, NULL);
    g_once_init_leave (&once, 1);
  }
  return pool;
}

static void
start_finish (MedRec *r, const char *manifest)
{
  FinishJob *j = g_new0 (FinishJob, 1);

  if (r->timeout_id) {
    g_source_remove (r->timeout_id);
    r->timeout_id = 0;
  }
  r->phase = PHASE_FINISHING;
  j->rec = rec_ref (r);
  j->manifest = g_strdup (manifest);
  r->job = j;
  g_thread_pool_push (finish_pool (), j, NULL);
}

void
med_rec_abort (MedRec *r, MedRecordingState state, const char *why)
{
  g_autoptr (GError) err = NULL;

  if (r->phase == PHASE_DONE)
    return;
  err = g_error_new_literal (MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED, why);
  if (r->job != NULL) {
    /* its manifest is sealed "stopped while finishing" */
    g_atomic_int_set (&r->job->cancel, 1);
    r->job = NULL;
  }
  g_atomic_int_set (&r->open, 0);
  detach (r);
  /* NULL without EOS: medrecorder seals its manifest "stopped without
   * EOS", listing every segment, without a final file. */
  gst_element_set_state (r->recorder, GST_STATE_NULL);
  row_state (r, state, why);
  row_log (r, MED_RECORDING_EVENT_FAILURE, why);
  finished (r, err);
}

static gboolean
from_recorder (MedRec *r, GstMessage *msg)
{
  GstObject *src = GST_MESSAGE_SRC (msg);

  return r->recorder != NULL
      && (src == GST_OBJECT (r->recorder)
          || gst_object_has_as_ancestor (src, GST_OBJECT (r->recorder)));
}

gboolean
med_rec_handle_message (MedRec *r, GstMessage *msg)
{
  const GstStructure *st;

  if (!from_recorder (r, msg))
    return FALSE;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      st = gst_message_get_structure (msg);
      if (st == NULL || GST_MESSAGE_SRC (msg) != GST_OBJECT (r->recorder))
        return FALSE;
      if (gst_structure_has_name (st, "medrecorder-segment")) {
        const char *location = gst_structure_get_string (st, "location");
        guint64 duration = 0;
        g_autoptr (GError) err = NULL;
        GStatBuf sb;

        gst_structure_get_uint64 (st, "duration", &duration);
        if (location != NULL && r->store != NULL
            && !med_store_add_recording_segment (r->store, r->id,
                ++r->n_segments, location, "",
                g_stat (location, &sb) == 0 ? (guint64) sb.st_size : 0,
                duration, &err))
          g_warning ("recording %" G_GINT64_FORMAT ": segment: %s", r->id,
              err->message);
        return TRUE;
      }
      if (gst_structure_has_name (st, "medrecorder-closed")) {
        if (r->phase == PHASE_ENDING || r->phase == PHASE_LIVE)
          start_finish (r, gst_structure_get_string (st, "manifest"));
        return TRUE;
      }
      return FALSE;
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree char *debug = NULL;
      g_autofree char *why = NULL;

      gst_message_parse_error (msg, &err, &debug);
      g_debug ("recording %" G_GINT64_FORMAT ": %s", r->id, debug ? debug : "");
      why = g_strdup_printf ("recorder failed: %s", err->message);
      g_warning ("recording %" G_GINT64_FORMAT " failed: %s", r->id, why);
      med_rec_abort (r, MED_RECORDING_FAILED, why);
      return TRUE;
    }
    default:
      return FALSE;
  }
}

void
med_rec_remove (MedRec *r)
{
  g_autoptr (GPtrArray) queues = g_ptr_array_new ();

  detach (r);
  if (r->recorder != NULL) {
    /* the recorder first: a queue's thread may wait in the muxer */
    gst_element_set_state (r->recorder, GST_STATE_NULL);
    gst_bin_remove (r->bin, r->recorder);
    r->recorder = NULL;
  }
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->tracks->len; i++) {
    MedRecTrack *t = r->tracks->pdata[i];

    if (t->queue != NULL)
      g_ptr_array_add (queues, g_steal_pointer (&t->queue));
  }
  g_mutex_unlock (&r->lock);
  for (guint i = 0; i < queues->len; i++) {
    gst_element_set_state (queues->pdata[i], GST_STATE_NULL);
    gst_bin_remove (r->bin, queues->pdata[i]);
  }
}

gboolean
med_rec_is_done (MedRec *r)
{
  return r->phase == PHASE_DONE;
}

gboolean
med_rec_has_media (MedRec *r)
{
  gboolean all = r->tracks->len > 0;

  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->tracks->len; i++) {
    MedRecTrack *t = r->tracks->pdata[i];

    if (t->is_video && !GST_CLOCK_TIME_IS_VALID (t->start))
      all = FALSE;
  }
  g_mutex_unlock (&r->lock);
  return all;
}

gboolean
med_rec_got_media (MedRec *r)
{
  return g_atomic_int_get (&r->passed);
}

void
med_rec_free (MedRec *r)
{
  if (r == NULL)
    return;
  r->disposed = TRUE;
  if (r->timeout_id) {
    g_source_remove (r->timeout_id);
    r->timeout_id = 0;
  }
  if (r->job != NULL) {
    g_atomic_int_set (&r->job->cancel, 1);
    r->job = NULL;
  }
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->tracks->len; i++) {
    MedRecTrack *t = r->tracks->pdata[i];

    /* the probes' references go with them */
    if (t->gate_probe)
      gst_pad_remove_probe (t->gate_pad, t->gate_probe);
    if (t->gate_event_probe)
      gst_pad_remove_probe (t->gate_pad, t->gate_event_probe);
    if (t->retime_probe)
      gst_pad_remove_probe (t->qsink, t->retime_probe);
    t->gate_probe = t->gate_event_probe = t->retime_probe = 0;
  }
  g_mutex_unlock (&r->lock);
  rec_unref (r);
}
