/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-sqlite.c — the SQLite driver of the store (the embedded
 * default: one file per centre): the driver functions over sqlite3
 * statements, opening a file and telling ours from a foreign or newer
 * one, the numbered schema migrations (PRAGMA user_version, each in one
 * BEGIN IMMEDIATE transaction), the pragmas (WAL, synchronous=FULL,
 * foreign keys), SQLite result codes mapped to the driver's error kinds,
 * PRAGMA integrity_check and the data version (PRAGMA data_version plus
 * this connection's own changes).
 *
 * One writer at a time: a writing transaction is BEGIN IMMEDIATE, and the
 * schema's triggers refuse an overlapping booking whatever writes it. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <sqlite3.h>
#include <string.h>

/* PRAGMA application_id of a medsched store: "MEDS". */
#define MED_STORE_APPLICATION_ID 0x4D454453

#define BUSY_TIMEOUT_MS 5000

#define DB(store) ((sqlite3 *) (store)->conn)

/* ---- schema ------------------------------------------------------------ */

/* Migration 1. Enum words are those of med-model.c (checked by the unit
 * test that round-trips every value). 172800 is
 * MED_STORE_MAX_BLOCK_SECONDS: no room block is longer (CHECK), so overlap
 * scans can bound their index range from below. */
static const char migration_1[]
    = "CREATE TABLE medsched_meta ("
      "  key TEXT PRIMARY KEY NOT NULL,"
      "  value TEXT NOT NULL);"
      "INSERT INTO medsched_meta (key, value) VALUES ('app', 'medsched');"
      "PRAGMA application_id = 1296385107;"

      "CREATE TABLE centre ("
      "  id INTEGER PRIMARY KEY,"
      "  name TEXT NOT NULL"
      "    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 256),"
      "  zone TEXT NOT NULL CHECK (length(zone) BETWEEN 1 AND 64),"
      "  layers TEXT NOT NULL"
      "    CHECK (length(CAST(layers AS BLOB)) BETWEEN 1 AND 256),"
      "  address TEXT NOT NULL CHECK (length(CAST(address AS BLOB)) <= 4096),"
      "  mailbox TEXT NOT NULL CHECK (length(CAST(mailbox AS BLOB)) <= 256),"
      "  hours_mon TEXT NOT NULL, hours_tue TEXT NOT NULL,"
      "  hours_wed TEXT NOT NULL, hours_thu TEXT NOT NULL,"
      "  hours_fri TEXT NOT NULL, hours_sat TEXT NOT NULL,"
      "  hours_sun TEXT NOT NULL,"
      "  min_notice_minutes INTEGER NOT NULL"
      "    CHECK (min_notice_minutes BETWEEN 0 AND 525600),"
      "  slot_minutes INTEGER NOT NULL CHECK (slot_minutes BETWEEN 1 AND 1440),"
      "  default_duration_minutes INTEGER NOT NULL"
      "    CHECK (default_duration_minutes BETWEEN 1 AND 1440),"
      "  allow_fallback INTEGER NOT NULL CHECK (allow_fallback IN (0, 1)));"

      "CREATE TABLE room ("
      "  id INTEGER PRIMARY KEY,"
      "  centre_id INTEGER NOT NULL REFERENCES centre (id),"
      "  name TEXT NOT NULL"
      "    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 256),"
      "  kind TEXT NOT NULL CHECK (kind IN ('warm', 'family', 'remote')),"
      "  capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 1000),"
      "  features INTEGER NOT NULL CHECK (features BETWEEN 0 AND 15),"
      "  setup_minutes INTEGER NOT NULL CHECK (setup_minutes BETWEEN 0 AND 240),"
      "  cleanup_minutes INTEGER NOT NULL"
      "    CHECK (cleanup_minutes BETWEEN 0 AND 240),"
      "  UNIQUE (centre_id, name));"

      "CREATE TABLE mediator ("
      "  id INTEGER PRIMARY KEY,"
      "  centre_id INTEGER NOT NULL REFERENCES centre (id),"
      "  name TEXT NOT NULL"
      "    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 256),"
      "  languages TEXT NOT NULL CHECK (length(languages) BETWEEN 2 AND 256),"
      "  specialties INTEGER NOT NULL CHECK (specialties BETWEEN 0 AND 2047),"
      "  daily_cap INTEGER NOT NULL CHECK (daily_cap BETWEEN 1 AND 24));"
      "CREATE INDEX mediator_centre ON mediator (centre_id);"

      "CREATE TABLE mediator_leave ("
      "  id INTEGER PRIMARY KEY,"
      "  mediator_id INTEGER NOT NULL REFERENCES mediator (id),"
      "  start_at INTEGER NOT NULL,"
      "  end_at INTEGER NOT NULL,"
      "  CHECK (end_at > start_at));"
      "CREATE INDEX mediator_leave_mediator"
      "  ON mediator_leave (mediator_id, start_at);"

      "CREATE TABLE interpreter ("
      "  id INTEGER PRIMARY KEY,"
      "  centre_id INTEGER NOT NULL REFERENCES centre (id),"
      "  name TEXT NOT NULL"
      "    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 256),"
      "  pairs TEXT NOT NULL CHECK (length(pairs) BETWEEN 5 AND 512));"
      "CREATE INDEX interpreter_centre ON interpreter (centre_id);"

      /* "case" is an SQL keyword: the table is mcase. */
      "CREATE TABLE mcase ("
      "  id INTEGER PRIMARY KEY,"
      "  centre_id INTEGER NOT NULL REFERENCES centre (id),"
      "  number TEXT NOT NULL"
      "    CHECK (length(CAST(number AS BLOB)) BETWEEN 1 AND 256),"
      "  kind TEXT NOT NULL CHECK (kind IN ('wages', 'neighbour', 'contract',"
      "    'land', 'traffic', 'consumer', 'divorce', 'custody', 'support',"
      "    'inheritance', 'other')),"
      "  status TEXT NOT NULL CHECK (status IN ('intake', 'dispatched',"
      "    'scheduled', 'in-session', 'settled', 'not-settled', 'referred',"
      "    'withdrawn')),"
      "  department TEXT NOT NULL CHECK (department IN ('none',"
      "    'court-mediation', 'labour-inspection', 'legal-aid', 'police',"
      "    'civil-affairs')),"
      "  intake_at INTEGER NOT NULL,"
      "  deadline INTEGER NOT NULL DEFAULT 0,"
      "  minors INTEGER NOT NULL CHECK (minors IN (0, 1)),"
      "  urgent INTEGER NOT NULL CHECK (urgent IN (0, 1)),"
      "  duration_minutes INTEGER NOT NULL"
      "    CHECK (duration_minutes BETWEEN 0 AND 1440),"
      "  summary TEXT NOT NULL CHECK (length(CAST(summary AS BLOB)) <= 4096),"
      "  status_at INTEGER NOT NULL,"
      "  settled_at INTEGER,"
      "  UNIQUE (centre_id, number));"
      "CREATE INDEX mcase_intake ON mcase (centre_id, intake_at);"

      "CREATE TABLE party ("
      "  id INTEGER PRIMARY KEY,"
      "  case_id INTEGER NOT NULL REFERENCES mcase (id),"
      "  name TEXT NOT NULL"
      "    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 256),"
      "  role TEXT NOT NULL CHECK (role IN ('applicant', 'respondent',"
      "    'third-party', 'agent')),"
      "  language TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 3),"
      "  attendance TEXT NOT NULL"
      "    CHECK (attendance IN ('in-person', 'remote')),"
      "  contact TEXT NOT NULL CHECK (length(CAST(contact AS BLOB)) <= 256));"
      "CREATE INDEX party_case ON party (case_id);"
      "CREATE INDEX party_contact ON party (contact) WHERE contact <> '';"

      "CREATE TABLE booking ("
      "  id INTEGER PRIMARY KEY,"
      "  case_id INTEGER NOT NULL REFERENCES mcase (id),"
      "  room_id INTEGER NOT NULL REFERENCES room (id),"
      "  mediator_id INTEGER NOT NULL REFERENCES mediator (id),"
      "  interpreter_id INTEGER REFERENCES interpreter (id),"
      "  start_at INTEGER NOT NULL,"
      "  end_at INTEGER NOT NULL,"
      "  block_start INTEGER NOT NULL,"
      "  block_end INTEGER NOT NULL,"
      "  mode TEXT NOT NULL CHECK (mode IN ('in-person', 'remote', 'hybrid')),"
      "  status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),"
      "  uid TEXT NOT NULL UNIQUE CHECK (length(uid) BETWEEN 1 AND 255),"
      "  sequence INTEGER NOT NULL CHECK (sequence >= 0),"
      "  created_at INTEGER NOT NULL,"
      "  updated_at INTEGER NOT NULL,"
      "  CHECK (end_at > start_at),"
      "  CHECK (end_at - start_at <= 86400),"
      "  CHECK (block_start <= start_at AND block_end >= end_at),"
      "  CHECK (block_end - block_start <= 172800));"
      /* end columns make the triggers' range scans index-only */
      "CREATE INDEX booking_room ON booking (room_id, block_start, block_end)"
      "  WHERE status = 'confirmed';"
      "CREATE INDEX booking_mediator ON booking (mediator_id, start_at, end_at)"
      "  WHERE status = 'confirmed';"
      "CREATE INDEX booking_interpreter"
      "  ON booking (interpreter_id, start_at, end_at)"
      "  WHERE status = 'confirmed';"
      "CREATE INDEX booking_case ON booking (case_id, start_at);"
      "CREATE INDEX booking_start ON booking (start_at);"

      /* The schema's own guard against double booking: whatever writes a
     * confirmed row, an overlap aborts the statement. */
      "CREATE TRIGGER booking_no_overlap_insert BEFORE INSERT ON booking"
      "  WHEN NEW.status = 'confirmed' BEGIN"
      "  SELECT RAISE (ABORT, 'booking block does not match room buffers')"
      "    WHERE NEW.block_start <> NEW.start_at - 60 *"
      "      (SELECT setup_minutes FROM room WHERE id = NEW.room_id)"
      "    OR NEW.block_end <> NEW.end_at + 60 *"
      "      (SELECT cleanup_minutes FROM room WHERE id = NEW.room_id);"
      "  SELECT RAISE (ABORT, 'booking overlap: room') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.room_id = NEW.room_id"
      "    AND b.status = 'confirmed' AND b.block_start < NEW.block_end"
      "    AND b.block_end > NEW.block_start"
      "    AND b.block_start > NEW.block_start - 172800);"
      "  SELECT RAISE (ABORT, 'booking overlap: mediator') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.mediator_id = NEW.mediator_id"
      "    AND b.status = 'confirmed' AND b.start_at < NEW.end_at"
      "    AND b.end_at > NEW.start_at"
      "    AND b.start_at > NEW.start_at - 172800);"
      "  SELECT RAISE (ABORT, 'booking overlap: interpreter') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.interpreter_id = NEW.interpreter_id"
      "    AND b.status = 'confirmed' AND b.start_at < NEW.end_at"
      "    AND b.end_at > NEW.start_at"
      "    AND b.start_at > NEW.start_at - 172800);"
      "  SELECT RAISE (ABORT, 'booking overlap: case') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.case_id = NEW.case_id"
      "    AND b.status = 'confirmed' AND b.start_at < NEW.end_at"
      "    AND b.end_at > NEW.start_at"
      "    AND b.start_at > NEW.start_at - 172800);"
      "END;"
      "CREATE TRIGGER booking_no_overlap_update BEFORE UPDATE ON booking"
      "  WHEN NEW.status = 'confirmed' BEGIN"
      "  SELECT RAISE (ABORT, 'booking block does not match room buffers')"
      "    WHERE NEW.block_start <> NEW.start_at - 60 *"
      "      (SELECT setup_minutes FROM room WHERE id = NEW.room_id)"
      "    OR NEW.block_end <> NEW.end_at + 60 *"
      "      (SELECT cleanup_minutes FROM room WHERE id = NEW.room_id);"
      "  SELECT RAISE (ABORT, 'booking overlap: room') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.room_id = NEW.room_id"
      "    AND b.status = 'confirmed' AND b.id <> OLD.id"
      "    AND b.block_start < NEW.block_end AND b.block_end > NEW.block_start"
      "    AND b.block_start > NEW.block_start - 172800);"
      "  SELECT RAISE (ABORT, 'booking overlap: mediator') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.mediator_id = NEW.mediator_id"
      "    AND b.status = 'confirmed' AND b.id <> OLD.id"
      "    AND b.start_at < NEW.end_at AND b.end_at > NEW.start_at"
      "    AND b.start_at > NEW.start_at - 172800);"
      "  SELECT RAISE (ABORT, 'booking overlap: interpreter') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.interpreter_id = NEW.interpreter_id"
      "    AND b.status = 'confirmed' AND b.id <> OLD.id"
      "    AND b.start_at < NEW.end_at AND b.end_at > NEW.start_at"
      "    AND b.start_at > NEW.start_at - 172800);"
      "  SELECT RAISE (ABORT, 'booking overlap: case') WHERE EXISTS ("
      "    SELECT 1 FROM booking b WHERE b.case_id = NEW.case_id"
      "    AND b.status = 'confirmed' AND b.id <> OLD.id"
      "    AND b.start_at < NEW.end_at AND b.end_at > NEW.start_at"
      "    AND b.start_at > NEW.start_at - 172800);"
      "END;"

      "CREATE TABLE calendar_notice ("
      "  id TEXT PRIMARY KEY NOT NULL"
      "    CHECK (length(CAST(id AS BLOB)) BETWEEN 1 AND 256),"
      "  jurisdiction TEXT NOT NULL"
      "    CHECK (length(CAST(jurisdiction AS BLOB)) BETWEEN 1 AND 256),"
      "  layer TEXT NOT NULL"
      "    CHECK (layer IN ('national', 'region', 'city', 'centre')),"
      "  year INTEGER NOT NULL CHECK (year BETWEEN 1970 AND 2200),"
      "  title TEXT NOT NULL CHECK (length(CAST(title AS BLOB)) <= 4096),"
      "  source TEXT NOT NULL CHECK (length(CAST(source AS BLOB)) <= 4096),"
      "  published TEXT NOT NULL CHECK (length(published) <= 32),"
      "  imported_at INTEGER NOT NULL);"
      "CREATE TABLE calendar_day ("
      "  id INTEGER PRIMARY KEY,"
      "  notice_id TEXT NOT NULL REFERENCES calendar_notice (id),"
      "  year INTEGER NOT NULL CHECK (year BETWEEN 1970 AND 2200),"
      "  month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),"
      "  day INTEGER NOT NULL CHECK (day BETWEEN 1 AND 31),"
      "  kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),"
      "  name TEXT NOT NULL CHECK (length(CAST(name AS BLOB)) <= 256));"
      "CREATE INDEX calendar_day_notice ON calendar_day (notice_id);"

      /* Append-only, hash-chained (see med-store-audit.c for the form). */
      "CREATE TABLE audit ("
      "  id INTEGER PRIMARY KEY,"
      "  at INTEGER NOT NULL,"
      "  actor TEXT NOT NULL,"
      "  action TEXT NOT NULL,"
      "  entity TEXT NOT NULL,"
      "  entity_id INTEGER NOT NULL,"
      "  detail TEXT NOT NULL,"
      "  prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),"
      "  hash TEXT NOT NULL CHECK (length(hash) = 64));"
      "CREATE INDEX audit_entity ON audit (entity, entity_id);"
      "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
      "  SELECT RAISE (ABORT, 'audit is append-only'); END;"
      "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
      "  SELECT RAISE (ABORT, 'audit is append-only'); END;";

/* Migration 2: invites, feeds and their delivery (med-store-outbox.c).
 * Added columns: a booking's free-text note (a text-only edit that leaves
 * SEQUENCE alone), optional e-mail addresses of mediators and interpreters
 * (parties keep theirs in contact), the centre's public base URL for join
 * links. New tables: the attendees' replies, the iMIP outbox and the
 * append-only ledger of what was handed to the MTA, and busy time imported
 * from external calendars. join_secret keys the HMAC of the parties' join
 * tokens; it never leaves the store. */
static const char migration_2[]
    = "ALTER TABLE booking ADD COLUMN note TEXT NOT NULL DEFAULT ''"
      "  CHECK (length(CAST(note AS BLOB)) <= 4096);"
      "ALTER TABLE mediator ADD COLUMN email TEXT NOT NULL DEFAULT ''"
      "  CHECK (length(CAST(email AS BLOB)) <= 256);"
      "ALTER TABLE interpreter ADD COLUMN email TEXT NOT NULL DEFAULT ''"
      "  CHECK (length(CAST(email AS BLOB)) <= 256);"
      "ALTER TABLE centre ADD COLUMN public_url TEXT NOT NULL"
      "  DEFAULT 'https://medsched.invalid'"
      "  CHECK (length(CAST(public_url AS BLOB)) BETWEEN 8 AND 256);"
      "INSERT INTO medsched_meta (key, value)"
      "  VALUES ('join_secret', lower(hex(randomblob(32))));"

      "CREATE TABLE attendee_status ("
      "  booking_uid TEXT NOT NULL REFERENCES booking (uid),"
      "  email TEXT NOT NULL CHECK (length(CAST(email AS BLOB)) <= 256),"
      "  partstat TEXT NOT NULL CHECK (partstat IN ('NEEDS-ACTION',"
      "    'ACCEPTED', 'DECLINED', 'TENTATIVE', 'DELEGATED')),"
      "  sequence INTEGER NOT NULL CHECK (sequence >= 0),"
      "  dtstamp INTEGER NOT NULL,"
      "  updated_at INTEGER NOT NULL,"
      "  PRIMARY KEY (booking_uid, email));"

      "CREATE TABLE outbox ("
      "  id INTEGER PRIMARY KEY,"
      "  booking_id INTEGER NOT NULL REFERENCES booking (id),"
      "  recipient_name TEXT NOT NULL"
      "    CHECK (length(CAST(recipient_name AS BLOB)) <= 256),"
      "  recipient_addr TEXT NOT NULL"
      "    CHECK (length(CAST(recipient_addr AS BLOB)) BETWEEN 3 AND 256),"
      "  method TEXT NOT NULL CHECK (method IN ('REQUEST', 'CANCEL')),"
      "  sequence INTEGER NOT NULL CHECK (sequence >= 0),"
      "  subject TEXT NOT NULL CHECK (length(CAST(subject AS BLOB)) <= 1024),"
      "  message TEXT NOT NULL"
      "    CHECK (length(CAST(message AS BLOB)) BETWEEN 1 AND 8388608),"
      "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending',"
      "    'sent', 'failed', 'superseded')),"
      "  created_at INTEGER NOT NULL,"
      "  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
      "  next_attempt_at INTEGER NOT NULL,"
      "  sent_at INTEGER,"
      "  last_error TEXT NOT NULL DEFAULT ''"
      "    CHECK (length(CAST(last_error AS BLOB)) <= 1024));"
      "CREATE INDEX outbox_due ON outbox (next_attempt_at)"
      "  WHERE state = 'pending';"
      "CREATE INDEX outbox_booking ON outbox (booking_id, recipient_addr);"

      "CREATE TABLE outbox_ledger ("
      "  id INTEGER PRIMARY KEY,"
      "  outbox_id INTEGER NOT NULL REFERENCES outbox (id),"
      "  recipient_addr TEXT NOT NULL,"
      "  method TEXT NOT NULL CHECK (method IN ('REQUEST', 'CANCEL')),"
      "  sequence INTEGER NOT NULL,"
      "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
      "  sent_at INTEGER NOT NULL);"
      "CREATE TRIGGER outbox_ledger_no_update BEFORE UPDATE ON outbox_ledger"
      "  BEGIN SELECT RAISE (ABORT, 'the ledger is append-only'); END;"
      "CREATE TRIGGER outbox_ledger_no_delete BEFORE DELETE ON outbox_ledger"
      "  BEGIN SELECT RAISE (ABORT, 'the ledger is append-only'); END;"

      "CREATE TABLE external_busy ("
      "  id INTEGER PRIMARY KEY,"
      "  mediator_id INTEGER REFERENCES mediator (id),"
      "  interpreter_id INTEGER REFERENCES interpreter (id),"
      "  source TEXT NOT NULL"
      "    CHECK (length(CAST(source AS BLOB)) BETWEEN 1 AND 256),"
      "  start_at INTEGER NOT NULL,"
      "  end_at INTEGER NOT NULL,"
      "  CHECK ((mediator_id IS NULL) <> (interpreter_id IS NULL)),"
      "  CHECK (end_at > start_at));"
      "CREATE INDEX external_busy_mediator"
      "  ON external_busy (mediator_id, source, start_at);"
      "CREATE INDEX external_busy_interpreter"
      "  ON external_busy (interpreter_id, source, start_at);"
      "CREATE INDEX external_busy_start ON external_busy (start_at);";

/* Migration 3: users, API tokens, web sessions and capability links; the
 * SQL lives beside its code in med-store-auth.c. */
extern const char store_migration_auth[];
/* Migration 4: recordings, consent, interruption log, retention
 * (med-store-media.c). */
extern const char store_migration_media[];
/* Migration 5: the SMS channel of the outbox, links issued again, the
 * centre's telephone (med-store-outbox.c). */
extern const char store_migration_sms[];
/* Migration 6: parties removed from a case are kept, marked removed
 * (med-store-party.c). */
extern const char store_migration_party[];
/* Migration 7: a province in one database: users belong to a centre
 * (med-store-auth.c). */
extern const char store_migration_province[];
/* Migration 8: the language of a feed link's texts (med-store-auth.c). */
extern const char store_migration_feed_language[];

/* Numbered, append-only: migrations[i] takes user_version i to i + 1. */
static const char *const migrations[] = {
  migration_1,
  migration_2,
  store_migration_auth,
  store_migration_media,
  store_migration_sms,
  store_migration_party,
  store_migration_province,
  store_migration_feed_language,
};

gint
med_store_schema_version (void)
{
  return G_N_ELEMENTS (migrations);
}


/* ---- the driver -------------------------------------------------------- */

typedef struct
{
  StoreStmt base;
  sqlite3_stmt *st;
} LiteStmt;

#define LITE(stmt) (((LiteStmt *) (stmt))->st)

static StoreErrKind
classify (int rc)
{
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return STORE_ERR_BUSY;
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return STORE_ERR_UNIQUE;
      if (rc == SQLITE_CONSTRAINT_TRIGGER)
        return STORE_ERR_REFUSED;
      return STORE_ERR_CONSTRAINT;
    case SQLITE_NOTADB:
      return STORE_ERR_NOTADB;
    case SQLITE_CANTOPEN:
      return STORE_ERR_CANTOPEN;
    case SQLITE_CORRUPT:
      return STORE_ERR_CORRUPT;
    default:
      return STORE_ERR_OTHER;
  }
}

