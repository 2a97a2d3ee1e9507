/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-http-bare.c — the peer of the HTTP benchmarks: a bare SoupServer on
 * 127.0.0.1 (port 0 = any free one, printed on stdout) whose one handler
 * answers every request with the same small body, or, for /size/N, with N
 * bytes (at most 1 MiB): the same amount of answer as the medsched
 * endpoint it is compared with. bench-http.py measures it with wrk in the
 * same run as medsched's endpoints and reports each endpoint as a ratio of
 * it. Runs until SIGTERM or SIGINT. */
#include <libsoup/soup.h>

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#define MAX_SIZE (1024 * 1024)

static char filler[MAX_SIZE];

static void
fixed_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  static const char body[] = "{\"status\":\"ok\"}\n";
  guint64 n;

  soup_server_message_set_status (msg, 200, NULL);
  if (g_str_has_prefix (path, "/size/")
      && g_ascii_string_to_unsigned (path + 6, 10, 0, MAX_SIZE, &n, NULL)) {
    soup_server_message_set_response (msg, "application/octet-stream",
        SOUP_MEMORY_STATIC, filler, n);
    return;
  }
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
      body, sizeof body - 1);
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (SoupServer) server
      = soup_server_new ("server-header", "bare", NULL);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo
      = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  GSList *uris;

  memset (filler, 'x', sizeof filler);
  soup_server_add_handler (server, NULL, fixed_cb, NULL, NULL);
  if (!soup_server_listen (server, addr, 0, &error)) {
    fprintf (stderr, "bench-http-bare: %s\n", error->message);
    return 1;
  }
  uris = soup_server_get_uris (server);
  printf ("listening on port %d\n", g_uri_get_port (uris->data));
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_main_loop_run (loop);
  return 0;
}
