// ember/nn/module.hpp — Module: a tree of named parameters and sub-modules, train/eval mode.
// Layer: nn (above autograd). Names are hierarchical, as PyTorch's state_dict keys:
// "encoder.layers.0.attn.wq.weight". Parameters are Var leaves with requires_grad; a Module
// holds them by handle, so an optimiser built from parameters() updates the module in place.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ember/autograd/variable.hpp"
#include "ember/core/error.hpp"

namespace ember::nn {

template <FloatingScalar T = float>
class Module {
 public:
  virtual ~Module() = default;

  /// Every parameter with its dotted path, in registration order (depth first).
  std::vector<std::pair<std::string, Var<T>>> named_parameters() const {
    std::vector<std::pair<std::string, Var<T>>> out;
    collect("", out);
    return out;
  }
  /// Every parameter (for an optimiser).
  std::vector<Var<T>> parameters() const {
    std::vector<Var<T>> out;
    for (auto& [name, p] : named_parameters()) out.push_back(p);
    return out;
  }
  /// Total number of scalar parameters.
  std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (auto& [name, p] : named_parameters()) n += p.numel();
    return n;
  }
  /// Every parameter's value by dotted name (torch's state_dict): handles to the live data, so
  /// saving it (io::save_safetensors) needs no copy.
  std::vector<std::pair<std::string, Tensor<T>>> state_dict() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for (auto& [name, p] : named_parameters()) out.emplace_back(name, p.data());
    return out;
  }
  /// Copies values into the parameters by name. Every parameter must be present with its exact
  /// shape, and no name may be left over (torch's strict=True); on any mismatch nothing is
  /// changed and ember::Error names the parameter.
  void load_state_dict(const std::vector<std::pair<std::string, Tensor<T>>>& values) {
    auto params = named_parameters();
    std::vector<const Tensor<T>*> src(params.size(), nullptr);
    for (auto& [name, t] : values) {
      std::size_t i = 0;
      while (i < params.size() && params[i].first != name) ++i;
      EMBER_CHECK(i < params.size(), "load_state_dict", "unexpected parameter '", name, "'");
      EMBER_CHECK(src[i] == nullptr, "load_state_dict", "parameter '", name, "' given twice");
      EMBER_CHECK(t.shape() == params[i].second.shape(), "load_state_dict", "parameter '", name,
                  "' has shape ", t.shape(), ", the module expects ", params[i].second.shape());
      src[i] = &t;
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      EMBER_CHECK(src[i] != nullptr, "load_state_dict", "missing parameter '", params[i].first,
                  "'");
    }
    for (std::size_t i = 0; i < params.size(); ++i) params[i].second.data().copy_(*src[i]);
  }
  /// Training mode (dropout active) for this module and its children.
  void train(bool on = true) {
    training_.store(on, std::memory_order_relaxed);
    for (auto& [name, child] : children_) child->train(on);
  }
  /// Evaluation mode: train(false).
  void eval() { train(false); }
  bool is_training() const { return training_.load(std::memory_order_relaxed); }
  /// Forgets every parameter's gradient.
  void zero_grad() {
    for (auto& [name, p] : params_) p.zero_grad();
    for (auto& [name, child] : children_) child->zero_grad();
  }

 protected:
  Var<T>& register_parameter(const std::string& name, Tensor<T> init) {
    check_name(name);
    params_.emplace_back(name, Var<T>(std::move(init), /*requires_grad=*/true));
    return params_.back().second;
  }
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    check_name(name);
    children_.emplace_back(name, module);
    return module;
  }
  /// Swaps the child registered as `name` for another module (e.g. a quantised version).
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> module) {
    for (auto& [n, c] : children_) {
      if (n == name) {
        c = module;
        return module;
      }
    }
    ember::detail::fail("Module", "no child named '", name, "' to replace");
  }

 private:
  void check_name(const std::string& name) const {
    EMBER_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module", "invalid name '",
                name, "' (non-empty, no dots)");
    for (auto& [n, p] : params_) EMBER_CHECK(n != name, "Module", "duplicate name '", name, "'");
    for (auto& [n, c] : children_) EMBER_CHECK(n != name, "Module", "duplicate name '", name, "'");
  }
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Var<T>>>& out) const {
    for (auto& [name, p] : params_) out.emplace_back(prefix + name, p);
    for (auto& [name, child] : children_) child->collect(prefix + name + ".", out);
  }

  std::vector<std::pair<std::string, Var<T>>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  // Atomic: threads running inference on one shared model read it while another may set it.
  std::atomic<bool> training_{true};
};

/// A module mapping one Var to one Var (what Sequential chains).
template <FloatingScalar T = float>
class UnaryModule : public Module<T> {
 public:
  virtual Var<T> forward(const Var<T>& x) = 0;
  Var<T> operator()(const Var<T>& x) { return forward(x); }
};

/// An indexable list of sub-modules named "0", "1", … (torch.nn.ModuleList).
template <class M, FloatingScalar T = float>
class ModuleList : public Module<T> {
 public:
  ModuleList& push_back(std::shared_ptr<M> m) {
    EMBER_CHECK(m != nullptr, "ModuleList", "null module");
    items_.push_back(this->register_module(std::to_string(items_.size()), std::move(m)));
    return *this;
  }
  M& operator[](std::size_t i) const {
    EMBER_CHECK(i < items_.size(), "ModuleList", "index ", i, " is out of range for ",
                items_.size(), " modules");
    return *items_[i];
  }
  std::size_t size() const { return items_.size(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::shared_ptr<M>> items_;
};

}  // namespace ember::nn
