"""Faults: `prepare`, `lm` and `export` killed with SIGKILL part-way, then run again, end with
what one uninterrupted run writes, and nothing half-written is ever loaded in between.
(Training's kill-and-resume is in test_train.py; the user history's crash mid-write in
runtime/test_history.py.)

Each command runs in a subprocess of the real CLI on the tiny corpus and model and is killed
after a delay drawn across its run time (imports, reading, writing), so the kills land in
different phases; the check is the same for every delay.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pinyin_hanzi.decode import DecodeConfig
from pinyin_hanzi.lm.ngram import CharNgram
from pinyin_hanzi.lm.words import WordLM
from pinyin_hanzi.runtime.converter import Converter
from tiny_run import corpus_lines, one_thread, shared_data, shared_run

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
DELAYS = (0.8, 2.0)  # seconds after the start; the commands run for ~2-8 s here


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "pinyin_hanzi.cli", *map(str, args)]


def killed_after(args: list[str], delay: float, env: dict = ENV):
    """Start `args`, SIGKILL it after `delay` s (if it is still running)."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        proc.wait(delay)
    except subprocess.TimeoutExpired:
        proc.kill()
    proc.wait()


def run(args: list[str], env: dict = ENV):
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def digests(root: Path, names=None) -> dict[str, str]:
    """sha256 of every file under root (or of the named ones), by relative path."""
    files = [root / n for n in names] if names else sorted(p for p in root.rglob("*")
                                                           if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults-corpus")
    (root / "corpus.txt").write_text("\n".join(corpus_lines(3000)) + "\n", encoding="utf-8")
    (root / "bench.tsv").write_text("zhe shi ce shi\t这是测试\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("delay", DELAYS)
def test_prepare_killed_then_run_again_writes_what_one_run_writes(corpus, tmp_path, delay):
    args = ["prepare", "--sources", "", "--text", corpus / "corpus.txt", "--workers", "1"]
    env = {**ENV, "PINYIN_HANZI_BENCH_DIR": str(corpus)}  # not the repository's benchmarks
    run(cli(*args, "--out", tmp_path / "once"), env)
    killed_after(cli(*args, "--out", tmp_path / "twice"), delay, env)
    # Whatever the kill left, no data directory is half there: complete, or absent.
    if (tmp_path / "twice").exists():
        assert (tmp_path / "twice" / "manifest.json").is_file()
    run(cli(*args, "--out", tmp_path / "twice"), env)
    once, twice = digests(tmp_path / "once"), digests(tmp_path / "twice")
    once.pop("manifest.json"), twice.pop("manifest.json")  # it records its own paths and time
    assert once == twice


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    with one_thread():
        return shared_run(tmp_path_factory) / "model", shared_data(tmp_path_factory)


LM_FILES = ("ngram.npz", "wordlm.npz", "decode.json")


@pytest.mark.parametrize("delay", DELAYS)
def test_lm_killed_then_run_again_writes_what_one_run_writes(tiny_model, tmp_path, delay):
    model, data = tiny_model
    args = ["lm", "--data", data, "--sources", "", "--dev-clauses", 50]
    once, twice = tmp_path / "once", tmp_path / "twice"
    shutil.copytree(model, once)
    shutil.copytree(model, twice)
    run(cli(*args, "--model", once))
    killed_after(cli(*args, "--model", twice), delay)
    # Each file the kill left is whole: it loads.
    if (twice / "ngram.npz").exists():
        CharNgram.load(twice / "ngram.npz")
    if (twice / "wordlm.npz").exists():
        WordLM.load(twice / "wordlm.npz")
    if (twice / "decode.json").exists():
        DecodeConfig.read(twice / "decode.json")
    run(cli(*args, "--model", twice))
    assert digests(once, LM_FILES) == digests(twice, LM_FILES)
    assert not [p.name for p in twice.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("delay", DELAYS)
def test_export_killed_then_run_again_converts_as_one_run(tiny_model, tmp_path, delay):
    model, _ = tiny_model
    once, twice = tmp_path / "once", tmp_path / "twice"
    shutil.copytree(model, once)
    shutil.copytree(model, twice)
    run(cli("export", "--model", once))
    killed_after(cli("export", "--model", twice), delay)
    run(cli("export", "--model", twice))
    assert digests(once, ["model.int8.head.npz"]) == digests(twice, ["model.int8.head.npz"])
    inputs = ["nihao", "wo men jin tian", "zhong guo", "yin hang"]
    with one_thread():
        a = Converter.load(once, backend="onnx").convert_many(inputs, 3)
        b = Converter.load(twice, backend="onnx").convert_many(inputs, 3)
    assert [[c.text for c in x] for x in a] == [[c.text for c in x] for x in b]
    assert not [p.name for p in twice.iterdir() if ".tmp" in p.name]
