#!/usr/bin/env bash
# Compares `mkguest se build` with C genprotimg 2.35 on the same SE image: a
# 16 MiB kernel and a 256 MiB initrd (random bytes), a parmfile, two host
# keys, synthetic loaders of the 2.35 sizes, --no-verify, fixed keys. Both
# write the same layout (the bytes differ only through the random IV, tweaks
# and ephemeral key). Prints wall time and peak RSS (medians of 5) and the ratio.
# Usage: bench/se.sh PATH/TO/genprotimg LOADER_DIR
#   genprotimg: built from s390-tools v2.35.0 (genprotimg/src) with
#   PKGDATADIR=LOADER_DIR; LOADER_DIR holds stage3a.bin and stage3b_reloc.bin.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
gp=${1:?usage: bench/se.sh PATH/TO/genprotimg LOADER_DIR}
loaders=${2:?usage: bench/se.sh PATH/TO/genprotimg LOADER_DIR}
mk=$top/build/mkguest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((16 << 20)) /dev/urandom >"$work/kernel"
printf 'S390EP' | dd of="$work/kernel" bs=1 seek=$((0x10008)) conv=notrunc status=none
head -c $((256 << 20)) /dev/urandom >"$work/initrd"
printf 'console=ttysclp0 root=/dev/vda1' >"$work/parm"
head -c 32 /dev/urandom >"$work/cck"
head -c 32 /dev/urandom >"$work/hk"
head -c 64 /dev/urandom >"$work/ik"
for h in h1 h2; do
  openssl ecparam -name secp521r1 -genkey -noout -out "$work/$h.key"
  openssl req -x509 -new -key "$work/$h.key" -subj "/CN=$h" -days 30 -out "$work/$h.crt" 2>/dev/null
done
common=(-i "$work/kernel" -r "$work/initrd" -p "$work/parm" -k "$work/h1.crt" -k "$work/h2.crt"
        --no-verify --comm-key "$work/cck" --x-header-key "$work/hk" --x-comp-key "$work/ik")
mkargs=("${common[@]}" --stage3a "$loaders/stage3a.bin" --stage3b "$loaders/stage3b_reloc.bin"
        -o "$work/mk.img")
"$mk" se build "${mkargs[@]}" >/dev/null 2>&1
"$gp" "${common[@]}" -o "$work/gp.img" >/dev/null 2>&1
[[ $(stat -c %s "$work/mk.img") == $(stat -c %s "$work/gp.img") ]] ||
  { echo "image sizes differ" >&2; exit 1; }
measure() {  # prints "seconds maxrss_kb": medians of 5
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
  done | sort -n | sed -n 3p
}
read -r t1 m1 < <(measure "$mk" se build "${mkargs[@]}")
read -r t2 m2 < <(measure "$gp" "${common[@]}" -o "$work/gp.img")
printf 'mkguest se build : %6.3f s  %7d KiB max RSS\n' "$t1" "$m1"
printf 'genprotimg 2.35  : %6.3f s  %7d KiB max RSS\n' "$t2" "$m2"
awk -v a="$t1" -v b="$t2" 'BEGIN { printf "speed-up         : %.1fx\n", (a > 0 ? b / a : 0) }'
