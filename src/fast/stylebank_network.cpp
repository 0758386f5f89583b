// The network pass of stylize_fast for a StyleBank network: linear fusion of banks by weight,
// region fusion by masks, tiling with whole-image statistics (masks travel with the tiles).
#include "core/tensor_image.h"
#include "fast/style_network_impl.h"
#include "fast/tiling.h"
#include "impasto/error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace impasto::fast {
namespace {

// A private copy for runs that capture normalisation statistics, so the shared net stays stateless.
nn::StyleBankNet private_copy(nn::StyleBankNetImpl& shared, const torch::Device& device) {
    nn::StyleBankNet copy(shared.config());
    copy->to(device);
    copy->eval();
    const torch::NoGradGuard no_grad;
    const auto source = shared.named_parameters();
    for (auto& item : copy->named_parameters()) {
        item.value().copy_(source[item.key()]);
    }
    return copy;
}

// The masks as [1, styles, H, W] float at the input's size (channel 0 of each mask image).
torch::Tensor mask_stack(const std::vector<Image>& masks, const Image& input, const torch::Device& device) {
    std::vector<torch::Tensor> channels;
    for (std::size_t i = 0; i < masks.size(); ++i) {
        if (masks[i].empty()) {
            throw InputError(fmt::format("stylize: mask {} is empty", i + 1));
        }
        const Image resized = resize_image(masks[i], input.width, input.height);
        channels.push_back(detail::image_to_tensor(resized, device).narrow(1, 0, 1).to(torch::kFloat));
    }
    return torch::cat(channels, 1).clamp(0, 1);
}

} // namespace

// As transformer_bytes_per_pixel: the decoder's last stages are the transformer's (the banks run at
// a sixteenth of the pixels), plus the mask channels in float and their padded copy.
double stylebank_bytes_per_pixel(const nn::StyleBankConfig& config, Precision precision, int masks) {
    nn::TransformerNetConfig like;
    like.width = config.width;
    const double banks = static_cast<double>(std::min(config.styles, 4) + 2) * nn::scaled_channels(128, config.width) *
                         (precision == Precision::Fp32 ? 4.0 : 2.0) / 16.0;
    return transformer_bytes_per_pixel(like, precision) + banks + 8.0 * masks;
}

torch::Tensor run_stylebank(const StyleNetwork::Impl& impl, const Image& input, const torch::Tensor& x,
                            const FastStylizeOptions& options, std::int64_t budget) {
    const torch::Device device = x.device();
    nn::StyleBankNetImpl& shared = *impl.bank;
    const int styles = shared.config().styles;
    // With masks and no weights every style counts equally (each where its mask is white).
    std::vector<double> weights = options.style_weights;
    if (weights.empty() && !options.masks.empty()) {
        weights.assign(static_cast<std::size_t>(styles), 1.0);
    }
    torch::Tensor masks;
    if (!options.masks.empty()) {
        masks = mask_stack(options.masks, input, device);
        double covered = 0;
        for (int i = 0; i < styles; ++i) {
            covered += weights[static_cast<std::size_t>(i)] * masks.narrow(1, i, 1).sum().item<double>();
        }
        if (!(covered > 0)) {
            throw ConfigError("stylize: the masks cover nothing (every mask of a style with weight > 0 is black)");
        }
    }

    const TilingOptions& tiling = options.tiling;
    const double bytes_per_pixel =
        stylebank_bytes_per_pixel(shared.config(), options.precision, masks.defined() ? styles : 0);
    const int long_side = std::max(input.width, input.height);
    const double pixels = static_cast<double>(input.width) * input.height;
    const bool over_budget = pixels * bytes_per_pixel > static_cast<double>(budget);
    const bool tile_requested = tiling.tile > 0 && tiling.tile < long_side;
    if (!over_budget && !tile_requested) {
        return shared.forward(x, weights, masks);
    }
    const int tile = tiling.tile > 0 ? tiling.tile : choose_tile_size(budget, bytes_per_pixel, tiling.overlap);
    if (static_cast<double>(tile) * tile * bytes_per_pixel > static_cast<double>(budget) && tiling.tile == 0) {
        throw ResourceError(fmt::format(
            "stylize: even the smallest tile ({0}x{0} px, about {1} MB) exceeds the memory budget of {2} MB", tile,
            static_cast<std::int64_t>(tile * tile * bytes_per_pixel / 1e6), budget / 1000000));
    }
    nn::StyleBankNet net = private_copy(shared, device);
    // Statistics from the whole picture (masks included), downscaled as far as needed to fit the budget.
    const int fitting = static_cast<int>(std::sqrt(static_cast<double>(budget) / bytes_per_pixel));
    const int stats_side = std::max(16, std::min({tiling.statistics_size, long_side, fitting}));
    torch::Tensor stats_input = x;
    torch::Tensor stats_masks = masks;
    if (stats_side < long_side) {
        const Image small = resize_long_side(input, stats_side);
        stats_input = detail::image_to_tensor(small, device);
        if (masks.defined()) {
            stats_masks = torch::adaptive_avg_pool2d(masks, {small.height, small.width});
        }
    }
    net->set_norm_statistics(nn::NormStatistics::Capture);
    net->forward(stats_input, weights, stats_masks);
    net->set_norm_statistics(nn::NormStatistics::Fixed);
    // Masks travel as extra channels after RGB, so that each tile carries its part of them.
    const torch::Tensor stacked = masks.defined() ? torch::cat({x.to(torch::kFloat), masks}, 1) : x;
    const torch::Tensor out = run_tiled(
        stacked, tile, tiling.overlap,
        [&](const torch::Tensor& piece) {
            const torch::Tensor tile_masks = masks.defined() ? piece.narrow(1, 3, styles) : torch::Tensor();
            return net->forward(piece.narrow(1, 0, 3).to(x.scalar_type()), weights, tile_masks).to(torch::kFloat);
        },
        4);
    net->clear_captured_statistics();
    return out;
}

} // namespace impasto::fast
