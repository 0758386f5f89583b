#pragma once
// Huang & Belongie 2017's objective for an AdaIN decoder (sec. 6.2, eq. 11-13), added to the
// reconstruction objective of train_decoder: the decoder also decodes t = AdaIN(photo, painting)
// at its level, and the result g(t) is scored by content, ||f(g(t)) - t||^2 at the level, and by
// style, the distance between the mean and standard deviation of its features and the painting's
// at relu1_1..the level. Reconstruction alone teaches a decoder to give back photos; this teaches
// it to render the statistics AdaIN asks for, which is what makes the output look painted.
#include "core/torch_compat.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace impasto::train {

// Per-sample, per-channel statistics of features [N,C,H,W], each [N,C,1,1], in fp32.
struct BatchMeanStd {
    torch::Tensor mean;
    torch::Tensor std;
};
BatchMeanStd batch_mean_std(const torch::Tensor& features);

// AdaIN per sample: `content` normalised by its own statistics and given `style`'s (fp32).
torch::Tensor adain_target(const torch::Tensor& content, const BatchMeanStd& style);

// Style term of one layer, normalised like the other training losses (about 1 when the statistics
// share nothing): (|mu - mu_s|^2 + |sigma - sigma_s|^2) / (|mu_s|^2 + |sigma_s|^2), summed over the batch.
torch::Tensor mean_std_loss(const torch::Tensor& features, const BatchMeanStd& target);

// The style layers for a decoder of `level`: relu1_1 up to and including it.
std::vector<std::string> adain_style_layers(const std::string& level);

// Crops of paintings for the style side. There are few paintings and they are large, so each is
// decoded once and kept in memory at `long_side` px (the size `--style-size` gives them at
// inference, so the crops show strokes at the scale AdaIN will see); a crop is a random window
// and flip. Crops of step s depend only on (seed, s).
class PaintingCrops {
  public:
    // Throws InputError when a folder holds no image or an image fails to decode.
    PaintingCrops(const std::vector<std::filesystem::path>& folders, int long_side, int crop, std::uint64_t seed);
    // [batch, 3, crop, crop] in [0,1] on `device`.
    torch::Tensor batch(std::int64_t step, int batch, const torch::Device& device) const;
    const std::vector<std::filesystem::path>& files() const { return files_; }

  private:
    std::vector<std::filesystem::path> files_;
    std::vector<torch::Tensor> images_; // [3,H,W] fp32, both sides >= crop
    int crop_;
    std::uint64_t seed_;
};

} // namespace impasto::train
