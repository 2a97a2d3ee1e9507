/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-login.c — the sign-in page (templates/login.html); the login
 * itself, its CSRF cookie and its limits are med-http-auth.c's. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

void
med_http_page_login (MedReq *r, guint status, const char *pre, const char *next,
    const char *notice)
{
  JsonBuilder *b = med_http_page_begin (r, T ("Mediation centre scheduling"));

  med_json_bool (b, "narrow", TRUE);
  med_json_str (b, "pre", pre);
  med_json_str (b, "next", next);
  med_json_str (b, "notice_error", notice ? T (notice) : NULL);
  med_http_page_send (r, b, "login", status);
}
