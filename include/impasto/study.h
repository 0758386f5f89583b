#pragma once
// Studies: every combination of content images, style images and a grid over engine parameters
// (and weight sets), run resumably into a cache and summarised in one HTML report.
// A spec is a TOML or JSON file; see studies/ and the README for the format.
#include "impasto/evaluate.h"
#include "impasto/reconstruct.h"
#include "impasto/stylize.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace impasto {

// Caps on the work one study may ask for, checked when it is planned. The studies we run have a
// few dozen runs of a few hundred iterations; these stop a spec (or a typo) from queueing months.
inline constexpr std::size_t kMaxStudyRuns = 10'000;         // contents x styles x grid values
inline constexpr long long kMaxStudyIterations = 10'000'000; // over every run's whole schedule
inline constexpr std::size_t kMaxReconstructionLayers = 64;  // reconstruct.content_layers, .style_layer_sets

// One value from a spec, as written: a number, a string, a bool, or a list of numbers or strings.
struct SpecValue {
    enum class Kind { Number, String, Bool, NumberList, StringList };
    Kind kind = Kind::Number;
    double number = 0;
    std::string text;
    bool flag = false;
    std::vector<double> numbers;
    std::vector<std::string> strings;
    int line = 0; // 1-based line in the spec file, for error messages

    // Short human label for reports: "1e-03", "relu1_1+relu2_1", "true".
    std::string label() const;
};

// A parameter key of the spec ("style_weight") with the value it takes.
struct SpecSetting {
    std::string key;
    SpecValue value;
};

// One grid axis: every run takes one of `values` for `key`.
struct GridAxis {
    std::string key;
    int line = 0;
    std::vector<SpecValue> values;
};

// Gatys 2016 Fig. 1: content reconstructions from single layers and style reconstructions from
// growing sets of layers, plus the most active feature maps of one layer.
struct ReconstructionSpec {
    std::filesystem::path content; // empty: the study's first content image
    std::filesystem::path style;   // empty: the study's first style image
    std::vector<std::string> content_layers = figure1_content_layers();
    std::vector<std::vector<std::string>> style_layer_sets = figure1_style_layer_sets();
    std::string feature_layer = "relu3_1";
    int feature_count = 16;
    int size = 256;
    int iterations = 300;
    std::uint64_t seed = 0;
};

struct StudySpec {
    std::filesystem::path file; // the spec itself; relative paths in it resolve against its folder
    std::string title;
    std::string description;
    std::vector<std::filesystem::path> contents;
    std::vector<std::filesystem::path> styles;
    std::string preset = "default";
    std::string model = kDefaultWeightSet; // weight set; a "model" grid axis overrides it
    std::vector<SpecSetting> base;         // applied over the preset for every run
    std::vector<GridAxis> grid;            // every combination of values runs
    int evaluation_size = 0;               // long side for the evaluator; 0 = each run's size
    std::vector<std::string> matrix;       // two grid keys drawn as a matrix (Gatys 2016 Fig. 3)
    std::optional<ReconstructionSpec> reconstruction;
    // The parameter keys a spec may set in [base] or [grid].
    static const std::vector<std::string>& parameter_keys();
};

// Throws ConfigError "FILE:LINE: ..." naming the key: unknown key, unknown layer, a file that
// is not there, an empty grid axis, a value of the wrong type or out of range.
StudySpec load_study_spec(const std::filesystem::path& file);
enum class SpecFormat { Toml, Json };
StudySpec parse_study_spec(const std::string& text, SpecFormat format, const std::filesystem::path& file);

// One cell of the grid, with its options resolved.
struct StudyRun {
    int index = 0;
    int content_index = 0;
    int style_index = 0;
    std::vector<int> axis_values;      // per grid axis, the index of the value this run takes
    std::string model;                 // weight set name
    std::vector<SpecSetting> settings; // what the spec set for this run: [base], then its grid values
    StylizeOptions options;
    std::string label; // "tubingen × starry_night, style_weight=1e+03, seed=1"
};

// Every combination, in a stable order (content, style, then the grid axes, last varying fastest).
// Throws ConfigError "FILE:LINE: ..." when a combination is invalid, or when the study has more
// than kMaxStudyRuns runs or kMaxStudyIterations iterations in all.
std::vector<StudyRun> plan_study(const StudySpec& spec);

// What a finished run recorded.
struct StudyRunResult {
    StudyRun run;
    std::string key;                 // cache key: sha256 of inputs, options, weights and evaluator
    std::filesystem::path image;     // the output image (absolute)
    bool cached = false;             // found in the cache rather than run now
    std::vector<LossRecord> history; // content, style, tv, total per iteration
    double wall_seconds = 0;         // of the stylize call
    std::int64_t peak_memory_bytes = 0;
    Evaluation evaluation; // the fixed yardstick of `impasto evaluate`
    int width = 0;
    int height = 0;
    int iterations_done = 0;
};

// A reconstruction image and what made it.
struct ReconstructionImage {
    std::string kind;                // "content", "style" or "features"
    std::string label;               // "relu3_2", "relu1_1..relu3_1", "relu3_1: 16 most active"
    std::vector<std::string> layers; // the layers it used
    std::filesystem::path image;     // absolute
    double final_loss = 0;
    double wall_seconds = 0;
};

struct StudyResults {
    StudySpec spec;
    std::vector<StudyRunResult> runs;
    std::vector<ReconstructionImage> reconstructions;
    std::string machine;      // "2 threads, x86_64 ..., LibTorch 1.13.1, OpenBLAS ..."
    std::string generated_at; // ISO 8601 UTC
    double total_seconds = 0; // of this invocation
    int runs_executed = 0;    // run now, not cached
    bool complete = true;     // false when interrupted; the report shows what exists
};

enum class StudyStage { Run, Reconstruction };
struct StudyProgress {
    StudyStage stage = StudyStage::Run;
    int index = 0; // 0-based run (or reconstruction) in flight
    int count = 0;
    int done = 0;        // finished so far, cached included
    bool cached = false; // this run was found in the cache (event sent once, no inner events)
    std::string label;
    const ProgressEvent* inner = nullptr; // the engine's event for the run in flight, if any
    double elapsed_seconds = 0;
};
// Return false to stop: the run in flight is abandoned (nothing of it is cached).
using StudyProgressCallback = std::function<bool(const StudyProgress&)>;

struct StudyRunOptions {
    // Decode limit of the content and style images, and each run's StylizeOptions::max_pixels.
    std::int64_t max_pixels = kDefaultMaxPixels;
    std::filesystem::path weights_dir;
    std::filesystem::path output_dir; // report, CSV, JSON, and runs/<key>/ (the cache)
    Device device;
    std::string machine; // description for the report
};

// Runs every run not already in the cache, then the reconstructions, then writes the report.
// Interrupted: returns with complete=false after writing the report of what exists.
StudyResults run_study(const StudySpec& spec, const StudyRunOptions& options,
                       const StudyProgressCallback& on_progress = {});

} // namespace impasto
