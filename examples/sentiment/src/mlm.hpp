// mlm.hpp — masked-language-model pretraining of the transformer (BERT's objective, RoBERTa's
// recipe: dynamic masks, full packed sequences, no next-sentence task):
//   - texts are SentencePiece-encoded, joined with [SEP] after each, and cut into sequences of
//     max_len − 1 ids, each led by [CLS] (packing: no padding, every position trains);
//   - the last `held_back` sequences are never trained on: the masked-token accuracy on them,
//     under one fixed mask, is the progress figure;
//   - each step's batch and mask are a pure function of (seed, step) — the epoch's order from
//     randperm(seed, epoch), the mask from ember's Generator(seed, step) — so a run resumed
//     from a checkpoint sees the same data as one that never stopped (dropout's stream aside);
//   - AdamW, linear warmup then linear decay to 0 over the planned steps, gradient clipping;
//   - a checkpoint (weights, optimiser moments, step, history) every few minutes and at the
//     end, written atomically; --resume continues it; --max-minutes ends this run cleanly.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "model.hpp"
#include "report.hpp"
#include "subword.hpp"
#include "train.hpp"
#include "unicode.hpp"

namespace sentiment {

/// Texts → one stream of ids with [SEP] after each text, cut into sequences.
/// Seconds as h:mm:ss.
inline std::string clock_time(double seconds) {
  const auto s = static_cast<long long>(std::max(seconds, 0.0));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

struct PackedCorpus {
  std::vector<std::int32_t> stream;
  std::int64_t seq_len = 0;  // ids per sequence, [CLS] included
  std::int64_t sequences() const {
    const auto body = seq_len - 1;
    return (static_cast<std::int64_t>(stream.size()) + body - 1) / body;
  }
  /// Sequence i: [CLS] then its slice of the stream (the last may be shorter).
  std::vector<std::int64_t> sequence(std::int64_t i) const {
    const auto body = seq_len - 1;
    const std::int64_t lo = i * body, hi = std::min<std::int64_t>(lo + body, static_cast<std::int64_t>(stream.size()));
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(hi - lo + 1));
    out.push_back(SubwordVocab::kCls);
    for (std::int64_t k = lo; k < hi; ++k) out.push_back(stream[static_cast<std::size_t>(k)]);
    return out;
  }
};

/// Normalises and encodes `texts` on ember's threads, in order.
inline PackedCorpus pack_corpus(const std::vector<std::string>& texts, const SubwordVocab& v, std::int64_t seq_len) {
  if (seq_len < 2) throw std::runtime_error("pretrain: sequences need at least 2 positions, got " + std::to_string(seq_len));
  std::vector<std::vector<std::int32_t>> ids(texts.size());
  ember::parallel_for(0, static_cast<std::int64_t>(texts.size()), 256, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) {
      auto norm = normalize(texts[static_cast<std::size_t>(i)]);
      for (auto id : v.encode(norm ? *norm : std::string())) ids[static_cast<std::size_t>(i)].push_back(static_cast<std::int32_t>(id));
    }
  });
  PackedCorpus c;
  c.seq_len = seq_len;
  std::size_t total = 0;
  for (const auto& x : ids) total += x.size() + 1;
  c.stream.reserve(total);
  for (auto& x : ids) {
    if (x.empty()) continue;
    c.stream.insert(c.stream.end(), x.begin(), x.end());
    c.stream.push_back(static_cast<std::int32_t>(SubwordVocab::kSep));
  }
  return c;
}

struct MlmOptions {
  std::int64_t batch = 64;
  double lr = 5e-4, weight_decay = 0.01, warmup = 0.06, clip = 1.0;
  int epochs = 1;
  std::int64_t steps = 0;          // the schedule's length (0: epochs × steps per epoch)
  double max_minutes = 0;          // this run's budget (0: none)
  double checkpoint_minutes = 10;  // between checkpoints
  std::int64_t log_every = 50, eval_every = 500, held_back = 256;
  std::int64_t stop_after = 0;     // end this run once the step count reaches this (0: never)
  std::uint64_t seed = 1;
  bool bf16 = true;
  bool quiet = false;
  bool reschedule = false;         // a resumed run may change the schedule's length (else refused)
};

