#!/bin/sh
# Runs the fuzz binary given as $1 with the remaining arguments (Meson's test() takes only
# executables it built itself, and the fuzz binary is a custom target built by clang++-14).
exec "$@"
