/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-call.c — a remote session's WebRTC call (see
 * include/medsched/med-call.h and docs/webrtc.md).
 *
 * One pipeline per call; per participant and offer ("media generation"):
 *
 *   webrtcbin ─► rtp tee ─┬► depay [─► h264parse] ─► tee ─► gate ─► queue ─► medrecorder
 *       ▲                 └► (other's selector: RTP as it came)
 *       └── rewrite ◄── input-selector ◄── the other participants' rtp tees
 *
 * The client offers, webrtcbin answers. Before the remote offer is set,
 * a sink pad per offered m-line is requested with codec caps (no payload
 * type: the offerer chose it) and its transceiver is given those caps as
 * codec preferences; the answer's payload types are then read back and
 * given to the rewriters of the sending m-lines. Candidates webrtcbin
 * finds before the answer went out are held until it did.
 *
 * Forwarding never re-encodes, nor even depayloads: the RTP packets of a
 * source go, as they came out of its jitter buffer, through the
 * destination's input-selector for that slot and kind (its one active
 * input: the participant the slot was given to) and a rewriter (SSRC and
 * payload type of the destination's m-line, sequence numbers and
 * timestamps continuous across a change of source) into the destination's
 * webrtcbin, in the source's streaming thread: no queue, no payloader. A
 * branch opens only once the destination's connection is up (webrtcbin
 * holds RTP until DTLS is, which would stall the source). A new viewer or
 * a switch waits for a packet that starts a keyframe and asks the source
 * for one (upstream force-key-unit, which rtpsession turns into a PLI or
 * FIR). Only recordings depayload.
 *
 * Recording: a recording branch of med-rec.c (the session pipeline's
 * kind) per participant and join, created when the recording starts or
 * when a participant's media arrives while it runs, gated on the tee's
 * branch pads: every recorder pad is requested before those are linked,
 * so no data reaches it earlier. Its gate drops while the recording is
 * paused or the branch is ending, video until a keyframe after opening,
 * audio until the video started, and the recorder gets time from zero.
 * Ending a branch sends EOS into its queues (never into the muxer); once
 * the recorder's live part closed, the final file is made and the row
 * sealed off the pipeline (or the row is marked stopped after the seal
 * timeout).
 *
 * webrtcbin calls back on its own threads: everything it says is handed
 * to the call's main context with the participant's media generation, and
 * dropped there if that generation is gone. pad-added links synchronously
 * (elements prepared beforehand, owned by the generation). */
#define G_LOG_DOMAIN "medsched-call"
#define GST_USE_UNSTABLE_API

#include <medsched/med-call.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include "med-rec.h"
#include "med-rtp.h"
#include "med-sender-clock.h"


/* clang-format off */
G_DEFINE_QUARK (med-call-error-quark, med_call_error)
/* clang-format on */

enum
{
  KIND_VIDEO,
  KIND_AUDIO,
  N_KINDS
};

typedef enum
{
  CODEC_NONE,
  CODEC_VP8,
  CODEC_H264,
  CODEC_OPUS,
} Codec;

/* Receive slots: a participant's offer may add recvonly m-lines, one video
 * and one audio per other participant it wants to see and hear. */
#define MAX_SLOTS  5
#define MAX_MLINES (2 * MAX_SLOTS)

typedef struct _Peer Peer;
typedef struct _Media Media;
typedef struct _Rec Rec;
typedef struct _Fwd Fwd;

/* The latest media of one incoming track: since its last keyframe (video)
 * or its last RECENT_AUDIO buffers. A recorder made for a participant who
 * just joined starts with it, because the first keyframe has usually passed
 * the tee by the time the recorder exists (asking for another costs a round
 * trip and an encode). Shared by the tee's probe, the Track and recorder
 * gates; freed by the last. */
typedef struct
{
  gint refs; /* atomic */
  GMutex lock;
  GQueue bufs; /* GstBuffer refs, oldest first */
  gboolean is_video;
  gboolean from_keyframe; /* video: bufs start at a keyframe */
  GstClockTime first; /* timestamp of the first buffer */
} Recent;

#define RECENT_VIDEO 240
#define RECENT_AUDIO 100
/* Only a participant who just joined needs it: kept for their first
 * seconds only. */
#define RECENT_FOR (3 * GST_SECOND)

/* What arrives from a participant, one kind. */
typedef struct
{
  Codec codec;
  gint mline; /* -1 = not received */
  GstElement *rtptee; /* RTP as it came: forwarding, and the depayloader */
  GstElement *depay, *parse, *tee; /* parse may be NULL; tee: recorders */
  Recent *recent; /* a reference */
  MedSenderTrack *sender; /* the sender's clock for recordings (a ref) */
  gint linked; /* atomic: webrtcbin's src pad linked */
  gint flowing; /* atomic */
} Track;

/* What goes to a participant, one kind of one slot. */
typedef struct
{
  Codec codec;
  gint mline; /* -1 = nothing sent */
  char *mid; /* the offer's a=mid, or NULL */
  GstElement *selector; /* ─► rewrite ─► webrtcbin */
  MedRtpRewriter *rewriter;
  Fwd *active; /* not owned */
} Out;

struct _Media
{
  MedCall *call;
  Peer *peer; /* not a reference; the media dies first */
  guint gen;
  GstElement *wb;
  Track in[N_KINDS];
  MedSenderClock *clock; /* the sender's clock: lip-sync as it meant it */
  Out out[N_KINDS][MAX_SLOTS]; /* slot 0: the own m-lines' receive side */
  Peer *slot[MAX_SLOTS]; /* who is forwarded on each slot (not refs) */
  char *slots_sent; /* the last "slots" told, to tell changes only */
  GstElement *sinks; /* fakesink for surplus pads, or NULL */
  gboolean answer_sent;
  gboolean up; /* connected (ICE and DTLS): forwarding to it may start */
  gboolean flowed; /* a first buffer came out of webrtcbin */
  gint64 flowed_us; /* when (monotonic) */
  gboolean catch_up; /* it began while recording: record from its start */
  GPtrArray *held_ice; /* IceCand* found before the answer went out */
};

struct _Peer
{
  char *id;
  MedCallRole role;
  gint64 ref_id;
  MedCallPresence presence;
  gboolean ready;
  gboolean admitted_once; /* admitted before and not removed */
  guint64 admit_seq;
  guint n_joins; /* recorders made for this participant */
  gint64 left_at_us; /* when the media last ended, for the gap log */
  Media *media; /* NULL when no peer connection */
  Rec *rec; /* current recorder, or NULL */
  gboolean connected;
};

struct _Fwd
{
  MedCall *call;
  Peer *src, *dst; /* not references; removed with either's media */
  guint kind;
  guint slot; /* the destination's slot */
  GstPad *teepad; /* ref: the source's rtp tee */
  GstPad *selpad; /* ref */
  struct _FwdGate *gate; /* shared with the probe */
};

/* What a forwarding branch's probe reads: shared by the Fwd and the probe
 * (which may still run on the streaming thread while the main thread lets
 * the Fwd go), freed by whichever lets go last. */
typedef struct _FwdGate
{
  gint refs; /* atomic */
  gint open; /* atomic */
  gint want_keyframe; /* atomic: video waits for a keyframe */
  gint active; /* atomic: the destination's selector takes this branch */
  MedRtpCodec codec;
  gint64 asked_us; /* the probe's thread: last keyframe request */
  gint64 relayed_us; /* the event probe's thread: last relayed request */
} FwdGate;

static void
fwd_gate_unref (gpointer data)
{
  FwdGate *g = data;

  if (g_atomic_int_dec_and_test (&g->refs))
    g_free (g);
}

/* A participant's recorder (one per participant and join). */
struct _Rec
{
  MedCall *call;
  char *peer_id;
  guint join; /* the participant's n-th recorder */
  MedRec *rec;
};

struct _MedCall
{
  MedStore *store;
  GMainContext *ctx;
  gint64 booking_id;
  MedRecordingRegime regime;
  char *media_dir;
  char *stun, *turn, *actor;
  guint seal_timeout;
  GstElement *pipeline;
  guint bus_watch;
  GPtrArray *peers; /* Peer*, join order */
  GPtrArray *fwds; /* Fwd* */
  GPtrArray *recs; /* Rec*, all of this call, running or done */
  GArray *recording_ids;
  MedCallRecState rec_state;
  gboolean paused_by_caucus;
  char *caucus;
  guint64 next_seq;
  guint next_gen;
  gboolean ending, ended, disposed;
  MedCallEventFunc event_func;
  gpointer event_data;
  gint refs; /* atomic: the owner and pending invocations */
};

typedef struct
{
  guint mline;
  char *candidate;
} IceCand;

/* ---- strings ----------------------------------------------------------- */

const char *
med_call_role_to_string (MedCallRole r)
{
  static const char *const names[]
      = { "party", "mediator", "clerk", "admin", "room" };

  return r < G_N_ELEMENTS (names) ? names[r] : "party";
}

const char *
med_call_presence_to_string (MedCallPresence p)
{
  static const char *const names[]
      = { "waiting", "admitted", "in-call", "held", "left" };

  return p < G_N_ELEMENTS (names) ? names[p] : "left";
}

const char *
med_call_rec_to_string (MedCallRecState s)
{
  static const char *const names[] = { "off", "recording", "paused" };

  return s < G_N_ELEMENTS (names) ? names[s] : "off";
}

/* ---- events and small helpers ----------------------------------------- */

static void
emit (MedCall *c, MedCallEventKind kind, const char *participant)
{
  MedCallEvent ev = { 0 };

  ev.kind = kind;
  ev.participant = participant;
  if (c->event_func && !c->disposed)
    c->event_func (c, &ev, c->event_data);
}

