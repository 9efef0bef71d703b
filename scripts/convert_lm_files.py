"""One-off: convert a model directory's language models to the array formats.

    python scripts/convert_lm_files.py [MODEL_DIR]     (default: the shipped model)

* ngram.json.gz ({"order", "counts": {gram: count}}) -> ngram.npz (ngram.FORMAT);
* wordlm.npz format 1 (readings as text) -> wordlm.npz (wordlm.FORMAT);
* ngram.npz format 2 and wordlm.npz format 2, which still load (by building the tables at
  load: slower, and ~12 MB more at the peak), -> the current formats, which hold the tables
  as they are kept in memory.

The counts are carried over unchanged, so the models give the same probabilities; each new
file is loaded back and compared with the old one before the old one is replaced. Files that
are already converted are left alone.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pinyin_hanzi.api import DEFAULT_MODEL  # noqa: E402
from pinyin_hanzi import ngram, wordlm  # noqa: E402
from pinyin_hanzi.ngram import LEGACY_NGRAM_FILE, NGRAM_FILE, CharNgram  # noqa: E402
from pinyin_hanzi.wordlm import LEGACY_FORMAT, WORDLM_FILE, WordLM  # noqa: E402


def convert_ngram(model_dir: Path) -> bool:
    old, new = model_dir / LEGACY_NGRAM_FILE, model_dir / NGRAM_FILE
    if not old.is_file():
        return False
    data = json.loads(gzip.decompress(old.read_bytes()))
    lm = CharNgram.from_counts(int(data["order"]), data["counts"])
    lm.save(new)
    if CharNgram.load(new).to_counts() != data["counts"]:
        new.unlink()
        raise SystemExit(f"{new}: does not load back to the counts of {old}")
    old.unlink()
    return True


def convert_wordlm(model_dir: Path) -> bool:
    path = model_dir / WORDLM_FILE
    if not path.is_file():
        return False
    with np.load(path, allow_pickle=False) as data:
        if bytes(data["format"]).decode() != LEGACY_FORMAT:
            return False
        words = bytes(data["words"]).decode("utf-8").split("\n")
        readings = [r.split("|") if r else []
                    for r in bytes(data["readings"]).decode("utf-8").split("\n")]
        lm = WordLM.from_lists(words, data["counts"], readings, data["prev"], data["next"],
                               data["pair_counts"], float(data["alpha"][0]))
    tmp = path.with_name(f".{path.name}.converted")
    lm.save(tmp)
    loaded = WordLM.load(tmp)
    same = (all(np.array_equal(a, b) for a, b in zip(loaded.bigrams.pairs(), lm.bigrams.pairs()))
            and np.array_equal(loaded.counts, lm.counts)
            and np.array_equal(loaded.reading_keys, lm.reading_keys)
            and np.array_equal(loaded.reading_words, lm.reading_words)
            and loaded._long_readings == lm._long_readings
            and all(loaded.word(i) == w for i, w in enumerate(words)))
    if not same:
        tmp.unlink()
        raise SystemExit(f"{tmp}: does not load back to the model in {path}")
    tmp.replace(path)
    return True


def upgrade(path: Path, model, old_format: str) -> bool:
    """A format-2 file (`model`: CharNgram or WordLM) -> the current format, if the model read
    back from the new file writes the same arrays again."""
    if not path.is_file():
        return False
    with np.load(path, allow_pickle=False) as data:
        if bytes(data["format"]).decode() != old_format:
            return False
    tmp, again = (path.with_name(f".{path.name}.{x}") for x in ("converted", "again"))
    model.load(path).save(tmp)
    model.load(tmp).save(again)
    with np.load(tmp) as first, np.load(again) as second:
        same = first.files == second.files and all(
            np.array_equal(first[name], second[name]) for name in first.files)
    again.unlink()
    if not same:
        tmp.unlink()
        raise SystemExit(f"{tmp}: does not load back to the model in {path}")
    tmp.replace(path)
    return True


def main():
    model_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL
    for name, convert in ((NGRAM_FILE, convert_ngram), (WORDLM_FILE, convert_wordlm)):
        print(f"{model_dir / name}: {'converted' if convert(model_dir) else 'nothing to do'}")
    for name, model, old in ((NGRAM_FILE, CharNgram, ngram.OLD_FORMAT),
                             (WORDLM_FILE, WordLM, wordlm.OLD_FORMAT)):
        if upgrade(model_dir / name, model, old):
            print(f"{model_dir / name}: upgraded from {old}")


if __name__ == "__main__":
    main()
