// The job queue after its writer is killed mid-work: nothing acknowledged is lost, the file is
// sound, and interrupted jobs can be recovered.
#include "server/sqlite_db.h"
#include "server/sqlite_job_queue.h"
#include "testutil.h"

#include <algorithm>
#include <csignal>
#include <gtest/gtest.h>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace impasto::studio {
namespace {

constexpr int reports_before_kill = 60;

// The child's loop: submit, report the id once submit() has returned (it is committed), and
// claim and finish some jobs so that the kill can land in any kind of transaction.
[[noreturn]] void run_writer(const std::filesystem::path& path, int report_fd) {
    try {
        SqliteJobQueue queue(path);
        for (int i = 0; i < 100000; ++i) {
            JobRecord job;
            job.id = "j_" + std::to_string(i);
            job.request_json = "{}";
            job.content_id = "u_content";
            job.settings_key = "settings";
            queue.submit(job);
            const std::string line = job.id + "\n";
            if (write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
                _exit(3);
            }
            if (i % 2 == 0) {
                const auto claimed = queue.claim();
                if (claimed && i % 4 == 0) {
                    queue.finish(claimed->id, R"({"ok":true})");
                }
            }
        }
    } catch (...) {
        _exit(2);
    }
    _exit(0); // never return into the test runner in the child
}

// Kills the child however the test ends, so that a failed assertion leaves no writer behind.
class ChildGuard {
  public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    ~ChildGuard() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    // Kills it now; returns the wait status.
    int kill_and_wait() {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }

  private:
    pid_t pid_;
};

TEST(StudioQueueCrash, KilledWriterLosesNothingAcknowledged) {
    testing::TempDir dir;
    const auto path = dir / "studio.db";
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(pipe_fds[0]);
        run_writer(path, pipe_fds[1]);
    }
    close(pipe_fds[1]);
    ChildGuard child(pid);

    std::string reported;
    char buffer[4096];
    auto complete_lines = [&] { return std::count(reported.begin(), reported.end(), '\n'); };
    bool killed = false;
    int status = 0;
    while (true) {
        pollfd readable{pipe_fds[0], POLLIN, 0};
        ASSERT_GT(poll(&readable, 1, 20000), 0) << "the writer went quiet";
        const ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
        if (n <= 0) {
            break; // the child is gone and the pipe is drained
        }
        reported.append(buffer, static_cast<std::size_t>(n));
        if (!killed && complete_lines() >= reports_before_kill) {
            status = child.kill_and_wait();
            killed = true;
        }
    }
    close(pipe_fds[0]);
    ASSERT_TRUE(killed) << "the writer ended by itself";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    {
        sqlite::Database database(path);
        EXPECT_TRUE(database.integrity_ok());
    }
    SqliteJobQueue queue(path);
    std::istringstream lines(reported.substr(0, reported.rfind('\n') + 1));
    std::string id;
    int checked = 0;
    while (std::getline(lines, id)) {
        EXPECT_TRUE(queue.get(id)) << id << " was acknowledged but is missing";
        ++checked;
    }
    EXPECT_GE(checked, reports_before_kill);

    const QueueCounts before = queue.counts();
    EXPECT_GT(before.running, 0);
    EXPECT_EQ(queue.recover_interrupted(), before.running);
    const QueueCounts after = queue.counts();
    EXPECT_EQ(after.running, 0);
    EXPECT_EQ(after.queued, before.queued + before.running);
    EXPECT_EQ(after.done, before.done);
    EXPECT_TRUE(queue.claim());
}

} // namespace
} // namespace impasto::studio
