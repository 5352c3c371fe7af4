/* PowerManagement_ForceSystemPowerDown: the first run powers the device down for at most 2 s; the device boots
 * again and the second run (told apart by a counter in mutable storage) says so and exits. */
#include <applibs/log.h>
#include <applibs/powermanagement.h>
#include <applibs/storage.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    int fd = Storage_OpenMutableFile();
    int runs = 0;
    read(fd, &runs, sizeof runs);
    runs++;
    lseek(fd, 0, SEEK_SET);
    write(fd, &runs, sizeof runs);
    close(fd);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    Log_Debug("run %d at %ld s\n", runs, (long)now.tv_sec);
    if (runs > 1) {
        return 0;
    }
    int rc = PowerManagement_ForceSystemPowerDown(2);
    Log_Debug("power down: %s\n", rc < 0 ? strerror(errno) : "ok");
    struct timespec wait = {10, 0};
    nanosleep(&wait, NULL);
    return 1;
}
