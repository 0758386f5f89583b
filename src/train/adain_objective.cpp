// The AdaIN decoder objective (train/adain_objective.h).
#include "train/adain_objective.h"

#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/image.h"
#include "nn/vgg_decoder.h"
#include "train/image_folder_dataset.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace impasto::train {
namespace {

constexpr double kVarianceFloor = 1e-5;                // as AdaIN at inference: a flat channel has a finite std
constexpr std::uint64_t kPaintingSalt = 0x7061696eULL; // "pain"

// splitmix64: a crop's choices from (seed, step, sample, what) without shared generator state.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31U);
}

std::uint64_t draw(std::uint64_t seed, std::int64_t step, int sample, int what) {
    return mix(mix(mix(seed ^ kPaintingSalt) + static_cast<std::uint64_t>(step)) +
               static_cast<std::uint64_t>(sample) * 4U + static_cast<std::uint64_t>(what));
}

} // namespace

BatchMeanStd batch_mean_std(const torch::Tensor& features) {
    const torch::Tensor x = features.to(torch::kFloat);
    const torch::Tensor mean = x.mean({2, 3}, true);
    const torch::Tensor variance = (x - mean).pow(2).mean({2, 3}, true);
    return {mean, (variance + kVarianceFloor).sqrt()};
}

torch::Tensor adain_target(const torch::Tensor& content, const BatchMeanStd& style) {
    const BatchMeanStd own = batch_mean_std(content);
    return (content.to(torch::kFloat) - own.mean) / own.std * style.std + style.mean;
}

torch::Tensor mean_std_loss(const torch::Tensor& features, const BatchMeanStd& target) {
    const BatchMeanStd got = batch_mean_std(features);
    const torch::Tensor scale = target.mean.pow(2).sum() + target.std.pow(2).sum() + 1e-8;
    return ((got.mean - target.mean).pow(2).sum() + (got.std - target.std).pow(2).sum()) / scale;
}

std::vector<std::string> adain_style_layers(const std::string& level) {
    const std::vector<std::string>& levels = nn::decoder_levels();
    const auto end = std::find(levels.begin(), levels.end(), level);
    if (end == levels.end()) {
        throw ConfigError(fmt::format("'{}' is not a decoder level", level));
    }
    return {levels.begin(), end + 1};
}

PaintingCrops::PaintingCrops(const std::vector<std::filesystem::path>& folders, int long_side, int crop,
                             std::uint64_t seed)
    : files_(list_training_images(folders)), crop_(crop), seed_(seed) {
    for (const std::filesystem::path& file : files_) {
        Image image;
        try {
            image = load_image(file);
        } catch (const Error& e) {
            rethrow_with_context(InputError(e.what()), "style data");
        }
        Image sized = resize_long_side(image, long_side);
        if (std::min(sized.width, sized.height) < crop) {
            // A painting narrower than a crop at this size is enlarged until it holds one.
            const double scale = static_cast<double>(crop) / std::min(sized.width, sized.height);
            sized = resize_image(image, std::max(crop, static_cast<int>(std::lround(sized.width * scale))),
                                 std::max(crop, static_cast<int>(std::lround(sized.height * scale))));
        }
        images_.push_back(detail::image_to_tensor(sized, torch::kCPU)[0].contiguous());
    }
}

torch::Tensor PaintingCrops::batch(std::int64_t step, int batch, const torch::Device& device) const {
    std::vector<torch::Tensor> crops;
    for (int b = 0; b < batch; ++b) {
        const torch::Tensor& image = images_[draw(seed_, step, b, 0) % images_.size()];
        const auto top =
            static_cast<std::int64_t>(draw(seed_, step, b, 1) % static_cast<std::uint64_t>(image.size(1) - crop_ + 1));
        const auto left =
            static_cast<std::int64_t>(draw(seed_, step, b, 2) % static_cast<std::uint64_t>(image.size(2) - crop_ + 1));
        torch::Tensor window = image.slice(1, top, top + crop_).slice(2, left, left + crop_);
        if ((draw(seed_, step, b, 3) & 1U) != 0) {
            window = window.flip({2});
        }
        crops.push_back(window);
    }
    return torch::stack(crops).to(device);
}

} // namespace impasto::train
