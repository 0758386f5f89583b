// Faults the studio must survive: a job that keeps killing the server, a second server on the same
// data folder, a retried POST, a crash between writing a result and recording it, a full disk, and
// hostile JSON in its own storage.
#include "studio_harness.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace impasto::e2e {
namespace {

json slow_optimisation(const std::string& content, const std::string& style) {
    return {{"method", "optimisation"},
            {"content", content},
            {"styles", {style}},
            {"params", {{"size", 64}, {"iterations", 5000}, {"schedule", ""}}}};
}

// Waits until the job runs attempt `attempt` and has made progress.
json wait_running(httplib::Client& http, const std::string& id, int attempt) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    json job;
    while (std::chrono::steady_clock::now() < deadline) {
        job = body_json(http.Get("/api/jobs/" + id));
        if (job.value("state", "") == "running" && job.value("attempts", 0) == attempt && job["progress"].is_object() &&
            job["progress"].value("iteration", 0) >= 1) {
            return job;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job " << id << " did not run attempt " << attempt << "; last: " << job.dump();
    return job;
}

// The crash is real: kill -9 while the job runs, three times. A fourth start fails the job instead
// of running it into the same crash again.
TEST(StudioFaults, AJobThatKeepsKillingTheServerIsFailedAfterThreeAttempts) {
    IMPASTO_REQUIRE_WEIGHTS();
    TempDir temp;
    StudioProcess server(temp.path() / "data");
    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    std::string content;
    std::string id;
    {
        auto first = server.client();
        content = upload_id(first, 48, 40);
        const std::string style = upload_id(first, 40, 40);
        id = submit(first, slow_optimisation(content, style)).value("id", "");
    }
    for (int attempt = 1; attempt <= 3; ++attempt) {
        if (attempt > 1) {
            ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
            EXPECT_NE(server.log_text().find("1 job(s) re-queued"), std::string::npos) << server.log_text();
        }
        auto running = server.client();
        wait_running(running, id, attempt);
        server.kill_now();
    }
    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    auto client = server.client();
    const json job = body_json(client.Get("/api/jobs/" + id));
    EXPECT_EQ(job.value("state", ""), "failed") << job.dump();
    EXPECT_EQ(job.value("attempts", 0), 3);
    EXPECT_NE(job["error"].value("message", "").find("crashed the worker 3 times"), std::string::npos) << job.dump();
    // The server goes on with other work.
    const std::string next =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}}).value("id", "");
    EXPECT_EQ(wait_for_job(client, next, {"done", "failed"}).value("state", ""), "done");
}

TEST(StudioFaults, ASecondServerOnTheSameDataFolderIsRefused) {
    IMPASTO_REQUIRE_WEIGHTS();
    TempDir temp;
    StudioProcess first(temp.path() / "data");
    ASSERT_NO_FATAL_FAILURE(first.start({"--workers", "1"}));
    auto client = first.client();
    const std::string content = upload_id(client, 48, 40);
    const std::string style = upload_id(client, 40, 40);
    const std::string id = submit(client, slow_optimisation(content, style)).value("id", "");
    wait_running(client, id, 1);

    const fs::path log = temp.path() / "second.log";
    const pid_t second = spawn_cli(
        {"serve", "--port", "0", "--data", (temp.path() / "data").string(), "--gallery", "none", "--threads", "1"},
        log);
    const int code = wait_for(second, std::chrono::seconds(60));
    const std::string text = read_text(log);
    EXPECT_NE(code, 0) << text;
    EXPECT_EQ(text.rfind("impasto: error: ", 0), 0U) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    EXPECT_NE(text.find((temp.path() / "data").string()), std::string::npos) << text;
    EXPECT_NE(text.find("in use"), std::string::npos) << text;

    // The first server's job was not taken from it: it still runs its first attempt.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const json job = body_json(client.Get("/api/jobs/" + id));
    EXPECT_EQ(job.value("state", ""), "running") << job.dump();
    EXPECT_EQ(job.value("attempts", 0), 1) << job.dump();

    // The lock goes with the process, even after kill -9.
    first.kill_now();
    ASSERT_NO_FATAL_FAILURE(first.start({"--workers", "1"}));
    EXPECT_EQ(first.stop(), 0);
}

