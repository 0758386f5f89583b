#pragma once
// The study cache: each finished run lives in <output>/runs/<key>/ as output.png plus run.json.
// run.json is written last and atomically, so its presence marks a complete run; an
// interrupted study loses at most the run in flight.
#include "impasto/study.h"

#include <filesystem>
#include <optional>
#include <string>

namespace impasto::study {

// Everything that decides a run's result goes into its key.
struct RunIdentity {
    std::string content_sha256;
    std::string style_sha256;
    std::string weights_sha256;
    std::string options_json;
    std::string device;
    int evaluation_size = 0;
};
std::string run_key(const RunIdentity& identity);

std::filesystem::path run_directory(const std::filesystem::path& output_dir, const std::string& key);

// The finished run in `directory`, or nothing when it is absent, incomplete or unreadable
// (then it simply runs again).
std::optional<StudyRunResult> load_cached_run(const std::filesystem::path& directory, const StudyRun& run);
// Writes output.png, then run.json. Sets result.image. Throws OutputError.
void store_run(const std::filesystem::path& directory, const Image& image, StudyRunResult& result);

// Reconstructions are cached the same way: <output>/reconstructions/<key>.png + .json.
std::optional<ReconstructionImage> load_cached_reconstruction(const std::filesystem::path& image_file);
void store_reconstruction(const Image& image, ReconstructionImage& record, const std::filesystem::path& image_file);

} // namespace impasto::study
