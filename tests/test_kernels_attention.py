"""chipemu.kernels.attention.api: twins vs the plan-replaying NumPy reference, bit for bit; masks that
skip work; GQA; error vs float64; counts equal across backends and modes; bad input."""
import numpy as np
import pytest

from chipemu.emulator.errors import CapacityError, FormatError, ShapeError
from chipemu.kernels import attention
from chipemu.kernels.attention.ref import attention_reference


def _qkv(b, hq, hkv, sq, skv, d, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((b, hq, sq, d), dtype=np.float32),
            rng.standard_normal((b, hkv, skv, d), dtype=np.float32),
            rng.standard_normal((b, hkv, skv, d), dtype=np.float32))


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def _float64(q, k, v, keep, scale):
    g = q.shape[1] // k.shape[1]
    kk = np.repeat(k, g, axis=1).astype(np.float64)
    vv = np.repeat(v, g, axis=1).astype(np.float64)
    s = np.einsum("bhqd,bhkd->bhqk", q.astype(np.float64), kk) * scale
    s = np.where(keep, s, -np.inf)
    m = s.max(-1, keepdims=True)
    p = np.where(keep, np.exp(s - np.where(np.isfinite(m), m, 0)), 0)
    den = p.sum(-1, keepdims=True)
    return np.einsum("bhqk,bhkd->bhqd", p / np.where(den > 0, den, 1), vv)


def _random_block_mask(b, sq, skv, seed):
    """Missing-data spans: random runs of keys masked for every query (like missing sensor data)."""
    rng = np.random.default_rng(seed)
    m = np.ones((b, 1, sq, skv), bool)
    for i in range(b):
        for _ in range(3):
            a = int(rng.integers(0, skv))
            m[i, :, :, a:a + int(rng.integers(1, 80))] = False
    return m


# pairwise over (device, shape, fmt, causal / mask): every DIMC format, GQA ratios 1/4/8,
# head_dim 64 and 128, odd lengths, padding and random block masks
CASES = [
    ("tiny", (1, 2, 2, 33, 33, 64), "mxint8", "causal"),
    ("tiny", (2, 4, 1, 5, 100, 64), "mxint4", "padding"),
    ("corsair", (1, 8, 1, 3, 130, 128), "bfp16", None),
    ("tiny", (1, 4, 4, 70, 70, 64), "bfp12", "blocks"),
    ("tiny", (1, 2, 2, 1, 257, 64), "int8", "causal"),
    ("corsair", (1, 8, 2, 40, 300, 128), "mxint8", "blocks"),
    ("corsair", (2, 4, 4, 17, 17, 128), "int8", "padding"),
    ("corsair", (1, 8, 8, 65, 65, 64), "mxint4", "causal"),
    ("tiny", (1, 4, 1, 9, 100, 128), "mxint8", "causal"),      # K/V beyond the slots: vector
    ("corsair", (2, 2, 2, 20, 130, 64), "int8", "padding|vector"),
]


def _mask(kind, b, hq, sq, skv, seed=0):
    kind = (kind or "").split("|")[0]
    if kind == "padding":
        lens = np.random.default_rng(seed).integers(1, skv + 1, b)
        return np.arange(skv)[None, None, None, :] < lens[:, None, None, None]
    if kind == "blocks":
        return _random_block_mask(b, sq, skv, seed)
    return None


@pytest.mark.parametrize("dev,shape,fmt,mask", CASES)
def test_twins_equal_reference_bit_for_bit(dev, shape, fmt, mask):
    b, hq, hkv, sq, skv, d = shape
    q, k, v = _qkv(*shape)
    am = _mask(mask, b, hq, sq, skv)
    kw = dict(attn_mask=am, is_causal=mask == "causal", fmt=fmt, device=dev,
              path="vector" if mask and mask.endswith("|vector") else None)
    rc = attention(q, k, v, backend="c", **kw)
    rn = attention(q, k, v, backend="numba", **kw)
    ref = attention_reference(q, k, v, rc.plan, attn_mask=am, is_causal=mask == "causal",
                              device=rc.device)
    assert rc.output.shape == (b, hq, sq, d)
    assert np.array_equal(_bits(rc.output), _bits(ref))
    assert np.array_equal(_bits(rn.output), _bits(ref))
    assert rc.events.events.tobytes() == rn.events.events.tobytes()
    assert (rc.cycles, rc.energy_fj) == (rn.cycles, rn.energy_fj)
    rt = attention(q.shape, k.shape, v.shape, mode="timing", **kw)
    assert rt.events.events.tobytes() == rc.events.events.tobytes()
    assert (rt.cycles, rt.energy_fj) == (rc.cycles, rc.energy_fj)


def test_the_planner_chooses_the_dimc_or_the_vector_unit():
    q, k, v = (1, 4, 9, 128), (1, 1, 100, 128), (1, 1, 100, 128)
    assert attention(q, k, v, device="corsair", mode="timing").plan["qk_on"] == "dimc"
    tiny = attention(q, k, v, device="tiny", mode="timing")   # 4 slots a block, tiny has 2
    assert tiny.plan["qk_on"] == tiny.plan["pv_on"] == "vector"
    ops = tiny.events.events["op"]
    assert (ops == 2).sum() == 0                              # no DIMC_MVM
    with pytest.raises(Exception, match="path"):
        attention(q, k, v, device="tiny", mode="timing", path="gpu")


