// The fuzz targets that link the engine, replayed in the unit tests: studio job requests and study
// specs. Every crash the fuzzers found (fuzz/regressions/<target>/) and every corpus input runs
// through the fuzzers' own entry points (fuzz/entry_studio.cpp); the seeds must be accepted.
#include "fuzz_entry.h"
#include "impasto/study.h"
#include "io/bounded_json.h"
#include "server/job_request.h"
#include "server/studio_error.h"
#include "testutil.h"
#include "unit/fuzz_replay.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <utility>

namespace impasto {
namespace {

using testing::expect_seeds_accepted;
using testing::replay_fuzz_inputs;

TEST(StudioFuzzRegressions, JobRequestsAreRefusedWithA4xx) {
    EXPECT_GT(replay_fuzz_inputs("job_request", fuzz::job_request), 0U);
}

TEST(StudioFuzzRegressions, TomlStudySpecsAreRefusedCleanly) {
    EXPECT_GT(replay_fuzz_inputs("study_spec_toml", fuzz::study_spec_toml), 0U);
}

TEST(StudioFuzzRegressions, JsonStudySpecsAreRefusedCleanly) {
    EXPECT_GT(replay_fuzz_inputs("study_spec_json", fuzz::study_spec_json), 0U);
}

TEST(StudioFuzzRegressions, JobRequestSeedsAreAccepted) {
    studio::StudioCatalog catalog;
    catalog.models = {{"starry_scream", {"starry_night", "the_scream"}, "/nonexistent/starry_scream.impasto"}};
    catalog.decoder_levels = {"relu1_1", "relu2_1", "relu3_1", "relu4_1"};
    expect_seeds_accepted("job_request", [&](const std::string& bytes, const auto&) {
        studio::resolve_job_request(parse_bounded_json(bytes, JsonLimits{}, "seed"), catalog);
    });
}

// The class behind fuzz/regressions/job_request/*-beyond-int: a whole number the option cannot hold.
// A double out of range was undefined behaviour in get<int>(); an integer out of range wrapped
// (4294967808 became 512) and then passed the range check. Both are refused with a 400.
TEST(StudioFuzzRegressions, WholeNumbersTheirOptionCannotHoldAreRefused) {
    studio::StudioCatalog catalog;
    catalog.models = {{"starry_night", {"starry_night"}, "/nonexistent/starry_night.impasto"}};
    catalog.decoder_levels = {"relu4_1"};
    const auto optimisation = [](const std::string& params) {
        return R"({"method":"optimisation","content":"c","styles":["s"],"params":)" + params + "}";
    };
    for (const std::string& body :
         {optimisation(R"({"size":4294967808})"), optimisation(R"({"iterations":4294967306})"),
          optimisation(R"({"size":1e10})"), optimisation(R"({"seed":-1})"), optimisation(R"({"seed":-1.0})"),
          std::string(R"({"method":"fast","content":"c","params":{"model":"starry_night","size":-4294966784}})"),
          std::string(R"({"method":"arbitrary","content":"c","styles":["s"],"params":{"style_size":4294967552}})")}) {
        try {
            studio::resolve_job_request(parse_bounded_json(body, JsonLimits{}, "body"), catalog);
            ADD_FAILURE() << "accepted: " << body;
        } catch (const studio::StudioError& e) {
            EXPECT_EQ(e.status(), 400) << body;
        } catch (const ConfigError&) {
            ADD_FAILURE() << "refused only by the library, after a conversion that wrapped: " << body;
        }
    }
}

TEST(StudioFuzzRegressions, StudySpecSeedsAreAccepted) {
    // The seeds name these images, relative to the spec's folder (as the fuzz entry lays them out).
    testing::TempDir folder;
    std::filesystem::create_directories(folder.path() / "photos");
    for (const char* name : {"content.jpg", "style.jpg", "style2.png", "photos/a.png"}) {
        std::ofstream(folder.path() / name) << "x";
    }
    for (const auto& [target, format] :
         {std::pair{"study_spec_toml", SpecFormat::Toml}, std::pair{"study_spec_json", SpecFormat::Json}}) {
        expect_seeds_accepted(target, [&, format = format](const std::string& bytes, const auto&) {
            EXPECT_FALSE(plan_study(parse_study_spec(bytes, format, folder.path() / "spec")).empty());
        });
    }
}

} // namespace
} // namespace impasto
