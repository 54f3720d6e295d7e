#ifndef AMIBRIDGE_CLIBFUZZER_SHIM_H
#define AMIBRIDGE_CLIBFUZZER_SHIM_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, run from a main of our own: SwiftPM renames an executable's entry point to
/// `<Module>_main` and links `main` to it, so libFuzzer's own `main` is never used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
