/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-template.c — the page templates' engine (the syntax is in
 * med-http-template.h): a parser that turns a template into a tree of
 * nodes once, and a renderer that walks the tree over a json-glib value,
 * escaping every value it writes unless the template asked for the raw
 * form by name ({{{x}}} or {{&x}}).
 *
 * No Debian-packaged C library does this: template-glib writes values as
 * they are (and can call into GObject introspection from a template),
 * ctemplate and kainjow-mustache are C++. The subset here is what the
 * pages need; the parser refuses everything else rather than guess. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-template.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK (med-template-error-quark, med_template_error)
/* clang-format on */

typedef enum
{
  NODE_TEXT,
  NODE_VAR, /* escaped */
  NODE_RAW,
  NODE_SECTION,
  NODE_INVERTED,
  NODE_PARTIAL,
  NODE_TRANSLATE,
  NODE_TRANSLATE_ATTR, /* name="translation" */
} NodeKind;

typedef struct _Node Node;
struct _Node
{
  NodeKind kind;
  char *text; /* the text, the name or the msgid */
  gsize len; /* of text */
  GPtrArray *children; /* Node*, sections only */
  char *attr; /* the attribute's name (NODE_TRANSLATE_ATTR) */
  guint line;
};

struct _MedTemplate
{
  char *name;
  GPtrArray *nodes; /* Node* */
};

static void
node_free (gpointer p)
{
  Node *n = p;

  g_free (n->text);
  g_free (n->attr);
  if (n->children)
    g_ptr_array_unref (n->children);
  g_free (n);
}

static Node *
node_new (NodeKind kind, const char *text, gsize len, guint line)
{
  Node *n = g_new0 (Node, 1);

  n->kind = kind;
  n->text = g_strndup (text, len);
  n->len = len;
  n->line = line;
  if (kind == NODE_SECTION || kind == NODE_INVERTED)
    n->children = g_ptr_array_new_with_free_func (node_free);
  return n;
}

void
med_template_free (MedTemplate *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_ptr_array_unref (t->nodes);
  g_free (t);
}

/* ---- parsing ---- */

static gboolean
name_ok (const char *s, gsize n)
{
  if (n == 0 || n > 128)
    return FALSE;
  if (n == 1 && s[0] == '.')
    return TRUE;
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isalnum (s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
      return FALSE;
  }
  return s[0] != '.' && s[n - 1] != '.' && strstr (s, "..") == NULL;
}

static void
trim (const char **s, gsize *n)
{
  while (*n > 0 && g_ascii_isspace ((*s)[0])) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && g_ascii_isspace ((*s)[*n - 1]))
    (*n)--;
}

/* _("…") with \" \\ \n escapes: the msgid, or NULL. */
static char *
parse_msgid (const char *s, gsize n)
{
  GString *id;
  gsize i;

  if (n < 5 || s[0] != '_' || s[1] != '(' || s[n - 1] != ')')
    return NULL;
  s += 2;
  n -= 3; /* inside the parentheses */
  trim (&s, &n);
  if (n < 2 || s[0] != '"' || s[n - 1] != '"')
    return NULL;
  id = g_string_new (NULL);
  for (i = 1; i + 1 < n; i++) {
    if (s[i] == '"') {
      break; /* a quote inside: not one literal */
    } else if (s[i] == '\\') {
      if (i + 2 >= n)
        break;
      i++;
      if (s[i] == 'n')
        g_string_append_c (id, '\n');
      else if (s[i] == '"' || s[i] == '\\')
        g_string_append_c (id, s[i]);
      else
        break;
    } else {
      g_string_append_c (id, s[i]);
    }
  }
  if (i + 1 != n || id->len == 0) {
    g_string_free (id, TRUE);
    return NULL;
  }
  return g_string_free (id, FALSE);
}

static gboolean
fail (GError **error, gint code, const char *tname, guint line,
    const char *what)
{
  g_set_error (error, MED_TEMPLATE_ERROR, code, "%s:%u: %s", tname, line,
      what);
  return FALSE;
}

