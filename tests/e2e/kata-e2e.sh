#!/usr/bin/env bash
# End-to-end boot of a Kata-shaped guest (docs/kata.md §8-§10): `mkguest build` makes a
# Debian 12 cloud kernel + busybox initrd guest with exports.kata, and QEMU/TCG boots it with
# the options Kata's runtime would derive from the coco-dev drop-in: default_memory (-m),
# default_vcpus (-smp), firmware (-bios), kernel, initrd, and the kernel cmdline that
# tests/builder/attest/kata_ref.py (a model of Kata's Go runtime) assembles from the drop-in.
# The guest reports /proc/cmdline, its CPU count and memory on the second UART (the first
# carries the firmware's console).
# (Not confidential: QEMU 7.2 under TCG has no SNP or TDX; kata-runtime's own devices, such
# as the virtio console, are left out, so its console=hvc0 goes nowhere.)
# Usage: tests/e2e/kata-e2e.sh WORKDIR MKGUEST   (env: MKGUEST_DEBIAN_CACHE, BOOT_TIMEOUT=180)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkguest="${2:-$src/build/mkguest}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
timeout_s="${BOOT_TIMEOUT:-180}"
for t in qemu-system-x86_64 python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/install-deps --test)"; exit 77; }
done
firmware=/usr/share/ovmf/OVMF.fd
[[ -f $firmware ]] || { echo "SKIP: $firmware missing"; exit 77; }
cache="${MKGUEST_DEBIAN_CACHE:-$src/.cache/debian}"
"$src/scripts/fetch-debian-inputs" "$cache" >/dev/null
# shellcheck disable=SC1091
source "$cache/env"

g="$work/guest"
rm -rf "$g" "$work/out"
mkdir -p "$g"
cp "$VMLINUZ" "$g/vmlinuz"
cp "$BUSYBOX" "$g/busybox"
cat >"$g/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
{
  echo # the firmware's escape codes end the first line
  echo "@@CMDLINE $(/bin/busybox cat /proc/cmdline)"
  echo "@@CPUS $(/bin/busybox nproc)"
  echo "@@MEMKB $(/bin/busybox awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
  echo "@@DONE"
} >/dev/ttyS1
/bin/busybox poweroff -f
EOF
cat >"$g/recipe.yaml" <<EOF
recipe: 1
name: kata-e2e
version: "1"
source_date_epoch: 1700000000
kernel: vmlinuz
cmdline: rdinit=/init
initrd:
  files:
    - { src: busybox, dst: /bin/busybox, mode: "0755" }
    - { src: init, dst: /init, mode: "0755" }
exports:
  kata:
    install_dir: $work/out
    firmware: { coco-dev: $firmware }
    vcpus: 2
    memory_mib: 1536
EOF
"$mkguest" build -q "$g/recipe.yaml" -o "$work/out" >/dev/null
dropin="$work/out/kata/configuration-qemu-coco-dev.toml"
model=$(python3 "$src/tests/builder/attest/kata_ref.py" "$src/tests/vectors/kata/config-keys.txt" "$dropin")
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])["configuration-qemu-coco-dev.toml"][sys.argv[2]])' "$model" "$1"; }
mem=$(field memory) vcpus=$(field vcpus) fw=$(field firmware) kernel=$(field kernel)
initrd=$(field initrd) cmdline=$(field cmdline)
echo "drop-in: -m $mem -smp $vcpus -bios $fw -kernel $kernel -initrd $initrd"
echo "cmdline: $cmdline"

t0=$SECONDS rc=0
timeout -k 5 "$timeout_s" qemu-system-x86_64 -machine q35 -m "$mem" -smp "$vcpus" -nographic \
  -no-reboot -nodefaults -serial "file:$work/console.txt" -serial "file:$work/out.raw" -bios "$fw" -kernel "$kernel" \
  -initrd "$initrd" -append "$cmdline" </dev/null >"$work/qemu.log" 2>&1 || rc=$?
tr -d '\r' <"$work/out.raw" >"$work/kata.out"
echo "boot kata: qemu rc=$rc, $((SECONDS - t0)) s"
fail=0
check() { # name expected actual
  if [[ "$2" == "$3" ]]; then echo "ok   $1 $3"; else echo "FAIL $1: expected $2, guest read $3"; fail=1; fi
}
grep -q '^@@DONE' "$work/kata.out" || { echo "FAIL kata: no @@DONE"; tail -20 "$work/kata.out"; exit 1; }
check "kata cmdline (mkguest's prediction vs the model)" "$cmdline" "$(sed -n 's/^#   //p' "$dropin")"
# OVMF's direct boot appends " initrd=initrd" to the LoadOptions the kernel reads.
check "kata cmdline" "$cmdline initrd=initrd" "$(sed -n 's/^@@CMDLINE //p' "$work/kata.out")"
check "kata vCPUs" "$vcpus" "$(sed -n 's/^@@CPUS //p' "$work/kata.out")"
memkb=$(sed -n 's/^@@MEMKB //p' "$work/kata.out")
# MemTotal is the RAM less what firmware and kernel reserve: within 25% below -m.
if [[ -n $memkb ]] && ((memkb <= mem * 1024 && memkb * 4 >= mem * 1024 * 3)); then
  echo "ok   kata memory ${memkb} kB of ${mem} MiB"
else
  echo "FAIL kata memory: ${memkb:-none} kB for -m $mem"
  fail=1
fi
exit $fail
