/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-two-sessions.c — two MedSessions in one process on one main loop:
 * one records test://av, the other points at an unreachable RTSP camera.
 * The bad one must end failed (its row says why) while the good one keeps
 * recording and seals after stop. Used by test-media.py.
 *
 * usage: med-two-sessions DB BOOKING DIR_GOOD DIR_BAD
 * Prints "good sealed" / "bad failed: …" and exits 0 when both happened. */
#include <medsched/med-media.h>

#include <stdio.h>
#include <stdlib.h>

typedef struct
{
  GMainLoop *loop;
  MedSession *good, *bad;
  gboolean good_ok, bad_failed, good_ended;
} Run;

static void
finished_cb (MedSession *s, const GError *error, gpointer user_data)
{
  Run *run = user_data;

  if (s == run->bad) {
    run->bad_failed = error != NULL;
    printf ("bad %s: %s\n", error ? "failed" : "sealed",
        error ? error->message : "");
    /* The other session is still recording. */
    printf ("good still running: %s\n",
        med_session_is_finished (run->good) ? "no" : "yes");
  } else {
    run->good_ok = error == NULL;
    run->good_ended = TRUE;
    printf ("good %s\n", error ? error->message : "sealed");
    g_main_loop_quit (run->loop);
  }
  fflush (stdout);
}

static gboolean
stop_cb (gpointer user_data)
{
  Run *run = user_data;

  med_session_stop (run->good);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedStore) store = NULL;
  const char *good_in[] = { "test://av", NULL };
  const char *bad_in[] = { "rtsp://127.0.0.1:9/none", NULL };
  MedSessionConfig cg = { 0 }, cb = { 0 };
  Run run = { 0 };

  if (argc != 5)
    return 2;
  store = med_store_open_existing (argv[1], &error);
  if (store == NULL || !med_media_init (&error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  cg.booking_id = cb.booking_id = g_ascii_strtoll (argv[2], NULL, 10);
  cg.regime = cb.regime = MED_RECORDING_REGIME_HEARING;
  cg.dir = argv[3];
  cb.dir = argv[4];
  cg.inputs = good_in;
  cb.inputs = bad_in;
  cg.segment_ns = cb.segment_ns = 2 * G_GUINT64_CONSTANT (1000000000);
  cg.actor = cb.actor = "test";
  run.loop = g_main_loop_new (NULL, FALSE);
  run.good = med_session_new (store, &cg, &error);
  run.bad = run.good ? med_session_new (store, &cb, &error) : NULL;
  if (run.bad == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  med_session_set_finished_func (run.good, finished_cb, &run);
  med_session_set_finished_func (run.bad, finished_cb, &run);
  med_session_start (run.good, NULL);
  med_session_start (run.bad, NULL);
  g_timeout_add_seconds (8, stop_cb, &run);
  g_main_loop_run (run.loop);
  med_session_free (run.bad);
  med_session_free (run.good);
  g_main_loop_unref (run.loop);
  return run.good_ok && run.bad_failed ? 0 : 1;
}