MedTemplate *
med_template_parse (const char *name, const char *text, gssize len,
    GError **error)
{
  g_autoptr (MedTemplate) t = g_new0 (MedTemplate, 1);
  g_autoptr (GPtrArray) stack = g_ptr_array_new (); /* open sections */
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  const char *p = text, *end;
  guint line = 1;

  t->name = g_strdup (name ? name : "template");
  t->nodes = g_ptr_array_new_with_free_func (node_free);
  if (n > MED_TEMPLATE_MAX_BYTES) {
    fail (error, MED_TEMPLATE_ERROR_TOO_LARGE, t->name, 1,
        "the template is too large");
    return NULL;
  }
  if (!g_utf8_validate (text, n, NULL) || memchr (text, '\0', n) != NULL) {
    fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, 1,
        "the template is not UTF-8 text");
    return NULL;
  }
  end = text + n;
  while (p < end) {
    GPtrArray *into = stack->len
        ? ((Node *) g_ptr_array_index (stack, stack->len - 1))->children
        : t->nodes;
    const char *open = g_strstr_len (p, end - p, "{{");
    const char *body, *close;
    gsize blen;
    gboolean triple;
    guint tag_line;

    if (open == NULL)
      open = end;
    if (open > p)
      g_ptr_array_add (into, node_new (NODE_TEXT, p, open - p, line));
    for (const char *q = p; q < open; q++)
      line += *q == '\n';
    if (open == end)
      break;
    tag_line = line;
    triple = open + 2 < end && open[2] == '{';
    body = open + (triple ? 3 : 2);
    close = g_strstr_len (body, end - body, triple ? "}}}" : "}}");
    if (close == NULL) {
      fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, tag_line,
          "a tag is not closed");
      return NULL;
    }
    if (g_strstr_len (body, close - body, "{{") != NULL) {
      fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, tag_line,
          "a tag opens inside a tag");
      return NULL;
    }
    for (const char *q = body; q < close; q++)
      line += *q == '\n';
    p = close + (triple ? 3 : 2);
    blen = close - body;
    if (triple) {
      trim (&body, &blen);
      if (!name_ok (body, blen)) {
        fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, tag_line,
            "not a name in {{{…}}}");
        return NULL;
      }
      g_ptr_array_add (into, node_new (NODE_RAW, body, blen, tag_line));
      continue;
    }
    if (blen > 0 && body[0] == '!')
      continue;
    /* name=_("…"): a whole attribute with a translated value, written
     * without quotes around it so that xgettext sees the call */
    {
      gsize an = 0;

      while (an < blen
          && (g_ascii_islower (body[an]) || body[an] == '-'
              || (an > 0 && g_ascii_isdigit (body[an]))))
        an++;
      if (an > 0 && an + 1 < blen && body[an] == '=' && body[an + 1] == '_') {
        const char *m = body + an + 1;
        gsize mlen = blen - an - 1;
        g_autofree char *id = NULL;
        Node *node;

        trim (&m, &mlen);
        if ((id = parse_msgid (m, mlen)) == NULL) {
          fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, tag_line,
              "a translated attribute must be name=_(\"text\")");
          return NULL;
        }
        node = node_new (NODE_TRANSLATE_ATTR, id, strlen (id), tag_line);
        node->attr = g_strndup (body, an);
        g_ptr_array_add (into, node);
        continue;
      }
    }
    if (blen > 0 && body[0] == '_') {
      g_autofree char *id = NULL;

      trim (&body, &blen);
      if ((id = parse_msgid (body, blen)) == NULL) {
        fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, tag_line,
            "a translation must be _(\"text\")");
        return NULL;
      }
      g_ptr_array_add (into,
          node_new (NODE_TRANSLATE, id, strlen (id), tag_line));
      continue;
    }
    {
      char sigil = blen > 0 ? body[0] : '\0';
      NodeKind kind = NODE_VAR;
      Node *node;

      if (strchr ("#^/&>", sigil) != NULL && sigil != '\0') {
        body++;
        blen--;
      } else {
        sigil = '\0';
      }
      trim (&body, &blen);
      if (!name_ok (body, blen)) {
        fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, tag_line,
            "not a name");
        return NULL;
      }
      switch (sigil) {
      case '#':
        kind = NODE_SECTION;
        break;
      case '^':
        kind = NODE_INVERTED;
        break;
      case '&':
        kind = NODE_RAW;
        break;
      case '>':
        kind = NODE_PARTIAL;
        break;
      case '/':
        {
          Node *top = stack->len ? g_ptr_array_index (stack, stack->len - 1)
                                 : NULL;

          if (top == NULL || top->len != blen
              || memcmp (top->text, body, blen) != 0) {
            fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, tag_line,
                "a section closes that is not the open one");
            return NULL;
          }
          g_ptr_array_remove_index (stack, stack->len - 1);
          continue;
        }
      default:
        break;
      }
      node = node_new (kind, body, blen, tag_line);
      g_ptr_array_add (into, node);
      if (kind == NODE_SECTION || kind == NODE_INVERTED) {
        if (stack->len >= MED_TEMPLATE_MAX_DEPTH) {
          fail (error, MED_TEMPLATE_ERROR_TOO_DEEP, t->name, tag_line,
              "sections are nested too deep");
          return NULL;
        }
        g_ptr_array_add (stack, node);
      }
    }
  }
  if (stack->len > 0) {
    Node *top = g_ptr_array_index (stack, stack->len - 1);
    g_autofree char *what
        = g_strdup_printf ("section “%s” is not closed", top->text);

    fail (error, MED_TEMPLATE_ERROR_SYNTAX, t->name, top->line, what);
    return NULL;
  }
  return g_steal_pointer (&t);
}

