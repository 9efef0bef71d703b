"""Tests for pinyin_hanzi.runtime.cluster: `serve --processes 2` for real, on a free port.
Connections are dealt to the workers in turn, each worker answers, a worker that dies is
replaced, and SIGTERM ends them all."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tiny_run import shared_run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).json().get("model_loaded"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"no answer from {url} in {timeout} s")


def pids_of_connections(url: str, n: int) -> list[int]:
    """Open n keep-alive connections at once; the worker pid each is served by (asked twice
    on the same connection: it stays with its worker)."""
    clients = [httpx.Client(base_url=url, timeout=10) for _ in range(n)]
    try:
        for c in clients:  # one connection each, opened in this order
            c.get("/health")
        pids = [c.get("/health").json()["pid"] for c in clients]
        assert pids == [c.get("/health").json()["pid"] for c in clients]
        return pids
    finally:
        for c in clients:
            c.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = shared_run(tmp_path_factory) / "model"
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "pinyin_hanzi.cli", "serve", "--model",
                                str(model), "--port", str(port), "--processes", "2"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        healthy(url)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_connections_are_dealt_in_turn_and_each_worker_converts(server):
    _, url = server
    pids = pids_of_connections(url, 6)
    assert len(set(pids)) == 2 and pids.count(pids[0]) == 3  # 3 and 3, not who-wins-accept
    with httpx.Client(base_url=url, timeout=10) as c:
        answer = c.post("/v1/convert", json={"pinyin": "nihao", "top_k": 2})
        bad = c.post("/v1/convert", json={"pinyin": "ni3v"})
    assert answer.status_code == 200 and 1 <= len(answer.json()["candidates"]) <= 2
    assert bad.status_code == 422 and "position" in bad.json()["detail"]


def test_a_dead_worker_is_replaced(server):
    process, url = server
    before = set(pids_of_connections(url, 2))
    os.kill(min(before), signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            pids = set(pids_of_connections(url, 4))
        except httpx.HTTPError:  # a connection dealt to the dead one
            pids = set()
        if len(pids) == 2 and min(before) not in pids:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the killed worker was not replaced")
    assert max(before) in pids and process.poll() is None


def test_sigterm_ends_the_parent_and_its_workers(server):
    process, url = server
    workers = set(pids_of_connections(url, 2))
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    output = process.stdout.read().decode(errors="replace")
    assert "Traceback" not in output, output
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_port_in_use_is_one_error_line(tmp_path_factory):
    model = shared_run(tmp_path_factory) / "model"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "pinyin_hanzi.cli", "serve", "--model",
                                 str(model), "--port", str(port), "--processes", "2"],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "in use" in result.stderr
