#!/bin/bash
# make-seeds.sh — (re)generate the committed seed corpora tests/fuzz/corpus/
# from the project's own tools: real keys, roots, release pointers, bundles
# (plain and gzip) and signature files, plus a few hand-written YAML, tar
# and gzip variants the tools do not make.
#
#   tests/fuzz/make-seeds.sh [OUTPOST]     (default build/x86_64/outpost)
#
# Keys are fresh each time, so the bytes change from run to run; timestamps
# are pinned with SOURCE_DATE_EPOCH. Needs GNU tar, gzip and python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
OUTPOST=$(realpath "${1:-$here/../../build/x86_64/outpost}")
out=$here/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1798761600     # 2027-01-01T00:00:00Z
cd "$work"

op() { "$OUTPOST" "$@" >/dev/null 2>&1 || { echo "make-seeds: outpost $* failed" >&2; exit 1; }; }

for t in tar gzip doc manifest sigfile trust pointer bundle; do
	rm -rf "${out:?}/$t"
	mkdir -p "$out/$t"
done

# --- keys and roots -----------------------------------------------------
for k in r1 r2 rel1 rel2; do op keygen -o $k; done
op root init --key r1.key --key r2.key --threshold 2 --release-key rel1.pub \
	--release-key rel2.pub --release-threshold 2 -o root.yaml
op root init --key r1.key -o root1.yaml

# --- manifests ------------------------------------------------------------
mkdir -p app big
cat >app/cm.yaml <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: web
data:
  a: "1"
  b: |
    line one
    line two
Y
cat >big/deploy.yaml <<'Y'
# helm-style output: comments, empty and null documents
---
---
null
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  labels: {app: web, tier: "front"}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: "registry.local/web:1.2.3"
          args: [--port=8080, '--verbose']
          ports:
            - containerPort: 8080
              protocol: TCP
          env:
            - {name: ENABLED, value: "true"}
            - name: RATIO
              value: "0.5"
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: web
spec:
  ports: [{port: 80, targetPort: 8080}]
  selector: {app: web}
Y
cat >big/list.yaml <<'Y'
apiVersion: v1
kind: List
items:
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata:
      name: "system:metrics"
    rules:
      - apiGroups: [""]
        resources: [pods]
        verbs: [get, list]
  - apiVersion: v1
    kind: Namespace
    metadata:
      name: web
      annotations:
        note: >
          folded
          text
Y
cat >big/secret.json <<'Y'
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "web"},
 "type": "kubernetes.io/tls", "data": {"tls.crt": "LS0tLQ==", "tls.key": "LS0tLQ=="},
 "stringData": {"n": "\u00e9\t\"q\""}}
Y
cp app/cm.yaml big/

# --- bundles and release pointers ---------------------------------------
op bundle pack --app web --version 1.0 --sequence 3 app -o plain.bundle --key rel1.key --key rel2.key
op bundle pack --app web --version 1.0 --sequence 3 app -o gz.bundle --key rel1.key --gzip
op bundle pack --app web --version 2.0-rc.1 --sequence 4 big -o big.bundle --key rel1.key \
	--expires 2027-06-01T00:00:00Z --health-timeout 120 \
	--probe http://127.0.0.1:8080/healthz --probe http://web.web.svc/ready \
	--no-prune --keep-on-first-failure
op bundle pack --app web --version 2.0-rc.1 --sequence 4 big -o big-gz.bundle --key rel1.key --gzip
op release create --bundle plain.bundle --url plain.bundle -o release.yaml --key rel1.key
op release create --bundle big.bundle --url https://updates.example.com/web/big.bundle \
	-o release-full.yaml --key rel1.key --key rel2.key --expires 2027-02-01T00:00:00Z \
	--interval 600 --jitter 60 --window 01:30-04:00 --utc-offset -05:30 \
	--percent 25 --salt fleet-a --health-timeout 300
mkdir -p x
tar -C x -xf plain.bundle
mkdir -p y
tar -C y -xf big.bundle

