/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-cli-media.c — the commands of recorded remote sessions: record
 * start|pause|resume|stop, recording list|log|verify|export|purge|recover
 * and consent.
 *
 * `record start` runs the session in the foreground on a GMainLoop until
 * SIGINT/SIGTERM (EOS, wait for the seal) or --duration. The running
 * process stores its pid in the recording row; `record pause|resume|stop
 * BOOKING` find that row and signal the process: SIGUSR1 pauses, SIGUSR2
 * resumes, SIGTERM stops; stop then waits until the row is sealed or
 * failed. Without GStreamer (built without MEDSCHED_HAVE_MEDIA) the
 * commands that need it say so; list, log, purge and consent still work. */
#define G_LOG_DOMAIN "medsched-media"

#include "med-cli.h"

#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#ifdef MEDSCHED_HAVE_MEDIA
#include <medsched/med-media.h>

#include "gstmedmanifest.h"
#endif

#define STOP_WAIT_SECONDS 60

static int fail (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static int
fail (const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return med_cli_report (
      g_error_new_literal (MED_STORE_ERROR, MED_STORE_ERROR_FAILED, msg));
}

#ifndef MEDSCHED_HAVE_MEDIA
static int
no_media (void)
{
  return fail (_ ("this medsched was built without GStreamer: remote-session "
                  "recording is not available"));
}
#endif

/* The recording of booking_id being recorded by a live process. */
static MedRecording *
find_live (MedStore *store, gint64 booking_id, GError **error)
{
  g_autoptr (GPtrArray) recs
      = med_store_list_recordings (store, booking_id, error);

  if (recs == NULL)
    return NULL;
  for (guint i = recs->len; i > 0; i--) {
    MedRecording *r = recs->pdata[i - 1];

    if ((r->state == MED_RECORDING_RECORDING
            || r->state == MED_RECORDING_PAUSED)
        && r->pid > 0 && kill ((pid_t) r->pid, 0) == 0)
      return g_steal_pointer (&recs->pdata[i - 1]);
  }
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
      _ ("booking %lld is not being recorded"), (long long) booking_id);
  return NULL;
}

#ifdef MEDSCHED_HAVE_MEDIA

typedef struct
{
  GMainLoop *loop;
  MedSession *session;
  gboolean ok;
  char *why;
  guint stop_timer;
  guint duration; /* seconds of media to record, 0 = until stopped */
  guint waited_ms; /* waiting for the first media */
} RecordRun;

static void
session_finished_cb (MedSession *session, const GError *error,
    gpointer user_data)
{
  RecordRun *run = user_data;

  run->ok = error == NULL;
  if (error)
    run->why = g_strdup (error->message);
  g_main_loop_quit (run->loop);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  RecordRun *run = user_data;

  run->stop_timer = 0;
  med_session_abort (run->session,
      "the recording did not finish within 30 s of stop; segments sealed "
      "without a final file");
  return G_SOURCE_REMOVE;
}

static void
request_stop (RecordRun *run)
{
  if (med_session_is_finished (run->session) || run->stop_timer)
    return;
  med_session_stop (run->session);
  run->stop_timer = g_timeout_add_seconds (30, stop_timeout_cb, run);
}

