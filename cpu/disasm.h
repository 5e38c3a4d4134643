/* Capstone-based i386 decoding: instruction counts for translated blocks and text for people. */
#ifndef VMIEMU_DISASM_H
#define VMIEMU_DISASM_H

#include <stddef.h>
#include <stdint.h>

#include "emu/error.h"

typedef struct disasm disasm;

disasm *disasm_open(vm_error *err);
void disasm_close(disasm *d);

/* Number of whole instructions in code[0..len) starting at address `addr`. Decoding stops at
 * the first byte capstone cannot decode; what was decoded before it counts. */
uint32_t disasm_count(disasm *d, const uint8_t *code, size_t len, uint32_t addr);

/* Like disasm_count, and also *first_io = 1 + the index of the first port I/O instruction
 * (in, out, ins, outs), or 0 if there is none. */
uint32_t disasm_scan(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t *first_io);

/* True if the first n instructions in code[0..len) decode and none of them could tell, or
 * miscount, that the host set EFLAGS.TF to step them (pushf, popf, iret, int, mov ss, sti, hlt,
 * rep string instructions, debug-register moves...). */
bool disasm_trap_step_safe(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t n);

/* Number of whole instructions that start before `stop` (addr <= stop <= addr+len). */
uint32_t disasm_count_until(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint64_t stop);

/* Decode one instruction into `text` ("mnemonic operands"); returns its length, 0 if invalid. */
size_t disasm_one(disasm *d, const uint8_t *code, size_t len, uint32_t addr, char *text, size_t textlen);

#endif
