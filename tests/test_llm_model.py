"""chipemu.llm.model: a small untied model placed on one card generates greedily, token for token
and logit for logit the same in both twins, with the same log in timing mode; against the NumPy
float32 model (llm/reference.py) its top-1 tokens agree and its logits stay within the formats'
error; sequences of different prompt lengths share the steps."""
import dataclasses

import numpy as np
import pytest

from chipemu.emulator.errors import ShapeError
from chipemu.emulator.events import OPS
from chipemu.llm import ModelConfig
from chipemu.llm.model import CardModel
from chipemu.llm.reference import reference_generate
from chipemu.llm.weights import layer_weights, random_weights, tensor_shapes

CFG = dataclasses.replace(ModelConfig.preset("tiny"), name="tiny-untied", tie_word_embeddings=False)
PROMPTS = [[1, 2, 3], [4, 5, 6, 7, 8]]


@pytest.fixture(scope="module")
def runs():
    w = random_weights(CFG, 0)
    out = {be: CardModel(CFG, w, batch=2, max_len=32, backend=be).generate(PROMPTS, 8)
           for be in ("c", "numba")}
    out["ref"] = reference_generate(CFG, w, PROMPTS, 8)
    return out


def test_twins_generate_the_same_tokens_and_logits(runs):
    c, nb = runs["c"], runs["numba"]
    assert np.array_equal(c.tokens, nb.tokens)
    assert all(np.array_equal(a.view(np.uint32), b.view(np.uint32))
               for a, b in zip(c.logits, nb.logits))
    assert len(c.results) == max(map(len, PROMPTS)) - 1 + 8


def test_against_the_float32_model(runs):
    c, ref = runs["c"], runs["ref"]
    top1 = np.mean([np.array_equal(a.argmax(1), b.argmax(1))
                    for a, b in zip(c.logits, ref.logits)])
    assert top1 == 1.0 and np.array_equal(c.tokens, ref.tokens)
    # mxint8 weights, activations and KV cache: a few % of the logits' range
    err = max(np.abs(a - b).max() / np.abs(b).max() for a, b in zip(c.logits, ref.logits))
    assert 1e-4 < err < 0.05
    # the shorter prompt starts generating two steps earlier: its first new token is the
    # argmax after its last prompt token, at step 2
    assert c.tokens[0, 0] == c.logits[2][0].argmax() and c.tokens[1, 0] == c.logits[4][1].argmax()


def test_a_cache_streamed_from_dram_generates_the_same_tokens(runs):
    w = random_weights(CFG, 0)
    out = {be: CardModel(CFG, w, batch=2, max_len=32, backend=be, kv_home="dram")
           .generate(PROMPTS, 8) for be in ("c", "numba")}
    c, nb = out["c"], out["numba"]
    assert np.array_equal(c.tokens, nb.tokens) and all(
        np.array_equal(a.view(np.uint32), b.view(np.uint32)) for a, b in zip(c.logits, nb.logits))
    assert np.array_equal(c.tokens, runs["ref"].tokens)
    err = max(np.abs(a - b).max() / np.abs(b).max() for a, b in zip(c.logits, runs["ref"].logits))
    assert err < 0.05
    ev = c.results[-1].events.events
    assert (ev["op"] == OPS["dram_read"]).sum() > (runs["c"].results[-1].events.events["op"]
                                                   == OPS["dram_read"]).sum()


def test_timing_mode_logs_the_same_steps(runs):
    t = CardModel(CFG, None, batch=2, max_len=32, mode="timing").generate(PROMPTS, 8)
    assert t.tokens is None and t.logits[0] is None
    f = runs["c"].results
    assert [r.cycles for r in t.results] == [r.cycles for r in f]
    # token ids are control data (the embedding rows read): with no data, timing mode feeds the
    # prompts' tokens, so the logs agree wherever both runs feed prompt tokens (steps 0 .. 2)
    for a, b in zip(t.results[:3], f[:3]):
        assert np.array_equal(a.events.events, b.events.events)
    kinds = [k["kind"] for k in f[-1].kernels.values()]
    assert kinds[0] == "embedding" and kinds[-1] == "argmax"
    assert kinds.count("attention") == CFG.num_hidden_layers


def test_weights_follow_hugging_face_names_and_layouts():
    w = random_weights(CFG, 1)
    assert {n: a.shape for n, a in w.items()} == tensor_shapes(CFG)
    assert "lm_head.weight" in w and "lm_head.weight" not in tensor_shapes(
        ModelConfig.preset("tiny"))
    lw = layer_weights(w, 1)
    assert np.array_equal(lw["wq"], w["model.layers.1.self_attn.q_proj.weight"].T)


def test_bad_requests_are_named():
    m = CardModel(CFG, None, batch=2, max_len=8, mode="timing")
    with pytest.raises(ShapeError, match="batch=2"):
        m.generate([[1]], 2)
    with pytest.raises(ShapeError, match="max_len=8"):
        m.generate(PROMPTS, 8)
    with pytest.raises(ShapeError, match="at least one token"):
        m.generate([[1], []], 2)


def test_llama_3_2_1b_layer_shapes_at_w4a8():
    """Two layers with llama-3.2-1b's real shapes (hidden 2048, intermediate 8192, 32 heads, 8 KV
    heads, head_dim 64; the vocabulary cut to 2,048 to keep the test small), mxint4 weights and
    mxint8 activations: the device's tokens equal the float32 model's and its logits stay within
    6 % of their range (measured: 3.4-4.2 %)."""
    cfg = dataclasses.replace(ModelConfig.preset("llama-3.2-1b"), name="llama-3.2-1b-2l",
                              num_hidden_layers=2, vocab_size=2048)
    w = random_weights(cfg, seed=0)
    prompts = [[11, 700, 3], [1500, 5]]
    out = CardModel(cfg, w, batch=2, max_len=8, weight_fmt="mxint4").generate(prompts, 4)
    ref = reference_generate(cfg, w, prompts, 4)
    assert np.array_equal(out.tokens, ref.tokens)
    err = max(np.abs(a - b).max() / np.abs(b).max() for a, b in zip(out.logits, ref.logits))
    assert 0 < err < 0.06
