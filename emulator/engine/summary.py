"""The rich summary of a Result: headline figures, energy breakdown, the binding resource.

Kernels take some metrics over their compute phase only (e.g. `achieved_tflops`: the MACs over
the compute phase's seconds, which leaves out loading the weights). Those are shown in their own
table, labelled as the compute phase's, with the same figure over the whole run beside them
(`phase_metrics`; the stats name them too).
"""
from __future__ import annotations

__all__ = ["print_summary", "phase_metrics"]


def _per_mac(r, fig):
    macs = r.metrics.get("macs")
    return fig / macs if macs else None


def _tflops(r):
    macs = r.metrics.get("macs")
    return 2 * macs / r.seconds / 1e12 if macs and r.seconds > 0 else None


def _fraction(r):
    t, peak = _tflops(r), r.metrics.get("peak_tflops")
    return t / peak if t is not None and peak else None


def _per_token(r):
    comp, per = r.metrics.get("compute_energy_pj"), r.metrics.get("energy_per_token_pj")
    return r.energy_pj * per / comp if comp and per else None     # the same number of tokens


# metric key -> (what it is, the same figure over the whole run from the Result, or None)
_OVER_COMPUTE = {
    "compute_cycles": ("cycles", lambda r: r.cycles),
    "compute_energy_pj": ("energy, pJ", lambda r: r.energy_pj),
    "achieved_tflops": ("achieved TFLOPS", _tflops),
    "fraction_of_peak": ("fraction of peak", _fraction),
    "compute_power_w": ("average power, W", lambda r: r.power_w),
    "compute_pj_per_mac": ("energy per MAC, pJ", lambda r: _per_mac(r, r.energy_pj)),
    "energy_per_token_pj": ("energy per token, pJ", _per_token),
}


def phase_metrics(result) -> list:
    """[(key, phase, label, whole-run value or None)] for the metrics taken over the compute
    phase only (none when the run has no "compute" phase)."""
    if "compute" not in {p.name for p in result.phase_list}:
        return []
    return [(key, "compute", label, whole(result))
            for key, (label, whole) in _OVER_COMPUTE.items() if key in result.metrics]


def _si(value: float, unit: str) -> str:
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"),
                          (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _num(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"


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
    phased = phase_metrics(result)
    for key, value in result.metrics.items():
        if key not in {k for k, *_ in phased}:
            head.add_row(key, _num(value))
    for name, p in result.phases.items():
        head.add_row(f"phase {name}", f"{p['cycles']:,} cycles, {_si(p['energy_pj'] * 1e-12, 'J')}")
    console.print(head)
    if phased:
        table = Table(title="figures over the compute phase, and over the whole run")
        for col in ("metric", "compute phase", "whole run"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for key, _, label, whole in phased:
            table.add_row(f"{key} ({label})", _num(result.metrics[key]),
                          "-" if whole is None else _num(whole))
        console.print(table)

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
