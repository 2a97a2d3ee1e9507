/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-media-private.h — what the media module's files share: one input of
 * a session (its source elements, where its encoded streams come out, its
 * retry state). */
#pragma once

#include <medsched/med-media.h>

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _MedInput MedInput;

struct _MedInput
{
  MedSession *session; /* not a reference */
  guint index;
  char *uri;
  char *redacted; /* safe to log */
  GstElement *pipeline; /* not a reference */
  GstElement *source; /* the element errors come from and retries restart */
  GstElement *video_out; /* parser whose src carries the encoded video */
  GstElement *audio_out; /* or NULL */
  GstElement *raw_video; /* tee of raw video for the composite, or NULL */
  /* A remote input in a composite: tee after video_out (past its gate)
   * feeding the recorder untouched and the composite's decoder; or NULL */
  GstElement *video_split;
  GstElement *audio_split; /* the same for its audio (once found), or NULL */
  /* raw audio for the composite's mix, or NULL: a test input's tee, or the
   * last element of a remote input's decoded audio (once found) */
  GstElement *raw_audio;
  GstElement *depay; /* where a dynamic source's video pad links */
  GstElement *demux; /* parsebin of srt/file inputs, or NULL */
  GstElement *audio_depay; /* where a dynamic source's audio pad links */
  gboolean live_remote; /* rtsp/srt: errors are gaps, retried */
  gboolean dynamic; /* rtsp/srt/file: pads appear once playing */
  gint pads_done; /* atomic: its recorder streams are decided */
  gint sdp_audio; /* atomic: an RTSP camera's SDP offers audio we record */
  gboolean flowed; /* a buffer came out (atomic) */
  gint fresh; /* atomic: a buffer came out since the last restart */
  gint resync; /* atomic: restarted, the gate re-times what comes next */
  gint audio_resync; /* atomic: the same for the audio gate */
  gint64 dropped_at; /* monotonic µs of the drop (main context), or 0 */
  guint retry_source;
  guint retries;
  guint audio_wait; /* timer: video found, audio may follow */
};

/* Builds input index from uri (already checked) into pipeline; composite
 * adds raw tees. (transfer full) */
MedInput *med_input_build (GstElement *pipeline, guint index, const char *uri,
    gboolean composite, GError **error);
void med_input_free (MedInput *in);
gboolean med_input_can_retry (MedInput *in);
/* Logs a gap and restarts the source after a back-off. */
void med_input_schedule_retry (MedInput *in, const char *why);
/* Ends the input: EOS into its chains. A remote input gets it below the
 * source (at its depayloaders), so it ends even while the camera is away. */
void med_input_send_eos (MedInput *in);
/* The input's video pad appeared without audio: its streams count as
 * known after a short wait for an audio pad (main context). */
void med_input_wait_for_audio (MedInput *in);
/* The main context learnt that media flows again after a restart. */
void med_input_came_back (MedInput *in);

/* A dynamic input found an audio stream before its pads were all known:
 * parse (already in the pipeline) gets a gate, a queue and a recorder
 * pad (from in->audio_split if set), and in->raw_audio, if set, a pad of
 * the composite's mix. Streaming thread. */
gboolean med_session_attach_input_audio (MedSession *s, MedInput *in,
    GstElement *parse, GError **error);
/* The input's streams are all known (no-more-pads, or the wait ended):
 * once every dynamic input is, the gates open. Any thread, once per input
 * counts. */
void med_session_input_pads_known (MedSession *s, MedInput *in);

void med_session_input_event (MedSession *s, MedInput *in,
    MedRecordingEvent kind, const char *detail);

G_END_DECLS
