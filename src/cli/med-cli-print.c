/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-cli-print.c — output for the medsched command: aligned text tables
 * (display width aware, so 温馨调解室 and བཀྲ་ཤིས line up) and the JSON forms
 * of the model types used by every `--json` listing. */
#define G_LOG_DOMAIN "medsched-cli"

#include "med-cli.h"

#include <stdarg.h>
#include <stdio.h>

struct _MedTable
{
  guint n;
  GPtrArray *rows; /* GStrv */
};

MedTable *
med_table_new (guint n_columns, ...)
{
  MedTable *t = g_new0 (MedTable, 1);
  char **head = g_new0 (char *, n_columns + 1);
  va_list ap;

  t->n = n_columns;
  t->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  va_start (ap, n_columns);
  for (guint i = 0; i < n_columns; i++)
    head[i] = g_strdup (va_arg (ap, const char *));
  va_end (ap);
  g_ptr_array_add (t->rows, head);
  return t;
}

void
med_table_add (MedTable *t, ...)
{
  char **row = g_new0 (char *, t->n + 1);
  va_list ap;

  va_start (ap, t);
  for (guint i = 0; i < t->n; i++) {
    const char *s = va_arg (ap, const char *);

    row[i] = g_strdup (s ? s : "");
  }
  va_end (ap);
  g_ptr_array_add (t->rows, row);
}

/* Terminal columns taken by a UTF-8 string. */
static guint
display_width (const char *s)
{
  guint w = 0;

  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iszerowidth (c) || g_unichar_ismark (c))
      continue;
    w += g_unichar_iswide (c) ? 2 : 1;
  }
  return w;
}

void
med_table_print (MedTable *t, FILE *out)
{
  g_autofree guint *width = g_new0 (guint, t->n);

  for (guint r = 0; r < t->rows->len; r++) {
    char **row = g_ptr_array_index (t->rows, r);

    for (guint c = 0; c < t->n; c++)
      width[c] = MAX (width[c], display_width (row[c]));
  }
  for (guint r = 0; r < t->rows->len; r++) {
    char **row = g_ptr_array_index (t->rows, r);
    g_autoptr (GString) line = g_string_new (NULL);

    for (guint c = 0; c < t->n; c++) {
      g_string_append (line, row[c]);
      if (c + 1 < t->n) {
        for (guint k = display_width (row[c]); k < width[c] + 2; k++)
          g_string_append_c (line, ' ');
      }
    }
    while (line->len > 0 && line->str[line->len - 1] == ' ')
      g_string_truncate (line, line->len - 1);
    fprintf (out, "%s\n", line->str);
  }
}

void
med_table_free (MedTable *t)
{
  if (t == NULL)
    return;
  g_ptr_array_unref (t->rows);
  g_free (t);
}

void
med_print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
  json_node_unref (node);
}

static void
add_strv (JsonBuilder *b, const char *name, char **v)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; v && v[i]; i++)
    json_builder_add_string_value (b, v[i]);
  json_builder_end_array (b);
}

static void
add_words (JsonBuilder *b, const char *name, char *comma_list)
{
  g_auto (GStrv) v = g_strsplit (comma_list, ",", -1);

  if (*comma_list == '\0') {
    add_strv (b, name, NULL);
  } else {
    add_strv (b, name, v);
  }
  g_free (comma_list);
}

static void
add_time (JsonBuilder *b, const char *name, MedTime t, const char *zone)
{
  json_builder_set_member_name (b, name);
  if (t == 0) {
    json_builder_add_null_value (b);
  } else {
    g_autofree char *s = med_time_format_local (t, zone, "%Y-%m-%dT%H:%M");

    json_builder_add_string_value (b, s);
  }
}

