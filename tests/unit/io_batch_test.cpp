// The folder-in, folder-out pipeline: order, per-item failures, skipping, cancelling, and that a
// failure of an unexpected kind still joins the worker threads before it propagates.
#include "impasto/batch.h"
#include "impasto/error.h"
#include "io_image_fixtures.h"
#include "testutil.h"

#include <fstream>
#include <gtest/gtest.h>
#include <stdexcept>

namespace impasto::testing {
namespace {

Image inverted(const Image& image) {
    Image out = image;
    for (float& v : out.rgb) {
        v = 1.0F - v;
    }
    return out;
}

// Three photos and one file that only claims to be a JPEG.
void make_inputs(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    save_image(solid_image(21, 13, 0.2F, 0.4F, 0.6F), dir / "a.png");
    save_image(gradient_image(17, 11), dir / "b.png");
    std::ofstream(dir / "c.jpg") << "not a jpeg at all";
    save_image(solid_image(9, 12, 1.0F, 0.0F, 0.0F), dir / "d.png");
    std::ofstream(dir / "notes.txt") << "ignored";
}

TEST(Batch, PlanListsImagesInNameOrder) {
    TempDir tmp;
    make_inputs(tmp / "in");
    const auto items = plan_batch(tmp / "in", tmp / "out", ".png");
    ASSERT_EQ(items.size(), 4U);
    EXPECT_EQ(items[0].input.filename(), "a.png");
    EXPECT_EQ(items[2].input.filename(), "c.jpg");
    EXPECT_EQ(items[2].output, tmp / "out" / "c.png");
    EXPECT_TRUE(std::filesystem::is_directory(tmp / "out"));
}

TEST(Batch, PlanRefusesBadFolders) {
    TempDir tmp;
    EXPECT_THROW(plan_batch(tmp / "missing", tmp / "out", ".png"), InputError);
    std::filesystem::create_directories(tmp / "empty");
    IMPASTO_EXPECT_CONTAINS(error_of([&] { plan_batch(tmp / "empty", tmp / "out", ".png"); }), "holds no image");
    make_inputs(tmp / "in");
    EXPECT_THROW(plan_batch(tmp / "in", tmp / "out", ".gif"), OutputError);
    EXPECT_THROW(plan_batch(tmp / "in", tmp / "in", ".png"), OutputError);
    save_image(solid_image(9, 9, 0, 0, 0), tmp / "in" / "a.jpg");
    IMPASTO_EXPECT_CONTAINS(error_of([&] { plan_batch(tmp / "in", tmp / "out", ".png"); }), "would both write");
}

TEST(Batch, WritesEveryGoodItemAndReportsTheBadOne) {
    TempDir tmp;
    make_inputs(tmp / "in");
    const auto items = plan_batch(tmp / "in", tmp / "out", ".png");
    std::vector<std::size_t> seen;
    const BatchSummary summary = run_batch(items, inverted, {}, [&](const BatchEvent& event) {
        seen.push_back(event.done);
        EXPECT_EQ(event.total, 4U);
        return true;
    });
    EXPECT_EQ(summary.written, 3U);
    EXPECT_EQ(summary.failed, 1U);
    EXPECT_FALSE(summary.cancelled);
    ASSERT_EQ(summary.items.size(), 4U);
    EXPECT_EQ(seen, (std::vector<std::size_t>{1, 2, 3, 4}));
    EXPECT_FALSE(summary.items[2].ok);
    IMPASTO_EXPECT_CONTAINS(summary.items[2].error, "c.jpg");
    EXPECT_FALSE(std::filesystem::exists(tmp / "out" / "c.png"));
    const Image a = load_image(tmp / "out" / "a.png");
    EXPECT_EQ(a.width, 21);
    EXPECT_NEAR(a.rgb[0], 0.8F, 1.0F / 255);
    EXPECT_NEAR(a.rgb[2], 0.4F, 1.0F / 255);
}

TEST(Batch, SkipsExistingOutputsWhenAsked) {
    TempDir tmp;
    make_inputs(tmp / "in");
    const auto items = plan_batch(tmp / "in", tmp / "out", ".png");
    save_image(solid_image(8, 8, 0, 1, 0), tmp / "out" / "b.png");
    BatchOptions options;
    options.skip_existing = true;
    int calls = 0;
    const BatchSummary summary = run_batch(
        items,
        [&](const Image& image) {
            ++calls;
            return inverted(image);
        },
        options);
    EXPECT_EQ(summary.skipped, 1U);
    EXPECT_EQ(calls, 2); // a and d; c fails to decode
    EXPECT_EQ(load_image(tmp / "out" / "b.png").width, 8);
}

TEST(Batch, CancelStopsAfterTheItemsInFlight) {
    TempDir tmp;
    std::filesystem::create_directories(tmp / "in");
    // More items than the queues and stages can hold at once (2 + 2 + one per stage).
    for (int i = 0; i < 16; ++i) {
        save_image(gradient_image(9 + i, 9), tmp / "in" / ("p" + std::to_string(100 + i) + ".png"));
    }
    const auto items = plan_batch(tmp / "in", tmp / "out", ".png");
    const BatchSummary summary = run_batch(items, inverted, {}, [](const BatchEvent&) { return false; });
    EXPECT_TRUE(summary.cancelled);
    EXPECT_LT(summary.items.size(), items.size());
    EXPECT_GE(summary.items.size(), 1U);
}

TEST(Batch, TransformErrorsFailOnlyTheirItem) {
    TempDir tmp;
    make_inputs(tmp / "in");
    const auto items = plan_batch(tmp / "in", tmp / "out", ".png");
    const BatchSummary summary = run_batch(items, [](const Image& image) -> Image {
        if (image.width == 17) {
            throw ResourceError("too large for this test");
        }
        return image;
    });
    EXPECT_EQ(summary.written, 2U);
    EXPECT_EQ(summary.failed, 2U);
    EXPECT_EQ(summary.items[1].error, "too large for this test");
}

TEST(Batch, UnexpectedExceptionsPropagateAfterTheWorkersJoin) {
    TempDir tmp;
    make_inputs(tmp / "in");
    const auto items = plan_batch(tmp / "in", tmp / "out", ".png");
    EXPECT_THROW(run_batch(items, [](const Image&) -> Image { throw std::logic_error("bug"); }), std::logic_error);
}

TEST(Batch, OptionsAreChecked) {
    BatchOptions options;
    options.queue_depth = 0;
    EXPECT_THROW(options.validate(), ConfigError);
}

} // namespace
} // namespace impasto::testing
