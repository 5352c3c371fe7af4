/* libapplibs internals (not an SDK header): how the networking libraries reach the emulated OS's services.
 *
 * Emulator-defined transport (docs/wifi.md, "The Applibs transport"): one device node per library,
 * /dev/azure-sphere/{wificonfig,networking,certstore}; each call is one ioctl carrying a struct azs_request whose
 * buffers the OS reads and writes through the app's pointers. The ioctl returns the result or fails with the
 * errno the API documents. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct azs_buffer {
    uint32_t ptr;
    uint32_t len;
};

struct azs_request {
    int32_t id;
    uint32_t attr;
    uint32_t value;
    uint32_t reserved;
    struct azs_buffer buf[4];
};

#define AZS_REQUEST(node, op) _IOWR(node, op, struct azs_request)

static inline struct azs_buffer azs_buf(const void *ptr, size_t len)
{
    struct azs_buffer b = {(uint32_t)(uintptr_t)ptr, (uint32_t)len};
    return b;
}

/* The request of a call that fills a versioned array (Networking_GetInterfaces, WifiConfig_GetStoredNetworks,
 * WifiConfig_GetScannedNetworks): the struct version in `value`, the array in buf[0]. -1 with errno EFAULT for a
 * NULL array, ERANGE for an empty one (the documented errors), else 0. */
static inline int azs_array_request(struct azs_request *req, void *array, size_t count, uint32_t version)
{
    if (array == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (count == 0) {
        errno = ERANGE;
        return -1;
    }
    *req = (struct azs_request){.value = version, .buf = {azs_buf(array, count)}};
    return 0;
}

/* Opens `path` once per process (thread-safe enough: a lost race leaves one extra descriptor open). */
static inline int azs_service_fd(int *cache, const char *path)
{
    int fd = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (fd >= 0) {
        return fd;
    }
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        errno = EAGAIN;          /* the service is not there: "not ready" */
        return -1;
    }
    int expected = -1;
    if (!__atomic_compare_exchange_n(cache, &expected, fd, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        close(fd);
        fd = expected;
    }
    return fd;
}

static inline long azs_call(int *cache, const char *path, char node, int op, struct azs_request *req)
{
    int fd = azs_service_fd(cache, path);
    if (fd < 0) {
        return -1;
    }
    long r;
    do {
        r = ioctl(fd, AZS_REQUEST(node, op), req);
    } while (r < 0 && errno == EINTR);
    return r;
}
