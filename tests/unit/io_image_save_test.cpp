// save_image, write_file_atomic, check_output_path, encode_png and resizing.
#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "impasto/image.h"
#include "io_image_fixtures.h"
#include "testutil.h"

#include <gtest/gtest.h>

namespace impasto {
namespace {
using namespace impasto::testing;
namespace fs = std::filesystem;

std::vector<std::string> folder_entries(const fs::path& folder) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(ImageSave, LeavesNoTemporaryFiles) {
    TempDir dir;
    for (const char* name : {"a.png", "b.JPG", "c.bmp", "d.tif", "e.webp"}) {
        save_image(gradient_image(10, 9), dir / name);
    }
    EXPECT_EQ(folder_entries(dir.path()), (std::vector<std::string>{"a.png", "b.JPG", "c.bmp", "d.tif", "e.webp"}));
}

TEST(ImageSave, ReplacesAnExistingFile) {
    TempDir dir;
    save_image(solid_image(9, 9, 1, 0, 0), dir / "out.png");
    save_image(solid_image(9, 9, 0, 1, 0), dir / "out.png");
    EXPECT_FLOAT_EQ(load_image(dir / "out.png").pixel(3, 3)[1], 1.0F);
    EXPECT_EQ(folder_entries(dir.path()).size(), 1U);
}

TEST(ImageSave, MissingFolderCreatesNothing) {
    TempDir dir;
    const std::string message =
        error_message<OutputError>([&] { save_image(gradient_image(9, 9), dir / "missing" / "out.png"); });
    IMPASTO_EXPECT_CONTAINS(message, "output folder '" + (dir / "missing").string() + "' does not exist");
    EXPECT_TRUE(folder_entries(dir.path()).empty());
}

TEST(ImageSave, FailureDoesNotClobberTheTarget) {
    TempDir dir;
    // A folder where the file should go: the rename fails, and the temporary file is removed.
    fs::create_directory(dir / "taken.png");
    write_text(dir / "taken.png" / "keep.txt", "precious");
    EXPECT_THROW(save_image(gradient_image(9, 9), dir / "taken.png"), OutputError);
    EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"taken.png"});
    EXPECT_EQ(folder_entries(dir / "taken.png"), std::vector<std::string>{"keep.txt"});
}

TEST(ImageSave, UnknownExtensionNamesTheAllowedOnes) {
    TempDir dir;
    const std::string message = error_message<OutputError>([&] { save_image(gradient_image(9, 9), dir / "x.gif"); });
    IMPASTO_EXPECT_CONTAINS(message, "unknown image extension '.gif' (allowed: .png, .jpg, .jpeg, .bmp, .tif");
    EXPECT_TRUE(folder_entries(dir.path()).empty());
}

TEST(ImageSave, BadArgumentsAreConfigErrors) {
    TempDir dir;
    EXPECT_THROW(save_image(gradient_image(9, 9), dir / "x.jpg", 0), ConfigError);
    Image broken = gradient_image(9, 9);
    broken.rgb.pop_back();
    EXPECT_THROW(save_image(broken, dir / "x.png"), ConfigError);
    EXPECT_THROW(save_image(Image{}, dir / "x.png"), ConfigError);
}

TEST(ImageSave, EncodePngDecodes) {
    TempDir dir;
    const Image original = gradient_image(13, 8);
    const std::vector<std::uint8_t> png = encode_png(original);
    ASSERT_GT(png.size(), 8U);
    EXPECT_EQ(png[1], 'P');
    write_bytes(dir / "preview.png", png);
    const Image loaded = load_image(dir / "preview.png");
    EXPECT_NEAR(loaded.pixel(12, 7)[0], original.pixel(12, 7)[0], 0.5F / 255.0F + 1e-6F);
}

TEST(AtomicFile, WritesAndReplaces) {
    TempDir dir;
    write_file_atomic(dir / "side.json", std::string("{\"a\": 1}"));
    write_file_atomic(dir / "side.json", std::string("{\"a\": 2}"));
    const std::vector<std::uint8_t> bytes = read_bytes(dir / "side.json");
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{\"a\": 2}");
    EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"side.json"});
}

TEST(AtomicFile, MissingFolder) {
    TempDir dir;
    const std::string message =
        error_message<OutputError>([&] { write_file_atomic(dir / "no" / "side.json", std::string("x")); });
    IMPASTO_EXPECT_CONTAINS(message, "side.json': output folder '" + (dir / "no").string() + "' does not exist");
}

TEST(AtomicFile, TemporarySiblingIsInTheSameFolder) {
    const fs::path temp = temporary_sibling("/some/where/out.png");
    EXPECT_EQ(temp.parent_path(), fs::path("/some/where"));
    EXPECT_EQ(temp.filename().string().rfind("out.png.tmp-", 0), 0U);
    EXPECT_NE(temp, temporary_sibling("/some/where/out.png"));
}

