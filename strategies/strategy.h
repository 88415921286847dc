/*
 * strategy: the one plugin interface of the copy strategies (full, incremental, and external
 * ones loaded from shared objects), in the spirit of pg_rewind's rewind_source and
 * pg_basebackup's bbstreamer: a name, capability flags and three operations.
 */
#ifndef SEGRECOVER_STRATEGY_H
#define SEGRECOVER_STRATEGY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "errbuf.h"

#define STRATEGY_ABI_VERSION 3

enum strategy_caps {
	/* Can only repair the failed instance's own directory (not a new host/port/directory). */
	STRATEGY_IN_PLACE_ONLY = 1u << 0,
	/*
	 * Starts from an empty target: the caller wipes it first (invariant 5 checked there), after
	 * begin_changes. A strategy without this flag works on the target's own data and calls
	 * host->begin_changes itself before its first change (invariant 2).
	 */
	STRATEGY_EMPTY_TARGET = 1u << 1,
	/* Honours max_rate_kbps (gprecoverseg --max-rate). */
	STRATEGY_RATE_LIMITED = 1u << 2,
	/* With --fallback, a failure is retried in the same run with a full copy. */
	STRATEGY_FALLS_BACK = 1u << 3,
	/* Honours compression (gprecoverseg --compress): the source compresses what it sends. */
	STRATEGY_COMPRESSES = 1u << 4,
	/*
	 * estimate() reads about what run() reads before it copies (WAL, file lists): worth it
	 * only when someone reads the plan before it runs, so gprecoverseg -a skips it.
	 */
	STRATEGY_ESTIMATE_READS = 1u << 5,
};

struct recovery;

/* A helper a strategy runs next to the source data, and the pipes to talk to it. */
struct strategy_helper {
	int pid;     /* the local end: the process itself, or the ssh that runs it */
	int to_fd;   /* its standard input */
	int from_fd; /* its standard output */
};

/* What repairs a failed run; the agent reports it and each command words it. */
enum strategy_remedy {
	STRATEGY_REMEDY_RETRY = 0, /* fix the cause the error names, then run the same recovery again */
	STRATEGY_REMEDY_FULL,      /* the directory cannot be repaired in place: a full copy */
};

/* What gpsegrecovery offers every strategy, built-in or loaded: logging, progress, lookups. */
struct strategy_host {
	void (*log)(int level, const char *fmt, va_list ap); /* level: enum log_level */
	/* Bytes done out of total (total 0 = unknown); cheap to call often, it rate-limits itself. */
	void (*progress)(struct recovery *r, uint64_t done, uint64_t total);
	/* A named step ("checkpoint", "copy", "sync", ...), shown to the DBA. */
	void (*phase)(struct recovery *r, const char *name);
	/* Another strategy by name (a plugin may build on a built-in one). */
	const struct strategy *(*find)(const char *name, struct errbuf *err);
	/*
	 * Before the first change to the target (invariant 2): standby.signal and segrecover's
	 * in-progress marker, both durable. A directory so marked is repaired only by copying it
	 * again; the host clears the mark once the copy is complete and the server streams.
	 */
	int (*begin_changes)(struct recovery *r, struct errbuf *err);
	/*
	 * Start this strategy's helper on the source's host (`gpsegrecovery helper`, through ssh
	 * when the source is remote) with ARGS (NULL-terminated), to read the source data where it
	 * lies; the strategy talks to it through h's pipes. finish_helper closes them, waits, and
	 * gives its exit status (0 fine).
	 */
	int (*start_helper)(struct recovery *r, const char *const *args, struct strategy_helper *h,
			    struct errbuf *err);
	int (*finish_helper)(struct strategy_helper *h, struct errbuf *err);
};

/* One segment's recovery, as gpsegrecovery on the target host sees it. */
struct recovery {
	int dbid;                    /* the instance being rebuilt */
	int content;
	const char *target_datadir;  /* on this host; exists (possibly empty) when run() starts */
	int target_port;
	int source_dbid;             /* the acting primary of the content */
	const char *source_host;     /* address to connect to */
	int source_port;
	const char *source_datadir;  /* as the catalog records it, for messages and path mapping */
	long max_rate_kbps;          /* 0: unlimited */
	const char *compression;     /* "lz4" or "zstd": the source compresses the copy; NULL: not */
	const struct strategy_host *host;
	void *host_data;             /* the host's own state */
	uint64_t bytes_copied;       /* filled by run(): what crossed the network */
	uint64_t bytes_total;        /* filled by run() or estimate(): what it had to consider */
	enum strategy_remedy remedy; /* set by check() or run() when they fail */
};

struct strategy_estimate {
	uint64_t bytes; /* what run() would move */
	/*
	 * Added without an ABI change: the host zeroes the struct, and a plugin built before
	 * them leaves them so ("unknown").
	 */
	uint64_t replay_bytes; /* WAL the started mirror replays before it is consistent; 0 unknown */
	char method[112];      /* how, in a few words, for the plan; "" none */
	bool unknown;          /* nothing can be told before acting (method says why) */
};

struct strategy {
	unsigned abi_version; /* STRATEGY_ABI_VERSION */
	const char *name;     /* "full", "incremental", ...: what -i lines, --strategy and logs say */
	const char *label;    /* Greenplum's name of the type in plans and summaries: "Full", ... */
	unsigned caps;        /* enum strategy_caps */
	/* Preconditions, with no side effects; a clear error says what to do instead. */
	int (*check)(struct recovery *r, struct errbuf *err);
	/* Optional (NULL): bytes run() would move. */
	int (*estimate)(struct recovery *r, struct strategy_estimate *e, struct errbuf *err);
	/*
	 * Make the target a consistent copy that can start as a standby of the source and reach
	 * consistency by replaying WAL it can stream from the source. Every file it writes is
	 * fsynced before it returns. It does not write the standby configuration or start the
	 * server; the caller does that for every strategy.
	 */
	int (*run)(struct recovery *r, struct errbuf *err);
	/*
	 * Optional: the helper's body, run on the source's host by `gpsegrecovery helper` (see
	 * strategy_host.start_helper): SOURCE_DATADIR is the source's data directory, ARGS what
	 * run() passed; it reads IN_FD and writes OUT_FD. Returns 0, or -1 with err.
	 */
	int (*helper)(const char *source_datadir, const char *const *args, int in_fd, int out_fd,
		      struct errbuf *err);
};

/* A shared object exports this function; it returns its strategy (or NULL with err filled). */
#define STRATEGY_PLUGIN_SYMBOL "segrecover_strategy"
typedef const struct strategy *(*strategy_plugin_fn)(const struct strategy_host *host,
						     struct errbuf *err);

/* Convenience wrappers for strategies: log through the host. */
void strategy_log(const struct recovery *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