static gboolean
stop_signal_cb (gpointer user_data)
{
  request_stop (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
duration_elapsed_cb (gpointer user_data)
{
  request_stop (user_data);
  return G_SOURCE_REMOVE;
}

/* --duration counts from the first media reaching the recorders: an EOS
 * sent before any keyframe arrived would end a recording that holds
 * nothing (and can leave splitmuxsink without an EOS of its own). After
 * 30 s without media the stop goes ahead anyway. */
static gboolean
wait_for_media_cb (gpointer user_data)
{
  RecordRun *run = user_data;

  if (med_session_is_finished (run->session))
    return G_SOURCE_REMOVE;
  run->waited_ms += 100;
  if (!med_session_has_media (run->session) && run->waited_ms < 30000)
    return G_SOURCE_CONTINUE;
  g_timeout_add_seconds (run->duration, duration_elapsed_cb, run);
  return G_SOURCE_REMOVE;
}

static gboolean
pause_signal_cb (gpointer user_data)
{
  RecordRun *run = user_data;
  g_autoptr (GError) err = NULL;

  if (!med_session_pause (run->session, &err))
    g_printerr (_ ("medsched: pause: %s\n"), err->message);
  return G_SOURCE_CONTINUE;
}

static gboolean
resume_signal_cb (gpointer user_data)
{
  RecordRun *run = user_data;
  g_autoptr (GError) err = NULL;

  if (!med_session_resume (run->session, &err))
    g_printerr (_ ("medsched: resume: %s\n"), err->message);
  return G_SOURCE_CONTINUE;
}

static int
record_start (MedCliGlobal *g, int argc, char **argv)
{
  g_autoptr (GPtrArray) rooms = NULL;
  g_auto (GStrv) inputs = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *regime_s = NULL;
  gboolean composite = FALSE;
  gint duration = 0, segment = 0, rtsp_port = 0;
  g_autofree char *rtsp_mount = NULL;
  g_autofree char *rtsp_address = NULL;
  GOptionEntry entries[] = {
    { "input", 0, 0, G_OPTION_ARG_STRING_ARRAY, &inputs,
        N_ ("Input URI (repeat): rtsp://, srt://, v4l2:///dev/videoN, "
            "file:///path, test://video, test://av"),
        "URI" },
    { "composite", 0, 0, G_OPTION_ARG_NONE, &composite,
        N_ ("Also record a stamped grid composite and stream it as HLS"),
        NULL },
    { "rtsp", 0, 0, G_OPTION_ARG_INT, &rtsp_port,
        N_ ("Also serve the composite on an RTSP mount for a room display "
            "(implies --composite)"),
        "PORT" },
    { "rtsp-mount", 0, 0, G_OPTION_ARG_STRING, &rtsp_mount,
        N_ ("The RTSP mount's path (default /live)"), "PATH" },
    { "rtsp-address", 0, 0, G_OPTION_ARG_STRING, &rtsp_address,
        N_ ("The RTSP server's address (default 127.0.0.1)"), "IP" },
    { "duration", 0, 0, G_OPTION_ARG_INT, &duration,
        N_ ("Stop after this many seconds"), "SECONDS" },
    { "segment", 0, 0, G_OPTION_ARG_INT, &segment,
        N_ ("Segment length in seconds (default 10)"), "SECONDS" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
        N_ ("Recording directory (default $MEDSCHED_RECORDINGS/booking-ID-TIME)"),
        "DIR" },
    { "regime", 0, 0, G_OPTION_ARG_STRING, &regime_s,
        N_ ("hearing (continuous) or mediation (needs consent; default)"),
        "REGIME" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedBooking) booking = NULL;
  g_autoptr (MedCase) mcase = NULL;
  g_autoptr (MedCentre) centre = NULL;
  g_autoptr (MedSession) session = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *abs_dir = NULL;
  MedSessionConfig cfg = { 0 };
  RecordRun run = { 0 };
  gint64 booking_id;
  guint n_recovered = 0;
  guint sig[4];
  int code;

  if (!med_cli_parse_options (N_ ("record start BOOKING"),
          N_ ("Record a remote session in the foreground."), entries, &argc,
          &argv, &code))
    return code;
  if (argc != 2 || !med_cli_parse_id (argv[1], &booking_id))
    return med_cli_usage (_ ("record start takes one booking id"));
  if (inputs == NULL || inputs[0] == NULL)
    return med_cli_usage (_ ("record start needs at least one --input URI"));
  if (duration < 0 || segment < 0 || segment > 3600)
    return med_cli_usage (_ ("--duration and --segment take positive seconds"));
  if (rtsp_port < 0 || rtsp_port > 65535)
    return med_cli_usage (_ ("--rtsp takes a port number"));
  if ((rtsp_mount || rtsp_address) && rtsp_port == 0)
    return med_cli_usage (
        _ ("--rtsp-mount and --rtsp-address need --rtsp PORT"));
  cfg.regime = MED_RECORDING_REGIME_MEDIATION;
  if (regime_s
      && !med_recording_regime_from_string (regime_s, &cfg.regime, &error))
    return med_cli_report (g_steal_pointer (&error));

  store = med_cli_open_store (g, &error);
  if (store == NULL)
    return med_cli_report (g_steal_pointer (&error));
  /* A recorder killed earlier leaves an unsealed manifest: seal it now. */
  if (!med_media_recover (store, g->actor, &n_recovered, &error))
    return med_cli_report (g_steal_pointer (&error));
  if (n_recovered > 0)
    g_printerr (P_ ("medsched: recovered %u interrupted recording\n",
                    "medsched: recovered %u interrupted recordings\n",
                    n_recovered),
        n_recovered);
  booking = med_store_get_booking (store, booking_id, &error);
  mcase = booking ? med_store_get_case (store, booking->case_id, &error) : NULL;
  centre
      = mcase ? med_store_get_centre (store, mcase->centre_id, &error) : NULL;
  if (centre == NULL)
    return med_cli_report (g_steal_pointer (&error));

  if (dir == NULL) {
    const char *root = g_getenv ("MEDSCHED_RECORDINGS");
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
    g_autofree char *leaf = g_strdup_printf ("booking-%" G_GINT64_FORMAT "-%s",
        booking_id, stamp);

    dir = g_build_filename (root && *root ? root : "recordings", leaf, NULL);
  }
  abs_dir = g_canonicalize_filename (dir, NULL);

  cfg.booking_id = booking_id;
  cfg.dir = abs_dir;
  cfg.inputs = (const char *const *) inputs;
  cfg.composite = composite || rtsp_port > 0;
  cfg.rtsp_port = (guint) rtsp_port;
  cfg.rtsp_mount = rtsp_mount;
  cfg.rtsp_address = rtsp_address;
  cfg.case_number = mcase->number;
  /* the room's name goes into the burned-in stamp */
  rooms = med_store_list_rooms (store, centre->id, &error);
  if (rooms == NULL)
    return med_cli_report (g_steal_pointer (&error));
  cfg.room = "";
  for (guint i = 0; i < rooms->len; i++) {
    MedRoom *r = g_ptr_array_index (rooms, i);

    if (r->id == booking->room_id)
      cfg.room = r->name;
  }
  cfg.zone = centre->zone;
  cfg.segment_ns = (guint64) segment * 1000000000u;
  cfg.actor = g->actor;
  session = med_session_new (store, &cfg, &error);
  if (session == NULL)
    return med_cli_report (g_steal_pointer (&error));

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.session = session;
  med_session_set_finished_func (session, session_finished_cb, &run);
  sig[0] = g_unix_signal_add (SIGINT, stop_signal_cb, &run);
  sig[1] = g_unix_signal_add (SIGTERM, stop_signal_cb, &run);
  sig[2] = g_unix_signal_add (SIGUSR1, pause_signal_cb, &run);
  sig[3] = g_unix_signal_add (SIGUSR2, resume_signal_cb, &run);
  if (!med_session_start (session, &error)) {
    /* The bus usually explains why: let it. */
    g_clear_error (&error);
  }
  if (duration > 0) {
    run.duration = (guint) duration;
    g_timeout_add (100, wait_for_media_cb, &run);
  }
  printf (_ ("recording %lld of booking %lld in %s\n"),
      (long long) med_session_get_recording_id (session),
      (long long) booking_id, abs_dir);
  if (med_session_get_playlist (session))
    printf (_ ("live stream (HLS): %s\n"), med_session_get_playlist (session));
  if (med_session_get_rtsp_url (session))
    printf (_ ("live stream (RTSP): %s\n"), med_session_get_rtsp_url (session));
  fflush (stdout);
  if (!med_session_is_finished (session))
    g_main_loop_run (loop);
  for (guint i = 0; i < G_N_ELEMENTS (sig); i++)
    g_source_remove (sig[i]);
  if (run.stop_timer)
    g_source_remove (run.stop_timer);
  if (!run.ok) {
    g_autofree char *why = g_steal_pointer (&run.why);

    return fail (_ ("recording %lld failed: %s"),
        (long long) med_session_get_recording_id (session),
        why ? why : _ ("unknown error"));
  }
  printf (_ ("sealed: %s/%s\n"), abs_dir, GST_MED_FINAL_NAME);
  return EXIT_OK;
}
#endif

static int
record_signal (MedCliGlobal *g, int argc, char **argv, int signo,
    const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedRecording) r = NULL;
  gint64 booking_id;
  int code;
  GOptionEntry entries[] = { { NULL } };
  g_autofree char *usage = g_strdup_printf ("record %s BOOKING", what);

  if (!med_cli_parse_options (usage,
          N_ ("Signal the process recording a booking."), entries, &argc, &argv,
          &code))
    return code;
  if (argc != 2 || !med_cli_parse_id (argv[1], &booking_id))
    return med_cli_usage (_ ("takes one booking id"));
  store = med_cli_open_store (g, &error);
  r = store ? find_live (store, booking_id, &error) : NULL;
  if (r == NULL)
    return med_cli_report (g_steal_pointer (&error));
  if (kill ((pid_t) r->pid, signo) != 0)
    return fail (_ ("cannot signal the recording process"));
  /* Wait for the running process to say it happened. */
  for (guint i = 0; i < STOP_WAIT_SECONDS * 10; i++) {
    g_autoptr (MedRecording) now = NULL;

    g_usleep (G_USEC_PER_SEC / 10);
    now = med_store_get_recording (store, r->id, &error);
    if (now == NULL)
      return med_cli_report (g_steal_pointer (&error));
    if (signo == SIGTERM && now->state != MED_RECORDING_RECORDING
        && now->state != MED_RECORDING_PAUSED) {
      printf (_ ("recording %lld %s\n"), (long long) now->id,
          med_recording_state_to_string (now->state));
      return now->state == MED_RECORDING_SEALED ? EXIT_OK : EXIT_FAILED;
    }
    if (signo != SIGTERM && now->state != r->state) {
      printf (_ ("recording %lld %s\n"), (long long) now->id,
          med_recording_state_to_string (now->state));
      return EXIT_OK;
    }
  }
  return fail (_ ("the recording process did not answer"));
}

int
med_cli_cmd_record_start (MedCliGlobal *g, int argc, char **argv)
{
#ifdef MEDSCHED_HAVE_MEDIA
  return record_start (g, argc, argv);
#else
  return no_media ();
#endif
}

int
med_cli_cmd_record_pause (MedCliGlobal *g, int argc, char **argv)
{
  return record_signal (g, argc, argv, SIGUSR1, "pause");
}

int
med_cli_cmd_record_resume (MedCliGlobal *g, int argc, char **argv)
{
  return record_signal (g, argc, argv, SIGUSR2, "resume");
}

int
med_cli_cmd_record_stop (MedCliGlobal *g, int argc, char **argv)
{
  return record_signal (g, argc, argv, SIGTERM, "stop");
}

int
med_cli_cmd_recording_list (MedCliGlobal *g, int argc, char **argv)
{
  gboolean json = FALSE;
  gint64 booking = 0;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("JSON output"), NULL },
          { "booking", 0, 0, G_OPTION_ARG_INT64, &booking,
              N_ ("Only this booking's recordings"), "ID" },
          { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GPtrArray) recs = NULL;
  int code;

  if (!med_cli_parse_options (N_ ("recording list"), N_ ("List recordings."),
          entries, &argc, &argv, &code))
    return code;
  store = med_cli_open_store (g, &error);
  recs = store ? med_store_list_recordings (store, booking, &error) : NULL;
  if (recs == NULL)
    return med_cli_report (g_steal_pointer (&error));
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_array (b);
    for (guint i = 0; i < recs->len; i++) {
      MedRecording *r = recs->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, r->id);
      json_builder_set_member_name (b, "booking_id");
      json_builder_add_int_value (b, r->booking_id);
      json_builder_set_member_name (b, "regime");
      json_builder_add_string_value (b,
          med_recording_regime_to_string (r->regime));
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b,
          med_recording_state_to_string (r->state));
      json_builder_set_member_name (b, "dir");
      json_builder_add_string_value (b, r->dir);
      json_builder_set_member_name (b, "head_hash");
      json_builder_add_string_value (b, r->head_hash);
      json_builder_set_member_name (b, "duration_ns");
      json_builder_add_int_value (b, (gint64) r->duration_ns);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, (gint64) r->bytes);
      json_builder_set_member_name (b, "segments");
      json_builder_add_int_value (b,
          med_store_count_recording_segments (store, r->id, NULL));
      json_builder_set_member_name (b, "failure");
      json_builder_add_string_value (b, r->failure);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    med_print_json (json_builder_get_root (b));
  } else {
    g_autoptr (MedTable) t
        = med_table_new (6, C_ ("column", "ID"), C_ ("column", "BOOKING"),
            C_ ("column", "REGIME"), C_ ("column", "STATE"),
            C_ ("column", "DURATION"), C_ ("column", "DIR"));

    for (guint i = 0; i < recs->len; i++) {
      MedRecording *r = recs->pdata[i];
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, r->id);
      g_autofree char *bk
          = g_strdup_printf ("%" G_GINT64_FORMAT, r->booking_id);
      g_autofree char *dur = g_strdup_printf ("%.1f s", r->duration_ns / 1e9);

      med_table_add (t, id, bk, med_recording_regime_to_string (r->regime),
          med_recording_state_to_string (r->state), dur, r->dir);
    }
    med_table_print (t, stdout);
  }
  return EXIT_OK;
}

