/* PWM: controller 2 channel 1 (LED 1 green on the RDB) at 20 us with a duty cycle of 5 us, then disabled;
 * controller 0 is not in the manifest. Waits between steps so the test can look at the model. */
#include <applibs/log.h>
#include <applibs/pwm.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    int other = PWM_Open(0);
    Log_Debug("controller 0: %s\n", other < 0 ? strerror(errno) : "opened");
    int fd = PWM_Open(2);
    if (fd < 0) {
        Log_Debug("controller 2: %s\n", strerror(errno));
        return 1;
    }
    PwmState state = {.period_nsec = 20000, .dutyCycle_nsec = 5000, .polarity = PWM_Polarity_Normal,
                      .enabled = true};
    Log_Debug("apply: %d\n", PWM_Apply(fd, 1, &state));
    struct timespec wait = {0, 10000000};
    nanosleep(&wait, NULL);
    state.dutyCycle_nsec = 30000;
    int bad = PWM_Apply(fd, 1, &state);
    Log_Debug("duty > period: %s\n", bad < 0 ? strerror(errno) : "accepted");
    int channel = PWM_Apply(fd, 7, &state);
    Log_Debug("channel 7: %s\n", channel < 0 ? strerror(errno) : "accepted");
    state.dutyCycle_nsec = 5000;
    state.enabled = false;
    Log_Debug("disable: %d\n", PWM_Apply(fd, 1, &state));
    nanosleep(&wait, NULL);
    close(fd);
    return 0;
}