/* Records the connection's last error (rc when it has none). */
void
store_sqlite_record_error (MedStore *store, int rc)
{
  sqlite3 *db = DB (store);

  if (db != NULL && sqlite3_extended_errcode (db) != SQLITE_OK)
    rc = sqlite3_extended_errcode (db);
  store_set_driver_error (store, classify (rc),
      db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
}

static StoreStmt *
lite_prepare (MedStore *store, const char *sql)
{
  sqlite3_stmt *st = NULL;
  LiteStmt *ls;
  int rc;

  rc = sqlite3_prepare_v3 (DB (store), sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
      NULL);
  if (rc != SQLITE_OK) {
    store_sqlite_record_error (store, rc);
    sqlite3_finalize (st);
    return NULL;
  }
  ls = g_new0 (LiteStmt, 1);
  ls->base.store = store;
  ls->base.sql = sql;
  ls->st = st;
  return &ls->base;
}

static void
lite_finalize (StoreStmt *stmt)
{
  sqlite3_finalize (LITE (stmt));
  g_free (stmt);
}

static void
lite_reset (StoreStmt *stmt)
{
  sqlite3_reset (LITE (stmt));
  sqlite3_clear_bindings (LITE (stmt));
}

static void
lite_bind_int64 (StoreStmt *stmt, int i, gint64 v)
{
  sqlite3_bind_int64 (LITE (stmt), i, v);
}

static void
lite_bind_text (StoreStmt *stmt, int i, const char *s)
{
  sqlite3_bind_text (LITE (stmt), i, s, -1, SQLITE_TRANSIENT);
}

static void
lite_bind_null (StoreStmt *stmt, int i)
{
  sqlite3_bind_null (LITE (stmt), i);
}

static int
lite_param_count (StoreStmt *stmt)
{
  return sqlite3_bind_parameter_count (LITE (stmt));
}

static int
lite_step (StoreStmt *stmt)
{
  int rc = sqlite3_step (LITE (stmt));

  if (rc == SQLITE_ROW)
    return STORE_ROW;
  if (rc == SQLITE_DONE)
    return STORE_DONE;
  store_sqlite_record_error (stmt->store, rc);
  return STORE_ERROR;
}

static int
lite_column_count (StoreStmt *stmt)
{
  return sqlite3_column_count (LITE (stmt));
}

static StoreColType
lite_column_type (StoreStmt *stmt, int col)
{
  switch (sqlite3_column_type (LITE (stmt), col)) {
    case SQLITE_NULL:
      return STORE_COL_NULL;
    case SQLITE_INTEGER:
      return STORE_COL_INT;
    default:
      return STORE_COL_TEXT;
  }
}

static gint64
lite_column_int64 (StoreStmt *stmt, int col)
{
  return sqlite3_column_int64 (LITE (stmt), col);
}

static const char *
lite_column_str (StoreStmt *stmt, int col)
{
  return (const char *) sqlite3_column_text (LITE (stmt), col);
}

static const char *
lite_column_name (StoreStmt *stmt, int col)
{
  return sqlite3_column_name (LITE (stmt), col);
}

static gint64
lite_changes (MedStore *store)
{
  return sqlite3_changes (DB (store));
}

static gboolean
lite_in_txn (MedStore *store)
{
  return !sqlite3_get_autocommit (DB (store));
}

static gboolean
lite_exec (MedStore *store, const char *sql)
{
  int rc = sqlite3_exec (DB (store), sql, NULL, NULL, NULL);

  if (rc == SQLITE_OK)
    return TRUE;
  store_sqlite_record_error (store, rc);
  return FALSE;
}

/* BEGIN IMMEDIATE takes the write lock at once: the re-checks of a
 * booking and its insert see the same database. */
static gboolean
lite_begin (MedStore *store, gboolean shared)
{
  return lite_exec (store, "BEGIN IMMEDIATE");
}

static gboolean
lite_commit (MedStore *store)
{
  return lite_exec (store, "COMMIT");
}

static void
lite_rollback (MedStore *store)
{
  lite_exec (store, "ROLLBACK");
}

static gint64
lite_data_version (MedStore *store)
{
  /* asked before every cached read: prepared once, not parsed each time */
  g_autoptr (StoreStmt) st = store_stmt (store, "PRAGMA data_version", NULL);
  gint64 v = -1;

  if (st != NULL && store_step (st) == STORE_ROW)
    v = store_column_int64 (st, 0);
  /* data_version only moves for other connections' commits: add ours. */
  return v + sqlite3_total_changes64 (DB (store)) * 1000003;
}

static gint64
lite_local_writes (MedStore *store)
{
  return sqlite3_total_changes64 (DB (store));
}

static int
lite_notify_fd (MedStore *store)
{
  return -1;
}

static gboolean
lite_check (MedStore *store, GError **error)
{
  {
    g_autoptr (StoreStmt) st
        = store_stmt (store, "PRAGMA integrity_check", error);
    int rc;

    if (st == NULL)
      return FALSE;
    rc = store_step (st);
    if (rc != STORE_ROW) {
      store_set_error (store, "checking integrity", error);
      return FALSE;
    }
    if (g_strcmp0 (store_column_str (st, 0), "ok") != 0) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "integrity check of %s failed: %s", store->path,
          store_column_str (st, 0));
      return FALSE;
    }
  }
  {
    g_autoptr (StoreStmt) st
        = store_stmt (store, "PRAGMA foreign_key_check", error);
    int rc;

    if (st == NULL)
      return FALSE;
    rc = store_step (st);
    if (rc == STORE_ROW) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "foreign key check of %s failed in table %s (row %" G_GINT64_FORMAT
          ")",
          store->path, store_column_str (st, 0),
          (gint64) store_column_int64 (st, 1));
      return FALSE;
    }
    if (rc != STORE_DONE) {
      store_set_error (store, "checking foreign keys", error);
      return FALSE;
    }
  }
  return TRUE;
}

