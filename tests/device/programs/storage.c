/* A high-level app for the device tests: counts its starts in its mutable storage (argv[1] is
 * /mnt/config/<component id>) and prints the count; a write the quota refuses prints its errno. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    char path[256];
    snprintf(path, sizeof path, "%s/starts", argc > 1 ? argv[1] : "/mnt/config");
    char buf[32] = {0};
    int starts = 0;
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        if (read(fd, buf, sizeof buf - 1) > 0) {
            starts = atoi(buf);
        }
        close(fd);
    }
    starts++;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int n = snprintf(buf, sizeof buf, "%d\n", starts);
    if (fd < 0 || write(fd, buf, (size_t)n) != n) {
        printf("storage: cannot write: %s\n", strerror(errno));
        return 1;
    }
    close(fd);
    printf("storage: start %d\n", starts);
    return 0;
}
