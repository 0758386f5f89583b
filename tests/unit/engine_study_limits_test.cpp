// Study specs from outside are bounded (issue 11): size and nesting are checked before any parser
// or tree walk recurses (JSON, and TOML's dotted keys and table headers, which toml++ does not
// bound), and a spec cannot ask for more runs or iterations than the caps allow.
#include "impasto/error.h"
#include "impasto/study.h"
#include "study/toml_nesting.h"
#include "testutil.h"
#include "unit/engine_fixtures.h"

#include <fstream>
#include <gtest/gtest.h>

namespace {

using namespace impasto;

// Deep enough to overflow the stack of a recursive tree (destructor, conversion), yet under the
// 1 MiB size limit, so that the nesting check is what refuses it.
constexpr int kDeep = 200'000;

std::string repeat(const std::string& text, int count) {
    std::string out;
    out.reserve(text.size() * static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        out += text;
    }
    return out;
}

class StudyLimits : public ::testing::Test {
  protected:
    void SetUp() override {
        save_image(impasto::testing::synthetic_image(24, 16, 0), dir / "photo.png");
        save_image(impasto::testing::synthetic_image(24, 16, 1), dir / "painting.png");
    }

    // The ConfigError message of parsing and planning `text`, or "" when both succeed.
    std::string error_of(const std::string& text, SpecFormat format = SpecFormat::Toml) {
        try {
            plan_study(parse_study_spec(text, format, dir / (format == SpecFormat::Toml ? "spec.toml" : "spec.json")));
        } catch (const ConfigError& error) {
            return error.what();
        }
        return "";
    }

    impasto::testing::TempDir dir;
};

const std::string kImages = "contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n";

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

TEST_F(StudyLimits, DeepJsonSpecIsRefused) {
    const std::string deep = std::string(kDeep, '[') + std::string(kDeep, ']');
    const std::string what =
        error_of(R"({"contents": ["photo.png"], "styles": ["painting.png"], "title": )" + deep + "}", SpecFormat::Json);
    EXPECT_TRUE(contains(what, "nests deeper than 16")) << what;
    // Brackets inside strings do not count.
    EXPECT_EQ(error_of(R"({"contents": ["photo.png"], "styles": ["painting.png"], "title": ")" +
                           std::string(5000, '[') + "\"}",
                       SpecFormat::Json),
              "");
}

TEST_F(StudyLimits, DeepTomlInlineArraysAndTablesAreAConfigError) {
    // toml++ bounds inline values itself (TOML_MAX_NESTED_VALUES); ours is lower.
    std::string what = error_of(kImages + "title = " + std::string(300, '[') + std::string(300, ']') + "\n");
    EXPECT_TRUE(contains(what, "spec.toml:3:")) << what;
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    what = error_of(kImages + "title = " + repeat("{a = ", 300) + "1" + std::string(300, '}') + "\n");
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
}

TEST_F(StudyLimits, DeepTomlTableHeadersAndDottedKeysAreRefused) {
    // toml++ does not bound these: each dot is a table, nested, destroyed recursively.
    std::string what = error_of(kImages + "[" + repeat("a.", kDeep) + "a]\nx = 1\n");
    EXPECT_TRUE(contains(what, "spec.toml:3: nests deeper than 16")) << what;
    what = error_of(kImages + repeat("a.", kDeep) + "a = 1\n");
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    what = error_of(kImages + "[[" + repeat("a.", kDeep) + "a]]\n");
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    // Quoted segments and dotted keys inside inline tables count as well.
    what = error_of(kImages + "[" + repeat("\"a\".", 40) + "a]\n");
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    what = error_of(kImages + "x = {" + repeat("a.", 40) + "a = 1}\n");
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    // A header and a dotted key under it add up.
    what = error_of(kImages + "[" + repeat("a.", 9) + "a]\n" + repeat("b.", 9) + "b = 1\n");
    EXPECT_TRUE(contains(what, "spec.toml:4: nests deeper")) << what;
}

TEST(TomlNesting, CountsStructureNotStringsOrComments) {
    using study::toml_nesting_depth;
    EXPECT_EQ(toml_nesting_depth("a = 1\n", 16).depth, 0);
    EXPECT_EQ(toml_nesting_depth("[a.b]\nc.d = [[1], [2]]\n", 16).depth, 5); // tables a, b, c; two arrays
    EXPECT_EQ(toml_nesting_depth("x = [{a.b = [{c = 1}]}]\n", 16).depth, 5); // [ { a [ {
    EXPECT_EQ(toml_nesting_depth("[[runs]]\nx = 1\n", 16).depth, 2);
    EXPECT_EQ(toml_nesting_depth("title = \"a.b.c.d [[[[ {{{{\"\n", 16).depth, 0);
    EXPECT_EQ(toml_nesting_depth("t = 'a.b.c.d.e'\n# [[[[ a.b.c.d.e.f\n", 16).depth, 0);
    EXPECT_EQ(toml_nesting_depth("t = \"\"\"\n[a.b.c.d.e]\n\"\"\"\n", 16).depth, 0);
    EXPECT_EQ(toml_nesting_depth("t = '''\n[[[[[\n'''\n", 16).depth, 0);
    EXPECT_EQ(toml_nesting_depth("[\"a.b.c\".d]\n", 16).depth, 2);
    const study::TomlNesting deep = toml_nesting_depth("x = 1\ny = 2\nz = [[[[[[1]]]]]]\n", 4);
    EXPECT_GT(deep.depth, 4);
    EXPECT_EQ(deep.line, 3);
}