static void
emit_error (MedCall *c, const char *participant, const char *code,
    const char *message, gboolean to_staff)
{
  MedCallEvent ev = { 0 };

  ev.kind = MED_CALL_EVENT_ERROR;
  ev.participant = participant;
  ev.code = code;
  ev.message = message;
  ev.to_staff = to_staff;
  if (c->event_func && !c->disposed)
    c->event_func (c, &ev, c->event_data);
}

static void
emit_state (MedCall *c)
{
  emit (c, MED_CALL_EVENT_STATE, NULL);
}

static GstElement *
make (const char *factory, GError **error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (e == NULL)
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
        "GStreamer element %s is not installed", factory);
  return e;
}

static Peer *
find_peer (MedCall *c, const char *id)
{
  for (guint i = 0; id && i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];

    if (strcmp (p->id, id) == 0)
      return p;
  }
  return NULL;
}

static gboolean
is_staff (const Peer *p)
{
  return p->role != MED_CALL_ROLE_PARTY && p->role != MED_CALL_ROLE_ROOM;
}

static Peer *
need_peer (MedCall *c, const char *id, GError **error)
{
  Peer *p = find_peer (c, id);

  if (p == NULL)
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_UNKNOWN,
        "no such participant");
  return p;
}

/* ---- forwarding's keyframe requests (streaming threads) ---------------- */

/* From a tee's src pad probe: asks the source for a keyframe, at most
 * once a second (rtpsession turns it into a PLI or FIR). */
static void
ask_keyframe_upstream (GstPad *teesrc, gint64 *asked_us)
{
  gint64 now = g_get_monotonic_time ();

  if (*asked_us != 0 && now - *asked_us < G_USEC_PER_SEC)
    return;
  *asked_us = now;
  med_media_ask_keyframe (teesrc);
}

static Recent *
recent_new (gboolean is_video)
{
  Recent *rc = g_new0 (Recent, 1);

  rc->refs = 1;
  g_mutex_init (&rc->lock);
  g_queue_init (&rc->bufs);
  rc->is_video = is_video;
  rc->first = GST_CLOCK_TIME_NONE;
  return rc;
}

static Recent *
recent_ref (Recent *rc)
{
  g_atomic_int_inc (&rc->refs);
  return rc;
}

static void
recent_unref (gpointer data)
{
  Recent *rc = data;

  if (rc == NULL || !g_atomic_int_dec_and_test (&rc->refs))
    return;
  g_queue_clear_full (&rc->bufs, (GDestroyNotify) gst_buffer_unref);
  g_mutex_clear (&rc->lock);
  g_free (rc);
}

/* The tee's sink pad (streaming thread): keeps the latest media. */
static GstPadProbeReturn
recent_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Recent *rc = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf)
                                                  : GST_BUFFER_DTS (buf);

  g_mutex_lock (&rc->lock);
  if (!GST_CLOCK_TIME_IS_VALID (rc->first))
    rc->first = ts;
  if (GST_CLOCK_TIME_IS_VALID (ts) && GST_CLOCK_TIME_IS_VALID (rc->first)
      && ts > rc->first + RECENT_FOR) {
    g_queue_clear_full (&rc->bufs, (GDestroyNotify) gst_buffer_unref);
    g_mutex_unlock (&rc->lock);
    return GST_PAD_PROBE_REMOVE;
  }
  if (rc->is_video) {
    if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      g_queue_clear_full (&rc->bufs, (GDestroyNotify) gst_buffer_unref);
      rc->from_keyframe = TRUE;
    }
    if (rc->from_keyframe) {
      g_queue_push_tail (&rc->bufs, gst_buffer_ref (buf));
      if (rc->bufs.length > RECENT_VIDEO) {
        /* A long picture group: none kept until the next keyframe. */
        g_queue_clear_full (&rc->bufs, (GDestroyNotify) gst_buffer_unref);
        rc->from_keyframe = FALSE;
      }
    }
  } else {
    g_queue_push_tail (&rc->bufs, gst_buffer_ref (buf));
    if (rc->bufs.length > RECENT_AUDIO)
      gst_buffer_unref (g_queue_pop_head (&rc->bufs));
  }
  g_mutex_unlock (&rc->lock);
  return GST_PAD_PROBE_OK;
}

/* A late recorder's backlog (med-rec): what the track kept before first,
 * oldest first. Streaming thread. */
static GPtrArray *
recent_backlog (GstBuffer *first, gpointer data)
{
  Recent *rc = data;
  GPtrArray *bufs
      = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  gboolean found = FALSE;

  g_mutex_lock (&rc->lock);
  for (GList *l = rc->bufs.head; l != NULL; l = l->next) {
    if (l->data == first) {
      found = TRUE;
      break;
    }
    g_ptr_array_add (bufs, gst_buffer_ref (l->data));
  }
  g_mutex_unlock (&rc->lock);
  if (!found)
    g_ptr_array_set_size (bufs, 0);
  return bufs;
}

static GstPadProbeReturn
fwd_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  FwdGate *f = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (!g_atomic_int_get (&f->open))
    return GST_PAD_PROBE_DROP;
  /* A viewer starts at a keyframe (the packet that begins one). */
  if (g_atomic_int_get (&f->want_keyframe)) {
    if (!med_rtp_starts_keyframe (buf, f->codec)) {
      ask_keyframe_upstream (pad, &f->asked_us);
      return GST_PAD_PROBE_DROP;
    }
    g_atomic_int_set (&f->want_keyframe, 0);
    if (f->codec != MED_RTP_OPUS)
      g_debug ("bench: keyframe-forwarded us=%" G_GINT64_FORMAT,
          g_get_real_time ());
  }
  return GST_PAD_PROBE_OK;
}

/* Keyframe requests from downstream of a forwarding branch stop here and a
 * fresh one goes to the source (at most once a second), only from the
 * branch the viewer is receiving. Above all the viewer's own request: its
 * PLI or FIR, which its webrtcbin's send side turns into an upstream
 * force-key-unit, comes back through the selector
 * carrying the viewer's SSRC, which the source's RTP session does not know
 * (rtpssrcdemux only adds the SSRC when there is none): passed on as it
 * is, it would be dropped there. */
static GstPadProbeReturn
fwd_event_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  FwdGate *f = user_data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

  if (!gst_video_event_is_force_key_unit (ev))
    return GST_PAD_PROBE_OK;
  if (g_atomic_int_get (&f->open) && g_atomic_int_get (&f->active))
    ask_keyframe_upstream (pad, &f->relayed_us);
  return GST_PAD_PROBE_DROP;
}

/* ---- recorders --------------------------------------------------------- */

static void check_ended (MedCall *c);

static gboolean
rec_remove_idle_cb (gpointer data)
{
  Rec *r = data;

  med_rec_remove (r->rec);
  return G_SOURCE_REMOVE;
}

/* The recorder is done: sealed, or failed or stopped (its row says). */
static void
rec_done_cb (MedRec *rec, const GError *error, gpointer data)
{
  Rec *r = data;
  MedCall *c = r->call;
  Peer *p = find_peer (c, r->peer_id);

  if (p != NULL && p->rec == r)
    p->rec = NULL;
  g_idle_add_full (G_PRIORITY_DEFAULT, rec_remove_idle_cb, r, NULL);
  check_ended (c);
}

static void
rec_free (Rec *r)
{
  g_idle_remove_by_data (r);
  g_clear_pointer (&r->rec, med_rec_free);
  g_free (r->peer_id);
  g_free (r);
}

/* A recorder for participant p's current media, while recording. */
static gboolean
rec_start (MedCall *c, Peer *p, const char *gap, gboolean catch_up,
    GError **error)
{
  Media *m = p->media;
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *label = NULL;
  MedRecConfig rc = { 0 };
  MedRecTrack *video = NULL;
  Rec *r;
  int e = 0;

  if (m == NULL || p->rec != NULL)
    return TRUE;
  if (m->in[KIND_VIDEO].tee == NULL && m->in[KIND_AUDIO].tee == NULL)
    return TRUE; /* they send nothing */
  base = g_strdup_printf ("%s/booking-%" G_GINT64_FORMAT, c->media_dir,
      c->booking_id);
  /* The next free folder of this participant, taken by creating it: the
   * media directory may be shared by several nodes (docs/scale.md), and a
   * call that moved to another node numbers from 1 again, so only mkdir
   * itself can say whether a folder is still free. */
  if (g_mkdir_with_parents (base, 0750) != 0)
    e = errno;
  while (e == 0) {
    g_autofree char *leaf = g_strdup_printf ("%s-%u", p->id, ++p->n_joins);

    g_free (dir);
    dir = g_build_filename (base, leaf, NULL);
    if (g_mkdir (dir, 0750) == 0)
      break;
    if (errno != EEXIST)
      e = errno;
  }
  if (e != 0) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
        "cannot create the recording directory: %s", g_strerror (e));
    return FALSE;
  }
  label = g_strdup_printf ("booking=%" G_GINT64_FORMAT " participant=%s "
                           "join=%u",
      c->booking_id, p->id, p->n_joins);
  rc.store = c->store;
  rc.booking_id = c->booking_id;
  rc.regime = c->regime;
  rc.actor = c->actor;
  rc.dir = dir;
  rc.leaky = TRUE;
  rc.bin = GST_BIN (c->pipeline);
  rc.label = label;
  r = g_new0 (Rec, 1);
  r->call = c;
  r->peer_id = g_strdup (p->id);
  r->join = p->n_joins;
  r->rec = med_rec_new (&rc, error);
  if (r->rec == NULL) {
    rec_free (r);
    return FALSE;
  }
  {
    gint64 id = med_rec_get_id (r->rec);

    g_array_append_val (c->recording_ids, id);
  }
  g_ptr_array_add (c->recs, r);
  med_rec_set_done_func (r->rec, rec_done_cb, r);
  /* Every recorder pad before anything can flow: the tee's branch pads
   * are linked by med_rec_attach, once the recorder runs. */
  for (guint k = 0; k < N_KINDS; k++) {
    g_autoptr (GstPad) teepad = NULL;
    MedRecTrack *t;

    if (m->in[k].tee == NULL)
      continue;
    teepad = gst_element_request_pad_simple (m->in[k].tee, "src_%u");
    t = med_rec_add_track (r->rec, teepad, teepad, k == KIND_VIDEO, video,
        error);
    if (t == NULL)
      goto failed;
    if (k == KIND_VIDEO)
      video = t;
    /* Who joined a call that records is recorded from their first
     * keyframe (what the track kept), not from the next one asked for. */
    if (catch_up && m->in[k].recent != NULL
        && c->rec_state == MED_CALL_REC_RECORDING)
      med_rec_track_set_backlog_func (t, recent_backlog,
          recent_ref (m->in[k].recent), recent_unref);
    /* Timed by the sender's clock: A/V as the sender meant them, not as
     * the packets arrived (the live call keeps its arrival times). */
    med_rec_track_set_time_func (t, med_sender_clock_time,
        med_sender_track_ref (m->in[k].sender), med_sender_track_unref);
  }
  med_rec_attach (r->rec, error);
  if (error != NULL && *error != NULL)
    goto failed;
  p->rec = r;
  med_rec_start (r->rec, "participant recording started (call recording)", gap,
      c->rec_state == MED_CALL_REC_PAUSED);
  g_info ("booking %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT
          " of a participant started",
      c->booking_id, med_rec_get_id (r->rec));
  return TRUE;

