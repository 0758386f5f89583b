// The Bradley-Terry fit: against an independent solution, at its optimum, on simulated games.
#include "server/bradley_terry.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <numeric>
#include <random>
#include <stdexcept>

namespace impasto::studio {
namespace {

std::vector<PairOutcome> games(int winner, int loser, int count) {
    return std::vector<PairOutcome>(static_cast<std::size_t>(count), PairOutcome{winner, loser});
}

std::vector<PairOutcome> operator+(std::vector<PairOutcome> a, const std::vector<PairOutcome>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// The root of a decreasing function on [low, high], by bisection in log space (no shared code
// with the MM iteration under test).
double bisect_decreasing(const std::function<double(double)>& f, double low, double high) {
    for (int i = 0; i < 200; ++i) {
        const double middle = std::sqrt(low * high);
        (f(middle) > 0 ? low : high) = middle;
    }
    return std::sqrt(low * high);
}

TEST(StudioBradleyTerry, NoGamesGivesEveryItemStrengthOne) {
    const auto fit = fit_bradley_terry(4, {});
    ASSERT_EQ(fit.strength.size(), 4U);
    for (const double p : fit.strength) {
        EXPECT_DOUBLE_EQ(p, 1.0);
    }
    EXPECT_TRUE(fit.converged);
    EXPECT_EQ(fit.wins, std::vector<int>(4, 0));
    EXPECT_TRUE(fit_bradley_terry(0, {}).strength.empty());
}

TEST(StudioBradleyTerry, TwoItemsMatchAnIndependentSolution) {
    // Item 0 beats item 1 seven times and loses twice. Reversing every game and inverting every
    // strength leaves the posterior unchanged, so p_1 = 1/p_0 = 1/r, and r solves item 0's
    // stationarity condition:  w + a = (w + l) r^2 / (r^2 + 1) + 2a r / (r + 1).
    const double w = 7;
    const double l = 2;
    const BradleyTerryOptions options;
    const double a = options.prior_games;
    const double r = bisect_decreasing(
        [&](double x) { return w + a - (w + l) * x * x / (x * x + 1) - 2 * a * x / (x + 1); }, 1e-6, 1e6);
    const auto fit = fit_bradley_terry(2, games(0, 1, 7) + games(1, 0, 2), options);
    ASSERT_TRUE(fit.converged);
    EXPECT_NEAR(fit.strength[0], r, 1e-8 * r);
    EXPECT_NEAR(fit.strength[1], 1 / r, 1e-8 / r);
    // Item 1's condition holds too.
    const double p1 = fit.strength[1];
    const double p0 = fit.strength[0];
    EXPECT_NEAR(l + a, (w + l) * p1 / (p0 + p1) + 2 * a * p1 / (p1 + 1), 1e-8);
    EXPECT_EQ(fit.wins, (std::vector<int>{7, 2}));
    EXPECT_EQ(fit.losses, (std::vector<int>{2, 7}));
    // Less than a pure win rate would say (7/2 = 3.5): the prior pulls towards even.
    EXPECT_GT(r, 1.0);
    EXPECT_LT(r * r, 3.5);
}

// Checks that the fit is the posterior mode: for each item, actual wins equal expected wins,
// the virtual games included.
void expect_stationary(int n, const std::vector<PairOutcome>& outcomes, const BradleyTerryOptions& options) {
    const double a = options.prior_games;
    const auto fit = fit_bradley_terry(n, outcomes, options);
    ASSERT_TRUE(fit.converged);
    const auto& q = fit.strength;

    double mean_log = 0;
    for (const double p : q) {
        mean_log += std::log(p) / n;
    }
    EXPECT_NEAR(mean_log, 0.0, 1e-12);

    // The fit reports p / g for the posterior mode p. Summed over items, the real games' terms
    // cancel, leaving  sum_i a = sum_i 2a g q_i / (g q_i + 1),  which fixes g.
    const double g = bisect_decreasing(
        [&](double scale) {
            double residual = 0;
            for (const double p : q) {
                residual += a - 2 * a * scale * p / (scale * p + 1);
            }
            return residual;
        },
        1e-6, 1e6);
    for (int i = 0; i < n; ++i) {
        const double qi = q[static_cast<std::size_t>(i)];
        double expected_wins = 2 * a * g * qi / (g * qi + 1) - a; // virtual games: expected minus actual wins
        double actual_wins = 0;
        for (const auto& outcome : outcomes) {
            if (outcome.winner == i || outcome.loser == i) {
                const int other = outcome.winner == i ? outcome.loser : outcome.winner;
                expected_wins += qi / (qi + q[static_cast<std::size_t>(other)]);
                actual_wins += outcome.winner == i ? 1 : 0;
            }
        }
        EXPECT_NEAR(actual_wins, expected_wins, 1e-8) << "item " << i;
    }
}

TEST(StudioBradleyTerry, FitSatisfiesTheStationarityConditions) {
    // A small irregular tournament, item 4 never winning.
    const auto outcomes = games(0, 1, 3) + games(1, 0, 1) + games(1, 2, 4) + games(2, 0, 2) + games(0, 3, 5) +
                          games(3, 2, 1) + games(2, 3, 2) + games(0, 4, 2) + games(3, 4, 1);
    expect_stationary(5, outcomes, {});
    BradleyTerryOptions strong_prior;
    strong_prior.prior_games = 4;
    expect_stationary(5, outcomes, strong_prior);
}

TEST(StudioBradleyTerry, ConvergesOnALongChainOfOneSidedResults) {
    // Item i beats item i + 1 fifty times and never loses to it: plain MM needs over ten
    // thousand sweeps here; the default budget must do.
    std::vector<PairOutcome> outcomes;
    for (int i = 0; i < 20; ++i) {
        outcomes = outcomes + games(i, i + 1, 50);
    }
    expect_stationary(21, outcomes, {});
}

TEST(StudioBradleyTerry, RecoversKnownStrengthsFromSimulatedGames) {
    const std::vector<double> true_log_strength = {0.3, -1.5, 1.5, -0.3, 0.9, -0.9}; // mean 0
    const int n = static_cast<int>(true_log_strength.size());
    std::mt19937 random(20260101);
    std::uniform_int_distribution<int> pick(0, n - 1);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<PairOutcome> outcomes;
    while (outcomes.size() < 3000) {
        const int i = pick(random);
        const int j = pick(random);
        if (i == j) {
            continue;
        }
        const double p_i_wins = 1 / (1 + std::exp(true_log_strength[static_cast<std::size_t>(j)] -
                                                  true_log_strength[static_cast<std::size_t>(i)]));
        outcomes.push_back(uniform(random) < p_i_wins ? PairOutcome{i, j} : PairOutcome{j, i});
    }
    const auto fit = fit_bradley_terry(n, outcomes);
    ASSERT_TRUE(fit.converged);

    auto order_of = [&](const std::function<double(std::size_t)>& value) {
        std::vector<std::size_t> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), 0U);
        std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return value(x) > value(y); });
        return order;
    };
    EXPECT_EQ(order_of([&](std::size_t i) { return fit.strength[i]; }),
              order_of([&](std::size_t i) { return true_log_strength[i]; }));
    for (std::size_t i = 0; i < true_log_strength.size(); ++i) {
        EXPECT_NEAR(std::log(fit.strength[i]), true_log_strength[i], 0.2) << "item " << i;
    }
}

