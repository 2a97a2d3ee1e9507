/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store.h — the store: schema migrations, the atomic booking, the
 * hash-chained audit log, over one of two databases chosen by the URL
 * (SQLite, the embedded default; PostgreSQL for many nodes). The only
 * module that includes sqlite3.h or libpq-fe.h; no database type or code
 * leaves it (errors are MED_STORE_ERROR_*).
 *
 * Every public function that changes data runs in one transaction (or joins
 * the one opened with med_store_begin) and writes one audit row per change.
 * actor names who did it ("cli", "clerk:wang", …); it never holds personal
 * data of parties. */
#pragma once

#include <medsched/med-model.h>
#include <medsched/med-workcal.h>
#include <medsched/med-scheduler.h>

G_BEGIN_DECLS

#define MED_STORE_ERROR (med_store_error_quark ())
GQuark med_store_error_quark (void);

typedef enum
{
  MED_STORE_ERROR_FAILED, /* any other SQLite failure */
  MED_STORE_ERROR_OPEN, /* cannot open / not a database */
  MED_STORE_ERROR_CORRUPT, /* integrity check failed, malformed file */
  MED_STORE_ERROR_FOREIGN, /* a SQLite file that is not a medsched store */
  MED_STORE_ERROR_TOO_NEW, /* schema newer than this program knows */
  MED_STORE_ERROR_BUSY, /* database locked by another writer */
  MED_STORE_ERROR_NOT_FOUND,
  MED_STORE_ERROR_CONFLICT, /* booking overlap, duplicate number, … */
  MED_STORE_ERROR_INVALID, /* constraint or validation failure */
  MED_STORE_ERROR_AUDIT, /* audit chain broken */
  MED_STORE_ERROR_STALE, /* a reply older than what the store knows */
  MED_STORE_ERROR_UNAVAILABLE, /* the database could not be reached, or the
                                * connection went before COMMIT: nothing
                                * was written (safe to try again) */
  MED_STORE_ERROR_UNCERTAIN, /* the connection went during COMMIT: the
                              * change may or may not have been written */
} MedStoreError;

typedef struct _MedStore MedStore;

/* What a CONFLICT clashed with, when the store knows it: a booking refused
 * because a room, mediator, interpreter, the case or one of its parties
 * (by contact, in another case) is taken, the mediator is on leave, or has
 * reached the daily cap. The English message stays the error's message;
 * front ends render this in the reader's language. */
typedef enum
{
  MED_CONFLICT_ROOM,
  MED_CONFLICT_MEDIATOR,
  MED_CONFLICT_INTERPRETER,
  MED_CONFLICT_CASE, /* the case's own other session */
  MED_CONFLICT_PARTY, /* a party of the case, in another case */
  MED_CONFLICT_LEAVE, /* the mediator's leave */
  MED_CONFLICT_DAILY_CAP, /* the mediator's sessions that day */
  MED_CONFLICT_N
} MedConflictKind;

typedef struct
{
  MedConflictKind kind;
  gint64 id; /* the room, mediator, interpreter or case */
  char *name; /* its name (the case's number for case and party) */
  gint64 booking_id; /* the session in the way; 0 for leave and cap */
  MedTime start; /* of that session or the leave; the cap: the local day */
  MedTime end;
  gboolean buffer; /* room: only the setup/cleanup time around it touches */
  gint count; /* daily cap: sessions already that day, and the cap */
  gint cap;
} MedStoreConflict;

/* "room", "mediator", "interpreter", "case", "party", "leave",
 * "daily-cap". */
const char *med_conflict_kind_to_string (MedConflictKind k);
/* The conflict carried by a MED_STORE_ERROR_CONFLICT, or NULL (another
 * error, or a conflict the schema's triggers found). (transfer none: lives
 * as long as error) */
const MedStoreConflict *med_store_error_get_conflict (const GError *error);

