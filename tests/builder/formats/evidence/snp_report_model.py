#!/usr/bin/env python3
"""An independent model of the SEV-SNP ATTESTATION_REPORT (SEV-SNP Firmware ABI
1.58, table "ATTESTATION_REPORT Structure"), standard library only, written from
the table rather than from mkguest's reader.

Usage: snp_report_model.py FIELDS.json OUT.bin
FIELDS.json holds the values to place; bytes fields are hex strings. Missing
fields are zero. "poke": [[offset, byte], ...] overwrites single bytes last
(to put a value where the table says reserved).
"""
import json
import struct
import sys

SIZE = 0x4A0

# name -> (offset, struct format or byte length)
LAYOUT = {
    "version": (0x000, "<I"), "guest_svn": (0x004, "<I"), "policy": (0x008, "<Q"),
    "family_id": (0x010, 16), "image_id": (0x020, 16), "vmpl": (0x030, "<I"),
    "signature_algo": (0x034, "<I"), "current_tcb": (0x038, "<Q"),
    "platform_info": (0x040, "<Q"), "report_data": (0x050, 64), "measurement": (0x090, 48),
    "host_data": (0x0C0, 32), "id_key_digest": (0x0E0, 48), "author_key_digest": (0x110, 48),
    "report_id": (0x140, 32), "report_id_ma": (0x160, 32), "reported_tcb": (0x180, "<Q"),
    "cpuid_fam_id": (0x188, "<B"), "cpuid_mod_id": (0x189, "<B"), "cpuid_step": (0x18A, "<B"),
    "chip_id": (0x1A0, 64), "committed_tcb": (0x1E0, "<Q"),
    "current_build": (0x1E8, "<B"), "current_minor": (0x1E9, "<B"), "current_major": (0x1EA, "<B"),
    "committed_build": (0x1EC, "<B"), "committed_minor": (0x1ED, "<B"),
    "committed_major": (0x1EE, "<B"), "launch_tcb": (0x1F0, "<Q"),
    "launch_mit_vector": (0x1F8, "<Q"), "current_mit_vector": (0x200, "<Q"),
    "signature_r": (0x2A0, 72), "signature_s": (0x2E8, 72),
}


def build(fields):
    out = bytearray(SIZE)
    key_info = (int(fields.get("author_key_en", 0)) | int(fields.get("mask_chip_key", 0)) << 1
                | int(fields.get("signing_key", 0)) << 2)
    struct.pack_into("<I", out, 0x048, key_info)
    for name, (off, fmt) in LAYOUT.items():
        if name not in fields:
            continue
        v = fields[name]
        if isinstance(fmt, int):
            b = bytes.fromhex(v)
            assert len(b) == fmt, name
            out[off:off + fmt] = b
        else:
            struct.pack_into(fmt, out, off, int(v, 0) if isinstance(v, str) else v)
    for off, byte in fields.get("poke", []):
        out[off] = byte
    return bytes(out)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        fields = json.load(f)
    with open(sys.argv[2], "wb") as f:
        f.write(build(fields))


if __name__ == "__main__":
    main()
