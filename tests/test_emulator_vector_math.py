"""Vector-unit fp32 math: three bit-identical backends, special values, ULP bounds, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipemu.emulator.numerics import vecmath as nb
from chipemu.emulator import vector_math as vm
from chipemu.emulator.errors import BackendError, ChipemuError, ShapeError
from chipemu.emulator.native import ffi, lib, ptr

FUNCS = vm.FUNCTIONS
# docs/vecmath.md: max error over every float32 input, in ulps of the correctly rounded result
MAX_ULP = {"exp": 1, "reciprocal": 1, "rsqrt": 1}
MAX_ERR = {"exp": 1.025, "reciprocal": 1.144, "rsqrt": 1.243}
FLT_MAX = np.finfo(np.float32).max


def f32(bits):
    return np.array(bits, np.uint32).view(np.float32)


def bits(a):
    return np.asarray(a, np.float32).view(np.uint32)


def edge_values():
    """Specials and every boundary the algorithms branch or round at, with both signs."""
    pos = [0.0, 1.0, 2.0, 0.5, 4.0, 0.25, 3.0, 1e-45, 2.0 ** -149, 2.0 ** -127, 2.0 ** -126,
           2.0 ** -128, 1.1754942e-38, 2.0 ** 126, 2.0 ** 127, FLT_MAX, np.inf, 88.72283,
           88.722839, 88.72284, 88.7229, 89.0, 89.00001, 87.33654, 87.3366, 103.27893, 103.972,
           103.97208, 104.0, 104.00001, 0.34657359, 0.3465736, 0.6931472, 1.0397208,
           np.float32(1) - np.float32(2.0 ** -24), np.float32(1) + np.float32(2.0 ** -23)]
    v = np.array(pos, np.float32)
    nans = f32([0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFA00005, 0x7FFFFFFF])
    with np.errstate(over="ignore"):
        near = np.concatenate([np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(0))])
    allv = np.concatenate([v, near])
    return np.concatenate([allv, -allv, nans]).astype(np.float32)


def random_values(n=200_000, seed=7):
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 2 ** 32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    mags = np.ldexp(rng.uniform(-1, 1, n), rng.integers(-150, 129, n)).astype(np.float32)
    near = rng.uniform(-110, 95, n).astype(np.float32)
    small = rng.standard_normal(n).astype(np.float32)
    return np.concatenate([raw, mags, near, small, edge_values()])


@pytest.fixture(scope="module")
def data():
    return random_values()


@pytest.mark.parametrize("fn", FUNCS)
def test_backends_bit_identical(fn, data):
    want = bits(getattr(vm, fn)(data, backend="numpy"))
    for backend in ("numba", "c"):
        got = bits(getattr(vm, fn)(data, backend=backend))
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (backend, data[bad[:5]], got[bad[:5]], want[bad[:5]])


@pytest.mark.parametrize("fn", FUNCS)
def test_scalar_functions_equal_array_kernels(fn, data):
    x = data[::97]
    arr = bits(getattr(vm, fn)(x, backend="numba"))
    scalar_nb = getattr(nb, fn + "_f32")
    scalar_c = getattr(lib, f"chipemu_{fn}_f32")
    got_nb = bits([scalar_nb(np.float32(v)) for v in x])
    got_c = bits(np.array([scalar_c(float(v)) for v in x], np.float64).astype(np.float32))
    nan = np.isnan(x)
    assert np.array_equal(got_nb, arr)
    assert np.array_equal(got_c[~nan], arr[~nan])   # cffi returns floats through float64: NaN
    assert np.isnan(got_c.view(np.float32)[nan]).all()     # payloads are the CPU's business there


def test_special_values():
    inf, nan = np.float32(np.inf), np.float32(np.nan)
    for backend in vm.BACKENDS:
        e = vm.exp(np.array([0.0, -0.0, inf, -inf, 89.0, 89.5, -104.0, -104.5, 1e-45, -1e-45],
                            np.float32), backend=backend)
        assert bits(e).tolist() == bits([1, 1, inf, 0, inf, inf, 0, 0, 1, 1]).tolist()
        r = vm.reciprocal(np.array([0.0, -0.0, inf, -inf, 2.0 ** -128, -(2.0 ** -128), 4.0, -0.25],
                                   np.float32), backend=backend)
        assert bits(r).tolist() == bits([inf, -inf, 0.0, -0.0, inf, -inf, 0.25, -4.0]).tolist()
        s = vm.rsqrt(np.array([0.0, -0.0, inf, -inf, -1.0, -1e-45, 4.0, 0.25, 2.0 ** -148],
                              np.float32), backend=backend)
        assert bits(s).tolist() == bits([inf, -inf, 0, nan, nan, nan, 0.5, 2.0, 2.0 ** 74]).tolist()
        assert bits(s)[3:6].tolist() == [0x7FC00000] * 3


@pytest.mark.parametrize("backend", vm.BACKENDS)
@pytest.mark.parametrize("fn", FUNCS)
def test_nan_input_comes_back_quiet_with_payload(fn, backend):
    x = f32([0x7F800001, 0xFFA00005, 0x7FC00000, 0xFFFFFFFF])
    got = bits(getattr(vm, fn)(x, backend=backend))
    assert got.tolist() == [0x7FC00001, 0xFFE00005, 0x7FC00000, 0xFFFFFFFF]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_overflow_underflow_thresholds_match_correct_rounding():
    x = np.arange(0x42B17200, 0x42B17240, dtype=np.uint32).view(np.float32)      # ~88.7228
    want = np.exp(x.astype(np.float64)).astype(np.float32)
    assert np.array_equal(np.isinf(vm.exp(x)), np.isinf(want))
    assert np.isinf(want).any() and not np.isinf(want).all()
    x = np.arange(0xC2CFF000, 0xC2D00001, 64, dtype=np.uint32).view(np.float32)  # ~-103.97..-104
    assert np.array_equal(vm.exp(x) == 0, np.exp(x.astype(np.float64)).astype(np.float32) == 0)
    x = np.array([2.0 ** -128, 2.0 ** -127.99, 2.0 ** 126, 2.0 ** 127.5], np.float32)
    got, want = vm.reciprocal(x), (1 / x.astype(np.float64)).astype(np.float32)
    assert np.array_equal(np.isinf(got), np.isinf(want))
    assert np.abs(bits(got).astype(np.int64) - bits(want)).max() <= 1


def test_sweep_within_documented_ulp_bound():
    table = vm.measure_ulp(stride=2203)      # about 1M inputs per function, every magnitude
    for fn, acc in table.items():
        assert acc["normal"]["count"] > 900_000
        for cls in ("normal", "subnormal"):
            assert acc[cls]["max_ulp"] <= MAX_ULP[fn], (fn, cls, acc[cls])
            assert acc[cls]["max_err"] <= MAX_ERR[fn], (fn, cls, acc[cls])
    assert table["exp"]["subnormal"]["count"] > 0 and table["reciprocal"]["subnormal"]["count"] > 0


@pytest.mark.parametrize("backend", vm.BACKENDS)
def test_shapes_and_dtypes(backend):
    x = np.linspace(-3, 3, 24).reshape(2, 3, 4)
    got = vm.exp(x, backend=backend)
    assert got.dtype == np.float32 and got.shape == (2, 3, 4)
    want = vm.exp(x.astype(np.float32).ravel(), backend="numpy").reshape(x.shape)
    assert np.array_equal(got, want)
    assert vm.rsqrt(np.float32(4.0), backend=backend).shape == ()
    assert vm.rsqrt(4, backend=backend) == np.float32(0.5)
    assert vm.reciprocal(np.zeros((0, 3)), backend=backend).shape == (0, 3)
    strided = np.arange(1, 41, dtype=np.int32)[::3]
    assert np.array_equal(vm.reciprocal(strided, backend=backend),
                          vm.reciprocal(strided.astype(np.float32).copy(), backend="numpy"))


def test_bad_input_raises():
    with pytest.raises(BackendError, match="backend='cuda'.*c, numba, numpy"):
        vm.exp([1.0], backend="cuda")
    for bad in (["a", "b"], [1 + 2j], [[1.0, 2.0], [3.0]], np.array([True])):
        with pytest.raises(ShapeError, match="^x "):
            vm.rsqrt(bad)
    with pytest.raises(ShapeError):
        vm.reciprocal(np.zeros((0,), np.complex64))
    with pytest.raises(ChipemuError, match="stride"):
        vm.measure_ulp(stride=0)
    with pytest.raises(ChipemuError, match="functions=.*allowed: exp"):
        vm.measure_ulp(functions=("log",))


def test_c_entry_points_check_pointers_and_sizes():
    x = np.ones(4, np.float32)
    y = np.empty(4, np.float32)
    for name in ("chipemu_vec_exp", "chipemu_vec_reciprocal", "chipemu_vec_rsqrt"):
        fn = getattr(lib, name)
        assert fn(ffi.NULL, ptr(y, "float *"), 4) == lib.CHIPEMU_ERR_NULL
        assert fn(ptr(x, "float *"), ffi.NULL, 4) == lib.CHIPEMU_ERR_NULL
        assert fn(ptr(x, "float *"), ptr(y, "float *"), -1) == lib.CHIPEMU_ERR_SIZE
        assert fn(ffi.NULL, ffi.NULL, 0) == lib.CHIPEMU_OK
        assert fn(ptr(x, "float *"), ptr(x, "float *"), 4) == lib.CHIPEMU_OK   # in place


finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False), min_size=2, max_size=64))
def test_exp_is_monotone(xs):
    x = np.sort(np.array(xs, np.float32))
    y = vm.exp(x)
    assert (y[1:] >= y[:-1]).all()


@settings(max_examples=300, deadline=None)
@given(finite32.filter(lambda v: 2.0 ** -126 <= abs(v) <= 2.0 ** 126))
def test_reciprocal_round_trip_within_2_ulp(v):
    x = np.array([v], np.float32)
    back = vm.reciprocal(vm.reciprocal(x))
    assert abs(int(bits(back)[0]) - int(bits(x)[0])) <= 2
