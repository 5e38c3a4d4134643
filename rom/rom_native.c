/* Assembled with nasm (BITS 32); each sequence is position-independent and ends in ret (or
 * does not return). Arguments arrive as VMI.md section 3 says: EAX, EDX, ECX. */
#include "rom/rom_native.h"

const uint8_t rom_native_setgdt[4] = {0x0F, 0x01, 0x10, 0xC3}; /* lgdt [eax]; ret */
const uint8_t rom_native_setldt[4] = {0x0F, 0x00, 0xD0, 0xC3}; /* lldt ax; ret */
const uint8_t rom_native_setidt[4] = {0x0F, 0x01, 0x18, 0xC3}; /* lidt [eax]; ret */
const uint8_t rom_native_settr[4] = {0x0F, 0x00, 0xD8, 0xC3};  /* ltr ax; ret */
const uint8_t rom_native_getgdt[4] = {0x0F, 0x01, 0x00, 0xC3}; /* sgdt [eax]; ret */
const uint8_t rom_native_getldt[4] = {0x0F, 0x00, 0xC0, 0xC3}; /* sldt eax; ret */
const uint8_t rom_native_getidt[4] = {0x0F, 0x01, 0x08, 0xC3}; /* sidt [eax]; ret */
const uint8_t rom_native_gettr[4] = {0x0F, 0x00, 0xC8, 0xC3};  /* str eax; ret */
const uint8_t rom_native_setcr0[4] = {0x0F, 0x22, 0xC0, 0xC3}; /* mov cr0, eax; ret */
const uint8_t rom_native_setcr2[4] = {0x0F, 0x22, 0xD0, 0xC3}; /* mov cr2, eax; ret */
const uint8_t rom_native_setcr3[4] = {0x0F, 0x22, 0xD8, 0xC3}; /* mov cr3, eax; ret */
const uint8_t rom_native_setcr4[4] = {0x0F, 0x22, 0xE0, 0xC3}; /* mov cr4, eax; ret */
const uint8_t rom_native_getcr0[4] = {0x0F, 0x20, 0xC0, 0xC3}; /* mov eax, cr0; ret */
const uint8_t rom_native_getcr2[4] = {0x0F, 0x20, 0xD0, 0xC3}; /* mov eax, cr2; ret */
const uint8_t rom_native_getcr3[4] = {0x0F, 0x20, 0xD8, 0xC3}; /* mov eax, cr3; ret */
const uint8_t rom_native_getcr4[4] = {0x0F, 0x20, 0xE0, 0xC3}; /* mov eax, cr4; ret */
const uint8_t rom_native_wbinvd[3] = {0x0F, 0x09, 0xC3};       /* wbinvd; ret */
const uint8_t rom_native_clts[3] = {0x0F, 0x06, 0xC3};         /* clts; ret */
const uint8_t rom_native_sti[2] = {0xFB, 0xC3};                /* sti; ret: no register changes */
const uint8_t rom_native_cli[2] = {0xFA, 0xC3};                /* cli; ret */
const uint8_t rom_native_getim[3] = {0x9C, 0x58, 0xC3};        /* pushfd; pop eax; ret */
const uint8_t rom_native_setim[3] = {0x50, 0x9D, 0xC3};        /* push eax; popfd; ret */
const uint8_t rom_native_rdmsr[5] = {0x89, 0xC1, 0x0F, 0x32, 0xC3}; /* mov ecx, eax; rdmsr; ret */
/* WRMSR(msr EAX, lo EDX, hi ECX) -> ECX = msr, EAX = lo, EDX = hi: xchg eax,ecx; xchg eax,edx; wrmsr; ret */
const uint8_t rom_native_wrmsr[5] = {0x91, 0x92, 0x0F, 0x30, 0xC3};
const uint8_t rom_native_setpxe[3] = {0x89, 0x02, 0xC3}; /* mov [edx], eax; ret */
/* PAE: high half first, then the low half with the present bit, as Linux's native set_pte. */
/* SetPxELong(lo, hi, ptr): the order of Linux's native PAE code (pte_clear: low word first;
 * set_pte: high word first), so an entry goes not-present before its frame changes and becomes
 * present only with its whole frame: a new low word with P=0 is stored first, else the high word.
 *   test al,1; jnz .h; mov [ecx],eax; mov [ecx+4],edx; ret; .h: mov [ecx+4],edx; mov [ecx],eax; ret */
const uint8_t rom_native_setpxelong[16] = {0xA8, 0x01, 0x75, 0x06, 0x89, 0x01, 0x89, 0x51,
                                           0x04, 0xC3, 0x89, 0x51, 0x04, 0x89, 0x01, 0xC3};
const uint8_t rom_native_invlpg[4] = {0x0F, 0x01, 0x38, 0xC3}; /* invlpg [eax]; ret */
/* FlushTLB(flags): flag 2 also drops global entries by toggling CR4.PGE when it is set;
 * then reload CR3.
 *   test al,2; jz .l; mov eax,cr4; test al,0x80; jz .l; xor al,0x80; mov cr4,eax;
 *   or al,0x80; mov cr4,eax; .l: mov eax,cr3; mov cr3,eax; ret */
const uint8_t rom_native_flushtlb[28] = {0xA8, 0x02, 0x74, 0x11, 0x0F, 0x20, 0xE0, 0xA8, 0x80, 0x74,
                                         0x0A, 0x34, 0x80, 0x0F, 0x22, 0xE0, 0x0C, 0x80, 0x0F, 0x22,
                                         0xE0, 0x0F, 0x20, 0xD8, 0x0F, 0x22, 0xD8, 0xC3};
/* SetIOPLMask(mask): pushfd; and dword [esp],0xFFFFCFFF; and eax,0x3000; or [esp],eax; popfd; ret */
const uint8_t rom_native_setiopl[18] = {0x9C, 0x81, 0x24, 0x24, 0xFF, 0xCF, 0xFF, 0xFF, 0x25,
                                        0x00, 0x30, 0x00, 0x00, 0x09, 0x04, 0x24, 0x9D, 0xC3};
const uint8_t rom_native_iret[1] = {0xCF};              /* iret: the frame is on top (JUMP_REL) */
const uint8_t rom_native_sysexit[3] = {0xFB, 0x0F, 0x35}; /* sti; sysexit (EDX = eip, ECX = esp) */
