"""impasto's networks in PyTorch, parameter for parameter as the C++ ones (src/nn/), for tools/gpu/train_gpu.py.

- VggEncoder: VGG19 (nn/vgg.cpp): 3x3 convolutions with zero padding 1, ReLU, 2x2 max pooling; input RGB in
  [0,1] turned into what the weights expect (caffe-bgr-255: channels reversed, x 255, minus the BGR means).
- VggDecoder (nn/vgg_decoder.cpp): the encoder mirrored from one relu level back to RGB; reflection padding 1,
  nearest x2 where the encoder pools, ReLU after every convolution but the last; features x input_scale first.
  Tensors "conv0.weight" ... "convK.bias", "input_scale".
- TransformerNet (nn/transformer_net.cpp, nn/feedforward_layers.cpp): Johnson et al. with conditional instance
  norm, reflection padding, upsample-then-convolve; channels 32/64/128 x width. Tensors "conv1.weight",
  "norm1.gamma", "res1.conv1.weight", ..., "conv_out.bias".
Works with PyTorch 1.13 and 2.x.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DECODER_LEVELS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
_CHANNELS = [3, 64, 128, 256, 512, 512]
_BLOCK_CONVS = [0, 2, 2, 4, 4, 4]
_CAFFE_BGR_MEANS = (103.939, 116.779, 123.68)


def vgg19_layer_names():
    names = []
    for block in range(1, 6):
        for conv in range(1, _BLOCK_CONVS[block] + 1):
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
        names.append(f"pool{block}")
    return names


def layer_stride(name):
    """relu1_1 -> 1, relu2_1 -> 2, ... (the stride of a layer's feature map)."""
    return 1 << (int(name[len(name.rstrip("0123456789_")):].split("_")[0]) - 1)


class VggEncoder(nn.Module):
    """Frozen VGG19 up to the deepest packed convolution; `forward(rgb, layers)` -> {layer: features}."""

    def __init__(self, layers, normalization="caffe-bgr-255"):
        super().__init__()
        self.names = [n for n in vgg19_layer_names()]
        self.conv_names = [n for n in self.names if n.startswith("conv") and n in layers]
        for i, name in enumerate(self.conv_names):
            weight, bias = layers[name]
            self.register_buffer(f"w{i}", torch.as_tensor(weight).float())
            self.register_buffer(f"b{i}", torch.as_tensor(bias).float())
        if normalization == "caffe-bgr-255":
            self.bgr = True
            scale = torch.full((1, 3, 1, 1), 255.0)
            shift = -torch.tensor(_CAFFE_BGR_MEANS).view(1, 3, 1, 1)
        elif normalization == "imagenet":
            self.bgr = False
            std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            scale, shift = 1.0 / std, -torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) / std
        else:
            raise ValueError(f"input normalisation '{normalization}' is not supported here")
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)
        self.requires_grad_(False)

    def deepest_available(self):
        return len(self.conv_names)

    def forward(self, rgb, layers):
        wanted = set(layers)
        deepest = max(self.names.index(n) for n in layers)
        x = rgb.flip(1) if self.bgr else rgb
        x = (x * self.scale + self.shift).contiguous(memory_format=torch.channels_last)
        out = {}
        conv = 0
        for name in self.names[:deepest + 1]:
            if name.startswith("conv"):
                if conv >= len(self.conv_names):
                    raise ValueError(f"layer {name} is deeper than the packed VGG19 convolutions")
                x = F.conv2d(x, getattr(self, f"w{conv}"), getattr(self, f"b{conv}"), padding=1)
                conv += 1
            elif name.startswith("relu"):
                x = F.relu(x)
            else:
                x = F.max_pool2d(x, 2, 2)
            if name in wanted:
                out[name] = x
        return out

    def conv_flops(self, layers, height, width):
        """Forward FLOPs (1 multiply-add = 2) of the convolutions up to the deepest of `layers`."""
        deepest = max(self.names.index(n) for n in layers)
        flops, h, w, conv = 0, height, width, 0
        for name in self.names[:deepest + 1]:
            if name.startswith("conv"):
                weight = getattr(self, f"w{conv}")
                flops += 2 * weight.numel() * h * w
                conv += 1
            elif name.startswith("pool"):
                h, w = h // 2, w // 2
        return flops


def _reflect_pad(x, left, right, top, bottom):
    """Reflection, or replication where the map is too small to reflect (as nn::pad_edges)."""
    if left == right == top == bottom == 0:
        return x
    if x.shape[2] > max(top, bottom) and x.shape[3] > max(left, right):
        return F.pad(x, (left, right, top, bottom), mode="reflect")
    return F.pad(x.float(), (left, right, top, bottom), mode="replicate").to(x.dtype)


