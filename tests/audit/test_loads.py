"""``policy.load`` and ``mapping.load``: the files a hub runs with, recorded when they change;
and what ``crossdock serve`` and ``crossdock worker`` record on their own."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from hub.audit.loads import MappingLoadAudit
from hub.mappings import MappingRegistry
from hub.settings import Settings
from hub.store.database import make_sessionmaker
from tests.access.peers import wait_until
from tests.audit.reading import entries, one_entry
from tests.conftest import ADMIN_KEY, LOOPBACK_ENV, REPO
from tests.servers import HubProcess, HubServer


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def governance(tmp_path: Path) -> Path:
    copy = tmp_path / "governance"
    shutil.copytree(REPO / "governance", copy)
    return copy


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    copy = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings", copy)
    return copy


def _loads(client: httpx.Client, action: str, count: int) -> list[dict[str, Any]] | None:
    found = entries(client, action=action)
    return found if len(found) >= count else None


def test_policy_loads_are_recorded_when_the_files_change(
    settings: Settings, governance: Path
) -> None:
    settings.governance_path = governance
    with HubServer(settings) as hub, hub.client(ADMIN_KEY) as client:
        first = one_entry(client, action="policy.load")
    assert first["actor"] == {"id": None, "name": "system"}
    assert first["target"] == {"type": "policy", "id": "governance"}
    assert first["before"] is None and first["detail"] == "first load"
    files = first["after"]["files"]
    assert files["hub.yaml"] == _sha256(governance / "hub.yaml")
    assert files["contracts/reservation.yaml"] == _sha256(governance / "contracts/reservation.yaml")
    assert set(files) == {p.relative_to(governance).as_posix() for p in governance.rglob("*.yaml")}

    # The same files again: a restart adds nothing.
    with HubServer(settings) as hub, hub.client(ADMIN_KEY) as client:
        assert entries(client, action="policy.load") == [first]

    # One policy changed, one added: the next start records both, with what was before.
    hub_yaml = governance / "hub.yaml"
    hub_yaml.write_text(hub_yaml.read_text() + "\n# reviewed again\n")
    (governance / "contracts" / "backorder.yaml").unlink()
    with HubServer(settings) as hub, hub.client(ADMIN_KEY) as client:
        loads = entries(client, action="policy.load")
    assert len(loads) == 2
    assert loads[1]["before"] == first["after"]
    assert loads[1]["after"]["files"]["hub.yaml"] == _sha256(hub_yaml)
    assert loads[1]["detail"] == "changed: hub.yaml; removed: contracts/backorder.yaml"


def test_a_mapping_reload_is_recorded(settings: Settings, mappings: Path) -> None:
    settings.mappings_path = mappings
    with HubServer(settings) as hub, hub.client(ADMIN_KEY) as client:
        first = one_entry(client, action="mapping.load")
        assert first["target"] == {"type": "mapping", "id": "mappings"}
        edited = mappings / "shopify" / "orders-create.yaml"
        assert first["after"]["files"]["shopify/orders-create.yaml"] == _sha256(edited)
        edited.write_text(edited.read_text() + "\n# a reviewed change\n")
        # The running hub reloads and records it within a few seconds.
        _, reload = wait_until(lambda: _loads(client, "mapping.load", 2), timeout=20)
    assert reload["before"] == first["after"]
    assert reload["after"]["files"]["shopify/orders-create.yaml"] == _sha256(edited)
    assert reload["detail"] == "changed: shopify/orders-create.yaml"


def test_a_broken_mapping_edit_is_not_recorded(engine: Engine, mappings: Path) -> None:
    registry = MappingRegistry.load(mappings)
    watch = MappingLoadAudit(registry, make_sessionmaker(engine))
    assert watch.check() is True  # the first load
    assert watch.check() is False  # nothing changed
    edited = mappings / "shopify" / "orders-create.yaml"
    good = edited.read_text()
    edited.write_text("name: [unclosed\n")
    assert watch.check() is False  # not loaded, so not what the hub runs with
    edited.write_text(good + "\n# fixed\n")
    assert watch.check() is True
    # Another process that loaded the same files adds nothing.
    other = MappingLoadAudit(MappingRegistry.load(mappings), make_sessionmaker(engine))
    assert other.check() is False


def _env(database_url: str, governance: Path) -> dict[str, str]:
    return {
        "CROSSDOCK_DATABASE_URL": database_url,
        "CROSSDOCK_CONTRACTS_PATH": str(REPO / "contracts"),
        "CROSSDOCK_GOVERNANCE_PATH": str(governance),
        "CROSSDOCK_MAPPINGS_PATH": str(REPO / "mappings"),
        "CROSSDOCK_BOOTSTRAP_ADMIN_KEY": "",
        **LOOPBACK_ENV,
    }


def test_serve_and_worker_record_what_they_do_on_their_own(
    database_url: str, governance: Path, tmp_path: Path
) -> None:
    env = _env(database_url, governance)
    serve = HubProcess(env, str(tmp_path)).start()
    try:
        match = re.search(r"(cdk_[A-Za-z0-9_-]{20,})", serve.log())
        assert match, serve.log()
        with httpx.Client(
            base_url=serve.base_url, headers={"Authorization": f"Bearer {match[1]}"}
        ) as client:
            created = one_entry(client, action="client.create")
            assert created["actor"]["name"] == "system"
            assert created["after"]["name"] == "admin" and created["after"]["scopes"] == ["admin"]
            assert match[1] not in str(created)
            assert len(entries(client, action="policy.load")) == 1

            # A worker started after a policy change records the new load.
            (governance / "delivery.yaml").write_text(
                (governance / "delivery.yaml").read_text() + "\n# tuned\n"
            )
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("crossdock")), "worker"],
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                loads = wait_until(lambda: _loads(client, "policy.load", 2), timeout=30)
            finally:
                worker.terminate()  # maybe still starting: its exit status says nothing here
                worker.wait(20)
            assert loads[1]["detail"] == "changed: delivery.yaml"
    finally:
        serve.stop()
