#!/usr/bin/env python3
"""Trains impasto's committed models on a CUDA machine with PyTorch alone (no impasto build there), within a
time budget, and writes them as `.impasto` files that `impasto stylize --method adain --decoders DIR` and
`--model FILE` load unchanged. The recipe is tools/train_models.sh's, at GPU batch sizes:

  decoders  relu1_1 (one convolution: its least-squares optimum, as `train decoder --level relu1_1`), then
            relu2_1, relu3_1, relu4_1, each starting its last layers from the one before (--tail); loss
            pixel_weight x mean squared error + the normalised feature error at the level; colour jitter 0.5;
            Adam, cosine schedule with warm-up; photos only (BSDS500)
  styles    one transformer net per painting (width 0.5), the normalised perceptual loss of
            src/train/perceptual_loss.cpp (content relu3_1; Gram style relu1_1..relu4_1; TV), then
            starry_scream: The Scream added to starry_night by training only its norm rows

Each model stops at its step count or its share of the time left, whichever comes first; its learning rate
follows the cosine over max(step fraction, time fraction), so a model cut short by time is still annealed.
Every finished model is written at once (and the --tar archive refreshed), so a run killed later keeps it.

  python3 tools/gpu/train_gpu.py --inputs tools/gpu/inputs --out OUT/models --budget 500 --tar OUT/models.tar
  python3 tools/gpu/train_gpu.py --plan            # FLOPs per step and the time plan; nothing runs
"""
import argparse
import json
import os
import re
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import impasto_data as data  # noqa: E402
import impasto_files as files  # noqa: E402
import impasto_nets as nets  # noqa: E402
from train_gpu_loops import (DecoderTrainer, StyleTrainer, add_style_trainer,  # noqa: E402
                             decoder_step_flops, style_step_flops)

DECODERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
STYLES = ["starry_night", "the_scream", "great_wave", "composition_vii"]
ADDED = "starry_scream"  # The Scream added to starry_night
# Share of the budget (relative) and step cap of each model. The caps come from the FLOP model (--plan) at about
# 200 TFLOP/s of bf16 convolution on an H100, so that each finishes near its share; the share guards the rest.
PLAN = {"relu1_1": (0.1, 1), "relu2_1": (0.8, 5000), "relu3_1": (1.5, 6000), "relu4_1": (4.5, 6000),
        "starry_night": (0.7, 3000), "the_scream": (0.7, 3000), "great_wave": (0.7, 3000),
        "composition_vii": (0.7, 3000), ADDED: (0.2, 500)}


def impasto_version():
    try:
        match = re.search(r"project\(impasto VERSION ([0-9.]+)", (REPO / "CMakeLists.txt").read_text())
        return match.group(1) if match else "unknown"
    except OSError:
        return "unknown"


def hardware_description(device, precision, threads):
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)} (PyTorch {torch.__version__}, {precision})"
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu: {model} ({threads} threads, {precision}, PyTorch {torch.__version__})"


class Budget:
    """Shares of the time left: each model gets remaining x its weight / the weights still to come."""

    def __init__(self, seconds, reserve):
        self.start = time.monotonic()
        self.seconds = seconds
        self.reserve = reserve

    def left(self):
        return self.seconds - self.reserve - (time.monotonic() - self.start)

    def share(self, name, still_to_come):
        total = sum(PLAN[n][0] for n in still_to_come)
        return max(0.0, self.left()) * PLAN[name][0] / total if total > 0 else 0.0


