/* The whole vmiemu command: parse, boot, run, report. Returns the process exit status. */
#ifndef VMIEMU_MAIN_H
#define VMIEMU_MAIN_H

int vmiemu_main(int argc, char **argv);

#endif
