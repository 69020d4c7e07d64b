"""tongban's XForm against pyxform's, for the same XLSForm workbooks.

Usage: python xlsform_compare.py TONGBAN_BINARY WORK_DIR

Workbooks covering the supported subset are written with openpyxl; each is converted by
pyxform (`xls2xform --skip_validate`) and by `tongban forms xform`, and the two XForms are
compared part by part: the title, the main instance (elements, defaults, repeat templates),
the secondary instances of choices, every bind (type, required, constraint and its message,
relevance, calculation, read-only, preloads, entity properties; expressions compared with runs
of spaces folded), the model's attributes and setvalues (an entity's id), the secondary instances'
sources (entity lists as CSV files)
and the body's controls (kind, ref, appearance, media type, label, hint, itemset). Workbooks
that pyxform refuses must be refused by tongban too. Prints a JSON summary; exits 1 on any
difference.
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl

XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
JR = "{http://openrosa.org/javarosa}"


def workbook(path, survey, choices=None, settings=None, entities=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    if choices:
        sheet = book.create_sheet("choices")
        for row in choices:
            sheet.append(row)
    if settings:
        sheet = book.create_sheet("settings")
        for row in settings:
            sheet.append(row)
    if entities:
        sheet = book.create_sheet("entities")
        for row in entities:
            sheet.append(row)
    book.save(path)


HEADER = ["type", "name", "label", "hint", "required", "required_message", "constraint",
          "constraint_message", "relevant", "default", "calculation", "appearance", "read_only"]


def row(type_, name, label="", hint="", required="", required_message="", constraint="",
        constraint_message="", relevant="", default="", calculation="", appearance="",
        read_only=""):
    return [type_, name, label, hint, required, required_message, constraint,
            constraint_message, relevant, default, calculation, appearance, read_only]


FORMS = {
    # A community worker's household visit (走访).
    "household": dict(
        survey=[
            HEADER,
            row("text", "head_name", "户主姓名", required="yes", constraint="string-length(.) <= 20",
                constraint_message="不超过20字"),
            row("integer", "members", "家庭人数", required="yes", constraint=". > 0 and . < 30"),
            row("select_one yn", "vaccinated", "是否接种", required="true()", relevant="${members} > 0"),
            row("select_multiple symptoms", "symptoms", "症状", relevant="selected(${vaccinated}, 'no')"),
            row("decimal", "temp", "体温", constraint="${temp} >= 35 and ${temp} <= 43", default="36.5"),
            row("date", "visit", "走访日期", hint="默认今天", constraint=". <= today()"),
            row("begin group", "addr", "地址", relevant="${members} > 1"),
            row("text", "street", "街道"),
            row("end group", ""),
            row("begin repeat", "person", "成员"),
            row("text", "pname", "姓名", required="yes", required_message="请填写姓名"),
            row("integer", "age", "年龄", constraint="${age} < 150"),
            row("end repeat", ""),
            row("calculate", "double", calculation="${members} * 2"),
            row("note", "thanks", "谢谢"),
        ],
        choices=[["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"],
                 ["symptoms", "fever", "发热"], ["symptoms", "cough", "咳嗽"]],
        settings=[["form_title", "form_id", "version"], ["家庭走访", "household", "2026120601"]],
    ),
    # Device metadata, every other type, nested groups in a repeat, an instance name.
    "kinds": dict(
        survey=[
            HEADER,
            row("start", "start"), row("end", "end"), row("today", "today"), row("deviceid", "deviceid"),
            row("time", "t", "时间", hint="提示", required="yes", required_message="必填"),
            row("dateTime", "dt", "日期时间", required="no"),
            row("geopoint", "loc", "位置"),
            row("image", "photo", "照片"),
            row("file", "doc", "文件"),
            row("begin group", "g", appearance="field-list"),
            row("begin repeat", "r", "重复"),
            row("text", "a", "A", read_only="yes"),
            row("begin group", "inner", "内", relevant="${a} != ''"),
            row("text", "b", "B", relevant="${a} = 'x' and ${t} != ''"),
            row("end group", ""),
            row("end repeat", ""),
            row("end group", ""),
            row("calculate", "n", calculation="count(${r})"),
            row("select_one yn", "q", "Q", appearance="minimal"),
        ],
        choices=[["list_name", "name", "label"], ["unused", "u", "U"], ["yn", "yes", "是"], ["yn", "no", "否"]],
        settings=[["form_title", "form_id", "instance_name"], ["类型", "kinds", "concat('x-', ${t})"]],
    ),
    # A household register that makes an entity per submission (save_to, the entities sheet)
    # and a question choosing from an entity list (select_one_from_file).
    "households": dict(
        survey=[
            ["type", "name", "label", "save_to", "required", "constraint"],
            ["text", "head", "户主姓名", "head_name", "yes", ""],
            ["integer", "members", "家庭人数", "members", "", ". > 0"],
            ["select_one yn", "low_income", "是否低保", "low_income", "", ""],
            ["select_one_from_file villages.csv", "village", "所在村", "", "", ""],
        ],
        choices=[["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"]],
        settings=[["form_title", "form_id", "instance_name"], ["户籍登记", "households", "${head}"]],
        entities=[["list_name", "label"], ["households", "concat(${head}, ' 户 ', ${members}, ' 人')"]],
    ),
    # No settings sheet: the file's name is the id and the title.
    "bare_form": dict(survey=[["type", "name", "label"], ["text", "q", "问题"], ["integer", "n", "数量"]]),
}

# Workbooks both must refuse.
REFUSED = {
    "unknown_type": dict(survey=[["type", "name", "label"], ["frobnicate", "q", "Q"]]),
    "unclosed_group": dict(survey=[["type", "name", "label"], ["begin group", "g", "G"], ["text", "q", "Q"]]),
    "unknown_reference": dict(survey=[["type", "name", "label", "relevant"], ["text", "q", "Q", "${nowhere} = 1"]]),
    "missing_list": dict(survey=[["type", "name", "label"], ["select_one nolist", "q", "Q"]]),
    "duplicate_name": dict(survey=[["type", "name", "label"], ["text", "q", "Q"], ["text", "q", "Q2"]]),
    "save_to_without_entities": dict(survey=[["type", "name", "label", "save_to"], ["text", "q", "Q", "prop"]]),
    "save_to_label": dict(survey=[["type", "name", "label", "save_to"], ["text", "q", "Q", "label"]],
                          entities=[["list_name", "label"], ["things", "${q}"]]),
}


def fold(text):
    return " ".join((text or "").split())


def instance_tree(element):
    children = [instance_tree(c) for c in element]
    attributes = {k.replace(JR, "jr:"): v for k, v in element.attrib.items()}
    return [element.tag.replace(XF, ""), attributes, fold(element.text), children]


def parts(xml):
    root = ET.fromstring(xml)
    head = root.find(f"{H}head")
    model = head.find(f"{XF}model")
    instances = model.findall(f"{XF}instance")
    main = instance_tree(instances[0][0])
    secondary = {
        i.get("id"): [i.get("src")] + [(item.findtext(f"{XF}name"), item.findtext(f"{XF}label"))
                                       for item in i.iter(f"{XF}item")]
        for i in instances[1:]
    }
    setvalues = sorted((v.get("ref"), v.get("event"), fold(v.get("value"))) for v in model.findall(f"{XF}setvalue"))
    binds = {}
    for bind in model.findall(f"{XF}bind"):
        attributes = {k.replace(JR, "jr:"): fold(v) for k, v in bind.attrib.items()}
        binds[attributes.pop("nodeset")] = attributes

    def body(element):
        out = []
        for child in element:
            tag = child.tag.replace(XF, "")
            if tag in ("label", "hint"):
                continue
            entry = {
                "control": tag,
                "ref": child.get("ref") or child.get("nodeset"),
                "appearance": child.get("appearance"),
                "mediatype": child.get("mediatype"),
                "label": fold(child.findtext(f"{XF}label")),
                "hint": fold(child.findtext(f"{XF}hint")),
            }
            itemset = child.find(f"{XF}itemset")
            if itemset is not None:
                entry["itemset"] = itemset.get("nodeset")
            if tag in ("group", "repeat"):
                entry["children"] = body(child)
            out.append(entry)
        return out

    return {
        "title": head.findtext(f"{H}title"),
        "instance": main,
        "choices": secondary,
        "binds": binds,
        "model": dict(model.attrib),
        "setvalues": setvalues,
        "body": body(root.find(f"{H}body")),
    }


def pyxform(xlsx, out):
    done = subprocess.run(["xls2xform", "--skip_validate", str(xlsx), str(out)],
                          capture_output=True, text=True)
    ok = done.returncode == 0 and out.exists() and "Conversion complete" in done.stdout + done.stderr
    return ok, done.stdout + done.stderr


def tongban(binary, xlsx):
    done = subprocess.run([binary, "forms", "xform", str(xlsx)], capture_output=True, text=True)
    return done.returncode == 0, done.stdout if done.returncode == 0 else done.stderr


def main():
    binary, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    differences = []
    compared = []
    for name, sheets in FORMS.items():
        xlsx = work / f"{name}.xlsx"
        workbook(xlsx, **sheets)
        ok, theirs = pyxform(xlsx, work / f"{name}.pyxform.xml")
        if not ok:
            differences.append({"form": name, "problem": "pyxform refused it", "detail": theirs})
            continue
        ok, ours = tongban(binary, xlsx)
        if not ok:
            differences.append({"form": name, "problem": "tongban refused it", "detail": ours})
            continue
        expected = parts((work / f"{name}.pyxform.xml").read_text(encoding="utf-8"))
        actual = parts(ours)
        for part in expected:
            if expected[part] != actual[part]:
                differences.append({"form": name, "part": part, "pyxform": expected[part], "tongban": actual[part]})
        compared.append({"form": name, "binds": len(expected["binds"]), "choice_lists": len(expected["choices"])})
    # The example form designers download from /collect, as the binary writes it.
    starter = work / "starter.xlsx"
    made = subprocess.run([binary, "forms", "starter", str(starter)], capture_output=True, text=True)
    if made.returncode != 0:
        differences.append({"form": "starter", "problem": "tongban did not write it", "detail": made.stderr})
    else:
        ok, theirs = pyxform(starter, work / "starter.pyxform.xml")
        ours_ok, ours = tongban(binary, starter)
        if not ok or not ours_ok:
            differences.append({"form": "starter", "problem": "refused", "pyxform": theirs, "tongban": ours})
        else:
            expected = parts((work / "starter.pyxform.xml").read_text(encoding="utf-8"))
            actual = parts(ours)
            for part in expected:
                if expected[part] != actual[part]:
                    differences.append({"form": "starter", "part": part, "pyxform": expected[part],
                                        "tongban": actual[part]})
            compared.append({"form": "starter", "binds": len(expected["binds"]),
                             "choice_lists": len(expected["choices"])})
    refused = []
    for name, sheets in REFUSED.items():
        xlsx = work / f"{name}.xlsx"
        workbook(xlsx, **sheets)
        theirs_ok, _ = pyxform(xlsx, work / f"{name}.pyxform.xml")
        ours_ok, ours = tongban(binary, xlsx)
        if theirs_ok or ours_ok:
            differences.append({"form": name, "problem": "expected both to refuse",
                                "pyxform_refused": not theirs_ok, "tongban_refused": not ours_ok})
        else:
            refused.append({"form": name, "tongban": ours.strip().splitlines()[0]})
    print(json.dumps({"compared": compared, "refused_by_both": refused, "differences": differences},
                     ensure_ascii=False, indent=1))
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