def _upsample2(x):
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


class VggDecoder(nn.Module):
    def __init__(self, level):
        super().__init__()
        if level not in DECODER_LEVELS:
            raise ValueError(f"no decoder architecture for level '{level}'; known: {', '.join(DECODER_LEVELS)}")
        self.level = level
        block = DECODER_LEVELS.index(level) + 1
        self.in_channels = _CHANNELS[block]
        pairs = [(_CHANNELS[block], _CHANNELS[block - 1])]
        self.steps = ["conv"]
        for b in range(block - 1, 0, -1):
            self.steps.append("up")
            for _ in range(_BLOCK_CONVS[b] - 1):
                pairs.append((_CHANNELS[b], _CHANNELS[b]))
                self.steps.append("conv")
            pairs.append((_CHANNELS[b], _CHANNELS[b - 1]))
            self.steps.append("conv")
        self.count = len(pairs)
        for i, (cin, cout) in enumerate(pairs):
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, 3, padding=0))
        self.input_scale = nn.Parameter(torch.ones(1), requires_grad=False)
        with torch.no_grad():
            self.convs()[-1].bias.fill_(0.5)  # start from mid-grey

    def convs(self):
        return [getattr(self, f"conv{i}") for i in range(self.count)]

    def forward(self, features):
        if features.dim() != 4 or features.shape[1] != self.in_channels:
            raise ValueError(f"decoder {self.level} expects [N,{self.in_channels},h,w], got {list(features.shape)}")
        x = features * self.input_scale.to(features.dtype)
        convs = self.convs()
        conv = 0
        for step in self.steps:
            if step == "up":
                x = _upsample2(x)
                continue
            x = convs[conv](_reflect_pad(x, 1, 1, 1, 1))
            conv += 1
            if conv < len(convs):
                x = F.relu(x)
        return x

    def load_tail(self, tail):
        """Starts the layers after the first block from a shallower decoder's (its input scale folded into its first
        convolution), as load_tail in src/train/train_decoder.cpp."""
        if layer_stride(tail.level) * 2 != layer_stride(self.level):
            raise ValueError(f"the tail of a {self.level} decoder is the decoder one block shallower, not {tail.level}")
        offset = self.count - tail.count
        with torch.no_grad():
            for i, conv in enumerate(tail.convs()):
                scale = float(tail.input_scale) if i == 0 else 1.0
                self.convs()[offset + i].weight.copy_(conv.weight * scale)
                self.convs()[offset + i].bias.copy_(conv.bias)


def _scaled_channels(base, width):
    value = base * width
    return max(4, int(math.floor(value + 0.5)))  # std::lround for positive values


class CondInstanceNorm(nn.Module):
    def __init__(self, channels, styles):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(styles, channels))
        self.beta = nn.Parameter(torch.zeros(styles, channels))

    def forward(self, x, mix):
        n, c, h, w = x.shape
        if mix is None:
            g, b = self.gamma[:1], self.beta[:1]
        else:  # a multiply and sum, not a matmul, as in C++ (autocast would run a matmul in bf16)
            g = (mix.unsqueeze(2) * self.gamma.unsqueeze(0)).sum(1)
            b = (mix.unsqueeze(2) * self.beta.unsqueeze(0)).sum(1)
        g = g.expand(n, c).reshape(n * c).to(x.dtype)
        b = b.expand(n, c).reshape(n * c).to(x.dtype)
        out = F.batch_norm(x.reshape(1, n * c, h, w), None, None, g, b, True, 0.0, 1e-5)
        return out.view(n, c, h, w)


class _Residual(nn.Module):
    def __init__(self, channels, styles):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, bias=False)
        self.norm1 = CondInstanceNorm(channels, styles)
        self.conv2 = nn.Conv2d(channels, channels, 3, bias=False)
        self.norm2 = CondInstanceNorm(channels, styles)

    def forward(self, x, mix):
        y = F.relu(self.norm1(self.conv1(_reflect_pad(x, 1, 1, 1, 1)), mix))
        y = self.norm2(self.conv2(_reflect_pad(y, 1, 1, 1, 1)), mix)
        return y + x


