/* fuzz_decode — framing + Avro decoding of a record value against the
 * schemas captured from the real Debezium (tests/data/debezium/schemas).
 *
 * The input is the value's bytes as Kafka would deliver them: magic byte,
 * 4-byte schema id, Avro body. Mutations of the captured records reach
 * every decoder path: unknown ids, truncated bodies, lengths and union
 * branches out of range. Whatever comes in, the decoder answers a status
 * and never reads out of bounds. Run from the repository root. */
#include <stddef.h>
#include <stdint.h>

#include "../unit/fixture.h"
#include "decode.h"

static cdc_registry_t *registry;
static cdc_decoder_t *decoder;
static cdc_arena_t arena;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cdc_registry_options_t opts = {0};
    registry = cdc_registry_new(&opts, NULL, 0);
    if (!registry || fixture_load_schemas(registry) == 0) {
        fprintf(stderr, "fuzz_decode: no schemas under " FIXTURE_ROOT
                        "/schemas (run from the repository root)\n");
        exit(2);
    }
    decoder = cdc_decoder_new(registry, "source.lsn");
    cdc_arena_init(&arena, 64 * 1024);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdc_event_t event = {0};
    char err[512];
    /* The key is the same bytes: key schemas are in the registry too. */
    cdc_decoder_decode(decoder, data, size, data, size, &arena, &event, err, sizeof err);
    cdc_arena_reset(&arena);
    return 0;
}
