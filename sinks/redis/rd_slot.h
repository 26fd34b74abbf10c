/* rd_slot — Redis Cluster key slots (CRC16 of the key or its {hash tag},
 * modulo 16384) and the tags that keep a key's position marker in the
 * key's own slot. */
#ifndef CDC_RD_SLOT_H
#define CDC_RD_SLOT_H

#include <stddef.h>
#include <stdint.h>

enum { CDC_RD_SLOTS = 16384 };

/* CRC16-CCITT (XMODEM), the Cluster specification's key hash. */
uint16_t cdc_rd_crc16(const char *buf, size_t len);

/* The slot of a key: of the text between the first `{` and the next `}`
 * when that is not empty, else of the whole key. */
int cdc_rd_key_slot(const char *key, size_t len);

/* A short text whose own slot is `slot`: "{tag}" in another key puts that
 * key in `slot` whatever else it holds. The table is built on first use. */
const char *cdc_rd_slot_tag(int slot);

#endif
