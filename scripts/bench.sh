#!/bin/sh
# The benchmark suite, side by side with its baselines (issue #7): decode, apply end to end against
# native logical replication, bootstrap against a restore + COPY by hand, daemon memory.
# Prints a Markdown table and writes it to docs/benchmarks.md (or --out FILE).
#   scripts/bench.sh                       # the issue's sizes (1M rows, 100k small transactions, 1 GB, 2 GB)
#   scripts/bench.sh --rows 100000 --small-tx 10000 --bootstrap-mb 64 --big-tx-mb 64 --out /tmp/bench.md
#   scripts/bench.sh --only soak           # an hour of steady writes: RSS flat, lag bounded, no error (not in the default run)
# All options: decode/apply/bootstrap/memory/soak sections with --only, sizes, --repeats, --scale-rows, --soak-*;
# see bench/DataSync.Benchmarks/README.md.
# Not part of `dotnet test` and never run in CI.
set -eu
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/DataSync.Benchmarks -- suite "$@"
