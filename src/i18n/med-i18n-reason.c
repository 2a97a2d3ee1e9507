/* SPDX-License-Identifier: GPL-3.0-or-later */
/* med-i18n-reason.c — the scheduler's reasons (med-scheduler.h) as text,
 * in any of medsched's languages: one sentence part a code, its
 * parameters filled in, the parts joined with the language's separator.
 * The one place these texts live: the scheduler writes its English
 * explanations and error messages with it, the pages and the CLI their
 * reader's language, the API its English message beside the codes. */
#define G_LOG_DOMAIN "medsched-i18n"

#include <medsched/med-i18n.h>
#include <medsched/med-scheduler.h>

#include <string.h>

/* A label of the model in lang, inside a sentence: English labels are
 * capitalised for headings and lists ("Family mediation room"), so in
 * English the first letter goes lower case ("no family mediation room");
 * Chinese and Tibetan have no case. The few lower-cased labels are
 * interned: kept for the life of the process. (transfer none) */
static const char *
label (MedLang lang, const char *msgid)
{
  const char *t = med_i18n_gettext (lang, msgid);
  g_autofree char *l = NULL;

  if (lang != MED_LANG_EN || t == NULL || !g_ascii_isupper (*t))
    return t;
  l = g_strdup (t);
  l[0] = g_ascii_tolower (l[0]);
  return g_intern_string (l);
}

/* "a, b and c" in lang. (transfer full) */
static char *
join_list (MedLang lang, char **items)
{
  guint n = items ? g_strv_length (items) : 0;
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++) {
    if (i > 0)
      /* TRANSLATORS: between two items of a list, and before its last */
      g_string_append (s,
          i + 1 < n ? med_i18n_gettext (lang, N_ (", "))
                    : med_i18n_gettext (lang, N_ (" and ")));
    g_string_append (s, items[i]);
  }
  return g_string_free (s, FALSE);
}

/* The reasons whose text is fixed: a sentence, nothing filled in. */
static const char *const fixed_text[MED_REASON_N] = {
  [MED_REASON_WHY_MINORS] = N_ ("the case involves minors"),
  [MED_REASON_WHY_FAMILY] = N_ ("it is a family-affairs case"),
  [MED_REASON_WHY_REMOTE] = N_ ("a party attends remotely"),
  [MED_REASON_WHY_GENERAL] = N_ ("it is a general civil case"),
  [MED_REASON_FALLBACK_URGENT]
  = N_ ("fallback: urgent case, the same day in another kind of room "
        "under the centre's fallback policy"),
  [MED_REASON_FALLBACK_BY_HAND]
  = N_ ("fallback: chosen by hand; the centre allows this kind of room "
        "instead"),
  [MED_REASON_SAME_MEDIATOR] = N_ ("the same mediator as the earlier session"),
  [MED_REASON_PLAN_START]
  = N_ ("start chosen by the day plan, which places as many of the "
        "day's cases as it can"),
  [MED_REASON_NO_LANGUAGE]
  = N_ ("no mediator shares a language with every party and no "
        "interpreter covers the missing language"),
  [MED_REASON_LEAVE] = N_ ("the matching mediators are on leave on some days"),
  [MED_REASON_DAILY_CAP]
  = N_ ("the matching mediators reach their daily session cap on some "
        "days"),
  [MED_REASON_DURATION] = N_ ("the session is longer than any working window"),
  [MED_REASON_ROOM_BUSY] = N_ ("the suitable rooms are booked"),
  [MED_REASON_MINORS_WAIT]
  = N_ ("a case with minors waits for a family room (the remote room "
        "stands in only when a party joins by video and no family room "
        "has a terminal)"),
  [MED_REASON_MEDIATOR_BUSY]
  = N_ ("the suitable mediators (or the interpreter they need) are "
        "booked whenever a room is free"),
  [MED_REASON_PARTY_BUSY] = N_ ("a party has another session then"),
  [MED_REASON_MINORS_STAY]
  = N_ ("minors stay in a family room unless a party joins by video "
        "and no family room has a terminal"),
  [MED_REASON_AFTER_DEADLINE] = N_ ("the session ends after the case deadline"),
  [MED_REASON_TAKEN]
  = N_ ("the room, the mediator, the interpreter or a party is already "
        "booked then"),
};

/* Why a room kind (a WHY_* code; a general civil case otherwise). */
static const char *
cause_text (MedLang lang, MedReasonCode cause)
{
  if ((guint) cause > MED_REASON_WHY_GENERAL)
    cause = MED_REASON_WHY_GENERAL;
  return med_i18n_gettext (lang, fixed_text[cause]);
}

