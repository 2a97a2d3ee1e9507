/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-case.c — the case page (facts, parties with their Correct and
 * Remove buttons and Add a party while the case's state allows it,
 * sessions with the parties' links, console, move and cancel, recordings,
 * actions, audit trail; templates/case.html) and the case actions posted
 * from pages: dispatch, status, book the earliest slot, make a feed link;
 * and the actions on a party's link posted from a session of the page
 * (send it by SMS or e-mail, issue it again). The party forms are
 * med-page-cases.c's. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

static void
add_session (MedReq *r, JsonBuilder *b, MedBooking *bk, GPtrArray *parties,
    GPtrArray *rooms, GPtrArray *meds)
{
  const char *zone = med_page_zone (r);
  MedRoom *room = med_page_find_id (rooms, bk->room_id);
  MedMediator *md = med_page_find_id (meds, bk->mediator_id);
  g_autofree char *s
      = med_time_format_local (bk->start, zone, "%Y-%m-%d %H:%M");
  g_autofree char *e = med_time_format_local (bk->end, zone, "%H:%M");
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, bk->id);
  g_autofree char *label = med_http_tf (r, N_ ("Session %s"), id);
  gboolean live = bk->status == MED_BOOKING_STATUS_CONFIRMED;
  /* links, console, move and cancel: for those the session is open to */
  gboolean mine
      = med_service_may_access_booking (r->srv->store, r->user, bk, NULL);

  json_builder_begin_object (b);
  med_json_int (b, "id", bk->id);
  med_json_str (b, "label", label);
  med_json_str (b, "start", s);
  med_json_str (b, "end", e);
  med_json_str (b, "room", room ? room->name : "?");
  med_json_bool (b, "cancelled", !live);
  med_json_text (r, b, "mediator", md ? md->name : "?");
  med_json_str (b, "mode", T (med_booking_mode_label (bk->mode)));
  med_json_int (b, "sequence", bk->sequence);
  med_json_bool (b, "live", live && mine);
  med_json_bool (b, "console",
      (room && room->kind == MED_ROOM_KIND_REMOTE)
          || bk->mode != MED_BOOKING_MODE_IN_PERSON);
  json_builder_set_member_name (b, "links");
  json_builder_begin_array (b);
  for (guint j = 0; live && mine && j < parties->len; j++) {
    MedParty *p = g_ptr_array_index (parties, j);
    /* the link as the party gets it: absolute, on the centre's public URL */
    g_autofree char *url
        = med_store_join_url (r->srv->store, bk->id, p->id, NULL);
    g_autofree char *number = med_store_sms_number (p->contact);
    gboolean revoked = med_store_join_revoked (r->srv->store, bk->id, p->id);

    json_builder_begin_object (b);
    med_json_text (r, b, "name", p->name);
    med_json_int (b, "party_id", p->id);
    med_json_bool (b, "revoked", url == NULL || revoked);
    med_json_str (b, "url", url != NULL && !revoked ? url : NULL);
    /* how a link reaches the party: by SMS to a number, the invite to an
     * e-mail address, not at all without either */
    med_json_str (b, "send",
        number != NULL                        ? T ("Send by SMS")
            : med_store_is_email (p->contact) ? T ("Send by e-mail")
                                              : NULL);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_media_case_links (r, b, bk);
  json_builder_end_object (b);
}

