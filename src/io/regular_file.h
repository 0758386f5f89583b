#pragma once
// Every file the library reads from a path the user names (images, masks, weights, models, wheels,
// specs) is opened here. Only regular files are read: a character device (/dev/zero), a FIFO or a
// socket never ends, and a folder is not data. The size is known before anything is allocated, so
// a cap is checked first, and a file is read up to the size it had when opened, never further.
#include <cstdint>
#include <filesystem>
#include <string>

namespace impasto::io {

// A read-only descriptor on a regular file, closed on destruction.
class RegularFile {
  public:
    // Throws InputError with the reason only (the caller names the file): not found, a folder,
    // a device, FIFO or socket, or cannot be opened. A FIFO is refused before it is opened (and
    // opened non-blocking, should it be swapped in between), so nothing here waits for a writer.
    explicit RegularFile(const std::filesystem::path& path);
    ~RegularFile();
    RegularFile(const RegularFile&) = delete;
    RegularFile& operator=(const RegularFile&) = delete;

    // The size when opened.
    std::uint64_t size() const { return size_; }
    // Up to `count` bytes into `buffer`; 0 at the end of the file. Throws InputError on a read error.
    std::size_t read_some(void* buffer, std::size_t count);

  private:
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

// The whole file, at most `max_bytes` long: throws InputError (reason only) as RegularFile does,
// when the file is larger than `max_bytes`, and when it shrinks while being read.
std::string read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes);

} // namespace impasto::io
