/* The files a run writes (--record, --log, --trace-out, --serial file:, --screenshot-at) must
 * not be the files it reads (KERNEL, --initrd, --replay, --symbols, -x) nor one another:
 * `--replay run.rec --trace-out run.rec` would empty the record before it is read. */
#ifndef VMIEMU_OUTPATHS_H
#define VMIEMU_OUTPATHS_H

#include "frontend/options.h"
#include "mmu/error.h"

/* false with a message naming both options if two of them are the same file. */
VM_MUST_CHECK bool outpaths_check(const options *o, vm_error *err);

/* A file the shell is about to write (`screenshot FILE`; `what` names the command): false
 * with a message if it is one of the run's inputs or outputs (another screenshot's file is
 * fine: the last one stays). */
VM_MUST_CHECK bool outpaths_check_write(const options *o, const char *what, const char *path, vm_error *err);

#endif
