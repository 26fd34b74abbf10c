#!/usr/bin/env python3
"""Sends rendered manifests to a real kube-apiserver, server-side dry run.

    server-dry-run.py [--create] SERVER TOKEN NAMESPACE MANIFEST.yaml...

Each object is POSTed with dryRun=All and fieldValidation=Strict: the API
server runs its defaulting, validation (the real one, not a schema of
it: names, label syntax, port ranges, cron syntax, ...) and admission, and
refuses unknown or duplicate fields, then stores nothing. Resources are
found through the server's discovery, CRDs included. Prints `ok`/`FAIL`
per object; exits 1 if any failed. --create stores them instead (the CRDs
the chart's custom resources need). TLS is not verified: the server is
ours, on loopback, with a self-signed certificate.
"""
import sys

import yaml

from apiclient import call


def resources(server, token):
    """(apiVersion, kind) -> (path prefix, plural, namespaced)."""
    found = {}
    _, core = call(server, token, "GET", "/api/v1")
    lists = [("v1", "/api/v1", core)]
    _, groups = call(server, token, "GET", "/apis")
    for g in groups.get("groups", []):
        for v in g["versions"]:
            _, rl = call(server, token, "GET", "/apis/" + v["groupVersion"])
            lists.append((v["groupVersion"], "/apis/" + v["groupVersion"], rl))
    for gv, prefix, rl in lists:
        for r in rl.get("resources", []):
            if "/" not in r["name"]:
                found[(gv, r["kind"])] = (prefix, r["name"], r["namespaced"])
    return found


def main():
    args = sys.argv[1:]
    create = args[0] == "--create"
    if create:
        args = args[1:]
    server, token, namespace = args[:3]
    query = "?fieldValidation=Strict" if create else "?dryRun=All&fieldValidation=Strict"
    label = "created" if create else "server dry run"
    known = resources(server, token)
    failed = 0
    for path in args[3:]:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for d in docs:
            what = "%s %s/%s" % (path.rsplit("/", 1)[-1], d["kind"], d["metadata"]["name"])
            res = known.get((d["apiVersion"], d["kind"]))
            if not res:
                print("FAIL %s: the server serves no %s %s" % (what, d["apiVersion"], d["kind"]))
                failed += 1
                continue
            prefix, plural, namespaced = res
            url = "%s%s/%s%s" % (prefix, "/namespaces/" + namespace if namespaced else "", plural, query)
            code, answer = call(server, token, "POST", url, d)
            if code in (200, 201):
                print("ok   %s: %s" % (label, what))
            else:
                failed += 1
                print("FAIL %s: %s: HTTP %d %s" % (label, what, code, answer.get("message", answer)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
