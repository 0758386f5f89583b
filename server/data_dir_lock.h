#pragma once
// One server per data folder. Two servers on one folder would each think the other's running jobs
// were interrupted, re-queue them at start-up and run them twice. The first holds an exclusive
// flock on the folder for its lifetime (and writes its pid to <data>/studio.lock, for the
// message); the kernel drops the lock when the process ends, even by kill -9, so a crash never
// leaves the folder locked.
#include <filesystem>

namespace impasto::studio {

class DataDirLock {
  public:
    // Creates the folder when absent and takes the lock. Throws OutputError naming the folder
    // (and the holder's process id when it wrote one) when another process holds it.
    explicit DataDirLock(const std::filesystem::path& data_dir);
    ~DataDirLock();
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

  private:
    int fd_ = -1;
};

} // namespace impasto::studio
