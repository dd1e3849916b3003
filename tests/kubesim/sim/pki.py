"""Test PKI made with the openssl CLI, and a k3s-style kubeconfig."""

import base64
import os
import secrets
import subprocess

SERVER_SANS = ("DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
               "DNS:kubernetes.default.svc,"
               "DNS:kubernetes.default.svc.cluster.local,"
               "IP:127.0.0.1,IP:10.43.0.1")
FILES = ("ca.crt", "ca.key", "server.crt", "server.key", "client.crt",
         "client.key", "token")


def _openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ec_key(name, cwd):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-out", name, cwd=cwd)


def _signed(name, subject, extensions, cwd):
    """Key NAME.key and certificate NAME.crt signed by ca.crt."""
    _ec_key(f"{name}.key", cwd)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject,
             "-out", f"{name}.csr", cwd=cwd)
    with open(os.path.join(cwd, f"{name}.ext"), "w", encoding="ascii") as ext:
        ext.write(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt",
             "-CAkey", "ca.key", "-CAcreateserial", "-days", "3650",
             "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt",
             cwd=cwd)
    for leftover in (f"{name}.csr", f"{name}.ext", "ca.srl"):
        if os.path.exists(os.path.join(cwd, leftover)):
            os.remove(os.path.join(cwd, leftover))


def ensure(directory):
    """Create the CA, server and client credentials and a bearer token in
    `directory` unless they are all there already."""
    if all(os.path.exists(os.path.join(directory, f)) for f in FILES):
        return
    _ec_key("ca.key", directory)
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256",
             "-days", "3650", "-subj", "/CN=k3s-server-ca@kubesim",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-out", "ca.crt", cwd=directory)
    _signed("server", "/O=k3s/CN=k3s",
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            f"subjectAltName={SERVER_SANS}\n", directory)
    _signed("client", "/O=system:masters/CN=system:admin",
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=clientAuth\n", directory)
    with open(os.path.join(directory, "token"), "w", encoding="ascii") as out:
        out.write(secrets.token_hex(24) + "\n")


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
    path = os.path.join(directory, "kubeconfig")
    with open(path + ".tmp", "w", encoding="ascii") as out:
        out.write(text)
    os.replace(path + ".tmp", path)