static void
lite_close (MedStore *store)
{
  sqlite3_close_v2 (DB (store));
  store->conn = NULL;
}

const StoreDriver store_sqlite_driver = {
  .name = "sqlite",
  .prepare = lite_prepare,
  .finalize = lite_finalize,
  .reset = lite_reset,
  .bind_int64 = lite_bind_int64,
  .bind_text = lite_bind_text,
  .bind_null = lite_bind_null,
  .param_count = lite_param_count,
  .step = lite_step,
  .column_count = lite_column_count,
  .column_type = lite_column_type,
  .column_int64 = lite_column_int64,
  .column_str = lite_column_str,
  .column_name = lite_column_name,
  .changes = lite_changes,
  .in_txn = lite_in_txn,
  .exec = lite_exec,
  .begin = lite_begin,
  .commit = lite_commit,
  .rollback = lite_rollback,
  .data_version = lite_data_version,
  .local_writes = lite_local_writes,
  .notify_fd = lite_notify_fd,
  .check = lite_check,
  .close = lite_close,
};

struct sqlite3 *
store_sqlite_handle (MedStore *store)
{
  return store->drv == &store_sqlite_driver ? DB (store) : NULL;
}

/* ---- opening ----------------------------------------------------------- */

/* Runs a parameterless statement to completion (a pragma). */
static gboolean
exec_lite (MedStore *store, const char *sql, const char *what, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);

  return st != NULL && store_step_done (store, st, what, error);
}

