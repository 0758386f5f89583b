#pragma once
// The loaded, immutable feature network. One FeatureModel can serve many runs (and threads);
// per-run state lives in the optimiser call. Torch types stay behind a pimpl.
#include "impasto/device.h"
#include "impasto/image.h"
#include "impasto/layers.h"
#include "impasto/stylize_options.h"
#include "impasto/weights.h"

#include <memory>
#include <string>
#include <vector>

namespace impasto {

class FeatureModel {
  public:
    struct Impl;
    // Copies the weights onto `device`, frozen (no gradients). The architecture comes from
    // weights.info.architecture (vgg19, vgg16, efficientnet-lite0).
    static std::shared_ptr<const FeatureModel> create(const LoadedWeights& weights, const Device& device);
    ~FeatureModel();
    FeatureModel(const FeatureModel&) = delete;
    FeatureModel& operator=(const FeatureModel&) = delete;

    const WeightSetInfo& info() const;
    const Device& device() const;
    Architecture architecture() const;
    const Impl& impl() const { return *impl_; }

  private:
    explicit FeatureModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// ImageNet-1k classification, to check what a set really holds: the image's short side is scaled
// to 256 px and its centre 224 x 224 classified. Only sets with a classifier (efficientnet-lite0);
// throws ConfigError for others.
struct ClassScore {
    int index = 0;          // ImageNet-1k class, 0..999
    double probability = 0; // softmax
};
std::vector<ClassScore> classify(const FeatureModel& model, const Image& image, int top_k = 5);

// Gatys et al. 2016, Sec. 2: "We normalized the network by scaling the weights such that the mean
// activation of each convolutional filter over images and positions is equal to one."
//
// The meter accumulates, for each VGG conv layer l and filter c, the mean m_l[c] of its post-ReLU
// activation over every image and position it is given, in the original network with `pooling`.
struct FilterMeans {
    std::string layer;         // "conv1_1"
    std::vector<double> means; // one per filter
};

class MeanActivationMeter {
  public:
    // VGG sets only; throws ConfigError for another architecture.
    MeanActivationMeter(const FeatureModel& model, Pooling pooling);
    // One image at the size it has (fp32, no gradients).
    void add(const Image& image);
    int images() const { return images_; }
    std::vector<FilterMeans> means() const;

  private:
    const FeatureModel& model_;
    Pooling pooling_;
    std::vector<std::string> relu_layers_;
    std::vector<std::vector<double>> sums_;
    std::vector<double> positions_;
    int images_ = 0;
};

// ReLU and max/average pooling are positively homogeneous per channel, so one pass suffices:
// W'_l[o,i] = W_l[o,i] * m_{l-1}[i] / m_l[o] and b'_l[o] = b_l[o] / m_l[o] (m_0 = 1) make every
// post-ReLU activation equal the original one divided by m_l, hence of mean one on the measured
// data: exactly the layer-by-layer normalisation. A dead filter (m = 0: never active on the data)
// keeps the scale 1, so it stays dead and its outgoing weights are unchanged; each is listed in
// *dead as "conv3_4[17]". Throws WeightsError when `means` do not match the tensors.
TensorMap normalize_mean_activations(const TensorMap& tensors, const std::vector<FilterMeans>& means,
                                     std::vector<std::string>* dead = nullptr);

} // namespace impasto
