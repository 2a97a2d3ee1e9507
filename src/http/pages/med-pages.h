/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-pages.h — what the page handlers of src/http/pages share with the
 * router (med-http-pages.c): form and lookup helpers, the option lists of
 * the model's labels, and the handlers themselves, one file per page. */
#pragma once

#include "../med-http-private.h"

#include <string.h>

G_BEGIN_DECLS

#define IS(r, m) ((r)->method == SOUP_METHOD_##m)
/* a translation in a page handler; xgettext knows T as a keyword */
#define T(msgid) med_http_t (r, msgid)

/* ---- helpers (med-http-pages.c) ---- */

void med_page_redirect (MedReq *r, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* A non-empty form field or NULL. */
const char *med_page_form_get (GHashTable *form, const char *name);
/* A POST from a page: the form, with the role and CSRF checked; NULL when
 * the request was answered. (transfer full) */
GHashTable *med_page_form (MedReq *r, guint roles);
const char *med_page_zone (MedReq *r);
/* The element of list whose first member (gint64 id) is id. */
gpointer med_page_find_id (GPtrArray *list, gint64 id);
/* Answers an error as a page in the user's language. Takes error. */
void med_page_error (MedReq *r, GError *error);
/* A refusal of a form field: 422, naming the field. */
void med_page_invalid (MedReq *r, const char *what);
/* An options list member named member: every value of the enum prefix
 * (med_<prefix>_to_string / _label) from first to n, sel selected. */
#define MED_PAGE_ENUM_OPTIONS(b, member, prefix, first, n, sel)                \
  do {                                                                         \
    json_builder_set_member_name (b, member);                                  \
    json_builder_begin_array (b);                                              \
    for (guint i_ = (first); i_ < (n); i_++)                                   \
      med_page_option (b, prefix##_to_string (i_), T (prefix##_label (i_)),    \
          (gint) i_ == (gint) (sel));                                          \
    json_builder_end_array (b);                                                \
  } while (0)
void med_page_option (JsonBuilder *b, const char *value, const char *label,
    gboolean selected);

/* An options list member named member of the rooms, mediators or
 * interpreters in list (each starts with its gint64 id; its name at
 * name_offset, G_STRUCT_OFFSET), the one with id selected selected. */
void med_page_id_options (JsonBuilder *b, const char *member, GPtrArray *list,
    gsize name_offset, gint64 selected);
/* The webcal:// address of a feed link's secret (from ?feed= after it was
 * made), or NULL when secret is not one. (transfer full) */
char *med_page_webcal (MedReq *r, const char *secret);

/* Seconds a party may wait before the waiting room and the console say
 * so: 600, or MEDSCHED_WAIT_ALERT_SECONDS (tests). */
guint med_page_wait_alert_seconds (void);

/* What a case needs (length, room kind, minors, interpreter, remote
 * parties, languages) as a member "needs" (med-page-board.c). */
void med_page_add_needs (MedReq *r, JsonBuilder *b, gint64 case_id);
/* Why a cell of the board does not take the case, translated. (transfer
 * full) */
char *med_page_fit_why (MedReq *r, const MedFitCell *c);
/* A party from form fields PREFIX-name, -role, -lang, -att, -contact:
 * NULL (and no error) when PREFIX-name is empty, NULL with error when a
 * value is wrong (med-page-intake.c). (transfer full) */
MedParty *med_page_form_party (GHashTable *form, const char *prefix,
    GError **error);
/* The party form's choices (roles, attendance, languages), the party's
 * values selected (p NULL: a new party). */
void med_page_party_options (MedReq *r, JsonBuilder *b, const MedParty *p);

/* ---- the pages ---- */

void med_page_intake_get (MedReq *r);
void med_page_intake_post (MedReq *r);
void med_page_board (MedReq *r);
void med_page_board_book_get (MedReq *r);
void med_page_board_book_post (MedReq *r);
void med_page_case_view (MedReq *r, MedCase *k);
void med_page_case_action (MedReq *r, MedCase *k, const char *action);
/* send-link and reissue-link of a session's party (form: party). */
void med_page_case_link_action (MedReq *r, MedBooking *bk, const char *action,
    GHashTable *form);
void med_page_move_get (MedReq *r, MedBooking *bk);
void med_page_console (MedReq *r, MedBooking *bk);
void med_page_booking_action (MedReq *r, MedBooking *bk, const char *action);
void med_page_agenda (MedReq *r);
void med_page_agenda_feed (MedReq *r);
void med_page_cases (MedReq *r);
void med_page_case_parties (MedReq *r, MedCase *k, const char *party,
    const char *action);
void med_page_feed_links (MedReq *r);
void med_page_join (MedReq *r);

G_END_DECLS
