"""The training loops of tools/gpu/train_gpu.py: the decoder trainer (src/train/train_decoder.cpp) and the
transformer trainer (src/train/train_style.cpp with src/train/perceptual_loss.cpp), with the same losses,
initialisation and learning-rate schedule (src/train/train_common.cpp scheduled_learning_rate), and the model
files and cards they write.
"""
import contextlib
import hashlib
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import impasto_data as data
import impasto_files as files
import impasto_nets as nets

STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
CONTENT_LAYERS = ["relu3_1"]
FINAL_FRACTION = 0.05  # the cosine schedule's last rate, as a fraction (TrainCommonOptions default)
LOG_SECONDS = 15.0


def normalized_content_loss(features, target):
    p = target.float()
    return (features.float() - p).pow(2).sum() / (p.pow(2).sum() + 1e-8)


def batched_gram(features):
    """[N,C,H,W] -> [N,C,C] float32 divided by H*W (outside autocast: the products stay fp32)."""
    f = features.float()
    n, c, h, w = f.shape
    flat = f.permute(0, 2, 3, 1).reshape(n, h * w, c)
    return torch.bmm(flat.transpose(1, 2), flat) / float(h * w)


def total_variation(image):
    x = image.float()
    return (x[:, :, 1:] - x[:, :, :-1]).pow(2).mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).pow(2).mean()


def scheduled_rate(rate, step, steps, progress):
    """Warm-up over min(100, 2 % of the steps), then a cosine to FINAL_FRACTION x rate at progress 1."""
    if steps <= 1:
        return rate
    warmup = min(100.0, math.ceil(0.02 * steps))
    ramp = min(1.0, (step + 1.0) / warmup)
    return rate * ramp * (FINAL_FRACTION + (1 - FINAL_FRACTION) * 0.5 * (1 + math.cos(math.pi * progress)))


def decoder_step_flops(encoder, level, batch, crop):
    """Forward convolution FLOPs x 3 for the encoder (target, forward, backward to the input) and the decoder
    (forward; backward to its input and to its weights)."""
    stride = nets.layer_stride(level)
    decoder = nets.VggDecoder(level)
    side = 64 // stride
    dec = nets.conv_flops(decoder, decoder, torch.zeros(1, decoder.in_channels, side, side)) * (crop / 64) ** 2
    enc = encoder.conv_flops([level], crop, crop)
    return batch * 3 * (enc + dec)


def style_step_flops(encoder, width, batch, crop):
    net = nets.TransformerNet(width)
    fwd = nets.conv_flops(net, net, torch.zeros(1, 3, 64, 64)) * (crop / 64) ** 2
    content = encoder.conv_flops(CONTENT_LAYERS, crop, crop)
    loss_net = encoder.conv_flops(STYLE_LAYERS, crop, crop)
    return batch * (content + 2 * loss_net + 3 * fwd)


