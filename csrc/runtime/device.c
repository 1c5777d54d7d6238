/* runtime/device.c — the opaque device handle and the thread's last error (chipemu.h, "Devices").
 *
 * A handle owns a copy of the engine parameters and of the arrays they point to, so it outlives
 * whatever the caller built them from; nothing is shared between handles or kept in globals but
 * the generated, read-only preset tables (presets.c) and each thread's last-error text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chipemu.h"
#include "runtime/error.h"
#include "runtime/presets.h"

struct chipemu_device {
    char name[64];
    chipemu_device_params params;   /* links and dram_channel_tile point at the copies below */
    chipemu_link *links;
    uint32_t *channel_tiles;
};

static _Thread_local char last_error[1024];

int32_t rt_fail(int32_t status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *chipemu_last_error(void) { return last_error; }

int64_t chipemu_preset_count(void) { return chipemu_preset_total; }

const char *chipemu_preset_name(int64_t i) {
    return i >= 0 && i < chipemu_preset_total ? chipemu_presets[i].name : NULL;
}

/* the member at byte `offset` of a struct (the last one starting at or before it) */
static const char *field_at(const chipemu_field *fields, int64_t n, int64_t offset) {
    const char *best = "?";
    size_t at = 0;
    for (int64_t i = 0; i < n; i++)
        if ((int64_t)fields[i].offset <= offset && fields[i].offset >= at) {
            best = fields[i].name;
            at = fields[i].offset;
        }
    return best;
}

/* the text Python's param_error_text (emulator/engine/messages.py) gives for the same error */
static int32_t params_error(const chipemu_engine_error *e) {
    const char *text = chipemu_engine_error_string(e->code);
    if (e->code == CHIPEMU_EE_LINK)
        return rt_fail(CHIPEMU_ERR_PARAMS, "engine params: links[%lld].%s: %s", (long long)e->value,
                    field_at(chipemu_link_fields, chipemu_link_fields_total, e->field), text);
    if (e->code == CHIPEMU_EE_NO_ROUTE)
        return rt_fail(CHIPEMU_ERR_PARAMS, "engine params: links: chiplet %lld (of n_chiplets = %lld) "
                    "is unreachable from chiplet 0; allowed: links that join every chiplet (as "
                    "Device requires)", (long long)e->value, (long long)e->limit);
    return rt_fail(CHIPEMU_ERR_PARAMS, "engine params: %s = %lld: %s (limit %lld)",
                field_at(chipemu_params_fields, chipemu_params_fields_total, e->field),
                (long long)e->value, text, (long long)e->limit);
}

static int32_t make(const char *name, const chipemu_device_params *p, chipemu_device **out) {
    chipemu_engine_error err;
    if (chipemu_engine_check_params(p, &err) != CHIPEMU_OK) return params_error(&err);
    chipemu_device *d = calloc(1, sizeof *d);
    if (d == NULL) return rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for a device handle");
    d->params = *p;
    size_t nl = p->n_links, nc = p->dram_channels;
    d->links = nl ? malloc(nl * sizeof *d->links) : NULL;
    d->channel_tiles = nc ? malloc(nc * sizeof *d->channel_tiles) : NULL;
    if ((nl && d->links == NULL) || (nc && d->channel_tiles == NULL)) {
        chipemu_device_close(d);
        return rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for a device handle");
    }
    if (nl) memcpy(d->links, p->links, nl * sizeof *d->links);
    if (nc) memcpy(d->channel_tiles, p->dram_channel_tile, nc * sizeof *d->channel_tiles);
    d->params.links = d->links;
    d->params.dram_channel_tile = d->channel_tiles;
    snprintf(d->name, sizeof d->name, "%s", name);
    *out = d;
    return CHIPEMU_OK;
}

int32_t chipemu_device_open(const char *preset, chipemu_device **out) {
    if (out == NULL) return rt_fail(CHIPEMU_ERR_NULL, "chipemu_device_open: out is NULL");
    *out = NULL;
    if (preset == NULL) return rt_fail(CHIPEMU_ERR_NULL, "chipemu_device_open: preset is NULL");
    for (int64_t i = 0; i < chipemu_preset_total; i++)
        if (strcmp(chipemu_presets[i].name, preset) == 0)
            return make(preset, chipemu_presets[i].params, out);
    char names[512] = "";
    for (int64_t i = 0; i < chipemu_preset_total; i++) {
        if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
        strncat(names, chipemu_presets[i].name, sizeof names - strlen(names) - 1);
    }
    /* Device.preset's text (emulator/device/config.py) */
    return rt_fail(CHIPEMU_ERR_NAME, "preset='%.200s' is unknown; available: %s", preset, names);
}

int32_t chipemu_device_from_params(const chipemu_device_params *params, chipemu_device **out) {
    if (out == NULL) return rt_fail(CHIPEMU_ERR_NULL, "chipemu_device_from_params: out is NULL");
    *out = NULL;
    if (params == NULL)
        return rt_fail(CHIPEMU_ERR_NULL, "chipemu_device_from_params: params is NULL");
    return make("custom", params, out);
}

const chipemu_device_params *chipemu_device_params_of(const chipemu_device *dev) {
    return dev == NULL ? NULL : &dev->params;
}

const char *chipemu_device_name(const chipemu_device *dev) { return dev == NULL ? NULL : dev->name; }

void chipemu_device_close(chipemu_device *dev) {
    if (dev == NULL) return;
    free(dev->links);
    free(dev->channel_tiles);
    free(dev);
}
