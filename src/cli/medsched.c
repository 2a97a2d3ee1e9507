/* SPDX-License-Identifier: GPL-3.0-or-later */
/* medsched.c — the `medsched` command: parses arguments, calls the store,
 * the scheduler and the ical reader, prints results. No business rules
 * live here; each command that writes runs in one store transaction.
 *
 * Exit codes: 0 done, 1 failed (no slot, invalid data, database error),
 * 2 usage error, 3 booking conflict (someone else took the slot). */
#define G_LOG_DOMAIN "medsched-cli"

#include "med-cli.h"

#include <medsched/med-ical.h>
#include <medsched/med-scheduler.h>
#include <medsched/med-service.h>
#include <medsched/med-store.h>
#include <medsched/med-workcal.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <stdlib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Set by meson: <datadir>/medsched/calendars, where `meson install` puts
 * calendars/. */
#ifndef MEDSCHED_CALENDARS_DIR
#define MEDSCHED_CALENDARS_DIR "/usr/share/medsched/calendars"
#endif

typedef MedCliGlobal Global;

typedef int (*CommandFunc) (Global *g, int argc, char **argv);

typedef struct
{
  const char *name;
  const char *sub; /* NULL for single-word commands */
  CommandFunc func;
  const char *summary;
} Command;

static int
report (GError *error)
{
  int code = EXIT_FAILED;

  if (error == NULL)
    return EXIT_OK;
  if (g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT)
      || g_error_matches (error, MED_SCHEDULER_ERROR,
          MED_SCHEDULER_ERROR_CONFLICT))
    code = EXIT_CONFLICT;
  else if (error->domain == G_OPTION_ERROR
      || g_error_matches (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID))
    code = EXIT_USAGE;
  if (med_scheduler_error_get_reasons (error) != NULL
      && med_i18n_env_lang () != MED_LANG_EN) {
    /* the scheduler's reasons in the reader's language (its message is
     * their English) */
    g_autofree char *why = med_i18n_reasons (med_i18n_env_lang (),
        med_scheduler_error_get_reasons (error));

    if (g_error_matches (error, MED_SCHEDULER_ERROR,
            MED_SCHEDULER_ERROR_NO_SLOT))
      fprintf (stderr, _ ("medsched: no slot: %s\n"), why);
    else
      fprintf (stderr, _ ("medsched: %s\n"), why);
  } else {
    fprintf (stderr, _ ("medsched: %s\n"), error->message);
  }
  g_error_free (error);
  return code;
}

static int usage_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, _ ("medsched: %s (see --help)\n"), msg);
  return EXIT_USAGE;
}

static const char *
translate_help_cb (const char *msgid, gpointer unused)
{
  return _ (msgid);
}

/* Parses a command's options; argv keeps the positional arguments. usage,
 * summary and the entries' descriptions are message ids (N_), translated
 * as --help prints them. */
static gboolean
parse_options (const char *usage, const char *summary,
    const GOptionEntry *entries, int *argc, char ***argv, int *code)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (usage);
  g_autoptr (GError) error = NULL;

  g_option_context_set_translate_func (ctx, translate_help_cb, NULL, NULL);
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  /* the entries' own function, after add_main_entries set gettext's */
  g_option_group_set_translate_func (g_option_context_get_main_group (ctx),
      translate_help_cb, NULL, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    *code = usage_error ("%s", error->message);
    return FALSE;
  }
  return TRUE;
}

/* With --now the store's own timestamps (audit, status changes) follow
 * the given clock too, so replays and demos are consistent. */
static MedStore *
use_clock (MedStore *store, Global *g)
{
  if (store != NULL && g->now_text != NULL)
    med_store_set_now (store, g->now);
  return store;
}

/* The store without asking for a centre (init, centre add and list). */
static MedStore *
open_store_any (Global *g, GError **error)
{
  return use_clock (med_store_open_existing (g->db, error), g);
}

/* Fails with NOT_FOUND when the store lacks the centre of --centre,
 * naming the ones it holds: an unknown centre is an error, never an empty
 * answer. A store with no centre at all is let through when --centre was
 * not given (a command then says what is missing, as before init). */
static gboolean
check_centre_exists (MedStore *store, Global *g, GError **error)
{
  g_autoptr (GPtrArray) centres = med_store_list_centres (store, error);
  g_autoptr (GString) ids = g_string_new (NULL);

  if (centres == NULL)
    return FALSE;
  if (centres->len == 0 && !g->centre_given)
    return TRUE;
  for (guint i = 0; i < centres->len; i++) {
    MedCentre *c = g_ptr_array_index (centres, i);

    if (c->id == g->centre_id)
      return TRUE;
    g_string_append_printf (ids, "%s%" G_GINT64_FORMAT, i ? ", " : "", c->id);
  }
  if (centres->len == 0)
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "%s holds no centre %" G_GINT64_FORMAT
        " (no centre at all: medsched init makes the first)",
        g->db, g->centre_id);
  else
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "%s holds no centre %" G_GINT64_FORMAT
        " (its centres: %s; medsched centre list shows them)",
        g->db, g->centre_id, ids->str);
  return FALSE;
}

static MedStore *
open_store (Global *g, GError **error)
{
  g_autoptr (MedStore) store = open_store_any (g, error);

  if (store == NULL || !check_centre_exists (store, g, error))
    return NULL;
  return g_steal_pointer (&store);
}

static MedCentre *
load_centre (MedStore *store, Global *g, GError **error)
{
  return med_store_get_centre (store, g->centre_id, error);
}

static gboolean
parse_id (const char *s, gint64 *out)
{
  char *end = NULL;
  gint64 v;

  if (s == NULL || !g_ascii_isdigit (*s))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoll (s, &end, 10);
  if (errno != 0 || *end != '\0' || v <= 0)
    return FALSE;
  *out = v;
  return TRUE;
}

/* A case of the centre by id or by number. */
static MedCase *
find_case (MedStore *store, gint64 centre_id, const char *arg, GError **error)
{
  gint64 id;

  if (!med_validate_text (arg, MED_MAX_NAME_BYTES, FALSE, FALSE, "case", error))
    return NULL;
  if (parse_id (arg, &id))
    return med_store_in_centre (store, MED_STORE_OF_CASE, id, centre_id, error)
        ? med_store_get_case (store, id, error)
        : NULL;
  return med_store_find_case (store, centre_id, arg, error);
}

/* The helpers above, for the other command files (med-cli.h). */
int
med_cli_report (GError *error)
{
  return report (error);
}

int
med_cli_usage (const char *message)
{
  return usage_error ("%s", message);
}

gboolean
med_cli_parse_options (const char *usage, const char *summary,
    const GOptionEntry *entries, int *argc, char ***argv, int *code)
{
  return parse_options (usage, summary, entries, argc, argv, code);
}

MedStore *
med_cli_open_store (MedCliGlobal *g, GError **error)
{
  return open_store (g, error);
}

gboolean
med_cli_parse_id (const char *s, gint64 *out)
{
  return parse_id (s, out);
}

gboolean
med_cli_parse_lang (const char *arg, MedServiceCtx *ctx)
{
  MedLang l;

  if (arg == NULL)
    return TRUE;
  if (!med_lang_from_code (arg, &l))
    return FALSE;
  ctx->lang = med_lang_code (l);
  return TRUE;
}

MedCase *
med_cli_find_case (MedStore *store, gint64 centre_id, const char *arg,
    GError **error)
{
  return find_case (store, centre_id, arg, error);
}

MedServiceCtx
med_cli_ctx (MedCliGlobal *g)
{
  MedServiceCtx ctx = { g->now, g->actor, g->centre_id };

  return ctx;
}

static gboolean
parse_time_arg (const char *s, const char *zone, const char *what, MedTime *out,
    GError **error)
{
  if (!med_time_parse_local (s, zone, out, error)) {
    g_prefix_error (error, "%s: ", what);
    return FALSE;
  }
  return TRUE;
}

static char *
fmt_time (MedTime t, const char *zone)
{
  return med_time_format_local (t, zone, "%Y-%m-%d %H:%M");
}

static char *
fmt_clock (MedTime t, const char *zone)
{
  return med_time_format_local (t, zone, "%H:%M");
}

/* The weekdays as the CLI prints them, Monday first (GDateWeekday 1–7). */
static const char *const weekday_abbr[] = { "", N_ ("Mon"), N_ ("Tue"),
  N_ ("Wed"), N_ ("Thu"), N_ ("Fri"), N_ ("Sat"), N_ ("Sun") };

/* "2026-12-07 Mon 09:00", the weekday in the reader's language. */
static char *
fmt_day_time (MedTime t, const char *zone)
{
  g_autofree char *day = med_time_format_local (t, zone, "%Y-%m-%d");
  g_autofree char *clock = fmt_clock (t, zone);
  g_autofree char *wd = med_time_format_local (t, zone, "%u");
  int n = wd ? atoi (wd) : 0;

  return g_strdup_printf ("%s %s %s", day,
      n >= 1 && n <= 7 ? _ (weekday_abbr[n]) : "", clock);
}

/* ---- init ---- */

/* Reads and parses one holiday notice file. */
static gboolean
parse_calendar_file (const char *path, MedNotice **out, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (MedNotice) n = NULL;
  GStatBuf st;

  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        _ ("%s: not a readable file"), path);
    return FALSE;
  }
  if (st.st_size > MED_ICAL_MAX_BYTES) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_TOO_LARGE,
        _ ("%s: file too large (%lld bytes, at most %d)"), path,
        (long long) st.st_size, MED_ICAL_MAX_BYTES);
    return FALSE;
  }
  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  n = med_ical_parse_notice (data, len, error);
  if (n == NULL) {
    g_prefix_error (error, "%s: ", path);
    return FALSE;
  }
  *out = g_steal_pointer (&n);
  return TRUE;
}

/* Parses every *.ics of dir, in name order, into notices. */
static gboolean
parse_calendar_dir (const char *dir, GPtrArray *notices, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL) {
    if (g_str_has_suffix (name, ".ics"))
      g_ptr_array_add (names, g_build_filename (dir, name, NULL));
  }
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++) {
    MedNotice *n = NULL;

    if (!parse_calendar_file (g_ptr_array_index (names, i), &n, error))
      return FALSE;
    g_ptr_array_add (notices, n);
  }
  return TRUE;
}

/* What init and centre add take: a centre's settings, its contact and
 * the holiday notices to import. */
typedef struct
{
  MedCentre *centre;
  char *public_url; /* NULL: the default */
  char *phone;
  GPtrArray *notices; /* MedNotice* */
  char *calendars; /* where they came from, NULL: none */
} CentreArgs;

