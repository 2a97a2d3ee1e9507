/* med-store.c — the SQLite store of medsched: opening a file and telling
 * ours from a foreign or newer one, the numbered schema migrations, the
 * prepared-statement cache, transactions, the one place where SQLite
 * result codes become MED_STORE_ERROR_*, and the plain entities (centre,
 * rooms, mediators and their leave, interpreters, cases with parties,
 * holiday notices, import documents, the same-day report, the check).
 *
 * Bookings live in med-store-booking.c, the audit chain in
 * med-store-audit.c. Values never enter SQL text: every statement is
 * prepared once with parameters and cached per MedStore. A MedStore is
 * used by one thread at a time; threads open their own. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <string.h>

/* PRAGMA application_id of a medsched store: "MEDS". */
#define MED_STORE_APPLICATION_ID 0x4D454453

#define BUSY_TIMEOUT_MS 5000

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

/* Numbered, append-only: migrations[i] takes user_version i to i + 1. */
static const char *const migrations[] = {
  migration_1,
  migration_2,
  store_migration_auth,
  store_migration_media,
  store_migration_sms,
  store_migration_party,
};

gint
med_store_schema_version (void)
{
  return G_N_ELEMENTS (migrations);
}

/* MED_STORE_ERROR is an extended error domain (GLib 2.68): a CONFLICT may
 * carry what clashed (med_store_error_get_conflict), copied and freed with
 * the GError. Registered once with g_once rather than
 * G_DEFINE_EXTENDED_ERROR, whose first call is not thread-safe. */
typedef struct
{
  MedStoreConflict *conflict; /* NULL unless set by store_set_conflict */
} StoreErrorPrivate;

/* Where GLib keeps an extended error's private data: just before the
 * GError, aligned as gerror.c aligns it (and G_DEFINE_EXTENDED_ERROR). */
static StoreErrorPrivate *
error_private (const GError *error)
{
  const gsize sa = 2 * sizeof (gsize);
  const gsize as = (sizeof (StoreErrorPrivate) + (sa - 1)) & -sa;

  return (StoreErrorPrivate *) (((guint8 *) error) - as);
}

static MedStoreConflict *
conflict_copy (const MedStoreConflict *c)
{
  MedStoreConflict *out = g_memdup2 (c, sizeof *c);

  out->name = g_strdup (c->name);
  return out;
}

static void
conflict_free (MedStoreConflict *c)
{
  if (c == NULL)
    return;
  g_free (c->name);
  g_free (c);
}

static void
error_private_init (GError *error)
{
  error_private (error)->conflict = NULL;
}

static void
error_private_copy (const GError *src, GError *dest)
{
  const MedStoreConflict *c = error_private (src)->conflict;

  error_private (dest)->conflict = c != NULL ? conflict_copy (c) : NULL;
}

static void
error_private_clear (GError *error)
{
  g_clear_pointer (&error_private (error)->conflict, conflict_free);
}

GQuark
med_store_error_quark (void)
{
  static gsize quark = 0;

  if (g_once_init_enter (&quark)) {
    GQuark q = g_error_domain_register_static ("med-store-error-quark",
        sizeof (StoreErrorPrivate), error_private_init, error_private_copy,
        error_private_clear);

    g_once_init_leave (&quark, q);
  }
  return (GQuark) quark;
}

const MedStoreConflict *
med_store_error_get_conflict (const GError *error)
{
  if (!g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT))
    return NULL;
  return error_private (error)->conflict;
}

void
store_set_conflict (GError **error, const MedStoreConflict *c,
    const char *format, ...)
{
  va_list ap;
  GError *e;

  if (error == NULL)
    return;
  va_start (ap, format);
  e = g_error_new_valist (MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT, format,
      ap);
  va_end (ap);
  error_private (e)->conflict = conflict_copy (c);
  g_propagate_error (error, e);
}

static const char *const conflict_kinds[MED_CONFLICT_N] = {
  "room",
  "mediator",
  "interpreter",
  "case",
  "party",
  "leave",
  "daily-cap",
};

const char *
med_conflict_kind_to_string (MedConflictKind k)
{
  return (guint) k < MED_CONFLICT_N ? conflict_kinds[k] : "unknown";
}

/* ---- statements, errors, transactions ---------------------------------- */

void
store_stmt_release (StoreStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

StoreStmt *
store_stmt (MedStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->stmts, sql);
  int rc;

  if (stmt != NULL) {
    sqlite3_reset (stmt);
    return stmt;
  }
  rc = sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
      NULL);
  if (rc != SQLITE_OK) {
    store_set_error (store, rc, "preparing a statement", error);
    sqlite3_finalize (stmt);
    return NULL;
  }
  g_hash_table_insert (store->stmts, (gpointer) sql, stmt);
  return stmt;
}

static MedStoreError
map_sqlite_code (int rc)
{
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return MED_STORE_ERROR_BUSY;
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
          || rc == SQLITE_CONSTRAINT_TRIGGER)
        return MED_STORE_ERROR_CONFLICT;
      return MED_STORE_ERROR_INVALID;
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
      return MED_STORE_ERROR_OPEN;
    case SQLITE_CORRUPT:
      return MED_STORE_ERROR_CORRUPT;
    default:
      return MED_STORE_ERROR_FAILED;
  }
}

void
store_set_error (MedStore *store, int rc, const char *what, GError **error)
{
  MedStoreError code = map_sqlite_code (rc);
  const char *msg
      = store->db ? sqlite3_errmsg (store->db) : sqlite3_errstr (rc);

  switch (code) {
    case MED_STORE_ERROR_BUSY:
      g_set_error (error, MED_STORE_ERROR, code,
          "%s: the store is busy (another program is writing to it): %s", what,
          msg);
      break;
    case MED_STORE_ERROR_OPEN:
      if ((rc & 0xff) == SQLITE_NOTADB)
        g_set_error (error, MED_STORE_ERROR, code,
            "%s: %s is not a SQLite database, so not a medsched store (%s)",
            what, store->path, msg);
      else
        g_set_error (error, MED_STORE_ERROR, code, "%s: cannot open %s (%s)",
            what, store->path, msg);
      break;
    case MED_STORE_ERROR_CORRUPT:
      g_set_error (error, MED_STORE_ERROR, code,
          "%s: the store %s is damaged: %s", what, store->path, msg);
      break;
    default:
      g_set_error (error, MED_STORE_ERROR, code, "%s: %s", what, msg);
      break;
  }
}

gboolean
store_step_done (MedStore *store, StoreStmt *stmt, const char *what,
    GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;
  store_set_error (store, rc, what, error);
  return FALSE;
}

/* Runs a parameterless statement to completion (BEGIN, COMMIT, …). */
static gboolean
exec_cached (MedStore *store, const char *sql, const char *what, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);

  return st != NULL && store_step_done (store, st, what, error);
}

gboolean
store_propagate_invalid (GError **error, GError *from)
{
  g_set_error_literal (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      from ? from->message : "invalid value");
  g_clear_error (&from);
  return FALSE;
}

MedTime
store_now (MedStore *store)
{
  if (store->fixed_now != 0)
    return store->fixed_now;
  return g_get_real_time () / G_USEC_PER_SEC;
}

MedTime
med_store_now (MedStore *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store_now (store);
}

void
med_store_set_now (MedStore *store, MedTime now)
{
  g_return_if_fail (store != NULL);
  store->fixed_now = now;
}

gboolean
store_txn_begin (MedStore *store, StoreTxn *txn, GError **error)
{
  txn->store = store;
  /* Inside med_store_begin or another store call's transaction. */
  txn->savepoint = !sqlite3_get_autocommit (store->db);
  txn->open = exec_cached (store,
      txn->savepoint ? "SAVEPOINT med_op" : "BEGIN IMMEDIATE",
      "starting a transaction", error);
  return txn->open;
}

