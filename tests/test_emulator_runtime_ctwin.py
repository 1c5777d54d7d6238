"""A kernel author's own C twin (emulator/runtime/ctwin.py, chipemu.cc, `chipemu cc`): built
with chipemu's flags against the shipped headers, it runs bit-exact with its Numba twin without
touching the package; the library, the symbol, the runtime version and ctypes / cffi pointer
types are checked when the TileKernel is made, with a BackendError naming what is wrong."""
import ctypes

import numpy as np
import pytest
from click.testing import CliRunner

import chipemu
import chipemu.cc
from chipemu.cli.main import main
from chipemu.emulator import Device, Result
from chipemu.emulator._jit import jit
from chipemu.emulator.errors import BackendError
from chipemu.emulator.intrinsics import host_read, send, vec_exp
from chipemu.emulator.runtime import Machine, TileKernel

TINY = Device.preset("tiny")
KERNEL = """
#include "chipemu_kernel.h"

CHIPEMU_TILE_KERNEL(twin) {
    int64_t next[1] = {(tile + 1) % 16};
    host_read(ctx, p[0], tile * 256, p[1], 0, 256);
    vec_exp(ctx, p[1], 0, p[1], 0, 64);
    send(ctx, next, 1, p[1], 0, p[2], 0, 256);
}

CHIPEMU_API void plain(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {}

CHIPEMU_API const int64_t old_chipemu_runtime = 999;
CHIPEMU_API void old(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {}
"""


@jit
def twin(ctx, tile, step, p):
    host_read(ctx, p[0], tile * 256, p[1], 0, 256)
    vec_exp(ctx, p[1], 0, p[1], 0, 64)
    send(ctx, np.array([(tile + 1) % 16]), p[1], 0, p[2], 0, 256)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    d = tmp_path_factory.mktemp("ctwin")
    (d / "twin.c").write_text(KERNEL)
    return chipemu.cc.build([d / "twin.c"], d / "libtwin.so")


def _run(kernel, backend):
    m = Machine(TINY.engine_params(), backend=backend)
    x = np.arange(16 * 64, dtype=np.float32).reshape(16, 64) / 500
    h = m.alloc_host("x", x)
    a, b = m.alloc_sram("a", 256), m.alloc_sram("b", 256)
    m.launch(kernel, range(16), [h, a, b], events_per_tile=3)
    return Result.of(m, TINY, kernel=kernel.name, output=m.read(b, tile=3, dtype=np.float32))


def _same(r, s):
    return (np.array_equal(r.output.view(np.uint32), s.output.view(np.uint32))
            and r.events.events.tobytes() == s.events.events.tobytes()
            and (r.cycles, r.energy_fj) == (s.cycles, s.energy_fj))


def test_a_library_twin_runs_bit_exact_with_its_numba_twin(library):
    k = TileKernel("twin", numba=twin, c=(library, "twin"))
    nb, c = _run(k, "numba"), _run(k, "c")
    assert _same(nb, c) and c.cycles > 0 and c.energy_fj > 0
    assert np.allclose(c.output, np.exp(np.arange(2 * 64, 3 * 64, dtype=np.float32) / 500),
                       rtol=1e-6)
    assert "twin" in repr(k)


def test_ctypes_and_cffi_pointers_of_the_right_type_run_the_same(library):
    from chipemu.emulator.native import ffi
    fn = ctypes.CDLL(library).twin
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                   ctypes.POINTER(ctypes.c_int64)]
    fn.restype = None
    ref = _run(TileKernel("twin", numba=twin), "numba")
    assert _same(_run(TileKernel("twin", c=fn), "c"), ref)
    ptr = ffi.cast("chipemu_tile_kernel", ctypes.cast(fn, ctypes.c_void_p).value)
    assert _same(_run(TileKernel("twin", c=ptr), "c"), ref)


def test_bad_twins_are_refused_when_the_kernel_is_made(library, tmp_path):
    from chipemu.emulator.native import ffi
    cases = [((str(tmp_path / "nope.so"), "twin"), "does not exist"),
             ((library, "missing"), "exports no function 'missing'"),
             ((library, "plain"), "CHIPEMU_TILE_KERNEL\\(plain\\)"),
             ((library, "old"), "runtime version 999"),
             ((library, "1x"), "not a C identifier"),
             ((library,), "not a \\(library path, symbol\\) pair"),
             (ctypes.CDLL(library).twin, "argtypes None"),
             (ffi.cast("void(*)(int)", 0), "C type"),
             (5, "is none of these")]
    for c, text in cases:
        with pytest.raises(BackendError, match=text):
            TileKernel("k", c=c)


def test_headers_ship_and_the_command_uses_the_result_flags(library, tmp_path):
    text = (chipemu.get_include() + "/chipemu_kernel.h")
    assert "CHIPEMU_TILE_KERNEL" in open(text).read()
    src = tmp_path / "k.c"
    src.write_text(KERNEL)
    shown = CliRunner().invoke(main, ["cc", str(src), "-o", str(tmp_path / "k.so"), "--print"])
    assert shown.exit_code == 0
    for flag in chipemu.cc.CFLAGS_RESULT + [f"-I{chipemu.get_include()}"]:
        assert flag in shown.output
    built = CliRunner().invoke(main, ["cc", str(src), "-o", str(tmp_path / "k.so")])
    assert built.exit_code == 0, built.output
    assert _same(_run(TileKernel("twin", c=(str(tmp_path / "k.so"), "twin")), "c"),
                 _run(TileKernel("twin", numba=twin), "numba"))
    bad = tmp_path / "bad.c"
    bad.write_text("this is not C")
    failed = CliRunner().invoke(main, ["cc", str(bad), "-o", str(tmp_path / "bad.so")])
    assert failed.exit_code != 0 and "compiling failed" in failed.output