TEST(StudioBradleyTerry, ItemsWithoutWinsOrLossesStayFinite) {
    // Item 0 wins everything, item 2 loses everything, item 3 never plays.
    const auto fit = fit_bradley_terry(4, games(0, 1, 10) + games(0, 2, 10) + games(1, 2, 10));
    ASSERT_TRUE(fit.converged);
    for (const double p : fit.strength) {
        EXPECT_TRUE(std::isfinite(p));
        EXPECT_GT(p, 0.0);
    }
    EXPECT_GT(fit.strength[0], fit.strength[1]);
    EXPECT_GT(fit.strength[1], fit.strength[2]);
    // The results are symmetric about item 1 (reverse every game and swap items 0 and 2), so it
    // sits at the average, beside the item that never played.
    EXPECT_NEAR(fit.strength[1], 1.0, 1e-9);
    EXPECT_NEAR(fit.strength[3], 1.0, 1e-9);
    EXPECT_NEAR(fit.strength[0] * fit.strength[2], 1.0, 1e-9);
    EXPECT_EQ(fit.wins[2], 0);
    EXPECT_EQ(fit.losses[2], 20);
}

TEST(StudioBradleyTerry, SelfGamesAreSkipped) {
    const auto with = fit_bradley_terry(2, games(0, 1, 3) + games(1, 1, 5) + games(1, 0, 1));
    const auto without = fit_bradley_terry(2, games(0, 1, 3) + games(1, 0, 1));
    EXPECT_EQ(with.strength, without.strength);
    EXPECT_EQ(with.wins, without.wins);
}

TEST(StudioBradleyTerry, RefusesBadIndicesAndOptions) {
    EXPECT_THROW(fit_bradley_terry(2, {{0, 2}}), std::invalid_argument);
    EXPECT_THROW(fit_bradley_terry(2, {{-1, 0}}), std::invalid_argument);
    EXPECT_THROW(fit_bradley_terry(0, {{0, 0}}), std::invalid_argument);
    EXPECT_THROW(fit_bradley_terry(-1, {}), std::invalid_argument);
    BradleyTerryOptions options;
    options.prior_games = 0;
    EXPECT_THROW(fit_bradley_terry(2, {}, options), std::invalid_argument);
    options = {};
    options.max_iterations = 0;
    EXPECT_THROW(fit_bradley_terry(2, {}, options), std::invalid_argument);
    options = {};
    options.tolerance = 0;
    EXPECT_THROW(fit_bradley_terry(2, {}, options), std::invalid_argument);
}

TEST(StudioBradleyTerry, ReportsWhenItStopsEarly) {
    BradleyTerryOptions options;
    options.max_iterations = 1;
    const auto fit = fit_bradley_terry(3, games(0, 1, 5) + games(1, 2, 5), options);
    EXPECT_EQ(fit.iterations, 1);
    EXPECT_FALSE(fit.converged);
}

} // namespace
} // namespace impasto::studio
