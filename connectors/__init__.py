"""Connectors: adapters between the hub and real systems.

``connectors.sdk`` is what connector authors import; built-in connectors live beside it and
import nothing from the project but ``connectors.sdk``.
"""
