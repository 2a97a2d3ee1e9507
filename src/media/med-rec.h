/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-rec.h — one recording branch, private to the media module: what a
 * session's pipeline (med-session.c) and a WebRTC call (med-call.c) both
 * record with. A MedRec is one medrecorder element with its recording row
 * in the store, and a MedRecTrack per recorded stream: the gate (a pad
 * probe upstream of the recorder: closed while paused, video from a
 * keyframe, audio from its video's start, held until its time is known),
 * the queue into the recorder and the re-timing on that queue's sink pad
 * (the recorder sees recording time from zero on a plain segment, strictly
 * increasing per track). Stopping drains the live part; the offline part
 * (remux and seal, gst_med_recording_finish) then runs on a worker thread,
 * off the pipeline, and the row is sealed from the manifest it read back.
 * The court rules' start/pause/resume/stop go into the row's interruption
 * log through the same calls for both users.
 *
 * Threads: everything but the probes runs on the main context the MedRec
 * was made on (bus messages are handed in by the owner's bus watch). */
#pragma once

#include <medsched/med-media.h>

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _MedRec MedRec;
typedef struct _MedRecTrack MedRecTrack;

typedef struct
{
  /* The recording row: made by med_rec_new when store is set; with store
   * NULL the recorder has no row of its own (a session's composite, whose
   * row is the session's). */
  MedStore *store;
  gint64 booking_id;
  MedRecordingRegime regime;
  const char *actor;
  gint64 recording_id; /* the manifest's recording id when store is NULL */
  const char *dir; /* created by the caller */
  const char *name; /* the element's name, or NULL */
  guint64 segment_ns; /* 0 = medrecorder's default */
  gboolean leaky; /* the queues drop when full (never hold up a call) */
  GstBin *bin; /* where the elements go */
  /* For `MEDSCHED_BENCH_LOG=1` debug lines (e.g. "booking=7 participant=x
   * join=1"), or NULL. No personal data. */
  const char *label;
} MedRecConfig;

/* Called once on the main context: error NULL when the recording was
 * sealed (its row too, when it has one). */
typedef void (
    *MedRecDoneFunc) (MedRec *rec, const GError *error, gpointer user_data);

/* Makes the row (state idle) and the medrecorder in config->bin (not
 * started: the owner syncs its state). (transfer full) */
MedRec *med_rec_new (const MedRecConfig *config, GError **error);
void med_rec_set_done_func (MedRec *r, MedRecDoneFunc func, gpointer data);
/* 0 when it has no row. */
gint64 med_rec_get_id (MedRec *r);
/* (transfer none) */
GstElement *med_rec_get_element (MedRec *r);

/* A stream into the recorder: a queue linked from link_pad (gate_pad, or a
 * pad downstream of it, e.g. a tee's branch) to a new recorder pad, gated
 * at gate_pad. video: for an audio track, the video track of the same
 * source (its audio starts with that video), or NULL. Before data flows
 * (the recorder's pads are fixed once it does). (transfer none) */
MedRecTrack *med_rec_add_track (MedRec *r, GstPad *gate_pad, GstPad *link_pad,
    gboolean is_video, MedRecTrack *video, GError **error);
/* An audio track's video, found after both were added. */
void med_rec_track_set_video (MedRecTrack *audio, MedRecTrack *video);
/* A video track whose audio may start a little after it (a camera): it
 * starts at a keyframe its audio has reached, waiting at most 2 s. */
void med_rec_track_wait_for_audio (MedRecTrack *video, gboolean wait);
/* Links the tracks added since the last call to their queues, once the
 * recorder and the queues run like their bin (so nothing is pushed into a
 * stopped pad). Any thread. */
void med_rec_attach (MedRec *r, GError **error);

typedef enum
{
  MED_REC_TIME_OK, /* *t is the buffer's time */
  MED_REC_TIME_WAIT, /* not known yet: the gate holds the buffer */
  MED_REC_TIME_RUNNING, /* use its running time */
} MedRecTime;

/* The track's time for a buffer from something other than its running
 * time (a sender's clock): *t on the running-time scale, any origin,
 * comparable between the tracks of one source. Streaming thread. */
typedef MedRecTime (
    *MedRecTimeFunc) (GstBuffer *buf, GstClockTime *t, gpointer data);
void med_rec_track_set_time_func (MedRecTrack *t, MedRecTimeFunc func,
    gpointer data, GDestroyNotify destroy);
/* What came before the gate's first buffer and should be recorded first
 * (a late recorder catching up): buffers older than first, oldest first,
 * or NULL. Called once, streaming thread. (transfer full) */
typedef GPtrArray *(*MedRecBacklogFunc) (GstBuffer *first, gpointer data);
void med_rec_track_set_backlog_func (MedRecTrack *t, MedRecBacklogFunc func,
    gpointer data, GDestroyNotify destroy);
/* Looks at each buffer that reaches an open gate before anything else,
 * once (held buffers sent on later do not come back here): FALSE drops
 * it; it may replace *buf (a writable copy with other timestamps). The
 * data must outlive the gate. Streaming thread. */
typedef gboolean (
    *MedRecFilterFunc) (GstPad *pad, GstBuffer **buf, gpointer data);
void med_rec_track_set_filter (MedRecTrack *t, MedRecFilterFunc func,
    gpointer data);
/* The source restarted: video goes on from its next keyframe. Any
 * thread. */
void med_rec_track_want_keyframe (MedRecTrack *t);

/* Court rules, written into the row's log. start: state recording (or
 * paused, and a pause entry "joined while paused"), a start entry with
 * detail, and a gap entry when gap is set; the gates open unless paused. */
void med_rec_start (MedRec *r, const char *detail, const char *gap,
    gboolean paused);
/* pause: the gates drop everything (private caucus), state paused, a pause
 * entry; resume: state recording, a resume entry, video from the next
 * keyframe (asked for). Nothing when already so. */
void med_rec_pause (MedRec *r, const char *detail);
void med_rec_resume (MedRec *r, const char *detail);
/* Any entry of the row's interruption log (an input's gap). */
void med_rec_log (MedRec *r, MedRecordingEvent kind, const char *detail);
/* The gates open or close without a log entry (a recorder made while the
 * call records, before anything was logged). */
void med_rec_set_open (MedRec *r, gboolean open);
/* Ends the recording: a stop entry with why; with push_eos the gates
 * close, the branches leave their link pads (request pads are released)
 * and EOS goes into the queues from a thread of its own, else the owner
 * sends EOS upstream. A recorder that got nothing is stopped at once
 * (row stopped, done with an error). seal_timeout: seconds the live part
 * may take to close (0 = no limit); then the row is stopped. The offline
 * part has no limit. */
void med_rec_stop (MedRec *r, const char *why, gboolean push_eos,
    guint seal_timeout);
/* Tears it down now: the recorder to NULL (its manifest sealed as stopped,
 * or a running finish cancelled), the row set to state with why (failed
 * or stopped) and a failure entry, done with an error. Once. */
void med_rec_abort (MedRec *r, MedRecordingState state, const char *why);
/* A bus message of the owner's pipeline: TRUE when it was the recorder's
 * (segments become rows, its close starts the offline part, its error
 * fails it). Main context. */
gboolean med_rec_handle_message (MedRec *r, GstMessage *msg);
/* Takes the elements out of the bin (after done). */
void med_rec_remove (MedRec *r);

gboolean med_rec_is_done (MedRec *r);
/* Every video track passed its first keyframe. */
gboolean med_rec_has_media (MedRec *r);
/* A buffer reached the recorder. */
gboolean med_rec_got_media (MedRec *r);
/* Cancels what runs (a finish in progress is cancelled: its manifest is
 * sealed as stopped while finishing) without touching the row. */
void med_rec_free (MedRec *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedRec, med_rec_free)

/* The mediation regime's rule: TRUE when the regime needs no consent or
 * every party of the booking consented, else MED_MEDIA_ERROR_CONSENT
 * saying how many did not. */
gboolean med_rec_check_consent (MedStore *store, gint64 booking_id,
    MedRecordingRegime regime, GError **error);

/* Asks the source upstream of pad for a keyframe (force-key-unit; a pad of
 * either direction), each request with a count of its own: rtpsession
 * gives a FIR a new sequence number only when the count differs, and a
 * browser ignores a FIR whose number it has seen. */
void med_media_ask_keyframe (GstPad *pad);

G_END_DECLS
