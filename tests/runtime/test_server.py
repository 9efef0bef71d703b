"""Tests for pinyin_hanzi.runtime.server through FastAPI's in-process TestClient: the routes, the
error contract (4xx with a message naming what was wrong), the limits, and that nothing the
service hands out loads from a CDN. The model is the tiny one tiny_run.py trains per session.
"""

import re

import pytest
from fastapi.testclient import TestClient

from pinyin_hanzi.pinyin import PinyinError
from pinyin_hanzi.runtime.converter import MAX_TOP_K, Converter
from pinyin_hanzi.runtime.server import (MAX_BATCH, MAX_BODY_BYTES, MAX_PINYIN_CHARS, TOP_K_MAX,
                                 create_app)
from pinyin_hanzi.runtime.session import Session
from pinyin_hanzi.segment import MAX_INPUT_SYLLABLES
from pinyin_hanzi.spelling import FUZZY_PAIRS
from tiny_run import one_thread, shared_run


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def conv(tmp_path_factory):
    return Converter.load(shared_run(tmp_path_factory) / "model")


@pytest.fixture(scope="module")
def client(conv):
    with TestClient(create_app(model_dir="tiny", converter=conv)) as client:
        yield client


def post(client, path, body):
    return client.post(path, json=body)


def test_health(client):
    import os

    assert client.get("/health").json() == {"status": "ok", "model_loaded": True,
                                            "model": "tiny", "pid": os.getpid()}


@pytest.mark.parametrize("pinyin, top_k", [("nihao", 5), ("ni hao", 1), ("xue'sheng", 3),
                                           ("WoMen", 2)])
def test_convert_returns_the_converters_candidates_best_first(client, conv, pinyin, top_k):
    response = post(client, "/v1/convert", {"pinyin": pinyin, "top_k": top_k})
    assert response.status_code == 200
    body = response.json()
    assert body["pinyin"] == pinyin
    expected = conv.convert(pinyin, top_k)
    assert [c["text"] for c in body["candidates"]] == [c.text for c in expected]
    assert 1 <= len(body["candidates"]) <= top_k
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert all(len(c["text"]) == 2 for c in body["candidates"])  # one hanzi per syllable


def test_convert_knows_a_word_of_the_tiny_corpus(client):
    texts = [c["text"] for c in post(client, "/v1/convert", {"pinyin": "nihao"}).json()
             ["candidates"]]
    assert "你好" in texts
    assert len(texts) <= 5  # the default top_k


def test_batch_matches_single_conversions(client):
    inputs = ["nihao", "xuesheng", "wo men"]
    response = post(client, "/v1/convert/batch", {"inputs": inputs, "top_k": 2})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["pinyin"] for r in results] == inputs
    for text, result in zip(inputs, results):
        single = post(client, "/v1/convert", {"pinyin": text, "top_k": 2}).json()
        assert [c["text"] for c in result["candidates"]] == \
               [c["text"] for c in single["candidates"]]


@pytest.mark.parametrize("pinyin, position, span", [("ni hao!", 6, "!"), ("nixhao", 2, "xh"),
                                                    ("你好", 0, "你好")])
def test_invalid_pinyin_is_422_naming_the_position(client, pinyin, position, span):
    response = post(client, "/v1/convert", {"pinyin": pinyin})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert (detail["position"], detail["span"]) == (position, span)
    assert f"position {position}" in detail["message"]


