"""The test API server's REST calls, shared by complete-hooks.py and
server-dry-run.py. TLS is not verified: the server is ours, on loopback,
with a self-signed certificate."""
import json
import ssl
import urllib.error
import urllib.request

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def call(server, token, method, path, body=None, ctype="application/json"):
    """(status, decoded JSON answer); an error answer that is no JSON
    comes back as {"message": ...}."""
    req = urllib.request.Request(server + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.load(e)
        except ValueError:
            return e.code, {"message": str(e)}
