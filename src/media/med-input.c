/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-input.c — a session's inputs: strict URI checking and building each
 * input's elements.
 *
 * Accepted URIs (anything else is refused before GStreamer sees it):
 *   rtsp://[user:pass@]host[:port]/path   rtspsrc → rtph264depay → h264parse
 *                                         (+ rtpopusdepay/rtpmp4gdepay audio)
 *   srt://host:port[?mode=caller|listener] srtsrc → parsebin (H.264, AAC/Opus)
 *   file:///absolute/path                 filesrc → parsebin (H.264, AAC/Opus)
 *   v4l2:///dev/videoN                    v4l2src → x264enc → h264parse
 *   test://video[?pattern=P]              videotestsrc → x264enc (a camera)
 *   test://av[?pattern=P]                 + audiotestsrc → opusenc
 * Printable ASCII only (no spaces or control characters), at most 1024
 * bytes, no "..", no fragments. Credentials in rtsp URIs are passed to
 * rtspsrc but never logged: logs and the store see the redacted form
 * scheme://host[:port]/path.
 *
 * The audio chain of rtsp/srt/file inputs is built when its pad appears
 * (streaming thread), before the session's gates let data through.
 *
 * With --composite, the video of rtsp/srt/file inputs is also decoded
 * (avdec_h264) for the grid after its parser, past the session's gate
 * there; the recorded stream is the same either way. Without a composite
 * nothing is decoded.
 *
 * Remote inputs (rtsp, srt) that fail (or end their stream) after
 * delivering media are restarted with exponential back-off (1 s doubling
 * to 30 s); the drop, each restart and the return are logged in the
 * recording's interruption log. */
#define G_LOG_DOMAIN "medsched-media"

#include "med-media-private.h"

#include <string.h>

#include <gst/video/video.h>

/* After a dynamic input's video pad, how long an audio pad may take. */
#define AUDIO_WAIT_MS 1000

static const char *const test_patterns[] = { "smpte", "snow", "black", "white",
  "red", "green", "blue", "checkers-1", "checkers-2", "checkers-4",
  "checkers-8", "circular", "blink", "smpte75", "zone-plate", "gamut",
  "chroma-zone-plate", "solid-color", "ball", "smpte100", "bar", "pinwheel",
  "spokes", "gradient", "colors", NULL };

gboolean
med_media_init (GError **error)
{
  static gsize done = 0;
  static gboolean ok = FALSE;
  static char *why = NULL;

  if (g_once_init_enter (&done)) {
    GError *err = NULL;

    ok = gst_init_check (NULL, NULL, &err);
    if (!ok) {
      why = g_strdup (err->message);
      g_error_free (err);
    } else if (gst_element_factory_find ("medrecorder") == NULL) {
      ok = FALSE;
      why = g_strdup ("the medsched GStreamer plugin (medrecorder) is not "
                      "installed or not on GST_PLUGIN_PATH");
    }
    g_once_init_leave (&done, 1);
  }
  if (!ok)
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_MISSING,
        "GStreamer is not usable: %s", why);
  return ok;
}

static gboolean
uri_error (GError **error, const char *msg)
{
  g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_URI, "bad input URI: %s",
      msg);
  return FALSE;
}

/* The pattern of test://KIND[?pattern=P], or NULL with error. */
static gboolean
check_test (const char *rest, gboolean *av, const char **pattern,
    GError **error)
{
  const char *q = strchr (rest, '?');
  g_autofree char *kind = q ? g_strndup (rest, q - rest) : g_strdup (rest);

  if (strcmp (kind, "video") == 0)
    *av = FALSE;
  else if (strcmp (kind, "av") == 0)
    *av = TRUE;
  else
    return uri_error (error, "test:// takes “video” or “av”");
  *pattern = "smpte";
  if (q != NULL) {
    if (!g_str_has_prefix (q, "?pattern="))
      return uri_error (error, "test:// takes only ?pattern=NAME");
    for (guint i = 0; test_patterns[i]; i++)
      if (strcmp (q + 9, test_patterns[i]) == 0)
        *pattern = test_patterns[i];
    if (strcmp (*pattern, q + 9) != 0)
      return uri_error (error, "unknown test pattern");
  }
  return TRUE;
}

