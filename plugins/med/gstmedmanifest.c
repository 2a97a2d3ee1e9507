/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedmanifest.c — writes and verifies the hash-chained manifest of a
 * recording (see gstmedmanifest.h for the format and its guarantees).
 *
 * Both sides go through the same Entry struct and the same canonical
 * rendering, so what the writer hashed is exactly what the verifier
 * recomputes; the JSON around it is only a container and may be
 * re-formatted without breaking anything. Everything read from a manifest is
 * hostile input: sizes are bounded, every member's type is checked before
 * it is read, unknown members are refused, file names must be plain names
 * inside the media directory. */
#define G_LOG_DOMAIN "medsched-manifest"

#include "gstmedmanifest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* clang-format off */
G_DEFINE_QUARK (gst-med-manifest-error-quark, gst_med_manifest_error)
/* clang-format on */

/* A recording of a day in 10 s segments has < 10000 entries of ~400 bytes. */
#define MAX_MANIFEST_BYTES (64 * 1024 * 1024)
#define MAX_LINE_BYTES     (16 * 1024)
#define MAX_STRING_BYTES   1024
#define MAX_FILE_NAME      255
#define HASH_HEX_LEN       64
#define READ_CHUNK         (64 * 1024)

static const gchar zero_hash[HASH_HEX_LEN + 1]
    = "0000000000000000000000000000000000000000000000000000000000000000";

typedef enum
{
  KIND_START,
  KIND_SEGMENT,
  KIND_SEAL,
} EntryKind;

static const gchar *const kind_names[] = { "start", "segment", "seal" };

/* One manifest line. Strings are owned. Which fields are used depends on
 * the kind; the others stay zero. */
typedef struct
{
  gint64 index;
  EntryKind kind;
  /* start */
  gint64 format;
  gchar *created;
  gchar *recording_id;
  gchar *dir;
  /* segment and seal */
  gchar *file; /* "" in a seal without a final file */
  gint64 bytes;
  gchar *sha256; /* "" likewise */
  gint64 duration_ns;
  /* segment */
  gint64 start_ns;
  gboolean complete;
  /* seal */
  gint64 segments;
  gchar *note;
  /* chain */
  gchar prev_hash[HASH_HEX_LEN + 1];
  gchar entry_hash[HASH_HEX_LEN + 1];
} Entry;

struct _GstMedManifest
{
  gchar *path;
  gint fd;
  gchar *media_dir; /* absolute */
  gchar head[HASH_HEX_LEN + 1];
  guint next_index;
  guint n_segments;
  guint last_segment_no; /* number in the newest listed segment's name */
  guint64 duration_ns; /* sum of the listed segments' durations */
  gboolean sealed;
};

static void
entry_clear (Entry *e)
{
  g_free (e->created);
  g_free (e->recording_id);
  g_free (e->dir);
  g_free (e->file);
  g_free (e->sha256);
  g_free (e->note);
  memset (e, 0, sizeof (*e));
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Entry, entry_clear)

static void
segment_free (GstMedManifestSegment *s)
{
  g_free (s->file);
  g_free (s->sha256);
  g_free (s);
}

void
gst_med_manifest_info_clear (GstMedManifestInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->seal_note);
  g_free (info->media_dir);
  g_free (info->final_file);
  g_free (info->head_hash);
  g_free (info->bad_file);
  g_free (info->final_sha256);
  if (info->segments)
    g_ptr_array_unref (info->segments);
  memset (info, 0, sizeof (*info));
  info->bad_index = -1;
}

/* ---- canonical form and hashing ---- */

static void
append_string_field (GString *out, const gchar *key, const gchar *value)
{
  g_autofree gchar *escaped = g_strescape (value ? value : "", NULL);

  g_string_append_printf (out, "%s=%s\n", key, escaped);
}

static void
append_int_field (GString *out, const gchar *key, gint64 value)
{
  g_string_append_printf (out, "%s=%" G_GINT64_FORMAT "\n", key, value);
}

/* The bytes that entry_hash covers, after prev_hash and a newline. Field
 * order is fixed here and nowhere else. */
