#!/usr/bin/env python3
"""Prints the swiftc arguments that compile and link the libFuzzer harness against SwiftPM's instrumented build.

SwiftPM cannot link a libFuzzer binary itself (it renames an executable's entry point and libFuzzer brings its own
`main`), so scripts/fuzz/build compiles Fuzz/Entry.swift with the fuzz targets directly. This reads SwiftPM's build
manifest (<scratch>/<configuration>.yaml) for what that needs: the search paths and C module maps of the FuzzTargetTests
module's compile, and the object files and libraries of the `darknode` link (every library module), minus
darknode's own objects. Usage: harness-args.py <scratch>/debug.yaml (or release.yaml) compile|link; prints a
response file (one quoted argument a line).
"""
import json
import os
import sys

manifest = open(sys.argv[1]).read().splitlines()
configuration = sys.argv[1].rsplit("/", 1)[-1].removesuffix(".yaml")


def command(name):
    """The args and inputs (JSON arrays on one line each) of the manifest command `name`."""
    key = f'  "{name}":'
    start = manifest.index(key)
    found = {}
    for line in manifest[start + 1:]:
        if line.startswith('  "') and line.endswith('":'):
            break
        stripped = line.strip()
        for field in ("args", "inputs"):
            if stripped.startswith(field + ": "):
                found[field] = json.loads(stripped[len(field) + 2:])
    return found


compile_args = command(f"C.FuzzTargetTests-x86_64-unknown-linux-gnu-{configuration}.module")["args"]
out = []
i = 0
while i < len(compile_args):
    a = compile_args[i]
    if a in ("-I", "-module-cache-path", "-target", "-swift-version", "-package-name", "-Xcc"):
        out += [a, compile_args[i + 1]]
        i += 2
        continue
    if a.startswith("-D") or a.startswith("-sanitize="):
        out.append(a)
    i += 1

link = command(f"C.darknode-x86_64-unknown-linux-gnu-{configuration}.exe")
# Objects of modules the fuzz targets do not import (Node, darknode's own) were not built; the .swiftmodule.o
# wrappers carry only debug info.
objects = [p for p in link["inputs"] if p.endswith(".o") and "/darknode.build/" not in p and not p.endswith(".swiftmodule.o")
           and os.path.exists(p)]
libraries = [a for a in link["args"] if a.startswith("-l") or a.startswith("-L/")]
for a in (out if sys.argv[2] == "compile" else objects + libraries):
    print('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"')
