/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-cases.c — finding cases (templates/cases.html: by status, day
 * and mediator in the address, paged; by number, a party's name or phone
 * in a posted form, so that names and phone numbers never stand in a URL
 * and in logs) and changing a case's parties after intake
 * (templates/party.html: add, correct, remove; through the service, which
 * refuses what the case's state does not allow, and the page says why). */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

#include <medsched/med-workcal.h>

#define PER_PAGE 20

/* The filters of the address or the posted form. */
typedef struct
{
  const char *q;
  const char *status;
  const char *date;
  const char *mediator;
  guint page;
} Filters;

static const char *
field (GHashTable *form, MedReq *r, const char *name)
{
  const char *v = form ? med_page_form_get (form, name) : NULL;

  if (v == NULL && r->query != NULL)
    v = g_hash_table_lookup (r->query, name);
  return v && *v ? v : NULL;
}

/* /cases with the filters but not the text (never in a URL). (transfer
 * full) */
static char *
cases_href (const Filters *f, guint page)
{
  GString *s = g_string_new ("/cases");
  char sep = '?';

  if (f->status) {
    g_string_append_printf (s, "%cstatus=", sep);
    g_string_append_uri_escaped (s, f->status, NULL, FALSE);
    sep = '&';
  }
  if (f->date) {
    g_string_append_printf (s, "%cdate=", sep);
    g_string_append_uri_escaped (s, f->date, NULL, FALSE);
    sep = '&';
  }
  if (f->mediator) {
    g_string_append_printf (s, "%cmediator=", sep);
    g_string_append_uri_escaped (s, f->mediator, NULL, FALSE);
    sep = '&';
  }
  if (page > 1)
    g_string_append_printf (s, "%cpage=%u", sep, page);
  return g_string_free (s, FALSE);
}

static void
add_status_options (MedReq *r, JsonBuilder *b, const char *sel)
{
  json_builder_set_member_name (b, "statuses");
  json_builder_begin_array (b);
  for (guint i = 0; i < MED_CASE_STATUS_N; i++)
    med_page_option (b, med_case_status_to_string (i),
        T (med_case_status_label (i)),
        g_strcmp0 (sel, med_case_status_to_string (i)) == 0);
  json_builder_end_array (b);
}

/* The next confirmed session of a case from now, or NULL. (transfer
 * none: an element of bookings) */
static MedBooking *
next_session (GPtrArray *bookings, MedTime now)
{
  MedBooking *best = NULL;

  for (guint i = 0; bookings && i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);

    if (bk->status == MED_BOOKING_STATUS_CONFIRMED && bk->end > now
        && (best == NULL || bk->start < best->start))
      best = bk;
  }
  return best;
}

