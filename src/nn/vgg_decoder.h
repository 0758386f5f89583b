#pragma once
// A decoder that inverts VGG19 from one relu layer back to the image (Li et al. 2017): the mirror
// of the encoder up to that layer, with nearest-neighbour upsampling where the encoder pools and
// reflection padding. relu4_1's is the decoder of AdaIN (Huang & Belongie 2017).
#include "core/torch_compat.h"
#include "impasto/raw_tensor.h"

#include <string>

namespace impasto::nn {

// The levels a decoder can invert: relu1_1, relu2_1, relu3_1, relu4_1, relu5_1.
const std::vector<std::string>& decoder_levels();

class VggDecoderImpl : public torch::nn::Module {
  public:
    explicit VggDecoderImpl(const std::string& level); // throws ConfigError for another level
    // features [N,C,h,w] of `level` -> RGB [N,3,h*s,w*s] in [0,1] (not clamped), s = the level's stride.
    torch::Tensor forward(const torch::Tensor& features);
    const std::string& level() const { return level_; }

    TensorMap export_tensors(); // "conv0.weight", ... float32
    void import_tensors(const TensorMap& tensors); // throws WeightsError

  private:
    std::string level_;
    torch::nn::Sequential body_{nullptr};
};
TORCH_MODULE(VggDecoder);

} // namespace impasto::nn
