"""Fuzzing the numerics: quantize / dequantize / QTensor / get_format / unpack_codes over formats,
shapes, dtypes, axes and hostile arguments. Each call is a ChipemuError naming the argument or a
result equal, bit for bit, to the NumPy reference backend."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from chipemu.emulator import FORMATS, QTensor, dequantize, get_format, quantize
from chipemu.emulator.numerics.formats import unpack_codes

from fuzz_strategies import (NOT_NUMBERS, bits, examples, expect, guarded, hostile_choice,
                             warm)

NAMES = sorted(FORMATS)
DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int32, np.uint8, np.int64]


@pytest.fixture(autouse=True, scope="module")
def _warm():
    warm("numerics")


def _values(dtype):
    if np.dtype(dtype).kind == "f":
        return st.floats(width=np.dtype(dtype).itemsize * 8 if dtype != np.float64 else 64,
                         allow_nan=True, allow_infinity=True)
    info = np.iinfo(dtype)
    return st.integers(int(info.min), int(info.max))


ARRAYS = st.sampled_from(DTYPES).flatmap(
    lambda dt: arrays(dt, array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=70),
                      elements=_values(dt)))


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@examples(100)
@given(ARRAYS, st.sampled_from(NAMES), st.integers(-3, 2), st.sampled_from(["c", "numba"]))
def test_quantize_equals_the_numpy_reference(x, fmt, axis, backend):
    def body():
        q = quantize(x, fmt, axis, backend=backend)
        ref = quantize(x, fmt, axis, backend="numpy")
        assert _same(q.codes, ref.codes) and _same(q.scales, ref.scales), "codes/scales differ"
        assert q.shape == x.shape and q.axis == axis % x.ndim
        y = dequantize(q, backend=backend)
        assert y.dtype == np.float32 and y.shape == x.shape
        assert _same(bits(y), bits(dequantize(ref, backend="numpy"))), "dequantize differs"
        packed = q.packed_codes()
        assert _same(unpack_codes(packed, fmt, q.codes.size), q.codes.reshape(-1))
        return True

    expect(guarded(body, fork=backend == "c"), names=("axis",),
           what=f"{x.dtype}{x.shape} {fmt} axis={axis} {backend}")


BAD_X = st.one_of(st.sampled_from([np.zeros(0, np.float32), np.zeros((3, 0)), np.float32(2.0),
                                   [[1.0, 2.0], [3.0]], "abc", None, np.array(["a", "b"]),
                                   np.array([1 + 2j]), np.array([True, False]),
                                   np.ma.masked_array([1.0, 2.0], mask=[True, False]),
                                   np.zeros((2, 2), [("a", "f4")]), np.array([object()])]),
                  NOT_NUMBERS)


@examples(60)
@given(st.one_of(BAD_X, ARRAYS), hostile_choice(NAMES), st.one_of(st.integers(-5, 5), NOT_NUMBERS),
       hostile_choice(["c", "numba", "numpy"]))
def test_bad_quantize_arguments_are_named(x, fmt, axis, backend):
    def body():
        q = quantize(x, fmt, axis, backend=backend)
        # accepted: the arguments were valid after all; then the result is the reference's
        ref = quantize(x, fmt, axis, backend="numpy")
        assert _same(q.codes, ref.codes) and _same(q.scales, ref.scales)
        assert isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)), \
            f"axis={axis!r} accepted"
        assert not np.ma.isMaskedArray(x) or not np.ma.getmaskarray(x).any(), \
            "a masked array's mask was ignored"
        return True

    names = ("x", "fmt", "axis", "backend")
    expect(guarded(body, fork=backend != "numba"), names=names,
           what=f"quantize({type(x).__name__} {getattr(x, 'dtype', '')}, {fmt!r}, {axis!r}, "
                f"backend={backend!r})")


@examples(60)
@given(st.sampled_from(NAMES), array_shapes(min_dims=1, max_dims=3, max_side=40),
       st.integers(0, 2), st.data())
def test_qtensor_built_by_hand_is_checked(fmt, shape, axis, data):
    """QTensor from raw codes and scales: wrong dtype/shape, codes beyond the format's range."""
    spec = get_format(fmt)
    axis = axis % len(shape)
    good = quantize(np.ones(shape, np.float32), fmt, axis, backend="numpy")
    info = np.iinfo(spec.container) if spec.container.kind in "iu" else None
    codes = good.codes.copy()
    if info is not None and data.draw(st.booleans(), "out_of_range_codes"):
        flat = codes.reshape(-1)
        flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(
            st.integers(int(info.min), int(info.max)), "code")
    scales = data.draw(st.sampled_from([good.scales, good.scales.astype(np.int16),
                                        good.scales.reshape(-1), np.zeros(3, np.uint8)]), "scales")
    codes = data.draw(st.sampled_from([codes, codes.astype(np.int64), codes.reshape(-1), codes.T]),
                      "codes")
    fmt_arg = data.draw(st.one_of(st.just(fmt), hostile_choice(NAMES)), "fmt")
    ax = data.draw(st.one_of(st.just(axis), st.integers(-5, 5), NOT_NUMBERS), "axis")

    def body():
        q = QTensor(fmt_arg, shape, ax, codes, scales)
        y = dequantize(q, backend="c")
        ref = dequantize(q, backend="numpy")
        assert _same(bits(y), bits(ref)), "dequantize differs from the reference"
        # every stored code must be one the format can hold (fits its element bits), else it
        # was accepted and then silently masked
        back = unpack_codes(q.packed_codes(), q.fmt, q.size)
        assert _same(back, q.codes.reshape(-1)), "a code beyond the format's bits was accepted"
        return True

    expect(guarded(body), names=("fmt", "axis", "codes", "scales", "shape"),
           what=f"QTensor({fmt_arg!r}, {shape}, {ax!r}, {codes.dtype}{codes.shape}, "
                f"{scales.dtype}{scales.shape})")


@examples(40)
@given(st.sampled_from(NAMES), st.integers(1, 50), st.one_of(st.integers(-3, 60), NOT_NUMBERS))
def test_unpack_codes_count_is_checked(fmt, n, count):
    q = quantize(np.linspace(-3, 3, n, dtype=np.float32), fmt, backend="numpy")
    packed = q.packed_codes()

    def body():
        out = unpack_codes(packed, fmt, count)
        assert len(out) == count, f"unpack_codes(count={count!r}) returned {len(out)} codes"
        if count == n:
            assert _same(out, q.codes.reshape(-1))
        return True

    expect(guarded(body), names=("count",), what=f"unpack_codes({fmt}, {n} codes, count={count!r})")


@examples(30)
@given(st.one_of(hostile_choice(NAMES), st.integers(-5, 40), st.sampled_from([n.upper() for n in NAMES])))
def test_get_format_names_or_finds(fmt):
    def body():
        spec = get_format(fmt)
        assert spec.name in FORMATS
        return spec.name

    expect(guarded(body), names=("fmt",), what=f"get_format({fmt!r})")
