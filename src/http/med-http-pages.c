/* med-http-pages.c — the server-rendered web pages: sign-in, the clerk's
 * intake and dispatch page, the day board (rooms × times, holidays and
 * make-up working days marked, a free slot opens a booking form, bookings
 * can be dragged to another slot or moved with a form), the case page
 * (parties, sessions, invite downloads, party links, audit trail), the
 * mediator's agenda, the party page reached from a join link (with the
 * video call: device check, consent, waiting room, call) and the mediator's
 * console of a remote session.
 *
 * Chinese first with English beside it (lang="en"), Tibetan on the party
 * page where the text exists. Every form field has a label, every table
 * header a scope, every state change a CSRF token; the pages work without
 * JavaScript (drag and drop is an extra, moving by form is always there).
 * The Content-Security-Policy allows only our own scripts and styles, so
 * nothing here is inline. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

#include <medsched/med-workcal.h>

#include <string.h>

#define IS(r, m) ((r)->method == SOUP_METHOD_##m)

/* ---- HTML helpers ---- */

static void
esc (GString *out, const char *s)
{
  g_autofree char *e = med_http_html_escape (s);

  g_string_append (out, e);
}

/* printf with every %s argument already escaped by the caller */
#define P(...) g_string_append_printf (out, __VA_ARGS__)

