"""The one Numba decorator factory of chipemu: cached, strict IEEE math, GIL released.

Every compiled function in the project uses `jit` (or `jit(parallel=True)` for outer loops over
independent units), so numerics are configured in one place: no fastmath (it allows FMA
contraction and reassociation, which break bit-exactness), NumPy error model (float division by
zero gives inf/nan as in C, instead of raising). `signature=` compiles for that one signature only
(the tile launcher needs it: it takes kernels as first-class functions and still caches).

Cache validity: Numba stamps a cached function with its own source file only, but a tile kernel
inlines the intrinsics, the codec and the vector math from other files. chipemu's functions are
therefore stamped with those files too (_DEPS), a tile kernel with its folder's params.py
(its parameter indices are frozen into the compiled code) and with the files of the compiled
functions it calls from other files (a shared kernel module, e.g. kernels/reduce.py), so editing
an intrinsic, a layout or a shared helper recompiles the kernels instead of running stale ones.

Cache location (`cache_dir()`, read when a function is decorated, i.e. at import): $NUMBA_CACHE_DIR
when set, else a per-user cache directory (`$XDG_CACHE_HOME/chipemu/numba` or
`~/.cache/chipemu/numba`; `~/Library/Caches/chipemu/numba` on macOS,
`%LOCALAPPDATA%/chipemu/Cache/numba` on Windows) — never beside the source, so a read-only
install and a user's own scripts stay clean. Where no cache directory is writable the functions
compile uncached (with a warning).
"""
import functools
import os
import sys
import warnings

import numba

__all__ = ["jit", "cache_dir"]

_OPTIONS = dict(nogil=True, fastmath=False, error_model="numpy", boundscheck=False)
_HERE = os.path.dirname(os.path.abspath(__file__))
# every file a tile kernel inlines: this one, the numerics and intrinsics twins, the launcher, and
# the tables their constants come from (compiled code freezes them)
_DEPS = tuple(["_jit.py", os.path.join("runtime", "superstep.py")] + sorted(
    os.path.join(d, f) for d in ("numerics", "intrinsics", "tables")
    for f in os.listdir(os.path.join(_HERE, d)) if f.endswith(".py")))


def _deps_stamp(paths):
    out = []
    for name in paths:
        try:
            st = os.stat(os.path.join(_HERE, name))
            out.append((name, st.st_mtime, st.st_size))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


def _local_deps(f):
    """The kernel folder's params.py beside f's file, if any: a tile kernel's parameter indices
    are globals frozen into its compiled code, so the layout must invalidate the cache too. And
    the file of every compiled function f calls by a global name from another file outside _DEPS
    (a shared kernel module such as kernels/reduce.py): it is compiled into f's code."""
    own = os.path.abspath(f.__code__.co_filename)
    path = os.path.join(os.path.dirname(own), "params.py")
    out = {path} if os.path.exists(path) else set()
    known = {os.path.join(_HERE, d) for d in _DEPS}
    for name in f.__code__.co_names:
        callee = getattr(f.__globals__.get(name), "py_func", None)
        src = getattr(getattr(callee, "__code__", None), "co_filename", None)
        if src and os.path.abspath(src) not in known | {own}:
            out.add(os.path.abspath(src))
    return tuple(sorted(out))


def _user_cache_root() -> str:
    """The platform's per-user cache directory for chipemu (see the module docstring)."""
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, "chipemu", "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "chipemu")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"),
                        "chipemu")


def cache_dir() -> str:
    """Where compiled functions are cached: $NUMBA_CACHE_DIR, else the per-user directory."""
    return os.environ.get("NUMBA_CACHE_DIR") or os.path.join(_user_cache_root(), "numba")


def _locator_class(caching):
    """A Numba cache locator under cache_dir(), one subfolder per source folder (Numba's own
    naming: folder name + hash of its path, so equal file names in two folders never collide)."""
    class _ChipemuCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(cache_dir(), self.get_suitable_cache_subpath(py_file))

        def get_cache_path(self):
            return self._cache_path
    return _ChipemuCacheLocator


@functools.lru_cache(maxsize=None)
def _cache_class(extra=()):
    """A Numba FunctionCache under cache_dir() whose source stamp also covers _DEPS and `extra`
    (None if Numba's private caching API moved: then plain cache=True under $NUMBA_CACHE_DIR or
    Numba's default, and stale kernels need a manual cache clear)."""
    try:
        from numba.core import caching
        base_impl, base_cache = caching.CompileResultCacheImpl, caching.FunctionCache
        # ours for functions in files; Numba's for notebook cells (it caches them per user too)
        locators = (_locator_class(caching), caching.IPythonCacheLocator)
    except (ImportError, AttributeError):
        return None
    deps = _deps_stamp(_DEPS + extra)

    def stamped(loc):
        return type("Stamped" + loc.__name__, (loc,),
                    {"get_source_stamp": lambda self: (loc.get_source_stamp(self), deps)})

    impl = type("_ChipemuCacheImpl", (base_impl,),
                {"_locator_classes": [stamped(loc) for loc in locators]})
    return type("_ChipemuCache", (base_cache,), {"_impl_class": impl})


def _attach_cache(disp, cache):
    """Give `disp` the cache, or leave it uncached (with a warning) where no cache directory is
    writable: a read-only home must not stop the emulator."""
    try:
        disp._cache = cache(disp.py_func)
    except RuntimeError as exc:          # Numba: "cannot cache function ...: no locator available"
        warnings.warn(f"chipemu: compiling {disp.py_func.__qualname__} uncached ({exc}); set "
                      f"NUMBA_CACHE_DIR to a writable directory to cache it", stacklevel=3)


def jit(fn=None, *, parallel=False, signature=None):
    """Compile `fn` with chipemu's Numba options; use as `@jit`, `@jit(parallel=True)` or
    `@jit(signature=sig)` (compiled for sig only)."""
    def wrap(f):
        cache = _cache_class(_local_deps(f))
        if cache is None:
            if signature is not None:
                return numba.njit(signature, parallel=parallel, cache=True, **_OPTIONS)(f)
            return numba.njit(parallel=parallel, cache=True, **_OPTIONS)(f)
        disp = numba.njit(parallel=parallel, cache=False, **_OPTIONS)(f)
        _attach_cache(disp, cache)
        if signature is not None:
            disp.compile(signature)
            disp.disable_compile()
        return disp
    return wrap(fn) if fn is not None else wrap