gboolean
med_media_check_uri (const char *uri, char **redacted, GError **error)
{
  gsize len;

  if (uri == NULL || *uri == '\0')
    return uri_error (error, "empty");
  len = strlen (uri);
  if (len > 1024)
    return uri_error (error, "longer than 1024 bytes");
  for (gsize i = 0; i < len; i++)
    if ((guchar) uri[i] <= 0x20 || (guchar) uri[i] >= 0x7f)
      return uri_error (error,
          "control characters, spaces and non-ASCII bytes are not allowed");
  if (strstr (uri, "..") != NULL || strchr (uri, '#') != NULL)
    return uri_error (error, "“..” and fragments are not allowed");

  if (g_str_has_prefix (uri, "test://")) {
    gboolean av;
    const char *pattern;

    if (!check_test (uri + 7, &av, &pattern, error))
      return FALSE;
    if (redacted)
      *redacted = g_strdup (uri);
    return TRUE;
  }
  if (g_str_has_prefix (uri, "v4l2://")) {
    const char *dev = uri + 7;
    gsize n;

    if (!g_str_has_prefix (dev, "/dev/video"))
      return uri_error (error, "v4l2:// takes /dev/videoN");
    n = strspn (dev + 10, "0123456789");
    if (n < 1 || n > 3 || dev[10 + n] != '\0')
      return uri_error (error, "v4l2:// takes /dev/videoN");
    if (redacted)
      *redacted = g_strdup (uri);
    return TRUE;
  }
  if (g_str_has_prefix (uri, "file://")) {
    g_autofree char *path = g_filename_from_uri (uri, NULL, NULL);

    if (path == NULL || !g_path_is_absolute (path) || strchr (uri, '?'))
      return uri_error (error, "file:// takes an absolute path");
    if (redacted)
      *redacted = g_strdup (uri);
    return TRUE;
  }
  if (g_str_has_prefix (uri, "rtsp://") || g_str_has_prefix (uri, "srt://")) {
    g_autoptr (GUri) u = g_uri_parse (uri, G_URI_FLAGS_HAS_PASSWORD, NULL);
    gboolean srt = uri[0] == 's';

    if (u == NULL || g_uri_get_host (u) == NULL || *g_uri_get_host (u) == '\0')
      return uri_error (error,
          srt ? "srt:// needs host:port" : "rtsp:// needs a host");
    if (srt) {
      const char *q = g_uri_get_query (u);

      if (g_uri_get_port (u) <= 0)
        return uri_error (error, "srt:// needs host:port");
      if (g_uri_get_user (u) != NULL)
        return uri_error (error, "srt:// takes no user");
      if (q != NULL && strcmp (q, "mode=caller") != 0
          && strcmp (q, "mode=listener") != 0)
        return uri_error (error, "srt:// takes only ?mode=caller|listener");
    } else if (g_uri_get_query (u) != NULL
        && strlen (g_uri_get_query (u)) > 256) {
      return uri_error (error, "query too long");
    }
    if (redacted) {
      if (g_uri_get_port (u) > 0)
        *redacted = g_strdup_printf ("%s://%s:%d%s", g_uri_get_scheme (u),
            g_uri_get_host (u), g_uri_get_port (u), g_uri_get_path (u));
      else
        *redacted = g_strdup_printf ("%s://%s%s", g_uri_get_scheme (u),
            g_uri_get_host (u), g_uri_get_path (u));
    }
    return TRUE;
  }
  return uri_error (error,
      "only rtsp://, srt://, v4l2://, file:// and test:// inputs are allowed");
}

/* ---- building ----------------------------------------------------------- */

static GstElement *
add (MedInput *in, const char *factory, const char *role, GError **error)
{
  g_autofree char *name = g_strdup_printf ("in%u-%s", in->index, role);
  GstElement *e = gst_element_factory_make (factory, name);

  if (e == NULL) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_MISSING,
        "GStreamer element %s is not installed", factory);
    return NULL;
  }
  gst_bin_add (GST_BIN (in->pipeline), e);
  return e;
}

static gboolean
link_all (GError **error, GstElement *first, ...)
{
  va_list ap;
  GstElement *prev = first, *e;
  gboolean ok = TRUE;

  va_start (ap, first);
  while (ok && (e = va_arg (ap, GstElement *)) != NULL) {
    if (!gst_element_link (prev, e)) {
      g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_FAILED,
          "cannot link %s to %s", GST_ELEMENT_NAME (prev),
          GST_ELEMENT_NAME (e));
      ok = FALSE;
    }
    prev = e;
  }
  va_end (ap);
  return ok;
}

