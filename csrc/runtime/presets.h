/* runtime/presets.h — the generated tables of presets.c (csrc/gen_tables.py), for device.c. */
#ifndef CHIPEMU_RUNTIME_PRESETS_H
#define CHIPEMU_RUNTIME_PRESETS_H

#include <stddef.h>
#include "chipemu.h"

typedef struct {
    const char *name;
    const chipemu_device_params *params;
} chipemu_preset;

typedef struct {
    const char *name;
    size_t offset;
} chipemu_field;

extern const chipemu_preset chipemu_presets[];
extern const int64_t chipemu_preset_total;
extern const chipemu_field chipemu_params_fields[];
extern const int64_t chipemu_params_fields_total;
extern const chipemu_field chipemu_link_fields[];
extern const int64_t chipemu_link_fields_total;

#endif
