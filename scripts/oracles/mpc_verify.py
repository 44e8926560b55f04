#!/usr/bin/env python3
"""Independent oracle for the MPC module's tests.

Reads JSON objects, one per line, from stdin and prints one JSON result per line:

* {"kind": "signature", "publicKey": hex33, "digest": hex32, "der": hex, "recoveryId": 0|1, "evmAddress": "0x…"}
  verifies the DER signature with python-ecdsa AND with coincurve (libsecp256k1, a different build),
  checks low-S, recovers the key from (r, s, v) with coincurve and recomputes the EVM address with
  pycryptodome's Keccak-256. Result: {"ok": bool, "why": str}.
* {"kind": "pedersenH", "tag": hex}
  re-derives the second Pedersen generator by try-and-increment from the tag, with plain Python
  integers (no library): result {"counter": int, "point": hex33}.
"""
import hashlib
import json
import sys

import coincurve
import ecdsa
from Crypto.Hash import keccak
from ecdsa.util import sigdecode_der

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def evm_address(uncompressed65: bytes) -> str:
    h = keccak.new(digest_bits=256)
    h.update(uncompressed65[1:])
    raw = h.hexdigest()[-40:]
    # EIP-55 checksum
    hh = keccak.new(digest_bits=256)
    hh.update(raw.encode())
    check = hh.hexdigest()
    return "0x" + "".join(c.upper() if int(check[i], 16) >= 8 else c for i, c in enumerate(raw))


def check_signature(item):
    pub = bytes.fromhex(item["publicKey"])
    digest = bytes.fromhex(item["digest"])
    der = bytes.fromhex(item["der"])
    v = int(item["recoveryId"])
    if len(digest) != 32:
        return False, "digest length"
    vk = ecdsa.VerifyingKey.from_string(pub, curve=ecdsa.SECP256k1)
    try:
        if not vk.verify_digest(der, digest, sigdecode=sigdecode_der):
            return False, "python-ecdsa rejects"
    except ecdsa.BadSignatureError:
        return False, "python-ecdsa rejects"
    r, s = sigdecode_der(der, N)
    if s > N // 2:
        return False, "high S"
    if not coincurve.PublicKey(pub).verify(der, digest, hasher=None):
        return False, "coincurve rejects"
    recoverable = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    recovered = coincurve.PublicKey.from_signature_and_message(recoverable, digest, hasher=None)
    if recovered.format(compressed=True) != pub:
        return False, "recovery gives another key"
    address = evm_address(recovered.format(compressed=False))
    if address != item["evmAddress"]:
        return False, f"EVM address {address} != {item['evmAddress']}"
    return True, "ok"


def derive_h(tag: bytes):
    counter = 0
    gx = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
    while True:
        x = int.from_bytes(hashlib.sha256(tag + counter.to_bytes(4, "big")).digest(), "big")
        if x < P and x != gx:
            rhs = (pow(x, 3, P) + 7) % P
            y = pow(rhs, (P + 1) // 4, P)
            if y * y % P == rhs:
                return counter, "02" + x.to_bytes(32, "big").hex()
        counter += 1


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        item = json.loads(line)
        if item["kind"] == "signature":
            ok, why = check_signature(item)
            print(json.dumps({"ok": ok, "why": why}))
        elif item["kind"] == "pedersenH":
            counter, point = derive_h(bytes.fromhex(item["tag"]))
            print(json.dumps({"counter": counter, "point": point}))
        else:
            raise SystemExit(f"unknown kind {item['kind']}")


if __name__ == "__main__":
    main()
