#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-cli-i18n.py — the medsched command speaks the language of its
environment, as a GNOME command-line program does: LANGUAGE (a colon
list), else LC_ALL / LC_MESSAGES / LANG; the C locale gives the English
message ids whatever LANGUAGE says (glibc's rule; C.UTF-8 is not C).

Runs a few commands under LANGUAGE=zh_CN and LANGUAGE=bo (the suite's
LC_ALL=C.UTF-8 kept) and checks their confirmations, tables, usage
errors, an error of a missing file, --help and the global help against
po/zh_CN.po (Tibetan falls back to Chinese for the command line, as
docs/i18n.md allows); --json output is the same bytes in every language;
and man/gen-man.py writes an English page even when the build runs under
a Chinese environment.

Prints TAP. Needs $MEDSCHED (meson test sets it).
"""

import os
import re
import subprocess
import sys

from medtest import (SOURCE_ROOT, Med, Tap, calendars_dir, medsched_path,
                     new_db, tempdir)

sys.path.insert(0, os.path.join(SOURCE_ROOT, "po"))
import pofile  # noqa: E402

NOW = "2026-12-07T08:00"  # a Monday
ZH = {"LANGUAGE": "zh_CN"}
BO = {"LANGUAGE": "bo"}


def catalogue():
    """msgid → msgstr of po/zh_CN.po (context "column" as "column\\4id")."""
    out = {}
    for e in pofile.read(os.path.join(SOURCE_ROOT, "po", "zh_CN.po")):
        if e.msgid and e.msgstr:
            key = (e.msgctxt + "\x04" if e.msgctxt else "") + e.msgid
            out[key] = e.msgstr
    return out


def cfmt(fmt, *args):
    """A C format filled in by Python (%lld as %d; no positional ones)."""
    return re.sub(r"%l+([du])", r"%\1", fmt) % args


def main():
    tap = Tap()
    exe = medsched_path(tap)
    zh = catalogue()

    def t(msgid):
        if msgid not in zh:
            tap.bail("po/zh_CN.po has no translation of %r" % msgid)
        return zh[msgid]

    with tempdir() as tmp:
        med = Med(exe, new_db(tmp, "i18n"), now=NOW, cwd=tmp)

        # a confirmation and a summary
        r = med.run("init", "--name", "测试中心", "--calendars",
                    calendars_dir(), env=ZH)
        want = t("created centre %lld “%s” (%s, layers %s) in %s")
        tap.ok(r.rc == 0 and r.out.startswith(want.split("%")[0])
               and "测试中心" in r.out and "created centre" not in r.out,
               "init confirms in Chinese", r.describe())
        r = med.run("room", "add", "--name", "温馨调解室一", "--kind", "warm",
                    env=ZH)
        tap.ok(r.rc == 0 and r.out == cfmt(t("room %lld\n"), 1),
               "room add confirms in Chinese", r.describe())
        r_bo = med.run("room", "add", "--name", "温馨调解室二", "--kind",
                       "warm", env=BO)
        tap.ok(r_bo.rc == 0 and r_bo.out == cfmt(t("room %lld\n"), 2),
               "Tibetan falls back to Chinese for the command line",
               r_bo.describe())
        r = med.run("room", "add", "--name", "家事调解室", "--kind", "family")
        tap.ok(r.rc == 0 and r.out == "room 3\n",
               "without LANGUAGE under C.UTF-8: English", r.describe())

        # a table: column titles and the room kind's label translated
        r = med.run("room", "list", env=ZH)
        head = r.out.split("\n")[0].split()
        tap.ok(r.rc == 0 and head[:3] == [t("column\x04ID"),
                                          t("column\x04ROOM"),
                                          t("column\x04KIND")]
               and t("Warm mediation room") + " (warm)" in r.out,
               "room list: Chinese column titles and labels", r.describe())
        # --json is for programs: the same bytes in every language
        en_json = med.run("room", "list", "--json")
        zh_json = med.run("room", "list", "--json", env=ZH)
        tap.ok(en_json.rc == 0 and en_json.out == zh_json.out
               and en_json.json() is not None,
               "room list --json is the same in Chinese and English",
               zh_json.describe())

        # a usage error: the message and the "see --help" frame
        for name, env in (("Chinese", ZH), ("Tibetan (Chinese)", BO)):
            r = med.run("room", "add", "--name", "x", env=env)
            want = t("medsched: %s (see --help)\n") % t(
                "room add needs --name and --kind")
            tap.ok(r.rc == 2 and r.err == want,
                   "a usage error in %s" % name, r.describe())
        # an error the command words: a file that cannot be read
        missing = os.path.join(tmp, "nowhere.json")
        r = med.run("import", missing, env=ZH)
        want = t("medsched: %s\n") % (t("%s: not a readable file") % missing)
        tap.ok(r.rc == 1 and r.err == want,
               "an error of a missing file in Chinese", r.describe())
        r = med.run("import", missing)
        tap.ok(r.rc == 1 and r.err == "medsched: %s: not a readable file\n"
               % missing, "the same error in English", r.describe())

        # the weekday and the reason line of a slot
        med.run("mediator", "add", "--name", "王建华", "--languages", "zh",
                "--specialties", "wages")
        med.run("case", "add", "--number", "(2026)藏0102调1号", "--kind",
                "wages", "--party", "applicant,zh,in-person,张三")
        med.run("case", "dispatch", "(2026)藏0102调1号", "--department",
                "court-mediation")
        r = med.run("slots", "(2026)藏0102调1号", "--count", "1", env=ZH)
        tap.ok(r.rc == 0 and t("Mon") in r.out
               and t("%s–%s  room %lld %s  mediator %lld %s%s  %s\n"
                     "    why: %s\n").split("%s")[-2].strip() in r.out,
               "slots: weekday and frame in Chinese", r.describe())
        # the scheduler's reasons in the catalogue's words, not English
        tap.ok(r.rc == 0 and t("capacity %1$d for %2$d in person")
               .split("%")[0] in r.out
               and t("it is a general civil case") in r.out
               and "because" not in r.out and "capacity" not in r.out,
               "slots: the reasons in Chinese", r.describe())
        r = med.run("slots", "(2026)藏0102调1号", "--count", "1")
        tap.ok(r.rc == 0 and "because it is a general civil case" in r.out,
               "slots: the reasons in English", r.describe())
        # a case nothing fits: the scheduler's refusal in Chinese
        med.run("case", "add", "--number", "(2026)藏0102调2号", "--kind",
                "land", "--party", "applicant,zh,in-person,李四")
        med.run("case", "dispatch", "(2026)藏0102调2号", "--department",
                "court-mediation")
        r = med.run("slots", "(2026)藏0102调2号", env=ZH)
        tap.ok(r.rc == 1 and t("no mediator handles %s cases")
               .split("%")[0] in r.err and "no mediator" not in r.err,
               "a refusal of the scheduler in Chinese", r.describe())

        # --help: GOption's texts through the catalogue, metavariables kept
        r = med.run("room", "add", "--help", env=ZH, no_globals=True)
        tap.ok(r.rc == 0 and t("Registers a mediation room.") in r.out
               and t("Room name") in r.out and "--kind=KIND" in r.out
               and t("- add a room") in r.out,
               "room add --help in Chinese (metavariables stay)",
               r.describe())
        r = med.run("--help", env=ZH, no_globals=True)
        tap.ok(r.rc == 0 and t("add a room") in r.out
               and t("list rooms") in r.out and "Commands:" not in r.out,
               "the global help in Chinese", r.describe())

        # the rules of the environment
        cases = [
            ("LC_ALL=C ignores LANGUAGE", {"LC_ALL": "C", "LANGUAGE": "zh_CN"},
             "en"),
            ("LANG=zh_CN.UTF-8 alone", {"LC_ALL": None, "LANG": "zh_CN.UTF-8"},
             "zh"),
            ("LC_MESSAGES=bo_CN.UTF-8 alone",
             {"LC_ALL": None, "LANG": None, "LC_MESSAGES": "bo_CN.UTF-8"},
             "zh"),
            ("LANGUAGE=fr:zh_CN: the first of ours",
             {"LANGUAGE": "fr:zh_CN"}, "zh"),
            ("LANGUAGE=fr: none of ours, English", {"LANGUAGE": "fr"}, "en"),
        ]
        for name, env, lang in cases:
            r = med.run("room", "add", env=env)
            msg = "room add needs --name and --kind"
            want = t(msg) if lang == "zh" else msg
            tap.ok(r.rc == 2 and want in r.err, name, r.describe())

        bad = [r.describe() for r in med.history
               if r.crashed() or r.forbidden()]
        tap.ok(not bad, "no command crashed or printed CRITICAL/WARNING",
               "\n".join(bad[:5]))

        # the manual page stays English whatever the build's environment
        out = os.path.join(tmp, "medsched.1")
        env = dict(os.environ, LANGUAGE="zh_CN", LANG="zh_CN.UTF-8",
                   LC_ALL="zh_CN.UTF-8")
        p = subprocess.run([sys.executable,
                            os.path.join(SOURCE_ROOT, "man", "gen-man.py"),
                            exe, "0", "/etc", "/usr/share/medsched/calendars",
                            out], env=env, capture_output=True, text=True,
                           timeout=600)
        page = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
        tap.ok(p.returncode == 0 and "Registers a mediation room." in page
               and t("Registers a mediation room.") not in page
               and t("add a room") not in page,
               "gen-man.py writes English under a Chinese environment",
               p.stderr[-1500:])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
