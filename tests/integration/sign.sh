#!/bin/bash
# keygen, sign and verify: outpost's signatures interoperate with openssl
# both ways, thresholds count distinct keys, and keys are kept private.
. "$(dirname "$0")/lib.bash"

# fails CMD...: ok when CMD exits 1 (a refusal, not a crash or bad usage).
fails() {
	"$@"
	test $? -eq 1
}

# status CMD...: CMD's exit status, its output discarded.
status() {
	"$@" >/dev/null 2>&1
	echo $?
}

# keyid PUBPEM: sha256 of the DER SubjectPublicKeyInfo, as openssl sees it.
keyid() {
	openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

printf 'apiVersion: v1\nkind: ConfigMap\n' >file
head -c 100000 /dev/urandom >>file

# --- keygen ---------------------------------------------------------------
id=$($OUTPOST keygen -o alice 2>err)
check "keygen exits 0" test $? -eq 0
check "keygen prints a 64-hex key id" grep -qE '^[0-9a-f]{64}$' <<<"$id"
check "key file is created 0600" test "$(stat -c %a alice.key)" = 600
check "public key is PEM" grep -q '^-----BEGIN PUBLIC KEY-----$' alice.pub
check "openssl reads the private key" openssl pkey -in alice.key -noout
check "the key is P-256" grep -q 'prime256v1' <<<"$(openssl pkey -in alice.key -text -noout)"
check "key id = sha256 of openssl's DER public key" test "$id" = "$(keyid alice.pub)"
check "private and public key belong together" \
	test "$(openssl pkey -in alice.key -pubout | keyid /dev/stdin)" = "$id"

cp alice.key alice.key.orig
$OUTPOST keygen -o alice 2>err; rc=$?
check "keygen refuses to overwrite (exit 1)" test $rc -eq 1
check "keygen says it would overwrite" grep -q 'alice.key: already exists' err
check "the old key is untouched" cmp -s alice.key alice.key.orig
rm -f lone.key
touch lone.pub
$OUTPOST keygen -o lone 2>err; rc=$?
check "keygen refuses when only NAME.pub exists" test $rc -eq 1
check "and leaves no NAME.key behind" test ! -e lone.key
$OUTPOST keygen 2>err; rc=$?
check "keygen without -o is bad usage (exit 2)" test $rc -eq 2
check "keygen usage is printed" grep -q '^usage: outpost keygen -o NAME' err

# --- (a) outpost signs, openssl verifies ------------------------------------
check "sign exits 0" $OUTPOST sign file --key alice.key
check "sign writes FILE.sig with one line" test "$(wc -l <file.sig)" -eq 1
check "the line is '<keyid> <base64>'" grep -qE "^$id [A-Za-z0-9+/]+=*\$" file.sig
cut -d' ' -f2 file.sig | base64 -d >sig.der
check "openssl verifies outpost's signature" \
	grep -q 'Verified OK' <<<"$(openssl dgst -sha256 -verify alice.pub -signature sig.der file)"
cp file.sig first.sig
check "signing again replaces the line" $OUTPOST sign file --key alice.key
check "no duplicate line for the same key" test "$(wc -l <file.sig)" -eq 1
check "signatures are deterministic (RFC 6979)" cmp -s file.sig first.sig
check "outpost verifies its own signature" $OUTPOST verify file --pub alice.pub
out=$($OUTPOST verify file --pub alice.pub 2>/dev/null)
check "verify names the key id that verified" grep -q "^verified $id alice.pub\$" <<<"$out"
check "sign -o writes elsewhere" $OUTPOST sign file --key alice.key -o other.sig
check "verify --sig reads it" $OUTPOST verify file --pub alice.pub --sig other.sig

# --- (b) openssl signs, outpost verifies -------------------------------------
openssl ecparam -name prime256v1 -genkey -noout -out bob.key 2>/dev/null
openssl ec -in bob.key -pubout -out bob.pub 2>/dev/null
openssl dgst -sha256 -sign bob.key -out s.der file
echo "$(keyid bob.pub) $(base64 -w0 s.der)" >bob.sig
check "outpost verifies an openssl SEC1-key signature" \
	$OUTPOST verify file --pub bob.pub --sig bob.sig

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out carol.key 2>/dev/null
openssl pkey -in carol.key -pubout -out carol.pub
openssl dgst -sha256 -sign carol.key -out s.der file
printf '# made with openssl\r\n%s %s\r\n' "$(keyid carol.pub)" "$(base64 -w0 s.der)" >carol.sig
check "outpost verifies an openssl PKCS#8-key signature (CRLF file)" \
	$OUTPOST verify file --pub carol.pub --sig carol.sig

check "outpost signs with an openssl SEC1 key" $OUTPOST sign file --key bob.key
check "outpost signs with an openssl PKCS#8 key" $OUTPOST sign file --key carol.key
check "three signers, three lines" test "$(wc -l <file.sig)" -eq 3
grep "^$(keyid carol.pub) " file.sig | cut -d' ' -f2 | base64 -d >sig.der
check "openssl verifies outpost's signature with carol's key" \
	grep -q 'Verified OK' <<<"$(openssl dgst -sha256 -verify carol.pub -signature sig.der file)"

# --- thresholds --------------------------------------------------------------
check "threshold 2 with two signing keys passes" \
	$OUTPOST verify file --pub alice.pub --pub bob.pub --threshold 2
check "threshold 3 with three signing keys passes" \
	$OUTPOST verify file --pub alice.pub --pub bob.pub --pub carol.pub --threshold 3
$OUTPOST verify file --pub alice.pub --threshold 2 2>err >/dev/null; rc=$?
check "threshold 2 with one key fails (exit 1)" test $rc -eq 1
check "and says how many verified" grep -q '1 of 2 required signatures verified' err
check "the same key listed twice counts once" \
	fails $OUTPOST verify file --pub alice.pub --pub alice.pub --threshold 2
cp alice.pub alice-copy.pub
check "the same key in two files counts once" \
	fails $OUTPOST verify file --pub alice.pub --pub alice-copy.pub --threshold 2
$OUTPOST keygen -o dave >/dev/null 2>&1
check "a key that did not sign does not count" \
	fails $OUTPOST verify file --pub alice.pub --pub dave.pub --threshold 2
# a second valid line by alice (openssl's signatures are randomized) does not
# make her count twice; a bad extra line of hers does not hide the good one
openssl dgst -sha256 -sign alice.key -out a2.der file
cp file.sig dup.sig
echo "$id $(base64 -w0 a2.der)" >>dup.sig
check "the extra line is itself a valid signature" \
	grep -q 'Verified OK' <<<"$(openssl dgst -sha256 -verify alice.pub -signature a2.der file)"
check "two valid lines of one key do not count twice" \
	fails $OUTPOST verify file --pub alice.pub --sig dup.sig --threshold 2
cp file.sig dup.sig
echo "$id $(base64 -w0 s.der)" >>dup.sig
check "a bad duplicate line does not hide a good one" \
	$OUTPOST verify file --pub alice.pub --sig dup.sig

# --- tampering and refusals --------------------------------------------------
cp file changed
printf 'X' | dd of=changed bs=1 seek=5 conv=notrunc 2>/dev/null
cp file.sig changed.sig
$OUTPOST verify changed --pub alice.pub 2>err; rc=$?
check "a changed byte in FILE fails (exit 1)" test $rc -eq 1
check "and the refusal names the line and key" grep -q "changed.sig line 1: the signature by $id" err
check "openssl agrees that it fails" \
	fails openssl dgst -sha256 -verify bob.pub -signature s.der changed
check "no signature file fails" fails $OUTPOST verify file --pub alice.pub --sig missing.sig
echo "$id notbase64!" >bad.sig
$OUTPOST verify file --pub alice.pub --sig bad.sig 2>err; rc=$?
check "a malformed signature file fails" test $rc -eq 1
check "and names its line" grep -q 'bad.sig line 1:' err

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.key 2>/dev/null
openssl pkey -in rsa.key -pubout -out rsa.pub
$OUTPOST verify file --pub rsa.pub 2>err; rc=$?
check "an RSA public key is refused" test $rc -eq 1
check "and called RSA" grep -q 'rsa.pub: an RSA key' err
check "signing with an RSA key is refused" fails $OUTPOST sign file --key rsa.key -o rsa.sig
openssl ecparam -name secp384r1 -genkey -noout -out p384.key 2>/dev/null
openssl ec -in p384.key -pubout -out p384.pub 2>/dev/null
$OUTPOST verify file --pub p384.pub 2>err; rc=$?
check "a P-384 key is refused" test $rc -eq 1
check "and its curve named" grep -q 'secp384r1' err
check "a private key given as --pub is refused" fails $OUTPOST verify file --pub alice.key

check "verify without --pub is bad usage" test "$(status $OUTPOST verify file)" -eq 2
check "threshold 0 is bad usage" \
	test "$(status $OUTPOST verify file --pub alice.pub --threshold 0)" -eq 2
check "threshold 2x is bad usage" \
	test "$(status $OUTPOST verify file --pub alice.pub --threshold 2x)" -eq 2
check "sign without --key is bad usage" test "$(status $OUTPOST sign file)" -eq 2
check "sign of a missing file names it" \
	grep -q 'nofile: No such file' <<<"$($OUTPOST sign nofile --key alice.key 2>&1)"

# --- bundle pack: verified before anything is written ---------------------------
# pack reads what it made back with the checks of bundle verify (the same
# size cap) before the output appears; a bundle a gateway would refuse (a
# manifest over the 16 MiB document limit) leaves the output as it was.
# (pack wrote it first, then refused it, and left it there.)
$OUTPOST root init --key alice.key -o packroot.yaml >/dev/null 2>&1
mkdir -p big
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: "'
  head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' a
  printf '"\n'; } > big/cm.yaml
echo before > big.bundle
$OUTPOST bundle pack --app big --version 1 --sequence 1 --key alice.key -o big.bundle big \
	>/dev/null 2>pack.err; rc=$?
check "a bundle verify would refuse: pack refuses it (exit $rc)" test $rc -eq 1
check "the refusal says why" grep -q 'more than the limit' pack.err
check "the output is left as it was" test "$(stat -c %s big.bundle)" -eq 7
rm -f big.bundle
$OUTPOST bundle pack --app big --version 1 --sequence 1 --key alice.key -o big.bundle big \
	>/dev/null 2>&1
check "no output file appears either" test ! -e big.bundle
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n' > big/cm.yaml
$OUTPOST bundle pack --app big --version 1 --sequence 1 --key alice.key -o big.bundle big \
	>/dev/null 2>pack.err; rc=$?
check "a small bundle packs" test $rc -eq 0
check "what pack wrote, verify accepts" $OUTPOST bundle verify big.bundle --root packroot.yaml
check "pack leaves no temporary file" test "$(ls -a | grep -c '^big.bundle.')" -eq 0

done_testing