static GstPadProbeReturn
flowed_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MedInput *in = user_data;

  /* Stays installed: two atomic stores per buffer. */
  g_atomic_int_set (&in->flowed, TRUE);
  g_atomic_int_set (&in->fresh, TRUE);
  return GST_PAD_PROBE_OK;
}

/* Raw video → (tee for the composite) → x264enc → h264parse. */
static gboolean
build_encode (MedInput *in, GstElement *raw, gboolean composite, GError **error)
{
  GstElement *conv, *fmt, *enc, *parse;
  g_autoptr (GstCaps) i420 = gst_caps_new_simple ("video/x-raw", "format",
      G_TYPE_STRING, "I420", NULL);

  if (composite) {
    GstElement *tee = add (in, "tee", "rawtee", error);
    GstElement *q = tee ? add (in, "queue", "encq", error) : NULL;

    if (q == NULL || !link_all (error, raw, tee, q, NULL))
      return FALSE;
    in->raw_video = tee;
    raw = q;
  }
  conv = add (in, "videoconvert", "conv", error);
  fmt = conv ? add (in, "capsfilter", "i420", error) : NULL;
  enc = fmt ? add (in, "x264enc", "enc", error) : NULL;
  parse = enc ? add (in, "h264parse", "parse", error) : NULL;
  if (parse == NULL)
    return FALSE;
  /* 4:2:0, which every player (and browser) decodes. */
  g_object_set (fmt, "caps", i420, NULL);
  gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
  gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "ultrafast");
  /* A keyframe every half second (15 frames at 30/s): the recorder keeps
   * the picture group it is collecting in memory until the next keyframe
   * (splitmuxsink), so a killed process loses at most about that much
   * (BENCHMARKS.md, kill -9; a 1 s group lost up to 1.07 s). A camera's
   * own picture groups bound its loss the same way. */
  g_object_set (enc, "key-int-max", 15, "bitrate", 1500, NULL);
  if (!link_all (error, raw, conv, fmt, enc, parse, NULL))
    return FALSE;
  in->video_out = parse;
  return TRUE;
}

static gboolean
build_test (MedInput *in, const char *uri, gboolean composite, GError **error)
{
  gboolean av;
  const char *pattern;
  GstElement *src, *caps;
  g_autoptr (GstCaps) vcaps
      = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, 640, "height",
          G_TYPE_INT, 360, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);

  if (!check_test (uri + 7, &av, &pattern, error))
    return FALSE;
  src = add (in, "videotestsrc", "src", error);
  caps = src ? add (in, "capsfilter", "caps", error) : NULL;
  if (caps == NULL)
    return FALSE;
  gst_util_set_object_arg (G_OBJECT (src), "pattern", pattern);
  g_object_set (src, "is-live", TRUE, NULL);
  g_object_set (caps, "caps", vcaps, NULL);
  in->source = src;
  if (!link_all (error, src, caps, NULL)
      || !build_encode (in, caps, composite, error))
    return FALSE;
  if (av) {
    GstElement *asrc, *acaps, *conv, *enc, *parse;
    g_autoptr (GstCaps) ac = gst_caps_new_simple ("audio/x-raw", "rate",
        G_TYPE_INT, 48000, "channels", G_TYPE_INT, 2, NULL);

    asrc = add (in, "audiotestsrc", "asrc", error);
    acaps = asrc ? add (in, "capsfilter", "acaps", error) : NULL;
    conv = acaps ? add (in, "audioconvert", "aconv", error) : NULL;
    enc = conv ? add (in, "opusenc", "aenc", error) : NULL;
    parse = enc ? add (in, "opusparse", "aparse", error) : NULL;
    if (parse == NULL)
      return FALSE;
    g_object_set (asrc, "is-live", TRUE, "volume", 0.3, NULL);
    gst_util_set_object_arg (G_OBJECT (asrc), "wave", "ticks");
    g_object_set (acaps, "caps", ac, NULL);
    if (composite) {
      GstElement *tee = add (in, "tee", "atee", error);
      GstElement *q = tee ? add (in, "queue", "aencq", error) : NULL;

      if (q == NULL
          || !link_all (error, asrc, acaps, tee, q, conv, enc, parse, NULL))
        return FALSE;
      in->raw_audio = tee;
    } else if (!link_all (error, asrc, acaps, conv, enc, parse, NULL)) {
      return FALSE;
    }
    in->audio_out = parse;
  }
  return TRUE;
}

