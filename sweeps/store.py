"""The sweep cache: finished rows on disk, keyed by (chipemu version, device hash, kernel,
parameters, mode, backend) (Point.key), so a repeated or interrupted sweep runs only the points
it lacks. SQLite from the standard library: one file, safe against a crash mid-write, no
server; rows are JSON text. Only rows with status "ok" are kept."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

__all__ = ["Store", "default_path"]


def default_path() -> Path:
    """$CHIPEMU_CACHE_DIR/sweeps.sqlite, else ~/.cache/chipemu/sweeps.sqlite."""
    root = os.environ.get("CHIPEMU_CACHE_DIR") or Path.home() / ".cache" / "chipemu"
    return Path(root) / "sweeps.sqlite"


class Store:
    """Rows by key in one SQLite file (created with its folder when missing)."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, row TEXT)")
        self._db.commit()

    def get(self, keys) -> dict:
        """{key: row} of the keys present."""
        out = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):              # SQLite's bound-parameter limit
            part = keys[i:i + 500]
            marks = ",".join("?" * len(part))
            for key, text in self._db.execute(f"SELECT key, row FROM rows WHERE key IN ({marks})",
                                              part):
                out[key] = json.loads(text)
        return out

    def put(self, key: str, row: dict) -> None:
        """Keep one finished row (committed at once: an interrupted sweep keeps what it did)."""
        self._db.execute("INSERT OR REPLACE INTO rows VALUES (?, ?)", (key, json.dumps(row)))
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]

    def close(self) -> None:
        self._db.close()
