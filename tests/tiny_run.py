"""Helpers (not tests) for the test files that need prepared data or a trained tiny model.

Hermetic: a seeded corpus of common words is written under a pytest temporary directory and put
through the real `prepare`; the built-in corpora and bench/data are never read. The words
include polyphones (银行/行走, 重要/重新, 长大/长度) and homophones (城市/诚实, 权利/权力), so the
tiny model has something to learn beyond the candidate table.

`shared_run(tmp_path_factory)` trains one tiny model per pytest session and hands the same
directory to every test file that asks (conftest.py belongs to another owner, so no
session-scoped fixture can live there).
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path

WORDS = tuple(
    "我们 你们 他们 今天 明天 银行 行走 重要 重新 学习 工作 中国 北京 上海 天气 很好 喜欢 朋友 "
    "老师 学生 电脑 手机 时间 问题 知道 觉得 应该 可以 已经 开始 一起 非常 长大 长度 音乐 快乐 "
    "生活 城市 诚实 发展 经济 文化 历史 医生 医院 吃饭 睡觉 看书 写字 电影 公司 同学 妈妈 爸爸 "
    "孩子 家里 东西 地方 事情 你好 权利 权力 其中 期中 会议 回忆 游戏 实验 试验".split())

# The tiny training every test file uses unless it says otherwise: a few seconds on one core.
TINY = dict(preset="tiny", sources=(), max_steps=40, batch_size=16, eval_steps=10, lr=3e-3,
            warmup_steps=2, patience=0, precision="fp32", progress=False)


@contextmanager
def one_thread():
    """Run torch on one thread: a tiny model gains nothing from more, and on a 2-core machine
    that is busy training, two spinning threads make a tiny run 30 times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def corpus_lines(n: int = 400, seed: int = 0) -> list[str]:
    """`n` distinct-looking sentences of 1-3 clauses, each clause 2-5 words."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        clauses = ["".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
                   for _ in range(rng.randint(1, 3))]
        lines.append("，".join(clauses) + "。")
    return lines


def prepare_data(root: Path) -> Path:
    """Prepared data (train/dev/test shards + vocab.json) in root/data; returns that path."""
    from pinyin_hanzi.data.prepare import PrepareConfig, prepare

    root.mkdir(parents=True, exist_ok=True)
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
    bench = root / "bench.tsv"  # one unrelated clause: keeps bench/data out of it
    bench.write_text("zhe shi ce shi\t这是测试\n", encoding="utf-8")
    prepare(PrepareConfig(out_dir=root / "data", sources=(), user_files=(str(corpus),),
                          user_traditional=False, bench_files=(bench,), workers=1,
                          dev_fraction=0.1, test_fraction=0.1, min_hanzi_count=1),
            progress=False)
    return root / "data"


_DATA: dict[str, Path] = {}
_RUNS: dict[str, Path] = {}


def shared_data(tmp_path_factory) -> Path:
    """Prepared data built once per pytest session."""
    key = str(tmp_path_factory.getbasetemp())
    if key not in _DATA:
        _DATA[key] = prepare_data(tmp_path_factory.mktemp("tiny-data"))
    return _DATA[key]


def shared_run(tmp_path_factory) -> Path:
    """The run directory of one tiny `convert` training (TINY), trained once per session;
    its model is in `<run>/model`."""
    key = str(tmp_path_factory.getbasetemp())
    if key not in _RUNS:
        from pinyin_hanzi.train import TrainConfig, train

        run = tmp_path_factory.mktemp("tiny-run")
        with one_thread():
            train(TrainConfig(data_dir=shared_data(tmp_path_factory), out_dir=run, **TINY))
        _RUNS[key] = run
    return _RUNS[key]


# Gold marked sentences in the CPP format, from the corpus's words: G2P's gold set.
G2P_GOLD = [("我们▁长▁大", "zhang3"), ("长▁度▁很好", "du4"), ("银▁行▁工作", "hang2"),
            ("▁行▁走", "xing2"), ("很▁重▁要", "zhong4"), ("▁重▁新开始", "chong2")] * 4
_G2P: dict[str, tuple[Path, dict]] = {}


def shared_g2p_run(tmp_path_factory) -> tuple[Path, dict]:
    """(run directory, final metrics) of one tiny G2P training from the tiny model, exported
    (its model is in `<run>/model`), trained once per session."""
    key = str(tmp_path_factory.getbasetemp())
    if key not in _G2P:
        from pinyin_hanzi.export import export_g2p
        from pinyin_hanzi.train import TrainConfig, train

        p2c = shared_run(tmp_path_factory) / "model"
        root = tmp_path_factory.mktemp("g2p")
        (root / "gold.sent").write_text("".join(s + "\n" for s, _ in G2P_GOLD), "utf-8")
        (root / "gold.lb").write_text("".join(r + "\n" for _, r in G2P_GOLD), "utf-8")
        (root / "extra.sent").write_text("银▁行▁\n▁行▁走\n", "utf-8")  # --gold-extra
        (root / "extra.lb").write_text("hang2\nxing2\n", "utf-8")
        with one_thread():
            metrics = train(TrainConfig(
                objective="g2p", init=p2c, data_dir=shared_data(tmp_path_factory),
                out_dir=root / "run", sources=(), gold=root / "gold", gold_dev=6,
                gold_extra=(root / "extra",),
                gold_repeat=2, max_steps=150, batch_size=16, eval_steps=50, lr=3e-3,
                warmup_steps=5, patience=0, precision="fp32", progress=False))
            export_g2p(root / "run" / "model")
        _G2P[key] = root / "run", metrics
    return _G2P[key]