/* Opens (creating if missing) and migrates the store named by url, with
 * the driver the URL names:
 *   postgresql://… or postgres://…  a PostgreSQL database (libpq's URI,
 *       hosts may be a list: host1:5432,host2:5432; unless the URL says
 *       otherwise, target_session_attrs=read-write finds the primary);
 *   sqlite:FILE or FILE              a SQLite file (the embedded default).
 * A file written by a newer medsched fails with MED_STORE_ERROR_TOO_NEW;
 * a SQLite file that has tables but is not ours fails with
 * MED_STORE_ERROR_FOREIGN (a PostgreSQL database with tables but no
 * medsched schema too); a file that is not SQLite fails with
 * MED_STORE_ERROR_OPEN or _CORRUPT; a database that cannot be reached with
 * MED_STORE_ERROR_UNAVAILABLE. SQLite: WAL, foreign keys on,
 * synchronous=FULL. A MedStore is used by one thread at a time: each
 * thread (or process) opens its own; the database serialises their
 * writes. (transfer full) */
MedStore *med_store_open (const char *url, GError **error);
/* Opens without creating or migrating (fails if the file or the schema is
 * missing). */
MedStore *med_store_open_existing (const char *url, GError **error);
/* TRUE when url names a SQLite file (a path or sqlite:FILE), FALSE for a
 * PostgreSQL URL. */
gboolean med_store_url_is_file (const char *url);
/* "sqlite" or "postgresql". (transfer none) */
const char *med_store_kind (MedStore *store);
void med_store_close (MedStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedStore, med_store_close)

/* A fixed clock for the store's own timestamps (audit at, created/updated,
 * status_at, settled_at): tests and replays pass an instant, 0 goes back
 * to the real clock. */
void med_store_set_now (MedStore *store, MedTime now);
/* Now as the store sees it: the fixed clock, else the real one. */
MedTime med_store_now (MedStore *store);

/* Schema version this build writes. */
gint med_store_schema_version (void);

/* (transfer full) */
MedCentre *med_store_get_centre (MedStore *store, gint64 id, GError **error);
/* Every centre of the store (a province's database holds many), by id.
 * (transfer full) array of MedCentre* */
GPtrArray *med_store_list_centres (MedStore *store, GError **error);

/* What belongs to a centre, for med_store_in_centre. */
typedef enum
{
  MED_STORE_OF_CASE,
  MED_STORE_OF_BOOKING, /* through its case */
  MED_STORE_OF_PARTY, /* through its case */
  MED_STORE_OF_ROOM,
  MED_STORE_OF_MEDIATOR,
  MED_STORE_OF_INTERPRETER,
  MED_STORE_OF_USER,
  MED_STORE_OF_RECORDING, /* through its booking's case */
  MED_STORE_OF_FEED_LINK, /* through the room, mediator, case or centre it
                           * shows */
} MedStoreOwned;

/* Whether row id of kind belongs to centre_id. Rows of every centre share
 * their tables and ids in a province's database: a front end or use case
 * serving one centre asks this before it shows or changes a row named by
 * id. FALSE with NOT_FOUND ("no case 5 in centre 2") when the row is
 * missing or another centre's — the same answer, so that ids of other
 * centres reveal nothing; another error when the store fails. */
gboolean med_store_in_centre (MedStore *store, MedStoreOwned kind, gint64 id,
    gint64 centre_id, GError **error);

GPtrArray *med_store_list_rooms (MedStore *store, gint64 centre_id,
    GError **error);
GPtrArray *med_store_list_mediators (MedStore *store, gint64 centre_id,
    GError **error);
MedMediator *med_store_get_mediator (MedStore *store, gint64 id,
    GError **error);
GPtrArray *med_store_list_interpreters (MedStore *store, gint64 centre_id,
    GError **error);

MedCase *med_store_get_case (MedStore *store, gint64 id, GError **error);
/* A case by its number in a centre (numbers repeat across centres). */
MedCase *med_store_find_case (MedStore *store, gint64 centre_id,
    const char *number, GError **error);
/* status < 0 means any; from/to filter on intake time when non-zero. */
GPtrArray *med_store_list_cases (MedStore *store, gint64 centre_id, gint status,
    GError **error);
GPtrArray *med_store_list_parties (MedStore *store, gint64 case_id,
    GError **error);

/* A case's party (med-store-party.c): NOT_FOUND when it is not (or no
 * longer) one of the case's. Parties are added, corrected and removed
 * through the write port. (transfer full) */
