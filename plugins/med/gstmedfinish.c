/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedfinish.c — the offline half of a recording (gstmedfinish.h): the
 * final seekable file made from a finished recording's segments, and the
 * manifest's seal. Runs on whatever thread calls it, with pipelines of its
 * own; nothing here touches the live recording's pipeline. */
#include "gstmedfinish.h"

#include <errno.h>

#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (gst_med_finish_debug);
#define GST_CAT_DEFAULT gst_med_finish_debug

/* How often the remux loop looks at the cancel flag. */
#define REMUX_POLL (100 * GST_MSECOND)

/* The final file. The segments already carry the session's running time,
 * so they are read one after the other (filesrc → matroskademux →
 * appsink) and every buffer goes, timestamps untouched, into one
 * matroskamux through an appsrc per track: a stream that stopped inside a
 * segment (a camera that dropped) leaves a gap in its track, and nothing
 * overlaps. (splitmuxsrc places each segment right after the earliest
 * ending stream of the previous one, which made later segments overlap and
 * timestamps go back in that case.) */
typedef struct
{
  GstElement *pipeline; /* the output: appsrc… → matroskamux → filesink */
  GstElement *mux;
  GMutex lock;
  GHashTable *srcs; /* demuxer pad name → appsrc (the pipeline's) */
  gboolean building; /* first segment: tracks become appsrcs */
} Remux;

static void
remux_sample_to (Remux *rx, const gchar *name, GstSample *sample)
{
  GstElement *src;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstFlowReturn ret;

  g_mutex_lock (&rx->lock);
  src = g_hash_table_lookup (rx->srcs, name);
  if (src != NULL && buf != NULL)
    g_signal_emit_by_name (src, "push-buffer", buf, &ret);
  g_mutex_unlock (&rx->lock);
}

static GstFlowReturn
remux_sample_cb (GstElement *sink, gpointer user_data)
{
  GstSample *sample = NULL;

  g_signal_emit_by_name (sink, "pull-sample", &sample);
  if (sample == NULL)
    return GST_FLOW_EOS;
  remux_sample_to (user_data, GST_ELEMENT_NAME (sink), sample);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

/* A track of the first segment: an appsrc with its caps and a muxer pad,
 * before any data flows (matroskamux writes its headers once). */
static void
remux_add_track (Remux *rx, const gchar *name, GstCaps *caps)
{
  const gchar *templ = g_str_has_prefix (name, "video") ? "video_%u"
      : g_str_has_prefix (name, "audio")                ? "audio_%u"
                                                        : "subtitle_%u";
  GstElement *src = gst_element_factory_make ("appsrc", NULL);
  g_autoptr (GstPad) src_pad = NULL;
  g_autoptr (GstPad) mux_pad = NULL;

  if (src == NULL)
    return;
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, "block", FALSE,
      "max-bytes", (guint64) 0, NULL);
  gst_bin_add (GST_BIN (rx->pipeline), src);
  src_pad = gst_element_get_static_pad (src, "src");
  mux_pad = gst_element_request_pad_simple (rx->mux, templ);
  if (mux_pad == NULL || gst_pad_link (src_pad, mux_pad) != GST_PAD_LINK_OK) {
    GST_WARNING_OBJECT (rx->mux, "could not link %s", name);
    return;
  }
  g_hash_table_insert (rx->srcs, g_strdup (name), src);
}

static void
remux_pad_added_cb (GstElement *demux, GstPad *pad, gpointer user_data)
{
  Remux *rx = user_data;
  GstObject *parent = gst_object_get_parent (GST_OBJECT (demux));
  GstElement *sink = gst_element_factory_make ("appsink", GST_PAD_NAME (pad));
  g_autoptr (GstPad) sink_pad = NULL;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);

  if (sink == NULL || parent == NULL) {
    gst_clear_object (&sink);
    gst_clear_object (&parent);
    return;
  }
  /* not async: one demuxer thread feeds every sink, and a sink waiting to
   * preroll would block the others */
  g_object_set (sink, "sync", FALSE, "async", FALSE, "emit-signals", TRUE,
      NULL);
  g_signal_connect (sink, "new-sample", G_CALLBACK (remux_sample_cb), rx);
  gst_bin_add (GST_BIN (parent), sink);
  sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sink_pad);
  gst_element_sync_state_with_parent (sink);
  g_mutex_lock (&rx->lock);
  if (rx->building && caps != NULL
      && !g_hash_table_contains (rx->srcs, GST_PAD_NAME (pad)))
    remux_add_track (rx, GST_PAD_NAME (pad), caps);
  g_mutex_unlock (&rx->lock);
  gst_object_unref (parent);
}