failed:
  med_rec_abort (r->rec, MED_RECORDING_FAILED, (*error)->message);
  return FALSE;
}

/* ---- forwarding -------------------------------------------------------- */

static gboolean
peer_may_send (MedCall *c, Peer *p)
{
  return p->media != NULL
      && (p->presence == MED_CALL_IN_CALL || p->presence == MED_CALL_ADMITTED);
}

/* What is left of a forwarding branch: its pad on the source's rtp tee
 * and its pad on the destination's selector, with their elements. */
typedef struct
{
  GstElement *tee, *sel; /* refs, or NULL */
  GstPad *teepad, *selpad; /* refs, or NULL */
} FwdRemains;

/* On a thread of its own: releasing a request pad waits for a push in
 * flight through it, which may be inside the destination's webrtcbin. */
static gpointer
fwd_remains_thread (gpointer data)
{
  FwdRemains *fr = data;

  if (fr->teepad != NULL && fr->selpad != NULL)
    gst_pad_unlink (fr->teepad, fr->selpad);
  if (fr->tee != NULL && fr->teepad != NULL)
    gst_element_release_request_pad (fr->tee, fr->teepad);
  if (fr->sel != NULL && fr->selpad != NULL)
    gst_element_release_request_pad (fr->sel, fr->selpad);
  gst_clear_object (&fr->teepad);
  gst_clear_object (&fr->selpad);
  gst_clear_object (&fr->tee);
  gst_clear_object (&fr->sel);
  g_free (fr);
  return NULL;
}

/* Takes a forwarding branch out without waiting on the main thread for
 * anything a streaming thread holds: the gate closes at once, the pads go
 * on a helper thread. */
static void
fwd_free (Fwd *f)
{
  Media *dm = f->dst->media;
  FwdRemains *fr = g_new0 (FwdRemains, 1);

  g_atomic_int_set (&f->gate->open, 0);
  g_atomic_int_set (&f->gate->active, 0);
  if (dm && dm->out[f->kind][f->slot].active == f)
    dm->out[f->kind][f->slot].active = NULL;
  if (f->teepad) {
    fr->tee = GST_ELEMENT (gst_pad_get_parent (f->teepad));
    fr->teepad = g_steal_pointer (&f->teepad);
  }
  if (f->selpad) {
    fr->sel = GST_ELEMENT (gst_pad_get_parent (f->selpad));
    fr->selpad = g_steal_pointer (&f->selpad);
  }
  g_thread_unref (g_thread_new ("med-fwd-free", fwd_remains_thread, fr));
  fwd_gate_unref (f->gate);
  g_free (f);
}

static Fwd *
fwd_find (MedCall *c, Peer *src, Peer *dst, guint kind)
{
  for (guint i = 0; i < c->fwds->len; i++) {
    Fwd *f = c->fwds->pdata[i];

    if (f->src == src && f->dst == dst && f->kind == kind)
      return f;
  }
  return NULL;
}

static MedRtpCodec
rtp_codec (Codec codec)
{
  return codec == CODEC_VP8 ? MED_RTP_VP8
      : codec == CODEC_H264 ? MED_RTP_H264
                            : MED_RTP_OPUS;
}

static Fwd *
fwd_new (MedCall *c, Peer *src, Peer *dst, guint kind, guint slot)
{
  Track *t = &src->media->in[kind];
  Out *o = &dst->media->out[kind][slot];
  Fwd *f = g_new0 (Fwd, 1);

  f->call = c;
  f->src = src;
  f->dst = dst;
  f->kind = kind;
  f->slot = slot;
  f->gate = g_new0 (FwdGate, 1);
  f->gate->refs = 3; /* the Fwd and the two probes */
  f->gate->want_keyframe = kind == KIND_VIDEO;
  f->gate->codec = rtp_codec (t->codec);
  f->selpad = gst_element_request_pad_simple (o->selector, "sink_%u");
  f->teepad = gst_element_request_pad_simple (t->rtptee, "src_%u");
  gst_pad_add_probe (f->teepad, GST_PAD_PROBE_TYPE_BUFFER, fwd_probe_cb,
      f->gate, fwd_gate_unref);
  gst_pad_add_probe (f->teepad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      fwd_event_probe_cb, f->gate, fwd_gate_unref);
  gst_pad_link (f->teepad, f->selpad);
  g_ptr_array_add (c->fwds, f);
  return f;
}

static gboolean
slot_usable (const Media *m, guint s)
{
  for (guint k = 0; k < N_KINDS; k++)
    if (m->out[k][s].selector != NULL && m->out[k][s].mline >= 0)
      return TRUE;
  return FALSE;
}

static gboolean
has_slot (const Media *m, const Peer *p)
{
  for (guint s = 0; s < MAX_SLOTS; s++)
    if (m->slot[s] == p)
      return TRUE;
  return FALSE;
}

/* Tells a participant who arrives on which of its m-lines, when that
 * changed. */
static void
tell_slots (MedCall *c, Peer *dst)
{
  Media *dm = dst->media;
  MedCallSlot slots[MAX_SLOTS];
  MedCallEvent ev = { 0 };
  GString *sig = g_string_new (NULL);

  for (guint s = 0; s < MAX_SLOTS; s++) {
    MedCallSlot *sl = &slots[ev.n_slots];
    Out *v = &dm->out[KIND_VIDEO][s], *a = &dm->out[KIND_AUDIO][s];

    if (dm->slot[s] == NULL)
      continue;
    sl->participant = dm->slot[s]->id;
    sl->video_mid = v->active ? v->mid : NULL;
    sl->audio_mid = a->active ? a->mid : NULL;
    g_string_append_printf (sig, "%s/%s/%s;", sl->participant,
        sl->video_mid ? sl->video_mid : "-",
        sl->audio_mid ? sl->audio_mid : "-");
    ev.n_slots++;
  }
  if (g_strcmp0 (sig->str, dm->slots_sent) == 0) {
    g_string_free (sig, TRUE);
    return;
  }
  g_free (dm->slots_sent);
  dm->slots_sent = g_string_free (sig, FALSE);
  ev.kind = MED_CALL_EVENT_SLOTS;
  ev.participant = dst->id;
  ev.slots = slots;
  if (c->event_func)
    c->event_func (c, &ev, c->event_data);
}

/* Makes the forwarding match who is in the call and who is held: every
 * other participant who may send gets a receive slot of the destination
 * while one is free (kept while they stay, so nobody's picture moves; the
 * most recently admitted first), and each slot's m-lines carry a branch
 * from that participant's tee, same codec only. */
static void
update_forwarding (MedCall *c)
{
  /* Branches whose ends are gone. */
  for (guint i = c->fwds->len; i-- > 0;) {
    Fwd *f = c->fwds->pdata[i];

    if (f->src->media == NULL || f->dst->media == NULL) {
      g_ptr_array_remove_index (c->fwds, i);
      fwd_free (f);
    }
  }
  for (guint i = 0; i < c->peers->len; i++) {
    Peer *dst = c->peers->pdata[i];
    Media *dm = dst->media;
    gboolean dst_open;

    /* The payload types are known once the answer went out. */
    if (dm == NULL || !dm->answer_sent)
      continue;
    dst_open = peer_may_send (c, dst);
    for (guint s = 0; s < MAX_SLOTS; s++)
      if (dm->slot[s] != NULL && (!dst_open || !peer_may_send (c, dm->slot[s])))
        dm->slot[s] = NULL;
    for (guint s = 0; dst_open && s < MAX_SLOTS; s++) {
      Peer *next = NULL;

      if (dm->slot[s] != NULL || !slot_usable (dm, s))
        continue;
      for (guint j = 0; j < c->peers->len; j++) {
        Peer *src = c->peers->pdata[j];

        if (src != dst && peer_may_send (c, src) && !has_slot (dm, src)
            && (next == NULL || src->admit_seq > next->admit_seq))
          next = src;
      }
      if (next == NULL)
        break;
      dm->slot[s] = next;
    }
    /* Branches from participants without a slot here (any more) go. */
    for (guint j = c->fwds->len; j-- > 0;) {
      Fwd *f = c->fwds->pdata[j];

      if (f->dst == dst && dm->slot[f->slot] != f->src) {
        g_ptr_array_remove_index (c->fwds, j);
        fwd_free (f);
      }
    }
    for (guint k = 0; k < N_KINDS; k++) {
      for (guint s = 0; s < MAX_SLOTS; s++) {
        Out *o = &dm->out[k][s];
        Peer *src = dm->slot[s];
        Fwd *want = NULL;

        if (o->selector == NULL)
          continue;
        if (src != NULL && o->mline >= 0 && src->media->in[k].tee != NULL
            && src->media->in[k].codec == o->codec) {
          want = fwd_find (c, src, dst, k);
          if (want == NULL)
            want = fwd_new (c, src, dst, k, s);
          /* not before the destination's DTLS is up (webrtcbin would hold
           * the packet, and the source's streaming thread with it) */
          g_atomic_int_set (&want->gate->open, dm->up);
        }
        if (o->active == want)
          continue;
        if (o->active != NULL)
          g_atomic_int_set (&o->active->gate->active, 0);
        o->active = want;
        if (want != NULL) {
          g_object_set (o->selector, "active-pad", want->selpad, NULL);
          g_atomic_int_set (&want->gate->active, 1);
          if (k == KIND_VIDEO) {
            g_atomic_int_set (&want->gate->want_keyframe, 1);
            med_media_ask_keyframe (want->teepad);
          }
        }
      }
    }
    tell_slots (c, dst);
  }
}

