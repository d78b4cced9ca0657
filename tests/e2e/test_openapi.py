"""docs/openapi.yaml: a valid OpenAPI 3.1 document that covers every route of the coordinator, and whose
schemas real answers of a live `tally coordinator` validate against (jsonschema, draft 2020-12).

The test plays the worker itself for the worker protocol, so it sees leases, heartbeats and refusals."""

import gzip
import json
import re

import jsonschema
import openapi_spec_validator
import pytest
import yaml

from cluster_util import Cluster, http, wait_until
from conftest import MAIN_FROM, MAIN_TO
from e2e_util import REPO

DOC_PATH = REPO / "docs" / "openapi.yaml"
SOURCES = REPO / "Sources" / "TallyCoordinator"


@pytest.fixture(scope="module")
def doc():
    assert DOC_PATH.is_file(), f"{DOC_PATH} is missing"
    return yaml.safe_load(DOC_PATH.read_text())


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        assert node["$ref"].startswith("#/"), node
        node = _pointer(doc, node["$ref"])
    return node


def _pointer(doc, ref):
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_of(doc, path, method, status, media="application/json"):
    """The schema the document gives for a response (or, with status=None, the request body)."""
    op = doc["paths"][path][method]
    part = resolve(doc, op["requestBody"]) if status is None else resolve(doc, op["responses"][str(status)])
    assert "content" in part and media in part["content"], f"{method.upper()} {path} {status}: no {media} content"
    return part["content"][media]["schema"]


def check(doc, path, method, status, instance, media="application/json"):
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"],
              **schema_of(doc, path, method, status, media)}
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, (f"{method.upper()} {path} → {status}: the answer does not match docs/openapi.yaml:\n"
                        + "\n".join(f"  at {list(e.path)}: {e.message}" for e in errors[:10])
                        + f"\nanswer: {json.dumps(instance)[:2000]}")


def answer(c, method, path, body=None, **kw):
    status, headers, raw = http(method, c.url + path, body, **kw)
    return status, headers, (json.loads(raw) if raw and headers.get("Content-Type", "").startswith("application/json")
                             else raw)


# ------------------------------------------------------------------------------ the document itself

def test_document_is_valid_openapi_3_1(doc):
    assert str(doc.get("openapi", "")).startswith("3.1"), doc.get("openapi")
    openapi_spec_validator.validate(doc)


def swift_routes():
    """(METHOD, path with {} for parameters) of every route the coordinator's router registers."""
    routes = set()
    for f in SOURCES.rglob("*.swift"):
        text = f.read_text()
        groups = {"router": ""}
        for var, prefix in re.findall(r'let (\w+) = router\.group\("([^"]*)"\)', text):
            groups[var] = "/" + prefix.strip("/")
        for var, method, path in re.findall(r'\b(\w+)\.(get|post|put|delete|patch)\s*(?:\{|\(\s*(?:"([^"]*)")?)', text):
            if var not in groups:
                continue
            full = groups[var] + ("/" + path.strip("/") if path else "")
            routes.add((method.upper(), re.sub(r":\w+", "{}", full or "/")))
    return routes


def test_every_route_is_documented(doc):
    """API routes in docs/openapi.yaml; the HTML pages (everything else) in docs/security.md's role table."""
    everything = swift_routes()
    routes = {(m, p) for m, p in everything if p.startswith("/v1/") or p in ("/healthz", "/readyz", "/metrics")}
    pages = everything - routes
    security = (REPO / "docs" / "security.md").read_text()
    assert {("GET", "/"), ("POST", "/reports"), ("GET", "/admin/tokens")} <= pages, pages
    missing = [p for _, p in pages if f"`{p.replace('{}', '{id}')}`" not in security and p.replace("{}", "{id}") not in security
               and p.replace("{}", "*") not in security]
    assert not missing, f"pages missing from docs/security.md: {missing}"
    expected = {("POST", "/v1/jobs"), ("GET", "/v1/jobs"), ("GET", "/v1/jobs/{}"), ("DELETE", "/v1/jobs/{}"),
                ("GET", "/v1/jobs/{}/result"), ("POST", "/v1/worker/lease"), ("POST", "/v1/worker/leases/{}/heartbeat"),
                ("PUT", "/v1/worker/leases/{}/partial"), ("POST", "/v1/worker/leases/{}/failure"),
                ("GET", "/healthz"), ("GET", "/metrics")}
    assert expected <= routes, f"the route scan of {SOURCES} missed {expected - routes} (scan found {routes})"
    documented = {(m.upper(), re.sub(r"\{\w+\}", "{}", p)) for p, ops in doc["paths"].items() for m in ops
                  if m in ("get", "post", "put", "delete", "patch")}
    assert routes - documented == set(), f"routes missing from docs/openapi.yaml: {sorted(routes - documented)}"
    assert documented - routes == set(), f"documented routes the coordinator does not serve: {sorted(documented - routes)}"


