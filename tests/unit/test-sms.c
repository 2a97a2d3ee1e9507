/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sms.c — telling parties by SMS, over a real store file: which
 * parties get a text (a number: SMS; an address: the invite; neither:
 * nothing), in which language, with which link or place; the day-before
 * reminder (due 24 h before, superseded by a move or a cancellation, never
 * for a session within the day, queued again with a re-issued link); the
 * outbox's channels kept apart by claim and due time; links issued again
 * (a new token, the old one dead but known as replaced, a revocation
 * lifted, audited); the centre's telephone; conflicts that name what
 * clashed; and the spool transport's file protocol (gammu-smsd-files(7):
 * a file in outbox/ taken when it shows up in sent/, failed in error/,
 * taken back after the timeout) with files moved by the test as
 * gammu-smsd moves them. tests/http/test-sms.py runs the real gammu-smsd. */
#include "test-util.h"

#include <gmime/gmime.h>
#include "../test-db.h"

#include <medsched/med-service.h>
#include <medsched/med-store.h>

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  char *dir;
  char *path;
  MedStore *store;
  MedServiceCtx ctx;
  gint64 warm, remote, med;
} Fixture;

static gint64
add_room (Fixture *f, const char *name, MedRoomKind kind)
{
  g_autoptr (MedRoom) r = mk_room (0, name, kind, 6);
  g_autoptr (GError) error = NULL;
  gint64 id;

  r->centre_id = f->ctx.centre_id;
  id = med_store_add_room (f->store, r, "test", &error);
  g_assert_no_error (error);
  return id;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCentre) c = med_centre_new_default ();
  g_autoptr (MedMediator) m
      = mk_mediator (0, "扎西次仁", "zh,bo,ug", "wages", 8);
  g_autofree char *path = NULL;

  f->dir = g_dir_make_tmp ("medsched-sms-XXXXXX", &error);
  g_assert_no_error (error);
  path = test_db_new (f->dir, "s");
  f->path = g_strdup (path);
  f->store = med_store_open (path, &error);
  g_assert_no_error (error);
  f->ctx.now = t_local ("2026-12-07T08:00");
  f->ctx.actor = "test";
  med_store_set_now (f->store, f->ctx.now);
  g_free (c->address);
  c->address = g_strdup ("拉萨市城关区江苏路 1 号");
  f->ctx.centre_id = med_store_add_centre (f->store, c, "test", &error);
  g_assert_no_error (error);
  g_assert_true (med_store_set_public_url (f->store, f->ctx.centre_id,
      "https://mediation.example.org", "test", &error));
  import_calendars (f->store);
  f->warm = add_room (f, "温馨调解室一", MED_ROOM_KIND_WARM);
  f->remote = add_room (f, "远程调解室", MED_ROOM_KIND_REMOTE);
  m->centre_id = f->ctx.centre_id;
  f->med = med_store_add_mediator (f->store, m, "test", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  med_store_close (f->store);
  g_free (f->path);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
}

static MedParty *
party (const char *lang, MedAttendance att, const char *name,
    const char *contact)
{
  MedParty *p = mk_party (lang, att, contact);

  g_free (p->name);
  p->name = g_strdup (name);
  return p;
}

/* A case with four parties: a Tibetan remote one with a number, a Chinese
 * in-person one with a number, one with an e-mail address, one with no
 * contact. */
static gint64
add_case (Fixture *f, const char *number)
{
  g_autoptr (MedCase) c = mk_case (0, MED_CASE_KIND_WAGES);
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  g_autoptr (GError) error = NULL;
  gint64 id;

  g_free (c->number);
  c->number = g_strdup (number);
  c->centre_id = f->ctx.centre_id;
  c->intake_at = f->ctx.now;
  c->status = MED_CASE_STATUS_DISPATCHED;
  c->department = MED_DEPARTMENT_COURT_MEDIATION;
  g_ptr_array_add (parties,
      party ("bo", MED_ATTENDANCE_REMOTE, "次仁卓玛", "138 1234 5601"));
  g_ptr_array_add (parties,
      party ("zh", MED_ATTENDANCE_IN_PERSON, "张建国", "13912345602"));
  g_ptr_array_add (parties,
      party ("zh", MED_ATTENDANCE_REMOTE, "李建华", "lijianhua@example.org"));
  g_ptr_array_add (parties,
      party ("ug", MED_ATTENDANCE_IN_PERSON, "王秀英", ""));
  id = med_store_add_case (f->store, c, parties, "test", &error);
  g_assert_no_error (error);
  return id;
}

static gint64
book_at (Fixture *f, gint64 case_id, const char *start)
{
  g_autoptr (GError) error = NULL;
  MedSlot manual = { 0 };
  gint64 id;

  manual.start = t_local (start);
  manual.room_id = f->remote;
  manual.mediator_id = f->med;
  id = med_service_book (f->store, &f->ctx, case_id, &manual, 0, NULL, &error);
  g_assert_no_error (error);
  return id;
}

/* The outbox rows of one channel, oldest first. (transfer full) */
static GPtrArray *
outbox (Fixture *f, const char *channel, const char *state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = med_store_outbox_list (f->store, FALSE, &error);
  GPtrArray *out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) med_outbox_message_free);

  g_assert_no_error (error);
  for (guint i = 0; i < all->len; i++) {
    MedOutboxMessage *m = all->pdata[i];

    if (strcmp (m->channel, channel) == 0
        && (state == NULL
            || strcmp (med_outbox_state_to_string (m->state), state) == 0))
      g_ptr_array_add (out, g_ptr_array_steal_index (all, i--));
  }
  return out;
}

