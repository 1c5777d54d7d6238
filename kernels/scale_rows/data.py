"""Host-side data of scale_rows: x and s as the tiles fetch them, and the parameter vector."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.scale_rows.params import LAYOUT

__all__ = ["params"]


def params(plan, n_tiles: int, bufs: dict) -> np.ndarray:
    """The int64 parameters of sr_load / sr_scale: buffer ids, and per tile its row range."""
    header = {name: bufs[name] for name in ("x_host", "s_host", "x", "s", "y")}
    header["cols"] = plan.cols
    records = {}
    for t in range(plan.tiles):
        r0, n = plan.tile_rows(t)
        records[t] = ({"active": 1, "rows": n, "x_host_off_bytes": r0 * plan.cols * 4,
                       "s_host_off_bytes": r0 * 4}, [])
    return LAYOUT.build(n_tiles, header, records)
