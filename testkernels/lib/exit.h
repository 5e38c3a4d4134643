/* Ending a test run: QEMU's isa-debug-exit device (and vmiemu's exit port) at 0xF4.
 * QEMU exits with status (value << 1) | 1, so PASS -> 33 and FAIL -> 35. Bochs has no such
 * device: there the code goes out as text on port 0xE9 and "Shutdown" on port 0x8900 ends
 * the run (bench/bochs-run.sh turns the text into the same status). */
#ifndef TK_EXIT_H
#define TK_EXIT_H

#include <stdint.h>

#define TEST_EXIT_PORT 0xF4
#define TEST_E9_PORT 0xE9               /* Bochs port_e9_hack, QEMU -debugcon: text out */
#define TEST_BOCHS_SHUTDOWN_PORT 0x8900 /* Bochs: "Shutdown" written here ends the run */
#define TEST_PASS 0x10 /* host exit status 33 */
#define TEST_FAIL 0x11 /* host exit status 35 */

/* Write `code` to the exit port; if nothing is listening there, report it on port 0xE9,
 * power Bochs off, and failing that stop the CPU for good. */
_Noreturn void test_exit(uint32_t code);

#endif
