#!/usr/bin/env node
// Independent decoder of mkguest's CoRIMs, in node with the npm packages `cbor` (RFC 8949) and
// `cose-js` (RFC 9052 COSE_Sign1), pinned by tests/js/package-lock.json and installed by
// scripts/fetch-npm-modules into .cache/npm/<lock hash>/node_modules. Nothing here shares code
// with mkguest's C++ (libcbor) or with tests/builder/attest/corim_check.py (cbor2).
//
// Usage:
//   corim_check.js MANIFEST CORIM [--cose PUBKEY.pem]
//       Decodes CORIM (unsigned #6.501, or with --cose a COSE_Sign1 #6.18 around one), checks the
//       core deterministic encoding (RFC 8949 §4.2.1) of the CoRIM, every CoMID and the protected
//       header, and finds every value of MANIFEST's measurements under the keys docs/corim.md
//       documents. With --cose, verifies the signature (ES256/ES384/ES512/RS256 with cose-js; EdDSA,
//       which cose-js lacks, with node:crypto over a Sig_structure built here), and checks that it
//       fails once one payload byte changes. Prints "OK" or the problems (exit 1).
//   corim_check.js --trustee TRUSTEE.cbor [MANIFEST CORIM]
//       Models Trustee's RVPS CoRIM extractor (rvps/src/extractors/corim/mod.rs): the reference
//       value names and values it derives. Checks the model against Trustee's own unit test on its
//       example CoRIM, then that mkguest's CORIM uses the same tags, triple layout and measurement
//       keys, and prints the names Trustee derives from it (one "name = values" a line).
//   corim_check.js --probe     exit 0 when the npm modules load.
// Exit 3 when the npm modules are not installed (run scripts/fetch-npm-modules); 1 when CI is set.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function loadModules() {
  const lock = fs.readFileSync(path.join(__dirname, 'package-lock.json'));
  const hash = crypto.createHash('sha256').update(lock).digest('hex').slice(0, 16);
  const dir = process.env.MKGUEST_NPM_MODULES ||
      path.join(__dirname, '..', '..', '.cache', 'npm', hash, 'node_modules');
  try {
    return {cbor: require(path.join(dir, 'cbor')), cose: require(path.join(dir, 'cose-js'))};
  } catch (e) {
    process.stderr.write(`corim_check: npm modules not found in ${dir}: run scripts/fetch-npm-modules\n`);
    process.exit(process.env.CI ? 1 : 3);  // skipped (ctest SKIP_RETURN_CODE), but not in CI
  }
}
const {cbor, cose} = loadModules();
const Tagged = cbor.Tagged;

const problems = [];
function need(cond, what) {
  if (!cond) problems.push(what);
  return cond;
}

// Decoding keeps every map a Map (integer keys), and tags as cbor.Tagged except 1 (a Date).
function decode(raw) {
  return cbor.decodeFirstSync(raw, {preferMap: true, extendedResults: false});
}

// Walks the encoded bytes: definite lengths, shortest arguments, map keys in bytewise order,
// one item with nothing after it (RFC 8949 §4.2.1).
function checkDeterministic(raw, what) {
  const buf = Buffer.from(raw);
  let i = 0;
  function head() {
    const ib = buf[i++];
    if (ib === undefined) throw new Error('truncated');
    const mt = ib >> 5, ai = ib & 31;
    if (ai < 24) return [mt, BigInt(ai)];
    const n = {24: 1, 25: 2, 26: 4, 27: 8}[ai];
    if (!n) throw new Error(`indefinite length or reserved value at ${i - 1}`);
    let v = 0n;
    for (let k = 0; k < n; k++) v = (v << 8n) | BigInt(buf[i++]);
    const min = n === 1 ? 24n : 1n << BigInt(4 * n);
    if (mt !== 7) need(v >= min, `${what}: non-shortest argument at ${i - 1 - n}`);
    return [mt, v];
  }
  function item() {
    const [mt, v] = head();
    if (mt === 2 || mt === 3) i += Number(v);
    else if (mt === 4) for (let k = 0n; k < v; k++) item();
    else if (mt === 5) {
      let prev = null;
      for (let k = 0n; k < v; k++) {
        const k0 = i;
        item();
        const key = buf.subarray(k0, i);
        need(prev === null || Buffer.compare(prev, key) < 0,
             `${what}: map keys not in bytewise order at ${k0}`);
        prev = key;
        item();
      }
    } else if (mt === 6) item();
  }
  try {
    item();
    need(i === buf.length, `${what}: ${buf.length - i} bytes after the CBOR item`);
  } catch (e) {
    need(false, `${what}: ${e.message}`);
  }
}

