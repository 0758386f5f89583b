// Job requests: defaults come from the library's option structs, bad requests name the field,
// and the settings key ignores what does not change the settings.
#include "impasto/error.h"
#include "server/job_request.h"
#include "server/studio_error.h"

#include <gtest/gtest.h>

namespace impasto::studio {
namespace {

using nlohmann::json;

StudioCatalog test_catalog() {
    StudioCatalog catalog;
    catalog.models.push_back({"wave", {"great_wave"}, "wave.impasto"});
    catalog.models.push_back({"duo", {"a", "b"}, "duo.impasto"});
    catalog.decoder_levels = {"relu3_1", "relu4_1"};
    catalog.precision = Precision::Bf16;
    catalog.max_output_side = 1024;
    return catalog;
}

TEST(StudioJobRequest, DefaultsAreTheLibraryDefaults) {
    const json defaults = defaults_json(test_catalog());
    const StylizeOptions library;
    const json& optimisation = defaults.at("optimisation").at("defaults");
    EXPECT_EQ(optimisation.at("size"), library.size);
    EXPECT_EQ(optimisation.at("iterations"), library.iterations);
    EXPECT_EQ(optimisation.at("style_weight"), library.style_weight);
    EXPECT_EQ(optimisation.at("content_weight"), library.content_weight);
    EXPECT_EQ(optimisation.at("tv_weight"), library.tv_weight);
    EXPECT_EQ(optimisation.at("schedule"), format_schedule(library.scales));
    EXPECT_EQ(optimisation.at("precision"), "bf16") << "the server's resolved precision";
    const StylizeOptions paper = preset_options("paper");
    EXPECT_EQ(defaults.at("optimisation").at("presets").at("paper").at("iterations"), paper.iterations);
    EXPECT_EQ(defaults.at("optimisation").at("presets").at("paper").at("init"), "noise");
    EXPECT_EQ(defaults.at("arbitrary").at("defaults").at("alpha"), ArbitraryOptions().alpha);
    EXPECT_EQ(defaults.at("arbitrary").at("defaults").at("style_size"), ArbitraryOptions().style_size);
    EXPECT_EQ(defaults.at("fast").at("defaults").at("model"), "wave");
    EXPECT_EQ(defaults.at("fast").at("defaults").at("size"), FastStylizeOptions().size);
    EXPECT_EQ(defaults.at("fast").at("defaults").at("work_size"), FastStylizeOptions().work_size);
    EXPECT_EQ(defaults.at("arbitrary").at("defaults").at("work_size"), ArbitraryOptions().work_size);
}

TEST(StudioJobRequest, APresetSuppliesTheOtherDefaults) {
    const JobRequest request = resolve_job_request(
        json{{"method", "optimisation"}, {"content", "u_1"}, {"styles", {"g_x"}}, {"params", {{"preset", "paper"}}}},
        test_catalog());
    const StylizeOptions options = to_stylize_options(request.params);
    const StylizeOptions paper = preset_options("paper");
    EXPECT_EQ(options.iterations, paper.iterations);
    EXPECT_EQ(options.loss_scaling, LossScaling::Paper);
    EXPECT_EQ(options.pooling, Pooling::Average);
    EXPECT_TRUE(options.scales.empty());
    EXPECT_TRUE(options.lbfgs_line_search) << "settings the studio does not show keep the preset's value";
}

TEST(StudioJobRequest, BadRequestsNameTheField) {
    const StudioCatalog catalog = test_catalog();
    auto message = [&](const json& body) -> std::string {
        try {
            resolve_job_request(body, catalog);
        } catch (const Error& e) {
            return e.what();
        }
        return "accepted";
    };
    EXPECT_NE(message(json::array()).find("JSON object"), std::string::npos);
    EXPECT_NE(message({{"method", "x"}, {"content", "u"}}).find("method 'x'"), std::string::npos);
    EXPECT_NE(message({{"method", "fast"}}).find("content"), std::string::npos);
    EXPECT_NE(message({{"method", "arbitrary"}, {"content", "u"}}).find("style"), std::string::npos);
    EXPECT_NE(message({{"method", "fast"}, {"content", "u"}, {"params", {{"model", "nope"}}}}).find("nope"),
              std::string::npos);
    EXPECT_NE(message({{"method", "fast"}, {"content", "u"}, {"params", {{"size", 1.5}}}}).find("whole number"),
              std::string::npos);
    EXPECT_NE(message({{"method", "fast"}, {"content", "u"}, {"params", {{"size", 5000}}}}).find("0..1024"),
              std::string::npos);
    EXPECT_NE(message({{"method", "fast"}, {"content", "u"}, {"params", {{"color", "purple"}}}}).find("luminance"),
              std::string::npos);
    EXPECT_NE(message({{"method", "fast"}, {"content", "u"}, {"params", {{"style_weights", {1, 1, 1}}}}}), "accepted");
    EXPECT_NE(message({{"method", "arbitrary"}, {"content", "u"}, {"styles", {"g"}}, {"params", {{"alpha", 2}}}}),
              "accepted");
    EXPECT_NE(message({{"method", "arbitrary"}, {"content", "u"}, {"styles", {"g"}}, {"params", {{"work_size", 8}}}})
                  .find("work size = 8"),
              std::string::npos);
    EXPECT_NE(message({{"method", "fast"}, {"content", "u"}, {"params", {{"work_size", -1}}}}).find("work size"),
              std::string::npos);
    EXPECT_NE(
        message({{"method", "arbitrary"}, {"content", "u"}, {"styles", {"g"}}, {"params", {{"levels", {"relu1_1"}}}}})
            .find("no decoder for relu1_1"),
        std::string::npos);
    EXPECT_NE(message({{"method", "optimisation"}, {"content", "u"}, {"styles", {"g"}}, {"params", {{"x", 1}}}})
                  .find("params.x"),
              std::string::npos);
    EXPECT_NE(message({{"method", "optimisation"}, {"content", "u"}, {"styles", {"g"}}, {"evil", 1}}).find("evil"),
              std::string::npos);
    EXPECT_EQ(message({{"method", "optimisation"}, {"content", "u"}, {"styles", {"g"}}, {"params", {{"size", 64}}}}),
              "accepted");
}

TEST(StudioJobRequest, TheSettingsKeyIgnoresSeedAndContentButNotSettings) {
    const StudioCatalog catalog = test_catalog();
    auto key = [&](const json& body) { return settings_key(resolve_job_request(body, catalog)); };
    const json base{{"method", "optimisation"}, {"content", "u_a"}, {"styles", {"g_x"}}, {"params", {{"seed", 1}}}};
    json other_seed = base;
    other_seed["params"]["seed"] = 7;
    json other_content = base;
    other_content["content"] = "u_b";
    json other_weight = base;
    other_weight["params"]["style_weight"] = 100;
    json other_style = base;
    other_style["styles"] = {"g_y"};
    EXPECT_EQ(key(base), key(other_seed));
    EXPECT_EQ(key(base), key(other_content));
    EXPECT_NE(key(base), key(other_weight));
    EXPECT_NE(key(base), key(other_style));
    const std::string label = settings_label(resolve_job_request(other_weight, catalog), catalog, {"my painting"});
    EXPECT_NE(label.find("style_weight 100"), std::string::npos) << label;
    EXPECT_NE(label.find("my painting"), std::string::npos) << label;
    json one_scale = base;
    one_scale["params"]["schedule"] = "";
    const std::string single = settings_label(resolve_job_request(one_scale, catalog), catalog, {"x"});
    EXPECT_NE(single.find("schedule none"), std::string::npos) << single;
    EXPECT_EQ(label.find("seed"), std::string::npos) << label;
}

TEST(StudioJobRequest, StoredRequestsRoundTrip) {
    const StudioCatalog catalog = test_catalog();
    const JobRequest request = resolve_job_request(json{{"method", "arbitrary"},
                                                        {"content", "u_a"},
                                                        {"styles", {"g_x", "g_y"}},
                                                        {"parent", "j_1"},
                                                        {"params", {{"transform", "wct"}, {"style_weights", {1, 3}}}}},
                                                   catalog);
    const JobRequest back = job_request_from_json(to_json(request));
    EXPECT_EQ(back.method, JobMethod::Arbitrary);
    EXPECT_EQ(back.styles, request.styles);
    EXPECT_EQ(back.parent, "j_1");
    EXPECT_EQ(back.params, request.params);
    EXPECT_EQ(to_arbitrary_options(back.params).method, TransformMethod::Wct);
}

} // namespace
} // namespace impasto::studio
