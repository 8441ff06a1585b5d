#include "internal.h"

const char *ovica_version_string(void) { return OVICA_VERSION_STRING; }
int ovica_version_number(void) { return OVICA_VERSION_NUMBER; }
