/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gstmedmanifest.h — the hash-chained manifest of a recording: writing it
 * (used by medrecorder) and verifying it (used by the media module and the
 * CLI). GLib and json-glib only; no GStreamer, so anything can link it.
 *
 * A manifest is a text file with one JSON object per line ("JSON Lines").
 * Every entry carries the SHA-256 of the previous entry (prev_hash; 64
 * zeros for the first) and its own entry_hash:
 *
 *   entry_hash = hex (SHA-256 (prev_hash + "\n" + canonical (entry)))
 *
 * where canonical() is a fixed "key=value\n" rendering of the entry's
 * fields (see gstmedmanifest.c), independent of JSON formatting. Kinds:
 *
 *   start    index 0: format version, creation time, recording id, and the
 *            directory holding the media files ("." = beside the manifest)
 *   segment  one closed (or, after a crash, interrupted) Matroska segment:
 *            file name, bytes, sha256, start_ns, duration_ns, complete
 *   seal     the last entry: the final remuxed file (file, bytes, sha256,
 *            duration_ns; file is "" when none was made), the number of
 *            segments, and a note ("complete", "interrupted", …)
 *
 * Each line is written with one write() and fsync()ed before the next
 * segment's entry, so a killed process leaves a valid, unsealed chain of
 * every segment it finished. Editing, removing, inserting or reordering an
 * entry breaks the chain; changing a file breaks its sha256. Truncating the
 * manifest at an entry boundary cannot be seen from the file alone: keep the
 * head hash (GstMedManifestInfo.head_hash, also posted by medrecorder) in
 * the audit log to detect that. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Media files are named GST_MED_SEGMENT_PREFIX + "%05u" + GST_MED_SEGMENT_SUFFIX,
 * numbered from 1. */
#define GST_MED_SEGMENT_PREFIX  "segment-"
#define GST_MED_SEGMENT_SUFFIX  ".mkv"
#define GST_MED_MANIFEST_NAME   "manifest.jsonl"
#define GST_MED_FINAL_NAME      "recording.mkv"
#define GST_MED_MANIFEST_FORMAT 1

#define GST_MED_MANIFEST_ERROR (gst_med_manifest_error_quark ())
GQuark gst_med_manifest_error_quark (void);

typedef enum
{
  GST_MED_MANIFEST_ERROR_IO, /* the manifest or a file could not be read or written */
  GST_MED_MANIFEST_ERROR_PARSE, /* a line is not a well-formed entry */
  GST_MED_MANIFEST_ERROR_CHAIN, /* an entry was edited, removed, inserted or reordered */
  GST_MED_MANIFEST_ERROR_MISSING, /* a listed file does not exist */
  GST_MED_MANIFEST_ERROR_ALTERED, /* a listed file's size or SHA-256 changed */
  GST_MED_MANIFEST_ERROR_UNSEALED, /* GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED and no seal */
  GST_MED_MANIFEST_ERROR_EXISTS, /* the writer refuses to overwrite a manifest */
  GST_MED_MANIFEST_ERROR_SEALED, /* the writer was asked to append after the seal */
} GstMedManifestError;

typedef enum
{
  GST_MED_MANIFEST_VERIFY_NONE = 0,
  /* fail with GST_MED_MANIFEST_ERROR_UNSEALED unless the last entry is a seal */
  GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED = 1 << 0,
  /* check the chain only; do not re-hash the media files */
  GST_MED_MANIFEST_VERIFY_CHAIN_ONLY = 1 << 1,
} GstMedManifestVerifyFlags;

/* One segment entry, as read. */
typedef struct
{
  guint index; /* the entry's index in the chain */
  gchar *file; /* a plain file name in the media directory */
  guint64 bytes;
  gchar *sha256; /* 64 lowercase hex digits */
  guint64 start_ns, duration_ns;
  gboolean complete; /* FALSE: cut by a crash */
} GstMedManifestSegment;

/* What a verification found: also the manifest's one reader (the media
 * module, the HTTP server and the final remux read a manifest through it).
 * Filled as far as verification got, so on failure bad_file / bad_index
 * say where it stopped. Clear with gst_med_manifest_info_clear(). */
