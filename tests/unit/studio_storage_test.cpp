// What the studio keeps on disk: result files and their recovery, the data-folder lock, upload
// records, quotas, deletion and the retention policy; and JSON read back from storage.
#include "server/data_dir_lock.h"
#include "server/job_view.h"
#include "server/ranking.h"
#include "server/result_files.h"
#include "server/sqlite_job_queue.h"
#include "server/storage_keeper.h"
#include "server/studio_error.h"
#include "testutil.h"
#include "unit/io_image_fixtures.h"

#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <unistd.h>

namespace impasto::studio {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string png_of(int width, int height) {
    const std::vector<std::uint8_t> bytes = encode_png(testing::gradient_image(width, height));
    return {bytes.begin(), bytes.end()};
}

// Noise does not compress: about width * height * 3 bytes.
std::string noise_png_of(int width, int height, unsigned seed) {
    Image image = testing::gradient_image(width, height);
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(0.0F, 1.0F);
    for (float& value : image.rgb) {
        value = uniform(generator);
    }
    const std::vector<std::uint8_t> bytes = encode_png(image);
    return {bytes.begin(), bytes.end()};
}

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::binary) << text;
}

std::string deep_array(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

void age(const fs::path& file, int days) {
    fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::hours(24 * days));
}

TEST(StudioResultFiles, ACompleteResultIsRecognisedAndADamagedOneIsNot) {
    testing::TempDir dir;
    const ResultFiles results(dir / "results");
    const json result{{"width", 24}, {"height", 16}, {"seconds", 1.5}};
    const std::int64_t bytes =
        results.write("j_a", testing::gradient_image(24, 16), json{{"studio", {{"job", "j_a"}}}}, result);
    EXPECT_EQ(bytes, results.bytes("j_a"));
    EXPECT_GT(bytes, 0);
    ASSERT_TRUE(results.complete_result("j_a"));
    EXPECT_EQ(*results.complete_result("j_a"), result);

    // The sidecar belongs to another job.
    fs::copy_file(results.sidecar("j_a"), results.sidecar("j_b"));
    fs::copy_file(results.image("j_a"), results.image("j_b"));
    EXPECT_FALSE(results.complete_result("j_b"));
    // The image is cut short, or says another size than the sidecar.
    results.write("j_c", testing::gradient_image(24, 16), json{{"studio", {{"job", "j_c"}}}}, result);
    const std::string png = read_all(results.image("j_c"));
    write_all(results.image("j_c"), png.substr(0, png.size() / 2));
    EXPECT_FALSE(results.complete_result("j_c"));
    results.write("j_d", testing::gradient_image(20, 16), json{{"studio", {{"job", "j_d"}}}}, result);
    EXPECT_FALSE(results.complete_result("j_d"));
    // A whole, valid image of the right size, but not the one the sidecar was written for.
    results.write("j_e", testing::gradient_image(24, 16), json{{"studio", {{"job", "j_e"}}}}, result);
    Image other = testing::gradient_image(24, 16);
    other.rgb[0] = 1.0F - other.rgb[0];
    save_image(other, results.image("j_e"));
    EXPECT_FALSE(results.complete_result("j_e"));
    // No sidecar, or one nested past the limit (it is not followed).
    fs::remove(results.sidecar("j_d"));
    EXPECT_FALSE(results.complete_result("j_d"));
    write_all(results.sidecar("j_d"), R"({"studio":{"job":"j_d","x":)" + deep_array(100000) + "}}");
    EXPECT_FALSE(results.complete_result("j_d"));

    EXPECT_EQ(results.remove("j_a"), bytes);
    EXPECT_FALSE(fs::exists(results.image("j_a")));
    EXPECT_EQ(results.remove("j_a"), 0);
}

TEST(StudioDataDirLock, ASecondHolderIsRefusedUntilTheFirstLetsGo) {
    testing::TempDir dir;
    const fs::path data = dir / "data";
    {
        const DataDirLock first(data);
        const std::string message = testing::error_of([&] { const DataDirLock second(data); });
        EXPECT_NE(message.find(data.string()), std::string::npos) << message;
        EXPECT_NE(message.find("in use"), std::string::npos) << message;
        EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
    }
    EXPECT_NO_THROW(DataDirLock{data});
}

