/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedstamp.c — medstamp: burns "case number · room · wall-clock time
 * with zone" into every frame, as hearing-recording rules ask for the
 * recording time to be superimposed on the image.
 *
 * The element is a bin around textoverlay (Pango). A probe on the sink pad
 * works out the wall-clock time of each frame and, when the displayed second
 * changes, sets the overlay's text before the frame reaches it. The time
 * comes, in order of preference, from:
 *
 *   1. a GstReferenceTimestampMeta on the buffer with reference caps
 *      "timestamp/x-unix" (ns since 1970) or "timestamp/x-ntp" (ns since
 *      1900), as rtpjitterbuffer, webrtcbin or a capture source attach them:
 *      the moment the frame was captured, by the sender's synchronised clock;
 *   2. the frame's running time mapped to wall time: the wall time and the
 *      pipeline clock's running time are sampled together once (re-sampled
 *      after every PAUSED/PLAYING change), and the frame's running time is
 *      added to that anchor — so with an NTP-disciplined system clock the
 *      stamp is the capture time to within a frame;
 *   3. without a clock (prerolling, tests), the wall time at the first frame
 *      plus the running time since it.
 *
 * A capsfilter after the overlay keeps the output in system memory and a
 * probe strips the overlay-composition meta from downstream's allocation
 * answer, so the text is always blended into the pixels (burned in), never
 * attached as a meta a later element could drop. */
#include "gstmedstamp.h"

#include <stdio.h>
#include <string.h>

#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (gst_med_stamp_debug);
#define GST_CAT_DEFAULT gst_med_stamp_debug

#define DEFAULT_CASE_ID NULL
#define DEFAULT_ROOM    NULL
#define DEFAULT_ZONE    "Asia/Shanghai"
#define DEFAULT_FONT_DESC                                                      \
  "Noto Sans CJK SC,WenQuanYi Micro Hei,Droid Sans Fallback,Sans 14"
#define DEFAULT_POSITION GST_MED_STAMP_POSITION_TOP_LEFT
#define DEFAULT_SHADED   TRUE
/* Case ids and room names are short; anything longer is cut. */
#define MAX_LABEL_CHARS    128
#define NTP_UNIX_OFFSET_NS (G_GUINT64_CONSTANT (2208988800) * GST_SECOND)
#define NO_SECOND          G_MININT64

enum
{
  PROP_0,
  PROP_CASE_ID,
  PROP_ROOM,
  PROP_ZONE,
  PROP_FONT_DESC,
  PROP_POSITION,
  PROP_SHADED_BACKGROUND,
  PROP_LAST_TEXT,
  PROP_TIME_SOURCE,
};

struct _GstMedStamp
{
  GstBin parent;

  /* Set in init, never replaced. overlay and filter are NULL when
   * textoverlay is not installed; the NULL→READY change then fails. */
  GstElement *overlay;
  GstElement *filter;
  GstPad *sinkpad;
  GstPad *srcpad;

  /* Protected by the object lock. */
  gchar *case_id;
  gchar *room;
  gchar *zone_id;
  GTimeZone *zone;
  gchar *font_desc;
  GstMedStampPosition position;
  gboolean shaded;
  gboolean text_stale; /* a label changed: re-render this second */
  gchar *last_text; /* plain text of the stamp now shown */
  gint64 last_second; /* Unix second of last_text, or NO_SECOND */
  GstMedStampTimeSource time_source;
  gboolean anchored; /* anchor_* below are valid */
  gboolean anchor_from_clock;
  GstClockTime anchor_rt; /* running time ... */
  gint64 anchor_wall_ns; /* ... and the wall time it corresponds to */

  /* Streaming thread only. */
  GstSegment segment;
};

#define gst_med_stamp_parent_class parent_class
G_DEFINE_TYPE (GstMedStamp, gst_med_stamp, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (medstamp, "medstamp", GST_RANK_NONE,
    GST_TYPE_MED_STAMP,
    GST_DEBUG_CATEGORY_INIT (gst_med_stamp_debug, "medstamp", 0,
        "medsched case/clock stamp"));

static GstStaticPadTemplate sink_template
    = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (GST_VIDEO_OVERLAY_COMPOSITION_BLEND_FORMATS)));

static GstStaticPadTemplate src_template
    = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (GST_VIDEO_OVERLAY_COMPOSITION_BLEND_FORMATS)));

