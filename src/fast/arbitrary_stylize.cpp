// stylize_arbitrary: encode, transform, decode, level by level (Li et al. 2017, Fig. 2 and Sec. 3.2),
// whole or tile by tile.
#include "core/tensor_image.h"
#include "fast/arbitrary_impl.h"
#include "fast/feature_transforms.h"
#include "fast/guided_upsample.h"
#include "fast/tiling.h"
#include "gatys/objective.h"
#include "impasto/color.h"
#include "impasto/error.h"
#include "impasto/stylize.h"
#include "nn/vgg.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace impasto {
namespace {

using fast::AffineMap;

// One style's statistics at one level: mean and std (AdaIN) or mean and covariance (WCT).
struct LevelStyle {
    fast::MeanStd mean_std;
    fast::MeanCovariance mean_covariance;
};

struct Run {
    const FeatureModel::Impl& encoder;
    const DecoderSet::Impl& decoders;
    const ArbitraryOptions& options;
    torch::Device device;
    c10::ScalarType dtype;
    std::vector<double> weights;
    std::vector<int> mask_channel;                         // per style: its channel after RGB in the level input, or -1
    std::map<std::string, std::vector<LevelStyle>> styles; // level -> per style
};

torch::Tensor encode(const Run& run, const torch::Tensor& rgb, const std::vector<std::string>& levels,
                     const std::string& level) {
    const detail::AutocastGuard autocast(run.device.type(), run.dtype);
    return nn::extract_features(run.encoder, rgb, levels, Pooling::Max).at(level);
}

// Pads the bottom and right edges to a multiple of `stride` (reflection; replication where the
// image is too small to reflect), so that the decoder gives back at least the input's size.
torch::Tensor pad_to_multiple(const torch::Tensor& x, std::int64_t stride) {
    const std::int64_t bottom = (stride - x.size(2) % stride) % stride;
    const std::int64_t right = (stride - x.size(3) % stride) % stride;
    if (bottom == 0 && right == 0) {
        return x;
    }
    if (bottom < x.size(2) && right < x.size(3)) {
        return torch::reflection_pad2d(x, {0, right, 0, bottom});
    }
    return torch::replication_pad2d(x, {0, right, 0, bottom});
}

AffineMap measure_map(const Run& run, const std::string& level, std::size_t style, const torch::Tensor& features,
                      const torch::Tensor& mask) {
    try {
        const LevelStyle& target = run.styles.at(level)[style];
        if (run.options.method == TransformMethod::Adain) {
            return fast::adain_map(fast::mean_std(features, mask), target.mean_std);
        }
        return fast::wct_map(fast::mean_covariance(features, mask), target.mean_covariance, run.options.wct_epsilon);
    } catch (const ConfigError& error) {
        rethrow_with_context(error, "style #" + std::to_string(style + 1) + " at " + level);
    }
}

// One level of the pipeline on `input` [1,3+masks,h,w] -> RGB [1,3,h,w]. The content statistics
// are measured on this input unless `fixed` maps are given; `record` receives the maps used.
torch::Tensor run_level(const Run& run, const std::string& level, const torch::Tensor& input,
                        const std::vector<AffineMap>* fixed, std::vector<AffineMap>* record) {
    const std::int64_t height = input.size(2);
    const std::int64_t width = input.size(3);
    const torch::Tensor padded = pad_to_multiple(input, layer_stride(level));
    const torch::Tensor features = encode(run, padded.slice(1, 0, 3), {level}, level);
    std::vector<torch::Tensor> masks(run.weights.size());
    for (std::size_t i = 0; i < masks.size(); ++i) {
        if (run.mask_channel[i] >= 0) {
            masks[i] = fast::resize_mask(padded[0][3 + run.mask_channel[i]], features.size(2), features.size(3));
        }
    }
    std::vector<AffineMap> maps;
    if (fixed != nullptr) {
        maps = *fixed;
    } else {
        for (std::size_t i = 0; i < masks.size(); ++i) {
            maps.push_back(measure_map(run, level, i, features, masks[i]));
        }
    }
    if (record != nullptr) {
        *record = maps;
    }
    const torch::Tensor transformed =
        fast::blend(fast::apply_masked_maps(maps, run.weights, masks, features), features, run.options.alpha);
    torch::Tensor decoded;
    {
        const detail::AutocastGuard autocast(run.device.type(), run.dtype);
        nn::VggDecoder decoder = run.decoders.decoders.at(level).decoder;
        decoded = decoder->forward(transformed);
    }
    // Clamped: the next level's encoder, like the decoders' training, sees images in [0,1].
    return decoded.slice(2, 0, height).slice(3, 0, width).to(torch::kFloat).clamp(0.0, 1.0).contiguous();
}

std::vector<std::string> resolve_levels(const ArbitraryOptions& options, const DecoderSet& decoders) {
    std::vector<std::string> levels = options.levels;
    if (levels.empty()) {
        if (options.method == TransformMethod::Adain) {
            levels = {"relu4_1"};
        } else {
            levels = decoders.levels();
            std::reverse(levels.begin(), levels.end());
        }
    }
    for (const std::string& level : levels) {
        if (!decoders.has(level)) {
            std::string known;
            for (const std::string& name : decoders.levels()) {
                known += (known.empty() ? "" : ", ") + name;
            }
            throw ConfigError("no decoder for level '" + level + "'; the decoders cover: " + known);
        }
    }
    return levels;
}

// Working memory per output pixel, roughly: the full-resolution 64-channel encoder and decoder
// layers (padded copies, conv outputs, ReLUs) and, at relu1_1, the float32 transform copies.
double bytes_per_pixel(std::size_t mask_count) {
    return 1536.0 + 32.0 * static_cast<double>(3 + mask_count);
}

// 0 = no tiling.
int tile_size(const TilingOptions& tiling, int width, int height, double per_pixel, const Device& device) {
    const int long_side = std::max(width, height);
    if (tiling.tile > 0) {
        return tiling.tile < long_side ? tiling.tile : 0;
    }
    const std::int64_t budget =
        tiling.memory_budget_bytes > 0 ? tiling.memory_budget_bytes : available_memory_bytes(device) / 2;
    if (per_pixel * width * height <= static_cast<double>(budget)) {
        return 0;
    }
    const int tile = fast::choose_tile_size(budget, per_pixel, tiling.overlap);
    return tile < long_side ? tile : 0;
}

// The output is tiled to fit, but each style image goes through the encoder whole, at style_size.
void check_image_sizes(const FeatureModel& encoder, const Image& content, const std::vector<ArbitraryStyle>& styles,
                       const ArbitraryOptions& options) {
    if (styles.size() > kMaxStyleImages) {
        throw ConfigError(
            fmt::format("style images = {} is out of range; allowed: 1..{}", styles.size(), kMaxStyleImages));
    }
    const auto pixels = [](ImageSize size) { return static_cast<std::int64_t>(size.width) * size.height; };
    const ImageSize output = options.size > 0 ? scaled_to_long_side({content.width, content.height}, options.size)
                                              : ImageSize{content.width, content.height};
    if (pixels(output) > options.max_pixels) {
        throw ResourceError(fmt::format("the output {}x{} has more than {} pixels (max pixels); lower the size",
                                        output.width, output.height, options.max_pixels));
    }
    const std::int64_t available = available_memory_bytes(encoder.device());
    for (std::size_t i = 0; i < styles.size(); ++i) {
        const ImageSize style =
            scaled_to_long_side({styles[i].image.width, styles[i].image.height}, options.style_size);
        if (pixels(style) > options.max_pixels) {
            throw ResourceError(fmt::format("style #{} at style size {} is {}x{}, more than {} pixels (max pixels); "
                                            "lower the style size",
                                            i + 1, options.style_size, style.width, style.height, options.max_pixels));
        }
        const double needed = static_cast<double>(pixels(style)) * bytes_per_pixel(0);
        if (needed > static_cast<double>(available)) {
            throw ResourceError(fmt::format("style #{} at style size {} ({}x{}) needs about {:.1f} GB for its encoder "
                                            "pass but {:.1f} GB is available; lower the style size",
                                            i + 1, options.style_size, style.width, style.height, needed / 1e9,
                                            static_cast<double>(available) / 1e9));
        }
    }
}

void check_inputs(const FeatureModel& encoder, const Image& content, const std::vector<ArbitraryStyle>& styles,
                  const ArbitraryOptions& options) {
    options.validate();
    if (encoder.architecture() != Architecture::Vgg19) {
        throw ConfigError("arbitrary style needs the vgg19 encoder its decoders invert; weight set '" +
                          encoder.info().name + "' is " + architecture_name(encoder.architecture()));
    }
    if (options.precision == Precision::Fp16 && encoder.device().kind == DeviceKind::Cpu) {
        throw ConfigError("precision fp16 needs a CUDA device; on CPU use bf16 or fp32");
    }
    if (content.empty()) {
        throw InputError("the content image is empty");
    }
    if (styles.empty()) {
        throw ConfigError("no style image given; arbitrary style needs at least one");
    }
    double total = 0;
    for (std::size_t i = 0; i < styles.size(); ++i) {
        const std::string name = "style #" + std::to_string(i + 1);
        if (styles[i].image.empty()) {
            throw InputError(name + " image is empty");
        }
        const double w = styles[i].weight;
        if (!std::isfinite(w) || w < 0) {
            throw ConfigError(name + " weight = " + std::to_string(w) + " is out of range; allowed: >= 0");
        }
        total += w;
    }
    if (total <= 0) {
        throw ConfigError("style weights sum to 0; at least one must be > 0");
    }
    check_image_sizes(encoder, content, styles, options);
}

// `image` (already at the output size) computed at `work` px and brought back to its size with
// its own edges. Luminance-only colour acts on the output, so it follows at full size; histogram
// matching recolours the style images and stays in the run at the work size.
Image stylize_at_work_size(const FeatureModel& encoder, const DecoderSet& decoders, const Image& image,
                           const std::vector<ArbitraryStyle>& styles, const ArbitraryOptions& options, int work) {
    ArbitraryOptions low = options;
    low.size = 0;
    low.work_size = 0;
    if (low.color == ColorControl::Luminance) {
        low.color = ColorControl::None;
    }
    const Image small = resize_long_side(image, work);
    const Image stylised = stylize_arbitrary(encoder, decoders, small, styles, low);
    const Image result = fast::guided_upsample(stylised, small, image, nn::to_torch(encoder.device()));
    return options.color == ColorControl::Luminance ? combine_luminance(result, image) : result;
}

} // namespace