static void
centre_args_clear (CentreArgs *a)
{
  g_clear_pointer (&a->centre, med_centre_free);
  g_clear_pointer (&a->public_url, g_free);
  g_clear_pointer (&a->phone, g_free);
  g_clear_pointer (&a->notices, g_ptr_array_unref);
  g_clear_pointer (&a->calendars, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CentreArgs, centre_args_clear)

/* The options of a centre, parsed and checked for init and centre add
 * (one owner): FALSE with *code the exit status when they are wrong.
 * first: init's defaults (the holiday notices installed with medsched
 * are imported unless --calendars says otherwise); else centre add's
 * (--name and --layers required, notices only with --calendars: the
 * database has them already). */
static gboolean
parse_centre_args (const char *command, gboolean first, const char *usage,
    const char *summary, int *argc, char ***argv, CentreArgs *out, int *code)
{
  g_autofree char *name = NULL, *zone = NULL, *layers = NULL, *hours = NULL;
  g_autofree char *address = NULL, *mailbox = NULL;
  g_autofree char *weekend_hours = NULL;
  int min_notice = -1, slot = 0, duration = 0;
  gboolean no_fallback = FALSE;
  GOptionEntry entries[] = { { "name", 0, 0, G_OPTION_ARG_STRING, &name,
                                 N_ ("Centre name"), "NAME" },
    { "zone", 0, 0, G_OPTION_ARG_STRING, &zone,
        N_ ("IANA time zone (default Asia/Shanghai)"), "ZONE" },
    { "layers", 0, 0, G_OPTION_ARG_STRING, &layers,
        N_ ("Holiday jurisdictions followed, national first (default CN)"),
        "CN,CN-XZ-LS" },
    { "hours", 0, 0, G_OPTION_ARG_STRING, &hours,
        N_ ("Monday–Friday opening hours with lunch break"),
        "09:00-12:00,14:30-18:00" },
    { "weekend-hours", 0, 0, G_OPTION_ARG_STRING, &weekend_hours,
        N_ ("Saturday and Sunday hours (default closed)"), "SPEC" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, N_ ("Postal address"),
        "TEXT" },
    { "mailbox", 0, 0, G_OPTION_ARG_STRING, &mailbox,
        N_ ("Organizer e-mail for invites"), "ADDR" },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &out->public_url,
        N_ ("Base URL of the parties' join links (default "
            "https://medsched.invalid)"),
        "URL" },
    { "phone", 0, 0, G_OPTION_ARG_STRING, &out->phone,
        N_ ("The centre's telephone, shown to parties whose link no longer "
            "opens a session"),
        "NUMBER" },
    { "min-notice", 0, 0, G_OPTION_ARG_INT, &min_notice,
        N_ ("Minimum notice before a session, minutes (default 60)"), "MIN" },
    { "slot", 0, 0, G_OPTION_ARG_INT, &slot,
        N_ ("Start-time granularity, minutes (default 15)"), "MIN" },
    { "duration", 0, 0, G_OPTION_ARG_INT, &duration,
        N_ ("Default session length, minutes (default 60)"), "MIN" },
    { "no-fallback", 0, 0, G_OPTION_ARG_NONE, &no_fallback,
        N_ ("Never use another room kind when the preferred one is full"),
        NULL },
    { "calendars", 0, 0, G_OPTION_ARG_FILENAME, &out->calendars,
        N_ ("Import every .ics holiday notice in DIR (init's default: those "
            "installed with medsched)"),
        "DIR" },
    { NULL } };
  g_autoptr (GError) error = NULL;
  MedCentre *c;
  MedDayHours h;

  if (!parse_options (usage, summary, entries, argc, argv, code))
    return FALSE;
  out->centre = c = med_centre_new_default ();
  out->notices
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_notice_free);
  if (*argc > 1) {
    *code = usage_error (_ ("%s takes no arguments"), command);
    return FALSE;
  }
  if (!first && (name == NULL || layers == NULL)) {
    *code = usage_error (_ ("%s needs --name and --layers"), command);
    return FALSE;
  }
  if (min_notice > 7 * 24 * 60 || (min_notice < 0 && min_notice != -1)
      || slot < 0 || slot > 240 || duration < 0 || duration > 8 * 60) {
    *code = usage_error (_ ("a minute value is out of range"));
    return FALSE;
  }

  if (name) {
    if (!med_validate_text (name, MED_MAX_NAME_BYTES, FALSE, FALSE,
            "centre name", &error))
      goto fail;
    g_free (c->name);
    c->name = g_strdup (name);
  }
  if (zone) {
    if (!med_workcal_local_date (zone, 0, NULL, NULL, NULL, &error))
      goto fail;
    g_free (c->zone);
    c->zone = g_strdup (zone);
  }
  if (layers) {
    g_autoptr (MedWorkcal) probe = med_workcal_new ();
    MedDayInfo info;

    if (!med_validate_text (layers, 256, FALSE, FALSE, "layers", &error))
      goto fail;
    /* An invalid layer list is caught now; an unpublished year is fine. */
    if (!med_workcal_day_info (probe, layers, 2026, 1, 5, &info, &error)
        && !g_error_matches (error, MED_WORKCAL_ERROR,
            MED_WORKCAL_ERROR_UNPUBLISHED))
      goto fail;
    g_clear_error (&error);
    g_free (c->layers);
    c->layers = g_strdup (layers);
  }
  if (hours) {
    if (!med_day_hours_parse (hours, &h, &error))
      goto fail;
    for (int i = 0; i < 5; i++)
      c->hours[i] = h;
  }
  if (weekend_hours) {
    if (!med_day_hours_parse (weekend_hours, &h, &error))
      goto fail;
    c->hours[5] = c->hours[6] = h;
  }
  if (address) {
    if (!med_validate_text (address, MED_MAX_TEXT_BYTES, FALSE, TRUE, "address",
            &error))
      goto fail;
    g_free (c->address);
    c->address = g_strdup (address);
  }
  if (mailbox) {
    if (!med_validate_text (mailbox, MED_MAX_NAME_BYTES, FALSE, FALSE,
            "mailbox", &error)
        || strchr (mailbox, '@') == NULL) {
      if (error == NULL)
        g_set_error (&error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
            _ ("mailbox must be an e-mail address"));
      goto fail;
    }
    g_free (c->mailbox);
    c->mailbox = g_strdup (mailbox);
  }
  if (min_notice >= 0)
    c->min_notice_minutes = min_notice;
  if (slot > 0)
    c->slot_minutes = slot;
  if (duration > 0)
    c->default_duration_minutes = duration;
  c->allow_fallback = !no_fallback;

  /* init without --calendars: the notices installed with medsched, if
   * any */
  if (first && out->calendars == NULL
      && g_file_test (MEDSCHED_CALENDARS_DIR, G_FILE_TEST_IS_DIR))
    out->calendars = g_strdup (MEDSCHED_CALENDARS_DIR);
  if (out->calendars
      && !parse_calendar_dir (out->calendars, out->notices, &error))
    goto fail;
  return TRUE;
fail:
  *code = report (g_steal_pointer (&error));
  return FALSE;
}

static int
cmd_init (Global *g, int argc, char **argv)
{
  g_auto (CentreArgs) a = { 0 };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  int code = 0;
  gint64 id;

  if (!parse_centre_args ("init", TRUE,
          N_ ("- create the database and its centre"),
          N_ ("Creates the database (if missing) and registers the centre."),
          &argc, &argv, &a, &code))
    return code;
  store = use_clock (med_store_open (g->db, &error), g);
  if (store == NULL
      || (id = med_service_init_centre (store, &ctx, a.centre, a.public_url,
              a.phone, a.notices, &error))
          == 0)
    return report (g_steal_pointer (&error));
  printf (_ ("created centre %lld “%s” (%s, layers %s) in %s"), (long long) id,
      a.centre->name, a.centre->zone, a.centre->layers, g->db);
  if (a.calendars)
    printf (_ ("; imported %u holiday notices"), a.notices->len);
  printf ("\n");
  return EXIT_OK;
}

/* ---- a province's centres ---- */

/* `centre add`: another centre in a database that holds one already (a
 * province's PostgreSQL database, or a file). */
static int
cmd_centre_add (Global *g, int argc, char **argv)
{
  g_auto (CentreArgs) a = { 0 };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  int code = 0;
  gint64 id;

  if (!parse_centre_args ("centre add", FALSE,
          N_ ("- add another centre to the database"),
          N_ ("Adds a centre to a database that holds one already (init makes "
              "the first): a province keeps its centres in one database, each "
              "with its rooms, mediators, cases and users, each served by a "
              "`medsched --centre ID serve` of its own. Takes init's options."),
          &argc, &argv, &a, &code))
    return code;
  if ((store = open_store_any (g, &error)) == NULL
      || (id = med_service_add_centre (store, &ctx, a.centre, a.public_url,
              a.phone, a.notices, &error))
          == 0)
    return report (g_steal_pointer (&error));
  printf (_ ("added centre %lld “%s” (%s, layers %s) to %s"), (long long) id,
      a.centre->name, a.centre->zone, a.centre->layers, g->db);
  if (a.calendars)
    printf (_ ("; imported %u holiday notices"), a.notices->len);
  printf ("\n");
  return EXIT_OK;
}

/* `centre list`: the database's centres. */
static int
cmd_centre_list (Global *g, int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GPtrArray) centres = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (MedTable) t = med_table_new (6, C_ ("column", "ID"),
      C_ ("column", "NAME"), C_ ("column", "ZONE"), C_ ("column", "LAYERS"),
      C_ ("column", "PUBLIC URL"), C_ ("column", "USERS"));

  if (!parse_options (N_ ("- list the database's centres"),
          N_ ("Lists every centre of the database (a province's holds many)."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("centre list takes no arguments"));
  if ((store = open_store_any (g, &error)) == NULL
      || (centres = med_store_list_centres (store, &error)) == NULL)
    return report (g_steal_pointer (&error));
  json_builder_begin_array (b);
  for (guint i = 0; i < centres->len; i++) {
    MedCentre *c = g_ptr_array_index (centres, i);
    g_autofree char *url = NULL, *phone = NULL, *id = NULL, *n = NULL;
    g_autoptr (GPtrArray) users = NULL;

    if ((url = med_store_get_public_url (store, c->id, &error)) == NULL
        || (phone = med_store_get_centre_phone (store, c->id, &error)) == NULL
        || (users = med_store_list_users (store, c->id, &error)) == NULL)
      return report (g_steal_pointer (&error));
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, c->id);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, c->name);
    json_builder_set_member_name (b, "zone");
    json_builder_add_string_value (b, c->zone);
    json_builder_set_member_name (b, "layers");
    json_builder_add_string_value (b, c->layers);
    json_builder_set_member_name (b, "public_url");
    json_builder_add_string_value (b, url);
    json_builder_set_member_name (b, "phone");
    json_builder_add_string_value (b, phone);
    json_builder_set_member_name (b, "users");
    json_builder_add_int_value (b, users->len);
    json_builder_end_object (b);
    id = g_strdup_printf ("%" G_GINT64_FORMAT, c->id);
    n = g_strdup_printf ("%u", users->len);
    med_table_add (t, id, c->name, c->zone, c->layers, url, n);
  }
  json_builder_end_array (b);
  if (json)
    med_print_json (json_builder_get_root (b));
  else
    med_table_print (t, stdout);
  return EXIT_OK;
}

/* ---- rooms, mediators, interpreters ---- */

