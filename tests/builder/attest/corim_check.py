#!/usr/bin/python3
"""Independent decoder of mkguest's CoRIMs (tests/builder/attest/corim_test.cpp).

Usage: corim_check.py MANIFEST CORIM [--cose PUBKEY.pem]

Reads CORIM with cbor2 (python3-cbor2), checks the CoRIM layout of
draft-ietf-rats-corim (tag 501, CoMIDs as #6.506(bstr)), the core
deterministic encoding of RFC 8949 §4.2.1 (bytewise-sorted map keys, shortest
integers, definite lengths: the decoded value re-encoded canonically by cbor2
must give the same bytes), and finds every value of MANIFEST under the
profile keys documented in docs/corim.md. With --cose, CORIM is a COSE_Sign1
(RFC 9052 §4.2, tag 18): the Sig_structure is built here and the signature
checked with python3-cryptography, then checked to fail once one payload
byte changes. Prints "OK" or the problems, exit 1 on any.
"""
import datetime
import json
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)
    return cond


def check_key_order(raw):
    """Walks the encoded bytes and checks every map's keys are sorted bytewise, no indefinite."""
    def head(i):
        ib = raw[i]
        mt, ai = ib >> 5, ib & 31
        i += 1
        if ai < 24:
            return mt, ai, i, ai
        n = {24: 1, 25: 2, 26: 4, 27: 8}.get(ai)
        need(n is not None, "indefinite length or reserved additional info at %d" % (i - 1))
        if n is None:
            raise ValueError("stop")
        v = int.from_bytes(raw[i:i + n], "big")
        need(v >= (24 if n == 1 else 1 << (8 * n // 2)), "non-shortest argument at %d" % (i - 1))
        return mt, ai, i + n, v

    def item(i):
        mt, ai, i, v = head(i)
        if mt in (2, 3):
            return i + v
        if mt == 4:
            for _ in range(v):
                i = item(i)
            return i
        if mt == 5:
            prev = None
            for _ in range(v):
                k0 = i
                i = item(i)
                key = raw[k0:i]
                need(prev is None or prev < key, "map keys not in bytewise order at %d" % k0)
                prev = key
                i = item(i)
            return i
        if mt == 6:
            return item(i)
        return i

    end = item(0)
    need(end == len(raw), "trailing bytes after the CBOR item")


def deterministic(raw, what):
    check_key_order(raw)
    value = cbor2.loads(raw)
    again = cbor2.dumps(value, canonical=True, datetime_as_timestamp=True,
                        timezone=datetime.timezone.utc)
    need(again == raw, what + ": cbor2 canonical re-encoding differs")
    return value


def tag(v, n, what):
    need(isinstance(v, cbor2.CBORTag) and v.tag == n, "%s: not tag %d" % (what, n))
    return v.value if isinstance(v, cbor2.CBORTag) else None


def hexes(v):
    out = []
    if isinstance(v, str):
        out.append(v.lower())
    elif isinstance(v, list):
        for e in v:
            out += hexes(e["value"] if isinstance(e, dict) and "value" in e else e)
    elif isinstance(v, dict):
        for k in sorted(v):
            out += hexes(v[k])
    return list(dict.fromkeys(out))


def policy_word(p):
    if isinstance(p, dict) and "value" in p:
        p = p["value"]
    if isinstance(p, str):
        return int(p, 0)
    if isinstance(p, int):
        return p
    b = lambda k: int(bool(p.get(k, False)))
    return (p.get("abi_minor", 0) | p.get("abi_major", 0) << 8 | b("smt_allowed") << 16 | 1 << 17
            | b("migrate_ma") << 18 | b("debug") << 19 | b("single_socket") << 20)


def triple_of(comid, what):
    trs = comid.get(4, {}).get(0)
    need(isinstance(trs, list) and len(trs) == 1, what + ": not one reference triple")
    env, claims = trs[0]
    return env, {(m.get(0)): m[1] for m in claims}


def digests_of(mval, alg):
    return [d[1].hex() for d in mval.get(2, []) if d[0] == alg]


def check_corim(payload, manifest):
    corim = deterministic(payload, "CoRIM")
    body = tag(corim, 501, "CoRIM")
    if not isinstance(body, dict):
        return
    ms = manifest["measurements"]
    name = manifest["recipe"]["name"] + "-" + manifest["recipe"]["version"]
    need(body.get(0) == name, "corim id %r" % body.get(0))
    epoch = manifest["source_date_epoch"]
    val = body.get(4, {})
    nb, na = val.get(0), val.get(1)
    need(isinstance(nb, datetime.datetime) and int(nb.timestamp()) == epoch, "not-before")
    need(isinstance(na, datetime.datetime) and int(na.timestamp()) == epoch + 365 * 86400,
         "not-after")
    comids = {}
    for t in body.get(1, []):
        raw = tag(t, 506, "CoMID")
        comid = deterministic(raw, "CoMID")
        tid = comid[1][0]
        comids[tid.rsplit("/", 1)[1]] = comid
    need(sorted(comids) == sorted(k for k in ms if k in ("snp", "tdx", "tpm", "se")),
         "CoMIDs %s for measurements %s" % (sorted(comids), sorted(ms)))
    if "snp" in ms:
        env, m = triple_of(comids["snp"], "snp")
        need(env == {0: {0: cbor2.CBORTag(111, bytes.fromhex("2b060104019c780301"))}},
             "snp class-id %r" % env)
        want = hexes([e["digest"] for e in ms["snp"]["launch_digests"]])
        need(digests_of(m.get(641, {}), 7) == want, "snp MEASUREMENT %r" % m.get(641))
        if "policy" in ms["snp"]:
            pol = policy_word(ms["snp"]["policy"]).to_bytes(8, "little")
            need(m.get(2, {}).get(4) == cbor2.CBORTag(560, pol), "snp POLICY %r" % m.get(2))
        # HOST_DATA (the init-data binding), when the manifest has it.
        need(digests_of(m.get(642, {}), 1) == hexes(ms["snp"].get("host_data", [])),
             "snp HOST_DATA %r" % m.get(642))
    if "tdx" in ms:
        env, m = triple_of(comids["tdx"], "tdx")
        need(env == {0: {1: "Intel Corporation", 2: "TDX"}}, "tdx class %r" % env)
        need(digests_of(m.get("mrconfigid", {}), 7) == hexes(ms["tdx"].get("mrconfigid", [])),
             "tdx MRCONFIGID %r" % m.get("mrconfigid"))
        for key, mkey in (("mr_td", "mrtd"), ("rtmr_1", "rtmr1"), ("rtmr_2", "rtmr2")):
            if key in ms["tdx"]:
                need(digests_of(m.get(mkey, {}), 7) == hexes(ms["tdx"][key]), "tdx " + mkey)
        # Recipe-pinned TD report words: tee.attributes as mkey 82, "xfam".
        for key, mkey in (("td_attributes", 82), ("xfam", "xfam")):
            want = ms["tdx"].get(key)
            got = m.get(mkey, {}).get(4)
            need(got == (cbor2.CBORTag(560, bytes.fromhex(want)) if want else None),
                 "tdx %s %r" % (key, got))
    if "tpm" in ms:
        env, m = triple_of(comids["tpm"], "tpm")
        need(env == {0: {1: "TCG", 2: "vTPM"}}, "tpm class %r" % env)
        for pcr in (4, 9, 11, 12):
            banks = ms["tpm"].get("pcr%d" % pcr)
            if banks is None:
                need(pcr not in m, "tpm PCR %d not in the manifest" % pcr)
                continue
            for bank, alg in (("sha256", 1), ("sha384", 7), ("sha512", 8)):
                want = hexes(banks.get(bank, []))
                need(digests_of(m.get(pcr, {}), alg) == want, "tpm PCR %d %s" % (pcr, bank))
            need(isinstance(m.get(pcr, {}).get(11), str), "tpm PCR %d has no name" % pcr)
    if "se" in ms:
        env, m = triple_of(comids["se"], "se")
        need(env == {0: {1: "IBM", 2: "Secure Execution"}}, "se class %r" % env)
        need(m.get("tag", {}).get(4) == cbor2.CBORTag(560, bytes.fromhex(ms["se"]["tag"])),
             "se tag")
        need(digests_of(m.get("image_phkh", {}), 1) == hexes(ms["se"].get("image_phkh", [])),
             "se image_phkh")


def verify_sig(pub, alg, tbs, sig):
    try:
        if alg == -8:
            need(isinstance(pub, ed25519.Ed25519PublicKey), "EdDSA with a non-Ed25519 key")
            pub.verify(sig, tbs)
        elif alg in (-7, -35, -36):
            h = {-7: hashes.SHA256(), -35: hashes.SHA384(), -36: hashes.SHA512()}[alg]
            n = len(sig) // 2
            der = utils.encode_dss_signature(int.from_bytes(sig[:n], "big"),
                                             int.from_bytes(sig[n:], "big"))
            pub.verify(der, tbs, ec.ECDSA(h))
        elif alg == -257:
            pub.verify(sig, tbs, padding.PKCS1v15(), hashes.SHA256())
        else:
            need(False, "unknown alg %r" % alg)
            return False
        return True
    except InvalidSignature:
        return False


def check_cose(raw, manifest, pub):
    outer = cbor2.loads(raw)
    arr = tag(outer, 18, "COSE_Sign1")
    if not need(isinstance(arr, list) and len(arr) == 4, "COSE_Sign1 is not a 4-array"):
        return
    prot_raw, unprot, payload, sig = arr
    prot = deterministic(prot_raw, "protected header")
    need(prot.get(3) == "application/rim+cbor", "content type %r" % prot.get(3))
    meta = cbor2.loads(prot.get(8, b"\xa0"))
    need(meta.get(0, {}).get(0) == "mkguest", "corim-meta signer %r" % meta)
    need(int(meta.get(1, {}).get(0).timestamp()) == manifest["source_date_epoch"],
         "corim-meta signature-validity")
    need(isinstance(unprot, dict), "unprotected header is not a map")
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    need(prot.get(4) == hashlib.sha256(der).digest(), "kid is not SHA-256 of the SPKI")
    alg = prot.get(1)
    tbs = cbor2.dumps(["Signature1", prot_raw, b"", payload])
    need(verify_sig(pub, alg, tbs, sig), "signature does not verify")
    bad = bytearray(payload)
    bad[len(bad) // 2] ^= 1
    need(not verify_sig(pub, alg, cbor2.dumps(["Signature1", prot_raw, b"", bytes(bad)]), sig),
         "signature still verifies after one payload byte changed")
    check_corim(payload, manifest)


def main():
    manifest = json.load(open(sys.argv[1]))
    raw = open(sys.argv[2], "rb").read()
    if len(sys.argv) > 4 and sys.argv[3] == "--cose":
        pub = serialization.load_pem_public_key(open(sys.argv[4], "rb").read())
        check_cose(raw, manifest, pub)
    else:
        check_corim(raw, manifest)
    print("\n".join(problems) if problems else "OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
