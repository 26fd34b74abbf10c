/* The core planner (src/plan.c) and its parts, route and collapse: what
 * every sink is handed. Collapse is proven on real captured Debezium
 * events; the planner's rules on events made here, one rule each. */
#include "collapse.h"
#include "decode.h"
#include "fixture.h"
#include "plan.h"
#include "route.h"
#include "sink.h"
#include "unit.h"

static void check_route(void)
{
    cdc_event_t ev = {.topic = "cdc.public.orders", .source_db = "shop",
                      .source_schema = "public", .source_table = "orders"};
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_route_format("${source.db}_${source.schema}_${source.table}-${topic}", &ev, &b);
    CHECK_STR(b.data, "shop_public_orders-cdc.public.orders");
    cdc_buf_reset(&b);
    ev.source_table = ""; /* a tombstone: the table is the topic's last part */
    cdc_route_format("${source.table}", &ev, &b);
    CHECK_STR(b.data, "orders");
    cdc_buf_free(&b);
    char err[256];
    CHECK_INT(cdc_route_check("${source.table}", false, err, sizeof err), 0);
    CHECK_INT(cdc_route_check("${table}", false, err, sizeof err), -1);
    CHECK(strstr(err, "unknown placeholder ${table}") != NULL);
}
/* orders fixture: c1 c2 c3 u1 u2 d3 T3 (T = tombstone). */
static void check_collapse(void)
{
    cdc_registry_options_t opts = {0};
    cdc_registry_t *registry = cdc_registry_new(&opts, NULL, 0);
    fixture_load_schemas(registry);
    cdc_decoder_t *decoder = cdc_decoder_new(registry, "source.lsn");
    cdc_arena_t arena;
    cdc_arena_init(&arena, 64 * 1024);
    fixture_set_t set = fixture_load_set("orders");
    CHECK_INT(set.count, 7);
    cdc_event_t ev[7];
    const cdc_event_t *events[7];
    const char *groups[7];
    char err[256];
    for (size_t i = 0; i < set.count && i < 7; i++) {
        memset(&ev[i], 0, sizeof ev[i]);
        cdc_decoder_decode(decoder, set.messages[i].key, set.messages[i].key_len,
                           set.messages[i].value, set.messages[i].value_len, &arena,
                           &ev[i], err, sizeof err);
        events[i] = &ev[i];
        groups[i] = "orders";
    }
    size_t winner_of[7];
    CHECK_INT(cdc_collapse(events, groups, NULL, 7, winner_of, &arena), 3);
    size_t want[7] = {3, 4, 6, 3, 4, 6, 6};
    for (int i = 0; i < 7; i++) CHECK_INT(winner_of[i], want[i]);

    /* By position, never by arrival: u1 delivered before c1 still wins. */
    const cdc_event_t *reordered[2] = {&ev[3], &ev[0]};
    CHECK_INT(cdc_collapse(reordered, groups, NULL, 2, winner_of, &arena), 1);
    CHECK_INT(winner_of[0], 0);
    CHECK_INT(winner_of[1], 0);
    /* The same key in two tables is two keys. */
    const char *two_tables[2] = {"orders", "orders_copy"};
    CHECK_INT(cdc_collapse(reordered, two_tables, NULL, 2, winner_of, &arena), 2);
    CHECK_INT(cdc_collapse_last_upsert(events, 7, (size_t[]){3, 4, 6, 3, 4, 6, 6}, 6), 2);
    /* Given identities replace the record keys: changes without one (a
     * keyless record nobody gave a key) never collapse, equal ones do. */
    cdc_key_id_t keys[3] = {{"k1", 2}, {NULL, 0}, {"k1", 2}};
    const cdc_event_t *three[3] = {&ev[0], &ev[1], &ev[3]};
    CHECK_INT(cdc_collapse(three, groups, keys, 3, winner_of, &arena), 2);
    CHECK_INT(winner_of[0], 2);
    CHECK_INT(winner_of[1], 1);
    CHECK_INT(winner_of[2], 2);
    keys[1] = (cdc_key_id_t){NULL, 0};
    keys[0] = keys[1];
    CHECK_INT(cdc_collapse(three, groups, keys, 3, winner_of, &arena), 3);

    /* Equal positions (changes of one transaction that share an inclusive
     * position): the later arrival is the newer, for the winner and for
     * what fills an unavailable column. */
    size_t ncols = ev[3].row_schema->ncolumns;
    cdc_value_t *rows[3];
    cdc_event_t tie[3];
    const cdc_event_t *tied[3];
    for (int i = 0; i < 3; i++) {
        tie[i] = ev[3];
        tie[i].position = 500;
        tie[i].position_inclusive = true;
        rows[i] = cdc_arena_alloc(&arena, ncols * sizeof *rows[i]);
        memcpy(rows[i], ev[3].after, ncols * sizeof *rows[i]);
        tie[i].after = rows[i];
        tied[i] = &tie[i];
    }
    rows[0][1] = ev[0].after[1]; /* two different values of column 1 */
    rows[1][1] = ev[4].after[1];
    rows[2][1].unavailable = true;
    CHECK_INT(cdc_collapse(tied, groups, NULL, 3, winner_of, &arena), 1);
    CHECK_INT(winner_of[0], 2);
    CHECK_INT(cdc_collapse_last_upsert(tied, 3, winner_of, 2), 1);
    const cdc_value_t *filled = cdc_collapse_fill_unavailable(tied, 3, winner_of, 2, &arena);
    CHECK(filled && memcmp(&filled[1], &rows[1][1], sizeof filled[1]) == 0);

    fixture_free_set(&set);
    cdc_arena_destroy(&arena);
    cdc_decoder_destroy(decoder);
    cdc_registry_destroy(registry);
}