/* ---- recording state across the call ---------------------------------- */

/* Ends every participant's recorder (why: the stop entry of each log). */
static void
recs_stop_all (MedCall *c, const char *why)
{
  for (guint i = 0; i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];

    if (p->rec != NULL)
      med_rec_stop (p->rec->rec, why, TRUE, c->seal_timeout);
    p->rec = NULL;
  }
}

/* Pause (detail) or resume every running recorder of the call. */
static void
recs_pause_all (MedCall *c, gboolean pause, const char *detail)
{
  for (guint i = 0; i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];

    if (p->rec == NULL)
      continue;
    if (pause)
      med_rec_pause (p->rec->rec, detail);
    else
      med_rec_resume (p->rec->rec, detail);
  }
}

/* Starts recorders for every participant with media. */
static void
recs_start_missing (MedCall *c)
{
  if (c->rec_state == MED_CALL_REC_OFF || c->ending)
    return;
  for (guint i = 0; i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];
    g_autoptr (GError) err = NULL;
    g_autofree char *gap = NULL;
    gboolean catch_up;

    /* Not before its media flows: a recorder made while the new
     * webrtcbin's DTLS is still being set up (right after the answer) left
     * it never completing (issue 6); JOB_FLOWING calls again. */
    if (p->media == NULL || p->rec != NULL || !peer_may_send (c, p)
        || !p->media->flowed)
      continue;
    if (p->left_at_us != 0)
      gap = g_strdup_printf ("participant rejoined after %.1f s away",
          (g_get_monotonic_time () - p->left_at_us) / 1e6);
    /* Who joined a call that records is recorded from their first
     * keyframe, not from the next one asked for. */
    catch_up = p->media->catch_up
        && g_get_monotonic_time () - p->media->flowed_us < G_USEC_PER_SEC;
    p->media->catch_up = FALSE;
    if (!rec_start (c, p, gap, catch_up, &err))
      g_warning ("booking %" G_GINT64_FORMAT ": cannot record a participant: "
                 "%s",
          c->booking_id, err->message);
  }
}

/* ---- webrtcbin callbacks ----------------------------------------------- */

typedef enum
{
  JOB_REMOTE_SET,
  JOB_ANSWER,
  JOB_ICE,
  JOB_ICE_STATE,
  JOB_CONN_STATE,
  JOB_FLOWING,
  JOB_FAILED,
} JobKind;

typedef struct
{
  MedCall *call; /* a reference */
  char *peer_id;
  guint gen;
  JobKind kind;
  guint mline;
  char *text;
  GstWebRTCSessionDescription *desc;
  gint state;
} Job;

static MedCall *
call_ref (MedCall *c)
{
  g_atomic_int_inc (&c->refs);
  return c;
}

static void call_unref (MedCall *c);

static void
job_free (Job *j)
{
  call_unref (j->call);
  g_free (j->peer_id);
  g_free (j->text);
  if (j->desc)
    gst_webrtc_session_description_free (j->desc);
  g_free (j);
}

static gboolean run_job_cb (gpointer data);

static void
post_job (Job *j)
{
  GSource *s = g_idle_source_new ();

  g_source_set_callback (s, run_job_cb, j, (GDestroyNotify) job_free);
  g_source_attach (s, j->call->ctx);
  g_source_unref (s);
}

/* Per media generation, what the webrtcbin callbacks need without
 * touching the Media (which the main thread may free): a heap copy. */
typedef struct
{
  MedCall *call; /* a reference */
  char *peer_id;
  guint gen;
} MediaRef;

static void
media_ref_free (gpointer data)
{
  MediaRef *mr = data;

  call_unref (mr->call);
  g_free (mr->peer_id);
  g_free (mr);
}

static void
media_ref_closure_free (gpointer data, GClosure *closure)
{
  media_ref_free (data);
}

/* (transfer full) */
static MediaRef *
media_ref_new (MedCall *c, const char *peer_id, guint gen)
{
  MediaRef *mr = g_new0 (MediaRef, 1);

  mr->call = call_ref (c);
  mr->peer_id = g_strdup (peer_id);
  mr->gen = gen;
  return mr;
}

static Job *
job_from_ref (MediaRef *mr, JobKind kind)
{
  Job *j = g_new0 (Job, 1);

  j->call = call_ref (mr->call);
  j->peer_id = g_strdup (mr->peer_id);
  j->gen = mr->gen;
  j->kind = kind;
  return j;
}

static void
ice_candidate_cb (GstElement *wb, guint mline, gchar *candidate,
    gpointer user_data)
{
  Job *j = job_from_ref (user_data, JOB_ICE);

  j->mline = mline;
  j->text = g_strdup (candidate);
  post_job (j);
}

/* notify::ice-connection-state and notify::connection-state (enums). */
static void
state_changed_cb (GstElement *wb, GParamSpec *pspec, gpointer user_data)
{
  gboolean ice = g_str_equal (pspec->name, "ice-connection-state");
  Job *j = job_from_ref (user_data, ice ? JOB_ICE_STATE : JOB_CONN_STATE);
  GValue v = G_VALUE_INIT;

  g_value_init (&v, pspec->value_type);
  g_object_get_property (G_OBJECT (wb), pspec->name, &v);
  j->state = g_value_get_enum (&v);
  g_value_unset (&v);
  post_job (j);
}

static GstPadProbeReturn
first_buffer_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  post_job (job_from_ref (user_data, JOB_FLOWING));
  return GST_PAD_PROBE_REMOVE;
}

/* Streaming thread: link the new src pad to the prepared depayloader. */
static void
pad_added_cb (GstElement *wb, GstPad *pad, gpointer user_data)
{
  Media *m = g_object_get_data (G_OBJECT (wb), "med-media");
  g_autoptr (GstCaps) caps = NULL;
  const GstStructure *s;
  const char *media;
  guint k;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC || m == NULL)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  s = caps && gst_caps_get_size (caps) > 0 ? gst_caps_get_structure (caps, 0)
                                           : NULL;
  media = s ? gst_structure_get_string (s, "media") : NULL;
  k = g_strcmp0 (media, "video") == 0 ? KIND_VIDEO : KIND_AUDIO;
  if (m->in[k].rtptee != NULL
      && g_atomic_int_compare_and_exchange (&m->in[k].linked, 0, 1)) {
    g_autoptr (GstPad) sink
        = gst_element_get_static_pad (m->in[k].rtptee, "sink");
    if (gst_pad_link (pad, sink) == GST_PAD_LINK_OK) {
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, first_buffer_cb,
          media_ref_new (m->call, m->peer->id, m->gen), media_ref_free);
      return;
    }
  }
  /* Anything else: swallowed. */
  {
    GstElement *sink = gst_element_factory_make ("fakesink", NULL);
    g_autoptr (GstPad) sp = NULL;

    g_object_set (sink, "async", FALSE, "sync", FALSE, NULL);
    gst_bin_add (GST_BIN (GST_ELEMENT_PARENT (wb)), sink);
    gst_element_sync_state_with_parent (sink);
    sp = gst_element_get_static_pad (sink, "sink");
    gst_pad_link (pad, sp);
  }
}

static void
promise_remote_set_cb (GstPromise *promise, gpointer user_data)
{
  post_job (job_from_ref (user_data, JOB_REMOTE_SET));
  gst_promise_unref (promise);
}

static void
promise_answer_cb (GstPromise *promise, gpointer user_data)
{
  Job *j = job_from_ref (user_data, JOB_ANSWER);
  const GstStructure *reply;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED
      && (reply = gst_promise_get_reply (promise)) != NULL
      && gst_structure_has_field (reply, "answer"))
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &j->desc, NULL);
  post_job (j);
  gst_promise_unref (promise);
}

/* ---- building a participant's media ------------------------------------ */

/* One m-line of an offer. */
typedef struct
{
  guint kind;
  gboolean used; /* FALSE: rejected by the offerer (port 0) */
  Codec codec;
  guint slot; /* 0: the own m-line of its kind; n: the n-th extra one */
  GstWebRTCRTPTransceiverDirection dir; /* ours */
  char *mid; /* a=mid, or NULL */
} OfferLine;

typedef struct
{
  OfferLine line[MAX_MLINES];
  guint n;
  gint own[N_KINDS]; /* the own m-line of each kind, or -1 */
} Offer;

static void
offer_clear (Offer *o)
{
  for (guint i = 0; i < o->n; i++)
    g_clear_pointer (&o->line[i].mid, g_free);
  o->n = 0;
}

