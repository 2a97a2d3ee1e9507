/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-ical-imip.c — iMIP (RFC 6047): an invite as an e-mail message, built
 * with GMime 3.
 *
 * The message is multipart/alternative: a text/plain part for people whose
 * mail client shows no calendar (UTF-8, quoted-printable) and the
 * text/calendar part itself (charset=UTF-8, method= the METHOD written in
 * the calendar, base64 so that its CRLF line ends and long folded lines
 * arrive byte for byte). From and To carry RFC 2047-encoded display names,
 * Subject is encoded, Date and Message-ID are given by the caller and the
 * MIME boundary is derived from the calendar, so the outbox rebuilds the
 * same bytes for the same message; every line ends in CRLF.
 *
 * g_mime_init() runs once, behind g_once, on whichever thread first asks. */
#define G_LOG_DOMAIN "medsched-ical"

#include "med-ical-private.h"

#include <gmime/gmime.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeTextPart, g_object_unref)

static gpointer
init_gmime (gpointer data)
{
  g_mime_init ();
  return NULL;
}

static void
ensure_gmime (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, init_gmime, NULL);
}

/* The METHOD of the calendar text (a property of VCALENDAR itself, not of
 * a component inside it), or NULL. (transfer full) */
static char *
new_method_of (const char *ics)
{
  g_autoptr (GString) line = g_string_new (NULL);
  const char *p = ics;
  int depth = 0;

  while (*p) {
    const char *nl = strchr (p, '\n');
    gsize n = nl != NULL ? (gsize) (nl - p) : strlen (p);
    const char *next = nl != NULL ? nl + 1 : p + n;

    if (n > 0 && p[n - 1] == '\r')
      n--;
    g_string_truncate (line, 0);
    g_string_append_len (line, p, n);
    /* unfold */
    while (*next == ' ' || *next == '\t') {
      const char *nl2 = strchr (next, '\n');
      gsize m = nl2 != NULL ? (gsize) (nl2 - next) : strlen (next);

      if (m > 0 && next[m - 1] == '\r')
        m--;
      g_string_append_len (line, next + 1, m > 0 ? m - 1 : 0);
      next = nl2 != NULL ? nl2 + 1 : next + strlen (next);
    }
    if (g_ascii_strncasecmp (line->str, "BEGIN:", 6) == 0)
      depth++;
    else if (g_ascii_strncasecmp (line->str, "END:", 4) == 0)
      depth--;
    else if (depth == 1 && g_ascii_strncasecmp (line->str, "METHOD:", 7) == 0)
      return g_ascii_strup (line->str + 7, -1);
    p = next;
  }
  return NULL;
}

static gboolean
is_token (const char *s)
{
  gsize n = strlen (s);

  if (n == 0 || n > 32)
    return FALSE;
  for (const char *c = s; *c; c++) {
    if (!g_ascii_isupper (*c) && *c != '-')
      return FALSE;
  }
  return TRUE;
}

/* A display name or subject: UTF-8, one line. */
static gboolean
clean_header (const char *s, const char *field, char **out, GError **error)
{
  if (!med_ical_clean_text (s, FALSE, field, out, error))
    return FALSE;
  if (*out != NULL && strlen (*out) > 998) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "%s is too long for a mail header", field);
    g_clear_pointer (out, g_free);
    return FALSE;
  }
  return TRUE;
}

static GMimeTextPart *
new_text_part (const char *subtype, const char *text,
    GMimeContentEncoding encoding)
{
  GMimeTextPart *part = g_mime_text_part_new_with_subtype (subtype);

  g_mime_text_part_set_text (part, text);
  g_mime_text_part_set_charset (part, "UTF-8");
  g_mime_part_set_content_encoding (GMIME_PART (part), encoding);
  return part;
}

char *
med_ical_imip_message (const char *from_name, const char *from_addr,
    const char *to_name, const char *to_addr, const char *subject,
    const char *text_body, const char *ics, const char *message_id,
    MedTime date, GError **error)
{
  g_autofree char *method = NULL, *fname = NULL, *tname = NULL;
  g_autofree char *subj = NULL, *body = NULL, *msgid = NULL;
  g_autoptr (GMimeMessage) msg = NULL;
  g_autoptr (GMimeMultipart) alt = NULL;
  g_autoptr (GMimeTextPart) plain = NULL, cal = NULL;
  g_autoptr (GDateTime) when = NULL;
  GMimeFormatOptions *options;
  char *out;

  g_return_val_if_fail (ics != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_utf8_validate (ics, -1, NULL)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_ENCODING,
        "the calendar is not valid UTF-8");
    return NULL;
  }
  method = new_method_of (ics);
  if (method == NULL || !is_token (method)) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "the calendar has no usable METHOD; an iMIP message needs one");
    return NULL;
  }
  if (!med_ical_check_address (from_addr, "From", error)
      || !med_ical_check_address (to_addr, "To", error)
      || !clean_header (from_name, "sender name", &fname, error)
      || !clean_header (to_name, "recipient name", &tname, error)
      || !clean_header (subject, "subject", &subj, error)
      || !med_ical_clean_text (text_body != NULL ? text_body : "", TRUE,
          "text body", &body, error))
    return NULL;
  if (message_id != NULL) {
    gsize n;

    msgid = g_strdup (message_id);
    g_strstrip (msgid);
    n = strlen (msgid);
    if (n >= 2 && msgid[0] == '<' && msgid[n - 1] == '>') {
      memmove (msgid, msgid + 1, n - 2);
      msgid[n - 2] = '\0';
    }
    if (!med_ical_check_address (msgid, "Message-ID", error))
      return NULL;
  }
  when = g_date_time_new_from_unix_utc (date);
  if (when == NULL) {
    g_set_error (error, MED_ICAL_ERROR, MED_ICAL_ERROR_INVALID,
        "the message date is out of range");
    return NULL;
  }

  ensure_gmime ();
  msg = g_mime_message_new (TRUE);
  g_mime_message_add_mailbox (msg, GMIME_ADDRESS_TYPE_FROM, fname, from_addr);
  g_mime_message_add_mailbox (msg, GMIME_ADDRESS_TYPE_TO, tname, to_addr);
  g_mime_message_set_subject (msg, subj != NULL ? subj : "", "UTF-8");
  g_mime_message_set_date (msg, when);
  if (msgid == NULL) {
    const char *domain = strchr (from_addr, '@') + 1;

    msgid = g_mime_utils_generate_message_id (domain);
  }
  g_mime_message_set_message_id (msg, msgid);

  plain = new_text_part ("plain", body, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  cal = new_text_part ("calendar", ics, GMIME_CONTENT_ENCODING_BASE64);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (cal), "method",
      method);
  alt = g_mime_multipart_new_with_subtype ("alternative");
  {
    /* the same message twice gives the same bytes */
    g_autofree char *sum
        = g_compute_checksum_for_string (G_CHECKSUM_SHA256, ics, -1);
    g_autofree char *boundary = g_strdup_printf ("=_medsched_%.32s", sum);

    g_mime_multipart_set_boundary (alt, boundary);
  }
  g_mime_multipart_add (alt, GMIME_OBJECT (plain));
  g_mime_multipart_add (alt, GMIME_OBJECT (cal));
  g_mime_message_set_mime_part (msg, GMIME_OBJECT (alt));

  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  out = g_mime_object_to_string (GMIME_OBJECT (msg), options);
  g_mime_format_options_free (options);
  return out;
}
