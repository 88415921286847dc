/*
 * inject: named pause points for the crash tests. With SEGRECOVER_INJECT_PAUSE=<name> (or
 * <name>@<tag>, to pause only the process whose tag is <tag>) in the environment, the process
 * writes its PID to $SEGRECOVER_INJECT_FILE and stops itself (SIGSTOP) when it reaches that
 * point, so that a test can kill it exactly there.
 */
#ifndef SEGRECOVER_INJECT_H
#define SEGRECOVER_INJECT_H

void inject_point(const char *name);
/* This process's tag (gpsegrecovery: its dbid); copied. */
void inject_set_tag(const char *tag);
/* Called just before a pause (NULL: nothing), so that what the process holds back is out first. */
void inject_set_before_pause(void (*fn)(void *arg), void *arg);

#endif
