// The queue's limits and fault handling: unfinished jobs capped in all and per client, idempotency
// keys, jobs that keep crashing the worker, clean give-backs, deletion, and a full database.
#include "server/sqlite_db.h"
#include "server/sqlite_job_queue.h"
#include "server/storage_error.h"
#include "testutil.h"

#include <gtest/gtest.h>

namespace impasto::studio {
namespace {

JobRecord make_job(const std::string& id, const std::string& client = "127.0.0.1", const std::string& key = "",
                   const std::string& request = R"({"method":"fast","content":"u_a","styles":["u_style"]})") {
    JobRecord job;
    job.id = id;
    job.request_json = request;
    job.content_id = "u_a";
    job.settings_key = "settings";
    job.client = client;
    job.idempotency_key = key;
    return job;
}

class StudioQueueLimits : public ::testing::Test {
  protected:
    testing::TempDir dir_;
    std::filesystem::path path_ = dir_ / "studio.db";
};

TEST_F(StudioQueueLimits, UnfinishedJobsAreCappedInAllAndPerClient) {
    SqliteJobQueue queue(path_);
    const SubmitLimits limits{4, 2};
    EXPECT_EQ(queue.submit(make_job("j_a1", "a"), limits).outcome, SubmitOutcome::Created);
    EXPECT_EQ(queue.submit(make_job("j_a2", "a"), limits).outcome, SubmitOutcome::Created);
    const SubmitResult third = queue.submit(make_job("j_a3", "a"), limits);
    EXPECT_EQ(third.outcome, SubmitOutcome::ClientQueueFull);
    EXPECT_EQ(third.unfinished, 2);
    EXPECT_FALSE(queue.get("j_a3")) << "a refused job is not stored";

    EXPECT_EQ(queue.submit(make_job("j_b1", "b"), limits).outcome, SubmitOutcome::Created);
    EXPECT_EQ(queue.submit(make_job("j_b2", "b"), limits).outcome, SubmitOutcome::Created);
    const SubmitResult full = queue.submit(make_job("j_c1", "c"), limits);
    EXPECT_EQ(full.outcome, SubmitOutcome::QueueFull);
    EXPECT_EQ(full.unfinished, 4);

    // A running job still counts; an ended one does not.
    const auto running = queue.claim();
    ASSERT_TRUE(running);
    EXPECT_EQ(queue.submit(make_job("j_c2", "c"), limits).outcome, SubmitOutcome::QueueFull);
    queue.finish(running->id, "{}");
    EXPECT_EQ(queue.submit(make_job("j_c3", "c"), limits).outcome, SubmitOutcome::Created);
    EXPECT_EQ(queue.get("j_c3")->client, "c");
}

TEST_F(StudioQueueLimits, AnIdempotencyKeyNamesOneJob) {
    {
        SqliteJobQueue queue(path_);
        const SubmitResult first = queue.submit(make_job("j_1", "a", "key-1"), SubmitLimits{});
        ASSERT_EQ(first.outcome, SubmitOutcome::Created);
        EXPECT_EQ(first.job.idempotency_key, "key-1");

        // The same request again, even from another address and with another fresh id: the first job.
        const SubmitResult again = queue.submit(make_job("j_2", "b", "key-1"), SubmitLimits{});
        EXPECT_EQ(again.outcome, SubmitOutcome::Replayed);
        EXPECT_EQ(again.job.id, "j_1");
        EXPECT_FALSE(queue.get("j_2"));

        const SubmitResult other =
            queue.submit(make_job("j_3", "a", "key-1", R"({"method":"fast","content":"u_b"})"), SubmitLimits{});
        EXPECT_EQ(other.outcome, SubmitOutcome::KeyConflict);
        EXPECT_EQ(other.job.id, "j_1");
        EXPECT_FALSE(queue.get("j_3"));
        const std::string message = testing::error_of(
            [&] { queue.submit(make_job("j_4", "a", "key-1", R"({"method":"fast","content":"u_c"})")); });
        EXPECT_NE(message.find("key-1"), std::string::npos) << message;

        // A replay is answered even when the queue is full now.
        const SubmitResult full = queue.submit(make_job("j_5", "a", "key-1"), SubmitLimits{1, 1});
        EXPECT_EQ(full.outcome, SubmitOutcome::Replayed);
        // Jobs without a key never collide.
        EXPECT_EQ(queue.submit(make_job("j_6"), SubmitLimits{}).outcome, SubmitOutcome::Created);
        EXPECT_EQ(queue.submit(make_job("j_7"), SubmitLimits{}).outcome, SubmitOutcome::Created);
    }
    SqliteJobQueue reopened(path_);
    ASSERT_TRUE(reopened.find_by_key("key-1"));
    EXPECT_EQ(reopened.find_by_key("key-1")->id, "j_1");
    EXPECT_FALSE(reopened.find_by_key("key-2"));
    EXPECT_FALSE(reopened.find_by_key(""));
}

TEST_F(StudioQueueLimits, AJobThatKeepsCrashingIsFailedAfterMaxAttempts) {
    SqliteJobQueue queue(path_);
    queue.submit(make_job("j_crash"));
    queue.submit(make_job("j_next"));
    for (int attempt = 1; attempt <= 3; ++attempt) {
        const auto claimed = queue.claim();
        ASSERT_TRUE(claimed);
        EXPECT_EQ(claimed->id, "j_crash") << "an interrupted job keeps its place";
        EXPECT_EQ(claimed->attempts, attempt);
        // The process dies here; the next start recovers.
        EXPECT_EQ(queue.recover_interrupted(3), attempt < 3 ? 1 : 0);
    }
    const auto failed = *queue.get("j_crash");
    EXPECT_EQ(failed.state, JobState::Failed);
    EXPECT_EQ(failed.error_code, "crashed");
    EXPECT_NE(failed.error_message.find("crashed the worker 3 times"), std::string::npos) << failed.error_message;
    EXPECT_GT(failed.finished_ms, 0);
    EXPECT_EQ(queue.claim()->id, "j_next");
    // Without a limit (0) a job is re-queued however often it ran.
    EXPECT_EQ(queue.recover_interrupted(0), 1);
    EXPECT_EQ(queue.get("j_next")->state, JobState::Queued);
}

TEST_F(StudioQueueLimits, ACleanStopGivesTheJobBackWithoutCountingTheAttempt) {
    SqliteJobQueue queue(path_);
    queue.submit(make_job("j_1"));
    queue.claim();
    queue.set_progress("j_1", R"({"iteration":3})");
    EXPECT_TRUE(queue.release("j_1"));
    const auto released = *queue.get("j_1");
    EXPECT_EQ(released.state, JobState::Queued);
    EXPECT_EQ(released.attempts, 0);
    EXPECT_EQ(released.progress_json, "");
    EXPECT_FALSE(queue.release("j_1")) << "only a running job can be given back";

    // A job whose cancel was asked for is not given back to run again.
    queue.claim();
    queue.request_cancel("j_1");
    EXPECT_FALSE(queue.release("j_1"));
    EXPECT_EQ(queue.get("j_1")->state, JobState::Running);
    EXPECT_TRUE(queue.mark_cancelled("j_1"));
}

TEST_F(StudioQueueLimits, RemoveDeletesAnyJobButARunningOne) {
    SqliteJobQueue queue(path_);
    queue.submit(make_job("j_done"));
    queue.submit(make_job("j_running"));
    queue.submit(make_job("j_queued", "a", "", R"({"method":"arbitrary","content":"u_c","styles":["u_style2"]})"));
    queue.claim();
    queue.finish("j_done", "{}");
    queue.claim();

    EXPECT_EQ(queue.remove("j_done"), RemoveOutcome::Removed);
    EXPECT_FALSE(queue.get("j_done"));
    EXPECT_EQ(queue.remove("j_done"), RemoveOutcome::NotFound);
    EXPECT_EQ(queue.remove("j_running"), RemoveOutcome::Running);
    EXPECT_TRUE(queue.get("j_running"));

    // Images named by unfinished jobs, as content or style; an id that only starts the same does not count.
    EXPECT_EQ(queue.job_using_image("u_style2").value_or(""), "j_queued");
    EXPECT_EQ(queue.job_using_image("u_style").value_or(""), "j_running");
    EXPECT_TRUE(queue.job_using_image("u_a"));
    EXPECT_FALSE(queue.job_using_image("u_styl"));
    EXPECT_EQ(queue.remove("j_queued"), RemoveOutcome::Removed);
    EXPECT_FALSE(queue.job_using_image("u_style2"));
}

TEST_F(StudioQueueLimits, EndedJobsAreListedByWhenTheyEnded) {
    SqliteJobQueue queue(path_);
    queue.submit(make_job("j_1"));
    queue.claim();
    queue.fail("j_1", "x", "y");
    const std::int64_t ended = queue.get("j_1")->finished_ms;
    JobFilter filter;
    filter.finished_before_ms = ended + 1;
    EXPECT_EQ(queue.list(filter).size(), 1U);
    filter.finished_before_ms = ended;
    EXPECT_TRUE(queue.list(filter).empty());
}

// SQLITE_FULL on a real code path: the database may not grow past its pages. The error is a
// StorageError (the server answers 507 and carries on), not a bare OutputError.
TEST_F(StudioQueueLimits, AFullDatabaseRaisesAStorageErrorAndStaysUsable) {
    sqlite::Database database(path_);
    sqlite::migrate_studio_database(database);
    SqliteJobQueue sized(std::move(database));
    sized.submit(make_job("j_before"));
    {
        sqlite::Database probe(path_);
        probe.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    // Not even the write-ahead log may grow the file: every page it holds is counted.
    sqlite::Database capped(path_);
    sqlite::Statement pages(capped, "PRAGMA page_count");
    pages.step();
    const std::int64_t count = pages.column_int64(0);
    capped.exec("PRAGMA max_page_count=" + std::to_string(count));
    SqliteJobQueue queue(std::move(capped));

    const std::string big(std::size_t{64} * 1024, 'x');
    bool full = false;
    for (int i = 0; i < 200 && !full; ++i) {
        try {
            queue.submit(make_job("j_" + std::to_string(i), "a", "", R"({"pad":")" + big + R"("})"));
        } catch (const StorageError& e) {
            full = true;
            EXPECT_EQ(e.kind(), StorageError::Kind::Full) << e.what();
            EXPECT_EQ(e.http_status(), 507);
        }
    }
    EXPECT_TRUE(full) << "the capped database never filled up";
    // Reads still work, and nothing half-written is visible.
    EXPECT_TRUE(queue.get("j_before"));
    EXPECT_EQ(static_cast<std::size_t>(queue.counts().queued), queue.list({std::nullopt, "", 1000}).size());
}

} // namespace
} // namespace impasto::studio
