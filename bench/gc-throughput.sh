#!/bin/sh
# Throughput of `leakhound gc`'s reader on one core (see crates/gctrace/benches/throughput.rs).
# Usage: bench/gc-throughput.sh [MB]   (default 512 MB of synthetic log)
set -eu
cd "$(dirname "$0")/.."
LEAKHOUND_GC_BENCH_MB="${1:-512}" exec taskset -c 0 cargo bench -p leakhound-gctrace --bench throughput