/// What decides each step of a run besides the model and the schedule's length: the batch's
/// rows (seed, batch, held_back) and the update (lr, weight_decay, warmup, clip). The checkpoint
/// records them, and a resumed run must keep them, or it would continue another run than the
/// one that stopped. (The matrix products' precision may change between runs.)
struct MlmRunSettings {
  std::int64_t batch = 0, held_back = 0;
  double lr = 0, weight_decay = 0, warmup = 0, clip = 0;
  std::uint64_t seed = 0;

  /// The settings, one row each: the option that sets it, its key in the record, its member
  /// here and in MlmOptions, and the range a record may hold (counts and numbers; a seed is
  /// any unsigned count). Recording, reading, comparing and inheriting all walk this list.
  template <class F>
  static void each(F&& f) {
    f("--batch", "batch", &MlmRunSettings::batch, &MlmOptions::batch, 1.0, 65536.0);
    f("--held-back", "held_back", &MlmRunSettings::held_back, &MlmOptions::held_back, 0.0, 1099511627776.0);
    f("--seed", "seed", &MlmRunSettings::seed, &MlmOptions::seed, 0.0, 0.0);
    f("--lr", "lr", &MlmRunSettings::lr, &MlmOptions::lr, 0.0, 1e6);
    f("--weight-decay", "weight_decay", &MlmRunSettings::weight_decay, &MlmOptions::weight_decay, 0.0, 1e6);
    f("--warmup", "warmup", &MlmRunSettings::warmup, &MlmOptions::warmup, 0.0, 1.0);
    f("--clip", "clip", &MlmRunSettings::clip, &MlmOptions::clip, 0.0, 1e30);
  }
  /// "--batch, --held-back, … and --clip", for messages.
  static std::string options() {
    std::vector<std::string> names;
    each([&](const char* option, const char*, auto, auto, double, double) { names.emplace_back(option); });
    std::string list;
    for (std::size_t i = 0; i < names.size(); ++i) list += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
    return list;
  }

  static MlmRunSettings of(const MlmOptions& o) {
    MlmRunSettings r;
    each([&](const char*, const char*, auto mine, auto theirs, double, double) { r.*mine = o.*theirs; });
    return r;
  }
  /// Sets each option of `o` that `given` says was not given to this record's value.
  template <class Given>
  void fill_options_not_given(MlmOptions& o, Given&& given) const {
    each([&](const char* option, const char*, auto mine, auto theirs, double, double) {
      if (!given(option)) o.*theirs = this->*mine;
    });
  }
  nlohmann::json to_json() const {
    nlohmann::json j = nlohmann::json::object();
    each([&](const char*, const char* key, auto mine, auto, double, double) { j[key] = this->*mine; });
    return j;
  }
  /// Throws std::runtime_error naming the key that is missing or out of range.
  static MlmRunSettings from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::runtime_error("run settings are not a JSON object");
    MlmRunSettings r;
    each([&](const char*, const char* key, auto mine, auto, double lo, double hi) {
      auto it = j.find(key);
      if (it == j.end()) throw std::runtime_error(std::string("run settings lack '") + key + "'");
      const nlohmann::json& v = *it;
      using V = std::remove_cvref_t<decltype(r.*mine)>;
      if constexpr (std::is_same_v<V, std::uint64_t>) {
        if (!v.is_number_unsigned()) {
          throw std::runtime_error(std::string("run setting '") + key + "' is " + v.dump() + ", not an unsigned count");
        }
        r.*mine = v.get<std::uint64_t>();
      } else if constexpr (std::is_same_v<V, std::int64_t>) {
        const auto ilo = static_cast<std::int64_t>(lo), ihi = static_cast<std::int64_t>(hi);
        if (!v.is_number_integer() || v.get<std::int64_t>() < ilo || v.get<std::int64_t>() > ihi) {
          throw std::runtime_error(std::string("run setting '") + key + "' is " + v.dump() + ", not a count in [" +
                                   std::to_string(ilo) + ", " + std::to_string(ihi) + "]");
        }
        r.*mine = v.get<std::int64_t>();
      } else {
        static_assert(std::is_same_v<V, double>);
        if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi)) {
          throw std::runtime_error(std::string("run setting '") + key + "' is " + v.dump() + ", outside [" + fmt("%g", lo) + ", " +
                                   fmt("%g", hi) + "]");
        }
        r.*mine = v.get<double>();
      }
    });
    return r;
  }
  /// Throws std::runtime_error naming the first option in which `now` differs from this record.
  void check_resumed_by(const MlmRunSettings& now) const {
    auto text = [](auto v) -> std::string {
      if constexpr (std::is_same_v<decltype(v), double>) {  // the shortest of %.15g / %.17g that reads back as v
        std::string t = fmt("%.15g", v);
        return std::strtod(t.c_str(), nullptr) == v ? t : fmt("%.17g", v);
      } else {
        return std::to_string(v);
      }
    };
    each([&](const char* option, const char*, auto mine, auto, double, double) {
      if (this->*mine == now.*mine) return;
      throw std::runtime_error(std::string("--resume: the checkpoint's run has ") + option + " " + text(this->*mine) + ", this one " +
                               text(now.*mine) + " (a resumed run keeps its settings: leave " + option + " out, or start a new run)");
    });
  }
};

