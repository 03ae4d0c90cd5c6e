#!/usr/bin/env python3
"""Writes IGVM test files, independently of mkguest's C++ (stdlib only).

Written from microsoft/igvm igvm_defs/src/lib.rs (commit e6c3ff1c34c3): the
fixed header, 8-byte aligned TLV variable headers (platform, then
initialization, then directives), then file data; the checksum is the CRC-32
of the fixed header (checksum field zero) and the variable header.

  igvm_writer.py spec SPEC.json OUT.igvm   one file from a JSON description
  igvm_writer.py shapes OUTDIR             the test shapes (see SHAPES)

SPEC: {"revision": 1|2, "architecture": 0|1,
       "platforms": [{"type": "sev-snp", "mask": 1}],
       "initializations": [{"kind": "guest_policy", "policy": N, "mask": 1}],
       "directives": [{"kind": "page", "gpa": N, "mask": 1, "flags": 0, "data_type": 0,
                       "data": DATA}, ...]}
DATA: null | {"hex": "..."} | {"fill": BYTE} | {"file": PATH, "offset": N, "size": N}
directive kinds: page, pages (gpa, file, offset, size: one page directive per 4 KiB),
parameter_area, parameter (type: vp_count|srat|madt|mmio_ranges|memory_map|
command_line|slit|pptt|device_tree|environment_info), parameter_insert,
vp_context, required_memory, error_range, snp_id_block, unknown_optional.
"""
import json
import os
import struct
import sys
import zlib

PLATFORMS = {"native": 0, "vsm": 1, "sev-snp": 2, "tdx": 3, "sev": 4, "sev-es": 5, "cca": 6}
PARAMETERS = {"vp_count": 0x307, "srat": 0x308, "madt": 0x309, "mmio_ranges": 0x30A,
              "memory_map": 0x30C, "command_line": 0x30E, "slit": 0x30F, "pptt": 0x310,
              "device_tree": 0x312, "environment_info": 0x313}
PAGE = 4096


def align8(n):
    return (n + 7) & ~7


def load_data(d, base_dir):
    if d is None:
        return b""
    if "hex" in d:
        return bytes.fromhex(d["hex"])
    if "fill" in d:
        return bytes([d["fill"]]) * d.get("size", PAGE)
    path = d["file"] if os.path.isabs(d["file"]) else os.path.join(base_dir, d["file"])
    with open(path, "rb") as f:
        f.seek(d.get("offset", 0))
        return f.read(d["size"])


class Writer:
    def __init__(self, revision=1, architecture=0):
        self.revision = revision
        self.architecture = architecture
        self.headers = []  # (type, body, [(offset in body, data)])

    def add(self, typ, body, refs=()):
        self.headers.append((typ, body, list(refs)))

    def serialize(self):
        fixed_size = 24 if self.revision == 1 else 32
        var = bytearray()
        pending = []  # (absolute-in-var offset of the u32 file_offset field, data)
        for typ, body, refs in self.headers:
            start = len(var)
            var += struct.pack("<II", typ, len(body)) + body
            var += b"\0" * (align8(len(var)) - len(var))
            for off, data in refs:
                pending.append((start + 8 + off, data))
        var_off = align8(fixed_size)
        data_start = var_off + len(var)
        file_data = bytearray()
        for field, data in pending:
            if data:
                struct.pack_into("<I", var, field, data_start + len(file_data))
                file_data += data
        total = data_start + len(file_data)
        fixed = struct.pack("<IIIIII", 0x4D564749, self.revision, var_off, len(var), total, 0)
        if self.revision == 2:
            fixed += struct.pack("<II", self.architecture, PAGE)
        fixed += b"\0" * (var_off - len(fixed))
        crc = zlib.crc32(fixed[:fixed_size] + bytes(var)) & 0xFFFFFFFF
        fixed = fixed[:20] + struct.pack("<I", crc) + fixed[24:]
        return fixed + bytes(var) + bytes(file_data)


