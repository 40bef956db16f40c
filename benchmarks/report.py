"""Rendering results: the console summary and the results table in benchmarks/README.md.

Every benchmark's payload has a ``table``: rows of ``case``, ``measured``, ``baseline``,
``ratio``, ``p99``, ``target`` and ``met`` (strings, already formatted), so this module
knows nothing about any one benchmark.
"""

from __future__ import annotations

from typing import Any

import orjson

from benchmarks.common import BENCH_DIR, RESULTS_DIR

README = BENCH_DIR / "README.md"
BEGIN = "<!-- results:begin (written by python -m benchmarks; edit outside these markers) -->"
END = "<!-- results:end -->"
ORDER = (
    "ingest-single",
    "ingest-batch",
    "validation",
    "mapping",
    "inbound",
    "delivery-throughput",
    "delivery-latency",
    "two-workers",
    "bulk-replay",
    "vs-procrastinate",
    "x12",
)
COLUMNS = ("case", "measured", "baseline (same run)", "ratio", "p99", "target", "met")


def _row_cells(row: dict[str, Any]) -> list[str]:
    return [
        str(row.get(key, ""))
        for key in ("case", "measured", "baseline", "ratio", "p99", "target", "met")
    ]


def console(payload: dict[str, Any]) -> str:
    rows = [list(COLUMNS), *(_row_cells(r) for r in payload["table"])]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [f"== {payload['benchmark']} ({payload['date']}) =="]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if payload.get("verification"):
        lines.append(payload["verification"].replace("**", ""))
    lines.extend(f"note: {note}" for note in payload.get("notes", []))
    return "\n".join(lines)


def _machine(payload: dict[str, Any]) -> str:
    machine = payload["machine"]
    background = payload.get("background_cpu_percent_before")
    busy = f", background CPU {background}% before start" if background is not None else ""
    return (
        f"{payload['date']}, {machine['cores']} cores ({machine['cpu']}), "
        f"Python {machine['python']}, hub {machine['hub_commit']}{busy}"
    )


def results_markdown() -> str:
    parts: list[str] = []
    for name in ORDER:
        path = RESULTS_DIR / f"{name}.json"
        if not path.exists():
            parts.append(f"### {name}\n\nNot run yet.\n")
            continue
        payload = orjson.loads(path.read_bytes())
        lines = [
            f"### {name}",
            "",
            f"{_machine(payload)}. {payload.get('headline', '')}".rstrip(),
            "",
            "| " + " | ".join(COLUMNS) + " |",
            "| " + " | ".join("---" for _ in COLUMNS) + " |",
        ]
        lines.extend("| " + " | ".join(_row_cells(row)) + " |" for row in payload["table"])
        if payload.get("verification"):
            lines.extend(["", payload["verification"]])
        elif not payload.get("verified", True):
            lines.extend(["", "**Verification FAILED**: see the JSON file."])
        lines.extend(f"\nNote: {note}" for note in payload.get("notes", []))
        raw = f"Raw: [`results/{name}.json`](results/{name}.json)"
        if "profile" in payload and (RESULTS_DIR / f"{name}-profile.txt").exists():
            raw += f"; py-spy profile: [`results/{name}-profile.txt`](results/{name}-profile.txt)"
        lines.append(f"\n{raw}\n")
        parts.append("\n".join(lines))
    return "\n".join(parts)


def update_readme() -> None:
    """Replace what is between the markers in README.md with the current results."""
    if not README.exists():
        return
    text = README.read_text()
    if BEGIN not in text or END not in text:
        return
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{BEGIN}\n\n{results_markdown()}\n{END}{tail}")
