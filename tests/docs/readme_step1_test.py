#!/usr/bin/env python3
"""README step 1 builds only what it runs: the `jamjet` command.

A newcomer's first command must not wait for the test suite and the
benchmarks. Checks the shell block of step 1: it configures, builds the
`jamjet` target alone, and runs the command it built.
"""
import re
import sys

readme = open(sys.argv[1], encoding="utf-8").read()
step = re.search(r"\*\*1\..*?```sh\n(.*?)```", readme, re.S)
if not step:
    sys.exit("README: no shell block under step 1")
commands = step.group(1)
builds = re.findall(r"cmake --build (\S+)([^&]*)", commands)
problems = []
if not builds:
    problems.append("step 1 builds nothing")
for build_dir, args in builds:
    if "--target jamjet" not in args or re.search(r"--target jamjet\S", args):
        problems.append("step 1 builds more than the jamjet target: "
                        "cmake --build " + build_dir + args.rstrip())
if "./build/jamjet run" not in commands:
    problems.append("step 1 does not run the command it built")
if problems:
    sys.exit("\n".join(problems))
print("README step 1 builds only the jamjet target and runs it")
