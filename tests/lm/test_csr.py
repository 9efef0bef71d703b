import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinyin_hanzi.lm.csr import (EXACT_COUNTS, CountTable, compact_ids, ids, quantize_counts,
                              smallest_int)


@pytest.mark.parametrize("values, dtype", [
    ([], np.uint16), ([0, 65535], np.uint16), ([65536], np.int32),
    ([2 ** 31 - 1], np.int32), ([2 ** 31], np.int64)])
def test_smallest_int(values, dtype):
    out = smallest_int(np.array(values, dtype=np.int64))
    assert out.dtype == dtype and out.tolist() == values


def test_smallest_int_refuses_negatives():
    with pytest.raises(ValueError, match="negative"):
        smallest_int(np.array([3, -1]))


pairs_strategy = st.dictionaries(
    st.tuples(st.integers(0, 6), st.integers(0, 9)), st.integers(0, 70_000), max_size=30)


@settings(max_examples=150, deadline=None)
@given(pairs_strategy, st.booleans())
def test_count_table_answers_as_a_dict(pairs, dense):
    """Every (history, next) question, seen or not, gets the pair's count and its history's
    Witten-Bell t (distinct nexts) and d (total count + t); t = d = 1 for an unseen history.
    Pairs counted 0 are dropped."""
    items = sorted(pairs.items())
    history = np.array([h for (h, _), _ in items], dtype=np.int64)
    nxt = np.array([x for (_, x), _ in items], dtype=np.int64)
    counts = np.array([n for _, n in items], dtype=np.int64)
    table = CountTable(history, nxt, counts, dense=8 if dense else 0)
    kept = {k: n for k, n in pairs.items() if n > 0}
    assert len(table) == len(kept)
    assert [tuple(map(int, p)) for p in zip(*table.pairs())] == [
        (h, x, n) for (h, x), n in sorted(kept.items())]
    questions = [(h, x) for h in range(-1, 9) for x in range(-1, 11)]
    count, t, d = table.lookup([h for h, _ in questions], [x for _, x in questions])
    for (h, x), c, tt, dd in zip(questions, count, t, d):
        row = {x2: n for (h2, x2), n in kept.items() if h2 == h}
        assert c == row.get(x, 0)
        assert (tt, dd) == ((len(row), sum(row.values()) + len(row)) if row else (1, 1))


@settings(max_examples=100, deadline=None)
@given(pairs_strategy, st.booleans())
def test_count_table_rebuilds_from_its_own_arrays(pairs, dense):
    """What a model file keeps (`arrays`) gives back the same table, d included."""
    items = sorted((k, n) for k, n in pairs.items())
    history = np.array([h for (h, _), _ in items], dtype=np.int64)
    nxt = np.array([x for (_, x), _ in items], dtype=np.int64)
    table = CountTable(history, nxt, np.array([n for _, n in items], dtype=np.int64),
                       dense=8 if dense else 0)
    arrays = table.arrays("t_")
    assert ("t_histories" in arrays) is not dense
    again = CountTable.from_rows(arrays.get("t_histories"), arrays["t_rows"], arrays["t_next"],
                                 arrays["t_counts"], arrays.get("t_count_values"))
    for name in ("histories", "rows", "next", "counts", "count_values", "d"):
        mine, theirs = getattr(again, name), getattr(table, name)
        assert (mine is None and theirs is None) or (
            mine.dtype == theirs.dtype and mine.tolist() == theirs.tolist())


@pytest.mark.parametrize("histories, rows, nexts, counts, message", [
    (None, [0, 2], [3, 3], [1, 1], "not sorted"),          # a next token twice in a row
    (None, [0, 1, 2], [3, 1], [1, 1], None),                # rows may restart lower
    ([4, 2], [0, 1, 2], [3, 1], [1, 1], "not sorted"),      # histories descend
    ([4, 5], [0, 0, 2], [3, 4], [1, 1], "not sorted"),      # a keyed row is empty
    ([4], [0, 1, 2], [3, 4], [1, 1], "do not fit"),         # one history for two rows
    (None, [0, 3], [3, 4], [1, 1], "do not fit"),           # rows run past the n-grams
    (None, [0, 2], [3, 4], [1, 0], "counted 0"),
])
def test_count_table_from_rows_checks_its_arrays(histories, rows, nexts, counts, message):
    args = (None if histories is None else np.array(histories), np.array(rows),
            np.array(nexts), np.array(counts))
    if message is None:
        assert CountTable.from_rows(*args).lookup([1], [1])[0].tolist() == [1]
    else:
        with pytest.raises(ValueError, match=message):
            CountTable.from_rows(*args)