def test_invalid_batch_input_names_its_index(client):
    response = post(client, "/v1/convert/batch", {"inputs": ["nihao", "wo men", "ni hao!"]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert (detail["index"], detail["position"], detail["span"]) == (2, 6, "!")


@pytest.mark.parametrize("path, body, field", [
    ("/v1/convert", {"pinyin": "a" * (MAX_PINYIN_CHARS + 1)}, "pinyin"),
    ("/v1/convert", {"pinyin": "nihao", "top_k": 0}, "top_k"),
    ("/v1/convert", {"pinyin": "nihao", "top_k": TOP_K_MAX + 1}, "top_k"),
    ("/v1/convert", {"pinyin": "nihao", "topk": 3}, "topk"),
    ("/v1/convert", {}, "pinyin"),
    ("/v1/convert/batch", {"inputs": []}, "inputs"),
    ("/v1/convert/batch", {"inputs": ["a"] * (MAX_BATCH + 1)}, "inputs"),
    ("/v1/convert/batch", {"inputs": ["nihao"], "top_k": 0}, "top_k"),
    ("/v1/convert", {"pinyin": "nihao", "fuzzy": ["z/x"]}, "fuzzy"),
    ("/v1/convert", {"pinyin": "nihao", "fuzzy": "z/zh"}, "fuzzy"),
    ("/v1/convert", {"pinyin": "nihao", "complete_last": "maybe"}, "complete_last"),
    ("/v1/convert/batch", {"inputs": ["nihao"], "abbreviated": [1]}, "abbreviated"),
    ("/v1/convert", {"pinyin": "nihao", "context": "好" * 257}, "context"),
    ("/v1/convert", {"pinyin": "nihao", "context": 3}, "context"),
    ("/v1/convert/batch", {"inputs": ["nihao"], "context": "中国"}, "context"),
    ("/v1/candidates", {"pinyin": "nihao"}, "keys"),
    ("/v1/candidates", {"keys": "nihao", "top_k": 0}, "top_k"),
    ("/v1/candidates", {"keys": "nihao", "context": ["中国"]}, "context"),
    ("/v1/candidates", {"keys": "nihao", "fuzzy": ["s/x"]}, "fuzzy"),
])
def test_bad_requests_are_422_naming_the_field(client, path, body, field):
    response = post(client, path, body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


@pytest.mark.parametrize("path, body, empty", [
    ("/v1/convert", {"pinyin": ""}, {"pinyin": "", "candidates": []}),
    ("/v1/convert", {"pinyin": " ' "}, {"pinyin": " ' ", "candidates": []}),
    ("/v1/candidates", {"keys": "  "}, {"keys": "  ", "candidates": []}),
])
def test_input_without_letters_has_no_candidates(client, path, body, empty):
    """The API's and the CLI's rule: nothing to convert, no error (it was a 422)."""
    response = post(client, path, body)
    assert response.status_code == 200 and response.json() == empty
    batch = post(client, "/v1/convert/batch", {"inputs": ["nihao", "", "nihao"]}).json()
    assert [bool(r["candidates"]) for r in batch["results"]] == [True, False, True]


def test_the_syllable_limit_is_the_converters(client):
    assert post(client, "/v1/convert", {"pinyin": "ni" * MAX_INPUT_SYLLABLES}).status_code == 200
    for text in ("ni" * (MAX_INPUT_SYLLABLES + 1), "nihao" * 60):  # 260+ characters too
        response = post(client, "/v1/convert", {"pinyin": text})
        assert response.status_code == 422
        assert f"at most {MAX_INPUT_SYLLABLES}" in response.json()["detail"]["message"]


def test_top_k_cap_is_the_converters(client):
    assert TOP_K_MAX == MAX_TOP_K
    assert post(client, "/v1/convert", {"pinyin": "nihao", "top_k": TOP_K_MAX}).status_code \
        == 200


def refusal(response, status: int) -> str:
    """The message of a refusal in the one shape of every 4xx but schema errors."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert isinstance(detail, dict) and isinstance(detail["message"], str)
    return detail["message"]


@pytest.mark.parametrize("headers, named", [({}, "no content-type"),
                                            ({"content-type": "text/plain"}, "text/plain")])
def test_json_without_its_content_type_is_refused_naming_it(client, headers, named):
    """It was a 422 "Input should be a valid dictionary" that did not say why."""
    message = refusal(client.post("/v1/convert", content=b'{"pinyin": "nihao"}',
                                  headers=headers), 415)
    assert "content-type: application/json" in message and named in message


def test_a_body_that_is_not_utf8_is_refused_saying_so(client):
    message = refusal(client.post("/v1/convert", content=b'{"pinyin": "ni\xffhao"}',
                                  headers={"content-type": "application/json"}), 400)
    assert "not UTF-8" in message and "0xff" in message


def test_unknown_routes_and_methods_answer_in_the_same_shape(client):
    assert refusal(client.get("/v2/convert"), 404) == "Not Found"
    assert refusal(client.get("/v1/convert"), 405) == "Method Not Allowed"


def _big_body() -> bytes:
    return b'{"pinyin": "' + b"a" * MAX_BODY_BYTES + b'"}'


def test_body_over_the_limit_is_413(client):
    response = client.post("/v1/convert", content=_big_body(),
                           headers={"content-type": "application/json"})
    assert f"{MAX_BODY_BYTES:,} bytes" in refusal(response, 413)  # was plain text


def test_chunked_body_over_the_limit_is_413(client):
    body = _big_body()

    def chunks():  # a generator: httpx sends it chunked, without a Content-Length
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]

    response = client.post("/v1/convert", content=chunks(),
                           headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert f"{MAX_BODY_BYTES:,} bytes" in refusal(response, 413)


def test_openapi_is_served_and_docs_pages_are_not(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/v1/convert", "/v1/convert/batch"} <= set(paths)
    # Swagger UI and ReDoc would load their JavaScript from a CDN: blank when offline.
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_the_page_is_served_and_loads_nothing_from_elsewhere(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="pinyin"' in response.text and "/v1/candidates" in response.text
    # The page's fuzzy checkboxes are the pairs the API takes.
    listed = re.search(r"const FUZZY_PAIRS = \[(.*?)\];", response.text, re.S).group(1)
    assert tuple(re.findall(r'"([a-z/]+)"', listed)) == FUZZY_PAIRS
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", response.text, re.I)


@pytest.mark.parametrize("body", [
    b'{"pinyin": "\\ud800"}', b'{"pinyin": "ni\\udc80hao"}', b'{"pinyin": "\xed\xa0\x80"}'])
@pytest.mark.parametrize("path, field", [("/v1/convert", "pinyin"),
                                         ("/v1/convert/batch", "inputs"),
                                         ("/v1/convert", "context"),
                                         ("/v1/candidates", "keys"),
                                         ("/v1/candidates", "context")])
def test_a_lone_surrogate_is_422_not_500(client, body, path, field):
    """Valid JSON (or raw bytes ED A0 80) for text with no UTF-8 form: the error that echoes
    it back must still be sent (it raised UnicodeEncodeError and became a 500)."""
    if field == "inputs":
        body = body.replace(b'"pinyin": ', b'"inputs": [').replace(b'}', b']}')
    elif field == "context":
        key = b'"keys"' if path == "/v1/candidates" else b'"pinyin"'
        body = body.replace(b'"pinyin": ', key + b': "nihao", "context": ')
    elif field == "keys":
        body = body.replace(b'"pinyin"', b'"keys"')
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["body", field]
    assert "unicode" in r.json()["detail"][0]["msg"]


def test_an_error_echoing_a_surrogate_in_a_wrong_field_is_422(client):
    r = client.post("/v1/convert/batch", content=b'{"pinyin": "\\ud800"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "missing"


@pytest.mark.parametrize("value", [b"1e400", b"-Infinity", b"NaN"])
@pytest.mark.parametrize("path, body", [
    ("/v1/convert", b'{"pinyin": "nihao", "top_k": %s}'),
    ("/v1/candidates", b'{"keys": "nihao", "top_k": %s}'),
    ("/v1/convert", b'{"pinyin": %s}'),
])
def test_a_number_json_cannot_write_back_is_422_not_500(client, path, body, value):
    """Python's json reads NaN, Infinity and 1e400; the 422 that echoes one back could not be
    written ("Out of range float values are not JSON compliant") and became a 500."""
    r = client.post(path, content=body % value, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] == "body"
    assert isinstance(r.json()["detail"][0]["input"], str)


# --- how the pinyin is read: on the shipped model (abbreviations need its word model) -------

@pytest.fixture(scope="module")
def shipped_client():
    with TestClient(create_app(converter=Converter.load())) as client:
        yield client


def first(response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["candidates"][0]["text"]


def test_abbreviations_are_read_unless_turned_off(shipped_client):
    assert first(post(shipped_client, "/v1/convert", {"pinyin": "zgrm"})) == "中国人民"
    response = post(shipped_client, "/v1/convert", {"pinyin": "zgrm", "abbreviated": False})
    assert response.status_code == 422
    assert response.json()["detail"]["position"] == 0


def test_fuzzy_pairs_and_the_unfinished_last_syllable_reach_the_converter(shipped_client):
    assert first(post(shipped_client, "/v1/convert",
                      {"pinyin": "zongguo", "fuzzy": ["z/zh"]})) == "中国"
    assert first(post(shipped_client, "/v1/convert",
                      {"pinyin": "ni ha", "complete_last": True})) == "你好"
    assert first(post(shipped_client, "/v1/convert", {"pinyin": "ni ha"})) != "你好"
    assert first(post(shipped_client, "/v1/convert", {"pinyin": "zongguo"})) != "中国"
    results = post(shipped_client, "/v1/convert/batch",
                   {"inputs": ["zongguo", "nihao"], "fuzzy": ["z/zh"]}).json()["results"]
    assert [r["candidates"][0]["text"] for r in results] == ["中国", "你好"]


def test_the_context_reaches_the_converter(shipped_client):
    """The input goes on from the context's last hanzi; after a comma, a new clause."""
    conv = shipped_client.app.state.converter

    def scores(body):
        response = post(shipped_client, "/v1/convert", {"pinyin": "renmin", **body})
        assert response.status_code == 200, response.text
        return [c["score"] for c in response.json()["candidates"]]

    on_from = [round(c.score, 4) for c in conv.convert("renmin", 5, context="中国")]
    assert scores({"context": "中国"}) == on_from
    assert scores({"context": "中国，"}) == scores({}) != on_from


def test_candidates_are_one_step_of_a_typing_session(shipped_client):
    """/v1/candidates answers what a Session with these keys and context offers: whole
    conversions, then words and hanzi for a prefix, each with the keys it covers."""
    conv = shipped_client.app.state.converter
    response = post(shipped_client, "/v1/candidates",
                    {"keys": "zhongguorenmin", "context": "我爱", "top_k": 3})
    assert response.status_code == 200, response.text
    got = [(c["text"], c["length"]) for c in response.json()["candidates"]]
    session = Session(conv, 3, context="我爱")
    session.type("zhongguorenmin")
    assert got == [(c.text, c.length) for c in session.candidates()]
    assert got[0] == ("中国人民", 14) and ("中国", 8) in got
    # Typing: the last syllable may be unfinished unless the client says otherwise.
    assert post(shipped_client, "/v1/candidates",
                {"keys": "nihaox"}).json()["candidates"][0]["text"].startswith("你好")
    bad = post(shipped_client, "/v1/candidates", {"keys": "ni3v", "abbreviated": False})
    assert bad.status_code == 422 and "position" in bad.json()["detail"]


class SlowConverter:
    """Records how many conversions run at once, and the inputs of each."""

    def __init__(self):
        import threading

        self.lock, self.running, self.most, self.batches = threading.Lock(), 0, 0, []
        self.cleared, self.long, self.most_long = 0, 0, 0

    def clear_caches(self):
        self.cleared += 1

    def convert_many(self, texts, top_k, options=None, contexts=None):
        import time

        from pinyin_hanzi.decode import Candidate

        long = any(len(text) > 5 for text in texts)  # (the lanes' test: short ones are ni0..)
        with self.lock:
            self.running += 1
            self.long += long
            self.most = max(self.most, self.running)
            self.most_long = max(self.most_long, self.long)
            self.batches.append(list(texts))
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
            self.long -= long
        return [[Candidate(f"你好{text}", -1.0)] for text in texts]

    def parse(self, text, options):
        """One syllable per word; `!` is no pinyin."""
        if "!" in text:
            raise PinyinError(f"no pinyin: {text!r}", text.index("!"), "!")
        return None, tuple(frozenset({word}) for word in text.split())


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_conversions_run_at_most_workers_at_once(workers):
    """However many clients there are, `workers` conversions run at a time and the rest wait
    their turn (FastAPI's own pool ran every client's conversion at once); batches and long
    inputs take at most workers - 1 of them, so short ones always have a slot to wait for."""
    from concurrent.futures import ThreadPoolExecutor

    slow = SlowConverter()
    long = " ".join(["ni"] * 20)
    requests = [("/v1/convert/batch", {"inputs": ["ni hao ma"]}),
                ("/v1/convert", {"pinyin": long}),
                ("/v1/convert/batch", {"inputs": ["ni hao ma"]})] * 4 + [
                    ("/v1/convert", {"pinyin": f"ni{i}"}) for i in range(8)]
    with TestClient(create_app(converter=slow, workers=workers)) as client:
        with ThreadPoolExecutor(len(requests)) as pool:
            codes = list(pool.map(lambda r: post(client, *r).status_code, requests))
    assert codes == [200] * len(requests)
    assert slow.most == workers
    assert slow.most_long == max(1, workers - 1)


def test_concurrent_conversions_are_batched_each_answered_on_its_own():
    """/v1/convert requests that wait for the slot are converted in one batch
    (runtime/batching.py), and each gets the answer to its own input."""
    from concurrent.futures import ThreadPoolExecutor

    slow = SlowConverter()
    with TestClient(create_app(converter=slow, workers=1)) as client:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: post(client, "/v1/convert", {
                "pinyin": f"ni{i}", "top_k": 1}).json(), range(8)))
    assert [a["candidates"][0]["text"] for a in answers] == [f"你好ni{i}" for i in range(8)]
    assert sorted(sum(slow.batches, [])) == sorted(f"ni{i}" for i in range(8))
    assert len(slow.batches) < 8


def test_every_batch_input_is_checked_before_any_is_converted():
    """A bad last input fails the batch before the others are converted (they once were,
    and then converted again one by one to find it)."""
    slow = SlowConverter()
    with TestClient(create_app(converter=slow)) as client:
        response = post(client, "/v1/convert/batch", {"inputs": ["ni hao"] * 8 + ["ni!"]})
    assert response.status_code == 422 and response.json()["detail"]["index"] == 8
    assert slow.batches == []


def test_a_batch_needing_more_than_its_time_is_refused_with_retry_after():
    """A batch is charged the conversion time of its inputs: after its first chunk (one
    64-syllable input, 0.05 s), ten such inputs would need 0.5 s, over the 0.1 s allowed."""
    slow = SlowConverter()
    long = " ".join(["ni"] * MAX_INPUT_SYLLABLES)
    with TestClient(create_app(converter=slow, batch_seconds=0.1)) as client:
        refused = post(client, "/v1/convert/batch", {"inputs": [long] * 10})
        short = post(client, "/v1/convert/batch", {"inputs": ["ni hao"] * 10})
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "0.1 s" in refused.json()["detail"]["message"]
    assert short.status_code == 200 and len(short.json()["results"]) == 10
    assert len(slow.batches) == 1 + 1  # the refused batch's first chunk, the short batch


def call_and_leave(app, path: str, body: dict) -> list[dict]:
    """POST `body` to `path` as a client that disconnects once it is sent: what the app
    sends back (to nobody)."""
    import json

    data = json.dumps(body).encode()

    async def call():
        events = [{"type": "http.request", "body": data, "more_body": False}]
        sent = []

        async def receive():
            return events.pop(0) if events else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "http_version": "1.1",
                 "headers": [(b"content-type", b"application/json"),
                             (b"content-length", str(len(data)).encode())],
                 "scheme": "http", "server": ("test", 80), "client": ("test", 1)}
        await app(scope, receive, send)
        return sent

    with TestClient(app) as client:
        return client.portal.call(call)