static gboolean
get_recording_arg (MedCliGlobal *g, int argc, char **argv, MedStore **store,
    MedRecording **r, int *code)
{
  g_autoptr (GError) error = NULL;
  gint64 id;

  if (argc != 2 || !med_cli_parse_id (argv[1], &id)) {
    *code = med_cli_usage (_ ("takes one recording id"));
    return FALSE;
  }
  *store = med_cli_open_store (g, &error);
  *r = *store ? med_store_get_recording (*store, id, &error) : NULL;
  if (*r == NULL) {
    *code = med_cli_report (g_steal_pointer (&error));
    return FALSE;
  }
  return TRUE;
}

int
med_cli_cmd_recording_log (MedCliGlobal *g, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedRecording) r = NULL;
  g_autoptr (GPtrArray) log = NULL;
  g_autoptr (GError) error = NULL;
  int code;

  if (!med_cli_parse_options (N_ ("recording log ID"),
          N_ ("A recording's interruption log."), entries, &argc, &argv, &code)
      || !get_recording_arg (g, argc, argv, &store, &r, &code))
    return code;
  log = med_store_list_recording_log (store, r->id, &error);
  if (log == NULL)
    return med_cli_report (g_steal_pointer (&error));
  for (guint i = 0; i < log->len; i++) {
    MedRecordingLog *l = log->pdata[i];
    g_autoptr (GDateTime) at = g_date_time_new_from_unix_utc (l->at);
    g_autofree char *ts = g_date_time_format_iso8601 (at);

    printf ("%s %s%s%s\n", ts, med_recording_event_to_string (l->kind),
        *l->detail ? " " : "", l->detail);
  }
  return EXIT_OK;
}

