// The fuzz targets that link the engine, replayed in the unit tests: studio job requests and study
// specs. Every crash the fuzzers found (fuzz/regressions/<target>/) and every corpus input runs
// through the fuzzers' own entry points (fuzz/entry_studio.cpp); the seeds must be accepted.
#include "fuzz_entry.h"
#include "impasto/study.h"
#include "io/bounded_json.h"
#include "server/job_request.h"
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