static gchar *
render_canonical (const Entry *e)
{
  GString *out = g_string_new ("medsched-manifest\n");

  append_int_field (out, "index", e->index);
  append_string_field (out, "kind", kind_names[e->kind]);
  switch (e->kind) {
    case KIND_START:
      append_int_field (out, "format", e->format);
      append_string_field (out, "created", e->created);
      append_string_field (out, "recording_id", e->recording_id);
      append_string_field (out, "dir", e->dir);
      break;
    case KIND_SEGMENT:
      append_string_field (out, "file", e->file);
      append_int_field (out, "bytes", e->bytes);
      append_string_field (out, "sha256", e->sha256);
      append_int_field (out, "start_ns", e->start_ns);
      append_int_field (out, "duration_ns", e->duration_ns);
      append_int_field (out, "complete", e->complete ? 1 : 0);
      break;
    case KIND_SEAL:
      append_string_field (out, "file", e->file);
      append_int_field (out, "bytes", e->bytes);
      append_string_field (out, "sha256", e->sha256);
      append_int_field (out, "duration_ns", e->duration_ns);
      append_int_field (out, "segments", e->segments);
      append_string_field (out, "note", e->note);
      break;
  }
  return g_string_free (out, FALSE);
}

static void
compute_entry_hash (const Entry *e, gchar out[HASH_HEX_LEN + 1])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree gchar *canonical = render_canonical (e);

  g_checksum_update (sum, (const guchar *) e->prev_hash, HASH_HEX_LEN);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) canonical, strlen (canonical));
  g_strlcpy (out, g_checksum_get_string (sum), HASH_HEX_LEN + 1);
}

gboolean
gst_med_file_sha256 (const gchar *path, gboolean sync, gchar **hex_out,
    guint64 *size_out, GError **error)
{
  g_autoptr (GChecksum) sum = NULL;
  g_autofree guchar *buf = NULL;
  guint64 size = 0;
  gboolean ok = FALSE;
  gint fd;

  g_return_val_if_fail (path != NULL, FALSE);

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    int saved = errno;
    g_set_error (error, GST_MED_MANIFEST_ERROR,
        saved == ENOENT ? GST_MED_MANIFEST_ERROR_MISSING
                        : GST_MED_MANIFEST_ERROR_IO,
        "cannot open %s: %s", path, g_strerror (saved));
    return FALSE;
  }
  if (sync && fsync (fd) != 0 && errno != EINVAL) {
    int saved = errno;
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
        "cannot fsync %s: %s", path, g_strerror (saved));
    goto out;
  }
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  buf = g_malloc (READ_CHUNK);
  for (;;) {
    gssize n = read (fd, buf, READ_CHUNK);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
          "cannot read %s: %s", path, g_strerror (saved));
      goto out;
    }
    if (n == 0)
      break;
    g_checksum_update (sum, buf, n);
    size += n;
  }
  if (hex_out)
    *hex_out = g_strdup (g_checksum_get_string (sum));
  if (size_out)
    *size_out = size;
  ok = TRUE;
out:
  close (fd);
  return ok;
}

/* ---- reading entries ---- */

static gboolean fail_parse (GError **error, guint line, const gchar *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
fail_parse (GError **error, guint line, const gchar *fmt, ...)
{
  g_autofree gchar *what = NULL;
  va_list ap;

  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE,
      "manifest line %u: %s", line + 1, what);
  return FALSE;
}

static JsonNode *
get_value_member (JsonObject *obj, const gchar *name, GType type)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE
      || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

static gboolean
read_int (JsonObject *obj, guint line, const gchar *name, gint64 *out,
    GError **error)
{
  JsonNode *node = get_value_member (obj, name, G_TYPE_INT64);

  if (node == NULL)
    return fail_parse (error, line, "\"%s\" must be an integer", name);
  *out = json_node_get_int (node);
  if (*out < 0)
    return fail_parse (error, line, "\"%s\" must not be negative", name);
  return TRUE;
}

