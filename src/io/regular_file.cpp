// Reading regular files only, with the size checked before allocating (see regular_file.h).
#include "io/regular_file.h"

#include "impasto/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace impasto::io {
namespace {

std::string kind_of(mode_t mode) {
    if (S_ISDIR(mode)) {
        return "is a folder, not a file";
    }
    if (S_ISCHR(mode)) {
        return "is a character device, not a regular file";
    }
    if (S_ISBLK(mode)) {
        return "is a block device, not a regular file";
    }
    if (S_ISFIFO(mode)) {
        return "is a FIFO (named pipe), not a regular file";
    }
    if (S_ISSOCK(mode)) {
        return "is a socket, not a regular file";
    }
    return "is not a regular file";
}

} // namespace

RegularFile::RegularFile(const std::filesystem::path& path) {
    // stat first, so that a FIFO or a device is refused without opening it: opening some devices
    // has effects of its own (a tape rewinds, a terminal becomes the controlling one).
    struct stat before {};
    if (::stat(path.c_str(), &before) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            throw InputError("file not found");
        }
        throw InputError(fmt::format("cannot access ({})", std::strerror(errno)));
    }
    if (!S_ISREG(before.st_mode)) {
        throw InputError(kind_of(before.st_mode));
    }
    // O_NONBLOCK: should a FIFO replace the file between stat and open, open must not wait for a
    // writer; the fstat below then refuses it. It changes nothing for regular files.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd_ < 0) {
        throw InputError(fmt::format("cannot open ({})", std::strerror(errno)));
    }
    struct stat opened {};
    if (::fstat(fd_, &opened) != 0 || !S_ISREG(opened.st_mode)) {
        const std::string reason = kind_of(opened.st_mode);
        ::close(fd_);
        fd_ = -1;
        throw InputError(reason);
    }
    size_ = static_cast<std::uint64_t>(opened.st_size);
}

RegularFile::~RegularFile() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

std::size_t RegularFile::read_some(void* buffer, std::size_t count) {
    for (;;) {
        const ssize_t got = ::read(fd_, buffer, count);
        if (got >= 0) {
            return static_cast<std::size_t>(got);
        }
        if (errno != EINTR) {
            throw InputError(fmt::format("read error ({})", std::strerror(errno)));
        }
    }
}

std::string read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
    RegularFile file(path);
    if (file.size() > max_bytes) {
        throw InputError(fmt::format("file of {} bytes is over the limit of {} bytes", file.size(), max_bytes));
    }
    std::string bytes(static_cast<std::size_t>(file.size()), '\0');
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const std::size_t got = file.read_some(bytes.data() + filled, bytes.size() - filled);
        if (got == 0) {
            throw InputError(fmt::format("the file shrank while being read ({} of {} bytes)", filled, bytes.size()));
        }
        filled += got;
    }
    return bytes;
}

} // namespace impasto::io
