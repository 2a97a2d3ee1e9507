/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-http-fit.c — the board's answers (where a case fits, why not) in the
 * words the API and the pages share: one table of the scheduler's block
 * bits with their JSON word and their message id (translated where a page
 * shows it), and the JSON shape of one cell. */
#define G_LOG_DOMAIN "medsched-http"

#include "med-http-private.h"

/* In the scheduler's order of reporting (MedBlock). */
const MedHttpBlockName med_http_block_names[] = {
  { MED_BLOCK_ROOM_KIND, "room_kind",
      N_ ("not the kind of room this case needs") },
  { MED_BLOCK_CAPACITY, "capacity", N_ ("the room is too small") },
  { MED_BLOCK_SPECIALTY, "specialty",
      N_ ("no mediator handles this kind of case") },
  { MED_BLOCK_LANGUAGE, "language",
      N_ ("no mediator shares a language with every party, and no "
          "interpreter covers it") },
  { MED_BLOCK_LEAVE, "leave", N_ ("the mediators who could are on leave") },
  { MED_BLOCK_DAILY_CAP, "daily_cap",
      N_ ("the mediators who could have reached their sessions for the "
          "day") },
  { MED_BLOCK_ROOM_BUSY, "room_busy",
      N_ ("the room is booked then (with its setup and cleanup time)") },
  { MED_BLOCK_MEDIATOR_BUSY, "mediator_busy",
      N_ ("every mediator who could (or the interpreter they need) is "
          "booked then") },
  { MED_BLOCK_PARTY_BUSY, "party_busy",
      N_ ("a party has another session then") },
  { MED_BLOCK_CLOSED, "closed", N_ ("not working time") },
  { MED_BLOCK_DEADLINE, "deadline", N_ ("after the case's deadline") },
  { MED_BLOCK_HORIZON, "horizon", N_ ("beyond the search horizon") },
  { MED_BLOCK_DURATION, "duration",
      N_ ("the session is longer than any working window") },
};
const guint med_http_n_block_names = G_N_ELEMENTS (med_http_block_names);

const char *
med_http_fit_state_word (MedFitState s)
{
  static const char *const words[] = {
    [MED_FIT_FITS] = "fits",
    [MED_FIT_BLOCKED] = "blocked",
    [MED_FIT_TOO_LONG] = "too_long",
    [MED_FIT_DEADLINE] = "deadline",
    [MED_FIT_PAST] = "past",
    [MED_FIT_CLOSED] = "closed",
  };

  return (guint) s < G_N_ELEMENTS (words) ? words[s] : "blocked";
}

void
med_http_json_add_fit_cell (JsonBuilder *b, const MedFitCell *c,
    const char *zone)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "room_id");
  json_builder_add_int_value (b, c->room_id);
  med_http_json_add_time (b, "start", c->start, zone);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, med_http_fit_state_word (c->state));
  if (c->slot != NULL) {
    json_builder_set_member_name (b, "slot");
    med_http_json_add_slot (b, c->slot, zone);
  }
  if (c->state == MED_FIT_BLOCKED) {
    json_builder_set_member_name (b, "blocks");
    json_builder_begin_array (b);
    for (guint i = 0; i < med_http_n_block_names; i++) {
      if (c->blocks & med_http_block_names[i].bit)
        json_builder_add_string_value (b, med_http_block_names[i].word);
    }
    json_builder_end_array (b);
    json_builder_set_member_name (b, "why");
    json_builder_add_string_value (b, c->why ? c->why : "");
    med_http_json_add_reasons (b, "reasons", c->reasons);
  }
  json_builder_end_object (b);
}