static guint
count_purpose (GPtrArray *list, const char *purpose)
{
  guint n = 0;

  for (guint i = 0; i < list->len; i++)
    n += strcmp (((MedOutboxMessage *) list->pdata[i])->purpose, purpose) == 0;
  return n;
}

static void
test_number (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "13812345601", "13812345601" },
    { "138 1234 5601", "13812345601" },
    { "+86 138-1234-5601", "+8613812345601" },
    { "(0891) 632-0000", "08916320000" },
    { "lijianhua@example.org", NULL },
    { "", NULL },
    { "1234", NULL }, /* too short */
    { "123456789012345678901", NULL }, /* too long */
    { "138 1234 5601 ext", NULL },
    { "138+1234", NULL },
    { "１３８１２３４５６０１", NULL }, /* full-width digits: not ASCII */
    { "138\n12345601", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *n = med_store_sms_number (cases[i].in);

    g_assert_cmpstr (n, ==, cases[i].out);
  }
  g_assert_null (med_store_sms_number (NULL));
}

static void
test_queue (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) sms = NULL, mail = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL, *bo = NULL, *zh = NULL, *ug = NULL;
  gint64 k = add_case (f, "Q-1");
  gint64 b = book_at (f, k, "2026-12-09T10:00");
  MedOutboxMessage *m;

  sms = outbox (f, MED_OUTBOX_SMS, "pending");
  /* the two parties with a number: booked and the reminder each */
  g_assert_cmpuint (sms->len, ==, 4);
  g_assert_cmpuint (count_purpose (sms, "booked"), ==, 2);
  g_assert_cmpuint (count_purpose (sms, "reminder"), ==, 2);
  m = sms->pdata[0];
  g_assert_cmpstr (m->recipient_addr, ==, "13812345601");
  g_assert_cmpstr (m->purpose, ==, "booked");
  g_assert_cmpint (m->next_attempt_at, ==, f->ctx.now);
  m = sms->pdata[3];
  g_assert_cmpstr (m->purpose, ==, "reminder");
  g_assert_cmpint (m->next_attempt_at, ==, t_local ("2026-12-08T10:00"));
  /* the one with an address: the invite, by mail */
  mail = outbox (f, MED_OUTBOX_MAIL, "pending");
  g_assert_cmpuint (mail->len, ==, 1);
  g_assert_cmpstr (((MedOutboxMessage *) mail->pdata[0])->recipient_addr, ==,
      "lijianhua@example.org");

  /* in each party's language, with the link or the place */
  url = med_store_join_url (f->store, b, 1, &error);
  bo = med_service_sms_text (f->store, f->ctx.centre_id, b, 1, MED_SMS_BOOKED,
      &error);
  zh = med_service_sms_text (f->store, f->ctx.centre_id, b, 2, MED_SMS_BOOKED,
      &error);
  ug = med_service_sms_text (f->store, f->ctx.centre_id, b, 4, MED_SMS_REMINDER,
      &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (bo, "བར་འདུམ་ཚོགས་འདུ"));
  g_assert_nonnull (strstr (bo, url));
  g_assert_true (g_str_has_prefix (url, "https://mediation.example.org/join/"));
  g_assert_nonnull (strstr (zh, "调解定于"));
  g_assert_nonnull (strstr (zh, "远程调解室, 拉萨市城关区江苏路 1 号"));
  g_assert_null (strstr (zh, "/join/"));
  /* no catalogue of Uyghur here: Chinese */
  g_assert_nonnull (strstr (ug, "提醒您"));
  g_assert_cmpstr (((MedOutboxMessage *) sms->pdata[0])->method, ==, "REQUEST");
}

static void
test_reminder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 k = add_case (f, "R-1");
  gint64 b = book_at (f, k, "2026-12-09T10:00");
  MedSlot to = { 0 };

  /* a link sent by hand leaves the reminder alone */
  g_assert_true (med_service_send_link (f->store, &f->ctx, b, 1, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GPtrArray) p = outbox (f, MED_OUTBOX_SMS, "pending");

    g_assert_cmpuint (count_purpose (p, "reminder"), ==, 2);
    g_assert_cmpuint (count_purpose (p, "link"), ==, 1);
    /* the booked text to that party was replaced by the link's */
    g_assert_cmpuint (count_purpose (p, "booked"), ==, 1);
  }
  /* a move supersedes every pending text and reminder, queues new ones */
  to.start = t_local ("2026-12-10T10:00");
  g_assert_true (
      med_service_reschedule (f->store, &f->ctx, b, &to, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GPtrArray) p = outbox (f, MED_OUTBOX_SMS, "pending");
    g_autoptr (GPtrArray) s = outbox (f, MED_OUTBOX_SMS, "superseded");

    g_assert_cmpuint (p->len, ==, 4);
    g_assert_cmpuint (count_purpose (p, "moved"), ==, 2);
    g_assert_cmpuint (count_purpose (p, "reminder"), ==, 2);
    g_assert_cmpint (((MedOutboxMessage *) p->pdata[3])->next_attempt_at, ==,
        t_local ("2026-12-09T10:00"));
    g_assert_cmpuint (count_purpose (s, "reminder"), ==, 2);
  }
  /* moved to within the day: no reminder any more */
  to.start = t_local ("2026-12-07T15:00");
  g_assert_true (
      med_service_reschedule (f->store, &f->ctx, b, &to, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GPtrArray) p = outbox (f, MED_OUTBOX_SMS, "pending");

    g_assert_cmpuint (p->len, ==, 2);
    g_assert_cmpuint (count_purpose (p, "reminder"), ==, 0);
  }
  /* back to two days ahead, then cancelled: the reminder goes with it */
  to.start = t_local ("2026-12-09T15:00");
  g_assert_true (
      med_service_reschedule (f->store, &f->ctx, b, &to, NULL, &error));
  g_assert_true (med_service_cancel (f->store, &f->ctx, b, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GPtrArray) p = outbox (f, MED_OUTBOX_SMS, "pending");

    g_assert_cmpuint (p->len, ==, 2);
    g_assert_cmpuint (count_purpose (p, "cancelled"), ==, 2);
    g_assert_cmpstr (((MedOutboxMessage *) p->pdata[0])->method, ==, "CANCEL");
  }
  /* a cancelled session's link is not sent */
  g_assert_false (
      med_service_send_link (f->store, &f->ctx, b, 1, NULL, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_STATE);
}

