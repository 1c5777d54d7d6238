"""Fuzzing the kernels: matmul, attention, KVCache and scale_rows over shapes, dtypes, formats,
masks and keyword values (valid, careless and hostile). Each call is a ChipemuError naming the
argument, or a Result with sane figures whose output equals the NumPy reference bit for bit
(and whose timing-mode twin gives the same cycles and energy). A failed KV-cache step leaves
the cache as it was: the next good step equals the same step on a cache that never failed."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipemu.emulator import DIMC_FORMATS, Device
from chipemu.kernels import KVCache, attention, matmul, scale_rows
from chipemu.kernels.attention.ref import attention_reference
from chipemu.kernels.matmul.ref import matmul_reference
from chipemu.kernels.scale_rows.ref import scale_rows_reference

from fuzz_strategies import (BAD_FLOATS, HOSTILE_BOOL, NOT_NUMBERS, bits, check_result, examples,
                             expect, figures, guarded, hostile_choice, hostile_int, warm)

TINY = Device.preset("tiny")
FMTS = list(DIMC_FORMATS)


@pytest.fixture(autouse=True, scope="module")
def _warm():
    warm("matmul", "attention", "scale_rows")


def _data(shape, seed, dtype=np.float32, special=False):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    if special and x.size:
        flat = x.reshape(-1)
        flat[seed % flat.size] = [np.nan, np.inf, -np.inf, 0.0, 6e4][seed % 5]
    return x


# ---- matmul -----------------------------------------------------------------------------------

MM_SHAPES = st.tuples(st.lists(st.integers(1, 3), max_size=2), st.integers(1, 9),
                      st.integers(1, 140), st.integers(1, 70))


@examples(60)
@given(MM_SHAPES, st.sampled_from(FMTS), st.sampled_from(FMTS + [None]),
       st.sampled_from(["c", "numba"]), st.sampled_from([np.float32, np.float16]),
       st.booleans(), st.integers(0, 99))
def test_matmul_equals_the_reference(shape, fmt, wfmt, backend, dtype, special, seed):
    batch, m, k, n = shape
    a = _data((*batch, m, k), seed, dtype, special)
    b = _data((k, n), seed + 1, dtype)

    def body():
        r = matmul(a, b, fmt=fmt, weight_fmt=wfmt, device=TINY, backend=backend)
        check_result(r, "matmul")
        assert r.output.shape == (*batch, m, n)
        ref = matmul_reference(a, b, r.plan)
        assert np.array_equal(bits(r.output), bits(ref)), "output differs from the reference"
        t = matmul(a.shape, b.shape, fmt=fmt, weight_fmt=wfmt, device=TINY, mode="timing")
        assert (t.cycles, t.energy_fj) == (r.cycles, r.energy_fj), "timing twin differs"
        return True

    expect(guarded(body, fork=backend == "c"), names=("fmt", "weight_fmt"),
           what=f"matmul {a.dtype}{a.shape} x {b.shape} {fmt}/{wfmt} {backend}")


BAD_ARRAYS = st.sampled_from([
    np.zeros((0, 4), np.float32), np.zeros((4,), np.float32), np.zeros((1, 1, 1, 1, 2, 4)),
    np.ones((2, 4), np.complex64), np.array([["a"] * 4] * 2), np.ones((2, 4), bool),
    np.ones((2, 4), np.int32), np.ones((2, 4), object),
    np.ma.masked_array(np.ones((2, 4), np.float32), mask=np.eye(2, 4, dtype=bool)),
    [[1.0] * 4] * 2, (2, 4), (2, -4), (2, 4.5), (2, 10**12), (True, 4), "2x4", None, 5])

MM_KWARGS = {
    "fmt": hostile_choice(FMTS), "weight_fmt": hostile_choice(FMTS + [None]),
    "backend": hostile_choice(["c", "numba"]), "mode": hostile_choice(["functional", "timing"]),
    "network": hostile_choice(["packet", "message", None]), "device": hostile_choice(["tiny"]),
    "progress": st.sampled_from([None, 5, "bar", True]), "debug_hook": st.sampled_from([None, 5, "x"]),
    "a": BAD_ARRAYS, "b": BAD_ARRAYS, "colour": st.just(1),
}


@examples(80)
@given(st.sampled_from(sorted(MM_KWARGS)).flatmap(lambda k: st.tuples(st.just(k), MM_KWARGS[k])))
def test_matmul_bad_arguments_are_named(change):
    name, value = change
    kw = dict(a=_data((2, 4), 1), b=_data((4, 3), 2), device=TINY)
    kw[name] = value
    names = {"a": ("a",), "b": ("b",), "device": ("device", "preset")}.get(name, (name,))

    def body():
        r = matmul(kw.pop("a"), kw.pop("b"), **kw)
        check_result(r, "matmul")
        if r.output is not None:
            ref = matmul_reference(np.asarray(kw_a), np.asarray(kw_b), r.plan)
            assert np.array_equal(bits(r.output), bits(ref)), "output differs from the reference"
            assert not np.ma.isMaskedArray(kw_a) and not np.ma.isMaskedArray(kw_b), \
                "a masked array was accepted (its mask ignored)"
        return True

    kw_a, kw_b = kw["a"], kw["b"]
    expect(guarded(body, fork=kw.get("backend") != "numba"), names=names,
           what=f"matmul({name}={value!r})")


# ---- scale_rows -------------------------------------------------------------------------------

@examples(40)
@given(st.integers(1, 40), st.integers(1, 70), st.sampled_from([np.float32, np.float16]),
       st.booleans(), st.sampled_from(["c", "numba"]), st.integers(0, 99))
def test_scale_rows_equals_the_reference(rows, cols, dtype, special, backend, seed):
    x, s = _data((rows, cols), seed, dtype, special), _data((rows,), seed + 1, dtype, special)

    def body():
        r = scale_rows(x, s, device=TINY, backend=backend)
        check_result(r, "scale_rows")
        assert np.array_equal(bits(r.output), bits(scale_rows_reference(x, s)))
        t = scale_rows(x.shape, s.shape, device=TINY, mode="timing")
        assert (t.cycles, t.energy_fj) == (r.cycles, r.energy_fj), "timing twin differs"
        return True

    expect(guarded(body, fork=backend == "c"), what=f"scale_rows {x.dtype}{x.shape} {backend}")


SR_KWARGS = {"x": BAD_ARRAYS, "s": BAD_ARRAYS, "backend": hostile_choice(["c", "numba"]),
             "mode": hostile_choice(["functional", "timing"]), "device": hostile_choice(["tiny"]),
             "network": hostile_choice(["packet", "message", None]),
             "progress": st.sampled_from([5, "bar"]), "colour": st.just(1)}


@examples(40)
@given(st.sampled_from(sorted(SR_KWARGS)).flatmap(lambda k: st.tuples(st.just(k), SR_KWARGS[k])))
def test_scale_rows_bad_arguments_are_named(change):
    name, value = change
    kw = dict(x=_data((2, 4), 1), s=_data((2,), 2), device=TINY)
    kw[name] = value
    names = {"x": ("x",), "s": ("s",), "device": ("device", "preset")}.get(name, (name,))

    def body():
        x, s = kw.pop("x"), kw.pop("s")
        r = scale_rows(x, s, **kw)
        check_result(r, "scale_rows")
        if r.output is not None:
            assert not np.ma.isMaskedArray(x), "a masked array was accepted (its mask ignored)"
            assert np.array_equal(bits(r.output), bits(scale_rows_reference(x, s)))
        return True

    expect(guarded(body, fork=kw.get("backend") != "numba"), names=names,
           what=f"scale_rows({name}={value!r})")


# ---- attention --------------------------------------------------------------------------------

ATT_SHAPES = st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3), st.integers(1, 5),
                       st.integers(1, 80), st.sampled_from([8, 16, 32, 64, 20]))


def _mask(kind, b, hq, sq, skv, seed):
    rng = np.random.default_rng(seed)
    if kind == "none":
        return None
    if kind == "full":
        return rng.random((b, hq, sq, skv)) < 0.7
    if kind == "keys":
        return rng.random((b, 1, 1, skv)) < 0.7
    return np.broadcast_to(rng.random((1, 1, sq, skv)) < 0.5, (b, hq, sq, skv))


@examples(60)
@given(ATT_SHAPES, st.sampled_from(["none", "full", "keys", "broadcast"]), st.booleans(),
       st.sampled_from([None, 0.5, 1e-3]), st.sampled_from([None, "dimc", "vector"]),
       st.sampled_from(FMTS), st.sampled_from(["c", "numba"]), st.integers(0, 99))
def test_attention_equals_the_reference(shape, mask, causal, scale, path, fmt, backend, seed):
    b, hkv, g, sq, skv, d = shape
    hq = hkv * g
    q, k, v = _data((b, hq, sq, d), seed), _data((b, hkv, skv, d), seed + 1), _data(
        (b, hkv, skv, d), seed + 2)
    am = _mask(mask, b, hq, sq, skv, seed)
    kw = dict(attn_mask=am, is_causal=causal, scale=scale, fmt=fmt, path=path, device=TINY)

    def body():
        r = attention(q, k, v, backend=backend, **kw)
        check_result(r, "attention")
        ref = attention_reference(q, k, v, r.plan, attn_mask=am, is_causal=causal, scale=scale,
                                  device=r.device)
        assert np.array_equal(bits(r.output), bits(ref)), "output differs from the reference"
        t = attention(q.shape, k.shape, v.shape, mode="timing", **kw)
        assert (t.cycles, t.energy_fj) == (r.cycles, r.energy_fj), "timing twin differs"
        return True

    expect(guarded(body, fork=backend == "c"), names=("path", "fmt", "kv_fmt"),
           what=f"attention {shape} mask={mask} causal={causal} scale={scale} path={path} "
                f"{fmt} {backend}")


ATT_KWARGS = {
    "attn_mask": st.sampled_from([np.ones((1, 1, 1, 1, 5), bool), np.ones((2, 2), np.float32),
                                  np.ones((1, 1, 3, 7), bool), "all", 5, np.ones(5, bool),
                                  np.ones((1, 2, 3, 5), np.int8)]),
    "is_causal": HOSTILE_BOOL, "scale": st.one_of(BAD_FLOATS, NOT_NUMBERS),
    "fmt": hostile_choice(FMTS), "kv_fmt": hostile_choice(FMTS + [None]),
    "path": hostile_choice(["dimc", "vector", None]), "backend": hostile_choice(["c", "numba"]),
    "mode": hostile_choice(["functional", "timing"]), "cache": st.sampled_from([5, "c", [], object()]),
    "network": hostile_choice(["packet", "message"]), "device": hostile_choice(["tiny"]),
    "q": BAD_ARRAYS, "k": BAD_ARRAYS, "v": BAD_ARRAYS, "colour": st.just(1),
    "progress": st.sampled_from([5, "bar"]),
}


@examples(80)
@given(st.sampled_from(sorted(ATT_KWARGS)).flatmap(lambda k: st.tuples(st.just(k), ATT_KWARGS[k])))
def test_attention_bad_arguments_are_named(change):
    name, value = change
    kw = dict(q=_data((1, 2, 3, 16), 1), k=_data((1, 1, 5, 16), 2), v=_data((1, 1, 5, 16), 3),
              device=TINY)
    kw[name] = value
    names = {"device": ("device", "preset"), "attn_mask": ("attn_mask", "mask")}.get(name, (name,))
    q0, k0, v0 = kw["q"], kw["k"], kw["v"]

    def body():
        r = attention(kw.pop("q"), kw.pop("k"), kw.pop("v"), **kw)
        check_result(r, "attention")
        if r.output is not None:
            ref = attention_reference(q0, k0, v0, r.plan, attn_mask=kw.get("attn_mask"),
                                      is_causal=bool(kw.get("is_causal", False)),
                                      scale=kw.get("scale"), device=r.device)
            assert np.array_equal(bits(r.output), bits(ref)), "output differs from the reference"
        return True

    expect(guarded(body, fork=kw.get("backend") != "numba"), names=names,
           what=f"attention({name}={value!r})")


# ---- KVCache ----------------------------------------------------------------------------------

KV_KWARGS = {"max_len": hostile_int(0, 300), "lengths": st.sampled_from(
                 [[3], [0], [-1], [4], [3, 3], 3, "3", [3.5], None]),
             "max_new": hostile_int(1, 20), "heads": hostile_int(1, 4),
             "fmt": hostile_choice(FMTS), "kv_fmt": hostile_choice(FMTS + [None]),
             "backend": hostile_choice(["c", "numba"]), "mode": hostile_choice(["functional", "timing"]),
             "device": hostile_choice(["tiny"]), "colour": st.just(1)}


@examples(60)
@given(st.sampled_from(sorted(KV_KWARGS)).flatmap(lambda k: st.tuples(st.just(k), KV_KWARGS[k])))
def test_kvcache_bad_arguments_are_named(change):
    name, value = change
    kw = dict(max_len=32, heads=2, device=TINY)
    kw[name] = value
    k, v = _data((1, 1, 3, 16), 1), _data((1, 1, 3, 16), 2)

    def body():
        cache = KVCache(k, v, **kw)
        for key in ("max_len", "max_new", "heads"):
            if key in kw and kw[key] is not None:
                got = getattr(cache, {"heads": "hq"}.get(key, key))
                assert type(kw[key]) is not bool and got == kw[key], \
                    f"{key}={kw[key]!r} was coerced to {got!r}"
        return True

    names = ("device", "preset") if name == "device" else (name,)
    if name in ("max_len", "max_new", "heads"):     # too large: the budget names the figure
        names += ("budget",)
    expect(guarded(body, fork=kw.get("backend") != "numba"), names=names,
           what=f"KVCache({name}={value!r})")


STEP = st.tuples(st.integers(0, 4), st.sampled_from(["ok", "bad_sq", "bad_kw", "bad_shape"]),
                 st.integers(0, 99))
STEP_BAD_KW = [("path", "bogus"), ("backend", "bogus"), ("fmt", "fp32"), ("is_causal", False),
               ("mode", "timing"), ("scale", "x"),
               ("colour", 1)]


@examples(40)
@given(st.lists(STEP, min_size=1, max_size=4), st.sampled_from(["c", "numba"]))
def test_kvcache_failed_steps_leave_no_trace(steps, backend):
    """Good steps with failing ones between them equal the same good steps on a fresh cache."""
    rng_k, rng_v = _data((1, 1, 5, 16), 7), _data((1, 1, 5, 16), 8)

    def new_cache():
        return KVCache(rng_k, rng_v, max_len=24, max_new=3, heads=2, device=TINY, backend=backend)

    def body():
        a, b = new_cache(), new_cache()
        for sq, kind, seed in steps:
            sq = max(sq, 1) if kind == "ok" else sq
            q, kn, vn = _data((1, 2, sq, 16), seed), _data((1, 1, sq, 16), seed + 1), _data(
                (1, 1, sq, 16), seed + 2)
            if kind != "ok":
                kw = {}
                if kind == "bad_kw":
                    kw = dict([STEP_BAD_KW[seed % len(STEP_BAD_KW)]])
                if kind == "bad_shape":
                    kn = _data((1, 1, sq + 1, 16), seed)
                if kind == "bad_sq" and sq <= 3:
                    sq, q = 0, q[:, :, :0]
                    kn, vn = kn[:, :, :0], vn[:, :, :0]
                try:
                    attention(q, kn, vn, cache=a, **kw)
                except Exception as exc:   # noqa: BLE001 - the kind is checked below
                    assert _is_chipemu(exc), f"step {kind} {kw}: raw {type(exc).__name__}: {exc}"
                    continue
                raise AssertionError(f"failing step accepted: sq={sq} {kind} {kw}")
            ra = attention(q, kn, vn, cache=a)
            rb = attention(q, kn, vn, cache=b)
            check_result(ra, "decode step")
            assert figures(ra) == figures(rb), "a failed step changed the next good step"
            assert np.array_equal(bits(ra.output), bits(rb.output))
        return True

    expect(guarded(body, fork=backend == "c"), what=f"steps {steps} {backend}")


def _is_chipemu(exc):
    from chipemu.emulator.errors import ChipemuError
    return isinstance(exc, ChipemuError)
