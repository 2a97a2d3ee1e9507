/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedrecorder.c — medrecorder: records a session's encoded streams into
 * self-contained Matroska segments and chains every closed segment's
 * SHA-256 into a manifest: the live half of a recording. The offline half
 * (the segments remuxed into one seekable file, the manifest sealed with
 * its hash: gstmedfinish.c) runs after EOS, here (finish=true) or in the
 * application (finish=false, as medsched does, off its live pipeline).
 *
 * Inside: splitmuxsink with matroskamux and an unbuffered filesink (every
 * muxed block is in the kernel as soon as it is written, so a killed
 * process loses only what splitmuxsink still holds in memory). splitmuxsink
 * collects a whole keyframe interval before writing it, and remote peers
 * send keyframes mostly on request, so each video pad asks upstream for a
 * keyframe (force-key-unit) when its stream starts without one and then
 * at least every keyframe-interval: at most about that much sits only in
 * memory. Delta frames before a stream's first keyframe are dropped, so
 * every segment starts decodable.
 *
 * Bookkeeping runs off the streaming threads: splitmuxsink's
 * fragment-opened/closed messages (caught in handle_message, in whatever
 * thread posted them) become jobs for a one-thread pool, the worker, which
 * hashes and fsyncs each closed segment and appends its manifest entry in
 * order. The EOS message is held back until the worker has chained the
 * last segment and, with finish=true, run gst_med_recording_finish()
 * (each segment read in turn by matroskademux, all into one matroskamux →
 * filesink, timestamps untouched, no re-encoding; the output has cues and
 * is seekable; then the seal), so an application that waits for EOS finds
 * everything complete. Stopping without EOS seals the manifest as
 * "stopped", listing the open segment as incomplete.
 *
 * A closed segment's entry is written as soon as its end is known: when the
 * next segment opens (microseconds later) or at EOS.
 *
 * matroskamux writes its headers once, so all pads must be requested before
 * data flows; a pad requested later is refused. It also waits for every
 * requested stream: one that stays silent for stream-timeout after the first
 * buffer is ended with EOS (and a warning) so the others get recorded. */
#include "gstmedrecorder.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/video/video.h>

#include "gstmedfinish.h"
#include "gstmedmanifest.h"

GST_DEBUG_CATEGORY_STATIC (gst_med_recorder_debug);
#define GST_CAT_DEFAULT gst_med_recorder_debug

#define DEFAULT_LOCATION          NULL
#define DEFAULT_SEGMENT_DURATION  (10 * GST_SECOND)
#define DEFAULT_KEYFRAME_INTERVAL (2 * GST_SECOND)
#define DEFAULT_MANIFEST          NULL
#define DEFAULT_FINAL_NAME        GST_MED_FINAL_NAME
#define DEFAULT_RECORDING_ID      NULL
#define DEFAULT_STREAM_TIMEOUT    (5 * GST_SECOND)
#define DEFAULT_FINISH            TRUE
#define MIN_SEGMENT_DURATION      (GST_SECOND / 10)
/* The reference stream (the first video) may be silent this many times
 * stream-timeout before the recording fails: splitmuxsink cannot go on
 * without it, so it is waited for longer than an audio stream (a camera
 * slower to start than the others). */
#define REFERENCE_WAIT 6

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_SEGMENT_DURATION,
  PROP_KEYFRAME_INTERVAL,
  PROP_MANIFEST,
  PROP_FINAL_NAME,
  PROP_RECORDING_ID,
  PROP_STREAM_TIMEOUT,
  PROP_FINISH,
  PROP_SEGMENTS,
  PROP_HEAD_HASH,
};

/* One request pad's stream. Owned by the ghost pad (qdata). */
typedef struct
{
  GstMedRecorder *self; /* not a reference: the pad's parent */
  GstPad *target; /* splitmuxsink's request pad */
  gboolean is_video;
  /* splitmuxsink's reference stream (the first video): it must not end
   * before its first buffer (splitmuxsink 1.22 aborts the process on
   * "gop != NULL" then) */
  gboolean is_reference;

  /* Written by the pad's streaming thread with the recorder's object lock
   * held; read by the stream-timeout callback under that lock. */
  gboolean flowing; /* a buffer went through */
  gboolean ended; /* EOS went through */

  /* The pad's streaming thread only. */
  GstSegment segment;
  gboolean keyframe_seen;
  GstClockTime last_keyframe_rt;
  GstClockTime request_sent_rt; /* a request is pending since then */
  guint request_count;
  GstClockTime max_end_rt; /* end of the latest buffer */
} Stream;

typedef enum
{
  JOB_SEGMENT, /* a fragment closed: hash and chain it */
  JOB_FINISH, /* EOS: remux, seal, pass EOS on */
} JobKind;

typedef struct
{
  JobKind kind;
  gchar *location;
  GstClockTime start, end;
} Job;

struct _GstMedRecorder
{
  GstBin parent;

  /* Set in init, never replaced, and we hold a reference; NULL when a
   * needed element is missing (NULL→READY then fails). */
  GstElement *splitmux;

  /* Properties. Protected by the object lock; copied into the run_* fields
   * on READY→PAUSED, so changes apply to the next recording. */
  gchar *location;
  gchar *manifest_path;
  gchar *final_name;
  gchar *recording_id;
  guint64 segment_duration;
  guint64 keyframe_interval;
  guint64 stream_timeout;
  gboolean finish;

  /* Protected by the object lock. */
  gboolean have_primary_video; /* splitmuxsink's "video" pad is taken */
  guint next_video, next_audio; /* our pad numbering */
  gboolean data_flowing; /* a buffer reached a pad: no new pads */
  GstClockTime max_end_rt; /* end of the latest buffer of any stream */
  guint segments_written;
  gchar *head_hash;
  GstClockID stream_timer; /* pending stream-timeout, or NULL */
  /* the reference stream got its longer wait (REFERENCE_WAIT × the
   * timeout) already */
  gboolean reference_waited;

