/* Storage without the MutableStorage capability; the package functions still work. */
#include <applibs/log.h>
#include <applibs/storage.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    Log_Debug("open: %s\n", Storage_OpenMutableFile() < 0 ? strerror(errno) : "ok");
    Log_Debug("delete: %s\n", Storage_DeleteMutableFile() < 0 ? strerror(errno) : "ok");
    char *path = Storage_GetAbsolutePathInImagePackage("bin/app");
    Log_Debug("package path %s\n", path != NULL && strstr(path, "/mnt/apps/") == path ? "ok" : "wrong");
    free(path);
    Log_Debug("missing package file: %s\n",
              Storage_OpenFileInImagePackage("nothing.txt") < 0 ? strerror(errno) : "opened");
    return 0;
}
