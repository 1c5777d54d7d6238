"""Format rules: registry, element conversions vs ml_dtypes, three bit-identical implementations."""
import ml_dtypes
import numpy as np
import pytest

from chipemu.emulator import FORMATS, FormatError, QTensor, ShapeError, dequantize, quantize
from chipemu.emulator.errors import BackendError, ChipemuError
from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import DIMC_FORMATS, get_format, unpack_codes

BACKENDS = ("numpy", "numba", "c")
MINIFLOATS = {  # chipemu element format -> ml_dtypes type
    "mxfp8_e4m3": ml_dtypes.float8_e4m3fn,
    "mxfp8_e5m2": ml_dtypes.float8_e5m2,
    "mxfp6_e3m2": ml_dtypes.float6_e3m2fn,
    "mxfp6_e2m3": ml_dtypes.float6_e2m3fn,
    "mxfp4_e2m1": ml_dtypes.float4_e2m1fn,
}


def bits(a):
    return np.asarray(a, np.float32).view(np.uint32)


def one_block(spec, codes, scale_code=127):
    """A QTensor of one row holding `codes` (padded to a whole block) under one scale code."""
    n = -(-len(codes) // spec.block_size) * spec.block_size
    c = np.zeros(n, spec.container)
    c[: len(codes)] = codes
    scales = np.full(n // spec.block_size, scale_code, np.uint8)
    return QTensor(spec.name, (n,), 0, c, scales)


def test_registry_storage_bits():
    want = {"fp32": 32, "bf16": 16, "fp16": 16, "int8": 8, "mxint8": 8.25, "mxint4": 4.25,
            "mxfp8_e4m3": 8.25, "mxfp8_e5m2": 8.25, "mxfp6_e3m2": 6.25, "mxfp6_e2m3": 6.25,
            "mxfp4_e2m1": 4.25, "bfp16": 8.125, "bfp12": 4.125}
    assert {n: s.storage_bits for n, s in FORMATS.items()} == want
    assert sorted(DIMC_FORMATS) == ["bfp12", "bfp16", "int8", "mxint4", "mxint8"]
    assert len({s.code for s in FORMATS.values()}) == len(FORMATS)


@pytest.mark.parametrize("name", MINIFLOATS)
def test_minifloat_max_value_matches_ml_dtypes(name):
    assert FORMATS[name].max_value == float(ml_dtypes.finfo(MINIFLOATS[name]).max)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", MINIFLOATS)
def test_every_minifloat_code_decodes_like_ml_dtypes(name, backend):
    spec = FORMATS[name]
    codes = np.arange(1 << spec.elem_bits, dtype=np.uint8)
    got = one_block(spec, codes).dequantize(backend=backend)[: codes.size]
    want = codes.view(MINIFLOATS[name]).astype(np.float32)
    np.testing.assert_array_equal(got, want)          # NaN positions must match too


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_e8m0_scale_decodes_like_ml_dtypes(backend):
    spec = FORMATS["mxfp8_e4m3"]
    one = 0x38                                         # e4m3 1.0
    got = [one_block(spec, [one], s).dequantize(backend=backend)[0] for s in range(256)]
    want = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e8m0fnu).astype(np.float32)
    np.testing.assert_array_equal(np.array(got, np.float32), want)


def _grid(dtype):
    """Every finite non-negative value of an ml_dtypes minifloat, sorted."""
    v = np.arange(256, dtype=np.uint8)
    vals = v.view(dtype).astype(np.float64) if np.dtype(dtype).itemsize == 1 else None
    vals = vals[np.isfinite(vals) & (vals >= 0)]
    return np.unique(vals)


@pytest.mark.parametrize("name", MINIFLOATS)
def test_minifloat_encode_matches_ml_dtypes(name):
    """Inside one block whose scale is 2^0, element codes equal ml_dtypes' RNE conversion."""
    spec, dt = FORMATS[name], MINIFLOATS[name]
    codes = np.arange(1 << spec.elem_bits, dtype=np.uint8)
    grid = np.unique(np.abs(codes.view(dt).astype(np.float64)))
    grid = grid[np.isfinite(grid)]
    mids = (grid[1:] + grid[:-1]) / 2                  # halfway cases: ties to even
    rng = np.random.default_rng(1)
    rand = rng.uniform(0, spec.max_value, 2000)
    tiny = rng.uniform(0, grid[1], 200)                # the element's subnormal range
    vals = np.concatenate([grid, mids, np.nextafter(mids, 0), np.nextafter(mids, 1), rand, tiny])
    vals = vals[vals <= spec.max_value].astype(np.float32)
    vals = np.concatenate([vals, -vals, [0.0, -0.0]]).astype(np.float32)
    anchor = np.float32(2.0 ** spec.emax)              # fixes the shared exponent at 0
    per = spec.block_size - 1
    n_blocks = -(-vals.size // per)
    x = np.zeros((n_blocks, spec.block_size), np.float32)
    x[:, 0] = anchor
    body = np.zeros(n_blocks * per, np.float32)
    body[: vals.size] = vals
    x[:, 1:] = body.reshape(n_blocks, per)
    for backend in BACKENDS:
        q = quantize(x, name, backend=backend)
        assert (q.scales == 127).all()
        got = q.codes[:, 1:].reshape(-1)[: vals.size]
        np.testing.assert_array_equal(got, vals.astype(dt).view(np.uint8), err_msg=backend)


@pytest.mark.parametrize("name", MINIFLOATS)
def test_minifloat_saturates_beyond_max_normal(name):
    spec = FORMATS[name]
    top = np.float32(2.0 ** (spec.emax + 1))
    x = np.array([np.nextafter(top, 0, dtype=np.float32), spec.max_value * 1.01, 1.0], np.float32)
    for backend in BACKENDS:
        q = quantize(x, name, backend=backend)
        assert q.scales[0] == 127
        assert q.codes[0] == q.codes[1] == spec.max_mag
    # ml_dtypes agrees where it saturates too (fp6, fp4); fp8 goes to NaN/Inf there instead
    if spec.elem_bits < 8:
        np.testing.assert_array_equal(q.codes[:2], x[:2].astype(MINIFLOATS[name]).view(np.uint8))


@pytest.mark.parametrize("name", [n for n, s in FORMATS.items() if s.scale_bits])
def test_nan_or_inf_makes_a_nan_block_and_only_that_block(name):
    spec = FORMATS[name]
    bs = spec.block_size
    x = np.linspace(-3, 3, 3 * bs).astype(np.float32)
    x[1] = np.nan
    x[bs + 5] = -np.inf
    for backend in BACKENDS:
        q = quantize(x, name, backend=backend)
        assert list(q.scales) == [255, 255, q.scales[2]] and q.scales[2] != 255
        assert not q.codes[: 2 * bs].any()
        d = q.dequantize(backend=backend)
        assert np.isnan(d[: 2 * bs]).all() and np.isfinite(d[2 * bs:]).all()


@pytest.mark.parametrize("name", [n for n, s in FORMATS.items() if s.scale_bits])
def test_all_zero_block_and_extreme_blocks(name):
    spec = FORMATS[name]
    bs = spec.block_size
    big = np.float32(3.4e38)
    x = np.zeros(4 * bs, np.float32)
    x[bs] = -0.0
    x[2 * bs: 3 * bs] = np.linspace(-1.0, 1.0, bs) * big                             # huge block
    x[3 * bs:] = np.arange(bs, dtype=np.float32) * np.float32(1e-45)                  # subnormals
    for backend in BACKENDS:
        q = quantize(x, name, backend=backend)
        assert q.scales[0] == 0 and q.scales[1] == 0           # all-zero block: scale 2^-127
        assert q.scales[2] == 127 - spec.emax + 127
        assert q.scales[3] == 0                                # clamped at 2^-127
        d = q.dequantize(backend=backend)
        assert (d[: 2 * bs] == 0).all() and np.isfinite(d).all()
        big_err = np.abs(d[2 * bs: 3 * bs].astype(np.float64) - x[2 * bs: 3 * bs])
        s = 127 - spec.emax
        if spec.kind == 5:   # half a top-binade quantum, or the saturation gap above max normal
            bound = 2.0 ** s * max(2.0 ** (spec.emax - spec.mbits - 1), 2.0 ** (spec.emax + 1) - spec.max_value)
        else:                # one quantum (values just below 2 saturate to 127/64)
            bound = 2.0 ** (s - spec.mbits)
        assert big_err.max() <= bound


@pytest.mark.parametrize("name", ["mxint8", "mxint4", "bfp16", "bfp12"])
def test_block_int_rule_is_symmetric_and_decodes_minus_two(name):
    spec = FORMATS[name]
    x = np.array([-1.999, 1.999, -1.0, 0.3] * spec.block_size, np.float32)[: spec.block_size]
    q = quantize(x, name)
    assert q.codes.min() == -spec.max_mag and q.codes.max() == spec.max_mag
    most_negative = -(1 << (spec.elem_bits - 1))               # -128 / -8: never produced ...
    d = one_block(spec, [most_negative]).dequantize()
    assert d[0] == -2.0                                       # ... but decodes to -2 (OCP)


def test_int8_tensor_scale_rule():
    x = np.array([[0.5, -2.54], [1.27, 0.0]], np.float32)
    scale = np.float32(2.54) / np.float32(127)
    want = np.clip(np.rint(x / scale), -127, 127)           # float32 division, then RNE
    assert want.tolist() == [[25, -127], [64, 0]]     # 1.27 / scale = 63.5 in float32: ties to even
    for backend in BACKENDS:
        q = quantize(x, "int8", backend=backend)
        assert q.scales == scale
        np.testing.assert_array_equal(q.codes, want)
        assert quantize(np.zeros(3), "int8", backend=backend).scales == np.float32(2.0 ** -149)
        assert np.isnan(quantize([1.0, np.inf], "int8", backend=backend).dequantize()).all()


@pytest.mark.parametrize("name,dtype", [("bf16", ml_dtypes.bfloat16), ("fp16", np.float16)])
def test_half_formats_match_ml_dtypes(name, dtype):
    rng = np.random.default_rng(2)
    all_codes = np.arange(1 << 16, dtype=np.uint16)
    with np.errstate(invalid="ignore"):                 # the NaN codes
        grid = np.sort(all_codes.view(dtype).astype(np.float64))
    grid = grid[np.isfinite(grid)]
    mids = (grid[:-1] + grid[1:]) / 2                                     # halfway cases
    vals = np.concatenate([grid, mids, np.nextafter(mids, 0), np.nextafter(mids, np.inf),
                           (rng.standard_normal(10000) * 10.0 ** rng.integers(-40, 38, 10000)),
                           [np.inf, -np.inf, 3.4e38, 1e-45, -0.0]]).astype(np.float32)
    vals = vals[~np.isnan(vals)]
    for backend in BACKENDS:
        q = quantize(vals, name, backend=backend)
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(q.codes, vals.astype(dtype).view(np.uint16))
        decoded = QTensor(name, (all_codes.size,), 0, all_codes, np.zeros(0, np.uint8))
        np.testing.assert_array_equal(decoded.dequantize(backend=backend),
                                      all_codes.view(dtype).astype(np.float32))
        assert np.isnan(quantize([np.nan], name, backend=backend).dequantize()).all()


SHAPES_AXES = [((7,), 0), ((3, 33), 0), ((3, 33), 1), ((2, 5, 65), 0), ((2, 5, 65), 1),
               ((2, 5, 65), 2), ((1, 1, 100), -1), ((129, 2), 0)]


def _mixed(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30, shape)
    flat = x.reshape(-1)
    flat[rng.integers(0, flat.size, 3)] = [0.0, -0.0, 1e-42]
    if flat.size > 40:
        flat[rng.integers(0, flat.size, 2)] = [np.nan, -np.inf]
    return x.astype(np.float32)


@pytest.mark.parametrize("name", list(FORMATS))
def test_three_implementations_identical_every_axis(name):
    for i, (shape, axis) in enumerate(SHAPES_AXES):
        x = _mixed(shape, i)
        qs = [quantize(x, name, axis=axis, backend=b) for b in BACKENDS]
        ds = [dequantize(q, backend=b) for q, b in zip(qs, BACKENDS)]
        for q, d, b in zip(qs[1:], ds[1:], BACKENDS[1:]):
            np.testing.assert_array_equal(q.codes, qs[0].codes, err_msg=f"{b} {shape} {axis}")
            np.testing.assert_array_equal(q.scales, qs[0].scales, err_msg=f"{b} {shape} {axis}")
            np.testing.assert_array_equal(bits(d), bits(ds[0]), err_msg=f"{b} {shape} {axis}")
        assert ds[0].shape == shape and qs[0].codes.shape[-1] == shape[axis]


def test_blocks_run_along_axis_with_a_partial_last_block():
    x = np.arange(2 * 70, dtype=np.float32).reshape(70, 2)
    q = quantize(x, "mxint8", axis=0)
    assert q.codes.shape == (2, 70) and q.scales.shape == (2, 3)        # 32 + 32 + 6
    assert q.scales[0, 2] == np.frexp(np.float32(138.0))[1] - 1 + 127   # from its 6 values only
    assert q.nbytes == 140 + 6


@pytest.mark.parametrize("name", list(FORMATS))
def test_packing_round_trip_and_nbytes(name):
    spec = get_format(name)
    q = quantize(_mixed((3, 45), 7), name)
    packed = q.packed_codes()
    assert packed.dtype == np.uint8 and packed.size == -(-q.size * spec.elem_bits // 8)
    scale_bytes = 4 if name == "int8" else q.scales.size
    assert q.nbytes == packed.size + scale_bytes
    np.testing.assert_array_equal(unpack_codes(packed, name, q.size), q.codes.reshape(-1))


def test_thread_count_does_not_change_results(monkeypatch):
    import numba
    x = _mixed((64, 4096), 3)
    monkeypatch.setenv("CHIPEMU_NUM_THREADS", "1")
    one = quantize(x, "mxfp8_e4m3")
    monkeypatch.setenv("CHIPEMU_NUM_THREADS", "2")
    two = quantize(x, "mxfp8_e4m3")
    np.testing.assert_array_equal(one.codes, two.codes)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        n1 = quantize(x, "mxint4", backend="numba")
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        n2 = quantize(x, "mxint4", backend="numba")
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(n1.codes, n2.codes)


@pytest.mark.parametrize("bad,match", [
    ("mxint3", "valid names: fp32, bf16"), (None, "not a known format"), (99, "not a known format")])
def test_unknown_format(bad, match):
    with pytest.raises(FormatError, match=match):
        quantize([1.0], bad)


@pytest.mark.parametrize("x,match", [
    (np.array([1 + 2j]), "complex128"), (np.array(["a"]), "<U1"), (np.array([None]), "object"),
    (np.zeros((0, 3)), "empty"), (np.float32(1.0), "scalar"), ([[1.0], [1.0, 2.0]], "cannot be read")])
def test_bad_arrays(x, match):
    with pytest.raises(ShapeError, match=match):
        quantize(x, "mxint8")


def test_bad_axis_backend_and_qtensor():
    with pytest.raises(ShapeError, match=r"axis=2 is out of range; allowed: an integer in \[-2, 1\]"):
        quantize(np.ones((2, 3)), "mxint8", axis=2)
    with pytest.raises(BackendError, match="backend='cuda'"):
        quantize([1.0], "mxint8", backend="cuda")
    with pytest.raises(ShapeError, match="codes must be int8 of shape"):
        QTensor("mxint8", (4,), 0, np.zeros(4, np.uint8), np.zeros(1, np.uint8))
    with pytest.raises(ShapeError, match="scales must be uint8 of shape"):
        QTensor("mxint8", (40,), 0, np.zeros(40, np.int8), np.zeros(1, np.uint8))
    with pytest.raises(ChipemuError):
        dequantize(np.ones(3))


def test_integer_and_half_inputs_are_converted_to_float32():
    a = quantize(np.arange(40, dtype=np.int16), "mxint8")
    b = quantize(np.arange(40, dtype=np.float32), "mxint8")
    np.testing.assert_array_equal(a.codes, b.codes)
    c = quantize(np.arange(40).astype(ml_dtypes.bfloat16), "mxint8")
    np.testing.assert_array_equal(c.codes, b.codes)


# --- properties (hypothesis) -------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

BLOCK_FORMATS = [n for n, s in FORMATS.items() if s.scale_bits]
finite32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(BLOCK_FORMATS + ["int8", "bf16", "fp16"]),
       arrays(np.float32, st.integers(1, 150), elements=finite32))
def test_quantize_is_idempotent_on_its_own_output(name, x):
    """Dequantized values lie on the grid of the same scales: quantizing them again changes nothing."""
    q = quantize(x, name)
    d = q.dequantize()
    if not np.isfinite(d).all():
        return   # fp16 overflow, or int8 at max|x| near FLT_MAX (docs/formats.md): Inf is no finite input
    q2 = quantize(d, name, backend="numba")
    np.testing.assert_array_equal(q2.codes, q.codes)
    np.testing.assert_array_equal(q2.scales, q.scales)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(BLOCK_FORMATS), arrays(np.float32, 64, elements=finite32))
def test_quantization_is_monotone_within_a_block(name, x):
    """Sorted inputs sharing one scale stay sorted after a round trip (RNE + saturation are monotone)."""
    x = np.sort(x)
    bs = FORMATS[name].block_size
    d = quantize(x, name).dequantize()
    for b in range(0, x.size, bs):
        assert (np.diff(d[b:b + bs]) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(BLOCK_FORMATS), arrays(np.float32, st.integers(1, 100), elements=finite32))
def test_round_trip_error_is_bounded_by_the_block_quantum(name, x):
    spec = FORMATS[name]
    q = quantize(x, name)
    err = np.abs(q.dequantize().astype(np.float64) - x)
    s = q.scales.astype(np.float64).repeat(spec.block_size)[: x.size] - 127
    if spec.kind == 5:   # half an ulp of the top binade, or the saturation gap above max normal
        step = max(2.0 ** (spec.emax - spec.mbits - 1), 2.0 ** (spec.emax + 1) - spec.max_value)
    else:                # one quantum: values just below 2^(S+1) saturate to 127/64
        step = 2.0 ** -spec.mbits
    assert (err <= np.ldexp(step, s.astype(np.int64))).all()


X2 = np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32)


