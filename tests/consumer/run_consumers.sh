#!/usr/bin/env bash
# usage: run_consumers.sh <orchard source> <this folder> <scratch folder>
set -euo pipefail
src=$1 here=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
opts=(-Dtests=false -Dbenchmarks=false -Dexamples=false -Dcuda=disabled)

echo "== Meson subproject consumer"
cp -r "$here/meson_project" "$here/cmake_project" "$work/"
cp "$here/consumer.cpp" "$work/meson_project/"
cp "$here/consumer.cpp" "$work/cmake_project/"
mkdir -p "$work/meson_project/subprojects"
ln -s "$src" "$work/meson_project/subprojects/orchard"
meson setup "$work/meson_build" "$work/meson_project" --wrap-mode=nofallback >"$work/meson_setup.log" \
  || { cat "$work/meson_setup.log"; exit 1; }
meson compile -C "$work/meson_build" >/dev/null
"$work/meson_build/consumer"

echo "== installed headers + pkg-config, used from CMake"
meson setup "$work/orchard_build" "$src" --prefix="$work/prefix" --wrap-mode=nofallback "${opts[@]}" \
  >"$work/orchard_setup.log" || { cat "$work/orchard_setup.log"; exit 1; }
meson install -C "$work/orchard_build" >/dev/null
pc=$(find "$work/prefix" -name orchard.pc | head -n 1)
test -n "$pc" || { echo "orchard.pc was not installed"; exit 1; }
test -f "$work/prefix/include/orchard/orchard.hpp" || { echo "headers were not installed"; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc") cmake -S "$work/cmake_project" -B "$work/cmake_build" \
  -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" || { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/cmake_build" >/dev/null
"$work/cmake_build/consumer"
