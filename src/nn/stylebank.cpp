// StyleBank: a shared auto-encoder and one filter bank per style (see stylebank.h).
#include "nn/stylebank.h"

#include "impasto/error.h"
#include "io/bounded_json.h"
#include "io/json_numbers.h"
#include "nn/transformer_net.h" // raw_to_tensor, tensor_to_raw

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <nlohmann/json.hpp>
#include <set>

namespace impasto::nn {
namespace {

struct Widths {
    int c1;
    int c2;
    int c3;
};

Widths widths_of(double width) {
    return {scaled_channels(32, width), scaled_channels(64, width), scaled_channels(128, width)};
}

// conv (no bias: the norm after it removes one) + instance norm + ReLU
struct ConvNorm {
    torch::nn::Conv2d conv{nullptr};
    CondInstanceNorm norm{nullptr};
};

ConvNorm add_conv_norm(torch::nn::Module& owner, int index, int in, int out, int kernel, int stride) {
    ConvNorm layer;
    layer.conv = owner.register_module(fmt::format("conv{}", index), make_conv(in, out, kernel, stride, false));
    layer.norm = owner.register_module(fmt::format("norm{}", index), CondInstanceNorm(out, 1));
    return layer;
}

torch::Tensor conv_norm_relu(ConvNorm& layer, const torch::Tensor& x, int pad, NormStatistics mode) {
    return relu_inplace(layer.norm->forward(layer.conv->forward(pad_same(x, pad)), {}, mode));
}

class EncoderImpl : public torch::nn::Module {
  public:
    explicit EncoderImpl(const Widths& c)
        : layer1(add_conv_norm(*this, 1, 3, c.c1, 9, 1)), layer2(add_conv_norm(*this, 2, c.c1, c.c2, 3, 2)),
          layer3(add_conv_norm(*this, 3, c.c2, c.c3, 3, 2)) {}
    torch::Tensor forward(const torch::Tensor& x, NormStatistics mode) {
        return conv_norm_relu(layer3, conv_norm_relu(layer2, conv_norm_relu(layer1, x, 4, mode), 1, mode), 1, mode);
    }
    ConvNorm layer1, layer2, layer3;
};
TORCH_MODULE(Encoder);

class FilterBankImpl : public torch::nn::Module {
  public:
    FilterBankImpl(int channels, int depth) {
        for (int i = 0; i < depth; ++i) {
            layers.push_back(add_conv_norm(*this, i + 1, channels, channels, 3, 1));
        }
        // Near the identity: each conv starts as a Dirac kernel plus a tenth of its usual random
        // initialisation. A new bank then starts from the auto-encoder's reconstruction of the photo
        // (a structure-preserving start) instead of noise, which matters most when a style is added
        // to a trained auto-encoder; the random part breaks the symmetry between channels.
        const torch::NoGradGuard no_grad;
        for (ConvNorm& layer : layers) {
            torch::Tensor& weight = layer.conv->weight;
            weight.mul_(0.1).add_(torch::nn::init::dirac_(torch::empty_like(weight)));
        }
    }
    torch::Tensor forward(torch::Tensor x, NormStatistics mode) {
        for (ConvNorm& layer : layers) {
            x = conv_norm_relu(layer, x, 1, mode);
        }
        return x;
    }
    std::vector<ConvNorm> layers;
};
TORCH_MODULE(FilterBank);

class DecoderImpl : public torch::nn::Module {
  public:
    explicit DecoderImpl(const Widths& c)
        : layer1(add_conv_norm(*this, 1, c.c3, c.c2, 3, 1)), layer2(add_conv_norm(*this, 2, c.c2, c.c1, 3, 1)),
          conv_out(register_module("conv_out", make_conv(c.c1, 3, 9, 1, true))) {
        // As the transformer net's head: linear, starting from mid-grey with small weights.
        const torch::NoGradGuard no_grad;
        conv_out->weight.mul_(0.1);
        conv_out->bias.fill_(0.5);
    }
    torch::Tensor forward(const torch::Tensor& features, NormStatistics mode) {
        torch::Tensor x = conv_norm_relu(layer1, upsample2(features), 1, mode);
        x = conv_norm_relu(layer2, upsample2(x), 1, mode);
        return conv_out->forward(pad_same(x, 4));
    }
    ConvNorm layer1, layer2;
    torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(Decoder);

void require_config(bool ok, const std::string& field, const std::string& value, const std::string& allowed) {
    if (!ok) {
        throw ConfigError(fmt::format("stylebank config: {} = {} is out of range; allowed: {}", field, value, allowed));
    }
}

// Weights normalised to sum 1; empty = style 0 alone.
std::vector<double> normalised_weights(const std::vector<double>& weights, int styles) {
    if (weights.empty()) {
        std::vector<double> one_hot(static_cast<std::size_t>(styles), 0.0);
        one_hot[0] = 1.0;
        return one_hot;
    }
    if (static_cast<int>(weights.size()) != styles) {
        throw ConfigError(fmt::format("stylebank: {} style weights for {} styles; give one per style or none",
                                      weights.size(), styles));
    }
    double sum = 0;
    for (const double w : weights) {
        if (!std::isfinite(w) || w < 0) {
            throw ConfigError(fmt::format("stylebank: style weight {} is out of range; allowed: >= 0", w));
        }
        sum += w;
    }
    if (!(sum > 0)) {
        throw ConfigError("stylebank: style weights are all 0; at least one must be > 0");
    }
    std::vector<double> out;
    out.reserve(weights.size());
    for (const double w : weights) {
        out.push_back(w / sum);
    }
    return out;
}

} // namespace

struct StyleBankNetImpl::Layers {
    Encoder encoder{nullptr};
    std::vector<FilterBank> banks;
    Decoder decoder{nullptr};
    NormStatistics mode = NormStatistics::Live;
};

std::string StyleBankConfig::to_json() const {
    return nlohmann::json{{"width", width}, {"styles", styles}, {"bank_layers", bank_layers}}.dump();
}

StyleBankConfig StyleBankConfig::from_json(const std::string& json) {
    StyleBankConfig config;
    try {
        const auto parsed = parse_bounded_json(json, JsonLimits{}, "stylebank config");
        if (!parsed.is_object()) {
            throw InputError("stylebank config: not a JSON object");
        }
        config.width = parsed.value("width", config.width);
        config.styles = static_cast<int>(
            io::whole_field<InputError>(parsed, "styles", config.styles, 1, kMaxStyleBankStyles, "stylebank config"));
        config.bank_layers = static_cast<int>(io::whole_field<InputError>(parsed, "bank_layers", config.bank_layers, 1,
                                                                          kMaxBankLayers, "stylebank config"));
        config.validate();
    } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("stylebank config: {}", e.what()));
    } catch (const ConfigError& e) {
        throw InputError(e.what());
    }
    return config;
}

