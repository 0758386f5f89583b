#include "nn/efficientnet.h"

#include "core/tensor_image.h"
#include "impasto/error.h"

#include <algorithm>
#include <cmath>

namespace impasto::nn {
namespace {

torch::Tensor to_device(const LoadedWeights& weights, const std::string& name, const torch::Device& device) {
    const auto found = weights.tensors.find(name);
    if (found == weights.tensors.end()) {
        throw WeightsError("weight set '" + weights.info.name + "' has no tensor '" + name + "'");
    }
    const std::vector<float> values = found->second.to_float();
    torch::Tensor tensor = torch::from_blob(const_cast<float*>(values.data()), found->second.shape).clone().to(device);
    // oneDNN's fast layout, as for VGG (see normalize_input()).
    return tensor.dim() == 4 ? tensor.contiguous(at::MemoryFormat::ChannelsLast) : tensor;
}

EfficientNetConv load_conv(const LoadedWeights& weights, const std::string& name, const torch::Device& device,
                           int stride, bool depthwise) {
    EfficientNetConv conv;
    conv.weight = to_device(weights, name + ".weight", device);
    conv.bias = to_device(weights, name + ".bias", device);
    conv.stride = stride;
    conv.groups = depthwise ? static_cast<int>(conv.weight.size(0)) : 1;
    return conv;
}

// ReLU6. Not torch::hardtanh: LibTorch 1.13 has no bf16 CPU kernel for its backward.
torch::Tensor clamp6(const torch::Tensor& x) {
    return torch::clamp(x, 0.0, 6.0);
}

// Runs the network in order and hands each named feature point to `emit`, which returns false
// once nothing deeper is needed.
class Runner {
  public:
    Runner(const std::vector<std::string>& layers, FeatureMap& features)
        : layers_(layers), features_(features), remaining_(layers.size()) {}

    // Records `x` under `name` when requested; true while deeper layers are still needed.
    bool emit(const std::string& name, const torch::Tensor& x) {
        if (std::find(layers_.begin(), layers_.end(), name) != layers_.end() && features_.count(name) == 0) {
            features_[name] = x;
            --remaining_;
        }
        return remaining_ > 0 || run_all;
    }
    bool run_all = false;

