#include "server/data_dir_lock.h"

#include "impasto/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace impasto::studio {

namespace fs = std::filesystem;

namespace {

std::string read_holder(int fd) {
    char text[32] = {};
    const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
    std::string pid(text, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
        pid.pop_back();
    }
    return pid.find_first_not_of("0123456789") == std::string::npos ? pid : "";
}

} // namespace

DataDirLock::DataDirLock(const fs::path& data_dir) {
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    const fs::path file = data_dir / "studio.lock";
    // O_CLOEXEC: a child process (none today) must not inherit, and so extend, the lock.
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw OutputError("data folder '" + data_dir.string() + "': cannot open its lock file (" +
                          std::strerror(errno) + ")");
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        const std::string holder = read_holder(fd_);
        ::close(fd_);
        fd_ = -1;
        if (error == EWOULDBLOCK) {
            throw OutputError("data folder '" + data_dir.string() + "' is in use by another impasto serve" +
                              (holder.empty() ? std::string() : " (pid " + holder + ")") +
                              "; stop it, or give this one another --data");
        }
        throw OutputError("data folder '" + data_dir.string() + "': cannot lock it (" + std::strerror(error) + ")");
    }
    // Who holds it, for the message the next one prints; the lock itself is what counts.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(fd_, pid.data(), pid.size(), 0);
    }
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) {
        ::close(fd_); // releases the lock
    }
}

} // namespace impasto::studio
