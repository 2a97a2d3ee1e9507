/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-import.c — the JSON import document: a good document round-trips
 * Chinese and Tibetan text, and every kind of hostile input (wrong types
 * at each field, unknown members, deep nesting, invalid UTF-8, oversize,
 * huge numbers, truncation) gives a GError naming the place. */
#include <medsched/med-model.h>

#include <string.h>

static const char good[]
    = "{\"rooms\":[{\"name\":\"温馨调解室一\",\"kind\":\"warm\",\"capacity\":8,"
      "\"features\":[\"video\"],\"setup_minutes\":10,\"cleanup_minutes\":5},"
      "{\"name\":\"远程调解室\",\"kind\":\"remote\"}],"
      "\"mediators\":[{\"name\":\"བཀྲ་ཤིས་ཚེ་རིང\",\"languages\":[\"zh\",\"bo\"],"
      "\"specialties\":[\"wages\",\"land\"],\"daily_cap\":5,"
      "\"leave\":[{\"start\":\"2026-12-08T00:00\",\"end\":\"2026-12-09\"}]}],"
      "\"interpreters\":[{\"name\":\"卓玛\",\"pairs\":[\"zh:bo\"]}],"
      "\"cases\":[{\"number\":\"(2026)藏0102调1号\",\"kind\":\"wages\","
      "\"urgent\":true,\"intake_at\":\"2026-12-07T08:30\",\"deadline\":"
      "\"2026-12-20\",\"duration_minutes\":90,\"summary\":\"欠薪\\n两个月\","
      "\"department\":\"court-mediation\",\"parties\":[{\"name\":\"张三\","
      "\"role\":\"applicant\",\"language\":\"zh\",\"attendance\":\"in-person\","
      "\"contact\":\"13800000001\"},{\"name\":\"次仁\",\"role\":\"respondent\","
      "\"language\":\"bo\",\"attendance\":\"remote\"}]}]}";

static MedImportDoc *
parse (const char *text, GError **error)
{
  return med_import_doc_parse (text, strlen (text), "Asia/Shanghai", error);
}

static void
test_good (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedImportDoc) doc = parse (good, &error);
  MedRoom *r;
  MedMediator *m;
  MedCase *c;
  MedParty *p;

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  g_assert_cmpuint (doc->rooms->len, ==, 2);
  r = g_ptr_array_index (doc->rooms, 0);
  g_assert_cmpstr (r->name, ==, "温馨调解室一");
  g_assert_cmpint (r->capacity, ==, 8);
  g_assert_cmpint (r->setup_minutes, ==, 10);
  r = g_ptr_array_index (doc->rooms, 1);
  g_assert_true (r->features & MED_ROOM_FEATURE_VIDEO);
  m = g_ptr_array_index (doc->mediators, 0);
  g_assert_cmpstr (m->name, ==, "བཀྲ་ཤིས་ཚེ་རིང");
  g_assert_cmpuint (g_strv_length (m->languages), ==, 2);
  g_assert_cmpuint (m->leave->len, ==, 1);
  c = g_ptr_array_index (doc->cases, 0);
  g_assert_cmpstr (c->number, ==, "(2026)藏0102调1号");
  g_assert_true (c->urgent);
  g_assert_cmpint (c->status, ==, MED_CASE_STATUS_DISPATCHED);
  g_assert_cmpint (c->department, ==, MED_DEPARTMENT_COURT_MEDIATION);
  g_assert_cmpint (c->duration_minutes, ==, 90);
  g_assert_cmpstr (c->summary, ==, "欠薪\n两个月");
  p = g_ptr_array_index ((GPtrArray *) g_ptr_array_index (doc->case_parties, 0),
      1);
  g_assert_cmpint (p->attendance, ==, MED_ATTENDANCE_REMOTE);
  g_assert_null (p->contact);
}

static void
test_empty_document (void)
{
  g_autoptr (MedImportDoc) doc = parse ("{}", NULL);

  g_assert_nonnull (doc);
  g_assert_cmpuint (doc->cases->len, ==, 0);
}

