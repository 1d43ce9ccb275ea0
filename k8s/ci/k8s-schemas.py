#!/usr/bin/env python3
"""Build kubeconform JSON schemas offline.

Kubernetes kinds come from the OpenAPI v2 spec shipped in the `k8s.io/kubernetes` Go module
(api/openapi-spec/swagger.json); CRD kinds (KEDA, prometheus-operator) from the CRD YAML shipped in
their Go modules. Every object schema that lists its properties gets `additionalProperties: false`,
so `kubeconform -strict` rejects unknown fields, as the upstream "-strict" schema sets do.

Output: <out>/<kind>_<group>_<version>.json (lower-case kind; the group is `v1` for the core group, as kubeconform names it), matching the
kubeconform location template `<out>/{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json`.
"""
import json
import os
import sys

import yaml

QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}
INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}


def strictify(node):
    """Recursively close object schemas and widen the two k8s scalar quirks (int-or-string, quantity)."""
    if isinstance(node, list):
        return [strictify(n) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-kubernetes-int-or-string") or node.get("format") == "int-or-string":
        extra = {k: v for k, v in node.items() if k in ("description",)}
        return {**INT_OR_STRING, **extra}
    out = {}
    for key, value in node.items():
        if key in ("properties", "definitions", "patternProperties"):
            out[key] = {k: strictify(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
            out[key] = strictify(value)
        else:
            out[key] = value
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def refs_in(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref[len("#/definitions/"):])
        for v in node.values():
            refs_in(v, found)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, found)


def closure(defs, root):
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        found = set()
        refs_in(defs[name], found)
        todo.extend(found - seen)
    return seen


def write(out_dir, kind, group, version, schema):
    # kubeconform's template data: Group is the part before "/" of apiVersion, so "v1" for the core group.
    path = os.path.join(out_dir, f"{kind.lower()}_{group or version}_{version}.json")
    with open(path, "w") as fh:
        json.dump(schema, fh, separators=(",", ":"))


def from_swagger(path, out_dir):
    with open(path) as fh:
        swagger = json.load(fh)
    defs = swagger["definitions"]
    defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] = QUANTITY
    defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = INT_OR_STRING
    defs = {k: strictify(v) for k, v in defs.items()}
    count = 0
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            # Only top-level objects (they carry apiVersion + kind), not List/Options/WatchEvent helpers.
            if name.endswith("List") or "apiVersion" not in schema.get("properties", {}):
                continue
            needed = closure(defs, name)
            doc = {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": f"#/definitions/{name}",
                   "definitions": {n: defs[n] for n in needed}}
            write(out_dir, gvk["kind"], gvk["group"], gvk["version"], doc)
            count += 1
    return count


def from_crd(path, out_dir):
    count = 0
    with open(path) as fh:
        for crd in yaml.safe_load_all(fh):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                schema = strictify(version["schema"]["openAPIV3Schema"])
                schema["$schema"] = "http://json-schema.org/draft-07/schema#"
                write(out_dir, spec["names"]["kind"], spec["group"], version["name"], schema)
                count += 1
    return count


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: k8s-schemas.py OUT_DIR SWAGGER_JSON [CRD_YAML...]")
    out_dir, swagger, crds = argv[1], argv[2], argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    n = from_swagger(swagger, out_dir)
    m = sum(from_crd(p, out_dir) for p in crds)
    print(f"schemas: {n} Kubernetes kinds, {m} CRD kinds -> {out_dir}")


if __name__ == "__main__":
    main(sys.argv)
