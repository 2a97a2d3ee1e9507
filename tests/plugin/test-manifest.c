/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-manifest.c — the hash-chained recording manifest on its own: writing,
 * verifying, every way of tampering with files or entries, crash recovery,
 * and hostile manifests (truncated, oversized, wrong types, paths that leave
 * the directory). No GStreamer: segments here are files of random bytes. */
#define G_LOG_DOMAIN "medsched-test"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gstmedmanifest.h"

typedef struct
{
  gchar *dir;
  gchar *manifest;
} Fixture;

static void
write_random_file (const gchar *path, gsize size)
{
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = g_random_int_range (0, 256);
  g_file_set_contents (path, (const gchar *) data, size, &error);
  g_assert_no_error (error);
}

static gchar *
segment_path (Fixture *f, guint n)
{
  g_autofree gchar *name
      = g_strdup_printf (GST_MED_SEGMENT_PREFIX "%05u" GST_MED_SEGMENT_SUFFIX,
          n);

  return g_build_filename (f->dir, name, NULL);
}

/* A sealed manifest over three segments and a final file. */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstMedManifest) m = NULL;
  g_autofree gchar *final = NULL;
  gboolean sealed = GPOINTER_TO_INT (data) != 0;

  f->dir = g_dir_make_tmp ("medmanifest-XXXXXX", &error);
  g_assert_no_error (error);
  f->manifest = g_build_filename (f->dir, GST_MED_MANIFEST_NAME, NULL);
  m = gst_med_manifest_create (f->manifest, f->dir, "session-42", &error);
  g_assert_no_error (error);
  for (guint i = 1; i <= 3; i++) {
    g_autofree gchar *path = segment_path (f, i);

    write_random_file (path, 10000 + i);
    g_assert_true (gst_med_manifest_add_segment (m, path,
        (i - 1) * 2 * G_TIME_SPAN_SECOND * 1000, 2 * G_TIME_SPAN_SECOND * 1000,
        TRUE, NULL, &error));
    g_assert_no_error (error);
  }
  if (sealed) {
    final = g_build_filename (f->dir, GST_MED_FINAL_NAME, NULL);
    write_random_file (final, 30000);
    g_assert_true (
        gst_med_manifest_seal (m, final, 6000000000, "complete", NULL, &error));
    g_assert_no_error (error);
  }
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (f->dir, name, NULL);
    g_unlink (path);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->manifest);
}

static GStrv
read_lines (Fixture *f)
{
  g_autofree gchar *contents = NULL;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (f->manifest, &contents, NULL, &error);
  g_assert_no_error (error);
  return g_strsplit (contents, "\n", -1);
}

static void
write_lines (Fixture *f, GStrv lines)
{
  g_autofree gchar *joined = g_strjoinv ("\n", lines);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (f->manifest, joined, -1, &error);
  g_assert_no_error (error);
}

static void
write_manifest (Fixture *f, const gchar *contents, gssize len)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (f->manifest, contents, len, &error);
  g_assert_no_error (error);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  GstMedManifestInfo info = { 0 };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = read_lines (f);

  g_assert_true (gst_med_manifest_verify_full (f->manifest,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.n_entries, ==, 5);
  g_assert_cmpuint (info.n_segments, ==, 3);
  g_assert_cmpuint (info.n_incomplete, ==, 0);
  g_assert_true (info.sealed);
  g_assert_cmpstr (info.seal_note, ==, "complete");
  g_assert_cmpuint (info.duration_ns, ==, 6000000000);
  g_assert_nonnull (info.final_file);
  g_assert_true (g_str_has_suffix (info.final_file, GST_MED_FINAL_NAME));
  g_assert_cmpint (strlen (info.head_hash), ==, 64);
  g_assert_cmpint (info.bad_index, ==, -1);
  /* one JSON object per line, newline-terminated, head hash last */
  g_assert_cmpuint (g_strv_length (lines), ==, 6);
  g_assert_cmpstr (lines[5], ==, "");
  g_assert_nonnull (strstr (lines[4], info.head_hash));
  g_assert_nonnull (strstr (lines[0], "\"recording_id\":\"session-42\""));
  gst_med_manifest_info_clear (&info);
}

