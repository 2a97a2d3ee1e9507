/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-cli-ical.c — the medsched commands of invites and calendar feeds:
 * `invite`, `feed`, `freebusy`, `outbox list|flush|retry`, `reply import`,
 * `ics lint`, `mediator|interpreter busy-import`, `mediator|interpreter
 * email` and `booking note`. What an invite or a feed shows is gathered by
 * the service layer (src/service/med-service-ical.c), which also queues the
 * iMIP messages of a booking change inside its transaction.
 *
 * The ical module writes every calendar; the store keeps the outbox, the
 * replies and the imported busy time, and the service layer delivers the
 * outbox (src/service/med-service-outbox.c). What is left here is parsing
 * arguments and presenting results. Every command that writes runs in one
 * store transaction; a command that fails changes nothing. Addresses and names go to stdout or files, never to logs. */
#define G_LOG_DOMAIN "medsched-cli"

#include "med-cli.h"

#include <medsched/med-ical.h>
#include <medsched/med-service.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

/* A feed shows sessions from this many days back (whole local days). */
/* Busy calendars are expanded over [now - 1 day, now + this]. */
#define BUSY_DAYS_AHEAD 400

static int usage_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return med_cli_usage (msg);
}

static char *
format_time (MedTime t, const char *zone)
{
  return med_time_format_local (t, zone, "%Y-%m-%d %H:%M");
}

/* Reads an .ics file of at most MED_ICAL_MAX_BYTES. */
static gboolean
read_ics_file (const char *path, char **data, gsize *len, GError **error)
{
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
  return g_file_get_contents (path, data, len, error);
}

/* Writes text to path (replacing it atomically) or to stdout. */
static gboolean
write_output (const char *path, const char *text, GError **error)
{
  if (path != NULL)
    return g_file_set_contents (path, text, -1, error);
  if (fputs (text, stdout) < 0 || fflush (stdout) != 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO,
        _ ("cannot write to standard output"));
    return FALSE;
  }
  return TRUE;
}

/* ---- invite ----------------------------------------------------------- */