  /* Run state: written on READY→PAUSED before any streaming thread or
   * worker exists, freed on PAUSED→READY after both stopped; read-only in
   * between, so read without a lock. */
  gchar *run_dir; /* absolute media directory */
  gchar *run_manifest;
  gchar *run_final_name; /* the final file's name, or NULL */
  gboolean run_finish;
  GstClockTime run_keyframe_interval;
  GstClockTime run_stream_timeout;

  /* Protected by lock: fragment bookkeeping fed by bus messages. */
  GMutex lock;
  GHashTable *fragment_starts; /* location → running time (guint64*) */
  gchar *open_location; /* fragment being written, or NULL */
  GstClockTime open_start;
  /* A closed fragment waits here until its end is known: the next
   * fragment's start, or at EOS the inputs' last buffer (the running time
   * splitmuxsink reports for the last fragment is not its end). */
  gchar *pending_location;
  GstClockTime pending_start, pending_end;
  GstMessage *held_eos; /* EOS waiting for the worker */

  /* The worker thread only, between READY→PAUSED and PAUSED→READY; the
   * manifest writer is let go (NULL) once the live part ended at EOS. */
  GThreadPool *worker;
  GstMedManifest *manifest;
  GstClockTime first_start, last_end;

  gint cancel; /* atomic: stop a running finish */
};

#define gst_med_recorder_parent_class parent_class
G_DEFINE_TYPE (GstMedRecorder, gst_med_recorder, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (medrecorder, "medrecorder",
    GST_RANK_NONE, GST_TYPE_MED_RECORDER,
    GST_DEBUG_CATEGORY_INIT (gst_med_recorder_debug, "medrecorder", 0,
        "medsched segment recorder"));

static GQuark stream_quark;

/* What matroskamux (1.22) takes and a session produces. */
static GstStaticPadTemplate video_template
    = GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS ("video/x-h264, stream-format = (string) { avc, avc3 }, "
        "alignment = (string) au; "
        "video/x-h265, stream-format = (string) { hvc1, hev1 }, "
        "alignment = (string) au; "
        "video/x-vp8; video/x-vp9; image/jpeg"));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE (
    "audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-opus; "
        "audio/mpeg, mpegversion = (int) 1, layer = (int) [ 1, 3 ]; "
        "audio/mpeg, mpegversion = (int) { 2, 4 }, stream-format = (string) raw; "
        "audio/x-vorbis; audio/x-flac; audio/x-alaw; audio/x-mulaw; "
        "audio/G722"));

static void
job_free (Job *job)
{
  g_free (job->location);
  g_free (job);
}

static void
stream_free (Stream *stream)
{
  gst_clear_object (&stream->target);
  g_free (stream);
}

static void
post_element_message (GstMedRecorder *self, GstStructure *s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* ---- keyframe requests (streaming threads) ---- */

static void
request_keyframe (Stream *stream, GstPad *pad, GstClockTime running_time)
{
  GstEvent *event;

  stream->request_count++;
  GST_DEBUG_OBJECT (pad, "asking upstream for keyframe %u at %" GST_TIME_FORMAT,
      stream->request_count, GST_TIME_ARGS (running_time));
  event = gst_video_event_new_upstream_force_key_unit (running_time, TRUE,
      stream->request_count);
  gst_pad_push_event (pad, event);
}

/* Tracks one buffer of a video stream and asks for keyframes in time.
 * Returns: FALSE to drop the buffer (a delta frame before the first
 * keyframe). */
static gboolean
track_video_buffer (Stream *stream, GstPad *pad, GstBuffer *buf)
{
  GstClockTime interval = stream->self->run_keyframe_interval;
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf)
                                                  : GST_BUFFER_DTS (buf);
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  gboolean delta = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);

  if (stream->segment.format == GST_FORMAT_TIME)
    rt = gst_segment_to_running_time (&stream->segment, GST_FORMAT_TIME, ts);
  GST_LOG_OBJECT (pad, "%s at %" GST_TIME_FORMAT, delta ? "delta" : "keyframe",
      GST_TIME_ARGS (rt));

  if (!stream->keyframe_seen) {
    if (delta) {
      /* joined mid-GOP (a remote peer): ask now, and again if ignored */
      GstClockTime retry = MAX (interval, GST_SECOND) / 2;

      if (!GST_CLOCK_TIME_IS_VALID (stream->request_sent_rt)
          || (GST_CLOCK_TIME_IS_VALID (rt)
              && rt >= stream->request_sent_rt + retry)) {
        request_keyframe (stream, pad, GST_CLOCK_TIME_NONE);
        stream->request_sent_rt = GST_CLOCK_TIME_IS_VALID (rt) ? rt : 0;
      }
      return FALSE;
    }
    stream->keyframe_seen = TRUE;
  }

  if (!delta) {
    stream->last_keyframe_rt = rt;
    stream->request_sent_rt = GST_CLOCK_TIME_NONE;
  }
  if (interval == 0 || !GST_CLOCK_TIME_IS_VALID (rt)
      || !GST_CLOCK_TIME_IS_VALID (stream->last_keyframe_rt))
    return TRUE;

  if (!GST_CLOCK_TIME_IS_VALID (stream->request_sent_rt)) {
    GstClockTime due = stream->last_keyframe_rt + interval;

    /* Ask a quarter interval ahead, for the frame at "due": an encoder
     * (GstVideoEncoder) forces exactly that frame; an RTP source turns the
     * request into a PLI/FIR and the keyframe arrives about one round trip
     * later, still no later than due. */
    if (rt + interval / 4 >= due) {
      request_keyframe (stream, pad, due);
      stream->request_sent_rt = rt;
    }
  } else if (rt >= stream->request_sent_rt + interval) {
    /* upstream ignored or lost the request: ask again, for now */
    request_keyframe (stream, pad, GST_CLOCK_TIME_NONE);
    stream->request_sent_rt = rt;
  }
  return TRUE;
}

