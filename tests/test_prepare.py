"""The data runner end to end on small user files: shards, manifest, leakage, determinism."""

import json
from pathlib import Path

import pytest

from pinyin_hanzi.data.export_tsv import export_tsv
from pinyin_hanzi.data.prepare import (PrepareConfig, is_prepared, prepare, report_rows,
                                       unused_sources)
from pinyin_hanzi.data.records import iter_records
from pinyin_hanzi.vocab import Vocab

PLANTED = "银行行长重新出发"  # a "benchmark clause" hidden inside training text

CORPUS = [
    "我们今天去银行办事，行走在大街上。",
    "他重新开始了重要的工作。",
    f"新闻报道说{PLANTED}，引起关注。",  # the clause holding PLANTED must be cut, not the line
    "孩子长大了，身体的长度也变了。",
    "我们今天去银行办事，行走在大街上。",  # an exact duplicate line
    "ＡＢＣ公司的网址是https://example.com，欢迎访问。",
    "这是一个很长的句子用来测试切分是否正确以及数据是否完整。",
    "转发：这是一个很长的句子用来测试切分是否正确以及数据是否完整！",  # a near-duplicate
] + [f"第{i}号文件记录城市变化。" for i in range(40)]  # short: compared whole, digits count


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prep")
    corpus = tmp / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    bench = tmp / "bench.tsv"
    bench.write_text(f"yin hang hang zhang chong xin chu fa\t{PLANTED}\n", encoding="utf-8")
    config = PrepareConfig(out_dir=tmp / "data", sources=(), user_files=(str(corpus),),
                           bench_files=(bench,), workers=1, dev_fraction=0.1,
                           test_fraction=0.1, min_hanzi_count=1)
    manifest = prepare(config, progress=False)
    return config, manifest


def all_records(data_dir: Path) -> list[dict]:
    return [r for split in ("train", "dev", "test") for r in iter_records(data_dir, split)]


def test_planted_benchmark_clause_never_reaches_any_split(prepared):
    config, manifest = prepared
    records = all_records(config.out_dir)
    assert records, "nothing was written"
    assert not [r for r in records if PLANTED in r["text"]]
    # ... but the rest of that line survives: only the clause is cut.
    assert any(r["text"] == "引起关注" for r in records)
    counts = manifest["counts"]["user/corpus.txt"]
    assert counts["clauses cut: contain a benchmark clause"] == 1


def test_duplicates_are_counted_and_dropped(prepared):
    config, manifest = prepared
    texts = [r["text"] for r in all_records(config.out_dir)]
    assert texts.count("行走在大街上") == 1
    assert manifest["counts"]["user/corpus.txt"]["lines dropped: duplicate"] == 1
    assert manifest["counts"]["user/corpus.txt"]["lines dropped: near-duplicate"] == 1
    assert "转发" not in texts
    assert len([t for t in texts if t.endswith("号文件记录城市变化")]) == 40


def test_records_are_cleaned_and_aligned(prepared):
    config, _ = prepared
    by_text = {r["text"]: r for r in all_records(config.out_dir)}
    assert "ABC公司的网址是" in by_text  # full-width ASCII folded; URL removed
    assert not [t for t in by_text if "example" in t]
    record = by_text["我们今天去银行办事"]
    assert record["pinyin"] == ["wo", "men", "jin", "tian", "qu", "yin", "hang", "ban", "shi"]
    assert record["tone3"][5:7] == ["yin2", "hang2"]
    abc = by_text["ABC公司的网址是"]
    assert abc["pinyin"][:3] == [None, None, None] and abc["pinyin"][3] == "gong"


