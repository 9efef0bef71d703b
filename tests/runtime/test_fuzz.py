"""Fuzzing, on the shipped model: the HTTP contract generated from the service's own OpenAPI
schema (schemathesis), and direct calls with inputs shaped like what users type (hypothesis).

No answer may be a 5xx or break the published schema; a direct call either answers or raises
the ValueError (PinyinError) that names what is wrong, never anything else. FUZZ_EXAMPLES sets
the examples per test (CI's budget by default; bench/fuzz.py runs the long count).
"""

import json
import os
import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from pinyin_hanzi.pinyin import SYLLABLES, _is_separator
from pinyin_hanzi.runtime.converter import Converter
from pinyin_hanzi.runtime.server import create_app
from pinyin_hanzi.runtime.session import Session
from pinyin_hanzi.segment import segment
from pinyin_hanzi.spelling import FUZZY_PAIRS, InputOptions
from tiny_run import one_thread

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
CALLS: Counter = Counter()  # what was run, for bench/fuzz.py (FUZZ_REPORT=file.json)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

with one_thread():
    CONVERTER = Converter.load(threads=1)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if os.environ.get("FUZZ_REPORT"):
        with open(os.environ["FUZZ_REPORT"], "w", encoding="utf-8") as f:
            json.dump(dict(CALLS), f, indent=1)

# --- the HTTP service, from its schema ---------------------------------------------------------

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(converter=CONVERTER))
# A body over the cap is refused before it is parsed: 413 rejects schema-breaking data too.
rejection = schema.config.checks.negative_data_rejection
rejection.expected_statuses = [*rejection.expected_statuses, "413"]


@schema.parametrize()
@FUZZ
def test_every_route_keeps_its_contract(case):
    """Status codes, bodies and content types as documented; no 5xx. (Text that the schema
    allows but that is no pinyin is a 422 naming it: the schema cannot say what pinyin is, so
    schemathesis's "valid data is accepted" check is left out.)"""
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    CALLS["requests"] += 1
    CALLS[f"HTTP {response.status_code}"] += 1


# --- direct calls, with inputs shaped like typing ---------------------------------------------

SYLLABLE = st.sampled_from(sorted(SYLLABLES))
PIECE = st.one_of(
    SYLLABLE,
    SYLLABLE.map(lambda s: s[:max(1, len(s) - 1)]),  # unfinished or abbreviated
    SYLLABLE.map(lambda s: s[0]),
    st.sampled_from([" ", "'", "  ", "-", "1", "2", "3", "4", "5", "v", "ü", "u:", "Ü"]),
    st.text(max_size=3),  # anything: hanzi, controls, surrogates, emoji
)
TYPED = st.lists(PIECE, max_size=40).map("".join)
OPTIONS = st.builds(InputOptions, abbreviated=st.booleans(), complete_last=st.booleans(),
                    fuzzy=st.frozensets(st.sampled_from(FUZZY_PAIRS)))


def answers_or_names_the_problem(call):
    CALLS["direct calls"] += 1
    try:
        return call()
    except ValueError as e:
        assert str(e), "an error without a message"
        CALLS["direct calls refused (ValueError naming the problem)"] += 1
        return None


@FUZZ
@given(text=TYPED, options=OPTIONS, context=st.text(max_size=40))
def test_convert_answers_or_says_what_is_wrong(text, options, context):
    cands = answers_or_names_the_problem(
        lambda: CONVERTER.convert(text, 3, options=options, context=context))
    if cands is not None:
        assert len(cands) <= 3 and len({c.text for c in cands}) == len(cands)
        # None only for input without letters, which is nothing to convert and no error.
        assert bool(cands) == (not all(_is_separator(c) for c in text))


@FUZZ
@given(text=st.one_of(TYPED, st.text(max_size=300)))
def test_segment_answers_or_says_what_is_wrong(text):
    answers_or_names_the_problem(lambda: segment(text))