gboolean
store_txn_commit (StoreTxn *txn, GError **error)
{
  if (!exec_cached (txn->store, txn->savepoint ? "RELEASE med_op" : "COMMIT",
          "committing", error))
    return FALSE;
  txn->open = FALSE;
  return TRUE;
}

void
store_txn_end (StoreTxn *txn)
{
  MedStore *store = txn->store;

  if (!txn->open)
    return;
  txn->open = FALSE;
  if (sqlite3_get_autocommit (store->db))
    return; /* SQLite already rolled the whole transaction back */
  if (txn->savepoint) {
    exec_cached (store, "ROLLBACK TO med_op", "rolling back", NULL);
    exec_cached (store, "RELEASE med_op", "rolling back", NULL);
  } else {
    exec_cached (store, "ROLLBACK", "rolling back", NULL);
  }
}

gboolean
store_check_text (const char *s, gsize max_bytes, gboolean multiline,
    gboolean allow_empty, const char *field, GError **error)
{
  GError *local = NULL;

  if (med_validate_text (s, max_bytes, multiline, allow_empty, field, &local))
    return TRUE;
  return store_propagate_invalid (error, local);
}

gboolean
store_check_actor (const char *actor, GError **error)
{
  return store_check_text (actor, MED_MAX_NAME_BYTES, FALSE, FALSE, "actor",
      error);
}

char *
store_column_text (sqlite3_stmt *stmt, int col)
{
  const unsigned char *s = sqlite3_column_text (stmt, col);

  return g_strdup (s ? (const char *) s : "");
}

gboolean
store_corrupt_enum (GError **error, GError *from)
{
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
      "the store holds an unknown value: %s", from->message);
  g_clear_error (&from);
  return FALSE;
}

/* ---- opening ----------------------------------------------------------- */

void
med_store_close (MedStore *store)
{
  GHashTableIter it;
  gpointer stmt;

  if (store == NULL)
    return;
  g_hash_table_iter_init (&it, store->stmts);
  while (g_hash_table_iter_next (&it, NULL, &stmt))
    sqlite3_finalize (stmt);
  g_hash_table_destroy (store->stmts);
  /* Closing rolls back anything still open (a forgotten med_store_begin). */
  sqlite3_close_v2 (store->db);
  g_free (store->path);
  g_free (store);
}

static gboolean
query_int (MedStore *store, const char *sql, gint64 *out, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  int rc;

  if (st == NULL)
    return FALSE;
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64 (st, 0);
    return TRUE;
  }
  if (rc == SQLITE_DONE) {
    *out = 0;
    return TRUE;
  }
  store_set_error (store, rc, "reading the store header", error);
  return FALSE;
}

/* Tells an empty file, our store, a foreign database and a newer
 * medsched's store apart, before anything is written to the file. */
static gboolean
check_identity (MedStore *store, gint64 *version, GError **error)
{
  gint64 app_id = 0, n_objects = 0, has_meta = 0;
  g_autofree char *app = NULL;

  /* The first statement reads the file header: SQLITE_NOTADB here. */
  if (!query_int (store, "PRAGMA user_version", version, error)
      || !query_int (store, "PRAGMA application_id", &app_id, error)
      || !query_int (store, "SELECT count(*) FROM sqlite_master", &n_objects,
          error)
      || !query_int (store,
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
    if (sqlite3_step (st) == SQLITE_ROW)
      app = store_column_text (st, 0);
  }
  if (g_strcmp0 (app, "medsched") != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN,
        "%s is a SQLite database but not a medsched store (it has tables "
        "but no medsched marker); it was left unchanged",
        store->path);
    return FALSE;
  }
  if (*version > med_store_schema_version ()) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_TOO_NEW,
        "database schema version %" G_GINT64_FORMAT " is newer than this "
        "medsched (knows %d); upgrade medsched",
        *version, med_store_schema_version ());
    return FALSE;
  }
  return TRUE;
}

static gboolean
apply_pragmas (MedStore *store, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  st = store_stmt (store, "PRAGMA journal_mode = WAL", error);
  if (st == NULL)
    return FALSE;
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW) {
    store_set_error (store, rc, "switching to WAL", error);
    return FALSE;
  }
  /* Reads through mmap and a larger page cache: a cold CLI start reads a
   * year of bookings without a pread per page. */
  return exec_cached (store, "PRAGMA synchronous = FULL", "setting sync", error)
      && exec_cached (store, "PRAGMA foreign_keys = ON",
          "enabling foreign keys", error)
      && exec_cached (store, "PRAGMA mmap_size = 268435456",
          "mapping the database", error)
      && exec_cached (store, "PRAGMA cache_size = -16384",
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
    if (!query_int (store, "PRAGMA user_version", &current, error)) {
      store_txn_end (&txn);
      return FALSE;
    }
    if (current > v) {
      store_txn_end (&txn);
      continue;
    }
    /* The version is our own integer constant, not outside input. */
    set_version = g_strdup_printf ("PRAGMA user_version = %d", v + 1);
    rc = sqlite3_exec (store->db, migrations[v], NULL, NULL, &errmsg);
    if (rc == SQLITE_OK)
      rc = sqlite3_exec (store->db, set_version, NULL, NULL, &errmsg);
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

static MedStore *
open_store (const char *path, gboolean create, GError **error)
{
  g_autoptr (MedStore) store = NULL;
  gint64 version = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  store = g_new0 (MedStore, 1);
  store->path = g_strdup (path);
  store->stmts = g_hash_table_new (g_str_hash, g_str_equal);

  if (!create && !g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_OPEN, "no store at %s",
        path);
    return NULL;
  }
  rc = sqlite3_open_v2 (path, &store->db,
      SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
          | SQLITE_OPEN_NOMUTEX,
      NULL);
  if (rc != SQLITE_OK) {
    store_set_error (store, rc, "opening the store", error);
    return NULL;
  }
  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, BUSY_TIMEOUT_MS);

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

MedStore *
med_store_open (const char *path, GError **error)
{
  return open_store (path, TRUE, error);
}

MedStore *
med_store_open_existing (const char *path, GError **error)
{
  return open_store (path, FALSE, error);
}

/* ---- explicit transactions --------------------------------------------- */

gboolean
med_store_begin (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (!store->in_txn, FALSE);

  if (!exec_cached (store, "BEGIN IMMEDIATE", "starting a transaction", error))
    return FALSE;
  store->in_txn = TRUE;
  return TRUE;
}

gboolean
med_store_commit (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (store->in_txn, FALSE);

  if (exec_cached (store, "COMMIT", "committing", error)) {
    store->in_txn = FALSE;
    return TRUE;
  }
  /* A failed commit writes nothing and closes the transaction. */
  med_store_rollback (store);
  return FALSE;
}

void
med_store_rollback (MedStore *store)
{
  g_return_if_fail (store != NULL);

  if (!store->in_txn)
    return;
  store->in_txn = FALSE;
  if (!sqlite3_get_autocommit (store->db))
    exec_cached (store, "ROLLBACK", "rolling back", NULL);
}

/* ---- centre ------------------------------------------------------------ */

static const char *const weekday_names[] = { "Monday", "Tuesday", "Wednesday",
  "Thursday", "Friday", "Saturday", "Sunday" };

static gboolean
check_zone (const char *zone, GError **error)
{
  GError *local = NULL;
  gint y, m, d;

  if (med_workcal_local_date (zone, 0, &y, &m, &d, &local))
    return TRUE;
  return store_propagate_invalid (error, local);
}

