#!/usr/bin/env bash
# EROFS writer benchmark: `mkguest erofs` from a tar vs `mkfs.erofs` (the
# installed erofs-utils) on the extracted tree, extraction time counted.
#   bench/erofs.sh [MKGUEST] [FILES] [TOTAL_MIB]     (defaults: build/mkguest 30000 1024)
# Prints wall times, mkguest's peak RSS and the ratio; numbers go to docs/performance.md.
set -euo pipefail
MKGUEST=${1:-build/mkguest}
FILES=${2:-30000}
TOTAL_MIB=${3:-1024}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

python3 - "$W/tree" "$FILES" "$TOTAL_MIB" <<'PY'
import os, random, sys
root, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) << 20
rng = random.Random(1)
block = bytes(rng.getrandbits(8) for _ in range(1 << 20))
avg = total // n
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 97), "s%02d" % (i % 13))
    os.makedirs(d, exist_ok=True)
    size = rng.randint(0, 2 * avg)
    off = rng.randint(0, len(block) - 1)
    data = (block[off:] + block)[: size] if size <= len(block) else (block * (size // len(block) + 1))[:size]
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(data)
PY
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -cf "$W/tree.tar" -C "$W/tree" .
rm -rf "$W/tree"
echo "tar: $(du -m "$W/tree.tar" | cut -f1) MiB, $FILES files"
sync

t() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }

own=$(t bash -c "'$MKGUEST' erofs '$W/tree.tar' -o '$W/own.img' --source-date-epoch 1700000000 >/dev/null")
rm -f "$W/own.img"
/usr/bin/time -f %M -o "$W/rss" "$MKGUEST" erofs "$W/tree.tar" -o "$W/own.img" --source-date-epoch 1700000000 >/dev/null
rm -f "$W/own.img"; sync
ref=$(t bash -c "mkdir '$W/x' && tar -xf '$W/tree.tar' -C '$W/x' && mkfs.erofs -T1700000000 --all-root '$W/ref.img' '$W/x' >/dev/null 2>&1")
echo "mkguest erofs (from tar):          ${own} s, peak RSS $(( $(cat "$W/rss") / 1024 )) MiB"
echo "tar -x + mkfs.erofs $(dpkg-query -W -f '${Version}' erofs-utils 2>/dev/null) (dir):   ${ref} s"
echo "ratio (mkfs.erofs path / mkguest): $(echo "scale=2; $ref / $own" | bc)"