GType
gst_med_stamp_position_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_MED_STAMP_POSITION_TOP_LEFT, "Top left", "top-left" },
    { GST_MED_STAMP_POSITION_TOP_CENTER, "Top centre", "top-center" },
    { GST_MED_STAMP_POSITION_TOP_RIGHT, "Top right", "top-right" },
    { GST_MED_STAMP_POSITION_BOTTOM_LEFT, "Bottom left", "bottom-left" },
    { GST_MED_STAMP_POSITION_BOTTOM_CENTER, "Bottom centre", "bottom-center" },
    { GST_MED_STAMP_POSITION_BOTTOM_RIGHT, "Bottom right", "bottom-right" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstMedStampPosition", values));
  return type;
}

GType
gst_med_stamp_time_source_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_MED_STAMP_TIME_SOURCE_NONE, "No frame stamped yet", "none" },
    { GST_MED_STAMP_TIME_SOURCE_REFERENCE,
        "Reference timestamp meta (timestamp/x-unix or timestamp/x-ntp)",
        "reference" },
    { GST_MED_STAMP_TIME_SOURCE_CLOCK,
        "Pipeline clock running time mapped to wall time", "clock" },
    { GST_MED_STAMP_TIME_SOURCE_RUNNING_TIME,
        "Wall time at the first frame plus running time (no clock)",
        "running-time" },
    { GST_MED_STAMP_TIME_SOURCE_SYSTEM,
        "System wall time on arrival (frame without timestamp)", "system" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstMedStampTimeSource", values));
  return type;
}

/* Makes a case id or room name safe to show: valid UTF-8, control
 * characters (newlines included) turned into spaces, trimmed, at most
 * MAX_LABEL_CHARS characters. Markup is escaped later, not here.
 * Returns: (transfer full) (nullable). */
static gchar *
sanitize_label (const gchar *value)
{
  g_autofree gchar *valid = NULL;
  GString *out;
  guint n = 0;

  if (value == NULL)
    return NULL;
  valid = g_utf8_make_valid (value, -1);
  out = g_string_new (NULL);
  for (const gchar *p = valid; *p && n < MAX_LABEL_CHARS;
       p = g_utf8_next_char (p), n++) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
      c = ' ';
    g_string_append_unichar (out, c);
  }
  g_strstrip (out->str);
  out->len = strlen (out->str);
  return g_string_free (out, FALSE);
}

/* GLib 2.74 reads any file a zone identifier names, relative to the zoneinfo
 * directory, and CRITICALs on one that is not TZif ("../../etc/passwd",
 * "leapseconds"). Accept a fixed UTC offset, or a plain IANA-style name whose
 * file starts with the TZif magic. */
static gboolean
is_loadable_zone (const gchar *id)
{
  g_autofree gchar *path = NULL;
  gchar magic[4];
  gsize len = strlen (id);
  gboolean ok;
  FILE *f;

  if (len == 0 || len > 64)
    return FALSE;
  if (g_regex_match_simple ("^[+-][0-9]{2}(:?[0-9]{2}){0,2}$", id, 0, 0)
      || g_str_equal (id, "UTC"))
    return TRUE;
  if (!g_regex_match_simple ("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", id,
          0, 0))
    return FALSE;
  path = g_build_filename (g_getenv ("TZDIR") ? g_getenv ("TZDIR")
                                              : "/usr/share/zoneinfo",
      id, NULL);
  f = fopen (path, "rbe");
  if (f == NULL)
    return FALSE;
  ok = fread (magic, 1, sizeof (magic), f) == sizeof (magic)
      && memcmp (magic, "TZif", 4) == 0;
  fclose (f);
  return ok;
}

static void
apply_position (GstMedStamp *self, GstMedStampPosition position)
{
  static const struct
  {
    const gchar *h, *v;
  } map[] = {
    [GST_MED_STAMP_POSITION_TOP_LEFT] = { "left", "top" },
    [GST_MED_STAMP_POSITION_TOP_CENTER] = { "center", "top" },
    [GST_MED_STAMP_POSITION_TOP_RIGHT] = { "right", "top" },
    [GST_MED_STAMP_POSITION_BOTTOM_LEFT] = { "left", "bottom" },
    [GST_MED_STAMP_POSITION_BOTTOM_CENTER] = { "center", "bottom" },
    [GST_MED_STAMP_POSITION_BOTTOM_RIGHT] = { "right", "bottom" },
  };

  if (self->overlay == NULL)
    return;
  gst_util_set_object_arg (G_OBJECT (self->overlay), "halignment",
      map[position].h);
  gst_util_set_object_arg (G_OBJECT (self->overlay), "valignment",
      map[position].v);
}

