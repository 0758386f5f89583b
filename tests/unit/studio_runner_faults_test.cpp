// A worker whose database fails under it: a full disk or a lock held too long. Before, the job's
// failure was recorded from inside a catch handler and the state published outside any try, so
// the first database error ended the process (std::terminate). Now the job fails, the outcome is
// recorded once the database answers again, and the process stays up.
#include "server/job_runner.h"
#include "server/storage_error.h"
#include "testutil.h"

#include <atomic>
#include <gtest/gtest.h>
#include <thread>

namespace impasto::studio {
namespace {

// A queue whose writes and reads fail until it is told to recover; it hands out one job whose
// stored request is damaged, so running it fails at once.
class FailingQueue final : public JobQueue {
  public:
    std::atomic<bool> healthy{false};
    std::atomic<int> refused_writes{0};
    std::atomic<int> refused_reads{0};

    std::string recorded_code() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return recorded_code_;
    }

    SubmitResult submit(const JobRecord& /*record*/, const SubmitLimits& /*limits*/) override { refuse_write(); }
    std::optional<JobRecord> find_by_key(const std::string& /*key*/) const override { return std::nullopt; }
    std::optional<JobRecord> claim() override {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (handed_out_) {
            return std::nullopt;
        }
        handed_out_ = true;
        return job_;
    }
    std::optional<JobRecord> get(const std::string& /*id*/) const override {
        if (!healthy) {
            ++const_cast<FailingQueue*>(this)->refused_reads;
            throw StorageError(StorageError::Kind::Busy, "database is locked");
        }
        const std::lock_guard<std::mutex> lock(mutex_);
        return job_;
    }
    std::vector<JobRecord> list(const JobFilter& /*filter*/) const override { return {}; }
    QueueCounts counts() const override { return {}; }
    void set_progress(const std::string& /*id*/, const std::string& /*progress*/) override { refuse_write(); }
    bool finish(const std::string& /*id*/, const std::string& /*result*/) override { return record("done"); }
    bool fail(const std::string& /*id*/, const std::string& code, const std::string& /*message*/) override {
        return record(code);
    }
    bool mark_cancelled(const std::string& /*id*/) override { return record("cancelled"); }
    std::optional<JobRecord> request_cancel(const std::string& /*id*/) override { return std::nullopt; }
    bool release(const std::string& /*id*/) override { return record("released"); }
    RemoveOutcome remove(const std::string& /*id*/) override { return RemoveOutcome::NotFound; }
    std::optional<std::string> job_using_image(const std::string& /*image_id*/) const override { return std::nullopt; }
    int recover_interrupted(int /*max_attempts*/) override { return 0; }

  private:
    [[noreturn]] void refuse_write() {
        ++refused_writes;
        throw StorageError(StorageError::Kind::Full, "database or disk is full");
    }
    bool record(const std::string& code) {
        if (!healthy) {
            refuse_write();
        }
        const std::lock_guard<std::mutex> lock(mutex_);
        recorded_code_ = code;
        job_.state = code == "done" ? JobState::Done : JobState::Failed;
        return true;
    }

    mutable std::mutex mutex_;
    bool handed_out_ = false;
    std::string recorded_code_;
    JobRecord job_{"j_broken", JobState::Running, "{not json", "u_a", "s", "", "", "", "", 1, 1, 0, 1, false, "", ""};
};

template <class Condition> bool eventually(Condition condition, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition();
}

TEST(StudioRunnerFaults, ADatabaseErrorFailsTheJobLaterInsteadOfEndingTheProcess) {
    testing::TempDir dir;
    StudioOptions options;
    options.data_dir = dir / "data";
    options.workers = 1;
    std::filesystem::create_directories(options.data_dir);
    FailingQueue queue;
    EventHub hub;
    ImageLibrary images(ImageLibraryOptions{options.data_dir / "uploads", "", 1 << 20, 1'000'000});
    const StudioCatalog catalog;
    ModelCache models(options, catalog);
    StorageKeeper storage(options, queue, images);
    JobRunner runner(queue, hub, images, models, options, storage);
    runner.start();

    // The job fails (its request is damaged); recording that fails too, and is tried again.
    EXPECT_TRUE(eventually([&] { return queue.refused_writes >= 2; }, std::chrono::seconds(20)))
        << "the worker did not try again to record the outcome";
    EXPECT_GE(queue.refused_reads.load(), 1) << "publishing the state read the failing database";
    EXPECT_EQ(queue.recorded_code(), "");

    queue.healthy = true;
    EXPECT_TRUE(eventually([&] { return !queue.recorded_code().empty(); }, std::chrono::seconds(20)));
    EXPECT_EQ(queue.recorded_code(), "input") << "the damaged request fails the job as bad input";
    runner.stop();
}

} // namespace
} // namespace impasto::studio
