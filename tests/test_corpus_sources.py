"""The modern-text folder readers (`prepare --corpora DIR`), on tiny folders made here."""

import pytest

from pinyin_hanzi.data.corpus_sources import CORPUS_SOURCES, LINES_PER_DOC, read_corpus
from pinyin_hanzi.data.prepare import PrepareConfig, prepare
from pinyin_hanzi.data.records import iter_records
from pinyin_hanzi.data.sources import SourceError, read_sources


def _folder(root, name, lines, file="text.txt"):
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_consecutive_lines_form_a_document(tmp_path):
    per_doc = LINES_PER_DOC["tv_subtitles_dgk"]
    _folder(tmp_path, "tv_subtitles_dgk", [f"第{i}句台词" for i in range(per_doc + 1)],
            "subtitles.txt")
    lines = list(read_corpus("tv_subtitles_dgk", tmp_path))
    assert [line.text for line in lines[:2]] == ["第0句台词", "第1句台词"]
    assert {line.source for line in lines} == {"tv_subtitles_dgk"}
    assert lines[0].doc == lines[per_doc - 1].doc == "tv_subtitles_dgk/subtitles/0"
    assert lines[per_doc].doc == "tv_subtitles_dgk/subtitles/1"
    assert [line.number for line in lines] == list(range(per_doc + 1))


def test_each_essay_is_a_document_and_files_are_read_in_order(tmp_path):
    _folder(tmp_path, "lit_essays", ["第二篇散文"], "b.txt")
    _folder(tmp_path, "lit_essays", ["第一篇散文", "又一篇散文"], "a.txt")
    lines = list(read_sources(["lit_essays"], tmp_path / "cache", corpora_dir=tmp_path))
    assert [(line.text, line.doc) for line in lines] == [
        ("第一篇散文", "lit_essays/a/0"), ("又一篇散文", "lit_essays/a/1"),
        ("第二篇散文", "lit_essays/b/0")]


@pytest.mark.parametrize("corpora, message", [
    (None, "--corpora DIR"),  # a folder source asked for without the folder
    ("missing", "no \\*.txt files"),
])
def test_a_missing_folder_is_named(tmp_path, corpora, message):
    corpora_dir = tmp_path / corpora if corpora else None
    with pytest.raises(SourceError, match=message):
        list(read_corpus("kdconv", corpora_dir))


def test_every_source_has_a_document_rule():
    assert len(CORPUS_SOURCES) == 10 and all(n >= 1 for n in LINES_PER_DOC.values())


def test_prepare_reads_folders_dedups_across_sources_and_records_hashes(tmp_path):
    post = "今天我们一起去看了那部关于人工智能和未来生活的新电影真的非常好看"
    _folder(tmp_path / "corpora", "weibo_rumor_comments", [post, "这个视频太搞笑了"])
    _folder(tmp_path / "corpora", "kdconv", ["转发：" + post + "！", "你喜欢看电影吗"])
    config = PrepareConfig(out_dir=tmp_path / "data", sources=("weibo_rumor_comments", "kdconv"),
                           corpora_dir=tmp_path / "corpora", bench_files=(), workers=1,
                           dev_fraction=0.0, test_fraction=0.0, min_hanzi_count=1)
    bench = tmp_path / "bench.tsv"
    bench.write_text("zhe ge shi pin tai gao xiao le\t这个视频太搞笑了\n", encoding="utf-8")
    config.bench_files = (bench,)
    manifest = prepare(config, progress=False)
    texts = [r["text"] for r in iter_records(config.out_dir, "train")]
    assert texts == [post, "你喜欢看电影吗"]  # the repost and the benchmark clause are gone
    assert manifest["counts"]["kdconv"]["lines dropped: near-duplicate"] == 1
    assert set(manifest["source_files"]) == {"weibo_rumor_comments/text.txt", "kdconv/text.txt"}
