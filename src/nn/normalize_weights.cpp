// The mean-activation normalisation of Gatys et al. 2016 (see model.h): measuring the per-filter
// means on images, and rescaling a VGG set's weights so that every filter's mean becomes one.
#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/model.h"
#include "nn/vgg.h"

#include <algorithm>

namespace impasto {

MeanActivationMeter::MeanActivationMeter(const FeatureModel& model, Pooling pooling)
    : model_(model), pooling_(pooling) {
    if (!has_pooling_layers(model.architecture())) {
        throw ConfigError(std::string("mean-activation normalisation needs a VGG set; '") + model.info().name +
                          "' is " + architecture_name(model.architecture()) +
                          " (its residual sums and batch-norm-folded layers are not positively homogeneous per "
                          "filter)");
    }
    for (const std::string& name : layer_names(model.architecture())) {
        if (name.rfind("relu", 0) == 0) {
            relu_layers_.push_back(name);
        }
    }
    sums_.resize(relu_layers_.size());
    positions_.assign(relu_layers_.size(), 0.0);
    for (std::size_t l = 0; l < relu_layers_.size(); ++l) {
        sums_[l].assign(static_cast<std::size_t>(layer_channels(relu_layers_[l], model.architecture())), 0.0);
    }
}

void MeanActivationMeter::add(const Image& image) {
    if (image.empty()) {
        throw InputError("measuring mean activations: an image is empty");
    }
    torch::InferenceMode inference;
    const torch::Tensor rgb = detail::image_to_tensor(image, nn::to_torch(model_.device()));
    const nn::FeatureMap features = nn::extract_features(model_.impl(), rgb, relu_layers_, pooling_);
    for (std::size_t l = 0; l < relu_layers_.size(); ++l) {
        const torch::Tensor& f = features.at(relu_layers_[l]);
        // Per-filter sums in double: a layer at 256 px sums ~10^5 positions per image, 500 images.
        const torch::Tensor sums = f.to(torch::kDouble).sum({0, 2, 3}).contiguous().cpu();
        const double* values = sums.data_ptr<double>();
        for (std::size_t c = 0; c < sums_[l].size(); ++c) {
            sums_[l][c] += values[c];
        }
        positions_[l] += static_cast<double>(f.size(0) * f.size(2) * f.size(3));
    }
    ++images_;
}

std::vector<FilterMeans> MeanActivationMeter::means() const {
    if (images_ == 0) {
        throw ConfigError("measuring mean activations: no image was added");
    }
    std::vector<FilterMeans> result;
    for (std::size_t l = 0; l < relu_layers_.size(); ++l) {
        FilterMeans layer;
        layer.layer = "conv" + relu_layers_[l].substr(4); // relu3_2 -> conv3_2
        for (double sum : sums_[l]) {
            layer.means.push_back(sum / positions_[l]);
        }
        result.push_back(std::move(layer));
    }
    return result;
}

TensorMap normalize_mean_activations(const TensorMap& tensors, const std::vector<FilterMeans>& means,
                                     std::vector<std::string>* dead) {
    const std::string context = "normalising weights by mean activation";
    TensorMap out = tensors;
    std::vector<double> previous(3, 1.0); // m_0 = 1 for the three input channels
    for (const FilterMeans& layer : means) {
        const auto weight = tensors.find(layer.layer + ".weight");
        const auto bias = tensors.find(layer.layer + ".bias");
        if (weight == tensors.end() || bias == tensors.end()) {
            throw WeightsError(context + ": no tensors for layer " + layer.layer);
        }
        const auto& shape = weight->second.shape;
        const std::size_t outputs = layer.means.size();
        if (shape.size() != 4 || static_cast<std::size_t>(shape[0]) != outputs ||
            static_cast<std::size_t>(shape[1]) != previous.size()) {
            throw WeightsError(context + ": layer " + layer.layer + " does not match the measured means (" +
                               std::to_string(outputs) + " filters after " + std::to_string(previous.size()) +
                               " inputs)");
        }
        // Dead filters keep scale 1: their output stays 0 on the data, so any scale is exact there.
        std::vector<double> scale(outputs);
        for (std::size_t o = 0; o < outputs; ++o) {
            const double m = layer.means[o];
            if (!(m >= 0) || !std::isfinite(m)) {
                throw WeightsError(context + ": layer " + layer.layer + " filter " + std::to_string(o) + " has mean " +
                                   std::to_string(m));
            }
            scale[o] = m > 0 ? m : 1.0;
            if (m == 0 && dead != nullptr) {
                dead->push_back(layer.layer + "[" + std::to_string(o) + "]");
            }
        }
        std::vector<float> w = weight->second.to_float();
        std::vector<float> b = bias->second.to_float();
        const std::size_t inputs = previous.size();
        const std::size_t kernel = w.size() / (outputs * inputs);
        for (std::size_t o = 0; o < outputs; ++o) {
            for (std::size_t i = 0; i < inputs; ++i) {
                const double factor = previous[i] / scale[o];
                float* p = w.data() + (o * inputs + i) * kernel;
                for (std::size_t k = 0; k < kernel; ++k) {
                    p[k] = static_cast<float>(p[k] * factor);
                }
            }
            b[o] = static_cast<float>(b[o] / scale[o]);
        }
        out[layer.layer + ".weight"] = RawTensor::from_float(shape, w);
        out[layer.layer + ".bias"] = RawTensor::from_float(bias->second.shape, b);
        previous = scale;
    }
    return out;
}

} // namespace impasto
