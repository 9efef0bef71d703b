"""The Chinese marks for the ASCII keys (the engine's use of them: test_engine.py)."""

from pinyin_hanzi.ibus.punctuation import FULL_WIDTH, Punctuator


def test_the_marks_of_the_issue():
    p = Punctuator()
    typed = "".join(p.mark(ch) for ch in ",.?!:;\"\"''()<>\\^_")
    assert typed == "，。？！：；“”‘’（）《》、……——"


def test_quotes_alternate_per_kind_and_reset_opens_them():
    p = Punctuator()
    assert [p.mark(ch) for ch in "\"'\"'\""] == ["“", "‘", "”", "’", "“"]
    p.reset()
    assert p.mark('"') == "“"


def test_period_and_comma_after_a_digit_stay_as_typed():
    p = Punctuator()
    assert p.mark(".", after_digit=True) is None and p.mark(",", after_digit=True) is None
    assert p.mark("?", after_digit=True) == "？"


def test_keys_without_a_mark():
    assert all(Punctuator().mark(ch) is None for ch in "@&*-=+|/#%a1")
    assert all(len(v) in (1, 2) for v in FULL_WIDTH.values())
