/* Unicorn's stop check after each guest memory access, and vmiemu's switch for it (exitcheck.c). */
#ifndef VMIEMU_EXITCHECK_H
#define VMIEMU_EXITCHECK_H

/* Offset of Unicorn 2.1.4's private uc_struct.no_exit_request, read from its machine code; -1
 * where that code is not the one expected (the checks then stay on). */
long vcpu_exit_check_offset(void);

#endif
