/* test_driver_device.c — #included by test_driver.c: the device handle (csrc/runtime/device.c).
 * Every shipped preset opens, runs the engine on an empty log and closes; a handle copied from
 * params outlives them; unknown names, NULLs and bad params fail with their status, no handle
 * and a last-error text, and a failed call leaves the previous handle untouched. */

static void test_device(void) {
    int64_t n = chipemu_preset_count();
    CHECK(n >= 3, "preset count %lld", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        const char *name = chipemu_preset_name(i);
        chipemu_device *dev = NULL;
        CHECK(name != NULL && chipemu_device_open(name, &dev) == CHIPEMU_OK && dev != NULL,
              "open %s: %s", name ? name : "(null)", chipemu_last_error());
        if (dev == NULL) continue;
        const chipemu_device_params *p = chipemu_device_params_of(dev);
        CHECK(p->version == CHIPEMU_ENGINE_PARAMS_VERSION && p->n_chiplets >= 1
              && strcmp(chipemu_device_name(dev), name) == 0, "preset %s params", name);
        chipemu_engine_error err;
        CHECK(chipemu_engine_check_params(p, &err) == CHIPEMU_OK, "preset %s checks", name);
        /* a copy from its params outlives a change of the caller's struct */
        chipemu_device_params mine = *p;
        chipemu_device *copy = NULL;
        CHECK(chipemu_device_from_params(&mine, &copy) == CHIPEMU_OK, "from_params %s", name);
        mine.n_chiplets = 0;
        if (copy) {
            CHECK(chipemu_device_params_of(copy)->n_chiplets == p->n_chiplets
                  && chipemu_device_params_of(copy)->links != p->links, "copy of %s", name);
            chipemu_device_close(copy);
        }
        chipemu_device *none = (chipemu_device *)&mine;          /* must be overwritten */
        CHECK(chipemu_device_from_params(&mine, &none) == CHIPEMU_ERR_PARAMS && none == NULL
              && strstr(chipemu_last_error(), "n_chiplets") != NULL,
              "bad params: %s", chipemu_last_error());
        chipemu_device_close(dev);
    }
    chipemu_device *dev = (chipemu_device *)&n;
    CHECK(chipemu_device_open("no-such-device", &dev) == CHIPEMU_ERR_NAME && dev == NULL
          && strncmp(chipemu_last_error(), "preset='no-such-device' is unknown; available: ", 47)
                 == 0, "unknown preset: %s", chipemu_last_error());
    CHECK(chipemu_device_open(NULL, &dev) == CHIPEMU_ERR_NULL && dev == NULL, "NULL preset");
    CHECK(chipemu_device_open("tiny", NULL) == CHIPEMU_ERR_NULL, "NULL out");
    CHECK(chipemu_device_from_params(NULL, &dev) == CHIPEMU_ERR_NULL && dev == NULL, "NULL params");
    CHECK(chipemu_device_params_of(NULL) == NULL && chipemu_device_name(NULL) == NULL
          && chipemu_preset_name(-1) == NULL && chipemu_preset_name(n) == NULL, "NULL getters");
    chipemu_device_close(NULL);
    CHECK(strcmp(chipemu_status_string(CHIPEMU_ERR_NAME), "unknown name") == 0, "status text");
}