@pytest.mark.parametrize("counts", [[], [5, 1, 5, 70_000], list(range(1, 257))])
def test_quantized_counts_are_lossless_for_few_distinct_values(counts):
    codes, values = quantize_counts(counts)
    assert codes.dtype == np.uint8 and values[codes].tolist() == counts


def test_quantized_counts_are_exact_when_small_and_close_when_large():
    counts = np.r_[np.arange(300), np.geomspace(300, 2e6, 5000).astype(np.int64), 7, 7]
    codes, values = quantize_counts(counts)
    assert codes.dtype == np.uint8 and len(values) <= 256
    decoded = values[codes]
    small = counts < EXACT_COUNTS
    assert decoded[small].tolist() == counts[small].tolist()
    assert np.all(np.abs(decoded - counts) <= 0.06 * counts)
    # Each bin's value is its mean, so totals hardly move.
    assert abs(decoded.sum() - counts.sum()) < 1e-4 * counts.sum()


@pytest.mark.parametrize("top, shape", [(65_535, (3,)), (65_536, (3, 3)), (2 ** 24 - 1, (3, 3)),
                                        (2 ** 24, (3,))])
def test_compact_ids_take_three_bytes_beyond_uint16(top, shape):
    values = np.array([0, 300, top], dtype=np.int64)
    packed = compact_ids(values)
    assert packed.shape == shape and ids(packed).tolist() == values.tolist()


def test_a_table_with_three_byte_ids_and_coded_counts_answers_as_a_dict():
    """Next tokens beyond uint16 and more than 256 distinct counts: what the language models
    of a large corpus store; the file's arrays rebuild the same table."""
    rng = np.random.default_rng(0)
    history = np.sort(rng.integers(0, 50, 3000))
    nxt = rng.choice(200_000, 3000, replace=False)
    order = np.lexsort((nxt, history))
    history, nxt = history[order], nxt[order]
    counts = rng.integers(1, 100_000, 3000)
    table = CountTable(history, nxt, counts)
    assert table.next.shape == (3000, 3) and table.count_values is not None
    decoded = table.count(slice(None))
    assert table.max_next == nxt.max()
    count, t, d = table.lookup(history, nxt)
    assert count.tolist() == decoded.tolist()
    for h in (history[0], history[-1]):
        row = history == h
        assert t[row][0] == row.sum() and d[row][0] == decoded[row].sum() + row.sum()
    assert table.lookup([history[0]], [200_001])[0].tolist() == [0]
    arrays = table.arrays("t_")
    again = CountTable.from_rows(arrays["t_histories"], arrays["t_rows"], arrays["t_next"],
                                 arrays["t_counts"], arrays["t_count_values"])
    assert [a.tolist() for a in again.pairs()] == [a.tolist() for a in table.pairs()]
    with pytest.raises(ValueError, match="do not fit"):  # codes beyond their values
        CountTable.from_rows(arrays["t_histories"], arrays["t_rows"], arrays["t_next"],
                             arrays["t_counts"], arrays["t_count_values"][:3])
    swapped = arrays["t_next"].copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    if history[0] == history[1]:
        with pytest.raises(ValueError, match="not sorted"):
            CountTable.from_rows(arrays["t_histories"], arrays["t_rows"], swapped,
                                 arrays["t_counts"], arrays["t_count_values"])


def test_lookup_searches_within_each_row_building_no_table():
    """Long rows (one of 300,000) and few short ones answer as a dict, and a lookup allocates
    almost nothing: a sorted key per n-gram, built on first use, once cost 16 MB of the
    shipped word model's 2.1 M bigrams."""
    import tracemalloc

    rng = np.random.default_rng(1)
    lengths = [300_000, 1, 0, 2, 50_000, 7, 150_000]
    history = np.repeat(np.arange(len(lengths)), lengths)
    nxt = np.concatenate([np.sort(rng.choice(400_000, n, replace=False)) for n in lengths])
    counts = rng.integers(1, 1_000, len(nxt))
    table = CountTable(history, nxt, counts)
    asked_h = np.concatenate([rng.integers(-1, len(lengths) + 1, 3000), history[::997]])
    asked_x = np.concatenate([rng.integers(-1, 400_001, 3000), nxt[::997]])
    tracemalloc.start()
    count, _, _ = table.lookup(asked_h, asked_x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000
    stored = table.count(slice(None))  # over 256 distinct counts: coded, close
    known = {(int(h), int(x)): int(c) for h, x, c in zip(history, nxt, stored)}
    assert count.tolist() == [known.get((int(h), int(x)), 0) for h, x in zip(asked_h, asked_x)]
    few = np.isin(asked_h, [1, 3, 5])  # few short rows: each decoded and searched at once
    assert table.lookup(asked_h[few], asked_x[few])[0].tolist() == count[few].tolist()