// A library, a queue and a keeper over one data folder, as the server has them.
class StudioStorage : public ::testing::Test {
  protected:
    void open(std::int64_t max_stored_bytes = 1LL << 30, std::int64_t max_uploads = 100, int keep_days = 0,
              std::int64_t keep_bytes = 0) {
        keeper_.reset();
        images_.reset();
        queue_.reset();
        options_.data_dir = dir_.path() / "data";
        fs::create_directories(options_.data_dir);
        options_.max_stored_bytes = max_stored_bytes;
        options_.max_uploads = max_uploads;
        options_.keep_days = keep_days;
        options_.keep_bytes = keep_bytes;
        queue_ = std::make_unique<SqliteJobQueue>(options_.data_dir / "studio.sqlite3");
        images_ = std::make_unique<ImageLibrary>(
            ImageLibraryOptions{options_.data_dir / "uploads", "", 32LL << 20, 40'000'000});
        keeper_ = std::make_unique<StorageKeeper>(options_, *queue_, *images_);
    }
    std::string upload(int width, int height) {
        return images_->add_upload("photo.png", png_of(width, height), keeper_.get()).id;
    }
    // A finished job with a result on disk.
    std::string finished_job(const std::string& id, const std::string& content) {
        JobRecord record;
        record.id = id;
        record.request_json = R"({"method":"fast","content":")" + content + R"(","styles":[]})";
        record.content_id = content;
        record.settings_key = "s";
        queue_->submit(record);
        queue_->claim();
        keeper_->write_result(id, testing::gradient_image(40, 30), json{{"studio", {{"job", id}}}},
                              json{{"width", 40}, {"height", 30}});
        queue_->finish(id, "{}");
        return id;
    }

    testing::TempDir dir_;
    StudioOptions options_;
    std::unique_ptr<SqliteJobQueue> queue_;
    std::unique_ptr<ImageLibrary> images_;
    std::unique_ptr<StorageKeeper> keeper_;
};

int status_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const StudioError& e) {
        return e.status();
    }
    return 0;
}

TEST_F(StudioStorage, UploadsAreAdmittedAgainstTheByteQuotaAndTheCount) {
    open(1 << 20, 3);
    const std::int64_t empty = keeper_->used_bytes();
    const std::string first = upload(300, 200);
    EXPECT_GT(keeper_->used_bytes(), empty);
    EXPECT_EQ(keeper_->upload_count(), 1);
    upload(301, 200);
    upload(302, 200);
    EXPECT_EQ(status_of([&] { upload(303, 200); }), 507) << "a fourth upload, over --max-uploads 3";
    EXPECT_EQ(upload(300, 200), first) << "the same bytes again are not a new upload";
    EXPECT_EQ(keeper_->upload_count(), 3);
    EXPECT_EQ(keeper_->delete_upload(first).outcome, DeleteOutcome::Deleted);
    EXPECT_EQ(keeper_->upload_count(), 2);
    upload(303, 200);

    // The bytes: a 1 MiB quota takes no large upload, and no job once it is reached.
    open(1 << 20, 100);
    EXPECT_EQ(status_of([&] { images_->add_upload("big.png", noise_png_of(700, 600, 1), keeper_.get()); }), 507);
    EXPECT_EQ(status_of([&] { keeper_->admit_job(); }), 0);
    finished_job("j_big", "u_x");
    write_all(keeper_->results().sidecar("j_big"), std::string(1 << 20, ' '));
    open(1 << 20, 100); // counted again from the disk
    EXPECT_GT(keeper_->used_bytes(), 1 << 20);
    EXPECT_EQ(status_of([&] { keeper_->admit_job(); }), 507);
}

TEST_F(StudioStorage, DeletionRefusesWhatAnUnfinishedJobNeeds) {
    open();
    const std::string used = upload(40, 30);
    const std::string free = upload(41, 30);
    JobRecord record;
    record.id = "j_waiting";
    record.request_json = R"({"method":"optimisation","content":"u_other","styles":[")" + used + R"("]})";
    record.content_id = "u_other";
    record.settings_key = "s";
    queue_->submit(record);
    const DeleteResult refused = keeper_->delete_upload(used);
    EXPECT_EQ(refused.outcome, DeleteOutcome::InUse);
    EXPECT_EQ(refused.blocking_job, "j_waiting");
    EXPECT_EQ(keeper_->delete_upload(free).outcome, DeleteOutcome::Deleted);
    EXPECT_EQ(keeper_->delete_upload(free).outcome, DeleteOutcome::NotFound);
    EXPECT_FALSE(images_->find(free));

    queue_->claim();
    EXPECT_EQ(keeper_->delete_job("j_waiting").outcome, DeleteOutcome::InUse);
    queue_->mark_cancelled("j_waiting");
    EXPECT_EQ(keeper_->delete_job("j_waiting").outcome, DeleteOutcome::Deleted);
    EXPECT_EQ(keeper_->delete_upload(used).outcome, DeleteOutcome::Deleted);

    const std::string id = finished_job("j_done", "u_x");
    const std::int64_t before = keeper_->used_bytes();
    EXPECT_EQ(keeper_->delete_job(id).outcome, DeleteOutcome::Deleted);
    EXPECT_LT(keeper_->used_bytes(), before);
    EXPECT_FALSE(fs::exists(keeper_->results().image(id)));
    EXPECT_EQ(keeper_->delete_job(id).outcome, DeleteOutcome::NotFound);
}