MedParty *med_store_get_party (MedStore *store, gint64 case_id, gint64 party_id,
    GError **error);

/* What to find cases by; zeros and NULLs match everything. */
typedef struct
{
  /* a part of the case number, of a party's name or of its contact
   * (spaces and dashes ignored there); taken literally (no wildcards) */
  const char *text;
  gint status; /* MedCaseStatus, < 0 = any */
  MedTime from, to; /* with a confirmed session overlapping [from, to) */
  gint64 mediator_id; /* with a confirmed session with this mediator (with
                       * from/to: the same session) */
} MedCaseQuery;

/* Cases of a centre matching q, newest intake first, limit of them from
 * offset; *total (may be NULL) gets how many match in all. (transfer
 * full) array of MedCase* */
GPtrArray *med_store_search_cases (MedStore *store, gint64 centre_id,
    const MedCaseQuery *q, guint offset, guint limit, guint *total,
    GError **error);

/* The re-checks of book (exclude_id 0) or of reschedule (exclude_id the
 * booking moved: its case, and its room and mediator unless b gives
 * others) without writing anything: TRUE when the store would take b now,
 * else the error book would give (CONFLICT with its MedStoreConflict
 * naming the resource that clashes and its booking). */
gboolean med_store_check_booking (MedStore *store, const MedBooking *b,
    gint64 exclude_id, GError **error);
MedBooking *med_store_get_booking (MedStore *store, gint64 id, GError **error);
/* Bookings overlapping [from, to) (0 = unbounded), by start then id;
 * include_cancelled adds cancelled ones. */
GPtrArray *med_store_list_bookings (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, gboolean include_cancelled, GError **error);
GPtrArray *med_store_list_case_bookings (MedStore *store, gint64 case_id,
    GError **error);

/* Everything the scheduler needs for a centre, bookings overlapping
 * [from, to). The returned snapshot owns its arrays and centre; the
 * workcal (notices of the centre's layers) is owned too.
 * (transfer full) */
typedef struct
{
  MedSnapshot snap;
  MedCentre *centre;
  MedWorkcal *workcal;
} MedStoreSnapshot;

MedStoreSnapshot *med_store_load_snapshot (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, GError **error);
void med_store_snapshot_free (MedStoreSnapshot *s);
/* Each mediator's confirmed bookings among those med_store_load_snapshot
 * would read for [from, to), leaving out exclude_booking_id (0 = none): the
 * load a windowed search hands the scheduler (MedSnapshot.mediator_load).
 * (transfer full) array of MedMediatorLoad */
GArray *med_store_mediator_load (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, gint64 exclude_booking_id, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedStoreSnapshot, med_store_snapshot_free)

/* Other confirmed bookings of any party of case_id (matched by contact,
 * then by the case itself), as MedInterval, excluding exclude_booking_id.
 * (transfer full) */
GArray *med_store_party_busy (MedStore *store, gint64 case_id,
    gint64 exclude_booking_id, GError **error);

/* The mediator of the case's latest booking (confirmed or past), for
 * follow-up sessions; 0 when none. */
gint64 med_store_case_last_mediator (MedStore *store, gint64 case_id,
    GError **error);

GPtrArray *med_store_list_notices (MedStore *store, GError **error);
/* A workcal holding every stored notice. (transfer full) */
MedWorkcal *med_store_load_workcal (MedStore *store, GError **error);

/* Audit log: verify recomputes the hash chain; on a mismatch fails with
 * MED_STORE_ERROR_AUDIT and sets *bad_id to the first bad row id. *n_rows
 * gets the number of rows checked. */
gboolean med_store_audit_verify (MedStore *store, gint64 *n_rows,
    gint64 *bad_id, GError **error);

/* The chain's head kept outside the table (with each backup, in serve's
 * log once a day): the chain checks every row against the one before it,
 * so it cannot see its newest rows deleted; an anchor can. Written
 * "ID:HASH" (the last row's id and hash; "0:" and 64 zeros for an empty
 * log). */