def test_result_and_partial_media_types(doc):
    result = doc["paths"]["/v1/jobs/{id}/result"]["get"]["responses"]["200"]
    assert "text/csv" in result["content"]
    assert "gzip" in result["headers"]["Content-Encoding"]["schema"]["enum"]
    assert "application/octet-stream" in doc["paths"]["/v1/worker/leases/{lease_id}/partial"]["put"]["requestBody"]["content"]


def test_schemas_are_strict(doc):
    """A camelCase key or a missing field is caught: the live checks below would notice drift."""
    good = {"error": "no job 'x'", "field": "id"}
    check(doc, "/v1/jobs/{id}", "get", 404, good)
    with pytest.raises(AssertionError):
        check(doc, "/v1/jobs/{id}", "get", 404, {"error": "x", "fieldName": "id"})
    with pytest.raises(AssertionError):
        check(doc, "/v1/worker/lease", "post", 200, {"leaseId": "a"})


# ------------------------------------------------------------------------------ against a live coordinator

@pytest.fixture(scope="module")
def live(tally, main_data, tmp_path_factory):
    sources = [{"name": "logs", "kind": "file", "url": main_data["twingate-csv"], "format": "twingate-csv"}]
    c = Cluster(tmp_path_factory.mktemp("openapi"), sources, lease_seconds=30, max_attempts=3, tally=tally)
    try:
        c.start_coordinator()
        yield c
    finally:
        c.close()