void StyleBankConfig::validate() const {
    require_config(std::isfinite(width) && width > 0 && width <= 4, "width", fmt::format("{}", width), "(0, 4]");
    require_config(styles >= 1 && styles <= kMaxStyleBankStyles, "styles", std::to_string(styles),
                   fmt::format("1..{}", kMaxStyleBankStyles));
    require_config(bank_layers >= 1 && bank_layers <= kMaxBankLayers, "bank_layers", std::to_string(bank_layers),
                   fmt::format("1..{}", kMaxBankLayers));
}

std::int64_t StyleBankConfig::parameter_count() const {
    const Widths c = widths_of(width);
    const auto conv = [](std::int64_t in, std::int64_t out, std::int64_t k) { return in * out * k * k; };
    const auto norm = [](std::int64_t channels) { return 2 * channels; };
    const std::int64_t encoder =
        conv(3, c.c1, 9) + norm(c.c1) + conv(c.c1, c.c2, 3) + norm(c.c2) + conv(c.c2, c.c3, 3) + norm(c.c3);
    const std::int64_t bank = bank_layers * (conv(c.c3, c.c3, 3) + norm(c.c3));
    const std::int64_t decoder =
        conv(c.c3, c.c2, 3) + norm(c.c2) + conv(c.c2, c.c1, 3) + norm(c.c1) + conv(c.c1, 3, 9) + 3;
    return encoder + styles * bank + decoder;
}

StyleBankNetImpl::StyleBankNetImpl(const StyleBankConfig& config)
    : config_(config), layers_(std::make_shared<Layers>()) {
    config_.validate();
    const Widths c = widths_of(config_.width);
    layers_->encoder = register_module("encoder", Encoder(c));
    layers_->decoder = register_module("decoder", Decoder(c));
    const int styles = config_.styles;
    config_.styles = 0;
    add_banks(styles);
}

