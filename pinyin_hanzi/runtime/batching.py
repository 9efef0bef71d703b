"""Conversions of concurrent requests, run together: one encoder pass for what is waiting.

Under load most /v1/convert requests wait for a conversion slot while another converts. The
one that gets a slot takes every request still waiting (up to MAX_BATCH) and converts them in
one `Converter.convert_many`, whose encoder pass costs less per clause than one pass each
(pd98_test on one core: 1.74 ms a clause alone, 1.32 in fours, 1.27 in eights). A request
that finds its own answer made by someone else's batch when its turn comes just returns it.
Nobody waits for a batch to fill: an idle server converts each request as it comes, and a
busy process, with more requests waiting, batches more and so catches up. MAX_BATCH bounds
how long the last of a batch waits: under bench/load.py (32 clients, 2 processes) 16 gave
p99 49-53 ms, 8 gave 36-37 ms at the same throughput, 4 lost 10 % of it.

The int8 graph quantizes its activations with one scale per pass, so a clause's scores move
a little with the company it is batched in: on 400 pd98_test clauses in eights, no first
candidate changed, and no score by more than 0.24 (of log-probs around -20 to -60).

A request whose client has gone by the time a batch takes it is not converted: it is answered
ClientGone (issue 35: clients that gave up on the costliest inputs still had them converted,
ahead of everyone who came after them).

No background task: each request converts or collects inside its own await, so nothing
outlives the event loop that made it (FastAPI's lifespan, test clients, uvicorn's workers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import anyio.to_thread

from ..spelling import InputOptions
from .converter import MAX_READINGS, READING_SYLLABLES

__all__ = ["ClientGone", "ConvertQueue", "MAX_BATCH", "chunks", "input_cost"]

MAX_BATCH = 8


class ClientGone(Exception):
    """The client closed its connection before its conversion's turn: nothing is converted."""


@dataclass
class _Request:
    pinyin: str
    top_k: int
    options: InputOptions
    context: str
    answer: asyncio.Future = field(repr=False)
    gone: Callable[[], Awaitable[bool]] | None = field(default=None, repr=False)


class ConvertQueue:
    """Requests waiting to be converted, for one converter and one event loop's slots."""

    def __init__(self, converter, limiter: anyio.CapacityLimiter, max_batch: int = MAX_BATCH):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.converter, self.limiter, self.max_batch = converter, limiter, max_batch
        self.waiting: list[_Request] = []

    async def convert(self, pinyin: str, top_k: int, options: InputOptions, context: str,
                      gone: Callable[[], Awaitable[bool]] | None = None):
        """The candidates, as `Converter.convert` gives them (and raises its ValueError).
        `gone`: whether the client has left (Starlette's Request.is_disconnected); if so
        when a batch takes this request, it raises ClientGone, unconverted."""
        request = _Request(pinyin, top_k, options, context,
                           asyncio.get_running_loop().create_future(), gone)
        self.waiting.append(request)
        while not request.answer.done():
            async with self.limiter:  # first come, first served, with the other routes
                if not request.answer.done():
                    batch = self.waiting[:self.max_batch]
                    del self.waiting[:len(batch)]
                    try:
                        batch = await _present(batch)
                        answers = await anyio.to_thread.run_sync(
                            convert_batch, self.converter, batch) if batch else []
                    except BaseException:
                        # This request was cancelled, or converting broke: the others go
                        # back to the head of the line, to be taken by the next in turn.
                        self.waiting[:0] = [w for w in batch
                                            if w is not request and not w.answer.done()]
                        raise
                    for waiting, answer in zip(batch, answers):
                        if isinstance(answer, BaseException):
                            waiting.answer.set_exception(answer)
                        else:
                            waiting.answer.set_result(answer)
        return request.answer.result()


async def _present(batch: list[_Request]) -> list[_Request]:
    """The requests of `batch` whose clients are still there; the others are answered
    ClientGone."""
    present = []
    for request in batch:
        if request.gone is not None and await request.gone():
            request.answer.set_exception(ClientGone())
        else:
            present.append(request)
    return present


def convert_batch(converter, batch: list[_Request]) -> list:
    """Each request's candidates, or the ValueError its input raised. Requests read the same
    way are converted together, once the inputs that are no pinyin are answered with their
    error; a group in which a check after the model fails is converted one by one, so the
    others still get their answers."""
    answers: list = [None] * len(batch)
    groups: dict[InputOptions, list[int]] = {}
    for i, request in enumerate(batch):
        try:
            converter.parse(request.pinyin, request.options)
        except ValueError as e:
            answers[i] = e
            continue
        groups.setdefault(request.options, []).append(i)
    for options, members in groups.items():
        top_k = max(batch[i].top_k for i in members)
        try:
            found = converter.convert_many([batch[i].pinyin for i in members], top_k,
                                           options=options,
                                           contexts=[batch[i].context for i in members])
            for i, candidates in zip(members, found):
                answers[i] = candidates[:batch[i].top_k]
        except ValueError:
            for i in members:
                try:
                    answers[i] = converter.convert(batch[i].pinyin, batch[i].top_k,
                                                   options=options, context=batch[i].context)
                except ValueError as e:
                    answers[i] = e
    return answers


def input_cost(converter, text: str, options: InputOptions) -> int:
    """What converting `text` costs, in syllables the encoder reads: its syllables, or as
    many readings of them as the reading search may choose (abbreviated, fuzzy or unfinished
    input: Converter.readings). Raises the converter's PinyinError when `text` is no pinyin:
    a batch is checked whole before any of it is converted."""
    _, sets = converter.parse(text, options)
    n = max(1, len(sets))
    return n if all(len(group) == 1 for group in sets) else min(n * MAX_READINGS,
                                                                max(n, READING_SYLLABLES))


def chunks(costs: list[int], most: int) -> list[list[int]]:
    """The indices of `costs`, in order, in runs costing at most `most` (or one input that
    alone costs more): a batch converts a run at a time, in turn with other requests."""
    runs: list[list[int]] = []
    total = most
    for i, cost in enumerate(costs):
        if total + cost > most:
            runs.append([])
            total = 0
        runs[-1].append(i)
        total += cost
    return runs
