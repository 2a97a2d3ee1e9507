/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-cli-serve.c — the commands around the HTTP server: `medsched serve`
 * (the server on the main loop until SIGINT or SIGTERM, with the outbox
 * delivery of the service layer — e-mail through the MTA, SMS through
 * gammu-smsd's spool — and the daily audit anchor), `user add`, `user
 * token`, `user list`, `user revoke-tokens` and `feed-link`.
 *
 * Secrets are printed once and never stored: the store keeps their
 * SHA-256 (med_http_hash_secret). Passwords come from a file or standard
 * input, never from the command line (where ps would show them). */
#define G_LOG_DOMAIN "medsched-cli"

#include "med-cli.h"

#include <medsched/med-http.h>
#include <medsched/med-ical.h>
#include <medsched/med-service.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* ---- serve ---- */

/* How often serve writes the audit anchor to its log. */
#define ANCHOR_LOG_SECONDS (24 * 3600)

typedef struct
{
  GMainLoop *loop;
  MedHttpServer *srv;
  MedStore *store; /* serve's own connection: mail, SMS, anchors */
  MedDelivery *mail; /* NULL when [mail] enabled = false */
  MedDelivery *sms; /* NULL unless [sms] enabled = true */
  guint mail_grace; /* seconds a transport gets on SIGTERM */
  gboolean stopping;
  guint running; /* parts not stopped yet, once stopping */
} ServeState;

/* [mail] and [sms]: outbox delivery inside serve. */
typedef struct
{
  gboolean enabled;
  char *sendmail; /* NULL = $MEDSCHED_SENDMAIL or the default */
  MedDeliveryConfig delivery;
} MailConfig;

typedef struct
{
  gboolean enabled;
  char *spool; /* NULL = MED_SMS_SPOOL_DEFAULT */
  guint timeout_seconds;
  MedDeliveryConfig delivery;
} SmsConfig;

static gboolean
config_uint (GKeyFile *kf, const char *path, const char *group, const char *key,
    guint max, guint *out, GError **error)
{
  g_autofree char *s = g_key_file_get_value (kf, group, key, NULL);
  guint64 v;

  if (s == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (g_strstrip (s), 10, 1, max, &v, NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        _ ("%s: [%s] %s: an integer 1–%u is expected"), path, group, key, max);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

/* The keys a delivery group shares (enabled, interval, max-attempts),
 * after checking that it has no key outside known. */
static gboolean
delivery_config_load (GKeyFile *kf, const char *path, const char *group,
    const char *const *known, gboolean *enabled, MedDeliveryConfig *d,
    GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
  guint attempts = (guint) d->max_attempts;

  for (guint i = 0; keys && keys[i]; i++) {
    if (!g_strv_contains (known, keys[i])) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          _ ("%s: unknown key %s in [%s]"), path, keys[i], group);
      return FALSE;
    }
  }
  if (g_key_file_has_key (kf, group, "enabled", NULL)) {
    g_autoptr (GError) local = NULL;

    *enabled = g_key_file_get_boolean (kf, group, "enabled", &local);
    if (local != NULL) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          _ ("%s: [%s] enabled: true or false is expected"), path, group);
      return FALSE;
    }
  }
  if (!config_uint (kf, path, group, "interval", 3600, &d->interval_seconds,
          error)
      || !config_uint (kf, path, group, "max-attempts", 100, &attempts, error))
    return FALSE;
  d->max_attempts = (gint) attempts;
  return TRUE;
}

/* Reads the [mail] and [sms] groups of serve's config file (the other
 * groups are med_http_config_load's). [mail]: enabled, sendmail,
 * interval, max-attempts; [sms]: enabled, spool, timeout, interval,
 * max-attempts. Unknown keys are errors. */
static gboolean
delivery_configs_load (MailConfig *mc, SmsConfig *sc, const char *path,
    GError **error)
{
  static const char *const known[]
      = { "enabled", "sendmail", "interval", "max-attempts", NULL };
  static const char *const sms_known[]
      = { "enabled", "spool", "timeout", "interval", "max-attempts", NULL };
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)
      || !delivery_config_load (kf, path, "mail", known, &mc->enabled,
          &mc->delivery, error)
      || !delivery_config_load (kf, path, "sms", sms_known, &sc->enabled,
          &sc->delivery, error))
    return FALSE;
  if (g_key_file_has_key (kf, "mail", "sendmail", NULL)) {
    g_autofree char *cmd = g_key_file_get_string (kf, "mail", "sendmail", NULL);

    if (cmd == NULL
        || !med_validate_text (cmd, 1024, FALSE, FALSE, "[mail] sendmail",
            error))
      return FALSE;
    g_free (mc->sendmail);
    mc->sendmail = g_steal_pointer (&cmd);
  }
  if (g_key_file_has_key (kf, "sms", "spool", NULL)) {
    g_autofree char *dir = g_key_file_get_string (kf, "sms", "spool", NULL);

    if (dir == NULL
        || !med_validate_text (dir, 1024, FALSE, FALSE, "[sms] spool", error))
      return FALSE;
    g_free (sc->spool);
    sc->spool = g_steal_pointer (&dir);
  }
  return config_uint (kf, path, "sms", "timeout", 3600, &sc->timeout_seconds,
      error);
}

/* serve's log says what happened to each message by id and booking, never
 * to whom, nor the transport's words (which may repeat the address);
 * `medsched outbox list` shows both. */
static void
delivery_report (const MedOutboxMessage *m, MedDeliveryOutcome outcome,
    const char *why, gpointer data)
{
  gint attempts = m->attempts + 1;

  switch (outcome) {
    case MED_DELIVERY_SENT:
      if (g_strcmp0 (m->channel, MED_OUTBOX_SMS) == 0)
        g_message ("outbox #%" G_GINT64_FORMAT ": SMS (%s) of booking "
                   "%" G_GINT64_FORMAT " sent by gammu-smsd",
            m->id, m->purpose, m->booking_id);
      else
        g_message ("outbox #%" G_GINT64_FORMAT ": %s SEQUENCE %d of booking "
                   "%" G_GINT64_FORMAT " handed to the MTA",
            m->id, m->method, m->sequence, m->booking_id);
      break;
    case MED_DELIVERY_RETRY:
      g_message ("outbox #%" G_GINT64_FORMAT ": attempt %d failed, retry in "
                 "%d s (see medsched outbox list)",
          m->id, attempts, med_store_outbox_backoff (attempts));
      break;
    case MED_DELIVERY_GAVE_UP:
      g_warning ("outbox #%" G_GINT64_FORMAT ": given up after %d attempts "
                 "(see medsched outbox list; outbox retry requeues it)",
          m->id, attempts);
      break;
    case MED_DELIVERY_RELEASED:
      g_message ("outbox #%" G_GINT64_FORMAT ": stopped before the %s "
                 "answered; queued again",
          m->id,
          g_strcmp0 (m->channel, MED_OUTBOX_SMS) == 0 ? "SMS gateway" : "MTA");
      break;
  }
}

/* The audit chain's head in the log, at start and once a day, so that a
 * copy outside the database proves later that no row was removed from
 * its end (medsched audit verify --anchor). */
static gboolean
log_anchor_cb (gpointer data)
{
  ServeState *s = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  MedAuditAnchor a;

  if (!med_store_audit_head (s->store, &a, &error)) {
    g_warning ("audit anchor: %s", error->message);
    return G_SOURCE_CONTINUE;
  }
  text = med_audit_anchor_to_string (&a);
  g_message ("audit anchor %s", text);
  return G_SOURCE_CONTINUE;
}

/* The HTTP server and each delivery say when they have stopped; the loop
 * ends after all of them. */
static gboolean
part_stopped_cb (gpointer data)
{
  ServeState *s = data;

  if (--s->running == 0)
    g_main_loop_quit (s->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
signal_cb (gpointer data)
{
  ServeState *s = data;

  if (!s->stopping) {
    s->stopping = TRUE;
    fprintf (stderr, _ ("medsched: stopping (%u requests in flight%s%s)\n"),
        med_http_server_in_flight (s->srv),
        med_service_delivery_busy (s->mail) ? _ (", a message with the MTA")
                                            : "",
        med_service_delivery_busy (s->sms) ? _ (", an SMS with gammu-smsd")
                                           : "");
    s->running = 1 + (s->mail != NULL) + (s->sms != NULL);
    med_http_server_shutdown (s->srv, part_stopped_cb, s);
    if (s->mail != NULL)
      med_service_delivery_stop (s->mail, s->mail_grace, part_stopped_cb, s);
    if (s->sms != NULL)
      med_service_delivery_stop (s->sms, s->mail_grace, part_stopped_cb, s);
  }
  return G_SOURCE_CONTINUE;
}

/* Opens serve's own store connection and starts the outbox delivery. */
static gboolean
start_mail (ServeState *s, MailConfig *mc, GError **error)
{
  g_autoptr (MedTransport) mta = NULL;
  const char *cmd = mc->sendmail;

  if (!mc->enabled)
    return TRUE;
  if (cmd == NULL)
    cmd = g_getenv ("MEDSCHED_SENDMAIL");
  if (!med_service_delivery_config_check (&mc->delivery, error)
      || (mta = med_service_sendmail_new (cmd, 0, error)) == NULL)
    return FALSE;
  s->mail = med_service_delivery_new (s->store, g_steal_pointer (&mta),
      &mc->delivery, delivery_report, s);
  med_service_delivery_start (s->mail);
  return TRUE;
}

/* The SMS delivery through gammu-smsd's spool, when [sms] enables it. */
static gboolean
start_sms (ServeState *s, SmsConfig *sc, GError **error)
{
  g_autoptr (MedTransport) gateway = NULL;

  if (!sc->enabled)
    return TRUE;
  sc->delivery.lease_seconds = med_service_sms_lease (sc->timeout_seconds);
  if (!med_service_delivery_config_check (&sc->delivery, error)
      || (gateway = med_service_sms_spool_new (sc->spool, sc->timeout_seconds,
              error))
          == NULL)
    return FALSE;
  s->sms = med_service_delivery_new (s->store, g_steal_pointer (&gateway),
      &sc->delivery, delivery_report, s);
  med_service_delivery_start (s->sms);
  return TRUE;
}

int
med_cli_cmd_serve (MedCliGlobal *g, int argc, char **argv)
{
  g_autofree char *listen = NULL, *config = NULL, *access_log = NULL;
  g_autofree char *public_url = NULL, *media_dir = NULL, *stun = NULL;
  g_autofree char *turn = NULL, *db = NULL;
  gboolean secure = FALSE, trust_proxy = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
        N_ ("Address and port (default 127.0.0.1:8080)"), "ADDR:PORT" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config,
        N_ ("Key file with a [server] group (and [media], [mail], [sms])"),
        "FILE" },
    { "access-log", 0, 0, G_OPTION_ARG_STRING, &access_log,
        N_ ("- (stderr, default), off, or a file"), "WHERE" },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &public_url,
        N_ ("Base URL users reach (for links on pages)"), "URL" },
    { "media-dir", 0, 0, G_OPTION_ARG_FILENAME, &media_dir,
        N_ ("Where session recordings go (default: recordings/ beside the store)"),
        "DIR" },
    { "stun-server", 0, 0, G_OPTION_ARG_STRING, &stun,
        N_ ("STUN server for WebRTC (stun://host:port)"), "URL" },
    { "turn-server", 0, 0, G_OPTION_ARG_STRING, &turn,
        N_ ("TURN relay for WebRTC (turn://user:pass@host:port)"), "URL" },
    { "secure-cookies", 0, 0, G_OPTION_ARG_NONE, &secure,
        N_ ("Mark cookies Secure (behind TLS)"), NULL },
    { "trust-proxy", 0, 0, G_OPTION_ARG_NONE, &trust_proxy,
        N_ ("Take the client address from X-Real-IP of a loopback proxy"),
        NULL },
    { NULL }
  };
  MedHttpConfig cfg;
  MailConfig mc = { TRUE, NULL };
  SmsConfig sc = { FALSE, NULL };
  g_autoptr (GError) error = NULL;
  ServeState s = { 0 };
  guint sig_int, sig_term, anchor_id;
  guint grace;
  g_autofree char *summary = NULL;

  summary = g_strdup_printf (
      _ ("Serves the JSON API, the web pages and the calendar feeds until "
         "SIGINT or SIGTERM; listens on loopback unless told otherwise. "
         "Delivers the outbox as messages fall due (the [mail] group of "
         "--config; the MTA defaults to $MEDSCHED_SENDMAIL or %s; SMS "
         "through gammu-smsd's spool when [sms] enables it) and logs the "
         "audit anchor daily."),
      MED_SENDMAIL_DEFAULT);
  if (!med_cli_parse_options (N_ ("- run the HTTP server"), summary, entries,
          &argc, &argv, &code))
    return code;
  if (argc > 1)
    return med_cli_usage (_ ("serve takes no arguments"));
  med_http_config_init (&cfg);
  g_free (cfg.db);
  cfg.db = g_strdup (g->db);
  cfg.centre_id = g->centre_id;
  med_service_delivery_config_init (&mc.delivery);
  med_service_delivery_config_init (&sc.delivery);
  if (config != NULL
      && (!med_http_config_load (&cfg, config, &error)
          || !delivery_configs_load (&mc, &sc, config, &error))) {
    med_http_config_clear (&cfg);
    g_free (mc.sendmail);
    g_free (sc.spool);
    return med_cli_report (g_steal_pointer (&error));
  }
#define SET(field, v)                                                          \
  if (v) {                                                                     \
    g_free (cfg.field);                                                        \
    cfg.field = g_strdup (v);                                                  \
  }
  SET (listen, listen);
  SET (access_log, access_log);
  SET (public_url, public_url);
  SET (media_dir, media_dir);
  SET (stun_server, stun);
  SET (turn_server, turn);
#undef SET
  if (secure)
    cfg.secure_cookies = TRUE;
  if (trust_proxy)
    cfg.trust_proxy = TRUE;
  if (g->now_text != NULL)
    cfg.fixed_now = g->now;
  mc.delivery.fixed_now = cfg.fixed_now;
  sc.delivery.fixed_now = cfg.fixed_now;
  db = g_strdup (cfg.db);
  grace = cfg.shutdown_grace;

  s.srv = med_http_server_new (&cfg, &error);
  med_http_config_clear (&cfg);
  if (s.srv == NULL || !med_http_server_listen (s.srv, &error)
      || (s.store = med_store_open_existing (db, &error)) == NULL) {
    g_clear_pointer (&s.srv, med_http_server_free);
    g_free (mc.sendmail);
    g_free (sc.spool);
    return med_cli_report (g_steal_pointer (&error));
  }
  if (g->now_text != NULL)
    med_store_set_now (s.store, g->now);
  s.mail_grace = MAX (grace, 1);
  /* libical's zone cache is not thread-safe: fill it on this thread. */
  med_ical_init ("Asia/Shanghai");
  s.loop = g_main_loop_new (NULL, FALSE);
  sig_int = g_unix_signal_add (SIGINT, signal_cb, &s);
  sig_term = g_unix_signal_add (SIGTERM, signal_cb, &s);
  /* an MTA that exits without reading the whole message is a failed
   * attempt, not a SIGPIPE for us */
  signal (SIGPIPE, SIG_IGN);
  if (!start_mail (&s, &mc, &error) || !start_sms (&s, &sc, &error)) {
    g_free (mc.sendmail);
    g_free (sc.spool);
    g_clear_pointer (&s.mail, med_delivery_free);
    med_store_close (s.store);
    med_http_server_free (s.srv);
    g_main_loop_unref (s.loop);
    return med_cli_report (g_steal_pointer (&error));
  }
  g_free (mc.sendmail);
  g_free (sc.spool);
  /* read by scripts and tests: not translated */
  printf ("medsched: listening on port %u\n", med_http_server_get_port (s.srv));
  fflush (stdout);
  log_anchor_cb (&s);
  anchor_id = g_timeout_add_seconds (ANCHOR_LOG_SECONDS, log_anchor_cb, &s);
  g_main_loop_run (s.loop);
  /* The signal sources stay: a second SIGTERM while closing is absorbed
   * (removing them would restore the default action and kill us). */
  (void) sig_int;
  (void) sig_term;
  g_source_remove (anchor_id);
  med_http_server_free (s.srv);
  med_delivery_free (s.mail);
  med_delivery_free (s.sms);
  med_store_close (s.store);
  g_main_loop_unref (s.loop);
  fprintf (stderr, _ ("medsched: stopped\n"));
  return EXIT_OK;
}

/* ---- users ---- */

static char *
read_password (const char *file, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  char *nl;

  if (file != NULL) {
    if (!g_file_get_contents (file, &data, &len, error))
      return NULL;
  } else {
    char buf[512];

    if (fgets (buf, sizeof buf, stdin) == NULL) {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          _ ("no password on standard input"));
      return NULL;
    }
    data = g_strdup (buf);
    memset (buf, 0, sizeof buf);
  }
  if ((nl = strpbrk (data, "\r\n")) != NULL)
    *nl = '\0';
  if (strlen (data) < 8 || strlen (data) > 256
      || !g_utf8_validate (data, -1, NULL)) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        _ ("a password has 8–256 bytes of UTF-8"));
    return NULL;
  }
  return g_steal_pointer (&data);
}

int
med_cli_cmd_user_add (MedCliGlobal *g, int argc, char **argv)
{
  g_autofree char *role = NULL, *mediator = NULL, *pw_file = NULL;
  int iterations = 0, code = 0;
  GOptionEntry entries[] = { { "role", 0, 0, G_OPTION_ARG_STRING, &role,
                                 N_ ("admin, clerk or mediator"), "ROLE" },
    { "mediator", 0, 0, G_OPTION_ARG_STRING, &mediator,
        N_ ("The mediator this user is (role mediator)"), "ID" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &pw_file,
        N_ ("Read the password from FILE (default: standard input)"), "FILE" },
    { "iterations", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &iterations,
        N_ ("PBKDF2 iterations (tests)"), "N" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autofree char *password = NULL;
  g_autoptr (MedMediator) mediator_row = NULL;
  MedUser u = { 0 };
  gint64 id;

  if (!med_cli_parse_options (N_ ("NAME - add a user of the web pages and API"),
          N_ ("Adds a user with a role; a mediator user names its mediator. "
              "The password is read from --password-file or standard input."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2 || role == NULL)
    return med_cli_usage (_ ("user add needs NAME and --role"));
  if (!med_role_from_string (role, &u.role, &error)
      || !med_store_check_user_name (argv[1], &error))
    return med_cli_report (g_steal_pointer (&error));
  if ((u.role == MED_ROLE_MEDIATOR) != (mediator != NULL))
    return med_cli_usage (_ ("--mediator goes with --role mediator, and only "
                             "there"));
  if (mediator != NULL && !med_cli_parse_id (mediator, &u.mediator_id))
    return med_cli_usage (_ ("--mediator takes a numeric id"));
  if (iterations != 0 && (iterations < 1000 || iterations > 10000000))
    return med_cli_usage (_ ("--iterations must be 1000–10000000"));
  if ((password = read_password (pw_file, &error)) == NULL)
    return med_cli_report (g_steal_pointer (&error));
  u.name = argv[1];
  u.password = med_http_password_hash (password, (guint) iterations);
  memset (password, 0, strlen (password));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (u.mediator_id
          && (mediator_row
                 = med_store_get_mediator (store, u.mediator_id, &error))
              == NULL)
      || (id = med_service_add_user (store, &ctx, &u, &error)) == 0) {
    g_free (u.password);
    return med_cli_report (g_steal_pointer (&error));
  }
  g_free (u.password);
  printf (_ ("user %lld %s (%s)\n"), (long long) id, argv[1], role);
  return EXIT_OK;
}

/* A user of --centre by name (names are unique in the whole database):
 * another centre's user is named as such, with the option that reaches
 * them. (transfer full) */
static MedUser *
find_user_here (MedStore *store, MedCliGlobal *g, const char *name,
    GError **error)
{
  g_autoptr (MedUser) u = med_store_find_user (store, name, error);

  if (u != NULL && u->centre_id != g->centre_id) {
    g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
        "user %s belongs to centre %" G_GINT64_FORMAT
        ", not to centre %" G_GINT64_FORMAT " (use --centre %" G_GINT64_FORMAT
        ")",
        name, u->centre_id, g->centre_id, u->centre_id);
    return NULL;
  }
  return g_steal_pointer (&u);
}

int
med_cli_cmd_user_token (MedCliGlobal *g, int argc, char **argv)
{
  int days = 0, code = 0;
  GOptionEntry entries[]
      = { { "expires-days", 0, 0, G_OPTION_ARG_INT, &days,
              N_ ("Valid for N days (default: until revoked)"), "N" },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedUser) u = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autofree char *secret = NULL, *hash = NULL;

  if (!med_cli_parse_options (N_ ("NAME - make an API bearer token"),
          N_ ("Makes a new bearer token for the user and prints it once; the "
              "store keeps only its SHA-256."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return med_cli_usage (_ ("user token needs NAME"));
  if (days < 0 || days > 3650)
    return med_cli_usage (_ ("--expires-days must be 0–3650"));
  secret = med_http_new_secret ();
  hash = med_http_hash_secret (secret);
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (u = find_user_here (store, g, argv[1], &error)) == NULL
      || med_service_add_token (store, &ctx, u->id, hash,
             days ? g->now + (MedTime) days * 86400 : 0, &error)
          == 0)
    return med_cli_report (g_steal_pointer (&error));
  printf ("%s\n", secret);
  return EXIT_OK;
}

int
med_cli_cmd_user_revoke (MedCliGlobal *g, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedUser) u = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);

  if (!med_cli_parse_options (N_ ("NAME - revoke every API token of a user"),
          N_ ("Revokes the user's bearer tokens."), entries, &argc, &argv,
          &code))
    return code;
  if (argc != 2)
    return med_cli_usage (_ ("user revoke-tokens needs NAME"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (u = find_user_here (store, g, argv[1], &error)) == NULL
      || !med_service_revoke_tokens (store, &ctx, u->id, &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (_ ("tokens of %s revoked\n"), u->name);
  return EXIT_OK;
}

int
med_cli_cmd_user_list (MedCliGlobal *g, int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (GError) error = NULL;

  if (!med_cli_parse_options (N_ ("- list users"),
          N_ ("Lists the users and roles."), entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return med_cli_usage (_ ("user list takes no arguments"));
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (users = med_store_list_users (store, g->centre_id, &error)) == NULL)
    return med_cli_report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < users->len; i++) {
      MedUser *u = g_ptr_array_index (users, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, u->id);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, u->name);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, med_role_to_string (u->role));
      json_builder_set_member_name (b, "mediator_id");
      if (u->mediator_id)
        json_builder_add_int_value (b, u->mediator_id);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "disabled");
      json_builder_add_boolean_value (b, u->disabled);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
  } else {
    g_autoptr (MedTable) t
        = med_table_new (4, C_ ("column", "ID"), C_ ("column", "USER"),
            C_ ("column", "ROLE"), C_ ("column", "MEDIATOR"));

    for (guint i = 0; i < users->len; i++) {
      MedUser *u = g_ptr_array_index (users, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, u->id);
      g_autofree char *m = u->mediator_id
          ? g_strdup_printf ("%" G_GINT64_FORMAT, u->mediator_id)
          : g_strdup ("");

      med_table_add (t, id, u->name, med_role_to_string (u->role), m);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

/* ---- feed links ---- */

int
med_cli_cmd_feed_link (MedCliGlobal *g, int argc, char **argv)
{
  gboolean revoke = FALSE;
  g_autofree char *lang = NULL;
  int code = 0;
  GOptionEntry entries[]
      = { { "revoke", 0, 0, G_OPTION_ARG_NONE, &revoke,
              N_ ("Revoke link ID instead (feed-link --revoke "
                  "ID)"),
              NULL },
          { "lang", 0, 0, G_OPTION_ARG_STRING, &lang,
              N_ ("The feed's language: zh, bo or en (default zh)"), "LANG" },
          { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autofree char *secret = NULL, *hash = NULL, *base = NULL;
  MedFeedLinkKind kind;
  gint64 ref, id;

  if (!med_cli_parse_options (
          N_ ("room|mediator|case|centre ID - make a calendar "
              "feed link"),
          N_ ("Makes a revocable, unguessable /feeds/<token>.ics link (printed "
              "once) to the room's, mediator's, case's or centre's sessions."),
          entries, &argc, &argv, &code))
    return code;
  if (revoke) {
    if (argc != 2 || !med_cli_parse_id (argv[1], &id))
      return med_cli_usage (_ ("feed-link --revoke needs the link ID"));
    if ((store = med_cli_open_store (g, &error)) == NULL
        || !med_service_revoke_feed_link (store, &ctx, id, &error))
      return med_cli_report (g_steal_pointer (&error));
    printf (_ ("feed link %lld revoked\n"), (long long) id);
    return EXIT_OK;
  }
  if (argc != 3)
    return med_cli_usage (_ ("feed-link needs KIND and ID"));
  if (!med_cli_parse_lang (lang, &ctx))
    return med_cli_usage (_ ("--lang is zh, bo or en"));
  if (!med_feed_link_kind_from_string (argv[1], &kind, &error))
    return med_cli_report (g_steal_pointer (&error));
  if (!med_cli_parse_id (argv[2], &ref))
    return med_cli_usage (_ ("feed-link takes a numeric ID"));
  secret = med_http_new_secret ();
  hash = med_http_hash_secret (secret);
  if ((store = med_cli_open_store (g, &error)) == NULL
      || (id = med_service_add_feed_link (store, &ctx, kind, ref, hash, 0,
              &error))
          == 0)
    return med_cli_report (g_steal_pointer (&error));
  base = med_store_get_public_url (store, g->centre_id, NULL);
  printf (_ ("feed link %lld: %s/feeds/%s.ics\n"), (long long) id,
      base ? base : "", secret);
  return EXIT_OK;
}
