#!/usr/bin/env python3
"""The floor of tests/bench/latency: how late a plain consumer sees records.

    kcat -C -t TOPIC -o end -u -q -f '%T\\n' | receipt_latency.py

Reads one Kafka timestamp (ms) a line, as kcat prints them while it
consumes, and at the end of its input prints one line: the number of
records and p50/p99/p999/max of the time from each record's timestamp to
the moment it was read here. With the topic's message.timestamp.type =
LogAppendTime that is the broker's append to a consumer's receipt on this
machine: what no sink can beat, measured in the same run as the sink.
"""
import sys
import time


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def main():
    latencies = []
    for line in sys.stdin:
        received_ms = time.time() * 1000
        try:
            latencies.append(received_ms - int(line))
        except ValueError:
            continue
    if not latencies:
        print("records=0")
        return 0
    latencies.sort()
    print("records=%d p50=%.0f p99=%.0f p999=%.0f max=%.0f" % (
        len(latencies), percentile(latencies, 0.50), percentile(latencies, 0.99),
        percentile(latencies, 0.999), latencies[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
