/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-service-outbox.c — delivering the outbox: the loop that claims due
 * messages of its transport's channel, hands each to the transport and
 * records the outcome, and the sendmail transport (a sendmail-compatible
 * MTA run with GSubprocess). The SMS transport is med-service-sms.c.
 *
 * `medsched outbox flush` runs one pass on a private main context and
 * waits; `medsched serve` runs passes on its main loop, looking for due
 * messages every few seconds (a cheap indexed read), so invites queued by
 * the API go out without anyone flushing by hand. The MTA runs as a child
 * process watched asynchronously: the main loop keeps serving while it
 * works. One message is with the transport at a time per loop; other
 * processes delivering from the same store at the same time are kept apart
 * by the claim's lease (med_store_outbox_claim), so each message is handed
 * over once.
 *
 * The outcome goes to the store (sent with its ledger row, or a failed
 * attempt with its back-off) and to the caller's report function; nothing
 * here logs an address, a name or the MTA's words (which may repeat the
 * recipient). */
#define G_LOG_DOMAIN "medsched-service"

#include <medsched/med-service.h>

#include <med-store-write.h>

#include <string.h>

#define DEFAULT_INTERVAL_SECONDS 5
#define DEFAULT_MAX_ATTEMPTS     6
#define DEFAULT_LEASE_SECONDS    600
/* the MTA's words kept as the reason of a failure */
#define MAX_MTA_OUTPUT 300

void
med_transport_free (MedTransport *t)
{
  if (t != NULL && t->free != NULL)
    t->free (t);
}

/* ---- the sendmail transport -------------------------------------------- */

typedef struct
{
  MedTransport parent;
  char **argv;
  guint timeout_seconds;
} Sendmail;

/* One hand-over to the MTA: the GTask's data. */
typedef struct
{
  GSubprocess *proc;
  GCancellable *cancel; /* ours: cancelled by the caller or the timeout */
  GCancellable *outer; /* the caller's, may be NULL */
  gulong outer_id;
  GSource *timeout;
  gboolean timed_out;
  char *program;
  guint timeout_seconds;
  GError *error; /* why communicating failed */
} MtaRun;

static void
mta_run_free (gpointer p)
{
  MtaRun *run = p;

  if (run->timeout != NULL) {
    g_source_destroy (run->timeout);
    g_source_unref (run->timeout);
  }
  if (run->outer != NULL) {
    g_cancellable_disconnect (run->outer, run->outer_id);
    g_object_unref (run->outer);
  }
  g_clear_object (&run->cancel);
  g_clear_object (&run->proc);
  g_clear_error (&run->error);
  g_free (run->program);
  g_free (run);
}

static void
outer_cancelled_cb (GCancellable *outer, gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static gboolean
mta_timed_out_cb (gpointer data)
{
  MtaRun *run = data;

  run->timed_out = TRUE;
  g_cancellable_cancel (run->cancel);
  return G_SOURCE_REMOVE;
}

/* The MTA has exited (or was killed and reaped): the outcome. */
static void
return_outcome (GTask *task, GBytes *output)
{
  MtaRun *run = g_task_get_task_data (task);

  if (run->timed_out) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "%s did not finish within %u s", run->program, run->timeout_seconds);
  } else if (run->outer != NULL && g_cancellable_is_cancelled (run->outer)) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "cancelled");
  } else if (run->error != NULL) {
    g_task_return_error (task, g_steal_pointer (&run->error));
  } else if (g_subprocess_get_if_exited (run->proc)
      && g_subprocess_get_exit_status (run->proc) == 0) {
    g_task_return_boolean (task, TRUE);
  } else if (g_subprocess_get_if_exited (run->proc)) {
    gsize len = 0;
    const char *out = output ? g_bytes_get_data (output, &len) : NULL;
    g_autofree char *said
        = g_strndup (out ? out : "", MIN (len, MAX_MTA_OUTPUT));

    g_strstrip (said);
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
        "%s exited with status %d%s%s", run->program,
        g_subprocess_get_exit_status (run->proc), *said ? ": " : "", said);
  } else {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
        "%s was killed by signal %d", run->program,
        g_subprocess_get_term_sig (run->proc));
  }
}

static void
mta_reaped_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  return_outcome (task, NULL);
}