static Codec
codec_in_media (const GstSDPMedia *md, guint kind)
{
  gboolean vp8 = FALSE, h264 = FALSE, opus = FALSE;

  for (guint i = 0; i < gst_sdp_media_attributes_len (md); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (md, i);
    const char *sp;

    if (g_strcmp0 (a->key, "rtpmap") != 0 || a->value == NULL)
      continue;
    sp = strchr (a->value, ' ');
    if (sp == NULL)
      continue;
    sp++;
    if (g_ascii_strncasecmp (sp, "VP8/90000", 9) == 0)
      vp8 = TRUE;
    else if (g_ascii_strncasecmp (sp, "H264/90000", 10) == 0)
      h264 = TRUE;
    else if (g_ascii_strncasecmp (sp, "opus/48000", 10) == 0)
      opus = TRUE;
  }
  if (kind == KIND_VIDEO)
    return vp8 ? CODEC_VP8 : h264 ? CODEC_H264 : CODEC_NONE;
  return opus ? CODEC_OPUS : CODEC_NONE;
}

/* An a=mid as the pages and "slots" may carry it: a short token. */
static gboolean
mid_ok (const char *mid)
{
  gsize len = strlen (mid);

  if (len == 0 || len > 32)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (mid[i]) && strchr ("-_.", mid[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* Reads an offer: the first audio and video m-lines are the participant's
 * own media; further ones must be recvonly (receive slots). */
static gboolean
check_offer (const char *text, Offer *o, GError **error)
{
  g_autoptr (GstSDPMessage) sdp = NULL;
  gboolean session_ice;
  guint n, n_kind[N_KINDS] = { 0, 0 };

  memset (o, 0, sizeof *o);
  o->own[0] = o->own[1] = -1;
  if (gst_sdp_message_new (&sdp) != GST_SDP_OK
      || gst_sdp_message_parse_buffer ((const guint8 *) text, strlen (text),
             sdp)
          != GST_SDP_OK
      || g_strcmp0 (gst_sdp_message_get_version (sdp), "0") != 0) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
        "the offer is not an SDP session description");
    return FALSE;
  }
  n = gst_sdp_message_medias_len (sdp);
  if (n == 0 || n > MAX_MLINES) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
        "the offer needs one audio and/or one video m-line and at most %d "
        "in all (it has %u)",
        MAX_MLINES, n);
    return FALSE;
  }
  session_ice = gst_sdp_message_get_attribute_val (sdp, "ice-ufrag") != NULL;
  for (guint i = 0; i < n; i++) {
    const GstSDPMedia *md = gst_sdp_message_get_media (sdp, i);
    const char *kind = gst_sdp_media_get_media (md);
    const char *mid = gst_sdp_media_get_attribute_val (md, "mid");
    OfferLine *l = &o->line[i];
    guint k;

    o->n = i + 1;
    if (g_strcmp0 (kind, "video") == 0)
      k = KIND_VIDEO;
    else if (g_strcmp0 (kind, "audio") == 0)
      k = KIND_AUDIO;
    else {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
          "m-line %u: only audio and video are supported", i);
      goto failed;
    }
    l->kind = k;
    /* Port 0 is a line the offerer rejects, unless it is bundle-only
     * (Firefox offers every m-line after the first so). */
    if (gst_sdp_media_get_port (md) == 0
        && gst_sdp_media_get_attribute_val (md, "bundle-only") == NULL)
      continue;
    if (mid != NULL && !mid_ok (mid)) {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
          "m-line %u: a=mid is not a short token", i);
      goto failed;
    }
    if (!session_ice
        && gst_sdp_media_get_attribute_val (md, "ice-ufrag") == NULL) {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
          "m-line %u has no ICE credentials", i);
      goto failed;
    }
    l->codec = codec_in_media (md, k);
    if (l->codec == CODEC_NONE) {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_CODEC,
          "no common %s codec (the server takes %s)", kind,
          k == KIND_VIDEO ? "VP8 or H.264" : "Opus");
      goto failed;
    }
    if (gst_sdp_media_get_attribute_val (md, "recvonly"))
      l->dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
    else if (gst_sdp_media_get_attribute_val (md, "sendonly"))
      l->dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
    else if (gst_sdp_media_get_attribute_val (md, "inactive"))
      l->dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE;
    else
      l->dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV;
    l->slot = n_kind[k]++;
    if (l->slot >= MAX_SLOTS) {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
          "the offer has more than %d %s m-lines", MAX_SLOTS, kind);
      goto failed;
    }
    if (l->slot > 0 && l->dir != GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY
        && l->dir != GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE) {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
          "m-line %u: only the first %s m-line may send (further ones are "
          "recvonly receive slots)",
          i, kind);
      goto failed;
    }
    l->used = TRUE;
    l->mid = g_strdup (mid);
    if (l->slot == 0)
      o->own[k] = i;
  }
  if (o->own[KIND_VIDEO] < 0 && o->own[KIND_AUDIO] < 0) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_SDP,
        "the offer has no usable m-line");
    goto failed;
  }
  return TRUE;

failed:
  offer_clear (o);
  return FALSE;
}

static GstCaps *
codec_caps (Codec codec)
{
  switch (codec) {
    case CODEC_VP8:
      return gst_caps_from_string ("application/x-rtp, media=video, "
                                   "encoding-name=VP8, clock-rate=90000");
    case CODEC_H264:
      return gst_caps_from_string (
          "application/x-rtp, media=video, encoding-name=H264, "
          "clock-rate=90000, packetization-mode=(string)1");
    case CODEC_OPUS:
      return gst_caps_from_string ("application/x-rtp, media=audio, "
                                   "encoding-name=OPUS, clock-rate=48000");
    default:
      return NULL;
  }
}

static void
media_free (MedCall *c, Media *m)
{
  GstBin *bin = GST_BIN (c->pipeline);

  if (m == NULL)
    return;
  if (m->wb) {
    g_signal_handlers_disconnect_matched (m->wb, G_SIGNAL_MATCH_FUNC, 0, 0,
        NULL, pad_added_cb, NULL);
    gst_element_set_state (m->wb, GST_STATE_NULL);
    {
      /* webrtcbin (1.22) adds a transceiver's FEC bin from its own thread
       * and may leave it playing when it is stopped right after an offer
       * (seen once in the three-way test: "Trying to dispose element binN,
       * but it is in PLAYING"): everything inside goes to NULL first. */
      GstIterator *it = gst_bin_iterate_recurse (GST_BIN (m->wb));
      GValue v = G_VALUE_INIT;

      while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
        gst_element_set_state (g_value_get_object (&v), GST_STATE_NULL);
        g_value_reset (&v);
      }
      g_value_unset (&v);
      gst_iterator_free (it);
    }
    g_object_set_data (G_OBJECT (m->wb), "med-media", NULL);
    gst_bin_remove (bin, m->wb);
  }
  for (guint k = 0; k < N_KINDS; k++) {
    GstElement *els[MAX_SLOTS + 4]
        = { m->in[k].rtptee, m->in[k].depay, m->in[k].parse, m->in[k].tee };

    for (guint s = 0; s < MAX_SLOTS; s++) {
      els[4 + s] = m->out[k][s].selector;
      g_free (m->out[k][s].mid);
    }
    for (guint i = 0; i < G_N_ELEMENTS (els); i++) {
      if (els[i] != NULL) {
        gst_element_set_state (els[i], GST_STATE_NULL);
        gst_bin_remove (bin, els[i]);
      }
    }
  }
  g_free (m->slots_sent);
  for (guint k = 0; k < N_KINDS; k++) {
    recent_unref (m->in[k].recent);
    med_sender_track_unref (m->in[k].sender);
  }
  med_sender_clock_unref (m->clock);
  if (m->held_ice)
    g_ptr_array_unref (m->held_ice);
  g_free (m);
}

static void
ice_cand_free (IceCand *ic)
{
  g_free (ic->candidate);
  g_free (ic);
}

static gboolean
add_chain (GstBin *bin, GstElement **els, guint n)
{
  for (guint i = 0; i < n; i++) {
    if (els[i] == NULL)
      continue;
    gst_bin_add (bin, els[i]);
  }
  for (guint i = 0, prev = G_MAXUINT; i < n; i++) {
    if (els[i] == NULL)
      continue;
    if (prev != G_MAXUINT && !gst_element_link (els[prev], els[i]))
      return FALSE;
    prev = i;
  }
  return TRUE;
}

