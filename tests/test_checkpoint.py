"""Tests for pinyin_hanzi.checkpoint: the model-directory contract, atomic saves, and the errors
`load_model` gives for every missing or corrupt file, and the training checkpoints' sums and
what the resume picker skips (resuming itself is tested with training in test_resume.py).

A randomly initialised tiny model is enough here: nothing is trained.
"""

import json
import logging
import re
from collections import Counter

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from pinyin_hanzi.checkpoint import (COMPLETE, COMPLETE_FORMAT, FORMAT, HEAD_FILE, INT8_FILE,
                                     ModelDirError, checkpoint_problem, last_good_checkpoint,
                                     load_model, mark_complete, read_model_meta, read_weights,
                                     save_model)
from pinyin_hanzi.model import PRESETS, ModelConfig, PinyinHanziModel
from pinyin_hanzi.vocab import Vocab

TEXT = "你好中国银行行走重要重新"
READINGS = "ni hao zhong guo yin hang xing zou zhong yao chong xin".split()


def make_vocab(text: str = TEXT, readings: list[str] = READINGS) -> Vocab:
    return Vocab.build(Counter(text), Counter(zip(readings, text)), min_count=1)


def make_model(vocab: Vocab, **overrides) -> PinyinHanziModel:
    torch.manual_seed(0)
    config = ModelConfig(**{**PRESETS["tiny"], **overrides}, input_size=vocab.input_size,
                         n_hanzi=len(vocab.hanzi))
    return PinyinHanziModel(config, vocab).eval()


def inputs(vocab: Vocab, syllables: str = "ni hao zhong guo yin hang") -> torch.Tensor:
    return torch.tensor([[vocab.syllable_token(s) for s in syllables.split()]])


@pytest.fixture
def saved(tmp_path):
    vocab = make_vocab()
    model = make_model(vocab)
    save_model(model, vocab, tmp_path / "model", training={"note": "测试"})
    return model, vocab, tmp_path / "model"


def test_round_trip_gives_identical_logits(saved):
    model, vocab, path = saved
    loaded, loaded_vocab = load_model(path)
    assert not loaded.training
    assert loaded.config == model.config
    assert loaded_vocab.candidates == vocab.candidates and loaded_vocab.hanzi == vocab.hanzi
    ids = inputs(vocab)
    with torch.no_grad():
        assert torch.equal(loaded(ids)["logits"], model(ids)["logits"])


def test_directory_holds_plain_files_and_nothing_else(saved):
    _, _, path = saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["model"]  # no .tmp- / .old- left
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json", "model.safetensors", "training.json", "vocab.json"]
    assert json.loads((path / "config.json").read_text())["format"] == FORMAT
    assert json.loads((path / "training.json").read_text()) == {"note": "测试"}
    assert "allowed" not in load_file(path / "model.safetensors")  # rebuilt from the vocab


def test_save_replaces_an_existing_directory(saved, tmp_path):
    _, vocab, path = saved
    (path / "stale.txt").write_text("from an older save")
    other = make_model(vocab, d_ff=48)
    save_model(other, vocab, path)
    assert not (path / "stale.txt").exists() and not (path / "training.json").exists()
    assert load_model(path)[0].config.d_ff == 48
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_save_writes_float32_whatever_the_training_precision(tmp_path):
    vocab = make_vocab()
    model = make_model(vocab)
    save_model(model.to(torch.bfloat16), vocab, tmp_path / "model")
    assert {t.dtype for t in load_file(tmp_path / "model" / "model.safetensors").values()} == {
        torch.float32}
    loaded, _ = load_model(tmp_path / "model")
    assert torch.equal(loaded.tok_emb.weight, model.tok_emb.weight.float())


def test_half_precision_save_loads_as_float32_with_extra_files(tmp_path):
    vocab = make_vocab()
    model = make_model(vocab)
    extra = tmp_path / "decode.json"
    extra.write_text('{"lm_weight": 0.5}')
    save_model(model, vocab, tmp_path / "model", precision="fp16",
               extra_files=(extra,))
    assert {t.dtype for t in load_file(tmp_path / "model" / "model.safetensors").values()} == {
        torch.float16}
    assert (tmp_path / "model" / "decode.json").read_text() == '{"lm_weight": 0.5}'
    loaded, _ = load_model(tmp_path / "model")
    assert loaded.tok_emb.weight.dtype == torch.float32
    with torch.no_grad():
        a, b = model(inputs(vocab))["logits"], loaded(inputs(vocab))["logits"]
    finite = torch.isfinite(a)
    assert torch.equal(finite, torch.isfinite(b))
    assert torch.allclose(a[finite], b[finite], atol=1e-2)
    assert not torch.equal(a[finite], b[finite])  # it really was rounded to fp16


