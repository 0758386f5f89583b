// The Johnson et al. transformer network with conditional instance norm (see transformer_net.h).
#include "nn/transformer_net.h"

#include "impasto/error.h"
#include "io/bounded_json.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <nlohmann/json.hpp>

namespace impasto::nn {
namespace {

constexpr double kNormEpsilon = 1e-5;

int scaled_channels(int base, double width) {
    return std::max(4, static_cast<int>(std::lround(base * width)));
}

// Reflection padding by copies into one buffer: ATen 1.13's reflection_pad2d has no bf16 kernel (so
// autocast round-trips every pad through float) and no channels_last one; this keeps both, and ran
// several times faster on a 16-channel 1024x683 map.
torch::Tensor reflect_pad(const torch::Tensor& x, std::int64_t left, std::int64_t right, std::int64_t top,
                          std::int64_t bottom) {
    const std::int64_t h = x.size(2);
    const std::int64_t w = x.size(3);
    // Not suggest_memory_format(): the norms hand back [1,C,H,W] views whose batch stride is not
    // C*H*W, which it reports as contiguous, silently dropping the rest of the net to NCHW.
    const auto layout =
        x.is_contiguous(at::MemoryFormat::ChannelsLast) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    torch::Tensor out = torch::empty({x.size(0), x.size(1), h + top + bottom, w + left + right}, x.options(), layout);
    out.narrow(2, top, h).narrow(3, left, w).copy_(x);
    torch::Tensor rows = out.narrow(2, top, h);
    if (left > 0) {
        rows.narrow(3, 0, left).copy_(x.narrow(3, 1, left).flip(3));
    }
    if (right > 0) {
        rows.narrow(3, left + w, right).copy_(x.narrow(3, w - 1 - right, right).flip(3));
    }
    if (top > 0) { // whole padded rows, corners included
        out.narrow(2, 0, top).copy_(out.narrow(2, top + 1, top).flip(2));
    }
    if (bottom > 0) {
        out.narrow(2, top + h, bottom).copy_(out.narrow(2, top + h - 1 - bottom, bottom).flip(2));
    }
    return out;
}

// Reflection needs pad < side; tiny inputs (and deep layers of them) get replicate padding instead.
torch::Tensor pad_edges(const torch::Tensor& x, std::int64_t left, std::int64_t right, std::int64_t top,
                        std::int64_t bottom) {
    if (x.size(2) > std::max(top, bottom) && x.size(3) > std::max(left, right)) {
        return reflect_pad(x, left, right, top, bottom);
    }
    return torch::replication_pad2d(x.to(torch::kFloat), {left, right, top, bottom}).to(x.scalar_type());
}

// Nearest-neighbour x2 as a broadcast copy; keeps bf16 and channels_last (ATen's kernel keeps neither).
torch::Tensor upsample2(const torch::Tensor& x) {
    const std::int64_t n = x.size(0);
    const std::int64_t c = x.size(1);
    const std::int64_t h = x.size(2);
    const std::int64_t w = x.size(3);
    if (x.is_contiguous(at::MemoryFormat::ChannelsLast)) {
        return x.permute({0, 2, 3, 1})
            .unsqueeze(2)
            .unsqueeze(4)
            .expand({n, h, 2, w, 2, c})
            .reshape({n, 2 * h, 2 * w, c})
            .permute({0, 3, 1, 2});
    }
    return x.unsqueeze(3).unsqueeze(5).expand({n, c, h, 2, w, 2}).reshape({n, c, 2 * h, 2 * w});
}

// The same padding on all sides; deep layers of tiny inputs fall back to replicate too.
torch::Tensor pad_same(const torch::Tensor& x, int pad) {
    if (pad == 0) {
        return x;
    }
    return pad_edges(x, pad, pad, pad, pad);
}

torch::Tensor relu_inplace(torch::Tensor x) {
    return x.relu_();
}

// mix [N,S] @ table [S,C] -> [N,C], as a multiply and sum: autocast would run a matmul in bf16.
torch::Tensor mix_rows(const torch::Tensor& table, const torch::Tensor& mix) {
    if (!mix.defined()) {
        return table.narrow(0, 0, 1);
    }
    return (mix.unsqueeze(2) * table.unsqueeze(0)).sum(1);
}

// Conditional instance norm: per-channel statistics over H x W, then the style's (gamma, beta).
// The statistics can be captured from one pass and reused, so tiles share the whole image's.
class CondInstanceNormImpl : public torch::nn::Module {
  public:
    CondInstanceNormImpl(int channels, int styles) {
        gamma = register_parameter("gamma", torch::ones({styles, channels}));
        beta = register_parameter("beta", torch::zeros({styles, channels}));
    }

