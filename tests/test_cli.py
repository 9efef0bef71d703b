"""Tests for pinyin_hanzi.cli through typer's CliRunner: what each subcommand prints, and that a
user's mistake exits with status 2 and one `error:` line, never a traceback. The model is the
tiny one tiny_run.py trains once per session; one test also trains through the CLI itself.
"""

import json
import re
import shutil

import pytest
import typer
from typer.testing import CliRunner

from pinyin_hanzi.cli import app
from tiny_run import one_thread, shared_data, shared_run


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return shared_run(tmp_path_factory)


@pytest.fixture(scope="module")
def model(run_dir):
    return str(run_dir / "model")


def invoke(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def assert_user_error(result, *fragments):
    """Exit status 2, one `error:` line on stderr naming every fragment, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


# --- segment ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, best",
    [("xianzai", "xian zai"), ("xi'an", "xi an"), ("fangan", "fan gan"), ("NiHao", "ni hao")],
)
def test_segment_prints_the_best_split_first(text, best):
    result = invoke("segment", text)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"best: {best}"


def test_segment_lists_the_other_splits():
    lines = invoke("segment", "xianzai").stdout.splitlines()
    assert "xi an zai" in [line.strip() for line in lines[1:]]


@pytest.mark.parametrize(
    "text, fragments",
    [("ni好", ["position 2", "'好'"]), ("nihaox", ["position 5", "'x'"])],
)
def test_segment_of_invalid_pinyin_is_a_user_error(text, fragments):
    assert_user_error(invoke("segment", text), *fragments)


# --- convert ---------------------------------------------------------------------------------


def test_convert_prints_one_line_of_candidates(model):
    result = invoke("convert", "--model", model, "--top-k", "3", "nihao")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].split("\t")[0] == "你好"


def test_convert_several_arguments_one_line_each(model):
    result = invoke("convert", "--model", model, "--top-k", "2", "zhongguo", "yin hang")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert [len(line.split("\t")) for line in lines] == [2, 2]
    assert all(len(c) == 2 for line in lines for c in line.split("\t"))


def test_convert_json_lines_from_stdin(model):
    result = invoke("convert", "--model", model, "--json", input="ni hao\n\nzhong guo\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    # "pinyin", as the service names it (it was "input"); the empty line keeps its row.
    assert rows[1] == {"pinyin": "", "candidates": []}
    rows = rows[::2]
    assert [r["pinyin"] for r in rows] == ["ni hao", "zhong guo"]
    for row in rows:
        assert row["candidates"] and all(len(c["text"]) == 2 for c in row["candidates"])
        scores = [c["score"] for c in row["candidates"]]
        assert scores == sorted(scores, reverse=True)
    assert rows[1]["candidates"][0]["text"] == "中国"


def test_convert_of_invalid_pinyin_exits_2_but_converts_the_rest(model):
    result = invoke("convert", "--model", model, input="ni好\nzhong guo\n")
    assert result.exit_code == 2 and "Traceback" not in result.output
    error, rate = result.stderr.strip().splitlines()
    assert error.startswith("error: line 1 'ni好'") and "position 2" in error
    assert result.stdout.split("\n")[0] == ""  # its line, empty
    assert result.stdout.splitlines()[1].startswith("中国")  # zhong guo was still converted
    assert rate.startswith("converted 1 input (1 refused) in ")


def test_convert_answers_one_line_per_input_line_always(model):
    """Results can be pasted beside their inputs: empty, blank and invalid inputs keep their
    line (they were dropped), the errors name the line, and the exit status is 2 at the end."""
    lines = ["nihao", "", "  ", "hao好", "zhongguo", "'"]
    result = invoke("convert", "--model", model, "--top-k", "1", input="\n".join(lines) + "\n")
    assert result.exit_code == 2, result.output
    out = result.stdout.split("\n")
    assert len(out) == len(lines) + 1 and out[-1] == ""
    assert [bool(line) for line in out[:-1]] == [True, False, False, False, True, False]
    errors = [e for e in result.stderr.splitlines() if e.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: line 4 'hao好': not pinyin")
    as_json = invoke("convert", "--model", model, "--json", input="\n".join(lines) + "\n")
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["pinyin"] for r in rows] == lines
    assert "not pinyin" in rows[3]["error"] and rows[3]["candidates"] == []
    assert [bool(r["candidates"]) for r in rows] == [True, False, False, False, True, False]
    args = invoke("convert", "--model", model, "", "nihao", "  ", "zhongguo")
    assert args.exit_code == 0 and args.stdout.split("\n")[:4] == [
        "", args.stdout.split("\n")[1], "", args.stdout.split("\n")[3]]
    assert len(args.stdout.splitlines()) == 4 and "你好" in args.stdout


def test_convert_names_a_stdin_line_that_is_not_utf8(model):
    """It was "not pinyin at position 2: '\\udcff'", as if the byte were a character."""
    result = invoke("convert", "--model", model, input=b"nihao\nni\xffhao\nzhongguo\n")
    assert result.exit_code == 2
    error = result.stderr.splitlines()[0]
    assert error.startswith("error: line 2 ") and "not UTF-8: byte 0xff at offset 2" in error
    assert [bool(line) for line in result.stdout.splitlines()] == [True, False, True]


def test_convert_reads_a_windows_file_from_stdin():
    """A Notepad file: its byte order mark was "not pinyin at position 0" on line 1, and each
    line kept its carriage return (in --json's "pinyin")."""
    result = invoke("convert", "--json", "--top-k", 1,
                    input=b"\xef\xbb\xbfni hao\r\nzhong guo\r\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["pinyin"], r["candidates"][0]["text"]) for r in rows] == [
        ("ni hao", "你好"), ("zhong guo", "中国")]


@pytest.mark.parametrize("command", ["convert", "g2p"])
def test_reading_from_a_terminal_says_so(monkeypatch, command):
    """`pinyin-hanzi convert` with no inputs waited for the terminal without a word."""
    from pinyin_hanzi import cli

    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    result = invoke(command, input="")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("reading one input a line from the terminal (Ctrl-D")
    assert result.stdout == ""


@pytest.mark.parametrize("command, typed", [("convert", "nihao\nzhongguo\n"),
                                            ("g2p", "银行\n长大\n")])
def test_at_a_terminal_each_line_is_answered_as_it_is_typed(monkeypatch, command, typed):
    """Typed lines were answered only after 256 of them, or Ctrl-D: as if hung."""
    from pinyin_hanzi import cli
    from pinyin_hanzi.runtime.converter import Converter
    from pinyin_hanzi.runtime.transcriber import Transcriber

    owner, name = (Converter, "convert_many") if command == "convert" else (Transcriber,
                                                                           "pinyin_many")
    batches, convert = [], getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda self, texts, *args, **kwargs: (
        batches.append(len(texts)), convert(self, texts, *args, **kwargs))[1])
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    result = invoke(command, input=typed)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2 and max(batches) == 1


def test_convert_cuts_long_input_at_the_syllable_limit(model):
    """A piped line of any length is converted 64 syllables at a time (10,000 syllables
    in one piece took 12.8 GB); the API refuses more than 64."""
    for count in (32, 33, 200):  # 64 syllables, 66, 400
        result = invoke("convert", "--model", model, "--top-k", "2", "--json",
                        input="nihao" * count + "\n")
        assert result.exit_code == 0, result.output
        cands = json.loads(result.stdout)["candidates"]
        assert 1 <= len(cands) <= 2 and all(len(c["text"]) == 2 * count for c in cands)
        assert cands[0]["text"] == "你好" * count


def test_evaluate_warns_of_gold_in_traditional_hanzi(model, tmp_path):
    """A Taiwan user's file (中國) scored each traditional hanzi as an error, without a word."""
    path = tmp_path / "mine.tsv"
    path.write_text("zhong guo\t中國\nni hao\t你好\n", encoding="utf-8")
    result = invoke("evaluate", "--data", path, "--model", model)
    assert result.exit_code == 0, result.output
    assert f"warning: {path}: 1 line of gold in traditional hanzi" in result.stderr


@pytest.mark.parametrize("top_k", ["0", "21"])
def test_convert_top_k_has_the_services_cap(model, top_k):
    assert_user_error(invoke("convert", "--model", model, "--top-k", top_k, "nihao"),
                      "--top-k must be 1 to 20", top_k)


def test_convert_from_stdin_batches_and_reports_the_rate(model):
    lines = ["ni hao", "zhong guo", "yin hang", "cheng shi", "wo men"] * 3
    batched = invoke("convert", "--model", model, "--batch-size", "4",
                     input="\n".join(lines) + "\n")
    assert batched.exit_code == 0, batched.output
    assert len(batched.stdout.splitlines()) == len(lines)
    assert re.fullmatch(r"converted 15 inputs in [\d.]+ s \([\d.]+ per second, .+\)",
                        batched.stderr.strip())
    one = invoke("convert", "--model", model, input="ni hao\n")
    assert one.stderr.startswith("converted 1 input in ")  # not "1 inputs"
    one_by_one = [invoke("convert", "--model", model, x).stdout for x in lines[:5]]
    assert batched.stdout.splitlines()[:5] == [x.strip() for x in one_by_one]


def test_convert_reads_abbreviated_fuzzy_and_unfinished_pinyin_as_asked():
    # The shipped model: expanding abbreviations takes its word model.
    def best(*args):
        result = invoke("convert", "--top-k", 1, *args)
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    assert best("zgrm") == "中国人民"
    assert best("zongguo", "--fuzzy", "z/zh,n/l") == "中国"
    assert best("zongguo", "--fuzzy", "all") == "中国"
    assert best("ni ha", "--complete-last") == "你好"
    assert_user_error(invoke("convert", "--no-abbreviations", "zgrm"), "'zgrm'", "position 0")
    assert_user_error(invoke("convert", "hello world"), "'hello world'", "no likely reading")


def test_convert_goes_on_from_the_context():
    def scores(*args):
        result = invoke("convert", "--json", "renmin", *args)
        assert result.exit_code == 0, result.output
        return [c["score"] for c in json.loads(result.stdout)["candidates"]]

    assert scores("--context", "中国") != scores() == scores("--context", "中国。")


@pytest.mark.parametrize("pairs", ["z/x", "z/zh,,foo"])
def test_an_unknown_fuzzy_pair_is_a_user_error(pairs):
    assert_user_error(invoke("convert", "--fuzzy", pairs, "nihao"), "--fuzzy", "unknown fuzzy "
                      "pair", "z/zh, c/ch")


def test_fuzzy_pinyin_without_a_word_model_is_a_user_error(model):
    assert_user_error(invoke("convert", "--model", model, "--fuzzy", "n/l", "nihao"),
                      "word model")


def test_convert_with_a_missing_model_names_the_path(tmp_path):
    missing = tmp_path / "nonexistent"
    assert_user_error(invoke("convert", "--model", missing, "nihao"), str(missing))


def test_convert_with_a_broken_model_names_the_file(model, tmp_path):
    broken = tmp_path / "model"
    shutil.copytree(model, broken)
    (broken / "vocab.json").unlink()
    assert_user_error(invoke("convert", "--model", broken, "nihao"), "vocab.json")


# --- evaluate --------------------------------------------------------------------------------


def test_evaluate_prints_the_table(model, tmp_path):
    data = tmp_path / "bench.tsv"
    data.write_text("ni hao\t你好\nzhong guo\t中国\njin tian tian qi hen hao\t今天天气很好\n",
                    encoding="utf-8")
    out = tmp_path / "results.json"
    result = invoke("evaluate", "--model", model, "--data", data, "--json", out)
    assert result.exit_code == 0, result.output
    assert "evaluation" in result.stdout
    header = next(line for line in result.stdout.splitlines() if "clauses" in line)
    for column in ("file", "char %", "top-1 %", "top-5 %", "clauses/s"):
        assert column in header
    row = next(line for line in result.stdout.splitlines() if "bench.tsv" in line)
    assert " 3 " in row  # clauses
    assert "bench.tsv by length: 1-4:" in result.stdout
    (saved,) = json.loads(out.read_text(encoding="utf-8"))
    assert saved["clauses"] == 3 and 0 <= saved["char_acc"] <= 1


@pytest.mark.parametrize(
    "content, fragments",
    [
        ("ni hao\t你好\nzhong guo 中国\n", ["bench.tsv:2", "expected 'pinyin<TAB>hanzi'"]),
        ("ni hao\t你好\n\n\t中国\n", ["bench.tsv:3"]),
        ("", ["bench.tsv: no examples"]),
    ],
)
def test_evaluate_of_a_malformed_file_names_the_line(model, tmp_path, content, fragments):
    data = tmp_path / "bench.tsv"
    data.write_text(content, encoding="utf-8")
    assert_user_error(invoke("evaluate", "--model", model, "--data", data), *fragments)


def test_evaluate_of_invalid_pinyin_in_the_file_is_a_user_error(model, tmp_path):
    data = tmp_path / "bench.tsv"
    data.write_text("ni hao\t你好\nni好\t你好\n", encoding="utf-8")
    assert_user_error(invoke("evaluate", "--model", model, "--data", data), "position 2")


# --- plot ------------------------------------------------------------------------------------


def test_plot_writes_both_curves(run_dir, tmp_path):
    shutil.copy(run_dir / "metrics.jsonl", tmp_path / "metrics.jsonl")
    result = invoke("plot", tmp_path)
    assert result.exit_code == 0, result.output
    for name in ("loss.png", "accuracy.png"):
        path = tmp_path / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {path}" in result.stdout


def test_plot_of_a_killed_run_leaves_out_the_line_cut_short(run_dir, tmp_path):
    """A run killed while it appended a line: "metrics.jsonl:N: not JSON", no plot."""
    logged = (run_dir / "metrics.jsonl").read_text()
    (tmp_path / "metrics.jsonl").write_text(logged + '{"step": 99, "lo')
    result = invoke("plot", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "loss.png").is_file()


@pytest.mark.parametrize("content, fragment", [(None, "no metrics"), ("{\n", "metrics.jsonl:1")])
def test_plot_without_usable_metrics_is_a_user_error(tmp_path, content, fragment):
    if content is not None:
        (tmp_path / "metrics.jsonl").write_text(content)
    assert_user_error(invoke("plot", tmp_path), fragment)


# --- g2p (the shipped model) ------------------------------------------------------------------


def test_g2p_reads_a_windows_file_from_stdin():
    """Each line's carriage return came back as one more item, the byte order mark too."""
    result = invoke("g2p", "--json", input=b"\xef\xbb\xbf\xe9\x93\xb6\xe8\xa1\x8c\r\n"
                                          b"\xe9\x95\xbf\xe5\xa4\xa7\r\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        ["yin2", "hang2"], ["zhang3", "da4"]]


def test_g2p_strict_refuses_a_line_and_reads_the_others():
    """One line that is not hanzi took every line's answer with it, and its number."""
    result = invoke("g2p", "--errors", "strict", input="银行\n我们ABC\n长大\n")
    assert result.exit_code == 2
    assert result.stdout.splitlines() == ["yin2 hang2", "", "zhang3 da4"]
    (error,) = result.stderr.splitlines()
    assert error.startswith("error: line 2 '我们ABC': ") and "'ABC' at 2 is not hanzi" in error
    assert_user_error(invoke("g2p", "--style", "x", "我"), "style")


# --- serve -----------------------------------------------------------------------------------


def test_serve_help_lists_its_options():
    result = invoke("serve", "--help")
    assert result.exit_code == 0, result.output
    for option in ("--model", "--host", "--port", "--threads", "--workers", "127.0.0.1", "8000"):
        assert option in result.output
    for route in ("/v1/convert", "/v1/convert/batch", "/v1/candidates", "/v1/pinyin"):
        assert route in result.output


@pytest.mark.parametrize("command", ["convert", "prepare", "g2p", "export", "serve"])
def test_help_shows_no_python_annotations(command):
    """typer printed `<bool>` after each flag and `<list[str]>` after lists."""
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert not re.search(r"<(bool|list\[)", result.output), result.output


def test_serve_keeps_idle_connections_longer_than_clients_do(monkeypatch):
    """uvicorn's default keep-alive (5 s) equals httpx's: both closed an idle connection at
    once, and a request sent on it just then was reset (bench/load.py saw 1-2 per run)."""
    import httpx
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    result = invoke("serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert seen["port"] == 8123 and seen["host"] == "127.0.0.1"
    assert seen["timeout_keep_alive"] > httpx.Limits().keepalive_expiry


@pytest.mark.parametrize("processes", ["1", "2"])
def test_serve_on_a_port_in_use_is_a_user_error(processes):
    """With one process uvicorn logged "address already in use", after loading the model,
    and exited 3."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = invoke("serve", "--port", port, "--processes", processes)
    assert_user_error(result, f"cannot listen on 127.0.0.1 port {port}", "--port")


def test_serve_in_processes_hands_each_the_settings(monkeypatch, model):
    """--processes N deals the connections to N workers (runtime/cluster.py); the settings
    travel in the environment, and a worker's app built from them converts."""
    from fastapi.testclient import TestClient

    from pinyin_hanzi.runtime import cluster
    from pinyin_hanzi.runtime.server import SERVE_ENV, app_from_env

    seen = {}
    monkeypatch.setattr(cluster, "serve_processes", lambda processes, host, port, settings,
                        keep_alive: seen.update(processes=processes, port=port,
                                                settings=settings))
    result = invoke("serve", "--model", model, "--processes", "2", "--workers", "3",
                    "--port", "8124")
    assert result.exit_code == 0, result.output
    assert seen["processes"] == 2 and seen["port"] == 8124
    settings = seen["settings"]
    assert settings["model"] == str(model) and settings["workers"] == 3
    monkeypatch.setenv(SERVE_ENV, json.dumps(settings))
    with TestClient(app_from_env()) as client:
        response = client.post("/v1/convert", json={"pinyin": "nihao"})
    assert response.status_code == 200 and response.json()["candidates"]


def test_serve_names_a_missing_model(tmp_path):
    assert_user_error(invoke("serve", "--model", tmp_path / "nope", "--port", "1"), "nope")


# --- training and the n-gram model, end to end ------------------------------------------------


def test_finetune_then_convert_with_the_new_model(tmp_path_factory, tmp_path):
    data = shared_data(tmp_path_factory)
    result = invoke("finetune", "--data", data, "--out", tmp_path / "run", "--preset", "tiny",
                    "--sources", "", "--max-steps", "6", "--eval-steps", "3",
                    "--batch-size", "8", "--patience", "0")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout.splitlines()[-2])
    assert 0 <= metrics["eval_char_acc"] <= 1 and "eval_loss" in metrics
    assert result.stdout.splitlines()[-1] == f"model saved to {tmp_path / 'run' / 'model'}"
    converted = invoke("convert", "--model", tmp_path / "run" / "model", "zhong guo")
    assert converted.exit_code == 0 and len(converted.stdout.splitlines()) == 1


def test_training_over_a_model_with_language_models_says_they_are_gone(tmp_path_factory,
                                                                       tmp_path):
    """A second finetune into the same --out replaced RUN/model and silently dropped the LMs
    and decode.json that `lm` had put there: conversion went on without them."""
    data = shared_data(tmp_path_factory)
    args = ["finetune", "--data", data, "--out", tmp_path / "run", "--preset", "tiny",
            "--sources", "", "--max-steps", "2", "--eval-steps", "2", "--batch-size", "8"]
    assert invoke(*args).exit_code == 0
    (tmp_path / "run" / "model" / "decode.json").write_text("{}")  # as `lm` leaves it
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "and with it decode.json: run `pinyin-hanzi lm`" in result.stderr
    assert result.stdout.splitlines()[-1].startswith("model saved to")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--preset", "huge"], ["--preset"]),
        (["--batch-size", "0"], ["--batch-size"]),
        (["--sources", "pd98"], ["--sources: 'pd98' not in", "it holds user/corpus.txt"]),
    ],
)
def test_finetune_user_errors(tmp_path_factory, tmp_path, args, fragments):
    data = shared_data(tmp_path_factory)
    result = invoke("finetune", "--data", data, "--out", tmp_path / "run", "--max-steps", "2",
                    "--sources", "", *args)
    assert_user_error(result, *fragments)


