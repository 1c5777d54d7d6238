"""What the host-API tests share (tests/test_kernels_*_host.py): a cost's figures beside a
Result's (the `handles` fixture is in conftest.py)."""
from chipemu.emulator.engine.core import ENERGY_COMPONENTS, PATH_CLASSES
from chipemu.emulator.native import ffi


def figures_py(r):
    return dict(cycles=r.cycles, energy_fj=r.energy_fj, events=len(r.events.events),
                by_component=[int(r.timing.energy_by_component[c]) for c in ENERGY_COMPONENTS],
                phases=[(p.name, p.cycles, p.energy_fj) for p in r.phase_list],
                critical=r.timing.critical_path.binding_class)


def figures_c(c):
    return dict(cycles=c.cycles, energy_fj=c.energy_fj, events=c.events,
                by_component=list(c.energy_by_component),
                phases=[(ffi.string(c.phases[i].name).decode(), c.phases[i].cycles,
                         c.phases[i].energy_fj) for i in range(c.n_phases)],
                critical=PATH_CLASSES[c.critical_class])


