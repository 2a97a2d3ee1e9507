/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-store-backup.c — copies of the store and putting one back: online
 * backups with SQLite's backup API (while serve keeps writing), a
 * directory of timestamped backups of which the newest N are kept, each
 * with its audit anchor, and a restore that checks a copy before it
 * replaces the database.
 *
 * A backup is one consistent snapshot: the copy runs in one read
 * transaction of the source (WAL: writers carry on; they only keep the
 * checkpoint from passing the snapshot). It is written beside its final
 * name, checked with PRAGMA integrity_check, made self-contained (rollback
 * journal, no -wal beside it), fsynced, and then linked into place: a
 * backup file is whole or absent, and an existing file is never replaced.
 * The audit head of the copy goes into FILE.anchor.
 *
 * A restore copies the backup beside the target, opens that copy as a
 * store (migrating an older one), and refuses unless it passes the
 * integrity and overlap check (med_store_check), the audit chain and, when
 * there is one, its anchor. Only then is the target replaced, by rename,
 * after making sure nobody has it open (an exclusive lock; serve must be
 * stopped); the replaced file stays beside it. */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

#include <glib/gstdio.h>
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A busy source (a writer checkpointing) is retried this many times. */
#define BACKUP_TRIES    100
#define BACKUP_PAUSE_MS 50

/* Sets error from a connection that is not a MedStore's. */
static void
raw_set_error (sqlite3 *db, const char *path, int rc, const char *what,
    GError **error)
{
  MedStore tmp = { 0 };

  tmp.drv = &store_sqlite_driver;
  tmp.conn = db;
  tmp.path = (char *) path;
  store_sqlite_record_error (&tmp, rc);
  store_set_error (&tmp, what, error);
  g_free (tmp.err_msg);
}

/* Backups copy a SQLite file; a PostgreSQL store is PostgreSQL's to back
 * up (pg_basebackup, pg_dump). */
static gboolean
check_sqlite (MedStore *store, GError **error)
{
  if (store_sqlite_handle (store) != NULL)
    return TRUE;
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
      "medsched backs up SQLite stores; back up a PostgreSQL database with "
      "its own tools (pg_basebackup, pg_dump), or copy it to a file with "
      "medsched store copy");
  return FALSE;
}

static void
io_error (GError **error, int err, const char *what, const char *path)
{
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FAILED, "%s %s: %s",
      what, path, g_strerror (err));
}

static gboolean
fsync_path (const char *path, gboolean dir, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
  int err;

  if (fd < 0) {
    io_error (error, errno, "opening", path);
    return FALSE;
  }
  if (fsync (fd) != 0) {
    err = errno;
    close (fd);
    io_error (error, err, "syncing", path);
    return FALSE;
  }
  close (fd);
  return TRUE;
}

static gboolean
fsync_dir_of (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);

  return fsync_path (dir, TRUE, error);
}

/* A new empty file beside path: path.TAG-XXXXXX. (transfer full) */
static char *
make_temp_beside (const char *path, const char *tag, GError **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s.%s-XXXXXX", path, tag);
  int fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0600);

  if (fd < 0) {
    io_error (error, errno, "creating a file beside", path);
    return NULL;
  }
  close (fd);
  return g_steal_pointer (&tmp);
}

static gboolean
exec_raw (sqlite3 *db, const char *path, const char *sql, const char *what,
    GError **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc == SQLITE_OK)
    return TRUE;
  raw_set_error (db, path, rc, what, error);
  return FALSE;
}

/* A one-row, one-text-column query. (transfer full) */
static char *
query_text (sqlite3 *db, const char *path, const char *sql, const char *what,
    GError **error)
{
  sqlite3_stmt *st = NULL;
  char *out = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    out = g_strdup (sqlite3_column_text (st, 0)
            ? (const char *) sqlite3_column_text (st, 0)
            : "");
  else
    raw_set_error (db, path, rc, what, error);
  sqlite3_finalize (st);
  return out;
}

