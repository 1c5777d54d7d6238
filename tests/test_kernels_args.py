"""Issue 11 for the public kernel API and numerics: every bad argument a named ChipemuError
before any work, a failed call changes nothing (the next good call equals one on a fresh
object), runs beyond the budget refused before the Machine exists, timing mode allocates no
data."""
import tracemalloc

import numpy as np
import pytest

from chipemu.emulator.errors import (CapacityError, ChipemuError, ConfigError, FormatError,
                                     ShapeError)
from chipemu.emulator.numerics.formats import quantize
from chipemu.emulator.runtime.budget import budget
from chipemu.kernels import KVCache, attention, matmul, scale_rows
from chipemu.kernels.attention import steps as attention_steps
from chipemu.kernels.attention.run import run_attention
from chipemu.kernels.matmul.api import run_matmul
from chipemu.kernels import scaffold

T = "tiny"
B, H, D, L, ML = 1, 2, 64, 20, 64


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def _same(r1, r2):
    """Two Results equal in cycles, energy, events and output bits."""
    assert (r1.cycles, r1.energy_fj) == (r2.cycles, r2.energy_fj)
    assert r1.events.events.tobytes() == r2.events.events.tobytes()
    if r1.output is None:
        assert r2.output is None
    else:
        assert np.array_equal(r1.output.view(np.uint32), r2.output.view(np.uint32))


# ---- a failed KV-cache step leaves the cache as it was ----

def _cache(mode="functional"):
    k, v = f32(B, H, L, D, seed=1), f32(B, H, L, D, seed=2)
    if mode == "timing":
        k, v = k.shape, v.shape
    return KVCache(k, v, max_len=ML, device=T, mode=mode)


def _new(sq, mode="functional", seed=3):
    x = f32(B, H, sq, D, seed=seed)
    return x.shape if mode == "timing" else x


BAD_STEPS = [
    (dict(sq=0), ShapeError, "dimension 2 is 0"),            # was a raw IndexError
    (dict(sq=17), ShapeError, "max_new"),
    (dict(path="bogus"), ConfigError, "path='bogus'"),
    (dict(path="vector"), ConfigError, "path='vector'"),
    (dict(backend="bogus"), ConfigError, "backend='bogus'"),
    (dict(fmt="fp32"), FormatError, "fmt='fp32'"),
    (dict(fmt="mxint4"), ConfigError, "fmt='mxint4'"),
    (dict(kv_fmt="bfp16"), ConfigError, "kv_fmt='bfp16'"),
    (dict(mode="timing"), ConfigError, "mode='timing'"),
    (dict(device="corsair"), ConfigError, "device='corsair'"),
    (dict(is_causal=False), ConfigError, "is_causal=False"),
    (dict(is_causal="yes"), ConfigError, "is_causal='yes'"),
    (dict(scale=float("nan")), ConfigError, "scale=nan"),
    (dict(scale="1"), ConfigError, "scale='1'"),
    (dict(network="bogus"), ConfigError, "network=.bogus."),
    (dict(progress=3), ConfigError, "progress=3"),
    (dict(attn_mask=np.ones((1, ML), bool)), ShapeError, "not supported"),
    (dict(q_heads=3), ShapeError, "with a cache"),
    (dict(foo=1), ConfigError, "unknown argument foo"),
]


def _bad_step(cache, sq=1, q_heads=H, **kw):
    attention(f32(B, q_heads, sq, D, seed=5), _new(sq), _new(sq, seed=4), cache=cache, **kw)


@pytest.mark.parametrize("kw,exc,text", BAD_STEPS)
def test_a_failed_cache_step_is_named_and_leaves_the_cache_as_it_was(kw, exc, text):
    cache, fresh = _cache(), _cache()
    with pytest.raises(exc, match=text):
        _bad_step(cache, **kw)
    assert cache.lengths.tolist() == [L]
    q = f32(B, H, 2, D, seed=9)
    _same(attention(q, _new(2), _new(2, seed=6), cache=cache),
          attention(q, _new(2), _new(2, seed=6), cache=fresh))


@pytest.mark.parametrize("mode", ["functional", "timing"])
def test_a_step_that_fails_after_its_appends_is_undone(mode, monkeypatch):
    """A failure past validation (here: in the compute launches, after the appends ran and the
    keys were written) takes the step back: keys, host bytes, log and superstep count."""
    cache, fresh = _cache(mode), _cache(mode)

    def boom(*a, **k):
        raise CapacityError("injected")
    with monkeypatch.context() as m:
        m.setattr(attention_steps, "run_compute", boom)
        with pytest.raises(CapacityError, match="injected"):
            attention(_new(5, mode, 7), _new(5, mode), _new(5, mode, 8), cache=cache)
    assert cache.lengths.tolist() == [L] and cache.machine.n_events == 0
    q = _new(1, mode, 9)
    _same(attention(q, _new(1, mode), _new(1, mode, 6), cache=cache),
          attention(q, _new(1, mode), _new(1, mode, 6), cache=fresh))


