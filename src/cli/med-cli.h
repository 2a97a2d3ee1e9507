/* med-cli.h — helpers shared by the medsched command's files: text tables
 * that line up Chinese and Tibetan text, and JSON output. */
#pragma once

#include <medsched/med-model.h>
#include <medsched/med-store.h>

#include <json-glib/json-glib.h>
#include <stdio.h>

G_BEGIN_DECLS

/* A table printed with columns padded to their display width (wide CJK
 * characters count as two columns). */
typedef struct _MedTable MedTable;

MedTable *med_table_new (guint n_columns, ...);
void med_table_add (MedTable *t, ...); /* n_columns strings, copied */
void med_table_print (MedTable *t, FILE *out);
void med_table_free (MedTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MedTable, med_table_free)

/* Prints a JSON node (pretty) to stdout with a newline. Takes the node. */
void med_print_json (JsonNode *node);

void med_json_add_room (JsonBuilder *b, const MedRoom *r);
void med_json_add_mediator (JsonBuilder *b, const MedMediator *m,
    const char *zone);
void med_json_add_interpreter (JsonBuilder *b, const MedInterpreter *i);
void med_json_add_case (JsonBuilder *b, const MedCase *c, const char *zone);
void med_json_add_party (JsonBuilder *b, const MedParty *p);
void med_json_add_booking (JsonBuilder *b, const MedBooking *bk,
    const char *zone);

G_END_DECLS