class Trainer:
    """Adam over `trainable()`, one `step()` per batch, the schedule over max(step, time) progress."""

    def __init__(self, args, common, batch, crop, lr, color_jitter):
        self.args, self.common = args, common
        self.device, self.dtype, self.encoder = common["device"], common["dtype"], common["encoder"]
        self.batch_size, self.crop, self.lr, self.color_jitter = batch, crop, lr, color_jitter
        self.share = 0.0

    def autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def encode(self, rgb, layers):
        with self.autocast():
            return self.encoder(rgb, layers)

    def batch(self, step):
        return self.common["photos"].batch(step, self.batch_size, self.crop, self.color_jitter)

    def maybe_compile(self, module):
        if self.common["compile"] and hasattr(torch, "compile"):
            return torch.compile(module)
        return module

    def train(self, steps, seconds):
        self.share = seconds
        start = time.monotonic()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self.prepare()
        optimizer = torch.optim.Adam(self.trainable(), lr=self.lr)
        sums, count, last, step = None, 0, {}, 0
        last_log = start
        flops = self.step_flops()
        while step < steps:
            elapsed = time.monotonic() - start
            if step > 0 and elapsed >= seconds:
                break
            progress = max(step / (steps - 1) if steps > 1 else 1.0, elapsed / seconds if seconds > 0 else 1.0)
            rate = scheduled_rate(self.lr, step, steps, min(1.0, progress))
            for group in optimizer.param_groups:
                group["lr"] = rate
            losses = self.step(step, self.batch(step), optimizer)
            keys = sorted(losses)
            stacked = torch.stack([losses[k].detach().float() for k in keys])
            sums = stacked if sums is None else sums + stacked
            count += 1
            step += 1
            now = time.monotonic()
            if step % 10 == 0 or step == steps or now - last_log >= LOG_SECONDS:
                values = (sums / count).tolist()  # waits for the device
                last = dict(zip(keys, values))
                sums, count = None, 0
                if not all(math.isfinite(v) for v in values):
                    raise FloatingPointError(f"training diverged at step {step}: the losses are {last}")
                now = time.monotonic()
                if now - last_log >= LOG_SECONDS or step == steps or step <= 10:
                    elapsed = now - start
                    print(f"  {self.name} step {step}/{steps} {elapsed:.0f}/{seconds:.0f} s lr {rate:.2e} "
                          + " ".join(f"{k} {v:.4g}" for k, v in last.items())
                          + f" | {elapsed / step * 1e3:.1f} ms/step, {flops * step / elapsed / 1e12:.1f} TFLOP/s",
                          flush=True)
                    last_log = now
        if sums is not None:
            values = (sums / count).tolist()
            last = dict(zip(keys, values))
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        wall = time.monotonic() - start
        return {"steps": step, "images_seen": step * self.batch_size, "wall_seconds": wall,
                "ms_per_step": wall / max(1, step) * 1e3, "tflops": flops * step / wall / 1e12 if wall > 0 else 0.0,
                "gflop_per_step": flops / 1e9, "batch": self.batch_size, "crop": self.crop,
                "learning_rate": self.lr, "step_cap": steps, "time_share_seconds": seconds,
                "peak_gpu_memory_gib": (torch.cuda.max_memory_allocated(self.device) / 2**30
                                        if self.device.type == "cuda" else None),
                "final_losses": last}

    def card(self, result, training_options, style_images=(), notes=""):
        c = self.common
        photo_meta = c["photo_meta"]
        options = {"data": [photo_meta["description"]], "steps": result["steps"], "batch": self.batch_size,
                   "crop": self.crop, "learning_rate": self.lr, "schedule": "cosine",
                   "final_learning_rate_fraction": FINAL_FRACTION, "seed": c["seed"], "precision": c["precision"],
                   "checkpoint_every": 0, "color_jitter": self.color_jitter, "init_model": "",
                   "data_license": photo_meta["license"], "trainer": "tools/gpu/train_gpu.py",
                   "step_cap": result["step_cap"], "time_share_seconds": round(result["time_share_seconds"], 1),
                   "schedule_progress": "max(step / step_cap, seconds / time_share)"}
        options.update(training_options)
        stretch = {"first_step": 0, "last_step": result["steps"], "wall_seconds": result["wall_seconds"],
                   "crop": self.crop, "batch": self.batch_size, "learning_rate": self.lr,
                   "hardware": c["hardware"], "finished_utc": files.utc_now_iso()}
        return files.make_card(
            training_data=f"{photo_meta['description']} ({photo_meta['count']} images)",
            data_license=photo_meta["license"], style_images=style_images, iterations=result["steps"],
            images_seen=result["images_seen"], wall_seconds=result["wall_seconds"], hardware=c["hardware"],
            final_losses=result["final_losses"], training_options=options, command=c["command"],
            impasto_version=c["version"], notes=notes, stretches=[stretch])


