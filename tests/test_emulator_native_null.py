"""The C library never crashes its host (issue 11, item 3), seen from Python through cffi.

`chipemu_in_vec_copy(NULL, 0, 0, 0, 0, 16)` and every other intrinsic and exported tile kernel
used to segfault on a NULL or zeroed chipemu_ctx. The exhaustive C test is
tests/csrc/test_driver_null*.c (run by `make sanitize`, tests/test_build.py); here: it names every
exported function outside the engine, and the calls from the issue return a status (run in a child
process, so a crash fails one test rather than the whole run).
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "csrc" / "include" / "chipemu.h"
NULL_TESTS = sorted((ROOT / "tests" / "csrc").glob("test_driver_null*.c"))


def exported():
    """Every CHIPEMU_API function of chipemu.h."""
    return sorted(set(re.findall(r"CHIPEMU_API\s+[\w\s\*]+?\b(chipemu_\w+)\s*\(", HEADER.read_text())))


def test_the_null_argument_test_calls_every_exported_function_outside_the_engine():
    names = [n for n in exported() if not n.startswith("chipemu_engine_")]
    assert len(names) >= 50
    text = "".join(p.read_text() for p in NULL_TESTS)
    missing = [n for n in names if not re.search(rf"\b{n}\b", text)]
    assert not missing, f"not called with bad arguments in tests/csrc/test_driver_null*.c: {missing}"


_CHILD = r"""
from chipemu.emulator.native import ffi, lib
zero = ffi.new("chipemu_ctx *")
calls = 0
for name in dir(lib):
    fn = getattr(lib, name)
    if name.startswith("chipemu_in_"):
        args = ffi.typeof(fn).args
        ints = [0] * (len(args) - 1)
        if name in ("chipemu_in_send", "chipemu_in_barrier"):
            ints[0] = ffi.NULL
        for ctx in (ffi.NULL, zero):
            st = fn(ctx, *ints)
            assert st == lib.CHIPEMU_ERR_NULL, (name, st)
            calls += 1
    elif name.startswith("chipemu_kernel_"):
        for ctx in (ffi.NULL, zero):
            assert fn(ctx, 0, 0, ffi.NULL) is None
            calls += 1
assert lib.chipemu_in_vec_copy(ffi.NULL, 0, 0, 0, 0, 16) == lib.CHIPEMU_ERR_NULL
s = ffi.new("chipemu_superstep *")
out = ffi.new("int64_t[2]")
assert lib.chipemu_launch(ffi.NULL, ffi.NULL, ffi.NULL, 0, 0) == lib.CHIPEMU_ERR_NULL
assert lib.chipemu_launch(s, lib.chipemu_kernel_mm_step, ffi.NULL, 0, 1) == lib.CHIPEMU_ERR_NULL
assert lib.chipemu_finish(s, out, out + 1) == lib.CHIPEMU_ERR_NULL
assert ffi.buffer(zero)[:] == bytes(ffi.sizeof("chipemu_ctx")), "a call wrote into the zeroed ctx"
print("calls", calls + 4)
"""


def test_null_and_zeroed_ctx_give_a_status_from_python():
    res = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"child exited with {res.returncode}: {res.stderr[-2000:]}"
    n = int(re.search(r"calls (\d+)", res.stdout).group(1))
    assert n == 2 * 22 + 2 * 41 + 4          # 22 intrinsics, 41 exported tile kernels