static void
page_open (MedReq *r, GString *out, const char *title_zh, const char *title_en)
{
  P ("<!DOCTYPE html>\n<html lang=\"zh-Hans\">\n<head>\n<meta "
     "charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, "
     "initial-scale=1\">\n<title>");
  esc (out, title_zh);
  P (" %s — medsched</title>\n", title_en);
  P ("<link rel=\"stylesheet\" href=\"/static/medsched.css\">\n"
     "<link rel=\"icon\" href=\"/static/favicon.svg\">\n");
  if (r->csrf != NULL) {
    P ("<meta name=\"csrf-token\" content=\"");
    esc (out, r->csrf);
    P ("\">\n");
  }
  P ("<script src=\"/static/medsched.js\" defer></script>\n</head>\n<body>\n"
     "<a class=\"skip\" href=\"#main\">跳到正文 <span lang=\"en\">Skip to "
     "content</span></a>\n");
  if (r->user != NULL) {
    P ("<header class=\"top\"><nav aria-label=\"主菜单 Main\"><ul>");
    if (r->user->role != MED_ROLE_MEDIATOR) {
      P ("<li><a href=\"/board\">排期看板 <span lang=\"en\">Day "
         "board</span></a></li>"
         "<li><a href=\"/intake\">收案派单 <span lang=\"en\">Intake</span>"
         "</a></li>");
    }
    P ("<li><a href=\"/agenda\">日程 <span lang=\"en\">Agenda</span></a></li>"
       "</ul></nav><form class=\"logout\" method=\"post\" "
       "action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"");
    esc (out, r->csrf ? r->csrf : "");
    P ("\"><span class=\"who\">");
    esc (out, r->user->name);
    P (" (%s)</span> <button type=\"submit\">退出 <span "
       "lang=\"en\">Sign out</span></button></form></header>\n",
        med_role_to_string (r->user->role));
  }
  P ("<main id=\"main\">\n<h1>");
  esc (out, title_zh);
  P (" <span lang=\"en\">%s</span></h1>\n", title_en);
}

static void
page_close (MedReq *r, GString *out, guint status)
{
  P ("</main>\n</body>\n</html>\n");
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  med_http_reply_text (r, status, "text/html; charset=utf-8", out->str,
      out->len);
}

static void
csrf_field (MedReq *r, GString *out)
{
  P ("<input type=\"hidden\" name=\"csrf\" value=\"");
  esc (out, r->csrf ? r->csrf : "");
  P ("\">");
}

static const char *
notice_text (const char *code)
{
  static const struct
  {
    const char *code, *text;
  } notices[] = {
    { "booked", "已预约。Session booked." },
    { "moved", "已改期。Session moved." },
    { "cancelled", "已取消。Session cancelled." },
    { "taken", "已收案。Case taken at intake." },
    { "dispatched", "已派单。Case dispatched." },
    { "status", "状态已更新。Status changed." },
    { "revoked", "链接已撤销。Link revoked." },
    { "feed", "订阅链接已生成（只显示一次）。Feed link made (shown once)." },
  };

  for (guint i = 0; code && i < G_N_ELEMENTS (notices); i++) {
    if (strcmp (code, notices[i].code) == 0)
      return notices[i].text;
  }
  return NULL;
}

static void
notice (MedReq *r, GString *out)
{
  const char *t
      = notice_text (r->query ? g_hash_table_lookup (r->query, "msg") : NULL);

  if (t != NULL) {
    P ("<p class=\"notice\" role=\"status\">");
    esc (out, t);
    P ("</p>\n");
  }
}

static void redirect (MedReq *r, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
redirect (MedReq *r, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *loc = NULL;

  va_start (ap, fmt);
  loc = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  med_http_redirect (r, 303, loc);
}

static const char *
form_get (GHashTable *form, const char *name)
{
  const char *v = form ? g_hash_table_lookup (form, name) : NULL;

  return v && *v ? v : NULL;
}

/* A POST from a page: the form, with the role and CSRF checked. */
static GHashTable *
page_form (MedReq *r, guint roles)
{
  g_autoptr (GHashTable) form = NULL;

  if (!med_http_require (r, roles))
    return NULL;
  if ((form = med_http_request_form (r)) == NULL)
    return NULL;
  if (!med_http_check_csrf (r, form))
    return NULL;
  return g_steal_pointer (&form);
}

static const char *
zone_of (MedReq *r)
{
  MedCentre *c = med_http_centre (r->srv, NULL);

  return c ? c->zone : "Asia/Shanghai";
}

static gpointer
find_id (GPtrArray *list, gint64 id)
{
  for (guint i = 0; list && i < list->len; i++) {
    gpointer x = g_ptr_array_index (list, i);

    if (*(gint64 *) x == id)
      return x;
  }
  return NULL;
}

static const char *const kind_labels[][2] = {
  { "wages", "欠薪" },
  { "neighbour", "邻里纠纷" },
  { "contract", "合同纠纷" },
  { "land", "土地纠纷" },
  { "traffic", "交通事故" },
  { "consumer", "消费纠纷" },
  { "divorce", "离婚" },
  { "custody", "抚养" },
  { "support", "赡养/抚养费" },
  { "inheritance", "继承" },
  { "other", "其他" },
};

static const char *const status_labels[][2] = {
  { "intake", "已收案" },
  { "dispatched", "已派单" },
  { "scheduled", "已排期" },
  { "in-session", "调解中" },
  { "settled", "调解成功" },
  { "not-settled", "调解不成" },
  { "referred", "已转办" },
  { "withdrawn", "已撤回" },
};

static const char *const dept_labels[][2] = {
  { "court-mediation", "法院调解" },
  { "labour-inspection", "劳动监察" },
  { "legal-aid", "法律援助" },
  { "police", "派出所" },
  { "civil-affairs", "民政" },
};

static const char *
zh_of (const char *const table[][2], guint n, const char *word)
{
  for (guint i = 0; i < n; i++) {
    if (strcmp (table[i][0], word) == 0)
      return table[i][1];
  }
  return word;
}

#define ZH(table, word) zh_of (table, G_N_ELEMENTS (table), word)

static void
options (GString *out, const char *const table[][2], guint n,
    const char *selected)
{
  for (guint i = 0; i < n; i++) {
    P ("<option value=\"%s\"%s>%s %s</option>", table[i][0],
        selected && strcmp (selected, table[i][0]) == 0 ? " selected" : "",
        table[i][1], table[i][0]);
  }
}

static void
reply_error_page (MedReq *r, GError *error)
{
  /* pages show errors as pages; the mapping is the API's */
  r->api = FALSE;
  med_http_reply_gerror (r, error);
}

/* ---- home ---- */

static void
page_home (MedReq *r)
{
  if (r->user == NULL)
    redirect (r, "/login");
  else if (r->user->role == MED_ROLE_MEDIATOR)
    redirect (r, "/agenda");
  else
    redirect (r, "/board");
}

/* ---- intake and dispatch ---- */

static void
page_intake_get (MedReq *r)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL;
  const char *zone = zone_of (r);

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if ((cases = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id, -1,
           &error))
      == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  page_open (r, out, "收案派单", "Intake and dispatch");
  notice (r, out);
  P ("<section aria-labelledby=\"new-case\"><h2 id=\"new-case\">收案 "
     "<span lang=\"en\">New case</span></h2>\n"
     "<form method=\"post\" action=\"/intake\" class=\"grid\">");
  csrf_field (r, out);
  P ("<p><label for=\"number\">案号 <span lang=\"en\">Case number</span>"
     "</label><input id=\"number\" name=\"number\" required "
     "maxlength=\"256\"></p>\n"
     "<p><label for=\"kind\">案由 <span lang=\"en\">Kind</span></label>"
     "<select id=\"kind\" name=\"kind\">");
  options (out, kind_labels, G_N_ELEMENTS (kind_labels), NULL);
  P ("</select></p>\n"
     "<p><label for=\"duration\">时长（分钟） <span lang=\"en\">Minutes</span>"
     "</label><input id=\"duration\" name=\"duration\" type=\"number\" "
     "min=\"15\" max=\"480\" step=\"15\" value=\"60\"></p>\n"
     "<p><label for=\"department\">派单 <span lang=\"en\">Dispatch "
     "to</span></label><select id=\"department\" name=\"department\">"
     "<option value=\"\">暂不派单 Not yet</option>");
  options (out, dept_labels, G_N_ELEMENTS (dept_labels), "court-mediation");
  P ("</select></p>\n"
     "<p class=\"checks\"><input type=\"checkbox\" id=\"minors\" "
     "name=\"minors\" value=\"1\"><label for=\"minors\">涉及未成年人 <span "
     "lang=\"en\">Minors involved</span></label>\n"
     "<input type=\"checkbox\" id=\"urgent\" name=\"urgent\" value=\"1\">"
     "<label for=\"urgent\">紧急 <span lang=\"en\">Urgent</span></label></p>\n"
     "<p class=\"wide\"><label for=\"summary\">简要案情 <span "
     "lang=\"en\">Summary</span></label><textarea id=\"summary\" "
     "name=\"summary\" rows=\"2\" maxlength=\"4096\"></textarea></p>\n");
  for (guint i = 1; i <= 3; i++) {
    P ("<fieldset class=\"wide\"><legend>当事人 %u <span lang=\"en\">Party "
       "%u</span>%s</legend>\n",
        i, i, i == 1 ? "" : " （可选 optional）");
    P ("<label for=\"p%u-name\">姓名 <span lang=\"en\">Name</span></label>"
       "<input id=\"p%u-name\" name=\"p%u-name\" maxlength=\"256\"%s>\n",
        i, i, i, i == 1 ? " required" : "");
    P ("<label for=\"p%u-role\">身份 <span lang=\"en\">Role</span></label>"
       "<select id=\"p%u-role\" name=\"p%u-role\">"
       "<option value=\"applicant\"%s>申请人 applicant</option>"
       "<option value=\"respondent\"%s>被申请人 respondent</option>"
       "<option value=\"third-party\">第三人 third party</option>"
       "<option value=\"agent\">代理人 agent</option></select>\n",
        i, i, i, i == 1 ? " selected" : "", i == 2 ? " selected" : "");
    P ("<label for=\"p%u-lang\">语言 <span lang=\"en\">Language</span>"
       "</label><select id=\"p%u-lang\" name=\"p%u-lang\">"
       "<option value=\"zh\">中文 zh</option><option value=\"bo\">藏文 "
       "བོད་ཡིག bo</option><option value=\"en\">English en</option>"
       "</select>\n",
        i, i, i);
    P ("<label for=\"p%u-att\">出席 <span lang=\"en\">Attends</span></label>"
       "<select id=\"p%u-att\" name=\"p%u-att\"><option "
       "value=\"in-person\">到场 in person</option><option "
       "value=\"remote\">远程 remote</option></select>\n",
        i, i, i);
    P ("<label for=\"p%u-contact\">联系方式 <span lang=\"en\">Phone or "
       "e-mail</span></label><input id=\"p%u-contact\" name=\"p%u-contact\" "
       "maxlength=\"256\" autocomplete=\"off\"></fieldset>\n",
        i, i, i);
  }
  P ("<p class=\"wide\"><button type=\"submit\">收案 <span lang=\"en\">Take "
     "the case</span></button></p></form></section>\n");

  P ("<section aria-labelledby=\"queue\"><h2 id=\"queue\">待派单与待排期 "
     "<span lang=\"en\">To dispatch and to schedule</span></h2>\n"
     "<table><caption class=\"sr\">Cases</caption><thead><tr>"
     "<th scope=\"col\">案号 Number</th><th scope=\"col\">案由 Kind</th>"
     "<th scope=\"col\">状态 Status</th><th scope=\"col\">收案 Intake</th>"
     "<th scope=\"col\">操作 Action</th></tr></thead><tbody>\n");
  for (guint i = 0; i < cases->len; i++) {
    MedCase *k = g_ptr_array_index (cases, i);
    const char *kind = med_case_kind_to_string (k->kind);
    const char *st = med_case_status_to_string (k->status);
    g_autofree char *intake
        = med_time_format_local (k->intake_at, zone, "%m-%d %H:%M");

    if (k->status != MED_CASE_STATUS_INTAKE
        && k->status != MED_CASE_STATUS_DISPATCHED)
      continue;
    P ("<tr><th scope=\"row\"><a href=\"/cases/%" G_GINT64_FORMAT "\">", k->id);
    esc (out, k->number);
    P ("</a>%s</th><td>%s <span lang=\"en\">%s</span></td><td>%s <span "
       "lang=\"en\">%s</span></td><td>%s</td><td>",
        k->urgent ? " <strong>急</strong>" : "", ZH (kind_labels, kind), kind,
        ZH (status_labels, st), st, intake);
    if (k->status == MED_CASE_STATUS_INTAKE) {
      P ("<form method=\"post\" action=\"/cases/%" G_GINT64_FORMAT
         "/dispatch\" class=\"inline\">",
          k->id);
      csrf_field (r, out);
      P ("<label class=\"sr\" for=\"d%" G_GINT64_FORMAT "\">派单 Dispatch to"
         "</label><select id=\"d%" G_GINT64_FORMAT "\" name=\"department\">",
          k->id, k->id);
      options (out, dept_labels, G_N_ELEMENTS (dept_labels), NULL);
      P ("</select> <button type=\"submit\">派单 <span "
         "lang=\"en\">Dispatch</span></button></form>");
    } else if (k->department == MED_DEPARTMENT_COURT_MEDIATION) {
      P ("<form method=\"post\" action=\"/cases/%" G_GINT64_FORMAT
         "/book\" class=\"inline\">",
          k->id);
      csrf_field (r, out);
      P ("<button type=\"submit\">最早时段预约 <span lang=\"en\">Book "
         "earliest</span></button></form>");
    } else {
      P ("%s", ZH (dept_labels, med_department_to_string (k->department)));
    }
    P ("</td></tr>\n");
  }
  P ("</tbody></table></section>\n");
  page_close (r, out, 200);
}

static gboolean
form_party (GHashTable *form, guint i, GPtrArray *parties, GError **error)
{
  char key[32];
  g_autoptr (MedParty) p = med_party_new ();
  const char *name, *role, *lang, *att, *contact;

  g_snprintf (key, sizeof key, "p%u-name", i);
  name = form_get (form, key);
  if (name == NULL)
    return TRUE;
  g_snprintf (key, sizeof key, "p%u-role", i);
  role = form_get (form, key);
  g_snprintf (key, sizeof key, "p%u-lang", i);
  lang = form_get (form, key);
  g_snprintf (key, sizeof key, "p%u-att", i);
  att = form_get (form, key);
  g_snprintf (key, sizeof key, "p%u-contact", i);
  contact = form_get (form, key);
  if (!med_validate_text (name, MED_MAX_NAME_BYTES, FALSE, FALSE, "party name",
          error)
      || !med_party_role_from_string (role ? role : "", &p->role, error)
      || !med_validate_language (lang ? lang : "", error)
      || !med_attendance_from_string (att ? att : "in-person", &p->attendance,
          error)
      || (contact
          && !med_validate_text (contact, MED_MAX_NAME_BYTES, FALSE, TRUE,
              "contact", error)))
    return FALSE;
  p->name = g_strdup (name);
  p->language = g_strdup (lang);
  p->contact = g_strdup (contact);
  g_ptr_array_add (parties, g_steal_pointer (&p));
  return TRUE;
}

static void
page_intake_post (MedReq *r)
{
  g_autoptr (GHashTable) form = page_form (r, MED_ROLES_OFFICE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) k = med_case_new ();
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  const char *number, *kind, *summary, *duration, *dept;
  guint64 minutes = 0;
  MedDepartment d = MED_DEPARTMENT_NONE;
  gint64 id;

  if (form == NULL)
    return;
  number = form_get (form, "number");
  kind = form_get (form, "kind");
  summary = form_get (form, "summary");
  duration = form_get (form, "duration");
  dept = form_get (form, "department");
  if (!med_validate_text (number, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "case number", &error)
      || !med_case_kind_from_string (kind ? kind : "", &k->kind, &error)
      || (summary
          && !med_validate_text (summary, MED_MAX_TEXT_BYTES, TRUE, TRUE,
              "summary", &error))
      || (dept && !med_department_from_string (dept, &d, &error))) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  if (duration != NULL
      && !g_ascii_string_to_unsigned (duration, 10, 15, 480, &minutes, NULL)) {
    r->api = FALSE;
    med_http_reply_error (r, 422, "invalid",
        "时长应为 15–480 分钟。Minutes: 15–480.");
    return;
  }
  for (guint i = 1; i <= 3; i++) {
    if (!form_party (form, i, parties, &error)) {
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
  }
  if (parties->len == 0) {
    med_http_reply_error (r, 422, "invalid",
        "至少需要一名当事人。At least one party.");
    return;
  }
  k->number = g_strdup (number);
  k->centre_id = r->srv->cfg.centre_id;
  k->status = MED_CASE_STATUS_INTAKE;
  k->intake_at = r->now;
  k->minors = form_get (form, "minors") != NULL;
  k->urgent = form_get (form, "urgent") != NULL;
  k->duration_minutes = minutes == 60 ? 0 : (gint) minutes;
  k->summary = g_strdup (summary);
  if ((id = med_store_add_case (r->srv->store, k, parties, r->actor, &error))
          == 0
      || (d != MED_DEPARTMENT_NONE
          && !med_store_set_case_status (r->srv->store, id,
              MED_CASE_STATUS_DISPATCHED, d, r->actor, &error))) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=taken", id);
}

/* ---- the day board ---- */

static void
board_day_banner (MedReq *r, GString *out, MedCentre *c, gint y, gint m, gint d)
{
  g_autoptr (MedWorkcal) wc = NULL;
  g_autoptr (GError) error = NULL;
  MedDayInfo info;

  if ((wc = med_store_load_workcal (r->srv->store, &error)) == NULL)
    return;
  if (!med_workcal_day_info (wc, c->layers, y, m, d, &info, &error)) {
    P ("<p class=\"daytag unpublished\" role=\"note\">日历未发布 <span "
       "lang=\"en\">Calendar not published</span>: ");
    esc (out, error->message);
    P ("</p>\n");
  } else if (info.holiday) {
    P ("<p class=\"daytag holiday\" role=\"note\">放假 <span "
       "lang=\"en\">Holiday</span>: ");
    esc (out, info.name ? info.name : "");
    P ("</p>\n");
  } else if (info.makeup) {
    P ("<p class=\"daytag makeup\" role=\"note\">调休上班 <span "
       "lang=\"en\">Make-up working day</span>: ");
    esc (out, info.name ? info.name : "");
    P ("</p>\n");
  } else if (!info.working) {
    P ("<p class=\"daytag weekend\" role=\"note\">周末 <span "
       "lang=\"en\">Weekend</span></p>\n");
  }
}

static void
page_board (MedReq *r)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL, bookings = NULL, cases = NULL;
  g_autoptr (GPtrArray) meds = NULL;
  g_autoptr (MedWorkcal) wc = NULL;
  g_autofree char *today = NULL, *prev = NULL, *next = NULL;
  const char *date = r->query ? g_hash_table_lookup (r->query, "date") : NULL;
  MedCentre *c = med_http_centre (r->srv, &error);
  MedInterval win[2];
  guint n_win = 0;
  gint y, m, d, step;
  MedTime day0, open_t, close_t;
  GDate g;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if (c == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  today = med_time_format_local (r->now, c->zone, "%Y-%m-%d");
  if (date == NULL || !med_http_parse_date (date, &y, &m, &d)) {
    date = today;
    med_http_parse_date (date, &y, &m, &d);
  }
  g_date_clear (&g, 1);
  g_date_set_dmy (&g, d, m, y);
  g_date_subtract_days (&g, 1);
  prev = g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (&g),
      g_date_get_month (&g), g_date_get_day (&g));
  g_date_add_days (&g, 2);
  next = g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (&g),
      g_date_get_month (&g), g_date_get_day (&g));
  if (!med_workcal_local_to_utc (c->zone, y, m, d, 0, &day0, &error)
      || (rooms = med_store_list_rooms (r->srv->store, c->id, &error)) == NULL
      || (meds = med_store_list_mediators (r->srv->store, c->id, &error))
          == NULL
      || (cases = med_store_list_cases (r->srv->store, c->id, -1, &error))
          == NULL
      || (bookings = med_store_list_bookings (r->srv->store, c->id, day0,
              day0 + 86400, FALSE, &error))
          == NULL
      || (wc = med_store_load_workcal (r->srv->store, &error)) == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  /* the day's working windows; a closed day still shows the usual hours */
  if (!med_workcal_day_windows (wc, c, y, m, d, win, &n_win, NULL))
    n_win = 0;
  step = c->slot_minutes > 0 ? c->slot_minutes : 15;
  if (step < 15)
    step = 15;
  {
    const MedDayHours *h = &c->hours[0];

    open_t = day0
        + (MedTime) (n_win ? (win[0].start - day0) / 60 : h->open_min) * 60;
    close_t = n_win ? win[n_win - 1].end : day0 + (MedTime) h->close_min * 60;
    if (close_t <= open_t)
      close_t = open_t + 9 * 3600;
  }

  page_open (r, out, "排期看板", "Day board");
  notice (r, out);
  P ("<nav class=\"daynav\" aria-label=\"日期 Date\"><a href=\"/board?date=%s\" "
     "rel=\"prev\">← %s</a> <form method=\"get\" action=\"/board\" "
     "class=\"inline\"><label for=\"date\">日期 <span "
     "lang=\"en\">Date</span></label> <input type=\"date\" id=\"date\" "
     "name=\"date\" value=\"%04d-%02d-%02d\"> <button "
     "type=\"submit\">查看 <span lang=\"en\">Show</span></button></form> "
     "<a href=\"/board?date=%s\" rel=\"next\">%s →</a></nav>\n",
      prev, prev, y, m, d, next, next);
  board_day_banner (r, out, c, y, m, d);
  P ("<p class=\"hint\">点击空闲时段预约；拖动已排会议到空闲时段可改期（也可用“改期”表单）。"
     "<span lang=\"en\">Choose a free slot to book; drag a session to a "
     "free slot to move it (or use its Move form).</span></p>\n");
  P ("<div class=\"boardwrap\" tabindex=\"0\" role=\"region\" "
     "aria-label=\"看板 Board\"><table class=\"board\" id=\"board\" "
     "data-date=\"%04d-%02d-%02d\"><caption class=\"sr\">%04d-%02d-%02d "
     "rooms by time</caption><thead><tr><th scope=\"col\">调解室 "
     "<span lang=\"en\">Room</span></th>",
      y, m, d, y, m, d);
  for (MedTime t = open_t; t < close_t; t += step * 60) {
    g_autofree char *hm = med_time_format_local (t, c->zone, "%H:%M");

    if ((t - open_t) % 3600 == 0)
      P ("<th scope=\"col\" class=\"hour\">%s</th>", hm);
    else
      P ("<th scope=\"col\" class=\"quarter\"><span class=\"sr\">%s</span>"
         "</th>",
          hm);
  }
  P ("</tr></thead><tbody>\n");
  for (guint i = 0; i < rooms->len; i++) {
    MedRoom *room = g_ptr_array_index (rooms, i);

    P ("<tr><th scope=\"row\">");
    esc (out, room->name);
    P ("<br><small>%s %s</small></th>", med_room_kind_label_zh (room->kind),
        med_room_kind_to_string (room->kind));
    for (MedTime t = open_t; t < close_t;) {
      MedBooking *here = NULL;
      gboolean open = FALSE;

      for (guint b = 0; b < bookings->len; b++) {
        MedBooking *bk = g_ptr_array_index (bookings, b);

        if (bk->room_id == room->id && bk->start <= t && bk->end > t) {
          here = bk;
          break;
        }
      }
      for (guint w = 0; w < n_win; w++)
        open |= t >= win[w].start && t + step * 60 <= win[w].end;
      if (here != NULL) {
        MedCase *k = find_id (cases, here->case_id);
        MedMediator *md = find_id (meds, here->mediator_id);
        MedTime end = MIN (here->end, close_t);
        guint span = MAX (1, (guint) ((end - t + step * 60 - 1) / (step * 60)));
        g_autofree char *s
            = med_time_format_local (here->start, c->zone, "%H:%M");
        g_autofree char *e
            = med_time_format_local (here->end, c->zone, "%H:%M");

        P ("<td colspan=\"%u\" class=\"booked\" draggable=\"true\" "
           "data-booking=\"%" G_GINT64_FORMAT
           "\"><a href=\"/cases/%" G_GINT64_FORMAT "\">",
            span, here->id, here->case_id);
        esc (out, k ? k->number : "?");
        P ("</a> <span class=\"time\">%s–%s</span><br><span class=\"med\">", s,
            e);
        esc (out, md ? md->name : "");
        P ("</span> <a class=\"move\" href=\"/bookings/%" G_GINT64_FORMAT
           "/move\">改期<span class=\"sr\"> Move ",
            here->id);
        esc (out, k ? k->number : "");
        P ("</span></a></td>");
        t += (MedTime) span * step * 60;
      } else if (open && t >= r->now) {
        g_autofree char *iso
            = med_time_format_local (t, c->zone, "%Y-%m-%dT%H:%M");
        g_autofree char *hm = med_time_format_local (t, c->zone, "%H:%M");

        P ("<td class=\"free\" data-room=\"%" G_GINT64_FORMAT
           "\" data-start=\"%s\"><a href=\"/board/book?room=%" G_GINT64_FORMAT
           "&amp;start=%s\" aria-label=\"",
            room->id, iso, room->id, iso);
        esc (out, room->name);
        P (" %s 空闲，预约 free, book\">+</a></td>", hm);
        t += step * 60;
      } else {
        P ("<td class=\"%s\"></td>", open ? "past" : "closed");
        t += step * 60;
      }
    }
    P ("</tr>\n");
  }
  P ("</tbody></table></div>\n<p id=\"board-status\" role=\"status\" "
     "aria-live=\"polite\"></p>\n<script src=\"/static/board.js\" "
     "defer></script>\n");
  page_close (r, out, 200);
}

static void
page_board_book_get (MedReq *r)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL, meds = NULL, interps = NULL;
  const char *room_s = r->query ? g_hash_table_lookup (r->query, "room") : NULL;
  const char *start = r->query ? g_hash_table_lookup (r->query, "start") : NULL;
  const char *case_s = r->query ? g_hash_table_lookup (r->query, "case") : NULL;
  gint64 room_id = 0, pre_case = 0;
  MedTime t;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if (!med_http_parse_id (room_s, &room_id) || start == NULL
      || !med_time_parse_local (start, zone_of (r), &t, NULL)) {
    med_http_reply_error (r, 400, "bad_request", "room and start are needed");
    return;
  }
  if (case_s)
    med_http_parse_id (case_s, &pre_case);
  if ((cases = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id, -1,
           &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (interps = med_store_list_interpreters (r->srv->store,
              r->srv->cfg.centre_id, &error))
          == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  page_open (r, out, "预约时段", "Book a slot");
  P ("<form method=\"post\" action=\"/board/book\" class=\"grid\">");
  csrf_field (r, out);
  P ("<input type=\"hidden\" name=\"room\" value=\"%" G_GINT64_FORMAT "\">",
      room_id);
  P ("<p><label for=\"start\">开始 <span lang=\"en\">Start</span></label>"
     "<input id=\"start\" name=\"start\" type=\"datetime-local\" value=\"");
  esc (out, start);
  P ("\" required></p>\n<p><label for=\"case\">案件 <span "
     "lang=\"en\">Case</span></label><select id=\"case\" name=\"case\" "
     "required>");
  for (guint i = 0; i < cases->len; i++) {
    MedCase *k = g_ptr_array_index (cases, i);

    if (k->department != MED_DEPARTMENT_COURT_MEDIATION
        || (k->status != MED_CASE_STATUS_DISPATCHED
            && k->status != MED_CASE_STATUS_NOT_SETTLED))
      continue;
    P ("<option value=\"%" G_GINT64_FORMAT "\"%s>", k->id,
        k->id == pre_case ? " selected" : "");
    esc (out, k->number);
    P (" — %s</option>", ZH (kind_labels, med_case_kind_to_string (k->kind)));
  }
  P ("</select></p>\n<p><label for=\"mediator\">调解员 <span "
     "lang=\"en\">Mediator</span></label><select id=\"mediator\" "
     "name=\"mediator\" required>");
  for (guint i = 0; i < meds->len; i++) {
    MedMediator *md = g_ptr_array_index (meds, i);
    g_autofree char *langs = g_strjoinv (",", md->languages);

    P ("<option value=\"%" G_GINT64_FORMAT "\">", md->id);
    esc (out, md->name);
    P (" (%s)</option>", langs);
  }
  P ("</select></p>\n<p><label for=\"interpreter\">翻译 <span "
     "lang=\"en\">Interpreter</span></label><select id=\"interpreter\" "
     "name=\"interpreter\"><option value=\"\">不需要 None</option>");
  for (guint i = 0; i < interps->len; i++) {
    MedInterpreter *in = g_ptr_array_index (interps, i);

    P ("<option value=\"%" G_GINT64_FORMAT "\">", in->id);
    esc (out, in->name);
    P ("</option>");
  }
  P ("</select></p>\n<p class=\"wide\"><button type=\"submit\">预约 <span "
     "lang=\"en\">Book</span></button> <a href=\"/board\">返回 <span "
     "lang=\"en\">Back</span></a></p></form>\n");
  page_close (r, out, 200);
}

static void
page_board_book_post (MedReq *r)
{
  g_autoptr (GHashTable) form = page_form (r, MED_ROLES_OFFICE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedSlot) slot = NULL;
  MedServiceCtx ctx;
  MedSlot manual = { 0 };
  gint64 case_id = 0;
  const char *interp;

  if (form == NULL)
    return;
  interp = form_get (form, "interpreter");
  if (!med_http_parse_id (form_get (form, "case"), &case_id)
      || !med_http_parse_id (form_get (form, "room"), &manual.room_id)
      || !med_http_parse_id (form_get (form, "mediator"), &manual.mediator_id)
      || (interp && !med_http_parse_id (interp, &manual.interpreter_id))
      || form_get (form, "start") == NULL
      || !med_time_parse_local (form_get (form, "start"), zone_of (r),
          &manual.start, NULL)) {
    r->api = FALSE;
    med_http_reply_error (r, 422, "invalid",
        "请选择案件、调解员和时间。Choose a case, a mediator and a time.");
    return;
  }
  ctx = med_http_service_ctx (r);
  if (med_service_book (r->srv->store, &ctx, case_id, &manual, 0, &slot, &error)
      == 0) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=booked", case_id);
}

/* ---- case actions from pages ---- */

static MedCase *
page_case (MedReq *r, const char *id_text)
{
  g_autoptr (GError) error = NULL;
  MedCase *k;
  gint64 id;

  if (!med_http_parse_id (id_text, &id)) {
    med_http_reply_error (r, 404, "not_found", "no such case");
    return NULL;
  }
  if ((k = med_store_get_case (r->srv->store, id, &error)) == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return NULL;
  }
  if (!med_http_may_see_case (r, id)) {
    med_case_free (k);
    return NULL;
  }
  return k;
}

static void
page_case_view (MedReq *r, MedCase *k)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parties = NULL, bookings = NULL, audit = NULL;
  g_autoptr (GPtrArray) rooms = NULL, meds = NULL;
  const char *zone = zone_of (r);
  const char *kind = med_case_kind_to_string (k->kind);
  const char *st = med_case_status_to_string (k->status);
  const char *feed = r->query ? g_hash_table_lookup (r->query, "feed") : NULL;
  gboolean office = r->user->role != MED_ROLE_MEDIATOR;
  g_autofree char *title = NULL, *intake = NULL;

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
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  title = g_strdup_printf ("案件 %s", k->number);
  page_open (r, out, title, "Case");
  notice (r, out);
  intake = med_time_format_local (k->intake_at, zone, "%Y-%m-%d %H:%M");
  P ("<dl class=\"facts\"><dt>案由 <span lang=\"en\">Kind</span></dt><dd>%s "
     "%s%s%s</dd><dt>状态 <span lang=\"en\">Status</span></dt><dd "
     "id=\"case-status\">%s %s</dd><dt>派单 <span "
     "lang=\"en\">Department</span></dt><dd>%s</dd><dt>收案 <span "
     "lang=\"en\">Intake</span></dt><dd>%s</dd>",
      ZH (kind_labels, kind), kind, k->minors ? "，涉及未成年人 minors" : "",
      k->urgent ? "，紧急 urgent" : "", ZH (status_labels, st), st,
      ZH (dept_labels, med_department_to_string (k->department)), intake);
  if (k->summary && *k->summary) {
    P ("<dt>案情 <span lang=\"en\">Summary</span></dt><dd>");
    esc (out, k->summary);
    P ("</dd>");
  }
  P ("</dl>\n");

  if (feed != NULL && strlen (feed) < 128) {
    g_autofree char *base
        = med_store_get_public_url (r->srv->store, k->centre_id, NULL);
    const char *host = base && g_str_has_prefix (base, "https://") ? base + 8
        : base && g_str_has_prefix (base, "http://")               ? base + 7
                                                                   : base;

    P ("<p class=\"notice\" role=\"status\">案件日历订阅 <span "
       "lang=\"en\">Case calendar feed</span>: <a href=\"webcal://");
    esc (out, host ? host : "");
    P ("/feeds/");
    esc (out, feed);
    P (".ics\">webcal://");
    esc (out, host ? host : "");
    P ("/feeds/");
    esc (out, feed);
    P (".ics</a></p>\n");
  }

  P ("<h2>当事人 <span lang=\"en\">Parties</span></h2>\n<table><thead><tr>"
     "<th scope=\"col\">姓名 Name</th><th scope=\"col\">身份 Role</th>"
     "<th scope=\"col\">语言 Language</th><th scope=\"col\">出席 "
     "Attends</th><th scope=\"col\">联系方式 Contact</th></tr></thead>"
     "<tbody>\n");
  for (guint i = 0; i < parties->len; i++) {
    MedParty *p = g_ptr_array_index (parties, i);

    P ("<tr><th scope=\"row\">");
    esc (out, p->name);
    P ("</th><td>%s</td><td>", med_party_role_to_string (p->role));
    esc (out, p->language);
    P ("</td><td>%s</td><td>", med_attendance_to_string (p->attendance));
    esc (out, p->contact ? p->contact : "");
    P ("</td></tr>\n");
  }
  P ("</tbody></table>\n");

  P ("<h2>调解会议 <span lang=\"en\">Sessions</span></h2>\n");
  if (bookings->len == 0)
    P ("<p>尚未预约。<span lang=\"en\">No session yet.</span></p>\n");
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);
    MedRoom *room = find_id (rooms, bk->room_id);
    MedMediator *md = find_id (meds, bk->mediator_id);
    g_autofree char *s
        = med_time_format_local (bk->start, zone, "%Y-%m-%d %H:%M");
    g_autofree char *e = med_time_format_local (bk->end, zone, "%H:%M");
    gboolean live = bk->status == MED_BOOKING_STATUS_CONFIRMED;
    /* links, console, move and cancel: for those the session is open to */
    gboolean mine = med_service_may_access_booking (r->user, bk, NULL);

    P ("<section class=\"session\" aria-label=\"会议 Session %" G_GINT64_FORMAT
       "\"><h3>%s–%s ",
        bk->id, s, e);
    esc (out, room ? room->name : "?");
    P ("%s</h3><p>调解员 <span lang=\"en\">Mediator</span>: ",
        live ? "" : " — 已取消 cancelled");
    esc (out, md ? md->name : "?");
    P (" · %s · 序号 SEQUENCE %d · <a href=\"/api/v1/bookings/%" G_GINT64_FORMAT
       "/invite.ics\" download>邀请 <span lang=\"en\">Invite</span> "
       ".ics</a></p>\n",
        med_booking_mode_to_string (bk->mode), bk->sequence, bk->id);
    if (live && mine) {
      P ("<h4>当事人链接 <span lang=\"en\">Party links</span></h4><ul "
         "class=\"links\">");
      for (guint j = 0; j < parties->len; j++) {
        MedParty *p = g_ptr_array_index (parties, j);
        g_autofree char *tok
            = med_store_join_token (r->srv->store, bk->id, p->id, NULL);
        gboolean revoked
            = med_store_join_revoked (r->srv->store, bk->id, p->id);

        P ("<li>");
        esc (out, p->name);
        if (tok == NULL || revoked) {
          P (" — 已撤销 <span lang=\"en\">revoked</span>");
        } else {
          P (": <a class=\"partylink\" href=\"/join/%s\">/join/%s</a> ", tok,
              tok);
          P ("<form method=\"post\" action=\"/bookings/%" G_GINT64_FORMAT
             "/revoke-link\" class=\"inline\">",
              bk->id);
          csrf_field (r, out);
          P ("<input type=\"hidden\" name=\"party\" value=\"%" G_GINT64_FORMAT
             "\"><button type=\"submit\">撤销 <span lang=\"en\">Revoke"
             "</span><span class=\"sr\"> ",
              p->id);
          esc (out, p->name);
          P ("</span></button></form>");
        }
        P ("</li>");
      }
      P ("</ul>\n");
      if ((room && room->kind == MED_ROOM_KIND_REMOTE)
          || bk->mode != MED_BOOKING_MODE_IN_PERSON)
        P ("<p><a class=\"console\" href=\"/bookings/%" G_GINT64_FORMAT
           "/console\">视频调解控制台 <span lang=\"en\">Video session "
           "console</span></a></p>\n",
            bk->id);
      P ("<p><a href=\"/bookings/%" G_GINT64_FORMAT "/move\">改期 "
         "<span lang=\"en\">Move</span></a></p>"
         "<form method=\"post\" action=\"/bookings/%" G_GINT64_FORMAT
         "/cancel\" class=\"inline\">",
          bk->id, bk->id);
      csrf_field (r, out);
      P ("<button type=\"submit\" class=\"danger\">取消会议 <span "
         "lang=\"en\">Cancel session</span></button></form>\n");
    }
    med_http_media_case_links (r, out, bk);
    P ("</section>\n");
  }

  P ("<h2>操作 <span lang=\"en\">Actions</span></h2>\n");
  if (office
      && (k->status == MED_CASE_STATUS_DISPATCHED
          || k->status == MED_CASE_STATUS_NOT_SETTLED)
      && k->department == MED_DEPARTMENT_COURT_MEDIATION) {
    P ("<form method=\"post\" action=\"/cases/%" G_GINT64_FORMAT
       "/book\" class=\"inline\">",
        k->id);
    csrf_field (r, out);
    P ("<button type=\"submit\">最早时段预约 <span lang=\"en\">Book the "
       "earliest slot</span></button></form>\n");
  }
  P ("<form method=\"post\" action=\"/cases/%" G_GINT64_FORMAT
     "/status\" class=\"inline\">",
      k->id);
  csrf_field (r, out);
  P ("<label for=\"to\">状态改为 <span lang=\"en\">Change status "
     "to</span></label> <select id=\"to\" name=\"status\">"
     "<option value=\"in-session\">调解中 in-session</option>"
     "<option value=\"settled\">调解成功 settled</option>"
     "<option value=\"not-settled\">调解不成 not-settled</option>"
     "<option value=\"referred\">已转办 referred</option>"
     "<option value=\"withdrawn\">已撤回 withdrawn</option></select> "
     "<button type=\"submit\">更新 <span "
     "lang=\"en\">Update</span></button></form>\n");
  if (office) {
    P ("<form method=\"post\" action=\"/cases/%" G_GINT64_FORMAT
       "/feed\" class=\"inline\">",
        k->id);
    csrf_field (r, out);
    P ("<button type=\"submit\">生成日历订阅 <span lang=\"en\">Make a "
       "calendar feed link</span></button></form>\n");
  }

  P ("<h2>审计记录 <span lang=\"en\">Audit trail</span></h2>\n<table>"
     "<thead><tr><th scope=\"col\">时间 When</th><th scope=\"col\">操作人 "
     "Actor</th><th scope=\"col\">操作 Action</th><th scope=\"col\">详情 "
     "Detail</th></tr></thead><tbody>\n");
  for (guint i = 0; i < audit->len; i++) {
    MedAuditEntry *e = g_ptr_array_index (audit, i);
    g_autofree char *at = med_time_format_local (e->at, zone, "%Y-%m-%d %H:%M");

    P ("<tr><td>%s</td><td>", at);
    esc (out, e->actor);
    P ("</td><td>");
    esc (out, e->action);
    P ("</td><td><code>");
    esc (out, e->detail ? e->detail : "");
    P ("</code></td></tr>\n");
  }
  P ("</tbody></table>\n");
  page_close (r, out, 200);
}

