// Temporary file + fsync + rename, see atomic_file.h.
#include "impasto/atomic_file.h"

#include "impasto/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <random>
#include <unistd.h>

namespace impasto {
namespace fs = std::filesystem;

namespace {

std::string folder_of(const fs::path& file) {
    const fs::path parent = file.parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

// The reason for an errno, with the folder named when it is the folder that is missing.
std::string describe_errno(int error, const fs::path& file) {
    if (error == ENOENT || error == ENOTDIR) {
        return fmt::format("output folder '{}' does not exist", folder_of(file));
    }
    return std::strerror(error);
}

class FdCloser {
  public:
    explicit FdCloser(int fd) : fd_(fd) {}
    ~FdCloser() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    FdCloser(const FdCloser&) = delete;
    FdCloser& operator=(const FdCloser&) = delete;
    // Closing can report a deferred write error (NFS, quotas), so it is checked, not just done.
    int release_and_close() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result;
    }

  private:
    int fd_;
};

// Returns 0 or the errno of the failed write.
int write_all(int fd, const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        data += written;
        size -= static_cast<std::size_t>(written);
    }
    return 0;
}

// Makes the rename itself durable; failure here is not worth failing the save for.
void sync_folder(const fs::path& file) {
    const int fd = ::open(folder_of(file).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

} // namespace

fs::path temporary_sibling(const fs::path& file) {
    static thread_local std::mt19937_64 generator{std::random_device{}()};
    fs::path temp = file;
    temp += fmt::format(".tmp-{:016x}", generator());
    return temp;
}

void write_file_atomic(const fs::path& file, const std::uint8_t* data, std::size_t size) {
    if (file.filename().empty()) {
        throw OutputError(fmt::format("writing '{}': not a file name", file.string()));
    }
    fs::path temp;
    int fd = -1;
    for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
        temp = temporary_sibling(file);
        fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) {
            throw OutputError(fmt::format("writing '{}': {}", file.string(), describe_errno(errno, file)));
        }
    }
    if (fd < 0) {
        throw OutputError(fmt::format("writing '{}': could not create a temporary file", file.string()));
    }
    FdCloser closer(fd);
    int error = write_all(fd, data, size);
    if (error == 0 && ::fsync(fd) != 0) {
        error = errno;
    }
    if (closer.release_and_close() != 0 && error == 0) {
        error = errno;
    }
    if (error == 0 && ::rename(temp.c_str(), file.c_str()) != 0) {
        error = errno;
    }
    if (error != 0) {
        ::unlink(temp.c_str());
        if (error == EISDIR) {
            throw OutputError(fmt::format("writing '{}': a folder of that name exists", file.string()));
        }
        throw OutputError(fmt::format("writing '{}': {}", file.string(), std::strerror(error)));
    }
    sync_folder(file);
}

void write_file_atomic(const fs::path& file, const std::string& bytes) {
    write_file_atomic(file, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

} // namespace impasto
