"""The one error tree of the hub, rendered as RFC 9457 problem documents.

Every error a client can see is a :class:`ProblemError`. Its ``type`` is a stable URI
(``urn:crossdock:problem:<slug>``) documented in ``docs/problems.md``; clients branch on it,
never on the human-readable ``title`` or ``detail``.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:crossdock:problem:"


class ProblemError(Exception):
    """Base of every error the API reports. Subclasses fix status, slug and title."""

    status: int = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        extensions: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions or {}
        self.headers = headers or {}

    @property
    def type_uri(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class MalformedRequest(ProblemError):
    status = 400
    slug = "malformed-request"
    title = "Malformed request"


class MalformedJSON(ProblemError):
    status = 400
    slug = "malformed-json"
    title = "Request body is not valid JSON"


class Unauthorized(ProblemError):
    status = 401
    slug = "unauthorized"
    title = "Missing or invalid API key"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="crossdock"'})


class Forbidden(ProblemError):
    status = 403
    slug = "forbidden"
    title = "The API key lacks a required scope"


class OutsideBinding(ProblemError):
    """A client bound to one connection tried to act as another, or outside any connection."""

    status = 403
    slug = "outside-binding"
    title = "The client is bound to a connection and may not act outside it"


class NotFound(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(ProblemError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class IdempotencyConflict(ProblemError):
    status = 409
    slug = "idempotency-conflict"
    title = "The idempotency key was already used for different content"


class AlreadyExists(ProblemError):
    status = 409
    slug = "already-exists"
    title = "A resource with that name already exists"


class InUse(ProblemError):
    status = 409
    slug = "in-use"
    title = "The resource is still in use"


class PayloadTooLarge(ProblemError):
    status = 413
    slug = "payload-too-large"
    title = "Request body exceeds the size limit"


class UnsupportedMediaType(ProblemError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported content type"


class ContractViolation(ProblemError):
    """The message breaks its contract; ``violations`` lists every problem with its pointer."""

    status = 422
    slug = "contract-violation"
    title = "The message violates its contract"


class ContractVersionSunset(ContractViolation):
    """The message names a deprecated contract version past its sunset date; ``violations``
    says which version to send instead."""

    slug = "contract-version-sunset"
    title = "The contract version has reached its sunset and is no longer accepted"


class InvalidParameters(ProblemError):
    status = 422
    slug = "invalid-parameters"
    title = "Invalid request parameters"


class RateLimited(ProblemError):
    """The client sent more requests than its rate limit; ``Retry-After`` says when to resume."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests for this client's rate limit"


class ServiceUnavailable(ProblemError):
    status = 503
    slug = "service-unavailable"
    title = "The hub cannot serve this request right now"
