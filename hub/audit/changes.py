"""What changed between two JSON documents, as RFC 6902-style operations (for the audit log)."""

from __future__ import annotations

from typing import Any


def _token(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def json_changes(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """``add``, ``remove`` and ``replace`` operations that turn ``before`` into ``after``."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[dict[str, Any]] = []
        for key in before:
            child = f"{path}/{_token(key)}"
            if key not in after:
                changes.append({"op": "remove", "path": child, "old": before[key]})
            else:
                changes.extend(json_changes(before[key], after[key], child))
        changes.extend(
            {"op": "add", "path": f"{path}/{_token(key)}", "value": after[key]}
            for key in after
            if key not in before
        )
        return changes
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            change
            for index, (old, new) in enumerate(zip(before, after, strict=True))
            for change in json_changes(old, new, f"{path}/{index}")
        ]
    if before == after and type(before) is type(after):
        return []
    return [{"op": "replace", "path": path, "old": before, "value": after}]
