/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-media.c — the store's side of recorded remote sessions: one
 * recording row per recorded session (its directory, manifest, head hash,
 * duration, state), the segments it was written in, the parties' consent to
 * being recorded, the interruption log (start, pause, resume, stop,
 * failure, gap), the retention period per case kind and the purge that
 * deletes recordings past it. Viewing or exporting a recording is written
 * to the audit log (med_store_recording_access).
 *
 * Schema: store_migration_media, appended to the migrations of
 * med-store.c. Nothing here holds personal data: consent names a party by
 * id, interruption details are states and GStreamer explanations. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <glib/gstdio.h>
#include <string.h>

/* Migration 4: recordings of remote sessions. */
const char store_migration_media[]
    = "CREATE TABLE recording ("
      "  id INTEGER PRIMARY KEY,"
      "  booking_id INTEGER NOT NULL REFERENCES booking (id),"
      "  regime TEXT NOT NULL CHECK (regime IN ('hearing', 'mediation')),"
      "  state TEXT NOT NULL CHECK (state IN ('idle', 'recording', 'paused',"
      "    'stopped', 'failed', 'sealed', 'purged')),"
      "  dir TEXT NOT NULL CHECK (length(dir) BETWEEN 1 AND 4096),"
      "  manifest TEXT NOT NULL DEFAULT '',"
      "  head_hash TEXT NOT NULL DEFAULT '',"
      "  duration INTEGER NOT NULL DEFAULT 0,"
      "  bytes INTEGER NOT NULL DEFAULT 0,"
      "  pid INTEGER NOT NULL DEFAULT 0,"
      "  created_at INTEGER NOT NULL,"
      "  updated_at INTEGER NOT NULL,"
      "  failure TEXT NOT NULL DEFAULT '');"
      "CREATE INDEX recording_booking ON recording (booking_id);"

      "CREATE TABLE recording_segment ("
      "  recording_id INTEGER NOT NULL REFERENCES recording (id),"
      "  idx INTEGER NOT NULL,"
      "  file TEXT NOT NULL,"
      "  sha256 TEXT NOT NULL DEFAULT '',"
      "  bytes INTEGER NOT NULL DEFAULT 0,"
      "  duration INTEGER NOT NULL DEFAULT 0,"
      "  PRIMARY KEY (recording_id, idx)) WITHOUT ROWID;"

      "CREATE TABLE consent ("
      "  booking_id INTEGER NOT NULL REFERENCES booking (id),"
      "  party_id INTEGER NOT NULL REFERENCES party (id),"
      "  given INTEGER NOT NULL CHECK (given IN (0, 1)),"
      "  at INTEGER NOT NULL,"
      "  actor TEXT NOT NULL,"
      "  PRIMARY KEY (booking_id, party_id)) WITHOUT ROWID;"

      "CREATE TABLE recording_event ("
      "  id INTEGER PRIMARY KEY,"
      "  recording_id INTEGER NOT NULL REFERENCES recording (id),"
      "  at INTEGER NOT NULL,"
      "  kind TEXT NOT NULL CHECK (kind IN ('start', 'pause', 'resume',"
      "    'stop', 'failure', 'gap')),"
      "  detail TEXT NOT NULL DEFAULT '');"
      "CREATE INDEX recording_event_rec ON recording_event (recording_id);"

      "CREATE TABLE retention ("
      "  case_kind TEXT PRIMARY KEY,"
      "  days INTEGER NOT NULL CHECK (days >= 0));"
      /* Defaults: family matters are kept longer (custody disputes come
       * back); everything else five years. */
      "INSERT INTO retention VALUES ('wages', 1825), ('neighbour', 1825),"
      "  ('contract', 1825), ('land', 3650), ('traffic', 1825),"
      "  ('consumer', 1825), ('divorce', 3650), ('custody', 7300),"
      "  ('support', 7300), ('inheritance', 3650), ('other', 1825);";

static const char *const state_names[] = { "idle", "recording", "paused",
  "stopped", "failed", "sealed", "purged" };
static const char *const regime_names[] = { "hearing", "mediation" };
static const char *const event_names[]
    = { "start", "pause", "resume", "stop", "failure", "gap" };

