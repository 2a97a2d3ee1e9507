/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-feeds.c — calendar feed links made from the pages
 * (templates/feed-links.html): a room's, a mediator's or the whole
 * centre's webcal:// link, shown once when made, and the list of links
 * with their revocation. Clerks and admins; a case's link is made on the
 * case page, a mediator's own on their agenda. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

static const char *
ref_name (GPtrArray *list, gint64 id, gsize name_offset)
{
  gpointer x = med_page_find_id (list, id);

  return x ? *(const char **) ((guint8 *) x + name_offset) : "?";
}

static void
feed_links_page (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL, meds = NULL, links = NULL;
  g_autofree char *feed = NULL;
  const char *zone = med_page_zone (r);
  gint64 centre = r->srv->cfg.centre_id;
  JsonBuilder *b;

  if ((rooms = med_store_list_rooms (r->srv->store, centre, &error)) == NULL
      || (meds = med_store_list_mediators (r->srv->store, centre, &error))
          == NULL
      || (links = med_store_list_feed_links (r->srv->store, centre, &error))
          == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  b = med_http_page_begin (r, T ("Calendar feed links"));
  feed = med_page_webcal (r,
      r->query ? g_hash_table_lookup (r->query, "feed") : NULL);
  med_json_str (b, "feed", feed);
  med_json_int (b, "centre_id", centre);
  med_page_id_options (b, "rooms", rooms, G_STRUCT_OFFSET (MedRoom, name), 0);
  med_page_id_options (b, "mediators", meds,
      G_STRUCT_OFFSET (MedMediator, name), 0);
  json_builder_set_member_name (b, "links");
  json_builder_begin_array (b);
  for (guint i = links->len; i > 0; i--) {
    MedFeedLink *l = g_ptr_array_index (links, i - 1);
    g_autofree char *made
        = med_time_format_local (l->created_at, zone, "%Y-%m-%d %H:%M");
    g_autofree char *what = NULL;
    gboolean live
        = l->revoked_at == 0 && (l->expires_at == 0 || l->expires_at > r->now);

    switch (l->kind) {
      case MED_FEED_LINK_ROOM:
        what = med_http_tf (r, N_ ("Room %s"),
            ref_name (rooms, l->ref_id, G_STRUCT_OFFSET (MedRoom, name)));
        break;
      case MED_FEED_LINK_MEDIATOR:
        what = med_http_tf (r, N_ ("Mediator %s"),
            ref_name (meds, l->ref_id, G_STRUCT_OFFSET (MedMediator, name)));
        break;
      case MED_FEED_LINK_CASE: {
        g_autoptr (MedCase) k
            = med_store_get_case (r->srv->store, l->ref_id, NULL);

        what = med_http_tf (r, N_ ("Case %s"), k ? k->number : "?");
        break;
      }
      default:
        what = g_strdup (T ("The whole centre"));
        break;
    }
    json_builder_begin_object (b);
    med_json_int (b, "id", l->id);
    med_json_str (b, "what", what);
    med_json_str (b, "made", made);
    med_json_str (b, "state", live ? T ("live") : T ("revoked"));
    med_json_bool (b, "live", live);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "feed-links", 200);
}

/* GET /feed-links, POST /feed-links (kind, ref), POST
 * /feed-links/{id}/revoke. */
void
med_page_feed_links (MedReq *r)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  MedFeedLinkKind kind;
  gint64 ref = 0, id;

  if (r->n_seg == 1 && (IS (r, GET) || IS (r, HEAD))) {
    if (med_http_require (r, MED_ROLES_OFFICE))
      feed_links_page (r);
    return;
  }
  if (!IS (r, POST) || (r->n_seg == 3 && strcmp (r->seg[2], "revoke") != 0)) {
    med_http_reply_error (r, r->n_seg == 3 ? 404 : 405,
        r->n_seg == 3 ? "not_found" : "method",
        r->n_seg == 3 ? "no such page" : "method not allowed here");
    return;
  }
  if ((form = med_page_form (r, MED_ROLES_OFFICE)) == NULL)
    return;
  if (r->n_seg == 3) {
    MedServiceCtx ctx = med_http_service_ctx (r);

    if (!med_http_parse_id (r->seg[1], &id)) {
      med_http_reply_error (r, 404, "not_found", "no such feed link");
      return;
    }
    if (!med_service_revoke_feed_link (r->srv->store, &ctx, id, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/feed-links?msg=revoked");
    return;
  }
  if (!med_feed_link_kind_from_string (med_page_form_get (form, "kind")
              ? med_page_form_get (form, "kind")
              : "",
          &kind, NULL)
      || kind == MED_FEED_LINK_CASE
      || !med_http_parse_id (med_page_form_get (form, "ref"), &ref)) {
    med_page_invalid (r, T ("Choose a room, a mediator or the centre."));
    return;
  }
  {
    g_autoptr (GPtrArray) list = kind == MED_FEED_LINK_ROOM
        ? med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id, NULL)
        : kind == MED_FEED_LINK_MEDIATOR
        ? med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id, NULL)
        : NULL;

    if (kind == MED_FEED_LINK_CENTRE ? ref != r->srv->cfg.centre_id
                                     : med_page_find_id (list, ref) == NULL) {
      med_page_invalid (r, T ("Choose a room, a mediator or the centre."));
      return;
    }
  }
  {
    g_autofree char *secret = med_http_new_secret ();
    g_autofree char *hash = med_http_hash_secret (secret);
    MedServiceCtx ctx = med_http_service_ctx (r);

    if (med_service_add_feed_link (r->srv->store, &ctx, kind, ref, hash, 0,
            &error)
        == 0) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    med_page_redirect (r, "/feed-links?msg=feed&feed=%s", secret);
  }
}
