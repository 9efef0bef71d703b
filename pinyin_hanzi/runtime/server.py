"""The HTTP service around one Converter, and the web input-method page.

    pinyin-hanzi serve [--model DIR] [--host 127.0.0.1] [--port 8000] [--threads N]
                       [--workers N] [--processes N]
    uvicorn --factory pinyin_hanzi.server:create_app --timeout-keep-alive 30  # shipped model

Routes:
    GET  /                    the web input-method page (web/index.html; no CDN, works offline)
    GET  /health              {"status": "ok", "model_loaded": true, "model": "<dir>",
                              "pid": <the process that answered>}
    POST /v1/convert          {"pinyin": "nihao", "top_k": 5} -> {"pinyin", "candidates"}
    POST /v1/convert/batch    {"inputs": ["nihao", ...], "top_k": 5} -> {"results": [...]}
    POST /v1/candidates       {"keys": "zhongguorenmin", "context": "..."} -> {"keys",
        "candidates": [{"text", "score", "length"}]}: one step of typing, as Session offers
        it (whole conversions, then words and hanzi for a prefix of `length` keys)
        all three also take how to read the pinyin: "abbreviated" (default true: zgrm,
        zhongg), "complete_last" (false; true while typing, and by default on /v1/candidates:
        ni ha -> 你好), "fuzzy" (["z/zh", "n/l"]); /v1/convert and /v1/candidates take the
        "context" before the cursor (the input goes on from its last hanzi)
    POST /v1/pinyin           {"text": "银行行长", "style": "tone3"} -> {"text", "pinyin":
        ["yin2", "hang2", "hang2", "zhang3"]}: hanzi -> pinyin (runtime/transcriber.py; its
        model is loaded on the first request), also "sandhi" and "errors" as the CLI's g2p
    GET  /openapi.json        the contract (the /docs and /redoc pages load JS from a CDN: off)

Every 4xx answers {"detail": {"message": ...}} (invalid pinyin adds the 0-based "position"
and the offending "span", a batch the input's "index"), except a request that breaks the
schema (too long, top_k out of range, unknown fields, JSON that does not parse): 422 with
pydantic's list, {"detail": [{"loc", "msg", "type"}, ...]}. A body that is not UTF-8 -> 400,
one sent without `content-type: application/json` -> 415, a body over MAX_BODY_BYTES -> 413
whether its length is announced or it is sent chunked (BodyLimit), each with a message that
says so. Input with no letters ("", "  ") has no candidates, as in the API and the CLI. Text
that cannot be UTF-8 (a lone surrogate such as U+D800 sent as a JSON escape) is echoed back
escaped, so even its 422 can be sent.

An idle keep-alive connection is closed after KEEP_ALIVE_SECONDS, longer than clients keep
theirs (httpx: 5 s). With uvicorn's default of 5 s, server and client closed an idle connection
at the same moment, and a request sent on it just then was reset (1-2 in 5,000 under
bench/load.py).

Conversions run on at most `workers` threads at once (default: one per CPU), taken first come,
first served (an anyio CapacityLimiter); the event loop only parses and answers. With FastAPI's
own 40-thread pool every client's conversion ran at once, fighting over the GIL and two cores
(32 wrk connections: 370 requests/s, p99 126 ms; with the pool, 482 and 78 ms). Each
conversion runs its encoder on one thread (`serve --threads`): requests are the parallelism.
/v1/convert requests that wait for a slot are converted together, in one encoder pass
(batching.py). Long inputs (over SHORT_CHARS characters) and batches take at most workers - 1
slots at once, so that a short request never waits behind more long ones. A /v1/convert/batch
request is checked whole before any input is converted, then converted a chunk at a time
(CHUNK_COST), in turn with the other requests, and refused with 503 and Retry-After when its
inputs would need more than BATCH_SECONDS of conversion. A batch chunk, a /v1/candidates
step or a /v1/convert request whose client has gone by its turn is not converted (answered
CLIENT_GONE, to nobody). Once a burst is over (TRIM_AFTER_SECONDS of conversion, then a
moment when nothing converts or waits; or QUIET_SECONDS with no conversion) the converter's
caches are emptied and the freed heap given back; the worker threads share one heap
(memory.one_heap). Converter is thread-safe.
`serve --processes N` runs N of these apps behind one port (cluster.py).
"""

from __future__ import annotations

