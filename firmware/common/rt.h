/* Runtime shared by every firmware of the project: CPU helpers, debug UART, formatter, timers, GPIO. */
#ifndef RT_H
#define RT_H

#include <stdarg.h>
#include "mt3620.h"

/* ---- CPU ---- */
static inline void cpu_irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void cpu_irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void cpu_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void cpu_dsb(void) { __asm__ volatile("dsb" ::: "memory"); }
static inline void cpu_isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline uint32_t cpu_get_control(void) { uint32_t v; __asm__ volatile("mrs %0, control" : "=r"(v)); return v; }
static inline uint32_t cpu_get_ipsr(void) { uint32_t v; __asm__ volatile("mrs %0, ipsr" : "=r"(v)); return v; }
static inline void cpu_set_basepri(uint32_t v) { __asm__ volatile("msr basepri, %0" :: "r"(v) : "memory"); }
static inline uint32_t cpu_get_basepri(void) { uint32_t v; __asm__ volatile("mrs %0, basepri" : "=r"(v)); return v; }

/* Stops for good: interrupts masked, the core waits for an event that will never be taken. */
_Noreturn void halt(void);
/* Grants full access to CP10/CP11 (the FPU) in CPACR. */
void fpu_enable(void);
/* Selects the HCLK source (HCLK_SRC_*) and returns the resulting core clock in Hz. */
uint32_t clock_select(uint32_t source);
uint32_t clock_hz(void);

/* ---- Debug UART, polled (startup has already configured it for 115200 8N1) ---- */
void uart_init(void);
void uart_putc(char c);
void uart_write(const char *s, size_t n);
void uart_puts(const char *s);

/* ---- Formatter: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a field width; no floats ---- */
typedef void (*fmt_sink)(void *ctx, char c);
int vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);
int print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snformat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- Timers ---- */
/* Busy-waits with GPT3, the microsecond counter (the Azure HelloWorld RTApp's Gpt3_WaitUs). */
void gpt3_wait_us(uint32_t us);
/* Starts GPT2 free-running at 32.768 kHz from 0. */
void gpt2_start_32k(void);
static inline uint32_t gpt2_count(void) { return rd32(GPT2_CNT); }
/* SysTick at the core clock: `hz` interrupts per second. */
void systick_start(uint32_t hz);

/* ---- GPIO ---- */
void gpio_output(unsigned pin, bool level);
void gpio_input(unsigned pin);
void gpio_write(unsigned pin, bool level);
bool gpio_read(unsigned pin);

/* ---- Freestanding C library ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Each firmware's entry point, called by the reset handler. */
int main(void);

#endif
