// Running studies on tiny synthetic weights: outputs, the cache, and resuming after a stop.
#include "impasto/error.h"
#include "impasto/study.h"
#include "io/weight_store_detail.h"
#include "testutil.h"
#include "unit/engine_fixtures.h"

#include <fstream>
#include <gtest/gtest.h>

namespace {

using namespace impasto;

class StudyRunTest : public ::testing::Test {
  protected:
    void SetUp() override {
        save_image(impasto::testing::synthetic_image(40, 32, 0), dir / "photo.png");
        save_image(impasto::testing::synthetic_image(32, 40, 1), dir / "painting.png");
        const LoadedWeights weights = impasto::testing::synthetic_vgg19_weights();
        std::filesystem::create_directories(dir / "weights");
        impasto::detail::store_weight_set(dir / "weights", kDefaultWeightSet, weights.tensors,
                                          InputNormalization::CaffeBgr255, "vgg19", "synthetic test weights", "");
        options.weights_dir = dir / "weights";
        options.output_dir = dir / "out";
        options.machine = "test machine";
    }

    StudySpec spec(const std::string& grid) {
        const std::string text = "title = \"tiny\"\ncontents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n"
                                 "[base]\nsize = 32\niterations = 4\nschedule = \"none\"\nprecision = \"fp32\"\n"
                                 "[evaluation]\nsize = 32\n[grid]\n" +
                                 grid;
        return parse_study_spec(text, SpecFormat::Toml, dir / "tiny.toml");
    }

    int finished_runs_on_disk() const {
        int count = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir / "out" / "runs")) {
            count += std::filesystem::exists(entry.path() / "run.json") ? 1 : 0;
        }
        return count;
    }

    impasto::testing::TempDir dir;
    StudyRunOptions options;
};

TEST_F(StudyRunTest, RunsEveryCombinationAndWritesTheReport) {
    const StudyResults results = run_study(spec("seed = [0, 1]\nstyle_weight = [10, 100]\n"), options);
    EXPECT_TRUE(results.complete);
    ASSERT_EQ(results.runs.size(), 4U);
    EXPECT_EQ(results.runs_executed, 4);
    for (const StudyRunResult& run : results.runs) {
        EXPECT_FALSE(run.cached);
        EXPECT_TRUE(std::filesystem::exists(run.image)) << run.image;
        EXPECT_FALSE(run.history.empty());
        EXPECT_GT(run.evaluation.style_loss, 0);
        EXPECT_GT(run.wall_seconds, 0);
        EXPECT_GT(run.peak_memory_bytes, 0);
        EXPECT_EQ(std::max(run.width, run.height), 32);
    }
    // Different settings give different keys and images.
    EXPECT_NE(results.runs[0].key, results.runs[1].key);
    EXPECT_NE(results.runs[0].evaluation.style_loss, results.runs[1].evaluation.style_loss);
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / "report.html"));
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / "runs.csv"));
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / "study.json"));
    EXPECT_EQ(finished_runs_on_disk(), 4);
}

TEST_F(StudyRunTest, StoppedStudyResumesWithoutRedoingFinishedRuns) {
    const StudySpec grid = spec("seed = [0, 1, 2]\n");
    // Stop in the middle of the second run.
    const StudyResults stopped = run_study(grid, options, [](const StudyProgress& progress) {
        return !(progress.index == 1 && progress.inner != nullptr && progress.inner->iteration >= 2);
    });
    EXPECT_FALSE(stopped.complete);
    ASSERT_EQ(stopped.runs.size(), 1U);
    EXPECT_EQ(finished_runs_on_disk(), 1);
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / "report.html")); // the partial report

    int inner_events_of_first_run = 0;
    const StudyResults resumed = run_study(grid, options, [&](const StudyProgress& progress) {
        inner_events_of_first_run += progress.index == 0 && progress.inner != nullptr ? 1 : 0;
        return true;
    });
    EXPECT_TRUE(resumed.complete);
    ASSERT_EQ(resumed.runs.size(), 3U);
    EXPECT_EQ(resumed.runs_executed, 2);
    EXPECT_TRUE(resumed.runs[0].cached);
    EXPECT_FALSE(resumed.runs[1].cached);
    EXPECT_EQ(inner_events_of_first_run, 0);
    EXPECT_EQ(resumed.runs[0].key, stopped.runs[0].key);
    EXPECT_DOUBLE_EQ(resumed.runs[0].evaluation.style_loss, stopped.runs[0].evaluation.style_loss);
    EXPECT_EQ(resumed.runs[0].history.size(), stopped.runs[0].history.size());

    const StudyResults again = run_study(grid, options);
    EXPECT_EQ(again.runs_executed, 0);
    EXPECT_EQ(finished_runs_on_disk(), 3);
}