    // The sample's channels become batch-norm channels ([N,C,H,W] as [1,N*C,H,W]): ATen's batch norm
    // computes the statistics and applies them in two vectorised passes, where var_mean plus a
    // multiply-add took five times as long on this CPU.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mix, NormStatistics mode) {
        const std::int64_t n = x.size(0);
        const std::int64_t c = x.size(1);
        const torch::Tensor flat = x.reshape({1, n * c, x.size(2), x.size(3)});
        const torch::Tensor g = mix_rows(gamma, mix).expand({n, c}).reshape({n * c}).to(x.scalar_type());
        const torch::Tensor b = mix_rows(beta, mix).expand({n, c}).reshape({n * c}).to(x.scalar_type());
        torch::Tensor out;
        if (mode == NormStatistics::Fixed) {
            if (!captured_mean.defined()) {
                throw ConfigError("transformer net: fixed normalisation statistics requested, but none were captured "
                                  "(run a Capture pass first)");
            }
            // One captured image serves a batch of tiles of it.
            // ATen's batch norm wants all of one dtype; the statistics are kept in float.
            const torch::Tensor mean = captured_mean.expand({n, c}).reshape({n * c}).to(x.scalar_type());
            const torch::Tensor var = captured_var.expand({n, c}).reshape({n * c}).to(x.scalar_type());
            out = torch::batch_norm(flat, g, b, mean, var, /*training=*/false, 0.0, kNormEpsilon, false);
        } else {
            torch::Tensor mean;
            torch::Tensor invstd;
            std::tie(out, mean, invstd) =
                torch::native_batch_norm(flat, g, b, {}, {}, /*training=*/true, 0.0, kNormEpsilon);
            if (mode == NormStatistics::Capture) {
                captured_mean = mean.detach().to(torch::kFloat).view({n, c});
                captured_var = (invstd.detach().to(torch::kFloat).pow(-2) - kNormEpsilon).view({n, c});
            }
        }
        return out.view_as(x);
    }

    torch::Tensor gamma;
    torch::Tensor beta;
    torch::Tensor captured_mean;
    torch::Tensor captured_var;
};
TORCH_MODULE(CondInstanceNorm);

torch::nn::Conv2d make_conv(int in, int out, int kernel, int stride, bool bias) {
    // Padding is done by pad_same (reflection), so the convolution itself pads nothing.
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).bias(bias));
}

class ResidualBlockImpl : public torch::nn::Module {
  public:
    ResidualBlockImpl(int channels, int styles)
        // No conv biases before an instance norm: the norm subtracts them again.
        : conv1(register_module("conv1", make_conv(channels, channels, 3, 1, false))),
          norm1(register_module("norm1", CondInstanceNorm(channels, styles))),
          conv2(register_module("conv2", make_conv(channels, channels, 3, 1, false))),
          norm2(register_module("norm2", CondInstanceNorm(channels, styles))) {}

    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mix, NormStatistics mode) {
        torch::Tensor y = relu_inplace(norm1->forward(conv1->forward(pad_same(x, 1)), mix, mode));
        y = norm2->forward(conv2->forward(pad_same(y, 1)), mix, mode);
        return y.add_(x);
    }

    torch::nn::Conv2d conv1;
    CondInstanceNorm norm1;
    torch::nn::Conv2d conv2;
    CondInstanceNorm norm2;
};
TORCH_MODULE(ResidualBlock);

} // namespace

struct TransformerNetImpl::Layers {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv5{nullptr};
    torch::nn::Conv2d conv_out{nullptr};
    CondInstanceNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr}, norm4{nullptr}, norm5{nullptr};
    std::vector<ResidualBlock> residuals;
    std::vector<CondInstanceNorm> norms; // every norm, for statistics modes and the style tables
    NormStatistics mode = NormStatistics::Live;
};

std::string TransformerNetConfig::to_json() const {
    return nlohmann::json{{"width", width}, {"styles", styles}, {"residual_blocks", residual_blocks}}.dump();
}

TransformerNetConfig TransformerNetConfig::from_json(const std::string& json) {
    TransformerNetConfig config;
    try {
        const auto parsed = parse_bounded_json(json, JsonLimits{}, "transformer net config");
        config.width = parsed.value("width", config.width);
        config.styles = parsed.value("styles", config.styles);
        config.residual_blocks = parsed.value("residual_blocks", config.residual_blocks);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("transformer net config: {}", e.what()));
    }
    if (!(config.width > 0 && config.width <= 4)) {
        throw InputError(fmt::format("transformer net config: width {} is out of range (0, 4]", config.width));
    }
    if (config.styles < 1 || config.styles > 4096) {
        throw InputError(fmt::format("transformer net config: styles {} is out of range [1, 4096]", config.styles));
    }
    if (config.residual_blocks < 0 || config.residual_blocks > 32) {
        throw InputError(
            fmt::format("transformer net config: residual_blocks {} is out of range [0, 32]", config.residual_blocks));
    }
    return config;
}

