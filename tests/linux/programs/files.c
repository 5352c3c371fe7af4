/* Files: the package's ASXipFS mounted read-only, the mutable storage tree, directories, stat, pipes, dup, /proc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    const char *root = argv[1];      /* /mnt/apps/<component id> */
    const char *config = argv[2];    /* /mnt/config/<component id> */
    char path[256];
    snprintf(path, sizeof path, "%s/data/greeting.txt", root);
    int fd = open(path, O_RDONLY);
    char buf[64] = {0};
    int n = read(fd, buf, sizeof buf - 1);
    struct stat st;
    fstat(fd, &st);
    printf("read %d bytes: %s size %lld regular %d\n", n, buf, (long long)st.st_size, S_ISREG(st.st_mode));
    lseek(fd, 6, SEEK_SET);
    n = read(fd, buf, 5);
    buf[n] = 0;
    printf("after seek: %s\n", buf);
    close(fd);

    int w = open(path, O_WRONLY);
    printf("write open: %s\n", w < 0 ? strerror(errno) : "allowed");

    DIR *dir = opendir(root);
    struct dirent *entry;
    int count = 0;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.') {
            printf("entry %s\n", entry->d_name);
            count++;
        }
    }
    closedir(dir);
    printf("%d entries\n", count);

    snprintf(path, sizeof path, "%s/state.bin", config);
    fd = open(path, O_RDONLY);
    memset(buf, 0, sizeof buf);
    if (fd >= 0) {
        read(fd, buf, sizeof buf - 1);
        close(fd);
    }
    printf("stored before: %s\n", fd >= 0 ? buf : "nothing");
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(fd, "persist", 7);
    close(fd);
    fd = open(path, O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(fd, buf, sizeof buf);
    close(fd);
    printf("mutable storage: %s\n", buf);

    int p[2];
    pipe(p);
    write(p[1], "through a pipe", 14);
    close(p[1]);
    memset(buf, 0, sizeof buf);
    read(p[0], buf, sizeof buf);
    printf("%s, then EOF %d\n", buf, (int)read(p[0], buf, 1));

    int copy = dup(1);
    dprintf(copy, "dup'd stdout works\n");
    char link[128] = {0};
    readlink("/proc/self/exe", link, sizeof link - 1);
    printf("exe %s\n", link);
    printf("missing: %s\n", access("/no/such/file", F_OK) ? strerror(errno) : "found");
    return 0;
}
