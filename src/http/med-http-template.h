/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-template.h — the page templates' engine: a small subset of
 * mustache whose every output is HTML-escaped unless the template names
 * the other choice.
 *
 *   {{name}}          the value, HTML-escaped (& < > " ' become entities)
 *   {{{name}}} {{&name}}  the value as it is: only for HTML the server made
 *   {{#name}}…{{/name}}   a list: once per element; an object: once inside
 *                     it; any other true value (true, non-empty string,
 *                     non-zero number): once
 *   {{^name}}…{{/name}}   once when the value is missing, null, false, "",
 *                     0 or an empty list
 *   {{> name}}        another template (found through the env)
 *   {{_("text")}}     text translated through the env, HTML-escaped; the
 *                     form is C's so that xgettext finds the strings
 *   {{aria-label=_("text")}}  a whole attribute, aria-label="<translated
 *                     text, escaped>": inside an attribute's own quotes
 *                     xgettext would take the call for part of a string
 *   {{! comment }}
 *
 * Names are letters, digits, '_', '-' and '.' (a dotted path; a number
 * in it picks an element of a list, so {{#list.0}} is "the list is not
 * empty"); "." is the current value. Values come from a json-glib tree; a name is looked up
 * in the innermost enclosing section first, then outwards. A value is
 * never parsed as a template, so "{{" inside data is just text.
 *
 * Parsing refuses, with MED_TEMPLATE_ERROR and the line number, anything
 * it does not understand: an unclosed tag or section, a close that does
 * not match, nesting deeper than MED_TEMPLATE_MAX_DEPTH, a template over
 * MED_TEMPLATE_MAX_BYTES, bad names, bad strings. Rendering refuses
 * partials nested deeper than MED_TEMPLATE_MAX_DEPTH (a template that
 * includes itself) and unknown partials. A parsed template is immutable:
 * threads may render it at the same time. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MED_TEMPLATE_ERROR (med_template_error_quark ())
GQuark med_template_error_quark (void);

typedef enum
{
  MED_TEMPLATE_ERROR_SYNTAX,
  MED_TEMPLATE_ERROR_TOO_LARGE,
  MED_TEMPLATE_ERROR_TOO_DEEP,
  MED_TEMPLATE_ERROR_PARTIAL, /* unknown partial */
} MedTemplateError;

#define MED_TEMPLATE_MAX_BYTES (1024 * 1024)
#define MED_TEMPLATE_MAX_DEPTH 32

typedef struct _MedTemplate MedTemplate;

typedef struct
{
  /* msgid → translation (transfer none); NULL = msgid as it is */
  const char *(*translate) (const char *msgid, gpointer data);
  /* name → template (transfer none), NULL when there is none */
  const MedTemplate *(*partial) (const char *name, gpointer data);
  gpointer data;
} MedTemplateEnv;

/* name is used in error messages. (transfer full) */
MedTemplate *med_template_parse (const char *name, const char *text,
    gssize len, GError **error);
void med_template_free (MedTemplate *t);
/* Appends the expansion of t over ctx (may be NULL) to out. On failure out
 * holds a partial page that must not be sent. */
gboolean med_template_render (const MedTemplate *t, JsonNode *ctx,
    const MedTemplateEnv *env, GString *out, GError **error);
/* Calls fn for every {{_("…")}} msgid of t (in order). */
void med_template_foreach_msgid (const MedTemplate *t,
    void (*fn) (const char *msgid, gpointer data), gpointer data);
/* Appends s HTML-escaped. */
void med_template_escape (GString *out, const char *s, gssize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedTemplate, med_template_free)

G_END_DECLS
