/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-i18n.c — translations (src/i18n): choosing a language from codes,
 * Accept-Language headers and the environment; reading .mo catalogues,
 * hostile ones included (truncated, lying offsets, unterminated strings,
 * bad UTF-8); lookups with the Tibetan → Chinese fallback; and lookups in
 * different languages from many threads at once, the first of them racing
 * to load the catalogues. */
#include <medsched/med-i18n.h>
#include <medsched/med-model.h>

#include <string.h>

#include "../test-threads.h"

static void
test_codes (void)
{
  static const struct
  {
    const char *code;
    gint lang; /* -1 = refused */
  } cases[] = {
    { "zh", MED_LANG_ZH },
    { "zh-CN", MED_LANG_ZH },
    { "zh_CN.UTF-8", MED_LANG_ZH },
    { "ZH-Hans", MED_LANG_ZH },
    { "bo", MED_LANG_BO },
    { "bo-CN", MED_LANG_BO },
    { "bo_IN", MED_LANG_BO },
    { "en", MED_LANG_EN },
    { "en-GB", MED_LANG_EN },
    { "en@quot", MED_LANG_EN },
    { "", -1 },
    { "z", -1 },
    { "zho", -1 },
    { "zhx", -1 },
    { "C", -1 },
    { "POSIX", -1 },
    { "b0", -1 },
    { "bod", -1 },
    { "english", -1 },
    { "zh\nSet-Cookie", -1 },
    { "<bo>", -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    MedLang l = MED_LANG_N;
    gboolean ok = med_lang_from_code (cases[i].code, &l);

    if (ok != (cases[i].lang >= 0) || (ok && (gint) l != cases[i].lang))
      g_error ("code “%s”: %d %d", cases[i].code, ok, l);
  }
  g_assert_false (med_lang_from_code (NULL, NULL));
  g_assert_cmpstr (med_lang_tag (MED_LANG_ZH), ==, "zh-Hans");
  g_assert_cmpstr (med_lang_tag (MED_LANG_BO), ==, "bo");
  g_assert_cmpstr (med_lang_name (MED_LANG_BO), ==, "བོད་ཡིག");
}

static void
test_accept_language (void)
{
  g_autoptr (GString) huge = g_string_new (NULL);

  g_assert_cmpint (med_lang_from_accept ("bo-CN,bo;q=0.9,zh;q=0.8",
                       MED_LANG_EN),
      ==, MED_LANG_BO);
  g_assert_cmpint (med_lang_from_accept ("en-US,en;q=0.9", MED_LANG_ZH), ==,
      MED_LANG_EN);
  /* q values, not order, decide */
  g_assert_cmpint (med_lang_from_accept ("en;q=0.3, bo;q=0.8, zh;q=0.5",
                       MED_LANG_ZH),
      ==, MED_LANG_BO);
  /* q=0 means "not this one" */
  g_assert_cmpint (med_lang_from_accept ("bo;q=0, fr", MED_LANG_ZH), ==,
      MED_LANG_ZH);
  g_assert_cmpint (med_lang_from_accept ("fr-FR,de", MED_LANG_ZH), ==,
      MED_LANG_ZH);
  g_assert_cmpint (med_lang_from_accept (NULL, MED_LANG_BO), ==, MED_LANG_BO);
  g_assert_cmpint (med_lang_from_accept ("", MED_LANG_ZH), ==, MED_LANG_ZH);
  g_assert_cmpint (med_lang_from_accept (";;;,,,q=1", MED_LANG_ZH), ==,
      MED_LANG_ZH);
  g_assert_cmpint (med_lang_from_accept ("en;q=abc, bo;q=2", MED_LANG_ZH), ==,
      MED_LANG_ZH);
  for (guint i = 0; i < 5000; i++)
    g_string_append (huge, "xx;q=0.1,");
  g_string_append (huge, "bo");
  g_assert_cmpint (med_lang_from_accept (huge->str, MED_LANG_ZH), ==,
      MED_LANG_ZH);
}

static void
test_environment (void)
{
  g_setenv ("LANGUAGE", "", TRUE);
  g_setenv ("LC_ALL", "", TRUE);
  g_setenv ("LC_MESSAGES", "", TRUE);
  g_setenv ("LANG", "C.UTF-8", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_EN);
  g_setenv ("LANG", "zh_CN.UTF-8", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_ZH);
  g_setenv ("LC_ALL", "bo_CN.UTF-8", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_BO);
  g_setenv ("LANGUAGE", "fr:en", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_EN);
  /* LANGUAGE wins over the locale, its first language of ours */
  g_setenv ("LANGUAGE", "fr:zh_CN:bo", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_ZH);
  /* none of ours in LANGUAGE: the message ids, not the locale (glibc) */
  g_setenv ("LANGUAGE", "fr", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_EN);
  /* the C locale ignores LANGUAGE; C.UTF-8 does not (glibc 2.36) */
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  g_setenv ("LC_ALL", "C", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_EN);
  g_setenv ("LC_ALL", "POSIX", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_EN);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_ZH);
  /* no locale at all is C */
  g_unsetenv ("LC_ALL");
  g_unsetenv ("LANG");
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_EN);
  /* LC_MESSAGES between LC_ALL and LANG */
  g_unsetenv ("LANGUAGE");
  g_setenv ("LC_MESSAGES", "bo_CN.UTF-8", TRUE);
  g_setenv ("LANG", "zh_CN.UTF-8", TRUE);
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_BO);
  g_unsetenv ("LANGUAGE");
  g_unsetenv ("LC_ALL");
  g_unsetenv ("LC_MESSAGES");
  g_unsetenv ("LANG");
  g_assert_cmpint (med_lang_from_environment (), ==, MED_LANG_EN);
}

