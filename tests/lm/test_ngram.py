"""Tests for pinyin_hanzi.lm.ngram: the character n-gram's counts, probabilities and file."""

import io
import math

import numpy as np
import pytest

from pinyin_hanzi.checkpoint import NGRAM_FILE
from pinyin_hanzi.lm.ngram import EOS, CharNgram


@pytest.mark.parametrize(
    "clauses, order, counts",
    [
        (["我好"], 1, {"我": 1, "好": 1, EOS: 1}),
        (["我好"], 2, {"我": 1, "好": 1, EOS: 1, "^我": 1, "我好": 1, "好$": 1}),
        (["好好", "好"], 2, {"好": 3, EOS: 2, "^好": 2, "好好": 1, "好$": 2}),
    ],
)
def test_ngram_counts(clauses, order, counts):
    assert CharNgram.train(clauses, order).to_counts() == counts


def reference_counts(clauses, order, prune, prune_middle):
    """The counts train() must give, by the definition: every k-gram of the padded clause
    that does not end in the start padding, pruned by order."""
    from collections import Counter

    counts = Counter()
    for clause in clauses:
        padded = "^" * (order - 1) + clause + EOS
        for i in range(order - 1, len(padded)):
            for k in range(1, order + 1):
                counts[padded[i - k + 1:i + 1]] += 1
    return {g: n for g, n in counts.items()
            if n >= (prune if len(g) == order else prune_middle if len(g) >= 3 else 1)}


@pytest.mark.parametrize("order, prune, prune_middle", [(1, 1, 1), (2, 2, 1), (3, 1, 1),
                                                        (3, 2, 1), (4, 3, 2)])
def test_array_counting_matches_the_definition(order, prune, prune_middle):
    rng = np.random.default_rng(order * 10 + prune)
    alphabet = "我们你好学习银行走中国人民"
    clauses = ["".join(rng.choice(list(alphabet), rng.integers(0, 8))) for _ in range(300)]
    trained = CharNgram.train(clauses, order, prune, prune_middle)
    assert trained.to_counts() == reference_counts(clauses, order, prune, prune_middle)


TOY = ["我们好", "你们好", "我好", "好好学习", "银行行走"]


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("text", ["", "我", "我们", "好好", "银行", "龘"])
def test_ngram_distributions_sum_to_one(order, text):
    """Over every seen character and the end marker, plus one bucket for any unseen character
    (the add-one unigram's extra mass, which Witten-Bell passes up through every order), the
    probabilities of the next character sum to exactly 1."""
    lm = CharNgram.train(TOY, order)
    seen = [g for g in lm.to_counts() if len(g) == 1]
    assert EOS in seen
    total_seen = sum(math.exp(lm.logprob(text, c)) for c in seen)
    unseen = math.exp(lm.logprob(text, "龘"))
    assert 0.9 < total_seen < 1
    assert total_seen + unseen == pytest.approx(1, abs=1e-12)
    assert math.exp(lm.end_logprob(text)) == pytest.approx(math.exp(lm.logprob(text, EOS)))


