#include "frontend/symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static int by_addr(const void *a, const void *b)
{
    const symbol *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Every bound checked against the file: a broken ELF just yields fewer symbols. */
void symtab_load(symtab *t, const uint8_t *img, size_t size)
{
    memset(t, 0, sizeof *t);
    if (size < 52 || memcmp(img, "\177ELF", 4) != 0 || img[4] != 1)
        return;
    uint32_t shoff = rd32(img + 32);
    uint16_t shentsize = rd16(img + 46), shnum = rd16(img + 48);
    if (shentsize != 40 || shoff > size || (uint64_t)shnum * 40 > size - shoff)
        return;
    for (uint16_t i = 0; i < shnum; i++) {
        const uint8_t *sh = img + shoff + (size_t)i * 40;
        if (rd32(sh + 4) != 2) /* SHT_SYMTAB */
            continue;
        uint32_t off = rd32(sh + 16), len = rd32(sh + 20), link = rd32(sh + 24);
        if (link >= shnum || off > size || len > size - off)
            return;
        const uint8_t *strsh = img + shoff + (size_t)link * 40;
        uint32_t stroff = rd32(strsh + 16), strlen_ = rd32(strsh + 20);
        if (stroff > size || strlen_ > size - stroff)
            return;
        size_t n = len / 16;
        t->syms = calloc(n ? n : 1, sizeof *t->syms);
        if (!t->syms)
            return;
        for (size_t k = 0; k < n; k++) {
            const uint8_t *s = img + off + k * 16;
            uint32_t name = rd32(s), value = rd32(s + 4), ssize = rd32(s + 8);
            uint8_t type = s[12] & 0xF;
            if ((type != 1 && type != 2 && type != 0) || name == 0 || name >= strlen_ || value == 0)
                continue;
            const char *str = (const char *)img + stroff + name;
            size_t max = strlen_ - name;
            size_t l = strnlen(str, max);
            if (l == max || l == 0)
                continue;
            char *copy = malloc(l + 1);
            if (!copy)
                continue;
            memcpy(copy, str, l + 1);
            t->syms[t->count++] = (symbol){value, ssize, copy};
        }
        qsort(t->syms, t->count, sizeof *t->syms, by_addr);
        return;
    }
}

void symtab_free(symtab *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->syms[i].name);
    free(t->syms);
    memset(t, 0, sizeof *t);
}

bool symtab_lookup(const symtab *t, const char *name, uint32_t *addr)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->syms[i].name, name) == 0) {
            *addr = t->syms[i].addr;
            return true;
        }
    return false;
}

const char *symtab_describe(const symtab *t, uint32_t addr, char *buf, size_t len)
{
    const symbol *best = NULL;
    for (size_t i = 0; i < t->count && t->syms[i].addr <= addr; i++)
        best = &t->syms[i];
    if (!best || (best->size && addr - best->addr >= best->size) || addr - best->addr > 0x10000)
        return NULL;
    if (addr == best->addr)
        snprintf(buf, len, "%s", best->name);
    else
        snprintf(buf, len, "%s+0x%x", best->name, addr - best->addr);
    return buf;
}

const char *symtab_complete(const symtab *t, const char *prefix, size_t i)
{
    size_t plen = strlen(prefix);
    for (size_t k = 0; k < t->count; k++)
        if (strncmp(t->syms[k].name, prefix, plen) == 0 && i-- == 0)
            return t->syms[k].name;
    return NULL;
}
