/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-cli.h — helpers shared by the medsched command's files: text tables
 * that line up Chinese and Tibetan text, JSON output, the global options,
 * error reporting and option parsing of medsched.c, and the commands of
 * invites and calendar feeds (med-cli-ical.c). */
#pragma once

#include <medsched/med-i18n.h>
#include <medsched/med-model.h>
#include <medsched/med-service.h>
#include <medsched/med-store.h>

#include <json-glib/json-glib.h>
#include <stdio.h>

G_BEGIN_DECLS

/* What the command prints for people goes through the catalogues (po/), in
 * the environment's language (med_lang_from_environment: LANGUAGE, LC_ALL,
 * LC_MESSAGES, LANG, as gettext reads them; English under C). --json output,
 * ids, codes, file names and the metavariables of --help (FILE, N, …) stay
 * as they are. P_ is ngettext, C_ pgettext (the columns' titles are in
 * context "column": a metavariable of the same word stays English). */
#define _(s)        med_i18n_gettext_env (s)
#define P_(s, p, n) med_i18n_ngettext_env (s, p, n)
#define C_(ctx, s)  med_i18n_pgettext (med_i18n_env_lang (), ctx, s)

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

/* ---- what medsched.c shares with the other command files ---------------- */

/* Exit statuses of every command. */
enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1, /* no slot, invalid data, database error */
  EXIT_USAGE = 2,
  EXIT_CONFLICT = 3, /* someone else took the slot */
};

/* The global options, parsed before the command. */
typedef struct
{
  char *db;
  gint64 centre_id; /* --centre, default 1 */
  gboolean centre_given; /* --centre was given */
  char *now_text;
  char *actor;
  MedTime now;
} MedCliGlobal;

/* Prints "medsched: <message>" and returns the exit status the error maps
 * to; takes the error. */
int med_cli_report (GError *error);
/* Prints a usage error and returns EXIT_USAGE. */
int med_cli_usage (const char *message);
/* Parses a command's options; argv keeps the positional arguments. On
 * failure *code gets the exit status. */
gboolean med_cli_parse_options (const char *usage, const char *summary,
    const GOptionEntry *entries, int *argc, char ***argv, int *code);
/* The existing store of --db, on the --now clock, holding the centre of
 * --centre (MED_STORE_ERROR_NOT_FOUND naming the centres it holds when
 * not; a store that holds no centre yet is opened when --centre was not
 * given). (transfer full) */
MedStore *med_cli_open_store (MedCliGlobal *g, GError **error);
/* A positive decimal id. */
gboolean med_cli_parse_id (const char *s, gint64 *out);
/* --lang zh|bo|en (any spelling med_lang_from_code takes) into ctx->lang;
 * NULL leaves the centre's default. FALSE: not a language medsched
 * speaks. */
gboolean med_cli_parse_lang (const char *arg, MedServiceCtx *ctx);
/* A case of centre_id by id or by number: NOT_FOUND when it is another
 * centre's. (transfer full) */
MedCase *med_cli_find_case (MedStore *store, gint64 centre_id, const char *arg,
    GError **error);
/* Who acts, when, for which centre: what the service is told. */
MedServiceCtx med_cli_ctx (MedCliGlobal *g);

/* ---- invites and calendar feeds (med-cli-ical.c) ------------------------- */


int med_cli_cmd_invite (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_feed (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_freebusy (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_outbox_list (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_outbox_flush (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_outbox_retry (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_reply_import (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_ics_lint (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_mediator_busy_import (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_interpreter_busy_import (MedCliGlobal *g, int argc,
    char **argv);
int med_cli_cmd_mediator_email (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_interpreter_email (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_booking_note (MedCliGlobal *g, int argc, char **argv);

/* ---- the HTTP server and its users (med-cli-serve.c) --------------------- */

int med_cli_cmd_serve (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_user_add (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_user_token (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_user_list (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_user_revoke (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_feed_link (MedCliGlobal *g, int argc, char **argv);

/* ---- recorded remote sessions (med-cli-media.c) ------------------------- */

int med_cli_cmd_record_start (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_record_pause (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_record_resume (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_record_stop (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_recording_list (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_recording_log (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_recording_verify (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_recording_export (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_recording_purge (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_recording_recover (MedCliGlobal *g, int argc, char **argv);
int med_cli_cmd_consent (MedCliGlobal *g, int argc, char **argv);

G_END_DECLS
