// ember/autograd.hpp — the autograd layer: Var, backward, NoGradGuard, differentiable ops,
// gradcheck. Included by ember/ember.hpp.
#pragma once

#include "ember/autograd/engine.hpp"
#include "ember/autograd/gradcheck.hpp"
#include "ember/autograd/ops/attention.hpp"
#include "ember/autograd/ops/elementwise.hpp"
#include "ember/autograd/ops/matmul.hpp"
#include "ember/autograd/ops/nn.hpp"
#include "ember/autograd/ops/reduce.hpp"
#include "ember/autograd/ops/shape.hpp"
#include "ember/autograd/variable.hpp"