httplib::Result post_with_key(httplib::Client& http, const json& body, const std::string& key) {
    return http.Post("/api/jobs", httplib::Headers{{"Idempotency-Key", key}}, body.dump(), "application/json");
}

TEST(StudioFaults, ARetriedPostWithAnIdempotencyKeyGivesTheSameJob) {
    TempDir temp;
    StudioProcess server(temp.path() / "data");
    ASSERT_NO_FATAL_FAILURE(server.start());
    auto client = server.client();
    const std::string content = upload_id(client, 48, 40);
    const json body{{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}};
    const std::string key = "4b9f0c1e-6a52-4d8e-9a57-0b4c1f9e2d11";

    const auto first = post_with_key(client, body, key);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 202) << first->body;
    const std::string id = body_json(first).value("id", "");
    const auto retried = post_with_key(client, body, key);
    ASSERT_TRUE(retried);
    EXPECT_EQ(retried->status, 200) << retried->body;
    EXPECT_EQ(body_json(retried).value("id", ""), id);

    // The same key with another body is a client error, not a second job.
    json other = body;
    other["params"]["size"] = 40;
    const auto conflict = post_with_key(client, other, key);
    ASSERT_TRUE(conflict);
    EXPECT_EQ(conflict->status, 409) << conflict->body;
    EXPECT_EQ(body_json(conflict)["error"].value("code", ""), "conflict");
    for (const std::string& bad : {std::string("has space"), std::string(300, 'k'), std::string("\x01")}) {
        const auto refused = post_with_key(client, body, bad);
        ASSERT_TRUE(refused);
        EXPECT_EQ(refused->status, 400) << refused->body;
    }
    EXPECT_EQ(wait_for_job(client, id, {"done", "failed"}).value("state", ""), "done");
    EXPECT_EQ(body_json(client.Get("/api/jobs")).at("jobs").size(), 1U);

    // Keys are stored with the job: a retry after a restart still finds it.
    EXPECT_EQ(server.stop(), 0);
    ASSERT_NO_FATAL_FAILURE(server.start());
    auto restarted = server.client();
    const auto after_restart = post_with_key(restarted, body, key);
    ASSERT_TRUE(after_restart);
    EXPECT_EQ(after_restart->status, 200) << after_restart->body;
    EXPECT_EQ(body_json(after_restart).value("id", ""), id);
    EXPECT_EQ(submit(restarted, body).value("state", ""), "queued") << "without a key every POST is a new job";
    EXPECT_EQ(body_json(restarted.Get("/api/jobs")).at("jobs").size(), 2U);
}