int
med_cli_cmd_recording_verify (MedCliGlobal *g, int argc, char **argv)
{
#ifdef MEDSCHED_HAVE_MEDIA
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedRecording) r = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autofree char *manifest = NULL;
  GstMedManifestInfo info = { 0 };
  gboolean ok;
  int code;

  if (!med_cli_parse_options (N_ ("recording verify ID"),
          N_ ("Re-hash every segment and check the manifest's chain."), entries,
          &argc, &argv, &code)
      || !get_recording_arg (g, argc, argv, &store, &r, &code))
    return code;
  if (r->state == MED_RECORDING_PURGED)
    return fail (_ ("recording %lld was purged"), (long long) r->id);
  if (!med_service_recording_access (store, &ctx, r->id, "verify", &error))
    return med_cli_report (g_steal_pointer (&error));
  manifest = g_build_filename (r->dir, GST_MED_MANIFEST_NAME, NULL);
  if (!g_file_test (manifest, G_FILE_TEST_EXISTS))
    return fail (_ ("recording %lld (%s) has no manifest"), (long long) r->id,
        med_recording_state_to_string (r->state));
  ok = gst_med_manifest_verify_full (manifest, GST_MED_MANIFEST_VERIFY_NONE,
      &info, &error);
  if (ok && r->state == MED_RECORDING_SEALED
      && g_strcmp0 (info.head_hash, r->head_hash) != 0) {
    ok = FALSE;
    g_set_error (&error, MED_STORE_ERROR, MED_STORE_ERROR_AUDIT,
        _ ("the manifest's head hash differs from the one stored at the seal: "
           "the manifest was truncated or replaced"));
  }
  if (!ok) {
    printf (_ ("ALTERED: %s\n"), error->message);
    if (info.bad_file)
      printf (_ ("altered file: %s\n"), info.bad_file);
    gst_med_manifest_info_clear (&info);
    return EXIT_FAILED;
  }
  printf (_ ("ok: %u segments, %.1f s, %s, head %s\n"), info.n_segments,
      info.duration_ns / 1e9, info.sealed ? _ ("sealed") : _ ("not sealed"),
      info.head_hash);
  gst_med_manifest_info_clear (&info);
  return EXIT_OK;
