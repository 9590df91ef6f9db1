#include <stdio.h>
#include "octet/octet.h"
int main(void) { printf("%s\n", oct_version_string()); return 0; }
