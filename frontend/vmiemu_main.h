/* The whole vmiemu command: parse, boot, run, report. Returns the process exit status. */
#ifndef VMIEMU_MAIN_H
#define VMIEMU_MAIN_H

int vmiemu_main(int argc, char **argv);

struct options;
/* Run parsed options (a replay takes its other options from the record): what vmiemu_main does
 * after parsing; subcommands that build their own options (query) use it. */
int vmiemu_run_options(struct options *o, const char *prog);

#endif
