/* The emulator-defined interface between libapplibs and the emulated Azure Sphere OS, where the real OS's is not
 * public (docs/a7.md "Applibs and the OS services", docs/EMULATOR-DEFINED.md). Where the real OS uses a standard or
 * published Linux interface, libapplibs uses that instead: the GPIO character device, serial ttys with termios,
 * the Azure Sphere kernel's PWM character device, AF_AZSPIO sockets, /dev/rtc0. */
#pragma once

#include <stdint.h>
#include <sys/ioctl.h>

#define AZSP_IOCTL_TYPE 0xA5

/* /dev/azure-sphere/application */
#define AZSP_APP_DEVICE_AUTH_READY _IOR(AZSP_IOCTL_TYPE, 0x01, uint32_t)

/* /dev/azure-sphere/sysevent: read() gives struct azsp_sysevent records */
struct azsp_sysevent {
    uint32_t event;
    uint32_t status;
    uint32_t max_deferral_minutes;
    uint32_t update_type;
};
struct azsp_sysevent_defer {
    uint32_t event;
    uint32_t minutes;
};
#define AZSP_SYSEVENT_SUBSCRIBE _IOW(AZSP_IOCTL_TYPE, 0x10, uint32_t)
#define AZSP_SYSEVENT_DEFER _IOW(AZSP_IOCTL_TYPE, 0x11, struct azsp_sysevent_defer)
#define AZSP_SYSEVENT_RESUME _IOW(AZSP_IOCTL_TYPE, 0x12, uint32_t)

/* /dev/azure-sphere/power */
#define AZSP_POWER_REBOOT _IO(AZSP_IOCTL_TYPE, 0x20)
#define AZSP_POWER_DOWN _IOW(AZSP_IOCTL_TYPE, 0x21, uint32_t)
#define AZSP_POWER_SET_PROFILE _IOW(AZSP_IOCTL_TYPE, 0x22, uint32_t)

#define AZSP_DEV_APPLICATION "/dev/azure-sphere/application"
#define AZSP_DEV_SYSEVENT "/dev/azure-sphere/sysevent"
#define AZSP_DEV_POWER "/dev/azure-sphere/power"

/* Internal helpers shared by the libapplibs sources. */
__attribute__((visibility("hidden"))) int z__azsp_component_id(char out[37]);      /* this app's component ID, from /proc/self/exe */