void
med_json_add_room (JsonBuilder *b, const MedRoom *r)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, r->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, r->name);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, med_room_kind_to_string (r->kind));
  json_builder_set_member_name (b, "capacity");
  json_builder_add_int_value (b, r->capacity);
  add_words (b, "features", med_room_features_to_string (r->features));
  json_builder_set_member_name (b, "setup_minutes");
  json_builder_add_int_value (b, r->setup_minutes);
  json_builder_set_member_name (b, "cleanup_minutes");
  json_builder_add_int_value (b, r->cleanup_minutes);
  json_builder_end_object (b);
}

void
med_json_add_mediator (JsonBuilder *b, const MedMediator *m, const char *zone)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, m->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, m->name);
  add_strv (b, "languages", m->languages);
  add_words (b, "specialties", med_specialties_to_string (m->specialties));
  json_builder_set_member_name (b, "daily_cap");
  json_builder_add_int_value (b, m->daily_cap);
  json_builder_set_member_name (b, "leave");
  json_builder_begin_array (b);
  for (guint i = 0; m->leave && i < m->leave->len; i++) {
    MedInterval *iv = &g_array_index (m->leave, MedInterval, i);

    json_builder_begin_object (b);
    add_time (b, "start", iv->start, zone);
    add_time (b, "end", iv->end, zone);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

void
med_json_add_interpreter (JsonBuilder *b, const MedInterpreter *i)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, i->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, i->name);
  add_strv (b, "pairs", i->pairs);
  json_builder_end_object (b);
}

void
med_json_add_party (JsonBuilder *b, const MedParty *p)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, p->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, p->name);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, med_party_role_to_string (p->role));
  json_builder_set_member_name (b, "language");
  json_builder_add_string_value (b, p->language);
  json_builder_set_member_name (b, "attendance");
  json_builder_add_string_value (b, med_attendance_to_string (p->attendance));
  json_builder_set_member_name (b, "contact");
  json_builder_add_string_value (b, p->contact ? p->contact : "");
  json_builder_end_object (b);
}

void
med_json_add_case (JsonBuilder *b, const MedCase *c, const char *zone)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, c->id);
  json_builder_set_member_name (b, "number");
  json_builder_add_string_value (b, c->number);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, med_case_kind_to_string (c->kind));
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, med_case_status_to_string (c->status));
  json_builder_set_member_name (b, "department");
  json_builder_add_string_value (b, med_department_to_string (c->department));
  json_builder_set_member_name (b, "minors");
  json_builder_add_boolean_value (b, c->minors);
  json_builder_set_member_name (b, "urgent");
  json_builder_add_boolean_value (b, c->urgent);
  add_time (b, "intake_at", c->intake_at, zone);
  add_time (b, "deadline", c->deadline, zone);
  json_builder_set_member_name (b, "duration_minutes");
  json_builder_add_int_value (b, c->duration_minutes);
  json_builder_set_member_name (b, "summary");
  json_builder_add_string_value (b, c->summary ? c->summary : "");
  json_builder_end_object (b);
}

void
med_json_add_booking (JsonBuilder *b, const MedBooking *bk, const char *zone)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, bk->id);
  json_builder_set_member_name (b, "case_id");
  json_builder_add_int_value (b, bk->case_id);
  json_builder_set_member_name (b, "room_id");
  json_builder_add_int_value (b, bk->room_id);
  json_builder_set_member_name (b, "mediator_id");
  json_builder_add_int_value (b, bk->mediator_id);
  json_builder_set_member_name (b, "interpreter_id");
  if (bk->interpreter_id)
    json_builder_add_int_value (b, bk->interpreter_id);
  else
    json_builder_add_null_value (b);
  add_time (b, "start", bk->start, zone);
  add_time (b, "end", bk->end, zone);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, med_booking_mode_to_string (bk->mode));
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, med_booking_status_to_string (bk->status));
  json_builder_set_member_name (b, "uid");
  json_builder_add_string_value (b, bk->uid ? bk->uid : "");
  json_builder_set_member_name (b, "sequence");
  json_builder_add_int_value (b, bk->sequence);
  json_builder_end_object (b);
}
