#pragma once
// The JSON sidecar written next to every output: every parameter, versions, the weights'
// sha256, the seed, the loss history, per-stage times and peak memory. The CLI and the studio
// write the same record.
#include "impasto/stylize.h"

#include <filesystem>
#include <string>
#include <vector>

namespace impasto {

struct RunRecord {
    std::string status = "complete"; // "complete" or "interrupted"
    std::string command_line;
    std::filesystem::path content;
    std::vector<std::filesystem::path> styles;
    std::vector<double> style_blend;
    std::filesystem::path output;
    StylizeOptions options;
    WeightSetInfo weights;
    Device device;
    int threads = 0;
    double total_seconds = 0;
    std::int64_t peak_memory_bytes = 0;
    const StylizeResult* result = nullptr;
};

std::string run_record_json(const RunRecord& record);
// The options as a JSON object string (also used to key cached runs).
std::string options_json(const StylizeOptions& options);
// Sidecar path for an output image: "out.png" -> "out.json".
std::filesystem::path sidecar_path(const std::filesystem::path& output);

} // namespace impasto
