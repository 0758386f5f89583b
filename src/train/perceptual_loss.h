#pragma once
// Johnson et al. 2016's perceptual loss for training a transformer net, on batches, with the
// project's normalised terms (see nn/losses.h) so that one set of weights works across layers,
// crop sizes and styles:
//
//   content = sum_b ||F_b - P_b||^2 / sum_b ||P_b||^2              (over the content layers, mean)
//   style   = sum_l w_l mean_b ||G_b,l - A_l||^2 / ||A_l||^2      (G = F F^T / positions)
//   tv      = mean squared difference of neighbouring pixels (nn::total_variation_loss)
//
// Dividing each Gram matrix by its number of positions makes a target from a style image of any
// size comparable with the Gram of a crop of any size. The normalised content term is scale-free,
// so it does not need retuning when the loss network's activations are large (caffe VGG) or small.
#include "core/torch_compat.h"
#include "impasto/image.h"
#include "impasto/model.h"

#include <map>
#include <string>
#include <vector>

namespace impasto::train {

// Gram matrices of a batch, [N,C,H,W] -> [N,C,C] float32 (or double), divided by H*W.
torch::Tensor batched_gram(const torch::Tensor& features);

struct PerceptualLossOptions {
    std::vector<std::string> content_layers;
    std::vector<std::string> style_layers;
    std::vector<double> style_layer_weights; // empty = 1/L each
    double content_weight = 1;
    double style_weight = 1;
    double tv_weight = 0;
    int style_size = 256;                  // long side of every style image for its targets
    c10::ScalarType compute = c10::kFloat; // autocast dtype of the loss network (kBFloat16 or kFloat)
};

struct LossTerms {
    torch::Tensor content; // weighted, float32 scalars
    torch::Tensor style;
    torch::Tensor tv;
    torch::Tensor total;
    std::map<std::string, double> values() const; // "content", "style", "tv", "total"
};

class PerceptualLoss {
  public:
    // Computes every style's Gram targets once. Throws ConfigError for unknown layers.
    PerceptualLoss(const FeatureModel& vgg, const PerceptualLossOptions& options, const std::vector<Image>& styles);

    // `output` and `content` are [N,3,H,W] RGB; the gradient flows into `output` only. Every batch
    // element is compared with style `style_index`.
    LossTerms operator()(const torch::Tensor& output, const torch::Tensor& content, int style_index) const;

    int styles() const { return static_cast<int>(targets_.size()); }

  private:
    const FeatureModel& vgg_;
    PerceptualLossOptions options_;
    std::vector<std::string> all_layers_;
    std::vector<double> layer_weights_;
    std::vector<std::vector<torch::Tensor>> targets_;   // [style][style layer] -> [1,C,C]
    std::vector<std::vector<torch::Tensor>> target_sq_; // ||A||^2, precomputed
};

} // namespace impasto::train
