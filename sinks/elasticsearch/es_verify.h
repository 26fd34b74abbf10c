/* es_verify — the Elasticsearch/OpenSearch sink's half of `cdcsink verify`
 * (src/verify.h): the store of src/verify_doc.h over the sink's indexes.
 *
 * A table's documents are those of its index (index.name.format, made a
 * valid name as the sink makes it), each _id a ${key}. They are read with
 * _mget (real time: no refresh needed) and listed with a scroll over the
 * index (_id only, in _doc order). --repair writes with the sink's guard,
 * version_type=external, at the document's version + 1; a document
 * deleted by hand leaves the engine a delete of a higher version (for
 * index.gc_deletes), which the engine names in its conflict, and the
 * write is made once more just above it. */
#ifndef CDC_ES_VERIFY_H
#define CDC_ES_VERIFY_H

#include "verify.h"

extern const cdc_verify_ops_t cdc_es_verify_ops;

#endif
