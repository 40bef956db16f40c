"""``POST /v1/connections/{connection}/inbound``: requests pushed by external systems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from connectors.sdk import InboundRequest
from hub.contracts.lifecycle import deprecation_headers
from hub.contracts.schemas import ContractWarning
from hub.openapi import problems
from hub.responses import FastJSONResponse
from hub.state import hub_state

router = APIRouter(tags=["inbound"])


class InboundItem(BaseModel):
    index: int = Field(description="Position of the record in the request.")
    status: str = Field(description="accepted, duplicate or dead_lettered.")
    message_key: str | None = None
    dead_letter_id: str | None = None
    reason: str | None = None
    error: str | None = None
    violations: list[dict[str, str]] | None = None
    warnings: list[ContractWarning] | None = Field(
        default=None, description="The message's contract version is deprecated."
    )


class InboundAnswer(BaseModel):
    delivery_id: str | None = Field(description="The sender's delivery id, if it sent one.")
    duplicate: bool = Field(description="This delivery id was received before: same answer.")
    received: int
    accepted: int
    dead_lettered: int
    items: list[InboundItem]


@router.post(
    "/v1/connections/{connection}/inbound",
    status_code=202,
    summary="Take a request pushed by the connection's system",
    description=(
        "The raw body and headers go to the connection's connector, which verifies them "
        "(its signature scheme replaces the API key here: a request that fails verification "
        "gets 401 and nothing is stored). A delivery id seen before answers 200 with the "
        "first answer and `duplicate: true`. Each record is mapped to a canonical message, "
        "checked and accepted; a record that cannot be parsed, mapped or validated is kept "
        "as an inbound dead letter with the raw request (still 202: the sender must not "
        "retry what the hub has kept)."
    ),
    responses={
        202: {"model": InboundAnswer, "description": "Verified; every record stored."},
        200: {"model": InboundAnswer, "description": "Received before (duplicate)."},
        **problems(401, 404, 413, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Whatever the connector's system sends; verified as raw bytes.",
            "content": {"*/*": {"schema": {}}},
        },
        "security": [],
    },
)
async def post_inbound(
    request: Request,
    connection: Annotated[str, Path(max_length=128, description="Connection id or name.")],
) -> FastJSONResponse:
    state = hub_state(request)
    row = state.inbound.connection(state.read_sessions, connection)
    inbound = InboundRequest(
        body=await request.body(),
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
    )
    answer, duplicate = await state.inbound.receive(row, inbound)
    # Deprecation and Sunset headers when a record's message is of a deprecated version.
    warned = (w["dataschema"] for i in answer["items"] for w in i.get("warnings", ()))
    headers = deprecation_headers(state.registry.deprecations(warned))
    return FastJSONResponse(answer, status_code=200 if duplicate else 202, headers=headers)
