"""What `chipemu run` knows about a kernel command: its parameters (from its signature and its
folder's CliOptions), their types and defaults for --help, the first sentence of its docstring,
and the strict parsing of `-s NAME=VALUE` and of the output directories (checked before a run)."""
from __future__ import annotations

import ast
import inspect
import math
import os
import re
import tempfile
from pathlib import Path

import click

__all__ = ["Param", "parameters", "first_sentence", "parse_sets", "INT64", "FINITE", "OutDir"]

# keywords the CLI passes itself (the device, --backend, --mode, the progress bar; --network
# reaches the kernel through the device)
_FIXED = ("device", "backend", "mode", "progress", "network")
_LO, _HI = -(1 << 63), (1 << 63) - 1
# a sentence ends at . ! ? and a space, except after the abbreviations e.g., i.e., etc., vs.
_END = re.compile(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<=[.!?])\s+")


class Param:
    """One `-s` parameter of a command: name, type name, default and help (from a CliOption)."""

    def __init__(self, name, default, type_name, option=None):
        self.name, self.default, self.type_name, self.option = name, default, type_name, option

    @property
    def default_text(self) -> str:
        return "chosen by the kernel" if self.default is None else repr(self.default)


def _type_name(p: inspect.Parameter, opt) -> str:
    if p.annotation is not inspect.Parameter.empty:
        a = p.annotation
        return a if isinstance(a, str) else getattr(a, "__name__", str(a))
    if opt is not None:
        return "flag" if opt.flag else opt.type.__name__
    if p.default is not None and p.default is not inspect.Parameter.empty:
        return type(p.default).__name__
    return "value"                   # a None default without annotation: any Python literal


def parameters(fn, options=()) -> dict:
    """{name: Param} of the keywords `fn` takes besides those the CLI passes itself."""
    opts = {o.name: o for o in options}
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in _FIXED or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        out[name] = Param(name, default, _type_name(p, opts.get(name)), opts.get(name))
    return out


def first_sentence(doc: str | None) -> str:
    """The docstring's first sentence, whole."""
    text = " ".join((doc or "").split())
    return _END.split(text, maxsplit=1)[0]


def _literal(text: str):
    """A Python literal (1, 0.5, True, None, 'x') or, failing that, the text as a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_sets(items) -> dict:
    """{name: value} of `-s NAME=VALUE` items; integers beyond int64 and non-finite floats are
    refused here, as the kernels' arrays could not hold them."""
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"{item!r} must look like NAME=VALUE", param_hint="'-s'")
        value = _literal(text.strip())
        if isinstance(value, int) and not isinstance(value, bool) and not _LO <= value <= _HI:
            raise click.BadParameter(f"{name}={value} is outside the 64-bit integer range",
                                     param_hint="'-s'")
        if isinstance(value, float) and not math.isfinite(value):
            raise click.BadParameter(f"{name}={value} is not a finite number", param_hint="'-s'")
        out[name] = value
    return out


class _Int64(click.ParamType):
    """An integer that fits int64 (the device's arrays and the engine count in int64)."""

    name = "integer"

    def convert(self, value, param, ctx):
        v = click.INT.convert(value, param, ctx)
        if not _LO <= v <= _HI:
            self.fail(f"{value} is outside the 64-bit integer range [{_LO}, {_HI}]", param, ctx)
        return v


class _Finite(click.ParamType):
    """A finite float (nan and inf are refused)."""

    name = "float"

    def convert(self, value, param, ctx):
        v = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(v):
            self.fail(f"{value} is not a finite number", param, ctx)
        return v


INT64, FINITE = _Int64(), _Finite()


class OutDir(click.ParamType):
    """An output directory, checked when the command line is parsed (so before the run): it is a
    directory or can be created as one, and a file can be written in it (tried: permissions
    alone do not tell for root, read-only mounts or /proc). What the probe creates is removed."""

    name = "directory"

    def convert(self, value, param, ctx):
        p = Path(value)
        if p.exists() and not p.is_dir():
            self.fail(f"{value!r} exists and is not a directory", param, ctx)
        existing = p
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            self.fail(f"{value!r} cannot be created: {str(existing)!r} is not a directory",
                      param, ctx)
        if not os.access(existing, os.W_OK | os.X_OK):
            self.fail(f"{value!r} is not writable (no write permission on {str(existing)!r})",
                      param, ctx)
        made = []
        try:
            for d in reversed([p, *p.parents]):
                if not d.exists():
                    d.mkdir()
                    made.append(d)
            with tempfile.TemporaryFile(dir=p):
                pass
        except OSError as exc:
            self.fail(f"{value!r} is not writable ({exc.strerror or exc})", param, ctx)
        finally:
            for d in reversed(made):
                try:
                    d.rmdir()
                except OSError:
                    pass
        return str(p)
