#!/usr/bin/env python3
"""Writes the vTPM event log a boot of a UKI under OVMF would leave, from the
specs alone (independent of the C++ code): TCG PC Client Platform Firmware
Profile 1.05 §10.2.1 (TCG_PCR_EVENT), §10.4.5.1 (TCG_EfiSpecIDEvent "Spec ID
Event03"), §10.2.2 (TCG_PCR_EVENT2), §10.4.5.3 (StartupLocality); PE/COFF
"Calculating the PE Image Hash" (Authenticode); systemd-stub (PCR 11: each
section's name with its NUL, then its content, in the stub's order); the
Linux EFI stub (PCR 9: LoadOptions as UTF-16LE with NUL, then the initrd).
Banks: SHA-1 and SHA-256. Also writes the PCR values as tpm2_pcrread prints them.

Usage: tcg_log_writer.py UKI LOG PCRS.yaml [--path qemu-kernel|disk]
         [--stub-major N] [--other-uki UKI2] [--extra PCR] [--drop PCR]
         [--tamper PCR] [--phase WORDS]
  --other-uki: the PCR 4 event of the UKI is UKI2's Authenticode (another UKI booted)
  --extra: one more EV_EVENT_TAG event in PCR; --drop: PCR's last event is not logged
  --tamper: the quoted value of PCR (both banks) is not the log's replay
  --phase: systemd-pcrphase words (a:b:c) extended into PCR 11 after the log
"""
import argparse, hashlib, struct

BANKS = [("sha1", 0x0004, 20), ("sha256", 0x000B, 32)]
EV_NO_ACTION, EV_SEPARATOR, EV_EVENT_TAG, EV_S_CRTM_VERSION, EV_IPL = 3, 4, 6, 8, 0xD
EV_EFI_PLATFORM_FIRMWARE_BLOB, EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000008, 0x80000003
EV_EFI_ACTION, EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000007, 0x80000001


def pe_sections(b):
    u16 = lambda o: int.from_bytes(b[o:o + 2], "little")
    u32 = lambda o: int.from_bytes(b[o:o + 4], "little")
    pe = u32(0x3C)
    assert b[pe:pe + 4] == b"PE\0\0"
    nsec, opt_size = u16(pe + 6), u16(pe + 20)
    st = pe + 24 + opt_size
    out = []
    for i in range(nsec):
        o = st + 40 * i
        name = b[o:o + 8].rstrip(b"\0").decode()
        vsize, raw_size, raw_ptr = u32(o + 8), u32(o + 16), u32(o + 20)
        out.append((name, vsize, raw_size, raw_ptr))
    return out


def section(b, name):
    for n, vsize, raw_size, raw_ptr in pe_sections(b):
        if n == name:
            return b[raw_ptr:raw_ptr + min(vsize, raw_size)]
    return None


def authenticode(b, alg):
    u16 = lambda o: int.from_bytes(b[o:o + 2], "little")
    u32 = lambda o: int.from_bytes(b[o:o + 4], "little")
    pe = u32(0x3C)
    nsec, opt_size = u16(pe + 6), u16(pe + 20)
    opt = pe + 24
    dd = opt + (96 if u16(opt) == 0x10B else 112)
    checksum, cert_dir = opt + 64, dd + 4 * 8
    size_headers = u32(opt + 60)
    cert_size = u32(cert_dir + 4)
    h = hashlib.new(alg)
    h.update(b[:checksum])
    h.update(b[checksum + 4:cert_dir])
    h.update(b[cert_dir + 8:size_headers])
    secs = []
    for i in range(nsec):
        o = opt + opt_size + 40 * i
        if u32(o + 16):
            secs.append((u32(o + 20), u32(o + 16)))
    end = size_headers
    for ptr, size in sorted(secs):
        h.update(b[ptr:ptr + size])
        end = max(end, ptr + size)
    tail_end = len(b) - cert_size if cert_size else len(b)
    if tail_end > end:
        h.update(b[end:tail_end])
    return h.digest()


def stub_sections(major):
    s = [".linux", ".osrel", ".cmdline", ".initrd"]
    if major >= 256:
        s.append(".ucode")
    s += [".splash", ".dtb"]
    if major >= 254:
        s += [".uname", ".sbat"]
    s.append(".pcrpkey")
    return s


class Event:
    def __init__(self, pcr, etype, data, digests=None):
        self.pcr, self.type, self.data = pcr, etype, data
        # digests: {bank: digest}; by default H(data) in each bank
        self.digests = digests or {n: hashlib.new(n, data).digest() for n, _, _ in BANKS}


