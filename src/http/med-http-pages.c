/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-pages.c — the web pages' router and the helpers their handlers
 * share. Each page is a handler in src/http/pages/ and a template in
 * resources/templates/ (rendered by med-http-render.c): sign-in, the
 * clerk's intake and dispatch page, the board (day and week; where a
 * picked case fits) and its booking preview, the case list, the case page
 * and its party forms, moving a session, calendar feed links, the
 * mediator's agenda and console, and the party page reached from a join
 * link.
 *
 * Every page is in one language, the reader's (med-http-render.c says how
 * it is chosen), with a switch to the others. Every form field has a
 * label, every table header a scope, every state change a CSRF token; the
 * pages work without JavaScript (drag and drop is an extra, moving by
 * form is always there). The Content-Security-Policy allows only our own
 * scripts and styles, so nothing in a template is inline. */
#define G_LOG_DOMAIN "medsched-http"

#include "pages/med-pages.h"

/* ---- helpers ---- */

void
med_page_redirect (MedReq *r, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *loc = NULL;

  va_start (ap, fmt);
  loc = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  soup_server_message_set_redirect (r->msg, 303, loc);
}

const char *
med_page_form_get (GHashTable *form, const char *name)
{
  const char *v = form ? g_hash_table_lookup (form, name) : NULL;

  return v && *v ? v : NULL;
}

GHashTable *
med_page_form (MedReq *r, guint roles)
{
  g_autoptr (GHashTable) form = NULL;

  if (!med_http_require (r, roles))
    return NULL;
  if ((form = med_http_request_form (r)) == NULL)
    return NULL;
  if (!med_http_check_csrf (r, form))
    return NULL;
  return g_steal_pointer (&form);
}

const char *
med_page_zone (MedReq *r)
{
  MedCentre *c = med_http_centre (r->srv, NULL);

  return c ? c->zone : "Asia/Shanghai";
}

gpointer
med_page_find_id (GPtrArray *list, gint64 id)
{
  for (guint i = 0; list && i < list->len; i++) {
    gpointer x = g_ptr_array_index (list, i);

    if (*(gint64 *) x == id)
      return x;
  }
  return NULL;
}

void
med_page_error (MedReq *r, GError *error)
{
  /* pages show errors as pages; the status mapping is the API's */
  r->api = FALSE;
  med_http_reply_gerror (r, error);
}

void
med_page_invalid (MedReq *r, const char *what)
{
  r->api = FALSE;
  med_http_page_problem (r, 422, NULL, what, NULL, NULL);
}

void
med_page_id_options (JsonBuilder *b, const char *member, GPtrArray *list,
    gsize name_offset, gint64 selected)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; list && i < list->len; i++) {
    gpointer x = g_ptr_array_index (list, i);
    gint64 id = *(gint64 *) x;
    g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, id);

    med_page_option (b, value, *(const char **) ((guint8 *) x + name_offset),
        id == selected);
  }
  json_builder_end_array (b);
}

char *
med_page_webcal (MedReq *r, const char *secret)
{
  g_autofree char *base = NULL;
  const char *host;

  if (secret == NULL || strlen (secret) >= 128)
    return NULL;
  for (const char *p = secret; *p; p++) {
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return NULL;
  }
  base = med_store_get_public_url (r->srv->store, r->srv->cfg.centre_id, NULL);
  host = base && g_str_has_prefix (base, "https://") ? base + 8
      : base && g_str_has_prefix (base, "http://")   ? base + 7
                                                     : base;
  return g_strconcat ("webcal://", host ? host : "", "/feeds/", secret, ".ics",
      NULL);
}

void
med_page_option (JsonBuilder *b, const char *value, const char *label,
    gboolean selected)
{
  json_builder_begin_object (b);
  med_json_str (b, "value", value);
  med_json_str (b, "label", label);
  med_json_bool (b, "selected", selected);
  json_builder_end_object (b);
}

static void
page_home (MedReq *r)
{
  if (r->user == NULL)
    med_page_redirect (r, "/login");
  else if (r->user->role == MED_ROLE_MEDIATOR)
    med_page_redirect (r, "/agenda");
  else
    med_page_redirect (r, "/board");
}