def build(spec, base_dir="."):
    w = Writer(spec.get("revision", 1), spec.get("architecture", 0))
    for p in spec["platforms"]:
        w.add(0x1, struct.pack("<IBBHQ", p["mask"], p.get("vtl", 0), PLATFORMS[p["type"]], 1,
                               p.get("shared_gpa_boundary", 0)))
    for h in spec.get("initializations", []):
        if h["kind"] == "guest_policy":
            w.add(0x101, struct.pack("<QII", h["policy"], h["mask"], 0))
        else:
            raise SystemExit("unknown initialization kind " + h["kind"])
    for d in spec.get("directives", []):
        k = d["kind"]
        if k == "page":
            data = load_data(d.get("data"), base_dir)
            assert len(data) in (0, PAGE)
            w.add(0x302, struct.pack("<QIIIHH", d["gpa"], d["mask"], 0, d.get("flags", 0),
                                     d.get("data_type", 0), 0), [(12, data)])
        elif k == "pages":
            blob = load_data({"file": d["file"], "offset": d.get("offset", 0),
                              "size": d["size"]}, base_dir)
            for i in range(0, len(blob), PAGE):
                w.add(0x302, struct.pack("<QIIIHH", d["gpa"] + i, d["mask"], 0, 0, 0, 0),
                      [(12, blob[i:i + PAGE])])
        elif k == "parameter_area":
            data = load_data(d.get("data"), base_dir)
            w.add(0x301, struct.pack("<QII", d["size"], d["index"], 0), [(12, data)])
        elif k == "parameter":
            w.add(PARAMETERS[d["type"]], struct.pack("<II", d["index"], d.get("byte_offset", 0)))
        elif k == "parameter_insert":
            w.add(0x303, struct.pack("<QII", d["gpa"], d["mask"], d["index"]))
        elif k == "vp_context":
            data = load_data(d["data"], base_dir)
            w.add(0x304, struct.pack("<QIIHH", d["gpa"], d["mask"], 0, d.get("vp_index", 0), 0),
                  [(12, data)])
        elif k == "required_memory":
            w.add(0x305, struct.pack("<QIIII", d["gpa"], d["mask"], d["size"], d.get("flags", 0),
                                     0))
        elif k == "error_range":
            w.add(0x30D, struct.pack("<QII", d["gpa"], d["mask"], d["size"]))
        elif k == "snp_id_block":
            body = bytearray(696)
            struct.pack_into("<I", body, 0, d["mask"])
            body[8:56] = bytes.fromhex(d["ld"])
            w.add(0x30B, bytes(body))
        elif k == "unknown_optional":
            w.add(0x80000000 | d["type"], bytes.fromhex(d.get("hex", "")))
        else:
            raise SystemExit("unknown directive kind " + k)
    return w.serialize()


def page_hex(seed):
    return bytes(((i * 131 + seed * 17 + 5) & 0xFF) for i in range(PAGE)).hex()


def vmsa_hex(cr0, rip):
    v = bytearray(PAGE)
    struct.pack_into("<Q", v, 0x158, cr0)  # cr0
    struct.pack_into("<Q", v, 0x178, rip)  # rip
    struct.pack_into("<Q", v, 0x3B0, 1)  # sev_features
    return v.hex()


