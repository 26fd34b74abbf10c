#!/usr/bin/env python3
"""A steady stream of source changes for tests/bench/latency.

    steady_load.py URL TABLE RATE SECONDS [FIRST_ID]

Holds RATE changes a second on TABLE (id bigint PRIMARY KEY, v bigint,
note text) for SECONDS through one psql session: every 10 ms tick one
transaction of RATE/100 changes, four fifths inserts of new rows and one
fifth updates of rows inserted four ticks before, so that Debezium sees
small transactions of inserts and updates, as an OLTP service writes. The schedule is absolute (tick i
is due at start + i * 10 ms): a late tick is caught up, not skipped, so
the rate holds as long as PostgreSQL keeps up. Prints one line: the
changes sent, the seconds it took, and the rate reached.
"""
import subprocess
import sys
import time

TICK = 0.010


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    url, table, rate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    next_id = int(sys.argv[5]) if len(sys.argv) == 6 else 1
    per_tick = max(1, rate // 100)
    updates_per_tick = per_tick // 5
    inserts_per_tick = per_tick - updates_per_tick
    psql = subprocess.Popen(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null"],
                            stdin=subprocess.PIPE, text=True, bufsize=1)
    start = time.monotonic()
    ticks = int(seconds / TICK)
    sent = 0
    first_id = next_id
    for i in range(ticks):
        due = start + i * TICK
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        lo, hi = next_id, next_id + inserts_per_tick - 1
        sql = f"BEGIN;INSERT INTO {table} SELECT g, g, 'n' FROM generate_series({lo}, {hi}) g;"
        sent += inserts_per_tick
        u_lo = lo - 4 * inserts_per_tick  # rows inserted four ticks ago
        if updates_per_tick and u_lo >= first_id:
            sql += (f"UPDATE {table} SET v = v + 1, note = 'u' "
                    f"WHERE id BETWEEN {u_lo} AND {u_lo + updates_per_tick - 1};")
            sent += updates_per_tick
        next_id = hi + 1
        psql.stdin.write(sql + "COMMIT;\n")
    psql.stdin.close()
    if psql.wait() != 0:
        print("steady_load: psql failed", file=sys.stderr)
        return 1
    took = time.monotonic() - start
    print(f"sent {sent} changes in {took:.1f} s: {sent / took:.0f} changes/s; next id {next_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
