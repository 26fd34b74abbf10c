/* position — the guard value of a change, ordered by what the source
 * committed.
 *
 * source.lsn is where a change was written to the WAL, not when its
 * transaction committed. Two streamed changes of one row agree in both
 * orders (the row lock makes the second writer wait for the first one's
 * commit), but a snapshot row does not: it carries the snapshot's LSN S,
 * and a transaction that was in flight at S, invisible to the snapshot and
 * streamed afterwards, has changes written below S. Compared by LSN alone,
 * those changes look older than the snapshot and are dropped.
 *
 * The position a sink stores is therefore built from three facts the
 * record carries (docs/decisions.md, "A position ordered by commit", has
 * the proof case by case):
 *   - a full snapshot row (source.snapshot true/first/last/...): S;
 *   - a streamed change whose source.sequence names the commit before its
 *     own transaction (its anchor A): written at or after A, its own LSN
 *     + 2; written before A, A + 1 and "inclusive" (an equal stored
 *     position does not make it stale: its transaction's other changes
 *     share it);
 *   - the first transaction streamed after a snapshot carries no such
 *     commit: its anchor is the highest snapshot LSN seen earlier in the
 *     same topic partition (Debezium emits a snapshot whole before it
 *     streams, and a row's snapshot record and its changes share a
 *     partition), so it sorts above the snapshot rows it follows.
 * Records that are not commit-ordered (another position.field, a flattened
 * value without __sequence and __snapshot) keep their raw position,
 * compared strictly.
 *
 * The tracker remembers, per topic partition, the highest snapshot LSN
 * seen; the engine resolves each record once, in partition order. */
#ifndef CDC_POSITION_H
#define CDC_POSITION_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

typedef struct cdc_position_tracker cdc_position_tracker_t;

/* NULL when out of memory. */
cdc_position_tracker_t *cdc_position_tracker_new(void);
void cdc_position_tracker_destroy(cdc_position_tracker_t *t);

/* Sets event->position and position_inclusive from what the record
 * carried. Unless `given`, notes a full snapshot row's LSN for its
 * partition and sets *has_snapshot_lsn and *snapshot_lsn to the partition's
 * (call once per record, in the partition's order); `given`: they are the
 * record's own (a DLQ header) and the tracker is left alone. Either way
 * they end as the snapshot LSN the record was ordered with. -1 when out of
 * memory (the event is then left as it was). */
int cdc_position_resolve(cdc_position_tracker_t *t, cdc_event_t *event, bool given,
                         bool *has_snapshot_lsn, int64_t *snapshot_lsn);

/* The highest snapshot LSN seen in the partition; false when none. */
bool cdc_position_snapshot_lsn(const cdc_position_tracker_t *t, const char *topic,
                               int32_t partition, int64_t *lsn);

/* Raises the partition's snapshot LSN to at least lsn (what a committed
 * offset's metadata remembered). -1 when out of memory. */
int cdc_position_note_snapshot(cdc_position_tracker_t *t, const char *topic,
                               int32_t partition, int64_t lsn);

/* Forgets a partition (revoked: its next owner, or our next assignment,
 * reads it from the committed offset's metadata). */
void cdc_position_forget(cdc_position_tracker_t *t, const char *topic, int32_t partition);

/* The rule itself, for a record whose partition has seen the snapshot LSN
 * snapshot_lsn (has_snapshot_lsn false: none). */
void cdc_position_compute(cdc_event_t *event, bool has_snapshot_lsn,
                          int64_t snapshot_lsn);

/* Does a change at `position` (inclusive or not) apply over `stored`? The
 * comparison every sink makes, in its own language. */
bool cdc_position_applies(int64_t position, bool inclusive, int64_t stored);

#endif
