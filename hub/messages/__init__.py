"""Canonical messages: the envelope, ingest (validate, dedupe, group commit) and the feed."""