static void
test_altered_segment (Fixture *f, gconstpointer data)
{
  GstMedManifestInfo info = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = segment_path (f, 2);
  g_autofree gchar *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  contents[len / 2] ^= 0x01; /* one bit, same size */
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);

  g_assert_false (gst_med_manifest_verify_full (f->manifest, 0, &info, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR,
      GST_MED_MANIFEST_ERROR_ALTERED);
  g_assert_nonnull (strstr (error->message, "segment-00002.mkv"));
  g_assert_null (strstr (error->message, "segment-00001.mkv"));
  g_assert_cmpstr (info.bad_file, ==, path);
  g_assert_cmpint (info.bad_index, ==, 2);
  gst_med_manifest_info_clear (&info);

  /* the chain alone is still intact */
  g_clear_error (&error);
  g_assert_true (gst_med_manifest_verify_full (f->manifest,
      GST_MED_MANIFEST_VERIFY_CHAIN_ONLY, NULL, &error));
  g_assert_no_error (error);
}

static void
test_truncated_segment (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = segment_path (f, 3);

  g_assert_cmpint (truncate (path, 100), ==, 0);
  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR,
      GST_MED_MANIFEST_ERROR_ALTERED);
  g_assert_nonnull (strstr (error->message, "segment-00003.mkv"));
}

static void
test_missing_segment (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = segment_path (f, 1);

  g_unlink (path);
  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR,
      GST_MED_MANIFEST_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "segment-00001.mkv"));
}

static void
test_altered_final (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = g_build_filename (f->dir, GST_MED_FINAL_NAME, NULL);

  write_random_file (path, 30000);
  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR,
      GST_MED_MANIFEST_ERROR_ALTERED);
  g_assert_nonnull (strstr (error->message, GST_MED_FINAL_NAME));
}

/* Re-hashing a changed file and writing the new hash into its entry is
 * caught by the chain. */
static void
test_edited_entry (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = read_lines (f);
  g_autoptr (GRegex) re = g_regex_new ("\"bytes\":10002", 0, 0, NULL);
  gchar *edited = g_regex_replace_literal (re, lines[2], -1, 0,
      "\"bytes\":10003", 0, NULL);

  g_assert_cmpstr (edited, !=, lines[2]);
  g_free (lines[2]);
  lines[2] = edited;
  write_lines (f, lines);

  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN);
  g_assert_nonnull (strstr (error->message, "entry 2"));
  g_assert_nonnull (strstr (error->message, "edited"));
}

static void
test_removed_entry (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = read_lines (f);

  /* drop entry 2 (segment-00002) */
  g_free (lines[2]);
  memmove (&lines[2], &lines[3],
      (g_strv_length (lines) - 2) * sizeof (gchar *));
  write_lines (f, lines);

  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN);
}

static void
test_swapped_entries (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = read_lines (f);
  gchar *tmp = lines[1];

  lines[1] = lines[2];
  lines[2] = tmp;
  write_lines (f, lines);

  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN);
}

static void
test_entry_after_seal (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = read_lines (f);
  g_autofree gchar *contents = NULL;

  /* the sealed chain refuses appends ... */
  {
    g_autoptr (GstMedManifest) m = gst_med_manifest_open (f->manifest, &error);
    g_autofree gchar *path = segment_path (f, 4);

    g_assert_no_error (error);
    g_assert_true (gst_med_manifest_is_sealed (m));
    write_random_file (path, 100);
    g_assert_false (
        gst_med_manifest_add_segment (m, path, 0, 0, TRUE, NULL, &error));
    g_assert_error (error, GST_MED_MANIFEST_ERROR,
        GST_MED_MANIFEST_ERROR_SEALED);
    g_clear_error (&error);
  }
  /* ... and a copied entry pasted after the seal is caught */
  contents = g_strconcat (lines[0], "\n", lines[1], "\n", lines[2], "\n",
      lines[3], "\n", lines[4], "\n", lines[3], "\n", NULL);
  write_manifest (f, contents, -1);
  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_CHAIN);
  g_assert_nonnull (strstr (error->message, "follows the seal"));
}

