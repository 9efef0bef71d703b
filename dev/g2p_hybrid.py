"""Would pypinyin's phrase dictionary help the G2P model? On the part of CPP dev that
train-g2p holds back (never test), per marked
polyphone: the model's reading, pypinyin's, and a hybrid that takes pypinyin's where the
hanzi is inside a multi-hanzi word of pypinyin's phrase dictionary (as its segmenter cuts
the sentence) and the model's elsewhere.

    python dev/g2p_hybrid.py MODEL_DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import pypinyin  # noqa: E402
from g2p import hanzi_readings  # noqa: E402
from pypinyin.constants import PHRASES_DICT  # noqa: E402
from pypinyin.seg.mmseg import seg  # noqa: E402

from pinyin_hanzi.g2p.data import read_marked  # noqa: E402
from pinyin_hanzi.runtime.transcriber import Transcriber  # noqa: E402


def in_phrase(sentence: str, at: int) -> bool:
    pos = 0
    for word in seg.cut(sentence):
        if pos <= at < pos + len(word):
            return len(word) > 1 and word in PHRASES_DICT
        pos += len(word)
    return False


def main():
    g2p = Transcriber.load(sys.argv[1], threads=1)
    marked = read_marked(Path("bench/data/cpp/dev"))
    marked = marked[::len(marked) // 1000]  # the dev part train-g2p held back (gold_dev=1000)
    ours = g2p.pinyin_many([s for s, _, _ in marked])
    right = {"model": 0, "pypinyin": 0, "hybrid": 0}
    phrase_cases = phrase_model = phrase_py = 0
    for (s, at, gold), items in zip(marked, ours):
        mine = hanzi_readings(s, items)[at]
        py = hanzi_readings(s, pypinyin.lazy_pinyin(s, style=pypinyin.Style.TONE3,
                                                    neutral_tone_with_five=True))[at]
        phrase = in_phrase(s, at)
        right["model"] += mine == gold
        right["pypinyin"] += py == gold
        right["hybrid"] += (py if phrase else mine) == gold
        if phrase:
            phrase_cases += 1
            phrase_model += mine == gold
            phrase_py += py == gold
    n = len(marked)
    print({k: round(100 * v / n, 2) for k, v in right.items()},
          f"in a phrase: {phrase_cases} (model {100 * phrase_model / phrase_cases:.2f}, "
          f"pypinyin {100 * phrase_py / phrase_cases:.2f})")


if __name__ == "__main__":
    main()
