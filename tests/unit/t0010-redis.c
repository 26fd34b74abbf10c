/* Redis sink pieces that need no server: the Cluster's key slots and the
 * marker tags, connection.url parsing (no password in any message), and
 * the ${key} placeholder of key.format. */
#include "rd_slot.h"
#include "rd_url.h"
#include "route.h"
#include "unit.h"

static void check_slots(void)
{
    /* The Cluster specification's test vector and examples. */
    CHECK_INT(cdc_rd_crc16("123456789", 9), 0x31C3);
    CHECK_INT(cdc_rd_key_slot("foo", 3), 12182);
    CHECK_INT(cdc_rd_key_slot("{user1000}.following", 20), cdc_rd_key_slot("user1000", 8));
    CHECK_INT(cdc_rd_key_slot("{}.following", 12), cdc_rd_crc16("{}.following", 12) % 16384);
    CHECK_INT(cdc_rd_key_slot("a{b}c{d}", 8), cdc_rd_key_slot("b", 1));
    /* Every slot has a tag, and "{tag}" lands a key in that slot. */
    size_t good = 0;
    for (int slot = 0; slot < CDC_RD_SLOTS; slot++) {
        const char *tag = cdc_rd_slot_tag(slot);
        char key[64];
        int n = snprintf(key, sizeof key, "__cdc:pos:{%s}:orders:{x}:1", tag);
        good += tag[0] && cdc_rd_key_slot(key, (size_t)n) == slot;
    }
    CHECK_INT(good, CDC_RD_SLOTS);
}

static void check_url(void)
{
    cdc_rd_url_t u;
    char err[256];
    CHECK_INT(cdc_rd_url_parse("redis://cdcsink:s%40cret@127.0.0.1:16379/2", &u, err, sizeof err), 0);
    CHECK(!u.tls);
    CHECK_STR(u.user, "cdcsink");
    CHECK_STR(u.password, "s@cret");
    CHECK_INT(u.db, 2);
    CHECK_INT(u.nnodes, 1);
    CHECK_STR(u.nodes[0].host, "127.0.0.1");
    CHECK_INT(u.nodes[0].port, 16379);
    CHECK_INT(cdc_rd_url_parse("rediss://:pw@h1:1,h2:2,h3", &u, err, sizeof err), 0);
    CHECK(u.tls);
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "pw");
    CHECK_INT(u.nnodes, 3);
    CHECK_INT(u.nodes[2].port, 6379);
    CHECK_INT(cdc_rd_url_parse("redis://onlypass@h:7", &u, err, sizeof err), 0);
    CHECK_STR(u.password, "onlypass");
    CHECK_STR(u.user, "");
    CHECK_INT(cdc_rd_url_parse("http://u:topsecret@h:1", &u, err, sizeof err), -1);
    CHECK(strstr(err, "redis://") != NULL);
    CHECK_INT(cdc_rd_url_parse("redis://u:topsecret@h:99999", &u, err, sizeof err), -1);
    CHECK(strstr(err, "h:99999") != NULL && strstr(err, "topsecret") == NULL);
    CHECK_INT(cdc_rd_url_parse("redis://u:top%zzsecret@h:1", &u, err, sizeof err), -1);
    CHECK(strstr(err, "topsecret") == NULL && strstr(err, "zz") == NULL);
}

static void check_key_placeholder(void)
{
    static const cdc_column_t cols[] = {{.name = "id", .type = CDC_TYPE_INT32},
                                        {.name = "code", .type = CDC_TYPE_STRING}};
    static const cdc_row_schema_t key_schema = {"k", 2, cols};
    cdc_value_t key[2] = {{.type = CDC_TYPE_INT32, .u.i = 7},
                          {.type = CDC_TYPE_STRING, .u.str = {"a:b\\c", 5}}};
    cdc_event_t ev = {.topic = "cdc.public.orders", .source_table = "orders",
                      .key_schema = &key_schema, .key = key};
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_route_format("${source.table}:${key}", &ev, &b);
    CHECK_STR(b.data, "orders:7:a\\:b\\\\c");
    cdc_buf_reset(&b);
    key[1].u.str.ptr = "";
    key[1].u.str.len = 0;
    cdc_route_format("${key}", &ev, &b);
    CHECK_STR(b.data, "7:");
    cdc_buf_reset(&b);
    key[1].is_null = true;
    cdc_route_format("${key}", &ev, &b);
    CHECK_STR(b.data, "7:\\N");
    cdc_buf_free(&b);
    char err[256];
    CHECK_INT(cdc_route_check("${source.table}:${key}", true, err, sizeof err), 0);
    CHECK_INT(cdc_route_check("${source.table}:${key}", false, err, sizeof err), -1);
    CHECK(strstr(err, "unknown placeholder ${key}") != NULL);
}

int main(void)
{
    check_slots();
    check_url();
    check_key_placeholder();
    return unit_finish("t0010-redis");
}
