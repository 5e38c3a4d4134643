#include "kprintf.h"

#include <stdbool.h>
#include <stdint.h>

#include "div64.h"
#include "serial.h"

/* Print v in `base` (10 or 16), right-aligned in `width` with `pad`, after an optional '-'. */
static void put_number(uint64_t v, unsigned base, bool negative, int width, char pad, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = 0;
    do {
        uint32_t d;
        if (base == 16) {
            d = (uint32_t)v & 15;
            v >>= 4;
        } else {
            v = div64_u32(v, base, &d);
        }
        buf[n++] = digits[d];
    } while (v);
    int len = n + (negative ? 1 : 0);
    if (negative && pad == '0')
        serial_putc('-');
    for (; len < width; len++)
        serial_putc(pad);
    if (negative && pad != '0')
        serial_putc('-');
    while (n)
        serial_putc(buf[--n]);
}

static void put_string(const char *s, int width)
{
    int len = 0;
    if (!s)
        s = "(null)";
    for (const char *p = s; *p; p++)
        len++;
    for (; len < width; len++)
        serial_putc(' ');
    serial_puts(s);
}

void kvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        int longs = 0;
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = longs >= 2 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);
            put_number(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs >= 2 ? va_arg(ap, unsigned long long)
                         : longs     ? va_arg(ap, unsigned long)
                                     : va_arg(ap, unsigned int);
            put_number(v, *fmt == 'u' ? 10 : 16, false, width, pad, *fmt == 'X');
            break;
        }
        case 'p':
            serial_puts("0x");
            put_number((uintptr_t)va_arg(ap, void *), 16, false, 8, '0', false);
            break;
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 's':
            put_string(va_arg(ap, const char *), width);
            break;
        case '%':
            serial_putc('%');
            break;
        case '\0':
            return;
        default: /* unknown conversion: show it rather than guess */
            serial_putc('%');
            serial_putc(*fmt);
            break;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
