// Load on loopback: 10 clients submit 50 jobs at once and watch them; every job is accepted,
// none is lost or duplicated, and all finish.
#include "studio_fixture.h"

#include <gtest/gtest.h>
#include <mutex>

namespace impasto::e2e {
namespace {

TEST(StudioLoad, FiftyJobsFromTenClientsAllFinish) {
    TempDir temp;
    StudioProcess server(temp.path() / "data");
    ASSERT_NO_FATAL_FAILURE(server.start({"--workers", "2", "--threads", "1"}));
    auto setup = server.client();
    const std::string content = upload_id(setup, 48, 40);

    constexpr int kClients = 10;
    constexpr int kJobsPerClient = 5;
    std::mutex mutex;
    std::vector<std::string> ids;
    std::vector<std::string> failures;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            auto http = server.client();
            std::vector<std::string> mine;
            for (int j = 0; j < kJobsPerClient; ++j) {
                const json job{{"method", "fast"},
                               {"content", content},
                               {"params", {{"size", 32 + 8 * ((c + j) % 4)}, {"precision", "fp32"}}}};
                const auto result = http.Post("/api/jobs", job.dump(), "application/json");
                if (!result || result->status != 202) {
                    const std::lock_guard<std::mutex> lock(mutex);
                    failures.push_back(result ? result->body : "no response");
                    continue;
                }
                mine.push_back(body_json(result).value("id", ""));
            }
            for (const std::string& id : mine) {
                const json done = wait_for_job(http, id, {"done", "failed", "cancelled"}, std::chrono::seconds(240));
                if (done.value("state", "") != "done") {
                    const std::lock_guard<std::mutex> lock(mutex);
                    failures.push_back(id + ": " + done.dump());
                }
            }
            const std::lock_guard<std::mutex> lock(mutex);
            ids.insert(ids.end(), mine.begin(), mine.end());
        });
    }
    for (std::thread& client : clients) {
        client.join();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kClients * kJobsPerClient));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicate job ids";
    const json listed = body_json(setup.Get("/api/jobs?limit=1000"));
    EXPECT_EQ(listed.at("jobs").size(), ids.size());
    const json info = body_json(setup.Get("/api/info"));
    EXPECT_EQ(info.at("queue").value("done", 0), kClients * kJobsPerClient);
    EXPECT_EQ(info.at("queue").value("queued", -1), 0);
    EXPECT_EQ(info.at("queue").value("running", -1), 0);
    ::testing::Test::RecordProperty("seconds", std::to_string(seconds));
    std::printf("50 jobs from 10 clients: %.1f s\n", seconds);
}

} // namespace
} // namespace impasto::e2e
