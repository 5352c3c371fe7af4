/* blink_button: GPIO output and input. Blinks LED1 blue (GPIO 10) twice, then LED1 red (GPIO 8) follows
 * button A (GPIO 12): both are active low on the RDB, so holding A lights the LED. Every change of button
 * A or B (GPIO 13) is printed; the buttons are sampled every millisecond, sleeping on GPT3 in between. */
#include "sleep.h"

int main(void)
{
    print("blink_button: start\r\n");
    gpio_output(PIN_LED1_RED, true);
    gpio_output(PIN_LED1_BLUE, true);
    gpio_input(PIN_BUTTON_A);
    gpio_input(PIN_BUTTON_B);

    for (int i = 0; i < 2; i++) {
        gpio_write(PIN_LED1_BLUE, false);
        print("blink_button: led1 blue on\r\n");
        sleep_us(100000);
        gpio_write(PIN_LED1_BLUE, true);
        print("blink_button: led1 blue off\r\n");
        sleep_us(100000);
    }

    int a = -1, b = -1;
    for (;;) {
        int na = gpio_read(PIN_BUTTON_A), nb = gpio_read(PIN_BUTTON_B);
        gpio_write(PIN_LED1_RED, na);
        if (na != a || nb != b) {
            a = na;
            b = nb;
            print("blink_button: buttons A=%d B=%d\r\n", a, b);
        }
        sleep_us(1000);
    }
}
