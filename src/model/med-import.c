/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-import.c — reads the JSON import document (docs/import-format.md):
 * rooms, mediators, interpreters, cases and their parties.
 *
 * The whole document is parsed and validated in memory before the store
 * writes anything; every error names the JSON path of the offending value
 * ("cases[3].parties[0].language: …"). json-glib prints CRITICALs when a
 * getter meets the wrong node type, so every member's type is checked
 * before it is read, and unknown members are refused. */
#define G_LOG_DOMAIN "medsched-model"

#include <medsched/med-model.h>

#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_DEPTH 16

typedef struct
{
  const char *zone;
  GError **error;
} Ctx;

static gboolean
fail (Ctx *ctx, const char *path, GError *cause)
{
  g_set_error (ctx->error, MED_MODEL_ERROR,
      cause ? cause->code : MED_MODEL_ERROR_INVALID, "%s: %s", path,
      cause ? cause->message : "invalid value");
  g_clear_error (&cause);
  return FALSE;
}

static gboolean
fail_msg (Ctx *ctx, const char *path, const char *msg)
{
  g_set_error (ctx->error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID, "%s: %s",
      path, msg);
  return FALSE;
}

/* JSON nesting is limited before json-glib's recursive parser sees it;
 * escaped NULs and raw control characters in strings are refused. */
static gboolean
check_depth (const char *data, gsize len, GError **error)
{
  int depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++) {
    char c = data[i];

    if (in_string) {
      if (c == '\\') {
        /* json-glib would cut the string at an escaped NUL */
        if (i + 5 < len && memcmp (data + i + 1, "u0000", 5) == 0) {
          g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING,
              "import document contains a NUL character (\\u0000)");
          return FALSE;
        }
        i++;
      } else if (c == '"') {
        in_string = FALSE;
      } else if ((unsigned char) c < 0x20) {
        /* invalid JSON (RFC 8259), and json-glib 1.6 leaks on it */
        g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING,
            "import document has a raw control character in a string");
        return FALSE;
      }
      continue;
    }
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > MAX_DEPTH) {
        g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
            "import document nests deeper than %d levels", MAX_DEPTH);
        return FALSE;
      }
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return TRUE;
}

/* Refuses members not in allowed (NULL-terminated). */
static gboolean
check_members (Ctx *ctx, const char *path, JsonObject *o,
    const char *const *allowed)
{
  g_autoptr (GList) names = json_object_get_members (o);

  for (GList *l = names; l != NULL; l = l->next) {
    if (!g_strv_contains (allowed, l->data)) {
      g_autofree char *p = NULL;

      if (g_utf8_validate (l->data, -1, NULL) && strlen (l->data) < 64)
        p = g_strdup_printf ("%s.%s", path, (const char *) l->data);
      else
        p = g_strdup_printf ("%s.?", path);
      return fail_msg (ctx, p, "unknown member");
    }
  }
  return TRUE;
}

static JsonNode *
member (JsonObject *o, const char *name)
{
  return json_object_has_member (o, name) ? json_object_get_member (o, name)
                                          : NULL;
}

/* Reads an optional string member; *out stays untouched when absent. */
static gboolean
get_string (Ctx *ctx, const char *path, JsonObject *o, const char *name,
    gboolean required, gsize max, gboolean multiline, const char **out)
{
  JsonNode *n = member (o, name);
  g_autofree char *p = g_strdup_printf ("%s.%s", path, name);
  GError *err = NULL;
  const char *s;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n)) {
    if (required)
      return fail_msg (ctx, p, "is required");
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return fail_msg (ctx, p, "must be a string");
  s = json_node_get_string (n);
  if (!med_validate_text (s, max, multiline, FALSE, "value", &err))
    return fail (ctx, p, err);
  *out = s;
  return TRUE;
}

static gboolean
get_int (Ctx *ctx, const char *path, JsonObject *o, const char *name, gint64 lo,
    gint64 hi, gint *out)
{
  JsonNode *n = member (o, name);
  g_autofree char *p = g_strdup_printf ("%s.%s", path, name);
  gint64 v;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    return fail_msg (ctx, p, "must be an integer");
  v = json_node_get_int (n);
  if (v < lo || v > hi) {
    g_autofree char *msg = g_strdup_printf ("must be between %" G_GINT64_FORMAT
                                            " and %" G_GINT64_FORMAT,
        lo, hi);
    return fail_msg (ctx, p, msg);
  }
  *out = (gint) v;
  return TRUE;
}