const char *
med_recording_state_to_string (MedRecordingState s)
{
  g_return_val_if_fail (s < G_N_ELEMENTS (state_names), "idle");
  return state_names[s];
}

const char *
med_recording_regime_to_string (MedRecordingRegime r)
{
  g_return_val_if_fail (r < G_N_ELEMENTS (regime_names), "mediation");
  return regime_names[r];
}

const char *
med_recording_event_to_string (MedRecordingEvent e)
{
  g_return_val_if_fail (e < G_N_ELEMENTS (event_names), "gap");
  return event_names[e];
}

static gboolean
parse_word (const char *const *names, guint n, const char *s, guint *out,
    const char *what, GError **error)
{
  for (guint i = 0; s && i < n; i++) {
    if (strcmp (s, names[i]) == 0) {
      *out = i;
      return TRUE;
    }
  }
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "unknown %s “%s”", what,
      s && g_utf8_validate (s, -1, NULL) && strlen (s) < 32 ? s : "?");
  return FALSE;
}

gboolean
med_recording_regime_from_string (const char *s, MedRecordingRegime *out,
    GError **error)
{
  guint v;

  if (!parse_word (regime_names, G_N_ELEMENTS (regime_names), s, &v,
          "recording regime (hearing or mediation)", error))
    return FALSE;
  *out = v;
  return TRUE;
}

void
med_recording_free (MedRecording *r)
{
  if (r == NULL)
    return;
  g_free (r->dir);
  g_free (r->manifest);
  g_free (r->head_hash);
  g_free (r->failure);
  g_free (r);
}

void
med_recording_log_free (MedRecordingLog *l)
{
  if (l == NULL)
    return;
  g_free (l->detail);
  g_free (l);
}

#define RECORDING_COLUMNS                                                      \
  "id, booking_id, regime, state, dir, manifest, head_hash, duration, "        \
  "bytes, pid, created_at, updated_at, failure"

static MedRecording *
read_recording (StoreStmt *st, GError **error)
{
  g_autoptr (MedRecording) r = g_new0 (MedRecording, 1);
  guint v;

  r->id = store_column_int64 (st, 0);
  r->booking_id = store_column_int64 (st, 1);
  if (!parse_word (regime_names, G_N_ELEMENTS (regime_names),
          store_column_str (st, 2), &v, "regime", error))
    return NULL;
  r->regime = v;
  if (!parse_word (state_names, G_N_ELEMENTS (state_names),
          store_column_str (st, 3), &v, "state", error))
    return NULL;
  r->state = v;
  r->dir = store_column_text (st, 4);
  r->manifest = store_column_text (st, 5);
  r->head_hash = store_column_text (st, 6);
  r->duration_ns = store_column_int64 (st, 7);
  r->bytes = store_column_int64 (st, 8);
  r->pid = store_column_int64 (st, 9);
  r->created_at = store_column_int64 (st, 10);
  r->updated_at = store_column_int64 (st, 11);
  r->failure = store_column_text (st, 12);
  return g_steal_pointer (&r);
}

static gboolean
audit_recording (MedStore *store, const char *actor, const char *action,
    gint64 id, const char *key, const char *value, GError **error)
{
  g_autofree char *detail = NULL;
  GString *d = g_string_new ("{");

  if (key != NULL)
    store_detail_str (d, key, value);
  detail = store_detail_end (d);
  return store_audit_append (store, actor, action, "recording", id, detail,
      error);
}

gint64
med_store_add_recording (MedStore *store, gint64 booking_id,
    MedRecordingRegime regime, const char *dir, const char *actor,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gint64 id = 0;

  if (!store_check_actor (actor, error)
      || !store_check_text (dir, 4096, FALSE, FALSE, "dir", error)
      || !store_txn_begin (store, &txn, error))
    return 0;
  st = store_stmt (store,
      "INSERT INTO recording (booking_id, regime, state, dir, created_at, "
      "updated_at) SELECT id, ?2, 'idle', ?3, ?4, ?4 FROM booking WHERE id = ?1 "
      "RETURNING id",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, booking_id);
  store_bind_text (st, 2, regime_names[regime]);
  store_bind_text (st, 3, dir);
  store_bind_int64 (st, 4, store_now (store));
  if (!store_step_id (store, st, "adding a recording", &id, error))
    goto out;
  if (id == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no booking %" G_GINT64_FORMAT, booking_id);
    goto out;
  }
  if (!audit_recording (store, actor, "recording.add", id, "regime",
          regime_names[regime], error)
      || !store_txn_commit (&txn, error))
    id = 0;
out:
  store_txn_end (&txn);
  return id;
}

