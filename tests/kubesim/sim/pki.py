"""Test PKI made with the openssl CLI, and a k3s-style kubeconfig.

Two styles. "plain": PKCS#8 keys, the client certificate alone. "k3s": what
k3s writes (pkg/util/cert, /etc/rancher/k3s/k3s.yaml): SEC1 `EC PRIVATE
KEY` keys, and client-certificate-data holding the client certificate
followed by the client CA's (k3s-client-ca), a CA apart from the server's
(k3s-server-ca). Either way ca.crt is the server CA (what clients trust) and
client-ca.crt the CA client certificates are checked against.

Rotation, for clients that must follow it: rotate_client() issues a new
client certificate (and key) and can revoke the old one (the server then
answers it 401, as kube-apiserver does for an expired one); rotate_ca()
makes new CAs and every certificate anew (the server must then be given a
new TLS context: old clients fail the handshake).
"""

import base64
import hashlib
import os
import secrets
import subprocess
import threading

SERVER_SANS = ("DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
               "DNS:kubernetes.default.svc,"
               "DNS:kubernetes.default.svc.cluster.local,"
               "IP:127.0.0.1,IP:10.43.0.1")
FILES = ("ca.crt", "ca.key", "client-ca.crt", "client-ca.key", "server.crt",
         "server.key", "client.crt", "client.key", "token", "style")
STYLES = ("plain", "k3s")

_revoked = set()            # SHA-256 of revoked client certificates (DER)
_lock = threading.Lock()


def _openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ec_key(name, cwd, style):
    if style == "k3s":      # SEC1: "-----BEGIN EC PRIVATE KEY-----"
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout",
                 "-out", name, cwd=cwd)
    else:                   # PKCS#8: "-----BEGIN PRIVATE KEY-----"
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-out", name, cwd=cwd)


def _ca(name, subject, cwd, style):
    _ec_key(f"{name}.key", cwd, style)
    _openssl("req", "-x509", "-new", "-key", f"{name}.key", "-sha256",
             "-days", "3650", "-subj", subject,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-out", f"{name}.crt", cwd=cwd)


def _signed(name, ca, subject, extensions, cwd, style):
    """Key NAME.key and certificate NAME.crt signed by CA.crt."""
    _ec_key(f"{name}.key", cwd, style)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject,
             "-out", f"{name}.csr", cwd=cwd)
    with open(os.path.join(cwd, f"{name}.ext"), "w", encoding="ascii") as ext:
        ext.write(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt",
             "-CAkey", f"{ca}.key", "-set_serial",
             str(secrets.randbits(63)), "-days", "3650",
             "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt",
             cwd=cwd)
    for leftover in (f"{name}.csr", f"{name}.ext"):
        if os.path.exists(os.path.join(cwd, leftover)):
            os.remove(os.path.join(cwd, leftover))


def _client(directory, style):
    _signed("client", "client-ca", "/O=system:masters/CN=system:admin",
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=clientAuth\n", directory, style)
    if style == "k3s":      # the chain, as k3s writes client-admin.crt
        with open(os.path.join(directory, "client-ca.crt"), "rb") as src:
            ca = src.read()
        with open(os.path.join(directory, "client.crt"), "ab") as out:
            out.write(ca)


def _all(directory, style):
    _ca("ca", "/CN=k3s-server-ca@kubesim", directory, style)
    _ca("client-ca", "/CN=k3s-client-ca@kubesim", directory, style)
    _signed("server", "ca", "/O=k3s/CN=k3s",
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            f"subjectAltName={SERVER_SANS}\n", directory, style)
    _client(directory, style)
    _write(os.path.join(directory, "style"), style + "\n")


def _write(path, text):
    with open(path + ".tmp", "w", encoding="ascii") as out:
        out.write(text)
    os.replace(path + ".tmp", path)


def style_of(directory):
    try:
        with open(os.path.join(directory, "style"), encoding="ascii") as src:
            return src.read().strip()
    except OSError:
        return ""


def ensure(directory, style="plain"):
    """Create the CAs, server and client credentials and a bearer token in
    `directory` unless they are all there already, in this style."""
    if style not in STYLES:
        raise ValueError(f"unknown credential style {style!r}")
    if all(os.path.exists(os.path.join(directory, f)) for f in FILES) and \
            style_of(directory) == style:
        return
    _all(directory, style)
    _write(os.path.join(directory, "token"), secrets.token_hex(24) + "\n")


def _leaf_digest(directory):
    """SHA-256 of the DER of the first certificate in client.crt."""
    with open(os.path.join(directory, "client.crt"), encoding="ascii") as src:
        text = src.read()
    begin = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----", begin)
    body = "".join(text[begin:end].splitlines()[1:])
    return hashlib.sha256(base64.b64decode(body)).hexdigest()


def rotate_client(directory, revoke):
    """A new client key and certificate (same CA); with revoke, the old
    certificate is refused from now on."""
    old = _leaf_digest(directory)
    _client(directory, style_of(directory) or "plain")
    if revoke:
        with _lock:
            _revoked.add(old)


def rotate_ca(directory):
    """New server and client CAs, and every certificate signed anew."""
    _all(directory, style_of(directory) or "plain")
    with _lock:
        _revoked.clear()


def revoked(der):
    """Is this client certificate (DER bytes) revoked?"""
    if not der:
        return False
    with _lock:
        return hashlib.sha256(der).hexdigest() in _revoked


def read_token(directory):
    with open(os.path.join(directory, "token"), encoding="ascii") as src:
        return src.read().strip()


def _b64(directory, name):
    with open(os.path.join(directory, name), "rb") as src:
        return base64.b64encode(src.read()).decode()


def write_kubeconfig(directory, port):
    """A kubeconfig shaped like k3s's /etc/rancher/k3s/k3s.yaml."""
    text = f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {_b64(directory, "ca.crt")}
    server: https://127.0.0.1:{port}
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {{}}
users:
- name: default
  user:
    client-certificate-data: {_b64(directory, "client.crt")}
    client-key-data: {_b64(directory, "client.key")}
"""
    _write(os.path.join(directory, "kubeconfig"), text)
