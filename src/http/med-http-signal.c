/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-signal.c — WebSocket signalling for WebRTC calls
 * (docs/webrtc.md): /ws/join/<token> for parties, /ws/console/<booking>
 * for mediators, clerks and admins. A party's URL may name its booking
 * (?b=<booking>, as the join page does) for nginx to route every socket of
 * a booking to the node holding its call (deploy/nginx-cluster.conf); a b=
 * that is not the link's booking is refused like an unknown link.
 *
 * The upgrade is authorised before it happens: a plain handler on /ws runs
 * first (libsoup calls it before the WebSocket handshake) and answers
 * 404/401/403 without upgrading, or leaves the message alone and notes who
 * is asking on it. Parties are checked exactly like the join page (lookup,
 * revocation, window, rate limit of misses); staff by the session cookie
 * or bearer token, mediators for their own bookings only, and the Origin
 * header must be the server's own.
 *
 * Every frame is checked before it reaches the call: text, at most 64 KiB,
 * one JSON object nested at most 8 deep, a known type with only its
 * members and their types. A bad frame gets an error and changes nothing;
 * the 20th closes the socket (1008). The court rules live in MedCall
 * (src/media/med-call.c); this file only translates. One connection per
 * participant: a second one replaces the first ("bye replaced").
 *
 * Frames carry codes and data, never text for people: an error's code
 * (its message is English, for logs and tests), a bye's reason, a
 * participant's role and a party's role word ("respondent"); the pages
 * show each in their own language from the catalogue they load
 * (call.js, MedI18n.label).
 *
 * Authorisation holds for the life of a socket, not only at the upgrade:
 * when the store's data version moves (a commit here or in another
 * process, such as `medsched user revoke-tokens`), and at least every
 * RECHECK_S seconds (expiry), every socket is checked again — a party's
 * link not revoked nor issued again and its booking not cancelled; staff's
 * session or bearer token still live and the access rule still granting
 * the booking — and one that fails gets "bye revoked" and is closed. The version is
 * polled every RECHECK_POLL_MS while sockets are open, and checked again
 * before each frame is acted on, so a consent sent after a revocation is
 * refused, never stored.
 *
 * Logs carry booking and participant ids, never names or tokens. */
#define G_LOG_DOMAIN "medsched-signal"

#include "med-http-private.h"

#include <string.h>

#ifdef MEDSCHED_HAVE_MEDIA
#include <medsched/med-call.h>

#define MAX_FRAME     (64 * 1024)
#define MAX_DEPTH     8
#define MAX_BAD       20
#define AUTH_KEY      "med-ws-auth"
#define MAX_CANDIDATE 1024
#define WINDOW_GRACE  3600 /* seconds a call may run past its booking */
#define RECHECK_POLL_MS 250 /* how often the data version is looked at */
#define RECHECK_S       10 /* every socket re-authorised at least this often */

typedef struct _Signal Signal;
typedef struct _CallCtx CallCtx;
typedef struct _Conn Conn;

struct _Signal
{
  MedHttpServer *srv;
  GHashTable *calls; /* gint64 booking → CallCtx* */
  GHashTable *all_conns; /* Conn* set: every open socket */
  GHashTable *failed; /* gint64 booking → the last attempt to open its
                       * call failed (med_http_signal_why) */
  gboolean stopping;
  guint recheck_id; /* polls the data version while sockets are open */
};

struct _CallCtx
{
  Signal *sig;
  gint64 booking_id;
  gint64 case_id;
  gboolean rec_off; /* the booking's note says "recording: off" */
  char *case_number;
  MedCall *call;
  GHashTable *conns; /* participant id → Conn* (not owned) */
  GHashTable *names; /* participant id → display name */
  GHashTable *party_roles; /* participant id → a party's role word */
  guint free_idle;
  guint window_id; /* ends the call an hour after the booking's end */
};

struct _Conn
{
  Signal *sig;
  CallCtx *cc; /* NULL once detached */
  SoupWebsocketConnection *ws;
  char *pid;
  MedCallRole role;
  gint64 ref_id; /* party id or user id */
  guint bad;
  /* what authorised it, checked again while it lives */
  gint64 booking_id;
  gint join_generation; /* party: its link's, issued again → closed */
  gboolean via_session; /* staff: cred_hash is a session's, else a token's */
  char *cred_hash; /* staff: SHA-256 of the session cookie or bearer token */
  gint64 checked_version; /* the store's data version at the last check */
  gint64 checked_us; /* monotonic time of the last check */
  gboolean revoked; /* said bye revoked: frames are ignored */
};

/* Who asks, noted on the message before the upgrade. */
typedef struct
{
  gint64 booking_id;
  MedCallRole role;
  gint64 ref_id;
  char *pid;
  char *name;
  char *party_role; /* a party's role word ("applicant"), NULL for staff */
  gboolean via_session;
  char *cred_hash; /* staff only */
  gint join_generation; /* party only */
} Auth;

static void
auth_free (Auth *a)
{
  g_free (a->cred_hash);
  g_free (a->pid);
  g_free (a->name);
  g_free (a->party_role);
  g_free (a);
}

static Signal *
get_signal (MedHttpServer *srv)
{
  return srv->signal;
}

/* ---- sending ------------------------------------------------------------ */

static void
send_node (Conn *c, JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  json_node_unref (node);
  if (c->ws
      && soup_websocket_connection_get_state (c->ws)
          == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (c->ws, text);
}

static void
send_simple (Conn *c, const char *type)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_end_object (b);
  send_node (c, json_builder_get_root (b));
}

static void
send_error (Conn *c, const char *code, const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  send_node (c, json_builder_get_root (b));
}

static void
send_bye (Conn *c, const char *reason, gushort close_code)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "bye");
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  json_builder_end_object (b);
  send_node (c, json_builder_get_root (b));
  if (c->ws
      && soup_websocket_connection_get_state (c->ws)
          == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (c->ws, close_code, reason);
}

static gboolean
conn_is_staff (const Conn *c)
{
  return c->role != MED_CALL_ROLE_PARTY && c->role != MED_CALL_ROLE_ROOM;
}

/* "consent": {"needed", "given", "missing"}: whether the recording needs
 * every party's consent, whether every party gave it, how many did not. */
