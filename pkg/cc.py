"""Compile a kernel author's C twin with exactly the flags chipemu's own C core uses.

    chipemu cc my_kernel.c -o libmy.so            # or, in Python:
    chipemu.cc.build(["my_kernel.c"], "libmy.so")
    chipemu cc --host host.cpp -o host            # a C/C++ host program linked to libchipemu.so

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

from chipemu import get_include, get_library_dir

__all__ = ["CFLAGS_RESULT", "CFLAGS_OTHER", "command", "build", "host_command"]

# Flags that change numerical results: identical in the Makefile (tests/test_build.py checks).
CFLAGS_RESULT = ["-O3", "-fwrapv", "-ffp-contract=off", "-fno-fast-math"]
CFLAGS_OTHER = ["-std=c11", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def command(sources, output, extra=(), cc=None) -> list[str]:
    """The compiler command building C sources into shared library `output` (cc: None reads
    $CC, else "cc")."""
    cc = cc or os.environ.get("CC", "cc")
    return [*shlex.split(cc), *CFLAGS_RESULT, *CFLAGS_OTHER, "-fPIC", "-shared",
            f"-I{get_include()}", *map(str, sources), *map(str, extra), "-o", str(output)]


def host_command(sources, output, extra=(), cc=None) -> list[str]:
    """The compiler command building a host program (C or C++, by the first source's suffix)
    that links libchipemu.so (rpath set, so it runs without LD_LIBRARY_PATH). cc: None reads
    $CXX (C++) or $CC, else c++ / cc."""
    cxx = str(sources[0]).endswith((".cpp", ".cc", ".cxx", ".C"))
    cc = cc or os.environ.get("CXX" if cxx else "CC", "c++" if cxx else "cc")
    lib = get_library_dir()
    std = ["-std=c++17"] if cxx else ["-std=c11"]
    return [*shlex.split(cc), "-O2", *std, "-Wall", "-Wextra", f"-I{get_include()}",
            *map(str, sources), *map(str, extra), f"-L{lib}", "-lchipemu", f"-Wl,-rpath,{lib}",
            "-o", str(output)]


def build(sources, output, extra=(), cc=None, host=False) -> str:
    """Compile `sources` into shared library `output` (see command), or with host=True into a
    host program linked to libchipemu.so (host_command); returns its path. RuntimeError with
    the compiler's messages when it fails."""
    cmd = (host_command if host else command)(list(sources), output, extra, cc)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"compiling failed ({done.returncode}): {shlex.join(cmd)}\n"
                           f"{done.stderr.strip()}")
    return str(output)
