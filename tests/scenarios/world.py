"""One distributor's systems around a real hub, for the end-to-end scenarios.

A wholesale distributor with two distribution centres (Atlanta ``ATL``, Dallas ``DAL``):

==============  ==========  ==================================================================
connection      connector   the fake peer, speaking the system's real protocol
==============  ==========  ==================================================================
``odoo-erp``    odoo        a fake Odoo 17 on loopback (JSON-RPC): purchasing, stock, deliveries
``shop``        shopify     a fake Shopify store on loopback: order webhooks in, Admin API out
``acme-edi``    x12         the supplier ACMESUPPLY's mailbox (850 out; 855, 856, 870, 997 in)
``atl-3pl``     x12         the Atlanta 3PL ATLANTA3PL's mailbox (940 out; 945 in)
``dal-3pl``     x12         the Dallas 3PL DALLAS3PL's mailbox (943 out; 944 in)
``odfl``        x12         the carrier ODFL's mailbox (214 in)
``atl-receiving`` x12       the Atlanta DC's receiving (its WMS through the EDI gateway: 861 in)
``atl-wms``     csv         the Atlanta WMS's receipt exports (a folder of CSV files)
==============  ==========  ==================================================================

The hub reads a copy of ``mappings/`` whose tables describe this distributor (its Shopify
inventory items and location), as an installation's own tables would. Every scenario
drives the world only through what the systems themselves do (a webhook Shopify sends, a
file a partner drops, a record an Odoo user or scheduler writes) and reads back only what
the hub produced: its canonical messages (the API) and what reached each system.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from connectors.odoo.testing import LOGIN, PASSWORD, FakeOdoo, Network, seed_network
from connectors.sdk import InboundRequest
from connectors.shopify.testing import (
    ACCESS_TOKEN,
    SHOP_DOMAIN,
    WEBHOOK_SECRET,
    FakeShopify,
)
from connectors.x12.envelope import Interchange, parse_interchange
from connectors.x12.segments import split_interchanges
from connectors.x12.sets import READERS
from connectors.x12.sets.loops import ReadContext
from connectors.x12.testing import partner_interchange
from connectors.x12.writer import BodySegment
from hub.settings import Settings
from tests.conftest import ADMIN_KEY, REPO, hub_settings
from tests.servers import HubServer

T = TypeVar("T")
JSON = {"content-type": "application/json"}
EASTERN = "America/New_York"
OUR_ID = "CROSSDOCK"

# What the shop sells, and where: SKU → Shopify InventoryItem id (64-bit, beyond 2**53).
SHOP_ITEMS = {
    "NTR-GLV-L-CS10": 9007199254740993,
    "SAN-GEL-1GA": 45012345678911,
}
ATL_LOCATION = 76543210987  # the Shopify location of the Atlanta DC
SHOP_CUSTOMER = 7390123456789012345


@dataclass(frozen=True)
class Mailbox:
    """A trading partner's folders as its SFTP/AS2 gateway leaves them."""

    partner_id: str
    inbox: Path
    outbox: Path

    def drop(self, name: str, text: str) -> Path:
        """The partner's file arrives: written hidden, then renamed, as a gateway does."""
        hidden = self.inbox / f".{name}.part"
        hidden.write_text(text)
        final = self.inbox / name
        os.replace(hidden, final)
        return final

    def send(
        self, name: str, sets: Sequence[tuple[str, Sequence[BodySegment]]], control: int
    ) -> Path:
        """The partner sends one interchange of ``sets`` (one functional group)."""
        return self.drop(
            name, partner_interchange(sets, control, partner=self.partner_id, us=OUR_ID)
        )

    def written(self, prefix: str = "") -> list[str]:
        """The files the hub wrote for the partner, by name."""
        return sorted(
            p.name for p in self.outbox.iterdir() if p.is_file() and p.name.startswith(prefix)
        )

    def settled(self, name: str) -> Path | None:
        """Where the partner's file ``name`` went once the hub took it, if it did."""
        for folder in ("processed", "failed"):
            path = self.inbox / folder / name
            if path.exists():
                return path
        return None


def shop_order(
    order_id: int,
    lines: dict[str, int],
    *,
    updated_at: str,
    cancelled_at: str | None = None,
    name: str = "#1001",
) -> dict[str, Any]:
    """An order as a 2025-01 order webhook carries it (see ``connectors.shopify.testing``):
    64-bit ids, prices as strings, no location per line; ``lines`` maps SKU → quantity."""
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "cancel_reason": "customer" if cancelled_at else None,
        "cancelled_at": cancelled_at,
        "confirmed": True,
        "created_at": "2026-11-24T09:00:00-05:00",
        "currency": "USD",
        "financial_status": "voided" if cancelled_at else "paid",
        "fulfillment_status": None,
        "location_id": None,
        "name": name,
        "note_attributes": [],
        "source_name": "web",
        "test": False,
        "updated_at": updated_at,
        "customer": {"id": SHOP_CUSTOMER},
        "shipping_lines": [{"id": 4401234567890, "code": "Standard", "title": "Standard"}],
        "line_items": [
            {
                "id": 13012345678901230 + number,
                "current_quantity": 0 if cancelled_at else quantity,
                "fulfillable_quantity": 0 if cancelled_at else quantity,
                "name": sku,
                "price": "49.90",
                "quantity": quantity,
                "requires_shipping": True,
                "sku": sku,
                "variant_id": 46012345678900 + number,
            }
            for number, (sku, quantity) in enumerate(lines.items(), start=1)
        ],
    }


