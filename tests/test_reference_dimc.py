"""dimc_mvm equals the NumPy reference (emulator/reference/dimc.py) bit for bit, on both backends,
for every DIMC format pair (W4A8 included), NaN/Inf inputs and accumulate; vec_convert writes the
rows layout the codec defines; the reference itself is checked against float64 arithmetic."""
import itertools

import numpy as np
import pytest

from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import DIMC_FORMATS, get_format, quantize
from chipemu.emulator.reference import dimc as ref
from testkernels import tile as T
from runtime_helpers import FP32, Prog, machine

K = 64
NVEC = 3


def _x(rng, special):
    x = rng.standard_normal((NVEC, K)).astype(np.float32) * np.float32(3)
    x[0, :5] = 0
    if special:
        x[1, 3] = np.nan            # a NaN block
        x[2, 40] = np.inf           # an Inf block (and for int8 the whole row)
    return x


def _w(rng, fmt, special):
    w = rng.standard_normal((K, 128)).astype(np.float32)
    w[:, 7] *= np.float32(1e-30)                # tiny column: subnormal-range scales
    w[:, 9] *= np.float32(1e30)                 # huge column: overflow to inf
    if special:
        w[33, 2] = np.nan
    return w


def run_mvm(backend, fa, fw, x, w, y_old=None):
    """Quantize x on the device (vec_convert), load W, run dimc_mvm; returns (y, xq bytes, w bytes)."""
    m = machine(backend)
    nc = layout.cols_eff(64, 8, fw)
    wb = layout.encode_weights(w[:, :nc], fw)
    xb = layout.row_bytes(fa, K) * NVEC
    h_w, h_x = m.alloc_host("w", wb), m.alloc_host("x", x)
    s_w, s_x, s_q = m.alloc_sram("w", len(wb)), m.alloc_sram("x", x.nbytes), m.alloc_sram("xq", xb)
    s_y = m.alloc_sram("y", NVEC * nc * 4)
    if y_old is not None:
        m.write(s_y, y_old, tile=5)
    p = (Prog().host_read(h_w, 0, s_w, 0, len(wb)).dimc_load(1, s_w, 0, 0, K, fw)
         .host_read(h_x, 0, s_x, 0, x.nbytes).convert(s_x, 0, s_q, 0, NVEC * K, K, fa, FP32)
         .dimc_mvm(0, 1, s_q, 0, s_y, 0, NVEC, K, fa, y_old is not None))
    m.launch(T.PROGRAM, [5], p.params(), events_per_tile=8)
    y = m.read(s_y, tile=5, dtype=np.float32).reshape(NVEC, nc)
    return y, m.read(s_q, tile=5), wb


PAIRS = list(itertools.product(DIMC_FORMATS, DIMC_FORMATS))


@pytest.mark.parametrize("fa,fw", PAIRS)
@pytest.mark.parametrize("backend", ["c", "numba"])
def test_mvm_matches_reference(fa, fw, backend):
    rng = np.random.default_rng(hash((fa, fw)) % 2 ** 32)
    special = fw not in ("int8",) or fa != "int8"
    x, w = _x(rng, special), _w(rng, fw, special)
    nc = layout.cols_eff(64, 8, fw)
    y, xq, wb = run_mvm(backend, fa, fw, x, w)
    assert xq.tobytes() == layout.encode_rows(x, fa, backend="numpy").tobytes()
    want = ref.mvm_bytes(xq, fa, wb, fw, NVEC, K, nc)
    assert y.view(np.uint32).tobytes() == want.view(np.uint32).tobytes()
    if special:
        assert np.isnan(y[1]).all()                                    # NaN block of x
        assert np.isnan(y[:, 2]).all() or get_format(fw).kind == 3     # NaN weight block


@pytest.mark.parametrize("fa,fw", [("mxint8", "mxint4"), ("int8", "bfp16"), ("bfp12", "int8")])
@pytest.mark.parametrize("backend", ["c", "numba"])
def test_mvm_accumulate_matches_reference(fa, fw, backend):
    rng = np.random.default_rng(7)
    x, w = _x(rng, False), _w(rng, fw, False)
    nc = layout.cols_eff(64, 8, fw)
    y_old = rng.standard_normal((NVEC, nc)).astype(np.float32)
    y_old[0, 0], y_old[1, 1], y_old[2, 2] = np.inf, np.nan, -np.inf
    y, xq, wb = run_mvm(backend, fa, fw, x, w, y_old)
    want = ref.mvm_bytes(xq, fa, wb, fw, NVEC, K, nc, y_old=y_old)
    assert y.view(np.uint32).tobytes() == want.view(np.uint32).tobytes()
    assert y.view(np.uint32)[1, 1] == 0x7FC00000                     # canonical NaN


def test_reference_equals_float64_products_when_exact():
    """With small codes and unit scales every step is exact: the result is the float64 dot."""
    rng = np.random.default_rng(3)
    xc = rng.integers(-127, 128, (4, 64))
    wc = rng.integers(-127, 128, (64, 64))
    xs = np.full((4, 2), 127 + 6, np.uint8)            # 2^(S-6) = 1
    ws = np.full((2, 64), 127 + 6, np.uint8)
    y = ref.mvm(xc, xs, "mxint8", wc, ws, "mxint8")
    assert np.array_equal(y, (xc @ wc).astype(np.float32))


def test_reference_segments_and_order():
    """Segments of min(block) rows are scaled separately and summed in float32 in K order."""
    assert ref.segment_size("mxint8", "bfp16") == 32
    assert ref.segment_size("int8", "int8") == 32
    assert ref.segment_size("bfp12", "bfp16") == 64
    xc = np.zeros((1, 64), np.int64)
    xc[0, 0], xc[0, 32] = 1, 1
    wc = np.ones((64, 1), np.int64)
    xs = np.array([[127 + 6 + 30, 127 + 6 - 30]], np.uint8)          # 2^30 then 2^-30
    ws = np.full((2, 1), 127 + 6, np.uint8)
    y = ref.mvm(xc, xs, "mxint8", wc, ws, "mxint8")
    assert y[0, 0] == np.float32(2.0 ** 30) + np.float32(2.0 ** -30)    # float32 rounding
    ws_nan = ws.copy()
    ws_nan[1, 0] = 255
    assert ref.mvm(xc, xs, "mxint8", wc, ws_nan, "mxint8").view(np.uint32)[0, 0] == 0x7FC00000


def test_reference_dequantized_dot_is_close():
    """Sanity: the DIMC result approximates x . W of the dequantized operands."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 64)).astype(np.float32)
    w = rng.standard_normal((64, 64)).astype(np.float32)
    xc, xs = layout.quantize_rows(x, "mxint8", backend="numpy")
    wc, ws = layout.quantize_weights(w, "mxint4", backend="numpy")
    y = ref.mvm(xc, xs, "mxint8", wc, ws, "mxint4")
    xd = quantize(x, "mxint8", backend="numpy").dequantize(backend="numpy")
    wd = quantize(w, "mxint4", axis=0, backend="numpy").dequantize(backend="numpy")
    assert np.allclose(y, xd.astype(np.float64) @ wd, rtol=1e-5, atol=1e-5)


def test_reference_imports_neither_numba_nor_native():
    import ast
    import inspect
    for mod in (ref, layout):
        tree = ast.parse(inspect.getsource(mod))
        names = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                 for a in n.names} | {n.module or "" for n in ast.walk(tree)
                                      if isinstance(n, ast.ImportFrom)}
        assert not any("numba" in x or "native" in x or "_jit" in x for x in names), mod.__name__
