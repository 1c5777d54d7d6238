"""Time and energy of an event log: the C engine behind `simulate` (core), the `Result` a run
returns (result) with its Chrome trace (trace) and rich summary (summary); a run whose inputs equal an
earlier one's reuses its output (reuse). docs/engine.md."""
from chipemu.emulator.engine import reuse
from chipemu.emulator.engine.core import (ENERGY_COMPONENTS, ENGINE_PARAM_FIELDS, LINK_FIELDS,
                                          PATH_CLASSES, RESOURCE_CLASSES, RESOURCE_DTYPE,
                                          CriticalPath, EngineResult, resource_table, simulate)

__all__ = ["simulate", "reuse", "EngineResult", "CriticalPath", "resource_table", "ENGINE_PARAM_FIELDS",
           "LINK_FIELDS", "RESOURCE_CLASSES", "PATH_CLASSES", "ENERGY_COMPONENTS", "RESOURCE_DTYPE"]
