#!/usr/bin/env python3
"""Runs `cdcsink check` on every pipeline file the chart rendered.

    check-pipeline-files.py CDCSINK RENDERED.yaml WORKDIR

For each ConfigMap holding a pipeline.properties (the pipelines' and the
migrate hooks' copies), the file is checked the way the pod that mounts it
would read it: with the environment variables the pod's container sets
(secret ones get a stand-in value) and with each secret file of its
projected volume present under WORKDIR (the file's /etc/cdcsink/ paths are
pointed there: `check` reads ${file:...} references). `cdcsink check`
connects to nothing, so no broker, registry or sink is needed; it refuses
unknown keys, keys of another sink, bad values and unset references.
Prints `ok`/`FAIL` lines; exits 1 if any failed.
"""
import os
import subprocess
import sys

import yaml

# A colon: some secrets are USER:PASSWORD (schema.registry.basic.auth.user.info).
STAND_IN = "stand-in:s3cret"


def pods(docs):
    """(pod spec) of every workload in the rendered documents."""
    for d in docs:
        spec = d.get("spec", {})
        if d["kind"] in ("Deployment", "Job"):
            yield spec["template"]["spec"]
        elif d["kind"] == "CronJob":
            yield spec["jobTemplate"]["spec"]["template"]["spec"]


def main():
    cdcsink, rendered, workdir = sys.argv[1:4]
    with open(rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    cms = {d["metadata"]["name"]: d["data"]["pipeline.properties"]
           for d in docs if d["kind"] == "ConfigMap" and "pipeline.properties" in d.get("data", {})}
    # What each ConfigMap's readers get: env names and secret file names.
    readers = {}
    for pod in pods(docs):
        sources = [v for v in pod["volumes"] if v["name"] == "config"][0]["projected"]["sources"]
        cm = [s["configMap"]["name"] for s in sources if "configMap" in s][0]
        files = [i["path"] for s in sources if "secret" in s for i in s["secret"]["items"]]
        env = {}
        for e in pod["containers"][0].get("env", []):
            env[e["name"]] = e.get("value", STAND_IN)
        readers.setdefault(cm, (env, files))
    failed = 0
    for name in sorted(cms):
        if name not in readers:
            print("FAIL cdcsink check %s: no pod mounts it" % name)
            failed += 1
            continue
        env, files = readers[name]
        base = os.path.join(workdir, name)
        for path in files:
            full = os.path.join(base, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(STAND_IN + "\n")
        os.makedirs(base, exist_ok=True)
        text = cms[name].replace("/etc/cdcsink/", base + "/")
        pfile = os.path.join(base, "pipeline.properties")
        with open(pfile, "w") as f:
            f.write(text)
        run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        run_env.update(env)
        r = subprocess.run([cdcsink, "check", "-c", pfile], env=run_env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode == 0 and STAND_IN not in r.stdout:
            print("ok   cdcsink check %s" % name)
        else:
            failed += 1
            why = "exit %d" % r.returncode if r.returncode else "printed a secret"
            print("FAIL cdcsink check %s (%s):" % (name, why))
            print("\n".join("     " + line for line in r.stdout.splitlines()[-15:]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
