"""Canonical contracts: loading, validating and checking messages against them."""
