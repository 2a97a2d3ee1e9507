/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedplugin.c — the "med" plugin of medsched: registers medstamp (burned-in
 * case number, room and wall-clock time) and medrecorder (tamper-evident
 * segment recorder). Nothing else happens here. */
#include <gst/gst.h>

#include "gstmedrecorder.h"
#include "gstmedstamp.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;

  ok |= GST_ELEMENT_REGISTER (medstamp, plugin);
  ok |= GST_ELEMENT_REGISTER (medrecorder, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, med,
    "medsched elements for court mediation sessions: a burned-in case and "
    "clock stamp, and a segment recorder with a hash-chained manifest",
    plugin_init, VERSION, "GPL", PACKAGE, "https://localhost/medsched")