typedef struct
{
  gint64 id;
  char hash[65]; /* lowercase hex, NUL-terminated */
} MedAuditAnchor;

/* The last row's id and hash. */
gboolean med_store_audit_head (MedStore *store, MedAuditAnchor *anchor,
    GError **error);
/* "ID:HASH". (transfer full) */
char *med_audit_anchor_to_string (const MedAuditAnchor *anchor);
/* Reads "ID:HASH", or the text of an anchor file (the same on one line;
 * blank lines and lines starting with '#' are skipped). On bad text
 * MED_STORE_ERROR_INVALID. */
gboolean med_audit_anchor_parse (const char *text, MedAuditAnchor *anchor,
    GError **error);
/* An anchor file's text: comment lines saying what it is, then ID:HASH.
 * (transfer full) */
char *med_audit_anchor_file_text (const MedAuditAnchor *anchor,
    const char *what);
/* med_store_audit_verify, then the anchor: the log must still hold row
 * anchor->id with that hash. Rows removed from the end (the log ends
 * before the anchor's row) or a rewritten row fail with
 * MED_STORE_ERROR_AUDIT saying which. */
gboolean med_store_audit_verify_anchor (MedStore *store,
    const MedAuditAnchor *anchor, gint64 *n_rows, GError **error);

typedef struct
{
  gint64 id;
  MedTime at;
  char *actor;
  char *action; /* "case.add", "booking.create", "case.status", … */
  char *entity; /* "case", "booking", … */
  gint64 entity_id;
  char *detail; /* JSON, ids and states only */
} MedAuditEntry;

void med_audit_entry_free (MedAuditEntry *e);
/* Audit rows for one entity (entity NULL = all), oldest first. */
GPtrArray *med_store_list_audit (MedStore *store, const char *entity,
    gint64 entity_id, GError **error);

/* Share of cases settled on their intake day (centre-local), for cases
 * taken at intake in [from, to). */
gboolean med_store_same_day_report (MedStore *store, gint64 centre_id,
    MedTime from, MedTime to, guint *n_cases, guint *n_settled,
    guint *n_same_day, GError **error);

/* Runs PRAGMA integrity_check and a full overlap scan; for tests and the
 * CLI "store check". */
gboolean med_store_check (MedStore *store, GError **error);

/* ---- backups (med-store-backup.c) -------------------------------------- */

/* Copies the store to dest with SQLite's online backup API: one consistent
 * snapshot taken in a read transaction (other processes keep writing),
 * written beside dest, checked with PRAGMA integrity_check, self-contained
 * (rollback journal, no -wal), fsynced, then linked into place: dest is
 * whole or absent. dest must not exist (INVALID). Writes dest.anchor (the
 * copy's audit head, med_audit_anchor_file_text) and sets *anchor (may be
 * NULL). */
gboolean med_store_backup (MedStore *store, const char *dest,
    MedAuditAnchor *anchor, GError **error);
/* med_store_backup to dir/STEM-YYYYMMDDTHHMMSSZ.db (STEM: the store
 * file's name without .db; now in UTC; -N added when taken), then removes
 * all but the newest keep backups of STEM in dir, with their anchors
 * (keep 0 = remove nothing; other files are never touched). *out_path
 * (transfer full), *anchor and *n_removed may be NULL. */
gboolean med_store_backup_to_dir (MedStore *store, const char *dir, MedTime now,
    guint keep, char **out_path, MedAuditAnchor *anchor, guint *n_removed,
    GError **error);

typedef struct
{
  gint64 audit_rows; /* rows of the restored audit log */
  gboolean anchored; /* checked against an anchor too */
  char *kept; /* the replaced database, kept beside it; NULL if none */
} MedStoreRestore;

/* What `medsched store copy` moved (med_store_copy in the write port). */
typedef struct
{
  gint64 rows; /* every table's rows */
  gint64 audit_rows;
  MedAuditAnchor head; /* the audit head both stores now end with */
} MedStoreCopy;

/* ---- invites, feeds and their delivery (schema version 2) ----------------
 *
 * The store keeps what invites and feeds are made from and what happened
 * to them; it never builds iCalendar text itself (that is the ical
 * module's job, called by cli/http, which hand the finished messages to
 * med_store_outbox_add inside the same transaction as the booking change
 * they announce). */