/* The wall time carried by a reference timestamp meta, in ns since 1970. */
static gboolean
find_reference_time (GstBuffer *buf, gint64 *wall_ns)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_REFERENCE_TIMESTAMP_META_API_TYPE))
      != NULL) {
    GstReferenceTimestampMeta *ref = (GstReferenceTimestampMeta *) meta;
    const GstStructure *s;

    if (ref->reference == NULL || gst_caps_is_empty (ref->reference)
        || !GST_CLOCK_TIME_IS_VALID (ref->timestamp))
      continue;
    s = gst_caps_get_structure (ref->reference, 0);
    if (gst_structure_has_name (s, "timestamp/x-unix")
        && ref->timestamp <= (GstClockTime) G_MAXINT64) {
      *wall_ns = (gint64) ref->timestamp;
      return TRUE;
    }
    if (gst_structure_has_name (s, "timestamp/x-ntp")
        && ref->timestamp >= NTP_UNIX_OFFSET_NS
        && ref->timestamp - NTP_UNIX_OFFSET_NS <= (GstClockTime) G_MAXINT64) {
      *wall_ns = (gint64) (ref->timestamp - NTP_UNIX_OFFSET_NS);
      return TRUE;
    }
  }
  return FALSE;
}

/* Maps the buffer's running time to wall time through the anchor, taking
 * the anchor first if needed. */
static GstMedStampTimeSource
map_running_time (GstMedStamp *self, GstBuffer *buf, gint64 *wall_ns)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  GstMedStampTimeSource source;
  GstClock *clock = NULL;
  GstClockTime base_time;
  gboolean need_anchor;

  if (self->segment.format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID (pts))
    rt = gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (rt)) {
    *wall_ns = g_get_real_time () * 1000;
    return GST_MED_STAMP_TIME_SOURCE_SYSTEM;
  }

  GST_OBJECT_LOCK (self);
  /* A clock anchor is only meaningful once PLAYING has fixed base_time;
   * before that (prerolling) anchor on the frame itself and upgrade later. */
  if (GST_STATE (self) == GST_STATE_PLAYING && GST_ELEMENT_CLOCK (self))
    clock = gst_object_ref (GST_ELEMENT_CLOCK (self));
  base_time = GST_ELEMENT_CAST (self)->base_time;
  need_anchor = !self->anchored || (!self->anchor_from_clock && clock);
  GST_OBJECT_UNLOCK (self);

  if (need_anchor) {
    gint64 wall_now = g_get_real_time () * 1000;
    GstClockTime anchor_rt = rt;

    if (clock) {
      GstClockTime now = gst_clock_get_time (clock);
      anchor_rt = now > base_time ? now - base_time : 0;
    }
    GST_OBJECT_LOCK (self);
    self->anchored = TRUE;
    self->anchor_from_clock = clock != NULL;
    self->anchor_rt = anchor_rt;
    self->anchor_wall_ns = wall_now;
    GST_OBJECT_UNLOCK (self);
    GST_DEBUG_OBJECT (self,
        "anchored running time %" GST_TIME_FORMAT " to wall %" G_GINT64_FORMAT
        " ns (%s)",
        GST_TIME_ARGS (anchor_rt), wall_now, clock ? "clock" : "first frame");
  }
  g_clear_object (&clock);

  GST_OBJECT_LOCK (self);
  *wall_ns = self->anchor_wall_ns + ((gint64) rt - (gint64) self->anchor_rt);
  source = self->anchor_from_clock ? GST_MED_STAMP_TIME_SOURCE_CLOCK
                                   : GST_MED_STAMP_TIME_SOURCE_RUNNING_TIME;
  GST_OBJECT_UNLOCK (self);
  return source;
}

/* Called with the object lock held.
 * Returns: (transfer full): the stamp for Unix second @second. */
static gchar *
format_stamp (GstMedStamp *self, gint64 second)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (second);
  g_autoptr (GDateTime) local = NULL;
  g_autofree gchar *when = NULL;
  GString *text = g_string_new (NULL);

  if (self->case_id && self->case_id[0])
    g_string_append_printf (text, "%s · ", self->case_id);
  if (self->room && self->room[0])
    g_string_append_printf (text, "%s · ", self->room);
  if (utc != NULL) {
    local = g_date_time_to_timezone (utc, self->zone);
    when = g_date_time_format (local, "%Y-%m-%d %H:%M:%S %Z");
  }
  g_string_append_printf (text, "%s (%s)", when ? when : "----", self->zone_id);
  return g_string_free (text, FALSE);
}

