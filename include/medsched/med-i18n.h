/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-i18n.h — translations: the languages medsched speaks (Chinese,
 * Tibetan, English), how a language is chosen from a code or an
 * Accept-Language header, and the lookup of one message in one language.
 *
 * The catalogues are gettext's: po/ holds zh_CN.po, bo.po and en.po,
 * meson's i18n module compiles them to .mo files, and those are compiled
 * into the program (a GResource) so that an uninstalled build and a test
 * speak every language. gettext's own runtime keeps one language for the
 * whole process (the locale), and `medsched serve` answers a Tibetan party
 * and a Chinese clerk at the same time: so the .mo files are read here
 * (the format is the one the gettext manual documents) into one read-only
 * table per language, built once, and every lookup names its language.
 * Lookups are safe from any thread.
 *
 * Message ids are English (GNOME's convention); a message missing from
 * the Tibetan catalogue falls back to the Chinese one (a court in Tibet
 * reads Chinese), one missing from the Chinese catalogue to the English
 * id. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MED_LANG_ZH, /* 中文 (Simplified), catalogue zh_CN */
  MED_LANG_BO, /* བོད་ཡིག Tibetan */
  MED_LANG_EN, /* English */
  MED_LANG_N
} MedLang;

/* Marks a string for extraction without translating it here. */
#define N_(s) (s)

#define MED_I18N_ERROR (med_i18n_error_quark ())
GQuark med_i18n_error_quark (void);

typedef enum
{
  MED_I18N_ERROR_CORRUPT, /* not a .mo file, or one that lies about sizes */
} MedI18nError;

/* "zh", "bo", "en": the code parties are stored with. */
const char *med_lang_code (MedLang lang);
/* The BCP 47 tag for lang attributes: "zh-Hans", "bo", "en". */
const char *med_lang_tag (MedLang lang);
/* The language's name in itself: "中文", "བོད་ཡིག", "English". */
const char *med_lang_name (MedLang lang);
/* Accepts a code or tag in any common spelling (zh, zh-CN, zh_CN.UTF-8,
 * zh-Hans, bo, bo-CN, en-GB, …, any case). FALSE for anything else. */
gboolean med_lang_from_code (const char *code, MedLang *out);
/* The same, or fallback for NULL or a language without a catalogue (a
 * party's Mongolian: their texts in the centre's Chinese). */
MedLang med_lang_from_code_or (const char *code, MedLang fallback);
/* The best of an Accept-Language header (q values honoured, q=0 ignored),
 * or fallback when it names none of ours. */
MedLang med_lang_from_accept (const char *header, MedLang fallback);
/* The language of the environment, as GNU gettext (glibc 2.36) picks a
 * program's: the locale of messages is the first set of LC_ALL,
 * LC_MESSAGES, LANG; when it is unset, "C" or "POSIX", English (LANGUAGE
 * is then ignored, as glibc ignores it); else LANGUAGE, a colon list, when
 * set (its first language of ours; English when it names none), else the
 * locale's language (English when not ours). C.UTF-8 is not "C": glibc
 * honours LANGUAGE under it, and so does this. */
MedLang med_lang_from_environment (void);

/* msgid in lang (transfer none; msgid itself when untranslated). Like
 * gettext, a format_arg function: the compiler checks a printf format
 * given through it against the msgid. */
const char *med_i18n_gettext (MedLang lang, const char *msgid)
    G_GNUC_FORMAT (2);
/* msgid of context ctx (pgettext; msgctxt in the .po) in lang: the same
 * English word can be a column's title and a metavariable of --help.
 * (transfer none; msgid when untranslated) */
const char *med_i18n_pgettext (MedLang lang, const char *ctx, const char *msgid)
    G_GNUC_FORMAT (3);
/* The form of msgid / msgid_plural for n in lang (transfer none). The
 * catalogues of Chinese and Tibetan have one form (nplurals=1), their
 * msgstr[0]; English is the message ids' language: msgid when n is 1,
 * else msgid_plural. */
const char *med_i18n_ngettext (MedLang lang, const char *msgid,
    const char *msgid_plural, gulong n) G_GNUC_FORMAT (2) G_GNUC_FORMAT (3);
/* A translated printf format filled in: the catalogue's format has the
 * msgid's conversions (msgfmt --check-format says so), in any order with
 * %1$s. (transfer full) */
char *med_i18n_printf (MedLang lang, const char *msgid, ...);
char *med_i18n_vprintf (MedLang lang, const char *msgid, va_list ap);
/* msgid in the environment's language (the CLI's _()), the language read
 * once per process. */
const char *med_i18n_gettext_env (const char *msgid) G_GNUC_FORMAT (1);
const char *med_i18n_ngettext_env (const char *msgid, const char *msgid_plural,
    gulong n) G_GNUC_FORMAT (1) G_GNUC_FORMAT (2);
/* The environment's language as med_i18n_gettext_env uses it. */
MedLang med_i18n_env_lang (void);
/* The scheduler's reasons (MedReason, med-scheduler.h) as text in lang:
 * one, or a list joined with the language's separator ("; "). The one
 * place their words live (src/i18n/med-i18n-reason.c): the scheduler's
 * English explanations, the pages, the CLI and the API all come from it.
 * (transfer full) */
typedef struct _MedReason MedReason;
char *med_i18n_reason (MedLang lang, const MedReason *r);
char *med_i18n_reasons (MedLang lang, GPtrArray *reasons);

/* Every translated message of lang, msgid → text, fallbacks applied
 * (transfer none; read-only). */
GHashTable *med_i18n_catalogue (MedLang lang);
/* Reads a .mo file: msgid → msgstr for every translated, non-header
 * message (contexts kept as "ctx\004id"; of a plural entry, the singular
 * and its first form). (transfer full) */
GHashTable *med_i18n_parse_mo (GBytes *mo, GError **error);

G_END_DECLS