static void
mta_communicated_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  MtaRun *run = g_task_get_task_data (task);
  g_autoptr (GBytes) output = NULL;

  if (!g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &output,
          NULL, &run->error)) {
    /* cancelled (timeout, stop) or an I/O error: end the MTA, and answer
     * once it is reaped */
    g_subprocess_force_exit (run->proc);
    g_subprocess_wait_async (run->proc, NULL, mta_reaped_cb,
        g_steal_pointer (&task));
    return;
  }
  return_outcome (task, output);
}

static void
sendmail_send_async (MedTransport *t, const MedOutboxMessage *m,
    GCancellable *cancel, GAsyncReadyCallback callback, gpointer user_data)
{
  Sendmail *sm = (Sendmail *) t;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GBytes) input = NULL;
  g_autoptr (GError) error = NULL;
  MtaRun *run = g_new0 (MtaRun, 1);

  g_task_set_source_tag (task, sendmail_send_async);
  g_task_set_task_data (task, run, mta_run_free);
  run->program = g_strdup (sm->argv[0]);
  run->timeout_seconds = sm->timeout_seconds;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
      | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  run->proc = g_subprocess_launcher_spawnv (launcher,
      (const char *const *) sm->argv, &error);
  if (run->proc == NULL) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
        error->message);
    return;
  }
  run->cancel = g_cancellable_new ();
  if (cancel != NULL) {
    run->outer = g_object_ref (cancel);
    run->outer_id = g_cancellable_connect (cancel,
        G_CALLBACK (outer_cancelled_cb), run->cancel, NULL);
  }
  run->timeout = g_timeout_source_new_seconds (sm->timeout_seconds);
  g_source_set_callback (run->timeout, mta_timed_out_cb, run, NULL);
  g_source_attach (run->timeout, g_main_context_get_thread_default ());
  input = g_bytes_new (m->message, strlen (m->message));
  g_subprocess_communicate_async (run->proc, input, run->cancel,
      mta_communicated_cb, g_steal_pointer (&task));
}

static gboolean
sendmail_send_finish (MedTransport *t, GAsyncResult *result, char **why)
{
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  if (g_task_propagate_boolean (G_TASK (result), &error))
    return TRUE;
  *why = g_strdup (error->message);
  return FALSE;
}

static void
sendmail_free (MedTransport *t)
{
  Sendmail *sm = (Sendmail *) t;

  g_strfreev (sm->argv);
  g_free (sm);
}

MedTransport *
med_service_sendmail_new (const char *command, guint timeout_seconds,
    GError **error)
{
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) local = NULL;
  Sendmail *sm;

  if (command == NULL || *command == '\0')
    command = MED_SENDMAIL_DEFAULT;
  if (!g_shell_parse_argv (command, NULL, &argv, &local)) {
    g_set_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
        "the sendmail command does not parse: %s", local->message);
    return NULL;
  }
  sm = g_new0 (Sendmail, 1);
  sm->parent.channel = MED_OUTBOX_MAIL;
  sm->parent.send_async = sendmail_send_async;
  sm->parent.send_finish = sendmail_send_finish;
  sm->parent.free = sendmail_free;
  sm->argv = g_steal_pointer (&argv);
  sm->timeout_seconds
      = timeout_seconds ? timeout_seconds : MED_SENDMAIL_TIMEOUT_SECONDS;
  return &sm->parent;
}

/* ---- the delivery loop ------------------------------------------------- */

void
med_service_delivery_config_init (MedDeliveryConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->interval_seconds = DEFAULT_INTERVAL_SECONDS;
  cfg->max_attempts = DEFAULT_MAX_ATTEMPTS;
  cfg->lease_seconds = DEFAULT_LEASE_SECONDS;
  cfg->actor = "serve";
}

gboolean
med_service_delivery_config_check (const MedDeliveryConfig *cfg, GError **error)
{
  const char *bad = NULL;

  if (cfg->interval_seconds < 1 || cfg->interval_seconds > 3600)
    bad = "the delivery interval must be 1–3600 seconds";
  else if (cfg->max_attempts < 1 || cfg->max_attempts > 100)
    bad = "max attempts must be 1–100";
  else if (cfg->lease_seconds < 60 || cfg->lease_seconds > 86400)
    bad = "the lease must be 60–86400 seconds";
  else if (cfg->actor == NULL || *cfg->actor == '\0')
    bad = "delivery needs an actor";
  if (bad == NULL)
    return TRUE;
  g_set_error_literal (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID,
      bad);
  return FALSE;
}

