// train.hpp — encoding a dataset, length-bucketed batches, the training loop with AdamW,
// warmup + linear decay, early stopping on the dev set, and evaluation metrics.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "dataset.hpp"
#include "model.hpp"

namespace sentiment {

/// A dataset turned into token ids: one sequence per text, or for a model that reads long
/// texts as windows (Featurizer::windowed) one or more per text, each with its text's label.
struct Encoded {
  std::vector<std::vector<std::int64_t>> ids;  // per sequence
  std::vector<std::vector<float>> weights;     // weighted bags only
  std::vector<int> labels;                     // per sequence
  /// Windowed only: text t's sequences are first[t] … first[t + 1] − 1 (texts + 1 entries).
  /// Empty: sequence t is text t.
  std::vector<std::size_t> first;
  /// Sequences (what training iterates over).
  std::size_t size() const { return ids.size(); }
  std::size_t texts() const { return first.empty() ? ids.size() : first.size() - 1; }
  /// One label per text.
  std::vector<int> text_labels() const {
    if (first.empty()) return labels;
    std::vector<int> out;
    out.reserve(texts());
    for (std::size_t t = 0; t + 1 < first.size(); ++t) out.push_back(labels[first[t]]);
    return out;
  }
};

inline Encoded encode(const std::vector<Example>& data, const Featurizer& f) {
  Encoded e;
  const bool windowed = f.windowed(), weighted = f.weighted();
  e.ids.reserve(data.size());
  if (windowed) e.first.reserve(data.size() + 1);
  for (const Example& ex : data) {
    if (windowed) e.first.push_back(e.ids.size());
    for (auto& s : f.sequences(ex.text)) {
      e.ids.push_back(std::move(s));
      if (weighted) e.weights.push_back(f.weights(e.ids.back()));
      e.labels.push_back(ex.label);
    }
  }
  if (windowed) e.first.push_back(e.ids.size());
  return e;
}

/// Smoothed inverse document frequency of every feature id over `data` (sklearn's formula:
/// ln((1 + N) / (1 + df)) + 1), for TF-IDF bags.
/// Calls visit(text index, feature id) once for every distinct feature of every text
/// (binarised counts: a feature repeated in a text is seen once).
template <class Visit>
void for_each_distinct_feature(const Encoded& data, std::int64_t features, Visit&& visit) {
  std::vector<std::size_t> last(static_cast<std::size_t>(features), data.size());  // text that last had it
  for (std::size_t d = 0; d < data.size(); ++d) {
    for (auto id : data.ids[d]) {
      auto& l = last[static_cast<std::size_t>(id)];
      if (l == d) continue;
      l = d;
      visit(d, id);
    }
  }
}

inline std::vector<float> compute_idf(const Encoded& data, std::int64_t features) {
  std::vector<std::int64_t> df(static_cast<std::size_t>(features), 0);
  for_each_distinct_feature(data, features, [&](std::size_t, std::int64_t id) { ++df[static_cast<std::size_t>(id)]; });
  const double n = static_cast<double>(data.size());
  std::vector<float> idf(df.size());
  for (std::size_t i = 0; i < df.size(); ++i) {
    idf[i] = static_cast<float>(std::log((1 + n) / (1 + static_cast<double>(df[i]))) + 1);
  }
  return idf;
}

/// The naive-Bayes log-count ratio of every feature id over `data` (Wang & Manning 2012,
/// NBSVM), generalised to C classes: with binarised counts n_c(f) (texts of class c that contain
/// f) and add-`alpha` smoothing, p_c(f) = (n_c(f) + α) / Σ_f' (n_c(f') + α) against the same
/// for all other classes, r(f) = max_c |ln(p_c(f) / p_¬c(f))|. For two classes both terms are
/// the same |r| as NBSVM's. The sign is left to the learned embedding: the weight says how much a
/// feature separates the classes, and a feature never seen in training gets r = 0.
inline std::vector<float> compute_nb_ratio(const Encoded& data, std::int64_t features,
                                           std::int64_t classes, double alpha = 1.0) {
  const auto F = static_cast<std::size_t>(features), C = static_cast<std::size_t>(classes);
  std::vector<double> count(F * C, 0.0);  // count[f * C + c] = n_c(f)
  for (std::size_t d = 0; d < data.size(); ++d) {
    if (data.labels[d] < 0 || static_cast<std::size_t>(data.labels[d]) >= C) {
      throw std::runtime_error("label " + std::to_string(data.labels[d]) + " outside " + std::to_string(C) + " classes");
    }
  }
  for_each_distinct_feature(data, features, [&](std::size_t d, std::int64_t id) {
    count[static_cast<std::size_t>(id) * C + static_cast<std::size_t>(data.labels[d])] += 1;
  });
  std::vector<double> total(C, 0.0), all(F, 0.0);
  for (std::size_t f = 0; f < F; ++f) {
    for (std::size_t c = 0; c < C; ++c) {
      total[c] += count[f * C + c] + alpha;
      all[f] += count[f * C + c];
    }
  }
  const double grand = std::accumulate(total.begin(), total.end(), 0.0);
  const double rest_alpha = alpha * static_cast<double>(C - 1);
  std::vector<float> r(F, 0.0f);
  for (std::size_t f = 0; f < F; ++f) {
    double best = 0;
    for (std::size_t c = 0; c < C; ++c) {
      const double p = (count[f * C + c] + alpha) / total[c];
      const double q = (all[f] - count[f * C + c] + rest_alpha) / (grand - total[c]);
      best = std::max(best, std::abs(std::log(p / q)));
    }
    r[f] = static_cast<float>(best);
  }
  return r;
}

/// The per-feature table a weighted bag needs (empty for a mean bag or the cnn), computed on
/// the training texts with the unweighted featurizer.
inline std::vector<float> compute_feature_weights(const std::vector<Example>& train,
                                                  const ModelConfig& cfg, const Vocab& vocab) {
  if (!Featurizer::weighted(cfg)) return {};
  ModelConfig unweighted = cfg;
  unweighted.weighting = "mean";
  const Encoded plain = encode(train, Featurizer(unweighted, vocab));
  const std::int64_t features = vocab.size() + cfg.buckets;
  if (cfg.weighting == "tfidf") return compute_idf(plain, features);
  return compute_nb_ratio(plain, features, cfg.num_classes);
}

/// Counts the tokens of `data` as the model's tokenizer produces them. Tokens of `extra` (a
/// pretrained vocabulary) are kept whatever their count here: their vectors know them.
inline Vocab build_vocab(const std::vector<Example>& data, const ModelConfig& cfg,
                         std::int64_t min_count, std::int64_t max_size, const Vocab* extra = nullptr) {
  std::unordered_map<std::string, std::int64_t> counts;
  for (const Example& ex : data) {
    auto norm = normalize(ex.text);
    Tokens t = tokenize_normalized(norm ? *norm : std::string(), cfg.tokenizer);
    for (auto& tok : t.items) ++counts[tok];
  }
  if (extra != nullptr) {
    for (std::int64_t i = 2; i < extra->size(); ++i) {
      auto& n = counts[extra->token(i)];
      n = std::max(n, min_count);
    }
  }
  return Vocab::build(counts, min_count, max_size);
}

/// Batches of indices: shuffled, then sorted by length inside windows of 50 batches (so a
/// batch holds texts of similar length and little padding), then the batch order shuffled.
inline std::vector<std::vector<std::size_t>> bucketed_batches(const Encoded& data,
                                                              std::int64_t batch,
                                                              ember::Generator& g) {
  const auto n = static_cast<std::int64_t>(data.size());
  Tensor<std::int64_t> perm = ember::randperm(n, g);
  std::vector<std::size_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = static_cast<std::size_t>(perm.data()[i]);
  const std::size_t window = static_cast<std::size_t>(std::clamp<std::int64_t>(batch, 1, std::max<std::int64_t>(n, 1))) * 50;
  for (std::size_t at = 0; at < order.size(); at += window) {
    auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), at + window));
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(at), end,
                     [&](std::size_t a, std::size_t b) { return data.ids[a].size() < data.ids[b].size(); });
  }
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t at = 0; at < order.size(); at += static_cast<std::size_t>(batch)) {
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(at),
                         order.begin() + static_cast<std::ptrdiff_t>(
                                             std::min(order.size(), at + static_cast<std::size_t>(batch))));
  }
  Tensor<std::int64_t> bperm = ember::randperm(static_cast<std::int64_t>(batches.size()), g);
  std::vector<std::vector<std::size_t>> shuffled;
  for (std::int64_t i = 0; i < bperm.numel(); ++i) {
    shuffled.push_back(std::move(batches[static_cast<std::size_t>(bperm.data()[i])]));
  }
  return shuffled;
}

