/* PowerManagement, RTC, device auth: the first run sets the time to 2030, writes it to the RTC and reboots the
 * device; the second run (after the reboot) prints the year and exits. A run counter in mutable storage tells
 * the runs apart. */
#include <applibs/application.h>
#include <applibs/log.h>
#include <applibs/powermanagement.h>
#include <applibs/rtc.h>
#include <applibs/storage.h>

#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void report(const char *what, int rc)
{
    Log_Debug("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
}

int main(int argc, char *argv[])
{
    int fd = Storage_OpenMutableFile();
    int runs = 0;
    read(fd, &runs, sizeof runs);
    runs++;
    lseek(fd, 0, SEEK_SET);
    write(fd, &runs, sizeof runs);
    close(fd);
    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    Log_Debug("run %d: year %d\n", runs, utc.tm_year + 1900);
    if (runs > 1) {
        return 0;
    }
    Log_Debug("device auth ready: %d\n", Application_IsDeviceAuthReady());
    report("power profile", PowerManagement_SetSystemPowerProfile(PowerManagement_PowerSaver));
    report("bad profile", PowerManagement_SetSystemPowerProfile(7));
    report("power down", PowerManagement_ForceSystemPowerDown(10));
    struct timeval future = {1893456000, 0};          /* 2030-01-01T00:00:00Z */
    report("settimeofday", settimeofday(&future, NULL));
    report("clock_systohc", clock_systohc());
    report("reboot", PowerManagement_ForceSystemReboot());
    struct timespec wait = {5, 0};
    nanosleep(&wait, NULL);
    Log_Debug("still running after the reboot request\n");
    return 1;
}