/* The audit head of a database that is not open as a MedStore. */
static gboolean
raw_audit_head (sqlite3 *db, const char *path, MedAuditAnchor *anchor,
    GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  anchor->id = 0;
  memset (anchor->hash, '0', 64);
  anchor->hash[64] = '\0';
  rc = sqlite3_prepare_v2 (db,
      "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (st);
  if (rc == SQLITE_ROW) {
    anchor->id = sqlite3_column_int64 (st, 0);
    g_strlcpy (anchor->hash,
        sqlite3_column_text (st, 1) ? (const char *) sqlite3_column_text (st, 1)
                                    : "",
        sizeof anchor->hash);
  }
  sqlite3_finalize (st);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return TRUE;
  raw_set_error (db, path, rc, "reading the copy's audit log", error);
  return FALSE;
}

/* Copies database src (schema main) into the file dest_path (which exists,
 * empty): one snapshot, then a rollback journal, checked, its audit head
 * in *anchor (may be NULL), fsynced. */
static gboolean
copy_database (sqlite3 *src, const char *dest_path, MedAuditAnchor *anchor,
    GError **error)
{
  sqlite3 *dst = NULL;
  sqlite3_backup *b;
  g_autofree char *mode = NULL, *check = NULL;
  gboolean ok = FALSE;
  int rc;

  rc = sqlite3_open_v2 (dest_path, &dst,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    raw_set_error (dst, dest_path, rc, "opening the copy", error);
    goto out;
  }
  b = sqlite3_backup_init (dst, "main", src, "main");
  if (b == NULL) {
    raw_set_error (dst, dest_path, sqlite3_errcode (dst), "starting the copy",
        error);
    goto out;
  }
  /* all pages in one step: one read transaction, one snapshot */
  for (guint i = 0; i < BACKUP_TRIES; i++) {
    rc = sqlite3_backup_step (b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
      break;
    sqlite3_sleep (BACKUP_PAUSE_MS);
  }
  sqlite3_backup_finish (b);
  if (rc != SQLITE_DONE) {
    raw_set_error (dst, dest_path, rc, "copying the store", error);
    goto out;
  }
  if ((mode = query_text (dst, dest_path, "PRAGMA journal_mode = DELETE",
           "making the copy self-contained", error))
          == NULL
      || (check = query_text (dst, dest_path, "PRAGMA integrity_check",
              "checking the copy", error))
          == NULL)
    goto out;
  if (strcmp (check, "ok") != 0) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT,
        "the copy fails the integrity check: %s", check);
    goto out;
  }
  if (anchor != NULL && !raw_audit_head (dst, dest_path, anchor, error))
    goto out;
  rc = sqlite3_close (dst);
  dst = NULL;
  if (rc != SQLITE_OK) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FAILED,
        "closing the copy: %s", sqlite3_errstr (rc));
    goto out;
  }
  ok = fsync_path (dest_path, FALSE, error);

out:
  if (dst != NULL)
    sqlite3_close (dst);
  return ok;
}

/* Writes text to path: beside, fsynced, renamed over. */
static gboolean
write_file_durably (const char *path, const char *text, GError **error)
{
  g_autofree char *tmp = make_temp_beside (path, "tmp", error);
  g_autoptr (GError) local = NULL;

  if (tmp == NULL)
    return FALSE;
  if (!g_file_set_contents_full (tmp, text, -1,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
          &local)) {
    g_unlink (tmp);
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FAILED, "%s",
        local->message);
    return FALSE;
  }
  if (g_rename (tmp, path) != 0) {
    io_error (error, errno, "renaming into", path);
    g_unlink (tmp);
    return FALSE;
  }
  return TRUE;
}

gboolean
med_store_backup (MedStore *store, const char *dest, MedAuditAnchor *anchor,
    GError **error)
{
  g_autofree char *tmp = NULL, *anchor_path = NULL, *anchor_text = NULL;
  MedAuditAnchor head;

  g_return_val_if_fail (store != NULL && dest != NULL, FALSE);

  if (!check_sqlite (store, error))
    return FALSE;
  if (g_file_test (dest, G_FILE_TEST_EXISTS)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "%s exists; a backup never replaces a file", dest);
    return FALSE;
  }
  if ((tmp = make_temp_beside (dest, "part", error)) == NULL)
    return FALSE;
  if (!copy_database (store_sqlite_handle (store), tmp, &head, error))
    goto fail;
  anchor_path = g_strconcat (dest, ".anchor", NULL);
  anchor_text = med_audit_anchor_file_text (&head, "of the backup beside it");
  if (!write_file_durably (anchor_path, anchor_text, error))
    goto fail;
  /* link, not rename: never over a file that appeared meanwhile */
  if (link (tmp, dest) != 0) {
    io_error (error, errno, "linking the backup as", dest);
    g_unlink (anchor_path);
    goto fail;
  }
  g_unlink (tmp);
  if (!fsync_dir_of (dest, error))
    return FALSE;
  if (anchor != NULL)
    *anchor = head;
  return TRUE;

