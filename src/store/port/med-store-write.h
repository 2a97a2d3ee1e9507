/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-write.h — the store's port for writes: every store function
 * that changes data, by aggregate (transactions, centre, resources,
 * cases, bookings, notices, outbox, users and sessions, capability links,
 * recordings, restore). Types, reads and opening are in
 * <medsched/med-store.h>.
 *
 * Only the store itself, the service layer (src/service) and the media
 * module's recording bookkeeping (src/media) see this header: it is not on
 * the include path of the front ends (src/http, src/cli), so a front end
 * that wants to change data must go through the service
 * (<medsched/med-service.h>). tests/layering checks the built front-end
 * libraries for any reference to a function declared here.
 *
 * Every function here that changes data runs in one transaction (or joins
 * the one opened with med_store_begin) and writes one audit row per
 * change; actor names who did it and never holds personal data. */
#pragma once

#include <medsched/med-store.h>

G_BEGIN_DECLS

/* ---- Transactions ------------------------------------------------ */

/* Explicit transactions spanning several calls (one CLI command = one
 * transaction). begin opens a writing transaction (SQLite: BEGIN
 * IMMEDIATE; PostgreSQL: BEGIN and the writers' lock). Calls inside join
 * it. A commit that fails with MED_STORE_ERROR_UNCERTAIN lost the
 * connection while committing: the change may be in the database. */
gboolean med_store_begin (MedStore *store, GError **error);
gboolean med_store_commit (MedStore *store, GError **error);
void med_store_rollback (MedStore *store);

/* One transaction around func: begin, func, commit. When the connection
 * to the database goes before COMMIT (MED_STORE_ERROR_UNAVAILABLE:
 * nothing was written) it runs once more on a fresh connection (after a
 * failover, the new primary); func must do nothing but store calls, so
 * that running it again is safe. A loss during COMMIT
 * (MED_STORE_ERROR_UNCERTAIN) is never retried: the caller says so. */
typedef gboolean (
    *MedStoreTxnFunc) (MedStore *store, gpointer data, GError **error);
gboolean med_store_run (MedStore *store, MedStoreTxnFunc func, gpointer data,
    GError **error);

/* ---- Centre ------------------------------------------------------ */

/* Centre. A new store has no centre; init adds one. */
gint64 med_store_add_centre (MedStore *store, const MedCentre *c,
    const char *actor, GError **error);

gboolean med_store_update_centre (MedStore *store, const MedCentre *c,
    const char *actor, GError **error);

/* The centre's public base URL (https://host[/path], no trailing slash),
 * the root of the parties' join links. */
gboolean med_store_set_public_url (MedStore *store, gint64 centre_id,
    const char *url, const char *actor, GError **error);

/* The centre's telephone as parties should dial it ("0891-6320000",
 * "+86 891 632 0000"): digits with spaces, '+', '-', '(', ')' or '/',
 * 3–20 digits, at most 32 bytes; "" removes it. Shown on the pages of a
 * link that no longer opens a session and in the SMS of a cancellation.
 * Audited (the centre's number is not personal data). */
gboolean med_store_set_centre_phone (MedStore *store, gint64 centre_id,
    const char *phone, const char *actor, GError **error);

/* ---- Resources: rooms, mediators, leave, interpreters, their addresses and busy time --- */

/* Resources. add returns the new id (> 0) or 0 on error. list returns
 * (transfer full) arrays with free functions set, ordered by id. */
gint64 med_store_add_room (MedStore *store, const MedRoom *r, const char *actor,
    GError **error);

/* m->leave, when set, is stored too. daily_cap must be 1–24. */
gint64 med_store_add_mediator (MedStore *store, const MedMediator *m,
    const char *actor, GError **error);

gboolean med_store_add_leave (MedStore *store, gint64 mediator_id,
    MedTime start, MedTime end, const char *actor, GError **error);

gint64 med_store_add_interpreter (MedStore *store, const MedInterpreter *i,
    const char *actor, GError **error);

/* Sets (or clears with "" / NULL) the e-mail address of a mediator or an
 * interpreter. Audited without the address. */
gboolean med_store_set_email (MedStore *store, MedStorePerson who, gint64 id,
    const char *email, const char *actor, GError **error);

gboolean med_store_replace_external_busy (MedStore *store, MedStorePerson who,
    gint64 id, const char *source, GArray *busy, const char *actor,
    GError **error);

/* ---- Cases and parties ------------------------------------------- */

/* Cases and parties. add_case validates and inserts the case and its
 * parties (MedParty*) together; status starts at intake unless the case
 * says otherwise and the path to it is valid. */
