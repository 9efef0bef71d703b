"""Tests for adapting a trained model to a user's text (adapt.py, `finetune --text --method`):
accuracy on the user's held-out text moves, LoRA saves only a small adapter, and the adapter
loads back on top of the base model to the same predictions the run measured."""

import json
import random
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from pinyin_hanzi.runtime.converter import Converter
from pinyin_hanzi.cli import app
from pinyin_hanzi.train import TrainConfig, load_examples, train
from tiny_run import TINY, one_thread, shared_run

pytest.importorskip("peft")

# The tiny corpus uses both words of each pair equally; this user only ever writes the second.
USER_WORDS = "诚实 权力 期中 回忆 我们 喜欢 朋友 老师 学生 今天 非常 开始 一起".split()


def user_text(path, n=240, seed=1):
    rng = random.Random(seed)
    lines = ["".join(rng.choice(USER_WORDS) for _ in range(rng.randint(3, 6))) + "。"
             for _ in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def user_data(tmp_path):
    """user_text, prepared as `finetune --text` would (10 % of the lines held out as dev)."""
    from pinyin_hanzi.data.prepare import PrepareConfig, prepare

    data = tmp_path / "data"
    prepare(PrepareConfig(out_dir=data, sources=(), user_files=(str(user_text(
        tmp_path / "mine.txt")),), user_traditional=False, workers=1, dev_fraction=0.1,
        test_fraction=0.0), progress=False)
    return data


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return shared_run(tmp_path_factory) / "model"


@pytest.fixture(scope="module")
def adapted(base, tmp_path_factory):
    """`finetune --text --method lora` from the command line, once for the module."""
    root = tmp_path_factory.mktemp("adapt")
    text = user_text(root / "mine.txt")
    with one_thread():
        result = CliRunner().invoke(app, [
            "finetune", "--init", str(base), "--text", str(text), "--method", "lora",
            "--out", str(root / "run"), "--max-steps", "60", "--batch-size", "16",
            "--lr", "1e-2", "--warmup-steps", "2", "--eval-steps", "20", "--patience", "0"])
    assert result.exit_code == 0, result.output
    return root / "run", result.output


def test_lora_run_reports_and_improves_the_held_out_text(adapted):
    run, output = adapted
    found = re.search(r"dev char accuracy ([\d.]+) -> ([\d.]+)", output)
    assert found, output
    before, after = float(found[1]), float(found[2])
    assert after > before + 5, found[0]
    assert "adapter saved to" in output


def test_lora_saves_only_a_small_adapter(adapted, base):
    run, _ = adapted
    files = {p.name: p.stat().st_size for p in (run / "adapter").iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "base.json"} <= set(files)
    assert files["adapter_model.safetensors"] < 0.25 * (base / "model.safetensors").stat().st_size
    assert not (run / "model").exists()
    assert json.loads((run / "adapter" / "base.json").read_text())["base_model"] == str(base)


def test_adapter_loads_back_to_the_accuracy_the_run_measured(adapted, base):
    """Argmax accuracy of Converter.load(base, adapter=...) on the held-out slice equals the
    final dev accuracy the training run logged: what was saved is what was trained."""
    run, _ = adapted
    final = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    conv = Converter.load(base, adapter=run / "adapter", backend="torch")
    examples = load_examples(run / "data", "dev", conv.vocab, (), conv.max_len)
    inverse = {conv.vocab.syllable_token(s): s for s in conv.vocab.syllables}
    inputs = [[inverse[t] for t in syl] for syl, _, _ in examples]
    right = sum(int(conv.vocab.candidate_array(s)[x.argmax()] == label)
                for syllables, scores, (_, _, labels) in zip(
                    inputs, conv.candidate_scores(inputs), examples)
                for s, x, label in zip(syllables, scores, labels))
    total = sum(len(lab) for _, _, lab in examples)
    assert right / total == pytest.approx(final["eval_char_acc"], abs=1e-9)
    plain = Converter.load(base, backend="torch")
    assert not np.allclose(np.concatenate(plain.candidate_scores(inputs[:1])[0]),
                           np.concatenate(conv.candidate_scores(inputs[:1])[0]))


def test_several_adapters_sit_beside_one_base(adapted, base, tmp_path):
    """A second adapter (another user) loads independently; the base stays untouched."""
    text = user_text(tmp_path / "other.txt", seed=7)
    with one_thread():
        result = CliRunner().invoke(app, [
            "finetune", "--init", str(base), "--text", str(text), "--method", "lora",
            "--out", str(tmp_path / "run2"), "--max-steps", "10", "--batch-size", "16",
            "--eval-steps", "10", "--patience", "0"])
    assert result.exit_code == 0, result.output
    first = Converter.load(base, adapter=adapted[0] / "adapter", backend="torch")
    second = Converter.load(base, adapter=tmp_path / "run2" / "adapter", backend="torch")
    syllables = [["cheng", "shi"]]
    assert not np.allclose(np.concatenate(first.candidate_scores(syllables)[0]),
                           np.concatenate(second.candidate_scores(syllables)[0]))


@pytest.mark.parametrize("method, share", [("full", 1.0), ("freeze", 0.5)])
def test_full_and_frozen_adaptation_save_a_model(method, share, base, tmp_path):
    data = user_data(tmp_path)
    options = {**TINY, "sources": (), "max_steps": 20, "eval_steps": 20}
    options.pop("preset")
    with one_thread():
        metrics = train(TrainConfig(data_dir=data, out_dir=tmp_path / "run", init=base,
                                    method=method, interpolate=share, **options))
    assert "before_char_acc" in metrics and metrics["eval_char_acc"] > 0
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()


def test_an_adapter_loads_only_on_the_base_it_was_trained_on(adapted, base, tmp_path):
    """A model of the same shape with other weights (the same preset retrained, a pretrained
    model beside its fine-tuned one) took the adapter silently: the base was checked by its
    config alone."""
    import shutil

    import torch

    from pinyin_hanzi.checkpoint import load_model, save_model

    adapter = adapted[0] / "adapter"
    shutil.copytree(base, tmp_path / "copy")  # the same weights elsewhere: fine
    Converter.load(tmp_path / "copy", adapter=adapter, backend="torch")
    model, vocab = load_model(base)
    with torch.no_grad():
        model.tok_emb.weight.mul_(1.01)
    save_model(model, vocab, tmp_path / "other")
    with pytest.raises(ValueError, match=f"trained on another base model than "
                                         f"{tmp_path / 'other'}: on {base}"):
        Converter.load(tmp_path / "other", adapter=adapter, backend="torch")
    with pytest.raises(ValueError, match=f"the run's adapter is {adapter}"):
        Converter.load(base, adapter=adapted[0], backend="torch")


def test_adapting_to_hanzi_the_model_lacks_says_so(base, tmp_path, caplog):
    """The base's vocabulary is kept: a user's hanzi it lacks can never be answered, and the
    dev score counted them as errors without a word."""
    from pinyin_hanzi.data.prepare import PrepareConfig, prepare

    text = tmp_path / "travel.txt"
    rng = random.Random(0)
    words = "咖啡 图书馆 飞机 旅行 照片 风景 海边 森林 我们 喜欢".split()
    text.write_text("".join("".join(rng.choice(words) for _ in range(4)) + "。\n"
                            for _ in range(120)), encoding="utf-8")
    prepare(PrepareConfig(out_dir=tmp_path / "data", sources=(), user_files=(str(text),),
                          workers=1, dev_fraction=0.1, test_fraction=0.0), progress=False)
    options = {**TINY, "max_steps": 2, "eval_steps": 2}
    options.pop("preset")
    with one_thread(), caplog.at_level("WARNING"):
        train(TrainConfig(data_dir=tmp_path / "data", out_dir=tmp_path / "run", init=base,
                          **options))
    assert re.search(rf"\d+% of the training text's hanzi \(\d+ of \d+\) are not in {base}'s "
                     "vocabulary: adapting cannot teach them", caplog.text), caplog.text


def test_adapter_errors_are_named(base, tmp_path):
    with pytest.raises(ValueError, match="not an adapter directory"):
        Converter.load(base, adapter=tmp_path, backend="torch")
    with pytest.raises(ValueError, match="backend 'torch'"):
        Converter.load(base, adapter=tmp_path, backend="onnx")
    result = CliRunner().invoke(app, ["finetune", "--text", "x.txt", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--init" in result.output


@pytest.mark.parametrize("other", [["--data", "my_data"], ["--sources", "user/mine.txt"]])
def test_text_with_data_or_sources_is_refused(base, tmp_path, other):
    """--text trains on its own prepared files: --data and --sources beside it were
    ignored without a word."""
    result = CliRunner().invoke(app, ["finetune", "--init", str(base), "--text", "x.txt",
                                      "--out", str(tmp_path), *other])
    assert result.exit_code == 2
    assert "give --text or --data/--sources, not both" in result.output


def test_general_data_is_mixed_in_and_scored_beside_the_domain(base, tmp_path_factory,
                                                                 tmp_path):
    """--general replays general clauses and reports the general dev before/after, so
    forgetting is visible; the domain's dev still picks the best checkpoint."""
    from tiny_run import shared_data

    text = user_text(tmp_path / "mine.txt")
    with one_thread():
        result = CliRunner().invoke(app, [
            "finetune", "--init", str(base), "--text", str(text), "--method", "lora",
            "--general", str(shared_data(tmp_path_factory)), "--general-sources", "",
            "--out", str(tmp_path / "run"), "--max-steps", "10", "--batch-size", "16",
            "--eval-steps", "10", "--patience", "0"])
    assert result.exit_code == 0, result.output
    assert re.search(r"(?<!general )dev char accuracy [\d.]+ -> [\d.]+", result.output)
    assert re.search(r"general dev char accuracy [\d.]+ -> [\d.]+", result.output)
    logged = [json.loads(r) for r in (tmp_path / "run" / "metrics.jsonl").read_text().split("\n")
              if r]
    assert any("eval_general_char_acc" in r for r in logged)
    assert any("eval_dev_char_acc" in r for r in logged)


def test_replay_draws_the_share_asked_for(base, tmp_path_factory):
    from tiny_run import shared_data

    from pinyin_hanzi.checkpoint import load_model
    from pinyin_hanzi.train import _replay

    _, vocab = load_model(base)
    config = TrainConfig(general_dir=shared_data(tmp_path_factory), general_sources=(),
                         general_share=0.25)
    assert len(_replay(config, vocab, 32, 300)) == 100  # 100 of 400 examples are general
    with pytest.raises(ValueError, match="--general-share"):
        TrainConfig(general_share=1.0)
    with pytest.raises(ValueError, match="no training examples"):
        _replay(TrainConfig(general_dir=config.general_dir, general_sources=("nope",)),
                vocab, 32, 300)


def test_interpolation_starts_from_int8_weights_as_loaded(base, tmp_path):
    """An int8 start (save_model precision="int8") is blended as its dequantized weights."""
    import torch

    from pinyin_hanzi.adapt import interpolate
    from pinyin_hanzi.checkpoint import load_model, save_model

    model, vocab = load_model(base)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    save_model(model, vocab, tmp_path / "int8", precision="int8")
    start = load_model(tmp_path / "int8")[0].state_dict()
    interpolate(model, tmp_path / "int8", 0.5)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, (start[name] + trained[name]) / 2)


def test_interpolation_keeps_the_asked_share_of_the_change(base):
    """WiSE-FT: every weight lands at init + w * (trained - init); for LoRA, whose change is
    B @ A, the merged change scales by w. Tied weights are blended once, not twice."""
    import copy

    import torch

    from pinyin_hanzi.adapt import add_lora, interpolate
    from pinyin_hanzi.checkpoint import load_model

    start, _ = load_model(base)
    model, _ = load_model(base)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    interpolate(model, base, 0.25)
    for name, value in model.state_dict().items():
        expected = start.state_dict()[name] + 0.25 * (trained[name] - start.state_dict()[name])
        torch.testing.assert_close(value, expected)

    lora, _ = load_model(base)
    lora = add_lora(lora)
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn_like(p))
    change = {k: v - start.state_dict()[k]
              for k, v in copy.deepcopy(lora).merge_and_unload().state_dict().items()}
    assert any(c.abs().max() > 0 for c in change.values())
    interpolate(lora, base, 0.5)
    for k, v in lora.merge_and_unload().state_dict().items():
        torch.testing.assert_close(v, start.state_dict()[k] + 0.5 * change[k])


def test_interpolation_needs_a_start_and_a_share_in_range():
    with pytest.raises(ValueError, match="--interpolate must be in"):
        TrainConfig(init="x", interpolate=0.0)
    with pytest.raises(ValueError, match="give --init"):
        TrainConfig(interpolate=0.5)


def test_distillation_loss_is_zero_for_the_teacher_itself_and_pulls_back_a_changed_model(base):
    import torch

    from pinyin_hanzi.adapt import distillation_loss
    from pinyin_hanzi.checkpoint import load_model
    from pinyin_hanzi.objectives import Collator, ExampleDataset

    teacher, vocab = load_model(base)
    student, _ = load_model(base)
    ids = [vocab.syllable_token(s) for s in ("wo", "men", "xi", "huan")]
    labels = [vocab.label(h) for h in "我们喜欢"]
    data = ExampleDataset([(np.array(ids, dtype=np.int32), np.array(labels, dtype=np.int32),
                            np.array(labels, dtype=np.int32))] * 2, "convert")
    data.replay_from = 1
    batch = Collator()([data[0], data[1]])
    assert batch["replay"].tolist() == [False, True]
    args = batch["input_ids"], batch["attention_mask"], batch["labels"]
    assert distillation_loss(student, teacher, *args).item() == pytest.approx(0, abs=1e-6)
    with torch.no_grad():
        # Seeded: an unseeded draw made the pull (> 0.01 below) depend on the tests run before.
        student.head_bias.add_(torch.randn(student.head_bias.shape,
                                           generator=torch.Generator().manual_seed(0)))
    loss = distillation_loss(student, teacher, *args)
    assert loss.item() > 0.01
    loss.backward()
    assert student.head_bias.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())


def test_distillation_runs_on_the_replayed_clauses(base, tmp_path_factory, tmp_path):
    from tiny_run import shared_data

    data = user_data(tmp_path)
    options = {**TINY, "sources": (), "max_steps": 6, "eval_steps": 6}
    options.pop("preset")
    with one_thread():
        metrics = train(TrainConfig(data_dir=data, out_dir=tmp_path / "run", init=base,
                                    general_dir=shared_data(tmp_path_factory),
                                    general_sources=(), distill=1.0, **options))
    assert "eval_general_char_acc" in metrics and "before_general_char_acc" in metrics
    with pytest.raises(ValueError, match="--distill"):
        TrainConfig(init=base, distill=1.0)
