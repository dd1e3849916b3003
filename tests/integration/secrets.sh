#!/bin/bash
# Encrypted Secrets end to end against kubesim, with Debian's age on the
# other side: the gateway's identity (outpost identity new|show, 0600, read
# by age too), Secrets encrypted with age to the gateway and to a fleet key
# (binary and armored) and a Secret encrypted by the real sops (Flux's
# test data, ../shared/fixtures/sops, with its published key as a site
# key) decrypted at apply time, a release encrypted to another gateway
# refused before anything is applied and rolled back, a changed SOPS value
# refused, and the plaintext nowhere in the state database, the logs, the
# metrics file or the reports.
. "$(dirname "$0")/lib.bash"

if ! command -v age >/dev/null || ! command -v age-keygen >/dev/null; then
	echo "not ok 1 - Debian's age is installed (tests/bootstrap.sh installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi

start_kubesim --ready-ms 200
check "kubesim is ready" test -f "$SIM/ready"
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

$OUTPOST keygen -o signer >/dev/null 2>&1
$OUTPOST root init --key signer.key -o root.yaml >/dev/null 2>&1
release() {
	$OUTPOST bundle pack --app "$1" --version "$1-v$2" --sequence "$2" "src/$1-$2" \
		-o "$1-$2.bundle" --key signer.key --health-timeout 20 >/dev/null 2>&1
}

PLAIN1="pl41n-$RANDOM$RANDOM-db-password"
PLAIN2="pl41n-$RANDOM$RANDOM-api-token"
PLAIN3="pl41n-$RANDOM$RANDOM-other-gateway"
B1=$(printf %s "$PLAIN1" | base64 -w0)
B2=$(printf %s "$PLAIN2" | base64 -w0)
B3=$(printf %s "$PLAIN3" | base64 -w0)

FIX=${OUTPOST_FIXTURES:-$ROOT/../shared/fixtures}/sops
FLUX=$FIX/fluxcd__kustomize-controller@186fb3b29138/internal/controller/testdata/sops
check "the SOPS fixtures are there (../shared/fixtures/sops)" test -f "$FLUX/algorithms/age.yaml"
# Flux's published test key, as a site-group key provisioned at flash time
cp "$FLUX/keys/age.txt" site.txt; chmod 600 site.txt
SOPSPLAIN=value
age-keygen -o fleet.txt 2>/dev/null; chmod 600 fleet.txt
age-keygen -o other.txt 2>/dev/null
FLEET=$(age-keygen -y fleet.txt)
OTHER=$(age-keygen -y other.txt)

cat > config.yaml <<YAML
server: https://releases.invalid/fleet/
device: {id: gw-secrets}
trust: {root: $TMP/root.yaml}
apps:
  - {name: shop, namespace: shop}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
health: {default_timeout: 20}
metrics: {path: $TMP/outpost.prom}
reports: {url: "http://127.0.0.1:9/reports"}
secrets:
  identities: [$TMP/fleet.txt, $TMP/site.txt]
YAML
op() { $OUTPOST --config "$TMP/config.yaml" "$@"; }

# --- the gateway's identity ------------------------------------------------
ME=$(op identity new 2>log.new); rc=$?
check "identity new makes one" test $rc -eq 0
check "it prints an age recipient" grep -Eq '^age1[0-9a-z]{58}$' <<<"$ME"
check "the identity is kept 0600 in the state dir" test "$(stat -c %a state/identity.txt)" = 600
check "... which identity new made private (0700)" test "$(stat -c %a state)" = 700
check "the secret key is not logged" bash -c "! grep -q AGE-SECRET-KEY log.new"
cp state/identity.txt identity.before
op identity new >/dev/null 2>log.again; rc=$?
check "identity new never overwrites" test $rc -eq 1
check "... and says so" grep -q 'already exists' log.again
check "... and the identity is unchanged" cmp -s state/identity.txt identity.before
check "identity show prints the same recipient" test "$(op identity show)" = "$ME"
check "age-keygen reads the identity and finds the same recipient" \
	test "$(age-keygen -y state/identity.txt)" = "$ME"
