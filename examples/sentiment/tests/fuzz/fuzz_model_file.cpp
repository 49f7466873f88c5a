// libFuzzer target: the model-file loader — safetensors container, configuration JSON,
// vocabulary and labels, tensors checked against the configuration — on any bytes. It must
// load or throw std::exception (ember::Error, std::runtime_error, nlohmann's errors), never
// crash, read out of bounds or allocate more than the input's size implies. A file that loads
// must also classify a text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "train.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sentiment::SavedModel m;
  try {
    m = sentiment::parse_model(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const std::exception&) {
    return 0;
  }
  std::vector<sentiment::SavedModel> models;
  models.push_back(std::move(m));
  const ember::Tensor<float> p = sentiment::ensemble_proba(models, {{0, "很好 good"}, {1, "not bad"}});
  if (p.size(0) != 2 || p.size(1) != models[0].config.num_classes) std::abort();
  return 0;
}
