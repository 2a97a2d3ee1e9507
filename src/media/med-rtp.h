/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-rtp.h — private to src/media: forwarding RTP as it came, without
 * depayloading and payloading again (an SFU's way): where a picture starts
 * in a packet of VP8 or H.264, and a rewriter that gives a forwarded
 * stream the receiving side's SSRC and payload type with continuous
 * sequence numbers and timestamps across switches of its source. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum
{
  MED_RTP_VP8,
  MED_RTP_H264,
  MED_RTP_OPUS,
} MedRtpCodec;

/* TRUE when the RTP packet begins a picture a decoder can start from (a
 * VP8 key frame's first packet; an H.264 SPS or IDR, alone, aggregated or
 * the first fragment); every audio packet does. */
gboolean med_rtp_starts_keyframe (GstBuffer *rtp, MedRtpCodec codec);

typedef struct _MedRtpRewriter MedRtpRewriter;

/* For one sending m-line: ssrc (the one the answer announced), the
 * codec's caps (media, encoding-name, clock-rate, …) and the timestamp
 * step put between the last packet of one source and the first of the
 * next (a frame or a packet). (transfer full) */
MedRtpRewriter *med_rtp_rewriter_new (guint32 ssrc, GstCaps *codec_caps,
    guint32 ts_step);
/* The payload type the answer chose (before anything is forwarded). */
void med_rtp_rewriter_set_pt (MedRtpRewriter *w, guint pt);
void med_rtp_rewriter_free (gpointer w);
/* A pad probe (BUFFER | EVENT_DOWNSTREAM | QUERY_DOWNSTREAM, user data:
 * the rewriter, which must outlive it): each packet gets the m-line's SSRC
 * and payload type,
 * its sequence number and timestamp an offset that keeps them continuous
 * when the source changes; caps become the m-line's (and any RTP caps are
 * accepted); packet-loss events of the source's jitter buffer stop here.
 * Any streaming thread. */
GstPadProbeReturn med_rtp_rewriter_probe (GstPad *pad, GstPadProbeInfo *info,
    gpointer rewriter);

G_END_DECLS