TransformerNetImpl::TransformerNetImpl(const TransformerNetConfig& config)
    : config_(config), layers_(std::make_shared<Layers>()) {
    const int c1 = scaled_channels(32, config.width);
    const int c2 = scaled_channels(64, config.width);
    const int c3 = scaled_channels(128, config.width);
    const int s = config.styles;
    Layers& l = *layers_;
    l.conv1 = register_module("conv1", make_conv(3, c1, 9, 1, false));
    l.norm1 = register_module("norm1", CondInstanceNorm(c1, s));
    l.conv2 = register_module("conv2", make_conv(c1, c2, 3, 2, false));
    l.norm2 = register_module("norm2", CondInstanceNorm(c2, s));
    l.conv3 = register_module("conv3", make_conv(c2, c3, 3, 2, false));
    l.norm3 = register_module("norm3", CondInstanceNorm(c3, s));
    for (int i = 0; i < config.residual_blocks; ++i) {
        l.residuals.push_back(register_module(fmt::format("res{}", i + 1), ResidualBlock(c3, s)));
    }
    l.conv4 = register_module("conv4", make_conv(c3, c2, 3, 1, false)); // after nearest x2
    l.norm4 = register_module("norm4", CondInstanceNorm(c2, s));
    l.conv5 = register_module("conv5", make_conv(c2, c1, 3, 1, false)); // after nearest x2
    l.norm5 = register_module("norm5", CondInstanceNorm(c1, s));
    l.conv_out = register_module("conv_out", make_conv(c1, 3, 9, 1, true));
    l.norms = {l.norm1, l.norm2, l.norm3};
    for (auto& block : l.residuals) {
        l.norms.push_back(block->norm1);
        l.norms.push_back(block->norm2);
    }
    l.norms.push_back(l.norm4);
    l.norms.push_back(l.norm5);
    // Output head: linear, predicting RGB in [0,1] directly; clamped only when turned into an image.
    // A tanh or sigmoid head saturates and starves the gradients of bright and dark regions; a bias of
    // 0.5 and small output weights start training from mid-grey with the full range reachable.
    torch::NoGradGuard no_grad;
    l.conv_out->weight.mul_(0.1);
    l.conv_out->bias.fill_(0.5);
}

torch::Tensor TransformerNetImpl::forward(const torch::Tensor& rgb, const torch::Tensor& style_mix) {
    TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3, "transformer net: expected [N,3,H,W], got ", rgb.sizes());
    Layers& l = *layers_;
    torch::Tensor mix;
    if (style_mix.defined()) {
        mix = style_mix.dim() == 1 ? style_mix.unsqueeze(0) : style_mix;
        TORCH_CHECK(mix.dim() == 2 && mix.size(1) == config_.styles && (mix.size(0) == 1 || mix.size(0) == rgb.size(0)),
                    "transformer net: style_mix must be [", config_.styles, "] or [N,", config_.styles, "], got ",
                    style_mix.sizes());
        mix = mix.to(l.norm1->gamma.options());
    }
    // Two stride-2 stages: pad to a multiple of 4 so the upsampled size equals the input, crop after.
    const std::int64_t height = rgb.size(2);
    const std::int64_t width = rgb.size(3);
    const std::int64_t pad_h = (4 - height % 4) % 4;
    const std::int64_t pad_w = (4 - width % 4) % 4;
    // channels_last: oneDNN's convolutions ran 2-7x faster on it here (most for the few-channel
    // full-resolution layers). Only for single images: the norms view [N,C,H,W] as [1,N*C,H,W], which
    // copies a channels_last batch.
    torch::Tensor x = rgb.size(0) == 1 ? rgb.contiguous(at::MemoryFormat::ChannelsLast) : rgb;
    if (pad_h != 0 || pad_w != 0) {
        x = pad_edges(x, 0, pad_w, 0, pad_h);
    }
    const NormStatistics mode = l.mode;
    x = relu_inplace(l.norm1->forward(l.conv1->forward(pad_same(x, 4)), mix, mode));
    x = relu_inplace(l.norm2->forward(l.conv2->forward(pad_same(x, 1)), mix, mode));
    x = relu_inplace(l.norm3->forward(l.conv3->forward(pad_same(x, 1)), mix, mode));
    for (auto& block : l.residuals) {
        x = block->forward(x, mix, mode);
    }
    x = relu_inplace(l.norm4->forward(l.conv4->forward(pad_same(upsample2(x), 1)), mix, mode));
    x = relu_inplace(l.norm5->forward(l.conv5->forward(pad_same(upsample2(x), 1)), mix, mode));
    x = l.conv_out->forward(pad_same(x, 4));
    if (pad_h != 0 || pad_w != 0) {
        x = x.narrow(2, 0, height).narrow(3, 0, width);
    }
    return x;
}

