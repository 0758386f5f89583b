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

// Rough peak memory of a run at this output size, and the largest long side that fits in
// `budget_bytes` for the content's aspect ratio.
std::int64_t estimate_peak_memory(const StylizeOptions& options, int width, int height);
int largest_size_that_fits(const StylizeOptions& options, double aspect, std::int64_t budget_bytes);
// Throws ResourceError, naming a --size that would fit, unless every step of the schedule fits in
// `available_bytes` for content of this size. stylize() calls it before the first step.
void check_memory_fits(const StylizeOptions& options, int content_width, int content_height,
                       std::int64_t available_bytes);

} // namespace impasto