/// The masking every step uses (BERT's 15%, 80/10/10; random replacements from the learned
/// pieces, never a special id).
inline ember::nn::MaskedLmOptions mlm_masking(std::int64_t vocab) {
  ember::nn::MaskedLmOptions o;
  o.vocab_size = vocab;
  o.mask_id = SubwordVocab::kMask;
  o.random_low = SubwordVocab::kFirstPiece;
  o.special_ids = {SubwordVocab::kPad, SubwordVocab::kCls, SubwordVocab::kSep};
  return o;
}

/// A generator for (seed, stream, index): independent Philox keys per step and per epoch.
inline ember::Generator keyed_generator(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  std::uint64_t h = seed ^ (stream * 0x9E3779B97F4A7C15ULL);
  h ^= index + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
  h *= 0xBF58476D1CE4E5B9ULL;
  return ember::Generator(h ^ (h >> 31));
}

struct MlmEval {
  std::int64_t step = 0;
  double loss = 0, accuracy = 0;
};

/// MLM loss (mean over the masked positions) and, if asked, the number of correct argmax
/// predictions, for the sequences `rows` of the corpus.
inline ember::Var<float> mlm_loss(TransformerModel& model, const PackedCorpus& corpus, const std::vector<std::int64_t>& rows,
                                  std::int64_t vocab, ember::Generator& mask_gen, std::int64_t* correct = nullptr,
                                  std::int64_t* masked = nullptr) {
  std::vector<std::vector<std::int64_t>> seqs;
  seqs.reserve(rows.size());
  for (auto r : rows) seqs.push_back(corpus.sequence(r));
  auto padded = ember::nn::pad_sequences(seqs, {.pad_id = SubwordVocab::kPad});
  auto m = ember::nn::mask_tokens(padded.ids, mlm_masking(vocab), mask_gen);
  ember::Var<float> h = model.encode(m.inputs, padded.padding_mask);
  ember::Var<float> logits = model.mlm_logits(h, m.positions);
  if (correct != nullptr) {
    const Tensor<float>& z = logits.data();
    const std::int64_t M = z.size(0), V = z.size(1);
    for (std::int64_t i = 0; i < M; ++i) {
      const float* row = z.data() + i * V;
      *correct += (std::max_element(row, row + V) - row) == m.targets.data()[i];
    }
    *masked += M;
  }
  return ember::cross_entropy(logits, m.targets);
}

