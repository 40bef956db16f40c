"""The ``x12`` connector: X12 EDI with one trading partner (supplier portal, 3PL warehouse,
carrier) through the inbox and outbox folders of an SFTP or AS2 gateway.

The package is also a small, exact X12 library: :mod:`~connectors.x12.segments` (separators
from ISA, tokenizing), :mod:`~connectors.x12.envelope` (ISA/GS/ST structure, counts and
control numbers checked), :mod:`~connectors.x12.writer` (envelopes written with their
counts) and :mod:`~connectors.x12.sets` (one codec per transaction set).
"""

from connectors.x12.connector import X12Config, X12Connector

__all__ = ["X12Config", "X12Connector"]
