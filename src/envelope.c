#include "envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"

#define PATH_MAX_DEPTH 4
#define ENVELOPE_PATHS 10 /* the paths plan_mark_unread() passes */

/* A field reached through nested records: indices at each level. */
typedef struct field_path {
    int depth; /* 0: absent */
    int index[PATH_MAX_DEPTH];
} field_path_t;

struct cdc_envelope_plan {
    bool flattened;
    field_path_t op, before, after, position, ts_ms;
    field_path_t db, schema, table, snapshot, sequence;
    field_path_t deleted; /* flattened only */
    /* The records are ordered by commit (see cdc_event_t.commit_ordered). */
    bool commit_ordered;
    /* Not a change event: "heartbeat", "transaction", "message". */
    const char *control_kind;
    const cdc_row_schema_t *row;
    /* Flattened: which value fields are row columns. */
    const int *row_fields;
};

/* Resolves "a.b.c" over nested (optional) records. */
static field_path_t path_resolve(const cdc_schema_node_t *record,
                                 const char *dotted)
{
    field_path_t path = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", dotted);
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg;
         seg = strtok_r(NULL, ".", &save)) {
        record = record ? cdc_schema_unwrap_optional(record) : NULL;
        int idx = cdc_schema_field_index(record, seg);
        if (idx < 0 || path.depth == PATH_MAX_DEPTH) {
            path.depth = 0;
            return path;
        }
        path.index[path.depth++] = idx;
        record = record->children[idx];
    }
    return path;
}

static const cdc_value_t *path_get(const field_path_t *path,
                                   const cdc_value_t *value)
{
    if (path->depth == 0) return NULL;
    for (int i = 0; i < path->depth; i++) {
        if (value->is_null || (size_t)path->index[i] >= value->u.array.count)
            return NULL;
        value = &value->u.array.items[path->index[i]];
    }
    return value->is_null ? NULL : value;
}

/* The text of a value whose type holds text; NULL for any other (a schema
 * may give a metadata field any type: an int op must not be read as a
 * pointer). */
static const char *value_text(const cdc_value_t *v)
{
    if (!v) return NULL;
    switch (v->type) {
    case CDC_TYPE_STRING:
    case CDC_TYPE_ENUM:
    case CDC_TYPE_UUID:
    case CDC_TYPE_JSON:
    case CDC_TYPE_XML:
        return v->u.str.ptr;
    default:
        return NULL;
    }
}

static const char *path_string(const field_path_t *path,
                               const cdc_value_t *value)
{
    const char *text = value_text(path_get(path, value));
    return text ? text : "";
}

static bool same_columns(const cdc_row_schema_t *a, const cdc_row_schema_t *b)
{
    if (!a || !b || a->ncolumns != b->ncolumns) return false;
    for (size_t i = 0; i < a->ncolumns; i++)
        if (a->columns[i].type != b->columns[i].type ||
            strcmp(a->columns[i].name, b->columns[i].name) != 0)
            return false;
    return true;
}

static int plan_envelope(cdc_envelope_plan_t *plan,
                         const cdc_schema_node_t *root,
                         const char *position_field)
{
    plan->op = path_resolve(root, "op");
    plan->before = path_resolve(root, "before");
    plan->after = path_resolve(root, "after");
    plan->ts_ms = path_resolve(root, "source.ts_ms");
    plan->db = path_resolve(root, "source.db");
    plan->schema = path_resolve(root, "source.schema");
    plan->table = path_resolve(root, "source.table");
    plan->snapshot = path_resolve(root, "source.snapshot");
    plan->sequence = path_resolve(root, "source.sequence");
    plan->position = path_resolve(root, position_field);
    plan->commit_ordered = strcmp(position_field, "source.lsn") == 0 &&
                           plan->position.depth > 0 && plan->sequence.depth > 0;
    const field_path_t *row_path =
        plan->after.depth ? &plan->after : &plan->before;
    const cdc_schema_node_t *row =
        cdc_schema_unwrap_optional(root->children[row_path->index[0]]);
    plan->row = row->kind == CDC_AVRO_RECORD ? row->row : NULL;
    if (!plan->row) return -1;
    /* One row schema reads both images: a before of another shape would
     * be read with after's columns. */
    if (plan->before.depth && plan->after.depth) {
        const cdc_schema_node_t *before =
            cdc_schema_unwrap_optional(root->children[plan->before.index[0]]);
        if (before->kind != CDC_AVRO_RECORD || !same_columns(before->row, plan->row))
            return -2;
    }
    return 0;
}


