"""The real ODK clients against a running tongban demo city.

Usage: python odk_pyodk.py BASE_URL CREDENTIALS_JSON WORK_DIR

- pyodk (ODK Central's Python client), signed in with a staff API token (its token cache
  pre-filled, as a script on a server would have it): lists projects and forms, uploads an
  XLSForm (created as a draft and "published", which sends it to the burden-reduction
  office), which the office approves through tongban's API; then submits, lists submissions,
  reads the OData table with get_table, and is refused a second submission under the same
  instanceID and a submission that breaks a constraint.
- OpenRosa, as ODK Collect speaks it (with requests): an app user made for a community's
  device reads the form list, downloads the XForm and the manifest, sends a multipart
  submission with a photo, sends it again (accepted, kept once), and is refused other
  content under the same instanceID.

Prints a JSON summary; exits 1 at the first failure.
"""

import json
import sys
import uuid
from pathlib import Path

import openpyxl
import requests
from pyodk.client import Client
from pyodk.errors import PyODKError


def check(condition, message):
    if not condition:
        print(json.dumps({"failed": message}, ensure_ascii=False))
        sys.exit(1)


def token_of(credentials, username):
    for account in credentials["accounts"]:
        if account["username"] == username:
            return account["api_token"]
    raise SystemExit(f"no demo account {username}")


def xlsform(path):
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in [
        ["type", "name", "label", "required", "constraint", "constraint_message"],
        ["text", "household_head", "户主姓名", "yes", "", ""],
        ["integer", "residents", "常住人数", "yes", ". >= 1 and . <= 20", "1至20人"],
        ["select_one yn", "elderly_alone", "是否有独居老人", "yes", "", ""],
        ["image", "door_photo", "门牌照片", "", "", ""],
    ]:
        survey.append(row)
    choices = book.create_sheet("choices")
    for row in [["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"]]:
        choices.append(row)
    settings = book.create_sheet("settings")
    for row in [["form_title", "form_id", "version"], ["独居老人摸排", "elderly_visit", "1"]]:
        settings.append(row)
    book.save(path)


def instance(instance_id, head="刘秀英", residents="2", photo=""):
    return (
        f'<data id="elderly_visit" version="1"><household_head>{head}</household_head>'
        f"<residents>{residents}</residents><elderly_alone>yes</elderly_alone>"
        f"<door_photo>{photo}</door_photo><meta><instanceID>{instance_id}</instanceID></meta></data>"
    )


def register_xlsform(path):
    """A register whose submissions make entities in the list `registered`."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in [["type", "name", "label", "required", "save_to"],
                ["text", "head", "户主姓名", "yes", "head"],
                ["integer", "members", "家庭人数", "yes", "members"]]:
        survey.append(row)
    entities = book.create_sheet("entities")
    for row in [["list_name", "label"], ["registered", "concat(${head}, ' 户')"]]:
        entities.append(row)
    settings = book.create_sheet("settings")
    for row in [["form_title", "form_id", "version"], ["户籍登记", "register", "1"]]:
        settings.append(row)
    book.save(path)


def followup_xlsform(path):
    """A follow-up visit choosing a household from the list `registered`, prefilled from it."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in [["type", "name", "label", "prefill"],
                ["select_one_from_file registered.csv", "household", "哪一户", ""],
                ["integer", "members_now", "现有人数", "entity.registered.members"]]:
        survey.append(row)
    settings = book.create_sheet("settings")
    for row in [["form_title", "form_id", "version"], ["户情回访", "followup", "1"]]:
        settings.append(row)
    book.save(path)


def register_instance(instance_id, entity_id):
    """An instance as ODK Collect sends it for the register: the entity's id and label in meta."""
    return (
        f'<data id="register" version="1"><head>赵德明</head><members>4</members><meta>'
        f'<entity dataset="registered" create="1" id="{entity_id}"><label>赵德明 户</label></entity>'
        f"<instanceID>{instance_id}</instanceID></meta></data>"
    )