gint64 med_store_add_case (MedStore *store, const MedCase *c,
    GPtrArray *parties, const char *actor, GError **error);

/* State change with the transition rules of the model; department is set
 * when moving to dispatched (must not be NONE then). */
gboolean med_store_set_case_status (MedStore *store, gint64 case_id,
    MedCaseStatus to, MedDepartment department, const char *actor,
    GError **error);

/* A case's parties after intake (med-store-party.c). The rules (which
 * case states allow it, a case keeps one party) are the service's; these
 * only check the values and write them with their audit row (entity
 * "case": "party.add", "party.update" naming the fields changed,
 * "party.remove"; ids and field names, never values). A removed party is
 * kept, marked removed, and left out of every listing, link and check:
 * its id is never reused. */
/* Returns the new party's id or 0 (at most MED_MAX_PARTIES a case). */
gint64 med_store_add_party (MedStore *store, gint64 case_id, const MedParty *p,
    const char *actor, GError **error);
/* p->id and p->case_id name the party; the other fields are its new
 * values. Nothing changed: no audit row. */
gboolean med_store_update_party (MedStore *store, const MedParty *p,
    const char *actor, GError **error);
gboolean med_store_remove_party (MedStore *store, gint64 case_id,
    gint64 party_id, const char *actor, GError **error);


/* Imports a whole document in one transaction (rooms, mediators,
 * interpreters, cases with parties). Nothing is written on error.
 * Counts (optional) are set on success. */
gboolean med_store_import_doc (MedStore *store, gint64 centre_id,
    const MedImportDoc *doc, const char *actor, guint *n_rooms,
    guint *n_mediators, guint *n_interpreters, guint *n_cases, GError **error);

/* ---- Bookings ---------------------------------------------------- */

/* Bookings. book inserts atomically (BEGIN IMMEDIATE unless inside
 * med_store_begin): re-checks room (with setup/cleanup buffers), mediator,
 * interpreter, the case's other bookings and its parties' other bookings,
 * the mediator's leave and daily cap; then inserts, moves the case to
 * scheduled and audits. An overlap fails with MED_STORE_ERROR_CONFLICT
 * naming the resource. b->uid may be NULL (one is generated). Returns the
 * booking id or 0. */
gint64 med_store_book (MedStore *store, const MedBooking *b, const char *actor,
    GError **error);

/* Moves a booking (time, room, mediator, interpreter, mode): SEQUENCE + 1,
 * same UID, the same re-checks as book. to->room_id or to->mediator_id 0
 * keeps the current one; to->interpreter_id 0 means none. The case and the
 * UID of to are ignored. A cancelled booking cannot be moved. */
gboolean med_store_reschedule (MedStore *store, gint64 booking_id,
    const MedBooking *to, const char *actor, GError **error);

/* Cancels: status cancelled, SEQUENCE + 1; the case goes back to
 * dispatched if it has no other confirmed booking. */
gboolean med_store_cancel (MedStore *store, gint64 booking_id,
    const char *actor, GError **error);

/* An audit row for a decision the service takes itself (an undone
 * booking, …), joining an open transaction: action and entity are
 * lowercase words ("booking.undo", "booking"), detail a JSON object of
 * ids and states (no personal data) or NULL. */
gboolean med_store_add_audit (MedStore *store, const char *actor,
    const char *action, const char *entity, gint64 entity_id,
    const char *detail, GError **error);

/* A text-only edit: sets the note (multi-line, at most 4096 bytes) and
 * updated_at; SEQUENCE stays. A cancelled booking keeps its note. */
gboolean med_store_set_booking_note (MedStore *store, gint64 booking_id,
    const char *note, const char *actor, GError **error);

/* Records one attendee's PARTSTAT. Applied only when sequence equals the
 * booking's current SEQUENCE (an older one fails with
 * MED_STORE_ERROR_STALE, a newer one with INVALID: no such invite was
 * sent), the booking is confirmed, email (compared case-insensitively) is
 * the mediator's, the interpreter's or a party's of that booking, and no
 * later DTSTAMP is stored for the same SEQUENCE (else STALE). The audit
 * row names the attendee by kind and id, never by address. booking_id
 * (optional) gets the booking. */
gboolean med_store_apply_reply (MedStore *store, const char *uid,
    const char *email, const char *partstat, gint sequence, MedTime dtstamp,
    const char *actor, gint64 *booking_id, GError **error);

/* ---- Holiday notices --------------------------------------------- */

/* Holiday notices. import replaces a notice with the same id. list returns
 * MedNotice* without days filled (days = empty array). */
