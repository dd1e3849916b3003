#!/bin/bash
# outpost check-config: a good configuration is summarised (exit 0); every
# problem in the file is named with file:line:column (exit 1); the files it
# points at are checked too: the trust root must verify, the kubeconfig
# load, TLS files be PEM; bad usage is exit 2.
. "$(dirname "$0")/lib.bash"

# status CMD...: CMD's exit status; its stdout in out, its stderr in err.
status() {
	"$@" >out 2>err
	echo $?
}

# --- what a gateway has -----------------------------------------------------
$OUTPOST keygen -o k1 >/dev/null 2>&1
$OUTPOST root init --key k1.key -o "$TMP/root.yaml" >/dev/null 2>&1
check "a signed trust root to point at" test -s root.yaml.sig
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj /CN=kubernetes >/dev/null 2>&1
cat >kubeconfig <<EOF
apiVersion: v1
kind: Config
current-context: k3s
contexts:
- name: k3s
  context: {cluster: c, user: u}
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $TMP/ca.pem
users:
- name: u
  user: {token: abc}
EOF
mkdir state

# config [EXTRA-YAML]: a good configuration (15 lines, apps last), plus EXTRA.
config() {
	cat >config.yaml <<EOF
server: https://releases.example.com/fleet
device:
  id: gw-0042
  labels: {site: store-12}
trust:
  root: $TMP/root.yaml
kubernetes:
  kubeconfig: $TMP/kubeconfig
state_dir: $TMP/state
tls:
  ca: $TMP/ca.pem
apps:
  - name: web
    namespace: shop
  - name: metrics
EOF
	printf '%s' "${1:-}" >>config.yaml
}

# --- a good configuration -----------------------------------------------------
config
rc=$(status $OUTPOST check-config --config config.yaml)
check "a good config: exit 0" test "$rc" -eq 0
check "the summary names the apps, server, device and state dir" grep -qx \
	"config OK: 2 apps (web, metrics), server https://releases.example.com/fleet/, device gw-0042, state dir $TMP/state" out
check "nothing is logged for a good config" test ! -s err
rc=$(status $OUTPOST check-config --config="$TMP/config.yaml")
check "--config=PATH works too" test "$rc" -eq 0
check "help lists check-config" grep -q 'check-config' <<<"$($OUTPOST --help)"

# --- usage ----------------------------------------------------------------------
rc=$(status $OUTPOST check-config --config config.yaml extra)
check "an extra argument is bad usage (exit 2)" test "$rc" -eq 2
check "and prints the usage" grep -q '^usage: outpost check-config \[--config PATH\]' err
rc=$(status $OUTPOST check-config --config)
check "--config without a path is bad usage (exit 2)" test "$rc" -eq 2

# --- the file itself ---------------------------------------------------------------
rc=$(status $OUTPOST check-config --config nothere.yaml)
check "a missing file: exit 1" test "$rc" -eq 1
check "names the file" grep -q 'nothere.yaml: No such file' err

config 'pol:
  min_interval: 10
'
rc=$(status $OUTPOST check-config --config config.yaml)
check "an unknown key: exit 1" test "$rc" -eq 1
check "names it with line and column" grep -q 'config.yaml:16:1: unknown key \\"pol\\"' err
check "nothing on stdout" test ! -s out

config 'poll:
  min_interval: 600
  default_interval: 300
log_level: loud
'
sed -i 's|^state_dir: .*|state_dir: var/lib/outpost|' config.yaml
rc=$(status $OUTPOST check-config --config config.yaml)
check "several problems: exit 1" test "$rc" -eq 1
check "the interval ordering is named" \
	grep -q "config.yaml:17:17: 'min_interval' (600) is greater than 'default_interval' (300)" err
check "and the relative path" grep -q "config.yaml:9:12: 'state_dir' must be an absolute path" err
check "and the log level" grep -q "config.yaml:19:12: 'log_level' must be one of" err
check "the count of problems closes" grep -q 'config.yaml: refused (3 problems)' err

