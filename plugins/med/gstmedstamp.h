/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedstamp.h — medstamp: burns the case number, room and a synchronised
 * wall-clock time into the picture. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_MED_STAMP (gst_med_stamp_get_type ())
G_DECLARE_FINAL_TYPE (GstMedStamp, gst_med_stamp, GST, MED_STAMP, GstBin)

/* Where the stamp sits in the picture. */
typedef enum
{
  GST_MED_STAMP_POSITION_TOP_LEFT,
  GST_MED_STAMP_POSITION_TOP_CENTER,
  GST_MED_STAMP_POSITION_TOP_RIGHT,
  GST_MED_STAMP_POSITION_BOTTOM_LEFT,
  GST_MED_STAMP_POSITION_BOTTOM_CENTER,
  GST_MED_STAMP_POSITION_BOTTOM_RIGHT,
} GstMedStampPosition;

/* Where the time of the last stamped frame came from. */
typedef enum
{
  GST_MED_STAMP_TIME_SOURCE_NONE, /* no frame stamped yet */
  GST_MED_STAMP_TIME_SOURCE_REFERENCE, /* a GstReferenceTimestampMeta (NTP/Unix) */
  GST_MED_STAMP_TIME_SOURCE_CLOCK, /* pipeline clock mapped to wall time */
  GST_MED_STAMP_TIME_SOURCE_RUNNING_TIME, /* no clock: wall time at the first frame + running time */
  GST_MED_STAMP_TIME_SOURCE_SYSTEM, /* frame without timestamp: wall time now */
} GstMedStampTimeSource;

GType gst_med_stamp_position_get_type (void);
GType gst_med_stamp_time_source_get_type (void);
#define GST_TYPE_MED_STAMP_POSITION    (gst_med_stamp_position_get_type ())
#define GST_TYPE_MED_STAMP_TIME_SOURCE (gst_med_stamp_time_source_get_type ())

GST_ELEMENT_REGISTER_DECLARE (medstamp);

G_END_DECLS
