"""chipemu.emulator.tables: the one declaration of every table the Python, Numba and C sides share.

- `formats`: the storage formats (one row each: code, kind, bit widths, block size, ...) and kinds;
- `ids`: op, vector-op, unit, buffer-kind, flag, status, engine-error, energy, resource,
  critical-path, runtime (DEV_/SC_/BT_/MODE_/KERR_/IN_) and message/argument ids;
- `limits`: the device limits (lowest, highest, why), enforced identically by Device, Machine and
  the C engine;
- `event`: the event-log record layouts (chipemu_range, chipemu_event, chipemu_buffer).

Everything else is derived: the NumPy dtypes, the Numba constants, the pydantic bounds, and the C
text that csrc/gen_tables.py writes into csrc/ (docs/tables.md lists what comes from where).
Pure Python (NumPy at most): importing this never loads Numba or the native module.
"""