def main():
    base, credentials_path, work = sys.argv[1].rstrip("/"), sys.argv[2], Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    credentials = json.loads(Path(credentials_path).read_text(encoding="utf-8"))
    designer = token_of(credentials, "demo.deptadmin.market")
    office = token_of(credentials, "demo.deptadmin")
    summary = {}

    config = work / "pyodk_config.toml"
    cache = work / "pyodk_cache.toml"
    config.write_text(
        f'[central]\nbase_url = "{base}"\nusername = "demo.deptadmin.market"\n'
        f'password = "not-used"\ndefault_project_id = 1\n',
        encoding="utf-8",
    )
    cache.write_text(f'token = "{designer}"\n', encoding="utf-8")
    with Client(config_path=str(config), cache_path=str(cache)) as client:
        projects = client.projects.list()
        check(any(p.id == 1 for p in projects), f"project 1 is listed: {projects}")
        forms = {f.xmlFormId: f for f in client.forms.list()}
        check(forms["business_survey"].state == "open", "the demo survey is open")
        summary["projects"] = len(projects)
        summary["forms_before"] = len(forms)

        path = work / "elderly_visit.xlsx"
        xlsform(path)
        created = client.forms.create(definition=str(path))
        check(created.xmlFormId == "elderly_visit", f"the XLSForm became a form: {created}")
        waiting = {f.xmlFormId: f for f in client.forms.list()}["elderly_visit"]
        check(waiting.state == "closed", "a form sent for approval is not open yet")
        try:
            client.submissions.create(xml=instance(f"uuid:{uuid.uuid4()}"), form_id="elderly_visit")
            check(False, "a form not yet approved took a submission")
        except PyODKError as error:
            check("409" in str(error), f"refused with 409 before approval: {error}")

        # The office reads the overlap report and approves (tongban's API).
        headers = {"Authorization": f"Bearer {office}"}
        report = requests.get(f"{base}/api/v1/collect/projects/1/forms/elderly_visit/overlap", headers=headers, timeout=30)
        check(report.status_code == 200, f"overlap report: {report.status_code} {report.text}")
        overlap = report.json()
        check(overlap["questions"] == 4 and overlap["already"] >= 1, f"the report counts questions: {overlap}")
        decided = requests.post(
            f"{base}/api/v1/collect/projects/1/forms/elderly_visit/decision",
            json={"approve": True, "note": "同意"}, headers=headers, timeout=30,
        )
        check(decided.status_code == 200 and decided.json()["state"] == "approved", f"approved: {decided.text}")
        check({f.xmlFormId: f for f in client.forms.list()}["elderly_visit"].state == "open", "open once approved")

        instance_id = f"uuid:{uuid.uuid4()}"
        made = client.submissions.create(xml=instance(instance_id), form_id="elderly_visit")
        check(made.instanceId == instance_id, f"submitted: {made}")
        listed = client.submissions.list(form_id="elderly_visit")
        check([s.instanceId for s in listed] == [instance_id], f"listed: {listed}")
        table = client.submissions.get_table(form_id="elderly_visit", count=True)
        check(table["@odata.count"] == 1, f"OData count: {table}")
        row = table["value"][0]
        check(row["__id"] == instance_id and row["residents"] == 2 and row["household_head"] == "刘秀英",
              f"OData row: {row}")
        survey = client.submissions.get_table(form_id="business_survey", top=5, skip=0, count=True)
        check(len(survey["value"]) == 5 and survey["@odata.count"] >= 40, "the demo survey's table pages")
        try:
            client.submissions.create(xml=instance(instance_id), form_id="elderly_visit")
            check(False, "the same instanceID was taken twice through the API")
        except PyODKError as error:
            check("409" in str(error), f"second create refused with 409: {error}")
        try:
            client.submissions.create(xml=instance(f"uuid:{uuid.uuid4()}", residents="40"), form_id="elderly_visit")
            check(False, "a submission breaking a constraint was taken")
        except PyODKError as error:
            check("residents" in str(error) and "1至20人" in str(error), f"the rule is named: {error}")
        # Central's CSV export, through pyodk's authenticated session (scripts read it with
        # pandas or R).
        exported = client.get("projects/1/forms/elderly_visit/submissions.csv")
        check(exported.status_code == 200, f"CSV export: {exported.status_code} {exported.text[:200]}")
        header = exported.text.splitlines()[0].split(",")
        check(header[0] == "SubmissionDate" and "household_head" in header and "KEY" in header
              and header[-1] == "FormVersion", f"Central's columns: {header}")
        check(f"{instance_id}" in exported.text and "刘秀英" in exported.text, f"the row: {exported.text}")
        zipped = client.get("projects/1/forms/elderly_visit/submissions.csv.zip")
        check(zipped.status_code == 200 and zipped.content[:2] == b"PK", f"zip export: {zipped.status_code}")
        summary["pyodk"] = {"submitted": 1, "table_rows": len(table["value"]), "survey_rows": survey["@odata.count"]}

        # Entity lists: households kept once, for later forms.
        made_list = client.entity_lists.create(entity_list_name="households")
        check(made_list.name == "households" and made_list.projectId == 1, f"entity list: {made_list}")
        check(any(e.name == "households" for e in client.entity_lists.list()), "the list is listed")
        for prop in ("head", "residents"):
            check(client.entity_lists.add_property(name=prop, entity_list_name="households") is True, f"property {prop}")
        got = client.entity_lists.get(entity_list_name="households")
        check([p.name for p in got.properties] == ["head", "residents"], f"properties: {got.properties}")
        entity = client.entities.create(label="刘秀英家", data={"head": "刘秀英", "residents": "2"},
                                        entity_list_name="households")
        check(entity.currentVersion.version == 1 and entity.currentVersion.data["head"] == "刘秀英", f"entity: {entity}")
        check(client.entities.create_many(data=[{"label": "陈建国家", "head": "陈建国", "residents": "1"},
                                                {"label": "王芳家", "head": "王芳", "residents": "4"}],
                                          entity_list_name="households") is True, "bulk create")
        listed_entities = client.entities.list(entity_list_name="households")
        check(len(listed_entities) == 3, f"three entities: {listed_entities}")
        updated = client.entities.update(entity.uuid, entity_list_name="households", data={"residents": "3"},
                                         base_version=1)
        check(updated.currentVersion.version == 2 and updated.currentVersion.data["residents"] == "3", f"updated: {updated}")
        try:
            client.entities.update(entity.uuid, entity_list_name="households", data={"residents": "5"}, base_version=1)
            check(False, "an update from a stale version was taken")
        except PyODKError as error:
            check("409" in str(error), f"a stale version is refused with 409: {error}")
        entity_table = client.entities.get_table(entity_list_name="households", count=True)
        check(entity_table["@odata.count"] == 3, f"entity table: {entity_table}")
        row = next(r for r in entity_table["value"] if r["__id"] == entity.uuid)
        check(row["residents"] == "3" and row["label"] == "刘秀英家" and row["__system"]["version"] == 2,
              f"entity row: {row}")
        check(client.entities.delete(entity.uuid, entity_list_name="households") is True, "deleted")
        check(len(client.entities.list(entity_list_name="households")) == 2, "two left")
        summary["entities"] = {"made": 3, "version": updated.currentVersion.version, "left": 2}

        # Entities from submissions: a register whose list waits for approval; the submission's
        # entity appears once it is approved through pyodk's review.
        check(client.entity_lists.create(entity_list_name="registered", approval_required=True).name
              == "registered", "a list that requires approval")
        path = work / "register.xlsx"
        register_xlsform(path)
        client.forms.create(definition=str(path))
        decided = requests.post(f"{base}/api/v1/collect/projects/1/forms/register/decision",
                                json={"approve": True}, headers=headers, timeout=30)
        check(decided.status_code == 200, f"the register is approved: {decided.text}")
        got = client.entity_lists.get(entity_list_name="registered")
        check([p.name for p in got.properties] == ["head", "members"], f"saved-to properties: {got.properties}")
        entity_id = str(uuid.uuid4())
        register_id = f"uuid:{uuid.uuid4()}"
        client.submissions.create(xml=register_instance(register_id, entity_id), form_id="register")
        check(client.entities.list(entity_list_name="registered") == [], "no entity before approval")
        client.submissions.review(instance_id=register_id, review_state="approved", form_id="register")
        reviewed = client.submissions.get(instance_id=register_id, form_id="register")
        check(reviewed.reviewState == "approved", f"review state: {reviewed}")
        made_entities = client.entities.list(entity_list_name="registered")
        check([e.uuid for e in made_entities] == [entity_id], f"the entity made on approval: {made_entities}")
        made_row = client.entities.get_table(entity_list_name="registered")["value"][0]
        check(made_row["__id"] == entity_id and made_row["label"] == "赵德明 户"
              and made_row["head"] == "赵德明" and made_row["members"] == "4",
              f"label and properties from the submission: {made_row}")
        summary["entities"]["from_submission"] = 1
        path = work / "followup.xlsx"
        followup_xlsform(path)
        client.forms.create(definition=str(path))
        decided = requests.post(f"{base}/api/v1/collect/projects/1/forms/followup/decision",
                                json={"approve": True}, headers=headers, timeout=30)
        check(decided.status_code == 200, f"the follow-up is approved: {decided.text}")

    # OpenRosa, as ODK Collect speaks it, with an app user's token.
    made = requests.post(f"{base}/v1/projects/1/app-users", json={"displayName": "城东社区 平板 3"},
                         headers={"Authorization": f"Bearer {designer}"}, timeout=30)
    check(made.status_code == 200 and made.json().get("token"), f"app user: {made.text}")
    key = made.json()["token"]
    openrosa = {"X-OpenRosa-Version": "1.0"}
    listing = requests.get(f"{base}/v1/key/{key}/projects/1/formList", headers=openrosa, timeout=30)
    check(listing.status_code == 200 and listing.headers.get("X-OpenRosa-Version") == "1.0", "form list")
    check("<formID>elderly_visit</formID>" in listing.text and "shop_recheck" not in listing.text,
          f"approved forms only: {listing.text}")
    xform = requests.get(f"{base}/v1/key/{key}/projects/1/forms/elderly_visit.xml", timeout=30)
    check(xform.status_code == 200 and 'id="elderly_visit"' in xform.text, "the XForm downloads")
    manifest = requests.get(f"{base}/v1/key/{key}/projects/1/forms/elderly_visit/manifest", timeout=30)
    check(manifest.status_code == 200 and "xformsManifest" in manifest.text, "the manifest")
    # A form choosing from an entity list gets the list as a CSV file of its manifest.
    manifest = requests.get(f"{base}/v1/key/{key}/projects/1/forms/followup/manifest", headers=openrosa, timeout=30)
    check("<filename>registered.csv</filename>" in manifest.text, f"the list in the manifest: {manifest.text}")
    csv_url = f"{base}/v1/key/{key}/projects/1/forms/followup/attachments/registered.csv"
    check(csv_url in manifest.text, f"its download address: {manifest.text}")
    listed_csv = requests.get(csv_url, headers=openrosa, timeout=30)
    check(listed_csv.status_code == 200 and listed_csv.text.splitlines()[0] == "name,label,__version,head,members"
          and f"{entity_id},赵德明 户,1,赵德明,4" in listed_csv.text, f"the list as CSV: {listed_csv.text}")
    summary["openrosa_entity_list"] = len(listed_csv.text.splitlines()) - 1
    head = requests.head(f"{base}/v1/key/{key}/projects/1/submission", headers=openrosa, timeout=30)
    check(head.status_code == 204, f"HEAD before submitting: {head.status_code}")
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    collect_id = f"uuid:{uuid.uuid4()}"
    body = instance(collect_id, head="陈建国", residents="1", photo="door.png")

    def send(xml):
        return requests.post(
            f"{base}/v1/key/{key}/projects/1/submission", headers=openrosa, timeout=30,
            files={"xml_submission_file": ("submission.xml", xml.encode("utf-8"), "text/xml"),
                   "door.png": ("door.png", photo, "image/png")},
        )

    first = send(body)
    check(first.status_code == 201 and "OpenRosaResponse" in first.text, f"OpenRosa submission: {first.status_code} {first.text}")
    again = send(body)
    check(again.status_code == 201, f"the same instance again is accepted: {again.status_code}")
    other = send(body.replace("陈建国", "陈建军"))
    check(other.status_code == 409, f"other content under the same instanceID: {other.status_code}")
    staff = {"Authorization": f"Bearer {designer}"}
    listed = requests.get(f"{base}/v1/projects/1/forms/elderly_visit/submissions", headers=staff, timeout=30).json()
    check(sum(1 for s in listed if s["instanceId"] == collect_id) == 1, f"kept once: {listed}")
    files = requests.get(f"{base}/v1/projects/1/forms/elderly_visit/submissions/{collect_id}/attachments",
                         headers=staff, timeout=30).json()
    check(files == [{"exists": True, "name": "door.png"}], f"the photo is stored: {files}")
    other_project = requests.get(f"{base}/v1/key/{key}/projects/2/formList", timeout=30)
    check(other_project.status_code in (403, 404), "an app user sees only its project")
    summary["openrosa"] = {"submissions": len(listed), "resubmission": again.status_code, "conflict": other.status_code}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
