#!/usr/bin/env python3
"""Independent check of a manifest's SEV-SNP ID blocks (measurements.snp.id_block).

Written from the SNP firmware ABI's ID block and ID authentication structure
layouts (SNP_LAUNCH_FINISH), not from mkguest's code:
  ID block, 96 bytes LE: ld[48] family_id[16] image_id[16] version u32 guest_svn u32 policy u64
  ID auth, 4096 bytes:   id_key_algo u32 @0, author_key_algo u32 @4,
                         id_block_sig @0x40, id_key @0x240, id_key_sig @0x680, author_key @0x880
  signature: r, s as 72-byte little-endian integers (ECDSA P-384, SHA-384)
  public key: curve u32 (2 = P-384) @0, qx @4, qy @0x4c, 72-byte little-endian each
Every signature is verified with Python's `cryptography`, and the key digests
are SHA-384 of the 0x404-byte public key structures.
Usage: snp_id_block_check.py MANIFEST FAMILY_ID_HEX IMAGE_ID_HEX GUEST_SVN
Prints one line per entry checked; exits 1 at the first difference.
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def fail(msg):
    print("snp_id_block_check: " + msg)
    sys.exit(1)


def le(b):
    return int.from_bytes(b, "little")


def public_key(struct_bytes):
    if struct.unpack_from("<I", struct_bytes, 0)[0] != 2:
        fail("public key curve is not P-384 (2)")
    qx, qy = le(struct_bytes[4:4 + 72]), le(struct_bytes[0x4C:0x4C + 72])
    return ec.EllipticCurvePublicNumbers(qx, qy, ec.SECP384R1()).public_key()


def verify(key, sig, data, what):
    r, s = le(sig[0:72]), le(sig[72:144])
    try:
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        fail(what + ": the signature does not verify")


def main():
    manifest, family, image, svn = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    snp = json.load(open(manifest))["measurements"]["snp"]
    policy = int(snp["policy"]["value"], 16)
    checked = 0
    for e in snp["launch_digests"]:
        block = base64.b64decode(e["id_block"])
        auth = base64.b64decode(e["id_auth"])
        if len(block) != 96 or len(auth) != 4096:
            fail("sizes %d, %d" % (len(block), len(auth)))
        ld, fam, img = block[0:48], block[48:64], block[64:80]
        version, guest_svn, pol = struct.unpack_from("<IIQ", block, 80)
        if ld.hex() != e["digest"]:
            fail("the ID block's launch digest is not the entry's")
        if fam.hex() != family or img.hex() != image or guest_svn != svn or version != 1:
            fail("family, image, svn or version differ")
        if pol != policy:
            fail("the ID block's policy 0x%x is not the manifest's 0x%x" % (pol, policy))
        id_algo, author_algo = struct.unpack_from("<II", auth, 0)
        if id_algo != 1 or author_algo != 1:
            fail("key algorithms %d, %d are not ECDSA P-384 (1)" % (id_algo, author_algo))
        id_key, author_key = auth[0x240:0x644], auth[0x880:0xC84]
        verify(public_key(id_key), auth[0x40:0x240], block, "the ID block")
        verify(public_key(author_key), auth[0x680:0x880], id_key, "the ID key")
        if hashlib.sha384(id_key).hexdigest() != snp["id_key_digest"]:
            fail("id_key_digest is not SHA-384 of the ID key structure")
        if hashlib.sha384(author_key).hexdigest() != snp["author_key_digest"]:
            fail("author_key_digest is not SHA-384 of the author key structure")
        checked += 1
    print("snp_id_block_check: %d ID blocks verified" % checked)


if __name__ == "__main__":
    main()
