"""``POST /v1/contracts/{family}/compatibility`` on a real hub over HTTP."""

from __future__ import annotations

import copy
from typing import Any

from hub.clients.service import ClientService
from hub.settings import Settings
from hub.store.database import create_hub_engine, make_sessionmaker, transaction
from tests.conftest import ADMIN_KEY
from tests.servers import HubServer

URL = "/v1/contracts/backorder/compatibility"


def _key_with(settings: Settings, scope: str) -> str:
    engine = create_hub_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return ClientService().create(session, name=f"only-{scope}", scopes=[scope]).key
    finally:
        engine.dispose()


def _backorder(hub: HubServer) -> dict[str, Any]:
    with hub.client(ADMIN_KEY) as client:
        response = client.get("/v1/contracts/backorder/versions/1.0")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()["schema"]
    return schema


def test_a_verdict_with_one_explanation_per_change(hub: HubServer, settings: Settings) -> None:
    original = _backorder(hub)
    candidate = copy.deepcopy(original)
    candidate["properties"]["reason_code"]["enum"].append("ZZ")
    del candidate["$id"]
    del candidate["x-crossdock"]["version"]
    writer = _key_with(settings, "messages:write")
    with hub.client(writer) as client:
        response = client.post(URL, json={"schema": candidate})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["family"] == "backorder"
    assert body["version"] == "1.1"
    assert body["mode"] == "BACKWARD_TRANSITIVE"
    assert body["compatible"] is True
    assert body["new_major"] is False
    assert body["modes"]["FORWARD"] is False and body["modes"]["BACKWARD"] is True
    (comparison,) = body["comparisons"]
    assert comparison["against"] == "1.0" and comparison["judged"] is True
    assert comparison["changes"] == [
        {
            "pointer": "/properties/reason_code/enum",
            "kind": "enum-value-added",
            "breaks": "consumers",
            "forbidden": False,
            "message": 'value "ZZ" added: old consumers refuse it',
            "data_paths": ["/reason_code"],
        }
    ]

    candidate["properties"]["open_qty"] = {"type": "integer", "minimum": 0}
    candidate["$defs"]["line"]["required"].append("location")
    with hub.client(writer) as client:
        response = client.post(URL, json={"schema": candidate, "version": "1.1"})
    body = response.json()
    assert response.status_code == 200
    assert body["compatible"] is False
    assert "not BACKWARD_TRANSITIVE-compatible: 2 forbidden changes against 1.0" in body["detail"]
    forbidden = [
        (c["pointer"], c["kind"], c["breaks"])
        for c in body["comparisons"][0]["changes"]
        if c["forbidden"]
    ]
    assert sorted(forbidden) == [
        ("/$defs/line/required", "required-added", "producers"),
        ("/properties/open_qty/type", "type-narrowed", "producers"),
    ]

    with hub.client(writer) as client:
        response = client.post(URL, json={"schema": candidate, "version": "2.0"})
    body = response.json()
    assert body["compatible"] is True and body["new_major"] is True
    assert body["comparisons"][0]["judged"] is False


def test_candidates_the_gate_cannot_compare_are_422_problems(hub: HubServer) -> None:
    original = _backorder(hub)
    not_schema = copy.deepcopy(original)
    not_schema["properties"]["status"]["type"] = "text"
    remote = copy.deepcopy(original)
    remote["properties"]["uom"] = {"$ref": "https://example.com/uom.json"}
    other_family = copy.deepcopy(original)
    other_family["x-crossdock"]["family"] = "receipt"
    cases = [
        (not_schema, "/schema/properties/status/type", "meta-schema:anyOf"),
        (remote, "/schema/properties/uom/$ref", "ref-local"),
        (other_family, "/schema/x-crossdock/family", "identity"),
    ]
    with hub.client(ADMIN_KEY) as client:
        for schema, pointer, rule in cases:
            response = client.post(URL, json={"schema": schema})
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["type"] == "urn:crossdock:problem:invalid-schema"
            assert (pointer, rule) in [(v["pointer"], v["rule"]) for v in problem["violations"]]
            assert problem["instance"] == URL
        mismatch = client.post(URL, json={"schema": original, "version": "1.1"})
        assert mismatch.status_code == 422
        assert [v["pointer"] for v in mismatch.json()["violations"]] == [
            "/schema/x-crossdock/version",
            "/schema/$id",
        ]
        bad_version = client.post(URL, json={"schema": original, "version": "one"})
        assert bad_version.status_code == 422
        assert bad_version.json()["type"] == "urn:crossdock:problem:invalid-parameters"
        unknown = client.post("/v1/contracts/widget/compatibility", json={"schema": original})
        assert unknown.status_code == 404
        assert unknown.json()["type"] == "urn:crossdock:problem:not-found"
    with hub.client() as anonymous:
        refused = anonymous.post(URL, json={"schema": original})
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:crossdock:problem:unauthorized"


def test_the_operation_is_documented(hub: HubServer) -> None:
    with hub.client() as client:
        spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/contracts/{family}/compatibility"]["post"]
    assert operation["security"] == [{"ApiKey": []}]
    assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])
    verdict = spec["components"]["schemas"]["CompatibilityVerdict"]
    assert {"compatible", "mode", "comparisons", "modes", "detail"} <= set(verdict["properties"])
