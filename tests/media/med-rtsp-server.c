/* med-rtsp-server.c — a stand-in RTSP camera for the media tests: serves
 * live H.264 test video at rtsp://127.0.0.1:PORT/cam until killed. */
#include <gst/rtsp-server/rtsp-server.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  GstRTSPServer *server;
  GstRTSPMountPoints *mounts;
  GstRTSPMediaFactory *factory;
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
  factory = gst_rtsp_media_factory_new ();
  gst_rtsp_media_factory_set_launch (factory,
      "( videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,width=640,height=360,framerate=30/1,format=I420 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "
      "rtph264pay name=pay0 pt=96 config-interval=-1 )");
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  gst_rtsp_mount_points_add_factory (mounts, "/cam", factory);
  g_object_unref (mounts);
  if (gst_rtsp_server_attach (server, NULL) == 0) {
    g_printerr ("cannot listen on port %s\n", argv[1]);
    return 1;
  }
  g_main_loop_run (loop);
  return 0;
}
