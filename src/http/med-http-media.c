/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-media.c — recordings over HTTP, and `medsched serve` running
 * session pipelines at booking times.
 *
 * Recordings: GET /api/v1/bookings/{id}/recordings (the rows of a
 * booking), GET /api/v1/recordings/{id} (one row with its interruption log
 * and segment list), GET /recordings/{id} (a playback page) and
 * GET /recordings/{id}/file (the sealed final file). Admins and clerks see
 * every recording of the centre, a mediator only those of bookings they
 * mediate; everybody else gets 401/403/404 and nothing is served. Every
 * successful access writes an audit row (recording.view, .play,
 * .download); a refusal is only in the access log. The final file is the
 * one the sealed manifest names, a plain file name inside the recording's
 * own directory, opened without following symbolic links and mapped
 * (GMappedFile), so serving it copies nothing. One Range is answered
 * here with a slice of the mapping (206, or 416 when unsatisfiable);
 * several ranges get the whole file. (libsoup 3.2 answers ranges of a
 * complete 200 body itself, but flattens the body first: a copy of the
 * whole file per request.)
 *
 * Sessions at booking times: with [media] room-<id> = URI[;URI…] in the
 * serve configuration, a one-second timer looks at the confirmed bookings
 * of those rooms. When a booking is in progress and not yet recorded, it
 * starts a MedSession in <media-dir>/booking-<id>-<n>, in the regime the
 * booking's note asks for ("recording: hearing", "recording: mediation",
 * "recording: off"; mediation when the note says nothing). A mediation
 * session waits, polling, until every party consented, and is stopped
 * (sealed) when a consent is withdrawn, to start anew once every party
 * consents again. At the booking's end, or when it is cancelled or moved
 * away from now, the session is stopped (EOS, sealed). A failed session is logged (its row says why)
 * and retried with back-off while the booking lasts. Server shutdown stops
 * every session and waits for the seals before the store closes. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

#ifdef MEDSCHED_HAVE_MEDIA
#include <medsched/med-media.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gstmedmanifest.h"

#define IS(r, m) ((r)->method == SOUP_METHOD_##m)

/* The recorder's manifest, beside the segments in the recording's
 * directory. */
#define MAX_MANIFEST_BYTES (16 * 1024 * 1024)

/* ---- the manifest, read for listing and for the final file ---------- */

typedef struct
{
  GstMedManifestInfo info; /* segments, seal */
  char *final_name; /* the sealed final file's plain name, or NULL */
} Manifest;

static void
manifest_free (Manifest *m)
{
  if (m == NULL)
    return;
  gst_med_manifest_info_clear (&m->info);
  g_free (m->final_name);
  g_free (m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Manifest, manifest_free)

/* Reads the manifest of a recording directory with the recorder's own
 * reader (plugins/med/gstmedmanifest.h): every entry parsed and its chain
 * checked, the media files not re-hashed (`recording verify` does that).
 * The manifest must be a regular file, not a link, of at most
 * MAX_MANIFEST_BYTES; an entry that does not parse or chain makes the
 * whole manifest unreadable. (transfer full) */
static Manifest *
read_manifest (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, GST_MED_MANIFEST_NAME, NULL);
  g_autoptr (Manifest) m = g_new0 (Manifest, 1);
  GStatBuf st;

  if (g_lstat (path, &st) != 0 || !S_ISREG (st.st_mode)) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_NOT_FOUND,
        "the recording has no manifest");
    return NULL;
  }
  if (st.st_size > MAX_MANIFEST_BYTES) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "the recording's manifest is too large");
    return NULL;
  }
  if (!gst_med_manifest_verify_full (path, GST_MED_MANIFEST_VERIFY_CHAIN_ONLY,
          &m->info, NULL)) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "the recording's manifest is malformed; run `medsched recording "
        "verify`");
    return NULL;
  }
  if (m->info.final_file)
    m->final_name = g_path_get_basename (m->info.final_file);
  return g_steal_pointer (&m);
}

/* ---- who may see a recording ---------------------------------------- */

/* The recording with its booking, when the caller may see it; otherwise
 * the request is answered (401/403/404) and NULL returned. */
static MedRecording *
allowed_recording (MedReq *r, const char *id_text, MedBooking **booking_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedRecording) rec = NULL;
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedCase) k = NULL;
  gint64 id;

  if (!med_http_require (r, MED_ROLES_STAFF))
    return NULL;
  if (!med_http_parse_id (id_text, &id)) {
    med_http_reply_error (r, 404, "not_found", "no such recording");
    return NULL;
  }
  rec = med_store_get_recording (r->srv->store, id, &error);
  bk = rec ? med_store_get_booking (r->srv->store, rec->booking_id, &error)
           : NULL;
  k = bk ? med_store_get_case (r->srv->store, bk->case_id, &error) : NULL;
  if (k == NULL) {
    if (g_error_matches (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND))
      med_http_reply_error (r, 404, "not_found", "no such recording");
    else
      med_http_reply_gerror (r, g_steal_pointer (&error));
    return NULL;
  }
  if (k->centre_id != r->srv->cfg.centre_id) {
    med_http_reply_error (r, 404, "not_found", "no such recording");
    return NULL;
  }
  if (!med_http_may_see_booking (r, bk))
    return NULL;
  if (booking_out)
    *booking_out = g_steal_pointer (&bk);
  return g_steal_pointer (&rec);
}

