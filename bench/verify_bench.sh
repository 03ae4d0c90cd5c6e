#!/usr/bin/env bash
# `mkguest verify` (every output's sha256 + sha384 against the manifest) vs
# the coreutils equivalent a shell script would run (sha256sum then sha384sum
# of every file), on an output directory of SIZE_MIB MiB of rootfs plus a
# 64 MiB initrd, warm page cache. Best wall time of RUNS runs.
# Usage: bench/verify_bench.sh [MKGUEST] [SIZE_MIB]   (env RUNS=3, BENCH_DIR=/var/tmp)
set -euo pipefail
mkguest=${1:-build/mkguest}
size=${2:-1024}
runs=${RUNS:-3}
dir=$(mktemp -d "${BENCH_DIR:-/var/tmp}/mkguest-verify-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
out=$dir/out
mkdir -p "$out"
{ seq -w 1 $((size * 1024 * 1024 / 10)) || true; } | head -c $((size * 1024 * 1024)) > "$out/rootfs"
{ seq -w 1 $((64 * 1024 * 1024 / 10)) || true; } | head -c $((64 * 1024 * 1024)) > "$out/initrd"

best() {  # best wall time (s) of RUNS runs of "$@"
  local b=""
  for _ in $(seq "$runs"); do
    local s e t
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [[ -z $b ]] || (($(echo "$t < $b" | bc))); then b=$t; fi
  done
  echo "$b"
}
coreutils() { for f in "$out/rootfs" "$out/initrd"; do sha256sum "$f"; sha384sum "$f"; done; }

cat "$out/rootfs" "$out/initrd" > /dev/null  # warm the cache
{
  echo '{"manifest_version": 1, "outputs": ['
  sep=""
  for f in initrd rootfs; do
    printf '%s{"role": "%s", "file": "%s", "size": %s, "sha256": "%s", "sha384": "%s"}\n' "$sep" "$f" "$f" \
      "$(stat -c %s "$out/$f")" "$(sha256sum < "$out/$f" | cut -d' ' -f1)" "$(sha384sum < "$out/$f" | cut -d' ' -f1)"
    sep=","
  done
  echo ']}'
} > "$out/manifest.json"
"$mkguest" verify "$out" >/dev/null

t_core=$(best coreutils)
t_mk=$(best "$mkguest" verify "$out")
echo "size: $((size + 64)) MiB, runs: $runs, load: $(cut -d' ' -f1 /proc/loadavg), cores: $(nproc)"
echo "coreutils sha256sum+sha384sum: ${t_core} s"
echo "mkguest verify:                ${t_mk} s"
echo "speed-up: $(echo "scale=2; $t_core / $t_mk" | bc)x"
