// kill -9 in the middle of a job: after a restart every job is still there, finished results are
// intact, the interrupted job runs again to the end, and the database passes its integrity check.
#include "studio_fixture.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace impasto::e2e {
namespace {

std::string integrity_check(const fs::path& database) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return "cannot open";
    }
    std::string result;
    sqlite3_exec(
        db, "PRAGMA integrity_check",
        [](void* out, int, char** values, char**) {
            *static_cast<std::string*>(out) += values[0] != nullptr ? values[0] : "";
            return 0;
        },
        &result, nullptr);
    sqlite3_close(db);
    return result;
}

TEST(StudioDurability, KillNineMidJobLosesNothing) {
    IMPASTO_REQUIRE_WEIGHTS();
    TempDir temp;
    StudioProcess server(temp.path() / "data");
    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    auto client = server.client();
    const std::string content = upload_id(client, 64, 48);
    const std::string style = upload_id(client, 48, 48);

    std::vector<std::string> quick;
    for (int i = 0; i < 3; ++i) {
        quick.push_back(submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 32 + 16 * i}}}})
                            .value("id", ""));
    }
    const std::string slow = submit(client, {{"method", "optimisation"},
                                             {"content", content},
                                             {"styles", {style}},
                                             {"params", {{"size", 64}, {"iterations", 120}, {"schedule", ""}}}})
                                 .value("id", "");
    std::vector<std::string> later;
    for (int i = 0; i < 3; ++i) {
        later.push_back(submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 40 + 16 * i}}}})
                            .value("id", ""));
    }
    for (const std::string& id : quick) {
        ASSERT_EQ(wait_for_job(client, id, {"done", "failed"}).value("state", ""), "done");
    }
    // Kill while the optimisation is part-way.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    json running;
    while (std::chrono::steady_clock::now() < deadline) {
        running = body_json(client.Get("/api/jobs/" + slow));
        if (running.value("state", "") == "running" && running["progress"].is_object() &&
            running["progress"].value("iteration", 0) >= 5) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(running.value("state", ""), "running") << running.dump();
    std::map<std::string, std::string> results_before;
    for (const std::string& id : quick) {
        results_before[id] = client.Get("/api/jobs/" + id + "/image")->body;
    }
    server.kill_now();

    EXPECT_EQ(integrity_check(server.data_dir() / "studio.sqlite3"), "ok");

    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "1"}));
    EXPECT_NE(server.log_text().find("1 job(s) re-queued"), std::string::npos) << server.log_text();
    auto restarted = server.client();
    for (const std::string& id : quick) {
        const json job = body_json(restarted.Get("/api/jobs/" + id));
        EXPECT_EQ(job.value("state", ""), "done") << id;
        const auto image = restarted.Get("/api/jobs/" + id + "/image");
        ASSERT_TRUE(image);
        EXPECT_EQ(image->body, results_before[id]) << "a finished result changed";
    }
    // The interrupted job and the ones behind it run to the end.
    const json resumed = wait_for_job(restarted, slow, {"done", "failed"}, std::chrono::seconds(300));
    EXPECT_EQ(resumed.value("state", ""), "done") << resumed.dump();
    EXPECT_EQ(resumed.value("attempts", 0), 2);
    EXPECT_EQ(resumed.at("progress").value("iteration", 0), 120);
    for (const std::string& id : later) {
        EXPECT_EQ(wait_for_job(restarted, id, {"done", "failed"}).value("state", ""), "done") << id;
    }
    const json all = body_json(restarted.Get("/api/jobs"));
    EXPECT_EQ(all.at("jobs").size(), quick.size() + 1 + later.size());
    EXPECT_EQ(body_json(restarted.Get("/api/images")).at("uploads").size(), 2U);
    for (const auto& entry : fs::recursive_directory_iterator(server.data_dir())) {
        EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
    }
    EXPECT_EQ(server.stop(), 0);
    EXPECT_EQ(integrity_check(server.data_dir() / "studio.sqlite3"), "ok");
}

} // namespace
} // namespace impasto::e2e