/* ---- rendering ---- */

void
med_template_escape (GString *out, const char *s, gssize len)
{
  gsize n = len < 0 ? strlen (s) : (gsize) len;

  for (gsize i = 0; i < n; i++) {
    switch (s[i]) {
    case '&':
      g_string_append (out, "&amp;");
      break;
    case '<':
      g_string_append (out, "&lt;");
      break;
    case '>':
      g_string_append (out, "&gt;");
      break;
    case '"':
      g_string_append (out, "&quot;");
      break;
    case '\'':
      g_string_append (out, "&#39;");
      break;
    default:
      g_string_append_c (out, s[i]);
    }
  }
}

typedef struct
{
  const MedTemplateEnv *env;
  GPtrArray *stack; /* JsonNode*, innermost last */
  guint depth; /* partials */
} Render;

static JsonNode *
member (JsonNode *node, const char *name, gsize n)
{
  g_autofree char *key = NULL;
  JsonObject *o;

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node) && n > 0 && n <= 6) {
    /* list.0: an element by its index */
    JsonArray *a = json_node_get_array (node);
    guint64 i = 0;

    for (gsize j = 0; j < n; j++) {
      if (!g_ascii_isdigit (name[j]))
        return NULL;
      i = i * 10 + (guint64) (name[j] - '0');
    }
    return i < json_array_get_length (a) ? json_array_get_element (a, (guint) i)
                                         : NULL;
  }
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  o = json_node_get_object (node);
  key = g_strndup (name, n);
  return json_object_get_member (o, key);
}

static JsonNode *
lookup (Render *r, const char *name)
{
  const char *dot = strchr (name, '.');
  gsize first = dot && name[1] != '\0' ? (gsize) (dot - name) : strlen (name);
  JsonNode *v = NULL;

  if (strcmp (name, ".") == 0)
    return r->stack->len ? g_ptr_array_index (r->stack, r->stack->len - 1)
                         : NULL;
  for (guint i = r->stack->len; i > 0 && v == NULL; i--)
    v = member (g_ptr_array_index (r->stack, i - 1), name, first);
  while (v != NULL && dot != NULL) {
    const char *part = dot + 1;

    dot = strchr (part, '.');
    v = member (v, part, dot ? (gsize) (dot - part) : strlen (part));
  }
  return v;
}

static gboolean
truthy (JsonNode *v)
{
  if (v == NULL || JSON_NODE_HOLDS_NULL (v))
    return FALSE;
  if (JSON_NODE_HOLDS_ARRAY (v))
    return json_array_get_length (json_node_get_array (v)) > 0;
  if (JSON_NODE_HOLDS_OBJECT (v))
    return TRUE;
  switch (json_node_get_value_type (v)) {
  case G_TYPE_BOOLEAN:
    return json_node_get_boolean (v);
  case G_TYPE_INT64:
    return json_node_get_int (v) != 0;
  case G_TYPE_DOUBLE:
    return json_node_get_double (v) != 0.0;
  case G_TYPE_STRING:
    return *json_node_get_string (v) != '\0';
  default:
    return FALSE;
  }
}

/* The text of a scalar ("" for anything else). (transfer full) */
static char *
scalar_text (JsonNode *v)
{
  if (v == NULL || !JSON_NODE_HOLDS_VALUE (v))
    return g_strdup ("");
  switch (json_node_get_value_type (v)) {
  case G_TYPE_BOOLEAN:
    return g_strdup (json_node_get_boolean (v) ? "true" : "false");
  case G_TYPE_INT64:
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (v));
  case G_TYPE_DOUBLE:
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (
                                                            v)));
    }
  case G_TYPE_STRING:
    return g_strdup (json_node_get_string (v));
  default:
    return g_strdup ("");
  }
}

