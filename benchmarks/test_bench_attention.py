"""attention speed (group "end2end"), ratios to NumPy measured in the same run.

- functional prefill B=1, H=8, S=2048, D=128, MXINT8 on corsair: C and Numba vs a NumPy float32
  attention of the same shape (targets: C <= 10x, Numba <= 20x NumPy's time; the summary prints
  NumPy's time over ours, so 0.1x is the C target).
- timing mode, Llama-3-8B decode: a KV cache of 4,095 keys for batch 16 (Hq 32, Hkv 8, D 128),
  then one decode step (target <= 0.5 s for the step).
The large sizes run only when benchmarks are timed; the --benchmark-disable smoke run uses S=256.
"""
import time

import numpy as np
import pytest

from chipemu.kernels import KVCache
from chipemu.kernels import attention

SIZES = {"256": 256, "2048": 2048}


def _numpy_attention(q, k, v):
    s = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1 / np.sqrt(q.shape[-1]))
    s -= s.max(-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(-1, keepdims=True)
    return s @ v


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("backend", ["c", "numba", "numpy"])
def test_attention_prefill_functional(benchmark, request, size, backend):
    n = SIZES[size]
    if n > 256 and request.config.getoption("benchmark_disable", False):
        pytest.skip("large sizes only when benchmarks are timed")
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 8, n, 128), dtype=np.float32) for _ in range(3))
    benchmark.group = f"end2end: attention prefill 1x8x{n}x128 mxint8, corsair"
    benchmark.extra_info.update(label=backend, baseline="numpy")
    if backend == "numpy":
        out = benchmark.pedantic(_numpy_attention, args=(q, k, v), rounds=3, iterations=1)
        assert out.shape == q.shape
        return
    attention(q[:, :, :64], k[:, :, :64], v[:, :, :64], backend=backend)     # compile / caches
    r = benchmark.pedantic(attention, args=(q, k, v), kwargs={"backend": backend}, rounds=2,
                           iterations=1)
    benchmark.extra_info.update(compute_cycles=r.phases["compute"]["cycles"],
                                events=len(r.events.events))
    assert np.abs(r.output - _numpy_attention(q, k, v)).max() < 0.1


@pytest.mark.parametrize("kv_len", [512, 4096])
def test_attention_decode_step_timing(benchmark, request, kv_len):
    if kv_len > 512 and request.config.getoption("benchmark_disable", False):
        pytest.skip("large sizes only when benchmarks are timed")
    benchmark.group = f"end2end: attention decode step, KV {kv_len}, batch 16, timing"
    benchmark.extra_info.update(label="decode")
    shape = (16, 8, kv_len - 1, 128)
    t = time.perf_counter()
    cache = KVCache(shape, shape, max_len=kv_len, heads=32, mode="timing")
    fill_s = time.perf_counter() - t
    r = benchmark.pedantic(attention, args=((16, 32, 1, 128), (16, 8, 1, 128), (16, 8, 1, 128)),
                           kwargs={"cache": cache}, rounds=1, iterations=1)
    benchmark.extra_info.update(fill_wall_s=round(fill_s, 3),
                                compute_cycles=r.phases["compute"]["cycles"],
                                energy_per_token_pj=round(r.metrics["energy_per_token_pj"]))
    assert r.phases["compute"]["cycles"] > 0