  private:
    const std::vector<std::string>& layers_;
    FeatureMap& features_;
    std::size_t remaining_;
};

} // namespace

std::shared_ptr<const EfficientNet> load_efficientnet_lite0(const LoadedWeights& weights, const torch::Device& device) {
    auto net = std::make_shared<EfficientNet>();
    net->stem = load_conv(weights, "stem", device, 2, false);
    for (const efficientnet::Block& shape : efficientnet::lite0_blocks()) {
        const std::string name = "block" + std::to_string(shape.number);
        EfficientNet::Block block;
        block.shape = shape;
        if (shape.expanded != shape.in) {
            block.expand = load_conv(weights, name + ".expand", device, 1, false);
        }
        block.dw = load_conv(weights, name + ".dw", device, shape.stride, true);
        block.project = load_conv(weights, name + ".project", device, 1, false);
        net->blocks.push_back(std::move(block));
    }
    net->head = load_conv(weights, "head", device, 1, false);
    net->fc_weight = to_device(weights, "fc.weight", device);
    net->fc_bias = to_device(weights, "fc.bias", device);
    return net;
}

torch::Tensor same_conv(const torch::Tensor& x, const EfficientNetConv& conv) {
    static const std::vector<std::int64_t> kOne{1, 1};
    static const std::vector<std::int64_t> kZero{0, 0};
    const std::int64_t kernel = conv.weight.size(2);
    if (conv.stride == 1) {
        const std::vector<std::int64_t> padding{(kernel - 1) / 2, (kernel - 1) / 2};
        return torch::conv2d(x, conv.weight, conv.bias, kOne, padding, kOne, conv.groups);
    }
    auto padding = [&](std::int64_t in) {
        const std::int64_t out = (in + conv.stride - 1) / conv.stride;
        return std::max<std::int64_t>((out - 1) * conv.stride + kernel - in, 0);
    };
    const std::int64_t pad_h = padding(x.size(2));
    const std::int64_t pad_w = padding(x.size(3));
    const torch::Tensor padded =
        torch::constant_pad_nd(x, {pad_w / 2, pad_w - pad_w / 2, pad_h / 2, pad_h - pad_h / 2});
    const std::vector<std::int64_t> stride{conv.stride, conv.stride};
    return torch::conv2d(padded, conv.weight, conv.bias, stride, kZero, kOne, conv.groups);
}

FeatureMap efficientnet_features(const EfficientNet& net, const torch::Tensor& input,
                                 const std::vector<std::string>& layers, torch::Tensor* logits) {
    FeatureMap features;
    Runner run(layers, features);
    run.run_all = logits != nullptr;
    torch::Tensor x = clamp6(same_conv(input, net.stem));
    if (!run.emit("stem", x)) {
        return features;
    }
    for (const EfficientNet::Block& block : net.blocks) {
        const std::string name = "block" + std::to_string(block.shape.number);
        const torch::Tensor block_input = x;
        if (block.expand.weight.defined()) {
            x = clamp6(same_conv(x, block.expand));
            if (!run.emit(name + "_expand", x)) {
                return features;
            }
        }
        x = clamp6(same_conv(x, block.dw));
        if (!run.emit(name + "_dw", x)) {
            return features;
        }
        x = same_conv(x, block.project);
        if (block.shape.residual) {
            x = x + block_input;
        }
        if (!run.emit(name, x)) {
            return features;
        }
    }
    x = clamp6(same_conv(x, net.head));
    run.emit("head", x);
    if (logits != nullptr) {
        *logits = torch::linear(x.mean({2, 3}), net.fc_weight, net.fc_bias);
    }
    return features;
}

} // namespace impasto::nn

namespace impasto {

std::vector<ClassScore> classify(const FeatureModel& model, const Image& image, int top_k) {
    const FeatureModel::Impl& impl = model.impl();
    if (!impl.efficientnet) {
        throw ConfigError("weight set '" + impl.info.name + "' (" + impl.info.architecture +
                          ") has no classifier; classification needs efficientnet-lite0");
    }
    if (image.empty()) {
        throw InputError("classify: the image is empty");
    }
    if (top_k < 1 || top_k > nn::efficientnet::kClasses) {
        throw ConfigError("top_k = " + std::to_string(top_k) + " is out of range; allowed: 1.." +
                          std::to_string(nn::efficientnet::kClasses));
    }
    // The evaluation crop of TensorFlow's EfficientNet: short side to 256, centre 224 x 224.
    constexpr int kCrop = 224;
    constexpr double kShortSide = 256;
    const double scale = kShortSide / std::min(image.width, image.height);
    const int width = std::max(kCrop, static_cast<int>(std::lround(image.width * scale)));
    const int height = std::max(kCrop, static_cast<int>(std::lround(image.height * scale)));
    const Image resized = resize_image(image, width, height);
    torch::InferenceMode inference;
    const torch::Tensor full = detail::image_to_tensor(resized, nn::to_torch(model.device()));
    const torch::Tensor crop = full.narrow(2, (height - kCrop) / 2, kCrop).narrow(3, (width - kCrop) / 2, kCrop);
    torch::Tensor logits;
    nn::efficientnet_features(*impl.efficientnet, nn::normalize_input(impl, crop), {}, &logits);
    const auto [values, indices] = torch::softmax(logits.to(torch::kFloat), 1).topk(top_k, 1);
    std::vector<ClassScore> scores;
    for (int i = 0; i < top_k; ++i) {
        scores.push_back({static_cast<int>(indices[0][i].item<std::int64_t>()), values[0][i].item<double>()});
    }
    return scores;
}

} // namespace impasto
