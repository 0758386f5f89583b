// Study specs: TOML and JSON parsing, planning, and errors that name the key and the line.
#include "impasto/error.h"
#include "impasto/run_record.h"
#include "impasto/study.h"
#include "testutil.h"
#include "unit/engine_fixtures.h"

#include <fstream>
#include <gtest/gtest.h>

namespace {

using namespace impasto;

class StudySpecTest : public ::testing::Test {
  protected:
    void SetUp() override {
        save_image(impasto::testing::synthetic_image(24, 16, 0), dir / "photo.png");
        save_image(impasto::testing::synthetic_image(24, 16, 1), dir / "painting.png");
        save_image(impasto::testing::synthetic_image(16, 24, 2), dir / "sketch.png");
    }

    StudySpec parse(const std::string& text, SpecFormat format = SpecFormat::Toml) {
        return parse_study_spec(text, format, dir / (format == SpecFormat::Toml ? "spec.toml" : "spec.json"));
    }

    // The ConfigError message of parsing `text`, or "" when it parses.
    std::string error_of(const std::string& text, SpecFormat format = SpecFormat::Toml) {
        try {
            plan_study(parse(text, format));
        } catch (const ConfigError& error) {
            return error.what();
        }
        return "";
    }

    impasto::testing::TempDir dir;
};

const char* kValidToml = R"(title = "Weights and seeds"
contents = ["photo.png"]
styles = ["painting.png", "sketch.png"]
preset = "paper"

[base]
size = 64
iterations = 10
schedule = "none"

[grid]
style_weight = [10, 1000]
seed = [0, 1, 2]
style_layers = [["relu1_1"], ["relu1_1", "relu2_1"]]

[report]
matrix = ["style_layers", "style_weight"]
)";

TEST_F(StudySpecTest, TomlSpecPlansEveryCombination) {
    const StudySpec spec = parse(kValidToml);
    EXPECT_EQ(spec.title, "Weights and seeds");
    ASSERT_EQ(spec.styles.size(), 2U);
    EXPECT_TRUE(spec.styles[1].is_absolute());
    ASSERT_EQ(spec.grid.size(), 3U);
    EXPECT_EQ(spec.grid[0].line, 12);
    EXPECT_EQ(spec.grid[2].values[1].label(), "relu1_1+relu2_1");

    const std::vector<StudyRun> runs = plan_study(spec);
    ASSERT_EQ(runs.size(), 1U * 2U * 2U * 3U * 2U);
    // The last axis varies fastest; the paper preset is the base, [base] and the grid override it.
    EXPECT_EQ(runs[1].axis_values, (std::vector<int>{0, 0, 1}));
    EXPECT_EQ(runs[1].options.style_layers, (std::vector<std::string>{"relu1_1", "relu2_1"}));
    EXPECT_EQ(runs[2].options.seed, 1U);
    EXPECT_DOUBLE_EQ(runs[6].options.style_weight, 1000);
    EXPECT_EQ(runs[0].options.size, 64);
    EXPECT_TRUE(runs[0].options.scales.empty());
    EXPECT_EQ(runs[0].options.pooling, Pooling::Average); // from the paper preset
    EXPECT_EQ(runs[12].style_index, 1);
    EXPECT_NE(runs[0].label.find("photo × painting"), std::string::npos);
}

TEST_F(StudySpecTest, JsonSpecMatchesToml) {
    const char* json = R"({
  "title": "Weights and seeds",
  "contents": ["photo.png"],
  "styles": ["painting.png", "sketch.png"],
  "preset": "paper",
  "base": {"size": 64, "iterations": 10, "schedule": "none"},
  "grid": {
    "style_weight": [10, 1000],
    "seed": [0, 1, 2],
    "style_layers": [["relu1_1"], ["relu1_1", "relu2_1"]]
  },
  "report": {"matrix": ["style_layers", "style_weight"]}
})";
    const std::vector<StudyRun> from_json = plan_study(parse(json, SpecFormat::Json));
    const std::vector<StudyRun> from_toml = plan_study(parse(kValidToml));
    ASSERT_EQ(from_json.size(), from_toml.size());
    for (std::size_t i = 0; i < from_json.size(); ++i) {
        EXPECT_EQ(from_json[i].label, from_toml[i].label);
        EXPECT_EQ(options_json(from_json[i].options), options_json(from_toml[i].options));
    }
}

