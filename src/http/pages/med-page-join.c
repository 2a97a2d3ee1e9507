/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-join.c — the party page reached from a join link
 * (templates/join.html): when and where, in the party's language; for a
 * remote party the video call (device check, consent, waiting room, call;
 * join.js). The link knows the time: before the video room opens the page
 * says when it opens; after the session it says the session has ended;
 * a revoked link gets a page saying so (join-gone.html). Everything on
 * these pages is party-facing: po/REVIEW-bo.md lists its Tibetan. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

/* how long after its end a link still opens the session's page */
#define AFTER_END (6 * 3600)

static void
no_robots (MedReq *r)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (r->msg);

  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (h, "X-Robots-Tag", "noindex");
}

/* A link that no longer opens a session: revoked, replaced, long past
 * (the centre named) or unknown (not named); the centre's telephone on
 * each, when it has one. */
static void
page_gone (MedReq *r, MedCentre *c, guint status, const char *title,
    const char *what, const char *todo)
{
  JsonBuilder *b = med_http_page_begin (r, title);
  MedCentre *centre = c != NULL ? c : med_http_centre (r->srv, NULL);
  g_autofree char *phone = centre != NULL
      ? med_store_get_centre_phone (r->srv->store, centre->id, NULL)
      : NULL;

  med_json_bool (b, "party", TRUE);
  med_json_bool (b, "noindex", TRUE);
  if (c != NULL)
    med_json_text (r, b, "centre", c->name);
  med_json_str (b, "what", what);
  med_json_str (b, "todo", todo);
  if (phone != NULL && *phone != '\0') {
    GString *tel = g_string_new (NULL);

    /* a tel: URI keeps the digits and a leading + */
    for (const char *p = phone; *p; p++) {
      if (g_ascii_isdigit (*p) || (*p == '+' && tel->len == 0))
        g_string_append_c (tel, *p);
    }
    med_json_str (b, "phone", phone);
    med_json_str (b, "phone_tel", tel->str);
    g_string_free (tel, TRUE);
  }
  med_http_page_send (r, b, "join-gone", status);
}

static char *
contact_text (MedReq *r, MedCentre *c)
{
  if (c->address && *c->address)
    return med_http_tf (r,
        N_ ("To change the time or if you have a question, please contact "
            "the centre: %s, %s."),
        c->name, c->address);
  return med_http_tf (r,
      N_ ("To change the time or if you have a question, please contact the "
          "centre: %s."),
      c->name);
}