function untag(v, n, what) {
  need(v instanceof Tagged && v.tag === n, `${what}: not tag ${n}`);
  return v instanceof Tagged ? v.value : undefined;
}

const hex = (b) => Buffer.from(b).toString('hex');
const get = (m, k) => (m instanceof Map ? m.get(k) : undefined);

// Every hex string of a manifest value: a string, a list (of strings or {value: ...}), or a map
// of them (in key order), without repeats, as corim_check.py reads them.
function hexes(v) {
  let out = [];
  if (typeof v === 'string') out.push(v.toLowerCase());
  else if (Array.isArray(v)) {
    for (const e of v) out = out.concat(hexes(e && typeof e === 'object' && 'value' in e ? e.value : e));
  } else if (v && typeof v === 'object') {
    for (const k of Object.keys(v).sort()) out = out.concat(hexes(v[k]));
  }
  return [...new Set(out)];
}

function policyWord(p) {
  if (p && typeof p === 'object' && 'value' in p) p = p.value;
  if (typeof p === 'string') return BigInt(p);
  if (typeof p === 'number') return BigInt(p);
  const b = (k) => (p[k] ? 1n : 0n);
  return BigInt(p.abi_minor || 0) | (BigInt(p.abi_major || 0) << 8n) | (b('smt_allowed') << 16n) |
      (1n << 17n) | (b('migrate_ma') << 18n) | (b('debug') << 19n) | (b('single_socket') << 20n);
}

// The one reference triple of a CoMID: its environment and {mkey: mval}.
function tripleOf(comid, what) {
  const trs = get(get(comid, 4), 0);
  if (!need(Array.isArray(trs) && trs.length === 1, `${what}: not one reference triple`)) return [null, new Map()];
  const [env, claims] = trs[0];
  const m = new Map();
  for (const c of claims) {
    const k = get(c, 0);
    m.set(typeof k === 'object' ? JSON.stringify(k) : k, get(c, 1));
  }
  return [env, m];
}