// A crash after the result files were written but before the queue recorded it: the row says
// running. A complete result finishes the job at the next start; a damaged one runs it again.
TEST(StudioFaults, AResultWrittenBeforeACrashFinishesTheJobInsteadOfRerunningIt) {
    TempDir temp;
    StudioProcess server(temp.path() / "data");
    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    auto client = server.client();
    const std::string content = upload_id(client, 48, 40);
    const std::string complete =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}}).value("id", "");
    const std::string damaged =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 40}}}}).value("id", "");
    const std::string foreign =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 48}}}}).value("id", "");
    for (const std::string& id : {complete, damaged, foreign}) {
        ASSERT_EQ(wait_for_job(client, id, {"done", "failed"}).value("state", ""), "done");
    }
    const std::string image = client.Get("/api/jobs/" + complete + "/image")->body;
    server.kill_now();

    const fs::path results = server.data_dir() / "results";
    const std::string png = read_text(results / (damaged + ".png"));
    write_text(results / (damaged + ".png"), png.substr(0, png.size() / 2));
    // A sidecar that belongs to another job does not count either.
    fs::copy_file(results / (complete + ".json"), results / (foreign + ".json"), fs::copy_options::overwrite_existing);
    sql(server.data_dir() / "studio.sqlite3",
        "UPDATE jobs SET state = 'running', finished_ms = 0, result_json = '' WHERE id IN ('" + complete + "', '" +
            damaged + "', '" + foreign + "')");

    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    EXPECT_NE(server.log_text().find("2 job(s) re-queued"), std::string::npos) << server.log_text();
    auto restarted = server.client();
    const json finished = body_json(restarted.Get("/api/jobs/" + complete));
    EXPECT_EQ(finished.value("state", ""), "done") << finished.dump();
    EXPECT_EQ(finished.value("attempts", 0), 1) << "the finished job ran again";
    EXPECT_EQ(finished.at("result").value("width", 0), 32) << finished.dump();
    EXPECT_EQ(restarted.Get("/api/jobs/" + complete + "/image")->body, image);
    for (const std::string& id : {damaged, foreign}) {
        const json rerun = wait_for_job(restarted, id, {"done", "failed"});
        EXPECT_EQ(rerun.value("state", ""), "done") << rerun.dump();
        EXPECT_EQ(rerun.value("attempts", 0), 2) << id;
        EXPECT_EQ(body_json(restarted.Get("/api/jobs/" + id + "/sidecar")).at("studio").value("job", ""), id);
    }
}

// A tmpfs of a few MB as the data folder, filled up while the server runs.
class SmallDisk {
  public:
    explicit SmallDisk(fs::path mount_point) : mount_point_(std::move(mount_point)) {
        fs::create_directories(mount_point_);
        mounted_ = ::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=6m") == 0;
    }
    ~SmallDisk() {
        if (mounted_) {
            ::umount2(mount_point_.c_str(), MNT_DETACH);
        }
    }
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    bool mounted() const { return mounted_; }

    // Writes filler until the disk refuses more, then gives back `leave` bytes.
    void fill(std::uintmax_t leave = 0) {
        const fs::path filler = mount_point_ / ("filler-" + std::to_string(fillers_++));
        std::FILE* file = std::fopen(filler.c_str(), "wb");
        ASSERT_NE(file, nullptr);
        const std::string block(4096, 'x');
        while (std::fwrite(block.data(), 1, block.size(), file) == block.size() && std::fflush(file) == 0) {
        }
        std::fclose(file);
        const std::uintmax_t size = fs::file_size(filler);
        fs::resize_file(filler, size > leave ? size - leave : 0);
    }
    void free() {
        for (int i = 0; i < fillers_; ++i) {
            fs::remove(mount_point_ / ("filler-" + std::to_string(i)));
        }
    }

  private:
    fs::path mount_point_;
    bool mounted_ = false;
    int fillers_ = 0;
};