#else
  return no_media ();
#endif
}

int
med_cli_cmd_recording_export (MedCliGlobal *g, int argc, char **argv)
{
#ifdef MEDSCHED_HAVE_MEDIA
  g_autofree char *out = NULL;
  GOptionEntry entries[] = { { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
                                 N_ ("Where to write the final file"), "FILE" },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (MedRecording) r = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  g_autoptr (GFile) src = NULL;
  g_autoptr (GFile) dst = NULL;
  g_autofree char *manifest = NULL;
  GstMedManifestInfo info = { 0 };
  int code;

  if (!med_cli_parse_options (N_ ("recording export ID -o FILE"),
          N_ ("Copy a sealed recording's final file."), entries, &argc, &argv,
          &code)
      || !get_recording_arg (g, argc, argv, &store, &r, &code))
    return code;
  if (out == NULL)
    return med_cli_usage (_ ("recording export needs -o FILE"));
  if (r->state != MED_RECORDING_SEALED)
    return fail (_ ("recording %lld is %s, not sealed"), (long long) r->id,
        med_recording_state_to_string (r->state));
  manifest = g_build_filename (r->dir, GST_MED_MANIFEST_NAME, NULL);
  if (!gst_med_manifest_verify_full (manifest,
          GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error)
      || info.final_file == NULL) {
    gst_med_manifest_info_clear (&info);
    if (error == NULL)
      return fail (_ ("recording has no final file"));
    return fail (_ ("will not export: %s"), error->message);
  }
  src = g_file_new_for_path (info.final_file);
  dst = g_file_new_for_path (out);
  gst_med_manifest_info_clear (&info);
  if (!med_service_recording_access (store, &ctx, r->id, "export", &error)
      || !g_file_copy (src, dst, G_FILE_COPY_NONE, NULL, NULL, NULL, &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (_ ("exported recording %lld to %s\n"), (long long) r->id, out);
  return EXIT_OK;
#else
  return no_media ();
#endif
}

int
med_cli_cmd_recording_purge (MedCliGlobal *g, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  guint n = 0;
  int code;

  if (!med_cli_parse_options (N_ ("recording purge"),
          N_ ("Delete the files of recordings past their retention."), entries,
          &argc, &argv, &code))
    return code;
  store = med_cli_open_store (g, &error);
  if (store == NULL || !med_service_purge_recordings (store, &ctx, &n, &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (P_ ("purged %u recording\n", "purged %u recordings\n", n), n);
  return EXIT_OK;
}

int
med_cli_cmd_recording_recover (MedCliGlobal *g, int argc, char **argv)
{
#ifdef MEDSCHED_HAVE_MEDIA
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;
  int code;

  if (!med_cli_parse_options (N_ ("recording recover"),
          N_ ("Seal the manifests of recorders that were killed."), entries,
          &argc, &argv, &code))
    return code;
  store = med_cli_open_store (g, &error);
  if (store == NULL || !med_media_recover (store, g->actor, &n, &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (P_ ("recovered %u recording\n", "recovered %u recordings\n", n), n);
  return EXIT_OK;
#else
  return no_media ();
#endif
}

int
med_cli_cmd_consent (MedCliGlobal *g, int argc, char **argv)
{
  gboolean given = FALSE, refused = FALSE;
  GOptionEntry entries[] = { { "given", 0, 0, G_OPTION_ARG_NONE, &given,
                                 N_ ("The party consents"), NULL },
    { "refused", 0, 0, G_OPTION_ARG_NONE, &refused,
        N_ ("The party refuses (or withdraws) consent"), NULL },
    { NULL } };
  g_autoptr (MedStore) store = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_cli_ctx (g);
  gint64 booking_id, party_id;
  int code;

  if (!med_cli_parse_options (N_ ("consent BOOKING PARTY_ID --given|--refused"),
          N_ ("Record a party's consent to the session being recorded."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 3 || !med_cli_parse_id (argv[1], &booking_id)
      || !med_cli_parse_id (argv[2], &party_id) || given == refused)
    return med_cli_usage (
        _ ("consent takes BOOKING PARTY_ID and one of --given, --refused"));
  store = med_cli_open_store (g, &error);
  if (store == NULL
      || !med_service_set_consent (store, &ctx, booking_id, party_id, given,
          &error))
    return med_cli_report (g_steal_pointer (&error));
  printf (_ ("consent of party %lld for booking %lld: %s\n"),
      (long long) party_id, (long long) booking_id,
      given ? _ ("given") : _ ("refused"));
  return EXIT_OK;
}
