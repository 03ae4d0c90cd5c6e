#!/usr/bin/env python3
"""Validates every example recipe against recipes/schema.json, and checks that
the schema rejects a recipe with an unknown key (so the check can fail)."""
import glob
import json
import os
import sys

import jsonschema
import yaml

top = sys.argv[1]
with open(os.path.join(top, "recipes/schema.json")) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
recipes = sorted(glob.glob(os.path.join(top, "examples/**/*.yaml"), recursive=True))
bad = 0
for path in recipes:
    with open(path) as f:
        doc = yaml.safe_load(f)
    for err in validator.iter_errors(doc):
        print(f"{path}: {err.json_path}: {err.message}")
        bad += 1
if not list(validator.iter_errors({"name": "x", "kernal": "k"})):
    print("schema accepts an unknown key")
    bad += 1
# outputs.igvm (no example uses it): its keys are accepted, tdx is not.
igvm = {"name": "x", "kernel": "k",
        "outputs": {"igvm": {"platforms": ["snp"], "vcpus": [1, 2], "vcpu_type": "EPYC-Milan",
                             "guest_features": "0x1"}},
        "measurements": {"snp": {"firmware": "f", "vcpu_types": "EPYC-Milan"}}}
for err in validator.iter_errors(igvm):
    print(f"outputs.igvm: {err.json_path}: {err.message}")
    bad += 1
igvm["outputs"]["igvm"]["platforms"] = ["tdx"]
if not list(validator.iter_errors(igvm)):
    print("schema accepts outputs.igvm.platforms tdx")
    bad += 1
print(f"{len(recipes)} recipes checked, {bad} problems")
sys.exit(1 if bad or not recipes else 0)