static void
page_case_action (MedReq *r, MedCase *k, const char *action)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (strcmp (action, "dispatch") == 0) {
    MedDepartment d;

    if ((form = page_form (r, MED_ROLES_OFFICE)) == NULL)
      return;
    if (!med_department_from_string (form_get (form, "department")
                ? form_get (form, "department")
                : "",
            &d, &error)
        || !med_store_set_case_status (r->srv->store, k->id,
            MED_CASE_STATUS_DISPATCHED, d, r->actor, &error)) {
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    redirect (r, "/intake?msg=dispatched");
  } else if (strcmp (action, "status") == 0) {
    MedCaseStatus to;

    if ((form = page_form (r, MED_ROLES_STAFF)) == NULL)
      return;
    if (!med_case_status_from_string (form_get (form, "status")
                ? form_get (form, "status")
                : "",
            &to, &error)
        || to == MED_CASE_STATUS_DISPATCHED || to == MED_CASE_STATUS_INTAKE
        || to == MED_CASE_STATUS_SCHEDULED
        || !med_store_set_case_status (r->srv->store, k->id, to,
            MED_DEPARTMENT_NONE, r->actor, &error)) {
      if (error == NULL)
        g_set_error_literal (&error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
            "this status is set by dispatching or booking");
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=status", k->id);
  } else if (strcmp (action, "book") == 0) {
    if ((form = page_form (r, MED_ROLES_OFFICE)) == NULL)
      return;
    if (med_service_book (r->srv->store, &ctx, k->id, NULL, 0, NULL, &error)
        == 0) {
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=booked", k->id);
  } else if (strcmp (action, "feed") == 0) {
    g_autofree char *secret = med_http_new_secret ();
    g_autofree char *hash = med_http_hash_secret (secret);

    if ((form = page_form (r, MED_ROLES_OFFICE)) == NULL)
      return;
    if (med_store_add_feed_link (r->srv->store, MED_FEED_LINK_CASE, k->id, hash,
            0, r->actor, &error)
        == 0) {
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=feed&feed=%s", k->id, secret);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such page");
  }
}

/* ---- moving and cancelling from pages ---- */

static MedBooking *
page_booking (MedReq *r, const char *id_text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = NULL;
  gint64 id;

  if (!med_http_parse_id (id_text, &id)) {
    med_http_reply_error (r, 404, "not_found", "no such session");
    return NULL;
  }
  if ((bk = med_store_get_booking (r->srv->store, id, &error)) == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return NULL;
  }
  if (!med_http_may_see_case (r, bk->case_id)
      || !med_http_may_see_booking (r, bk))
    return NULL;
  return g_steal_pointer (&bk);
}

static void
page_move_get (MedReq *r, MedBooking *bk)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rooms = NULL;
  g_autofree char *start
      = med_time_format_local (bk->start, zone_of (r), "%Y-%m-%dT%H:%M");

  if ((rooms
          = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id, &error))
      == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  page_open (r, out, "改期", "Move a session");
  P ("<form method=\"post\" action=\"/bookings/%" G_GINT64_FORMAT
     "/move\" class=\"grid\">",
      bk->id);
  csrf_field (r, out);
  P ("<p><label for=\"start\">新的开始时间 <span lang=\"en\">New "
     "start</span></label><input id=\"start\" name=\"start\" "
     "type=\"datetime-local\" value=\"%s\"></p>\n<p><label "
     "for=\"room\">调解室 <span lang=\"en\">Room</span></label><select "
     "id=\"room\" name=\"room\">",
      start);
  for (guint i = 0; i < rooms->len; i++) {
    MedRoom *room = g_ptr_array_index (rooms, i);

    P ("<option value=\"%" G_GINT64_FORMAT "\"%s>", room->id,
        room->id == bk->room_id ? " selected" : "");
    esc (out, room->name);
    P ("</option>");
  }
  P ("</select></p>\n<p class=\"wide\"><button type=\"submit\" name=\"how\" "
     "value=\"manual\">改到此时间 <span lang=\"en\">Move "
     "here</span></button> <button type=\"submit\" name=\"how\" "
     "value=\"earliest\">下一个最早时段 <span lang=\"en\">Next earliest "
     "slot</span></button></p></form>\n");
  page_close (r, out, 200);
}

/* The mediator's console of a remote session: own camera, who waits
 * (admit, remove), who is in, recording with the consent state, caucus,
 * end. console.js talks to /ws/console/<id> (docs/webrtc.md). Mediators
 * see only their own sessions; clerks and admins every one. */
static void
page_console (MedReq *r, MedBooking *bk)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) rooms = NULL, parties = NULL;
  const char *zone = zone_of (r);
  g_autofree char *s = NULL, *e = NULL;
  MedRoom *room;
  guint missing = 0;
  gboolean complete;

  if ((k = med_store_get_case (r->srv->store, bk->case_id, &error)) == NULL
      || (rooms = med_store_list_rooms (r->srv->store, k->centre_id, &error))
          == NULL
      || (parties = med_store_list_parties (r->srv->store, k->id, &error))
          == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  room = find_id (rooms, bk->room_id);
  complete = med_store_consent_complete (r->srv->store, bk->id, &missing, NULL)
      && missing == 0;
  s = med_time_format_local (bk->start, zone, "%Y-%m-%d %H:%M");
  e = med_time_format_local (bk->end, zone, "%H:%M");
  page_open (r, out, "视频调解控制台", "Video session console");
  P ("<p class=\"facts\"><a href=\"/cases/%" G_GINT64_FORMAT "\">", k->id);
  esc (out, k->number);
  P ("</a> · %s–%s · ", s, e);
  esc (out, room ? room->name : "?");
  P ("</p>\n");
  if (bk->status != MED_BOOKING_STATUS_CONFIRMED) {
    P ("<p class=\"error\" role=\"alert\">本次会议已取消。<span "
       "lang=\"en\">This session has been cancelled.</span></p>\n");
    page_close (r, out, 200);
    return;
  }
  P ("<div id=\"console\" class=\"console\" "
     "data-ws=\"/ws/console/%" G_GINT64_FORMAT "\">\n",
      bk->id);
  P ("<p id=\"call-status\" class=\"status\" role=\"status\" "
     "aria-live=\"polite\">控制台需要启用浏览器的 JavaScript。<span "
     "lang=\"en\">The console needs JavaScript in your browser.</span></p>\n"
     "<p id=\"call-error\" class=\"error\" role=\"alert\" hidden></p>\n");

  P ("<section class=\"panel\" aria-labelledby=\"me-h\"><h2 id=\"me-h\">本人"
     " <span lang=\"en\">You</span></h2>\n<div class=\"videos\"><video "
     "id=\"self\" class=\"tile self\" muted playsinline aria-label=\"本人画面 "
     "Your camera\"></video></div>\n<p class=\"controls\"><button "
     "type=\"button\" id=\"btn-join\" disabled>加入通话 <span "
     "lang=\"en\">Join the call</span></button> <button type=\"button\" "
     "id=\"btn-mute\" aria-pressed=\"false\" disabled>静音 <span "
     "lang=\"en\">Mute</span></button> <button type=\"button\" "
     "id=\"btn-camera\" aria-pressed=\"false\" disabled>关闭摄像头 <span "
     "lang=\"en\">Camera off</span></button></p>\n</section>\n");

  P ("<section class=\"panel\" aria-labelledby=\"waiting-h\"><h2 "
     "id=\"waiting-h\">等候室 <span lang=\"en\">Waiting room</span></h2>\n"
     "<ul id=\"waiting\" class=\"people\"></ul>\n<p id=\"waiting-empty\" "
     "class=\"hint\">无人等候。<span lang=\"en\">Nobody is "
     "waiting.</span></p>\n</section>\n");

  P ("<section class=\"panel wide\" aria-labelledby=\"in-h\"><h2 "
     "id=\"in-h\">通话中 <span lang=\"en\">In the call</span></h2>\n<div "
     "class=\"videos\"><video id=\"remote\" class=\"tile remote\" "
     "playsinline aria-label=\"其他参加人 Other participants\"></video></div>\n"
     "<p class=\"controls\"><button type=\"button\" id=\"btn-sound\" "
     "hidden>开启声音 <span lang=\"en\">Turn sound on</span></button></p>\n"
     "<ul id=\"incall\" class=\"people\"></ul>\n</section>\n");

  P ("<section class=\"panel\" aria-labelledby=\"rec-h\"><h2 "
     "id=\"rec-h\">录制 <span lang=\"en\">Recording</span></h2>\n<p "
     "id=\"rec-state\" class=\"rec-state\">未录制 <span "
     "lang=\"en\">Not recording</span></p>\n<p id=\"consent-state\">");
  if (complete)
    P ("各方当事人已同意录制。<span lang=\"en\">Every party has consented to "
       "recording.</span>");
  else
    P ("%u 方当事人尚未同意录制（调解程序须经各方同意才能录制）。<span "
       "lang=\"en\">%u of %u parties have not consented yet (recording a "
       "mediation needs every party's consent).</span>",
        missing, missing, parties->len);
  P ("</p>\n<p class=\"controls\"><button type=\"button\" "
     "data-record=\"start\" disabled>开始录制 <span lang=\"en\">Start"
     "</span></button> <button type=\"button\" data-record=\"pause\" "
     "disabled>暂停 <span lang=\"en\">Pause</span></button> <button "
     "type=\"button\" data-record=\"resume\" disabled>继续 <span "
     "lang=\"en\">Resume</span></button> <button type=\"button\" "
     "data-record=\"stop\" disabled>停止 <span "
     "lang=\"en\">Stop</span></button></p>\n</section>\n");

  P ("<section class=\"panel\" aria-labelledby=\"caucus-h\"><h2 "
     "id=\"caucus-h\">单独谈话 <span lang=\"en\">Caucus</span></h2>\n<p "
     "class=\"hint\">与一方单独谈话时，其他各方留在等候室，录制暂停，谈话记入日志。"
     "<span lang=\"en\">During a caucus with one side the others wait in "
     "the waiting room, recording pauses and the caucus is "
     "logged.</span></p>\n<p id=\"caucus-state\">无 <span "
     "lang=\"en\">None</span></p>\n<p class=\"controls\"><label "
     "for=\"caucus-with\">与谁单独谈话 <span lang=\"en\">Caucus "
     "with</span></label> <select id=\"caucus-with\" disabled></select> "
     "<button type=\"button\" id=\"btn-caucus\" disabled>开始单独谈话 <span "
     "lang=\"en\">Start caucus</span></button> <button type=\"button\" "
     "id=\"btn-caucus-end\" disabled>结束单独谈话 <span lang=\"en\">End "
     "caucus</span></button></p>\n</section>\n");

  P ("<p class=\"controls end\"><button type=\"button\" id=\"btn-end\" "
     "class=\"danger\" disabled>结束会议 <span lang=\"en\">End the "
     "session</span></button></p>\n</div>\n"
     "<script src=\"/static/call.js\" defer></script>\n"
     "<script src=\"/static/console.js\" defer></script>\n");
  page_close (r, out, 200);
}

