#pragma once
// An anonymous in-memory file (memfd) with a path, for the entry points whose library API takes a
// path (read_style_model, load_image): the bytes reach the same code as a file on disk would,
// without touching the disk on every execution.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace impasto::fuzz {

class MemoryFile {
  public:
    explicit MemoryFile(const char* name) : fd_(memfd_create(name, MFD_CLOEXEC)) {
        if (fd_ < 0) {
            throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~MemoryFile() { close(fd_); }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;

    // Replaces the file's contents with `data`.
    void assign(const std::uint8_t* data, std::size_t size) {
        if (ftruncate(fd_, 0) != 0) {
            throw std::runtime_error(std::string("ftruncate: ") + std::strerror(errno));
        }
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            if (n <= 0) {
                throw std::runtime_error(std::string("pwrite: ") + std::strerror(errno));
            }
            done += static_cast<std::size_t>(n);
        }
    }
    const std::string& path() const { return path_; }

  private:
    int fd_;
    std::string path_;
};

} // namespace impasto::fuzz
