/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-rtp.c — RTP forwarding helpers (see med-rtp.h): keyframe starts
 * read from the payload (RFC 7741 for VP8, RFC 6184 for H.264) and the
 * per-m-line rewriter of SSRC, payload type, sequence numbers and
 * timestamps. */
#define G_LOG_DOMAIN "medsched-media"

#include "med-rtp.h"

#include <gst/rtp/rtp.h>

/* VP8 payload descriptor (RFC 7741 §4.2) then, at the start of a
 * partition 0, the payload header whose P bit is 0 for a key frame. */
static gboolean
vp8_starts_keyframe (const guint8 *p, guint len)
{
  guint i = 1;

  if (len < 1)
    return FALSE;
  /* S (start of partition) and PID 0 */
  if ((p[0] & 0x10) == 0 || (p[0] & 0x07) != 0)
    return FALSE;
  if (p[0] & 0x80) { /* X: an extension byte follows */
    guint8 x;

    if (len < 2)
      return FALSE;
    x = p[1];
    i = 2;
    if (x & 0x80) { /* I: picture id, 7 or 15 bits */
      if (i >= len)
        return FALSE;
      i += (p[i] & 0x80) ? 2 : 1;
    }
    if (x & 0x40) /* L: TL0PICIDX */
      i++;
    if (x & 0x30) /* T or K: TID/KEYIDX */
      i++;
  }
  return i < len && (p[i] & 0x01) == 0;
}

static gboolean
h264_nal_starts (guint8 type)
{
  return type == 5 || type == 7; /* IDR slice, sequence parameter set */
}

/* RFC 6184 §5.6-5.8: a single NAL unit, a STAP-A of them or the first
 * fragment of a FU-A. */
static gboolean
h264_starts_keyframe (const guint8 *p, guint len)
{
  guint8 type;

  if (len < 1)
    return FALSE;
  type = p[0] & 0x1f;
  if (type >= 1 && type <= 23)
    return h264_nal_starts (type);
  if (type == 24) {
    for (guint i = 1; i + 2 < len;) {
      guint size = (p[i] << 8) | p[i + 1];

      if (size == 0 || i + 2 + size > len)
        break;
      if (h264_nal_starts (p[i + 2] & 0x1f))
        return TRUE;
      i += 2 + size;
    }
    return FALSE;
  }
  if (type == 28 && len >= 2)
    return (p[1] & 0x80) && h264_nal_starts (p[1] & 0x1f);
  return FALSE;
}

gboolean
med_rtp_starts_keyframe (GstBuffer *buf, MedRtpCodec codec)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean key = FALSE;

  if (codec == MED_RTP_OPUS)
    return TRUE;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return FALSE;
  if (codec == MED_RTP_VP8)
    key = vp8_starts_keyframe (gst_rtp_buffer_get_payload (&rtp),
        gst_rtp_buffer_get_payload_len (&rtp));
  else
    key = h264_starts_keyframe (gst_rtp_buffer_get_payload (&rtp),
        gst_rtp_buffer_get_payload_len (&rtp));
  gst_rtp_buffer_unmap (&rtp);
  return key;
}

struct _MedRtpRewriter
{
  GMutex lock;
  guint32 ssrc;
  guint pt;
  GstCaps *caps; /* the codec's, without payload and ssrc */
  guint32 ts_step;
  /* under lock */
  gboolean have_out;
  guint16 last_seq;
  guint32 last_ts;
  gboolean have_src;
  guint32 src_ssrc;
  guint16 seq_off;
  guint32 ts_off;
};

MedRtpRewriter *
med_rtp_rewriter_new (guint32 ssrc, GstCaps *codec_caps, guint32 ts_step)
{
  MedRtpRewriter *w = g_new0 (MedRtpRewriter, 1);

  g_mutex_init (&w->lock);
  w->ssrc = ssrc;
  w->caps = gst_caps_copy (codec_caps);
  w->ts_step = ts_step;
  return w;
}

