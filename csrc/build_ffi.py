"""cffi builder for chipemu.emulator._native (out-of-line API mode), run by setup.py at install time.

The cdef is the CDEF region of csrc/include/chipemu.h, so the header stays the single source of the C
declarations. Compile flags that change results are listed in CFLAGS_RESULT and mirrored by the
Makefile; a test checks that both lists agree.
"""
import pathlib
import re

import cffi

CSRC = pathlib.Path(__file__).resolve().parent
HEADER = CSRC / "include" / "chipemu.h"
# Flags that change numerical results: identical in the Makefile (tests/test_build.py checks).
CFLAGS_RESULT = ["-O3", "-fwrapv", "-ffp-contract=off", "-fno-fast-math"]
CFLAGS_OTHER = ["-std=c11", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def read_cdef(header=HEADER):
    """Return the declarations between the CDEF markers, without the export macro."""
    text = header.read_text()
    m = re.search(r"/\* CDEF BEGIN \*/(.*)/\* CDEF END \*/", text, re.S)
    if m is None:
        raise RuntimeError(f"{header}: CDEF markers not found")
    return m.group(1).replace("CHIPEMU_API ", "")


def c_sources():
    """Every C source under csrc/ (numerics, intrinsics, runtime, engine, the kernels' C tile
    twins), sorted so builds are reproducible and a new kernel folder needs no edit here."""
    return sorted(str(p.relative_to(CSRC.parent)) for p in CSRC.rglob("*.c"))


ffibuilder = cffi.FFI()
ffibuilder.cdef(read_cdef())
ffibuilder.set_source(
    "chipemu.emulator._native",
    '#include "chipemu.h"',
    sources=c_sources(),
    include_dirs=[str((CSRC / "include").relative_to(CSRC.parent)),
                  str(CSRC.relative_to(CSRC.parent))],
    extra_compile_args=CFLAGS_RESULT + CFLAGS_OTHER,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
