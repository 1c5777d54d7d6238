"""Compile a kernel author's C twin with exactly the flags chipemu's own C core uses.

    chipemu cc my_kernel.c -o libmy.so            # or, in Python:
    chipemu.cc.build(["my_kernel.c"], "libmy.so")

CFLAGS_RESULT (every flag that changes numerical results: strict IEEE, no contraction, wrapping
signed integers) is the one list: csrc/build_ffi.py compiles the extension with it and the
Makefile mirrors it (tests/test_build.py checks). A twin built otherwise may round differently
from its Numba twin.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys

from chipemu import get_include

__all__ = ["CFLAGS_RESULT", "CFLAGS_OTHER", "command", "build"]

# Flags that change numerical results: identical in the Makefile (tests/test_build.py checks).
CFLAGS_RESULT = ["-O3", "-fwrapv", "-ffp-contract=off", "-fno-fast-math"]
CFLAGS_OTHER = ["-std=c11", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def command(sources, output, extra=(), cc=None) -> list[str]:
    """The compiler command building C sources into shared library `output` (cc: None reads
    $CC, else "cc")."""
    cc = cc or os.environ.get("CC", "cc")
    return [*shlex.split(cc), *CFLAGS_RESULT, *CFLAGS_OTHER, "-fPIC", "-shared",
            f"-I{get_include()}", *map(str, sources), *map(str, extra), "-o", str(output)]


def build(sources, output, extra=(), cc=None) -> str:
    """Compile `sources` into shared library `output` (see command); returns its path.
    RuntimeError with the compiler's messages when it fails."""
    cmd = command(sources, output, extra, cc)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"compiling failed ({done.returncode}): {shlex.join(cmd)}\n"
                           f"{done.stderr.strip()}")
    return str(output)
