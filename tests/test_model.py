"""The Transformer: candidate masking, the fast candidate loss, config errors."""

from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from pinyin_hanzi.model import PRESETS, ModelConfig, PinyinHanziModel
from pinyin_hanzi.vocab import IGNORE, MASK_ID, Vocab

PAIRS = {("yin", "银"): 5, ("hang", "行"): 4, ("xing", "行"): 6, ("zou", "走"): 3,
         ("zhong", "重"): 3, ("chong", "重"): 2, ("zhong", "中"): 9, ("yao", "要"): 4,
         ("xin", "新"): 3, ("xin", "心"): 5, ("guo", "国"): 7}


@pytest.fixture(scope="module")
def vocab():
    hanzi = Counter()
    for (_, char), n in PAIRS.items():
        hanzi[char] += n
    return Vocab.build(hanzi, Counter(PAIRS), min_count=1)


@pytest.fixture(scope="module")
def model(vocab):
    torch.manual_seed(0)
    config = ModelConfig(**PRESETS["tiny"], input_size=vocab.input_size,
                         n_hanzi=len(vocab.hanzi))
    return PinyinHanziModel(config, vocab).eval()


def batch(vocab, clauses):
    """[(syllables, hanzi)] -> input_ids, attention_mask, labels (padded)."""
    T = max(len(s) for s, _ in clauses)
    ids = torch.zeros((len(clauses), T), dtype=torch.long)
    labels = torch.full((len(clauses), T), IGNORE)
    for b, (syllables, text) in enumerate(clauses):
        ids[b, :len(syllables)] = torch.tensor([vocab.syllable_token(s) for s in syllables])
        labels[b, :len(text)] = torch.tensor([vocab.label(c) for c in text])
    return ids, (ids != 0).long(), labels


def test_logits_allow_only_the_syllables_candidates(vocab, model):
    ids, mask, _ = batch(vocab, [(["yin", "hang"], "银行"), (["zhong"], "重")])
    logits = model(ids, mask)["logits"]
    assert logits.shape == (2, 2, len(vocab.hanzi))
    finite = torch.isfinite(logits)
    for b, t, syllable in [(0, 0, "yin"), (0, 1, "hang"), (1, 0, "zhong")]:
        allowed = {vocab.hanzi[i] for i in finite[b, t].nonzero().flatten().tolist()}
        assert allowed == set(vocab.candidates[syllable])
    assert set(vocab.candidates["zhong"]) >= {"中", "重"}


def test_candidate_loss_equals_masked_full_softmax(vocab):
    torch.manual_seed(0)
    config = ModelConfig(**PRESETS["tiny"], input_size=vocab.input_size,
                         n_hanzi=len(vocab.hanzi), dropout=0.0)  # both passes must agree
    model = PinyinHanziModel(config, vocab).train()
    ids, mask, labels = batch(vocab, [(["yin", "hang", "xing", "zou"], "银行行走"),
                                      (["zhong", "yao", "chong", "xin"], "重要重新"),
                                      (["zhong", "guo"], "中国")])
    ids[2, 1] = MASK_ID  # a pretraining-style position: every hanzi allowed
    fast = model(ids, mask, labels)["loss"]
    h = model.hidden(ids, mask)
    rows = model.row_of_token[ids]
    keep = labels != IGNORE
    full = F.cross_entropy(model._logits(h[keep], rows[keep]), labels[keep])
    assert torch.allclose(fast, full, atol=1e-5)
    g_fast = torch.autograd.grad(fast, model.tok_emb.weight)[0]
    g_full = torch.autograd.grad(full, model.tok_emb.weight)[0]
    assert torch.allclose(g_fast, g_full, atol=1e-6)
    assert g_fast.abs().sum() > 0


def test_unreachable_label_gives_no_infinite_loss(vocab, model):
    ids, mask, labels = batch(vocab, [(["yin", "hang"], "银行")])
    labels[0, 1] = vocab.label("国")  # 国 is not read hang
    loss = model(ids, mask, labels)["loss"]
    assert torch.isfinite(loss)


def test_input_longer_than_max_len_is_an_error(vocab, model):
    ids = torch.full((1, model.config.max_len + 1), vocab.syllable_token("yin"))
    with pytest.raises(ValueError, match="max_len"):
        model(ids)


@pytest.mark.parametrize("kwargs, message", [
    ({"d_model": 30, "n_head": 4}, "not divisible"),
    ({"n_layer": 0}, "n_layer"),
    ({"dropout": 1.0}, "dropout"),
])
def test_config_errors_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**kwargs)


def test_config_must_match_the_vocabulary(vocab):
    with pytest.raises(ValueError, match="does not match the vocabulary"):
        PinyinHanziModel(ModelConfig(**PRESETS["tiny"], input_size=5, n_hanzi=3), vocab)
