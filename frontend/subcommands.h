/* Subcommands of the vmiemu binary that read records instead of running a guest:
 * `vmiemu diff A.rec B.rec` and `vmiemu stats RECORD`. argv[0] is the subcommand's name. */
#ifndef VMIEMU_SUBCOMMANDS_H
#define VMIEMU_SUBCOMMANDS_H

/* Exit statuses of `vmiemu diff` (diff(1)'s): the same sequence, a difference, bad input. */
enum { DIFF_SAME = 0, DIFF_DIFFERENT = 1, DIFF_TROUBLE = 2 };

int vmiemu_diff(int argc, char **argv, const char *prog);
/* 0, or 2 for bad input (a missing or corrupt record, a bad option or symbol file). */
int vmiemu_stats(int argc, char **argv, const char *prog);

#endif