static gboolean
read_bool (JsonObject *obj, guint line, const gchar *name, gboolean *out,
    GError **error)
{
  JsonNode *node = get_value_member (obj, name, G_TYPE_BOOLEAN);

  if (node == NULL)
    return fail_parse (error, line, "\"%s\" must be true or false", name);
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
read_string (JsonObject *obj, guint line, const gchar *name, gchar **out,
    GError **error)
{
  JsonNode *node = get_value_member (obj, name, G_TYPE_STRING);
  const gchar *s;

  if (node == NULL)
    return fail_parse (error, line, "\"%s\" must be a string", name);
  s = json_node_get_string (node);
  if (strlen (s) > MAX_STRING_BYTES)
    return fail_parse (error, line, "\"%s\" is too long", name);
  *out = g_strdup (s);
  return TRUE;
}

static gboolean
is_hash_hex (const gchar *s)
{
  if (strlen (s) != HASH_HEX_LEN)
    return FALSE;
  for (const gchar *p = s; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

static gboolean
read_hash (JsonObject *obj, guint line, const gchar *name,
    gboolean may_be_empty, gchar out[HASH_HEX_LEN + 1], GError **error)
{
  g_autofree gchar *s = NULL;

  if (!read_string (obj, line, name, &s, error))
    return FALSE;
  if (may_be_empty && s[0] == '\0') {
    out[0] = '\0';
    return TRUE;
  }
  if (!is_hash_hex (s))
    return fail_parse (error, line, "\"%s\" must be 64 lowercase hex digits",
        name);
  g_strlcpy (out, s, HASH_HEX_LEN + 1);
  return TRUE;
}

/* A plain name of a file in the media directory: no paths, no dot files,
 * a conservative alphabet. */
static gboolean
is_plain_file_name (const gchar *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_FILE_NAME || name[0] == '.')
    return FALSE;
  for (const gchar *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
read_file_name (JsonObject *obj, guint line, gboolean may_be_empty, gchar **out,
    GError **error)
{
  if (!read_string (obj, line, "file", out, error))
    return FALSE;
  if (may_be_empty && (*out)[0] == '\0')
    return TRUE;
  if (!is_plain_file_name (*out))
    return fail_parse (error, line,
        "\"file\" must be a plain file name in the media directory");
  return TRUE;
}

static gboolean
parse_entry (const gchar *text, gsize len, guint line, Entry *e, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  g_autofree gchar *kind = NULL;
  gchar sha[HASH_HEX_LEN + 1];
  JsonObject *obj;
  JsonNode *root;
  guint expected_members;

  if (len > MAX_LINE_BYTES)
    return fail_parse (error, line, "entry is too long");
  if (!json_parser_load_from_data (parser, text, len, &local))
    return fail_parse (error, line, "not JSON: %s", local->message);
  root = json_parser_get_root (parser);
  if (root == NULL || JSON_NODE_TYPE (root) != JSON_NODE_OBJECT)
    return fail_parse (error, line, "not a JSON object");
  obj = json_node_get_object (root);

  if (!read_int (obj, line, "index", &e->index, error)
      || !read_string (obj, line, "kind", &kind, error)
      || !read_hash (obj, line, "prev_hash", FALSE, e->prev_hash, error)
      || !read_hash (obj, line, "entry_hash", FALSE, e->entry_hash, error))
    return FALSE;

  if (g_str_equal (kind, "start")) {
    e->kind = KIND_START;
    expected_members = 8;
    if (!read_int (obj, line, "format", &e->format, error)
        || !read_string (obj, line, "created", &e->created, error)
        || !read_string (obj, line, "recording_id", &e->recording_id, error)
        || !read_string (obj, line, "dir", &e->dir, error))
      return FALSE;
    if (e->format != GST_MED_MANIFEST_FORMAT)
      return fail_parse (error, line, "unknown format %" G_GINT64_FORMAT,
          e->format);
    if (e->dir[0] == '\0')
      return fail_parse (error, line, "\"dir\" is empty");
  } else if (g_str_equal (kind, "segment")) {
    e->kind = KIND_SEGMENT;
    expected_members = 10;
    if (!read_file_name (obj, line, FALSE, &e->file, error)
        || !read_int (obj, line, "bytes", &e->bytes, error)
        || !read_hash (obj, line, "sha256", FALSE, sha, error)
        || !read_int (obj, line, "start_ns", &e->start_ns, error)
        || !read_int (obj, line, "duration_ns", &e->duration_ns, error)
        || !read_bool (obj, line, "complete", &e->complete, error))
      return FALSE;
    e->sha256 = g_strdup (sha);
  } else if (g_str_equal (kind, "seal")) {
    e->kind = KIND_SEAL;
    expected_members = 10;
    if (!read_file_name (obj, line, TRUE, &e->file, error)
        || !read_int (obj, line, "bytes", &e->bytes, error)
        || !read_hash (obj, line, "sha256", TRUE, sha, error)
        || !read_int (obj, line, "duration_ns", &e->duration_ns, error)
        || !read_int (obj, line, "segments", &e->segments, error)
        || !read_string (obj, line, "note", &e->note, error))
      return FALSE;
    e->sha256 = g_strdup (sha);
    if ((e->file[0] == '\0') != (e->sha256[0] == '\0'))
      return fail_parse (error, line, "\"file\" and \"sha256\" disagree");
  } else {
    return fail_parse (error, line, "unknown kind");
  }

  if (json_object_get_size (obj) != expected_members)
    return fail_parse (error, line, "unexpected members in a %s entry",
        kind_names[e->kind]);
  return TRUE;
}

/* ---- writing entries ---- */

static gchar *
render_json_line (const Entry *e)
{
  g_autoptr (JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *json = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, e->index);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind_names[e->kind]);
  switch (e->kind) {
    case KIND_START:
      json_builder_set_member_name (b, "format");
      json_builder_add_int_value (b, e->format);
      json_builder_set_member_name (b, "created");
      json_builder_add_string_value (b, e->created);
      json_builder_set_member_name (b, "recording_id");
      json_builder_add_string_value (b, e->recording_id);
      json_builder_set_member_name (b, "dir");
      json_builder_add_string_value (b, e->dir);
      break;
    case KIND_SEGMENT:
      json_builder_set_member_name (b, "file");
      json_builder_add_string_value (b, e->file);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, e->bytes);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, e->sha256);
      json_builder_set_member_name (b, "start_ns");
      json_builder_add_int_value (b, e->start_ns);
      json_builder_set_member_name (b, "duration_ns");
      json_builder_add_int_value (b, e->duration_ns);
      json_builder_set_member_name (b, "complete");
      json_builder_add_boolean_value (b, e->complete);
      break;
    case KIND_SEAL:
      json_builder_set_member_name (b, "file");
      json_builder_add_string_value (b, e->file);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, e->bytes);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, e->sha256);
      json_builder_set_member_name (b, "duration_ns");
      json_builder_add_int_value (b, e->duration_ns);
      json_builder_set_member_name (b, "segments");
      json_builder_add_int_value (b, e->segments);
      json_builder_set_member_name (b, "note");
      json_builder_add_string_value (b, e->note);
      break;
  }
  json_builder_set_member_name (b, "prev_hash");
  json_builder_add_string_value (b, e->prev_hash);
  json_builder_set_member_name (b, "entry_hash");
  json_builder_add_string_value (b, e->entry_hash);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, NULL);
  return g_strconcat (json, "\n", NULL);
}

