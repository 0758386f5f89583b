// Whole numbers read from JSON that someone else wrote are range-checked before any cast: nlohmann's
// get<int>() of 1e300 or 1.8e19 is undefined behaviour (UBSan; found by fuzz_style_model in a
// model card's images_seen), and of an integer out of range wraps silently.
#include "gatys/loss_history_json.h"
#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "io/json_numbers.h"
#include "nn/transformer_net.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace impasto {
namespace {

using nlohmann::json;

TEST(JsonNumbers, OnlyWholeNumbersInRangePass) {
    EXPECT_EQ(io::whole_number(json::parse("7"), 0, 10), 7);
    EXPECT_EQ(io::whole_number(json::parse("-3"), -5, 10), -3);
    EXPECT_EQ(io::whole_number(json::parse("9223372036854775807"), 0, INT64_MAX), INT64_MAX);
    for (const char* refused : {"11", "-1", "2.5", "7.0", "1e300", "-1e300", "18446744073709551615",
                                "18446744073709551615.0", "\"7\"", "null", "true", "[7]"}) {
        EXPECT_FALSE(io::whole_number(json::parse(refused), 0, 10).has_value()) << refused;
    }
    // An unsigned value past int64 is not wrapped into range.
    EXPECT_FALSE(io::whole_number(json::parse("18446744073709551615"), -1, INT64_MAX).has_value());
    EXPECT_FALSE(io::whole_number(json::parse("18446744073709551614"), -5, -1).has_value());
}

TEST(JsonNumbers, AFieldOutOfRangeNamesItsKeyAndValue) {
    const json object = json::parse(R"({"steps": 1e300, "fine": 4})");
    EXPECT_EQ(io::whole_field<InputError>(object, "fine", 0, 0, 10, "card"), 4);
    EXPECT_EQ(io::whole_field<InputError>(object, "absent", 3, 0, 10, "card"), 3);
    try {
        io::whole_field<InputError>(object, "steps", 0, 0, 10, "card");
        FAIL() << "1e300 accepted";
    } catch (const InputError& error) {
        EXPECT_STREQ(error.what(), "card: steps = 1e+300 is out of range; allowed: a whole number 0..10");
    }
}

TEST(JsonNumbers, TransformerConfigCountsAreCheckedBeforeTheCast) {
    for (const char* config : {R"({"width": 0.5, "styles": 1e300})", R"({"width": 0.5, "styles": 18446744073709551615})",
                               R"({"width": 0.5, "styles": 2.5})", R"({"width": 0.5, "residual_blocks": -1e300})",
                               R"({"width": 0.5, "residual_blocks": 4294967301})"}) {
        EXPECT_THROW(nn::TransformerNetConfig::from_json(config), InputError) << config;
    }
    EXPECT_EQ(nn::TransformerNetConfig::from_json(R"({"width": 0.5, "styles": 3, "residual_blocks": 5})").styles, 3);
}

TEST(JsonNumbers, ALossHistoryWithHugeCountsIsDamagedNotCast) {
    const json good = json::parse(
        R"([{"scale": 1, "iteration": 20, "content": 1, "style": 2, "tv": 0, "total": 3, "seconds": 0.5}])");
    EXPECT_EQ(loss_history_from_json(good).at(0).iteration, 20);
    json huge = good;
    huge[0]["iteration"] = 1e300;
    EXPECT_THROW(loss_history_from_json(huge), InputError);
    huge = good;
    huge[0]["scale"] = -1e300;
    EXPECT_THROW(loss_history_from_json(huge), InputError);
}

// The input fuzz_style_model found: a card whose images_seen is 18446744073709551615.0.
TEST(JsonNumbers, AModelCardWithAFloatCountPastInt64IsRefused) {
    const std::filesystem::path file =
        std::filesystem::path(IMPASTO_FUZZ_DIR) / "regressions/style_model/card-images-seen-float-past-int64";
    try {
        (void)read_style_model(file);
        FAIL() << "read";
    } catch (const InputError& error) {
        EXPECT_NE(std::string(error.what()).find("images_seen"), std::string::npos) << error.what();
    }
}

} // namespace
} // namespace impasto
