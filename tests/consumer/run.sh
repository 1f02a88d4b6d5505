#!/usr/bin/env bash
# Uses the project as a user would: installs BUILD_DIR into a temporary
# prefix, builds tests/consumer with find_package(jamjet) against it and runs
# it; then builds the same application with add_subdirectory(<source>).
#
#   tests/consumer/run.sh BUILD_DIR [--skip-subdirectory]
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
here="$src/tests/consumer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

check_run() { # app-binary label
  local out
  out=$("$1" "$work/$2.db")
  echo "$out" | grep -q '^retry_scheduled join$' ||
    { echo "$2: no retry of 'join' in:"; echo "$out"; exit 1; }
  echo "$out" | grep -q '^completed .*"join":2' ||
    { echo "$2: 'join' did not complete on attempt 2:"; echo "$out"; exit 1; }
  [ "$(echo "$out" | grep -c '^node_completed ')" -eq 4 ] ||
    { echo "$2: expected 4 completed nodes:"; echo "$out"; exit 1; }
  echo "consumer ($2): ok"
}

# 1. Installed package, found with find_package(jamjet).
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/jamjet/jamjet.hpp"
test -f "$work/prefix/lib/cmake/jamjet/jamjetConfig.cmake"
test -f "$work/prefix/lib/pkgconfig/jamjet.pc"
test -x "$work/prefix/bin/jamjet"
# Internal headers stay out of the package.
if [ -e "$work/prefix/include/jamjet/actors" ]; then
  echo "internal headers were installed"; exit 1
fi
cmake -S "$here" -B "$work/find" -G Ninja "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/find" >/dev/null
check_run "$work/find/app" find_package

# 2. pkg-config, as a Makefile user would.
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" \
  c++ -o "$work/pc_app" "$here/app.cpp" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs --static jamjet) \
  -Wl,-rpath,"$work/prefix/lib"
check_run "$work/pc_app" pkg-config

# 3. The source tree as a subproject.
if [ "${2:-}" != "--skip-subdirectory" ]; then
  cmake -S "$here" -B "$work/subdir" -G Ninja "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJAMJET_SOURCE_DIR="$src" >/dev/null
  cmake --build "$work/subdir" >/dev/null
  check_run "$work/subdir/app" add_subdirectory
fi
