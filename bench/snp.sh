#!/usr/bin/env bash
# Compares `mkguest measure snp` with sev-snp-measure on measured direct boot:
# a 12 MiB kernel and a 40 MiB initrd (random bytes), the 4 MiB synthetic
# firmware of the test suite, 4 vCPUs, EPYC-Genoa. Prints wall time and peak
# RSS (medians of 5 runs) and the ratio.
# Usage: bench/snp.sh PATH/TO/sev-snp-measure.py   (a checkout of the reference tool)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ssm=${1:?usage: bench/snp.sh PATH/TO/sev-snp-measure.py}
mk=$top/build/mkguest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MKGUEST_SNP_FIXTURES=$work "$top/build/tests/mkguest_tests" "[.snp-dump]" >/dev/null
head -c $((12 << 20)) /dev/urandom > "$work/k12"
head -c $((40 << 20)) /dev/urandom > "$work/i40"
args=(--mode snp --vcpus 4 --vcpu-type EPYC-Genoa --ovmf "$work/synth_ovmf_4m.fd"
      --kernel "$work/k12" --initrd "$work/i40" --append "console=ttyS0 root=/dev/vda1 ro")
a=$("$mk" measure snp "${args[@]}")
b=$(python3 "$ssm" "${args[@]}")
[[ "$a" == "$b" ]] || { echo "outputs differ: $a vs $b" >&2; exit 1; }
measure() {  # prints "seconds maxrss_kb" medians of 5
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
  done | sort -n | sed -n 3p
}
read -r t1 m1 < <(measure "$mk" measure snp "${args[@]}")
read -r t2 m2 < <(measure python3 "$ssm" "${args[@]}")
printf 'mkguest measure snp : %6.3f s  %7d KiB max RSS\n' "$t1" "$m1"
printf 'sev-snp-measure     : %6.3f s  %7d KiB max RSS\n' "$t2" "$m2"
awk -v a="$t1" -v b="$t2" 'BEGIN { printf "speed-up            : %.1fx\n", (a > 0 ? b / a : 0) }'
