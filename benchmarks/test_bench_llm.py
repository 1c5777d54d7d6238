"""LLM (group "end2end"): the wall time of a whole response estimate and of functional
generation, as ratios to NumPy baselines measured in the same run.

- estimate: llama-3.1-8b, batch 16, prompt 512, 400 new tokens, mxint4 weights, cache lengths
  "blocks" (docs/llm.md: its measured error against timing every length), on the eight-card
  server (kv_home "auto" streams its caches from DRAM to fit it). Baseline: NumPy float32 computing ONE decode step of all 32 layers (a block with 4,096
  cached keys, 32 times).
- generate: the tiny model, 32 tokens of functional greedy generation on corsair (C twin).
  Baseline: the float32 NumPy model (llm/reference.py) generating the same 32 tokens.
The smoke run (--benchmark-disable) estimates the tiny model and generates 4 tokens.
"""
import numpy as np
import pytest

from chipemu.kernels.program.block import BlockShape
from chipemu.llm import ModelConfig
from chipemu.llm.estimate import SERVER, estimate
from chipemu.llm.model import CardModel
from chipemu.llm.reference import reference_generate
from chipemu.llm.weights import random_weights
from test_bench_program import _numpy_step


@pytest.mark.parametrize("who", ["chipemu", "numpy"])
def test_response_estimate(benchmark, request, who):
    smoke = request.config.getoption("benchmark_disable", False)
    cfg = ModelConfig.preset("tiny" if smoke else "llama-3.1-8b")
    batch, prompt, new = (2, 8, 8) if smoke else (16, 512, 400)
    benchmark.group = f"end2end: {cfg.name} response estimate, batch {batch}, {prompt}+{new}"
    benchmark.extra_info.update(label=who, baseline="numpy")
    if who == "numpy":
        shape = BlockShape(cfg.hidden_size, cfg.intermediate_size, cfg.num_attention_heads,
                           cfg.num_key_value_heads, cfg.head_dim)
        rng = np.random.default_rng(0)
        w = {n: rng.standard_normal(s, dtype=np.float32) for n, s in shape.weight_shapes().items()}
        kv = 64 if smoke else 4096
        k, v = (rng.standard_normal((batch, shape.kv_heads, kv, shape.head_dim),
                                    dtype=np.float32) for _ in range(2))
        x = rng.standard_normal((batch, shape.hidden), dtype=np.float32)

        def model_step():
            y = x
            for _ in range(cfg.num_hidden_layers):
                y = _numpy_step(y, w, k, v, shape)
            return y
        assert benchmark.pedantic(model_step, rounds=2, iterations=1).shape == x.shape
        return
    cards = None if smoke else SERVER.cards
    e = benchmark.pedantic(lambda: estimate(cfg, batch=batch, prompt=prompt, new_tokens=new,
                                            cards=cards, cache_lengths="blocks"),
                           rounds=1, iterations=1)
    benchmark.extra_info.update(cards=e.cards, kv_home=e.kv_home, ttft_ms=e.ttft_s * 1e3, tpot_ms=e.tpot_s * 1e3,
                                j_per_token=e.j_per_token, timed_points=e.timed_points)
    assert e.response_s > e.ttft_s > 0


@pytest.mark.parametrize("who", ["chipemu", "numpy"])
def test_tiny_generation(benchmark, request, who):
    smoke = request.config.getoption("benchmark_disable", False)
    cfg = ModelConfig.preset("tiny")
    w = random_weights(cfg, seed=0)
    new = 4 if smoke else 32
    benchmark.group = f"end2end: tiny model, {new} generated tokens, functional"
    benchmark.extra_info.update(label=who, baseline="numpy")
    if who == "numpy":
        out = benchmark.pedantic(lambda: reference_generate(cfg, w, [[1]], new), rounds=2,
                                 iterations=1)
    else:
        def gen():                      # placing the model is part of the user's wait
            return CardModel(cfg, w, batch=1, max_len=new).generate([[1]], new)
        out = benchmark.pedantic(gen, rounds=2, iterations=1)
    assert out.tokens.shape == (1, new)
