/* Machine code for the calls whose ROM slot runs real instructions: the CPU itself carries out
 * descriptor-table loads, control-register moves, TLB invalidation, page-table stores and the
 * interrupt flag, with every check and fault a native instruction has. The host only logs
 * the call, once the slot has returned (rom_dispatch.c). */
#ifndef VMIEMU_ROM_NATIVE_H
#define VMIEMU_ROM_NATIVE_H

#include <stdint.h>

extern const uint8_t rom_native_setgdt[4], rom_native_setldt[4], rom_native_setidt[4], rom_native_settr[4];
extern const uint8_t rom_native_getgdt[4], rom_native_getldt[4], rom_native_getidt[4], rom_native_gettr[4];
extern const uint8_t rom_native_setcr0[4], rom_native_setcr2[4], rom_native_setcr3[4], rom_native_setcr4[4];
extern const uint8_t rom_native_getcr0[4], rom_native_getcr2[4], rom_native_getcr3[4], rom_native_getcr4[4];
extern const uint8_t rom_native_wbinvd[3], rom_native_clts[3], rom_native_sti[2], rom_native_cli[2];
extern const uint8_t rom_native_getim[3], rom_native_setim[3], rom_native_rdmsr[5], rom_native_wrmsr[5];
extern const uint8_t rom_native_setpxe[3], rom_native_setpxelong[16], rom_native_invlpg[4];
extern const uint8_t rom_native_flushtlb[28], rom_native_setiopl[18];
extern const uint8_t rom_native_iret[1], rom_native_sysexit[3];

#endif
