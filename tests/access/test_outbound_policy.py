"""The outbound address policy, enforced: server-side request forgery is refused before a
single byte is sent, directly, through a host name, or by redirect.

Traffic only ever goes to loopback. The refusals are checked with loopback addresses under
a policy that forbids loopback (the repository's governance/hub.yaml, without the suite's
loopback allowance), and the classification of private, link-local and public ranges is a
unit test of the checker that opens no connection at all.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import ip_network

import httpx
import orjson
import pytest

from connectors.sdk import OutboundAddressRefused, OutcomeKind, SendOutcome
from connectors.sdk.network import guarded_client
from hub.governance.outbound import OutboundAddressPolicy
from hub.governance.policies import load_hub_policy
from hub.settings import Settings
from tests.access.peers import Peer, redirect_to, wait_until, webhook_connection
from tests.conftest import ADMIN_KEY, REPO
from tests.messages.test_ingest_api import a_valid_event
from tests.servers import HubServer

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def policy() -> OutboundAddressPolicy:
    """The policy the repository ships, as a hub without local allowances applies it."""
    return load_hub_policy(REPO / "governance").outbound


@pytest.mark.parametrize(
    ("address", "refused_as"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # an IPv4-mapped address reaches 127.0.0.1
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.20", "link_local"),
        ("fe80::1", "link_local"),
        ("169.254.169.254", "refused network"),  # cloud metadata, refused by name
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("8.8.8.8", None),
        ("172.32.0.1", None),  # just outside 172.16.0.0/12
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_the_checker_classifies_addresses_without_connecting(
    policy: OutboundAddressPolicy, address: str, refused_as: str | None
) -> None:
    reason = policy.refusal(address)
    if refused_as is None:
        assert reason is None
    else:
        assert reason is not None and refused_as in reason


def test_a_local_allowance_opens_loopback_but_never_a_refused_network(
    policy: OutboundAddressPolicy,
) -> None:
    opened = policy.allowing([ip_network("127.0.0.0/8"), ip_network("169.254.0.0/16")])
    assert opened.refusal("127.0.0.1") is None
    assert opened.refusal("169.254.10.20") is None
    assert opened.refusal("169.254.169.254") is not None  # refused networks always win
    assert policy.refusal("127.0.0.1") is not None  # the loaded policy itself is unchanged
    # URLs are judged by the addresses their host resolves to (literals need no resolver).
    assert policy.refusal_of_url("http://10.0.0.7:8080/hook") is not None
    assert policy.refusal_of_url("https://[::1]/x") is not None
    assert policy.refusal_of_url("https://93.184.216.34/x") is None
    localhost = policy.refusal_of_url("http://localhost:9/hook")  # /etc/hosts, no DNS
    assert localhost is not None and localhost.startswith("localhost resolves to")


@contextmanager
def silent_listener() -> Iterator[tuple[str, socket.socket]]:
    """A loopback port that proves nobody connected: ``accept`` must find no one."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook", listener


def nobody_connected(listener: socket.socket) -> bool:
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return True
    connection.close()
    return False


def test_the_guarded_client_refuses_before_connecting_and_at_each_redirect(
    policy: OutboundAddressPolicy,
) -> None:
    only_127_0_0_2 = policy.allowing([ip_network("127.0.0.2/32")])

    async def attempt(client: httpx.AsyncClient, url: str) -> BaseException | httpx.Response:
        try:
            return await client.get(url)
        except httpx.HTTPError as exc:
            return exc
        finally:
            await client.aclose()

    with silent_listener() as (target, listener):
        direct = asyncio.run(attempt(guarded_client(policy.refusal, timeout=5), target))
        assert isinstance(direct, OutboundAddressRefused)
        assert "127.0.0.1 is a loopback address" in str(direct)
        by_name = target.replace("127.0.0.1", "localhost")
        named = asyncio.run(attempt(guarded_client(only_127_0_0_2.refusal, timeout=5), by_name))
        assert isinstance(named, OutboundAddressRefused)
        with Peer(host="127.0.0.2", answer=redirect_to(target)) as hop:
            redirected = asyncio.run(
                attempt(
                    guarded_client(only_127_0_0_2.refusal, timeout=5, follow_redirects=True),
                    hop.url,
                )
            )
            assert isinstance(redirected, OutboundAddressRefused)
            assert len(hop.requests()) == 1  # the allowed hop was reached; the next was not
        assert nobody_connected(listener)
    outcome = SendOutcome.from_exception(direct)
    assert outcome.kind is OutcomeKind.REJECTED  # permanent: retrying would be refused again


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    """The suite's settings without its loopback allowance: governance/hub.yaml as shipped."""
    return settings.model_copy(update={"outbound_allowed_networks": []})


def test_a_connection_to_a_refused_address_is_a_422_when_created_or_changed(
    strict_settings: Settings,
) -> None:
    with HubServer(strict_settings) as hub, hub.client(ADMIN_KEY) as admin:
        for url in (
            "http://127.0.0.1:9/hook",
            "http://user:pa55word-in-url@localhost:9/hook?token=tok-in-query",
            "http://169.254.169.254/latest/meta-data",
        ):
            refused = webhook_connection(admin, "nope", url)
            assert refused.status_code == 422, refused.text
            problem = refused.json()
            assert problem["violations"][0]["rule"] == "outbound-address"
            assert "pa55word" not in refused.text and "tok-in-query" not in refused.text
        assert admin.get("/v1/connections/nope").status_code == 404  # nothing was stored
        assert webhook_connection(admin, "fine", "https://93.184.216.34/hook").status_code == 201
        changed = admin.patch(
            "/v1/connections/fine", json={"config": {"url": "http://10.0.0.8/hook"}}
        )
        assert changed.status_code == 422
        assert "10.0.0.8 is a private address" in changed.json()["detail"]
        kept = admin.get("/v1/connections/fine").json()["config"]["url"]
        assert kept == "https://93.184.216.34/hook"


def test_a_delivery_to_an_address_refused_since_is_dead_lettered_unsent(
    settings: Settings, strict_settings: Settings
) -> None:
    """The policy is enforced where the connection is made, not only on create: a connection
    made while loopback was allowed is refused once the hub runs under the shipped policy."""
    with silent_listener() as (target, listener):
        with HubServer(settings) as lenient, lenient.client(ADMIN_KEY) as admin:
            assert webhook_connection(admin, "old-peer", target).status_code == 201
            route = {"name": "to-old-peer", "connection": "old-peer", "types": ["*"]}
            assert admin.post("/v1/routes", json=route).status_code == 201
        with HubServer(strict_settings) as strict, strict.client(ADMIN_KEY) as admin:
            event = orjson.dumps(a_valid_event("reservation", "ssrf"))
            posted = admin.post("/v1/messages", content=event, headers=JSON)
            assert posted.status_code == 202
            [letter] = wait_until(lambda: admin.get("/v1/deadletters").json()["items"])
            assert letter["reason"] == "permanent" and letter["attempts"] == 1
            assert letter["error_class"] == "rejected"
            assert "127.0.0.1 is a loopback address" in letter["error"]
            assert "outbound address policy" in letter["error"]
            check = admin.post("/v1/connections/old-peer/check").json()
            assert check["ok"] is False
        assert nobody_connected(listener)