def test_int8_save_keeps_each_weight_within_half_a_step_of_its_row(tmp_path):
    vocab = make_vocab()
    model = make_model(vocab)
    with torch.no_grad():
        model.pos_emb.weight[3] = 0  # an all-zero row: no division by a zero scale
    save_model(model, vocab, tmp_path / "model", precision="int8")
    stored = load_file(tmp_path / "model" / "model.safetensors")
    assert stored["tok_emb.weight"].dtype == torch.int8
    assert stored["head_bias"].dtype == torch.float16
    with safe_open(tmp_path / "model" / "model.safetensors", "pt") as f:
        assert f.metadata()["precision"] == "int8"
    loaded, _ = load_model(tmp_path / "model")
    assert torch.equal(loaded.pos_emb.weight[3], torch.zeros(model.config.d_model))
    for name, before in model.state_dict().items():
        after = loaded.state_dict()[name]
        if before.dim() == 2:
            step = before.abs().amax(dim=1, keepdim=True) / 127
            assert ((after - before).abs() <= step / 2 + 1e-6).all(), name
        else:
            assert torch.allclose(after, before, atol=1e-3), name
    with torch.no_grad():
        a, b = model(inputs(vocab))["logits"], loaded(inputs(vocab))["logits"]
    finite = torch.isfinite(a)
    assert torch.equal(finite, torch.isfinite(b))
    assert (a[finite] - b[finite]).abs().max() < 0.05
    assert torch.equal(a.argmax(-1), b.argmax(-1))


def test_every_precision_reads_back_as_float32(tmp_path):
    vocab = make_vocab()
    model = make_model(vocab)
    for precision, atol in (("fp32", 0), ("fp16", 1e-3), ("int8", 1e-2)):
        save_model(model, vocab, tmp_path / precision, precision=precision)
        weights = read_weights(tmp_path / precision)
        assert weights.keys() == model.state_dict().keys()  # the scales are not weights
        for name, w in weights.items():
            assert w.dtype == torch.float32
            assert torch.allclose(w, model.state_dict()[name], atol=atol, rtol=0), name
    with pytest.raises(ValueError, match="precision"):
        save_model(model, vocab, tmp_path / "bf16", precision="bf16")


def _rewrite_weights(change):
    def corrupt(path):
        state = load_file(path / "model.safetensors")
        change(state)
        save_file(state, path / "model.safetensors")
    return corrupt


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("tok_emb.weight"), "tok_emb.weight.int8_scale scales no int8 tensor"),
        (lambda s: s.pop("tok_emb.weight.int8_scale"), "tok_emb.weight: int8 without a scale"),
        (lambda s: s.update({"tok_emb.weight.int8_scale": s["tok_emb.weight.int8_scale"][:-1]}),
         "tok_emb.weight: int8 without a scale per row"),
        (lambda s: s.update({"head_bias.int8_scale": s["head_bias"].clone()}),
         "head_bias.int8_scale scales no int8 tensor"),
    ],
)
def test_int8_scale_errors_name_the_file(tmp_path, change, message):
    vocab = make_vocab()
    save_model(make_model(vocab), vocab, tmp_path / "model", precision="int8")
    _rewrite_weights(change)(tmp_path / "model")
    with pytest.raises(ModelDirError, match="model.safetensors: corrupt") as error:
        load_model(tmp_path / "model")
    assert message in str(error.value)
    assert str(tmp_path / "model") in str(error.value)


