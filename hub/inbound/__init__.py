"""Inbound flows: requests pushed to a connection, and records pulled by polling."""
