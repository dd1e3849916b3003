/*
 * features — the build configuration (generated config.h) and a way to test
 * it in ordinary C: IS_ENABLED(CONFIG_X) is 1 when Kconfig set X to y and 0
 * when it is unset, so code can say `if (IS_ENABLED(CONFIG_DRIFT))` and the
 * compiler drops what is compiled out. Modules that can be compiled out
 * give their header an inline fallback instead, so call sites carry no
 * #ifdef at all.
 */
#ifndef OUTPOST_FEATURES_H
#define OUTPOST_FEATURES_H

#include "kconfig.h"

#define FEATURE_PROBE_1 0,
#define FEATURE_SECOND(ignored, val, ...) val
#define FEATURE_IS(probe) FEATURE_SECOND(probe 1, 0, 0)
#define FEATURE_PASTE(value) FEATURE_IS(FEATURE_PROBE_##value)
#define IS_ENABLED(option) FEATURE_PASTE(option)

#endif
