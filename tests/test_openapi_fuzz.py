"""schemathesis against the live hub's own /openapi.json, with valid admin credentials.

It must find no 5xx, no undocumented status code or content type, and no response body that
breaks the documented schema, on any operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from tests.conftest import ADMIN_KEY, hub_settings
from tests.servers import HubServer

schema = schemathesis.pytest.from_fixture("api_schema")

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_hub(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubServer]:
    import shutil

    path = tmp_path_factory.mktemp("fuzz") / "hub.db"
    shutil.copyfile(sqlite_template, path)
    with HubServer(hub_settings(f"sqlite:///{path}")) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(live_hub: HubServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live_hub.base_url}/openapi.json")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_breaks_its_documentation(
    case: schemathesis.Case[Any], live_hub: HubServer
) -> None:
    case.call_and_validate(
        base_url=live_hub.base_url,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        checks=CHECKS,
    )
