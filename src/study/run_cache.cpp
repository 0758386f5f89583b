#include "study/run_cache.h"

#include "gatys/loss_history_json.h"
#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "impasto/run_record.h"
#include "impasto/version.h"
#include "io/bounded_json.h"
#include "io/json_numbers.h"
#include "io/regular_file.h"
#include "io/sha256.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace impasto::study {
namespace {

constexpr int kCacheFormat = 2; // 2: history entries are objects, as in the sidecar
// A record holds the loss history: about 150 bytes per iteration, up to kMaxIterations of them.
constexpr JsonLimits kRecordLimits{64U << 20U, 16};

std::optional<nlohmann::json> read_json(const std::filesystem::path& file) {
    std::string text;
    try {
        text = io::read_regular_file(file, kRecordLimits.max_bytes);
    } catch (const InputError&) {
        return std::nullopt; // missing, not a regular file or too large: not a record we wrote
    }
    nlohmann::json json;
    try {
        json = parse_bounded_json(text, kRecordLimits, file.string());
    } catch (const InputError&) {
        return std::nullopt;
    }
    const auto format = json.is_object() ? json.find("format") : json.end();
    if (format == json.end() || !format->is_number_integer() || format->get<int>() != kCacheFormat) {
        return std::nullopt;
    }
    return json;
}

} // namespace

std::string run_key(const RunIdentity& identity) {
    const nlohmann::json json{{"format", kCacheFormat},
                              {"engine", IMPASTO_VERSION},
                              {"content", identity.content_sha256},
                              {"style", identity.style_sha256},
                              {"weights", identity.weights_sha256},
                              {"options", nlohmann::json::parse(identity.options_json)},
                              {"device", identity.device},
                              {"evaluation_size", identity.evaluation_size}};
    // 20 hex digits (80 bits) keep folder names short with no realistic chance of a collision.
    return io::sha256_hex(json.dump()).substr(0, 20);
}

std::filesystem::path run_directory(const std::filesystem::path& output_dir, const std::string& key) {
    return output_dir / "runs" / key;
}

std::optional<StudyRunResult> load_cached_run(const std::filesystem::path& directory, const StudyRun& run) {
    const std::optional<nlohmann::json> json = read_json(directory / "run.json");
    const std::filesystem::path image = directory / "output.png";
    std::error_code error;
    if (!json || !std::filesystem::is_regular_file(image, error)) {
        return std::nullopt;
    }
    try {
        StudyRunResult result;
        result.run = run;
        result.key = json->at("key").get<std::string>();
        result.image = image;
        result.cached = true;
        result.wall_seconds = json->at("wall_seconds").get<double>();
        // Counts are range-checked before they become ints: the record is a file anyone can edit.
        const auto count = [](const nlohmann::json& object, const char* key, std::int64_t high) {
            const auto number = io::whole_number(object.at(key), 0, high); // at(): a missing key is damage too
            if (!number) {
                throw InputError(std::string("cached run: ") + key + " is out of range");
            }
            return *number;
        };
        result.peak_memory_bytes = count(*json, "peak_memory_bytes", std::int64_t{1} << 53U);
        result.width = static_cast<int>(count(*json, "width", kMaxImageSide));
        result.height = static_cast<int>(count(*json, "height", kMaxImageSide));
        result.iterations_done = static_cast<int>(count(*json, "iterations_done", kMaxIterations));
        const nlohmann::json& evaluation = json->at("evaluation");
        result.evaluation.content_loss = evaluation.at("content_loss").get<double>();
        result.evaluation.style_loss = evaluation.at("style_loss").get<double>();
        result.evaluation.width = static_cast<int>(count(evaluation, "width", kMaxImageSide));
        result.evaluation.height = static_cast<int>(count(evaluation, "height", kMaxImageSide));
        result.history = loss_history_from_json(json->at("history"));
        return result;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // a damaged record: the run is simply done again
    } catch (const InputError&) {
        return std::nullopt; // a count out of range: damaged too
    }
}

void store_run(const std::filesystem::path& directory, const Image& image, StudyRunResult& result) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) {
        throw OutputError("cannot create '" + directory.string() + "': " + error.message());
    }
    result.image = directory / "output.png";
    save_image(image, result.image);
    const nlohmann::json json{
        {"format", kCacheFormat},
        {"key", result.key},
        {"label", result.run.label},
        {"model", result.run.model},
        {"options", nlohmann::json::parse(options_json(result.run.options))},
        {"wall_seconds", result.wall_seconds},
        {"peak_memory_bytes", result.peak_memory_bytes},
        {"width", result.width},
        {"height", result.height},
        {"iterations_done", result.iterations_done},
        {"evaluation",
         {{"content_loss", result.evaluation.content_loss},
          {"style_loss", result.evaluation.style_loss},
          {"width", result.evaluation.width},
          {"height", result.evaluation.height}}},
        {"history", loss_history_json(result.history)},
    };
    write_file_atomic(directory / "run.json", json.dump(1) + "\n");
}

std::optional<ReconstructionImage> load_cached_reconstruction(const std::filesystem::path& image_file) {
    std::filesystem::path sidecar = image_file;
    sidecar.replace_extension(".json");
    const std::optional<nlohmann::json> json = read_json(sidecar);
    std::error_code error;
    if (!json || !std::filesystem::is_regular_file(image_file, error)) {
        return std::nullopt;
    }
    try {
        ReconstructionImage record;
        record.kind = json->at("kind").get<std::string>();
        record.label = json->at("label").get<std::string>();
        record.layers = json->at("layers").get<std::vector<std::string>>();
        record.final_loss = json->at("final_loss").get<double>();
        record.wall_seconds = json->at("wall_seconds").get<double>();
        record.image = image_file;
        return record;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

void store_reconstruction(const Image& image, ReconstructionImage& record, const std::filesystem::path& image_file) {
    std::error_code error;
    std::filesystem::create_directories(image_file.parent_path(), error);
    if (error) {
        throw OutputError("cannot create '" + image_file.parent_path().string() + "': " + error.message());
    }
    save_image(image, image_file);
    record.image = image_file;
    std::filesystem::path sidecar = image_file;
    sidecar.replace_extension(".json");
    const nlohmann::json json{{"format", kCacheFormat},          {"kind", record.kind},
                              {"label", record.label},           {"layers", record.layers},
                              {"final_loss", record.final_loss}, {"wall_seconds", record.wall_seconds}};
    write_file_atomic(sidecar, json.dump(1) + "\n");
}

} // namespace impasto::study