@pytest.mark.parametrize("call,exc,text", [
    (lambda: quantize(X2, "mxint8", axis=True), ShapeError, r"axis=True \(bool\)"),
    (lambda: quantize(X2, "mxint8", axis=1.0), ShapeError, r"axis=1.0 \(float\)"),
    (lambda: quantize(X2, "mxint8", backend=None), BackendError, "backend=None"),
    (lambda: quantize(np.ma.masked_array(X2, mask=X2 > 0), "mxint8"), ShapeError, "masked"),
    (lambda: dequantize(quantize(X2, "mxint8"), backend="cuda"), BackendError, "backend='cuda'"),
    # codes beyond the element bits were cut to their low bits without a word
    (lambda: QTensor("mxint4", (32,), 0, np.full(32, 100, np.int8), np.zeros(1, np.uint8)),
     FormatError, r"codes\[0\]=100 is not a mxint4 code; allowed: -8..7"),
    (lambda: QTensor("bfp12", (64,), 0, np.full(64, -9, np.int8), np.zeros(1, np.uint8)),
     FormatError, "allowed: -8..7"),
    (lambda: QTensor("mxfp4_e2m1", (32,), 0, np.full(32, 16, np.uint8), np.zeros(1, np.uint8)),
     FormatError, "allowed: 0..15"),
    (lambda: QTensor("mxfp6_e3m2", (32,), 0, np.full(32, 64, np.uint8), np.zeros(1, np.uint8)),
     FormatError, "allowed: 0..63"),
    (lambda: QTensor("mxint8", (32.0,), 0, np.zeros(32, np.int8), np.zeros(1, np.uint8)),
     ShapeError, "shape=32.0"),
    (lambda: QTensor("mxint8", (32,), True, np.zeros(32, np.int8), np.zeros(1, np.uint8)),
     ShapeError, "axis=True"),
    # a wrong count returned fewer codes
    (lambda: unpack_codes(quantize(X2, "mxint8").packed_codes(), "mxint8", 300), ShapeError,
     "count=300"),
    (lambda: unpack_codes(quantize(X2, "mxint4").packed_codes(), "mxint4", 100), ShapeError,
     "count=100"),
    (lambda: unpack_codes(b"\0\0", "mxint8", 1), ShapeError, "count=1"),
    (lambda: unpack_codes(np.ones(4), "mxint8", 4), ShapeError, "packed"),
    (lambda: unpack_codes([256], "mxint8", 1), ShapeError, "packed"),
    (lambda: unpack_codes(b"\0", "mxint8", True), ShapeError, "count=True"),
])
def test_strict_arguments_and_code_ranges(call, exc, text):
    with pytest.raises(exc, match=text):
        call()


