"""Programs (group "end2end"): the wall time to time one decode step of a whole decoder block
placed on corsair (timing mode), as a ratio to NumPy computing the same step in float32 (its
seven GEMVs/GEMMs, attention over the cache, norms and MLP) in the same run.

- llama-3.1-8b shapes (hidden 4096, intermediate 14336, 32 heads, 8 KV heads, head_dim 128),
  4,096 cached keys, batch 1 and 16; placement (weights, cache fill) is outside the timed part.
The large shapes run only when benchmarks are timed; the --benchmark-disable smoke run uses a
block of hidden 512 with 64 cached keys.
"""
import numpy as np
import pytest

from chipemu.kernels.card import Card
from chipemu.kernels.program.block import BlockShape, block_step, place_block

SHAPES = {"llama-3.1-8b": (BlockShape(4096, 14336, 32, 8, 128), 4096),
          "small": (BlockShape(512, 1024, 4, 2, 128), 64)}


def _numpy_step(x, w, k, v, shape):
    """One float32 decode step of the block (the baseline: same shapes, no emulation, no RoPE)."""
    d, b = shape.head_dim, x.shape[0]

    def norm(a, g):
        return a / np.sqrt(np.mean(a * a, axis=1, keepdims=True) + np.float32(1e-5)) * g

    h = norm(x, w["norm1"])
    q = (h @ w["wq"]).reshape(b, shape.kv_heads, -1, d)
    k = np.concatenate([k, (h @ w["wk"]).reshape(b, shape.kv_heads, 1, d)], 2)
    v = np.concatenate([v, (h @ w["wv"]).reshape(b, shape.kv_heads, 1, d)], 2)
    s = np.einsum("bhgd,bhld->bhgl", q, k) / np.float32(np.sqrt(d))
    p = np.exp(s - s.max(-1, keepdims=True))
    a = np.einsum("bhgl,bhld->bhgd", p / p.sum(-1, keepdims=True), v).reshape(b, -1)
    x2 = x + a @ w["wo"]
    h2 = norm(x2, w["norm2"])
    u = h2 @ w["w1"]
    return x2 + (u / (1 + np.exp(-u)) * (h2 @ w["w3"])) @ w["w2"]


@pytest.mark.parametrize("batch", [1, 16])
@pytest.mark.parametrize("model", list(SHAPES))
@pytest.mark.parametrize("who", ["chipemu", "numpy"])
def test_block_decode_step(benchmark, request, model, batch, who):
    smoke = request.config.getoption("benchmark_disable", False)
    if (model == "small") != smoke:
        pytest.skip("llama shapes only when benchmarks are timed; the small block in the smoke run")
    shape, kv = SHAPES[model]
    benchmark.group = f"end2end: {model} block decode step, batch {batch}, KV {kv}, corsair"
    benchmark.extra_info.update(label=who, baseline="numpy")
    if who == "numpy":
        rng = np.random.default_rng(0)
        w = {n: rng.standard_normal(s, dtype=np.float32) for n, s in shape.weight_shapes().items()}
        k, v = (rng.standard_normal((batch, shape.kv_heads, kv, shape.head_dim),
                                    dtype=np.float32) for _ in range(2))
        x = rng.standard_normal((batch, shape.hidden), dtype=np.float32)
        out = benchmark.pedantic(_numpy_step, args=(x, w, k, v, shape), rounds=3, iterations=1)
        assert out.shape == x.shape
        return
    card = Card("corsair", mode="timing")
    cache = (batch, shape.kv_heads, kv, shape.head_dim)
    blk = place_block(card, shape, shape.weight_shapes(), batch=batch, max_len=kv + 16,
                      k=cache, v=cache)

    def step():
        with card.program() as p:
            block_step(p, blk, p.input((batch, shape.hidden)))
        return p.result

    r = benchmark.pedantic(step, rounds=2, iterations=1)
    benchmark.extra_info.update(cycles=r.cycles, energy_uj=r.energy_fj / 1e9,
                                events=len(r.events.events))
    assert r.cycles > 0 and len(r.kernels) == 16