/* Writes the audit row of an access; FALSE (answered 503/500) when it
 * cannot be written, and then nothing is served. */
static gboolean
audit_access (MedReq *r, gint64 recording_id, const char *what)
{
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (med_service_recording_access (r->srv->store, &ctx, recording_id, what,
          &error))
    return TRUE;
  med_http_reply_gerror (r, g_steal_pointer (&error));
  return FALSE;
}

/* ---- JSON ----------------------------------------------------------- */

static void
add_recording (MedReq *r, JsonBuilder *b, const MedRecording *rec,
    gboolean detail)
{
  g_autoptr (GPtrArray) log = NULL;
  const char *zone = r->srv->centre ? r->srv->centre->zone : NULL;
  g_autofree char *page
      = g_strdup_printf ("/recordings/%" G_GINT64_FORMAT, rec->id);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, rec->id);
  json_builder_set_member_name (b, "booking_id");
  json_builder_add_int_value (b, rec->booking_id);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, med_recording_state_to_string (rec->state));
  json_builder_set_member_name (b, "regime");
  json_builder_add_string_value (b,
      med_recording_regime_to_string (rec->regime));
  json_builder_set_member_name (b, "duration_ns");
  json_builder_add_int_value (b, (gint64) rec->duration_ns);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64) rec->bytes);
  json_builder_set_member_name (b, "head_hash");
  json_builder_add_string_value (b, rec->head_hash);
  json_builder_set_member_name (b, "failure");
  json_builder_add_string_value (b, rec->failure);
  json_builder_set_member_name (b, "segments");
  json_builder_add_int_value (b,
      med_store_count_recording_segments (r->srv->store, rec->id, NULL));
  med_http_json_add_time (b, "created_at", rec->created_at, zone);
  med_http_json_add_time (b, "updated_at", rec->updated_at, zone);
  json_builder_set_member_name (b, "page");
  json_builder_add_string_value (b, page);
  json_builder_set_member_name (b, "file");
  if (rec->state == MED_RECORDING_SEALED) {
    g_autofree char *file = g_strdup_printf ("%s/file", page);

    json_builder_add_string_value (b, file);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "log");
  json_builder_begin_array (b);
  log = med_store_list_recording_log (r->srv->store, rec->id, NULL);
  for (guint i = 0; log && i < log->len; i++) {
    MedRecordingLog *l = g_ptr_array_index (log, i);

    json_builder_begin_object (b);
    med_http_json_add_time (b, "at", l->at, zone);
    json_builder_set_member_name (b, "event");
    json_builder_add_string_value (b, med_recording_event_to_string (l->kind));
    json_builder_set_member_name (b, "detail");
    json_builder_add_string_value (b, l->detail);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  if (detail && rec->state != MED_RECORDING_PURGED) {
    g_autoptr (Manifest) m = read_manifest (rec->dir, NULL);

    json_builder_set_member_name (b, "segment_files");
    json_builder_begin_array (b);
    for (guint i = 0; m && m->info.segments && i < m->info.segments->len; i++) {
      GstMedManifestSegment *s = g_ptr_array_index (m->info.segments, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, s->index);
      json_builder_set_member_name (b, "file");
      json_builder_add_string_value (b, s->file);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, (gint64) s->bytes);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, s->sha256);
      json_builder_set_member_name (b, "duration_ns");
      json_builder_add_int_value (b, (gint64) s->duration_ns);
      json_builder_set_member_name (b, "complete");
      json_builder_add_boolean_value (b, s->complete);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_set_member_name (b, "final");
    if (m && m->final_name) {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "file");
      json_builder_add_string_value (b, m->final_name);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, (gint64) m->info.final_bytes);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, m->info.final_sha256);
      json_builder_end_object (b);
    } else {
      json_builder_add_null_value (b);
    }
    json_builder_set_member_name (b, "seal_note");
    if (m && m->info.seal_note)
      json_builder_add_string_value (b, m->info.seal_note);
    else
      json_builder_add_null_value (b);
  }
  json_builder_end_object (b);
}

static void
reply_builder (MedReq *r, JsonBuilder *b)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  med_http_reply_json (r, 200, json_builder_get_root (b));
}

/* POST /api/v1/bookings/{id}/recordings {"caucus": true|false}: a private
 * caucus pauses the booking's room recording (serve's session at booking
 * time; its log says "private caucus") until it ends. The session's
 * mediator, clerks and admins. */