/* Whose e-mail address or external busy time. */
typedef enum
{
  MED_STORE_PERSON_MEDIATOR,
  MED_STORE_PERSON_INTERPRETER,
} MedStorePerson;

/* True when s looks like one e-mail address (local@domain, no spaces, no
 * angle brackets or commas). A party's contact that passes is their
 * e-mail; anything else (a phone number) is not. */
gboolean med_store_is_email (const char *s);
/* A party's contact as a number an SMS can go to: an optional leading
 * '+' and 5–20 digits, spaces, dashes, dots and parentheses dropped
 * ("138 0000 0001" → "13800000001", "(0891) 632-0000" → "08916320000");
 * NULL when the contact is not one (an e-mail address, empty, letters, a
 * '+' inside). (transfer full) */
char *med_store_sms_number (const char *contact);

/* "" when none. (transfer full) */
char *med_store_get_email (MedStore *store, MedStorePerson who, gint64 id,
    GError **error);

/* (transfer full) */
char *med_store_get_public_url (MedStore *store, gint64 centre_id,
    GError **error);

/* "" when none. (transfer full) */
char *med_store_get_centre_phone (MedStore *store, gint64 centre_id,
    GError **error);

/* What a booking has beyond MedBooking. */
typedef struct
{
  gint64 booking_id;
  MedTime created_at;
  char *note; /* "" when none */
} MedBookingExtra;

void med_booking_extra_free (MedBookingExtra *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedBookingExtra, med_booking_extra_free)

/* (transfer full) */
MedBookingExtra *med_store_get_booking_extra (MedStore *store,
    gint64 booking_id, GError **error);
/* A booking by its iCalendar UID. (transfer full) */
MedBooking *med_store_find_booking_uid (MedStore *store, const char *uid,
    GError **error);

/* A party's join link capability for one booking: base64url of
 * HMAC-SHA256 (store secret, "join:" UID ":" party id), 22 characters
 * (132 bits); once issued again (med_store_join_reissue) the message
 * ends in ":" and the link's generation. Derived, never stored: the same
 * booking, party and generation always give the same token, another one
 * another token. The party must belong to the booking's case.
 * (transfer full) */
char *med_store_join_token (MedStore *store, gint64 booking_id, gint64 party_id,
    GError **error);
/* public_url + "/join/" + token. (transfer full) */
char *med_store_join_url (MedStore *store, gint64 booking_id, gint64 party_id,
    GError **error);
/* Finds which party of which confirmed booking of centre_id overlapping
 * [from, to) holds token (compared in constant time). FALSE with
 * NOT_FOUND when none does (another centre's link included: only the
 * serving centre's bookings are scanned). */
gboolean med_store_join_lookup (MedStore *store, gint64 centre_id,
    const char *token, MedTime from, MedTime to, gint64 *booking_id,
    gint64 *party_id, GError **error);
/* Whether token is an earlier generation of a link that was issued again
 * (a confirmed booking of centre_id overlapping [from, to), as
 * join_lookup): such a link opens nothing, but its page can say that it
 * was replaced. FALSE with NOT_FOUND when it is not one. */
gboolean med_store_join_lookup_replaced (MedStore *store, gint64 centre_id,
    const char *token, MedTime from, MedTime to, gint64 *booking_id,
    gint64 *party_id, GError **error);
/* The current generation of a party's link (0 until issued again). */
gint med_store_join_generation (MedStore *store, gint64 booking_id,
    gint64 party_id, GError **error);

/* Attendees' answers (iTIP REPLY). */
typedef struct
{
  char *booking_uid;
  char *email;
  char *partstat; /* "ACCEPTED", … */
  gint sequence;
  MedTime dtstamp;
  MedTime updated_at;
} MedAttendeeStatus;

void med_attendee_status_free (MedAttendeeStatus *s);

/* Answers to the booking's current SEQUENCE, by e-mail. (transfer full)
 * array of MedAttendeeStatus* */
GPtrArray *med_store_list_attendee_status (MedStore *store, gint64 booking_id,
    GError **error);