check "identity show FILE reads an age-keygen identity" \
	test "$($OUTPOST identity show fleet.txt)" = "$FLEET"

# --- v1: a Secret encrypted to this gateway, one to the fleet key ----------------
mkdir -p src/shop-1 src/shop-2 src/shop-3
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' > src/shop-1/00-ns.yaml
cp src/shop-1/00-ns.yaml src/shop-2/; cp src/shop-1/00-ns.yaml src/shop-3/
secret() {
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\ntype: Opaque\ndata: {value: %s}\n' "$1" "$2"
}
secret db "$B1" | age -r "$ME" -o src/shop-1/10-db.yaml.age
secret api "$B2" | age -a -r "$FLEET" -o src/shop-1/10-api.yaml.age
cp "$FLUX/algorithms/age.yaml" src/shop-1/20-sops.yaml
check "age encrypts to the gateway: age -d with its identity gives it back" \
	bash -c "age -d -i state/identity.txt src/shop-1/10-db.yaml.age | grep -q '$B1'"
release shop 1
check "the bundle carries the encrypted files" bash -c "tar -tzf shop-1.bundle 2>/dev/null || tar -tf shop-1.bundle | grep -q 10-db.yaml.age"
op import shop-1.bundle 2>log.1; rc=$?
check "v1 with encrypted Secrets applies" test $rc -eq 0
check "the Secret encrypted to this gateway holds its decrypted data" \
	test "$(kctl get secret db -n shop -o jsonpath='{.data.value}' | base64 -d)" = "$PLAIN1"
check "the armored one, encrypted to the fleet key, too" \
	test "$(kctl get secret api -n shop -o jsonpath='{.data.value}' | base64 -d)" = "$PLAIN2"
check "the SOPS Secret holds its decrypted value (its stringData, as the server keeps it: data)" \
	test "$(kctl get secret age -n shop -o jsonpath='{.data.key}' | base64 -d)" = "$SOPSPLAIN"
check "... and no sops metadata" test -z "$(kctl get secret age -n shop -o jsonpath='{.sops}')"
check "status shows the gateway's recipient" grep -q "^age recipient: $ME" <(op status)
check "status --json carries it" grep -q "\"recipient\":\"$ME\"" <(op status --json)

# --- v2: encrypted to another gateway: refused before anything applies --------------
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: marker}\ndata: {a: "1"}\n' > src/shop-2/05-marker.yaml
secret db "$B3" | age -r "$OTHER" -o src/shop-2/10-db.yaml.age
release shop 2
op import shop-2.bundle 2>log.2; rc=$?
check "a release encrypted to another gateway fails" test $rc -eq 1
check "nothing of it was applied (its ConfigMap is absent)" \
	bash -c "! kubectl --kubeconfig $KC get configmap marker -n shop"
check "the Secret keeps v1's data" \
	test "$(kctl get secret db -n shop -o jsonpath='{.data.value}' | base64 -d)" = "$PLAIN1"
check "v1 stays current" grep -q '^shop: current sequence 1 ' <(op status)
op history shop > history.txt
check "the history names the file" grep -q 'failed.*10-db.yaml.age: no identity of this gateway' history.txt
check "... and this gateway's recipient" grep -q "$ME" history.txt
check "... and is rolled back" grep -q 'rolled-back' history.txt

# --- v2b: a SOPS value changed after sops wrote it: refused ---------------------------
mkdir -p src/shop-4
cp src/shop-1/00-ns.yaml src/shop-4/
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: marker}\ndata: {a: "1"}\n' > src/shop-4/05-marker.yaml
sed 's/^  name: age$/  name: age2/' "$FLUX/algorithms/age.yaml" > src/shop-4/20-sops.yaml
release shop 4
op import shop-4.bundle 2>log.4; rc=$?
check "a SOPS file changed after sops wrote it fails the release" test $rc -eq 1
check "... with a MAC mismatch in the history" grep -q 'failed.*20-sops.yaml: MAC mismatch' <(op history shop)
check "... and nothing of it was applied" bash -c "! kubectl --kubeconfig $KC get configmap marker -n shop"