/* Marks the fields under `record` (reached by `depth` steps of the
 * paths) that no path reads, so that decoding steps over them: most of
 * Debezium's source block (version, connector, name, sequence, txId,
 * ...) and the envelope's transaction and ts_* fields. A path ending at
 * a field reads all of it; a record only paths go through is marked in
 * turn (paths holds those sharing the steps so far). Debezium's envelope names each such record once; a record named
 * twice would be marked for both places. */
static int mark_unread(cdc_arena_t *arena, const cdc_schema_node_t *node,
                       const field_path_t *const *paths, size_t npaths,
                       int depth)
{
    cdc_schema_node_t *record = (cdc_schema_node_t *)cdc_schema_unwrap_optional(node);
    if (record->kind != CDC_AVRO_RECORD || record->variable_decimal) return 0;
    bool *unread = cdc_arena_alloc(arena, (record->count + 1) * sizeof *unread);
    if (!unread) return -1;
    for (size_t i = 0; i < record->count; i++) {
        bool ends_here = false, goes_deeper = false;
        for (size_t k = 0; k < npaths; k++) {
            const field_path_t *p = paths[k];
            if (p->depth <= depth || p->index[depth] != (int)i) continue;
            if (p->depth == depth + 1) ends_here = true;
            else goes_deeper = true;
        }
        unread[i] = !ends_here && !goes_deeper;
        if (goes_deeper && !ends_here) {
            const field_path_t *sub[ENVELOPE_PATHS];
            size_t nsub = 0;
            for (size_t k = 0; k < npaths; k++)
                if (paths[k]->depth > depth + 1 && paths[k]->index[depth] == (int)i)
                    sub[nsub++] = paths[k];
            if (mark_unread(arena, record->children[i], sub, nsub, depth + 1) != 0)
                return -1;
        }
    }
    record->unread = unread;
    return 0;
}

/* After plan_envelope: what the plan reads is all decoding produces. */
static int plan_mark_unread(const cdc_envelope_plan_t *plan, cdc_schema_t *schema)
{
    const field_path_t *paths[] = {&plan->op, &plan->before, &plan->after,
                                   &plan->position, &plan->ts_ms, &plan->db,
                                   &plan->schema, &plan->table, &plan->snapshot,
                                   &plan->sequence};
    _Static_assert(sizeof paths / sizeof *paths == ENVELOPE_PATHS, "ENVELOPE_PATHS");
    const field_path_t *used[ENVELOPE_PATHS];
    size_t n = 0;
    for (size_t k = 0; k < sizeof paths / sizeof *paths; k++)
        if (paths[k]->depth > 0) used[n++] = paths[k];
    return mark_unread(&schema->arena, schema->root, used, n, 0);
}