static gboolean
get_bool (Ctx *ctx, const char *path, JsonObject *o, const char *name,
    gboolean *out)
{
  JsonNode *n = member (o, name);
  g_autofree char *p = g_strdup_printf ("%s.%s", path, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return fail_msg (ctx, p, "must be true or false");
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
get_time (Ctx *ctx, const char *path, JsonObject *o, const char *name,
    gboolean required, MedTime *out)
{
  const char *s = NULL;
  g_autofree char *p = g_strdup_printf ("%s.%s", path, name);
  GError *err = NULL;

  if (!get_string (ctx, path, o, name, required, 32, FALSE, &s))
    return FALSE;
  if (s == NULL)
    return TRUE;
  if (!med_time_parse_local (s, ctx->zone, out, &err))
    return fail (ctx, p, err);
  return TRUE;
}

/* An array of strings, each checked by check (may be NULL). */
static gboolean
get_strv (Ctx *ctx, const char *path, JsonObject *o, const char *name,
    guint max_items, gboolean (*check) (const char *, GError **), char ***out)
{
  JsonNode *n = member (o, name);
  g_autofree char *p = g_strdup_printf ("%s.%s", path, name);
  g_autoptr (GStrvBuilder) b = NULL;
  JsonArray *a;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return fail_msg (ctx, p, "must be an array of strings");
  a = json_node_get_array (n);
  if (json_array_get_length (a) > max_items)
    return fail_msg (ctx, p, "has too many items");
  b = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    g_autofree char *ep = g_strdup_printf ("%s[%u]", p, i);
    GError *err = NULL;
    const char *s;

    if (!JSON_NODE_HOLDS_VALUE (e)
        || json_node_get_value_type (e) != G_TYPE_STRING)
      return fail_msg (ctx, ep, "must be a string");
    s = json_node_get_string (e);
    if (!med_validate_text (s, 64, FALSE, FALSE, "value", &err))
      return fail (ctx, ep, err);
    if (check != NULL && !check (s, &err))
      return fail (ctx, ep, err);
    g_strv_builder_add (b, s);
  }
  *out = g_strv_builder_end (b);
  return TRUE;
}

static gboolean
check_pair (const char *s, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (s, ":", -1);

  if (g_strv_length (parts) != 2 || !med_validate_language (parts[0], NULL)
      || !med_validate_language (parts[1], NULL)
      || strcmp (parts[0], parts[1]) == 0) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
        "language pair must look like zh:bo");
    return FALSE;
  }
  return TRUE;
}

/* Joins a string array member into a comma list and feeds it to a bit-set
 * parser. */
static gboolean
get_bits (Ctx *ctx, const char *path, JsonObject *o, const char *name,
    gboolean (*parse) (const char *, guint *, GError **), guint *out)
{
  g_auto (GStrv) words = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *p = g_strdup_printf ("%s.%s", path, name);
  GError *err = NULL;

  if (!get_strv (ctx, path, o, name, 32, NULL, &words))
    return FALSE;
  if (words == NULL)
    return TRUE;
  for (guint i = 0; words[i]; i++) {
    if (strchr (words[i], ',') != NULL)
      return fail_msg (ctx, p, "items must not contain commas");
  }
  joined = g_strjoinv (",", words);
  if (!parse (joined, out, &err))
    return fail (ctx, p, err);
  return TRUE;
}

#define GET_ENUM(ctx, path, o, name, required, parser, out)                    \
  ({                                                                           \
    const char *s_ = NULL;                                                     \
    gboolean ok_ = get_string (ctx, path, o, name, required, 64, FALSE, &s_);  \
    if (ok_ && s_ != NULL) {                                                   \
      GError *e_ = NULL;                                                       \
      g_autofree char *p_ = g_strdup_printf ("%s.%s", path, name);             \
      if (!parser (s_, out, &e_))                                              \
        ok_ = fail (ctx, p_, e_);                                              \
    }                                                                          \
    ok_;                                                                       \
  })

static JsonArray *
get_array (Ctx *ctx, JsonObject *root, const char *name, gboolean *ok)
{
  JsonNode *n = member (root, name);

  *ok = TRUE;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (n)) {
    *ok = fail_msg (ctx, name, "must be an array");
    return NULL;
  }
  return json_node_get_array (n);
}

static JsonObject *
element_object (Ctx *ctx, JsonArray *a, guint i, const char *path)
{
  JsonNode *e = json_array_get_element (a, i);

  if (!JSON_NODE_HOLDS_OBJECT (e)) {
    fail_msg (ctx, path, "must be an object");
    return NULL;
  }
  return json_node_get_object (e);
}

