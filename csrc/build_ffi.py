"""cffi builder for chipemu.emulator._native (out-of-line API mode), run by setup.py at install time.

The cdef is the CDEF region of csrc/include/chipemu.h, so the header stays the single source of the C
declarations. Compile flags that change results are listed in CFLAGS_RESULT (pkg/cc.py, read
here) and mirrored by the Makefile; a test checks that both lists agree.
"""
import ast
import pathlib
import re

import cffi

CSRC = pathlib.Path(__file__).resolve().parent
HEADER = CSRC / "include" / "chipemu.h"
HOST_HEADER = CSRC / "include" / "chipemu_host.h"


def _flags():
    """CFLAGS_RESULT and CFLAGS_OTHER from pkg/cc.py (chipemu.cc, which a kernel author's
    `chipemu cc` uses too): one list, read by path since the package is not installed yet."""
    text = (CSRC.parent / "pkg" / "cc.py").read_text()
    out = {}
    for name in ("CFLAGS_RESULT", "CFLAGS_OTHER"):
        m = re.search(rf"^{name} = (\[.*?\])$", text, re.M)
        out[name] = ast.literal_eval(m.group(1))
    return out["CFLAGS_RESULT"], out["CFLAGS_OTHER"]


# Flags that change numerical results: identical in the Makefile (tests/test_build.py checks).
CFLAGS_RESULT, CFLAGS_OTHER = _flags()


def read_cdef(headers=(HEADER, HOST_HEADER)):
    """Return the declarations between the CDEF markers of the public headers (chipemu.h, then
    chipemu_host.h, which builds on it), without the export macro."""
    out = []
    for header in headers:
        m = re.search(r"/\* CDEF BEGIN \*/(.*)/\* CDEF END \*/", header.read_text(), re.S)
        if m is None:
            raise RuntimeError(f"{header}: CDEF markers not found")
        out.append(m.group(1).replace("CHIPEMU_API ", ""))
    return "\n".join(out)


def c_sources():
    """Every C source under csrc/ (numerics, intrinsics, runtime, engine, the kernels' C tile
    twins), sorted so builds are reproducible and a new kernel folder needs no edit here."""
    return sorted(str(p.relative_to(CSRC.parent)) for p in CSRC.rglob("*.c"))


ffibuilder = cffi.FFI()
ffibuilder.cdef(read_cdef())
# Python callbacks the C planners call (extension only: libchipemu.so has no Python)
ffibuilder.cdef('extern "Python" int64_t chipemu_py_attention_bias(void *, int64_t, int64_t, '
                'int64_t, int64_t);')
ffibuilder.set_source(
    "chipemu.emulator._native",
    '#include "chipemu_host.h"',
    sources=c_sources(),
    include_dirs=[str((CSRC / "include").relative_to(CSRC.parent)),
                  str(CSRC.relative_to(CSRC.parent))],
    extra_compile_args=CFLAGS_RESULT + CFLAGS_OTHER,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