/* Validates a centre and renders its opening hours as text. */
static gboolean
check_centre (const MedCentre *c, char *hours[7], GError **error)
{
  if (!store_check_text (c->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "centre name", error)
      || !check_zone (c->zone, error)
      || !store_check_text (c->layers, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "centre layers", error)
      || !store_check_text (c->address, MED_MAX_TEXT_BYTES, FALSE, TRUE,
          "centre address", error)
      || !store_check_text (c->mailbox, MED_MAX_NAME_BYTES, FALSE, TRUE,
          "centre mailbox", error))
    return FALSE;
  if (c->min_notice_minutes < 0 || c->min_notice_minutes > 525600
      || c->slot_minutes < 1 || c->slot_minutes > 1440
      || c->default_duration_minutes < 1
      || c->default_duration_minutes > 1440) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "centre minimum notice, slot or default duration out of range");
    return FALSE;
  }
  for (int d = 0; d < 7; d++) {
    MedDayHours back;

    hours[d] = med_day_hours_to_string (&c->hours[d]);
    if (!med_day_hours_parse (hours[d], &back, NULL)
        || memcmp (&back, &c->hours[d], sizeof back) != 0) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "invalid opening hours on %s", weekday_names[d]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Binds the centre's columns to ?1 … ?16 in table order. */
static void
bind_centre (sqlite3_stmt *st, const MedCentre *c, char *hours[7])
{
  sqlite3_bind_text (st, 1, c->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, c->zone, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, c->layers, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, c->address ? c->address : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, c->mailbox ? c->mailbox : "", -1, SQLITE_STATIC);
  for (int d = 0; d < 7; d++)
    sqlite3_bind_text (st, 6 + d, hours[d], -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 13, c->min_notice_minutes);
  sqlite3_bind_int (st, 14, c->slot_minutes);
  sqlite3_bind_int (st, 15, c->default_duration_minutes);
  sqlite3_bind_int (st, 16, c->allow_fallback ? 1 : 0);
}

gint64
med_store_add_centre (MedStore *store, const MedCentre *c, const char *actor,
    GError **error)
{
  char *hours[7] = { NULL };
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id = 0;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && c != NULL, 0);

  if (!store_check_actor (actor, error) || !check_centre (c, hours, error)
      || !store_txn_begin (store, &txn, error))
    goto out;
  st = store_stmt (store,
      "INSERT INTO centre (name, zone, layers, address, "
      "mailbox, hours_mon, hours_tue, hours_wed, hours_thu, hours_fri, "
      "hours_sat, hours_sun, min_notice_minutes, slot_minutes, "
      "default_duration_minutes, allow_fallback) VALUES (?1, ?2, ?3, ?4, ?5, "
      "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
      error);
  if (st == NULL)
    goto out;
  bind_centre (st, c, hours);
  if (!store_step_done (store, st, "adding centre", error))
    goto out;
  id = sqlite3_last_insert_rowid (store->db);
  detail = g_string_new ("{");
  store_detail_str (detail, "zone", c->zone);
  store_detail_str (detail, "layers", c->layers);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "centre.add", "centre", id, detail_s,
          error)
      || !store_txn_commit (&txn, error))
    id = 0;

out:
  store_txn_end (&txn);
  for (int d = 0; d < 7; d++)
    g_free (hours[d]);
  return id;
}

gboolean
med_store_update_centre (MedStore *store, const MedCentre *c, const char *actor,
    GError **error)
{
  char *hours[7] = { NULL };
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && c != NULL, FALSE);

  if (!store_check_actor (actor, error) || !check_centre (c, hours, error)
      || !store_txn_begin (store, &txn, error))
    goto out;
  st = store_stmt (store,
      "UPDATE centre SET name = ?1, zone = ?2, "
      "layers = ?3, address = ?4, mailbox = ?5, hours_mon = ?6, "
      "hours_tue = ?7, hours_wed = ?8, hours_thu = ?9, hours_fri = ?10, "
      "hours_sat = ?11, hours_sun = ?12, min_notice_minutes = ?13, "
      "slot_minutes = ?14, default_duration_minutes = ?15, "
      "allow_fallback = ?16 WHERE id = ?17",
      error);
  if (st == NULL)
    goto out;
  bind_centre (st, c, hours);
  sqlite3_bind_int64 (st, 17, c->id);
  if (!store_step_done (store, st, "updating centre", error))
    goto out;
  if (sqlite3_changes (store->db) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no centre %" G_GINT64_FORMAT, c->id);
    goto out;
  }
  detail = g_string_new ("{");
  store_detail_str (detail, "zone", c->zone);
  store_detail_str (detail, "layers", c->layers);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "centre.update", "centre", c->id,
           detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  for (int d = 0; d < 7; d++)
    g_free (hours[d]);
  return ok;
}

static void
not_found (GError **error, const char *what, gint64 id)
{
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
      "no %s %" G_GINT64_FORMAT, what, id);
}

MedCentre *
med_store_get_centre (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autoptr (MedCentre) c = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT name, zone, layers, address, mailbox, "
      "hours_mon, hours_tue, hours_wed, hours_thu, hours_fri, hours_sat, "
      "hours_sun, min_notice_minutes, slot_minutes, "
      "default_duration_minutes, allow_fallback FROM centre WHERE id = ?1",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_DONE) {
    not_found (error, "centre", id);
    return NULL;
  }
  if (rc != SQLITE_ROW) {
    store_set_error (store, rc, "reading centre", error);
    return NULL;
  }
  c = g_new0 (MedCentre, 1);
  c->id = id;
  c->name = store_column_text (st, 0);
  c->zone = store_column_text (st, 1);
  c->layers = store_column_text (st, 2);
  c->address = store_column_text (st, 3);
  c->mailbox = store_column_text (st, 4);
  for (int d = 0; d < 7; d++) {
    const char *h = (const char *) sqlite3_column_text (st, 5 + d);

    if (!med_day_hours_parse (h ? h : "", &c->hours[d], NULL)) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "centre %" G_GINT64_FORMAT " has unreadable opening hours", id);
      return NULL;
    }
  }
  c->min_notice_minutes = sqlite3_column_int (st, 12);
  c->slot_minutes = sqlite3_column_int (st, 13);
  c->default_duration_minutes = sqlite3_column_int (st, 14);
  c->allow_fallback = sqlite3_column_int (st, 15) != 0;
  return g_steal_pointer (&c);
}

char *
store_centre_zone (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (StoreStmt) st
      = store_stmt (store, "SELECT zone FROM centre WHERE id = ?1", error);
  int rc;

  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, centre_id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    return store_column_text (st, 0);
  if (rc == SQLITE_DONE)
    not_found (error, "centre", centre_id);
  else
    store_set_error (store, rc, "reading centre", error);
  return NULL;
}

static gboolean
require_row (MedStore *store, const char *sql, const char *what, gint64 id,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  int rc;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    not_found (error, what, id);
  else
    store_set_error (store, rc, "reading the store", error);
  return FALSE;
}

static gboolean
require_centre (MedStore *store, gint64 centre_id, GError **error)
{
  return require_row (store, "SELECT 1 FROM centre WHERE id = ?1", "centre",
      centre_id, error);
}

/* ---- rooms, mediators, leave, interpreters ----------------------------- */

