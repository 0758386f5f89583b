#include "server/bradley_terry.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>
#include <utility>

// The maths, in brief. With W_i real wins of item i, n_ij games between i and j, and the prior
// as a games against a virtual item of strength 1 (a won, a lost), the log posterior is
//
//     L(p) = sum_i (W_i + a) log p_i  -  sum_{i<j} n_ij log(p_i + p_j)  -  2a sum_i log(1 + p_i).
//
// Why this prior: the real games fix only the ratios of strengths, and an item that never lost
// (or never won) has no finite maximum at all. The virtual games pin the scale and pull such an
// item back towards average by about a game's worth of evidence, as a Beta prior would for one
// win rate. L is strictly concave in log p (log-sum-exp terms), so the maximum is unique.
//
// Why MM (Hunter 2004): -log x lies above its tangent, so replacing each -log(p_i + p_j) and
// -log(1 + p_i) by its tangent at the current p gives a lower bound of L that touches it there
// and separates by item. Maximising the bound in p_i gives
//
//     p_i <- (W_i + a) / (sum_j n_ij / (p_i + p_j)  +  2a / (1 + p_i)),
//
// and every such step raises L; no step size to tune, no Hessian. Updating the items one after
// another with the newest values (Gauss-Seidel) is still an MM step per item.
//
// Why more than MM: plain MM converges linearly and can crawl. Along the common scale, which only
// the weak prior pins, it takes thousands of sweeps for four items, so each sweep ends with an
// exact maximisation along that direction. Along a long chain of one-sided results it still
// crawls, so the sweeps are accelerated by SQUAREM (Varadhan and Roland 2008): two sweeps give a
// direction and a rate, one extrapolated step jumps ahead, and it is kept only when L is higher
// than after the two plain sweeps, so L still never falls. The reported strengths are divided by
// their geometric mean at the end: the API shows log strength as a score, and 0 should read as
// "average".

namespace impasto::studio {

namespace {

struct Games {
    double prior = 0.0;
    std::vector<double> wins_plus_prior;                                // W_i + a
    std::vector<std::vector<std::pair<std::size_t, double>>> opponents; // (j, n_ij)
};

double log_add_exp(double x, double y) {
    const double larger = std::max(x, y);
    return larger + std::log1p(std::exp(-std::abs(x - y)));
}

// L at theta = log p (each pair counted once).
double log_posterior(const Games& games, const std::vector<double>& theta) {
    double total = 0.0;
    for (std::size_t i = 0; i < theta.size(); ++i) {
        total += games.wins_plus_prior[i] * theta[i] - 2.0 * games.prior * log_add_exp(0.0, theta[i]);
        for (const auto& [j, count] : games.opponents[i]) {
            if (j > i) {
                total -= count * log_add_exp(theta[i], theta[j]);
            }
        }
    }
    return total;
}

// Adds the shift s that maximises L along the common scale. The real games see only ratios, so
// only the prior matters, and its condition  sum_i (1 - e^(s + theta_i)) / (1 + e^(s + theta_i)) = 0,
// i.e.  sum_i tanh((s + theta_i) / 2) = 0,  is increasing in s with its root between -max theta
// and -min theta: Newton, kept inside that bracket.
void shift_to_best_scale(std::vector<double>& theta) {
    if (theta.empty()) {
        return;
    }
    const auto [smallest, largest] = std::minmax_element(theta.begin(), theta.end());
    double low = -*largest;
    double high = -*smallest;
    double shift = std::clamp(0.0, low, high);
    for (int step = 0; step < 100; ++step) {
        double value = 0.0;
        double slope = 0.0;
        for (const double t : theta) {
            const double h = std::tanh(0.5 * (shift + t));
            value += h;
            slope += 0.5 * (1.0 - h * h);
        }
        (value > 0.0 ? high : low) = shift;
        double next = shift - value / slope;
        if (!(next > low && next < high)) {
            next = 0.5 * (low + high);
        }
        const bool settled = std::abs(next - shift) <= 1e-15 * (1.0 + std::abs(shift));
        shift = next;
        if (settled) {
            break;
        }
    }
    for (double& t : theta) {
        t += shift;
    }
}

// One MM sweep over the items, then the best common scale.
std::vector<double> sweep(const Games& games, std::vector<double> theta) {
    std::vector<double> strength(theta.size());
    std::transform(theta.begin(), theta.end(), strength.begin(), [](double t) { return std::exp(t); });
    for (std::size_t i = 0; i < strength.size(); ++i) {
        double expected_games = 2.0 * games.prior / (1.0 + strength[i]);
        for (const auto& [j, count] : games.opponents[i]) {
            expected_games += count / (strength[i] + strength[j]);
        }
        strength[i] = games.wins_plus_prior[i] / expected_games;
    }
    std::transform(strength.begin(), strength.end(), theta.begin(), [](double p) { return std::log(p); });
    shift_to_best_scale(theta);
    return theta;
}

double largest_difference(const std::vector<double>& x, const std::vector<double>& y) {
    double largest = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        largest = std::max(largest, std::abs(x[i] - y[i]));
    }
    return largest;
}

bool all_finite(const std::vector<double>& values) {
    return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

void check_options(int item_count, const BradleyTerryOptions& options) {
    if (item_count < 0) {
        throw std::invalid_argument("Bradley-Terry: item_count " + std::to_string(item_count) + " is negative");
    }
    if (!(options.prior_games > 0.0) || !std::isfinite(options.prior_games)) {
        throw std::invalid_argument("Bradley-Terry: prior_games " + std::to_string(options.prior_games) +
                                    " must be a positive number");
    }
    if (options.max_iterations < 1) {
        throw std::invalid_argument("Bradley-Terry: max_iterations " + std::to_string(options.max_iterations) +
                                    " must be at least 1");
    }
    if (!(options.tolerance > 0.0)) {
        throw std::invalid_argument("Bradley-Terry: tolerance must be positive");
    }
}

} // namespace

BradleyTerryFit fit_bradley_terry(int item_count, const std::vector<PairOutcome>& outcomes,
                                  const BradleyTerryOptions& options) {
    check_options(item_count, options);
    const auto n = static_cast<std::size_t>(item_count);
    BradleyTerryFit fit;
    fit.wins.assign(n, 0);
    fit.losses.assign(n, 0);
    std::map<std::pair<int, int>, int> games_between; // (lower index, higher index) -> games
    for (const PairOutcome& outcome : outcomes) {
        for (const int index : {outcome.winner, outcome.loser}) {
            if (index < 0 || index >= item_count) {
                throw std::invalid_argument("Bradley-Terry: item index " + std::to_string(index) + " is outside 0.." +
                                            std::to_string(item_count - 1));
            }
        }
        if (outcome.winner == outcome.loser) {
            continue; // a game against itself says nothing about an item's strength relative to others
        }
        ++fit.wins[static_cast<std::size_t>(outcome.winner)];
        ++fit.losses[static_cast<std::size_t>(outcome.loser)];
        ++games_between[std::minmax(outcome.winner, outcome.loser)];
    }

    Games games;
    games.prior = options.prior_games;
    games.opponents.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        games.wins_plus_prior.push_back(fit.wins[i] + options.prior_games);
    }
    for (const auto& [pair, count] : games_between) {
        const auto first = static_cast<std::size_t>(pair.first);
        const auto second = static_cast<std::size_t>(pair.second);
        games.opponents[first].emplace_back(second, count);
        games.opponents[second].emplace_back(first, count);
    }

