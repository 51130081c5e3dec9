"""The signed tokens the app stores ask for, made with ``cryptography``: App Store Connect's ES256 JWT
(20 minutes at most) and Google's service-account assertion (RS256), exchanged for an access token."""
from __future__ import annotations

import base64
import json

from monitor import clock


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(header: dict, claims: dict, private_key_pem: bytes) -> str:
    """A compact JWS of ``claims``; ES256 keys sign as raw r||s (RFC 7518 3.4), RSA keys as RS256."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = serialization.load_pem_private_key(private_key_pem, password=None)
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise ValueError("the key is neither an EC (P-256) nor an RSA private key")
    return f"{signing_input.decode()}.{_b64(signature)}"


def app_store_token(key_id: str, issuer_id: str, private_key_pem: bytes) -> str:
    now = int(clock.timestamp())
    return jwt({"alg": "ES256", "kid": key_id, "typ": "JWT"},
               {"iss": issuer_id, "iat": now, "exp": now + 15 * 60, "aud": "appstoreconnect-v1"}, private_key_pem)


def google_assertion(account: dict, scope: str) -> str:
    now = int(clock.timestamp())
    return jwt({"alg": "RS256", "typ": "JWT", "kid": account.get("private_key_id", "")},
               {"iss": account["client_email"], "scope": scope, "aud": account["token_uri"], "iat": now,
                "exp": now + 3600}, account["private_key"].encode())
