/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-call.h — a remote session's WebRTC call: one GStreamer pipeline per
 * booking with one webrtcbin per participant (docs/webrtc.md).
 *
 * The call owns the court rules of a live session: who waits, who is
 * admitted, who is held during a caucus, and when the recording runs (the
 * consent rule of the mediation regime, a hearing recording from its first
 * participant). Every participant's incoming tracks are recorded untouched
 * by a medrecorder of their own, one recording row per participant and
 * join; the other participants' media is forwarded as RTP (SSRC and
 * payload type rewritten, never depayloaded or re-encoded), and nobody
 * receives their own.
 *
 * Everything runs on the thread-default main context of the caller; what
 * the call has to tell its participants comes out through one event
 * callback on that context. Signalling (JSON, sockets, authentication)
 * belongs to the caller (src/http/med-http-signal.c).
 *
 * Only built when GStreamer was found (MEDSCHED_HAVE_MEDIA). */
#pragma once

#include <medsched/med-media.h>

G_BEGIN_DECLS

#define MED_CALL_ERROR (med_call_error_quark ())
GQuark med_call_error_quark (void);

typedef enum
{
  MED_CALL_ERROR_STATE, /* e.g. an offer before admission */
  MED_CALL_ERROR_NOT_ALLOWED, /* the role may not do this */
  MED_CALL_ERROR_CONSENT, /* mediation regime without every consent */
  MED_CALL_ERROR_CODEC, /* no common codec in an offer */
  MED_CALL_ERROR_SDP, /* an offer that does not parse or makes no sense */
  MED_CALL_ERROR_UNKNOWN, /* no such participant */
  MED_CALL_ERROR_INTERNAL,
} MedCallError;

typedef enum
{
  MED_CALL_ROLE_PARTY,
  MED_CALL_ROLE_MEDIATOR,
  MED_CALL_ROLE_CLERK,
  MED_CALL_ROLE_ADMIN,
  MED_CALL_ROLE_ROOM, /* the court room's own terminal */
} MedCallRole;

typedef enum
{
  MED_CALL_WAITING,
  MED_CALL_ADMITTED,
  MED_CALL_IN_CALL,
  MED_CALL_HELD,
  MED_CALL_LEFT,
} MedCallPresence;

typedef enum
{
  MED_CALL_REC_OFF,
  MED_CALL_REC_RECORDING,
  MED_CALL_REC_PAUSED,
} MedCallRecState;

typedef enum
{
  MED_CALL_RECORD_START,
  MED_CALL_RECORD_PAUSE,
  MED_CALL_RECORD_RESUME,
  MED_CALL_RECORD_STOP,
} MedCallRecordAction;

const char *med_call_role_to_string (MedCallRole r);
const char *med_call_presence_to_string (MedCallPresence p);
const char *med_call_rec_to_string (MedCallRecState s);

typedef struct
{
  gint64 booking_id;
  MedRecordingRegime regime;
  const char *media_dir; /* recordings go to media_dir/booking-<id>/ */
  const char *stun_server; /* "stun://host:port" or NULL */
  const char *turn_server; /* "turn://user:pass@host:port" or NULL */
  const char *actor; /* for the store's audit, e.g. "call" */
  guint seal_timeout; /* seconds a recorder gets to seal; 0 = 15 */
} MedCallConfig;

typedef enum
{
  MED_CALL_EVENT_STATE, /* to everyone: participants or recording changed */
  MED_CALL_EVENT_ADMITTED, /* to participant: create the offer now */
  MED_CALL_EVENT_HELD, /* to participant: held during a caucus */
  MED_CALL_EVENT_ANSWER, /* to participant: sdp */
  MED_CALL_EVENT_ICE, /* to participant: candidate, mline */
  MED_CALL_EVENT_ERROR, /* to participant (and the staff when to_staff) */
  MED_CALL_EVENT_ENDED, /* to everyone: the call ended, recordings sealed */
  MED_CALL_EVENT_SLOTS, /* to participant: who arrives on which m-lines */
} MedCallEventKind;

