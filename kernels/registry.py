"""What a kernel folder declares so that the library, the CLI and the docs find it: a `Kernel`.

Each kernel package (kernels/<name>/__init__.py) defines `KERNEL = Kernel(...)`; the folder is
registered once, in `REGISTERED` below. From that one line follow the names `chipemu.kernels`
exports (`exports`), the `chipemu run` commands (`commands`, each a function
`fn(device, *, backend, mode, **params) -> Result` whose first docstring line is its help; given
`progress` too when it takes that keyword) and
the command-line options they take (`options`), and the generated C enums of the tile
parameters (`params`, written by csrc/gen_tables.py). docs/kernels.md walks through adding one.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

__all__ = ["Kernel", "CliOption", "REGISTERED", "kernels", "commands", "cli_options"]

# the kernel folders of chipemu.kernels, in the order `chipemu run list` shows them
REGISTERED = ("matmul", "attention", "microbench", "scale_rows", "rmsnorm", "glu", "move",
              "residual", "layernorm", "softmax", "embedding",
              "argmax", "rope")


@dataclass(frozen=True)
class CliOption:
    """A `chipemu run` option: --<name with dashes>, passed to the command as keyword `name`.
    `type` is int, float or str; `flag` makes a boolean switch."""

    name: str
    type: type = int
    help: str = ""
    flag: bool = False


@dataclass(frozen=True)
class Kernel:
    """One kernel folder's registration (see the module docstring)."""

    name: str
    doc: str                                    # its page under docs/
    exports: Mapping[str, object] = field(default_factory=dict)
    commands: Mapping[str, Callable] = field(default_factory=dict)
    options: tuple = ()
    params: tuple = ()                          # ParamLayouts -> csrc/kernels/<name>/params.h


def kernels() -> dict:
    """{folder name: Kernel} of every registered kernel folder (imports them)."""
    out = {}
    for name in REGISTERED:
        k = importlib.import_module(f"chipemu.kernels.{name}").KERNEL
        if not isinstance(k, Kernel) or k.name != name:
            raise TypeError(f"chipemu.kernels.{name}.KERNEL must be Kernel(name={name!r}, ...)")
        out[name] = k
    return out


def commands() -> dict:
    """{command name: function} of every registered kernel, for `chipemu run`."""
    out = {}
    for k in kernels().values():
        for name, fn in k.commands.items():
            if name in out:
                raise ValueError(f"command {name!r} is registered twice (kernel {k.name!r})")
            out[name] = fn
    return out


def cli_options() -> dict:
    """{option name: (CliOption, [kernel names])}: the union of the kernels' options."""
    out = {}
    for k in kernels().values():
        for opt in k.options:
            have = out.setdefault(opt.name, (opt, []))
            if (have[0].type, have[0].flag) != (opt.type, opt.flag):
                raise ValueError(f"option --{opt.name} has different types in kernels "
                                 f"{have[1]} and {k.name!r}")
            have[1].append(k.name)
    return out