TEST_F(StudyLimits, RealSpecsStillParse) {
    EXPECT_EQ(error_of(kImages + "[reconstruct]\nstyle_layer_sets = [[\"relu1_1\"], [\"relu1_1\", \"relu2_1\"]]\n"
                                 "[grid]\nstyle_layers = [[\"relu1_1\"], [\"relu1_1\", \"relu2_1\"]]\n"
                                 "style_weight = [1e2, 1.5e3]\n"),
              "");
    EXPECT_EQ(error_of(R"({"contents": ["photo.png"], "styles": ["painting.png"],
                          "reconstruct": {"style_layer_sets": [["relu1_1"], ["relu1_1", "relu2_1"]]},
                          "grid": {"style_layers": [["relu1_1"], ["relu2_1"]]}})",
                       SpecFormat::Json),
              "");
}

TEST_F(StudyLimits, SpecsOverTheByteLimitAreRefused) {
    const std::string description(2U << 20U, 'x');
    std::string what = error_of(kImages + "description = \"" + description + "\"\n");
    EXPECT_TRUE(contains(what, "bytes")) << what;
    what = error_of(R"({"contents": ["photo.png"], "styles": ["painting.png"], "description": ")" + description + "\"}",
                    SpecFormat::Json);
    EXPECT_TRUE(contains(what, "bytes")) << what;
    // From a file: refused before it is read.
    std::ofstream(dir / "big.toml") << kImages << "description = \"" << description << "\"\n";
    try {
        load_study_spec(dir / "big.toml");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& error) {
        EXPECT_TRUE(contains(error.what(), "over the limit")) << error.what();
    }
}

TEST_F(StudyLimits, RunCountIsCappedWithoutAGridToo) {
    // 101 contents x 100 styles and no grid: 10100 runs.
    const std::string contents = "contents = [" + repeat("\"photo.png\", ", 100) + "\"photo.png\"]\n";
    const std::string styles = "styles = [" + repeat("\"painting.png\", ", 99) + "\"painting.png\"]\n";
    const std::string what = error_of(contents + styles);
    EXPECT_TRUE(contains(what, "more than 10000 runs")) << what;
}

TEST_F(StudyLimits, TotalIterationsOfAStudyAreCapped) {
    // 101 runs of 99150 iterations (99000 and the default schedule's coarse 150): 10.01 million.
    const std::string seeds = "seed = [" + repeat("1, ", 100) + "1]\n";
    const std::string what = error_of(kImages + "[base]\niterations = 99000\n[grid]\n" + seeds);
    EXPECT_TRUE(contains(what, "iterations in all")) << what;
    EXPECT_EQ(error_of(kImages + "[base]\niterations = 1000\n[grid]\n" + seeds), "");
    // Reconstructions count: 64 content layers and 64 style sets of 100000 iterations.
    const std::string layers = "content_layers = [" + repeat("\"relu1_1\", ", 63) + "\"relu1_1\"]\n" +
                               "style_layer_sets = [" + repeat("[\"relu1_1\"], ", 63) + "[\"relu1_1\"]]\n";
    EXPECT_TRUE(contains(error_of(kImages + "[reconstruct]\niterations = 100000\n" + layers), "iterations in all"));
    const std::string too_many = "content_layers = [" + repeat("\"relu1_1\", ", 64) + "\"relu1_1\"]\n";
    EXPECT_TRUE(contains(error_of(kImages + "[reconstruct]\n" + too_many), "65 entries"));
    const std::string sets = "style_layer_sets = [" + repeat("[\"relu1_1\"], ", 64) + "[\"relu1_1\"]]\n";
    EXPECT_TRUE(contains(error_of(kImages + "[reconstruct]\n" + sets), "65 entries"));
}

TEST_F(StudyLimits, WholeNumbersAreRangeCheckedBeforeTheyBecomeInts) {
    std::string what = error_of(kImages + "[base]\niterations = 1e12\n");
    EXPECT_TRUE(contains(what, "0..100000, got 1e+12")) << what;
    what = error_of(kImages + "[grid]\nsize = [64, 1e300]\n");
    EXPECT_TRUE(contains(what, "16..16384, got 1e+300")) << what;
    what = error_of(kImages + "[base]\nlbfgs_history = 5000\n");
    EXPECT_TRUE(contains(what, "1..1000, got 5000")) << what;
    what = error_of(kImages + "[base]\nschedule = \"" + repeat("16:1,", 40) + "16:1\"\n");
    EXPECT_TRUE(contains(what, "more than 16 steps")) << what;
}

} // namespace
