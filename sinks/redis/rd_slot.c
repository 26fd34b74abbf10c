#include "rd_slot.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The table of the CRC16-CCITT (XMODEM) polynomial 0x1021, byte at a time:
 * a key's slot is computed for every change, the bitwise loop showed in
 * profiles. */
static uint16_t crc16_table[256];
static pthread_once_t crc16_once = PTHREAD_ONCE_INIT;

static void crc16_build(void)
{
    for (int i = 0; i < 256; i++) {
        uint16_t crc = (uint16_t)(i << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
        crc16_table[i] = crc;
    }
}

uint16_t cdc_rd_crc16(const char *buf, size_t len)
{
    pthread_once(&crc16_once, crc16_build);
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc << 8) ^ crc16_table[((crc >> 8) ^ (uint8_t)buf[i]) & 0xff]);
    return crc;
}

int cdc_rd_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return cdc_rd_crc16(open + 1, (size_t)(close - open - 1)) % CDC_RD_SLOTS;
    }
    return cdc_rd_crc16(key, len) % CDC_RD_SLOTS;
}

/* Tags are base-36 numbers: every slot is reached by one of the first
 * ~170,000 (measured: the last slot to be reached needs five digits). */
static char slot_tags[CDC_RD_SLOTS][8];
static pthread_once_t slot_tags_once = PTHREAD_ONCE_INIT;

static void slot_tags_build(void)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    size_t found = 0;
    for (unsigned n = 0; found < CDC_RD_SLOTS && n < 36u * 36 * 36 * 36 * 36; n++) {
        char tag[8];
        size_t len = 0;
        unsigned v = n;
        do {
            tag[len++] = digits[v % 36];
            v /= 36;
        } while (v && len < sizeof tag - 1);
        tag[len] = '\0';
        int slot = cdc_rd_crc16(tag, len) % CDC_RD_SLOTS;
        if (slot_tags[slot][0]) continue;
        memcpy(slot_tags[slot], tag, len + 1);
        found++;
    }
}

const char *cdc_rd_slot_tag(int slot)
{
    pthread_once(&slot_tags_once, slot_tags_build);
    return slot_tags[slot % CDC_RD_SLOTS];
}