/* Tells an empty file, our store, a foreign database and a newer
 * medsched's store apart, before anything is written to the file. */
static gboolean
check_identity (MedStore *store, gint64 *version, GError **error)
{
  gint64 app_id = 0, n_objects = 0, has_meta = 0;
  g_autofree char *app = NULL;

  /* The first statement reads the file header: SQLITE_NOTADB here. */
  if (!store_query_int (store, "PRAGMA user_version", version, error)
      || !store_query_int (store, "PRAGMA application_id", &app_id, error)
      || !store_query_int (store, "SELECT count(*) FROM sqlite_master",
          &n_objects, error)
      || !store_query_int (store,
          "SELECT count(*) FROM sqlite_master WHERE "
          "type = 'table' AND name = 'medsched_meta'",
          &has_meta, error))
    return FALSE;

  if (*version == 0 && n_objects == 0 && app_id == 0)
    return TRUE; /* a new, empty database */

  if (app_id != 0 && app_id != MED_STORE_APPLICATION_ID) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN,
        "%s is a SQLite database of another application (application_id "
        "%" G_GINT64_FORMAT "), not a medsched store; it was left unchanged",
        store->path, app_id);
    return FALSE;
  }
  if (has_meta) {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT value FROM medsched_meta WHERE key = 'app'", error);

    if (st == NULL)
      return FALSE;
    if (store_step (st) == STORE_ROW)
      app = store_column_text (st, 0);
  }
  if (g_strcmp0 (app, "medsched") != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN,
        "%s is a SQLite database but not a medsched store (it has tables "
        "but no medsched marker); it was left unchanged",
        store->path);
    return FALSE;
  }
  return store_check_not_newer (*version, med_store_schema_version (), error);
}

