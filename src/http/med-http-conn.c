/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-conn.c — medsched owns the life of its client connections:
 * it accepts them, hands each to libsoup as a stream, watches each one
 * while it waits between two requests, and closes what libsoup would keep.
 *
 * Why: Debian 12's libsoup (3.2.3) loses two things per connection.
 *  - Its listener never drops the GSocket it accepted (soup-listener.c
 *    listen_watch; fixed upstream in 3.3 by "soup-listener: Plug a leak"):
 *    ~350 bytes per connection, for ever — a million health checks are
 *    350 MB. So we accept ourselves and give libsoup a GSocketConnection
 *    with soup_server_accept_iostream(); libsoup keeps connections alive
 *    only for a server that has a listener (soup-server.c,
 *    request_finished), so it gets one nobody can reach (an abstract Unix
 *    socket with a random name).
 *  - After a keep-alive answer it makes the next message without a
 *    completion callback (the server hears of it only with its first byte),
 *    so when a client closes the idle connection, the read meets end of
 *    file and the message is finished with nobody told: the socket stays
 *    in CLOSE-WAIT for the life of the process
 *    (soup-server-message-io-http1.c, soup_server_message_io_http1_finished;
 *    fixed upstream by "server: do not leak idle connections closed by the
 *    client"). One descriptor per health check: with LimitNOFILE=4096 the
 *    server stops answering after ~4,000 of them. Nor does an idle
 *    connection have a deadline, since the request-started signal that arms
 *    ours comes with the next request's first byte.
 *
 * So every answered keep-alive connection is watched until its next request
 * begins: a source on its socket, one step more urgent than libsoup's own
 * reader, peeks at what arrived. Bytes → libsoup reads the next request as
 * usual (our per-request deadline applies from its first byte). End of file
 * or a reset → the connection is taken from libsoup through the last
 * message answered on it (which still refers to it) and closed, so libsoup
 * drops it from its client list and frees it. Idle longer than
 * keepalive-timeout → the same. A weak reference on each stream tells us
 * when libsoup (or a WebSocket, or our own early answer) has let it go.
 *
 * Accepting is bounded: at max-connections, or when the process runs out
 * of descriptors (EMFILE), the listening socket is left alone until a
 * connection ends (or 100 ms pass), so the backlog waits in the kernel
 * instead of the main loop spinning. None of this depends on the libsoup
 * bugs staying: with a fixed libsoup the watch sees end of file first all
 * the same. */
#define G_LOG_DOMAIN "medsched-http"
#define _GNU_SOURCE  /* POLLRDHUP */

#include "med-http-private.h"

#include <errno.h>
#include <gio/gnetworking.h>
#include <gio/gunixsocketaddress.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

/* One client connection, from accept until its stream is finalized. Its
 * watch is one source for its whole life, polling the socket only while
 * the connection is idle (armed by the answer, before libsoup makes the
 * next message and attaches its reader), dispatched one step before
 * libsoup's own reader of the socket (G_PRIORITY_DEFAULT). */
typedef struct
{
  GSource source;
  struct _Conn *c;
} ConnSource;

typedef struct _Conn
{
  MedHttpServer *srv;
  GSocketAddress *remote; /* key in srv->conns (ref); libsoup's messages
                           * return this very object */
  GSocket *sock; /* (transfer none): alive as long as io */
  GSocketConnection *io; /* weak: libsoup owns it (its finalization
                          * frees this Conn) */
  GSource *watch; /* a ConnSource */
  /* idle between two requests: the last request answered on it (ref);
   * NULL while a request is under way */
  SoupServerMessage *last;
  gpointer tag; /* its socket, polled while idle (set with last) */
  gint64 idle_since_us;
  gboolean corked; /* TCP_CORK on while an answer is written */
  GList idle_link; /* in srv->idle, oldest first */
} Conn;

/* The connection is not idle any more (a request began, or it is going):
 * its socket is libsoup's alone to read. */
static void
idle_end (Conn *c)
{
  if (c->last != NULL) { /* and so tag */
    g_source_remove_unix_fd (c->watch, c->tag);
    c->tag = NULL;
    g_queue_unlink (&c->srv->idle, &c->idle_link);
    g_clear_object (&c->last);
  }
}

static void
conn_free (Conn *c)
{
  idle_end (c);
  g_source_destroy (c->watch);
  g_source_unref (c->watch);
  g_object_unref (c->remote);
  g_free (c);
}

static void accept_resume (MedHttpServer *srv);
static gboolean accept_retry_cb (gpointer data);

/* The stream is gone: libsoup closed and dropped it. */
static void
stream_finalized_cb (gpointer data, GObject *where_it_was)
{
  Conn *c = data;
  MedHttpServer *srv = c->srv;

  c->io = NULL;
  g_hash_table_remove (srv->conns, c->remote);
  accept_resume (srv);
}

/* ---- idle connections ---- */

/* Takes the connection from libsoup and closes it. Only while libsoup
 * waits for the next request's first byte: its reader has not run since
 * (our watch is dispatched before it), so the connection is whole. A
 * connection libsoup itself closed after the answer (not kept alive) is
 * only forgotten: the last message's reference was all that held it. */
static void
close_idle (Conn *c)
{
  MedHttpServer *srv = c->srv;
  g_autoptr (SoupServerMessage) last = g_object_ref (c->last);
  GIOStream *io;

  idle_end (c);
  if (g_socket_is_closed (c->sock))
    return;
  srv->idle_closed++;
  /* may finalize the stream, and with it c */
  io = soup_server_message_steal_connection (last);
  if (io != NULL) {
    g_io_stream_close (io, NULL, NULL);
    g_object_unref (io);
  }
}

/* Something arrived on an idle connection. Bytes alone (POLLIN without
 * POLLRDHUP) are the next request and need no look; the peer's end of
 * file (POLLRDHUP: it closed or shut down its side), an error or a hang-up
 * is looked at, since a request may still come before the end. */
static void
check_readable (Conn *c, gushort revents)
{
  char byte;
  gssize n;

  if ((revents & (POLLRDHUP | POLLERR | POLLHUP | POLLNVAL)) == 0) {
    idle_end (c);
    return;
  }
  n = recv (g_socket_get_fd (c->sock), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) {
    /* the next request: libsoup reads it, request-started follows */
    idle_end (c);
  } else if (n == 0
      || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    /* end of file (the client closed while idle) or an error (reset) */
    close_idle (c);
  }
}

static gboolean
conn_source_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  Conn *c = ((ConnSource *) source)->c;
  gushort revents;

  if (c->tag == NULL
      || (revents = (gushort) g_source_query_unix_fd (source, c->tag)) == 0)
    return G_SOURCE_CONTINUE;
  if (g_socket_is_closed (c->sock))
    idle_end (c); /* libsoup closed it after the answer */
  else
    check_readable (c, revents);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs conn_source_funcs = {
  .dispatch = conn_source_dispatch,
};

static Conn *
conn_of (MedHttpServer *srv, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote && srv->conns ? g_hash_table_lookup (srv->conns, remote) : NULL;
}

void
med_http_conn_cork (MedHttpServer *srv, SoupServerMessage *msg)
{
  Conn *c = conn_of (srv, msg);
  int on = 1;

  if (c != NULL && !c->corked
      && setsockopt (g_socket_get_fd (c->sock), IPPROTO_TCP, TCP_CORK, &on,
             sizeof on)
          == 0)
    c->corked = TRUE;
}

void
med_http_conn_answered (MedHttpServer *srv, SoupServerMessage *msg)
{
  Conn *c = conn_of (srv, msg);
  int off = 0;

  if (c == NULL)
    return;
  if (g_socket_is_closed (c->sock))
    return;
  if (c->corked) {
    /* what is left of the answer goes out now */
    c->corked = FALSE;
    setsockopt (g_socket_get_fd (c->sock), IPPROTO_TCP, TCP_CORK, &off,
        sizeof off);
  }
  if (srv->stopped || c->last != NULL)
    return;
  /* Watched from now on. libsoup, once this returns, either closes the
   * connection (the watch then sees the socket closed and lets it go) or
   * makes the next message and waits for its first byte: our watch, one
   * step more urgent, sees that byte, or the end of file, first. */
  c->last = g_object_ref (msg);
  c->tag = g_source_add_unix_fd (c->watch, g_socket_get_fd (c->sock),
      (GIOCondition) (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
  c->idle_since_us = g_get_monotonic_time ();
  g_queue_push_tail_link (&srv->idle, &c->idle_link);
}

void
med_http_conn_request_started (MedHttpServer *srv, SoupServerMessage *msg)
{
  Conn *c = conn_of (srv, msg);

  if (c != NULL)
    idle_end (c);
}

/* Once a second: idle connections past keepalive-timeout are closed,
 * requests past request-timeout cut off. */
static gboolean
sweep_cb (gpointer data)
{
  MedHttpServer *srv = data;
  gint64 now = g_get_monotonic_time ();
  gint64 limit = now - (gint64) srv->cfg.keepalive_timeout * G_USEC_PER_SEC;
  GList *l;

  /* oldest first: stop at the first one still young */
  while ((l = srv->idle.head) != NULL
      && ((Conn *) l->data)->idle_since_us <= limit)
    close_idle (l->data);
  med_http_requests_sweep (srv, now);
  return G_SOURCE_CONTINUE;
}

/* ---- accepting ---- */

static void
accept_pause (MedHttpServer *srv, guint retry_ms)
{
  if (srv->accept_source != NULL) {
    g_source_destroy (srv->accept_source);
    g_clear_pointer (&srv->accept_source, g_source_unref);
  }
  if (retry_ms > 0 && srv->accept_retry_id == 0)
    srv->accept_retry_id = g_timeout_add (retry_ms, accept_retry_cb, srv);
}

static void
take_connection (MedHttpServer *srv, GSocket *sock)
{
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocketAddress) remote = NULL;
  g_autoptr (GSocketConnection) io = NULL;
  g_autoptr (GError) error = NULL;
  Conn *c;

  /* a client that reset before we got here has no address: drop it */
  local = g_socket_get_local_address (sock, NULL);
  remote = g_socket_get_remote_address (sock, NULL);
  if (local == NULL || remote == NULL) {
    g_socket_close (sock, NULL);
    return;
  }
  g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  io = g_socket_connection_factory_create_connection (sock);
  c = g_new0 (Conn, 1);
  c->srv = srv;
  c->remote = g_object_ref (remote);
  c->sock = sock;
  c->io = io;
  c->idle_link.data = c;
  c->watch = g_source_new (&conn_source_funcs, sizeof (ConnSource));
  ((ConnSource *) c->watch)->c = c;
  g_source_set_priority (c->watch, G_PRIORITY_DEFAULT - 1);
  g_source_set_can_recurse (c->watch, FALSE);
  g_source_attach (c->watch, NULL);
  g_object_weak_ref (G_OBJECT (io), stream_finalized_cb, c);
  g_hash_table_insert (srv->conns, c->remote, c);
  srv->accepted++;
  if (!soup_server_accept_iostream (srv->soup, G_IO_STREAM (io), local, remote,
          &error)) {
    g_message ("a connection was not taken: %s", error->message);
    g_io_stream_close (G_IO_STREAM (io), NULL, NULL);
  }
}

static gboolean
accept_ready_cb (GSocket *listener, GIOCondition cond, gpointer data)
{
  MedHttpServer *srv = data;

  /* a bounded batch, then back to the loop */
  for (guint i = 0; i < 64; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GSocket) sock = NULL;

    if (g_hash_table_size (srv->conns) >= srv->cfg.max_connections) {
      if (!srv->at_capacity)
        g_message ("%u connections open (max-connections): new ones wait",
            g_hash_table_size (srv->conns));
      srv->at_capacity = TRUE;
      accept_pause (srv, 0);
      return G_SOURCE_REMOVE;
    }
    sock = g_socket_accept (listener, NULL, &error);
    if (sock == NULL) {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)
          || errno == EMFILE || errno == ENFILE || errno == ENOBUFS
          || errno == ENOMEM) {
        /* out of descriptors: let the kernel hold the backlog */
        g_warning ("cannot accept a connection: %s (%u open); retrying",
            error->message, g_hash_table_size (srv->conns));
        accept_pause (srv, 100);
        return G_SOURCE_REMOVE;
      }
      /* ECONNABORTED and the like: that client is gone */
      continue;
    }
    take_connection (srv, sock);
  }
  return G_SOURCE_CONTINUE;
}