static void
api_caucus (MedReq *r, MedBooking *bk)
{
  static const char *const allowed[] = { "caucus", NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gboolean on = FALSE;

  if (!med_http_require (r, MED_ROLES_STAFF) || !med_http_check_csrf (r, NULL))
    return;
  if (!med_service_may_access_booking (r->srv->store, r->user, bk, NULL)) {
    med_http_reply_error (r, 403, "forbidden",
        "only the session's mediator, clerks and admins hold its caucus");
    return;
  }
  if ((root = med_http_request_json (r, &error)) == NULL
      || !med_http_json_check_members (json_node_get_object (root), allowed,
          &error)
      || !med_http_json_get_bool (json_node_get_object (root), "caucus", TRUE,
          &on, &error)) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (!med_http_media_caucus (r->srv, bk->id, on, &error)) {
    if (error->domain == MED_HTTP_ERROR)
      med_http_reply_gerror (r, g_steal_pointer (&error));
    else
      med_http_reply_error (r, 409, "state", "%s", error->message);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "booking_id");
  json_builder_add_int_value (b, bk->id);
  json_builder_set_member_name (b, "recording_id");
  json_builder_add_int_value (b, med_http_media_recording_of (r->srv, bk->id));
  json_builder_set_member_name (b, "caucus");
  json_builder_add_boolean_value (b, on);
  json_builder_end_object (b);
  reply_builder (r, b);
}

void
med_http_api_booking_recordings (MedReq *r, MedBooking *bk)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) recs = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (IS (r, POST)) {
    api_caucus (r, bk);
    return;
  }
  if (!IS (r, GET)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if (!med_http_may_see_booking (r, bk))
    return;
  recs = med_store_list_recordings (r->srv->store, bk->id, &error);
  if (recs == NULL || med_http_centre (r->srv, &error) == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  for (guint i = 0; i < recs->len; i++) {
    MedRecording *rec = g_ptr_array_index (recs, i);

    if (!audit_access (r, rec->id, "view"))
      return;
  }
  json_builder_begin_array (b);
  for (guint i = 0; i < recs->len; i++)
    add_recording (r, b, g_ptr_array_index (recs, i), FALSE);
  json_builder_end_array (b);
  reply_builder (r, b);
}

void
med_http_api_recording (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedRecording) rec = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (r->n_seg != 4) {
    med_http_reply_error (r, 404, "not_found", "no such resource");
    return;
  }
  if ((rec = allowed_recording (r, r->seg[3], NULL)) == NULL)
    return;
  if (!IS (r, GET)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if (med_http_centre (r->srv, &error) == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (!audit_access (r, rec->id, "view"))
    return;
  add_recording (r, b, rec, TRUE);
  reply_builder (r, b);
}

/* ---- the file -------------------------------------------------------- */

static const char *
content_type_of (const char *name)
{
  if (g_str_has_suffix (name, ".mp4"))
    return "video/mp4";
  if (g_str_has_suffix (name, ".webm"))
    return "video/webm";
  if (g_str_has_suffix (name, ".mkv"))
    return "video/x-matroska";
  return "application/octet-stream";
}

/* The sealed final file, mapped. Errors map to 404 (nothing to serve) or
 * 500 (the directory no longer matches its manifest). (transfer full) */
static GMappedFile *
map_final (const MedRecording *rec, char **name_out, GError **error)
{
  g_autoptr (Manifest) m = NULL;
  g_autofree char *path = NULL;
  GMappedFile *mf;
  struct stat st;
  int fd;

  if (rec->state == MED_RECORDING_PURGED) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_NOT_FOUND,
        "the recording was purged after its retention period");
    return NULL;
  }
  if (rec->state != MED_RECORDING_SEALED || !g_path_is_absolute (rec->dir)) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_NOT_FOUND,
        "the recording has no sealed file (state %s)",
        med_recording_state_to_string (rec->state));
    return NULL;
  }
  if ((m = read_manifest (rec->dir, error)) == NULL)
    return NULL;
  if (m->final_name == NULL) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_NOT_FOUND,
        "the recording was sealed without a final file");
    return NULL;
  }
  path = g_build_filename (rec->dir, m->final_name, NULL);
  fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)
      || st.st_size == 0) {
    if (fd >= 0)
      close (fd);
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_NOT_FOUND,
        "the recording's final file is missing");
    return NULL;
  }
  if ((guint64) st.st_size != m->info.final_bytes) {
    close (fd);
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "the recording's final file does not match its manifest; run "
        "`medsched recording verify`");
    return NULL;
  }
  mf = g_mapped_file_new_from_fd (fd, FALSE, NULL);
  close (fd);
  if (mf == NULL) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "the recording's final file cannot be mapped");
    return NULL;
  }
  *name_out = g_strdup (m->final_name);
  return mf;
}

