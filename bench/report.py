"""Shared by the bench scripts: the machine line, and replacing one section of BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"{time.strftime('%Y-%m-%d')}")


def command() -> str:
    return "python " + " ".join([str(Path(sys.argv[0]).relative_to(Path.cwd()))
                                 if Path(sys.argv[0]).is_absolute() else sys.argv[0],
                                 *sys.argv[1:]])


def write_section(name: str, body: str):
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->`, or append it."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else \
        "# Benchmarks\n\nEvery table below is written by a script in bench/; rerun it to update.\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else \
        text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text, encoding="utf-8")


def git_revision() -> str:
    """HEAD's short hash, marked when the code (not the docs a bench writes) differs from it."""
    try:
        def git(*args):
            return subprocess.run(["git", *args], capture_output=True, text=True,
                                  check=True).stdout.strip()

        changed = git("status", "--porcelain", "--untracked-files=no", "--", "pinyin_hanzi",
                      "bench")
        return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if changed
                                                      else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
