/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-template.c — the page template engine (src/http/med-http-template.c):
 * escaping by default, raw output only when named, sections over lists,
 * objects and flags, translations, partials; and hostile templates and
 * values: unclosed tags and sections, mismatched closes, deep nesting,
 * huge input, self-including partials, injection-shaped data. */
#include "med-http-private.h"
/* generated with the GResource (src/meson.build) */
void med_http_register_resource (void);
#include "med-http-template.h"

#include <string.h>

#include "../test-threads.h"

static char *
render (const char *tmpl, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedTemplate) t = med_template_parse ("t", tmpl, -1, &error);
  g_autoptr (JsonNode) ctx = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  if (json != NULL) {
    ctx = json_from_string (json, &error);
    g_assert_no_error (error);
  }
  g_assert_true (med_template_render (t, ctx, NULL, out, &error));
  g_assert_no_error (error);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_escape (void)
{
  g_autofree char *a = render ("<p title=\"{{x}}\">{{x}}</p>",
      "{\"x\":\"<script>alert('1')</script> & \\\"q\\\"\"}");
  g_autofree char *b = render ("{{{x}}}|{{& x}}", "{\"x\":\"<b>\"}");
  g_autofree char *c = render ("{{n}} {{f}} {{t}} {{missing}}.",
      "{\"n\":42,\"f\":false,\"t\":true}");

  g_assert_cmpstr (a, ==,
      "<p title=\"&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; "
      "&quot;q&quot;\">&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; "
      "&amp; &quot;q&quot;</p>");
  g_assert_cmpstr (b, ==, "<b>|<b>");
  g_assert_cmpstr (c, ==, "42 false true .");
}

static void
test_sections (void)
{
  g_autofree char *a = render ("{{#list}}[{{name}}{{#sel}}*{{/sel}}]{{/list}}"
                               "{{^list}}none{{/list}}",
      "{\"list\":[{\"name\":\"a\",\"sel\":true},{\"name\":\"b\"}]}");
  g_autofree char *b = render ("{{#list}}x{{/list}}{{^list}}none{{/list}}",
      "{\"list\":[]}");
  g_autofree char *c = render ("{{#o}}{{a}}-{{top}}{{/o}}{{o.a}}",
      "{\"o\":{\"a\":\"in\"},\"top\":\"out\"}");
  g_autofree char *d = render ("{{#s}}yes{{/s}}{{#e}}no{{/e}}{{#z}}no{{/z}}",
      "{\"s\":\"x\",\"e\":\"\",\"z\":0}");
  g_autofree char *e = render ("{{#l}}{{.}},{{/l}}", "{\"l\":[1,\"<\",3]}");
  g_autofree char *f = render ("a{{! a comment }}b", NULL);
  g_autofree char *g = render ("{{#l.0}}<ul>{{/l.0}}{{l.1.n}}{{l.9}}{{l.x}}"
                               "{{#e.0}}no{{/e.0}}",
      "{\"l\":[{\"n\":1},{\"n\":2}],\"e\":[]}");

  g_assert_cmpstr (a, ==, "[a*][b]");
  g_assert_cmpstr (b, ==, "none");
  g_assert_cmpstr (c, ==, "in-outin");
  g_assert_cmpstr (d, ==, "yes");
  g_assert_cmpstr (e, ==, "1,&lt;,3,");
  g_assert_cmpstr (f, ==, "ab");
  g_assert_cmpstr (g, ==, "<ul>2");
}

typedef struct
{
  GHashTable *tr; /* msgid → translation */
  GHashTable *parts; /* name → MedTemplate* */
} Tables;

static const char *
translate_cb (const char *msgid, gpointer data)
{
  return g_hash_table_lookup (((Tables *) data)->tr, msgid);
}

static const MedTemplate *
partial_cb (const char *name, gpointer data)
{
  return g_hash_table_lookup (((Tables *) data)->parts, name);
}

static void
collect (const char *msgid, gpointer data)
{
  g_ptr_array_add (data, g_strdup (msgid));
}

