// The paper's equations against values worked out by hand on tiny tensors.
#include "nn/losses.h"

#include <gtest/gtest.h>

using namespace impasto;

TEST(Losses, GramIsUnnormalisedFFt) {
    // F (N=2 channels, M=3 positions) = [[1,2,3],[4,5,6]] -> G = [[14,32],[32,77]]
    const torch::Tensor f = torch::tensor({1.F, 2.F, 3.F, 4.F, 5.F, 6.F}).view({1, 2, 1, 3});
    const torch::Tensor g = nn::gram_matrix(f);
    EXPECT_FLOAT_EQ(g[0][0].item<float>(), 14.F);
    EXPECT_FLOAT_EQ(g[0][1].item<float>(), 32.F);
    EXPECT_FLOAT_EQ(g[1][0].item<float>(), 32.F);
    EXPECT_FLOAT_EQ(g[1][1].item<float>(), 77.F);
}

TEST(Losses, GramAccumulatesInFp32FromBf16) {
    const torch::Tensor f = torch::rand({1, 4, 5, 7});
    const torch::Tensor g = nn::gram_matrix(f.to(torch::kBFloat16));
    EXPECT_EQ(g.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::allclose(g, nn::gram_matrix(f.to(torch::kBFloat16).to(torch::kFloat))));
}

TEST(Losses, ContentIsHalfSumOfSquares) {
    // F - P = [1, -2, 3] -> 1/2 (1 + 4 + 9) = 7
    const torch::Tensor f = torch::tensor({2.F, 0.F, 5.F}).view({1, 1, 1, 3});
    const torch::Tensor p = torch::tensor({1.F, 2.F, 2.F}).view({1, 1, 1, 3});
    EXPECT_FLOAT_EQ(nn::content_loss(f, p).item<float>(), 7.F);
}

TEST(Losses, StyleLayerUsesFourNSquaredMSquared) {
    // G - A = [[1,2],[2,3]] -> sum sq = 1+4+4+9 = 18; N=2, M=3 -> 18 / (4*4*9) = 0.125
    const torch::Tensor g = torch::tensor({2.F, 2.F, 2.F, 4.F}).view({2, 2});
    const torch::Tensor a = torch::tensor({1.F, 0.F, 0.F, 1.F}).view({2, 2});
    EXPECT_FLOAT_EQ(nn::style_layer_loss(g, a, 2, 3).item<float>(), 0.125F);
}

TEST(Losses, StyleOfIdenticalFeaturesIsZero) {
    const torch::Tensor f = torch::rand({1, 3, 4, 4});
    const torch::Tensor g = nn::gram_matrix(f);
    EXPECT_FLOAT_EQ(nn::style_layer_loss(g, g, 3, 16).item<float>(), 0.F);
}

TEST(Losses, NormalisedTermsDivideByTargetEnergy) {
    const torch::Tensor p = torch::tensor({3.F, 4.F}).view({1, 1, 1, 2}); // |P|^2 = 25
    const torch::Tensor f = torch::tensor({3.F, 9.F}).view({1, 1, 1, 2}); // |F-P|^2 = 25
    EXPECT_NEAR(nn::normalized_content_loss(f, p).item<float>(), 1.0, 1e-6);
    const torch::Tensor a = torch::tensor({2.F, 0.F, 0.F, 2.F}).view({2, 2}); // |A|^2 = 8
    const torch::Tensor g = torch::tensor({4.F, 0.F, 0.F, 2.F}).view({2, 2}); // |G-A|^2 = 4
    EXPECT_NEAR(nn::normalized_style_layer_loss(g, a).item<float>(), 0.5, 1e-6);
}

TEST(Losses, NormalisedStyleIsSizeInvariantForTiledTextures) {
    // A texture tiled twice in each direction has 4x the positions: Grams grow 4x, eq. 2's
    // 1/M^2 keeps E_l comparable only with matching M, the normalised term always.
    const torch::Tensor tile = torch::rand({1, 3, 4, 4});
    const torch::Tensor big = tile.repeat({1, 1, 2, 2});
    const torch::Tensor other = torch::rand({1, 3, 4, 4});
    const torch::Tensor small_loss = nn::normalized_style_layer_loss(nn::gram_matrix(other), nn::gram_matrix(tile));
    const torch::Tensor big_loss =
        nn::normalized_style_layer_loss(nn::gram_matrix(other.repeat({1, 1, 2, 2})), nn::gram_matrix(big));
    EXPECT_NEAR(small_loss.item<float>(), big_loss.item<float>(), 1e-4);
}

TEST(Losses, TotalVariationByHand) {
    // 1x1x2x2 image [[0,1],[2,4]]: dy = [2,3] -> mean 6.5; dx = [1,2] -> mean 2.5; total 9
    const torch::Tensor x = torch::tensor({0.F, 1.F, 2.F, 4.F}).view({1, 1, 2, 2});
    EXPECT_FLOAT_EQ(nn::total_variation_loss(x).item<float>(), 9.F);
}

TEST(Losses, GradientsMatchFiniteDifferencesInDouble) {
    torch::manual_seed(3);
    const torch::Tensor target = torch::rand({1, 2, 3, 3}, torch::kDouble);
    const torch::Tensor target_gram = nn::gram_matrix(target).to(torch::kDouble);
    const torch::Tensor x = torch::rand({1, 2, 3, 3}, torch::kDouble).requires_grad_(true);
    auto loss_of = [&](const torch::Tensor& input) {
        const torch::Tensor f = input.reshape({2, -1});
        const torch::Tensor gram = torch::mm(f, f.t());
        return nn::style_layer_loss(gram, target_gram, 2, 9) + nn::total_variation_loss(input).to(torch::kDouble);
    };
    loss_of(x).backward();
    const torch::Tensor analytic = x.grad().clone();
    const double eps = 1e-6;
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 18; ++i) {
        torch::Tensor plus = x.detach().clone();
        torch::Tensor minus = x.detach().clone();
        plus.view({-1})[i] += eps;
        minus.view({-1})[i] -= eps;
        const double numeric = (loss_of(plus).item<double>() - loss_of(minus).item<double>()) / (2 * eps);
        EXPECT_NEAR(analytic.view({-1})[i].item<double>(), numeric, 1e-6 + 1e-4 * std::abs(numeric)) << "element " << i;
    }
}

TEST(Losses, StyleGramTargetRescalesToTheOutputsPositions) {
    // A texture tiled 2x2 has 4x the positions and a 4x Gram; the 4x4 tile's target rescaled to
    // 64 positions must equal it, so eq. 2 is zero for the tiled output.
    const torch::Tensor tile = torch::rand({1, 3, 4, 4});
    const torch::Tensor tiled = tile.repeat({1, 1, 2, 2});
    EXPECT_TRUE(torch::allclose(nn::style_gram_target(tile, 64.0), nn::gram_matrix(tiled), 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(nn::style_gram_target(tile, 16.0), nn::gram_matrix(tile)));
}
