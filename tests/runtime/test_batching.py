"""Tests for pinyin_hanzi.runtime.batching: requests that wait together are converted
together, each gets its own answer (or its own error), and nobody is left waiting."""

import threading
import time

import anyio
import pytest

from pinyin_hanzi.decode import Candidate
from pinyin_hanzi.pinyin import PinyinError
from pinyin_hanzi.runtime.batching import MAX_BATCH, ClientGone, ConvertQueue, chunks
from pinyin_hanzi.spelling import InputOptions

PLAIN, FUZZY = InputOptions(), InputOptions(fuzzy=frozenset({"n/l"}))


class EchoConverter:
    """Answers each input with candidates spelled from it, slowly; records every batch."""

    def __init__(self, delay: float = 0.05):
        self.delay, self.batches, self.lock = delay, [], threading.Lock()
        self.release = threading.Event()
        self.release.set()

    def _answer(self, text, top_k, context):
        if text == "bad":
            raise PinyinError(f"{text!r} is no pinyin", 0, text)
        return [Candidate(f"{context}{text}#{i}", -float(i)) for i in range(top_k)]

    def convert_many(self, texts, top_k, options=None, contexts=None):
        self.release.wait(10)
        with self.lock:
            self.batches.append((list(texts), options))
        time.sleep(self.delay)
        return [self._answer(t, top_k, c) for t, c in zip(texts, contexts)]

    def convert(self, text, top_k, options=None, context=""):
        return self._answer(text, top_k, context)

    def parse(self, text, options):
        if text == "bad":
            raise PinyinError(f"{text!r} is no pinyin", 0, text)
        return None, (frozenset({text}),)


def run_requests(converter, requests, workers=1, max_batch=MAX_BATCH):
    """Send (pinyin, top_k, options, context) requests at once; their answers or errors."""
    answers = [None] * len(requests)

    async def main():
        queue = ConvertQueue(converter, anyio.CapacityLimiter(workers), max_batch)

        async def one(i, request):
            try:
                answers[i] = await queue.convert(*request)
            except ValueError as e:
                answers[i] = e

        async with anyio.create_task_group() as tg:
            for i, request in enumerate(requests):
                tg.start_soon(one, i, request)
        assert queue.waiting == []

    anyio.run(main)
    return answers


def test_waiting_requests_are_converted_together_each_with_its_own_answer():
    converter = EchoConverter()
    texts = [f"ni{i}" for i in range(12)]
    answers = run_requests(converter, [(t, 2, PLAIN, "") for t in texts])
    assert [[c.text for c in a] for a in answers] == [[f"{t}#0", f"{t}#1"] for t in texts]
    sizes = [len(batch) for batch, _ in converter.batches]
    assert sum(sizes) == 12 and max(sizes) > 1  # they waited together, so went together
    assert max(sizes) <= MAX_BATCH


def test_each_request_keeps_its_top_k_and_context():
    answers = run_requests(EchoConverter(), [("a", 1, PLAIN, ""), ("b", 3, PLAIN, "中"),
                                             ("c", 2, PLAIN, "")])
    assert [[c.text for c in a] for a in answers] == [
        ["a#0"], ["中b#0", "中b#1", "中b#2"], ["c#0", "c#1"]]


def test_requests_read_differently_are_not_mixed():
    converter = EchoConverter()
    run_requests(converter, [("a", 1, PLAIN, ""), ("b", 1, FUZZY, ""), ("c", 1, PLAIN, ""),
                             ("d", 1, FUZZY, "")])
    for texts, options in converter.batches:
        assert all((t in "ac") == (options == PLAIN) for t in texts)


def test_a_bad_input_fails_alone():
    answers = run_requests(EchoConverter(), [("a", 1, PLAIN, ""), ("bad", 1, PLAIN, ""),
                                             ("c", 1, PLAIN, "")])
    assert isinstance(answers[1], PinyinError) and "'bad' is no pinyin" in str(answers[1])
    assert [a[0].text for i, a in enumerate(answers) if i != 1] == ["a#0", "c#0"]


def test_a_bad_input_is_found_before_the_others_are_converted():
    """The others are converted once, together (they were converted together, then again
    one by one to find which input failed)."""
    converter = EchoConverter()
    answers = run_requests(converter, [("a", 1, PLAIN, ""), ("bad", 1, PLAIN, ""),
                                       ("c", 1, PLAIN, "")])
    assert isinstance(answers[1], PinyinError)
    assert sorted(t for texts, _ in converter.batches for t in texts) == ["a", "c"]


def test_batches_never_exceed_max_batch_and_workers_bound_them():
    converter = EchoConverter(delay=0.02)
    answers = run_requests(converter, [(f"x{i}", 1, PLAIN, "") for i in range(10)],
                           workers=2, max_batch=3)
    assert [a[0].text for a in answers] == [f"x{i}#0" for i in range(10)]
    assert all(len(batch) <= 3 for batch, _ in converter.batches)


