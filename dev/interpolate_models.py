"""Blend a fine-tuned model with the model it started from, as `finetune --interpolate` does
after training (WiSE-FT, adapt.interpolate), for runs already made:

    python dev/interpolate_models.py START_DIR TUNED_DIR WEIGHT OUT_DIR

OUT_DIR gets START + WEIGHT * (TUNED - START), with TUNED's vocabulary and config.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pinyin_hanzi.adapt import interpolate
from pinyin_hanzi.checkpoint import load_model, save_model


def main(start: Path, tuned: Path, weight: float, out: Path):
    model, vocab = load_model(tuned)
    interpolate(model, start, weight)
    save_model(model, vocab, out, training={"interpolated": {"start": str(start),
                                                             "tuned": str(tuned),
                                                             "weight": weight}})
    print(f"{out}: {weight} of {tuned}'s change from {start}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4]))
