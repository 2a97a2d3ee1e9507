#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/po/test-po.py — the message catalogues (po/) a court can trust:
msgfmt --check is clean for every language; the catalogues hold every
string the sources mark (xgettext over po/POTFILES, as meson's i18n
module runs it); every party-facing string (po/PARTY-FACING) is translated
into Tibetan and Chinese, none fuzzy; every string of the command line
(src/cli/) is translated into Chinese; po/REVIEW-bo.md lists the current
unreviewed Tibetan. TAP output."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PO = os.path.join(ROOT, 'po')
sys.path.insert(0, PO)
import pofile  # noqa: E402

results = []


def ok(cond, what, detail=''):
    results.append(bool(cond))
    print('%s %d - %s' % ('ok' if cond else 'not ok', len(results), what))
    if not cond and detail:
        for line in str(detail).splitlines()[:40]:
            print('#   ' + line)


def xgettext(files):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'x.pot')
        r = subprocess.run(['xgettext', '--from-code=UTF-8', '--keyword=_',
                            '--keyword=N_', '--keyword=T', '--keyword=P_:1,2',
                            '--keyword=C_:1c,2',
                            '--directory=' + ROOT, '-o', out] + files,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit('xgettext failed: ' + r.stderr)
        return [e.msgid for e in pofile.read(out) if e.msgid] \
            if os.path.exists(out) \
            else []


def main():
    langs = [l.strip() for l in open(os.path.join(PO, 'LINGUAS'))
             if l.strip() and not l.startswith('#')]
    ok(set(langs) >= {'zh_CN', 'bo', 'en'}, 'po/LINGUAS has zh_CN, bo, en')
    cats = {}
    for lang in langs:
        path = os.path.join(PO, lang + '.po')
        r = subprocess.run(['msgfmt', '--check', '--check-format',
                            '--check-header', '-o', os.devnull, path],
                           capture_output=True, text=True)
        ok(r.returncode == 0 and r.stderr.strip() == '',
           'msgfmt --check is clean for %s.po' % lang, r.stderr)
        cats[lang] = {e.msgid: e for e in pofile.read(path) if e.msgid}

    sources = [l.strip() for l in open(os.path.join(PO, 'POTFILES'))
               if l.strip() and not l.startswith('#')]
    ids = xgettext(sources)
    ok(len(ids) > 200, 'xgettext finds the strings (%d)' % len(ids))
    for lang in langs:
        missing = [i for i in ids if i not in cats[lang]]
        ok(not missing, '%s.po holds every marked string (run meson '
           'compile medsched-update-po)' % lang, '\n'.join(missing))

    party = sorted(pofile.party_facing_files(PO))
    ok(all(p in sources for p in party),
       'every party-facing file is in po/POTFILES')
    pids = xgettext(party)
    ok(len(pids) > 100, 'party-facing strings found (%d)' % len(pids))
    for lang in ('bo', 'zh_CN'):
        bad = [i for i in pids if i not in cats[lang]
               or not cats[lang][i].msgstr
               or 'fuzzy' in cats[lang][i].flags]
        ok(not bad, 'every party-facing string is translated into %s '
           '(%d)' % (lang, len(pids)), '\n'.join(bad))

    # the command line speaks Chinese whole (Tibetan may fall back to it)
    cli = [f for f in sources if f.startswith('src/cli/')]
    ok(cli, 'po/POTFILES lists the command line (src/cli/)')
    cids = xgettext(cli)
    bad = [i for i in cids if i not in cats['zh_CN']
           or not cats['zh_CN'][i].msgstr
           or 'fuzzy' in cats['zh_CN'][i].flags]
    ok(cids and not bad, 'every string of the command line is translated '
       'into zh_CN (%d)' % len(cids), '\n'.join(bad))

    r = subprocess.run([sys.executable, os.path.join(PO, 'review-bo.py'),
                        '--check'], capture_output=True, text=True)
    ok(r.returncode == 0, 'po/REVIEW-bo.md is current', r.stdout)

    print('1..%d' % len(results))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
