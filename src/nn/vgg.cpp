#include "nn/vgg.h"

#include "impasto/error.h"
#include "nn/efficientnet.h"

#include <algorithm>

namespace impasto {

namespace nn {

torch::Device to_torch(const Device& device) {
    return device.kind == DeviceKind::Cpu ? torch::Device(torch::kCPU)
                                          : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device.index));
}

torch::Tensor normalize_input(const FeatureModel::Impl& model, const torch::Tensor& rgb) {
    const torch::Tensor ordered = model.bgr ? rgb.flip({1}) : rgb;
    // oneDNN's convolutions run 1.2x (fp32) to 2.5x (bf16) faster on NHWC memory than on NCHW.
    return (ordered * model.input_scale + model.input_shift).contiguous(at::MemoryFormat::ChannelsLast);
}

FeatureMap extract_features(const FeatureModel::Impl& model, const torch::Tensor& rgb,
                            const std::vector<std::string>& layers, Pooling pooling) {
    check_layer_names(layers, "the requested features", model.architecture);
    if (model.efficientnet) {
        return efficientnet_features(*model.efficientnet, normalize_input(model, rgb), layers);
    }
    int deepest = -1;
    for (const std::string& name : layers) {
        deepest = std::max(deepest, layer_index(name, model.architecture));
    }
    FeatureMap features;
    const auto& names = layer_names(model.architecture);
    torch::Tensor x = normalize_input(model, rgb);
    std::size_t conv = 0;
    for (int i = 0; i <= deepest; ++i) {
        const std::string& name = names[static_cast<std::size_t>(i)];
        if (name[0] == 'c') {
            x = torch::conv2d(x, model.conv_weights[conv], model.conv_biases[conv], 1, 1);
            ++conv;
        } else if (name[0] == 'r') {
            x = torch::relu(x);
        } else if (pooling == Pooling::Max) {
            x = torch::max_pool2d(x, 2, 2);
        } else {
            x = torch::avg_pool2d(x, 2, 2);
        }
        if (std::find(layers.begin(), layers.end(), name) != layers.end()) {
            features[name] = x;
        }
    }
    return features;
}

} // namespace nn

FeatureModel::FeatureModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureModel::~FeatureModel() = default;

const WeightSetInfo& FeatureModel::info() const {
    return impl_->info;
}
const Device& FeatureModel::device() const {
    return impl_->device;
}
Architecture FeatureModel::architecture() const {
    return impl_->architecture;
}

namespace {

void load_vgg(FeatureModel::Impl& impl, const LoadedWeights& weights, const torch::Device& target) {
    int in_channels = 3;
    for (const std::string& name : layer_names(impl.architecture)) {
        if (name.rfind("conv", 0) != 0) {
            continue;
        }
        const auto weight_it = weights.tensors.find(name + ".weight");
        const auto bias_it = weights.tensors.find(name + ".bias");
        if (weight_it == weights.tensors.end() || bias_it == weights.tensors.end()) {
            throw WeightsError("weight set '" + weights.info.name + "' has no tensors for layer " + name);
        }
        const int out_channels = layer_channels(name, impl.architecture);
        const std::vector<std::int64_t> expected{out_channels, in_channels, 3, 3};
        if (weight_it->second.shape != expected || bias_it->second.numel() != out_channels) {
            throw WeightsError("weight set '" + weights.info.name + "': layer " + name + " has an unexpected shape");
        }
        const std::vector<float> w = weight_it->second.to_float();
        const std::vector<float> b = bias_it->second.to_float();
        // Channels-last copies (owning their memory): oneDNN's fast path, see normalize_input().
        impl.conv_weights.push_back(torch::from_blob(const_cast<float*>(w.data()), {out_channels, in_channels, 3, 3})
                                        .to(target)
                                        .contiguous(at::MemoryFormat::ChannelsLast));
        impl.conv_biases.push_back(torch::from_blob(const_cast<float*>(b.data()), {out_channels}).clone().to(target));
        in_channels = out_channels;
    }
}

} // namespace

std::shared_ptr<const FeatureModel> FeatureModel::create(const LoadedWeights& weights, const Device& device) {
    auto impl = std::make_unique<Impl>();
    impl->info = weights.info;
    impl->device = device;
    try {
        impl->architecture = parse_architecture(weights.info.architecture);
    } catch (const ConfigError& e) {
        throw WeightsError("weight set '" + weights.info.name + "': " + e.what());
    }
    const torch::Device target = nn::to_torch(device);
    torch::NoGradGuard no_grad;
    if (impl->architecture == Architecture::EfficientNetLite0) {
        impl->efficientnet = nn::load_efficientnet_lite0(weights, target);
    } else {
        load_vgg(*impl, weights, target);
    }
    if (weights.info.normalization == InputNormalization::CaffeBgr255) {
        impl->bgr = true;
        // BGR means, applied after the channel flip.
        impl->input_scale = torch::full({1, 3, 1, 1}, 255.0F);
        impl->input_shift = -torch::tensor({103.939F, 116.779F, 123.68F}).view({1, 3, 1, 1});
    } else if (weights.info.normalization == InputNormalization::TfLiteRgb127) {
        impl->bgr = false;
        // (255 x - 127) / 128
        impl->input_scale = torch::full({1, 3, 1, 1}, 255.0F / 128.0F);
        impl->input_shift = torch::full({1, 3, 1, 1}, -127.0F / 128.0F);
    } else {
        impl->bgr = false;
        const torch::Tensor mean = torch::tensor({0.485F, 0.456F, 0.406F}).view({1, 3, 1, 1});
        const torch::Tensor stddev = torch::tensor({0.229F, 0.224F, 0.225F}).view({1, 3, 1, 1});
        impl->input_scale = 1.0F / stddev;
        impl->input_shift = -mean / stddev;
    }
    impl->input_scale = impl->input_scale.to(target);
    impl->input_shift = impl->input_shift.to(target);
    return std::shared_ptr<const FeatureModel>(new FeatureModel(std::move(impl)));
}

} // namespace impasto
