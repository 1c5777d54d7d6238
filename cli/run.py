"""`chipemu run KERNEL`: run a registered kernel command on a preset or config, print its summary.

The commands and their options come from the kernels' registrations (chipemu.kernels.registry):
each registered option becomes --<name>, passed to the command only when given.
"""
import ast
import inspect

import click

__all__ = ["run"]


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _kernel_options(fn):
    """Decorate `fn` with one click option per registered kernel option."""
    from chipemu.kernels.registry import cli_options

    for name, (opt, owners) in reversed(list(cli_options().items())):
        flag = "--" + name.replace("_", "-")
        text = f"{', '.join(owners)}: {opt.help}"
        if opt.flag:
            fn = click.option(flag, name, is_flag=True, default=None, help=text)(fn)
        else:
            fn = click.option(flag, name, type=opt.type, default=None, help=text)(fn)
    return fn


@click.command(context_settings={"show_default": True})
@click.argument("kernel")
@click.option("--preset", default="corsair", help="A shipped device preset (chipemu presets).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A device TOML file (overrides --preset).")
@click.option("--backend", type=click.Choice(["c", "numba"]), default="c")
@click.option("--mode", type=click.Choice(["functional", "timing"]), default="functional")
@click.option("--network", type=click.Choice(["packet", "message"]), default=None,
              help="The engine's network model (default: the device's engine.network, 'message').")
@click.option("--set", "-s", "params", multiple=True, metavar="NAME=VALUE",
              help="A kernel parameter, e.g. -s nbytes=65536 -s fmt=mxint4 (repeatable).")
@_kernel_options
@click.option("--trace", type=click.Path(file_okay=False), default=None,
              help="Write trace.json (open in ui.perfetto.dev) into this directory.")
@click.option("--stats", type=click.Path(file_okay=False), default=None,
              help="Write stats.txt, stats.json and config.json into this directory.")
def run(kernel, preset, config, backend, mode, network, params, trace, stats, **options):
    """Run KERNEL on a device and print its summary (`chipemu run list` lists the kernels)."""
    from rich.console import Console

    from chipemu.cli.progress import ProgressBar
    from chipemu.emulator.device import Device
    from chipemu.emulator.errors import ChipemuError
    from chipemu.kernels.registry import commands

    kernels = commands()
    if kernel == "list":
        for name, fn in kernels.items():
            click.echo(f"{name:15s} {fn.__doc__.strip().splitlines()[0]}")
        return
    if kernel not in kernels:
        raise click.BadParameter(f"{kernel!r} is not a kernel; choose one of: {', '.join(kernels)}",
                                 param_hint="KERNEL")
    kwargs = {}
    for item in params:
        name, sep, text = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} must look like NAME=VALUE", param_hint="--set")
        kwargs[name.strip()] = _value(text.strip())
    kwargs.update({name: value for name, value in options.items() if value not in (None, False)})
    console = Console()
    bar = ProgressBar(console)
    if "progress" in inspect.signature(kernels[kernel]).parameters:
        kwargs["progress"] = bar
    try:
        device = Device.from_toml(config) if config else Device.preset(preset)
        if network is not None:
            device = device.replace({"engine.network": network})
        result = kernels[kernel](device, backend=backend, mode=mode, **kwargs)
    except ChipemuError as exc:
        raise click.ClickException(str(exc)) from None
    except TypeError as exc:
        raise click.ClickException(f"{kernel}: {exc}") from None
    finally:
        bar.close()
    result.summary(console)
    if trace:
        console.print(f"trace: {result.write_trace(trace)}")
    if stats:
        console.print(f"stats: {result.write_stats(stats)}")
