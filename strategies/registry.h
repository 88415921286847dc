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

/*
 * The built-in a Greenplum type letter names ('F' full, 'I' incremental, 'D' differential: -F,
 * -i line prefixes), or NULL when this build has none. 'I' is also the default.
 */
const struct strategy *strategy_for_type(char type);

/* Built-in strategies (defined in their own directories). */
extern const struct strategy strategy_full;
extern const struct strategy strategy_incremental;
extern const struct strategy strategy_differential;

#endif
