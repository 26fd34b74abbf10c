#include "position.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* One entry per topic partition that has shown a full snapshot row. A
 * pipeline has tens to thousands of partitions; a linear scan with the
 * last hit cached is enough next to decoding. */
typedef struct snapshot_mark {
    char *topic;
    int32_t partition;
    int64_t lsn;
} snapshot_mark_t;

struct cdc_position_tracker {
    snapshot_mark_t *marks;
    size_t count, capacity;
    size_t last; /* index of the last mark found */
};

cdc_position_tracker_t *cdc_position_tracker_new(void)
{
    return calloc(1, sizeof(cdc_position_tracker_t));
}

void cdc_position_tracker_destroy(cdc_position_tracker_t *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->count; i++) free(t->marks[i].topic);
    free(t->marks);
    free(t);
}

static snapshot_mark_t *find_mark(const cdc_position_tracker_t *t, const char *topic,
                                  int32_t partition)
{
    if (!topic) topic = "";
    if (t->last < t->count && t->marks[t->last].partition == partition &&
        strcmp(t->marks[t->last].topic, topic) == 0)
        return &t->marks[t->last];
    for (size_t i = 0; i < t->count; i++) {
        if (t->marks[i].partition == partition && strcmp(t->marks[i].topic, topic) == 0) {
            ((cdc_position_tracker_t *)t)->last = i;
            return &t->marks[i];
        }
    }
    return NULL;
}

int cdc_position_note_snapshot(cdc_position_tracker_t *t, const char *topic,
                               int32_t partition, int64_t lsn)
{
    snapshot_mark_t *m = find_mark(t, topic, partition);
    if (m) {
        if (lsn > m->lsn) m->lsn = lsn;
        return 0;
    }
    snapshot_mark_t *marks = cdc_grow(t->marks, t->count, &t->capacity, sizeof *marks, 16);
    if (!marks) return -1;
    t->marks = marks;
    char *copy = strdup(topic ? topic : "");
    if (!copy) return -1;
    t->marks[t->count] = (snapshot_mark_t){copy, partition, lsn};
    t->last = t->count++;
    return 0;
}

void cdc_position_forget(cdc_position_tracker_t *t, const char *topic, int32_t partition)
{
    snapshot_mark_t *m = find_mark(t, topic, partition);
    if (!m) return;
    free(m->topic);
    *m = t->marks[--t->count];
    t->last = 0;
}

bool cdc_position_snapshot_lsn(const cdc_position_tracker_t *t, const char *topic,
                               int32_t partition, int64_t *lsn)
{
    const snapshot_mark_t *m = find_mark(t, topic, partition);
    if (m) *lsn = m->lsn;
    return m != NULL;
}

static int64_t plus(int64_t v, int64_t d)
{
    return v > INT64_MAX - d ? INT64_MAX : v + d;
}

void cdc_position_compute(cdc_event_t *ev, bool has_snapshot_lsn, int64_t snapshot_lsn)
{
    ev->position_inclusive = false;
    if (!ev->has_position || !ev->commit_ordered) return;
    int64_t lsn = ev->change_lsn;
    if (ev->snapshot_kind == CDC_SNAPSHOT_FULL) {
        ev->position = lsn;
        return;
    }
    if (ev->snapshot_kind == CDC_SNAPSHOT_INCREMENTAL) {
        /* A chunk row is emitted when its window closes, at the stream's
         * position then: every transaction after it commits later. */
        ev->position = ev->has_last_commit && ev->last_commit_lsn > lsn ? ev->last_commit_lsn
                                                                        : lsn;
        return;
    }
    int64_t anchor;
    if (ev->has_last_commit) anchor = ev->last_commit_lsn;
    else if (has_snapshot_lsn) anchor = snapshot_lsn;
    else anchor = lsn;
    if (lsn >= anchor) {
        ev->position = plus(lsn, 2);
    } else {
        ev->position = plus(anchor, 1);
        ev->position_inclusive = true;
    }
}

int cdc_position_resolve(cdc_position_tracker_t *t, cdc_event_t *ev, bool given,
                         bool *has_snapshot_lsn, int64_t *snapshot_lsn)
{
    if (!given) {
        if (ev->has_position && ev->commit_ordered && ev->snapshot_kind == CDC_SNAPSHOT_FULL &&
            cdc_position_note_snapshot(t, ev->topic, ev->partition, ev->change_lsn) != 0)
            return -1;
        *has_snapshot_lsn = cdc_position_snapshot_lsn(t, ev->topic, ev->partition, snapshot_lsn);
    }
    cdc_position_compute(ev, *has_snapshot_lsn && !ev->has_last_commit, *snapshot_lsn);
    return 0;
}

bool cdc_position_applies(int64_t position, bool inclusive, int64_t stored)
{
    return position > stored || (inclusive && position == stored);
}