static MedRoom *
parse_room (Ctx *ctx, const char *path, JsonObject *o)
{
  static const char *const allowed[] = { "name", "kind", "capacity", "features",
    "setup_minutes", "cleanup_minutes", NULL };
  g_autoptr (MedRoom) r = med_room_new ();
  const char *name = NULL;

  if (!check_members (ctx, path, o, allowed)
      || !get_string (ctx, path, o, "name", TRUE, MED_MAX_NAME_BYTES, FALSE,
          &name)
      || !GET_ENUM (ctx, path, o, "kind", TRUE, med_room_kind_from_string,
          &r->kind)
      || !get_int (ctx, path, o, "capacity", 1, 500, &r->capacity)
      || !get_bits (ctx, path, o, "features", med_room_features_from_string,
          &r->features)
      || !get_int (ctx, path, o, "setup_minutes", 0, 240, &r->setup_minutes)
      || !get_int (ctx, path, o, "cleanup_minutes", 0, 240,
          &r->cleanup_minutes))
    return NULL;
  r->name = g_strdup (name);
  if (r->kind == MED_ROOM_KIND_REMOTE)
    r->features |= MED_ROOM_FEATURE_VIDEO;
  return g_steal_pointer (&r);
}

static gboolean
parse_leave (Ctx *ctx, const char *path, JsonObject *o, GArray **out)
{
  JsonNode *n = member (o, "leave");
  g_autofree char *p = g_strdup_printf ("%s.leave", path);
  g_autoptr (GArray) leave = NULL;
  JsonArray *a;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return fail_msg (ctx, p, "must be an array");
  a = json_node_get_array (n);
  if (json_array_get_length (a) > 1000)
    return fail_msg (ctx, p, "has too many items");
  leave = g_array_new (FALSE, FALSE, sizeof (MedInterval));
  for (guint i = 0; i < json_array_get_length (a); i++) {
    static const char *const allowed[] = { "start", "end", NULL };
    g_autofree char *ep = g_strdup_printf ("%s[%u]", p, i);
    JsonObject *e = element_object (ctx, a, i, ep);
    MedInterval iv = { 0 };

    if (e == NULL || !check_members (ctx, ep, e, allowed)
        || !get_time (ctx, ep, e, "start", TRUE, &iv.start)
        || !get_time (ctx, ep, e, "end", TRUE, &iv.end))
      return FALSE;
    if (iv.end <= iv.start)
      return fail_msg (ctx, ep, "end must be after start");
    g_array_append_val (leave, iv);
  }
  *out = g_steal_pointer (&leave);
  return TRUE;
}

static MedMediator *
parse_mediator (Ctx *ctx, const char *path, JsonObject *o)
{
  static const char *const allowed[]
      = { "name", "languages", "specialties", "daily_cap", "leave", NULL };
  g_autoptr (MedMediator) m = med_mediator_new ();
  const char *name = NULL;

  if (!check_members (ctx, path, o, allowed)
      || !get_string (ctx, path, o, "name", TRUE, MED_MAX_NAME_BYTES, FALSE,
          &name)
      || !get_strv (ctx, path, o, "languages", 16, med_validate_language,
          &m->languages)
      || !get_bits (ctx, path, o, "specialties", med_specialties_from_string,
          &m->specialties)
      || !get_int (ctx, path, o, "daily_cap", 1, 24, &m->daily_cap)
      || !parse_leave (ctx, path, o, &m->leave))
    return NULL;
  if (m->languages == NULL || m->languages[0] == NULL) {
    g_autofree char *p = g_strdup_printf ("%s.languages", path);
    fail_msg (ctx, p, "at least one language is required");
    return NULL;
  }
  m->name = g_strdup (name);
  return g_steal_pointer (&m);
}

static MedInterpreter *
parse_interpreter (Ctx *ctx, const char *path, JsonObject *o)
{
  static const char *const allowed[] = { "name", "pairs", NULL };
  g_autoptr (MedInterpreter) it = med_interpreter_new ();
  const char *name = NULL;

  if (!check_members (ctx, path, o, allowed)
      || !get_string (ctx, path, o, "name", TRUE, MED_MAX_NAME_BYTES, FALSE,
          &name)
      || !get_strv (ctx, path, o, "pairs", 16, check_pair, &it->pairs))
    return NULL;
  if (it->pairs == NULL || it->pairs[0] == NULL) {
    g_autofree char *p = g_strdup_printf ("%s.pairs", path);
    fail_msg (ctx, p, "at least one language pair is required");
    return NULL;
  }
  it->name = g_strdup (name);
  return g_steal_pointer (&it);
}

