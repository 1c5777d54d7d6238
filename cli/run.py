"""`chipemu run KERNEL`: run a registered kernel command on a preset or config, print its summary.

The commands come from the kernels' registrations (chipemu.kernels.registry): each becomes a
subcommand with the common options, its own folder's CliOptions as --<name> (passed only when
given) and `-s NAME=VALUE` for any keyword of its signature; `chipemu run KERNEL --help` lists
them all with types and defaults. Bad input is refused before the run, in one line: unknown
names (with the valid ones), integers beyond int64, unwritable --trace / --stats directories.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import click

from chipemu.cli.params import FINITE, INT64, OutDir, first_sentence, parameters, parse_sets

__all__ = ["run"]


@functools.lru_cache(maxsize=1)
def _registry() -> dict:
    """{command name: (function, its folder's CliOptions)} of every registered kernel."""
    from chipemu.kernels.registry import kernels

    out = {}
    for k in kernels().values():
        for name, fn in k.commands.items():
            out[name] = (fn, tuple(k.options))
    return out


def _common_options():
    return [
        click.Option(["--preset"], default="corsair", show_default=True,
                     help="A shipped device preset (chipemu presets)."),
        click.Option(["--config"], type=click.Path(exists=True, dir_okay=False), default=None,
                     help="A device TOML file (overrides --preset)."),
        click.Option(["--backend"], type=click.Choice(["c", "numba"]), default="c",
                     show_default=True),
        click.Option(["--mode"], type=click.Choice(["functional", "timing"]),
                     default="functional", show_default=True),
        click.Option(["--network"], type=click.Choice(["packet", "message"]), default=None,
                     help="The engine's network model (default: the device's engine.network)."),
        click.Option(["--set", "-s", "sets"], multiple=True, metavar="NAME=VALUE",
                     help="A kernel parameter (repeatable; the list below)."),
        click.Option(["--trace"], type=OutDir(), default=None,
                     help="Write trace.json (open in ui.perfetto.dev) into this directory."),
        click.Option(["--stats"], type=OutDir(), default=None,
                     help="Write stats.txt, stats.json and config.json into this directory."),
    ]


_TYPES = {int: INT64, float: FINITE, str: click.STRING}


def _kernel_option(opt, param):
    flag = "--" + opt.name.replace("_", "-")
    default = f" [default: {param.default_text}]" if param is not None else ""
    if opt.flag:
        return click.Option([flag, opt.name], is_flag=True, default=None,
                            help=opt.help + default)
    return click.Option([flag, opt.name], type=_TYPES.get(opt.type, click.STRING), default=None,
                        help=opt.help + default)


class KernelCommand(click.Command):
    """One kernel's `chipemu run` subcommand; its help ends with its `-s` parameters."""

    def __init__(self, name, fn, options):
        self.fn, self.kernel_params = fn, parameters(fn, options)
        params = _common_options() + [_kernel_option(o, self.kernel_params.get(o.name))
                                      for o in options]
        super().__init__(name, params=params, help=(fn.__doc__ or "").strip(),
                         short_help=first_sentence(fn.__doc__),
                         callback=functools.partial(_execute, name, fn, self.kernel_params))

    def format_epilog(self, ctx, formatter):
        rows = []
        for p in self.kernel_params.values():
            also = f"; also --{p.option.name.replace('_', '-')}" if p.option else ""
            text = f"default: {p.default_text}{also}" + (f". {p.option.help}" if p.option else "")
            rows.append((f"{p.name} ({p.type_name})", text))
        with formatter.section("Parameters (-s NAME=VALUE, any Python literal)"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


def _list_kernels():
    """Each kernel command with the whole first sentence of its docstring."""
    import shutil

    width, columns = 15, max(60, shutil.get_terminal_size().columns)
    for name, (fn, _) in _registry().items():
        click.echo(click.wrap_text(first_sentence(fn.__doc__), width=columns,
                                   initial_indent=f"{name:<{width}} ",
                                   subsequent_indent=" " * (width + 1)))


class RunGroup(click.Group):
    """`chipemu run`: one subcommand per registered kernel command, built when asked for."""

    def list_commands(self, ctx):
        return ["list", "llm", *_registry()]

    def get_command(self, ctx, name):
        if name == "list":
            return click.Command("list", callback=_list_kernels,
                                 help="List the kernels with what each runs.")
        if name == "llm":
            from chipemu.cli.llm import llm
            return llm
        if name not in _registry():
            return None
        fn, options = _registry()[name]
        return KernelCommand(name, fn, options)

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise click.BadParameter(f"{name!r} is not a kernel; choose one of: "
                                     f"{', '.join(_registry())} (or llm)", ctx=ctx,
                                     param_hint="KERNEL")
        return super().resolve_command(ctx, args)


@click.group(cls=RunGroup, subcommand_metavar="KERNEL [OPTIONS]")
def run():
    """Run KERNEL on a device and print its summary (`chipemu run list` lists the kernels;
    `chipemu run KERNEL --help` its options and parameters)."""


class InternalError(click.ClickException):
    """An exception that is not a ChipemuError: a chipemu bug, shown in one line."""

    exit_code = 70


def _kwargs(kernel, params, sets, options) -> dict:
    from chipemu.emulator.args import no_extra
    from chipemu.emulator.errors import ChipemuError

    kwargs = parse_sets(sets)
    given = {name: value for name, value in options.items() if value is not None}
    for name in sorted(set(given) & set(kwargs)):
        if given[name] != kwargs[name] or type(given[name]) is not type(kwargs[name]):
            raise click.BadParameter(f"{name} is given twice: --{name.replace('_', '-')} "
                                     f"{given[name]!r} and -s {name}={kwargs[name]!r}",
                                     param_hint="'-s'")
    kwargs.update(given)
    try:
        no_extra(f"chipemu run {kernel}", kwargs, params)
    except ChipemuError as exc:
        raise click.BadParameter(str(exc), param_hint="'-s'") from None
    return kwargs


def _execute(kernel, fn, params, *, preset, config, backend, mode, network, sets, trace, stats,
             **options):
    """The subcommand's body: check the keywords, build the device, run, print, write."""
    import inspect

    from rich.console import Console

    from chipemu.cli.progress import ProgressBar
    from chipemu.emulator.device import Device

    kwargs = _kwargs(kernel, params, sets, options)

    def device_of():
        device = Device.from_toml(config) if config else Device.preset(preset)
        return device if network is None else device.replace({"engine.network": network})

    console = Console()
    bar = ProgressBar(console)
    if "progress" in inspect.signature(fn).parameters:
        kwargs["progress"] = bar
    try:
        result = _call(kernel, fn, device_of, dict(kwargs, backend=backend, mode=mode))
    finally:
        bar.close()
    result.summary(console)
    if trace:
        console.print(f"trace: {_write('trace', result.write_trace, trace, 'trace.json')}")
    if stats:
        path = _write("stats", result.write_stats, stats, None)
        console.print(f"stats: {path} (stats.json and config.json beside it)")


def _call(kernel, fn, device_of, kwargs):
    """Run the kernel; every failure becomes one line (a traceback only with CHIPEMU_TRACEBACK=1)."""
    from chipemu.emulator.errors import ChipemuError

    try:
        return fn(device_of(), **kwargs)
    except ChipemuError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:              # a bug: one line, the traceback on request
        if os.environ.get("CHIPEMU_TRACEBACK"):
            raise
        raise InternalError(f"{kernel} failed with {type(exc).__name__}: {exc} (a chipemu bug; "
                            f"CHIPEMU_TRACEBACK=1 shows the traceback)") from None


def _write(what, writer, directory, name):
    try:
        return writer(Path(directory) / name) if name else writer(Path(directory))
    except OSError as exc:
        raise click.ClickException(f"--{what} {directory}: {exc.strerror or exc}") from None
