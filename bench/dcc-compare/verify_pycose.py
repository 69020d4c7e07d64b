"""Verifies the exported HC1 codes with pycose (and base45, cbor2, zlib) for a fixed time, one
core, and prints verifications per second. The signers' keys are read once, as a verifier
keeps its trust list; each verification unprefixes, decodes Base45, inflates, decodes the
COSE_Sign1 (tag 61 removed if present), finds the key by kid, checks the signature and reads
the claims and their expiry.

Usage: python verify_pycose.py codes.json SECONDS
"""

import base64
import json
import sys
import time
import zlib

import cbor2
from base45 import b45decode
from pycose.algorithms import Es256, Ps256
from pycose.headers import KID
from pycose.keys import CoseKey
from pycose.keys.curves import P256
from pycose.keys.keyops import VerifyOp
from pycose.keys.keyparam import EC2KpCurve, EC2KpX, EC2KpY, KpAlg, KpKeyOps, KpKty, RSAKpE, RSAKpN
from pycose.keys.keytype import KtyEC2, KtyRSA
from pycose.messages import Sign1Message
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def cose_key(der: bytes) -> CoseKey:
    public = x509.load_der_x509_certificate(der).public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return CoseKey.from_dict({
            KpKty: KtyEC2, EC2KpCurve: P256, KpAlg: Es256, KpKeyOps: [VerifyOp],
            EC2KpX: numbers.x.to_bytes(32, "big"), EC2KpY: numbers.y.to_bytes(32, "big"),
        })
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return CoseKey.from_dict({
            KpKty: KtyRSA, KpAlg: Ps256, KpKeyOps: [VerifyOp],
            RSAKpE: numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"),
            RSAKpN: numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big"),
        })
    raise ValueError("unsupported key")


def verify(hc1: str, keys: dict, now: int) -> bool:
    cose = zlib.decompress(b45decode(hc1[4:]))
    if cose[:2] == b"\xd8\x3d":  # CWT tag 61 around the COSE_Sign1
        cose = cose[2:]
    message = Sign1Message.decode(cose) if cose[0] == 0xD2 else Sign1Message.from_cose_obj(cbor2.loads(cose), True)
    kid = message.phdr.get(KID) or message.uhdr.get(KID)
    key = keys.get(bytes(kid))
    if key is None:
        return False
    message.key = key
    if not message.verify_signature():
        return False
    claims = cbor2.loads(message.payload)
    return claims[6] <= now <= claims[4] and -260 in claims


def main() -> None:
    data = json.load(open(sys.argv[1]))
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    keys = {}
    for certificate in data["certificates"]:
        keys[base64.b64decode(certificate["kid"])] = cose_key(base64.b64decode(certificate["der"]))
    codes = [(c["hc1"], c["now"]) for c in data["codes"]]
    verified = 0
    for hc1, now in codes:
        try:
            verified += verify(hc1, keys, now)
        except Exception:
            pass
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for hc1, now in codes:
            try:
                verify(hc1, keys, now)
            except Exception:
                pass
            count += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({
        "verifier": "pycose",
        "codes": len(codes),
        "verified_in_first_pass": verified,
        "verifications_per_second": count / elapsed,
    }))


if __name__ == "__main__":
    main()
