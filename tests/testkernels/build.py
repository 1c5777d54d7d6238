"""The C twins of the test tile kernels, outside the library: tile.c compiled on first use into a
small shared library whose functions call the intrinsics of the loaded extension itself.

The extension (chipemu.emulator._native) is loaded RTLD_LOCAL by Python; it is promoted to
RTLD_GLOBAL here so that the test library's undefined chipemu_in_* symbols resolve to the very
code the library kernels run. Flags that change results are the build's own (CFLAGS_RESULT).
"""
import ctypes
import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_lib = None


def _cflags_result():
    spec = importlib.util.spec_from_file_location("_chipemu_build_ffi", ROOT / "csrc" / "build_ffi.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.CFLAGS_RESULT


def library() -> ctypes.CDLL:
    """The compiled test kernels (built once per process into a temp dir)."""
    global _lib
    if _lib is None:
        from chipemu.emulator import _native
        ctypes.CDLL(_native.__file__, mode=ctypes.RTLD_GLOBAL)
        out = pathlib.Path(tempfile.mkdtemp(prefix="chipemu-testkernels-")) / "libtestkernels.so"
        cc = os.environ.get("CC", "cc")
        cmd = [cc, *_cflags_result(), "-std=c11", "-fPIC", "-shared", f"-I{ROOT / 'csrc' / 'include'}",
               f"-I{HERE}", str(HERE / "tile.c"), "-o", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stderr)
            raise RuntimeError(f"building the test kernels failed: {' '.join(cmd)}")
        _lib = ctypes.CDLL(str(out))
    return _lib


def address(name: str):
    """A zero-argument function giving the address of test kernel `name` (TileKernel's `c`)."""
    return lambda: ctypes.cast(getattr(library(), name), ctypes.c_void_p).value