@pytest.mark.parametrize("path, body", [
    ("/v1/convert/batch", {"inputs": [" ".join(["ni"] * MAX_INPUT_SYLLABLES)] * 4}),
    ("/v1/candidates", {"keys": "ni hao"}),
    ("/v1/convert", {"pinyin": "ni hao"}),
])
def test_nothing_is_converted_once_the_client_has_gone(path, body):
    """The client sends its request and disconnects: when its turn comes, nothing of it is
    converted (a batch's work once went on for a minute after its clients had gone)."""
    slow = SlowConverter()
    sent = call_and_leave(create_app(converter=slow), path, body)
    assert sent[0]["status"] == 499
    assert slow.batches == []


@pytest.mark.parametrize("after, expected", [(10**9, 0), (0.0, 3)])
def test_the_heap_is_trimmed_once_a_burst_is_over(monkeypatch, after, expected):
    """After TRIM_AFTER_SECONDS of conversion, a request that leaves nothing converting or
    waiting gives the freed heap back."""
    from pinyin_hanzi.runtime import server

    trims = []
    monkeypatch.setattr(server, "return_freed_heap", lambda: trims.append(1))
    monkeypatch.setattr(server, "TRIM_AFTER_SECONDS", after)
    monkeypatch.setattr(server, "QUIET_SECONDS", 10**9)  # (the next test's rule)
    slow = SlowConverter()
    with TestClient(create_app(converter=slow)) as client:
        for _ in range(3):
            assert post(client, "/v1/convert", {"pinyin": "ni hao"}).status_code == 200
        assert client.get("/health").status_code == 200
    assert len(trims) == slow.cleared == expected


