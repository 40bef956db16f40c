"""The baseline: bare FastAPI endpoints that read the body and answer, nothing else.

Served by ``python -m uvicorn benchmarks.bare_app:app`` with the same uvicorn settings as
``crossdock serve`` (uvloop, httptools, one process, no access log), it tells how fast this
machine can move the same requests through the same stack when the handler does no work.
The answers look like the hub's (a small JSON document with a ``key``) so that the load
generator does the same work for both.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

app = FastAPI(title="bare baseline", openapi_url=None, docs_url=None, redoc_url=None)

_ACCEPTED = (
    b'{"key":"msg_bare0000000000000000000","accepted_at":"2026-11-24T00:00:00.000000Z",'
    b'"duplicate":false}'
)
_BATCH = b'{"accepted":0,"duplicates":0,"rejected":0,"results":[]}'


@app.post("/v1/messages")
async def post_message(request: Request) -> Response:
    await request.body()
    return Response(_ACCEPTED, status_code=202, media_type="application/json")


@app.post("/v1/messages/batch")
async def post_batch(request: Request) -> Response:
    await request.body()
    return Response(_BATCH, status_code=200, media_type="application/json")


@app.get("/health")
async def health() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
