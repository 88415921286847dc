#include "full/syncer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "xalloc.h"

#define SYNCER_MAX_THREADS 8
#define SYNCER_QUEUE 128 /* files in flight: bounds open descriptors */

enum job_kind { JOB_FD, JOB_DIR };

struct job {
	enum job_kind kind;
	int fd;     /* JOB_FD */
	char *path; /* malloc'd */
};

struct full_syncer {
	pthread_mutex_t lock;
	pthread_cond_t have_job;  /* workers wait for this */
	pthread_cond_t have_room; /* producers and finish() wait for this */
	struct job queue[SYNCER_QUEUE];
	unsigned head, count;
	unsigned busy;            /* jobs taken by a worker and not yet done */
	bool stopping;
	bool failed;
	struct errbuf error;      /* the first failure */
	pthread_t threads[SYNCER_MAX_THREADS];
	unsigned nthreads;
	char **dirs;
	size_t ndirs, dirs_alloc;
	unsigned long files_done, dirs_done;
	double finish_seconds;
};

void full_writeback(int fd, off_t offset, off_t len)
{
	/* Only a hint: a file system that cannot do it writes back later, and fsync still waits. */
	if (len > 0)
		(void) sync_file_range(fd, offset, len, SYNC_FILE_RANGE_WRITE);
}

static int run_job(struct job *j, struct errbuf *err)
{
	int rc, fd = j->fd;

	if (j->kind != JOB_FD) {
		/* The roots may be reached through a symlink the DBA made: follow it for directories. */
		fd = open(j->path, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
		if (fd < 0)
			return errbuf_set_errno(err, errno, "cannot open \"%s\" to fsync it", j->path);
	}
	rc = fsync_fd(fd, j->kind == JOB_DIR, j->path, err);
	close(fd);
	return rc;
}

static void job_done(struct full_syncer *s, struct job *j, int rc, const struct errbuf *err)
{
	if (rc != 0 && !s->failed) {
		s->failed = true;
		s->error = *err;
	}
	if (j->kind == JOB_DIR)
		s->dirs_done++;
	else
		s->files_done++;
	free(j->path);
}

static void *worker(void *arg)
{
	struct full_syncer *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct job j;
		struct errbuf err;
		int rc;

		while (s->count == 0 && !s->stopping)
			pthread_cond_wait(&s->have_job, &s->lock);
		if (s->count == 0)
			break;
		j = s->queue[s->head];
		s->head = (s->head + 1) % SYNCER_QUEUE;
		s->count--;
		s->busy++;
		pthread_mutex_unlock(&s->lock);

		rc = run_job(&j, &err);

		pthread_mutex_lock(&s->lock);
		job_done(s, &j, rc, &err);
		s->busy--;
		pthread_cond_broadcast(&s->have_room);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct full_syncer *full_syncer_new(unsigned threads)
{
	struct full_syncer *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->have_job, NULL);
	pthread_cond_init(&s->have_room, NULL);
	if (threads > SYNCER_MAX_THREADS)
		threads = SYNCER_MAX_THREADS;
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&s->threads[s->nthreads], NULL, worker, s) != 0)
			break;
		s->nthreads++;
	}
	return s;
}

/* Queue a job, or run it here when there are no threads. Takes ownership of j->fd and j->path. */
static int submit(struct full_syncer *s, struct job *j, struct errbuf *err)
{
	if (s->nthreads == 0) {
		struct errbuf jerr;
		int rc = run_job(j, &jerr);

		job_done(s, j, rc, &jerr);
	} else {
		pthread_mutex_lock(&s->lock);
		while (s->count == SYNCER_QUEUE && !s->failed)
			pthread_cond_wait(&s->have_room, &s->lock);
		if (!s->failed) {
			s->queue[(s->head + s->count) % SYNCER_QUEUE] = *j;
			s->count++;
			j = NULL;
			pthread_cond_signal(&s->have_job);
		}
		pthread_mutex_unlock(&s->lock);
		if (j != NULL) { /* refused: an earlier sync failed */
			if (j->kind == JOB_FD)
				close(j->fd);
			free(j->path);
		}
	}
	return full_syncer_failed(s, err) ? -1 : 0;
}

int full_syncer_file(struct full_syncer *s, int fd, const char *path, struct errbuf *err)
{
	struct job j = { .kind = JOB_FD, .fd = fd, .path = xstrdup(path) };

	return submit(s, &j, err);
}

void full_syncer_dir(struct full_syncer *s, const char *path)
{
	/* Directories arrive in runs (the same parent again and again): skip the obvious repeats. */
	if (s->ndirs > 0 && strcmp(s->dirs[s->ndirs - 1], path) == 0)
		return;
	if (s->ndirs == s->dirs_alloc) {
		s->dirs_alloc = s->dirs_alloc ? 2 * s->dirs_alloc : 64;
		s->dirs = xrealloc(s->dirs, s->dirs_alloc * sizeof(*s->dirs));
	}
	s->dirs[s->ndirs++] = xstrdup(path);
}

bool full_syncer_failed(struct full_syncer *s, struct errbuf *err)
{
	bool failed;

	pthread_mutex_lock(&s->lock);
	failed = s->failed;
	if (failed && err)
		*err = s->error;
	pthread_mutex_unlock(&s->lock);
	return failed;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Wait until every queued job is done. */
static void drain(struct full_syncer *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->count > 0 || s->busy > 0)
		pthread_cond_wait(&s->have_room, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

static void stop_threads(struct full_syncer *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->have_job);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	s->nthreads = 0;
}

int full_syncer_finish(struct full_syncer *s, struct errbuf *err)
{
	double start = now_seconds();
	size_t n = 0;

	/* Files first: a directory is synced after every entry in it exists for good. */
	drain(s);
	if (s->ndirs > 0) {
		qsort(s->dirs, s->ndirs, sizeof(*s->dirs), cmp_str);
		for (size_t i = 0; i < s->ndirs; i++) {
			if (n > 0 && strcmp(s->dirs[n - 1], s->dirs[i]) == 0) {
				free(s->dirs[i]);
				continue;
			}
			s->dirs[n++] = s->dirs[i];
		}
		s->ndirs = n;
	}
	for (size_t i = 0; i < s->ndirs; i++) {
		struct job j = { .kind = JOB_DIR, .fd = -1, .path = s->dirs[i] };

		s->dirs[i] = NULL;
		if (submit(s, &j, err) != 0)
			break;
	}
	drain(s);
	stop_threads(s);
	s->finish_seconds += now_seconds() - start;
	return full_syncer_failed(s, err) ? -1 : 0;
}

void full_syncer_free(struct full_syncer *s)
{
	if (s == NULL)
		return;
	stop_threads(s); /* workers finish what is queued, so every descriptor is closed */
	for (size_t i = 0; i < s->ndirs; i++)
		free(s->dirs[i]);
	free(s->dirs);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->have_job);
	pthread_cond_destroy(&s->have_room);
	free(s);
}

void full_syncer_get_stats(const struct full_syncer *s, struct full_syncer_stats *st)
{
	st->files = s->files_done;
	st->dirs = s->dirs_done;
	st->finish_seconds = s->finish_seconds;
}
