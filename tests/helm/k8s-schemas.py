#!/usr/bin/env python3
"""Writes the per-kind JSON schemas kubeconform reads, from files on disk.

    k8s-schemas.py OUT_DIR SWAGGER_JSON [CRD_YAML ...]

SWAGGER_JSON is Kubernetes' own OpenAPI v2 document
(api/openapi-spec/swagger.json in the k8s.io/kubernetes Go module); each
CRD_YAML is a CustomResourceDefinition (prometheus-operator's, KEDA's).
OUT_DIR receives one file per kind and version, named as kubeconform's
schema-location template names them: `{kind}{-group's first label}-{version}.json`
(deployment-apps-v1.json, service-v1.json, servicemonitor-monitoring-v1.json).

kubeconform's usual schemas (the kubernetes-json-schema repository) are
made by openapi2jsonschema from the same swagger.json; this does the same
few things, so that no schema has to be downloaded from GitHub:

- strict: every object that lists its properties gets
  additionalProperties: false unless it says otherwise or preserves
  unknown fields, so a misspelt field is an error, not silently dropped;
- int-or-string and Quantity accept what the API server accepts (a port
  name or number; `cpu: 1` or `cpu: 500m`);
- each file is standalone: the definitions it reaches are copied in, so
  kubeconform resolves every $ref within the file;
- a CRD's `metadata` is Kubernetes' ObjectMeta (CRDs only say `object`),
  so a typo under metadata is caught for custom resources too.

Nothing here accepts null where the API's schema does not: a null in a
rendered manifest is nearly always a template bug.
"""
import copy
import json
import os
import sys

import yaml

DEF_PREFIX = "#/definitions/"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def strictify(node):
    """Return a converted copy of one schema node (recursively)."""
    if isinstance(node, list):
        return [strictify(n) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string"):
        return copy.deepcopy(INT_OR_STRING)
    out = {}
    for key, value in node.items():
        if key == "description" or key == "example":
            continue  # size only; not a validation keyword
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: strictify(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = strictify(value)
        elif key in ("allOf", "anyOf", "oneOf", "items"):
            out[key] = strictify(value)
        else:
            out[key] = value
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def refs(node, found):
    """Collect the definition names a node refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEF_PREFIX):
            found.add(ref[len(DEF_PREFIX):])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def closure(defs, roots):
    """Names of the definitions reachable from roots."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = set()
        refs(defs[name], found)
        todo.extend(found - seen)
    return seen


def filename(group, version, kind):
    suffix = "-" + group.split(".")[0].lower() if group else ""
    return "%s%s-%s.json" % (kind.lower(), suffix, version.lower())


def document(root, defs, group, version, kind):
    """A standalone schema: root, the definitions it reaches, and the
    apiVersion/kind the object must carry."""
    api_version = "%s/%s" % (group, version) if group else version
    doc = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "allOf": [
            root,
            {
                "required": ["apiVersion", "kind"],
                "properties": {
                    "apiVersion": {"enum": [api_version]},
                    "kind": {"enum": [kind]},
                },
            },
        ],
    }
    found = set()
    refs(root, found)
    names = closure(defs, found)
    if names:
        doc["definitions"] = {n: defs[n] for n in sorted(names)}
    return doc


def write(out_dir, name, doc):
    with open(os.path.join(out_dir, name), "w") as f:
        json.dump(doc, f, separators=(",", ":"), sort_keys=True)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_dir, swagger = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    with open(swagger) as f:
        spec = json.load(f)
    defs = {name: strictify(d) for name, d in spec["definitions"].items()}
    defs[QUANTITY] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
    count = 0
    for name, d in spec["definitions"].items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            # Shared meta types (DeleteOptions, WatchEvent) are listed
            # under every group and version; they are no kind to validate.
            if len(d.get("x-kubernetes-group-version-kind", [])) > 1:
                continue
            doc = document({"$ref": DEF_PREFIX + name}, defs,
                           gvk["group"], gvk["version"], gvk["kind"])
            write(out_dir, filename(gvk["group"], gvk["version"], gvk["kind"]), doc)
            count += 1
    for path in sys.argv[3:]:
        with open(path) as f:
            for crd in yaml.safe_load_all(f):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for v in crd["spec"]["versions"]:
                    schema = (v.get("schema") or {}).get("openAPIV3Schema")
                    if not schema:
                        continue
                    root = strictify(schema)
                    root.setdefault("properties", {})["metadata"] = {"$ref": DEF_PREFIX + OBJECT_META}
                    doc = document(root, defs, group, v["name"], kind)
                    write(out_dir, filename(group, v["name"], kind), doc)
                    count += 1
    print("%s: %d schemas" % (out_dir, count))


if __name__ == "__main__":
    main()
