/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-rtsp-server.c — a stand-in RTSP camera for the media tests: serves
 * live test media at rtsp://127.0.0.1:PORT/MOUNT until killed:
 *   /cam     H.264 video (640×360)
 *   /av      H.264 video + Opus audio (what a room terminal sends)
 *   /aac     H.264 video + AAC audio (what an IP camera sends)
 *   /resize  H.264 video that changes from 640×360 to 320×180 after 3 s
 * Each mount is shared: every client sees the same live stream. */
#include <gst/rtsp-server/rtsp-server.h>
#include <stdlib.h>

#define VIDEO                                                                  \
  "videotestsrc is-live=true pattern=ball ! "                                  \
  "video/x-raw,width=640,height=360,framerate=30/1,format=I420 ! "             \
  "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "          \
  "rtph264pay name=pay0 pt=96 config-interval=-1 "

#define AUDIO_SRC                                                              \
  "audiotestsrc is-live=true wave=ticks volume=0.3 ! "                         \
  "audio/x-raw,rate=48000,channels=2 ! audioconvert ! audioresample ! "

static gboolean
shrink_cb (gpointer user_data)
{
  GstElement *caps = user_data;
  GstCaps *small = gst_caps_from_string (
      "video/x-raw,width=320,height=180,framerate=30/1,format=I420");

  g_object_set (caps, "caps", small, NULL);
  gst_caps_unref (small);
  return G_SOURCE_REMOVE;
}

/* /resize: 3 s after the media is built, its size changes. */
static void
resize_configure_cb (GstRTSPMediaFactory *factory, GstRTSPMedia *media,
    gpointer user_data)
{
  GstElement *bin = gst_rtsp_media_get_element (media);
  GstElement *caps = gst_bin_get_by_name (GST_BIN (bin), "size");

  if (caps != NULL)
    g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, 3, shrink_cb, caps,
        gst_object_unref);
  gst_object_unref (bin);
}

static void
mount (GstRTSPMountPoints *mounts, const char *path, const char *launch)
{
  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new ();

  gst_rtsp_media_factory_set_launch (factory, launch);
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  if (g_str_equal (path, "/resize"))
    g_signal_connect (factory, "media-configure",
        G_CALLBACK (resize_configure_cb), NULL);
  gst_rtsp_mount_points_add_factory (mounts, path, factory);
}

int
main (int argc, char **argv)
{
  GstRTSPServer *server;
  GstRTSPMountPoints *mounts;
  GMainLoop *loop;

  gst_init (&argc, &argv);
  if (argc != 2) {
    g_printerr ("usage: med-rtsp-server PORT\n");
    return 2;
  }
  loop = g_main_loop_new (NULL, FALSE);
  server = gst_rtsp_server_new ();
  g_object_set (server, "service", argv[1], "address", "127.0.0.1", NULL);
  mounts = gst_rtsp_server_get_mount_points (server);
  mount (mounts, "/cam", "( " VIDEO ")");
  mount (mounts, "/av",
      "( " VIDEO AUDIO_SRC "opusenc ! rtpopuspay name=pay1 pt=97 )");
  mount (mounts, "/aac",
      "( " VIDEO AUDIO_SRC "avenc_aac ! rtpmp4gpay name=pay1 pt=97 )");
  mount (mounts, "/resize",
      "( videotestsrc is-live=true pattern=ball ! videoscale ! "
      "capsfilter name=size "
      "caps=video/x-raw,width=640,height=360,framerate=30/1,format=I420 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "
      "rtph264pay name=pay0 pt=96 config-interval=-1 )");
  g_object_unref (mounts);
  if (gst_rtsp_server_attach (server, NULL) == 0) {
    g_printerr ("cannot listen on port %s\n", argv[1]);
    return 1;
  }
  g_main_loop_run (loop);
  return 0;
}
