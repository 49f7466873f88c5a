// libFuzzer target: the model-file loader — safetensors container, configuration JSON,
// vocabulary (word list or SentencePiece model) and labels, tensors checked against the
// configuration — and the encoder-checkpoint loader (pretrain --objective mlm) on any bytes. It must
// load or throw std::exception (ember::Error, std::runtime_error, nlohmann's errors), never
// crash, read out of bounds or allocate more than the input's size implies. A file that loads
// must also classify texts, one row of probabilities per text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mlm.hpp"
#include "train.hpp"

namespace {
// An encoder that loads must build its transformer and score a batch.
void encoder(std::string_view bytes) {
  sentiment::EncoderCheckpoint e;
  try {
    e = sentiment::parse_encoder(bytes, "fuzz");
  } catch (const std::exception&) {
    return;
  }
  ember::nn::init::SkipInit skip;
  ember::Generator g(0);
  sentiment::TransformerModel model(e.config, e.subword.size(), g);
  model.load_state_dict(e.weights);
  sentiment::PackedCorpus c = sentiment::pack_corpus({"很好 good", "not bad"}, e.subword, e.config.max_len);
  if (c.sequences() < 1) return;
  ember::Generator mg(1);
  const double loss = sentiment::mlm_loss(model, c, {0}, e.subword.size(), mg).item();
  (void)loss;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  encoder(std::string_view(reinterpret_cast<const char*>(data), size));
  sentiment::SavedModel m;
  try {
    m = sentiment::parse_model(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const std::exception&) {
    return 0;
  }
  std::vector<sentiment::SavedModel> models;
  models.push_back(std::move(m));
  // The third text is longer than a small model's positions (several windows when it reads
  // long texts as windows: one row for it all the same).
  const ember::Tensor<float> p = sentiment::ensemble_proba(
      models, {{0, "很好 good"}, {1, "not bad"}, {1, "这家酒店的服务很好,房间也很干净。the staff were friendly, not bad at all"}});
  if (p.size(0) != 3 || p.size(1) != models[0].config.num_classes) std::abort();
  return 0;
}
