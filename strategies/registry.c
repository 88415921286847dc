#include "registry.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "xalloc.h"

static const struct strategy *const builtins[] = {
	&strategy_full,
	&strategy_incremental,
	&strategy_differential,
};


static void default_log(int level, const char *fmt, va_list ap)
{
	log_vmsg((enum log_level) level, fmt, ap);
}

static void default_progress(struct recovery *r, uint64_t done, uint64_t total)
{
	(void) r;
	(void) done;
	(void) total;
}

static void default_phase(struct recovery *r, const char *name)
{
	(void) r;
	(void) name;
}

/* Until a program sets its own (gpsegrecovery does), plugins get logging and lookups only. */
static const struct strategy_host default_host = {
	.log = default_log,
	.progress = default_progress,
	.phase = default_phase,
	.find = strategy_find,
};

static const struct strategy_host *plugin_host = &default_host;

void strategy_registry_set_host(const struct strategy_host *host)
{
	plugin_host = host;
}

const struct strategy *strategy_for_type(char type)
{
	switch (type) {
	case 'F':
		return &strategy_full;
	case 'I':
		return &strategy_incremental;
	case 'D':
		return &strategy_differential;
	default:
		return NULL;
	}
}

static bool valid_plugin_name(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* Candidate paths for strategy NAME: $SEGRECOVER_STRATEGY_PATH (colon list), then <exe>/../lib/segrecover. */
static char *find_plugin_file(const char *name)
{
	const char *env = getenv("SEGRECOVER_STRATEGY_PATH");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && env[0]) {
		char *copy = xstrdup(env), *save = NULL;

		for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
			char *file = xasprintf("%s/strategy_%s.so", dir, name);

			if (access(file, R_OK) == 0) {
				free(copy);
				return file;
			}
			free(file);
		}
		free(copy);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			char *file;

			*slash = '\0';
			file = xasprintf("%s/../lib/segrecover/strategy_%s.so", exe, name);
			if (access(file, R_OK) == 0)
				return file;
			free(file);
		}
	}
	return NULL;
}

static const struct strategy *load_plugin(const char *name, struct errbuf *err)
{
	char *file = strchr(name, '/') ? xstrdup(name) : find_plugin_file(name);
	void *handle;
	strategy_plugin_fn entry;
	const struct strategy *s;

	if (file == NULL) {
		char names[256] = "";

		for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
			size_t len = strlen(names);

			snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "", builtins[i]->name);
		}
		errbuf_set(err, "unknown recovery strategy \"%s\": not a built-in (%s) and no "
				"strategy_%s.so in $SEGRECOVER_STRATEGY_PATH or <install "
				"prefix>/lib/segrecover",
			   name, names, name);
		return NULL;
	}
	/* The object stays loaded for the life of the process: its strategy struct lives in it. */
	handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		errbuf_set(err, "cannot load recovery strategy \"%s\" from %s: %s", name, file, dlerror());
		free(file);
		return NULL;
	}
	*(void **) (&entry) = dlsym(handle, STRATEGY_PLUGIN_SYMBOL);
	if (entry == NULL) {
		errbuf_set(err, "%s does not export %s(): not a segrecover strategy", file,
			   STRATEGY_PLUGIN_SYMBOL);
		free(file);
		return NULL;
	}
	s = entry(plugin_host, err);
	if (s == NULL) {
		errbuf_prefix(err, "strategy plugin %s refused to load", file);
		free(file);
		return NULL;
	}
	if (s->abi_version != STRATEGY_ABI_VERSION || s->name == NULL || s->label == NULL ||
	    s->run == NULL || s->check == NULL) {
		errbuf_set(err, "%s is built for strategy interface version %u (this is %u) or lacks "
				"name/label/check/run",
			   file, s->abi_version, STRATEGY_ABI_VERSION);
		free(file);
		return NULL;
	}
	free(file);
	return s;
}

const struct strategy *strategy_find(const char *name, struct errbuf *err)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	if (!strchr(name, '/') && !valid_plugin_name(name))
		return (void) errbuf_set(err, "invalid strategy name \"%s\": use letters, digits, _ "
					      "and -, or a path to a shared object",
				       name),
		       NULL;
	return load_plugin(name, err);
}

void strategy_log(const struct recovery *r, int level, const char *fmt, ...)
{
	va_list ap;

	if (r->host == NULL || r->host->log == NULL)
		return;
	va_start(ap, fmt);
	r->host->log(level, fmt, ap);
	va_end(ap);
}
