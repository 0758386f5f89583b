#pragma once
// The objective of eq. 4 for one scale: targets are computed once, then each evaluation runs
// the network on the image being optimised and returns alpha*L_c + beta*L_s + tv*L_tv.
#include "impasto/stylize.h"
#include "nn/vgg.h"

#include <optional>
#include <vector>

namespace impasto::gatys {

c10::ScalarType autocast_dtype(Precision precision);

class GatysObjective {
  public:
    // `styles` are [1,3,h,w] RGB tensors on the model's device; `blend` their weights.
    GatysObjective(const FeatureModel::Impl& model, const StylizeOptions& options, const torch::Tensor& content,
                   const std::vector<torch::Tensor>& styles, const std::vector<double>& blend);

    // Differentiable total loss (fp32 scalar) for the RGB [0,1] image `x`; fills `values`.
    torch::Tensor evaluate(const torch::Tensor& x, LossValues& values) const;

  private:
    const FeatureModel::Impl& model_;
    const StylizeOptions& options_;
    std::vector<std::string> layers_; // union of content and style layers
    std::vector<torch::Tensor> content_targets_;
    std::vector<torch::Tensor> style_targets_; // blended Gram matrices, scaled to this size
    std::vector<double> style_layer_weights_;
};

} // namespace impasto::gatys
