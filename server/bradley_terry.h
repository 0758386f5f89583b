#pragma once
// The Bradley-Terry model: P(i beats j) = p_i / (p_i + p_j), fitted to pairwise wins by
// Hunter's (2004) minorisation-maximisation iteration.
#include <string>
#include <vector>

namespace impasto::studio {

struct PairOutcome {
    int winner = 0; // item indices
    int loser = 0;
};

struct BradleyTerryOptions {
    // Each item gets this many virtual wins and losses against a virtual average item, so an item
    // that never won (or never lost) still has a finite strength. Must be positive.
    double prior_games = 0.5;
    int max_iterations = 1000;
    double tolerance = 1e-10; // largest change of log strength between iterations
};

struct BradleyTerryFit {
    std::vector<double> strength; // p_i, normalised so that their geometric mean is 1
    std::vector<int> wins;
    std::vector<int> losses;
    int iterations = 0;
    bool converged = false;
};

// `item_count` items 0..n-1; throws std::invalid_argument for an index out of range or a bad
// option. An outcome whose winner and loser are the same item carries no information and is skipped.
BradleyTerryFit fit_bradley_terry(int item_count, const std::vector<PairOutcome>& outcomes,
                                  const BradleyTerryOptions& options = {});

} // namespace impasto::studio
