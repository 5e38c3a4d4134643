/* Where Unicorn keeps the exception state it never exposes.
 *
 * Unicorn reports exceptions to a hook but never delivers them, so QEMU's "previous exception"
 * field is never reset: after one #GP or #PF the next is reported as #DF and the third stops
 * emulation silently. The error code of #GP/#PF and whether an exception came from an `int`
 * instruction are not exposed either. All three live in the CPU state that uc_context_save
 * copies; a calibration run on scratch engines (known #GPs with error codes 0x98 and 0xA0, and an
 * `int 0x41`) finds their offsets by diffing the saved contexts. */
#ifndef VMIEMU_CALIBRATE_H
#define VMIEMU_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "mmu/error.h"

typedef struct vcpu_layout {
    size_t context_size;   /* uc_context_size() */
    size_t error_code;     /* int32: error code of the last exception */
    size_t is_int;         /* int32: 1 if raised by int n / int3 / into */
    size_t old_exception;  /* int32: previous contributory exception, -1 = none */
} vcpu_layout;

/* Find the offsets once per process; refuses (false, message) unless each field is found
 * exactly once. */
VM_MUST_CHECK bool vcpu_calibrate(vcpu_layout *out, vm_error *err);

#endif
