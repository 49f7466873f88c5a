// ember/nn.hpp — modules and layers.
#pragma once

#include "ember/nn/attention.hpp"
#include "ember/nn/averaging.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/layers.hpp"
#include "ember/nn/masked_lm.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/quantized.hpp"
#include "ember/nn/sequence.hpp"
#include "ember/nn/transformer.hpp"