def test_training_stopped_with_ctrl_c_says_how_to_go_on(tmp_path_factory, tmp_path,
                                                        monkeypatch):
    """Ctrl-C ended a training command without a word, as if nothing were kept."""
    import pinyin_hanzi.train

    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setattr(pinyin_hanzi.train, "train", interrupted)
    result = invoke("finetune", "--data", shared_data(tmp_path_factory), "--out",
                    tmp_path / "run", "--max-steps", "2", "--sources", "")
    assert result.exit_code == 130, result.output
    assert result.stderr == (f"interrupted: the same command with --resume goes on from the "
                             f"last checkpoint in {tmp_path / 'run' / 'checkpoints'} "
                             f"(if one was saved)\n")


def test_ngram_command_writes_a_loadable_model(tmp_path_factory, tmp_path):
    from pinyin_hanzi.lm.ngram import CharNgram

    out = tmp_path / "ngram.npz"
    result = invoke("ngram", "--data", shared_data(tmp_path_factory), "--out", out,
                    "--sources", "")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2-gram with ") and str(out) in result.stdout
    assert CharNgram.load(out).logprob("银", "行") > CharNgram.load(out).logprob("银", "走")


def test_prepare_prints_the_report(tmp_path):
    corpus = tmp_path / "mine.txt"
    corpus.write_text("我们今天去银行办事。\n他重新开始了重要的工作。\n", encoding="utf-8")
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "b.tsv").write_text("zhong yao\t重要\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["prepare", "--sources", "", "--text", str(corpus), "--out", str(tmp_path / "d"),
              "--workers", "1"], env={"PINYIN_HANZI_BENCH_DIR": str(bench)})
    assert result.exit_code == 0, result.output
    assert "user/mine.txt" in result.output and "total" in result.output
    assert (tmp_path / "d" / "manifest.json").is_file()


