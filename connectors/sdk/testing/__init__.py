"""Testing kit for connector authors: the conformance suite, its harness and a fake peer.

In your package's tests::

    from connectors.sdk.testing import ConnectorConformance
    from mypackage.testing import MyHarness

    class TestMyConnector(ConnectorConformance):
        harness = MyHarness

``crossdock connectors test SLUG`` runs the same suite for an installed connector whose
class names its harness (``harness = "mypackage.testing:MyHarness"``). Needs pytest
(``pip install 'crossdock[testing]'``).
"""

from connectors.sdk.testing.harness import SAMPLE_EVENT, ConformanceHarness
from connectors.sdk.testing.peer import FakeHTTPPeer, PeerRequest, PeerResponse, closed_port_url
from connectors.sdk.testing.suite import ConnectorConformance, run_with

__all__ = [
    "SAMPLE_EVENT",
    "ConformanceHarness",
    "ConnectorConformance",
    "FakeHTTPPeer",
    "PeerRequest",
    "PeerResponse",
    "closed_port_url",
    "run_with",
]