static int
cmd_room_add (Global *g, int argc, char **argv)
{
  g_autofree char *name = NULL, *kind = NULL, *features = NULL;
  int capacity = 6, setup = 0, cleanup = 0, code = 0;
  GOptionEntry entries[] = { { "name", 0, 0, G_OPTION_ARG_STRING, &name,
                                 N_ ("Room name"), "NAME" },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind, N_ ("warm, family or remote"),
        "KIND" },
    { "capacity", 0, 0, G_OPTION_ARG_INT, &capacity,
        N_ ("People seated (default 6)"), "N" },
    { "features", 0, 0, G_OPTION_ARG_STRING, &features,
        N_ ("video, child-friendly, accessible, recording"), "LIST" },
    { "setup", 0, 0, G_OPTION_ARG_INT, &setup, N_ ("Setup minutes before"),
        "MIN" },
    { "cleanup", 0, 0, G_OPTION_ARG_INT, &cleanup, N_ ("Cleanup minutes after"),
        "MIN" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedRoom) r = med_room_new ();
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint64 id;

  if (!parse_options (N_ ("- add a room"), N_ ("Registers a mediation room."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1 || name == NULL || kind == NULL)
    return usage_error (_ ("room add needs --name and --kind"));
  if (capacity < 1 || capacity > 500 || setup < 0 || setup > 240 || cleanup < 0
      || cleanup > 240)
    return usage_error (_ ("capacity or buffer out of range"));
  if (!med_validate_text (name, MED_MAX_NAME_BYTES, FALSE, FALSE, "room name",
          &error)
      || !med_room_kind_from_string (kind, &r->kind, &error)
      || (features
          && !med_room_features_from_string (features, &r->features, &error)))
    return report (g_steal_pointer (&error));
  r->name = g_strdup (name);
  r->centre_id = g->centre_id;
  r->capacity = capacity;
  r->setup_minutes = setup;
  r->cleanup_minutes = cleanup;
  if (r->kind == MED_ROOM_KIND_REMOTE)
    r->features |= MED_ROOM_FEATURE_VIDEO;
  if ((store = open_store (g, &error)) == NULL
      || (id = med_service_add_room (store, &ctx, r, &error)) == 0)
    return report (g_steal_pointer (&error));
  printf (_ ("room %lld\n"), (long long) id);
  return EXIT_OK;
}

static int
cmd_room_list (Global *g, int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  g_autoptr (GError) error = NULL;

  if (!parse_options (N_ ("- list rooms"), N_ ("Lists the centre's rooms."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("room list takes no arguments"));
  if ((store = open_store (g, &error)) == NULL
      || (rooms = med_store_list_rooms (store, g->centre_id, &error)) == NULL)
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < rooms->len; i++)
      med_json_add_room (b, g_ptr_array_index (rooms, i));
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
  } else {
    g_autoptr (MedTable) t = med_table_new (6, C_ ("column", "ID"),
        C_ ("column", "ROOM"), C_ ("column", "KIND"), C_ ("column", "CAPACITY"),
        C_ ("column", "FEATURES"), C_ ("column", "BUFFERS"));

    for (guint i = 0; i < rooms->len; i++) {
      MedRoom *r = g_ptr_array_index (rooms, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, r->id);
      g_autofree char *kind = g_strdup_printf ("%s (%s)",
          _ (med_room_kind_label (r->kind)), med_room_kind_to_string (r->kind));
      g_autofree char *cap = g_strdup_printf ("%d", r->capacity);
      g_autofree char *feat = med_room_features_to_string (r->features);
      g_autofree char *buf = g_strdup_printf (_ ("%d+%d min"), r->setup_minutes,
          r->cleanup_minutes);

      med_table_add (t, id, r->name, kind, cap, feat, buf);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

static gboolean
parse_languages (const char *s, char ***out, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (s, ",", 17);

  if (g_strv_length (parts) > 16 || parts[0] == NULL) {
    g_set_error (error, MED_MODEL_ERROR, MED_MODEL_ERROR_INVALID,
        _ ("between 1 and 16 languages"));
    return FALSE;
  }
  for (guint i = 0; parts[i]; i++) {
    if (!med_validate_language (g_strstrip (parts[i]), error))
      return FALSE;
  }
  *out = g_steal_pointer (&parts);
  return TRUE;
}

static int
cmd_mediator_add (Global *g, int argc, char **argv)
{
  g_autofree char *name = NULL, *languages = NULL, *specialties = NULL;
  g_autofree char *email = NULL;
  int cap = 4, code = 0;
  GOptionEntry entries[] = { { "name", 0, 0, G_OPTION_ARG_STRING, &name,
                                 N_ ("Mediator name"), "NAME" },
    { "languages", 0, 0, G_OPTION_ARG_STRING, &languages,
        N_ ("Languages spoken"), "zh,bo" },
    { "specialties", 0, 0, G_OPTION_ARG_STRING, &specialties,
        N_ ("Case kinds handled"), "wages,land,…" },
    { "daily-cap", 0, 0, G_OPTION_ARG_INT, &cap,
        N_ ("Sessions per day at most (default 4)"), "N" },
    { "email", 0, 0, G_OPTION_ARG_STRING, &email,
        N_ ("E-mail address for invites"), "ADDR" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedMediator) m = med_mediator_new ();
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint64 id;

  if (!parse_options (N_ ("- add a mediator"), N_ ("Registers a mediator."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1 || name == NULL || languages == NULL || specialties == NULL)
    return usage_error (_ ("mediator add needs --name, --languages and "
                           "--specialties"));
  if (cap < 1 || cap > 24)
    return usage_error (_ ("--daily-cap must be 1–24"));
  if (!med_validate_text (name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "mediator name", &error)
      || !parse_languages (languages, &m->languages, &error)
      || !med_specialties_from_string (specialties, &m->specialties, &error))
    return report (g_steal_pointer (&error));
  m->name = g_strdup (name);
  m->centre_id = g->centre_id;
  m->daily_cap = cap;
  if ((store = open_store (g, &error)) == NULL
      || (id = med_service_add_mediator (store, &ctx, m, email, &error)) == 0)
    return report (g_steal_pointer (&error));
  printf (_ ("mediator %lld\n"), (long long) id);
  return EXIT_OK;
}

static int
cmd_mediator_leave (Global *g, int argc, char **argv)
{
  g_autofree char *from = NULL, *to = NULL;
  int code = 0;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_ ("Leave starts"), "T" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, N_ ("Leave ends"), "T" }, { NULL }
  };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  MedTime a, b;
  gint64 id;

  if (!parse_options (N_ ("MEDIATOR_ID - record leave"),
          N_ ("Records a mediator's leave (no sessions then)."), entries, &argc,
          &argv, &code))
    return code;
  if (argc != 2 || !parse_id (argv[1], &id) || from == NULL || to == NULL)
    return usage_error (
        _ ("mediator leave needs MEDIATOR_ID, --from and --to"));
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL
      || !parse_time_arg (from, c->zone, "--from", &a, &error)
      || !parse_time_arg (to, c->zone, "--to", &b, &error))
    return report (g_steal_pointer (&error));
  if (b <= a)
    return usage_error (_ ("--to must be after --from"));
  if (!med_service_add_leave (store, &ctx, id, a, b, &error))
    return report (g_steal_pointer (&error));
  printf (_ ("leave recorded for mediator %lld\n"), (long long) id);
  return EXIT_OK;
}

static int
cmd_mediator_list (Global *g, int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;

  if (!parse_options (N_ ("- list mediators"),
          N_ ("Lists the centre's mediators."), entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("mediator list takes no arguments"));
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL
      || (list = med_store_list_mediators (store, g->centre_id, &error))
          == NULL)
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < list->len; i++)
      med_json_add_mediator (b, g_ptr_array_index (list, i), c->zone);
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
  } else {
    g_autoptr (MedTable) t = med_table_new (5, C_ ("column", "ID"),
        C_ ("column", "MEDIATOR"), C_ ("column", "LANGUAGES"),
        C_ ("column", "SPECIALTIES"), C_ ("column", "CAP"));

    for (guint i = 0; i < list->len; i++) {
      MedMediator *m = g_ptr_array_index (list, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, m->id);
      g_autofree char *langs = g_strjoinv (",", m->languages);
      g_autofree char *spec = med_specialties_to_string (m->specialties);
      g_autofree char *cap = g_strdup_printf (_ ("%d/day"), m->daily_cap);

      med_table_add (t, id, m->name, langs, spec, cap);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

static int
cmd_interpreter_add (Global *g, int argc, char **argv)
{
  g_autofree char *name = NULL, *pairs = NULL, *email = NULL;
  int code = 0;
  GOptionEntry entries[] = { { "name", 0, 0, G_OPTION_ARG_STRING, &name,
                                 N_ ("Interpreter name"), "NAME" },
    { "pairs", 0, 0, G_OPTION_ARG_STRING, &pairs, N_ ("Language pairs"),
        "zh:bo,zh:en" },
    { "email", 0, 0, G_OPTION_ARG_STRING, &email,
        N_ ("E-mail address for invites"), "ADDR" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedInterpreter) in = med_interpreter_new ();
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_auto (GStrv) parts = NULL;
  gint64 id;

  if (!parse_options (N_ ("- add an interpreter"),
          N_ ("Registers an interpreter."), entries, &argc, &argv, &code))
    return code;
  if (argc > 1 || name == NULL || pairs == NULL)
    return usage_error (_ ("interpreter add needs --name and --pairs"));
  if (!med_validate_text (name, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "interpreter name", &error))
    return report (g_steal_pointer (&error));
  parts = g_strsplit (pairs, ",", 17);
  if (g_strv_length (parts) > 16)
    return usage_error (_ ("at most 16 language pairs"));
  for (guint i = 0; parts[i]; i++) {
    g_auto (GStrv) ab = g_strsplit (parts[i], ":", -1);

    if (g_strv_length (ab) != 2 || !med_validate_language (ab[0], NULL)
        || !med_validate_language (ab[1], NULL) || strcmp (ab[0], ab[1]) == 0)
      return usage_error (_ ("language pairs look like zh:bo"));
  }
  in->name = g_strdup (name);
  in->pairs = g_steal_pointer (&parts);
  in->centre_id = g->centre_id;
  if ((store = open_store (g, &error)) == NULL
      || (id = med_service_add_interpreter (store, &ctx, in, email, &error))
          == 0)
    return report (g_steal_pointer (&error));
  printf (_ ("interpreter %lld\n"), (long long) id);
  return EXIT_OK;
}

static int
cmd_interpreter_list (Global *g, int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;

  if (!parse_options (N_ ("- list interpreters"),
          N_ ("Lists the interpreters."), entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("interpreter list takes no arguments"));
  if ((store = open_store (g, &error)) == NULL
      || (list = med_store_list_interpreters (store, g->centre_id, &error))
          == NULL)
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < list->len; i++)
      med_json_add_interpreter (b, g_ptr_array_index (list, i));
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
  } else {
    g_autoptr (MedTable) t = med_table_new (3, C_ ("column", "ID"),
        C_ ("column", "INTERPRETER"), C_ ("column", "PAIRS"));

    for (guint i = 0; i < list->len; i++) {
      MedInterpreter *in = g_ptr_array_index (list, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, in->id);
      g_autofree char *pairs = g_strjoinv (",", in->pairs);

      med_table_add (t, id, in->name, pairs);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

/* ---- cases ---- */

static MedParty *
parse_party_arg (const char *s, GError **error)
{
  g_auto (GStrv) f = NULL;
  g_autoptr (MedParty) p = med_party_new ();

  if (!med_validate_text (s, 2 * MED_MAX_NAME_BYTES, FALSE, FALSE, "--party",
          error))
    return NULL;
  f = g_strsplit (s, ",", 5);
  if (g_strv_length (f) < 4) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        _ ("--party takes ROLE,LANG,ATTENDANCE,NAME[,CONTACT]"));
    return NULL;
  }
  if (!med_party_role_from_string (f[0], &p->role, error)
      || !med_validate_language (f[1], error)
      || !med_attendance_from_string (f[2], &p->attendance, error)
      || !med_validate_text (f[3], MED_MAX_NAME_BYTES, FALSE, FALSE,
          "party name", error)
      || (f[4]
          && !med_validate_text (f[4], MED_MAX_NAME_BYTES, FALSE, TRUE,
              "party contact", error)))
    return NULL;
  p->language = g_strdup (f[1]);
  p->name = g_strdup (f[3]);
  p->contact = g_strdup (f[4]);
  return g_steal_pointer (&p);
}

static int
cmd_case_add (Global *g, int argc, char **argv)
{
  g_autofree char *number = NULL, *kind = NULL, *deadline = NULL;
  g_autofree char *summary = NULL;
  g_auto (GStrv) party_args = NULL;
  gboolean minors = FALSE, urgent = FALSE;
  int duration = 0, code = 0;
  GOptionEntry entries[] = { { "number", 0, 0, G_OPTION_ARG_STRING, &number,
                                 N_ ("Case number"), "N" },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind, N_ ("Case kind"), "KIND" },
    { "minors", 0, 0, G_OPTION_ARG_NONE, &minors, N_ ("Minors are involved"),
        NULL },
    { "urgent", 0, 0, G_OPTION_ARG_NONE, &urgent,
        N_ ("Schedule the same day when anything allows"), NULL },
    { "deadline", 0, 0, G_OPTION_ARG_STRING, &deadline, N_ ("Settle before"),
        "T" },
    { "duration", 0, 0, G_OPTION_ARG_INT, &duration, N_ ("Session minutes"),
        "MIN" },
    { "summary", 0, 0, G_OPTION_ARG_STRING, &summary, N_ ("Short description"),
        "TEXT" },
    { "party", 0, 0, G_OPTION_ARG_STRING_ARRAY, &party_args,
        N_ ("A party (repeat for each)"),
        "ROLE,LANG,ATTENDANCE,NAME[,CONTACT]" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (MedCase) k = med_case_new ();
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint64 id;

  if (!parse_options (N_ ("- take a case at intake"),
          N_ ("Registers a case and its parties at intake."), entries, &argc,
          &argv, &code))
    return code;
  if (argc > 1 || number == NULL || kind == NULL || party_args == NULL)
    return usage_error (_ ("case add needs --number, --kind and at least one "
                           "--party"));
  if (duration != 0 && (duration < 15 || duration > 8 * 60))
    return usage_error (_ ("--duration must be 15–480 minutes"));
  if (g_strv_length (party_args) > MED_MAX_PARTIES)
    return usage_error (_ ("at most %d parties"), MED_MAX_PARTIES);
  if (!med_validate_text (number, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "case number", &error)
      || !med_case_kind_from_string (kind, &k->kind, &error)
      || (summary
          && !med_validate_text (summary, MED_MAX_TEXT_BYTES, TRUE, TRUE,
              "summary", &error)))
    return report (g_steal_pointer (&error));
  for (guint i = 0; party_args[i]; i++) {
    MedParty *p = parse_party_arg (party_args[i], &error);

    if (p == NULL)
      return report (g_steal_pointer (&error));
    g_ptr_array_add (parties, p);
  }
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL
      || (deadline
          && !parse_time_arg (deadline, c->zone, "--deadline", &k->deadline,
              &error)))
    return report (g_steal_pointer (&error));
  if (k->deadline != 0 && k->deadline <= g->now)
    return usage_error (_ ("--deadline is in the past"));
  k->number = g_strdup (number);
  k->centre_id = g->centre_id;
  k->status = MED_CASE_STATUS_INTAKE;
  k->intake_at = g->now;
  k->minors = minors;
  k->urgent = urgent;
  k->duration_minutes = duration;
  k->summary = g_strdup (summary);
  if ((id = med_service_intake (store, &ctx, k, parties, MED_DEPARTMENT_NONE,
           &error))
      == 0)
    return report (g_steal_pointer (&error));
  printf (_ ("case %lld %s\n"), (long long) id, k->number);
  return EXIT_OK;
}

static int
cmd_case_dispatch (Global *g, int argc, char **argv)
{
  g_autofree char *dept = NULL;
  int code = 0;
  GOptionEntry entries[] = {
    { "department", 0, 0, G_OPTION_ARG_STRING, &dept,
        N_ ("court-mediation, labour-inspection, legal-aid, police, civil-affairs"),
        "DEPT" },
    { NULL }
  };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  MedDepartment d;

  if (!parse_options (N_ ("CASE - dispatch a case to a department"),
          N_ ("Dispatches a case taken at intake (派单)."), entries, &argc,
          &argv, &code))
    return code;
  if (argc != 2 || dept == NULL)
    return usage_error (_ ("case dispatch needs CASE and --department"));
  if (!med_department_from_string (dept, &d, &error))
    return report (g_steal_pointer (&error));
  if (d == MED_DEPARTMENT_NONE)
    return usage_error (_ ("choose a department"));
  if ((store = open_store (g, &error)) == NULL
      || (k = find_case (store, g->centre_id, argv[1], &error)) == NULL
      || !med_service_dispatch (store, &ctx, k->id, d, &error))
    return report (g_steal_pointer (&error));
  printf (_ ("case %s dispatched to %s\n"), k->number, dept);
  return EXIT_OK;
}

static int
cmd_case_status (Global *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  MedCaseStatus to;

  if (!parse_options (N_ ("CASE STATUS - change a case's state"),
          N_ ("Moves a case to in-session, settled, not-settled, referred or "
              "withdrawn; only valid transitions are allowed."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 3)
    return usage_error (_ ("case status needs CASE and STATUS"));
  if (!med_case_status_from_string (argv[2], &to, &error))
    return report (g_steal_pointer (&error));
  if ((store = open_store (g, &error)) == NULL
      || (k = find_case (store, g->centre_id, argv[1], &error)) == NULL
      || !med_service_set_case_status (store, &ctx, k->id, to, &error))
    return report (g_steal_pointer (&error));
  printf (_ ("case %s: %s → %s\n"), k->number,
      med_case_status_to_string (k->status), argv[2]);
  return EXIT_OK;
}

static const char *
room_name (GPtrArray *rooms, gint64 id)
{
  for (guint i = 0; rooms && i < rooms->len; i++) {
    MedRoom *r = g_ptr_array_index (rooms, i);

    if (r->id == id)
      return r->name;
  }
  return "?";
}

static const char *
mediator_name (GPtrArray *list, gint64 id)
{
  for (guint i = 0; list && i < list->len; i++) {
    MedMediator *m = g_ptr_array_index (list, i);

    if (m->id == id)
      return m->name;
  }
  return "?";
}

static const char *
interpreter_name (GPtrArray *list, gint64 id)
{
  for (guint i = 0; id && list && i < list->len; i++) {
    MedInterpreter *m = g_ptr_array_index (list, i);

    if (m->id == id)
      return m->name;
  }
  return "";
}

static int
cmd_case_show (Global *g, int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) parties = NULL, bookings = NULL, audit = NULL;
  g_autoptr (GPtrArray) rooms = NULL, meds = NULL;
  g_autoptr (GError) error = NULL;

  if (!parse_options (N_ ("CASE - show a case"),
          N_ ("Shows a case with its parties, sessions and audit trail."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return usage_error (_ ("case show needs CASE"));
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL
      || (k = find_case (store, g->centre_id, argv[1], &error)) == NULL
      || (parties = med_store_list_parties (store, k->id, &error)) == NULL
      || (bookings = med_store_list_case_bookings (store, k->id, &error))
          == NULL
      || (audit = med_store_list_audit (store, "case", k->id, &error)) == NULL
      || (rooms = med_store_list_rooms (store, g->centre_id, &error)) == NULL
      || (meds = med_store_list_mediators (store, g->centre_id, &error))
          == NULL)
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "case");
    med_json_add_case (b, k, c->zone);
    json_builder_set_member_name (b, "parties");
    json_builder_begin_array (b);
    for (guint i = 0; i < parties->len; i++)
      med_json_add_party (b, g_ptr_array_index (parties, i));
    json_builder_end_array (b);
    json_builder_set_member_name (b, "bookings");
    json_builder_begin_array (b);
    for (guint i = 0; i < bookings->len; i++)
      med_json_add_booking (b, g_ptr_array_index (bookings, i), c->zone);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "audit");
    json_builder_begin_array (b);
    for (guint i = 0; i < audit->len; i++) {
      MedAuditEntry *e = g_ptr_array_index (audit, i);
      g_autofree char *at = fmt_time (e->at, c->zone);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "at");
      json_builder_add_string_value (b, at);
      json_builder_set_member_name (b, "actor");
      json_builder_add_string_value (b, e->actor);
      json_builder_set_member_name (b, "action");
      json_builder_add_string_value (b, e->action);
      json_builder_set_member_name (b, "detail");
      json_builder_add_string_value (b, e->detail ? e->detail : "");
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
    med_print_json (json_builder_get_root (b));
    return EXIT_OK;
  }
  {
    g_autofree char *intake = fmt_time (k->intake_at, c->zone);
    g_autofree char *dl
        = k->deadline ? fmt_time (k->deadline, c->zone) : g_strdup (_ ("none"));
    g_autoptr (GString) kind = g_string_new (med_case_kind_to_string (k->kind));

    if (k->minors)
      g_string_append_printf (kind, ", %s", _ ("minors"));
    if (k->urgent)
      g_string_append_printf (kind, ", %s", _ ("urgent"));
    printf (_ ("case %s (id %lld)\n"), k->number, (long long) k->id);
    printf (_ ("  kind %s, status %s, department %s\n"), kind->str,
        med_case_status_to_string (k->status),
        med_department_to_string (k->department));
    printf (_ ("  intake %s, deadline %s\n"), intake, dl);
  }
  printf (_ ("parties:\n"));
  for (guint i = 0; i < parties->len; i++) {
    MedParty *p = g_ptr_array_index (parties, i);

    printf ("  %s  %s  %s  %s\n", med_party_role_to_string (p->role), p->name,
        p->language, med_attendance_to_string (p->attendance));
  }
  printf (_ ("sessions:\n"));
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);
    g_autofree char *s = fmt_time (bk->start, c->zone);
    g_autofree char *e = fmt_clock (bk->end, c->zone);

    printf (_ ("  #%lld  %s–%s  %s  %s  %s  seq %d\n"), (long long) bk->id, s,
        e, room_name (rooms, bk->room_id),
        mediator_name (meds, bk->mediator_id),
        med_booking_status_to_string (bk->status), bk->sequence);
  }
  printf (_ ("audit trail:\n"));
  for (guint i = 0; i < audit->len; i++) {
    MedAuditEntry *e = g_ptr_array_index (audit, i);
    g_autofree char *at = fmt_time (e->at, c->zone);

    printf ("  %s  %s  %s  %s\n", at, e->actor, e->action,
        e->detail ? e->detail : "");
  }
  return EXIT_OK;
}

static int
cmd_case_list (Global *g, int argc, char **argv)
{
  g_autofree char *status = NULL;
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[] = { { "status", 0, 0, G_OPTION_ARG_STRING, &status,
                                 N_ ("Only this status"), "STATUS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (GPtrArray) cases = NULL;
  g_autoptr (GError) error = NULL;
  MedCaseStatus st = 0;

  if (!parse_options (N_ ("- list cases"), N_ ("Lists cases."), entries, &argc,
          &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("case list takes no arguments"));
  if (status && !med_case_status_from_string (status, &st, &error))
    return report (g_steal_pointer (&error));
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL
      || (cases = med_store_list_cases (store, g->centre_id,
              status ? (gint) st : -1, &error))
          == NULL)
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < cases->len; i++)
      med_json_add_case (b, g_ptr_array_index (cases, i), c->zone);
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
  } else {
    g_autoptr (MedTable) t = med_table_new (6, C_ ("column", "ID"),
        C_ ("column", "NUMBER"), C_ ("column", "KIND"), C_ ("column", "STATUS"),
        C_ ("column", "DEPARTMENT"), C_ ("column", "INTAKE"));

    for (guint i = 0; i < cases->len; i++) {
      MedCase *k = g_ptr_array_index (cases, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, k->id);
      g_autofree char *kind = g_strdup_printf ("%s%s%s%s",
          med_case_kind_to_string (k->kind), k->minors ? _ ("+minors") : "",
          k->urgent ? " " : "", k->urgent ? _ ("URGENT") : "");
      g_autofree char *intake = fmt_time (k->intake_at, c->zone);

      med_table_add (t, id, k->number, kind,
          med_case_status_to_string (k->status),
          med_department_to_string (k->department), intake);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

/* ---- slots and bookings ---- */

/* Names of the centre's rooms, mediators and interpreters, for output. */
typedef struct
{
  MedCentre *centre;
  GPtrArray *rooms;
  GPtrArray *mediators;
  GPtrArray *interpreters;
} Names;

static void
names_clear (Names *n)
{
  g_clear_pointer (&n->centre, med_centre_free);
  g_clear_pointer (&n->rooms, g_ptr_array_unref);
  g_clear_pointer (&n->mediators, g_ptr_array_unref);
  g_clear_pointer (&n->interpreters, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Names, names_clear)

static gboolean
load_names (MedStore *store, Global *g, Names *n, GError **error)
{
  return (n->centre = load_centre (store, g, error)) != NULL
      && (n->rooms = med_store_list_rooms (store, g->centre_id, error)) != NULL
      && (n->mediators = med_store_list_mediators (store, g->centre_id, error))
      != NULL
      && (n->interpreters
             = med_store_list_interpreters (store, g->centre_id, error))
      != NULL;
}


static void
print_slots (Names *n, GPtrArray *slots, gboolean json)
{
  const char *zone = n->centre->zone;

  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < slots->len; i++) {
      MedSlot *s = g_ptr_array_index (slots, i);
      g_autofree char *st
          = med_time_format_local (s->start, zone, "%Y-%m-%dT%H:%M");
      g_autofree char *en
          = med_time_format_local (s->end, zone, "%Y-%m-%dT%H:%M");

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "start");
      json_builder_add_string_value (b, st);
      json_builder_set_member_name (b, "end");
      json_builder_add_string_value (b, en);
      json_builder_set_member_name (b, "room_id");
      json_builder_add_int_value (b, s->room_id);
      json_builder_set_member_name (b, "room");
      json_builder_add_string_value (b, room_name (n->rooms, s->room_id));
      json_builder_set_member_name (b, "room_kind");
      json_builder_add_string_value (b, med_room_kind_to_string (s->room_kind));
      json_builder_set_member_name (b, "mediator_id");
      json_builder_add_int_value (b, s->mediator_id);
      json_builder_set_member_name (b, "mediator");
      json_builder_add_string_value (b,
          mediator_name (n->mediators, s->mediator_id));
      json_builder_set_member_name (b, "interpreter_id");
      if (s->interpreter_id)
        json_builder_add_int_value (b, s->interpreter_id);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "mode");
      json_builder_add_string_value (b, med_booking_mode_to_string (s->mode));
      json_builder_set_member_name (b, "fallback");
      json_builder_add_boolean_value (b, s->fallback);
      json_builder_set_member_name (b, "explanation");
      json_builder_add_string_value (b, s->explanation);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
    return;
  }
  for (guint i = 0; i < slots->len; i++) {
    MedSlot *s = g_ptr_array_index (slots, i);
    g_autofree char *st = fmt_day_time (s->start, zone);
    g_autofree char *en = fmt_clock (s->end, zone);
    const char *in = interpreter_name (n->interpreters, s->interpreter_id);
    g_autofree char *with
        = *in ? g_strdup_printf (_ ("  interpreter %s"), in) : g_strdup ("");
    g_autofree char *why = med_i18n_reasons (med_i18n_env_lang (), s->reasons);

    printf (_ ("%s–%s  room %lld %s  mediator %lld %s%s  %s\n    why: %s\n"),
        st, en, (long long) s->room_id, room_name (n->rooms, s->room_id),
        (long long) s->mediator_id,
        mediator_name (n->mediators, s->mediator_id), with,
        med_booking_mode_to_string (s->mode), why);
  }
}

static int
cmd_slots (Global *g, int argc, char **argv)
{
  g_autofree char *from = NULL;
  gboolean json = FALSE;
  int count = 3, duration = 0, code = 0;
  GOptionEntry entries[]
      = { { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_ ("Not before"), "T" },
          { "count", 0, 0, G_OPTION_ARG_INT, &count,
              N_ ("How many (default 3)"), "N" },
          { "duration", 0, 0, G_OPTION_ARG_INT, &duration,
              N_ ("Session minutes"), "MIN" },
          { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_auto (Names) names = { 0 };
  g_autoptr (MedCase) kase = NULL;
  g_autoptr (GPtrArray) slots = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  MedTime not_before = 0;

  if (!parse_options (N_ ("CASE - earliest feasible slots for a case"),
          N_ ("Proposes the earliest feasible slots, each with why."), entries,
          &argc, &argv, &code))
    return code;
  if (argc != 2)
    return usage_error (_ ("slots needs CASE"));
  if (count < 1 || count > 50
      || (duration != 0 && (duration < 15 || duration > 8 * 60)))
    return usage_error (_ ("--count must be 1–50, --duration 15–480 minutes"));
  if ((store = open_store (g, &error)) == NULL
      || !load_names (store, g, &names, &error)
      || (kase = find_case (store, g->centre_id, argv[1], &error)) == NULL
      || (from
          && !parse_time_arg (from, names.centre->zone, "--from", &not_before,
              &error))
      || (slots = med_service_find_slots (store, &ctx, kase->id, not_before,
              duration, count, &error))
          == NULL)
    return report (g_steal_pointer (&error));
  print_slots (&names, slots, json);
  return EXIT_OK;
}

/* --at with --room, --mediator and --interpreter into a slot whose end is
 * left to the service (0: the case's duration). */
static gboolean
parse_manual_slot (const char *zone, const char *at, const char *room,
    const char *mediator, const char *interp, gboolean need_ids, MedSlot *slot,
    GError **error)
{
  memset (slot, 0, sizeof *slot);
  if (need_ids && (room == NULL || mediator == NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        _ ("--at needs --room and --mediator"));
    return FALSE;
  }
  if (!parse_time_arg (at, zone, "--at", &slot->start, error))
    return FALSE;
  if ((room && !parse_id (room, &slot->room_id))
      || (mediator && !parse_id (mediator, &slot->mediator_id))
      || (interp && !parse_id (interp, &slot->interpreter_id))) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        _ ("--room, --mediator and --interpreter take numeric ids"));
    return FALSE;
  }
  return TRUE;
}

static int
cmd_book (Global *g, int argc, char **argv)
{
  g_autofree char *at = NULL, *room = NULL, *mediator = NULL, *interp = NULL;
  gboolean json = FALSE;
  int duration = 0, code = 0;
  GOptionEntry entries[] = { { "at", 0, 0, G_OPTION_ARG_STRING, &at,
                                 N_ ("Start (default: earliest)"), "T" },
    { "room", 0, 0, G_OPTION_ARG_STRING, &room, N_ ("Room id (with --at)"),
        "ID" },
    { "mediator", 0, 0, G_OPTION_ARG_STRING, &mediator,
        N_ ("Mediator id (with --at)"), "ID" },
    { "interpreter", 0, 0, G_OPTION_ARG_STRING, &interp,
        N_ ("Interpreter id (with --at)"), "ID" },
    { "duration", 0, 0, G_OPTION_ARG_INT, &duration, N_ ("Session minutes"),
        "MIN" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_auto (Names) names = { 0 };
  g_autoptr (MedCase) kase = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) slot = NULL;
  g_autoptr (MedBooking) saved = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  MedSlot manual;
  gint64 id;

  if (!parse_options (N_ ("CASE - book a session"),
          N_ ("Books the earliest feasible slot, or the one given with --at; the "
              "invites are queued in the outbox with the booking."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return usage_error (_ ("book needs CASE"));
  if (duration != 0 && (duration < 15 || duration > 8 * 60))
    return usage_error (_ ("--duration must be 15–480 minutes"));
  if (at == NULL && (room || mediator || interp))
    return usage_error (_ ("--room, --mediator and --interpreter need --at"));
  if ((store = open_store (g, &error)) == NULL
      || !load_names (store, g, &names, &error)
      || (kase = find_case (store, g->centre_id, argv[1], &error)) == NULL
      || (at != NULL
          && !parse_manual_slot (names.centre->zone, at, room, mediator, interp,
              TRUE, &manual, &error))
      || (id = med_service_book (store, &ctx, kase->id, at ? &manual : NULL,
              duration, &slot, &error))
          == 0
      || (saved = med_store_get_booking (store, id, &error)) == NULL)
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) jb = json_builder_new ();

    med_json_add_booking (jb, saved, names.centre->zone);
    med_print_json (json_builder_get_root (jb));
  } else {
    g_autofree char *st = fmt_day_time (saved->start, names.centre->zone);
    g_autofree char *en = fmt_clock (saved->end, names.centre->zone);
    g_autofree char *why
        = med_i18n_reasons (med_i18n_env_lang (), slot->reasons);

    printf (_ ("booking %lld: case %s %s–%s room %s mediator %s"
               "\n    why: %s\n"),
        (long long) id, kase->number, st, en,
        room_name (names.rooms, saved->room_id),
        mediator_name (names.mediators, saved->mediator_id), why);
  }
  return EXIT_OK;
}

static int
cmd_reschedule (Global *g, int argc, char **argv)
{
  g_autofree char *at = NULL, *room = NULL, *mediator = NULL, *interp = NULL;
  int code = 0;
  GOptionEntry entries[] = { { "at", 0, 0, G_OPTION_ARG_STRING, &at,
                                 N_ ("New start (default: earliest)"), "T" },
    { "room", 0, 0, G_OPTION_ARG_STRING, &room, N_ ("Room id"), "ID" },
    { "mediator", 0, 0, G_OPTION_ARG_STRING, &mediator, N_ ("Mediator id"),
        "ID" },
    { "interpreter", 0, 0, G_OPTION_ARG_STRING, &interp, N_ ("Interpreter id"),
        "ID" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_auto (Names) names = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) moved = NULL;
  g_autoptr (MedSlot) slot = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  MedSlot manual;
  gint64 id;

  if (!parse_options (N_ ("BOOKING - move a session"),
          N_ ("Moves a booking to the next earliest feasible slot, or to --at. "
              "The invite keeps its UID; its SEQUENCE goes up."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2 || !parse_id (argv[1], &id))
    return usage_error (_ ("reschedule needs a numeric BOOKING id"));
  if (at == NULL && (room || mediator || interp))
    return usage_error (_ ("--room, --mediator and --interpreter need --at"));
  if ((store = open_store (g, &error)) == NULL
      || !load_names (store, g, &names, &error)
      || (at != NULL
          && !parse_manual_slot (names.centre->zone, at, room, mediator, interp,
              FALSE, &manual, &error))
      || !med_service_reschedule (store, &ctx, id, at ? &manual : NULL, &slot,
          &error)
      || (moved = med_store_get_booking (store, id, &error)) == NULL)
    return report (g_steal_pointer (&error));
  {
    g_autofree char *st = fmt_day_time (moved->start, names.centre->zone);

    printf (_ ("booking %lld moved to %s, room %s, mediator %s "
               "(sequence %d)\n"),
        (long long) id, st, room_name (names.rooms, moved->room_id),
        mediator_name (names.mediators, moved->mediator_id), moved->sequence);
  }
  return EXIT_OK;
}

static int
cmd_cancel (Global *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint64 id;

  if (!parse_options (N_ ("BOOKING - cancel a session"),
          N_ ("Cancels a booking (the invite becomes a CANCEL)."), entries,
          &argc, &argv, &code))
    return code;
  if (argc != 2 || !parse_id (argv[1], &id))
    return usage_error (_ ("cancel needs a numeric BOOKING id"));
  if ((store = open_store (g, &error)) == NULL
      || !med_service_cancel (store, &ctx, id, &error))
    return report (g_steal_pointer (&error));
  printf (_ ("booking %lld cancelled\n"), (long long) id);
  return EXIT_OK;
}

/* ---- batch ---- */

static int
compare_plan_items (gconstpointer a, gconstpointer b)
{
  const MedPlanItem *x = *(MedPlanItem *const *) a;
  const MedPlanItem *y = *(MedPlanItem *const *) b;

  if ((x->slot == NULL) != (y->slot == NULL))
    return x->slot == NULL ? 1 : -1;
  if (x->slot == NULL)
    return 0;
  if (x->slot->start != y->slot->start)
    return x->slot->start < y->slot->start ? -1 : 1;
  return (x->slot->room_id > y->slot->room_id)
      - (x->slot->room_id < y->slot->room_id);
}

static int
cmd_schedule (Global *g, int argc, char **argv)
{
  gboolean json = FALSE, dry_run = FALSE;
  double time_limit = MED_PLAN_DEFAULT_TIME_LIMIT;
  gint64 seed = 0;
  int code = 0;
  GOptionEntry entries[] = { { "json", 0, 0, G_OPTION_ARG_NONE, &json,
                                 N_ ("JSON output"), NULL },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
        N_ ("Show the plan without booking"), NULL },
    { "time-limit", 0, 0, G_OPTION_ARG_DOUBLE, &time_limit,
        N_ ("Seconds to improve the plan (default 1, at most 600)"), "S" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed,
        N_ ("Seed of the plan's search (default: built in)"), "N" },
    { NULL } };
  MedPlanOptions opts = { 0 };
  g_autoptr (MedStore) store = NULL;
  g_auto (Names) names = { 0 };
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (MedPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint y, m, d;
  guint booked = 0;

  if (!parse_options (N_ ("DATE - schedule a day's dispatched queue"),
          N_ ("Plans the dispatched court-mediation cases on the given day — "
              "as many as the day holds, urgent cases first "
              "(docs/scheduling.md) — and books the plan in one transaction "
              "with its invites; lists each unplaced case with the "
              "constraint that blocked it and the cases that placing it "
              "would unplace. The same state, time limit and seed give the "
              "same plan."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2 || !med_date_parse (argv[1], &y, &m, &d))
    return usage_error (_ ("schedule needs DATE as YYYY-MM-DD"));
  if (!(time_limit > 0 && time_limit <= MED_PLAN_MAX_TIME_LIMIT))
    return usage_error (_ ("--time-limit must be above 0 and at most 600"));
  if (seed < 0 || seed > G_MAXUINT32)
    return usage_error (_ ("--seed must be between 0 and 4294967295"));
  opts.time_limit = time_limit;
  opts.seed = (guint32) seed;
  if ((store = open_store (g, &error)) == NULL
      || !load_names (store, g, &names, &error)
      || (all = med_store_list_cases (store, g->centre_id, -1, &error)) == NULL
      || (plan = med_service_schedule_day (store, &ctx, y, m, d, dry_run, &opts,
              &booked, &error))
          == NULL)
    return report (g_steal_pointer (&error));

  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "date");
    json_builder_add_string_value (b, argv[1]);
    json_builder_set_member_name (b, "placed");
    json_builder_add_int_value (b, plan->placed);
    json_builder_set_member_name (b, "unplaced");
    json_builder_add_int_value (b, plan->unplaced);
    json_builder_set_member_name (b, "booked");
    json_builder_add_int_value (b, booked);
    json_builder_set_member_name (b, "optimal");
    json_builder_add_boolean_value (b, plan->optimal);
    json_builder_set_member_name (b, "bound");
    json_builder_add_int_value (b, plan->bound);
    json_builder_set_member_name (b, "stopped_by");
    json_builder_add_string_value (b, med_plan_stop_to_string (plan->stop));
    json_builder_set_member_name (b, "items");
    json_builder_begin_array (b);
    for (guint i = 0; i < plan->items->len; i++) {
      MedPlanItem *it = g_ptr_array_index (plan->items, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "case_id");
      json_builder_add_int_value (b, it->case_id);
      if (it->slot) {
        g_autofree char *st = med_time_format_local (it->slot->start,
            names.centre->zone, "%Y-%m-%dT%H:%M");
        g_autofree char *en = med_time_format_local (it->slot->end,
            names.centre->zone, "%Y-%m-%dT%H:%M");

        json_builder_set_member_name (b, "start");
        json_builder_add_string_value (b, st);
        json_builder_set_member_name (b, "end");
        json_builder_add_string_value (b, en);
        json_builder_set_member_name (b, "room_id");
        json_builder_add_int_value (b, it->slot->room_id);
        json_builder_set_member_name (b, "mediator_id");
        json_builder_add_int_value (b, it->slot->mediator_id);
        json_builder_set_member_name (b, "interpreter_id");
        json_builder_add_int_value (b, it->slot->interpreter_id);
        json_builder_set_member_name (b, "fallback");
        json_builder_add_boolean_value (b, it->slot->fallback);
        json_builder_set_member_name (b, "explanation");
        json_builder_add_string_value (b, it->slot->explanation);
      } else {
        json_builder_set_member_name (b, "unplaced");
        json_builder_add_string_value (b, it->reason);
        if (it->would_unplace != NULL) {
          json_builder_set_member_name (b, "would_unplace");
          json_builder_begin_array (b);
          for (guint k = 0; k < it->would_unplace->len; k++)
            json_builder_add_int_value (b,
                g_array_index (it->would_unplace, gint64, k));
          json_builder_end_array (b);
        }
      }
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
    med_print_json (json_builder_get_root (b));
    return EXIT_OK;
  }

  if (dry_run)
    printf (_ ("%s: %u placed (dry run, nothing booked), %u unplaced"), argv[1],
        plan->placed, plan->unplaced);
  else
    printf (_ ("%s: %u placed, %u unplaced"), argv[1], plan->placed,
        plan->unplaced);
  if (plan->unplaced == 0)
    printf ("\n");
  else if (plan->optimal)
    printf (_ (" (optimal: no plan places more)\n"));
  else
    printf (_ (" (no plan places more than %u)\n"), plan->bound);
  /* Placed sessions by time, then the unplaced cases with their reasons. */
  g_ptr_array_sort (plan->items, compare_plan_items);
  for (guint i = 0; i < plan->items->len; i++) {
    MedPlanItem *it = g_ptr_array_index (plan->items, i);
    const char *number = "?";

    for (guint k = 0; k < all->len; k++) {
      MedCase *kc = g_ptr_array_index (all, k);

      if (kc->id == it->case_id)
        number = kc->number;
    }
    if (it->slot) {
      g_autofree char *st = fmt_clock (it->slot->start, names.centre->zone);
      g_autofree char *en = fmt_clock (it->slot->end, names.centre->zone);

      printf ("  %s–%s  %s  %s  %s%s\n", st, en, number,
          room_name (names.rooms, it->slot->room_id),
          mediator_name (names.mediators, it->slot->mediator_id),
          it->slot->fallback ? _ ("  (fallback room kind)") : "");
    } else {
      g_autofree char *why
          = med_i18n_reasons (med_i18n_env_lang (), it->reasons);

      printf (_ ("  unplaced  %s: %s\n"), number, why);
    }
  }
  return EXIT_OK;
}


/* ---- agenda ---- */

static int
cmd_agenda (Global *g, int argc, char **argv)
{
  g_autofree char *from = NULL, *to = NULL;
  gboolean json = FALSE, all = FALSE;
  int code = 0;
  GOptionEntry entries[] = { { "from", 0, 0, G_OPTION_ARG_STRING, &from,
                                 N_ ("First day"), "DATE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, N_ ("Last day"), "DATE" },
    { "cancelled", 0, 0, G_OPTION_ARG_NONE, &all, N_ ("Show cancelled too"),
        NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (GPtrArray) bookings = NULL, rooms = NULL, meds = NULL;
  g_autoptr (GPtrArray) interps = NULL, cases = NULL;
  g_autoptr (MedWorkcal) wc = NULL;
  g_autoptr (GError) error = NULL;
  gint y1, m1, d1, y2, m2, d2;
  MedTime a, b;
  GDate date, last;

  if (!parse_options (N_ ("[DATE] - the sessions of a day or a range"),
          N_ ("Prints the agenda: one table per day, holidays and make-up "
              "working days marked."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 2 || (argc == 2 && (from || to)))
    return usage_error (_ ("agenda takes DATE or --from/--to"));
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL)
    return report (g_steal_pointer (&error));
  if (argc == 2) {
    from = g_strdup (argv[1]);
    to = g_strdup (argv[1]);
  }
  if (from == NULL) {
    g_autofree char *today
        = med_time_format_local (g->now, c->zone, "%Y-%m-%d");

    from = g_strdup (today);
  }
  if (to == NULL)
    to = g_strdup (from);
  if (!med_date_parse (from, &y1, &m1, &d1)
      || !med_date_parse (to, &y2, &m2, &d2))
    return usage_error (_ ("dates look like 2026-12-07"));
  g_date_clear (&date, 1);
  g_date_clear (&last, 1);
  g_date_set_dmy (&date, d1, m1, y1);
  g_date_set_dmy (&last, d2, m2, y2);
  if (g_date_compare (&last, &date) < 0
      || g_date_days_between (&date, &last) > 366)
    return usage_error (_ ("--to must be on or after --from, within a year"));
  if (!med_workcal_local_to_utc (c->zone, y1, m1, d1, 0, &a, &error)
      || !med_workcal_local_to_utc (c->zone, y2, m2, d2, 24 * 60, &b, &error)
      || (bookings
             = med_store_list_bookings (store, g->centre_id, a, b, all, &error))
          == NULL
      || (rooms = med_store_list_rooms (store, g->centre_id, &error)) == NULL
      || (meds = med_store_list_mediators (store, g->centre_id, &error)) == NULL
      || (interps = med_store_list_interpreters (store, g->centre_id, &error))
          == NULL
      || (cases = med_store_list_cases (store, g->centre_id, -1, &error))
          == NULL
      || (wc = med_store_load_workcal (store, &error)) == NULL)
    return report (g_steal_pointer (&error));

  if (json) {
    g_autoptr (JsonBuilder) jb = json_builder_new ();

    json_builder_begin_array (jb);
    for (guint i = 0; i < bookings->len; i++)
      med_json_add_booking (jb, g_ptr_array_index (bookings, i), c->zone);
    json_builder_end_array (jb);
    med_print_json (json_builder_get_root (jb));
    return EXIT_OK;
  }

  printf (_ ("%s — agenda %s to %s (%s)\n"), c->name, from, to, c->zone);
  for (; g_date_compare (&date, &last) <= 0; g_date_add_days (&date, 1)) {
    g_autoptr (MedTable) t = NULL;
    gint y = g_date_get_year (&date), mo = g_date_get_month (&date);
    gint d = g_date_get_day (&date);
    MedDayInfo info;
    g_autoptr (GError) day_err = NULL;
    MedTime ds, de;
    guint n = 0;

    printf ("\n%04d-%02d-%02d %s", y, mo, d,
        _ (weekday_abbr[g_date_get_weekday (&date)]));
    if (!med_workcal_day_info (wc, c->layers, y, mo, d, &info, &day_err))
      printf (_ ("  [calendar unpublished: %s]"), day_err->message);
    else if (info.holiday)
      printf (_ ("  [holiday: %s]"), info.name ? info.name : "");
    else if (info.makeup)
      printf (_ ("  [make-up working day 调休上班: %s]"),
          info.name ? info.name : "");
    else if (!info.working)
      printf (_ ("  [weekend]"));
    printf ("\n");
    if (!med_workcal_local_to_utc (c->zone, y, mo, d, 0, &ds, NULL)
        || !med_workcal_local_to_utc (c->zone, y, mo, d, 24 * 60, &de, NULL))
      continue;
    t = med_table_new (7, C_ ("column", "TIME"), C_ ("column", "CASE"),
        C_ ("column", "ROOM"), C_ ("column", "MEDIATOR"),
        C_ ("column", "INTERPRETER"), C_ ("column", "MODE"),
        C_ ("column", "BOOKING"));
    for (guint i = 0; i < bookings->len; i++) {
      MedBooking *bk = g_ptr_array_index (bookings, i);
      const char *number = "?";
      g_autofree char *st = NULL, *en = NULL, *tm = NULL, *id = NULL;

      if (bk->start < ds || bk->start >= de)
        continue;
      for (guint k = 0; k < cases->len; k++) {
        MedCase *kc = g_ptr_array_index (cases, k);

        if (kc->id == bk->case_id)
          number = kc->number;
      }
      st = fmt_clock (bk->start, c->zone);
      en = fmt_clock (bk->end, c->zone);
      tm = g_strdup_printf ("%s–%s", st, en);
      id = bk->status == MED_BOOKING_STATUS_CANCELLED
          ? g_strdup_printf (_ ("#%lld cancelled"), (long long) bk->id)
          : g_strdup_printf ("#%" G_GINT64_FORMAT, bk->id);
      med_table_add (t, tm, number, room_name (rooms, bk->room_id),
          mediator_name (meds, bk->mediator_id),
          interpreter_name (interps, bk->interpreter_id),
          med_booking_mode_to_string (bk->mode), id);
      n++;
    }
    if (n == 0)
      printf (_ ("  (no sessions)\n"));
    else
      med_table_print (t, stdout);
  }
  return EXIT_OK;
}

/* ---- calendars, import, audit, report ---- */

static int
cmd_calendar_import (Global *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) notices
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_notice_free);
  MedServiceCtx ctx = med_cli_ctx (g);

  if (!parse_options (N_ ("FILE.ics… - load holiday notices"),
          N_ ("Loads published holiday notices (national, region, city or "
              "centre) without a new release; all files or none."),
          entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return usage_error (_ ("calendar import needs FILE.ics"));
  for (int i = 1; i < argc; i++) {
    MedNotice *n = NULL;

    if (!parse_calendar_file (argv[i], &n, &error))
      return report (g_steal_pointer (&error));
    g_ptr_array_add (notices, n);
  }
  if ((store = open_store (g, &error)) == NULL
      || !med_service_import_notices (store, &ctx, notices, &error))
    return report (g_steal_pointer (&error));
  for (guint i = 0; i < notices->len; i++) {
    MedNotice *n = g_ptr_array_index (notices, i);

    printf (_ ("imported %s %d: %s (%u days)\n"), n->jurisdiction, n->year,
        n->title, n->days->len);
  }
  return EXIT_OK;
}

static int
cmd_calendar_list (Global *g, int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;

  if (!parse_options (N_ ("- list holiday notices"),
          N_ ("Lists the holiday notices loaded, with their sources."), entries,
          &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("calendar list takes no arguments"));
  if ((store = open_store (g, &error)) == NULL
      || (list = med_store_list_notices (store, &error)) == NULL)
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < list->len; i++) {
      MedNotice *n = g_ptr_array_index (list, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, n->id);
      json_builder_set_member_name (b, "jurisdiction");
      json_builder_add_string_value (b, n->jurisdiction);
      json_builder_set_member_name (b, "layer");
      json_builder_add_string_value (b, med_layer_to_string (n->layer));
      json_builder_set_member_name (b, "year");
      json_builder_add_int_value (b, n->year);
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, n->title);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, n->source);
      json_builder_set_member_name (b, "published");
      json_builder_add_string_value (b, n->published);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
  } else {
    g_autoptr (MedTable) t = med_table_new (5, C_ ("column", "JURISDICTION"),
        C_ ("column", "YEAR"), C_ ("column", "PUBLISHED"),
        C_ ("column", "TITLE"), C_ ("column", "SOURCE"));

    for (guint i = 0; i < list->len; i++) {
      MedNotice *n = g_ptr_array_index (list, i);
      g_autofree char *y = g_strdup_printf ("%d", n->year);

      med_table_add (t, n->jurisdiction, y, n->published, n->title, n->source);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

static int
cmd_import (Global *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (MedImportDoc) doc = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autofree char *data = NULL;
  gsize len = 0;
  guint nr = 0, nm = 0, ni = 0, nc = 0;
  GStatBuf st;

  if (!parse_options (N_ ("FILE.json - import rooms, mediators, interpreters, "
                          "cases"),
          N_ ("Imports a JSON document (docs/import-format.md) in one "
              "transaction: everything or nothing."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return usage_error (_ ("import needs FILE.json"));
  if (g_stat (argv[1], &st) != 0 || !S_ISREG (st.st_mode))
    return report (g_error_new (G_FILE_ERROR, G_FILE_ERROR_NOENT,
        _ ("%s: not a readable file"), argv[1]));
  if (st.st_size > MED_MAX_IMPORT_BYTES)
    return report (g_error_new (MED_MODEL_ERROR, MED_MODEL_ERROR_TOO_LONG,
        _ ("%s: larger than %d bytes"), argv[1], MED_MAX_IMPORT_BYTES));
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL
      || !g_file_get_contents (argv[1], &data, &len, &error)
      || (doc = med_import_doc_parse (data, len, c->zone, &error)) == NULL)
    return report (g_steal_pointer (&error));
  for (guint i = 0; i < doc->cases->len; i++) {
    MedCase *k = g_ptr_array_index (doc->cases, i);

    if (k->intake_at == 0)
      k->intake_at = g->now;
  }
  if (!med_service_import_doc (store, &ctx, doc, &nr, &nm, &ni, &nc, &error))
    return report (g_steal_pointer (&error));
  printf (_ ("imported %u rooms, %u mediators, %u interpreters, %u cases\n"),
      nr, nm, ni, nc);
  return EXIT_OK;
}

/* An anchor given as ID:HASH or as the path of an anchor file. */
static gboolean
read_anchor_arg (const char *arg, MedAuditAnchor *anchor, GError **error)
{
  g_autofree char *text = NULL;
  GStatBuf st;

  if (med_audit_anchor_parse (arg, anchor, NULL))
    return TRUE;
  if (g_stat (arg, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > 4096) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        _ ("--anchor: neither ID:HASH nor a readable anchor file"));
    return FALSE;
  }
  if (!g_file_get_contents (arg, &text, NULL, error)
      || !med_audit_anchor_parse (text, anchor, error)) {
    g_prefix_error (error, "--anchor %s: ", arg);
    return FALSE;
  }
  return TRUE;
}

static int
cmd_audit_verify (Global *g, int argc, char **argv)
{
  g_autofree char *anchor_arg = NULL;
  int code = 0;
  GOptionEntry entries[]
      = { { "anchor", 0, 0, G_OPTION_ARG_FILENAME, &anchor_arg,
              N_ ("Also check that the log still holds this "
                  "head (a backup's .anchor file, or ID:HASH "
                  "from serve's log)"),
              "FILE|ID:HASH" },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedAuditAnchor anchor, head;
  g_autofree char *head_text = NULL;
  gint64 rows = 0, bad = 0;

  if (!parse_options (N_ ("- check the audit log's hash chain"),
          N_ ("Recomputes the audit log's hash chain; names the first edited "
              "row. With --anchor, also proves that no row was removed from the "
              "end since the anchor was taken."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("audit verify takes no arguments"));
  if (anchor_arg != NULL && !read_anchor_arg (anchor_arg, &anchor, &error))
    return report (g_steal_pointer (&error));
  if ((store = open_store (g, &error)) == NULL
      || (anchor_arg != NULL
              ? !med_store_audit_verify_anchor (store, &anchor, &rows, &error)
              : !med_store_audit_verify (store, &rows, &bad, &error))
      || !med_store_audit_head (store, &head, &error))
    return report (g_steal_pointer (&error));
  head_text = med_audit_anchor_to_string (&head);
  printf (_ ("audit log intact: %lld rows"), (long long) rows);
  if (anchor_arg != NULL)
    printf (_ (", still holding the anchor's row %lld"), (long long) anchor.id);
  printf (_ ("\nhead %s\n"), head_text);
  return EXIT_OK;
}

/* ---- backups ---- */

static int
cmd_backup (Global *g, int argc, char **argv)
{
  g_autofree char *dir = NULL, *path = NULL, *anchor_text = NULL;
  int keep = 0, code = 0;
  GOptionEntry entries[] = { { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
                                 N_ ("Write DIR/NAME-YYYYMMDDTHHMMSSZ.db (UTC) "
                                     "instead of FILE"),
                                 "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_INT, &keep,
        N_ ("With --dir: keep the newest N backups of this database, remove "
            "older ones (default: keep all)"),
        "N" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedAuditAnchor anchor;
  guint removed = 0;

  if (!parse_options (N_ ("FILE | --dir DIR [--keep N] - copy the database"),
          N_ ("Copies the database while it is in use (SQLite's online backup "
              "API: one consistent snapshot; serve keeps writing), checks the "
              "copy, and writes FILE.anchor with the audit log's head. A backup "
              "never replaces an existing file. See docs/backup.md."),
          entries, &argc, &argv, &code))
    return code;
  if ((dir == NULL) == (argc != 2) || argc > 2)
    return usage_error (_ ("backup needs FILE or --dir DIR"));
  if (keep < 0 || keep > 100000 || (keep > 0 && dir == NULL))
    return usage_error (_ ("--keep N (N ≥ 1) goes with --dir"));
  if ((store = open_store (g, &error)) == NULL)
    return report (g_steal_pointer (&error));
  if (dir != NULL) {
    if (!med_store_backup_to_dir (store, dir, g->now, (guint) keep, &path,
            &anchor, &removed, &error))
      return report (g_steal_pointer (&error));
  } else {
    path = g_strdup (argv[1]);
    if (!med_store_backup (store, path, &anchor, &error))
      return report (g_steal_pointer (&error));
  }
  anchor_text = med_audit_anchor_to_string (&anchor);
  printf (_ ("backup %s\naudit anchor %s (in %s.anchor)\n"), path, anchor_text,
      path);
  if (removed > 0)
    printf (P_ ("removed %u older backup\n", "removed %u older backups\n",
                removed),
        removed);
  return EXIT_OK;
}

static int
cmd_restore (Global *g, int argc, char **argv)
{
  g_autofree char *target = NULL, *anchor_arg = NULL;
  int code = 0;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &target,
        N_ ("The database to put the backup in place of "
            "(default: the global --db)"),
        "TARGET" },
    { "anchor", 0, 0, G_OPTION_ARG_FILENAME, &anchor_arg,
        N_ ("Check the backup against this anchor (default: FILE.anchor when it "
            "exists)"),
        "FILE|ID:HASH" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  MedAuditAnchor anchor;
  MedStoreRestore r = { 0 };

  if (!parse_options (N_ ("FILE [--db TARGET] - put a backup back"),
          N_ ("Copies FILE beside TARGET and checks the copy (PRAGMA "
              "integrity_check, overlapping bookings, the audit chain and its "
              "anchor); only a copy that passes replaces TARGET, by rename, "
              "and only when nothing has TARGET open (stop medsched serve "
              "first). The replaced database stays beside it. See "
              "docs/backup.md."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return usage_error (_ ("restore needs FILE"));
  if (target == NULL)
    target = g_strdup (g->db);
  if (anchor_arg != NULL && !read_anchor_arg (anchor_arg, &anchor, &error))
    return report (g_steal_pointer (&error));
  if (!med_service_restore (argv[1], target, anchor_arg ? &anchor : NULL,
          g->now, &r, &error))
    return report (g_steal_pointer (&error));
  if (r.anchored)
    printf (_ ("restored %s to %s: integrity, overlaps and the audit chain "
               "(%lld rows, with its anchor) checked\n"),
        argv[1], target, (long long) r.audit_rows);
  else
    printf (_ ("restored %s to %s: integrity, overlaps and the audit chain "
               "(%lld rows) checked\n"),
        argv[1], target, (long long) r.audit_rows);
  if (r.kept != NULL)
    printf (_ ("the replaced database is kept as %s\n"), r.kept);
  g_free (r.kept);
  return EXIT_OK;
}

static int
cmd_report_same_day (Global *g, int argc, char **argv)
{
  g_autofree char *from = NULL, *to = NULL;
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[] = { { "from", 0, 0, G_OPTION_ARG_STRING, &from,
                                 N_ ("Intake from"), "DATE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, N_ ("Intake to (inclusive)"),
        "DATE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedCentre) c = NULL;
  g_autoptr (GError) error = NULL;
  MedTime a = 0, b = G_MAXINT64;
  guint n = 0, settled = 0, same = 0;

  if (!parse_options (N_ ("- share of cases settled on their intake day"),
          N_ ("Reports how many cases were settled on the day they were taken "
              "(最多跑一次)."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("report same-day takes no arguments"));
  if ((store = open_store (g, &error)) == NULL
      || (c = load_centre (store, g, &error)) == NULL
      || (from && !parse_time_arg (from, c->zone, "--from", &a, &error))
      || (to && !parse_time_arg (to, c->zone, "--to", &b, &error)))
    return report (g_steal_pointer (&error));
  if (to)
    b += 86400;
  if (!med_store_same_day_report (store, g->centre_id, a, b, &n, &settled,
          &same, &error))
    return report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) jb = json_builder_new ();

    json_builder_begin_object (jb);
    json_builder_set_member_name (jb, "cases");
    json_builder_add_int_value (jb, n);
    json_builder_set_member_name (jb, "settled");
    json_builder_add_int_value (jb, settled);
    json_builder_set_member_name (jb, "settled_same_day");
    json_builder_add_int_value (jb, same);
    json_builder_end_object (jb);
    med_print_json (json_builder_get_root (jb));
  } else {
    printf (_ ("%u cases taken at intake, %u settled, %u settled on their "
               "intake day (%.1f%%)\n"),
        n, settled, same, n ? 100.0 * same / n : 0.0);
  }
  return EXIT_OK;
}

static int
cmd_store_copy (Global *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;
  MedStoreCopy c = { 0 };

  if (!parse_options (N_ ("FROM TO - move every row to another database"),
          N_ ("Copies the store FROM (a file, sqlite:FILE or postgresql://…) "
              "into TO: a new file or an empty PostgreSQL database. Ids, the "
              "audit chain, users, tokens, the outbox and recording rows move "
              "as they are; the copy is checked (overlaps, audit chain ending "
              "where the source's ends) before it is committed, else nothing is "
              "written."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 3)
    return usage_error (_ ("store copy needs FROM and TO"));
  if (!med_service_store_copy (argv[1], argv[2], &c, &error))
    return report (g_steal_pointer (&error));
  head = med_audit_anchor_to_string (&c.head);
  printf (_ ("copied %lld rows (%lld audit rows, chain verified, head %s)\n"),
      (long long) c.rows, (long long) c.audit_rows, head);
  return EXIT_OK;
}

static int
cmd_check (Global *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;

  if (!parse_options (N_ ("- check the database"),
          N_ ("Runs the database's integrity checks (SQLite's integrity and "
              "foreign key checks; PostgreSQL's exclusion constraints) and "
              "looks for overlapping bookings."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("check takes no arguments"));
  if ((store = open_store (g, &error)) == NULL
      || !med_store_check (store, &error))
    return report (g_steal_pointer (&error));
  printf (_ ("database ok\n"));
  return EXIT_OK;
}

/* `centre set`: what parties are told about the centre after init. */
static int
cmd_centre_set (Global *g, int argc, char **argv)
{
  g_autofree char *phone = NULL, *public_url = NULL;
  int code = 0;
  GOptionEntry entries[]
      = { { "phone", 0, 0, G_OPTION_ARG_STRING, &phone,
              N_ ("The centre's telephone (\"\" removes it)"), "NUMBER" },
          { "public-url", 0, 0, G_OPTION_ARG_STRING, &public_url,
              N_ ("Base URL of the parties' join links"), "URL" },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);

  if (!parse_options (N_ ("- change the centre's telephone or public URL"),
          N_ ("Sets the telephone shown to parties (on the page of a link that "
              "no longer opens a session, in the SMS) and the base URL of their "
              "join links; links already sent keep the old base."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("centre set takes no arguments"));
  if (phone == NULL && public_url == NULL)
    return usage_error (_ ("centre set needs --phone or --public-url"));
  if ((store = open_store (g, &error)) == NULL
      || !med_service_set_centre_contact (store, &ctx, phone, public_url,
          &error))
    return report (g_steal_pointer (&error));
  {
    g_autoptr (GString) what = g_string_new (NULL);

    if (phone != NULL)
      g_string_append_printf (what, " %s",
          *phone ? _ ("telephone set") : _ ("telephone removed"));
    if (public_url != NULL)
      g_string_append_printf (what, " %s", _ ("public URL set"));
    printf (_ ("centre %lld:%s\n"), (long long) g->centre_id, what->str);
  }
  return EXIT_OK;
}

static const Command commands[] = {
  { "init", NULL, cmd_init, N_ ("create the database and its centre") },
  { "centre", "add", cmd_centre_add,
      N_ ("add another centre to the database") },
  { "centre", "list", cmd_centre_list, N_ ("list the database's centres") },
  { "centre", "set", cmd_centre_set,
      N_ ("change the centre's telephone or public URL") },
  { "room", "add", cmd_room_add, N_ ("add a room") },
  { "room", "list", cmd_room_list, N_ ("list rooms") },
  { "mediator", "add", cmd_mediator_add, N_ ("add a mediator") },
  { "mediator", "leave", cmd_mediator_leave, N_ ("record a mediator's leave") },
  { "mediator", "list", cmd_mediator_list, N_ ("list mediators") },
  { "mediator", "email", med_cli_cmd_mediator_email,
      N_ ("set a mediator's e-mail address") },
  { "mediator", "busy-import", med_cli_cmd_mediator_busy_import,
      N_ ("import a mediator's busy calendar (.ics)") },
  { "interpreter", "add", cmd_interpreter_add, N_ ("add an interpreter") },
  { "interpreter", "list", cmd_interpreter_list, N_ ("list interpreters") },
  { "interpreter", "email", med_cli_cmd_interpreter_email,
      N_ ("set an interpreter's e-mail address") },
  { "interpreter", "busy-import", med_cli_cmd_interpreter_busy_import,
      N_ ("import an interpreter's busy calendar (.ics)") },
  { "case", "add", cmd_case_add, N_ ("take a case at intake") },
  { "case", "dispatch", cmd_case_dispatch, N_ ("dispatch a case") },
  { "case", "status", cmd_case_status, N_ ("change a case's state") },
  { "case", "show", cmd_case_show, N_ ("show a case") },
  { "case", "list", cmd_case_list, N_ ("list cases") },
  { "slots", NULL, cmd_slots, N_ ("earliest feasible slots for a case") },
  { "book", NULL, cmd_book, N_ ("book a session") },
  { "reschedule", NULL, cmd_reschedule, N_ ("move a session") },
  { "cancel", NULL, cmd_cancel, N_ ("cancel a session") },
  { "booking", "note", med_cli_cmd_booking_note,
      N_ ("set a session's note (text-only edit)") },
  { "schedule", NULL, cmd_schedule, N_ ("schedule a day's queue") },
  { "agenda", NULL, cmd_agenda, N_ ("sessions of a day or range") },
  { "calendar", "import", cmd_calendar_import, N_ ("load holiday notices") },
  { "calendar", "list", cmd_calendar_list, N_ ("list holiday notices") },
  { "invite", NULL, med_cli_cmd_invite, N_ ("a session's invite (.ics)") },
  { "feed", NULL, med_cli_cmd_feed,
      N_ ("calendar feed of a room, mediator, case or centre") },
  { "freebusy", NULL, med_cli_cmd_freebusy,
      N_ ("free/busy of a room or mediator (.ics)") },
  { "outbox", "list", med_cli_cmd_outbox_list,
      N_ ("list the outbox (e-mail and SMS)") },
  { "outbox", "flush", med_cli_cmd_outbox_flush,
      N_ ("hand due messages to the MTA and the SMS gateway") },
  { "outbox", "retry", med_cli_cmd_outbox_retry,
      N_ ("requeue a message that failed") },
  { "reply", "import", med_cli_cmd_reply_import,
      N_ ("record an attendee's REPLY (.ics)") },
  { "ics", "lint", med_cli_cmd_ics_lint, N_ ("check an .ics file") },
  { "import", NULL, cmd_import, N_ ("import a JSON document") },
  { "audit", "verify", cmd_audit_verify, N_ ("check the audit hash chain") },
  { "backup", NULL, cmd_backup, N_ ("copy the database while it is in use") },
  { "restore", NULL, cmd_restore, N_ ("put a checked backup in place") },
  { "report", "same-day", cmd_report_same_day,
      N_ ("share of cases settled on intake day") },
  { "check", NULL, cmd_check, N_ ("integrity and overlap check") },
  { "store", "copy", cmd_store_copy,
      N_ ("move every row to another database (SQLite, PostgreSQL)") },
  { "serve", NULL, med_cli_cmd_serve, N_ ("run the HTTP server (API, pages)") },
  { "user", "add", med_cli_cmd_user_add,
      N_ ("add a user (admin, clerk, mediator)") },
  { "user", "token", med_cli_cmd_user_token, N_ ("make an API bearer token") },
  { "user", "list", med_cli_cmd_user_list, N_ ("list users") },
  { "user", "revoke-tokens", med_cli_cmd_user_revoke,
      N_ ("revoke a user's API tokens") },
  { "feed-link", NULL, med_cli_cmd_feed_link,
      N_ ("make or revoke a calendar feed link") },
  { "record", "start", med_cli_cmd_record_start,
      N_ ("record a remote session (foreground)") },
  { "record", "pause", med_cli_cmd_record_pause,
      N_ ("pause a running recording (caucus)") },
  { "record", "resume", med_cli_cmd_record_resume,
      N_ ("resume a paused recording") },
  { "record", "stop", med_cli_cmd_record_stop,
      N_ ("stop and seal a recording") },
  { "recording", "list", med_cli_cmd_recording_list, N_ ("list recordings") },
  { "recording", "log", med_cli_cmd_recording_log,
      N_ ("a recording's interruption log") },
  { "recording", "verify", med_cli_cmd_recording_verify,
      N_ ("re-hash a recording and check its manifest") },
  { "recording", "export", med_cli_cmd_recording_export,
      N_ ("copy a sealed recording (audited)") },
  { "recording", "purge", med_cli_cmd_recording_purge,
      N_ ("delete recordings past retention") },
  { "recording", "recover", med_cli_cmd_recording_recover,
      N_ ("seal recordings of killed recorders") },
  { "consent", NULL, med_cli_cmd_consent,
      N_ ("record a party's consent to recording") },
};

static void
print_usage (FILE *out)
{
  fprintf (out,
      _ ("Usage: medsched [--db FILE|URL] [--centre ID] [--now YYYY-MM-DDTHH:MM] "
         "[--actor NAME] COMMAND [ARGS]\n\n"
         "Schedules a court mediation centre's rooms, mediators and "
         "interpreters.\n\nCommands:\n"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++) {
    g_autofree char *name = g_strdup_printf ("%s%s%s", commands[i].name,
        commands[i].sub ? " " : "", commands[i].sub ? commands[i].sub : "");

    fprintf (out, "  %-22s %s\n", name, _ (commands[i].summary));
  }
  fprintf (out,
      _ ("\nEach command takes --help. The database defaults to "
         "$MEDSCHED_DB or ./medsched.db;\nit is a SQLite file (FILE or "
         "sqlite:FILE) or a PostgreSQL database\n(postgresql://…).\n"
         "--now (or $MEDSCHED_NOW) fixes the "
         "current time, in the centre's zone.\n"
         "Exit status: 0 done, 1 failed, 2 usage error, 3 booking conflict.\n"));
}

int
main (int argc, char **argv)
{
  Global g = { 0 };
  g_autoptr (GError) error = NULL;
  const char *now_env;
  int i = 1, rc;

  setlocale (LC_ALL, "");
  /* Names are UTF-8 whatever the caller's locale: under a non-UTF-8 locale
   * (a bare "C" in CI) GOption would refuse every Chinese argument. */
  if (!g_get_charset (NULL))
    setlocale (LC_ALL, "C.UTF-8");
  g.centre_id = 1;

  /* Global options come before the command. */
  while (i < argc && argv[i][0] == '-') {
    const char *a = argv[i];

    if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
      print_usage (stdout);
      return EXIT_OK;
    }
    if (i + 1 >= argc)
      return usage_error (_ ("%s needs a value"), a);
    if (strcmp (a, "--db") == 0) {
      g_free (g.db);
      g.db = g_strdup (argv[i + 1]);
    } else if (strcmp (a, "--centre") == 0) {
      if (!parse_id (argv[i + 1], &g.centre_id))
        return usage_error (_ ("--centre takes a numeric id"));
      g.centre_given = TRUE;
    } else if (strcmp (a, "--now") == 0) {
      g_free (g.now_text);
      g.now_text = g_strdup (argv[i + 1]);
    } else if (strcmp (a, "--actor") == 0) {
      if (!med_validate_text (argv[i + 1], 64, FALSE, FALSE, "--actor", &error))
        return report (g_steal_pointer (&error));
      g_free (g.actor);
      g.actor = g_strdup (argv[i + 1]);
    } else {
      return usage_error (_ ("unknown option %s"),
          g_utf8_validate (a, -1, NULL) ? a : "?");
    }
    i += 2;
  }
  if (i >= argc) {
    print_usage (stderr);
    return EXIT_USAGE;
  }
  if (g.db == NULL)
    g.db = g_strdup (
        g_getenv ("MEDSCHED_DB") ? g_getenv ("MEDSCHED_DB") : "medsched.db");
  if (g.actor == NULL)
    g.actor = g_strdup ("cli");
  now_env = g_getenv ("MEDSCHED_NOW");
  if (g.now_text == NULL && now_env != NULL && *now_env)
    g.now_text = g_strdup (now_env);
  if (g.now_text != NULL) {
    /* --now is centre-local; the zone comes from the store when it exists,
     * else the default zone. */
    const char *file = g_str_has_prefix (g.db, "sqlite:") ? g.db + 7 : g.db;
    g_autoptr (MedStore) probe = !med_store_url_is_file (g.db)
            || g_file_test (file, G_FILE_TEST_EXISTS)
        ? med_store_open_existing (g.db, NULL)
        : NULL;
    g_autoptr (MedCentre) c
        = probe ? med_store_get_centre (probe, g.centre_id, NULL) : NULL;

    if (!med_time_parse_local (g.now_text, c ? c->zone : "Asia/Shanghai",
            &g.now, &error)) {
      g_prefix_error (&error, "--now: ");
      return report (g_steal_pointer (&error));
    }
  } else {
    g.now = g_get_real_time () / G_USEC_PER_SEC;
  }

  rc = -1;
  for (guint k = 0; k < G_N_ELEMENTS (commands); k++) {
    const Command *cmd = &commands[k];

    if (strcmp (argv[i], cmd->name) != 0)
      continue;
    if (cmd->sub == NULL) {
      rc = cmd->func (&g, argc - i, argv + i);
      break;
    }
    if (i + 1 < argc && strcmp (argv[i + 1], cmd->sub) == 0) {
      g_autofree char *joined = g_strdup_printf ("%s %s", cmd->name, cmd->sub);
      char **sub_argv = argv + i + 1;

      sub_argv[0] = joined;
      rc = cmd->func (&g, argc - i - 1, sub_argv);
      break;
    }
  }
  if (rc == -1) {
    gboolean known = FALSE;

    for (guint k = 0; k < G_N_ELEMENTS (commands); k++)
      known |= strcmp (argv[i], commands[k].name) == 0;
    if (known && (i + 1 >= argc || strcmp (argv[i + 1], "--help") == 0)) {
      printf (_ ("Usage: medsched %s SUBCOMMAND\n"), argv[i]);
      for (guint k = 0; k < G_N_ELEMENTS (commands); k++) {
        if (strcmp (argv[i], commands[k].name) == 0)
          printf ("  %s %-10s %s\n", commands[k].name, commands[k].sub,
              _ (commands[k].summary));
      }
      rc = i + 1 >= argc ? EXIT_USAGE : EXIT_OK;
    } else {
      rc = usage_error (_ ("unknown command %s%s%s"),
          g_utf8_validate (argv[i], -1, NULL) ? argv[i] : "?", known ? " " : "",
          known && g_utf8_validate (argv[i + 1], -1, NULL) ? argv[i + 1] : "");
    }
  }
  g_free (g.db);
  g_free (g.now_text);
  g_free (g.actor);
  return rc;
}
