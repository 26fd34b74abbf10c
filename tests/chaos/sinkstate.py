"""What a sink (or the source) holds, read the same way for every store.

The chaos suite compares stores by (table, key) -> row, where key is the
primary key columns' text joined with ':' (PostgreSQL's
concat_ws(':', ...), which is also what cdcsink renders as ${key}, the
Elasticsearch _id and the last part of the Redis key).

Two depths:
  light  (table, key) -> v           the version counter only; cheap enough
                                     to sample every few seconds
  full   (table, key) -> (g, v, note, length of big or None)

Each read is one consistent view per table where the store offers one: one
SQL statement, one Elasticsearch scroll per index. Redis has no snapshot;
SCAN returns every key that exists for the whole scan, so a key is never
reported missing while it exists (what the resurrection check relies on).
Standard library only.
"""
import base64
import json
import socket
import ssl
import subprocess
import urllib.request

# ---------------------------------------------------------------------------
# the layout: tables and their key columns, from the source's catalog


def load_layout(path):
    """{"schema": S, "tables": {name: {"key": [cols], "big": bool}}}"""
    with open(path) as f:
        return json.load(f)


def key_text(values):
    """The key as text, like concat_ws(':', ...) of the key columns."""
    return ":".join("" if v is None else (str(v) if not isinstance(v, bool) else str(v).lower())
                    for v in values)


# ---------------------------------------------------------------------------
# PostgreSQL (the source, and the postgres sink's target)


def _pg_select(layout, schema, table, full):
    spec = layout["tables"][table]
    key = ", ".join(f'"{c}"::text' for c in spec["key"])
    cols = ["v"]
    if full:
        big = "length(big)" if spec.get("big") else "NULL::int"
        cols = ["g", "v", "note", big]
    col_sql = ", ".join(cols)
    return (f"SELECT '{table}', concat_ws(':', {key}), "
            f"json_build_array({col_sql})::text FROM \"{schema}\".\"{table}\"")


def read_postgres(url, layout, schema, full=False, timeout=30):
    """One statement over every table: one snapshot of the whole database."""
    sql = " UNION ALL ".join(_pg_select(layout, schema, t, full) for t in sorted(layout["tables"]))
    out = subprocess.run(["psql", url, "-X", "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "\t", "-c", sql],
                         capture_output=True, text=True, timeout=timeout, check=True).stdout
    state = {}
    for line in out.splitlines():
        table, key, row = line.split("\t", 2)
        row = json.loads(row)
        state[(table, key)] = row[0] if not full else tuple(row)
    return state


# ---------------------------------------------------------------------------
# Elasticsearch / OpenSearch


class Http:
    def __init__(self, base, user=None, password=None, ca=None, timeout=20):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        if user:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers["Authorization"] = "Basic " + token
        self.context = ssl.create_default_context(cafile=ca) if ca else None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise


def _es_row(src, full):
    if not full:
        return src.get("v")
    big = src.get("big")
    return (src.get("g"), src.get("v"), src.get("note"), None if big is None else len(big))


def read_search(http, layout, index_prefix, full=False, refresh=False):
    """Every index's documents through one scroll each (a consistent view)."""
    state = {}
    fields = ["g", "v", "note", "big"] if full else ["v"]
    for table in sorted(layout["tables"]):
        index = f"{index_prefix}-{table}"
        if refresh:
            http.call("POST", f"/{index}/_refresh")
        page = http.call("POST", f"/{index}/_search?scroll=1m",
                         {"size": 5000, "_source": fields, "sort": ["_doc"]})
        if page is None:
            continue                      # the index does not exist (yet)
        scroll_id = page.get("_scroll_id")
        try:
            while page and page["hits"]["hits"]:
                for hit in page["hits"]["hits"]:
                    state[(table, hit["_id"])] = _es_row(hit.get("_source", {}), full)
                scroll_id = page.get("_scroll_id", scroll_id)
                page = http.call("POST", "/_search/scroll", {"scroll": "1m", "scroll_id": scroll_id})
        finally:
            if scroll_id:
                try:
                    http.call("DELETE", "/_search/scroll", {"scroll_id": [scroll_id]})
                except Exception:
                    pass
    return state


# ---------------------------------------------------------------------------
# Redis: a minimal RESP client (no library needed for GET/SCAN/EVAL)


class Resp:
    def __init__(self, host, port, timeout=20):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def close(self):
        self.sock.close()

    def call(self, *args):
        parts = [f"*{len(args)}\r\n".encode()]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _reply(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)[:-2]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"redis: unexpected reply {line!r}")


# One SCAN step and the values of the keys it returned, in one atomic call;
# with ARGV[4] = "v" only each value's "v" member (no JSON decoding on the
# server, no transfer of TOASTed text).
_SCAN_SCRIPT = """
local r = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local out = {r[1]}
for _, k in ipairs(r[2]) do
  local val = redis.call('GET', k)
  if val then
    if ARGV[4] == 'v' then val = string.match(val, '"v":(%-?%d+)') or '' end
    out[#out + 1] = k
    out[#out + 1] = val
  end
end
return out
"""


def read_redis(host, port, layout, key_prefix, full=False):
    """Keys KEY_PREFIX:<table>:<key> with JSON values."""
    conn = Resp(host, port)
    try:
        state = {}
        cursor = "0"
        while True:
            reply = conn.call("EVAL", _SCAN_SCRIPT, 0, cursor, key_prefix + ":*", 2000, "full" if full else "v")
            cursor = reply[0].decode()
            for i in range(1, len(reply), 2):
                name = reply[i].decode()
                table, _, key = name[len(key_prefix) + 1:].partition(":")
                if table not in layout["tables"]:
                    continue
                value = reply[i + 1]
                if full:
                    state[(table, key)] = _es_row(json.loads(value), True)
                else:
                    state[(table, key)] = int(value) if value else None
            if cursor == "0":
                return state
    finally:
        conn.close()


# ---------------------------------------------------------------------------


def reader(sink, args):
    """A function of (full, refresh) -> state for one of the chaos suite's
    sinks; refresh makes a search engine show every acknowledged write."""
    layout = load_layout(args.layout)
    if sink == "postgres":
        return lambda full=False, refresh=False: read_postgres(args.target_url, layout, args.target_schema, full)
    if sink == "redis":
        host, port = args.redis.rsplit(":", 1)
        return lambda full=False, refresh=False: read_redis(host, int(port), layout, args.redis_prefix, full)
    if sink == "elasticsearch":
        http = Http(args.es_url)
        return lambda full=False, refresh=False: read_search(http, layout, args.es_prefix, full, refresh)
    raise ValueError(f"no sink {sink}")
