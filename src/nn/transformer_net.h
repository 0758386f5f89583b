#pragma once
// Johnson, Alahi & Fei-Fei 2016 (supplementary Table 1) with the usual later changes: instance
// norm instead of batch norm (Ulyanov et al. 2016), reflection padding, and nearest-neighbour
// upsampling followed by a convolution instead of transposed convolutions (Odena et al. 2016),
// which avoids checkerboard artefacts. Conditional instance norm (Dumoulin et al. 2017) gives
// every norm layer one (gamma, beta) row per style.
//
//   conv 9x9 32w, conv 3x3/2 64w, conv 3x3/2 128w, 5 residual blocks of 128w,
//   up x2 + conv 3x3 64w, up x2 + conv 3x3 32w, conv 9x9 3      (w = width multiplier)
#include "core/torch_compat.h"
#include "impasto/raw_tensor.h"
#include "impasto/style_model_file.h"
#include "nn/feedforward_layers.h" // NormStatistics

#include <string>
#include <vector>

namespace impasto::nn {

struct TransformerNetConfig {
    double width = 1.0; // channels 32/64/128 times this, rounded, at least 4
    int styles = 1;     // rows of every conditional instance norm
    int residual_blocks = 5;
    std::string to_json() const;
    static TransformerNetConfig from_json(const std::string& json); // throws InputError
};

class TransformerNetImpl : public torch::nn::Module {
  public:
    explicit TransformerNetImpl(const TransformerNetConfig& config);

    // rgb [N,3,H,W] in [0,1], any H, W >= 1 -> [N,3,H,W] (not clamped). `style_mix` is [N, styles]
    // or [styles] (rows: non-negative weights summing to 1); undefined = style 0.
    torch::Tensor forward(const torch::Tensor& rgb, const torch::Tensor& style_mix = {});

    const TransformerNetConfig& config() const { return config_; }
    // The (gamma, beta) tables of every conditional instance norm, [styles, C] each.
    std::vector<torch::Tensor> norm_parameters();
    // Appends `count` style rows to every norm table (initialised as the mean of the existing rows).
    void add_styles(int count);

    void set_norm_statistics(NormStatistics mode);
    void clear_captured_statistics();

    // Parameters as named float32 tensors ("conv1.weight", "norm1.gamma", ...), and back.
    TensorMap export_tensors();
    void import_tensors(const TensorMap& tensors); // throws WeightsError on a missing/mis-shaped tensor

  private:
    TransformerNetConfig config_;
    // layers are the implementation's choice
    struct Layers;
    std::shared_ptr<Layers> layers_;
};
TORCH_MODULE(TransformerNet);

// A "transformer" model file: config (TransformerNetConfig + "style_names"), card, float32 tensors
// (write_style_model converts them to the storage dtype). Throws ConfigError when the names do not
// match the styles.
StyleModelFile make_transformer_model_file(TransformerNetImpl& net, const std::vector<std::string>& style_names,
                                           const ModelCard& card);
// The net a transformer model file describes, with its tensors loaded, on the CPU in eval mode.
// `style_names` (optional) receives one name per style. Throws InputError or WeightsError.
TransformerNet load_transformer_net(const StyleModelFile& file, std::vector<std::string>* style_names = nullptr);

// float32 CPU torch tensors <-> RawTensor (any float RawTensor dtype on the way in).
torch::Tensor raw_to_tensor(const RawTensor& raw);
RawTensor tensor_to_raw(const torch::Tensor& tensor);

} // namespace impasto::nn