static gboolean render_nodes (Render *r, const MedTemplate *t, GPtrArray *nodes,
    GString *out, GError **error);

static gboolean
render_section (Render *r, const MedTemplate *t, Node *n, GString *out,
    GError **error)
{
  JsonNode *v = lookup (r, n->text);
  gboolean ok = TRUE;

  if (n->kind == NODE_INVERTED)
    return truthy (v) ? TRUE : render_nodes (r, t, n->children, out, error);
  if (!truthy (v))
    return TRUE;
  if (JSON_NODE_HOLDS_ARRAY (v)) {
    JsonArray *a = json_node_get_array (v);

    for (guint i = 0; ok && i < json_array_get_length (a); i++) {
      g_ptr_array_add (r->stack, json_array_get_element (a, i));
      ok = render_nodes (r, t, n->children, out, error);
      g_ptr_array_remove_index (r->stack, r->stack->len - 1);
    }
    return ok;
  }
  /* a true scalar: once, with the scalar as "." */
  g_ptr_array_add (r->stack, v);
  ok = render_nodes (r, t, n->children, out, error);
  g_ptr_array_remove_index (r->stack, r->stack->len - 1);
  return ok;
}

static gboolean
render_nodes (Render *r, const MedTemplate *t, GPtrArray *nodes, GString *out,
    GError **error)
{
  for (guint i = 0; i < nodes->len; i++) {
    Node *n = g_ptr_array_index (nodes, i);

    switch (n->kind) {
    case NODE_TEXT:
      g_string_append_len (out, n->text, n->len);
      break;
    case NODE_VAR:
    case NODE_RAW:
      {
        g_autofree char *s = scalar_text (lookup (r, n->text));

        if (n->kind == NODE_RAW)
          g_string_append (out, s);
        else
          med_template_escape (out, s, -1);
        break;
      }
    case NODE_TRANSLATE:
      {
        const char *s = r->env && r->env->translate
            ? r->env->translate (n->text, r->env->data)
            : NULL;

        med_template_escape (out, s ? s : n->text, -1);
        break;
      }
      case NODE_TRANSLATE_ATTR: {
        const char *s = r->env && r->env->translate
            ? r->env->translate (n->text, r->env->data)
            : NULL;

        g_string_append_printf (out, "%s=\"", n->attr);
        med_template_escape (out, s ? s : n->text, -1);
        g_string_append_c (out, '"');
        break;
      }
    case NODE_SECTION:
    case NODE_INVERTED:
      if (!render_section (r, t, n, out, error))
        return FALSE;
      break;
    case NODE_PARTIAL:
      {
        const MedTemplate *p = r->env && r->env->partial
            ? r->env->partial (n->text, r->env->data)
            : NULL;
        gboolean ok;

        if (p == NULL) {
          g_autofree char *what
              = g_strdup_printf ("no template “%s”", n->text);

          return fail (error, MED_TEMPLATE_ERROR_PARTIAL, t->name, n->line,
              what);
        }
        if (r->depth >= MED_TEMPLATE_MAX_DEPTH)
          return fail (error, MED_TEMPLATE_ERROR_TOO_DEEP, t->name, n->line,
              "templates include each other too deep");
        r->depth++;
        ok = render_nodes (r, p, p->nodes, out, error);
        r->depth--;
        if (!ok)
          return FALSE;
        break;
      }
    }
  }
  return TRUE;
}

gboolean
med_template_render (const MedTemplate *t, JsonNode *ctx,
    const MedTemplateEnv *env, GString *out, GError **error)
{
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();
  Render r = { env, stack, 0 };

  g_return_val_if_fail (t != NULL && out != NULL, FALSE);
  if (ctx != NULL)
    g_ptr_array_add (stack, ctx);
  return render_nodes (&r, t, t->nodes, out, error);
}

static void
foreach_msgid (GPtrArray *nodes, void (*fn) (const char *, gpointer),
    gpointer data)
{
  for (guint i = 0; i < nodes->len; i++) {
    Node *n = g_ptr_array_index (nodes, i);

    if (n->kind == NODE_TRANSLATE || n->kind == NODE_TRANSLATE_ATTR)
      fn (n->text, data);
    else if (n->children)
      foreach_msgid (n->children, fn, data);
  }
}

void
med_template_foreach_msgid (const MedTemplate *t,
    void (*fn) (const char *msgid, gpointer data), gpointer data)
{
  foreach_msgid (t->nodes, fn, data);
}