static void
page_booking_action (MedReq *r, MedBooking *bk, const char *action)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  MedServiceCtx ctx = med_http_service_ctx (r);

  if (strcmp (action, "console") == 0) {
    if (IS (r, GET) || IS (r, HEAD))
      page_console (r, bk);
    else
      med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if (strcmp (action, "move") == 0 && (IS (r, GET) || IS (r, HEAD))) {
    if (med_http_require (r, MED_ROLES_STAFF))
      page_move_get (r, bk);
    return;
  }
  if (!IS (r, POST)) {
    med_http_reply_error (r, 405, "method", "method not allowed here");
    return;
  }
  if ((form = page_form (r, MED_ROLES_STAFF)) == NULL)
    return;
  if (strcmp (action, "move") == 0) {
    MedSlot manual = { 0 };
    gboolean earliest = g_strcmp0 (form_get (form, "how"), "earliest") == 0;

    if (!earliest) {
      if (form_get (form, "start") == NULL
          || !med_time_parse_local (form_get (form, "start"), zone_of (r),
              &manual.start, &error)
          || (form_get (form, "room")
              && !med_http_parse_id (form_get (form, "room"),
                  &manual.room_id))) {
        if (error == NULL)
          g_set_error_literal (&error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
              "room: not a room");
        reply_error_page (r, g_steal_pointer (&error));
        return;
      }
    }
    if (!med_service_reschedule (r->srv->store, &ctx, bk->id,
            earliest ? NULL : &manual, NULL, &error)) {
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=moved", bk->case_id);
  } else if (strcmp (action, "cancel") == 0) {
    if (!med_service_cancel (r->srv->store, &ctx, bk->id, &error)) {
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=cancelled", bk->case_id);
  } else if (strcmp (action, "revoke-link") == 0) {
    gint64 party = 0;

    if (!med_http_parse_id (form_get (form, "party"), &party)
        || !med_store_revoke_join (r->srv->store, bk->id, party, r->actor,
            &error)) {
      if (error == NULL)
        g_set_error_literal (&error, MED_HTTP_ERROR, MED_HTTP_ERROR_INVALID,
            "party: not a party");
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=revoked", bk->case_id);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such page");
  }
}

/* ---- agenda ---- */

static void
page_agenda (MedReq *r)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) bookings = NULL, rooms = NULL, cases = NULL;
  g_autoptr (GPtrArray) meds = NULL;
  const char *zone = zone_of (r);
  gint64 mediator = 0;
  g_autofree char *last_day = NULL;
  guint shown = 0;

  if (!med_http_require (r, MED_ROLES_STAFF))
    return;
  if (r->user->role == MED_ROLE_MEDIATOR)
    mediator = r->user->mediator_id;
  if ((bookings = med_store_list_bookings (r->srv->store, r->srv->cfg.centre_id,
           r->now - 86400, r->now + 14 * 86400, FALSE, &error))
          == NULL
      || (rooms = med_store_list_rooms (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (meds = med_store_list_mediators (r->srv->store, r->srv->cfg.centre_id,
              &error))
          == NULL
      || (cases = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id,
              -1, &error))
          == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  page_open (r, out, mediator ? "我的日程" : "日程",
      mediator ? "My agenda" : "Agenda");
  P ("<p>今后两周的调解会议。<span lang=\"en\">Sessions of the next two "
     "weeks.</span></p>\n");
  if (mediator != 0) {
    P ("<p>订阅我的日程 <span lang=\"en\">Subscribe to my agenda</span>: "
       "请向书记员索取订阅链接。<span lang=\"en\">Ask a clerk for your "
       "webcal:// feed link.</span></p>\n");
  }
  for (guint i = 0; i < bookings->len; i++) {
    MedBooking *bk = g_ptr_array_index (bookings, i);
    g_autofree char *day
        = med_time_format_local (bk->start, zone, "%Y-%m-%d %a");
    g_autofree char *s = med_time_format_local (bk->start, zone, "%H:%M");
    g_autofree char *e = med_time_format_local (bk->end, zone, "%H:%M");
    MedCase *k = find_id (cases, bk->case_id);
    MedRoom *room = find_id (rooms, bk->room_id);
    MedMediator *md = find_id (meds, bk->mediator_id);

    if (mediator != 0 && bk->mediator_id != mediator)
      continue;
    if (g_strcmp0 (day, last_day) != 0) {
      if (last_day != NULL)
        P ("</tbody></table>\n");
      P ("<h2>%s</h2>\n<table><thead><tr><th scope=\"col\">时间 Time</th>"
         "<th scope=\"col\">案号 Case</th><th scope=\"col\">调解室 "
         "Room</th><th scope=\"col\">调解员 Mediator</th><th "
         "scope=\"col\">方式 Mode</th></tr></thead><tbody>\n",
          day);
      g_free (last_day);
      last_day = g_strdup (day);
    }
    P ("<tr><td>%s–%s</td><td><a href=\"/cases/%" G_GINT64_FORMAT "\">", s, e,
        bk->case_id);
    esc (out, k ? k->number : "?");
    P ("</a></td><td>");
    esc (out, room ? room->name : "?");
    P ("</td><td>");
    esc (out, md ? md->name : "?");
    P ("</td><td>%s</td></tr>\n", med_booking_mode_to_string (bk->mode));
    shown++;
  }
  if (last_day != NULL)
    P ("</tbody></table>\n");
  if (shown == 0)
    P ("<p>暂无会议。<span lang=\"en\">No sessions.</span></p>\n");
  page_close (r, out, 200);
}

/* ---- the party page ---- */

typedef struct
{
  const char *lang;
  const char *title, *when, *where, *address, *mode_in_person, *mode_remote,
      *join, *join_later, *contact, *cancelled;
} PartyText;

static const PartyText party_texts[] = {
  { "zh", "调解会议通知", "时间", "地点", "地址", "请按时到场参加调解。",
      "本次调解以视频方式进行。", "加入视频调解",
      "视频入口将在会议开始前开放。", "如需改期，请联系调解中心。",
      "本次会议已取消。" },
  { "en", "Your mediation session", "When", "Where", "Address",
      "Please come to the centre in person.",
      "You take part in this session by video.", "Join the video session",
      "The video room opens shortly before the session.",
      "To change the time, please contact the centre.",
      "This session has been cancelled." },
  /* Tibetan where the text exists; the Chinese stays beside it */
  { "bo", "བར་འདུམ་ཚོགས་འདུའི་བརྡ་ཐོ།", "དུས་ཚོད།", "ས་གནས།", "ཁ་བྱང་།", NULL, NULL,
      NULL, NULL, NULL, NULL },
};

static const PartyText *
party_text (const char *lang)
{
  for (guint i = 0; i < G_N_ELEMENTS (party_texts); i++) {
    if (g_strcmp0 (party_texts[i].lang, lang) == 0)
      return &party_texts[i];
  }
  return NULL;
}

/* The Chinese text, then the party's language beside it when known. */
static void
both (GString *out, const PartyText *zh, const PartyText *other, gsize offset)
{
  const char *a = G_STRUCT_MEMBER (const char *, zh, offset);
  const char *b = other ? G_STRUCT_MEMBER (const char *, other, offset) : NULL;

  esc (out, a);
  if (b != NULL) {
    P (" <span lang=\"%s\">", other->lang);
    esc (out, b);
    P ("</span>");
  }
}

#define BOTH(field) both (out, zh, other, G_STRUCT_OFFSET (PartyText, field))

/* The call on the party page: device check with a preview, the consent
 * question, the waiting room and the call itself. join.js shows one step at
 * a time and talks to /ws/join/<token> (docs/webrtc.md); without
 * JavaScript the status line says it is needed. Chinese with English beside
 * it, Tibetan where party_texts has the words. */
static void
join_call_app (GString *out, const PartyText *zh, const PartyText *other,
    const char *token, gboolean early)
{
  P ("<section id=\"call\" class=\"call\" aria-labelledby=\"call-h\" "
     "data-ws=\"/ws/join/");
  esc (out, token);
  P ("\">\n<h2 id=\"call-h\">");
  BOTH (join);
  if (other == NULL || strcmp (other->lang, "en") != 0)
    P (" <span lang=\"en\">Join the video session</span>");
  P ("</h2>\n");
  if (early) {
    P ("<p class=\"hint\">");
    BOTH (join_later);
    P ("</p>\n");
  }
  P ("<p id=\"call-status\" class=\"status\" role=\"status\" "
     "aria-live=\"polite\">加入视频调解需要启用浏览器的 JavaScript。<span "
     "lang=\"en\">Joining needs JavaScript in your browser.</span></p>\n"
     "<p id=\"call-error\" class=\"error\" role=\"alert\" hidden></p>\n");

  /* 1: camera and microphone */
  P ("<div id=\"step-devices\" class=\"step\" hidden>\n<h3>第一步：检查摄像头和"
     "麦克风 <span lang=\"en\">Step 1: check your camera and "
     "microphone</span></h3>\n<div class=\"videos\"><video id=\"preview\" "
     "class=\"tile self\" muted playsinline aria-label=\"本人画面 Your "
     "camera\"></video></div>\n<p id=\"mic\" hidden><label for=\"mic-level\">"
     "麦克风音量（请说几句话） <span lang=\"en\">Microphone level (say a few "
     "words)</span></label> <meter id=\"mic-level\" min=\"0\" max=\"1\" "
     "value=\"0\"></meter></p>\n<p id=\"device-state\" class=\"hint\">"
     "浏览器会询问是否允许使用摄像头和麦克风，请选择“允许”。<span lang=\"en\">"
     "Your browser will ask to use the camera and microphone: please "
     "allow it.</span></p>\n<p class=\"controls\"><button type=\"button\" "
     "id=\"btn-devices\">检查设备 <span lang=\"en\">Check my "
     "devices</span></button> <button type=\"button\" id=\"btn-audio-only\" "
     "hidden>只用声音加入 <span lang=\"en\">Join with sound "
     "only</span></button> <button type=\"button\" id=\"btn-receive-only\" "
     "hidden>只看只听 <span lang=\"en\">Only watch and "
     "listen</span></button> <button type=\"button\" id=\"btn-next\" "
     "disabled>下一步 <span lang=\"en\">Next</span></button></p>\n</div>\n");

  /* 2: consent, when the session is recorded with the parties' consent */
  P ("<div id=\"step-consent\" class=\"step\" hidden>\n<h3>第二步：同意录音录像"
     " <span lang=\"en\">Step 2: consent to recording</span></h3>\n"
     "<p>本次调解将全程录音录像，录像由法院封存保管。录制前需要每一方当事人同意；"
     "您可以拒绝，调解仍可进行但不录制。<span lang=\"en\">This session is to be "
     "recorded; the court seals and keeps the recording. Recording needs "
     "every party's consent. You may refuse: the session then goes on "
     "without recording.</span></p>\n<p class=\"controls\"><button "
     "type=\"button\" id=\"btn-consent-yes\">同意录制 <span lang=\"en\">I "
     "agree</span></button> <button type=\"button\" "
     "id=\"btn-consent-no\">不同意 <span lang=\"en\">I do not "
     "agree</span></button></p>\n</div>\n");

  /* 3: waiting room */
  P ("<div id=\"step-waiting\" class=\"step\" hidden>\n<h3>等候室 <span "
     "lang=\"en\">Waiting room</span></h3>\n<p>请稍候，调解员会请您进入。请不要"
     "关闭本页。<span lang=\"en\">Please wait: the mediator will let you in. "
     "Keep this page open.</span></p>\n</div>\n");

  /* 4: the call */
  P ("<div id=\"step-call\" class=\"step\" hidden>\n<p id=\"rec\" "
     "class=\"rec\" hidden>录制中 <span lang=\"en\">Recording</span></p>\n"
     "<div class=\"videos\"><video id=\"remote\" class=\"tile remote\" "
     "playsinline aria-label=\"其他参加人 Other participants\"></video>"
     "<video id=\"self\" class=\"tile self\" muted playsinline "
     "aria-label=\"本人画面 Your camera\"></video></div>\n<ul id=\"others\" "
     "class=\"others\" aria-label=\"参加人 Participants\"></ul>\n"
     "<p class=\"controls\"><button type=\"button\" id=\"btn-mute\" "
     "aria-pressed=\"false\">静音 <span lang=\"en\">Mute</span></button> "
     "<button type=\"button\" id=\"btn-camera\" aria-pressed=\"false\">关闭"
     "摄像头 <span lang=\"en\">Camera off</span></button> <button "
     "type=\"button\" id=\"btn-sound\" hidden>开启声音 <span "
     "lang=\"en\">Turn sound on</span></button> <button type=\"button\" "
     "id=\"btn-leave\" class=\"danger\">离开 <span "
     "lang=\"en\">Leave</span></button></p>\n</div>\n");

  /* after leaving or being removed */
  P ("<div id=\"step-left\" class=\"step\" hidden>\n<p><button "
     "type=\"button\" id=\"btn-rejoin\">重新加入 <span "
     "lang=\"en\">Join again</span></button></p>\n</div>\n</section>\n");
}

static void
page_join (MedReq *r)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedBooking) bk = NULL;
  g_autoptr (MedCase) k = NULL;
  g_autoptr (GPtrArray) parties = NULL, rooms = NULL;
  const char *token = r->n_seg == 2 ? r->seg[1] : "";
  MedCentre *c = med_http_centre (r->srv, &error);
  const PartyText *zh = party_text ("zh"), *other = NULL;
  MedParty *party = NULL;
  MedRoom *room;
  gint64 booking_id = 0, party_id = 0;
  g_autofree char *day = NULL, *clock = NULL, *end = NULL, *rkey = NULL;
  guint retry = 0;

  if (c == NULL) {
    reply_error_page (r, g_steal_pointer (&error));
    return;
  }
  rkey = g_strconcat ("join:", r->client, NULL);
  if (!med_http_rate_allow (r->srv, rkey, &retry)) {
    g_autofree char *ra = g_strdup_printf ("%u", retry);

    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      r->msg),
        "Retry-After", ra);
    med_http_reply_error (r, 429, "rate_limited",
        "请稍后再试。Too many attempts; try again in %u s.", retry);
    return;
  }
  if (!med_http_join_resolve (r->srv, token, r->now, &booking_id, &party_id,
          &error)
      || (bk = med_store_get_booking (r->srv->store, booking_id, NULL)) == NULL
      || (k = med_store_get_case (r->srv->store, bk->case_id, NULL)) == NULL
      || (parties = med_store_list_parties (r->srv->store, k->id, NULL)) == NULL
      || (party = find_id (parties, party_id)) == NULL) {
    if (error != NULL
        && !g_error_matches (error, MED_STORE_ERROR,
            MED_STORE_ERROR_NOT_FOUND)) {
      reply_error_page (r, g_steal_pointer (&error));
      return;
    }
    med_http_rate_fail (r->srv, rkey);
    med_http_reply_error (r, 404, "not_found",
        "链接无效或已失效。This link is not valid (any more).");
    return;
  }
  rooms = med_store_list_rooms (r->srv->store, c->id, NULL);
  room = find_id (rooms, bk->room_id);
  if (g_strcmp0 (party->language, "zh") != 0)
    other = party_text (party->language);
  day = med_time_format_local (bk->start, c->zone, "%Y年%m月%d日");
  clock = med_time_format_local (bk->start, c->zone, "%H:%M");
  end = med_time_format_local (bk->end, c->zone, "%H:%M");
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "X-Robots-Tag", "noindex");

  P ("<!DOCTYPE html>\n<html lang=\"zh-Hans\">\n<head><meta "
     "charset=\"utf-8\"><meta name=\"viewport\" "
     "content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" "
     "content=\"noindex\">\n<title>");
  esc (out, zh->title);
  P ("</title><link rel=\"stylesheet\" href=\"/static/medsched.css\">"
     "</head>\n<body class=\"party\"><main id=\"main\">\n<h1>");
  BOTH (title);
  P ("</h1>\n<p class=\"centre\">");
  esc (out, c->name);
  P ("</p>\n<p>");
  esc (out, party->name);
  P (" · ");
  esc (out, k->number);
  P ("</p>\n");
  if (bk->status != MED_BOOKING_STATUS_CONFIRMED) {
    P ("<p class=\"error\" role=\"alert\">");
    BOTH (cancelled);
    P ("</p>\n");
  }
  P ("<dl class=\"facts\"><dt>");
  BOTH (when);
  P ("</dt><dd><time datetime=\"");
  {
    g_autofree char *iso
        = med_time_format_local (bk->start, c->zone, "%Y-%m-%dT%H:%M");

    esc (out, iso);
  }
  P ("\">%s %s–%s</time>", day, clock, end);
  if (other != NULL && strcmp (other->lang, "en") == 0) {
    g_autofree char *en
        = med_time_format_local (bk->start, c->zone, "%A %d %B %Y, %H:%M");

    P (" <span lang=\"en\">(%s, Beijing time)</span>", en);
  } else if (other != NULL && strcmp (other->lang, "bo") == 0) {
    g_autofree char *bo
        = med_time_format_local (bk->start, c->zone, "%Y-%m-%d %H:%M");

    P (" <span lang=\"bo\">(%s)</span>", bo);
  }
  P ("</dd>\n<dt>");
  BOTH (where);
  P ("</dt><dd>");
  esc (out, room ? room->name : "");
  P ("</dd>\n");
  if (c->address && *c->address) {
    P ("<dt>");
    BOTH (address);
    P ("</dt><dd>");
    esc (out, c->address);
    P ("</dd>\n");
  }
  P ("</dl>\n");
  if (bk->status == MED_BOOKING_STATUS_CONFIRMED) {
    if (party->attendance == MED_ATTENDANCE_REMOTE) {
      P ("<p>");
      BOTH (mode_remote);
      P ("</p>\n");
      join_call_app (out, zh, other, token, r->now < bk->start - 1800);
    } else {
      P ("<p>");
      BOTH (mode_in_person);
      P ("</p>\n");
    }
  }
  P ("<p class=\"hint\">");
  BOTH (contact);
  P ("</p>\n</main>\n");
  if (bk->status == MED_BOOKING_STATUS_CONFIRMED
      && party->attendance == MED_ATTENDANCE_REMOTE)
    P ("<script src=\"/static/call.js\" defer></script>\n"
       "<script src=\"/static/join.js\" defer></script>\n");
  P ("</body>\n</html>\n");
  soup_message_headers_replace (soup_server_message_get_response_headers (
                                    r->msg),
      "Cache-Control", "no-store");
  med_http_reply_text (r, 200, "text/html; charset=utf-8", out->str, out->len);
}