/* stream-timeout after the first buffer: every pad that has seen neither
 * data nor EOS gets an EOS, so the muxer stops waiting for it. Runs in the
 * system clock's thread. */
static void schedule_stream_timeout (GstMedRecorder *self, guint times);

static gboolean
stream_timeout_cb (GstClock *clock, GstClockTime time, GstClockID id,
    gpointer user_data)
{
  GstMedRecorder *self = GST_MED_RECORDER (user_data);
  GList *silent = NULL;
  gboolean first_wait;

  GST_OBJECT_LOCK (self);
  if (self->stream_timer == id) {
    for (GList *l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
      Stream *stream = g_object_get_qdata (G_OBJECT (l->data), stream_quark);

      if (stream && !stream->flowing && !stream->ended)
        silent = g_list_prepend (silent, gst_object_ref (l->data));
    }
  }
  first_wait = !self->reference_waited;
  self->reference_waited = TRUE;
  GST_OBJECT_UNLOCK (self);

  for (GList *l = silent; l; l = l->next) {
    GstPad *pad = l->data;
    Stream *stream = g_object_get_qdata (G_OBJECT (pad), stream_quark);

    if (stream != NULL && stream->is_reference && first_wait) {
      /* splitmuxsink cannot go on without it: wait longer for it */
      schedule_stream_timeout (self, REFERENCE_WAIT - 1);
      continue;
    }
    if (stream != NULL && stream->is_reference) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("The video stream %s sent nothing within %" GST_TIME_FORMAT
           " of the others; nothing can be recorded without it.",
              GST_PAD_NAME (pad),
              GST_TIME_ARGS (REFERENCE_WAIT * self->run_stream_timeout)),
          (NULL));
      continue;
    }
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("Stream %s sent nothing within %" GST_TIME_FORMAT " of the others; "
         "recording without it.",
            GST_PAD_NAME (pad), GST_TIME_ARGS (self->run_stream_timeout)),
        (NULL));
    gst_pad_send_event (pad, gst_event_new_eos ());
  }
  g_list_free_full (silent, gst_object_unref);
  return TRUE;
}

/* times × stream-timeout from now. */
static void
schedule_stream_timeout (GstMedRecorder *self, guint times)
{
  GstClock *clock = gst_system_clock_obtain ();
  GstClockID id = gst_clock_new_single_shot_id (clock,
      gst_clock_get_time (clock) + times * self->run_stream_timeout);
  GstClockID old;

  GST_OBJECT_LOCK (self);
  old = self->stream_timer;
  self->stream_timer = gst_clock_id_ref (id);
  GST_OBJECT_UNLOCK (self);
  if (old != NULL)
    gst_clock_id_unref (old);
  gst_clock_id_wait_async (id, stream_timeout_cb, gst_object_ref (self),
      (GDestroyNotify) gst_object_unref);
  gst_clock_id_unref (id);
  gst_object_unref (clock);
}

static void
cancel_stream_timeout (GstMedRecorder *self)
{
  GstClockID id;

  GST_OBJECT_LOCK (self);
  id = self->stream_timer;
  self->stream_timer = NULL;
  GST_OBJECT_UNLOCK (self);
  if (id != NULL) {
    gst_clock_id_unschedule (id);
    gst_clock_id_unref (id);
  }
}

static void
note_first_buffer (Stream *stream)
{
  GstMedRecorder *self = stream->self;
  gboolean first_of_all;

  if (stream->flowing) /* only this thread writes it */
    return;
  GST_OBJECT_LOCK (self);
  stream->flowing = TRUE;
  first_of_all = !self->data_flowing;
  self->data_flowing = TRUE;
  GST_OBJECT_UNLOCK (self);
  if (first_of_all && self->run_stream_timeout > 0)
    schedule_stream_timeout (self, 1);
}

/* Remembers where the stream's latest buffer ends, in running time. */
static void
note_buffer_end (Stream *stream, GstBuffer *buf)
{
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf)
                                                  : GST_BUFFER_DTS (buf);
  GstClockTime rt;

  if (stream->segment.format != GST_FORMAT_TIME
      || !GST_CLOCK_TIME_IS_VALID (ts))
    return;
  if (GST_BUFFER_DURATION_IS_VALID (buf))
    ts += GST_BUFFER_DURATION (buf);
  rt = gst_segment_to_running_time (&stream->segment, GST_FORMAT_TIME, ts);
  if (GST_CLOCK_TIME_IS_VALID (rt)
      && (!GST_CLOCK_TIME_IS_VALID (stream->max_end_rt)
          || rt > stream->max_end_rt))
    stream->max_end_rt = rt;
}

static void
note_eos (Stream *stream)
{
  GstMedRecorder *self = stream->self;

  GST_OBJECT_LOCK (self);
  stream->ended = TRUE;
  if (GST_CLOCK_TIME_IS_VALID (stream->max_end_rt)
      && (!GST_CLOCK_TIME_IS_VALID (self->max_end_rt)
          || stream->max_end_rt > self->max_end_rt))
    self->max_end_rt = stream->max_end_rt;
  GST_OBJECT_UNLOCK (self);
}

static GstPadProbeReturn
stream_data_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Stream *stream = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      gst_event_copy_segment (event, &stream->segment);
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
      if (stream->is_reference && !stream->flowing) {
        GST_ELEMENT_ERROR (stream->self, STREAM, FAILED,
            ("The video stream ended before its first picture: nothing can "
             "be recorded."),
            ("EOS on the reference pad %s without a buffer",
                GST_PAD_NAME (pad)));
        return GST_PAD_PROBE_DROP;
      }
      note_eos (stream);
    }
    return GST_PAD_PROBE_OK;
  }

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    guint n = gst_buffer_list_length (list);

    note_first_buffer (stream);
    /* lists are tracked, never thinned */
    for (guint i = 0; i < n; i++) {
      GstBuffer *buf = gst_buffer_list_get (list, i);

      if (stream->is_video)
        track_video_buffer (stream, pad, buf);
      note_buffer_end (stream, buf);
    }
    return GST_PAD_PROBE_OK;
  }

  if (stream->is_video
      && !track_video_buffer (stream, pad, GST_PAD_PROBE_INFO_BUFFER (info)))
    return GST_PAD_PROBE_DROP;
  note_first_buffer (stream);
  note_buffer_end (stream, GST_PAD_PROBE_INFO_BUFFER (info));
  return GST_PAD_PROBE_OK;
}

