// The studio's EventHub under concurrent publishers, watchers and stream slots: what the TSan preset
// checks (with the queue, batch pipeline and study runner tests), and what the event streams rely on.
#include "server/event_hub.h"

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

namespace impasto::studio {
namespace {

using namespace std::chrono_literals;

TEST(EventHub, WatchersSeeEachJobsEventsInOrderUpToItsEnd) {
    EventHub hub(8); // a short history, so that slow watchers also see events dropped
    constexpr int kJobs = 4;
    constexpr int kEvents = 300;
    std::vector<std::vector<LiveEvent>> seen(kJobs);
    std::vector<std::thread> threads;
    for (int j = 0; j < kJobs; ++j) {
        threads.emplace_back([&hub, &seen, j] {
            const std::string job = "job-" + std::to_string(j);
            std::uint64_t after = 0;
            while (seen[j].empty() || seen[j].back().type != "state") {
                for (const LiveEvent& event : hub.wait(job, after, 50ms)) {
                    seen[j].push_back(event);
                    after = event.seq;
                }
            }
        });
    }
    for (int j = 0; j < kJobs; ++j) {
        threads.emplace_back([&hub, j] {
            const std::string job = "job-" + std::to_string(j);
            for (int i = 0; i < kEvents; ++i) {
                hub.publish(job, "progress", std::to_string(i));
            }
            hub.publish(job, "state", "done", true);
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    for (int j = 0; j < kJobs; ++j) {
        ASSERT_FALSE(seen[j].empty());
        EXPECT_EQ(seen[j].back().data, "done");
        int last_progress = -1;
        for (std::size_t i = 0; i < seen[j].size(); ++i) {
            if (i > 0) {
                EXPECT_GT(seen[j][i].seq, seen[j][i - 1].seq) << "job " << j << " event " << i;
            }
            if (seen[j][i].type == "progress") {
                const int progress = std::stoi(seen[j][i].data);
                EXPECT_GT(progress, last_progress) << "job " << j << ": another job's event or a repeat";
                last_progress = progress;
            }
        }
    }
}

TEST(EventHub, ShutdownWakesEveryWaiter) {
    EventHub hub;
    std::atomic<int> returned{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i) {
        // Without the wake-up these wait an hour and the test times out.
        waiters.emplace_back([&hub, &returned] {
            EXPECT_TRUE(hub.wait("nobody", 0, std::chrono::hours(1)).empty());
            ++returned;
        });
    }
    hub.shutdown();
    for (std::thread& waiter : waiters) {
        waiter.join();
    }
    EXPECT_EQ(returned.load(), 4);
    EXPECT_TRUE(hub.is_shut_down());
}

TEST(EventHub, StreamSlotsNeverExceedTheLimit) {
    EventHub hub;
    constexpr int kLimit = 3;
    std::atomic<int> open{0};
    std::atomic<int> most{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
        clients.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                if (!hub.open_stream(kLimit)) {
                    ++refused;
                    continue;
                }
                const int now = ++open;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                --open;
                hub.close_stream();
            }
        });
    }
    for (std::thread& client : clients) {
        client.join();
    }
    EXPECT_LE(most.load(), kLimit);
    EXPECT_EQ(hub.open_streams(), 0);
}

TEST(EventHub, PreviewsArePublishedWhole) {
    EventHub hub;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 1; i <= 400; ++i) {
            hub.set_preview("job",
                            std::vector<std::uint8_t>(static_cast<std::size_t>(i), static_cast<std::uint8_t>(i)));
        }
        done = true;
    });
    int checked = 0;
    while (!done || checked == 0) {
        const std::optional<Preview> preview = hub.preview("job");
        if (!preview) {
            continue;
        }
        ASSERT_TRUE(preview->png);
        const std::vector<std::uint8_t>& png = *preview->png;
        ASSERT_FALSE(png.empty());
        for (const std::uint8_t byte : png) {
            ASSERT_EQ(byte, static_cast<std::uint8_t>(png.size())) << "a preview seen half written";
        }
        ++checked;
    }
    writer.join();
    EXPECT_EQ(hub.preview("job")->png->size(), 400U);
}

} // namespace
} // namespace impasto::studio