static gboolean
write_all (gint fd, const gchar *data, gsize len, const gchar *path,
    GError **error)
{
  while (len > 0) {
    gssize n = write (fd, data, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
          "cannot write %s: %s", path, g_strerror (saved));
      return FALSE;
    }
    data += n;
    len -= n;
  }
  return TRUE;
}

static void
sync_directory (const gchar *dir)
{
  gint fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd < 0)
    return;
  fsync (fd);
  close (fd);
}

/* Chains @e to the head, writes it as one line and fsyncs the manifest. */
static gboolean
append_entry (GstMedManifest *m, Entry *e, GError **error)
{
  g_autofree gchar *line = NULL;

  if (m->sealed) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_SEALED,
        "%s is sealed; nothing may follow the seal", m->path);
    return FALSE;
  }
  e->index = m->next_index;
  g_strlcpy (e->prev_hash, m->head, sizeof (e->prev_hash));
  compute_entry_hash (e, e->entry_hash);
  line = render_json_line (e);

  if (!write_all (m->fd, line, strlen (line), m->path, error))
    return FALSE;
  if (fsync (m->fd) != 0) {
    int saved = errno;
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
        "cannot fsync %s: %s", m->path, g_strerror (saved));
    return FALSE;
  }
  g_strlcpy (m->head, e->entry_hash, sizeof (m->head));
  m->next_index++;
  if (e->kind == KIND_SEAL)
    m->sealed = TRUE;
  return TRUE;
}

static gchar *
absolute_dir_of (const gchar *path)
{
  g_autofree gchar *dir = g_path_get_dirname (path);

  return g_canonicalize_filename (dir, NULL);
}

/* Parses "segment-00042.mkv" → 42; 0 when the name is not a segment's. */
static guint
segment_number (const gchar *name)
{
  const gchar *digits;
  gchar *end = NULL;
  guint64 n;

  if (!g_str_has_prefix (name, GST_MED_SEGMENT_PREFIX)
      || !g_str_has_suffix (name, GST_MED_SEGMENT_SUFFIX))
    return 0;
  digits = name + strlen (GST_MED_SEGMENT_PREFIX);
  if (!g_ascii_isdigit (*digits))
    return 0;
  n = g_ascii_strtoull (digits, &end, 10);
  if (end == NULL || !g_str_equal (end, GST_MED_SEGMENT_SUFFIX) || n == 0
      || n > G_MAXUINT)
    return 0;
  return (guint) n;
}