def of_image(pcr, b, etype=EV_EFI_BOOT_SERVICES_APPLICATION):
    # The event data (UEFI_IMAGE_LOAD_EVENT) is informational; 32 zero bytes here.
    return Event(pcr, etype, bytes(32), {n: authenticode(b, n) for n, _, _ in BANKS})


def of_data(pcr, etype, measured, data=None):
    return Event(pcr, etype, measured if data is None else data,
                 {n: hashlib.new(n, measured).digest() for n, _, _ in BANKS})


def header():
    spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(BANKS))
    for _, alg, size in BANKS:
        spec += struct.pack("<HH", alg, size)
    spec += b"\0"  # vendorInfoSize
    return struct.pack("<II", 0, EV_NO_ACTION) + bytes(20) + struct.pack("<I", len(spec)) + spec


def record(e):
    out = struct.pack("<III", e.pcr, e.type, len(BANKS))
    for name, alg, size in BANKS:
        d = e.digests[name]
        assert len(d) == size
        out += struct.pack("<H", alg) + d
    return out + struct.pack("<I", len(e.data)) + e.data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("uki")
    ap.add_argument("log")
    ap.add_argument("pcrs")
    ap.add_argument("--path", default="disk")
    ap.add_argument("--stub-major", type=int, default=252)
    ap.add_argument("--other-uki")
    ap.add_argument("--extra", type=int)
    ap.add_argument("--drop", type=int)
    ap.add_argument("--tamper", type=int)
    ap.add_argument("--phase", default="")
    a = ap.parse_args()
    uki = open(a.uki, "rb").read()
    booted = open(a.other_uki, "rb").read() if a.other_uki else uki
    linux = section(uki, ".linux")
    initrd = section(uki, ".initrd")

    ev = [Event(0, EV_NO_ACTION, b"StartupLocality\0" + bytes([3]),
                {n: bytes(size) for n, _, size in BANKS})]
    ev.append(of_data(0, EV_S_CRTM_VERSION, "OVMF 2022.11".encode("utf-16-le") + b"\0\0"))
    ev.append(of_data(0, EV_EFI_PLATFORM_FIRMWARE_BLOB, b"firmware volume", bytes(16)))
    ev.append(of_data(7, EV_EFI_VARIABLE_DRIVER_CONFIG, b"SecureBoot=0"))
    call = of_data(4, EV_EFI_ACTION, b"Calling EFI Application from Boot Option")
    if a.path == "qemu-kernel":
        ev.append(of_image(4, booted))
    ev.append(call)
    for pcr in range(8):
        ev.append(of_data(pcr, EV_SEPARATOR, bytes(4)))
    if a.path == "disk":
        ev.append(of_image(4, booted))
    # systemd-stub: PCR 11, each section present and non-empty.
    for name in stub_sections(a.stub_major):
        data = section(booted, name)
        if data:
            ev.append(of_data(11, EV_IPL, name.encode() + b"\0"))
            ev.append(of_data(11, EV_IPL, data, name.encode() + b"\0"))
    if linux and linux[:2] == b"MZ":
        ev.append(of_image(4, section(booted, ".linux")))
    # The Linux EFI stub: LoadOptions, then the initrd (tagged events).
    ev.append(of_data(9, EV_EVENT_TAG, (section(booted, ".cmdline") or b"").decode()
                      .encode("utf-16-le") + b"\0\0", b"LOADED_IMAGE::LoadOptions"))
    if initrd:
        ev.append(of_data(9, EV_EVENT_TAG, section(booted, ".initrd"), b"Linux initrd"))
    if a.extra is not None:
        ev.append(of_data(a.extra, EV_EVENT_TAG, b"an extra measurement"))
    if a.drop is not None:
        last = max(i for i, e in enumerate(ev) if e.pcr == a.drop and e.type != EV_NO_ACTION)
        del ev[last]

    with open(a.log, "wb") as f:
        f.write(header() + b"".join(record(e) for e in ev))

    lines = []
    for name, _, size in BANKS:
        pcrs = [bytes(size) for _ in range(24)]
        pcrs[0] = bytes(size - 1) + bytes([3])  # the startup locality
        for e in ev:
            if e.type != EV_NO_ACTION:
                pcrs[e.pcr] = hashlib.new(name, pcrs[e.pcr] + e.digests[name]).digest()
        for w in filter(None, a.phase.split(":")):
            pcrs[11] = hashlib.new(name, pcrs[11] + hashlib.new(name, w.encode()).digest()).digest()
        if a.tamper is not None:
            pcrs[a.tamper] = hashlib.new(name, pcrs[a.tamper] + b"tampered").digest()
        lines.append(f"  {name}:")
        lines += [f"    {i:<2}: 0x{p.hex().upper()}" for i, p in enumerate(pcrs)]
    open(a.pcrs, "w").write("\n".join(lines) + "\n")


main()
