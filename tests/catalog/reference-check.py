#!/usr/bin/python3
"""The event catalog against a complete JSON Schema implementation (Debian's python3-jsonschema,
draft 2020-12): every schema must be valid against the specification's metaschema, and
`onewindow event validate` (the SDK's validator of a subset) must give the same verdict as the
reference on every schema's example and on broken variants of it (each data field removed, or
given a value of another kind), so the small validator cannot quietly accept what the
specification refuses, or the reverse.

    reference-check.py ONEWINDOW_BINARY CATALOG_DIR
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
from jsonschema import Draft202012Validator, RefResolver  # noqa: E402

binary, catalog = sys.argv[1], sys.argv[2]
docs = {}
for path in sorted(glob.glob(os.path.join(catalog, "schemas", "*.schema.json"))):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)  # raises with the reason
    docs[schema["$id"]] = schema
types = {i[len("urn:onewindow:catalog:"):]: s for i, s in docs.items() if "." in i}
if len(types) < 40:
    sys.exit("reference-check: only %d event schemas in %s" % (len(types), catalog))


def reference_valid(event):
    schema = types.get(event.get("type")) if isinstance(event, dict) else None
    if schema is None:
        return False  # not a type of the catalog
    resolver = RefResolver(base_uri=schema["$id"], referrer=schema, store=docs)
    return Draft202012Validator(schema, resolver=resolver).is_valid(event)


# Values of every JSON kind, a few of them edge cases of the subset (1.0 is an integer, lengths
# count characters, patterns are unanchored unless written with ^ and $).
ODD_VALUES = ["", "工商局", "工" * 30, "x" * 70, 1, 1.0, 1.5, -1, 0, 7, True, None, [], ["x"], {}, {"name": ""},
              "2026-03-02 10:15", "2026-03-02T10:15:00+08:00", "approve", "A", "post", "0"]
corpus = []
for t, schema in sorted(types.items()):
    example = schema["examples"][0]
    corpus.append(example)
    data = example.get("data")
    if not isinstance(data, dict):
        continue
    for key in list(data):
        removed = copy.deepcopy(example)
        del removed["data"][key]
        corpus.append(removed)
    for key in list(data) + ["kind", "decision", "delivery_way", "result_code"]:
        for value in ODD_VALUES:
            changed = copy.deepcopy(example)
            changed["data"][key] = value
            corpus.append(changed)
    for attribute in ("subject", "time", "source"):
        for value in ("", 1, "2026-03-02"):
            changed = copy.deepcopy(example)
            changed[attribute] = value
            corpus.append(changed)
    without_data = copy.deepcopy(example)
    del without_data["data"]
    corpus.append(without_data)
    corpus.append(dict(example, type=t + "_x"))

expected = [reference_valid(e) for e in corpus]
with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False, encoding="utf-8") as f:
    for e in corpus:
        f.write(json.dumps(e, ensure_ascii=False) + "\n")
    corpus_file = f.name
try:
    run = subprocess.run([binary, "event", "validate", "--catalog", catalog, corpus_file],
                         capture_output=True, text=True, check=False)
finally:
    os.unlink(corpus_file)
invalid = {int(m.group(1)) for m in re.finditer(r"^event (\d+) ", run.stdout, re.M)}
if run.returncode not in (0, 1) or not run.stdout.rstrip().endswith("invalid"):
    sys.exit("reference-check: onewindow event validate failed (%d): %s%s"
             % (run.returncode, run.stdout[-2000:], run.stderr))
disagree = 0
for n, (event, valid) in enumerate(zip(corpus, expected), start=1):
    ours = n not in invalid
    if ours != valid:
        disagree += 1
        if disagree <= 20:
            print("disagree on event %d (reference: %s, onewindow: %s): %s"
                  % (n, "valid" if valid else "invalid", "valid" if ours else "invalid",
                     json.dumps(event, ensure_ascii=False)[:300]))
print("reference-check: %d schemas valid against the 2020-12 metaschema; %d events, %d invalid "
      "by the reference, %d disagreements" % (len(docs), len(corpus), expected.count(False),
                                              disagree))
sys.exit(1 if disagree else 0)