static void
reply_file (MedReq *r, MedRecording *rec)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) mf = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *name = NULL;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (r->msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (r->msg);
  const char *dl = r->query ? g_hash_table_lookup (r->query, "download") : NULL;
  gboolean download = dl && strcmp (dl, "1") == 0;
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  g_autoptr (GBytes) part = NULL;
  gboolean unsatisfiable = FALSE;
  guint64 total;

  if (!IS (r, GET) && !IS (r, HEAD)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if ((mf = map_final (rec, &name, &error)) == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  bytes = g_mapped_file_get_bytes (mf);
  total = g_bytes_get_size (bytes);
  /* Ranges are answered here: libsoup 3.2 would answer them itself from a
   * 200 body, but flattens the body first, copying the whole file (1.2 GB
   * of memory for one 100-byte range of a 600 MB file). One range gives
   * 206 or 416; several ranges, or a malformed header, the whole file. */
  if (soup_message_headers_get_ranges (req, total, &ranges, &n_ranges)) {
    if (n_ranges == 1) {
      if (ranges[0].start < 0 || (guint64) ranges[0].start >= total
          || ranges[0].end < ranges[0].start)
        unsatisfiable = TRUE;
      else
        part = g_bytes_new_from_bytes (bytes, (gsize) ranges[0].start,
            (gsize) (MIN ((guint64) ranges[0].end, total - 1)
                - (guint64) ranges[0].start + 1));
    }
    soup_message_headers_free_ranges (req, ranges);
  }
  soup_message_headers_remove (req, "Range");
  if (unsatisfiable) {
    g_autofree char *cr
        = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, (guint64) total);

    soup_message_headers_replace (h, "Content-Range", cr);
    soup_server_message_set_status (r->msg, 416, NULL);
    return;
  }
  if (!audit_access (r, rec->id, download ? "download" : "play"))
    return;
  soup_message_headers_replace (h, "Accept-Ranges", "bytes");
  soup_message_headers_replace (h, "Cache-Control", "private, no-store");
  if (download) {
    g_autofree char *fname
        = g_strdup_printf ("recording-%" G_GINT64_FORMAT "-%s", rec->id, name);
    g_autoptr (GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);

    g_hash_table_insert (params, (char *) "filename", fname);
    soup_message_headers_set_content_disposition (h, "attachment", params);
  }
  soup_message_headers_set_content_type (h, content_type_of (name), NULL);
  if (part != NULL) {
    guint64 start = (guint64) (g_bytes_get_data (part, NULL)
        - g_bytes_get_data (bytes, NULL));

    soup_message_headers_set_content_range (h, (goffset) start,
        (goffset) (start + g_bytes_get_size (part) - 1), (goffset) total);
    soup_server_message_set_status (r->msg, 206, NULL);
  } else {
    soup_server_message_set_status (r->msg, 200, NULL);
  }
  soup_message_body_append_bytes (soup_server_message_get_response_body (
                                      r->msg),
      part ? part : bytes);
  soup_message_body_complete (soup_server_message_get_response_body (r->msg));
}

/* ---- the playback page ------------------------------------------------ */

/* templates/recording.html, in the reader's language */
static void
page_recording (MedReq *r, MedRecording *rec, MedBooking *bk)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) log = NULL;
  g_autoptr (Manifest) m = NULL;
  g_autoptr (MedCase) k = NULL;
  MedCentre *centre = med_http_centre (r->srv, &error);
  const char *zone = centre ? centre->zone : "Asia/Shanghai";
  g_autofree char *start = NULL, *created = NULL, *title = NULL, *id = NULL;
  g_autofree char *duration = NULL;
  guint64 secs = rec->duration_ns / 1000000000u;
  JsonBuilder *b;

  if (!IS (r, GET) && !IS (r, HEAD)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if (centre == NULL
      || (k = med_store_get_case (r->srv->store, bk->case_id, &error)) == NULL
      || (log = med_store_list_recording_log (r->srv->store, rec->id, &error))
          == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  if (!audit_access (r, rec->id, "view"))
    return;
  if (rec->state != MED_RECORDING_PURGED)
    m = read_manifest (rec->dir, NULL);
  start = med_time_format_local (bk->start, zone, "%Y-%m-%d %H:%M");
  created = med_time_format_local (rec->created_at, zone, "%Y-%m-%d %H:%M:%S");
  id = g_strdup_printf ("%" G_GINT64_FORMAT, rec->id);
  title = med_http_tf (r, N_ ("Recording %s"), id);
  duration = g_strdup_printf ("%" G_GUINT64_FORMAT ":%02u:%02u", secs / 3600,
      (guint) (secs / 60 % 60), (guint) (secs % 60));

  b = med_http_page_begin (r, title);
  med_json_int (b, "id", rec->id);
  med_json_int (b, "case_id", bk->case_id);
  med_json_int (b, "booking", bk->id);
  if (rec->state == MED_RECORDING_SEALED && m && m->final_name)
    med_json_str (b, "playable", content_type_of (m->final_name));
  med_json_str (b, "number", k->number);
  med_json_str (b, "start", start);
  med_json_str (b, "state",
      med_http_t (r,
          med_recording_label (med_recording_state_to_string (rec->state))));
  med_json_str (b, "regime",
      med_http_t (r,
          med_recording_label (med_recording_regime_to_string (rec->regime))));
  med_json_str (b, "duration", duration);
  med_json_int (b, "bytes", rec->bytes);
  med_json_int (b, "segments",
      med_store_count_recording_segments (r->srv->store, rec->id, NULL));
  med_json_str (b, "created", created);
  med_json_str (b, "head_hash", rec->head_hash);
  med_json_str (b, "failure",
      rec->failure && *rec->failure ? rec->failure : NULL);
  json_builder_set_member_name (b, "log");
  json_builder_begin_array (b);
  for (guint i = 0; i < log->len; i++) {
    MedRecordingLog *l = g_ptr_array_index (log, i);
    g_autofree char *at
        = med_time_format_local (l->at, zone, "%Y-%m-%d %H:%M:%S");

    json_builder_begin_object (b);
    med_json_str (b, "at", at);
    med_json_str (b, "event", med_recording_event_to_string (l->kind));
    med_json_str (b, "detail", l->detail);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; m && m->info.segments && i < m->info.segments->len; i++) {
    GstMedManifestSegment *s = g_ptr_array_index (m->info.segments, i);

    json_builder_begin_object (b);
    med_json_str (b, "file", s->file);
    med_json_bool (b, "incomplete", !s->complete);
    med_json_int (b, "bytes", s->bytes);
    med_json_str (b, "sha256", s->sha256);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "recording", 200);
}

void
med_http_recording_page (MedReq *r)
{
  g_autoptr (MedRecording) rec = NULL;
  g_autoptr (MedBooking) bk = NULL;

  if (r->n_seg == 3 && strcmp (r->seg[2], "file") != 0) {
    med_http_reply_error (r, 404, "not_found", "no such page");
    return;
  }
  if ((rec = allowed_recording (r, r->seg[1], &bk)) == NULL)
    return;
  if (r->n_seg == 3)
    reply_file (r, rec);
  else
    page_recording (r, rec, bk);
}

void
med_http_media_case_links (MedReq *r, JsonBuilder *b, const MedBooking *bk)
{
  g_autoptr (GPtrArray) recs = NULL;

  json_builder_set_member_name (b, "recordings");
  json_builder_begin_array (b);
  if (r->user != NULL
      && med_service_may_access_booking (r->srv->store, r->user, bk, NULL))
    recs = med_store_list_recordings (r->srv->store, bk->id, NULL);
  for (guint i = 0; recs && i < recs->len; i++) {
    MedRecording *rec = g_ptr_array_index (recs, i);
    g_autofree char *label = NULL, *id = NULL;

    id = g_strdup_printf ("%" G_GINT64_FORMAT, rec->id);
    label = med_http_tf (r, N_ ("Recording %s"), id);
    json_builder_begin_object (b);
    med_json_int (b, "id", rec->id);
    med_json_str (b, "label", label);
    med_json_str (b, "state",
        med_http_t (r,
            med_recording_label (med_recording_state_to_string (rec->state))));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* ---- sessions at booking times ---------------------------------------- */

typedef struct _MedHttpMedia MedHttpMedia;

#ifdef MEDSCHED_HAVE_MEDIA

#define TICK_SECONDS        1
#define STOP_ABORT_SECONDS  20
#define RETRY_FIRST_SECONDS 10
#define RETRY_MAX_SECONDS   300
#define SERVE_ACTOR         "serve"

typedef struct
{
  MedHttpMedia *media;
  gint64 booking_id;
  MedSession *session; /* the current attempt, or NULL */
  gboolean done; /* sealed, or recording off: nothing more to do */
  gboolean stopping;
  guint failures;
  MedTime retry_at;
  gboolean told_waiting; /* "waiting for consent" logged once */
  gboolean mediation; /* the current session's regime */
  gboolean consent_stop; /* stopped because consent was withdrawn */
  gboolean caucus; /* a private caucus: the session is paused */
  guint abort_id;
} Job;

struct _MedHttpMedia
{
  MedHttpServer *srv;
  guint timer;
  GHashTable *jobs; /* booking id (gint64*) → Job* */
  MedTime clock_base; /* cfg.fixed_now: a clock that starts there and ticks */
  gint64 mono_base;
  gboolean shutting_down;
};

static MedTime
media_now (MedHttpMedia *m)
{
  if (m->clock_base != 0)
    return m->clock_base
        + (g_get_monotonic_time () - m->mono_base) / G_USEC_PER_SEC;
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
job_free (Job *j)
{
  if (j->abort_id)
    g_source_remove (j->abort_id);
  if (j->session != NULL && !med_session_is_finished (j->session))
    med_session_abort (j->session, "the server stopped before the seal");
  g_clear_pointer (&j->session, med_session_free);
  g_free (j);
}

static const MedHttpRoomInputs *
room_inputs (MedHttpServer *srv, gint64 room_id)
{
  for (guint i = 0; srv->cfg.media_rooms && i < srv->cfg.media_rooms->len;
       i++) {
    const MedHttpRoomInputs *ri = srv->cfg.media_rooms->pdata[i];

    if (ri->room_id == room_id)
      return ri;
  }
  return NULL;
}

/* The regime a booking's note asks for: a line "recording: hearing",
 * "recording: mediation" or "recording: off" (also 录制:). Mediation when
 * the note says nothing: the court rule's default. *off gets TRUE for
 * "off". */
MedRecordingRegime
med_http_booking_regime (MedStore *store, gint64 booking_id, gboolean *off)
{
  g_autoptr (MedBookingExtra) x
      = med_store_get_booking_extra (store, booking_id, NULL);
  g_auto (GStrv) lines = NULL;
  MedRecordingRegime regime = MED_RECORDING_REGIME_MEDIATION;

  *off = FALSE;
  if (x == NULL || x->note == NULL)
    return regime;
  lines = g_strsplit (x->note, "\n", 200);
  for (guint i = 0; lines[i]; i++) {
    char *line = g_strstrip (lines[i]);
    const char *v = NULL;

    if (g_ascii_strncasecmp (line, "recording:", 10) == 0)
      v = line + 10;
    else if (g_str_has_prefix (line, "录制:"))
      v = line + strlen ("录制:");
    else if (g_str_has_prefix (line, "录制："))
      v = line + strlen ("录制：");
    if (v == NULL)
      continue;
    while (*v == ' ' || *v == '\t')
      v++;
    if (g_ascii_strcasecmp (v, "off") == 0)
      *off = TRUE;
    else
      med_recording_regime_from_string (v, &regime, NULL);
  }
  return regime;
}

static void
session_finished_cb (MedSession *session, const GError *error,
    gpointer user_data)
{
  Job *j = user_data;

  if (j->abort_id) {
    g_source_remove (j->abort_id);
    j->abort_id = 0;
  }
  if (error == NULL) {
    g_message ("booking %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT
               " sealed",
        j->booking_id, med_session_get_recording_id (session));
    /* after a withdrawn consent, a new recording starts once it is back */
    j->done = !j->consent_stop || j->stopping;
    j->consent_stop = FALSE;
  } else {
    guint wait = RETRY_FIRST_SECONDS << MIN (j->failures, 5);

    j->failures++;
    wait = MIN (wait, RETRY_MAX_SECONDS);
    j->retry_at = media_now (j->media) + wait;
    g_warning ("booking %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT
               " failed: %s%s",
        j->booking_id, med_session_get_recording_id (session), error->message,
        j->stopping ? "" : " (retrying while the booking lasts)");
    if (j->stopping)
      j->done = TRUE;
    j->consent_stop = FALSE;
  }
}

static gboolean
stop_timed_out_cb (gpointer data)
{
  Job *j = data;

  j->abort_id = 0;
  if (j->session != NULL && !med_session_is_finished (j->session))
    med_session_abort (j->session,
        "the recording did not finish within 20 s of stop; segments sealed "
        "without a final file");
  return G_SOURCE_REMOVE;
}

static void
stop_job (Job *j, const char *why)
{
  j->stopping = TRUE;
  if (j->session == NULL || med_session_is_finished (j->session)
      || j->abort_id != 0)
    return;
  g_message ("booking %" G_GINT64_FORMAT
             ": stopping recording %" G_GINT64_FORMAT " (%s)",
      j->booking_id, med_session_get_recording_id (j->session), why);
  med_session_stop_because (j->session, why);
  if (!med_session_is_finished (j->session))
    j->abort_id
        = g_timeout_add_seconds (STOP_ABORT_SECONDS, stop_timed_out_cb, j);
}

/* <media-dir>/booking-<id>-<n>, the first n whose directory this call
 * creates: creating it is the claim, so nodes sharing the media directory
 * (docs/scale.md) never write into the same one. NULL with errno set when
 * the media directory cannot be written. (transfer full) */
static char *
next_dir (const char *root, gint64 booking_id)
{
  if (g_mkdir_with_parents (root, 0750) != 0)
    return NULL;
  for (guint n = 1;; n++) {
    g_autofree char *leaf
        = g_strdup_printf ("booking-%" G_GINT64_FORMAT "-%u", booking_id, n);
    char *dir = g_build_filename (root, leaf, NULL);

    if (g_mkdir (dir, 0750) == 0)
      return dir;
    g_free (dir);
    if (errno != EEXIST)
      return NULL;
  }
}

static void
start_job (MedHttpMedia *m, Job *j, const MedBooking *bk,
    const MedHttpRoomInputs *ri)
{
  MedHttpServer *srv = m->srv;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  g_autofree char *root = NULL, *dir = NULL;
  MedCentre *centre;
  MedSessionConfig cfg = { 0 };
  gboolean off = FALSE;

  cfg.regime = med_http_booking_regime (srv->store, bk->id, &off);
  if (off) {
    g_message ("booking %" G_GINT64_FORMAT ": not recorded (its note says "
               "recording: off)",
        bk->id);
    j->done = TRUE;
    return;
  }
  if (cfg.regime == MED_RECORDING_REGIME_MEDIATION) {
    guint missing = 0;

    if (!med_store_consent_complete (srv->store, bk->id, &missing, &error)) {
      g_warning ("booking %" G_GINT64_FORMAT ": %s", bk->id, error->message);
      return;
    }
    if (missing > 0) {
      if (!j->told_waiting)
        g_message ("booking %" G_GINT64_FORMAT ": mediation regime, waiting "
                   "for the consent of %u part%s",
            bk->id, missing, missing == 1 ? "y" : "ies");
      j->told_waiting = TRUE;
      return;
    }
  }
  if ((centre = med_http_centre (srv, &error)) == NULL
      || (k = med_store_get_case (srv->store, bk->case_id, &error)) == NULL
      || (rooms = med_store_list_rooms (srv->store, centre->id, &error))
          == NULL) {
    g_warning ("booking %" G_GINT64_FORMAT ": %s", bk->id, error->message);
    return;
  }
  root = g_canonicalize_filename (srv->cfg.media_dir, NULL);
  dir = next_dir (root, bk->id);
  if (dir == NULL) {
    int e = errno;

    j->failures++;
    j->retry_at = media_now (m)
        + MIN (RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS << MIN (j->failures, 5));
    g_warning ("booking %" G_GINT64_FORMAT ": cannot record in %s: %s", bk->id,
        root, g_strerror (e));
    return;
  }
  cfg.booking_id = bk->id;
  cfg.dir = dir;
  cfg.inputs = (const char *const *) ri->inputs;
  cfg.composite = srv->cfg.media_composite;
  cfg.case_number = k->number;
  cfg.zone = centre->zone;
  cfg.actor = SERVE_ACTOR;
  for (guint i = 0; i < rooms->len; i++) {
    MedRoom *room = g_ptr_array_index (rooms, i);

    if (room->id == bk->room_id)
      cfg.room = room->name;
  }
  j->session = med_session_new (srv->store, &cfg, &error);
  if (j->session == NULL) {
    j->failures++;
    j->retry_at = media_now (m)
        + MIN (RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS << MIN (j->failures, 5));
    g_warning ("booking %" G_GINT64_FORMAT ": cannot record: %s", bk->id,
        error->message);
    return;
  }
  j->mediation = cfg.regime == MED_RECORDING_REGIME_MEDIATION;
  med_session_set_finished_func (j->session, session_finished_cb, j);
  g_message ("booking %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT
             " (%s) in %s",
      bk->id, med_session_get_recording_id (j->session),
      med_recording_regime_to_string (cfg.regime), dir);
  if (!med_session_start (j->session, &error)) {
    g_warning ("booking %" G_GINT64_FORMAT ": start: %s", bk->id,
        error->message); /* the bus says more; finished_cb follows */
    return;
  }
  /* a recording (re)started during a caucus starts paused */
  if (j->caucus && !med_session_pause (j->session, &error))
    g_warning ("booking %" G_GINT64_FORMAT ": caucus: %s", bk->id,
        error->message);
}

static gboolean
tick_cb (gpointer data)
{
  MedHttpMedia *m = data;
  MedHttpServer *srv = m->srv;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) bookings = NULL;
  g_autoptr (GHashTable) current
      = g_hash_table_new (g_int64_hash, g_int64_equal);
  MedTime now = media_now (m);
  GHashTableIter it;
  Job *j;

  bookings = med_store_list_bookings (srv->store, srv->cfg.centre_id, now,
      now + 1, FALSE, &error);
  if (bookings == NULL) {
    /* a busy store: try again on the next tick */
    g_debug ("bookings: %s", error->message);
    return G_SOURCE_CONTINUE;
  }
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);
    const MedHttpRoomInputs *ri = room_inputs (srv, bk->room_id);

    if (ri == NULL || bk->status != MED_BOOKING_STATUS_CONFIRMED
        || bk->start > now || bk->end <= now)
      continue;
    g_hash_table_add (current, &bk->id);
    j = g_hash_table_lookup (m->jobs, &bk->id);
    if (j == NULL) {
      j = g_new0 (Job, 1);
      j->media = m;
      j->booking_id = bk->id;
      g_hash_table_insert (m->jobs, &j->booking_id, j);
    }
    if (j->done || j->stopping)
      continue;
    if (j->session != NULL) {
      guint missing = 0;

      if (med_session_is_finished (j->session)) {
        g_clear_pointer (&j->session, med_session_free);
      } else {
        /* mediation: recording only while every party consents */
        if (j->mediation && !j->consent_stop
            && med_store_consent_complete (srv->store, bk->id, &missing, NULL)
            && missing > 0) {
          stop_job (j, "a party withdrew consent");
          j->stopping = FALSE;
          j->consent_stop = TRUE;
          j->told_waiting = FALSE;
        }
        continue;
      }
    }
    if (now >= j->retry_at)
      start_job (m, j, bk, ri);
  }
  /* Bookings that ended, were cancelled or moved away from now. */
  g_hash_table_iter_init (&it, m->jobs);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &j)) {
    if (g_hash_table_contains (current, &j->booking_id))
      continue;
    if (j->session != NULL && !med_session_is_finished (j->session)) {
      g_autoptr (MedBooking) bk
          = med_store_get_booking (srv->store, j->booking_id, NULL);

      stop_job (j,
          bk == NULL                                       ? "booking gone"
              : bk->status == MED_BOOKING_STATUS_CANCELLED ? "booking cancelled"
              : bk->end <= now                             ? "booking ended"
                                                           : "booking moved");
      continue;
    }
    g_hash_table_iter_remove (&it);
  }
  return G_SOURCE_CONTINUE;
}