@pytest.mark.parametrize("text, options", [
    ("nihao" * 2000, InputOptions()),  # whole pinyin was scored whole: 12.8 GB at 10,000
    ("zgrm" * 2500, InputOptions()),
    ("nihao" * 2000, InputOptions(fuzzy=frozenset({"n/l"}))),
    ("nihao" * 2000, InputOptions(complete_last=True)),
    ("nihao" * 2000 + "zh", InputOptions(complete_last=True)),
    ("x" * 10_000, InputOptions()),
])
def test_ten_kilobytes_of_input_are_refused_by_name(text, options):
    """The API's one limit (64 syllables); the CLI cuts longer text into pieces."""
    with pytest.raises(ValueError, match="too long"):
        CONVERTER.convert(text, options=options)


ACTION = st.one_of(
    st.tuples(st.just("type"), PIECE),
    st.tuples(st.just("backspace"), st.none()),
    st.tuples(st.just("select"), st.integers(0, 12)),
    st.tuples(st.just("commit"), st.none()),
    st.tuples(st.just("reset"), st.none()),
    st.tuples(st.just("predict"), st.none()),
)


@FUZZ
@given(actions=st.lists(ACTION, max_size=25), options=OPTIONS)
def test_a_typing_session_never_breaks(actions, options):
    """Any sequence of keys and choices: the session answers, or says the keys are no
    pinyin (PinyinError) or that there is no such candidate (IndexError)."""
    session = Session(CONVERTER, options=options)
    CALLS["typing sessions"] += 1
    for action, arg in actions:
        CALLS["direct calls"] += 1
        try:
            if action == "type":
                session.type(arg)
            elif action == "backspace":
                session.backspace()
            elif action == "select":
                session.select(arg)
            elif action == "commit":
                assert isinstance(session.commit(), str)
            elif action == "reset":
                session.reset()
            else:
                assert len(session.predictions()) <= 5
            cands = session.candidates()
            assert all(0 < c.length <= len(session.keys) for c in cands)
        except IndexError as e:
            assert action == "select" and "out of range" in str(e)
        except ValueError as e:
            assert str(e)


# --- hanzi -> pinyin: any text, each style and policy ------------------------------------------

with one_thread():
    from pinyin_hanzi.runtime.transcriber import ERRORS, Transcriber

    TRANSCRIBER = Transcriber.load(threads=1)
HANZI_TEXT = st.text(alphabet=st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                                        st.sampled_from("，。！？ 1aA\n\t·《》"),
                                        st.characters()), max_size=200)


@FUZZ
@given(texts=st.lists(HANZI_TEXT, min_size=1, max_size=4),
       style=st.sampled_from(("tone3", "tone", "normal", "initials")),
       sandhi=st.booleans(), errors=st.sampled_from(ERRORS))
def test_g2p_reads_every_hanzi_once_or_says_what_is_wrong(texts, style, sandhi, errors):
    """One reading per hanzi, in order (whatever surrounds them); "strict" refuses exactly the
    texts that hold something else, naming it; batched equals one at a time."""
    got = answers_or_names_the_problem(
        lambda: TRANSCRIBER.pinyin_many(texts, style, sandhi, errors))
    if got is None:
        assert errors == "strict"
        return
    assert got == [TRANSCRIBER.pinyin(t, style, sandhi, errors) for t in texts]
    for text, items in zip(texts, got):
        n_hanzi = sum(0x4E00 <= ord(c) <= 0x9FFF for c in text)
        # Only the initials style answers "" (a syllable without one: a1 -> "", as pypinyin).
        assert all(isinstance(x, str) and (x or style == "initials") for x in items)
        if errors == "ignore":  # only the hanzi's readings: a toned syllable, or the hanzi
            assert len(items) == n_hanzi  # itself when no dictionary reads it
            if style == "tone3":
                assert all(re.fullmatch(r"[a-z]+[1-5]|[\u4e00-\u9fff]", x) for x in items)