static void
stamp_buffer (GstMedStamp *self, GstBuffer *buf)
{
  GstMedStampTimeSource source;
  g_autofree gchar *markup = NULL;
  gint64 wall_ns, second;

  if (find_reference_time (buf, &wall_ns))
    source = GST_MED_STAMP_TIME_SOURCE_REFERENCE;
  else
    source = map_running_time (self, buf, &wall_ns);
  second
      = wall_ns >= 0 ? wall_ns / GST_SECOND : -1 - (-1 - wall_ns) / GST_SECOND;

  GST_OBJECT_LOCK (self);
  self->time_source = source;
  if (second != self->last_second || self->text_stale) {
    g_autofree gchar *text = format_stamp (self, second);

    if (g_strcmp0 (text, self->last_text) != 0) {
      markup = g_markup_escape_text (text, -1);
      g_free (self->last_text);
      self->last_text = g_steal_pointer (&text);
    }
    self->last_second = second;
    self->text_stale = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  /* textoverlay takes its own lock; the frame reaches it after we return */
  if (markup != NULL)
    g_object_set (self->overlay, "text", markup, NULL);
}

static GstPadProbeReturn
sink_data_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstMedStamp *self = GST_MED_STAMP (user_data);
  GstBuffer *buf = NULL;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT)
      gst_event_copy_segment (event, &self->segment);
    else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
      gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
    return GST_PAD_PROBE_OK;
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    buf = GST_PAD_PROBE_INFO_BUFFER (info);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);

    if (gst_buffer_list_length (list) > 0)
      buf = gst_buffer_list_get (list, 0);
  }
  if (buf != NULL)
    stamp_buffer (self, buf);
  return GST_PAD_PROBE_OK;
}

/* After downstream answered the allocation query: refuse the overlay
 * composition meta so textoverlay blends into the pixels. */
static GstPadProbeReturn
allocation_answered_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  guint index;

  if (GST_QUERY_TYPE (query) == GST_QUERY_ALLOCATION
      && gst_query_find_allocation_meta (query,
          GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, &index))
    gst_query_remove_nth_allocation_meta (query, index);
  return GST_PAD_PROBE_OK;
}

static void
gst_med_stamp_init (GstMedStamp *self)
{
  GstElement *bin = GST_ELEMENT (self);
  GstPadTemplate *templ;

  self->zone = g_time_zone_new_identifier (DEFAULT_ZONE);
  if (self->zone == NULL) /* no tzdata installed */
    self->zone = g_time_zone_new_utc ();
  self->zone_id = g_strdup (g_time_zone_get_identifier (self->zone));
  self->font_desc = g_strdup (DEFAULT_FONT_DESC);
  self->position = DEFAULT_POSITION;
  self->shaded = DEFAULT_SHADED;
  self->last_second = NO_SECOND;
  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);

  self->overlay = gst_element_factory_make ("textoverlay", "overlay");
  self->filter = gst_element_factory_make ("capsfilter", "sysmem");
  if (self->overlay != NULL && self->filter != NULL) {
    g_autoptr (GstCaps) sysmem = gst_caps_new_empty_simple ("video/x-raw");
    g_autoptr (GstPad) video_sink = NULL;
    g_autoptr (GstPad) overlay_src = NULL;
    g_autoptr (GstPad) filter_src = NULL;

    g_object_set (self->filter, "caps", sysmem, NULL);
    g_object_set (self->overlay, "font-desc", self->font_desc,
        "shaded-background", self->shaded, "wait-text", FALSE, "text", "",
        NULL);
    apply_position (self, self->position);
    gst_bin_add_many (GST_BIN (self), self->overlay, self->filter, NULL);
    gst_element_link_pads (self->overlay, "src", self->filter, "sink");

    video_sink = gst_element_get_static_pad (self->overlay, "video_sink");
    overlay_src = gst_element_get_static_pad (self->overlay, "src");
    filter_src = gst_element_get_static_pad (self->filter, "src");
    templ = gst_static_pad_template_get (&sink_template);
    self->sinkpad = gst_ghost_pad_new_from_template ("sink", video_sink, templ);
    gst_object_unref (templ);
    templ = gst_static_pad_template_get (&src_template);
    self->srcpad = gst_ghost_pad_new_from_template ("src", filter_src, templ);
    gst_object_unref (templ);
    gst_pad_add_probe (overlay_src,
        GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM | GST_PAD_PROBE_TYPE_PULL,
        allocation_answered_cb, NULL, NULL);
  } else {
    g_clear_object (&self->overlay);
    g_clear_object (&self->filter);
    templ = gst_static_pad_template_get (&sink_template);
    self->sinkpad = gst_ghost_pad_new_no_target_from_template ("sink", templ);
    gst_object_unref (templ);
    templ = gst_static_pad_template_get (&src_template);
    self->srcpad = gst_ghost_pad_new_no_target_from_template ("src", templ);
    gst_object_unref (templ);
  }
  gst_pad_add_probe (self->sinkpad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
          | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      sink_data_cb, self, NULL);
  gst_element_add_pad (bin, self->sinkpad);
  gst_element_add_pad (bin, self->srcpad);
}

