/* configdoc — docs/configuration.md, generated.
 *
 * The prose lives in docs/configuration.template.md; the tables come from
 * the key tables themselves: the core keys (src/configkey.c) and each
 * sink's (its ops, gathered by cdc_sink_catalog). A line of the template
 * that is exactly a marker is replaced:
 *
 *   @CORE_KEYS@  the table of the core keys;
 *   @SINK_KEYS@  one "## Keys of the <sink> sink" section with its table
 *                per sink of the catalog, in catalog order.
 *
 * `t0002-config --write-docs` writes the file and the t0002-config test
 * fails while it differs from what this generates. */
#ifndef CDC_CONFIGDOC_H
#define CDC_CONFIGDOC_H

#include <stddef.h>
#include <stdio.h>

#include "configkey.h"

/* Writes the Markdown of docs/configuration.md to `out`: a comment saying
 * how it is made, then the template read from `template_path` with its
 * markers replaced. 0, or -1 with errstr when the template cannot be read,
 * lacks a marker or holds an unknown one. */
int cdc_configdoc_write(FILE *out, const char *template_path,
                        const cdc_config_catalog_t *catalog, char *errstr,
                        size_t errstr_size);

#endif