@pytest.mark.parametrize("least, expected", [(10**9, 0), (0.0, 1)])
def test_memory_is_given_back_once_the_service_is_quiet(monkeypatch, least, expected):
    """The end of a burst that came after the last trim, shorter than TRIM_AFTER_SECONDS, is
    given back once QUIET_SECONDS pass with no conversion (after at least QUIET_TRIM_SECONDS
    of conversion), without another request; once only, until something converts again."""
    import time

    from pinyin_hanzi.runtime import server

    trims = []
    monkeypatch.setattr(server, "return_freed_heap", lambda: trims.append(1))
    monkeypatch.setattr(server, "TRIM_AFTER_SECONDS", 10**9)
    monkeypatch.setattr(server, "QUIET_SECONDS", 0.02)
    monkeypatch.setattr(server, "QUIET_TRIM_SECONDS", least)
    slow = SlowConverter()
    with TestClient(create_app(converter=slow)) as client:
        assert post(client, "/v1/convert", {"pinyin": "ni hao"}).status_code == 200
        deadline = time.monotonic() + 5
        while slow.cleared < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # ten more looks: nothing converted, nothing more to give back
    # (trims: other tests' apps, still serving, may trim too while the constants are patched)
    assert slow.cleared == expected and len(trims) >= expected


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers must be >= 1"):
        create_app(converter=SlowConverter(), workers=-1)