TEST_F(StudioStorage, RetentionRemovesWhatWasNotUsedForDays) {
    open();
    const std::string old_upload = upload(40, 30);
    const std::string fresh_upload = upload(41, 30);
    const std::string needed_upload = upload(42, 30);
    const std::string old_job = finished_job("j_old", old_upload);
    const std::string fresh_job = finished_job("j_fresh", fresh_upload);
    JobRecord waiting;
    waiting.id = "j_waiting";
    waiting.request_json = R"({"content":")" + needed_upload + R"("})";
    waiting.content_id = needed_upload;
    waiting.settings_key = "s";
    queue_->submit(waiting);
    for (const auto& item : fs::directory_iterator(options_.data_dir / "uploads")) {
        if (item.path().stem() == old_upload || item.path().stem() == needed_upload) {
            age(item.path(), 10);
        }
    }
    age(keeper_->results().image(old_job), 10);

    open(1LL << 30, 100, 7);
    const RetentionReport report = keeper_->apply_retention();
    EXPECT_EQ(report.jobs_removed, 1);
    EXPECT_EQ(report.uploads_removed, 1);
    EXPECT_GT(report.bytes_freed, 0);
    EXPECT_FALSE(queue_->get(old_job));
    EXPECT_FALSE(images_->find(old_upload));
    EXPECT_TRUE(images_->find(needed_upload)) << "a queued job needs it";
    EXPECT_TRUE(queue_->get(fresh_job));
    EXPECT_TRUE(images_->find(fresh_upload));
}

TEST_F(StudioStorage, ABudgetEvictsTheLeastRecentlyUsedFirst) {
    open(1LL << 30, 100, 0, 1 << 20);
    std::vector<std::string> ids;
    ids.reserve(5);
    for (int i = 0; i < 5; ++i) {
        ids.push_back(images_->add_upload("noise.png", noise_png_of(300, 300, 10 + i), keeper_.get()).id);
    }
    // Oldest first by last use: 0, 1, 2, 3, 4; then using 0 makes 1 the least recently used.
    for (std::size_t i = 0; i < ids.size(); ++i) {
        for (const auto& item : fs::directory_iterator(options_.data_dir / "uploads")) {
            if (item.path().stem() == ids[i] && item.path().extension() != ".json") {
                age(item.path(), 10 - static_cast<int>(i));
            }
        }
    }
    images_->touch(ids[0]);
    const std::int64_t before = keeper_->used_bytes();
    ASSERT_GT(before, 1 << 20) << "the test needs more than the budget stored";
    keeper_->apply_retention();
    EXPECT_LE(keeper_->used_bytes(), 1 << 20);
    EXPECT_FALSE(images_->find(ids[1]));
    EXPECT_TRUE(images_->find(ids[0])) << "just used";
    EXPECT_TRUE(images_->find(ids[4])) << "the most recent";
}

TEST_F(StudioStorage, UploadRecordsAreCheckedAndOrphansRemovedAtStart) {
    open();
    const std::string kept = upload(40, 30);
    const fs::path uploads = options_.data_dir / "uploads";
    write_all(uploads / "u_000000000000000000000001.png", png_of(20, 20)); // no record: left by a crash
    write_all(uploads / "u_000000000000000000000002.json",
              R"({"id":"u_000000000000000000000002","name":)" + deep_array(100000) + "}");
    write_all(uploads / "u_000000000000000000000003.json", std::string(200000, ' ') + "{}");
    open();
    EXPECT_TRUE(images_->find(kept));
    EXPECT_EQ(images_->uploads().size(), 1U);
    EXPECT_FALSE(fs::exists(uploads / "u_000000000000000000000001.png"));
    EXPECT_EQ(keeper_->upload_count(), 1);
}

// Stored JSON is parsed only within limits: a row edited to nest 100,000 levels shows as null
// instead of overflowing the stack when the reply is built.
TEST(StudioStoredJson, DeepRowsAreShownAsNullNotFollowed) {
    JobRecord job;
    job.id = "j_deep";
    job.state = JobState::Done;
    job.request_json = R"({"method":"fast","params":)" + deep_array(100000) + "}";
    job.progress_json = deep_array(100000);
    job.result_json = deep_array(100000);
    const json shown = job_json(job);
    EXPECT_TRUE(shown["progress"].is_null());
    EXPECT_EQ(shown["params"], json::object());
    EXPECT_EQ(shown["result"].value("image_url", ""), "/api/jobs/j_deep/image");

    job.settings_key = "s";
    Vote vote;
    vote.job_a = "j_deep";
    vote.job_b = "j_gone";
    vote.winner = "a";
    vote.settings_a = "s";
    vote.settings_b = "t";
    vote.label_b = "fast model · size 32";
    const std::vector<RankedSettings> ranked = rank_settings({job}, {vote});
    ASSERT_EQ(ranked.size(), 2U);
    EXPECT_EQ(ranked[1].label, "fast model · size 32") << "a deleted job's settings keep their name";
}

} // namespace
} // namespace impasto::studio
