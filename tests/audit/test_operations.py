"""Every state-changing operation of the API writes its audit entry, with before and after.

``AUDITED`` names the audit action of each operation that changes what the hub is told to
do; ``NOT_AUDITED`` says why the others need none. An operation added to the API without a
line in either table fails :func:`test_every_state_changing_operation_is_in_the_table`, and
:func:`test_each_audited_operation_writes_its_entry` performs every operation of the table
against a real hub and reads its entry back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from tests.access.peers import wait_until
from tests.audit.reading import entries, one_entry, wait_for_entry
from tests.conftest import ADMIN_KEY
from tests.deliveries.test_dead_letters import refuses_bad_lines
from tests.deliveries.test_delivery_api import make_route, post_event
from tests.inbound.test_webhook_inbound import make_inbound_connection, signed
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer
from tests.sinks import SECRET, Sink

AUDITED = {
    ("POST", "/v1/clients"): "client.create",
    ("PATCH", "/v1/clients/{client}"): "client.update",
    ("POST", "/v1/clients/{client}/revoke"): "client.revoke",
    ("POST", "/v1/connections"): "connection.create",
    ("PATCH", "/v1/connections/{connection}"): "connection.update",
    ("DELETE", "/v1/connections/{connection}"): "connection.delete",
    ("POST", "/v1/routes"): "route.create",
    ("PATCH", "/v1/routes/{route}"): "route.update",
    ("POST", "/v1/routes/{route}/pause"): "route.pause",
    ("POST", "/v1/routes/{route}/resume"): "route.resume",
    ("DELETE", "/v1/routes/{route}"): "route.delete",
    ("POST", "/v1/routes/{route}/backfill"): "route.backfill",
    ("PATCH", "/v1/deadletters/{letter_id}"): "deadletter.edit",
    ("POST", "/v1/deadletters/{letter_id}/replay"): "deadletter.replay",
    ("POST", "/v1/deadletters/{letter_id}/discard"): "deadletter.discard",
    ("POST", "/v1/deadletters/replays"): "deadletter.bulk_replay",
}
# Entries the hub writes itself when the job an operation started ends.
FINISHES = {
    "route.backfill": "route.backfill.finish",
    "deadletter.bulk_replay": "deadletter.bulk_replay.finish",
}
NOT_AUDITED = {
    ("POST", "/v1/messages"): "data, not administration: the stored message is its own record",
    ("POST", "/v1/messages/batch"): "idem, per message",
    ("POST", "/v1/connections/{connection}/inbound"): (
        "data a connection's system pushes: stored as messages or inbound dead letters"
    ),
    ("POST", "/v1/connections/{connection}/check"): "a health check: changes nothing",
    ("POST", "/v1/contracts/{family}/compatibility"): "a read-only verdict on a candidate",
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
NEW_SECRET = "whsec_" + "cm90YXRlZC1zaWduaW5nLWtleS1mb3ItdGhlLWF1ZGl0LXRlc3Q="


def test_every_state_changing_operation_is_in_the_table(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as admin:
        document = admin.get("/openapi.json").json()
    live = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in STATE_CHANGING
    }
    assert not AUDITED.keys() & NOT_AUDITED.keys()
    unlisted = live - AUDITED.keys() - NOT_AUDITED.keys()
    assert not unlisted, f"say in AUDITED which audit action these write: {sorted(unlisted)}"
    gone = (AUDITED.keys() | NOT_AUDITED.keys()) - live
    assert not gone, f"no longer in the API: {sorted(gone)}"


def _too_big(event_id: str, subject: str) -> dict[str, Any]:
    event = a_valid_event("reservation", event_id)
    event["subject"] = subject
    event["data"]["lines"][0]["requested_qty"] = 500
    return event


def _letter_of(client: httpx.Client, event_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        for letter in client.get("/v1/deadletters", params={"limit": 500}).json()["items"]:
            event = client.get(f"/v1/deadletters/{letter['id']}").json()["event"]
            if event and event["id"] == event_id:
                found: dict[str, Any] = letter
                return found
        return None

    letter: dict[str, Any] = wait_until(find)
    return letter


def test_each_audited_operation_writes_its_entry(hub: HubServer) -> None:
    seen: set[str] = set()

    def entry_of(client: httpx.Client, action: str, target_id: str) -> dict[str, Any]:
        found = one_entry(client, action=action, target_id=target_id)
        assert found["actor"] == admin_actor, found
        seen.add(action)
        return found

    with Sink(behaviour=refuses_bad_lines) as sink, hub.client(ADMIN_KEY) as client:
        bootstrap = client.get("/v1/clients/bootstrap-admin").json()
        admin_actor = {"id": bootstrap["id"], "name": "bootstrap-admin"}

        # Clients: create, update, revoke. Never the key, only its prefix.
        created = client.post("/v1/clients", json={"name": "auditee", "scopes": ["ops"]}).json()
        key, client_id = created.pop("key"), created["id"]
        entry = entry_of(client, "client.create", client_id)
        assert entry["target"] == {"type": "client", "id": client_id}
        assert entry["before"] is None
        assert entry["after"]["scopes"] == ["ops"]
        assert entry["after"]["key_prefix"] == key[:10]
        client.patch("/v1/clients/auditee", json={"scopes": ["ops", "messages:read"]})
        entry = entry_of(client, "client.update", client_id)
        assert (entry["before"]["scopes"], entry["after"]["scopes"]) == (
            ["ops"],
            ["messages:read", "ops"],
        )
        client.post("/v1/clients/auditee/revoke")
        entry = entry_of(client, "client.revoke", client_id)
        assert entry["before"]["revoked_at"] is None and entry["after"]["revoked_at"]

        # Connections: create, update (a new secret: named, never shown), delete.
        spare = client.post(
            "/v1/connections",
            json={
                "name": "spare",
                "connector": "webhook",
                "config": {"url": sink.url, "signing_secret": SECRET},
            },
        ).json()
        entry = entry_of(client, "connection.create", spare["id"])
        assert entry["before"] is None
        assert entry["after"]["secrets_set"] == ["signing_secret"]
        assert entry["after"]["config"]["url"] == sink.url
        changed = client.patch(
            "/v1/connections/spare",
            json={"config": {"signing_secret": NEW_SECRET}, "timeout_seconds": 3},
        )
        assert changed.status_code == 200, changed.text
        entry = entry_of(client, "connection.update", spare["id"])
        assert entry["detail"] == "secrets replaced: signing_secret"
        assert (entry["before"]["timeout_seconds"], entry["after"]["timeout_seconds"]) != (3, 3)
        assert entry["after"]["timeout_seconds"] == 3
        assert client.delete("/v1/connections/spare").status_code == 204
        entry = entry_of(client, "connection.delete", spare["id"])
        assert entry["before"]["name"] == "spare" and entry["after"] is None

        # Routes: create, update, pause, resume, delete, backfill.
        route = make_route(client, sink, name="wms", on_dead_letter="skip")
        entry = entry_of(client, "route.create", route["id"])
        assert entry["after"]["types"] == ["*"] and entry["before"] is None
        client.patch("/v1/routes/wms", json={"types": ["reservation.*"]})
        entry = entry_of(client, "route.update", route["id"])
        assert (entry["before"]["types"], entry["after"]["types"]) == (["*"], ["reservation.*"])
        refused = client.patch("/v1/routes/wms", json={"filter": "[[[not jmespath"})
        assert refused.status_code == 422  # refused: nothing changed, nothing recorded
        assert len(entries(client, action="route.update", target_id=route["id"])) == 1
        client.post("/v1/routes/wms/pause")
        entry = entry_of(client, "route.pause", route["id"])
        assert (entry["before"], entry["after"]) == ({"paused": False}, {"paused": True})
        client.post("/v1/routes/wms/resume")
        entry = entry_of(client, "route.resume", route["id"])
        assert (entry["before"], entry["after"]) == ({"paused": True}, {"paused": False})
        doomed = client.post(
            "/v1/routes", json={"name": "doomed", "connection": "wms-conn", "types": ["receipt.*"]}
        ).json()
        assert client.delete("/v1/routes/doomed").status_code == 204
        entry = entry_of(client, "route.delete", doomed["id"])
        assert entry["before"]["name"] == "doomed" and entry["after"] is None

        # Dead letters: edit + replay one, discard one, replay the rest in bulk.
        for event_id, subject in (("fix-me", "S-1"), ("drop-me", "S-2"), ("bulk-me", "S-3")):
            post_event(client, _too_big(event_id, subject))
        fix = _letter_of(client, "fix-me")
        data = client.get(f"/v1/deadletters/{fix['id']}").json()["event"]["data"]
        fixed = {**data, "lines": [{**line, "requested_qty": 50} for line in data["lines"]]}
        client.patch(f"/v1/deadletters/{fix['id']}", json={"data": fixed})
        entry = entry_of(client, "deadletter.edit", fix["id"])
        assert entry["before"]["data"]["lines"][0]["requested_qty"] == 500
        assert entry["after"]["data"]["lines"][0]["requested_qty"] == 50
        client.post(f"/v1/deadletters/{fix['id']}/replay")
        entry = entry_of(client, "deadletter.replay", fix["id"])
        assert (entry["before"]["status"], entry["after"]["status"]) == ("open", "replayed")
        drop = _letter_of(client, "drop-me")
        client.post(f"/v1/deadletters/{drop['id']}/discard", json={"reason": "order cancelled"})
        entry = entry_of(client, "deadletter.discard", drop["id"])
        assert (entry["before"]["status"], entry["after"]["status"]) == ("open", "discarded")
        assert entry["detail"] == "order cancelled"
        _letter_of(client, "bulk-me")
        job = client.post("/v1/deadletters/replays", json={"route": "wms"}).json()
        entry = entry_of(client, "deadletter.bulk_replay", job["id"])
        assert entry["target"] == {"type": "job", "id": job["id"]}
        assert entry["after"]["route"] == "wms" and entry["detail"] == "1 dead letters"
        finish = wait_for_entry(client, action="deadletter.bulk_replay.finish", target_id=job["id"])
        assert finish["actor"] == {"id": None, "name": "system"}
        assert finish["after"]["status"] == "done"
        assert finish["after"]["created_by"] == "bootstrap-admin"
        assert (finish["after"]["processed"], finish["after"]["succeeded"]) == (1, 1)
        seen.add("deadletter.bulk_replay.finish")

        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        job = client.post("/v1/routes/wms/backfill", json={"since": since}).json()
        entry = entry_of(client, "route.backfill", route["id"])
        assert entry["detail"] == job["id"] and entry["after"]["since"] == since
        finish = wait_for_entry(client, action="route.backfill.finish", target_id=job["id"])
        assert finish["after"]["status"] == "done" and finish["after"]["processed"] == 3
        seen.add("route.backfill.finish")

        everything = orjson.dumps(entries(client)).decode()
    assert seen == set(AUDITED.values()) | set(FINISHES.values())
    for secret in (key, SECRET, NEW_SECRET):
        assert secret not in everything


def test_inbound_dead_letters_are_audited_like_outbound_ones(hub: HubServer) -> None:
    with hub.client(ADMIN_KEY) as client:
        make_inbound_connection(client)
        letters = []
        for number in range(2):
            event = a_valid_event("reservation", f"broken-{number}")
            event["data"]["lines"][0]["item"]["gtin"] = "4006381333932"  # wrong check digit
            body = orjson.dumps(event)
            pushed = client.post(
                "/v1/connections/peer/inbound", content=body, headers=signed(body, f"wh-{number}")
            )
            [item] = pushed.json()["items"]
            assert item["status"] == "dead_lettered", item
            letters.append(item["dead_letter_id"])

        # Still broken: the replay is refused and, having changed nothing, not recorded.
        assert client.post(f"/v1/deadletters/{letters[0]}/replay").status_code == 422
        assert entries(client, target_id=letters[0]) == []
        client.post(f"/v1/deadletters/{letters[0]}/discard", json={"reason": "sender resends"})
        discard = one_entry(client, action="deadletter.discard", target_id=letters[0])
        assert discard["before"]["direction"] == "inbound"
        assert (discard["before"]["status"], discard["after"]["status"]) == ("open", "discarded")

        job = client.post("/v1/deadletters/replays", json={"direction": "inbound"}).json()
        one_entry(client, action="deadletter.bulk_replay", target_id=job["id"])
        finish = wait_for_entry(client, action="deadletter.bulk_replay.finish", target_id=job["id"])
    # The letter that still fails stays open and counts as failed.
    assert finish["after"] == {
        "status": "done",
        "total": 1,
        "processed": 1,
        "succeeded": 0,
        "failed": 1,
        "created_by": "bootstrap-admin",
    }