void StyleBankNetImpl::add_banks(int count) {
    if (count < 1 || config_.styles + count > kMaxStyleBankStyles) {
        throw ConfigError(fmt::format("stylebank: adding {} bank(s) to {}; allowed: 1 or more, up to {} in all", count,
                                      config_.styles, kMaxStyleBankStyles));
    }
    const int c3 = widths_of(config_.width).c3;
    for (int i = 0; i < count; ++i) {
        const int index = config_.styles + i;
        layers_->banks.push_back(register_module(fmt::format("bank{}", index), FilterBank(c3, config_.bank_layers)));
    }
    config_.styles += count;
}

torch::Tensor StyleBankNetImpl::run(const torch::Tensor& rgb, const std::vector<double>& weights,
                                    const torch::Tensor& masks, bool use_banks) {
    TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3, "stylebank: expected [N,3,H,W], got ", rgb.sizes());
    const std::int64_t height = rgb.size(2);
    const std::int64_t width = rgb.size(3);
    if (masks.defined() && (masks.dim() != 4 || masks.size(1) != config_.styles || masks.size(2) != height ||
                            masks.size(3) != width || (masks.size(0) != 1 && masks.size(0) != rgb.size(0)))) {
        throw ConfigError(fmt::format("stylebank: masks must be [1 or N, {}, {}, {}], got [{}]", config_.styles, height,
                                      width, fmt::join(masks.sizes(), ",")));
    }
    Layers& l = *layers_;
    const NormStatistics mode = l.mode;
    // Two stride-2 stages: pad to a multiple of 4 so the decoder's output has the input's size.
    const std::int64_t pad_h = (4 - height % 4) % 4;
    const std::int64_t pad_w = (4 - width % 4) % 4;
    // channels_last for single images, as in the transformer net (oneDNN is several times faster on it).
    torch::Tensor x = rgb.size(0) == 1 ? rgb.contiguous(at::MemoryFormat::ChannelsLast) : rgb;
    if (pad_h != 0 || pad_w != 0) {
        x = pad_edges(x, 0, pad_w, 0, pad_h);
    }
    const torch::Tensor features = l.encoder->forward(x, mode);
    torch::Tensor mixed = features;
    if (use_banks) {
        std::vector<int> active;
        for (int i = 0; i < config_.styles; ++i) {
            if (weights[static_cast<std::size_t>(i)] > 0) {
                active.push_back(i);
            }
        }
        if (!masks.defined() && active.size() == 1) {
            mixed = l.banks[static_cast<std::size_t>(active[0])]->forward(features, mode); // exactly one bank
        } else if (!masks.defined()) {
            torch::Tensor sum; // in float: several bf16 maps summed in bf16 lose the small weights' share
            for (const int i : active) {
                const torch::Tensor out =
                    l.banks[static_cast<std::size_t>(i)]->forward(features, mode).to(torch::kFloat);
                sum = sum.defined() ? sum.add_(out, weights[static_cast<std::size_t>(i)])
                                    : out.mul(weights[static_cast<std::size_t>(i)]);
            }
            mixed = sum.to(features.scalar_type());
        } else {
            // Masks padded as the image was, then averaged over each feature position's 4x4 pixels
            // (exact, since the padded size is 4x the feature map's; tiles start on multiples of 4).
            torch::Tensor m = masks.to(torch::kFloat).contiguous();
            if (pad_h != 0 || pad_w != 0) {
                m = pad_edges(m, 0, pad_w, 0, pad_h);
            }
            m = torch::adaptive_avg_pool2d(m, {features.size(2), features.size(3)});
            torch::Tensor numerator = torch::zeros_like(features, features.options().dtype(torch::kFloat));
            torch::Tensor denominator = torch::zeros({m.size(0), 1, m.size(2), m.size(3)}, m.options());
            for (const int i : active) {
                const torch::Tensor mask = m.narrow(1, i, 1) * weights[static_cast<std::size_t>(i)];
                if (!(mask.max().item<double>() > 0)) {
                    continue; // this style covers nothing here: its bank need not run
                }
                const torch::Tensor out = l.banks[static_cast<std::size_t>(i)]->forward(features, mode);
                numerator.addcmul_(out.to(torch::kFloat), mask);
                denominator.add_(mask);
            }
            const torch::Tensor covered = denominator > 0;
            mixed = torch::where(covered, numerator / denominator.clamp_min(1e-12), features.to(torch::kFloat))
                        .to(features.scalar_type());
            if (features.is_contiguous(at::MemoryFormat::ChannelsLast)) {
                mixed = mixed.contiguous(at::MemoryFormat::ChannelsLast);
            }
        }
    }
    torch::Tensor out = l.decoder->forward(mixed, mode);
    if (pad_h != 0 || pad_w != 0) {
        out = out.narrow(2, 0, height).narrow(3, 0, width);
    }
    return out;
}