cp plain.bundle gz.bundle big.bundle big-gz.bundle "$out/bundle/"
cp plain.bundle "$out/tar/bundle.tar"
cp big.bundle "$out/tar/bundle-big.tar"
cp gz.bundle "$out/gzip/bundle.tar.gz"
cp release.yaml release-full.yaml "$out/pointer/"
cp root.yaml root1.yaml release-full.yaml x/bundle.yaml "$out/doc/"
cp y/bundle.yaml "$out/doc/bundle-big.yaml"
cp big/deploy.yaml big/list.yaml big/secret.json app/cm.yaml "$out/manifest/"
cp root.yaml.sig "$out/sigfile/root.yaml.sig"
cp release-full.yaml.sig "$out/sigfile/release.yaml.sig"
cp y/bundle.yaml.sig "$out/sigfile/bundle.yaml.sig"
{ printf '# signed by hand\r\n\r\n'; sed 's/$/\r/' root.yaml.sig; } >"$out/sigfile/crlf.sig"
{ cat root.yaml; printf '\0SIG\0'; cat root.yaml.sig; } >"$out/trust/root-2of2"
{ cat root1.yaml; printf '\0SIG\0'; cat root1.yaml.sig; } >"$out/trust/root-1of1"
cp root.yaml "$out/trust/root-unsigned"

# --- YAML the tools do not write --------------------------------------
cat >"$out/doc/features.yaml" <<'Y'
%YAML 1.1
---
plain: [1, -2, 0x1F, 0o17, 017, 0b101, 1_000, 3.5e3, -0.25]
bools: {a: yes, b: No, c: on, d: OFF, e: y, f: n, g: true}
nulls: [~, null, Null, NULL, ]
on: key typed as a bool
0x10: key typed as an int
quoted: ["3", '4', "tab\there", "\u263a \x41 \N"]
tagged: [!!str 5, !!str true]
anchor: &a {k: v}
literal: |+
  keep

folded: >-
  a
  b
flow: {x: [a, {y: z}], "q k": 'it''s'}
--- # second document
- just
- a list
...
--- "a scalar document"
Y
printf '{"a": [1, 2.5, true, null, "s\\u0000t"], "b": {"c": {}}, "d": []}' >"$out/doc/plain.json"
# an API reply as the server writes it (escaped <, >, &; numbers of each kind)
printf '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"\\u003cb\\u003e \\u0026 caf\\u00e9 \\"q\\"","code":422,"details":{"causes":[{"field":"spec.replicas","reason":"FieldValueInvalid"}],"retryAfterSeconds":1.5e0}}\n' >"$out/doc/reply.json"

# --- tar variants: GNU tar, directories, long names, padding --------------
mkdir -p t/sub/a-directory-name-that-is-fairly-long-to-force-the-ustar-prefix-field/and-then-some-more-path
printf 'hello\n' >t/one.txt
printf '' >t/empty
printf 'x%.0s' $(seq 1 700) >t/sub/a-directory-name-that-is-fairly-long-to-force-the-ustar-prefix-field/and-then-some-more-path/file-with-a-long-name.txt
tar --format=ustar --owner=0 --group=0 --mtime=@0 --sort=name -b 1 -C t -cf "$out/tar/ustar-prefix.tar" .
tar --format=gnu --owner=0 --group=0 --mtime=@0 --sort=name -C t -cf "$out/tar/gnu-padded.tar" one.txt empty
head -c 1024 /dev/zero >"$out/tar/empty.tar"

# --- gzip variants: name, empty, and every optional header field ----------
gzip -9 -c t/one.txt >"$out/gzip/with-name.gz"
gzip -n -c </dev/null >"$out/gzip/empty.gz"
gzip -n -c <app/cm.yaml >"$out/gzip/cm.yaml.gz"
python3 - "$out/gzip/all-fields.gz" <<'P'
import struct, sys, zlib
data = b"apiVersion: v1\nkind: ConfigMap\n" * 8
hdr = b"\x1f\x8b\x08" + bytes([0x02 | 0x04 | 0x08 | 0x10]) + struct.pack("<I", 0) + b"\x02\x03"
hdr += struct.pack("<H", 6) + b"AB\x02\x00xy"         # FEXTRA: one subfield
hdr += b"name.yaml\x00" + b"a comment\x00"            # FNAME, FCOMMENT
hdr += struct.pack("<H", zlib.crc32(hdr) & 0xffff)    # FHCRC
c = zlib.compressobj(9, zlib.DEFLATED, -15)
body = c.compress(data) + c.flush()
open(sys.argv[1], "wb").write(hdr + body + struct.pack("<II", zlib.crc32(data), len(data)))
P

printf 'make-seeds: %s bytes in %s\n' "$(du -sb "$out" | cut -f1)" "$out" >&2
for t in "$out"/*; do printf '  %-9s %s files\n' "$(basename "$t")" "$(ls "$t" | wc -l)" >&2; done