TEST(StudioFaults, AFullDiskGivesJsonErrorsAndTheServerStaysUp) {
    TempDir temp;
    SmallDisk disk(temp.path() / "disk");
    if (!disk.mounted()) {
        GTEST_SKIP() << "cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN); the unit test "
                        "StudioRunnerFaults covers database errors without it";
    }
    StudioProcess server(temp.path() / "disk" / "data");
    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    auto client = server.client();
    const std::string content = upload_id(client, 64, 48);
    const json job{{"method", "fast"}, {"content", content}, {"params", {{"size", 48}}}};
    ASSERT_EQ(wait_for_job(client, submit(client, job).value("id", ""), {"done", "failed"}).value("state", ""), "done");

    // With 1.5 MiB left a job is admitted, but its large result (2048 px) does not fit: it fails,
    // and says why.
    ASSERT_NO_FATAL_FAILURE(disk.fill(std::uintmax_t{1536} * 1024));
    json large = job;
    large["params"]["size"] = 2048;
    const std::string doomed = submit(client, large).value("id", "");
    const json ended = wait_for_job(client, doomed, {"done", "failed"}, std::chrono::seconds(120));
    EXPECT_EQ(ended.value("state", ""), "failed") << ended.dump();
    ASSERT_TRUE(ended["error"].is_object()) << ended.dump();
    EXPECT_FALSE(ended["error"].value("message", "").empty()) << ended.dump();
    ASSERT_TRUE(server_answers(client));

    // Full to the last byte: every write is refused with a JSON error, every read still works.
    ASSERT_NO_FATAL_FAILURE(disk.fill());
    const std::set<int> refusals{503, 507};
    for (int i = 0; i < 5; ++i) {
        json sized = job;
        sized["params"]["size"] = 64 + i;
        const auto reply = client.Post("/api/jobs", sized.dump(), "application/json");
        ASSERT_TRUE(reply) << "no reply: did the server die?";
        EXPECT_EQ(refusals.count(reply->status), 1U) << reply->status << " " << reply->body;
        EXPECT_TRUE(body_json(reply).contains("error")) << reply->body;
        const auto uploaded = upload(client, noise_png(100, 100, 10 + i));
        ASSERT_TRUE(uploaded) << "no reply to an upload: did the server die?";
        EXPECT_EQ(refusals.count(uploaded->status), 1U) << uploaded->status << " " << uploaded->body;
        const auto vote =
            client.Post("/api/votes", json{{"a", doomed}, {"b", doomed}, {"winner", "a"}}.dump(), "application/json");
        ASSERT_TRUE(vote) << "no reply to a vote: did the server die?";
        EXPECT_EQ(client.Get("/api/jobs/" + doomed)->status, 200);
        ASSERT_TRUE(server_answers(client));
    }
    disk.free();
    const json after = wait_for_job(client, submit(client, job).value("id", ""), {"done", "failed"});
    EXPECT_EQ(after.value("state", ""), "done") << after.dump();
    EXPECT_EQ(upload(client, noise_png(100, 100, 99))->status, 201);
    EXPECT_EQ(server.stop(), 0);
}

// JSON the server reads back from its own storage is as hostile as a request: a row or a sidecar
// edited behind its back must not take it down.
TEST(StudioFaults, DeepJsonInTheDatabaseAndSidecarsIsRefusedNotFollowed) {
    TempDir temp;
    StudioProcess server(temp.path() / "data");
    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    auto client = server.client();
    const std::string content = upload_id(client, 48, 40);
    const std::string done =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}}).value("id", "");
    ASSERT_EQ(wait_for_job(client, done, {"done", "failed"}).value("state", ""), "done");
    EXPECT_EQ(server.stop(), 0);

    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    const std::string deep_request = R"({"method":"fast","content":")" + content +
                                     R"(","styles":[],"parent":null,"label":"x","params":)" + deep + "}";
    sql(server.data_dir() / "studio.sqlite3",
        "UPDATE jobs SET progress_json = '" + deep + "', result_json = '" + deep + "' WHERE id = '" + done + "';" +
            "INSERT INTO jobs (id, state, request_json, content_id, settings_key, created_ms) VALUES "
            "('j_dddddddddddddddddddddddd', 'queued', '" +
            deep_request + "', '" + content + "', 'fast-x', 1)");
    write_text(server.data_dir() / "uploads" / "u_000000000000000000000000.json",
               R"({"id":"u_000000000000000000000000","name":)" + deep + "}");

    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    auto restarted = server.client();
    const auto listed = restarted.Get("/api/jobs");
    ASSERT_TRUE(listed) << "no reply: did the server die?";
    EXPECT_EQ(listed->status, 200);
    EXPECT_EQ(restarted.Get("/api/jobs/" + done)->status, 200);
    const json failed = wait_for_job(restarted, "j_dddddddddddddddddddddddd", {"done", "failed"});
    EXPECT_EQ(failed.value("state", ""), "failed") << failed.dump().substr(0, 500);
    EXPECT_EQ(restarted.Get("/api/ranking")->status, 200);
    EXPECT_EQ(restarted.Get("/api/images")->status, 200);
    EXPECT_TRUE(server_answers(restarted));
}

} // namespace
} // namespace impasto::e2e