# --- hanzi -> pinyin: the tiny G2P model (tiny_run.shared_g2p_run) -------------------------

@pytest.fixture(scope="module")
def g2p_client(conv, tmp_path_factory):
    from pinyin_hanzi.runtime.transcriber import Transcriber
    from tiny_run import shared_g2p_run

    transcriber = Transcriber.load(shared_g2p_run(tmp_path_factory)[0] / "model", threads=1)
    with TestClient(create_app(converter=conv, transcriber=transcriber)) as client:
        yield client, transcriber


@pytest.mark.parametrize("body", [{"text": "银行行走"}, {"text": "重要，长度", "style": "tone"},
                                  {"text": "一个不对", "sandhi": True},
                                  {"text": "我ABC", "errors": "ignore"}])
def test_pinyin_answers_as_the_transcriber(g2p_client, body):
    client, transcriber = g2p_client
    response = post(client, "/v1/pinyin", body)
    assert response.status_code == 200, response.text
    options = {k: v for k, v in body.items() if k != "text"}
    assert response.json() == {"text": body["text"],
                               "pinyin": transcriber.pinyin(body["text"], **options)}


@pytest.mark.parametrize("body, field", [
    ({"text": ""}, "text"), ({"text": "我" * 5_001}, "text"), ({"text": 5}, "text"),
    ({"text": "我", "style": "tone4"}, "style"), ({"text": "我", "sandhi": 1}, "sandhi"),
    ({"text": "我", "errors": "skip"}, "errors"), ({"text": "我", "top_k": 5}, "top_k"),
    ({}, "text")])
