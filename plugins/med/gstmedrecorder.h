/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedrecorder.h — medrecorder: records encoded streams into Matroska
 * segments with a hash-chained manifest and remuxes them into one seekable
 * file at EOS. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_MED_RECORDER (gst_med_recorder_get_type ())
G_DECLARE_FINAL_TYPE (GstMedRecorder, gst_med_recorder, GST, MED_RECORDER,
    GstBin)

GST_ELEMENT_REGISTER_DECLARE (medrecorder);

G_END_DECLS
