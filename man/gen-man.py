#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""gen-man.py — writes medsched(1) from the built program's own --help.

    gen-man.py MEDSCHED VERSION SYSCONFDIR CALENDARS OUTPUT

Runs `MEDSCHED --help` for the global usage and the list of commands, then
`MEDSCHED <command> [<subcommand>] --help` for each command listed, and
turns what they print into one manual page: NAME, SYNOPSIS, DESCRIPTION
(the global help), a COMMANDS section with one subsection per command (its
usage line, summary and options, exactly as --help words them), then the
files a Debian installation uses. The page therefore says what the binary
says, and a command added to the program appears in the page at the next
build. A command that does not answer --help with exit status 0 fails the
build. SYSCONFDIR and CALENDARS are the installed paths named under FILES.

Runs with LC_ALL=C.UTF-8 and no $LANGUAGE, so the page is in English
whatever the build machine's locale; no database is opened (MEDSCHED_DB
points at a file that is never created). The date on the page comes from
$SOURCE_DATE_EPOCH when set (reproducible builds), else it is left out.
"""

import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Where the global help's command list starts its summaries: "  %-22s "
# (src/cli/medsched.c); a longer name runs into that column.
SUMMARY_COLUMN = 25


def run_help(exe, words, env):
    p = subprocess.run([exe, *words, "--help"], capture_output=True,
                       text=True, env=env, timeout=60)
    if p.returncode != 0:
        sys.exit("gen-man: `medsched %s --help` exited %d: %s"
                 % (" ".join(words), p.returncode, p.stderr.strip()))
    if p.stderr.strip():
        sys.exit("gen-man: `medsched %s --help` wrote to stderr: %s"
                 % (" ".join(words), p.stderr.strip()))
    return p.stdout


def roff(text):
    """Escapes running text for roff: backslashes, and a leading dot or
    apostrophe (which would start a request)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def parse_global(text):
    """The global --help: (usage, paragraphs before the list, commands as
    (words, summary), paragraphs after)."""
    lines = text.rstrip("\n").split("\n")
    usage = lines[0]
    if not usage.startswith("Usage: "):
        sys.exit("gen-man: unexpected global help: %r" % usage)
    usage = usage[len("Usage: "):]
    before, after, commands = [], [], []
    state = "before"
    para = []

    def flush(where):
        if para:
            where.append(" ".join(s.strip() for s in para))
            para.clear()

    for line in lines[1:]:
        if line.strip() == "Commands:":
            flush(before)
            state = "commands"
            continue
        if state == "commands":
            if line.startswith("  ") and line.strip():
                cut = line.find(" ", SUMMARY_COLUMN - 1)
                name, summary = line[2:cut].strip(), line[cut:].strip()
                if not re.fullmatch(r"[a-z][a-z-]*( [a-z][a-z-]*)?", name):
                    sys.exit("gen-man: cannot read command line %r" % line)
                commands.append((name.split(" "), summary))
                continue
            state = "after"
        target = before if state == "before" else after
        if line.strip():
            para.append(line)
        else:
            flush(target)
    flush(after if state == "after" else before)
    if not commands:
        sys.exit("gen-man: the global help lists no commands")
    return usage, before, commands, after


def parse_command(text):
    """A GOption --help: (usage, [paragraph], [(option, description)])."""
    blocks, cur = [], []
    for line in text.rstrip("\n").split("\n"):
        if line.strip():
            cur.append(line)
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    usage, paras, options = None, [], []
    for block in blocks:
        head = block[0].strip()
        if head == "Usage:":
            usage = " ".join(s.strip() for s in block[1:])
        elif head == "Help Options:":
            continue  # -h, --help: the same for every command
        elif head.endswith("Options:"):
            for line in block[1:]:
                m = re.match(r"\s+(\S.*?)(?:\s{2,}(\S.*))?$", line)
                if not m:
                    sys.exit("gen-man: cannot read option line %r" % line)
                options.append((m.group(1), m.group(2) or ""))
        else:
            paras.append(" ".join(s.strip() for s in block))
    if usage is None:
        sys.exit("gen-man: a command's help has no usage: %r" % text[:200])
    return usage, paras, options


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    exe, version, sysconfdir, calendars, output = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="medsched-man-")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LC_", "LANG", "MEDSCHED"))}
    env.update(LC_ALL="C.UTF-8", MEDSCHED_DB=os.path.join(tmp, "none.db"))
    usage, before, commands, after = parse_global(run_help(exe, [], env))

    out = []
    date = ""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        date = datetime.datetime.fromtimestamp(
            int(os.environ["SOURCE_DATE_EPOCH"]),
            datetime.timezone.utc).strftime("%Y-%m-%d")
    out.append('.TH MEDSCHED 1 "%s" "medsched %s" "User Commands"'
               % (date, version))
    out.append(".\\\" Generated by man/gen-man.py from `medsched --help` and")
    out.append(".\\\" each command's --help; do not edit.")
    out.append(".SH NAME")
    out.append("medsched \\- %s" % roff(before[0] if before else
                                        "court mediation scheduler"))
    out.append(".SH SYNOPSIS")
    out.append(".B medsched")
    out.append(roff(usage.split(" ", 1)[1] if " " in usage else ""))
    out.append(".SH DESCRIPTION")
    for p in before[1:] + after:
        out.append(".PP")
        out.append(roff(p))
    out.append(".PP")
    out.append("The commands, each described under")
    out.append(".B COMMANDS")
    out.append("below:")
    for words, summary in commands:
        out.append(".TP")
        out.append(".B %s" % roff(" ".join(words)))
        out.append(roff(summary))
    out.append(".SH COMMANDS")
    for words, summary in commands:
        cusage, paras, options = parse_command(run_help(exe, words, env))
        out.append('.SS "%s"' % roff(" ".join(words)))
        out.append(".B medsched")
        out.append("[\\fIGLOBAL OPTIONS\\fR]")
        out.append(roff(cusage))
        for p in paras:
            out.append(".PP")
            out.append(roff(p))
        for opt, desc in options:
            out.append(".TP")
            out.append(".B %s" % roff(opt))
            out.append(roff(desc))
    out.append(".SH FILES")
    for path, what in (
            (sysconfdir + "/medsched/serve.conf",
             "settings of medsched serve; see medsched-serve.conf(5)"),
            ("/var/lib/medsched/medsched.db",
             "the centre's database when medsched runs as a service"),
            ("/var/lib/medsched/recordings",
             "recordings made by medsched serve"),
            ("/var/lib/medsched/backups", "the nightly backups"),
            (calendars,
             "holiday notices that init imports when --calendars is not "
             "given")):
        out.append(".TP")
        out.append(".I %s" % path)
        out.append(roff(what))
    out.append(".SH SEE ALSO")
    out.append(".BR medsched-serve.conf (5),")
    out.append(".BR systemctl (1),")
    out.append(".BR nginx (8),")
    out.append(".BR turnserver (1)")
    out.append(".PP")
    out.append("The documentation in")
    out.append(".IR /usr/share/doc/medsched/ .")
    shutil.rmtree(tmp)
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
