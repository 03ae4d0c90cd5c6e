#!/usr/bin/python3
"""Independent reference for `mkguest measure initdata`, written from the spec
texts only (no mkguest code): the CoCo Initdata Specification (trustee
kbs/docs/initdata.md at 79722e75, "Initdata Digest Calculating": the hash
named by `algorithm` over the whole document; the truncate / zero-pad rule of
"Integrity Binding for Different TEEs"), and the TPM 2.0 PCR extend
(Part 1 §17.2: new = H(old || digest), PCR 8 starting at zero).

Usage: initdata_ref.py digest FILE   -> JSON {algorithm, digest, snp, tdx, pcr8}
       initdata_ref.py unannotate B64 -> the document's bytes on stdout, after
                                         checking the gzip header (no FNAME, MTIME 0)
"""
import base64
import gzip
import hashlib
import json
import struct
import sys
import tomllib


def fit(d, n):
    return d[:n] if len(d) >= n else d + b"\0" * (n - len(d))


def digest(path):
    raw = open(path, "rb").read()
    doc = tomllib.loads(raw.decode("utf-8"))
    assert doc["version"] == "0.1.0", doc["version"]
    alg = doc["algorithm"]
    assert alg in ("sha256", "sha384", "sha512"), alg
    assert all(isinstance(v, str) for v in doc["data"].values())
    d = hashlib.new(alg, raw).digest()
    out = {"algorithm": alg, "digest": d.hex(), "snp": fit(d, 32).hex(), "tdx": fit(d, 48).hex()}
    if alg == "sha256":
        out["pcr8"] = hashlib.sha256(b"\0" * 32 + d).hexdigest()
    print(json.dumps(out))


def unannotate(b64):
    gz = base64.b64decode(b64, validate=True)
    magic, method, flags, mtime = struct.unpack("<HBBI", gz[:8])
    assert magic == 0x8B1F and method == 8, "not gzip"
    assert flags & 0x08 == 0, "gzip header holds a file name"
    assert mtime == 0, "gzip header holds a time"
    sys.stdout.buffer.write(gzip.decompress(gz))


if __name__ == "__main__":
    {"digest": digest, "unannotate": unannotate}[sys.argv[1]](sys.argv[2])
