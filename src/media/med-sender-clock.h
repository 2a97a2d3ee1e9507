/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-sender-clock.h — private to src/media: a remote sender's clock, for
 * recordings timed as the sender meant them (lip-sync by the sender's RTP
 * timestamps and RTCP sender reports) while the live path keeps its
 * arrival-smoothed times.
 *
 * One MedSenderClock per sender (a participant's peer connection); one
 * track per received RTP stream. The track watches its depayloader: on
 * the RTP side it reads each packet's timestamp (unwrapped: the sender's
 * media time) and the NTP time rtpbin derived from the sender's reports
 * (GstReferenceTimestampMeta "timestamp/x-ntp", rtpbin's
 * add-reference-timestamp-meta); on the depayloaded side (a pad further
 * down the same streaming thread, e.g. a tee's sink) it tags each buffer
 * with its media time. med_sender_clock_time (a MedRecTimeFunc) then
 * gives a tagged buffer's time: media time + the track's offset, the
 * lowest seen over the last 30 s (a sender's report can only come late,
 * never early: a report stamped after a scheduling delay is left out),
 * mapped into the running-time scale by one offset per sender, so its
 * tracks stay as the sender aligned them. Until a track's first report
 * the time is unknown (a recorder holds the buffer); a track without
 * reports after 3 s of media is timed by the lower envelope of its
 * arrival times instead. */
#pragma once

#include <gst/gst.h>

#include "med-rec.h"

G_BEGIN_DECLS

typedef struct _MedSenderClock MedSenderClock;
typedef struct _MedSenderTrack MedSenderTrack;

/* (transfer full) */
MedSenderClock *med_sender_clock_new (void);
void med_sender_clock_unref (MedSenderClock *c);

/* A track of c, watching rtp_pad (a depayloader's sink pad: RTP packets)
 * and tagging at tag_pad (downstream of it, same streaming thread). The
 * track holds a reference on c; the pads' probes hold one on the track.
 * (transfer full) */
MedSenderTrack *med_sender_track_new (MedSenderClock *c, GstPad *rtp_pad,
    GstPad *tag_pad);
MedSenderTrack *med_sender_track_ref (MedSenderTrack *t);
void med_sender_track_unref (gpointer t);

/* A MedRecTimeFunc (data: the track): OK and *time when buf is tagged and
 * its track's offset known, WAIT until then, RUNNING for an untagged
 * buffer. */
MedRecTime med_sender_clock_time (GstBuffer *buf, GstClockTime *time,
    gpointer track);

G_END_DECLS