def test_codes_within_range_and_byte_lists_are_accepted():
    q = QTensor("mxint4", (32,), 0, np.arange(32, dtype=np.int8) % 16 - 8, np.zeros(1, np.uint8))
    assert np.array_equal(unpack_codes(list(q.packed_codes()), "mxint4", 32), q.codes)
    assert unpack_codes(b"\x01\xff", "mxint8", 2).tolist() == [1, -1]


@pytest.mark.parametrize("call,text", [
    (lambda: layout.unpack_codes(np.zeros(1, np.uint8), 4, 8, True), "buf has 1 bytes"),
    (lambda: layout.unpack_rows(np.zeros(100), "mxint8", 1, 32), "uint8"),
    (lambda: layout.unpack_rows(np.zeros(10, np.uint8), "mxint8", 1, 32), "fewer than"),
    (lambda: layout.unpack_weights(np.zeros(10, np.uint8), "mxint8", 32, 4), "fewer than"),
    (lambda: layout.row_bytes("mxint8", True), "n=True"),
    (lambda: layout.weight_bytes("mxint8", 1.5, 4), "nrows=1.5"),
    (lambda: layout.decode_rows(np.zeros(33, np.uint8), "mxint8", "1", 32), "rows='1'"),
])
def test_layout_arguments_are_named(call, text):
    """The device-layout helpers read bytes only, exactly as many as asked for."""
    with pytest.raises(ShapeError, match=text):
        call()
