# cffi has no pyproject key: this file only registers the extension build (csrc/build_ffi.py).
from setuptools import setup

setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"])