struct _MedDelivery
{
  gint ref; /* the owner's, and one while a message is with the transport */
  gboolean freed; /* the owner let go: outcomes are no longer recorded */
  MedStore *store; /* (transfer none) */
  MedTransport *transport;
  MedDeliveryConfig cfg;
  char *actor;
  MedDeliveryReportFunc report;
  gpointer report_data;
  GMainContext *context;
  GSource *tick;
  GSource *grace;
  GSource *idle; /* the stop callback, queued */
  gboolean running; /* a pass */
  gboolean stopping;
  MedOutboxMessage *current; /* with the transport */
  GCancellable *cancel; /* of the current hand-over */
  GSList *waiters; /* GTask* of flush_async callers of this pass */
  MedDeliveryCounts counts; /* of this pass */
  GError *pass_error;
  char *last_warning; /* the tick's last store error, said once */
  GSourceFunc stop_done;
  gpointer stop_data;
};

static void deliver_next (MedDelivery *d);

static MedTime
delivery_now (MedDelivery *d)
{
  return d->cfg.fixed_now ? d->cfg.fixed_now
                          : g_get_real_time () / G_USEC_PER_SEC;
}

static void
delivery_unref (MedDelivery *d)
{
  if (!g_atomic_int_dec_and_test (&d->ref))
    return;
  g_assert (d->waiters == NULL);
  if (d->tick != NULL) {
    g_source_destroy (d->tick);
    g_source_unref (d->tick);
  }
  if (d->grace != NULL) {
    g_source_destroy (d->grace);
    g_source_unref (d->grace);
  }
  if (d->idle != NULL) {
    g_source_destroy (d->idle);
    g_source_unref (d->idle);
  }
  g_clear_object (&d->cancel);
  g_clear_pointer (&d->current, med_outbox_message_free);
  g_clear_error (&d->pass_error);
  med_transport_free (d->transport);
  g_main_context_unref (d->context);
  g_free (d->last_warning);
  g_free (d->actor);
  g_free (d);
}

MedDelivery *
med_service_delivery_new (MedStore *store, MedTransport *transport,
    const MedDeliveryConfig *cfg, MedDeliveryReportFunc report,
    gpointer user_data)
{
  MedDelivery *d;

  g_return_val_if_fail (store != NULL && transport != NULL
          && transport->channel != NULL,
      NULL);
  g_return_val_if_fail (cfg != NULL
          && med_service_delivery_config_check (cfg, NULL),
      NULL);

  d = g_new0 (MedDelivery, 1);
  d->ref = 1;
  d->store = store;
  d->transport = transport;
  d->cfg = *cfg;
  d->actor = g_strdup (cfg->actor);
  d->cfg.actor = d->actor;
  d->report = report;
  d->report_data = user_data;
  d->context = g_main_context_ref_thread_default ();
  return d;
}

static GSource *
attach (MedDelivery *d, GSource *source, GSourceFunc func)
{
  g_source_set_callback (source, func, d, NULL);
  g_source_attach (source, d->context);
  return source;
}

static gboolean
stop_done_cb (gpointer data)
{
  MedDelivery *d = data;
  GSourceFunc done = d->stop_done;

  g_clear_pointer (&d->idle, g_source_unref);
  d->stop_done = NULL;
  if (done != NULL)
    done (d->stop_data);
  return G_SOURCE_REMOVE;
}

/* Queues the stop callback: it never runs from inside med_service_delivery_stop. */
static void
schedule_stop_done (MedDelivery *d)
{
  if (d->idle == NULL)
    d->idle = attach (d, g_idle_source_new (), stop_done_cb);
}

static void
end_pass (MedDelivery *d)
{
  GSList *waiters = g_steal_pointer (&d->waiters);

  d->running = FALSE;
  if (d->pass_error != NULL && waiters == NULL)
    g_warning ("outbox delivery (%s) stopped: %s", d->transport->channel,
        d->pass_error->message);
  for (GSList *l = waiters; l != NULL; l = l->next) {
    GTask *task = l->data;

    if (d->pass_error != NULL) {
      g_task_return_error (task, g_error_copy (d->pass_error));
    } else {
      g_task_set_task_data (task, g_memdup2 (&d->counts, sizeof d->counts),
          g_free);
      g_task_return_boolean (task, TRUE);
    }
    g_object_unref (task);
  }
  g_slist_free (waiters);
  g_clear_error (&d->pass_error);
  if (d->stopping) {
    if (d->grace != NULL) {
      g_source_destroy (d->grace);
      g_clear_pointer (&d->grace, g_source_unref);
    }
    schedule_stop_done (d);
  }
}