def test_live_answers_match_the_document(doc, live, main_refs):
    c = live
    request = {"report": "active-users", "source": "logs", "from": MAIN_FROM, "to": MAIN_TO}
    check(doc, "/v1/jobs", "post", None, request)
    status, _, job = answer(c, "POST", "/v1/jobs", request)
    assert status == 202, (status, job)
    check(doc, "/v1/jobs", "post", 202, job)
    job_id = job["id"]

    # errors
    for method, path, body, want in (
            ("POST", "/v1/jobs", dict(request, source="nope"), 400),
            ("POST", "/v1/jobs", dict(request, to=MAIN_FROM), 400),
            ("POST", "/v1/jobs", {"report": "active-users"}, 400),
            ("POST", "/v1/jobs", dict(request, window="1d"), 400),
            ("POST", "/v1/jobs", dict(request, timezone=None), 400),
            ("GET", "/v1/jobs?limit=0", None, 400),
            ("GET", "/v1/jobs/no-such-job", None, 404),
            ("GET", f"/v1/jobs/{job_id}/result", None, 409),
            ("POST", "/v1/worker/lease", {"worker": "spec", "protocol_version": 99}, 400)):
        status, headers, body_ = answer(c, method, path, body)
        assert status == want, (method, path, status, body_)
        assert headers["Content-Type"].startswith("application/json"), (method, path, dict(headers))
        doc_path = path.split("?")[0].replace("no-such-job", "{id}").replace(job_id, "{id}")
        check(doc, doc_path, method.lower(), want, body_)
    _, _, bad = answer(c, "POST", "/v1/jobs", dict(request, source="nope"))
    assert bad["field"] == "source", bad

    # the worker protocol, played by hand: lease (once the job is planned), heartbeat, refused upload, failure
    lease_request = {"worker": "spec-worker", "protocol_version": 2}
    check(doc, "/v1/worker/lease", "post", None, lease_request)
    grant = {}

    def leased():
        status, _, body = answer(c, "POST", "/v1/worker/lease", lease_request)
        assert status in (200, 204), (status, body)
        grant["g"] = body if status == 200 else None
        return status == 200
    wait_until(leased, 30, "a lease grant", interval=0.2, on_timeout=c.logs)
    g = grant["g"]
    check(doc, "/v1/worker/lease", "post", 200, g)
    assert g["job_id"] == job_id and g["task"]["objects"], g

    status, _, beat = answer(c, "POST", f"/v1/worker/leases/{g['lease_id']}/heartbeat")
    assert status == 200, (status, beat)
    check(doc, "/v1/worker/leases/{lease_id}/heartbeat", "post", 200, beat)
    assert beat["action"] == "continue", beat

    status, _, refused = answer(c, "PUT", f"/v1/worker/leases/{g['lease_id']}/partial", b"not a partial",
                                headers={"Content-Type": "application/octet-stream"})
    assert status == 400, (status, refused)
    check(doc, "/v1/worker/leases/{lease_id}/partial", "put", 400, refused)

    status, _, late = answer(c, "PUT", "/v1/worker/leases/no-such-lease/partial", b"x",
                             headers={"Content-Type": "application/octet-stream"})
    assert status == 409, (status, late)
    check(doc, "/v1/worker/leases/{lease_id}/partial", "put", 409, late)

    status, _, gone = answer(c, "POST", "/v1/worker/leases/no-such-lease/heartbeat")
    assert status == 410, (status, gone)
    check(doc, "/v1/worker/leases/{lease_id}/heartbeat", "post", 410, gone)

    status, _, ignored = answer(c, "POST", "/v1/worker/leases/no-such-lease/failure", {"reason": "late"})
    assert status == 204, (status, ignored)

    failure = {"reason": "the test gave this task up"}
    check(doc, "/v1/worker/leases/{lease_id}/failure", "post", None, failure)
    status, _, body = answer(c, "POST", f"/v1/worker/leases/{g['lease_id']}/failure", failure)
    assert status == 204, (status, body)
    assert "204" in doc["paths"]["/v1/worker/leases/{lease_id}/failure"]["post"]["responses"]

    # the failed task is offered again, after its retry delay (other tasks may be leased meanwhile)
    def leased_again():
        return leased() and grant["g"]["task"]["index"] == g["task"]["index"]
    wait_until(leased_again, 10, "the failed task to be leased again", interval=0.2, on_timeout=c.logs)
    second = grant["g"]
    check(doc, "/v1/worker/lease", "post", 200, second)
    assert second["lease_id"] != g["lease_id"] and second["task"]["index"] == g["task"]["index"], (g, second)

    # a running job's status
    status, _, running = answer(c, "GET", f"/v1/jobs/{job_id}")
    assert status == 200 and running["state"] == "running", running
    check(doc, "/v1/jobs/{id}", "get", 200, running)

    # cancel it: the cancelled status, a heartbeat that now says stop or gone
    status, _, cancelled = answer(c, "DELETE", f"/v1/jobs/{job_id}")
    assert status == 200 and cancelled["state"] == "cancelled", cancelled
    check(doc, "/v1/jobs/{id}", "delete", 200, cancelled)
    status, _, stop = answer(c, "POST", f"/v1/worker/leases/{second['lease_id']}/heartbeat")
    assert status in (200, 410), (status, stop)
    check(doc, "/v1/worker/leases/{lease_id}/heartbeat", "post", status, stop)
    assert status == 410 or stop["action"] == "stop", stop
    status, _, again = answer(c, "DELETE", f"/v1/jobs/{job_id}")
    assert status == 409, (status, again)
    check(doc, "/v1/jobs/{id}", "delete", 409, again)
    status, _, _ = answer(c, "POST", "/v1/worker/lease", lease_request)
    assert status == 204, "a lease was granted for a cancelled job"

    # a job run to the end by a real worker: the finished status and the result
    status, _, done = answer(c, "POST", "/v1/jobs", request)
    assert status == 202, done
    c.start_worker("spec-real-worker")
    final = c.wait_succeeded(done["id"], 120)
    check(doc, "/v1/jobs/{id}", "get", 200, final)
    assert {"users", "result_bytes", "finished_at", "started_at"} <= set(final), final

    status, headers, csv_body = answer(c, "GET", f"/v1/jobs/{done['id']}/result")
    assert status == 200 and headers["Content-Type"].startswith("text/csv") and csv_body == main_refs["twingate-csv"]
    status, headers, gz = answer(c, "GET", f"/v1/jobs/{done['id']}/result", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and gzip.decompress(gz) == main_refs["twingate-csv"]
    assert headers["Content-Encoding"] in schema_enum(doc)

    status, _, page = answer(c, "GET", "/v1/jobs?limit=1")
    assert status == 200 and len(page["jobs"]) == 1 and "next" in page, page
    check(doc, "/v1/jobs", "get", 200, page)
    status, _, rest = answer(c, "GET", f"/v1/jobs?limit=50&before={page['next']}")
    assert status == 200 and [j["id"] for j in rest["jobs"]] == [job_id] and "next" not in rest, rest
    check(doc, "/v1/jobs", "get", 200, rest)

    status, headers, text = answer(c, "GET", "/healthz")
    assert status == 200 and headers["Content-Type"].startswith("text/plain"), (status, dict(headers))
    check(doc, "/healthz", "get", 200, text.decode(), media="text/plain")
    status, headers, _ = answer(c, "GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")


def schema_enum(doc):
    return doc["paths"]["/v1/jobs/{id}/result"]["get"]["responses"]["200"]["headers"]["Content-Encoding"]["schema"]["enum"]