config '  - name: web
'
rc=$(status $OUTPOST check-config --config config.yaml)
check "a duplicate app: exit 1" test "$rc" -eq 1
check "is named where it is" grep -q "config.yaml:16:11: app 'web' is listed twice" err

sed -i 's|^server: .*|server: ftp://releases.example.com/|' config.yaml
rc=$(status $OUTPOST check-config --config config.yaml)
check "an ftp server URL is refused" grep -q "config.yaml:1:9: 'server' must be an https:// or http:// URL" err

config
sed -i 's|^server: .*|server: http://releases.example.com/|' config.yaml
rc=$(status $OUTPOST check-config --config config.yaml)
check "plain http is accepted (exit 0)" test "$rc" -eq 0
check "with a warning about it" grep -q "level=warn.*config.yaml:1:9: 'server' uses plain http" err

config
head -c 300000 /dev/zero | tr '\0' '#' >>config.yaml
rc=$(status $OUTPOST check-config --config config.yaml)
check "an oversized file: exit 1" test "$rc" -eq 1
check "says it is too large" grep -q 'config.yaml: larger than 262144 bytes' err

# --- the test-only TLS switch ---------------------------------------------------------
config
sed -i 's|^tls:$|tls:\n  insecure_skip_verify: true|' config.yaml
rc=$(status env -u OUTPOST_TEST_INSECURE $OUTPOST check-config --config config.yaml)
check "insecure_skip_verify is refused (exit 1)" test "$rc" -eq 1
check "and says it needs OUTPOST_TEST_INSECURE=1" \
	grep -q "config.yaml:11:25: 'insecure_skip_verify' is refused: it exists only for tests and needs OUTPOST_TEST_INSECURE=1" err
rc=$(status env OUTPOST_TEST_INSECURE=1 $OUTPOST check-config --config config.yaml)
check "with OUTPOST_TEST_INSECURE=1 it is accepted" test "$rc" -eq 0
check "with a loud warning" grep -q 'level=warn.*TLS certificate verification is OFF' err
rc=$(status env OUTPOST_TEST_INSECURE=yes $OUTPOST check-config --config config.yaml)
check "only the value 1 counts" test "$rc" -eq 1

# --- the files it names ------------------------------------------------------------
config
cp root.yaml root.good
sed -i 's/^version: 1$/version: 2/' root.yaml
rc=$(status $OUTPOST check-config --config config.yaml)
check "a tampered trust root: exit 1" test "$rc" -eq 1
check "its signature is what fails" grep -q 'root.yaml' err
check "the summary counts file problems" grep -q 'config.yaml: 1 problem with the files it names' err
cp root.good root.yaml

mv root.yaml.sig root.sig.away
rc=$(status $OUTPOST check-config --config config.yaml)
check "an unsigned trust root: exit 1" test "$rc" -eq 1
check "says the root must be signed" grep -q 'trust.root .*root.yaml: no .*root.yaml.sig: the trust root must be signed' err
mv root.sig.away root.yaml.sig

mv kubeconfig kubeconfig.away
echo 'not a pem' >ca.bad
sed -i "s|ca: .*|ca: $TMP/ca.bad|" config.yaml
rm -r state
touch state
rc=$(status $OUTPOST check-config --config config.yaml)
check "three broken files: exit 1" test "$rc" -eq 1
check "the missing kubeconfig is named" grep -q 'kubernetes.kubeconfig .*kubeconfig: No such file' err
check "the CA that is not PEM is named" grep -q 'tls.ca .*ca.bad: no \\"-----BEGIN CERTIFICATE-----\\"' err
check "the state dir that is a file is named" grep -q 'state_dir .*state: not a directory' err
check "all three are counted" grep -q '3 problems with the files it names' err
mv kubeconfig.away kubeconfig
rm state
mkdir state

config
rc=$(status $OUTPOST check-config --config config.yaml)
check "all repaired: exit 0 again" test "$rc" -eq 0

done_testing
