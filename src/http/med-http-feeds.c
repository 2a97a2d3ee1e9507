/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-feeds.c — calendars over HTTP: the subscription feeds behind
 * capability links (/feeds/<token>.ics, webcal:// on the pages) and the
 * .ics download of a booking's invite.
 *
 * A feed link is 256 random bits; the store keeps its SHA-256. Whatever
 * comes after /feeds/ is hashed and looked up once, so a malformed token,
 * an unknown one, a revoked one and an expired one all cost one indexed
 * query and get the same 404 body. A feed's bytes depend only on the
 * store's state (the ical module stamps every event with the feed's last
 * change), so the body is cached per store data version and served with
 * a strong ETag (its SHA-256) and 304 for a matching If-None-Match.
 *
 * The service builds the feeds and invites (as for `medsched feed` and
 * `medsched invite`). Audiences: a room feed is public (a door board:
 * "Reserved", no names); mediator, case and centre feeds are for staff. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

#include <medsched/med-ical.h>

#include <string.h>

#define NOT_FOUND_BODY                                                         \
  "{\"error\":{\"code\":\"not_found\",\"message\":\"no such feed\"}}\n"

static void
reply_feed_missing (MedReq *r)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  med_http_reply_text (r, 404, "application/json", NOT_FOUND_BODY, -1);
}

/* The feed text of one link, built by the service like `medsched feed`.
 * (transfer full) */
static char *
build_feed (MedReq *r, const MedFeedLink *link, GError **error)
{
  static const struct
  {
    MedFeedKind kind;
    MedFeedAudience audience;
  } map[MED_FEED_LINK_N] = {
    [MED_FEED_LINK_ROOM] = { MED_FEED_KIND_ROOM, MED_FEED_PUBLIC },
    [MED_FEED_LINK_MEDIATOR] = { MED_FEED_KIND_MEDIATOR, MED_FEED_STAFF },
    [MED_FEED_LINK_CASE] = { MED_FEED_KIND_CASE, MED_FEED_STAFF },
    [MED_FEED_LINK_CENTRE] = { MED_FEED_KIND_CENTRE, MED_FEED_STAFF },
  };
  MedServiceCtx ctx = med_http_service_ctx (r);

  /* in the language of whoever made the link, not of who fetches it */
  ctx.lang = link->language[0] != '\0' ? link->language : NULL;
  return med_service_feed (r->srv->store, &ctx, map[link->kind].kind,
      link->ref_id, map[link->kind].audience, 0, 0, error);
}

/* Hash → live link, cached like tokens (store unchanged, this minute):
 * misses are not cached, so they cost the same query every time. */
static MedFeedLink *
find_link (MedHttpServer *srv, const char *hash, MedTime now, GError **error)
{
  g_autofree char *key
      = g_strdup_printf ("%s:%" G_GINT64_FORMAT, hash, now / 60);
  MedFeedLink *l;

  med_http_cache_check (srv);
  if ((l = g_hash_table_lookup (srv->links, key)) != NULL)
    return g_memdup2 (l, sizeof *l);
  if ((l = med_store_find_feed_link (srv->store, srv->cfg.centre_id, hash, now,
           error))
      == NULL)
    return NULL;
  if (g_hash_table_size (srv->links) >= 1024)
    g_hash_table_remove_all (srv->links);
  g_hash_table_insert (srv->links, g_steal_pointer (&key),
      g_memdup2 (l, sizeof *l));
  return l;
}

void
med_http_feed (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedFeedLink) link = NULL;
  g_autofree char *token = NULL, *hash = NULL, *key = NULL, *rkey = NULL;
  const char *name = r->n_seg == 2 ? r->seg[1] : "";
  MedCached *c;
  guint retry = 0;

  if (r->method != SOUP_METHOD_GET && r->method != SOUP_METHOD_HEAD) {
    med_http_reply_error (r, 405, "method", "only GET");
    return;
  }
  rkey = g_strconcat ("feed:", r->client, NULL);
  if (!med_http_rate_allow (r->srv, rkey, &retry)) {
    g_autofree char *ra = g_strdup_printf ("%u", retry);

    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      r->msg),
        "Retry-After", ra);
    med_http_reply_error (r, 429, "rate_limited",
        "too many unknown feed links; try again in %u s", retry);
    return;
  }
  token = g_str_has_suffix (name, ".ics") ? g_strndup (name, strlen (name) - 4)
                                          : g_strdup (name);
  hash = med_http_hash_secret (token);
  link = find_link (r->srv, hash, r->now, &error);
  if (link == NULL || !g_str_has_suffix (name, ".ics")) {
    if (error != NULL
        && !g_error_matches (error, MED_STORE_ERROR,
            MED_STORE_ERROR_NOT_FOUND)) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    med_http_rate_fail (r->srv, rkey);
    reply_feed_missing (r);
    return;
  }
  /* the feed's window moves with the clock: at most an hour stale */
  key = g_strdup_printf ("feed:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
      link->id, r->now / 3600);
  c = med_http_cache_get (r->srv, key);
  if (c == NULL) {
    g_autofree char *text = build_feed (r, link, &error);
    gsize len;

    if (text == NULL) {
      med_http_reply_gerror (r, g_steal_pointer (&error));
      return;
    }
    len = strlen (text);
    c = med_http_cache_put (r->srv, key,
        g_bytes_new_take (g_steal_pointer (&text), len),
        "text/calendar; charset=utf-8");
  }
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "private, max-age=60");
  med_http_reply_cached (r, c);
}

void
med_http_invite (MedReq *r, gint64 booking_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = NULL;
  g_autofree char *text = NULL, *disp = NULL;

  if ((bk = med_store_get_booking (r->srv->store, booking_id, &error)) == NULL
      || (text = med_service_invite (r->srv->store, r->srv->cfg.centre_id,
              booking_id, NULL, FALSE, &error))
          == NULL) {
    med_http_reply_gerror (r, g_steal_pointer (&error));
    return;
  }
  disp = g_strdup_printf ("attachment; filename=\"booking-%" G_GINT64_FORMAT
                          ".ics\"",
      booking_id);
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Content-Disposition", disp);
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  med_http_reply_text (r, 200,
      bk->status == MED_BOOKING_STATUS_CANCELLED
          ? "text/calendar; charset=utf-8; method=CANCEL"
          : "text/calendar; charset=utf-8; method=REQUEST",
      text, -1);
}
