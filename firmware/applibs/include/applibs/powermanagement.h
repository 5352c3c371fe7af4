/* Applibs powermanagement.h: rebooting, powering down and the power profile (Microsoft Learn, Azure Sphere
 * "Applibs powermanagement.h"). Written for this project from the public API reference; names, types and values
 * as the SDK's. Each call needs its value in the manifest's "PowerControls" list (ForceReboot, ForcePowerDown,
 * SetPowerProfile); otherwise it fails with EACCES. */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the high-level apps prefer: energy or speed. */
typedef uint32_t PowerManagement_System_PowerProfile;
enum {
    PowerManagement_PowerSaver = 0,
    PowerManagement_Balanced = 1,
    PowerManagement_HighPerformance = 2,   /* the default */
};

/* Reboots the device (a hard reset); 0 when the reboot was started, or -1 with errno. */
int PowerManagement_ForceSystemReboot(void);

/* Powers the device down for at most `maximum_residency_in_seconds`, then it boots again; 0, or -1 with errno. */
int PowerManagement_ForceSystemPowerDown(unsigned int maximum_residency_in_seconds);

/* Sets the system power profile; 0, or -1 with errno (EINVAL: not a profile). */
int PowerManagement_SetSystemPowerProfile(PowerManagement_System_PowerProfile desired_profile);

#ifdef __cplusplus
}
#endif
