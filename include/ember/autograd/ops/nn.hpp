// ember/autograd/ops/nn.hpp — the differentiable neural-network ops, one header per family:
//   loss.hpp        softmax, log_softmax, cross_entropy, binary_cross_entropy_with_logits
//   layer_norm.hpp  layer_norm
//   embedding.hpp   embedding, embedding_bag (BagMode)
//   linear.hpp      linear, conv1d
//   activation.hpp  gelu
//   dropout.hpp     dropout
//   masked.hpp      masked_fill, masked_mean, masked_max
// Attention is autograd/ops/attention.hpp. Layer: autograd.
#pragma once

#include "ember/autograd/ops/activation.hpp"
#include "ember/autograd/ops/dropout.hpp"
#include "ember/autograd/ops/embedding.hpp"
#include "ember/autograd/ops/layer_norm.hpp"
#include "ember/autograd/ops/linear.hpp"
#include "ember/autograd/ops/loss.hpp"
#include "ember/autograd/ops/masked.hpp"
