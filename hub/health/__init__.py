"""Liveness and readiness of the process and its database."""
