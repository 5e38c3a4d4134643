/* The debugger shell's command parser, every command with any arguments, against a running
 * machine (hello, snapshots every 1000 instructions so the reverse commands and goto work).
 * The input is a script: one command a line, at most MAX_LINES. `source` is left out: it reads
 * host files by name (a script of the same lines is what these inputs already are); so is
 * `screenshot`, which writes one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/shell.h"
#include "fuzzutil.h"

#define MAX_LINES 32
#define MAX_INSNS 200000u /* hello ends by itself at about 96 000 */

static bool touches_host_files(const char *line)
{
    line += strspn(line, " \t\r");
    return strncmp(line, "source", 6) == 0 || strncmp(line, "screenshot", 10) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *out;
    if (!out && !(out = fopen("/dev/null", "w")))
        abort();
    static machine m;
    fz_boot_hello(&m, 4, 1000, MAX_INSNS);
    shell sh;
    vm_error err = {0};
    if (!shell_init(&sh, &m, out, &err))
        abort();
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    char *save = NULL;
    unsigned lines = 0;
    for (char *line = strtok_r(text, "\n", &save); line && lines < MAX_LINES && !sh.quit;
         line = strtok_r(NULL, "\n", &save), lines++) {
        if (touches_host_files(line))
            continue;
        memset(&err, 0, sizeof err);
        if (!shell_exec(&sh, line, &err))
            continue; /* a refused command is an answer too: go on with the next */
    }
    free(text);
    shell_free(&sh);
    machine_free(&m);
    return 0;
}
