"""Building blocks of the outbound payload models (what a route's mapping must produce).

Quantities and prices are exact: a number (int or float, as the mapping engine writes
them) or numeric text becomes a :class:`~decimal.Decimal` through its shortest text, then
is normalised the way X12 writes it (``12.50`` → ``12.5``), so what is written and what
reading it back gives are the same. Codes and ids are text; a mapping's integer line
number (``{index: 1}``) is accepted for an id.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from connectors.x12.elements import exact_decimal, x12_decimal
from connectors.x12.sets.loops import prune


def _number(value: Any) -> Decimal:
    return Decimal(x12_decimal(exact_decimal(value)))


def _text(value: Any) -> Any:
    # Integers (a mapping's `index`, a numeric id) become text; anything else is checked as is.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


Number = Annotated[Decimal, BeforeValidator(_number)]
Quantity = Annotated[Decimal, BeforeValidator(_number), AfterValidator(_positive)]
Amount = Annotated[Decimal, BeforeValidator(_number), AfterValidator(_not_negative)]
Text = Annotated[str, BeforeValidator(_text), StringConstraints(min_length=1, max_length=80)]
Code = Annotated[str, BeforeValidator(_text), StringConstraints(pattern=r"^[A-Z0-9]{1,4}$")]
Unit = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2}$")]
Qualifier = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,3}(_[0-9]+)?$")]
ProductIds = Annotated[dict[Qualifier, Text], Field(min_length=1)]


class Model(BaseModel):
    """Base of the payload models: unknown fields are a mistake in the mapping, refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(Model):
    """An N1 loop: N1 (name, id qualifier, id), N3 address lines, N4 place."""

    name: Text | None = None
    id_qualifier: Code | None = None
    id: Text | None = None
    address: list[Text] = Field(default_factory=list, max_length=4)
    city: Text | None = None
    state: Code | None = None
    postal_code: Text | None = None
    country: Code | None = None


Parties = dict[Qualifier, Party]
References = dict[Qualifier, Text]
Dates = dict[Qualifier, date]


def document(model: BaseModel) -> dict[str, Any]:
    """The payload as JSON-ready data, without empty values: what reading the X12 gives."""
    return prune(model.model_dump(mode="json"))
