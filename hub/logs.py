"""Structured JSON logs: one object per line, with whatever ``extra`` the caller gave."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

# uvicorn adds color_message: the same text with terminal colour codes.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


# The last line of defence: whatever reaches a log line, these never do. API keys (ours and
# any bearer token), and passwords in URLs (a database URL in a connection error, say).
_SECRETS = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1[redacted]"),
    (re.compile(r"\bcdk_[A-Za-z0-9_-]{8,}"), "cdk_[redacted]"),
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/\s@\"]+:)[^@\s/\"]+@"), r"\1[redacted]@"),
)


def redact(line: str) -> str:
    """``line`` with API keys, bearer tokens and URL passwords replaced by ``[redacted]``."""
    for pattern, replacement in _SECRETS:
        line = pattern.sub(replacement, line)
    return line


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(orjson.dumps(entry, default=str).decode())


def configure(level: str = "info") -> None:
    formatter = JSONFormatter()
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per outbound request is the delivery attempt log's job, not httpx's.
    logging.getLogger("httpx").setLevel(logging.WARNING)