gboolean
med_http_media_caucus (MedHttpServer *srv, gint64 booking_id, gboolean on,
    GError **error)
{
  MedHttpMedia *m = srv->media;
  Job *j = m ? g_hash_table_lookup (m->jobs, &booking_id) : NULL;

  if (j == NULL || j->session == NULL || j->stopping
      || med_session_is_finished (j->session)) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        "no room recording of this booking is running");
    return FALSE;
  }
  if (j->caucus == on) {
    g_set_error (error, MED_MEDIA_ERROR, MED_MEDIA_ERROR_STATE,
        on ? "a caucus is running already" : "no caucus is running");
    return FALSE;
  }
  if (on ? !med_session_pause (j->session, error)
         : !med_session_resume (j->session, error))
    return FALSE;
  j->caucus = on;
  g_message ("booking %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT
             " %s (private caucus)",
      booking_id, med_session_get_recording_id (j->session),
      on ? "paused" : "resumed");
  return TRUE;
}

gint64
med_http_media_recording_of (MedHttpServer *srv, gint64 booking_id)
{
  MedHttpMedia *m = srv->media;
  Job *j = m ? g_hash_table_lookup (m->jobs, &booking_id) : NULL;

  return j && j->session ? med_session_get_recording_id (j->session) : 0;
}