def test_prepare_names_a_missing_file(tmp_path):
    assert_user_error(invoke("prepare", "--sources", "", "--text", tmp_path / "nope.txt",
                             "--out", tmp_path / "d"), "nope.txt")


def test_finetune_text_prepares_again_when_the_files_change(tmp_path):
    """`finetune --text` reuses RUN/data left by an interrupted run; rerun with other text
    into the same --out, it trained on the old text, silently."""
    from pinyin_hanzi.cli import _prepare_user_text
    from pinyin_hanzi.data.records import iter_records

    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    from tiny_run import corpus_lines

    old.write_text("\n".join(corpus_lines(60, seed=1)) + "\n", encoding="utf-8")
    new.write_text("\n".join(corpus_lines(60, seed=2)) + "\n", encoding="utf-8")
    data = tmp_path / "run" / "data"
    _prepare_user_text([str(old)], data, seed=0)
    _prepare_user_text([str(new)], data, seed=0)
    assert {r["source"] for r in iter_records(data, "train")} == {"user/new.txt"}


def test_finetune_text_too_short_to_hold_out_a_line_says_so(tmp_path):
    """Three lines, none drawn as dev: training said "RUN/data/dev: empty ... give it more
    text, or a larger --dev-fraction", an option finetune does not have."""
    from pinyin_hanzi.cli import _prepare_user_text

    short = tmp_path / "short.txt"
    short.write_text("我们今天去银行办事。\n他重新开始了重要的工作。\n孩子长大了。\n",
                     encoding="utf-8")
    for _ in range(2):  # prepared, then reused
        with pytest.raises(typer.Exit):
            _prepare_user_text([str(short)], tmp_path / "run" / "data", seed=0)


