#!/usr/bin/env python3
"""The chaos suite's invariant checker (tests/chaos/run drives it).

  invariants.py monitor ...   samples every sink while faults are injected:
                              a row's version must never go down, a key
                              once deleted must never come back
  invariants.py audit ...     the group's committed offsets, then the sink:
                              every record below a committed offset must be
                              visible in the sink (or something newer)
  invariants.py check ...     at the end: each sink against the source, row
                              by row; the model (a jsonl pipeline that was
                              never killed) against the source; the audits
                              against the model; prints the figures and
                              exits 1 when any count is not 0

Keys are never reused by the workload (inserts take fresh generator
numbers, primary key changes move a row to a fresh key), and every update
increments the row's v. So a version that goes down is a regression, and a
key that is present, then absent, then present again is a resurrected
delete, wherever it is seen.
"""
import argparse
import bisect
import gzip
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sinkstate  # noqa: E402

EXAMPLES = 5      # offending keys kept per count, for the report


def add_sink_args(p):
    p.add_argument("--layout", required=True)
    p.add_argument("--target-url")
    p.add_argument("--target-schema")
    p.add_argument("--redis")
    p.add_argument("--redis-prefix")
    p.add_argument("--es-url")
    p.add_argument("--es-prefix")


# ---------------------------------------------------------------------------
# monitor


class Tracker:
    """Per key: the highest version seen, and whether it is present now."""

    def __init__(self):
        self.seen = {}            # key -> [max v, present]
        self.regressed = {}       # key -> (before, after)
        self.resurrected = {}     # key -> v when it came back
        self.samples = 0

    def observe(self, state):
        self.samples += 1
        for key, v in state.items():
            entry = self.seen.get(key)
            if entry is None:
                self.seen[key] = [v, True]
                continue
            if not entry[1]:
                self.resurrected.setdefault(key, v)
            elif v is not None and entry[0] is not None and v < entry[0]:
                self.regressed.setdefault(key, (entry[0], v))
            if v is not None and (entry[0] is None or v > entry[0]):
                entry[0] = v
            entry[1] = True
        for key, entry in self.seen.items():
            if entry[1] and key not in state:
                entry[1] = False

    def summary(self):
        def ex(d):
            return [[list(k), v] for k, v in list(d.items())[:EXAMPLES]]
        return {"samples": self.samples, "keys": len(self.seen),
                "regressed": len(self.regressed), "regressed_examples": ex(self.regressed),
                "resurrected": len(self.resurrected), "resurrected_examples": ex(self.resurrected),
                "max_v": {f"{k[0]}\t{k[1]}": e[0] for k, e in self.seen.items() if e[1]}}


def cmd_monitor(args):
    sinks = args.sinks.split(",")
    readers = {s: sinkstate.reader(s, args) for s in sinks}
    trackers = {s: Tracker() for s in sinks}
    errors = {s: 0 for s in sinks}
    while not os.path.exists(args.stop):
        started = time.monotonic()
        for s in sinks:
            try:
                trackers[s].observe(readers[s]())
            except Exception:          # the sink server is down: a fault, not a finding
                errors[s] += 1
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    out = {s: dict(trackers[s].summary(), read_errors=errors[s]) for s in sinks}
    with open(args.out, "w") as f:
        json.dump(out, f)


def cmd_count(args):
    """How many rows the sink holds now (0 when it cannot be read)."""
    try:
        print(len(sinkstate.reader(args.sink, args)()))
    except Exception:
        print(0)
    return 0


# ---------------------------------------------------------------------------
# audit


