#!/usr/bin/env python3
"""A second model of `mkguest measure igvm`, stdlib only, written separately
from the C++ from these sources:
  - microsoft/igvm igvm_defs/src/lib.rs (commit e6c3ff1c34c3): the layout;
  - microsoft/igvm igvm/src/measurement/snp.rs and tdx.rs (same commit);
  - coconut-svsm/svsm tools/igvmmeasure/src/igvm_measure.rs and page_info.rs
    (commit f4bc4bcdc2bd): PAGE_INFO, --native-zero, 2 MiB pages, shared
    pages measured; a parameter insert covers its whole area (snp.rs).

  igvm_model.py snp FILE [--native-zero]   -> {"digest", "pages", "vmsas"}
  igvm_model.py tdx FILE                   -> {"digest", "pages"}
"""
import hashlib
import json
import struct
import sys

PAGE = 4096


def parse(blob):
    magic, version, var_off, var_size, total, _ = struct.unpack_from("<6I", blob, 0)
    assert magic == 0x4D564749 and version in (1, 2) and total == len(blob)
    platforms = {}  # platform type -> mask
    mask_platform = {}
    directives = []
    pos, end = var_off, var_off + var_size
    while pos < end:
        typ, length = struct.unpack_from("<II", blob, pos)
        body = blob[pos + 8:pos + 8 + length]
        typ &= 0x7FFFFFFF
        if typ == 0x1:
            mask, _vtl, ptype = struct.unpack_from("<IBB", body, 0)
            platforms[ptype] = mask
            mask_platform[mask] = ptype
        elif typ == 0x302:  # PAGE_DATA: gpa, mask, file_offset, flags, data_type, reserved
            gpa, mask, fo, flags, dtype = struct.unpack_from("<QIIIH", body, 0)
            data = blob[fo:fo + PAGE] if fo else b""
            directives.append(("page", mask, gpa, flags, dtype, data))
        elif typ == 0x301:  # PARAMETER_AREA: size, index, file_offset
            size, index = struct.unpack_from("<QI", body, 0)
            directives.append(("area", None, index, size))
        elif typ == 0x303:  # PARAMETER_INSERT: gpa, mask, index
            gpa, mask, index = struct.unpack_from("<QII", body, 0)
            directives.append(("insert", mask, gpa, index))
        elif typ == 0x304:  # VP_CONTEXT: gpa, mask, file_offset, vp_index
            gpa, mask, fo = struct.unpack_from("<QII", body, 0)
            directives.append(("vp", mask, gpa, mask_platform.get(mask), blob[fo:fo + PAGE]))
        pos += 8 + ((length + 7) & ~7)
    return platforms, directives


def page_info(ld, contents, page_type, gpa):
    # SEV-SNP ABI PAGE_INFO: digest_cur[48], contents[48], u16 length 0x70,
    # u8 page_type, u8 imi_page, u8 reserved, u8 vmpl1..3 perms, u64 gpa.
    info = ld + contents + struct.pack("<HBBBBBBQ", 0x70, page_type, 0, 0, 0, 0, 0, gpa)
    assert len(info) == 0x70
    return hashlib.sha384(info).digest()


def snp(blob, native_zero):
    platforms, directives = parse(blob)
    mask = platforms[2]
    ld = bytes(48)
    zero48 = bytes(48)
    pages = vmsas = 0
    areas = {}
    for d in directives:
        if d[0] == "area":
            areas[d[2]] = d[3]
            continue
        if not (d[1] & mask):
            continue
        if d[0] == "page":
            _, _, gpa, flags, dtype, data = d
            # The shared flag (4) is ignored, as igvmmeasure and QEMU do.
            count = 512 if flags & 1 else 1
            for i in range(count):
                g = gpa + i * PAGE
                if dtype == 1:
                    ld = page_info(ld, zero48, 5, g)
                elif dtype in (2, 3):
                    ld = page_info(ld, zero48, 6, g)
                elif flags & 2:
                    ld = page_info(ld, zero48, 4, g)
                elif not data:
                    if native_zero:
                        ld = page_info(ld, zero48, 3, g)
                    else:
                        ld = page_info(ld, hashlib.sha384(bytes(PAGE)).digest(), 1, g)
                else:
                    ld = page_info(ld, hashlib.sha384(data).digest(), 1, g)
                pages += 1
        elif d[0] == "insert":
            for off in range(0, areas[d[3]], PAGE):
                ld = page_info(ld, zero48, 4, d[2] + off)
                pages += 1
        elif d[0] == "vp" and d[3] == 2:
            ld = page_info(ld, hashlib.sha384(d[4]).digest(), 2, d[2])
            pages += 1
            vmsas += 1
    return {"digest": ld.hex(), "pages": pages, "vmsas": vmsas}


def tdx(blob):
    platforms, directives = parse(blob)
    mask = platforms[3]
    h = hashlib.sha384()
    pages = 0
    areas = {}

    def add(gpa):
        h.update(b"MEM.PAGE.ADD".ljust(16, b"\0") + struct.pack("<Q", gpa) + bytes(104))

    for d in directives:
        if d[0] == "area":
            areas[d[2]] = d[3]
            continue
        if not (d[1] & mask):
            continue
        if d[0] == "page":
            _, _, gpa, flags, _, data = d
            if flags & 4:
                continue
            for i in range(512 if flags & 1 else 1):
                g = gpa + i * PAGE
                add(g)
                pages += 1
                if flags & 2:
                    continue
                page = data.ljust(PAGE, b"\0")
                for c in range(0, PAGE, 256):
                    h.update(b"MR.EXTEND".ljust(16, b"\0") + struct.pack("<Q", g + c) + bytes(104))
                    h.update(page[c:c + 256])
        elif d[0] == "insert":
            for off in range(0, areas[d[3]], PAGE):
                add(d[2] + off)
                pages += 1
    return {"digest": h.hexdigest(), "pages": pages}


def main(argv):
    with open(argv[2], "rb") as f:
        blob = f.read()
    if argv[1] == "snp":
        out = snp(blob, "--native-zero" in argv[3:])
    elif argv[1] == "tdx":
        out = tdx(blob)
    else:
        sys.stderr.write(__doc__)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
