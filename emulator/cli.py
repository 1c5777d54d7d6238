"""The `chipemu` command line (click + rich)."""
import click

__all__ = ["main"]


@click.group()
@click.version_option(package_name="chipemu")
def main():
    """chipemu: emulate chiplet accelerators whose tiles compute in memory (DIMC)."""


@main.command()
@click.option("--size", default=1 << 20, show_default=True, help="Values per test tensor.")
@click.option("--seed", default=0, show_default=True)
@click.option("--backend", type=click.Choice(["c", "numba", "numpy"]), default="c", show_default=True)
def demo(size, seed, backend):
    """Quantization error of every format on a gaussian and a heavy-tailed tensor."""
    from rich.console import Console
    from rich.table import Table

    from .demo import format_errors, reference_tensors

    console = Console()
    for title, x in reference_tensors(size, seed).items():
        table = Table(title=f"{title}, {x.size:,} values, blocks along rows")
        for col in ("format", "bits/value", "bytes", "SQNR (dB)", "max |error|"):
            table.add_column(col, justify="left" if col == "format" else "right")
        for r in format_errors(x, backend=backend):
            table.add_row(r.fmt, f"{r.storage_bits:g}", f"{r.nbytes:,}", f"{r.sqnr_db:.1f}",
                          f"{r.max_abs_error:.3g}")
        console.print(table)


@main.command()
def formats():
    """List the numeric formats and their rules."""
    from rich.console import Console
    from rich.table import Table

    from .formats import FORMATS

    table = Table(title="numeric formats (rules: docs/formats.md)")
    for col in ("name", "code", "elem bits", "block", "scale", "bits/value", "max |elem|", "DIMC"):
        table.add_column(col, justify="left" if col == "name" else "right")
    for s in FORMATS.values():
        scale = "8-bit 2^k" if s.scale_bits else ("fp32/tensor" if s.name == "int8" else "-")
        table.add_row(s.name, str(s.code), str(s.elem_bits), str(s.block_size), scale,
                      f"{s.storage_bits:g}", f"{s.max_value:.6g}", "yes" if s.dimc else "")
    Console().print(table)
