#pragma once
// Gatys, Ecker & Bethge (CVPR 2016) style transfer by optimisation.
#include "impasto/image.h"
#include "impasto/model.h"
#include "impasto/stylize_options.h"

#include <functional>
#include <string>
#include <vector>

namespace impasto {

struct StyleImage {
    Image image;
    double blend_weight = 1.0; // several styles: their Gram targets are mixed with these weights
};

struct LossValues {
    double content = 0; // alpha * L_content
    double style = 0;   // beta * L_style
    double tv = 0;      // tv_weight * L_tv
    double total = 0;
};

enum class Stage { Preparing, Optimizing, Finished };
const char* to_string(Stage stage);

struct ProgressEvent {
    Stage stage = Stage::Preparing;
    int scale_index = 0; // 0-based step of the coarse-to-fine schedule
    int scale_count = 1;
    int width = 0;
    int height = 0;
    int iteration = 0; // within this scale, 1-based after the first evaluation
    int iterations = 0;
    int total_iteration = 0; // across scales
    int total_iterations = 0;
    LossValues losses;
    double elapsed_seconds = 0;
    const Image* preview = nullptr; // set every preview_every iterations, valid during the call
};

// Return false to stop: the run ends at once and returns the current image, marked cancelled.
using ProgressCallback = std::function<bool(const ProgressEvent&)>;

struct LossRecord {
    int scale_index = 0;
    int iteration = 0;
    LossValues losses;
    double elapsed_seconds = 0;
};

struct StageTime {
    std::string name;
    double seconds = 0;
};

struct StylizeResult {
    Image image;
    std::vector<LossRecord> history;
    std::vector<StageTime> stage_times;
    bool cancelled = false;
    int iterations_done = 0;
    int width = 0;
    int height = 0;
};

// Throws ConfigError (bad options), InputError (bad init file), ResourceError (too large).
StylizeResult stylize(const FeatureModel& model, const Image& content, const std::vector<StyleImage>& styles,
                      const StylizeOptions& options, const ProgressCallback& on_progress = {});

struct ImageSize {
    int width = 0;
    int height = 0;
};

// The images of a run at their decoded sizes. The work limits and the memory model scale them to
// every step of the schedule, as stylize() does: the content to the step's long side, every style
// image to options.style_long_side() of it.
struct RunImageSizes {
    ImageSize content;
    std::vector<ImageSize> styles;
    ImageSize init; // the decoded init file (InitKind::File), else 0x0
};
RunImageSizes run_image_sizes(const Image& content, const std::vector<StyleImage>& styles, const Image& init = {});
// The size resize_long_side() gives an image of `image`'s size.
ImageSize scaled_to_long_side(ImageSize image, int long_side);

// Throws ConfigError for more than kMaxStyleImages style images, and ResourceError, naming the image,
// the step and the limit, when any image the network sees (the content at a step, a style image at
// its scaled size) has more than options.max_pixels pixels. stylize() calls it before the first step.
void check_work_limits(const StylizeOptions& options, const RunImageSizes& images);

// Rough peak memory of the schedule step with output `width` x `height`: the optimised image with
// its activations and L-BFGS history, or the forward passes that make the targets (the content, each
// style image at its scaled size) if larger, plus every image the run holds.
std::int64_t estimate_peak_memory(const StylizeOptions& options, int width, int height, const RunImageSizes& images);
// The largest --size (long side) whose every step fits in `budget_bytes` and within the work limits;
// 16 when none does.
int largest_size_that_fits(const StylizeOptions& options, const RunImageSizes& images, std::int64_t budget_bytes);
// Throws ResourceError, naming a --size that would fit, unless every step of the schedule fits in
// `available_bytes`. stylize() calls it before the first step.
void check_memory_fits(const StylizeOptions& options, const RunImageSizes& images, std::int64_t available_bytes);

// Rough peak memory of one forward pass through VGG without gradients, for an image of this size.
std::int64_t estimate_forward_memory(int width, int height);

// The same with the style images unknown: they count as one square style image (the most pixels a
// long side allows), the content as `width` x `height` or of this aspect ratio.
std::int64_t estimate_peak_memory(const StylizeOptions& options, int width, int height);
int largest_size_that_fits(const StylizeOptions& options, double aspect, std::int64_t budget_bytes);
void check_memory_fits(const StylizeOptions& options, int content_width, int content_height,
                       std::int64_t available_bytes);

} // namespace impasto