static void
test_translate_and_partials (void)
{
  g_autoptr (GHashTable) tr = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) parts = g_hash_table_new_full (g_str_hash,
      g_str_equal, NULL, (GDestroyNotify) med_template_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedTemplate) page = NULL, a = NULL, b = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (JsonNode) ctx = json_from_string ("{\"who\":\"<i>\"}", NULL);
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  Tables tables = { tr, parts };
  MedTemplateEnv env = { translate_cb, partial_cb, &tables };

  g_hash_table_insert (tr, "Hello", "你好 <&>");
  g_hash_table_insert (parts, "head",
      med_template_parse ("head", "<h1>{{_(\"Hello\")}}</h1>", -1, NULL));
  g_hash_table_insert (parts, "loop",
      med_template_parse ("loop", "{{> loop}}", -1, NULL));
  page = med_template_parse ("page",
      "{{>head}}{{_( \"Say \\\"hi\\\"\" )}} {{who}}"
      "<nav {{aria-label=_(\"Hello\")}}></nav>",
      -1, &error);
  g_assert_no_error (error);
  /* translations are looked up and escaped; a missing one stays as it is */
  g_assert_true (med_template_render (page, ctx, &env, out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out->str, ==,
      "<h1>你好 &lt;&amp;&gt;</h1>Say &quot;hi&quot; &lt;i&gt;"
      "<nav aria-label=\"你好 &lt;&amp;&gt;\"></nav>");
  /* an unknown partial and a partial that includes itself: errors */
  a = med_template_parse ("a", "{{>nope}}", -1, NULL);
  b = med_template_parse ("b", "{{>loop}}", -1, NULL);
  g_assert_false (med_template_render (a, NULL, &env, out, &error));
  g_assert_error (error, MED_TEMPLATE_ERROR, MED_TEMPLATE_ERROR_PARTIAL);
  g_clear_error (&error);
  g_assert_false (med_template_render (b, NULL, &env, out, &error));
  g_assert_error (error, MED_TEMPLATE_ERROR, MED_TEMPLATE_ERROR_TOO_DEEP);
  g_clear_error (&error);
  med_template_foreach_msgid (page, collect, ids);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (ids, 0), ==, "Say \"hi\"");
  g_assert_cmpstr (g_ptr_array_index (ids, 1), ==, "Hello");
}

static void
test_hostile_templates (void)
{
  static const struct
  {
    const char *text;
    gint code;
  } bad[] = {
    { "abc {{name", MED_TEMPLATE_ERROR_SYNTAX },
    { "abc {{{name}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{#a}}x", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{#a}}x{{/b}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{/a}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{#a}}{{#b}}{{/a}}{{/b}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{a b}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{<script>}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{a{{b}}}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{..}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{=<% %>=}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{_(\"x)}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{_(\"\")}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{_(\"a\" \"b\")}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{_(x)}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{_(\"a\\q\")}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "\xff\xfe", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{title=_(x)}}", MED_TEMPLATE_ERROR_SYNTAX },
    { "{{title=_(\"x\"}}", MED_TEMPLATE_ERROR_SYNTAX },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedTemplate) t
        = med_template_parse ("bad", bad[i].text, -1, &error);

    if (t != NULL)
      g_error ("accepted: %s", bad[i].text);
    g_assert_error (error, MED_TEMPLATE_ERROR, bad[i].code);
    g_assert_true (g_str_has_prefix (error->message, "bad:"));
  }
  /* the line of the fault is named */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedTemplate) t
        = med_template_parse ("p", "a\nb\n{{#x}}\n", -1, &error);

    g_assert_null (t);
    g_assert_true (g_str_has_prefix (error->message, "p:3:"));
  }
  /* NUL inside the given length */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (MedTemplate) t = med_template_parse ("n", "a\0b", 3, &error);

    g_assert_null (t);
    g_assert_error (error, MED_TEMPLATE_ERROR, MED_TEMPLATE_ERROR_SYNTAX);
  }
}