def test_the_step_after_a_budget_refusal_equals_a_fresh_caches():
    cache, fresh = _cache(), _cache()
    with budget(max_events=10), pytest.raises(CapacityError, match="events"):
        _bad_step(cache)
    q = f32(B, H, 1, D, seed=9)
    _same(attention(q, _new(1), _new(1, seed=6), cache=cache),
          attention(q, _new(1), _new(1, seed=6), cache=fresh))


# ---- every public entry: failing inputs first, then the good call equals a fresh one ----

A, W = f32(4, 64), f32(64, 8, seed=1)
X, S = f32(8, 16), f32(8, seed=1)
Q, K = f32(1, 2, 4, 64), f32(1, 2, 8, 64, seed=1)

ENTRIES = {
    "matmul": (lambda **kw: matmul(kw.pop("a", A), kw.pop("b", W), device=T, **kw),
               [dict(a=np.ma.masked_array(A)), dict(a=(4, 64)), dict(fmt="fp32"),
                dict(backend="bogus"), dict(mode=True), dict(network=1), dict(debug_hook=5),
                dict(a=f32(0, 64)), dict(b=f32(63, 8)), dict(a=A.astype(np.int32)),
                dict(a=np.array([[None] * 64] * 4)), dict(foo=1)]),
    "scale_rows": (lambda **kw: scale_rows(kw.pop("x", X), kw.pop("s", S), device=T, **kw),
                   [dict(s=f32(7)), dict(x=np.ma.masked_array(X)), dict(mode="x"),
                    dict(x=(8, -16), s=(8,), mode="timing"), dict(progress="p")]),
    "attention": (lambda **kw: attention(kw.pop("q", Q), kw.pop("k", K), kw.pop("v", K),
                                         device=T, **kw),
                  [dict(q=f32(1, 0, 4, 64), k=f32(1, 0, 8, 64), v=f32(1, 0, 8, 64)),
                   dict(attn_mask=np.ones((1, 1, 1, 4, 8), bool)), dict(is_causal="yes"),
                   dict(cache=5), dict(scale=float("inf")), dict(path="bogus"),
                   dict(q=(1, 2, -4, 64), k=(1, 2, 8, 64), v=(1, 2, 8, 64), mode="timing"),
                   dict(attn_mask=np.ma.masked_array(np.ones((4, 8), bool)))]),
    "quantize": (lambda **kw: quantize(kw.pop("x", A), kw.pop("fmt", "mxint4"), **kw),
                 [dict(axis=True), dict(axis=1.0), dict(axis="0"), dict(backend=None),
                  dict(x=np.ma.masked_array(A, mask=A > 0)), dict(fmt=True)]),
}


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_failing_calls_are_named_and_change_nothing(entry):
    call, bad = ENTRIES[entry]
    first = call()
    for kw in bad:
        with pytest.raises(ChipemuError):
            call(**dict(kw))
    again = call()
    if entry == "quantize":
        assert np.array_equal(first.codes, again.codes)
        assert np.array_equal(first.scales, again.scales)
    else:
        _same(first, again)


# ---- strict arguments: the reproductions ----

@pytest.mark.parametrize("call,exc,text", [
    (lambda: attention(Q, K, K, device=T, is_causal="yes"), ConfigError, "is_causal='yes'"),
    (lambda: KVCache(K, K, max_len=0, device=T), ShapeError, "max_len=0"),
    (lambda: KVCache(K, K, max_len=100.7, device=T), ShapeError, r"max_len=100.7 \(float\)"),
    (lambda: KVCache(K, K, max_len="128", device=T), ShapeError, r"max_len='128' \(str\)"),
    (lambda: KVCache(K, K, max_len=64, heads=0, device=T), ShapeError, "heads=0"),
    (lambda: KVCache(K, K, max_len=64, max_new=10**9, device=T), ShapeError, "max_new"),
    (lambda: KVCache(K, K, max_len=64, lengths=[8.0], device=T), ShapeError, "lengths"),
    (lambda: KVCache(K.shape, K.shape, max_len=10**9, device=T, mode="timing"), CapacityError,
     "set_budget"),
    (lambda: matmul(np.ma.masked_array(A, mask=A > 0), W, device=T), ShapeError, "masked"),
    (lambda: attention(f32(1, 0, 4, 64), f32(1, 0, 8, 64), f32(1, 0, 8, 64), device=T),
     ShapeError, "dimension 1 is 0"),
    (lambda: attention(Q, K, K, device=T, attn_mask=np.ones((1, 1, 1, 4, 8), bool)), ShapeError,
     "at most 4-D"),
    (lambda: attention((1, 2, -4, 64), (1, 2, 8, 64), (1, 2, 8, 64), device=T, mode="timing"),
     ShapeError, "dimension 2 is -4"),
    (lambda: matmul((4, -64), (64, 8), device=T, mode="timing"), ShapeError, "dimension 1"),
    (lambda: attention(Q, K, K, device=T, cache=5), ConfigError, "cache=5"),
    (lambda: matmul(A, W, device=T, fmt_w="mxint4"), ConfigError, "unknown argument fmt_w"),
    (lambda: matmul(A, W, "mxint8"), ConfigError, "3 positional arguments"),
    (lambda: KVCache(K, K, 64), ConfigError, "KVCache: 3 positional"),
    (lambda: attention(Q, K, K, device=T, scale=10**400), ConfigError, "scale="),
    (lambda: KVCache(K, K, max_len=64, lengths=np.ma.masked_array([5]), device=T), ShapeError,
     "lengths is a MaskedArray"),
    (lambda: run_matmul(T, m=4, k=64, n=8, mode="bogus"), ConfigError, "mode='bogus'"),
    (lambda: run_matmul(T, m=4, k=64, n=8, seed=-1), ConfigError, "seed=-1"),
    (lambda: run_attention(T, heads=2, kv_heads=0, seq=4, head_dim=64), ShapeError, "kv_heads=0"),
    (lambda: run_attention(T, heads=2, seq=4, head_dim=64, mask_missing="0.1"), ShapeError,
     "mask_missing"),
])
def test_bad_arguments_are_named(call, exc, text):
    with pytest.raises(exc, match=text):
        call()


