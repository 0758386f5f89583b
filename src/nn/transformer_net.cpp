// The Johnson et al. transformer network with conditional instance norm (see transformer_net.h).
#include "nn/transformer_net.h"

#include "impasto/error.h"
#include "io/bounded_json.h"
#include "io/json_numbers.h"
#include "nn/feedforward_layers.h"
#include "nn/model_style_names.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <nlohmann/json.hpp>

namespace impasto::nn {
namespace {

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
        // Range-checked as whole numbers before the cast; the messages below name the narrower ranges.
        constexpr std::int64_t kAnyInt = 1 << 30U;
        config.styles = static_cast<int>(
            io::whole_field<InputError>(parsed, "styles", config.styles, -kAnyInt, kAnyInt, "transformer net config"));
        config.residual_blocks = static_cast<int>(io::whole_field<InputError>(
            parsed, "residual_blocks", config.residual_blocks, -kAnyInt, kAnyInt, "transformer net config"));
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
    std::vector<std::string> names = model_style_names(file, config.styles, "transformer net config");
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
