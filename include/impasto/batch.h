#pragma once
// A folder in, a folder out: decode -> stylise -> encode as a bounded three-stage pipeline, so
// that decoding the next photo and encoding the last result overlap with the network. A bad file
// fails alone: the batch goes on and reports it.
#include "impasto/image.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace impasto {

struct BatchItem {
    std::filesystem::path input;
    std::filesystem::path output;
};

// Every image in `input_dir` (not recursive, sorted by name) -> `output_dir`/<stem><extension>.
// `extension` is an output format of save_image (".jpg", ".png", ...). Throws InputError when the
// folder is missing or holds no image, OutputError when the output folder cannot be created or
// the extension is unknown.
std::vector<BatchItem> plan_batch(const std::filesystem::path& input_dir, const std::filesystem::path& output_dir,
                                  const std::string& extension);

struct BatchOptions {
    int queue_depth = 2;        // decoded images waiting for the network, and results waiting to be encoded
    bool skip_existing = false; // leave items whose output exists alone
    int jpeg_quality = 95;
    void validate() const; // throws ConfigError
};

struct BatchItemResult {
    BatchItem item;
    bool ok = false;
    bool skipped = false;
    std::string error;          // one line, when !ok
    double stylize_seconds = 0; // the network's time for this item
    int width = 0;              // of the output
    int height = 0;
};

struct BatchEvent {
    std::size_t done = 0; // items finished (written, failed or skipped) so far
    std::size_t total = 0;
    const BatchItemResult* item = nullptr; // the item just finished
    double elapsed_seconds = 0;
};
// Return false to stop after the items already in flight.
using BatchCallback = std::function<bool(const BatchEvent&)>;
using ImageTransform = std::function<Image(const Image&)>;

struct BatchSummary {
    std::vector<BatchItemResult> items; // in input order; items never started are absent
    std::size_t written = 0;
    std::size_t failed = 0;
    std::size_t skipped = 0;
    bool cancelled = false;
    double wall_seconds = 0;
};

// `transform` runs on the calling thread (it owns the compute threads); decoding and encoding run
// on one worker thread each. Errors of impasto::Error type are recorded per item; anything else
// stops the batch and is rethrown once the workers have joined.
BatchSummary run_batch(const std::vector<BatchItem>& items, const ImageTransform& transform,
                       const BatchOptions& options = {}, const BatchCallback& on_item = {});

} // namespace impasto
