// The SQLite job queue: transitions, order, concurrency, persistence and recovery.
#include "server/sqlite_db.h"
#include "server/sqlite_job_queue.h"
#include "testutil.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <set>
#include <thread>

namespace impasto::studio {
namespace {

JobRecord make_job(const std::string& id, const std::string& content = "u_content",
                   const std::string& settings = "settings-1") {
    JobRecord job;
    job.id = id;
    job.request_json = R"({"method":"fast","content":")" + content + R"("})";
    job.content_id = content;
    job.settings_key = settings;
    return job;
}

void expect_same(const JobRecord& expected, const JobRecord& actual) {
    EXPECT_EQ(expected.id, actual.id);
    EXPECT_EQ(expected.state, actual.state) << expected.id;
    EXPECT_EQ(expected.request_json, actual.request_json);
    EXPECT_EQ(expected.content_id, actual.content_id);
    EXPECT_EQ(expected.settings_key, actual.settings_key);
    EXPECT_EQ(expected.progress_json, actual.progress_json);
    EXPECT_EQ(expected.result_json, actual.result_json);
    EXPECT_EQ(expected.error_code, actual.error_code);
    EXPECT_EQ(expected.error_message, actual.error_message);
    EXPECT_EQ(expected.created_ms, actual.created_ms);
    EXPECT_EQ(expected.started_ms, actual.started_ms);
    EXPECT_EQ(expected.finished_ms, actual.finished_ms);
    EXPECT_EQ(expected.attempts, actual.attempts);
    EXPECT_EQ(expected.cancel_requested, actual.cancel_requested);
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class StudioQueue : public ::testing::Test {
  protected:
    testing::TempDir dir_;
    std::filesystem::path path_ = dir_ / "studio.db";
};

TEST(StudioJobState, NamesRoundTrip) {
    for (const JobState state :
         {JobState::Queued, JobState::Running, JobState::Done, JobState::Failed, JobState::Cancelled}) {
        EXPECT_EQ(parse_job_state(to_string(state)), state);
    }
    EXPECT_EQ(std::string(to_string(JobState::Cancelled)), "cancelled");
    EXPECT_FALSE(parse_job_state("Queued"));
    EXPECT_FALSE(parse_job_state(""));
    EXPECT_FALSE(is_terminal(JobState::Queued));
    EXPECT_FALSE(is_terminal(JobState::Running));
    EXPECT_TRUE(is_terminal(JobState::Done));
    EXPECT_TRUE(is_terminal(JobState::Failed));
    EXPECT_TRUE(is_terminal(JobState::Cancelled));
}

TEST_F(StudioQueue, SubmitStoresAQueuedJob) {
    SqliteJobQueue queue(path_);
    const std::int64_t before = now_ms();
    JobRecord submitted = make_job("j_1");
    submitted.state = JobState::Done; // the caller's state, times and attempts are ignored
    submitted.attempts = 7;
    submitted.started_ms = 5;
    const JobRecord stored = queue.submit(submitted);
    EXPECT_EQ(stored.state, JobState::Queued);
    EXPECT_EQ(stored.attempts, 0);
    EXPECT_EQ(stored.started_ms, 0);
    EXPECT_GE(stored.created_ms, before);
    EXPECT_LE(stored.created_ms, now_ms());
    EXPECT_EQ(stored.request_json, submitted.request_json);
    expect_same(stored, *queue.get("j_1"));
    EXPECT_FALSE(queue.get("j_missing"));
}

TEST_F(StudioQueue, SubmitRefusesEmptyAndDuplicateIds) {
    SqliteJobQueue queue(path_);
    queue.submit(make_job("j_1", "u_first"));
    EXPECT_THROW(queue.submit(make_job("j_1", "u_second")), ConfigError);
    EXPECT_THROW(queue.submit(make_job("")), ConfigError);
    EXPECT_EQ(queue.get("j_1")->content_id, "u_first");
    EXPECT_EQ(queue.counts().queued, 1);
}

TEST_F(StudioQueue, ClaimTakesTheOldestQueuedJob) {
    SqliteJobQueue queue(path_);
    for (int i = 0; i < 5; ++i) { // most share a millisecond: the order must not rest on the clock
        queue.submit(make_job("j_" + std::to_string(i)));
    }
    for (int i = 0; i < 5; ++i) {
        const auto claimed = queue.claim();
        ASSERT_TRUE(claimed);
        EXPECT_EQ(claimed->id, "j_" + std::to_string(i));
        EXPECT_EQ(claimed->state, JobState::Running);
        EXPECT_EQ(claimed->attempts, 1);
        EXPECT_GE(claimed->started_ms, claimed->created_ms);
    }
    EXPECT_FALSE(queue.claim());
}

TEST_F(StudioQueue, EndingTransitionsOnlyFromRunning) {
    SqliteJobQueue queue(path_);
    for (const char* id : {"j_done", "j_failed", "j_cancelled"}) {
        queue.submit(make_job(id));
    }
    EXPECT_FALSE(queue.finish("j_done", "{}"));
    EXPECT_FALSE(queue.fail("j_done", "input", "nope"));
    EXPECT_FALSE(queue.mark_cancelled("j_done"));
    EXPECT_FALSE(queue.finish("j_unknown", "{}"));
    EXPECT_EQ(queue.get("j_done")->state, JobState::Queued);

    queue.claim();
    queue.claim();
    queue.claim();
    EXPECT_TRUE(queue.finish("j_done", R"({"width":4})"));
    EXPECT_TRUE(queue.fail("j_failed", "input", "not an image"));
    EXPECT_TRUE(queue.mark_cancelled("j_cancelled"));

    const auto done = *queue.get("j_done");
    EXPECT_EQ(done.state, JobState::Done);
    EXPECT_EQ(done.result_json, R"({"width":4})");
    EXPECT_GE(done.finished_ms, done.started_ms);
    const auto failed = *queue.get("j_failed");
    EXPECT_EQ(failed.state, JobState::Failed);
    EXPECT_EQ(failed.error_code, "input");
    EXPECT_EQ(failed.error_message, "not an image");
    EXPECT_EQ(queue.get("j_cancelled")->state, JobState::Cancelled);

    // An ended job never changes again.
    for (const char* id : {"j_done", "j_failed", "j_cancelled"}) {
        const auto before = *queue.get(id);
        EXPECT_FALSE(queue.finish(id, "{}"));
        EXPECT_FALSE(queue.fail(id, "output", "late"));
        EXPECT_FALSE(queue.mark_cancelled(id));
        queue.set_progress(id, R"({"stage":"late"})");
        expect_same(before, *queue.get(id));
    }
}

TEST_F(StudioQueue, ProgressIsStoredOnlyWhileRunning) {
    SqliteJobQueue queue(path_);
    queue.submit(make_job("j_1"));
    queue.set_progress("j_1", R"({"iteration":1})");
    EXPECT_EQ(queue.get("j_1")->progress_json, "");
    queue.claim();
    queue.set_progress("j_1", R"({"iteration":2})");
    EXPECT_EQ(queue.get("j_1")->progress_json, R"({"iteration":2})");
    queue.set_progress("j_unknown", "{}"); // no error, no row
    EXPECT_FALSE(queue.get("j_unknown"));
}

TEST_F(StudioQueue, RequestCancelInEachState) {
    SqliteJobQueue queue(path_);
    EXPECT_FALSE(queue.request_cancel("j_unknown"));

    queue.submit(make_job("j_running"));
    queue.submit(make_job("j_done"));
    queue.submit(make_job("j_queued"));
    queue.claim();
    queue.claim();
    queue.finish("j_done", "{}");

    const auto queued = queue.request_cancel("j_queued");
    ASSERT_TRUE(queued);
    EXPECT_EQ(queued->state, JobState::Cancelled);
    EXPECT_GT(queued->finished_ms, 0);
    EXPECT_FALSE(queue.claim()); // the cancelled job is not handed out

    const auto running = queue.request_cancel("j_running");
    ASSERT_TRUE(running);
    EXPECT_EQ(running->state, JobState::Running);
    EXPECT_TRUE(running->cancel_requested);
    EXPECT_TRUE(queue.mark_cancelled("j_running")); // the worker notices and stops
    EXPECT_EQ(queue.get("j_running")->state, JobState::Cancelled);

    const auto done_before = *queue.get("j_done");
    const auto done = queue.request_cancel("j_done");
    ASSERT_TRUE(done);
    expect_same(done_before, *done);
    EXPECT_FALSE(queue.get("j_done")->cancel_requested);
}

TEST_F(StudioQueue, ListFiltersNewestFirst) {
    SqliteJobQueue queue(path_);
    queue.submit(make_job("j_0", "u_a"));
    queue.submit(make_job("j_1", "u_b"));
    queue.submit(make_job("j_2", "u_a"));
    queue.submit(make_job("j_3", "u_a"));
    queue.claim();
    queue.finish("j_0", "{}");
    queue.claim();
    queue.finish("j_1", "{}");

    auto ids = [](const std::vector<JobRecord>& jobs) {
        std::vector<std::string> result;
        result.reserve(jobs.size());
        for (const auto& job : jobs) {
            result.push_back(job.id);
        }
        return result;
    };
    using Ids = std::vector<std::string>;
    EXPECT_EQ(ids(queue.list({})), (Ids{"j_3", "j_2", "j_1", "j_0"}));
    EXPECT_EQ(ids(queue.list({JobState::Done, "", 100})), (Ids{"j_1", "j_0"}));
    EXPECT_EQ(ids(queue.list({std::nullopt, "u_a", 100})), (Ids{"j_3", "j_2", "j_0"}));
    EXPECT_EQ(ids(queue.list({JobState::Done, "u_a", 100})), (Ids{"j_0"}));
    EXPECT_EQ(ids(queue.list({JobState::Failed, "", 100})), Ids{});
    EXPECT_EQ(ids(queue.list({std::nullopt, "", 2})), (Ids{"j_3", "j_2"}));
    EXPECT_THROW(queue.list({std::nullopt, "", 0}), ConfigError);
}

TEST_F(StudioQueue, CountsByState) {
    SqliteJobQueue queue(path_);
    for (int i = 0; i < 7; ++i) {
        queue.submit(make_job("j_" + std::to_string(i)));
    }
    for (int i = 0; i < 5; ++i) {
        queue.claim();
    }
    queue.finish("j_0", "{}");
    queue.finish("j_1", "{}");
    queue.fail("j_2", "input", "x");
    queue.request_cancel("j_5");
    const QueueCounts counts = queue.counts();
    EXPECT_EQ(counts.queued, 1);
    EXPECT_EQ(counts.running, 2);
    EXPECT_EQ(counts.done, 2);
    EXPECT_EQ(counts.failed, 1);
    EXPECT_EQ(counts.cancelled, 1);
}

TEST_F(StudioQueue, EverythingSurvivesReopening) {
    std::vector<JobRecord> before;
    {
        SqliteJobQueue queue(path_);
        for (int i = 0; i < 4; ++i) {
            queue.submit(make_job("j_" + std::to_string(i), "u_" + std::to_string(i % 2)));
        }
        queue.claim();
        queue.claim();
        queue.finish("j_0", R"({"seconds":1.5})");
        queue.set_progress("j_1", R"({"iteration":3})");
        queue.request_cancel("j_1");
        before = queue.list({});
    }
    SqliteJobQueue reopened(path_);
    const auto after = reopened.list({});
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
        expect_same(before[i], after[i]);
    }
    EXPECT_EQ(reopened.claim()->id, "j_2"); // the queue order survives too
}

TEST_F(StudioQueue, RecoverRequeuesInterruptedJobs) {
    SqliteJobQueue queue(path_);
    for (const char* id : {"j_interrupted", "j_cancel_asked", "j_done", "j_waiting"}) {
        queue.submit(make_job(id));
    }
    queue.claim();
    queue.claim();
    queue.claim();
    queue.finish("j_done", "{}");
    queue.set_progress("j_interrupted", R"({"iteration":9})");
    queue.request_cancel("j_cancel_asked");

    EXPECT_EQ(queue.recover_interrupted(), 1);
    const auto interrupted = *queue.get("j_interrupted");
    EXPECT_EQ(interrupted.state, JobState::Queued);
    EXPECT_EQ(interrupted.progress_json, "");
    EXPECT_EQ(interrupted.started_ms, 0);
    EXPECT_EQ(interrupted.attempts, 1);
    const auto cancelled = *queue.get("j_cancel_asked");
    EXPECT_EQ(cancelled.state, JobState::Cancelled);
    EXPECT_GT(cancelled.finished_ms, 0);
    EXPECT_EQ(queue.get("j_done")->state, JobState::Done);
    EXPECT_EQ(queue.recover_interrupted(), 0);

    // The interrupted job keeps its place ahead of later ones, and counts its second attempt.
    const auto again = queue.claim();
    EXPECT_EQ(again->id, "j_interrupted");
    EXPECT_EQ(again->attempts, 2);
    EXPECT_EQ(queue.claim()->id, "j_waiting");
}

// Each worker thread with its own queue object (own connection) or all sharing one.
void expect_each_job_claimed_once(const std::filesystem::path& path, bool connection_per_thread) {
    constexpr int job_count = 200;
    constexpr int thread_count = 4;
    SqliteJobQueue shared(path);
    for (int i = 0; i < job_count; ++i) {
        shared.submit(make_job("j_" + std::to_string(i)));
    }
    std::vector<std::vector<std::string>> claimed(thread_count);
    std::vector<std::thread> workers;
    workers.reserve(thread_count);
    for (int t = 0; t < thread_count; ++t) {
        workers.emplace_back([&, t] {
            std::unique_ptr<SqliteJobQueue> own;
            if (connection_per_thread) {
                own = std::make_unique<SqliteJobQueue>(path);
            }
            JobQueue& queue = connection_per_thread ? *own : shared;
            while (const auto job = queue.claim()) {
                claimed[static_cast<std::size_t>(t)].push_back(job->id);
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    std::multiset<std::string> all;
    for (const auto& ids : claimed) {
        all.insert(ids.begin(), ids.end());
        // Each thread sees the jobs in queue order.
        EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
            return std::stoi(a.substr(2)) < std::stoi(b.substr(2));
        }));
    }
    EXPECT_EQ(all.size(), static_cast<std::size_t>(job_count));
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<std::size_t>(job_count));
    EXPECT_EQ(shared.counts().running, job_count);
    for (const auto& job : shared.list({std::nullopt, "", job_count})) {
        EXPECT_EQ(job.attempts, 1) << job.id;
    }
}

TEST_F(StudioQueue, ConcurrentClaimsOnOneConnectionTakeEachJobOnce) {
    expect_each_job_claimed_once(path_, false);
}

TEST_F(StudioQueue, ConcurrentClaimsOnSeveralConnectionsTakeEachJobOnce) {
    expect_each_job_claimed_once(path_, true);
}

TEST_F(StudioQueue, RefusesAFileFromANewerVersionAndANonDatabase) {
    {
        sqlite::Database database(path_);
        database.exec("PRAGMA user_version=99");
    }
    const std::string message = testing::error_of([&] { SqliteJobQueue queue(path_); });
    EXPECT_NE(message.find("schema version 99"), std::string::npos) << message;

    const auto garbage = dir_ / "garbage.db";
    std::ofstream(garbage) << std::string(4096, 'x');
    EXPECT_THROW(SqliteJobQueue{garbage}, OutputError);
    EXPECT_THROW(SqliteJobQueue{dir_ / "no-such-folder" / "studio.db"}, OutputError);
}

} // namespace
} // namespace impasto::studio
