"""`chipemu.sweep`: run a Spec's points where the executor says, reuse cached rows, return the
table (docs/sweeps.md).

    df = chipemu.sweep("examples/sweep_link_slots_fmt.toml")                  # a spec file
    df = chipemu.sweep(cases=[{"kernel": "matmul", "m": 1, "k": 512, "n": 512}],
                       grid={"fmt": ["mxint8", "mxint4"]}, device="tiny", executor="serial")
"""
from __future__ import annotations

from pathlib import Path

from chipemu import __version__
from chipemu.emulator.errors import ConfigError
from chipemu.sweeps.execute import check_executor, run_all
from chipemu.sweeps.spec import Spec, device_hash
from chipemu.sweeps.store import Store

__all__ = ["sweep", "points_table"]


def _spec(spec, cases, grid, points, device, mode, backend) -> Spec:
    if spec is None:
        return Spec(cases=list(cases or []), grid=dict(grid or {}), explicit=list(points or []),
                    device=device, mode=mode, backend=backend)
    if any(x is not None for x in (cases, grid, points)):
        raise ConfigError("sweep: give a spec, or cases/grid/points, not both")
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, (str, Path)):
        return Spec.from_toml(spec)
    if isinstance(spec, dict):
        return Spec.from_dict(spec)
    raise ConfigError(f"sweep: spec={spec!r}; allowed: a Spec, a .toml path or a dict")


def _progress(progress, total):
    """(update(done, failed), close) for progress: False/None quiet, True a rich bar on
    stderr, or a callable progress(done, total, failed)."""
    if not progress:
        return (lambda done, failed: None), (lambda: None)
    if callable(progress):
        return (lambda done, failed: progress(done, total, failed)), (lambda: None)
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                   TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True))
    task = bar.add_task("sweep", total=total, failed=0)
    bar.start()
    return (lambda done, failed: bar.update(task, completed=done, failed=failed)), bar.stop


def sweep(spec=None, *, cases=None, grid=None, points=None, device="corsair", mode="timing",
          backend="c", executor="local", workers: int | None = None, cache=True,
          progress=False):
    """Run a sweep -> pandas.DataFrame, one row per point in point order (columns:
    docs/sweeps.md). spec: a Spec, a .toml path or a dict; else cases, grid, points, device,
    mode, backend make one (sweeps/spec.py). executor: "local" (worker processes; workers of
    them, default the CPUs), "serial", a Dask address "dask://host:port" or a
    dask.distributed.Client. cache: True (the default file, sweeps/store.py), a path, or False:
    finished rows are reused by key, so a repeat runs only what is missing. progress: True for
    a bar (points done of total, failures, ETA) or a callable(done, total, failed). Invalid
    points are rows with status "error"; a bad spec raises ConfigError before anything runs."""
    _pandas()
    spec = _spec(spec, cases, grid, points, device, mode, backend)
    executor = check_executor(executor)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ConfigError(f"workers={workers!r}; allowed: None (the CPUs) or an integer >= 1")
    store = None if cache is False or cache is None else Store(None if cache is True else cache)
    pts = spec.points()
    rows, keys, todo = {}, {}, []
    for p in pts:
        try:
            keys[p.index] = p.key(__version__, device_hash(p.build_device()))
        except Exception:
            todo.append(p)                       # its row will carry the device's error
    hits = store.get(keys.values()) if store is not None else {}
    for p in pts:
        hit = hits.get(keys.get(p.index))
        if hit is not None:
            rows[p.index] = {**hit, **p.inputs()}
        elif p not in todo:
            todo.append(p)
    update, close = _progress(progress, len(pts))
    failed = sum(r["status"] != "ok" for r in rows.values())
    update(len(rows), failed)
    try:
        for index, row in run_all(sorted(todo, key=lambda q: q.index), executor, workers):
            rows[index] = row
            if row["status"] == "ok" and store is not None and index in keys:
                store.put(keys[index], row)
            failed += row["status"] != "ok"
            update(len(rows), failed)
    finally:
        close()
        if store is not None:
            store.close()
    return points_table([rows[p.index] for p in pts])


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ConfigError("a sweep's table is a pandas DataFrame: pip install 'chipemu[dask]' "
                          "(pandas, pyarrow and dask[distributed])") from None
    return pandas


def points_table(rows: list):
    """The DataFrame of rows in the given order; columns in order of first appearance."""
    return _pandas().DataFrame(rows)
