/* med-page-intake.c — the clerk's intake and dispatch page: a new case
 * with up to three parties, and the queue of cases to dispatch or to
 * schedule (templates/intake.html). */
#define G_LOG_DOMAIN "medsched-http"

#include "med-pages.h"

static void
add_languages (JsonBuilder *b)
{
  json_builder_set_member_name (b, "langs");
  json_builder_begin_array (b);
  for (guint i = 0; i < MED_LANG_N; i++) {
    json_builder_begin_object (b);
    med_json_str (b, "code", med_lang_code ((MedLang) i));
    med_json_str (b, "tag", med_lang_tag ((MedLang) i));
    med_json_str (b, "name", med_lang_name ((MedLang) i));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

void
med_page_intake_get (MedReq *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL;
  const char *zone = med_page_zone (r);
  JsonBuilder *b;

  if (!med_http_require (r, MED_ROLES_OFFICE))
    return;
  if ((cases = med_store_list_cases (r->srv->store, r->srv->cfg.centre_id, -1,
           &error))
      == NULL) {
    med_page_error (r, g_steal_pointer (&error));
    return;
  }
  b = med_http_page_begin (r, T ("Intake and dispatch"));
  MED_PAGE_ENUM_OPTIONS (b, "kinds", med_case_kind, 0, MED_CASE_KIND_N, -1);
  MED_PAGE_ENUM_OPTIONS (b, "departments", med_department, 1, MED_DEPARTMENT_N,
      MED_DEPARTMENT_COURT_MEDIATION);
  json_builder_set_member_name (b, "parties");
  json_builder_begin_array (b);
  for (guint i = 1; i <= 3; i++) {
    g_autofree char *legend = i == 1
        ? med_http_tf (r, N_ ("Party %u"), i)
        : med_http_tf (r, N_ ("Party %u (optional)"), i);

    json_builder_begin_object (b);
    med_json_int (b, "i", i);
    med_json_bool (b, "first", i == 1);
    med_json_str (b, "legend", legend);
    MED_PAGE_ENUM_OPTIONS (b, "roles", med_party_role, 0, MED_PARTY_ROLE_N,
        i == 1 ? MED_PARTY_ROLE_APPLICANT : MED_PARTY_ROLE_RESPONDENT);
    MED_PAGE_ENUM_OPTIONS (b, "attendance", med_attendance, 0, MED_ATTENDANCE_N,
        MED_ATTENDANCE_IN_PERSON);
    add_languages (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < cases->len; i++) {
    MedCase *k = g_ptr_array_index (cases, i);
    g_autofree char *intake
        = med_time_format_local (k->intake_at, zone, "%m-%d %H:%M");

    if (k->status != MED_CASE_STATUS_INTAKE
        && k->status != MED_CASE_STATUS_DISPATCHED)
      continue;
    json_builder_begin_object (b);
    med_json_int (b, "id", k->id);
    med_json_str (b, "number", k->number);
    med_json_bool (b, "urgent", k->urgent);
    med_json_str (b, "kind", T (med_case_kind_label (k->kind)));
    med_json_str (b, "status", T (med_case_status_label (k->status)));
    med_json_str (b, "intake", intake);
    med_json_bool (b, "dispatch", k->status == MED_CASE_STATUS_INTAKE);
    med_json_bool (b, "book",
        k->status == MED_CASE_STATUS_DISPATCHED
            && k->department == MED_DEPARTMENT_COURT_MEDIATION);
    med_json_str (b, "elsewhere",
        k->status == MED_CASE_STATUS_DISPATCHED
                && k->department != MED_DEPARTMENT_COURT_MEDIATION
            ? T (med_department_label (k->department))
            : NULL);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  med_http_page_send (r, b, "intake", 200);
}

static gboolean
form_party (GHashTable *form, guint i, GPtrArray *parties, GError **error)
{
  char key[32];
  g_autoptr (MedParty) p = med_party_new ();
  const char *name, *role, *lang, *att, *contact;

  g_snprintf (key, sizeof key, "p%u-name", i);
  name = med_page_form_get (form, key);
  if (name == NULL)
    return TRUE;
  g_snprintf (key, sizeof key, "p%u-role", i);
  role = med_page_form_get (form, key);
  g_snprintf (key, sizeof key, "p%u-lang", i);
  lang = med_page_form_get (form, key);
  g_snprintf (key, sizeof key, "p%u-att", i);
  att = med_page_form_get (form, key);
  g_snprintf (key, sizeof key, "p%u-contact", i);
  contact = med_page_form_get (form, key);
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
  MedDepartment d = MED_DEPARTMENT_NONE;
  gint64 id;

  if (form == NULL)
    return;
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
  for (guint i = 1; i <= 3; i++) {
    if (!form_party (form, i, parties, &error)) {
      med_page_error (r, g_steal_pointer (&error));
      return;
    }
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