def cmd_audit(args):
    lag = subprocess.run([args.cdcsink, "lag", "-c", args.config, "--json"],
                         capture_output=True, text=True, timeout=60)
    try:
        report = json.loads(lag.stdout)
    except ValueError:
        print(f"audit {args.sink}: no lag report ({lag.stderr.strip()[:200]})", file=sys.stderr)
        return 0                      # the broker is down: no audit this time
    committed = {}
    for p in report.get("partitions", []):
        committed.setdefault(p["topic"], {})[str(p["partition"])] = p["committed"]
    try:
        state = sinkstate.reader(args.sink, args)(False, True)
    except Exception as e:
        print(f"audit {args.sink}: sink unreadable ({e})", file=sys.stderr)
        return 0
    with gzip.open(args.out, "wt") as f:
        json.dump({"sink": args.sink, "time": time.time(), "committed": committed,
                   "state": [[k[0], k[1], v] for k, v in state.items()]}, f)
    return 0


# ---------------------------------------------------------------------------
# check


class Model:
    """The change log a never-killed jsonl pipeline wrote, per key."""

    def __init__(self, path, layout):
        self.records = {}             # key -> list of (offset, op, v, row), in offset order
        self.where = {}               # key -> (topic, partition)
        self.events = 0
        seen = set()
        with open(path) as f:
            for line in f:
                e = json.loads(line)
                if e["op"] not in ("c", "u", "r", "d"):
                    continue
                place = (e["topic"], e["partition"], e["offset"])
                if place in seen:
                    continue          # delivered again after a restart (at-least-once)
                seen.add(place)
                self.events += 1
                table = e["source"]["table"]
                spec = layout["tables"][table]
                key = (table, sinkstate.key_text(e["key"][c] for c in spec["key"]))
                self.where[key] = (e["topic"], str(e["partition"]))
                after = e["after"]
                self.records.setdefault(key, []).append(
                    (e["offset"], e["op"], None if after is None else after.get("v"), after))
        for recs in self.records.values():
            recs.sort(key=lambda r: r[0])
        self.offsets = {k: [r[0] for r in recs] for k, recs in self.records.items()}

    def end_state(self):
        """(table, key) -> (g, v, note, length of big): what the log implies."""
        state = {}
        for key, recs in self.records.items():
            row = None
            for _, op, _, after in recs:
                if op == "d":
                    row = None
                    continue
                old = row or {}
                row = {c: (old.get(c) if isinstance(val, dict) and val.get("$unavailable") else val)
                       for c, val in after.items()}
            if row is not None:
                big = row.get("big")
                state[key] = (row.get("g"), row.get("v"), row.get("note"), None if big is None else len(big))
        return state


def compare(source, sink):
    """Counts of a sink's end state against the source's."""
    lost, resurrected, different = {}, {}, {}
    for key, want in source.items():
        got = sink.get(key)
        if got is None or (got[1] is not None and want[1] is not None and got[1] < want[1]):
            lost[key] = [want, got]
        elif got != want:
            different[key] = [want, got]
    for key, got in sink.items():
        if key not in source:
            resurrected[key] = got
    return lost, resurrected, different


def audit_violations(model, audit):
    """Keys whose last record below the committed offset is not in the sink."""
    committed = audit["committed"]
    state = {(t, k): v for t, k, v in audit["state"]}
    bad = {}
    for key, recs in model.records.items():
        topic, partition = model.where[key]
        upto = committed.get(topic, {}).get(partition, -1)
        if upto is None or upto < 0:
            continue
        i = bisect.bisect_left(model.offsets[key], upto) - 1
        if i < 0:
            continue
        offset, op, v, _ = recs[i]
        deleted_later = any(r[1] == "d" for r in recs[i + 1:])
        got = state.get(key, "absent")
        if op == "d":
            ok = got == "absent"
        elif got == "absent":
            ok = deleted_later
        else:
            ok = got is None or v is None or got >= v
        if not ok:
            bad[key] = {"offset": offset, "op": op, "v": v, "sink": got, "committed": upto}
    return bad


def examples(d):
    return "; ".join(f"{k[0]}/{k[1]}: {v}" for k, v in list(d.items())[:EXAMPLES])


