// The SQLite vote store.
#include "server/sqlite_job_queue.h"
#include "server/sqlite_vote_store.h"
#include "testutil.h"

#include <gtest/gtest.h>
#include <regex>
#include <set>

namespace impasto::studio {
namespace {

Vote make_vote(const std::string& a, const std::string& b, const std::string& winner) {
    Vote vote;
    vote.job_a = a;
    vote.job_b = b;
    vote.winner = winner;
    vote.settings_a = "settings-" + a;
    vote.settings_b = "settings-" + b;
    return vote;
}

void expect_same(const Vote& expected, const Vote& actual) {
    EXPECT_EQ(expected.id, actual.id);
    EXPECT_EQ(expected.job_a, actual.job_a);
    EXPECT_EQ(expected.job_b, actual.job_b);
    EXPECT_EQ(expected.winner, actual.winner);
    EXPECT_EQ(expected.settings_a, actual.settings_a);
    EXPECT_EQ(expected.settings_b, actual.settings_b);
    EXPECT_EQ(expected.created_ms, actual.created_ms);
}

class StudioVotes : public ::testing::Test {
  protected:
    testing::TempDir dir_;
    std::filesystem::path path_ = dir_ / "studio.db";
};

TEST_F(StudioVotes, AddSetsIdAndTime) {
    SqliteVoteStore store(path_);
    Vote submitted = make_vote("j_1", "j_2", "b");
    submitted.id = "v_mine"; // ignored: the store picks the id
    const Vote stored = store.add(submitted);
    EXPECT_TRUE(std::regex_match(stored.id, std::regex("v_[0-9a-f]{24}"))) << stored.id;
    EXPECT_GT(stored.created_ms, 1'600'000'000'000);
    EXPECT_EQ(stored.winner, "b");
    EXPECT_EQ(stored.settings_a, "settings-j_1");
    ASSERT_EQ(store.all().size(), 1U);
    expect_same(stored, store.all()[0]);
}

TEST_F(StudioVotes, RefusesBadVotes) {
    SqliteVoteStore store(path_);
    for (const char* winner : {"", "A", "c", "ab", "a "}) {
        EXPECT_THROW(store.add(make_vote("j_1", "j_2", winner)), ConfigError) << winner;
    }
    EXPECT_THROW(store.add(make_vote("", "j_2", "a")), ConfigError);
    EXPECT_THROW(store.add(make_vote("j_1", "j_1", "a")), ConfigError);
    EXPECT_EQ(store.count(), 0);
}

TEST_F(StudioVotes, AllCountAndCountBetween) {
    SqliteVoteStore store(path_);
    std::vector<Vote> added;
    added.push_back(store.add(make_vote("j_1", "j_2", "a")));
    added.push_back(store.add(make_vote("j_2", "j_1", "a")));
    added.push_back(store.add(make_vote("j_1", "j_3", "b")));
    added.push_back(store.add(make_vote("j_1", "j_2", "b")));

    const auto all = store.all();
    ASSERT_EQ(all.size(), added.size());
    for (std::size_t i = 0; i < all.size(); ++i) { // oldest first
        expect_same(added[i], all[i]);
    }
    EXPECT_EQ(store.count(), 4);
    EXPECT_EQ(store.count_between("j_1", "j_2"), 3);
    EXPECT_EQ(store.count_between("j_2", "j_1"), 3);
    EXPECT_EQ(store.count_between("j_3", "j_1"), 1);
    EXPECT_EQ(store.count_between("j_2", "j_3"), 0);
    EXPECT_EQ(store.count_between("j_9", "j_8"), 0);
}

TEST_F(StudioVotes, IdsAreDistinct) {
    SqliteVoteStore store(path_);
    std::set<std::string> ids;
    for (int i = 0; i < 50; ++i) {
        ids.insert(store.add(make_vote("j_1", "j_2", i % 2 == 0 ? "a" : "b")).id);
    }
    EXPECT_EQ(ids.size(), 50U);
}

TEST_F(StudioVotes, SurviveReopeningBesideTheJobQueue) {
    std::vector<Vote> before;
    {
        SqliteJobQueue queue(path_); // the same file holds both tables
        SqliteVoteStore store(path_);
        JobRecord job;
        job.id = "j_1";
        queue.submit(job);
        before.push_back(store.add(make_vote("j_1", "j_2", "a")));
        before.push_back(store.add(make_vote("j_3", "j_1", "b")));
    }
    SqliteVoteStore store(path_);
    const auto after = store.all();
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        expect_same(before[i], after[i]);
    }
    EXPECT_EQ(store.count_between("j_1", "j_3"), 1);
    EXPECT_TRUE(SqliteJobQueue(path_).get("j_1"));
}

} // namespace
} // namespace impasto::studio
