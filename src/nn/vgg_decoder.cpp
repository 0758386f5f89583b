// The VGG19 decoders of Li et al. 2017: the encoder mirrored from one relu layer back to RGB.
#include "nn/vgg_decoder.h"

#include "impasto/error.h"

#include <algorithm>
#include <array>

namespace impasto::nn {
namespace {

// VGG19 blocks: output channels and convolutions per block; block 0 is the RGB image.
constexpr std::array<int, 6> kChannels{3, 64, 128, 256, 512, 512};
constexpr std::array<int, 6> kConvs{0, 2, 2, 4, 4, 4};

int level_block(const std::string& level) {
    const auto& levels = decoder_levels();
    const auto it = std::find(levels.begin(), levels.end(), level);
    if (it == levels.end()) {
        std::string known;
        for (const std::string& name : levels) {
            known += (known.empty() ? "" : ", ") + name;
        }
        throw ConfigError("no decoder architecture for level '" + level + "'; known levels: " + known);
    }
    return static_cast<int>(it - levels.begin()) + 1;
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        text += (i == 0 ? "" : ",") + std::to_string(shape[i]);
    }
    return text + "]";
}

// Reflection padding by 1 px, written as copies: LibTorch 1.13's reflection_pad2d takes a slow
// path on channels-last tensors (1.3 s for 64 channels at 1024x768, against ~0.1 s here). Maps
// narrower than 2 px replicate instead.
torch::Tensor reflect_pad1(const torch::Tensor& x) {
    const std::int64_t h = x.size(2);
    const std::int64_t w = x.size(3);
    torch::Tensor out =
        torch::empty({x.size(0), x.size(1), h + 2, w + 2}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    out.slice(2, 1, h + 1).slice(3, 1, w + 1).copy_(x);
    const std::int64_t top = h > 1 ? 2 : 1;
    const std::int64_t bottom = h > 1 ? h - 1 : h;
    const std::int64_t left = w > 1 ? 2 : 1;
    const std::int64_t right = w > 1 ? w - 1 : w;
    out.slice(2, 0, 1).slice(3, 1, w + 1).copy_(out.slice(2, top, top + 1).slice(3, 1, w + 1));
    out.slice(2, h + 1, h + 2).slice(3, 1, w + 1).copy_(out.slice(2, bottom, bottom + 1).slice(3, 1, w + 1));
    out.slice(3, 0, 1).copy_(out.slice(3, left, left + 1));
    out.slice(3, w + 1, w + 2).copy_(out.slice(3, right, right + 1));
    return out;
}

} // namespace

const std::vector<std::string>& decoder_levels() {
    static const std::vector<std::string> levels{"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
    return levels;
}

VggDecoderImpl::VggDecoderImpl(const std::string& level) : level_(level) {
    const int block = level_block(level);
    // (in, out) of each convolution; every one but the last is followed by a ReLU.
    std::vector<std::pair<int, int>> convs;
    // The inverse of conv<block>_1: from the level's channels to the previous block's.
    convs.emplace_back(kChannels[block], kChannels[block - 1]);
    steps_.push_back(Step::Conv);
    for (int b = block - 1; b >= 1; --b) {
        steps_.push_back(Step::Upsample); // the inverse of pool<b>
        for (int i = 0; i < kConvs[b] - 1; ++i) {
            convs.emplace_back(kChannels[b], kChannels[b]);
            steps_.push_back(Step::Conv);
        }
        convs.emplace_back(kChannels[b], kChannels[b - 1]);
        steps_.push_back(Step::Conv);
    }
    for (std::size_t i = 0; i < convs.size(); ++i) {
        auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(convs[i].first, convs[i].second, 3).padding(0));
        convs_.push_back(register_module("conv" + std::to_string(i), conv));
    }
    input_scale_ = register_parameter("input_scale", torch::ones({1}), /*requires_grad=*/false);
    // oneDNN runs NHWC convolutions faster (see normalize_input in nn/vgg.cpp).
    torch::NoGradGuard no_grad;
    // Start from mid-grey: the output is an image in [0,1].
    convs_.back()->bias.fill_(0.5);
    for (auto& conv : convs_) {
        conv->weight.set_data(conv->weight.contiguous(at::MemoryFormat::ChannelsLast));
    }
}

torch::Tensor VggDecoderImpl::forward(const torch::Tensor& features) {
    const int channels = kChannels[level_block(level_)];
    if (features.dim() != 4 || features.size(1) != channels) {
        throw ConfigError("decoder " + level_ + " expects features [N," + std::to_string(channels) + ",h,w], got " +
                          shape_string(features.sizes().vec()));
    }
    torch::Tensor x = (features * input_scale_.to(features.scalar_type())).contiguous(at::MemoryFormat::ChannelsLast);
    std::size_t conv = 0;
    for (const Step step : steps_) {
        if (step == Step::Upsample) {
            x = torch::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});
            continue;
        }
        x = convs_[conv]->forward(reflect_pad1(x));
        ++conv;
        if (conv < convs_.size()) {
            x = torch::relu(x);
        }
    }
    return x;
}

void VggDecoderImpl::set_input_scale(double scale) {
    const torch::NoGradGuard no_grad;
    input_scale_.fill_(scale);
}

double VggDecoderImpl::input_scale() const {
    return input_scale_.item<double>();
}

TensorMap VggDecoderImpl::export_tensors() {
    TensorMap tensors;
    for (const auto& item : named_parameters()) {
        const torch::Tensor cpu = item.value().detach().to(torch::kCPU, torch::kFloat).contiguous();
        std::vector<float> values(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
        tensors[item.key()] = RawTensor::from_float(cpu.sizes().vec(), values);
    }
    return tensors;
}

void VggDecoderImpl::import_tensors(const TensorMap& tensors) {
    torch::NoGradGuard no_grad;
    auto parameters = named_parameters();
    for (const auto& [name, raw] : tensors) {
        if (!parameters.contains(name)) {
            throw WeightsError("decoder " + level_ + ": unexpected tensor '" + name + "'");
        }
    }
    for (auto& item : parameters) {
        const auto it = tensors.find(item.key());
        if (it == tensors.end()) {
            throw WeightsError("decoder " + level_ + ": tensor '" + item.key() + "' is missing");
        }
        torch::Tensor& parameter = item.value();
        if (it->second.shape != parameter.sizes().vec()) {
            throw WeightsError("decoder " + level_ + ": tensor '" + item.key() + "' has shape " +
                               shape_string(it->second.shape) + ", expected " + shape_string(parameter.sizes().vec()));
        }
        std::vector<float> values;
        try {
            values = it->second.to_float();
        } catch (const Error& error) {
            throw WeightsError("decoder " + level_ + ": tensor '" + item.key() + "': " + error.what());
        }
        const torch::Tensor source = torch::from_blob(values.data(), parameter.sizes(), torch::kFloat);
        parameter.copy_(source.to(parameter.device()));
    }
}

} // namespace impasto::nn