def _truncate(path):
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[:len(data) // 2])


def _rewrite_config(change):
    def corrupt(path):
        meta = json.loads((path / "config.json").read_text())
        change(meta)
        (path / "config.json").write_text(json.dumps(meta))
    return corrupt


def _drop_tensor(name):
    def corrupt(path):
        state = load_file(path / "model.safetensors")
        del state[name]
        save_file(state, path / "model.safetensors")
    return corrupt


def _other_vocab(path):
    make_vocab(TEXT + "人", READINGS + ["ren"]).save(path / "vocab.json")


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda p: (p / "vocab.json").unlink(), "missing vocab.json"),
        (lambda p: (p / "config.json").unlink(), "missing config.json"),
        (lambda p: (p / "model.safetensors").unlink(), "missing model.safetensors"),
        (_truncate, "model.safetensors: corrupt"),
        (lambda p: (p / "model.safetensors").write_bytes(b""), "model.safetensors: corrupt"),
        (_rewrite_config(lambda m: m.update(format="pinyin-hanzi-model/0")),
         "config.json: format 'pinyin-hanzi-model/0'"),
        (lambda p: (p / "config.json").write_text("{not json"), "config.json: corrupt"),
        (lambda p: (p / "config.json").write_text("[]"), "config.json: corrupt"),
        (lambda p: (p / "config.json").write_text("null"), "config.json: corrupt"),
        (lambda p: (p / "config.json").write_bytes(b"\xff\xfe"), "config.json: corrupt"),
        (_rewrite_config(lambda m: m.pop("model")), "config.json: corrupt"),
        (_rewrite_config(lambda m: m["model"].update(n_experts=8)), "config.json: corrupt"),
        (_rewrite_config(lambda m: m["model"].update(n_head=3)), "config.json: corrupt"),
        # Weights that do not fit the config: wrong shapes, a missing tensor.
        (_rewrite_config(lambda m: m["model"].update(d_ff=128)),
         "model.safetensors: does not match config.json"),
        (_rewrite_config(lambda m: m["model"].update(n_layer=3)), "blocks.2."),
        (_drop_tensor("head_bias"), "does not match config.json (head_bias)"),
        (lambda p: (p / "vocab.json").write_text("{}"), "vocab.json"),
        (_other_vocab, "vocab.json"),  # a vocabulary of another size than the config says
    ],
)
def test_load_errors_name_the_file(saved, corrupt, message):
    _, _, path = saved
    corrupt(path)
    with pytest.raises(ModelDirError) as error:
        load_model(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("name, message", [("nothing-here", "no such directory"),
                                           ("file.txt", "not a model directory")])
def test_load_of_something_that_is_not_a_directory(tmp_path, name, message):
    (tmp_path / "file.txt").write_text("你好")
    with pytest.raises(ModelDirError, match=f"{name}: {message}"):
        load_model(tmp_path / name)


def test_a_run_directory_or_an_adapter_given_as_the_model_says_what_to_give(saved, tmp_path):
    """`--model RUN` (or `--init RUN`) said only "missing config.json, model.safetensors,
    vocab.json"."""
    import shutil

    _, _, path = saved
    shutil.copytree(path, tmp_path / "run" / "model")
    with pytest.raises(ModelDirError, match=r"a training run: its model is .*run/model"):
        load_model(tmp_path / "run")
    (tmp_path / "lora" / "adapter").mkdir(parents=True)
    (tmp_path / "lora" / "adapter" / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelDirError, match=r"a LoRA training run: .* as --adapter"):
        load_model(tmp_path / "lora")
    with pytest.raises(ModelDirError, match=r"a LoRA adapter: .* with --adapter"):
        load_model(tmp_path / "lora" / "adapter")


def test_exported_files_missing_say_how_to_write_them(saved):
    """`convert --backend onnx` on a model not exported (or exported --no-int8) said only
    "missing model.int8.onnx, model.int8.head.npz"."""
    _, _, path = saved
    with pytest.raises(ModelDirError, match=re.escape(
            f"missing {INT8_FILE}, {HEAD_FILE} (`pinyin-hanzi export --model {path}` writes "
            "them)")):
        read_model_meta(path, INT8_FILE, HEAD_FILE)


def test_a_g2p_model_given_as_the_model_is_named_as_one(saved):
    """The shipped G2P model (int8 only) was refused for "missing model.safetensors", as if
    it were a damaged conversion model."""
    _, _, path = saved
    meta = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**meta, "format": "pinyin-hanzi-g2p/1"}))
    (path / "model.safetensors").unlink()
    with pytest.raises(ModelDirError, match=r"format 'pinyin-hanzi-g2p/1', expected "
                                            r".*\(a G2P model, hanzi -> pinyin"):
        load_model(path)


# --- training checkpoints: the sums in COMPLETE and what the resume picker skips ----------------


