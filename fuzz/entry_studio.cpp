// The entry points that link the engine library: studio job requests and study specs (see fuzz_entry.h).
#include "fuzz_entry.h"
#include "impasto/error.h"
#include "impasto/study.h"
#include "io/bounded_json.h"
#include "server/job_request.h"
#include "server/studio_error.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace impasto::fuzz {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using studio::JobMethod;
using studio::JobRequest;
using studio::StudioCatalog;

// A server with two fast models (one and two styles) and every decoder level.
const StudioCatalog& fuzz_catalog() {
    static const StudioCatalog catalog = [] {
        StudioCatalog c;
        c.models = {{"starry_night", {"starry_night"}, "/nonexistent/starry_night.impasto"},
                    {"starry_scream", {"starry_night", "the_scream"}, "/nonexistent/starry_scream.impasto"}};
        c.decoders_dir = "/nonexistent/decoders";
        c.decoder_levels = {"relu1_1", "relu2_1", "relu3_1", "relu4_1"};
        c.precision = Precision::Fp32;
        c.max_output_side = 2048;
        return c;
    }();
    return catalog;
}

// What the route answers for an exception from resolve_job_request: a 4xx is a refusal, a 500 is a bug.
void check_refusal_status() {
    try {
        throw;
    } catch (const studio::StudioError& e) {
        if (e.status() < 400 || e.status() > 499) {
            oracle_failure("a job request gives HTTP " + std::to_string(e.status()) + ": " + e.what());
        }
    } catch (const ConfigError&) {
    } catch (const InputError&) {
    } catch (const Error& e) {
        oracle_failure(std::string("a job request gives HTTP 500 (") + e.code() + "): " + e.what());
    }
}

// Folder holding the images a spec may name; specs are parsed as if they lay in it.
const fs::path& spec_folder() {
    // Never destroyed: the atexit clean-up below runs after static destructors registered later.
    static const fs::path& folder = *new fs::path([] {
        std::string pattern = (fs::temp_directory_path() / "impasto-fuzz-spec-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            oracle_failure("cannot create a temporary folder for the spec images");
        }
        const fs::path made(pattern);
        fs::create_directories(made / "photos");
        for (const char* name : {"content.jpg", "style.jpg", "style2.png", "photos/a.png"}) {
            std::ofstream(made / name) << "not decoded: the spec parser only checks that the file is there";
        }
        std::atexit([] {
            std::error_code ignored;
            fs::remove_all(spec_folder(), ignored);
        });
        return made;
    }());
    return folder;
}

void study_spec(const std::uint8_t* data, std::size_t size, SpecFormat format, const char* name) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    StudySpec spec;
    std::vector<StudyRun> runs;
    try {
        spec = parse_study_spec(text, format, spec_folder() / name);
        runs = plan_study(spec);
    } catch (const Error&) {
        return;
    }
    std::size_t expected = spec.contents.size() * spec.styles.size();
    for (const GridAxis& axis : spec.grid) {
        expected *= axis.values.size();
    }
    if (runs.size() != expected) {
        oracle_failure("plan_study made " + std::to_string(runs.size()) + " runs for a grid of " +
                       std::to_string(expected));
    }
    for (const StudyRun& run : runs) {
        try {
            run.options.validate();
        } catch (const Error& e) {
            oracle_failure("plan_study planned a run the engine refuses: " + std::string(e.what()));
        }
    }
}

} // namespace

void job_request(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    json body;
    try {
        body = parse_bounded_json(text, JsonLimits{}, "the request body"); // as http_util's body parser
    } catch (const InputError&) {
        return;
    }
    const StudioCatalog& catalog = fuzz_catalog();
    JobRequest request;
    try {
        request = studio::resolve_job_request(body, catalog);
    } catch (const Error&) {
        check_refusal_status();
        return;
    }
    // What POST /api/jobs stores and what the worker reads back before it runs the job.
    json stored = studio::to_json(request);
    stored["label"] = studio::settings_label(request, catalog, request.styles);
    const JobRequest again = studio::job_request_from_json(json::parse(stored.dump()));
    if (studio::to_json(again) != studio::to_json(request)) {
        oracle_failure("an accepted job request does not read back the same from storage");
    }
    if (studio::settings_key(again) != studio::settings_key(request)) {
        oracle_failure("an accepted job request changes its settings key when read back");
    }
    try {
        switch (again.method) {
        case JobMethod::Optimisation:
            studio::to_stylize_options(again.params).validate();
            break;
        case JobMethod::Fast: {
            const std::string model = again.params.at("model").get<std::string>();
            for (const studio::FastModelInfo& info : catalog.models) {
                if (info.name == model) {
                    studio::to_fast_options(again.params).validate(static_cast<int>(info.styles.size()));
                }
            }
            break;
        }
        case JobMethod::Arbitrary:
            studio::to_arbitrary_options(again.params).validate();
            break;
        }
    } catch (const Error& e) {
        oracle_failure(std::string("the worker's options for an accepted job request are refused: ") + e.what());
    }
}

void study_spec_toml(const std::uint8_t* data, std::size_t size) {
    study_spec(data, size, SpecFormat::Toml, "spec.toml");
}

void study_spec_json(const std::uint8_t* data, std::size_t size) {
    study_spec(data, size, SpecFormat::Json, "spec.json");
}

} // namespace impasto::fuzz
