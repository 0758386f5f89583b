// The studio offers every committed feed-forward model as a fast model: transformer networks and
// StyleBank models alike, with their styles, and the decoders as arbitrary-style levels.
#include "server/job_request.h"

#include <algorithm>
#include <gtest/gtest.h>

namespace impasto::studio {
namespace {

const FastModelInfo* find_model(const StudioCatalog& catalog, const std::string& name) {
    const auto it = std::find_if(catalog.models.begin(), catalog.models.end(),
                                 [&](const FastModelInfo& model) { return model.name == name; });
    return it == catalog.models.end() ? nullptr : &*it;
}

TEST(StudioCatalog, OffersTransformerAndStyleBankModelsWithTheirStyles) {
    const StudioCatalog catalog = scan_catalog(IMPASTO_MODELS_DIR, Precision::Fp32, 2048);
    const FastModelInfo* transformer = find_model(catalog, "starry_scream");
    ASSERT_NE(transformer, nullptr);
    EXPECT_EQ(transformer->styles, (std::vector<std::string>{"starry_night", "the_scream"}));
    const FastModelInfo* bank = find_model(catalog, "stylebank3");
    ASSERT_NE(bank, nullptr) << "the StyleBank model in models/stylebank is not offered";
    EXPECT_EQ(bank->styles, (std::vector<std::string>{"starry_night", "the_scream", "great_wave"}));
    // Decoders are levels of the arbitrary path, never fast models.
    EXPECT_FALSE(catalog.decoder_levels.empty());
    for (const FastModelInfo& model : catalog.models) {
        EXPECT_NE(model.file.parent_path().filename(), "decoders") << model.file;
    }
}

} // namespace
} // namespace impasto::studio