/* Each bad document and a fragment its error message must contain. */
static const struct
{
  const char *json;
  const char *expect;
} bad[] = {
  { "", "JSON object" },
  { "[]", "must be a JSON object" },
  { "{\"rooms\":{}}", "rooms: must be an array" },
  { "{\"nonsense\":[]}", "$.nonsense: unknown member" },
  { "{\"rooms\":[1]}", "rooms[0]: must be an object" },
  { "{\"rooms\":[{\"name\":1,\"kind\":\"warm\"}]}",
      "rooms[0].name: must be a string" },
  { "{\"rooms\":[{\"name\":{},\"kind\":\"warm\"}]}",
      "rooms[0].name: must be a string" },
  { "{\"rooms\":[{\"name\":[\"a\"],\"kind\":\"warm\"}]}", "must be a string" },
  { "{\"rooms\":[{\"kind\":\"warm\"}]}", "rooms[0].name: is required" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"ballroom\"}]}",
      "unknown room kind" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\",\"capacity\":\"8\"}]}",
      "capacity: must be an integer" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\",\"capacity\":8.5}]}",
      "capacity: must be an integer" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\",\"capacity\":99999999999999999999}]}",
      "capacity" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\",\"capacity\":-3}]}",
      "must be between" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\",\"extra\":1}]}",
      "rooms[0].extra: unknown member" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\",\"features\":\"video\"}]}",
      "features: must be an array" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\",\"features\":[\"video,x\"]}]}",
      "commas" },
  { "{\"rooms\":[{\"name\":\"a\\u0000b\",\"kind\":\"warm\"}]}", "" },
  { "{\"rooms\":[{\"name\":\"a\\u001bb\",\"kind\":\"warm\"}]}",
      "control character" },
  { "{\"mediators\":[{\"name\":\"a\",\"languages\":[\"zh\"],\"specialties\":[\"wages\"],\"daily_cap\":true}]}",
      "daily_cap: must be an integer" },
  { "{\"mediators\":[{\"name\":\"a\",\"languages\":[],\"specialties\":[\"wages\"]}]}",
      "at least one language" },
  { "{\"mediators\":[{\"name\":\"a\",\"languages\":[\"Chinese\"],\"specialties\":[]}]}",
      "languages[0]" },
  { "{\"mediators\":[{\"name\":\"a\",\"languages\":[\"zh\"],\"leave\":[{\"start\":\"2026-12-09\",\"end\":\"2026-12-08\"}]}]}",
      "end must be after start" },
  { "{\"interpreters\":[{\"name\":\"a\",\"pairs\":[\"zh-bo\"]}]}", "pairs[0]" },
  { "{\"interpreters\":[{\"name\":\"a\",\"pairs\":[\"zh:zh\"]}]}", "pairs[0]" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\"}]}", "cases[0].parties" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\",\"parties\":[]}]}",
      "1 to 64" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\",\"deadline\":\"soon\",\"parties\":[]}]}",
      "cases[0].deadline" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\",\"minors\":\"yes\",\"parties\":[]}]}",
      "minors: must be true or false" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\",\"parties\":[{\"name\":\"a\",\"role\":\"judge\",\"language\":\"zh\"}]}]}",
      "unknown party role" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\",\"parties\":[{\"name\":\"a\",\"role\":\"applicant\",\"language\":\"zh\",\"attendance\":\"telepathy\"}]}]}",
      "parties[0].attendance" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\",\"parties\":[{\"name\":\"a\",\"role\":\"applicant\",\"language\":\"zh\"}]},{\"number\":\"1\",\"kind\":\"land\",\"parties\":[{\"name\":\"a\",\"role\":\"applicant\",\"language\":\"zh\"}]}]}",
      "appears twice" },
  { "{\"cases\":[{\"number\":\"1\",\"kind\":\"wages\",\"intake_at\":\"2026-12-20\",\"deadline\":\"2026-12-01\",\"parties\":[{\"name\":\"a\",\"role\":\"applicant\",\"language\":\"zh\"}]}]}",
      "deadline is before intake" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\"}", "not valid JSON" },
  { "{\"rooms\":[{\"name\":\"a\",\"kind\":\"warm\"}]} trailing",
      "not valid JSON" },
};

static void
test_bad (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedImportDoc) doc = NULL;
    gsize len = strlen (bad[i].json);

    /* the \u0000 case is the only one whose length strlen gets right too */
    doc = med_import_doc_parse (bad[i].json, len, "Asia/Shanghai", &error);
    if (doc != NULL)
      g_error ("case %u accepted: %s", i, bad[i].json);
    g_assert_nonnull (error);
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
    if (strstr (error->message, bad[i].expect) == NULL)
      g_error ("case %u: “%s” lacks “%s”", i, error->message, bad[i].expect);
  }
}

static void
test_overlong_name (void)
{
  g_autoptr (GString) s = g_string_new ("{\"rooms\":[{\"kind\":\"warm\","
                                        "\"name\":\"");
  g_autoptr (GError) error = NULL;
  g_autoptr (MedImportDoc) doc = NULL;

  for (int i = 0; i < 100; i++)
    g_string_append (s, "调");
  g_string_append (s, "\"}]}");
  doc = parse (s->str, &error);
  g_assert_null (doc);
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TOO_LONG);
}

static void
test_invalid_utf8 (void)
{
  static const char latin1[] = "{\"rooms\":[{\"name\":\"Caf\xe9\",\"kind\":"
                               "\"warm\"}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (MedImportDoc) doc = parse (latin1, &error);

  g_assert_null (doc);
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING);
}

static void
test_deep_nesting (void)
{
  g_autoptr (GString) s = g_string_new ("{\"rooms\":");
  g_autoptr (GError) error = NULL;
  g_autoptr (MedImportDoc) doc = NULL;

  for (int i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  doc = parse (s->str, &error);
  g_assert_null (doc);
  g_assert_nonnull (strstr (error->message, "nests deeper"));
}

static void
test_oversize (void)
{
  gsize len = MED_MAX_IMPORT_BYTES + 1;
  g_autofree char *big = g_malloc (len);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedImportDoc) doc = NULL;

  memset (big, ' ', len);
  doc = med_import_doc_parse (big, len, "Asia/Shanghai", &error);
  g_assert_null (doc);
  g_assert_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TOO_LONG);
}

static void
test_truncated (void)
{
  gsize n = strlen (good);

  /* Every prefix of a good document is refused cleanly. */
  for (gsize cut = 0; cut < n; cut += 7) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedImportDoc) doc
        = med_import_doc_parse (good, cut, "Asia/Shanghai", &error);

    g_assert_null (doc);
    g_assert_nonnull (error);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/import/good", test_good);
  g_test_add_func ("/import/empty", test_empty_document);
  g_test_add_func ("/import/hostile/types", test_bad);
  g_test_add_func ("/import/hostile/overlong", test_overlong_name);
  g_test_add_func ("/import/hostile/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/import/hostile/deep-nesting", test_deep_nesting);
  g_test_add_func ("/import/hostile/oversize", test_oversize);
  g_test_add_func ("/import/hostile/truncated", test_truncated);
  return g_test_run ();
}