def cmd_check(args):
    layout = sinkstate.load_layout(args.layout)
    source = sinkstate.read_postgres(args.source_url, layout, layout["schema"], full=True)
    model = Model(args.model, layout)
    model_state = model.end_state()
    m_lost, m_extra, m_diff = compare(source, model_state)
    with open(args.monitor) as f:
        monitor = json.load(f)
    counts = json.loads(args.counts)          # per sink: dlq, commit_failures, kill9, ...
    report = {"events": model.events, "rows": len(source),
              "model_mismatch": len(m_lost) + len(m_extra) + len(m_diff), "sinks": {}}
    failed = False
    if report["model_mismatch"]:
        failed = True
        print("the model (a jsonl pipeline never killed) differs from the source: the run proves "
              f"nothing about the sinks. missing/behind: {examples(m_lost)} extra: {examples(m_extra)} "
              f"different: {examples(m_diff)}")
    for s in args.sinks.split(","):
        read = sinkstate.reader(s, args)
        final = read(True, True)
        lost, resurrected, different = compare(source, final)
        mon = monitor.get(s, {})
        regressed_final = {}
        for k, v in mon.get("max_v", {}).items():
            table, key = k.split("\t", 1)
            got = final.get((table, key))
            if got is not None and got[1] is not None and v is not None and got[1] < v:
                regressed_final[(table, key)] = (v, got[1])
        audits, past = 0, {}
        for name in sorted(os.listdir(args.audits)):
            if not name.startswith(f"audit-{s}-"):
                continue
            with gzip.open(os.path.join(args.audits, name), "rt") as f:
                audit = json.load(f)
            audits += 1
            for k, v in audit_violations(model, audit).items():
                past.setdefault(k, dict(v, audit=name))
        c = counts.get(s, {})
        figures = {
            "lost": len(lost),
            "regressed": mon.get("regressed", 0) + len(regressed_final),
            "resurrected": len(resurrected) + mon.get("resurrected", 0),
            "different": len(different),
            "dlq": c.get("dlq", 0),
            "committed_past_unapplied": len(past),
        }
        failed |= any(figures.values())
        info = {"rows": len(final), "samples": mon.get("samples", 0), "audits": audits,
                "commit_failures": c.get("commit_failures", 0)}
        report["sinks"][s] = dict(figures, **info)
        print(f"{s}: " + " ".join(f"{k}={v}" for k, v in figures.items()) +
              "  (" + " ".join(f"{k}={v}" for k, v in info.items()) + ")")
        for what, d in (("lost", lost), ("regressed", dict(regressed_final, **{tuple(x[0]): x[1] for x in mon.get("regressed_examples", [])})),
                        ("resurrected", dict(resurrected, **{tuple(x[0]): x[1] for x in mon.get("resurrected_examples", [])})),
                        ("different", different), ("committed past unapplied", past)):
            if d:
                print(f"  {what}: {examples(d)}")
        if info["samples"] < 2:
            failed = True
            print(f"  {s}: the monitor read the sink {info['samples']} times: nothing was watched")
        if audits == 0:
            failed = True
            print(f"  {s}: no commit audit was taken")
    with open(args.report, "w") as f:
        json.dump(report, f, indent=1)
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("monitor")
    add_sink_args(m)
    m.add_argument("--sinks", required=True)
    m.add_argument("--interval", type=float, default=4)
    m.add_argument("--stop", required=True)
    m.add_argument("--out", required=True)
    a = sub.add_parser("audit")
    add_sink_args(a)
    a.add_argument("--sink", required=True)
    a.add_argument("--config", required=True)
    a.add_argument("--cdcsink", required=True)
    a.add_argument("--out", required=True)
    n = sub.add_parser("count")
    add_sink_args(n)
    n.add_argument("--sink", required=True)
    c = sub.add_parser("check")
    add_sink_args(c)
    c.add_argument("--sinks", required=True)
    c.add_argument("--source-url", required=True)
    c.add_argument("--model", required=True)
    c.add_argument("--monitor", required=True)
    c.add_argument("--audits", required=True)
    c.add_argument("--counts", required=True)
    c.add_argument("--report", required=True)
    args = p.parse_args()
    return {"monitor": cmd_monitor, "audit": cmd_audit, "count": cmd_count,
            "check": cmd_check}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