static MedParty *
parse_party (Ctx *ctx, const char *path, JsonObject *o)
{
  static const char *const allowed[]
      = { "name", "role", "language", "attendance", "contact", NULL };
  g_autoptr (MedParty) p = med_party_new ();
  const char *name = NULL, *lang = NULL, *contact = NULL;
  g_autofree char *lp = g_strdup_printf ("%s.language", path);
  GError *err = NULL;

  if (!check_members (ctx, path, o, allowed)
      || !get_string (ctx, path, o, "name", TRUE, MED_MAX_NAME_BYTES, FALSE,
          &name)
      || !GET_ENUM (ctx, path, o, "role", TRUE, med_party_role_from_string,
          &p->role)
      || !get_string (ctx, path, o, "language", TRUE, 8, FALSE, &lang)
      || !GET_ENUM (ctx, path, o, "attendance", FALSE,
          med_attendance_from_string, &p->attendance)
      || !get_string (ctx, path, o, "contact", FALSE, MED_MAX_NAME_BYTES, FALSE,
          &contact))
    return NULL;
  if (!med_validate_language (lang, &err)) {
    fail (ctx, lp, err);
    return NULL;
  }
  p->name = g_strdup (name);
  p->language = g_strdup (lang);
  p->contact = g_strdup (contact);
  return g_steal_pointer (&p);
}

static gboolean
parse_case (Ctx *ctx, const char *path, JsonObject *o, MedCase **out_case,
    GPtrArray **out_parties)
{
  static const char *const allowed[]
      = { "number", "kind", "minors", "urgent", "intake_at", "deadline",
          "duration_minutes", "summary", "department", "parties", NULL };
  g_autoptr (MedCase) c = med_case_new ();
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  const char *number = NULL, *summary = NULL;
  g_autofree char *pp = g_strdup_printf ("%s.parties", path);
  JsonNode *pn;
  JsonArray *pa;

  c->status = MED_CASE_STATUS_INTAKE;
  if (!check_members (ctx, path, o, allowed)
      || !get_string (ctx, path, o, "number", TRUE, MED_MAX_NAME_BYTES, FALSE,
          &number)
      || !GET_ENUM (ctx, path, o, "kind", TRUE, med_case_kind_from_string,
          &c->kind)
      || !get_bool (ctx, path, o, "minors", &c->minors)
      || !get_bool (ctx, path, o, "urgent", &c->urgent)
      || !get_time (ctx, path, o, "intake_at", FALSE, &c->intake_at)
      || !get_time (ctx, path, o, "deadline", FALSE, &c->deadline)
      || !get_int (ctx, path, o, "duration_minutes", 15, 8 * 60,
          &c->duration_minutes)
      || !get_string (ctx, path, o, "summary", FALSE, MED_MAX_TEXT_BYTES, TRUE,
          &summary)
      || !GET_ENUM (ctx, path, o, "department", FALSE,
          med_department_from_string, &c->department))
    return FALSE;
  if (c->department != MED_DEPARTMENT_NONE)
    c->status = MED_CASE_STATUS_DISPATCHED;
  if (c->deadline != 0 && c->intake_at != 0 && c->deadline < c->intake_at)
    return fail_msg (ctx, path, "deadline is before intake");

  pn = member (o, "parties");
  if (pn == NULL || !JSON_NODE_HOLDS_ARRAY (pn))
    return fail_msg (ctx, pp, "must be an array with at least one party");
  pa = json_node_get_array (pn);
  if (json_array_get_length (pa) == 0
      || json_array_get_length (pa) > MED_MAX_PARTIES)
    return fail_msg (ctx, pp, "must hold 1 to 64 parties");
  for (guint i = 0; i < json_array_get_length (pa); i++) {
    g_autofree char *ep = g_strdup_printf ("%s[%u]", pp, i);
    JsonObject *e = element_object (ctx, pa, i, ep);
    MedParty *p;

    if (e == NULL || (p = parse_party (ctx, ep, e)) == NULL)
      return FALSE;
    g_ptr_array_add (parties, p);
  }
  c->number = g_strdup (number);
  c->summary = g_strdup (summary);
  *out_case = g_steal_pointer (&c);
  *out_parties = g_steal_pointer (&parties);
  return TRUE;
}

