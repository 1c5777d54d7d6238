"""setuptools glue that pyproject.toml cannot express: the cffi extension (csrc/build_ffi.py) and
the package list, found from the folders so that a new kernel folder installs without an edit."""
import pathlib

from setuptools import setup

ROOTS = {"emulator": "chipemu.emulator", "kernels": "chipemu.kernels", "llm": "chipemu.llm",
         "cli": "chipemu.cli"}
HERE = pathlib.Path(__file__).resolve().parent


def packages():
    """Every folder with an __init__.py under the roots, as a dotted package name."""
    out = []
    for folder, name in ROOTS.items():
        for init in sorted((HERE / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(HERE / folder).parts
            out.append(".".join((name, *rel)))
    return out


setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"], packages=packages(),
      package_dir={name: folder for folder, name in ROOTS.items()})
