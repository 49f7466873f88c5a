// expect: Numeric
#include <ember/ember.hpp>
int main() {
  ember::Tensor<bool> a{true, false};
  auto c = ember::add(a, a);
  return static_cast<int>(c.numel());
}
