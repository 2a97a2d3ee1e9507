#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-ical-peer.py EVENTS.tsv FEED.ics — the peer of bench-ical.c.

Builds the same staff feed as med_ical_feed_to_string() with Debian's
python3-icalendar (4.0.3): the same events (read from EVENTS.tsv, written by
bench-ical.c), the same calendar and event properties and texts, the same
VTIMEZONE (taken from FEED.ics, medsched's own output), sorted the same way.
Times the build and serialisation only (not reading the inputs), several
runs, and prints TAP comment lines: "# peer.events_per_s N" and friends.
"""
import datetime
import statistics
import sys
import time

import icalendar
import pytz

ZONE = "Asia/Shanghai"
CENTRE_ADDRESS = "西藏自治区拉萨市城关区江苏路12号 诉讼服务中心二楼"
CAL_NAME = "调解日程（工作人员）"
LAST_CHANGE = datetime.datetime(2026, 11, 28, 1, 0, tzinfo=pytz.utc)
RUNS = 3

KIND_ZH = {
    "wages": "欠薪", "neighbour": "邻里纠纷", "contract": "合同纠纷",
    "land": "土地纠纷", "traffic": "交通事故", "consumer": "消费纠纷",
    "divorce": "离婚纠纷", "custody": "抚养纠纷", "support": "赡养抚养费",
    "inheritance": "继承纠纷", "other": "其他纠纷",
}
MODE_ZH = {"in-person": "现场调解", "remote": "远程视频调解",
           "hybrid": "现场与远程视频结合"}
WEEKDAYS = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]


def read_events(path):
    events = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            (uid, start, end, seq, cancelled, number, kind, room, mediator,
             interpreter, mode) = line.rstrip("\n").split("\t")
            events.append(dict(uid=uid, start=int(start), end=int(end),
                               seq=int(seq), cancelled=cancelled == "1",
                               number=number, kind=kind, room=room,
                               mediator=mediator, interpreter=interpreter,
                               mode=mode))
    return events


def read_vtimezone(path):
    text = open(path, "rb").read().decode("utf-8")
    begin = text.index("BEGIN:VTIMEZONE")
    end = text.index("END:VTIMEZONE") + len("END:VTIMEZONE\r\n")
    return text[begin:end]


def build(events, vtimezone_text):
    tz = pytz.timezone(ZONE)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//medsched//medsched 0.1//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", CAL_NAME)
    cal.add("x-wr-calname", CAL_NAME)
    cal.add("x-wr-timezone", ZONE)
    cal.add("refresh-interval", "PT60M", parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT60M")
    cal.add_component(icalendar.Timezone.from_ical(vtimezone_text))
    for e in sorted(events, key=lambda e: (e["start"], e["uid"])):
        start = datetime.datetime.fromtimestamp(e["start"], tz)
        end = datetime.datetime.fromtimestamp(e["end"], tz)
        kind = KIND_ZH[e["kind"]]
        location = e["room"] + "，" + CENTRE_ADDRESS
        when = "%s（%s）%s–%s" % (start.strftime("%Y-%m-%d"),
                                WEEKDAYS[start.weekday()],
                                start.strftime("%H:%M"), end.strftime("%H:%M"))
        lines = []
        if e["cancelled"]:
            lines.append("状态：已取消")
        lines += ["案号：" + e["number"], "类型：" + kind, "时间：" + when,
                  "地点：" + location, "调解员：" + e["mediator"]]
        if e["interpreter"]:
            lines.append("翻译：" + e["interpreter"])
        lines.append("方式：" + MODE_ZH[e["mode"]])

        ev = icalendar.Event()
        ev.add("uid", e["uid"])
        ev.add("sequence", e["seq"])
        ev.add("dtstamp", LAST_CHANGE)
        ev.add("dtstart", start)
        ev.add("dtend", end)
        ev.add("summary", ("已取消 " if e["cancelled"] else "")
               + "调解：%s（%s）" % (e["number"], kind))
        ev.add("description", "\n".join(lines))
        ev.add("location", location)
        ev.add("status", "CANCELLED" if e["cancelled"] else "CONFIRMED")
        ev.add("transp", "TRANSPARENT" if e["cancelled"] else "OPAQUE")
        cal.add_component(ev)
    return cal.to_ical()


def main():
    events = read_events(sys.argv[1])
    vtz = read_vtimezone(sys.argv[2])
    times = []
    size = 0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        out = build(events, vtz)
        times.append(time.perf_counter() - t0)
        size = len(out)
    median = statistics.median(times)
    print("# peer.library python3-icalendar %s" % icalendar.__version__)
    print("# peer.events %d" % len(events))
    print("# peer.bytes %d" % size)
    print("# peer.ms_per_10k_median %.1f" % (median * 1000 * 10000 / len(events)))
    print("# peer.events_per_s %.0f" % (len(events) / median))


if __name__ == "__main__":
    main()
