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

std::string read_holder(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return "";
    }
    char text[32] = {};
    const ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
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
    // The lock is on the folder itself, which cannot be deleted while it holds the studio's files;
    // a lock file could be, and a second server would then lock a new one. O_CLOEXEC: a child
    // process (none today) must not inherit, and so extend, the lock.
    fd_ = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
        throw OutputError("data folder '" + data_dir.string() + "': cannot open it (" + std::strerror(errno) + ")");
    }
    const fs::path holder_file = data_dir / "studio.lock";
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        const std::string holder = read_holder(holder_file);
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
    const int holder_fd = ::open(holder_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (holder_fd >= 0) {
        const std::string pid = std::to_string(::getpid()) + "\n";
        [[maybe_unused]] const ssize_t written = ::write(holder_fd, pid.data(), pid.size());
        ::close(holder_fd);
    }
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) {
        ::close(fd_); // releases the lock
    }
}

} // namespace impasto::studio