import gc
import json
import math
import os
import time
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ..pinyin import PinyinError
from ..segment import MAX_INPUT_CHARS, MAX_INPUT_SYLLABLES
from ..spelling import FUZZY_PAIRS, InputOptions
from ..g2p.notation import STYLES
from .batching import ClientGone, ConvertQueue, chunks, input_cost
from .converter import DEFAULT_MODEL, MAX_TOP_K, Converter
from .memory import one_heap, return_freed_heap
from .session import CONTEXT_CHARS, Session

# The converter's limits: MAX_INPUT_SYLLABLES syllables (the parser refuses more with a 422
# naming the position), in at most MAX_INPUT_CHARS characters; top_k at most MAX_TOP_K.
MAX_PINYIN_CHARS = MAX_INPUT_CHARS
MAX_BATCH = 64
TOP_K_MIN, TOP_K_MAX = 1, MAX_TOP_K
# A full batch of maximal inputs, each character a 12-byte JSON escape, is ~390 KB; anything
# far beyond is not a request.
MAX_BODY_BYTES = 512 * 1024
KEEP_ALIVE_SECONDS = 30  # uvicorn's timeout_keep_alive; see the module docstring
# Even written as JSON escapes of non-BMP characters (12 bytes each), a text of this length
# fits in MAX_BODY_BYTES, so every request the schema allows is read (a 10,000 cap was 413).
MAX_G2P_CHARS = 5_000
ERROR_POLICIES = ("default", "ignore", "replace", "strict")  # transcriber.ERRORS
# A batch is converted CHUNK_COST syllables at a time (batching.input_cost: an abbreviated
# input's count six times), in turn with other requests: two clients' batches of 64 of the
# costliest inputs once held both conversion slots for 56 s. Between chunks the client is
# asked whether it is still there, and the batch's conversion time so far is charged against
# BATCH_SECONDS: a batch that will need more is refused with 503 and Retry-After.
CHUNK_COST = 64
BATCH_SECONDS = 2.0
# After this many seconds of conversion, the first moment nothing converts or waits, the
# converter's caches are emptied and the heap's freed pages given back (release_memory): a
# burst of costly inputs left 182 MB resident where the service had started at 126 (issue 35).
TRIM_AFTER_SECONDS = 1.0
# ... and once QUIET_SECONDS pass with nothing converted, converting or waiting, after at least
# QUIET_TRIM_SECONDS of conversion since the last release: the end of a burst that came after
# the last release (less than TRIM_AFTER_SECONDS) otherwise kept what it had filled until the
# next burst (dev/EXPERIMENTS.md, session 18). The minimum spares a slow typist's caches.
QUIET_SECONDS = 0.5
QUIET_TRIM_SECONDS = 0.1
# A request whose input is at most SHORT_CHARS characters (what is typed, a clause) converts in
# the short lane: long inputs, /v1/candidates steps over longer keys and every batch take at
# most workers - 1 of the slots at once, so a short request never waits behind more than that
# many long ones. Sharing one line, a `nihao` waited 0.3-0.6 s at p99 behind four clients'
# costliest inputs (issue 35).
SHORT_CHARS = 32
CLIENT_GONE = 499  # nginx's code for a client that closed its request; nobody reads it

PAGE = Path(__file__).parent / "web" / "index.html"

Pinyin = Annotated[str, Field(max_length=MAX_PINYIN_CHARS, examples=["nihao", "xi'an"],
                              description=f"At most {MAX_INPUT_SYLLABLES} syllables.")]
TopK = Annotated[int, Field(ge=TOP_K_MIN, le=TOP_K_MAX, description="Candidates per input.")]
FuzzyPair = Literal[FUZZY_PAIRS]
# Only the last CONTEXT_CHARS count; a client may send a little more (the end of its text).
Context = Annotated[str, Field(max_length=8 * CONTEXT_CHARS, description=(
    "The text before the cursor; the input goes on from its last run of hanzi."))]


