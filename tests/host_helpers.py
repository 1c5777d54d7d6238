"""What the host-API tests share (tests/test_kernels_*_host.py): a cost's figures beside a
Result's (the `handles` fixture is in conftest.py)."""
from chipemu.emulator.engine.core import ENERGY_COMPONENTS, PATH_CLASSES
import numpy as np

from chipemu.emulator.errors import CapacityError
from chipemu.emulator.native import ffi, lib


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




def check_run(status, y, c, python_run):
    """A functional run from C (its status, output y and cost c) against python_run(), the
    same call in Python: both refuse it with the same capacity error, or give the same bits
    and the same figures. Returns Python's Result (None when refused)."""
    try:
        r = python_run()
    except CapacityError:
        assert status == lib.CHIPEMU_ERR_CAPACITY
        return None
    assert status == lib.CHIPEMU_OK, ffi.string(lib.chipemu_last_error()).decode()
    assert np.array_equal(y.view(np.uint32), r.output.view(np.uint32))
    assert figures_c(c) == figures_py(r)
    return r
