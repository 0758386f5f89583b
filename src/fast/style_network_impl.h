#pragma once
// What a loaded StyleNetwork holds, for the engine's own code (benchmarks, the studio's model cache).
#include "impasto/fast_style.h"
#include "nn/transformer_net.h"

#include <string>
#include <vector>

namespace impasto {

struct StyleNetwork::Impl {
    // Only ever run in NormStatistics::Live, so concurrent calls share it safely; tiled runs
    // (which capture statistics) work on a private copy, see stylize_fast.
    // mutable: torch modules have no const forward; the Live-mode forward changes nothing.
    mutable nn::TransformerNet net{nullptr};
    std::vector<std::string> style_names;
    ModelCard card;
    Device device;
    std::int64_t parameters = 0;
};

namespace fast {

// Working memory of one transformer-net forward pass per pixel of the image, calibrated against the
// peak RSS of real runs (see style_network.cpp).
double transformer_bytes_per_pixel(const nn::TransformerNetConfig& config, Precision precision);

} // namespace fast
} // namespace impasto