void
med_page_join (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) parties = NULL, rooms = NULL;
  const char *token = r->n_seg == 2 ? r->seg[1] : "";
  MedCentre *c = med_http_centre (r->srv, &error);
  MedParty *party = NULL;
  MedRoom *room;
  gint64 booking_id = 0, party_id = 0;
  g_autofree char *day = NULL, *clock = NULL, *end = NULL, *rkey = NULL;
  g_autofree char *when = NULL, *iso = NULL, *contact = NULL;
  g_autofree char *opens = NULL, *waiting = NULL;
  guint retry = 0;
  gboolean ended;
  JsonBuilder *b;

  if (c == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  no_robots (r);
  rkey = g_strconcat ("join:", r->client, NULL);
  if (!med_http_rate_allow (r->srv, rkey, &retry)) {
    g_autofree char *ra = g_strdup_printf ("%u", retry);
    g_autofree char *what = med_http_tf (r,
        N_ ("Too many attempts from this address. Try again in %u "
            "seconds."),
        retry);

    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      r->msg),
        "Retry-After", ra);
    r->api = FALSE;
    med_http_page_problem (r, 429, NULL, what, NULL, NULL);
    return;
  }
  /* any confirmed session of the last month or the coming year: the
   * page then says whether it is still open */
  if (!med_store_join_lookup (r->srv->store, r->srv->cfg.centre_id, token,
          r->now - 30 * 86400, r->now + 400 * 86400, &booking_id, &party_id,
          &error)
      || (bk = med_store_get_booking (r->srv->store, booking_id, NULL)) == NULL
      || (k = med_store_get_case (r->srv->store, bk->case_id, NULL)) == NULL
      || (parties = med_store_list_parties (r->srv->store, k->id, NULL)) == NULL
      || (party = med_page_find_id (parties, party_id)) == NULL) {
    if (error != NULL
        && !g_error_matches (error, MED_STORE_ERROR,
            MED_STORE_ERROR_NOT_FOUND)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    /* a link that was issued again: the party may hold the old one */
    g_clear_error (&error);
    g_clear_pointer (&bk, med_booking_free);
    g_clear_pointer (&k, med_case_free);
    g_clear_pointer (&parties, g_ptr_array_unref);
    if (med_store_join_lookup_replaced (r->srv->store, r->srv->cfg.centre_id,
            token, r->now - 30 * 86400, r->now + 400 * 86400, &booking_id,
            &party_id, NULL)
        && (bk = med_store_get_booking (r->srv->store, booking_id, NULL))
            != NULL
        && (k = med_store_get_case (r->srv->store, bk->case_id, NULL)) != NULL
        && (parties = med_store_list_parties (r->srv->store, k->id, NULL))
            != NULL
        && (party = med_page_find_id (parties, party_id)) != NULL) {
      med_http_set_party_lang (r, party->language);
      page_gone (r, c, 410, T ("This link has been replaced"),
          T ("The mediation centre has sent you a new link for this "
             "session, so this one no longer opens it."),
          T ("Use the link in the newest message from the centre, or call "
             "the centre."));
      return;
    }
    med_http_rate_fail (r->srv, rkey);
    page_gone (r, NULL, 404, T ("This link does not work"),
        T ("This link is not valid. It may have been copied incompletely."),
        T ("Check that you opened the whole link from your message, or ask "
           "the mediation centre for a new one."));
    return;
  }
  med_http_set_party_lang (r, party->language);
  contact = contact_text (r, c);
  if (med_store_join_revoked (r->srv->store, bk->id, party->id)) {
    page_gone (r, c, 410, T ("This link has been withdrawn"),
        T ("The mediation centre has withdrawn this link, so it no longer "
           "opens the session."),
        contact);
    return;
  }
  if (r->now > bk->end + AFTER_END) {
    page_gone (r, c, 410, T ("This session has ended"),
        T ("This session has ended."), contact);
    return;
  }
  ended = r->now > bk->end;
  rooms = med_store_list_rooms (r->srv->store, c->id, NULL);
  room = med_page_find_id (rooms, bk->room_id);
  /* xgettext:no-c-format */
  day = med_time_format_local (bk->start, c->zone, T (N_ ("%Y-%m-%d")));
  clock = med_time_format_local (bk->start, c->zone, "%H:%M");
  end = med_time_format_local (bk->end, c->zone, "%H:%M");
  iso = med_time_format_local (bk->start, c->zone, "%Y-%m-%dT%H:%M");
  when = g_strdup_printf ("%s %s–%s", day, clock, end);
  if (!ended && r->now < bk->start - 1800) {
    g_autofree char *open_clock
        = med_time_format_local (bk->start - 1800, c->zone, "%H:%M");

    opens = med_http_tf (r,
        N_ ("The video room opens at %s on %s, half an hour before the "
            "session."),
        open_clock, day);
  }
  waiting = med_http_tf (r,
      N_ ("You have been waiting for some time. The mediator can see that "
          "you are here and will let you in as soon as possible; the "
          "session may start late. Please keep this page open. %s"),
      contact);

  b = med_http_page_begin (r, T ("Your mediation session"));
  med_json_bool (b, "party", TRUE);
  med_json_bool (b, "noindex", TRUE);
  if (party->attendance == MED_ATTENDANCE_REMOTE && !ended) {
    json_builder_set_member_name (b, "scripts");
    json_builder_begin_array (b);
    json_builder_add_string_value (b, "call.js");
    json_builder_add_string_value (b, "join.js");
    json_builder_end_array (b);
  }
  med_json_text (r, b, "centre", c->name);
  med_json_text (r, b, "party_name", party->name);
  med_json_text (r, b, "number", k->number);
  med_json_bool (b, "ended", ended);
  med_json_str (b, "iso", iso);
  med_json_str (b, "when", when);
  med_json_text (r, b, "room", room ? room->name : "");
  if (c->address && *c->address)
    med_json_text (r, b, "address", c->address);
  med_json_bool (b, "in_person",
      !ended && party->attendance != MED_ATTENDANCE_REMOTE);
  med_json_bool (b, "remote",
      !ended && party->attendance == MED_ATTENDANCE_REMOTE);
  med_json_str (b, "token", token);
  /* in the signalling URL, for nginx to route by (nginx-cluster.conf) */
  med_json_int (b, "booking", bk->id);
  med_json_str (b, "opens", opens);
  med_json_int (b, "wait_alert", med_page_wait_alert_seconds ());
  med_json_str (b, "waiting_long", waiting);
  med_json_str (b, "contact", contact);
  med_http_page_send (r, b, "join", 200);
}
