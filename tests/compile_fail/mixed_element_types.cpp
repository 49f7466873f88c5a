// expect: error
#include <ember/ember.hpp>
int main() {
  ember::Tensor<float> a{1, 2};
  ember::Tensor<double> b{1, 2};
  auto c = a + b;  // no implicit promotion: convert with to<double>()
  return static_cast<int>(c.numel());
}
