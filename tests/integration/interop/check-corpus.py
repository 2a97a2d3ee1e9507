#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check-corpus.py — reads the interoperability corpus written by
gen-corpus with Debian's python3-icalendar and python3-vobject and
compares what they see with manifest.json: the UTC instants of every
DTSTART/DTEND (and FREEBUSY period), no floating times, the METHOD, the
number of ATTENDEEs, and for external busy calendars the occurrences after
RRULE, EXDATE and RECURRENCE-ID (vobject; python3-icalendar 4.0.3 does not
expand recurrences, so for it the events themselves are compared).

Usage: check-corpus.py CORPUS_DIR PARSER, PARSER one of icalendar, vobject.
Prints one JSON object: {"parser", "files", "events", "occurrences",
"problems": [...]}; exit status 1 when there are problems.
"""

import datetime
import json
import os
import sys

UTC = datetime.timezone.utc


def epoch(dt, what, problems, name):
    if not isinstance(dt, datetime.datetime):
        problems.append("%s: %s is a %s, not a date-time"
                        % (name, what, type(dt).__name__))
        return None
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        problems.append("%s: %s is floating (%s)" % (name, what, dt))
        return None
    return int(dt.timestamp())


def spans_equal(got, want):
    return sorted(tuple(x) for x in got) == sorted(tuple(x) for x in want)


# ---- python3-icalendar -------------------------------------------------------

def check_icalendar(path, entry, problems):
    import icalendar

    name = entry["file"]
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    method = cal.get("METHOD")
    method = str(method) if method is not None else None
    if method != entry["method"]:
        problems.append("%s: METHOD %s, want %s" % (name, method,
                                                    entry["method"]))
    got = []
    if entry["kind"] == "freebusy":
        for fb in cal.walk("VFREEBUSY"):
            values = fb.get("FREEBUSY", [])
            if not isinstance(values, list):
                values = [values]
            for v in values:
                start, end = v.start, v.end
                if v.by_duration or end is None:
                    end = start + v.duration
                s = epoch(start, "FREEBUSY start", problems, name)
                e = epoch(end, "FREEBUSY end", problems, name)
                got.append((s, e))
        if not spans_equal(got, entry["busy"]):
            problems.append("%s: FREEBUSY %s, want %s"
                            % (name, got[:3], entry["busy"][:3]))
        return len(got)
    events = cal.walk("VEVENT")
    for ev in events:
        s = epoch(ev.decoded("DTSTART"), "DTSTART", problems, name)
        e = epoch(ev.decoded("DTEND"), "DTEND", problems, name)
        got.append((s, e))
    if not spans_equal(got, entry["events"]):
        problems.append("%s: events %s, want %s"
                        % (name, sorted(got)[:3], entry["events"][:3]))
    if entry["attendees"] >= 0 and events:
        att = events[0].get("ATTENDEE", [])
        n = len(att) if isinstance(att, list) else 1
        if n != entry["attendees"]:
            problems.append("%s: %d ATTENDEEs, want %d"
                            % (name, n, entry["attendees"]))
    return len(got)


# ---- python3-vobject ----------------------------------------------------------

def vobject_occurrences(cal, window, problems, name):
    """Busy occurrences (start, end) in window, as a calendar client would
    show them: RRULE/RDATE/EXDATE expanded, RECURRENCE-ID overrides in
    place of the occurrence they replace, free and cancelled events left
    out."""
    lo = datetime.datetime.fromtimestamp(window[0], UTC)
    hi = datetime.datetime.fromtimestamp(window[1], UTC)
    masters, overrides = [], {}
    for ev in cal.vevent_list:
        if hasattr(ev, "recurrence_id"):
            rid = epoch(ev.recurrence_id.value, "RECURRENCE-ID", problems,
                        name)
            overrides[(ev.uid.value, rid)] = ev
        else:
            masters.append(ev)

    def is_busy(ev):
        transp = ev.transp.value.upper() if hasattr(ev, "transp") else ""
        status = ev.status.value.upper() if hasattr(ev, "status") else ""
        return transp != "TRANSPARENT" and status != "CANCELLED"

    out = []
    for ev in masters:
        start = ev.dtstart.value
        length = ev.dtend.value - start
        if hasattr(ev, "rrule") or hasattr(ev, "rdate"):
            starts = list(ev.getrruleset(addRDate=True).between(
                lo - length, hi, inc=True))
        else:
            starts = [start]
        for st in starts:
            key = (ev.uid.value, epoch(st, "occurrence", problems, name))
            o = overrides.get(key)
            if o is not None:
                if is_busy(o):
                    out.append((epoch(o.dtstart.value, "DTSTART", problems,
                                      name),
                                epoch(o.dtend.value, "DTEND", problems,
                                      name)))
            elif is_busy(ev):
                out.append((key[1], key[1] + int(length.total_seconds())))
    return [x for x in out if x[1] > window[0] and x[0] < window[1]]


def forget_zones():
    """vobject keeps the first VTIMEZONE it meets per TZID in a
    process-wide map and uses it for every later file with that TZID: each
    file is read here as if alone (see docs/ical.md for what that means
    for servers such as Radicale)."""
    import vobject.icalendar as vi

    zones = vi.__dict__["__tzidMap"]
    zones.clear()
    vi.registerTzid("UTC", vi.utc)


def check_vobject(path, entry, problems):
    import vobject

    forget_zones()
    name = entry["file"]
    with open(path, encoding="utf-8", newline="") as f:
        cal = vobject.readOne(f.read())
    method = cal.method.value if hasattr(cal, "method") else None
    if method != entry["method"]:
        problems.append("%s: METHOD %s, want %s" % (name, method,
                                                    entry["method"]))
    got = []
    if entry["kind"] == "freebusy":
        for fb in getattr(cal, "vfreebusy_list", []):
            for prop in getattr(fb, "freebusy_list", []):
                for start, end in prop.value:
                    if isinstance(end, datetime.timedelta):
                        end = start + end
                    got.append((epoch(start, "FREEBUSY start", problems,
                                      name),
                                epoch(end, "FREEBUSY end", problems, name)))
        if not spans_equal(got, entry["busy"]):
            problems.append("%s: FREEBUSY %s, want %s"
                            % (name, got[:3], entry["busy"][:3]))
        return len(got), 0
    events = getattr(cal, "vevent_list", [])
    for ev in events:
        got.append((epoch(ev.dtstart.value, "DTSTART", problems, name),
                    epoch(ev.dtend.value, "DTEND", problems, name)))
    if not spans_equal(got, entry["events"]):
        problems.append("%s: events %s, want %s"
                        % (name, sorted(got)[:3], entry["events"][:3]))
    if entry["attendees"] >= 0 and events:
        n = len(getattr(events[0], "attendee_list", []))
        if n != entry["attendees"]:
            problems.append("%s: %d ATTENDEEs, want %d"
                            % (name, n, entry["attendees"]))
    n_occ = 0
    if "occurrences" in entry:
        occ = vobject_occurrences(cal, entry["window"], problems, name)
        n_occ = len(occ)
        if not spans_equal(occ, entry["occurrences"]):
            problems.append("%s: %d occurrences differ from medsched's %d "
                            "(first %s, want %s)"
                            % (name, len(occ), len(entry["occurrences"]),
                               sorted(occ)[:2], entry["occurrences"][:2]))
    return len(got), n_occ


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("icalendar", "vobject"):
        print("usage: check-corpus.py CORPUS_DIR icalendar|vobject",
              file=sys.stderr)
        return 2
    corpus, parser = sys.argv[1], sys.argv[2]
    with open(os.path.join(corpus, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    problems, n_files, n_events, n_occ = [], 0, 0, 0
    for entry in manifest["files"]:
        path = os.path.join(corpus, entry["file"])
        try:
            if parser == "icalendar":
                n_events += check_icalendar(path, entry, problems)
            else:
                e, o = check_vobject(path, entry, problems)
                n_events += e
                n_occ += o
        except Exception as e:  # a parser failing on a file is a finding
            problems.append("%s: %s does not read it: %s: %s"
                            % (entry["file"], parser, type(e).__name__, e))
        n_files += 1
    print(json.dumps({"parser": parser, "files": n_files,
                      "events": n_events, "occurrences": n_occ,
                      "problems": problems}, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
