#!/usr/bin/env python3
"""Test helper for the EROFS tests, independent of mkguest's code paths.

  erofs_tar.py make OUT.tar forward|reverse   a rootfs-like pax tar (uid 0,
        setuid, security.capability, devices, FIFO, hard link, symlinks,
        multi-block and inline-tail files, a directory over one block) with
        its entries in the given order (parents always before children)
  erofs_tar.py layers DIR                     three OCI layers with whiteouts
  erofs_tar.py shuffle IN.tar OUT.tar SEED    IN's entries in a seeded random
        order (hard links after their targets) as a pax tar; if no entry has
        security.capability, usr/bin/ping (or the first setuid file) gets one
  erofs_tar.py list TAR... [--epoch N]        the tree the tars describe once
        applied as OCI layers, one canonical line per path:
        path|type|mode|uid|gid|mtime|size|sha256|target|dev|xattrs
"""
import hashlib
import io
import sys
import tarfile

CAP = bytes.fromhex("0100000200200000000000000000000000000000")  # cap_net_raw+ep


def entries():
    e = []

    def d(path, mode=0o755, uid=0, gid=0, mtime=1600000000, xattrs=None):
        e.append(("dir", path, mode, uid, gid, mtime, None, xattrs or {}))

    def f(path, data, mode=0o644, uid=0, gid=0, mtime=1600000000, xattrs=None):
        e.append(("file", path, mode, uid, gid, mtime, data, xattrs or {}))

    d(".")
    d("bin")
    d("dev")
    d("etc", xattrs={"user.comment": b"etc dir"})
    d("home")
    d("home/user", mode=0o700, uid=1000, gid=1000)
    d("tmp", mode=0o1777)
    d("usr")
    d("usr/bin")
    d("usr/lib")
    d("many")
    f("bin/ping", b"\x7fELF" + bytes(range(256)) * 40, mode=0o4755,
      xattrs={"security.capability": CAP})
    f("usr/bin/sudo", b"sudo" * 3000, mode=0o4711)
    f("usr/bin/wall", b"wall\n", mode=0o2755, gid=5)
    f("etc/hostname", b"guest\n")
    f("etc/empty", b"")
    f("etc/exact", b"x" * 8192)
    f("etc/shadow", b"root:*:19000::::::\n", mode=0o640, gid=42)
    f("home/user/big-uid", b"owned by a large uid\n", uid=100000, gid=70000)
    f("home/user/future", b"mtime after the epoch\n", mtime=4000000000)
    f("usr/lib/libbig.so", bytes((i * 7) & 0xff for i in range(70000)), mode=0o755)
    for i in range(300):
        f("many/entry-with-a-longish-name-%03d" % i, b"%d\n" % i)
    e.append(("hard", "usr/bin/sudoedit", 0o4711, 0, 0, 1600000000, "usr/bin/sudo", {}))
    e.append(("sym", "bin/sh", 0o777, 0, 0, 1600000000, "../usr/bin/sudo", {}))
    e.append(("sym", "usr/lib/libbig.so.1", 0o777, 0, 0, 1600000000, "libbig.so", {}))
    e.append(("chr", "dev/null", 0o666, 0, 0, 1600000000, (1, 3), {}))
    e.append(("chr", "dev/console", 0o600, 0, 5, 1600000000, (5, 1), {}))
    e.append(("blk", "dev/vda", 0o660, 0, 6, 1600000000, (254, 0), {}))
    e.append(("blk", "dev/big", 0o660, 0, 6, 1600000000, (4095, 1048575), {}))
    e.append(("fifo", "dev/initctl", 0o600, 0, 0, 1600000000, None, {}))
    return e


def add(tf, kind, path, mode, uid, gid, mtime, data, xattrs):
    ti = tarfile.TarInfo(path)
    ti.mode, ti.uid, ti.gid, ti.mtime = mode, uid, gid, mtime
    ti.uname = ti.gname = ""
    ti.pax_headers = {"SCHILY.xattr." + k: v.decode("latin-1") for k, v in xattrs.items()}
    body = None
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
    elif kind == "file":
        ti.type, ti.size, body = tarfile.REGTYPE, len(data), io.BytesIO(data)
    elif kind == "hard":
        ti.type, ti.linkname = tarfile.LNKTYPE, data
    elif kind == "sym":
        ti.type, ti.linkname = tarfile.SYMTYPE, data
    elif kind in ("chr", "blk"):
        ti.type = tarfile.CHRTYPE if kind == "chr" else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = data
    elif kind == "fifo":
        ti.type = tarfile.FIFOTYPE
    tf.addfile(ti, body)


