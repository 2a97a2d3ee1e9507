# SPDX-License-Identifier: GPL-3.0-or-later
"""po/pofile.py — reads the .po files of po/ (the subset of the format
that xgettext and msgmerge write: comments, msgctxt, msgid, msgid_plural,
msgstr, msgstr[N], continued strings), for po/review-bo.py and tests/po/test-po.py."""
import os


class Entry:
    def __init__(self):
        self.msgctxt = None
        self.msgid = ''
        self.msgid_plural = None
        self.msgstr = ''  # of a plural entry: msgstr[0]
        self.msgstrs = []  # of a plural entry: msgstr[0], msgstr[1], …
        self.refs = []
        self.flags = set()
        self.reviewed = False
        self.obsolete = False


def unquote(s):
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    s = s[1:-1]
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            n = s[i + 1]
            out.append({'n': '\n', 't': '\t', '"': '"', '\\': '\\'}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def read(path):
    entries, e, field = [], Entry(), None
    for line in open(path, encoding='utf-8').read().split('\n') + ['']:
        if not line.strip():
            if field is not None:
                entries.append(e)
            e, field = Entry(), None
            continue
        if line.startswith('#~'):
            e.obsolete = True
            continue
        if line.startswith('#:'):
            e.refs += line[2:].split()
        elif line.startswith('#,'):
            e.flags |= {f.strip() for f in line[2:].split(',')}
        elif line.startswith('#') and 'reviewed-by:' in line:
            e.reviewed = True
        elif line.startswith('#'):
            pass
        elif line.startswith('msgctxt '):
            field, e.msgctxt = 'msgctxt', unquote(line[8:])
        elif line.startswith('msgid '):
            field, e.msgid = 'msgid', unquote(line[6:])
        elif line.startswith('msgid_plural '):
            field, e.msgid_plural = 'msgid_plural', unquote(line[13:])
        elif line.startswith('msgstr '):
            field, e.msgstr = 'msgstr', unquote(line[7:])
        elif line.startswith('msgstr['):
            n = int(line[7:line.index(']')])
            value = unquote(line[line.index(']') + 1:])
            while len(e.msgstrs) <= n:
                e.msgstrs.append('')
            e.msgstrs[n] = value
            field = ('msgstrs', n)
            if n == 0:
                e.msgstr = value
        elif line.startswith('"') and isinstance(field, tuple):
            e.msgstrs[field[1]] += unquote(line)
            if field[1] == 0:
                e.msgstr = e.msgstrs[0]
        elif line.startswith('"'):
            setattr(e, field, getattr(e, field) + unquote(line))
    return [x for x in entries if not x.obsolete]


def party_facing_files(podir):
    """The sources whose every string a party may read (po/PARTY-FACING)."""
    out = set()
    for line in open(os.path.join(podir, 'PARTY-FACING'), encoding='utf-8'):
        line = line.strip()
        if line and not line.startswith('#'):
            out.add(line)
    return out
