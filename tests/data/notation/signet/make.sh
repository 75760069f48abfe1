#!/bin/sh
# Makes the signing fixtures of signet's own Notary Project tests with openssl: an EC P-256
# root CA and a code-signing leaf it issues (valid 100 years), the leaf's PKCS#8 key, and a
# second, unrelated self-signed leaf (an untrusted signer). Run from this directory.
set -eu
cat > ca.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
C = US
ST = WA
O = signet-test
CN = signet test root
[ca]
basicConstraints = critical, CA:true, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
CNF
openssl ecparam -name prime256v1 -genkey -noout -out root.key
openssl req -new -x509 -key root.key -config ca.cnf -extensions ca -days 36500 -out root.crt
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key
openssl req -new -key leaf.key -subj "/C=US/ST=WA/L=Seattle/O=signet-test/CN=signet release" -out leaf.csr
openssl x509 -req -in leaf.csr -CA root.crt -CAkey root.key -CAcreateserial -days 36500 \
  -extfile ca.cnf -extensions leaf -out leaf.crt
cat leaf.crt root.crt > chain.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key
openssl req -new -x509 -key other.key -subj "/C=US/ST=WA/O=someone-else/CN=other" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
  -days 36500 -out other.crt
rm -f leaf.csr root.srl ca.cnf root.key
