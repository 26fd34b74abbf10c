#!/usr/bin/env python3
"""hostile.py — crafts Debezium-shaped change records that Debezium itself
cannot make (issue 13, tests/integration/t0620-hostile-input.sh).

Usage: hostile.py REGISTRY_URL TOPIC OUTDIR CASE

Registers each schema in the registry's Confluent-compatible API
(POST /subjects/<subject>/versions) and writes each record's
Confluent-framed key and value (0x00, the 4-byte id, Avro) to
OUTDIR/NNNN.key and OUTDIR/NNNN.value, in order, for tests/tools/produce.
Prints one line per record: "NNNN what", and writes OUTDIR/expect.json
(facts the test asserts: md5 of the big values, the ids, ...).

The shapes are copied from the captured real schemas
(tests/data/debezium/schemas/21.json: the Envelope, its Source and
transaction block; 20.json: the Key): the records look like Debezium's.

CASEs (each one table, "before" and "after" rows around the hostile ones):
  plain    only "before" and "after" (a baseline)
  big      a 10 MiB text value (random hex: TOAST and gzip cannot shrink it much)
  many     12 records of 10 MiB in a row
  wide     a row of 5,000 columns (PostgreSQL holds at most 1,600), into the
           table of "before" and into a table of its own (<table>_w)
  deep     schemas nested past the limits: records, arrays of arrays, a
           schema whose JSON text nests (10,000 deep, or as deep as the
           registry takes); a recursive schema whose datum nests 10,000
           deep; and arrays of arrays 20 deep (within the limits)
  bigkey   a primary key of 1 MiB (a string column)
Python 3 standard library only.
"""
import hashlib
import json
import os
import struct
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURED = os.path.join(HERE, "..", "data", "debezium", "schemas", "21.json")
MIB = 1024 * 1024


# ---------------------------------------------------------------- Avro binary
def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def a_long(n):
    return zigzag(n)


def a_string(s):
    b = s.encode() if isinstance(s, str) else s
    return zigzag(len(b)) + b


def a_union(branch, body=b""):
    return zigzag(branch) + body


def frame(schema_id, body):
    return b"\x00" + struct.pack(">I", schema_id) + body