/* Resolves @file (absolute, or relative to the working directory) and
 * checks that it is a plain name inside the media directory.
 * Returns: (transfer full): its name there, or NULL. */
static gchar *
name_in_media_dir (GstMedManifest *m, const gchar *file, GError **error)
{
  g_autofree gchar *abs = g_canonicalize_filename (file, NULL);
  g_autofree gchar *dir = g_path_get_dirname (abs);
  g_autofree gchar *name = g_path_get_basename (abs);

  if (!g_str_equal (dir, m->media_dir) || !is_plain_file_name (name)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
        "%s is not a plainly named file in %s", file, m->media_dir);
    return NULL;
  }
  return g_steal_pointer (&name);
}

GstMedManifest *
gst_med_manifest_create (const gchar *path, const gchar *media_dir,
    const gchar *recording_id, GError **error)
{
  g_autoptr (GstMedManifest) m = g_new0 (GstMedManifest, 1);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *manifest_dir = NULL;
  g_auto (Entry) start = { 0 };

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (media_dir != NULL, NULL);

  m->fd = -1;
  m->path = g_canonicalize_filename (path, NULL);
  m->media_dir = g_canonicalize_filename (media_dir, NULL);
  g_strlcpy (m->head, zero_hash, sizeof (m->head));
  manifest_dir = absolute_dir_of (m->path);

  if (g_mkdir_with_parents (manifest_dir, 0755) != 0
      || g_mkdir_with_parents (m->media_dir, 0755) != 0) {
    int saved = errno;
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
        "cannot create the directories for %s: %s", m->path,
        g_strerror (saved));
    return NULL;
  }
  m->fd = g_open (m->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
      0644);
  if (m->fd < 0) {
    int saved = errno;
    g_set_error (error, GST_MED_MANIFEST_ERROR,
        saved == EEXIST ? GST_MED_MANIFEST_ERROR_EXISTS
                        : GST_MED_MANIFEST_ERROR_IO,
        "cannot create %s: %s", m->path, g_strerror (saved));
    return NULL;
  }

  start.kind = KIND_START;
  start.format = GST_MED_MANIFEST_FORMAT;
  start.created = g_date_time_format_iso8601 (now);
  start.recording_id = g_strdup (recording_id ? recording_id : "");
  start.dir = g_strdup (
      g_str_equal (manifest_dir, m->media_dir) ? "." : m->media_dir);
  if (!append_entry (m, &start, error))
    return NULL;
  sync_directory (manifest_dir);
  return g_steal_pointer (&m);
}

gboolean
gst_med_manifest_add_segment (GstMedManifest *manifest, const gchar *file,
    guint64 start_ns, guint64 duration_ns, gboolean complete,
    gchar **entry_hash_out, GError **error)
{
  g_auto (Entry) e = { 0 };
  g_autofree gchar *path = NULL;
  guint64 size = 0;

  g_return_val_if_fail (manifest != NULL, FALSE);
  g_return_val_if_fail (file != NULL, FALSE);

  e.kind = KIND_SEGMENT;
  e.file = name_in_media_dir (manifest, file, error);
  if (e.file == NULL)
    return FALSE;
  path = g_build_filename (manifest->media_dir, e.file, NULL);
  if (!gst_med_file_sha256 (path, TRUE, &e.sha256, &size, error))
    return FALSE;
  e.bytes = (gint64) MIN (size, (guint64) G_MAXINT64);
  e.start_ns = (gint64) MIN (start_ns, (guint64) G_MAXINT64);
  e.duration_ns = (gint64) MIN (duration_ns, (guint64) G_MAXINT64);
  e.complete = complete;
  if (!append_entry (manifest, &e, error))
    return FALSE;
  /* the segment's own directory entry must survive a power cut too */
  sync_directory (manifest->media_dir);
  manifest->n_segments++;
  manifest->duration_ns += duration_ns;
  manifest->last_segment_no
      = MAX (manifest->last_segment_no, segment_number (e.file));
  if (entry_hash_out)
    *entry_hash_out = g_strdup (e.entry_hash);
  return TRUE;
}