    // `theta` is log p. Each pass is a SQUAREM cycle of up to three sweeps; a sweep that moves
    // no log strength by more than the tolerance ends the fit.
    std::vector<double> theta(n, 0.0);
    std::vector<double> once;
    std::vector<double> twice;
    std::vector<double> landed;
    auto settles = [&](const std::vector<double>& from, std::vector<double>& to) {
        to = sweep(games, from);
        ++fit.iterations;
        return largest_difference(from, to) < options.tolerance;
    };
    auto budget_left = [&] { return fit.iterations < options.max_iterations; };
    while (budget_left()) {
        if (settles(theta, once) || !budget_left()) {
            fit.converged = largest_difference(theta, once) < options.tolerance;
            theta = once;
            break;
        }
        if (settles(once, twice) || !budget_left()) {
            fit.converged = largest_difference(once, twice) < options.tolerance;
            theta = twice;
            break;
        }
        // r: the first step; v: how the second differs from it. alpha = -|r|/|v|, at most -1,
        // where the jump is exactly the two plain sweeps.
        double r_squared = 0.0;
        double v_squared = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double r = once[i] - theta[i];
            const double v = twice[i] - 2.0 * once[i] + theta[i];
            r_squared += r * r;
            v_squared += v * v;
        }
        const double alpha = v_squared > 0.0 ? std::min(-1.0, -std::sqrt(r_squared / v_squared)) : -1.0;
        std::vector<double> jump(n);
        for (std::size_t i = 0; i < n; ++i) {
            const double r = once[i] - theta[i];
            const double v = twice[i] - 2.0 * once[i] + theta[i];
            jump[i] = theta[i] - 2.0 * alpha * r + alpha * alpha * v;
        }
        theta = twice;
        if (!all_finite(jump)) {
            continue;
        }
        const bool settled = settles(jump, landed);
        // Near the optimum L changes by less than its rounding error: allow for that, or a good
        // jump could be refused for ever.
        const double floor = log_posterior(games, theta);
        if (all_finite(landed) && log_posterior(games, landed) >= floor - 1e-12 * (1.0 + std::abs(floor))) {
            theta = landed;
            if (settled) {
                fit.converged = true;
                break;
            }
        }
    }

    // Divide by the geometric mean: scores (log strengths) then average 0.
    const double mean_log = n > 0 ? std::accumulate(theta.begin(), theta.end(), 0.0) / static_cast<double>(n) : 0.0;
    fit.strength.resize(n);
    std::transform(theta.begin(), theta.end(), fit.strength.begin(), [&](double t) { return std::exp(t - mean_log); });
    return fit;
}

} // namespace impasto::studio