class DecoderTrainer(Trainer):
    def __init__(self, level, args, common, tail):
        lr = 1e-9 if level == "relu1_1" else args.decoder_lr  # relu1_1: the least-squares start is the model
        super().__init__(args, common, args.decoder_batch, args.decoder_crop, lr, args.color_jitter)
        self.name = self.level = level
        if self.crop % nets.layer_stride(level) != 0:
            stride = nets.layer_stride(level)
            raise ValueError(f"crop {self.crop} is not a multiple of {stride} (the stride of {level})")
        torch.manual_seed(common["seed"])
        self.net = nets.VggDecoder(level)
        self.tail = None
        if tail is not None:
            kind, config, _card, tensors = files.read_model(tail)
            shallower = nets.DECODER_LEVELS[nets.DECODER_LEVELS.index(level) - 1]
            if kind != "decoder" or config.get("level") != shallower:
                raise ValueError(f"the tail '{tail}' is not a {shallower} decoder")
            if config.get("encoder_sha256") != common["vgg_meta"]["sha256"]:
                raise ValueError(f"the tail '{tail}' was trained against other encoder weights")
            tail_net = nets.VggDecoder(shallower)
            nets.import_tensors(tail_net, tensors)
            self.net.load_tail(tail_net)
            self.tail = Path(tail)
        self.net = self.net.to(self.device).to(memory_format=torch.channels_last)
        self.model = self.maybe_compile(self.net)

    def trainable(self):
        return [p for p in self.net.parameters() if p.requires_grad]

    def step_flops(self):
        return decoder_step_flops(self.encoder, self.level, self.batch_size, self.crop)

    def features(self, rgb):
        return self.encode(rgb, [self.level])[self.level]

    def prepare(self):
        # A fresh decoder sees features of order one: 1/RMS of the first batch's features.
        with torch.no_grad():
            rms = self.features(self.batch(0)).float().pow(2).mean().sqrt().item()
            self.net.input_scale.fill_(1.0 / rms if rms > 0 else 1.0)
        if self.level == "relu1_1":
            self.solve_linear(self.args.solve_batches)

    def solve_linear(self, batches, chunk=4):
        """relu1_1's decoder is one 3x3 convolution: the pixel-error optimum over `batches` batches, from the normal
        equations in double (a ridge of 1e-6 of the mean diagonal), as solve_linear_decoder in C++."""
        conv = self.net.conv0
        size = conv.weight[0].numel() + 1
        normal = torch.zeros(size, size, dtype=torch.float64, device=self.device)
        moments = torch.zeros(size, 3, dtype=torch.float64, device=self.device)
        with torch.no_grad():
            for b in range(batches):
                rgb = self.batch(b)
                features = self.features(rgb).float() * self.net.input_scale
                for i in range(0, rgb.shape[0], chunk):
                    padded = F.pad(features[i:i + chunk], (1, 1, 1, 1), mode="reflect").double()
                    patches = F.unfold(padded, 3).transpose(1, 2).reshape(-1, size - 1)
                    ones = torch.ones(patches.shape[0], 1, dtype=patches.dtype, device=self.device)
                    rows = torch.cat([patches, ones], 1)
                    targets = rgb[i:i + chunk].permute(0, 2, 3, 1).reshape(-1, 3).double()
                    normal += rows.t() @ rows
                    moments += rows.t() @ targets
            ridge = 1e-6 * normal.diagonal().mean()
            solution = torch.linalg.solve(normal + ridge * torch.eye(size, dtype=torch.float64, device=self.device),
                                          moments)
            conv.weight.copy_(solution[:-1].t().reshape(conv.weight.shape).float())
            conv.bias.copy_(solution[-1].float())
        self.solved_images = batches * self.batch_size

    def step(self, step, batch, optimizer):
        with torch.no_grad():
            target = self.features(batch)
        with self.autocast():
            decoded = self.model(target)
        decoded = decoded.float()
        pixel = (decoded - batch).pow(2).mean() * self.args.pixel_weight
        feature = normalized_content_loss(self.features(decoded), target) * self.args.feature_weight
        total = pixel + feature
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        return {"pixel": pixel, "feature": feature, "total": total}

    def write(self, path, result):
        meta = self.common["vgg_meta"]
        config = {"level": self.level, "encoder": "vgg19", "encoder_weights": meta["name"],
                  "encoder_sha256": meta["sha256"]}
        options = {"level": self.level, "pixel_weight": self.args.pixel_weight,
                   "feature_weight": self.args.feature_weight,
                   "tail_model": self.tail.name if self.tail is not None else ""}
        notes = ""
        if self.level == "relu1_1":
            notes = (f"least-squares start over {self.solved_images} crops (the model), then "
                     f"{result['steps']} step(s) at a negligible rate")
        files.write_model(path, "decoder", config, self.card(result, options, notes=notes),
                          nets.export_tensors(self.net))

    def write_preview(self, path):
        preview = self.common["preview"]
        with torch.no_grad(), self.autocast():
            decoded = self.net(self.features(preview))
        data.save_preview(path, torch.cat([preview, decoded.float().clamp(0, 1)], 3))