void
med_import_doc_free (MedImportDoc *doc)
{
  if (doc == NULL)
    return;
  g_ptr_array_unref (doc->rooms);
  g_ptr_array_unref (doc->mediators);
  g_ptr_array_unref (doc->interpreters);
  g_ptr_array_unref (doc->cases);
  g_ptr_array_unref (doc->case_parties);
  g_free (doc);
}

static MedImportDoc *
import_doc_new (void)
{
  MedImportDoc *doc = g_new0 (MedImportDoc, 1);

  doc->rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) med_room_free);
  doc->mediators
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_mediator_free);
  doc->interpreters
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_interpreter_free);
  doc->cases = g_ptr_array_new_with_free_func ((GDestroyNotify) med_case_free);
  doc->case_parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  return doc;
}

MedImportDoc *
med_import_doc_parse (const char *data, gsize len, const char *zone,
    GError **error)
{
  static const char *const allowed[]
      = { "rooms", "mediators", "interpreters", "cases", NULL };
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (MedImportDoc) doc = NULL;
  g_autoptr (GError) local = NULL;
  Ctx ctx = { zone, error };
  JsonNode *root;
  JsonObject *ro;
  JsonArray *a;
  gboolean ok;

  if (len > MED_MAX_IMPORT_BYTES) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_TOO_LONG,
        "import document is too large (%" G_GSIZE_FORMAT " bytes, at most %d)",
        len, MED_MAX_IMPORT_BYTES);
    return NULL;
  }
  if (!g_utf8_validate_len (data, len, NULL)) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_ENCODING,
        "import document is not valid UTF-8");
    return NULL;
  }
  if (!check_depth (data, len, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local)) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
        "import document is not valid JSON: %s", local->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
        "import document must be a JSON object");
    return NULL;
  }
  ro = json_node_get_object (root);
  if (!check_members (&ctx, "$", ro, allowed))
    return NULL;

  doc = import_doc_new ();

  if ((a = get_array (&ctx, ro, "rooms", &ok)) != NULL) {
    for (guint i = 0; i < json_array_get_length (a); i++) {
      g_autofree char *p = g_strdup_printf ("rooms[%u]", i);
      JsonObject *o = element_object (&ctx, a, i, p);
      MedRoom *r;

      if (o == NULL || (r = parse_room (&ctx, p, o)) == NULL)
        return NULL;
      g_ptr_array_add (doc->rooms, r);
    }
  } else if (!ok) {
    return NULL;
  }

  if ((a = get_array (&ctx, ro, "mediators", &ok)) != NULL) {
    for (guint i = 0; i < json_array_get_length (a); i++) {
      g_autofree char *p = g_strdup_printf ("mediators[%u]", i);
      JsonObject *o = element_object (&ctx, a, i, p);
      MedMediator *m;

      if (o == NULL || (m = parse_mediator (&ctx, p, o)) == NULL)
        return NULL;
      g_ptr_array_add (doc->mediators, m);
    }
  } else if (!ok) {
    return NULL;
  }

  if ((a = get_array (&ctx, ro, "interpreters", &ok)) != NULL) {
    for (guint i = 0; i < json_array_get_length (a); i++) {
      g_autofree char *p = g_strdup_printf ("interpreters[%u]", i);
      JsonObject *o = element_object (&ctx, a, i, p);
      MedInterpreter *it;

      if (o == NULL || (it = parse_interpreter (&ctx, p, o)) == NULL)
        return NULL;
      g_ptr_array_add (doc->interpreters, it);
    }
  } else if (!ok) {
    return NULL;
  }

  if ((a = get_array (&ctx, ro, "cases", &ok)) != NULL) {
    g_autoptr (GHashTable) numbers = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = 0; i < json_array_get_length (a); i++) {
      g_autofree char *p = g_strdup_printf ("cases[%u]", i);
      JsonObject *o = element_object (&ctx, a, i, p);
      MedCase *c = NULL;
      GPtrArray *parties = NULL;

      if (o == NULL || !parse_case (&ctx, p, o, &c, &parties))
        return NULL;
      g_ptr_array_add (doc->cases, c);
      g_ptr_array_add (doc->case_parties, parties);
      if (!g_hash_table_add (numbers, c->number)) {
        fail_msg (&ctx, p, "case number appears twice in the document");
        return NULL;
      }
    }
  } else if (!ok) {
    return NULL;
  }

  return g_steal_pointer (&doc);
}
