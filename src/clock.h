/* clock — the time in milliseconds, from the two clocks we read.
 *
 * Deadlines, timeouts and ages use the monotonic clock: a wall-clock jump
 * never stretches or cuts them. Only what is compared with another
 * machine's wall clock (Kafka record timestamps, metrics timestamps) uses
 * the real-time clock. */
#ifndef CDC_CLOCK_H
#define CDC_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: only differences between two readings mean
 * anything. */
int64_t cdc_clock_mono_ms(void);

/* CLOCK_REALTIME in ms since the Unix epoch. */
int64_t cdc_clock_wall_ms(void);

#endif