static void
test_channels (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedOutboxMessage) c = NULL;
  gint64 k = add_case (f, "C-1");
  MedTime due = 0;

  book_at (f, k, "2026-12-09T10:00");
  /* the mail loop sees only the invite, the SMS loop only the texts */
  g_assert_true (
      med_store_outbox_next_due (f->store, MED_OUTBOX_MAIL, &due, &error));
  g_assert_cmpint (due, ==, f->ctx.now);
  c = med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, f->ctx.now, 600,
      &error);
  g_assert_cmpstr (c->channel, ==, MED_OUTBOX_MAIL);
  g_assert_true (
      med_store_outbox_mark_sent (f->store, c->id, f->ctx.now, "test", &error));
  g_clear_pointer (&c, med_outbox_message_free);
  g_assert_null (med_store_outbox_claim (f->store, MED_OUTBOX_MAIL, f->ctx.now,
      600, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 2; i++) {
    c = med_store_outbox_claim (f->store, MED_OUTBOX_SMS, f->ctx.now, 600,
        &error);
    g_assert_cmpstr (c->purpose, ==, "booked");
    g_assert_true (med_store_outbox_mark_sent (f->store, c->id, f->ctx.now,
        "test", &error));
    g_clear_pointer (&c, med_outbox_message_free);
  }
  /* the reminders are not due before their time */
  g_assert_null (med_store_outbox_claim (f->store, MED_OUTBOX_SMS,
      t_local ("2026-12-08T09:59"), 600, &error));
  g_assert_true (
      med_store_outbox_next_due (f->store, MED_OUTBOX_SMS, &due, &error));
  g_assert_cmpint (due, ==, t_local ("2026-12-08T10:00"));
  c = med_store_outbox_claim (f->store, MED_OUTBOX_SMS,
      t_local ("2026-12-08T10:00"), 600, &error);
  g_assert_cmpstr (c->purpose, ==, "reminder");
  g_assert_nonnull (c->message);
  g_assert_true (med_store_outbox_mark_sent (f->store, c->id,
      t_local ("2026-12-08T10:00"), "test", &error));
  {
    g_autoptr (GPtrArray) ledger = med_store_outbox_ledger (f->store, &error);
    MedLedgerEntry *last = ledger->pdata[ledger->len - 1];

    g_assert_cmpuint (ledger->len, ==, 4);
    g_assert_cmpstr (last->channel, ==, MED_OUTBOX_SMS);
    g_assert_cmpstr (((MedLedgerEntry *) ledger->pdata[0])->channel, ==,
        MED_OUTBOX_MAIL);
  }
  /* the store refuses what does not fit a channel */
  {
    MedOutboxMessage m = { 0 };

    m.booking_id = 1;
    m.recipient_addr = (char *) "lijianhua@example.org";
    m.method = (char *) "REQUEST";
    m.subject = (char *) "x";
    m.message = (char *) "x";
    m.channel = (char *) MED_OUTBOX_SMS;
    m.purpose = (char *) "link";
    g_assert_cmpint (med_store_outbox_add (f->store, &m, "test", &error), ==,
        0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
    m.recipient_addr = (char *) "13812345601";
    m.purpose = (char *) "invite";
    g_assert_cmpint (med_store_outbox_add (f->store, &m, "test", &error), ==,
        0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
    m.purpose = (char *) "link";
    m.channel = (char *) "fax";
    g_assert_cmpint (med_store_outbox_add (f->store, &m, "test", &error), ==,
        0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
    m.channel = (char *) MED_OUTBOX_SMS;
    m.message = g_strnfill (3000, 'x');
    g_assert_cmpint (med_store_outbox_add (f->store, &m, "test", &error), ==,
        0);
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_free (m.message);
  }
}

static void
test_reissue (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *old = NULL, *new_tok = NULL, *again = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  gint64 k = add_case (f, "J-1");
  gint64 b = book_at (f, k, "2026-12-09T10:00");
  gint64 bid = 0, pid = 0;
  MedTime from = t_local ("2026-12-01T00:00"),
          to = t_local ("2026-12-31T00:00");
  const char *channel = NULL;
  gint gen = 0;

  old = med_store_join_token (f->store, b, 1, &error);
  g_assert_true (med_store_revoke_join (f->store, b, 1, "test", &error));
  g_assert_true (med_store_join_revoked (f->store, b, 1));
  g_assert_true (
      med_service_reissue_link (f->store, &f->ctx, b, 1, &channel, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (channel, ==, MED_OUTBOX_SMS);
  new_tok = med_store_join_token (f->store, b, 1, &error);
  g_assert_cmpstr (new_tok, !=, old);
  g_assert_false (med_store_join_revoked (f->store, b, 1));
  g_assert_cmpint (med_store_join_generation (f->store, b, 1, &error), ==, 1);
  /* the new token opens the session, the old one nothing */
  g_assert_true (med_store_join_lookup (f->store, f->ctx.centre_id, new_tok,
      from, to, &bid, &pid, &error));
  g_assert_cmpint (pid, ==, 1);
  g_assert_false (med_store_join_lookup (f->store, f->ctx.centre_id, old, from,
      to, &bid, &pid, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* but is known as replaced; the current one is not */
  bid = pid = 0;
  g_assert_true (med_store_join_lookup_replaced (f->store, f->ctx.centre_id,
      old, from, to, &bid, &pid, &error));
  g_assert_cmpint (bid, ==, b);
  g_assert_cmpint (pid, ==, 1);
  g_assert_false (med_store_join_lookup_replaced (f->store, f->ctx.centre_id,
      new_tok, from, to, NULL, NULL, &error));
  g_clear_error (&error);
  /* other parties keep their links */
  g_assert_cmpint (med_store_join_generation (f->store, b, 2, &error), ==, 0);
  /* again: generation 2, both earlier ones replaced */
  g_assert_true (med_store_join_reissue (f->store, b, 1, "test", &gen, &error));
  g_assert_cmpint (gen, ==, 2);
  again = med_store_join_token (f->store, b, 1, &error);
  g_assert_true (med_store_join_lookup_replaced (f->store, f->ctx.centre_id,
      new_tok, from, to, NULL, NULL, &error));
  g_assert_true (med_store_join_lookup_replaced (f->store, f->ctx.centre_id,
      old, from, to, NULL, NULL, &error));
  /* the re-issue sent the new link and queued the reminder again: claim
   * every pending text to read them */
  {
    g_autoptr (MedOutboxMessage) m = NULL;
    gboolean link_new = FALSE, reminder_new = FALSE;
    MedTime later = t_local ("2026-12-20T00:00");

    while ((m = med_store_outbox_claim (f->store, MED_OUTBOX_SMS, later, 60,
                &error))
        != NULL) {
      if (strcmp (m->recipient_addr, "13812345601") == 0) {
        if (strcmp (m->purpose, "link") == 0)
          link_new = strstr (m->message, new_tok) != NULL;
        if (strcmp (m->purpose, "reminder") == 0)
          reminder_new = strstr (m->message, new_tok) != NULL
              && strstr (m->message, old) == NULL;
      }
      g_clear_pointer (&m, med_outbox_message_free);
    }
    g_assert_no_error (error);
    g_assert_true (link_new);
    g_assert_true (reminder_new);
  }
  /* a party of the case only; not a cancelled booking */
  g_assert_false (
      med_store_join_reissue (f->store, b, 99, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (med_service_cancel (f->store, &f->ctx, b, &error));
  g_assert_false (
      med_store_join_reissue (f->store, b, 1, "test", NULL, &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
  g_clear_error (&error);
  /* audited with ids only, and the chain holds */
  audit = med_store_list_audit (f->store, "booking", b, &error);
  {
    guint reissues = 0, sends = 0;

    for (guint i = 0; i < audit->len; i++) {
      MedAuditEntry *e = audit->pdata[i];

      reissues += strcmp (e->action, "join.reissue") == 0;
      sends += strcmp (e->action, "join.send") == 0;
      g_assert_null (strstr (e->detail, "1381234"));
      g_assert_null (strstr (e->detail, "次仁"));
    }
    g_assert_cmpuint (reissues, ==, 2);
    g_assert_cmpuint (sends, ==, 1);
  }
  g_assert_true (med_store_audit_verify (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
test_send_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 k = add_case (f, "N-1");
  gint64 b = book_at (f, k, "2026-12-09T10:00");
  guint before;
  const char *channel = "unset";

  {
    g_autoptr (GPtrArray) all = med_store_outbox_list (f->store, FALSE, NULL);

    before = all->len;
  }
  /* no contact: refused, nothing queued, nothing audited */
  g_assert_false (
      med_service_send_link (f->store, &f->ctx, b, 4, &channel, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID);
  g_clear_error (&error);
  {
    g_autoptr (GPtrArray) all = med_store_outbox_list (f->store, FALSE, NULL);

    g_assert_cmpuint (all->len, ==, before);
  }
  /* but a new link can be issued to hand over */
  g_assert_true (
      med_service_reissue_link (f->store, &f->ctx, b, 4, &channel, &error));
  g_assert_null (channel);
  /* by e-mail: the party's invite */
  g_assert_true (
      med_service_send_link (f->store, &f->ctx, b, 3, &channel, &error));
  g_assert_cmpstr (channel, ==, MED_OUTBOX_MAIL);
}

static void
test_centre_phone (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = { "call us", "12",
    "+86 (891) 632 0000 0000 "
    "0000 000",
    "0891\n6320000", "0891-6320000; DROP", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *got = NULL;

  got = med_store_get_centre_phone (f->store, f->ctx.centre_id, &error);
  g_assert_cmpstr (got, ==, "");
  g_clear_pointer (&got, g_free);
  g_assert_true (med_store_set_centre_phone (f->store, f->ctx.centre_id,
      "+86 891 632-0000", "test", &error));
  for (guint i = 0; bad[i]; i++) {
    g_assert_false (med_store_set_centre_phone (f->store, f->ctx.centre_id,
        bad[i], "test", &error));
    g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }
  got = med_store_get_centre_phone (f->store, f->ctx.centre_id, &error);
  g_assert_cmpstr (got, ==, "+86 891 632-0000");
  g_clear_pointer (&got, g_free);
  g_assert_false (med_store_set_centre_phone (f->store, 99, "0891-6320000",
      "test", &error));
  g_assert_error (error, MED_STORE_ERROR, MED_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (med_store_set_centre_phone (f->store, f->ctx.centre_id, "",
      "test", &error));
  got = med_store_get_centre_phone (f->store, f->ctx.centre_id, &error);
  g_assert_cmpstr (got, ==, "");
}

/* Every kind of conflict the store names: the mediator, the leave, the
 * daily cap (the room is test-service.c's). */
static void
test_conflicts (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 k1 = add_case (f, "K-1"), k2 = add_case (f, "K-2");
  MedBooking b = { 0 };
  const MedStoreConflict *c;

  b.case_id = k1;
  b.room_id = f->warm;
  b.mediator_id = f->med;
  b.start = t_local ("2026-12-09T10:00");
  b.end = t_local ("2026-12-09T11:00");
  b.mode = MED_BOOKING_MODE_IN_PERSON;
  b.status = MED_BOOKING_STATUS_CONFIRMED;
  g_assert_cmpint (med_store_book (f->store, &b, "test", &error), >, 0);
  /* the same mediator, another room, another case */
  b.case_id = k2;
  b.room_id = f->remote;
  b.start = t_local ("2026-12-09T10:30");
  b.end = t_local ("2026-12-09T11:30");
  g_assert_false (med_store_check_booking (f->store, &b, 0, &error));
  c = med_store_error_get_conflict (error);
  g_assert_nonnull (c);
  g_assert_cmpint (c->kind, ==, MED_CONFLICT_MEDIATOR);
  g_assert_cmpstr (c->name, ==, "扎西次仁");
  g_assert_cmpint (c->start, ==, t_local ("2026-12-09T10:00"));
  g_clear_error (&error);
  /* the same case: its own session */
  b.case_id = k1;
  g_assert_cmpint (med_store_book (f->store, &b, "test", &error), ==, 0);
  c = med_store_error_get_conflict (error);
  g_assert_nonnull (c);
  g_assert_true (
      c->kind == MED_CONFLICT_MEDIATOR || c->kind == MED_CONFLICT_CASE);
  g_clear_error (&error);
  /* leave */
  g_assert_true (
      med_store_add_leave (f->store, f->med, t_local ("2026-12-10T00:00"),
          t_local ("2026-12-11T00:00"), "test", &error));
  b.case_id = k2;
  b.start = t_local ("2026-12-10T10:00");
  b.end = t_local ("2026-12-10T11:00");
  g_assert_false (med_store_check_booking (f->store, &b, 0, &error));
  c = med_store_error_get_conflict (error);
  g_assert_cmpint (c->kind, ==, MED_CONFLICT_LEAVE);
  g_assert_cmpint (c->booking_id, ==, 0);
  g_assert_cmpint (c->end, ==, t_local ("2026-12-11T00:00"));
  g_clear_error (&error);
  /* a check writes nothing */
  g_assert_true (med_store_check_booking (f->store, &b, 0, NULL) == FALSE);
  {
    g_autoptr (GPtrArray) all = med_store_list_bookings (f->store,
        f->ctx.centre_id, 0, 0, TRUE, NULL);

    g_assert_cmpuint (all->len, ==, 1);
  }
  /* another error than a conflict has none */
  g_assert_null (med_store_error_get_conflict (NULL));
  g_set_error (&error, MED_STORE_ERROR, MED_STORE_ERROR_CONFLICT, "bare");
  g_assert_null (med_store_error_get_conflict (error));
}

/* ---- the spool transport ------------------------------------------------ */

typedef struct
{
  char *spool;
  const char *move_to; /* "sent", "error" or NULL: as gammu-smsd would */
  char *seen; /* the file gammu-smsd would have read */
  gboolean done;
  gboolean taken;
  char *why;
} Spool;

static gboolean
gateway_cb (gpointer data)
{
  Spool *s = data;
  g_autofree char *out = g_build_filename (s->spool, "outbox", NULL);
  g_autoptr (GDir) dir = g_dir_open (out, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *from = NULL, *to = NULL;

    if (name[0] == '.' || s->move_to == NULL)
      continue;
    from = g_build_filename (out, name, NULL);
    to = g_build_filename (s->spool, s->move_to, name, NULL);
    g_free (s->seen);
    s->seen = g_strdup (name);
    g_assert_cmpint (g_rename (from, to), ==, 0);
  }
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  Spool *s;
  MedTransport *t;
} Run;

static void
run_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *r = data;

  r->s->taken = r->t->send_finish (r->t, result, &r->s->why);
  r->s->done = TRUE;
}

/* Hands m to t while the test moves spool files as gammu-smsd would. */
static gboolean
hand_over (Spool *s, MedTransport *t, const MedOutboxMessage *m)
{
  Run r = { s, t };
  guint watch = g_timeout_add (50, gateway_cb, s);

  s->done = FALSE;
  g_clear_pointer (&s->why, g_free);
  t->send_async (t, m, NULL, run_done_cb, &r);
  while (!s->done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (watch);
  return s->taken;
}

static guint
files_in (Spool *s, const char *sub)
{
  g_autofree char *d = g_build_filename (s->spool, sub, NULL);
  g_autoptr (GDir) dir = g_dir_open (d, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
test_spool (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedTransport) t = NULL;
  Spool s = { 0 };
  MedOutboxMessage m = { 0 };
  static const char *const dirs[] = { "outbox", "sent", "error" };

  s.spool = g_build_filename (f->dir, "spool", NULL);
  /* a spool without its directories is refused */
  g_assert_null (med_service_sms_spool_new (s.spool, 1, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (med_service_sms_spool_new ("relative/spool", 1, &error));
  g_assert_error (error, MED_SERVICE_ERROR, MED_SERVICE_ERROR_INVALID);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree char *d = g_build_filename (s.spool, dirs[i], NULL);

    g_assert_cmpint (g_mkdir_with_parents (d, 0770), ==, 0);
  }
  t = med_service_sms_spool_new (s.spool, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (t->channel, ==, MED_OUTBOX_SMS);
  m.id = 7;
  m.recipient_addr = (char *) "+8613812345601";
  m.message = (char *) "བར་འདུམ་ཚོགས་འདུ། 调解 https://x.example/join/a";
  m.attempts = 2;

  /* moved to sent/: taken, the file removed; what it held */
  s.move_to = "sent";
  g_assert_true (hand_over (&s, t, &m));
  g_assert_true (g_str_has_prefix (s.seen, "OUTB"));
  g_assert_true (g_str_has_suffix (s.seen, "_+8613812345601_m7a3.txt"));
  {
    /* OUT<prio><date>_<time>_<serial>_<number>_<note>: the number
     * between the third and the fourth '_' */
    g_auto (GStrv) parts = g_strsplit (s.seen, "_", -1);

    g_assert_cmpuint (g_strv_length (parts), ==, 5);
    g_assert_cmpstr (parts[3], ==, "+8613812345601");
  }
  g_assert_cmpuint (files_in (&s, "sent"), ==, 0);
  g_assert_cmpuint (files_in (&s, "outbox"), ==, 0);

  /* nobody takes it: taken back after the timeout, nothing left */
  s.move_to = NULL;
  m.id = 8;
  g_assert_false (hand_over (&s, t, &m));
  g_assert_nonnull (strstr (s.why, "did not take the message"));
  g_assert_null (strstr (s.why, "13812345601"));
  g_assert_cmpuint (files_in (&s, "outbox"), ==, 0);
  /* moved to error/: failed, the file removed, the number not named */
  s.move_to = "error";
  m.id = 9;
  g_assert_false (hand_over (&s, t, &m));
  g_assert_nonnull (strstr (s.why, "error/"));
  g_assert_null (strstr (s.why, "13812345601"));
  g_assert_cmpuint (files_in (&s, "error"), ==, 0);
  /* stopped (serve's SIGTERM after its grace) before gammu-smsd read it:
   * taken back, reported as cancelled (the loop releases it, due again) */
  s.move_to = NULL;
  m.id = 10;
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    Run r = { &s, t };

    s.done = FALSE;
    g_clear_pointer (&s.why, g_free);
    t->send_async (t, &m, cancel, run_done_cb, &r);
    g_assert_cmpuint (files_in (&s, "outbox"), ==, 1);
    g_cancellable_cancel (cancel);
    while (!s.done)
      g_main_context_iteration (NULL, TRUE);
    g_assert_false (s.taken);
    g_assert_cmpstr (s.why, ==, "cancelled");
    g_assert_cmpuint (files_in (&s, "outbox"), ==, 0);
  }
  /* a recipient that is not a number never reaches the spool */
  m.recipient_addr = (char *) "../../etc/x";
  g_assert_false (hand_over (&s, t, &m));
  g_assert_cmpuint (files_in (&s, "outbox"), ==, 0);
  g_free (s.seen);
  g_free (s.why);
  g_free (s.spool);
}

/* The file a hand-over writes, read back before anyone moves it. */
static void
test_spool_encoding (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedTransport) t = NULL;
  g_autofree char *spool = g_build_filename (f->dir, "spool", NULL);
  g_autofree char *outbox_dir = NULL;
  const char *text = "次仁 བོད་ 𠀀 ok";
  Spool s = { 0 };
  Run r = { &s, NULL };
  MedOutboxMessage m = { 0 };
  static const char *const dirs[] = { "outbox", "sent", "error" };
  gboolean checked = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree char *d = g_build_filename (spool, dirs[i], NULL);

    g_assert_cmpint (g_mkdir_with_parents (d, 0770), ==, 0);
  }
  t = med_service_sms_spool_new (spool, 1, &error);
  r.t = t;
  m.id = 1;
  m.recipient_addr = (char *) "13812345601";
  m.message = (char *) text;
  t->send_async (t, &m, NULL, run_done_cb, &r);
  outbox_dir = g_build_filename (spool, "outbox", NULL);
  {
    g_autoptr (GDir) dir = g_dir_open (outbox_dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *path = g_build_filename (outbox_dir, name, NULL);
      g_autofree char *raw = NULL;
      g_autofree char *back = NULL;
      gsize len = 0;
      GStatBuf st;

      g_assert_false (name[0] == '.'); /* renamed into place at once */
      g_assert_true (g_file_get_contents (path, &raw, &len, &error));
      g_assert_cmpuint (len, >=, 2);
      g_assert_cmpint ((guint8) raw[0], ==, 0xff);
      g_assert_cmpint ((guint8) raw[1], ==, 0xfe);
      back = g_utf16_to_utf8 ((const gunichar2 *) (raw + 2),
          (glong) (len - 2) / 2, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (back, ==, text);
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0644);
      checked = TRUE;
    }
  }
  g_assert_true (checked);
  while (!s.done)
    g_main_context_iteration (NULL, TRUE);
  g_free (s.why);
}


/* How many pending messages of channel (to addr; NULL: anyone) hold
 * needle (no quotes in either): the listing leaves the texts out, so the
 * table is read (both drivers have replace()). */
static guint
pending_holding_to (Fixture *f, const char *channel, const char *addr,
    const char *needle)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM outbox WHERE "
                                          "state = 'pending' AND channel = "
                                          "'%s' AND replace(message, '%s', "
                                          "'') <> message AND ('%s' = '' OR "
                                          "recipient_addr = '%s')",
      channel, needle, addr ? addr : "", addr ? addr : "");
  RawDb *db;
  gint64 n;

  g_assert_null (strchr (needle, '\''));
  g_assert_true (addr == NULL || strchr (addr, '\'') == NULL);
  db = raw_open (f->path);
  n = raw_int (db, sql);
  raw_close (db);
  return (guint) n;
}

static guint
pending_holding (Fixture *f, const char *channel, const char *needle)
{
  return pending_holding_to (f, channel, NULL, needle);
}

/* The calendar part of the pending e-mail of method to addr (no quotes
 * in either), decoded. (transfer full) */
static char *
pending_calendar (Fixture *f, const char *addr, const char *method)
{
  g_autofree char *sql = g_strdup_printf ("SELECT message FROM outbox WHERE "
                                          "state = 'pending' AND channel = "
                                          "'mail' AND recipient_addr = '%s' "
                                          "AND method = '%s'",
      addr, method);
  g_autofree char *msg = NULL;
  GMimeStream *stream, *out = g_mime_stream_mem_new ();
  GMimeParser *parser;
  GMimeMessage *parsed;
  GMimePartIter *it;
  GByteArray *bytes;
  char *ics = NULL;
  RawDb *db = raw_open (f->path);

  msg = raw_text (db, sql);
  raw_close (db);
  g_assert_nonnull (msg);
  stream = g_mime_stream_mem_new_with_buffer (msg, strlen (msg));
  parser = g_mime_parser_new_with_stream (stream);
  parsed = g_mime_parser_construct_message (parser, NULL);
  g_assert_nonnull (parsed);
  it = g_mime_part_iter_new ((GMimeObject *) parsed);
  do {
    GMimeObject *part = g_mime_part_iter_get_current (it);

    if (GMIME_IS_PART (part)
        && g_mime_content_type_is_type (g_mime_object_get_content_type (part),
            "text", "calendar")) {
      g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (
                                               (GMimePart *) part),
          out);
      bytes = g_mime_stream_mem_get_byte_array ((GMimeStreamMem *) out);
      ics = g_strndup ((const char *) bytes->data, bytes->len);
      break;
    }
  } while (g_mime_part_iter_next (it));
  g_mime_part_iter_free (it);
  g_object_unref (parsed);
  g_object_unref (parser);
  g_object_unref (stream);
  g_object_unref (out);
  g_assert_nonnull (ics);
  return ics;
}

/* The pending messages of channel to addr with purpose (NULL: any). */
static guint
pending_to (Fixture *f, const char *channel, const char *addr,
    const char *purpose)
{
  g_autoptr (GPtrArray) p = outbox (f, channel, "pending");
  guint n = 0;

  for (guint i = 0; i < p->len; i++) {
    MedOutboxMessage *m = p->pdata[i];

    n += g_ascii_strcasecmp (m->recipient_addr, addr) == 0
        && (purpose == NULL || strcmp (m->purpose, purpose) == 0);
  }
  return n;
}

/* A revoked link is never sent: the party's pending texts that carry it
 * (the booking's, the reminder) are superseded; the other parties' stay. */
static void
test_revoke_texts (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  gint64 k = add_case (f, "V-1");
  gint64 b = book_at (f, k, "2026-12-09T10:00");

  url = med_store_join_url (f->store, b, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, url), ==, 2);
  g_assert_true (med_service_revoke_join (f->store, &f->ctx, b, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, url), ==, 0);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345601", NULL), ==, 0);
  /* the in-person party's booking text and reminder are still to go */
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13912345602", "booked"), ==,
      1);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13912345602", "reminder"),
      ==, 1);
  /* issued again: the new link goes, the revoked one still nowhere */
  g_assert_true (
      med_service_reissue_link (f->store, &f->ctx, b, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, url), ==, 0);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345601", "link"), ==,
      1);
}

/* Issued again after the reminder fell due but before it went out (the
 * gateway was down): the old reminder carries the old link and goes no
 * more; no new reminder for a time already passed. */
static void
test_reissue_late_reminder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *old = NULL, *fresh = NULL;
  gint64 k = add_case (f, "V-2");
  gint64 b = book_at (f, k, "2026-12-09T10:00");

  old = med_store_join_url (f->store, b, 1, &error);
  f->ctx.now = t_local ("2026-12-08T12:00");
  med_store_set_now (f->store, f->ctx.now);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, old), ==, 2);
  g_assert_true (
      med_service_reissue_link (f->store, &f->ctx, b, 1, NULL, &error));
  g_assert_no_error (error);
  fresh = med_store_join_url (f->store, b, 1, &error);
  g_assert_cmpstr (fresh, !=, old);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, old), ==, 0);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, fresh), ==, 1);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345601", "reminder"),
      ==, 0);
}

/* A party added to a case with a session to come is told as if booked
 * with it: by SMS (the booking's text with their own link, the reminder)
 * or by the invite; one removed gets the cancellation, and its pending
 * texts go no more; the others' reminders stay. */
static void
test_party_edits (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedParty) sms
      = party ("bo", MED_ATTENDANCE_REMOTE, "索朗旺堆", "13812345677");
  g_autoptr (MedParty) mail
      = party ("zh", MED_ATTENDANCE_REMOTE, "赵立新", "zhaolixin@example.org");
  g_autofree char *url = NULL;
  gint64 k = add_case (f, "P-1");
  gint64 b = book_at (f, k, "2026-12-09T10:00");
  gint64 ps, pm;

  mail->role = MED_PARTY_ROLE_AGENT;
  ps = med_service_add_party (f->store, &f->ctx, k, sms, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ps, >, 0);
  url = med_store_join_url (f->store, b, ps, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345677", "booked"), ==,
      1);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345677", "reminder"),
      ==, 1);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, url), ==, 2);
  /* in their language (the case's other Tibetan party has texts too) */
  g_assert_cmpuint (pending_holding_to (f, MED_OUTBOX_SMS, "13812345677",
                        "བར་འདུམ་"),
      ==, 2);
  pm = med_service_add_party (f->store, &f->ctx, k, mail, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_MAIL, "zhaolixin@example.org",
                        NULL),
      ==, 1);
  /* the others' reminders were left alone */
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345601", "reminder"),
      ==, 1);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13912345602", "reminder"),
      ==, 1);

  /* removed: the cancellation, nothing else pending for them */
  g_assert_true (med_service_remove_party (f->store, &f->ctx, k, ps, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345677", NULL), ==, 1);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345677", "cancelled"),
      ==, 1);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, url), ==, 0);
  /* the parties still in the case keep their reminders */
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345601", "reminder"),
      ==, 1);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13912345602", "reminder"),
      ==, 1);
  g_assert_true (med_service_remove_party (f->store, &f->ctx, k, pm, &error));
  g_assert_no_error (error);
  /* an agent is an optional attendee in its CANCEL, as in its invite */
  {
    g_autofree char *ics
        = pending_calendar (f, "zhaolixin@example.org", "CANCEL");

    g_assert_nonnull (strstr (ics, "ROLE=OPT-PARTICIPANT"));
    g_assert_null (strstr (ics, "ROLE=REQ-PARTICIPANT"));
  }
  {
    g_autoptr (GPtrArray) p = outbox (f, MED_OUTBOX_MAIL, "pending");
    guint cancels = 0;

    for (guint i = 0; i < p->len; i++) {
      MedOutboxMessage *m = p->pdata[i];

      cancels += g_ascii_strcasecmp (m->recipient_addr, "zhaolixin@example.org")
              == 0
          && strcmp (m->method, "CANCEL") == 0;
    }
    g_assert_cmpuint (cancels, ==, 1);
  }
  /* the edits and their messages were one transaction each: nothing
   * partial, and the store is consistent */
  g_assert_true (med_store_check (f->store, &error));
  g_assert_no_error (error);
}