torch::Tensor StyleBankNetImpl::forward(const torch::Tensor& rgb, const std::vector<double>& style_weights,
                                        const torch::Tensor& masks) {
    return run(rgb, normalised_weights(style_weights, config_.styles), masks, true);
}

torch::Tensor StyleBankNetImpl::stylise(const torch::Tensor& rgb, int style) {
    if (style < 0 || style >= config_.styles) {
        throw ConfigError(
            fmt::format("stylebank: style {} is out of range; allowed: 0..{}", style, config_.styles - 1));
    }
    std::vector<double> one_hot(static_cast<std::size_t>(config_.styles), 0.0);
    one_hot[static_cast<std::size_t>(style)] = 1.0;
    return run(rgb, one_hot, {}, true);
}

torch::Tensor StyleBankNetImpl::reconstruct(const torch::Tensor& rgb) {
    return run(rgb, {}, {}, false);
}

std::vector<torch::Tensor> StyleBankNetImpl::autoencoder_parameters() {
    std::vector<torch::Tensor> out = layers_->encoder->parameters();
    for (const torch::Tensor& p : layers_->decoder->parameters()) {
        out.push_back(p);
    }
    return out;
}

std::vector<torch::Tensor> StyleBankNetImpl::bank_parameters(int style) {
    if (style < 0 || style >= config_.styles) {
        throw ConfigError(
            fmt::format("stylebank: style {} is out of range; allowed: 0..{}", style, config_.styles - 1));
    }
    return layers_->banks[static_cast<std::size_t>(style)]->parameters();
}

void StyleBankNetImpl::set_norm_statistics(NormStatistics mode) {
    layers_->mode = mode;
}

void StyleBankNetImpl::clear_captured_statistics() {
    for (const auto& module : modules(/*include_self=*/false)) {
        if (auto* norm = module->as<CondInstanceNormImpl>()) {
            norm->captured_mean = torch::Tensor();
            norm->captured_var = torch::Tensor();
        }
    }
}

TensorMap StyleBankNetImpl::export_tensors() {
    TensorMap out;
    for (const auto& item : named_parameters()) {
        out.emplace(item.key(), tensor_to_raw(item.value()));
    }
    return out;
}

void StyleBankNetImpl::import_tensors(const TensorMap& tensors) {
    const torch::NoGradGuard no_grad;
    std::set<std::string> expected;
    for (auto& item : named_parameters()) {
        expected.insert(item.key());
        const auto found = tensors.find(item.key());
        if (found == tensors.end()) {
            throw WeightsError(fmt::format("stylebank: tensor '{}' is missing", item.key()));
        }
        if (found->second.shape != item.value().sizes().vec()) {
            throw WeightsError(fmt::format("stylebank: tensor '{}' has shape [{}], expected [{}]", item.key(),
                                           fmt::join(found->second.shape, ","), fmt::join(item.value().sizes(), ",")));
        }
        const torch::Tensor value = raw_to_tensor(found->second);
        if (!torch::isfinite(value).all().item<bool>()) {
            throw WeightsError(fmt::format("stylebank: tensor '{}' holds a NaN or infinite value", item.key()));
        }
        item.value().copy_(value);
    }
    for (const auto& [name, tensor] : tensors) {
        if (expected.count(name) == 0) {
            throw WeightsError(fmt::format("stylebank: unexpected tensor '{}' (the config describes {} styles of {} "
                                           "bank layers)",
                                           name, config_.styles, config_.bank_layers));
        }
    }
}

} // namespace impasto::nn
