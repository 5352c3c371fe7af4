/* hello: the smallest RTApp. Polled transmit on the debug UART, and one line exercising the formatter. */
#include "rt.h"

int main(void)
{
    print("hello: Hello from the MT3620 IO core\r\n");
    print("hello: fmt %d %i %u 0x%x %08X [%5s] [%-5s] %c %% %p\r\n", 42, -7, 4294967295u, 0xdeadbeefu, 0xffu,
          "abc", "abc", 'x', (void *)0x00100000);
    print("hello: done\r\n");
    return 0;
}
