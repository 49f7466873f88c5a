// A minimal client: it must compile, link and compute the right numbers.
#include <ember/ember.hpp>

#include <cstdio>

int main() {
  ember::Tensor<float> a{{1, 2}, {3, 4}};
  float total = ember::sum(a * 2.0f).item();
  static_assert(EMBER_VERSION_MAJOR >= 0, "version macros come from ember/config.hpp");
  if (total != 20.0f) {
    std::printf("wrong sum %g\n", static_cast<double>(total));
    return 1;
  }
  std::printf("consumer ok (ember %s)\n", EMBER_VERSION_STRING);
  return 0;
}