static Media *
media_build (MedCall *c, Peer *p, const Offer *o, GError **error)
{
  Media *m = g_new0 (Media, 1);
  GstBin *bin = GST_BIN (c->pipeline);

  m->call = c;
  m->peer = p;
  m->gen = ++c->next_gen;
  m->held_ice = g_ptr_array_new_with_free_func ((GDestroyNotify) ice_cand_free);
  for (guint k = 0; k < N_KINDS; k++) {
    m->in[k].mline = -1;
    for (guint s = 0; s < MAX_SLOTS; s++)
      m->out[k][s].mline = -1;
  }
  m->wb = make ("webrtcbin", error);
  if (m->wb == NULL)
    goto failed;
  m->clock = med_sender_clock_new ();
  gst_util_set_object_arg (G_OBJECT (m->wb), "bundle-policy", "max-bundle");
  g_object_set (m->wb, "latency", 50, NULL);
  {
    /* The NTP time of every packet from the sender's reports
     * (med-sender-clock.c): recordings timed as the sender meant them. */
    g_autoptr (GstElement) rtpbin
        = gst_bin_get_by_name (GST_BIN (m->wb), "rtpbin");

    if (rtpbin != NULL)
      g_object_set (rtpbin, "add-reference-timestamp-meta", TRUE, NULL);
  }
  /* For measurements only (BENCHMARKS.md): the jitterbuffers' mode, e.g.
   * "none" (timestamps from RTP alone: exact A/V in the recording, but the
   * call's delay is then fixed by how late the first packet came). */
  if (g_getenv ("MEDSCHED_RTP_BUFFER_MODE") != NULL) {
    g_autoptr (GstElement) rtpbin
        = gst_bin_get_by_name (GST_BIN (m->wb), "rtpbin");

    if (rtpbin != NULL)
      gst_util_set_object_arg (G_OBJECT (rtpbin), "buffer-mode",
          g_getenv ("MEDSCHED_RTP_BUFFER_MODE"));
  }
  if (c->stun)
    g_object_set (m->wb, "stun-server", c->stun, NULL);
  if (c->turn)
    g_object_set (m->wb, "turn-server", c->turn, NULL);
  g_object_set_data (G_OBJECT (m->wb), "med-media", m);
  gst_bin_add (bin, m->wb);

  /* Transceivers in the offer's m-line order. */
  for (guint i = 0; i < o->n; i++) {
    const OfferLine *l = &o->line[i];
    guint k = l->kind;
    g_autoptr (GstCaps) caps = codec_caps (l->codec);
    g_autoptr (GstPad) sinkpad = NULL;
    g_autoptr (GstWebRTCRTPTransceiver) trans = NULL;
    GstPadTemplate *templ;
    gboolean recv, send;
    Codec codec = l->codec;
    Out *out = &m->out[k][l->slot];
    /* Our SSRC in the caps puts it in the answer (a=ssrc): with several
     * m-lines of one codec in the bundle, the receiver can only tell them
     * apart by it. */
    guint32 ssrc = g_random_int_range (1, G_MAXINT32);

    if (!l->used)
      continue;
    gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, ssrc, NULL);
    recv = l->dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV
        || l->dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
    send = l->dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV
        || l->dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
    templ = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (m->wb),
        "sink_%u");
    sinkpad = gst_element_request_pad (m->wb, templ, NULL, caps);
    if (sinkpad == NULL) {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
          "webrtcbin refused a transceiver");
      goto failed;
    }
    g_object_get (sinkpad, "transceiver", &trans, NULL);
    if (trans)
      g_object_set (trans, "direction", l->dir, "codec-preferences", caps,
          NULL);
    out->codec = codec;
    out->mline = i;
    out->mid = g_strdup (l->mid);
    /* Send side: selector ─► rewrite ─► webrtcbin (RTP as forwarded). */
    {
      GstElement *sel = make ("input-selector", error);
      g_autoptr (GstPad) selsrc = NULL;

      if (sel == NULL)
        goto failed;
      g_object_set (sel, "sync-streams", FALSE, "cache-buffers", FALSE, NULL);
      gst_bin_add (bin, sel);
      out->selector = sel;
      {
        g_autoptr (GstCaps) plain = codec_caps (codec);

        /* a frame (video) or a packet (audio) between two sources */
        out->rewriter
            = med_rtp_rewriter_new (ssrc, plain, k == KIND_VIDEO ? 3000 : 960);
      }
      selsrc = gst_element_get_static_pad (sel, "src");
      /* the probe owns the rewriter (a push in flight may still use it
       * while the selector goes) */
      gst_pad_add_probe (selsrc,
          GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
              | GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
          med_rtp_rewriter_probe, out->rewriter, med_rtp_rewriter_free);
      if (gst_pad_link (selsrc, sinkpad) != GST_PAD_LINK_OK) {
        g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
            "cannot link the send side");
        goto failed;
      }
      if (!send)
        out->mline = -1;
    }
    /* Receive side (the own m-line only): rtp tee (forwarding) ─►
     * depayloader [─► parser] ─► tee (recorders). */
    if (recv && l->slot == 0) {
      Track *t = &m->in[k];
      GstElement *els[4];

      t->codec = codec;
      t->mline = i;
      if ((t->rtptee = make ("tee", error)) == NULL)
        goto failed;
      g_object_set (t->rtptee, "allow-not-linked", TRUE, NULL);
      t->depay = make (codec == CODEC_VP8 ? "rtpvp8depay"
              : codec == CODEC_H264       ? "rtph264depay"
                                          : "rtpopusdepay",
          error);
      if (t->depay == NULL)
        goto failed;
      if (codec == CODEC_H264 && (t->parse = make ("h264parse", error)) == NULL)
        goto failed;
      if ((t->tee = make ("tee", error)) == NULL)
        goto failed;
      g_object_set (t->tee, "allow-not-linked", TRUE, NULL);
      {
        g_autoptr (GstPad) teesink
            = gst_element_get_static_pad (t->tee, "sink");
        g_autoptr (GstPad) rtpsink
            = gst_element_get_static_pad (t->depay, "sink");

        /* first: the buffers Recent keeps are tagged already */
        t->sender = med_sender_track_new (m->clock, rtpsink, teesink);
        t->recent = recent_new (k == KIND_VIDEO);
        gst_pad_add_probe (teesink, GST_PAD_PROBE_TYPE_BUFFER, recent_probe_cb,
            recent_ref (t->recent), recent_unref);
      }
      els[0] = t->rtptee;
      els[1] = t->depay;
      els[2] = t->parse;
      els[3] = t->tee;
      if (!add_chain (bin, els, 4)) {
        g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
            "cannot link the receive side");
        goto failed;
      }
    }
  }
  g_signal_connect_data (m->wb, "on-ice-candidate",
      G_CALLBACK (ice_candidate_cb), media_ref_new (c, p->id, m->gen),
      media_ref_closure_free, 0);
  g_signal_connect_data (m->wb, "notify::ice-connection-state",
      G_CALLBACK (state_changed_cb), media_ref_new (c, p->id, m->gen),
      media_ref_closure_free, 0);
  g_signal_connect_data (m->wb, "notify::connection-state",
      G_CALLBACK (state_changed_cb), media_ref_new (c, p->id, m->gen),
      media_ref_closure_free, 0);
  g_signal_connect (m->wb, "pad-added", G_CALLBACK (pad_added_cb), NULL);
  for (guint k = 0; k < N_KINDS; k++) {
    GstElement *els[]
        = { m->in[k].tee, m->in[k].parse, m->in[k].depay, m->in[k].rtptee };

    for (guint i = 0; i < G_N_ELEMENTS (els); i++)
      if (els[i])
        gst_element_sync_state_with_parent (els[i]);
    for (guint s = 0; s < MAX_SLOTS; s++)
      if (m->out[k][s].selector)
        gst_element_sync_state_with_parent (m->out[k][s].selector);
  }
  if (!gst_element_sync_state_with_parent (m->wb)) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
        "webrtcbin did not start");
    goto failed;
  }
  return m;

failed:
  media_free (c, m);
  return NULL;
}

/* Reads the payload type the answer chose for m-line i. */
static gint
answer_pt (const GstSDPMessage *sdp, gint mline)
{
  const GstSDPMedia *md;
  const char *fmt;

  if (mline < 0 || (guint) mline >= gst_sdp_message_medias_len (sdp))
    return -1;
  md = gst_sdp_message_get_media (sdp, mline);
  if (gst_sdp_media_get_port (md) == 0 || gst_sdp_media_formats_len (md) == 0)
    return -1;
  fmt = gst_sdp_media_get_format (md, 0);
  return fmt ? atoi (fmt) : -1;
}

/* Ends a participant's media: its recorder seals, forwarding to and
 * from it goes, webrtcbin goes. */
static void
peer_drop_media (MedCall *c, Peer *p, const char *why)
{
  if (p->rec)
    med_rec_stop (p->rec->rec, why, TRUE, c->seal_timeout);
  p->rec = NULL;
  if (p->media == NULL)
    return;
  {
    Media *m = p->media;

    p->media = NULL;
    p->connected = FALSE;
    p->left_at_us = g_get_monotonic_time ();
    update_forwarding (c);
    media_free (c, m);
  }
}

static void
job_answer (MedCall *c, Peer *p, Job *j)
{
  Media *m = p->media;
  g_autofree char *text = NULL;
  MedCallEvent ev = { 0 };

  if (j->desc == NULL) {
    emit_error (c, p->id, "internal",
        "服务器无法应答。The server could not answer.", FALSE);
    peer_drop_media (c, p, "no answer");
    emit_state (c);
    return;
  }
  g_signal_emit_by_name (m->wb, "set-local-description", j->desc, NULL);
  for (guint k = 0; k < N_KINDS; k++) {
    for (guint s = 0; s < MAX_SLOTS; s++) {
      Out *o = &m->out[k][s];
      gint pt = answer_pt (j->desc->sdp, o->mline);

      if (pt >= 96 && pt <= 127 && o->rewriter)
        med_rtp_rewriter_set_pt (o->rewriter, (guint) pt);
    }
  }
  text = gst_sdp_message_as_text (j->desc->sdp);
  ev.kind = MED_CALL_EVENT_ANSWER;
  ev.participant = p->id;
  ev.sdp = text;
  if (c->event_func)
    c->event_func (c, &ev, c->event_data);
  m->answer_sent = TRUE;
  for (guint i = 0; i < m->held_ice->len; i++) {
    IceCand *ic = m->held_ice->pdata[i];
    MedCallEvent ie = { 0 };

    ie.kind = MED_CALL_EVENT_ICE;
    ie.participant = p->id;
    ie.candidate = ic->candidate;
    ie.mline = ic->mline;
    if (c->event_func)
      c->event_func (c, &ie, c->event_data);
  }
  g_ptr_array_set_size (m->held_ice, 0);
  /* Media paths exist from now on: forward, record. */
  update_forwarding (c);
  recs_start_missing (c);
}

static void check_hearing_start (MedCall *c);