def read_interchange(path: Path) -> Interchange:
    """One written interchange, parsed back with the connector's own parser."""
    [(chunk, separators)] = list(split_interchanges(path.read_text()))
    interchange = parse_interchange(chunk, separators)
    assert interchange.problems == [], interchange.problems
    return interchange


def read_document(path: Path, set_id: str) -> dict[str, Any]:
    """The one transaction set of a written interchange, read into its document."""
    interchange = read_interchange(path)
    [group] = interchange.groups
    [transaction] = group.sets
    assert transaction.set_id == set_id, transaction.set_id
    document: dict[str, Any] = READERS[set_id](transaction, ReadContext(_zone()))
    return document


def acknowledgement(path: Path) -> list[list[str]]:
    """The body of a 997 the hub wrote."""
    interchange = read_interchange(path)
    [group] = interchange.groups
    [transaction] = group.sets
    assert transaction.set_id == "997"
    return [list(segment) for segment in transaction.body]


def sscc(serial: int, company: str = "0857412") -> str:
    """An SSCC-18 of the distributor's supplier: extension 0, company prefix, serial, check."""
    body = f"0{company}{serial:0{16 - len(company)}d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(EASTERN)


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """The first truthy value ``check`` returns; an assertion error after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.1)


class World:
    """The hub and every system around it; see the module docstring."""

    def __init__(self, hub: HubServer, root: Path, odoo: FakeOdoo, shop: FakeShopify) -> None:
        self.hub = hub
        self.root = root
        self.odoo = odoo
        self.network: Network = seed_network(odoo)
        # The shop's customers order as one account in the ERP.
        self.shop_customer = odoo.add_partner(
            "Fine Foods online shop", ref=f"SHOPIFY-{SHOP_CUSTOMER}"
        )
        self.dallas = odoo.add_warehouse("DAL", "Dallas distribution center")
        self.shop = shop
        self.api = hub.client(ADMIN_KEY)
        self.supplier = self._mailbox("ACMESUPPLY")
        self.atlanta_3pl = self._mailbox("ATLANTA3PL")
        self.dallas_3pl = self._mailbox("DALLAS3PL")
        self.carrier = self._mailbox("ODFL")
        self.atlanta_receiving = self._mailbox("ATLWMS")
        self.wms_inbox = root / "atl-wms" / "out"
        self.wms_inbox.mkdir(parents=True)

    def _mailbox(self, partner: str) -> Mailbox:
        folder = self.root / "gateway" / partner.lower()
        box = Mailbox(partner, folder / "inbox", folder / "outbox")
        box.inbox.mkdir(parents=True)
        box.outbox.mkdir()
        return box

    # -- set-up ------------------------------------------------------------------------------

    def connect(self, name: str, connector: str, config: dict[str, Any], **extra: Any) -> None:
        response = self.api.post(
            "/v1/connections",
            json={"name": name, "connector": connector, "config": config, **extra},
        )
        assert response.status_code == 201, response.text

    def connect_partner(self, name: str, box: Mailbox) -> None:
        self.connect(
            name,
            "x12",
            {
                "our_id": OUR_ID,
                "partner_id": box.partner_id,
                "inbox": str(box.inbox),
                "outbox": str(box.outbox),
                "settle_seconds": 0,
                "timezone": EASTERN,
            },
            poll_interval_seconds=1,
        )

    def connect_everything(self) -> None:
        self.connect(
            "odoo-erp",
            "odoo",
            {
                "url": self.odoo.url,
                "database": self.odoo.database,
                "login": LOGIN,
                "password": PASSWORD,
                "settle_seconds": 0,
                # The distributor takes at most 10% more than an order line asks.
                "receipt_tolerance_percent": 10,
            },
            poll_interval_seconds=1,
        )
        self.connect(
            "shop",
            "shopify",
            {
                "shop_domain": SHOP_DOMAIN,
                "access_token": ACCESS_TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "admin_api_url": self.shop.url,
                "fulfillment_location_id": ATL_LOCATION,
            },
        )
        self.connect_partner("acme-edi", self.supplier)
        self.connect_partner("atl-3pl", self.atlanta_3pl)
        self.connect_partner("dal-3pl", self.dallas_3pl)
        self.connect_partner("odfl", self.carrier)
        self.connect_partner("atl-receiving", self.atlanta_receiving)
        self.connect(
            "atl-wms",
            "csv",
            {
                "inbox": str(self.wms_inbox),
                "delimiter": ";",
                "record_kind": "csv/wms-receipt",
                "group_by": "receipt_no",
                "settle_seconds": 0,
            },
            poll_interval_seconds=1,
        )

    def route(self, name: str, connection: str, types: list[str], **extra: Any) -> None:
        response = self.api.post(
            "/v1/routes",
            json={"name": name, "connection": connection, "types": types, **extra},
        )
        assert response.status_code == 201, response.text

    # -- what the systems do -----------------------------------------------------------------

    def shopify_sends(self, request: InboundRequest) -> dict[str, Any]:
        """Shopify pushes a webhook to the shop connection's inbound endpoint."""
        response = self.api.post(
            "/v1/connections/shop/inbound", content=request.body, headers=request.headers
        )
        assert response.status_code in (200, 202), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def post(self, event: dict[str, Any]) -> str:
        """A system posts a canonical message through the API."""
        response = self.api.post("/v1/messages", content=orjson.dumps(event), headers=JSON)
        assert response.status_code == 202, response.text
        key: str = response.json()["key"]
        return key

    # -- what the hub did --------------------------------------------------------------------

    def messages(self, **filters: str) -> list[dict[str, Any]]:
        """Every accepted message matching ``filters``, in acceptance order."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {**filters, "limit": 200}
            if cursor:
                params["after"] = cursor
            page = self.api.get("/v1/messages", params=params)
            assert page.status_code == 200, page.text
            body = page.json()
            found.extend(body["items"])
            cursor = body.get("next_cursor")
            if not cursor or not body["items"]:
                return found

    def events(self, type_: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until ``count`` messages of ``type_`` were accepted; their events."""
        try:
            items = wait_for(
                lambda: (m := self.messages(type=type_)) and len(m) >= count and m,
                timeout,
                f"{count} {type_}",
            )
        except AssertionError as timeout_error:
            letters = [
                (letter["record_kind"] or letter["message_type"], letter["reason"], letter["error"])
                for letter in self.dead_letters()
            ]
            raise AssertionError(f"{timeout_error}; dead letters: {letters}") from None
        assert len(items) == count, [m["event"]["id"] for m in items]
        return [m["event"] for m in items]

    def deliveries(self, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api.get(f"/v1/messages/{key}/deliveries").json()["items"]
        return items

    def delivered(self, key: str, routes: int = 1) -> list[dict[str, Any]]:
        """Wait until every delivery of message ``key`` (``routes`` of them) was delivered."""
        found: list[dict[str, Any]] = wait_for(
            lambda: (
                (d := self.deliveries(key))
                and len(d) == routes
                and all(x["status"] == "delivered" for x in d)
                and d
            ),
            what=f"deliveries of {key}",
        )
        return found

    def dead_letters(self, **filters: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api.get("/v1/deadletters", params=filters).json()[
            "items"
        ]
        return items

    def close(self) -> None:
        self.api.close()


@dataclass
class WorldFactory:
    database_url: str
    root: Path

    def settings(self) -> Settings:
        mappings = self.root / "mappings"
        shutil.copytree(REPO / "mappings", mappings)
        _write_shop_tables(mappings / "shopify" / "tables")
        settings = hub_settings(self.database_url)
        settings.mappings_path = mappings
        settings.poll_sync_seconds = 0.2
        return settings


def _write_shop_tables(tables: Path) -> None:
    """This distributor's shop: what it sells, from the Atlanta DC only."""
    (tables / "inventory-items.csv").write_text(
        "sku,inventory_item_id,title\n"
        + "".join(f"{sku},{item},{sku}\n" for sku, item in SHOP_ITEMS.items())
    )
    (tables / "location-ids.csv").write_text(
        f"code,shopify_location_id,name\nATL,{ATL_LOCATION},Atlanta distribution center\n"
    )
    (tables / "locations.csv").write_text(
        "shopify_location_id,code,gln,name\n"
        f"{ATL_LOCATION},ATL,0857412000018,Atlanta distribution center\n"
    )
    (tables / "sku-units.csv").write_text("sku,unit\n")


def open_world(database_url: str, root: Path) -> Iterator[World]:
    """The world, connected, for one scenario; everything stops afterwards."""
    with ExitStack() as stack:
        odoo = FakeOdoo()
        stack.enter_context(odoo.peer)
        shop = FakeShopify()
        stack.enter_context(shop.peer)
        hub = stack.enter_context(HubServer(WorldFactory(database_url, root).settings()))
        world = World(hub, root, odoo, shop)
        stack.callback(world.close)
        world.connect_everything()
        yield world


def now_utc() -> datetime:
    return datetime.now(UTC)
