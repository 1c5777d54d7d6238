"""Sweeps: many runs of the kernels over device fields, parameters and formats, on local
processes or a Dask cluster, cached, as a table, with plots (docs/sweeps.md).

    import chipemu
    df = chipemu.sweep("examples/sweep_link_slots_fmt.toml")
"""
from chipemu.sweeps.api import sweep
from chipemu.sweeps.spec import Point, Spec

__all__ = ["sweep", "Spec", "Point"]