static void
add_consent (JsonBuilder *b, CallCtx *cc)
{
  gboolean mediation = !cc->rec_off
      && med_call_get_regime (cc->call) == MED_RECORDING_REGIME_MEDIATION;
  guint missing = 0;
  gboolean known = med_store_consent_complete (cc->sig->srv->store,
      cc->booking_id, &missing, NULL);

  json_builder_set_member_name (b, "consent");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "needed");
  json_builder_add_boolean_value (b, mediation);
  json_builder_set_member_name (b, "given");
  json_builder_add_boolean_value (b, known && missing == 0);
  json_builder_set_member_name (b, "missing");
  if (known)
    json_builder_add_int_value (b, missing);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

static void
send_state (CallCtx *cc, Conn *to)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) ps = med_call_list_participants (cc->call);
  const char *caucus = med_call_get_caucus (cc->call);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "state");
  json_builder_set_member_name (b, "participants");
  json_builder_begin_array (b);
  for (guint i = 0; i < ps->len; i++) {
    MedCallParticipant *p = ps->pdata[i];
    const char *name = g_hash_table_lookup (cc->names, p->id);
    const char *party_role = g_hash_table_lookup (cc->party_roles, p->id);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_string_value (b, p->id);
    json_builder_set_member_name (b, "name");
    /* Parties see the others only as their roles (the page shows the
     * role's label in its language), staff and the party itself names. */
    json_builder_add_string_value (b,
        (conn_is_staff (to) || strcmp (p->id, to->pid) == 0) && name ? name
                                                                     : "");
    json_builder_set_member_name (b, "role");
    json_builder_add_string_value (b, med_call_role_to_string (p->role));
    if (party_role != NULL) {
      json_builder_set_member_name (b, "party_role");
      json_builder_add_string_value (b, party_role);
    }
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b,
        med_call_presence_to_string (p->presence));
    /* Staff (and the party itself) see each party's answer. */
    if (p->role == MED_CALL_ROLE_PARTY
        && (conn_is_staff (to) || strcmp (p->id, to->pid) == 0)) {
      gboolean given = FALSE;

      json_builder_set_member_name (b, "consent");
      if (med_store_get_consent (cc->sig->srv->store, cc->booking_id, p->ref_id,
              &given, NULL))
        json_builder_add_boolean_value (b, given);
      else
        json_builder_add_null_value (b);
    }
    json_builder_set_member_name (b, "media");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "audio");
    json_builder_add_boolean_value (b, p->audio);
    json_builder_set_member_name (b, "video");
    json_builder_add_boolean_value (b, p->video);
    json_builder_end_object (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "recording");
  json_builder_add_string_value (b,
      med_call_rec_to_string (med_call_get_recording (cc->call)));
  json_builder_set_member_name (b, "caucus");
  if (caucus)
    json_builder_add_string_value (b, caucus);
  else
    json_builder_add_null_value (b);
  add_consent (b, cc);
  json_builder_end_object (b);
  send_node (to, json_builder_get_root (b));
}

/* ---- calls ------------------------------------------------------------- */

static void conn_detach (Conn *c);

static void
call_ctx_free (CallCtx *cc)
{
  GHashTableIter it;
  gpointer v;

  if (cc->free_idle)
    g_source_remove (cc->free_idle);
  if (cc->window_id)
    g_source_remove (cc->window_id);
  g_hash_table_iter_init (&it, cc->conns);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    Conn *c = v;

    c->cc = NULL;
  }
  g_hash_table_unref (cc->conns);
  g_hash_table_unref (cc->names);
  g_hash_table_unref (cc->party_roles);
  med_call_free (cc->call);
  g_free (cc->case_number);
  g_free (cc);
}

static gboolean
call_free_idle_cb (gpointer data)
{
  CallCtx *cc = data;

  cc->free_idle = 0;
  g_hash_table_remove (cc->sig->calls, &cc->booking_id);
  return G_SOURCE_REMOVE;
}

static void
call_event_cb (MedCall *call, const MedCallEvent *ev, gpointer user_data)
{
  CallCtx *cc = user_data;
  Conn *to = ev->participant ? g_hash_table_lookup (cc->conns, ev->participant)
                             : NULL;
  GHashTableIter it;
  gpointer v;

  switch (ev->kind) {
    case MED_CALL_EVENT_STATE:
      g_hash_table_iter_init (&it, cc->conns);
      while (g_hash_table_iter_next (&it, NULL, &v))
        send_state (cc, v);
      break;
    case MED_CALL_EVENT_ADMITTED:
      if (to)
        send_simple (to, "admitted");
      break;
    case MED_CALL_EVENT_HELD:
      if (to)
        send_simple (to, "held");
      break;
    case MED_CALL_EVENT_ANSWER:
      if (to) {
        g_autoptr (JsonBuilder) b = json_builder_new ();

        json_builder_begin_object (b);
        json_builder_set_member_name (b, "type");
        json_builder_add_string_value (b, "answer");
        json_builder_set_member_name (b, "sdp");
        json_builder_add_string_value (b, ev->sdp);
        json_builder_end_object (b);
        send_node (to, json_builder_get_root (b));
      }
      break;
    case MED_CALL_EVENT_ICE:
      if (to) {
        g_autoptr (JsonBuilder) b = json_builder_new ();

        json_builder_begin_object (b);
        json_builder_set_member_name (b, "type");
        json_builder_add_string_value (b, "ice");
        json_builder_set_member_name (b, "candidate");
        json_builder_add_string_value (b, ev->candidate);
        json_builder_set_member_name (b, "sdpMLineIndex");
        json_builder_add_int_value (b, ev->mline);
        json_builder_end_object (b);
        send_node (to, json_builder_get_root (b));
      }
      break;
    case MED_CALL_EVENT_SLOTS:
      if (to) {
        g_autoptr (JsonBuilder) b = json_builder_new ();

        json_builder_begin_object (b);
        json_builder_set_member_name (b, "type");
        json_builder_add_string_value (b, "slots");
        json_builder_set_member_name (b, "slots");
        json_builder_begin_array (b);
        for (guint i = 0; i < ev->n_slots; i++) {
          const MedCallSlot *sl = &ev->slots[i];

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "participant");
          json_builder_add_string_value (b, sl->participant);
          json_builder_set_member_name (b, "video");
          if (sl->video_mid)
            json_builder_add_string_value (b, sl->video_mid);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "audio");
          if (sl->audio_mid)
            json_builder_add_string_value (b, sl->audio_mid);
          else
            json_builder_add_null_value (b);
          json_builder_end_object (b);
        }
        json_builder_end_array (b);
        json_builder_end_object (b);
        send_node (to, json_builder_get_root (b));
      }
      break;
    case MED_CALL_EVENT_ERROR:
      if (to)
        send_error (to, ev->code, ev->message);
      if (ev->to_staff) {
        g_hash_table_iter_init (&it, cc->conns);
        while (g_hash_table_iter_next (&it, NULL, &v)) {
          Conn *c = v;

          if (c != to && conn_is_staff (c))
            send_error (c, ev->code, ev->message);
        }
      }
      break;
    case MED_CALL_EVENT_ENDED: {
      g_autoptr (GList) all = g_hash_table_get_values (cc->conns);

      for (GList *l = all; l; l = l->next) {
        Conn *c = l->data;

        send_bye (c, "ended", SOUP_WEBSOCKET_CLOSE_NORMAL);
        conn_detach (c);
      }
      if (cc->free_idle == 0)
        cc->free_idle = g_idle_add (call_free_idle_cb, cc);
      break;
    }
  }
}