TEST(OutputPath, AcceptsAWritableFolder) {
    TempDir dir;
    EXPECT_NO_THROW(check_output_path(dir / "out.PNG", {dir / "in.png"}));
    EXPECT_TRUE(folder_entries(dir.path()).empty()); // the writability probe is removed
}

TEST(OutputPath, MissingFolder) {
    TempDir dir;
    IMPASTO_EXPECT_CONTAINS(error_message<OutputError>([&] { check_output_path(dir / "nope" / "o.png", {}); }),
                            "output folder '" + (dir / "nope").string() + "' does not exist");
}

// Tests run as root, which passes every permission check, so unwritable folders are made
// from things no permission bit can fix: a "folder" that is a regular file, and /proc.
TEST(OutputPath, FolderThatIsAFile) {
    TempDir dir;
    write_text(dir / "file", "x");
    IMPASTO_EXPECT_CONTAINS(error_message<OutputError>([&] { check_output_path(dir / "file" / "o.png", {}); }),
                            "output folder '" + (dir / "file").string() + "' is not a folder");
}

TEST(OutputPath, UnwritableFolder) {
    IMPASTO_EXPECT_CONTAINS(error_message<OutputError>([&] { check_output_path("/proc/impasto-out.png", {}); }),
                            "output folder '/proc' is not writable");
}

TEST(OutputPath, SameAsInput) {
    TempDir dir;
    save_image(gradient_image(9, 9), dir / "in.png");
    fs::create_directory(dir / "sub");
    const fs::path roundabout = dir / "sub" / ".." / "in.png";
    IMPASTO_EXPECT_CONTAINS(error_message<OutputError>([&] { check_output_path(roundabout, {dir / "in.png"}); }),
                            "is the same file as input '" + (dir / "in.png").string() + "'");
    // A hard link is the same file under another name.
    fs::create_hard_link(dir / "in.png", dir / "link.png");
    EXPECT_THROW(check_output_path(dir / "link.png", {dir / "in.png"}), OutputError);
    // Neither exists yet: compared by normalised path.
    EXPECT_THROW(check_output_path(dir / "new.png", {dir / "sub" / ".." / "new.png"}), OutputError);
}

TEST(OutputPath, UnknownExtension) {
    TempDir dir;
    IMPASTO_EXPECT_CONTAINS(error_message<OutputError>([&] { check_output_path(dir / "o.gif", {}); }),
                            "unknown image extension '.gif' (allowed: ");
    IMPASTO_EXPECT_CONTAINS(error_message<OutputError>([&] { check_output_path(dir / "noext", {}); }),
                            "unknown image extension ''");
}

TEST(ImageResize, ShrinkAndGrowStayInRange) {
    const Image original = gradient_image(40, 30);
    const Image small = resize_image(original, 10, 7);
    EXPECT_EQ(small.width, 10);
    EXPECT_EQ(small.height, 7);
    EXPECT_EQ(small.rgb.size(), 10U * 7U * 3U);
    // A hard edge grown with cubic interpolation overshoots; the result is clamped.
    Image edge = solid_image(8, 8, 0, 0, 0);
    for (int y = 0; y < 8; ++y) {
        for (int x = 4; x < 8; ++x) {
            edge.pixel(x, y)[0] = 1.0F;
        }
    }
    const Image big = resize_image(edge, 37, 29);
    for (float v : big.rgb) {
        ASSERT_GE(v, 0.0F);
        ASSERT_LE(v, 1.0F);
    }
    // Area averaging of a constant stays exact.
    const Image flat = resize_image(solid_image(33, 21, 0.25F, 0.5F, 0.75F), 11, 7);
    EXPECT_NEAR(flat.pixel(5, 3)[2], 0.75F, 1e-6F);
}

TEST(ImageResize, LongSideKeepsAspect) {
    const Image landscape = resize_long_side(gradient_image(300, 200), 150);
    EXPECT_EQ(landscape.width, 150);
    EXPECT_EQ(landscape.height, 100);
    const Image portrait = resize_long_side(gradient_image(10, 1000), 512);
    EXPECT_EQ(portrait.height, 512);
    EXPECT_EQ(portrait.width, 5);
    EXPECT_EQ(resize_long_side(gradient_image(1000, 2), 10).height, 1); // never below 1
    EXPECT_THROW(resize_long_side(gradient_image(10, 10), 0), ConfigError);
    EXPECT_THROW(resize_image(gradient_image(10, 10), 0, 5), ConfigError);
}

} // namespace
} // namespace impasto
