"""What a poll reads from Odoo, and the cursor that makes it read each version once.

Three *streams*, each a model read in ``write_date`` order:

===================  ======================  ===========================================
stream               record kind             what
===================  ======================  ===========================================
``purchase_orders``  ``odoo/purchase.order``  purchase orders in state ``purchase``, lines
``reservations``     ``odoo/stock.reservation`` outgoing transfers in state ``assigned``
                                              (Ready: stock reserved, all or part) or
                                              ``cancel``, moves
``backorders``       ``odoo/stock.backorder``   transfers with ``backorder_id`` set, in any
                                              state, moves, and how far they are filled
===================  ======================  ===========================================

A transfer's moves are those not cancelled (all of them when the transfer is), with a
demand. A backorder record carries its ``fill``, computed here because a mapping cannot
subtract (see :func:`add_fill`).

**The cursor.** Odoo keeps ``write_date`` to the microsecond but answers it to the second,
and orders by the full value, so ``(write_date, id)`` as read cannot order records
written within one second. The cursor therefore keeps, per stream, the last second read
(``at``) and the ids already read at that second (``seen``), and asks for::

    write_date >= at + 1s   OR   (write_date >= at AND id NOT IN seen)

which returns every record written since, once, however a page boundary cuts a second.
A record written again later has a later ``write_date`` and comes again: that is news.

**Versions.** A record comes again whenever anything writes it (a receipt posted against a
purchase order rewrites the order). Each record's *digest* leaves out what changes without
news (``write_date``, the state of an order or a backorder, a backorder's raw reserved
quantities: its ``fill`` says what counts); the connector keeps the
last digest passed on in its state (``seen:<stream>:<id>``, written once the hub stored the
record) and skips a record whose digest has not changed. A record seen before is marked
``"event": "changed"``, a first one ``"new"``: the mappings turn them into
``po_release.released`` / ``po_release.changed`` and ``backorder.created`` /
``backorder.updated``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from connectors.odoo.config import OdooConfig
from connectors.odoo.records import RelatedRecords, clean, digest, field_names
from connectors.odoo.rpc import OdooClient

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Stream:
    """One model read in ``write_date`` order into records of one kind."""

    name: str
    kind: str
    model: str
    child_model: str
    child_parent: str  # the child's many2one to its parent
    child_field: str  # where the children go in the record
    child_domain: tuple[Any, ...]
    volatile: tuple[str, ...]
    child_volatile: tuple[str, ...] = ()

    @property
    def record_name(self) -> str:
        """What its records' ids start with: the kind without ``odoo/``."""
        return self.kind.removeprefix("odoo/")

    @property
    def pickings(self) -> bool:
        """Whether it reads transfers (``stock.picking``) with their moves."""
        return self.model == "stock.picking"

    def domain(self, config: OdooConfig) -> list[Any]:
        found: list[Any] = list(self._filters(config))
        if config.warehouses:
            found.append(("picking_type_id.warehouse_id.code", "in", list(config.warehouses)))
        return found

    def _filters(self, config: OdooConfig) -> list[Any]:
        if self.name == "purchase_orders":
            return [("state", "=", "purchase")]
        if self.name == "reservations":
            return [
                ("picking_type_id.code", "=", "outgoing"),
                ("state", "in", ["assigned", "cancel"]),
            ]
        return [
            ("backorder_id", "!=", False),
            ("picking_type_id.code", "in", list(config.backorder_types)),
        ]


STREAMS: tuple[Stream, ...] = (
    Stream(
        name="purchase_orders",
        kind="odoo/purchase.order",
        model="purchase.order",
        child_model="purchase.order.line",
        child_parent="order_id",
        child_field="order_line",
        child_domain=(("display_type", "=", False),),  # not section and note lines
        volatile=("event", "write_date", "state"),
    ),
    Stream(
        name="reservations",
        kind="odoo/stock.reservation",
        model="stock.picking",
        child_model="stock.move",
        child_parent="picking_id",
        child_field="move_ids",
        child_domain=(),
        volatile=("event", "write_date"),  # Ready or cancelled: the state is news
        child_volatile=("state",),
    ),
    Stream(
        name="backorders",
        kind="odoo/stock.backorder",
        model="stock.picking",
        child_model="stock.move",
        child_parent="picking_id",
        child_field="move_ids",
        child_domain=(),
        volatile=("event", "write_date", "state"),  # `fill` carries what counts of them
        child_volatile=("state", "quantity"),
    ),
)


@dataclass
class Position:
    """Where one stream's reading stands: the last second read and the ids read at it."""

    at: str | None = None
    seen: list[int] = field(default_factory=list)

    def domain(self) -> list[Any]:
        if self.at is None:
            return []
        if not self.seen:
            return [("write_date", ">=", self.at)]
        following = (datetime.strptime(self.at, ODOO_DATETIME) + timedelta(seconds=1)).strftime(
            ODOO_DATETIME
        )
        return [
            "|",
            ("write_date", ">=", following),
            "&",
            ("write_date", ">=", self.at),
            ("id", "not in", list(self.seen)),
        ]

    def advance(self, rows: Sequence[dict[str, Any]]) -> None:
        """Move past ``rows``, read in ``write_date`` order."""
        for row in rows:
            second = row["write_date"]
            if second != self.at:
                self.at, self.seen = second, []
            self.seen.append(row["id"])


