"""A NUL character in a URL is the client's mistake (400), never a database error (500),
whichever operation it reaches; times in queries need an offset (422)."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_KEY
from tests.servers import HubServer


@pytest.mark.parametrize(
    "path",
    [
        "/v1/deadletters?route=%00",
        "/v1/messages?source=a%00b",
        "/v1/clients/a%00b",
        "/v1/routes/r%00",
        "/v1/audit?action=x%00",
        "/v1/connections/c%00",
    ],
)
def test_a_nul_in_the_url_is_a_400_problem(hub: HubServer, path: str) -> None:
    with hub.client(ADMIN_KEY) as client:
        response = client.get(path)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:crossdock:problem:malformed-request"


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/v1/deadletters?since=2026-11-24T10:00:00", "since"),
        ("/v1/messages?accepted_after=2026-11-24T10:00:00", "accepted_after"),
        ("/v1/audit?until=2026-11-24T10:00:00", "until"),
        ("/v1/deadletters?until=9999-12-31T23:00:00-05:00", "until"),
    ],
)
def test_a_time_without_offset_or_beyond_utc_is_a_422(
    hub: HubServer, path: str, parameter: str
) -> None:
    with hub.client(ADMIN_KEY) as client:
        response = client.get(path)
    assert response.status_code == 422, response.text
    [violation] = response.json()["violations"]
    assert violation["pointer"] == f"/query/{parameter}"
