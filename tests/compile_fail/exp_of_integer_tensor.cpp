// expect: FloatingScalar
#include <ember/ember.hpp>
int main() {
  auto t = ember::arange<int>(4);
  auto e = ember::exp(t);
  return static_cast<int>(e.numel());
}