def test_lm_refuses_a_negative_dev_clauses(tmp_path):
    """-1 read as "no dev clauses of 4-32 hanzi" in the data."""
    assert_user_error(invoke("lm", "--model", tmp_path, "--data", tmp_path,
                             "--dev-clauses", "-1"), "--dev-clauses")


@pytest.mark.parametrize("top_k", ["0", "21"])
def test_evaluate_top_k_out_of_range_is_named_as_the_option(model, tmp_path, top_k):
    """It was blamed on the file's first line: "mine.tsv:1: 'ni hao': top_k must be 1 to 20"."""
    path = tmp_path / "mine.tsv"
    path.write_text("ni hao\t你好\n", encoding="utf-8")
    result = invoke("evaluate", "--data", path, "--model", model, "--top-k", top_k)
    assert_user_error(result, f"--top-k must be 1 to 20, got {top_k}")
    assert "mine.tsv:1" not in result.output


def test_evaluate_json_goes_into_a_new_folder_and_a_folder_is_refused_first(model, tmp_path):
    """--json into a folder not yet made ended, after the whole evaluation, in a traceback."""
    path = tmp_path / "mine.tsv"
    path.write_text("ni hao\t你好\n", encoding="utf-8")
    result = invoke("evaluate", "--data", path, "--model", model,
                    "--json", tmp_path / "new" / "out.json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "new" / "out.json").read_text())[0]["clauses"] == 1
    assert_user_error(invoke("evaluate", "--data", path, "--model", model, "--json", tmp_path),
                      "a folder; give a file's path")


def test_ngram_writes_into_a_new_folder(tmp_path_factory, tmp_path):
    """The error named the temporary file beside it: "No such file or directory:
    '.../new/.ngram.npz.tmp-2387306e06c6bc5e'"."""
    out = tmp_path / "new" / "ngram.npz"
    result = invoke("ngram", "--data", shared_data(tmp_path_factory), "--out", out,
                    "--sources", "")
    assert result.exit_code == 0, result.output
    assert out.is_file()


def test_ngram_names_the_sources_the_data_holds(tmp_path_factory, tmp_path):
    """Its default --sources (pd98,reviews) on the user's data: "the 2-grams have a character
    id out of range"."""
    assert_user_error(invoke("ngram", "--data", shared_data(tmp_path_factory),
                             "--out", tmp_path / "n.npz"),
                      "--sources: 'pd98', 'reviews' not in", "it holds user/corpus.txt")
