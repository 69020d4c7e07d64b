"""tongban's ODK routes against ODK Central's own API document, with schemathesis.

Usage: python odk_schema.py CENTRAL_API_YAML BASE_URL TOKEN WORK_DIR EXAMPLES

The operations tongban serves at Central's addresses (the ones ODK Collect and pyodk call) are
fuzzed from Central's document (../shared/conformance/odk/central-api.yaml) as the staff of the
demo city's civil-affairs project (project 2: its forms, its entity list `elders`), with
schemathesis's checks: no server error, status codes, content types and response bodies as the
document describes them, data the document forbids refused.

The path parameters are pinned to what the demo holds (the project, its forms, a submission, the
list and an entity), so that requests reach the server's logic instead of answering 404; the
rest of each request is generated. Three things are relaxed, each where the document says less
than Central does or where tongban serves a part of Central on purpose:
  - a property the document types (a string, a number, an object) may be null: Central sends
    null for what is not set (`deletedAt`, `keyId`, `reviewState` …) though the document does
    not mark such properties nullable;
  - every operation may answer 4xx with Central's error body (`{"code": 404.1, "message"}`, or
    an OpenRosaResponse on the OpenRosa routes): the document lists few of the errors Central
    gives (an unknown project answers 404.1);
  - the check that a resource's `Allow` header lists the document's methods is left out: tongban
    serves the operations ODK Collect and pyodk use, not the whole of Central (no form
    versions, no deletion of projects), and its `Allow` lists what it serves.
And where the document contradicts itself or Central, it is corrected before the run (each in
`correct` below, with what the document says elsewhere).
"""

import subprocess
import sys
from pathlib import Path

import yaml

# The operations tongban serves, by Central's names for them.
SERVED = [
    "GET /v1/users/current",
    "GET /v1/projects",
    "GET /v1/projects/{id}",
    "GET /v1/projects/{projectId}/app-users",
    "POST /v1/projects/{projectId}/app-users",
    "DELETE /v1/projects/{projectId}/app-users/{id}",
    "GET /v1/projects/{projectId}/forms",
    "POST /v1/projects/{projectId}/forms",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}.xml",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/manifest",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/attachments/{filename}",
    "POST /v1/projects/{projectId}/forms/{xmlFormId}/draft/publish",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/submissions",
    "POST /v1/projects/{projectId}/forms/{xmlFormId}/submissions",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/submissions/{instanceId}",
    "PATCH /v1/projects/{projectId}/forms/{xmlFormId}/submissions/{instanceId}",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/submissions.csv",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/submissions.csv.zip",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/submissions/{instanceId}.xml",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}/submissions/{instanceId}/attachments",
    "GET /v1/projects/{projectId}/forms/{xmlFormId}.svc/{table}",
    "POST /v1/projects/{projectId}/submission",
    "GET /v1/projects/{projectId}/datasets",
    "POST /v1/projects/{projectId}/datasets",
    "GET /v1/projects/{projectId}/datasets/{name}",
    "POST /v1/projects/{projectId}/datasets/{name}/properties",
    "GET /v1/projects/{projectId}/datasets/{name}/entities",
    "POST /v1/projects/{projectId}/datasets/{name}/entities",
    "GET /v1/projects/{projectId}/datasets/{name}/entities/{uuid}",
    "PATCH /v1/projects/{projectId}/datasets/{name}/entities/{uuid}",
    "DELETE /v1/projects/{projectId}/datasets/{name}/entities/{uuid}",
    "GET /v1/projects/{projectId}/datasets/{name}.svc/Entities",
]

ERROR = {
    "description": "Central's error body",
    "content": {
        "application/json": {"schema": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "number"}, "message": {"type": "string"}},
        }},
        "text/xml": {"schema": {"type": "string"}},
    },
}

# What the demo city holds, for the path parameters (by name; `id` is the project in
# /v1/projects/{id}).
PINNED = {
    "projectId": 2,
    "xmlFormId": "elderly_visit",
    "instanceId": "uuid:demo-elderly-0001",
    "name": "elders",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "filename": "elders.csv",
    "table": "Submissions",
}


