#!/usr/bin/env bash
# End-to-end boot test: `mkguest build` makes a Debian 12 guest from examples/coco-guest, the
# flagship (examples/debian-verity-uki with SNP, TDX and vTPM predictions: cloud kernel, busybox initrd with veritysetup, EROFS root with dm-verity, a UKI on the 252
# systemd-stub) and this boots it under QEMU/TCG + OVMF + swtpm: direct boot, UKI through
# -kernel, UKI from an ESP disk, and a root with one flipped byte. Checks the verity mount, the
# program run from the root, and the predicted PCRs against what the guest read.
# Usage: tests/e2e/boot-e2e.sh WORKDIR MKGUEST   (env: MKGUEST_DEBIAN_CACHE, BOOT_TIMEOUT=180)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkguest="${2:-$src/build/mkguest}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
timeout_s="${BOOT_TIMEOUT:-180}"
for t in qemu-system-x86_64 swtpm mkfs.vfat mcopy python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/install-deps --test)"; exit 77; }
done
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[[ -f $ovmf_code ]] || { echo "SKIP: $ovmf_code missing"; exit 77; }
cache="${MKGUEST_DEBIAN_CACHE:-$src/.cache/debian}"
"$src/scripts/fetch-debian-inputs" "$cache" >/dev/null
# shellcheck disable=SC1091
source "$cache/env"
fail=0
check() { # name expected actual
  if [[ "$2" == "$3" ]]; then echo "ok   $1 $3"; else echo "FAIL $1: expected $2, guest read $3"; fail=1; fi
}