static gboolean
window_over_cb (gpointer data)
{
  CallCtx *cc = data;

  cc->window_id = 0;
  g_message ("booking %" G_GINT64_FORMAT ": the session's window is over; "
             "ending the call",
      cc->booking_id);
  med_call_end (cc->call);
  return G_SOURCE_REMOVE;
}

static CallCtx *
get_call (Signal *sig, gint64 booking_id, GError **error)
{
  MedHttpServer *srv = sig->srv;
  CallCtx *cc = g_hash_table_lookup (sig->calls, &booking_id);
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autofree char *mdir = NULL;
  MedCallConfig cfg = { 0 };
  gboolean rec_off = FALSE;

  if (cc != NULL && !med_call_is_ended (cc->call) && cc->free_idle == 0)
    return cc;
  if (cc != NULL) {
    /* An ended call still saying goodbye: a fresh one replaces it. */
    g_hash_table_remove (sig->calls, &booking_id);
  }
  bk = med_store_get_booking (srv->store, booking_id, error);
  if (bk == NULL)
    return NULL;
  k = med_store_get_case (srv->store, bk->case_id, error);
  if (k == NULL)
    return NULL;
  if (srv->cfg.media_dir == NULL) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "no media directory configured");
    return NULL;
  }
  mdir = g_canonicalize_filename (srv->cfg.media_dir, NULL);
  cfg.booking_id = booking_id;
  /* The booking's note decides, as for `serve`'s booking-time
   * recordings: hearing records from the first participant in the call,
   * mediation needs every party's consent, off refuses record start. */
  cfg.regime = med_http_booking_regime (srv->store, booking_id, &rec_off);
  cfg.media_dir = mdir;
  cfg.stun_server = srv->cfg.stun_server;
  cfg.turn_server = srv->cfg.turn_server;
  cfg.actor = "call";
  cc = g_new0 (CallCtx, 1);
  cc->sig = sig;
  cc->booking_id = booking_id;
  cc->case_id = k->id;
  cc->rec_off = rec_off;
  cc->case_number = g_strdup (k->number);
  cc->conns = g_hash_table_new (g_str_hash, g_str_equal);
  cc->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  cc->party_roles
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  cc->call = med_call_new (srv->store, &cfg, error);
  if (cc->call == NULL) {
    g_hash_table_unref (cc->conns);
    g_hash_table_unref (cc->names);
    g_hash_table_unref (cc->party_roles);
    g_free (cc->case_number);
    g_free (cc);
    return NULL;
  }
  med_call_set_event_func (cc->call, call_event_cb, cc);
  {
    /* The call lasts until an hour after the booking's end at most. */
    gint64 left = bk->end + WINDOW_GRACE - med_http_now (srv);

    cc->window_id = g_timeout_add_seconds ((guint) CLAMP (left, 1,
                                               (gint64) G_MAXUINT / 2),
        window_over_cb, cc);
  }
  g_hash_table_insert (sig->calls, g_memdup2 (&booking_id, sizeof booking_id),
      cc);
  g_info ("booking %" G_GINT64_FORMAT ": call opened", booking_id);
  return cc;
}

/* ---- connections ------------------------------------------------------- */

static void
conn_detach (Conn *c)
{
  if (c->cc != NULL
      && g_hash_table_lookup (c->cc->conns, c->pid) == (gpointer) c)
    g_hash_table_remove (c->cc->conns, c->pid);
  c->cc = NULL;
}

static gboolean
staff_connected (CallCtx *cc)
{
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, cc->conns);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (conn_is_staff (v))
      return TRUE;
  return FALSE;
}

static void
conn_free (Conn *c)
{
  g_hash_table_remove (c->sig->all_conns, c);
  if (c->ws)
    g_signal_handlers_disconnect_by_data (c->ws, c);
  g_clear_object (&c->ws);
  g_free (c->pid);
  g_free (c->cred_hash);
  g_free (c);
}

/* The participant leaves the call (socket closed or authorisation gone). */
static void
conn_leave (Conn *c)
{
  CallCtx *cc = c->cc;
  gboolean staff = conn_is_staff (c);

  if (cc == NULL)
    return;
  conn_detach (c);
  med_call_leave (cc->call, c->pid);
  /* Nobody left, or the last staff member left with the recording
   * off: the call ends. */
  if (g_hash_table_size (cc->conns) == 0
      || (staff && !staff_connected (cc)
          && med_call_get_recording (cc->call) == MED_CALL_REC_OFF))
    med_call_end (cc->call);
}

static void
conn_closed_cb (SoupWebsocketConnection *ws, gpointer data)
{
  Conn *c = data;

  conn_leave (c);
  conn_free (c);
}

/* Whether what let the socket in still holds (module comment). Checked
 * again only when the store changed or RECHECK_S passed. A store that
 * fails to answer is no revocation (the next check decides). */
