"""Time `prepare` over all built-in sources and record it in docs/BENCHMARKS.md.

    python bench/prepare_speed.py [--workers N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, machine, write_section  # noqa: E402

from pinyin_hanzi.data.prepare import PrepareConfig, prepare  # noqa: E402
from pinyin_hanzi.data.sources import BUILTIN_SOURCES  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        manifest = prepare(PrepareConfig(out_dir=Path(tmp) / "data", sources=BUILTIN_SOURCES,
                                         workers=args.workers))
        seconds = time.perf_counter() - started
    # The per-source counts feed docs/DATA.md.
    out = Path("runs/prepare_speed_manifest.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = sum(c.get("lines read", 0) for c in manifest["counts"].values())
    hanzi = sum(v for c in manifest["counts"].values() for k, v in c.items()
                if k.startswith("hanzi "))
    table = (
        "## Data preparation speed\n\n"
        f"Command: `{command()}`  \nMachine: {machine()}\n\n"
        "| sources | lines read | hanzi written | clauses (train/dev/test) | wall time | target |\n"
        "|---|---|---|---|---|---|\n"
        f"| {', '.join(BUILTIN_SOURCES)} | {lines:,} | {hanzi:,} | "
        f"{manifest['splits'].get('train', 0):,} / {manifest['splits'].get('dev', 0):,} / "
        f"{manifest['splits'].get('test', 0):,} | {seconds:.0f} s | <= 600 s |\n")
    print(table)
    write_section("prepare-speed", table)


if __name__ == "__main__":
    main()
