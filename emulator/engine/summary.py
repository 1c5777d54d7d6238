"""The rich summary of a Result: headline figures, energy breakdown, the binding resource."""
from __future__ import annotations

__all__ = ["print_summary"]


def _si(value: float, unit: str) -> str:
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"),
                          (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def print_summary(result, console=None) -> None:
    """Print headline figures, metrics, phases, energy by component and utilization."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    cp = result.critical_path
    head = Table(title=f"{result.kernel or 'run'} on {result.device.name}", show_header=False)
    head.add_column(style="bold")
    head.add_column(justify="right")
    head.add_row("cycles", f"{result.cycles:,}")
    head.add_row("time", _si(result.seconds, "s"))
    head.add_row("energy", _si(result.energy_fj * 1e-15, "J"))
    head.add_row("average power", _si(result.power_w, "W"))
    head.add_row("CO2e at site", _si(result.co2e_g, "g"))
    head.add_row("binding resource", f"{cp['binding']} ({cp['length']} ops on the critical path)")
    noc = result.device.chiplet.noc
    head.add_row("network model", f"{result.device.engine.network}, {noc.multicast} multicast")
    for key, value in result.metrics.items():
        head.add_row(key, f"{value:,.4g}" if isinstance(value, (int, float)) else str(value))
    for name, p in result.phases.items():
        head.add_row(f"phase {name}", f"{p['cycles']:,} cycles, {_si(p['energy_pj'] * 1e-12, 'J')}")
    console.print(head)

    energy = Table(title="energy by component")
    for col in ("component", "energy", "share"):
        energy.add_column(col, justify="left" if col == "component" else "right")
    total = max(result.energy_fj, 1)
    for name, fj in sorted(result.energy_breakdown["component"].items(), key=lambda kv: -kv[1]):
        if fj:
            energy.add_row(name, _si(fj * 1e-15, "J"), f"{100.0 * fj / total:.1f} %")
    console.print(energy)

    util = Table(title="mean utilization and critical-path cycles by resource class")
    for col in ("class", "utilization", "critical-path cycles"):
        util.add_column(col, justify="left" if col == "class" else "right")
    for name, u in sorted(result.utilization.items(), key=lambda kv: -kv[1]):
        util.add_row(name, f"{100.0 * u:.1f} %", f"{cp['cycles_by_class'].get(name, 0):,}")
    console.print(util)
