#include "rd_script.h"

/* The guard, run by Redis atomically for many keys at once.
 *
 * KEYS: per change its key K and its position marker M (same slot).
 * ARGV: layout ('j' json, 'h' hash), ttl ms ('0': none), the retention of a
 *       hard delete's marker in ms, then per change: op, position (20
 *       digits: string order is number order, and Lua's doubles would lose
 *       LSNs past 2^53), n, and n payload arguments:
 *   'u' upsert, 's' soft delete: a key that exists keeps its values and
 *        gets `"__deleted":true` (json) or the field __deleted=true (hash);
 *        one that does not is written from the payload, which carries the
 *        flag. Payloads:
 *        json: segments and names: seg0 [name1 seg1 [name2 seg2 ...]]: the
 *              row's JSON text cut where unavailable (unchanged TOASTed)
 *              columns go; each name's value is taken raw from the JSON
 *              the key holds (null when it holds none).
 *        hash: count of fields to set, field value ..., then the fields to
 *              delete (NULL columns; `__deleted` for an upsert). Unavailable
 *              columns are in neither: HSET leaves them as they are.
 *   'd' hard delete: DEL K, marker kept for the retention.
 *   'k' delete by key (a tombstone with delete.on.tombstone): unguarded.
 *   An op in upper case ('U', 'S', 'D') is the same change with an
 *   inclusive position: it also applies over an equal marker.
 * Reply: per change 1 applied, 0 stale (position not newer), or the type K
 * holds when that is not the layout's (WRONGTYPE: the record alone is
 * rejected, the others go on). */
const char cdc_rd_guard_script[] =
    "local function skip_string(s, i)\n"
    "  while true do\n"
    "    local j = s:find('[\"\\\\]', i + 1)\n"
    "    if not j then return nil end\n"
    "    if s:sub(j, j) == '\"' then return j + 1 end\n"
    "    i = j + 1\n"
    "  end\n"
    "end\n"
    "local function skip_value(s, i)\n"
    "  local c = s:sub(i, i)\n"
    "  if c == '\"' then return skip_string(s, i) end\n"
    "  if c == '{' or c == '[' then\n"
    "    local depth = 0\n"
    "    while true do\n"
    "      local j = s:find('[\"{}%[%]]', i)\n"
    "      if not j then return nil end\n"
    "      local ch = s:sub(j, j)\n"
    "      if ch == '\"' then\n"
    "        i = skip_string(s, j)\n"
    "        if not i then return nil end\n"
    "      else\n"
    "        if ch == '{' or ch == '[' then depth = depth + 1 else depth = depth - 1 end\n"
    "        i = j + 1\n"
    "        if depth == 0 then return i end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  return s:find('[,}%]%s]', i) or #s + 1\n"
    "end\n"
    "local function skip_ws(s, i) return s:find('%S', i) or #s + 1 end\n"
    /* The raw JSON text of a top-level member of the object s, or nil. */
    "local function raw_member(s, name)\n"
    "  if not s then return nil end\n"
    "  local i = skip_ws(s, 1)\n"
    "  if s:sub(i, i) ~= '{' then return nil end\n"
    "  i = skip_ws(s, i + 1)\n"
    "  while s:sub(i, i) == '\"' do\n"
    "    local e = skip_string(s, i)\n"
    "    if not e then return nil end\n"
    "    local key = s:sub(i + 1, e - 2)\n"
    "    i = skip_ws(s, e)\n"
    "    if s:sub(i, i) ~= ':' then return nil end\n"
    "    i = skip_ws(s, i + 1)\n"
    "    local v = skip_value(s, i)\n"
    "    if not v then return nil end\n"
    "    if key == name then return s:sub(i, v - 1) end\n"
    "    i = skip_ws(s, v)\n"
    "    if s:sub(i, i) ~= ',' then return nil end\n"
    "    i = skip_ws(s, i + 1)\n"
    "  end\n"
    "  return nil\n"
    "end\n"
    "local layout, ttl, retention = ARGV[1], tonumber(ARGV[2]), ARGV[3]\n"
    "local want = layout == 'j' and 'string' or 'hash'\n"
    "local out = {}\n"
    "local a = 4\n"
    "for k = 1, #KEYS, 2 do\n"
    "  local key, marker = KEYS[k], KEYS[k + 1]\n"
    "  local op, pos, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])\n"
    "  local inclusive = op ~= op:lower()\n"
    "  op = op:lower()\n"
    "  local first = a + 3\n"
    "  a = first + n\n"
    "  local result = 1\n"
    "  if op == 'k' then\n"
    "    redis.call('DEL', key)\n"
    "  else\n"
    "    local seen = redis.call('GET', marker)\n"
    "    local held = redis.call('TYPE', key).ok\n"
    "    if seen and (seen > pos or (seen == pos and not inclusive)) then\n"
    "      result = 0\n"
    "    elseif op ~= 'd' and held ~= 'none' and held ~= want then\n"
    "      result = held\n"
    "    elseif op == 'd' then\n"
    "      redis.call('DEL', key)\n"
    "      redis.call('SET', marker, pos, 'PX', retention)\n"
    "    else\n"
    "      local exists = held ~= 'none'\n"
    /* A soft delete keeps the stored row; a value that is no JSON object
     * (written by someone else) is replaced by the payload below. */
    "      local stored = nil\n"
    "      if op == 's' and exists and layout == 'j' then\n"
    "        stored = redis.call('GET', key)\n"
    "        if not stored:find('^%s*{') or not stored:find('}%s*$') then stored = nil end\n"
    "      end\n"
    "      if stored then\n"
    "        if not raw_member(stored, '__deleted') then\n"
    "          local body = stored:sub(1, stored:find('}%s*$') - 1)\n"
    "          local sep = body:match('{%s*$') and '' or ','\n"
    "          redis.call('SET', key, body .. sep .. '\"__deleted\":true}')\n"
    "        end\n"
    "      elseif op == 's' and exists and layout == 'h' then\n"
    "        redis.call('HSET', key, '__deleted', 'true')\n"
    "      elseif layout == 'j' then\n"
    "        local parts = {ARGV[first]}\n"
    "        local old = nil\n"
    "        if n > 1 then old = redis.call('GET', key) end\n"
    "        for i = first + 1, first + n - 1, 2 do\n"
    "          parts[#parts + 1] = raw_member(old, ARGV[i]) or 'null'\n"
    "          parts[#parts + 1] = ARGV[i + 1]\n"
    "        end\n"
    "        redis.call('SET', key, table.concat(parts))\n"
    "      else\n"
    "        local nset = tonumber(ARGV[first])\n"
    "        if nset > 0 then\n"
    "          redis.call('HSET', key, unpack(ARGV, first + 1, first + 2 * nset))\n"
    "        end\n"
    "        if first + 2 * nset + 1 <= first + n - 1 then\n"
    "          redis.call('HDEL', key, unpack(ARGV, first + 2 * nset + 1, first + n - 1))\n"
    "        end\n"
    "      end\n"
    "      if ttl > 0 then\n"
    "        redis.call('PEXPIRE', key, ttl)\n"
    "        redis.call('SET', marker, pos, 'PX', ttl)\n"
    "      else\n"
    "        redis.call('SET', marker, pos)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = result\n"
    "end\n"
    "return out\n";