/* ---- pads ---- */

static GstPad *
gst_med_recorder_request_new_pad (GstElement *element, GstPadTemplate *templ,
    const gchar *name, const GstCaps *caps)
{
  GstMedRecorder *self = GST_MED_RECORDER (element);
  GstElementClass *klass = GST_ELEMENT_GET_CLASS (element);
  gboolean is_video
      = templ == gst_element_class_get_pad_template (klass, "video_%u");
  g_autofree gchar *pad_name = NULL;
  const gchar *target_template;
  GstPad *target, *pad;
  Stream *stream;
  gboolean is_reference = FALSE;

  if (self->splitmux == NULL)
    return NULL;

  GST_OBJECT_LOCK (self);
  if (self->data_flowing) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self,
        "refusing a new %s pad: recording has started "
        "and matroskamux writes its headers once",
        is_video ? "video" : "audio");
    return NULL;
  }
  if (name != NULL)
    pad_name = g_strdup (name);
  else if (is_video)
    pad_name = g_strdup_printf ("video_%u", self->next_video++);
  else
    pad_name = g_strdup_printf ("audio_%u", self->next_audio++);
  if (is_video && !self->have_primary_video) {
    /* the first video stream drives splitting */
    target_template = "video";
    self->have_primary_video = TRUE;
    is_reference = TRUE;
  } else {
    target_template = is_video ? "video_aux_%u" : "audio_%u";
  }
  GST_OBJECT_UNLOCK (self);

  target = gst_element_request_pad_simple (self->splitmux, target_template);
  if (target == NULL) {
    GST_WARNING_OBJECT (self, "splitmuxsink refused a %s pad", target_template);
    return NULL;
  }
  pad = gst_ghost_pad_new_from_template (pad_name, target, templ);

  stream = g_new0 (Stream, 1);
  stream->self = self;
  stream->target = target;
  stream->is_video = is_video;
  stream->is_reference = is_reference;
  gst_segment_init (&stream->segment, GST_FORMAT_UNDEFINED);
  stream->last_keyframe_rt = GST_CLOCK_TIME_NONE;
  stream->request_sent_rt = GST_CLOCK_TIME_NONE;
  stream->max_end_rt = GST_CLOCK_TIME_NONE;
  g_object_set_qdata_full (G_OBJECT (pad), stream_quark, stream,
      (GDestroyNotify) stream_free);
  gst_pad_add_probe (pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
          | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      stream_data_cb, stream, NULL);

  if (GST_STATE (element) > GST_STATE_READY)
    gst_pad_set_active (pad, TRUE);
  if (!gst_element_add_pad (element, pad)) {
    GST_WARNING_OBJECT (self, "pad name %s is taken", pad_name);
    gst_ghost_pad_set_target (GST_GHOST_PAD (pad), NULL);
    gst_element_release_request_pad (self->splitmux, target);
    gst_object_unref (pad);
    return NULL;
  }
  GST_INFO_OBJECT (self, "new pad %s → splitmuxsink %s", pad_name,
      GST_PAD_NAME (target));
  return pad;
}

static void
gst_med_recorder_release_pad (GstElement *element, GstPad *pad)
{
  GstMedRecorder *self = GST_MED_RECORDER (element);
  Stream *stream = g_object_get_qdata (G_OBJECT (pad), stream_quark);
  g_autoptr (GstPad) target = NULL;

  if (stream == NULL)
    return;
  target = gst_object_ref (stream->target);
  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), NULL);
  /* during dispose splitmuxsink may already have left the bin and dropped
   * its pads */
  if (GST_OBJECT_PARENT (target) == GST_OBJECT (self->splitmux))
    gst_element_release_request_pad (self->splitmux, target);
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

/* splitmuxsink asks for each fragment's file name (streaming thread). */
static gchar *
format_location_cb (GstElement *splitmux, guint fragment_id, gpointer user_data)
{
  GstMedRecorder *self = GST_MED_RECORDER (user_data);

  return g_strdup_printf ("%s" G_DIR_SEPARATOR_S GST_MED_SEGMENT_PREFIX
                          "%05u" GST_MED_SEGMENT_SUFFIX,
      self->run_dir, fragment_id);
}

/* ---- the worker ---- */

static void
add_segment (GstMedRecorder *self, const Job *job)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *head = NULL;
  GstClockTime duration = 0;

  if (GST_CLOCK_TIME_IS_VALID (job->start) && GST_CLOCK_TIME_IS_VALID (job->end)
      && job->end > job->start)
    duration = job->end - job->start;
  if (!gst_med_manifest_add_segment (self->manifest, job->location,
          GST_CLOCK_TIME_IS_VALID (job->start) ? job->start : 0, duration, TRUE,
          &head, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not add a segment to the recording manifest."),
        ("%s", err->message));
    return;
  }
  if (GST_CLOCK_TIME_IS_VALID (job->start)
      && !GST_CLOCK_TIME_IS_VALID (self->first_start))
    self->first_start = job->start;
  if (GST_CLOCK_TIME_IS_VALID (job->end))
    self->last_end = job->end;

  GST_OBJECT_LOCK (self);
  self->segments_written++;
  g_free (self->head_hash);
  self->head_hash = g_strdup (head);
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "segment %s chained, %" GST_TIME_FORMAT, job->location,
      GST_TIME_ARGS (duration));
  post_element_message (self,
      gst_structure_new ("medrecorder-segment", "location", G_TYPE_STRING,
          job->location, "duration", G_TYPE_UINT64, (guint64) duration,
          "entry-hash", G_TYPE_STRING, head, NULL));
}

