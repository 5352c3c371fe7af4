/* i2c_sub: ISU1's I2C master and ISU2's I2C subordinate (address 0x20) on one bus (tests/firmware/boards/
 * i2c_sub.board joins them, as MediaTek's I2C sample wires ISU1 to ISU2): the master writes 5 bytes that the
 * subordinate receives, then reads 6 bytes the subordinate queued, then reads more than it queued (the
 * subordinate holds SCL low until software gives it more: here it never does within the transfer, so the master
 * waits; the test checks the clock stretching in virtual time instead). */
#include "i2c.h"

int main(void)
{
    print("i2c_sub: start\r\n");
    i2c_open(1, 400000);
    i2c_sub_open(2, 0x20);

    static const uint8_t hello[5] = {'h', 'e', 'l', 'l', 'o'};
    int rc = i2c_transfer(1, 0x20, hello, 5, 0, 0);
    uint8_t got[8];
    bool was_read = true;
    unsigned n = i2c_sub_wait(2, got, sizeof got, &was_read);
    print("i2c_sub: master write rc=%d, subordinate got %u bytes (%s): %c%c%c%c%c\r\n", rc, n,
          was_read ? "read" : "write", got[0], got[1], got[2], got[3], got[4]);

    static const uint8_t reply[6] = {'w', 'o', 'r', 'l', 'd', '!'};
    i2c_sub_write(2, reply, 6);
    uint8_t in[6] = {0};
    rc = i2c_transfer(1, 0x20, 0, 0, in, 6);
    n = i2c_sub_wait(2, got, sizeof got, &was_read);
    print("i2c_sub: master read rc=%d (%s): %c%c%c%c%c%c\r\n", rc, was_read ? "read" : "write", in[0], in[1], in[2],
          in[3], in[4], in[5]);

    rc = i2c_transfer(1, 0x21, hello, 1, 0, 0);
    print("i2c_sub: wrong address rc=%d\r\n", rc);
    print("i2c_sub: done\r\n");
    return 0;
}
