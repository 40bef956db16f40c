"""Odoo rows as native records: the fields read, how values are cleaned, relations joined.

Odoo answers ``false`` for an empty text, date or relation, and a many2one as
``[id, "display name"]``. A mapping wants neither, so every row the connector reads is
cleaned the same way:

- an empty (``false``) field that is not a boolean becomes ``null``;
- a many2one becomes ``{"id": 7, "name": "Acme Supplies"}``, and for the relations listed in
  :data:`RELATIONS` the related record's own fields are joined in (its display name then
  moves to ``display_name``): ``partner_id.ref``, ``picking_type_id.warehouse_id.code``,
  ``product_id.default_code``;
- numbers stay as Odoo sent them: ids are integers of any size, quantities the floats
  Odoo rounded to their unit's precision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Literal

import orjson

from connectors.odoo.rpc import OdooClient

FieldKind = Literal["text", "number", "many2one"]

FIELDS: dict[str, dict[str, FieldKind]] = {
    "purchase.order": {
        "name": "text",
        "state": "text",
        "partner_id": "many2one",
        "partner_ref": "text",
        "origin": "text",
        "currency_id": "many2one",
        "user_id": "many2one",
        "picking_type_id": "many2one",
        "date_order": "text",
        "date_approve": "text",
        "date_planned": "text",
        "write_date": "text",
    },
    "purchase.order.line": {
        "order_id": "many2one",
        "sequence": "number",
        "name": "text",
        "product_id": "many2one",
        "product_qty": "number",
        "product_uom": "many2one",
        "price_unit": "number",
        "date_planned": "text",
    },
    "stock.picking": {
        "name": "text",
        "origin": "text",
        "state": "text",
        "partner_id": "many2one",
        "picking_type_id": "many2one",
        "backorder_id": "many2one",
        "scheduled_date": "text",
        "date_deadline": "text",
        "create_date": "text",
        "write_date": "text",
    },
    "stock.move": {
        "picking_id": "many2one",
        "sequence": "number",
        "product_id": "many2one",
        "product_uom_qty": "number",
        "quantity": "number",
        "product_uom": "many2one",
        "state": "text",
        "date": "text",
    },
    "product.product": {"name": "text", "default_code": "text", "barcode": "text"},
    "res.partner": {"name": "text", "ref": "text", "commercial_partner_id": "many2one"},
    "stock.picking.type": {"name": "text", "code": "text", "warehouse_id": "many2one"},
    "stock.warehouse": {"name": "text", "code": "text"},
}
"""The fields read of each model (Odoo 17 and later: a move's reserved quantity is ``quantity``)."""

RELATIONS: dict[str, dict[str, str]] = {
    "purchase.order": {"partner_id": "res.partner", "picking_type_id": "stock.picking.type"},
    "purchase.order.line": {"product_id": "product.product"},
    "stock.picking": {"partner_id": "res.partner", "picking_type_id": "stock.picking.type"},
    "stock.move": {"product_id": "product.product"},
    "res.partner": {"commercial_partner_id": "res.partner"},
    "stock.picking.type": {"warehouse_id": "stock.warehouse"},
}
"""Many2one fields whose related record is read and joined in, and its model."""

JOIN_DEPTH = 2  # a purchase order → its operation type → that type's warehouse


def field_names(model: str) -> list[str]:
    return list(FIELDS[model])


def clean(model: str, row: dict[str, Any]) -> dict[str, Any]:
    """One row as Odoo answered it, cleaned (see the module's docstring)."""
    cleaned: dict[str, Any] = {"id": row["id"]}
    for name, kind in FIELDS[model].items():
        value = row.get(name)
        if value is False or value is None:
            cleaned[name] = None
        elif kind == "many2one":
            if isinstance(value, list | tuple) and len(value) == 2:
                cleaned[name] = {"id": value[0], "name": value[1]}
            else:  # an id without its name (read with load=None): keep what there is
                cleaned[name] = {"id": value, "name": None}
        else:
            cleaned[name] = value
    return cleaned


class RelatedRecords:
    """The related records of one poll: each read once, joined wherever they are named."""

    def __init__(self, client: OdooClient) -> None:
        self._client = client
        self._rows: dict[str, dict[int, dict[str, Any]]] = {}

    async def fetch(self, model: str, rows: Iterable[dict[str, Any]]) -> None:
        """Read what ``rows`` (of ``model``) refer to, and what those refer to, once each."""
        wanted: dict[str, set[int]] = {}
        for row in rows:
            for field, target in RELATIONS.get(model, {}).items():
                reference = row.get(field)
                if isinstance(reference, dict) and isinstance(reference.get("id"), int):
                    wanted.setdefault(target, set()).add(reference["id"])
        for target, ids in wanted.items():
            known = self._rows.setdefault(target, {})
            missing = sorted(ids - known.keys())
            if not missing:
                continue
            fetched = [
                clean(target, row)
                for row in await self._client.read(target, missing, field_names(target))
            ]
            for row in fetched:
                known[row["id"]] = row
            await self.fetch(target, fetched)

    def join(self, model: str, row: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        """A fresh copy of ``row`` with its related records joined in, to :data:`JOIN_DEPTH`."""
        joined = dict(row)
        if depth >= JOIN_DEPTH:
            return joined
        for field, target in RELATIONS.get(model, {}).items():
            reference = row.get(field)
            if not isinstance(reference, dict):
                continue
            related = self._rows.get(target, {}).get(reference.get("id"))  # type: ignore[arg-type]
            if related is None:
                continue  # deleted, or not readable by this user: keep the bare reference
            joined[field] = {
                **self.join(target, related, depth + 1),
                "display_name": reference.get("name"),
            }
        return joined


def digest(
    data: dict[str, Any], volatile: Iterable[str], child: str, child_volatile: Iterable[str]
) -> str:
    """A fingerprint of what a record says, without the fields that change without news."""
    dropped = set(volatile)
    dropped_in_child = set(child_volatile)
    material = {k: v for k, v in data.items() if k not in dropped and k != child}
    material[child] = [
        {k: v for k, v in item.items() if k not in dropped_in_child}
        for item in data.get(child) or []
    ]
    encoded = orjson.dumps(material, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(encoded).hexdigest()[:32]