# ---------------------------------------------------------------- registry
class Registry:
    def __init__(self, url):
        self.url = url.rstrip("/")
        self.largest = 0  # bytes of the largest schema text it took

    def register(self, subject, schema):
        """The id, or (None, reason) when the registry refuses the schema."""
        text = schema if isinstance(schema, str) else json.dumps(schema, separators=(",", ":"))
        body = json.dumps({"schema": text}).encode()
        req = urllib.request.Request(
            f"{self.url}/subjects/{subject}/versions", data=body, method="POST",
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                self.largest = max(self.largest, len(text))
                return json.load(r)["id"], None
        except urllib.error.HTTPError as e:
            return None, f"HTTP {e.code}: {e.read()[:300].decode(errors='replace')}"


# ---------------------------------------------------------------- Debezium shapes
def captured():
    with open(CAPTURED) as f:
        return json.load(f)


def envelope_schema(ns, value_fields):
    """The Envelope of 21.json with our own Value record."""
    env = captured()  # its Source and transaction records keep their namespaces
    env["namespace"] = ns
    env["connect.name"] = f"{ns}.Envelope"
    before = env["fields"][0]
    assert before["name"] == "before" and env["fields"][1]["name"] == "after"
    before["type"][1] = {"type": "record", "name": "Value", "fields": value_fields,
                         "connect.name": f"{ns}.Value"}
    return env


def key_schema(ns, fields):
    return {"type": "record", "name": "Key", "namespace": ns, "fields": fields,
            "connect.name": f"{ns}.Key"}


class Source:
    """Encodes 21.json's Source record and the envelope's tail."""

    def __init__(self, table, lsn_base):
        self.table = table
        self.lsn = lsn_base

    def source(self):
        self.lsn += 1000
        ts = 1795313400000 + self.lsn // 1000
        return (a_string("3.3.2.Final") + a_string("postgresql") + a_string("hostile")
                + a_long(ts)                      # ts_ms
                + a_union(0, a_string("false"))   # snapshot (enum string first)
                + a_string("source")              # db
                + a_union(0)                      # sequence: null
                + a_union(1, a_long(ts * 1000))   # ts_us
                + a_union(1, a_long(ts * 1000000))  # ts_ns
                + a_string("public") + a_string(self.table)
                + a_union(1, a_long(700 + self.lsn // 1000))  # txId
                + a_union(1, a_long(self.lsn))    # lsn
                + a_union(0))                     # xmin: null

    def change(self, op, before, after):
        """before/after: encoded Value bodies or None."""
        ts = 1795313400000 + self.lsn // 1000
        return ((a_union(0) if before is None else a_union(1, before))
                + (a_union(0) if after is None else a_union(1, after))
                + self.source()
                + a_union(0)                      # transaction: null
                + a_string(op)
                + a_union(1, a_long(ts)) + a_union(0) + a_union(0))


class Writer:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0
        self.expect = {}
        os.makedirs(outdir, exist_ok=True)

    def record(self, what, key, value):
        base = os.path.join(self.outdir, f"{self.n:04d}")
        with open(base + ".key", "wb") as f:
            f.write(key)
        with open(base + ".value", "wb") as f:
            f.write(value)
        print(f"{self.n:04d} {what} key={len(key)}B value={len(value)}B")
        self.n += 1

    def done(self):
        with open(os.path.join(self.outdir, "expect.json"), "w") as f:
            json.dump(self.expect, f, indent=1)


def random_hex(nbytes, seed):
    """nbytes of hex text from a sha256 chain: no run repeats, so neither
    pglz nor gzip gets it much below half."""
    out = bytearray()
    h = hashlib.sha256(seed.encode()).digest()
    while len(out) < nbytes:
        h = hashlib.sha256(h).digest()
        out += h.hex().encode()
    return bytes(out[:nbytes])


NARROW = [{"name": "id", "type": "int"},
          {"name": "v", "type": ["null", "string"], "default": None}]


def narrow_row(i, v):
    return a_long(i) + a_union(1, a_string(v))


def int_key(reg, topic, ns):
    kid, why = reg.register(f"{topic}-key", key_schema(ns, [{"name": "id", "type": "int"}]))
    if kid is None:
        sys.exit(f"hostile: the registry refused the key schema: {why}")
    return lambda i: frame(kid, a_long(i))


def narrow_value(reg, topic, ns):
    vid, why = reg.register(f"{topic}-value", envelope_schema(ns, NARROW))
    if vid is None:
        sys.exit(f"hostile: the registry refused the value schema: {why}")
    return vid


# ---------------------------------------------------------------- cases
def case_plain(reg, topic, ns, table, w):
    """The baseline: what a pipeline costs without anything hostile."""
    key = int_key(reg, topic, ns)
    vid = narrow_value(reg, topic, ns)
    src = Source(table, 10_000_000)
    w.record("before id=1", key(1), frame(vid, src.change("c", None, narrow_row(1, "before"))))
    w.record("after id=3", key(3), frame(vid, src.change("c", None, narrow_row(3, "after"))))


def case_big(reg, topic, ns, table, w):
    key = int_key(reg, topic, ns)
    vid = narrow_value(reg, topic, ns)
    src = Source(table, 10_000_000)
    big = random_hex(10 * MIB, topic)
    w.expect["big_md5"] = hashlib.md5(big).hexdigest()
    w.expect["big_len"] = len(big)
    w.record("before id=1", key(1), frame(vid, src.change("c", None, narrow_row(1, "before"))))
    w.record("big id=2 (v: 10 MiB)", key(2), frame(vid, src.change("c", None, narrow_row(2, big.decode()))))
    w.record("after id=3", key(3), frame(vid, src.change("c", None, narrow_row(3, "after"))))


MANY = 12


def case_many(reg, topic, ns, table, w):
    """MANY records of 10 MiB in a row: what one batch may hold."""
    key = int_key(reg, topic, ns)
    vid = narrow_value(reg, topic, ns)
    src = Source(table, 10_000_000)
    big = random_hex(10 * MIB, topic).decode()
    w.expect["big_md5"] = hashlib.md5(big.encode()).hexdigest()
    w.record("before id=1", key(1), frame(vid, src.change("c", None, narrow_row(1, "before"))))
    for i in range(MANY):
        w.record(f"big id={10 + i} (v: 10 MiB)", key(10 + i),
                 frame(vid, src.change("c", None, narrow_row(10 + i, big))))
    w.record("after id=3", key(3), frame(vid, src.change("c", None, narrow_row(3, "after"))))


WIDE = 5000


def case_wide(reg, topic, ns, table, w):
    key = int_key(reg, topic, ns)
    vid = narrow_value(reg, topic, ns)
    fields = [{"name": "id", "type": "int"}, {"name": "v", "type": ["null", "string"], "default": None}]
    fields += [{"name": f"c{i:04d}", "type": ["null", "string"], "default": None}
               for i in range(2, WIDE)]
    wid, why = reg.register(f"{topic}-value", envelope_schema(ns, fields))
    if wid is None:
        sys.exit(f"hostile: the registry refused the wide schema: {why}")
    src = Source(table, 10_000_000)
    row = a_long(2) + a_union(1, a_string("wide")) + b"".join(
        a_union(1, a_string(f"x{i}")) for i in range(2, WIDE))
    w.expect["wide_columns"] = WIDE
    w.expect["wide_schema_id"] = wid
    w.record("before id=1", key(1), frame(vid, src.change("c", None, narrow_row(1, "before"))))
    w.record(f"wide id=2 ({WIDE} columns)", key(2), frame(wid, src.change("c", None, row)))
    w.record("after id=3", key(3), frame(vid, src.change("c", None, narrow_row(3, "after"))))
    # A table whose first record is the wide one: created, not altered.
    src2 = Source(table + "_w", 20_000_000)
    w.record(f"wide id=4 ({WIDE} columns, table {table}_w)", key(4),
             frame(wid, src2.change("c", None, a_long(4) + row[len(a_long(2)):])))


DEEP = 10000


def nested_records(n):
    """A Value column whose type is a record of a record ... n deep (JSON
    text: built as a string, json.dumps would recurse)."""
    head = "".join(f'{{"type":"record","name":"N{i}","fields":[{{"name":"f","type":' for i in range(n))
    return head + '"int"' + "}]}" * n


def nested_arrays(n):
    return '{"type":"array","items":' * n + '"int"' + "}" * n


def deep_envelope(ns, column_type_json):
    """The envelope text with a column `d` of the given (JSON text) type."""
    marker = "__DEEP_TYPE__"
    env = envelope_schema(ns, NARROW + [{"name": "d", "type": ["null", marker], "default": None}])
    text = json.dumps(env, separators=(",", ":"))
    return text.replace(json.dumps(marker), column_type_json)


def case_deep(reg, topic, ns, table, w):
    key = int_key(reg, topic, ns)
    vid = narrow_value(reg, topic, ns)
    src = Source(table, 10_000_000)
    w.record("before id=1", key(1), frame(vid, src.change("c", None, narrow_row(1, "before"))))
    refused = {}
    ids = {}
    depths = {}
    # Schemas the decoder must refuse, each under a subject of its own.
    # Apicurio itself refuses JSON nested about 1,000 deep (422, "Failed to
    # discover artifact type"), so each is sent as deep as the registry
    # takes, DEEP first (tests/unit/t0020-hostile-input.c compiles the
    # 10,000-deep ones directly).
    kinds = [
        ("records", lambda n: nested_records(n), [DEEP, 1000, 330, 300, 100]),
        ("arrays", lambda n: nested_arrays(n), [DEEP, 990, 900, 500, 100]),
        ("json", lambda n: '{"type":"string","x":' + "[" * n + "]" * n + "}",
         [DEEP, 990, 900, 500, 100]),
    ]
    for name, make, tries in kinds:
        for depth in tries:
            text = deep_envelope(ns, make(depth))
            sid, why = reg.register(f"{topic}-deep-{name}{depth}-value", text)
            if sid is not None:
                break
            refused[f"{name}{depth}"] = why
        if sid is None:
            sys.exit(f"hostile: the registry refused every deep {name} schema: {why}")
        ids[name] = sid
        depths[name] = depth
        # The datum is what the schema would decode: it is never reached.
        w.record(f"deep-{name} id=2 ({name} {depth} deep, schema {len(text)} B)", key(2),
                 frame(sid, src.change("c", None, narrow_row(2, name) + a_union(0))))
    # A recursive schema: small and valid, its datum nests DEEP levels.
    linked = ('{"type":"record","name":"Link","fields":[{"name":"n","type":"int"},'
              '{"name":"next","type":["null","Link"],"default":null}]}')
    sid, why = reg.register(f"{topic}-deep-linked-value", deep_envelope(ns, linked))
    if sid is None:
        sys.exit(f"hostile: the registry refused the recursive schema: {why}")
    ids["linked"] = sid
    datum = b"".join(a_long(i) + zigzag(1) for i in range(DEEP - 1)) + a_long(DEEP - 1) + zigzag(0)
    w.record(f"deep-linked id=3 (datum {DEEP} deep)", key(3),
             frame(sid, src.change("c", None, narrow_row(3, "linked") + a_union(1, datum))))
    # Arrays of arrays within the limits: [[[...[7]...]]], 20 deep.
    shallow = 20
    sid, why = reg.register(f"{topic}-deep-arrays20-value", deep_envelope(ns, nested_arrays(shallow)))
    if sid is None:
        sys.exit(f"hostile: the registry refused the 20-deep arrays: {why}")
    ids["arrays20"] = sid
    datum = zigzag(1) * shallow + a_long(7) + zigzag(0) * shallow
    w.record(f"arrays20 id=4 (arrays {shallow} deep)", key(4),
             frame(sid, src.change("c", None, narrow_row(4, "arrays20") + a_union(1, datum))))
    w.record("after id=5", key(5), frame(vid, src.change("c", None, narrow_row(5, "after"))))
    w.expect["refused_by_registry"] = refused
    w.expect["schema_ids"] = ids
    w.expect["depths"] = depths


def case_bigkey(reg, topic, ns, table, w):
    kid, why = reg.register(f"{topic}-key", key_schema(ns, [{"name": "id", "type": "string"}]))
    if kid is None:
        sys.exit(f"hostile: the registry refused the key schema: {why}")
    fields = [{"name": "id", "type": "string"}, {"name": "v", "type": ["null", "string"], "default": None}]
    vid, why = reg.register(f"{topic}-value", envelope_schema(ns, fields))
    if vid is None:
        sys.exit(f"hostile: the registry refused the value schema: {why}")
    src = Source(table, 10_000_000)
    big = random_hex(MIB, topic).decode()
    w.expect["key_md5"] = hashlib.md5(big.encode()).hexdigest()
    w.expect["key_len"] = len(big)

    def rec(k, v):
        return frame(kid, a_string(k)), frame(vid, src.change("c", None, a_string(k) + a_union(1, a_string(v))))
    w.record("before id=k1", *rec("k1", "before"))
    w.record("bigkey id=<1 MiB>", *rec(big, "big key"))
    w.record("after id=k3", *rec("k3", "after"))


CASES = {"plain": case_plain, "big": case_big, "many": case_many, "wide": case_wide, "deep": case_deep, "bigkey": case_bigkey}


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in CASES:
        sys.exit(f"usage: hostile.py REGISTRY_URL TOPIC OUTDIR {{{'|'.join(CASES)}}}")
    url, topic, outdir, case = sys.argv[1:]
    table = topic.rsplit(".", 1)[-1]
    ns = topic
    w = Writer(outdir)
    reg = Registry(url)
    CASES[case](reg, topic, ns, table, w)
    w.expect["largest_schema"] = reg.largest
    w.done()


if __name__ == "__main__":
    main()
