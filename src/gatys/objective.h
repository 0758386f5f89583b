#pragma once
// The objective of eq. 4 for one scale: targets are computed once, then each evaluation runs
// the network on the image being optimised and returns alpha*L_c + beta*L_s + tv*L_tv.
// A term whose weight is 0 (or which has no layers, or no style image) is left out entirely: no
// targets, no features, and the network runs only as deep as the remaining terms need. That is
// what makes content-only and style-only objectives (the reconstructions of Gatys 2016, Fig. 1)
// cost no more than they must.
#include "impasto/stylize.h"
#include "nn/vgg.h"

#include <vector>

namespace impasto::gatys {

c10::ScalarType autocast_dtype(Precision precision);

// Whether eq. 1 (content) and eq. 3 (style, given `style_count` style images) take part.
bool uses_content(const StylizeOptions& options);
bool uses_style(const StylizeOptions& options, std::size_t style_count);

class GatysObjective {
  public:
    // `styles` are [1,3,h,w] RGB tensors on the model's device; `blend` their weights. `content`
    // sets the output size; its features are computed only when the content term takes part.
    GatysObjective(const FeatureModel::Impl& model, const StylizeOptions& options, const torch::Tensor& content,
                   const std::vector<torch::Tensor>& styles, const std::vector<double>& blend);

    // Differentiable total loss (fp32 scalar) for the RGB [0,1] image `x`; fills `values`.
    torch::Tensor evaluate(const torch::Tensor& x, LossValues& values) const;

  private:
    const FeatureModel::Impl& model_;
    const StylizeOptions& options_;
    std::vector<std::string> content_layers_; // empty when the content term is off
    std::vector<std::string> style_layers_;   // empty when the style term is off
    std::vector<std::string> layers_;         // union of the two
    std::vector<torch::Tensor> content_targets_;
    std::vector<torch::Tensor> style_targets_; // blended Gram matrices, scaled to this size
    std::vector<double> style_layer_weights_;
};

} // namespace impasto::gatys