static gboolean
build_v4l2 (MedInput *in, const char *uri, gboolean composite, GError **error)
{
  GstElement *src = add (in, "v4l2src", "src", error);
  GstElement *conv = src ? add (in, "videoconvert", "camconv", error) : NULL;

  if (conv == NULL)
    return FALSE;
  g_object_set (src, "device", uri + 7, NULL);
  in->source = src;
  return link_all (error, src, conv, NULL)
      && build_encode (in, conv, composite, error);
}

/* The depayloader (or, after parsebin, a pass-through) and parser for an
 * audio stream we record untouched, or FALSE for one we do not. */
static gboolean
audio_chain_for (const GstStructure *st, const char **depay, const char **parse)
{
  const char *enc = gst_structure_get_string (st, "encoding-name");
  const char *media = gst_structure_get_string (st, "media");

  if (gst_structure_has_name (st, "application/x-rtp")) {
    if (enc == NULL || media == NULL || strcmp (media, "audio") != 0)
      return FALSE;
    if (g_ascii_strcasecmp (enc, "OPUS") == 0) {
      *depay = "rtpopusdepay";
      *parse = "opusparse";
    } else if (g_ascii_strcasecmp (enc, "MPEG4-GENERIC") == 0) {
      *depay = "rtpmp4gdepay";
      *parse = "aacparse";
    } else if (g_ascii_strcasecmp (enc, "MP4A-LATM") == 0) {
      *depay = "rtpmp4adepay";
      *parse = "aacparse";
    } else {
      return FALSE;
    }
    return TRUE;
  }
  *depay = "identity";
  if (gst_structure_has_name (st, "audio/x-opus")) {
    *parse = "opusparse";
    return TRUE;
  }
  if (gst_structure_has_name (st, "audio/mpeg")) {
    /* AAC (MPEG-2 or -4); parsebin's pads may not be fixed yet */
    g_autoptr (GstCaps) aac
        = gst_caps_from_string ("audio/mpeg, mpegversion=(int){ 2, 4 }");

    if (gst_structure_can_intersect (st, gst_caps_get_structure (aac, 0))) {
      *parse = "aacparse";
      return TRUE;
    }
  }
  return FALSE;
}

/* A remote input in a composite: its audio, past its gate at parse, is
 * also decoded for the composite's mix (in->raw_audio). Without the
 * decoder it is recorded but left out of the mix. Streaming thread. */
static void
build_audio_decode (MedInput *in, GstElement *parse, const char *parse_name)
{
  const char *dec_name
      = strcmp (parse_name, "opusparse") == 0 ? "opusdec" : "avdec_aac";
  GstElement *split = gst_element_factory_make ("tee", NULL);
  GstElement *q = gst_element_factory_make ("queue", NULL);
  GstElement *dec = gst_element_factory_make (dec_name, NULL);
  GstElement *conv = gst_element_factory_make ("audioconvert", NULL);
  GstElement *res = gst_element_factory_make ("audioresample", NULL);

  if (split == NULL || q == NULL || dec == NULL || conv == NULL
      || res == NULL) {
    g_warning ("input %u: its audio is left out of the composite: %s is "
               "missing",
        in->index + 1, dec_name);
    gst_clear_object (&split);
    gst_clear_object (&q);
    gst_clear_object (&dec);
    gst_clear_object (&conv);
    gst_clear_object (&res);
    return;
  }
  g_object_set (q, "leaky", 2, "max-size-time", (guint64) GST_SECOND,
      "max-size-bytes", 0, "max-size-buffers", 0, NULL);
  /* a frame lost in a drop is concealed, never the session's failure */
  g_object_set (dec, "max-errors", -1, NULL);
  gst_bin_add_many (GST_BIN (in->pipeline), split, q, dec, conv, res, NULL);
  if (!gst_element_link_many (parse, split, q, dec, conv, res, NULL)) {
    g_warning ("input %u: its audio is left out of the composite: cannot "
               "link its decoder",
        in->index + 1);
    gst_element_unlink (parse, split);
    gst_bin_remove_many (GST_BIN (in->pipeline), split, q, dec, conv, res,
        NULL);
    return;
  }
  in->audio_split = split;
  in->raw_audio = res;
}

