"""A fake Odoo 17 on loopback: the JSON-RPC calls the odoo connector makes, on in-memory models.

It speaks Odoo's real external API (``POST /jsonrpc``, services ``common`` and ``object``)
and implements exactly what the connector uses:

- ``common.version``, ``common.login`` (``false`` for a wrong login or password);
- ``object.execute_kw`` as a user whose password or API key checks out, else
  ``AccessDenied``; a user without write access gets ``AccessError`` on writes;
- ``search_read`` and ``read`` of every model below (a many2one as ``[id, display name]``,
  an empty field as ``false``, datetimes in UTC to the second, ``display_name`` on request,
  as Odoo answers them);
- ``write`` of ``quantity``, ``picked`` and ``product_uom_qty`` on ``stock.move`` (a demand
  lowered below what is reserved unreserves the move, as Odoo does; a quantity written is
  what an open move holds, its state following), and of ``move_ids``
  (``(0, 0, values)`` commands: a move added to a confirmed transfer is confirmed) on
  ``stock.picking``;
- ``stock.picking.create`` with its moves as ``(0, 0, values)`` commands: the id for a dict,
  the ids for a list; a draft transfer named from its operation type's sequence, its
  locations the type's defaults unless given; a mandatory field missing (a move's
  ``name``, ``product_id`` or locations) is Odoo's ``ValidationError``;
- ``stock.picking.action_confirm`` (draft moves confirmed); ``action_assign`` (confirms a
  draft first, then reserves what free stock allows, moves by date then id; goods from a
  partner location are always available; ``UserError`` "Nothing to check the availability
  for." when no move can be); ``action_cancel`` (moves cancelled and unreserved;
  ``UserError`` for a transfer with a done move);
- ``stock.picking.button_validate``: without quantities a ``UserError``; with less than
  expected and no ``skip_backorder`` in the context, the "Create backorder?" wizard's
  action; otherwise the transfer is done and a backorder transfer (``backorder_id``) holds
  the rest, unless the context lists it in ``picking_ids_not_to_backorder``. A delivery's
  backorder is reserved as stock allows at once. Validation moves stock between internal
  locations: a receipt's goods reserve the moves waiting for them there, oldest first
  (Odoo's ``_trigger_assign``). Receiving also adds to the purchase order lines'
  ``qty_received`` and rewrites the order.

Stock on hand is kept per product and location (``stock.quant`` is not served: the
connector never reads it); :meth:`FakeOdoo.set_stock` adjusts it.

Domains take ``&``, ``|``, ``!``, dotted paths through many2one fields, and the operators
``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in``. Every other call answers
an Odoo-style error. ``write_date`` is kept to the microsecond, as Odoo does, while answers
carry it to the second; domains compare the full value.

Tests seed it with :meth:`FakeOdoo.add_purchase_order`, :meth:`FakeOdoo.add_picking` and
friends, act as Odoo's users and jobs with :meth:`FakeOdoo.validate`,
:meth:`FakeOdoo.cancel`, :meth:`FakeOdoo.set_stock` and :meth:`FakeOdoo.run_scheduler`, and
read it back with :meth:`FakeOdoo.rows` (see :mod:`connectors.odoo.testing`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from connectors.sdk.testing import FakeHTTPPeer, PeerRequest, PeerResponse

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"

Kind = Literal["char", "float", "int", "bool", "datetime", "many2one", "one2many"]


@dataclass(frozen=True)
class Field:
    kind: Kind
    target: str | None = None  # the related model of a relation
    inverse: str | None = None  # a one2many's many2one in the target


def _f(kind: Kind, target: str | None = None, inverse: str | None = None) -> Field:
    return Field(kind, target, inverse)


_COMMON = {"create_date": _f("datetime"), "write_date": _f("datetime")}

SCHEMA: dict[str, dict[str, Field]] = {
    "res.partner": {
        "name": _f("char"),
        "ref": _f("char"),
        "parent_id": _f("many2one", "res.partner"),
        "commercial_partner_id": _f("many2one", "res.partner"),
    },
    "res.currency": {"name": _f("char")},
    "res.users": {"name": _f("char"), "login": _f("char")},
    "uom.uom": {"name": _f("char")},
    "product.product": {
        "name": _f("char"),
        "default_code": _f("char"),
        "barcode": _f("char"),
        "uom_id": _f("many2one", "uom.uom"),
    },
    "stock.location": {
        "name": _f("char"),
        "complete_name": _f("char"),
        "usage": _f("char"),
    },
    "stock.warehouse": {
        "name": _f("char"),
        "code": _f("char"),
        "lot_stock_id": _f("many2one", "stock.location"),
        "in_type_id": _f("many2one", "stock.picking.type"),
        "out_type_id": _f("many2one", "stock.picking.type"),
    },
    "stock.picking.type": {
        "name": _f("char"),
        "code": _f("char"),
        "sequence_code": _f("char"),
        "warehouse_id": _f("many2one", "stock.warehouse"),
        "default_location_src_id": _f("many2one", "stock.location"),
        "default_location_dest_id": _f("many2one", "stock.location"),
    },
    "purchase.order": {
        "name": _f("char"),
        "state": _f("char"),
        "partner_id": _f("many2one", "res.partner"),
        "partner_ref": _f("char"),
        "origin": _f("char"),
        "currency_id": _f("many2one", "res.currency"),
        "user_id": _f("many2one", "res.users"),
        "picking_type_id": _f("many2one", "stock.picking.type"),
        "date_order": _f("datetime"),
        "date_approve": _f("datetime"),
        "date_planned": _f("datetime"),
        "order_line": _f("one2many", "purchase.order.line", "order_id"),
    },
    "purchase.order.line": {
        "order_id": _f("many2one", "purchase.order"),
        "sequence": _f("int"),
        "name": _f("char"),
        "display_type": _f("char"),
        "product_id": _f("many2one", "product.product"),
        "product_qty": _f("float"),
        "product_uom": _f("many2one", "uom.uom"),
        "price_unit": _f("float"),
        "date_planned": _f("datetime"),
        "qty_received": _f("float"),
    },
    "stock.picking": {
        "name": _f("char"),
        "origin": _f("char"),
        "state": _f("char"),
        "partner_id": _f("many2one", "res.partner"),
        "picking_type_id": _f("many2one", "stock.picking.type"),
        "backorder_id": _f("many2one", "stock.picking"),
        "location_id": _f("many2one", "stock.location"),
        "location_dest_id": _f("many2one", "stock.location"),
        "scheduled_date": _f("datetime"),
        "date_deadline": _f("datetime"),
        "date_done": _f("datetime"),
        "move_ids": _f("one2many", "stock.move", "picking_id"),
    },
    "stock.move": {
        "name": _f("char"),
        "picking_id": _f("many2one", "stock.picking"),
        "sequence": _f("int"),
        "product_id": _f("many2one", "product.product"),
        "product_uom_qty": _f("float"),
        "quantity": _f("float"),
        "picked": _f("bool"),
        "product_uom": _f("many2one", "uom.uom"),
        "location_id": _f("many2one", "stock.location"),
        "location_dest_id": _f("many2one", "stock.location"),
        "state": _f("char"),
        "date": _f("datetime"),
    },
}
for _fields in SCHEMA.values():
    _fields.update(_COMMON)

PICKING_ACTIONS = frozenset({"button_validate", "action_confirm", "action_assign", "action_cancel"})
WRITABLE = {
    "stock.move": frozenset({"quantity", "picked", "product_uom_qty"}),
    "stock.picking": frozenset({"move_ids"}),
}
CREATABLE = {
    # What `create` takes, beyond the one2many `move_ids`; the rest Odoo computes.
    "stock.picking": frozenset(
        {
            "picking_type_id",
            "partner_id",
            "origin",
            "location_id",
            "location_dest_id",
            "scheduled_date",
            "date_deadline",
        }
    ),
    "stock.move": frozenset(
        {
            "name",
            "product_id",
            "product_uom_qty",
            "product_uom",
            "location_id",
            "location_dest_id",
            "date",
        }
    ),
}
REQUIRED = {
    "stock.picking": ("picking_type_id",),
    "stock.move": ("name", "product_id", "location_id", "location_dest_id"),
}
OPEN_MOVE_STATES = ("confirmed", "partially_available", "assigned")
QUANTITY_DIGITS = 3  # Odoo rounds quantities to the unit's precision


class OdooError(Exception):
    """Raised inside the fake: answered as Odoo answers an exception over JSON-RPC."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass
class User:
    uid: int
    login: str
    password: str
    api_keys: list[str] = field(default_factory=list)
    can_write: bool = True


@dataclass(frozen=True)
class OrderLine:
    """A purchase order line to seed."""

    product: int
    quantity: float
    price: float = 0.0
    uom: str = "Units"
    date_planned: datetime | None = None
    description: str | None = None


@dataclass(frozen=True)
class MoveLine:
    """A stock move to seed on a transfer: what is expected, and how much is reserved."""

    product: int
    demand: float
    reserved: float = 0.0
    uom: str = "Units"


def utc_now() -> datetime:
    """Odoo's clock: naive UTC, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


class FakeOdoo:
    """One Odoo database on loopback. Start it with ``with fake.peer:`` (or ``peer.start()``)."""

    def __init__(self, database: str = "crossdock", server_version: str = "17.0") -> None:
        self.database = database
        self.server_version = server_version
        self.clock: Callable[[], datetime] = utc_now
        self.users: dict[str, User] = {}
        self.models: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in SCHEMA}
        self.calls: list[tuple[str, str]] = []
        """Every call answered: ``("common", "login")``, ``("stock.picking", "search_read")``."""
        self._next_ids: dict[str, int] = {}
        self._sequences: dict[str, int] = {}
        self._faults: list[tuple[str | None, OdooError]] = []
        self._on_hand: dict[tuple[int, int], float] = {}  # (product, location) → quantity
        self._lock = threading.RLock()
        self.peer = FakeHTTPPeer(self._handle)
        self._seed_basics()

    @property
    def url(self) -> str:
        return self.peer.url

    # -- seeding --------------------------------------------------------------------------

    def _seed_basics(self) -> None:
        for unit in ("Units", "Dozens", "kg", "g", "lb", "L", "m"):
            self._create("uom.uom", {"name": unit})
        for code in ("USD", "EUR"):
            self._create("res.currency", {"name": code})
        for name, usage in (("Customers", "customer"), ("Vendors", "supplier")):
            self._create(
                "stock.location",
                {"name": name, "complete_name": f"Partners/{name}", "usage": usage},
            )

    def _location(self, usage: str) -> int:
        [found] = [i for i, row in self.models["stock.location"].items() if row["usage"] == usage]
        return found

    def add_user(
        self, login: str, password: str, *, api_keys: Sequence[str] = (), can_write: bool = True
    ) -> int:
        with self._lock:
            uid = self._create("res.users", {"name": login.title(), "login": login})
            self.users[login] = User(uid, login, password, list(api_keys), can_write)
            return uid

    def add_partner(self, name: str, *, ref: str | None = None, parent: int | None = None) -> int:
        with self._lock:
            partner = self._create(
                "res.partner", {"name": name, "ref": ref or False, "parent_id": parent or False}
            )
            commercial = partner
            while self.models["res.partner"][commercial]["parent_id"]:
                commercial = self.models["res.partner"][commercial]["parent_id"]
            self.models["res.partner"][partner]["commercial_partner_id"] = commercial
            return partner

    def add_product(
        self, default_code: str, name: str, *, barcode: str | None = None, uom: str = "Units"
    ) -> int:
        with self._lock:
            return self._create(
                "product.product",
                {
                    "name": name,
                    "default_code": default_code,
                    "barcode": barcode or False,
                    "uom_id": self._named("uom.uom", uom),
                },
            )

    def add_warehouse(self, code: str, name: str) -> int:
        """A warehouse with its stock location (``CODE/Stock``) and its Receipts (IN) and
        Delivery Orders (OUT) operation types, as Odoo creates them."""
        with self._lock:
            stock = self._create(
                "stock.location",
                {"name": "Stock", "complete_name": f"{code}/Stock", "usage": "internal"},
            )
            warehouse = self._create(
                "stock.warehouse", {"name": name, "code": code, "lot_stock_id": stock}
            )
            types = {}
            for type_name, type_code, sequence, source, destination in (
                ("Receipts", "incoming", "IN", self._location("supplier"), stock),
                ("Delivery Orders", "outgoing", "OUT", stock, self._location("customer")),
            ):
                types[type_code] = self._create(
                    "stock.picking.type",
                    {
                        "name": type_name,
                        "code": type_code,
                        "sequence_code": sequence,
                        "warehouse_id": warehouse,
                        "default_location_src_id": source,
                        "default_location_dest_id": destination,
                    },
                )
            self.models["stock.warehouse"][warehouse].update(
                in_type_id=types["incoming"], out_type_id=types["outgoing"]
            )
            return warehouse

    def picking_type(self, warehouse: int, code: Literal["incoming", "outgoing"]) -> int:
        [found] = [
            i
            for i, row in self.models["stock.picking.type"].items()
            if row["warehouse_id"] == warehouse and row["code"] == code
        ]
        return found

    def add_purchase_order(
        self,
        partner: int,
        lines: Sequence[OrderLine],
        *,
        warehouse: int,
        name: str | None = None,
        state: str = "purchase",
        id: int | None = None,
        write_date: datetime | None = None,
        currency: str = "USD",
        partner_ref: str | None = None,
        sections: Sequence[str] = (),
    ) -> int:
        """A purchase order; confirmed (``purchase``) ones get their incoming transfer."""
        with self._lock:
            now = write_date or self.clock()
            self._sequences["purchase.order"] = self._sequences.get("purchase.order", 0) + 1
            po_name = name or f"P{self._sequences['purchase.order']:05d}"
            order = self._create(
                "purchase.order",
                {
                    "name": po_name,
                    "state": state,
                    "partner_id": partner,
                    "partner_ref": partner_ref or False,
                    "origin": False,
                    "currency_id": self._named("res.currency", currency),
                    "user_id": False,
                    "picking_type_id": self.picking_type(warehouse, "incoming"),
                    "date_order": now,
                    "date_approve": now if state == "purchase" else False,
                    "date_planned": max(
                        (line.date_planned for line in lines if line.date_planned), default=now
                    ),
                },
                id=id,
                at=now,
            )
            for number, title in enumerate(sections, start=1):
                self._create(
                    "purchase.order.line",
                    {
                        "order_id": order,
                        "sequence": number,
                        "name": title,
                        "display_type": "line_section",
                        "product_id": False,
                        "product_qty": 0.0,
                        "product_uom": False,
                        "price_unit": 0.0,
                        "date_planned": False,
                        "qty_received": 0.0,
                    },
                    at=now,
                )
            for number, line in enumerate(lines, start=1):
                product = self.models["product.product"][line.product]
                self._create(
                    "purchase.order.line",
                    {
                        "order_id": order,
                        "sequence": 10 + number,
                        "name": line.description or product["name"],
                        "display_type": False,
                        "product_id": line.product,
                        "product_qty": line.quantity,
                        "product_uom": self._named("uom.uom", line.uom),
                        "price_unit": line.price,
                        "date_planned": line.date_planned or now,
                        "qty_received": 0.0,
                    },
                    at=now,
                )
            if state == "purchase":
                # Goods from a supplier are "reserved" at once: the receipt is Ready.
                self.add_picking(
                    "incoming",
                    partner,
                    [MoveLine(ln.product, ln.quantity, ln.quantity, ln.uom) for ln in lines],
                    warehouse=warehouse,
                    origin=po_name,
                    write_date=now,
                )
            return order

    def add_picking(
        self,
        kind: Literal["incoming", "outgoing"],
        partner: int,
        moves: Sequence[MoveLine],
        *,
        warehouse: int,
        origin: str | None = None,
        name: str | None = None,
        backorder_of: int | None = None,
        write_date: datetime | None = None,
        scheduled_date: datetime | None = None,
        id: int | None = None,
    ) -> int:
        """A transfer, confirmed, with what ``moves`` say is reserved (whatever the stock):
        ``assigned`` (Ready) when anything is, else ``confirmed`` (Waiting)."""
        with self._lock:
            now = write_date or self.clock()
            type_id = self.picking_type(warehouse, kind)
            picking_type = self.models["stock.picking.type"][type_id]
            picking = self._create(
                "stock.picking",
                {
                    "name": name or self._picking_name(type_id),
                    "origin": origin or False,
                    "state": "confirmed",
                    "partner_id": partner,
                    "picking_type_id": type_id,
                    "backorder_id": backorder_of or False,
                    "location_id": picking_type["default_location_src_id"],
                    "location_dest_id": picking_type["default_location_dest_id"],
                    "scheduled_date": scheduled_date or now,
                    "date_deadline": False,
                    "date_done": False,
                },
                id=id,
                at=now,
            )
            for number, move in enumerate(moves, start=1):
                self._new_move(
                    self.models["stock.picking"][picking],
                    {
                        "sequence": number,
                        "product_id": move.product,
                        "product_uom_qty": move.demand,
                        "quantity": move.reserved,
                        "product_uom": self._named("uom.uom", move.uom),
                        "state": _move_state(move.demand, move.reserved),
                    },
                    now,
                )
            self._recompute_picking(picking)
            return picking

    def _new_move(self, picking: dict[str, Any], values: dict[str, Any], now: datetime) -> int:
        """A move on ``picking``: what Odoo fills in when ``values`` leave it out."""
        product = self._record("product.product", values.get("product_id"))
        defaults = {
            "name": self._display_name("product.product", product),
            "picking_id": picking["id"],
            "sequence": 10,
            "product_uom": product["uom_id"],
            "location_id": picking["location_id"],
            "location_dest_id": picking["location_dest_id"],
            "picked": False,
            "quantity": 0.0,
            "state": "draft",
            "date": picking["scheduled_date"] or now,
        }
        return self._create("stock.move", {**defaults, **values}, at=now)

    def reserve(self, move: int, quantity: float, *, at: datetime | None = None) -> None:
        """Change a move's reserved quantity, as Odoo's scheduler does; rewrites its transfer."""
        with self._lock:
            now = at or self.clock()
            row = self.models["stock.move"][move]
            reserved = round(float(quantity), QUANTITY_DIGITS)  # Odoo answers floats: 40.0
            row.update(
                quantity=reserved,
                state=_move_state(row["product_uom_qty"], reserved),
                write_date=now,
            )
            self._recompute_picking(row["picking_id"])
            self.models["stock.picking"][row["picking_id"]]["write_date"] = now

    def set_stock(self, product: int, warehouse: int, quantity: float) -> None:
        """What is on hand of ``product`` in ``warehouse``'s stock location (an inventory
        adjustment). Reserves nothing: :meth:`run_scheduler` (Odoo's scheduled action) or
        ``action_assign`` (*Check Availability*) does."""
        with self._lock:
            location = self.models["stock.warehouse"][warehouse]["lot_stock_id"]
            self._on_hand[(product, location)] = round(float(quantity), QUANTITY_DIGITS)

    def on_hand(self, product: int, warehouse: int) -> float:
        """What is on hand of ``product`` in ``warehouse``, reserved or not."""
        with self._lock:
            location = self.models["stock.warehouse"][warehouse]["lot_stock_id"]
            return self._on_hand.get((product, location), 0.0)

    def run_scheduler(self) -> None:
        """Odoo's *Procurement: run scheduler*: reserve what stock allows for every waiting
        move, by date then id (oldest first)."""
        with self._lock:
            waiting = sorted(
                (
                    row
                    for row in self.models["stock.move"].values()
                    if row["state"] in ("confirmed", "partially_available")
                ),
                key=lambda row: (row["date"], row["id"]),
            )
            self._assign_moves(waiting, self.clock())

    def validate(
        self,
        picking: int,
        quantities: dict[int, float] | None = None,
        *,
        backorder: bool = True,
    ) -> int | None:
        """Validate a transfer as a warehouse user does: the quantities moved per product
        (default: what is reserved, i.e. picked as suggested), then *Validate* and, when
        short, *Create Backorder* (or *No Backorder* with ``backorder=False``). A delivery
        takes its quantities out of stock; a receipt puts them in and reserves waiting
        deliveries, as Odoo does. Returns the backorder created, if any."""
        with self._lock:
            row = self._record("stock.picking", picking)
            before = set(self.models["stock.picking"])
            moved = dict(quantities) if quantities is not None else None
            for move in self._open_moves(picking):
                if moved is not None:
                    move["quantity"] = round(
                        float(moved.pop(move["product_id"], 0.0)), QUANTITY_DIGITS
                    )
                move["picked"] = True
            if moved:
                raise ValueError(f"{row['name']} moves none of the products {sorted(moved)}")
            context: dict[str, Any] = {"skip_backorder": True}
            if not backorder:
                context["picking_ids_not_to_backorder"] = [picking]
            self._button_validate([picking], context)
            created = [i for i in self.models["stock.picking"] if i not in before]
            return created[0] if created else None

    def cancel(self, picking: int) -> None:
        """A user cancels a transfer (*Cancel*): its moves are cancelled, their stock released."""
        with self._lock:
            self._action_cancel([picking])

    def pickings(
        self, origin: str, kind: Literal["incoming", "outgoing"] | None = None
    ) -> list[dict[str, Any]]:
        """The transfers of an order (their ``origin``), oldest first, as Odoo reads them."""
        with self._lock:
            return [
                self._render("stock.picking", row, list(SCHEMA["stock.picking"]))
                for row in sorted(self.models["stock.picking"].values(), key=lambda r: r["id"])
                if row["origin"] == origin
                and (
                    kind is None
                    or self.models["stock.picking.type"][row["picking_type_id"]]["code"] == kind
                )
            ]

    def touch(self, model: str, record: int, *, at: datetime | None = None) -> None:
        """Write a record without changing anything but its ``write_date``."""
        with self._lock:
            self.models[model][record]["write_date"] = at or self.clock()

    def fail_next_call(self, name: str, message: str, *, method: str | None = None) -> None:
        """Answer the next ``execute_kw`` (of ``method``, if given) with this exception."""
        with self._lock:
            self._faults.append((method, OdooError(name, message)))

    # -- reading back ---------------------------------------------------------------------

    def rows(self, model: str, **equal: Any) -> list[dict[str, Any]]:
        """The records of ``model`` whose fields equal these values, as Odoo would read them."""
        with self._lock:
            return [
                self._render(model, row, list(SCHEMA[model]))
                for row in self.models[model].values()
                if all(row.get(k) == v for k, v in equal.items())
            ]

    def row(self, model: str, record: int) -> dict[str, Any]:
        with self._lock:
            return self._render(model, self.models[model][record], list(SCHEMA[model]))

    # -- the server -----------------------------------------------------------------------

    def _handle(self, request: PeerRequest) -> PeerResponse:
        if request.path != "/jsonrpc":
            return PeerResponse(404, {"error": "404: Not Found"})
        if request.method != "POST":
            return PeerResponse(405, {"error": "405: Method Not Allowed"})
        try:
            call = request.json()
            params = call["params"]
            service, method, args = params["service"], params["method"], list(params["args"])
        except Exception:
            return PeerResponse(400, {"error": "400: Bad Request"})
        answer: dict[str, Any] = {"jsonrpc": "2.0", "id": call.get("id")}
        try:
            with self._lock:
                try:
                    answer["result"] = self._dispatch(service, method, args)
                except OdooError:
                    raise
                except Exception as exc:  # as Odoo does: any exception is an error answer
                    raise OdooError(f"builtins.{type(exc).__name__}", str(exc)) from exc
        except OdooError as exc:
            answer["error"] = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {
                    "name": exc.name,
                    "debug": f"Traceback (most recent call last):\n{exc.name}: {exc.message}",
                    "message": exc.message,
                    "arguments": [exc.message],
                    "context": {},
                },
            }
        return PeerResponse(200, answer)

    def _dispatch(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common" and method == "version":
            self.calls.append(("common", "version"))
            major, minor = (int(p) for p in self.server_version.split(".")[:2])
            return {
                "server_version": self.server_version,
                "server_version_info": [major, minor, 0, "final", 0, ""],
                "server_serie": self.server_version,
                "protocol_version": 1,
            }
        if service == "common" and method == "login":
            self.calls.append(("common", "login"))
            database, login, password = args
            self._database(database)
            user = self.users.get(login)
            if user is None or password not in (user.password, *user.api_keys):
                return False
            return user.uid
        if service == "object" and method == "execute_kw":
            database, uid, password, model, model_method, *rest = args
            model_args = rest[0] if rest else []
            kwargs = rest[1] if len(rest) > 1 else {}
            self._database(database)
            user = self._user(uid, password)
            self.calls.append((model, model_method))
            for index, (only, fault) in enumerate(self._faults):
                if only is None or only == model_method:
                    del self._faults[index]
                    raise fault
            return self._execute(user, model, model_method, model_args, kwargs)
        raise OdooError(
            "werkzeug.exceptions.NotFound", f"no method {method!r} in service {service!r}"
        )

    def _database(self, name: Any) -> None:
        if name != self.database:
            raise OdooError(
                "psycopg2.OperationalError",
                f'connection to server failed: FATAL:  database "{name}" does not exist',
            )

    def _user(self, uid: Any, password: Any) -> User:
        for user in self.users.values():
            if user.uid == uid and password in (user.password, *user.api_keys):
                return user
        raise OdooError("odoo.exceptions.AccessDenied", "Access Denied")

    def _execute(
        self, user: User, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        if model not in SCHEMA:
            raise OdooError("builtins.KeyError", repr(model))
        if method == "search_read":
            domain = args[0] if args else kwargs.get("domain", [])
            fields = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
            return self._search_read(
                model,
                domain,
                fields,
                offset=int(kwargs.get("offset") or 0),
                limit=kwargs.get("limit"),
                order=kwargs.get("order"),
            )
        if method == "read":
            ids = args[0]
            fields = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
            return [self._render(model, self._record(model, i), fields) for i in ids]
        if method == "write":
            self._may_write(user, model)
            ids, values = args
            self._write(model, ids, values)
            return True
        if method == "create":
            self._may_write(user, model)
            return self._create_from_rpc(model, args[0] if args else kwargs.get("vals_list"))
        if model == "stock.picking" and method in PICKING_ACTIONS:
            self._may_write(user, model)
            ids = args[0] if args else []
            if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
                raise OdooError("builtins.TypeError", f"{method}() expects a list of ids")
            if method == "button_validate":
                return self._button_validate(ids, dict(kwargs.get("context") or {}))
            if method == "action_confirm":
                return self._action_confirm(ids)
            if method == "action_assign":
                return self._action_assign(ids)
            return self._action_cancel(ids)
        raise OdooError(
            "builtins.AttributeError",
            f"The method '{method}' does not exist on the model '{model}'",
        )

    @staticmethod
    def _may_write(user: User, model: str) -> None:
        if not user.can_write:
            raise OdooError(
                "odoo.exceptions.AccessError",
                f"You are not allowed to modify '{model}' records.",
            )

    # -- models ---------------------------------------------------------------------------

    def _next(self, model: str) -> int:
        self._next_ids[model] = self._next_ids.get(model, 0) + 1
        return self._next_ids[model]

    def _create(
        self,
        model: str,
        values: dict[str, Any],
        *,
        id: int | None = None,
        at: datetime | None = None,
    ) -> int:
        record_id = id if id is not None else self._next(model)
        if id is not None:
            self._next_ids[model] = max(self._next_ids.get(model, 0), id)
        now = at or self.clock()
        row: dict[str, Any] = {"id": record_id, "create_date": now, "write_date": now}
        for name, spec in SCHEMA[model].items():
            if spec.kind != "one2many" and name not in row:
                value = values.get(name, _empty(spec))
                # Odoo answers float fields as floats: 400.0, never 400.
                row[name] = float(value) if spec.kind == "float" else value
        self.models[model][record_id] = row
        return record_id

    def _named(self, model: str, name: str) -> int:
        for record_id, row in self.models[model].items():
            if row["name"] == name:
                return record_id
        return self._create(model, {"name": name})

    def _record(self, model: str, record_id: Any) -> dict[str, Any]:
        row = self.models[model].get(record_id)
        if row is None:
            raise OdooError(
                "odoo.exceptions.MissingError",
                f"Record does not exist or has been deleted.\n(Record: {model}({record_id},))",
            )
        return row

    def _picking_name(self, type_id: int) -> str:
        kind = self.models["stock.picking.type"][type_id]
        warehouse = self.models["stock.warehouse"][kind["warehouse_id"]]
        key = f"{warehouse['code']}/{kind['sequence_code']}"
        self._sequences[key] = self._sequences.get(key, 0) + 1
        return f"{key}/{self._sequences[key]:05d}"

    def _display_name(self, model: str, row: dict[str, Any]) -> str:
        if model == "product.product" and row["default_code"]:
            return f"[{row['default_code']}] {row['name']}"
        if model == "res.partner" and row["parent_id"]:
            parent = self.models["res.partner"][row["parent_id"]]
            return f"{parent['name']}, {row['name']}"
        if model == "stock.picking.type":
            warehouse = self.models["stock.warehouse"][row["warehouse_id"]]
            return f"{warehouse['name']}: {row['name']}"
        if model == "stock.location":
            return str(row["complete_name"])
        return str(row["name"])

    def _render(
        self, model: str, row: dict[str, Any], fields: Sequence[str] | None
    ) -> dict[str, Any]:
        """A record as ``read`` answers it."""
        wanted = list(fields) if fields else list(SCHEMA[model])
        out: dict[str, Any] = {"id": row["id"]}
        for name in wanted:
            if name == "id":
                continue
            if name == "display_name":
                out[name] = self._display_name(model, row)
                continue
            spec = SCHEMA[model].get(name)
            if spec is None:
                raise OdooError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
            value = row.get(name)
            if spec.kind == "one2many":
                assert spec.target is not None and spec.inverse is not None
                out[name] = sorted(
                    i for i, r in self.models[spec.target].items() if r[spec.inverse] == row["id"]
                )
            elif spec.kind == "many2one":
                if value:
                    assert spec.target is not None
                    related = self.models[spec.target][value]
                    out[name] = [value, self._display_name(spec.target, related)]
                else:
                    out[name] = False
            elif spec.kind == "datetime":
                out[name] = value.strftime(ODOO_DATETIME) if value else False
            else:
                out[name] = value
        return out

    def _search_read(
        self,
        model: str,
        domain: Any,
        fields: Sequence[str] | None,
        *,
        offset: int,
        limit: Any,
        order: Any,
    ) -> list[dict[str, Any]]:
        matcher = self._compile(model, domain)
        found = [row for row in self.models[model].values() if matcher(row)]
        for name, descending in reversed(_order(model, order or "id asc")):
            # PostgreSQL puts NULLs last when ascending, first when descending.
            found.sort(key=_sort_key(name), reverse=descending)
        found = found[offset:]
        if limit:
            found = found[: int(limit)]
        return [self._render(model, row, fields) for row in found]

    def _write(self, model: str, ids: Sequence[int], values: dict[str, Any]) -> None:
        if not isinstance(values, dict):
            raise OdooError("builtins.ValueError", f"write() takes a dict of values: {values!r}")
        self._check_fields(model, values, WRITABLE.get(model, frozenset()), "write")
        _check_quantities(values)
        now = self.clock()
        if model == "stock.picking":
            for record_id in ids:
                picking = self._record(model, record_id)
                for command in values.get("move_ids") or []:
                    self._move_command(picking, command, now)
                self._recompute_picking(picking["id"])
                picking["write_date"] = now
            return
        for record_id in ids:
            row = self._record(model, record_id)
            if row["state"] in ("done", "cancel"):
                raise OdooError(
                    "odoo.exceptions.UserError", "You cannot change a done or cancelled move."
                )
            row.update(
                {
                    k: round(float(v), QUANTITY_DIGITS) if k in QUANTITIES else v
                    for k, v in values.items()
                }
            )
            if row["state"] in OPEN_MOVE_STATES and (
                "product_uom_qty" in values or "quantity" in values
            ):
                # As Odoo: a demand lowered below what is reserved unreserves the move; a
                # quantity set is what the move holds (Odoo 17's _set_quantity reserves or
                # unreserves to it), and its state follows.
                if "product_uom_qty" in values and row["quantity"] > row["product_uom_qty"]:
                    row["quantity"] = 0.0
                row["state"] = _move_state(row["product_uom_qty"], row["quantity"])
                self._recompute_picking(row["picking_id"])
                self.models["stock.picking"][row["picking_id"]]["write_date"] = now
            row["write_date"] = now

    def _check_fields(
        self, model: str, values: dict[str, Any], allowed: frozenset[str], verb: str
    ) -> None:
        for name in values:
            if name not in SCHEMA[model]:
                raise OdooError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
            if name not in allowed:
                raise OdooError(
                    "odoo.exceptions.UserError", f"the fake Odoo does not {verb} {model}.{name}"
                )

    # -- creating and reserving -----------------------------------------------------------

    def _create_from_rpc(self, model: str, values: Any) -> int | list[int]:
        """``create``: one record from a dict (its id), or several from a list (their ids)."""
        if model != "stock.picking":
            raise OdooError("odoo.exceptions.UserError", f"the fake Odoo does not create {model}")
        several = isinstance(values, list)
        values_list = values if several else [values]
        if not values_list or not all(isinstance(v, dict) for v in values_list):
            raise OdooError("builtins.ValueError", f"create() takes a dict of values: {values!r}")
        ids = [self._create_picking(v) for v in values_list]
        return ids if several else ids[0]

    def _create_picking(self, values: dict[str, Any]) -> int:
        allowed = CREATABLE["stock.picking"] | {"move_ids"}
        self._check_fields("stock.picking", values, allowed, "create")
        _require("stock.picking", values)
        now = self.clock()
        type_id = values["picking_type_id"]
        picking_type = self._record("stock.picking.type", type_id)
        for field_name in ("partner_id", "location_id", "location_dest_id"):
            if values.get(field_name):
                self._record(SCHEMA["stock.picking"][field_name].target or "", values[field_name])
        # Odoo computes the locations from the operation type when they are not given.
        picking = self._create(
            "stock.picking",
            {
                "name": self._picking_name(type_id),
                "origin": values.get("origin") or False,
                "state": "draft",
                "partner_id": values.get("partner_id") or False,
                "picking_type_id": type_id,
                "backorder_id": False,
                "location_id": values.get("location_id") or picking_type["default_location_src_id"],
                "location_dest_id": values.get("location_dest_id")
                or picking_type["default_location_dest_id"],
                "scheduled_date": _datetime_value(values.get("scheduled_date")) or now,
                "date_deadline": _datetime_value(values.get("date_deadline")) or False,
                "date_done": False,
            },
            at=now,
        )
        row = self.models["stock.picking"][picking]
        commands = values.get("move_ids") or []
        if not isinstance(commands, list):
            raise OdooError("builtins.ValueError", "move_ids takes a list of commands")
        for command in commands:
            self._move_command(row, command, now)
        self._recompute_picking(picking)
        return picking

    def _move_command(self, picking: dict[str, Any], command: Any, now: datetime) -> None:
        """One one2many command on ``move_ids``; the fake takes ``(0, 0, values)`` (create)."""
        if not (isinstance(command, list) and len(command) == 3 and command[0] == 0):
            raise OdooError(
                "odoo.exceptions.UserError",
                f"the fake Odoo takes only (0, 0, values) commands on move_ids, not {command!r}",
            )
        values = command[2]
        if not isinstance(values, dict):
            raise OdooError("builtins.ValueError", f"a move's values must be a dict: {values!r}")
        if picking["state"] in ("done", "cancel"):
            raise OdooError(
                "odoo.exceptions.UserError",
                f"{picking['name']} is {picking['state']}: no move can be added to it.",
            )
        self._check_fields("stock.move", values, CREATABLE["stock.move"], "create")
        _require("stock.move", values)
        _check_quantities(values)
        for field_name in ("product_id", "product_uom", "location_id", "location_dest_id"):
            if values.get(field_name):
                self._record(SCHEMA["stock.move"][field_name].target or "", values[field_name])
        fields = dict(values)
        if "date" in fields:
            fields["date"] = _datetime_value(fields["date"]) or now
        # A move added to a confirmed transfer is confirmed with it (Odoo's autoconfirm).
        fields["state"] = "draft" if picking["state"] == "draft" else "confirmed"
        self._new_move(picking, fields, now)

    def _action_confirm(self, ids: Sequence[int]) -> bool:
        now = self.clock()
        for picking in [self._record("stock.picking", i) for i in ids]:
            for move in self._moves(picking["id"]):
                if move["state"] == "draft":
                    move.update(
                        state=_move_state(move["product_uom_qty"], move["quantity"]),
                        write_date=now,
                    )
            self._recompute_picking(picking["id"])
            picking["write_date"] = now
        return True

    def _action_assign(self, ids: Sequence[int]) -> bool:
        pickings = [self._record("stock.picking", i) for i in ids]
        drafts = [p["id"] for p in pickings if p["state"] == "draft"]
        if drafts:
            self._action_confirm(drafts)
        wanted = {p["id"] for p in pickings}
        moves = [
            row
            for row in self.models["stock.move"].values()
            if row["picking_id"] in wanted and row["state"] in OPEN_MOVE_STATES
        ]
        if not moves:
            raise OdooError("odoo.exceptions.UserError", "Nothing to check the availability for.")
        self._assign_moves(sorted(moves, key=lambda row: (row["date"], row["id"])), self.clock())
        return True

    def _assign_moves(self, moves: Sequence[dict[str, Any]], now: datetime) -> None:
        """Reserve what stock allows for ``moves``, in order; goods coming from a partner
        (a supplier's) are always available."""
        touched: set[int] = set()
        for move in moves:
            if move["state"] not in OPEN_MOVE_STATES:
                continue
            wanted = round(move["product_uom_qty"] - move["quantity"], QUANTITY_DIGITS)
            if wanted <= 0:
                continue
            source = self.models["stock.location"][move["location_id"]]
            if source["usage"] == "internal":
                wanted = min(wanted, self._free(move["product_id"], move["location_id"]))
            if wanted <= 0:
                continue
            move["quantity"] = round(move["quantity"] + wanted, QUANTITY_DIGITS)
            move["state"] = _move_state(move["product_uom_qty"], move["quantity"])
            move["write_date"] = now
            touched.add(move["picking_id"])
        for picking in touched:
            self._recompute_picking(picking)
            self.models["stock.picking"][picking]["write_date"] = now

    def _free(self, product: int, location: int) -> float:
        """On hand, less what open moves already hold."""
        held: float = sum(
            row["quantity"]
            for row in self.models["stock.move"].values()
            if row["product_id"] == product
            and row["location_id"] == location
            and row["state"] in OPEN_MOVE_STATES
        )
        return max(0.0, round(self._on_hand.get((product, location), 0.0) - held, QUANTITY_DIGITS))

    def _action_cancel(self, ids: Sequence[int]) -> bool:
        pickings = [self._record("stock.picking", i) for i in ids]
        for picking in pickings:
            if any(move["state"] == "done" for move in self._moves(picking["id"])):
                raise OdooError(
                    "odoo.exceptions.UserError",
                    "You cannot cancel a stock move that has been set to 'Done'. Create a "
                    "return in order to reverse the moves which took place.",
                )
        now = self.clock()
        for picking in pickings:
            for move in self._moves(picking["id"]):
                if move["state"] != "cancel":
                    move.update(state="cancel", quantity=0.0, write_date=now)
            picking.update(state="cancel", write_date=now)
        return True

    def _moves(self, picking: int) -> list[dict[str, Any]]:
        return sorted(
            (row for row in self.models["stock.move"].values() if row["picking_id"] == picking),
            key=lambda row: (row["sequence"], row["id"]),
        )

    # -- validation -----------------------------------------------------------------------

    def _button_validate(self, ids: Sequence[int], context: dict[str, Any]) -> Any:
        no_backorder = set(context.get("picking_ids_not_to_backorder") or ())
        pickings = [self._record("stock.picking", i) for i in ids]
        for picking in pickings:
            if picking["state"] in ("done", "cancel"):
                raise OdooError(
                    "odoo.exceptions.UserError",
                    f"{picking['name']} is {picking['state']}: there is nothing to validate.",
                )
            moves = self._open_moves(picking["id"])
            if not any(move["quantity"] > 0 for move in moves):
                raise OdooError(
                    "odoo.exceptions.UserError",
                    "You cannot validate a transfer if no quantities are reserved nor done.",
                )
        short = [
            p
            for p in pickings
            if any(m["quantity"] < m["product_uom_qty"] for m in self._open_moves(p["id"]))
        ]
        if short and not context.get("skip_backorder"):
            return {
                "name": "Create Backorder?",
                "type": "ir.actions.act_window",
                "res_model": "stock.backorder.confirmation",
                "view_mode": "form",
                "target": "new",
                "context": {"default_pick_ids": [[4, p["id"]] for p in short]},
            }
        for picking in pickings:
            self._done(picking, backorder=picking["id"] not in no_backorder)
        return True

    def _open_moves(self, picking: int) -> list[dict[str, Any]]:
        return [
            row
            for row in self.models["stock.move"].values()
            if row["picking_id"] == picking and row["state"] not in ("done", "cancel")
        ]

    def _done(self, picking: dict[str, Any], *, backorder: bool) -> None:
        now = self.clock()
        moves = self._open_moves(picking["id"])
        rest = [
            (move, round(move["product_uom_qty"] - move["quantity"], QUANTITY_DIGITS))
            for move in moves
            if move["quantity"] < move["product_uom_qty"]
        ]
        kind = self.models["stock.picking.type"][picking["picking_type_id"]]
        incoming = kind["code"] == "incoming"
        created: int | None = None
        if rest and backorder:
            created = self.add_picking(
                kind["code"],
                picking["partner_id"],
                [
                    MoveLine(
                        move["product_id"],
                        quantity,
                        quantity if incoming else 0.0,
                        self.models["uom.uom"][move["product_uom"]]["name"],
                    )
                    for move, quantity in rest
                ],
                warehouse=kind["warehouse_id"],
                origin=picking["origin"] or None,
                backorder_of=picking["id"],
                write_date=now,
                scheduled_date=picking["scheduled_date"],
            )
        received: dict[int, float] = {}
        arrived: set[tuple[int, int]] = set()  # (product, location) that stock came into
        for move in moves:
            done = move["quantity"]
            if done > 0:
                move.update(state="done", product_uom_qty=done, picked=True, write_date=now)
                received[move["product_id"]] = received.get(move["product_id"], 0.0) + done
                arrived |= self._book_stock(move, done)
            else:
                move.update(state="cancel", write_date=now)
        picking.update(state="done", date_done=now, write_date=now)
        if incoming:
            self._receive_on_order(picking["origin"], received, now)
        if created is not None and not incoming:
            # Odoo reserves a delivery's backorder at once (reservation at confirmation).
            self._assign_moves(
                sorted(self._open_moves(created), key=lambda row: (row["date"], row["id"])), now
            )
        if arrived:
            # Odoo's _trigger_assign: stock that arrives goes to the moves waiting for it
            # there, oldest first.
            waiting = [
                row
                for row in self.models["stock.move"].values()
                if row["state"] in ("confirmed", "partially_available")
                and (row["product_id"], row["location_id"]) in arrived
            ]
            self._assign_moves(sorted(waiting, key=lambda row: (row["date"], row["id"])), now)

    def _book_stock(self, move: dict[str, Any], done: float) -> set[tuple[int, int]]:
        """Take ``done`` out of the move's source and into its destination (internal
        locations keep stock); the ``(product, location)`` that stock came into."""
        product = move["product_id"]
        arrived = set()
        for location, sign in ((move["location_id"], -1), (move["location_dest_id"], 1)):
            if self.models["stock.location"][location]["usage"] != "internal":
                continue
            key = (product, location)
            self._on_hand[key] = round(self._on_hand.get(key, 0.0) + sign * done, QUANTITY_DIGITS)
            if sign > 0:
                arrived.add(key)
        return arrived

    def _receive_on_order(self, origin: Any, received: dict[int, float], now: datetime) -> None:
        orders = [r for r in self.models["purchase.order"].values() if r["name"] == origin]
        for order in orders:
            for line in self.models["purchase.order.line"].values():
                if line["order_id"] == order["id"] and line["product_id"] in received:
                    line["qty_received"] = round(
                        line["qty_received"] + received.pop(line["product_id"]), QUANTITY_DIGITS
                    )
                    line["write_date"] = now
            order["write_date"] = now  # its receipt status is recomputed and stored

    def _recompute_picking(self, picking: int) -> None:
        """A transfer's state from its moves': draft while any is, Ready (``assigned``) when
        anything is reserved, else Waiting (``confirmed``)."""
        row = self.models["stock.picking"][picking]
        if row["state"] in ("done", "cancel"):
            return
        moves = self._moves(picking)
        if not moves:
            return
        if any(move["state"] == "draft" for move in moves):
            row["state"] = "draft"
        elif all(move["state"] == "cancel" for move in moves):
            row["state"] = "cancel"
        else:
            reserved = any(move["quantity"] > 0 for move in self._open_moves(picking))
            row["state"] = "assigned" if reserved else "confirmed"

    # -- domains --------------------------------------------------------------------------

    def _compile(self, model: str, domain: Any) -> Callable[[dict[str, Any]], bool]:
        if not isinstance(domain, list):
            raise OdooError("builtins.ValueError", f"Invalid domain {domain!r}")
        tokens = iter(domain)
        parts: list[Callable[[dict[str, Any]], bool]] = []
        while True:
            try:
                parts.append(self._term(model, tokens, next(tokens)))
            except StopIteration:
                break
        return lambda row: all(part(row) for part in parts)

    def _term(
        self, model: str, tokens: Iterator[Any], token: Any
    ) -> Callable[[dict[str, Any]], bool]:
        try:
            if token in ("&", "|"):
                left = self._term(model, tokens, next(tokens))
                right = self._term(model, tokens, next(tokens))
                if token == "&":
                    return lambda row: left(row) and right(row)
                return lambda row: left(row) or right(row)
            if token == "!":
                inner = self._term(model, tokens, next(tokens))
                return lambda row: not inner(row)
        except StopIteration:
            raise OdooError(
                "builtins.ValueError", "Invalid domain: an operator lacks terms"
            ) from None
        if not (isinstance(token, list | tuple) and len(token) == 3 and isinstance(token[0], str)):
            raise OdooError("builtins.ValueError", f"Invalid leaf {token!r}")
        path, operator, value = token
        if operator not in ("=", "!=", "<", "<=", ">", ">=", "in", "not in"):
            raise OdooError("builtins.ValueError", f"Invalid leaf {token!r}: unknown operator")
        spec = self._path_spec(model, path)
        expected = _coerce(spec, value)

        def matches(row: dict[str, Any]) -> bool:
            return _compare(self._value(model, row, path), operator, expected)

        return matches

    def _path_spec(self, model: str, path: str) -> Field:
        current = model
        names = path.split(".")
        for index, name in enumerate(names):
            if name == "id":
                spec = Field("int")
            else:
                found = SCHEMA[current].get(name)
                if found is None:
                    raise OdooError(
                        "builtins.ValueError", f"Invalid field {current}.{name} in leaf"
                    )
                spec = found
            if index < len(names) - 1:
                if spec.kind != "many2one" or spec.target is None:
                    raise OdooError("builtins.ValueError", f"{current}.{name} is not a many2one")
                current = spec.target
        return spec

    def _value(self, model: str, row: dict[str, Any] | None, path: str) -> Any:
        current = model
        names = path.split(".")
        for name in names[:-1]:
            if row is None:
                return None
            target = SCHEMA[current][name].target
            assert target is not None
            related = row.get(name)
            row = self.models[target].get(related) if related else None
            current = target
        if row is None:
            return None
        value = row.get(names[-1])
        return None if value is False else value


def _require(model: str, values: dict[str, Any]) -> None:
    """Odoo's answer to a mandatory field left empty (a NOT NULL violation)."""
    for name in REQUIRED[model]:
        value = values.get(name)
        if value is None or value is False or value == "":
            raise OdooError(
                "odoo.exceptions.ValidationError",
                "The operation cannot be completed:\n- Create/update: a mandatory field is not "
                f"set.\n- Delete: another model requires the record being deleted. If possible, "
                f"archive it instead.\n\nModel: {model}\nField: {name}",
            )


QUANTITIES = frozenset({"quantity", "product_uom_qty"})


def _check_quantities(values: dict[str, Any]) -> None:
    for name in QUANTITIES & values.keys():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise OdooError(
                "odoo.exceptions.ValidationError", f"{name} must be a positive number: {value!r}"
            )


def _datetime_value(value: Any) -> datetime | None:
    """A datetime as Odoo takes it: ``YYYY-MM-DD HH:MM:SS`` or a date (its midnight)."""
    if value in (None, False):
        return None
    if isinstance(value, str):
        for layout in (ODOO_DATETIME, "%Y-%m-%d"):
            try:
                return datetime.strptime(value, layout)
            except ValueError:
                continue
    raise OdooError("builtins.ValueError", f"{value!r} is not a datetime")


def _empty(spec: Field) -> Any:
    if spec.kind in ("float",):
        return 0.0
    if spec.kind == "int":
        return 0
    return False


def _move_state(demand: float, reserved: float) -> str:
    if reserved <= 0:
        return "confirmed"
    return "assigned" if reserved >= demand else "partially_available"


def _coerce(spec: Field, value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_coerce(spec, item) for item in value]
    if value is False or value is None:
        return None
    if spec.kind == "datetime" and isinstance(value, str):
        try:
            return datetime.strptime(value[:19], ODOO_DATETIME)
        except ValueError:
            raise OdooError("builtins.ValueError", f"{value!r} is not a datetime") from None
    return value


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "=":
        return bool(actual == expected)
    if operator == "!=":
        return bool(actual != expected)
    if operator in ("in", "not in"):
        inside = actual in (expected if isinstance(expected, list) else [expected])
        return inside if operator == "in" else not inside
    if actual is None or expected is None:
        return False
    if operator == "<":
        return bool(actual < expected)
    if operator == "<=":
        return bool(actual <= expected)
    if operator == ">":
        return bool(actual > expected)
    return bool(actual >= expected)


def _order(model: str, order: Any) -> list[tuple[str, bool]]:
    terms: list[tuple[str, bool]] = []
    for part in str(order).split(","):
        words = part.split()
        if not words:
            continue
        name = words[0]
        if name != "id" and name not in SCHEMA[model]:
            raise OdooError("builtins.ValueError", f"Invalid field {name!r} in order")
        terms.append((name, len(words) > 1 and words[1].lower() == "desc"))
    return terms


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    def key(row: dict[str, Any]) -> tuple[bool, Any]:
        value = row.get(name)
        empty = value is None or value is False
        return (empty, 0 if empty else value)

    return key