void
med_page_case_view (MedReq *r, MedCase *k)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parties = NULL, bookings = NULL, audit = NULL;
  g_autoptr (GPtrArray) rooms = NULL, meds = NULL;
  const char *zone = med_page_zone (r);
  const char *feed = r->query ? g_hash_table_lookup (r->query, "feed") : NULL;
  gboolean office = r->user->role != MED_ROLE_MEDIATOR;
  g_autofree char *title = NULL, *intake = NULL;
  JsonBuilder *b;

  if ((parties = med_store_list_parties (r->srv->store, k->id, &error)) == NULL
      || (bookings
             = med_store_list_case_bookings (r->srv->store, k->id, &error))
          == NULL
      || (audit = med_store_list_audit (r->srv->store, "case", k->id, &error))
          == NULL
      || (rooms = med_store_list_rooms (r->srv->store, k->centre_id, &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, k->centre_id, &error))
          == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  title = med_http_tf (r, N_ ("Case %s"), k->number);
  b = med_http_page_begin (r, title);
  intake = med_time_format_local (k->intake_at, zone, "%Y-%m-%d %H:%M");
  med_json_int (b, "case_id", k->id);
  med_json_str (b, "kind", T (med_case_kind_label (k->kind)));
  med_json_bool (b, "minors", k->minors);
  med_json_bool (b, "urgent", k->urgent);
  med_json_str (b, "status", T (med_case_status_label (k->status)));
  med_json_str (b, "status_word", med_case_status_to_string (k->status));
  med_json_str (b, "department", T (med_department_label (k->department)));
  med_json_str (b, "intake", intake);
  med_json_str (b, "summary", k->summary && *k->summary ? k->summary : NULL);
  med_json_bool (b, "office", office);
  {
    g_autofree char *url = med_page_webcal (r, feed);

    med_json_str (b, "feed", url);
  }
  /* clerks correct, add and remove parties while the case's state allows
   * it (med_service_may_edit_parties) */
  {
    g_autoptr (GError) locked = NULL;
    gboolean editable = office && med_service_may_edit_parties (k, &locked);

    med_json_bool (b, "edit_parties", editable);
    med_json_bool (b, "parties_locked", office && !editable);
  }
  json_builder_set_member_name (b, "parties");
  json_builder_begin_array (b);
  for (guint i = 0; i < parties->len; i++) {
    MedParty *p = g_ptr_array_index (parties, i);
    MedLang l;

    json_builder_begin_object (b);
    med_json_int (b, "party_id", p->id);
    med_json_bool (b, "last", parties->len == 1);
    med_json_text (r, b, "name", p->name);
    med_json_str (b, "role", T (med_party_role_label (p->role)));
    med_json_str (b, "language",
        med_lang_from_code (p->language, &l) ? med_lang_name (l) : p->language);
    med_json_str (b, "attendance", T (med_attendance_label (p->attendance)));
    med_json_str (b, "contact", p->contact ? p->contact : "");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "sessions");
  json_builder_begin_array (b);
  for (guint i = 0; i < bookings->len; i++)
    add_session (r, b, g_ptr_array_index (bookings, i), parties, rooms, meds);
  json_builder_end_array (b);
  med_json_bool (b, "can_book",
      office
          && (k->status == MED_CASE_STATUS_DISPATCHED
              || k->status == MED_CASE_STATUS_NOT_SETTLED)
          && k->department == MED_DEPARTMENT_COURT_MEDIATION);
  MED_PAGE_ENUM_OPTIONS (b, "statuses", med_case_status,
      MED_CASE_STATUS_IN_SESSION, MED_CASE_STATUS_N, -1);
  json_builder_set_member_name (b, "audit");
  json_builder_begin_array (b);
  for (guint i = 0; i < audit->len; i++) {
    MedAuditEntry *e = g_ptr_array_index (audit, i);
    g_autofree char *at = med_time_format_local (e->at, zone, "%Y-%m-%d %H:%M");

    json_builder_begin_object (b);
    med_json_str (b, "at", at);
    med_json_str (b, "actor", e->actor);
    med_json_str (b, "action", e->action);
    med_json_str (b, "detail", e->detail ? e->detail : "");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "case", 200);
}

void
med_page_case_action (MedReq *r, MedCase *k, const char *action)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (strcmp (action, "dispatch") == 0) {
    MedDepartment d;

    if ((form = med_page_form (r, MED_ROLES_OFFICE)) == NULL)
      return;
    if (!med_department_from_string (med_page_form_get (form, "department")
                ? med_page_form_get (form, "department")
                : "",
            &d, &error)
        || !med_service_dispatch (r->srv->store, &ctx, k->id, d, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/intake?msg=dispatched");
  } else if (strcmp (action, "status") == 0) {
    MedCaseStatus to;

    if ((form = med_page_form (r, MED_ROLES_STAFF)) == NULL)
      return;
    if (!med_case_status_from_string (med_page_form_get (form, "status")
                ? med_page_form_get (form, "status")
                : "",
            &to, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    /* the service refuses these too; the page says why in the reader's
     * language */
    if (to == MED_CASE_STATUS_DISPATCHED || to == MED_CASE_STATUS_INTAKE
        || to == MED_CASE_STATUS_SCHEDULED) {
      med_page_invalid (r,
          T ("This status is set by dispatching or booking, not by hand."));
      return;
    }
    if (!med_service_set_case_status (r->srv->store, &ctx, k->id, to, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=status", k->id);
  } else if (strcmp (action, "book") == 0) {
    if ((form = med_page_form (r, MED_ROLES_OFFICE)) == NULL)
      return;
    if (med_service_book (r->srv->store, &ctx, k->id, NULL, 0, NULL, &error)
        == 0) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=booked", k->id);
  } else if (strcmp (action, "feed") == 0) {
    g_autofree char *secret = med_http_new_secret ();
    g_autofree char *hash = med_http_hash_secret (secret);

    if ((form = med_page_form (r, MED_ROLES_OFFICE)) == NULL)
      return;
    if (med_service_add_feed_link (r->srv->store, &ctx, MED_FEED_LINK_CASE,
            k->id, hash, 0, &error)
        == 0) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=feed&feed=%s", k->id,
        secret);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such page");
  }
}

/* send-link, reissue-link: a party's link to a session, posted from the
 * case page (the router checked the access rule for the session and the
 * form's role and CSRF token). */
void
med_page_case_link_action (MedReq *r, MedBooking *bk, const char *action,
    GHashTable *form)
{
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);
  const char *channel = NULL;
  gboolean reissue = strcmp (action, "reissue-link") == 0;
  gint64 party = 0;

  if (!med_http_parse_id (med_page_form_get (form, "party"), &party)) {
    med_page_invalid (r, T ("Party: choose one of the list."));
    return;
  }
  if (!(reissue ? med_service_reissue_link (r->srv->store, &ctx, bk->id, party,
            &channel, &error)
                : med_service_send_link (r->srv->store, &ctx, bk->id, party,
                    &channel, &error))) {
    if (g_error_matches (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID)) {
      med_page_invalid (r,
          T ("This party has no phone number or e-mail address to send the "
             "link to."));
      return;
    }
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=%s", bk->case_id,
      channel == NULL                             ? "link-new"
          : reissue                               ? "link-reissued"
          : strcmp (channel, MED_OUTBOX_SMS) == 0 ? "link-sms"
                                                  : "link-mail");
}