MedRecording *
med_store_get_recording (MedStore *store, gint64 id, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT " RECORDING_COLUMNS " FROM recording WHERE id = ?1", error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, id);
  rc = store_step (st);
  if (rc == STORE_ROW)
    return read_recording (st, error);
  if (rc == STORE_DONE)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no recording %" G_GINT64_FORMAT, id);
  else
    store_set_error (store, "reading a recording", error);
  return NULL;
}

GPtrArray *
med_store_list_recordings (MedStore *store, gint64 booking_id, GError **error)
{
  g_autoptr (GPtrArray) out
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_recording_free);
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT " RECORDING_COLUMNS " FROM recording "
      "WHERE CAST(?1 AS BIGINT) = 0 OR booking_id = ?1 ORDER BY id",
      error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, booking_id);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedRecording *r = read_recording (st, error);

    if (r == NULL)
      return NULL;
    g_ptr_array_add (out, r);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "listing recordings", error);
    return NULL;
  }
  return g_steal_pointer (&out);
}

gboolean
med_store_set_recording_state (MedStore *store, gint64 id,
    MedRecordingState state, const char *failure, gint64 pid, const char *actor,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "UPDATE recording SET state = ?2, updated_at = ?3, pid = ?5, "
      "failure = coalesce (CAST(?4 AS TEXT), failure) WHERE id = ?1",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, id);
  store_bind_text (st, 2, state_names[state]);
  store_bind_int64 (st, 3, store_now (store));
  if (failure != NULL)
    store_bind_text (st, 4, failure);
  store_bind_int64 (st, 5, pid);
  if (!store_step_done (store, st, "updating a recording", error))
    goto out;
  if (store_changes (store) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "no recording %" G_GINT64_FORMAT, id);
    goto out;
  }
  ok = audit_recording (store, actor, "recording.state", id, "state",
           state_names[state], error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_seal_recording (MedStore *store, gint64 id, const char *manifest,
    const char *head_hash, guint64 duration_ns, guint64 bytes,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "UPDATE recording SET state = 'sealed', manifest = ?2, head_hash = ?3, "
      "duration = ?4, bytes = ?5, updated_at = ?6, pid = 0 WHERE id = ?1",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, id);
  store_bind_text (st, 2, manifest);
  store_bind_text (st, 3, head_hash);
  store_bind_int64 (st, 4, (gint64) duration_ns);
  store_bind_int64 (st, 5, (gint64) bytes);
  store_bind_int64 (st, 6, store_now (store));
  if (!store_step_done (store, st, "sealing a recording", error))
    goto out;
  /* The head hash goes into the audit chain: a manifest truncated at an
   * entry boundary no longer matches it. */
  ok = audit_recording (store, actor, "recording.seal", id, "head_hash",
           head_hash, error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_add_recording_segment (MedStore *store, gint64 recording_id,
    guint idx, const char *file, const char *sha256, guint64 bytes,
    guint64 duration_ns, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "INSERT INTO recording_segment (recording_id, idx, file, "
      "sha256, bytes, duration) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (recording_id, idx) DO UPDATE SET file = excluded.file, "
      "sha256 = excluded.sha256, bytes = excluded.bytes, "
      "duration = excluded.duration",
      error);

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, recording_id);
  store_bind_int64 (st, 2, idx);
  store_bind_text (st, 3, file);
  store_bind_text (st, 4, sha256 ? sha256 : "");
  store_bind_int64 (st, 5, (gint64) bytes);
  store_bind_int64 (st, 6, (gint64) duration_ns);
  return store_step_done (store, st, "adding a recording segment", error);
}

guint
med_store_count_recording_segments (MedStore *store, gint64 recording_id,
    GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT count(*) FROM recording_segment WHERE recording_id = ?1", error);

  if (st == NULL)
    return 0;
  store_bind_int64 (st, 1, recording_id);
  return store_step (st) == STORE_ROW ? store_column_int (st, 0) : 0;
}