gboolean
med_http_media_start (MedHttpServer *srv, GError **error)
{
  g_autoptr (GPtrArray) rooms = NULL;
  MedHttpMedia *m;
  guint n_recovered = 0;

  if (srv->cfg.media_rooms == NULL || srv->media != NULL)
    return TRUE;
  if (srv->cfg.media_dir == NULL) {
    g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
        "[media] rooms need a media directory");
    return FALSE;
  }
  rooms = med_store_list_rooms (srv->store, srv->cfg.centre_id, error);
  if (rooms == NULL)
    return FALSE;
  for (guint i = 0; i < srv->cfg.media_rooms->len; i++) {
    const MedHttpRoomInputs *ri = srv->cfg.media_rooms->pdata[i];
    gboolean found = FALSE;

    for (guint k = 0; k < rooms->len; k++)
      found = found || ((MedRoom *) rooms->pdata[k])->id == ri->room_id;
    if (!found) {
      g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
          "[media] room-%" G_GINT64_FORMAT ": the centre has no such room",
          ri->room_id);
      return FALSE;
    }
  }
  if (!med_media_init (error))
    return FALSE;
  /* a serve that was killed left unsealed recordings: seal them first */
  if (!med_media_recover (srv->store, SERVE_ACTOR, &n_recovered, error))
    return FALSE;
  if (n_recovered > 0)
    g_message ("recovered %u interrupted recording%s", n_recovered,
        n_recovered == 1 ? "" : "s");
  m = g_new0 (MedHttpMedia, 1);
  m->srv = srv;
  m->jobs = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
      (GDestroyNotify) job_free);
  m->clock_base = srv->cfg.fixed_now;
  m->mono_base = g_get_monotonic_time ();
  srv->media = m;
  m->timer = g_timeout_add_seconds (TICK_SECONDS, tick_cb, m);
  tick_cb (m);
  return TRUE;
}

