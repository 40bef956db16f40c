"""The conformance suite: one test class every connector's tests inherit.

Each test exercises the connector as the hub will, against the harness's fake peer.
Tests for what the manifest does not promise (sending, receiving, polling) are skipped
with the reason, never passed vacuously.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

import jsonschema
import orjson
import pytest
from pydantic import ValidationError

from connectors.sdk.connector import Connector, ConnectorConfig, Manifest
from connectors.sdk.inbound import InboundRequest, NotSupported, VerificationFailed
from connectors.sdk.outbound import OutboundMessage, OutcomeKind, SendOutcome
from connectors.sdk.state import MemoryState
from connectors.sdk.testing.harness import ConformanceHarness

T = TypeVar("T")


def run_with(
    connector_class: type[Connector[Any]],
    values: dict[str, Any],
    use: Callable[[Connector[Any]], Awaitable[T]],
) -> T:
    """Build a connector from ``values``, run ``use`` on it in a fresh event loop, close it."""

    async def main() -> T:
        connector = connector_class(connector_class.config_model.model_validate(values))
        try:
            return await use(connector)
        finally:
            await connector.aclose()

    return asyncio.run(main())


class ConnectorConformance:
    """Inherit it and set ``harness``; pytest collects every test below for your connector."""

    harness: ClassVar[type[ConformanceHarness]]

    @pytest.fixture
    def kit(self) -> Iterator[ConformanceHarness]:
        kit = self.harness()
        kit.start()
        try:
            yield kit
        finally:
            kit.stop()

    @property
    def connector(self) -> type[Connector[Any]]:
        return self.harness.connector

    def _secrets(self, kit: ConformanceHarness) -> list[str]:
        config = self.connector.config_model.model_validate(kit.config())
        return [value for value in config.secret_dict().values() if value]

    # -- manifest and config --------------------------------------------------------------

    def test_manifest_is_valid(self) -> None:
        manifest = self.connector.manifest
        assert isinstance(manifest, Manifest)
        assert Manifest.model_validate(manifest.model_dump()) == manifest

    def test_manifest_matches_the_methods(self) -> None:
        assert self.connector.problems() == []

    def test_config_schema_is_json_schema_with_secrets_write_only(
        self, kit: ConformanceHarness
    ) -> None:
        schema = self.connector.config_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
        assert issubclass(self.connector.config_model, ConnectorConfig)
        properties = schema.get("properties", {})
        for name in self.connector.config_model.secret_fields():
            rendered = orjson.dumps(properties[name]).decode()
            assert '"writeOnly":true' in rendered, f"secret field {name} is not writeOnly"
        # The harness's config passes both the model and its published schema.
        self.connector.config_model.model_validate(kit.config())
        jsonschema.Draft202012Validator(schema).validate(kit.config())

    def test_the_hub_can_build_it_with_its_state(self, kit: ConformanceHarness) -> None:
        """The hub builds every connector the same way: config, timeout and durable state."""
        state = MemoryState()
        config = self.connector.config_model.model_validate(kit.config())
        connector = self.connector(config, timeout=3.0, state=state)
        assert connector.state is state
        assert connector.timeout == 3.0

    def test_config_refuses_unknown_fields(self, kit: ConformanceHarness) -> None:
        with pytest.raises(ValidationError):
            self.connector.config_model.model_validate({**kit.config(), "no_such_field": 1})

    # -- check ----------------------------------------------------------------------------

    def test_check_passes_against_the_fake(self, kit: ConformanceHarness) -> None:
        result = run_with(self.connector, kit.config(), lambda c: c.check())
        assert result.ok, result.detail

    def test_check_fails_cleanly_when_unreachable(self, kit: ConformanceHarness) -> None:
        result = run_with(self.connector, kit.unreachable_config(), lambda c: c.check())
        assert not result.ok
        assert result.detail

    # -- send -----------------------------------------------------------------------------

    def _needs_send(self) -> None:
        if not self.connector.manifest.sends:
            pytest.skip(f"{self.connector.manifest.slug} does not send")

    @staticmethod
    def _sender(message: OutboundMessage) -> Callable[[Connector[Any]], Awaitable[SendOutcome]]:
        def send(connector: Connector[Any]) -> Awaitable[SendOutcome]:
            return connector.send(message)

        return send

    def test_send_round_trip(self, kit: ConformanceHarness) -> None:
        self._needs_send()
        message = kit.sample_message()
        outcome = run_with(self.connector, kit.config(), lambda c: c.send(message))
        assert outcome.kind is OutcomeKind.DELIVERED, outcome
        kit.assert_delivered(message)

    def test_send_reports_http_failures_for_the_hub_to_classify(
        self, kit: ConformanceHarness
    ) -> None:
        self._needs_send()
        cases = [
            (503, {}, None),
            (429, {"Retry-After": "7"}, 7.0),
            (400, {}, None),
        ]
        for status, headers, retry_after in cases:
            try:
                kit.fail_next_send(status, headers)
            except NotSupported:
                pytest.skip("the connector does not speak HTTP")
            outcome = run_with(self.connector, kit.config(), self._sender(kit.sample_message()))
            assert outcome.kind is OutcomeKind.HTTP_ERROR, (status, outcome)
            assert outcome.status_code == status
            assert outcome.retry_after == retry_after

    def test_send_when_unreachable_is_a_connection_error(self, kit: ConformanceHarness) -> None:
        self._needs_send()
        message = kit.sample_message()
        outcome = run_with(self.connector, kit.unreachable_config(), lambda c: c.send(message))
        assert outcome.kind in (OutcomeKind.CONNECTION_ERROR, OutcomeKind.TIMEOUT), outcome

    # -- receive --------------------------------------------------------------------------

    def _needs_receive(self) -> None:
        if not self.connector.manifest.receives:
            pytest.skip(f"{self.connector.manifest.slug} does not receive")

    def _connector(self, kit: ConformanceHarness) -> Connector[Any]:
        return self.connector(self.connector.config_model.model_validate(kit.config()))

    def test_receive_round_trip(self, kit: ConformanceHarness) -> None:
        self._needs_receive()
        verified, records = asyncio.run(self._connector(kit).receive(kit.inbound_request()))
        assert records, "a signed sample request parsed into no records"
        if kit.expected_kinds:
            assert {r.kind for r in records} <= set(kit.expected_kinds)
        for record in records:
            orjson.dumps(record.data)  # JSON-like, as the mapping engine needs
        assert verified.delivery_id is None or verified.delivery_id.strip()

    def test_receive_refuses_a_tampered_body(self, kit: ConformanceHarness) -> None:
        self._needs_receive()
        request = kit.inbound_request()
        tampered = replace(request, body=request.body + b" ")
        with pytest.raises(VerificationFailed):
            self._connector(kit).verify(tampered)

    def test_receive_refuses_an_unsigned_request(self, kit: ConformanceHarness) -> None:
        self._needs_receive()
        request = kit.inbound_request()
        bare = InboundRequest(
            body=request.body,
            headers={"content-type": request.headers.get("content-type", "application/json")},
        )
        with pytest.raises(VerificationFailed):
            self._connector(kit).verify(bare)

    def test_receive_refuses_a_stale_request(self, kit: ConformanceHarness) -> None:
        self._needs_receive()
        stale = kit.stale_request()
        if stale is None:
            pytest.skip("the signature scheme has no timestamp")
        with pytest.raises(VerificationFailed):
            self._connector(kit).verify(stale)

    # -- poll -----------------------------------------------------------------------------

    def test_poll_pages_through_new_records_once(self, kit: ConformanceHarness) -> None:
        if not self.connector.manifest.polls:
            pytest.skip(f"{self.connector.manifest.slug} does not poll")
        kit.seed_records(3)

        async def drain(connector: Connector[Any]) -> tuple[int, str | None, int]:
            seen, cursor = 0, None
            for _ in range(50):
                page = await connector.poll(cursor)
                seen += len(page.records)
                cursor = page.next_cursor
                if not page.more:
                    break
            again = await connector.poll(cursor)
            return seen, cursor, len(again.records)

        seen, cursor, again = run_with(self.connector, kit.config(), drain)
        assert seen == 3
        assert cursor is not None
        assert again == 0, "polling from the last cursor returned old records"

    # -- secrets --------------------------------------------------------------------------

    def test_secrets_never_show(
        self, kit: ConformanceHarness, caplog: pytest.LogCaptureFixture
    ) -> None:
        secrets = self._secrets(kit)
        config = self.connector.config_model.model_validate(kit.config())
        connector = self.connector(config)
        shown = [
            repr(config),
            str(config),
            repr(connector),
            orjson.dumps(config.public_dict()).decode(),
            orjson.dumps(self.connector.config_schema()).decode(),
        ]
        caplog.set_level(logging.DEBUG)
        shown.append(repr(run_with(self.connector, kit.config(), lambda c: c.check())))
        shown.append(repr(run_with(self.connector, kit.unreachable_config(), lambda c: c.check())))
        if self.connector.manifest.sends:
            message = kit.sample_message()
            for values in (kit.config(), kit.unreachable_config()):
                shown.append(repr(run_with(self.connector, values, lambda c: c.send(message))))
        if self.connector.manifest.receives:
            request = kit.inbound_request()
            try:
                self._connector(kit).verify(replace(request, body=request.body + b" "))
            except VerificationFailed as exc:
                shown.append(str(exc))
        shown.extend(record.getMessage() for record in caplog.records)
        shown.extend(str(record.__dict__) for record in caplog.records)
        for secret in secrets:
            for text in shown:
                assert secret not in text, "a secret showed in output"
