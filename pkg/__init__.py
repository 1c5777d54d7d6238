"""chipemu: an emulator of chiplet accelerators whose tiles compute in memory (DIMC).

The work is in the subpackages: `chipemu.emulator` (the device, formats, runtime and engine),
`chipemu.kernels` (matmul, attention, layer ops, cards and programs), `chipemu.llm` (models and
response estimates), `chipemu.sweeps` and `chipemu.cli`. Here: `sweep()` (docs/sweeps.md), `get_include()`, the folder of the C headers a
kernel author's own C twin or a C/C++ host compiles against, `get_library_dir()`, the folder of
libchipemu.so a host links, and `chipemu.cc` (docs/intrinsics.md, docs/engine.md "From C").
"""
from __future__ import annotations

import pathlib

__all__ = ["get_include", "get_library_dir", "sweep", "__version__"]

__version__ = "0.1.0"


def get_include() -> str:
    """The folder holding chipemu.h and chipemu_kernel.h (the C ABI and the intrinsics under
    their Numba names), as numpy.get_include() does for NumPy: inside an installed package,
    or the source tree's csrc/include in an editable install."""
    here = pathlib.Path(__file__).resolve().parent
    for folder in (here / "include", here.parent / "csrc" / "include"):
        if (folder / "chipemu_kernel.h").is_file():
            return str(folder)
    raise FileNotFoundError(f"chipemu's C headers are not installed beside {here} (reinstall "
                            f"chipemu: pip install chipemu)")


def get_library_dir() -> str:
    """The folder holding libchipemu.so, the C core as a plain shared library (the same objects
    as the Python extension, built beside it at install): link a C/C++ host with
    -L<dir> -lchipemu -Wl,-rpath,<dir>, or let `chipemu cc --host` do it."""
    import importlib.util
    spec = importlib.util.find_spec("chipemu.emulator._native")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("chipemu's C extension is not installed (pip install chipemu)")
    folder = pathlib.Path(spec.origin).resolve().parent
    if not (folder / "libchipemu.so").is_file():
        raise FileNotFoundError(f"libchipemu.so is not beside {spec.origin} (reinstall chipemu: "
                                f"pip install chipemu)")
    return str(folder)


def sweep(spec=None, **kwargs):
    """Run a sweep and return its table (pandas.DataFrame): chipemu.sweeps.api.sweep, whose
    docstring lists the arguments; docs/sweeps.md shows the spec and the columns."""
    from chipemu.sweeps.api import sweep as run
    return run(spec, **kwargs)