/* Sets the states of a remote input's audio decoder, downstream first. */
static void
sync_audio_decode (MedInput *in)
{
  GstElement *e = in->raw_audio;

  while (e != NULL && e != in->audio_out) {
    g_autoptr (GstPad) sink = gst_element_get_static_pad (e, "sink");
    g_autoptr (GstPad) peer = sink ? gst_pad_get_peer (sink) : NULL;

    gst_element_sync_state_with_parent (e);
    if (e == in->audio_split)
      break;
    e = peer ? GST_ELEMENT (GST_PAD_PARENT (peer)) : NULL;
  }
}

/* An audio pad of a dynamic source (streaming thread): the first one found
 * before the input's pads were all known gets a depayloader, a parser and
 * a recorder pad; after a restart the new pad joins the same chain. */
static gboolean
link_audio (MedInput *in, GstPad *pad, const GstStructure *st)
{
  const char *depay_name = NULL, *parse_name = NULL;
  GstElement *depay, *parse;
  g_autoptr (GstPad) sink = NULL;
  g_autoptr (GError) err = NULL;

  if (st == NULL || !audio_chain_for (st, &depay_name, &parse_name))
    return FALSE;
  if (in->audio_depay != NULL) {
    sink = gst_element_get_static_pad (in->audio_depay, "sink");
    return !gst_pad_is_linked (sink)
        && gst_pad_link (pad, sink) == GST_PAD_LINK_OK;
  }
  if (g_atomic_int_get (&in->pads_done))
    return FALSE; /* too late: the recorder already has its streams */
  depay = gst_element_factory_make (depay_name, NULL);
  parse = gst_element_factory_make (parse_name, NULL);
  if (depay == NULL || parse == NULL) {
    g_warning ("input %u: cannot record its audio: %s or %s is missing",
        in->index + 1, depay_name, parse_name);
    gst_clear_object (&depay);
    gst_clear_object (&parse);
    return FALSE;
  }
  gst_bin_add_many (GST_BIN (in->pipeline), depay, parse, NULL);
  if (!gst_element_link (depay, parse)) {
    g_warning ("input %u: cannot record its audio: cannot link", in->index + 1);
    gst_bin_remove_many (GST_BIN (in->pipeline), depay, parse, NULL);
    return FALSE;
  }
  if (in->video_split != NULL)
    build_audio_decode (in, parse, parse_name);
  if (!med_session_attach_input_audio (in->session, in, parse, &err)) {
    g_warning ("input %u: cannot record its audio: %s", in->index + 1,
        err ? err->message : "cannot link");
    while (in->raw_audio != NULL) {
      GstElement *e = in->raw_audio;
      g_autoptr (GstPad) in_pad = gst_element_get_static_pad (e, "sink");
      g_autoptr (GstPad) peer = gst_pad_get_peer (in_pad);

      in->raw_audio = e == in->audio_split || peer == NULL
          ? NULL
          : GST_ELEMENT (GST_PAD_PARENT (peer));
      gst_bin_remove (GST_BIN (in->pipeline), e);
    }
    in->audio_split = NULL;
    gst_bin_remove_many (GST_BIN (in->pipeline), depay, parse, NULL);
    return FALSE;
  }
  in->audio_depay = depay;
  in->audio_out = parse;
  sync_audio_decode (in);
  gst_element_sync_state_with_parent (parse);
  gst_element_sync_state_with_parent (depay);
  sink = gst_element_get_static_pad (depay, "sink");
  return gst_pad_link (pad, sink) == GST_PAD_LINK_OK;
}

/* A dynamic source's pad: H.264 (RTP or elementary) goes to our video
 * chain, AAC or Opus to an audio chain, anything else to a fakesink so it
 * does not stop the source. */
