/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-render.c — what every page shares: the language a request is
 * answered in, the templates (one per page in the GResource's templates/
 * folder, parsed once), the members every page's data has (title,
 * language switch, menu, CSRF token, notice) and the page that explains a
 * refusal.
 *
 * The language of a page: the one asked for with ?lang= (the switch on
 * every page; it is then kept in a cookie), else the cookie's, else the
 * party's recorded language on a party's pages, else the browser's
 * Accept-Language, else Chinese. Each request names its language on every
 * lookup (med-i18n.h), so requests in different languages can be rendered
 * at the same time. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"
#include "med-http-template.h"

#include <string.h>

#define LANG_COOKIE "medsched_lang"

/* ---- language ---- */

static gboolean
cookie_lang (MedReq *r, MedLang *out)
{
  const char *h
      = soup_message_headers_get_one (soup_server_message_get_request_headers (
                                          r->msg),
          "Cookie");
  g_autoptr (GHashTable) params = NULL;

  if (h == NULL || strlen (h) > 8192)
    return FALSE;
  params = soup_header_parse_semi_param_list (h);
  return med_lang_from_code (g_hash_table_lookup (params, LANG_COOKIE), out);
}

MedLang
med_http_lang (MedReq *r)
{
  const char *q = r->query ? g_hash_table_lookup (r->query, "lang") : NULL;
  MedLang l = MED_LANG_ZH;

  if (r->lang > 0)
    return (MedLang) (r->lang - 1);
  if (q != NULL && med_lang_from_code (q, &l)) {
    g_autofree char *c = g_strdup_printf ("%s=%s; Path=/; Max-Age=31536000; "
                                          "SameSite=Lax%s",
        LANG_COOKIE, med_lang_code (l),
        r->srv->cfg.secure_cookies ? "; Secure" : "");

    soup_message_headers_append (soup_server_message_get_response_headers (
                                     r->msg),
        "Set-Cookie", c);
  } else if (!cookie_lang (r, &l)) {
    if (r->party_lang > 0)
      l = (MedLang) (r->party_lang - 1);
    else
      l = med_lang_from_accept (soup_message_headers_get_one (
                                    soup_server_message_get_request_headers (
                                        r->msg),
                                    "Accept-Language"),
          MED_LANG_ZH);
  }
  r->lang = (gint) l + 1;
  return l;
}

void
med_http_set_party_lang (MedReq *r, const char *code)
{
  /* a language we have no catalogue for: Chinese */
  r->party_lang = (gint) med_lang_from_code_or (code, MED_LANG_ZH) + 1;
  r->lang = 0;
}

const char *
med_http_t (MedReq *r, const char *msgid)
{
  return med_i18n_gettext (med_http_lang (r), msgid);
}

char *
med_http_tf (MedReq *r, const char *msgid, ...)
{
  va_list ap;
  char *s;

  va_start (ap, msgid);
  s = med_i18n_vprintf (med_http_lang (r), msgid, ap);
  va_end (ap);
  return s;
}

/* ---- templates ---- */

static GHashTable *templates; /* name → MedTemplate* */

static gpointer
load_templates (gpointer unused)
{
  const char *dir = "/org/medsched/http/templates/";
  g_auto (GStrv) names = g_resources_enumerate_children (dir,
      G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  templates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) med_template_free);
  for (guint i = 0; names && names[i]; i++) {
    g_autofree char *path = g_strconcat (dir, names[i], NULL);
    g_autoptr (GBytes) b
        = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    g_autoptr (GError) error = NULL;
    gsize len = 0;
    const char *text = b ? g_bytes_get_data (b, &len) : NULL;
    MedTemplate *t;

    if (!g_str_has_suffix (names[i], ".html") || text == NULL)
      continue;
    t = med_template_parse (names[i], text, len, &error);
    if (t == NULL) {
      /* a broken template is a bug of this program: test-api renders every
       * page, so it cannot ship */
      g_critical ("%s", error->message);
      continue;
    }
    g_hash_table_insert (templates, g_strndup (names[i], strlen (names[i]) - 5),
        t);
  }
  return NULL;
}

static const MedTemplate *
med_http_template (const char *name)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load_templates, NULL);
  return g_hash_table_lookup (templates, name);
}

static const char *
translate_cb (const char *msgid, gpointer data)
{
  return med_i18n_gettext (GPOINTER_TO_INT (data), msgid);
}

static const MedTemplate *
partial_cb (const char *name, gpointer data)
{
  return med_http_template (name);
}

gboolean
med_http_render (MedLang lang, const char *name, JsonNode *ctx, GString *out,
    GError **error)
{
  const MedTemplate *t = med_http_template (name);
  MedTemplateEnv env = { translate_cb, partial_cb, GINT_TO_POINTER (lang) };

  if (t == NULL) {
    g_set_error (error, MED_TEMPLATE_ERROR, MED_TEMPLATE_ERROR_PARTIAL,
        "no template “%s”", name);
    return FALSE;
  }
  return med_template_render (t, ctx, &env, out, error);
}

/* ---- page data ---- */

void
med_json_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
med_json_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

