/* events.c — schema queries for the event log (docs/events.md). */
#include "chipemu.h"

int32_t chipemu_event_schema_version(void) { return CHIPEMU_EVENT_SCHEMA_VERSION; }

int64_t chipemu_event_size(void) { return (int64_t)sizeof(chipemu_event); }
