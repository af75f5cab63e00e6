#!/usr/bin/env bash
# What a fresh page of memory costs on this machine, against writing memory already mapped:
# the floor under any analysis whose arrays add up to its peak RSS (every page of them is
# faulted in and zeroed by the kernel once). Usage: bash bench/fresh-pages.sh [MiB]
set -euo pipefail
mib=${1:-1024}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/fresh.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
int main(int argc, char **argv) {
  size_t n = (size_t)atol(argv[1]) << 20;
  for (int r = 0; r < 3; r++) {
    char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    double t0 = now();
    for (size_t i = 0; i < n; i += 4096) p[i] = 1; /* one write a page: the fault */
    double t1 = now();
    memset(p, 2, n); /* the same bytes, mapped now */
    double t2 = now();
    madvise(p, n, MADV_DONTNEED); /* back to the kernel: fresh again */
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    double t3 = now();
    munmap(p, n);
    printf("%zu MiB: first touch %.3f s (%.2f GB/s), memset of mapped pages %.3f s, "
           "after MADV_DONTNEED %.3f s\n",
           n >> 20, t1 - t0, n / (t1 - t0) / 1e9, t2 - t1, t3 - t2);
  }
  return 0;
}
C
cc -O2 -o "$dir/fresh" "$dir/fresh.c"
"$dir/fresh" "$mib"