void
med_json_bool (JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

/* The language of a text by its script: "bo" for Tibetan, "zh-Hans" for
 * Han characters, NULL for Latin, digits and signs. */
static const char *
script_lang (const char *s)
{
  gboolean han = FALSE;

  for (const char *p = s; p && *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (c >= 0x0F00 && c <= 0x0FFF)
      return "bo";
    han |= g_unichar_get_script (c) == G_UNICODE_SCRIPT_HAN;
  }
  return han ? "zh-Hans" : NULL;
}

void
med_json_text (MedReq *r, JsonBuilder *b, const char *name, const char *value)
{
  g_autofree char *member = g_strconcat (name, "_lang", NULL);
  const char *lang = script_lang (value);

  med_json_str (b, name, value ? value : "");
  /* data in another script than the page's language: the page says so */
  med_json_str (b, member,
      lang && strcmp (lang, med_lang_tag (med_http_lang (r))) != 0 ? lang
                                                                   : NULL);
}

/* The current page with ?lang=code, the other query members kept. */
static char *
lang_href (MedReq *r, MedLang l)
{
  GString *s = g_string_new (r->path);
  GHashTableIter it;
  gpointer k, v;
  char sep = '?';

  if (r->query != NULL) {
    g_hash_table_iter_init (&it, r->query);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      if (strcmp (k, "lang") == 0 || strcmp (k, "msg") == 0
          || strcmp (k, "feed") == 0 || strcmp (k, "next") == 0)
        continue;
      g_string_append_c (s, sep);
      g_string_append_uri_escaped (s, k, NULL, FALSE);
      g_string_append_c (s, '=');
      g_string_append_uri_escaped (s, v, NULL, FALSE);
      sep = '&';
    }
  }
  g_string_append_printf (s, "%clang=%s", sep, med_lang_code (l));
  return g_string_free (s, FALSE);
}

static const char *
notice_text (const char *code)
{
  static const struct
  {
    const char *code, *text;
  } notices[] = {
    { "booked", N_ ("Session booked.") },
    { "moved", N_ ("Session moved.") },
    { "cancelled", N_ ("Session cancelled.") },
    { "taken", N_ ("Case taken at intake.") },
    { "dispatched", N_ ("Case dispatched.") },
    { "status", N_ ("Status changed.") },
    { "revoked", N_ ("Link revoked.") },
    { "link-sms", N_ ("The link is queued to go by SMS.") },
    { "link-mail",
        N_ ("The invitation with the link is queued to go by "
            "e-mail.") },
    { "link-reissued",
        N_ ("A new link was issued and is queued to go to "
            "the party; the old one no longer works.") },
    { "link-new",
        N_ ("A new link was issued; the old one no longer works. "
            "The party has no phone number or e-mail address: "
            "give them the link below.") },
    { "feed", N_ ("Feed link made (it is shown only once).") },
    { "undone", N_ ("Booking undone.") },
    { "party-added", N_ ("Party added.") },
    { "party-updated", N_ ("Party corrected.") },
    { "party-removed", N_ ("Party removed.") },
  };

  for (guint i = 0; code && i < G_N_ELEMENTS (notices); i++) {
    if (strcmp (code, notices[i].code) == 0)
      return notices[i].text;
  }
  return NULL;
}

JsonBuilder *
med_http_page_begin (MedReq *r, const char *title)
{
  JsonBuilder *b = json_builder_new ();
  MedLang lang = med_http_lang (r);
  const char *notice
      = notice_text (r->query ? g_hash_table_lookup (r->query, "msg") : NULL);

  json_builder_begin_object (b);
  med_json_str (b, "lang", med_lang_tag (lang));
  med_json_str (b, "lang_code", med_lang_code (lang));
  med_json_str (b, "title", title);
  med_json_str (b, "csrf", r->csrf);
  med_json_str (b, "notice", notice ? med_http_t (r, notice) : NULL);
  json_builder_set_member_name (b, "langs");
  json_builder_begin_array (b);
  for (guint i = 0; i < MED_LANG_N; i++) {
    g_autofree char *href = lang_href (r, (MedLang) i);

    json_builder_begin_object (b);
    med_json_str (b, "href", href);
    med_json_str (b, "tag", med_lang_tag ((MedLang) i));
    med_json_str (b, "name", med_lang_name ((MedLang) i));
    med_json_bool (b, "current", i == lang);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  /* a party's page has no staff menu, whoever opens it */
  if (r->user != NULL && r->party_lang == 0) {
    json_builder_set_member_name (b, "user");
    json_builder_begin_object (b);
    med_json_text (r, b, "name", r->user->name);
    med_json_str (b, "role",
        med_http_t (r,
            med_person_role_label (med_role_to_string (r->user->role))));
    med_json_bool (b, "office", r->user->role != MED_ROLE_MEDIATOR);
    json_builder_end_object (b);
  }
  return b;
}

void
med_http_page_send (MedReq *r, JsonBuilder *b, const char *name, guint status)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  json_builder_end_object (b);
  root = json_builder_get_root (b);
  g_object_unref (b);
  if (!med_http_render (med_http_lang (r), name, root, out, &error)) {
    g_warning ("page %s: %s", name, error->message);
    r->api = TRUE; /* no second template: a plain JSON error */
    med_http_reply_error (r, 500, "internal", "the page could not be made");
    return;
  }
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  soup_message_headers_append (soup_server_message_get_response_headers (
                                   r->msg),
      "Vary", "Accept-Language, Cookie");
  med_http_reply_text (r, status, "text/html; charset=utf-8", out->str,
      out->len);
}