static gint64
insert_room (MedStore *store, const MedRoom *r, gint64 centre_id,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id;

  if (!store_check_text (r->name, MED_MAX_NAME_BYTES, FALSE, FALSE, "room name",
          error))
    return 0;
  if ((guint) r->kind >= MED_ROOM_KIND_N || r->capacity < 1
      || r->capacity > 1000 || r->features > 15 || r->setup_minutes < 0
      || r->setup_minutes > MED_STORE_MAX_BUFFER_MINUTES
      || r->cleanup_minutes < 0
      || r->cleanup_minutes > MED_STORE_MAX_BUFFER_MINUTES) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "room %s: kind, capacity (1–1000), features or setup/cleanup "
        "minutes (0–%d) out of range",
        r->name, MED_STORE_MAX_BUFFER_MINUTES);
    return 0;
  }
  if (!require_centre (store, centre_id, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO room (centre_id, name, kind, "
      "capacity, features, setup_minutes, cleanup_minutes) VALUES (?1, ?2, "
      "?3, ?4, ?5, ?6, ?7)",
      error);
  if (st == NULL)
    return 0;
  sqlite3_bind_int64 (st, 1, centre_id);
  sqlite3_bind_text (st, 2, r->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, med_room_kind_to_string (r->kind), -1,
      SQLITE_STATIC);
  sqlite3_bind_int (st, 4, r->capacity);
  sqlite3_bind_int (st, 5, r->features);
  sqlite3_bind_int (st, 6, r->setup_minutes);
  sqlite3_bind_int (st, 7, r->cleanup_minutes);
  if (sqlite3_step (st) != SQLITE_DONE) {
    if (sqlite3_extended_errcode (store->db) == SQLITE_CONSTRAINT_UNIQUE)
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT,
          "a room named %s already exists in centre %" G_GINT64_FORMAT, r->name,
          centre_id);
    else
      store_set_error (store, sqlite3_extended_errcode (store->db),
          "adding room", error);
    return 0;
  }
  id = sqlite3_last_insert_rowid (store->db);
  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "kind", med_room_kind_to_string (r->kind));
  store_detail_int (detail, "capacity", r->capacity);
  store_detail_int (detail, "setup", r->setup_minutes);
  store_detail_int (detail, "cleanup", r->cleanup_minutes);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "room.add", "room", id, detail_s,
          error))
    return 0;
  return id;
}

gint64
med_store_add_room (MedStore *store, const MedRoom *r, const char *actor,
    GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && r != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_room (store, r, r->centre_id, actor, error);
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

GPtrArray *
med_store_list_rooms (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (GPtrArray) rooms = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, name, kind, capacity, features, "
      "setup_minutes, cleanup_minutes FROM room WHERE centre_id = ?1 "
      "ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, centre_id);
  rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    MedRoom *r = med_room_new ();
    GError *local = NULL;

    g_ptr_array_add (rooms, r);
    r->id = sqlite3_column_int64 (st, 0);
    r->centre_id = centre_id;
    r->name = store_column_text (st, 1);
    if (!med_room_kind_from_string ((const char *) sqlite3_column_text (st, 2),
            &r->kind, &local)) {
      store_corrupt_enum (error, local);
      return NULL;
    }
    r->capacity = sqlite3_column_int (st, 3);
    r->features = sqlite3_column_int (st, 4);
    r->setup_minutes = sqlite3_column_int (st, 5);
    r->cleanup_minutes = sqlite3_column_int (st, 6);
  }
  if (rc != SQLITE_DONE) {
    store_set_error (store, rc, "listing rooms", error);
    return NULL;
  }
  return g_steal_pointer (&rooms);
}

/* Joins validated language codes with commas. (transfer full) */
static char *
join_languages (char **langs, GError **error)
{
  GError *local = NULL;

  if (langs == NULL || langs[0] == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "at least one language is required");
    return NULL;
  }
  for (guint i = 0; langs[i] != NULL; i++) {
    if (i >= 16) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "too many languages (at most 16)");
      return NULL;
    }
    if (!med_validate_language (langs[i], &local)) {
      store_propagate_invalid (error, local);
      return NULL;
    }
  }
  return g_strjoinv (",", langs);
}

static gint64
insert_mediator (MedStore *store, const MedMediator *m, gint64 centre_id,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *langs = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id;

  if (!store_check_text (m->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "mediator name", error)
      || (langs = join_languages (m->languages, error)) == NULL)
    return 0;
  if (m->specialties >= (1u << MED_CASE_KIND_N) || m->daily_cap < 1
      || m->daily_cap > 24) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "mediator %s: specialties or daily cap (1–24) out of range", m->name);
    return 0;
  }
  if (!require_centre (store, centre_id, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO mediator (centre_id, name, languages, "
      "specialties, daily_cap) VALUES (?1, ?2, ?3, ?4, ?5)",
      error);
  if (st == NULL)
    return 0;
  sqlite3_bind_int64 (st, 1, centre_id);
  sqlite3_bind_text (st, 2, m->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, langs, -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 4, m->specialties);
  sqlite3_bind_int (st, 5, m->daily_cap);
  if (!store_step_done (store, st, "adding mediator", error))
    return 0;
  id = sqlite3_last_insert_rowid (store->db);
  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "languages", langs);
  store_detail_int (detail, "specialties", m->specialties);
  store_detail_int (detail, "daily_cap", m->daily_cap);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "mediator.add", "mediator", id,
          detail_s, error))
    return 0;
  return id;
}

gint64
med_store_add_mediator (MedStore *store, const MedMediator *m,
    const char *actor, GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && m != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_mediator (store, m, m->centre_id, actor, error);
  /* Leave carried by the struct is stored too. */
  for (guint i = 0; id > 0 && m->leave != NULL && i < m->leave->len; i++) {
    const MedInterval *iv = &g_array_index (m->leave, MedInterval, i);

    if (!med_store_add_leave (store, id, iv->start, iv->end, actor, error))
      id = 0;
  }
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

/* Fills m->leave with the leave overlapping [from, to) (0 = unbounded). */
static gboolean
load_leave (MedStore *store, MedMediator *m, MedTime from, MedTime to,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT start_at, end_at "
      "FROM mediator_leave WHERE mediator_id = ?1 AND end_at > ?2 AND "
      "start_at < ?3 ORDER BY start_at, id",
      error);
  int rc;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, m->id);
  sqlite3_bind_int64 (st, 2, from != 0 ? from : G_MININT64);
  sqlite3_bind_int64 (st, 3, to != 0 ? to : G_MAXINT64);
  if (m->leave == NULL)
    m->leave = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    MedInterval iv
        = { sqlite3_column_int64 (st, 0), sqlite3_column_int64 (st, 1) };

    g_array_append_val (m->leave, iv);
  }
  if (rc != SQLITE_DONE) {
    store_set_error (store, rc, "reading leave", error);
    return FALSE;
  }
  return TRUE;
}

static MedMediator *
read_mediator (sqlite3_stmt *st)
{
  MedMediator *m = med_mediator_new ();
  const char *langs = (const char *) sqlite3_column_text (st, 3);

  m->id = sqlite3_column_int64 (st, 0);
  m->centre_id = sqlite3_column_int64 (st, 1);
  m->name = store_column_text (st, 2);
  m->languages = g_strsplit (langs ? langs : "", ",", -1);
  m->specialties = sqlite3_column_int (st, 4);
  m->daily_cap = sqlite3_column_int (st, 5);
  return m;
}

/* Mediators of a centre with their leave overlapping [from, to). Used by
 * the list and by the snapshot. (transfer full) */
GPtrArray *
store_list_mediators (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  int rc;

  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_mediator_free);
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT id, centre_id, "
        "name, languages, specialties, daily_cap FROM mediator WHERE "
        "centre_id = ?1 ORDER BY id",
        error);

    if (st == NULL)
      return NULL;
    sqlite3_bind_int64 (st, 1, centre_id);
    while ((rc = sqlite3_step (st)) == SQLITE_ROW)
      g_ptr_array_add (list, read_mediator (st));
    if (rc != SQLITE_DONE) {
      store_set_error (store, rc, "listing mediators", error);
      return NULL;
    }
  }
  for (guint i = 0; i < list->len; i++) {
    if (!load_leave (store, list->pdata[i], from, to, error))
      return NULL;
  }
  return g_steal_pointer (&list);
}

GPtrArray *
med_store_list_mediators (MedStore *store, gint64 centre_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_list_mediators (store, centre_id, 0, 0, error);
}