/* The outbox of both channels: iMIP e-mail ("mail") and SMS ("sms"). A
 * message is pending until its transport takes it (sent), it fails
 * max_attempts times (failed), or a newer message for the same booking,
 * recipient and channel replaces it before it went out (superseded). Rows
 * are never deleted. */
typedef enum
{
  MED_OUTBOX_PENDING,
  MED_OUTBOX_SENT,
  MED_OUTBOX_FAILED,
  MED_OUTBOX_SUPERSEDED,
  MED_OUTBOX_STATE_N
} MedOutboxState;

const char *med_outbox_state_to_string (MedOutboxState s);

/* The channels of the outbox, as transports name them. */
#define MED_OUTBOX_MAIL "mail"
#define MED_OUTBOX_SMS  "sms"

typedef struct
{
  gint64 id;
  gint64 booking_id;
  char *recipient_name;
  char *recipient_addr; /* an e-mail address, or an SMS number
                         * (med_store_sms_number) */
  char *method; /* "REQUEST" or "CANCEL" (an SMS of a cancellation) */
  gint sequence;
  char *subject;
  char *message; /* the whole RFC 5322 message, or the SMS text; NULL in
                  * listings */
  MedOutboxState state;
  MedTime created_at;
  gint attempts;
  MedTime next_attempt_at;
  MedTime sent_at; /* 0 until sent */
  char *last_error; /* "" when none */
  char *channel; /* "mail" or "sms"; NULL when adding = "mail" */
  /* "invite" (mail), or what an SMS says: "booked", "moved",
   * "cancelled", "reminder", "link"; NULL when adding = "invite" */
  char *purpose;
  MedTime due_at; /* when adding: when it falls due (0 = now) */
  /* when adding a "cancelled": the recipient alone leaves the booking (a
   * party removed from the case), so only their pending messages are
   * superseded, not the other parties' reminders */
  gboolean recipient_only;
} MedOutboxMessage;

void med_outbox_message_free (MedOutboxMessage *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedOutboxMessage, med_outbox_message_free)

/* Messages, newest last; pending_only leaves the others out. The message
 * text is not loaded. (transfer full) */
GPtrArray *med_store_outbox_list (MedStore *store, gboolean pending_only,
    GError **error);
/* When the next pending message of channel is due (its next_attempt_at,
 * leases included): TRUE with *when set, or TRUE with *when 0 when nothing
 * is pending. Reads only. */
gboolean med_store_outbox_next_due (MedStore *store, const char *channel,
    MedTime *when, GError **error);
/* Seconds to wait after the n-th failed attempt (n >= 1): 1 min, 5 min,
 * 30 min, 2 h, then 6 h. */
gint med_store_outbox_backoff (gint attempts);

typedef struct
{
  gint64 id;
  gint64 outbox_id;
  char *recipient_addr;
  char *method;
  gint sequence;
  char *sha256; /* lowercase hex of the message text */
  MedTime sent_at;
  char *channel; /* "mail" or "sms" */
} MedLedgerEntry;

void med_ledger_entry_free (MedLedgerEntry *e);
/* The ledger, oldest first. (transfer full) */
GPtrArray *med_store_outbox_ledger (MedStore *store, GError **error);

/* Busy time of a mediator or interpreter from an external calendar, as
 * MedInterval. Replaces every interval of the same person and source in
 * one transaction (at most MED_STORE_MAX_EXTERNAL_BUSY). */
#define MED_STORE_MAX_EXTERNAL_BUSY 20000
/* Intervals overlapping [from, to) (0 = unbounded), by start. (transfer
 * full) array of MedInterval */
GArray *med_store_list_external_busy (MedStore *store, MedStorePerson who,
    gint64 id, MedTime from, MedTime to, GError **error);

/* ---- users, tokens, sessions, capability links (med-store-auth.c) ------
 *
 * Who may use the HTTP server. The store never sees a secret: tokens,
 * session ids and feed links are passed as the lowercase hex SHA-256 of
 * the secret (64 characters), passwords as their PBKDF2 string. Lookups
 * by hash fail with MED_STORE_ERROR_NOT_FOUND whether the entry is
 * missing, revoked or expired. */

