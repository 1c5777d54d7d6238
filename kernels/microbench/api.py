"""Microbenchmarks of the emulated device: each returns a Result whose `metrics` hold the achieved
and the configured figure, e.g.

    from chipemu.kernels import microbench
    r = microbench.dimc_peak("corsair", mode="timing")
    r.metrics["achieved_tflops"], r.metrics["peak_tflops"]

All take `device` (a Device, a preset name or a .toml path), `backend` ("c" | "numba"), `mode`
("functional" | "timing"), `network` (the engine's network model, "packet" | "message"; None:
the device's) and `progress` (None, quiet; or a callable given a kernels.scaffold.Progress),
plus the keyword parameters listed on each. Every argument is checked, and the run estimated
against the device and the run budget, before anything is built (plan.py); timing mode
allocates no data. Tile kernels (Numba and C twins) live in kernels/microbench/tile.py and
csrc/kernels/microbench/tile.c.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.device.routes import route
from chipemu.emulator.errors import ShapeError
from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import get_format
from chipemu.kernels.microbench import plan as P
from chipemu.kernels.microbench.params import DRAM, SEND, SETUP, STREAM
from chipemu.kernels.microbench.tile import DIMC_SETUP, DIMC_STREAM, DRAM_TABLE, SEND_TABLE

__all__ = ["dimc_peak", "noc_bandwidth", "noc_hotspot", "d2d_bandwidth", "dram_stream",
           "ping_pong", "MICROBENCHMARKS"]


def _host(m, name, data, nbytes, functional):
    """A HOST buffer: `data()` in functional mode; in timing mode only nbytes (no data made)."""
    return m.alloc_host(name, data()) if functional else m.alloc_host(name, nbytes=nbytes)


@P.keywords
def dimc_peak(device=None, *, backend="c", mode="functional", network=None, progress=None,
              fmt="mxint8", weight_fmt: str | None = None, nvec: int | None = None,
              iterations=8, tiles: list[int] | None = None, seed=0):
    """Every tile streams MVMs through its DIMC engines (superstep 2) after loading weights and
    quantizing activations (superstep 0) and a barrier over the tiles (superstep 1), so the
    compute phase starts on every tile at once. nvec defaults to the largest power of two up to
    256 whose buffers fit the tile's SRAM. Metrics: achieved vs peak TFLOPS of the compute phase,
    its power (W) and pJ per MAC. fmt: activations; weight_fmt: weights (default fmt); tiles:
    the tile ids that run (default all); seed: of the random data (functional mode)."""
    c = P.common("dimc_peak", device, backend, mode, network, progress)
    dev, functional = c.device, c.functional
    fa, fw = (get_format(f) for f in P.dimc_formats(c, fmt, weight_fmt))
    k, cols = dev.tile.dimc.rows, dev.cols_eff(fw.name)
    slots = min(dev.tile.dimc.mvm_engines, dev.tile.dimc.weight_slots)
    nvec = P.dimc_nvec(c, nvec, fa.name, fw.name, slots)
    iterations = P.count("iterations", iterations, why="MVMs per tile")
    tiles = list(range(dev.n_tiles)) if tiles is None else P.tile_list("tiles", tiles, dev)
    seed = args.integer("seed", seed, 0, error=ShapeError)
    w_bytes, x_bytes = layout.weight_bytes(fw.name, k, cols), nvec * k * 4
    xq_bytes, y_bytes = layout.row_bytes(fa.name, k) * nvec, nvec * cols * 4
    sram = P.sram_need((w_bytes, x_bytes, xq_bytes, y_bytes * slots))
    n = len(tiles)
    P.check_run(c, f"iterations={iterations}, nvec={nvec}, {n} tiles",
                events=n * (3 + slots + 1 + iterations),
                host_bytes=3 * (k * cols * 4 + x_bytes) + dev.n_tiles * sram + P.dimc_bytes(dev)
                + P.stage_bytes(n, sram))
    run = P.start(c)
    m = run.machine
    rng = np.random.default_rng(seed) if functional else None
    w_host = _host(m, "w", lambda: layout.encode_weights(
        rng.standard_normal((k, cols)).astype(np.float32), fw.name), w_bytes, functional)
    x_host = _host(m, "x", lambda: rng.standard_normal((nvec, k)).astype(np.float32), x_bytes,
                   functional)
    w_s, x_s = m.alloc_sram("w", w_bytes), m.alloc_sram("x", x_bytes)
    xq_s, y_s = m.alloc_sram("xq", xq_bytes), m.alloc_sram("y", y_bytes * slots)
    with run.phase("load"):
        run.launch(DIMC_SETUP, tiles, SETUP.build(dev.n_tiles, dict(
            w_host=w_host, x_host=x_host, w_buf=w_s, x_buf=x_s, xq_buf=xq_s, fmt_x=fa.code,
            fmt_w=fw.code, nvec=nvec, k=k, w_bytes=w_bytes, x_bytes=x_bytes, slots=slots)),
            events_per_tile=3 + slots)
        run.barrier(tiles)
    with run.phase("compute"):
        run.launch(DIMC_STREAM, tiles, STREAM.build(dev.n_tiles, dict(
            xq_buf=xq_s, y_buf=y_s, fmt_x=fa.code, nvec=nvec, k=k, y_bytes=y_bytes, slots=slots,
            iterations=iterations)), events_per_tile=iterations)
    out = (m.read(y_s, tile=tiles[0], nbytes=y_bytes, dtype=np.float32).reshape(nvec, cols)
           if functional else None)
    r = run.finish(output=out, plan={"fmt": fa.name, "weight_fmt": fw.name, "nvec": nvec,
                                     "iterations": iterations, "k": k, "cols": cols,
                                     "engines_used": slots, "tiles": n})
    compute = r.phase_list[1]
    macs = n * iterations * nvec * k * cols
    peak = dev.peak_macs_per_second(fa.name, fw.name) * n / dev.n_tiles
    achieved = macs / compute.seconds
    r.metrics.update(macs=macs, achieved_tflops=2 * achieved / 1e12, peak_tflops=2 * peak / 1e12,
                     fraction_of_peak=achieved / peak, compute_cycles=compute.cycles,
                     compute_power_w=compute.energy_fj * 1e-15 / compute.seconds,
                     compute_pj_per_mac=compute.energy_fj / 1000.0 / macs)
    return r


def _send_plan(c, pairs, nbytes, slices=1):
    """The checks of one superstep of sends: SRAM for src (nbytes) and dst (slices x nbytes) on
    every tile, and the run's events and host bytes."""
    sram = P.fits_sram(f"{c.kernel} with nbytes={nbytes}", (nbytes, slices * nbytes), c.device)
    P.check_run(c, f"nbytes={nbytes}, {len(pairs)} senders", events=len(pairs),
                host_bytes=c.device.n_tiles * sram + P.stage_bytes(len(pairs), sram))


