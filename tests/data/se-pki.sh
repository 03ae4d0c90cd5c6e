#!/usr/bin/env bash
# A fake IBM Z host-key PKI for the SE tests, made with the openssl CLI in DIR:
#   root_ca -> inter_ca -> ibm (the "IBM Z Host Key Signing Service" certificate,
#   not a CA) -> host.crt (P-521) and the negative cases: expired.crt,
#   revoked.crt (in ibm.crl), p384.crt (wrong curve), and ibm_wrong.crt (a
#   signing certificate whose locality is Boston) with host_wrong.crt.
# CRLs: root_ca.crl, inter_ca.crl, ibm.crl.
# Usage: tests/data/se-pki.sh DIR
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
export OPENSSL_CONF=/dev/null
ibm_subj="/C=US/ST=New York/L=Poughkeepsie/O=International Business Machines Corporation/OU=IBM Z Host Key Signing Service/CN=International Business Machines Corporation"
wrong_subj="/C=US/ST=New York/L=Boston/O=International Business Machines Corporation/OU=IBM Z Host Key Signing Service/CN=International Business Machines Corporation"

cat >ca.cnf <<'CNF'
[ca]
default_ca = this
[this]
database = $ENV::CA_DIR/index.txt
serial = $ENV::CA_DIR/serial
crlnumber = $ENV::CA_DIR/crlnumber
new_certs_dir = $ENV::CA_DIR
default_md = sha512
default_crl_days = 3650
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = optional
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_signing]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_host]
basicConstraints = critical, CA:false
keyUsage = critical, keyAgreement
authorityKeyIdentifier = keyid:always
CNF

init_ca() {  # NAME
  mkdir -p "db_$1"
  : >"db_$1/index.txt"
  echo 01 >"db_$1/serial"
  echo 01 >"db_$1/crlnumber"
}
sign() {  # CA_NAME CSR OUT EXT [extra openssl ca args]
  local ca=$1 csr=$2 out=$3 ext=$4
  shift 4
  CA_DIR=db_$ca openssl ca -batch -config ca.cnf -cert "$ca.crt" -keyfile "$ca.key" -in "$csr" \
    -out "$out" -extensions "$ext" -preserveDN -notext "$@" 2>/dev/null
}
gencrl() {  # CA_NAME
  CA_DIR=db_$1 openssl ca -batch -config ca.cnf -cert "$1.crt" -keyfile "$1.key" -gencrl \
    -out "$1.crl" 2>/dev/null
}

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp521r1 -out root_ca.key 2>/dev/null
openssl req -x509 -new -key root_ca.key -subj "/C=US/O=Test Root/CN=Test Root CA" -days 3650 \
  -sha512 -addext "basicConstraints=critical,CA:true" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out root_ca.crt
init_ca root_ca
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp521r1 -out inter_ca.key 2>/dev/null
openssl req -new -key inter_ca.key -subj "/C=US/O=Test Inter/CN=Test Intermediate CA" -out inter_ca.csr
sign root_ca inter_ca.csr inter_ca.crt v3_ca -days 3000
init_ca inter_ca
for s in ibm ibm_wrong; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp521r1 -out $s.key 2>/dev/null
  subj=$ibm_subj
  [[ $s == ibm_wrong ]] && subj=$wrong_subj
  openssl req -new -key $s.key -subj "$subj" -out $s.csr
  sign inter_ca $s.csr $s.crt v3_signing -days 2000
  init_ca $s
done
host() {  # NAME CURVE SIGNER [extra]
  local n=$1 curve=$2 signer=$3
  shift 3
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$curve -out $n.key 2>/dev/null
  openssl req -new -key $n.key -subj "/C=US/O=IBM Z Host/CN=$n" -out $n.csr
  sign $signer $n.csr $n.crt v3_host "$@"
}
host host secp521r1 ibm -days 1000
host host2 secp521r1 ibm -days 1000
host revoked secp521r1 ibm -days 1000
host expired secp521r1 ibm -startdate 20200101000000Z -enddate 20210101000000Z
host p384 secp384r1 ibm -days 1000
host host_wrong secp521r1 ibm_wrong -days 1000
CA_DIR=db_ibm openssl ca -batch -config ca.cnf -cert ibm.crt -keyfile ibm.key -revoke revoked.crt \
  2>/dev/null
for c in root_ca inter_ca ibm ibm_wrong; do gencrl $c; done
