/* fixture.h — loads the Debezium messages captured by tests/data/capture.
 *
 * Layout: tests/data/debezium/schemas/<id>.json holds each schema as the
 * registry served it; tests/data/debezium/<set>/<NNNN>.key and .value hold
 * each record's bytes as Kafka delivered them (no .value file: a
 * tombstone). Used by the decode unit test and the decode benchmark. */
#ifndef CDC_FIXTURE_H
#define CDC_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

#define FIXTURE_ROOT "tests/data/debezium"

typedef struct fixture_message {
    unsigned char *key, *value; /* NULL when absent */
    size_t key_len, value_len;
} fixture_message_t;

typedef struct fixture_set {
    fixture_message_t *messages;
    size_t count;
} fixture_set_t;

static inline unsigned char *fixture_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Loads every schema into the (offline) registry; returns how many. */
static inline int fixture_load_schemas(cdc_registry_t *registry)
{
    DIR *dir = opendir(FIXTURE_ROOT "/schemas");
    if (!dir) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        int id;
        char path[512];
        if (sscanf(de->d_name, "%d.json", &id) != 1) continue;
        snprintf(path, sizeof path, FIXTURE_ROOT "/schemas/%s", de->d_name);
        size_t len;
        char *json = (char *)fixture_read(path, &len);
        if (json && cdc_registry_put(registry, id, json) == 0) n++;
        free(json);
    }
    closedir(dir);
    return n;
}

/* Loads messages 0000, 0001, ... of a set until one is missing. */
static inline fixture_set_t fixture_load_set(const char *set)
{
    fixture_set_t s = {NULL, 0};
    for (size_t i = 0;; i++) {
        char path[512];
        fixture_message_t m = {0};
        snprintf(path, sizeof path, FIXTURE_ROOT "/%s/%04zu.key", set, i);
        m.key = fixture_read(path, &m.key_len);
        snprintf(path, sizeof path, FIXTURE_ROOT "/%s/%04zu.value", set, i);
        m.value = fixture_read(path, &m.value_len);
        if (!m.key && !m.value) break;
        s.messages = realloc(s.messages, (s.count + 1) * sizeof *s.messages);
        s.messages[s.count++] = m;
    }
    return s;
}

static inline void fixture_free_set(fixture_set_t *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->messages[i].key);
        free(s->messages[i].value);
    }
    free(s->messages);
    s->messages = NULL;
    s->count = 0;
}

#endif