gboolean
med_store_log_recording (MedStore *store, gint64 recording_id,
    MedRecordingEvent kind, const char *detail, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "INSERT INTO recording_event (recording_id, at, kind, detail) "
      "VALUES (?1, ?2, ?3, ?4)",
      error);

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, recording_id);
  store_bind_int64 (st, 2, store_now (store));
  store_bind_text (st, 3, event_names[kind]);
  store_bind_text (st, 4, detail ? detail : "");
  return store_step_done (store, st, "logging a recording event", error);
}

GPtrArray *
med_store_list_recording_log (MedStore *store, gint64 recording_id,
    GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) med_recording_log_free);
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT at, kind, detail FROM recording_event WHERE recording_id = ?1 "
      "ORDER BY id",
      error);
  int rc;

  if (st == NULL)
    return NULL;
  store_bind_int64 (st, 1, recording_id);
  while ((rc = store_step (st)) == STORE_ROW) {
    MedRecordingLog *l = g_new0 (MedRecordingLog, 1);
    guint v = 0;

    l->at = store_column_int64 (st, 0);
    parse_word (event_names, G_N_ELEMENTS (event_names),
        store_column_str (st, 1), &v, "event", NULL);
    l->kind = v;
    l->detail = store_column_text (st, 2);
    g_ptr_array_add (out, l);
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "reading the recording log", error);
    return NULL;
  }
  return g_steal_pointer (&out);
}

gboolean
med_store_set_consent (MedStore *store, gint64 booking_id, gint64 party_id,
    gboolean given, const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autofree char *detail = NULL;
  GString *d;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "INSERT INTO consent (booking_id, party_id, given, at, actor) "
      "SELECT b.id, p.id, ?3, ?4, ?5 FROM booking b JOIN party p "
      "ON p.case_id = b.case_id WHERE b.id = ?1 AND p.id = ?2 AND "
      "p.removed_at = 0 "
      "ON CONFLICT (booking_id, party_id) DO UPDATE SET "
      "given = excluded.given, at = excluded.at, actor = excluded.actor",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, booking_id);
  store_bind_int64 (st, 2, party_id);
  store_bind_int (st, 3, given ? 1 : 0);
  store_bind_int64 (st, 4, store_now (store));
  store_bind_text (st, 5, actor);
  if (!store_step_done (store, st, "recording consent", error))
    goto out;
  if (store_changes (store) == 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "booking %" G_GINT64_FORMAT " has no party %" G_GINT64_FORMAT,
        booking_id, party_id);
    goto out;
  }
  d = g_string_new ("{");
  store_detail_int (d, "party_id", party_id);
  store_detail_int (d, "given", given ? 1 : 0);
  detail = store_detail_end (d);
  ok = store_audit_append (store, actor, "consent.set", "booking", booking_id,
           detail, error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_get_consent (MedStore *store, gint64 booking_id, gint64 party_id,
    gboolean *given, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT given FROM consent WHERE booking_id = ?1 AND party_id = ?2",
      error);
  int rc;

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, booking_id);
  store_bind_int64 (st, 2, party_id);
  rc = store_step (st);
  if (rc != STORE_ROW && rc != STORE_DONE) {
    store_set_error (store, "reading consent", error);
    return FALSE;
  }
  *given = rc == STORE_ROW && store_column_int (st, 0) != 0;
  return TRUE;
}

gboolean
med_store_consent_complete (MedStore *store, gint64 booking_id,
    guint *n_missing, GError **error)
{
  g_autoptr (StoreStmt) st = store_stmt (store,
      "SELECT count(*) FROM booking b JOIN party p ON p.case_id = b.case_id "
      "LEFT JOIN consent c ON c.booking_id = b.id AND c.party_id = p.id "
      "WHERE b.id = ?1 AND p.removed_at = 0 AND coalesce(c.given, 0) = 0",
      error);
  int rc;

  if (st == NULL)
    return FALSE;
  store_bind_int64 (st, 1, booking_id);
  rc = store_step (st);
  if (rc != STORE_ROW) {
    store_set_error (store, "checking consent", error);
    return FALSE;
  }
  *n_missing = store_column_int (st, 0);
  return TRUE;
}