def test_pinyin_rejects_bad_requests_naming_the_field(g2p_client, body, field):
    response = post(g2p_client[0], "/v1/pinyin", body)
    assert response.status_code == 422
    assert field in response.json()["detail"][0]["loc"]


def test_the_longest_text_fits_the_body_cap_however_it_is_escaped(g2p_client):
    """5,000 non-BMP hanzi as JSON escapes (12 bytes each) are read, not refused with 413."""
    import json

    from pinyin_hanzi.runtime.server import MAX_BODY_BYTES, MAX_G2P_CHARS

    body = json.dumps({"text": "\U00020000" * MAX_G2P_CHARS, "style": "initials",
                       "sandhi": False, "errors": "replace"}).encode("ascii")
    assert len(body) <= MAX_BODY_BYTES
    response = g2p_client[0].post("/v1/pinyin", content=body,
                                  headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text[:200]
    assert len(response.json()["pinyin"]) == 1  # one non-hanzi run, in hex


def test_pinyin_strict_names_what_is_not_hanzi_and_survives_a_lone_surrogate(g2p_client):
    client = g2p_client[0]
    response = post(client, "/v1/pinyin", {"text": "你们abc", "errors": "strict"})
    assert response.status_code == 422
    assert response.json()["detail"] == {"message": "'abc' at 2 is not hanzi (errors='strict')",
                                          "position": 2, "span": "abc"}
    response = client.post("/v1/pinyin", content=b'{"text": "\\ud800\\u4f60"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "text"


def test_no_cross_origin_access_unless_asked(client):
    """CORS is off: a page of another origin gets no Access-Control-Allow-Origin, and its
    preflight is not answered with one either."""
    origin = {"Origin": "https://elsewhere.example"}
    answer = client.post("/v1/convert", json={"pinyin": "nihao"}, headers=origin)
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    preflight = client.options("/v1/convert", headers={
        **origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_the_web_page_shows_text_as_text():
    """What the page shows (candidates, the keys, error messages that quote the input) is
    set as text, never parsed as HTML."""
    from pinyin_hanzi.runtime.server import PAGE

    page = PAGE.read_text(encoding="utf-8")
    assert "textContent" in page
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in page, sink