static void
accept_resume (MedHttpServer *srv)
{
  if (srv->accept_retry_id) {
    g_source_remove (srv->accept_retry_id);
    srv->accept_retry_id = 0;
  }
  if (srv->listener == NULL || srv->stopping || srv->accept_source != NULL
      || g_hash_table_size (srv->conns) >= srv->cfg.max_connections)
    return;
  if (srv->at_capacity) {
    srv->at_capacity = FALSE;
    g_message ("accepting connections again (%u open)",
        g_hash_table_size (srv->conns));
  }
  srv->accept_source = g_socket_create_source (srv->listener, G_IO_IN, NULL);
  g_source_set_callback (srv->accept_source, G_SOURCE_FUNC (accept_ready_cb),
      srv, NULL);
  g_source_attach (srv->accept_source, NULL);
}

static gboolean
accept_retry_cb (gpointer data)
{
  MedHttpServer *srv = data;

  srv->accept_retry_id = 0;
  accept_resume (srv);
  return G_SOURCE_REMOVE;
}

gboolean
med_http_conns_listen (MedHttpServer *srv, GError **error)
{
  g_autoptr (GSocket) unreachable = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autofree char *name = NULL;

  /* libsoup's keep-alive needs a listener of its own: an abstract Unix
   * socket with a random name (no file, nobody knows it) */
  name = g_strdup_printf ("medsched-%d-%08x%08x", getpid (), g_random_int (),
      g_random_int ());
  addr = g_unix_socket_address_new_with_type (name, -1,
      G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  unreachable
      = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, error);
  if (unreachable == NULL || !g_socket_bind (unreachable, addr, FALSE, error)
      || !g_socket_listen (unreachable, error)
      || !soup_server_listen_socket (srv->soup, unreachable, 0, error))
    return FALSE;
  g_socket_set_blocking (srv->listener, FALSE);
  accept_resume (srv);
  srv->sweep_id = g_timeout_add_seconds (1, sweep_cb, srv);
  return TRUE;
}

