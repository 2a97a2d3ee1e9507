/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-sender-clock.c — a remote sender's clock for recordings (see
 * med-sender-clock.h). Each track's state belongs to its streaming thread
 * (the depayloader's, which also runs the tee and the recorders' gates
 * downstream of it); only the per-sender offset is shared, under a lock.
 *
 * For a packet with media time m (its extended RTP timestamp over the
 * clock rate) rtpbin gives, once the sender reported, n = the NTP time
 * the sender's latest report maps that timestamp to. c = n − m is the
 * track's offset; a sender that stamps its report late (aiortc stamps it
 * with the send time of its last packet) gives a larger c, never a smaller
 * one, so the track uses the lowest c of the last 30 s. The first report
 * of either track fixes the sender's domain offset d so that the track's
 * times start near their arrival; every buffer then gets m + c − d. */
#define G_LOG_DOMAIN "medsched-media"

#include "med-sender-clock.h"

#include <gst/rtp/rtp.h>

#include "med-rec.h"

/* Reports older than this (behind a newer one) no longer count. */
#define WINDOW_US (30 * G_USEC_PER_SEC)
#define N_SAMPLES 64
/* A new report's offset differs from the last by more than this. */
#define NEW_SAMPLE_NS (100 * GST_USECOND)
/* Media a track waits for its first report before it is timed by its
 * arrival. */
#define REPORT_WAIT (3 * GST_SECOND)
/* A timestamp jump this large is a new timeline (the sender restarted). */
#define JUMP (10 * GST_SECOND)
/* Arrival's lower envelope is the lowest of the last one or two windows. */
#define ARRIVAL_WINDOW_US (60 * G_USEC_PER_SEC)
#define N_TAGS            16

static GstStaticCaps ntp_caps = GST_STATIC_CAPS ("timestamp/x-ntp");
static GstStaticCaps media_caps = GST_STATIC_CAPS ("timestamp/x-medsched-rtp");

struct _MedSenderClock
{
  gint refs; /* atomic */
  GMutex lock;
  gboolean have_domain;
  gint64 domain; /* sender time − domain = running time */
};

typedef struct
{
  gint64 c;
  gint64 at_us;
} Sample;

struct _MedSenderTrack
{
  gint refs; /* atomic */
  MedSenderClock *clock; /* a reference */
  /* the streaming thread */
  guint rate;
  GstSegment seg;
  gboolean have_ext;
  guint64 ext;
  guint64 first_m, cur_m;
  gboolean have_arr;
  gint64 arr_min, arr_prev; /* this window's and the last one's */
  gint64 arr_since_us;
  Sample samples[N_SAMPLES];
  guint n_samples, next;
  gboolean have_c;
  gint64 last_c;
  gboolean have_report;
  gint64 c_min;
  gboolean by_arrival; /* no report came: timed by arrival */
  struct
  {
    GstClockTime pts;
    guint64 m;
  } tag[N_TAGS];
  guint tag_next;
};

MedSenderClock *
med_sender_clock_new (void)
{
  MedSenderClock *c = g_new0 (MedSenderClock, 1);

  c->refs = 1;
  g_mutex_init (&c->lock);
  return c;
}

static MedSenderClock *
clock_ref (MedSenderClock *c)
{
  g_atomic_int_inc (&c->refs);
  return c;
}

void
med_sender_clock_unref (MedSenderClock *c)
{
  if (c == NULL || !g_atomic_int_dec_and_test (&c->refs))
    return;
  g_mutex_clear (&c->lock);
  g_free (c);
}

MedSenderTrack *
med_sender_track_ref (MedSenderTrack *t)
{
  g_atomic_int_inc (&t->refs);
  return t;
}

void
med_sender_track_unref (gpointer data)
{
  MedSenderTrack *t = data;

  if (t == NULL || !g_atomic_int_dec_and_test (&t->refs))
    return;
  med_sender_clock_unref (t->clock);
  g_free (t);
}