static gboolean
conn_still_allowed (Conn *c)
{
  MedHttpServer *srv = c->sig->srv;
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedUser) u = NULL;
  g_autoptr (GError) error = NULL;
  gint64 version = med_store_data_version_in (srv->store, srv->turn);
  gint64 now_us = g_get_monotonic_time ();

  if (version == c->checked_version
      && now_us - c->checked_us < (gint64) RECHECK_S * G_USEC_PER_SEC)
    return TRUE;
  bk = med_store_get_booking (srv->store, c->booking_id, &error);
  if (bk == NULL)
    return !g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  if (c->role == MED_CALL_ROLE_PARTY) {
    if (bk->status != MED_BOOKING_STATUS_CONFIRMED
        || med_store_join_revoked (srv->store, c->booking_id, c->ref_id)
        || med_store_join_generation (srv->store, c->booking_id, c->ref_id,
               NULL)
            != c->join_generation)
      return FALSE;
  } else if (conn_is_staff (c)) {
    u = med_http_auth_recheck (srv, c->cred_hash, c->via_session, &error);
    if (u == NULL)
      return !g_error_matches (error, MED_STORE_ERROR,
          MED_STORE_ERROR_NOT_FOUND);
    if (!med_service_may_access_booking (srv->store, u, bk, NULL))
      return FALSE;
  }
  c->checked_version = version;
  c->checked_us = now_us;
  return TRUE;
}