/// Masked-token accuracy and loss on the held-back sequences, under one fixed mask.
inline MlmEval evaluate_mlm(TransformerModel& model, const PackedCorpus& corpus, std::int64_t first, std::int64_t count,
                            std::int64_t vocab, std::uint64_t seed, std::int64_t batch) {
  ember::NoGradGuard no_grad;
  const bool was = model.is_training();
  model.eval();
  ember::Generator g = keyed_generator(seed, 3, 0);
  std::int64_t correct = 0, masked = 0;
  double loss = 0;
  for (std::int64_t at = first; at < first + count; at += batch) {
    std::vector<std::int64_t> rows;
    for (std::int64_t r = at; r < std::min(first + count, at + batch); ++r) rows.push_back(r);
    const std::int64_t before = masked;
    loss += mlm_loss(model, corpus, rows, vocab, g, &correct, &masked).item() * static_cast<double>(masked - before);
  }
  if (was) model.train();
  MlmEval e;
  e.loss = masked ? loss / static_cast<double>(masked) : 0;
  e.accuracy = masked ? static_cast<double>(correct) / static_cast<double>(masked) : 0;
  return e;
}

/// An encoder checkpoint: what `pretrain --objective mlm` writes and `train --init` and
/// `pretrain --resume` read.
struct EncoderCheckpoint {
  ModelConfig config;
  SubwordVocab subword;
  std::vector<std::pair<std::string, Tensor<float>>> weights;   // the model's parameters
  std::vector<std::pair<std::string, Tensor<float>>> moments;   // optim.m.<name>, optim.v.<name>
  std::int64_t step = 0, total_steps = 0, sequences = 0, tokens = 0;
  double seconds = 0;
  nlohmann::json history = nlohmann::json::array();
  std::optional<MlmRunSettings> run;  // absent in checkpoints written before it was recorded
};

inline constexpr const char* kEncoderFormat = "ember-sentiment-encoder/1";

/// Writes the checkpoint; `opt_names` names the optimiser's parameters in its order.
inline void save_encoder(const std::string& path, const EncoderCheckpoint& ck, const TransformerModel& model,
                         const ember::optim::AdamW<float>& opt, const std::vector<std::string>& opt_names) {
  std::vector<std::pair<std::string, ember::io::AnyTensor>> tensors;
  for (auto& [name, p] : model.named_parameters()) tensors.emplace_back(name, p.data());
  const auto st = opt.state();
  if (st.m.size() != opt_names.size()) throw std::logic_error("save_encoder: optimiser state and names disagree");
  for (std::size_t k = 0; k < opt_names.size(); ++k) {
    if (st.m[k].numel() == 0) continue;
    tensors.emplace_back("optim.m." + opt_names[k], st.m[k]);
    tensors.emplace_back("optim.v." + opt_names[k], st.v[k]);
  }
  tensors.emplace_back(kSubwordTensor, subword_tensor(ck.subword));
  std::map<std::string, std::string> meta = {
      {"format", kEncoderFormat},
      {"objective", "mlm"},
      {"config", ck.config.to_json().dump()},
      {"step", std::to_string(ck.step)},
      {"optimizer_steps", std::to_string(st.steps)},
      {"total_steps", std::to_string(ck.total_steps)},
      {"sequences", std::to_string(ck.sequences)},
      {"tokens", std::to_string(ck.tokens)},
      {"seconds", fmt("%.3f", ck.seconds)},
      {"history", ck.history.dump()}};
  if (ck.run) meta.emplace("run", ck.run->to_json().dump());
  ember::io::save_safetensors(path, tensors, meta);
}

