"""The `chipemu` command line (click + rich), above both packages: it drives chipemu.emulator and
the kernels registered in chipemu.kernels."""
from chipemu.cli.main import main

__all__ = ["main"]
