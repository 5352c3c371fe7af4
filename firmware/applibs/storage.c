/* libapplibs: storage.h. The package is at /mnt/apps/<component id>, mutable storage at
 * /mnt/config/<component id> (present only when the manifest has MutableStorage), its file "mutable_storage"
 * (emulator-defined name). */
#include <applibs/storage.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emulator_os.h"

static int mutable_path(char *path, size_t size, int need_folder)
{
    char cid[37];
    if (z__azsp_component_id(cid) < 0) {
        return -1;
    }
    snprintf(path, size, "/mnt/config/%s", cid);
    struct stat st;
    if (need_folder && (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))) {
        errno = EACCES;                 /* no MutableStorage capability: nothing is mounted for the app */
        return -1;
    }
    strncat(path, "/mutable_storage", size - strlen(path) - 1);
    return 0;
}

int Storage_OpenMutableFile(void)
{
    char path[128];
    if (mutable_path(path, sizeof path, 1) < 0) {
        return -1;
    }
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

int Storage_DeleteMutableFile(void)
{
    char path[128];
    if (mutable_path(path, sizeof path, 1) < 0) {
        return -1;
    }
    return unlink(path);
}

char *Storage_GetAbsolutePathInImagePackage(const char *relativePath)
{
    if (relativePath == NULL) {
        errno = EFAULT;
        return NULL;
    }
    if (relativePath[0] == '/') {
        errno = EINVAL;
        return NULL;
    }
    char cid[37];
    if (z__azsp_component_id(cid) < 0) {
        return NULL;
    }
    size_t size = strlen("/mnt/apps/") + 36 + 1 + strlen(relativePath) + 1;
    char *path = malloc(size);
    if (path == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    snprintf(path, size, "/mnt/apps/%s/%s", cid, relativePath);
    return path;
}

int Storage_OpenFileInImagePackage(const char *relativePath)
{
    char *path = Storage_GetAbsolutePathInImagePackage(relativePath);
    if (path == NULL) {
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int saved = errno;
    free(path);
    errno = saved;
    return fd;
}
