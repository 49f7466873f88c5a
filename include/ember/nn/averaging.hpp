// ember/nn/averaging.hpp — weight averaging of state dicts: model soups (Wortsman et al. 2022:
// fine-tunes of one pretrained model, averaged, are often as accurate as their ensemble at the
// cost of one model), checkpoint averaging (Vaswani et al. 2017) and the uniform average of
// stochastic weight averaging (torch.optim.swa_utils). Layer: nn.
//
//   auto soup = ember::nn::average_state_dicts<float>({a.state_dict(), b.state_dict()});
//   model.load_state_dict(soup);
//
// Averaging only makes sense for weights that lie in one basin — fine-tunes from the same
// pretrained weights, or checkpoints of one run; two models trained from different random
// initialisations average to a poor model (their hidden units are not aligned). That is the
// caller's judgement: this function checks only that the state dicts have the same names and
// shapes.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/core/error.hpp"
#include "ember/core/factory.hpp"
#include "ember/core/tensor.hpp"

namespace ember::nn {

/// A state dict as Module::state_dict() returns it: (dotted name, value) in registration order.
template <FloatingScalar T>
using StateDict = std::vector<std::pair<std::string, Tensor<T>>>;

/// The weighted mean Σᵢ wᵢ·dictᵢ / Σᵢ wᵢ of state dicts, entry by entry, in the first dict's
/// order (weights empty: the uniform mean). Every dict must hold the same names (in any order,
/// each once) with the same shapes; weights must be finite, non-negative and not all zero.
/// Each element is summed in double and divided by Σᵢ wᵢ once, so the uniform mean of equal
/// values is that value exactly; the result owns new storage (no entry aliases an input). On any mismatch ember::Error names the
/// dict, the entry and both shapes, and nothing is computed.
template <FloatingScalar T>
StateDict<T> average_state_dicts(const std::vector<StateDict<T>>& dicts, const std::vector<double>& weights = {}) {
  constexpr const char* op = "average_state_dicts";
  EMBER_CHECK(!dicts.empty(), op, "no state dicts to average");
  EMBER_CHECK(weights.empty() || weights.size() == dicts.size(), op, weights.size(), " weights for ", dicts.size(),
              " state dicts");
  std::vector<double> w(dicts.size(), 1.0);
  double total = 0;
  for (std::size_t k = 0; k < dicts.size(); ++k) {
    if (!weights.empty()) w[k] = weights[k];
    EMBER_CHECK(std::isfinite(w[k]) && w[k] >= 0, op, "weight ", k, " is ", w[k], " (weights must be finite and >= 0)");
    total += w[k];
  }
  EMBER_CHECK(total > 0, op, "the weights sum to 0");

  // Where each of the first dict's entries is in every dict, checked before anything is computed.
  const StateDict<T>& first = dicts.front();
  std::vector<std::vector<std::size_t>> at(dicts.size(), std::vector<std::size_t>(first.size()));
  for (std::size_t k = 0; k < dicts.size(); ++k) {
    const StateDict<T>& d = dicts[k];
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < d.size(); ++i) {
      EMBER_CHECK(index.emplace(d[i].first, i).second, op, "state dict ", k, " holds '", d[i].first, "' twice");
    }
    EMBER_CHECK(d.size() == first.size(), op, "state dict ", k, " has ", d.size(), " entries, state dict 0 has ",
                first.size());
    for (std::size_t i = 0; i < first.size(); ++i) {
      auto it = index.find(first[i].first);
      EMBER_CHECK(it != index.end(), op, "state dict ", k, " has no '", first[i].first, "' (state dict 0 has it)");
      const Tensor<T>& t = d[it->second].second;
      EMBER_CHECK(t.shape() == first[i].second.shape(), op, "'", first[i].first, "' has shape ", t.shape(),
                  " in state dict ", k, " but ", first[i].second.shape(), " in state dict 0");
      at[k][i] = it->second;
    }
  }

  StateDict<T> out;
  out.reserve(first.size());
  std::vector<double> acc;
  std::vector<Tensor<T>> dense(dicts.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    const std::int64_t n = first[i].second.numel();
    acc.assign(static_cast<std::size_t>(n), 0.0);
    for (std::size_t k = 0; k < dicts.size(); ++k) {
      dense[k] = dicts[k][at[k][i]].second.contiguous();
      const T* p = dense[k].data();
      for (std::int64_t e = 0; e < n; ++e) acc[static_cast<std::size_t>(e)] += w[k] * static_cast<double>(static_cast<compute_t<T>>(p[e]));
    }
    Tensor<T> mean = empty<T>(first[i].second.shape());
    T* q = mean.data();
    for (std::int64_t e = 0; e < n; ++e) q[e] = static_cast<T>(static_cast<compute_t<T>>(acc[static_cast<std::size_t>(e)] / total));
    out.emplace_back(first[i].first, std::move(mean));
  }
  return out;
}

}  // namespace ember::nn
