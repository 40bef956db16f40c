"""``/health``: anonymous, cheap, and honest about the database."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub import __version__
from hub.responses import FastJSONResponse
from hub.state import hub_state

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unavailable"]
    database_backend: str


@router.get(
    "/health",
    summary="Process and database health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer."}},
)
def health(request: Request) -> FastJSONResponse:
    state = hub_state(request)
    try:
        with state.read_sessions() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "version": __version__,
        "database": database,
        "database_backend": state.engine.dialect.name,
    }
    return FastJSONResponse(body, status_code=200 if database == "ok" else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> PlainTextResponse:
    registry = hub_state(request).metrics.registry
    return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
