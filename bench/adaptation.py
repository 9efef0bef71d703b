"""Tables and the data-size plot of issue 5's experiments (dev/adaptation_experiments.sh).

    python bench/adaptation.py --out runs/exp5 [--plot docs/img/finetune_data_curve.png]

Prints one markdown table per domain (starting model, then each adaptation method: domain test
and pd98_test char / clause top-1, training minutes, saved size), the poems' whole-engine
table, and the pretraining curve (best dev accuracy on People's Daily vs the number of
fine-tuning examples).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DOMAINS = {"reviews_1k": "reviews_test", "reviews_10k": "reviews_test",
           "tang_5k": "tang_test", "tang_20k": "tang_test"}
METHODS = ("full", "freeze", "lora")
# Session 4's rows (dev/adaptation_experiments.sh): label, eval name, run directory.
MORE_ROWS = {
    "reviews_10k": [(f"+ full, interpolated {w}", f"wise_reviews_10k-full_{w}", None)
                    for w in ("0.85", "0.7", "0.5")] + [
                    ("+ full, --distill 1", "reviews_10k-full-distill",
                     "reviews_10k-full-distill"),
                    ("+ full, --distill 1, interpolated 0.85",
                     "wise_reviews_10k-full-distill_0.85", None),
                    ("+ full, --distill 3", "reviews_10k-full-distill3",
                     "reviews_10k-full-distill3"),
                    ("+ full, --distill 3, 1,200 steps", "reviews_10k-full-distill3-1200",
                     "reviews_10k-full-distill3-1200")],
    "tang_20k": [("+ full, 3,000 steps, replay 0.5", "tang_20k-full", "tang_20k-full"),
                 ("+ 4,000 more steps (7,000 in all)", "tang_20k-full2", "tang_20k-full2")] + [
                    (f"+ full 7,000, interpolated {w}", f"wise_tang_20k-full2_{w}", None)
                    for w in ("0.7", "0.5")],
}


def scores(out: Path, name: str, test: str) -> dict | None:
    path = out / "eval" / f"{name}.{test}.json"
    return json.loads(path.read_text())[0] if path.is_file() else None


def saved_bytes(run: Path) -> int:
    saved = run / "adapter" if (run / "adapter").is_dir() else run / "model"
    return sum(p.stat().st_size for p in saved.iterdir() if p.is_file())


def cell(result: dict | None, start: dict | None = None) -> str:
    if result is None:
        return "–"
    text = f"{100 * result['char_acc']:.2f} / {100 * result['top1']:.1f}"
    if start is not None:
        text += f" ({100 * (result['char_acc'] - start['char_acc']):+.2f} / " \
                f"{100 * (result['top1'] - start['top1']):+.1f})"
    return text


def domain_tables(out: Path) -> str:
    lines = []
    for domain, test in DOMAINS.items():
        start_domain, start_news = scores(out, "news", test), scores(out, "news", "pd98_test")
        lines += [f"\n**{domain}** (test: {test})\n",
                  f"| model | {test} char / top-1 | pd98_test char / top-1 | train min | saved |",
                  "|---|---|---|---|---|",
                  f"| news-only start | {cell(start_domain)} | {cell(start_news)} | "
                  f"{_minutes(out / 'news')} | {_size(out / 'news')} |"]
        more = MORE_ROWS.get(domain, [])
        rows = [(f"+ {method}", f"{domain}-{method}", f"{domain}-{method}")
                for method in METHODS if (out / f"{domain}-{method}").is_dir()
                and f"{domain}-{method}" not in {name for _, name, _ in more}]
        for label, name, run in rows + more:
            if scores(out, name, test) is None:
                continue
            cost = f"{_minutes(out / run)} | {_size(out / run)}" if run else "– | –"
            lines.append(f"| {label} | {cell(scores(out, name, test), start_domain)} | "
                         f"{cell(scores(out, name, 'pd98_test'), start_news)} | {cost} |")
        shipped = scores(out, "shipped", test)
        if shipped:
            lines.append(f"| shipped default (full decoding, for reference) | {cell(shipped)} | "
                         f"{cell(scores(out, 'shipped', 'pd98_test'))} | – | – |")
    return "\n".join(lines)


def engine_table(out: Path) -> str:
    """The poems' starting and adapted models with language models fitted on their own
    training text, full decoding (what an input method ships)."""
    start = {t: scores(out, "engine_news", t) for t in ("tang_test", "pd98_test")}
    if start["tang_test"] is None:
        return ""
    lines = ["\n**tang_20k, whole engine** (encoder + char 3-gram + word model, full decoding)\n",
             "| engine | tang_test char / top-1 | pd98_test char / top-1 |", "|---|---|---|",
             f"| news-only start, LMs on People's Daily | {cell(start['tang_test'])} | "
             f"{cell(start['pd98_test'])} |"]
    adapted = {t: scores(out, "engine_tang", t) for t in start}
    if adapted["tang_test"] is not None:
        lines.append(f"| + full 7,000 steps, LMs on People's Daily + the 20k poems | "
                     f"{cell(adapted['tang_test'], start['tang_test'])} | "
                     f"{cell(adapted['pd98_test'], start['pd98_test'])} |")
    return "\n".join(lines)


def _minutes(run: Path) -> str:
    path = run / "wall_seconds"
    return f"{int(path.read_text()) / 60:.1f}" if path.is_file() else "–"


def _size(run: Path) -> str:
    try:
        size = saved_bytes(run)
    except FileNotFoundError:
        return "–"
    return f"{size / 1e3:.0f} KB" if size < 1e6 else f"{size / 1e6:.1f} MB"


def curve(out: Path) -> dict[str, dict[int, tuple[int, float, float]]]:
    """init -> {examples asked for (0 = all): (examples used, best dev char acc, its clause
    acc)}, from runs/exp5/curve/<init>-<examples>. "Used" is the asked number, or for all,
    what the logged epochs imply (steps * batch / epoch)."""
    points: dict[str, dict] = {}
    for run in sorted(p for p in (out / "curve").glob("*-*") if p.is_dir()):
        if not (run / "wall_seconds").is_file():
            continue  # not finished
        rows = [json.loads(r) for r in (run / "metrics.jsonl").read_text().splitlines() if r]
        evals = [r for r in rows if "eval_char_acc" in r]
        epochs = [r for r in rows if "epoch" in r and r["step"]]
        best = max(evals, key=lambda r: r["eval_char_acc"])
        batch = json.loads((run / "train_config.json").read_text())["batch_size"]
        init, asked = run.name.rsplit("-", 1)
        used = int(asked) or round(epochs[-1]["step"] * batch / epochs[-1]["epoch"])
        points.setdefault(init, {})[int(asked)] = (used, best["eval_char_acc"],
                                                   best["eval_clause_acc"])
    return points


def curve_table(points: dict) -> str:
    inits = sorted(points)
    lines = ["\n| fine-tuning examples | " + " | ".join(
        f"{init}: dev char / clause" for init in inits) + " |", "|---|" + "---|" * len(inits)]
    for asked in sorted({n for p in points.values() for n in p}, key=lambda n: n or 1e12):
        used = next(p[asked][0] for p in points.values() if asked in p)
        label = f"{used:,}" if asked else f"~{used:,} (all)"
        lines.append(f"| {label} | " + " | ".join(
            f"{100 * points[i][asked][1]:.1f} / {100 * points[i][asked][2]:.1f}"
            if asked in points[i] else "–" for i in inits) + " |")
    return "\n".join(lines)


def plot_curve(points: dict, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for init, by_size in points.items():
        rows = [by_size[n] for n in sorted(by_size, key=lambda n: n or float("inf"))]
        sizes = [r[0] for r in rows]
        for ax, i, what in ((axes[0], 1, "character"), (axes[1], 2, "clause")):
            ax.plot(sizes, [100 * r[i] for r in rows], marker="o", label=init)
            ax.set_title(f"dev {what} accuracy (argmax)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("fine-tuning examples (People's Daily clauses)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/exp5"))
    parser.add_argument("--plot", type=Path, default=Path("docs/img/finetune_data_curve.png"))
    args = parser.parse_args()
    print(domain_tables(args.out))
    print(engine_table(args.out))
    points = curve(args.out)
    if points:
        print(curve_table(points))
        plot_curve(points, args.plot)
        print(f"\nwrote {args.plot}")


if __name__ == "__main__":
    main()