@pytest.mark.parametrize("k", [2, 3])
def test_keeping_the_most_informative_ngrams(k):
    """with_top(n, k) keeps n of the k-grams, those whose count most exceeds what the shorter
    history predicts, the other orders whole; every history's distribution still sums to 1."""
    lm = CharNgram.train(TOY + ["好好好好好"] * 3 + ["学银"], 3)
    table = lm.tables[k - 2]
    smaller = lm.with_top(len(table) // 2, k)
    assert len(smaller.tables[k - 2]) == len(table) // 2
    assert all(len(a) == len(b) for j, (a, b) in enumerate(zip(lm.tables, smaller.tables))
               if j != k - 2)
    kept, dropped = set(), set()
    full, few = lm.to_counts(), smaller.to_counts()
    for gram, n in full.items():
        if len(gram) == k:
            (kept if gram in few else dropped).add(gram)
    # Of two grams seen once, the one whose character the shorter history gives anyway goes
    # (好 after 我; 好 after 我们, which 们好 predicts); a count cut-off keeps both or neither.
    surprise, expected = ("学银", "我好") if k == 2 else ("好好学", "我们好")
    assert full[surprise] == full[expected] == 1
    assert surprise in kept and expected in dropped
    for text in ["", "我", "好好", "学"]:
        seen = [g for g in full if len(g) == 1] + ["龘"]
        assert sum(math.exp(smaller.logprob(text, c)) for c in seen) == pytest.approx(
            1, abs=1e-12)
    assert lm.with_top(len(table), k) is lm
    with pytest.raises(ValueError, match="k-grams"):
        lm.with_top(1, 4)


def test_ngram_prefers_what_it_saw():
    lm = CharNgram.train(TOY, 2)
    assert lm.logprob("银", "行") > lm.logprob("银", "走")
    assert lm.logprob("", "好") > lm.logprob("", "学")


def test_ngram_save_load_round_trip(tmp_path):
    lm = CharNgram.train(TOY, 3)
    lm.save(tmp_path / NGRAM_FILE)
    loaded = CharNgram.load(tmp_path / NGRAM_FILE)
    assert (loaded.order, loaded.to_counts()) == (lm.order, lm.to_counts())
    for text, char in [("", "我"), ("我们", "好"), ("银行", "行"), ("龘", EOS)]:
        assert loaded.logprob(text, char) == lm.logprob(text, char)
    with np.load(tmp_path / NGRAM_FILE, allow_pickle=False) as data:  # the tables' arrays
        assert data["table_3_next"].shape == (len(lm.grams(3)[0]),)


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def unigram_file(order, ids) -> bytes:
    """A current-format model over "ab" with these 1-grams and no higher tables."""
    return npz_bytes(format=utf8("pinyin-hanzi-ngram/3"), order=np.array([order]),
                     chars=utf8("ab"), unigram_ids=np.array(ids), unigram_counts=np.array([1, 2]))


def bigram_file(rows, nexts, counts) -> bytes:
    """A current-format (3) bigram model over "ab" with this 2-gram table."""
    return npz_bytes(format=utf8("pinyin-hanzi-ngram/3"), order=np.array([2]), chars=utf8("ab"),
                     unigram_ids=np.array([0, 1]), unigram_counts=np.array([1, 2]),
                     table_2_rows=np.array(rows), table_2_next=np.array(nexts),
                     table_2_counts=np.array(counts))


@pytest.mark.parametrize(
    "content, error, message",
    [
        (None, FileNotFoundError, "ngram.npz: n-gram model file is missing"),
        (b"not a zip file", ValueError, "ngram.npz: not a valid n-gram model file"),
        (npz_bytes(format=utf8("other")), ValueError, "expected 'pinyin-hanzi-ngram/3'"),
        (npz_bytes(format=utf8("pinyin-hanzi-ngram/3"), order=np.array([1])), ValueError,
         "ngram.npz: not a valid n-gram model file"),
        (unigram_file(order=0, ids=[0, 1]), ValueError, "n-gram order must be >= 1"),
        (unigram_file(order=1, ids=[1, 0]), ValueError,
         "not distinct character ids in range, ascending"),
        (unigram_file(order=1, ids=[0, 2]), ValueError,
         "not distinct character ids in range, ascending"),
        # the current format: the tables as kept
        (bigram_file(rows=[0, 1, 2], nexts=[1, 0], counts=[1, 1]),
         ValueError, "needs rows by character id, one per character"),
        (bigram_file(rows=[0, 1, 3, 2], nexts=[1, 0], counts=[1, 1]),
         ValueError, "do not fit together"),
        (bigram_file(rows=[0, 2, 2, 2], nexts=[1, 0], counts=[1, 1]),
         ValueError, "not sorted by"),
        (bigram_file(rows=[0, 1, 2, 2], nexts=[1, 7], counts=[1, 1]),
         ValueError, "the 2-grams have a character id out of range"),
        (bigram_file(rows=[0, 1, 2, 2], nexts=[1, 0], counts=[1, 0]),
         ValueError, "counted 0"),
    ],
)
def test_ngram_load_errors(tmp_path, content, error, message):
    path = tmp_path / NGRAM_FILE
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message):
        CharNgram.load(path)


def test_middle_orders_are_pruned_at_their_own_cut_off():
    """A 4-gram model with prune 3 and prune_middle 2 keeps every 1- and 2-gram, the 3-grams
    seen twice or more, the 4-grams seen three times or more; a middle cut-off above the top
    one is refused (a kept n-gram would lose its history)."""
    clauses = ["我们去学校", "我们去学校", "我们去学校", "我们去公园", "我们去公园", "他们来了"]
    full = CharNgram.train(clauses, 4, 1)
    pruned = CharNgram.train(clauses, 4, 3, prune_middle=2)
    for k in (1, 2):
        assert np.array_equal(pruned.grams(k)[1], full.grams(k)[1])
    for k, cut in ((3, 2), (4, 3)):
        kept = pruned.grams(k)[1]
        assert len(kept) == int((full.grams(k)[1] >= cut).sum()) > 0
        assert kept.min() >= cut
    with pytest.raises(ValueError, match="prune_middle"):
        CharNgram.train(clauses, 4, 2, prune_middle=3)