def make_checkpoint(path, marker: str = "sums"):
    """A checkpoint directory of the files Trainer writes, marked as `mark_complete` does (or,
    "ok", as it did before the sums)."""
    path.mkdir(parents=True)
    save_file({"w": torch.arange(64, dtype=torch.float32)}, path / "model.safetensors")
    torch.save({"state": {0: {"exp_avg": torch.ones(64)}}}, path / "optimizer.pt")
    torch.save({"last_epoch": 3}, path / "scheduler.pt")
    torch.save({"cpu": torch.get_rng_state()}, path / "rng_state.pth")
    (path / "trainer_state.json").write_text(json.dumps({"global_step": 10}))
    if marker == "sums":
        mark_complete(path)
    else:
        (path / COMPLETE).write_text("ok\n")
    return path


def cut_in_half(path):
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])


def flip_bytes(path):
    data = bytearray(path.read_bytes())
    data[-40:] = bytes(b ^ 0xFF for b in data[-40:])  # inside the weights, past the header
    path.write_bytes(bytes(data))


# (file, damage, what the sums say, whether a COMPLETE of before the sums ("ok") finds it too)
DAMAGE = [
    ("model.safetensors", cut_in_half, "bytes, ", True),
    ("optimizer.pt", cut_in_half, "bytes, ", True),
    ("scheduler.pt", cut_in_half, "bytes, ", True),
    ("trainer_state.json", cut_in_half, "bytes, ", True),
    ("rng_state.pth", lambda p: p.write_bytes(b""), "is 0 bytes", True),
    ("model.safetensors", flip_bytes, "SHA-256 differs", False),  # still a valid file
    ("optimizer.pt", lambda p: p.unlink(), "is missing", False),  # no list says it was there
]


@pytest.mark.parametrize("marker", ["sums", "ok"])
@pytest.mark.parametrize("name, spoil, says, ok_finds", DAMAGE)
def test_a_damaged_checkpoint_file_is_named(tmp_path, marker, name, spoil, says, ok_finds):
    checkpoint = make_checkpoint(tmp_path / "checkpoint-10", marker)
    assert checkpoint_problem(checkpoint) is None
    spoil(checkpoint / name)
    problem = checkpoint_problem(checkpoint)
    if marker == "ok" and not ok_finds:
        assert problem is None
    else:
        assert problem.startswith(str(checkpoint / name))
        assert marker == "ok" or says in problem


@pytest.mark.parametrize("content", ["", "{", '{"format": "other", "files": {}}', "[1]"])
def test_an_unreadable_complete_marker_is_named(tmp_path, content):
    checkpoint = make_checkpoint(tmp_path / "checkpoint-10")
    (checkpoint / COMPLETE).write_text(content)
    assert str(checkpoint / COMPLETE) in checkpoint_problem(checkpoint)


def test_the_sums_list_every_file_with_its_size(tmp_path):
    checkpoint = make_checkpoint(tmp_path / "checkpoint-10")
    listed = json.loads((checkpoint / COMPLETE).read_text())
    assert listed["format"] == COMPLETE_FORMAT
    assert sorted(listed["files"]) == ["model.safetensors", "optimizer.pt", "rng_state.pth",
                                       "scheduler.pt", "trainer_state.json"]
    assert listed["files"]["optimizer.pt"]["bytes"] == (checkpoint / "optimizer.pt").stat().st_size


def test_the_picker_falls_back_past_damaged_checkpoints_and_says_why(tmp_path, caplog):
    make_checkpoint(tmp_path / "checkpoint-10")
    make_checkpoint(tmp_path / "checkpoint-20")
    make_checkpoint(tmp_path / "checkpoint-30")
    cut_in_half(tmp_path / "checkpoint-30" / "optimizer.pt")
    (tmp_path / "checkpoint-20" / "rng_state.pth").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="pinyin_hanzi.checkpoint"):
        assert last_good_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "checkpoint-30/optimizer.pt" in lines[0] and "resuming from checkpoint-10" in lines[0]
    assert "checkpoint-20/rng_state.pth is 0 bytes" in lines[1]
    cut_in_half(tmp_path / "checkpoint-10" / "model.safetensors")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pinyin_hanzi.checkpoint"):
        assert last_good_checkpoint(tmp_path) is None
    assert "no checkpoint before it is whole" in caplog.records[-1].getMessage()


def test_a_truncated_vocabulary_names_its_path_once(saved):
    """Half a vocab.json: the error names the file once (it was named twice, as the model
    directory's and as Vocab.load's)."""
    _, _, path = saved
    text = (path / "vocab.json").read_text(encoding="utf-8")
    (path / "vocab.json").write_text(text[:len(text) // 2], encoding="utf-8")
    with pytest.raises(ModelDirError, match="not a valid vocabulary file") as error:
        load_model(path)
    assert str(error.value).count("vocab.json") == 1
