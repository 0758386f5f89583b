#pragma once
// A decoder that inverts VGG19 from one relu layer back to the image (Li et al. 2017): the mirror
// of the encoder up to that layer, with nearest-neighbour upsampling where the encoder pools and
// reflection padding. relu4_1's is the decoder of AdaIN (Huang & Belongie 2017).
#include "core/torch_compat.h"
#include "impasto/raw_tensor.h"

#include <string>
#include <vector>

namespace impasto::nn {

// The levels a decoder can invert: relu1_1, relu2_1, relu3_1, relu4_1, relu5_1.
const std::vector<std::string>& decoder_levels();

class VggDecoderImpl : public torch::nn::Module {
  public:
    explicit VggDecoderImpl(const std::string& level); // throws ConfigError for another level
    // features [N,C,h,w] of `level` -> RGB [N,3,h*s,w*s] in [0,1] (not clamped), s = the level's stride.
    torch::Tensor forward(const torch::Tensor& features);
    const std::string& level() const { return level_; }
    // In execution order: the first reads the features, the last writes RGB.
    std::vector<torch::nn::Conv2d>& convs() { return convs_; }
    // Features are multiplied by this before the first convolution. The Caffe VGG's activations
    // are in the tens to hundreds (its input is 0-255), which default-initialised convolutions turn
    // into outputs far outside [0,1]; the trainer sets it to 1/RMS of the first batch's features.
    // Stored with the weights ("input_scale").
    void set_input_scale(double scale);
    double input_scale() const;

    // "conv0.weight", "conv0.bias", ... "convK.*" in execution order (conv0 reads the features,
    // the last one writes RGB); float32.
    TensorMap export_tensors();
    // Every tensor must be present with its exact shape; extra names are refused too. Throws WeightsError.
    void import_tensors(const TensorMap& tensors);

  private:
    enum class Step { Conv, ConvRelu, Upsample };
    std::string level_;
    std::vector<Step> steps_;
    std::vector<torch::nn::Conv2d> convs_;
    torch::Tensor input_scale_;
};
TORCH_MODULE(VggDecoder);

} // namespace impasto::nn
