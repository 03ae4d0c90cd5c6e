#!/usr/bin/env bash
# End-to-end boot test: builds a Debian 12 guest (cloud kernel, busybox initrd with veritysetup,
# EROFS root with dm-verity) and boots it under QEMU/TCG + OVMF + swtpm: direct boot, UKI through
# -kernel, UKI from an ESP disk, and a root with one flipped byte. Checks the verity mount, the
# program run from the root, and the predicted PCRs against what the guest read.
# Usage: tests/e2e/boot-e2e.sh [WORKDIR]   (env: MKGUEST_DEBIAN_CACHE, BOOT_TIMEOUT=180)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
timeout_s="${BOOT_TIMEOUT:-180}"
for t in qemu-system-x86_64 swtpm mkfs.erofs veritysetup cpio depmod mkfs.vfat mcopy objcopy python3; do
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

# --- EROFS root + dm-verity (hash tree appended after the data) ---
rm -rf "$work/rootfs" "$work/initrd"
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
cp "$BUSYBOX" "$work/rootfs/bin/busybox"
echo "hello from the verity root" >"$work/rootfs/etc/hello"
python3 -c "import sys; sys.stdout.buffer.write(b'MKGUEST-PAYLOAD-MARK' + bytes(range(256)) * 4096)" >"$work/rootfs/payload"
find "$work/rootfs" -exec touch -h -d @0 {} +
mkfs.erofs --quiet -T0 -U 6d6b6775-6573-7400-0000-000000000001 --all-root "$work/root.img" "$work/rootfs" >/dev/null
data_size=$(stat -c %s "$work/root.img")
veritysetup format "$work/root.img" "$work/root.img" --hash-offset="$data_size" \
  --salt=6d6b677565737400000000000000000000000000000000000000000000000000 \
  --uuid=6d6b6775-6573-7400-0000-000000000002 >"$work/verity.txt"
roothash=$(sed -n 's/^Root hash:[[:space:]]*//p' "$work/verity.txt")
payload_sum=$(sha256sum "$work/rootfs/payload" | cut -d' ' -f1)
mark=$(grep -obUa MKGUEST-PAYLOAD-MARK "$work/root.img" | head -1 | cut -d: -f1)
cp "$work/root.img" "$work/root-corrupt.img"
printf '\x58' | dd of="$work/root-corrupt.img" bs=1 seek=$((mark + 4096 + 17)) conv=notrunc status=none

# --- initrd: busybox, the modules (depmod'ed subset), veritysetup + its DT_NEEDED libraries ---
ir="$work/initrd"
mkdir -p "$ir/bin" "$ir/usr/sbin" "$ir/lib/modules/$KVER"
cp "$BUSYBOX" "$ir/bin/busybox"
cp "$src/examples/debian-verity-uki/init" "$ir/init"
for m in $(cd "$MODULES" && for n in virtio_pci virtio_blk dm-verity erofs; do
  modprobe -d "${MODULES%/lib/modules/*}" -S "$KVER" --show-depends "$n" | awk '/^insmod/ {print $2}'; done | sort -u); do
  rel="${m#"$MODULES"/}"
  mkdir -p "$ir/lib/modules/$KVER/$(dirname "$rel")"
  cp "$m" "$ir/lib/modules/$KVER/$rel"
done
cp "$MODULES"/modules.{order,builtin,builtin.modinfo} "$ir/lib/modules/$KVER/"
depmod -b "$ir" "$KVER"
vs=$(command -v veritysetup)
cp "$vs" "$ir/usr/sbin/veritysetup"
for lib in $(ldd "$vs" | grep -o '/[^ ]*'); do
  mkdir -p "$ir$(dirname "$lib")"
  cp -L "$lib" "$ir$lib"
done
find "$ir" -exec touch -h -d @0 {} +
(cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible -R 0:0 --quiet) >"$work/initrd.cpio"