class ReadingOptions(BaseModel):
    """How the pinyin is read (spelling.InputOptions)."""
    # Strict: 0 is no boolean and "5" no number, as the published schema says.
    model_config = ConfigDict(extra="forbid", strict=True)
    abbreviated: bool = Field(True, description="Input that is not whole pinyin may be "
                              "cut-short syllables (zgrm, zhongg).")
    complete_last: bool = Field(False, description="The last syllable may be unfinished even "
                                "when it spells a whole one (ni ha -> 你好), as while typing.")
    fuzzy: list[FuzzyPair] = Field([], max_length=len(FUZZY_PAIRS),
                                   description="Fuzzy pinyin pairs read as one sound.")

    def input_options(self) -> InputOptions:
        return InputOptions(abbreviated=self.abbreviated, complete_last=self.complete_last,
                            fuzzy=frozenset(self.fuzzy))


class ConvertRequest(ReadingOptions):
    pinyin: Pinyin
    top_k: TopK = 5
    context: Context = ""


class CandidatesRequest(ReadingOptions):
    keys: Pinyin
    top_k: TopK = 5
    context: Context = ""
    complete_last: bool = Field(True, description="The last syllable may be unfinished.")


class BatchRequest(ReadingOptions):
    inputs: list[Pinyin] = Field(min_length=1, max_length=MAX_BATCH)
    top_k: TopK = 5


class PinyinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    text: str = Field(min_length=1, max_length=MAX_G2P_CHARS, examples=["银行行长"])
    style: Literal[STYLES] = Field("tone3", description="tone3 (zhong1), tone (zhōng), "
                                   "normal (zhong) or initials (zh).")
    sandhi: bool = Field(False, description="Spoken tones of 一 and 不 instead of citation.")
    errors: Literal[ERROR_POLICIES] = Field("default", description=(
        "What is not hanzi: kept as one item per run, ignored, replaced by its code points "
        "in hex, or refused (422)."))


class PinyinResponse(BaseModel):
    text: str
    pinyin: list[str] = Field(description="One reading per hanzi; other text as `errors` says.")


class CandidateOut(BaseModel):
    text: str
    score: float = Field(description="Log-probability of the clause; higher is better.")


class ConvertResponse(BaseModel):
    pinyin: str
    candidates: list[CandidateOut] = Field(description="Best first.")


class BatchResponse(BaseModel):
    results: list[ConvertResponse] = Field(description="One per input, in order.")


class SessionCandidateOut(CandidateOut):
    length: int = Field(description="How many of the keys, from the start, it stands for.")


class CandidatesResponse(BaseModel):
    keys: str
    candidates: list[SessionCandidateOut] = Field(description=(
        "Whole conversions best first, then words and single hanzi for a prefix."))


class InputError(BaseModel):
    message: str
    position: int | None = Field(None, description="0-based offset of the bad span.")
    span: str | None = Field(None, description="The part of the input that is no pinyin.")
    index: int | None = Field(None, description="Which input of a batch.")


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class BadRequest(BaseModel):
    """A 422: the input is no pinyin (an object), or the request breaks the schema (a list,
    as pydantic reports it)."""
    detail: InputError | list[FieldError]


class Refused(BaseModel):
    detail: InputError


# What the routes that convert may answer besides 200, in the published schema.
ERRORS = {400: {"model": Refused, "description": "The body is not UTF-8"},
          413: {"model": Refused, "description": "Request body too large"},
          415: {"model": Refused, "description": "The body is not sent as JSON"},
          422: {"model": BadRequest, "description": "Invalid pinyin or request"},
          503: {"model": Refused, "description": "The model is not loaded yet, or a batch "
                "needs more conversion time than a request may take (see Retry-After)"}}


