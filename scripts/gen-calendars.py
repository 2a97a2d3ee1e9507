#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the holiday notice calendars shipped in calendars/.

The dates below were checked against the text of each notice (see
calendars/README.md). Run from the source root:

    /usr/bin/python3 scripts/gen-calendars.py

and commit the .ics files it writes. The output is deterministic: running it
twice gives the same bytes.
"""

import datetime
import os
import sys

PRODID = "-//medsched//holiday notices 1.0//ZH"
DTSTAMP = "20261127T000000Z"

H, W = "holiday", "workday"

NOTICES = [
    {
        "file": "cn-national-2025.ics",
        "id": "CN-2025",
        "jurisdiction": "CN",
        "layer": "national",
        "year": 2025,
        "title": "国务院办公厅关于2025年部分节假日安排的通知",
        "source": "国务院办公厅 国办发明电〔2024〕12号",
        "published": "2024-11-12",
        "events": [
            ("yuandan", H, "元旦", (1, 1), 1, "1月1日放假1天，不调休"),
            ("chunjie", H, "春节", (1, 28), 8,
             "1月28日（除夕）至2月4日放假调休，共8天"),
            ("chunjie-work-1", W, "春节调休上班", (1, 26), 1,
             "春节调休：1月26日（周日）上班"),
            ("chunjie-work-2", W, "春节调休上班", (2, 8), 1,
             "春节调休：2月8日（周六）上班"),
            ("qingming", H, "清明节", (4, 4), 3, "4月4日至6日放假，共3天"),
            ("laodong", H, "劳动节", (5, 1), 5, "5月1日至5日放假调休，共5天"),
            ("laodong-work-1", W, "劳动节调休上班", (4, 27), 1,
             "劳动节调休：4月27日（周日）上班"),
            ("duanwu", H, "端午节", (5, 31), 3,
             "5月31日至6月2日放假，共3天"),
            ("guoqing", H, "国庆节、中秋节", (10, 1), 8,
             "10月1日至8日放假调休，共8天"),
            ("guoqing-work-1", W, "国庆节、中秋节调休上班", (9, 28), 1,
             "国庆节、中秋节调休：9月28日（周日）上班"),
            ("guoqing-work-2", W, "国庆节、中秋节调休上班", (10, 11), 1,
             "国庆节、中秋节调休：10月11日（周六）上班"),
        ],
    },
    {
        "file": "cn-national-2026.ics",
        "id": "CN-2026",
        "jurisdiction": "CN",
        "layer": "national",
        "year": 2026,
        "title": "国务院办公厅关于2026年部分节假日安排的通知",
        "source": "国务院办公厅 国办发明电〔2025〕7号",
        "published": "2025-11-04",
        "events": [
            ("yuandan", H, "元旦", (1, 1), 3, "1月1日至3日放假调休，共3天"),
            ("yuandan-work-1", W, "元旦调休上班", (1, 4), 1,
             "元旦调休：1月4日（周日）上班"),
            ("chunjie", H, "春节", (2, 15), 9,
             "2月15日至23日放假调休，共9天"),
            ("chunjie-work-1", W, "春节调休上班", (2, 14), 1,
             "春节调休：2月14日（周六）上班"),
            ("chunjie-work-2", W, "春节调休上班", (2, 28), 1,
             "春节调休：2月28日（周六）上班"),
            ("qingming", H, "清明节", (4, 4), 3, "4月4日至6日放假，共3天"),
            ("laodong", H, "劳动节", (5, 1), 5, "5月1日至5日放假调休，共5天"),
            ("laodong-work-1", W, "劳动节调休上班", (5, 9), 1,
             "劳动节调休：5月9日（周六）上班"),
            ("duanwu", H, "端午节", (6, 19), 3, "6月19日至21日放假，共3天"),
            ("zhongqiu", H, "中秋节", (9, 25), 3, "9月25日至27日放假，共3天"),
            ("guoqing", H, "国庆节", (10, 1), 7,
             "10月1日至7日放假调休，共7天"),
            ("guoqing-work-1", W, "国庆节调休上班", (9, 20), 1,
             "国庆节调休：9月20日（周日）上班"),
            ("guoqing-work-2", W, "国庆节调休上班", (10, 10), 1,
             "国庆节调休：10月10日（周六）上班"),
        ],
    },
    {
        "file": "cn-xz-lhasa-2025.ics",
        "id": "CN-XZ-LS-2025-losar",
        "jurisdiction": "CN-XZ-LS",
        "layer": "city",
        "year": 2025,
        "title": "拉萨市人民政府办公室关于2025年藏历新年放假安排的通知",
        "source": "拉萨市人民政府办公室（文号未核实）",
        "published": "2025-02-11",
        "events": [
            ("losar", H, "藏历新年", (2, 27), 6,
             "藏历木蛇年新年：2月27日至3月4日放假，共6天（含周末2天），不调休"),
        ],
    },
    {
        "file": "cn-xz-lhasa-2026.ics",
        "id": "CN-XZ-LS-2026-losar",
        "jurisdiction": "CN-XZ-LS",
        "layer": "city",
        "year": 2026,
        "title": "拉萨市人民政府办公室2026年春节、藏历新年放假安排通知",
        "source": "拉萨市人民政府办公室（文号未核实）",
        "published": "2026-01-28",
        "events": [
            ("chunjie-losar", H, "春节、藏历新年", (2, 15), 12,
             "春节、藏历火马年新年合并：2月15日至26日放假调休，共12天"),
            ("chunjie-losar-work-1", W, "春节、藏历新年调休上班", (2, 14), 1,
             "春节、藏历新年调休：2月14日（周六）上班"),
            ("chunjie-losar-work-2", W, "春节、藏历新年调休上班", (2, 28), 1,
             "春节、藏历新年调休：2月28日（周六）上班"),
        ],
    },
]


def escape(text):
    """RFC 5545 TEXT escaping."""
    return (text.replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\n", "\\n"))


def fold(line):
    """Folds one content line at 75 octets, never inside a UTF-8 sequence."""
    out = []
    data = line.encode("utf-8")
    limit = 75
    while len(data) > limit:
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append(data[:cut])
        data = data[cut:]
        limit = 74  # the leading space of the next line counts
    out.append(data)
    return b"\r\n ".join(out) + b"\r\n"


def render(n):
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:" + PRODID,
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "NAME:" + escape(n["title"]),
        "X-WR-CALNAME:" + escape(n["title"]),
        "X-MED-NOTICE-ID:" + n["id"],
        "X-MED-JURISDICTION:" + n["jurisdiction"],
        "X-MED-LAYER:" + n["layer"],
        "X-MED-YEAR:%d" % n["year"],
        "X-MED-SOURCE:" + escape(n["source"]),
        "X-MED-PUBLISHED:" + n["published"],
    ]
    for slug, kind, summary, (month, day), days, desc in n["events"]:
        start = datetime.date(n["year"], month, day)
        end = start + datetime.timedelta(days=days)
        assert end.year == n["year"] or end == datetime.date(n["year"] + 1, 1, 1)
        if kind == W:
            assert start.weekday() >= 5, (n["file"], slug)
        lines += [
            "BEGIN:VEVENT",
            "UID:%s-%s@medsched" % (n["id"], slug),
            "DTSTAMP:" + DTSTAMP,
            "DTSTART;VALUE=DATE:" + start.strftime("%Y%m%d"),
            "DTEND;VALUE=DATE:" + end.strftime("%Y%m%d"),
            "SUMMARY:" + escape(summary),
            "DESCRIPTION:" + escape(desc),
            "X-MED-DAY-KIND:" + kind,
            "TRANSP:TRANSPARENT",
            "CATEGORIES:" + ("HOLIDAY" if kind == H else "WORKDAY"),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(fold(l) for l in lines)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outdir = os.path.join(root, "calendars")
    os.makedirs(outdir, exist_ok=True)
    for n in NOTICES:
        path = os.path.join(outdir, n["file"])
        with open(path, "wb") as f:
            f.write(render(n))
        print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
