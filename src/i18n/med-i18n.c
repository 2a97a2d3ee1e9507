/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-i18n.c — message catalogues per language, read from the compiled
 * .mo files in the program's GResource (med-i18n.gresource.xml) once, then
 * looked up read-only from any thread (see med-i18n.h for why not
 * gettext's own runtime). */
#define G_LOG_DOMAIN "medsched-i18n"

#include <medsched/med-i18n.h>

#include "med-i18n-resources.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK (med-i18n-error-quark, med_i18n_error)
/* clang-format on */

static const struct
{
  const char *code, *tag, *name, *resource;
} langs[MED_LANG_N] = {
  { "zh", "zh-Hans", "中文", "/org/medsched/i18n/zh_CN.mo" },
  { "bo", "bo", "བོད་ཡིག", "/org/medsched/i18n/bo.mo" },
  { "en", "en", "English", "/org/medsched/i18n/en.mo" },
};

const char *
med_lang_code (MedLang lang)
{
  return (guint) lang < MED_LANG_N ? langs[lang].code : "zh";
}

const char *
med_lang_tag (MedLang lang)
{
  return (guint) lang < MED_LANG_N ? langs[lang].tag : "zh-Hans";
}

const char *
med_lang_name (MedLang lang)
{
  return (guint) lang < MED_LANG_N ? langs[lang].name : "中文";
}

MedLang
med_lang_from_code_or (const char *code, MedLang fallback)
{
  MedLang l;

  return med_lang_from_code (code, &l) ? l : fallback;
}

gboolean
med_lang_from_code (const char *code, MedLang *out)
{
  char primary[4];
  gsize n = 0;

  if (code == NULL)
    return FALSE;
  while (code[n] != '\0' && g_ascii_isalpha (code[n]) && n < 4)
    n++;
  /* a primary subtag of 2–3 letters, then nothing or a separator */
  if (n < 2 || n > 3
      || (code[n] != '\0' && code[n] != '-' && code[n] != '_' && code[n] != '.'
          && code[n] != '@'))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    primary[i] = g_ascii_tolower (code[i]);
  primary[n] = '\0';
  for (guint i = 0; i < MED_LANG_N; i++) {
    if (strcmp (primary, langs[i].code) == 0) {
      *out = (MedLang) i;
      return TRUE;
    }
  }
  return FALSE;
}

MedLang
med_lang_from_accept (const char *header, MedLang fallback)
{
  g_auto (GStrv) items = NULL;
  MedLang best = fallback;
  double best_q = 0.0;

  if (header == NULL || strlen (header) > 1024)
    return fallback;
  items = g_strsplit (header, ",", 32);
  for (guint i = 0; items[i] != NULL; i++) {
    g_auto (GStrv) parts = g_strsplit (items[i], ";", 8);
    double q = 1.0;
    MedLang l;

    if (parts[0] == NULL)
      continue; /* an empty item */
    g_strstrip (parts[0]);
    for (guint j = 1; parts[j] != NULL; j++) {
      char *p = g_strstrip (parts[j]);

      if (g_ascii_strncasecmp (p, "q=", 2) == 0) {
        char *end = NULL;

        q = g_ascii_strtod (p + 2, &end);
        if (end == p + 2 || *end != '\0' || q < 0.0 || q > 1.0)
          q = 0.0;
      }
    }
    /* the first of equal weights wins, as the header lists them */
    if (q > best_q && med_lang_from_code (parts[0], &l)) {
      best = l;
      best_q = q;
    }
  }
  return best;
}

MedLang
med_lang_from_environment (void)
{
  static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
  const char *locale = NULL, *language = g_getenv ("LANGUAGE");
  MedLang l;

  for (guint i = 0; i < G_N_ELEMENTS (vars) && locale == NULL; i++) {
    const char *v = g_getenv (vars[i]);

    if (v != NULL && *v != '\0')
      locale = v;
  }
  /* glibc: LANGUAGE is ignored when the locale is C (setlocale names
   * POSIX "C" too) */
  if (locale == NULL || strcmp (locale, "C") == 0
      || strcmp (locale, "POSIX") == 0)
    return MED_LANG_EN;
  if (language != NULL && *language != '\0') {
    g_auto (GStrv) list = g_strsplit (language, ":", 16);

    for (guint j = 0; list[j]; j++) {
      if (med_lang_from_code (list[j], &l))
        return l;
    }
    return MED_LANG_EN; /* none of ours: the message ids */
  }
  return med_lang_from_code (locale, &l) ? l : MED_LANG_EN;
}

/* ---- .mo files ---- */

static gboolean
read_u32 (const guint8 *data, gsize size, gsize at, gboolean swap, guint32 *v)
{
  guint32 x;

  if (at > size || size - at < 4)
    return FALSE;
  memcpy (&x, data + at, 4);
  *v = swap ? GUINT32_SWAP_LE_BE (x) : x;
  return TRUE;
}

/* The string of table entry i: (len, offset) pairs; the byte after the
 * string must be NUL. */
static const char *
mo_string (const guint8 *data, gsize size, guint32 table, guint32 i,
    gboolean swap, guint32 *len)
{
  guint32 off;

  if (!read_u32 (data, size, (gsize) table + (gsize) i * 8, swap, len)
      || !read_u32 (data, size, (gsize) table + (gsize) i * 8 + 4, swap, &off)
      || off >= size || size - off <= *len || data[off + *len] != '\0')
    return NULL;
  return (const char *) data + off;
}

GHashTable *
med_i18n_parse_mo (GBytes *mo, GError **error)
{
  gsize size = 0;
  const guint8 *data = mo ? g_bytes_get_data (mo, &size) : NULL;
  g_autoptr (GHashTable) h
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint32 magic = 0, rev, n, orig, trans;
  gboolean swap;

  if (data == NULL || !read_u32 (data, size, 0, FALSE, &magic)
      || (magic != 0x950412de && magic != 0xde120495))
    goto corrupt;
  swap = magic == 0xde120495;
  if (!read_u32 (data, size, 4, swap, &rev) || (rev >> 16) > 1
      || !read_u32 (data, size, 8, swap, &n)
      || !read_u32 (data, size, 12, swap, &orig)
      || !read_u32 (data, size, 16, swap, &trans) || n > size / 16)
    goto corrupt;
  for (guint32 i = 0; i < n; i++) {
    guint32 idlen, strlen_;
    const char *id = mo_string (data, size, orig, i, swap, &idlen);
    const char *str = mo_string (data, size, trans, i, swap, &strlen_);

    if (id == NULL || str == NULL || !g_utf8_validate (id, -1, NULL)
        || !g_utf8_validate (str, -1, NULL))
      goto corrupt;
    if (*id == '\0' || *str == '\0')
      continue; /* the header, or untranslated */
    g_hash_table_replace (h, g_strdup (id), g_strdup (str));
  }
  return g_steal_pointer (&h);

corrupt:
  g_set_error_literal (error, MED_I18N_ERROR, MED_I18N_ERROR_CORRUPT,
      "not a valid .mo message catalogue");
  return NULL;
}

/* ---- the catalogues ---- */

static GHashTable *tables[MED_LANG_N];

static gpointer
load_all (gpointer unused)
{
  GResource *res = med_i18n_get_resource ();
  GHashTable *own[MED_LANG_N];

  for (guint i = 0; i < MED_LANG_N; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) b = g_resource_lookup_data (res, langs[i].resource,
        G_RESOURCE_LOOKUP_FLAGS_NONE, &error);

    own[i] = b ? med_i18n_parse_mo (b, &error) : NULL;
    if (own[i] == NULL) {
      g_warning ("catalogue %s: %s", langs[i].code, error->message);
      own[i] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }
  }
  /* fallbacks: Tibetan → Chinese; the tables then stay as they are */
  for (guint i = 0; i < MED_LANG_N; i++) {
    GHashTable *t
        = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter it;
    gpointer k, v;

    if (i == MED_LANG_BO) {
      g_hash_table_iter_init (&it, own[MED_LANG_ZH]);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_hash_table_replace (t, g_strdup (k), g_strdup (v));
    }
    g_hash_table_iter_init (&it, own[i]);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_hash_table_replace (t, g_strdup (k), g_strdup (v));
    tables[i] = t;
  }
  for (guint i = 0; i < MED_LANG_N; i++)
    g_hash_table_unref (own[i]);
  return NULL;
}

