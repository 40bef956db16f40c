"""Connections: configured connectors, one per real system, with settings and secrets."""
