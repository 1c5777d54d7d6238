"""The `chipemu run` progress bar: silent for the first ~2 s, then a rich bar with the phase,
supersteps launched, events logged and (while the engine runs) events timed."""
from __future__ import annotations

import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """A progress callback (kernels.scaffold.Progress) drawing on `console` after `delay_s`."""

    def __init__(self, console, delay_s: float = 2.0):
        self.console, self.delay_s = console, delay_s
        self.t0 = time.monotonic()
        self.bar = self.task = None

    def _start(self):
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.fields[detail]}"), TextColumn("{task.fields[since]}"),
                            console=self.console, transient=True)
        self.bar.start()
        self.task = self.bar.add_task("", total=None, detail="", since="")

    def __call__(self, p) -> None:
        if self.bar is None:
            if time.monotonic() - self.t0 < self.delay_s:
                return
            self._start()
        since = f"{time.monotonic() - self.t0:.0f} s"       # since the run began
        if p.phase == "timing":
            self.bar.update(self.task, description=f"{p.kernel}: timing", total=max(p.events, 1),
                            completed=p.events_timed, since=since,
                            detail=f"{p.events_timed:,} of {p.events:,} events timed")
        else:
            self.bar.update(self.task, description=f"{p.kernel}: {p.phase or 'launch'}",
                            total=None, since=since,
                            detail=f"{p.supersteps} supersteps, {p.events:,} events")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