class Cursor:
    """The positions of every stream, as the one cursor string the hub stores."""

    def __init__(self, positions: dict[str, Position]) -> None:
        self.positions = positions

    @classmethod
    def parse(cls, text: str | None, start_at: datetime | None) -> Cursor:
        if text is None:
            first = odoo_datetime(start_at) if start_at is not None else None
            return cls({s.name: Position(first) for s in STREAMS})
        try:
            raw = orjson.loads(text)
            positions = {
                name: Position(value["at"], [int(i) for i in value["seen"]])
                for name, value in raw.items()
            }
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            raise ValueError(f"not an odoo connector cursor: {text[:80]!r}") from None
        for stream in STREAMS:
            positions.setdefault(stream.name, Position())
        return cls(positions)

    def dump(self) -> str:
        return orjson.dumps(
            {name: {"at": p.at, "seen": p.seen} for name, p in self.positions.items()}
        ).decode()


def odoo_datetime(moment: datetime) -> str:
    """An instant as Odoo writes datetimes: UTC, to the second, no offset."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(ODOO_DATETIME)


@dataclass(frozen=True)
class Page:
    """One stream's page: its records, joined and cleaned, and whether it was full."""

    rows: list[dict[str, Any]]
    full: bool


async def read_page(
    client: OdooClient,
    related: RelatedRecords,
    stream: Stream,
    config: OdooConfig,
    position: Position,
    before: str | None,
) -> Page:
    """The next page of ``stream`` after ``position``, written before ``before``."""
    domain = stream.domain(config) + position.domain()
    if before is not None:
        domain.append(("write_date", "<", before))
    rows = [
        clean(stream.model, row)
        for row in await client.search_read(
            stream.model,
            domain,
            field_names(stream.model),
            order="write_date asc, id asc",
            limit=config.page_size,
        )
    ]
    if not rows:
        return Page([], False)
    children = [
        clean(stream.child_model, row)
        for row in await client.search_read(
            stream.child_model,
            [(stream.child_parent, "in", [row["id"] for row in rows]), *stream.child_domain],
            field_names(stream.child_model),
            order=f"{stream.child_parent} asc, sequence asc, id asc",
        )
    ]
    await related.fetch(stream.model, rows)
    await related.fetch(stream.child_model, children)
    by_parent: dict[int, list[dict[str, Any]]] = {}
    for child in children:
        parent = child.pop(stream.child_parent)
        if parent is not None:
            by_parent.setdefault(parent["id"], []).append(related.join(stream.child_model, child))
    joined = []
    for row in rows:
        record = related.join(stream.model, row)
        record[stream.child_field] = by_parent.get(row["id"], [])
        if stream.pickings:
            keep_moves(record)
        if stream.name == "backorders":
            add_fill(record)
        joined.append(record)
    return Page(joined, full=len(rows) >= config.page_size)


def keep_moves(picking: dict[str, Any]) -> None:
    """Leave out the moves that are nothing: cancelled ones of a transfer still alive (a
    line removed, nothing done of it), and those without demand."""
    cancelled = picking["state"] == "cancel"
    picking["move_ids"] = [
        move
        for move in picking["move_ids"]
        if (cancelled or move["state"] != "cancel") and (move["product_uom_qty"] or 0) > 0
    ]


def add_fill(backorder: dict[str, Any]) -> None:
    """How far a backorder is filled: ``fill`` on it and on each move.

    ``{"status": ..., "open_qty": ..., "filled_qty": ...}``, status as the backorder contract
    says it:

    - cancelled: ``cancelled``, nothing filled, open what was demanded;
    - done (shipped or received): ``filled``, filled what moved, nothing open (what did not
      move went to a backorder of its own);
    - a receipt's, not done: ``open`` (goods from a supplier are "reserved" at once; only
      receiving them fills it);
    - a delivery's, not done: filled is the stock reserved for it: ``filled`` when every
      move holds its demand, ``partially_filled`` when some stock is held, else ``open``.
    """
    state = backorder["state"]
    incoming = (backorder.get("picking_type_id") or {}).get("code") == "incoming"
    total_open, total_filled = Decimal(0), Decimal(0)
    for move in backorder["move_ids"]:
        demand = _decimal(move["product_uom_qty"] or 0)
        held = _decimal(move["quantity"] or 0)
        if state == "cancel" or (incoming and state != "done"):
            filled = Decimal(0)
        elif state == "done":
            filled = held if move["state"] == "done" else Decimal(0)
        else:
            filled = min(held, demand)
        still_open = Decimal(0) if state == "done" else demand - filled
        move["fill"] = {"open_qty": float(still_open), "filled_qty": float(filled)}
        total_open += still_open
        total_filled += filled
    if state == "cancel":
        status = "cancelled"
    elif state == "done" or (backorder["move_ids"] and total_open == 0):
        status = "filled"
    elif total_filled > 0:
        status = "partially_filled"
    else:
        status = "open"
    backorder["fill"] = {
        "status": status,
        "open_qty": float(total_open),
        "filled_qty": float(total_filled),
    }


def _decimal(value: Any) -> Decimal:
    """An Odoo float as the decimal it was rounded to (its shortest text)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def fingerprint(stream: Stream, record: dict[str, Any]) -> str:
    return digest(record, stream.volatile, stream.child_field, stream.child_volatile)