static void
source_pad_added_cb (GstElement *src, GstPad *pad, gpointer user_data)
{
  MedInput *in = user_data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const GstStructure *st = NULL;
  g_autoptr (GstPad) sink = gst_element_get_static_pad (in->depay, "sink");
  gboolean h264 = FALSE;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps != NULL && !gst_caps_is_empty (caps))
    st = gst_caps_get_structure (caps, 0);
  if (st != NULL) {
    const char *enc = gst_structure_get_string (st, "encoding-name");

    h264 = gst_structure_has_name (st, "video/x-h264")
        || (gst_structure_has_name (st, "application/x-rtp") && enc
            && g_ascii_strcasecmp (enc, "H264") == 0);
  }
  if (h264 && !gst_pad_is_linked (sink)) {
    if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
      g_warning ("input %u: cannot link its video", in->index + 1);
    else if (in->audio_depay != NULL)
      med_session_input_pads_known (in->session, in);
    else if (in->demux != NULL && !g_atomic_int_get (&in->pads_done))
      /* parsebin: its audio pad, if any, comes right after (rtspsrc says
       * no-more-pads once every stream of the camera has its pad) */
      gst_element_post_message (in->pipeline,
          gst_message_new_application (GST_OBJECT (in->pipeline),
              gst_structure_new ("med-input-video", "input", G_TYPE_UINT,
                  in->index, NULL)));
    return;
  }
  if (!h264 && link_audio (in, pad, st)) {
    if (gst_pad_is_linked (sink))
      med_session_input_pads_known (in->session, in);
    return;
  }
  {
    GstElement *fake = gst_element_factory_make ("fakesink", NULL);
    g_autoptr (GstPad) fsink = NULL;

    g_object_set (fake, "async", FALSE, "sync", FALSE, NULL);
    gst_bin_add (GST_BIN (in->pipeline), fake);
    fsink = gst_element_get_static_pad (fake, "sink");
    gst_pad_link (pad, fsink);
    gst_element_sync_state_with_parent (fake);
  }
}

static void
source_no_more_pads_cb (GstElement *src, gpointer user_data)
{
  MedInput *in = user_data;

  /* rtspsrc may say so before the pad of a stream of its SDP (under load,
   * 1 run in 25): the audio would then be refused by the recorder, which
   * had started. Its audio pad says when it is linked (or the session's
   * wait for pads runs out). */
  if (g_atomic_int_get (&in->sdp_audio) && in->audio_depay == NULL)
    return;
  med_session_input_pads_known (in->session, in);
}

/* rtspsrc, for each stream of the camera's SDP (streaming thread): note
 * whether there is audio we record, and take every stream. */
static gboolean
source_select_stream_cb (GstElement *src, guint num, GstCaps *caps,
    gpointer user_data)
{
  MedInput *in = user_data;
  const char *depay, *parse;

  if (caps != NULL && gst_caps_get_size (caps) > 0
      && audio_chain_for (gst_caps_get_structure (caps, 0), &depay, &parse))
    g_atomic_int_set (&in->sdp_audio, 1);
  return TRUE;
}

/* A latency query reaching a remote input's chain while its source has no
 * pad there (not connected yet, or away): answered rather than failed, so
 * that the composite's grid stays live and does not wait for the camera
 * (its latency is then covered by the grid's min-upstream-latency). */
static GstPadProbeReturn
latency_query_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MedInput *in = user_data;
  GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);

  if (GST_QUERY_TYPE (q) != GST_QUERY_LATENCY || gst_pad_is_linked (pad))
    return GST_PAD_PROBE_OK;
  gst_query_set_latency (q, in->live_remote, 0, GST_CLOCK_TIME_NONE);
  return GST_PAD_PROBE_HANDLED;
}

/* A remote input in a composite: its parser's output (gated) also goes
 * to a decoder whose raw video joins the grid. The leaky queue keeps a
 * slow decoder from holding back the recorder's branch; decode errors (a
 * picture missing its reference after a drop) are concealed, never fatal. */
static gboolean
build_decode (MedInput *in, GError **error)
{
  GstElement *split, *q, *dec, *conv, *tee;

  split = add (in, "tee", "split", error);
  q = split ? add (in, "queue", "decq", error) : NULL;
  dec = q ? add (in, "avdec_h264", "dec", error) : NULL;
  conv = dec ? add (in, "videoconvert", "decconv", error) : NULL;
  tee = conv ? add (in, "tee", "rawtee", error) : NULL;
  if (tee == NULL)
    return FALSE;
  g_object_set (q, "leaky", 2, "max-size-time", (guint64) 2 * GST_SECOND,
      "max-size-bytes", 0, "max-size-buffers", 0, NULL);
  g_object_set (dec, "max-errors", -1, NULL);
  if (!link_all (error, in->video_out, split, q, dec, conv, tee, NULL))
    return FALSE;
  in->video_split = split;
  in->raw_video = tee;
  {
    g_autoptr (GstPad) head = gst_element_get_static_pad (in->depay, "sink");

    gst_pad_add_probe (head, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM,
        latency_query_cb, in, NULL);
  }
  return TRUE;
}

