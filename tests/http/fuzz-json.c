/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-json.c — fuzz target over the HTTP server's JSON request decoding:
 * the one-object parser with its size, UTF-8, NUL and nesting checks, the
 * booking and reschedule bodies, and the entity bodies (rooms, mediators,
 * interpreters, cases with parties) read by the import-document parser.
 * Whatever the bytes, each call either decodes or fails with a GError; a
 * crash, a sanitizer report or a CRITICAL is a finding.
 *
 * Built two ways: with clang and -fsanitize=fuzzer as a libFuzzer target
 * (-Dfuzz=true, tests/http/run-fuzz-json.sh), and with any compiler as a
 * standalone program (MED_FUZZ_STANDALONE) that runs the seed corpus and a
 * bounded number of deterministic random mutations of it — that one is in
 * the 'http' test suite. */
#include "med-http-private.h"

#include <stdlib.h>
#include <string.h>

static void
decode_all (const guint8 *data, size_t size)
{
  static const char *const kinds[]
      = { "rooms", "mediators", "interpreters", "cases" };
  const char *text = (const char *) data;
  MedBookingRequest req;
  GError *error = NULL;
  JsonNode *node;

  node = med_http_json_parse_object (text, size, &error);
  g_clear_pointer (&node, json_node_unref);
  g_clear_error (&error);
  med_http_decode_booking (text, size, "Asia/Shanghai", TRUE, &req, &error);
  g_clear_error (&error);
  med_http_decode_booking (text, size, "Asia/Shanghai", FALSE, &req, &error);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++) {
    MedImportDoc *doc = med_http_decode_entity (text, size, kinds[i],
        "Asia/Shanghai", &error);

    g_clear_pointer (&doc, med_import_doc_free);
    g_clear_error (&error);
  }
}

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean once;

  if (!once) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    once = TRUE;
  }
  if (size > 256 * 1024)
    return 0;
  decode_all (data, size);
  return 0;
}

#ifdef MED_FUZZ_STANDALONE
/* Mutations of one seed: flip, insert, delete, duplicate a span, or
 * splice in a JSON-ish token. */
static GBytes *
mutate (GRand *rnd, const guint8 *seed, gsize len)
{
  static const char *const tokens[] = { "{", "}", "[", "]", "\"", ":", ",",
    "null", "true", "1e400", "-0", "99999999999999999999", "\\u0000", "\xff",
    "\xc3", "\"case_id\"", "\"start\"", "\"parties\"", " ", "\\" };
  GByteArray *b = g_byte_array_new ();
  guint n = g_rand_int_range (rnd, 1, 6);

  g_byte_array_append (b, seed, len);
  for (guint i = 0; i < n; i++) {
    guint pos = b->len ? g_rand_int_range (rnd, 0, b->len) : 0;

    switch (g_rand_int_range (rnd, 0, 5)) {
      case 0:
        if (b->len)
          b->data[pos] ^= 1u << g_rand_int_range (rnd, 0, 8);
        break;
      case 1: {
        const char *t
            = tokens[g_rand_int_range (rnd, 0, G_N_ELEMENTS (tokens))];

        if (pos <= b->len) {
          GByteArray *c = g_byte_array_new ();

          g_byte_array_append (c, b->data, pos);
          g_byte_array_append (c, (const guint8 *) t, strlen (t));
          g_byte_array_append (c, b->data + pos, b->len - pos);
          g_byte_array_unref (b);
          b = c;
        }
        break;
      }
      case 2:
        if (b->len) {
          guint cut = (guint) g_rand_int_range (rnd, 1, 8);

          g_byte_array_remove_range (b, pos, MIN (cut, b->len - pos));
        }
        break;
      case 3:
        if (b->len && b->len < 8192) {
          guint span = MIN (b->len - pos, 32u);
          g_autofree guint8 *copy = g_memdup2 (b->data + pos, span);

          g_byte_array_append (b, copy, span);
        }
        break;
      default:
        g_byte_array_set_size (b, pos);
        break;
    }
  }
  return g_byte_array_free_to_bytes (b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GRand) rnd = g_rand_new_with_seed (4242);
  g_autoptr (GPtrArray) seeds
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *dir = argc > 1 ? argv[1] : "fuzz-corpus";
  guint rounds = argc > 2 ? (guint) atoi (argv[2]) : 20000;
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  while (d && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    char *data = NULL;
    gsize len = 0;

    if (g_file_get_contents (path, &data, &len, NULL))
      g_ptr_array_add (seeds, g_bytes_new_take (data, len));
  }
  if (seeds->len == 0) {
    printf ("Bail out! no seeds in %s\n", dir);
    return 1;
  }
  for (guint i = 0; i < seeds->len; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (g_ptr_array_index (seeds, i), &len);

    LLVMFuzzerTestOneInput (p, len);
  }
  for (guint i = 0; i < rounds; i++) {
    GBytes *seed
        = g_ptr_array_index (seeds, g_rand_int_range (rnd, 0, seeds->len));
    gsize len;
    const guint8 *p = g_bytes_get_data (seed, &len);
    g_autoptr (GBytes) m = mutate (rnd, p, len);
    const guint8 *mp = g_bytes_get_data (m, &len);

    LLVMFuzzerTestOneInput (mp, len);
  }
  printf ("ok 1 - %u seeds and %u mutations decoded without a crash\n1..1\n",
      seeds->len, rounds);
  return 0;
}
#endif
