#!/usr/bin/env python3
"""Stands in for the Job controller while `helm install` runs its hooks.

    complete-hooks.py [--fail] SERVER TOKEN NAMESPACE JOB [JOB...]

The test API server runs no controller manager and no kubelet, so a hook
Job would never finish and helm would wait for it. For each JOB, in
order: wait until helm creates it, check that the ConfigMap and Secrets
its pod mounts exist at that moment (the hooks of lower weight came
first), then mark it complete (--fail: failed) through its status, as
the Job controller would. Prints `ok`/`FAIL` lines; exits 1 if any failed.
"""
import datetime
import sys
import time

from apiclient import call


def main():
    args = sys.argv[1:]
    fail = args[0] == "--fail"
    if fail:
        args = args[1:]
    server, token, ns = args[:3]
    failed = 0
    for name in args[3:]:
        path = "/apis/batch/v1/namespaces/%s/jobs/%s" % (ns, name)
        deadline = time.time() + 60
        code, job = call(server, token, "GET", path)
        while code == 404 and time.time() < deadline:
            time.sleep(0.2)
            code, job = call(server, token, "GET", path)
        if code != 200:
            print("FAIL hook Job %s was never created (HTTP %d)" % (name, code))
            failed += 1
            continue
        pod = job["spec"]["template"]["spec"]
        sources = [v for v in pod["volumes"] if v["name"] == "config"][0]["projected"]["sources"]
        wanted = [("configmaps", s["configMap"]["name"]) for s in sources if "configMap" in s]
        wanted += [("secrets", s["secret"]["name"]) for s in sources if "secret" in s]
        wanted += [("secrets", e["valueFrom"]["secretKeyRef"]["name"])
                   for e in pod["containers"][0].get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
        for kind, obj in sorted(set(wanted)):
            code, _ = call(server, token, "GET", "/api/v1/namespaces/%s/%s/%s" % (ns, kind, obj))
            # Secrets the values name as existing are created by the test
            # beforehand, like an operator would.
            if code == 200:
                print("ok   hook Job %s: its %s %s exists when it starts" % (name, kind[:-1], obj))
            else:
                print("FAIL hook Job %s: its %s %s does not exist when it starts" % (name, kind[:-1], obj))
                failed += 1
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if fail:
            status = {"status": {
                "startTime": now, "failed": 1,
                "conditions": [
                    {"type": "FailureTarget", "status": "True", "lastTransitionTime": now,
                     "reason": "BackoffLimitExceeded", "message": "test"},
                    {"type": "Failed", "status": "True", "lastTransitionTime": now,
                     "reason": "BackoffLimitExceeded", "message": "test"},
                ]}}
        else:
            status = {"status": {
                "startTime": now, "completionTime": now, "succeeded": 1,
                "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
                    {"type": "Complete", "status": "True", "lastTransitionTime": now},
                ]}}
        code, answer = call(server, token, "PATCH", path + "/status", status, "application/merge-patch+json")
        if code == 200:
            print("ok   hook Job %s marked %s" % (name, "failed" if fail else "complete"))
        else:
            print("FAIL hook Job %s: status not accepted: HTTP %d %s" % (name, code, answer.get("message")))
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
