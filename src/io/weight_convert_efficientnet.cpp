// EfficientNet-Lite0 from lukemelas/EfficientNet-PyTorch naming to impasto's canonical tensors.
// Each inference-mode batch norm y = gamma (x - mean) / sqrt(var + eps) + beta is folded into the
// convolution before it: W' = W * s and b' = beta - mean * s per output channel, s = gamma / sqrt(var + eps).
#include "impasto/error.h"
#include "impasto/weights.h"
#include "io/weight_store_detail.h"
#include "nn/efficientnet_config.h"

#include <cmath>
#include <set>
#include <string>

namespace impasto {
namespace {

namespace eff = nn::efficientnet;

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        text += (i ? "," : "") + std::to_string(shape[i]);
    }
    return text + "]";
}

// The canonical convolutions in network order with their weight shapes.
struct ConvSpec {
    std::string canonical; // "block3.dw"
    std::string source;    // "_blocks.2._depthwise_conv"
    std::string bn;        // "_blocks.2._bn1"
    std::vector<std::int64_t> shape;
};

std::vector<ConvSpec> lite0_convs() {
    std::vector<ConvSpec> convs;
    convs.push_back({"stem", "_conv_stem", "_bn0", {eff::kStemChannels, 3, 3, 3}});
    for (const eff::Block& block : eff::lite0_blocks()) {
        const std::string name = "block" + std::to_string(block.number);
        const std::string source = "_blocks." + std::to_string(block.number - 1) + ".";
        if (block.expanded != block.in) {
            convs.push_back(
                {name + ".expand", source + "_expand_conv", source + "_bn0", {block.expanded, block.in, 1, 1}});
        }
        convs.push_back({name + ".dw",
                         source + "_depthwise_conv",
                         source + "_bn1",
                         {block.expanded, 1, block.kernel, block.kernel}});
        convs.push_back(
            {name + ".project", source + "_project_conv", source + "_bn2", {block.out, block.expanded, 1, 1}});
    }
    const int last = eff::lite0_blocks().back().out;
    convs.push_back({"head", "_conv_head", "_bn1", {eff::kHeadChannels, last, 1, 1}});
    return convs;
}

const RawTensor& take(const TensorMap& source, const std::string& name, std::set<std::string>& used,
                      const std::string& context) {
    const auto found = source.find(name);
    if (found == source.end()) {
        throw WeightsError(context + ": tensor '" + name + "' missing");
    }
    used.insert(name);
    return found->second;
}

void expect_shape(const RawTensor& tensor, const std::vector<std::int64_t>& shape, const std::string& name,
                  const std::string& context) {
    if (tensor.shape != shape) {
        throw WeightsError(context + ": '" + name + "' is " + shape_text(tensor.shape) + ", expected " +
                           shape_text(shape));
    }
}

} // namespace

namespace detail {

void validate_efficientnet_lite0(const TensorMap& tensors, const std::string& context) {
    std::size_t expected = 2; // fc.weight, fc.bias
    auto check = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
        const auto found = tensors.find(name);
        if (found == tensors.end()) {
            throw WeightsError(context + ": tensor '" + name + "' missing (efficientnet-lite0)");
        }
        if (found->second.dtype != DType::Float32) {
            throw WeightsError(context + ": '" + name + "' is not float32");
        }
        expect_shape(found->second, shape, name, context);
    };
    for (const ConvSpec& conv : lite0_convs()) {
        check(conv.canonical + ".weight", conv.shape);
        check(conv.canonical + ".bias", {conv.shape[0]});
        expected += 2;
    }
    check("fc.weight", {eff::kClasses, eff::kHeadChannels});
    check("fc.bias", {eff::kClasses});
    if (tensors.size() != expected) {
        throw WeightsError(context + ": expected the " + std::to_string(expected) +
                           " tensors of efficientnet-lite0, found " + std::to_string(tensors.size()));
    }
}

} // namespace detail

TensorMap convert_efficientnet_lite0(const TensorMap& source) {
    const std::string context = "converting EfficientNet-Lite0 weights";
    std::set<std::string> used;
    TensorMap out;
    for (const ConvSpec& conv : lite0_convs()) {
        const RawTensor& weight = take(source, conv.source + ".weight", used, context);
        expect_shape(weight, conv.shape, conv.source + ".weight", context);
        const auto channels = static_cast<std::size_t>(conv.shape[0]);
        std::vector<std::vector<float>> bn;
        for (const char* part : {".weight", ".bias", ".running_mean", ".running_var"}) {
            const RawTensor& tensor = take(source, conv.bn + part, used, context);
            expect_shape(tensor, {conv.shape[0]}, conv.bn + part, context);
            bn.push_back(tensor.to_float());
        }
        used.insert(conv.bn + ".num_batches_tracked"); // training bookkeeping, not needed
        std::vector<float> w = weight.to_float();
        std::vector<float> b(channels);
        const std::size_t per_channel = w.size() / channels;
        for (std::size_t o = 0; o < channels; ++o) {
            if (!(bn[3][o] >= 0)) {
                throw WeightsError(context + ": '" + conv.bn + ".running_var' has a negative or NaN entry");
            }
            const double scale = bn[0][o] / std::sqrt(static_cast<double>(bn[3][o]) + eff::kBatchNormEpsilon);
            for (std::size_t i = 0; i < per_channel; ++i) {
                w[o * per_channel + i] = static_cast<float>(w[o * per_channel + i] * scale);
            }
            b[o] = static_cast<float>(bn[1][o] - bn[2][o] * scale);
        }
        out[conv.canonical + ".weight"] = RawTensor::from_float(conv.shape, w);
        out[conv.canonical + ".bias"] = RawTensor::from_float({conv.shape[0]}, b);
    }
    const RawTensor& fc_weight = take(source, "_fc.weight", used, context);
    const RawTensor& fc_bias = take(source, "_fc.bias", used, context);
    expect_shape(fc_weight, {eff::kClasses, eff::kHeadChannels}, "_fc.weight", context);
    expect_shape(fc_bias, {eff::kClasses}, "_fc.bias", context);
    out["fc.weight"] = RawTensor::from_float(fc_weight.shape, fc_weight.to_float());
    out["fc.bias"] = RawTensor::from_float(fc_bias.shape, fc_bias.to_float());
    for (const auto& entry : source) {
        if (used.count(entry.first) == 0) {
            throw WeightsError(context + ": unexpected tensor '" + entry.first +
                               "' (squeeze-excitation or a wider network: not EfficientNet-Lite0)");
        }
    }
    detail::validate_efficientnet_lite0(out, context);
    return out;
}

} // namespace impasto