void
med_http_media_shutdown (MedHttpServer *srv)
{
  MedHttpMedia *m = srv->media;
  GHashTableIter it;
  Job *j;

  if (m == NULL || m->shutting_down)
    return;
  m->shutting_down = TRUE;
  if (m->timer) {
    g_source_remove (m->timer);
    m->timer = 0;
  }
  g_hash_table_iter_init (&it, m->jobs);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &j))
    stop_job (j, "server stopping");
}

gboolean
med_http_media_busy (MedHttpServer *srv)
{
  GHashTableIter it;
  Job *j;

  if (srv->media == NULL)
    return FALSE;
  g_hash_table_iter_init (&it, srv->media->jobs);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &j)) {
    if (j->session != NULL && !med_session_is_finished (j->session))
      return TRUE;
  }
  return FALSE;
}

void
med_http_media_free (MedHttpServer *srv)
{
  MedHttpMedia *m = srv->media;

  if (m == NULL)
    return;
  if (m->timer)
    g_source_remove (m->timer);
  g_hash_table_unref (m->jobs);
  g_free (m);
  srv->media = NULL;
}

#else /* without GStreamer */

gboolean
med_http_media_caucus (MedHttpServer *srv, gint64 booking_id, gboolean on,
    GError **error)
{
  g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_NOT_FOUND,
      "this medsched records nothing (built without GStreamer)");
  return FALSE;
}

gint64
med_http_media_recording_of (MedHttpServer *srv, gint64 booking_id)
{
  return 0;
}

gboolean
med_http_media_start (MedHttpServer *srv, GError **error)
{
  if (srv->cfg.media_rooms == NULL)
    return TRUE;
  g_set_error (error, MED_HTTP_ERROR, MED_HTTP_ERROR_CONFIG,
      "[media] rooms are configured, but this medsched was built without "
      "GStreamer");
  return FALSE;
}

void
med_http_media_shutdown (MedHttpServer *srv)
{
}

gboolean
med_http_media_busy (MedHttpServer *srv)
{
  return FALSE;
}

void
med_http_media_free (MedHttpServer *srv)
{
}

#endif