def shapes():
    snp = {"type": "sev-snp", "mask": 1}
    tdx = {"type": "tdx", "mask": 2}
    native = {"type": "native", "mask": 4}
    common = [
        {"kind": "page", "gpa": 0x100000, "mask": 3, "data": {"hex": page_hex(1)}},
        {"kind": "page", "gpa": 0x101000, "mask": 3, "data": {"hex": page_hex(2)}},
        {"kind": "page", "gpa": 0x102000, "mask": 3, "data": None},
        {"kind": "page", "gpa": 0x103000, "mask": 3, "flags": 2, "data": None},
        {"kind": "page", "gpa": 0x104000, "mask": 3, "flags": 2, "data": {"hex": page_hex(3)}},
        {"kind": "parameter_area", "index": 0, "size": 0x2000, "data": None},
        {"kind": "parameter", "type": "vp_count", "index": 0, "byte_offset": 0},
        {"kind": "parameter", "type": "memory_map", "index": 0, "byte_offset": 0x100},
        {"kind": "parameter_insert", "gpa": 0x200000, "mask": 3, "index": 0},
        {"kind": "required_memory", "gpa": 0x300000, "mask": 3, "size": 0x10000},
    ]
    out = {}
    out["snp-basic"] = {
        "platforms": [snp],
        "initializations": [{"kind": "guest_policy", "policy": 0x30000, "mask": 1}],
        "directives": common[:5] + [
            {"kind": "page", "gpa": 0x105000, "mask": 1, "data_type": 1, "data": None},
            {"kind": "page", "gpa": 0x106000, "mask": 1, "data_type": 2, "data": None},
            {"kind": "page", "gpa": 0x107000, "mask": 1, "data_type": 3, "data": None},
            {"kind": "page", "gpa": 0x108000, "mask": 1, "flags": 4, "data": {"hex": page_hex(4)}},
        ] + common[5:] + [
            {"kind": "vp_context", "gpa": 0xFFFFFFFFF000, "mask": 1,
             "data": {"hex": vmsa_hex(0x31, 0xFFF0)}},
            {"kind": "snp_id_block", "mask": 1, "ld": "ab" * 48},
        ]}
    out["tdx-basic"] = {"platforms": [tdx], "directives": [
        dict(d, mask=2) if "mask" in d else d for d in common]}
    out["multi"] = {
        "platforms": [snp, tdx, native],
        "initializations": [{"kind": "guest_policy", "policy": 0x30000, "mask": 1}],
        "directives": common + [
            {"kind": "page", "gpa": 0x400000, "mask": 1, "data": {"hex": page_hex(5)}},
            {"kind": "page", "gpa": 0x401000, "mask": 2, "data": {"hex": page_hex(6)}},
            {"kind": "page", "gpa": 0x402000, "mask": 7, "data": {"hex": page_hex(7)}},
            {"kind": "vp_context", "gpa": 0x0, "mask": 4, "data": {"fill": 0}},
            {"kind": "vp_context", "gpa": 0x5000, "mask": 1, "vp_index": 0,
             "data": {"hex": vmsa_hex(0x30, 0x1000)}},
            {"kind": "vp_context", "gpa": 0x6000, "mask": 1, "vp_index": 1,
             "data": {"hex": vmsa_hex(0x31, 0x2000)}},
            {"kind": "error_range", "gpa": 0x500000, "mask": 7, "size": 0x1000},
        ]}
    out["rev2-2m"] = {
        "revision": 2, "architecture": 0,
        "platforms": [snp, tdx],
        "initializations": [{"kind": "guest_policy", "policy": 0x30000, "mask": 1}],
        "directives": [
            {"kind": "page", "gpa": 0x200000, "mask": 3, "flags": 1, "data": None},
            {"kind": "page", "gpa": 0x400000, "mask": 3, "flags": 3, "data": None},
            {"kind": "unknown_optional", "type": 0x3F0, "hex": "0102030405"},
            {"kind": "page", "gpa": 0x600000, "mask": 3, "data": {"hex": page_hex(8)}},
        ]}
    # microsoft/igvm igvm_c/test_data/src/main.rs create_basic (commit
    # e6c3ff1c), the file its igvm_c/tests/igvm_test.c reads: one VSM
    # platform, two guest policies (masks 1 and 2), 8 pages, a parameter area
    # used by VP_COUNT and inserted at page 20.
    pages = []
    for page, fill in ((0, 1), (1, 2), (2, 3), (4, 4), (10, 1), (11, 2), (12, 3), (14, 4)):
        pages.append({"kind": "page", "gpa": page * PAGE, "mask": 1, "data": {"fill": fill}})
    out["ms-basic"] = {
        "platforms": [{"type": "vsm", "mask": 1}],
        "initializations": [{"kind": "guest_policy", "policy": 0x30000, "mask": 1},
                            {"kind": "guest_policy", "policy": 0x30000, "mask": 2}],
        "directives": pages + [
            {"kind": "parameter_area", "index": 0, "size": PAGE, "data": None},
            {"kind": "parameter", "type": "vp_count", "index": 0},
            {"kind": "parameter_insert", "gpa": 20 * PAGE, "mask": 1, "index": 0}]}
    # A VBS (VSM isolation) file: its VP context is a register list
    # (VbsVpContextHeader: u32 count, then 32-byte VbsVpContextRegister).
    regs = struct.pack("<I", 2)
    for name, value in ((0x40000, 0x1000), (0x40001, 0x8)):  # a made-up pair
        regs += struct.pack("<BI11s16s", 0, name, bytes(11), value.to_bytes(16, "little"))
    out["vsm"] = {
        "platforms": [{"type": "vsm", "mask": 1, "vtl": 2}],
        "directives": [
            {"kind": "page", "gpa": 0x1000, "mask": 1, "data": {"hex": page_hex(9)}},
            {"kind": "vp_context", "gpa": 0, "mask": 1, "data": {"hex": regs.hex()}}]}
    # Revision 2 for aarch64: an Arm CCA platform, a page, its VP context
    # (IgvmVpContextAArch64Cca: x0..x7, pc, flags; 80 bytes of a zeroed page).
    cca_vp = bytearray(PAGE)
    struct.pack_into("<10Q", cca_vp, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80000000, 0)
    out["rev2-cca"] = {
        "revision": 2, "architecture": 1,
        "platforms": [{"type": "cca", "mask": 1}],
        "directives": [
            {"kind": "page", "gpa": 0x80000000, "mask": 1, "data": {"hex": page_hex(10)}},
            {"kind": "vp_context", "gpa": 0, "mask": 1, "data": {"hex": cca_vp.hex()}}]}
    return out


def main(argv):
    if len(argv) == 4 and argv[1] == "spec":
        with open(argv[2]) as f:
            spec = json.load(f)
        data = build(spec, os.path.dirname(os.path.abspath(argv[2])))
        with open(argv[3], "wb") as f:
            f.write(data)
        return 0
    if len(argv) == 3 and argv[1] == "shapes":
        os.makedirs(argv[2], exist_ok=True)
        for name, spec in shapes().items():
            with open(os.path.join(argv[2], name + ".igvm"), "wb") as f:
                f.write(build(spec))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
