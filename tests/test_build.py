"""The two C builds agree with each other and with the Python side (DESIGN §1, §9).

The header csrc/include/chipemu.h, the cffi extension chipemu.emulator._native, the Makefile's standalone
libchipemu.so and the format registry must not drift apart. Paths are taken relative to this file,
not the installed package, so this runs the same after `pip install .` and `pip install -e .`.
Builds go to temp dirs (make BUILD=...) so the checkout is never written.
"""
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess

import cffi
import numpy as np
import pytest

from chipemu.emulator.numerics import codec
from chipemu.emulator.numerics import formats
from chipemu.emulator.native import ffi, lib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"
HEADER = CSRC / "include" / "chipemu.h"
MAKEFILE = ROOT / "Makefile"
CC = os.environ.get("CC", "cc")


def _load_build_ffi():
    """csrc/build_ffi.py is not a package module: load it by path (it only declares, never compiles)."""
    spec = importlib.util.spec_from_file_location("_chipemu_build_ffi", CSRC / "build_ffi.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


build_ffi = _load_build_ffi()


def header_defines(prefix):
    """{NAME: int} of the integer #defines in the header whose names start with prefix."""
    pairs = re.findall(r"^#define\s+(" + prefix + r"\w*)\s+(-?\d+)\b", HEADER.read_text(), re.M)
    return {name: int(value) for name, value in pairs}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def need_toolchain():
    missing = [t for t in ("make", CC) if shutil.which(t) is None]
    if missing:
        pytest.skip(f"no {' or '.join(missing)} on PATH: the standalone C build cannot be checked")


# ---- (a)-(d): the extension, the header, the Makefile and the registry agree ----

def test_abi_version_matches_header():
    want = header_defines("CHIPEMU_ABI_VERSION")["CHIPEMU_ABI_VERSION"]
    assert lib.CHIPEMU_ABI_VERSION == want
    assert lib.chipemu_abi_version() == want


def test_cdef_parses_and_extension_has_every_declaration():
    cdef = build_ffi.read_cdef()
    cffi.FFI().cdef(cdef)                         # raises if cffi's parser rejects the region
    functions = set(re.findall(r"\b(chipemu_\w+)\s*\(", cdef))
    assert {"chipemu_abi_version", "chipemu_quantize", "chipemu_dequantize"} <= functions
    missing = sorted(f for f in functions if not callable(getattr(lib, f, None)))
    assert not missing, f"stale extension: {missing} declared in chipemu.h but not built"
    # chipemu_py_*: extern "Python" callbacks (csrc/build_ffi.py), the extension's own
    extra = sorted(n for n in dir(lib) if n.startswith("chipemu_") and n not in functions
                   and not n.startswith("chipemu_py_"))
    assert not extra, f"extension has functions the header no longer declares: {extra}"
    for name, value in re.findall(r"^\s*#define\s+(\w+)\s+(-?\d+)\b", cdef, re.M):
        assert getattr(lib, name) == int(value), name


def makefile_var(name):
    m = re.search(r"^" + name + r"\s*:?=\s*(.*)$", MAKEFILE.read_text(), re.M)
    assert m, f"{name} not found in {MAKEFILE}"
    return m.group(1).split()


def test_makefile_result_flags_equal_build_ffi():
    assert makefile_var("CFLAGS_RESULT") == build_ffi.CFLAGS_RESULT
    for bad in ("-ffast-math", "-Ofast", "-ffp-contract=fast", "-funsafe-math-optimizations"):
        assert bad not in MAKEFILE.read_text().replace("-fno-fast-math", "")
        assert bad not in build_ffi.CFLAGS_RESULT + build_ffi.CFLAGS_OTHER


def test_makefile_compiles_every_source_with_result_flags(tmp_path):
    """What make would actually run: the same sources as the cffi build, each with the flags."""
    need_toolchain()
    srcs = run(["make", "-s", "-C", str(ROOT), f"BUILD={tmp_path}", "print-sources"])
    assert srcs.returncode == 0, srcs.stderr
    assert srcs.stdout.split() == build_ffi.c_sources()
    dry = run(["make", "-n", "-B", "-C", str(ROOT), f"BUILD={tmp_path}", "all"])
    assert dry.returncode == 0, dry.stderr
    compiles = [line for line in dry.stdout.splitlines() if " -c " in line]
    assert len(compiles) == len(build_ffi.c_sources())
    flags = " ".join(build_ffi.CFLAGS_RESULT)
    for line in compiles:
        assert flags in line, line


def test_format_codes_and_kinds_match_registry():
    codes = {n[len("CHIPEMU_FMT_"):].lower(): v for n, v in header_defines("CHIPEMU_FMT_").items()}
    assert codes == {name: spec.code for name, spec in formats.FORMATS.items()}
    assert header_defines("CHIPEMU_NUM_FORMATS")["CHIPEMU_NUM_FORMATS"] == len(formats.FORMATS)
    kinds = {n[len("CHIPEMU_"):]: v for n, v in header_defines("CHIPEMU_KIND_").items()}
    py_kinds = {n: getattr(formats, n) for n in dir(formats) if n.startswith("KIND_")}
    assert kinds == py_kinds


def test_format_info_rows_match_registry_and_numba_table():
    fields = [name for name, _ in ffi.typeof("chipemu_format_info").fields]
    info = ffi.new("chipemu_format_info *")
    for spec in formats.FORMATS.values():
        assert lib.chipemu_format_info_get(spec.code, info) == lib.CHIPEMU_OK
        row = tuple(getattr(info, f) for f in fields)
        assert row == spec.table_row(), spec.name
        assert row == tuple(int(v) for v in codec.TABLE[spec.code]), spec.name
    assert len(codec.TABLE) == len(formats.FORMATS)
    assert lib.chipemu_format_info_get(len(formats.FORMATS), info) == lib.CHIPEMU_ERR_FORMAT


# ---- (e)-(f): the standalone library builds, links from C, and runs clean under sanitizers ----

@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """`make all install` into a temp dir: (build dir, install prefix)."""
    need_toolchain()
    build = tmp_path_factory.mktemp("cbuild")
    prefix = build / "prefix"
    res = run(["make", "-C", str(ROOT), f"BUILD={build}", f"PREFIX={prefix}", "all", "install"])
    assert res.returncode == 0, res.stdout + res.stderr
    return build, prefix


C_PROGRAM = r"""
#include <stdio.h>
#include "chipemu.h"
int main(void) {
    float x[4] = {1.0f, 2.0f, 3.0f, 4.0f}, y[4];
    signed char codes[4];
    unsigned char scale;
    if (chipemu_abi_version() != CHIPEMU_ABI_VERSION) return 3;
    int st = chipemu_quantize(CHIPEMU_FMT_MXINT8, x, 1, 4, 0, 1, codes, &scale, 0.0f);
    if (st == CHIPEMU_OK)
        st = chipemu_dequantize(CHIPEMU_FMT_MXINT8, codes, &scale, 0.0f, 1, 4, 0, 1, y);
    if (st != CHIPEMU_OK) { printf("%s\n", chipemu_status_string(st)); return 1; }
    printf("scale %d codes %d %d %d %d values %g %g %g %g\n", scale, codes[0], codes[1], codes[2],
           codes[3], y[0], y[1], y[2], y[3]);
    printf("bad format: %d\n", chipemu_quantize(99, x, 1, 4, 0, 1, codes, &scale, 0.0f));
    return 0;
}
"""


@pytest.mark.parametrize("where", ["build", "installed"])
def test_c_program_links_and_runs(standalone, tmp_path, where):
    build, prefix = standalone
    inc, libdir = (CSRC / "include", build) if where == "build" else (prefix / "include", prefix / "lib")
    src = tmp_path / "prog.c"
    src.write_text(C_PROGRAM)
    exe = tmp_path / "prog"
    res = run([CC, "-std=c11", "-Wall", "-Werror", f"-I{inc}", str(src), f"-L{libdir}", "-lchipemu",
               f"-Wl,-rpath,{libdir}", "-o", str(exe)])
    assert res.returncode == 0, res.stderr
    out = run([str(exe)])
    assert out.returncode == 0, out.stdout + out.stderr
    q = formats.quantize(np.array([1, 2, 3, 4], np.float32), "mxint8", backend="numpy")
    want = f"scale {q.scales[0]} codes {' '.join(map(str, q.codes))} values 1 2 3 4"
    assert want == "scale 129 codes 16 32 48 64 values 1 2 3 4"
    assert out.stdout.splitlines() == [want, f"bad format: {lib.CHIPEMU_ERR_FORMAT}"]


def test_library_exports_only_the_api(standalone):
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm on PATH")
    build, _ = standalone
    res = run([nm, "-D", "--defined-only", str(build / "libchipemu.so")])
    assert res.returncode == 0, res.stderr
    exported = {parts[2] for parts in map(str.split, res.stdout.splitlines())
                if len(parts) == 3 and parts[1] in "TDBR" and not parts[2].startswith("_")}
    declared = set(re.findall(r"\b(chipemu_\w+)\s*\(", build_ffi.read_cdef()))
    assert exported == declared          # -fvisibility=hidden: helpers stay private


def _cc_has_sanitizers(tmp_path):
    src = tmp_path / "probe.c"
    src.write_text("int main(void) { return 0; }\n")
    res = run([CC, "-fsanitize=address,undefined", str(src), "-o", str(tmp_path / "probe")])
    return res.returncode == 0 and run([str(tmp_path / "probe")]).returncode == 0


@pytest.mark.skipif(os.environ.get("CHIPEMU_SKIP_SANITIZE") == "1",
                    reason="CHIPEMU_SKIP_SANITIZE=1 (CI runs `make sanitize` as its own step)")
def test_make_sanitize_runs_clean(tmp_path):
    need_toolchain()
    if not _cc_has_sanitizers(tmp_path):
        pytest.skip(f"{CC} cannot build with -fsanitize=address,undefined (libasan/libubsan missing)")
    res = run(["make", "-C", str(ROOT), f"BUILD={tmp_path / 'build'}", "sanitize"])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    assert re.search(r"test_driver: \d+ checks, 0 failed", res.stdout), res.stdout[-2000:]
