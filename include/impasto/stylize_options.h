#pragma once
// Every knob of a Gatys run, with its default defined here once. The CLI, the studio and the
// sidecar/report code read these defaults; presets start from them.
#include "impasto/device.h"
#include "impasto/image.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace impasto {

enum class OptimizerKind { Lbfgs, Adam };
enum class InitKind { Noise, Content, Style, File };
enum class Pooling { Max, Average };
enum class Precision { Fp32, Bf16, Fp16 };
enum class ColorControl { None, Luminance, Histogram };
// Paper: eq. 1-3 exactly. Normalized: each layer's term divided by the squared norm of its
// target, so one set of weights works across layers, images and sizes.
enum class LossScaling { Paper, Normalized };

// Caps on the work one run may ask for, checked by validate(). Real use stays far below each (print
// sizes up to 8192 px, schedules of a handful of steps, runs of a few thousand iterations); they
// keep a mistyped or hostile value from running for days or asking for more memory than exists.
inline constexpr int kMaxImageSide = 16384;        // output, every schedule step, every scaled style image
inline constexpr int kMaxScheduleSteps = 16;       // 16 px to 16384 px by doubling is 11 steps
inline constexpr int kMaxIterations = 100'000;     // per step, and in total over the whole schedule
inline constexpr int kMaxLayerEntries = 64;        // content_layers / style_layers (VGG19 has 37 names)
inline constexpr int kMaxLbfgsHistory = 1000;      // memory grows with history x image size (counted)
inline constexpr std::size_t kMaxStyleImages = 16; // style images of one run (each is a VGG pass per step)

// One step of a coarse-to-fine schedule: optimise at this long side for this many iterations.
struct ScaleStep {
    int long_side = 0;
    int iterations = 0;
};

struct StylizeOptions {
    std::string preset = "default";

    std::vector<std::string> content_layers{"relu4_2"};
    std::vector<std::string> style_layers{"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
    std::vector<double> style_layer_weights; // w_l of eq. 3; empty means 1/L each
    double content_weight = 1.0;             // alpha of eq. 4
    double style_weight = 30;                // beta of eq. 4
    double tv_weight = 1e-4;                 // total-variation term, on top of eq. 4
    LossScaling loss_scaling = LossScaling::Normalized;
    Pooling pooling = Pooling::Max;

    OptimizerKind optimizer = OptimizerKind::Lbfgs;
    int lbfgs_history = 50;
    bool lbfgs_line_search = false; // strong Wolfe; costs extra evaluations
    double learning_rate = 1.0;     // L-BFGS step; Adam uses adam_learning_rate
    double adam_learning_rate = 0.02;

    InitKind init = InitKind::Content;
    std::filesystem::path init_file; // for InitKind::File
    std::uint64_t seed = 0;
    double noise_stddev = 0.25; // white noise around mid-grey, in [0,1] image units

    int size = 512;                                       // long side of the output
    int iterations = 50;                                  // at the final scale (the last schedule step)
    std::vector<ScaleStep> scales{{256, 150}, {512, 50}}; // coarse to fine; empty = single scale
    double style_scale = 1.0;                             // style image long side = style_scale * content long side

    ColorControl color = ColorControl::None;
    Precision precision = Precision::Fp32; // the CLI resolves "auto"
    int preview_every = 0;                 // iterations between preview images in events; 0 = none
    // The largest image, in pixels, the run decodes (the init file) or puts through the network:
    // the content and every style image at every step, at their scaled sizes. Callers with their
    // own limit (the CLI's --max-pixels, the studio's) set it; stylize() refuses a run beyond it.
    std::int64_t max_pixels = kDefaultMaxPixels;

    // Throws ConfigError naming the field, the value and the allowed range.
    void validate() const;
    // The schedule actually run: `scales` scaled so that its last step is `size`, or one step.
    std::vector<ScaleStep> schedule() const;
    // Long side of the style images at a step of this long side: style_scale times it, at least 16.
    int style_long_side(int step_long_side) const;
};

// "paper" (Gatys 2016 exactly) and "default" (chosen by measurement for quality per second).
StylizeOptions preset_options(const std::string& name);
const std::vector<std::string>& preset_names();

const char* to_string(OptimizerKind value);
const char* to_string(InitKind value);
const char* to_string(Pooling value);
const char* to_string(Precision value);
const char* to_string(ColorControl value);
const char* to_string(LossScaling value);
// Parsers throw ConfigError listing the accepted names.
OptimizerKind parse_optimizer(const std::string& text);
InitKind parse_init(const std::string& text);
Pooling parse_pooling(const std::string& text);
Precision parse_precision(const std::string& text);
ColorControl parse_color(const std::string& text);
LossScaling parse_loss_scaling(const std::string& text);
// "256:200,512:100" -> steps; throws ConfigError.
std::vector<ScaleStep> parse_schedule(const std::string& text);
std::string format_schedule(const std::vector<ScaleStep>& steps);

} // namespace impasto
