#!/usr/bin/env python3
"""tools/check_layers.py finds every kind of violation in a small tree."""
import os
import subprocess
import sys
import tempfile
import unittest

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "tools", "check_layers.py")


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        f.write(text)


def run(root):
    p = subprocess.run([sys.executable, TOOL, root], capture_output=True,
                       text=True, check=False)
    return p.returncode, p.stdout


def good_tree(root):
    write(root, "support/jamjet/support/export.hpp", "")
    write(root, "support/CMakeLists.txt",
          "jamjet_layer(support PUBLIC_HEADERS jamjet/support/export.hpp)\n")
    write(root, "core/jamjet/core/graph.hpp",
          '#include "jamjet/support/export.hpp"\n')
    write(root, "core/graph.cpp", '#include "jamjet/core/graph.hpp"\n')
    write(root, "core/CMakeLists.txt",
          "jamjet_layer(core PUBLIC_HEADERS jamjet/core/graph.hpp)\n")
    write(root, "actors/jamjet/actors/backend.hpp",
          '#include "jamjet/core/graph.hpp"\n')
    write(root, "runtime/jamjet/jamjet.hpp",
          '#include "jamjet/core/graph.hpp"\n#include "jamjet/version.hpp"\n')
    write(root, "runtime/CMakeLists.txt",
          "jamjet_layer(runtime PUBLIC_HEADERS jamjet/jamjet.hpp)\n")
    write(root, "examples/app.cpp", "#include <jamjet/jamjet.hpp>\n")


class CheckLayers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        good_tree(self.root)

    def tearDown(self):
        self.tmp.cleanup()

    def test_good_tree_passes(self):
        code, out = run(self.root)
        self.assertEqual(code, 0, out)
        self.assertIn("layering ok", out)

    def test_reverse_include_fails(self):
        write(self.root, "core/bad.cpp", '#include "jamjet/actors/backend.hpp"\n')
        code, out = run(self.root)
        self.assertEqual(code, 1)
        self.assertIn("core/bad.cpp (core) includes 'jamjet/actors/backend.hpp'"
                      " of the later layer actors", out)

    def test_runtime_header_from_actors_fails(self):
        write(self.root, "actors/x.cpp", '#include "jamjet/runtime.hpp"\n')
        code, out = run(self.root)
        self.assertEqual(code, 1)
        self.assertIn("later layer runtime", out)

    def test_relative_and_old_paths_fail(self):
        write(self.root, "core/rel.cpp", '#include "../actors/jamjet/actors/backend.hpp"\n')
        write(self.root, "core/old.cpp", '#include "runtime/store.hpp"\n')
        code, out = run(self.root)
        self.assertEqual(code, 1)
        self.assertIn("relative include", out)
        self.assertIn("is not a layer path", out)

    def test_public_header_not_installed_fails(self):
        write(self.root, "core/jamjet/core/extra.hpp", "")
        write(self.root, "core/jamjet/core/graph.hpp",
              '#include "jamjet/core/extra.hpp"\n')
        code, out = run(self.root)
        self.assertEqual(code, 1)
        self.assertIn("'jamjet/core/extra.hpp' is reachable", out)

    def test_example_using_internal_header_fails(self):
        write(self.root, "examples/bad.cpp", '#include "jamjet/actors/backend.hpp"\n')
        code, out = run(self.root)
        self.assertEqual(code, 1)
        self.assertIn("not a public header", out)


if __name__ == "__main__":
    unittest.main()