std::vector<torch::Tensor> TransformerNetImpl::norm_parameters() {
    std::vector<torch::Tensor> out;
    for (auto& norm : layers_->norms) {
        out.push_back(norm->gamma);
        out.push_back(norm->beta);
    }
    return out;
}

void TransformerNetImpl::add_styles(int count) {
    if (count < 1) {
        throw ConfigError(fmt::format("add_styles: count {} must be at least 1", count));
    }
    torch::NoGradGuard no_grad;
    for (auto& norm : layers_->norms) {
        for (torch::Tensor* table : {&norm->gamma, &norm->beta}) {
            const torch::Tensor rows = table->mean(0, /*keepdim=*/true).expand({count, table->size(1)});
            table->set_data(torch::cat({*table, rows}, 0)); // keeps the registered parameter object
        }
    }
    config_.styles += count;
}

void TransformerNetImpl::set_norm_statistics(NormStatistics mode) {
    layers_->mode = mode;
}

void TransformerNetImpl::clear_captured_statistics() {
    for (auto& norm : layers_->norms) {
        norm->captured_mean = torch::Tensor();
        norm->captured_var = torch::Tensor();
    }
}

TensorMap TransformerNetImpl::export_tensors() {
    TensorMap out;
    for (const auto& item : named_parameters()) {
        out.emplace(item.key(), tensor_to_raw(item.value()));
    }
    return out;
}

void TransformerNetImpl::import_tensors(const TensorMap& tensors) {
    torch::NoGradGuard no_grad;
    for (auto& item : named_parameters()) {
        const auto found = tensors.find(item.key());
        if (found == tensors.end()) {
            throw WeightsError(fmt::format("transformer net: tensor '{}' is missing", item.key()));
        }
        const torch::Tensor value = raw_to_tensor(found->second);
        if (value.sizes() != item.value().sizes()) {
            throw WeightsError(fmt::format("transformer net: tensor '{}' has shape [{}], expected [{}]", item.key(),
                                           fmt::join(value.sizes(), ","), fmt::join(item.value().sizes(), ",")));
        }
        item.value().copy_(value);
    }
}

StyleModelFile make_transformer_model_file(TransformerNetImpl& net, const std::vector<std::string>& style_names,
                                           const ModelCard& card) {
    if (static_cast<int>(style_names.size()) != net.config().styles) {
        throw ConfigError(fmt::format("transformer model file: {} style names for a net of {} styles",
                                      style_names.size(), net.config().styles));
    }
    auto config = nlohmann::json::parse(net.config().to_json());
    config["style_names"] = style_names;
    StyleModelFile file;
    file.kind = StyleModelKind::Transformer;
    file.config = config.dump();
    file.card = card;
    file.tensors = net.export_tensors();
    return file;
}

TransformerNet load_transformer_net(const StyleModelFile& file, std::vector<std::string>* style_names) {
    if (file.kind != StyleModelKind::Transformer) {
        throw InputError(fmt::format("the model is a {}, not a transformer network", to_string(file.kind)));
    }
    const TransformerNetConfig config = TransformerNetConfig::from_json(file.config);
    std::vector<std::string> names;
    try {
        const auto json = parse_bounded_json(file.config, JsonLimits{}, "transformer net config");
        if (json.contains("style_names")) {
            names = json.at("style_names").get<std::vector<std::string>>();
        }
    } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("transformer net config: style_names: {}", e.what()));
    }
    // Older or hand-made files may lack names: fall back to the card, then to "style<i>".
    for (auto i = static_cast<int>(names.size()); i < config.styles; ++i) {
        const auto& images = file.card.style_images;
        names.push_back(i < static_cast<int>(images.size()) && !images[i].name.empty() ? images[i].name
                                                                                       : fmt::format("style{}", i));
    }
    if (static_cast<int>(names.size()) != config.styles) {
        throw InputError(
            fmt::format("transformer net config: {} style_names for {} styles", names.size(), config.styles));
    }
    TransformerNet net(config);
    net->import_tensors(file.tensors);
    net->eval();
    if (style_names != nullptr) {
        *style_names = std::move(names);
    }
    return net;
}

torch::Tensor raw_to_tensor(const RawTensor& raw) {
    std::vector<float> values = raw.to_float();
    return torch::from_blob(values.data(), raw.shape, torch::kFloat).clone();
}

RawTensor tensor_to_raw(const torch::Tensor& tensor) {
    const torch::Tensor cpu = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
    const float* data = cpu.data_ptr<float>();
    return RawTensor::from_float(cpu.sizes().vec(), std::vector<float>(data, data + cpu.numel()));
}

} // namespace impasto::nn