fail:
  store_remove_db_files (tmp);
  return FALSE;
}

/* ---- a directory of backups -------------------------------------------- */

/* STEM-YYYYMMDDTHHMMSSZ[-N].db: the time and N of one of our backups. */
static gboolean
parse_backup_name (const char *name, const char *stem, char stamp[17], guint *n)
{
  gsize sl = strlen (stem);
  const char *p = name + sl + 1;
  guint64 v = 0;

  if (strncmp (name, stem, sl) != 0 || name[sl] != '-' || strlen (p) < 19)
    return FALSE;
  for (guint i = 0; i < 16; i++) {
    gboolean digit_place = i != 8 && i != 15;

    if (digit_place ? !g_ascii_isdigit (p[i]) : p[i] != (i == 8 ? 'T' : 'Z'))
      return FALSE;
  }
  memcpy (stamp, p, 16);
  stamp[16] = '\0';
  p += 16;
  *n = 0;
  if (*p == '-') {
    const char *dot = strchr (p, '.');

    if (dot == NULL || dot == p + 1) {
      return FALSE;
    } else {
      g_autofree char *num = g_strndup (p + 1, dot - p - 1);

      if (!g_ascii_string_to_unsigned (num, 10, 1, 999, &v, NULL))
        return FALSE;
    }
    *n = (guint) v;
    p = dot;
  }
  return strcmp (p, ".db") == 0;
}

typedef struct
{
  char *name;
  char stamp[17];
  guint n;
} BackupName;

static void
backup_name_free (gpointer p)
{
  BackupName *b = p;

  g_free (b->name);
  g_free (b);
}

static gint
compare_backup_names (gconstpointer a, gconstpointer b)
{
  const BackupName *x = *(BackupName *const *) a;
  const BackupName *y = *(BackupName *const *) b;
  int c = strcmp (x->stamp, y->stamp);

  if (c != 0)
    return c;
  return (x->n > y->n) - (x->n < y->n);
}

/* Our backups of stem in dir, oldest first. (transfer full) */
static GPtrArray *
list_backups (const char *dir, const char *stem, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) list = NULL;
  const char *name;

  if (d == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func (backup_name_free);
  while ((name = g_dir_read_name (d)) != NULL) {
    BackupName b = { 0 };

    if (parse_backup_name (name, stem, b.stamp, &b.n)) {
      b.name = g_strdup (name);
      g_ptr_array_add (list, g_memdup2 (&b, sizeof b));
    }
  }
  g_ptr_array_sort (list, compare_backup_names);
  return g_steal_pointer (&list);
}

/* The store file's name without ".db": the backups' stem. (transfer full) */
static char *
backup_stem (const char *store_path)
{
  g_autofree char *base = g_path_get_basename (store_path);

  if (g_str_has_suffix (base, ".db") && strlen (base) > 3)
    base[strlen (base) - 3] = '\0';
  return g_steal_pointer (&base);
}