GHashTable *
med_i18n_catalogue (MedLang lang)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load_all, NULL);
  return tables[(guint) lang < MED_LANG_N ? lang : MED_LANG_ZH];
}

const char *
med_i18n_gettext (MedLang lang, const char *msgid)
{
  const char *s;

  if (msgid == NULL || *msgid == '\0')
    return msgid;
  s = g_hash_table_lookup (med_i18n_catalogue (lang), msgid);
  return s ? s : msgid;
}

char *
med_i18n_vprintf (MedLang lang, const char *msgid, va_list ap)
{
  char *s;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  s = g_strdup_vprintf (med_i18n_gettext (lang, msgid), ap);
#pragma GCC diagnostic pop
  return s;
}

char *
med_i18n_printf (MedLang lang, const char *msgid, ...)
{
  va_list ap;
  char *s;

  va_start (ap, msgid);
  s = med_i18n_vprintf (lang, msgid, ap);
  va_end (ap);
  return s;
}

const char *
med_i18n_pgettext (MedLang lang, const char *ctx, const char *msgid)
{
  g_autofree char *key = NULL;
  const char *s;

  if (ctx == NULL || msgid == NULL || *msgid == '\0')
    return msgid;
  key = g_strconcat (ctx, "\004", msgid, NULL);
  s = g_hash_table_lookup (med_i18n_catalogue (lang), key);
  return s ? s : msgid;
}

const char *
med_i18n_ngettext (MedLang lang, const char *msgid, const char *msgid_plural,
    gulong n)
{
  const char *s;

  if (lang != MED_LANG_EN && msgid != NULL && *msgid != '\0'
      && (s = g_hash_table_lookup (med_i18n_catalogue (lang), msgid)) != NULL)
    return s; /* zh_CN and bo: nplurals=1 */
  return n == 1 ? msgid : msgid_plural;
}

MedLang
med_i18n_env_lang (void)
{
  static gsize lang = 0;

  if (g_once_init_enter (&lang))
    g_once_init_leave (&lang, (gsize) med_lang_from_environment () + 1);
  return (MedLang) (lang - 1);
}

const char *
med_i18n_gettext_env (const char *msgid)
{
  return med_i18n_gettext (med_i18n_env_lang (), msgid);
}

const char *
med_i18n_ngettext_env (const char *msgid, const char *msgid_plural, gulong n)
{
  return med_i18n_ngettext (med_i18n_env_lang (), msgid, msgid_plural, n);
}
