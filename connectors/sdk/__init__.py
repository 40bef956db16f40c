"""The Crossdock connector SDK: everything a connector author imports, and nothing else.

A connector is a class that declares a :class:`Manifest` and a pydantic config model, and
implements :meth:`Connector.send` for outbound traffic. The hub creates one instance per
*connection* (a configured connector for one real system), calls ``send`` for each
delivery, and decides what an outcome means (success, retry later, dead letter) from the
:class:`SendOutcome` the connector returns; connectors never retry by themselves.

Example::

    class MyConfig(ConnectorConfig):
        url: HttpUrl
        token: SecretStr            # SecretStr fields are secrets: stored encrypted, never returned

    class MyConnector(Connector[MyConfig]):
        manifest = Manifest(slug="my-wms", name="My WMS", version="1.0.0", kinds=("wms",),
                            sends=("transfer.*",))
        config_model = MyConfig

        async def send(self, message: OutboundMessage) -> SendOutcome:
            response = await self.http.post(str(self.config.url), json=message.event)
            return SendOutcome.from_response(response)
"""

from connectors.sdk.connector import Connector, ConnectorConfig, Manifest, SystemKind
from connectors.sdk.inbound import (
    CANONICAL,
    CheckResult,
    InboundRequest,
    NativeRecord,
    NotSupported,
    PollResult,
    RecordFate,
    VerificationFailed,
    Verified,
    verify_standard_webhook,
)
from connectors.sdk.network import AddressGuard, OutboundAddressRefused
from connectors.sdk.outbound import OutboundMessage, OutcomeKind, SendOutcome, parse_retry_after
from connectors.sdk.state import ConnectorState, MemoryState, SequenceExhausted

__all__ = [
    "CANONICAL",
    "AddressGuard",
    "CheckResult",
    "Connector",
    "ConnectorConfig",
    "ConnectorState",
    "InboundRequest",
    "Manifest",
    "MemoryState",
    "NativeRecord",
    "NotSupported",
    "OutboundAddressRefused",
    "OutboundMessage",
    "OutcomeKind",
    "PollResult",
    "RecordFate",
    "SendOutcome",
    "SequenceExhausted",
    "SystemKind",
    "VerificationFailed",
    "Verified",
    "parse_retry_after",
    "verify_standard_webhook",
]
