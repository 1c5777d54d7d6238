"""What a run returns: `Result` — output, cycles, energy, utilization, critical path, phases — and
its writers (Chrome trace JSON for ui.perfetto.dev, gem5-style stats, config) and summary.

Energy is integer femtojoules end to end; `energy_pj`, seconds and watts are for display.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chipemu.emulator.device.config import Device, Site
from chipemu.emulator.engine.core import EngineResult
from chipemu.emulator.events import EventLog
from chipemu.emulator.engine.trace import write_chrome_trace

__all__ = ["Result", "Phase", "STATS_SCHEMA_VERSION"]

STATS_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Phase:
    """A named part of a run (e.g. "load", "compute"): its supersteps and their figures."""

    name: str
    steps: tuple
    cycles: int            # from the first start to the last end of its ops
    seconds: float
    energy_fj: int         # dynamic energy of its ops + static power over its cycles

    @property
    def energy_pj(self) -> float:
        return self.energy_fj / 1000.0

    def as_dict(self) -> dict:
        return {"cycles": self.cycles, "seconds": self.seconds, "energy_pj": self.energy_pj,
                "steps": list(self.steps)}


@dataclass
class Result:
    """The outcome of one kernel run on one device (docs/DESIGN.md §6)."""

    output: Any
    device: Device
    timing: EngineResult
    events: EventLog
    site: Site = field(default_factory=Site)
    metrics: dict = field(default_factory=dict)
    phase_list: tuple = ()
    plan: Any = None
    kernel: str = ""
    kernel_list: tuple = ()     # a program's calls (kernels/program/spans.KernelSpan)

    @classmethod
    def of(cls, machine, device: Device, *, kernel: str = "kernel", output=None,
           site: Site | None = None, metrics: dict | None = None) -> "Result":
        """Time what `machine` (a runtime Machine made from `device`'s engine parameters) has
        logged since its last clear_log, on `device`: the Result of one's own kernels
        (docs/intrinsics.md), with a copy of the log (the machine's next run writes over its
        own)."""
        from chipemu.emulator.engine import simulate
        log = machine.log
        log = EventLog(log.events.copy(), log.peers.copy(), log.buffers.copy())
        return cls(output=output, device=device, timing=simulate(log, device.engine_params()),
                   events=log, site=site or Site(), metrics=dict(metrics or {}), kernel=kernel)

    # -- headline figures -------------------------------------------------------------------
    @property
    def cycles(self) -> int:
        return int(self.timing.makespan_cycles)

    @property
    def seconds(self) -> float:
        return float(self.timing.seconds)

    @property
    def energy_fj(self) -> int:
        return int(self.timing.energy_fj)

    @property
    def energy_pj(self) -> float:
        return self.energy_fj / 1000.0

    @property
    def power_w(self) -> float:
        """Average power over the run (W)."""
        return self.energy_fj * 1e-15 / self.seconds if self.seconds > 0 else 0.0

    @property
    def energy_breakdown(self) -> dict:
        """Breakdowns by "component", "chiplet", "tile", "op" (fJ); each sums to energy_fj."""
        return self.timing.energy_breakdown

    @property
    def utilization(self) -> dict:
        """Mean utilization per resource class over the run (0..1)."""
        return self.timing.utilization_by_class()

    @property
    def critical_path(self) -> dict:
        cp = self.timing.critical_path
        return {"binding": cp.binding_class, "cycles_by_class": dict(cp.cycles_by_class),
                "events": cp.events, "length": cp.length}

    @property
    def phases(self) -> dict:
        """name -> {"cycles", "seconds", "energy_pj", "steps"}."""
        return {p.name: p.as_dict() for p in self.phase_list}

    @property
    def kernels(self) -> dict:
        """A program's calls: label -> {"kind", "start_cycle", "end_cycle", "cycles",
        "energy_fj", "dynamic_fj", "static_fj", "energy_by_op", "steps"}; their energy_fj
        sum to the run's. Empty for a single kernel run."""
        return {k.name: k.as_dict() for k in self.kernel_list}

    @property
    def co2e_g(self) -> float:
        """Grams CO2e of the run's energy at the site (PUE and grid intensity applied)."""
        return self.site.co2e_g(self.energy_fj * 1e-15)

    @property
    def water_l(self) -> float:
        return self.site.water_l(self.energy_fj * 1e-15)

    # -- outputs ------------------------------------------------------------------------------
    def write_trace(self, path, *, max_events: int = 200_000) -> Path:
        """Write the Chrome trace JSON (open in ui.perfetto.dev; pid = chiplet, tid = tile unit)
        and return the path of the file written.

        path: a file, or a directory (an existing one, or a name without a suffix; trace.json is
        written inside). Missing folders are created. At most max_events op slices are kept
        (the earliest by start); the rest are dropped and the file says so.
        """
        path = Path(path)
        if path.is_dir() or path.suffix == "":
            path = path / "trace.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_chrome_trace(path, self, max_events=max_events)
        return path

    def stats(self) -> dict:
        """Flat dotted name -> (value, description with unit), the content of stats.txt."""
        s = {}
        s["sim.cycles"] = (self.cycles, "makespan (cycles)")
        s["sim.seconds"] = (self.seconds, "makespan (s)")
        s["sim.clock_ghz"] = (self.device.clock_ghz, "clock (GHz)")
        s["energy.total_fj"] = (self.energy_fj, "energy (fJ)")
        s["energy.power_w"] = (self.power_w, "average power (W)")
        s["energy.co2e_g"] = (self.co2e_g, "CO2e at the site (g)")
        s["energy.water_l"] = (self.water_l, "water at the site (L)")
        for kind, table in self.energy_breakdown.items():
            for key, fj in table.items():
                s[f"energy.{kind}.{key}_fj"] = (int(fj), f"energy by {kind} (fJ)")
        for name, n in self.events.op_counts().items():
            s[f"ops.{name}.count"] = (n, "events (count)")
        for name, u in self.utilization.items():
            s[f"util.{name}"] = (u, "mean utilization of the class (fraction)")
        cp = self.critical_path
        for name, cyc in cp["cycles_by_class"].items():
            s[f"critical_path.{name}_cycles"] = (int(cyc), "cycles on the critical path (cycles)")
        s["critical_path.ops"] = (int(cp["length"]), "ops on the critical path (count)")
        for p in self.phase_list:
            s[f"phase.{p.name}.cycles"] = (p.cycles, "phase span (cycles)")
            s[f"phase.{p.name}.energy_fj"] = (p.energy_fj, "phase energy (fJ)")
        from chipemu.emulator.engine.summary import phase_metrics
        over_phase = {key: (phase, whole) for key, phase, _, whole in phase_metrics(self)}
        for key, value in self.metrics.items():
            if not isinstance(value, (int, float, np.integer, np.floating)):
                continue
            if key in over_phase:
                phase, whole = over_phase[key]
                s[f"metrics.{key}"] = (value, f"kernel metric over the {phase} phase only")
                if whole is not None:
                    s[f"whole_run.{key}"] = (whole, f"metrics.{key} over the whole run")
            else:
                s[f"metrics.{key}"] = (value, "kernel metric")
        return s

    def write_stats(self, directory) -> Path:
        """Write stats.txt (gem5 style), stats.json and config.json into `directory` (created if
        missing) and return the path of the file written first, stats.txt, as write_trace returns
        its file; the other two lie beside it (`.parent`)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        stats = self.stats()
        width = max(len(k) for k in stats) + 2
        lines = ["---------- Begin Simulation Statistics ----------"]
        lines += [f"{k:<{width}}{_fmt(v):>20}  # {desc}" for k, (v, desc) in stats.items()]
        lines.append("---------- End Simulation Statistics   ----------")
        (d / "stats.txt").write_text("\n".join(lines) + "\n")
        payload = {"schema_version": STATS_SCHEMA_VERSION, "kernel": self.kernel,
                   "stats": {k: _plain(v) for k, (v, _) in stats.items()},
                   "critical_path_binding": self.critical_path["binding"]}
        (d / "stats.json").write_text(json.dumps(payload, indent=1) + "\n")
        config = {"schema_version": STATS_SCHEMA_VERSION, "device": self.device.to_dict(),
                  "sources": dict(self.device.sources), "site": self.site.model_dump(),
                  "engine_params": _plain(self.device.engine_params()),
                  "plan": _plain(self.plan) if self.plan is not None else None}
        (d / "config.json").write_text(json.dumps(config, indent=1, default=str) + "\n")
        return d / "stats.txt"

    def summary(self, console=None) -> None:
        """Print a rich summary naming the binding resource."""
        from chipemu.emulator.engine.summary import print_summary
        print_summary(self, console)

    def __repr__(self):
        return (f"Result(kernel={self.kernel!r}, cycles={self.cycles}, seconds={self.seconds:.3g}, "
                f"energy_pj={self.energy_pj:.6g}, binding={self.critical_path['binding']!r})")


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.6g}"
    return str(v)


def _plain(v):
    """JSON-ready copy: NumPy scalars and arrays become Python numbers and lists."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v
