"""Signing the blacklist manifest with Ed25519, and verifying a downloaded
export offline with nothing but the public key.

Two signatures, one key. Inside the manifest, over its canonical JSON without
the signature itself (what `wageguard verify` checks); and beside it,
manifest.json.sig, the raw signature over the manifest file's exact bytes,
which stock tools verify:

    openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin \
        -in manifest.json -sigfile manifest.json.sig

The manifest carries every file's sha256 (and a table's row count), the field
dictionary schema.json's too, so one signature vouches for every byte of the
export and for what its fields mean."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from wageguard.exports.files import sha256_of

KEY_ENV = "WAGEGUARD_SIGNING_KEY"  # PEM text of the private key
KEY_FILE_ENV = "WAGEGUARD_SIGNING_KEY_FILE"  # or a path to it
ALGORITHM = "Ed25519"
DETACHED = ".sig"  # the raw signature over a file's exact bytes, beside it


class SigningKeyMissing(RuntimeError):
    pass


def canonical_bytes(manifest: dict) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(unsigned, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(pem: str | None = None) -> Ed25519PrivateKey:
    """From the given PEM, else WAGEGUARD_SIGNING_KEY, else WAGEGUARD_SIGNING_KEY_FILE."""
    if pem is None:
        pem = os.environ.get(KEY_ENV)
    if pem is None and os.environ.get(KEY_FILE_ENV):
        pem = Path(os.environ[KEY_FILE_ENV]).read_text(encoding="ascii")
    if not pem:
        raise SigningKeyMissing(
            f"no signing key: set {KEY_ENV} (PEM) or {KEY_FILE_ENV}, or the password of the "
            "Airflow connection wageguard_signing; `wageguard keygen` makes a key pair"
        )
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("the signing key must be an Ed25519 private key")
    return key


def sign_manifest(manifest: dict, key: Ed25519PrivateKey) -> dict:
    signature = key.sign(canonical_bytes(manifest))
    return {**manifest, "signature": {
        "algorithm": ALGORITHM,
        "key_id": key_id(key.public_key()),
        "value": base64.b64encode(signature).decode("ascii"),
    }}


def sign_file(path: Path, key: Ed25519PrivateKey) -> Path:
    """Writes <path>.sig: the raw Ed25519 signature over the file's exact bytes."""
    signature = path.with_name(path.name + DETACHED)
    signature.write_bytes(key.sign(path.read_bytes()))
    return signature


def generate_key_pair(folder: Path) -> tuple[Path, Path]:
    """Writes signing_key.pem (readable by its owner only) and public_key.pem."""
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private = folder / "signing_key.pem"
    descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    public = folder / "public_key.pem"
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def _data_rows(path: Path) -> int:
    """Rows as the manifest counts them: CSV records after the header, JSONL lines."""
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line)
    with path.open(encoding="utf-8-sig", newline="") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def verify_export(folder: Path, public_key_pem: bytes) -> list[str]:
    """Every reason the export in `folder` cannot be trusted; empty when it can."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return [f"{manifest_path} is missing"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as broken:
        return [f"manifest.json is not valid JSON: {broken}"]
    try:
        public = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, UnsupportedAlgorithm) as unreadable:
        return [f"the public key is not a readable PEM public key ({unreadable})"]
    if not isinstance(public, Ed25519PublicKey):
        return ["the public key is not an Ed25519 key"]
    problems = []
    signature = manifest.get("signature") or {}
    if signature.get("algorithm") != ALGORITHM or not signature.get("value"):
        problems.append("the manifest is not signed with Ed25519")
    else:
        try:
            public.verify(base64.b64decode(signature["value"]), canonical_bytes(manifest))
        except (InvalidSignature, ValueError):
            problems.append(
                "the signature does not match: the manifest was changed, or it was signed "
                f"with another key (manifest key_id {signature.get('key_id')}, yours "
                f"{key_id(public)})")
    detached = manifest_path.with_name(manifest_path.name + DETACHED)
    if not detached.is_file():
        problems.append(f"{detached.name} is missing")
    else:
        try:
            public.verify(detached.read_bytes(), manifest_path.read_bytes())
        except InvalidSignature:
            problems.append(f"{detached.name} does not match manifest.json's bytes")
    for entry in manifest.get("files", []):
        path = folder / entry["name"]
        if not path.is_file():
            problems.append(f"{entry['name']} is missing")
            continue
        if sha256_of(path) != entry["sha256"]:
            problems.append(f"{entry['name']}: sha256 differs from the manifest")
        elif entry["rows"] is not None and _data_rows(path) != entry["rows"]:
            problems.append(f"{entry['name']}: {_data_rows(path)} rows, manifest says "
                            f"{entry['rows']}")
    return problems