/* ---- refusals as pages ---- */

typedef struct
{
  guint status;
  const char *title, *todo;
} Problem;

static const Problem problems[] = {
  { 400, N_ ("The request was not understood"),
      N_ ("Go back, check what you entered and try again.") },
  { 401, N_ ("Please sign in"), N_ ("Sign in, then open the page again.") },
  { 403, N_ ("Not allowed"),
      N_ ("Your account may not do this. Ask a clerk or the administrator if "
          "you need it.") },
  { 404, N_ ("Not found"),
      N_ ("The page or the item does not exist (any more). Check the "
          "address or start again from the home page.") },
  { 405, N_ ("Not possible this way"),
      N_ ("Use the buttons and forms of the pages.") },
  { 409, N_ ("This time is already taken"),
      N_ ("Someone or something named below is already booked then. Choose "
          "another time, room or mediator, or let medsched find the "
          "earliest free time.") },
  { 413, N_ ("Too much data"), N_ ("Send less at once.") },
  { 415, N_ ("The request was not understood"),
      N_ ("Use the forms of the pages.") },
  { 422, N_ ("Something in the form needs correcting"),
      N_ ("Go back, correct the field named below and send the form "
          "again.") },
  { 429, N_ ("Too many attempts"), N_ ("Wait a moment, then try again.") },
  { 503, N_ ("The server is busy"),
      N_ ("Try again in a moment. Nothing was changed.") },
};

void
med_http_page_problem (MedReq *r, guint status, const char *title,
    const char *what, const char *todo, const char *detail)
{
  const Problem *p = NULL;
  JsonBuilder *b;

  for (guint i = 0; i < G_N_ELEMENTS (problems); i++) {
    if (problems[i].status == status)
      p = &problems[i];
  }
  if (title == NULL)
    title = p ? med_http_t (r, p->title)
              : med_http_t (r, N_ ("Something went wrong"));
  if (todo == NULL)
    todo = p ? med_http_t (r, p->todo)
             : med_http_t (r,
                 N_ ("Try again later. If it happens again, "
                     "tell the centre."));
  b = med_http_page_begin (r, title);
  med_json_str (b, "what", what);
  med_json_str (b, "todo", todo);
  med_json_str (b, "detail", detail);
  /* the server's own detail is in English unless a page wrote it */
  med_json_bool (b, "detail_en",
      detail != NULL && med_http_lang (r) != MED_LANG_EN);
  med_http_page_send (r, b, "problem", status);
}

/* ---- the scripts' catalogues ---- */

typedef struct
{
  JsonBuilder *b;
  MedLang lang;
} LabelsCtx;

/* "party-role\004applicant" → the label in the language: a script shows a
 * code it got (a signalling frame's party_role) as the model's one label,
 * with MedI18n.label (kind, word); \004 as gettext's contexts. */
static void
add_label_cb (const char *kind, const char *word, const char *label,
    gpointer data)
{
  LabelsCtx *lc = data;
  g_autofree char *key = g_strconcat (kind, "\004", word, NULL);

  json_builder_set_member_name (lc->b, key);
  json_builder_add_string_value (lc->b, med_i18n_gettext (lc->lang, label));
}

void
med_http_static_catalogue (MedReq *r, const char *file)
{
  g_autofree char *key = NULL;
  MedCached *c;
  MedLang lang;

  if (file == NULL || !g_str_has_suffix (file, ".json") || strlen (file) > 16
      || !med_lang_from_code (file, &lang)
      || strcmp (file + strlen (med_lang_code (lang)), ".json") != 0) {
    med_http_reply_error (r, 404, "not_found", "no such file");
    return;
  }
  key = g_strconcat ("i18n:", med_lang_code (lang), NULL);
  if ((c = med_http_lasting_get (r->srv, key)) == NULL) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    g_autoptr (JsonNode) root = NULL;
    GHashTableIter it;
    gpointer k, v;
    char *text;
    gsize len;

    json_builder_begin_object (b);
    g_hash_table_iter_init (&it, med_i18n_catalogue (lang));
    while (g_hash_table_iter_next (&it, &k, &v)) {
      json_builder_set_member_name (b, k);
      json_builder_add_string_value (b, v);
    }
    {
      LabelsCtx lc = { b, lang };

      med_labels_foreach (add_label_cb, &lc);
    }
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    json_generator_set_root (gen, root);
    text = json_generator_to_data (gen, &len);
    c = med_http_lasting_put (r->srv, key, g_bytes_new_take (text, len),
        "application/json; charset=utf-8");
  }
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "public, max-age=300");
  med_http_reply_cached (r, c);
}