gboolean
med_store_recording_access (MedStore *store, gint64 recording_id,
    const char *what, const char *actor, GError **error)
{
  StoreTxn txn;
  gboolean ok;
  g_autofree char *action = g_strdup_printf ("recording.%s", what);

  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  ok = audit_recording (store, actor, action, recording_id, NULL, NULL, error)
      && store_txn_commit (&txn, error);
  store_txn_end (&txn);
  return ok;
}

gboolean
med_store_set_retention (MedStore *store, MedCaseKind kind, gint days,
    const char *actor, GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  StoreTxn txn;
  gboolean ok = FALSE;

  if (days < 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "retention days must not be negative");
    return FALSE;
  }
  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "INSERT INTO retention (case_kind, days) VALUES (?1, ?2) "
      "ON CONFLICT (case_kind) DO UPDATE SET days = excluded.days",
      error);
  if (st == NULL)
    goto out;
  store_bind_text (st, 1, med_case_kind_to_string (kind));
  store_bind_int (st, 2, days);
  ok = store_step_done (store, st, "setting retention", error)
      && store_audit_append (store, actor, "retention.set", "retention", days,
          NULL, error)
      && store_txn_commit (&txn, error);
out:
  store_txn_end (&txn);
  return ok;
}

/* Deletes the files of one recording directory that a recording wrote:
 * segments, the final file, the manifest, the HLS output and our control
 * files. Nothing else is touched. */
static void
delete_recording_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d != NULL) {
    while ((name = g_dir_read_name (d)) != NULL) {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
        delete_recording_files (path);
        g_rmdir (path);
      } else if (g_str_has_suffix (name, ".mkv")
          || g_str_has_suffix (name, ".jsonl") || g_str_has_suffix (name, ".ts")
          || g_str_has_suffix (name, ".m3u8")
          || g_str_has_suffix (name, ".pid")) {
        g_unlink (path);
      }
    }
  }
  g_rmdir (dir);
}

gboolean
med_store_purge_recordings (MedStore *store, const char *actor, guint *n_purged,
    GError **error)
{
  g_autoptr (StoreStmt) st = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  StoreTxn txn;
  int rc;
  gboolean ok = FALSE;

  *n_purged = 0;
  if (!store_check_actor (actor, error)
      || !store_txn_begin (store, &txn, error))
    return FALSE;
  st = store_stmt (store,
      "SELECT r.id, r.dir FROM recording r JOIN booking b ON b.id = "
      "r.booking_id JOIN mcase c ON c.id = b.case_id LEFT JOIN retention t "
      "ON t.case_kind = c.kind WHERE r.state IN ('sealed', 'stopped', "
      "'failed') AND r.created_at + coalesce(t.days, 1825) * 86400 <= ?1 "
      "ORDER BY r.id",
      error);
  if (st == NULL)
    goto out;
  store_bind_int64 (st, 1, store_now (store));
  while ((rc = store_step (st)) == STORE_ROW) {
    g_ptr_array_add (ids,
        g_memdup2 (&(gint64){ store_column_int64 (st, 0) }, sizeof (gint64)));
    g_ptr_array_add (dirs, store_column_text (st, 1));
  }
  if (rc != STORE_DONE) {
    store_set_error (store, "finding recordings past retention", error);
    goto out;
  }
  g_clear_pointer (&st, store_stmt_release);
  for (guint i = 0; i < ids->len; i++) {
    gint64 id = *(gint64 *) ids->pdata[i];
    g_autoptr (StoreStmt) up = store_stmt (store,
        "UPDATE recording SET state = 'purged', updated_at = ?2 WHERE id = ?1",
        error);

    if (up == NULL)
      goto out;
    store_bind_int64 (up, 1, id);
    store_bind_int64 (up, 2, store_now (store));
    if (!store_step_done (store, up, "purging a recording", error)
        || !audit_recording (store, actor, "recording.purge", id, NULL, NULL,
            error))
      goto out;
  }
  if (!store_txn_commit (&txn, error))
    goto out;
  /* Files go only once the rows say so. */
  for (guint i = 0; i < dirs->len; i++)
    delete_recording_files (dirs->pdata[i]);
  *n_purged = ids->len;
  ok = TRUE;
out:
  store_txn_end (&txn);
  return ok;
}