TEST_F(StudyRunTest, DamagedCacheEntryIsRunAgain) {
    const StudySpec grid = spec("seed = [5]\n");
    const StudyResults first = run_study(grid, options);
    ASSERT_EQ(first.runs.size(), 1U);
    std::ofstream(first.runs[0].image.parent_path() / "run.json") << "{\"format\": 1, \"key\": ";
    const StudyResults second = run_study(grid, options);
    EXPECT_EQ(second.runs_executed, 1);
    EXPECT_FALSE(second.runs[0].cached);
}

TEST_F(StudyRunTest, SameSeedGivesTheSameImage) {
    const StudyResults first = run_study(spec("seed = [3]\n"), options);
    options.output_dir = dir / "out2";
    const StudyResults second = run_study(spec("seed = [3]\n"), options);
    const Image a = load_image(first.runs[0].image);
    const Image b = load_image(second.runs[0].image);
    EXPECT_EQ(a.rgb, b.rgb);
}

TEST_F(StudyRunTest, ReconstructionsAreRunAndCached) {
    const std::string text = "contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n"
                             "[base]\nsize = 32\niterations = 2\nschedule = \"none\"\nprecision = \"fp32\"\n"
                             "[reconstruct]\nsize = 32\niterations = 4\ncontent_layers = [\"relu1_2\"]\n"
                             "style_layer_sets = [[\"relu1_1\"], [\"relu1_1\", \"relu2_1\"]]\n"
                             "feature_layer = \"relu1_1\"\nfeature_count = 4\n";
    const StudySpec with_reconstruction = parse_study_spec(text, SpecFormat::Toml, dir / "recon.toml");
    const StudyResults first = run_study(with_reconstruction, options);
    ASSERT_EQ(first.reconstructions.size(), 4U);
    EXPECT_EQ(first.reconstructions[0].kind, "content");
    EXPECT_EQ(first.reconstructions[2].kind, "style");
    EXPECT_EQ(first.reconstructions[2].layers.size(), 2U);
    EXPECT_EQ(first.reconstructions[3].kind, "features");
    for (const ReconstructionImage& image : first.reconstructions) {
        EXPECT_TRUE(std::filesystem::exists(image.image)) << image.image;
    }
    EXPECT_GT(first.reconstructions[0].final_loss, 0);

    int inner_events = 0;
    const StudyResults second = run_study(with_reconstruction, options, [&](const StudyProgress& progress) {
        inner_events += progress.inner != nullptr ? 1 : 0;
        return true;
    });
    EXPECT_EQ(inner_events, 0) << "everything should come from the cache";
    ASSERT_EQ(second.reconstructions.size(), 4U);
    EXPECT_EQ(second.reconstructions[1].image, first.reconstructions[1].image);
    EXPECT_DOUBLE_EQ(second.reconstructions[1].final_loss, first.reconstructions[1].final_loss);
}

TEST_F(StudyRunTest, MissingModelNamesTheLineBeforeAnyRun) {
    try {
        run_study(spec("model = [\"vgg19.caffe\", \"vgg19.nowhere\"]\n"), options);
        FAIL() << "expected WeightsError";
    } catch (const WeightsError& error) {
        EXPECT_NE(std::string(error.what()).find("tiny.toml:12: model 'vgg19.nowhere' is not installed"),
                  std::string::npos)
            << error.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "out" / "runs"));
}

} // namespace
