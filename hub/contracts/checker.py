"""The "Check" step: an event against the envelope, its contract version and the rules.

One :class:`MessageChecker` serves the API, the CLI (``contracts validate``) and, later,
inbound flows, so a message is judged the same way wherever it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson

from hub.contracts.lifecycle import SUNSET_RULE
from hub.contracts.registry import ContractRegistry, ContractVersion, parse_dataschema
from hub.timestamps import parse_rfc3339, utcnow


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing wrong with a message, located by an RFC 6901 pointer into the event."""

    pointer: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "rule": self.rule, "message": self.message}


@dataclass(slots=True)  # not frozen: made once per message, and frozen inits cost 2.5x
class CheckResult:
    contract: ContractVersion | None
    violations: tuple[Violation, ...]
    time: datetime | None = None
    """The event's ``time``, parsed (in UTC), when it has a valid one."""

    @property
    def ok(self) -> bool:
        return not self.violations


def load_envelope_schema() -> dict[str, Any]:
    text = resources.files("hub.messages").joinpath("envelope.schema.json").read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


def _pointer(prefix: str, path: list[str | int]) -> str:
    tokens = (str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return prefix + "".join("/" + t for t in tokens)


_MESSAGE_LIMIT = 300


def _shorten(message: str) -> str:
    # Validator messages quote the offending instance, which may be a whole document.
    if len(message) <= _MESSAGE_LIMIT:
        return message
    return message[: _MESSAGE_LIMIT // 2] + " … " + message[-_MESSAGE_LIMIT // 3 :]


def _schema_violations(validator: Any, instance: Any, prefix: str) -> list[Violation]:
    return [
        Violation(
            _pointer(prefix, error.instance_path),
            "schema:" + str(error.schema_path[-1]) if error.schema_path else "schema",
            _shorten(error.message),
        )
        for error in validator.iter_errors(instance)
    ]


MAX_LINES_RULE = "limits:max-lines"
MAX_BYTES_RULE = "limits:max-message-bytes"


def size_violation(contract: ContractVersion, size: int) -> Violation | None:
    """A violation when a message of ``contract`` serialises to more than its limit."""
    if contract.max_message_bytes is None or size <= contract.max_message_bytes:
        return None
    return Violation(
        "",
        MAX_BYTES_RULE,
        f"the message is {size} bytes serialised; {contract.family} messages may be at most "
        f"{contract.max_message_bytes} (governance/)",
    )


def _is_event_of(contract: ContractVersion, event_type: str) -> bool:
    family, _, name = event_type.partition(".")
    return family == contract.family and name in contract.events


class MessageChecker:
    """Validates CloudEvents against the registry. Cheap to call: validators are compiled once."""

    def __init__(self, registry: ContractRegistry) -> None:
        self.registry = registry
        self.envelope_schema = load_envelope_schema()
        self._envelope = jsonschema_rs.validator_for(self.envelope_schema, validate_formats=False)
        self._resolved: dict[tuple[str, str], ContractVersion] = {}

    def check(self, event: Any) -> CheckResult:
        if not isinstance(event, dict):
            return CheckResult(None, (Violation("", "envelope", "a message is a JSON object"),))
        envelope_ok = self._envelope.is_valid(event)
        violations = [] if envelope_ok else _schema_violations(self._envelope, event, "")
        time = None
        if envelope_ok and "time" in event:
            try:
                time = parse_rfc3339(event["time"])
            except ValueError as exc:
                violations.append(Violation("/time", "time-is-a-date", str(exc)))
        dataschema, event_type = event.get("dataschema"), event.get("type")
        resolved = (
            (dataschema, event_type)
            if isinstance(dataschema, str) and isinstance(event_type, str)
            else None
        )
        contract = self._resolved.get(resolved) if resolved is not None else None
        if contract is None:
            before = len(violations)
            contract = self._resolve_contract(event, violations)
            if (
                resolved is not None
                and contract is not None
                and len(violations) == before
                and contract.deprecation is None
                and _is_event_of(contract, resolved[1])
            ):
                # Judged once per contract version and event type; a deprecated version is
                # judged every time, since its sunset may pass while the hub runs. Only the
                # contracts' own event types are kept, so the cache is as small as the
                # registry whatever types clients send.
                self._resolved[resolved] = contract
        data = event.get("data")
        if contract is not None and isinstance(data, dict):
            if contract.validator.is_valid(data):
                if not violations:
                    violations.extend(
                        Violation(pointer, rule, message)
                        for pointer, rule, message in contract.rules.findings(event["type"], data)
                    )
                lines = data.get("lines")
                if (
                    contract.max_lines is not None
                    and isinstance(lines, list)
                    and len(lines) > contract.max_lines
                ):
                    violations.append(
                        Violation(
                            "/data/lines",
                            MAX_LINES_RULE,
                            f"{len(lines)} lines; {contract.family} messages may hold at most "
                            f"{contract.max_lines} (governance/)",
                        )
                    )
            else:
                violations.extend(_schema_violations(contract.validator, data, "/data"))
        return CheckResult(contract, tuple(violations), time)

    def _resolve_contract(
        self, event: dict[str, Any], violations: list[Violation]
    ) -> ContractVersion | None:
        dataschema = event.get("dataschema")
        if not isinstance(dataschema, str):
            return None
        contract = self.registry.by_dataschema(dataschema)
        if contract is None:
            parsed = parse_dataschema(dataschema)
            known = ", ".join(
                v.dataschema for v in self.registry.all_versions() if v.accepts_messages
            )
            reason = (
                "is not of the form urn:crossdock:contract:<family>:<major>.<minor>"
                if parsed is None
                else "names no contract version this hub knows"
            )
            violations.append(
                Violation(
                    "/dataschema", "contract-exists", f"{dataschema!r} {reason}; known: {known}"
                )
            )
            return None
        if not contract.accepts_messages:
            violations.append(
                Violation(
                    "/dataschema",
                    "contract-active",
                    f"{dataschema} is {contract.lifecycle.value}; it does not accept messages",
                )
            )
            return None
        deprecation = contract.deprecation
        if deprecation is not None and deprecation.sunset_passed(utcnow()):
            successor = (
                f"; send {contract.family} {deprecation.successor}" if deprecation.successor else ""
            )
            violations.append(
                Violation(
                    "/dataschema",
                    SUNSET_RULE,
                    f"{dataschema} was deprecated and reached its sunset on "
                    f"{deprecation.sunset}; it no longer accepts messages{successor}",
                )
            )
            return None
        event_type = event.get("type")
        if isinstance(event_type, str) and "." in event_type:
            family, _, name = event_type.partition(".")
            if family != contract.family:
                violations.append(
                    Violation(
                        "/dataschema",
                        "type-matches-contract",
                        f"type family {family!r} does not match "
                        f"dataschema family {contract.family!r}",
                    )
                )
            elif name not in contract.events:
                violations.append(
                    Violation(
                        "/type",
                        "event-in-family",
                        f"{event_type!r} is not an event of {contract.family} {contract.version}; "
                        f"events: {', '.join(contract.events)}",
                    )
                )
        return contract
