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
  GstElement *raw_audio; /* tee of raw audio for the composite, or NULL */
  GstElement *depay; /* where a dynamic source's video pad links */
  gboolean live_remote; /* rtsp/srt: errors are gaps, retried */
  gboolean flowed; /* a buffer came out (atomic) */
  gint resync; /* atomic: restarted, the gate re-times what comes next */
  guint retry_source;
  guint retries;
};

/* Builds input index from uri (already checked) into pipeline; composite
 * adds raw tees. (transfer full) */
MedInput *med_input_build (GstElement *pipeline, guint index, const char *uri,
    gboolean composite, GError **error);
void med_input_free (MedInput *in);
gboolean med_input_can_retry (MedInput *in);
/* Logs a gap and restarts the source after a back-off. */
void med_input_schedule_retry (MedInput *in, const char *why);
void med_input_send_eos (MedInput *in);

void med_session_input_event (MedSession *s, MedInput *in,
    MedRecordingEvent kind, const char *detail);

G_END_DECLS
