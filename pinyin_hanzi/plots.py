"""Training curves from a run's metrics.jsonl: loss (train and dev) and dev accuracy, as PNG."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no metrics (is {run_dir} a training run directory?)")
    rows = []
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                if number == len(lines) and not text.endswith("\n"):
                    break  # cut short by a kill while it was written: the run so far is there
                raise ValueError(f"{path}:{number}: not JSON") from None
    return rows


def plot_run(run_dir: Path) -> list[Path]:
    """Writes RUN_DIR/loss.png and RUN_DIR/accuracy.png; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)

    def series(key):
        points = [(r["step"], r[key]) for r in rows if key in r]
        return [p[0] for p in points], [p[1] for p in points]

    # Adapting with --general scores two dev sets: eval_dev_* and eval_general_*.
    dev_sets = {p: label for p, label in (("", "dev"), ("dev_", "dev"), ("general_", "general"))
                if any(f"eval_{p}loss" in r for r in rows)}
    out = []
    for name, keys, ylabel in (
        ("loss.png", (("loss", "train"), *((f"eval_{p}loss", label)
                                           for p, label in dev_sets.items())), "cross-entropy"),
        ("accuracy.png", tuple(pair for p, label in dev_sets.items() for pair in (
            (f"eval_{p}char_acc", f"{label} character"),
            (f"eval_{p}clause_acc", f"{label} clause (argmax)"))), "accuracy"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        for key, label in keys:
            x, y = series(key)
            if x:
                ax.plot(x, y, label=label, marker="o" if key.startswith("eval") else None)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{Path(run_dir).name}: {ylabel}")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = Path(run_dir) / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        out.append(path)
    return out
