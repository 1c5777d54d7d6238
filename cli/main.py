"""The `chipemu` command line (click + rich). Every error is one line on stderr, never a
traceback: usage errors end with where to find the help."""
import sys

import click

__all__ = ["main"]


def _one_line(exc: click.ClickException) -> str:
    msg = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        msg += f" (see '{ctx.command_path} --help')"
    return f"Error: {msg}"


class _Group(click.Group):
    """`run` takes its options from the registered kernels, so it is built (and the kernels
    imported) only when it is asked for, not on every `chipemu` call."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        no_args_help = getattr(click.exceptions, "NoArgsIsHelpError", ())
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except no_args_help as exc:          # `chipemu run` alone: its help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(_one_line(exc), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def list_commands(self, ctx):
        return sorted(super().list_commands(ctx) + ["run", "cc", "profile", "sweep", "plot"])

    def get_command(self, ctx, name):
        if name == "run":
            from chipemu.cli.run import run
            return run
        if name == "cc":
            from chipemu.cli.cc import cc
            return cc
        if name == "profile":
            from chipemu.cli.profile import profile
            return profile
        if name in ("sweep", "plot"):
            from chipemu.cli import sweep as module
            return getattr(module, name)
        return super().get_command(ctx, name)


@click.group(cls=_Group)
@click.version_option(package_name="chipemu")
def main():
    """chipemu: emulate chiplet accelerators whose tiles compute in memory (DIMC)."""


# host bytes per value of a test tensor while the demo measures it: two tensors, each as float32,
# its float64 copy, the error, the dequantized values and the codes
_DEMO_BYTES_PER_VALUE = 2 * (4 + 8 + 8 + 4 + 4)


@main.command()
@click.option("--size", type=click.IntRange(min=1, max=1 << 40), default=1 << 20, show_default=True,
              help="Values per test tensor (within the run budget's host bytes).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--backend", type=click.Choice(["c", "numba", "numpy"]), default="c", show_default=True)
def demo(size, seed, backend):
    """Format errors, the dimc_peak microbenchmark, a matmul and a decode attention step on corsair."""
    from chipemu.emulator.errors import ChipemuError
    from chipemu.emulator.runtime.budget import check

    try:
        check(f"chipemu demo --size {size}", host_bytes=_DEMO_BYTES_PER_VALUE * size)
    except ChipemuError as exc:
        raise click.BadParameter(str(exc), param_hint="'--size'") from None
    try:
        _demo(size, seed, backend)
    except ChipemuError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


def _demo(size, seed, backend):
    from rich.console import Console
    from rich.table import Table

    from chipemu.cli.demo import decode_line, format_errors, reference_tensors

    console = Console()
    for title, x in reference_tensors(size, seed).items():
        table = Table(title=f"{title}, {x.size:,} values, blocks along rows")
        for col in ("format", "bits/value", "bytes", "SQNR (dB)", "max |error|"):
            table.add_column(col, justify="left" if col == "format" else "right")
        for r in format_errors(x, backend=backend):
            table.add_row(r.fmt, f"{r.storage_bits:g}", f"{r.nbytes:,}", f"{r.sqnr_db:.1f}",
                          f"{r.max_abs_error:.3g}")
        console.print(table)
    from chipemu.kernels.microbench import dimc_peak

    console.print("\n[bold]dimc_peak on corsair[/bold]: every tile streams MXINT8 MVMs "
                  "(timing mode; chipemu run dimc_peak --help for more)")
    fast = "c" if backend == "numpy" else backend
    dimc_peak("corsair", mode="timing", backend=fast).summary(console)

    from chipemu.kernels.matmul import run_matmul

    console.print("\n[bold]matmul on corsair[/bold]: a functional 512 x 1024 x 1024 MXINT8 "
                  "matmul, checked against NumPy float32 (chipemu run matmul --help for more)")
    r = run_matmul("corsair", backend=fast, m=512, k=1024, n=1024, seed=seed)
    err = r.metrics["max_rel_error_vs_numpy"]
    verdict = "[green]within[/green]" if err <= 0.02 else "[red]outside[/red]"
    console.print(f"max |device - numpy| / max |numpy| = {err:.3g}, {verdict} the MXINT8 bound "
                  f"of 0.02 (docs/matmul.md)")
    r.summary(console)

    from chipemu.kernels.attention import decode_step

    console.print("\n[bold]decode attention on corsair[/bold]: a KV cache of 4,095 keys for a "
                  "batch of 16 (Llama-3-8B shape: 32 query heads, 8 KV heads, head_dim 128), then "
                  "one new token (timing mode; chipemu run attention --help for more)")
    fill, step = decode_step("corsair", backend=fast)
    console.print(decode_line(fill, step))
    step.summary(console)

    from chipemu.llm import ModelConfig
    from chipemu.llm.estimate import estimate, response_line

    console.print("\n[bold]an LLM response on corsair cards[/bold]: llama-3.2-1b, mxint4 "
                  "weights, mxint8 activations, timing mode (chipemu run llm --help for more)")
    e = estimate(ModelConfig.preset("llama-3.2-1b"), batch=1, prompt=64, new_tokens=64,
                 cache_lengths="blocks")
    console.print(response_line(e))


@main.command()
def formats():
    """List the numeric formats and their rules."""
    from rich.console import Console
    from rich.table import Table

    from chipemu.emulator.numerics.formats import FORMATS

    table = Table(title="numeric formats (rules: docs/formats.md)")
    for col in ("name", "code", "elem bits", "block", "scale", "bits/value", "max |elem|", "DIMC"):
        table.add_column(col, justify="left" if col == "name" else "right")
    for s in FORMATS.values():
        scale = "8-bit 2^k" if s.scale_bits else ("fp32/tensor" if s.name == "int8" else "-")
        table.add_row(s.name, str(s.code), str(s.elem_bits), str(s.block_size), scale,
                      f"{s.storage_bits:g}", f"{s.max_value:.6g}", "yes" if s.dimc else "")
    Console().print(table)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.4g} {unit}"
    return f"{n} B"


def _flat(d: dict, prefix: str = ""):
    """(dotted path, printable value) for each leaf; a list of tables gives one row per item."""
    for key, v in d.items():
        path = f"{prefix}{key}"
        if isinstance(v, dict):
            yield from _flat(v, path + ".")
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for i, item in enumerate(v):
                yield f"{path}.{i}", " ".join(f"{k}={x}" for k, x in item.items() if x is not None)
        else:
            yield path, str(v)


@main.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True,
              help="Print NAME's config, sources, derived figures and engine parameters as JSON.")
def presets(name, as_json):
    """List the device presets with derived peaks, or show one (NAME: a preset or a .toml file)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from chipemu.emulator.device.config import Device
    from chipemu.emulator.errors import ChipemuError

    try:
        if name is None:
            devices = [Device.preset(n) for n in Device.presets()]
        elif name.endswith(".toml"):
            devices = [Device.from_toml(name)]
        else:
            devices = [Device.preset(name)]
    except ChipemuError as err:
        raise click.BadParameter(str(err), param_hint="NAME") from None
    if as_json:
        dev = devices[0] if name else None
        if dev is None:
            raise click.UsageError("--json needs a preset NAME")
        click.echo(json.dumps({"config": dev.to_dict(), "sources": dict(dev.sources),
                               "derived": dev.summary(), "engine_params": dev.engine_params()},
                              indent=2))
        return

    console = Console()
    table = Table(title="device presets (fields and sources: docs/presets.md)")
    table.add_column("")
    for dev in devices:
        table.add_column(dev.name, justify="right")
    sums = [dev.summary() for dev in devices]
    fmts = list(dict.fromkeys(f for dev in devices for f in dev.tile.dimc.formats))
    rows = [("chiplets", lambda d, s: f"{s['chiplets']} ({s['topology']})"),
            ("tiles", lambda d, s: f"{s['chiplets']} x {s['tiles_per_chiplet']} = {s['tiles']:,}"),
            ("clock GHz", lambda d, s: f"{s['clock_ghz']:g}")]
    rows += [(f"peak TFLOPS {f}", lambda d, s, f=f: f"{s['peak_tflops'][f]:,.1f}"
              if f in s["peak_tflops"] else "-") for f in fmts]
    rows += [("SRAM", lambda d, s: f"{_size(s['sram_bytes'])} "
              f"({_size(d.tile.sram.capacity_bytes)}/tile)"),
             ("SRAM TB/s", lambda d, s: f"{s['sram_tb_per_s']:,.1f}"),
             ("DRAM", lambda d, s: _size(s["dram_bytes"])),
             ("DRAM GB/s", lambda d, s: f"{s['dram_gb_per_s']:,.1f}"),
             ("D2D links", lambda d, s: f"{s['d2d_links']} x "
              + " / ".join(f"{g:,.0f}" for g in s["d2d_gb_per_s_per_link"]) + " GB/s"),
             ("static W", lambda d, s: f"{s['static_w']:,.1f}")]
    for label, cell in rows:
        table.add_row(label, *[cell(d, s) for d, s in zip(devices, sums)])
    console.print(table)
    if name is None:
        return

    dev = devices[0]
    cfg = Table(title=f"{dev.name}: every parameter (S sourced, D derived, A assumed)")
    for col in ("parameter", "value", "source"):
        cfg.add_column(col, overflow="fold")
    for path, value in _flat(dev.to_dict()):
        src = dev.sources.get(path) or dev.sources.get(path.rsplit(".", 1)[0], "")
        cfg.add_row(path, value, src)
    console.print(cfg)
    links = Table(title=f"{dev.name}: die-to-die links (resolved)")
    for col in ("a", "b", "phy a", "phy b", "B/cycle", "GB/s", "latency cycles", "pJ/bit"):
        links.add_column(col, justify="right")
    for k in dev.d2d_links():
        links.add_row(str(k.a), str(k.b), str(k.phy_a), str(k.phy_b), str(k.bytes_per_cycle),
                      f"{k.bytes_per_cycle * dev.clock_ghz:,.1f}", str(k.latency_cycles),
                      f"{k.pj_per_bit:g}")
    console.print(links)
