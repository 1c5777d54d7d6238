"""A TileKernel's C twin from outside chipemu's extension, checked at the boundary
(docs/intrinsics.md: "Your own C twin").

`resolve(name, c)` -> (address or None, what keeps it loaded): None for the forms the extension
resolves itself (a name it exports, an address callable). A (library, symbol) pair is loaded with
ctypes after the extension is made global (RTLD_GLOBAL), so the library's calls of the exported
intrinsics (chipemu_in_*) resolve to the very code chipemu's own kernels run; its symbol must
come with `<symbol>_chipemu_runtime` (CHIPEMU_TILE_KERNEL in chipemu_kernel.h) equal to this
build's CHIPEMU_RUNTIME_VERSION. ctypes and cffi function pointers are checked by their C type.
"""
from __future__ import annotations

import ctypes
import os

from chipemu.emulator.errors import BackendError

__all__ = ["resolve", "SIGNATURE"]

SIGNATURE = "void fn(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p)"
_INT64 = ("int64_t", "long", "long long")
_global = False


def _allowed(name, c, why):
    return BackendError(
        f"TileKernel {name!r}: c={c!r} {why}; allowed: None, the name of a function the "
        f"chipemu extension exports, (library path, symbol) of a library built by `chipemu "
        f"cc` with CHIPEMU_TILE_KERNEL(symbol), or a ctypes/cffi pointer to {SIGNATURE}")


def _make_global():
    """Load the extension RTLD_GLOBAL once, so a user library's chipemu_in_* calls bind to it."""
    global _global
    if not _global:
        from chipemu.emulator import _native
        ctypes.CDLL(_native.__file__, mode=ctypes.RTLD_GLOBAL)
        _global = True


def _runtime_version() -> int:
    from chipemu.emulator.native import lib
    return int(lib.CHIPEMU_RUNTIME_VERSION)


def _from_library(name, c):
    path, symbol = c
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        raise _allowed(name, c, f"names no library file ({os.fspath(path)!r} does not exist)"
                       if isinstance(path, (str, os.PathLike)) else "has no library path")
    if not isinstance(symbol, str) or not symbol.isidentifier():
        raise _allowed(name, c, f"has symbol {symbol!r}, not a C identifier")
    _make_global()
    try:
        lib = ctypes.CDLL(os.path.abspath(path))     # a bare name would search the system
    except OSError as exc:
        raise _allowed(name, c, f"cannot be loaded ({exc})") from None
    try:
        fn = getattr(lib, symbol)
    except AttributeError:
        raise _allowed(name, c, f"exports no function {symbol!r}") from None
    try:
        built = ctypes.c_int64.in_dll(lib, f"{symbol}_chipemu_runtime").value
    except ValueError:
        raise _allowed(name, c, f"has no {symbol}_chipemu_runtime: define the function with "
                       f"CHIPEMU_TILE_KERNEL({symbol}) from chipemu_kernel.h") from None
    if built != _runtime_version():
        raise _allowed(name, c, f"was compiled against runtime version {built}, this chipemu "
                       f"has {_runtime_version()}: rebuild it with `chipemu cc`")
    return ctypes.cast(fn, ctypes.c_void_p).value, lib


def _from_ctypes(name, c):
    want = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(ctypes.c_int64)]
    args = list(c.argtypes or ())
    ok = (c.restype is None and len(args) == 4 and args[1:] == want[1:]
          and (args[0] is ctypes.c_void_p or hasattr(args[0], "_type_")))
    if not ok:
        raise _allowed(name, c, f"has argtypes {c.argtypes!r} and restype {c.restype!r} (set "
                       f"argtypes = [c_void_p, c_int64, c_int64, POINTER(c_int64)] and restype "
                       f"= None)")
    return ctypes.cast(c, ctypes.c_void_p).value, c


def _from_cffi(name, c):
    from chipemu.emulator.native import ffi
    try:
        t = ffi.typeof(c)
    except TypeError:
        raise _allowed(name, c, "is a cffi object of another kind") from None
    if t.kind == "pointer" and getattr(t.item, "kind", None) == "function":
        t = t.item
    ok = (t.kind == "function" and t.result.cname == "void" and len(t.args) == 4
          and t.args[0].kind == "pointer" and t.args[1].cname in _INT64
          and t.args[2].cname in _INT64 and t.args[3].kind == "pointer"
          and t.args[3].item.cname in _INT64)
    if not ok:
        raise _allowed(name, c, f"has C type {t.cname!r}")
    return int(ffi.cast("uintptr_t", c)), c


def resolve(name: str, c):
    """(address, keeper) of an outside C twin; (None, None) for the extension's own forms."""
    if c is None or (isinstance(c, str) and c):
        return None, None
    if isinstance(c, tuple):
        if len(c) != 2:
            raise _allowed(name, c, "is not a (library path, symbol) pair")
        return _from_library(name, c)
    if isinstance(c, ctypes._CFuncPtr):
        return _from_ctypes(name, c)
    if type(c).__module__ == "_cffi_backend":
        return _from_cffi(name, c)
    if callable(c):
        return None, None
    raise _allowed(name, c, "is none of these")
