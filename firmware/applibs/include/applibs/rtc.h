/* Applibs rtc.h: the real-time clock (Microsoft Learn, Azure Sphere "Applibs rtc.h"). Written for this project
 * from the public API reference; name and signature as the SDK's. Needs "SystemTime": true in the manifest
 * (EACCES otherwise). */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Copies the system time (CLOCK_REALTIME) into the hardware RTC, so it survives a reboot; 0, or -1 with errno. */
int clock_systohc(void);

#ifdef __cplusplus
}
#endif
