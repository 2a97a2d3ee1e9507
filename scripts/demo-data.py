#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/demo-data.py — writes the sample import document of scripts/demo.

A county centre in Lhasa (城关区): four rooms, six mediators speaking
Mandarin (zh) and/or Tibetan (bo), one zh:bo interpreter and thirty cases
taken at intake on the morning of 2026-12-07. Every name, number and phone
number is invented; phone numbers are in the reserved-looking 1380000xxxx
range so nobody real is ever called.

    demo-data.py                    the JSON import document on stdout
    demo-data.py --dispatch-plan    "case-number<TAB>department" lines, the
                                    department each case goes to at 派单

The output is the same on every run (no clock, no randomness).
Format: docs/import-format.md.
"""

import json
import sys

ROOMS = [
    {"name": "温馨调解室一", "kind": "warm", "capacity": 8,
     "features": ["accessible"], "setup_minutes": 10, "cleanup_minutes": 10},
    {"name": "温馨调解室二", "kind": "warm", "capacity": 6,
     "features": [], "setup_minutes": 10, "cleanup_minutes": 10},
    {"name": "家事调解室", "kind": "family", "capacity": 6,
     "features": ["child-friendly", "accessible"],
     "setup_minutes": 10, "cleanup_minutes": 15},
    {"name": "远程调解室", "kind": "remote", "capacity": 4,
     "features": ["video", "recording"],
     "setup_minutes": 15, "cleanup_minutes": 10},
]

MEDIATORS = [
    {"name": "扎西次仁 བཀྲ་ཤིས་ཚེ་རིང", "languages": ["zh", "bo"],
     "specialties": ["wages", "neighbour", "land"], "daily_cap": 4},
    {"name": "卓玛 སྒྲོལ་མ", "languages": ["bo", "zh"],
     "specialties": ["divorce", "custody", "support", "inheritance"],
     "daily_cap": 3},
    {"name": "王建华", "languages": ["zh"],
     "specialties": ["contract", "consumer", "traffic", "wages"],
     "daily_cap": 4},
    {"name": "李秀英", "languages": ["zh"],
     "specialties": ["divorce", "custody", "support", "neighbour"],
     "daily_cap": 3},
    {"name": "次仁多吉 ཚེ་རིང་རྡོ་རྗེ", "languages": ["bo", "zh"],
     "specialties": ["land", "neighbour", "inheritance", "other"],
     "daily_cap": 4,
     # on a township visit on the second day
     "leave": [{"start": "2026-12-08T00:00", "end": "2026-12-09T00:00"}]},
    {"name": "陈志强", "languages": ["zh"],
     "specialties": ["wages", "contract", "traffic", "consumer", "other"],
     "daily_cap": 4},
]

INTERPRETERS = [
    {"name": "格桑 སྐལ་བཟང", "pairs": ["zh:bo"]},
]

# Invented people. zh speakers get Chinese names, bo speakers Tibetan ones
# (some written in Tibetan script, as they signed the intake form).
ZH_NAMES = [
    "张伟", "刘洋", "杨静", "赵磊", "黄敏", "周婷", "吴刚", "徐丽",
    "孙强", "马俊", "胡芳", "郭亮", "何琳", "高峰", "林晓", "罗平",
    "梁雪", "宋涛", "郑欣", "谢斌",
]
BO_NAMES = [
    "བསོད་ནམས་རྡོ་རྗེ", "德吉", "ཚེ་དབང་སྒྲོལ་མ", "平措", "ལྷ་མོ",
    "尼玛", "བསྟན་འཛིན", "央金", "ཕུན་ཚོགས", "拉巴", "དབང་འདུས", "白玛",
]
COMPANIES = [
    "拉萨雪域建筑劳务有限公司", "城关区高原商贸有限公司",
    "拉萨日光物业服务有限公司", "城关区吉祥餐饮店",
]

# number, kind, department, flags, duration, deadline, summary, parties
# parties: (role, language, attendance, name-or-None); None picks a name.
# flags: "u" urgent, "m" minors.
CASES = [
    ("wages", "court-mediation", "u", 60, "2026-12-10",
     "农民工追讨工程款欠薪，涉及六人", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "in-person", COMPANIES[0])]),
    ("wages", "labour-inspection", "u", 60, "2026-12-10",
     "餐厅服务员三个月工资未发", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", COMPANIES[3])]),
    ("wages", "court-mediation", "", 60, "2026-12-18",
     "物业保安加班费争议", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "remote", COMPANIES[2])]),
    ("wages", "court-mediation", "u", 45, "2026-12-09",
     "装修工人工资结算纠纷", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("wages", "labour-inspection", "", 60, "2026-12-21",
     "商贸公司拖欠两名司机工资", [
         ("applicant", "zh", "in-person", None),
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", COMPANIES[1])]),
    ("neighbour", "court-mediation", "", 60, "2026-12-21",
     "院墙渗水引发邻里纠纷", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "bo", "in-person", None)]),
    ("neighbour", "court-mediation", "", 45, "2026-12-24",
     "楼上噪音扰民", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("neighbour", "police", "u", 30, "2026-12-08",
     "邻里口角升级为推搡，需先行治安调解", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "bo", "in-person", None)]),
    ("neighbour", "court-mediation", "", 60, "2026-12-28",
     "共用通道堆放杂物", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("contract", "court-mediation", "", 90, "2026-12-28",
     "酥油茶馆租赁合同押金返还", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "remote", None)]),
    ("contract", "court-mediation", "", 90, "2026-12-31",
     "藏式家具定制货款纠纷", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "in-person", None),
         ("agent", "zh", "in-person", None)]),
    ("contract", "legal-aid", "", 60, "2026-12-31",
     "民间借贷，申请人申请法律援助", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "bo", "remote", None)]),
    ("land", "court-mediation", "", 90, "2026-12-24",
     "承包地边界争议（蔡公堂乡）", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "bo", "in-person", None),
         ("third-party", "bo", "remote", None)]),
    ("land", "court-mediation", "", 90, "2026-12-31",
     "宅基地使用权纠纷", [
         ("applicant", "bo", "remote", None),
         ("respondent", "zh", "in-person", None)]),
    ("divorce", "court-mediation", "m", 120, "2026-12-24",
     "协议离婚，涉及一名未成年子女抚养", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("divorce", "court-mediation", "", 120, "2026-12-31",
     "离婚财产分割", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "bo", "remote", None)]),
    ("custody", "court-mediation", "m", 90, "2026-12-18",
     "变更抚养关系", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("custody", "court-mediation", "um", 90, "2026-12-11",
     "探望权行使受阻，孩子临近寒假", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "remote", None)]),
    ("support", "court-mediation", "", 60, "2026-12-21",
     "子女赡养老人费用分担", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "bo", "in-person", None),
         ("respondent", "bo", "remote", None)]),
    ("support", "civil-affairs", "", 60, "2026-12-31",
     "孤寡老人申请赡养协助，转民政", [
         ("applicant", "bo", "in-person", None)]),
    ("support", "court-mediation", "m", 60, "2026-12-21",
     "抚养费给付标准", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("inheritance", "court-mediation", "", 90, "2026-12-31",
     "父母遗留房屋继承", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "bo", "in-person", None),
         ("respondent", "zh", "remote", None)]),
    ("inheritance", "court-mediation", "", 90, "2026-12-31",
     "存款继承份额", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("traffic", "court-mediation", "", 60, "2026-12-21",
     "电动车与行人碰撞赔偿", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("traffic", "court-mediation", "", 60, "2026-12-24",
     "出租车追尾维修费", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "remote", None)]),
    ("consumer", "court-mediation", "", 45, "2026-12-18",
     "网购唐卡与描述不符", [
         ("applicant", "zh", "remote", None),
         ("respondent", "zh", "in-person", None)]),
    ("consumer", "court-mediation", "", 45, "2026-12-21",
     "美容预付卡退费", [
         ("applicant", "zh", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("consumer", "court-mediation", "", 45, "2026-12-24",
     "冰箱维修质量纠纷", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
    ("wages", "court-mediation", "", 60, "2026-12-24",
     "牧民合作社季节工工资", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "bo", "in-person", None)]),
    ("other", "court-mediation", "", 60, "2026-12-31",
     "寺庙周边摊位使用纠纷", [
         ("applicant", "bo", "in-person", None),
         ("respondent", "zh", "in-person", None)]),
]


def case_number(i):
    return "(2026)藏0102民调%d号" % (i + 1)


def build():
    zh = iter(ZH_NAMES * 4)
    bo = iter(BO_NAMES * 6)
    phone = iter(range(1, 10000))
    cases = []
    for i, (kind, _dept, flags, duration, deadline, summary,
            parties) in enumerate(CASES):
        # intake from 08:30, one case every five minutes
        minute = 8 * 60 + 30 + 5 * i
        intake = "2026-12-07T%02d:%02d" % (minute // 60, minute % 60)
        plist = []
        for role, lang, attendance, name in parties:
            if name is None:
                name = next(bo) if lang == "bo" else next(zh)
            plist.append({
                "name": name,
                "role": role,
                "language": lang,
                "attendance": attendance,
                "contact": "1380000%04d" % next(phone),
            })
        cases.append({
            "number": case_number(i),
            "kind": kind,
            "minors": "m" in flags,
            "urgent": "u" in flags,
            "intake_at": intake,
            "deadline": deadline,
            "duration_minutes": duration,
            "summary": summary,
            "parties": plist,
        })
    return {
        "rooms": ROOMS,
        "mediators": MEDIATORS,
        "interpreters": INTERPRETERS,
        "cases": cases,
    }


def main(argv):
    if len(argv) > 1 and argv[1] == "--dispatch-plan":
        out = "".join("%s\t%s\n" % (case_number(i), c[1])
                      for i, c in enumerate(CASES))
        sys.stdout.buffer.write(out.encode("utf-8"))
        return 0
    if len(argv) > 1:
        sys.stderr.write("usage: demo-data.py [--dispatch-plan]\n")
        return 2
    text = json.dumps(build(), ensure_ascii=False, indent=2) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