/* "bye revoked", out of the call, and the socket closes. */
static void
conn_revoke (Conn *c)
{
  g_message ("booking %" G_GINT64_FORMAT ": %s is no longer authorised "
             "(link revoked, credential ended or access withdrawn); closed",
      c->booking_id, c->pid);
  c->revoked = TRUE;
  send_bye (c, "revoked", SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  conn_leave (c);
}

static gboolean
recheck_cb (gpointer data)
{
  Signal *sig = data;
  g_autoptr (GList) conns = NULL;

  if (g_hash_table_size (sig->all_conns) == 0) {
    sig->recheck_id = 0;
    return G_SOURCE_REMOVE;
  }
  conns = g_hash_table_get_keys (sig->all_conns);
  for (GList *l = conns; l != NULL; l = l->next) {
    Conn *c = l->data;

    /* an earlier revocation may have ended a call and closed sockets */
    if (!g_hash_table_contains (sig->all_conns, c) || c->cc == NULL
        || c->revoked)
      continue;
    if (!conn_still_allowed (c))
      conn_revoke (c);
  }
  return G_SOURCE_CONTINUE;
}

/* One bad frame: an error, and the socket closes after MAX_BAD. */
static void
bad_frame (Conn *c, const char *code, const char *message)
{
  send_error (c, code, message);
  if (++c->bad >= MAX_BAD && c->ws
      && soup_websocket_connection_get_state (c->ws)
          == SOUP_WEBSOCKET_STATE_OPEN) {
    g_message ("booking %" G_GINT64_FORMAT ": %s sent %u bad frames; closed",
        c->cc ? c->cc->booking_id : 0, c->pid, c->bad);
    soup_websocket_connection_close (c->ws,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "too many bad messages");
  }
}

/* Nesting depth of a JSON text, strings skipped. */
static guint
json_depth (const char *s, gsize len)
{
  guint depth = 0, max = 0;
  gboolean in_str = FALSE;

  for (gsize i = 0; i < len; i++) {
    char ch = s[i];

    if (in_str) {
      if (ch == '\\')
        i++;
      else if (ch == '"')
        in_str = FALSE;
    } else if (ch == '"') {
      in_str = TRUE;
    } else if (ch == '{' || ch == '[') {
      max = MAX (max, ++depth);
    } else if ((ch == '}' || ch == ']') && depth > 0) {
      depth--;
    }
  }
  return max;
}

static gboolean
printable_ascii (const char *s)
{
  for (; *s; s++)
    if ((guchar) *s < 0x20 || (guchar) *s > 0x7e)
      return FALSE;
  return TRUE;
}

/* The sdp member: a string of printable characters and line breaks. */
static gboolean
get_sdp (JsonObject *o, const char **out)
{
  JsonNode *n = json_object_get_member (o, "sdp");
  const char *s;
  gsize len;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return FALSE;
  s = json_node_get_string (n);
  len = strlen (s);
  if (len < 10 || len > MAX_FRAME || !g_utf8_validate (s, len, NULL))
    return FALSE;
  for (const char *p = s; *p; p++)
    if (((guchar) *p < 0x20 && *p != '\r' && *p != '\n' && *p != '\t')
        || *p == 0x7f)
      return FALSE;
  *out = s;
  return TRUE;
}

/* Maps a MedCall error to a protocol code. */
static void
call_error (Conn *c, GError *err)
{
  const char *code = "internal";

  if (err->domain == MED_CALL_ERROR) {
    switch (err->code) {
      case MED_CALL_ERROR_STATE:
        code = "state";
        break;
      case MED_CALL_ERROR_NOT_ALLOWED:
        code = "not_allowed";
        break;
      case MED_CALL_ERROR_CONSENT:
        code = "no_consent";
        break;
      case MED_CALL_ERROR_CODEC:
        code = "no_common_codec";
        break;
      case MED_CALL_ERROR_SDP:
      case MED_CALL_ERROR_UNKNOWN:
        code = "bad_message";
        break;
      default:
        break;
    }
  }
  if (strcmp (code, "internal") == 0)
    g_warning ("booking %" G_GINT64_FORMAT ": %s", c->cc->booking_id,
        err->message);
  send_error (c, code, err->message);
}

static gboolean
need_staff (Conn *c)
{
  if (conn_is_staff (c))
    return TRUE;
  send_error (c, "not_allowed", "only the mediator may do this");
  return FALSE;
}

static void
handle_frame (Conn *c, JsonObject *o, const char *type)
{
  static const char *const m_type[] = { "type", NULL };
  static const char *const m_consent[] = { "type", "given", NULL };
  static const char *const m_sdp[] = { "type", "sdp", NULL };
  static const char *const m_ice[] = { "type", "candidate", "sdpMLineIndex",
    "sdpMid", "usernameFragment", NULL };
  static const char *const m_part[] = { "type", "participant", NULL };
  static const char *const m_record[] = { "type", "action", NULL };
  static const char *const m_caucus[] = { "type", "with", NULL };
  CallCtx *cc = c->cc;
  MedHttpServer *srv = cc->sig->srv;
  g_autoptr (GError) err = NULL;
  const char *const *allowed;
  gboolean ok = TRUE;

  if (strcmp (type, "consent") == 0)
    allowed = m_consent;
  else if (strcmp (type, "offer") == 0)
    allowed = m_sdp;
  else if (strcmp (type, "ice") == 0)
    allowed = m_ice;
  else if (strcmp (type, "admit") == 0 || strcmp (type, "remove") == 0)
    allowed = m_part;
  else if (strcmp (type, "record") == 0)
    allowed = m_record;
  else if (strcmp (type, "caucus") == 0)
    allowed = m_caucus;
  else if (strcmp (type, "ready") == 0 || strcmp (type, "leave") == 0)
    allowed = m_type;
  else {
    bad_frame (c, "bad_message", "unknown message type");
    return;
  }
  if (!med_http_json_check_members (o, allowed, &err)) {
    bad_frame (c, "bad_message", err->message);
    return;
  }

  if (strcmp (type, "consent") == 0) {
    gboolean given = FALSE;
    g_autofree char *actor = NULL;

    if (!med_http_json_get_bool (o, "given", TRUE, &given, &err)) {
      bad_frame (c, "bad_message", err->message);
      return;
    }
    if (c->role != MED_CALL_ROLE_PARTY) {
      send_error (c, "not_allowed", "only parties consent");
      return;
    }
    actor = g_strdup_printf ("party:%" G_GINT64_FORMAT, c->ref_id);
    {
      MedServiceCtx ctx = { med_http_now (srv), actor, srv->cfg.centre_id };

      ok = med_service_set_consent (srv->store, &ctx, cc->booking_id, c->ref_id,
          given, &err);
    }
    if (ok) {
      /* Everyone's state: the console shows each party's answer. */
      GHashTableIter it;
      gpointer v;

      g_hash_table_iter_init (&it, cc->conns);
      while (g_hash_table_iter_next (&it, NULL, &v))
        send_state (cc, v);
    }
  } else if (strcmp (type, "ready") == 0) {
    ok = med_call_ready (cc->call, c->pid, &err);
  } else if (strcmp (type, "leave") == 0) {
    med_call_leave (cc->call, c->pid);
  } else if (strcmp (type, "offer") == 0) {
    const char *sdp = NULL;

    if (!get_sdp (o, &sdp)) {
      bad_frame (c, "bad_message",
          "sdp: SDP text (printable, CRLF lines) is expected");
      return;
    }
    ok = med_call_offer (cc->call, c->pid, sdp, &err);
    if (!ok && g_error_matches (err, MED_CALL_ERROR, MED_CALL_ERROR_SDP)) {
      bad_frame (c, "bad_message", err->message);
      return;
    }
  } else if (strcmp (type, "ice") == 0) {
    const char *cand = NULL;
    const char *s = NULL;
    gint64 mline = 0;
    JsonNode *cn = json_object_get_member (o, "candidate");

    /* "candidate": "" is the end of candidates, like a missing member. */
    if (cn != NULL && JSON_NODE_HOLDS_VALUE (cn)
        && json_node_get_value_type (cn) == G_TYPE_STRING
        && *json_node_get_string (cn) == '\0')
      cand = "";
    if ((cand == NULL
            && !med_http_json_get_string (o, "candidate", FALSE, MAX_CANDIDATE,
                &cand, &err))
        || !med_http_json_get_int (o, "sdpMLineIndex", FALSE, 0, 15, &mline,
            &err)
        || !med_http_json_get_string (o, "sdpMid", FALSE, 64, &s, &err)
        || !med_http_json_get_string (o, "usernameFragment", FALSE, 256, &s,
            &err)) {
      bad_frame (c, "bad_message", err->message);
      return;
    }
    if (cand != NULL && !printable_ascii (cand)) {
      bad_frame (c, "bad_message", "candidate: not printable ASCII");
      return;
    }
    if (cand != NULL && *cand != '\0'
        && !g_str_has_prefix (cand, "candidate:")) {
      bad_frame (c, "bad_message", "candidate: it starts with \"candidate:\"");
      return;
    }
    ok = med_call_add_ice (cc->call, c->pid, (guint) mline, cand, &err);
  } else if (strcmp (type, "admit") == 0 || strcmp (type, "remove") == 0) {
    const char *who = NULL;
    Conn *target;

    if (!med_http_json_get_string (o, "participant", TRUE, 64, &who, &err)) {
      bad_frame (c, "bad_message", err->message);
      return;
    }
    if (!need_staff (c))
      return;
    if (strcmp (type, "admit") == 0) {
      ok = med_call_admit (cc->call, who, &err);
    } else {
      ok = med_call_remove (cc->call, who, &err);
      target = ok ? g_hash_table_lookup (cc->conns, who) : NULL;
      if (target != NULL && target != c) {
        send_bye (target, "removed", SOUP_WEBSOCKET_CLOSE_NORMAL);
        conn_detach (target);
      }
    }
  } else if (strcmp (type, "record") == 0) {
    const char *action = NULL;
    MedCallRecordAction a;

    if (!med_http_json_get_string (o, "action", TRUE, 16, &action, &err)) {
      bad_frame (c, "bad_message", err->message);
      return;
    }
    if (strcmp (action, "start") == 0)
      a = MED_CALL_RECORD_START;
    else if (strcmp (action, "pause") == 0)
      a = MED_CALL_RECORD_PAUSE;
    else if (strcmp (action, "resume") == 0)
      a = MED_CALL_RECORD_RESUME;
    else if (strcmp (action, "stop") == 0)
      a = MED_CALL_RECORD_STOP;
    else {
      bad_frame (c, "bad_message", "action: start, pause, resume or stop");
      return;
    }
    if (!need_staff (c))
      return;
    if (cc->rec_off && a == MED_CALL_RECORD_START) {
      send_error (c, "not_allowed", "the booking says recording: off");
      return;
    }
    ok = med_call_record (cc->call, a, &err);
  } else if (strcmp (type, "caucus") == 0) {
    JsonNode *w = json_object_get_member (o, "with");
    const char *with = NULL;

    if (w == NULL
        || (!JSON_NODE_HOLDS_NULL (w)
            && (!JSON_NODE_HOLDS_VALUE (w)
                || json_node_get_value_type (w) != G_TYPE_STRING))) {
      bad_frame (c, "bad_message", "with: a participant id or null");
      return;
    }
    if (!need_staff (c))
      return;
    if (!JSON_NODE_HOLDS_NULL (w))
      with = json_node_get_string (w);
    ok = med_call_caucus (cc->call, with, &err);
    /* the booking's room recording (serve's, if any) keeps it too */
    if (ok)
      med_http_media_caucus (cc->sig->srv, cc->booking_id, with != NULL, NULL);
  }
  if (!ok)
    call_error (c, err);
}

static void
conn_message_cb (SoupWebsocketConnection *ws, gint type, GBytes *message,
    gpointer data)
{
  Conn *c = data;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) err = NULL;
  JsonObject *o;
  JsonNode *t;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);

  if (c->cc == NULL || c->revoked)
    return;
  /* acted on only while still authorised: a consent after a revocation
   * is refused, not stored */
  if (!conn_still_allowed (c)) {
    conn_revoke (c);
    return;
  }
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    bad_frame (c, "bad_message", "text frames only");
    return;
  }
  if (len > MAX_FRAME) {
    bad_frame (c, "too_large", "the message is over 64 KiB");
    return;
  }
  if (json_depth (text, len) > MAX_DEPTH) {
    bad_frame (c, "bad_message", "nested too deeply");
    return;
  }
  root = med_http_json_parse_object (text ? text : "", len, &err);
  if (root == NULL) {
    bad_frame (c, "bad_message", "not one JSON object");
    return;
  }
  o = json_node_get_object (root);
  t = json_object_get_member (o, "type");
  if (t == NULL || !JSON_NODE_HOLDS_VALUE (t)
      || json_node_get_value_type (t) != G_TYPE_STRING) {
    bad_frame (c, "bad_message", "the member type is missing");
    return;
  }
  handle_frame (c, o, json_node_get_string (t));
}

