/* libapplibs: what several Applibs areas need: the running app's component ID. The package is mounted at
 * /mnt/apps/<component id> (docs/a7.md), so the ID is the path component after /mnt/apps/ in /proc/self/exe. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "emulator_os.h"

int z__azsp_component_id(char out[37])
{
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) {
        return -1;
    }
    exe[n] = '\0';
    static const char prefix[] = "/mnt/apps/";
    if (strncmp(exe, prefix, sizeof prefix - 1) != 0 || strlen(exe) < sizeof prefix - 1 + 36) {
        errno = ENOENT;                 /* not started from an application package */
        return -1;
    }
    memcpy(out, exe + sizeof prefix - 1, 36);
    out[36] = '\0';
    return 0;
}