class SafeJSONResponse(JSONResponse):
    """JSON as UTF-8, or ASCII-escaped when the content holds a lone surrogate (which has no
    UTF-8 form: the plain JSONResponse raised, and a bad request became a 500); a float JSON
    cannot write (NaN, 1e400: json reads them, and a 422 echoes them) as a string."""

    def render(self, content) -> bytes:
        try:
            return super().render(content)
        except ValueError:  # UnicodeEncodeError, or "Out of range float values"
            return json.dumps(_json_safe(content), ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")


def _json_safe(value):
    """`value` with each float that JSON has no form for (NaN, infinities) as its name."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _response(pinyin: str, candidates) -> ConvertResponse:
    return ConvertResponse(pinyin=pinyin, candidates=[
        CandidateOut(text=c.text, score=round(float(c.score), 4)) for c in candidates])


def _bad_input(error: ValueError, **extra) -> HTTPException:
    detail = {"message": str(error), **extra}
    if isinstance(error, PinyinError):
        detail.update(position=error.position, span=error.span)
    return HTTPException(status_code=422, detail=detail)


def _refused(status: int, message: str) -> SafeJSONResponse:
    return SafeJSONResponse(status_code=status, content={"detail": {"message": message}})


class BodyLimit:
    """413 for a body over `max_bytes`, as JSON like every other refusal, whether the
    Content-Length announces it or a chunked body grows past it. (FastAPI's own
    `max_body_size` answered the first in plain text and the second in JSON.)"""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"request body over {self.max_bytes:,} bytes"
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            return await _refused(413, message)(scope, receive, send)
        read = 0

        async def counted():
            nonlocal read
            event = await receive()
            read += len(event.get("body", b""))
            if read > self.max_bytes:  # raised while the route reads its body
                raise HTTPException(status_code=413, detail={"message": message})
            return event

        await self.app(scope, counted, send)


def _content_type_error(request: Request, errors: list) -> str | None:
    """The message for a body FastAPI did not read as JSON because of its content-type (it
    reported "Input should be a valid dictionary"), else None."""
    sent = request.headers.get("content-type")
    if sent and sent.split(";")[0].strip().lower().endswith(("/json", "+json")):
        return None
    if not any(tuple(e["loc"]) == ("body",) and e["type"] == "model_attributes_type"
               for e in errors):
        return None
    return ("the body must be JSON sent with content-type: application/json (got "
            + (f"content-type: {sent})" if sent else "no content-type)"))


class Lane:
    """Limiters taken in order and given back in reverse (an async context manager, as one
    anyio.CapacityLimiter is): the long lane's own, then the conversion slots."""

    def __init__(self, *limiters: anyio.CapacityLimiter):
        self.limiters = limiters

    async def __aenter__(self):
        taken = []
        try:
            for limiter in self.limiters:
                await limiter.acquire()
                taken.append(limiter)
        except BaseException:
            for limiter in reversed(taken):
                limiter.release()
            raise

    async def __aexit__(self, *exc):
        for limiter in reversed(self.limiters):
            limiter.release()


def release_memory(converter: Converter):
    """The converter's caches emptied, then the heap's freed pages given back: with one heap
    for all threads (memory.one_heap) and onnxruntime's arena off, a burst of the costliest
    inputs left 161 MB resident without emptying the caches, 147 with (from 130; dev/
    EXPERIMENTS.md, session 17)."""
    converter.clear_caches()
    return_freed_heap()


SERVE_ENV = "PINYIN_HANZI_SERVE"  # how `serve --processes N` tells its workers what to load


def _freeze_loaded():
    """Move what is alive now (the models, the app) out of the garbage collector's sight.
    They live as long as the process, yet each full collection walked them all: a 17 ms
    pause every few thousand requests, the slowest of the service's answers under load."""
    gc.collect()
    gc.freeze()


def app_from_env() -> FastAPI:
    """The app of one worker process of `serve --processes N` (cluster.py starts each as a
    new Python process, so the settings come as JSON in the SERVE_ENV variable): its own
    Converter, loaded at import. Processes, unlike threads, convert in parallel without
    sharing the GIL; the memory-mapped language models are shared between them through the
    page cache."""
    settings = json.loads(os.environ[SERVE_ENV])
    converter = Converter.load(settings["model"], backend=settings["backend"],
                               threads=settings["threads"] or None,
                               adapter=settings["adapter"], script=settings["script"],
                               memory_arena=False)
    return create_app(settings["label"], converter, settings["workers"])


def create_app(model_dir: str | Path | None = None, converter: Converter | None = None,
               workers: int | None = None, transcriber=None,
               batch_seconds: float = BATCH_SECONDS) -> FastAPI:
    """The app. `converter` is used as given (tests, the CLI); otherwise the model in
    `model_dir` (default: the shipped one) is loaded once, at startup. `workers`:
    conversions at once (default: the CPU count). `transcriber` (runtime.transcriber) answers
    /v1/pinyin; without one the shipped G2P model is loaded on the first such request.
    `batch_seconds`: the conversion time one batch request may take (BATCH_SECONDS)."""
    label = str(model_dir) if model_dir is not None else (
        str(DEFAULT_MODEL) if converter is None else "injected converter")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    # Created at startup: a limiter belongs to the event loop that uses it. lanes: the short
    # lane (the conversion slots) and the long one (SHORT_CHARS).
    limiter: list[anyio.CapacityLimiter] = []
    lanes: list = []
    # /v1/convert's requests, converted together (batching.py): short, long
    queue: list[ConvertQueue] = []

    busy = [0.0]  # seconds of conversion since the heap was last trimmed

    async def run(fn, *args, client: Request | None = None, long: bool = True):
        """fn(*args) on a worker thread, in turn with the other conversions of its lane; not
        at all when `client` has gone by the time its turn comes (ClientGone)."""
        async with lanes[long]:
            if client is not None and await client.is_disconnected():
                raise ClientGone
            start = time.perf_counter()
            try:
                return await anyio.to_thread.run_sync(fn, *args)
            finally:
                busy[0] += time.perf_counter() - start

    def idle() -> bool:
        """Nothing converts or waits to."""
        return not limiter[0].borrowed_tokens and not any(q.waiting for q in queue)

    async def trim_when_idle():
        """Give memory back once a burst is over (TRIM_AFTER_SECONDS)."""
        if busy[0] >= TRIM_AFTER_SECONDS and idle():
            busy[0] = 0.0
            await anyio.to_thread.run_sync(release_memory, app.state.converter)

    async def release_when_quiet():
        """Give memory back once QUIET_SECONDS pass with no conversion (QUIET_TRIM_SECONDS)."""
        seen = None
        while True:
            await anyio.sleep(QUIET_SECONDS)
            # busy unchanged: no conversion ended since the last look
            if 0 < busy[0] == seen and busy[0] >= QUIET_TRIM_SECONDS and idle():
                busy[0] = 0.0
                await anyio.to_thread.run_sync(release_memory, app.state.converter)
            seen = busy[0]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        one_heap()  # before the worker threads: see memory.py
        limiter[:] = [anyio.CapacityLimiter(workers)]
        lanes[:] = [limiter[0], Lane(anyio.CapacityLimiter(max(1, workers - 1)), limiter[0])]
        if app.state.converter is None:
            app.state.converter = await anyio.to_thread.run_sync(
                partial(Converter.load, model_dir, memory_arena=False))
        queue[:] = [ConvertQueue(app.state.converter, lane) for lane in lanes]
        _freeze_loaded()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(release_when_quiet)
            yield
            tasks.cancel_scope.cancel()

    app = FastAPI(title="pinyin-hanzi", version="1",
                  summary="Pinyin -> hanzi conversion with a Transformer.",
                  lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # both load their JS from a CDN
                  default_response_class=SafeJSONResponse)
    app.state.converter = converter
    app.state.transcriber = transcriber
    g2p_lock = anyio.Lock()

    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)

    # FastAPI's own handlers answer with the plain JSONResponse, and a bare string as the
    # detail of a 404, 405 or unreadable body; these give every refusal the one shape.
    @app.exception_handler(ClientGone)
    async def client_gone(request: Request, exc: ClientGone):
        return Response(status_code=CLIENT_GONE)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if message := _content_type_error(request, errors):
            return _refused(415, message)
        return SafeJSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if isinstance(exc.__cause__, UnicodeDecodeError):
            bad = exc.__cause__
            detail = f"the body is not UTF-8: byte 0x{bad.object[bad.start]:02x} at offset " \
                     f"{bad.start}"
        if not isinstance(detail, dict):
            detail = {"message": str(detail)}
        return SafeJSONResponse(status_code=exc.status_code, content={"detail": detail},
                                headers=getattr(exc, "headers", None))

    def loaded() -> Converter:
        if app.state.converter is None:  # only before the lifespan has run
            raise HTTPException(status_code=503, detail={"message": "model not loaded yet"})
        return app.state.converter

    page = PAGE.read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index():
        return page

    @app.get("/health")
    def health():
        return {"status": "ok", "model_loaded": app.state.converter is not None,
                "model": label, "pid": os.getpid()}

    @app.post("/v1/convert", response_model=ConvertResponse, responses=ERRORS)
    async def convert(request: ConvertRequest, raw: Request):
        """Pinyin as typed (`nihao`, `ni hao`, `xi'an`, `nü3`) -> hanzi candidates."""
        loaded()
        try:
            start = time.perf_counter()
            lane = queue[len(request.pinyin) > SHORT_CHARS]
            candidates = await lane.convert(request.pinyin, request.top_k,
                                            request.input_options(), request.context,
                                            gone=raw.is_disconnected)
        except ValueError as e:
            raise _bad_input(e) from None
        finally:
            busy[0] += time.perf_counter() - start  # (its wait too: an upper bound)
        await trim_when_idle()
        return _response(request.pinyin, candidates)

    def costs(conv: Converter, request: BatchRequest) -> list[int]:
        """Each input's cost (batching.input_cost); 422 naming the first that is no pinyin,
        before anything is converted (a bad last input once came after the whole batch)."""
        costs = []
        for index, text in enumerate(request.inputs):
            try:
                costs.append(input_cost(conv, text, request.input_options()))
            except ValueError as e:
                raise _bad_input(e, index=index) from None
        return costs

    def convert_chunk(conv: Converter, request: BatchRequest, indices: list[int]):
        """The candidates of these inputs and the seconds they took."""
        start, options = time.perf_counter(), request.input_options()
        texts = [request.inputs[i] for i in indices]
        try:
            found = conv.convert_many(texts, request.top_k, options=options)
        except ValueError:
            # A check after the model (an unlikely reading) does not say which input
            # failed: find it one at a time, within this chunk only.
            for index, text in zip(indices, texts):
                try:
                    conv.convert(text, 1, options=options)
                except ValueError as e:
                    raise _bad_input(e, index=index) from None
            raise
        return found, time.perf_counter() - start

    @app.post("/v1/convert/batch", response_model=BatchResponse, responses=ERRORS)
    async def convert_batch(request: BatchRequest, raw: Request):
        """Many inputs, a few at a time in turn with other requests; the first invalid one
        fails the whole request, and a batch needing more conversion time than a request
        may take is refused (503, Retry-After)."""
        conv = loaded()
        cost = await run(costs, conv, request, client=raw)
        results, spent, done = [], 0.0, 0
        for indices in chunks(cost, CHUNK_COST):
            # Charged as the sum of its inputs: the time so far, scaled to the whole.
            if done and spent * sum(cost) / done > batch_seconds:
                raise HTTPException(status_code=503, headers={
                    "Retry-After": str(math.ceil(batch_seconds))}, detail={"message": (
                        f"this batch needs about {spent * sum(cost) / done:.1f} s of "
                        f"conversion, over the {batch_seconds:g} s a request may take: send "
                        "fewer or shorter inputs, or retry when the service is less busy")})
            found, seconds = await run(convert_chunk, conv, request, indices, client=raw)
            results += found
            spent += seconds
            done += sum(cost[i] for i in indices)
        await trim_when_idle()
        return BatchResponse(results=[_response(p, c) for p, c in zip(request.inputs, results)])

    @app.post("/v1/candidates", response_model=CandidatesResponse, responses=ERRORS)
    async def candidates(request: CandidatesRequest, raw: Request):
        """One step of typing without a server-side session: what runtime.session.Session
        offers for these keys after this context. A client keeps its own state (what it
        selected, what it committed) and sends the keys left and the text before them."""
        session = Session(loaded(), request.top_k, request.input_options(),
                          keys=request.keys, context=request.context[-CONTEXT_CHARS:])
        try:
            found = await run(session.candidates, client=raw,
                              long=len(request.keys) > SHORT_CHARS)
        except ValueError as e:
            raise _bad_input(e) from None
        await trim_when_idle()
        return CandidatesResponse(keys=request.keys, candidates=[
            SessionCandidateOut(text=c.text, score=round(float(c.score), 4), length=c.length)
            for c in found])

    @app.post("/v1/pinyin", response_model=PinyinResponse, responses=ERRORS)
    async def pinyin(request: PinyinRequest):
        """Hanzi -> pinyin, one reading per hanzi; polyphones are read in context."""
        from .transcriber import Transcriber

        async with g2p_lock:
            if app.state.transcriber is None:
                try:
                    app.state.transcriber = await anyio.to_thread.run_sync(
                        lambda: Transcriber.load(threads=1))
                except ValueError as e:
                    raise HTTPException(status_code=503, detail={
                        "message": f"no G2P model: {e}"}) from None
        g2p = app.state.transcriber
        try:
            readings = await run(g2p.pinyin, request.text, request.style, request.sandhi,
                                 request.errors)
        except ValueError as e:
            raise _bad_input(e) from None
        return PinyinResponse(text=request.text, pinyin=readings)

    return app