MedMediator *
med_store_get_mediator (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (MedMediator) m = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT id, centre_id, "
        "name, languages, specialties, daily_cap FROM mediator WHERE "
        "id = ?1",
        error);
    int rc;

    if (st == NULL)
      return NULL;
    sqlite3_bind_int64 (st, 1, id);
    rc = sqlite3_step (st);
    if (rc == SQLITE_DONE) {
      not_found (error, "mediator", id);
      return NULL;
    }
    if (rc != SQLITE_ROW) {
      store_set_error (store, rc, "reading mediator", error);
      return NULL;
    }
    m = read_mediator (st);
  }
  if (!load_leave (store, m, 0, 0, error))
    return NULL;
  return g_steal_pointer (&m);
}

gboolean
med_store_add_leave (MedStore *store, gint64 mediator_id, MedTime start,
    MedTime end, const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if (end <= start) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "leave must end after it starts");
    return FALSE;
  }
  if (!store_txn_begin (store, &txn, error)
      || !require_row (store, "SELECT 1 FROM mediator WHERE id = ?1",
          "mediator", mediator_id, error))
    goto out;
  st = store_stmt (store,
      "INSERT INTO mediator_leave (mediator_id, "
      "start_at, end_at) VALUES (?1, ?2, ?3)",
      error);
  if (st == NULL)
    goto out;
  sqlite3_bind_int64 (st, 1, mediator_id);
  sqlite3_bind_int64 (st, 2, start);
  sqlite3_bind_int64 (st, 3, end);
  if (!store_step_done (store, st, "adding leave", error))
    goto out;
  detail = g_string_new ("{");
  store_detail_int (detail, "mediator", mediator_id);
  store_detail_int (detail, "start", start);
  store_detail_int (detail, "end", end);
  detail_s = store_detail_end (detail);
  ok = store_audit_append (store, actor, "leave.add", "mediator_leave",
           sqlite3_last_insert_rowid (store->db), detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* Validates interpreter pairs ("zh:bo") and joins them. (transfer full) */
static char *
join_pairs (char **pairs, GError **error)
{
  if (pairs == NULL || pairs[0] == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "at least one language pair is required");
    return NULL;
  }
  for (guint i = 0; pairs[i] != NULL; i++) {
    g_auto (GStrv) parts = g_strsplit (pairs[i], ":", -1);

    if (i >= 32 || g_strv_length (parts) != 2
        || !med_validate_language (parts[0], NULL)
        || !med_validate_language (parts[1], NULL)) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "language pair must look like zh:bo (at most 32 pairs)");
      return NULL;
    }
  }
  return g_strjoinv (",", pairs);
}

static gint64
insert_interpreter (MedStore *store, const MedInterpreter *in, gint64 centre_id,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *pairs = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gint64 id;

  if (!store_check_text (in->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "interpreter name", error)
      || (pairs = join_pairs (in->pairs, error)) == NULL
      || !require_centre (store, centre_id, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO interpreter (centre_id, name, pairs) "
      "VALUES (?1, ?2, ?3)",
      error);
  if (st == NULL)
    return 0;
  sqlite3_bind_int64 (st, 1, centre_id);
  sqlite3_bind_text (st, 2, in->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, pairs, -1, SQLITE_STATIC);
  if (!store_step_done (store, st, "adding interpreter", error))
    return 0;
  id = sqlite3_last_insert_rowid (store->db);
  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "pairs", pairs);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "interpreter.add", "interpreter", id,
          detail_s, error))
    return 0;
  return id;
}

gint64
med_store_add_interpreter (MedStore *store, const MedInterpreter *i,
    const char *actor, GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && i != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_interpreter (store, i, i->centre_id, actor, error);
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

GPtrArray *
med_store_list_interpreters (MedStore *store, gint64 centre_id, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, name, pairs FROM interpreter WHERE "
      "centre_id = ?1 ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, centre_id);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_interpreter_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    MedInterpreter *in = med_interpreter_new ();
    const char *pairs = (const char *) sqlite3_column_text (st, 2);

    in->id = sqlite3_column_int64 (st, 0);
    in->centre_id = centre_id;
    in->name = store_column_text (st, 1);
    in->pairs = g_strsplit (pairs ? pairs : "", ",", -1);
    g_ptr_array_add (list, in);
  }
  if (rc != SQLITE_DONE) {
    store_set_error (store, rc, "listing interpreters", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

/* ---- cases and parties ------------------------------------------------- */

/* A new case may start in any state reachable from intake that does not
 * need a booking (scheduled and in-session do). */
static gboolean
check_initial_status (MedCaseStatus status, MedDepartment department,
    GError **error)
{
  gboolean reachable[MED_CASE_STATUS_N] = { FALSE };
  gboolean grew = TRUE;

  if ((guint) status >= MED_CASE_STATUS_N)
    goto bad;
  reachable[MED_CASE_STATUS_INTAKE] = TRUE;
  while (grew) {
    grew = FALSE;
    for (int f = 0; f < MED_CASE_STATUS_N; f++) {
      for (int t = 0; reachable[f] && t < MED_CASE_STATUS_N; t++) {
        if (!reachable[t] && med_case_status_can_transition (f, t)) {
          reachable[t] = TRUE;
          grew = TRUE;
        }
      }
    }
  }
  if (!reachable[status] || status == MED_CASE_STATUS_SCHEDULED
      || status == MED_CASE_STATUS_IN_SESSION)
    goto bad;
  if (status != MED_CASE_STATUS_INTAKE && department == MED_DEPARTMENT_NONE
      && status != MED_CASE_STATUS_WITHDRAWN) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "a case that is %s must name its department",
        med_case_status_to_string (status));
    return FALSE;
  }
  return TRUE;

bad:
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "a new case cannot start as %s",
      (guint) status < MED_CASE_STATUS_N ? med_case_status_to_string (status)
                                         : "an unknown status");
  return FALSE;
}

gboolean
store_check_party (const MedParty *p, guint index, GError **error)
{
  GError *local = NULL;

  if (!store_check_text (p->name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "party name", error)
      || !store_check_text (p->contact, MED_MAX_NAME_BYTES, FALSE, TRUE,
          "party contact", error))
    return FALSE;
  if (!med_validate_language (p->language, &local))
    return store_propagate_invalid (error, local);
  if ((guint) p->role >= MED_PARTY_ROLE_N
      || (guint) p->attendance >= MED_ATTENDANCE_N) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "party %u: role or attendance out of range", index + 1);
    return FALSE;
  }
  return TRUE;
}