def _send(run, pairs, nbytes, offsets=None, extra=None):
    """One superstep of sends: pairs = [(src, dst)]; returns the finished Result."""
    dev, m, functional = run.device, run.machine, not run.timing
    src_buf = m.alloc_sram("src", nbytes)
    span = nbytes * (max(offsets) + 1 if offsets else 1)
    dst_buf = m.alloc_sram("dst", span)
    table = _send_params(dev.n_tiles, src_buf, dst_buf, nbytes, {
        s: (d, (offsets[i] if offsets else 0) * nbytes) for i, (s, d) in enumerate(pairs)})
    if functional:
        for s, _ in pairs:
            m.write(src_buf, np.full(nbytes, s % 251, np.uint8), tile=s)
    run.launch(SEND_TABLE, sorted(s for s, _ in pairs), table, events_per_tile=1)
    return run.finish(plan={"pairs": pairs, "nbytes": nbytes, **(extra or {})})


def _send_params(n_tiles, src_buf, dst_buf, nbytes, sends):
    """send_table's params: sends = {src tile: (dst tile, byte offset in dst_buf)}."""
    return SEND.build(n_tiles, dict(src_buf=src_buf, dst_buf=dst_buf, msg_bytes=nbytes),
                      {s: (dict(active=1, dst_tile=d, dst_off=off), []) for s, (d, off) in
                       sends.items()})