static MedCase *
page_case (MedReq *r, const char *id_text)
{
  g_autoptr (GError) error = NULL;
  MedCase *k;
  gint64 id;

  if (!med_http_parse_id (id_text, &id)) {
    med_http_reply_error (r, 404, "not_found", "no such case");
    return NULL;
  }
  /* another centre's case answers as a missing one, before it is read */
  if (!med_http_may_see_case (r, id))
    return NULL;
  if ((k = med_store_get_case (r->srv->store, id, &error)) == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return NULL;
  }
  return k;
}

static MedBooking *
page_booking (MedReq *r, const char *id_text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = NULL;
  gint64 id;

  if (!med_http_parse_id (id_text, &id)) {
    med_http_reply_error (r, 404, "not_found", "no such session");
    return NULL;
  }
  if (!med_http_in_centre (r, MED_STORE_OF_BOOKING, id))
    return NULL;
  if ((bk = med_store_get_booking (r->srv->store, id, &error)) == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return NULL;
  }
  if (!med_http_may_see_case (r, bk->case_id)
      || !med_http_may_see_booking (r, bk))
    return NULL;
  return g_steal_pointer (&bk);
}

/* ---- routing ---- */

void
med_http_page (MedReq *r)
{
  const char *first = r->n_seg > 0 ? r->seg[0] : "";

  if (r->n_seg == 0 || (r->n_seg == 1 && *first == '\0')) {
    page_home (r);
  } else if (r->n_seg == 1 && strcmp (first, "login") == 0) {
    if (IS (r, POST))
      med_http_login_post (r);
    else
      med_http_login_get (r);
  } else if (r->n_seg == 1 && strcmp (first, "logout") == 0) {
    if (IS (r, POST))
      med_http_logout_post (r);
    else
      med_http_reply_error (r, 405, "method", "sign out with the button");
  } else if (r->n_seg == 2 && strcmp (first, "join") == 0) {
    med_page_join (r);
  } else if (r->n_seg == 1 && strcmp (first, "intake") == 0) {
    if (IS (r, POST))
      med_page_intake_post (r);
    else
      med_page_intake_get (r);
  } else if (r->n_seg == 1 && strcmp (first, "board") == 0) {
    med_page_board (r);
  } else if (r->n_seg == 2 && strcmp (first, "board") == 0
      && strcmp (r->seg[1], "book") == 0) {
    if (IS (r, POST))
      med_page_board_book_post (r);
    else
      med_page_board_book_get (r);
  } else if (r->n_seg == 1 && strcmp (first, "agenda") == 0) {
    med_page_agenda (r);
  } else if (r->n_seg == 2 && strcmp (first, "agenda") == 0
      && strcmp (r->seg[1], "feed") == 0) {
    med_page_agenda_feed (r);
  } else if ((r->n_seg == 1 || r->n_seg == 3)
      && strcmp (first, "feed-links") == 0) {
    med_page_feed_links (r);
  } else if (r->n_seg == 1 && strcmp (first, "cases") == 0) {
    med_page_cases (r);
  } else if (r->n_seg >= 2 && r->n_seg <= 5 && strcmp (first, "cases") == 0) {
    g_autoptr (MedCase) k = NULL;
    gboolean parties = r->n_seg >= 3 && strcmp (r->seg[2], "parties") == 0;

    if (r->n_seg >= 4 && !parties) {
      med_http_reply_error (r, 404, "not_found", "no such page");
      return;
    }
    if (!med_http_require (r, MED_ROLES_STAFF)
        || (k = page_case (r, r->seg[1])) == NULL)
      return;
    if (parties)
      med_page_case_parties (r, k, r->n_seg >= 4 ? r->seg[3] : NULL,
          r->n_seg == 5 ? r->seg[4] : NULL);
    else if (r->n_seg == 2)
      med_page_case_view (r, k);
    else if (IS (r, POST))
      med_page_case_action (r, k, r->seg[2]);
    else
      med_http_reply_error (r, 405, "method", "method not allowed here");
  } else if ((r->n_seg == 2 || r->n_seg == 3)
      && strcmp (first, "recordings") == 0) {
    med_http_recording_page (r);
  } else if (r->n_seg == 3 && strcmp (first, "bookings") == 0) {
    g_autoptr (MedBooking) bk = NULL;

    if (!med_http_require (r, MED_ROLES_STAFF)
        || (bk = page_booking (r, r->seg[1])) == NULL)
      return;
    med_page_booking_action (r, bk, r->seg[2]);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such page");
  }
}
