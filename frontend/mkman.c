/* Build-time tool: writes the man page vmiemu(1) from the option table (frontend/options.c), so
 * the page and --help cannot disagree. Usage: mkman OUTPUT */
#include <stdio.h>

#include "frontend/options.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkman OUTPUT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    options_man(f);
    if (ferror(f) | (fclose(f) != 0)) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