/* Measurement knobs (BENCHMARKS.md, live passthrough): rtspsrc's
 * transport ("tcp": RTP interleaved in the RTSP connection), its
 * jitterbuffers' mode ("slave", "none", …) and latency (ms), from the
 * environment; they override the defaults. */
static void
rtsp_knobs (GstElement *src)
{
  const char *v;

  if ((v = g_getenv ("MEDSCHED_RTSP_PROTOCOLS")) != NULL)
    gst_util_set_object_arg (G_OBJECT (src), "protocols", v);
  if ((v = g_getenv ("MEDSCHED_RTSP_BUFFER_MODE")) != NULL)
    gst_util_set_object_arg (G_OBJECT (src), "buffer-mode", v);
  if ((v = g_getenv ("MEDSCHED_RTSP_LATENCY")) != NULL)
    g_object_set (src, "latency", (guint) g_ascii_strtoull (v, NULL, 10), NULL);
}

static gboolean
build_dynamic (MedInput *in, const char *uri, gboolean composite,
    GError **error)
{
  GstElement *src = NULL, *origin, *head, *parse;

  if (g_str_has_prefix (uri, "rtsp://")) {
    src = add (in, "rtspsrc", "src", error);
    head = src ? add (in, "rtph264depay", "depay", error) : NULL;
    if (head == NULL)
      return FALSE;
    g_object_set (src, "location", uri, "latency", 200, "tcp-timeout",
        (guint64) 5 * G_USEC_PER_SEC, "timeout", (guint64) 5 * G_USEC_PER_SEC,
        NULL);
    rtsp_knobs (src);
    in->live_remote = TRUE;
    g_signal_connect (src, "select-stream",
        G_CALLBACK (source_select_stream_cb), in);
    origin = src;
  } else {
    GstElement *demux;

    if (g_str_has_prefix (uri, "srt://")) {
      src = add (in, "srtsrc", "src", error);
      if (src)
        g_object_set (src, "uri", uri, NULL);
      in->live_remote = TRUE;
    } else {
      g_autofree char *path = g_filename_from_uri (uri, NULL, NULL);

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_URI,
            "input file does not exist");
        return FALSE;
      }
      src = add (in, "filesrc", "src", error);
      if (src)
        g_object_set (src, "location", path, NULL);
    }
    origin = src;
    demux = src ? add (in, "parsebin", "demux", error) : NULL;
    in->demux = demux;
    head = demux ? add (in, "identity", "depay", error) : NULL;
    if (head == NULL || !link_all (error, src, demux, NULL))
      return FALSE;
    src = demux; /* pads appear here */
  }
  parse = add (in, "h264parse", "parse", error);
  if (parse == NULL)
    return FALSE;
  g_object_set (parse, "config-interval", -1, NULL);
  in->depay = head;
  in->source = g_str_has_prefix (uri, "rtsp://") ? src : origin;
  g_signal_connect (src, "pad-added", G_CALLBACK (source_pad_added_cb), in);
  g_signal_connect (src, "no-more-pads", G_CALLBACK (source_no_more_pads_cb),
      in);
  in->dynamic = TRUE;
  if (!link_all (error, head, parse, NULL))
    return FALSE;
  in->video_out = parse;
  return !composite || build_decode (in, error);
}

MedInput *
med_input_build (GstElement *pipeline, guint index, const char *uri,
    gboolean composite, GError **error)
{
  MedInput *in = g_new0 (MedInput, 1);
  gboolean ok;

  in->index = index;
  in->uri = g_strdup (uri);
  in->pipeline = pipeline;
  if (!med_media_check_uri (uri, &in->redacted, error)) {
    med_input_free (in);
    return NULL;
  }
  if (g_str_has_prefix (uri, "test://"))
    ok = build_test (in, uri, composite, error);
  else if (g_str_has_prefix (uri, "v4l2://"))
    ok = build_v4l2 (in, uri, composite, error);
  else
    ok = build_dynamic (in, uri, composite, error);
  if (ok) {
    g_autoptr (GstPad) pad = gst_element_get_static_pad (in->video_out, "src");

    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, flowed_probe_cb, in,
        NULL);
  }
  if (!ok) {
    g_prefix_error (error, "input %u: ", index + 1);
    med_input_free (in);
    return NULL;
  }
  return in;
}