/* The manifest is sealed: its head kept, "medrecorder-sealed" posted. */
static void
note_sealed (GstMedRecorder *self, const gchar *final_file, const gchar *note,
    const gchar *head)
{
  GST_OBJECT_LOCK (self);
  g_free (self->head_hash);
  self->head_hash = g_strdup (head);
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "manifest sealed (%s)", note);
  post_element_message (self,
      gst_structure_new ("medrecorder-sealed", "manifest", G_TYPE_STRING,
          self->run_manifest, "final-location", G_TYPE_STRING, final_file,
          "note", G_TYPE_STRING, note, "head-hash", G_TYPE_STRING, head, NULL));
}

static void
seal_manifest (GstMedRecorder *self, const gchar *final_file,
    GstClockTime duration, const gchar *note)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *head = NULL;

  if (!gst_med_manifest_seal (self->manifest, final_file, duration, note, &head,
          &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not seal the recording manifest."), ("%s", err->message));
    return;
  }
  note_sealed (self, final_file, note, head);
}

/* EOS reached the files: the live part is over. The manifest lists every
 * segment; the writer is let go, and either the offline half runs here
 * (finish=true: remux, seal, "medrecorder-sealed") or the application runs
 * it (finish=false: "medrecorder-closed"). EOS is passed on after that. */
static void
finish_recording (GstMedRecorder *self)
{
  g_autofree gchar *head
      = g_strdup (gst_med_manifest_get_head_hash (self->manifest));
  guint n_segments = gst_med_manifest_get_n_segments (self->manifest);
  GstMessage *eos;

  g_clear_pointer (&self->manifest, gst_med_manifest_free);
  if (self->run_finish) {
    GstMedManifestInfo info = { 0 };
    g_autoptr (GError) err = NULL;
    g_autoptr (GError) remux_err = NULL;

    if (!gst_med_recording_finish (self->run_manifest, self->run_final_name,
            &self->cancel, &info, &remux_err, &err)) {
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("Could not seal the recording manifest."), ("%s", err->message));
    } else {
      if (remux_err != NULL)
        GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
            ("Could not make the single seekable recording; every segment "
             "is intact and listed in the manifest."),
            ("%s", remux_err->message));
      note_sealed (self, info.final_file, info.seal_note, info.head_hash);
    }
    gst_med_manifest_info_clear (&info);
  } else {
    GST_INFO_OBJECT (self, "live part closed, %u segments", n_segments);
    post_element_message (self,
        gst_structure_new ("medrecorder-closed", "manifest", G_TYPE_STRING,
            self->run_manifest, "segments", G_TYPE_UINT, n_segments,
            "head-hash", G_TYPE_STRING, head, NULL));
  }

  g_mutex_lock (&self->lock);
  eos = g_steal_pointer (&self->held_eos);
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "passing EOS on");
  if (eos != NULL && !g_atomic_int_get (&self->cancel))
    GST_BIN_CLASS (parent_class)->handle_message (GST_BIN (self), eos);
  else if (eos != NULL)
    gst_message_unref (eos);
}

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  GstMedRecorder *self = GST_MED_RECORDER (user_data);

  if (job->kind == JOB_SEGMENT)
    add_segment (self, job);
  else
    finish_recording (self);
  job_free (job);
}

static void
push_job (GstMedRecorder *self, JobKind kind, const gchar *location,
    GstClockTime start, GstClockTime end)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->location = g_strdup (location);
  job->start = start;
  job->end = end;
  g_thread_pool_push (self->worker, job, NULL);
}

/* Called with lock held: queues the closed fragment that waited for its
 * end; @end: where it ends, or GST_CLOCK_TIME_NONE for the running time
 * splitmuxsink reported. */
static void
push_pending_segment (GstMedRecorder *self, GstClockTime end)
{
  if (!GST_CLOCK_TIME_IS_VALID (end))
    end = self->pending_end;
  push_job (self, JOB_SEGMENT, self->pending_location, self->pending_start,
      end);
  g_clear_pointer (&self->pending_location, g_free);
}

/* ---- messages from splitmuxsink (any thread) ---- */

static void
gst_med_recorder_handle_message (GstBin *bin, GstMessage *msg)
{
  GstMedRecorder *self = GST_MED_RECORDER (bin);
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (GST_MESSAGE_SRC (msg) != GST_OBJECT (self->splitmux) || s == NULL)
        break;
      if (gst_structure_has_name (s, "splitmuxsink-fragment-opened")) {
        const gchar *location = gst_structure_get_string (s, "location");
        GstClockTime rt = GST_CLOCK_TIME_NONE;
        guint64 *start = g_new (guint64, 1);

        gst_structure_get_clock_time (s, "running-time", &rt);
        *start = rt;
        g_mutex_lock (&self->lock);
        if (self->pending_location && self->worker)
          push_pending_segment (self, rt);
        if (location && self->fragment_starts) {
          g_hash_table_replace (self->fragment_starts, g_strdup (location),
              start);
          start = NULL;
          g_free (self->open_location);
          self->open_location = g_strdup (location);
          self->open_start = rt;
        }
        g_mutex_unlock (&self->lock);
        g_free (start);
      } else if (gst_structure_has_name (s, "splitmuxsink-fragment-closed")) {
        const gchar *location = gst_structure_get_string (s, "location");
        GstClockTime end = GST_CLOCK_TIME_NONE, start = GST_CLOCK_TIME_NONE;
        guint64 *startp;

        gst_structure_get_clock_time (s, "running-time", &end);
        g_mutex_lock (&self->lock);
        if (location && self->worker) {
          if (self->pending_location)
            push_pending_segment (self, GST_CLOCK_TIME_NONE);
          startp = g_hash_table_lookup (self->fragment_starts, location);
          if (startp)
            start = *startp;
          g_hash_table_remove (self->fragment_starts, location);
          if (g_strcmp0 (self->open_location, location) == 0)
            g_clear_pointer (&self->open_location, g_free);
          self->pending_location = g_strdup (location);
          self->pending_start = start;
          self->pending_end = end;
        }
        g_mutex_unlock (&self->lock);
      }
      break;
    case GST_MESSAGE_EOS:
      g_mutex_lock (&self->lock);
      if (self->worker && self->held_eos == NULL) {
        GstClockTime end;

        GST_OBJECT_LOCK (self);
        end = self->max_end_rt;
        GST_OBJECT_UNLOCK (self);
        if (self->pending_location)
          push_pending_segment (self, end);
        /* held until the worker has remuxed and sealed */
        GST_DEBUG_OBJECT (self, "holding EOS from %" GST_PTR_FORMAT,
            GST_MESSAGE_SRC (msg));
        self->held_eos = msg;
        push_job (self, JOB_FINISH, NULL, GST_CLOCK_TIME_NONE,
            GST_CLOCK_TIME_NONE);
        g_mutex_unlock (&self->lock);
        return;
      }
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, msg);
}

