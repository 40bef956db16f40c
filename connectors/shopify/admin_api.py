"""The Admin GraphQL API as the connector uses it: three documents and what answers mean.

Every call is ``POST /admin/api/<version>/graphql.json`` with ``X-Shopify-Access-Token``.
Shopify answers GraphQL problems with HTTP 200 and an ``errors`` list; this module turns
each answer into data or into the :class:`SendOutcome` the hub should classify:

- transport failures and non-200 answers: as the SDK reports them (429 and 5xx retried,
  ``Retry-After`` honoured; 401/403 permanent);
- ``THROTTLED`` (the query-cost bucket is empty): an HTTP 429 outcome whose
  ``retry_after`` is the time the bucket needs to refill for this query;
- ``INTERNAL_SERVER_ERROR`` and unknown error codes: transient;
- ``ACCESS_DENIED`` and query errors (a field this API version lacks): permanent.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import orjson

from connectors.sdk import OutcomeKind, SendOutcome
from connectors.shopify.config import ShopifyConfig

SHOP_QUERY = "query CrossdockCheck { shop { name myshopifyDomain } }"

LEVELS_QUERY = """\
query CrossdockAvailable($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      sku
      inventoryLevel(locationId: $locationId) {
        quantities(names: ["available"]) { name quantity }
      }
    }
  }
}"""

_SET_SELECTION = """\
    inventoryAdjustmentGroup {
      createdAt
      reason
      referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { code field message }"""

SET_MUTATION = (
    "mutation CrossdockSetAvailable($input: InventorySetQuantitiesInput!) {\n"
    "  inventorySetQuantities(input: $input) {\n" + _SET_SELECTION + "\n  }\n}"
)
"""Before 2026-04: ``compareQuantity`` on each quantity."""

SET_MUTATION_IDEMPOTENT = (
    "mutation CrossdockSetAvailable($input: InventorySetQuantitiesInput!, "
    "$idempotencyKey: String!) {\n"
    "  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {\n"
    + _SET_SELECTION
    + "\n  }\n}"
)
"""From 2026-04: ``changeFromQuantity`` on each quantity and a required idempotency key."""

TRANSIENT_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})
PERMANENT_CODES = frozenset({"ACCESS_DENIED", "BAD_REQUEST", "NOT_FOUND", "UNAUTHORIZED"})
STALE_CODES = frozenset({"COMPARE_QUANTITY_STALE", "CHANGE_FROM_QUANTITY_STALE"})


class AdminApiFailure(Exception):
    """A call that did not produce data; ``outcome`` says what the hub should make of it."""

    def __init__(self, outcome: SendOutcome) -> None:
        super().__init__(outcome.error or outcome.kind.value)
        self.outcome = outcome


def throttle_wait(extensions: Any) -> float:
    """Seconds until the cost bucket holds this query again (at least one)."""
    try:
        cost = extensions["cost"]
        status = cost["throttleStatus"]
        needed = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return 1.0
    if rate <= 0:
        return 1.0
    return float(max(1, math.ceil(needed / rate)))


def _errors_outcome(response: httpx.Response, errors: list[Any], extensions: Any) -> SendOutcome:
    codes = [
        str((e.get("extensions") or {}).get("code", "")) if isinstance(e, dict) else ""
        for e in errors
    ]
    messages = "; ".join(
        str(e.get("message", "")) if isinstance(e, dict) else str(e) for e in errors
    )[:400]
    if "THROTTLED" in codes:
        # Shopify throttles GraphQL with a 200; it means what 429 means, so it is reported
        # as one and the hub waits for the bucket before the next attempt.
        return SendOutcome(
            OutcomeKind.HTTP_ERROR,
            status_code=429,
            error=f"Shopify throttled the call (THROTTLED): {messages}",
            body_excerpt=response.text[:2048],
            retry_after=throttle_wait(extensions),
        )
    if any(code in TRANSIENT_CODES for code in codes):
        return SendOutcome(
            OutcomeKind.HTTP_ERROR,
            status_code=response.status_code,
            error=f"Shopify failed the call ({', '.join(sorted(set(codes)))}): {messages}",
            body_excerpt=response.text[:2048],
        )
    return SendOutcome.rejected(f"Shopify refused the call: {messages}")


async def call(
    http: httpx.AsyncClient, config: ShopifyConfig, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Run one GraphQL document; its ``data``, or :class:`AdminApiFailure`."""
    body = orjson.dumps({"query": query, "variables": variables})
    try:
        response = await http.post(
            config.graphql_url(),
            content=body,
            headers={
                "content-type": "application/json",
                "accept": "application/json",
                "x-shopify-access-token": config.access_token.get_secret_value(),
            },
        )
    except httpx.HTTPError as exc:
        raise AdminApiFailure(SendOutcome.from_exception(exc)) from None
    if response.status_code != 200:
        raise AdminApiFailure(SendOutcome.from_response(response))
    try:
        # orjson: Shopify's 64-bit ids stay integers.
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise AdminApiFailure(
            SendOutcome(
                OutcomeKind.HTTP_ERROR,
                status_code=response.status_code,
                error="Shopify answered with something that is not JSON",
                body_excerpt=response.text[:2048],
            )
        ) from None
    if not isinstance(document, dict):
        raise AdminApiFailure(SendOutcome.rejected("Shopify answered with a non-object"))
    errors = document.get("errors")
    if errors:
        if not isinstance(errors, list):
            errors = [{"message": str(errors)}]
        raise AdminApiFailure(_errors_outcome(response, errors, document.get("extensions")))
    data = document.get("data")
    if not isinstance(data, dict):
        raise AdminApiFailure(SendOutcome.rejected("Shopify answered without data"))
    return data
