/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-page-intake.c — the clerk's intake and dispatch page: a new case
 * with as many parties as it has (templates/intake.html: "Add another
 * party" sends the form back with the values kept and one more party, so
 * it works without scripts), and the queue of cases to dispatch or to
 * schedule. The party fields and their choices are shared with the case
 * page's party forms. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

/* The catalogue languages, and lang when it is another one. */
static void
add_languages (JsonBuilder *b, const char *lang)
{
  MedLang known;
  gboolean other = lang != NULL && !med_lang_from_code (lang, &known);

  json_builder_set_member_name (b, "langs");
  json_builder_begin_array (b);
  for (guint i = 0; i < MED_LANG_N; i++) {
    json_builder_begin_object (b);
    med_json_str (b, "code", med_lang_code ((MedLang) i));
    med_json_str (b, "tag", med_lang_tag ((MedLang) i));
    med_json_str (b, "name", med_lang_name ((MedLang) i));
    med_json_bool (b, "selected",
        lang != NULL && g_strcmp0 (lang, med_lang_code ((MedLang) i)) == 0);
    json_builder_end_object (b);
  }
  if (other) {
    json_builder_begin_object (b);
    med_json_str (b, "code", lang);
    med_json_str (b, "tag", lang);
    med_json_str (b, "name", lang);
    med_json_bool (b, "selected", TRUE);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

void
med_page_party_options (MedReq *r, JsonBuilder *b, const MedParty *p)
{
  MED_PAGE_ENUM_OPTIONS (b, "roles", med_party_role, 0, MED_PARTY_ROLE_N,
      p ? (gint) p->role : MED_PARTY_ROLE_RESPONDENT);
  MED_PAGE_ENUM_OPTIONS (b, "attendance", med_attendance, 0, MED_ATTENDANCE_N,
      p ? (gint) p->attendance : MED_ATTENDANCE_IN_PERSON);
  add_languages (b, p ? p->language : NULL);
  med_json_str (b, "name", p ? p->name : NULL);
  med_json_str (b, "contact", p ? p->contact : NULL);
}

MedParty *
med_page_form_party (GHashTable *form, const char *prefix, GError **error)
{
  g_autoptr (MedParty) p = med_party_new ();
  g_autofree char *k_name = g_strconcat (prefix, "-name", NULL);
  g_autofree char *k_role = g_strconcat (prefix, "-role", NULL);
  g_autofree char *k_lang = g_strconcat (prefix, "-lang", NULL);
  g_autofree char *k_att = g_strconcat (prefix, "-att", NULL);
  g_autofree char *k_contact = g_strconcat (prefix, "-contact", NULL);
  const char *name = med_page_form_get (form, k_name);
  const char *role = med_page_form_get (form, k_role);
  const char *lang = med_page_form_get (form, k_lang);
  const char *att = med_page_form_get (form, k_att);
  const char *contact = med_page_form_get (form, k_contact);

  if (name == NULL)
    return NULL;
  if (!med_validate_text (name, MED_MAX_NAME_BYTES, FALSE, FALSE, "party name",
          error)
      || !med_party_role_from_string (role ? role : "", &p->role, error)
      || !med_validate_language (lang ? lang : "", error)
      || !med_attendance_from_string (att ? att : "in-person", &p->attendance,
          error)
      || (contact
          && !med_validate_text (contact, MED_MAX_NAME_BYTES, FALSE, TRUE,
              "contact", error)))
    return NULL;
  p->name = g_strdup (name);
  p->language = g_strdup (lang);
  p->contact = g_strdup (contact);
  return g_steal_pointer (&p);
}

/* The intake form, empty or with form's values and n_parties parties;
 * focus_last puts the cursor in the last party's name. */
static void
intake_page (MedReq *r, GHashTable *form, guint n_parties, gboolean focus_last)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL;
  const char *zone = med_page_zone (r);
  const char *kind = med_page_form_get (form, "kind");
  const char *dept = med_page_form_get (form, "department");
  MedCaseKind k = 0;
  MedDepartment d = MED_DEPARTMENT_COURT_MEDIATION;
  JsonBuilder *b;

  if ((cases = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id, -1,
           &error))
      == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  if (kind != NULL)
    med_case_kind_from_string (kind, &k, NULL);
  if (form != NULL
      && (dept == NULL || !med_department_from_string (dept, &d, NULL)))
    d = MED_DEPARTMENT_NONE;
  b = med_http_page_begin (r, T ("Intake and dispatch"));
  med_json_str (b, "number", med_page_form_get (form, "number"));
  med_json_str (b, "duration",
      med_page_form_get (form, "duration")
          ? med_page_form_get (form, "duration")
          : "60");
  med_json_str (b, "summary", med_page_form_get (form, "summary"));
  med_json_bool (b, "minors", med_page_form_get (form, "minors") != NULL);
  med_json_bool (b, "urgent", med_page_form_get (form, "urgent") != NULL);
  med_json_bool (b, "no_department", d == MED_DEPARTMENT_NONE);
  MED_PAGE_ENUM_OPTIONS (b, "kinds", med_case_kind, 0, MED_CASE_KIND_N, k);
  MED_PAGE_ENUM_OPTIONS (b, "departments", med_department, 1, MED_DEPARTMENT_N,
      d);
  med_json_int (b, "n_parties", n_parties);
  json_builder_set_member_name (b, "parties");
  json_builder_begin_array (b);
  for (guint i = 1; i <= n_parties; i++) {
    g_autofree char *prefix = g_strdup_printf ("p%u", i);
    g_autofree char *legend = i == 1
        ? med_http_tf (r, N_ ("Party %u"), i)
        : med_http_tf (r, N_ ("Party %u (optional)"), i);
    g_autoptr (MedParty) p = med_party_new ();
    g_autofree char *kr = g_strconcat (prefix, "-role", NULL);
    g_autofree char *ka = g_strconcat (prefix, "-att", NULL);
    g_autofree char *kl = g_strconcat (prefix, "-lang", NULL);
    g_autofree char *kn = g_strconcat (prefix, "-name", NULL);
    g_autofree char *kc = g_strconcat (prefix, "-contact", NULL);

    /* the values sent, each kept even when another one is wrong */
    p->role = i == 1 ? MED_PARTY_ROLE_APPLICANT : MED_PARTY_ROLE_RESPONDENT;
    if (med_page_form_get (form, kr))
      med_party_role_from_string (med_page_form_get (form, kr), &p->role, NULL);
    if (med_page_form_get (form, ka))
      med_attendance_from_string (med_page_form_get (form, ka), &p->attendance,
          NULL);
    p->language = g_strdup (med_page_form_get (form, kl));
    p->name = g_strdup (med_page_form_get (form, kn));
    p->contact = g_strdup (med_page_form_get (form, kc));
    json_builder_begin_object (b);
    med_json_int (b, "i", i);
    med_json_bool (b, "first", i == 1);
    med_json_bool (b, "focus", focus_last && i == n_parties);
    med_json_str (b, "legend", legend);
    med_page_party_options (r, b, p);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_json_bool (b, "more", n_parties < MED_MAX_PARTIES);

  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < cases->len; i++) {
    MedCase *c = g_ptr_array_index (cases, i);
    g_autofree char *intake
        = med_time_format_local (c->intake_at, zone, "%m-%d %H:%M");

    if (c->status != MED_CASE_STATUS_INTAKE
        && c->status != MED_CASE_STATUS_DISPATCHED)
      continue;
    json_builder_begin_object (b);
    med_json_int (b, "id", c->id);
    med_json_str (b, "number", c->number);
    med_json_bool (b, "urgent", c->urgent);
    med_json_str (b, "kind", T (med_case_kind_label (c->kind)));
    med_json_str (b, "status", T (med_case_status_label (c->status)));
    med_json_str (b, "intake", intake);
    med_json_bool (b, "dispatch", c->status == MED_CASE_STATUS_INTAKE);
    med_json_bool (b, "book",
        c->status == MED_CASE_STATUS_DISPATCHED
            && c->department == MED_DEPARTMENT_COURT_MEDIATION);
    med_json_str (b, "elsewhere",
        c->status == MED_CASE_STATUS_DISPATCHED
                && c->department != MED_DEPARTMENT_COURT_MEDIATION
            ? T (med_department_label (c->department))
            : NULL);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "intake", 200);
}

void
med_page_intake_get (MedReq *r)
{
  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  intake_page (r, NULL, 2, FALSE);
}

/* The highest party number the form holds (fieldsets p1 … pN). */
static guint
form_parties (GHashTable *form)
{
  guint n = 1;

  for (guint i = 1; i <= MED_MAX_PARTIES; i++) {
    g_autofree char *k = g_strdup_printf ("p%u-role", i);

    if (g_hash_table_contains (form, k))
      n = i;
  }
  return n;
}

void
med_page_intake_post (MedReq *r)
{
  g_autoptr (GHashTable) form = med_page_form (r, MED_ROLES_OFFICE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MedCase) k = med_case_new ();
  g_autoptr (GPtrArray) parties
      = g_ptr_array_new_with_free_func ((GDestroyNotify) med_party_free);
  const char *number, *kind, *summary, *duration, *dept;
  MedServiceCtx ctx = med_http_service_ctx (r);
  guint64 minutes = 0;
  guint n;
  MedDepartment d = MED_DEPARTMENT_NONE;
  gint64 id;

  if (form == NULL)
    return;
  n = form_parties (form);
  if (med_page_form_get (form, "add_party") != NULL) {
    intake_page (r, form, MIN (n + 1, MED_MAX_PARTIES), TRUE);
    return;
  }
  number = med_page_form_get (form, "number");
  kind = med_page_form_get (form, "kind");
  summary = med_page_form_get (form, "summary");
  duration = med_page_form_get (form, "duration");
  dept = med_page_form_get (form, "department");
  if (!med_validate_text (number, MED_MAX_NAME_BYTES, FALSE, FALSE,
          "case number", &error)
      || !med_case_kind_from_string (kind ? kind : "", &k->kind, &error)
      || (summary
          && !med_validate_text (summary, MED_MAX_TEXT_BYTES, TRUE, TRUE,
              "summary", &error))
      || (dept && !med_department_from_string (dept, &d, &error))) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  if (duration != NULL
      && !g_ascii_string_to_unsigned (duration, 10, 15, 480, &minutes, NULL)) {
    med_page_invalid (r, T ("Length: between 15 and 480 minutes."));
    return;
  }
  for (guint i = 1; i <= n; i++) {
    g_autofree char *prefix = g_strdup_printf ("p%u", i);
    MedParty *p = med_page_form_party (form, prefix, &error);

    if (error != NULL) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
    if (p != NULL)
      g_ptr_array_add (parties, p);
  }
  if (parties->len == 0) {
    med_page_invalid (r, T ("A case needs at least one party."));
    return;
  }
  k->number = g_strdup (number);
  k->centre_id = r->srv->cfg.centre_id;
  k->status = MED_CASE_STATUS_INTAKE;
  k->intake_at = r->now;
  k->minors = med_page_form_get (form, "minors") != NULL;
  k->urgent = med_page_form_get (form, "urgent") != NULL;
  k->duration_minutes = minutes == 60 ? 0 : (gint) minutes;
  k->summary = g_strdup (summary);
  /* intake and dispatch: one transaction */
  if ((id = med_service_intake (r->srv->store, &ctx, k, parties, d, &error))
      == 0) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  med_page_redirect (r, "/cases/%" G_GINT64_FORMAT "?msg=taken", id);
}
