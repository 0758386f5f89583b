// Files that are not files: /dev/zero never ends, a FIFO without a writer blocks whoever opens it,
// a folder is not data. Every reader of a path the user names refuses them at once, and caps what
// it reads from a regular file before allocating (a sparse file here claims gigabytes on no disk).
#include "impasto/error.h"
#include "impasto/image.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"
#include "io/keras_h5.h"
#include "io/sha256.h"
#include "io/torch_legacy.h"
#include "io/zip_reader.h"
#include "io_image_fixtures.h"
#include "testutil.h"

#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace impasto {
namespace {
using namespace impasto::testing;
namespace fs = std::filesystem;

// A FIFO with no writer: opening it for reading the ordinary way blocks forever.
class Fifo {
  public:
    explicit Fifo(const fs::path& path) : path_(path) { EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0); }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

// A file of `size` bytes that occupies no disk (all zeros).
fs::path sparse_file(const fs::path& path, std::uint64_t size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
    ::close(fd);
    return path;
}

// Each reader of a user-named path, by what it reads.
std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> readers() {
    std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> all = {
        {"image", [](const fs::path& p) { load_image(p); }},
        {"weights", [](const fs::path& p) { read_file_bytes(p); }},
        {"safetensors", [](const fs::path& p) { read_safetensors(p); }},
        {"model", [](const fs::path& p) { read_style_model(p); }},
        {"legacy torch", [](const fs::path& p) { io::read_torch_legacy(p); }},
        {"zip torch", [](const fs::path& p) { io::read_torch_zip(p); }},
        {"wheel", [](const fs::path& p) { io::ZipArchive{p}; }},
        {"sha256", [](const fs::path& p) { io::sha256_file_hex(p); }},
    };
    if (io::keras_h5_supported()) {
        all.emplace_back("keras", [](const fs::path& p) { io::read_keras_h5_conv_layers(p, {"block1_conv1"}); });
    }
    return all;
}

} // namespace

TEST(RegularFiles, CharacterDeviceIsRefused) {
    for (const auto& reader : readers()) {
        const std::string& what = reader.first;
        const auto& read = reader.second; // not a structured binding: clang cannot capture one (C++17)
        const std::string message = error_of([&] { read("/dev/zero"); });
        EXPECT_NE(message.find("/dev/zero"), std::string::npos) << what << ": " << message;
        EXPECT_NE(message.find("character device"), std::string::npos) << what << ": " << message;
    }
}

TEST(RegularFiles, FifoIsRefusedWithoutWaitingForAWriter) {
    TempDir dir;
    const Fifo fifo(dir / "pipe.png");
    for (const auto& reader : readers()) {
        const std::string& what = reader.first;
        const auto& read = reader.second;
        const std::string message = error_of([&] { read(fifo.path()); });
        EXPECT_NE(message.find("FIFO"), std::string::npos) << what << ": " << message;
    }
}

TEST(RegularFiles, FolderIsRefused) {
    TempDir dir;
    for (const auto& reader : readers()) {
        const std::string& what = reader.first;
        const auto& read = reader.second;
        const std::string message = error_of([&] { read(dir.path()); });
        EXPECT_NE(message.find("folder"), std::string::npos) << what << ": " << message;
    }
}

// Sparse files claiming more than the caps are refused from their size, before a byte is read.
TEST(RegularFiles, SizeIsCappedBeforeReading) {
    TempDir dir;
    const fs::path weights = sparse_file(dir / "huge.safetensors", (std::uint64_t{2} << 30U) + 1);
    EXPECT_NE(error_of([&] { read_file_bytes(weights); }).find("over the limit of 2147483648 bytes"),
              std::string::npos);
    const fs::path image = sparse_file(dir / "huge.png", (std::uint64_t{1} << 30U) + 1);
    EXPECT_NE(error_of([&] { load_image(image); }).find("over the limit of 1073741824 bytes"), std::string::npos);
}

// /proc files are regular but report a size of 0: what is read is what the size said.
TEST(RegularFiles, ProcFilesReadAsTheirStatedSize) {
    EXPECT_NE(error_of([] { load_image("/proc/self/status"); }).find("empty file"), std::string::npos);
}

} // namespace impasto