static gboolean
run_job_cb (gpointer data)
{
  Job *j = data;
  MedCall *c = j->call;
  Peer *p;

  if (c->disposed)
    return G_SOURCE_REMOVE;
  p = find_peer (c, j->peer_id);
  if (p == NULL || p->media == NULL || p->media->gen != j->gen)
    return G_SOURCE_REMOVE; /* an earlier peer connection */
  switch (j->kind) {
    case JOB_REMOTE_SET: {
      GstPromise *pr = gst_promise_new_with_change_func (promise_answer_cb,
          media_ref_new (c, p->id, j->gen), media_ref_free);

      g_signal_emit_by_name (p->media->wb, "create-answer", NULL, pr);
      break;
    }
    case JOB_ANSWER:
      job_answer (c, p, j);
      break;
    case JOB_ICE:
      if (p->media->answer_sent) {
        MedCallEvent ev = { 0 };

        ev.kind = MED_CALL_EVENT_ICE;
        ev.participant = p->id;
        ev.candidate = j->text;
        ev.mline = j->mline;
        if (c->event_func)
          c->event_func (c, &ev, c->event_data);
      } else {
        IceCand *ic = g_new0 (IceCand, 1);

        ic->mline = j->mline;
        ic->candidate = g_steal_pointer (&j->text);
        g_ptr_array_add (p->media->held_ice, ic);
      }
      break;
    case JOB_CONN_STATE:
      /* DTLS is up: what is forwarded to it no longer waits in webrtcbin */
      g_debug ("bench: booking=%" G_GINT64_FORMAT " participant=%s "
               "connection-state=%d us=%" G_GINT64_FORMAT,
          c->booking_id, p->id, j->state, g_get_real_time ());
      if (j->state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED
          && !p->media->up) {
        p->media->up = TRUE;
        update_forwarding (c);
      }
      break;
    case JOB_ICE_STATE:
      if (j->state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
        g_message ("booking %" G_GINT64_FORMAT ": ICE failed for a participant",
            c->booking_id);
        emit_error (c, p->id, "ice_failed",
            "无法建立媒体连接。The media connection could not be established "
            "(ICE failed).",
            TRUE);
        peer_drop_media (c, p, "ICE failed");
        emit_state (c);
      } else if (j->state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED
          || j->state == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) {
        p->connected = TRUE;
      }
      break;
    case JOB_FLOWING:
      g_debug ("bench: booking=%" G_GINT64_FORMAT " participant=%s "
               "first-packet us=%" G_GINT64_FORMAT,
          c->booking_id, p->id, g_get_real_time ());
      p->media->flowed = TRUE;
      p->media->flowed_us = g_get_monotonic_time ();
      if (p->presence == MED_CALL_ADMITTED) {
        p->presence = MED_CALL_IN_CALL;
        /* Recorded from their first keyframe if the call records now
         * (or starts to, in a hearing), never from before a record start. */
        p->media->catch_up = TRUE;
        check_hearing_start (c);
        if (c->rec_state != MED_CALL_REC_RECORDING)
          p->media->catch_up = FALSE;
        update_forwarding (c);
        recs_start_missing (c);
        emit_state (c);
      } else {
        recs_start_missing (c);
        emit_state (c); /* media flags changed */
      }
      break;
    case JOB_FAILED:
      break;
  }
  return G_SOURCE_REMOVE;
}

/* ---- bus --------------------------------------------------------------- */

static Peer *
peer_for_object (MedCall *c, GstObject *src)
{
  for (guint i = 0; i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];
    Media *m = p->media;

    if (m == NULL)
      continue;
    if (m->wb
        && (src == GST_OBJECT (m->wb)
            || gst_object_has_as_ancestor (src, GST_OBJECT (m->wb))))
      return p;
    for (guint k = 0; k < N_KINDS; k++) {
      GstElement *els[]
          = { m->in[k].rtptee, m->in[k].depay, m->in[k].parse, m->in[k].tee };

      for (guint e = 0; e < G_N_ELEMENTS (els); e++)
        if (els[e] && src == GST_OBJECT (els[e]))
          return p;
      for (guint s = 0; s < MAX_SLOTS; s++)
        if (m->out[k][s].selector && src == GST_OBJECT (m->out[k][s].selector))
          return p;
    }
  }
  return NULL;
}

static gboolean
bus_message_received_cb (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  MedCall *c = user_data;

  /* A recorder's segments, close and errors (med-rec). */
  for (guint i = 0; i < c->recs->len; i++)
    if (med_rec_handle_message (((Rec *) c->recs->pdata[i])->rec, msg))
      return G_SOURCE_CONTINUE;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      g_message ("booking %" G_GINT64_FORMAT ": %s: %s", c->booking_id,
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      break;
    }
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree char *debug = NULL;
      Peer *p;

      gst_message_parse_error (msg, &err, &debug);
      g_warning ("booking %" G_GINT64_FORMAT ": %s: %s (%s)", c->booking_id,
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
          debug ? debug : "");
      if ((p = peer_for_object (c, GST_MESSAGE_SRC (msg))) != NULL) {
        emit_error (c, p->id, "internal",
            "媒体连接出错，请重新加入。The media connection failed; please rejoin.",
            FALSE);
        peer_drop_media (c, p, "media error");
        emit_state (c);
      } else if (!c->ending) {
        /* Something shared: this call ends, the daemon goes on. */
        med_call_end (c);
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- public ------------------------------------------------------------ */

static void
call_unref (MedCall *c)
{
  if (!g_atomic_int_dec_and_test (&c->refs))
    return;
  g_free (c->media_dir);
  g_free (c->stun);
  g_free (c->turn);
  g_free (c->actor);
  g_free (c->caucus);
  g_main_context_unref (c->ctx);
  g_free (c);
}

static void
peer_free (Peer *p)
{
  g_free (p->id);
  g_free (p);
}

MedCall *
med_call_new (MedStore *store, const MedCallConfig *cfg, GError **error)
{
  MedCall *c;
  g_autoptr (GstBus) bus = NULL;

  g_return_val_if_fail (store != NULL && cfg != NULL, NULL);
  if (!med_media_init (error))
    return NULL;
  if (cfg->media_dir == NULL || !g_path_is_absolute (cfg->media_dir)) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
        "the media directory must be an absolute path");
    return NULL;
  }
  c = g_new0 (MedCall, 1);
  c->refs = 1;
  c->store = store;
  c->ctx = g_main_context_ref_thread_default ();
  c->booking_id = cfg->booking_id;
  c->regime = cfg->regime;
  c->media_dir = g_strdup (cfg->media_dir);
  c->stun = g_strdup (cfg->stun_server);
  c->turn = g_strdup (cfg->turn_server);
  c->actor = g_strdup (cfg->actor ? cfg->actor : "call");
  c->seal_timeout = cfg->seal_timeout ? cfg->seal_timeout : 15;
  c->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  c->fwds = g_ptr_array_new ();
  c->recs = g_ptr_array_new_with_free_func ((GDestroyNotify) rec_free);
  c->recording_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  c->pipeline = gst_object_ref_sink (gst_pipeline_new (NULL));
  bus = gst_element_get_bus (c->pipeline);
  c->bus_watch = gst_bus_add_watch (bus, bus_message_received_cb, c);
  if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_INTERNAL,
        "the call pipeline could not start");
    med_call_free (c);
    return NULL;
  }
  return c;
}

void
med_call_set_event_func (MedCall *call, MedCallEventFunc func,
    gpointer user_data)
{
  call->event_func = func;
  call->event_data = user_data;
}

gint64
med_call_get_booking_id (MedCall *call)
{
  return call->booking_id;
}

MedRecordingRegime
med_call_get_regime (MedCall *call)
{
  return call->regime;
}

static gboolean
check_open (MedCall *c, GError **error)
{
  if (c->ending) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
        "the call has ended");
    return FALSE;
  }
  return TRUE;
}

gboolean
med_call_join (MedCall *c, const char *id, MedCallRole role, gint64 ref_id,
    GError **error)
{
  Peer *p;

  g_return_val_if_fail (id != NULL, FALSE);
  if (!check_open (c, error))
    return FALSE;
  p = find_peer (c, id);
  if (p == NULL) {
    p = g_new0 (Peer, 1);
    p->id = g_strdup (id);
    p->role = role;
    p->ref_id = ref_id;
    g_ptr_array_add (c->peers, p);
  }
  peer_drop_media (c, p, "participant reconnected");
  if (role != MED_CALL_ROLE_PARTY || p->admitted_once) {
    p->presence = MED_CALL_ADMITTED;
    p->ready = TRUE;
    p->admitted_once = TRUE;
    p->admit_seq = ++c->next_seq;
  } else {
    p->presence = MED_CALL_WAITING;
    p->ready = FALSE;
  }
  /* A caucus holds everybody else who is not staff. */
  if (c->caucus && !is_staff (p) && strcmp (c->caucus, p->id) != 0
      && p->presence == MED_CALL_ADMITTED)
    p->presence = MED_CALL_HELD;
  if (p->presence == MED_CALL_ADMITTED)
    emit (c, MED_CALL_EVENT_ADMITTED, p->id);
  else if (p->presence == MED_CALL_HELD)
    emit (c, MED_CALL_EVENT_HELD, p->id);
  emit_state (c);
  return TRUE;
}

gboolean
med_call_ready (MedCall *c, const char *id, GError **error)
{
  Peer *p = need_peer (c, id, error);

  if (p == NULL || !check_open (c, error))
    return FALSE;
  if (!p->ready) {
    p->ready = TRUE;
    emit_state (c);
  }
  return TRUE;
}

gboolean
med_call_admit (MedCall *c, const char *id, GError **error)
{
  Peer *p = need_peer (c, id, error);

  if (p == NULL || !check_open (c, error))
    return FALSE;
  if (p->presence != MED_CALL_WAITING) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
        "the participant is not waiting");
    return FALSE;
  }
  p->ready = TRUE;
  p->admitted_once = TRUE;
  p->admit_seq = ++c->next_seq;
  if (c->caucus && !is_staff (p) && strcmp (c->caucus, p->id) != 0) {
    p->presence = MED_CALL_HELD;
    emit (c, MED_CALL_EVENT_HELD, p->id);
  } else {
    p->presence = MED_CALL_ADMITTED;
    emit (c, MED_CALL_EVENT_ADMITTED, p->id);
  }
  emit_state (c);
  return TRUE;
}