gboolean
gst_med_manifest_seal (GstMedManifest *manifest, const gchar *final_file,
    guint64 duration_ns, const gchar *note, gchar **entry_hash_out,
    GError **error)
{
  g_auto (Entry) e = { 0 };
  guint64 size = 0;

  g_return_val_if_fail (manifest != NULL, FALSE);

  e.kind = KIND_SEAL;
  if (final_file != NULL) {
    g_autofree gchar *path = NULL;

    e.file = name_in_media_dir (manifest, final_file, error);
    if (e.file == NULL)
      return FALSE;
    path = g_build_filename (manifest->media_dir, e.file, NULL);
    if (!gst_med_file_sha256 (path, TRUE, &e.sha256, &size, error))
      return FALSE;
  } else {
    e.file = g_strdup ("");
    e.sha256 = g_strdup ("");
  }
  e.bytes = (gint64) MIN (size, (guint64) G_MAXINT64);
  e.duration_ns = (gint64) MIN (duration_ns, (guint64) G_MAXINT64);
  e.segments = manifest->n_segments;
  e.note = g_strdup (note ? note : "");
  if (!append_entry (manifest, &e, error))
    return FALSE;
  sync_directory (manifest->media_dir);
  if (entry_hash_out)
    *entry_hash_out = g_strdup (e.entry_hash);
  return TRUE;
}

gboolean
gst_med_manifest_is_sealed (GstMedManifest *manifest)
{
  g_return_val_if_fail (manifest != NULL, FALSE);
  return manifest->sealed;
}

guint
gst_med_manifest_get_n_segments (GstMedManifest *manifest)
{
  g_return_val_if_fail (manifest != NULL, 0);
  return manifest->n_segments;
}

const gchar *
gst_med_manifest_get_media_dir (GstMedManifest *manifest)
{
  g_return_val_if_fail (manifest != NULL, NULL);
  return manifest->media_dir;
}

const gchar *
gst_med_manifest_get_head_hash (GstMedManifest *manifest)
{
  g_return_val_if_fail (manifest != NULL, NULL);
  return manifest->head;
}

void
gst_med_manifest_free (GstMedManifest *manifest)
{
  if (manifest == NULL)
    return;
  if (manifest->fd >= 0)
    close (manifest->fd);
  g_free (manifest->path);
  g_free (manifest->media_dir);
  g_free (manifest);
}

static gint
compare_segment_paths (gconstpointer a, gconstpointer b)
{
  g_autofree gchar *na = g_path_get_basename (*(const gchar *const *) a);
  g_autofree gchar *nb = g_path_get_basename (*(const gchar *const *) b);
  guint ia = segment_number (na), ib = segment_number (nb);

  return ia < ib ? -1 : ia > ib;
}

GStrv
gst_med_manifest_find_unlisted (GstMedManifest *manifest)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = NULL;
  const gchar *name;

  g_return_val_if_fail (manifest != NULL, NULL);

  dir = g_dir_open (manifest->media_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    guint no = segment_number (name);

    if (no > manifest->last_segment_no)
      g_ptr_array_add (found,
          g_build_filename (manifest->media_dir, name, NULL));
  }
  g_ptr_array_sort (found, compare_segment_paths);
  g_ptr_array_add (found, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&found), FALSE);
}

/* ---- verifying ---- */

static gchar *
resolve_media_dir (const gchar *manifest_path, const gchar *dir_field)
{
  g_autofree gchar *manifest_dir = absolute_dir_of (manifest_path);

  if (g_str_equal (dir_field, "."))
    return g_steal_pointer (&manifest_dir);
  return g_canonicalize_filename (dir_field, manifest_dir);
}

static gboolean
check_file (const gchar *media_dir, const Entry *e, GstMedManifestInfo *info,
    GError **error)
{
  g_autofree gchar *path = g_build_filename (media_dir, e->file, NULL);
  g_autofree gchar *hex = NULL;
  g_autoptr (GError) local = NULL;
  guint64 size = 0;

  if (!gst_med_file_sha256 (path, FALSE, &hex, &size, &local)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, local->code,
        "entry %" G_GINT64_FORMAT " (%s): %s", e->index, e->file,
        local->code == GST_MED_MANIFEST_ERROR_MISSING ? "the file is missing"
                                                      : local->message);
  } else if (size != (guint64) e->bytes) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_ALTERED,
        "entry %" G_GINT64_FORMAT
        " (%s): the file was altered: it has %" G_GUINT64_FORMAT
        " bytes, the manifest records %" G_GINT64_FORMAT,
        e->index, e->file, size, e->bytes);
  } else if (!g_str_equal (hex, e->sha256)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_ALTERED,
        "entry %" G_GINT64_FORMAT " (%s): the file was altered: its SHA-256 "
        "is %s, the manifest records %s",
        e->index, e->file, hex, e->sha256);
  } else {
    return TRUE;
  }
  g_free (info->bad_file);
  info->bad_file = g_steal_pointer (&path);
  return FALSE;
}