/* A party removed after another's link was revoked: the removal's
 * cancellation supersedes the removed party's texts alone, so the revoked
 * link is not queued again and the others' reminders stay. */
static void
test_party_removed_after_revoke (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedParty) sms
      = party ("zh", MED_ATTENDANCE_REMOTE, "索朗旺堆", "13812345677");
  g_autofree char *url = NULL;
  gint64 k = add_case (f, "P-2");
  gint64 b = book_at (f, k, "2026-12-09T10:00");
  gint64 ps;

  url = med_store_join_url (f->store, b, 1, &error);
  g_assert_no_error (error);
  g_assert_true (med_service_revoke_join (f->store, &f->ctx, b, 1, &error));
  g_assert_no_error (error);
  ps = med_service_add_party (f->store, &f->ctx, k, sms, &error);
  g_assert_no_error (error);
  g_assert_true (med_service_remove_party (f->store, &f->ctx, k, ps, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pending_holding (f, MED_OUTBOX_SMS, url), ==, 0);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345601", NULL), ==, 0);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13912345602", "reminder"),
      ==, 1);
  g_assert_cmpuint (pending_to (f, MED_OUTBOX_SMS, "13812345677", "cancelled"),
      ==, 1);
}

/* A party edited while the case has no session to come tells nobody. */
static void
test_party_edits_no_session (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedParty) sms
      = party ("bo", MED_ATTENDANCE_REMOTE, "索朗旺堆", "13812345677");
  g_autoptr (GPtrArray) before = NULL, after = NULL;
  gint64 k = add_case (f, "P-2");
  gint64 b = book_at (f, k, "2026-12-07T15:00");
  gint64 ps;

  g_assert_true (med_service_cancel (f->store, &f->ctx, b, &error));
  g_assert_no_error (error);
  before = med_store_outbox_list (f->store, FALSE, &error);
  ps = med_service_add_party (f->store, &f->ctx, k, sms, &error);
  g_assert_no_error (error);
  g_assert_true (med_service_remove_party (f->store, &f->ctx, k, ps, &error));
  g_assert_no_error (error);
  after = med_store_outbox_list (f->store, FALSE, &error);
  g_assert_cmpuint (after->len, ==, before->len);
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *path;
    void (*func) (Fixture *, gconstpointer);
  } tests[] = {
    { "/sms/number", test_number },
    { "/sms/queue/parties-languages-links", test_queue },
    { "/sms/queue/reminder", test_reminder },
    { "/sms/outbox/channels", test_channels },
    { "/sms/link/reissue", test_reissue },
    { "/sms/link/revoke-supersedes", test_revoke_texts },
    { "/sms/link/reissue-late-reminder", test_reissue_late_reminder },
    { "/sms/party/added-removed", test_party_edits },
    { "/sms/party/removed-after-revoke", test_party_removed_after_revoke },
    { "/sms/party/no-session", test_party_edits_no_session },
    { "/sms/link/send-refused", test_send_refused },
    { "/sms/centre/phone", test_centre_phone },
    { "/sms/conflict/named", test_conflicts },
    { "/sms/spool/outcomes", test_spool },
    { "/sms/spool/encoding", test_spool_encoding },
  };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    g_test_add (tests[i].path, Fixture, NULL, fixture_setup, tests[i].func,
        fixture_teardown);
  return g_test_run ();
}