gboolean med_store_import_notice (MedStore *store, const MedNotice *n,
    const char *actor, GError **error);

/* ---- The outbox -------------------------------------------------- */

/* Queues one message (booking_id, recipient_name/addr, method, sequence,
 * subject, message, channel, purpose, due_at are read), due at due_at or
 * now. Older pending messages for the same booking, recipient and channel
 * become superseded, with one exception that keeps the day-before
 * reminder: a reminder replaces only a pending reminder, and only a move
 * or a cancellation replaces a pending reminder (then any pending
 * reminder of the booking on that channel, whoever it was for: queue a
 * change's messages before its reminders). An SMS goes to a number
 * (med_store_sms_number's form) and has at most 2048 bytes. Join the
 * booking change's transaction (med_store_begin) so both commit or
 * neither. Returns the id or 0. */
gint64 med_store_outbox_add (MedStore *store, const MedOutboxMessage *m,
    const char *actor, GError **error);

/* Supersedes the pending messages of booking_id on channel whose text
 * holds needle (a party's join link that no longer works: revoked or
 * issued again), with an audit row ("outbox.supersede") when any was;
 * their number in *n (may be NULL). Join the change's transaction. */
gboolean med_store_outbox_supersede_holding (MedStore *store, gint64 booking_id,
    const char *channel, const char *needle, const char *actor, guint *n,
    GError **error);

/* Takes the next pending message of channel due at now (next_attempt_at
 * <= now, oldest first) and leases it: its next attempt moves to now +
 * lease, so a second flusher does not take it too, and a flusher killed
 * while sending retries it after the lease. NULL without error when
 * nothing is due. The message text is loaded. (transfer full) */
MedOutboxMessage *med_store_outbox_claim (MedStore *store, const char *channel,
    MedTime now, gint lease_seconds, GError **error);

/* The MTA or the SMS gateway accepted it: state sent, sent_at now, and a
 * ledger row with the channel and the SHA-256 of the message text. */
gboolean med_store_outbox_mark_sent (MedStore *store, gint64 id, MedTime now,
    const char *actor, GError **error);

/* An attempt failed: attempts + 1, last_error, and the next attempt after
 * med_store_outbox_backoff (attempts); with attempts reaching max_attempts
 * the message is failed (kept, not retried). */
gboolean med_store_outbox_mark_failed (MedStore *store, gint64 id, MedTime now,
    const char *why, gint max_attempts, const char *actor, GError **error);

/* Gives a claimed message back unsent, due at now, without counting an
 * attempt (a delivery stopped before the MTA answered). lease_end is the
 * next_attempt_at the claim returned: a message leased again since then is
 * left alone. */
gboolean med_store_outbox_release (MedStore *store, gint64 id,
    MedTime lease_end, MedTime now, GError **error);

/* Puts a failed message back in the queue, due now, attempts reset. */
gboolean med_store_outbox_retry (MedStore *store, gint64 id, MedTime now,
    const char *actor, GError **error);

/* ---- Users, tokens, sessions ------------------------------------- */

/* Adds a user (name unique: CONFLICT otherwise). Returns the id or 0. */
gint64 med_store_add_user (MedStore *store, const MedUser *u, const char *actor,
    GError **error);

gboolean med_store_set_user_password (MedStore *store, gint64 user_id,
    const char *password, const char *actor, GError **error);

/* API bearer tokens. expires_at 0 = never. */
gint64 med_store_add_token (MedStore *store, gint64 user_id, const char *hash,
    MedTime expires_at, const char *actor, GError **error);

gboolean med_store_revoke_tokens (MedStore *store, gint64 user_id,
    const char *actor, GError **error);

/* Web sessions with their CSRF synchroniser token (not audited; expired
 * sessions are purged when a new one is added). */
gboolean med_store_add_session (MedStore *store, const char *hash,
    gint64 user_id, const char *csrf, MedTime expires_at, GError **error);

gboolean med_store_delete_session (MedStore *store, const char *hash,
    GError **error);

/* ---- Capability links -------------------------------------------- */

/* language: the code of its texts' language ("zh", "bo", "en"), NULL or
 * "" for the centre's default. */
gint64 med_store_add_feed_link (MedStore *store, MedFeedLinkKind kind,
    gint64 ref_id, const char *hash, MedTime expires_at, const char *language,
    const char *actor, GError **error);

gboolean med_store_revoke_feed_link (MedStore *store, gint64 id,
    const char *actor, GError **error);

/* Party join links (med_store_join_token) are derived, not stored;
 * revoking one records its booking and party. */