def make(out, order):
    e = entries()
    if order == "reverse":
        # Children first is not allowed for hard links (target first), but any
        # other order is: directories last, files and links reversed.
        files = [x for x in e if x[0] not in ("dir", "hard")][::-1]
        e = files + [x for x in e if x[0] == "hard"] + [x for x in e if x[0] == "dir"][::-1]
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT, encoding="latin-1") as tf:
        for x in e:
            add(tf, *x)


def shuffle(src, out, seed):
    import random
    with tarfile.open(src) as tf:
        members = [(m, tf.extractfile(m).read() if m.isreg() else None) for m in tf]
    if not any("SCHILY.xattr.security.capability" in m.pax_headers for m, _ in members):
        regs = [m for m, _ in members if m.isreg()]
        pick = [m for m in regs if canon(m.name) == "usr/bin/ping"] or \
            [m for m in regs if m.mode & 0o4000] or regs[:1]
        pick[0].pax_headers["SCHILY.xattr.security.capability"] = CAP.decode("latin-1")
    random.Random(seed).shuffle(members)
    members.sort(key=lambda x: x[0].islnk())  # stable: hard links last
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tf:
        for m, data in members:
            tf.addfile(m, io.BytesIO(data) if data is not None else None)


def layers(d):
    with tarfile.open(d + "/l1.tar", "w", format=tarfile.PAX_FORMAT) as tf:
        add(tf, "dir", ".", 0o755, 0, 0, 1, None, {})
        for p in ("a", "a/sub", "b", "keep"):
            add(tf, "dir", p, 0o755, 0, 0, 1, None, {})
        for p in ("a/x", "a/sub/y", "b/z", "keep/k", "gone"):
            add(tf, "file", p, 0o644, 0, 0, 1, p.encode(), {})
    with tarfile.open(d + "/l2.tar.gz", "w:gz", format=tarfile.PAX_FORMAT) as tf:
        add(tf, "file", "a/new", 0o600, 7, 7, 1, b"new", {})  # same layer as the opaque marker
        add(tf, "file", "a/.wh..wh..opq", 0o644, 0, 0, 1, b"", {})
        add(tf, "file", ".wh.gone", 0o644, 0, 0, 1, b"", {})
        add(tf, "file", "b/.wh.z", 0o644, 0, 0, 1, b"", {})
    with tarfile.open(d + "/l3.tar", "w", format=tarfile.PAX_FORMAT) as tf:
        add(tf, "file", "gone", 0o755, 0, 0, 1, b"back", {})
        add(tf, "sym", "keep/k", 0o777, 0, 0, 1, "../a/new", {})


def canon(name):
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def listing(tars, epoch):
    tree = {}
    for t in tars:
        with tarfile.open(t) as tf:
            members = tf.getmembers()
            new = {}
            for m in members:
                path = canon(m.name)
                base = path.rsplit("/", 1)[-1]
                parent = path.rsplit("/", 1)[0] if "/" in path else ""
                if base == ".wh..wh..opq":
                    for k in [k for k in tree if k.startswith(parent + "/" if parent else "")]:
                        if k != parent:
                            del tree[k]
                    continue
                if base.startswith(".wh."):
                    victim = (parent + "/" if parent else "") + base[4:]
                    for k in [k for k in tree if k == victim or k.startswith(victim + "/")]:
                        del tree[k]
                    continue
                new[path] = m
            for path, m in new.items():
                data = tf.extractfile(m).read() if m.isreg() else None
                tree[path] = (m, data)
    lines = []
    for path in sorted(tree):
        m, data = tree[path]
        if m.islnk():
            m, data = tree[canon(m.linkname)]
        kind = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.CHRTYPE: "chardev",
                tarfile.BLKTYPE: "blockdev", tarfile.FIFOTYPE: "fifo"}.get(m.type, "file")
        size = len(data) if kind == "file" else 0
        sha = hashlib.sha256(data).hexdigest() if kind == "file" else ""
        target = m.linkname if kind == "symlink" else ""
        dev = "%d:%d" % (m.devmajor, m.devminor) if kind in ("chardev", "blockdev") else ""
        xattrs = ",".join("%s=%s" % (k[len("SCHILY.xattr."):], v.encode("latin-1").hex())
                          for k, v in sorted(m.pax_headers.items())
                          if k.startswith("SCHILY.xattr."))
        mtime = min(int(m.mtime), epoch)
        lines.append("|".join([path, kind, "%o" % (m.mode & 0o7777), str(m.uid), str(m.gid),
                               str(mtime), str(size), sha, target, dev, xattrs]))
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "shuffle":
        shuffle(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "layers":
        layers(sys.argv[2])
    else:
        args = sys.argv[2:]
        epoch = 2**62
        if "--epoch" in args:
            i = args.index("--epoch")
            epoch = int(args[i + 1])
            del args[i:i + 2]
        listing(args, epoch)
