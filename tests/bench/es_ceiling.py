#!/usr/bin/env python3
"""The ceiling of the elasticsearch sink's benchmark: pre-built `_bulk`
bodies (the same versioned items cdcsink sends, the same number per
request) posted to the engine over keep-alive connections, IN_FLIGHT at
once, as fast as it takes them. Prints "<items> items in <s> s: <rate> items/s".

    es_ceiling.py URL DIR IN_FLIGHT      (DIR: body-*.ndjson, sent in name order)
"""
import glob
import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse


def main():
    url, folder, in_flight = sys.argv[1], sys.argv[2], int(sys.argv[3])
    up = urllib.parse.urlparse(url)
    files = sorted(glob.glob(folder + "/body-*.ndjson"))
    bodies = [open(f, "rb").read() for f in files]  # read before timing
    work = queue.Queue()
    for b in bodies:
        work.put(b)
    errors = []

    def sender():
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            conn.request("POST", "/_bulk?filter_path=errors,items.*.status", body=body,
                         headers={"Content-Type": "application/x-ndjson"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200 or json.loads(data).get("errors"):
                errors.append(data[:300])

    start = time.time()
    threads = [threading.Thread(target=sender) for _ in range(in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - start
    items = sum(b.count(b'"_index"') for b in bodies)
    if errors:
        print("errors: %d requests, first: %r" % (len(errors), errors[0]), file=sys.stderr)
        sys.exit(1)
    print("%d items in %.2f s: %d items/s" % (items, took, items / took))


if __name__ == "__main__":
    main()