inline Batch batch_of(const Encoded& data, const std::vector<std::size_t>& idx,
                      const Classifier& model) {
  std::vector<const std::vector<std::int64_t>*> seqs;
  std::vector<const std::vector<float>*> weights;
  std::vector<int> labels;
  for (std::size_t i : idx) {
    seqs.push_back(&data.ids[i]);
    if (!data.weights.empty()) weights.push_back(&data.weights[i]);
    labels.push_back(data.labels[i]);
  }
  return make_batch(seqs, labels, model.min_length(), weights, model.padded_input());
}

/// Accuracy, per-class precision/recall/F1, macro-F1, the confusion matrix (rows: true label,
/// columns: predicted) and the mean loss.
struct Metrics {
  std::int64_t n = 0;
  double accuracy = 0, macro_f1 = 0, loss = 0;
  std::vector<double> precision, recall, f1;
  std::vector<std::vector<std::int64_t>> confusion;

  static Metrics from(const std::vector<int>& truth, const std::vector<int>& pred,
                      std::int64_t classes, double loss) {
    Metrics m;
    m.n = static_cast<std::int64_t>(truth.size());
    m.loss = loss;
    m.confusion.assign(static_cast<std::size_t>(classes),
                       std::vector<std::int64_t>(static_cast<std::size_t>(classes), 0));
    std::int64_t correct = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      ++m.confusion[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(pred[i])];
      correct += truth[i] == pred[i];
    }
    m.accuracy = m.n ? static_cast<double>(correct) / static_cast<double>(m.n) : 0;
    for (std::size_t c = 0; c < static_cast<std::size_t>(classes); ++c) {
      std::int64_t tp = m.confusion[c][c], col = 0, row = 0;
      for (std::size_t k = 0; k < static_cast<std::size_t>(classes); ++k) {
        col += m.confusion[k][c];
        row += m.confusion[c][k];
      }
      const double p = col ? static_cast<double>(tp) / static_cast<double>(col) : 0;
      const double r = row ? static_cast<double>(tp) / static_cast<double>(row) : 0;
      m.precision.push_back(p);
      m.recall.push_back(r);
      m.f1.push_back(p + r > 0 ? 2 * p * r / (p + r) : 0);
    }
    m.macro_f1 = std::accumulate(m.f1.begin(), m.f1.end(), 0.0) / static_cast<double>(classes);
    return m;
  }
};