/* ---- routing ---- */

void
med_http_page (MedReq *r)
{
  const char *first = r->n_seg > 0 ? r->seg[0] : "";

  if (r->n_seg == 0 || (r->n_seg == 1 && *first == '\0')) {
    page_home (r);
  } else if (r->n_seg == 1 && strcmp (first, "login") == 0) {
    if (IS (r, POST))
      med_http_login_post (r);
    else
      med_http_login_get (r);
  } else if (r->n_seg == 1 && strcmp (first, "logout") == 0) {
    if (IS (r, POST))
      med_http_logout_post (r);
    else
      med_http_reply_error (r, 405, "method", "sign out with the button");
  } else if (r->n_seg == 2 && strcmp (first, "join") == 0) {
    page_join (r);
  } else if (r->n_seg == 1 && strcmp (first, "intake") == 0) {
    if (IS (r, POST))
      page_intake_post (r);
    else
      page_intake_get (r);
  } else if (r->n_seg == 1 && strcmp (first, "board") == 0) {
    page_board (r);
  } else if (r->n_seg == 2 && strcmp (first, "board") == 0
      && strcmp (r->seg[1], "book") == 0) {
    if (IS (r, POST))
      page_board_book_post (r);
    else
      page_board_book_get (r);
  } else if (r->n_seg == 1 && strcmp (first, "agenda") == 0) {
    page_agenda (r);
  } else if ((r->n_seg == 2 || r->n_seg == 3) && strcmp (first, "cases") == 0) {
    g_autoptr (MedCase) k = NULL;

    if (!med_http_require (r, MED_ROLES_STAFF)
        || (k = page_case (r, r->seg[1])) == NULL)
      return;
    if (r->n_seg == 2)
      page_case_view (r, k);
    else if (IS (r, POST))
      page_case_action (r, k, r->seg[2]);
    else
      med_http_reply_error (r, 405, "method", "method not allowed here");
  } else if ((r->n_seg == 2 || r->n_seg == 3)
      && strcmp (first, "recordings") == 0) {
    med_http_recording_page (r);
  } else if (r->n_seg == 3 && strcmp (first, "bookings") == 0) {
    g_autoptr (MedBooking) bk = NULL;

    if (!med_http_require (r, MED_ROLES_STAFF)
        || (bk = page_booking (r, r->seg[1])) == NULL)
      return;
    page_booking_action (r, bk, r->seg[2]);
  } else {
    med_http_reply_error (r, 404, "not_found", "no such page");
  }
}