/* ---- starting and stopping a recording ---- */

static gboolean
is_plain_name (const gchar *name)
{
  return name[0] != '\0' && name[0] != '.' && strchr (name, '/') == NULL;
}

/* READY→PAUSED: checks the settings, creates the manifest and the worker. */
static gboolean
start_recording (GstMedRecorder *self)
{
  g_autofree gchar *location = NULL, *manifest = NULL, *final_name = NULL;
  g_autofree gchar *recording_id = NULL, *first = NULL;
  g_autoptr (GError) err = NULL;
  guint64 segment_duration;
  gboolean finish;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  manifest = g_strdup (self->manifest_path);
  final_name = g_strdup (self->final_name);
  recording_id = g_strdup (self->recording_id);
  segment_duration = self->segment_duration;
  finish = self->finish;
  self->run_keyframe_interval = self->keyframe_interval;
  self->run_stream_timeout = self->stream_timeout;
  self->data_flowing = FALSE;
  self->reference_waited = FALSE;
  self->max_end_rt = GST_CLOCK_TIME_NONE;
  self->segments_written = 0;
  g_clear_pointer (&self->head_hash, g_free);
  GST_OBJECT_UNLOCK (self);

  if (location == NULL || location[0] == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No recording directory was given (property location)."), (NULL));
    return FALSE;
  }
  if (final_name != NULL && final_name[0] != '\0'
      && (!is_plain_name (final_name)
          || g_str_has_prefix (final_name, GST_MED_SEGMENT_PREFIX))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("final-name must be a plain file name, not a segment's."),
        ("final-name is \"%s\"", final_name));
    return FALSE;
  }

  self->run_dir = g_canonicalize_filename (location, NULL);
  if (g_mkdir_with_parents (self->run_dir, 0755) != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not create the recording directory."),
        ("%s: %s", self->run_dir, g_strerror (errno)));
    return FALSE;
  }
  first = format_location_cb (self->splitmux, 1, self);
  if (g_file_test (first, G_FILE_TEST_EXISTS)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("The recording directory already holds a recording."),
        ("%s exists", first));
    return FALSE;
  }
  self->run_manifest = manifest && manifest[0]
      ? g_canonicalize_filename (manifest, NULL)
      : g_build_filename (self->run_dir, GST_MED_MANIFEST_NAME, NULL);
  if (final_name != NULL && final_name[0] != '\0')
    self->run_final_name = g_strdup (final_name);
  self->run_finish = finish;

  self->manifest = gst_med_manifest_create (self->run_manifest, self->run_dir,
      recording_id, &err);
  if (self->manifest == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not create the recording manifest."), ("%s", err->message));
    return FALSE;
  }
  self->first_start = GST_CLOCK_TIME_NONE;
  self->last_end = GST_CLOCK_TIME_NONE;
  g_atomic_int_set (&self->cancel, 0);

  g_mutex_lock (&self->lock);
  self->fragment_starts
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->worker = g_thread_pool_new (run_job, self, 1, FALSE, NULL);
  g_mutex_unlock (&self->lock);

  /* a quarter keyframe interval of slack, so that segments of exactly
   * segment-duration worth of keyframe intervals are not cut one short */
  g_object_set (self->splitmux, "max-size-time",
      segment_duration + self->run_keyframe_interval / 4, NULL);
  GST_INFO_OBJECT (self, "recording into %s, manifest %s", self->run_dir,
      self->run_manifest);
  return TRUE;
}

/* PAUSED→READY, after splitmuxsink stopped: drains the worker and seals the
 * manifest if EOS never came. */
static void
stop_recording (GstMedRecorder *self)
{
  GThreadPool *worker;
  g_autofree gchar *open_location = NULL;
  g_autofree gchar *pending = NULL;
  Job pending_job = { JOB_SEGMENT, NULL, 0, 0 };
  GstClockTime open_start;
  GstMessage *held_eos;

  g_mutex_lock (&self->lock);
  worker = g_steal_pointer (&self->worker);
  g_mutex_unlock (&self->lock);
  if (worker != NULL)
    g_thread_pool_free (worker, FALSE, TRUE);

  g_mutex_lock (&self->lock);
  held_eos = g_steal_pointer (&self->held_eos);
  pending = g_steal_pointer (&self->pending_location);
  pending_job.start = self->pending_start;
  pending_job.end = self->pending_end;
  open_location = g_steal_pointer (&self->open_location);
  open_start = self->open_start;
  g_clear_pointer (&self->fragment_starts, g_hash_table_unref);
  g_mutex_unlock (&self->lock);
  if (held_eos != NULL)
    gst_message_unref (held_eos);

  if (self->manifest != NULL && !gst_med_manifest_is_sealed (self->manifest)) {
    g_autoptr (GError) err = NULL;
    GstClockTime duration = 0;

    /* a closed fragment whose end was still unknown: complete all the same */
    if (pending != NULL) {
      pending_job.location = pending;
      add_segment (self, &pending_job);
    }
    if (open_location != NULL
        && g_file_test (open_location, G_FILE_TEST_IS_REGULAR)
        && !gst_med_manifest_add_segment (self->manifest, open_location,
            GST_CLOCK_TIME_IS_VALID (open_start) ? open_start : 0, 0, FALSE,
            NULL, &err))
      GST_WARNING_OBJECT (self, "could not list the open segment: %s",
          err->message);
    if (GST_CLOCK_TIME_IS_VALID (self->first_start)
        && GST_CLOCK_TIME_IS_VALID (self->last_end)
        && self->last_end > self->first_start)
      duration = self->last_end - self->first_start;
    seal_manifest (self, NULL, duration, "stopped without EOS");
  }

  g_clear_pointer (&self->manifest, gst_med_manifest_free);
  g_clear_pointer (&self->run_dir, g_free);
  g_clear_pointer (&self->run_manifest, g_free);
  g_clear_pointer (&self->run_final_name, g_free);
}

