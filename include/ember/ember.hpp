// ember/ember.hpp — the umbrella header: everything but the Eigen interop (ember/eigen.hpp).
//
//     #include <ember/ember.hpp>
//     auto x = ember::randn({2, 3});
//     auto p = ember::softmax(x, -1);
#pragma once

#include "ember/config.hpp"
#include "ember/core/allocator.hpp"
#include "ember/core/broadcast.hpp"
#include "ember/core/dtype.hpp"
#include "ember/core/error.hpp"
#include "ember/core/factory.hpp"
#include "ember/core/print.hpp"
#include "ember/core/random.hpp"
#include "ember/core/shape.hpp"
#include "ember/core/tensor.hpp"
#include "ember/kernels/compare.hpp"
#include "ember/kernels/elementwise.hpp"
#include "ember/kernels/gemm/gemm.hpp"
#include "ember/kernels/gemm/packed.hpp"
#include "ember/kernels/index.hpp"
#include "ember/kernels/layernorm.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/kernels/quantize.hpp"
#include "ember/kernels/reduce.hpp"
#include "ember/kernels/softmax.hpp"
#include "ember/autograd.hpp"
#include "ember/optim.hpp"
#include "ember/nn.hpp"
#include "ember/io.hpp"
