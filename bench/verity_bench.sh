#!/usr/bin/env bash
# Compares `mkguest verity format` with `veritysetup format` (cryptsetup-bin)
# on a 1 GiB image: best wall time of RUNS runs each (warm page cache), the
# ratio, peak RSS (/usr/bin/time -v), and the SHA-256 ceiling of this machine
# (`openssl speed -evp sha256`, one process and one per core). Both tools must
# print the same root hash and write the same hash file.
# Usage: bench/verity_bench.sh [MKGUEST] [SIZE_MIB]   (env RUNS=3, BENCH_DIR=tmpdir)
set -euo pipefail
mkguest=${1:-build/mkguest}
size_mib=${2:-1024}
runs=${RUNS:-3}
dir=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$dir"
cleanup() { if [[ -z "${BENCH_DIR:-}" ]]; then rm -rf "$dir"; fi; }
trap cleanup EXIT
salt=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
data=$dir/data.img

if [[ ! -f $data || $(stat -c %s "$data") -ne $((size_mib << 20)) ]]; then
  { seq -w 0 999999999 || true; } | head -c $((size_mib << 20)) >"$data"  # seq ends on SIGPIPE
fi
cat "$data" >/dev/null  # warm the page cache

# best_of CMD...: prints "wall_seconds max_rss_kb" of the fastest run.
best_of() {
  local best="" rss=0 t
  for ((i = 0; i < runs; i++)); do
    rm -f "$dir/hash.img"
    /usr/bin/time -v -o "$dir/time.txt" "$@" >"$dir/out.txt"
    t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$dir/time.txt")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
    if [[ -z $best ]] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    if ((r > rss)); then rss=$r; fi
  done
  echo "$best $rss"
}

read -r vs_t vs_rss < <(best_of veritysetup format "$data" "$dir/hash.img" --salt=$salt --no-superblock)
vs_root=$(sed -n 's/^Root hash:\s*//p' "$dir/out.txt")
cp "$dir/hash.img" "$dir/hash.ref"
read -r mk_t mk_rss < <(best_of "$mkguest" verity format "$data" "$dir/hash.img" --salt=$salt --no-superblock)
mk_root=$(sed -n 's/^Root hash:\s*//p' "$dir/out.txt")
cmp -s "$dir/hash.img" "$dir/hash.ref" || { echo "hash files differ" >&2; exit 1; }
[[ $vs_root == "$mk_root" ]] || { echo "root hashes differ" >&2; exit 1; }

cores=$(nproc)
one=$(openssl speed -evp sha256 -bytes 4096 -seconds 2 2>/dev/null | awk '/^sha256/ {print $2}')
all=$(openssl speed -multi "$cores" -evp sha256 -bytes 4096 -seconds 2 2>/dev/null | awk '/^sha256/ {print $2}')
awk -v vs="$vs_t" -v mk="$mk_t" -v mib="$size_mib" -v one="$one" -v all="$all" \
    -v vsr="$vs_rss" -v mkr="$mk_rss" -v cores="$cores" -v root="$mk_root" -v ver="$(veritysetup --version | head -1)" 'BEGIN {
  gb = mib * 1048576 / 1e9
  printf "data:                 %d MiB (seq -w pattern), %d cores, %s\n", mib, cores, ver
  printf "root hash:            %s (identical, hash files identical)\n", root
  printf "veritysetup format:   %.2f s  %.2f GB/s  peak RSS %d KiB\n", vs, gb / vs, vsr
  printf "mkguest verity format:%.2f s  %.2f GB/s  peak RSS %d KiB\n", mk, gb / mk, mkr
  printf "speed-up:             %.2fx\n", vs / mk
  printf "openssl sha256 4 KiB: %.2f GB/s (1 process), %.2f GB/s (%d processes)\n", one / 1e6, all / 1e6, cores
  printf "mkguest / openssl all cores: %.0f%%\n", 100 * (gb / mk) / (all / 1e6)
}'