static void
gst_med_stamp_finalize (GObject *object)
{
  GstMedStamp *self = GST_MED_STAMP (object);

  g_free (self->case_id);
  g_free (self->room);
  g_free (self->zone_id);
  g_time_zone_unref (self->zone);
  g_free (self->font_desc);
  g_free (self->last_text);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_med_stamp_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstMedStamp *self = GST_MED_STAMP (object);

  switch (prop_id) {
    case PROP_CASE_ID:
    case PROP_ROOM: {
      gchar *label = sanitize_label (g_value_get_string (value));

      GST_OBJECT_LOCK (self);
      if (prop_id == PROP_CASE_ID) {
        g_free (self->case_id);
        self->case_id = label;
      } else {
        g_free (self->room);
        self->room = label;
      }
      self->text_stale = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case PROP_ZONE: {
      const gchar *id = g_value_get_string (value);
      GTimeZone *zone = NULL;

      if (id != NULL && is_loadable_zone (id))
        zone = g_time_zone_new_identifier (id);
      if (zone == NULL) {
        GST_WARNING_OBJECT (self, "unknown time zone \"%s\"; keeping %s",
            GST_STR_NULL (id), self->zone_id);
        break;
      }
      GST_OBJECT_LOCK (self);
      g_time_zone_unref (self->zone);
      self->zone = zone;
      g_free (self->zone_id);
      self->zone_id = g_strdup (g_time_zone_get_identifier (zone));
      self->text_stale = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case PROP_FONT_DESC:
      GST_OBJECT_LOCK (self);
      g_free (self->font_desc);
      self->font_desc = g_value_dup_string (value);
      if (self->font_desc == NULL)
        self->font_desc = g_strdup (DEFAULT_FONT_DESC);
      GST_OBJECT_UNLOCK (self);
      if (self->overlay)
        g_object_set (self->overlay, "font-desc", self->font_desc, NULL);
      break;
    case PROP_POSITION:
      GST_OBJECT_LOCK (self);
      self->position = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      apply_position (self, g_value_get_enum (value));
      break;
    case PROP_SHADED_BACKGROUND:
      GST_OBJECT_LOCK (self);
      self->shaded = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      if (self->overlay)
        g_object_set (self->overlay, "shaded-background",
            g_value_get_boolean (value), NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_med_stamp_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstMedStamp *self = GST_MED_STAMP (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CASE_ID:
      g_value_set_string (value, self->case_id);
      break;
    case PROP_ROOM:
      g_value_set_string (value, self->room);
      break;
    case PROP_ZONE:
      g_value_set_string (value, self->zone_id);
      break;
    case PROP_FONT_DESC:
      g_value_set_string (value, self->font_desc);
      break;
    case PROP_POSITION:
      g_value_set_enum (value, self->position);
      break;
    case PROP_SHADED_BACKGROUND:
      g_value_set_boolean (value, self->shaded);
      break;
    case PROP_LAST_TEXT:
      g_value_set_string (value, self->last_text);
      break;
    case PROP_TIME_SOURCE:
      g_value_set_enum (value, self->time_source);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static GstStateChangeReturn
gst_med_stamp_change_state (GstElement *element, GstStateChange transition)
{
  GstMedStamp *self = GST_MED_STAMP (element);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (self->overlay == NULL) {
        GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
            ("medstamp needs the textoverlay element (package "
             "gstreamer1.0-x)"),
            (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
      GST_OBJECT_LOCK (self);
      self->anchored = FALSE;
      self->last_second = NO_SECOND;
      self->text_stale = TRUE;
      self->time_source = GST_MED_STAMP_TIME_SOURCE_NONE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* base_time changes across a pause: take a new anchor */
      GST_OBJECT_LOCK (self);
      self->anchored = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_med_stamp_class_init (GstMedStampClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_med_stamp_set_property;
  gobject_class->get_property = gst_med_stamp_get_property;
  gobject_class->finalize = gst_med_stamp_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_med_stamp_change_state);

  /**
   * GstMedStamp:case-id:
   *
   * The case number shown first in the stamp, e.g. "(2026)藏0102调7号".
   */
  g_object_class_install_property (gobject_class, PROP_CASE_ID,
      g_param_spec_string ("case-id", "Case id",
          "Case number shown in the stamp, e.g. \"(2026)藏0102调7号\". "
          "Control characters become spaces; at most 128 characters are "
          "shown; empty or unset leaves it out",
          DEFAULT_CASE_ID,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedStamp:room:
   *
   * The room name shown after the case number, e.g. "远程调解室".
   */
  g_object_class_install_property (gobject_class, PROP_ROOM,
      g_param_spec_string ("room", "Room",
          "Room name shown after the case number, e.g. \"远程调解室\"; "
          "same rules as case-id",
          DEFAULT_ROOM,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedStamp:zone:
   *
   * IANA time zone the time is shown in. An unknown zone is refused and
   * the previous one kept.
   */
  g_object_class_install_property (gobject_class, PROP_ZONE,
      g_param_spec_string ("zone", "Time zone",
          "IANA time zone the wall-clock time is shown in (its abbreviation "
          "and name are shown too); an unknown zone is refused and the "
          "previous one kept",
          DEFAULT_ZONE,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedStamp:font-desc:
   *
   * Pango font description; the default lists CJK families first.
   */
  g_object_class_install_property (gobject_class, PROP_FONT_DESC,
      g_param_spec_string ("font-desc", "Font description",
          "Pango font description of the stamp (families, style, size); the "
          "default lists CJK fonts (fonts-noto-cjk, fonts-wqy-microhei) first "
          "so Chinese case numbers render",
          DEFAULT_FONT_DESC,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedStamp:position:
   *
   * Corner or edge of the picture the stamp is drawn at.
   */
  g_object_class_install_property (gobject_class, PROP_POSITION,
      g_param_spec_enum ("position", "Position",
          "Where in the picture the stamp is drawn",
          GST_TYPE_MED_STAMP_POSITION, DEFAULT_POSITION,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedStamp:shaded-background:
   *
   * Whether to darken the picture behind the text for legibility.
   */
  g_object_class_install_property (gobject_class, PROP_SHADED_BACKGROUND,
      g_param_spec_boolean ("shaded-background", "Shaded background",
          "Darken the picture behind the stamp so it stays legible on any "
          "background",
          DEFAULT_SHADED,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedStamp:last-text:
   *
   * The plain text (not markup) of the stamp most recently drawn.
   */
  g_object_class_install_property (gobject_class, PROP_LAST_TEXT,
      g_param_spec_string ("last-text", "Last text",
          "Plain text of the stamp drawn on the most recent frame (NULL "
          "before the first frame)",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMedStamp:time-source:
   *
   * Where the time of the most recent frame came from.
   */
  g_object_class_install_property (gobject_class, PROP_TIME_SOURCE,
      g_param_spec_enum ("time-source", "Time source",
          "Where the wall-clock time of the most recent frame came from: a "
          "reference timestamp meta, the pipeline clock, or the running time "
          "since the first frame",
          GST_TYPE_MED_STAMP_TIME_SOURCE, GST_MED_STAMP_TIME_SOURCE_NONE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Mediation case and clock stamp", "Filter/Effect/Video",
      "Burns the case number, the room and the wall-clock time with its time "
      "zone (e.g. \"(2026)藏0102调7号 · 远程调解室 · 2026-12-07 09:30:05 CST "
      "(Asia/Shanghai)\") into every frame, as hearing-recording rules ask. "
      "The time is the frame's capture time from a reference timestamp meta "
      "(timestamp/x-unix or timestamp/x-ntp) when the stream carries one, "
      "else the frame's running time mapped to wall time through the "
      "pipeline clock. Text is drawn with Pango (textoverlay) and always "
      "blended into the pixels",
      "medsched <medsched@localhost>");

  gst_type_mark_as_plugin_api (GST_TYPE_MED_STAMP_POSITION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MED_STAMP_TIME_SOURCE, 0);
}
