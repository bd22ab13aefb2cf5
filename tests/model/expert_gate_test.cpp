#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "moecollab/model/expert.h"
#include "moecollab/model/gate.h"
#include "moecollab/util/error.h"

namespace moecollab {
namespace {

void set_linear(torch::nn::Linear& l, std::vector<double> w, std::vector<double> b) {
  torch::NoGradGuard no_grad;
  l->weight.copy_(torch::tensor(w, torch::kFloat64).view(l->weight.sizes()));
  l->bias.copy_(torch::tensor(b, torch::kFloat64));
}

}  // namespace

TEST(Expert, AdapterAndHeadByHand) {
  Expert e(ExpertConfig{2, 1, 2});
  e->to(torch::kFloat64);
  set_linear(e->down_project, {1, -1}, {0});
  set_linear(e->up_project, {2, 0}, {0, 0});
  set_linear(e->classifier, {1, 0, 0, 1}, {0.5, 0});
  const auto h = torch::tensor({3.0, 1.0, 1.0, 3.0}, torch::kFloat64).view({2, 2});
  // h=[3,1]: a=relu(2)=2, h'=[7,1], y=[7.5,1];  h=[1,3]: a=relu(-2)=0, h'=h, y=[1.5,3].
  EXPECT_TRUE(torch::allclose(e->adapt(h), torch::tensor({7.0, 1.0, 1.0, 3.0}, torch::kFloat64).view({2, 2})));
  EXPECT_TRUE(torch::allclose(e->forward(h), torch::tensor({7.5, 1.0, 1.5, 3.0}, torch::kFloat64).view({2, 2})));
}

TEST(Expert, ShapesAndParameterNames) {
  Expert e(ExpertConfig{16, 4, 6});
  EXPECT_EQ(e->forward(torch::randn({3, 16})).sizes(), (std::vector<std::int64_t>{3, 6}));
  std::vector<std::string> names;
  for (const auto& p : e->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"down_project.weight", "down_project.bias", "up_project.weight",
                                             "up_project.bias", "classifier.weight", "classifier.bias"}));
  EXPECT_THROW(Expert(ExpertConfig{16, 0, 6}), Error);
}

TEST(Gate, SoftmaxOfLinearByHand) {
  Gate g(2, 3);
  g->to(torch::kFloat64);
  set_linear(g->gate, {1, 0, 0, 1, 1, 1}, {0, 0, 0});
  const auto h = torch::tensor({0.0, 0.0, std::log(2.0), 0.0}, torch::kFloat64).view({2, 2});
  const auto p = torch::softmax(g->forward(h), -1);
  const auto expected = torch::tensor({1 / 3.0, 1 / 3.0, 1 / 3.0, 0.4, 0.2, 0.4}, torch::kFloat64).view({2, 3});
  EXPECT_TRUE(torch::allclose(p, expected, 1e-12, 1e-12));
  EXPECT_EQ(g->experts(), 3);
}

}  // namespace moecollab