static void
add_ice_servers (JsonBuilder *b, MedHttpServer *srv)
{
  json_builder_begin_array (b);
  if (srv->cfg.stun_server
      && g_str_has_prefix (srv->cfg.stun_server, "stun://")) {
    g_autofree char *u = g_strconcat ("stun:", srv->cfg.stun_server + 7, NULL);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "urls");
    json_builder_add_string_value (b, u);
    json_builder_end_object (b);
  }
  if (srv->cfg.turn_server
      && (g_str_has_prefix (srv->cfg.turn_server, "turn://")
          || g_str_has_prefix (srv->cfg.turn_server, "turns://"))) {
    g_autoptr (GUri) uri
        = g_uri_parse (srv->cfg.turn_server, G_URI_FLAGS_HAS_PASSWORD, NULL);

    if (uri != NULL && g_uri_get_host (uri) != NULL) {
      g_autofree char *u = g_strdup_printf ("%s:%s:%d", g_uri_get_scheme (uri),
          g_uri_get_host (uri),
          g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 3478);
      const char *user = g_uri_get_user (uri);
      const char *pass = g_uri_get_password (uri);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "urls");
      json_builder_add_string_value (b, u);
      if (user) {
        json_builder_set_member_name (b, "username");
        json_builder_add_string_value (b, user);
      }
      if (pass) {
        json_builder_set_member_name (b, "credential");
        json_builder_add_string_value (b, pass);
      }
      json_builder_end_object (b);
    }
  }
  json_builder_end_array (b);
}

static void
send_welcome (Conn *c, const Auth *a)
{
  CallCtx *cc = c->cc;
  MedHttpServer *srv = cc->sig->srv;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  /* Off: nothing is recorded, so no consent is asked either. */
  gboolean mediation = !cc->rec_off
      && med_call_get_regime (cc->call) == MED_RECORDING_REGIME_MEDIATION;
  guint missing = 1;

  med_store_consent_complete (srv->store, cc->booking_id, &missing, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "welcome");
  json_builder_set_member_name (b, "you");
  json_builder_add_string_value (b, c->pid);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, med_call_role_to_string (c->role));
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, a->name ? a->name : "");
  json_builder_set_member_name (b, "case");
  json_builder_add_string_value (b, cc->case_number ? cc->case_number : "");
  json_builder_set_member_name (b, "booking");
  json_builder_add_int_value (b, cc->booking_id);
  json_builder_set_member_name (b, "regime");
  json_builder_add_string_value (b,
      cc->rec_off     ? "off"
          : mediation ? "mediation"
                      : "hearing");
  json_builder_set_member_name (b, "consent");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "needed");
  json_builder_add_boolean_value (b, mediation);
  json_builder_set_member_name (b, "given");
  /* Whether every party consented; a party's own answer is stored and
   * audited, not read back here. */
  json_builder_add_boolean_value (b, missing == 0);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "ice_servers");
  add_ice_servers (b, srv);
  json_builder_end_object (b);
  send_node (c, json_builder_get_root (b));
}

static void
websocket_cb (SoupServer *soup, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *ws, gpointer data)
{
  MedHttpServer *srv = data;
  Signal *sig = get_signal (srv);
  Auth *a = g_object_get_data (G_OBJECT (msg), AUTH_KEY);
  g_autoptr (GError) err = NULL;
  CallCtx *cc;
  Conn *c, *old;

  med_http_message_upgraded (msg);
  if (a == NULL || sig->stopping) {
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        "not available");
    return;
  }
  cc = get_call (sig, a->booking_id, &err);
  if (cc == NULL) {
    g_warning ("booking %" G_GINT64_FORMAT ": cannot open the call: %s",
        a->booking_id, err->message);
    g_hash_table_add (sig->failed, g_memdup2 (&a->booking_id, sizeof (gint64)));
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR,
        "internal error");
    return;
  }
  g_hash_table_remove (sig->failed, &a->booking_id);
  /* Frames up to 4 × 64 KiB reach us and get a too_large answer; bigger
   * ones are cut by libsoup (close 1009). */
  g_object_set (ws, "max-incoming-payload-size", (guint64) 4 * MAX_FRAME,
      "keepalive-interval", 20, NULL);
  c = g_new0 (Conn, 1);
  c->sig = sig;
  g_hash_table_add (sig->all_conns, c);
  c->cc = cc;
  c->ws = g_object_ref (ws);
  c->pid = g_strdup (a->pid);
  c->role = a->role;
  c->ref_id = a->ref_id;
  c->join_generation = a->join_generation;
  c->booking_id = a->booking_id;
  c->via_session = a->via_session;
  c->cred_hash = g_strdup (a->cred_hash);
  c->checked_version = med_store_data_version_in (srv->store, srv->turn);
  c->checked_us = g_get_monotonic_time ();
  if (sig->recheck_id == 0)
    sig->recheck_id = g_timeout_add (RECHECK_POLL_MS, recheck_cb, sig);
  g_signal_connect (ws, "message", G_CALLBACK (conn_message_cb), c);
  g_signal_connect (ws, "closed", G_CALLBACK (conn_closed_cb), c);
  old = g_hash_table_lookup (cc->conns, c->pid);
  if (old != NULL) {
    send_bye (old, "replaced", SOUP_WEBSOCKET_CLOSE_NORMAL);
    conn_detach (old);
  }
  g_hash_table_insert (cc->conns, c->pid, c);
  g_hash_table_replace (cc->names, g_strdup (c->pid),
      g_strdup (a->name ? a->name : ""));
  if (a->party_role != NULL)
    g_hash_table_replace (cc->party_roles, g_strdup (c->pid),
        g_strdup (a->party_role));
  else
    g_hash_table_remove (cc->party_roles, c->pid);
  g_info ("booking %" G_GINT64_FORMAT ": %s connected", cc->booking_id, c->pid);
  send_welcome (c, a);
  if (!med_call_join (cc->call, c->pid, c->role, c->ref_id, &err)) {
    send_bye (c, "ended", SOUP_WEBSOCKET_CLOSE_NORMAL);
    conn_detach (c);
  }
}

