"""Attention from C (csrc/kernels/attention/plan.c, run.c; chipemu_host.h): the one planner,
and chipemu_attention_cost against Python's timing-mode Result, figure for figure."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from chipemu.emulator.device import Device
from chipemu.emulator.errors import CapacityError, FormatError, ShapeError
from chipemu.emulator.native import ffi, lib
from chipemu.emulator.numerics.formats import DIMC_FORMATS, get_format
from chipemu.kernels.attention import attention
from chipemu.kernels.attention import data as D
from chipemu.kernels.attention.plan import default_kv_fmt, plan_attention
from host_helpers import check_run, figures_c, figures_py


def c_cost(dev, shape, fmt, kv_fmt, causal=False):
    out = ffi.new("chipemu_cost *")
    status = lib.chipemu_attention_cost(dev, list(shape), int(causal), get_format(fmt).code,
                                        get_format(kv_fmt).code, out)
    return status, out


def check_same(handles, device, shape, fmt, causal=False):
    kv_fmt = default_kv_fmt(fmt)
    status, c = c_cost(handles[device], shape, fmt, kv_fmt, causal)
    b, hq, hkv, sq, skv, d = shape
    try:
        r = attention((b, hq, sq, d), (b, hkv, skv, d), (b, hkv, skv, d), fmt=fmt,
                      device=device, mode="timing", is_causal=causal)
    except CapacityError as exc:
        assert status == lib.CHIPEMU_ERR_CAPACITY
        assert ffi.string(lib.chipemu_last_error()).decode() == str(exc)
        return None
    assert status == lib.CHIPEMU_OK, ffi.string(lib.chipemu_last_error()).decode()
    assert figures_c(c) == figures_py(r)
    return r


@pytest.mark.parametrize("shape,fmt", [((1, 4, 2, 1, 200, 64), "mxint8"),
                                       ((2, 8, 2, 3, 64, 64), "mxint8"),
                                       ((1, 2, 1, 100, 100, 32), "bfp16"),
                                       ((4, 4, 1, 49, 557, 16), "int8")])
def test_cost_from_c_equals_the_python_timing_run_on_tiny(handles, shape, fmt):
    check_same(handles, "tiny", shape, fmt)


def test_a_decode_step_on_corsair_and_the_vector_path(handles):
    r = check_same(handles, "corsair", (16, 32, 8, 1, 1000, 64), "mxint8")
    assert r.plan["qk_on"] == "dimc"
    r = check_same(handles, "tiny", (2, 4, 4, 40, 496, 16), "mxint8")
    assert r.plan["qk_on"] == "vector"


@settings(max_examples=30, deadline=None)
@given(b=st.integers(1, 4), g=st.sampled_from([1, 2, 4]), hkv=st.sampled_from([1, 2]),
       sq=st.integers(1, 80), skv=st.integers(1, 700), d=st.sampled_from([16, 64, 100]),
       fmt=st.sampled_from(DIMC_FORMATS), causal=st.booleans())
def test_cost_from_c_equals_python_for_any_small_call(handles, b, g, hkv, sq, skv, d, fmt,
                                                      causal):
    check_same(handles, "tiny", (b, g * hkv, hkv, min(sq, skv), skv, d), fmt, causal)


@pytest.mark.parametrize("shape", [(1, 4, 2, 300, 300, 64), (2, 2, 1, 130, 500, 64),
                                   (1, 8, 2, 64, 64, 16), (1, 1, 1, 1000, 1000, 64)])
def test_a_causal_prefill_from_c_skips_what_python_skips(handles, shape):
    r = check_same(handles, "tiny", shape, "mxint8", causal=True)
    if r is not None:
        assert r.plan["blocks_skipped"] > 0 or shape[3] <= 64


@pytest.mark.parametrize("causal", [False, True])
def test_the_c_mask_rules_are_python_s_mask_info(causal):
    dev = Device.preset("tiny")
    for b, hq, hkv, sq, skv in [(1, 4, 2, 70, 130), (2, 2, 1, 300, 65), (1, 1, 1, 9, 64),
                                (1, 2, 1, 100, 300)]:
        keep = D.keep_units(None, causal, b, hq, hkv, sq, skv)
        kb = -(-skv // 64)
        info = D.mask_info(keep, 64, kb)
        ctx = ffi.new("chipemu_attention_mask *", [int(causal), sq, skv, 64, hq // hkv * sq])
        for mq in (1, 7, 32, 64, 200):
            for members in (1, 2, 3):
                for reps in (1, 2, 3):
                    want = info(mq, members, 1, reps)[1]
                    assert lib.chipemu_attention_mask_bias(ctx, mq, members, 1, reps) == want
        plan = plan_attention(b, hq, hkv, sq, skv, 64, "mxint8", dev, mask_info=info)
        assert plan.n_bias == info(plan.mq, plan.members, plan.blocks_per_tile,
                                   plan.replicas)[1]


def test_errors_from_c_are_python_s(handles):
    status, _ = c_cost(handles["tiny"], (1, 3, 2, 1, 64, 64), "mxint8", "mxint8")
    assert status == lib.CHIPEMU_ERR_SIZE
    with pytest.raises(ShapeError, match="heads=3 is not a multiple of kv_heads=2"):
        plan_attention(1, 3, 2, 1, 64, 64, "mxint8", Device.preset("tiny"))
    status, _ = c_cost(handles["tiny"], (1, 2, 1, 1, 64, 64), "mxint8", "mxint4")
    assert status == lib.CHIPEMU_ERR_UNSUPPORTED
    with pytest.raises(FormatError, match="square arrays"):
        plan_attention(1, 2, 1, 1, 64, 64, "mxint8", Device.preset("tiny"), kv_fmt="mxint4")
    bad = ffi.new("int64_t[6]", [1, 2, 1, 1, 0, 64])
    assert lib.chipemu_attention_plan_make(handles["tiny"], bad, 0, 4, 4,
                                           ffi.new("chipemu_attention_plan *")) == \
        lib.CHIPEMU_ERR_SIZE
    assert "kv_len=0" in ffi.string(lib.chipemu_last_error()).decode()


def test_a_failing_mask_rule_raises_its_own_error():
    def broken(mq, members, bpt, reps):
        raise ValueError("the mask rule broke")
    with pytest.raises(ValueError, match="the mask rule broke"):
        plan_attention(1, 2, 1, 1, 64, 64, "mxint8", Device.preset("tiny"), mask_info=broken)
    status = plan_attention(1, 2, 1, 5, 64, 64, "mxint8", Device.preset("tiny"),
                            mask_info=lambda *a: (np.ones((1, 1, 1), np.uint8), 0)).status
    assert status.shape == (1, 1, 1)


def c_run(dev, q, k, v, fmt, scale=float("nan"), causal=False):
    b, hq, sq, d = q.shape
    hkv, skv = k.shape[1], k.shape[2]
    y = np.full(q.shape, np.nan, np.float32)
    out = ffi.new("chipemu_cost *")
    status = lib.chipemu_attention_run(
        dev, [b, hq, hkv, sq, skv, d], int(causal), get_format(fmt).code,
        get_format(default_kv_fmt(fmt)).code, scale, ffi.from_buffer("float[]", q),
        ffi.from_buffer("float[]", k), ffi.from_buffer("float[]", v),
        ffi.from_buffer("float[]", y), out)
    return status, y, out


@settings(max_examples=25, deadline=None)
@given(b=st.integers(1, 3), g=st.sampled_from([1, 2, 4]), hkv=st.sampled_from([1, 2]),
       sq=st.integers(1, 40), skv=st.integers(1, 500), d=st.sampled_from([16, 64, 100]),
       fmt=st.sampled_from(DIMC_FORMATS), causal=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_a_functional_call_from_c_is_bit_exact_with_python(handles, b, g, hkv, sq, skv, d, fmt,
                                                             causal, seed):
    rng = np.random.default_rng(seed)
    sq = min(sq, skv)
    q = rng.standard_normal((b, g * hkv, sq, d), dtype=np.float32)
    k = rng.standard_normal((b, hkv, skv, d), dtype=np.float32)
    v = rng.standard_normal((b, hkv, skv, d), dtype=np.float32)
    status, y, c = c_run(handles["tiny"], q, k, v, fmt, causal=causal)
    check_run(status, y, c, lambda: attention(q, k, v, fmt=fmt, device="tiny",
                                              is_causal=causal))


def test_a_decode_step_from_c_on_corsair_with_a_scale(handles):
    rng = np.random.default_rng(4)
    q = rng.standard_normal((2, 32, 1, 64), dtype=np.float32)
    k = rng.standard_normal((2, 8, 300, 64), dtype=np.float32)
    v = rng.standard_normal((2, 8, 300, 64), dtype=np.float32)
    status, y, _ = c_run(handles["corsair"], q, k, v, "mxint8", scale=0.07)
    assert status == lib.CHIPEMU_OK
    r = attention(q, k, v, scale=0.07, device="corsair")
    assert np.array_equal(y, r.output)
    status, *_ = c_run(handles["tiny"], q[:, :, :, :0], k[:, :, :, :0], v[:, :, :, :0], "mxint8")
    assert status == lib.CHIPEMU_ERR_SIZE