/// Class probabilities (texts, C) for encoded texts, in inference mode, in batches of similar
/// length (sorted, then put back in input order): a batch is padded to its longest text, so
/// one long review in a batch of short ones would multiply the work of a sequence model.
/// A text read as several windows gets the mean of its windows' probabilities.
///
/// Thread safety: several threads may call this on one shared model in evaluation mode (as
/// load_model leaves it) at once; nothing is written to the model then. A model in training
/// mode is switched to evaluation mode for the call and back, which must not race with other
/// users of that model.
inline Tensor<float> predict_proba(Classifier& model, const Encoded& data, std::int64_t batch = 256) {
  ember::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  if (was_training) model.eval();
  std::vector<std::size_t> order(data.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return data.ids[a].size() < data.ids[b].size();
  });
  Tensor<float> out;
  for (std::size_t at = 0; at < order.size(); at += static_cast<std::size_t>(batch)) {
    const std::vector<std::size_t> idx(
        order.begin() + static_cast<std::ptrdiff_t>(at),
        order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), at + static_cast<std::size_t>(batch))));
    Tensor<float> p = ember::softmax(model.forward(batch_of(data, idx, model)).data(), -1);
    if (out.dim() != 2) out = Tensor<float>::empty({static_cast<std::int64_t>(data.size()), p.size(1)});
    for (std::size_t r = 0; r < idx.size(); ++r) {
      out[static_cast<std::int64_t>(idx[r])].copy_(p[static_cast<std::int64_t>(r)]);
    }
  }
  if (was_training) model.train();
  if (data.first.empty() || out.dim() != 2) return out;
  const std::int64_t C = out.size(1);
  Tensor<float> per_text = ember::zeros<float>({static_cast<std::int64_t>(data.texts()), C});
  for (std::size_t t = 0; t < data.texts(); ++t) {
    const std::size_t b = data.first[t], e = data.first[t + 1];
    float* dst = per_text.data() + static_cast<std::int64_t>(t) * C;
    for (std::size_t w = b; w < e; ++w) {
      const float* src = out.data() + static_cast<std::int64_t>(w) * C;
      for (std::int64_t c = 0; c < C; ++c) dst[c] += src[c];
    }
    for (std::int64_t c = 0; c < C; ++c) dst[c] /= static_cast<float>(e - b);
  }
  return per_text;
}