/* ---------------------------------------------------------------------
 * The planner
 * ------------------------------------------------------------------- */

static const cdc_column_t columns[] = {
    {.name = "id", .type = CDC_TYPE_INT32},
    {.name = "v", .type = CDC_TYPE_STRING, .optional = true},
    {.name = "big", .type = CDC_TYPE_STRING, .optional = true},
};
static const cdc_row_schema_t row_schema = {"t.Value", 3, columns};
static const cdc_row_schema_t key_schema = {"t.Key", 1, columns};

typedef struct made {
    cdc_event_t ev;
    cdc_value_t key[1];
    cdc_value_t after[3];
    cdc_value_t before[3];
    char raw_key[8];
} made_t;

static cdc_value_t str_value(const char *s)
{
    if (!s) return (cdc_value_t){.type = CDC_TYPE_STRING, .is_null = true};
    return (cdc_value_t){.type = CDC_TYPE_STRING, .u.str = {s, strlen(s)}};
}

/* An event of table t for key id at position pos; v NULL is NULL, big
 * "?" is an unchanged TOASTed value. keyed false: the record has no key. */
static void make(made_t *m, cdc_op_t op, int id, int64_t pos, const char *v,
                 const char *big, bool keyed)
{
    memset(m, 0, sizeof *m);
    m->ev.topic = "cdc.public.t";
    m->ev.source_schema = "public";
    m->ev.source_table = "t";
    m->ev.op = op;
    m->ev.has_position = pos >= 0;
    m->ev.position = pos;
    m->key[0] = (cdc_value_t){.type = CDC_TYPE_INT32, .u.i = id};
    cdc_value_t *row = op == CDC_OP_DELETE ? m->before : m->after;
    row[0] = m->key[0];
    row[1] = str_value(v);
    row[2] = str_value(big && strcmp(big, "?") == 0 ? "__debezium_unavailable_value" : big);
    row[2].unavailable = big && strcmp(big, "?") == 0;
    if (keyed) {
        snprintf(m->raw_key, sizeof m->raw_key, "\1\1\1\1\1%c", 'a' + id);
        m->ev.raw_key = m->raw_key;
        m->ev.raw_key_len = 6;
        m->ev.key = m->key;
        m->ev.key_schema = &key_schema;
    }
    if (op == CDC_OP_TOMBSTONE) return;
    m->ev.row_schema = &row_schema;
    if (op == CDC_OP_DELETE) m->ev.before = m->before;
    else m->ev.after = m->after;
}

typedef struct planned {
    cdc_change_t *changes;
    size_t *event_index;
    size_t n;
    cdc_outcome_t outcomes[16];
} planned_t;

static cdc_config_t *config(const char *extra)
{
    char text[512], err[256];
    snprintf(text, sizeof text,
             "name = t\nsink = postgres\nconnection.url = postgresql://localhost/x\ntopics = cdc.public.t\n"
             "schema.registry.url = http://localhost:1\n"
             "kafka.bootstrap.servers = localhost:1\n%s", extra);
    cdc_config_t *cfg = cdc_config_parse(text, "t.properties", cdc_sink_catalog(),
                                         err, sizeof err);
    if (!cfg) fprintf(stderr, "config: %s\n", err);
    return cfg;
}

