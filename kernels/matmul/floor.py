"""Lower bounds on a matmul's compute phase (cycles), from the plan and the device alone.

No schedule can beat any of these, whatever the contention (docs/matmul.md):

- mac_cycles: every MAC (padding included) at the peak MACs per cycle of the plan's region.
- mvm_cycles: the busiest tile's DIMC engine: its blocks x (its replica's rows x cycles per
  vector) plus the fixed pipeline latency of each of its MVMs (one MVM at a time).
- port_cycles: the busiest tile's eject port and SRAM port, at least the group average: the
  activation rows it receives, the partial sums it receives and, for the SRAM port, the adds'
  reads and writes.
- weight_write_cycles: weights streamed into the slots (only when they exceed the DIMC).
- latency_cycles: the critical path of the first piece to the last add, with no contention: each
  tile starts its MVMs as its pieces arrive (streams of a multicast leave in peer order, one
  after the other), then the plan's reduction tree (hops, one packet, the add).
"""
from __future__ import annotations

__all__ = ["floor_cycles"]


def _hops(a, b, T, cols):
    pa, pb = a % T, b % T
    return abs(pa // cols - pb // cols) + abs(pa % cols - pb % cols)


def _member_finish(plan, dev, tile, kgt, pieces, d_block):
    """Earliest end of a tile's MVMs given when its pieces can arrive."""
    noc, T, cols = dev.chiplet.noc, dev.tiles_per_chiplet, dev.chiplet.tile_cols
    inj = dev.tile.dma.inject_bytes_per_cycle
    rows0 = plan.chunk_rows(0)[1]
    arrive = []
    for j, holder_tile in pieces:
        nbytes = -(-rows0 // plan.parts) * plan.row_bytes
        rank = kgt.index(tile)
        ser = -(-min(nbytes, noc.max_packet_bytes) // inj)
        arrive.append(rank * -(-nbytes // inj) + _hops(holder_tile, tile, T, cols) * noc.hop_cycles
                      + ser)
    arrive.sort()
    n = len(arrive)
    return max(a + (n - i) * d_block for i, a in enumerate(arrive)) if n else n * d_block


def floor_cycles(plan, dev) -> dict:
    """{"mac_cycles", "mvm_cycles", "port_cycles", "weight_write_cycles", "latency_cycles",
    "floor_cycles"} for `plan` (a MatmulPlan) on `dev`."""
    R, C = plan.rows, plan.cols
    macs = plan.m * plan.kb * R * plan.nb * C
    region_tiles = len(plan.chiplet_ids) * plan.tiles_per_chiplet
    peak = int(dev.macs_per_cycle(plan.fmt, plan.weight_fmt) * region_tiles)
    cyc, pipe = dev.cycles_per_vector(plan.fmt), dev.tile.dimc.pipeline_cycles
    blocks = plan.blocks_per_tile
    rows = sum(plan.chunk_rows(c)[1] - plan.chunk_rows(c)[0]      # the busiest replica's rows
               for c in range(0, plan.chunks, plan.replicas))
    mvm = blocks * (rows * cyc + plan.rounds * pipe)
    ej, port = dev.tile.dma.eject_bytes_per_cycle, dev.tile.sram.port_bytes_per_cycle
    x_in = rows * plan.kpt * plan.row_bytes
    red_in = (plan.g - 1) * rows * C * 4 // plan.g if plan.g > 1 else 0
    adds = 3 * red_in
    f = {"mac_cycles": -(-macs // peak), "mvm_cycles": mvm,
         "port_cycles": max(-(-(x_in + red_in) // ej), -(-(x_in + red_in + adds) // port)),
         "weight_write_cycles": (plan.chunks * blocks * R * dev.tile.dimc.write_cycles_per_row
                                 if plan.passes > 1 else 0)}
    # latency: chiplet 0, every group (all chiplets have the same structure)
    noc, T, cols = dev.chiplet.noc, dev.tiles_per_chiplet, dev.chiplet.tile_cols
    lanes, add_c = dev.tile.vector.lanes, dev.tile.vector.cycles["add"]
    d_block = mvm // max(1, plan.kpt)
    last_rows = plan.m - plan.chunk_rows(plan.chunks - 1)[0]
    add = -(-last_rows * C // lanes) * add_c
    pkt = -(-min(last_rows * C * 4, noc.max_packet_bytes) // ej)
    members = plan.g if plan.g > 1 else 1
    worst = 0
    for local in range(plan.nb_count[0] if plan.g > 1 else min(plan.nb_count[0], T)):
        finish = []
        for mem in range(members):
            kgt = plan.kgroup_tiles(0, mem)
            tile = kgt[local]
            pieces = [(j, kgt[plan.holder(j, q)]) for j in range(len(plan.k_run(mem)))
                      for q in range(plan.parts)][::plan.parts]
            finish.append(_member_finish(plan, dev, tile, kgt, pieces, d_block))
        group = [plan.kgroup_tiles(0, mem)[local] for mem in range(members)]
        for level in plan.tree(plan.chunks - 1) if plan.g > 1 else []:
            for recv, send in level:
                hops = _hops(group[send], group[recv], T, cols)
                arrive = finish[send] + hops * noc.hop_cycles + pkt
                finish[recv] = max(finish[recv], arrive) + add
        worst = max(worst, finish[plan.root(plan.chunks - 1)] if plan.g > 1 else finish[0])
    f["latency_cycles"] = worst
    f["floor_cycles"] = max(f.values())
    return f
