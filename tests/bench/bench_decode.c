/* bench_decode — events/s of the decoder on captured Debezium events.
 *
 * Usage: build/bench_decode [SET] [SECONDS]   (from the repository root)
 * Decodes the captured messages of SET (default "orders") over and over on
 * one thread for about SECONDS (default 1) per run, five runs, and prints
 * each run's rate and the median. Each batch of 500 events shares an arena
 * that is reset afterwards, as in the pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../unit/fixture.h"
#include "decode.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *set_name = argc > 1 ? argv[1] : "orders";
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    cdc_registry_options_t opts = {0};
    cdc_registry_t *registry = cdc_registry_new(&opts, NULL, 0);
    if (fixture_load_schemas(registry) == 0) {
        fprintf(stderr, "no schemas under " FIXTURE_ROOT "/schemas (run from the repository root)\n");
        return 2;
    }
    fixture_set_t set = fixture_load_set(set_name);
    if (set.count == 0) {
        fprintf(stderr, "no messages in " FIXTURE_ROOT "/%s\n", set_name);
        return 2;
    }
    cdc_decoder_t *decoder = cdc_decoder_new(registry, "source.lsn");
    cdc_arena_t arena;
    cdc_arena_init(&arena, 256 * 1024);
    cdc_event_t event = {0};
    char err[512];
    double rates[5];
    unsigned long sink = 0;
    for (int run = 0; run < 5; run++) {
        unsigned long events = 0;
        double start = now_s(), elapsed;
        do {
            for (int batch = 0; batch < 500; batch++) {
                const fixture_message_t *m = &set.messages[events % set.count];
                if (cdc_decoder_decode(decoder, m->key, m->key_len, m->value,
                                       m->value_len, &arena, &event, err,
                                       sizeof err) != CDC_DECODE_OK) {
                    fprintf(stderr, "decode failed: %s\n", err);
                    return 1;
                }
                sink += (unsigned long)event.position;
                events++;
            }
            cdc_arena_reset(&arena);
            elapsed = now_s() - start;
        } while (elapsed < seconds);
        rates[run] = events / elapsed;
        printf("run %d: %.0f events/s\n", run + 1, rates[run]);
    }
    qsort(rates, 5, sizeof rates[0], cmp_double);
    printf("decode %s (%zu distinct messages): median %.0f events/s on one core\n",
           set_name, set.count, rates[2]);
    cdc_arena_destroy(&arena);
    cdc_decoder_destroy(decoder);
    cdc_registry_destroy(registry);
    fixture_free_set(&set);
    return sink == 42 ? 3 : 0; /* keeps the work from being optimised out */
}
