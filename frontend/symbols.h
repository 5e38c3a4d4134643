/* Kernel ELF symbols for the debugger: names to addresses and addresses to name+offset. */
#ifndef VMIEMU_SYMBOLS_H
#define VMIEMU_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct symbol {
    uint32_t addr, size;
    char *name;
} symbol;

typedef struct symtab {
    symbol *syms; /* sorted by address */
    size_t count;
} symtab;

/* Read the function and object symbols of an ELF32 image (none is not an error). */
void symtab_load(symtab *t, const uint8_t *image, size_t size);
void symtab_free(symtab *t);
bool symtab_lookup(const symtab *t, const char *name, uint32_t *addr);
/* "name+0x12" for an address inside a known symbol, else NULL. */
const char *symtab_describe(const symtab *t, uint32_t addr, char *buf, size_t len);
/* Names starting with prefix, for completion: the i-th match or NULL. */
const char *symtab_complete(const symtab *t, const char *prefix, size_t i);

#endif
