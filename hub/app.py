"""The FastAPI application: routers, problem rendering, and the process lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub import __version__
from hub.audit import endpoints as audit_endpoints
from hub.audit.loads import MappingLoadAudit, record_policy_load
from hub.clients import endpoints as clients_endpoints
from hub.clients.service import ClientService
from hub.connections import endpoints as connections_endpoints
from hub.contracts import endpoints as contracts_endpoints
from hub.deadletters import endpoints as deadletters_endpoints
from hub.deliveries import endpoints as deliveries_endpoints
from hub.errors import (
    InvalidParameters,
    MalformedJSON,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    ProblemError,
)
from hub.health import endpoints as health_endpoints
from hub.inbound import endpoints as inbound_endpoints
from hub.messages import endpoints as messages_endpoints
from hub.messages.fastlane import IngestFastLane
from hub.openapi import ContractViolationProblem, Problem, problems
from hub.requests import BodySizeLimit, refuse_nul
from hub.responses import FastJSONResponse, ProblemResponse
from hub.routes import endpoints as routes_endpoints
from hub.settings import Settings, get_settings
from hub.state import build_state
from hub.store.database import transaction
from hub.usage import endpoints as usage_endpoints

logger = logging.getLogger("hub")

DESCRIPTION = """\
Crossdock moves inventory decisions between ERP, WMS, TMS, supplier portals and ecommerce
as governed, versioned canonical messages (CloudEvents 1.0 around contract data).

Authenticate with `Authorization: Bearer <key>`. Every error is an RFC 9457
`application/problem+json` document with a stable `type`.
"""


def create_app(
    settings: Settings | None = None, *, on_started: Callable[[], None] | None = None
) -> FastAPI:
    """The hub application. ``on_started`` runs once the process state is built."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings)
        with transaction(state.sessions) as session:
            if settings.bootstrap_admin_key:
                ClientService().ensure_bootstrap_admin(session, settings.bootstrap_admin_key)
            record_policy_load(session, settings.governance_path)
        mapping_loads = MappingLoadAudit(state.mappings, state.sessions)
        mapping_loads.check()
        state.committer.start()
        background = (
            [
                asyncio.create_task(state.worker.run()),
                asyncio.create_task(state.jobs.run()),
                asyncio.create_task(state.poller.run()),
            ]
            if settings.worker_enabled
            else []
        )
        # Contract usage is counted in memory and written every few seconds (hub/usage).
        usage_flusher = asyncio.create_task(state.usage.run(state.committer))
        mapping_watch = asyncio.create_task(mapping_loads.run())
        app.state.hub = state
        if on_started is not None:
            on_started()
        logger.info(
            "hub started",
            extra={
                "database": state.engine.dialect.name,
                "contracts": len(state.registry.all_versions()),
            },
        )
        try:
            yield
        finally:
            if background:
                state.jobs.stop()
                await state.worker.stop()
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            usage_flusher.cancel()
            mapping_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await usage_flusher
            with contextlib.suppress(asyncio.CancelledError):
                await mapping_watch
            await state.usage.flush(state.committer)  # what was counted since the last flush
            await state.inbound.aclose()
            state.committer.stop()
            state.engine.dispose()

    app = FastAPI(
        title="Crossdock",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=FastJSONResponse,
        # FastAPI's built-in OpenTelemetry asks the global providers on every request; the
        # hub propagates trace context in the envelope itself and exports Prometheus metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        dependencies=[Depends(refuse_nul)],
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    # Outermost, so that the hottest operation skips the whole stack (see its docstring).
    app.add_middleware(IngestFastLane, state=lambda: getattr(app.state, "hub", None))
    _install_problem_handlers(app)
    app.include_router(health_endpoints.router)
    app.include_router(messages_endpoints.router)
    app.include_router(contracts_endpoints.router)
    app.include_router(usage_endpoints.router)
    app.include_router(deliveries_endpoints.router)
    app.include_router(connections_endpoints.router)
    app.include_router(inbound_endpoints.router)
    app.include_router(routes_endpoints.router)
    app.include_router(deadletters_endpoints.router)
    app.include_router(audit_endpoints.router)
    app.include_router(clients_endpoints.router)
    _register_problem_schemas(app)
    return app


def _problem(request: Request, error: ProblemError) -> ProblemResponse:
    return ProblemResponse(
        error.to_problem(instance=request.url.path), status_code=error.status, headers=error.headers
    )


def _install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, ProblemError)
        return _problem(request, exc)

    async def on_validation(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        violations = [
            {
                "pointer": "/" + "/".join(str(p) for p in error["loc"]),
                "rule": f"parameter:{error['type']}",
                "message": error["msg"],
            }
            for error in exc.errors()
        ]
        return _problem(
            request,
            InvalidParameters(
                "; ".join(f"{v['pointer']}: {v['message']}" for v in violations),
                extensions={"violations": violations},
            ),
        )

    async def on_http(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        error: ProblemError
        if exc.status_code == 404:
            error = NotFound(f"nothing at {request.url.path}")
        elif exc.status_code == 400:
            error = MalformedJSON(f"the body cannot be read: {exc.detail}")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        else:
            error = MalformedRequest(str(exc.detail))
            error.status = exc.status_code
        return _problem(request, error)

    async def on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
        logger.exception("unexpected error", exc_info=exc)
        return _problem(request, ProblemError("an unexpected error occurred; it has been logged"))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def _register_problem_schemas(app: FastAPI) -> None:
    """Put the problem models into components/schemas, where ``problems()`` refers to them."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        # FastAPI documents its own 422 body; ours is a problem document everywhere.
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = problems(422)[422]
                if "requestBody" in operation and "400" not in responses:
                    responses["400"] = problems(400)[400]
        for fastapi_model in ("HTTPValidationError", "ValidationError"):
            components.pop(fastapi_model, None)
        for model in (Problem, ContractViolationProblem):
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in model_schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = model_schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
