/* Applibs log.h: debug messages of a high-level app (Microsoft Learn, Azure Sphere "Applibs log.h").
 *
 * Written for this project from the public API reference; same names and signatures as the SDK's header, so
 * apps compile unmodified and SDK-built binaries link against the project's libapplibs.so.0. */
#pragma once

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Logs and formats a debug message with printf formatting. Thread safe.
 * Returns 0 on success, -1 with errno set on failure (EFAULT: fmt is NULL). */
int Log_Debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* As Log_Debug, with a va_list initialised by va_start (and cleaned up by the caller with va_end). */
int Log_DebugVarArgs(const char *fmt, va_list args);

#ifdef __cplusplus
}
#endif