void
med_input_free (MedInput *in)
{
  if (in == NULL)
    return;
  if (in->retry_source)
    g_source_remove (in->retry_source);
  if (in->audio_wait)
    g_source_remove (in->audio_wait);
  g_free (in->uri);
  g_free (in->redacted);
  g_free (in);
}

gboolean
med_input_can_retry (MedInput *in)
{
  return in->live_remote;
}

static gboolean
retry_cb (gpointer user_data)
{
  MedInput *in = user_data;

  in->retry_source = 0;
  med_session_input_event (in->session, in, MED_RECORDING_EVENT_GAP,
      "restarting");
  gst_element_set_state (in->source, GST_STATE_NULL);
  g_atomic_int_set (&in->fresh, FALSE);
  g_atomic_int_set (&in->resync, 1);
  g_atomic_int_set (&in->audio_resync, 1);
  gst_element_sync_state_with_parent (in->source);
  return G_SOURCE_REMOVE;
}

void
med_input_schedule_retry (MedInput *in, const char *why)
{
  guint delay = MIN (30u, 1u << MIN (in->retries, 5u));
  g_autofree char *detail = NULL;

  if (in->retry_source)
    return;
  /* Media flowed since the last restart: a new drop, back-off from 1 s. */
  if (g_atomic_int_compare_and_exchange (&in->fresh, TRUE, FALSE)) {
    in->retries = 0;
    in->dropped_at = g_get_monotonic_time ();
    delay = 1;
  }
  in->retries++;
  detail = g_strdup_printf ("dropped (%s); retry %u in %u s", why, in->retries,
      delay);
  g_message ("input %u %s", in->index + 1, detail);
  med_session_input_event (in->session, in, MED_RECORDING_EVENT_GAP, detail);
  in->retry_source = g_timeout_add_seconds (delay, retry_cb, in);
}

static gboolean
audio_wait_done_cb (gpointer user_data)
{
  MedInput *in = user_data;

  in->audio_wait = 0;
  med_session_input_pads_known (in->session, in);
  return G_SOURCE_REMOVE;
}

void
med_input_wait_for_audio (MedInput *in)
{
  if (in->audio_wait == 0 && !g_atomic_int_get (&in->pads_done))
    in->audio_wait = g_timeout_add (AUDIO_WAIT_MS, audio_wait_done_cb, in);
}

void
med_input_came_back (MedInput *in)
{
  g_autofree char *detail = NULL;

  if (in->dropped_at == 0)
    return;
  detail = g_strdup_printf ("back after %.1f s away",
      (g_get_monotonic_time () - in->dropped_at) / 1e6);
  in->dropped_at = 0;
  g_message ("input %u %s", in->index + 1, detail);
  med_session_input_event (in->session, in, MED_RECORDING_EVENT_GAP, detail);
}

/* EOS into a chain's first element, below the source. */
static void
send_eos_into (GstElement *head)
{
  g_autoptr (GstPad) pad
      = head ? gst_element_get_static_pad (head, "sink") : NULL;

  if (pad)
    gst_pad_send_event (pad, gst_event_new_eos ());
}

void
med_input_send_eos (MedInput *in)
{
  GstElement *src = in->source;

  if (in->live_remote) {
    /* The camera may be away (or come back any moment): end the chains
     * below it, and restart nothing any more. */
    if (in->retry_source) {
      g_source_remove (in->retry_source);
      in->retry_source = 0;
    }
    send_eos_into (in->depay);
    send_eos_into (in->audio_depay);
    return;
  }

  /* rtspsrc, srtsrc, live test sources: an EOS event sent to the source
   * element travels downstream from it. */
  if (g_str_has_prefix (in->uri, "test://")) {
    g_autofree char *aname = g_strdup_printf ("in%u-asrc", in->index);
    g_autoptr (GstElement) asrc
        = gst_bin_get_by_name (GST_BIN (in->pipeline), aname);

    if (asrc)
      gst_element_send_event (asrc, gst_event_new_eos ());
  }
  if (src)
    gst_element_send_event (src, gst_event_new_eos ());
}