gboolean med_store_revoke_join (MedStore *store, gint64 booking_id,
    gint64 party_id, const char *actor, GError **error);

/* Issues a party's link to a booking again: the generation goes up by one
 * (the old link no longer matches anything) and a revocation is lifted.
 * The booking must be confirmed and the party one of its case's. Audited
 * ("join.reissue": party id and generation). *generation (optional) gets
 * the new one. */
gboolean med_store_join_reissue (MedStore *store, gint64 booking_id,
    gint64 party_id, const char *actor, gint *generation, GError **error);

/* Audits that a party's link was sent by hand ("join.send": party id,
 * channel, the outbox message; no number or address). */
gboolean med_store_join_sent (MedStore *store, gint64 booking_id,
    gint64 party_id, const char *channel, gint64 outbox_id, const char *actor,
    GError **error);

/* ---- Recordings -------------------------------------------------- */

/* A new recording of a booking in state idle. Returns the id or 0. */
gint64 med_store_add_recording (MedStore *store, gint64 booking_id,
    MedRecordingRegime regime, const char *dir, const char *actor,
    GError **error);

/* failure NULL keeps the stored one. Audited. */
gboolean med_store_set_recording_state (MedStore *store, gint64 id,
    MedRecordingState state, const char *failure, gint64 pid, const char *actor,
    GError **error);

/* State sealed with the manifest's head hash (audited, so a truncated
 * manifest can be told apart), duration and final file size. */
gboolean med_store_seal_recording (MedStore *store, gint64 id,
    const char *manifest, const char *head_hash, guint64 duration_ns,
    guint64 bytes, const char *actor, GError **error);

gboolean med_store_add_recording_segment (MedStore *store, gint64 recording_id,
    guint idx, const char *file, const char *sha256, guint64 bytes,
    guint64 duration_ns, GError **error);

/* The interruption log (detail: states and explanations, no personal
 * data). list returns MedRecordingLog*, oldest first. */
gboolean med_store_log_recording (MedStore *store, gint64 recording_id,
    MedRecordingEvent kind, const char *detail, GError **error);

/* A party's answer to being recorded (the party must belong to the
 * booking's case). Audited with the party id. */
gboolean med_store_set_consent (MedStore *store, gint64 booking_id,
    gint64 party_id, gboolean given, const char *actor, GError **error);

/* Audits an access to a recording: what is "view", "export", "verify". */
gboolean med_store_recording_access (MedStore *store, gint64 recording_id,
    const char *what, const char *actor, GError **error);

/* Retention per case kind in days (defaults in the migration). */
gboolean med_store_set_retention (MedStore *store, MedCaseKind kind, gint days,
    const char *actor, GError **error);

/* Marks every ended recording past its case kind's retention purged
 * (audited), then deletes its files; rows stay. */
gboolean med_store_purge_recordings (MedStore *store, const char *actor,
    guint *n_purged, GError **error);

/* ---- Moving a centre between databases ---------------------------- */

/* Copies every row of the store at from (checked, audit chain whole) into
 * the store at to — a new SQLite file, or an empty PostgreSQL database,
 * migrated first — in one transaction: ids, the audit chain, users'
 * password and token hashes, the join secret, the outbox and its ledger,
 * recording rows. Before the commit the copy must pass med_store_check,
 * its audit chain must verify and end where the source's does; otherwise
 * nothing is written (a new file is removed). A source table or column
 * the destination cannot take fails with MED_STORE_ERROR_INVALID: a copy
 * is whole or not made. *out (may be NULL) says what was copied. */
gboolean med_store_copy (const char *from, const char *to, MedStoreCopy *out,
    GError **error);

/* ---- Restoring a backup ------------------------------------------ */

/* Puts backup in target's place. The backup is copied beside target and
 * opened as a store (an older schema is migrated); unless the copy passes
 * PRAGMA integrity_check and the overlap check (med_store_check), the
 * audit chain and the anchor (anchor, or else backup.anchor when it
 * exists) nothing changes and the error says why (CORRUPT, CONFLICT,
 * AUDIT, …). An existing target must be a medsched store that nobody has
 * open (BUSY otherwise: stop serve first); it stays beside the new one as
 * target.replaced-YYYYMMDDTHHMMSSZ (now, UTC). The copy is fsynced and
 * renamed over target: the database is the old one or the restored one,
 * never half of each. *out (may be NULL) is filled on success; free
 * out->kept. */
gboolean med_store_restore (const char *backup, const char *target,
    const MedAuditAnchor *anchor, MedTime now, MedStoreRestore *out,
    GError **error);

G_END_DECLS
