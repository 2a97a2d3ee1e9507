/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedfinish.h — the offline half of a recording: after medrecorder's
 * live part ended (every segment written, hashed and chained into the
 * manifest), the segments are remuxed into one seekable file and the
 * manifest is sealed with that file's hash. Janus splits its recorder
 * (cheap .mjr dumps while the call runs) from janus-pp-rec the same way.
 *
 * medsched runs it in a worker thread of its own once a recorder posted
 * "medrecorder-closed" (its property finish=false); a standalone
 * medrecorder (finish=true, the default, e.g. under gst-launch-1.0) runs it
 * itself after EOS. GStreamer and the manifest library only. */
#pragma once

#include <gst/gst.h>

#include "gstmedmanifest.h"

G_BEGIN_DECLS

/* Remuxes the complete segments the unsealed manifest at @manifest_path
 * lists into @final_name (a plain file name in the media directory; NULL
 * or "" = make none) without re-encoding, timestamps untouched, and seals
 * the manifest with it ("complete"). A remux that fails leaves the
 * segments as they are and seals without a final file (still "complete":
 * every segment is intact); @remux_error (nullable) then says why. With
 * @cancel (nullable, atomic) set, the remux stops and the manifest is
 * sealed "stopped while finishing" without a final file.
 * @info (nullable, zeroed by the caller): the sealed manifest as read back
 * (chain only). Returns FALSE with @error when the manifest could not be
 * read or sealed (e.g. it was sealed already). */
gboolean gst_med_recording_finish (const gchar *manifest_path,
    const gchar *final_name, gint *cancel, GstMedManifestInfo *info,
    GError **remux_error, GError **error);

G_END_DECLS