/* A .mo file of the given pairs, little- or big-endian. */
static GByteArray *
make_mo (const char *const *pairs, guint n, gboolean big)
{
  GByteArray *b = g_byte_array_new ();
  guint32 orig = 28, trans = 28 + n * 8, data = 28 + n * 16;
  g_autoptr (GByteArray) strings = g_byte_array_new ();
  guint32 *tab = g_new0 (guint32, n * 4);
  guint32 head[7] = { 0x950412de, 0, n, orig, trans, 0, data };

  for (guint k = 0; k < 2; k++) {
    for (guint i = 0; i < n; i++) {
      const char *s = pairs[i * 2 + k];

      tab[k * n * 2 + i * 2] = strlen (s);
      tab[k * n * 2 + i * 2 + 1] = data + strings->len;
      g_byte_array_append (strings, (const guint8 *) s, strlen (s) + 1);
    }
  }
  for (guint i = 0; i < 7; i++) {
    guint32 v = big ? GUINT32_SWAP_LE_BE (head[i]) : head[i];

    g_byte_array_append (b, (guint8 *) &v, 4);
  }
  for (guint i = 0; i < n * 4; i++) {
    guint32 v = big ? GUINT32_SWAP_LE_BE (tab[i]) : tab[i];

    g_byte_array_append (b, (guint8 *) &v, 4);
  }
  g_byte_array_append (b, strings->data, strings->len);
  g_free (tab);
  return b;
}

static GHashTable *
parse (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);

  return med_i18n_parse_mo (bytes, error);
}

