#pragma once
// What each layer captures (Gatys, Ecker & Bethge 2016, Fig. 1): images reconstructed from white
// noise so that their features at one layer match a photo (content), or their Gram matrices over
// a set of layers match a painting (style); and the most active feature maps of a layer.
//
// Both reconstructions run the stylize() engine with one term switched off (weight 0: no targets,
// no features for it), so they report progress, cancel and record history exactly as stylize does.
#include "impasto/image.h"
#include "impasto/model.h"
#include "impasto/stylize.h"

#include <cstdint>
#include <string>
#include <vector>

namespace impasto {

struct ReconstructOptions {
    int size = 256;         // long side of the output
    int iterations = 300;   // objective evaluations, line-search ones included
    std::uint64_t seed = 0; // of the white-noise start
    double noise_stddev = 0.25;
    Pooling pooling = Pooling::Average; // as in the paper's figures (its Sec. 2)
    // Eq. 1 and eq. 3 as written, as in Fig. 1. For one content layer the normalised variant is
    // the same objective times a constant (L-BFGS is scale-invariant after its first step, which
    // is scaled by 1/|g|_1, so both converge alike); for several style layers it weighs the deep
    // layers more, which gives larger-scale structure but is not the paper's objective.
    LossScaling loss_scaling = LossScaling::Paper;
    // Strong Wolfe. Without it, the unit step of L-BFGS overshoots on the quartic Gram loss: a
    // 64 px relu1_1 style run jumped from 2.8e5 to 7.8e19 at its third evaluation. For content it
    // costs nothing measurable (same loss after 100 evaluations at 128 px).
    bool line_search = true;
    int lbfgs_history = 100;
    Precision precision = Precision::Fp32; // the question is how exactly a layer fixes the image
    int preview_every = 0;
    std::int64_t max_pixels = kDefaultMaxPixels; // the engine's cap on the image it optimises (StylizeOptions)

    void validate() const; // throws ConfigError naming the field, the value and the range
};

// The layers of Fig. 1: content from conv1_2 ... conv5_2, style from growing sets conv1_1,
// +conv2_1, ... +conv5_1 (our relu names: Caffe's ReLU is in place).
const std::vector<std::string>& figure1_content_layers();
const std::vector<std::vector<std::string>>& figure1_style_layer_sets();
// "relu1_1", "relu1_1+relu2_1", ...
std::string layer_set_label(const std::vector<std::string>& layers);

// The engine options each reconstruction runs with (for sidecars and cache keys).
StylizeOptions content_reconstruction_options(const std::string& layer, const ReconstructOptions& options);
StylizeOptions style_reconstruction_options(const std::vector<std::string>& layers, const ReconstructOptions& options);

// Eq. 1 only (alpha = 1), at `layer`, from seeded white noise; the output has the content's aspect
// ratio. Throws ConfigError for an unknown layer, InputError for an empty image.
StylizeResult reconstruct_content(const FeatureModel& model, const Image& content, const std::string& layer,
                                  const ReconstructOptions& options, const ProgressCallback& on_progress = {});

// Eq. 3 only (beta = 1, w_l = 1/L), over `layers`, from seeded white noise; the output has the
// style image's aspect ratio. Throws ConfigError for an empty or unknown layer list.
StylizeResult reconstruct_style(const FeatureModel& model, const Image& style, const std::vector<std::string>& layers,
                                const ReconstructOptions& options, const ProgressCallback& on_progress = {});

// The loss of the image a reconstruction returned: with the line search, the lowest evaluated
// (the engine keeps the best point it evaluated, not a later trial point); without, the last
// evaluation. 0 when nothing was evaluated.
double final_loss(const StylizeResult& result, const ReconstructOptions& options);

struct FeatureMaps {
    Image grid;                          // tiles of the most active channels, each scaled to [0,1]
    std::vector<int> channels;           // channel indices, most active first
    std::vector<double> mean_activation; // mean over positions, same order
    int columns = 0;
    int rows = 0;
    int tile_width = 0; // a tile is the layer's map magnified by an integer factor
    int tile_height = 0;
    int map_width = 0; // the layer's own resolution
    int map_height = 0;
};

// Separator between tiles, in pixels (white).
inline constexpr int kFeatureGridGap = 2;

// The `count` channels of `layer` with the highest mean activation for `image` (long side
// `size`), tiled in a near-square grid, tiles magnified so their long side is >= 64 px.
// Throws ConfigError for an unknown layer or a count outside 1..channels, and ResourceError when
// the scaled image or the grid has more than `max_pixels` pixels, or the pass does not fit in memory.
FeatureMaps feature_maps(const FeatureModel& model, const Image& image, const std::string& layer, int count, int size,
                         Pooling pooling = Pooling::Average, std::int64_t max_pixels = kDefaultMaxPixels);

} // namespace impasto