def _path_peak(dev):
    """Bytes/cycle of one tile-to-tile stream if nothing else moves: its narrowest channel."""
    n, t = dev.chiplet.noc, dev.tile
    return min(t.sram.port_bytes_per_cycle, t.dma.inject_bytes_per_cycle,
               t.dma.eject_bytes_per_cycle, n.link_bytes_per_cycle)


def _nbytes(nbytes, dev, default_cap):
    """A message size: nbytes checked, or min(default_cap, a quarter of the tile's SRAM)."""
    if nbytes is None:
        return max(1, min(default_cap, dev.sram_buffer_bytes // 4))
    return P.count("nbytes", nbytes, why="bytes per message")


def _chiplet(chiplet, dev):
    return P.count("chiplet", chiplet, 0, dev.n_chiplets - 1, why="the device's chiplets")


@P.keywords
def noc_bandwidth(device=None, *, backend="c", mode="functional", network=None, progress=None,
                  nbytes: int | None = None, chiplet=0):
    """Neighbour sends on one chiplet: each tile in an even column sends nbytes to its east
    neighbour, so every directed link, port and SRAM port carries one stream. Metrics: achieved
    bytes/cycle per stream vs the configured path peak. nbytes defaults to min(256 KiB, a
    quarter of the tile's SRAM)."""
    c = P.common("noc_bandwidth", device, backend, mode, network, progress)
    dev = c.device
    rows, cols = dev.chiplet.tile_rows, dev.chiplet.tile_cols
    if cols < 2:
        raise ShapeError(f"noc_bandwidth needs at least 2 tile columns, the device has {cols}")
    nbytes, chiplet = _nbytes(nbytes, dev, 262144), _chiplet(chiplet, dev)
    base = chiplet * dev.tiles_per_chiplet
    pairs = [(base + r * cols + col, base + r * cols + col + 1) for r in range(rows)
             for col in range(0, cols - 1, 2)]
    _send_plan(c, pairs, nbytes)
    r = _send(P.start(c), pairs, nbytes)
    achieved = nbytes / r.cycles
    r.metrics.update(streams=len(pairs), achieved_bytes_per_cycle=achieved,
                     configured_bytes_per_cycle=_path_peak(dev),
                     fraction_of_configured=achieved / _path_peak(dev),
                     achieved_gb_per_s_per_link=achieved * dev.clock_ghz)
    return r


@P.keywords
def noc_hotspot(device=None, *, backend="c", mode="functional", network=None, progress=None,
                senders: int | None = None, nbytes=8192, chiplet=0):
    """`senders` tiles of one chiplet each send nbytes into their own slice of one target tile
    (the chiplet's last tile): the target's eject port serializes them. senders defaults to
    min(4, tiles per chiplet - 1). Metrics: cycles, cycles per sender, and one stream's
    serialization time at the eject port."""
    c = P.common("noc_hotspot", device, backend, mode, network, progress)
    dev = c.device
    tpc = dev.tiles_per_chiplet
    if tpc < 2:
        raise ShapeError("noc_hotspot needs at least 2 tiles per chiplet, the device has 1")
    senders = (min(4, tpc - 1) if senders is None else
               P.count("senders", senders, 1, tpc - 1, why="tiles per chiplet - 1"))
    nbytes, chiplet = P.count("nbytes", nbytes, why="bytes per message"), _chiplet(chiplet, dev)
    base = chiplet * tpc
    target = base + tpc - 1
    pairs = [(base + i, target) for i in range(senders)]
    _send_plan(c, pairs, nbytes, slices=senders)
    r = _send(P.start(c), pairs, nbytes, offsets=list(range(senders)), extra={"target": target})
    one = nbytes / dev.tile.dma.eject_bytes_per_cycle
    r.metrics.update(senders=senders, target=target, cycles_per_sender=r.cycles / senders,
                     eject_serialization_cycles_one=one, ratio_to_one_serialization=r.cycles / one)
    return r


@P.keywords
def d2d_bandwidth(device=None, *, backend="c", mode="functional", network=None, progress=None,
                  link=0, nbytes: int | None = None):
    """The PHY tile at one end of D2D link `link` sends nbytes to the PHY tile at the other end.
    Metrics: achieved bytes/cycle vs the configured path peak (the narrowest of SRAM port, ports
    and the link) and the link's own bytes/cycle. nbytes defaults to min(256 KiB, a quarter of
    the tile's SRAM)."""
    c = P.common("d2d_bandwidth", device, backend, mode, network, progress)
    dev = c.device
    links = dev.d2d_links()
    if not links:
        raise ShapeError("d2d_bandwidth needs a device with die-to-die links (it has one chiplet)")
    link = P.count("link", link, 0, len(links) - 1, why="the device's die-to-die links")
    nbytes = _nbytes(nbytes, dev, 262144)
    lk = links[link]
    tpc = dev.tiles_per_chiplet
    src, dst = lk.a * tpc + lk.phy_a, lk.b * tpc + lk.phy_b
    _send_plan(c, [(src, dst)], nbytes)
    r = _send(P.start(c), [(src, dst)], nbytes, extra={"link": link})
    peak = min(_path_peak(dev), lk.bytes_per_cycle)
    achieved = nbytes / r.cycles
    r.metrics.update(achieved_bytes_per_cycle=achieved, configured_bytes_per_cycle=peak,
                     link_bytes_per_cycle=lk.bytes_per_cycle, fraction_of_configured=achieved / peak)
    return r


@P.keywords
def dram_stream(device=None, *, backend="c", mode="functional", network=None, progress=None,
                nbytes: int | None = None, reps=8):
    """The tile at each DRAM channel reads `reps` chunks of nbytes from its channel, on every
    chiplet at once, alternating between two SRAM halves so reads queue back to back.
    Metrics: achieved device DRAM bytes/cycle vs the configured peak: the channels read x the
    narrowest of the channel, the reader's eject port and its SRAM port (and the nominal DRAM
    bytes/cycle of those channels). nbytes defaults to min(64 KiB, a quarter of the tile's SRAM);
    nbytes x reps must fit one DRAM channel."""
    c = P.common("dram_stream", device, backend, mode, network, progress)
    dev = c.device
    d = dev.chiplet.dram
    if d.channels == 0:
        raise ShapeError(f"dram_stream needs a device with DRAM channels; {dev.name!r} has none")
    nbytes = _nbytes(nbytes, dev, 65536)
    reps = P.count("reps", reps, why="reads per channel")
    what = f"dram_stream with nbytes={nbytes}, reps={reps}"
    sram = P.fits_sram(what, (2 * nbytes,), dev)
    P.fits_dram(what, nbytes * reps, dev)
    readers = sorted({c_ * dev.tiles_per_chiplet + t for c_ in range(dev.n_chiplets)
                      for t in d.channel_tiles})
    P.check_run(c, f"nbytes={nbytes}, reps={reps}, {len(readers)} readers",
                events=len(readers) * reps,
                host_bytes=dev.n_tiles * sram + dev.n_chiplets * d.channels * nbytes * reps
                + P.stage_bytes(len(readers), sram))
    run = P.start(c)
    m = run.machine
    sram = m.alloc_sram("in", 2 * nbytes)
    readers, records = [], {}
    for ci in range(dev.n_chiplets):
        for ch, t in enumerate(d.channel_tiles):
            tile = ci * dev.tiles_per_chiplet + t
            buf = m.alloc_dram(f"c{ci}ch{ch}", nbytes * reps, channel=ci * d.channels + ch)
            if tile not in records:           # one reader per tile: its first channel
                records[tile] = (dict(active=1, dram_buf=buf), [])
                readers.append(tile)
    table = DRAM.build(dev.n_tiles, dict(sram_buf=sram, chunk_bytes=nbytes, reps=reps), records)
    run.launch(DRAM_TABLE, sorted(readers), table, events_per_tile=reps)
    r = run.finish(plan={"readers": readers, "nbytes": nbytes, "reps": reps})
    t = dev.tile
    peak = len(readers) * min(d.bytes_per_cycle, t.dma.eject_bytes_per_cycle,
                              t.sram.port_bytes_per_cycle)
    achieved = len(readers) * nbytes * reps / r.cycles
    r.metrics.update(channels_read=len(readers), achieved_bytes_per_cycle=achieved,
                     configured_bytes_per_cycle=peak,
                     dram_bytes_per_cycle=len(readers) * d.bytes_per_cycle,
                     fraction_of_configured=achieved / peak,
                     achieved_gb_per_s=achieved * dev.clock_ghz)
    return r


@P.keywords
def ping_pong(device=None, *, backend="c", mode="functional", network=None, progress=None, a=0,
              b: int | None = None, nbytes=64, rounds=8):
    """Tiles a and b (default: the far corner of a's chiplet) bounce nbytes back and forth for
    `rounds` round trips (>= 1; the run budget's max_supersteps bounds 2 x rounds), one send
    per superstep, each waiting for the previous (RAW on the buffer). Metrics: one-way latency
    in cycles and ns (the mean of both ways); the engine's route from a to b: NoC hops on every
    chiplet crossed (`hops`) and D2D hops; NoC hops back from b."""
    c = P.common("ping_pong", device, backend, mode, network, progress)
    dev = c.device
    tpc = dev.tiles_per_chiplet
    a = P.tile_id("a", a, dev)
    b = (a // tpc) * tpc + tpc - 1 if b is None else P.tile_id("b", b, dev)
    if a == b:
        raise ShapeError(f"a={a}, b={b} must be two different tiles in 0..{dev.n_tiles - 1}")
    nbytes = P.count("nbytes", nbytes, why="bytes per message")
    rounds = P.count("rounds", rounds, 1, why="round trips; each send is one superstep, so the "
                     "run budget's max_supersteps bounds them")
    sram = P.fits_sram(f"ping_pong with nbytes={nbytes}", (nbytes,), dev)
    P.check_run(c, f"rounds={rounds}, nbytes={nbytes}", events=2 * rounds, supersteps=2 * rounds,
                host_bytes=dev.n_tiles * sram + P.stage_bytes(1, sram))
    run = P.start(c)
    m = run.machine
    buf = m.alloc_sram("ball", nbytes)
    if c.functional:
        m.write(buf, np.arange(nbytes, dtype=np.uint8), tile=a)
    for rnd in range(2 * rounds):
        s, d = (a, b) if rnd % 2 == 0 else (b, a)
        table = _send_params(dev.n_tiles, buf, buf, nbytes, {s: (d, 0)})
        run.launch(SEND_TABLE, [s], table, events_per_tile=1)
    out = m.read(buf, tile=a, nbytes=nbytes) if c.functional else None
    r = run.finish(output=out, plan={"a": a, "b": b, "rounds": rounds})
    there, back = route(dev, a, b), route(dev, b, a)     # back may take other links (lowest index)
    one_way = r.cycles / (2 * rounds)
    r.metrics.update(one_way_cycles=one_way, one_way_ns=one_way / dev.clock_ghz,
                     hops=there.noc_hops, d2d_hops=there.d2d_hops, hops_back=back.noc_hops,
                     same_chiplet=a // tpc == b // tpc)
    return r


MICROBENCHMARKS = {f.__name__: f for f in (dimc_peak, noc_bandwidth, noc_hotspot, d2d_bandwidth,
                                           dram_stream, ping_pong)}
