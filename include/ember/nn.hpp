// ember/nn.hpp — modules and layers.
#pragma once

#include "ember/nn/layers.hpp"
#include "ember/nn/module.hpp"