/* The lowest offset of the reports of the last WINDOW_US (counted back
 * from the newest, so a sender whose reports stopped changing keeps its
 * last). */
static void
update_offset (MedSenderTrack *t)
{
  gint64 newest = 0;
  gboolean any = FALSE;

  for (guint i = 0; i < t->n_samples; i++)
    newest = MAX (newest, t->samples[i].at_us);
  for (guint i = 0; i < t->n_samples; i++) {
    if (t->samples[i].at_us + WINDOW_US < newest)
      continue;
    if (!any || t->samples[i].c < t->c_min)
      t->c_min = t->samples[i].c;
    any = TRUE;
  }
  t->have_report = any;
}

static void
add_report (MedSenderTrack *t, gint64 c)
{
  if (t->have_c && ABS (c - t->last_c) <= (gint64) NEW_SAMPLE_NS)
    return;
  t->have_c = TRUE;
  t->last_c = c;
  t->samples[t->next].c = c;
  t->samples[t->next].at_us = g_get_monotonic_time ();
  t->next = (t->next + 1) % N_SAMPLES;
  t->n_samples = MIN (t->n_samples + 1, N_SAMPLES);
  update_offset (t);
  if (t->by_arrival)
    g_debug ("sender clock: a report after all; timed by reports now");
  t->by_arrival = FALSE;
  g_mutex_lock (&t->clock->lock);
  if (!t->clock->have_domain && t->have_arr) {
    /* this track's times go on near their arrival */
    t->clock->domain = t->c_min - t->arr_min;
    t->clock->have_domain = TRUE;
  }
  g_mutex_unlock (&t->clock->lock);
}

static void
note_arrival (MedSenderTrack *t, gint64 a)
{
  gint64 now = g_get_monotonic_time ();

  if (!t->have_arr) {
    t->have_arr = TRUE;
    t->arr_min = t->arr_prev = a;
    t->arr_since_us = now;
    return;
  }
  if (now - t->arr_since_us > ARRIVAL_WINDOW_US) {
    t->arr_prev = t->arr_min;
    t->arr_min = a;
    t->arr_since_us = now;
  }
  t->arr_min = MIN (t->arr_min, a);
}

static gint64
arrival_offset (MedSenderTrack *t)
{
  return MIN (t->arr_min, t->arr_prev);
}

/* The depayloader's sink pad: RTP packets. */
static GstPadProbeReturn
rtp_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MedSenderTrack *t = user_data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstBuffer *buf;
  GstReferenceTimestampMeta *meta;
  guint32 ts;
  guint64 m;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
      gst_event_copy_segment (ev, &t->seg);
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gint rate = 0;

      gst_event_parse_caps (ev, &caps);
      if (caps != NULL && gst_caps_get_size (caps) > 0
          && gst_structure_get_int (gst_caps_get_structure (caps, 0),
              "clock-rate", &rate)
          && rate > 0)
        t->rate = rate;
    }
    return GST_PAD_PROBE_OK;
  }
  buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (t->rate == 0 || !gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  ts = gst_rtp_buffer_get_timestamp (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  if (!t->have_ext) {
    t->ext = (G_GUINT64_CONSTANT (1) << 32) + ts;
    t->have_ext = TRUE;
    t->first_m = gst_util_uint64_scale (t->ext, GST_SECOND, t->rate);
  } else {
    gint32 d = (gint32) (ts - (guint32) t->ext);

    t->ext += d;
    if (gst_util_uint64_scale (ABS ((gint64) d), GST_SECOND, t->rate) > JUMP) {
      /* a new timeline: what was learnt of the old one does not hold */
      g_debug ("sender clock: the RTP timestamps jumped; starting over");
      t->n_samples = t->next = 0;
      t->have_c = t->have_report = t->have_arr = t->by_arrival = FALSE;
      t->first_m = gst_util_uint64_scale (t->ext, GST_SECOND, t->rate);
    }
  }
  m = gst_util_uint64_scale (t->ext, GST_SECOND, t->rate);
  t->cur_m = m;
  if (GST_BUFFER_PTS_IS_VALID (buf) && t->seg.format == GST_FORMAT_TIME) {
    GstClockTime rt = gst_segment_to_running_time (&t->seg, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));

    if (GST_CLOCK_TIME_IS_VALID (rt))
      note_arrival (t, (gint64) rt - (gint64) m);
  }
  meta = gst_buffer_get_reference_timestamp_meta (buf,
      gst_static_caps_get (&ntp_caps));
  if (meta != NULL)
    add_report (t, (gint64) meta->timestamp - (gint64) m);
  t->tag[t->tag_next].pts = GST_BUFFER_PTS (buf);
  t->tag[t->tag_next].m = m;
  t->tag_next = (t->tag_next + 1) % N_TAGS;
  return GST_PAD_PROBE_OK;
}

