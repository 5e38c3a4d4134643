#include "frontend/symbols.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The ELF structures are read by memcpy straight from the file: the host must be
 * little-endian like the i386 ELFs it reads. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "frontend/symbols.c reads little-endian ELF structures in place"
#endif

#define SYMS_MAX_FILE (256u << 20) /* a symbol file larger than this is not a kernel's */
#define SYMS_MAX_REACH 0x10000u     /* how far past a size-less symbol an address still belongs to it */

/* ---- building a table ---- */

static int by_addr(const void *a, const void *b)
{
    const symbol *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp(y->name, x->name); /* a fixed order for equal ranks: the first name alphabetically last */
}

static int by_name(const void *a, const void *b)
{
    const symbol *x = *(const symbol *const *)a, *y = *(const symbol *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sort both ways once every symbol is in; false only when memory runs out. */
static bool finish(symtab *t, vm_error *err)
{
    qsort(t->syms, t->count, sizeof *t->syms, by_addr);
    t->by_name = malloc((t->count ? t->count : 1) * sizeof *t->by_name);
    if (!t->by_name) {
        symtab_free(t);
        return vm_fail(err, VM_ENOMEM, "out of memory for the symbol table");
    }
    for (size_t i = 0; i < t->count; i++)
        t->by_name[i] = &t->syms[i];
    qsort(t->by_name, t->count, sizeof *t->by_name, by_name);
    return true;
}

/* A global function describes an address better than a local label at the same place. */
static uint8_t elf_rank(unsigned type, unsigned bind)
{
    uint8_t r = type == STT_FUNC ? 4 : type == STT_OBJECT ? 2 : 0;
    return (uint8_t)(r + (bind == STB_GLOBAL ? 1 : 0));
}

/* Section header i, copied out (the image need not be aligned). */
static Elf32_Shdr section(const uint8_t *img, const Elf32_Ehdr *eh, size_t i)
{
    Elf32_Shdr sh;
    memcpy(&sh, img + eh->e_shoff + i * sizeof sh, sizeof sh);
    return sh;
}

static bool range_ok(size_t size, uint64_t off, uint64_t len) { return off <= size && len <= size - off; }

bool symtab_from_elf(symtab *t, const uint8_t *img, size_t size, const char *what, vm_error *err)
{
    memset(t, 0, sizeof *t);
    Elf32_Ehdr eh;
    if (size < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0)
        return vm_fail(err, VM_EFORMAT, "%s: not an ELF file", what);
    if (img[EI_CLASS] != ELFCLASS32 || img[EI_DATA] != ELFDATA2LSB)
        return vm_fail(err, VM_EFORMAT, "%s: not a 32-bit little-endian ELF (an i386 kernel's vmlinux is one)", what);
    if (size < sizeof eh)
        return vm_fail(err, VM_EFORMAT, "%s: the ELF header is cut short", what);
    memcpy(&eh, img, sizeof eh);
    if (eh.e_shoff == 0)
        return vm_fail(err, VM_EFORMAT, "%s: no section headers, so no symbol table", what);
    if (eh.e_shentsize != sizeof(Elf32_Shdr))
        return vm_fail(err, VM_EFORMAT, "%s: section headers of %u bytes, not %zu", what, eh.e_shentsize,
                       sizeof(Elf32_Shdr));
    /* More than 0xff00 sections: the count is in section 0's sh_size. */
    uint64_t shnum = eh.e_shnum;
    if (shnum == 0 && range_ok(size, eh.e_shoff, sizeof(Elf32_Shdr)))
        shnum = section(img, &eh, 0).sh_size;
    if (shnum == 0 || !range_ok(size, eh.e_shoff, shnum * sizeof(Elf32_Shdr)))
        return vm_fail(err, VM_EFORMAT, "%s: the section headers lie outside the file", what);
    for (size_t i = 0; i < shnum; i++) {
        Elf32_Shdr sh = section(img, &eh, i);
        if (sh.sh_type != SHT_SYMTAB)
            continue;
        if (sh.sh_entsize != sizeof(Elf32_Sym) || !range_ok(size, sh.sh_offset, sh.sh_size))
            return vm_fail(err, VM_EFORMAT, "%s: the symbol table (section %zu) lies outside the file or has "
                                            "entries of %u bytes", what, i, sh.sh_entsize);
        Elf32_Shdr str = sh.sh_link < shnum ? section(img, &eh, sh.sh_link) : (Elf32_Shdr){0};
        if (str.sh_type != SHT_STRTAB || str.sh_size == 0 || !range_ok(size, str.sh_offset, str.sh_size))
            return vm_fail(err, VM_EFORMAT, "%s: the symbol table's strings (section %u) are missing or lie outside "
                                            "the file", what, sh.sh_link);
        size_t n = sh.sh_size / sizeof(Elf32_Sym);
        t->syms = malloc((n ? n : 1) * sizeof *t->syms);
        t->names = malloc((size_t)str.sh_size + 1);
        if (!t->syms || !t->names) {
            symtab_free(t);
            return vm_fail(err, VM_ENOMEM, "%s: out of memory for %zu symbols", what, n);
        }
        memcpy(t->names, img + str.sh_offset, str.sh_size);
        t->names[str.sh_size] = 0; /* every name ends inside the block, whatever the file says */
        for (size_t k = 0; k < n; k++) {
            Elf32_Sym s;
            memcpy(&s, img + sh.sh_offset + k * sizeof s, sizeof s);
            unsigned type = ELF32_ST_TYPE(s.st_info), bind = ELF32_ST_BIND(s.st_info);
            if ((type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) || bind > STB_WEAK ||
                s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_ABS || s.st_value == 0 || s.st_name == 0 ||
                s.st_name >= str.sh_size || t->names[s.st_name] == 0)
                continue;
            t->syms[t->count++] = (symbol){s.st_value, s.st_size, t->names + s.st_name, elf_rank(type, bind),
                                           type == STT_FUNC};
        }
        return finish(t, err);
    }
    return vm_fail(err, VM_EFORMAT, "%s: no symbol table (a stripped ELF?)", what);
}

/* System.map letters (nm's): upper case global, lower case local. */
static bool map_type(char c, uint8_t *rank, bool *text)
{
    const char *keep = "TtWwDdBbRrGgSsVv";
    if (!c || !strchr(keep, c))
        return false; /* A absolute, U undefined, N debugging, ? unknown */
    char l = (char)tolower((unsigned char)c);
    *text = l == 't' || l == 'w';
    *rank = (uint8_t)((l == 't' ? 4 : l == 'w' ? 3 : 2) + (isupper((unsigned char)c) ? 1 : 0));
    return true;
}

bool symtab_from_map(symtab *t, const char *text, size_t size, const char *what, vm_error *err)
{
    memset(t, 0, sizeof *t);
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    t->names = malloc(size + 1);
    t->syms = malloc((lines + 1) * sizeof *t->syms);
    if (!t->names || !t->syms) {
        symtab_free(t);
        return vm_fail(err, VM_ENOMEM, "%s: out of memory for %zu symbols", what, lines + 1);
    }
    memcpy(t->names, text, size);
    t->names[size] = 0;
    size_t lineno = 0;
    for (char *line = t->names, *next; line < t->names + size; line = next) {
        char *nl = memchr(line, '\n', (size_t)(t->names + size - line));
        next = nl ? nl + 1 : t->names + size;
        if (nl)
            *nl = 0;
        lineno++;
        /* "ADDR TYPE NAME": 8 hex digits (16 on a 64-bit map), one letter, a name. */
        char *p = line, *end = line;
        if (!*p || *p == '\r')
            continue;
        errno = 0;
        unsigned long long addr = isxdigit((unsigned char)*p) ? strtoull(p, &end, 16) : 0;
        if (end == p || errno || addr > UINT32_MAX || end - p > 16 || end[0] != ' ' || !end[1] || end[2] != ' ' ||
            !end[3] || isspace((unsigned char)end[3])) {
            symtab_free(t);
            return vm_fail(err, VM_EFORMAT, "%s:%zu: not an ELF file, nor a System.map line (ADDRESS TYPE NAME)", what,
                           lineno);
        }
        char *name = end + 3;
        name[strcspn(name, " \t\r")] = 0;
        uint8_t rank;
        bool is_text;
        if (addr && map_type(end[1], &rank, &is_text))
            t->syms[t->count++] = (symbol){(uint32_t)addr, 0, name, rank, is_text};
    }
    if (!t->count) {
        symtab_free(t);
        return vm_fail(err, VM_EFORMAT, "%s: no symbols", what);
    }
    return finish(t, err);
}

bool symtab_load_file(symtab *t, const char *path, vm_error *err)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vm_fail(err, VM_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SYMS_MAX_FILE) {
        fclose(f);
        return vm_fail(err, VM_EFORMAT, "%s: not a regular file of 1 byte to %u MiB", path, SYMS_MAX_FILE >> 20);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size);
    bool ok = data && fread(data, 1, size, f) == size;
    fclose(f);
    if (!ok) {
        free(data);
        return vm_fail(err, data ? VM_EIO : VM_ENOMEM, "%s: cannot read it", path);
    }
    ok = size >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0 ? symtab_from_elf(t, data, size, path, err)
                                                                : symtab_from_map(t, (const char *)data, size, path, err);
    free(data);
    return ok;
}

void symtab_load(symtab *t, const uint8_t *image, size_t size)
{
    vm_error ignored = {0};
    if (!symtab_from_elf(t, image, size, "kernel", &ignored))
        memset(t, 0, sizeof *t);
}

void symtab_free(symtab *t)
{
    free(t->syms);
    free(t->by_name);
    free(t->names);
    memset(t, 0, sizeof *t);
}

/* ---- lookups ---- */

/* The first by-name position whose name is >= key (compared over n bytes: a prefix; or, with
 * n = 0, whole). */
static size_t name_bound(const symtab *t, const char *key, size_t n)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((n ? strncmp(t->by_name[mid]->name, key, n) : strcmp(t->by_name[mid]->name, key)) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool symtab_lookup(const symtab *t, const char *name, uint32_t *addr)
{
    size_t i = name_bound(t, name, 0);
    if (i == t->count || strcmp(t->by_name[i]->name, name) != 0)
        return false;
    *addr = t->by_name[i]->addr;
    return true;
}

const symbol *symtab_find(const symtab *t, uint32_t addr)
{
    size_t lo = 0, hi = t->count; /* the first symbol above addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const symbol *best = &t->syms[lo - 1];
    uint32_t off = addr - best->addr;
    if ((best->size && off >= best->size) || off > SYMS_MAX_REACH)
        return NULL;
    return best;
}

const char *symtab_describe(const symtab *t, uint32_t addr, char *buf, size_t len)
{
    const symbol *s = symtab_find(t, addr);
    if (!s)
        return NULL;
    if (addr == s->addr)
        snprintf(buf, len, "%s", s->name);
    else
        snprintf(buf, len, "%s+0x%x", s->name, addr - s->addr);
    return buf;
}

const char *symtab_complete(const symtab *t, const char *prefix, size_t i)
{
    size_t plen = strlen(prefix), k = name_bound(t, prefix, plen) + i;
    return k < t->count && strncmp(t->by_name[k]->name, prefix, plen) == 0 ? t->by_name[k]->name : NULL;
}
