"""Per-kernel figures of a program's Result: each call's span, cycles and energy.

A call's span runs from its first op's start to its last op's end (calls overlap: the engine
orders ops by hazards, not by kernel). Its dynamic energy is the sum of its events' energies
(the engine's per-event figures); the run's static energy is shared among the calls in
proportion to their spans (overlapping calls share the static power of the time they overlap),
rounded so that the calls' energies sum exactly to the run's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipemu.emulator.events import OP_NAMES
from chipemu.kernels.scaffold import steps_mask

__all__ = ["KernelSpan", "kernel_spans"]


@dataclass(frozen=True)
class KernelSpan:
    """One call of a program: its label, kind, supersteps and figures (cycles; energy in fJ)."""
    name: str
    kind: str
    steps: tuple
    start_cycle: int
    end_cycle: int
    dynamic_fj: int
    static_fj: int
    energy_by_op: dict

    @property
    def cycles(self) -> int:
        return self.end_cycle - self.start_cycle

    @property
    def energy_fj(self) -> int:
        return self.dynamic_fj + self.static_fj

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start_cycle": self.start_cycle, "end_cycle": self.end_cycle,
                "cycles": self.cycles, "energy_fj": self.energy_fj, "dynamic_fj": self.dynamic_fj,
                "static_fj": self.static_fj, "energy_by_op": dict(self.energy_by_op),
                "steps": list(self.steps)}


def kernel_spans(result, kinds: dict) -> tuple:
    """The KernelSpans of `result`'s phases (one per call; kinds: {label: kind})."""
    ev, timing = result.events.events, result.timing
    rows = []
    for ph in result.phase_list:
        mask = steps_mask(ev, ph.steps)
        if not mask.any():
            rows.append((ph, 0, 0, 0, {}))
            continue
        ops = ev["op"][mask]
        fj = timing.energy_fj_event[mask]
        by_op = {OP_NAMES[int(o)]: int(fj[ops == o].sum()) for o in np.unique(ops)}
        rows.append((ph, int(timing.start_cycles[mask].min()), int(timing.end_cycles[mask].max()),
                     int(fj.sum()), by_op))
    static = int(timing.energy_by_component.get("static", 0))
    spans = [b - a for _, a, b, _, _ in rows]
    total = sum(spans)
    shares = [static * s // total if total else 0 for s in spans]
    # the remainder, a few fJ, to the longest spans first: the shares sum to the static energy
    left = static - sum(shares) if total else 0
    for i in sorted(range(len(rows)), key=lambda i: (-spans[i], i))[:left]:
        shares[i] += 1
    return tuple(KernelSpan(ph.name, kinds.get(ph.name, ""), ph.steps, a, b, dyn, share, by_op)
                 for (ph, a, b, dyn, by_op), share in zip(rows, shares))
