/* libapplibs: rtc.h. clock_systohc writes CLOCK_REALTIME to the hardware RTC with the standard Linux RTC
 * interface (RTC_SET_TIME on /dev/rtc0, struct rtc_time broken down in UTC), as hwclock --systohc does. */
#include <applibs/rtc.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct z__rtc_time {
    int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst;
};
#define Z_RTC_SET_TIME _IOW('p', 0x0a, struct z__rtc_time)

int clock_systohc(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) < 0) {
        return -1;
    }
    struct tm utc;
    if (gmtime_r(&now.tv_sec, &utc) == NULL) {
        errno = EOVERFLOW;
        return -1;
    }
    struct z__rtc_time rt = {utc.tm_sec, utc.tm_min, utc.tm_hour, utc.tm_mday, utc.tm_mon,
                             utc.tm_year, utc.tm_wday, utc.tm_yday, 0};
    int fd = open("/dev/rtc0", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int rc = ioctl(fd, Z_RTC_SET_TIME, &rt);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc < 0 ? -1 : 0;
}