gboolean
med_store_backup_to_dir (MedStore *store, const char *dir, MedTime now,
    guint keep, char **out_path, MedAuditAnchor *anchor, guint *n_removed,
    GError **error)
{
  g_autofree char *stem = NULL, *stamp = NULL, *path = NULL;
  g_autoptr (GDateTime) t = NULL;
  g_autoptr (GPtrArray) list = NULL;
  guint removed = 0;

  g_return_val_if_fail (store != NULL && dir != NULL, FALSE);

  if (!check_sqlite (store, error))
    return FALSE;
  if (n_removed != NULL)
    *n_removed = 0;
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "%s is not a directory", dir);
    return FALSE;
  }
  stem = backup_stem (store->path);
  t = g_date_time_new_from_unix_utc (now);
  if (t == NULL) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "invalid time for the backup's name");
    return FALSE;
  }
  stamp = g_date_time_format (t, "%Y%m%dT%H%M%SZ");
  /* a second backup within the same second: -N after the last one, so
   * that names keep sorting in the order they were taken */
  if ((list = list_backups (dir, stem, error)) == NULL)
    return FALSE;
  {
    guint n = 0;
    g_autofree char *name = NULL;

    for (guint i = 0; i < list->len; i++) {
      BackupName *b = g_ptr_array_index (list, i);

      if (strcmp (b->stamp, stamp) == 0)
        n = MAX (n, b->n + 1);
    }
    if (n > 999) {
      g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
          "too many backups within one second");
      return FALSE;
    }
    name = n == 0 ? g_strdup_printf ("%s-%s.db", stem, stamp)
                  : g_strdup_printf ("%s-%s-%u.db", stem, stamp, n);
    path = g_build_filename (dir, name, NULL);
  }
  if (!med_store_backup (store, path, anchor, error))
    return FALSE;
  if (keep > 0) {
    g_autofree char *base = g_path_get_basename (path);

    g_ptr_array_unref (list);
    if ((list = list_backups (dir, stem, error)) == NULL)
      return FALSE;
    for (guint i = 0; i + keep < list->len; i++) {
      BackupName *b = g_ptr_array_index (list, i);
      g_autofree char *old = g_build_filename (dir, b->name, NULL);
      g_autofree char *old_anchor = g_strconcat (old, ".anchor", NULL);

      if (strcmp (b->name, base) == 0)
        continue; /* the one just taken, whatever the clock says */
      if (g_unlink (old) != 0) {
        io_error (error, errno, "removing the old backup", old);
        return FALSE;
      }
      g_unlink (old_anchor);
      removed++;
    }
    if (removed > 0 && !fsync_path (dir, TRUE, error))
      return FALSE;
  }
  if (n_removed != NULL)
    *n_removed = removed;
  if (out_path != NULL)
    *out_path = g_steal_pointer (&path);
  return TRUE;
}

/* ---- restore ----------------------------------------------------------- */

/* Opens the copy as a store and checks it; *rows gets the audit rows. */
static gboolean
check_copy (const char *path, const MedAuditAnchor *anchor, gint64 *rows,
    GError **error)
{
  g_autoptr (MedStore) copy = med_store_open (path, error);

  if (copy == NULL || !med_store_check (copy, error))
    return FALSE;
  if (anchor != NULL)
    return med_store_audit_verify_anchor (copy, anchor, rows, error);
  return med_store_audit_verify (copy, rows, NULL, error);
}

/* Takes target for ourselves: nobody else may have it open (serve, a CLI
 * command), its WAL is folded in and removed. The returned connection
 * holds an exclusive lock until it is closed. */
static sqlite3 *
lock_target (const char *target, GError **error)
{
  sqlite3 *db = NULL;
  g_autofree char *mode = NULL, *wal = NULL;
  int rc;

  /* ours, not a foreign file: med_store_open_existing tells */
  {
    g_autoptr (MedStore) probe = med_store_open_existing (target, error);

    if (probe == NULL) {
      g_prefix_error (error, "refusing to replace %s: ", target);
      return NULL;
    }
  }
  rc = sqlite3_open_v2 (target, &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    raw_set_error (db, target, rc, "opening the database to replace", error);
    sqlite3_close (db);
    return NULL;
  }
  if (!exec_raw (db, target, "PRAGMA locking_mode = EXCLUSIVE",
          "locking the database to replace", error))
    goto fail;
  /* leaving WAL needs every other connection gone */
  mode = query_text (db, target, "PRAGMA journal_mode = DELETE",
      "locking the database to replace", NULL);
  if (g_strcmp0 (mode, "delete") != 0
      || !exec_raw (db, target, "BEGIN EXCLUSIVE; COMMIT",
          "locking the database to replace", NULL)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_BUSY,
        "%s is in use (stop medsched serve, and any other medsched command "
        "on it, first); nothing was changed",
        target);
    goto fail;
  }
  wal = g_strconcat (target, "-wal", NULL);
  if (g_file_test (wal, G_FILE_TEST_EXISTS)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_BUSY,
        "%s still has a write-ahead log beside it; nothing was changed",
        target);
    goto fail;
  }
  return db;