/* Records what the transport said about d->current. FALSE on a store
 * error (kept in d->pass_error). */
static gboolean
record_outcome (MedDelivery *d, gboolean taken, const char *why)
{
  MedOutboxMessage *m = d->current;
  MedTime now = delivery_now (d);
  MedDeliveryOutcome outcome;
  gboolean ok;

  if (taken) {
    outcome = MED_DELIVERY_SENT;
    ok = med_store_outbox_mark_sent (d->store, m->id, now, d->actor,
        &d->pass_error);
  } else if (g_cancellable_is_cancelled (d->cancel)) {
    outcome = MED_DELIVERY_RELEASED;
    ok = med_store_outbox_release (d->store, m->id, m->next_attempt_at, now,
        &d->pass_error);
  } else {
    outcome = m->attempts + 1 >= d->cfg.max_attempts ? MED_DELIVERY_GAVE_UP
                                                     : MED_DELIVERY_RETRY;
    ok = med_store_outbox_mark_failed (d->store, m->id, now, why,
        d->cfg.max_attempts, d->actor, &d->pass_error);
  }
  if (!ok)
    return FALSE;
  {
    guint *count[] = { [MED_DELIVERY_SENT] = &d->counts.sent,
      [MED_DELIVERY_RETRY] = &d->counts.retry,
      [MED_DELIVERY_GAVE_UP] = &d->counts.gave_up,
      [MED_DELIVERY_RELEASED] = &d->counts.released };

    (*count[outcome])++;
  }
  if (d->report != NULL)
    d->report (m, outcome, taken ? NULL : why, d->report_data);
  return TRUE;
}

static void
handed_over_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  MedDelivery *d = data;
  g_autofree char *why = NULL;
  gboolean taken;

  taken = d->transport->send_finish (d->transport, result, &why);
  if (d->freed) {
    /* the owner is gone (and maybe its store): the lease runs out and
     * another pass sends the message */
    delivery_unref (d);
    return;
  }
  if (!record_outcome (d, taken, why)) {
    g_clear_pointer (&d->current, med_outbox_message_free);
    g_clear_object (&d->cancel);
    end_pass (d);
    delivery_unref (d);
    return;
  }
  g_clear_pointer (&d->current, med_outbox_message_free);
  g_clear_object (&d->cancel);
  deliver_next (d);
  delivery_unref (d);
}

static void
deliver_next (MedDelivery *d)
{
  if (d->stopping) {
    end_pass (d);
    return;
  }
  d->current = med_store_outbox_claim (d->store, d->transport->channel,
      delivery_now (d), (gint) d->cfg.lease_seconds, &d->pass_error);
  if (d->current == NULL) {
    end_pass (d);
    return;
  }
  d->cancel = g_cancellable_new ();
  g_atomic_int_inc (&d->ref);
  d->transport->send_async (d->transport, d->current, d->cancel, handed_over_cb,
      d);
}

static void
start_pass (MedDelivery *d)
{
  d->running = TRUE;
  memset (&d->counts, 0, sizeof d->counts);
  g_clear_error (&d->pass_error);
  deliver_next (d);
}

void
med_service_delivery_flush_async (MedDelivery *d, GAsyncReadyCallback callback,
    gpointer user_data)
{
  GTask *task;

  g_return_if_fail (d != NULL && !d->freed);

  task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (task, med_service_delivery_flush_async);
  if (d->stopping) {
    g_task_set_task_data (task, g_new0 (MedDeliveryCounts, 1), g_free);
    g_task_return_boolean (task, TRUE);
    g_object_unref (task);
    return;
  }
  d->waiters = g_slist_append (d->waiters, task);
  if (!d->running)
    start_pass (d);
}

gboolean
med_service_delivery_flush_finish (MedDelivery *d, GAsyncResult *result,
    MedDeliveryCounts *counts, GError **error)
{
  MedDeliveryCounts *c;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  c = g_task_get_task_data (G_TASK (result));
  if (counts != NULL && c != NULL) {
    counts->sent += c->sent;
    counts->retry += c->retry;
    counts->gave_up += c->gave_up;
    counts->released += c->released;
  }
  return TRUE;
}