/// Metrics of class probabilities p (n, classes) against the true labels: the predicted class
/// is each row's largest probability; the loss is the mean negative log-likelihood.
inline Metrics metrics_of(const Tensor<float>& p, const std::vector<int>& labels, std::int64_t classes) {
  std::vector<int> pred;
  double loss = 0;
  if (p.dim() != 2 || p.size(0) != static_cast<std::int64_t>(labels.size()) || p.size(1) != classes) {
    throw std::runtime_error("metrics: probabilities of shape " + p.shape().to_string() + " for " +
                             std::to_string(labels.size()) + " labels of " + std::to_string(classes) + " classes");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw std::runtime_error("metrics: label " + std::to_string(labels[i]) + " of example " + std::to_string(i) +
                               " is outside the model's " + std::to_string(classes) + " classes");
    }
    const float* row = p.data() + static_cast<std::int64_t>(i) * classes;
    pred.push_back(static_cast<int>(std::max_element(row, row + classes) - row));
    loss -= std::log(std::max(row[labels[i]], 1e-12f));
  }
  return Metrics::from(labels, pred, classes, labels.empty() ? 0 : loss / static_cast<double>(labels.size()));
}

inline Metrics evaluate(Classifier& model, const Encoded& data, std::int64_t classes) {
  return metrics_of(predict_proba(model, data), data.text_labels(), classes);
}

/// An ensemble's class probabilities for `data` (n, classes): the mean of its models' softmax
/// outputs, each model reading the texts through its own tokenizer and vocabulary (a bag and
/// a cnn make different mistakes: on ChnSentiCorp test 91.9% and 91.8% alone, 93.3% together).
/// The models must name the same labels in the same order.
inline Tensor<float> ensemble_proba(const std::vector<SavedModel>& models, const std::vector<Example>& data) {
  if (models.empty()) throw std::runtime_error("an ensemble needs at least one model");
  for (std::size_t m = 1; m < models.size(); ++m) {
    if (models[m].labels != models[0].labels) {
      throw std::runtime_error("models disagree on their labels (" + nlohmann::json(models[0].labels).dump() +
                               " and " + nlohmann::json(models[m].labels).dump() +
                               "): an ensemble averages probabilities of the same classes");
    }
  }
  Tensor<float> sum;
  for (std::size_t m = 0; m < models.size(); ++m) {
    const SavedModel& sm = models[m];
    Tensor<float> p = predict_proba(*sm.model, encode(data, sm.featurizer()));
    sum = m == 0 ? p : sum + p;
  }
  return models.size() == 1 ? sum : sum * (1.0f / static_cast<float>(models.size()));
}

struct TrainOptions {
  int epochs = 10;
  std::int64_t batch = 64;
  double lr = 1e-3;
  double weight_decay = 0.0;
  double warmup = 0.05;  // fraction of all steps
  double clip = 5.0;     // global gradient-norm clip (0: off)
  double label_smoothing = 0.0;
  double layer_decay = 1.0;  // layer-wise learning-rate decay (Classifier::param_scales; 1: off)
  int patience = 3;      // epochs without a better dev score before stopping
  bool keep_best = true;  // end with the best dev epoch's weights (false: the last epoch's)
  std::uint64_t seed = 1;
};

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, dev_accuracy = 0, dev_macro_f1 = 0, seconds = 0;
};

/// Called as training goes: on_step(done examples in this epoch, epoch total, running loss),
/// on_epoch(record, is_best).
struct TrainCallbacks {
  std::function<void(int epoch, std::int64_t done, std::int64_t total, double loss)> on_step;
  std::function<void(const EpochRecord&, bool best)> on_epoch;
};