/* Checks one parsed entry against the chain so far. */
static gboolean
check_chain (const Entry *e, guint line, const gchar *prev, gboolean sealed,
    GError **error)
{
  gchar recomputed[HASH_HEX_LEN + 1];
  const gchar *what = e->file && e->file[0] ? e->file : kind_names[e->kind];

  if (sealed) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN,
        "entry %u (%s) follows the seal", line, what);
    return FALSE;
  }
  if (e->index != line || (line == 0) != (e->kind == KIND_START)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN,
        "entry %u (%s) is out of place: an entry was removed, inserted or "
        "reordered",
        line, what);
    return FALSE;
  }
  if (!g_str_equal (e->prev_hash, prev)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN,
        "entry %u (%s) does not follow entry %d: an entry was removed, "
        "inserted or reordered",
        line, what, (gint) line - 1);
    return FALSE;
  }
  compute_entry_hash (e, recomputed);
  if (!g_str_equal (recomputed, e->entry_hash)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN,
        "entry %u (%s) was edited: its entry_hash does not match its "
        "contents",
        line, what);
    return FALSE;
  }
  return TRUE;
}

static gboolean
verify_internal (const gchar *path, GstMedManifestVerifyFlags flags,
    GstMedManifestInfo *info, guint *last_segment_no, GError **error)
{
  g_autofree gchar *contents = NULL;
  g_autoptr (GError) local = NULL;
  gchar prev[HASH_HEX_LEN + 1];
  gsize length = 0;
  GStatBuf st;
  const gchar *p, *end;
  guint line = 0;

  info->bad_index = -1;
  if (g_stat (path, &st) != 0) {
    int saved = errno;
    g_set_error (error, GST_MED_MANIFEST_ERROR,
        saved == ENOENT ? GST_MED_MANIFEST_ERROR_MISSING
                        : GST_MED_MANIFEST_ERROR_IO,
        "cannot read %s: %s", path, g_strerror (saved));
    return FALSE;
  }
  if (!S_ISREG (st.st_mode) || st.st_size > MAX_MANIFEST_BYTES) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE,
        "%s is not a regular file of at most %d bytes", path,
        MAX_MANIFEST_BYTES);
    return FALSE;
  }
  if (!g_file_get_contents (path, &contents, &length, &local)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO, "%s",
        local->message);
    return FALSE;
  }
  if (length == 0) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE,
        "%s is empty", path);
    return FALSE;
  }
  if (memchr (contents, '\0', length) != NULL) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE,
        "%s contains NUL bytes", path);
    return FALSE;
  }

  g_strlcpy (prev, zero_hash, sizeof (prev));
  p = contents;
  end = contents + length;
  for (; p < end; line++) {
    const gchar *nl = memchr (p, '\n', end - p);
    g_auto (Entry) e = { 0 };

    info->bad_index = line;
    if (nl == NULL)
      return fail_parse (error, line,
          "the last entry is cut off (no newline at its end)");
    if (!parse_entry (p, nl - p, line, &e, error)
        || !check_chain (&e, line, prev, info->sealed, error))
      return FALSE;

    if (e.kind == KIND_START) {
      info->media_dir = resolve_media_dir (path, e.dir);
    } else {
      if (e.file[0] != '\0' && !(flags & GST_MED_MANIFEST_VERIFY_CHAIN_ONLY)
          && !check_file (info->media_dir, &e, info, error))
        return FALSE;
      if (e.kind == KIND_SEGMENT) {
        GstMedManifestSegment *seg = g_new0 (GstMedManifestSegment, 1);

        if (info->segments == NULL)
          info->segments
              = g_ptr_array_new_with_free_func ((GDestroyNotify) segment_free);
        seg->index = e.index;
        seg->file = g_strdup (e.file);
        seg->bytes = e.bytes;
        seg->sha256 = g_strdup (e.sha256);
        seg->start_ns = e.start_ns;
        seg->duration_ns = e.duration_ns;
        seg->complete = e.complete;
        g_ptr_array_add (info->segments, seg);
        info->n_segments++;
        if (!e.complete)
          info->n_incomplete++;
        info->duration_ns += e.duration_ns;
        if (last_segment_no)
          *last_segment_no = MAX (*last_segment_no, segment_number (e.file));
      } else {
        info->sealed = TRUE;
        info->seal_note = g_strdup (e.note);
        if (e.file[0] != '\0') {
          info->final_file = g_build_filename (info->media_dir, e.file, NULL);
          info->final_bytes = e.bytes;
          info->final_sha256 = g_strdup (e.sha256);
        }
      }
    }
    info->n_entries++;
    g_strlcpy (prev, e.entry_hash, sizeof (prev));
    g_free (info->head_hash);
    info->head_hash = g_strdup (prev);
    p = nl + 1;
  }
  info->bad_index = -1;

  if ((flags & GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED) && !info->sealed) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_UNSEALED,
        "%s is not sealed: the recording did not end normally", path);
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_med_manifest_verify_full (const gchar *path,
    GstMedManifestVerifyFlags flags, GstMedManifestInfo *info, GError **error)
{
  GstMedManifestInfo scratch = { 0 };
  gboolean ok;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ok = verify_internal (path, flags, info ? info : &scratch, NULL, error);
  gst_med_manifest_info_clear (&scratch);
  return ok;
}

