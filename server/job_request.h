#pragma once
// What a studio job asks for, checked and with every default filled in. Defaults come from the
// library's option structs (StylizeOptions and its presets, FastStylizeOptions, ArbitraryOptions),
// so the page shows exactly what the library and the CLI would use.
#include "impasto/arbitrary_style.h"
#include "impasto/fast_style.h"
#include "impasto/stylize_options.h"
#include "server/model_examples.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace impasto::studio {

enum class JobMethod { Optimisation, Fast, Arbitrary };
const char* to_string(JobMethod method); // "optimisation", "fast", "arbitrary"

struct FastModelInfo {
    std::string name; // file stem, what `--model` takes
    std::vector<std::string> styles;
    std::filesystem::path file;
};

// What the server can offer: found once at start.
struct StudioCatalog {
    std::vector<FastModelInfo> models;
    std::filesystem::path decoders_dir;
    std::vector<std::string> decoder_levels; // empty: arbitrary style is unavailable
    Precision precision = Precision::Fp32;   // the server's resolved default
    int max_output_side = 2048;
    ModelExamples examples; // the method tabs' pictures, from models_dir/examples
};

// Models in `models_dir` (transformer and StyleBank networks, any depth), decoders in
// `models_dir/decoders` and examples in `models_dir/examples`; unreadable files are skipped.
StudioCatalog scan_catalog(const std::filesystem::path& models_dir, Precision precision, int max_output_side);

struct JobRequest {
    JobMethod method = JobMethod::Optimisation;
    std::string content;             // image id
    std::vector<std::string> styles; // image ids
    nlohmann::json params;           // every parameter of the method, defaults filled in
    std::string parent;              // the job this one re-runs, or ""
};

// GET /api/defaults: each method's parameters with their defaults, choices and help.
nlohmann::json defaults_json(const StudioCatalog& catalog);

// Checks a submitted body (shape, method, parameter names, types and ranges via the library's
// validate()). Image ids are checked by the caller. Throws StudioError (400) or ConfigError.
JobRequest resolve_job_request(const nlohmann::json& body, const StudioCatalog& catalog);

nlohmann::json to_json(const JobRequest& request);
JobRequest job_request_from_json(const nlohmann::json& stored); // as written by to_json

// The library options of a resolved request.
StylizeOptions to_stylize_options(const nlohmann::json& params);
FastStylizeOptions to_fast_options(const nlohmann::json& params);
ArbitraryOptions to_arbitrary_options(const nlohmann::json& params);

// Equal for jobs that differ only in content, seed or parent: the unit that votes rank.
std::string settings_key(const JobRequest& request);
// "optimisation default · starry_night · style_weight 100": the method, the styles (by the display
// names given, one per style) and what differs from the defaults.
std::string settings_label(const JobRequest& request, const StudioCatalog& catalog,
                           const std::vector<std::string>& style_names);

} // namespace impasto::studio
