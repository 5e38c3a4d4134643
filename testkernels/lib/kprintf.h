/* Minimal printf to the serial port. Conversions: %s %c %d %u %x %X %p %%, with an
 * optional '0' flag, a field width, and the l / ll length modifiers (%llx, %llu, %lld). */
#ifndef TK_KPRINTF_H
#define TK_KPRINTF_H

#include <stdarg.h>

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

#endif