def write_tar(out_dir, tar_path):
    if not tar_path:
        return
    tmp = f"{tar_path}.tmp"
    with tarfile.open(tmp, "w") as tar:
        for path in sorted(Path(out_dir).rglob("*")):
            if path.is_file() and not path.name.endswith(".tmp"):
                tar.add(path, arcname=str(path.relative_to(out_dir)))
    os.replace(tmp, tar_path)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--inputs", default=str(HERE / "inputs"), help="folder made by pack_inputs.py")
    p.add_argument("--out", default="gpu-models", help="output folder (decoders/ and the style models)")
    p.add_argument("--tar", default="", help="archive of --out, refreshed after every model")
    p.add_argument("--models", nargs="+", default=DECODERS + STYLES + [ADDED],
                   help="which models, in this order; decoders need the shallower one (trained here or in --tail-dir)")
    p.add_argument("--tail-dir", default=str(REPO / "models" / "decoders"),
                   help="shallower decoders (--tail) for levels whose shallower decoder is not trained in this run")
    p.add_argument("--base", default="", help="the model starry_scream adds to [OUT/starry_night.impasto, else "
                                              "models/starry_night.impasto]")
    p.add_argument("--budget", type=float, default=500, help="seconds for the whole script, start to end")
    p.add_argument("--reserve", type=float, default=10, help="seconds of the budget kept for the last writes")
    p.add_argument("--steps", type=int, default=0, help="step cap of every model (0 = the plan's)")
    p.add_argument("--device", default="auto", help="auto, cuda, cuda:N or cpu")
    p.add_argument("--precision", default="auto", help="auto (bf16 on CUDA, fp32 on CPU), bf16 or fp32")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 = its default)")
    p.add_argument("--decoder-batch", type=int, default=32)
    p.add_argument("--decoder-crop", type=int, default=256)
    p.add_argument("--decoder-lr", type=float, default=1e-3)
    p.add_argument("--pixel-weight", type=float, default=10.0)
    p.add_argument("--feature-weight", type=float, default=1.0)
    p.add_argument("--color-jitter", type=float, default=0.5, help="decoders' colour jitter probability")
    p.add_argument("--solve-batches", type=int, default=16, help="batches for relu1_1's least-squares start")
    p.add_argument("--style-batch", type=int, default=16)
    p.add_argument("--style-crop", type=int, default=256)
    p.add_argument("--style-size", type=int, default=256)
    p.add_argument("--style-lr", type=float, default=1e-3)
    p.add_argument("--add-lr", type=float, default=1e-2, help="learning rate of the added style's norm rows")
    p.add_argument("--width", type=float, default=0.5)
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--style-weight", type=float, default=5.0)
    p.add_argument("--tv-weight", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preview-size", type=int, default=384, help="long side of the preview photo (0 = none)")
    p.add_argument("--compile", action="store_true", help="torch.compile the trained networks (PyTorch 2.x)")
    p.add_argument("--preflight", action="store_true",
                   help="2 steps of every model at crop 64, batch 2, nothing written: checks the whole path fast")
    p.add_argument("--plan", action="store_true", help="print FLOPs per step and the time plan, then exit")
    p.add_argument("--assumed-tflops", type=float, default=200.0, help="for --plan: effective TFLOP/s")
    return p.parse_args(argv)


def resolve_device(text):
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(text)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {text}: CUDA is not available to this PyTorch ({torch.__version__})")
    return device


def print_plan(args, encoder, models):
    budget = args.budget - args.reserve - 30  # about 30 s go to start-up, decoding and cuDNN's tuning
    weights = sum(PLAN[m][0] for m in models)
    print(f"plan at {args.assumed_tflops:.0f} TFLOP/s effective, {budget:.0f} s of training:")
    print("| model | batch x crop | GFLOP/step | est. ms/step | share s | est. steps in share | step cap |")
    print("|---|---|---:|---:|---:|---:|---:|")
    total = 0.0
    for m in models:
        if m in DECODERS:
            flops, shape = decoder_step_flops(encoder, m, args.decoder_batch, args.decoder_crop), \
                f"{args.decoder_batch} x {args.decoder_crop}"
        else:
            flops, shape = style_step_flops(encoder, args.width, args.style_batch, args.style_crop), \
                f"{args.style_batch} x {args.style_crop}"
        ms = flops / (args.assumed_tflops * 1e12) * 1e3
        share = budget * PLAN[m][0] / weights
        cap = args.steps or PLAN[m][1]
        total += min(share, cap * ms / 1e3)
        print(f"| {m} | {shape} | {flops / 1e9:.0f} | {ms:.1f} | {share:.0f} | {int(share / ms * 1e3)} | {cap} |")
    print(f"estimated training time {total:.0f} s of {budget:.0f} s")


def main(argv=None):
    args = parse_args(argv)
    budget = Budget(args.budget, args.reserve)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    precision = args.precision if args.precision != "auto" else ("bf16" if device.type == "cuda" else "fp32")
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[precision]
    inputs = Path(args.inputs)
    layers, vgg_meta = files.load_vgg_pack(inputs / "vgg19.npz")
    encoder = nets.VggEncoder(layers, vgg_meta["normalization"]).to(device)
    unknown = [m for m in args.models if m not in PLAN]
    if unknown:
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(PLAN)}")
    if args.plan:
        print_plan(args, encoder, args.models)
        return 0
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        probe = torch.zeros(2, 8, 6, 6, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
        keeps = F.pad(probe, (1, 1, 1, 1), mode="reflect").is_contiguous(memory_format=torch.channels_last)
        print(f"reflection padding keeps channels_last on this device: {keeps}", flush=True)
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
          + f", precision {precision}, image decoder {files.image_decoder_name()}", flush=True)

    photo_names, photo_blobs, photo_meta = files.load_file_pack(inputs / "photos.npz")
    style_names, style_blobs, style_meta = files.load_file_pack(inputs / "styles.npz")
    t = time.monotonic()
    photos = data.Photos(photo_blobs, device, seed=args.seed, threads=min(16, os.cpu_count() or 1))
    print(f"decoded {len(photos)} photos ({photo_meta['description']}) in {time.monotonic() - t:.1f} s", flush=True)
    preview = data.first_photo(photo_blobs, args.preview_size, device) if args.preview_size > 0 else None

    out = Path(args.out)
    if not args.preflight:
        (out / "decoders").mkdir(parents=True, exist_ok=True)
    common = {
        "device": device, "dtype": dtype, "precision": precision, "encoder": encoder, "vgg_meta": vgg_meta,
        "photos": photos, "photo_meta": photo_meta, "seed": args.seed, "compile": args.compile,
        "hardware": hardware_description(device, precision, torch.get_num_threads()),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "version": impasto_version(), "preview": preview,
    }
    if args.preflight:
        args.decoder_batch = args.style_batch = 2
        args.decoder_crop = args.style_crop = args.style_size = 64
        args.steps, args.solve_batches = 2, 1
    summary = {"hardware": common["hardware"], "budget_seconds": args.budget, "models": {}}
    trained_decoders = {}
    for i, name in enumerate(args.models):
        share = 1e9 if args.preflight else max(2.0, budget.share(name, args.models[i:]))
        steps = args.steps or PLAN[name][1]
        if not args.preflight and budget.left() < 2.0:
            print(f"{name}: skipped, the budget is spent", flush=True)
            summary["models"][name] = {"skipped": "budget spent"}
            continue
        t = time.monotonic()
        try:
            if name in DECODERS:
                tail = None
                if name != "relu1_1":
                    shallower = DECODERS[DECODERS.index(name) - 1]
                    tail = trained_decoders.get(shallower) or Path(args.tail_dir) / f"vgg19-{shallower}.impasto"
                trainer = DecoderTrainer(name, args, common, tail)
                target = out / "decoders" / f"vgg19-{name}.impasto"
            elif name == ADDED:
                base = Path(args.base) if args.base else out / "starry_night.impasto"
                if not base.is_file():
                    base = REPO / "models" / "starry_night.impasto"
                trainer = add_style_trainer(base, "the_scream", style_names, style_blobs, args, common)
                target = out / f"{ADDED}.impasto"
            else:
                if name not in style_names:
                    raise ValueError(f"no style image '{name}' in {inputs / 'styles.npz'} (has {style_names})")
                k = style_names.index(name)
                trainer = StyleTrainer([name], [style_blobs[k]], args, common)
                target = out / f"{name}.impasto"
            result = trainer.train(steps, share)
            if args.preflight:
                print(f"preflight {name}: {result['steps']} steps, losses {result['final_losses']}, "
                      f"{time.monotonic() - t:.1f} s", flush=True)
                continue
            trainer.write(target, result)
            if name in DECODERS:
                trained_decoders[name] = target
            if preview is not None:
                (out / "previews").mkdir(exist_ok=True)
                trainer.write_preview(out / "previews" / f"{name}")
            summary["models"][name] = {k: v for k, v in result.items() if k != "final_losses"}
            summary["models"][name]["final_losses"] = result["final_losses"]
            summary["models"][name]["file"] = str(target.relative_to(out))
            print(f"wrote {target} ({result['steps']} steps, {result['wall_seconds']:.0f} s, "
                  f"{result['ms_per_step']:.1f} ms/step, {result['tflops']:.0f} TFLOP/s)", flush=True)
        except Exception as error:  # noqa: BLE001 - one model failing must not lose the others
            if args.preflight:
                raise
            print(f"{name}: FAILED: {type(error).__name__}: {error}", flush=True)
            summary["models"][name] = {"failed": f"{type(error).__name__}: {error}"}
        finally:
            if device.type == "cuda":
                torch.cuda.empty_cache()
        summary["elapsed_seconds"] = time.monotonic() - budget.start
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        write_tar(out, args.tar)
    if args.preflight:
        print(f"preflight passed in {time.monotonic() - budget.start:.1f} s", flush=True)
        return 0
    failed = [n for n, s in summary["models"].items() if "failed" in s]
    written = [n for n, s in summary["models"].items() if "file" in s]
    print(f"done in {time.monotonic() - budget.start:.0f} s; {len(written)} of {len(args.models)} models written"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