@pytest.mark.parametrize("fmt,bound", [("mxint8", 0.06), ("bfp16", 0.06), ("int8", 0.06),
                                       ("mxint4", 0.5), ("bfp12", 0.5)])
def test_error_vs_float64_within_documented_bound(fmt, bound):
    q, k, v = _qkv(1, 4, 2, 40, 200, 64, seed=3)
    r = attention(q, k, v, is_causal=True, fmt=fmt, device="tiny")
    keep = np.tril(np.ones((40, 200), bool), k=160)[None, None]
    exact = _float64(q, k, v, keep, 1 / 8)
    assert np.abs(r.output - exact).max() <= bound * np.abs(exact).max()


def test_fully_masked_query_rows_give_zeros():
    q, k, v = _qkv(1, 2, 2, 6, 70, 64, seed=4)
    am = np.ones((1, 2, 6, 70), bool)
    am[0, 1, 2] = False                          # one row of head 1 sees nothing
    am[0, 0] = False                             # every row of head 0 sees nothing
    r = attention(q, k, v, attn_mask=am, device="tiny")
    assert (r.output[0, 0] == 0).all() and (r.output[0, 1, 2] == 0).all()
    assert not np.isnan(r.output).any() and np.abs(r.output[0, 1, 3]).max() > 0


def test_masking_half_the_key_blocks_halves_compute():
    q, k, v = _qkv(1, 8, 8, 64, 1024, 64, seed=5)
    full = attention(q.shape, k.shape, v.shape, device="corsair", mode="timing")
    am = np.ones((1, 1, 64, 1024), bool)
    am[..., 512:] = False                        # the second half of the keys: 8 of 16 blocks
    half = attention(q.shape, k.shape, v.shape, attn_mask=am, device="corsair", mode="timing")
    assert half.metrics["blocks_skipped"] == full.metrics["blocks_computed"] // 2
    ratio_e = half.phases["compute"]["energy_pj"] / full.phases["compute"]["energy_pj"]
    ratio_c = half.metrics["compute_cycles"] / full.metrics["compute_cycles"]
    assert 0.4 <= ratio_e <= 0.65 and 0.4 <= ratio_c <= 0.7
    f = attention(q, k, v, attn_mask=am, device="corsair")
    ref = attention_reference(q, k, v, f.plan, attn_mask=am, device=f.device)
    assert np.array_equal(_bits(f.output), _bits(ref))


def test_causal_prefill_skips_the_upper_triangle_and_its_time():
    shape = (1, 8, 1024, 64)
    c = attention(shape, shape, shape, is_causal=True, device="corsair", mode="timing")
    n = attention(shape, shape, shape, device="corsair", mode="timing")
    total = c.plan["blocks_skipped"] + c.plan["blocks_full"] + c.plan["blocks_partial"]
    assert c.plan["blocks_skipped"] > 0.4 * total
    # key blocks are dealt to the members in turn and chunks to the replicas in a zigzag, so
    # the skipped half of the work is a skipped half of the time
    assert c.metrics["compute_cycles"] < 0.7 * n.metrics["compute_cycles"]
    assert c.phases["compute"]["energy_pj"] < 0.7 * n.phases["compute"]["energy_pj"]


@pytest.mark.parametrize("kwargs,exc,text", [
    (dict(q=(1, 3, 4, 64), k=(1, 2, 4, 64), v=(1, 2, 4, 64)), ShapeError, "multiple of Hkv"),
    (dict(q=(1, 2, 4, 64), k=(1, 2, 4, 32), v=(1, 2, 4, 32)), ShapeError, "head_dim"),
    (dict(q=(1, 2, 4, 64), k=(1, 2, 4, 64), v=(1, 2, 5, 64)), ShapeError, "same shape"),
    (dict(q=(1, 2, 4), k=(1, 2, 4, 64), v=(1, 2, 4, 64)), ShapeError, "4-D"),
    (dict(q=(1, 2, 4, 64), k=(1, 2, 4, 64), v=(1, 2, 4, 64), attn_mask=np.ones((3, 4), bool)),
     ShapeError, "does not broadcast"),
    (dict(q=(1, 2, 4, 64), k=(1, 2, 4, 64), v=(1, 2, 4, 64), attn_mask=np.ones((4, 4))),
     ShapeError, "must be bool"),
    (dict(q=(1, 2, 4, 64), k=(1, 2, 4, 64), v=(1, 2, 4, 64), fmt="fp16"), FormatError, "DIMC"),
    (dict(q=(64, 32, 1, 128), k=(64, 8, 65536, 128), v=(64, 8, 65536, 128)), CapacityError,
     "tiles"),
])
def test_bad_input_is_named(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        attention(mode="timing", device="tiny" if "65536" not in str(kwargs) else "corsair",
                  **kwargs)