/* ---- stopping ---- */

void
med_http_conns_init (MedHttpServer *srv)
{
  srv->conns = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      (GDestroyNotify) conn_free);
}

void
med_http_conns_stop_accepting (MedHttpServer *srv)
{
  if (srv->accept_retry_id) {
    g_source_remove (srv->accept_retry_id);
    srv->accept_retry_id = 0;
  }
  accept_pause (srv, 0);
}

void
med_http_conns_close_idle (MedHttpServer *srv)
{
  g_autoptr (GPtrArray) idle = g_ptr_array_new ();
  GHashTableIter it;
  gpointer v;

  if (srv->conns == NULL)
    return;
  g_hash_table_iter_init (&it, srv->conns);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    if (((Conn *) v)->last != NULL)
      g_ptr_array_add (idle, v);
  }
  /* closing one may finalize its stream and remove it from the table, but
   * never another one */
  for (guint i = 0; i < idle->len; i++)
    close_idle (idle->pdata[i]);
}

void
med_http_conns_free (MedHttpServer *srv)
{
  GHashTableIter it;
  gpointer v;

  med_http_conns_stop_accepting (srv);
  if (srv->sweep_id) {
    g_source_remove (srv->sweep_id);
    srv->sweep_id = 0;
  }
  if (srv->conns == NULL)
    return;
  g_hash_table_iter_init (&it, srv->conns);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    Conn *c = v;

    if (c->io != NULL)
      g_object_weak_unref (G_OBJECT (c->io), stream_finalized_cb, c);
  }
  g_clear_pointer (&srv->conns, g_hash_table_unref);
}

guint
med_http_conns_open (MedHttpServer *srv)
{
  return srv->conns ? g_hash_table_size (srv->conns) : 0;
}
