/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-media.h — remote-session media: one GStreamer pipeline per recorded
 * session, built in C from validated input URIs, recorded by the project's
 * medrecorder element (Matroska segments + hash-chained manifest), with an
 * optional composite that is recorded and streamed live as HLS and,
 * optionally, on an RTSP mount for a room display.
 *
 * Everything runs on the thread-default main context of the caller: the
 * bus watch, the store updates and the finished callback. No call here
 * blocks on the pipeline. Court rules: a mediation-regime session starts
 * only when every party of the booking consented; pause drops all media
 * before the recorders (and the live stream) until resume. Every start,
 * pause, resume, stop, failure and input gap goes into the recording's
 * interruption log in the store.
 *
 * Only built when GStreamer was found (MEDSCHED_HAVE_MEDIA). */
#pragma once

#include <medsched/med-store.h>

G_BEGIN_DECLS

#define MED_MEDIA_ERROR (med_media_error_quark ())
GQuark med_media_error_quark (void);

typedef enum
{
  MED_MEDIA_ERROR_FAILED,
  MED_MEDIA_ERROR_URI, /* a malformed, unsupported or hostile input URI */
  MED_MEDIA_ERROR_CONSENT, /* mediation regime without every consent */
  MED_MEDIA_ERROR_STATE, /* pause when not recording, … */
  MED_MEDIA_ERROR_IO, /* output directory */
  MED_MEDIA_ERROR_MISSING, /* a GStreamer element is not installed */
} MedMediaError;

/* Initialises GStreamer (idempotent). */
gboolean med_media_init (GError **error);

/* Checks one input URI strictly: rtsp://host[:port]/path, srt://host:port,
 * v4l2:///dev/videoN, file:///absolute/path, test://video[?pattern=P],
 * test://av[?pattern=P]; printable ASCII only, at most 1024 bytes.
 * *redacted (optional) gets a form safe to log (no credentials, no query).
 * (transfer full) */
gboolean med_media_check_uri (const char *uri, char **redacted, GError **error);

typedef struct
{
  gint64 booking_id;
  MedRecordingRegime regime;
  const char *dir; /* created; must not hold a recording yet */
  const char *const *inputs; /* NULL-terminated URIs, at least one */
  gboolean composite; /* grid + mix + stamp + one H.264 encode, HLS live */
  const char *case_number; /* burned into the composite; nullable */
  const char *room; /* nullable */
  const char *zone; /* IANA zone for the stamp; nullable */
  guint64 segment_ns; /* 0 = medrecorder's default */
  const char *actor;
  /* The composite's H.264 (the same encode as HLS, no second one) served
   * by an RTSP server for a room display: port 0 = none. Needs composite. */
  guint rtsp_port;
  const char *rtsp_mount; /* "/name[/name]…" ([A-Za-z0-9_-]); NULL = /live */
  const char *rtsp_address; /* NULL = 127.0.0.1 */
} MedSessionConfig;

typedef struct _MedSession MedSession;

/* Called once on the main context when the session ended: error NULL when
 * the recording was sealed, else why it failed. */
typedef void (*MedSessionFinishedFunc) (MedSession *session,
    const GError *error, gpointer user_data);

/* Validates, checks consent, creates the directory and the recording row
 * (state idle) and builds the pipeline. The store must outlive the session.
 * (transfer full) */
MedSession *med_session_new (MedStore *store, const MedSessionConfig *config,
    GError **error);
void med_session_set_finished_func (MedSession *s, MedSessionFinishedFunc func,
    gpointer user_data);
/* Sets the pipeline playing; state recording, "start" logged. */
gboolean med_session_start (MedSession *s, GError **error);
gboolean med_session_pause (MedSession *s, GError **error);
gboolean med_session_resume (MedSession *s, GError **error);
/* TRUE between a pause and its resume (a private caucus). */
gboolean med_session_is_paused (MedSession *s);
/* Sends EOS; the session seals asynchronously (finished func). A second
 * stop does nothing. */
void med_session_stop (MedSession *s);
/* The same, with why in the interruption log's stop entry (e.g. "booking
 * ended"); why may be NULL. */
void med_session_stop_because (MedSession *s, const char *why);
/* Tears the pipeline down without waiting for EOS (a stop that did not
 * finish): the manifests are sealed as stopped without a final file, the
 * row becomes stopped with why, and the finished func runs with an error. */
void med_session_abort (MedSession *s, const char *why);
gint64 med_session_get_recording_id (MedSession *s);
/* Absolute path of the HLS playlist, or NULL without composite.
 * (transfer none) */
const char *med_session_get_playlist (MedSession *s);
/* rtsp://ADDRESS:PORT/MOUNT of the composite's RTSP mount, or NULL.
 * (transfer none) */
const char *med_session_get_rtsp_url (MedSession *s);
gboolean med_session_is_finished (MedSession *s);
/* TRUE once every video input has passed its first keyframe to the
 * recorders (so an EOS now ends a recording that holds media). */
gboolean med_session_has_media (MedSession *s);
void med_session_free (MedSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedSession, med_session_free)

/* Recovery after a killed recorder: seals every unsealed manifest of a
 * recording in state recording/paused whose process is gone, as
 * "interrupted", and marks it stopped. *n_recovered gets the count. */
gboolean med_media_recover (MedStore *store, const char *actor,
    guint *n_recovered, GError **error);

G_END_DECLS
