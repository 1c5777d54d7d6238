"""`chipemu sweep` and `chipemu plot`: run a sweep spec, write its table and plots; plot a
table written earlier (docs/sweeps.md)."""
from __future__ import annotations

import time

import click

__all__ = ["sweep", "plot"]

_KEY = ("point", "name", "kernel", "status", "cycles", "energy_j", "binding")


def _write_table(df, path):
    p = str(path)
    if p.endswith(".parquet"):
        df.to_parquet(p, index=False)
    elif p.endswith((".csv", ".csv.xz", ".csv.gz")):
        df.to_csv(p, index=False)
    else:
        raise click.BadParameter(f"{p!r}: allowed suffixes .csv, .csv.gz, .csv.xz, .parquet",
                                 param_hint="'-o'")


def read_table(path):
    """A table written by `chipemu sweep -o` (CSV or Parquet) as a DataFrame."""
    import pandas as pd
    p = str(path)
    return pd.read_parquet(p) if p.endswith(".parquet") else pd.read_csv(p, keep_default_na=False,
                                                                         na_values=[""])


def _plots(df, roofline, energy, pareto, device):
    from chipemu.sweeps import plots
    done = []
    if roofline:
        done.append(plots.save(plots.roofline(df, device), roofline))
    if energy:
        done.append(plots.save(plots.energy_bars(df), energy))
    for spec in pareto:
        axes, _, path = spec.partition("=")
        x, _, y = axes.partition(",")
        if not (x and y and path):
            raise click.BadParameter(f"{spec!r}: allowed: X,Y=FILE (two columns, a file)",
                                     param_hint="'--pareto'")
        done.append(plots.save(plots.pareto(df, x, y), path))
    return done


def _show(df, console):
    from rich.table import Table
    cols = [c for c in df.columns if c in _KEY or c.startswith(("param.", "set."))]
    t = Table(*cols, show_lines=False)
    for _, row in df.head(40).iterrows():
        t.add_row(*[("" if v != v else f"{v:.4g}" if isinstance(v, float) else str(v))
                    for v in (row[c] for c in cols)])
    console.print(t)
    if len(df) > 40:
        console.print(f"... {len(df) - 40} more rows (write them all with -o)")


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the table: .csv, .csv.gz, .csv.xz or .parquet.")
@click.option("--executor", default="local", show_default=True,
              help="local (worker processes), serial, or a Dask scheduler dask://HOST:PORT.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: the CPUs).")
@click.option("--cache", "cache", type=click.Path(dir_okay=False), default=None,
              help="The cache file (default: ~/.cache/chipemu/sweeps.sqlite).")
@click.option("--no-cache", is_flag=True, help="Run every point; keep nothing.")
@click.option("--roofline", type=click.Path(dir_okay=False), default=None,
              help="Write the roofline plot (.png, .svg, .pdf).")
@click.option("--energy", type=click.Path(dir_okay=False), default=None,
              help="Write the energy breakdown plot.")
@click.option("--pareto", multiple=True, metavar="X,Y=FILE",
              help="Write column Y against X with its Pareto front (repeat).")
@click.option("--quiet", is_flag=True, help="No progress bar, no table on the terminal.")
def sweep(spec, output, executor, workers, cache, no_cache, roofline, energy, pareto, quiet):
    """Run the points of a sweep SPEC (.toml: docs/sweeps.md) and print or write the table."""
    from rich.console import Console

    from chipemu.emulator.errors import ChipemuError
    from chipemu.sweeps import Spec
    from chipemu.sweeps.api import sweep as run

    t0 = time.monotonic()
    try:
        s = Spec.from_toml(spec)
        df = run(s, executor=executor, workers=workers, progress=not quiet,
                 cache=False if no_cache else (cache or True))
        if output:
            _write_table(df, output)
        plots = _plots(df, roofline, energy, pareto, s.device)
    except ChipemuError as exc:
        raise click.ClickException(str(exc)) from None
    console = Console()
    if not quiet and not output:
        _show(df, console)
    bad = int((df["status"] != "ok").sum())
    console.print(f"{len(df)} points, {bad} with errors, in {time.monotonic() - t0:.1f} s"
                  + (f" -> {output}" if output else "")
                  + "".join(f", {p}" for p in plots))


@click.command()
@click.argument("kind", type=click.Choice(["roofline", "energy", "pareto"]))
@click.argument("table", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The plot file: .png, .svg or .pdf.")
@click.option("--x", "x", default="seconds", show_default=True, help="pareto: the x column.")
@click.option("--y", "y", default="energy_j", show_default=True, help="pareto: the y column.")
@click.option("--device", default=None,
              help="roofline: the device whose roofs are drawn (default: the table's first).")
def plot(kind, table, output, x, y, device):
    """Plot a sweep TABLE (.csv or .parquet from `chipemu sweep -o`): roofline, energy or
    pareto."""
    from chipemu.emulator.errors import ChipemuError
    from chipemu.sweeps import plots

    try:
        df = read_table(table)
        fig = (plots.roofline(df, device) if kind == "roofline" else
               plots.energy_bars(df) if kind == "energy" else plots.pareto(df, x, y))
        click.echo(f"wrote {plots.save(fig, output)}")
    except ChipemuError as exc:
        raise click.ClickException(str(exc)) from None
