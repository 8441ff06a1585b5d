/* A stand-in library of another major version, for the binding's import
 * check: it exports only the two version functions. */
const char *ovica_version_string(void) { return "7.0.0"; }
int ovica_version_number(void) { return 70000; }
