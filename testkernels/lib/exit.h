/* Ending a test run: QEMU's isa-debug-exit device (and vmiemu's exit port) at 0xF4.
 * QEMU exits with status (value << 1) | 1, so PASS -> 33 and FAIL -> 35. */
#ifndef TK_EXIT_H
#define TK_EXIT_H

#include <stdint.h>

#define TEST_EXIT_PORT 0xF4
#define TEST_PASS 0x10 /* host exit status 33 */
#define TEST_FAIL 0x11 /* host exit status 35 */

/* Write `code` to the exit port; if nothing is listening there, stop the CPU for good. */
_Noreturn void test_exit(uint32_t code);

#endif