static void
test_deep_and_huge (void)
{
  g_autoptr (GString) deep = g_string_new (NULL);
  g_autoptr (GString) ok = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedTemplate) t = NULL;
  g_autofree char *huge = g_malloc (MED_TEMPLATE_MAX_BYTES + 2);

  for (guint i = 0; i < 10000; i++)
    g_string_append (deep, "{{#a}}");
  t = med_template_parse ("deep", deep->str, -1, &error);
  g_assert_null (t);
  g_assert_error (error, MED_TEMPLATE_ERROR, MED_TEMPLATE_ERROR_TOO_DEEP);
  g_clear_error (&error);

  /* the deepest allowed nesting works */
  for (guint i = 0; i < MED_TEMPLATE_MAX_DEPTH; i++)
    g_string_append (ok, "{{#a}}");
  g_string_append (ok, "x");
  for (guint i = 0; i < MED_TEMPLATE_MAX_DEPTH; i++)
    g_string_append (ok, "{{/a}}");
  t = med_template_parse ("ok", ok->str, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_clear_pointer (&t, med_template_free);

  memset (huge, 'a', MED_TEMPLATE_MAX_BYTES + 1);
  huge[MED_TEMPLATE_MAX_BYTES + 1] = '\0';
  t = med_template_parse ("huge", huge, -1, &error);
  g_assert_null (t);
  g_assert_error (error, MED_TEMPLATE_ERROR, MED_TEMPLATE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  /* a page of many tags parses and renders in one piece */
  {
    g_autoptr (GString) many = g_string_new (NULL);
    g_autoptr (GString) out = g_string_new (NULL);
    g_autoptr (JsonNode) ctx = json_from_string ("{\"v\":\"<\"}", NULL);

    for (guint i = 0; i < 50000; i++)
      g_string_append (many, "{{v}}");
    t = med_template_parse ("many", many->str, -1, &error);
    g_assert_no_error (error);
    g_assert_true (med_template_render (t, ctx, NULL, out, &error));
    g_assert_cmpuint (out->len, ==, 50000 * 4);
  }
}

static void
test_injection_values (void)
{
  /* values that look like tags or markup are data: never re-parsed */
  g_autofree char *a = render ("{{v}}|{{{v}}}",
      "{\"v\":\"{{#x}}{{{y}}}{{> p}}{{_(\\\"z\\\")}}\"}");
  g_autofree char *b = render ("<a href=\"/x?{{q}}\">",
      "{\"q\":\"\\\" onmouseover=\\\"alert(1)\"}");
  g_autofree char *c = render ("{{o}}{{l}}", "{\"o\":{\"a\":1},\"l\":[1]}");
  g_autofree char *d = render ("{{#v}}{{.}}{{/v}}", "{\"v\":\"&\"}");

  g_assert_cmpstr (a, ==, "{{#x}}{{{y}}}{{&gt; p}}{{_(&quot;z&quot;)}}|"
                          "{{#x}}{{{y}}}{{> p}}{{_(\"z\")}}");
  g_assert_cmpstr (b, ==, "<a href=\"/x?&quot; onmouseover=&quot;alert(1)\">");
  g_assert_cmpstr (c, ==, "");
  /* "." inside a scalar's section is the scalar, escaped */
  g_assert_cmpstr (d, ==, "&amp;");
}

/* The pages' templates rendered in three languages from eight threads at
 * once: each page comes out whole and in its own language (gettext's
 * process-wide locale could not do this). */
static gpointer
render_thread (gpointer data)
{
  static const char *const skip[MED_LANG_N]
      = { "跳到正文", "ནང་དོན་ལ་མཆོང་།", "Skip to content" };
  guint seed = GPOINTER_TO_UINT (data);
  g_autoptr (JsonNode) ctx = json_from_string (
      "{\"title\":\"<t>\",\"what\":\"w\",\"todo\":\"d\",\"langs\":[]}", NULL);

  for (guint i = 0; i < 3000; i++) {
    MedLang lang = (MedLang) ((i + seed) % MED_LANG_N);
    g_autoptr (GString) out = g_string_new (NULL);
    g_autoptr (GError) error = NULL;

    if (!med_http_render (lang, "join-gone", ctx, out, &error)
        || strstr (out->str, skip[lang]) == NULL
        || strstr (out->str, skip[(lang + 1) % MED_LANG_N]) != NULL
        || strstr (out->str, "&lt;t&gt;") == NULL
        || strstr (out->str, "</html>\n") == NULL) {
      g_printerr ("lang %d: %s\n%s\n", lang, error ? error->message : "",
          out->str);
      return GUINT_TO_POINTER (1);
    }
  }
  return NULL;
}

static void
test_render_threads (void)
{
  g_assert_cmpuint (run_threads (render_thread, 8), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http/template/escape", test_escape);
  g_test_add_func ("/http/template/sections", test_sections);
  g_test_add_func ("/http/template/translate-partials",
      test_translate_and_partials);
  g_test_add_func ("/http/template/hostile", test_hostile_templates);
  g_test_add_func ("/http/template/deep-huge", test_deep_and_huge);
  g_test_add_func ("/http/template/injection-values", test_injection_values);
  g_test_add_func ("/http/template/render-threads", test_render_threads);
  med_http_register_resource ();
  return g_test_run ();
}
