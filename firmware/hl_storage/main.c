/* hl_storage: mutable storage and the image package. Each run reads a boot counter from the mutable storage file,
 * increments it and writes it back (so a relaunch, a reboot or another power-on with the same device state counts
 * on); reads greeting.txt from its own image package; shows the SizeKB cap (8 KB in its manifest: a larger write
 * fails); with the argument "delete" it deletes the file instead. */
#include "applibs_versions.h"

#include <applibs/log.h>
#include <applibs/storage.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc > 1 && strcmp(argv[1], "delete") == 0) {
        int rc = Storage_DeleteMutableFile();
        Log_Debug("hl_storage: delete: %s\n", rc < 0 ? strerror(errno) : "done");
        return 0;
    }
    char *path = Storage_GetAbsolutePathInImagePackage("greeting.txt");
    Log_Debug("hl_storage: package file %s\n", path ? path : strerror(errno));
    free(path);
    int in = Storage_OpenFileInImagePackage("greeting.txt");
    char text[64] = {0};
    if (in >= 0) {
        ssize_t n = read(in, text, sizeof text - 1);
        text[n > 0 ? n - 1 : 0] = '\0';
        close(in);
    }
    Log_Debug("hl_storage: package says '%s'\n", text);

    int fd = Storage_OpenMutableFile();
    if (fd < 0) {
        Log_Debug("hl_storage: Storage_OpenMutableFile: %s\n", strerror(errno));
        return 1;
    }
    unsigned int count = 0;
    ssize_t n = read(fd, &count, sizeof count);
    Log_Debug("hl_storage: stored count %u (%s)\n", count, n == (ssize_t)sizeof count ? "read" : "new file");
    count++;
    lseek(fd, 0, SEEK_SET);
    if (write(fd, &count, sizeof count) != (ssize_t)sizeof count) {
        Log_Debug("hl_storage: write: %s\n", strerror(errno));
        return 1;
    }
    static char big[16 * 1024];
    memset(big, 'x', sizeof big);
    lseek(fd, 64, SEEK_SET);
    ssize_t wrote = write(fd, big, sizeof big);
    Log_Debug("hl_storage: 16 KB write past the 8 KB cap: %s\n", wrote < 0 ? strerror(errno) : "accepted");
    ftruncate(fd, sizeof count);
    close(fd);
    Log_Debug("hl_storage: count now %u\n", count);
    return 0;
}
