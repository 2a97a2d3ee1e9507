/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-store.c — unit tests of the store: opening and migrating,
 * refusing newer, foreign and non-SQLite files, entity round trips with
 * Chinese and Tibetan text, the atomic booking and every overlap it must
 * refuse (also through the schema's triggers with raw SQL), rescheduling,
 * cancelling, case status changes, the hash-chained audit log, imports,
 * notices, the snapshot and concurrent writers; and what schema version 2
 * added: the upgrade of a version 1 file (tests/unit/store-v1.sql), the
 * iMIP outbox with its leases, back-off and ledger, attendees' replies,
 * imported busy time, join tokens, booking notes and e-mail addresses;
 * and a province in one store: two centres, every kind of row knowing its
 * centre, users, tokens, sessions, feed and join links resolving on their
 * own centre only, the schema's guard on users, and the migration that
 * gives existing users a centre.
 *
 * Each test gets its own temporary directory, removed afterwards, and
 * its own store: a SQLite file there, or under tests/pg/pgserver.py a
 * fresh PostgreSQL database (test-db.h), where the same tests run against
 * the PostgreSQL driver; tests of what only a file has (pragmas, garbage
 * files, the version 1 upgrade, backups) run on SQLite only, and their
 * PostgreSQL counterparts (the schema version row, exclusion constraints)
 * on PostgreSQL only. Raw SQL is used only to do what medsched itself
 * never would (tamper, forge versions, bypass the API). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include <medsched/med-store.h>
#include <med-store-write.h>

#include "../test-db.h"

#define ZONE "Asia/Shanghai"
#define ZERO64                                                                 \
  "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct
{
  char *dir;
  char *path;
  MedStore *store;
  gint64 centre;
  gint64 room1; /* 温馨调解室一: 15 min setup, 15 min cleanup */
  gint64 room2; /* 家事调解室: no buffers */
  gint64 room3; /* remote room, 10/10 */
  gint64 med1; /* Tibetan name, daily cap 2 */
  gint64 med2; /* 王芳, cap 4 */
  gint64 med3; /* on leave 2026-12-08 */
  gint64 interp;
  gint64 case1; /* shares a contact with case3 */
  gint64 case2;
  gint64 case3;
  gint64 case4;
} Fixture;

static MedTime
at (const char *local)
{
  g_autoptr (GError) error = NULL;
  MedTime t = 0;

  g_assert_true (med_time_parse_local (local, ZONE, &t, &error));
  g_assert_no_error (error);
  return t;
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *p = g_build_filename (dir, name, NULL);

    g_assert_cmpint (g_unlink (p), ==, 0);
  }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("medsched-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = test_db_new (f->dir, "store");
  f->store = med_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->store, med_store_close);
  remove_tree (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  return g_bytes_new_take (data, len);
}

/* ---- populating ------------------------------------------------------- */

static gint64
add_room (Fixture *f, const char *name, MedRoomKind kind, gint setup,
    gint cleanup)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedRoom) r = med_room_new ();
  gint64 id;

  r->centre_id = f->centre;
  r->name = g_strdup (name);
  r->kind = kind;
  r->capacity = 6;
  r->features = MED_ROOM_FEATURE_VIDEO;
  r->setup_minutes = setup;
  r->cleanup_minutes = cleanup;
  id = med_store_add_room (f->store, r, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static gint64
add_mediator (Fixture *f, const char *name, const char *langs, gint cap)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedMediator) m = med_mediator_new ();
  gint64 id;

  m->centre_id = f->centre;
  m->name = g_strdup (name);
  m->languages = g_strsplit (langs, ",", -1);
  m->specialties = (1u << MED_CASE_KIND_N) - 1;
  m->daily_cap = cap;
  id = med_store_add_mediator (f->store, m, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static MedParty *
party (const char *name, MedPartyRole role, const char *lang,
    const char *contact)
{
  MedParty *p = med_party_new ();

  p->name = g_strdup (name);
  p->role = role;
  p->language = g_strdup (lang);
  p->attendance = MED_ATTENDANCE_IN_PERSON;
  p->contact = g_strdup (contact);
  return p;
}

static MedCase *
new_case (Fixture *f, const char *number, MedCaseKind kind)
{
  MedCase *c = med_case_new ();

  c->centre_id = f->centre;
  c->number = g_strdup (number);
  c->kind = kind;
  c->status = MED_CASE_STATUS_DISPATCHED;
  c->department = MED_DEPARTMENT_COURT_MEDIATION;
  c->intake_at = at ("2026-12-01T10:00");
  c->summary = g_strdup ("拖欠工资三个月\nགླ་ཆ་མ་སྤྲད།");
  return c;
}

static gint64
add_case (Fixture *f, const char *number, const char *contact_a,
    const char *contact_b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) c = new_case (f, number, MED_CASE_KIND_WAGES);
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  gint64 id;

  g_ptr_array_add (parties,
      party ("扎西顿珠", MED_PARTY_ROLE_APPLICANT, "bo", contact_a));
  g_ptr_array_add (parties,
      party ("某建筑公司", MED_PARTY_ROLE_RESPONDENT, "zh", contact_b));
  id = med_store_add_case (f->store, c, parties, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static void
populate (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) c = med_centre_new_default ();
  g_autoptr (MedInterpreter) in = med_interpreter_new ();

  g_free (c->name);
  c->name = g_strdup ("城关区矛盾纠纷调处中心");
  f->centre = med_store_add_centre (f->store, c, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->centre, >, 0);

  f->room1 = add_room (f, "温馨调解室一", MED_ROOM_KIND_WARM, 15, 15);
  f->room2 = add_room (f, "家事调解室", MED_ROOM_KIND_FAMILY, 0, 0);
  f->room3 = add_room (f, "远程调解室", MED_ROOM_KIND_REMOTE, 10, 10);
  f->med1 = add_mediator (f, "བཀྲ་ཤིས་བདེ་ལེགས", "zh,bo", 2);
  f->med2 = add_mediator (f, "王芳", "zh", 4);
  f->med3 = add_mediator (f, "卓玛", "bo", 4);
  g_assert_true (med_store_add_leave (f->store, f->med3, at ("2026-12-08"),
      at ("2026-12-09"), "test", &error));
  g_assert_no_error (error);

  in->centre_id = f->centre;
  in->name = g_strdup ("次仁");
  in->pairs = g_strsplit ("zh:bo", ",", -1);
  f->interp = med_store_add_interpreter (f->store, in, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->interp, >, 0);

  f->case1 = add_case (f, "(2026)藏0102民调1号", "13800000001", "0891-1111");
  f->case2 = add_case (f, "(2026)藏0102民调2号", "13800000002", "0891-2222");
  f->case3 = add_case (f, "(2026)藏0102民调3号", "13800000001", "0891-3333");
  f->case4 = add_case (f, "(2026)藏0102民调4号", "", "");
}

static gint64
book (Fixture *f, gint64 kase, gint64 room, gint64 med, gint64 interp,
    const char *start, const char *end, GError **error)
{
  MedBooking b = { 0 };

  b.case_id = kase;
  b.room_id = room;
  b.mediator_id = med;
  b.interpreter_id = interp;
  b.start = at (start);
  b.end = at (end);
  b.mode = MED_BOOKING_MODE_IN_PERSON;
  return med_store_book (f->store, &b, "test", error);
}

static guint
n_bookings (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list
      = med_store_list_bookings (f->store, f->centre, 0, 0, TRUE, &error);

  g_assert_no_error (error);
  return list->len;
}

static guint
n_audit (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = med_store_list_audit (f->store, NULL, 0, &error);

  g_assert_no_error (error);
  return list->len;
}

static MedCaseStatus
case_status (Fixture *f, gint64 id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) c = med_store_get_case (f->store, id, &error);

  g_assert_no_error (error);
  return c->status;
}

/* ---- opening ---------------------------------------------------------- */

static void
test_open_fresh (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) c = NULL;
  RawDb *db = raw_open (f->path);

  g_assert_cmpint (raw_int (db,
                       "SELECT count(*) FROM medsched_meta WHERE "
                       "key = 'app' AND value = 'medsched'"),
      ==, 1);
  if (raw_is_pg (db)) {
    g_assert_cmpstr (med_store_kind (f->store), ==, "postgresql");
    g_assert_cmpint (raw_int (db,
                         "SELECT value::int FROM medsched_meta WHERE "
                         "key = 'schema_version'"),
        >=, 1);
    /* the schema's own guards: exclusion constraints and triggers */
    g_assert_cmpint (raw_int (db,
                         "SELECT count(*) FROM pg_constraint WHERE contype = "
                         "'x' AND conname IN ('booking_room_free', "
                         "'booking_mediator_free', 'booking_interpreter_free', "
                         "'booking_case_free', 'booking_party_free')"),
        ==, 5);
    g_assert_cmpint (raw_int (db,
                         "SELECT count(*) FROM pg_trigger WHERE tgname IN ("
                         "'booking_guard', 'booking_parties', "
                         "'party_bookings', 'audit_no_change', "
                         "'audit_no_truncate', 'outbox_ledger_no_change', "
                         "'outbox_ledger_no_truncate')"),
        ==, 7);
    g_assert_cmpint (raw_int (db,
                         "SELECT length(value) FROM medsched_meta "
                         "WHERE key = 'join_secret'"),
        ==, 64);
    raw_close (db);
  } else {
    g_assert_cmpstr (med_store_kind (f->store), ==, "sqlite");
    g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==,
        med_store_schema_version ());
    g_assert_cmpint (med_store_schema_version (), >=, 1);
    g_assert_cmpint (raw_int (db, "PRAGMA application_id"), ==, 0x4D454453);
    g_assert_cmpint (raw_int (db,
                         "SELECT count(*) FROM sqlite_master WHERE "
                         "type = 'trigger' AND name IN ("
                         "'booking_no_overlap_insert', "
                         "'booking_no_overlap_update', 'audit_no_update', "
                         "'audit_no_delete', 'outbox_ledger_no_update', "
                         "'outbox_ledger_no_delete')"),
        ==, 6);
    raw_close (db);
    db = raw_open (f->path);
    {
      g_autofree char *mode = raw_text (db, "PRAGMA journal_mode");

      g_assert_cmpstr (mode, ==, "wal");
    }
    raw_close (db);
  }

  c = med_store_get_centre (f->store, 1, &error);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_assert_null (c);
  g_assert_true (med_store_check (f->store, NULL));
}

static void
test_open_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  g_autoptr (MedStore) missing = NULL;
  g_autofree char *nowhere = g_build_filename (f->dir, "nope.db", NULL);
  gint64 n_rows = 0;

  populate (f);
  g_clear_pointer (&f->store, med_store_close);

  f->store = med_store_open_existing (f->path, &error);
  g_assert_no_error (error);
  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rooms->len, ==, 3);
  g_assert_cmpstr (((MedRoom *) rooms->pdata[0])->name, ==, "温馨调解室一");
  g_clear_pointer (&f->store, med_store_close);

  f->store = med_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (med_store_audit_verify (f->store, &n_rows, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_rows, ==, n_audit (f));
  g_assert_cmpint (n_rows, >, 10);

  if (test_db_pg ()) {
    /* a database that is not there: cannot connect */
    g_autofree char *gone = g_strdup (f->path);
    char *q = strchr (gone, '?');

    g_clear_pointer (&nowhere, g_free);
    *q = '\0';
    nowhere = g_strconcat (gone, "_gone", strchr (f->path, '?'), NULL);
    missing = med_store_open_existing (nowhere, &error);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_UNAVAILABLE);
    g_assert_null (missing);
    return;
  }
  missing = med_store_open_existing (nowhere, &error);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_OPEN);
  g_assert_null (missing);
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
}

static void
test_open_too_new (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) s = NULL;
  RawDb *db;

  g_clear_pointer (&f->store, med_store_close);
  db = raw_open (f->path);
  g_assert_cmpint (raw_exec (db,
                       raw_is_pg (db)
                           ? "UPDATE medsched_meta SET value = '99' WHERE key "
                             "= 'schema_version'"
                           : "PRAGMA user_version = 99",
                       NULL),
      ==, RAW_OK);
  raw_close (db);

  s = med_store_open (f->path, &error);
  g_assert_null (s);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "version 99 is newer"));
  g_assert_nonnull (strstr (error->message, "upgrade medsched"));
  g_clear_error (&error);
  s = med_store_open_existing (f->path, &error);
  g_assert_null (s);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_TOO_NEW);
}

static void
test_open_foreign (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) s = NULL;
  g_autofree char *path = test_db_new (f->dir, "other");
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  RawDb *db = raw_open (path);

  g_assert_cmpint (raw_exec (db,
                       "CREATE TABLE booking (id INTEGER, what "
                       "TEXT); INSERT INTO booking VALUES (1, 'x')",
                       NULL),
      ==, RAW_OK);
  raw_close (db);
  if (!test_db_pg ())
    before = read_file (path);

  s = med_store_open (path, &error);
  g_assert_null (s);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN);
  g_assert_nonnull (strstr (error->message, "not a medsched store"));
  g_clear_error (&error);
  s = med_store_open_existing (path, &error);
  g_assert_null (s);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN);
  if (test_db_pg ()) {
    /* untouched: still one table, no medsched_meta */
    db = raw_open (path);
    g_assert_cmpint (raw_int (db,
                         "SELECT count(*) FROM pg_tables WHERE schemaname = "
                         "current_schema()"),
        ==, 1);
    raw_close (db);
    return;
  }

  after = read_file (path);
  g_assert_true (g_bytes_equal (before, after));

  /* Another application's id is refused even with no tables. */
  g_clear_error (&error);
  g_clear_pointer (&path, g_free);
  path = g_build_filename (f->dir, "app.db", NULL);
  db = raw_open (path);
  g_assert_cmpint (raw_exec (db, "PRAGMA application_id = 42", NULL), ==,
      RAW_OK);
  raw_close (db);
  s = med_store_open (path, &error);
  g_assert_null (s);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN);
}

static void
test_open_garbage (Fixture *f, gconstpointer data)
{
  const char *const contents[] = {
    "not a database", "SQLite format 3", /* a truncated header */
  };

  for (guint i = 0; i < G_N_ELEMENTS (contents) + 1; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedStore) s = NULL;
    g_autoptr (GBytes) before = NULL;
    g_autoptr (GBytes) after = NULL;
    g_autofree char *path = g_strdup_printf ("%s/garbage-%u.db", f->dir, i);
    g_autoptr (GString) data_s = g_string_new (NULL);

    if (i < G_N_ELEMENTS (contents)) {
      g_string_append (data_s, contents[i]);
    } else {
      for (guint k = 0; k < 500; k++)
        g_string_append (data_s, "这不是数据库 not a database\n");
    }
    g_assert_true (g_file_set_contents (path, data_s->str, data_s->len, NULL));
    before = read_file (path);
    s = med_store_open (path, &error);
    g_assert_null (s);
    g_assert_nonnull (error);
    g_assert_true (
        g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_OPEN)
        || g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT));
    g_assert_nonnull (strstr (error->message, "not a database"));
    after = read_file (path);
    g_assert_true (g_bytes_equal (before, after));
  }
}

/* ---- entities --------------------------------------------------------- */