static planned_t plan(const char *cfg_extra, cdc_plan_mode_t mode,
                      const char *route, made_t *m, size_t count,
                      cdc_arena_t *arena)
{
    planned_t p;
    memset(&p, 0, sizeof p);
    char err[256];
    cdc_config_t *cfg = config(cfg_extra);
    cdc_planner_t *planner = cfg ? cdc_planner_new(cfg, mode, route, route && strstr(route, "${key}"), err, sizeof err) : NULL;
    CHECK(planner != NULL);
    const cdc_event_t *events[16];
    for (size_t i = 0; i < count; i++) events[i] = &m[i].ev;
    if (planner)
        CHECK_INT(cdc_plan_batch(planner, events, count, p.outcomes, &p.changes,
                                 &p.event_index, &p.n, arena), 0);
    cdc_planner_destroy(planner);
    cdc_config_destroy(cfg);
    return p;
}

static const char *str_of(const cdc_value_t *v)
{
    return v->is_null ? "NULL" : v->u.str.ptr;
}

/* Actions from delete.mode and delete.on.tombstone; the rows they carry. */
static void check_plan_actions(cdc_arena_t *arena)
{
    made_t m[4];
    make(&m[0], CDC_OP_CREATE, 1, 10, "a", "x", true);
    make(&m[1], CDC_OP_DELETE, 2, 11, "b", "y", true);
    make(&m[2], CDC_OP_TOMBSTONE, 2, -1, NULL, NULL, true);
    make(&m[3], CDC_OP_TRUNCATE, 3, 12, NULL, NULL, true);

    planned_t p = plan("", CDC_PLAN_LATEST, "${source.table}", m, 4, arena);
    CHECK_INT(p.n, 2);
    CHECK_INT(p.changes[0].action, CDC_ACTION_UPSERT);
    CHECK(p.changes[0].row == m[0].ev.after);
    CHECK_STR(p.changes[0].target, "t");
    CHECK_INT(p.changes[1].action, CDC_ACTION_DELETE);
    CHECK(p.changes[1].row == m[1].ev.key); /* deletes go by the key */
    CHECK_INT(p.event_index[1], 1);
    CHECK_INT(p.outcomes[2].kind, CDC_OUTCOME_SKIPPED); /* tombstone: no-op */
    CHECK_INT(p.outcomes[3].kind, CDC_OUTCOME_SKIPPED); /* truncate */

    p = plan("delete.mode = soft\n", CDC_PLAN_LATEST, NULL, m, 3, arena);
    CHECK_INT(p.n, 2);
    CHECK_INT(p.changes[1].action, CDC_ACTION_SOFT_DELETE);
    CHECK(p.changes[1].row == m[1].ev.before);
    CHECK(p.changes[1].target == NULL);

    p = plan("delete.mode = none\ndelete.on.tombstone = true\n", CDC_PLAN_LATEST,
             NULL, m, 3, arena);
    CHECK_INT(p.n, 2);
    CHECK_INT(p.outcomes[1].kind, CDC_OUTCOME_SKIPPED);
    CHECK_INT(p.changes[1].action, CDC_ACTION_KEY_DELETE);
    CHECK_INT(p.event_index[1], 2);

    /* A log sink gets every event, in order, nothing decided. */
    p = plan("delete.mode = none\n", CDC_PLAN_LOG, NULL, m, 4, arena);
    CHECK_INT(p.n, 4);
    CHECK_INT(p.changes[1].action, CDC_ACTION_DELETE);
    CHECK_INT(p.changes[2].action, CDC_ACTION_KEY_DELETE);
    CHECK_INT(p.event_index[3], 3);
}

/* No position: rejected (data). No key: rejected (schema) unless pk.fields
 * says which columns identify the row. */
