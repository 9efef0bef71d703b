import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinyin_hanzi.csr import CountTable, smallest_int


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
                                 arrays["t_counts"])
    for name in ("histories", "rows", "next", "counts", "d"):
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
