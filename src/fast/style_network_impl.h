#pragma once
// What a loaded StyleNetwork holds, for the engine's own code (benchmarks, the studio's model cache).
#include "impasto/fast_style.h"
#include "nn/stylebank.h"
#include "nn/transformer_net.h"

#include <string>
#include <vector>

namespace impasto {

struct StyleNetwork::Impl {
    // Only ever run in NormStatistics::Live, so concurrent calls share it safely; tiled runs
    // (which capture statistics) work on a private copy, see stylize_fast.
    // mutable: torch modules have no const forward; the Live-mode forward changes nothing.
    // One of the two, as `kind` says.
    StyleModelKind kind = StyleModelKind::Transformer;
    mutable nn::TransformerNet net{nullptr};
    mutable nn::StyleBankNet bank{nullptr};
    std::vector<std::string> style_names;
    ModelCard card;
    Device device;
    std::int64_t parameters = 0;
};

namespace fast {

// Working memory of one transformer-net forward pass per pixel of the image, calibrated against the
// peak RSS of real runs (see style_network.cpp).
double transformer_bytes_per_pixel(const nn::TransformerNetConfig& config, Precision precision);
// The same for a StyleBank network with `masks` mask channels.
double stylebank_bytes_per_pixel(const nn::StyleBankConfig& config, Precision precision, int masks);

// Whole, or in tiles when tiling asks for it or the budget demands it, with statistics from the whole
// image (a downscaled pass): the network pass of stylize_fast for each kind. `x` is `input` as a
// tensor on the network's device; the options are validated.
torch::Tensor run_transformer(const StyleNetwork::Impl& impl, const Image& input, const torch::Tensor& x,
                              const FastStylizeOptions& options, std::int64_t budget);
torch::Tensor run_stylebank(const StyleNetwork::Impl& impl, const Image& input, const torch::Tensor& x,
                            const FastStylizeOptions& options, std::int64_t budget);

} // namespace fast
} // namespace impasto
