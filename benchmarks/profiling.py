"""Sampling a server under load with py-spy (optional: ``pip install py-spy``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_record(pid: int, duration: float, out: Path) -> subprocess.Popen[bytes]:
    """``py-spy record`` of ``pid`` for ``duration`` seconds, collapsed stacks into ``out``."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(duration))),
            "--rate",
            "250",
            "--format",
            "raw",
            "--function",
            "--threads",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['function']} ({path})"


@dataclass
class Profile:
    samples: int
    by_thread: Counter[str]
    own: Counter[str]
    inclusive: Counter[str]

    def summary(self, top: int = 25) -> dict[str, Any]:
        def share(counter: Counter[str]) -> list[dict[str, Any]]:
            return [
                {"frame": name, "samples": n, "percent": round(100.0 * n / self.samples, 1)}
                for name, n in counter.most_common(top)
            ]

        return {
            "samples": self.samples,
            "threads": share(self.by_thread),
            "own_time": share(self.own),
            "inclusive_time": share(self.inclusive),
            "inclusive_time_hub": share(
                Counter({k: v for k, v in self.inclusive.items() if "(hub/" in k})
            ),
        }


def analyse(collapsed: Path) -> Profile:
    """Own (leaf) and inclusive sample counts per function from py-spy's raw output."""
    by_thread: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread, frames = frames[0], [_short(f) for f in frames[1:]]
        samples += count
        by_thread[re.sub(r"\s*\(0x[0-9a-fA-F]+\)", "", thread)] += count
        if frames:
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    return Profile(samples, by_thread, own, inclusive)


def render(profile: dict[str, Any], title: str) -> str:
    lines = [f"# {title}", f"samples: {profile['samples']}", ""]
    for key, heading in (
        ("threads", "by thread"),
        ("own_time", "own time (the function itself, leaf frames)"),
        ("inclusive_time_hub", "inclusive time of hub/ functions (with what they call)"),
        ("inclusive_time", "inclusive time (the function and what it calls)"),
    ):
        lines.append(f"## {heading}")
        lines.extend(
            f"{row['percent']:6.1f}%  {row['samples']:7d}  {row['frame']}" for row in profile[key]
        )
        lines.append("")
    return "\n".join(lines)
