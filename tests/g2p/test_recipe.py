"""train-g2p's gold data: a marked data set directory (g2pL's layout) as --gold-extra, and
the held-out guard over every gold file, by sentence. A few steps on the tiny model."""

import json

import pytest
from tiny_run import one_thread, shared_data, shared_run

from pinyin_hanzi.train import TrainConfig, train

HELD_OUT = "我们长大以后银▁行▁工作很重要"  # 12 hanzi: CPP test's role


def write_marked(stem, lines):
    stem.with_suffix(".sent").write_text("".join(s + "\n" for s, _ in lines), "utf-8")
    stem.with_suffix(".lb").write_text("".join(r + "\n" for _, r in lines), "utf-8")


@pytest.fixture
def gold_files(tmp_path):
    write_marked(tmp_path / "held", [(HELD_OUT, "hang2")])
    # CPP dev's role: the held-out sentence with another hanzi marked, which was trained on.
    write_marked(tmp_path / "gold", [("我们长大以后银行工作很▁重▁要", "zhong4"),
                                     ("▁行▁走", "xing2"), ("很▁重▁要", "zhong4")])
    g2pl = tmp_path / "g2pl"
    g2pl.mkdir()
    write_marked(g2pl / "train", [("我们▁长▁大", "zhang3"), ("▁长▁度很好", "chang2"),
                                  ("他说我们长大以后银▁行▁工作", "hang2"),  # 10 of CPP test's
                                  ("明天▁重▁新开始学习工作吧", "chong2")])  # 10 of its test's
    write_marked(g2pl / "dev", [("银▁行▁工作", "hang2"), ("很▁重▁要", "zhong4")])
    write_marked(g2pl / "test", [("今天明天▁重▁新开始学习工作", "chong2")])
    return tmp_path


def test_a_data_set_directory_trains_on_its_train_split_and_holds_out_the_rest(
        gold_files, tmp_path_factory, tmp_path, capsys):
    with one_thread():
        metrics = train(TrainConfig(
            objective="g2p", init=shared_run(tmp_path_factory) / "model",
            data_dir=shared_data(tmp_path_factory), out_dir=tmp_path / "run", sources=(),
            gold=gold_files / "gold", gold_dev=1, gold_extra=(gold_files / "g2pl",),
            held_out=(gold_files / "held",), train_examples=50, max_steps=4, batch_size=8,
            eval_steps=4, warmup_steps=1, patience=0, precision="fp32", progress=False))
    assert {"eval_dev_char_acc", "eval_gold_char_acc", "eval_corpus_char_acc",
            "eval_g2pl_char_acc"} <= set(metrics)
    training = json.loads((tmp_path / "run" / "model" / "training.json").read_text())
    assert training["gold"] == {str(gold_files / "gold"): {"kept": 2, "dropped": 1},
                                str(gold_files / "g2pl" / "train"): {"kept": 2, "dropped": 2},
                                "extra_skipped": 0}
    assert f"{gold_files / 'gold'}: 2 marked sentences kept, 1 dropped" in capsys.readouterr().err


def test_without_gold_the_data_set_s_dev_split_picks_the_checkpoint(gold_files,
                                                                     tmp_path_factory):
    from pinyin_hanzi.g2p.recipe import g2p_recipe

    recipe = g2p_recipe(TrainConfig(
        objective="g2p", init=shared_run(tmp_path_factory) / "model",
        data_dir=shared_data(tmp_path_factory), out_dir=gold_files / "run", sources=(),
        gold_extra=(gold_files / "g2pl",), train_examples=50))
    assert set(recipe.eval_set) == {"dev", "corpus"} and len(recipe.eval_set["dev"]) == 2


def test_a_directory_that_is_no_data_set_is_named(gold_files, tmp_path_factory):
    (gold_files / "g2pl" / "dev.lb").unlink()
    with pytest.raises(ValueError, match="g2pl: not a marked data set .*missing dev.lb"):
        train(TrainConfig(objective="g2p", init=shared_run(tmp_path_factory) / "model",
                          data_dir=shared_data(tmp_path_factory), out_dir=gold_files / "run",
                          sources=(), gold_extra=(gold_files / "g2pl",), progress=False))


def test_no_examples_names_the_sources_the_data_holds(tmp_path_factory, tmp_path):
    from pinyin_hanzi.g2p.recipe import g2p_recipe

    with pytest.raises(ValueError, match=r"no G2P training examples; it holds user/corpus.txt "
                                         r"\(--sources '' takes them all\)"):
        g2p_recipe(TrainConfig(objective="g2p", init=shared_run(tmp_path_factory) / "model",
                               data_dir=shared_data(tmp_path_factory), out_dir=tmp_path,
                               sources=("pd98",)))


def test_with_gold_the_picker_pools_its_held_back_part_and_the_data_set_s_dev(
        gold_files, tmp_path_factory):
    from pinyin_hanzi.g2p.recipe import g2p_recipe

    recipe = g2p_recipe(TrainConfig(
        objective="g2p", init=shared_run(tmp_path_factory) / "model",
        data_dir=shared_data(tmp_path_factory), out_dir=gold_files / "run", sources=(),
        gold=gold_files / "gold", gold_dev=1, gold_extra=(gold_files / "g2pl",),
        held_out=(gold_files / "held",), train_examples=50))
    sets = recipe.eval_set
    assert set(sets) == {"dev", "gold", "g2pl", "corpus"}
    # gold_dev=1 of the two kept gold sentences, and as many (1) of g2pL's two dev sentences
    assert (len(sets["gold"]), len(sets["g2pl"]), len(sets["dev"])) == (1, 2, 2)
