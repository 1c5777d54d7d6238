"""chipemu: an emulator of chiplet accelerators whose tiles compute in memory (DIMC).

The work is in the subpackages: `chipemu.emulator` (the device, formats, runtime and engine),
`chipemu.kernels` (matmul, attention, layer ops, cards and programs), `chipemu.llm` (models and
response estimates) and `chipemu.cli`. Here: `get_include()`, the folder of the C headers a
kernel author's own C twin compiles against, and `chipemu.cc` (docs/intrinsics.md).
"""
from __future__ import annotations

import pathlib

__all__ = ["get_include", "__version__"]

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