def test_the_cache_answers_to_its_own_values():
    cache = _cache()
    r = attention(f32(B, H, 1, D), _new(1), _new(1), cache=cache, is_causal=True, fmt="MXINT8",
                  backend="c", mode="functional", device=T, path="dimc", kv_fmt="mxint8")
    assert r.output.shape == (B, H, 1, D) and cache.lengths.tolist() == [L + 1]


def test_extreme_values_give_the_reference_result_in_both_twins():
    """NaN, infinities, float32's largest and subnormal inputs are data, not errors: both twins
    agree with the NumPy reference bit for bit."""
    from chipemu.kernels.attention.ref import attention_reference
    from chipemu.kernels.matmul.ref import matmul_reference
    a, b = f32(8, 64), f32(64, 16, seed=1)
    a[0, 3], a[1, 5], a[2], a[3, 7], a[4] = np.nan, np.inf, 3.4e38, -np.inf, 1e-40
    b[5, 2], b[9, 1] = np.inf, np.nan
    for fmt in ("mxint8", "mxint4", "int8"):
        rc = matmul(a, b, fmt=fmt, device=T)
        rn = matmul(a, b, fmt=fmt, device=T, backend="numba")
        _same(rc, rn)
        assert np.array_equal(rc.output.view(np.uint32),
                              matmul_reference(a, b, rc.plan).view(np.uint32))
    q, k = Q.copy(), K.copy()
    q[0, 0, 1, 2], k[0, 1, 3, 4] = np.nan, np.inf
    rc = attention(q, k, K, device=T)
    _same(rc, attention(q, k, K, device=T, backend="numba"))
    ref = np.asarray(attention_reference(q, k, K, rc.plan, device=rc.device), np.float32)
    assert np.array_equal(rc.output.view(np.uint32), ref.view(np.uint32))


# ---- refuse before working ----

def test_a_run_beyond_the_budget_is_refused_before_the_machine_exists(monkeypatch):
    def no_machine(*a, **k):
        raise AssertionError("a Machine was created for a refused run")
    monkeypatch.setattr(scaffold, "machine_for", no_machine)
    with budget(max_events=10):
        for call in (lambda: matmul(A, W, device=T), lambda: scale_rows(X, S, device=T),
                     lambda: attention(Q, K, K, device=T)):
            with pytest.raises(CapacityError, match="max_events"):
                call()
    with budget(max_host_bytes=1000):
        with pytest.raises(CapacityError, match="bytes on the host"):
            matmul(A, W, device=T)
        with pytest.raises(CapacityError, match="bytes on the host"):
            attention((1, 8, 4096, 64), (1, 8, 4096, 64), (1, 8, 4096, 64), device=T,
                      mode="timing")


def test_huge_timing_runs_are_refused_at_once():
    with pytest.raises(CapacityError):
        matmul((65536, 65536), (65536, 65536), mode="timing")
    with pytest.raises(CapacityError):
        scale_rows((10**9, 10**6), (10**9,), mode="timing")


def test_timing_mode_allocates_no_data():
    """Host memory of a timing run stays far below the data it stands for (m x k float32)."""
    m, k, n = 16384, 1024, 256
    matmul((m, k), (k, n), mode="timing")                     # compile and warm up
    tracemalloc.start()
    try:
        matmul((m, k), (k, n), mode="timing")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < m * k * 4 // 2
