#!/usr/bin/env python3
"""PCR formulas of docs/boot.md, written independently of the C++ models (used to check boots).
Usage: pcr.py pcr9 CMDLINE_FILE INITRD   -> E(E(0,H(UTF-16LE(cmdline)+NUL16)),H(initrd))
       pcr.py pcr4-esp UKI VMLINUZ        -> E(E(E(E(0,CALL),SEP),A(uki)),A(vmlinuz))   (SB off)
       pcr.py pcr4-kernel UKI VMLINUZ     -> E(E(E(E(0,A(uki)),CALL),SEP),A(vmlinuz))   (QEMU -kernel)
       pcr.py authenticode PE             -> A(PE), the PE/COFF Authenticode sha256
       pcr.py zero                        -> 64 zeros"""
import hashlib, sys

def ext(pcr, digest):
    return hashlib.sha256(pcr + digest).digest()

def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()

def authenticode(path):
    """Authenticode sha256 (PE/COFF spec, "Calculating the PE Image Hash")."""
    b = open(path, "rb").read()
    u16 = lambda o: int.from_bytes(b[o:o + 2], "little")
    u32 = lambda o: int.from_bytes(b[o:o + 4], "little")
    pe = u32(0x3C)
    if b[pe:pe + 4] != b"PE\0\0":
        sys.exit(f"{path}: not a PE file")
    nsec, opt_size = u16(pe + 6), u16(pe + 20)
    opt = pe + 24
    magic = u16(opt)
    dd = opt + (96 if magic == 0x10B else 112)
    checksum, cert_dir = opt + 64, dd + 4 * 8
    size_headers = u32(opt + 60)
    cert_off, cert_size = u32(cert_dir), u32(cert_dir + 4)
    h = hashlib.sha256()
    h.update(b[:checksum])
    h.update(b[checksum + 4:cert_dir])
    h.update(b[cert_dir + 8:size_headers])
    secs = []
    st = opt + opt_size
    for i in range(nsec):
        o = st + 40 * i
        raw_size, raw_ptr = u32(o + 16), u32(o + 20)
        if raw_size:
            secs.append((raw_ptr, raw_size))
    end = size_headers
    for ptr, size in sorted(secs):
        h.update(b[ptr:ptr + size])
        end = max(end, ptr + size)
    tail_end = len(b) - cert_size if cert_size else len(b)
    if tail_end > end:
        h.update(b[end:tail_end])
    return h.digest()

CALL = hashlib.sha256(b"Calling EFI Application from Boot Option").digest()
SEP = hashlib.sha256(bytes(4)).digest()

def main():
    if sys.argv[1] == "pcr9":
        cmdline = open(sys.argv[2], "rb").read().decode().rstrip("\n")
        p = ext(bytes(32), hashlib.sha256(cmdline.encode("utf-16-le") + b"\0\0").digest())
        p = ext(p, file_sha256(sys.argv[3]))
        print(p.hex().upper())
    elif sys.argv[1] in ("pcr4-esp", "pcr4-kernel"):
        uki, linux = authenticode(sys.argv[2]), authenticode(sys.argv[3])
        seq = [CALL, SEP, uki, linux] if sys.argv[1] == "pcr4-esp" else [uki, CALL, SEP, linux]
        p = bytes(32)
        for d in seq:
            p = ext(p, d)
        print(p.hex().upper())
    elif sys.argv[1] == "authenticode":
        print(authenticode(sys.argv[2]).hex())
    elif sys.argv[1] == "zero":
        print("0" * 64)
    else:
        sys.exit("unknown formula")

main()