/// Reads an encoder checkpoint; checks the configuration, the vocabulary and every tensor's
/// shape against the transformer it describes.
inline EncoderCheckpoint parse_encoder(std::string_view bytes, const std::string& path,
                                       std::int64_t* optimizer_steps = nullptr) {
  ember::io::Checkpoint ck = ember::io::parse_safetensors(bytes, path);
  auto need = [&](const char* key) -> const std::string& {
    auto it = ck.metadata.find(key);
    if (it == ck.metadata.end()) throw std::runtime_error(path + ": not an encoder checkpoint (no '" + key + "' metadata)");
    return it->second;
  };
  if (need("format") != kEncoderFormat) {
    throw std::runtime_error(path + ": format '" + need("format") + "' is not an encoder checkpoint (" + kEncoderFormat +
                             "; `pretrain --objective mlm` writes them)");
  }
  EncoderCheckpoint e;
  auto integer = [&](const char* key) {
    const std::string& s = need(key);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) throw std::runtime_error(path + ": metadata " + key + " '" + s + "' is not a count");
    return v;
  };
  try {
    e.config = ModelConfig::from_json(nlohmann::json::parse(need("config")));
    e.history = nlohmann::json::parse(need("history"));
    if (auto it = ck.metadata.find("run"); it != ck.metadata.end()) {
      e.run = MlmRunSettings::from_json(nlohmann::json::parse(it->second));
    }
  } catch (const nlohmann::json::exception& ex) {
    throw std::runtime_error(path + ": bad metadata: " + ex.what());
  } catch (const std::runtime_error& ex) {
    throw std::runtime_error(path + ": " + ex.what());
  }
  if (e.config.kind != "transformer") throw std::runtime_error(path + ": an encoder of kind '" + e.config.kind + "'");
  if (e.config.max_len < 2) throw std::runtime_error(path + ": an encoder needs at least 2 positions, got max_len " + std::to_string(e.config.max_len));
  e.step = integer("step");
  e.total_steps = integer("total_steps");
  e.sequences = integer("sequences");
  e.tokens = integer("tokens");
  if (optimizer_steps != nullptr) *optimizer_steps = integer("optimizer_steps");
  e.seconds = std::strtod(need("seconds").c_str(), nullptr);
  e.subword = subword_of(ck, path);
  const auto shapes = parameter_shapes(e.config, e.subword.size());
  auto shape_of = [&](const std::string& n) -> const ember::Shape* {
    for (auto& s : shapes) {
      if (s.first == n) return &s.second;
    }
    return nullptr;
  };
  for (auto& [name, any] : ck.tensors) {
    if (name == kSubwordTensor) continue;
    const auto* t = std::get_if<Tensor<float>>(&any);
    if (t == nullptr) throw std::runtime_error(path + ": tensor '" + name + "' is not F32");
    const bool moment = name.rfind("optim.m.", 0) == 0 || name.rfind("optim.v.", 0) == 0;
    const ember::Shape* want = shape_of(moment ? name.substr(8) : name);
    if (want == nullptr) throw std::runtime_error(path + ": tensor '" + name + "' is not a parameter of the encoder");
    if (t->shape() != *want) {
      throw std::runtime_error(path + ": tensor '" + name + "' has shape " + t->shape().to_string() + ", the encoder's needs " +
                               want->to_string());
    }
    if (auto bad = first_non_finite(t->data(), t->numel()); !bad.empty()) {
      throw std::runtime_error(path + ": tensor '" + name + "' holds a non-finite value (" + bad + ")");
    }
    auto& list = moment ? e.moments : e.weights;
    const std::string& tensor_name = name;  // clang 14 cannot capture a structured binding
    if (std::any_of(list.begin(), list.end(), [&](auto& w) { return w.first == tensor_name; })) {
      throw std::runtime_error(path + ": tensor '" + name + "' is listed twice");
    }
    list.emplace_back(name, *t);
  }
  for (auto& s : shapes) {
    const std::string& want_name = s.first;
    if (std::none_of(e.weights.begin(), e.weights.end(), [&](auto& w) { return w.first == want_name; })) {
      throw std::runtime_error(path + ": no tensor '" + want_name + "'");
    }
  }
  return e;
}

/// Reads an encoder checkpoint file (at most kMaxModelFileBytes).
inline EncoderCheckpoint load_encoder(const std::string& path, std::int64_t* optimizer_steps = nullptr) {
  return parse_encoder(ember::io::read_file(path, kMaxModelFileBytes, "load encoder"), path, optimizer_steps);
}

/// Makes `ck`, read from `from`, the start of a new run (`pretrain --init`): its weights, shape
/// and vocabulary stay; its optimiser state, schedule, corpus size and run settings go, so the
/// new run takes its own text, --steps and --lr from step 0 (continued pretraining on a task's or
/// a domain's text). The tokens and time already spent stay counted: they are the encoder's, and
/// the history records where the new run began.
inline void begin_run_from(EncoderCheckpoint& ck, const std::string& from) {
  ck.moments.clear();
  ck.step = ck.total_steps = ck.sequences = 0;
  ck.run.reset();
  ck.history.push_back({{"init", from}, {"tokens", ck.tokens}});
}

