"""Crossdock: the integration hub service."""

__version__ = "0.1.0"
