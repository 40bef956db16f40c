"""The outbound address policy: which network addresses connections may send to.

A connection's URL is chosen by whoever configures it; without a policy, a webhook pointed
at ``169.254.169.254`` or at the hub's own database turns the hub into a proxy into its
private network (server-side request forgery). The policy refuses whole categories of
addresses (loopback, private, link-local, …) unless a network is listed as allowed, and
always refuses the networks listed as refused.

This module holds the policy's data, its schema and the decision for one address. It is
applied twice: every connection a connector's HTTP client makes is judged by the resolved
address it connects to (``connectors.sdk.network``, redirects included), and a connection's
URLs are judged when it is created or changed, so a refused one is a 422 at once.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


class AddressCategory(StrEnum):
    """Address ranges that are not on the public internet (IANA special-purpose registries)."""

    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link_local"
    SHARED = "shared"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"
    DOCUMENTATION = "documentation"


# Spelled out rather than taken from ipaddress's is_private & co., whose meaning has changed
# between Python versions: the policy must mean the same thing wherever the hub runs.
CATEGORY_NETWORKS: dict[AddressCategory, tuple[Network, ...]] = {
    AddressCategory.LOOPBACK: (ip_network("127.0.0.0/8"), ip_network("::1/128")),
    AddressCategory.PRIVATE: (
        ip_network("10.0.0.0/8"),
        ip_network("172.16.0.0/12"),
        ip_network("192.168.0.0/16"),
        ip_network("fc00::/7"),
    ),
    AddressCategory.LINK_LOCAL: (ip_network("169.254.0.0/16"), ip_network("fe80::/10")),
    AddressCategory.SHARED: (ip_network("100.64.0.0/10"),),
    AddressCategory.UNSPECIFIED: (ip_network("0.0.0.0/8"), ip_network("::/128")),
    AddressCategory.MULTICAST: (ip_network("224.0.0.0/4"), ip_network("ff00::/8")),
    AddressCategory.RESERVED: (ip_network("240.0.0.0/4"),),
    AddressCategory.DOCUMENTATION: (
        ip_network("192.0.2.0/24"),
        ip_network("198.51.100.0/24"),
        ip_network("203.0.113.0/24"),
        ip_network("2001:db8::/32"),
    ),
}


@dataclass(frozen=True)
class AddressDecision:
    """Whether an address may be sent to, and which entry of the policy decided."""

    allowed: bool
    reason: str


def _contains(network: Network, address: Address) -> bool:
    return network.version == address.version and address in network


def _within(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _overlaps(a: Network, b: Network) -> bool:
    return a.version == b.version and a.overlaps(b)


class OutboundAddressPolicy(BaseModel):
    """Which addresses connections may send to. Order of decision: a refused network
    refuses; else an allowed network allows; else a refused category refuses; else allowed."""

    model_config = ConfigDict(extra="forbid")

    refused_categories: list[AddressCategory] = Field(
        description="Categories refused unless an address is in `allowed_networks`."
    )
    allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks allowed although a refused category holds them, e.g. a partner "
        "VPN range (CIDR, host bits zero).",
    )
    refused_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks always refused, even when listed as allowed (cloud metadata "
        "endpoints, the hub's own database).",
    )

    def decide(self, address: str | Address) -> AddressDecision:
        """Whether a connection may send to ``address`` (an IP address, not a host name)."""
        parsed = ip_address(address) if isinstance(address, str) else address
        if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
            # ::ffff:127.0.0.1 reaches 127.0.0.1: judge the address it reaches.
            parsed = parsed.ipv4_mapped
        for network in self.refused_networks:
            if _contains(network, parsed):
                return AddressDecision(False, f"{parsed} is in refused network {network}")
        for network in self.allowed_networks:
            if _contains(network, parsed):
                return AddressDecision(True, f"{parsed} is in allowed network {network}")
        for category in self.refused_categories:
            for network in CATEGORY_NETWORKS[category]:
                if _contains(network, parsed):
                    return AddressDecision(
                        False, f"{parsed} is a {category.value} address ({network})"
                    )
        return AddressDecision(True, f"{parsed} is in no refused category")

    def problems(self) -> list[tuple[str, str]]:
        """Entries that contradict each other, as ``(pointer, message)``."""
        found: list[tuple[str, str]] = []
        if len(set(self.refused_categories)) != len(self.refused_categories):
            found.append(("/refused_categories", "a category is listed twice"))
        for index, allowed in enumerate(self.allowed_networks):
            for refused in self.refused_networks:
                if _within(allowed, refused):
                    found.append(
                        (
                            f"/allowed_networks/{index}",
                            f"{allowed} lies inside refused network {refused}, which wins: "
                            "the entry has no effect",
                        )
                    )
        return found

    def warnings(self) -> list[tuple[str, str]]:
        """Entries that are allowed but do nothing."""
        refused = [n for c in self.refused_categories for n in CATEGORY_NETWORKS[c]]
        return [
            (
                f"/allowed_networks/{index}",
                f"{allowed} overlaps no refused category: it is allowed anyway",
            )
            for index, allowed in enumerate(self.allowed_networks)
            if not any(_overlaps(allowed, network) for network in refused)
        ]

    def allowing(self, networks: Iterable[Network]) -> OutboundAddressPolicy:
        """This policy with ``networks`` also allowed (the ``CROSSDOCK_OUTBOUND_ALLOWED_NETWORKS``
        setting: a local test endpoint, without editing the reviewed policy file)."""
        extra = [n for n in networks if n not in self.allowed_networks]
        if not extra:
            return self
        return self.model_copy(update={"allowed_networks": [*self.allowed_networks, *extra]})

    def refusal(self, address: str) -> str | None:
        """``None`` if ``address`` may be connected to, else why not: the SDK's
        ``AddressGuard``, which the hub gives every connector it runs."""
        decision = self.decide(address)
        return None if decision.allowed else decision.reason

    def refusal_of_url(self, url: str) -> str | None:
        """Why ``url`` may not be sent to, judged by every address its host resolves to now.

        A host that does not resolve is not refused here (it may resolve later); the check
        at connect time judges it then.
        """
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            return None
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, ValueError):
            return None
        for *_, sockaddr in infos:
            address = str(sockaddr[0])
            reason = self.refusal(address)
            if reason is not None:
                return reason if address == host else f"{host} resolves to {address}: {reason}"
        return None
