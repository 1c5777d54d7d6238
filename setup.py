"""setuptools glue that pyproject.toml cannot express: the cffi extension (csrc/build_ffi.py), the
package list, found from the folders so that a new kernel folder installs without an edit, and
the C headers copied into the package (chipemu/include: chipemu.get_include())."""
import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOTS = {"pkg": "chipemu", "emulator": "chipemu.emulator", "kernels": "chipemu.kernels",
         "llm": "chipemu.llm", "cli": "chipemu.cli"}
HERE = pathlib.Path(__file__).resolve().parent


def packages():
    """Every folder with an __init__.py under the roots, as a dotted package name."""
    out = []
    for folder, name in ROOTS.items():
        for init in sorted((HERE / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(HERE / folder).parts
            out.append(".".join((name, *rel)))
    return out


class BuildPy(build_py):
    """build_py, then csrc/include/*.h into the built package's include/ (a wheel ships them;
    an editable install finds them in the source tree)."""

    def run(self):
        super().run()
        dest = pathlib.Path(self.build_lib) / "chipemu" / "include"
        dest.mkdir(parents=True, exist_ok=True)
        for header in sorted((HERE / "csrc" / "include").glob("*.h")):
            shutil.copy2(header, dest / header.name)


setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"], packages=packages(),
      package_dir={name: folder for folder, name in ROOTS.items()},
      cmdclass={"build_py": BuildPy})