function digestsOf(mval, alg) {
  return (get(mval, 2) || []).filter((d) => d[0] === alg).map((d) => hex(d[1]));
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function classOf(env) {
  const c = get(env, 0);
  return {vendor: get(c, 1), model: get(c, 2), id: get(c, 0)};
}

function checkCorim(payload, manifest) {
  checkDeterministic(payload, 'CoRIM');
  const body = untag(decode(payload), 501, 'CoRIM');
  if (!(body instanceof Map)) return;
  const ms = manifest.measurements;
  need(body.get(0) === `${manifest.recipe.name}-${manifest.recipe.version}`, `corim id ${body.get(0)}`);
  const epoch = manifest.source_date_epoch;
  const nb = get(body.get(4), 0), na = get(body.get(4), 1);
  need(nb instanceof Date && nb.getTime() === epoch * 1000, 'not-before');
  need(na instanceof Date && na.getTime() === (epoch + 365 * 86400) * 1000, 'not-after');
  const comids = {};
  for (const t of body.get(1) || []) {
    const raw = untag(t, 506, 'CoMID');
    need(Buffer.isBuffer(raw), 'CoMID is not #6.506 over bytes');
    checkDeterministic(raw, 'CoMID');
    const comid = decode(raw);
    comids[get(get(comid, 1), 0).split('/').pop()] = comid;
  }
  const platforms = Object.keys(ms).filter((k) => ['snp', 'tdx', 'tpm', 'se'].includes(k)).sort();
  need(same(Object.keys(comids).sort(), platforms), `CoMIDs ${Object.keys(comids)} for ${platforms}`);
  if (ms.snp) {
    const [env, m] = tripleOf(comids.snp, 'snp');
    const id = classOf(env).id;
    need(id instanceof Tagged && id.tag === 111 && hex(id.value) === '2b060104019c780301',
         'snp class-id');
    need(same(digestsOf(m.get(641), 7), hexes(ms.snp.launch_digests.map((e) => e.digest))),
         'snp MEASUREMENT');
    if ('policy' in ms.snp) {
      const want = Buffer.alloc(8);
      want.writeBigUInt64LE(policyWord(ms.snp.policy));
      const raw = get(m.get(2), 4);
      need(raw instanceof Tagged && raw.tag === 560 && raw.value.equals(want), 'snp POLICY');
    }
    need(same(digestsOf(m.get(642), 1), hexes(ms.snp.host_data || [])), 'snp HOST_DATA');
    need(same(digestsOf(m.get(643), 7), hexes(ms.snp.id_key_digest || [])), 'snp ID_KEY_DIGEST');
  }
  if (ms.tdx) {
    const [env, m] = tripleOf(comids.tdx, 'tdx');
    const c = classOf(env);
    need(c.vendor === 'Intel Corporation' && c.model === 'TDX', 'tdx class');
    const keys = [['mr_td', 'mrtd'], ['rtmr_1', 'rtmr1'], ['rtmr_2', 'rtmr2'], ['mrconfigid', 'mrconfigid']];
    for (const [key, mkey] of keys) {
      need(same(digestsOf(m.get(mkey), 7), hexes(ms.tdx[key] || [])), `tdx ${mkey}`);
    }
    for (const [key, mkey, len] of [['td_attributes', 82, 8], ['xfam', 'xfam', 8]]) {
      const raw = get(m.get(mkey), 4);
      if (!(key in ms.tdx)) {
        need(!m.has(mkey), `tdx ${mkey} not in the manifest`);
        continue;
      }
      need(raw instanceof Tagged && raw.tag === 560 && raw.value.length === len &&
           hex(raw.value) === ms.tdx[key].toLowerCase(), `tdx ${mkey}`);
    }
  }
  if (ms.tpm) {
    const [env, m] = tripleOf(comids.tpm, 'tpm');
    const c = classOf(env);
    need(c.vendor === 'TCG' && c.model === 'vTPM', 'tpm class');
    for (const pcr of [4, 9, 11, 12]) {
      const banks = ms.tpm[`pcr${pcr}`];
      if (!banks) {
        need(!m.has(pcr), `tpm PCR ${pcr} not in the manifest`);
        continue;
      }
      for (const [bank, alg] of [['sha256', 1], ['sha384', 7], ['sha512', 8]]) {
        need(same(digestsOf(m.get(pcr), alg), hexes(banks[bank] || [])), `tpm PCR ${pcr} ${bank}`);
      }
      need(typeof get(m.get(pcr), 11) === 'string', `tpm PCR ${pcr} has no name`);
    }
  }
  if (ms.se) {
    const [env, m] = tripleOf(comids.se, 'se');
    const c = classOf(env);
    need(c.vendor === 'IBM' && c.model === 'Secure Execution', 'se class');
    const tag = get(m.get('tag'), 4);
    need(tag instanceof Tagged && tag.tag === 560 && hex(tag.value) === ms.se.tag.toLowerCase(), 'se tag');
    need(same(digestsOf(m.get('image_phkh'), 1), hexes(ms.se.image_phkh || [])), 'se image_phkh');
  }
}

// COSE_Sign1 (RFC 9052 §4.2) verification: cose-js for the algorithms it has, node:crypto for
// EdDSA over the Sig_structure (RFC 9052 §4.4) built here with the npm cbor encoder.
function coseVerifies(coseBytes, pub) {
  const [protRaw, , payload, sig] = untag(decode(coseBytes), 18, 'COSE_Sign1');
  const alg = get(decode(protRaw), 1);
  try {
    if (alg === -8) {
      const tbs = cbor.encode(['Signature1', protRaw, Buffer.alloc(0), payload]);
      return crypto.verify(null, tbs, pub, sig);
    }
    let key;
    if (alg === -7 || alg === -35 || alg === -36) {
      const jwk = pub.export({format: 'jwk'});
      key = {x: Buffer.from(jwk.x, 'base64url'), y: Buffer.from(jwk.y, 'base64url')};
    } else {
      key = pub.export({type: 'spki', format: 'pem'});
    }
    cose.sign.verifySync(coseBytes, {key});
    return true;
  } catch (e) {
    if (/missmatch|mismatch/i.test(e.message)) return false;
    need(false, `cose-js: ${e.message}`);
    return false;
  }
}

function withPayload(coseBytes, payload) {
  const [p, u, , s] = untag(decode(coseBytes), 18, 'COSE_Sign1');
  return cbor.encode(new Tagged(18, [p, u, payload, s]));
}

function checkCose(raw, manifest, pub) {
  const arr = untag(decode(raw), 18, 'COSE_Sign1');
  if (!need(Array.isArray(arr) && arr.length === 4, 'COSE_Sign1 is not a 4-array')) return;
  const [protRaw, unprot, payload] = arr;
  checkDeterministic(protRaw, 'protected header');
  const prot = decode(protRaw);
  need(prot.get(3) === 'application/rim+cbor', `content type ${prot.get(3)}`);
  const meta = decode(prot.get(8) || Buffer.from([0xa0]));
  need(get(get(meta, 0), 0) === 'mkguest', 'corim-meta signer');
  const since = get(get(meta, 1), 0);
  need(since instanceof Date && since.getTime() === manifest.source_date_epoch * 1000,
       'corim-meta signature-validity');
  need(unprot instanceof Map, 'unprotected header is not a map');
  const spki = pub.export({type: 'spki', format: 'der'});
  need(Buffer.isBuffer(prot.get(4)) && prot.get(4).equals(crypto.createHash('sha256').update(spki).digest()),
       'kid is not SHA-256 of the SPKI');
  need([-7, -35, -36, -8, -257].includes(prot.get(1)), `alg ${prot.get(1)}`);
  need(coseVerifies(raw, pub), 'signature does not verify');
  for (const at of [0, payload.length >> 1, payload.length - 1]) {
    const bad = Buffer.from(payload);
    bad[at] ^= 1;
    need(!coseVerifies(withPayload(raw, bad), pub),
         `signature still verifies after payload byte ${at} changed`);
  }
  checkCorim(payload, manifest);
}

// Trustee's RVPS CoRIM extractor (rvps/src/extractors/corim/mod.rs), as a model: per reference
// triple, the path is [class vendor, class model]; per claim it adds the mkey (text as is, uint as
// "claim<N>", #6.37 UUID as its text form), then mval name (11) and serial number (8); digests (2)
// give "<path>/digests" = [hex...], tagged bytes raw-value (4 = #6.560) "<path>/raw_bytes" = hex.
// It strips leading tags 500/502, takes CoMIDs as #6.506 over bytes, and ignores the rest.
function trusteeValues(raw) {
  let b = Buffer.from(raw);
  while (b.length >= 3 && b[0] === 0xd9 && [500, 502].includes(b.readUInt16BE(1))) b = b.subarray(3);
  const body = untag(decode(b), 501, 'CoRIM');
  const out = [];
  for (const t of get(body, 1) || []) {
    if (!(t instanceof Tagged && t.tag === 506 && Buffer.isBuffer(t.value))) continue;
    const comid = decode(t.value);
    for (const [env, claims] of get(get(comid, 4), 0) || []) {
      const c = classOf(env);
      const base = [c.vendor, c.model].filter((x) => typeof x === 'string');
      for (const claim of claims) {
        const p = base.slice();
        const k = get(claim, 0), mval = get(claim, 1);
        if (typeof k === 'string') p.push(k);
        else if (typeof k === 'number' && k >= 0) p.push(`claim${k}`);
        else if (k instanceof Tagged && k.tag === 37) {
          const h = hex(k.value);
          p.push(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
        }
        if (typeof get(mval, 11) === 'string') p.push(get(mval, 11));
        if (typeof get(mval, 8) === 'string') p.push(get(mval, 8));
        if (Array.isArray(get(mval, 2))) out.push([[...p, 'digests'].join('/'), get(mval, 2).map((d) => (Array.isArray(d) && Buffer.isBuffer(d[1]) ? hex(d[1]) : null))]);
        const rv = get(mval, 4);
        if (rv instanceof Tagged && rv.tag === 560) out.push([[...p, 'raw_bytes'].join('/'), hex(rv.value)]);
      }
    }
  }
  return out;
}

// The structure both CoRIMs share: tag 501 around a map; CoMIDs as #6.506 over bytes; triples under
// 4 -> 0 as [environment-map, [measurement-map...]]; class under environment key 0; measurement-map
// keys 0 (mkey) and 1 (mval); digests as [[alg, bytes]...] under mval 2; raw values as #6.560.
function shape(raw) {
  const s = {tags: new Set(), tripleLayout: true, mmapKeys: new Set(), mvalKeys: new Set(), rawTags: new Set()};
  const body = untag(decode(raw), 501, 'CoRIM');
  s.tags.add(501);
  for (const t of get(body, 1) || []) {
    s.tags.add(`${t.tag}/${Buffer.isBuffer(t.value) ? 'bytes' : typeof t.value}`);
    const trs = get(get(decode(t.value), 4), 0);
    s.tripleLayout = s.tripleLayout && Array.isArray(trs) && trs.every((tr) =>
      Array.isArray(tr) && tr.length === 2 && tr[0] instanceof Map && get(tr[0], 0) instanceof Map &&
      Array.isArray(tr[1]) && tr[1].every((m) => m instanceof Map));
    for (const tr of trs || []) {
      for (const m of tr[1]) {
        for (const k of m.keys()) s.mmapKeys.add(k);
        for (const [k, v] of get(m, 1) || []) {
          s.mvalKeys.add(k);
          if (k === 2) s.tripleLayout = s.tripleLayout && v.every((d) => Array.isArray(d) && d.length === 2 &&
                                                                  Number.isInteger(d[0]) && Buffer.isBuffer(d[1]));
          if (k === 4) s.rawTags.add(v instanceof Tagged ? v.tag : typeof v);
        }
      }
    }
  }
  return s;
}

function checkTrustee(trusteeFile, manifestFile, corimFile) {
  const theirs = fs.readFileSync(trusteeFile);
  const rvs = trusteeValues(theirs);
  // Trustee's own unit test (extract_test_corim) on this file.
  need(rvs.length >= 3 && rvs[2][0] === 'ACME/RoadRunner/31fb5abf-023e-4992-aa4e-95f9c1503bfa/digests' &&
       rvs[2][1][0] === 'a3a5e715f0cc574a73c3f9bebb6bc24f32ffd5b67b387244c2c909da779a1478',
       `model disagrees with Trustee's extract_test_corim: ${JSON.stringify(rvs[2])}`);
  const t = shape(theirs);
  need(t.tags.has('506/bytes') && t.tripleLayout, "Trustee's example is not the expected layout");
  if (!corimFile) return;
  const ours = fs.readFileSync(corimFile);
  const o = shape(ours);
  need(same([...o.tags].sort(), [...t.tags].sort()), `tags ${[...o.tags]} vs Trustee's ${[...t.tags]}`);
  need(o.tripleLayout, 'triple layout differs from Trustee\'s');
  need(same([...o.mmapKeys].sort(), [...t.mmapKeys].sort()), `measurement-map keys ${[...o.mmapKeys]}`);
  need(t.mvalKeys.has(2) && o.mvalKeys.has(2), 'digests (mval 2) not in both');
  for (const k of o.mvalKeys) need([2, 4, 11].includes(k), `mval key ${k} outside what Trustee reads`);
  for (const tag of o.rawTags) need(tag === 560, `raw-value as ${tag}, Trustee reads #6.560`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const names = new Map(trusteeValues(ours));
  need(names.size === trusteeValues(ours).length, 'two reference values with one name');
  const ms = manifest.measurements;
  const expect = (name, value) => need(same(names.get(name), value), `Trustee value ${name}`);
  if (ms.tdx) {
    if (ms.tdx.mr_td) expect('Intel Corporation/TDX/mrtd/digests', hexes(ms.tdx.mr_td));
    if (ms.tdx.rtmr_1) expect('Intel Corporation/TDX/rtmr1/digests', hexes(ms.tdx.rtmr_1));
    if (ms.tdx.xfam) expect('Intel Corporation/TDX/xfam/raw_bytes', ms.tdx.xfam.toLowerCase());
    if (ms.tdx.td_attributes) expect('Intel Corporation/TDX/claim82/raw_bytes', ms.tdx.td_attributes.toLowerCase());
  }
  if (ms.snp) expect('claim641/digests', hexes(ms.snp.launch_digests.map((e) => e.digest)));
  if (ms.se) expect('IBM/Secure Execution/tag/raw_bytes', ms.se.tag.toLowerCase());
  for (const [n, v] of names) process.stdout.write(`${n} = ${JSON.stringify(v)}\n`);
}

function main(argv) {
  if (argv[0] === '--probe') return 0;
  if (argv[0] === '--trustee' && (argv.length === 2 || argv.length === 4)) {
    checkTrustee(argv[1], argv[2], argv[3]);
  } else if (argv.length === 2 || (argv.length === 4 && argv[2] === '--cose')) {
    const manifest = JSON.parse(fs.readFileSync(argv[0], 'utf8'));
    const raw = fs.readFileSync(argv[1]);
    if (argv[2] === '--cose') checkCose(raw, manifest, crypto.createPublicKey(fs.readFileSync(argv[3])));
    else checkCorim(raw, manifest);
  } else {
    process.stderr.write('usage: corim_check.js MANIFEST CORIM [--cose PUB.pem] | --trustee FILE [MANIFEST CORIM] | --probe\n');
    return 2;
  }
  process.stdout.write(problems.length ? problems.join('\n') + '\n' : 'OK\n');
  return problems.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