static int plan_flattened(cdc_envelope_plan_t *plan, cdc_schema_t *schema,
                          const char *position_field)
{
    const cdc_schema_node_t *root = schema->root;
    plan->flattened = true;
    plan->op = path_resolve(root, "__op");
    plan->deleted = path_resolve(root, "__deleted");
    plan->ts_ms = path_resolve(root, "__source_ts_ms");
    plan->db = path_resolve(root, "__db");
    plan->schema = path_resolve(root, "__schema");
    plan->table = path_resolve(root, "__table");
    plan->snapshot = path_resolve(root, "__snapshot");
    plan->sequence = path_resolve(root, "__sequence");
    /* "source.lsn" is the documented default; a flattened value carries
     * the LSN as __lsn (add.fields=op,lsn,...), and the snapshot rules
     * need add.fields to name sequence and snapshot too. */
    bool default_position = strcmp(position_field, "source.lsn") == 0;
    plan->position = path_resolve(root, default_position ? "__lsn" : position_field);
    plan->commit_ordered = default_position && plan->position.depth > 0 &&
                           plan->sequence.depth > 0 && plan->snapshot.depth > 0;

    /* The row is every field not starting with "__". */
    const cdc_row_schema_t *all = root->row;
    cdc_column_t *cols = cdc_arena_alloc(&schema->arena,
                                         (all->ncolumns + 1) * sizeof *cols);
    int *fields = cdc_arena_alloc(&schema->arena,
                                  (all->ncolumns + 1) * sizeof *fields);
    cdc_row_schema_t *row = cdc_arena_alloc(&schema->arena, sizeof *row);
    if (!cols || !fields || !row) return -1;
    size_t n = 0;
    for (size_t i = 0; i < all->ncolumns; i++) {
        if (strncmp(all->columns[i].name, "__", 2) == 0) continue;
        cols[n] = all->columns[i];
        fields[n++] = (int)i;
    }
    row->name = all->name;
    row->ncolumns = n;
    row->columns = cols;
    plan->row = row;
    plan->row_fields = fields;
    return 0;
}

static bool has_field(const cdc_schema_node_t *record, const char *name)
{
    return cdc_schema_field_index(record, name) >= 0;
}

