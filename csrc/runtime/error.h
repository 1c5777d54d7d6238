/* runtime/error.h — the calling thread's last-error text behind chipemu_last_error() (device.c).
 *
 * Every host-API function that fails sets it with the message Python raises for the same
 * problem, so a C host and a Python user read the same words. */
#ifndef CHIPEMU_RUNTIME_ERROR_H
#define CHIPEMU_RUNTIME_ERROR_H

#include <stdint.h>

/* Set the text (printf-style) and return `status`. */
int32_t rt_fail(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* CHIPEMU_RUNTIME_ERROR_H */