typedef enum
{
  MED_ROLE_ADMIN,
  MED_ROLE_CLERK,
  MED_ROLE_MEDIATOR, /* sees and changes only their own cases' sessions */
  MED_ROLE_N
} MedRole;

const char *med_role_to_string (MedRole r);
gboolean med_role_from_string (const char *s, MedRole *out, GError **error);

typedef struct
{
  gint64 id;
  char *name; /* login name: 1–64 bytes, no spaces, ':', '/' or '\\';
               * unique in the whole database */
  gint64 centre_id; /* the centre whose `serve` they may use (schema 7) */
  MedRole role;
  gint64 mediator_id; /* > 0 exactly for MED_ROLE_MEDIATOR */
  char *password; /* "pbkdf2-sha256$ITER$SALT$HASH" (never a password) */
  gboolean disabled;
  MedTime created_at;
} MedUser;

void med_user_free (MedUser *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedUser, med_user_free)

gboolean med_store_check_user_name (const char *name, GError **error);
/* (transfer full) */
MedUser *med_store_get_user (MedStore *store, gint64 id, GError **error);
/* By login name, whatever their centre (names are unique in the whole
 * database): compare centre_id before letting them in. */
MedUser *med_store_find_user (MedStore *store, const char *name,
    GError **error);
/* The users of a centre, by id. (transfer full) */
GPtrArray *med_store_list_users (MedStore *store, gint64 centre_id,
    GError **error);

/* The (enabled) user of centre_id holding a live token: a token of
 * another centre's user is NOT_FOUND, as an unknown one. (transfer full) */
MedUser *med_store_user_by_token (MedStore *store, gint64 centre_id,
    const char *hash, MedTime now, GError **error);

/* The same for a web session. (transfer full); *csrf (optional) gets the
 * session's CSRF token. */
MedUser *med_store_session_user (MedStore *store, gint64 centre_id,
    const char *hash, MedTime now, char **csrf, GError **error);

/* Calendar-feed capability links (/feeds/<token>.ics). */
typedef enum
{
  MED_FEED_LINK_ROOM,
  MED_FEED_LINK_MEDIATOR,
  MED_FEED_LINK_CASE,
  MED_FEED_LINK_CENTRE,
  MED_FEED_LINK_N
} MedFeedLinkKind;

const char *med_feed_link_kind_to_string (MedFeedLinkKind k);
gboolean med_feed_link_kind_from_string (const char *s, MedFeedLinkKind *out,
    GError **error);

typedef struct
{
  gint64 id;
  MedFeedLinkKind kind;
  gint64 ref_id; /* room, mediator, case or centre id */
  MedTime created_at;
  MedTime expires_at; /* 0 = never */
  MedTime revoked_at; /* 0 = live */
  char language[4]; /* its texts' language ("zh", "bo", "en"), "" for the
                     * centre's default; inline, so a copy of the struct is
                     * whole */
} MedFeedLink;

void med_feed_link_free (MedFeedLink *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedFeedLink, med_feed_link_free)

/* A live link of centre_id (missing, revoked, expired, another centre's:
 * NOT_FOUND alike). A link belongs to the centre of what it shows. */
MedFeedLink *med_store_find_feed_link (MedStore *store, gint64 centre_id,
    const char *hash, MedTime now, GError **error);
/* The links of centre_id, by id. (transfer full) */
GPtrArray *med_store_list_feed_links (MedStore *store, gint64 centre_id,
    GError **error);

gboolean med_store_join_revoked (MedStore *store, gint64 booking_id,
    gint64 party_id);

/* How many bookings of the case name the mediator, cancelled ones only
 * with include_cancelled; -1 on error. A fact for the access rule
 * (med_service_may_access_case), not the rule. */
gint med_store_count_mediator_bookings (MedStore *store, gint64 mediator_id,
    gint64 case_id, gboolean include_cancelled, GError **error);

