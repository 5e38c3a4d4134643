/* Kernel symbols for the debugger and the event log: names to addresses and addresses to
 * name+offset. From an ELF32 symbol table (a Multiboot kernel's own, or a Linux vmlinux given
 * with --symbols or found beside a bzImage) or a System.map text file. Lookups are binary
 * searches over two sorted arrays, so a 30 000-symbol kernel costs microseconds per lookup. */
#ifndef VMIEMU_SYMBOLS_H
#define VMIEMU_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

typedef struct symbol {
    uint32_t addr, size; /* size 0 = unknown (System.map, assembler labels) */
    const char *name;    /* in symtab.names */
    uint8_t rank;        /* which of several names at one address describes it best */
    bool text;           /* code (an ELF function, a System.map T/t/W entry) */
} symbol;

typedef struct symtab {
    symbol *syms;      /* by address; among equal addresses the best name last */
    const symbol **by_name; /* into syms, by name, then address */
    size_t count;
    char *names;       /* one block holding every name */
} symtab;

/* The function, object and label symbols of an ELF32 image. Every offset and size is checked
 * against the image: a malformed one is refused with VM_EFORMAT "WHAT: problem". */
VM_MUST_CHECK bool symtab_from_elf(symtab *t, const uint8_t *image, size_t size, const char *what, vm_error *err);
/* A System.map ("c119e3ad T start_kernel" per line); VM_EFORMAT if a line is not like that. */
VM_MUST_CHECK bool symtab_from_map(symtab *t, const char *text, size_t size, const char *what, vm_error *err);
/* A file of either kind, told apart by content; VM_EIO if it cannot be read. */
VM_MUST_CHECK bool symtab_load_file(symtab *t, const char *path, vm_error *err);
/* A kernel image's own symbols, if it is an ELF that has them; otherwise an empty table. */
void symtab_load(symtab *t, const uint8_t *image, size_t size);
void symtab_free(symtab *t);

bool symtab_lookup(const symtab *t, const char *name, uint32_t *addr);
/* The symbol an address lies in (the nearest at or below it, within its size when known and
 * at most 64 KiB past it), or NULL. */
const symbol *symtab_find(const symtab *t, uint32_t addr);
/* "name+0x12" (or "name") for an address inside a known symbol, else NULL. */
const char *symtab_describe(const symtab *t, uint32_t addr, char *buf, size_t len);
/* Names starting with prefix, for completion: the i-th match or NULL. */
const char *symtab_complete(const symtab *t, const char *prefix, size_t i);

#endif