/* matroskademux added every track's pad (before any data). */
static void
remux_no_more_pads_cb (GstElement *demux, gpointer user_data)
{
  gst_element_post_message (demux,
      gst_message_new_application (GST_OBJECT (demux),
          gst_structure_new_empty ("medrecorder-tracks")));
}

/* Waits for one of @types on @pipeline's bus, looking at the cancel flag
 * meanwhile. Returns the message (transfer full) or NULL with @error. */
static GstMessage *
remux_wait (gint *cancel, GstElement *pipeline, GstMessageType types,
    GError **error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);

  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, REMUX_POLL,
        types | GST_MESSAGE_ERROR);

    if (cancel != NULL && g_atomic_int_get (cancel)) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
          "stopped while remuxing");
      if (msg)
        gst_message_unref (msg);
      return NULL;
    }
    if (msg == NULL)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      g_set_error (error, err->domain, err->code, "%s (%s)", err->message,
          GST_STR_NULL (debug));
      gst_message_unref (msg);
      return NULL;
    }
    return msg;
  }
}

/* Reads one segment into the output. The first one's tracks are all known
 * (no-more-pads) before the output starts, so that every track has its
 * muxer pad in time. */
static gboolean
remux_read_segment (gint *cancel, Remux *rx, const gchar *path, gboolean first,
    GError **error)
{
  g_autoptr (GstElement) reader
      = gst_object_ref_sink (gst_pipeline_new ("medrecorder-read"));
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *demux = gst_element_factory_make ("matroskademux", NULL);
  GstMessage *msg = NULL;
  gboolean ok = FALSE;

  if (src == NULL || demux == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "filesrc or matroskademux is missing");
    gst_clear_object (&src);
    gst_clear_object (&demux);
    return FALSE;
  }
  g_object_set (src, "location", path, NULL);
  g_signal_connect (demux, "pad-added", G_CALLBACK (remux_pad_added_cb), rx);
  g_signal_connect (demux, "no-more-pads", G_CALLBACK (remux_no_more_pads_cb),
      NULL);
  gst_bin_add_many (GST_BIN (reader), src, demux, NULL);
  gst_element_link (src, demux);

  if (first) {
    rx->building = TRUE;
    gst_element_set_state (reader, GST_STATE_PAUSED);
    msg = remux_wait (cancel, reader, GST_MESSAGE_APPLICATION, error);
    g_mutex_lock (&rx->lock);
    rx->building = FALSE;
    g_mutex_unlock (&rx->lock);
    if (msg == NULL)
      goto out;
    gst_message_unref (msg);
    if (gst_element_set_state (rx->pipeline, GST_STATE_PLAYING)
        == GST_STATE_CHANGE_FAILURE) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
          "the remux output did not start");
      goto out;
    }
  }
  if (gst_element_set_state (reader, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "cannot read segment %s", path);
    goto out;
  }
  msg = remux_wait (cancel, reader, GST_MESSAGE_EOS, error);
  if (msg == NULL)
    goto out;
  gst_message_unref (msg);
  ok = TRUE;
out:
  gst_element_set_state (reader, GST_STATE_NULL);
  return ok;
}

/* Remuxes the closed segments into @out_path without re-encoding.
 * Writes a temporary file and renames it when complete. */
