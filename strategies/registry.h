/*
 * registry: find a strategy by name: a built-in one, or an external one loaded from a shared
 * object (a path, or strategy_<name>.so in $SEGRECOVER_STRATEGY_PATH or <prefix>/lib/segrecover).
 */
#ifndef SEGRECOVER_REGISTRY_H
#define SEGRECOVER_REGISTRY_H

#include <stdbool.h>

#include "strategy.h"

/* The host services handed to loaded plugins; set once by the program before any lookup. */
void strategy_registry_set_host(const struct strategy_host *host);

const struct strategy *strategy_find(const char *name, struct errbuf *err);
/* Names of the built-ins, NULL-terminated. */
const char *const *strategy_builtin_names(void);
bool strategy_is_builtin(const char *name);

/* Built-in strategies (defined in their own directories). */
extern const struct strategy strategy_full;
extern const struct strategy strategy_incremental;

#endif