/* GET /cases (filters in the address), POST /cases (with the text). */
void
med_page_cases (MedReq *r)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = NULL, meds = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  const char *zone = med_page_zone (r);
  MedCaseQuery q = { 0 };
  Filters f = { 0 };
  gint64 mediator = 0;
  guint total = 0, pages;
  guint64 page = 1;
  JsonBuilder *b;

  if (IS (r, POST)) {
    if ((form = med_page_form (r, MED_ROLES_STAFF)) == NULL)
      return;
  } else if (!med_http_require (r, MED_ROLES_STAFF)) {
    return;
  }
  f.q = field (form, r, "q");
  f.status = field (form, r, "status");
  f.date = field (form, r, "date");
  f.mediator = field (form, r, "mediator");
  if (field (form, r, "page") != NULL
      && !g_ascii_string_to_unsigned (field (form, r, "page"), 10, 1, 100000,
          &page, NULL)) {
    med_page_invalid (r, T ("Page: a number from 1."));
    return;
  }
  /* the text is only taken from a posted form */
  if (form == NULL)
    f.q = NULL;
  q.text = f.q;
  q.status = -1;
  if (f.status != NULL) {
    MedCaseStatus st;

    if (!med_case_status_from_string (f.status, &st, NULL)) {
      med_page_invalid (r, T ("Status: choose one of the list."));
      return;
    }
    q.status = (gint) st;
  }
  if (f.date != NULL) {
    gint y, m, d;

    if (!med_date_parse (f.date, &y, &m, &d)
        || !med_workcal_local_to_utc (zone, y, m, d, 0, &q.from, NULL)
        || !med_workcal_local_to_utc (zone, y, m, d, 24 * 60, &q.to, NULL)) {
      med_page_invalid (r, T ("Day: a date like 2026-12-07."));
      return;
    }
  }
  if (f.mediator != NULL && !med_http_parse_id (f.mediator, &mediator)) {
    med_page_invalid (r, T ("Mediator: choose one of the list."));
    return;
  }
  q.mediator_id = mediator;
  f.page = (guint) page;
  if ((meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
           &error))
          == NULL
      || (found = med_service_find_cases (r->srv->store, &ctx, r->user, &q,
              (f.page - 1) * PER_PAGE, PER_PAGE, &total, &error))
          == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  b = med_http_page_begin (r, T ("Cases"));
  med_json_str (b, "q", f.q);
  med_json_str (b, "date", f.date);
  med_json_bool (b, "office", r->user->role != MED_ROLE_MEDIATOR);
  add_status_options (r, b, f.status);
  med_page_id_options (b, "mediators", meds,
      G_STRUCT_OFFSET (MedMediator, name), mediator);
  {
    g_autofree char *summary = total == 0
        ? g_strdup (T ("No case matches."))
        : med_http_tf (r, N_ ("%u cases match; %u to %u shown."), total,
            (f.page - 1) * PER_PAGE + 1, MIN (total, f.page * PER_PAGE));

    med_json_str (b, "summary", summary);
  }
  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < found->len; i++) {
    MedCase *k = g_ptr_array_index (found, i);
    g_autoptr (GPtrArray) parties
        = med_store_list_parties (r->srv->store, k->id, NULL);
    g_autoptr (GPtrArray) bookings
        = med_store_list_case_bookings (r->srv->store, k->id, NULL);
    g_autoptr (GString) names = g_string_new (NULL);
    g_autofree char *intake
        = med_time_format_local (k->intake_at, zone, "%Y-%m-%d");
    MedBooking *next = next_session (bookings, r->now);

    for (guint j = 0; parties && j < parties->len; j++) {
      if (j > 0)
        g_string_append (names, " · ");
      g_string_append (names,
          ((MedParty *) g_ptr_array_index (parties, j))->name);
    }
    json_builder_begin_object (b);
    med_json_int (b, "id", k->id);
    med_json_str (b, "number", k->number);
    med_json_bool (b, "urgent", k->urgent);
    med_json_str (b, "kind", T (med_case_kind_label (k->kind)));
    med_json_str (b, "status", T (med_case_status_label (k->status)));
    med_json_str (b, "status_word", med_case_status_to_string (k->status));
    med_json_str (b, "intake", intake);
    med_json_text (r, b, "parties", names->str);
    if (next != NULL) {
      g_autofree char *when
          = med_time_format_local (next->start, zone, "%Y-%m-%d %H:%M");

      med_json_str (b, "next", when);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  pages = (total + PER_PAGE - 1) / PER_PAGE;
  json_builder_set_member_name (b, "pager");
  json_builder_begin_object (b);
  {
    g_autofree char *label
        = med_http_tf (r, N_ ("Page %u of %u"), f.page, MAX (pages, 1u));
    g_autofree char *prev = f.page > 1 ? cases_href (&f, f.page - 1) : NULL;
    g_autofree char *next = f.page < pages ? cases_href (&f, f.page + 1) : NULL;

    med_json_str (b, "label", label);
    /* with a text, the pages are posted again (the text stays out of the
     * address) */
    med_json_bool (b, "posted", f.q != NULL);
    med_json_str (b, "prev", prev);
    med_json_str (b, "next", next);
    med_json_int (b, "prev_page", f.page > 1 ? f.page - 1 : 0);
    med_json_int (b, "next_page", f.page < pages ? f.page + 1 : 0);
    med_json_str (b, "status", f.status);
    med_json_str (b, "mediator", f.mediator);
  }
  json_builder_end_object (b);
  med_http_page_send (r, b, "cases", 200);
}

/* ---- a case's parties ---- */

static void
party_form_page (MedReq *r, MedCase *k, const MedParty *p)
{
  g_autofree char *title = p
      ? med_http_tf (r, N_ ("Correct a party of %s"), k->number)
      : med_http_tf (r, N_ ("Add a party to %s"), k->number);
  JsonBuilder *b = med_http_page_begin (r, title);

  med_json_int (b, "case_id", k->id);
  med_json_str (b, "number", k->number);
  if (p != NULL)
    med_json_int (b, "party_id", p->id);
  json_builder_set_member_name (b, "party");
  json_builder_begin_object (b);
  med_page_party_options (r, b, p);
  json_builder_end_object (b);
  med_http_page_send (r, b, "party", 200);
}

/* A refusal of the service as a page that says what to do. */
static void
party_refused (MedReq *r, MedCase *k, GError *error)
{
  if (g_error_matches (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE)) {
    g_autofree char *advice = med_http_tf (r,
        N_ ("Nothing was changed. Back to case %s: its sessions and status "
            "say what can be done."),
        k->number);

    r->api = FALSE;
    med_http_page_problem (r, 409,
        T ("The parties of this case cannot be changed like this"),
        T ("The case's state or its sessions to come do not allow this "
           "change."),
        advice, error->message);
    g_error_free (error);
    return;
  }
  med_page_error (r, error);
}

/* /cases/{id}/parties (GET: the form to add one; POST: add it),
 * /cases/{id}/parties/{party} (GET: the form to correct it; POST: save),
 * /cases/{id}/parties/{party}/remove (POST). Clerks and admins. */
void
med_page_case_parties (MedReq *r, MedCase *k, const char *party,
    const char *action)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MedParty) p = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  gint64 party_id = 0;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if (party != NULL
      && (!med_http_parse_id (party, &party_id)
          || (p = med_store_get_party (r->srv->store, k->id, party_id, &error))
              == NULL)) {
    if (error == NULL)
      g_set_error (&error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND,
          "no such party");
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  if (IS (r, GET) || IS (r, HEAD)) {
    if (action != NULL) {
      med_http_reply_error (r, 405, "method", "method not allowed here");
      return;
    }
    if (!med_service_may_edit_parties (k, &error)) {
      party_refused (r, k, g_steal_pointer (&error));
      return;
    }
    party_form_page (r, k, p);
    return;
  }
  if (!IS (r, POST)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if ((form = med_page_form (r, MED_ROLES_OFFICE)) == NULL)
    return;
  if (action != NULL) {
    if (p == NULL || strcmp (action, "remove") != 0) {
      med_http_reply_error (r, 404, "not_found", "no such page");
      return;
    }
    if (!med_service_remove_party (r->srv->store, &ctx, k->id, party_id,
            &error)) {
      party_refused (r, k, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=party-removed",
        k->id);
    return;
  }
  {
    g_autoptr (MedParty) sent = med_page_form_party (form, "p", &error);

    if (sent == NULL) {
      if (error == NULL) {
        med_page_invalid (r, T ("Name: write the party's name."));
        return;
      }
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    if (p == NULL) {
      if (med_service_add_party (r->srv->store, &ctx, k->id, sent, &error)
          == 0) {
        party_refused (r, k, g_steal_pointer (&error));
        return;
      }
      med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=party-added",
          k->id);
      return;
    }
    sent->id = party_id;
    sent->case_id = k->id;
    if (!med_service_update_party (r->srv->store, &ctx, sent, &error)) {
      party_refused (r, k, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=party-updated",
        k->id);
  }
}