static void check_plan_rejects(cdc_arena_t *arena)
{
    made_t m[3];
    make(&m[0], CDC_OP_UPDATE, 1, -1, "a", "x", true);
    make(&m[1], CDC_OP_CREATE, 2, 20, "b", "y", false);
    make(&m[2], CDC_OP_CREATE, 3, 21, "c", "z", true);
    planned_t p = plan("", CDC_PLAN_LATEST, NULL, m, 3, arena);
    CHECK_INT(p.n, 1);
    CHECK_INT(p.outcomes[0].kind, CDC_OUTCOME_REJECTED);
    CHECK_STR(p.outcomes[0].error_class, "data");
    CHECK_STR(p.outcomes[0].exception_name, "cdcsink.NoPosition");
    CHECK_INT(p.outcomes[1].kind, CDC_OUTCOME_REJECTED);
    CHECK_STR(p.outcomes[1].error_class, "schema");
    CHECK_STR(p.outcomes[1].exception_name, "cdcsink.NoKey");
    CHECK(strstr(p.outcomes[1].message, "source table public.t has no primary key") != NULL);
    CHECK(strstr(p.outcomes[1].message, "pk.fields") != NULL);

    p = plan("pk.fields = id\n", CDC_PLAN_LATEST, NULL, m, 3, arena);
    CHECK_INT(p.n, 2);
    CHECK(p.changes[0].row == m[1].ev.after);

    /* A keyless change's identity is its pk.fields values: what ${key}
     * renders (a Redis key, a document _id), as for a record key. */
    p = plan("pk.fields = id\n", CDC_PLAN_LATEST, "${source.table}:${key}", m, 3, arena);
    CHECK_INT(p.n, 2);
    CHECK_STR(p.changes[0].target, "t:2");
    CHECK_STR(p.changes[1].target, "t:3");
    CHECK(p.changes[0].key_schema && p.changes[0].key_schema->ncolumns == 1);
    CHECK(p.changes[1].key == m[2].ev.key);
}

/* One change per (target, key): by position, never by arrival; the
 * losers are stale; TOAST values and soft-delete rows carried over. */
static void check_plan_collapse(cdc_arena_t *arena)
{
    made_t m[6];
    make(&m[0], CDC_OP_UPDATE, 1, 30, "new", "?", true); /* arrives first */
    make(&m[1], CDC_OP_CREATE, 1, 20, "old", "toasted", true);
    make(&m[2], CDC_OP_CREATE, 2, 21, "two", "b2", true);
    make(&m[3], CDC_OP_DELETE, 2, 22, "two", NULL, true);
    make(&m[4], CDC_OP_CREATE, 3, 23, "k1", "x", false);
    make(&m[5], CDC_OP_UPDATE, 3, 24, "k2", "?", false);
    planned_t p = plan("delete.mode = soft\npk.fields = id\n", CDC_PLAN_LATEST,
                       "${topic}", m, 6, arena);
    CHECK_INT(p.n, 3);
    CHECK_INT(p.event_index[0], 0);
    CHECK_STR(str_of(&p.changes[0].row[1]), "new");
    CHECK_STR(str_of(&p.changes[0].row[2]), "toasted"); /* filled */
    CHECK(!p.changes[0].row[2].unavailable);
    CHECK_INT(p.outcomes[1].kind, CDC_OUTCOME_STALE);
    /* A soft delete keeps the values of the insert it superseded. */
    CHECK_INT(p.event_index[1], 3);
    CHECK_INT(p.changes[1].action, CDC_ACTION_SOFT_DELETE);
    CHECK_STR(str_of(&p.changes[1].row[2]), "b2");
    CHECK_INT(p.outcomes[2].kind, CDC_OUTCOME_STALE);
    /* Keyless changes of one row collapse by their pk.fields values. */
    CHECK_INT(p.event_index[2], 5);
    CHECK_STR(str_of(&p.changes[2].row[2]), "x");
    CHECK_INT(p.outcomes[4].kind, CDC_OUTCOME_STALE);

    /* The same key in two targets is two keys. */
    m[1].ev.topic = "cdc.public.t_copy";
    p = plan("", CDC_PLAN_LATEST, "${topic}", m, 2, arena);
    CHECK_INT(p.n, 2);
    CHECK(p.changes[0].row[2].unavailable); /* nothing to fill it from */
}

int main(void)
{
    cdc_arena_t arena;
    cdc_arena_init(&arena, 64 * 1024);
    check_route();
    check_collapse();
    check_plan_actions(&arena);
    check_plan_rejects(&arena);
    check_plan_collapse(&arena);
    cdc_arena_destroy(&arena);
    return unit_finish("t0008-plan");
}