static void
test_unsealed (Fixture *f, gconstpointer data)
{
  GstMedManifestInfo info = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (gst_med_manifest_verify_full (f->manifest, 0, &info, &error));
  g_assert_no_error (error);
  g_assert_false (info.sealed);
  g_assert_cmpuint (info.n_segments, ==, 3);
  gst_med_manifest_info_clear (&info);

  g_assert_false (gst_med_manifest_verify_full (f->manifest,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, NULL, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR,
      GST_MED_MANIFEST_ERROR_UNSEALED);
}

/* After a crash: the open segment is on disk but not listed, and the last
 * line may be half written. */
static void
test_recover (Fixture *f, gconstpointer data)
{
  GstMedManifestInfo info = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *open_segment = segment_path (f, 4);
  g_autofree gchar *contents = NULL;
  g_autofree gchar *partial = NULL;

  write_random_file (open_segment, 5000);
  g_file_get_contents (f->manifest, &contents, NULL, &error);
  g_assert_no_error (error);
  partial = g_strconcat (contents, "{\"index\":4,\"kind\":\"seg", NULL);
  write_manifest (f, partial, -1);

  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE);
  g_clear_error (&error);

  g_assert_true (gst_med_manifest_recover (f->manifest, &error));
  g_assert_no_error (error);
  g_assert_true (gst_med_manifest_verify_full (f->manifest,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.n_segments, ==, 4);
  g_assert_cmpuint (info.n_incomplete, ==, 1);
  g_assert_cmpstr (info.seal_note, ==, "interrupted");
  g_assert_null (info.final_file);
  gst_med_manifest_info_clear (&info);

  /* recovering twice changes nothing */
  g_clear_pointer (&contents, g_free);
  g_file_get_contents (f->manifest, &contents, NULL, &error);
  g_assert_true (gst_med_manifest_recover (f->manifest, &error));
  g_assert_no_error (error);
  {
    g_autofree gchar *again = NULL;

    g_file_get_contents (f->manifest, &again, NULL, &error);
    g_assert_cmpstr (again, ==, contents);
  }
}

static void
test_refuses_overwrite (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstMedManifest) m
      = gst_med_manifest_create (f->manifest, f->dir, NULL, &error);

  g_assert_null (m);
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_EXISTS);
}

static void
test_file_outside_directory (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstMedManifest) m = gst_med_manifest_open (f->manifest, &error);
  g_autofree gchar *outside
      = g_build_filename (g_get_tmp_dir (), "medmanifest-outside.mkv", NULL);

  g_assert_no_error (error);
  write_random_file (outside, 10);
  g_assert_false (
      gst_med_manifest_add_segment (m, outside, 0, 0, TRUE, NULL, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_IO);
  g_unlink (outside);
}

/* The manifest kept apart from the media (e.g. on another disk): the media
 * directory is recorded as an absolute path. */