gboolean
gst_med_manifest_verify (const gchar *path, GError **error)
{
  return gst_med_manifest_verify_full (path, GST_MED_MANIFEST_VERIFY_NONE, NULL,
      error);
}

/* Cuts a trailing line that has no newline: it was never completely
 * written, so it was never fsynced as an entry either. */
static gboolean
drop_partial_line (const gchar *path, GError **error)
{
  g_autofree gchar *contents = NULL;
  g_autoptr (GError) local = NULL;
  gsize length = 0;
  const gchar *last_nl;

  if (!g_file_get_contents (path, &contents, &length, &local)) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO, "%s",
        local->message);
    return FALSE;
  }
  if (length == 0 || contents[length - 1] == '\n')
    return TRUE;
  last_nl = g_strrstr_len (contents, length, "\n");
  if (last_nl == NULL || truncate (path, last_nl - contents + 1) != 0) {
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
        "cannot cut the partial last line of %s", path);
    return FALSE;
  }
  g_info ("cut a partial last line from %s", path);
  return TRUE;
}

GstMedManifest *
gst_med_manifest_open (const gchar *path, GError **error)
{
  g_autoptr (GstMedManifest) m = g_new0 (GstMedManifest, 1);
  GstMedManifestInfo info = { 0 };
  gboolean ok;

  g_return_val_if_fail (path != NULL, NULL);

  m->fd = -1;
  m->path = g_canonicalize_filename (path, NULL);
  if (!drop_partial_line (m->path, error))
    return NULL;
  ok = verify_internal (m->path, GST_MED_MANIFEST_VERIFY_CHAIN_ONLY, &info,
      &m->last_segment_no, error);
  if (ok) {
    m->media_dir = g_strdup (info.media_dir);
    g_strlcpy (m->head, info.head_hash, sizeof (m->head));
    m->next_index = info.n_entries;
    m->n_segments = info.n_segments;
    m->duration_ns = info.duration_ns;
    m->sealed = info.sealed;
  }
  gst_med_manifest_info_clear (&info);
  if (!ok)
    return NULL;

  m->fd = g_open (m->path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);
  if (m->fd < 0) {
    int saved = errno;
    g_set_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO,
        "cannot open %s: %s", m->path, g_strerror (saved));
    return NULL;
  }
  return g_steal_pointer (&m);
}

gboolean
gst_med_manifest_recover (const gchar *path, GError **error)
{
  g_autoptr (GstMedManifest) m = NULL;
  g_auto (GStrv) unlisted = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  m = gst_med_manifest_open (path, error);
  if (m == NULL)
    return FALSE;
  if (m->sealed)
    return TRUE;
  unlisted = gst_med_manifest_find_unlisted (m);
  for (guint i = 0; unlisted[i] != NULL; i++)
    if (!gst_med_manifest_add_segment (m, unlisted[i], 0, 0, FALSE, NULL,
            error))
      return FALSE;
  return gst_med_manifest_seal (m, NULL, m->duration_ns, "interrupted", NULL,
      error);
}
