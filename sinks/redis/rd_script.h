/* rd_script — the guard: a Lua script that Redis runs atomically for many
 * keys per call, comparing each change's position with the one kept in
 * the key's marker before writing (rd_script.c documents its arguments and
 * replies). */
#ifndef CDC_RD_SCRIPT_H
#define CDC_RD_SCRIPT_H

extern const char cdc_rd_guard_script[];

#endif