# --- the guest, built by mkguest from examples/coco-guest/recipe.yaml ---
out="$work/out"
"$mkguest" build -q "$src/examples/coco-guest/recipe.yaml" -o "$out" >/dev/null
cp "$out/cmdline" "$work/cmdline.txt"
cp "$out/initrd" "$work/initrd.cpio"
busybox_sum=$(sha256sum "$BUSYBOX" | cut -d' ' -f1)
# One flipped byte in the middle of /bin/busybox's data inside the EROFS image.
python3 - "$out/rootfs.img" "$BUSYBOX" "$work/root-corrupt.img" <<'PY'
import sys
img = bytearray(open(sys.argv[1], "rb").read())
bb = open(sys.argv[2], "rb").read()
probe = bb[len(bb) // 2:len(bb) // 2 + 64]
at = img.find(probe)
if at < 0 or img.find(probe, at + 1) >= 0:
    sys.exit("corrupt: cannot place busybox's middle in the image exactly once")
img[at + 17] ^= 0x01
open(sys.argv[3], "wb").write(img)
PY

# --- the UKI mkguest built on Debian's systemd-stub 252 (outputs.uki), on an ESP too ---
cp "$src/examples/debian-verity-uki/os-release" "$work/osrel.txt"
cp "$out/uki.efi" "$work/uki.efi"
rm -f "$work/esp.img"
truncate -s 64M "$work/esp.img"
mkfs.vfat -F 32 -n ESP -i 6d6b6775 "$work/esp.img" >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/uki.efi" ::/EFI/BOOT/BOOTX64.EFI

# --- one boot: boot NAME QEMU-ARGS... ; results in $work/NAME.out (second UART) ---
boot() {
  local name=$1 d="$work/$1"
  shift
  rm -rf "$d"
  mkdir -p "$d/tpm"
  swtpm socket --tpm2 --tpmstate dir="$d/tpm" --ctrl type=unixio,path="$d/swtpm.sock" --terminate \
    --log file="$d/swtpm.log",level=1 &
  local tpm_pid=$!
  for _ in $(seq 100); do [[ -S "$d/swtpm.sock" ]] && break; sleep 0.05; done
  cp "$ovmf_vars" "$d/VARS.fd"
  local t0=$SECONDS rc=0
  timeout -k 5 "$timeout_s" qemu-system-x86_64 -machine q35 -m 1024 -smp 1 -nographic -no-reboot -nodefaults \
    -serial "file:$d/console.txt" -serial "file:$d/out.txt" \
    -drive if=pflash,format=raw,readonly=on,file="$ovmf_code" -drive if=pflash,format=raw,file="$d/VARS.fd" \
    -chardev socket,id=chrtpm,path="$d/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
    -device tpm-crb,tpmdev=tpm0 "$@" </dev/null >"$d/qemu.log" 2>&1 || rc=$?
  kill "$tpm_pid" 2>/dev/null || true
  wait "$tpm_pid" 2>/dev/null || true
  tr -d '\r' <"$d/out.txt" >"$work/$name.out"
  echo "boot $name: qemu rc=$rc, $((SECONDS - t0)) s"
  grep -q '^@@DONE' "$work/$name.out" || { echo "FAIL $name: no @@DONE (see $d/console.txt)"; tail -20 "$d/console.txt"; fail=1; }
}
pcr() { sed -n "s/^@@PCR sha256 $2 //p" "$work/$1.out"; }
# A value of the manifest's measurements.tpm, upper-case: mf pcr4 qemu-kernel
mf() {
  python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["measurements"]["tpm"]
v = t[sys.argv[2]]["sha256"]
if sys.argv[2] == "pcr11": v = [e["value"] for e in v if e["phase"] == ""][0]
elif len(sys.argv) > 3: v = v[sys.argv[3]]
print(v.upper())' "$out/manifest.json" "$@"
}
# Each PCR the guest read must equal the manifest's prediction, and the
# independent prediction (pcr.py, systemd-measure) must agree with both.
check3() { # name independent manifest guest
  check "$1 (independent vs manifest)" "$2" "$3"
  check "$1 (manifest vs guest)" "$3" "$4"
}
rootdrive=(-drive if=none,id=root,format=raw,readonly=on,file="$out/rootfs.img" -device virtio-blk-pci,drive=root)

# A: direct boot. OVMF appends " initrd=initrd" to the cmdline the kernel stub measures in PCR 9.
boot direct -kernel "$out/kernel" -initrd "$out/initrd" -append "$(cat "$work/cmdline.txt")" "${rootdrive[@]}"
printf '%s initrd=initrd' "$(cat "$work/cmdline.txt")" >"$work/cmdline-direct.txt"
check "direct verity root" "root VERITY /dev/mapper/root erofs" "$(sed -n 's/^@@ROOT //p' "$work/direct.out")"
check "direct program" "hello from the verity root $busybox_sum" "$(sed -n 's/^@@RUN //p' "$work/direct.out")"
check3 "direct PCR 9" "$(python3 "$here/pcr.py" pcr9 "$work/cmdline-direct.txt" "$work/initrd.cpio")" \
  "$(mf pcr9 direct-qemu-ovmf)" "$(pcr direct 9)"
check "direct PCR 11" "$(python3 "$here/pcr.py" zero)" "$(pcr direct 11)"
check "direct PCR 4 (manifest vs guest, -m 1024)" "$(mf pcr4 direct-qemu-ovmf-1024M)" "$(pcr direct 4)"

# pcr.py's Authenticode against osslsigncode on the Debian-signed kernel (when installed).
if command -v osslsigncode >/dev/null; then
  check "Authenticode(vmlinuz) vs osslsigncode" \
    "$(osslsigncode verify -in "$VMLINUZ" 2>/dev/null | sed -n 's/^Calculated message digest *: *\([0-9A-F]*\).*/\1/p')" \
    "$(python3 "$here/pcr.py" authenticode "$VMLINUZ" | tr a-f A-F)"
fi

# B(i): UKI through -kernel (no -append: it would override the embedded cmdline).
pcr11=$(/usr/lib/systemd/systemd-measure calculate --linux="$VMLINUZ" --osrel="$work/osrel.txt" \
  --cmdline="$work/cmdline.txt" --initrd="$work/initrd.cpio" --bank=sha256 --phase=: 2>/dev/null |
  sed -n 's/^11:sha256=//p' | tr a-f A-F)
for b in uki-kernel uki-esp; do
  if [[ $b == uki-kernel ]]; then
    boot "$b" -kernel "$work/uki.efi" "${rootdrive[@]}"
  else
    # The root drive comes first so the guest sees it as /dev/vda.
    boot "$b" "${rootdrive[@]}" -drive if=none,id=esp,format=raw,readonly=on,file="$work/esp.img" \
      -device virtio-blk-pci,drive=esp,bootindex=0
  fi
  check "$b verity root" "root VERITY /dev/mapper/root erofs" "$(sed -n 's/^@@ROOT //p' "$work/$b.out")"
  check "$b program" "hello from the verity root $busybox_sum" "$(sed -n 's/^@@RUN //p' "$work/$b.out")"
  path=qemu-kernel
  [[ $b == uki-esp ]] && path=disk
  check3 "$b PCR 4" "$(python3 "$here/pcr.py" "pcr4-${b#uki-}" "$work/uki.efi" "$VMLINUZ")" \
    "$(mf pcr4 "$path")" "$(pcr "$b" 4)"
  check3 "$b PCR 11" "$pcr11" "$(mf pcr11)" "$(pcr "$b" 11)"
  check3 "$b PCR 9" "$(python3 "$here/pcr.py" pcr9 "$work/cmdline.txt" "$work/initrd.cpio")" \
    "$(mf pcr9 uki)" "$(pcr "$b" 9)"
  check3 "$b PCR 12" "$(python3 "$here/pcr.py" zero)" "$(mf pcr12)" "$(pcr "$b" 12)"
done

# Corrupted root: one flipped byte inside the payload must surface as a verity error.
boot corrupt -kernel "$out/kernel" -initrd "$out/initrd" -append "$(cat "$work/cmdline.txt")" \
  -drive if=none,id=root,format=raw,readonly=on,file="$work/root-corrupt.img" -device virtio-blk-pci,drive=root
if grep -q '^@@VERITY-ERROR' "$work/corrupt.out" && ! grep -q '^@@RUN' "$work/corrupt.out"; then
  echo "ok   corrupt root reported: $(grep -m1 '^@@VERITY-ERROR' "$work/corrupt.out")"
else
  echo "FAIL corrupt root was not reported as a verity error"; fail=1
fi
exit $fail