char *
med_i18n_reason (MedLang lang, const MedReason *r)
{
  const char *name = r->name ? r->name : "";
  const char *words = r->words ? r->words : "";

  if ((guint) r->code < MED_REASON_N && fixed_text[r->code] != NULL)
    return g_strdup (med_i18n_gettext (lang, fixed_text[r->code]));
  switch (r->code) {
    case MED_REASON_ROOM:
      return med_i18n_printf (lang, N_ ("%1$s (%2$s) because %3$s"), name,
          label (lang, med_room_kind_label (r->kind)),
          cause_text (lang, r->cause));
    case MED_REASON_FALLBACK_FULL: {
      g_autofree char *why = med_i18n_reasons (lang, r->sub);

      return med_i18n_printf (lang,
          N_ ("fallback: no %1$s before the limit (%2$s); the centre allows "
              "a %3$s instead"),
          label (lang, med_room_kind_label (r->kind)), why,
          label (lang, med_room_kind_label (r->other_kind)));
    }
    case MED_REASON_FALLBACK_PLAN:
      return med_i18n_printf (lang,
          N_ ("fallback: every %s is taken by the day's other cases; the "
              "centre allows this kind of room instead"),
          label (lang, med_room_kind_label (r->kind)));
    case MED_REASON_CAPACITY:
      return med_i18n_printf (lang, N_ ("capacity %1$d for %2$d in person"),
          r->a, r->b);
    case MED_REASON_MEDIATOR:
      return med_i18n_printf (lang,
          N_ ("mediator %1$s handles %2$s and speaks %3$s"), name,
          label (lang, med_case_kind_label (r->case_kind)), words);
    case MED_REASON_INTERPRETER:
      return med_i18n_printf (lang, N_ ("interpreter %1$s (%2$s)"), name,
          words);
    case MED_REASON_EARLIEST:
      return g_strdup (r->a
              ? med_i18n_gettext (lang,
                  N_ ("earliest free start for room, mediator, interpreter "
                      "and parties"))
              : med_i18n_gettext (lang,
                  N_ ("earliest free start for room, mediator and parties")));
    case MED_REASON_NO_ROOM_KIND:
      return med_i18n_printf (lang,
          r->a ? N_ ("no %s with a video terminal") : N_ ("no %s"),
          label (lang, med_room_kind_label (r->kind)));
    case MED_REASON_NO_CAPACITY:
      return med_i18n_printf (lang, N_ ("no %1$s seats %2$d people in person"),
          label (lang, med_room_kind_label (r->kind)), r->a);
    case MED_REASON_NO_SPECIALTY:
      return med_i18n_printf (lang, N_ ("no mediator handles %s cases"),
          label (lang, med_case_kind_label (r->case_kind)));
    case MED_REASON_CLOSED:
      return med_i18n_printf (lang,
          N_ ("%1$d of %2$d days checked are not working days (weekends, "
              "holidays)"),
          r->a, r->b);
    case MED_REASON_NOTHING_ON_DAY:
      return med_i18n_printf (lang, N_ ("nothing fits on %s"), words);
    case MED_REASON_NOTHING_BEFORE_DEADLINE:
      return med_i18n_printf (lang,
          N_ ("nothing fits before the case deadline %s"), words);
    case MED_REASON_NOTHING_BEFORE:
      return med_i18n_printf (lang, N_ ("nothing fits before %s"), words);
    case MED_REASON_ROOM_UNSUITED:
      return med_i18n_printf (lang,
          r->b ? N_ ("room %1$s (%2$s) does not suit the case: it needs a "
                     "%3$s with a video terminal (%4$s), seating %5$d in "
                     "person")
               : N_ ("room %1$s (%2$s) does not suit the case: it needs a "
                     "%3$s (%4$s), seating %5$d in person"),
          name, label (lang, med_room_kind_label (r->kind)),
          label (lang, med_room_kind_label (r->other_kind)),
          cause_text (lang, r->cause), r->a);
    case MED_REASON_MEDIATOR_UNSUITED:
      if (r->b)
        return med_i18n_printf (lang,
            r->a ? N_ ("mediator %s with that interpreter cannot take the "
                       "case: no mediator handles this kind of case")
                 : N_ ("mediator %s cannot take the case: no mediator handles "
                       "this kind of case"),
            name);
      return med_i18n_printf (lang,
          r->a ? N_ ("mediator %s with that interpreter cannot take the case: "
                     "wrong specialty, or the parties' languages need a "
                     "(different) interpreter")
               : N_ ("mediator %s cannot take the case: wrong specialty, or "
                     "the parties' languages need a (different) interpreter"),
          name);
    case MED_REASON_OUTSIDE_HOURS:
      if (r->name != NULL && *r->name != '\0')
        return med_i18n_printf (lang,
            r->a ? N_ ("that day is outside the centre's working time (%s)")
                 : N_ ("that time is outside the centre's working time (%s)"),
            name);
      return g_strdup (r->a ? med_i18n_gettext (lang,
                           N_ ("that day is outside the centre's working "
                               "time"))
                            : med_i18n_gettext (lang,
                                N_ ("that time is outside the centre's "
                                    "working time")));
    case MED_REASON_CAP_REACHED:
      return med_i18n_printf (lang,
          N_ ("mediator %1$s already has %2$d sessions that day (daily cap)"),
          name, r->a);
    case MED_REASON_ON_LEAVE:
      return med_i18n_printf (lang, N_ ("mediator %s is on leave then"), name);
    case MED_REASON_WOULD_UNPLACE: {
      g_autofree char *cases = join_list (lang, r->list);

      return med_i18n_printf (lang,
          N_ ("placing it (at %1$s in %2$s with mediator %3$s) would unplace "
              "%4$s"),
          words, name, r->name2 ? r->name2 : "", cases);
    }
    case MED_REASON_OTHER:
    case MED_REASON_N:
    default:
      return g_strdup (words);
  }
}

char *
med_i18n_reasons (MedLang lang, GPtrArray *reasons)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; reasons != NULL && i < reasons->len; i++) {
    g_autofree char *one = med_i18n_reason (lang, reasons->pdata[i]);

    if (i > 0)
      /* TRANSLATORS: between the parts of an explanation */
      g_string_append (s, med_i18n_gettext (lang, N_ ("; ")));
    g_string_append (s, one);
  }
  return g_string_free (s, FALSE);
}