# --- v5: re-encrypted to this gateway: applies -------------------------------------
mv src/shop-3 src/shop-5
secret db "$B3" | age -r "$ME" -r "$OTHER" -o src/shop-5/10-db.yaml.age
release shop 5
op import shop-5.bundle 2>log.5; rc=$?
check "v5, made for this gateway and another, applies" test $rc -eq 0
check "its Secret holds v5's data" \
	test "$(kctl get secret db -n shop -o jsonpath='{.data.value}' | base64 -d)" = "$PLAIN3"
op once >/dev/null 2>log.once

# --- the publisher's side: inspect and verify --identity --------------------------------
$OUTPOST bundle inspect shop-1.bundle > inspect.txt 2>&1
check "bundle inspect lists the age members and their stanzas" \
	grep -q '^encrypted manifests/10-db.yaml.age age X25519$' inspect.txt
check "... and the SOPS member with its recipients" \
	grep -q '^encrypted manifests/20-sops.yaml sops age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29$' inspect.txt
check "bundle inspect --json carries them too" \
	bash -c "$OUTPOST bundle inspect --json shop-1.bundle | jq -e '.files[] | select(.name == \"manifests/10-api.yaml.age\") | .encrypted == \"age X25519\"'"
check "bundle inspect shows no plaintext" bash -c "! grep -qF '$B1' inspect.txt"
check "verify --identity: a gateway with this identity opens every file" \
	$OUTPOST bundle verify shop-5.bundle --root root.yaml --identity state/identity.txt
check "... and so does the other gateway's" \
	$OUTPOST bundle verify shop-5.bundle --root root.yaml --identity other.txt
$OUTPOST bundle verify shop-1.bundle --root root.yaml --identity other.txt >verify.out 2>&1; rc=$?
check "verify --identity fails for a gateway that cannot open one" test $rc -eq 1
check "... naming the file" grep -q '10-db.yaml.age: no identity' verify.out

# --- the plaintext is nowhere but in the cluster -------------------------------------
cat log.* inspect.txt verify.out > all.log
found=
for p in "$PLAIN1" "$PLAIN2" "$PLAIN3" "$B1" "$B2" "$B3"; do
	grep -rqaF "$p" state all.log outpost.prom history.txt 2>/dev/null && found="$found $p"
done
check "the state dir, logs, metrics file and history hold no plaintext" test -z "$found"
check "the reports queued (in the state db) carry the recipient" \
	bash -c "sqlite3 state/outpost.db 'select payload from outbox' | grep -q '\"recipient\":\"$ME\"'"
sqlite3 state/outpost.db "select writefile('stored.age', content) from release_files
	where name = 'manifests/10-db.yaml.age' order by release_id desc limit 1" >/dev/null
check "the store keeps the encrypted bytes of the file" cmp -s stored.age src/shop-5/10-db.yaml.age
sqlite3 state/outpost.db "select writefile('stored.sops', content) from release_files
	where name = 'manifests/20-sops.yaml' order by release_id limit 1" >/dev/null
check "... and of the SOPS file" cmp -s stored.sops "$FLUX/algorithms/age.yaml"
check "the state db holds no decrypted SOPS value" \
	bash -c "! sqlite3 state/outpost.db .dump | grep -q 'key\\\":\\\"value'"

# --- identity files others may read are refused ----------------------------------------
chmod 644 fleet.txt
op status >/dev/null 2>log.mode; rc=$?
check "an identity file others may read stops the agent" test $rc -ne 0
check "... naming it and the fix" grep -q 'fleet.txt: an age identity that others may read.*chmod 600' log.mode
chmod 600 fleet.txt

done_testing
