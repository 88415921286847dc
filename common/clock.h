/*
 * clock: the monotonic clock in seconds, for durations, rates and deadlines (never for dates).
 */
#ifndef SEGRECOVER_CLOCK_H
#define SEGRECOVER_CLOCK_H

double now_seconds(void);

#endif
