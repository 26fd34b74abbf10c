#!/usr/bin/env python3
"""Assertions on the chart's rendered manifests.

    assertions.py RELEASE RENDERED.yaml VALUES.yaml

RENDERED.yaml is `helm template RELEASE helm/cdcsink -f VALUES.yaml`.
Prints one `ok NAME` or `FAIL NAME: why` line per assertion (tests/helm/run
counts them) and exits 1 if any failed. What the values file says is
compared with what was rendered: one Deployment per pipeline, the security
context, probes, grace period, hooks, secrets kept out of ConfigMaps, and
that every object a pod refers to is rendered (or is a Secret the values
name as existing).
"""
import hashlib
import re
import sys

import yaml

CONFIG_FILE = "/etc/cdcsink/pipeline.properties"
SECRET_DIR = "/etc/cdcsink/secrets/"

failures = 0


def check(name, cond, why=""):
    global failures
    if cond:
        print("ok   %s" % name)
    else:
        failures += 1
        print("FAIL %s%s" % (name, ": " + why if why else ""))


def pipeline_file(text):
    """key = value lines of a pipeline file, as a dict."""
    keys = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s[0] in "#!":
            continue
        k, _, v = s.partition("=")
        keys[k.strip()] = v.strip()
    return keys


def setting(values, name, *path, default=None):
    """A pipeline's value: its own, else defaults', else default."""
    for source in (values.get("pipelines", {}).get(name, {}), values.get("defaults", {})):
        node = source
        for p in path:
            if not isinstance(node, dict) or p not in node:
                node = None
                break
            node = node[p]
        if node is not None:
            return node
    return default


def secret_values(values):
    """Every `value:` of a secrets entry in the values file."""
    found = []
    sources = [values.get("defaults", {})] + list(values.get("pipelines", {}).values())
    for src in sources:
        for kind in ("env", "files"):
            for entry in (src.get("secrets", {}) or {}).get(kind, {}).values():
                if "value" in entry:
                    found.append(str(entry["value"]))
    return found


