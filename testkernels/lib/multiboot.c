#include "multiboot.h"

#include <stddef.h>

#include "kstring.h"

const char *mb_cmdline(uint32_t magic, const struct multiboot_info *mbi)
{
    if (magic != MB_BOOT_MAGIC || !mbi || !(mbi->flags & MB_INFO_CMDLINE) || !mbi->cmdline)
        return "";
    return (const char *)(uintptr_t)mbi->cmdline;
}

const char *mb_loader_name(uint32_t magic, const struct multiboot_info *mbi)
{
    if (magic != MB_BOOT_MAGIC || !mbi || !(mbi->flags & MB_INFO_LOADER_NAME) ||
        !mbi->boot_loader_name)
        return "";
    return (const char *)(uintptr_t)mbi->boot_loader_name;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Find the next word at or after *p; returns its start and sets *len, or NULL at the end. */
static const char *next_word(const char **p, size_t *len)
{
    const char *s = *p;
    while (is_space(*s))
        s++;
    if (!*s)
        return NULL;
    const char *e = s;
    while (*e && !is_space(*e))
        e++;
    *len = (size_t)(e - s);
    *p = e;
    return s;
}

bool mb_cmdline_has(const char *cmdline, const char *word)
{
    size_t wlen = strlen(word), len;
    for (const char *w; (w = next_word(&cmdline, &len));)
        if (len == wlen && !strncmp(w, word, len))
            return true;
    return false;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Parse exactly `len` characters of s as an unsigned 32-bit number. */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
    uint32_t base = 10, v = 0;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return false;
    for (; len; len--, s++) {
        uint32_t d = (uint32_t)digit_value(*s);
        if (d >= base || v > (0xFFFFFFFFu - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

int mb_cmdline_u32(const char *cmdline, const char *key, uint32_t *out)
{
    size_t klen = strlen(key), len;
    for (const char *w; (w = next_word(&cmdline, &len));) {
        if (len > klen && w[klen] == '=' && !strncmp(w, key, klen))
            return parse_u32(w + klen + 1, len - klen - 1, out) ? 1 : -1;
    }
    return 0;
}
