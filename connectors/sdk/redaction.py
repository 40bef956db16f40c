"""Keeping secrets out of what the hub stores, shows and logs about a connector's work.

What a connector reports (an outcome's error and body excerpt, a check's detail, an
exception's message) ends up in dead letters, API answers and log records. A peer that
echoes the token it was sent, or an exception that quotes a URL with a password, would put
a secret there. The SDK scrubs those texts of two kinds of value before the hub sees them:

- the connection's secrets (config fields typed ``SecretStr``), and
- credentials the connector sent in request headers (``Authorization``, ``Cookie``,
  ``X-…-Token``, ``X-Api-Key``, …), which :meth:`SendOutcome.from_response` knows from
  the request it answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "[redacted]"

# A secret shorter than this is not scrubbed: replacing "1" everywhere would only garble
# the text, and such a value protects nothing anyway.
MIN_SECRET_LENGTH = 6

_CREDENTIAL_HEADER = re.compile(
    r"^(authorization|proxy-authorization|cookie|x-[a-z0-9-]*(token|key|secret|password|auth)[a-z0-9-]*)$"
)
_AUTH_SCHEME = re.compile(r"^(bearer|basic|token|digest)\s+", re.IGNORECASE)


def is_credential_header(name: str) -> bool:
    """Whether a request header carries a credential (by its name)."""
    return _CREDENTIAL_HEADER.match(name.lower()) is not None


def credentials_in(headers: Mapping[str, str]) -> list[str]:
    """The credential values of request headers: each whole value and, after an
    ``Authorization`` scheme word (``Bearer …``), the bare token too."""
    found: list[str] = []
    for name, value in headers.items():
        if not is_credential_header(name):
            continue
        found.append(value)
        bare = _AUTH_SCHEME.sub("", value)
        if bare != value:
            found.append(bare)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``[redacted]``."""
    # Longest first, so that a secret containing another is replaced whole.
    values = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
    for secret in sorted(values, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_optional(text: str | None, secrets: Iterable[str]) -> str | None:
    return None if text is None else scrub(text, secrets)


def scrub_exception(exc: BaseException, secrets: Iterable[str]) -> None:
    """Scrub an exception's message in place, keeping its type and traceback.

    ``str(exc)`` of nearly every exception is built from its string ``args``; the chained
    cause and context are scrubbed too, since tracebacks print them.
    """
    values = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]
    if not values:
        return
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(
            scrub(arg, values) if isinstance(arg, str) else arg for arg in current.args
        )
        current = current.__cause__ or current.__context__