Image stylize_arbitrary(const FeatureModel& encoder, const DecoderSet& decoders, const Image& content,
                        const std::vector<ArbitraryStyle>& styles, const ArbitraryOptions& options) {
    check_inputs(encoder, content, styles, options);
    const std::vector<std::string> levels = resolve_levels(options, decoders);
    const Image image = options.size > 0 ? resize_long_side(content, options.size) : content;
    if (const int work = fast::working_long_side(options.work_size, image.width, image.height); work > 0) {
        return stylize_at_work_size(encoder, decoders, image, styles, options, work);
    }
    const torch::InferenceMode inference;
    const torch::Device device = nn::to_torch(encoder.device());
    Run run{encoder.impl(), decoders.impl(), options, device, gatys::autocast_dtype(options.precision), {}, {}, {}};

    // The styles' statistics at every level, from one encoder pass each.
    for (const ArbitraryStyle& style : styles) {
        run.weights.push_back(style.weight);
        Image style_image = resize_long_side(style.image, options.style_size);
        if (options.color == ColorControl::Histogram) {
            style_image = match_color_histogram(style_image, image);
        }
        nn::FeatureMap features;
        {
            const detail::AutocastGuard autocast(device.type(), run.dtype);
            features =
                nn::extract_features(run.encoder, detail::image_to_tensor(style_image, device), levels, Pooling::Max);
        }
        for (const std::string& level : levels) {
            LevelStyle stats;
            if (options.method == TransformMethod::Adain) {
                stats.mean_std = fast::mean_std(features.at(level));
            } else {
                stats.mean_covariance = fast::mean_covariance(features.at(level));
            }
            run.styles[level].push_back(stats);
        }
    }
    // Masks travel as extra channels after RGB, so that tiles carry their part of each mask.
    std::vector<torch::Tensor> masks;
    for (const ArbitraryStyle& style : styles) {
        run.mask_channel.push_back(style.mask.empty() ? -1 : static_cast<int>(masks.size()));
        if (!style.mask.empty()) {
            const Image resized = resize_image(style.mask, image.width, image.height);
            masks.push_back(detail::image_to_tensor(resized, device).slice(1, 0, 1));
        }
    }
    const torch::Tensor mask_stack = masks.empty() ? torch::Tensor() : torch::cat(masks, 1);
    const auto with_masks = [](const torch::Tensor& rgb, const torch::Tensor& stack) {
        return stack.defined() ? torch::cat({rgb, stack}, 1) : rgb;
    };

    torch::Tensor x = detail::image_to_tensor(image, device);
    const int tile =
        tile_size(options.tiling, image.width, image.height, bytes_per_pixel(masks.size()), encoder.device());
    if (tile == 0) {
        for (const std::string& level : levels) {
            x = run_level(run, level, with_masks(x, mask_stack), nullptr, nullptr);
        }
    } else {
        // The content statistics of every level from an untiled pass at statistics_size, then
        // each level tile by tile with those statistics fixed.
        const Image small = std::max(image.width, image.height) > options.tiling.statistics_size
                                ? resize_long_side(image, options.tiling.statistics_size)
                                : image;
        torch::Tensor y = detail::image_to_tensor(small, device);
        const torch::Tensor small_masks =
            mask_stack.defined() ? torch::adaptive_avg_pool2d(mask_stack, {small.height, small.width}) : mask_stack;
        std::map<std::string, std::vector<AffineMap>> maps;
        for (const std::string& level : levels) {
            y = run_level(run, level, with_masks(y, small_masks), nullptr, &maps[level]);
        }
        for (const std::string& level : levels) {
            const std::vector<AffineMap>& fixed = maps.at(level);
            // Tile origins on the level's pooling grid, where the tile leaves room for it.
            const int stride = layer_stride(level);
            const int align = stride <= tile - 2 * options.tiling.overlap ? stride : 1;
            x = fast::run_tiled(
                with_masks(x, mask_stack), tile, options.tiling.overlap,
                [&](const torch::Tensor& part) { return run_level(run, level, part, &fixed, nullptr); }, align);
        }
    }
    Image result = detail::tensor_to_image(x);
    if (options.color == ColorControl::Luminance) {
        result = combine_luminance(result, image);
    }
    return result;
}

} // namespace impasto
