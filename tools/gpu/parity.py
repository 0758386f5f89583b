#!/usr/bin/env python3
"""Parity of the Python networks (tools/gpu/impasto_nets.py) with impasto's C++ ones, through model files:

- every decoder in MODELS/decoders: `impasto stylize IMG IMG --method adain --alpha 0 --levels L --precision fp32`
  (the decoder applied to IMG's own features) against decode(encode(IMG)) in Python, both as 8-bit images;
- every transformer MODELS/*.impasto: `impasto stylize IMG --model FILE --precision fp32` (with equal
  --style-weights for a multi-style network) against the Python forward.

PSNR between the two 8-bit outputs must exceed --min-psnr (40 dB); identical images count as 99 dB. It also
prints each decoder's reconstruction PSNR against IMG (a quality figure, not a parity one).

  python3 tools/gpu/parity.py --impasto build/bin/impasto --models OUT --vgg tools/gpu/inputs/vgg19.npz --image IMG
"""
import argparse
import math
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import impasto_files as files  # noqa: E402
import impasto_nets as nets  # noqa: E402


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2) / 255.0 ** 2
    return 99.0 if mse == 0 else min(99.0, 10 * math.log10(1.0 / mse))


def to_uint8(tensor):
    return tensor[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()


def read_png(path):
    return files.decode_image(Path(path).read_bytes())


def prepare_image(source, size, target):
    """SOURCE at `size` on its long side (area averaging), both sides cut to multiples of 8, as an 8-bit PNG."""
    import impasto_data as data
    x = data.resize_long_side(data.to_float_image(read_png(source), torch.device("cpu")), size)
    h, w = x.shape[2] // 8 * 8, x.shape[3] // 8 * 8
    if not files.encode_png(target, to_uint8(x[:, :, :h, :w])):
        raise SystemExit("no image encoder (Pillow, OpenCV or torchvision) to write the parity input")
    return str(target)


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(map(str, cmd))}\n{result.stderr}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--impasto", required=True, help="the impasto binary")
    p.add_argument("--models", required=True, help="folder with decoders/ and transformer .impasto files")
    p.add_argument("--vgg", required=True, help="vgg19.npz from pack_inputs.py")
    p.add_argument("--image", required=True, help="an 8-bit RGB PNG, both sides multiples of 8 (or any image with "
                                                  "--size)")
    p.add_argument("--size", type=int, default=0, help="first resize IMAGE to this long side, both sides cut to "
                                                      "multiples of 8, and use that PNG")
    p.add_argument("--work", required=True, help="folder for the C++ outputs")
    p.add_argument("--min-psnr", type=float, default=40.0)
    args = p.parse_args()
    torch.set_num_threads(1)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.size > 0:
        args.image = prepare_image(args.image, args.size, work / "input.png")
    image = read_png(args.image)
    x = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).float() / 255.0
    layers, meta = files.load_vgg_pack(args.vgg)
    encoder = nets.VggEncoder(layers, meta["normalization"])
    models = Path(args.models)
    failures = []
    print("| model | C++ vs Python PSNR (dB) | max abs diff (8-bit) | reconstruction PSNR vs input (dB) |")
    print("|---|---:|---:|---:|")
    for path in sorted((models / "decoders").glob("*.impasto")):
        kind, config, _card, tensors = files.read_model(path)
        level = config["level"]
        out = work / f"cpp-{level}.png"
        run([args.impasto, "stylize", args.image, args.image, "--method", "adain", "--alpha", "0", "--levels", level,
             "--precision", "fp32", "--decoders", str(path.parent), "--threads", "1", "-q", "-o", str(out)])
        decoder = nets.VggDecoder(level)
        nets.import_tensors(decoder, tensors)
        with torch.no_grad():
            mine = to_uint8(decoder(encoder(x, [level])[level]).float())
        theirs = read_png(out)
        value = psnr(mine, theirs)
        diff = int(np.abs(mine.astype(int) - theirs.astype(int)).max())
        print(f"| decoder {level} | {value:.1f} | {diff} | {psnr(mine, image):.2f} |")
        if value < args.min_psnr:
            failures.append(f"decoder {level}: {value:.1f} dB")
    for path in sorted(models.glob("*.impasto")):
        kind, config, _card, tensors = files.read_model(path)
        if kind != "transformer":
            continue
        styles = int(config.get("styles", 1))
        net = nets.TransformerNet(config.get("width", 1.0), styles, config.get("residual_blocks", 5))
        nets.import_tensors(net, tensors)
        out = work / f"cpp-{path.stem}.png"
        cmd = [args.impasto, "stylize", args.image, "--model", str(path), "--precision", "fp32", "--threads", "1",
               "-q", "-o", str(out)]
        mix = None
        if styles > 1:
            cmd += ["--style-weights", ",".join(["1"] * styles)]
            mix = torch.full((styles,), 1.0 / styles)
        run(cmd)
        with torch.no_grad():
            mine = to_uint8(net(x, mix).float())
        theirs = read_png(out)
        value = psnr(mine, theirs)
        diff = int(np.abs(mine.astype(int) - theirs.astype(int)).max())
        print(f"| transformer {path.stem} | {value:.1f} | {diff} | |")
        if value < args.min_psnr:
            failures.append(f"transformer {path.stem}: {value:.1f} dB")
    if failures:
        print("parity FAILED (below {:.0f} dB): {}".format(args.min_psnr, "; ".join(failures)))
        return 1
    print(f"parity passed (every model above {args.min_psnr:.0f} dB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