static void
test_separate_directory (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *other = g_build_filename (f->dir, "elsewhere", NULL);
  g_autofree gchar *path = g_build_filename (other, "m.jsonl", NULL);
  g_autofree gchar *segment = segment_path (f, 9);
  g_autoptr (GstMedManifest) m = NULL;
  GstMedManifestInfo info = { 0 };

  m = gst_med_manifest_create (path, f->dir, NULL, &error);
  g_assert_no_error (error);
  write_random_file (segment, 1000);
  g_assert_true (
      gst_med_manifest_add_segment (m, segment, 0, 1, TRUE, NULL, &error));
  g_assert_true (gst_med_manifest_seal (m, NULL, 1, "complete", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (gst_med_manifest_verify_full (path,
      GST_MED_MANIFEST_VERIFY_REQUIRE_SEALED, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.media_dir, ==, f->dir);
  g_assert_cmpuint (info.n_segments, ==, 1);
  gst_med_manifest_info_clear (&info);
  g_unlink (path);
  g_rmdir (other);
}

/* Hostile manifests: each must give PARSE (or CHAIN), never a crash or a
 * CRITICAL. The first line is replaced by the given text. */
static void
test_hostile (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const gchar *line;
    gint code;
  } cases[] = {
    { "not json at all", GST_MED_MANIFEST_ERROR_PARSE },
    { "[1,2,3]", GST_MED_MANIFEST_ERROR_PARSE },
    { "\"a string\"", GST_MED_MANIFEST_ERROR_PARSE },
    { "{}", GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":\"0\"}", GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":{\"a\":1},\"kind\":[]}", GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"start\",\"prev_hash\":{},\"entry_hash\":[]}",
        GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":-1,\"kind\":\"start\"}", GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"start\",\"format\":1,\"created\":\"x\","
      "\"recording_id\":\"\",\"dir\":\".\",\"prev_hash\":\"zz\","
      "\"entry_hash\":\"00\"}",
        GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"start\",\"format\":99,\"created\":\"x\","
      "\"recording_id\":\"\",\"dir\":\".\",\"prev_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\","
      "\"entry_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
        GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"start\",\"format\":1,\"created\":\"x\","
      "\"recording_id\":\"\",\"dir\":\".\",\"extra\":true,\"prev_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\","
      "\"entry_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
        GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"start\",\"format\":1,\"created\":\"x\","
      "\"recording_id\":\"'; DROP TABLE booking; --\",\"dir\":\".\","
      "\"prev_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\","
      "\"entry_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
        GST_MED_MANIFEST_ERROR_CHAIN },
    { "{\"index\":0,\"kind\":\"segment\",\"file\":\"../../etc/passwd\","
      "\"bytes\":1,\"sha256\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\","
      "\"start_ns\":0,\"duration_ns\":0,\"complete\":true,\"prev_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\","
      "\"entry_hash\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
        GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"segment\",\"file\":\"/etc/passwd\","
      "\"bytes\":1,\"sha256\":\"\",\"start_ns\":0,\"duration_ns\":0,"
      "\"complete\":true,\"prev_hash\":\"\",\"entry_hash\":\"\"}",
        GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"explode\"}", GST_MED_MANIFEST_ERROR_PARSE },
    { "{\"index\":0,\"kind\":\"start\",\"format\":1,\"created\":\"\xff\xfe\","
      "\"recording_id\":\"\",\"dir\":\".\"}",
        GST_MED_MANIFEST_ERROR_PARSE },
  };
  g_auto (GStrv) lines = read_lines (f);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *contents
        = g_strconcat (cases[i].line, "\n", lines[1], "\n", NULL);

    write_manifest (f, contents, -1);
    g_assert_false (gst_med_manifest_verify (f->manifest, &error));
    g_assert_error (error, GST_MED_MANIFEST_ERROR, cases[i].code);
  }
}

static void
test_hostile_sizes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *huge_line = NULL;
  g_autofree gchar *contents = NULL;
  g_autofree gchar *missing = g_build_filename (f->dir, "absent.jsonl", NULL);
  static const gchar with_nul[] = "{\"index\":0}\0\n";

  /* empty */
  write_manifest (f, "", 0);
  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE);
  g_clear_error (&error);

  /* one enormous line */
  huge_line = g_strnfill (100000, 'x');
  contents = g_strconcat ("{\"index\":0,\"kind\":\"", huge_line, "\"}\n", NULL);
  write_manifest (f, contents, -1);
  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE);
  g_clear_error (&error);

  /* NUL bytes */
  write_manifest (f, with_nul, sizeof (with_nul) - 1);
  g_assert_false (gst_med_manifest_verify (f->manifest, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE);
  g_clear_error (&error);

  /* no such manifest; a directory instead of a file */
  g_assert_false (gst_med_manifest_verify (missing, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR,
      GST_MED_MANIFEST_ERROR_MISSING);
  g_clear_error (&error);
  g_assert_false (gst_med_manifest_verify (f->dir, &error));
  g_assert_error (error, GST_MED_MANIFEST_ERROR, GST_MED_MANIFEST_ERROR_PARSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, sealed, fn)                                                  \
  g_test_add (path, Fixture, GINT_TO_POINTER (sealed), fixture_set_up, fn,     \
      fixture_tear_down)
  ADD ("/plugin/manifest/verify/round-trip", TRUE, test_round_trip);
  ADD ("/plugin/manifest/verify/altered-segment", TRUE, test_altered_segment);
  ADD ("/plugin/manifest/verify/truncated-segment", TRUE,
      test_truncated_segment);
  ADD ("/plugin/manifest/verify/missing-segment", TRUE, test_missing_segment);
  ADD ("/plugin/manifest/verify/altered-final", TRUE, test_altered_final);
  ADD ("/plugin/manifest/chain/edited-entry", TRUE, test_edited_entry);
  ADD ("/plugin/manifest/chain/removed-entry", TRUE, test_removed_entry);
  ADD ("/plugin/manifest/chain/swapped-entries", TRUE, test_swapped_entries);
  ADD ("/plugin/manifest/chain/after-seal", TRUE, test_entry_after_seal);
  ADD ("/plugin/manifest/verify/unsealed", FALSE, test_unsealed);
  ADD ("/plugin/manifest/recover/crash", FALSE, test_recover);
  ADD ("/plugin/manifest/write/refuses-overwrite", TRUE,
      test_refuses_overwrite);
  ADD ("/plugin/manifest/write/outside-directory", FALSE,
      test_file_outside_directory);
  ADD ("/plugin/manifest/write/separate-directory", FALSE,
      test_separate_directory);
  ADD ("/plugin/manifest/hostile/entries", TRUE, test_hostile);
  ADD ("/plugin/manifest/hostile/sizes", TRUE, test_hostile_sizes);
#undef ADD

  return g_test_run ();
}
