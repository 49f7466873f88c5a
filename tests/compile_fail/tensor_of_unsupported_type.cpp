// expect: T must be one of bool, int32_t, int64_t, float, double
#include <ember/ember.hpp>
int main() {
  ember::Tensor<char> t;
  return static_cast<int>(t.numel());
}