static gint64
insert_case (MedStore *store, const MedCase *c, gint64 centre_id,
    GPtrArray *parties, const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  guint n_parties = parties ? parties->len : 0;
  MedTime now = store_now (store);
  gint64 id;

  if (!store_check_text (c->number, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "case number", error)
      || !store_check_text (c->summary, MED_MAX_TEXT_BYTES, TRUE, TRUE,
          "case summary", error)
      || !check_initial_status (c->status, c->department, error))
    return 0;
  if ((guint) c->kind >= MED_CASE_KIND_N
      || (guint) c->department >= MED_DEPARTMENT_N || c->intake_at <= 0
      || c->deadline < 0 || c->duration_minutes < 0
      || c->duration_minutes > 1440 || n_parties > MED_MAX_PARTIES) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "case %s: kind, department, intake time, deadline, duration "
        "(0–1440 min) or number of parties (at most %d) out of range",
        c->number, MED_MAX_PARTIES);
    return 0;
  }
  for (guint i = 0; i < n_parties; i++) {
    if (!store_check_party (parties->pdata[i], i, error))
      return 0;
  }
  if (!require_centre (store, centre_id, error))
    return 0;
  {
    g_autoptr (StoreStmt) dup = store_stmt (store,
        "SELECT 1 FROM mcase "
        "WHERE centre_id = ?1 AND number = ?2",
        error);

    if (dup == NULL)
      return 0;
    sqlite3_bind_int64 (dup, 1, centre_id);
    sqlite3_bind_text (dup, 2, c->number, -1, SQLITE_STATIC);
    if (sqlite3_step (dup) == SQLITE_ROW) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT,
          "case number %s already exists", c->number);
      return 0;
    }
  }

  st = store_stmt (store,
      "INSERT INTO mcase (centre_id, number, kind, "
      "status, department, intake_at, deadline, minors, urgent, "
      "duration_minutes, summary, status_at, settled_at) VALUES (?1, ?2, "
      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
      error);
  if (st == NULL)
    return 0;
  sqlite3_bind_int64 (st, 1, centre_id);
  sqlite3_bind_text (st, 2, c->number, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, med_case_kind_to_string (c->kind), -1,
      SQLITE_STATIC);
  sqlite3_bind_text (st, 4, med_case_status_to_string (c->status), -1,
      SQLITE_STATIC);
  sqlite3_bind_text (st, 5, med_department_to_string (c->department), -1,
      SQLITE_STATIC);
  sqlite3_bind_int64 (st, 6, c->intake_at);
  sqlite3_bind_int64 (st, 7, c->deadline);
  sqlite3_bind_int (st, 8, c->minors ? 1 : 0);
  sqlite3_bind_int (st, 9, c->urgent ? 1 : 0);
  sqlite3_bind_int (st, 10, c->duration_minutes);
  sqlite3_bind_text (st, 11, c->summary ? c->summary : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 12, now);
  if (c->status == MED_CASE_STATUS_SETTLED)
    sqlite3_bind_int64 (st, 13, now);
  else
    sqlite3_bind_null (st, 13);
  if (!store_step_done (store, st, "adding case", error))
    return 0;
  id = sqlite3_last_insert_rowid (store->db);

  for (guint i = 0; i < n_parties; i++) {
    const MedParty *p = parties->pdata[i];
    g_autoptr (StoreStmt) ps = store_stmt (store,
        "INSERT INTO party "
        "(case_id, name, role, language, attendance, contact) VALUES (?1, "
        "?2, ?3, ?4, ?5, ?6)",
        error);

    if (ps == NULL)
      return 0;
    sqlite3_bind_int64 (ps, 1, id);
    sqlite3_bind_text (ps, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (ps, 3, med_party_role_to_string (p->role), -1,
        SQLITE_STATIC);
    sqlite3_bind_text (ps, 4, p->language, -1, SQLITE_STATIC);
    sqlite3_bind_text (ps, 5, med_attendance_to_string (p->attendance), -1,
        SQLITE_STATIC);
    sqlite3_bind_text (ps, 6, p->contact ? p->contact : "", -1, SQLITE_STATIC);
    if (!store_step_done (store, ps, "adding party", error))
      return 0;
  }

  detail = g_string_new ("{");
  store_detail_int (detail, "centre", centre_id);
  store_detail_str (detail, "number", c->number);
  store_detail_str (detail, "kind", med_case_kind_to_string (c->kind));
  store_detail_str (detail, "status", med_case_status_to_string (c->status));
  store_detail_int (detail, "parties", n_parties);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "case.add", "case", id, detail_s,
          error))
    return 0;
  return id;
}

gint64
med_store_add_case (MedStore *store, const MedCase *c, GPtrArray *parties,
    const char *actor, GError **error)
{
  StoreTxn txn;
  gint64 id;

  g_return_val_if_fail (store != NULL && c != NULL, 0);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  id = insert_case (store, c, c->centre_id, parties, actor, error);
  if (id > 0 && !store_txn_commit (&txn, error))
    id = 0;
  store_txn_end (&txn);
  return id;
}

gboolean
store_read_case (sqlite3_stmt *st, MedCase **out, GError **error)
{
  g_autoptr (MedCase) c = med_case_new ();

  c->id = sqlite3_column_int64 (st, 0);
  c->centre_id = sqlite3_column_int64 (st, 1);
  c->number = store_column_text (st, 2);
  STORE_READ_ENUM (med_case_kind_from_string, st, 3, &c->kind, error);
  STORE_READ_ENUM (med_case_status_from_string, st, 4, &c->status, error);
  STORE_READ_ENUM (med_department_from_string, st, 5, &c->department, error);
  c->intake_at = sqlite3_column_int64 (st, 6);
  c->deadline = sqlite3_column_int64 (st, 7);
  c->minors = sqlite3_column_int (st, 8) != 0;
  c->urgent = sqlite3_column_int (st, 9) != 0;
  c->duration_minutes = sqlite3_column_int (st, 10);
  c->summary = store_column_text (st, 11);
  *out = g_steal_pointer (&c);
  return TRUE;
}

static MedCase *
get_case_by (MedStore *store, const char *sql, gint64 id, const char *number,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store, sql, error);
  MedCase *c = NULL;
  int rc;

  if (st == NULL)
    return NULL;
  if (number != NULL)
    sqlite3_bind_text (st, 1, number, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64 (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW) {
    store_read_case (st, &c, error);
  } else if (rc == SQLITE_DONE) {
    if (number != NULL)
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
          "no case numbered %s", number);
    else
      not_found (error, "case", id);
  } else {
    store_set_error (store, rc, "reading case", error);
  }
  return c;
}

MedCase *
med_store_get_case (MedStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return get_case_by (store,
      "SELECT " STORE_CASE_COLUMNS " FROM mcase WHERE "
      "id = ?1",
      id, NULL, error);
}

MedCase *
med_store_find_case (MedStore *store, const char *number, GError **error)
{
  g_return_val_if_fail (store != NULL && number != NULL, NULL);
  return get_case_by (store,
      "SELECT " STORE_CASE_COLUMNS " FROM mcase WHERE "
      "number = ?1 ORDER BY id LIMIT 1",
      0, number, error);
}

GPtrArray *
med_store_list_cases (MedStore *store, gint64 centre_id, gint status,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT " STORE_CASE_COLUMNS " FROM mcase WHERE "
      "centre_id = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, centre_id);
  if (status >= 0 && status < MED_CASE_STATUS_N)
    sqlite3_bind_text (st, 2, med_case_status_to_string (status), -1,
        SQLITE_STATIC);
  else if (status >= MED_CASE_STATUS_N)
    sqlite3_bind_text (st, 2, "", -1, SQLITE_STATIC); /* matches nothing */
  return store_read_cases (store, st, "listing cases", error);
}