static gboolean
apply_pragmas (MedStore *store, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  st = store_stmt (store, "PRAGMA journal_mode = WAL", error);
  if (st == NULL)
    return FALSE;
  rc = store_step (st);
  if (rc != STORE_ROW) {
    store_set_error (store, "switching to WAL", error);
    return FALSE;
  }
  /* Reads through mmap and a larger page cache: a cold CLI start reads a
   * year of bookings without a pread per page. */
  return exec_lite (store, "PRAGMA synchronous = FULL", "setting sync", error)
      && exec_lite (store, "PRAGMA foreign_keys = ON", "enabling foreign keys",
          error)
      && exec_lite (store, "PRAGMA mmap_size = 268435456",
          "mapping the database", error)
      && exec_lite (store, "PRAGMA cache_size = -16384",
          "sizing the page cache", error);
}

/* Each migration runs in its own BEGIN IMMEDIATE transaction together with
 * its user_version; a second process migrating the same file at the same
 * time waits, then sees the new version and skips it. */
static gboolean
migrate (MedStore *store, gint64 version, GError **error)
{
  for (gint v = version; v < med_store_schema_version (); v++) {
    g_autofree char *set_version = NULL;
    char *errmsg = NULL;
    gint64 current = 0;
    StoreTxn txn;
    int rc;

    if (!store_txn_begin (store, &txn, error))
      return FALSE;
    if (!store_query_int (store, "PRAGMA user_version", &current, error)) {
      store_txn_end (&txn);
      return FALSE;
    }
    if (current > v) {
      store_txn_end (&txn);
      continue;
    }
    /* The version is our own integer constant, not outside input. */
    set_version = g_strdup_printf ("PRAGMA user_version = %d", v + 1);
    rc = sqlite3_exec (DB (store), migrations[v], NULL, NULL, &errmsg);
    if (rc == SQLITE_OK)
      rc = sqlite3_exec (DB (store), set_version, NULL, NULL, &errmsg);
    if (rc != SQLITE_OK) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FAILED,
          "migrating the store to schema version %d: %s", v + 1,
          errmsg ? errmsg : sqlite3_errstr (rc));
      sqlite3_free (errmsg);
      store_txn_end (&txn);
      return FALSE;
    }
    if (!store_txn_commit (&txn, error)) {
      store_txn_end (&txn);
      return FALSE;
    }
    g_debug ("store %s migrated to schema version %d", store->path, v + 1);
  }
  return TRUE;
}

MedStore *
store_sqlite_open (const char *path, gboolean create, GError **error)
{
  g_autoptr (MedStore) store = NULL;
  sqlite3 *db = NULL;
  gint64 version = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  store = store_new (&store_sqlite_driver, path);
  if (!create && !g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_OPEN, "no store at %s",
        path);
    return NULL;
  }
  rc = sqlite3_open_v2 (path, &db,
      SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
          | SQLITE_OPEN_NOMUTEX,
      NULL);
  store->conn = db;
  if (rc != SQLITE_OK) {
    store_sqlite_record_error (store, rc);
    store_set_error (store, "opening the store", error);
    return NULL;
  }
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);

  if (!check_identity (store, &version, error))
    return NULL;
  if (!create && version < med_store_schema_version ()) {
    g_set_error (error, MED_STORE_ERROR,
        version == 0 ? MED_STORE_ERROR_FOREIGN : MED_STORE_ERROR_FAILED,
        version == 0
            ? "%s is not a medsched store"
            : "%s has an older schema; open it for writing to migrate it",
        path);
    return NULL;
  }
  if (!apply_pragmas (store, error))
    return NULL;
  if (create && !migrate (store, version, error))
    return NULL;
  return g_steal_pointer (&store);
}
