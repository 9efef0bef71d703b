"""Tests for pinyin_hanzi.vocab's traditional forms: which hanzi a simplified-Chinese user
does not expect among the candidates, stored in vocab.json, and the simplified-only view."""

import json

import pytest

from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter
from pinyin_hanzi.vocab import UNK, Vocab, traditional_forms


def test_traditional_forms_are_outside_gb2312_and_changed_by_opencc():
    # 國 們 are traditional; 乾 麽 are GB 2312 hanzi OpenCC maps to another; 堃 镕 are rare
    # simplified hanzi outside GB 2312 that OpenCC leaves alone.
    assert traditional_forms(list("国國乾麽堃镕们們")) == ["國", "們"]


def toy() -> Vocab:
    return Vocab(["guo", "men"], [UNK, "国", "國", "们", "們"],
                 {"guo": ["国", "國"], "men": ["們"]})


def test_simplified_only_drops_them_but_keeps_the_ids():
    vocab = toy()
    simple = vocab.simplified_only()
    assert simple.candidates == {"guo": ["国"], "men": ["們"]}  # 們: nothing else reads men
    assert simple.hanzi == vocab.hanzi and simple.hanzi_id == vocab.hanzi_id
    assert list(simple.candidate_array("guo")) == [1]
    assert list(vocab.candidate_array("guo")) == [1, 2]


def test_the_list_is_saved_and_an_older_file_computes_it(tmp_path):
    vocab = toy()
    vocab.traditional_forms()
    vocab.save(tmp_path / "vocab.json")
    assert json.loads((tmp_path / "vocab.json").read_text())["traditional"] == ["國", "們"]
    assert Vocab.load(tmp_path / "vocab.json").traditional == ["國", "們"]
    data = json.loads((tmp_path / "vocab.json").read_text())
    del data["traditional"]
    (tmp_path / "vocab.json").write_text(json.dumps(data, ensure_ascii=False))
    older = Vocab.load(tmp_path / "vocab.json")
    assert older.traditional is None and older.traditional_forms() == {"國", "們"}
    data["traditional"] = ["龘"]
    (tmp_path / "vocab.json").write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        Vocab.load(tmp_path / "vocab.json")


def test_the_shipped_model_offers_simplified_forms_unless_asked():
    simplified = [c.text for c in Converter.load(threads=1).convert("zhongguo", 5)]
    assert simplified[0] == "中国" and "中國" not in simplified
    vocab = Vocab.load(DEFAULT_MODEL / "vocab.json")
    assert "國" in vocab.traditional_forms()
    anything = [c.text for c in Converter.load(threads=1, script="any").convert("zhongguo", 5)]
    assert "中國" in anything
    with pytest.raises(ValueError, match="script must be simplified or any"):
        Converter.load(script="traditional")
