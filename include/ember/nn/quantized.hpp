// ember/nn/quantized.hpp — dynamic int8 quantisation of linear layers for inference
// (torch.ao.quantization.quantize_dynamic with qint8 weights).
// Layer: nn. The arithmetic and its error bound are in kernels/quantize.hpp.
//
//     ember::nn::quantize_dynamic(mlp);   // every Linear in a Sequential, in place
//     auto y = mlp(x);                    // int8 GEMMs, fp32 in and out, no gradient
#pragma once

#include <memory>

#include "ember/autograd/variable.hpp"
#include "ember/kernels/quantize.hpp"
#include "ember/nn/layers.hpp"

namespace ember::nn {

/// A Linear whose weight is int8 per output channel and whose input is quantised per row at run
/// time. Inference only: the output carries no gradient, and it has no parameters to train.
class DynamicQuantizedLinear : public UnaryModule<float> {
 public:
  explicit DynamicQuantizedLinear(const Linear<float>& lin)
      : w_(quantize_linear_weights(lin.weight().data(),
                                   lin.bias().defined() ? lin.bias().data() : Tensor<float>())) {}
  Var<float> forward(const Var<float>& x) override { return Var<float>(linear_int8(x.data(), w_)); }
  const Int8LinearWeights& weights() const { return w_; }

 private:
  Int8LinearWeights w_;
};

/// Replaces every Linear directly inside `seq` (and inside nested Sequentials) with a
/// DynamicQuantizedLinear; returns how many were replaced.
inline std::size_t quantize_dynamic(Sequential<float>& seq) {
  std::size_t replaced = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    const auto& m = seq.at(i);
    if (auto* lin = dynamic_cast<Linear<float>*>(m.get())) {
      seq.replace(i, std::make_shared<DynamicQuantizedLinear>(*lin));
      ++replaced;
    } else if (auto* inner = dynamic_cast<Sequential<float>*>(m.get())) {
      replaced += quantize_dynamic(*inner);
    }
  }
  return replaced;
}

}  // namespace ember::nn