static bool name_ends_with(const char *name, const char *suffix)
{
    size_t n = name ? strlen(name) : 0, k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

/* What Debezium sends besides row changes, on topics a topics.regex may
 * match: heartbeats (__debezium-heartbeat.<prefix>), transaction
 * boundaries (<prefix>.transaction) and logical decoding messages (op=m,
 * with a message and no row). NULL for a change event. */
static const char *control_kind_of(const cdc_schema_node_t *root)
{
    /* By Debezium's schema names: a user table may well have a column
     * named op, message or ts_ms, and its rows must never be skipped. */
    if (name_ends_with(root->name, ".Heartbeat")) return "heartbeat";
    if (name_ends_with(root->name, ".TransactionMetadataValue")) return "transaction";
    if (name_ends_with(root->name, ".MessageValue") && has_field(root, "op") &&
        has_field(root, "message") && !has_field(root, "before") &&
        !has_field(root, "after"))
        return "message";
    return NULL;
}

bool cdc_envelope_plan_has_position(const cdc_envelope_plan_t *plan)
{
    return plan->control_kind || plan->position.depth > 0;
}

cdc_envelope_plan_t *cdc_envelope_plan_new(cdc_schema_t *value_schema,
                                           const char *position_field,
                                           char *errstr, size_t errstr_size)
{
    const cdc_schema_node_t *root = value_schema->root;
    if (root->kind != CDC_AVRO_RECORD || !root->row) {
        cdc_errstr_set(errstr, errstr_size,
                       "value schema is not a record: not a change event");
        return NULL;
    }
    cdc_envelope_plan_t *plan =
        cdc_arena_alloc(&value_schema->arena, sizeof *plan);
    if (!plan) return NULL;
    memset(plan, 0, sizeof *plan);
    if ((plan->control_kind = control_kind_of(root))) return plan;
    bool envelope = cdc_schema_field_index(root, "op") >= 0 &&
                    (cdc_schema_field_index(root, "after") >= 0 ||
                     cdc_schema_field_index(root, "before") >= 0);
    int rc = envelope ? plan_envelope(plan, root, position_field)
                      : plan_flattened(plan, value_schema, position_field);
    if (rc == 0 && envelope) rc = plan_mark_unread(plan, value_schema);
    if (rc != 0) {
        cdc_errstr_set(errstr, errstr_size,
                       rc == -2 ? "value schema %s: before and after are records of "
                                  "different columns; cdcsink reads both with one"
                                : "value schema %s: no row record in the envelope",
                       root->name ? root->name : "(anonymous)");
        return NULL;
    }
    return plan;
}

static int op_from_text(const char *text, cdc_op_t *op)
{
    if (!text || !text[0] || text[1]) return -1;
    switch (text[0]) {
    case 'c': *op = CDC_OP_CREATE; return 0;
    case 'u': *op = CDC_OP_UPDATE; return 0;
    case 'd': *op = CDC_OP_DELETE; return 0;
    case 'r': *op = CDC_OP_READ; return 0;
    case 't': *op = CDC_OP_TRUNCATE; return 0;
    }
    return -1;
}

static bool is_snapshot(const cdc_value_t *v)
{
    if (!v) return false;
    if (v->type == CDC_TYPE_BOOLEAN) return v->u.b;
    /* Debezium's SnapshotRecord enum: true, first, last, ..., false. */
    const char *text = value_text(v);
    return text && strcmp(text, "false") != 0;
}

static bool is_deleted_flag(const cdc_value_t *v)
{
    if (!v) return false;
    if (v->type == CDC_TYPE_BOOLEAN) return v->u.b;
    const char *text = value_text(v);
    return text && strcmp(text, "true") == 0;
}

static const cdc_value_t *flattened_row(const cdc_envelope_plan_t *plan,
                                        const cdc_value_t *value,
                                        cdc_arena_t *arena)
{
    size_t n = plan->row->ncolumns;
    cdc_value_t *row = cdc_arena_alloc(arena, (n + 1) * sizeof *row);
    if (!row) return NULL;
    for (size_t i = 0; i < n; i++)
        row[i] = value->u.array.items[plan->row_fields[i]];
    return row;
}

static int read_flattened(const cdc_envelope_plan_t *plan,
                          const cdc_value_t *value, cdc_arena_t *arena,
                          cdc_event_t *event, char *errstr, size_t errstr_size)
{
    const cdc_value_t *op = path_get(&plan->op, value);
    if (is_deleted_flag(path_get(&plan->deleted, value))) {
        event->op = CDC_OP_DELETE;
    } else if (op) {
        if (op_from_text(value_text(op), &event->op) != 0)
            return cdc_errstr_set(errstr, errstr_size, "unknown __op '%s' (%s)",
                                  value_text(op) ? value_text(op) : "",
                                  cdc_type_name(op->type));
    } else {
        event->op = CDC_OP_UPDATE; /* no metadata: an upsert */
    }
    const cdc_value_t *row = flattened_row(plan, value, arena);
    if (!row) return cdc_errstr_set(errstr, errstr_size, "out of memory");
    /* The flattened delete carries the last row image. */
    if (event->op == CDC_OP_DELETE) event->before = row;
    else event->after = row;
    return 0;
}

/* One member of source.sequence at *p: a quoted number, or null. True
 * with *lsn set for a number; *p moves past the member. */
static bool sequence_member(const char **p, int64_t *lsn)
{
    const char *q = *p;
    while (*q == ' ' || *q == '[' || *q == ',') q++;
    if (*q == '"') q++;
    bool number = *q >= '0' && *q <= '9';
    int64_t n = 0;
    for (; *q >= '0' && *q <= '9'; q++) {
        if (n > (INT64_MAX - (*q - '0')) / 10) number = false;
        else n = n * 10 + (*q - '0');
    }
    while (*q && *q != ',' && *q != ']') q++;
    *p = q;
    if (number) *lsn = n;
    return number;
}

/* source.sequence: ["<last commit LSN>", "<LSN>"] as JSON text; either
 * member may be null. */
typedef struct sequence {
    bool has_last_commit, has_lsn;
    int64_t last_commit, lsn;
} sequence_t;

static sequence_t sequence_read(const cdc_value_t *v)
{
    sequence_t seq = {0};
    if (!v || v->type != CDC_TYPE_STRING || !v->u.str.ptr) return seq;
    const char *p = v->u.str.ptr;
    seq.has_last_commit = sequence_member(&p, &seq.last_commit);
    if (*p == ',') seq.has_lsn = sequence_member(&p, &seq.lsn);
    return seq;
}

static cdc_snapshot_kind_t snapshot_kind(const cdc_value_t *v)
{
    if (!is_snapshot(v)) return CDC_SNAPSHOT_NONE;
    if (value_text(v) && strcmp(value_text(v), "incremental") == 0)
        return CDC_SNAPSHOT_INCREMENTAL;
    return CDC_SNAPSHOT_FULL;
}

int cdc_envelope_read(const cdc_envelope_plan_t *plan, const cdc_value_t *value,
                      cdc_arena_t *arena, cdc_event_t *event, char *errstr,
                      size_t errstr_size)
{
    if (plan->control_kind) {
        event->op = CDC_OP_CONTROL;
        event->control_kind = plan->control_kind;
        return 0;
    }
    event->row_schema = plan->row;
    if (plan->flattened) {
        if (read_flattened(plan, value, arena, event, errstr, errstr_size) != 0)
            return -1;
    } else {
        const cdc_value_t *op = path_get(&plan->op, value);
        if (!op || op_from_text(value_text(op), &event->op) != 0)
            return cdc_errstr_set(errstr, errstr_size, "unknown op '%s'%s%s",
                                  value_text(op) ? value_text(op) : "",
                                  op && !value_text(op) ? ": the field is of type " : "",
                                  op && !value_text(op) ? cdc_type_name(op->type) : "");
        const cdc_value_t *before = path_get(&plan->before, value);
        const cdc_value_t *after = path_get(&plan->after, value);
        event->before = before ? before->u.array.items : NULL;
        event->after = after ? after->u.array.items : NULL;
    }
    const cdc_value_t *pos = path_get(&plan->position, value);
    event->has_position = pos && (pos->type == CDC_TYPE_INT64 ||
                                  pos->type == CDC_TYPE_INT32);
    event->position = event->has_position ? pos->u.i : 0;
    sequence_t seq = sequence_read(path_get(&plan->sequence, value));
    if (!event->has_position && plan->commit_ordered && seq.has_lsn) {
        /* Debezium's incremental snapshot rows carry no source.lsn, only
         * the stream's position in source.sequence. */
        event->has_position = true;
        event->position = seq.lsn;
    }
    event->change_lsn = event->position;
    event->commit_ordered = plan->commit_ordered && event->has_position;
    event->has_last_commit = seq.has_last_commit;
    event->last_commit_lsn = seq.last_commit;
    const cdc_value_t *ts = path_get(&plan->ts_ms, value);
    event->source_ts_ms = ts && ts->type == CDC_TYPE_INT64 ? ts->u.i : 0;
    event->source_db = path_string(&plan->db, value);
    event->source_schema = path_string(&plan->schema, value);
    event->source_table = path_string(&plan->table, value);
    event->snapshot_kind = snapshot_kind(path_get(&plan->snapshot, value));
    return 0;
}

/* A one-column row schema for keys that are not records. */
const cdc_row_schema_t *cdc_envelope_key_schema(cdc_schema_t *key_schema)
{
    const cdc_schema_node_t *root = key_schema->root;
    if (root->kind == CDC_AVRO_RECORD && root->row) return root->row;
    cdc_column_t *col = cdc_arena_alloc(&key_schema->arena, sizeof *col);
    cdc_row_schema_t *row = cdc_arena_alloc(&key_schema->arena, sizeof *row);
    if (!col || !row) return NULL;
    memset(col, 0, sizeof *col);
    col->name = "key";
    col->type = cdc_schema_unwrap_optional(root)->type;
    col->optional = root->null_branch >= 0;
    row->name = "key";
    row->ncolumns = 1;
    row->columns = col;
    return row;
}

const cdc_value_t *cdc_envelope_key_values(const cdc_schema_t *key_schema,
                                           const cdc_value_t *key,
                                           cdc_arena_t *arena)
{
    (void)arena;
    const cdc_schema_node_t *root = key_schema->root;
    if (root->kind == CDC_AVRO_RECORD && !key->is_null)
        return key->u.array.items;
    return key;
}