static gboolean
remux_segments (GPtrArray *files, const gchar *out_path, gint *cancel,
    GstClockTime *duration, GError **error)
{
  g_autofree gchar *part = g_strconcat (out_path, ".part", NULL);
  Remux rx = { 0 };
  GstElement *sink = gst_element_factory_make ("filesink", NULL);
  gboolean ok = TRUE;
  gint64 dur = -1;

  rx.pipeline = gst_object_ref_sink (gst_pipeline_new ("medrecorder-remux"));
  rx.mux = gst_element_factory_make ("matroskamux", NULL);
  g_mutex_init (&rx.lock);
  rx.srcs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (rx.mux == NULL || sink == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "matroskamux or filesink is missing");
    gst_clear_object (&rx.mux);
    gst_clear_object (&sink);
    ok = FALSE;
  } else {
    g_object_set (rx.mux, "writing-app", "medsched medrecorder", NULL);
    g_object_set (sink, "location", part, NULL);
    gst_bin_add_many (GST_BIN (rx.pipeline), rx.mux, sink, NULL);
    gst_element_link (rx.mux, sink);
  }
  for (guint i = 0; ok && i < files->len; i++)
    ok = remux_read_segment (cancel, &rx, g_ptr_array_index (files, i), i == 0,
        error);
  if (ok && g_hash_table_size (rx.srcs) == 0) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DEMUX,
        "the segments hold no track");
    ok = FALSE;
  }
  if (ok) {
    GHashTableIter it;
    gpointer src;
    GstMessage *msg;

    g_hash_table_iter_init (&it, rx.srcs);
    while (g_hash_table_iter_next (&it, NULL, &src)) {
      GstFlowReturn ret;

      g_signal_emit_by_name (src, "end-of-stream", &ret);
    }
    msg = remux_wait (cancel, rx.pipeline, GST_MESSAGE_EOS, error);
    ok = msg != NULL;
    if (msg)
      gst_message_unref (msg);
    if (ok)
      gst_element_query_duration (rx.pipeline, GST_FORMAT_TIME, &dur);
  }
  gst_element_set_state (rx.pipeline, GST_STATE_NULL);
  gst_object_unref (rx.pipeline);
  g_hash_table_unref (rx.srcs);
  g_mutex_clear (&rx.lock);

  if (ok && g_rename (part, out_path) != 0) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "cannot rename %s: %s", part, g_strerror (errno));
    ok = FALSE;
  }
  if (!ok)
    g_unlink (part);
  else if (duration && dur >= 0)
    *duration = dur;
  return ok;
}

gboolean
gst_med_recording_finish (const gchar *manifest_path, const gchar *final_name,
    gint *cancel, GstMedManifestInfo *info, GError **remux_error,
    GError **error)
{
  static gsize debug_once = 0;
  g_autoptr (GstMedManifest) m = NULL;
  GstMedManifestInfo read = { 0 };
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *final_path = NULL;
  g_autoptr (GError) local = NULL;
  GstClockTime duration;
  gboolean have_final = FALSE, ok;

  g_return_val_if_fail (manifest_path != NULL, FALSE);
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (gst_med_finish_debug, "medfinish", 0,
        "medsched recording finish (remux and seal)");
    g_once_init_leave (&debug_once, 1);
  }
  m = gst_med_manifest_open (manifest_path, error);
  if (m == NULL)
    return FALSE;
  if (gst_med_manifest_is_sealed (m)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_SEALED,
        "%s is sealed already", manifest_path);
    return FALSE;
  }
  if (!gst_med_manifest_verify_full (manifest_path,
          GST_MED_MANIFEST_VERIFY_CHAIN_ONLY, &read, error)) {
    gst_med_manifest_info_clear (&read);
    return FALSE;
  }
  duration = read.duration_ns;
  for (guint i = 0; read.segments && i < read.segments->len; i++) {
    GstMedManifestSegment *s = read.segments->pdata[i];

    if (s->complete)
      g_ptr_array_add (files, g_build_filename (read.media_dir, s->file, NULL));
  }
  if (final_name != NULL && final_name[0] != '\0' && files->len > 0)
    final_path = g_build_filename (read.media_dir, final_name, NULL);
  gst_med_manifest_info_clear (&read);

  if (final_path != NULL) {
    have_final = remux_segments (files, final_path, cancel, &duration, &local);
    if (!have_final) {
      GST_WARNING ("%s: no final file: %s", manifest_path, local->message);
      if (remux_error)
        *remux_error = g_steal_pointer (&local);
    }
  }
  ok = gst_med_manifest_seal (m, have_final ? final_path : NULL, duration,
      cancel != NULL && g_atomic_int_get (cancel) ? "stopped while finishing"
                                                  : "complete",
      NULL, error);
  if (ok && info != NULL)
    ok = gst_med_manifest_verify_full (manifest_path,
        GST_MED_MANIFEST_VERIFY_CHAIN_ONLY, info, error);
  return ok;
}
