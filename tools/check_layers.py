#!/usr/bin/env python3
"""Checks the layering of the source tree (docs/architecture.md).

    support -> messages -> core -> store -> actors -> runtime -> http -> cli

A file may include headers of its own layer and of the layers before it,
never of a later one. Headers of a layer are included as
"jamjet/<layer>/x.hpp" (the runtime layer: "jamjet/x.hpp"); a relative path
("../core/x.hpp") or an old top-level path ("runtime/x.hpp") is refused.
Examples may include only the installed public headers; fuzz targets
only headers of the layers up to http (not cli). The installed
headers (PUBLIC_HEADERS in each layer's CMakeLists.txt) must be exactly the
headers reachable from <jamjet/jamjet.hpp>.

Exit status 0 when the tree keeps the rule; 1 with one line per violation.
"""
import os
import re
import sys

LAYERS = ["support", "messages", "core", "store", "actors", "runtime", "http",
          "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)
# Generated into the build tree by runtime/CMakeLists.txt.
GENERATED = {"jamjet/version.hpp": "runtime"}


def layer_of_include(path):
    """The layer a "jamjet/..." include names, or None for other headers."""
    if path in GENERATED:
        return GENERATED[path]
    parts = path.split("/")
    if parts[0] != "jamjet":
        return None
    if len(parts) > 2 and parts[1] in RANK:
        return parts[1]
    return "runtime"


def header_file(include):
    layer = layer_of_include(include)
    if layer is None or include in GENERATED:
        return None
    return os.path.join(layer, include)


def sources(root, folder):
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        for f in sorted(files):
            if f.endswith((".hpp", ".cpp")):
                yield os.path.join(dirpath, f)


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def check_direction(root, problems):
    old_roots = ("runtime/", "messages/", "actors/", "core/", "store/",
                 "support/", "http/", "cli/")
    for layer in LAYERS:
        for path in sources(root, layer):
            rel = os.path.relpath(path, root)
            for kind, inc in includes(path):
                if ".." in inc.split("/"):
                    problems.append(f"{rel}: relative include '{inc}'")
                    continue
                if kind == '"' and inc.startswith(old_roots):
                    problems.append(f"{rel}: '{inc}' is not a layer path "
                                    "(use \"jamjet/<layer>/...\")")
                    continue
                target = layer_of_include(inc)
                if target is None:
                    continue
                if RANK[target] > RANK[layer]:
                    problems.append(f"{rel} ({layer}) includes '{inc}' of the "
                                    f"later layer {target}")


def public_closure(root):
    seen, todo = set(), ["jamjet/jamjet.hpp"]
    while todo:
        inc = todo.pop()
        if inc in seen:
            continue
        seen.add(inc)
        path = header_file(inc)
        if path is None:
            continue
        full = os.path.join(root, path)
        if not os.path.exists(full):
            continue
        for _, sub in includes(full):
            if layer_of_include(sub) is not None:
                todo.append(sub)
    return seen


def installed_headers(root):
    found = set()
    for layer in LAYERS:
        cml = os.path.join(root, layer, "CMakeLists.txt")
        if not os.path.exists(cml):
            continue
        text = open(cml, encoding="utf-8").read()
        m = re.search(r"PUBLIC_HEADERS([^)]*)\)", text)
        if m:
            found.update(h for h in m.group(1).split() if h.endswith(".hpp"))
    found.update(GENERATED)
    return found


def check_public(root, problems):
    closure = public_closure(root)
    installed = installed_headers(root)
    for inc in sorted(closure - installed):
        problems.append(f"'{inc}' is reachable from jamjet/jamjet.hpp but not "
                        "in PUBLIC_HEADERS (it would be missing once installed)")
    for inc in sorted(installed - closure):
        problems.append(f"'{inc}' is installed but not reachable from "
                        "jamjet/jamjet.hpp")
    for path in sources(root, "examples"):
        rel = os.path.relpath(path, root)
        for _, inc in includes(path):
            if layer_of_include(inc) is not None and inc not in closure:
                problems.append(f"{rel}: includes '{inc}', which is not a "
                                "public header")


# A fuzz build (JAMJET_FUZZ=ON) compiles only these layers (not cli).
FUZZ_LAYERS = ("support", "messages", "core", "store", "actors", "runtime",
               "http")


def check_fuzz(root, problems):
    for path in sources(root, "fuzz"):
        rel = os.path.relpath(path, root)
        for _, inc in includes(path):
            if ".." in inc.split("/"):
                problems.append(f"{rel}: relative include '{inc}'")
                continue
            target = layer_of_include(inc)
            if target is not None and target not in FUZZ_LAYERS:
                problems.append(f"{rel}: includes '{inc}' of the layer "
                                f"{target}, which a fuzz build does not have")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    problems = []
    check_direction(root, problems)
    check_public(root, problems)
    check_fuzz(root, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering problem(s); see docs/architecture.md")
        return 1
    print("layering ok: " + " -> ".join(LAYERS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