/* A number that changes whenever the store's data may have changed (a
 * commit by this connection or any other, seen as soon as that commit
 * returned): the key of read caches; -1 when it cannot be read. SQLite:
 * PRAGMA data_version and this connection's own changes. PostgreSQL: a
 * row every writing transaction raises with its COMMIT (one small query
 * per call); each writing transaction also sends NOTIFY medsched_data,
 * which the first call LISTENs for and every call drains. */
gint64 med_store_data_version (MedStore *store);
/* The same number for a caller that asks many times in one short span
 * (serve, once per turn of its main loop: epoch): the database is asked
 * once per epoch, and again whenever this connection wrote since (so a
 * read after one's own write always sees it). Another connection's commit
 * is seen from the next epoch on. epoch 0 always asks. */
gint64 med_store_data_version_in (MedStore *store, guint64 epoch);
/* The socket notifications arrive on (PostgreSQL, once
 * med_store_data_version was called; it changes after a reconnection),
 * for a main loop that wants to learn of other nodes' commits as they
 * happen: when it is readable, call med_store_data_version (which reads
 * them). -1 for SQLite. */
int med_store_notify_fd (MedStore *store);

/* ---- recordings of remote sessions (med-store-media.c) -------------------
 *
 * A recording row per recorded session, its segments, the parties'
 * consent, the interruption log and the retention per case kind. The media
 * module writes them from its main loop; nothing here holds personal data. */

typedef enum
{
  MED_RECORDING_IDLE,
  MED_RECORDING_RECORDING,
  MED_RECORDING_PAUSED,
  MED_RECORDING_STOPPED, /* ended without a seal (killed, recovered) */
  MED_RECORDING_FAILED,
  MED_RECORDING_SEALED,
  MED_RECORDING_PURGED,
} MedRecordingState;

typedef enum
{
  MED_RECORDING_REGIME_HEARING, /* records continuously */
  MED_RECORDING_REGIME_MEDIATION, /* only with every party's consent */
} MedRecordingRegime;

typedef enum
{
  MED_RECORDING_EVENT_START,
  MED_RECORDING_EVENT_PAUSE,
  MED_RECORDING_EVENT_RESUME,
  MED_RECORDING_EVENT_STOP,
  MED_RECORDING_EVENT_FAILURE,
  MED_RECORDING_EVENT_GAP,
} MedRecordingEvent;

const char *med_recording_state_to_string (MedRecordingState s);
const char *med_recording_regime_to_string (MedRecordingRegime r);
const char *med_recording_event_to_string (MedRecordingEvent e);
gboolean med_recording_regime_from_string (const char *s,
    MedRecordingRegime *out, GError **error);

typedef struct
{
  gint64 id;
  gint64 booking_id;
  MedRecordingRegime regime;
  MedRecordingState state;
  char *dir; /* absolute directory of the recording's files */
  char *manifest; /* "" until sealed */
  char *head_hash; /* "" until sealed */
  guint64 duration_ns;
  guint64 bytes; /* of the final file */
  gint64 pid; /* process recording it while recording/paused, else 0 */
  MedTime created_at;
  MedTime updated_at;
  char *failure; /* "" or why it failed */
} MedRecording;

void med_recording_free (MedRecording *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedRecording, med_recording_free)

typedef struct
{
  MedTime at;
  MedRecordingEvent kind;
  char *detail;
} MedRecordingLog;

void med_recording_log_free (MedRecordingLog *l);

/* (transfer full) */
MedRecording *med_store_get_recording (MedStore *store, gint64 id,
    GError **error);
/* booking_id 0 = all; MedRecording*, by id. (transfer full) */
GPtrArray *med_store_list_recordings (MedStore *store, gint64 booking_id,
    GError **error);
guint med_store_count_recording_segments (MedStore *store, gint64 recording_id,
    GError **error);
GPtrArray *med_store_list_recording_log (MedStore *store, gint64 recording_id,
    GError **error);
/* *given: whether the party has given (and not withdrawn) its consent. */
gboolean med_store_get_consent (MedStore *store, gint64 booking_id,
    gint64 party_id, gboolean *given, GError **error);
/* *n_missing: parties of the booking's case without a given consent. */
gboolean med_store_consent_complete (MedStore *store, gint64 booking_id,
    guint *n_missing, GError **error);

G_END_DECLS