static GstStateChangeReturn
gst_med_recorder_change_state (GstElement *element, GstStateChange transition)
{
  GstMedRecorder *self = GST_MED_RECORDER (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (self->splitmux == NULL) {
        GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
            ("medrecorder needs splitmuxsink, matroskamux and filesink "
             "(gstreamer1.0-plugins-good)."),
            (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start_recording (self)) {
        stop_recording (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      g_atomic_int_set (&self->cancel, 1);
      cancel_stream_timeout (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (ret == GST_STATE_CHANGE_FAILURE)
        stop_recording (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_recording (self);
      break;
    default:
      break;
  }
  return ret;
}

/* ---- GObject ---- */

static void
gst_med_recorder_init (GstMedRecorder *self)
{
  GstElement *splitmux = gst_element_factory_make ("splitmuxsink", "splitmux");
  GstElement *mux = gst_element_factory_make ("matroskamux", "mux");
  GstElement *sink = gst_element_factory_make ("filesink", "file");

  g_mutex_init (&self->lock);
  /* The recorder's preroll stays inside it: added to a pipeline that
   * plays (a participant joining a call that records), its filesink
   * waiting for a first buffer must not take the whole pipeline back to
   * PAUSED, where every other sink (another participant's DTLS handshake
   * in its nicesink) waits for the recorder's first buffer. */
  g_object_set (self, "async-handling", TRUE, NULL);
  self->segment_duration = DEFAULT_SEGMENT_DURATION;
  self->keyframe_interval = DEFAULT_KEYFRAME_INTERVAL;
  self->stream_timeout = DEFAULT_STREAM_TIMEOUT;
  self->finish = DEFAULT_FINISH;
  self->final_name = g_strdup (DEFAULT_FINAL_NAME);
  self->open_start = GST_CLOCK_TIME_NONE;
  self->max_end_rt = GST_CLOCK_TIME_NONE;

  if (splitmux == NULL || mux == NULL || sink == NULL) {
    gst_clear_object (&splitmux);
    gst_clear_object (&mux);
    gst_clear_object (&sink);
    return;
  }
  /* Every block goes to the kernel as soon as it is muxed: a killed
   * process then loses nothing that reached the muxer. */
  gst_util_set_object_arg (G_OBJECT (sink), "buffer-mode", "unbuffered");
  g_object_set (mux, "writing-app", "medsched medrecorder", NULL);
  g_object_set (splitmux, "muxer", mux, "sink", sink, "start-index", 1,
      "max-size-time", DEFAULT_SEGMENT_DURATION, NULL);
  g_signal_connect (splitmux, "format-location",
      G_CALLBACK (format_location_cb), self);
  /* our own reference: release_pad may run after the bin dropped it */
  self->splitmux = gst_object_ref (splitmux);
  gst_bin_add (GST_BIN (self), splitmux);
}

static void
gst_med_recorder_finalize (GObject *object)
{
  GstMedRecorder *self = GST_MED_RECORDER (object);

  g_free (self->location);
  g_free (self->manifest_path);
  g_free (self->final_name);
  g_free (self->recording_id);
  g_free (self->head_hash);
  g_free (self->open_location);
  g_free (self->pending_location);
  gst_clear_object (&self->splitmux);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_med_recorder_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstMedRecorder *self = GST_MED_RECORDER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_SEGMENT_DURATION:
      self->segment_duration = g_value_get_uint64 (value);
      break;
    case PROP_KEYFRAME_INTERVAL:
      self->keyframe_interval = g_value_get_uint64 (value);
      break;
    case PROP_MANIFEST:
      g_free (self->manifest_path);
      self->manifest_path = g_value_dup_string (value);
      break;
    case PROP_FINAL_NAME:
      g_free (self->final_name);
      self->final_name = g_value_dup_string (value);
      break;
    case PROP_RECORDING_ID:
      g_free (self->recording_id);
      self->recording_id = g_value_dup_string (value);
      break;
    case PROP_STREAM_TIMEOUT:
      self->stream_timeout = g_value_get_uint64 (value);
      break;
    case PROP_FINISH:
      self->finish = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_med_recorder_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstMedRecorder *self = GST_MED_RECORDER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_SEGMENT_DURATION:
      g_value_set_uint64 (value, self->segment_duration);
      break;
    case PROP_KEYFRAME_INTERVAL:
      g_value_set_uint64 (value, self->keyframe_interval);
      break;
    case PROP_MANIFEST:
      g_value_set_string (value, self->manifest_path);
      break;
    case PROP_FINAL_NAME:
      g_value_set_string (value, self->final_name);
      break;
    case PROP_RECORDING_ID:
      g_value_set_string (value, self->recording_id);
      break;
    case PROP_STREAM_TIMEOUT:
      g_value_set_uint64 (value, self->stream_timeout);
      break;
    case PROP_FINISH:
      g_value_set_boolean (value, self->finish);
      break;
    case PROP_SEGMENTS:
      g_value_set_uint (value, self->segments_written);
      break;
    case PROP_HEAD_HASH:
      g_value_set_string (value, self->head_hash);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_med_recorder_class_init (GstMedRecorderClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  stream_quark = g_quark_from_static_string ("gst-med-recorder-stream");

  gobject_class->set_property = gst_med_recorder_set_property;
  gobject_class->get_property = gst_med_recorder_get_property;
  gobject_class->finalize = gst_med_recorder_finalize;
  element_class->change_state
      = GST_DEBUG_FUNCPTR (gst_med_recorder_change_state);
  element_class->request_new_pad
      = GST_DEBUG_FUNCPTR (gst_med_recorder_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_med_recorder_release_pad);
  bin_class->handle_message
      = GST_DEBUG_FUNCPTR (gst_med_recorder_handle_message);

  /**
   * GstMedRecorder:location:
   *
   * Directory the segments, the manifest and the final file go to.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Directory",
          "Directory for the segments (segment-00001.mkv, …), the manifest "
          "and the final file; created if missing; must not already hold a "
          "recording",
          DEFAULT_LOCATION,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:segment-duration:
   *
   * Target length of a segment; a segment ends at the first keyframe after
   * it.
   */
  g_object_class_install_property (gobject_class, PROP_SEGMENT_DURATION,
      g_param_spec_uint64 ("segment-duration", "Segment duration",
          "Target length of each Matroska segment in ns; a segment is cut at "
          "the first video keyframe that would make it longer (by more than "
          "a quarter keyframe-interval)",
          MIN_SEGMENT_DURATION, G_MAXUINT64, DEFAULT_SEGMENT_DURATION,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:keyframe-interval:
   *
   * Longest time between keyframes the recorder allows before asking
   * upstream for one; bounds what is held only in memory.
   */
  g_object_class_install_property (gobject_class, PROP_KEYFRAME_INTERVAL,
      g_param_spec_uint64 ("keyframe-interval", "Keyframe interval",
          "Ask upstream (force-key-unit) for a video keyframe when a stream "
          "starts without one and whenever this many ns passed since the "
          "last; splitmuxsink holds a whole keyframe interval in memory, so "
          "this bounds what a killed process loses. 0 = never ask",
          0, G_MAXUINT64, DEFAULT_KEYFRAME_INTERVAL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:manifest:
   *
   * Path of the hash-chained manifest.
   */
  g_object_class_install_property (gobject_class, PROP_MANIFEST,
      g_param_spec_string ("manifest", "Manifest",
          "Path of the hash-chained manifest (JSON Lines: one entry per "
          "closed segment with its SHA-256, then a seal with the final "
          "file's); NULL = <location>/" GST_MED_MANIFEST_NAME,
          DEFAULT_MANIFEST,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:final-name:
   *
   * Name of the seekable file made at EOS, inside location.
   */
  g_object_class_install_property (gobject_class, PROP_FINAL_NAME,
      g_param_spec_string ("final-name", "Final file name",
          "Name, inside location, of the single seekable Matroska file "
          "remuxed from the segments at EOS (no re-encoding); empty or NULL "
          "= make none",
          DEFAULT_FINAL_NAME,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:recording-id:
   *
   * Identifier written into the manifest's first entry.
   */
  g_object_class_install_property (gobject_class, PROP_RECORDING_ID,
      g_param_spec_string ("recording-id", "Recording id",
          "Identifier of this recording (e.g. the session id) written into "
          "the manifest's first entry, binding the chain to it; no personal "
          "data",
          DEFAULT_RECORDING_ID,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:stream-timeout:
   *
   * How long a requested stream may stay silent once another has data.
   */
  g_object_class_install_property (gobject_class, PROP_STREAM_TIMEOUT,
      g_param_spec_uint64 ("stream-timeout", "Stream timeout",
          "matroskamux waits for every requested stream before writing "
          "anything: a stream that has sent neither data nor EOS this many "
          "ns after the first buffer of any stream is ended (EOS, with a "
          "warning) and the recording goes on without it; the first video "
          "stream, which drives the segments, gets six times as long and "
          "then fails the recording. 0 = wait forever",
          0, G_MAXUINT64, DEFAULT_STREAM_TIMEOUT,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:finish:
   *
   * Whether the recorder makes the final file and seals at EOS itself.
   */
  g_object_class_install_property (gobject_class, PROP_FINISH,
      g_param_spec_boolean ("finish", "Finish",
          "At EOS, remux the segments into the final file and seal the "
          "manifest before passing EOS on (\"medrecorder-sealed\"); false: "
          "pass EOS on once the last segment is chained and post "
          "\"medrecorder-closed\", the application then runs "
          "gst_med_recording_finish() itself, off the live pipeline",
          DEFAULT_FINISH,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:segments:
   *
   * Number of segments closed and chained so far.
   */
  g_object_class_install_property (gobject_class, PROP_SEGMENTS,
      g_param_spec_uint ("segments", "Segments",
          "Number of segments closed, hashed and chained into the manifest "
          "in this recording",
          0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedRecorder:head-hash:
   *
   * entry_hash of the newest manifest entry.
   */
  g_object_class_install_property (gobject_class, PROP_HEAD_HASH,
      g_param_spec_string ("head-hash", "Head hash",
          "entry_hash of the newest manifest entry; keep it outside the "
          "recording directory (audit log) to detect a truncated manifest",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class,
      "Mediation session recorder", "Sink/Muxer",
      "Records encoded video and audio streams (H.264, H.265, VP8, VP9, "
      "Opus, AAC, MP3, …) without re-encoding into self-contained Matroska "
      "segments that stay playable if the process is killed, asking "
      "upstream for keyframes so little is held in memory. Each closed "
      "segment's SHA-256 is appended to a hash-chained, fsynced manifest; "
      "after EOS the segments are remuxed into one seekable file whose hash "
      "seals the manifest (here, or by the application: finish). Posts "
      "\"medrecorder-segment\", \"medrecorder-closed\" and "
      "\"medrecorder-sealed\" element messages",
      "medsched <medsched@localhost>");
}