static gboolean
tick_cb (gpointer data)
{
  MedDelivery *d = data;
  g_autoptr (GError) error = NULL;
  MedTime due = 0;

  if (d->running || d->stopping)
    return G_SOURCE_CONTINUE;
  if (!med_store_outbox_next_due (d->store, d->transport->channel, &due,
          &error)) {
    /* said once, not every few seconds; a busy store is retried quietly */
    if (!g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_BUSY)
        && g_strcmp0 (d->last_warning, error->message) != 0) {
      g_warning ("outbox delivery (%s): %s", d->transport->channel,
          error->message);
      g_free (d->last_warning);
      d->last_warning = g_strdup (error->message);
    }
    return G_SOURCE_CONTINUE;
  }
  g_clear_pointer (&d->last_warning, g_free);
  if (due != 0 && due <= delivery_now (d))
    start_pass (d);
  return G_SOURCE_CONTINUE;
}

void
med_service_delivery_start (MedDelivery *d)
{
  g_return_if_fail (d != NULL && !d->freed);

  if (d->tick != NULL || d->stopping)
    return;
  d->tick = attach (d, g_timeout_source_new_seconds (d->cfg.interval_seconds),
      tick_cb);
  /* and once right away: what queued up while nobody delivered */
  tick_cb (d);
}

static gboolean
grace_over_cb (gpointer data)
{
  MedDelivery *d = data;

  g_clear_pointer (&d->grace, g_source_unref);
  if (d->cancel != NULL)
    g_cancellable_cancel (d->cancel);
  return G_SOURCE_REMOVE;
}

void
med_service_delivery_stop (MedDelivery *d, guint grace_seconds,
    GSourceFunc done, gpointer user_data)
{
  g_return_if_fail (d != NULL && !d->freed);

  if (d->stopping)
    return;
  d->stopping = TRUE;
  d->stop_done = done;
  d->stop_data = user_data;
  if (d->tick != NULL) {
    g_source_destroy (d->tick);
    g_clear_pointer (&d->tick, g_source_unref);
  }
  if (!d->running) {
    schedule_stop_done (d);
    return;
  }
  /* the pass ends after the message with the transport (end_pass) */
  d->grace
      = attach (d, g_timeout_source_new_seconds (grace_seconds), grace_over_cb);
}

gboolean
med_service_delivery_busy (MedDelivery *d)
{
  return d != NULL && d->current != NULL;
}

void
med_delivery_free (MedDelivery *d)
{
  if (d == NULL)
    return;
  d->freed = TRUE;
  d->report = NULL;
  d->stop_done = NULL;
  if (d->cancel != NULL)
    g_cancellable_cancel (d->cancel);
  /* callers waiting on a pass hear that it ended */
  if (d->waiters != NULL) {
    g_set_error_literal (&d->pass_error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "the delivery loop was freed");
    d->stopping = FALSE;
    end_pass (d);
  }
  delivery_unref (d);
}

/* ---- one pass, waiting (the CLI) --------------------------------------- */

typedef struct
{
  MedDelivery *d;
  gboolean done;
  gboolean ok;
  MedDeliveryCounts *counts;
  GError **error;
} FlushWait;

static void
flushed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  FlushWait *w = data;

  w->ok = med_service_delivery_flush_finish (w->d, result, w->counts, w->error);
  w->done = TRUE;
}

gboolean
med_service_outbox_flush (MedStore *store, MedTransport *transport,
    const MedDeliveryConfig *cfg, MedDeliveryReportFunc report,
    gpointer user_data, MedDeliveryCounts *counts, GError **error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  FlushWait w = { NULL, FALSE, FALSE, counts, error };

  g_return_val_if_fail (store != NULL && transport != NULL, FALSE);
  if (!med_service_delivery_config_check (cfg, error)) {
    med_transport_free (transport);
    return FALSE;
  }
  g_main_context_push_thread_default (context);
  w.d = med_service_delivery_new (store, transport, cfg, report, user_data);
  med_service_delivery_flush_async (w.d, flushed_cb, &w);
  while (!w.done)
    g_main_context_iteration (context, TRUE);
  med_delivery_free (w.d);
  g_main_context_pop_thread_default (context);
  return w.ok;
}

gboolean
med_service_outbox_retry (MedStore *store, const MedServiceCtx *ctx,
    gint64 message_id, GError **error)
{
  g_return_val_if_fail (store != NULL && ctx != NULL, FALSE);

  return med_store_outbox_retry (store, message_id, ctx->now, ctx->actor,
      error);
}
