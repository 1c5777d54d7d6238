"""setuptools glue that pyproject.toml cannot express: the cffi extension (csrc/build_ffi.py), the
package list, found from the folders so that a new kernel folder installs without an edit, the
C headers copied into the package (chipemu/include: chipemu.get_include()), and libchipemu.so,
the C core as a plain shared library beside the extension for C and C++ hosts
(chipemu.get_library_dir(), `chipemu cc --host`)."""
import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOTS = {"pkg": "chipemu", "emulator": "chipemu.emulator", "kernels": "chipemu.kernels",
         "llm": "chipemu.llm", "cli": "chipemu.cli", "sweeps": "chipemu.sweeps"}
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


class BuildExt(build_ext):
    """build_ext, then the extension's own objects of csrc/**/*.c (compiled once, with the same
    flags) linked into libchipemu.so beside it: a C/C++ host links the very code Python runs,
    without libpython (the extension itself needs Python's symbols)."""

    LIB = "libchipemu.so"

    @staticmethod
    def _csrc(ext):
        return [s for s in ext.sources if pathlib.PurePath(s).parts[0] == "csrc"]

    def build_extension(self, ext):
        super().build_extension(ext)
        csrc = self._csrc(ext)
        if not csrc:
            return
        objects = self.compiler.object_filenames(csrc, output_dir=self.build_temp)
        target = pathlib.Path(self.get_ext_fullpath(ext.name)).parent / self.LIB
        self.compiler.link_shared_object(objects, str(target), libraries=["m"],
                                         extra_postargs=[f"-Wl,-soname,{self.LIB}"])

    def get_outputs(self):
        if self.inplace:                          # the output mapping's keys (below)
            return super().get_outputs()
        return super().get_outputs() + [
            str(pathlib.Path(self.get_ext_fullpath(e.name)).parent / self.LIB)
            for e in self.extensions if self._csrc(e)]

    def copy_extensions_to_source(self):
        super().copy_extensions_to_source()
        for built, inplace in self.get_output_mapping().items():
            if pathlib.Path(built).name == self.LIB and pathlib.Path(built).exists():
                self.copy_file(built, inplace, level=self.verbose)

    def get_output_mapping(self):
        """An editable install copies the library into the source tree beside the extension."""
        mapping = super().get_output_mapping()
        for built, inplace in list(mapping.items()):
            if pathlib.Path(built).name.startswith("_native."):
                mapping[str(pathlib.Path(built).parent / self.LIB)] = str(
                    pathlib.Path(inplace).parent / self.LIB)
        return mapping


setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"], packages=packages(),
      package_dir={name: folder for folder, name in ROOTS.items()},
      cmdclass={"build_py": BuildPy, "build_ext": BuildExt})
