"""Tests for pinyin_hanzi.decode.config: a decode.json is read whole and checked, and a bad one
is an error naming the file and the setting."""

import json

import pytest

from pinyin_hanzi.decode import BeamDecoder, DecodeConfig, LatticeDecoder, make_decoder


def test_round_trip(tmp_path):
    config = DecodeConfig(lm_weight=0.7, word_weight=1.2, word_bonus=-4.0, beam=12, width=6)
    config.write(tmp_path / "decode.json")
    assert DecodeConfig.read(tmp_path / "decode.json") == config
    assert json.loads((tmp_path / "decode.json").read_text()) == {
        "lm_weight": 0.7, "word_weight": 1.2, "word_bonus": -4.0, "beam": 12, "width": 6}


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a valid decode config"),
    ("[]", "not a JSON object"),
    ('{"lm_wieght": 0.5}', "unknown settings \\['lm_wieght'\\]"),
    ('{"lm_weight": -1}', "lm_weight must be >= 0"),
    ('{"word_weight": "1"}', "word_weight must be a finite number"),
    ('{"word_bonus": NaN}', "word_bonus must be a finite number"),
    ('{"beam": 0}', "beam must be an integer >= 1"),
    ('{"width": 2.5}', "width must be an integer >= 1"),
    ('{"width": true}', "width must be an integer >= 1"),
])
def test_bad_files_name_the_file_and_the_setting(tmp_path, content, message):
    path = tmp_path / "decode.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        DecodeConfig.read(path)
    assert str(path) in str(error.value)


def test_a_negative_word_bonus_is_a_setting_not_an_error():
    assert DecodeConfig(word_bonus=-4.0).word_bonus == -4.0


def test_make_decoder_picks_the_search_the_config_asks_for():
    from types import SimpleNamespace

    from pinyin_hanzi.lm.words import WordLM

    vocab = SimpleNamespace(hanzi=["<unk>", "我"], hanzi_id={"<unk>": 0, "我": 1})
    word_lm = WordLM.train([(["我"], ["wo"])])
    assert isinstance(make_decoder(vocab, DecodeConfig(), word_lm), BeamDecoder)
    assert isinstance(make_decoder(vocab, DecodeConfig(word_weight=1.0), word_lm),
                      LatticeDecoder)
    with pytest.raises(ValueError, match="weights a character n-gram"):
        make_decoder(vocab, DecodeConfig(lm_weight=0.5))
