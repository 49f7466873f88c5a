// ember/io.hpp — checkpoints (safetensors) and the JSON reader they use.
#pragma once

#include "ember/io/json.hpp"
#include "ember/io/safetensors.hpp"
