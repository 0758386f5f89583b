"""Training crops on the device, as src/train/image_folder_dataset.cpp makes them on the CPU.

Every photo is decoded once and kept as uint8 on the device (BSDS500: 500 x 481 x 321 x 3 = 0.23 GB). Sample
`index` = step * batch + b takes the photo at that place of an epoch-wise shuffle, rescales it so that its short
side is U[crop, 1.5 crop] (area averaging when shrinking, bicubic when growing, as impasto's resize_image),
takes a random crop and a random horizontal flip, and with probability `color_jitter` permutes its channels and
scales its saturation by 2^U(-1,1) around the Rec. 601 luma. The choices depend only on (seed, index), so a run is
repeatable; they are not the C++ generator's numbers (SplitMix64 there, Python's Mersenne Twister here).
"""
import math
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

import impasto_files as files

_LUMA = (0.299, 0.587, 0.114)
_ORDERS = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]


def decode_all(blobs, threads=16):
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(files.decode_image, blobs))


def resize(image, height, width):
    """[N,3,h,w] float -> [N,3,height,width]: area averaging when shrinking, bicubic (clamped) when growing."""
    if (height, width) == tuple(image.shape[2:]):
        return image
    if height <= image.shape[2] and width <= image.shape[3]:
        return F.interpolate(image, size=(height, width), mode="area")
    return F.interpolate(image, size=(height, width), mode="bicubic", align_corners=False).clamp_(0, 1)


def resize_long_side(image, long_side):
    h, w = image.shape[2], image.shape[3]
    scale = long_side / max(h, w)
    return resize(image, max(1, int(math.floor(h * scale + 0.5))), max(1, int(math.floor(w * scale + 0.5))))


def to_float_image(rgb_uint8, device):
    """uint8 [H,W,3] numpy -> float [1,3,H,W] in [0,1] on `device`."""
    return torch.from_numpy(rgb_uint8).to(device).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


class Photos:
    """The training photos on `device`, and the crops of any step."""

    def __init__(self, blobs, device, seed=0, threads=16):
        decoded = decode_all(blobs, threads)
        self.device = device
        self.images = [torch.from_numpy(a).to(device).permute(2, 0, 1).contiguous() for a in decoded]
        self.seed = seed
        self._orders = {}

    def __len__(self):
        return len(self.images)

    def file_index(self, index):
        n = len(self.images)
        epoch = index // n
        if epoch not in self._orders:
            order = list(range(n))
            random.Random(self.seed * 1_000_003 + 7919 * epoch + 1).shuffle(order)
            if len(self._orders) >= 2:
                self._orders.pop(min(self._orders))
            self._orders[epoch] = order
        return self._orders[epoch][index % n]

    def sample(self, index, crop):
        """One crop [3,crop,crop] float in [0,1] and its colour choice (None or (order, saturation))."""
        image = self.images[self.file_index(index)]
        rng = random.Random((self.seed * 1_000_003 + index) * 2 + 1)
        h, w = image.shape[1], image.shape[2]
        short_side = crop * (1.0 + 0.5 * rng.random())
        scale = short_side / min(h, w)
        height = max(crop, int(math.floor(h * scale + 0.5)))
        width = max(crop, int(math.floor(w * scale + 0.5)))
        y0 = rng.randrange(height - crop + 1)
        x0 = rng.randrange(width - crop + 1)
        flip = rng.random() < 0.5
        resized = resize(image.unsqueeze(0).float().div_(255.0), height, width)[0]
        out = resized[:, y0:y0 + crop, x0:x0 + crop]
        return out.flip(2) if flip else out

    def colour_choices(self, index, color_jitter):
        rng = random.Random((self.seed * 1_000_003 + index) * 2 + 2)
        if color_jitter <= 0 or rng.random() >= color_jitter:
            return None
        return _ORDERS[rng.randrange(6)], 2.0 ** (2.0 * rng.random() - 1.0)

    def batch(self, step, batch, crop, color_jitter=0.0):
        """The crops of 0-based `step`: [batch,3,crop,crop] float on the device."""
        first = step * batch
        crops = torch.stack([self.sample(first + b, crop) for b in range(batch)])
        choices = [self.colour_choices(first + b, color_jitter) for b in range(batch)]
        if any(c is not None for c in choices):
            crops = jitter_colours(crops, choices)
        return crops


def to_device(tensor, device):
    """A small CPU tensor to `device` without waiting for the device's queue (pinned memory, non-blocking copy):
    a plain copy from pageable memory would synchronise every step and serialise the host with the GPU."""
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def jitter_colours(crops, choices):
    """Channels permuted, saturation scaled around the luma, clamped to [0,1]; samples with no choice unchanged."""
    device = crops.device
    order = to_device(torch.tensor([c[0] if c else (0, 1, 2) for c in choices]), device)
    saturation = to_device(torch.tensor([c[1] if c else 1.0 for c in choices], dtype=crops.dtype), device)
    chosen = to_device(torch.tensor([c is not None for c in choices]), device)
    luma_weights = to_device(torch.tensor(_LUMA, dtype=crops.dtype), device)
    permuted = torch.gather(crops, 1, order.view(-1, 3, 1, 1).expand_as(crops))
    luma = (permuted * luma_weights.view(1, 3, 1, 1)).sum(1, keepdim=True)
    jittered = (luma + saturation.view(-1, 1, 1, 1) * (permuted - luma)).clamp_(0, 1)
    return torch.where(chosen.view(-1, 1, 1, 1), jittered, crops)


def first_photo(blobs, long_side, device, stride=16):
    """The first photo at `long_side`, both sides a multiple of `stride` (for previews)."""
    image = resize_long_side(to_float_image(files.decode_image(blobs[0]), device), long_side)
    h, w = image.shape[2] // stride * stride, image.shape[3] // stride * stride
    return image[:, :, :h, :w].contiguous()


def save_preview(stem, tensor):
    """[1,3,H,W] in [0,1] -> STEM.jpg (Pillow: small, so that the archive stays under the device tool's 16 MiB a
    file) or STEM.png; returns False without an encoder."""
    array = np.ascontiguousarray(tensor[0].detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
                                 .cpu().numpy())
    if files.image_decoder_name() == "pillow":
        from PIL import Image
        Image.fromarray(array).save(f"{stem}.jpg", quality=90)
        return True
    return files.encode_png(f"{stem}.png", array)
