"""Host-side bytes of a matmul: quantized activations and weights in the device layouts, laid out
in the order the tiles fetch them (kernels/matmul/plan.py), and the parameter table of the tile
kernels (kernels/matmul/params.py). Vectorized NumPy; the codec rules are the formats module's.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator.numerics.formats import get_format

from chipemu.kernels.matmul.params import MATMUL

__all__ = ["x_host", "w_host", "params", "buffer_names", "holder_pieces", "piece_rows"]

buffer_names = ("w", "xhome", "x", "y", "acc", "recv")


def _tile_blocks(plan):
    """{tile: [(kb, nb), ...]} in the tile's block order (N-block, then its K-run)."""
    out = {}
    for r in range(plan.replicas):
        for c in range(plan.chiplets_used):
            if plan.g == 1:
                for pos in range(min(plan.nb_count[c], plan.tiles_per_chiplet)):
                    out[plan.tile_of(c, r * plan.span + pos)] = [
                        (k, nb) for nb in plan.tile_nbs(c, pos) for k in range(plan.kb)]
            else:
                for local in range(plan.nb_count[c]):
                    nb = plan.nb_start[c] + local
                    for mem, tile in enumerate(plan.group_tiles(nb, r)):
                        out[tile] = [(k, nb) for k in plan.k_run(mem)]
    return out


def w_host(plan, wb3):
    """(every tile's blocks back to back, as a list of byte arrays to lay end to end; {tile: byte
    offset}); wb3 may be None (timing: sizes only)."""
    blocks = _tile_blocks(plan)
    offs, at, chunks = {}, 0, []
    for t in sorted(blocks):
        offs[t] = at
        at += len(blocks[t]) * plan.block_bytes
        if wb3 is not None:
            chunks.append(np.stack([wb3[k, nb] for k, nb in blocks[t]]).reshape(-1))
    return (chunks if wb3 is not None else None), offs, at, blocks


def holder_pieces(plan):
    """(replica, member, K-group index, the member's K-blocks, its pieces [(j, q)]) of every
    holder of activation pieces (the same on each chiplet of the plan)."""
    members = plan.g if plan.g > 1 else 1
    for rep in range(plan.replicas):
        for mem in range(members):
            run = plan.k_run(mem) if plan.g > 1 else range(plan.kb)
            for idx in range(plan.kgroup):
                pieces = plan.pieces_of(idx, mem)
                if pieces:
                    yield rep, mem, idx, run, pieces


def piece_rows(plan, rep, pieces):
    """(round u, piece index i, first row of the activations, rows, j) of every non-empty piece a
    holder of `replica` rep keeps, round by round: slot [u][i] of its xhome buffer."""
    for u in range(plan.rounds):
        c = u * plan.replicas + rep
        if c >= plan.chunks:
            break
        c0, _ = plan.chunk_rows(c)
        for i, (j, q) in enumerate(pieces):
            r0, r1 = plan.part_rows(c, q)
            if r1 > r0:
                yield u, i, c0 + r0, r1 - r0, j


def x_host(plan, xb3):
    """(every holder's pieces as a list of byte arrays to lay end to end, {(replica, member,
    kgroup index): (offset, nbytes)}); each holder keeps [round][piece][piece_rows][row_bytes].
    xb3 may be None (timing)."""
    rb, prow, P = plan.row_bytes, plan.piece_rows, plan.pieces_per_tile
    offs, at, parts = {}, 0, []
    for rep, mem, idx, run, pieces in holder_pieces(plan):
        nbytes = plan.rounds * P * prow * rb
        offs[(rep, mem, idx)] = (at, nbytes)
        at += nbytes
        if xb3 is None:
            continue
        buf = np.zeros((plan.rounds, P, prow, rb), np.uint8)
        for u, i, row0, rows, j in piece_rows(plan, rep, pieces):
            buf[u, i, :rows] = xb3[row0:row0 + rows, run[j]]
        parts.append(buf.reshape(-1))
    return (parts if xb3 is not None and parts else None), offs, at


def params(plan, n_tiles, bufs, woffs, blocks, xoffs):
    """The int64 parameter vector of mm_load / mm_step (kernels/matmul/params.py), step 0."""
    gf = get_format
    header = dict(
        step=0, stages=plan.stages, chunk_rows=plan.mc, m=plan.m, parts=plan.parts,
        row_bytes=plan.row_bytes, cols=plan.cols, rows=plan.rows, fmt_x=gf(plan.fmt).code,
        fmt_w=gf(plan.weight_fmt).code, slots=plan.slots, passes=plan.passes, group=plan.g,
        levels=plan.levels, block_bytes=plan.block_bytes, piece_rows=plan.piece_rows,
        pieces=plan.pieces_per_tile, nb_per_tile=plan.nb_per_tile, kpt=plan.kpt,
        replicas=plan.replicas, rounds=plan.rounds, slot_base=plan.slot_base,
        w_host=bufs["w_host"], x_host=bufs["x_host"],
        **{f"{name}_buf": bufs.get(name, -1) for name in buffer_names})
    records = {}
    where = plan.positions()
    for tile in sorted(blocks):
        c, pos = where[tile]
        rep, pos = divmod(pos, plan.span)
        mem = 0 if plan.g == 1 else pos % plan.g
        kgt = plan.kgroup_tiles(c, mem, rep)
        idx = kgt.index(tile)
        pieces = plan.pieces_of(idx, mem) if idx < plan.kgroup else []
        xo, xn = xoffs.get((rep, mem, idx), (0, 0)) if pieces else (0, 0)
        n_nb = len({nb for _, nb in blocks[tile]})
        # the group's tiles travel in the tail: a region's tiles need not be consecutive ids
        group = plan.group_tiles(blocks[tile][0][1], rep) if plan.g > 1 else []
        fields = dict(active=1, member=mem, n_nb=n_nb,
                      k_run=len(blocks[tile]) // n_nb, w_host_off=woffs[tile], x_host_off=xo,
                      x_bytes=xn, n_pieces=len(pieces), replica=rep, n_kg=len(kgt))
        records[tile] = (fields, list(kgt) + [x for jq in pieces for x in jq] + group)
    return MATMUL.build(n_tiles, header, records)
