/* SPDX-License-Identifier: GPL-3.0-or-later */
// check-corpus.mjs — reads the interoperability corpus written by
// gen-corpus with ical.js (the parser Thunderbird uses; npm, pinned by
// package-lock.json, installed by scripts/deps) and compares what it sees
// with manifest.json: the UTC instants of every DTSTART/DTEND (and
// FREEBUSY period), no floating times, the METHOD, the number of
// ATTENDEEs, and for external busy calendars the occurrences after RRULE,
// EXDATE and RECURRENCE-ID.
//
// Each file's own VTIMEZONEs are registered before its times are read,
// as a client importing it would; nothing else is known about zones.
//
// Usage: node check-corpus.mjs CORPUS_DIR
// Prints one JSON object: {"parser", "files", "events", "occurrences",
// "problems": [...]}; exit status 1 when there are problems.

import ICAL from "ical.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node check-corpus.mjs CORPUS_DIR");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const problems = [];
let nFiles = 0;
let nEvents = 0;
let nOcc = 0;

function epoch(time, what, name) {
  if (!time || !time.zone || time.zone === ICAL.Timezone.localTimezone) {
    problems.push(`${name}: ${what} is floating (${time})`);
    return null;
  }
  if (time.isDate) {
    problems.push(`${name}: ${what} is a date, not a date-time`);
    return null;
  }
  return time.toUnixTime();
}

function sameSpans(got, want) {
  const key = (l) => l.map((x) => `${x[0]}/${x[1]}`).sort().join(",");
  return key(got) === key(want);
}

function isBusy(comp) {
  const transp = String(comp.getFirstPropertyValue("transp") || "");
  const status = String(comp.getFirstPropertyValue("status") || "");
  return transp.toUpperCase() !== "TRANSPARENT" &&
    status.toUpperCase() !== "CANCELLED";
}

function occurrences(vevents, window, name) {
  const masters = [];
  const exceptions = [];
  for (const v of vevents) {
    (v.hasProperty("recurrence-id") ? exceptions : masters).push(v);
  }
  const out = [];
  for (const m of masters) {
    const ev = new ICAL.Event(m);
    for (const x of exceptions) {
      if (x.getFirstPropertyValue("uid") === ev.uid) {
        ev.relateException(x);
      }
    }
    if (!ev.isRecurring()) {
      if (isBusy(m)) {
        out.push([epoch(ev.startDate, "DTSTART", name),
          epoch(ev.endDate, "DTEND", name)]);
      }
      continue;
    }
    const it = ev.iterator();
    for (let i = 0, next; i < 100000 && (next = it.next()); i++) {
      if (next.toUnixTime() >= window[1]) {
        break;
      }
      const d = ev.getOccurrenceDetails(next);
      if (isBusy(d.item.component)) {
        out.push([epoch(d.startDate, "occurrence start", name),
          epoch(d.endDate, "occurrence end", name)]);
      }
    }
  }
  return out.filter((x) => x[1] > window[0] && x[0] < window[1]);
}

function check(entry) {
  const name = entry.file;
  const text = readFileSync(join(dir, name), "utf8");
  const cal = new ICAL.Component(ICAL.parse(text));
  ICAL.TimezoneService.reset();
  for (const vtz of cal.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
  }
  const method = cal.getFirstPropertyValue("method");
  if ((method ?? null) !== entry.method) {
    problems.push(`${name}: METHOD ${method}, want ${entry.method}`);
  }
  const got = [];
  if (entry.kind === "freebusy") {
    for (const fb of cal.getAllSubcomponents("vfreebusy")) {
      for (const prop of fb.getAllProperties("freebusy")) {
        for (const p of prop.getValues()) {
          got.push([epoch(p.start, "FREEBUSY start", name),
            epoch(p.getEnd(), "FREEBUSY end", name)]);
        }
      }
    }
    if (!sameSpans(got, entry.busy)) {
      problems.push(`${name}: FREEBUSY ${JSON.stringify(got.slice(0, 3))}, ` +
        `want ${JSON.stringify(entry.busy.slice(0, 3))}`);
    }
    nEvents += got.length;
    return;
  }
  const vevents = cal.getAllSubcomponents("vevent");
  for (const v of vevents) {
    const ev = new ICAL.Event(v);
    got.push([epoch(ev.startDate, "DTSTART", name),
      epoch(ev.endDate, "DTEND", name)]);
  }
  nEvents += got.length;
  if (!sameSpans(got, entry.events)) {
    problems.push(`${name}: events ${JSON.stringify(got.slice(0, 3))}, ` +
      `want ${JSON.stringify(entry.events.slice(0, 3))}`);
  }
  if (entry.attendees >= 0 && vevents.length > 0) {
    const n = vevents[0].getAllProperties("attendee").length;
    if (n !== entry.attendees) {
      problems.push(`${name}: ${n} ATTENDEEs, want ${entry.attendees}`);
    }
  }
  if (entry.occurrences) {
    const occ = occurrences(vevents, entry.window, name);
    nOcc += occ.length;
    if (!sameSpans(occ, entry.occurrences)) {
      problems.push(`${name}: ${occ.length} occurrences differ from ` +
        `medsched's ${entry.occurrences.length}`);
    }
  }
}

for (const entry of manifest.files) {
  try {
    check(entry);
  } catch (e) {
    problems.push(`${entry.file}: ical.js does not read it: ${e}`);
  }
  nFiles++;
}
console.log(JSON.stringify({ parser: "ical.js", files: nFiles,
  events: nEvents, occurrences: nOcc, problems }));
process.exit(problems.length ? 1 : 0);