gboolean
med_call_remove (MedCall *c, const char *id, GError **error)
{
  Peer *p = need_peer (c, id, error);

  if (p == NULL)
    return FALSE;
  peer_drop_media (c, p, "participant removed");
  p->presence = MED_CALL_LEFT;
  p->admitted_once = FALSE;
  if (g_strcmp0 (c->caucus, id) == 0)
    med_call_caucus (c, NULL, NULL);
  emit_state (c);
  return TRUE;
}

void
med_call_leave (MedCall *c, const char *id)
{
  Peer *p = find_peer (c, id);

  if (p == NULL || p->presence == MED_CALL_LEFT)
    return;
  peer_drop_media (c, p, "participant left");
  p->presence = MED_CALL_LEFT;
  emit_state (c);
}

gboolean
med_call_offer (MedCall *c, const char *id, const char *sdp, GError **error)
{
  Peer *p = need_peer (c, id, error);
  g_autoptr (GstSDPMessage) msg = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *pr;
  Offer o;

  if (p == NULL || !check_open (c, error))
    return FALSE;
  if (p->presence != MED_CALL_ADMITTED && p->presence != MED_CALL_IN_CALL) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
        p->presence == MED_CALL_HELD
            ? "held in the waiting room during a caucus"
            : "an offer before admission");
    return FALSE;
  }
  if (!check_offer (sdp, &o, error))
    return FALSE;
  /* A new offer replaces the participant's previous peer connection. */
  if (p->media != NULL) {
    peer_drop_media (c, p, "participant renegotiated");
    p->presence = MED_CALL_ADMITTED;
  }
  p->media = media_build (c, p, &o, error);
  offer_clear (&o);
  if (p->media == NULL)
    return FALSE;
  gst_sdp_message_new (&msg);
  gst_sdp_message_parse_buffer ((const guint8 *) sdp, strlen (sdp), msg);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER,
      g_steal_pointer (&msg));
  pr = gst_promise_new_with_change_func (promise_remote_set_cb,
      media_ref_new (c, p->id, p->media->gen), media_ref_free);
  g_signal_emit_by_name (p->media->wb, "set-remote-description", desc, pr);
  gst_webrtc_session_description_free (desc);
  return TRUE;
}

gboolean
med_call_add_ice (MedCall *c, const char *id, guint mline,
    const char *candidate, GError **error)
{
  Peer *p = need_peer (c, id, error);

  if (p == NULL)
    return FALSE;
  if (p->media == NULL) {
    g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
        "a candidate without an offer");
    return FALSE;
  }
  if (candidate == NULL || *candidate == '\0')
    return TRUE; /* end of candidates: nothing to tell webrtcbin */
  g_signal_emit_by_name (p->media->wb, "add-ice-candidate", mline, candidate);
  return TRUE;
}

static void
check_hearing_start (MedCall *c)
{
  if (c->regime == MED_RECORDING_REGIME_HEARING
      && c->rec_state == MED_CALL_REC_OFF && !c->ending)
    med_call_record (c, MED_CALL_RECORD_START, NULL);
}

gboolean
med_call_record (MedCall *c, MedCallRecordAction action, GError **error)
{
  if (!check_open (c, error))
    return FALSE;
  switch (action) {
    case MED_CALL_RECORD_START: {
      if (c->rec_state != MED_CALL_REC_OFF) {
        g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
            "the recording already runs");
        return FALSE;
      }
      {
        g_autoptr (GError) err = NULL;

        if (!med_rec_check_consent (c->store, c->booking_id, c->regime, &err)) {
          if (g_error_matches (err, MED_MEDIA_ERROR, MED_MEDIA_ERROR_CONSENT))
            g_set_error_literal (error, MED_CALL_ERROR, MED_CALL_ERROR_CONSENT,
                err->message);
          else
            g_propagate_error (error, g_steal_pointer (&err));
          return FALSE;
        }
      }
      c->rec_state = c->caucus ? MED_CALL_REC_PAUSED : MED_CALL_REC_RECORDING;
      c->paused_by_caucus = c->caucus != NULL;
      recs_start_missing (c);
      break;
    }
    case MED_CALL_RECORD_PAUSE:
      if (c->rec_state != MED_CALL_REC_RECORDING) {
        g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
            "the recording is not running");
        return FALSE;
      }
      c->rec_state = MED_CALL_REC_PAUSED;
      recs_pause_all (c, TRUE, "paused by the mediator");
      break;
    case MED_CALL_RECORD_RESUME:
      if (c->rec_state != MED_CALL_REC_PAUSED || c->caucus) {
        g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
            c->caucus ? "a caucus is running" : "the recording is not paused");
        return FALSE;
      }
      c->rec_state = MED_CALL_REC_RECORDING;
      recs_pause_all (c, FALSE, "resumed by the mediator");
      break;
    case MED_CALL_RECORD_STOP:
      if (c->rec_state == MED_CALL_REC_OFF) {
        g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
            "the recording is not running");
        return FALSE;
      }
      c->rec_state = MED_CALL_REC_OFF;
      recs_stop_all (c, "stopped by the mediator");
      break;
  }
  emit_state (c);
  return TRUE;
}

gboolean
med_call_caucus (MedCall *c, const char *with, GError **error)
{
  Peer *w = NULL;

  if (!check_open (c, error))
    return FALSE;
  if (with != NULL) {
    w = need_peer (c, with, error);
    if (w == NULL)
      return FALSE;
    if (is_staff (w) || w->presence == MED_CALL_LEFT
        || w->presence == MED_CALL_WAITING) {
      g_set_error (error, MED_CALL_ERROR, MED_CALL_ERROR_STATE,
          "a caucus is held with a party in the call");
      return FALSE;
    }
  }
  if (with == NULL && c->caucus == NULL)
    return TRUE;
  g_free (c->caucus);
  c->caucus = g_strdup (with);
  for (guint i = 0; i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];

    if (is_staff (p) || p->presence == MED_CALL_LEFT
        || p->presence == MED_CALL_WAITING)
      continue;
    if (w != NULL && p != w && p->presence != MED_CALL_HELD) {
      p->presence = MED_CALL_HELD;
      emit (c, MED_CALL_EVENT_HELD, p->id);
    } else if ((w == NULL || p == w) && p->presence == MED_CALL_HELD) {
      p->presence = p->media ? MED_CALL_IN_CALL : MED_CALL_ADMITTED;
      emit (c, MED_CALL_EVENT_ADMITTED, p->id);
    }
  }
  /* The caucus is excluded from the recording. */
  if (w != NULL && c->rec_state == MED_CALL_REC_RECORDING) {
    c->rec_state = MED_CALL_REC_PAUSED;
    c->paused_by_caucus = TRUE;
    recs_pause_all (c, TRUE, "private caucus with a party");
  } else if (w == NULL && c->paused_by_caucus) {
    c->paused_by_caucus = FALSE;
    if (c->rec_state == MED_CALL_REC_PAUSED) {
      c->rec_state = MED_CALL_REC_RECORDING;
      recs_pause_all (c, FALSE, "caucus ended");
    }
  }
  update_forwarding (c);
  emit_state (c);
  return TRUE;
}

MedCallRecState
med_call_get_recording (MedCall *c)
{
  return c->rec_state;
}

const char *
med_call_get_caucus (MedCall *c)
{
  return c->caucus;
}

GPtrArray *
med_call_list_participants (MedCall *c)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];
    MedCallParticipant *mp;

    if (!p->ready && p->presence == MED_CALL_WAITING)
      continue;
    mp = g_new0 (MedCallParticipant, 1);
    mp->id = p->id;
    mp->role = p->role;
    mp->ref_id = p->ref_id;
    mp->presence = p->presence;
    if (p->media) {
      mp->video = g_atomic_int_get (&p->media->in[KIND_VIDEO].linked);
      mp->audio = g_atomic_int_get (&p->media->in[KIND_AUDIO].linked);
    }
    g_ptr_array_add (out, mp);
  }
  return out;
}

GArray *
med_call_list_recordings (MedCall *c)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_vals (a, c->recording_ids->data, c->recording_ids->len);
  return a;
}

static void
check_ended (MedCall *c)
{
  if (!c->ending || c->ended)
    return;
  for (guint i = 0; i < c->recs->len; i++) {
    Rec *r = c->recs->pdata[i];

    if (!med_rec_is_done (r->rec))
      return;
  }
  c->ended = TRUE;
  g_info ("booking %" G_GINT64_FORMAT ": call ended", c->booking_id);
  emit (c, MED_CALL_EVENT_ENDED, NULL);
}

void
med_call_end (MedCall *c)
{
  if (c->ending)
    return;
  c->ending = TRUE;
  c->rec_state = MED_CALL_REC_OFF;
  for (guint i = 0; i < c->peers->len; i++) {
    Peer *p = c->peers->pdata[i];

    peer_drop_media (c, p, "call ended");
    p->presence = MED_CALL_LEFT;
  }
  check_ended (c);
}

gboolean
med_call_is_ended (MedCall *c)
{
  return c->ended;
}

void
med_call_free (MedCall *c)
{
  if (c == NULL)
    return;
  if (!c->ending)
    med_call_end (c);
  c->event_func = NULL;
  c->disposed = TRUE;
  /* Recorders still sealing are cut: their manifests seal as stopped. */
  for (guint i = 0; i < c->recs->len; i++) {
    Rec *r = c->recs->pdata[i];

    med_rec_set_done_func (r->rec, NULL, NULL);
    med_rec_abort (r->rec, MED_RECORDING_STOPPED,
        "the server stopped before the recorder sealed");
  }
  if (c->bus_watch)
    g_source_remove (c->bus_watch);
  gst_element_set_state (c->pipeline, GST_STATE_NULL);
  g_ptr_array_unref (c->recs);
  g_ptr_array_unref (c->fwds);
  g_ptr_array_unref (c->peers);
  g_array_unref (c->recording_ids);
  gst_object_unref (c->pipeline);
  call_unref (c);
}