GPtrArray *
store_read_cases (MedStore *store, sqlite3_stmt *st, const char *what,
    GError **error)
{
  g_autoptr (GPtrArray) list
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  int rc;

  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    MedCase *c = NULL;

    if (!store_read_case (st, &c, error))
      return NULL;
    g_ptr_array_add (list, c);
  }
  if (rc != SQLITE_DONE) {
    store_set_error (store, rc, what, error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

gboolean
store_read_party (sqlite3_stmt *st, MedParty **out, GError **error)
{
  g_autoptr (MedParty) p = med_party_new ();

  p->id = sqlite3_column_int64 (st, 0);
  p->case_id = sqlite3_column_int64 (st, 1);
  p->name = store_column_text (st, 2);
  STORE_READ_ENUM (med_party_role_from_string, st, 3, &p->role, error);
  p->language = store_column_text (st, 4);
  STORE_READ_ENUM (med_attendance_from_string, st, 5, &p->attendance, error);
  p->contact = store_column_text (st, 6);
  *out = g_steal_pointer (&p);
  return TRUE;
}

GPtrArray *
med_store_list_parties (MedStore *store, gint64 case_id, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  st = store_stmt (store,
      "SELECT id, case_id, name, role, language, "
      "attendance, contact FROM party WHERE case_id = ?1 AND "
      "removed_at = 0 ORDER BY id",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, case_id);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    MedParty *p = NULL;

    if (!store_read_party (st, &p, error))
      return NULL;
    g_ptr_array_add (list, p);
  }
  if (rc != SQLITE_DONE) {
    store_set_error (store, rc, "listing parties", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

gboolean
store_case_state (MedStore *store, gint64 case_id, MedCaseStatus *status,
    gint64 *centre_id, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT status, centre_id "
      "FROM mcase WHERE id = ?1",
      error);
  int rc;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, case_id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_DONE) {
    not_found (error, "case", case_id);
    return FALSE;
  }
  if (rc != SQLITE_ROW) {
    store_set_error (store, rc, "reading case", error);
    return FALSE;
  }
  STORE_READ_ENUM (med_case_status_from_string, st, 0, status, error);
  if (centre_id != NULL)
    *centre_id = sqlite3_column_int64 (st, 1);
  return TRUE;
}

gboolean
store_write_case_status (MedStore *store, gint64 case_id, MedCaseStatus from,
    MedCaseStatus to, MedDepartment department, const char *actor,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  MedTime now = store_now (store);

  st = store_stmt (store,
      "UPDATE mcase SET status = ?2, status_at = ?3, "
      "settled_at = CASE WHEN ?2 = 'settled' THEN ?3 ELSE settled_at END, "
      "department = coalesce (?4, department) WHERE id = ?1",
      error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, case_id);
  sqlite3_bind_text (st, 2, med_case_status_to_string (to), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, now);
  if (department != MED_DEPARTMENT_NONE)
    sqlite3_bind_text (st, 4, med_department_to_string (department), -1,
        SQLITE_STATIC);
  if (!store_step_done (store, st, "changing case status", error))
    return FALSE;
  detail = g_string_new ("{");
  store_detail_str (detail, "from", med_case_status_to_string (from));
  store_detail_str (detail, "to", med_case_status_to_string (to));
  if (department != MED_DEPARTMENT_NONE)
    store_detail_str (detail, "department",
        med_department_to_string (department));
  detail_s = store_detail_end (detail);
  return store_audit_append (store, actor, "case.status", "case", case_id,
      detail_s, error);
}

gboolean
med_store_set_case_status (MedStore *store, gint64 case_id, MedCaseStatus to,
    MedDepartment department, const char *actor, GError **error)
{
  MedCaseStatus from;
  GError *local = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if ((guint) to >= MED_CASE_STATUS_N
      || (guint) department >= MED_DEPARTMENT_N) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "unknown case status or department");
    return FALSE;
  }
  if (to == MED_CASE_STATUS_DISPATCHED && department == MED_DEPARTMENT_NONE) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "dispatching a case needs a department");
    return FALSE;
  }
  if (!store_txn_begin (store, &txn, error)
      || !store_case_state (store, case_id, &from, NULL, error))
    goto out;
  if (!med_case_status_check_transition (from, to, &local)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "case %" G_GINT64_FORMAT ": %s", case_id, local->message);
    g_clear_error (&local);
    goto out;
  }
  ok = store_write_case_status (store, case_id, from, to, department, actor,
           error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

/* ---- holiday notices --------------------------------------------------- */

static const char *
day_kind_to_string (MedDayKind k)
{
  return k == MED_DAY_KIND_WORKDAY ? "workday" : "holiday";
}

gboolean
med_store_import_notice (MedStore *store, const MedNotice *n, const char *actor,
    GError **error)
{
  GError *local = NULL;
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE, replaced = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && n != NULL, FALSE);

  if (!store_check_actor (actor, error))
    return FALSE;
  if (!med_notice_validate (n, &local))
    return store_propagate_invalid (error, local);
  if (!store_check_text (n->id, MED_MAX_NAME_BYTES, FALSE, FALSE, "notice id",
          error)
      || !store_check_text (n->jurisdiction, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "notice jurisdiction", error)
      || !store_check_text (n->title, MED_MAX_TEXT_BYTES, FALSE, TRUE,
          "notice title", error)
      || !store_check_text (n->source, MED_MAX_TEXT_BYTES, FALSE, TRUE,
          "notice source", error)
      || !store_check_text (n->published, 32, FALSE, TRUE, "notice published",
          error))
    return FALSE;
  for (guint i = 0; n->days != NULL && i < n->days->len; i++) {
    if (!store_check_text (g_array_index (n->days, MedNoticeDay, i).name,
            MED_MAX_NAME_BYTES, FALSE, TRUE, "notice day name", error))
      return FALSE;
  }

  if (!store_txn_begin (store, &txn, error))
    goto out;
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "DELETE FROM calendar_day "
        "WHERE notice_id = ?1",
        error);

    if (st == NULL)
      goto out;
    sqlite3_bind_text (st, 1, n->id, -1, SQLITE_STATIC);
    if (!store_step_done (store, st, "replacing notice", error))
      goto out;
    replaced = sqlite3_changes (store->db) > 0;
  }
  {
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO "
        "calendar_notice (id, jurisdiction, layer, year, title, source, "
        "published, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (id) DO UPDATE SET jurisdiction = excluded.jurisdiction, "
        "layer = excluded.layer, year = excluded.year, title = excluded.title, "
        "source = excluded.source, published = excluded.published, "
        "imported_at = excluded.imported_at",
        error);

    if (st == NULL)
      goto out;
    sqlite3_bind_text (st, 1, n->id, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, n->jurisdiction, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 3, med_layer_to_string (n->layer), -1,
        SQLITE_STATIC);
    sqlite3_bind_int (st, 4, n->year);
    sqlite3_bind_text (st, 5, n->title ? n->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 6, n->source ? n->source : "", -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 7, n->published ? n->published : "", -1,
        SQLITE_STATIC);
    sqlite3_bind_int64 (st, 8, store_now (store));
    if (!store_step_done (store, st, "importing notice", error))
      goto out;
    replaced = replaced || sqlite3_changes (store->db) == 0;
  }
  for (guint i = 0; n->days != NULL && i < n->days->len; i++) {
    const MedNoticeDay *d = &g_array_index (n->days, MedNoticeDay, i);
    g_autoptr (StoreStmt) st = store_stmt (store,
        "INSERT INTO calendar_day "
        "(notice_id, year, month, day, kind, name) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6)",
        error);

    if (st == NULL)
      goto out;
    sqlite3_bind_text (st, 1, n->id, -1, SQLITE_STATIC);
    sqlite3_bind_int (st, 2, d->year);
    sqlite3_bind_int (st, 3, d->month);
    sqlite3_bind_int (st, 4, d->day);
    sqlite3_bind_text (st, 5, day_kind_to_string (d->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 6, d->name ? d->name : "", -1, SQLITE_STATIC);
    if (!store_step_done (store, st, "importing notice day", error))
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_str (detail, "id", n->id);
  store_detail_str (detail, "jurisdiction", n->jurisdiction);
  store_detail_int (detail, "year", n->year);
  store_detail_int (detail, "days", n->days ? n->days->len : 0);
  store_detail_int (detail, "replaced", replaced);
  detail_s = store_detail_end (detail);
  /* Notices have text ids; the audit row names it in detail. */
  ok = store_audit_append (store, actor, "notice.import", "calendar_notice", 0,
           detail_s, error)
      && store_txn_commit (&txn, error);

out:
  store_txn_end (&txn);
  return ok;
}

static GPtrArray *
list_notices (MedStore *store, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (StoreStmt) st = NULL;
  int rc;

  st = store_stmt (store,
      "SELECT id, jurisdiction, layer, year, title, "
      "source, published FROM calendar_notice ORDER BY imported_at, rowid",
      error);
  if (st == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) med_notice_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    g_autoptr (MedNotice) n = med_notice_new ();
    GError *local = NULL;

    g_free (n->id);
    n->id = store_column_text (st, 0);
    g_free (n->jurisdiction);
    n->jurisdiction = store_column_text (st, 1);
    if (!med_layer_from_string ((const char *) sqlite3_column_text (st, 2),
            &n->layer, &local)) {
      store_corrupt_enum (error, local);
      return NULL;
    }
    n->year = sqlite3_column_int (st, 3);
    g_free (n->title);
    n->title = store_column_text (st, 4);
    g_free (n->source);
    n->source = store_column_text (st, 5);
    g_free (n->published);
    n->published = store_column_text (st, 6);
    g_ptr_array_add (list, g_steal_pointer (&n));
  }
  if (rc != SQLITE_DONE) {
    store_set_error (store, rc, "listing notices", error);
    return NULL;
  }
  return g_steal_pointer (&list);
}

