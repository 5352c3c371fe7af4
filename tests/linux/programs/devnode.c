/* A device node served by Python (tests/linux/test_linux_devices.py, the worked example of docs/a7.md): a blocking
 * read that waits for a model event, poll, an ioctl that writes through a pointer, O_NONBLOCK, and a refused open. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_GET_COUNT _IOR('s', 1, uint32_t)

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
    int fd = open("/dev/sample0", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        printf("open failed: %s\n", strerror(errno));
        return 1;
    }
    char buf[32] = {0};
    long before = now_ms();
    int n = read(fd, buf, sizeof buf - 1);      /* blocks until the model produces a sample */
    printf("read %d '%s' after %ld ms\n", n, buf, now_ms() - before);

    struct pollfd p = {.fd = fd, .events = POLLIN};
    before = now_ms();
    int ready = poll(&p, 1, 1000);
    printf("poll %d revents %d after %ld ms\n", ready, p.revents, now_ms() - before);
    n = read(fd, buf, sizeof buf - 1);
    buf[n] = 0;
    printf("read %d '%s'\n", n, buf);

    fcntl(fd, F_SETFL, O_NONBLOCK);
    n = read(fd, buf, sizeof buf - 1);
    printf("nonblocking read %d %s\n", n, strerror(errno));

    uint32_t count = 0;
    ioctl(fd, SAMPLE_GET_COUNT, &count);
    printf("ioctl count %u\n", count);
    printf("ioctl bad pointer %d %s\n", ioctl(fd, SAMPLE_GET_COUNT, (void *)0x10), strerror(errno));
    write(fd, "reset", 5);
    ioctl(fd, SAMPLE_GET_COUNT, &count);
    printf("after write count %u\n", count);
    close(fd);

    int other = open("/dev/sample1", O_RDONLY);
    printf("sample1: %s\n", other < 0 ? strerror(errno) : "opened");
    return 0;
}