/* ---- authorisation before the upgrade ---------------------------------- */

static void
reject (SoupServerMessage *msg, guint status, const char *code,
    const char *message)
{
  g_autofree char *body
      = g_strdup_printf ("{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
          code, message);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      body, strlen (body));
}

static gboolean
origin_ok (MedHttpServer *srv, SoupServerMessage *msg, gboolean required)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (h, "Origin");
  const char *host = soup_message_headers_get_one (h, "Host");
  g_autofree char *http = NULL, *https = NULL;

  if (origin == NULL)
    return !required;
  if (host != NULL) {
    http = g_strconcat ("http://", host, NULL);
    https = g_strconcat ("https://", host, NULL);
    if (strcmp (origin, http) == 0 || strcmp (origin, https) == 0)
      return TRUE;
  }
  if (srv->cfg.public_url != NULL) {
    g_autoptr (GUri) u
        = g_uri_parse (srv->cfg.public_url, G_URI_FLAGS_NONE, NULL);

    if (u != NULL && g_uri_get_host (u) != NULL) {
      g_autofree char *o = g_uri_get_port (u) > 0
          ? g_strdup_printf ("%s://%s:%d", g_uri_get_scheme (u),
              g_uri_get_host (u), g_uri_get_port (u))
          : g_strdup_printf ("%s://%s", g_uri_get_scheme (u),
              g_uri_get_host (u));

      if (strcmp (origin, o) == 0)
        return TRUE;
    }
  }
  return FALSE;
}

static Auth *
auth_party (MedHttpServer *srv, SoupServerMessage *msg, const char *token,
    const char *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (GPtrArray) parties = NULL;
  g_autofree char *client = med_http_client_address (srv, msg);
  g_autofree char *rkey = g_strconcat ("join:", client, NULL);
  MedTime now = med_http_now (srv);
  gint64 booking_id = 0, party_id = 0, b_id = 0;
  MedParty *party = NULL;
  guint retry = 0;
  Auth *a;

  if (!med_http_rate_allow (srv, rkey, &retry)) {
    reject (msg, 429, "rate_limited", "too many attempts; try again later");
    return NULL;
  }
  if (token == NULL || strlen (token) > 64
      || !med_http_join_resolve (srv, token, now, &booking_id, &party_id,
          &error)
      || (b != NULL && (!med_http_parse_id (b, &b_id) || b_id != booking_id))
      || (bk = med_store_get_booking (srv->store, booking_id, NULL)) == NULL
      || bk->status != MED_BOOKING_STATUS_CONFIRMED
      || (parties = med_store_list_parties (srv->store, bk->case_id, NULL))
          == NULL) {
    if (error != NULL
        && !g_error_matches (error, MED_STORE_ERROR,
            MED_STORE_ERROR_NOT_FOUND)) {
      reject (msg, 500, "internal", "the store failed");
      return NULL;
    }
    med_http_rate_fail (srv, rkey);
    reject (msg, 404, "not_found", "this link is not valid (any more)");
    return NULL;
  }
  for (guint i = 0; i < parties->len; i++)
    if (((MedParty *) parties->pdata[i])->id == party_id)
      party = parties->pdata[i];
  if (party == NULL) {
    reject (msg, 404, "not_found", "this link is not valid (any more)");
    return NULL;
  }
  a = g_new0 (Auth, 1);
  a->booking_id = booking_id;
  a->role = MED_CALL_ROLE_PARTY;
  a->ref_id = party_id;
  /* the link that let it in: one issued again since closes the socket */
  a->join_generation
      = med_store_join_generation (srv->store, booking_id, party_id, NULL);
  a->pid = g_strdup_printf ("party-%" G_GINT64_FORMAT, party_id);
  a->name = g_strdup (party->name);
  a->party_role = g_strdup (med_party_role_to_string (party->role));
  return a;
}