struct MlmRun {
  std::int64_t step = 0, total = 0;
  bool finished = false;  // the schedule's last step was taken (else: the time budget ended the run)
  MlmEval last;
};

/// Pretrains `model` (built from ck.config over ck.subword) on `corpus`, continuing from
/// ck.step with the optimiser state in ck.moments (empty: a fresh run). Writes the checkpoint
/// `out` periodically and at the end.
inline MlmRun pretrain_mlm(TransformerModel& model, EncoderCheckpoint& ck, const PackedCorpus& corpus,
                           const MlmOptions& o, const std::string& out, std::int64_t optimizer_steps = 0) {
  using clock = std::chrono::steady_clock;
  const std::int64_t n = corpus.sequences();
  const std::int64_t held = std::min<std::int64_t>(o.held_back, n / 10);
  const std::int64_t n_train = n - held;
  const std::int64_t per_epoch = n_train / o.batch;
  if (per_epoch < 1) {
    throw std::runtime_error("pretrain: " + std::to_string(n_train) + " training sequences of " + std::to_string(corpus.seq_len) +
                             " ids make no batch of " + std::to_string(o.batch) + "; give more text or a smaller --batch");
  }
  const std::int64_t total = o.steps > 0 ? o.steps : per_epoch * o.epochs;
  if (ck.sequences != 0 && ck.sequences != n) {
    throw std::runtime_error("--resume: the checkpoint was trained on " + std::to_string(ck.sequences) +
                             " sequences, this corpus packs into " + std::to_string(n) +
                             " (another text, vocabulary or --max-len?)");
  }
  if (ck.total_steps != 0 && ck.total_steps != total) {
    if (!o.reschedule) {
      throw std::runtime_error("--resume: the checkpoint's schedule has " + std::to_string(ck.total_steps) + " steps, this run " +
                               std::to_string(total) + " (give the same --steps or --epochs, or --reschedule to change it)");
    }
    if (total <= ck.step) {
      throw std::runtime_error("--reschedule: the checkpoint is at step " + std::to_string(ck.step) + ", so the new schedule needs more than " +
                               std::to_string(ck.step) + " steps, not " + std::to_string(total));
    }
    // The learning rate follows the new plan from here on: the decay to 0 ends at `total`.
    if (!o.quiet) {
      std::fprintf(stderr, "the schedule changes from %lld to %lld steps at step %lld\n", static_cast<long long>(ck.total_steps),
                   static_cast<long long>(total), static_cast<long long>(ck.step));
    }
  }
  const MlmRunSettings settings = MlmRunSettings::of(o);
  if (ck.run && ck.step > 0) ck.run->check_resumed_by(settings);
  ck.sequences = n;
  ck.total_steps = total;
  ck.run = settings;
  const std::int64_t vocab = ck.subword.size();
  std::vector<ember::Var<float>> params;
  std::vector<std::string> names;
  for (auto& [name, p] : model.named_parameters()) {
    if (name.rfind("fc.", 0) == 0) continue;  // the classifier is not pretrained
    params.push_back(p);
    names.push_back(name);
  }
  ember::optim::AdamW<float> opt(params, {.lr = o.lr, .weight_decay = o.weight_decay});
  if (!ck.moments.empty()) {
    ember::optim::AdamW<float>::State st;
    st.steps = optimizer_steps;
    for (const auto& name : names) {
      Tensor<float> m, v;
      for (auto& [k, t] : ck.moments) {
        if (k == "optim.m." + name) m = t;
        if (k == "optim.v." + name) v = t;
      }
      st.m.push_back(m);
      st.v.push_back(v);
    }
    opt.load_state(st);
    ck.moments.clear();
  }
  ember::optim::WarmupDecay schedule{.warmup = static_cast<std::int64_t>(o.warmup * static_cast<double>(total)), .total = total};
  std::optional<ember::MatmulPrecisionGuard> bf16;
  if (o.bf16) bf16.emplace(ember::Precision::bf16);

  const auto t0 = clock::now();
  auto last_ck = t0, last_log = t0;
  const double seconds_before = ck.seconds;
  std::int64_t log_tokens = 0, log_steps = 0;
  double log_loss = 0;
  MlmRun run;
  run.total = total;
  auto minutes_since = [&](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count() / 60; };
  auto checkpoint = [&] {
    ck.seconds = seconds_before + std::chrono::duration<double>(clock::now() - t0).count();
    save_encoder(out, ck, model, opt, names);
    last_ck = clock::now();
  };
  std::vector<std::int64_t> perm;
  std::int64_t perm_epoch = -1;
  model.train();
  while (ck.step < total) {
    if (o.max_minutes > 0 && minutes_since(t0) >= o.max_minutes) break;
    if (o.stop_after > 0 && ck.step >= o.stop_after) break;
    const std::int64_t epoch = ck.step / per_epoch, j = ck.step % per_epoch;
    if (epoch != perm_epoch) {
      ember::Generator pg = keyed_generator(o.seed, 1, static_cast<std::uint64_t>(epoch));
      Tensor<std::int64_t> p = ember::randperm(n_train, pg);
      perm.assign(p.data(), p.data() + n_train);
      perm_epoch = epoch;
    }
    std::vector<std::int64_t> rows(perm.begin() + j * o.batch, perm.begin() + (j + 1) * o.batch);
    ember::Generator mg = keyed_generator(o.seed, 2, static_cast<std::uint64_t>(ck.step));
    auto loss = mlm_loss(model, corpus, rows, vocab, mg);
    const double l = loss.item();
    if (!std::isfinite(l)) {
      throw TrainingDiverged("pretraining diverged: the loss is " + std::string(std::isnan(l) ? "NaN" : "infinite") + " at step " +
                             std::to_string(ck.step + 1) + " (learning rate too high?); the last checkpoint is kept");
    }
    opt.zero_grad();
    loss.backward();
    if (o.clip > 0) ember::optim::clip_grad_norm(params, o.clip);
    opt.set_lr(o.lr * schedule.factor(ck.step + 1));
    opt.step();
    ++ck.step;
    const std::int64_t toks = static_cast<std::int64_t>(rows.size()) * corpus.seq_len;
    ck.tokens += toks;
    log_tokens += toks;
    log_loss += l;
    ++log_steps;
    if (ck.step % o.log_every == 0 || ck.step == total) {
      const double secs = std::chrono::duration<double>(clock::now() - last_log).count();
      const double rate = static_cast<double>(log_tokens) / std::max(secs, 1e-9);
      const double step_s = secs / static_cast<double>(log_steps);
      double eta = step_s * static_cast<double>(total - ck.step);
      if (o.max_minutes > 0) eta = std::min(eta, o.max_minutes * 60 - minutes_since(t0) * 60);
      if (!o.quiet) {
        const std::int64_t epoch_shown = epoch + 1;
        std::fprintf(stderr, "step %lld/%lld  epoch %lld  loss %.4f  lr %.2e  %.0f tokens/s  elapsed %s  ETA %s\n",
                     static_cast<long long>(ck.step), static_cast<long long>(total), static_cast<long long>(epoch_shown),
                     log_loss / static_cast<double>(log_steps), opt.lr(), rate, clock_time(seconds_before + minutes_since(t0) * 60).c_str(),
                     clock_time(std::max(eta, 0.0)).c_str());
      }
      last_log = clock::now();
      log_tokens = log_steps = 0;
      log_loss = 0;
    }
    if (held > 0 && (ck.step % o.eval_every == 0 || ck.step == total)) {
      run.last = evaluate_mlm(model, corpus, n_train, held, vocab, o.seed, o.batch);
      run.last.step = ck.step;
      ck.history.push_back({{"step", ck.step}, {"tokens", ck.tokens}, {"loss", run.last.loss}, {"accuracy", run.last.accuracy}});
      if (!o.quiet) {
        std::fprintf(stderr, "  held-back %lld sequences: masked-token accuracy %.2f%%, loss %.4f\n", static_cast<long long>(held),
                     100 * run.last.accuracy, run.last.loss);
      }
    }
    if (o.checkpoint_minutes > 0 && minutes_since(last_ck) >= o.checkpoint_minutes) checkpoint();
  }
  checkpoint();
  run.step = ck.step;
  run.finished = ck.step >= total;
  return run;
}

}  // namespace sentiment