typedef struct
{
  guint n_entries; /* entries read and chained correctly */
  guint n_segments; /* segment entries among them */
  guint n_incomplete; /* segments marked complete=false (cut by a crash) */
  gboolean sealed; /* the last entry is a seal */
  gchar *seal_note; /* the seal's note, or NULL */
  gchar *media_dir; /* absolute directory of the media files */
  gchar *final_file; /* absolute path of the sealed final file, or NULL */
  guint64 final_bytes; /* its size and SHA-256 as sealed */
  gchar *final_sha256;
  gchar *head_hash; /* entry_hash of the last good entry */
  guint64 duration_ns; /* sum of the segments' durations */
  gchar *bad_file; /* on MISSING/ALTERED: absolute path of that file */
  gint bad_index; /* index of the entry that failed, or -1 */
  GPtrArray *segments; /* GstMedManifestSegment*, in order, or NULL */
} GstMedManifestInfo;

void gst_med_manifest_info_clear (GstMedManifestInfo *info);

/* Re-reads the manifest at @path, checks every entry's chain and re-hashes
 * every file it lists. A valid but unsealed manifest (a killed recording)
 * passes. On failure the error message names the entry and, for a changed
 * or missing file, the file. */
gboolean gst_med_manifest_verify (const gchar *path, GError **error);

/* As gst_med_manifest_verify(), with @flags, and filling @info (nullable;
 * caller-allocated, zero it first). */
gboolean gst_med_manifest_verify_full (const gchar *path,
    GstMedManifestVerifyFlags flags, GstMedManifestInfo *info, GError **error);

/* Hashes the file at @path with SHA-256; with @sync, fsync()s it first.
 * @hex_out: (transfer full) (out): 64 lowercase hex digits. */
gboolean gst_med_file_sha256 (const gchar *path, gboolean sync, gchar **hex_out,
    guint64 *size_out, GError **error);

/* The writer. Not thread-safe: one thread owns a GstMedManifest. */
typedef struct _GstMedManifest GstMedManifest;

/* Creates the manifest at @path (refusing to overwrite one: EXISTS) and
 * writes the start entry. @media_dir holds the media files; it is recorded
 * as "." when it is the manifest's own directory. @recording_id: nullable.
 * Returns: (transfer full): the writer, or NULL with @error set. */
GstMedManifest *gst_med_manifest_create (const gchar *path,
    const gchar *media_dir, const gchar *recording_id, GError **error);

/* Re-opens an existing manifest for appending after verifying its chain
 * (not its files). A trailing partial line, left by a crash in the middle of
 * a write, is cut off first. A sealed manifest opens, but refuses appends
 * (GST_MED_MANIFEST_ERROR_SEALED).
 * Returns: (transfer full): the writer, or NULL with @error set. */
GstMedManifest *gst_med_manifest_open (const gchar *path, GError **error);

/* Hashes (and fsyncs) @file, which must be in the media directory, and
 * appends its segment entry; fsyncs the manifest.
 * @entry_hash_out: (out) (optional) (transfer full): the new head hash. */
gboolean gst_med_manifest_add_segment (GstMedManifest *manifest,
    const gchar *file, guint64 start_ns, guint64 duration_ns, gboolean complete,
    gchar **entry_hash_out, GError **error);

/* Appends the seal. @final_file: nullable (no final file was made), else a
 * file in the media directory. @note: why the recording ended.
 * @entry_hash_out: (out) (optional) (transfer full): the head hash. */
gboolean gst_med_manifest_seal (GstMedManifest *manifest,
    const gchar *final_file, guint64 duration_ns, const gchar *note,
    gchar **entry_hash_out, GError **error);

/* Files of the media directory named like segments and newer than the last
 * listed segment, in order. For crash recovery: the segment that was open
 * when the process died.
 * Returns: (transfer full): absolute paths, possibly empty. */
GStrv gst_med_manifest_find_unlisted (GstMedManifest *manifest);

gboolean gst_med_manifest_is_sealed (GstMedManifest *manifest);
guint gst_med_manifest_get_n_segments (GstMedManifest *manifest);
/* Returns: (transfer none): the absolute media directory. */
const gchar *gst_med_manifest_get_media_dir (GstMedManifest *manifest);
/* Returns: (transfer none): the entry_hash of the last entry written. */
const gchar *gst_med_manifest_get_head_hash (GstMedManifest *manifest);

/* Closes the file (without sealing) and frees the writer. */
void gst_med_manifest_free (GstMedManifest *manifest);

/* Recovery after a crash: opens the manifest, appends every unlisted segment
 * file as an incomplete segment (duration 0: unknown), and seals it with the
 * note "interrupted".
 * Does nothing to an already sealed manifest. */
gboolean gst_med_manifest_recover (const gchar *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMedManifest, gst_med_manifest_free)

G_END_DECLS
