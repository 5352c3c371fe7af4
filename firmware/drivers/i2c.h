/* ISU I2C master and subordinate (see i2c.c). */
#ifndef I2C_H
#define I2C_H

#include "periph.h"

enum { I2C_OK = 0, I2C_NACK_ADDR = -1, I2C_NACK_DATA = -2, I2C_INCOMPLETE = -3, I2C_BUSY = -4, I2C_PARAM = -5 };

/* Master on ISU `isu` at `hz` (100 kHz, 400 kHz, 1 MHz ...); returns the SCL period in source clocks. */
uint32_t i2c_open(unsigned isu, uint32_t hz);
/* Write `wlen` bytes then (repeated START) read `rlen` bytes from 7-bit `addr`; either length may be 0.
   Transfers longer than the 8-byte FIFO go through the DMA (buffers must be in SYSRAM). */
int i2c_transfer(unsigned isu, uint8_t addr, const uint8_t *wr, unsigned wlen, uint8_t *rd, unsigned rlen);
/* MM_ACK_VAL after the last transfer (address NACK bits 11:8, data NACK bits 7:0). */
uint32_t i2c_last_ack(unsigned isu);
/* Subordinate on ISU `isu` answering `addr`. */
void i2c_sub_open(unsigned isu, uint8_t addr);
/* Queue bytes the master will read. */
void i2c_sub_write(unsigned isu, const uint8_t *data, unsigned len);
/* Wait (WFI) until a transaction addressed to us ended; returns the bytes received (up to `max`). */
unsigned i2c_sub_wait(unsigned isu, uint8_t *data, unsigned max, bool *was_read);

#endif