GPtrArray *
med_store_list_notices (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return list_notices (store, error);
}

MedWorkcal *
med_store_load_workcal (MedStore *store, GError **error)
{
  g_autoptr (GPtrArray) notices = NULL;
  g_autoptr (MedWorkcal) wc = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  notices = list_notices (store, error);
  if (notices == NULL)
    return NULL;
  wc = med_workcal_new ();
  for (guint i = 0; i < notices->len; i++) {
    MedNotice *n = notices->pdata[i];
    g_autoptr (StoreStmt) st = store_stmt (store,
        "SELECT year, month, day, "
        "kind, name FROM calendar_day WHERE notice_id = ?1 ORDER BY id",
        error);
    GError *local = NULL;
    int rc;

    if (st == NULL)
      return NULL;
    sqlite3_bind_text (st, 1, n->id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
      const char *kind = (const char *) sqlite3_column_text (st, 3);

      med_notice_add_day (n, sqlite3_column_int (st, 0),
          sqlite3_column_int (st, 1), sqlite3_column_int (st, 2),
          g_strcmp0 (kind, "workday") == 0 ? MED_DAY_KIND_WORKDAY
                                           : MED_DAY_KIND_HOLIDAY,
          (const char *) sqlite3_column_text (st, 4));
    }
    if (rc != SQLITE_DONE) {
      store_set_error (store, rc, "reading notice days", error);
      return NULL;
    }
    if (!med_workcal_add_notice (wc, n, &local)) {
      store_propagate_invalid (error, local);
      return NULL;
    }
  }
  return g_steal_pointer (&wc);
}

/* ---- import documents -------------------------------------------------- */

gboolean
med_store_import_doc (MedStore *store, gint64 centre_id,
    const MedImportDoc *doc, const char *actor, guint *n_rooms,
    guint *n_mediators, guint *n_interpreters, guint *n_cases, GError **error)
{
  guint counts[4] = { 0 };
  GString *detail;
  g_autofree char *detail_s = NULL;
  gboolean ok = FALSE;
  StoreTxn txn = { 0 };

  g_return_val_if_fail (store != NULL && doc != NULL, FALSE);

  if (!store_check_actor (actor, error) || !store_txn_begin (store, &txn, error)
      || !require_centre (store, centre_id, error))
    goto out;
  for (guint i = 0; doc->rooms && i < doc->rooms->len; i++, counts[0]++) {
    if (insert_room (store, doc->rooms->pdata[i], centre_id, actor, error) == 0)
      goto out;
  }
  for (guint i = 0; doc->mediators && i < doc->mediators->len;
       i++, counts[1]++) {
    const MedMediator *m = doc->mediators->pdata[i];
    gint64 id = insert_mediator (store, m, centre_id, actor, error);

    if (id == 0)
      goto out;
    for (guint k = 0; m->leave != NULL && k < m->leave->len; k++) {
      const MedInterval *iv = &g_array_index (m->leave, MedInterval, k);

      if (!med_store_add_leave (store, id, iv->start, iv->end, actor, error))
        goto out;
    }
  }
  for (guint i = 0; doc->interpreters && i < doc->interpreters->len;
       i++, counts[2]++) {
    if (insert_interpreter (store, doc->interpreters->pdata[i], centre_id,
            actor, error)
        == 0)
      goto out;
  }
  for (guint i = 0; doc->cases && i < doc->cases->len; i++, counts[3]++) {
    GPtrArray *parties = doc->case_parties && i < doc->case_parties->len
        ? doc->case_parties->pdata[i]
        : NULL;

    if (insert_case (store, doc->cases->pdata[i], centre_id, parties, actor,
            error)
        == 0)
      goto out;
  }
  detail = g_string_new ("{");
  store_detail_int (detail, "rooms", counts[0]);
  store_detail_int (detail, "mediators", counts[1]);
  store_detail_int (detail, "interpreters", counts[2]);
  store_detail_int (detail, "cases", counts[3]);
  detail_s = store_detail_end (detail);
  if (!store_audit_append (store, actor, "doc.import", "centre", centre_id,
          detail_s, error)
      || !store_txn_commit (&txn, error))
    goto out;
  ok = TRUE;
  if (n_rooms)
    *n_rooms = counts[0];
  if (n_mediators)
    *n_mediators = counts[1];
  if (n_interpreters)
    *n_interpreters = counts[2];
  if (n_cases)
    *n_cases = counts[3];

out:
  store_txn_end (&txn);
  return ok;
}

/* ---- reports and checks ------------------------------------------------ */

gboolean
med_store_same_day_report (MedStore *store, gint64 centre_id, MedTime from,
    MedTime to, guint *n_cases, guint *n_settled, guint *n_same_day,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *zone = NULL;
  guint cases = 0, settled = 0, same_day = 0;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);

  zone = store_centre_zone (store, centre_id, error);
  if (zone == NULL)
    return FALSE;
  st = store_stmt (store,
      "SELECT intake_at, settled_at FROM mcase WHERE "
      "centre_id = ?1 AND intake_at >= ?2 AND intake_at < ?3 AND "
      "status <> 'withdrawn'",
      error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, centre_id);
  sqlite3_bind_int64 (st, 2, from != 0 ? from : G_MININT64);
  sqlite3_bind_int64 (st, 3, to != 0 ? to : G_MAXINT64);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    gint y1, m1, d1, y2, m2, d2;

    cases++;
    if (sqlite3_column_type (st, 1) == SQLITE_NULL)
      continue;
    settled++;
    if (med_workcal_local_date (zone, sqlite3_column_int64 (st, 0), &y1, &m1,
            &d1, NULL)
        && med_workcal_local_date (zone, sqlite3_column_int64 (st, 1), &y2, &m2,
            &d2, NULL)
        && y1 == y2 && m1 == m2 && d1 == d2)
      same_day++;
  }
  if (rc != SQLITE_DONE) {
    store_set_error (store, rc, "reading cases", error);
    return FALSE;
  }
  if (n_cases)
    *n_cases = cases;
  if (n_settled)
    *n_settled = settled;
  if (n_same_day)
    *n_same_day = same_day;
  return TRUE;
}

gboolean
med_store_check (MedStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);

  {
    g_autoptr (StoreStmt) st
        = store_stmt (store, "PRAGMA integrity_check", error);
    int rc;

    if (st == NULL)
      return FALSE;
    rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
      store_set_error (store, rc, "checking integrity", error);
      return FALSE;
    }
    if (g_strcmp0 ((const char *) sqlite3_column_text (st, 0), "ok") != 0) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "integrity check of %s failed: %s", store->path,
          (const char *) sqlite3_column_text (st, 0));
      return FALSE;
    }
  }
  {
    g_autoptr (StoreStmt) st
        = store_stmt (store, "PRAGMA foreign_key_check", error);
    int rc;

    if (st == NULL)
      return FALSE;
    rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
          "foreign key check of %s failed in table %s (row %" G_GINT64_FORMAT
          ")",
          store->path, (const char *) sqlite3_column_text (st, 0),
          (gint64) sqlite3_column_int64 (st, 1));
      return FALSE;
    }
    if (rc != SQLITE_DONE) {
      store_set_error (store, rc, "checking foreign keys", error);
      return FALSE;
    }
  }
  return store_check_overlaps (store, error);
}
