#!/usr/bin/env python3
"""An independent model of the TDX TDREPORT_STRUCT (Intel TDX Module ABI:
REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO), standard library only, written from
the ABI's structure tables rather than from mkguest's reader.

Usage: tdx_report_model.py FIELDS.json OUT.bin
Bytes fields are hex strings; missing fields are zero; "type" defaults to 0x81.
"poke": [[offset, byte], ...] overwrites single bytes last.
"""
import json
import struct
import sys

SIZE = 1024
MAC, TCB, TDI = 0x000, 0x100, 0x200

LAYOUT = {
    "type": (MAC + 0x00, "<B"), "subtype": (MAC + 0x01, "<B"), "version": (MAC + 0x02, "<B"),
    "cpusvn": (MAC + 0x10, 16), "tee_tcb_info_hash": (MAC + 0x20, 48),
    "tee_info_hash": (MAC + 0x50, 48), "report_data": (MAC + 0x80, 64), "mac": (MAC + 0xE0, 32),
    "valid": (TCB + 0x00, 8), "tee_tcb_svn": (TCB + 0x08, 16), "mrseam": (TCB + 0x18, 48),
    "mrsignerseam": (TCB + 0x48, 48), "seam_attributes": (TCB + 0x78, "<Q"),
    "td_attributes": (TDI + 0x00, "<Q"), "xfam": (TDI + 0x08, "<Q"), "mrtd": (TDI + 0x10, 48),
    "mrconfigid": (TDI + 0x40, 48), "mrowner": (TDI + 0x70, 48),
    "mrownerconfig": (TDI + 0xA0, 48), "rtmr0": (TDI + 0xD0, 48), "rtmr1": (TDI + 0x100, 48),
    "rtmr2": (TDI + 0x130, 48), "rtmr3": (TDI + 0x160, 48), "servtd_hash": (TDI + 0x190, 48),
}


def build(fields):
    out = bytearray(SIZE)
    fields = dict({"type": 0x81}, **fields)
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
