"""Reading the audit log through the API, for the audit tests."""

from __future__ import annotations

import time
from typing import Any

import httpx


def entries(client: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    """Every entry matching ``filters``, oldest first (all pages)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {**filters, "limit": 1000}
    while True:
        response = client.get("/v1/audit", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        if not page["items"]:
            return found
        params["after"] = page["next_cursor"]


def one_entry(client: httpx.Client, **filters: Any) -> dict[str, Any]:
    """The one entry matching ``filters``; fails if there are none or several."""
    matching = entries(client, **filters)
    assert len(matching) == 1, matching
    return matching[0]


def wait_for_entry(client: httpx.Client, timeout: float = 20.0, **filters: Any) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        matching = entries(client, **filters)
        if matching:
            assert len(matching) == 1, matching
            return matching[0]
        time.sleep(0.1)
    raise AssertionError(f"no audit entry {filters} within {timeout} s")