class TransformerNet(nn.Module):
    def __init__(self, width=0.5, styles=1, residual_blocks=5):
        super().__init__()
        self.width, self.styles, self.residual_blocks = width, styles, residual_blocks
        c1, c2, c3 = (_scaled_channels(b, width) for b in (32, 64, 128))
        self.conv1 = nn.Conv2d(3, c1, 9, bias=False)
        self.norm1 = CondInstanceNorm(c1, styles)
        self.conv2 = nn.Conv2d(c1, c2, 3, stride=2, bias=False)
        self.norm2 = CondInstanceNorm(c2, styles)
        self.conv3 = nn.Conv2d(c2, c3, 3, stride=2, bias=False)
        self.norm3 = CondInstanceNorm(c3, styles)
        for i in range(residual_blocks):
            setattr(self, f"res{i + 1}", _Residual(c3, styles))
        self.conv4 = nn.Conv2d(c3, c2, 3, bias=False)
        self.norm4 = CondInstanceNorm(c2, styles)
        self.conv5 = nn.Conv2d(c2, c1, 3, bias=False)
        self.norm5 = CondInstanceNorm(c1, styles)
        self.conv_out = nn.Conv2d(c1, 3, 9, bias=True)
        with torch.no_grad():  # linear head from mid-grey, as in C++
            self.conv_out.weight.mul_(0.1)
            self.conv_out.bias.fill_(0.5)

    def residuals(self):
        return [getattr(self, f"res{i + 1}") for i in range(self.residual_blocks)]

    def norms(self):
        out = [self.norm1, self.norm2, self.norm3]
        for block in self.residuals():
            out += [block.norm1, block.norm2]
        return out + [self.norm4, self.norm5]

    def norm_parameters(self):
        return [p for norm in self.norms() for p in (norm.gamma, norm.beta)]

    def add_styles(self, count):
        """Appends `count` rows to every norm table, each the mean of the existing rows (new Parameter objects)."""
        with torch.no_grad():
            for norm in self.norms():
                for name in ("gamma", "beta"):
                    table = getattr(norm, name)
                    rows = table.mean(0, keepdim=True).expand(count, table.shape[1])
                    setattr(norm, name, nn.Parameter(torch.cat([table, rows], 0)))
        self.styles += count

    def config(self, style_names):
        return {"width": self.width, "styles": self.styles, "residual_blocks": self.residual_blocks,
                "style_names": list(style_names)}

    def forward(self, rgb, mix=None):
        if mix is not None and mix.dim() == 1:
            mix = mix.unsqueeze(0)
        if mix is not None:
            mix = mix.to(self.norm1.gamma.dtype)
        height, width = rgb.shape[2], rgb.shape[3]
        pad_h, pad_w = (4 - height % 4) % 4, (4 - width % 4) % 4
        x = _reflect_pad(rgb, 0, pad_w, 0, pad_h)
        x = F.relu(self.norm1(self.conv1(_reflect_pad(x, 4, 4, 4, 4)), mix))
        x = F.relu(self.norm2(self.conv2(_reflect_pad(x, 1, 1, 1, 1)), mix))
        x = F.relu(self.norm3(self.conv3(_reflect_pad(x, 1, 1, 1, 1)), mix))
        for block in self.residuals():
            x = block(x, mix)
        x = F.relu(self.norm4(self.conv4(_reflect_pad(_upsample2(x), 1, 1, 1, 1)), mix))
        x = F.relu(self.norm5(self.conv5(_reflect_pad(_upsample2(x), 1, 1, 1, 1)), mix))
        x = self.conv_out(_reflect_pad(x, 4, 4, 4, 4))
        return x[:, :, :height, :width]


def export_tensors(module):
    """Every parameter (the decoder's input_scale included) as float32 numpy, by its impasto name."""
    return {name: p.detach().float().cpu().numpy() for name, p in module.named_parameters()}


def import_tensors(module, tensors):
    """Every parameter must be there with its shape; extra names are refused too (as the C++ importers)."""
    params = dict(module.named_parameters())
    extra = sorted(set(tensors) - set(params))
    if extra:
        raise ValueError(f"unexpected tensor(s): {', '.join(extra)}")
    with torch.no_grad():
        for name, p in params.items():
            if name not in tensors:
                raise ValueError(f"tensor '{name}' is missing")
            value = torch.as_tensor(tensors[name]).float()
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"tensor '{name}' has shape {list(value.shape)}, expected {list(p.shape)}")
            p.copy_(value.to(p.device))


def conv_flops(module, run, *inputs):
    """Forward FLOPs of the nn.Conv2d layers of `module` for one call of run(*inputs) (hooks count them)."""
    total = [0]

    def hook(conv, _args, output):
        k = conv.kernel_size[0] * conv.kernel_size[1]
        total[0] += 2 * conv.in_channels // conv.groups * conv.out_channels * k * output.shape[2] * output.shape[3] \
            * output.shape[0]

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            run(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total[0]
