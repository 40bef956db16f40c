"""OpenAPI documentation of problem responses, shared by every router."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import PROBLEM_MEDIA_TYPE


class Problem(BaseModel):
    """An RFC 9457 problem document. Branch on ``type``; it never changes."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:crossdock:problem:contract-violation"])
    title: str
    status: int
    detail: str
    instance: str | None = None


class ViolationOut(BaseModel):
    pointer: str = Field(description="RFC 6901 JSON pointer into the submitted event.")
    rule: str = Field(description="Which check failed, e.g. `schema:required`, `gtin-check-digit`.")
    message: str


class ContractViolationProblem(Problem):
    violations: list[ViolationOut] = Field(default_factory=list)


_DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON, or a parameter is malformed.",
    401: "No API key, or an unknown or revoked one.",
    403: "The API key lacks the scope this operation needs.",
    404: "Not found.",
    409: "Conflict.",
    413: "The body exceeds the size limit.",
    415: "Unsupported content type.",
    422: "The request is well-formed but invalid; `violations` lists every problem.",
    429: "The client's rate limit is used up; retry after `Retry-After` seconds.",
    503: "The hub cannot serve the request right now; retry after `Retry-After` seconds.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the given status codes, all problem documents.

    Every operation that takes a key (401) can also meet the caller's rate limit (429) and
    the URL check every operation makes (400: a NUL in the path or query)."""
    result: dict[int | str, dict[str, Any]] = {}
    every = sorted({*codes, 400, 429}) if 401 in codes else codes
    for code in every:
        model = ContractViolationProblem if code == 422 else Problem
        result[code] = {
            "description": _DESCRIPTIONS[code],
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    return result