/* Downstream of the depayloader: each buffer gets the media time of the
 * packet it came out of (the packet with its timestamp, else the latest). */
static GstPadProbeReturn
tag_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MedSenderTrack *t = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  guint64 m = t->cur_m;

  if (!t->have_ext)
    return GST_PAD_PROBE_OK;
  for (guint i = 1; i <= N_TAGS; i++) {
    guint k = (t->tag_next + N_TAGS - i) % N_TAGS;

    if (GST_BUFFER_PTS_IS_VALID (buf)
        && t->tag[k].pts == GST_BUFFER_PTS (buf)) {
      m = t->tag[k].m;
      break;
    }
  }
  buf = gst_buffer_make_writable (buf);
  gst_buffer_add_reference_timestamp_meta (buf,
      gst_static_caps_get (&media_caps), m, GST_CLOCK_TIME_NONE);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

MedSenderTrack *
med_sender_track_new (MedSenderClock *c, GstPad *rtp_pad, GstPad *tag_pad)
{
  MedSenderTrack *t = g_new0 (MedSenderTrack, 1);

  t->refs = 1;
  t->clock = clock_ref (c);
  gst_segment_init (&t->seg, GST_FORMAT_UNDEFINED);
  gst_pad_add_probe (rtp_pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      rtp_probe_cb, med_sender_track_ref (t), med_sender_track_unref);
  gst_pad_add_probe (tag_pad, GST_PAD_PROBE_TYPE_BUFFER, tag_probe_cb,
      med_sender_track_ref (t), med_sender_track_unref);
  return t;
}

MedRecTime
med_sender_clock_time (GstBuffer *buf, GstClockTime *time, gpointer data)
{
  MedSenderTrack *t = data;
  GstReferenceTimestampMeta *meta
      = gst_buffer_get_reference_timestamp_meta (buf,
          gst_static_caps_get (&media_caps));
  gint64 m, out;

  if (meta == NULL)
    return MED_REC_TIME_RUNNING; /* not from the depayloader: as it came */
  m = (gint64) meta->timestamp;
  if (t->have_report) {
    gint64 domain;
    gboolean have;

    g_mutex_lock (&t->clock->lock);
    have = t->clock->have_domain;
    domain = t->clock->domain;
    g_mutex_unlock (&t->clock->lock);
    if (!have)
      return MED_REC_TIME_WAIT;
    out = m + t->c_min - domain;
  } else if (t->by_arrival
      || (t->have_arr && t->cur_m > t->first_m + REPORT_WAIT)) {
    if (!t->by_arrival)
      g_debug ("sender clock: no report after %" GST_TIME_FORMAT " of media; "
               "timed by arrival",
          GST_TIME_ARGS (REPORT_WAIT));
    t->by_arrival = TRUE;
    out = m + arrival_offset (t);
  } else {
    return MED_REC_TIME_WAIT;
  }
  *time = out > 0 ? (GstClockTime) out : 0;
  return MED_REC_TIME_OK;
}