/* One receive slot of a participant: the other participant forwarded on
 * it and the a=mid values (of the participant's offer) their video and
 * audio arrive on, NULL when that kind is not forwarded. */
typedef struct
{
  const char *participant;
  const char *video_mid;
  const char *audio_mid;
} MedCallSlot;

typedef struct
{
  MedCallEventKind kind;
  const char *participant; /* NULL = everyone */
  const char *sdp;
  const char *candidate;
  guint mline;
  const char *code; /* error codes of docs/webrtc.md */
  const char *message;
  gboolean to_staff;
  const MedCallSlot *slots; /* SLOTS: the filled ones */
  guint n_slots;
} MedCallEvent;

typedef struct _MedCall MedCall;

typedef void (*MedCallEventFunc) (MedCall *call, const MedCallEvent *event,
    gpointer user_data);

/* One participant as listed in a state message. */
typedef struct
{
  const char *id; /* "party-12", "mediator-3" */
  MedCallRole role;
  gint64 ref_id; /* party id or user id */
  MedCallPresence presence;
  gboolean audio, video; /* media arriving from them */
} MedCallParticipant;

/* Builds the (empty) pipeline and sets it playing. The store must outlive
 * the call. (transfer full) */
MedCall *med_call_new (MedStore *store, const MedCallConfig *config,
    GError **error);
void med_call_set_event_func (MedCall *call, MedCallEventFunc func,
    gpointer user_data);
gint64 med_call_get_booking_id (MedCall *call);
MedRecordingRegime med_call_get_regime (MedCall *call);

/* A participant connects (again). Staff are admitted at once; a party
 * that was admitted before and not removed is admitted again, else it
 * waits (listed once ready). */
gboolean med_call_join (MedCall *call, const char *id, MedCallRole role,
    gint64 ref_id, GError **error);
/* A party entered the waiting room (devices checked). */
gboolean med_call_ready (MedCall *call, const char *id, GError **error);
gboolean med_call_admit (MedCall *call, const char *id, GError **error);
/* Removes a participant (not allowed to rejoin without admission). */
gboolean med_call_remove (MedCall *call, const char *id, GError **error);
/* The participant left or its connection dropped: its media ends, its
 * recorder seals, the gap is logged when it comes back. */
void med_call_leave (MedCall *call, const char *id);
/* An offer from an admitted participant; the answer comes as an event.
 * A new offer replaces the participant's previous peer. */
gboolean med_call_offer (MedCall *call, const char *id, const char *sdp,
    GError **error);
/* A remote candidate; "" or NULL = end of candidates. */
gboolean med_call_add_ice (MedCall *call, const char *id, guint mline,
    const char *candidate, GError **error);
gboolean med_call_record (MedCall *call, MedCallRecordAction action,
    GError **error);
/* with NULL ends the caucus. */
gboolean med_call_caucus (MedCall *call, const char *with, GError **error);

MedCallRecState med_call_get_recording (MedCall *call);
/* (transfer none), or NULL */
const char *med_call_get_caucus (MedCall *call);
/* MedCallParticipant* in join order, without parties not yet ready;
 * valid until the next call into the MedCall. (transfer container) */
GPtrArray *med_call_list_participants (MedCall *call);
/* Recording ids made by this call so far (gint64). (transfer full) */
GArray *med_call_list_recordings (MedCall *call);

/* Ends everything: every recorder is sent EOS and sealed (or marked
 * stopped after the seal timeout), then ENDED is emitted. A second call
 * does nothing. */
void med_call_end (MedCall *call);
gboolean med_call_is_ended (MedCall *call);
/* Tears down at once (ends first if not ended; recorders still sealing
 * are stopped and marked so). */
void med_call_free (MedCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedCall, med_call_free)

G_END_DECLS
