/* hl_blink: blinks LED 1 red (GPIO 8) from an EventLoop timer; button A (GPIO 12) cycles the blink period
 * (500, 250, 125 ms). The button is polled every 10 ms from a second timer, as the Azure Sphere samples do.
 * It also shows the manifest at work: GPIO 9 is not in its "Gpio" list, so opening it fails with EACCES.
 * After `max_blinks` LED changes (first argument, default: forever) it exits with status 0. */
#include "applibs_versions.h"

#include <applibs/eventloop.h>
#include <applibs/gpio.h>
#include <applibs/log.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LED_GPIO 8
#define BUTTON_GPIO 12
#define FORBIDDEN_GPIO 9

static const int periods_ms[] = {500, 250, 125};
static int period_index;
static int led_fd = -1, button_fd = -1, blink_timer = -1, button_timer = -1;
static GPIO_Value_Type led_level = GPIO_Value_High;       /* the RDB's LEDs are lit by a low level */
static GPIO_Value_Type last_button = GPIO_Value_High;     /* released: pulled up */
static long changes, max_changes = -1;
static EventLoop *loop;

static int make_timer(int period_ms)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    struct itimerspec spec = {
        .it_interval = {period_ms / 1000, (period_ms % 1000) * 1000000},
        .it_value = {period_ms / 1000, (period_ms % 1000) * 1000000},
    };
    if (timerfd_settime(fd, 0, &spec, NULL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void consume(int fd)
{
    uint64_t expirations;
    (void)read(fd, &expirations, sizeof expirations);
}

static void on_blink(EventLoop *el, int fd, EventLoop_IoEvents events, void *context)
{
    consume(fd);
    led_level = led_level == GPIO_Value_High ? GPIO_Value_Low : GPIO_Value_High;
    if (GPIO_SetValue(led_fd, led_level) != 0) {
        Log_Debug("hl_blink: GPIO_SetValue: %s\n", strerror(errno));
        EventLoop_Stop(el);
        return;
    }
    changes++;
    if (max_changes >= 0 && changes >= max_changes) {
        Log_Debug("hl_blink: %ld LED changes, done\n", changes);
        EventLoop_Stop(el);
    }
}

static void on_button_poll(EventLoop *el, int fd, EventLoop_IoEvents events, void *context)
{
    consume(fd);
    GPIO_Value_Type now;
    if (GPIO_GetValue(button_fd, &now) != 0) {
        Log_Debug("hl_blink: GPIO_GetValue: %s\n", strerror(errno));
        EventLoop_Stop(el);
        return;
    }
    if (now != last_button && now == GPIO_Value_Low) {
        period_index = (period_index + 1) % (int)(sizeof periods_ms / sizeof periods_ms[0]);
        struct itimerspec spec = {
            .it_interval = {0, periods_ms[period_index] * 1000000},
            .it_value = {0, periods_ms[period_index] * 1000000},
        };
        timerfd_settime(blink_timer, 0, &spec, NULL);
        Log_Debug("hl_blink: button A pressed: blink period %d ms\n", periods_ms[period_index]);
    }
    last_button = now;
}

int main(int argc, char *argv[])
{
    if (argc > 1) {
        max_changes = strtol(argv[1], NULL, 10);
    }
    Log_Debug("hl_blink: starting\n");
    int forbidden = GPIO_OpenAsOutput(FORBIDDEN_GPIO, GPIO_OutputMode_PushPull, GPIO_Value_High);
    Log_Debug("hl_blink: GPIO %d: %s\n", FORBIDDEN_GPIO, forbidden < 0 ? strerror(errno) : "opened");

    led_fd = GPIO_OpenAsOutput(LED_GPIO, GPIO_OutputMode_PushPull, led_level);
    button_fd = GPIO_OpenAsInput(BUTTON_GPIO);
    if (led_fd < 0 || button_fd < 0) {
        Log_Debug("hl_blink: cannot open the GPIOs: %s\n", strerror(errno));
        return 1;
    }
    loop = EventLoop_Create();
    blink_timer = make_timer(periods_ms[0]);
    button_timer = make_timer(10);
    if (loop == NULL || blink_timer < 0 || button_timer < 0 ||
        EventLoop_RegisterIo(loop, blink_timer, EventLoop_Input, on_blink, NULL) == NULL ||
        EventLoop_RegisterIo(loop, button_timer, EventLoop_Input, on_button_poll, NULL) == NULL) {
        Log_Debug("hl_blink: event loop setup failed: %s\n", strerror(errno));
        return 1;
    }
    Log_Debug("hl_blink: blinking every %d ms\n", periods_ms[0]);
    EventLoop_Run_Result result = EventLoop_Run(loop, -1, false);
    EventLoop_Close(loop);
    close(blink_timer);
    close(button_timer);
    close(led_fd);
    close(button_fd);
    return result == EventLoop_Run_Failed ? 2 : 0;
}
