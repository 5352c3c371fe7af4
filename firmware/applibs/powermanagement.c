/* libapplibs: powermanagement.h over the emulator-defined /dev/azure-sphere/power ioctls (docs/a7.md). */
#include <applibs/powermanagement.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "emulator_os.h"

static int power_call(unsigned long request, uint32_t value, int with_value)
{
    int fd = open(AZSP_DEV_POWER, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int rc = with_value ? ioctl(fd, request, &value) : ioctl(fd, request);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc < 0 ? -1 : 0;
}

int PowerManagement_ForceSystemReboot(void)
{
    return power_call(AZSP_POWER_REBOOT, 0, 0);
}

int PowerManagement_ForceSystemPowerDown(unsigned int maximum_residency_in_seconds)
{
    return power_call(AZSP_POWER_DOWN, maximum_residency_in_seconds, 1);
}

int PowerManagement_SetSystemPowerProfile(PowerManagement_System_PowerProfile desired_profile)
{
    if (desired_profile > PowerManagement_HighPerformance) {
        errno = EINVAL;
        return -1;
    }
    return power_call(AZSP_POWER_SET_PROFILE, desired_profile, 1);
}