# --- UKI on Debian's systemd-stub (objcopy, PE TimeDateStamp/CheckSum zeroed) ---
printf 'console=ttyS0 panic=-1 mkguest.roothash=%s mkguest.hashoffset=%s' "$roothash" "$data_size" >"$work/cmdline.txt"
printf 'ID=debian\nVERSION_ID=12\nPRETTY_NAME="mkguest debian-verity-uki"\n' >"$work/osrel.txt"
rm -f "$work/uki.efi"
objcopy --add-section .osrel="$work/osrel.txt" --change-section-vma .osrel=0x20000 \
  --add-section .cmdline="$work/cmdline.txt" --change-section-vma .cmdline=0x30000 \
  --add-section .linux="$VMLINUZ" --change-section-vma .linux=0x2000000 \
  --add-section .initrd="$work/initrd.cpio" --change-section-vma .initrd=0x3000000 \
  "$STUB" "$work/uki.efi"
peoff=$(od -An -tu4 -j60 -N4 "$work/uki.efi" | tr -d ' ')
printf '\0\0\0\0' | dd of="$work/uki.efi" bs=1 seek=$((peoff + 8)) conv=notrunc status=none
printf '\0\0\0\0' | dd of="$work/uki.efi" bs=1 seek=$((peoff + 88)) conv=notrunc status=none
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
rootdrive=(-drive if=none,id=root,format=raw,readonly=on,file="$work/root.img" -device virtio-blk-pci,drive=root)

# A: direct boot. OVMF appends " initrd=initrd" to the cmdline the kernel stub measures in PCR 9.
boot direct -kernel "$VMLINUZ" -initrd "$work/initrd.cpio" -append "$(cat "$work/cmdline.txt")" "${rootdrive[@]}"
printf '%s initrd=initrd' "$(cat "$work/cmdline.txt")" >"$work/cmdline-direct.txt"
check "direct verity root" "root VERITY /dev/mapper/root erofs" "$(sed -n 's/^@@ROOT //p' "$work/direct.out")"
check "direct program" "hello from the verity root $payload_sum" "$(sed -n 's/^@@RUN //p' "$work/direct.out")"
check "direct PCR 9" "$(python3 "$here/pcr.py" pcr9 "$work/cmdline-direct.txt" "$work/initrd.cpio")" "$(pcr direct 9)"
check "direct PCR 11" "$(python3 "$here/pcr.py" zero)" "$(pcr direct 11)"

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
  check "$b program" "hello from the verity root $payload_sum" "$(sed -n 's/^@@RUN //p' "$work/$b.out")"
  check "$b PCR 4" "$(python3 "$here/pcr.py" "pcr4-${b#uki-}" "$work/uki.efi" "$VMLINUZ")" "$(pcr "$b" 4)"
  check "$b PCR 11" "$pcr11" "$(pcr "$b" 11)"
  check "$b PCR 9" "$(python3 "$here/pcr.py" pcr9 "$work/cmdline.txt" "$work/initrd.cpio")" "$(pcr "$b" 9)"
  check "$b PCR 12" "$(python3 "$here/pcr.py" zero)" "$(pcr "$b" 12)"
done

# Corrupted root: one flipped byte inside the payload must surface as a verity error.
boot corrupt -kernel "$VMLINUZ" -initrd "$work/initrd.cpio" -append "$(cat "$work/cmdline.txt")" \
  -drive if=none,id=root,format=raw,readonly=on,file="$work/root-corrupt.img" -device virtio-blk-pci,drive=root
if grep -q '^@@VERITY-ERROR' "$work/corrupt.out" && ! grep -q '^@@RUN' "$work/corrupt.out"; then
  echo "ok   corrupt root reported: $(grep -m1 '^@@VERITY-ERROR' "$work/corrupt.out")"
else
  echo "FAIL corrupt root was not reported as a verity error"; fail=1
fi
exit $fail