TEST_F(StudySpecTest, AlphaBetaRatioSetsStyleWeightAfterContentWeight) {
    const std::vector<StudyRun> runs = plan_study(parse(R"(contents = ["photo.png"]
styles = ["painting.png"]
[grid]
alpha_beta = [1e-3, 1e-4]
[base]
content_weight = 2
)"));
    ASSERT_EQ(runs.size(), 2U);
    EXPECT_NEAR(runs[0].options.style_weight, 2e3, 1e-6);
    EXPECT_NEAR(runs[1].options.style_weight, 2e4, 1e-6);
}

TEST_F(StudySpecTest, ModelAndPresetAreRunSettings) {
    const std::vector<StudyRun> runs = plan_study(parse(R"(contents = ["photo.png"]
styles = ["painting.png"]
[grid]
model = ["vgg19.caffe", "vgg19.caffe-normalised"]
preset = ["default", "paper"]
)"));
    ASSERT_EQ(runs.size(), 4U);
    EXPECT_EQ(runs[0].model, "vgg19.caffe");
    EXPECT_EQ(runs[2].model, "vgg19.caffe-normalised");
    EXPECT_EQ(runs[1].options.preset, "paper");
    EXPECT_EQ(runs[0].options.preset, "default");
}

TEST_F(StudySpecTest, UnknownTopLevelKeyNamesKeyAndLine) {
    const std::string error = error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\ncolour = 3\n");
    EXPECT_NE(error.find("spec.toml:3:"), std::string::npos) << error;
    EXPECT_NE(error.find("unknown key 'colour'"), std::string::npos) << error;
}

TEST_F(StudySpecTest, UnknownGridKeyNamesKeyLineAndKnownKeys) {
    const std::string error =
        error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[grid]\nstyle_wieght = [1, 2]\n");
    EXPECT_NE(error.find("spec.toml:4:"), std::string::npos) << error;
    EXPECT_NE(error.find("'style_wieght' in [grid]"), std::string::npos) << error;
    EXPECT_NE(error.find("style_weight"), std::string::npos) << error;
}

TEST_F(StudySpecTest, UnknownLayerNamesLine) {
    const std::string error = error_of(
        "contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[base]\nsize = 64\nstyle_layers = [\"relu1_1\", "
        "\"relu9_9\"]\n");
    EXPECT_NE(error.find("spec.toml:5: style_layers: unknown layer 'relu9_9'"), std::string::npos) << error;
}

TEST_F(StudySpecTest, MissingImageNamesLineAndPath) {
    const std::string error = error_of("contents = [\"photo.png\"]\n\nstyles = [\"nowhere.jpg\"]\n");
    EXPECT_NE(error.find("spec.toml:3: styles: image 'nowhere.jpg' is not there"), std::string::npos) << error;
}

TEST_F(StudySpecTest, EmptyGridAxisNamesLine) {
    const std::string error = error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[grid]\nseed = []\n");
    EXPECT_NE(error.find("spec.toml:4: grid.seed: the list of values is empty"), std::string::npos) << error;
}

TEST_F(StudySpecTest, WrongTypeAndRangeNameLine) {
    std::string error = error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[base]\npooling = 2\n");
    EXPECT_NE(error.find("spec.toml:4: pooling: expected a string, got a number"), std::string::npos) << error;
    error = error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[grid]\nseed = [1, 2.5]\n");
    EXPECT_NE(error.find("spec.toml:4: seed: expected a whole number"), std::string::npos) << error;
    error = error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[base]\npooling = \"median\"\n");
    EXPECT_NE(error.find("spec.toml:4: pooling: unknown pooling 'median'"), std::string::npos) << error;
}

TEST_F(StudySpecTest, InvalidCombinationNamesTheRun) {
    const std::string error =
        error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[grid]\nstyle_layer_weights = [[1, 2]]\n");
    EXPECT_NE(error.find("run 1"), std::string::npos) << error;
    EXPECT_NE(error.find("style layer weights"), std::string::npos) << error;
}

TEST_F(StudySpecTest, MissingContentsAndSyntaxErrors) {
    EXPECT_NE(error_of("styles = [\"painting.png\"]\n").find("missing 'contents'"), std::string::npos);
    std::string error = error_of("contents = [\"photo.png\"\nstyles = 3\n");
    EXPECT_NE(error.find("spec.toml:"), std::string::npos) << error;
    EXPECT_NE(error.find("not valid TOML"), std::string::npos) << error;
    error = error_of("{\n  \"contents\": [\"photo.png\"],\n  \"styles\": [\"painting.png\"]\n  \"grid\": {}\n}",
                     SpecFormat::Json);
    EXPECT_NE(error.find("spec.json:4: not valid JSON"), std::string::npos) << error;
}

TEST_F(StudySpecTest, JsonErrorsNameTheLineOfTheKey) {
    const std::string error = error_of(
        "{\n  \"contents\": [\"photo.png\"],\n  \"styles\": [\"painting.png\"],\n  \"grid\": {\n    \"seed\": [0],\n"
        "    \"pooling\": [\"avg\", \"nearest\"]\n  }\n}",
        SpecFormat::Json);
    EXPECT_NE(error.find("spec.json:6: pooling: unknown pooling 'nearest'"), std::string::npos) << error;
}

TEST_F(StudySpecTest, MatrixMustNameTwoGridKeys) {
    const std::string error =
        error_of("contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[grid]\nseed = [0, 1]\n[report]\nmatrix = "
                 "[\"seed\", \"style_weight\"]\n");
    EXPECT_NE(error.find("spec.toml:6: report.matrix: 'style_weight' is not a key of [grid]"), std::string::npos)
        << error;
}

TEST_F(StudySpecTest, LoadsFilesByExtension) {
    {
        std::ofstream(dir / "study.toml") << kValidToml;
        std::ofstream(dir / "study.yaml") << "x: 1\n";
    }
    EXPECT_EQ(load_study_spec(dir / "study.toml").grid.size(), 3U);
    EXPECT_THROW(load_study_spec(dir / "study.yaml"), ConfigError);
    EXPECT_THROW(load_study_spec(dir / "absent.toml"), ConfigError);
}

} // namespace
