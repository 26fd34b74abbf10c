/* fuzz_config — the pipeline-file parser with its substitutions.
 *
 * The input is a pipeline file: `key = value` lines, comments, `${env:…}`
 * and `${file:…}` references (which read files relative to the working
 * directory: the repository's, harmless), every sink's keys. Whatever it
 * holds, parsing ends in a config or one error sentence, and nothing is
 * leaked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[512];
    cdc_config_t *cfg = cdc_config_parse(text, "fuzz.properties", cdc_sink_catalog(), err,
                                         sizeof err);
    cdc_config_destroy(cfg);
    free(text);
    return 0;
}