static Auth *
auth_console (MedHttpServer *srv, SoupServerMessage *msg, const char *path,
    const char *id_text)
{
  MedReq r = { 0 };
  g_autoptr (MedBooking) bk = NULL;
  Auth *a = NULL;
  gint64 booking_id;

  r.srv = srv;
  r.msg = msg;
  r.method = soup_server_message_get_method (msg);
  r.path = path;
  r.now = med_http_now (srv);
  r.client = med_http_client_address (srv, msg);
  r.actor = g_strdup ("anonymous");
  r.api = TRUE;
  if (!med_http_auth_resolve (&r))
    goto out;
  if (r.user == NULL) {
    reject (msg, 401, "unauthorized", "log in first");
    goto out;
  }
  if (!origin_ok (srv, msg, r.via_session)) {
    reject (msg, 403, "forbidden", "cross-origin WebSocket refused");
    goto out;
  }
  if (!med_http_parse_id (id_text, &booking_id)
      || !med_store_in_centre (srv->store, MED_STORE_OF_BOOKING, booking_id,
          srv->cfg.centre_id, NULL)
      || (bk = med_store_get_booking (srv->store, booking_id, NULL)) == NULL) {
    reject (msg, 404, "not_found", "no such booking");
    goto out;
  }
  if (!med_service_may_access_booking (srv->store, r.user, bk, NULL)) {
    reject (msg, 403, "forbidden", "not your session");
    goto out;
  }
  med_http_note_user (msg, r.user);
  a = g_new0 (Auth, 1);
  a->booking_id = booking_id;
  a->role = r.user->role == MED_ROLE_MEDIATOR ? MED_CALL_ROLE_MEDIATOR
      : r.user->role == MED_ROLE_ADMIN        ? MED_CALL_ROLE_ADMIN
                                              : MED_CALL_ROLE_CLERK;
  a->ref_id = r.user->id;
  a->pid = g_strdup_printf ("%s-%" G_GINT64_FORMAT,
      med_call_role_to_string (a->role), r.user->id);
  a->name = g_strdup (r.user->name);
  a->via_session = r.via_session;
  a->cred_hash = g_strdup (r.session_hash);

out:
  med_user_free (r.user);
  g_free (r.csrf);
  g_free (r.session_hash);
  g_free (r.client);
  g_free (r.actor);
  return a;
}

/* Runs before libsoup's handshake: leaves the status alone to let the
 * upgrade happen. */
static void
ws_request_cb (SoupServer *soup, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  MedHttpServer *srv = data;
  Signal *sig = get_signal (srv);
  g_auto (GStrv) seg = NULL;
  Auth *a = NULL;

  if (sig->stopping || srv->stopping) {
    reject (msg, 503, "stopping", "the server is stopping");
    return;
  }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET || path == NULL
      || !g_utf8_validate (path, -1, NULL)) {
    reject (msg, 400, "bad_request", "a WebSocket upgrade is expected");
    return;
  }
  seg = g_strsplit (path + 1, "/", 4);
  if (g_strv_length (seg) != 3 || strcmp (seg[0], "ws") != 0) {
    reject (msg, 404, "not_found", "no such endpoint");
    return;
  }
  if (strcmp (seg[1], "join") == 0)
    a = auth_party (srv, msg, seg[2],
        query ? g_hash_table_lookup (query, "b") : NULL);
  else if (strcmp (seg[1], "console") == 0)
    a = auth_console (srv, msg, path, seg[2]);
  else
    reject (msg, 404, "not_found", "no such endpoint");
  if (a == NULL) {
    if (soup_server_message_get_status (msg) == 0)
      reject (msg, 500, "internal", "no answer");
    return;
  }
  g_object_set_data_full (G_OBJECT (msg), AUTH_KEY, a,
      (GDestroyNotify) auth_free);
}

/* ---- the server's side ------------------------------------------------- */

static void
call_ctx_destroy (gpointer data)
{
  call_ctx_free (data);
}

void
med_http_signal_init (MedHttpServer *srv)
{
  Signal *sig = g_new0 (Signal, 1);

  sig->srv = srv;
  sig->calls = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      call_ctx_destroy);
  sig->all_conns = g_hash_table_new (NULL, NULL);
  sig->failed
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  srv->signal = sig;
  soup_server_add_handler (srv->soup, "/ws", ws_request_cb, srv, NULL);
  soup_server_add_websocket_handler (srv->soup, "/ws", NULL, NULL, websocket_cb,
      srv, NULL);
}

void
med_http_signal_shutdown (MedHttpServer *srv)
{
  Signal *sig = get_signal (srv);
  g_autoptr (GList) calls = NULL;

  if (sig == NULL || sig->stopping)
    return;
  sig->stopping = TRUE;
  calls = g_hash_table_get_values (sig->calls);
  for (GList *l = calls; l; l = l->next)
    med_call_end (((CallCtx *) l->data)->call);
}

gboolean
med_http_signal_busy (MedHttpServer *srv)
{
  Signal *sig = get_signal (srv);

  return sig != NULL && g_hash_table_size (sig->calls) > 0;
}

void
med_http_signal_free (MedHttpServer *srv)
{
  Signal *sig = get_signal (srv);

  if (sig == NULL)
    return;
  sig->stopping = TRUE;
  if (sig->recheck_id)
    g_source_remove (sig->recheck_id);
  g_hash_table_unref (sig->calls);
  /* Sockets still open (their close handshake did not finish). */
  while (g_hash_table_size (sig->all_conns) > 0) {
    GHashTableIter it;
    gpointer c;

    g_hash_table_iter_init (&it, sig->all_conns);
    g_hash_table_iter_next (&it, &c, NULL);
    conn_free (c);
  }
  g_hash_table_unref (sig->all_conns);
  g_hash_table_unref (sig->failed);
  g_free (sig);
  srv->signal = NULL;
}

const char *
med_http_signal_why (MedHttpServer *srv, const MedBooking *bk)
{
  Signal *sig = get_signal (srv);

  if (sig == NULL || sig->stopping || srv->stopping)
    return "stopping";
  if (bk->status != MED_BOOKING_STATUS_CONFIRMED)
    return "cancelled";
  if (med_http_now (srv) >= bk->end + WINDOW_GRACE)
    return "ended";
  if (g_hash_table_contains (sig->failed, &bk->id))
    return "call_failed";
  return NULL;
}

#else /* !MEDSCHED_HAVE_MEDIA */

static void
ws_unavailable_cb (SoupServer *soup, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  static const char body[] = "{\"error\":{\"code\":\"not_found\",\"message\":"
                             "\"calls need GStreamer\"}}\n";

  soup_server_message_set_status (msg, 404, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
      body, sizeof body - 1);
}

void
med_http_signal_init (MedHttpServer *srv)
{
  soup_server_add_handler (srv->soup, "/ws", ws_unavailable_cb, srv, NULL);
}

void
med_http_signal_shutdown (MedHttpServer *srv)
{
}

gboolean
med_http_signal_busy (MedHttpServer *srv)
{
  return FALSE;
}

void
med_http_signal_free (MedHttpServer *srv)
{
}

const char *
med_http_signal_why (MedHttpServer *srv, const MedBooking *bk)
{
  return "no_calls";
}

#endif
