"""Governance policies kept as reviewed files in ``governance/``."""