def test_a_cancelled_request_leaves_the_others_answered():
    """The request converting a batch is cancelled (its client went away): the others of
    its batch go back in line and the next in turn converts them."""
    converter = EchoConverter(delay=0)
    converter.release.clear()  # the first batch blocks until released
    answers = {}

    async def main():
        limiter = anyio.CapacityLimiter(1)
        queue = ConvertQueue(converter, limiter)
        first = anyio.CancelScope()

        async def one(name):
            answers[name] = (await queue.convert(name, 1, PLAIN, ""))[0].text

        async def cancellable():
            with first:
                await one("a")

        await limiter.acquire()  # all three wait in line, "a" first
        async with anyio.create_task_group() as tg:
            tg.start_soon(cancellable)
            await anyio.sleep(0.02)
            tg.start_soon(one, "b")
            tg.start_soon(one, "c")
            await anyio.sleep(0.02)
            limiter.release()  # "a" takes the slot and all three, and blocks
            await anyio.sleep(0.05)
            first.cancel()
            converter.release.set()

    anyio.run(main)
    # anyio lets the worker thread finish before the cancellation lands, so "a" may have
    # its answer too; what matters is that the others are not left waiting.
    assert answers["b"] == "b#0" and answers["c"] == "c#0"


def test_requests_whose_clients_have_gone_are_not_converted():
    """Of the requests a batch takes, those whose clients have left are answered ClientGone
    and not converted, the one converting the batch included; the others are answered."""
    converter = EchoConverter(delay=0)
    answers = {}

    async def main():
        limiter = anyio.CapacityLimiter(1)
        queue = ConvertQueue(converter, limiter)

        async def left():
            return True

        async def there():
            return False

        async def one(name, gone):
            try:
                answers[name] = (await queue.convert(name, 1, PLAIN, "", gone))[0].text
            except ClientGone:
                answers[name] = "gone"

        await limiter.acquire()  # all four wait in line, "a" first: "a" takes the batch
        async with anyio.create_task_group() as tg:
            for name, gone in (("a", left), ("b", there), ("c", left), ("d", None)):
                tg.start_soon(one, name, gone)
                await anyio.sleep(0.01)
            limiter.release()
        assert queue.waiting == []

    anyio.run(main)
    assert answers == {"a": "gone", "b": "b#0", "c": "gone", "d": "d#0"}
    assert [texts for texts, _ in converter.batches] == [["b", "d"]]


def test_a_broken_batch_fails_its_converter_only():
    """Converting raises something that is no input error (a bug, out of memory): the
    request that ran the batch gets it, and the others of its batch are converted again."""

    class BreaksOnce(EchoConverter):
        def convert_many(self, texts, top_k, options=None, contexts=None):
            if not self.batches:
                self.batches.append((list(texts), options))
                raise RuntimeError("boom")
            return super().convert_many(texts, top_k, options, contexts)

    converter = BreaksOnce(delay=0)
    answers = {}

    async def main():
        limiter = anyio.CapacityLimiter(1)
        queue = ConvertQueue(converter, limiter)

        async def one(name):
            try:
                answers[name] = (await queue.convert(name, 1, PLAIN, ""))[0].text
            except RuntimeError as e:
                answers[name] = str(e)

        await limiter.acquire()  # all three wait in line, "a" first
        async with anyio.create_task_group() as tg:
            for name in "abc":
                tg.start_soon(one, name)
                await anyio.sleep(0.01)
            limiter.release()

    anyio.run(main)
    assert [batch for batch, _ in converter.batches] == [["a", "b", "c"], ["b", "c"]]
    assert answers == {"a": "boom", "b": "b#0", "c": "c#0"}


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError, match="max_batch must be >= 1"):
        ConvertQueue(EchoConverter(), anyio.CapacityLimiter(1), max_batch=0)


@pytest.mark.parametrize("costs, most, expected", [
    ([10, 20, 30, 40], 64, [[0, 1, 2], [3]]),
    ([384, 5, 5], 64, [[0], [1, 2]]),
    ([5, 384, 5], 64, [[0], [1], [2]]),
    ([64, 64], 64, [[0], [1]]),
    ([], 64, []),
])
def test_a_batch_is_cut_into_runs_of_bounded_cost(costs, most, expected):
    assert chunks(costs, most) == expected


def test_an_input_costs_its_syllables_or_its_readings_syllables():
    """Whole pinyin read as typed costs its syllables; input the reading search reads costs
    as many readings as the converter may convert (Converter.readings)."""
    from pinyin_hanzi.runtime.batching import input_cost
    from pinyin_hanzi.runtime.converter import MAX_READINGS, READING_SYLLABLES

    class Parsed:
        def parse(self, text, options):
            return None, tuple(frozenset(s.split("/")) for s in text.split())

    assert input_cost(Parsed(), "ni hao", PLAIN) == 2
    assert input_cost(Parsed(), "ni hao/hu", PLAIN) == 2 * MAX_READINGS
    assert input_cost(Parsed(), " ".join(["z/zh"] * 64), PLAIN) == READING_SYLLABLES
    assert input_cost(Parsed(), "", PLAIN) == 1