class StyleTrainer(Trainer):
    """One network for `names` (one per style, cycling per step), or styles added to `net` (its rows below
    `first_new` stay as they are; only the norm tables train)."""

    def __init__(self, names, blobs, args, common, net=None, first_new=0, base=None):
        lr = args.add_lr if first_new > 0 else args.style_lr
        super().__init__(args, common, args.style_batch, args.style_crop, lr, 0.0)
        self.name = "+".join(names)
        self.names, self.blobs, self.first_new, self.base = list(names), list(blobs), first_new, base
        if net is None:
            torch.manual_seed(common["seed"])
            net = nets.TransformerNet(args.width, styles=len(names))
        self.net = net.to(self.device)
        self.model = self.maybe_compile(self.net)
        self.kept = []
        if first_new > 0:
            self.net.requires_grad_(False)
            for table in self.net.norm_parameters():
                table.requires_grad_(True)
                self.kept.append(table.detach()[:first_new].clone())
        self.layers = list(dict.fromkeys(CONTENT_LAYERS + STYLE_LAYERS))

    def trainable(self):
        return [p for p in self.net.parameters() if p.requires_grad]

    def step_flops(self):
        return style_step_flops(self.encoder, self.net.width, self.batch_size, self.crop)

    def prepare(self):
        self.targets, self.target_sq = [], []
        with torch.no_grad():
            for blob in self.blobs:
                image = data.to_float_image(files.decode_image(blob), self.device)
                features = self.encode(data.resize_long_side(image, self.args.style_size), STYLE_LAYERS)
                grams = [batched_gram(features[layer]) for layer in STYLE_LAYERS]
                self.targets.append(grams)
                self.target_sq.append([g.pow(2).sum() + 1e-8 for g in grams])

    def mix(self, style):
        """The one-hot style mix, made once per style on the device (no host-to-device copy per step)."""
        if not hasattr(self, "_mixes"):
            self._mixes = list(torch.eye(self.net.styles).to(self.device).unbind(0))
        return self._mixes[style]

    def step(self, step, batch, optimizer):
        style = step % len(self.names)
        with self.autocast():
            output = self.model(batch, self.mix(self.first_new + style))
        output = output.float()
        with torch.no_grad():
            content = self.encode(batch, CONTENT_LAYERS)
        features = self.encode(output, self.layers)
        content_loss = sum(normalized_content_loss(features[l], content[l]) for l in CONTENT_LAYERS)
        content_loss = content_loss * (self.args.content_weight / len(CONTENT_LAYERS))
        style_loss = 0.0
        for i, layer in enumerate(STYLE_LAYERS):
            grams = batched_gram(features[layer])
            diff = (grams - self.targets[style][i]).pow(2).sum()
            style_loss = style_loss + diff / (self.target_sq[style][i] * batch.shape[0]) / len(STYLE_LAYERS)
        style_loss = style_loss * self.args.style_weight
        tv = total_variation(output) * self.args.tv_weight
        total = content_loss + style_loss + tv
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        if self.kept:  # the base model's rows: Adam's moments stay zero for them, so this is a guard
            with torch.no_grad():
                for table, rows in zip(self.net.norm_parameters(), self.kept):
                    table[:self.first_new].copy_(rows)
        return {"content": content_loss, "style": style_loss, "tv": tv, "total": total}

    def write(self, path, result):
        records = [{"name": n, "sha256": s} for n, s in
                   zip(self.names, (hashlib.sha256(b).hexdigest() for b in self.blobs))]
        notes = ""
        all_names = list(self.names)
        if self.base is not None:
            base_path, base_card, base_names = self.base
            old = [dict(r) for r in base_card.get("style_images", [])][:self.first_new]
            while len(old) < self.first_new:
                old.append({"name": base_names[len(old)], "sha256": ""})
            for i, r in enumerate(old):
                r["name"] = r.get("name") or base_names[i]
            records = old + records
            all_names = list(base_names) + all_names
            notes = (f"{len(self.names)} style(s) added to '{Path(base_path).name}' (sha256 "
                     f"{files.sha256_file(base_path)}; trained on {base_card.get('training_data', '')}) by training "
                     f"only their norm parameters; the counts above are of this addition")
        options = {"styles": [f"{n}.jpg" for n in self.names], "width": self.net.width,
                   "style_size": self.args.style_size, "content_layers": CONTENT_LAYERS, "style_layers": STYLE_LAYERS,
                   "style_layer_weights": [], "content_weight": self.args.content_weight,
                   "style_weight": self.args.style_weight, "tv_weight": self.args.tv_weight}
        if self.base is not None:
            options["base_model"] = Path(self.base[0]).name
        files.write_model(path, "transformer", self.net.config(all_names),
                          self.card(result, options, style_images=records, notes=notes),
                          nets.export_tensors(self.net))

    def write_preview(self, path):
        preview = self.common["preview"]
        with torch.no_grad(), self.autocast():
            out = self.net(preview, self.mix(self.net.styles - 1))
        data.save_preview(path, out.float().clamp(0, 1))


def add_style_trainer(base_path, style, style_names, style_blobs, args, common):
    """The Scream (or `style`) added to a trained transformer: only its new norm rows train."""
    kind, config, card, tensors = files.read_model(base_path)
    if kind != "transformer":
        raise ValueError(f"base model '{base_path}' is a {kind} model; styles can only be added to a transformer")
    if style not in style_names:
        raise ValueError(f"no style image '{style}' in the styles pack (has {style_names})")
    net = nets.TransformerNet(config.get("width", 1.0), config.get("styles", 1), config.get("residual_blocks", 5))
    nets.import_tensors(net, tensors)
    base_names = list(config.get("style_names", []))
    records = card.get("style_images", [])
    while len(base_names) < net.styles:
        i = len(base_names)
        base_names.append(records[i]["name"] if i < len(records) and records[i].get("name") else f"style{i}")
    first_new = net.styles
    net.add_styles(1)
    name = style
    n = 2
    while name in base_names:
        name, n = f"{style}_{n}", n + 1
    trainer = StyleTrainer([name], [style_blobs[style_names.index(style)]], args, common, net=net,
                           first_new=first_new, base=(Path(base_path), card, base_names))
    trainer.name = f"+{name}"
    return trainer