int
med_cli_cmd_invite (MedCliGlobal *g, int argc, char **argv)
{
  g_autofree char *who = NULL, *output = NULL;
  gboolean imip = FALSE;
  int code = 0;
  GOptionEntry entries[] = { { "for", 0, 0, G_OPTION_ARG_STRING, &who,
                                 N_ ("The copy of one attendee (default: the "
                                     "organiser's copy, without join links)"),
                                 "mediator:ID|party:ID|interpreter:ID|ADDR" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        N_ ("Write to FILE (default: standard output)"), "FILE" },
    { "imip", 0, 0, G_OPTION_ARG_NONE, &imip,
        N_ ("The whole e-mail (iMIP) instead of the .ics (needs --for an "
            "attendee with an address)"),
        NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gint64 id;

  if (!med_cli_parse_options (N_ ("BOOKING - a session's invite"),
          N_ ("Writes the iTIP invite of a booking (METHOD:REQUEST, or CANCEL "
              "once cancelled): the organiser's copy, or one attendee's with "
              "their language and join link."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2 || !med_cli_parse_id (argv[1], &id))
    return usage_error (_ ("invite needs a numeric BOOKING id"));
  if (imip && who == NULL)
    return usage_error (_ ("--imip needs --for"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (text
             = med_service_invite (store, g->centre_id, id, who, imip, &error))
          == NULL
      || !write_output (output, text, &error))
    return med_cli_report (g_steal_pointer (&error));
  return EXIT_OK;
}

/* ---- feeds and free/busy ---------------------------------------------- */

static gboolean
parse_feed_kind (const char *s, MedFeedKind *out)
{
  static const char *const words[] = { "room", "mediator", "case", "centre" };

  for (guint i = 0; i < G_N_ELEMENTS (words); i++) {
    if (g_strcmp0 (s, words[i]) == 0) {
      *out = (MedFeedKind) i;
      return TRUE;
    }
  }
  return FALSE;
}

int
med_cli_cmd_feed (MedCliGlobal *g, int argc, char **argv)
{
  g_autofree char *audience = NULL, *party = NULL, *from = NULL;
  g_autofree char *output = NULL, *lang = NULL;
  int code = 0;
  GOptionEntry entries[] = { { "audience", 0, 0, G_OPTION_ARG_STRING, &audience,
                                 N_ ("public (room boards: “Reserved”, no "
                                     "names), staff, or party (case feeds)"),
                                 "WHO" },
    { "party", 0, 0, G_OPTION_ARG_STRING, &party,
        N_ ("The party of a party feed"), "PARTY_ID" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from,
        N_ ("First day (default: 90 days ago)"), "DATE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        N_ ("Write to FILE (default: standard output)"), "FILE" },
    { "lang", 0, 0, G_OPTION_ARG_STRING, &lang,
        N_ ("The texts' language: zh, bo or en (default zh; a party feed is "
            "in the party's language)"),
        "LANG" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) centre = NULL;
  g_autoptr (MedCase) kase = NULL;
  g_autofree char *text = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  MedFeedAudience aud;
  MedFeedKind kind;
  MedTime since = 0;
  gint64 id = 0, party_id = 0;

  if (!med_cli_parse_options (
          N_ ("room|mediator|case|centre ID - a calendar feed"),
          N_ ("Writes the subscription feed (no METHOD) of a room, a mediator, a "
              "case or the whole centre. The same state gives the same bytes."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 3 || !parse_feed_kind (argv[1], &kind))
    return usage_error (
        _ ("feed needs room, mediator, case or centre and an ID"));
  if (!med_cli_parse_lang (lang, &ctx))
    return usage_error (_ ("--lang is zh, bo or en"));
  if (kind != MED_FEED_KIND_CASE && !med_cli_parse_id (argv[2], &id))
    return usage_error (_ ("feed %s needs a numeric ID"), argv[1]);
  aud = kind == MED_FEED_KIND_ROOM ? MED_FEED_PUBLIC : MED_FEED_STAFF;
  if (audience != NULL) {
    if (g_strcmp0 (audience, "public") == 0)
      aud = MED_FEED_PUBLIC;
    else if (g_strcmp0 (audience, "staff") == 0)
      aud = MED_FEED_STAFF;
    else if (g_strcmp0 (audience, "party") == 0)
      aud = MED_FEED_PARTY;
    else
      return usage_error (_ ("--audience is public, staff or party"));
  }
  if ((aud == MED_FEED_PARTY) != (party != NULL))
    return usage_error (
        _ ("--audience party and --party PARTY_ID go together"));
  if (aud == MED_FEED_PARTY
      && (kind != MED_FEED_KIND_CASE || !med_cli_parse_id (party, &party_id)))
    return usage_error (
        _ ("a party feed is a case feed with a numeric --party"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (centre = med_store_get_centre (store,
              kind == MED_FEED_KIND_CENTRE ? id : g->centre_id, &error))
          == NULL)
    return med_cli_report (g_steal_pointer (&error));
  if (from != NULL
      && !med_time_parse_local (from, centre->zone, &since, &error)) {
    g_prefix_error (&error, "--from: ");
    return med_cli_report (g_steal_pointer (&error));
  }
  if (kind == MED_FEED_KIND_CASE) {
    if ((kase = med_cli_find_case (store, g->centre_id, argv[2], &error))
        == NULL)
      return med_cli_report (g_steal_pointer (&error));
    id = kase->id;
  }
  text = med_service_feed (store, &ctx, kind, id, aud, party_id, since, &error);
  if (text == NULL || !write_output (output, text, &error))
    return med_cli_report (g_steal_pointer (&error));
  return EXIT_OK;
}

static gboolean
parse_bound (const char *s, const char *zone, gboolean end, const char *what,
    MedTime *out, GError **error)
{
  if (!med_time_parse_local (s, zone, out, error)) {
    g_prefix_error (error, "%s: ", what);
    return FALSE;
  }
  if (end && strlen (s) == 10) {
    gint y, m, d;

    /* the next local midnight, also across a DST change */
    return med_workcal_local_date (zone, *out + 36 * 3600, &y, &m, &d, error)
        && med_workcal_local_to_utc (zone, y, m, d, 0, out, error);
  }
  return TRUE;
}

int
med_cli_cmd_freebusy (MedCliGlobal *g, int argc, char **argv)
{
  g_autofree char *from = NULL, *to = NULL, *output = NULL;
  int code = 0;
  GOptionEntry entries[] = { { "from", 0, 0, G_OPTION_ARG_STRING, &from,
                                 N_ ("Start (a date or a local time)"), "T" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to,
        N_ ("End (a date: to the end of that day)"), "T" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        N_ ("Write to FILE (default: standard output)"), "FILE" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) centre = NULL;
  g_autofree char *text = NULL;
  MedServiceCtx ctx = { g->now, g->actor, g->centre_id };
  MedTime a, b;
  gint64 id;

  if (!med_cli_parse_options (N_ ("room|mediator ID - free/busy time"),
          N_ ("Writes the VFREEBUSY of a room (sessions with their setup and "
              "cleanup) or a mediator (sessions, leave, imported busy time)."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 3
      || (strcmp (argv[1], "room") != 0 && strcmp (argv[1], "mediator") != 0)
      || !med_cli_parse_id (argv[2], &id) || from == NULL || to == NULL)
    return usage_error (_ ("freebusy needs room or mediator, an ID, --from and "
                           "--to"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (centre = med_store_get_centre (store, g->centre_id, &error)) == NULL
      || !parse_bound (from, centre->zone, FALSE, "--from", &a, &error)
      || !parse_bound (to, centre->zone, TRUE, "--to", &b, &error))
    return med_cli_report (g_steal_pointer (&error));
  if (b <= a || b - a > 366 * 86400)
    return usage_error (_ ("--to must be after --from, within a year"));
  text = med_service_freebusy (store, &ctx, strcmp (argv[1], "room") == 0, id,
      a, b, &error);
  if (text == NULL || !write_output (output, text, &error))
    return med_cli_report (g_steal_pointer (&error));
  return EXIT_OK;
}

/* ---- the outbox ------------------------------------------------------- */

int
med_cli_cmd_outbox_list (MedCliGlobal *g, int argc, char **argv)
{
  gboolean json = FALSE, pending = FALSE;
  int code = 0;
  GOptionEntry entries[] = { { "pending", 0, 0, G_OPTION_ARG_NONE, &pending,
                                 N_ ("Only messages not sent yet"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) centre = NULL;
  g_autoptr (GPtrArray) list = NULL;

  if (!med_cli_parse_options (N_ ("- the outbox (e-mail and SMS)"),
          N_ ("Lists the invites and cancellations queued for e-mail and the "
              "texts queued for SMS, with their delivery state."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("outbox list takes no arguments"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (centre = med_store_get_centre (store, g->centre_id, &error)) == NULL
      || (list = med_store_outbox_list (store, pending, &error)) == NULL)
    return med_cli_report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < list->len; i++) {
      MedOutboxMessage *m = list->pdata[i];
      g_autofree char *created = format_time (m->created_at, centre->zone);
      g_autofree char *next = format_time (m->next_attempt_at, centre->zone);
      g_autofree char *sent
          = m->sent_at ? format_time (m->sent_at, centre->zone) : NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, m->id);
      json_builder_set_member_name (b, "booking_id");
      json_builder_add_int_value (b, m->booking_id);
      json_builder_set_member_name (b, "channel");
      json_builder_add_string_value (b, m->channel);
      json_builder_set_member_name (b, "purpose");
      json_builder_add_string_value (b, m->purpose);
      json_builder_set_member_name (b, "recipient_name");
      json_builder_add_string_value (b, m->recipient_name);
      json_builder_set_member_name (b, "recipient_addr");
      json_builder_add_string_value (b, m->recipient_addr);
      json_builder_set_member_name (b, "method");
      json_builder_add_string_value (b, m->method);
      json_builder_set_member_name (b, "sequence");
      json_builder_add_int_value (b, m->sequence);
      json_builder_set_member_name (b, "subject");
      json_builder_add_string_value (b, m->subject);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, med_outbox_state_to_string (m->state));
      json_builder_set_member_name (b, "created_at");
      json_builder_add_string_value (b, created);
      json_builder_set_member_name (b, "attempts");
      json_builder_add_int_value (b, m->attempts);
      json_builder_set_member_name (b, "next_attempt_at");
      json_builder_add_string_value (b, next);
      json_builder_set_member_name (b, "sent_at");
      if (sent != NULL)
        json_builder_add_string_value (b, sent);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "last_error");
      json_builder_add_string_value (b, m->last_error);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
    return EXIT_OK;
  }
  {
    g_autoptr (MedTable) t = med_table_new (8, C_ ("column", "ID"),
        C_ ("column", "BOOKING"), C_ ("column", "WHAT"), C_ ("column", "SEQ"),
        C_ ("column", "TO"), C_ ("column", "STATE"), C_ ("column", "ATTEMPTS"),
        C_ ("column", "WHEN"));

    for (guint i = 0; i < list->len; i++) {
      MedOutboxMessage *m = list->pdata[i];
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, m->id);
      g_autofree char *bk
          = g_strdup_printf ("%" G_GINT64_FORMAT, m->booking_id);
      g_autofree char *seq = g_strdup_printf ("%d", m->sequence);
      g_autofree char *att = g_strdup_printf ("%d", m->attempts);
      g_autofree char *when = m->state == MED_OUTBOX_SENT
          ? format_time (m->sent_at, centre->zone)
          : m->state == MED_OUTBOX_PENDING
          ? format_time (m->next_attempt_at, centre->zone)
          : g_strdup ("");
      g_autofree char *state
          = *m->last_error != '\0' && m->state != MED_OUTBOX_SENT
          ? g_strdup_printf ("%s (%s)", med_outbox_state_to_string (m->state),
              m->last_error)
          : g_strdup (med_outbox_state_to_string (m->state));

      g_autofree char *what = g_strcmp0 (m->channel, MED_OUTBOX_SMS) == 0
          ? g_strdup_printf ("SMS %s", m->purpose)
          : g_strdup (m->method);

      med_table_add (t, id, bk, what, seq, m->recipient_addr, state, att, when);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

/* What `outbox flush` prints for each message (addresses and numbers go
 * to stdout, never to logs). */
static void
flush_report (const MedOutboxMessage *m, MedDeliveryOutcome outcome,
    const char *why, gpointer data)
{
  gint attempts = m->attempts + 1;
  g_autofree char *what = g_strcmp0 (m->channel, MED_OUTBOX_SMS) == 0
      ? g_strdup_printf ("SMS (%s)", m->purpose)
      : g_strdup_printf ("%s SEQUENCE %d", m->method, m->sequence);

  switch (outcome) {
    case MED_DELIVERY_SENT:
      printf (_ ("sent #%lld %s of booking %lld to %s\n"), (long long) m->id,
          what, (long long) m->booking_id, m->recipient_addr);
      break;
    case MED_DELIVERY_RETRY:
      printf (_ ("failed #%lld to %s (attempt %d, retry in %d "
                 "s): %s\n"),
          (long long) m->id, m->recipient_addr, attempts,
          med_store_outbox_backoff (attempts), why);
      break;
    case MED_DELIVERY_GAVE_UP:
      printf (_ ("gave up #%lld to %s after %d attempts: %s\n"),
          (long long) m->id, m->recipient_addr, attempts, why);
      break;
    case MED_DELIVERY_RELEASED:
      printf (_ ("released #%lld unsent\n"), (long long) m->id);
      break;
  }
}

/* One pass of one channel; FALSE on a store error (in *error). */
static gboolean
flush_channel (MedCliGlobal *g, MedStore *store, MedTransport *transport,
    gint max_attempts, guint lease, MedDeliveryCounts *counts, GError **error)
{
  MedDeliveryConfig cfg;

  med_service_delivery_config_init (&cfg);
  cfg.max_attempts = max_attempts;
  cfg.fixed_now = g->now;
  cfg.actor = g->actor;
  if (lease != 0)
    cfg.lease_seconds = lease;
  return med_service_outbox_flush (store, transport, &cfg, flush_report, NULL,
      counts, error);
}

int
med_cli_cmd_outbox_flush (MedCliGlobal *g, int argc, char **argv)
{
  g_autofree char *sendmail = NULL, *spool = NULL, *channel = NULL;
  int max_attempts = 6, sms_timeout = 0, code = 0;
  g_autofree char *sendmail_help
      = g_strdup_printf (_ ("MTA command reading the message on stdin "
                            "(default $MEDSCHED_SENDMAIL or %s)"),
          MED_SENDMAIL_DEFAULT);
  g_autofree char *spool_help
      = g_strdup_printf (_ ("gammu-smsd's spool with outbox/, sent/ and error/ "
                            "(default $MEDSCHED_SMS_SPOOL; with --channel sms "
                            "%s)"),
          MED_SMS_SPOOL_DEFAULT);
  g_autofree char *summary
      = g_strdup_printf (_ ("Hands every due outbox message to its transport, "
                            "one at a time: e-mail to a sendmail-compatible "
                            "MTA, SMS to gammu-smsd through its spool (when "
                            "one is named: --sms-spool, $MEDSCHED_SMS_SPOOL, "
                            "or --channel sms for %s). A message is marked "
                            "sent only once the MTA accepted it (exit status "
                            "0) or gammu-smsd moved it to sent/. Failures are "
                            "retried after 1 min, 5 min, 30 min, 2 h, then "
                            "every 6 h. `medsched serve` delivers the same "
                            "way by itself; running both at once sends each "
                            "message once."),
          MED_SMS_SPOOL_DEFAULT);
  GOptionEntry entries[] = { { "sendmail", 0, 0, G_OPTION_ARG_STRING, &sendmail,
                                 sendmail_help, "CMD" },
    { "sms-spool", 0, 0, G_OPTION_ARG_FILENAME, &spool, spool_help, "DIR" },
    { "sms-timeout", 0, 0, G_OPTION_ARG_INT, &sms_timeout,
        N_ ("Seconds gammu-smsd gets to send an SMS (default 300)"), "N" },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &channel,
        N_ ("mail, sms or all (default all)"), "WHICH" },
    { "max-attempts", 0, 0, G_OPTION_ARG_INT, &max_attempts,
        N_ ("Give a message up after N failed attempts (default 6)"), "N" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedTransport) mta = NULL;
  g_autoptr (MedTransport) gateway = NULL;
  MedDeliveryCounts counts = { 0 };
  gboolean mail, sms;
  const char *cmd;

  if (!med_cli_parse_options (N_ ("- send due messages"), summary, entries,
          &argc, &argv, &code))
    return code;
  if (argc > 1)
    return usage_error (_ ("outbox flush takes no arguments"));
  if (max_attempts < 1 || max_attempts > 100)
    return usage_error (_ ("--max-attempts must be 1–100"));
  if (sms_timeout < 0 || sms_timeout > 3600)
    return usage_error (_ ("--sms-timeout must be 1–3600"));
  if (channel == NULL || strcmp (channel, "all") == 0) {
    mail = sms = TRUE;
  } else if (strcmp (channel, MED_OUTBOX_MAIL) == 0
      || strcmp (channel, MED_OUTBOX_SMS) == 0) {
    mail = strcmp (channel, MED_OUTBOX_MAIL) == 0;
    sms = !mail;
  } else {
    return usage_error (_ ("--channel takes mail, sms or all"));
  }
  cmd = sendmail;
  if (cmd == NULL)
    cmd = g_getenv ("MEDSCHED_SENDMAIL");
  if (mail && (mta = med_service_sendmail_new (cmd, 0, &error)) == NULL)
    return usage_error ("--sendmail: %s", error->message);
  if (spool == NULL && g_getenv ("MEDSCHED_SMS_SPOOL") != NULL)
    spool = g_strdup (g_getenv ("MEDSCHED_SMS_SPOOL"));
  if ((store = med_cli_open_store (g, &error)) == NULL)
    return med_cli_report (g_steal_pointer (&error));
  /* SMS only to a spool named here: a machine may have a spool that no
   * gateway reads (serve's [sms] group is the usual way) */
  if (sms && spool == NULL && mail) {
    MedTime due = 0;

    if (med_store_outbox_next_due (store, MED_OUTBOX_SMS, &due, NULL)
        && due != 0 && due <= g->now)
      fprintf (stderr,
          _ ("medsched: SMS are due; they go with --sms-spool DIR (or serve's "
             "[sms] group)\n"));
    sms = FALSE;
  }
  if (sms
      && (gateway
             = med_service_sms_spool_new (spool, (guint) sms_timeout, &error))
          == NULL)
    return usage_error ("--sms-spool: %s", error->message);
  /* an MTA that exits without reading the whole message is a failed
   * attempt, not a SIGPIPE for us */
  signal (SIGPIPE, SIG_IGN);
  if ((mta != NULL
          && !flush_channel (g, store, g_steal_pointer (&mta), max_attempts, 0,
              &counts, &error))
      || (gateway != NULL
          && !flush_channel (g, store, g_steal_pointer (&gateway), max_attempts,
              med_service_sms_lease ((guint) sms_timeout), &counts, &error))) {
    fflush (stdout);
    return med_cli_report (g_steal_pointer (&error));
  }
  fflush (stdout);
  printf (_ ("outbox: %u sent, %u to retry, %u given up\n"), counts.sent,
      counts.retry, counts.gave_up);
  if (counts.retry + counts.gave_up > 0) {
    fprintf (stderr,
        P_ ("medsched: %u message could not be handed to its transport\n",
            "medsched: %u messages could not be handed to their transport\n",
            counts.retry + counts.gave_up),
        counts.retry + counts.gave_up);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

int
med_cli_cmd_outbox_retry (MedCliGlobal *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint64 id;

  if (!med_cli_parse_options (N_ ("MESSAGE_ID - requeue a failed message"),
          N_ ("Puts a message that was given up back in the queue, due now."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2 || !med_cli_parse_id (argv[1], &id))
    return usage_error (_ ("outbox retry needs a numeric MESSAGE_ID"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || !med_service_outbox_retry (store, &ctx, id, &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (_ ("outbox message %lld queued again\n"), (long long) id);
  return EXIT_OK;
}

/* ---- replies, lint, busy time ------------------------------------------ */

int
med_cli_cmd_reply_import (MedCliGlobal *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autoptr (MedReply) reply = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  gint64 booking = 0;

  if (!med_cli_parse_options (N_ ("FILE.ics - record an attendee's answer"),
          N_ ("Reads an iTIP REPLY and stores the attendee's PARTSTAT when it "
              "answers the booking's current SEQUENCE; an answer to an older "
              "version is refused as stale."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return usage_error (_ ("reply import needs FILE.ics"));
  if (!read_ics_file (argv[1], &data, &len, &error)
      || (reply = med_ical_parse_reply (data, len, &error)) == NULL) {
    g_prefix_error (&error, "%s: ", argv[1]);
    return med_cli_report (g_steal_pointer (&error));
  }
  if ((store = med_cli_open_store (g, &error)) == NULL
      || !med_service_apply_reply (store, &ctx, reply->uid, reply->attendee,
          med_partstat_to_string (reply->partstat), reply->sequence,
          reply->dtstamp, &booking, &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (_ ("booking %lld: %s %s (SEQUENCE %d)\n"), (long long) booking,
      reply->attendee, med_partstat_to_string (reply->partstat),
      reply->sequence);
  return EXIT_OK;
}

int
med_cli_cmd_ics_lint (MedCliGlobal *g, int argc, char **argv)
{
  g_autofree char *kind_s = NULL;
  int code = 0;
  GOptionEntry entries[] = { { "kind", 0, 0, G_OPTION_ARG_STRING, &kind_s,
                                 N_ ("invite, feed or auto (default: from "
                                     "METHOD)"),
                                 "KIND" },
    { NULL } };
  MedIcalKind kind = MED_ICAL_KIND_AUTO;
  guint bad_files = 0;

  if (!med_cli_parse_options (N_ ("FILE.ics… - check iCalendar files"),
          N_ ("Checks what lenient parsers accept silently: CRLF line ends, "
              "lines of at most 75 octets folded on UTF-8 boundaries, a "
              "VTIMEZONE for every TZID, DTSTAMP in UTC, a REQUEST with an "
              "ATTENDEE, no METHOD in a feed, one unquoted FEATURE. Exit status "
              "1 when any file has a problem."),
          entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return usage_error (_ ("ics lint needs FILE.ics"));
  if (kind_s != NULL) {
    if (strcmp (kind_s, "invite") == 0)
      kind = MED_ICAL_KIND_INVITE;
    else if (strcmp (kind_s, "feed") == 0)
      kind = MED_ICAL_KIND_FEED;
    else if (strcmp (kind_s, "auto") != 0)
      return usage_error (_ ("--kind is invite, feed or auto"));
  }
  for (int i = 1; i < argc; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) problems = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!read_ics_file (argv[i], &data, &len, &error)) {
      fprintf (stderr, _ ("medsched: %s\n"), error->message);
      bad_files++;
      continue;
    }
    problems = med_ical_lint (data, len, kind);
    if (problems->len == 0) {
      /* read by scripts (scripts/demo counts them): not translated */
      printf ("%s: clean\n", argv[i]);
      continue;
    }
    for (guint k = 0; k < problems->len; k++)
      printf ("%s: %s\n", argv[i], (const char *) problems->pdata[k]);
    fprintf (stderr,
        P_ ("medsched: %s: %u problem\n", "medsched: %s: %u problems\n",
            problems->len),
        argv[i], problems->len);
    bad_files++;
  }
  return bad_files > 0 ? EXIT_FAILED : EXIT_OK;
}

static int
busy_import (MedCliGlobal *g, int argc, char **argv, MedStorePerson who)
{
  const char *what
      = who == MED_STORE_PERSON_MEDIATOR ? "mediator" : "interpreter";
  g_autofree char *source = NULL;
  int code = 0;
  GOptionEntry entries[] = { { "source", 0, 0, G_OPTION_ARG_STRING, &source,
                                 N_ ("Name of the calendar (default: the file "
                                     "name); a later import of the same source "
                                     "replaces it"),
                                 "NAME" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autoptr (MedCentre) centre = NULL;
  g_autoptr (GArray) busy = NULL;
  g_autofree char *data = NULL, *usage = NULL, *summary = NULL;
  g_autofree char *a_text = NULL, *b_text = NULL;
  gsize len = 0;
  MedTime a = g->now - 86400, b = g->now + (MedTime) BUSY_DAYS_AHEAD * 86400;
  gint64 id;

  usage = g_strdup (who == MED_STORE_PERSON_MEDIATOR
          ? _ ("MEDIATOR_ID FILE.ics - import busy time")
          : _ ("INTERPRETER_ID FILE.ics - import busy time"));
  summary = g_strdup_printf (who == MED_STORE_PERSON_MEDIATOR
          ? _ ("Reads an external calendar of the mediator (VEVENTs with "
               "RRULE, EXDATE and RECURRENCE-ID) and keeps its busy time for "
               "the next %d days: the scheduler avoids it.")
          : _ ("Reads an external calendar of the interpreter (VEVENTs with "
               "RRULE, EXDATE and RECURRENCE-ID) and keeps its busy time for "
               "the next %d days: the scheduler avoids it."),
      BUSY_DAYS_AHEAD);
  if (!med_cli_parse_options (usage, summary, entries, &argc, &argv, &code))
    return code;
  if (argc != 3 || !med_cli_parse_id (argv[1], &id))
    return usage_error (_ ("%s busy-import needs a numeric ID and FILE.ics"),
        what);
  if (source == NULL) {
    g_autofree char *base = g_path_get_basename (argv[2]);

    source = g_utf8_make_valid (base, -1);
  }
  if (!med_validate_text (source, MED_MAX_NAME_BYTES, FALSE, FALSE, "--source",
          &error))
    return med_cli_report (g_steal_pointer (&error));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (centre = med_store_get_centre (store, g->centre_id, &error)) == NULL)
    return med_cli_report (g_steal_pointer (&error));
  med_ical_init (centre->zone);
  if (!read_ics_file (argv[2], &data, &len, &error)
      || (busy = med_ical_parse_busy (data, len, a, b, centre->zone, &error))
          == NULL) {
    g_prefix_error (&error, "%s: ", argv[2]);
    return med_cli_report (g_steal_pointer (&error));
  }
  if (!med_service_replace_busy (store, &ctx, who, id, source, busy, &error))
    return med_cli_report (g_steal_pointer (&error));
  a_text = med_time_format_local (a, centre->zone, "%Y-%m-%d");
  b_text = med_time_format_local (b, centre->zone, "%Y-%m-%d");
  printf (_ ("%s %lld: %u busy intervals from “%s” (%s to %s)\n"),
      who == MED_STORE_PERSON_MEDIATOR ? _ ("mediator") : _ ("interpreter"),
      (long long) id, busy->len, source, a_text, b_text);
  return EXIT_OK;
}

int
med_cli_cmd_mediator_busy_import (MedCliGlobal *g, int argc, char **argv)
{
  return busy_import (g, argc, argv, MED_STORE_PERSON_MEDIATOR);
}

int
med_cli_cmd_interpreter_busy_import (MedCliGlobal *g, int argc, char **argv)
{
  return busy_import (g, argc, argv, MED_STORE_PERSON_INTERPRETER);
}

static int
set_email (MedCliGlobal *g, int argc, char **argv, MedStorePerson who)
{
  const char *what
      = who == MED_STORE_PERSON_MEDIATOR ? "mediator" : "interpreter";
  gboolean clear = FALSE;
  int code = 0;
  GOptionEntry entries[] = { { "clear", 0, 0, G_OPTION_ARG_NONE, &clear,
                                 N_ ("Remove the address"), NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint64 id;

  if (!med_cli_parse_options (N_ ("ID [ADDR] - set the e-mail address"),
          N_ ("Sets the address invites are sent to (or removes it with "
              "--clear)."),
          entries, &argc, &argv, &code))
    return code;
  if (!med_cli_parse_id (argc > 1 ? argv[1] : NULL, &id)
      || argc != (clear ? 2 : 3))
    return usage_error (_ ("%s email needs a numeric ID and ADDR (or --clear)"),
        what);
  if ((store = med_cli_open_store (g, &error)) == NULL
      || !med_service_set_email (store, &ctx, who, id, clear ? "" : argv[2],
          &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (clear ? _ ("%s %lld: e-mail removed\n") : _ ("%s %lld: e-mail set\n"),
      who == MED_STORE_PERSON_MEDIATOR ? _ ("mediator") : _ ("interpreter"),
      (long long) id);
  return EXIT_OK;
}

int
med_cli_cmd_mediator_email (MedCliGlobal *g, int argc, char **argv)
{
  return set_email (g, argc, argv, MED_STORE_PERSON_MEDIATOR);
}

int
med_cli_cmd_interpreter_email (MedCliGlobal *g, int argc, char **argv)
{
  return set_email (g, argc, argv, MED_STORE_PERSON_INTERPRETER);
}

/* ---- booking note ----------------------------------------------------- */

int
med_cli_cmd_booking_note (MedCliGlobal *g, int argc, char **argv)
{
  gboolean notify = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "notify", 0, 0, G_OPTION_ARG_NONE, &notify,
              N_ ("Send the attendees the updated invite (same "
                  "SEQUENCE, later DTSTAMP)"),
              NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autoptr (MedBooking) b = NULL;
  guint n = 0;
  gint64 id;

  if (!med_cli_parse_options (N_ ("BOOKING TEXT - a session's note"),
          N_ ("Sets the note shown in the invite's description. A text-only "
              "edit: the SEQUENCE stays, and nobody is notified unless "
              "--notify."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 3 || !med_cli_parse_id (argv[1], &id))
    return usage_error (_ ("booking note needs a numeric BOOKING id and TEXT"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || !med_service_set_note (store, &ctx, id, argv[2], notify, &n, &error))
    return med_cli_report (g_steal_pointer (&error));
  if ((b = med_store_get_booking (store, id, &error)) == NULL)
    return med_cli_report (g_steal_pointer (&error));
  printf (_ ("booking %lld: note saved (SEQUENCE %d unchanged)"),
      (long long) id, b->sequence);
  if (notify)
    printf (P_ ("; %u invite queued", "; %u invites queued", n), n);
  printf ("\n");
  return EXIT_OK;
}
