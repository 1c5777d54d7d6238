"""The matmul from C (csrc/kernels/matmul/plan.c, run.c; chipemu_host.h): the one planner, and
chipemu_matmul_cost against Python's timing-mode Result, figure for figure."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from chipemu.emulator.device import Device
from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.emulator.native import ffi, lib
from chipemu.emulator.numerics.formats import DIMC_FORMATS, get_format
from chipemu.kernels.matmul import matmul
from chipemu.kernels.matmul.plan import plan_matmul
from chipemu.kernels.region import Region
from host_helpers import check_run, figures_c, figures_py


def c_cost(dev, m, k, n, fmt, weight_fmt):
    out = ffi.new("chipemu_cost *")
    status = lib.chipemu_matmul_cost(dev, m, k, n, get_format(fmt).code,
                                     get_format(weight_fmt).code, out)
    return status, out


def check_same(handles, device, m, k, n, fa, fw):
    status, c = c_cost(handles[device], m, k, n, fa, fw)
    try:
        r = matmul((m, k), (k, n), fmt=fa, weight_fmt=fw, device=device, mode="timing")
    except CapacityError as exc:
        assert status == lib.CHIPEMU_ERR_CAPACITY
        assert ffi.string(lib.chipemu_last_error()).decode() == str(exc)
        return
    assert status == lib.CHIPEMU_OK, ffi.string(lib.chipemu_last_error()).decode()
    assert figures_c(c) == figures_py(r)
    assert c.seconds == r.seconds and c.supersteps == r.events.events["step"].max() + 1


@pytest.mark.parametrize("shape", [(1, 64, 64, "mxint8", "mxint8"), (16, 512, 300, "mxint8", "mxint4"),
                                   (3, 100, 5000, "mxint4", "bfp12"), (40, 300, 200, "int8", "int8"),
                                   (7, 2048, 2048, "bfp16", "mxint4")])
def test_cost_from_c_equals_the_python_timing_run_on_tiny(handles, shape):
    check_same(handles, "tiny", *shape)


def test_cost_of_a_decode_gemv_on_corsair_equals_python(handles):
    check_same(handles, "corsair", 16, 4096, 1024, "mxint8", "mxint4")


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 70), k=st.integers(1, 700), n=st.integers(1, 700),
       fa=st.sampled_from(DIMC_FORMATS), fw=st.sampled_from(DIMC_FORMATS))
def test_cost_from_c_equals_python_for_any_small_shape(handles, m, k, n, fa, fw):
    check_same(handles, "tiny", m, k, n, fa, fw)


def test_the_plan_from_c_is_the_plan_python_uses(handles):
    out = ffi.new("chipemu_matmul_plan *")
    code = get_format("mxint8").code, get_format("mxint4").code
    assert lib.chipemu_matmul_plan_make(handles["corsair"], 16, 4096, 14336, *code, out) == 0
    plan = plan_matmul(16, 4096, 14336, "mxint8", "mxint4", Device.preset("corsair"))
    for name in ("g", "kpt", "replicas", "mc", "chunks", "parts", "passes", "kgroup", "levels"):
        assert getattr(out, name) == getattr(plan, name), name
    assert [out.sram_bytes[i] for i in range(4)] == [plan.sram[b] for b in ("w", "xhome", "x", "y")]


def test_errors_from_c_name_the_argument_and_python_adds_the_region(handles):
    status, _ = c_cost(handles["tiny"], 0, 64, 64, "mxint8", "mxint8")
    assert status == lib.CHIPEMU_ERR_SIZE
    assert "m=0: every matmul dimension" in ffi.string(lib.chipemu_last_error()).decode()
    status, _ = c_cost(handles["tiny"], 1, 1 << 20, 1 << 20, "mxint8", "mxint8")
    assert status == lib.CHIPEMU_ERR_CAPACITY
    with pytest.raises(CapacityError, match=r"do not fit the device even streamed.*\(region: "):
        plan_matmul(1, 1 << 16, 1 << 16, "mxint8", "mxint8", Device.preset("tiny"),
                    region=Region([0], [0, 1], (0, 1)))
    with pytest.raises(ShapeError, match="max_replicas=9"):
        plan_matmul(1, 64, 64, "mxint8", "mxint8", Device.preset("tiny"), max_replicas=9)


def c_run(dev, a, b, fmt, weight_fmt, cost=True):
    m, k = a.shape
    n = b.shape[1]
    y = np.full((m, n), np.nan, np.float32)
    out = ffi.new("chipemu_cost *") if cost else ffi.NULL
    status = lib.chipemu_matmul_run(dev, m, k, n, get_format(fmt).code,
                                    get_format(weight_fmt).code, ffi.from_buffer("float[]", a),
                                    ffi.from_buffer("float[]", b), ffi.from_buffer("float[]", y),
                                    out)
    return status, y, out


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 70), k=st.integers(1, 700), n=st.integers(1, 700),
       fa=st.sampled_from(DIMC_FORMATS), fw=st.sampled_from(DIMC_FORMATS),
       seed=st.integers(0, 2**32 - 1))
def test_a_functional_run_from_c_is_bit_exact_with_python(handles, m, k, n, fa, fw, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    status, y, c = c_run(handles["tiny"], a, b, fa, fw)
    check_run(status, y, c, lambda: matmul(a, b, fmt=fa, weight_fmt=fw, device="tiny"))


def test_a_functional_gemv_on_corsair_without_timing(handles):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 2048), dtype=np.float32)
    b = rng.standard_normal((2048, 512), dtype=np.float32)
    status, y, _ = c_run(handles["corsair"], a, b, "mxint8", "mxint4", cost=False)
    assert status == lib.CHIPEMU_OK
    r = matmul(a, b, fmt="mxint8", weight_fmt="mxint4", device="corsair")
    assert np.array_equal(y, r.output)
    assert lib.chipemu_matmul_run(handles["tiny"], 1, 64, 64, 4, 4, ffi.NULL, ffi.NULL,
                                  ffi.NULL, ffi.NULL) == lib.CHIPEMU_ERR_NULL
    assert "a is NULL" in ffi.string(lib.chipemu_last_error()).decode()


@pytest.mark.parametrize("fmt", ["mxint8", "mxint4", "bfp16", "bfp12", "int8", "fp32", "bf16"])
def test_the_encoders_write_the_device_layouts(fmt):
    from chipemu.emulator.numerics import layout
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 70), dtype=np.float32) * 3
    want = layout.encode_rows(x, fmt)
    out = np.zeros(want.size, np.uint8)
    assert lib.chipemu_encode_rows(get_format(fmt).code, ffi.from_buffer("float[]", x), 5, 70,
                                   ffi.from_buffer("uint8_t[]", out)) == lib.CHIPEMU_OK
    assert np.array_equal(out, want)
    if fmt not in DIMC_FORMATS:
        return
    w = rng.standard_normal((64, 48), dtype=np.float32)
    want = layout.encode_weights(w, fmt)
    out = np.zeros(want.size, np.uint8)
    assert lib.chipemu_encode_weights(get_format(fmt).code, ffi.from_buffer("float[]", w), 64,
                                      48, 48, ffi.from_buffer("uint8_t[]", out)) == lib.CHIPEMU_OK
    assert np.array_equal(out, want)


def test_distinct_handles_cost_alike_on_threads_at_once():
    """cffi releases the GIL: eight threads, each with its own device handle, ask costs at the
    same time; every answer equals the one asked alone (no shared state in the C machine)."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(shape):
        dev = ffi.new("chipemu_device **")
        assert lib.chipemu_device_open(b"tiny", dev) == lib.CHIPEMU_OK
        try:
            status, c = c_cost(dev[0], *shape, "mxint8", "mxint4")
            assert status == lib.CHIPEMU_OK
            return c.cycles, c.energy_fj
        finally:
            lib.chipemu_device_close(dev[0])

    shapes = [(m, 256, 128 + 64 * (m % 3)) for m in range(1, 17)]
    alone = [ask(s) for s in shapes]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(ask, shapes)) == alone