fail:
  sqlite3_close (db);
  return NULL;
}

static gboolean
same_file (const char *a, const char *b)
{
  GStatBuf x, y;

  return g_stat (a, &x) == 0 && g_stat (b, &y) == 0 && x.st_dev == y.st_dev
      && x.st_ino == y.st_ino;
}

gboolean
med_store_restore (const char *backup, const char *target,
    const MedAuditAnchor *anchor, MedTime now, MedStoreRestore *out,
    GError **error)
{
  g_autofree char *tmp = NULL, *anchor_path = NULL, *kept = NULL;
  g_autofree char *anchor_text = NULL;
  MedAuditAnchor file_anchor;
  sqlite3 *src = NULL, *locked = NULL;
  gint64 rows = 0;
  gboolean ok = FALSE;
  int rc;

  g_return_val_if_fail (backup != NULL && target != NULL, FALSE);

  if (!g_file_test (backup, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "%s: no such backup file", backup);
    return FALSE;
  }
  if (same_file (backup, target)) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID,
        "%s is the database itself", backup);
    return FALSE;
  }
  /* the anchor written with the backup, unless one is given */
  anchor_path = g_strconcat (backup, ".anchor", NULL);
  if (anchor == NULL && g_file_test (anchor_path, G_FILE_TEST_EXISTS)) {
    if (!g_file_get_contents (anchor_path, &anchor_text, NULL, error)
        || !med_audit_anchor_parse (anchor_text, &file_anchor, error)) {
      g_prefix_error (error, "%s: ", anchor_path);
      return FALSE;
    }
    anchor = &file_anchor;
  }

  if ((tmp = make_temp_beside (target, "restore", error)) == NULL)
    return FALSE;
  rc = sqlite3_open_v2 (backup, &src,
      SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    raw_set_error (src, backup, rc, "opening the backup", error);
    goto out;
  }
  if (!copy_database (src, tmp, NULL, error)) {
    g_prefix_error (error, "%s: ", backup);
    goto out;
  }
  sqlite3_close (src);
  src = NULL;
  if (!check_copy (tmp, anchor, &rows, error)) {
    g_prefix_error (error,
        "%s fails its checks, nothing was restored: ", backup);
    goto out;
  }
  if (!fsync_path (tmp, FALSE, error))
    goto out;

  if (g_file_test (target, G_FILE_TEST_EXISTS)) {
    g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (now);
    g_autofree char *stamp
        = t ? g_date_time_format (t, "%Y%m%dT%H%M%SZ") : g_strdup ("0");

    GStatBuf st;

    if ((locked = lock_target (target, error)) == NULL)
      goto out;
    /* the new file as the old one was: serve's user must open it */
    if (g_stat (target, &st) == 0) {
      if (chmod (tmp, st.st_mode & 07777) != 0
          || (chown (tmp, st.st_uid, st.st_gid) != 0 && errno != EPERM)) {
        io_error (error, errno, "giving the restored copy the owner of",
            target);
        goto out;
      }
    }
    for (guint n = 0; n < 1000; n++) {
      g_free (kept);
      kept = n == 0 ? g_strdup_printf ("%s.replaced-%s", target, stamp)
                    : g_strdup_printf ("%s.replaced-%s-%u", target, stamp, n);
      if (link (target, kept) == 0)
        break;
      if (errno != EEXIST || n == 999) {
        io_error (error, errno, "keeping the replaced database as", kept);
        g_clear_pointer (&kept, g_free);
        goto out;
      }
    }
  }
  if (g_rename (tmp, target) != 0) {
    io_error (error, errno, "renaming the restored copy to", target);
    if (kept != NULL)
      g_unlink (kept);
    goto out;
  }
  g_clear_pointer (&tmp, g_free);
  ok = fsync_dir_of (target, error);
  if (out != NULL) {
    out->audit_rows = rows;
    out->anchored = anchor != NULL;
    out->kept = g_steal_pointer (&kept);
  }

out:
  if (src != NULL)
    sqlite3_close (src);
  if (locked != NULL)
    sqlite3_close (locked);
  if (tmp != NULL)
    store_remove_db_files (tmp);
  return ok;
}
