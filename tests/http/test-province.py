#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-province.py — a province in one database: two centres in one store
(a SQLite file, or under tests/pg/pgserver.py one PostgreSQL database),
each served by a `medsched serve` of its own, and neither reaching the
other.

Centre A (1) is made by init, centre B (2) by `centre add`; each gets
rooms, mediators and cases by import, and users, tokens and feed links of
its own. Then, on B's serve:

- A's clerk's token is refused (401) on the API and on the console's
  WebSocket; A's clerk cannot sign in (401, as a wrong password); A's
  session cookie signs nobody in (API 401, pages to /login); and the
  other way round on A's serve;
- A's case, booking, recording, feed link and join link answer 404 as
  missing ones do, on the API, the pages and the WebSockets; a feed link
  cannot be made for A's room, nor a booking with A's room or mediator;
- the same time in both centres' rooms books in both (rooms and mediators
  are per centre), while one person (a party's contact) in both centres
  at once is refused (409);
- serve refuses to start for a centre the store does not hold;
- afterwards the store passes `check` and one audit chain verifies.

Positive controls on A's serve show each id and token works where it
belongs, so every 404 above is about the centre. TAP."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import urllib.parse

from httptest import (CENTRE_DOC, Centre, Server, Tap, json_of, request,
                      ws_upgrade)

B_NAME = "日喀则市桑珠孜区调解中心"


def doc_b():
    """B's rooms (named as A's: names are per centre), mediators and cases:
    two with their own parties, one whose party is A's case 0's person."""
    doc = dict(CENTRE_DOC)
    doc["mediators"] = [
        {"name": "达瓦", "languages": ["zh", "bo"],
         "specialties": ["wages", "neighbour", "contract", "land"],
         "daily_cap": 24},
        {"name": "李娜", "languages": ["zh"],
         "specialties": ["wages", "contract"], "daily_cap": 24},
    ]
    doc["cases"] = [{
        "number": "B-%05d" % i, "kind": "wages",
        "department": "court-mediation",
        "parties": [{"name": "乙%d" % i, "role": "applicant",
                     "language": "zh", "contact": "1390000%04d" % i}],
    } for i in range(2)] + [{
        "number": "B-SAME", "kind": "wages", "department": "court-mediation",
        "parties": [{"name": "甲0", "role": "applicant", "language": "zh",
                     "contact": "13800000000"}],
    }]
    return doc


def http_call(port, method, path, body=None, headers=None):
    """One request; (status, [(header, value)…], body) with every header
    kept (two Set-Cookie lines among them)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, r.getheaders(), data


def cookies_of(headers):
    out = {}
    for k, v in headers:
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            out[name.strip()] = rest.split(";", 1)[0]
    return out


def login(port, name, password):
    """Signs in through the login form: (status, the session cookie or
    None)."""
    st, h, _ = http_call(port, "GET", "/login")
    pre = cookies_of(h).get("medsched_login")
    form = urllib.parse.urlencode({"username": name, "password": password,
                                   "csrf": pre or "", "next": "/"})
    st, h, _ = http_call(port, "POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "medsched_login=%s" % pre})
    sid = cookies_of(h).get("medsched_session")
    return st, ("medsched_session=%s" % sid) if sid else None


def book(port, token, case_id, start, room, mediator):
    return request(port, "POST", "/api/v1/bookings", token=token,
                   body={"case_id": case_id, "start": start,
                         "room_id": room, "mediator_id": mediator})


def main():
    tap = Tap()
    a = Centre(tap, n_cases=2)
    try:
        run(tap, a)
    finally:
        a.close()
    return tap.done()


def run(tap, a):
    # ---- the province: centre 2 beside centre 1 --------------------------
    out = a.cli("centre", "add", "--name", B_NAME, "--layers", "CN,CN-XZ-LS",
                "--hours", "09:00-12:00,14:30-18:00", "--public-url",
                "https://sangzhuzi.example.cn")
    tap.ok("added centre 2" in out, "centre add makes centre 2", out)
    listed = json_of(a.cli("centre", "list", "--json").encode())
    tap.ok([c["id"] for c in listed or []] == [1, 2]
           and listed[1]["name"] == B_NAME,
           "centre list shows both centres", listed)
    path = os.path.join(a.dir, "centre-b.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc_b(), f, ensure_ascii=False)
    a.cli("--centre", "2", "import", path)
    rooms_b = json_of(a.cli("--centre", "2", "room", "list",
                            "--json").encode())
    meds_b = json_of(a.cli("--centre", "2", "mediator", "list",
                           "--json").encode())
    cases_b = json_of(a.cli("--centre", "2", "case", "list",
                            "--json").encode())
    room_b, med_b = rooms_b[0]["id"], meds_b[0]["id"]
    case_b = {c["number"]: c["id"] for c in cases_b}
    tap.ok(room_b > 4 and med_b > 2 and len(case_b) == 3,
           "B's rooms, mediators and cases have ids of their own",
           (rooms_b, meds_b, cases_b))
    tok_b = {}
    for name, role, extra in (("adminb", "admin", []),
                              ("clerkb", "clerk", []),
                              ("dawa", "mediator", ["--mediator",
                                                    str(med_b)])):
        a.cli("--centre", "2", "user", "add", name, "--role", role,
              "--iterations", "1000", *extra, input="password-%s\n" % name)
        tok_b[name] = a.cli("--centre", "2", "user", "token", name).strip()
    p = subprocess.run([a.bin, "--db", a.db, "--centre", "2", "user", "add",
                        "odd", "--role", "mediator", "--mediator", "1",
                        "--iterations", "1000"], input="password-odd\n",
                       capture_output=True, text=True, env=a.env)
    tap.ok(p.returncode == 1 and "no mediator 1 in centre 2" in p.stderr,
           "a mediator user of centre 2 cannot be centre 1's mediator",
           p.stderr)
    tok_a = a.tokens

    srv_a = Server(a)
    srv_b = Server(a, globals=("--centre", "2"))
    pa, pb = srv_a.port, srv_b.port
    try:
        check(tap, a, pa, pb, tok_a, tok_b, room_b, med_b, case_b)
    finally:
        rc_a, err_a = srv_a.stop()
        rc_b, err_b = srv_b.stop()
    tap.ok(rc_a == 0 and rc_b == 0, "both servers stop cleanly",
           err_a + err_b)
    tap.ok("CRITICAL" not in err_a + err_b, "no CRITICAL in their logs")

    # ---- serve for a centre the store does not hold ----------------------
    p = subprocess.run([a.bin, "--db", a.db, "--centre", "3", "serve",
                        "--listen", "127.0.0.1:0"], capture_output=True,
                       text=True, env=a.env, timeout=60)
    tap.ok(p.returncode == 1 and "no centre 3" in p.stderr,
           "serve refuses a centre the store does not hold",
           (p.returncode, p.stderr))

    # ---- one store, one chain --------------------------------------------
    tap.ok("database ok" in a.cli("check"), "check passes on the province")
    v = a.cli("audit", "verify")
    tap.ok("intact" in v, "one audit chain verifies", v)


def check(tap, a, pa, pb, tok_a, tok_b, room_b, med_b, case_b):
    clerk_a, clerk_b = tok_a["clerk"], tok_b["clerkb"]

    # ---- the same time in both centres -----------------------------------
    st, _, body = book(pa, clerk_a, 1, "2026-12-07T09:00", 1, 1)
    booking_a = (json_of(body) or {}).get("booking", {}).get("id")
    tap.ok(st == 201 and booking_a, "A books 09:00 in its room 1", body[:300])
    st, _, body = book(pb, clerk_b, case_b["B-00000"], "2026-12-07T09:00",
                       room_b, med_b)
    booking_b = (json_of(body) or {}).get("booking", {}).get("id")
    tap.ok(st == 201 and booking_b,
           "B books the same time in its own room: no conflict", body[:300])
    st, _, body = book(pb, clerk_b, case_b["B-SAME"], "2026-12-07T09:00",
                       room_b + 1, meds_b_second(a))
    err = (json_of(body) or {}).get("error", {})
    tap.ok(st == 409 and err.get("conflict", {}).get("resource") == "party",
           "one person in both centres at once is refused (409, party)",
           body[:300])
    st, _, body = book(pb, clerk_b, case_b["B-00001"], "2026-12-07T10:00",
                       1, med_b)
    tap.ok(st in (404, 422) and b"room" in body,
           "B cannot book A's room", (st, body[:300]))
    st, _, body = book(pb, clerk_b, case_b["B-00001"], "2026-12-07T10:00",
                       room_b, 1)
    tap.ok(st in (404, 422) and b"mediator" in body,
           "B cannot book A's mediator", (st, body[:300]))
    st, _, body = book(pb, clerk_b, 2, "2026-12-07T10:00", room_b, med_b)
    tap.ok(st == 404, "B cannot book A's case", (st, body[:300]))

    # ---- users of one centre on the other's serve ------------------------
    st, _, _ = request(pb, "GET", "/api/v1/cases", token=clerk_a)
    tap.ok(st == 401, "A's clerk's token is refused by B's serve (401)")
    st, _, _ = request(pa, "GET", "/api/v1/cases", token=clerk_b)
    tap.ok(st == 401, "B's clerk's token is refused by A's serve (401)")
    st, _, body = request(pb, "GET", "/api/v1/cases", token=clerk_b)
    listed = json_of(body) or []
    tap.ok(st == 200 and sorted(c["id"] for c in listed)
           == sorted(case_b.values()),
           "B's clerk lists B's cases only", body[:300])
    st, _ = login(pb, "clerk", "password-clerk")
    tap.ok(st == 401, "A's clerk cannot sign in on B's serve (401)")
    st, cookie_b = login(pb, "clerkb", "password-clerkb")
    tap.ok(st == 303 and cookie_b, "B's clerk signs in on B's serve")
    st, cookie_a = login(pa, "clerk", "password-clerk")
    tap.ok(st == 303 and cookie_a, "A's clerk signs in on A's serve")
    st, _, _ = request(pb, "GET", "/api/v1/cases",
                       headers={"Cookie": cookie_a})
    tap.ok(st == 401, "A's session opens nothing on B's API (401)")
    st, h, _ = request(pb, "GET", "/board", headers={"Cookie": cookie_a})
    tap.ok(st == 303 and "/login" in h.get("location", ""),
           "A's session cookie on B's pages goes to the login page",
           (st, h.get("location")))
    st, _, _ = request(pb, "GET", "/board", headers={"Cookie": cookie_b})
    tap.ok(st == 200, "B's session shows B's board")

    # ---- WebSockets ------------------------------------------------------
    st, frame = ws_upgrade(pb, "/ws/console/%d" % booking_b,
                           token=tok_b["adminb"])
    tap.ok(st == 101 and frame and '"welcome"' in frame,
           "B's admin opens B's console (101, welcome)", (st, frame))
    st, _ = ws_upgrade(pb, "/ws/console/%d" % booking_b, token=tok_a["admin"])
    tap.ok(st == 401, "A's admin's token opens no console on B (401)", st)
    st, _ = ws_upgrade(pb, "/ws/console/%d" % booking_b, cookie=cookie_a)
    tap.ok(st == 401, "A's session opens no console on B (401)", st)
    st, _ = ws_upgrade(pb, "/ws/console/%d" % booking_a,
                       token=tok_b["adminb"])
    tap.ok(st == 404, "A's booking's console is 404 on B", st)
    st, _ = ws_upgrade(pb, "/ws/console/%d" % booking_a, cookie=cookie_b)
    tap.ok(st == 404, "… with B's session too", st)

    # ---- A's ids on B's serve --------------------------------------------
    for path in ("/api/v1/cases/1", "/api/v1/cases/2",
                 "/api/v1/bookings/%d" % booking_a,
                 "/api/v1/bookings/%d/links" % booking_a,
                 "/api/v1/bookings/%d/invite.ics" % booking_a,
                 "/api/v1/bookings/%d/recordings" % booking_a):
        st, _, body = request(pa, "GET", path, token=clerk_a)
        ok_a = st == 200
        st, _, body = request(pb, "GET", path, token=clerk_b)
        tap.ok(ok_a and st == 404, "GET %s: 200 on A, 404 on B" % path,
               (st, body[:200]))
    st, _, body = request(pb, "POST", "/api/v1/bookings/%d/cancel" % booking_a,
                          token=clerk_b, body={})
    tap.ok(st == 404, "B cannot cancel A's booking", (st, body[:200]))
    st, _, body = request(pb, "POST", "/api/v1/cases/1/status",
                          token=clerk_b, body={"status": "withdrawn"})
    tap.ok(st == 404, "B cannot change A's case", (st, body[:200]))
    missing = request(pb, "GET", "/api/v1/cases/99999", token=clerk_b)
    other = request(pb, "GET", "/api/v1/cases/1", token=clerk_b)
    tap.ok(json_of(missing[2])["error"]["message"].replace("99999", "N")
           == json_of(other[2])["error"]["message"].replace("1", "N", 1),
           "another centre's case answers as a missing one",
           (missing[2], other[2]))
    for path in ("/cases/1", "/bookings/%d/console" % booking_a):
        st, _, _ = request(pa, "GET", path, headers={"Cookie": cookie_a})
        ok_a = st == 200
        st, _, _ = request(pb, "GET", path, headers={"Cookie": cookie_b})
        tap.ok(ok_a and st == 404, "page %s: 200 on A, 404 on B" % path, st)
    st, h, _ = request(pb, "GET", "/board?move=%d" % booking_a,
                       headers={"Cookie": cookie_b})
    _, _, page = request(pb, "GET", "/board?move=%d" % booking_a,
                         headers={"Cookie": cookie_b})
    tap.ok(st == 200 and "R-00000".encode() not in page,
           "B's board does not show A's booking to move", st)

    # ---- feed links ------------------------------------------------------
    feed_room = a.cli("feed-link", "room", "1").strip().rsplit("/", 1)[1]
    feed_centre = a.cli("feed-link", "centre", "1").strip().rsplit("/", 1)[1]
    for what, tok in (("room", feed_room), ("centre", feed_centre)):
        st_a = request(pa, "GET", "/feeds/" + tok)[0]
        st_b = request(pb, "GET", "/feeds/" + tok)[0]
        tap.ok(st_a == 200 and st_b == 404,
               "A's %s feed link: 200 on A, 404 on B" % what, (st_a, st_b))
    st, _, body = request(pb, "GET", "/api/v1/feed-links", token=tok_b["adminb"])
    tap.ok(st == 200 and json_of(body) == [],
           "B's feed links list none of A's", body[:300])
    st, _, body = request(pb, "POST", "/api/v1/feed-links",
                          token=tok_b["adminb"],
                          body={"kind": "room", "ref_id": 1})
    tap.ok(st == 404, "B cannot make a feed link of A's room", (st, body))
    st, _, body = request(pb, "POST", "/api/v1/feed-links",
                          token=tok_b["adminb"],
                          body={"kind": "centre", "ref_id": 1})
    tap.ok(st == 404, "… nor of centre A", (st, body))
    p = subprocess.run([a.bin, "--db", a.db, "--centre", "2", "feed-link",
                        "--revoke", "1"], capture_output=True, text=True,
                       env=a.env)
    tap.ok(p.returncode == 1 and request(pa, "GET", "/feeds/" + feed_room)[0]
           == 200, "centre 2 cannot revoke A's feed link", p.stderr)
    st, _, body = request(pb, "POST", "/api/v1/feed-links",
                          token=tok_b["adminb"],
                          body={"kind": "room", "ref_id": room_b})
    path_b = (json_of(body) or {}).get("path", "")
    tap.ok(st == 201 and request(pb, "GET", path_b)[0] == 200
           and request(pa, "GET", path_b)[0] == 404,
           "B's own room link: 200 on B, 404 on A", (st, body))

    # ---- join links ------------------------------------------------------
    st, _, body = request(pa, "GET", "/api/v1/bookings/%d/links" % booking_a,
                          token=clerk_a)
    join_a = (json_of(body) or [{}])[0].get("path", "")
    st, _, body = request(pb, "GET", "/api/v1/bookings/%d/links" % booking_b,
                          token=clerk_b)
    join_b = (json_of(body) or [{}])[0].get("path", "")
    tap.ok(join_a.startswith("/join/") and join_b.startswith("/join/"),
           "each centre gives its booking's join links", (join_a, join_b))
    tap.ok(request(pa, "GET", join_a)[0] == 200
           and request(pb, "GET", join_a)[0] == 404,
           "A's join link: its page on A, 404 on B")
    tap.ok(request(pb, "GET", join_b)[0] == 200
           and request(pa, "GET", join_b)[0] == 404,
           "B's join link: its page on B, 404 on A")
    tok = join_a.rsplit("/", 1)[1]
    st_a, _ = ws_upgrade(pa, "/ws/join/%s?b=%d" % (tok, booking_a))
    st_b, _ = ws_upgrade(pb, "/ws/join/%s?b=%d" % (tok, booking_a))
    tap.ok(st_a == 101 and st_b == 404,
           "A's join socket: 101 on A, 404 on B", (st_a, st_b))

    # ---- recordings ------------------------------------------------------
    recdir = os.path.join(a.dir, "rec-a")
    p = subprocess.run([a.bin, "--db", a.db, "record", "start",
                        str(booking_a), "--regime", "hearing", "--input",
                        "test://av", "--duration", "2", "--segment", "1",
                        "--dir", recdir], capture_output=True, text=True,
                       env=a.env, timeout=120)
    recs = json_of(request(pa, "GET", "/api/v1/bookings/%d/recordings"
                           % booking_a, token=clerk_a)[2]) or []
    rec = recs[0]["id"] if recs else 0
    tap.ok(p.returncode == 0 and rec, "A's session is recorded",
           p.stderr[-500:])
    for path in ("/api/v1/recordings/%d" % rec, "/recordings/%d" % rec):
        st_a = request(pa, "GET", path, token=clerk_a)[0]
        st_b = request(pb, "GET", path, token=clerk_b)[0]
        tap.ok(st_a == 200 and st_b == 404,
               "%s: 200 on A, 404 on B" % path, (st_a, st_b))
    shutil.rmtree(recdir, ignore_errors=True)


def meds_b_second(a):
    meds = json_of(a.cli("--centre", "2", "mediator", "list",
                         "--json").encode())
    return meds[1]["id"]


if __name__ == "__main__":
    sys.exit(main())