static void
test_entities_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  g_autoptr (GPtrArray) meds = NULL;
  g_autoptr (GPtrArray) interps = NULL;
  g_autoptr (GPtrArray) parties = NULL;
  g_autoptr (MedCase) kase = NULL;
  g_autoptr (MedCase) found = NULL;
  g_autoptr (MedMediator) m = NULL;
  g_autoptr (GPtrArray) cases = NULL;
  const char *tibetan_room = "བཀྲ་ཤིས་བདེ་ལེགས་གྲོས་མོལ་ཁང་།";
  const MedMediator *m1;

  populate (f);
  add_room (f, tibetan_room, MED_ROOM_KIND_WARM, 0, 5);

  c = med_store_get_centre (f->store, f->centre, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->name, ==, "城关区矛盾纠纷调处中心");
  g_assert_cmpstr (c->zone, ==, ZONE);
  g_assert_cmpint (c->hours[0].open_min, ==, 9 * 60);
  g_assert_cmpint (c->hours[0].lunch_end_min, ==, 14 * 60 + 30);
  g_assert_cmpint (c->hours[6].close_min, ==, 0);
  g_assert_cmpint (c->slot_minutes, ==, 15);
  g_assert_true (c->allow_fallback);

  /* Update round trip. */
  c->hours[5].open_min = 9 * 60;
  c->hours[5].close_min = 12 * 60;
  g_assert_true (med_store_update_centre (f->store, c, "test", &error));
  g_assert_no_error (error);
  g_clear_pointer (&c, med_centre_free);
  c = med_store_get_centre (f->store, f->centre, &error);
  g_assert_cmpint (c->hours[5].close_min, ==, 12 * 60);

  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rooms->len, ==, 4);
  g_assert_cmpstr (((MedRoom *) rooms->pdata[3])->name, ==, tibetan_room);
  g_assert_cmpint (((MedRoom *) rooms->pdata[0])->setup_minutes, ==, 15);
  g_assert_cmpint (((MedRoom *) rooms->pdata[1])->kind, ==,
      MED_ROOM_KIND_FAMILY);
  g_assert_cmpuint (((MedRoom *) rooms->pdata[2])->features, ==,
      MED_ROOM_FEATURE_VIDEO);

  meds = med_store_list_mediators (f->store, f->centre, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (meds->len, ==, 3);
  m1 = meds->pdata[0];
  g_assert_cmpstr (m1->name, ==, "བཀྲ་ཤིས་བདེ་ལེགས");
  g_assert_true (med_mediator_speaks (m1, "bo"));
  g_assert_true (med_mediator_speaks (m1, "zh"));
  g_assert_cmpint (m1->daily_cap, ==, 2);
  g_assert_cmpuint (((MedMediator *) meds->pdata[2])->leave->len, ==, 1);

  m = med_store_get_mediator (f->store, f->med3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (m->name, ==, "卓玛");
  g_assert_cmpint (g_array_index (m->leave, MedInterval, 0).start, ==,
      at ("2026-12-08"));

  interps = med_store_list_interpreters (f->store, f->centre, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (interps->len, ==, 1);
  g_assert_true (med_interpreter_covers (interps->pdata[0], "bo", "zh"));

  kase = med_store_get_case (f->store, f->case1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kase->number, ==, "(2026)藏0102民调1号");
  g_assert_cmpstr (kase->summary, ==, "拖欠工资三个月\nགླ་ཆ་མ་སྤྲད།");
  g_assert_cmpint (kase->status, ==, MED_CASE_STATUS_DISPATCHED);
  g_assert_cmpint (kase->department, ==, MED_DEPARTMENT_COURT_MEDIATION);
  g_assert_cmpint (kase->intake_at, ==, at ("2026-12-01T10:00"));

  found = med_store_find_case (f->store, f->centre, "(2026)藏0102民调3号",
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (found->id, ==, f->case3);

  parties = med_store_list_parties (f->store, f->case1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parties->len, ==, 2);
  g_assert_cmpstr (((MedParty *) parties->pdata[0])->name, ==, "扎西顿珠");
  g_assert_cmpstr (((MedParty *) parties->pdata[0])->language, ==, "bo");
  g_assert_cmpstr (((MedParty *) parties->pdata[0])->contact, ==,
      "13800000001");
  g_assert_cmpint (((MedParty *) parties->pdata[1])->role, ==,
      MED_PARTY_ROLE_RESPONDENT);

  cases = med_store_list_cases (f->store, f->centre, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cases->len, ==, 4);
  g_clear_pointer (&cases, g_ptr_array_unref);
  cases = med_store_list_cases (f->store, f->centre, MED_CASE_STATUS_SETTLED,
      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cases->len, ==, 0);
}

/* Every word of every enum the schema stores passes its CHECK. */
static void
test_entities_enum_words (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_autoptr (GPtrArray) stored = NULL;
  gint64 ids[MED_CASE_KIND_N];
  char name[64];

  populate (f);
  for (int k = 0; k < MED_ROOM_KIND_N; k++) {
    g_snprintf (name, sizeof name, "room kind %d", k);
    add_room (f, name, k, 0, 0);
  }
  for (int r = 0; r < MED_PARTY_ROLE_N; r++) {
    MedParty *p = party ("甲", r, "zh", "");

    p->attendance = r % MED_ATTENDANCE_N;
    g_ptr_array_add (parties, p);
  }
  for (int k = 0; k < MED_CASE_KIND_N; k++) {
    g_autoptr (MedCase) c = NULL;

    g_snprintf (name, sizeof name, "kind-%d", k);
    c = new_case (f, name, k);
    c->status = MED_CASE_STATUS_INTAKE;
    c->department = MED_DEPARTMENT_NONE;
    ids[k] = med_store_add_case (f->store, c, k == 0 ? parties : NULL, "test",
        &error);
    g_assert_no_error (error);
  }
  stored = med_store_list_parties (f->store, ids[0], &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, MED_PARTY_ROLE_N);
  for (int r = 0; r < MED_PARTY_ROLE_N; r++)
    g_assert_cmpint (((MedParty *) stored->pdata[r])->role, ==, r);

  /* Departments, and every status along the way. */
  for (int d = 1; d < MED_DEPARTMENT_N; d++) {
    g_assert_true (med_store_set_case_status (f->store, ids[d],
        MED_CASE_STATUS_DISPATCHED, d, "test", &error));
    g_assert_no_error (error);
  }
  for (int mode = 0; mode < MED_BOOKING_MODE_N; mode++) {
    MedBooking b = { 0 };
    g_autoptr (MedBooking) back = NULL;
    gint64 id;

    b.case_id = ids[1];
    b.room_id = f->room2;
    b.mediator_id = f->med2;
    b.start = at ("2026-12-07T09:00") + mode * 3600;
    b.end = b.start + 1800;
    b.mode = mode;
    id = med_store_book (f->store, &b, "test", &error);
    g_assert_no_error (error);
    back = med_store_get_booking (f->store, id, &error);
    g_assert_cmpint (back->mode, ==, mode);
  }
  g_assert_cmpint (case_status (f, ids[1]), ==, MED_CASE_STATUS_SCHEDULED);
  g_assert_true (med_store_set_case_status (f->store, ids[1],
      MED_CASE_STATUS_IN_SESSION, MED_DEPARTMENT_NONE, "test", &error));
  g_assert_true (med_store_set_case_status (f->store, ids[1],
      MED_CASE_STATUS_NOT_SETTLED, MED_DEPARTMENT_NONE, "test", &error));
  g_assert_true (med_store_set_case_status (f->store, ids[2],
      MED_CASE_STATUS_REFERRED, MED_DEPARTMENT_NONE, "test", &error));
  g_assert_true (med_store_set_case_status (f->store, ids[3],
      MED_CASE_STATUS_WITHDRAWN, MED_DEPARTMENT_NONE, "test", &error));
  g_assert_no_error (error);
  g_assert_cmpint (case_status (f, ids[1]), ==, MED_CASE_STATUS_NOT_SETTLED);
  g_assert_cmpint (case_status (f, ids[2]), ==, MED_CASE_STATUS_REFERRED);
  g_assert_cmpint (case_status (f, ids[3]), ==, MED_CASE_STATUS_WITHDRAWN);
  g_assert_true (med_store_check (f->store, &error));
}

static void
test_entities_invalid (Fixture *f, gconstpointer data)
{
  const char *const bad_names[] = {
    "", "tab\there", "\xff\xfe not utf-8",
    "a'); DROP TABLE room; --", /* valid: stored as text, harmless */
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  g_autofree char *long_name = g_strnfill (MED_MAX_NAME_BYTES + 1, 'x');
  guint audit_before;

  populate (f);
  audit_before = n_audit (f);
  for (guint i = 0; i < G_N_ELEMENTS (bad_names) + 1; i++) {
    g_autoptr (MedRoom) r = med_room_new ();
    gint64 id;

    r->centre_id = f->centre;
    r->name
        = g_strdup (i < G_N_ELEMENTS (bad_names) ? bad_names[i] : long_name);
    id = med_store_add_room (f->store, r, "test", &error);
    if (i == 3) {
      g_assert_no_error (error);
      g_assert_cmpint (id, >, 0);
      audit_before++;
    } else {
      g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
      g_assert_cmpint (id, ==, 0);
      g_clear_error (&error);
    }
  }
  /* Out-of-range numbers, a duplicate name, an unknown centre, bad
   * languages, a missing actor. */
  {
    g_autoptr (MedRoom) r = med_room_new ();

    r->centre_id = f->centre;
    r->name = g_strdup ("温馨调解室一");
    g_assert_cmpint (med_store_add_room (f->store, r, "test", &error), ==, 0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
    g_clear_error (&error);
    g_free (r->name);
    r->name = g_strdup ("新调解室");
    r->setup_minutes = 10000;
    g_assert_cmpint (med_store_add_room (f->store, r, "test", &error), ==, 0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
    r->setup_minutes = 0;
    r->centre_id = 999;
    g_assert_cmpint (med_store_add_room (f->store, r, "test", &error), ==, 0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
    r->centre_id = f->centre;
    g_assert_cmpint (med_store_add_room (f->store, r, NULL, &error), ==, 0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }
  {
    g_autoptr (MedMediator) m = med_mediator_new ();

    m->centre_id = f->centre;
    m->name = g_strdup ("李四");
    m->languages = g_strsplit ("zh,Tibetan", ",", -1);
    g_assert_cmpint (med_store_add_mediator (f->store, m, "test", &error), ==,
        0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }
  {
    g_autoptr (MedCase) c
        = new_case (f, "(2026)藏0102民调1号", MED_CASE_KIND_OTHER);

    /* Duplicate number. */
    g_assert_cmpint (med_store_add_case (f->store, c, NULL, "test", &error), ==,
        0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
    g_assert_nonnull (strstr (error->message, "(2026)藏0102民调1号"));
    g_clear_error (&error);
    /* A new case cannot start scheduled. */
    g_free (c->number);
    c->number = g_strdup ("(2026)藏0102民调99号");
    c->status = MED_CASE_STATUS_SCHEDULED;
    g_assert_cmpint (med_store_add_case (f->store, c, NULL, "test", &error), ==,
        0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_cmpuint (n_audit (f), ==, audit_before);
  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_cmpuint (rooms->len, ==, 4);
  g_assert_cmpstr (((MedRoom *) rooms->pdata[3])->name, ==, bad_names[3]);
}

/* ---- booking ---------------------------------------------------------- */

static void
test_booking_ok (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) b = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gint64 id, id2;
  MedBooking with_uid = { 0 };

  populate (f);
  id = book (f, f->case1, f->room1, f->med1, f->interp, "2026-12-07T09:00",
      "2026-12-07T10:00", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  b = med_store_get_booking (f->store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->case_id, ==, f->case1);
  g_assert_cmpint (b->interpreter_id, ==, f->interp);
  g_assert_cmpint (b->start, ==, at ("2026-12-07T09:00"));
  g_assert_cmpint (b->end, ==, at ("2026-12-07T10:00"));
  g_assert_cmpint (b->status, ==, MED_BOOKING_STATUS_CONFIRMED);
  g_assert_cmpint (b->sequence, ==, 0);
  g_assert_true (g_str_has_suffix (b->uid, "@medsched"));
  g_assert_cmpuint (strlen (b->uid), ==, 36 + strlen ("@medsched"));
  g_assert_cmpint (case_status (f, f->case1), ==, MED_CASE_STATUS_SCHEDULED);

  audit = med_store_list_audit (f->store, "booking", id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (audit->len, ==, 1);
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[0])->action, ==,
      "booking.create");
  g_assert_null (strstr (((MedAuditEntry *) audit->pdata[0])->detail, "扎西"));
  g_clear_pointer (&audit, g_ptr_array_unref);
  audit = med_store_list_audit (f->store, "case", f->case1, &error);
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[audit->len - 1])->action, ==,
      "case.status");

  /* A second session of the same, already scheduled case; a given UID. */
  with_uid.case_id = f->case1;
  with_uid.room_id = f->room2;
  with_uid.mediator_id = f->med1;
  with_uid.start = at ("2026-12-09T09:00");
  with_uid.end = at ("2026-12-09T10:30");
  with_uid.mode = MED_BOOKING_MODE_HYBRID;
  with_uid.uid = (char *) "fixed-uid@example.org";
  id2 = med_store_book (f->store, &with_uid, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id2, >, id);
  g_clear_pointer (&b, med_booking_free);
  b = med_store_get_booking (f->store, id2, &error);
  g_assert_cmpstr (b->uid, ==, "fixed-uid@example.org");
  g_assert_cmpint (b->mode, ==, MED_BOOKING_MODE_HYBRID);
  /* The same UID again is a conflict. */
  with_uid.start += 86400;
  with_uid.end += 86400;
  g_assert_cmpint (med_store_book (f->store, &with_uid, "test", &error), ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  list = med_store_list_case_bookings (f->store, f->case1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (med_store_case_last_mediator (f->store, f->case1, &error),
      ==, f->med1);
  g_assert_cmpint (med_store_case_last_mediator (f->store, f->case2, &error),
      ==, 0);
  g_assert_no_error (error);

  /* Bad times and unknown ids change nothing. */
  g_assert_cmpint (book (f, f->case2, f->room2, f->med2, 0, "2026-12-07T11:00",
                       "2026-12-07T11:00", &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (book (f, f->case2, 999, f->med2, 0, "2026-12-07T11:00",
                       "2026-12-07T12:00", &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (n_bookings (f), ==, 2);
  g_assert_cmpint (case_status (f, f->case2), ==, MED_CASE_STATUS_DISPATCHED);
}

/* A refused booking: CONFLICT whose message contains expect (and none of
 * the personal data), nothing written. */
static void
assert_refused (Fixture *f, gint64 kase, gint64 room, gint64 med, gint64 interp,
    const char *start, const char *end, const char *expect)
{
  g_autoptr (GError) error = NULL;
  guint bookings = n_bookings (f), audit = n_audit (f);
  MedCaseStatus status = case_status (f, kase);

  g_assert_cmpint (book (f, kase, room, med, interp, start, end, &error), ==,
      0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, expect));
  g_assert_null (strstr (error->message, "扎西"));
  g_assert_null (strstr (error->message, "138000"));
  g_assert_cmpuint (n_bookings (f), ==, bookings);
  g_assert_cmpuint (n_audit (f), ==, audit);
  g_assert_cmpint (case_status (f, kase), ==, status);
}

static void
booked_9_to_10 (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  populate (f);
  g_assert_cmpint (book (f, f->case1, f->room1, f->med1, f->interp,
                       "2026-12-07T09:00", "2026-12-07T10:00", &error),
      >, 0);
  g_assert_no_error (error);
}

static void
test_conflict_room (Fixture *f, gconstpointer data)
{
  booked_9_to_10 (f);
  assert_refused (f, f->case2, f->room1, f->med2, 0, "2026-12-07T09:30",
      "2026-12-07T10:30",
      "room 温馨调解室一 is already booked "
      "2026-12-07 09:00–10:00 (booking 1)");
  /* Containing and contained intervals too. */
  assert_refused (f, f->case2, f->room1, f->med2, 0, "2026-12-07T08:00",
      "2026-12-07T11:00", "room 温馨调解室一");
  assert_refused (f, f->case2, f->room1, f->med2, 0, "2026-12-07T09:15",
      "2026-12-07T09:45", "room 温馨调解室一");
}

static void
test_conflict_room_buffer (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  booked_9_to_10 (f);
  /* Sessions do not overlap but 15 min cleanup + 15 min setup do. */
  assert_refused (f, f->case2, f->room1, f->med2, 0, "2026-12-07T10:10",
      "2026-12-07T11:00", "cleanup");
  assert_refused (f, f->case2, f->room1, f->med2, 0, "2026-12-07T07:30",
      "2026-12-07T08:50", "room 温馨调解室一");
  /* Blocks that only touch are fine: 10:15 is the end of the first block
   * and the start of this one. */
  g_assert_cmpint (book (f, f->case2, f->room1, f->med2, 0, "2026-12-07T10:30",
                       "2026-12-07T11:00", &error),
      >, 0);
  g_assert_no_error (error);
}

static void
test_conflict_mediator (Fixture *f, gconstpointer data)
{
  booked_9_to_10 (f);
  assert_refused (f, f->case2, f->room2, f->med1, 0, "2026-12-07T09:30",
      "2026-12-07T10:30", "mediator བཀྲ་ཤིས་བདེ་ལེགས is already booked");
}

static void
test_conflict_interpreter (Fixture *f, gconstpointer data)
{
  booked_9_to_10 (f);
  assert_refused (f, f->case2, f->room2, f->med2, f->interp, "2026-12-07T09:59",
      "2026-12-07T10:30", "interpreter 次仁");
}

static void
test_conflict_case (Fixture *f, gconstpointer data)
{
  booked_9_to_10 (f);
  assert_refused (f, f->case1, f->room2, f->med2, 0, "2026-12-07T09:30",
      "2026-12-07T10:30", "case (2026)藏0102民调1号");
}

static void
test_conflict_party (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) busy = NULL;

  booked_9_to_10 (f);
  /* case3 shares the applicant's phone with case1. */
  assert_refused (f, f->case3, f->room2, f->med2, 0, "2026-12-07T09:30",
      "2026-12-07T10:30", "a party of case (2026)藏0102民调3号");
  /* case2 shares nobody: the same slot is fine. */
  g_assert_cmpint (book (f, f->case2, f->room2, f->med2, 0, "2026-12-07T09:30",
                       "2026-12-07T10:30", &error),
      >, 0);
  g_assert_no_error (error);

  busy = med_store_party_busy (f->store, f->case3, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (busy->len, ==, 1);
  g_assert_cmpint (g_array_index (busy, MedInterval, 0).start, ==,
      at ("2026-12-07T09:00"));
  g_clear_pointer (&busy, g_array_unref);
  busy = med_store_party_busy (f->store, f->case1, 1, &error);
  g_assert_cmpuint (busy->len, ==, 0);
}

static void
test_conflict_leave (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  populate (f);
  assert_refused (f, f->case2, f->room2, f->med3, 0, "2026-12-08T10:00",
      "2026-12-08T11:00", "mediator 卓玛 is on leave");
  g_assert_cmpint (book (f, f->case2, f->room2, f->med3, 0, "2026-12-09T10:00",
                       "2026-12-09T11:00", &error),
      >, 0);
  g_assert_no_error (error);
}

static void
test_conflict_daily_cap (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  booked_9_to_10 (f);
  g_assert_cmpint (book (f, f->case2, f->room2, f->med1, 0, "2026-12-07T11:00",
                       "2026-12-07T12:00", &error),
      >, 0);
  g_assert_no_error (error);
  assert_refused (f, f->case4, f->room3, f->med1, 0, "2026-12-07T15:00",
      "2026-12-07T16:00", "daily cap 2");
  /* 07:00 local on the 8th is still the 7th in UTC: the cap counts the
   * centre's local day. */
  g_assert_cmpint (book (f, f->case4, f->room3, f->med1, 0, "2026-12-08T07:00",
                       "2026-12-08T07:30", &error),
      >, 0);
  g_assert_no_error (error);
}

static void
test_booking_trigger (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RawDb *db;
  MedTime s = at ("2026-12-07T09:30"), e = at ("2026-12-07T10:30");
  /* Each raw row differs from a harmless one (case2, room2, med2, no
   * interpreter) in one resource that the 09:00–10:00 booking holds. */
  enum
  {
    RAW_ROOM,
    RAW_BLOCK,
    RAW_MEDIATOR,
    RAW_INTERPRETER,
    RAW_CASE
  };
  static const char *const expect_lite[] = { "booking overlap: room",
    "does not match room buffers", "booking overlap: mediator",
    "booking overlap: interpreter", "booking overlap: case" };
  /* PostgreSQL: the exclusion constraints, and the trigger for blocks */
  static const char *const expect_pg[] = { "booking_room_free",
    "does not match room buffers", "booking_mediator_free",
    "booking_interpreter_free", "booking_case_free" };
  const char *const *expect;

  booked_9_to_10 (f);
  db = raw_open (f->path);
  expect = raw_is_pg (db) ? expect_pg : expect_lite;
  if (!raw_is_pg (db))
    g_assert_cmpint (raw_exec (db, "PRAGMA foreign_keys = ON", NULL), ==,
        RAW_OK);
  for (guint i = 0; i < G_N_ELEMENTS (expect_lite); i++) {
    gint64 kase = i == RAW_CASE ? f->case1 : f->case2;
    gint64 room = i == RAW_ROOM || i == RAW_BLOCK ? f->room1 : f->room2;
    gint64 med = i == RAW_MEDIATOR ? f->med1 : f->med2;
    gint buffer = i == RAW_ROOM ? 15 * 60 : 0;
    g_autofree char *interp = i == RAW_INTERPRETER
        ? g_strdup_printf ("%" G_GINT64_FORMAT, f->interp)
        : g_strdup ("NULL");
    g_autofree char *sql = NULL;
    g_autofree char *msg = NULL;

    sql = g_strdup_printf (
        "INSERT INTO booking (case_id, room_id, "
        "mediator_id, interpreter_id, start_at, end_at, block_start, "
        "block_end, mode, status, uid, sequence, created_at, updated_at) "
        "VALUES (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
        ", %s, %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
        ", %" G_GINT64_FORMAT ", 'in-person', 'confirmed', 'raw-%u', 0, 0, 0)",
        kase, room, med, interp, s, e, s - buffer, e + buffer, i);
    g_assert_cmpint (raw_exec (db, sql, &msg), ==, RAW_CONSTRAINT);
    g_assert_nonnull (msg);
    g_assert_nonnull (strstr (msg, expect[i]));
  }
  /* A raw row that clashes with nothing goes in; moving it onto the
   * first booking by UPDATE is refused. */
  g_assert_cmpint (raw_exec (db,
                       "INSERT INTO booking (case_id, room_id, "
                       "mediator_id, start_at, end_at, block_start, "
                       "block_end, mode, status, uid, sequence, created_at, "
                       "updated_at) VALUES (2, 2, 2, 2000000000, 2000003600, "
                       "2000000000, 2000003600, 'in-person', 'confirmed', "
                       "'raw-ok', 0, 0, 0)",
                       NULL),
      ==, RAW_OK);
  g_assert_cmpint (f->case2, ==, 2);
  g_assert_cmpint (f->room2, ==, 2);
  g_assert_cmpint (f->med2, ==, 2);
  {
    g_autofree char *sql = g_strdup_printf ("UPDATE booking SET mediator_id "
                                            "= %" G_GINT64_FORMAT
                                            ", start_at = %" G_GINT64_FORMAT
                                            ", end_at = %" G_GINT64_FORMAT
                                            ", block_start = %" G_GINT64_FORMAT
                                            ", block_end = %" G_GINT64_FORMAT
                                            " WHERE uid = 'raw-ok'",
        f->med1, s, e, s, e);
    g_autofree char *msg = NULL;

    g_assert_cmpint (raw_exec (db, sql, &msg), ==, RAW_CONSTRAINT);
    g_assert_nonnull (strstr (msg,
        raw_is_pg (db) ? "booking_mediator_free"
                       : "booking overlap: mediator"));
  }
  if (raw_is_pg (db)) {
    /* The same person in another case: case3 shares a contact with
     * case1, which is booked 09:00–10:00 (room3, med3: free). */
    g_autofree char *sql = g_strdup_printf (
        "INSERT INTO booking (case_id, room_id, "
        "mediator_id, start_at, end_at, block_start, block_end, mode, "
        "status, uid, sequence, created_at, updated_at) VALUES (%" G_GINT64_FORMAT
        ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
        ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
        ", 'remote', 'confirmed', 'raw-party', 0, 0, 0)",
        f->case3, f->room2, f->med2, s + 3600, e + 3600, s + 3600, e + 3600);
    g_autofree char *sql2
        = g_strdup_printf ("UPDATE booking SET start_at = %" G_GINT64_FORMAT
                           ", end_at = %" G_GINT64_FORMAT
                           ", block_start = %" G_GINT64_FORMAT
                           ", block_end = %" G_GINT64_FORMAT
                           " WHERE uid = 'raw-party'",
            s, e, s, e);
    g_autofree char *msg = NULL;

    /* clear of everyone at 10:30–11:30 … */
    g_assert_cmpint (raw_exec (db, sql, &msg), ==, RAW_OK);
    g_clear_pointer (&msg, g_free);
    /* … refused when moved onto the other case's session */
    g_assert_cmpint (raw_exec (db, sql2, &msg), ==, RAW_CONSTRAINT);
    g_assert_nonnull (strstr (msg, "booking_party_free"));
    g_assert_cmpint (raw_exec (db,
                         "DELETE FROM booking WHERE uid = 'raw-party'", NULL),
        ==, RAW_OK);
  }
  raw_close (db);
  g_assert_cmpuint (n_bookings (f), ==, 2);
  g_assert_true (med_store_check (f->store, &error));
  g_assert_no_error (error);
}

static void
test_booking_reschedule (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) before = NULL;
  g_autoptr (MedBooking) after = NULL;
  g_autoptr (MedBooking) after2 = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  MedBooking to = { 0 };
  gint64 other;

  booked_9_to_10 (f);
  other = book (f, f->case2, f->room2, f->med2, 0, "2026-12-07T14:30",
      "2026-12-07T15:30", &error);
  g_assert_no_error (error);
  before = med_store_get_booking (f->store, 1, &error);

  /* Overlapping its own old slot is fine: it excludes itself. */
  to.start = at ("2026-12-07T09:30");
  to.end = at ("2026-12-07T10:30");
  to.interpreter_id = f->interp;
  to.mode = MED_BOOKING_MODE_REMOTE;
  g_assert_true (med_store_reschedule (f->store, 1, &to, "test", &error));
  g_assert_no_error (error);
  after = med_store_get_booking (f->store, 1, &error);
  g_assert_cmpstr (after->uid, ==, before->uid);
  g_assert_cmpint (after->sequence, ==, before->sequence + 1);
  g_assert_cmpint (after->start, ==, to.start);
  g_assert_cmpint (after->room_id, ==, f->room1);
  g_assert_cmpint (after->mode, ==, MED_BOOKING_MODE_REMOTE);

  /* Onto the other booking's mediator: refused, unchanged. */
  to.mediator_id = f->med2;
  to.start = at ("2026-12-07T15:00");
  to.end = at ("2026-12-07T16:00");
  g_assert_false (med_store_reschedule (f->store, 1, &to, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "mediator 王芳"));
  g_clear_error (&error);
  after2 = med_store_get_booking (f->store, 1, &error);
  g_assert_cmpint (after2->sequence, ==, after->sequence);
  g_assert_cmpint (after2->start, ==, after->start);
  g_assert_cmpint (after2->mediator_id, ==, f->med1);

  audit = med_store_list_audit (f->store, "booking", 1, &error);
  g_assert_cmpuint (audit->len, ==, 2);
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[1])->action, ==,
      "booking.reschedule");
  g_assert_cmpint (other, >, 0);
}

static void
test_booking_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) b = NULL;
  g_autoptr (GPtrArray) confirmed = NULL;
  MedBooking to = { 0 };
  gint64 second;

  booked_9_to_10 (f);
  second = book (f, f->case1, f->room2, f->med2, 0, "2026-12-09T09:00",
      "2026-12-09T10:00", &error);
  g_assert_no_error (error);

  /* One of two cancelled: the case stays scheduled. */
  g_assert_true (med_store_cancel (f->store, second, "test", &error));
  g_assert_no_error (error);
  g_assert_cmpint (case_status (f, f->case1), ==, MED_CASE_STATUS_SCHEDULED);
  b = med_store_get_booking (f->store, second, &error);
  g_assert_cmpint (b->status, ==, MED_BOOKING_STATUS_CANCELLED);
  g_assert_cmpint (b->sequence, ==, 1);

  /* The last one: back to dispatched. */
  g_assert_true (med_store_cancel (f->store, 1, "test", &error));
  g_assert_no_error (error);
  g_assert_cmpint (case_status (f, f->case1), ==, MED_CASE_STATUS_DISPATCHED);

  /* Cancelled is final. */
  g_assert_false (med_store_cancel (f->store, 1, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  to.start = at ("2026-12-10T09:00");
  to.end = at ("2026-12-10T10:00");
  g_assert_false (med_store_reschedule (f->store, 1, &to, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (med_store_cancel (f->store, 12345, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The freed slot is free for another case. */
  g_assert_cmpint (book (f, f->case2, f->room1, f->med1, f->interp,
                       "2026-12-07T09:00", "2026-12-07T10:00", &error),
      >, 0);
  g_assert_no_error (error);
  confirmed
      = med_store_list_bookings (f->store, f->centre, 0, 0, FALSE, &error);
  g_assert_cmpuint (confirmed->len, ==, 1);
  g_assert_cmpuint (n_bookings (f), ==, 3);
  g_assert_true (med_store_check (f->store, &error));
}

/* ---- cases, audit ----------------------------------------------------- */

static void
test_case_status (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  g_autoptr (MedCase) c = NULL;
  guint before;
  gint64 id;
  guint n_cases = 0, n_settled = 0, n_same = 0;

  populate (f);
  c = new_case (f, "(2026)藏0102民调50号", MED_CASE_KIND_NEIGHBOUR);
  c->status = MED_CASE_STATUS_INTAKE;
  c->department = MED_DEPARTMENT_NONE;
  c->intake_at = at ("2026-12-07T08:30");
  id = med_store_add_case (f->store, c, NULL, "clerk:wang", &error);
  g_assert_no_error (error);
  g_assert_cmpint (case_status (f, id), ==, MED_CASE_STATUS_INTAKE);

  before = n_audit (f);
  /* Invalid: intake → settled; dispatch without department; booking a
   * case still at intake. */
  g_assert_false (med_store_set_case_status (f->store, id,
      MED_CASE_STATUS_SETTLED, MED_DEPARTMENT_NONE, "clerk:wang", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "intake"));
  g_clear_error (&error);
  g_assert_false (med_store_set_case_status (f->store, id,
      MED_CASE_STATUS_DISPATCHED, MED_DEPARTMENT_NONE, "clerk:wang", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (book (f, id, f->room2, f->med2, 0, "2026-12-07T09:00",
                       "2026-12-07T10:00", &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (n_audit (f), ==, before);
  g_assert_cmpint (case_status (f, id), ==, MED_CASE_STATUS_INTAKE);

  /* Valid: intake → dispatched → (book) scheduled → in-session →
   * settled, all on the intake day. */
  med_store_set_now (f->store, at ("2026-12-07T08:40"));
  g_assert_true (
      med_store_set_case_status (f->store, id, MED_CASE_STATUS_DISPATCHED,
          MED_DEPARTMENT_LEGAL_AID, "clerk:wang", &error));
  g_assert_no_error (error);
  g_assert_cmpint (book (f, id, f->room2, f->med2, 0, "2026-12-07T09:00",
                       "2026-12-07T10:00", &error),
      >, 0);
  g_assert_true (med_store_set_case_status (f->store, id,
      MED_CASE_STATUS_IN_SESSION, MED_DEPARTMENT_NONE, "mediator", &error));
  med_store_set_now (f->store, at ("2026-12-07T10:05"));
  g_assert_true (med_store_set_case_status (f->store, id,
      MED_CASE_STATUS_SETTLED, MED_DEPARTMENT_NONE, "mediator", &error));
  g_assert_no_error (error);
  g_clear_pointer (&c, med_case_free);
  c = med_store_get_case (f->store, id, &error);
  g_assert_cmpint (c->status, ==, MED_CASE_STATUS_SETTLED);
  g_assert_cmpint (c->department, ==, MED_DEPARTMENT_LEGAL_AID);

  /* Closed stays closed. */
  g_assert_false (med_store_set_case_status (f->store, id,
      MED_CASE_STATUS_DISPATCHED, MED_DEPARTMENT_POLICE, "x", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);

  audit = med_store_list_audit (f->store, "case", id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (audit->len, ==, 5); /* add + 4 status changes */
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[0])->action, ==, "case.add");
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[1])->actor, ==,
      "clerk:wang");
  g_assert_nonnull (strstr (((MedAuditEntry *) audit->pdata[1])->detail,
      "\"to\":\"dispatched\""));
  g_assert_nonnull (strstr (((MedAuditEntry *) audit->pdata[4])->detail,
      "\"to\":\"settled\""));
  g_assert_cmpint (((MedAuditEntry *) audit->pdata[4])->at, ==,
      at ("2026-12-07T10:05"));

  /* Case 1 (intake 12-01) settled on 12-08 is not same-day. */
  med_store_set_now (f->store, at ("2026-12-08T10:00"));
  g_assert_cmpint (book (f, f->case1, f->room1, f->med1, 0, "2026-12-08T09:00",
                       "2026-12-08T10:00", &error),
      >, 0);
  g_assert_true (med_store_set_case_status (f->store, f->case1,
      MED_CASE_STATUS_IN_SESSION, MED_DEPARTMENT_NONE, "m", &error));
  g_assert_true (med_store_set_case_status (f->store, f->case1,
      MED_CASE_STATUS_SETTLED, MED_DEPARTMENT_NONE, "m", &error));
  g_assert_no_error (error);
  g_assert_true (med_store_same_day_report (f->store, f->centre, 0, 0, &n_cases,
      &n_settled, &n_same, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_cases, ==, 5);
  g_assert_cmpuint (n_settled, ==, 2);
  g_assert_cmpuint (n_same, ==, 1);
  g_assert_true (
      med_store_same_day_report (f->store, f->centre, at ("2026-12-07"),
          at ("2026-12-08"), &n_cases, &n_settled, &n_same, &error));
  g_assert_cmpuint (n_cases, ==, 1);
  g_assert_cmpuint (n_same, ==, 1);
}

static void
test_audit_tamper (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *msg = NULL;
  gint64 n_rows = 0, bad = -1;
  RawDb *db;

  booked_9_to_10 (f);
  g_assert_true (med_store_audit_verify (f->store, &n_rows, &bad, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_rows, ==, n_audit (f));
  g_assert_cmpint (bad, ==, 0);

  db = raw_open (f->path);
  /* The triggers refuse edits and deletions. */
  g_assert_cmpint (raw_exec (db, "UPDATE audit SET actor = 'x' WHERE id = 3",
                       &msg),
      ==, RAW_CONSTRAINT);
  g_assert_nonnull (strstr (msg, "append-only"));
  g_assert_cmpint (raw_exec (db, "DELETE FROM audit WHERE id = 3", NULL), ==,
      RAW_CONSTRAINT);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));

  /* Past the triggers, the chain names the edited row. */
  g_assert_cmpint (raw_exec (db,
                       raw_is_pg (db)
                           ? "ALTER TABLE audit DISABLE TRIGGER "
                             "audit_no_change; UPDATE audit SET detail = "
                             "'{\"tampered\":1}' WHERE id = 3"
                           : "DROP TRIGGER audit_no_update; UPDATE "
                             "audit SET detail = '{\"tampered\":1}' WHERE "
                             "id = 3",
                       NULL),
      ==, RAW_OK);
  g_assert_false (med_store_audit_verify (f->store, &n_rows, &bad, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT);
  g_assert_cmpint (bad, ==, 3);
  g_assert_cmpint (n_rows, ==, 3);
  g_assert_nonnull (strstr (error->message, "row 3"));
  g_clear_error (&error);

  /* Deleting a row breaks the chain at the next one. */
  g_assert_cmpint (raw_exec (db,
                       raw_is_pg (db) ? "DELETE FROM audit WHERE id <= 3"
                                      : "DROP TRIGGER audit_no_delete; "
                                        "DELETE FROM audit WHERE id <= 3",
                       NULL),
      ==, RAW_OK);
  g_assert_false (med_store_audit_verify (f->store, NULL, &bad, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT);
  g_assert_cmpint (bad, ==, 4);
  raw_close (db);
}

/* ---- imports, notices, snapshot --------------------------------------- */

static void
test_import_doc (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  g_autoptr (GPtrArray) meds = NULL;
  MedImportDoc doc = { 0 };
  MedRoom *r = med_room_new ();
  MedMediator *m = med_mediator_new ();
  MedInterpreter *in = med_interpreter_new ();
  GPtrArray *ps
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  guint audit_before, n_rooms = 0, n_meds = 0, n_interps = 0, n_cases = 0;

  populate (f);
  audit_before = n_audit (f);
  doc.rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  doc.mediators
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_mediator_free);
  doc.interpreters
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_interpreter_free);
  doc.cases = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  doc.case_parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  r->name = g_strdup ("温馨调解室二");
  g_ptr_array_add (doc.rooms, r);
  m->name = g_strdup ("ཚེ་རིང་");
  m->languages = g_strsplit ("bo,zh", ",", -1);
  m->leave = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  g_array_append_val (m->leave,
      ((MedInterval){ at ("2026-12-10"), at ("2026-12-11") }));
  g_ptr_array_add (doc.mediators, m);
  in->name = g_strdup ("央金");
  in->pairs = g_strsplit ("bo:zh", ",", -1);
  g_ptr_array_add (doc.interpreters, in);
  g_ptr_array_add (ps, party ("格桑", MED_PARTY_ROLE_APPLICANT, "bo", ""));
  g_ptr_array_add (doc.cases,
      new_case (f, "(2026)藏0102民调7号", MED_CASE_KIND_LAND));
  g_ptr_array_add (doc.case_parties, ps);
  g_ptr_array_add (doc.cases,
      new_case (f, "(2026)藏0102民调7号", MED_CASE_KIND_LAND));
  g_ptr_array_add (doc.case_parties, g_ptr_array_new ());

  /* The second case repeats the first one's number: nothing at all. */
  g_assert_false (med_store_import_doc (f->store, f->centre, &doc, "import",
      &n_rooms, &n_meds, &n_interps, &n_cases, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "(2026)藏0102民调7号"));
  g_clear_error (&error);
  g_assert_cmpuint (n_audit (f), ==, audit_before);
  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_cmpuint (rooms->len, ==, 3);
  meds = med_store_list_mediators (f->store, f->centre, &error);
  g_assert_cmpuint (meds->len, ==, 3);
  g_assert_cmpuint (n_rooms, ==, 0);

  /* A number already in the store is refused the same way. */
  g_free (((MedCase *) doc.cases->pdata[1])->number);
  ((MedCase *) doc.cases->pdata[1])->number = g_strdup ("(2026)藏0102民调2号");
  g_assert_false (med_store_import_doc (f->store, f->centre, &doc, "import",
      NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_cmpuint (n_audit (f), ==, audit_before);

  /* Inside an explicit transaction too, a failed import leaves nothing
   * while the transaction's earlier work stays. */
  g_assert_true (med_store_begin (f->store, &error));
  add_room (f, "事务内调解室", MED_ROOM_KIND_WARM, 0, 0);
  g_assert_false (med_store_import_doc (f->store, f->centre, &doc, "import",
      NULL, NULL, NULL, NULL, &error));
  g_clear_error (&error);
  g_assert_true (med_store_commit (f->store, &error));
  g_clear_pointer (&rooms, g_ptr_array_unref);
  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_cmpuint (rooms->len, ==, 4);

  g_free (((MedCase *) doc.cases->pdata[1])->number);
  ((MedCase *) doc.cases->pdata[1])->number = g_strdup ("(2026)藏0102民调8号");
  g_assert_true (med_store_import_doc (f->store, f->centre, &doc, "import",
      &n_rooms, &n_meds, &n_interps, &n_cases, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_rooms, ==, 1);
  g_assert_cmpuint (n_meds, ==, 1);
  g_assert_cmpuint (n_interps, ==, 1);
  g_assert_cmpuint (n_cases, ==, 2);
  g_clear_pointer (&meds, g_ptr_array_unref);
  meds = med_store_list_mediators (f->store, f->centre, &error);
  g_assert_cmpuint (meds->len, ==, 4);
  g_assert_cmpstr (((MedMediator *) meds->pdata[3])->name, ==, "ཚེ་རིང་");
  g_assert_cmpuint (((MedMediator *) meds->pdata[3])->leave->len, ==, 1);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));

  g_ptr_array_unref (doc.rooms);
  g_ptr_array_unref (doc.mediators);
  g_ptr_array_unref (doc.interpreters);
  g_ptr_array_unref (doc.cases);
  g_ptr_array_unref (doc.case_parties);
}

static MedNotice *
notice (const char *id, gint year)
{
  MedNotice *n = med_notice_new ();

  g_free (n->id);
  n->id = g_strdup (id);
  g_free (n->jurisdiction);
  n->jurisdiction = g_strdup ("CN");
  n->layer = MED_LAYER_NATIONAL;
  n->year = year;
  g_free (n->title);
  n->title = g_strdup ("国务院办公厅关于2026年部分节假日安排的通知");
  g_free (n->source);
  n->source = g_strdup ("国办发明电〔2025〕7号");
  g_free (n->published);
  n->published = g_strdup ("2025-11-04");
  return n;
}

static void
test_notice_import (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedNotice) n = notice ("CN-2026", 2026);
  g_autoptr (MedNotice) again = notice ("CN-2026", 2026);
  g_autoptr (MedNotice) bad = notice ("CN-2026", 2026);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (MedWorkcal) wc = NULL;
  MedDayInfo info;

  med_notice_add_day (n, 2026, 1, 1, MED_DAY_KIND_HOLIDAY, "元旦");
  med_notice_add_day (n, 2026, 1, 4, MED_DAY_KIND_WORKDAY, "元旦调休");
  g_assert_true (med_store_import_notice (f->store, n, "test", &error));
  g_assert_no_error (error);

  list = med_store_list_notices (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((MedNotice *) list->pdata[0])->title, ==, n->title);
  g_assert_cmpuint (((MedNotice *) list->pdata[0])->days->len, ==, 0);

  wc = med_store_load_workcal (f->store, &error);
  g_assert_no_error (error);
  g_assert_true (med_workcal_is_published (wc, "CN", 2026));
  g_assert_false (med_workcal_is_published (wc, "CN", 2027));
  g_assert_true (med_workcal_day_info (wc, "CN", 2026, 1, 1, &info, &error));
  g_assert_true (info.holiday);
  g_assert_cmpstr (info.name, ==, "元旦");
  g_assert_true (med_workcal_day_info (wc, "CN", 2026, 1, 4, &info, &error));
  g_assert_true (info.working);
  g_clear_pointer (&wc, med_workcal_free);

  /* Same id again replaces the days. */
  med_notice_add_day (again, 2026, 10, 1, MED_DAY_KIND_HOLIDAY, "国庆节");
  g_assert_true (med_store_import_notice (f->store, again, "test", &error));
  g_assert_no_error (error);
  wc = med_store_load_workcal (f->store, &error);
  g_assert_true (med_workcal_day_info (wc, "CN", 2026, 1, 1, &info, &error));
  g_assert_false (info.holiday);
  g_assert_true (med_workcal_day_info (wc, "CN", 2026, 10, 1, &info, &error));
  g_assert_true (info.holiday);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = med_store_list_notices (f->store, &error);
  g_assert_cmpuint (list->len, ==, 1);

  /* An impossible date is refused and changes nothing. */
  med_notice_add_day (bad, 2026, 2, 30, MED_DAY_KIND_HOLIDAY, "x");
  g_assert_false (med_store_import_notice (f->store, bad, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_clear_pointer (&wc, med_workcal_free);
  wc = med_store_load_workcal (f->store, &error);
  g_assert_true (med_workcal_day_info (wc, "CN", 2026, 10, 1, &info, &error));
  g_assert_true (info.holiday);
  g_assert_no_error (error);
}

static void
test_snapshot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStoreSnapshot) s = NULL;
  g_autoptr (MedNotice) n = notice ("CN-2026", 2026);
  const MedBusy *busy;
  gint64 cancelled;

  booked_9_to_10 (f);
  med_notice_add_day (n, 2026, 12, 25, MED_DAY_KIND_HOLIDAY, "测试");
  g_assert_true (med_store_import_notice (f->store, n, "test", &error));
  cancelled = book (f, f->case2, f->room2, f->med2, 0, "2026-12-07T11:00",
      "2026-12-07T12:00", &error);
  g_assert_true (med_store_cancel (f->store, cancelled, "test", &error));
  /* Outside the window. */
  g_assert_cmpint (book (f, f->case4, f->room2, f->med2, 0, "2026-12-20T11:00",
                       "2026-12-20T12:00", &error),
      >, 0);
  g_assert_no_error (error);

  s = med_store_load_snapshot (f->store, f->centre, at ("2026-12-07"),
      at ("2026-12-09"), &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);
  g_assert_true (s->snap.centre == s->centre);
  g_assert_true (s->snap.workcal == s->workcal);
  g_assert_true (med_workcal_is_published (s->workcal, "CN", 2026));
  g_assert_cmpuint (s->snap.rooms->len, ==, 3);
  g_assert_cmpuint (s->snap.mediators->len, ==, 3);
  g_assert_cmpuint (((MedMediator *) s->snap.mediators->pdata[2])->leave->len,
      ==, 1);
  g_assert_cmpuint (((MedMediator *) s->snap.mediators->pdata[0])->leave->len,
      ==, 0);
  g_assert_cmpuint (s->snap.interpreters->len, ==, 1);
  g_assert_cmpuint (s->snap.bookings->len, ==, 1);
  busy = &g_array_index (s->snap.bookings, MedBusy, 0);
  g_assert_cmpint (busy->start, ==, at ("2026-12-07T09:00")); /* not block */
  g_assert_cmpint (busy->end, ==, at ("2026-12-07T10:00"));
  g_assert_cmpint (busy->room_id, ==, f->room1);
  g_assert_cmpint (busy->interpreter_id, ==, f->interp);
  g_assert_cmpint (busy->case_id, ==, f->case1);
  g_clear_pointer (&s, med_store_snapshot_free);

  s = med_store_load_snapshot (f->store, 999, 0, 0, &error);
  g_assert_null (s);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
}

static void
test_transaction (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  guint audit;

  populate (f);
  audit = n_audit (f);
  g_assert_true (med_store_begin (f->store, &error));
  add_room (f, "临时一", MED_ROOM_KIND_WARM, 0, 0);
  g_assert_cmpint (book (f, f->case1, f->room1, f->med1, 0, "2026-12-07T09:00",
                       "2026-12-07T10:00", &error),
      >, 0);
  /* A refused booking inside leaves the transaction usable. */
  g_assert_cmpint (book (f, f->case2, f->room1, f->med2, 0, "2026-12-07T09:00",
                       "2026-12-07T10:00", &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  med_store_rollback (f->store);
  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_cmpuint (rooms->len, ==, 3);
  g_assert_cmpuint (n_bookings (f), ==, 0);
  g_assert_cmpuint (n_audit (f), ==, audit);
  g_assert_cmpint (case_status (f, f->case1), ==, MED_CASE_STATUS_DISPATCHED);

  g_assert_true (med_store_begin (f->store, &error));
  add_room (f, "临时二", MED_ROOM_KIND_WARM, 0, 0);
  g_assert_cmpint (book (f, f->case1, f->room1, f->med1, 0, "2026-12-07T09:00",
                       "2026-12-07T10:00", &error),
      >, 0);
  g_assert_true (med_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_clear_pointer (&rooms, g_ptr_array_unref);
  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_cmpuint (rooms->len, ==, 4);
  g_assert_cmpuint (n_bookings (f), ==, 1);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
}

/* ---- concurrent writers ----------------------------------------------- */

#define N_SLOTS 24

typedef struct
{
  const char *path;
  gint64 kase;
  gint64 room;
  gint64 mediator;
  MedTime first;
  gint *ready;
  gboolean backwards;
  guint won;
  guint lost;
  guint failed;
  gint64 ids[N_SLOTS];
} Writer;

static gpointer
writer_run (gpointer data)
{
  Writer *w = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = med_store_open (w->path, &error);

  g_assert_no_error (error);
  g_atomic_int_inc (w->ready);
  while (g_atomic_int_get (w->ready) < 2)
    g_thread_yield ();
  /* One writer goes forwards, the other backwards: they meet and race
   * for the same slots in the middle. */
  for (guint k = 0; k < N_SLOTS; k++) {
    g_autoptr (GError) err = NULL;
    MedBooking b = { 0 };
    guint i = w->backwards ? N_SLOTS - 1 - k : k;

    b.case_id = w->kase;
    b.room_id = w->room;
    b.mediator_id = w->mediator;
    b.start = w->first + i * 3600;
    b.end = b.start + 1800;
    w->ids[i] = med_store_book (store, &b, "thread", &err);
    if (w->ids[i] > 0)
      w->won++;
    else if (g_error_matches (err, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT))
      w->lost++;
    else
      w->failed++;
    /* Back-to-back transactions starve SQLite's sleeping busy handler;
     * a pause, as between real requests, lets the writers interleave. */
    g_usleep (2000);
  }
  return NULL;
}

static void
test_concurrent_writers (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gint ready = 0;
  Writer w[2] = { { 0 } };
  GThread *threads[2];
  gint64 mediator;

  populate (f);
  mediator = add_mediator (f, "次旦", "zh,bo", N_SLOTS);
  for (guint k = 0; k < 2; k++) {
    w[k].path = f->path;
    w[k].kase = k == 0 ? f->case2 : f->case4;
    w[k].room = f->room1; /* 15 + 15 min buffers: blocks touch, no more */
    w[k].mediator = mediator;
    w[k].first = at ("2026-12-07T00:30");
    w[k].ready = &ready;
    w[k].backwards = k == 1;
  }
  for (guint k = 0; k < 2; k++)
    threads[k] = g_thread_new ("writer", writer_run, &w[k]);
  for (guint k = 0; k < 2; k++)
    g_thread_join (threads[k]);

  g_test_message ("writer 0 won %u, writer 1 won %u", w[0].won, w[1].won);
  g_assert_cmpuint (w[0].failed + w[1].failed, ==, 0);
  g_assert_cmpuint (w[0].won + w[1].won, ==, N_SLOTS);
  g_assert_cmpuint (w[0].lost + w[1].lost, ==, N_SLOTS);
  for (guint i = 0; i < N_SLOTS; i++)
    g_assert_true ((w[0].ids[i] > 0) != (w[1].ids[i] > 0));

  list = med_store_list_bookings (f->store, f->centre, 0, 0, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, N_SLOTS);
  g_assert_true (med_store_check (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* ---- the check ------------------------------------------------------------ */

static void
test_check_finds_overlap (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RawDb *db;

  booked_9_to_10 (f);
  g_assert_true (med_store_check (f->store, &error));
  db = raw_open (f->path);
  g_assert_cmpint (raw_exec (db,
                       raw_is_pg (db)
                           ? "ALTER TABLE booking DROP CONSTRAINT "
                             "booking_room_free; "
                           : "DROP TRIGGER booking_no_overlap_insert; ",
                       NULL),
      ==, RAW_OK);
  g_assert_cmpint (raw_exec (db,
                       "INSERT INTO booking (case_id, room_id, mediator_id, "
                       "start_at, end_at, block_start, block_end, mode, "
                       "status, uid, sequence, created_at, updated_at) "
                       "SELECT 2, room_id, 2, start_at, end_at, block_start, "
                       "block_end, mode, status, 'forged', 0, 0, 0 FROM "
                       "booking WHERE id = 1",
                       NULL),
      ==, RAW_OK);
  raw_close (db);
  g_assert_false (med_store_check (f->store, &error));
  if (test_db_pg ()) {
    g_autofree char *msg = NULL;

    /* the missing guard is named, … */
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "booking_room_free"));
    /* … and cannot come back while the forged row overlaps */
    db = raw_open (f->path);
    g_assert_cmpint (raw_exec (db,
                         "ALTER TABLE booking ADD CONSTRAINT "
                         "booking_room_free EXCLUDE USING gist (room_id WITH "
                         "=, med_span(block_start, block_end) WITH &&) WHERE "
                         "(status = 'confirmed')",
                         &msg),
        ==, RAW_CONSTRAINT);
    g_assert_nonnull (strstr (msg, "exclusion constraint"));
    raw_close (db);
    return;
  }
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "room"));
}

/* ---- schema version 2: invites, outbox, replies, busy time ----------------- */

/* A store written before migration 2 (tests/unit/store-v1.sql) opens,
 * migrates to the current version and keeps every row: bookings with
 * their UID and SEQUENCE, parties' contacts, the audit chain. */
static void
test_migrate_v1 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *path = g_build_filename (f->dir, "v1.db", NULL);
  g_autofree char *dump
      = g_test_build_filename (G_TEST_DIST, "unit", "store-v1.sql", NULL);
  g_autoptr (MedStore) s = NULL;
  g_autoptr (MedBooking) b1 = NULL;
  g_autoptr (MedBooking) b2 = NULL;
  g_autoptr (MedBookingExtra) x = NULL;
  g_autoptr (GPtrArray) parties = NULL;
  g_autofree char *url = NULL;
  g_autofree char *email = NULL;
  gint64 rows = 0, audit_before;
  RawDb *db;

  g_assert_true (g_file_get_contents (dump, &sql, NULL, &error));
  g_assert_no_error (error);
  db = raw_open (path);
  g_assert_cmpint (raw_exec (db, sql, NULL), ==, RAW_OK);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 1);
  audit_before = raw_int (db, "SELECT count(*) FROM audit");
  raw_close (db);

  /* Read-only opening refuses to touch an old schema. */
  s = med_store_open_existing (path, &error);
  g_assert_null (s);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FAILED);
  g_clear_error (&error);

  s = med_store_open (path, &error);
  g_assert_no_error (error);
  db = raw_open (path);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==,
      med_store_schema_version ());
  g_assert_cmpint (raw_int (db,
                       "SELECT length(value) FROM medsched_meta "
                       "WHERE key = 'join_secret'"),
      ==, 64);
  raw_close (db);

  b1 = med_store_get_booking (s, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b1->sequence, ==, 1);
  g_assert_cmpint (b1->status, ==, MED_BOOKING_STATUS_CONFIRMED);
  g_assert_cmpint (b1->start, ==, at ("2026-12-09T10:00"));
  g_assert_true (g_str_has_suffix (b1->uid, "@medsched"));
  b2 = med_store_get_booking (s, 2, &error);
  g_assert_cmpint (b2->status, ==, MED_BOOKING_STATUS_CANCELLED);
  g_assert_cmpint (b2->sequence, ==, 1);
  x = med_store_get_booking_extra (s, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (x->note, ==, "");
  g_assert_cmpint (x->created_at, ==, at ("2026-12-07T08:00"));
  parties = med_store_list_parties (s, 1, &error);
  g_assert_cmpuint (parties->len, ==, 2);
  g_assert_cmpstr (((MedParty *) parties->pdata[0])->name, ==, "བསོད་ནམས་རྡོ་རྗེ");
  g_assert_cmpstr (((MedParty *) parties->pdata[0])->contact, ==,
      "sonam@example.org");
  url = med_store_get_public_url (s, 1, &error);
  g_assert_cmpstr (url, ==, "https://medsched.invalid");
  email = med_store_get_email (s, MED_STORE_PERSON_MEDIATOR, 1, &error);
  g_assert_cmpstr (email, ==, "");
  g_assert_no_error (error);

  g_assert_true (med_store_audit_verify (s, &rows, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rows, ==, audit_before);
  g_assert_true (med_store_check (s, &error));
  g_assert_no_error (error);

  /* The migrated store takes the new things. */
  g_assert_true (
      med_store_set_booking_note (s, 1, "请带身份证", "test", &error));
  g_assert_no_error (error);
  g_clear_pointer (&s, med_store_close);
  s = med_store_open_existing (path, &error);
  g_assert_no_error (error);
  g_clear_pointer (&x, med_booking_extra_free);
  x = med_store_get_booking_extra (s, 1, &error);
  g_assert_cmpstr (x->note, ==, "请带身份证");
}

static MedOutboxMessage
outbox_msg (gint64 booking, const char *addr, const char *method, gint seq,
    const char *text)
{
  MedOutboxMessage m = { 0 };

  m.booking_id = booking;
  m.recipient_name = (char *) "扎西顿珠";
  m.recipient_addr = (char *) addr;
  m.method = (char *) method;
  m.sequence = seq;
  m.subject = (char *) "调解通知 (2026)藏0102民调1号";
  m.message = (char *) text;
  return m;
}

static MedOutboxMessage *
outbox_get (Fixture *f, gint64 id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = med_store_outbox_list (f->store, FALSE, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < all->len; i++) {
    MedOutboxMessage *m = all->pdata[i];

    if (m->id == id)
      return g_ptr_array_steal_index (all, i);
  }
  g_error ("no outbox message %" G_GINT64_FORMAT, id);
}

static void
test_outbox (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) ledger = NULL;
  g_autoptr (MedOutboxMessage) claimed = NULL;
  g_autoptr (MedOutboxMessage) m = NULL;
  g_autofree char *sha = NULL;
  MedOutboxMessage in;
  MedTime now = at ("2026-12-07T08:00");
  gint64 a, b, c, bad;
  guint audit;

  booked_9_to_10 (f);
  med_store_set_now (f->store, now);

  /* Queued inside the booking's transaction: a rollback takes it away. */
  g_assert_true (med_store_begin (f->store, &error));
  in = outbox_msg (1, "zhaxi@example.org", "REQUEST", 0, "first\r\n");
  g_assert_cmpint (med_store_outbox_add (f->store, &in, "test", &error), >, 0);
  med_store_rollback (f->store);
  list = med_store_outbox_list (f->store, FALSE, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  a = med_store_outbox_add (f->store, &in, "test", &error);
  g_assert_no_error (error);
  in = outbox_msg (1, "wang@example.org", "REQUEST", 0, "second\r\n");
  b = med_store_outbox_add (f->store, &in, "test", &error);
  /* A newer message to the same recipient replaces the unsent one. */
  in = outbox_msg (1, "ZHAXI@example.org", "REQUEST", 1, "third\r\n");
  c = med_store_outbox_add (f->store, &in, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (a, <, b);
  g_assert_cmpint (b, <, c);
  m = outbox_get (f, a);
  g_assert_cmpint (m->state, ==, MED_OUTBOX_SUPERSEDED);
  g_assert_null (m->message);
  g_clear_pointer (&m, med_outbox_message_free);
  list = med_store_outbox_list (f->store, TRUE, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Bad messages change nothing. */
  audit = n_audit (f);
  in = outbox_msg (1, "not an address", "REQUEST", 0, "x");
  g_assert_cmpint (med_store_outbox_add (f->store, &in, "test", &error), ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  in = outbox_msg (1, "a@example.org", "PUBLISH", 0, "x");
  g_assert_cmpint (med_store_outbox_add (f->store, &in, "test", &error), ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  in = outbox_msg (999, "a@example.org", "CANCEL", 0, "x");
  bad = med_store_outbox_add (f->store, &in, "test", &error);
  g_assert_cmpint (bad, ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (n_audit (f), ==, audit);

  /* Claims come oldest first and lease the message. */
  claimed
      = med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, now, 300, &error);
  g_assert_no_error (error);
  g_assert_cmpint (claimed->id, ==, b);
  g_assert_cmpstr (claimed->message, ==, "second\r\n");
  g_assert_cmpint (claimed->next_attempt_at, ==, now + 300);
  g_clear_pointer (&claimed, med_outbox_message_free);
  claimed
      = med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, now, 300, &error);
  g_assert_cmpint (claimed->id, ==, c);
  g_clear_pointer (&claimed, med_outbox_message_free);
  claimed
      = med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, now, 300, &error);
  g_assert_null (claimed);
  g_assert_no_error (error);
  /* A flusher that died: the lease runs out and the message is due again. */
  claimed = med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, now + 301, 300,
      &error);
  g_assert_cmpint (claimed->id, ==, b);
  g_clear_pointer (&claimed, med_outbox_message_free);

  /* Sent: ledger row with the SHA-256 of the text. */
  g_assert_true (
      med_store_outbox_mark_sent (f->store, b, now + 302, "test", &error));
  g_assert_no_error (error);
  m = outbox_get (f, b);
  g_assert_cmpint (m->state, ==, MED_OUTBOX_SENT);
  g_assert_cmpint (m->sent_at, ==, now + 302);
  g_assert_cmpint (m->attempts, ==, 1);
  g_clear_pointer (&m, med_outbox_message_free);
  ledger = med_store_outbox_ledger (f->store, &error);
  g_assert_cmpuint (ledger->len, ==, 1);
  sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "second\r\n", -1);
  g_assert_cmpstr (((MedLedgerEntry *) ledger->pdata[0])->sha256, ==, sha);
  g_assert_cmpstr (((MedLedgerEntry *) ledger->pdata[0])->method, ==,
      "REQUEST");
  g_assert_cmpint (((MedLedgerEntry *) ledger->pdata[0])->outbox_id, ==, b);
  g_assert_cmpstr (((MedLedgerEntry *) ledger->pdata[0])->recipient_addr, ==,
      "wang@example.org");
  /* Sent is final. */
  g_assert_false (
      med_store_outbox_mark_sent (f->store, b, now, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Failures back off 1 min, 5 min, … and give up at max attempts. */
  g_assert_cmpint (med_store_outbox_backoff (1), ==, 60);
  g_assert_cmpint (med_store_outbox_backoff (2), ==, 300);
  g_assert_cmpint (med_store_outbox_backoff (3), ==, 1800);
  g_assert_cmpint (med_store_outbox_backoff (4), ==, 7200);
  g_assert_cmpint (med_store_outbox_backoff (9), ==, 6 * 3600);
  g_assert_true (med_store_outbox_mark_failed (f->store, c, now,
      "sendmail: exit status 75\n(temporary)", 3, "test", &error));
  m = outbox_get (f, c);
  g_assert_cmpint (m->state, ==, MED_OUTBOX_PENDING);
  g_assert_cmpint (m->attempts, ==, 1);
  g_assert_cmpint (m->next_attempt_at, ==, now + 60);
  g_assert_cmpstr (m->last_error, ==, "sendmail: exit status 75 (temporary)");
  g_clear_pointer (&m, med_outbox_message_free);
  g_assert_null (
      med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, now + 59, 60, &error));
  g_assert_true (med_store_outbox_mark_failed (f->store, c, now + 60, "again",
      3, "test", &error));
  m = outbox_get (f, c);
  g_assert_cmpint (m->next_attempt_at, ==, now + 60 + 300);
  g_clear_pointer (&m, med_outbox_message_free);
  g_assert_true (med_store_outbox_mark_failed (f->store, c, now + 400, "last",
      3, "test", &error));
  g_assert_no_error (error);
  m = outbox_get (f, c);
  g_assert_cmpint (m->state, ==, MED_OUTBOX_FAILED);
  g_assert_cmpint (m->attempts, ==, 3);
  g_clear_pointer (&m, med_outbox_message_free);
  g_assert_null (med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, now + 99999,
      60, &error));
  g_assert_no_error (error);

  /* A failed message can be put back by hand. */
  g_assert_true (
      med_store_outbox_retry (f->store, c, now + 500, "test", &error));
  claimed = med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, now + 500, 60,
      &error);
  g_assert_cmpint (claimed->id, ==, c);
  g_assert_cmpint (claimed->attempts, ==, 0);
  g_assert_false (med_store_outbox_retry (f->store, b, now, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The ledger is append-only, even for raw SQL. */
  {
    RawDb *db = raw_open (f->path);
    g_autofree char *msg = NULL;

    g_assert_cmpint (raw_exec (db,
                         "UPDATE outbox_ledger SET sha256 = "
                         "'x'",
                         &msg),
        !=, RAW_OK);
    g_assert_nonnull (strstr (msg, "append-only"));
    g_assert_cmpint (raw_exec (db, "DELETE FROM outbox_ledger", NULL), !=,
        RAW_OK);
    raw_close (db);
  }
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
set_contact (Fixture *f, gint64 party, const char *contact)
{
  RawDb *db = raw_open (f->path);
  g_autofree char *sql = g_strdup_printf ("UPDATE party SET contact = '%s' "
                                          "WHERE id = %" G_GINT64_FORMAT,
      contact, party);

  g_assert_cmpint (raw_exec (db, sql, NULL), ==, RAW_OK);
  raw_close (db);
}

static void
test_replies (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) b = NULL;
  g_autoptr (GPtrArray) st = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  MedTime stamp = at ("2026-12-07T12:00");
  MedBooking to = { 0 };
  gint64 bid = 0;
  guint n;

  booked_9_to_10 (f);
  b = med_store_get_booking (f->store, 1, &error);
  g_assert_true (med_store_set_email (f->store, MED_STORE_PERSON_MEDIATOR,
      f->med1, "tashi@example.org", "test", &error));
  g_assert_no_error (error);
  /* Party 1 of case 1 answers by e-mail (the fixture gave a phone). */
  set_contact (f, 1, "Dondrub@Example.org");

  g_assert_true (med_store_apply_reply (f->store, b->uid, "tashi@example.org",
      "ACCEPTED", 0, stamp, "test", &bid, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bid, ==, 1);
  g_assert_true (med_store_apply_reply (f->store, b->uid, "dondrub@example.org",
      "TENTATIVE", 0, stamp, "test", NULL, &error));
  g_assert_no_error (error);
  st = med_store_list_attendee_status (f->store, 1, &error);
  g_assert_cmpuint (st->len, ==, 2);
  g_assert_cmpstr (((MedAttendeeStatus *) st->pdata[0])->email, ==,
      "dondrub@example.org");
  g_assert_cmpstr (((MedAttendeeStatus *) st->pdata[0])->partstat, ==,
      "TENTATIVE");
  g_assert_cmpstr (((MedAttendeeStatus *) st->pdata[1])->partstat, ==,
      "ACCEPTED");
  g_clear_pointer (&st, g_ptr_array_unref);
  audit = med_store_list_audit (f->store, "booking", 1, &error);
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[audit->len - 1])->action, ==,
      "booking.reply");
  g_assert_nonnull (
      strstr (((MedAuditEntry *) audit->pdata[audit->len - 1])->detail,
          "\"party:1\""));
  g_assert_null (
      strstr (((MedAuditEntry *) audit->pdata[audit->len - 1])->detail, "@"));

  n = n_audit (f);
  /* An earlier DTSTAMP for the same SEQUENCE is stale. */
  g_assert_false (med_store_apply_reply (f->store, b->uid, "tashi@example.org",
      "DECLINED", 0, stamp - 60, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_STALE);
  g_clear_error (&error);
  /* Not an attendee, unknown UID, unknown PARTSTAT, a SEQUENCE never sent. */
  g_assert_false (med_store_apply_reply (f->store, b->uid,
      "mallory@example.org", "ACCEPTED", 0, stamp, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (med_store_apply_reply (f->store, "nope@medsched",
      "tashi@example.org", "ACCEPTED", 0, stamp, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (med_store_apply_reply (f->store, b->uid, "tashi@example.org",
      "MAYBE", 0, stamp, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (med_store_apply_reply (f->store, b->uid, "tashi@example.org",
      "ACCEPTED", 5, stamp, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (n_audit (f), ==, n);

  /* After a reschedule the old answers no longer count, and replies to
   * SEQUENCE 0 are stale. */
  to.start = at ("2026-12-07T14:30");
  to.end = at ("2026-12-07T15:30");
  to.interpreter_id = f->interp;
  g_assert_true (med_store_reschedule (f->store, 1, &to, "test", &error));
  st = med_store_list_attendee_status (f->store, 1, &error);
  g_assert_cmpuint (st->len, ==, 0);
  g_clear_pointer (&st, g_ptr_array_unref);
  g_assert_false (med_store_apply_reply (f->store, b->uid, "tashi@example.org",
      "ACCEPTED", 0, stamp + 600, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_STALE);
  g_assert_nonnull (strstr (error->message, "stale"));
  g_clear_error (&error);
  g_assert_true (med_store_apply_reply (f->store, b->uid, "tashi@example.org",
      "DECLINED", 1, stamp + 600, "test", NULL, &error));
  g_assert_no_error (error);
  st = med_store_list_attendee_status (f->store, 1, &error);
  g_assert_cmpuint (st->len, ==, 1);
  g_assert_cmpstr (((MedAttendeeStatus *) st->pdata[0])->partstat, ==,
      "DECLINED");
  g_assert_cmpint (((MedAttendeeStatus *) st->pdata[0])->sequence, ==, 1);

  /* A cancelled booking takes no replies. */
  g_assert_true (med_store_cancel (f->store, 1, "test", &error));
  g_assert_false (med_store_apply_reply (f->store, b->uid, "tashi@example.org",
      "ACCEPTED", 2, stamp + 900, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
}

static void
test_external_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) busy = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  g_autoptr (GArray) got = NULL;
  g_autoptr (MedStoreSnapshot) s = NULL;
  MedInterval iv;
  guint n;

  populate (f);
  for (int d = 7; d <= 11; d++) {
    g_autofree char *a = g_strdup_printf ("2026-12-%02dT09:00", d);
    g_autofree char *b = g_strdup_printf ("2026-12-%02dT10:00", d);

    iv.start = at (a);
    iv.end = at (b);
    g_array_append_val (busy, iv);
  }
  g_assert_true (med_store_replace_external_busy (f->store,
      MED_STORE_PERSON_MEDIATOR, f->med1, "outlook", busy, "test", &error));
  g_assert_no_error (error);
  g_array_set_size (busy, 1);
  g_assert_true (med_store_replace_external_busy (f->store,
      MED_STORE_PERSON_MEDIATOR, f->med1, "church", busy, "test", &error));
  g_assert_true (
      med_store_replace_external_busy (f->store, MED_STORE_PERSON_INTERPRETER,
          f->interp, "outlook", busy, "test", &error));
  g_assert_no_error (error);
  got = med_store_list_external_busy (f->store, MED_STORE_PERSON_MEDIATOR,
      f->med1, 0, 0, &error);
  g_assert_cmpuint (got->len, ==, 6);
  g_clear_pointer (&got, g_array_unref);

  /* Importing the same source again replaces it, and only it. */
  iv.start = at ("2026-12-08T15:00");
  iv.end = at ("2026-12-08T16:00");
  g_array_set_size (busy, 0);
  g_array_append_val (busy, iv);
  g_assert_true (med_store_replace_external_busy (f->store,
      MED_STORE_PERSON_MEDIATOR, f->med1, "outlook", busy, "test", &error));
  got = med_store_list_external_busy (f->store, MED_STORE_PERSON_MEDIATOR,
      f->med1, 0, 0, &error);
  g_assert_cmpuint (got->len, ==, 2);
  g_assert_cmpint (g_array_index (got, MedInterval, 0).start, ==,
      at ("2026-12-07T09:00"));
  g_assert_cmpint (g_array_index (got, MedInterval, 1).start, ==,
      at ("2026-12-08T15:00"));
  g_clear_pointer (&got, g_array_unref);
  got = med_store_list_external_busy (f->store, MED_STORE_PERSON_MEDIATOR,
      f->med1, at ("2026-12-08"), at ("2026-12-09"), &error);
  g_assert_cmpuint (got->len, ==, 1);

  /* The snapshot carries it for the scheduler. */
  s = med_store_load_snapshot (f->store, f->centre, at ("2026-12-07"),
      at ("2026-12-10"), &error);
  g_assert_no_error (error);
  g_assert_nonnull (s->snap.external_busy);
  g_assert_cmpuint (s->snap.external_busy->len, ==, 3);
  {
    const MedBusy *x = &g_array_index (s->snap.external_busy, MedBusy, 0);

    g_assert_cmpint (x->start, ==, at ("2026-12-07T09:00"));
    g_assert_true ((x->mediator_id == f->med1 && x->interpreter_id == 0)
        || (x->interpreter_id == f->interp && x->mediator_id == 0));
  }

  /* Bad input changes nothing. */
  n = n_audit (f);
  iv.end = iv.start;
  g_array_append_val (busy, iv);
  g_assert_false (med_store_replace_external_busy (f->store,
      MED_STORE_PERSON_MEDIATOR, f->med1, "outlook", busy, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (med_store_replace_external_busy (f->store,
      MED_STORE_PERSON_MEDIATOR, 999, "outlook", NULL, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (med_store_replace_external_busy (f->store,
      MED_STORE_PERSON_MEDIATOR, f->med1, "", NULL, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (n_audit (f), ==, n);
  g_clear_pointer (&got, g_array_unref);
  got = med_store_list_external_busy (f->store, MED_STORE_PERSON_MEDIATOR,
      f->med1, 0, 0, &error);
  g_assert_cmpuint (got->len, ==, 2);
}

static void
test_join_token (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *t1 = NULL, *t1b = NULL, *t2 = NULL, *t3 = NULL;
  g_autofree char *url = NULL;
  g_autofree char *other = NULL;
  g_autofree char *path2 = test_db_new (f->dir, "other");
  g_autoptr (MedStore) s2 = NULL;
  gint64 b2, bid = 0, pid = 0;

  booked_9_to_10 (f);
  b2 = book (f, f->case1, f->room2, f->med2, 0, "2026-12-08T09:00",
      "2026-12-08T10:00", &error);
  g_assert_no_error (error);

  t1 = med_store_join_token (f->store, 1, 1, &error);
  g_assert_no_error (error);
  t1b = med_store_join_token (f->store, 1, 1, &error);
  t2 = med_store_join_token (f->store, 1, 2, &error);
  t3 = med_store_join_token (f->store, b2, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (t1), ==, 22);
  g_assert_cmpuint (strspn (t1,
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-_"),
      ==, 22);
  g_assert_cmpstr (t1, ==, t1b);
  g_assert_cmpstr (t1, !=, t2);
  g_assert_cmpstr (t1, !=, t3);
  g_assert_cmpstr (t2, !=, t3);

  /* Party 3 belongs to case 2, not to booking 1. */
  g_assert_null (med_store_join_token (f->store, 1, 3, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The link: public URL + /join/ + token. */
  url = med_store_join_url (f->store, 1, 1, &error);
  g_assert_true (g_str_has_prefix (url, "https://medsched.invalid/join/"));
  g_assert_cmpstr (url + strlen ("https://medsched.invalid/join/"), ==, t1);
  g_clear_pointer (&url, g_free);
  g_assert_true (med_store_set_public_url (f->store, f->centre,
      "https://tiaojie.example.cn/medsched/", "test", &error));
  g_assert_no_error (error);
  url = med_store_join_url (f->store, 1, 1, &error);
  g_assert_true (
      g_str_has_prefix (url, "https://tiaojie.example.cn/medsched/join/"));
  g_assert_false (med_store_set_public_url (f->store, f->centre,
      "javascript:alert(1)", "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (med_store_set_public_url (f->store, f->centre,
      "https://x.example/?a=b", "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Looked up by recomputing, within the session's time window. */
  g_assert_true (med_store_join_lookup (f->store, f->centre, t2,
      at ("2026-12-07"), at ("2026-12-08"), &bid, &pid, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bid, ==, 1);
  g_assert_cmpint (pid, ==, 2);
  g_assert_false (med_store_join_lookup (f->store, f->centre, t3,
      at ("2026-12-07"), at ("2026-12-08"), &bid, &pid, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (med_store_join_lookup (f->store, f->centre, "short", 0, 0,
      NULL, NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Another store has another secret: the same ids give another token. */
  s2 = med_store_open (path2, &error);
  g_assert_no_error (error);
  {
    MedStore *keep = f->store;
    g_autofree char *p1 = f->path;

    f->store = s2;
    f->path = g_strdup (path2);
    booked_9_to_10 (f);
    other = med_store_join_token (f->store, 1, 1, &error);
    g_assert_no_error (error);
    g_free (f->path);
    f->path = g_steal_pointer (&p1);
    f->store = keep;
  }
  g_assert_cmpstr (other, !=, t1);
}

static void
test_note_and_email (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) before = NULL;
  g_autoptr (MedBooking) after = NULL;
  g_autoptr (MedBookingExtra) x = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  g_autofree char *email = NULL;
  g_autofree char *big = g_strnfill (5000, 'x');
  guint n;

  booked_9_to_10 (f);
  before = med_store_get_booking (f->store, 1, &error);
  med_store_set_now (f->store, at ("2026-12-07T08:30"));
  g_assert_true (med_store_set_booking_note (f->store, 1,
      "请带身份证原件\nཐོབ་ཐང་ལག་ཁྱེར།", "test", &error));
  g_assert_no_error (error);
  after = med_store_get_booking (f->store, 1, &error);
  g_assert_cmpint (after->sequence, ==, before->sequence);
  g_assert_cmpstr (after->uid, ==, before->uid);
  g_assert_cmpint (after->updated_at, ==, at ("2026-12-07T08:30"));
  x = med_store_get_booking_extra (f->store, 1, &error);
  g_assert_cmpstr (x->note, ==, "请带身份证原件\nཐོབ་ཐང་ལག་ཁྱེར།");
  audit = med_store_list_audit (f->store, "booking", 1, &error);
  g_assert_cmpstr (((MedAuditEntry *) audit->pdata[audit->len - 1])->action, ==,
      "booking.note");
  g_assert_null (
      strstr (((MedAuditEntry *) audit->pdata[audit->len - 1])->detail,
          "身份"));

  n = n_audit (f);
  g_assert_false (
      med_store_set_booking_note (f->store, 1, big, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (
      med_store_set_booking_note (f->store, 99, "x", "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (n_audit (f), ==, n);
  g_assert_true (med_store_cancel (f->store, 1, "test", &error));
  g_assert_false (
      med_store_set_booking_note (f->store, 1, "x", "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* E-mail addresses: set, read back, cleared; anything else refused. */
  g_assert_true (med_store_is_email ("wang.fang@example.cn"));
  g_assert_false (med_store_is_email ("13800000001"));
  g_assert_false (med_store_is_email ("a@b"));
  g_assert_false (med_store_is_email ("Wang <w@example.cn>"));
  g_assert_false (med_store_is_email ("w@example.cn\r\nBcc: x@evil.example"));
  g_assert_false (med_store_is_email ("王@例子.中国"));
  g_assert_true (med_store_set_email (f->store, MED_STORE_PERSON_INTERPRETER,
      f->interp, "ciren@example.cn", "test", &error));
  email = med_store_get_email (f->store, MED_STORE_PERSON_INTERPRETER,
      f->interp, &error);
  g_assert_cmpstr (email, ==, "ciren@example.cn");
  g_clear_pointer (&email, g_free);
  g_assert_false (med_store_set_email (f->store, MED_STORE_PERSON_MEDIATOR,
      f->med1, "x@y.z\nBcc: q@r.s", "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (med_store_set_email (f->store, MED_STORE_PERSON_MEDIATOR, 999,
      "x@example.cn", "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (med_store_set_email (f->store, MED_STORE_PERSON_INTERPRETER,
      f->interp, NULL, "test", &error));
  email = med_store_get_email (f->store, MED_STORE_PERSON_INTERPRETER,
      f->interp, &error);
  g_assert_cmpstr (email, ==, "");
}

/* ---- backups, restore, audit anchors ------------------------------------ */

/* Files in dir whose name contains part. */
static guint
count_files (const char *dir, const char *part)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    n += strstr (name, part) != NULL;
  return n;
}

static MedAuditAnchor
head_of (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = med_store_open_existing (path, &error);
  MedAuditAnchor a;

  g_assert_no_error (error);
  g_assert_true (med_store_audit_head (store, &a, &error));
  g_assert_no_error (error);
  return a;
}

typedef struct
{
  const char *path;
  gint64 centre;
  gint stop;
  guint written;
  guint failed;
} CaseWriter;

/* Takes cases at intake, one transaction (with its audit row) each, until
 * told to stop. */
static gpointer
case_writer_run (gpointer data)
{
  CaseWriter *w = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = med_store_open (w->path, &error);

  g_assert_no_error (error);
  while (!g_atomic_int_get (&w->stop) && w->written < 100000) {
    g_autoptr (GError) err = NULL;
    g_autoptr (MedCase) c = med_case_new ();
    g_autoptr (GPtrArray) parties
        = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);

    c->centre_id = w->centre;
    c->number = g_strdup_printf ("W-%06u", w->written);
    c->kind = MED_CASE_KIND_WAGES;
    c->status = MED_CASE_STATUS_INTAKE;
    c->intake_at = at ("2026-12-01T10:00");
    g_ptr_array_add (parties,
        party ("扎西顿珠", MED_PARTY_ROLE_APPLICANT, "bo", "13800000000"));
    if (med_store_add_case (store, c, parties, "writer", &err) > 0)
      g_atomic_int_inc ((gint *) &w->written);
    else
      w->failed++;
  }
  return NULL;
}

static void
wait_written (CaseWriter *w, guint n)
{
  while (g_atomic_int_get ((gint *) &w->written) < (gint) n)
    g_usleep (1000);
}

/* Backups taken while another connection keeps writing: each is one
 * consistent snapshot that restores, passes the checks and ends at the
 * anchor written with it; later backups hold more rows. */
static void
test_backup_while_writing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CaseWriter w = { 0 };
  GThread *thread;
  MedAuditAnchor anchors[5];

  populate (f);
  w.path = f->path;
  w.centre = f->centre;
  thread = g_thread_new ("case-writer", case_writer_run, &w);
  for (guint i = 0; i < G_N_ELEMENTS (anchors); i++) {
    g_autofree char *name = g_strdup_printf ("b%u.db", i);
    g_autofree char *path = g_build_filename (f->dir, name, NULL);

    wait_written (&w, 20 * (i + 1));
    g_assert_true (med_store_backup (f->store, path, &anchors[i], &error));
    g_assert_no_error (error);
  }
  g_atomic_int_set (&w.stop, 1);
  g_thread_join (thread);
  g_test_message ("%u cases written during the backups", w.written);
  g_assert_cmpuint (w.failed, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (anchors); i++) {
    g_autofree char *name = g_strdup_printf ("b%u.db", i);
    g_autofree char *path = g_build_filename (f->dir, name, NULL);
    g_autofree char *rname = g_strdup_printf ("r%u.db", i);
    g_autofree char *target = g_build_filename (f->dir, rname, NULL);
    g_autofree char *anchor_file = g_strconcat (path, ".anchor", NULL);
    g_autofree char *text = NULL;
    MedStoreRestore r = { 0 };
    MedAuditAnchor a, back;

    /* the anchor file says what the backup returned */
    g_assert_true (g_file_get_contents (anchor_file, &text, NULL, &error));
    g_assert_true (med_audit_anchor_parse (text, &a, &error));
    g_assert_cmpint (a.id, ==, anchors[i].id);
    g_assert_cmpstr (a.hash, ==, anchors[i].hash);
    if (i > 0)
      g_assert_cmpint (anchors[i].id, >, anchors[i - 1].id);
    g_assert_true (
        med_store_restore (path, target, NULL, at ("2026-12-07"), &r, &error));
    g_assert_no_error (error);
    g_assert_true (r.anchored);
    g_assert_null (r.kept);
    g_assert_cmpint (r.audit_rows, ==, anchors[i].id);
    back = head_of (target);
    g_assert_cmpint (back.id, ==, anchors[i].id);
    g_assert_cmpstr (back.hash, ==, anchors[i].hash);
  }
  g_assert_cmpuint (count_files (f->dir, ".part-"), ==, 0);
  g_assert_cmpuint (count_files (f->dir, ".restore-"), ==, 0);
}

/* A backup never replaces a file, and a failed one leaves nothing. */
static void
test_backup_refuses (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = g_build_filename (f->dir, "taken.db", NULL);
  g_autofree char *text = NULL;
  g_autofree char *nodir
      = g_build_filename (f->dir, "no-such-dir", "b.db", NULL);

  populate (f);
  g_assert_true (g_file_set_contents (dest, "precious", -1, &error));
  g_assert_false (med_store_backup (f->store, dest, NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (dest, &text, NULL, &error));
  g_assert_cmpstr (text, ==, "precious");
  g_assert_cmpuint (count_files (f->dir, ".anchor"), ==, 0);
  g_assert_false (med_store_backup (f->store, nodir, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (count_files (f->dir, ".part-"), ==, 0);
  g_assert_cmpuint (count_files (f->dir, ".anchor"), ==, 0);
}

/* --dir --keep: timestamped names that sort as taken, the newest N of
 * this store kept, nothing else in the directory touched. */
static void
test_backup_dir_keep (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *other = g_build_filename (f->dir, "notes.txt", NULL);
  g_autofree char *alien = g_build_filename (f->dir, "store-old-copy.db", NULL);
  g_autofree char *last = NULL;
  const char *const expect[] = { "store-20261207T000000Z-2.db",
    "store-20261207T000000Z-3.db", "store-20261207T000100Z.db" };
  MedTime t = at ("2026-12-07T08:00");

  populate (f);
  g_assert_true (g_file_set_contents (other, "x", -1, &error));
  g_assert_true (g_file_set_contents (alien, "y", -1, &error));
  for (guint i = 0; i < 5; i++) {
    g_autofree char *path = NULL;
    guint removed = 9;

    g_assert_true (med_store_backup_to_dir (f->store, f->dir,
        i < 4 ? t : t + 60, 3, &path, NULL, &removed, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (removed, ==, i >= 3 ? 1 : 0);
    g_free (last);
    last = g_steal_pointer (&path);
  }
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    g_autofree char *p = g_build_filename (f->dir, expect[i], NULL);
    g_autofree char *pa = g_strconcat (p, ".anchor", NULL);

    g_assert_true (g_file_test (p, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (pa, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_true (g_str_has_suffix (last, expect[2]));
  g_assert_cmpuint (count_files (f->dir, "store-2026"), ==, 6);
  g_assert_true (g_file_test (other, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (alien, G_FILE_TEST_EXISTS));
  g_assert_false (med_store_backup_to_dir (f->store, other, t, 3, NULL, NULL,
      NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
}

/* A fresh backup of f's store at bad, damaged with sql past the store,
 * must not restore over target: error code, message naming what. */
static void
assert_restore_refused (Fixture *f, const char *bad, const char *target,
    const char *sql, gint code, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *anchor = g_strconcat (bad, ".anchor", NULL);
  RawDb *db;

  g_unlink (bad);
  g_unlink (anchor);
  g_assert_true (med_store_backup (f->store, bad, NULL, &error));
  g_assert_no_error (error);
  db = raw_open (bad);
  g_assert_cmpint (raw_exec (db, sql, NULL), ==, RAW_OK);
  raw_close (db);
  g_assert_false (
      med_store_restore (bad, target, NULL, at ("2026-12-07"), NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, code);
  g_assert_nonnull (strstr (error->message, what));
}

/* Restore checks the copy and refuses a bad one without touching the
 * target; a good one replaces the target (kept beside it) only when
 * nobody has it open. */
static void
test_restore_checks (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *good = g_build_filename (f->dir, "good.db", NULL);
  g_autofree char *bad = g_build_filename (f->dir, "bad.db", NULL);
  g_autofree char *target = g_build_filename (f->dir, "target.db", NULL);
  g_autofree char *garbage = g_build_filename (f->dir, "garbage.db", NULL);
  g_autofree char *alien = g_build_filename (f->dir, "alien.db", NULL);
  MedStoreRestore r = { 0 };
  MedAuditAnchor before, a;
  RawDb *db;

  booked_9_to_10 (f);
  g_assert_true (med_store_backup (f->store, good, &a, &error));
  g_assert_no_error (error);
  /* a first restore makes target */
  g_assert_true (
      med_store_restore (good, target, NULL, at ("2026-12-07"), &r, &error));
  g_assert_no_error (error);
  g_assert_null (r.kept);
  before = head_of (target);

  /* an overlapping booking forged past the trigger */
  assert_restore_refused (f, bad, target,
      "DROP TRIGGER booking_no_overlap_insert; "
      "INSERT INTO booking (case_id, room_id, mediator_id, "
      "start_at, end_at, block_start, block_end, mode, "
      "status, uid, sequence, created_at, updated_at) "
      "SELECT 2, room_id, 2, start_at, end_at, block_start, "
      "block_end, mode, status, 'forged', 0, 0, 0 FROM "
      "booking WHERE id = 1",
      MED_STORE_ERROR_CONFLICT, "nothing was restored");
  /* an edited audit row */
  assert_restore_refused (f, bad, target,
      "DROP TRIGGER audit_no_update; UPDATE audit SET "
      "detail = '{}' WHERE id = 2",
      MED_STORE_ERROR_AUDIT, "row 2");
  /* the newest audit rows removed: the chain holds, the anchor does not */
  assert_restore_refused (f, bad, target,
      "DROP TRIGGER audit_no_delete; DELETE FROM audit "
      "WHERE id > (SELECT max(id) - 2 FROM audit)",
      MED_STORE_ERROR_AUDIT, "newest rows were removed");

  /* not a database; a database of something else */
  g_assert_true (
      g_file_set_contents (garbage, "SQLite format 3\nnot really", -1, &error));
  g_assert_false (
      med_store_restore (garbage, target, NULL, at ("2026-12-07"), &r, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  db = raw_open (alien);
  g_assert_cmpint (raw_exec (db, "CREATE TABLE t (x)", NULL), ==, RAW_OK);
  raw_close (db);
  g_assert_false (
      med_store_restore (alien, target, NULL, at ("2026-12-07"), &r, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN);
  g_clear_error (&error);
  /* nor over a file that is not a medsched store */
  g_assert_false (
      med_store_restore (good, alien, NULL, at ("2026-12-07"), &r, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_FOREIGN);
  g_clear_error (&error);

  /* none of that changed target or left anything behind */
  a = head_of (target);
  g_assert_cmpint (a.id, ==, before.id);
  g_assert_cmpstr (a.hash, ==, before.hash);
  g_assert_cmpuint (count_files (f->dir, ".restore-"), ==, 0);
  g_assert_cmpuint (count_files (f->dir, ".replaced-"), ==, 0);

  /* a target in use (f->store has f->path open) is left alone */
  g_assert_false (
      med_store_restore (good, f->path, NULL, at ("2026-12-07"), &r, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_clear_error (&error);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_cmpuint (count_files (f->dir, ".replaced-"), ==, 0);

  /* once closed, it is replaced and kept beside */
  g_clear_pointer (&f->store, med_store_close);
  g_assert_true (
      med_store_restore (good, f->path, NULL, at ("2026-12-07"), &r, &error));
  g_assert_no_error (error);
  g_assert_nonnull (r.kept);
  g_assert_true (g_file_test (r.kept, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_files (f->dir, ".replaced-"), ==, 1);
  g_free (r.kept);
  f->store = med_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (med_store_check (f->store, &error));
}

/* The anchor catches what the chain cannot: rows removed from its end,
 * or removed and written again. */
static void
test_audit_anchor (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL, *file = NULL;
  MedAuditAnchor head, parsed, later;
  gint64 rows = 0;
  RawDb *db;
  static const char *const bad[] = { "", "12", "12:", "x:" ZERO64, "-1:" ZERO64,
    "1:" ZERO64 "0", "1:" ZERO64 "\n2:" ZERO64,
    "1:ABCDEF0000000000000000000000000000000000000000000000000000000000",
    "1:g000000000000000000000000000000000000000000000000000000000000000" };

  booked_9_to_10 (f);
  g_assert_true (med_store_audit_head (f->store, &head, &error));
  g_assert_cmpint (head.id, ==, n_audit (f));
  text = med_audit_anchor_to_string (&head);
  g_assert_true (med_audit_anchor_parse (text, &parsed, &error));
  g_assert_cmpint (parsed.id, ==, head.id);
  g_assert_cmpstr (parsed.hash, ==, head.hash);
  file = med_audit_anchor_file_text (&head, NULL);
  g_assert_true (g_str_has_prefix (file, "#"));
  g_assert_true (med_audit_anchor_parse (file, &parsed, &error));
  g_assert_cmpint (parsed.id, ==, head.id);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (med_audit_anchor_parse (bad[i], &parsed, &error));
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_true (
      med_store_audit_verify_anchor (f->store, &head, &rows, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rows, ==, head.id);

  /* more rows since: still fine */
  add_room (f, "又一间", MED_ROOM_KIND_WARM, 0, 0);
  g_assert_true (med_store_audit_verify_anchor (f->store, &head, NULL, &error));

  /* the newest rows deleted: plain verify passes, the anchor fails */
  db = raw_open (f->path);
  g_assert_cmpint (raw_exec (db,
                       raw_is_pg (db)
                           ? "ALTER TABLE audit DISABLE TRIGGER "
                             "audit_no_change; DELETE FROM audit WHERE id >= "
                             "(SELECT max(id) - 2 FROM audit)"
                           : "DROP TRIGGER audit_no_delete; DELETE FROM audit "
                             "WHERE id >= (SELECT max(id) - 2 FROM audit)",
                       NULL),
      ==, RAW_OK);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (
      med_store_audit_verify_anchor (f->store, &head, NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT);
  g_assert_nonnull (strstr (error->message, "newest rows were removed"));
  g_clear_error (&error);

  /* and written again with new content: the ids are back, the hash not */
  add_room (f, "补一间", MED_ROOM_KIND_WARM, 0, 0);
  add_room (f, "再补一间", MED_ROOM_KIND_WARM, 0, 0);
  g_assert_true (med_store_audit_head (f->store, &later, &error));
  g_assert_cmpint (later.id, >=, head.id);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_false (
      med_store_audit_verify_anchor (f->store, &head, NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT);
  g_assert_nonnull (strstr (error->message, "rewritten"));
  raw_close (db);
}

/* ---- races between connections ------------------------------------------
 *
 * Several threads, each with its own connection (its own MedStore), write
 * at once. With SQLite they follow each other (BEGIN IMMEDIATE); with
 * PostgreSQL writers take the writers' lock after BEGIN and the outbox
 * claim takes its row FOR UPDATE SKIP LOCKED. */

#define RACERS      4
#define RACE_WRITES 40
#define RACE_MAILS  120

typedef struct
{
  const char *path;
  guint index;
  gint *ready;
  guint failed;
  gint64 claimed[RACE_MAILS];
  guint n_claimed;
} Racer;

static void
wait_for_all (gint *ready)
{
  g_atomic_int_inc (ready);
  while (g_atomic_int_get (ready) < RACERS)
    g_thread_yield ();
}

/* Each write appends an audit row; the chain must stay one chain. */
static gpointer
audit_racer_run (gpointer data)
{
  Racer *r = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = med_store_open (r->path, &error);

  g_assert_no_error (error);
  wait_for_all (r->ready);
  for (guint k = 0; k < RACE_WRITES; k++) {
    g_autoptr (GError) err = NULL;
    g_autoptr (MedRoom) room = med_room_new ();

    room->centre_id = 1;
    room->name = g_strdup_printf ("调解室 %u-%u", r->index, k);
    room->kind = MED_ROOM_KIND_WARM;
    room->capacity = 4;
    if (med_store_add_room (store, room, "racer", &err) == 0) {
      g_test_message ("racer %u: %s", r->index, err->message);
      r->failed++;
    }
  }
  return NULL;
}

static void
test_race_audit_chain (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Racer racers[RACERS] = { { 0 } };
  GThread *threads[RACERS];
  gint ready = 0;
  gint64 rows = 0, before;
  RawDb *db;

  populate (f);
  before = n_audit (f);
  for (guint k = 0; k < RACERS; k++) {
    racers[k].path = f->path;
    racers[k].index = k;
    racers[k].ready = &ready;
    threads[k] = g_thread_new ("racer", audit_racer_run, &racers[k]);
  }
  for (guint k = 0; k < RACERS; k++) {
    g_thread_join (threads[k]);
    g_assert_cmpuint (racers[k].failed, ==, 0);
  }
  g_assert_true (med_store_audit_verify (f->store, &rows, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rows, ==, before + RACERS * RACE_WRITES);
  /* one chain: no two rows follow the same row */
  db = raw_open (f->path);
  g_assert_cmpint (raw_int (db, "SELECT count(DISTINCT prev_hash) FROM audit"),
      ==, rows);
  g_assert_cmpint (raw_int (db, "SELECT max(id) FROM audit"), ==, rows);
  raw_close (db);
}

/* Claims until nothing is due, marking each message sent. */
static gpointer
claim_racer_run (gpointer data)
{
  Racer *r = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = med_store_open (r->path, &error);
  MedTime now = at ("2026-12-07T08:00");

  g_assert_no_error (error);
  wait_for_all (r->ready);
  for (;;) {
    g_autoptr (GError) err = NULL;
    g_autoptr (MedOutboxMessage) m
        = med_store_outbox_claim (store, "mail", now, 600, &err);

    if (m == NULL) {
      if (err != NULL) {
        g_test_message ("racer %u: %s", r->index, err->message);
        r->failed++;
        continue;
      }
      break;
    }
    r->claimed[r->n_claimed++] = m->id;
    if (!med_store_outbox_mark_sent (store, m->id, now, "racer", &err)) {
      g_test_message ("racer %u: %s", r->index, err->message);
      r->failed++;
    }
  }
  return NULL;
}

static void
test_race_outbox_claims (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ledger = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  Racer *racers = g_new0 (Racer, RACERS);
  GThread *threads[RACERS];
  gint ready = 0;
  guint total = 0;

  booked_9_to_10 (f);
  /* queued on the store's clock, due when the claimers look */
  med_store_set_now (f->store, at ("2026-12-07T08:00"));
  for (guint i = 0; i < RACE_MAILS; i++) {
    g_autofree char *addr = g_strdup_printf ("p%u@example.org", i);
    MedOutboxMessage m = outbox_msg (1, addr, "REQUEST", 0, "BEGIN:VCALENDAR");

    g_assert_cmpint (med_store_outbox_add (f->store, &m, "test", &error), >, 0);
    g_assert_no_error (error);
  }
  for (guint k = 0; k < RACERS; k++) {
    racers[k].path = f->path;
    racers[k].index = k;
    racers[k].ready = &ready;
    threads[k] = g_thread_new ("claimer", claim_racer_run, &racers[k]);
  }
  for (guint k = 0; k < RACERS; k++) {
    g_thread_join (threads[k]);
    g_assert_cmpuint (racers[k].failed, ==, 0);
    g_test_message ("claimer %u took %u", k, racers[k].n_claimed);
    for (guint i = 0; i < racers[k].n_claimed; i++) {
      /* never the same message twice */
      g_assert_false (g_hash_table_contains (seen, &racers[k].claimed[i]));
      g_hash_table_add (seen, &racers[k].claimed[i]);
    }
    total += racers[k].n_claimed;
  }
  g_assert_cmpuint (total, ==, RACE_MAILS);
  ledger = med_store_outbox_ledger (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ledger->len, ==, RACE_MAILS);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
  g_free (racers);
}

/* ---- the data version, lost connections --------------------------------- */

/* A commit on another connection moves the data version, for either
 * driver; on PostgreSQL it arrives as a NOTIFY, read without blocking, so
 * the check polls (the test's clock, not an assertion on time). */
static gboolean
version_moves (MedStore *s, gint64 from)
{
  for (guint i = 0; i < 200; i++) {
    if (med_store_data_version (s) != from)
      return TRUE;
    g_usleep (10 * 1000);
  }
  return FALSE;
}

/* A room added through another connection (store) than the fixture's. */
static void
add_room_on (MedStore *store, gint64 centre, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedRoom) r = med_room_new ();

  r->centre_id = centre;
  r->name = g_strdup (name);
  r->kind = MED_ROOM_KIND_WARM;
  r->capacity = 4;
  g_assert_cmpint (med_store_add_room (store, r, "test", &error), >, 0);
  g_assert_no_error (error);
}

/* As version_moves, through med_store_data_version_in: each try in a new
 * epoch (epoch != NULL), or in epoch 0. */
static gboolean
version_in_moves (MedStore *s, gint64 from, guint64 *epoch)
{
  for (guint i = 0; i < 200; i++) {
    if (med_store_data_version_in (s, epoch ? ++*epoch : 0) != from)
      return TRUE;
    g_usleep (10 * 1000);
  }
  return FALSE;
}

static void
test_data_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) other = NULL;
  gint64 v;

  populate (f);
  other = med_store_open (f->path, &error);
  g_assert_no_error (error);
  v = med_store_data_version (f->store);
  g_assert_cmpint (med_store_data_version (f->store), ==, v);
  /* another connection's transaction */
  add_room_on (other, f->centre, "别处加的");
  g_assert_true (version_moves (f->store, v));
  /* another connection's single statement outside a transaction */
  {
    MedUser u = { 0 };
    gint64 uid;

    u.name = (char *) "clerk";
    u.role = MED_ROLE_CLERK;
    u.centre_id = f->centre;
    u.password = (char *) "pbkdf2-sha256$1000$salt$hash";
    uid = med_store_add_user (other, &u, "test", &error);
    g_assert_no_error (error);
    g_assert_true (version_moves (f->store, v));
    v = med_store_data_version (f->store);
    g_assert_true (med_store_add_session (other, ZERO64, uid,
        "csrf-token-0123456789", at ("2026-12-08T09:00"), &error));
  }
  g_assert_no_error (error);
  g_assert_true (version_moves (f->store, v));
  /* its own */
  v = med_store_data_version (f->store);
  add_room (f, "自己加的", MED_ROOM_KIND_WARM, 0, 0);
  g_assert_cmpint (med_store_data_version (f->store), !=, v);
  if (test_db_pg ())
    g_assert_cmpint (med_store_notify_fd (f->store), >=, 0);
  else
    g_assert_cmpint (med_store_notify_fd (f->store), ==, -1);
}

/* med_store_data_version_in asks the database once per epoch: another
 * connection's commit shows from a later epoch on (polled on PostgreSQL,
 * where it comes as a NOTIFY), this connection's own write at once, in the
 * same epoch; epoch 0 always asks. */
static void
test_data_version_epoch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) other = NULL;
  guint64 epoch = 7;
  gint64 v, w;

  populate (f);
  other = med_store_open (f->path, &error);
  g_assert_no_error (error);
  v = med_store_data_version_in (f->store, epoch);
  g_assert_cmpint (v, ==, med_store_data_version (f->store));
  add_room_on (other, f->centre, "别处加的");
  /* the same epoch: the answer already given */
  g_assert_cmpint (med_store_data_version_in (f->store, epoch), ==, v);
  /* later epochs see it */
  g_assert_true (version_in_moves (f->store, v, &epoch));
  /* its own write, within one epoch */
  w = med_store_data_version_in (f->store, ++epoch);
  add_room (f, "自己加的", MED_ROOM_KIND_WARM, 0, 0);
  g_assert_cmpint (med_store_data_version_in (f->store, epoch), !=, w);
  /* epoch 0 asks every time */
  w = med_store_data_version_in (f->store, 0);
  add_room_on (other, f->centre, "又一间");
  g_assert_true (version_in_moves (f->store, w, NULL));
}

/* Ends every medsched connection to the fixture's database, as a failover
 * or a restarted server would, and waits until they are gone. */
static void
kill_connections (Fixture *f)
{
  RawDb *db = raw_open (f->path);

  raw_int (db,
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE application_name = 'medsched' AND datname = "
      "current_database()");
  for (guint i = 0; i < 500; i++) {
    if (raw_int (db,
            "SELECT count(*) FROM pg_stat_activity WHERE "
            "application_name = 'medsched' AND datname = "
            "current_database()")
        == 0)
      break;
    g_usleep (10 * 1000);
  }
  raw_close (db);
}

static gint64
n_rooms_named (Fixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms
      = med_store_list_rooms (f->store, f->centre, &error);
  gint64 n = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < rooms->len; i++)
    n += strcmp (((MedRoom *) rooms->pdata[i])->name, name) == 0;
  return n;
}

/* Between transactions a dead connection is replaced: the next write, the
 * next read go through, and the data version, the database's own number,
 * reads the same (nothing was written meanwhile). */
static void
test_pg_reconnect (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  gint64 v;

  populate (f);
  v = med_store_data_version (f->store);
  kill_connections (f);
  g_assert_cmpint (med_store_data_version (f->store), ==, v);
  kill_connections (f);
  g_assert_cmpint (add_room (f, "重连之后", MED_ROOM_KIND_WARM, 0, 0), >, 0);
  kill_connections (f);
  rooms = med_store_list_rooms (f->store, f->centre, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rooms->len, ==, 4);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
}

typedef struct
{
  Fixture *f;
  guint calls;
  gboolean kill_before_commit; /* else: in the middle, on the first call */
} RunProbe;

static gboolean
run_probe_txn (MedStore *store, gpointer data, GError **error)
{
  RunProbe *p = data;
  g_autoptr (MedRoom) a = med_room_new ();
  g_autoptr (MedRoom) b = med_room_new ();

  p->calls++;
  a->centre_id = b->centre_id = p->f->centre;
  a->kind = b->kind = MED_ROOM_KIND_WARM;
  a->capacity = b->capacity = 4;
  a->name = g_strdup (p->kill_before_commit ? "提交时断开" : "先加的");
  b->name = g_strdup ("后加的");
  if (med_store_add_room (store, a, "test", error) == 0)
    return FALSE;
  if (p->calls == 1 || p->kill_before_commit)
    kill_connections (p->f);
  if (p->kill_before_commit)
    return TRUE;
  return med_store_add_room (store, b, "test", error) != 0;
}

/* A transaction whose connection goes before COMMIT ran on the server in
 * vain: med_store_run runs it once more on a fresh connection, and its
 * rows are there once. A connection that goes at COMMIT leaves the outcome
 * unknown: UNCERTAIN, not run again. */
static void
test_pg_run_retries (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RunProbe p = { f, 0, FALSE };

  populate (f);
  g_assert_true (med_store_run (f->store, run_probe_txn, &p, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (p.calls, ==, 2);
  g_assert_cmpint (n_rooms_named (f, "先加的"), ==, 1);
  g_assert_cmpint (n_rooms_named (f, "后加的"), ==, 1);

  p.calls = 0;
  p.kill_before_commit = TRUE;
  g_assert_false (med_store_run (f->store, run_probe_txn, &p, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_UNCERTAIN);
  g_assert_cmpuint (p.calls, ==, 1);
  g_clear_error (&error);
  /* here it was not committed; the store carries on */
  g_assert_cmpint (n_rooms_named (f, "提交时断开"), ==, 0);
  g_assert_cmpint (n_rooms_named (f, "先加的"), ==, 1);
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* PostgreSQL keeps the parties' contacts of every confirmed session in
 * booking_party for its exclusion constraint: removing, adding or
 * correcting a party follows there, so the database neither holds a
 * removed person's time nor lets a correction put someone in two places
 * at once. */
static void
test_pg_party_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parties = NULL;
  g_autoptr (MedParty) shared = NULL;
  MedParty *other;
  RawDb *db;

  booked_9_to_10 (f);
  /* case3 shares the applicant's phone with case1 */
  assert_refused (f, f->case3, f->room2, f->med2, 0, "2026-12-07T09:30",
      "2026-12-07T10:30", "a party of case (2026)藏0102民调3号");
  parties = med_store_list_parties (f->store, f->case1, &error);
  g_assert_no_error (error);
  g_assert_true (med_store_remove_party (f->store, f->case1,
      ((MedParty *) parties->pdata[0])->id, "test", &error));
  g_assert_no_error (error);
  db = raw_open (f->path);
  g_assert_cmpint (raw_int (db,
                       "SELECT count(*) FROM booking_party WHERE contact = "
                       "'13800000001'"),
      ==, 0);
  raw_close (db);
  /* the removed party's time is free, for the store and for the schema */
  g_assert_cmpint (book (f, f->case3, f->room2, f->med2, 0, "2026-12-07T09:30",
                       "2026-12-07T10:30", &error),
      >, 0);
  g_assert_no_error (error);
  /* a correction that makes case1's other party case3's applicant clashes
   * with the session just booked */
  other = parties->pdata[1];
  shared = med_party_new ();
  shared->id = other->id;
  shared->case_id = f->case1;
  shared->name = g_strdup (other->name);
  shared->role = other->role;
  shared->language = g_strdup (other->language);
  shared->attendance = other->attendance;
  shared->contact = g_strdup ("13800000001");
  g_assert_false (med_store_update_party (f->store, shared, "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "booking_party_free"));
  g_assert_true (med_store_check (f->store, NULL));
}

/* A PostgreSQL database is backed up by PostgreSQL's tools: medsched
 * says so and writes nothing. */
static void
test_backup_pg_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = g_build_filename (f->dir, "copy.db", NULL);

  booked_9_to_10 (f);
  g_assert_false (med_store_backup (f->store, dest, NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "pg_basebackup"));
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

/* ---- a province: two centres in one store ------------------------------ */

/* A second centre with a room, a mediator and a case (party contact
 * 13900000002); their ids in *room, *med, *kase. */
static gint64
add_centre_2 (Fixture *f, gint64 *room, gint64 *med, gint64 *kase)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) c = med_centre_new_default ();
  gint64 first = f->centre, id;

  g_free (c->name);
  c->name = g_strdup ("日喀则市桑珠孜区调解中心");
  id = med_store_add_centre (f->store, c, "test", &error);
  g_assert_no_error (error);
  f->centre = id;
  *room = add_room (f, "温馨调解室一", MED_ROOM_KIND_WARM, 0, 0);
  *med = add_mediator (f, "达瓦", "zh,bo", 4);
  *kase = add_case (f, "(2026)藏0202民调1号", "13900000002", "");
  f->centre = first;
  return id;
}

/* A user of centre with a token (hash) and a web session (session). */
static gint64
add_user_with (Fixture *f, const char *name, gint64 centre, MedRole role,
    gint64 mediator, const char *hash, const char *session, GError **error)
{
  MedUser u = { 0 };
  gint64 id;

  u.name = (char *) name;
  u.role = role;
  u.mediator_id = mediator;
  u.centre_id = centre;
  u.password = (char *) "pbkdf2-sha256$1000$salt$hash";
  if ((id = med_store_add_user (f->store, &u, "test", error)) == 0)
    return 0;
  g_assert_cmpint (med_store_add_token (f->store, id, hash, 0, "test", error),
      >, 0);
  g_assert_true (med_store_add_session (f->store, session, id,
      "csrf-token-0123456789", at ("2026-12-31T00:00"), error));
  return id;
}

static void
assert_elsewhere (MedStore *store, MedStoreOwned kind, gint64 id, gint64 owner,
    gint64 other)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) missing = NULL;
  g_autofree char *a = NULL, *b = NULL;

  g_assert_true (med_store_in_centre (store, kind, id, owner, &error));
  g_assert_no_error (error);
  g_assert_false (med_store_in_centre (store, kind, id, other, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  /* another centre's row reads as a missing one: the same words */
  g_assert_false (med_store_in_centre (store, kind, 987654, other, &missing));
  g_assert_error (missing, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  a = g_strdup_printf ("%" G_GINT64_FORMAT " in", id);
  b = g_strdup_printf ("%d in", 987654);
  g_assert_nonnull (strstr (error->message, a));
  g_assert_nonnull (strstr (missing->message, b));
  g_assert_cmpint (strlen (error->message) - strlen (a), ==,
      strlen (missing->message) - strlen (b));
}

static void
test_province_rows (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) centres = NULL, parties = NULL;
  gint64 c2, room2, med2, case2, b1, b2, rec, link1, link2, user;

  booked_9_to_10 (f);
  c2 = add_centre_2 (f, &room2, &med2, &case2);
  centres = med_store_list_centres (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (centres->len, ==, 2);
  g_assert_cmpint (((MedCentre *) centres->pdata[0])->id, ==, f->centre);
  g_assert_cmpint (((MedCentre *) centres->pdata[1])->id, ==, c2);
  g_assert_cmpstr (((MedCentre *) centres->pdata[1])->name, ==,
      "日喀则市桑珠孜区调解中心");

  /* rooms and mediators are per centre: the same time books in both */
  b1 = 1;
  b2 = book (f, case2, room2, med2, 0, "2026-12-07T09:00", "2026-12-07T10:00",
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (b2, >, b1);
  /* a case of one centre with the other's room or mediator: refused */
  g_assert_cmpint (book (f, case2, f->room2, med2, 0, "2026-12-07T11:00",
                       "2026-12-07T12:00", &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (book (f, case2, room2, f->med2, 0, "2026-12-07T11:00",
                       "2026-12-07T12:00", &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* every kind of row knows its centre */
  parties = med_store_list_parties (f->store, case2, &error);
  rec = med_store_add_recording (f->store, b1, MED_RECORDING_REGIME_HEARING,
      "/srv/recordings/1", "test", &error);
  g_assert_no_error (error);
  link1 = med_store_add_feed_link (f->store, MED_FEED_LINK_CASE, f->case1,
      ZERO64, 0, "", "test", &error);
  link2 = med_store_add_feed_link (f->store, MED_FEED_LINK_CENTRE, c2,
      "0000000000000000000000000000000000000000000000000000000000000001", 0, "",
      "test", &error);
  user = add_user_with (f, "clerk2", c2, MED_ROLE_CLERK, 0,
      "0000000000000000000000000000000000000000000000000000000000000002",
      "0000000000000000000000000000000000000000000000000000000000000003",
      &error);
  g_assert_no_error (error);
  assert_elsewhere (f->store, MED_STORE_OF_CASE, f->case1, f->centre, c2);
  assert_elsewhere (f->store, MED_STORE_OF_CASE, case2, c2, f->centre);
  assert_elsewhere (f->store, MED_STORE_OF_BOOKING, b1, f->centre, c2);
  assert_elsewhere (f->store, MED_STORE_OF_BOOKING, b2, c2, f->centre);
  assert_elsewhere (f->store, MED_STORE_OF_PARTY,
      ((MedParty *) parties->pdata[0])->id, c2, f->centre);
  assert_elsewhere (f->store, MED_STORE_OF_ROOM, room2, c2, f->centre);
  assert_elsewhere (f->store, MED_STORE_OF_MEDIATOR, f->med1, f->centre, c2);
  assert_elsewhere (f->store, MED_STORE_OF_INTERPRETER, f->interp, f->centre,
      c2);
  assert_elsewhere (f->store, MED_STORE_OF_USER, user, c2, f->centre);
  assert_elsewhere (f->store, MED_STORE_OF_RECORDING, rec, f->centre, c2);
  assert_elsewhere (f->store, MED_STORE_OF_FEED_LINK, link1, f->centre, c2);
  assert_elsewhere (f->store, MED_STORE_OF_FEED_LINK, link2, c2, f->centre);
  /* a link to a row that is not there belongs nowhere */
  link1 = med_store_add_feed_link (f->store, MED_FEED_LINK_ROOM, 987654,
      "0000000000000000000000000000000000000000000000000000000000000004", 0, "",
      "test", &error);
  g_assert_false (med_store_in_centre (f->store, MED_STORE_OF_FEED_LINK, link1,
      f->centre, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (med_store_check (f->store, &error));
  g_assert_no_error (error);
}

static void
test_province_users_links (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedUser) u = NULL;
  g_autoptr (MedFeedLink) l = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *csrf = NULL, *tok = NULL;
  const char *h1 = ZERO64;
  const char *h2
      = "1111111111111111111111111111111111111111111111111111111111111111";
  const char *s1
      = "2222222222222222222222222222222222222222222222222222222222222222";
  const char *s2
      = "3333333333333333333333333333333333333333333333333333333333333333";
  const char *l1
      = "4444444444444444444444444444444444444444444444444444444444444444";
  gint64 c2, room2, med2, case2, u1, u2, bid = 0, pid = 0;
  RawDb *db;

  booked_9_to_10 (f);
  c2 = add_centre_2 (f, &room2, &med2, &case2);

  /* a user belongs to an existing centre; a mediator user to their
   * mediator's */
  g_assert_cmpint (add_user_with (f, "nowhere", 0, MED_ROLE_CLERK, 0, h1, s1,
                       &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (add_user_with (f, "nowhere", 987, MED_ROLE_CLERK, 0, h1, s1,
                       &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (add_user_with (f, "dawa", f->centre, MED_ROLE_MEDIATOR, med2,
                       h1, s1, &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  u1 = add_user_with (f, "clerk1", f->centre, MED_ROLE_CLERK, 0, h1, s1,
      &error);
  u2 = add_user_with (f, "dawa", c2, MED_ROLE_MEDIATOR, med2, h2, s2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (u1, >, 0);
  g_assert_cmpint (u2, >, u1);
  /* names are the whole database's */
  g_assert_cmpint (add_user_with (f, "clerk1", c2, MED_ROLE_CLERK, 0, l1, l1,
                       &error),
      ==, 0);
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  /* the schema refuses what the store would not write */
  db = raw_open (f->path);
  g_assert_cmpint (raw_exec (db,
                       "INSERT INTO app_user (name, role, password, "
                       "created_at) VALUES ('raw', 'clerk', 'x', 0)",
                       NULL),
      !=, RAW_OK);
  {
    g_autofree char *sql
        = g_strdup_printf ("UPDATE app_user SET centre_id = %" G_GINT64_FORMAT
                           " WHERE name = 'dawa'",
            f->centre);

    g_assert_cmpint (raw_exec (db, sql, NULL), !=, RAW_OK);
  }
  raw_close (db);

  /* tokens and sessions open their own centre only */
  u = med_store_user_by_token (f->store, f->centre, h1, at ("2026-12-07"),
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (u->id, ==, u1);
  g_assert_cmpint (u->centre_id, ==, f->centre);
  g_clear_pointer (&u, med_user_free);
  g_assert_null (
      med_store_user_by_token (f->store, c2, h1, at ("2026-12-07"), &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  u = med_store_session_user (f->store, c2, s2, at ("2026-12-07"), &csrf,
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (u->id, ==, u2);
  g_assert_cmpint (u->centre_id, ==, c2);
  g_assert_cmpstr (csrf, ==, "csrf-token-0123456789");
  g_clear_pointer (&u, med_user_free);
  g_assert_null (med_store_session_user (f->store, f->centre, s2,
      at ("2026-12-07"), NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = med_store_list_users (f->store, c2, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((MedUser *) list->pdata[0])->name, ==, "dawa");
  g_clear_pointer (&list, g_ptr_array_unref);

  /* feed links and join links resolve on their own centre only */
  g_assert_cmpint (med_store_add_feed_link (f->store, MED_FEED_LINK_ROOM,
                       f->room1, l1, 0, "", "test", &error),
      >, 0);
  l = med_store_find_feed_link (f->store, f->centre, l1, at ("2026-12-07"),
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (l->ref_id, ==, f->room1);
  g_assert_null (
      med_store_find_feed_link (f->store, c2, l1, at ("2026-12-07"), &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = med_store_list_feed_links (f->store, c2, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = med_store_list_feed_links (f->store, f->centre, &error);
  g_assert_cmpuint (list->len, ==, 1);
  tok = med_store_join_token (f->store, 1, 1, &error);
  g_assert_true (med_store_join_lookup (f->store, f->centre, tok, 0, 0, &bid,
      &pid, &error));
  g_assert_cmpint (bid, ==, 1);
  g_assert_false (
      med_store_join_lookup (f->store, c2, tok, 0, 0, &bid, &pid, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (med_store_join_reissue (f->store, 1, 1, "test", NULL, &error));
  g_assert_true (med_store_join_lookup_replaced (f->store, f->centre, tok, 0, 0,
      NULL, NULL, &error));
  g_assert_false (med_store_join_lookup_replaced (f->store, c2, tok, 0, 0, NULL,
      NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
}

/* A store from before centres had users (schema 6 on SQLite, 4 on
 * PostgreSQL), made by taking migration 7's column away again: opening it
 * gives each user their mediator's centre, the others the first centre. */
static void
test_migrate_users_to_centres (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedUser) clerk = NULL, dawa = NULL;
  gint64 c2, room2, med2, case2;
  RawDb *db;

  populate (f);
  c2 = add_centre_2 (f, &room2, &med2, &case2);
  g_assert_cmpint (add_user_with (f, "clerk", f->centre, MED_ROLE_CLERK, 0,
                       ZERO64,
                       "1111111111111111111111111111111111111111111111111111"
                       "111111111111",
                       &error),
      >, 0);
  g_assert_cmpint (add_user_with (f, "dawa", c2, MED_ROLE_MEDIATOR, med2,
                       "2222222222222222222222222222222222222222222222222222"
                       "222222222222",
                       "3333333333333333333333333333333333333333333333333333"
                       "333333333333",
                       &error),
      >, 0);
  g_assert_no_error (error);
  g_clear_pointer (&f->store, med_store_close);
  db = raw_open (f->path);
  if (raw_is_pg (db)) {
    g_assert_cmpint (raw_exec (db,
                         "DROP TRIGGER app_user_guard ON app_user;"
                         "DROP FUNCTION app_user_guard();"
                         "ALTER TABLE app_user DROP COLUMN centre_id;"
                         "ALTER TABLE capability DROP COLUMN language;"
                         "UPDATE medsched_meta SET value = '4' "
                         "WHERE key = 'schema_version'",
                         NULL),
        ==, RAW_OK);
  } else {
    /* SQLite drops no column a foreign key names: the table of schema 6 */
    g_assert_cmpint (raw_exec (db,
                         "CREATE TABLE app_user_6 ("
                         "  id INTEGER PRIMARY KEY,"
                         "  name TEXT NOT NULL UNIQUE,"
                         "  role TEXT NOT NULL,"
                         "  mediator_id INTEGER REFERENCES mediator (id),"
                         "  password TEXT NOT NULL,"
                         "  disabled INTEGER NOT NULL DEFAULT 0,"
                         "  created_at INTEGER NOT NULL);"
                         "INSERT INTO app_user_6 SELECT id, name, role, "
                         "  mediator_id, password, disabled, created_at "
                         "  FROM app_user;"
                         "DROP TABLE app_user;"
                         "ALTER TABLE app_user_6 RENAME TO app_user;"
                         "ALTER TABLE capability DROP COLUMN language;"
                         "PRAGMA user_version = 6",
                         NULL),
        ==, RAW_OK);
  }
  raw_close (db);
  f->store = med_store_open (f->path, &error);
  g_assert_no_error (error);
  clerk = med_store_find_user (f->store, "clerk", &error);
  dawa = med_store_find_user (f->store, "dawa", &error);
  g_assert_no_error (error);
  g_assert_cmpint (clerk->centre_id, ==, f->centre);
  g_assert_cmpint (dawa->centre_id, ==, c2);
  /* and the migration's guard holds from now on */
  db = raw_open (f->path);
  g_assert_cmpint (raw_exec (db,
                       "INSERT INTO app_user (name, role, password, "
                       "created_at) VALUES ('raw', 'clerk', 'x', 0)",
                       NULL),
      !=, RAW_OK);
  raw_close (db);
  g_assert_true (med_store_check (f->store, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *path;
    void (*func) (Fixture *, gconstpointer);
    int only; /* 0: both drivers, 1: SQLite only, 2: PostgreSQL only */
  } tests[] = {
    { "/store/open/fresh", test_open_fresh },
    { "/store/open/reopen", test_open_reopen },
    { "/store/open/too-new", test_open_too_new },
    { "/store/open/foreign", test_open_foreign },
    { "/store/open/garbage", test_open_garbage, 1 },
    { "/store/entities/round-trip", test_entities_round_trip },
    { "/store/entities/enum-words", test_entities_enum_words },
    { "/store/entities/invalid", test_entities_invalid },
    { "/store/booking/ok", test_booking_ok },
    { "/store/booking/conflict-room", test_conflict_room },
    { "/store/booking/conflict-room-buffer", test_conflict_room_buffer },
    { "/store/booking/conflict-mediator", test_conflict_mediator },
    { "/store/booking/conflict-interpreter", test_conflict_interpreter },
    { "/store/booking/conflict-case", test_conflict_case },
    { "/store/booking/conflict-party", test_conflict_party },
    { "/store/booking/conflict-leave", test_conflict_leave },
    { "/store/booking/conflict-daily-cap", test_conflict_daily_cap },
    { "/store/booking/trigger", test_booking_trigger },
    { "/store/booking/reschedule", test_booking_reschedule },
    { "/store/booking/cancel", test_booking_cancel },
    { "/store/booking/concurrent-writers", test_concurrent_writers },
    { "/store/case/status", test_case_status },
    { "/store/audit/tamper", test_audit_tamper },
    { "/store/import/doc-all-or-nothing", test_import_doc },
    { "/store/notice/import-replace", test_notice_import },
    { "/store/snapshot/load", test_snapshot },
    { "/store/transaction/explicit", test_transaction },
    { "/store/check/finds-overlap", test_check_finds_overlap },
    { "/store/migrate/v1-to-v2", test_migrate_v1, 1 },
    { "/store/outbox/queue-claim-send-fail", test_outbox },
    { "/store/reply/apply", test_replies },
    { "/store/busy/replace", test_external_busy },
    { "/store/join/token", test_join_token },
    { "/store/booking/note-and-email", test_note_and_email },
    { "/store/backup/while-writing", test_backup_while_writing, 1 },
    { "/store/backup/refuses", test_backup_refuses, 1 },
    { "/store/backup/dir-keep", test_backup_dir_keep, 1 },
    { "/store/restore/checks", test_restore_checks, 1 },
    { "/store/backup/postgresql-refused", test_backup_pg_refused, 2 },
    { "/store/race/audit-chain", test_race_audit_chain },
    { "/store/data-version/other-connections", test_data_version },
    { "/store/data-version/per-epoch", test_data_version_epoch },
    { "/store/postgresql/reconnect", test_pg_reconnect, 2 },
    { "/store/postgresql/party-sessions", test_pg_party_sessions, 2 },
    { "/store/postgresql/run-retries-once", test_pg_run_retries, 2 },
    { "/store/race/outbox-claims", test_race_outbox_claims },
    { "/store/audit/anchor", test_audit_anchor },
    { "/store/province/rows", test_province_rows },
    { "/store/province/users-and-links", test_province_users_links },
    { "/store/migrate/users-to-centres", test_migrate_users_to_centres },
  };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++) {
    if (tests[i].only == (test_db_pg () ? 1 : 2))
      continue;
    g_test_add (tests[i].path, Fixture, NULL, fixture_setup, tests[i].func,
        fixture_teardown);
  }
  return g_test_run ();
}
