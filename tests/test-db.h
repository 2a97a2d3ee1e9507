/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-db.h — where a C test's store lives, and raw SQL for what the store
 * itself never would do (tamper, forge, bypass its checks).
 *
 * By default a store is a SQLite file in the test's temporary directory.
 * Under tests/pg/pgserver.py (MEDSCHED_TEST_DB=postgresql,
 * MEDSCHED_TEST_PG = the URL of the throwaway server's postgres database)
 * it is a fresh PostgreSQL database per call, so the same test runs
 * against both drivers. Raw access goes through sqlite3 or libpq,
 * whichever the URL names. */
#pragma once

#include <glib.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

static inline gboolean
test_db_pg (void)
{
  return g_strcmp0 (g_getenv ("MEDSCHED_TEST_DB"), "postgresql") == 0;
}

static inline gboolean
test_db_url_is_pg (const char *url)
{
  return g_str_has_prefix (url, "postgresql://");
}

/* Runs one statement on the server's postgres database. */
static inline void
test_db_admin (const char *sql)
{
  const char *base = g_getenv ("MEDSCHED_TEST_PG");
  PGconn *c;
  PGresult *r;

  g_assert_nonnull (base);
  c = PQconnectdb (base);
  g_assert_cmpint (PQstatus (c), ==, CONNECTION_OK);
  r = PQexec (c, sql);
  if (PQresultStatus (r) != PGRES_COMMAND_OK)
    g_error ("%s: %s", sql, PQerrorMessage (c));
  PQclear (r);
  PQfinish (c);
}

/* A new, empty database: dir/name.db, or a fresh PostgreSQL database
 * (its URL). (transfer full) */
static inline char *
test_db_new (const char *dir, const char *name)
{
  static gint counter;
  const char *base;
  g_autofree char *db = NULL, *sql = NULL;
  const char *q;

  if (!test_db_pg ())
    return g_strdup_printf ("%s/%s.db", dir, name);
  base = g_getenv ("MEDSCHED_TEST_PG");
  g_assert_nonnull (base);
  db = g_strdup_printf ("t%d_%d_%u", (int) getpid (),
      g_atomic_int_add (&counter, 1), g_random_int ());
  sql = g_strdup_printf ("CREATE DATABASE %s", db);
  test_db_admin (sql);
  /* postgresql:///postgres?host=… → postgresql:///DB?host=… */
  q = strchr (base, '?');
  g_assert_nonnull (q);
  return g_strdup_printf ("postgresql:///%s%s", db, q);
}

/* ---- raw SQL -------------------------------------------------------- */

typedef struct
{
  sqlite3 *lite;
  PGconn *pg;
} RawDb;

enum
{
  RAW_OK,
  RAW_CONSTRAINT, /* a constraint, trigger or exclusion refused it */
  RAW_ERROR,
};

static inline RawDb *
raw_open (const char *url)
{
  RawDb *db = g_new0 (RawDb, 1);

  if (test_db_url_is_pg (url)) {
    db->pg = PQconnectdb (url);
    g_assert_cmpint (PQstatus (db->pg), ==, CONNECTION_OK);
    PQclear (PQexec (db->pg, "SET client_min_messages = error"));
  } else {
    g_assert_cmpint (sqlite3_open_v2 (url, &db->lite,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
        ==, SQLITE_OK);
    sqlite3_busy_timeout (db->lite, 5000);
  }
  return db;
}

static inline void
raw_close (RawDb *db)
{
  if (db->lite)
    sqlite3_close (db->lite);
  if (db->pg)
    PQfinish (db->pg);
  g_free (db);
}

static inline gboolean
raw_is_pg (RawDb *db)
{
  return db->pg != NULL;
}

/* Runs sql (several statements allowed); *message gets the error. */
static inline int
raw_exec (RawDb *db, const char *sql, char **message)
{
  if (db->lite) {
    char *err = NULL;
    int rc = sqlite3_exec (db->lite, sql, NULL, NULL, &err);

    if (message)
      *message = g_strdup (err ? err : "");
    sqlite3_free (err);
    if (rc == SQLITE_OK)
      return RAW_OK;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? RAW_CONSTRAINT : RAW_ERROR;
  } else {
    PGresult *r = PQexec (db->pg, sql);
    ExecStatusType st = PQresultStatus (r);
    const char *state = PQresultErrorField (r, PG_DIAG_SQLSTATE);
    int out;

    if (message)
      *message = g_strdup (PQresultErrorMessage (r));
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
      out = RAW_OK;
    else if (state
        && (g_str_has_prefix (state, "23") || strcmp (state, "P0001") == 0))
      out = RAW_CONSTRAINT;
    else
      out = RAW_ERROR;
    PQclear (r);
    return out;
  }
}

/* The first column of the first row of sql, as an integer. */
static inline gint64
raw_int (RawDb *db, const char *sql)
{
  gint64 v;

  if (db->lite) {
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db->lite, sql, -1, &st, NULL), ==,
        SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    v = sqlite3_column_int64 (st, 0);
    sqlite3_finalize (st);
  } else {
    PGresult *r = PQexec (db->pg, sql);

    if (PQresultStatus (r) != PGRES_TUPLES_OK || PQntuples (r) < 1)
      g_error ("%s: %s", sql, PQresultErrorMessage (r));
    v = g_ascii_strtoll (PQgetvalue (r, 0, 0), NULL, 10);
    PQclear (r);
  }
  return v;
}

/* The first column of the first row as text. (transfer full) */
static inline char *
raw_text (RawDb *db, const char *sql)
{
  char *v;

  if (db->lite) {
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db->lite, sql, -1, &st, NULL), ==,
        SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    v = g_strdup ((const char *) sqlite3_column_text (st, 0));
    sqlite3_finalize (st);
  } else {
    PGresult *r = PQexec (db->pg, sql);

    if (PQresultStatus (r) != PGRES_TUPLES_OK || PQntuples (r) < 1)
      g_error ("%s: %s", sql, PQresultErrorMessage (r));
    v = g_strdup (PQgetvalue (r, 0, 0));
    PQclear (r);
  }
  return v;
}
