/* Interrupts and exceptions. boot.S calls trap_init before kmain: every vector gets a
 * catch-all that prints one line describing the trap on the serial port and ends the test
 * with TEST_FAIL (no silent triple fault). Kernels then install C handlers for the vectors
 * they expect; a handler may edit the frame (EIP, EFLAGS, registers) and returns through
 * VMI IRET. Gates are written with WriteIDTEntry once the IDT has been loaded with SetIDT
 * (trap_load, after vmi_init); before that, trap_init's plain stores and lidt. */
#ifndef TK_TRAP_H
#define TK_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* Layout built by trap.S: data segments, pushal, vector and error code, then the CPU's
 * frame; user_esp/user_ss only when the CPU switched stacks (entry from an outer ring). */
struct trap_frame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t user_esp, user_ss;
};

typedef void (*trap_handler)(struct trap_frame *f);

#define TRAP_DE 0
#define TRAP_DB 1
#define TRAP_BP 3
#define TRAP_OF 4
#define TRAP_BR 5
#define TRAP_UD 6
#define TRAP_NM 7
#define TRAP_DF 8
#define TRAP_TS 10
#define TRAP_NP 11
#define TRAP_SS 12
#define TRAP_GP 13
#define TRAP_PF 14
#define TRAP_AC 17

#define EFLAGS_TF 0x100u
#define EFLAGS_IF 0x200u
#define EFLAGS_NT 0x4000u
#define EFLAGS_AC 0x40000u

void trap_init(void);

/* Load the IDT with SetIDT (at its current linear address). Call after vmi_init. */
void trap_load(void);

/* Reload the IDT at its alias idt + offset (SetIDT) and write gates through that alias from
 * now on. */
void trap_move(uint32_t offset);

/* Run `fn` for `vector` (NULL: back to the catch-all) through a 32-bit interrupt gate of
 * privilege `dpl` (3: reachable by `int n` from ring 3), written with WriteIDTEntry. */
void trap_set_handler(unsigned vector, trap_handler fn, unsigned dpl);

/* Write `vector`'s gate again with WriteIDTEntry: present or not (a not-present gate makes
 * the CPU raise #NP instead). */
void trap_set_present(unsigned vector, bool present);

/* The gate the library wrote for `vector` (what WriteIDTEntry was given), and the address
 * of the entry stub that reports `vector` to trap_dispatch. */
uint64_t trap_gate(unsigned vector);
uint32_t trap_stub(unsigned vector);

/* The IDT's linear address and limit as the library loaded them. */
uint32_t trap_idt_linear(void);
uint16_t trap_idt_limit(void);

/* The catch-all: print the frame and exit with TEST_FAIL. */
_Noreturn void trap_report(const struct trap_frame *f);

#endif