def test_manifest_and_report(prepared):
    config, manifest = prepared
    on_disk = json.loads((config.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["splits"] == manifest["splits"]
    assert sum(manifest["splits"].values()) == len(all_records(config.out_dir))
    assert set(manifest["source_files"]) == {str(Path(config.user_files[0]))}
    rows = report_rows(manifest)
    assert rows[-1][0] == "total" and rows[-1][1] == f"{len(CORPUS)}"
    vocab = Vocab.load(config.out_dir / "vocab.json")
    assert "银" in vocab.candidates["yin"] and "行" in vocab.candidates["xing"]


def test_same_input_gives_the_same_shards(prepared, tmp_path):
    config, _ = prepared
    again = PrepareConfig(**{**config.__dict__, "out_dir": tmp_path / "again"})
    prepare(again, progress=False)
    for split in ("train", "dev", "test"):
        first = sorted((config.out_dir / split).glob("*.jsonl"))
        second = sorted((again.out_dir / split).glob("*.jsonl"))
        assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_documents_never_straddle_splits(prepared):
    config, _ = prepared
    split_of = {}
    for split in ("train", "dev", "test"):
        for r in iter_records(config.out_dir, split):
            assert split_of.setdefault(r["doc"], split) == split


def test_export_tsv_writes_benchmark_format(prepared, tmp_path):
    config, _ = prepared
    out = tmp_path / "train.tsv"
    n = export_tsv(config.out_dir, "train", out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) > 0
    for line in lines:
        pinyin, hanzi = line.split("\t")
        assert len(pinyin.split()) == len(hanzi) and 4 <= len(hanzi) <= 32


@pytest.mark.parametrize("kwargs, message", [
    ({"sources": ("nope",)}, "unknown"),
    ({"sources": (), "user_files": ()}, "nothing to prepare"),
    ({"dev_fraction": 0.7}, "--dev-fraction"),
    ({"shard_lines": 0}, "--shard-lines"),
    ({"workers": -1}, "--workers must be >= 0"),
    ({"exclude_files": (Path("tests"),)}, "--exclude: a folder, not a file: tests"),
])
def test_config_errors_name_the_option(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PrepareConfig(**kwargs)


def test_exclude_files_keep_a_users_eval_text_out(tmp_path):
    """--exclude: clauses of a .tsv or a plain text file reach no split, like benchmarks."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    mine = tmp_path / "mine.txt"  # plain text: its hanzi runs of 4 or more are kept out
    mine.write_text("我们今天去银行办事。短句\n", encoding="utf-8")
    mine_tsv = tmp_path / "mine.tsv"
    mine_tsv.write_text("ta zhong xin kai shi le\t他重新开始了\n", encoding="utf-8")
    config = PrepareConfig(out_dir=tmp_path / "data", sources=(), user_files=(str(corpus),),
                           bench_files=(mine_tsv,),
                           exclude_files=(mine, mine_tsv), workers=1, min_hanzi_count=1)
    manifest = prepare(config, progress=False)
    texts = [r["text"] for r in all_records(config.out_dir)]
    assert texts and not [t for t in texts if "我们今天去银行办事" in t or "他重新开始了" in t]
    assert "行走在大街上" in texts  # the rest of that line stays
    assert set(manifest["exclude_files"]) == {str(mine), str(mine_tsv)}
    with pytest.raises(ValueError, match="--exclude: no such file"):
        PrepareConfig(sources=(), user_files=(str(corpus),),
                      exclude_files=(tmp_path / "missing.txt",))


def test_text_without_chinese_is_refused_and_nothing_is_written(tmp_path):
    """An English-only (or empty) file prepared to a data set of no clauses, exit 0; training
    on it then said "no shards; run `pinyin-hanzi prepare`"."""
    english = tmp_path / "english.txt"
    english.write_text("Hello world.\nOnly English here.\n", encoding="utf-8")
    config = PrepareConfig(out_dir=tmp_path / "data", sources=(), user_files=(str(english),),
                           workers=1)
    with pytest.raises(ValueError, match="nothing to train on: none of the 2 lines read "
                                         "gave a clause: a clause .* needs 2 hanzi or more"):
        prepare(config, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["english.txt"]  # no data, no temporary


def test_an_empty_split_says_so(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    config = PrepareConfig(out_dir=tmp_path / "data", sources=(), user_files=(str(corpus),),
                           workers=1, dev_fraction=0.0, test_fraction=0.0)
    prepare(config, progress=False)
    with pytest.raises(FileNotFoundError, match="dev: empty, prepare put no clause in it: "
                                                "give it more text, or a larger --dev-fraction"):
        list(iter_records(config.out_dir, "dev"))


def test_is_prepared_only_from_the_same_files_unchanged(tmp_path):
    """`finetune --text` reuses RUN/data after an interruption; a rerun with other or edited
    files trained on the old text."""
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    second.write_text("\n".join(CORPUS[:20]) + "\n", encoding="utf-8")

    def config(*files):
        return PrepareConfig(out_dir=tmp_path / "data", sources=(),
                             user_files=tuple(map(str, files)), workers=1)

    assert not is_prepared(config(first))
    prepare(config(first), progress=False)
    assert is_prepared(config(first))
    assert not is_prepared(config(second))
    assert not is_prepared(config(first, second))
    first.write_text("\n".join(CORPUS[5:]) + "\n", encoding="utf-8")
    assert not is_prepared(config(first))


def test_a_file_that_gave_no_clause_is_warned_about(tmp_path):
    """A text without punctuation is one clause per line, dropped whole past 256 characters:
    the report showed the file with 0 clauses and nothing said why."""
    corpus, unpunctuated = tmp_path / "corpus.txt", tmp_path / "asr.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    unpunctuated.write_text("我们今天去银行办事" * 40 + "\n", encoding="utf-8")
    manifest = prepare(PrepareConfig(out_dir=tmp_path / "data", sources=(), workers=1,
                                     user_files=(str(corpus), str(unpunctuated))),
                       progress=False)
    assert unused_sources(manifest) == [
        "user/asr.txt: 1 line read, no clause kept: a clause (text between punctuation or "
        "line breaks) needs 2 hanzi or more, half of it hanzi, and at most 256 characters "
        "(not Chinese text? text without punctuation needs line breaks)"]


def test_a_run_directory_given_as_the_data_names_its_data(tmp_path):
    """`lm --data RUN` after `finetune --text ... --out RUN` said "run `pinyin-hanzi
    prepare`", though the run had prepared RUN/data."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    prepare(PrepareConfig(out_dir=tmp_path / "run" / "data", sources=(), workers=1,
                          user_files=(str(corpus),)), progress=False)
    with pytest.raises(FileNotFoundError, match=f"its prepared data is {tmp_path}/run/data"):
        list(iter_records(tmp_path / "run", "train"))


def test_an_out_folder_holding_other_files_is_left_alone(tmp_path):
    """`prepare --text "my_corpus/*.txt" --out my_corpus` replaced the folder whole: the
    user's texts were deleted."""
    (tmp_path / "my_corpus").mkdir()
    corpus = tmp_path / "my_corpus" / "a.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    for out in (tmp_path / "my_corpus", corpus):
        with pytest.raises(ValueError, match=f"--out {out}: "):
            prepare(PrepareConfig(out_dir=out, sources=(), workers=1,
                                  user_files=(str(corpus),)), progress=False)
    assert [p.name for p in (tmp_path / "my_corpus").iterdir()] == ["a.txt"]
    data = tmp_path / "data"
    for _ in range(2):  # prepared data, and an empty folder, are replaced
        prepare(PrepareConfig(out_dir=data, sources=(), workers=1, user_files=(str(corpus),)),
                progress=False)
    (tmp_path / "empty").mkdir()
    prepare(PrepareConfig(out_dir=tmp_path / "empty", sources=(), workers=1,
                          user_files=(str(corpus),)), progress=False)