def main():
    release, rendered, values_file = sys.argv[1:4]
    with open(values_file) as f:
        values = yaml.safe_load(f) or {}
    with open(rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    pipelines = sorted(values.get("pipelines", {}))
    hooks = {n for n, d in by_kind.get("ConfigMap", {}).items()
             if "helm.sh/hook" in d["metadata"].get("annotations", {})}
    configmaps = {n: d for n, d in by_kind.get("ConfigMap", {}).items() if n not in hooks}

    for kind in ("Deployment", "ConfigMap", "Service", "PodDisruptionBudget"):
        names = sorted(n for n in by_kind.get(kind, {}) if n not in hooks)
        want = sorted("%s-%s" % (release, p) for p in pipelines)
        check("one %s per pipeline" % kind, names == want, "%s != %s" % (names, want))

    unlabelled = ["%s/%s" % (d["kind"], d["metadata"]["name"]) for d in docs
                  if d["metadata"].get("labels", {}).get("app.kubernetes.io/instance") != release
                  or d["metadata"].get("labels", {}).get("app.kubernetes.io/name") != "cdcsink"]
    check("every object carries the release's labels", not unlabelled, str(unlabelled))

    # Secret values never outside a Secret, in any form they could take.
    secrets = secret_values(values)
    for d in docs:
        if d["kind"] == "Secret":
            continue
        text = yaml.safe_dump(d)
        leaked = [s for s in secrets if s.strip() and s.strip().splitlines()[0] in text]
        if leaked:
            check("no secret value in %s/%s" % (d["kind"], d["metadata"]["name"]), False, "found %d" % len(leaked))
    check("no secret value outside the Secrets (%d values)" % len(secrets), True)

    existing = set()
    for src in [values.get("defaults", {})] + list(values.get("pipelines", {}).values()):
        for kind in ("env", "files"):
            for entry in (src.get("secrets", {}) or {}).get(kind, {}).values():
                if "existingSecret" in entry:
                    existing.add(entry["existingSecret"])
    rendered_secrets = set(by_kind.get("Secret", {}))
    rendered_cms = set(by_kind.get("ConfigMap", {}))

    def pod_checks(what, pod, cm_name, pipeline, args, is_job):
        c = pod["containers"][0]
        check("%s: args" % what, c["args"][:len(args)] == args, str(c["args"]))
        psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
        check("%s: pod securityContext (runAsNonRoot, seccomp RuntimeDefault)" % what,
              psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", str(psc))
        check("%s: container securityContext (no privilege escalation, read-only root, drop ALL)" % what,
              csc.get("allowPrivilegeEscalation") is False and csc.get("readOnlyRootFilesystem") is True
              and csc.get("capabilities", {}).get("drop") == ["ALL"] and csc.get("runAsNonRoot") is True
              and csc.get("privileged") is False, str(csc))
        check("%s: no service account token" % what, pod.get("automountServiceAccountToken") is False)
        if is_job:
            check("%s: restartPolicy Never" % what, pod.get("restartPolicy") == "Never")
        # Every ConfigMap and Secret the pod mounts or reads exists.
        projected = [v for v in pod["volumes"] if v["name"] == "config"][0]["projected"]["sources"]
        refs_cm = [s["configMap"]["name"] for s in projected if "configMap" in s]
        refs_secret = [s["secret"]["name"] for s in projected if "secret" in s]
        refs_secret += [e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                        if "secretKeyRef" in e.get("valueFrom", {})]
        check("%s: mounts ConfigMap %s" % (what, cm_name), refs_cm == [cm_name], str(refs_cm))
        missing = [s for s in refs_secret if s not in rendered_secrets and s not in existing]
        check("%s: every Secret it reads is rendered or named existing" % what, not missing, str(missing))
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        check("%s: pipeline file at %s" % (what, CONFIG_FILE),
              "/etc/cdcsink" in mounts and any(i["path"] == "pipeline.properties"
                                               for s in projected if "configMap" in s for i in s["configMap"]["items"]))
        # ${env:X} and ${file:...secrets/X} of the file this pod reads all resolve.
        cm = "\n".join(v for v in pipeline_file(by_kind["ConfigMap"][cm_name]["data"]["pipeline.properties"]).values())
        env = {e["name"] for e in c.get("env", [])}
        files = {i["path"][len("secrets/"):] for s in projected if "secret" in s for i in s["secret"]["items"]}
        want_env = set(re.findall(r"\$\{env:([^}]*)\}", cm))
        want_files = set()
        for ref in re.findall(r"\$\{file:([^}]*)\}", cm):
            path = ref if ref.startswith("/") else "/etc/cdcsink/" + ref
            if path.startswith(SECRET_DIR):
                want_files.add(path[len(SECRET_DIR):])
        check("%s: every ${env:...} is set" % what, want_env <= env, str(want_env - env))
        check("%s: every ${file:%s...} is mounted" % (what, SECRET_DIR), want_files <= files, str(want_files - files))
        return c

    for p in pipelines:
        full = "%s-%s" % (release, p)
        dep = by_kind.get("Deployment", {}).get(full)
        cm = configmaps.get(full)
        if not dep or not cm:
            continue
        text = cm["data"]["pipeline.properties"]
        keys = pipeline_file(text)
        sink = values["pipelines"][p]["sink"]
        check("%s: pipeline file names the pipeline and its sink" % p,
              keys.get("name") == p and keys.get("sink") == sink, str(keys.get("name")))
        check("%s: http.listen binds all addresses" % p, keys.get("http.listen", "").startswith(("0.0.0.0:", "[::]:")))
        pod = dep["spec"]["template"]["spec"]
        c = pod_checks("%s Deployment" % p, pod, full, p, ["run", "-c", CONFIG_FILE], False)
        port = int(keys["http.listen"].rsplit(":", 1)[1])
        ports = {x["name"]: x["containerPort"] for x in c.get("ports", [])}
        check("%s: container port = http.listen's" % p, ports.get("http") == port, str(ports))
        lp, rp = c.get("livenessProbe", {}), c.get("readinessProbe", {})
        check("%s: liveness on /healthz, readiness on /readyz" % p,
              lp.get("httpGet", {}).get("path") == "/healthz" and rp.get("httpGet", {}).get("path") == "/readyz"
              and lp["httpGet"]["port"] == "http" and rp["httpGet"]["port"] == "http")
        timeout_ms = int(keys.get("shutdown.timeout.ms", 30000))
        grace = pod.get("terminationGracePeriodSeconds", 30)
        check("%s: terminationGracePeriodSeconds %s > shutdown.timeout.ms/1000 (%s)" % (p, grace, timeout_ms / 1000),
              grace > timeout_ms / 1000)
        ann = dep["spec"]["template"]["metadata"].get("annotations", {})
        check("%s: checksum/config is the pipeline file's sha256" % p,
              ann.get("checksum/config") == hashlib.sha256(text.encode()).hexdigest(), ann.get("checksum/config", "missing"))
        strategy = dep["spec"].get("strategy", {}).get("rollingUpdate", {})
        check("%s: rolls without surge" % p, strategy.get("maxSurge") == 0)
        sel = dep["spec"]["selector"]["matchLabels"]
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        check("%s: selector matches its pods" % p, all(pod_labels.get(k) == v for k, v in sel.items()))
        svc = by_kind["Service"][full]
        check("%s: Service selects the Deployment's pods" % p, svc["spec"]["selector"] == sel)
        check("%s: Service port metrics -> http" % p,
              [(x["name"], x["targetPort"]) for x in svc["spec"]["ports"]] == [("metrics", "http")])
        pdb = by_kind.get("PodDisruptionBudget", {}).get(full)
        check("%s: PodDisruptionBudget selects its pods" % p, pdb and pdb["spec"]["selector"]["matchLabels"] == sel)
        partitions = setting(values, p, "partitions", default=0)
        keda = setting(values, p, "keda", "enabled", default=False)
        so = by_kind.get("ScaledObject", {}).get(full)
        if keda:
            check("%s: KEDA owns the replica count" % p, "replicas" not in dep["spec"])
            check("%s: ScaledObject scales the Deployment" % p,
                  so is not None and so["spec"]["scaleTargetRef"]["name"] == full)
            if so:
                check("%s: maxReplicaCount %s <= partitions %s" % (p, so["spec"]["maxReplicaCount"], partitions),
                      0 < so["spec"]["maxReplicaCount"] <= partitions)
        else:
            check("%s: no ScaledObject" % p, so is None)
            if partitions:
                check("%s: replicas <= partitions" % p, dep["spec"]["replicas"] <= partitions)
        # The DLQ replay CronJob.
        cj = by_kind.get("CronJob", {}).get(full + "-dlq-replay")
        check("%s: suspended CronJob %s-dlq-replay" % (p, full), cj is not None and cj["spec"]["suspend"] is True)
        if cj:
            job = cj["spec"]["jobTemplate"]["spec"]
            jpod = job["template"]["spec"]
            pod_checks("%s dlq-replay" % p, jpod, full, p, ["dlq", "replay", "-c", CONFIG_FILE], True)
            check("%s: replay runs once, one at a time" % p,
                  job.get("backoffLimit") == 0 and cj["spec"].get("concurrencyPolicy") == "Forbid")
            jl = job["template"]["metadata"]["labels"]
            check("%s: replay pods are not the Service's" % p,
                  not all(jl.get(k) == v for k, v in sel.items()))
        # The migrate hook.
        mig = by_kind.get("Job", {}).get(full + "-migrate")
        want_mig = sink == "postgres" and setting(values, p, "migrate", "enabled", default=True)
        check("%s: migrate hook Job %s" % (p, "present" if want_mig else "absent"), (mig is not None) == bool(want_mig))
        if mig:
            a = mig["metadata"]["annotations"]
            check("%s: migrate is a pre-install,pre-upgrade hook" % p,
                  set(a["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"})
            check("%s: migrate hook-delete-policy before-hook-creation,hook-succeeded" % p,
                  set(a["helm.sh/hook-delete-policy"].split(",")) == {"before-hook-creation", "hook-succeeded"})
            mpod = mig["spec"]["template"]["spec"]
            pod_checks("%s migrate" % p, mpod, full + "-migrate", p, ["migrate", "-c", CONFIG_FILE], True)
            weight = int(a.get("helm.sh/hook-weight", "0"))
            # What the hook mounts must exist before it: a hook of lower
            # weight (or, for existing Secrets, outside the chart).
            projected = [v for v in mpod["volumes"] if v["name"] == "config"][0]["projected"]["sources"]
            names = [("ConfigMap", s["configMap"]["name"]) for s in projected if "configMap" in s]
            names += [("Secret", s["secret"]["name"]) for s in projected if "secret" in s]
            names += [("Secret", e["valueFrom"]["secretKeyRef"]["name"])
                      for e in mpod["containers"][0].get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
            for kind, n in names:
                if kind == "Secret" and n in existing:
                    continue
                obj = by_kind.get(kind, {}).get(n, {})
                oa = obj.get("metadata", {}).get("annotations", {})
                check("%s: migrate's %s %s is an earlier hook" % (p, kind, n),
                      "pre-install" in oa.get("helm.sh/hook", "") and int(oa.get("helm.sh/hook-weight", "0")) < weight)
    sm = by_kind.get("ServiceMonitor", {})
    if sm:
        m = list(sm.values())[0]
        check("ServiceMonitor: job label from app.kubernetes.io/name (= cdcsink, as the alerts expect)",
              m["spec"]["jobLabel"] == "app.kubernetes.io/name"
              and all(s["metadata"]["labels"]["app.kubernetes.io/name"] == "cdcsink" for s in by_kind["Service"].values()))
        sel = m["spec"]["selector"]["matchLabels"]
        chosen = [n for n, s in by_kind["Service"].items() if all(s["metadata"]["labels"].get(k) == v for k, v in sel.items())]
        check("ServiceMonitor selects every pipeline's Service", len(chosen) == len(pipelines), str(chosen))
        check("ServiceMonitor scrapes the metrics port at /metrics",
              [(e["port"], e["path"]) for e in m["spec"]["endpoints"]] == [("metrics", "/metrics")])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