static void
test_mo (void)
{
  static const char *const pairs[] = { "", "Content-Type: text/plain\n",
    "Waiting room", "等候室", "Untranslated", "", "ctx\004Id", "上下文" };

  for (guint big = 0; big < 2; big++) {
    g_autoptr (GByteArray) mo = make_mo (pairs, 4, big);
    g_autoptr (GError) error = NULL;
    g_autoptr (GHashTable) h = parse (mo->data, mo->len, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (g_hash_table_size (h), ==, 2);
    g_assert_cmpstr (g_hash_table_lookup (h, "Waiting room"), ==, "等候室");
    g_assert_cmpstr (g_hash_table_lookup (h, "ctx\004Id"), ==, "上下文");
    g_assert_null (g_hash_table_lookup (h, "Untranslated"));

    /* every truncation fails cleanly */
    for (gsize cut = 0; cut < mo->len; cut++) {
      g_autoptr (GError) e2 = NULL;
      g_autoptr (GHashTable) h2 = parse (mo->data, cut, &e2);

      g_assert_null (h2);
      g_assert_error (e2, MED_I18N_ERROR, MED_I18N_ERROR_CORRUPT);
    }
  }
  /* lies: a count beyond the file, offsets out of it, no NUL, bad UTF-8 */
  {
    g_autoptr (GByteArray) mo = make_mo (pairs, 4, FALSE);
    guint32 v;
    g_autoptr (GError) e = NULL;
    GHashTable *h;

    v = 0x7fffffff;
    memcpy (mo->data + 8, &v, 4);
    h = parse (mo->data, mo->len, &e);
    g_assert_null (h);
    g_clear_error (&e);

    g_byte_array_unref (g_steal_pointer (&mo));
    mo = make_mo (pairs, 4, FALSE);
    v = 0xfffffff0; /* the first translation's offset */
    memcpy (mo->data + 28 + 4 * 8 + 4, &v, 4);
    h = parse (mo->data, mo->len, &e);
    g_assert_null (h);
    g_clear_error (&e);

    g_byte_array_unref (g_steal_pointer (&mo));
    mo = make_mo (pairs, 4, FALSE);
    v = 0xffffffff; /* a length that runs past the end */
    memcpy (mo->data + 28 + 8, &v, 4);
    h = parse (mo->data, mo->len, &e);
    g_assert_null (h);
    g_clear_error (&e);

    g_byte_array_unref (g_steal_pointer (&mo));
    mo = make_mo (pairs, 4, FALSE);
    mo->data[mo->len - 1] = 'x'; /* the last string unterminated */
    h = parse (mo->data, mo->len, &e);
    g_assert_null (h);
    g_clear_error (&e);
  }
  {
    static const char *const bad[] = { "", "", "Id", "\xff\xfe" };
    g_autoptr (GByteArray) mo = make_mo (bad, 2, FALSE);
    g_autoptr (GError) e = NULL;
    g_autoptr (GHashTable) h = parse (mo->data, mo->len, &e);

    g_assert_null (h);
    g_assert_error (e, MED_I18N_ERROR, MED_I18N_ERROR_CORRUPT);
  }
  {
    g_autoptr (GError) e = NULL;

    g_assert_null (med_i18n_parse_mo (NULL, &e));
    g_assert_error (e, MED_I18N_ERROR, MED_I18N_ERROR_CORRUPT);
  }
}

/* What the compiled catalogues say, fallbacks included. */
static const struct
{
  MedLang lang;
  const char *id, *text;
} expected[] = {
  { MED_LANG_ZH, "Waiting room", "等候室" },
  { MED_LANG_BO, "Waiting room", "སྒུག་ཁང་།" },
  { MED_LANG_EN, "Waiting room", "Waiting room" },
  { MED_LANG_ZH, "Divorce dispute", "离婚纠纷" },
  { MED_LANG_ZH, "Step 2: consent to audio and video recording",
      "第二步：同意录音录像" },
  /* a staff page's string without Tibetan: Chinese for a Tibetan reader */
  { MED_LANG_BO, "Audit trail", "审计记录" },
  { MED_LANG_BO, "no such msgid", "no such msgid" },
};

static void
test_lookup (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (med_i18n_gettext (expected[i].lang, expected[i].id), ==,
        expected[i].text);
  g_assert_cmpstr (med_room_kind_label_zh (MED_ROOM_KIND_FAMILY), ==,
      "家事调解室");
  g_assert_cmpstr (med_i18n_gettext (MED_LANG_BO,
                       med_case_kind_label (MED_CASE_KIND_DIVORCE)),
      ==, "གཉེན་སྒྲིག་དབྱེ་བའི་རྩོད་གཞི།");
  g_assert_true (g_hash_table_size (med_i18n_catalogue (MED_LANG_ZH)) > 200);
}

/* Plural forms (Chinese and Tibetan have one) and contexts. */
static void
test_plural_context (void)
{
  const char *one = "recovered %u recording\n";
  const char *many = "recovered %u recordings\n";

  g_assert_cmpstr (med_i18n_ngettext (MED_LANG_EN, one, many, 1), ==, one);
  g_assert_cmpstr (med_i18n_ngettext (MED_LANG_EN, one, many, 2), ==, many);
  g_assert_cmpstr (med_i18n_ngettext (MED_LANG_EN, one, many, 0), ==, many);
  g_assert_cmpstr (med_i18n_ngettext (MED_LANG_ZH, one, many, 1), ==,
      "已恢复 %u 个录像\n");
  g_assert_cmpstr (med_i18n_ngettext (MED_LANG_ZH, one, many, 5), ==,
      "已恢复 %u 个录像\n");
  /* Tibetan without its own: Chinese */
  g_assert_cmpstr (med_i18n_ngettext (MED_LANG_BO, one, many, 5), ==,
      "已恢复 %u 个录像\n");
  /* an unknown message: the ids */
  g_assert_cmpstr (med_i18n_ngettext (MED_LANG_ZH, "x %u", "xs %u", 2), ==,
      "xs %u");
  /* a column's title and the same word without context */
  g_assert_cmpstr (med_i18n_pgettext (MED_LANG_ZH, "column", "KIND"), ==,
      "类型");
  g_assert_cmpstr (med_i18n_gettext (MED_LANG_ZH, "KIND"), ==, "KIND");
  g_assert_cmpstr (med_i18n_pgettext (MED_LANG_ZH, "nowhere", "KIND"), ==,
      "KIND");
}

static gpointer
lookup_thread (gpointer data)
{
  guint seed = GPOINTER_TO_UINT (data);

  for (guint i = 0; i < 20000; i++) {
    guint k = (i * 7 + seed) % G_N_ELEMENTS (expected);

    if (strcmp (med_i18n_gettext (expected[k].lang, expected[k].id),
            expected[k].text)
        != 0)
      return GUINT_TO_POINTER (1);
  }
  return NULL;
}

/* Runs first (before any other lookup) so that the threads race to load
 * the catalogues. */
static void
test_threads (void)
{
  g_assert_cmpuint (run_threads (lookup_thread, 8), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/i18n/threads", test_threads);
  g_test_add_func ("/i18n/codes", test_codes);
  g_test_add_func ("/i18n/accept-language", test_accept_language);
  g_test_add_func ("/i18n/environment", test_environment);
  g_test_add_func ("/i18n/mo", test_mo);
  g_test_add_func ("/i18n/lookup", test_lookup);
  g_test_add_func ("/i18n/plural-context", test_plural_context);
  return g_test_run ();
}