def nullable(schema):
    """Marks a schema and every schema inside it nullable (walking schemas, not their maps of
    properties, whose keys are names)."""
    if isinstance(schema, list):
        for item in schema:
            nullable(item)
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("type"), str):
        schema["nullable"] = True
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "schemas", "content", "responses", "headers"):
            if isinstance(value, dict):
                for inner in value.values():
                    nullable(inner)
        elif key in ("items", "additionalProperties", "not", "schema"):
            nullable(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            nullable(value)


def json_schema(operation, status):
    response = operation.get("responses", {}).get(status) or {}
    return ((response.get("content") or {}).get("application/json") or {}).get("schema")


def correct(document):
    """The document's own contradictions, corrected as its examples and other schemas have them.
    Returns what was corrected."""
    done = []
    paths = document["paths"]
    # 1. A few error responses type `code` as a string; Error400…Error409 and every example of
    #    Central's errors give a number (409.1).
    for path, operations in paths.items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for status in operation.get("responses", {}):
                schema = json_schema(operation, status)
                code = (schema or {}).get("properties", {}).get("code")
                if str(status).startswith("4") and isinstance(code, dict) and code.get("type") == "string":
                    code["type"] = "number"
                    done.append(f"{method.upper()} {path} {status}: code is a number")
    # 2. The submissions table's rows are described by the example form's questions (age,
    #    name); a table has the questions of its own form, and always `__id`.
    table = json_schema(paths["/v1/projects/{projectId}/forms/{xmlFormId}.svc/{table}"]["get"], "200")
    table["properties"]["value"]["items"] = {"type": "object", "required": ["__id"]}
    done.append("the OData submissions row: the form's own questions")
    # 3. The entities table's `__system.updates` is typed a string; the document's examples
    #    of the same table give a number (`updates: 1`).
    system = document["components"]["schemas"]["EntityOdata"]["properties"]["value"]["items"]["properties"]["__system"]
    system["properties"]["updates"]["type"] = "number"
    done.append("EntityOdata __system.updates: a number, as in the examples")
    # 4. One entity is described as an array of entities; its example, and pyodk, read one
    #    object.
    one = paths["/v1/projects/{projectId}/datasets/{name}/entities/{uuid}"]["get"]
    one["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Entity"}
    done.append("GET one entity: an object")
    # 5. A form attachment's media type is written as a sentence ("{the MIME type of the
    #    attachment file itself}"); it is the file's own type.
    attachment = paths["/v1/projects/{projectId}/forms/{xmlFormId}/attachments/{filename}"]["get"]
    attachment["responses"]["200"]["content"] = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    done.append("a form attachment: any media type")
    # 6. The root table's export is said to "directly give you CSV data", and typed as a ZIP.
    root = paths["/v1/projects/{projectId}/forms/{xmlFormId}/submissions.csv"]["get"]
    root["responses"]["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}
    done.append("the root table's export: CSV, as its description says")
    return done


def pin(path, operation, shared):
    for parameter in list(operation.get("parameters", [])) + list(shared):
        if not isinstance(parameter, dict) or parameter.get("in") != "path":
            continue
        name = parameter.get("name")
        value = PINNED.get(name)
        if name == "id" and path.startswith("/v1/projects/{id}"):
            value = PINNED["projectId"]
        if name == "xmlFormId" and path.endswith("/attachments/{filename}"):
            value = "elderly_followup"
        if value is not None:
            parameter["schema"] = {"type": "integer" if isinstance(value, int) else "string", "enum": [value]}


def main():
    source, base, token, work, examples = sys.argv[1:6]
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    corrected = correct(document)
    nullable(list(document.get("components", {}).get("schemas", {}).values()))
    for path, operations in document["paths"].items():
        shared = operations.get("parameters", [])
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                for response in operation["responses"].values():
                    for media in (response.get("content") or {}).values():
                        nullable(media.get("schema"))
                operation["responses"].setdefault("4XX", ERROR)
                pin(path, operation, shared)
    relaxed = work / "central-api.yaml"
    relaxed.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    command = [
        "schemathesis", "run", str(relaxed), "--url", base,
        "-H", f"Authorization: Bearer {token}",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance,allow_header_conformance",
        "--suppress-health-check", "filter_too_much",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", examples, "--seed", "20261207", "--no-color",
    ]
    for name in SERVED:
        command += ["--include-name", name]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True)
    (work / "report.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    print("corrected in the document:", *corrected, sep="\n  ")
    print(done.stdout[-4000:])
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
