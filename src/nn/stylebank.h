#pragma once
// StyleBank (Chen, Yuan, Liao, Yu & Hua, CVPR 2017): one auto-encoder shared by every style, and per
// style a small bank of convolutions applied to the encoder's features. A style is added by
// training a new bank with the auto-encoder frozen; styles fuse linearly (bank outputs mixed) or
// by region (each bank's output where its mask is white).
//
//   encoder  conv 9x9 32w, conv 3x3/2 64w, conv 3x3/2 128w         (instance norm + ReLU after each)
//   bank_i   bank_layers x conv 3x3 128w -> 128w                      (instance norm + ReLU after each)
//   decoder  up x2 + conv 3x3 64w, up x2 + conv 3x3 32w (IN + ReLU), conv 9x9 3   (w = width multiplier)
//
// The paper's auto-encoder is the same (stride-1 9x9, two stride-2 3x3, mirrored); its decoder uses
// fractionally-strided convolutions, replaced here by upsample-then-convolve as in the transformer
// net (no checkerboard). Its banks are 3x3 convolutions on the 128-channel features; we stack
// bank_layers of them (default 3) with their own instance norms, which give each style its own
// affine (gamma, beta) as conditional instance norm does. Padding is by reflection, like the
// transformer net, so the same tiling with whole-image statistics applies.
#include "core/torch_compat.h"
#include "impasto/raw_tensor.h"
#include "impasto/style_model_file.h"
#include "nn/feedforward_layers.h"

#include <cstdint>
#include <string>
#include <vector>

namespace impasto::nn {

inline constexpr int kMaxStyleBankStyles = 256;
inline constexpr int kMaxBankLayers = 8;

struct StyleBankConfig {
    double width = 0.5;  // channels 32/64/128 times this, rounded, at least 4; (0, 4]
    int styles = 1;      // banks, 1..kMaxStyleBankStyles
    int bank_layers = 3; // 3x3 convolutions per bank, 1..kMaxBankLayers
    std::string to_json() const;
    static StyleBankConfig from_json(const std::string& json); // throws InputError naming the field
    void validate() const;                                     // throws ConfigError naming the field
    std::int64_t parameter_count() const;                      // of the network it describes
};

class StyleBankNetImpl : public torch::nn::Module {
  public:
    explicit StyleBankNetImpl(const StyleBankConfig& config); // throws ConfigError

    // rgb [N,3,H,W] in [0,1], any H, W >= 1 -> [N,3,H,W] (not clamped).
    // `style_weights`: one non-negative weight per style (normalised here), the bank outputs mixed
    // linearly; empty = style 0. `masks` (optional): [1 or N, styles, H, W] in [0,1] at the input's
    // size, resampled (averaged) to the feature map: each position takes the weighted mean of the
    // banks whose masks cover it, and positions no mask covers keep the encoder's features (the
    // photo, reconstructed). Throws ConfigError for weights or masks of the wrong shape.
    torch::Tensor forward(const torch::Tensor& rgb, const std::vector<double>& style_weights = {},
                          const torch::Tensor& masks = {});
    torch::Tensor stylise(const torch::Tensor& rgb, int style); // one bank (training)
    // Encoder then decoder, no bank: the auto-encoder branch of training.
    torch::Tensor reconstruct(const torch::Tensor& rgb);

    const StyleBankConfig& config() const { return config_; }
    std::vector<torch::Tensor> autoencoder_parameters(); // encoder and decoder, norms included
    std::vector<torch::Tensor> bank_parameters(int style);
    // Appends `count` banks, initialised near the identity (see the .cpp); the others are untouched.
    void add_banks(int count);

    void set_norm_statistics(NormStatistics mode);
    void clear_captured_statistics();

    // Parameters as named float32 tensors ("encoder.conv1.weight", "bank0.norm1.gamma", ...), and
    // back. Throws WeightsError for a missing, mis-shaped, unexpected or non-finite tensor.
    TensorMap export_tensors();
    void import_tensors(const TensorMap& tensors);

  private:
    struct Layers;
    torch::Tensor run(const torch::Tensor& rgb, const std::vector<double>& weights, const torch::Tensor& masks,
                      bool use_banks);
    StyleBankConfig config_;
    std::shared_ptr<Layers> layers_;
};
TORCH_MODULE(StyleBankNet);

// A "stylebank" model file: config (StyleBankConfig + "style_names"), card, float32 tensors.
// Throws ConfigError when the names do not match the styles.
StyleModelFile make_stylebank_model_file(StyleBankNetImpl& net, const std::vector<std::string>& style_names,
                                         const ModelCard& card);
// The net a stylebank model file describes, on the CPU in eval mode; `style_names` (optional) gets
// one name per style. The config is checked against the tensors the file holds before anything is
// allocated. Throws InputError (not a stylebank model, a bad config) or WeightsError (tensors).
StyleBankNet load_stylebank_net(const StyleModelFile& file, std::vector<std::string>* style_names = nullptr);

} // namespace impasto::nn
