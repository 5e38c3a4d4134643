#include "frontend/vmiemu_main.h"

int main(int argc, char **argv) { return vmiemu_main(argc, argv); }