/// Training produced a non-finite loss or weight: the run stops (the model's weights are not
/// to be saved).
struct TrainingDiverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TrainResult {
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_accuracy = 0;
};

/// Trains `model` on `train`, scores `dev` after every epoch, and keeps the best weights (by
/// dev accuracy; the model ends holding them). Stops early after `patience` epochs without
/// improvement.
inline TrainResult train_model(Classifier& model, const Encoded& train, const Encoded& dev,
                               std::int64_t classes, const TrainOptions& o,
                               const TrainCallbacks& cb = {}) {
  if (o.epochs < 1 || o.batch < 1 || o.patience < 1) {
    throw std::invalid_argument("train_model: epochs, batch and patience must be at least 1 (got " +
                                std::to_string(o.epochs) + ", " + std::to_string(o.batch) + ", " +
                                std::to_string(o.patience) + ")");
  }
  if (train.size() == 0) throw std::invalid_argument("train_model: no training examples");
  if (dev.size() == 0) throw std::invalid_argument("train_model: no dev examples to pick the best epoch with");
  ember::Generator g(o.seed);
  auto params = model.parameters();
  ember::optim::AdamW<float> opt(params, {.lr = o.lr, .weight_decay = o.weight_decay});
  opt.set_param_scales(model.param_scales(o.layer_decay));
  const std::int64_t steps_per_epoch =
      (static_cast<std::int64_t>(train.size()) + o.batch - 1) / o.batch;
  const std::int64_t total = steps_per_epoch * o.epochs;
  ember::optim::WarmupDecay schedule{
      .warmup = static_cast<std::int64_t>(o.warmup * static_cast<double>(total)), .total = total};
  TrainResult result;
  std::vector<std::pair<std::string, Tensor<float>>> best;
  std::int64_t step = 0;
  int since_best = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    model.train();
    double loss_sum = 0;
    std::int64_t seen = 0;
    for (const auto& idx : bucketed_batches(train, o.batch, g)) {
      Batch b = batch_of(train, idx, model);
      auto loss = ember::cross_entropy(model.forward(b), b.labels, -100, o.label_smoothing);
      const double l = loss.item();
      if (!std::isfinite(l)) {
        throw TrainingDiverged("training diverged: the loss is " + std::string(std::isnan(l) ? "NaN" : "infinite") +
                               " at epoch " + std::to_string(epoch) + ", step " + std::to_string(step + 1) +
                               " (learning rate " + std::to_string(o.lr) + " too high?); nothing was saved");
      }
      opt.zero_grad();
      loss.backward();
      if (o.clip > 0) ember::optim::clip_grad_norm(params, o.clip);
      opt.set_lr(o.lr * schedule.factor(++step));
      opt.step();
      loss_sum += l * static_cast<double>(idx.size());
      seen += static_cast<std::int64_t>(idx.size());
      if (cb.on_step) cb.on_step(epoch, seen, static_cast<std::int64_t>(train.size()), loss_sum / static_cast<double>(seen));
    }
    for (auto& [name, p] : model.named_parameters()) {  // a finite loss can hide an infinite weight
      const Tensor<float> w = p.data();
      if (auto bad = first_non_finite(w.data(), w.numel()); !bad.empty()) {
        throw TrainingDiverged("training diverged: weight '" + name + "' " + bad + " after epoch " +
                               std::to_string(epoch) + "; nothing was saved");
      }
    }
    Metrics m = evaluate(model, dev, classes);
    EpochRecord r{epoch, loss_sum / static_cast<double>(std::max<std::int64_t>(seen, 1)), m.accuracy,
                  m.macro_f1,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    const bool is_best = result.history.empty() || m.accuracy > result.best_accuracy;
    result.history.push_back(r);
    if (is_best) {
      result.best_epoch = epoch;
      result.best_accuracy = m.accuracy;
      best.clear();
      for (auto& [name, t] : model.state_dict()) best.emplace_back(name, t.clone());
      since_best = 0;
    } else {
      ++since_best;
    }
    if (cb.on_epoch) cb.on_epoch(r, is_best);
    if (since_best >= o.patience) break;
  }
  if (o.keep_best) model.load_state_dict(best);
  model.eval();
  return result;
}

}  // namespace sentiment
