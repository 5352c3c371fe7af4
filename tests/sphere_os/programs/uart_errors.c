/* UART_Open's errors and the tty it returns. */
#define UART_STRUCTS_VERSION 1
#include <applibs/log.h>
#include <applibs/uart.h>

#include <errno.h>
#include <string.h>
#include <termios.h>
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
    UART_Config config;
    UART_InitConfig(&config);
    report("ISU1", UART_Open(5, &config));
    config.baudRate = 12345;
    report("bad baud", UART_Open(4, &config));
    UART_Config raw = {0};
    raw.baudRate = 9600;
    report("not initialised", UART_Open(4, &raw));
    UART_InitConfig(&config);
    config.dataBits = UART_DataBits_Seven;
    config.parity = UART_Parity_Even;
    config.stopBits = UART_StopBits_Two;
    int fd = UART_Open(4, &config);
    report("ISU0 7E2 9600", fd);
    report("ISU0 again", UART_Open(4, &config));
    char c;
    report("blocking read", (int)read(fd, &c, 1));
    struct termios tio;
    tcgetattr(fd, &tio);
    Log_Debug("termios: speed %d cs7 %d parenb %d cstopb %d\n", cfgetospeed(&tio) == B9600 ? 9600 : -1,
              (tio.c_cflag & CSIZE) == CS7, (tio.c_cflag & PARENB) != 0, (tio.c_cflag & CSTOPB) != 0);
    close(fd);
    return 0;
}
