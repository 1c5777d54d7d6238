"""`chipemu run KERNEL`: run a kernel on a preset or config and print its summary."""
import ast

import click

__all__ = ["run"]


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _kernels() -> dict:
    from chipemu.kernels.attention_run import run_attention
    from chipemu.kernels.matmul import run_matmul
    from chipemu.kernels.microbench import MICROBENCHMARKS
    return {"matmul": run_matmul, "attention": run_attention, **MICROBENCHMARKS}


@click.command(context_settings={"show_default": True})
@click.argument("kernel")
@click.option("--preset", default="corsair", help="A shipped device preset (chipemu presets).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A device TOML file (overrides --preset).")
@click.option("--backend", type=click.Choice(["c", "numba"]), default="c")
@click.option("--mode", type=click.Choice(["functional", "timing"]), default="functional")
@click.option("--set", "-s", "params", multiple=True, metavar="NAME=VALUE",
              help="A kernel parameter, e.g. -s nbytes=65536 -s fmt=mxint4 (repeatable).")
@click.option("--m", "m", type=int, default=None, help="matmul: rows of activations (M).")
@click.option("--k", "k", type=int, default=None, help="matmul: inner dimension (K).")
@click.option("--n", "n", type=int, default=None, help="matmul: columns of weights (N).")
@click.option("--batch", type=int, default=None, help="attention: batch size.")
@click.option("--heads", type=int, default=None, help="attention: query heads.")
@click.option("--kv-heads", type=int, default=None, help="attention: key/value heads (GQA).")
@click.option("--seq", type=int, default=None, help="attention: query length.")
@click.option("--kv-len", type=int, default=None, help="attention: key/value length.")
@click.option("--head-dim", type=int, default=None, help="attention: head dimension.")
@click.option("--causal", is_flag=True, default=False, help="attention: causal mask.")
@click.option("--mask-missing", type=float, default=None,
              help="attention: fraction of keys masked in random missing-data spans.")
@click.option("--fmt", default=None, help="DIMC format of the activations (mxint8, mxint4, ...).")
@click.option("--weight-fmt", default=None, help="DIMC format of the weights (default: --fmt).")
@click.option("--trace", type=click.Path(file_okay=False), default=None,
              help="Write trace.json (open in ui.perfetto.dev) into this directory.")
@click.option("--stats", type=click.Path(file_okay=False), default=None,
              help="Write stats.txt, stats.json and config.json into this directory.")
def run(kernel, preset, config, backend, mode, params, m, k, n, batch, heads, kv_heads, seq,
        kv_len, head_dim, causal, mask_missing, fmt, weight_fmt, trace, stats):
    """Run KERNEL on a device and print its summary (`chipemu run list` lists the kernels)."""
    from rich.console import Console

    from .device import Device
    from .errors import ChipemuError

    kernels = _kernels()
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
    for name, value in (("m", m), ("k", k), ("n", n), ("fmt", fmt), ("weight_fmt", weight_fmt),
                        ("batch", batch), ("heads", heads), ("kv_heads", kv_heads), ("seq", seq),
                        ("kv_len", kv_len), ("head_dim", head_dim), ("mask_missing", mask_missing),
                        ("causal", causal or None)):
        if value is not None:
            kwargs[name] = value
    try:
        device = Device.from_toml(config) if config else Device.preset(preset)
        result = kernels[kernel](device, backend=backend, mode=mode, **kwargs)
    except ChipemuError as exc:
        raise click.ClickException(str(exc)) from None
    except TypeError as exc:
        raise click.ClickException(f"{kernel}: {exc}") from None
    console = Console()
    result.summary(console)
    if trace:
        console.print(f"trace: {result.write_trace(trace)}")
    if stats:
        console.print(f"stats: {result.write_stats(stats)}")
