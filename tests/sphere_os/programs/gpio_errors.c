/* GPIO errors as the manifest and the GPIO character device give them. */
#include <applibs/gpio.h>
#include <applibs/log.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <string.h>
#include <unistd.h>

static void report(const char *what, int rc)
{
    if (rc < 0) {
        Log_Debug("%s: -1 %s\n", what, strerror(errno));
    } else {
        Log_Debug("%s: ok\n", what);
    }
}

int main(void)
{
    report("open 9", GPIO_OpenAsOutput(9, GPIO_OutputMode_PushPull, GPIO_Value_High));
    int led = GPIO_OpenAsOutput(8, GPIO_OutputMode_PushPull, GPIO_Value_High);
    report("open 8", led);
    report("again 8", GPIO_OpenAsInput(8));
    int button = GPIO_OpenAsInput(12);
    report("set input", GPIO_SetValue(button, GPIO_Value_Low));
    close(led);
    led = GPIO_OpenAsOutput(8, GPIO_OutputMode_OpenDrain, GPIO_Value_Low);
    report("after close 8", led);
    report("open 200", GPIO_OpenAsInput(200));
    /* nonsense from the app: a NULL request, an unknown request; the OS answers with errno, never more */
    int chip = open("/dev/gpiochip0", O_RDWR);
    report("linehandle NULL", ioctl(chip, _IOWR(0xB4, 0x03, char[364]), NULL));
    report("unknown ioctl", ioctl(chip, 0x1234, 0));
    uint32_t info[18] = {500};
    report("lineinfo 500", ioctl(chip, _IOWR(0xB4, 0x02, char[72]), info));
    return 0;
}