void
med_rtp_rewriter_set_pt (MedRtpRewriter *w, guint pt)
{
  g_mutex_lock (&w->lock);
  w->pt = pt;
  g_mutex_unlock (&w->lock);
}

void
med_rtp_rewriter_free (gpointer data)
{
  MedRtpRewriter *w = data;

  if (w == NULL)
    return;
  gst_caps_unref (w->caps);
  g_mutex_clear (&w->lock);
  g_free (w);
}

static GstPadProbeReturn
rewrite_event (MedRtpRewriter *w, GstPadProbeInfo *info)
{
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;

  switch (GST_EVENT_TYPE (ev)) {
    case GST_EVENT_CAPS:
      /* the m-line's codec with its payload type and SSRC */
      caps = gst_caps_copy (w->caps);
      g_mutex_lock (&w->lock);
      gst_caps_set_simple (caps, "payload", G_TYPE_INT, (gint) w->pt, "ssrc",
          G_TYPE_UINT, w->ssrc, NULL);
      g_mutex_unlock (&w->lock);
      gst_event_unref (ev);
      GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (caps);
      gst_caps_unref (caps);
      return GST_PAD_PROBE_OK;
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_OOB:
    case GST_EVENT_GAP:
      /* the source's lost-packet notices are not this m-line's */
      return GST_PAD_PROBE_DROP;
    default:
      return GST_PAD_PROBE_OK;
  }
}

GstPadProbeReturn
med_rtp_rewriter_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  MedRtpRewriter *w = data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstBuffer *buf;
  guint32 ssrc, ts;
  guint16 seq;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
    return rewrite_event (w, info);
  if (info->type & GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM) {
    GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);

    /* A source's caps are acceptable as they are: they become the
     * m-line's here (the receiving webrtcbin itself would refuse the
     * source's payload type and SSRC). */
    if (GST_QUERY_TYPE (q) == GST_QUERY_ACCEPT_CAPS) {
      gst_query_set_accept_caps_result (q, TRUE);
      return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE (q) == GST_QUERY_CAPS) {
      GstCaps *filter = NULL;
      g_autoptr (GstCaps) any = gst_caps_new_empty_simple ("application/x-rtp");

      gst_query_parse_caps (q, &filter);
      if (filter != NULL) {
        g_autoptr (GstCaps) both = gst_caps_intersect (filter, any);

        gst_query_set_caps_result (q, both);
      } else {
        gst_query_set_caps_result (q, any);
      }
      return GST_PAD_PROBE_HANDLED;
    }
    return GST_PAD_PROBE_OK;
  }
  buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp))
    return GST_PAD_PROBE_DROP;
  ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  seq = gst_rtp_buffer_get_seq (&rtp);
  ts = gst_rtp_buffer_get_timestamp (&rtp);
  g_mutex_lock (&w->lock);
  if (!w->have_src || ssrc != w->src_ssrc) {
    /* another source from here on: it continues where the last ended */
    w->have_src = TRUE;
    w->src_ssrc = ssrc;
    w->seq_off = w->have_out ? (guint16) (w->last_seq + 1 - seq) : 0;
    w->ts_off = w->have_out ? w->last_ts + w->ts_step - ts : 0;
  }
  seq += w->seq_off;
  ts += w->ts_off;
  if (!w->have_out || (gint16) (seq - w->last_seq) > 0)
    w->last_seq = seq;
  if (!w->have_out || (gint32) (ts - w->last_ts) > 0)
    w->last_ts = ts;
  w->have_out = TRUE;
  gst_rtp_buffer_set_ssrc (&rtp, w->ssrc);
  gst_rtp_buffer_set_payload_type (&rtp, w->pt);
  g_mutex_unlock (&w->lock);
  gst_rtp_buffer_set_seq (&rtp, seq);
  gst_rtp_buffer_set_timestamp (&rtp, ts);
  gst_rtp_buffer_unmap (&rtp);
  return GST_PAD_PROBE_OK;
}
